//! Retries with backoff on 408, 429, 5xx and connection failures, as `x-should-retry` and
//! `Retry-After` say.

mod common;

use std::time::{Duration, Instant};

use common::{Fault, builder, client, closed_port, proxy, server};
use orgcerts_client::{Error, ListParams};

async fn list(client: &orgcerts_client::Client) -> orgcerts_client::Result<usize> {
    let page = client
        .admin()
        .organization()
        .certificates()
        .list(&ListParams::new())
        .await?;
    Ok(page.data.len())
}

#[tokio::test]
async fn server_errors_are_retried_twice_by_default() {
    let server = proxy(server());
    let client = client(&server);
    server.fail_next([Fault::status(500), Fault::status(503)]);
    assert_eq!(list(&client).await.unwrap(), 0);
    assert_eq!(server.requests().len(), 3);

    server.clear_requests();
    server.fail_next([Fault::status(500), Fault::status(502), Fault::status(504)]);
    let error = list(&client).await.unwrap_err();
    assert_eq!(error.status().map(|status| status.as_u16()), Some(504));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn the_number_of_retries_is_configurable() {
    let server = proxy(server());
    let none = builder(&server).max_retries(0).build().unwrap();
    server.fail_next([Fault::status(500)]);
    assert!(list(&none).await.is_err());
    assert_eq!(server.requests().len(), 1);

    server.clear_requests();
    let four = builder(&server).max_retries(4).build().unwrap();
    server.fail_next([
        Fault::status(500),
        Fault::status(408),
        Fault::status(429),
        Fault::status(500),
    ]);
    assert!(list(&four).await.is_ok());
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = proxy(server());
    let client = client(&server);
    server.fail_next([Fault::status_with(429, "retry-after", "1")]);
    let started = Instant::now();
    assert!(list(&client).await.is_ok());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn x_should_retry_decides_over_the_status() {
    let server = proxy(server());
    let client = client(&server);
    // The proxy marks every 4xx but 408/429 `x-should-retry: false`, as the server does.
    server.fail_next([Fault::status(409)]);
    assert_eq!(
        list(&client)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(409)
    );
    assert_eq!(server.requests().len(), 1);

    server.clear_requests();
    server.fail_next([Fault::status_with(500, "x-should-retry", "false")]);
    assert!(list(&client).await.is_err());
    assert_eq!(server.requests().len(), 1);

    server.clear_requests();
    server.fail_next([Fault::status_with(409, "x-should-retry", "true")]);
    assert!(list(&client).await.is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let server = proxy(server());
    let client = builder(&server)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    server.fail_next([Fault::Delay(Duration::from_secs(3))]);
    assert!(list(&client).await.is_ok());
    assert_eq!(server.requests().len(), 2);

    let impatient = builder(&server)
        .timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    server.fail_next([Fault::Delay(Duration::from_secs(3))]);
    let error = list(&impatient).await.unwrap_err();
    assert!(
        matches!(&error, Error::Transport(source) if source.is_timeout()),
        "{error:?}"
    );
}

#[tokio::test]
async fn connection_failures_are_retried_with_backoff_then_reported() {
    let server = server();
    let base_url = format!("http://127.0.0.1:{}/v1", closed_port());
    let client = builder(&server)
        .base_url(&base_url)
        .retry_delays(Duration::from_millis(200), Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = list(&client).await.unwrap_err();
    // Two retries: at least 150 ms + 300 ms of backoff (200 ms and 400 ms, less jitter).
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&error, Error::Transport(source) if source.is_connect()),
        "{error:?}"
    );
}
