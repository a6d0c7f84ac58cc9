//! Crash safety: the real `orgcerts serve` is killed with SIGKILL in the middle of a storm of
//! uploads, renames, activations, deactivations and deletes, restarted on the same database,
//! and checked: every acknowledged write is there, nothing is half-applied.
//!
//! Bookkeeping that is exact yet sound. Each client task of the storm owns a disjoint set of
//! certificates (its share of the live ones, and what it uploads) and sends one request at a
//! time, so the history of every certificate is sequential and the client knows its state for
//! certain after each answered request; it even predicts every answer but the shared limit. The
//! only thing it cannot know is whether its one request in flight when the server died was
//! applied. After the restart each client's certificates must therefore be in exactly one of
//! two states: the one its acknowledged requests left, or that state with the lost request
//! applied as a whole. Nothing else is accepted: a lost activation applied to some of its
//! certificates, a certificate nobody uploaded, an acknowledged delete undone.
//!
//! `ORGCERTS_CRASH_ROUNDS` (default 8) sets the number of kills; `ORGCERTS_CRASH_SEED` replays
//! a run's choices (the interleaving of the clients still varies); `ORGCERTS_TEST_ENGINE` picks
//! the database engine (see [`database`]).

#[path = "crash/check.rs"]
mod check;
#[path = "crash/storm.rs"]
mod storm;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use check::State;
use storm::Api;

const BIN: &str = env!("CARGO_BIN_EXE_orgcerts");
/// Small, so that the storm runs into the per-organization maximum.
pub const MAX_CERTIFICATES: usize = 12;
/// Client tasks of the storm.
pub const CLIENTS: usize = 4;
/// Projects 0 and 1 are active; project 2 is archived, with certificates still active in it.
pub const PROJECTS: usize = 3;
pub const ARCHIVED_PROJECT: usize = 2;

/// Where the rounds keep their data: one database for the whole test, so that every round also
/// recovers from the crashes of the rounds before it. SQLite, or a fresh PostgreSQL schema with
/// `ORGCERTS_TEST_ENGINE=postgres`.
struct Database {
    url: String,
    /// Holds the database (SQLite file or PostgreSQL schema) as long as the test runs.
    _store: orgcerts_testkit::database::TestDatabase,
    /// Holds the servers' logs.
    dir: tempfile::TempDir,
}

/// The one place that picks the engine; everything else in this test is engine-agnostic: the
/// server is started with a database URL and restarted on the same URL.
fn database() -> Database {
    let database = orgcerts_testkit::database::TestDatabase::fresh();
    Database {
        url: database.url(),
        _store: database,
        dir: tempfile::tempdir().expect("tempdir"),
    }
}

/// A running `orgcerts serve`, killed (never stopped gracefully) when dropped.
pub struct Served {
    child: Child,
    pub addr: String,
    log: PathBuf,
}

impl Served {
    fn start(db: &Database, key: &str, n: usize) -> Self {
        let log = db.dir.path().join(format!("server-{n}.log"));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--rate-limit-per-minute", "0"])
            .args(["--max-certificates-per-org", &MAX_CERTIFICATES.to_string()])
            .env("DATABASE_URL", &db.url)
            .env("ORGCERTS_BOOTSTRAP_ADMIN_KEY", key)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn orgcerts serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let addr = text.lines().find_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                (v["fields"]["message"] == "listening")
                    .then(|| v["fields"]["addr"].as_str().map(str::to_owned))?
            });
            if let Some(addr) = addr {
                return Self { child, addr, log };
            }
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                panic!("orgcerts serve did not start; its log:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL: no shutdown code runs, whatever was in flight is cut off.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    /// The last lines of this server's log, for a failure message.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v}: expected a number"))
    })
}

/// Creates the projects and, in the project that is then archived, activates two certificates:
/// deactivation stays allowed there, activation does not, and they cannot be deleted until it.
async fn set_up(api: &Api, pems: &mut check::Pems) -> Vec<String> {
    let mut projects = Vec::new();
    for i in 0..PROJECTS {
        let reply = api
            .expect_ok(
                "POST",
                "/organization/projects",
                json!({ "name": format!("project {i}") }),
            )
            .await;
        projects.push(reply["id"].as_str().expect("project id").to_owned());
    }
    let mut ids = Vec::new();
    for i in 0..2 {
        let pem = orgcerts_testkit::ca_pem(&format!("set-up {i}"));
        let reply = api
            .expect_ok(
                "POST",
                "/organization/certificates",
                json!({ "certificate": pem, "name": format!("set-up {i}") }),
            )
            .await;
        let id = reply["id"].as_str().expect("certificate id").to_owned();
        pems.insert(id.clone(), pem);
        ids.push(id);
    }
    let archived = &projects[ARCHIVED_PROJECT];
    api.expect_ok(
        "POST",
        &format!("/organization/projects/{archived}/certificates/activate"),
        json!({ "certificate_ids": ids }),
    )
    .await;
    api.expect_ok(
        "POST",
        &format!("/organization/projects/{archived}/archive"),
        json!({}),
    )
    .await;
    projects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_nothing_is_half_applied() {
    let db = database();
    let rounds = env_number("ORGCERTS_CRASH_ROUNDS", 8);
    let seed = env_number("ORGCERTS_CRASH_SEED", rand::rng().random());
    eprintln!(
        "crash test: {rounds} rounds, ORGCERTS_CRASH_SEED={seed}, {}",
        db.url
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let key = format!("sk-admin-{}", orgcerts_core::ids::random_base62(48));
    let started = Instant::now();

    let mut pems = check::Pems::new();
    let mut projects = Vec::new();
    let mut previous: Option<storm::Storm> = None;
    let mut totals = storm::Totals::default();
    for round in 0..=rounds {
        let mut served = Served::start(&db, &key, usize::try_from(round).unwrap());
        let api = Api::new(&served.addr, &key);
        if round == 0 {
            projects = set_up(&api, &mut pems).await;
        }
        let state: State = match previous.take() {
            None => check::observe(&api, &projects)
                .await
                .unwrap_or_else(|e| panic!("set-up state: {e}")),
            Some(storm) => {
                let (state, lost_applied) =
                    check::after_restart(&api, &projects, &storm, &mut pems)
                        .await
                        .unwrap_or_else(|e| {
                            panic!(
                                "round {round}, after the restart (ORGCERTS_CRASH_SEED={seed}): {e}\nlog of the restarted server:\n{}",
                                served.log_tail()
                            )
                        });
                totals.lost_applied += lost_applied;
                state
            }
        };
        if round == rounds {
            break;
        }
        let tag = format!("r{round}");
        let storm = storm::run(&api, &mut served, &state, &projects, &tag, &mut rng).await;
        if let Some(failure) = storm.failures.first() {
            panic!(
                "round {round}, during the storm (ORGCERTS_CRASH_SEED={seed}): {failure}\nlog:\n{}",
                served.log_tail()
            );
        }
        totals.add(&storm);
        previous = Some(storm);
    }
    eprintln!(
        "crash test: {rounds} kills, {} answered requests ({:?} changed something), {} lost in flight, {} of them found applied, {:.1?}",
        totals.acknowledged,
        totals.applied,
        totals.lost,
        totals.lost_applied,
        started.elapsed()
    );
    assert!(totals.acknowledged > 0, "the storms did something");
}
