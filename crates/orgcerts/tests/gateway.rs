//! The real `orgcerts gateway` over the network: with `orgcerts serve` on the same fresh
//! database (SQLite, or PostgreSQL with `ORGCERTS_TEST_ENGINE=postgres`), a fake upstream in
//! this process, and clients presenting certificates minted at run time.
//!
//! Every request is judged on its own: key, organization and project headers, then the client
//! certificate against the anchors active for the key's project and organization. Changes made
//! through the API apply to the next request within a second, on connections already open too.

mod common;
#[path = "gateway/support.rs"]
mod support;

use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine as _;
use orgcerts_testkit::database::{PgSchema, TestDatabase};
use orgcerts_testkit::pki::{Ca, LeafSpec};
use serde_json::{Value, json};
use support::{
    BIN, FLOOD_BYTES, GatewayOptions, Reply, Stack, UPSTREAM_KEY, assert_envelope, call, connect,
    connector, passed, pem_certificates, read_head, refused_with, status_of, until,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a change made through the API may take to reach the gateway (the contract's bound).
const PROPAGATION: Duration = Duration::from_secs(1);

/// `orgcerts db organization …` on `database_url`: its JSON output.
fn db_organization(database_url: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["db", "organization"])
        .args(args)
        .args(["--database-url", database_url])
        .output()
        .expect("run orgcerts db organization");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// A second organization in the stack's database: its id and admin key.
fn second_organization(stack: &Stack) -> (String, String) {
    let created = db_organization(&stack.database.url(), &["create", "--name", "Other Org"]);
    (
        created["organization_id"].as_str().unwrap().to_owned(),
        created["admin_key"].as_str().unwrap().to_owned(),
    )
}

/// The id of the organization `orgcerts serve` created on the fresh database.
fn first_organization(stack: &Stack) -> String {
    let list = db_organization(&stack.database.url(), &["list"]);
    let orgs = list.as_array().unwrap();
    assert_eq!(orgs.len(), 1, "{list}");
    orgs[0]["id"].as_str().unwrap().to_owned()
}

/// The headers the upstream saw under `name` (lowercase).
fn seen_header<'a>(echo: &'a Value, name: &str) -> Option<&'a Value> {
    echo["headers"].get(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_anchors_a_request_passes_with_the_upstream_key_and_no_certificate_headers() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Plain").await;
    let body = r#"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}"#;
    let response = stack
        .client()
        .post(stack.gateway.url("/chat/completions?a=1%202&b=two"))
        .bearer_auth(&tenant.key)
        .header("content-type", "application/json")
        .header("client-cert", ":Zm9v:")
        .header("client-cert-chain", ":Zm9v:, :YmFy:")
        .header("x-forwarded-client-cert", "By=spiffe://x;Hash=00")
        .header("x-custom", "kept")
        .body(body)
        .send()
        .await
        .unwrap();
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let seen = stack.upstream.seen();
    assert_eq!(seen.len(), 1);
    let echo = &seen[0];
    assert_eq!(&reply.body, echo, "the client got the upstream's answer");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/v1/chat/completions");
    assert_eq!(echo["query"], "a=1%202&b=two");
    assert_eq!(echo["body"], body);
    assert_eq!(
        seen_header(echo, "authorization"),
        Some(&json!([format!("Bearer {UPSTREAM_KEY}")]))
    );
    for stripped in [
        "client-cert",
        "client-cert-chain",
        "x-forwarded-client-cert",
    ] {
        assert_eq!(seen_header(echo, stripped), None, "{stripped}: {echo}");
    }
    assert_eq!(seen_header(echo, "x-custom"), Some(&json!(["kept"])));
    assert_eq!(
        seen_header(echo, "content-type"),
        Some(&json!(["application/json"]))
    );

    // A body of some size streams through whole.
    let big = "0123456789abcdef".repeat(128 * 1024);
    let response = stack
        .client()
        .put(stack.gateway.url("/files/upload"))
        .bearer_auth(&tenant.key)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let reply = Reply::read(response).await;
    assert!(passed(&reply), "{}", reply.status);
    assert_eq!(reply.body["method"], "PUT");
    assert!(
        reply.body["body"] == big.as_str(),
        "the 2 MiB body arrived unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_upstream_key_the_clients_authorization_is_removed() {
    let stack = Stack::with(GatewayOptions {
        upstream_api_key: None,
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("No upstream key").await;
    let reply = call(
        &stack.client(),
        &stack.gateway,
        "/responses",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "{reply:?}");
    assert_eq!(reply.body["path"], "/v1/responses");
    assert_eq!(seen_header(&reply.body, "authorization"), None);
    assert!(
        !reply.body.to_string().contains(&tenant.key),
        "the client's key never goes upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_at_the_gateway_shows_its_last_use_in_the_api() {
    let stack = Stack::with(GatewayOptions {
        key_use_flush_secs: 1,
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("Used").await;
    let path = format!(
        "/organization/projects/{}/api_keys/{}",
        tenant.project, tenant.key_id
    );
    let before = stack.api.send(reqwest::Method::GET, &path, None).await;
    assert_eq!(before.status, 200, "{before:?}");
    assert_eq!(before.body["last_used_at"], Value::Null, "{before:?}");

    let started = unix_now();
    let reply = call(
        &stack.client(),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "{reply:?}");
    // Written in the gateway's next batch, a second later at most.
    let deadline = Instant::now() + Duration::from_secs(5);
    let used = loop {
        let key = stack.api.send(reqwest::Method::GET, &path, None).await;
        if let Some(at) = key.body["last_used_at"].as_i64() {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "last_used_at never recorded: {key:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        (started..=unix_now()).contains(&used),
        "last_used_at {used} is the time of the request"
    );
}

/// Unix seconds now.
fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_unknown_and_admin_keys_are_refused() {
    let stack = Stack::start().await;
    let client = stack.client();
    let gateway = &stack.gateway;

    let missing = call(&client, gateway, "/models", None, &[]).await;
    assert_eq!(missing.refused(), Value::Null);

    let unknown = format!("sk-svcacct-{}", "A".repeat(64));
    let reply = call(&client, gateway, "/models", Some(&unknown), &[]).await;
    assert_eq!(reply.refused(), "invalid_api_key");

    let reply = call(&client, gateway, "/models", Some("not a key"), &[]).await;
    assert_eq!(reply.refused(), "invalid_api_key");

    let admin = stack.api.admin_key().to_owned();
    let reply = call(&client, gateway, "/models", Some(&admin), &[]).await;
    assert_eq!(reply.refused(), "invalid_api_key", "an admin key");

    assert!(
        stack.upstream.seen().is_empty(),
        "nothing refused went upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_naming_another_organization_or_project_are_refused() {
    let stack = Stack::start().await;
    let own_org = first_organization(&stack);
    let (other_org, _) = second_organization(&stack);
    let a = stack.tenant("A").await;
    let b = stack.tenant("B").await;
    let client = stack.client();
    let gateway = &stack.gateway;

    let reply = call(
        &client,
        gateway,
        "/models",
        Some(&a.key),
        &[("OpenAI-Organization", &other_org)],
    )
    .await;
    assert_eq!(reply.refused(), "mismatched_organization");
    let reply = call(
        &client,
        gateway,
        "/models",
        Some(&a.key),
        &[("OpenAI-Project", &b.project)],
    )
    .await;
    assert_eq!(reply.refused(), "mismatched_project");
    // A second header naming another organization or project counts as much as a first.
    for (name, own, other) in [
        ("OpenAI-Organization", &own_org, &other_org),
        ("OpenAI-Project", &a.project, &b.project),
    ] {
        let reply = call(
            &client,
            gateway,
            "/models",
            Some(&a.key),
            &[(name, own), (name, other)],
        )
        .await;
        let expected = if name == "OpenAI-Project" {
            "mismatched_project"
        } else {
            "mismatched_organization"
        };
        assert_eq!(reply.refused(), expected, "{name}: {own}, {other}");
    }
    assert!(stack.upstream.seen().is_empty());

    let reply = call(
        &client,
        gateway,
        "/models",
        Some(&a.key),
        &[
            ("OpenAI-Organization", &own_org),
            ("OpenAI-Project", &a.project),
        ],
    )
    .await;
    assert!(
        passed(&reply),
        "its own organization and project: {reply:?}"
    );
    assert_eq!(
        seen_header(&reply.body, "openai-project"),
        Some(&json!([a.project]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_key_and_an_archived_projects_key_are_refused_within_a_second() {
    let stack = Stack::start().await;
    let deleted = stack.tenant("Deleted key").await;
    let archived = stack.tenant("Archived").await;
    let client = stack.client();
    let gateway = &stack.gateway;
    for key in [&deleted.key, &archived.key] {
        let reply = call(&client, gateway, "/models", Some(key), &[]).await;
        assert!(passed(&reply), "live at first (and cached): {reply:?}");
    }

    stack
        .api
        .delete(&format!(
            "/organization/projects/{}/api_keys/{}",
            deleted.project, deleted.key_id
        ))
        .await;
    until(
        PROPAGATION,
        "the deleted key refused",
        async || call(&client, gateway, "/models", Some(&deleted.key), &[]).await,
        refused_with("invalid_api_key"),
    )
    .await;

    stack
        .api
        .post(
            &format!("/organization/projects/{}/archive", archived.project),
            json!({}),
        )
        .await;
    until(
        PROPAGATION,
        "the archived project's key refused",
        async || call(&client, gateway, "/models", Some(&archived.key), &[]).await,
        refused_with("invalid_api_key"),
    )
    .await;
    let reply = call(&client, gateway, "/models", Some(&archived.key), &[]).await;
    assert_eq!(reply.refused(), "invalid_api_key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_required_and_a_leaf_without_authority_key_identifier() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Enforced").await;
    let root = Ca::root("Enforced root");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;

    let reply = call(
        &stack.client(),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "certificate_required");

    let no_aki = root.mint(&LeafSpec::client("no aki").without_authority_key_identifier());
    let reply = call(
        &stack.client_with(&no_aki.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "invalid_certificate");

    let good = root.client("good");
    let reply = call(
        &stack.client_with(&good.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "a leaf of the anchor: {reply:?}");
    assert_eq!(
        stack.upstream.seen().len(),
        1,
        "only the verified one went up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_ca_and_a_leaf_without_client_auth_fail_verification() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Ours").await;
    let ours = Ca::root("Our root");
    stack.enforce(&ours.cert_pem, None, &tenant.key).await;
    let (_, other_admin) = second_organization(&stack);
    let theirs = Ca::root("Their root");
    let other = stack.api.as_other(&other_admin);
    let their_tenant = other.tenant("Theirs").await;
    other.anchor(&theirs.cert_pem, None).await;
    stack.until_enforced(&their_tenant.key).await;
    let reply = call(
        &stack.client_with(&theirs.client("theirs").identity_pem()),
        &stack.gateway,
        "/models",
        Some(&their_tenant.key),
        &[],
    )
    .await;
    assert!(
        passed(&reply),
        "their client in their organization: {reply:?}"
    );
    let went_up = stack.upstream.seen().len();

    let foreign = theirs.client("theirs");
    let reply = call(
        &stack.client_with(&foreign.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "certificate_verification_failed");

    let server_only = ours.mint(&LeafSpec::client("server only").without_client_auth());
    let reply = call(
        &stack.client_with(&server_only.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "certificate_verification_failed");
    assert_eq!(
        stack.upstream.seen().len(),
        went_up,
        "nothing refused went upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_not_yet_valid_leaf_fails_verification() {
    use orgcerts_testkit::time::{Duration as Span, OffsetDateTime};
    let stack = Stack::start().await;
    let tenant = stack.tenant("Validity").await;
    let root = Ca::root("Validity root");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;
    let now = OffsetDateTime::now_utc();
    for (what, not_before, not_after) in [
        ("expired", now - Span::days(10), now - Span::days(1)),
        ("not yet valid", now + Span::days(1), now + Span::days(10)),
    ] {
        let leaf = root.mint(&LeafSpec::client(what).valid(not_before, not_after));
        let reply = call(
            &stack.client_with(&leaf.identity_pem()),
            &stack.gateway,
            "/models",
            Some(&tenant.key),
            &[],
        )
        .await;
        assert_eq!(reply.refused(), "certificate_verification_failed", "{what}");
    }
    assert!(stack.upstream.seen().is_empty());
}

/// Inserts `pem` into the organization's certificates as the API did when it was still valid
/// (the API refuses to upload it now); its id.
async fn insert_as_uploaded_earlier(database_url: &str, pem: &str, uploaded_at: i64) -> String {
    use orgcerts_core::ids::CertificateId;
    use orgcerts_core::model::{Actor, NewCertificate};
    let store = orgcerts_store::open(database_url).await.expect("the store");
    let organization = store.list_organizations().await.unwrap().remove(0).id;
    let anchor = orgcerts_core::anchor::validate(pem, uploaded_at).expect("valid back then");
    let record = store
        .insert_certificate(
            &NewCertificate {
                id: CertificateId::generate(),
                organization_id: organization,
                name: Some("expired root".to_owned()),
                created_at: uploaded_at,
                anchor,
                attribute_filter: None,
            },
            50,
            &Actor {
                key_id: None,
                at: uploaded_at,
            },
        )
        .await
        .expect("inserted");
    record.id.as_str().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_anchor_still_requires_a_certificate_and_verifies_none() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Expired").await;
    let expired = Ca::expired_root("Expired root");
    let refused = stack
        .api
        .send(
            reqwest::Method::POST,
            "/organization/certificates",
            Some(json!({"certificate": expired.cert_pem})),
        )
        .await;
    assert_eq!(refused.status, 400, "the API takes no expired certificate");
    let a_year_ago = orgcerts_core::unix_now() - 360 * 24 * 3600;
    let id = insert_as_uploaded_earlier(&stack.database.url(), &expired.cert_pem, a_year_ago).await;
    stack.api.activate(Some(&tenant.project), &[&id]).await;
    // Still enforced.
    stack.until_enforced(&tenant.key).await;
    // A leaf valid today, signed by the expired root: only the anchor's expiry refuses it.
    let leaf = expired.client("leaf of an expired root");
    let reply = call(
        &stack.client_with(&leaf.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "certificate_verification_failed");
    assert!(stack.upstream.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_502() {
    let port = orgcerts_testkit::closed_port();
    let stack = Stack::with(GatewayOptions {
        upstream: Some(format!("http://127.0.0.1:{port}/v1")),
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("Nowhere").await;
    let reply = call(
        &stack.client(),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.status, 502, "{:?}", reply.body);
    assert_envelope(&reply, "server_error");
    assert!(reply.headers.get("x-should-retry").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_slower_than_the_timeout_is_a_504() {
    let stack = Stack::with(GatewayOptions {
        upstream_timeout_secs: 1,
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("Slow").await;
    let started = Instant::now();
    let reply = call(
        &stack.client(),
        &stack.gateway,
        "/slow",
        Some(&tenant.key),
        &[],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(reply.status, 504, "{:?}", reply.body);
    assert_envelope(&reply, "server_error");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(stack.upstream.seen().len(), 1, "it went upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_anchor_serves_its_project_only_and_an_organization_anchor_all() {
    let stack = Stack::start().await;
    let a = stack.tenant("A").await;
    let b = stack.tenant("B").await;
    let root = Ca::root("Project A root");
    let leaf = root.client("a client");
    let without = stack.client();
    let with = stack.client_with(&leaf.identity_pem());
    let gateway = &stack.gateway;
    let id = stack
        .enforce(&root.cert_pem, Some(&a.project), &a.key)
        .await;

    let reply = call(&without, gateway, "/models", Some(&a.key), &[]).await;
    assert_eq!(reply.refused(), "certificate_required");
    let reply = call(&with, gateway, "/models", Some(&a.key), &[]).await;
    assert!(passed(&reply), "{reply:?}");
    let reply = call(&without, gateway, "/models", Some(&b.key), &[]).await;
    assert!(passed(&reply), "project B has no anchor: {reply:?}");

    stack.api.activate(None, &[&id]).await;
    until(
        PROPAGATION,
        "project B enforced once the organization's anchor is active",
        async || call(&without, gateway, "/models", Some(&b.key), &[]).await,
        refused_with("certificate_required"),
    )
    .await;
    let reply = call(&with, gateway, "/models", Some(&b.key), &[]).await;
    assert!(passed(&reply), "{reply:?}");
    let reply = call(&without, gateway, "/models", Some(&a.key), &[]).await;
    assert_eq!(reply.refused(), "certificate_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intermediate_chain_verifies_only_with_the_intermediate_presented() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Chained").await;
    let root = Ca::root("Chain root");
    let intermediate = root.intermediate("Chain intermediate");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;
    let leaf = intermediate.client("chained client");
    assert_eq!(leaf.intermediates_pem.len(), 1);

    let reply = call(
        &stack.client_with(&leaf.leaf_only_identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert_eq!(reply.refused(), "certificate_verification_failed");
    let reply = call(
        &stack.client_with(&leaf.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "leaf and intermediate: {reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_client_cert_sends_the_verified_leaf_upstream() {
    let stack = Stack::with(GatewayOptions {
        forward_client_cert: true,
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("Forwarded").await;
    let root = Ca::root("Forward root");
    let intermediate = root.intermediate("Forward intermediate");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;
    let leaf = intermediate.client("forwarded client");
    let reply = call(
        &stack.client_with(&leaf.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[("client-cert", ":Zm9yZ2Vk:")],
    )
    .await;
    assert!(passed(&reply), "{reply:?}");
    let expected = format!(
        ":{}:",
        base64::engine::general_purpose::STANDARD.encode(&leaf.cert_der)
    );
    assert_eq!(
        seen_header(&reply.body, "client-cert"),
        Some(&json!([expected])),
        "the leaf alone, never the client's own header"
    );
    assert_eq!(seen_header(&reply.body, "client-cert-chain"), None);

    // A request that passes without a check has no verified leaf to forward.
    let unchecked = stack.tenant("Unchecked").await;
    let reply = call(
        &stack.client_with(&leaf.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&unchecked.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "{reply:?}");
    assert_eq!(seen_header(&reply.body, "client-cert"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_pass_event_by_event() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Streaming").await;
    let mut response = stack
        .client()
        .post(stack.gateway.url("/chat/completions"))
        .bearer_auth(&tenant.key)
        .json(&json!({"model": "gpt-test", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let first = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .expect("the first event arrives while the upstream holds the rest")
        .unwrap()
        .expect("a chunk");
    let first = String::from_utf8(first.to_vec()).unwrap();
    assert!(
        first.starts_with("data: {") && first.contains("part 1"),
        "{first}"
    );
    assert!(first.ends_with("\n\n"), "{first}");
    assert_eq!(
        stack.upstream.state.events_sent.load(Ordering::SeqCst),
        1,
        "the upstream has sent one event so far"
    );
    stack.upstream.state.release.notify_one();
    let mut rest = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .expect("the rest arrives")
        .unwrap()
    {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let events: Vec<&str> = rest.split_terminator("\n\n").collect();
    assert_eq!(events.len(), 3, "{rest}");
    assert!(events[0].contains("part 2") && events[1].contains("part 3"));
    assert_eq!(events[2], "data: [DONE]");
}

/// Requests on one open connection (without a client certificate) until `done`, then checks
/// that they all went over that connection, in `version`.
async fn on_one_connection(
    stack: &Stack,
    client: &reqwest::Client,
    version: reqwest::Version,
    key: &str,
    done: impl Fn(&Reply) -> bool,
    what: &str,
) {
    until(
        PROPAGATION,
        what,
        async || {
            let reply = call(client, &stack.gateway, "/models", Some(key), &[]).await;
            assert_eq!(reply.version, version);
            reply
        },
        done,
    )
    .await;
    assert_eq!(
        stack.gateway.handshakes().await,
        1,
        "one connection served every request"
    );
}

/// An anchor is active for the project; `client` is refused on its connection, the anchor is
/// deactivated, and the same connection's next requests pass.
async fn deactivation_on_an_open_connection(http1: bool) {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Keep-alive").await;
    let root = Ca::root("Keep-alive root");
    let id = stack
        .api
        .anchor(&root.cert_pem, Some(&tenant.project))
        .await;
    let (client, version) = if http1 {
        (stack.http1_client(), reqwest::Version::HTTP_11)
    } else {
        (stack.client(), reqwest::Version::HTTP_2)
    };
    on_one_connection(
        &stack,
        &client,
        version,
        &tenant.key,
        refused_with("certificate_required"),
        "refused while the anchor is active",
    )
    .await;
    stack.api.deactivate(Some(&tenant.project), &[&id]).await;
    on_one_connection(
        &stack,
        &client,
        version,
        &tenant.key,
        passed,
        "passes once the anchor is deactivated",
    )
    .await;
}

/// `client` passes on its connection, an anchor is activated for the organization, and the
/// same connection's next requests are refused.
async fn activation_on_an_open_connection(http1: bool) {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Keep-alive").await;
    let (client, version) = if http1 {
        (stack.http1_client(), reqwest::Version::HTTP_11)
    } else {
        (stack.client(), reqwest::Version::HTTP_2)
    };
    let reply = call(&client, &stack.gateway, "/models", Some(&tenant.key), &[]).await;
    assert!(passed(&reply), "{reply:?}");
    let root = Ca::root("Keep-alive root");
    stack.api.anchor(&root.cert_pem, None).await;
    on_one_connection(
        &stack,
        &client,
        version,
        &tenant.key,
        refused_with("certificate_required"),
        "refused once the anchor is active",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_applies_to_the_next_request_of_an_open_http2_connection() {
    deactivation_on_an_open_connection(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_applies_to_the_next_request_of_a_kept_alive_http1_connection() {
    deactivation_on_an_open_connection(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_applies_to_the_next_request_of_an_open_http2_connection() {
    activation_on_an_open_connection(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_applies_to_the_next_request_of_a_kept_alive_http1_connection() {
    activation_on_an_open_connection(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_postgresql_see_an_activation_within_a_second() {
    let stack = Stack::on(
        TestDatabase::Postgres(PgSchema::create()),
        GatewayOptions::default(),
    )
    .await;
    let second = stack.another_gateway(GatewayOptions::default()).await;
    let tenant = stack.tenant("Shared").await;
    let root = Ca::root("Shared root");
    let id = stack.api.upload(&root.cert_pem, "shared").await;
    let gateways = [&stack.gateway, &second];
    let clients = [stack.client(), stack.client()];
    for (gateway, client) in gateways.iter().zip(&clients) {
        let reply = call(client, gateway, "/models", Some(&tenant.key), &[]).await;
        assert!(passed(&reply), "{reply:?}");
    }

    stack.api.activate(Some(&tenant.project), &[&id]).await;
    let activated = Instant::now();
    let (first, other) = tokio::join!(
        watch_gateway(&stack.gateway, &clients[0], &tenant.key, activated),
        watch_gateway(&second, &clients[1], &tenant.key, activated),
    );
    assert!(
        first < PROPAGATION && other < PROPAGATION,
        "{first:?} {other:?}"
    );
}

/// Calls `gateway` until it refuses for want of a certificate; the time since `since`.
async fn watch_gateway(
    gateway: &support::Gateway,
    client: &reqwest::Client,
    key: &str,
    since: Instant,
) -> Duration {
    until(
        PROPAGATION,
        "a gateway refuses after the activation",
        async || call(client, gateway, "/models", Some(key), &[]).await,
        refused_with("certificate_required"),
    )
    .await;
    since.elapsed()
}

/// An HTTP/1.1 WebSocket upgrade of `/v1/realtime`, with `key` as the bearer key when given.
fn upgrade_request(key: Option<&str>) -> String {
    let mut request = String::from(
        "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    );
    if let Some(key) = key {
        write!(request, "Authorization: Bearer {key}\r\n").unwrap();
    }
    request.push_str("\r\n");
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_upgrade_is_judged_like_any_request_then_carries_bytes_both_ways() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Realtime").await;
    let root = Ca::root("Realtime root");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;
    let leaf = root.client("realtime client");
    let with_cert = connector(
        &stack.tls.server,
        Some((pem_certificates(&leaf.chain_pem()), &leaf.key_der)),
        &[b"http/1.1"],
    );
    let without_cert = connector(&stack.tls.server, None, &[b"http/1.1"]);

    for (connector, key, code) in [
        (&with_cert, None, Value::Null),
        (
            &without_cert,
            Some(tenant.key.as_str()),
            json!("certificate_required"),
        ),
    ] {
        let mut io = connect(&stack.gateway, connector).await.unwrap();
        io.write_all(upgrade_request(key).as_bytes()).await.unwrap();
        let mut rest = Vec::new();
        let head = read_head(&mut io, &mut rest).await.unwrap();
        assert_eq!(status_of(&head), 401, "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("a content length");
        while rest.len() < length {
            let mut buf = [0; 1024];
            let n = io.read(&mut buf).await.unwrap();
            assert!(n > 0);
            rest.extend_from_slice(&buf[..n]);
        }
        let body: Value = serde_json::from_slice(&rest[..length]).unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }
    assert!(
        stack.upstream.seen().is_empty(),
        "nothing refused went upstream"
    );

    let mut io = connect(&stack.gateway, &with_cert).await.unwrap();
    io.write_all(upgrade_request(Some(&tenant.key)).as_bytes())
        .await
        .unwrap();
    let mut rest = Vec::new();
    let head = read_head(&mut io, &mut rest).await.unwrap();
    assert_eq!(status_of(&head), 101, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: websocket"),
        "{head}"
    );
    for message in [
        &b"hello through the gateway"[..],
        &[0u8, 1, 2, 255, 254][..],
    ] {
        io.write_all(message).await.unwrap();
        let mut echoed = std::mem::take(&mut rest);
        while echoed.len() < message.len() {
            let mut buf = [0; 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), io.read(&mut buf))
                .await
                .expect("the echo comes back")
                .unwrap();
            assert!(n > 0, "the upgraded connection closed");
            echoed.extend_from_slice(&buf[..n]);
        }
        assert_eq!(echoed, message);
    }
    let seen = stack.upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["path"], "/v1/realtime");
    assert_eq!(seen[0]["query"], "model=gpt-realtime");
    assert_eq!(
        seen_header(&seen[0], "authorization"),
        Some(&json!([format!("Bearer {UPSTREAM_KEY}")]))
    );
    assert_eq!(
        seen_header(&seen[0], "sec-websocket-key"),
        Some(&json!(["dGhlIHNhbXBsZSBub25jZQ=="]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_requests_by_outcome_on_the_metrics_listener() {
    let stack = Stack::start().await;
    let plain = reqwest::Client::new();
    let ops = format!("http://{}", stack.gateway.metrics_addr);
    let healthz = Reply::read(plain.get(format!("{ops}/healthz")).send().await.unwrap()).await;
    assert_eq!(
        (healthz.status, healthz.body),
        (200, json!({"status": "ok"}))
    );
    let readyz = Reply::read(plain.get(format!("{ops}/readyz")).send().await.unwrap()).await;
    assert_eq!(
        (readyz.status, readyz.body),
        (200, json!({"status": "ready"}))
    );
    // The TLS listener answers the probes too, but never /metrics.
    let client = stack.client();
    let probe = client
        .get(format!("https://{}/healthz", stack.gateway.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let metrics = client
        .get(format!("https://{}/metrics", stack.gateway.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 404);

    let enforced = stack.tenant("Enforced").await;
    let open = stack.tenant("Open").await;
    let root = Ca::root("Metrics root");
    stack
        .enforce(&root.cert_pem, Some(&enforced.project), &enforced.key)
        .await;
    let leaf = root.client("metrics client");
    let gateway = &stack.gateway;
    let with = stack.client_with(&leaf.identity_pem());
    let before = gateway.metrics().await;
    assert!(passed(
        &call(&client, gateway, "/models", Some(&open.key), &[]).await
    ));
    assert!(passed(
        &call(&client, gateway, "/models", Some(&open.key), &[]).await
    ));
    assert!(passed(
        &call(&with, gateway, "/models", Some(&enforced.key), &[]).await
    ));
    call(&client, gateway, "/models", Some(&enforced.key), &[]).await;
    call(&client, gateway, "/models", None, &[]).await;
    call(&client, gateway, "/models", Some("sk-svcacct-nope"), &[]).await;

    let text = gateway.metrics().await;
    for (outcome, count) in [
        ("passed", 2),
        ("verified", 1),
        ("certificate_required", 1),
        ("missing_api_key", 1),
        ("invalid_api_key", 1),
    ] {
        let prefix = format!("orgcerts_gateway_requests_total{{outcome=\"{outcome}\"}}");
        assert_eq!(
            support::sum_of(&text, &prefix) - support::sum_of(&before, &prefix),
            count,
            "{outcome}: {text}"
        );
    }
    assert_eq!(
        support::sum_of(&text, "orgcerts_gateway_trust_anchors "),
        1,
        "{text}"
    );
}

// Hostile clients: each is refused or dropped, and the gateway keeps serving the others.

/// Asserts that the gateway still serves: a request of `tenant` without a certificate.
async fn still_serves(stack: &Stack, key: &str, expected: impl Fn(&Reply) -> bool) {
    let reply = call(&stack.client(), &stack.gateway, "/models", Some(key), &[]).await;
    assert!(expected(&reply), "{reply:?}");
}

/// Sends a GET of `/v1/models` with `key` and reads the answer's status; `Err` when the
/// connection fails or closes first.
async fn try_request(
    stack: &Stack,
    connector: &tokio_rustls::TlsConnector,
    key: &str,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut io = connect(&stack.gateway, connector).await?;
    io.write_all(
        format!("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut rest = Vec::new();
    let head = read_head(&mut io, &mut rest).await?;
    let _ = io.read_to_end(&mut rest).await;
    Ok((status_of(&head), rest))
}

/// Waits until the gateway has counted a handshake of `result`.
async fn handshake_counted(stack: &Stack, result: &str) {
    let prefix = format!("orgcerts_gateway_tls_handshakes_total{{result=\"{result}\"}}");
    let started = Instant::now();
    while stack.gateway.sum(&prefix).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no {result} handshake counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_completes_its_handshake_is_dropped_while_others_are_served() {
    let stack = Stack::with(GatewayOptions {
        header_read_timeout_secs: 1,
        ..GatewayOptions::default()
    })
    .await;
    let tenant = stack.tenant("Patient").await;
    let started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(stack.gateway.addr)
        .await
        .unwrap();
    let mut partial = tokio::net::TcpStream::connect(stack.gateway.addr)
        .await
        .unwrap();
    // The start of a TLS record announcing a ClientHello that never comes.
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();

    still_serves(&stack, &tenant.key, passed).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "served meanwhile"
    );

    for stream in [&mut silent, &mut partial] {
        let mut buf = [0; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("dropped within the header timeout and a margin");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "not before the timeout: {took:?}"
    );
    handshake_counted(&stack, "timed_out").await;
    still_serves(&stack, &tenant.key, passed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_fifty_certificates_is_refused_and_the_gateway_keeps_serving() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Long chain").await;
    let root = Ca::root("Long chain root");
    stack
        .enforce(&root.cert_pem, Some(&tenant.project), &tenant.key)
        .await;
    let mut ca = root.intermediate("intermediate 1");
    for n in 2..=49 {
        ca = ca.intermediate(&format!("intermediate {n}"));
    }
    let leaf = ca.client("deep client");
    assert_eq!(pem_certificates(&leaf.chain_pem()).len(), 50);

    let answer = stack
        .client_with(&leaf.identity_pem())
        .get(stack.gateway.url("/models"))
        .bearer_auth(&tenant.key)
        .send()
        .await;
    match answer {
        Ok(response) => {
            let reply = Reply::read(response).await;
            assert_eq!(reply.refused(), "invalid_certificate");
        }
        Err(err) => assert!(err.is_connect() || err.is_request(), "{err:?}"),
    }
    assert!(stack.upstream.seen().is_empty());
    let good = root.client("good");
    let reply = call(
        &stack.client_with(&good.identity_pem()),
        &stack.gateway,
        "/models",
        Some(&tenant.key),
        &[],
    )
    .await;
    assert!(passed(&reply), "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_chain_is_refused_at_the_handshake() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Huge chain").await;
    let root = Ca::root("Huge root");
    let leaf = root.client("huge client");
    let copies = 10 * 1024 * 1024 / leaf.cert_der.len() + 1;
    let chain = vec![rustls::pki_types::CertificateDer::from(leaf.cert_der.clone()); copies];
    refused_at_the_handshake(&stack, &tenant.key, chain, &leaf.key_der).await;
}

/// A client presenting `chain` (with `key`) gets no answer: its handshake fails, is counted
/// as failed, and the gateway goes on serving others.
async fn refused_at_the_handshake(
    stack: &Stack,
    tenant_key: &str,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: &[u8],
) {
    let client = connector(&stack.tls.server, Some((chain, key)), &[b"http/1.1"]);
    let result = try_request(stack, &client, tenant_key).await;
    assert!(
        result.is_err(),
        "no answer over that connection: {result:?}"
    );
    handshake_counted(stack, "failed").await;
    still_serves(stack, tenant_key, passed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_certificate_fails_the_handshake() {
    use rand::RngCore;
    let stack = Stack::start().await;
    let tenant = stack.tenant("Garbage").await;
    let key = Ca::root("Key source").client("key");
    let mut garbage = vec![0; 700];
    rand::rng().fill_bytes(&mut garbage);
    let chain = vec![rustls::pki_types::CertificateDer::from(garbage)];
    refused_at_the_handshake(&stack, &tenant.key, chain, &key.key_der).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_flood_is_refused_and_others_are_unaffected() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Flooded").await;
    let plain = connector(&stack.tls.server, None, &[b"http/1.1"]);

    let many = (0..5000).fold(String::new(), |mut headers, n| {
        write!(headers, "X-Flood-{n}: {n}\r\n").unwrap();
        headers
    });
    let huge = format!("X-Big: {}\r\n", "b".repeat(40 * 1024));
    for flood in [many, huge] {
        let mut io = connect(&stack.gateway, &plain).await.unwrap();
        let request = format!(
            "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n{flood}\r\n",
            tenant.key
        );
        // The gateway may close before reading it all.
        let _ = io.write_all(request.as_bytes()).await;
        let mut rest = Vec::new();
        match read_head(&mut io, &mut rest).await {
            Ok(head) => assert_eq!(status_of(&head), 431, "{head}"),
            Err(err) => assert_ne!(err.to_string(), "no answer within 10 s"),
        }
        still_serves(&stack, &tenant.key, passed).await;
    }

    // The same over HTTP/2.
    let mut request = stack
        .client()
        .get(stack.gateway.url("/models"))
        .bearer_auth(&tenant.key);
    for n in 0..2000 {
        request = request.header(format!("x-flood-{n}"), "v".repeat(20));
    }
    match request.send().await {
        Ok(response) => assert_eq!(response.status(), 431),
        Err(err) => assert!(!err.is_timeout(), "{err:?}"),
    }
    still_serves(&stack, &tenant.key, passed).await;
    assert_eq!(
        stack.upstream.seen().len(),
        3,
        "only the normal requests went up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_stall_others() {
    let stack = Stack::start().await;
    let tenant = stack.tenant("Stalled").await;
    let plain = connector(&stack.tls.server, None, &[b"http/1.1"]);
    let mut stalled = connect(&stack.gateway, &plain).await.unwrap();
    stalled
        .write_all(
            format!(
                "GET /v1/flood HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
                tenant.key
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut rest = Vec::new();
    let head = read_head(&mut stalled, &mut rest).await.unwrap();
    assert_eq!(status_of(&head), 200, "{head}");
    // It reads no more: the upstream's stream backs up behind it.
    for _ in 0..5 {
        let started = Instant::now();
        still_serves(&stack, &tenant.key, passed).await;
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    let sent = stack.upstream.state.flood_sent.load(Ordering::SeqCst);
    assert!(
        sent < FLOOD_BYTES,
        "the gateway holds back the upstream rather than buffering {sent} bytes"
    );
    drop(stalled);
}
