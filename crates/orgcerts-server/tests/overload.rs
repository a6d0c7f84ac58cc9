//! SQLite under overload answers as PostgreSQL does when its pool runs dry: a write that the
//! writer thread cannot start within the acquire timeout is answered 503 with the
//! `server_error` envelope and is never committed; reads go on meanwhile; once the writer is
//! free again, so is the server.

mod common;

use std::time::{Duration, Instant};

use common::{Options, Reply, TestServer, ca_pem};
use futures_util::future::join_all;
use orgcerts_testkit::database::engine_is_postgres;
use reqwest::StatusCode;
use serde_json::json;

const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(300);
const FLOOD: usize = 40;

async fn upload(server: &TestServer, name: &str) -> Reply {
    server
        .post(
            "/organization/certificates",
            json!({"certificate": ca_pem(name), "name": name}),
        )
        .await
}

fn ids(list: &Reply) -> Vec<String> {
    list.ok()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The writer held by another connection's `BEGIN IMMEDIATE` on the file (as the operator's
/// command line may hold it): a flood of uploads is answered 503 within about the acquire
/// timeout, not after SQLite's busy timeout (5 s); reads are answered all along; none of the
/// refused uploads is committed; and uploads succeed again once the lock is released.
///
/// One Tokio worker serves both the server and the test: anything that blocked it on SQLite
/// (a read of the change token running SQL, a wait for the writer) would stall every request.
#[tokio::test(flavor = "current_thread")]
async fn a_held_writer_gives_503s_reads_keep_working_and_the_server_recovers() {
    if engine_is_postgres() {
        eprintln!("SQLite only: the writer is held through the database file");
        return;
    }
    let server = TestServer::start_with(Options {
        store: orgcerts_store::OpenOptions {
            acquire_timeout: ACQUIRE_TIMEOUT,
            ..orgcerts_store::OpenOptions::default()
        },
        ..Options::default()
    })
    .await;
    let kept = server.upload_id("Before the flood").await;
    let path = server
        .db_url
        .strip_prefix("sqlite://")
        .expect("an SQLite URL");
    let holder = rusqlite::Connection::open(path).expect("open the database file");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");

    let started = Instant::now();
    let names: Vec<String> = (0..FLOOD).map(|i| format!("Flood {i}")).collect();
    let flood = join_all(names.iter().map(|name| upload(&server, name))).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    for reply in &flood {
        let message = reply.assert_error(503, None, None);
        assert_eq!(
            reply.body["error"]["type"], "server_error",
            "{}",
            reply.body
        );
        assert!(message.contains("temporarily"), "{message}");
        for internal in ["SQLite", "sqlite", "queue", "locked", "ms"] {
            assert!(!message.contains(internal), "{message}");
        }
        // The same headers as PostgreSQL's 503: a request id, and nothing that tells the
        // official SDKs not to retry.
        assert!(reply.header("x-request-id").is_some());
        assert!(reply.header("openai-processing-ms").is_some());
        assert!(reply.header("x-ratelimit-remaining-requests").is_some());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.header("x-should-retry").is_none());
        assert!(reply.header("retry-after").is_none());
    }

    // Reads are served from the reader threads meanwhile.
    let list = server.get("/organization/certificates?limit=100").await;
    assert_eq!(ids(&list), std::slice::from_ref(&kept));
    server
        .get(&format!("/organization/certificates/{kept}"))
        .await
        .ok();

    holder.execute_batch("COMMIT").expect("release the lock");
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let reply = upload(&server, "After the flood").await;
        if reply.status == StatusCode::OK {
            break reply.body["id"].as_str().expect("id").to_owned();
        }
        reply.assert_error(503, None, None);
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Nothing that was answered 503 was committed.
    let list = server.get("/organization/certificates?limit=100").await;
    assert_eq!(ids(&list), [after, kept]);
}
