//! Runs the real `orgcerts` binary against a server.
//!
//! `start_server()` starts the real `orgcerts serve` on a free port with a fresh database and a
//! provisioned admin key. A test that needs the server to fail on purpose, or to see what the
//! command line sent, puts the fault-injecting proxy in front of it: `proxy(start_server())`.

#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub use orgcerts_testkit::{Running, TestServer, ca_pem as anchor, closed_port};
pub use orgcerts_testproxy::{Fault, Proxy, proxy};

/// The real `orgcerts serve` on a free port, over a fresh database (SQLite, or PostgreSQL with
/// `ORGCERTS_TEST_ENGINE=postgres`), stopped when dropped.
pub fn start_server() -> impl TestServer {
    let database = orgcerts_testkit::database::TestDatabase::fresh();
    let (mut child, addr, key) = spawn_serve(&database.url());
    Running::new(format!("http://{addr}/v1"), key, move || {
        let _ = child.kill();
        let _ = child.wait();
        drop(database);
    })
}

/// The real `orgcerts serve` on a free port over `database`, which outlives it (other processes,
/// a gateway say, may share the database); stopped when dropped.
pub fn start_server_on(database: &orgcerts_testkit::database::TestDatabase) -> Running {
    let (mut child, addr, key) = spawn_serve(&database.url());
    Running::new(format!("http://{addr}/v1"), key, move || {
        let _ = child.kill();
        let _ = child.wait();
    })
}

/// The admin key `orgcerts serve` provisions on a fresh database in these tests.
pub const BOOTSTRAP_ADMIN_KEY: &str = "sk-admin-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL";

/// Starts `orgcerts serve` on `database_url` and waits for its `listening` line: the child, the
/// address it listens on, and its admin key.
fn spawn_serve(database_url: &str) -> (std::process::Child, String, String) {
    use std::io::BufRead;
    let key = BOOTSTRAP_ADMIN_KEY.to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgcerts"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("DATABASE_URL", database_url)
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
    (child, addr, key)
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
