//! The real `orgcerts` binary: first-start bootstrap, operator commands against a running
//! server's database, graceful shutdown, and what the logs must never contain.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_orgcerts");

struct Served {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

/// Starts `orgcerts serve` on a free port and waits for its "listening" log line.
fn serve(db_url: &str, envs: &[(&str, &str)]) -> Served {
    serve_with(db_url, &[], envs)
}

/// Like [`serve`], with extra arguments.
fn serve_with(db_url: &str, args: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("ORGCERTS_BOOTSTRAP_ADMIN_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn orgcerts serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listening line; log so far: {log:#?}");
        };
        log.push(line.clone());
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["fields"]["message"] == "listening"
        {
            let addr = v["fields"]["addr"].as_str().expect("addr").to_owned();
            return Served {
                child,
                addr,
                lines: rx,
                log,
            };
        }
    }
}

impl Drop for Served {
    /// A test that fails midway still leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Served {
    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The `addr` field of the first log line with this message.
    fn logged_addr(&self, message: &str) -> Option<String> {
        self.log.iter().find_map(|line| {
            let v: Value = serde_json::from_str(line).ok()?;
            (v["fields"]["message"] == message)
                .then(|| v["fields"]["addr"].as_str().map(str::to_owned))?
        })
    }

    /// Sends SIGTERM, waits for a clean exit, and returns the whole log.
    fn stop(mut self) -> Vec<String> {
        let mut log = std::mem::take(&mut self.log);
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
        // The reader thread ends at end of file, once the exited child's stderr is drained.
        log.extend(self.lines.iter());
        log
    }
}

fn run(args: &[&str], db_url: &str) -> Value {
    let out = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db_url)
        .output()
        .expect("run orgcerts");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

async fn status_with(base: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/organization/certificates"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn first_start_prints_a_working_key_once_and_operator_commands_work_alongside() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}/nested/dir/orgcerts.sqlite3",
        dir.path().display()
    );
    let served = serve(&db, &[]);
    let key = served
        .log
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("sk-admin-")
                .map(|rest| format!("sk-admin-{rest}"))
        })
        .expect("the bootstrap key is printed on stderr");
    assert_eq!(status_with(&served.base(), &key).await, 200);

    // Operator commands on the same database while the server runs.
    let created = run(&["organization", "create", "--name", "Acme"], &db);
    let org = created["organization_id"].as_str().unwrap().to_owned();
    let acme_key = created["admin_key"].as_str().unwrap().to_owned();
    assert!(org.starts_with("org-"));
    assert_eq!(status_with(&served.base(), &acme_key).await, 200);

    let second = run(
        &[
            "admin-key",
            "create",
            "--organization",
            &org,
            "--name",
            "ci",
        ],
        &db,
    );
    let second_key = second["admin_key"].as_str().unwrap().to_owned();
    assert_eq!(status_with(&served.base(), &second_key).await, 200);

    let listed = run(&["admin-key", "list", "--organization", &org], &db);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for k in listed {
        assert!(k.get("admin_key").is_none(), "listing never shows secrets");
        assert!(k["redacted_value"].as_str().unwrap().contains("****"));
    }

    let key_id = second["id"].as_str().unwrap();
    let revoked = run(
        &["admin-key", "revoke", "--organization", &org, key_id],
        &db,
    );
    assert!(revoked["revoked_at"].is_i64());
    assert_eq!(status_with(&served.base(), &second_key).await, 401);
    assert_eq!(status_with(&served.base(), &acme_key).await, 200);

    let log = served.stop();
    let joined = log.join("\n");
    assert!(joined.contains("\"stopped\""), "{joined}");
    // Apart from the one bootstrap banner, no key ever reaches the log.
    let banner_lines = log.iter().filter(|l| l.contains("sk-admin-")).count();
    assert_eq!(banner_lines, 1, "{joined}");
    assert!(!joined.contains(&acme_key) && !joined.contains(&second_key));
    // One structured line per request, with its request id.
    let request_lines: Vec<Value> = log
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request")
        .collect();
    assert_eq!(request_lines.len(), 5);
    for line in &request_lines {
        let id = line["fields"]["request_id"].as_str().unwrap();
        assert!(
            id.len() == 36
                && id.starts_with("req_")
                && id[4..]
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{id}"
        );
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["method"], "GET");
        assert_eq!(line["fields"]["path"], "/v1/organization/certificates");
        assert!(line["fields"]["status"].is_u64());
        assert!(line["fields"]["latency_us"].is_u64());
    }
}

