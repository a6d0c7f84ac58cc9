//! Attribute filters end to end: set through the Admin API of `orgcerts serve`, enforced by
//! `orgcerts gateway` on the same fresh database (SQLite, or PostgreSQL with
//! `ORGCERTS_TEST_ENGINE=postgres`), for clients presenting certificates minted at run time.

#![allow(dead_code)]

mod common;
#[path = "gateway/support.rs"]
mod support;

use std::time::{Duration, Instant};

use orgcerts_testkit::pki::{Ca, Ia5String, LeafSpec, SanType};
use serde_json::{Value, json};
use support::{Reply, Stack, assert_envelope, call, passed, until};

/// How long a change made through the API may take to reach the gateway (the contract's bound).
const PROPAGATION: Duration = Duration::from_secs(1);

const EXAMPLE_DOMAIN: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

/// A client certificate of `ca` for `common_name` with one DNS name.
fn identity(ca: &Ca, common_name: &str, dns_name: &str) -> String {
    let dns = Ia5String::try_from(dns_name).expect("an ASCII name");
    ca.mint(&LeafSpec::client(common_name).with_subject_alt_name(SanType::DnsName(dns)))
        .identity_pem()
}

/// A request of `client` with `key` through the gateway.
async fn ask(stack: &Stack, client: &reqwest::Client, key: &str) -> Reply {
    call(client, &stack.gateway, "/responses", Some(key), &[]).await
}

/// Whether `reply` is the 403 of an attribute filter, in the contract's envelope.
fn filtered_out(reply: &Reply) -> bool {
    reply.status == 403
        && reply.body["error"]["code"] == "certificate_attribute_verification_failed"
}

/// Uploads `pem` with `filter` and activates it for `project` (the organization when `None`);
/// the certificate's id.
async fn enforce_with_filter(
    stack: &Stack,
    pem: &str,
    filter: &str,
    project: Option<&str>,
    key: &str,
) -> String {
    let uploaded = stack
        .api
        .post(
            "/organization/certificates",
            json!({"certificate": pem, "name": "filtered", "attribute_filter": filter}),
        )
        .await;
    assert!(
        uploaded.get("attribute_filter").is_none(),
        "documented objects stay the spec's: {uploaded}"
    );
    let id = uploaded["id"].as_str().unwrap().to_owned();
    stack.api.activate(project, &[&id]).await;
    stack.until_enforced(key).await;
    id
}

async fn set_filter(stack: &Stack, id: &str, filter: Value) {
    stack
        .api
        .post(
            &format!("/organization/certificates/{id}"),
            json!({ "attribute_filter": filter }),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_refuses_with_a_403_and_a_changed_filter_applies_within_a_second() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Filtered").await;
    let ca = Ca::root("Filtered root");
    let id = enforce_with_filter(&stack, &ca.cert_pem, EXAMPLE_DOMAIN, None, &tenant.key).await;
    let inside = stack.client_with(&identity(&ca, "billing", "api.example.com"));
    let outside = stack.client_with(&identity(&ca, "search", "api.example.org"));

    let reply = ask(&stack, &inside, &tenant.key).await;
    assert!(passed(&reply), "{reply:?}");
    let reply = ask(&stack, &outside, &tenant.key).await;
    assert!(filtered_out(&reply), "{reply:?}");
    assert_envelope(&reply, "invalid_request_error");
    assert_eq!(stack.upstream.seen().len(), 1, "the refused request stayed");

    // Narrowed to the other client: each sees the change within a second.
    set_filter(&stack, &id, json!("subject.common_name == 'search'")).await;
    let changed = Instant::now();
    until(
        PROPAGATION,
        "the new filter refuses the first client",
        async || ask(&stack, &inside, &tenant.key).await,
        filtered_out,
    )
    .await;
    let reply = ask(&stack, &outside, &tenant.key).await;
    assert!(passed(&reply), "{reply:?}");
    assert!(changed.elapsed() < PROPAGATION + Duration::from_secs(1));

    // Cleared with null: the anchor accepts every certificate it verifies again.
    set_filter(&stack, &id, Value::Null).await;
    until(
        PROPAGATION,
        "the cleared filter accepts the first client",
        async || ask(&stack, &inside, &tenant.key).await,
        passed,
    )
    .await;
    let reply = ask(&stack, &outside, &tenant.key).await;
    assert!(passed(&reply), "{reply:?}");

    // Another CA's client has no path at all: that stays a 401.
    let stranger = Ca::root("Stranger");
    let foreign = stack.client_with(&identity(&stranger, "billing", "api.example.com"));
    let reply = ask(&stack, &foreign, &tenant.key).await;
    assert_eq!(reply.refused(), "certificate_verification_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_filter_is_a_503_and_other_requests_keep_being_served() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Runaway").await;
    let ca = Ca::root("Runaway root");
    let list = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let runaway = format!(
        "[{list}].all(a, [{list}].all(b, [{list}].all(c, [{list}].all(d, a + b + c + d >= 0))))"
    );
    let healthy = stack.tenant("Healthy").await;
    enforce_with_filter(
        &stack,
        &ca.cert_pem,
        &runaway,
        Some(&tenant.project),
        &tenant.key,
    )
    .await;

    let client = stack.client_with(&identity(&ca, "svc", "svc.example.com"));
    let started = Instant::now();
    let (runaway_reply, healthy_reply) = tokio::join!(ask(&stack, &client, &tenant.key), async {
        // While the filter runs, a request of a project without anchors is answered.
        tokio::time::sleep(Duration::from_millis(10)).await;
        ask(&stack, &stack.client(), &healthy.key).await
    });
    assert_eq!(runaway_reply.status, 503, "{runaway_reply:?}");
    assert_eq!(
        runaway_reply.body["error"]["code"],
        "authentication_temporarily_unavailable"
    );
    assert_envelope(&runaway_reply, "server_error");
    // The default deadline is 50 ms: the answer comes long before the evaluation would end.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(passed(&healthy_reply), "{healthy_reply:?}");
    assert_eq!(
        stack.upstream.seen().len(),
        1,
        "only the healthy request went upstream"
    );
}
