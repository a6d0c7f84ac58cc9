//! Runs the real `orgcerts` binary against a server.
//!
//! `start_server()` is the one place that decides which server: today the in-memory fake from
//! orgcerts-fake; once the real server is on this branch, it starts `orgcerts serve` on a free
//! port with a fresh database and a provisioned admin key instead. Tests that need the server
//! to fail on purpose call `start_fake()` and keep the fake.

#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub use orgcerts_fake::{FakeServer, Fault, TestServer};
use orgcerts_testkit::CertSpec;

/// The real `orgcerts serve` on a free port, over a fresh database (SQLite, or PostgreSQL with
/// `ORGCERTS_TEST_ENGINE=postgres`), stopped when dropped.
pub struct RealServer {
    child: std::process::Child,
    base_url: String,
    key: String,
    _database: orgcerts_testkit::database::TestDatabase,
}

impl TestServer for RealServer {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }
    fn admin_key(&self) -> &str {
        &self.key
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server the behavioural tests run against. Only [`TestServer`] is visible, so a test
/// that needs the fake's controls must ask for `start_fake()`.
pub fn start_server() -> impl TestServer {
    use std::io::BufRead;
    let database = orgcerts_testkit::database::TestDatabase::fresh();
    let key = format!(
        "sk-admin-{}",
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgcerts"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("DATABASE_URL", database.url())
        .env("ORGCERTS_BOOTSTRAP_ADMIN_KEY", &key)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orgcerts serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("a listening line").expect("a log line");
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if value["fields"]["message"] == "listening" {
            break value["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    RealServer {
        child,
        base_url: format!("http://{addr}/v1"),
        key,
        _database: database,
    }
}

/// A server that can be told to fail: always the fake.
pub fn start_fake() -> FakeServer {
    FakeServer::start()
}

/// What a run of the binary left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        self.stdout
    }
}

/// `orgcerts` with the connection taken from the environment, as a user would set it, and
/// nothing else of the caller's environment that could change the output.
pub fn orgcerts(base_url: &str, admin_key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgcerts"));
    command
        .env_clear()
        .env("OPENAI_BASE_URL", base_url)
        .env("OPENAI_ADMIN_KEY", admin_key)
        .env("NO_COLOR", "1");
    command
}

/// Runs `args` against `server`.
pub fn run(server: &impl TestServer, args: &[&str]) -> Run {
    run_command(
        orgcerts(&server.base_url(), server.admin_key()).args(args),
        None,
    )
}

/// Runs `args` against `server` with `input` on standard input.
pub fn run_with_stdin(server: &impl TestServer, args: &[&str], input: &str) -> Run {
    run_command(
        orgcerts(&server.base_url(), server.admin_key()).args(args),
        Some(input),
    )
}

pub fn run_command(command: &mut Command, input: Option<&str>) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn orgcerts");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    drop(stdin);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for orgcerts");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    }
}

/// A fresh, valid CA anchor in PEM.
pub fn anchor(name: &str) -> String {
    CertSpec::ca(name).mint().cert_pem
}

/// Uploads an anchor from stdin with the CLI and returns the new id.
pub fn upload(server: &impl TestServer, name: &str) -> String {
    let out = run_with_stdin(
        server,
        &["certs", "upload", "-", "--name", name, "--json"],
        &anchor(name),
    )
    .ok();
    json(&out)["id"].as_str().expect("an id").to_owned()
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