/// `last_used_at` is written in batches, not by the requests: while the server runs, the
/// database holds none of the uses yet (the API merges them in), and a graceful stop writes them.
#[tokio::test]
async fn key_use_is_written_in_a_batch_and_at_shutdown_not_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/orgcerts.sqlite3", dir.path().display());
    let key = format!("sk-admin-{}", "u".repeat(48));
    let served = serve(
        &db,
        &[
            ("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &key),
            // No periodic write during the test: only the one at shutdown.
            ("ORGCERTS_KEY_USE_FLUSH_SECS", "3600"),
        ],
    );
    for _ in 0..5 {
        assert_eq!(status_with(&served.base(), &key).await, 200);
    }
    let orgs = run(&["organization", "list"], &db);
    let org = orgs[0]["id"].as_str().unwrap().to_owned();
    let stored = run(&["admin-key", "list", "--organization", &org], &db);
    assert_eq!(stored[0]["last_used_at"], Value::Null, "{stored}");
    let listed: Value = reqwest::Client::new()
        .get(format!("{}/organization/admin_api_keys", served.base()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let used_at = listed["data"][0]["last_used_at"]
        .as_i64()
        .expect("merged in");

    served.stop();
    let stored = run(&["admin-key", "list", "--organization", &org], &db);
    assert_eq!(
        stored[0]["last_used_at"].as_i64(),
        Some(used_at),
        "{stored}"
    );
}

#[tokio::test]
async fn the_bootstrap_key_variable_is_used_on_an_empty_database_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/orgcerts.sqlite3", dir.path().display());
    let chosen = format!("sk-admin-{}", "k".repeat(48));
    let served = serve(&db, &[("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &chosen)]);
    assert_eq!(status_with(&served.base(), &chosen).await, 200);
    let log = served.stop();
    assert!(
        !log.join("\n").contains(&chosen),
        "a chosen key is not echoed"
    );

    // Restarted with another key: the database has an organization, so nothing changes.
    let other = format!("sk-admin-{}", "z".repeat(48));
    let served = serve(&db, &[("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &other)]);
    assert_eq!(status_with(&served.base(), &chosen).await, 200);
    assert_eq!(status_with(&served.base(), &other).await, 401);
    served.stop();

    // A malformed bootstrap key on an empty database is a clear start-up error.
    let empty = format!("sqlite://{}/empty.sqlite3", dir.path().display());
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &empty)
        .env("ORGCERTS_BOOTSTRAP_ADMIN_KEY", "not-a-key")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ORGCERTS_BOOTSTRAP_ADMIN_KEY"));
}

#[test]
fn an_unknown_database_scheme_is_a_clear_start_up_error() {
    let out = Command::new(BIN)
        .args(["serve", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sqlite"),
        "names the accepted schemes: {stderr}"
    );
}

#[tokio::test]
async fn tls_serves_http2_and_http1_to_a_real_client() {
    let dir = tempfile::tempdir().unwrap();
    let identity = orgcerts_testkit::tls_server(&["localhost"]);
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, &identity.cert_pem).unwrap();
    std::fs::write(&key, &identity.key_pem).unwrap();
    let admin_key = format!("sk-admin-{}", "t".repeat(48));
    let db = format!("sqlite://{}/orgcerts.sqlite3", dir.path().display());
    let served = serve_with(
        &db,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &[("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &admin_key)],
    );
    let port = served.addr.rsplit(':').next().unwrap().to_owned();
    let url = format!("https://localhost:{port}/v1/organization/certificates");
    let ca = reqwest::Certificate::from_pem(identity.ca_pem.as_bytes()).unwrap();

    let h2 = reqwest::Client::builder()
        .add_root_certificate(ca.clone())
        .build()
        .unwrap();
    let response = h2.get(&url).bearer_auth(&admin_key).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status().as_u16(), 200);

    let h1 = reqwest::Client::builder()
        .add_root_certificate(ca)
        .http1_only()
        .build()
        .unwrap();
    let response = h1.get(&url).bearer_auth(&admin_key).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.status().as_u16(), 200);

    // Plain HTTP on the TLS port gets nothing useful, and the server keeps serving.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    let response = h2.get(&url).bearer_auth(&admin_key).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    served.stop();
}

#[tokio::test]
async fn metrics_can_have_their_own_listener_and_the_bootstrap_key_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let admin_key = format!("sk-admin-{}", "f".repeat(48));
    let key_file = dir.path().join("bootstrap.key");
    std::fs::write(&key_file, format!("{admin_key}\n")).unwrap();
    let db = format!("sqlite://{}/orgcerts.sqlite3", dir.path().display());
    let served = serve_with(
        &db,
        &[
            "--metrics-listen",
            "127.0.0.1:0",
            "--bootstrap-admin-key-file",
            key_file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(status_with(&served.base(), &admin_key).await, 200);
    let metrics_addr = served
        .logged_addr("metrics listening")
        .expect("metrics address logged");
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("orgcerts_http_requests_total")
    );
    let ready = reqwest::get(format!("http://{metrics_addr}/readyz"))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    // Not on the API listener.
    let api_metrics = reqwest::get(format!("http://{}/metrics", served.addr))
        .await
        .unwrap();
    assert_eq!(api_metrics.status().as_u16(), 404);
    // Health stays on the API listener as well, for load balancers.
    for path in ["/healthz", "/readyz"] {
        let health = reqwest::get(format!("http://{}{path}", served.addr))
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200, "{path} on the API listener");
    }
    let log = served.stop();
    assert!(
        !log.join("\n").contains(&admin_key),
        "the key from the file is not echoed"
    );
}

#[tokio::test]
async fn metrics_are_served_nowhere_without_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/orgcerts.sqlite3", dir.path().display());
    let served = serve(&db, &[]);
    assert!(served.logged_addr("metrics listening").is_none());
    let metrics = reqwest::get(format!("http://{}/metrics", served.addr))
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 404);
    let health = reqwest::get(format!("http://{}/healthz", served.addr))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    served.stop();
}
