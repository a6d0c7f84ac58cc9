//! Several `orgcerts serve` processes on one PostgreSQL database (a schema of its own per
//! test, through the URL's search_path): the per-organization maximum, activation storms,
//! pagination while another instance writes, and a database that goes away and comes back.

#[path = "multi_instance/proxy.rs"]
mod proxy;
#[path = "multi_instance/storm.rs"]
mod storm;
#[path = "multi_instance/support.rs"]
mod support;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orgcerts_testkit::ca_pem;
use orgcerts_testkit::database::{PgSchema, postgres_url, with_search_path};
use proxy::Proxy;
use serde_json::{Value, json};
use support::{Api, BIN, Instance, Reply, id_of};

/// Asserts an OpenAI error envelope: all four keys, this status, type and code.
#[track_caller]
fn assert_envelope(reply: &Reply, status: u16, kind: &str, code: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let error = reply.body["error"].as_object().expect("an error object");
    assert_eq!(error.len(), 4, "{error:?}");
    assert_eq!(error["type"], kind);
    assert_eq!(error["code"], json!(code));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// The organizations in the database, as the operator's command lists them.
fn organizations(db_url: &str) -> Vec<Value> {
    let out = Command::new(BIN)
        .args(["organization", "--database-url", db_url, "list"])
        .output()
        .expect("run orgcerts organization list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_parallel_uploads_across_two_instances_store_exactly_the_maximum() {
    let schema = PgSchema::create();
    // Started together on an empty schema: concurrent migrations and bootstrap.
    let instances = Instance::start_together(&schema.url(), 2, &[]);
    assert_eq!(organizations(&schema.url()).len(), 1, "one bootstrap won");
    let apis: Vec<Api> = instances.iter().map(Api::new).collect();

    let pems: Vec<String> = (0..60)
        .map(|i| ca_pem(&format!("Parallel CA {i}")))
        .collect();
    let start = Arc::new(tokio::sync::Barrier::new(pems.len()));
    let uploads: Vec<_> = pems
        .into_iter()
        .enumerate()
        .map(|(i, pem)| {
            let (api, start) = (apis[i % 2].clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                api.upload(&pem).await
            })
        })
        .collect();
    let mut stored = BTreeSet::new();
    let mut refused = 0;
    for upload in uploads {
        let reply = upload.await.unwrap();
        if reply.status == 200 {
            stored.insert(id_of(&reply.body));
        } else {
            assert_envelope(
                &reply,
                400,
                "invalid_request_error",
                Some("certificate_limit_exceeded"),
            );
            refused += 1;
        }
    }
    assert_eq!((stored.len(), refused), (50, 10));
    for api in &apis {
        let listed: BTreeSet<String> = api
            .list_all("/organization/certificates", 100, "desc")
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(listed, stored);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn activation_storms_leave_a_state_some_serial_order_gives() {
    let schema = PgSchema::create();
    let instances = Instance::start_together(&schema.url(), 2, &[]);
    let apis: Vec<Api> = instances.iter().map(Api::new).collect();
    storm::run(&apis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pagination_stays_consistent_while_another_instance_writes() {
    let schema = PgSchema::create();
    let instances =
        Instance::start_together(&schema.url(), 2, &["--max-certificates-per-org", "1000"]);
    let (reader, writer) = (Api::new(&instances[0]), Api::new(&instances[1]));
    let mut base = Vec::new();
    for i in 0..30 {
        base.push(writer.upload_new(&format!("Base CA {i}")).await);
    }
    // When a delete of a base certificate was sent: from then on it may be missing.
    let deletes: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let churn = {
        let (writer, base, deletes, done) =
            (writer.clone(), base.clone(), deletes.clone(), done.clone());
        tokio::spawn(async move {
            let mut own = Vec::new();
            let mut round = 0;
            while !done.load(Ordering::Relaxed) && round < 400 {
                own.push(writer.upload_new(&format!("Churn CA {round}")).await);
                // Every third round a base certificate goes (10 of them at most), otherwise
                // the oldest of the writer's own.
                let victim = if round % 3 == 0 && round / 3 < 10 {
                    let id = base[(round * 7) % base.len()].clone();
                    deletes
                        .lock()
                        .unwrap()
                        .entry(id.clone())
                        .or_insert_with(Instant::now);
                    id
                } else {
                    own.remove(0)
                };
                let reply = writer
                    .delete(&format!("/organization/certificates/{victim}"))
                    .await;
                // Each victim exists and is deleted once: anything but a 200 is wrong.
                assert_eq!(reply.status, 200, "delete {victim}: {:?}", reply.body);
                round += 1;
            }
            round
        })
    };

    let mut walks = 0;
    for _ in 0..3 {
        for (limit, order) in [(2, "asc"), (3, "desc"), (7, "asc"), (2, "desc")] {
            let started = Instant::now();
            let seen: Vec<String> = reader
                .list_all("/organization/certificates", limit, order)
                .await
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let ended = Instant::now();
            walks += 1;
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "no duplicates ({order}, {limit})");
            // Every base certificate that existed throughout the walk, in creation order.
            let deleted = deletes.lock().unwrap().clone();
            let mut expected: Vec<&String> = base
                .iter()
                .filter(|id| deleted.get(*id).is_none_or(|sent| *sent > ended))
                .collect();
            if order == "desc" {
                expected.reverse();
            }
            let base_seen: Vec<&String> = seen.iter().filter(|id| base.contains(id)).collect();
            let kept: Vec<&String> = base_seen
                .iter()
                .copied()
                .filter(|id| expected.contains(id))
                .collect();
            assert_eq!(kept, expected, "no skips ({order}, {limit}, {started:?})");
        }
    }
    done.store(true, Ordering::Relaxed);
    let rounds = churn.await.unwrap();
    assert!(
        rounds >= 5,
        "the writer wrote while the reader read: {rounds} rounds"
    );
    assert_eq!(walks, 12);
}

/// Where the test PostgreSQL server listens.
async fn postgres_target() -> SocketAddr {
    let url = postgres_url();
    let rest = url.split_once("://").expect("a URL").1;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(host_port)
        .await
        .expect("resolve the PostgreSQL host")
        .next()
        .expect("an address")
}

/// The schema's URL, through `addr`, with a password (which trust authentication ignores).
fn url_through(addr: SocketAddr, password: &str, schema: &PgSchema) -> String {
    let url = postgres_url();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority.rsplit_once('@').map_or("postgres", |(info, _)| {
        info.split(':').next().unwrap_or(info)
    });
    with_search_path(
        &format!("{scheme}://{user}:{password}@{addr}/{path}"),
        schema.name(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_that_goes_away_gives_quick_503s_and_the_server_recovers() {
    let schema = PgSchema::create();
    let proxy = Proxy::start(postgres_target().await).await;
    let url = url_through(proxy.addr, "sekret-pw-0451", &schema);
    let instance = Instance::start(&url, &["--db-acquire-timeout-ms", "1000"]);
    let api = Api::new(&instance);
    let kept = api.upload_new("Before the outage").await;
    let project = api.create_project("Before the outage").await;

    proxy.cut();
    for round in 0..2 {
        let (cert_path, project_path) = (
            format!("/organization/certificates/{kept}"),
            format!("/organization/projects/{project}"),
        );
        let pem = ca_pem("During the outage");
        let started = Instant::now();
        let (list, get, project_get, upload, activate) = tokio::join!(
            api.get("/organization/certificates"),
            api.get(&cert_path),
            api.get(&project_path),
            api.upload(&pem),
            api.post(
                "/organization/certificates/activate",
                json!({"certificate_ids": [kept]}),
            ),
        );
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "round {round}: {took:?}");
        for reply in [list, get, project_get, upload, activate] {
            assert_envelope(&reply, 503, "server_error", None);
            let message = reply.body["error"]["message"].as_str().unwrap();
            for internal in [
                "sqlx",
                "refused",
                "5432",
                "postgres",
                "PoolTimedOut",
                "os error",
            ] {
                assert!(!message.contains(internal), "{message}");
            }
        }
    }

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let reply = api.get("/organization/certificates").await;
        if reply.status == 200 {
            break reply;
        }
        assert_envelope(&reply, 503, "server_error", None);
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(listed.body["data"][0]["id"], kept.as_str());
    api.upload_new("After the outage").await;
    let log = instance.log();
    assert!(log.contains("storage unavailable"), "{log}");
    assert!(
        !log.contains("sekret-pw-0451"),
        "the password never reaches the log"
    );
}

#[test]
fn an_unreachable_database_is_a_clear_start_up_error_without_the_password() {
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "DATABASE_URL",
            "postgres://orgcerts:sekret-pw-0451@127.0.0.1:1/certs",
        )
        .env("ORGCERTS_DB_CONNECT_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to PostgreSQL at orgcerts@127.0.0.1:1/certs"),
        "{stderr}"
    );
    assert!(!stderr.contains("sekret-pw-0451"), "{stderr}");
}
