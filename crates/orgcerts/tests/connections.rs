//! The real `orgcerts serve` under a low open-file limit: the soft limit is raised to the hard
//! one at start, connections are capped below it, and while idle connections hold the cap,
//! normal requests are still answered and nothing fails for want of descriptors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use orgcerts_testkit::database::TestDatabase;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_orgcerts");

/// Kills the server however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn idle_connections_at_the_cap_leave_normal_requests_answered() {
    let database = TestDatabase::fresh();
    let key = format!("sk-admin-{}", "c".repeat(48));
    // Soft limit 300, hard limit 600: raised to 600 at start, so the cap is 600 less the
    // headroom of 256 (at a soft limit of 300 it would have been 75).
    let mut child = Command::new("prlimit")
        .args(["--nofile=300:600", "--", BIN, "serve"])
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--header-read-timeout-secs", "1"])
        .env("DATABASE_URL", database.url())
        .env("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &key)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prlimit orgcerts serve");
    let stderr = child.stderr.take().expect("stderr");
    let _server = Killed(child);
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let listening = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a listening line");
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["fields"]["message"] == "listening"
        {
            break v;
        }
    };
    let cap = listening["fields"]["max_connections"]
        .as_u64()
        .expect("cap logged");
    assert_eq!(cap, 600 - 256, "{listening}");
    let addr = listening["fields"]["addr"].as_str().unwrap().to_owned();

    // More idle connections than the cap, and more than even the hard limit: without the cap,
    // accepting them would run the server out of descriptors.
    let mut idle = Vec::new();
    for _ in 0..700 {
        idle.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    for n in 0..3 {
        let created = http
            .post(format!("http://{addr}/v1/organization/projects"))
            .bearer_auth(&key)
            .json(&json!({"name": format!("during the flood {n}")}))
            .send()
            .await
            .expect("answered while the cap holds");
        assert_eq!(created.status().as_u16(), 200);
        let listed = http
            .get(format!("http://{addr}/v1/organization/projects"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("answered while the cap holds");
        assert_eq!(listed.status().as_u16(), 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
    // The log is written in batches; give the last one time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log: Vec<String> = lines.try_iter().collect();
    let failures: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("accept failed") || l.contains("\"ERROR\""))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
