//! Limits that keep the server responsive: per-key rate limiting, slow and idle clients,
//! oversized heads, slow bodies.

mod common;

use std::time::Duration;

use common::{Options, TestServer};
use orgcerts_server::{ConnectionLimits, HttpSettings};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn options(http: HttpSettings, limits: ConnectionLimits) -> Options {
    Options {
        http,
        limits,
        ..Options::default()
    }
}

#[tokio::test]
async fn each_admin_key_has_its_own_token_bucket() {
    let server = TestServer::start_with(options(
        HttpSettings {
            rate_limit_per_minute: 60,
            rate_limit_burst: 3,
            ..HttpSettings::default()
        },
        ConnectionLimits::default(),
    ))
    .await;
    for remaining in ["2", "1", "0"] {
        let reply = server.get("/organization/certificates").await;
        reply.ok();
        assert_eq!(reply.header("x-ratelimit-limit-requests"), Some("3"));
        assert_eq!(
            reply.header("x-ratelimit-remaining-requests"),
            Some(remaining)
        );
        assert!(reply.header("x-ratelimit-reset-requests").is_some());
    }
    let limited = server.get("/organization/certificates").await;
    limited.assert_error(429, None, Some("rate_limit_exceeded"));
    assert_eq!(limited.body["error"]["type"], "requests");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.header("x-should-retry"), None, "429 may be retried");
    assert_eq!(limited.header("x-ratelimit-remaining-requests"), Some("0"));

    // Another key of another organization is not affected.
    let (_, other) = server.second_org().await;
    server
        .call_as(&other, Method::GET, "/organization/certificates", None)
        .await
        .ok();
}

#[tokio::test]
async fn rate_limiting_can_be_turned_off() {
    let server = TestServer::start_with(options(
        HttpSettings {
            rate_limit_per_minute: 0,
            ..HttpSettings::default()
        },
        ConnectionLimits::default(),
    ))
    .await;
    for _ in 0..5 {
        let reply = server.get("/organization/certificates").await;
        reply.ok();
        assert_eq!(reply.header("x-ratelimit-limit-requests"), None);
    }
}

/// How long past its timeout the server may take to close a connection in these tests.
const CLOSE_MARGIN: Duration = Duration::from_secs(4);

/// Reads until the server closes the connection (a reset counts as closed); returns what it
/// sent. Fails the test when the connection is still open after `within`.
async fn read_to_close(stream: &mut TcpStream, within: Duration, what: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let outcome = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(
        outcome.is_ok(),
        "{what}: the server kept the connection open for {within:?}; it sent {text:?}"
    );
    text
}

fn short_limits() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ConnectionLimits::default()
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let limits = short_limits();
    let within = limits.header_read_timeout + CLOSE_MARGIN;
    let server = TestServer::start_with(options(HttpSettings::default(), limits)).await;
    // A client that never finishes its headers.
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /v1/organization/certificates HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow, within, "unfinished headers").await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );
    // A client that connects and says nothing.
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    assert_eq!(read_to_close(&mut idle, within, "silent client").await, "");
    // A keep-alive connection left idle after a complete exchange.
    let mut kept = TcpStream::connect(server.addr()).await.unwrap();
    let request = format!(
        "GET /v1/organization/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        server.key
    );
    kept.write_all(request.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut kept, within, "idle keep-alive").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "one answer only: {answer:?}"
    );
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_a_408_envelope() {
    let server = TestServer::start_with(options(
        HttpSettings {
            body_read_timeout: Duration::from_secs(1),
            ..HttpSettings::default()
        },
        ConnectionLimits::default(),
    ))
    .await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /v1/organization/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"certificate\"",
        server.key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(
        &mut stream,
        Duration::from_secs(1) + CLOSE_MARGIN,
        "slow body",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.contains("\"type\":\"invalid_request_error\""),
        "{answer:?}"
    );
    assert!(TestServer::ids(server.get("/organization/certificates").await.ok()).is_empty());
}

#[tokio::test]
async fn oversized_request_heads_are_refused_and_the_server_stays_up() {
    let server = TestServer::start_with(options(
        HttpSettings::default(),
        ConnectionLimits {
            max_header_bytes: 8 * 1024,
            ..ConnectionLimits::default()
        },
    ))
    .await;
    let response = server
        .raw(Method::GET, "/organization/certificates")
        .bearer_auth(&server.key)
        .header("x-padding", "a".repeat(64 * 1024))
        .send()
        .await;
    match response {
        Ok(r) => assert_eq!(r.status().as_u16(), 431),
        Err(err) => assert!(err.is_request() || err.is_connect(), "{err}"),
    }
    server.get("/organization/certificates").await.ok();
}

#[tokio::test]
async fn valid_traffic_is_served_while_slow_clients_and_bad_requests_pile_up() {
    let server = TestServer::start_with(options(HttpSettings::default(), short_limits())).await;
    // 200 slowloris connections, each holding half a request head.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(b"POST /v1/organization/certificates HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A flood of bad requests beside the valid ones.
    let flood = {
        let base = server.base.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for _ in 0..300 {
                let r = http
                    .get(format!("{base}/organization/certificates?limit=abc"))
                    .bearer_auth("sk-admin-wrong")
                    .send()
                    .await
                    .unwrap();
                // 401 until the address has spent its failed-authentication budget, then 429.
                assert!(matches!(r.status().as_u16(), 401 | 429), "{}", r.status());
            }
        })
    };
    let id = server.upload_id("kept serving").await;
    for _ in 0..50 {
        let page = server.get("/organization/certificates").await;
        assert_eq!(TestServer::ids(page.ok()), vec![id.clone()]);
    }
    flood.await.unwrap();
    // The slow connections were cut by the header timeout.
    for stream in &mut slow {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("closed in time")
            .unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text:?}");
    }
}
