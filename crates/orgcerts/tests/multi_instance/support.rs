//! Real `orgcerts serve` processes on one PostgreSQL schema, and HTTP helpers to drive them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_orgcerts");

/// The admin key every instance bootstraps the (one) organization with.
pub fn bootstrap_key() -> String {
    format!("sk-admin-{}", "m".repeat(48))
}

/// One `orgcerts serve` process; killed when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// Starts `orgcerts serve` on a free port with `args` after the defaults, without waiting.
fn spawn(db_url: &str, args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("ORGCERTS_BOOTSTRAP_ADMIN_KEY", bootstrap_key())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orgcerts serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

impl Instance {
    /// Starts several instances at once on one database and waits until each listens.
    pub fn start_together(db_url: &str, count: usize, args: &[&str]) -> Vec<Instance> {
        let spawned: Vec<_> = (0..count).map(|_| spawn(db_url, args)).collect();
        spawned
            .into_iter()
            .map(|(child, lines)| Self::wait_listening(child, lines))
            .collect()
    }

    pub fn start(db_url: &str, args: &[&str]) -> Instance {
        let (child, lines) = spawn(db_url, args);
        Self::wait_listening(child, lines)
    }

    fn wait_listening(mut child: Child, lines: std::sync::mpsc::Receiver<String>) -> Instance {
        let log = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = lines.recv_timeout(left) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no listening line; log: {:#?}", log.lock().unwrap());
            };
            log.lock().unwrap().push(line.clone());
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["fields"]["message"] == "listening"
            {
                break v["fields"]["addr"].as_str().expect("addr").to_owned();
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines {
                sink.lock().unwrap().push(line);
            }
        });
        Instance {
            child,
            base: format!("http://{addr}/v1"),
            log,
        }
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// A client for one instance, with the bootstrap key.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(instance: &Instance) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: instance.base.clone(),
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bootstrap_key());
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("every body is JSON, got {status}: {text:?}"));
        Reply { status, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    pub async fn upload(&self, pem: &str) -> Reply {
        self.post(
            "/organization/certificates",
            json!({"certificate": pem, "name": "multi-instance"}),
        )
        .await
    }

    /// Uploads a fresh CA; returns its id.
    pub async fn upload_new(&self, name: &str) -> String {
        let reply = self.upload(&orgcerts_testkit::ca_pem(name)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        id_of(&reply.body)
    }

    pub async fn create_project(&self, name: &str) -> String {
        let reply = self
            .post("/organization/projects", json!({"name": name}))
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        id_of(&reply.body)
    }

    /// Every `(id, active)` of a certificate list, following pages of `limit`.
    pub async fn list_all(&self, list_path: &str, limit: u32, order: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let reply = self
                .get(&format!("{list_path}?limit={limit}&order={order}{after}"))
                .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            for item in reply.body["data"].as_array().expect("data") {
                out.push((id_of(item), item["active"].as_bool().expect("active")));
            }
            if reply.body["has_more"] != true {
                return out;
            }
            after = format!("&after={}", out.last().expect("an item").0);
        }
    }
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}
