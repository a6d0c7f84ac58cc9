//! The proxy forwards requests and answers unchanged, and answers with its faults when told.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use orgcerts_testkit::{Running, TestServer};
use orgcerts_testproxy::{Fault, proxy};

/// A server at `/v1`, on the test's runtime, that answers 201 with what it received and a
/// header of its own.
async fn echo() -> Running {
    async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: String) -> impl IntoResponse {
        let seen = format!(
            "{method} {uri} x-custom={:?} host={:?} body={body}",
            headers.get("x-custom"),
            headers.get("host"),
        );
        (StatusCode::CREATED, [("x-upstream", "yes")], seen)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(echo);
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Running::new(
        format!("http://{addr}/v1"),
        "sk-admin-echo".into(),
        move || {
            task.abort();
        },
    )
}

async fn post(server: &impl TestServer, body: &'static str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/things?b=%20&a=1", server.base_url()))
        .header("x-custom", "kept")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_and_answers_pass_unchanged_and_are_recorded() {
    let upstream = echo().await;
    let upstream_host = upstream.base_url()["http://".len()..]
        .trim_end_matches("/v1")
        .to_owned();
    let server = proxy(upstream);
    assert_eq!(server.admin_key(), "sk-admin-echo");
    let answer = post(&server, "hello").await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(answer.headers()["x-upstream"], "yes");
    assert_eq!(
        answer.text().await.unwrap(),
        format!(
            "POST /v1/things?b=%20&a=1 x-custom=Some(\"kept\") host=Some({upstream_host:?}) body=hello"
        )
    );
    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].path.as_str()),
        ("POST", "/v1/things")
    );
    assert_eq!(recorded[0].query.as_deref(), Some("b=%20&a=1"));
}

#[tokio::test]
async fn faults_answer_the_next_requests_one_each() {
    let server = proxy(echo().await);
    server.fail_next([
        Fault::status(409),
        Fault::status_with(409, "x-should-retry", "true"),
        Fault::status_with(503, "retry-after", "2"),
        Fault::garbage(),
        Fault::Delay(Duration::from_millis(300)),
    ]);
    let conflict = post(&server, "").await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(conflict.headers()["x-should-retry"], "false");
    assert!(
        conflict.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    let envelope: serde_json::Value = conflict.json().await.unwrap();
    assert_eq!(envelope["error"]["type"], "invalid_request_error");
    assert_eq!(post(&server, "").await.headers()["x-should-retry"], "true");
    let unavailable = post(&server, "").await;
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.headers()["retry-after"], "2");
    assert!(unavailable.headers().get("x-should-retry").is_none());
    let garbage = post(&server, "").await;
    assert_eq!(garbage.status(), StatusCode::OK);
    assert!(garbage.text().await.unwrap().starts_with("<html>"));
    let started = Instant::now();
    assert_eq!(post(&server, "late").await.status(), StatusCode::CREATED);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(post(&server, "").await.headers()["x-upstream"], "yes");
    assert_eq!(server.requests().len(), 6);
    server.clear_requests();
    assert!(server.requests().is_empty());
}
