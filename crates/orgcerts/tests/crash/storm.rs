//! The storm: client tasks writing concurrently, each over certificates of its own, until the
//! server is killed under them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{ARCHIVED_PROJECT, PROJECTS, Served};

/// Answered requests before the kill, at most (the kill point is drawn below it).
const MAX_OPS_BEFORE_KILL: usize = 300;

/// What the model knows of one live certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    pub name: Option<String>,
    pub org_active: bool,
    /// Indexes of the projects it is active in.
    pub projects: BTreeSet<usize>,
}

impl Cert {
    fn in_use(&self) -> bool {
        self.org_active || !self.projects.is_empty()
    }
}

/// Live certificates by id.
pub type Certs = BTreeMap<String, Cert>;

/// PEM text, left out of debug output.
#[derive(Clone)]
pub struct Pem(pub String);

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<pem>")
    }
}

/// One write of the storm.
#[derive(Debug, Clone)]
pub enum Op {
    Upload {
        name: String,
        pem: Pem,
    },
    Rename {
        id: String,
        name: String,
    },
    /// `project: None` is the organization level; `ids` may repeat an id.
    Toggle {
        project: Option<usize>,
        ids: Vec<String>,
        active: bool,
    },
    Delete {
        id: String,
    },
}

impl Op {
    fn kind(&self) -> &'static str {
        match self {
            Op::Upload { .. } => "upload",
            Op::Rename { .. } => "rename",
            Op::Toggle { .. } => "toggle",
            Op::Delete { .. } => "delete",
        }
    }

    fn request(&self, projects: &[String]) -> (&'static str, String, Option<Value>) {
        match self {
            Op::Upload { name, pem } => (
                "POST",
                "/organization/certificates".to_owned(),
                Some(json!({ "certificate": pem.0, "name": name })),
            ),
            Op::Rename { id, name } => (
                "POST",
                format!("/organization/certificates/{id}"),
                Some(json!({ "name": name })),
            ),
            Op::Toggle {
                project,
                ids,
                active,
            } => {
                let verb = if *active { "activate" } else { "deactivate" };
                let path = match project {
                    None => format!("/organization/certificates/{verb}"),
                    Some(p) => format!(
                        "/organization/projects/{}/certificates/{verb}",
                        projects[*p]
                    ),
                };
                ("POST", path, Some(json!({ "certificate_ids": ids })))
            }
            Op::Delete { id } => ("DELETE", format!("/organization/certificates/{id}"), None),
        }
    }
}

/// Applies a write as the contract says it takes effect when it succeeds; writes the contract
/// refuses (activation in the archived project, deleting a certificate in use) change nothing.
/// `uploaded` is the id an applied upload got.
pub fn apply(certs: &mut Certs, op: &Op, uploaded: Option<&str>) {
    match op {
        Op::Upload { name, .. } => {
            if let Some(id) = uploaded {
                certs.insert(
                    id.to_owned(),
                    Cert {
                        name: Some(name.clone()),
                        org_active: false,
                        projects: BTreeSet::new(),
                    },
                );
            }
        }
        Op::Rename { id, name } => {
            if let Some(cert) = certs.get_mut(id) {
                cert.name = Some(name.clone());
            }
        }
        Op::Toggle {
            project,
            ids,
            active,
        } => {
            if *project == Some(ARCHIVED_PROJECT) && *active {
                return;
            }
            for id in ids {
                let Some(cert) = certs.get_mut(id) else {
                    continue;
                };
                match project {
                    None => cert.org_active = *active,
                    Some(p) if *active => {
                        cert.projects.insert(*p);
                    }
                    Some(p) => {
                        cert.projects.remove(p);
                    }
                }
            }
        }
        Op::Delete { id } => {
            if certs.get(id).is_some_and(|c| !c.in_use()) {
                certs.remove(id);
            }
        }
    }
}

/// HTTP to one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

/// What became of a request.
pub enum Outcome {
    Answered {
        status: u16,
        body: Value,
    },
    /// No complete answer: the request may or may not have been applied.
    Lost(String),
}

impl Api {
    pub fn new(addr: &str, key: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("HTTP client"),
            base: format!("http://{addr}/v1"),
            key: key.to_owned(),
        }
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Outcome {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return Outcome::Lost(err.to_string()),
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(body) => Outcome::Answered { status, body },
                Err(_) => Outcome::Answered {
                    status,
                    body: Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                },
            },
            Err(err) => Outcome::Lost(err.to_string()),
        }
    }

    /// A request that must be answered (the server is up).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        match self.send(method, path, body).await {
            Outcome::Answered { status, body } => Ok((status, body)),
            Outcome::Lost(err) => Err(format!("{method} {path}: no answer: {err}")),
        }
    }

    /// A request that must succeed; its body.
    pub async fn expect_ok(&self, method: &str, path: &str, body: Value) -> Value {
        match self.call(method, path, Some(body)).await {
            Ok((200, body)) => body,
            other => panic!("{method} {path}: {other:?}"),
        }
    }
}

/// What one client did.
#[derive(Debug, Default)]
pub struct ClientRun {
    /// Its certificates as its answered requests left them.
    pub certs: Certs,
    /// The request in flight when the server died, if any.
    pub lost: Option<Op>,
    /// Certificates it deleted, with an answer.
    pub deleted: Vec<String>,
    /// Certificates it uploaded, with an answer: (id, PEM).
    pub uploaded: Vec<(String, Pem)>,
    /// Answered requests, and those of them that changed something.
    pub answered: usize,
    pub applied: BTreeMap<&'static str, usize>,
    /// An answer other than the one predicted.
    pub failure: Option<String>,
}

/// A storm and its end.
#[derive(Debug)]
pub struct Storm {
    pub clients: Vec<ClientRun>,
    pub failures: Vec<String>,
}

/// Counts over every round, for the closing line.
#[derive(Debug, Default)]
pub struct Totals {
    pub acknowledged: usize,
    pub lost: usize,
    pub lost_applied: usize,
    pub applied: BTreeMap<&'static str, usize>,
}

impl Totals {
    pub fn add(&mut self, storm: &Storm) {
        for run in &storm.clients {
            self.acknowledged += run.answered;
            self.lost += usize::from(run.lost.is_some());
            for (kind, n) in &run.applied {
                *self.applied.entry(kind).or_default() += n;
            }
        }
    }
}

/// Runs the storm from `state`, kills the server at a random point, and returns what each
/// client knows.
pub async fn run(
    api: &Api,
    served: &mut Served,
    state: &Certs,
    projects: &[String],
    tag: &str,
    rng: &mut StdRng,
) -> Storm {
    // Deal the live certificates out to the clients.
    let mut ids: Vec<&String> = state.keys().collect();
    ids.shuffle(rng);
    let clients = crate::CLIENTS;
    let mut owned = vec![Certs::new(); clients];
    for (i, id) in ids.into_iter().enumerate() {
        owned[i % clients].insert(id.clone(), state[id].clone());
    }
    let completed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (c, certs) in owned.into_iter().enumerate() {
        let client = Client {
            api: api.clone(),
            projects: projects.to_vec(),
            rng: StdRng::seed_from_u64(rng.random()),
            completed: Arc::clone(&completed),
            names: format!("{tag}c{c}n"),
            run: ClientRun {
                certs,
                ..ClientRun::default()
            },
        };
        tasks.push(tokio::spawn(client.run()));
    }

    let kill_after = rng.random_range(1..=MAX_OPS_BEFORE_KILL);
    let jitter = Duration::from_micros(rng.random_range(0..3000));
    let deadline = Instant::now() + Duration::from_secs(20);
    while completed.load(Ordering::SeqCst) < kill_after
        && Instant::now() < deadline
        && !tasks.iter().all(tokio::task::JoinHandle::is_finished)
    {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    tokio::time::sleep(jitter).await;
    served.kill();

    let mut storm = Storm {
        clients: Vec::new(),
        failures: Vec::new(),
    };
    for task in tasks {
        let run = task.await.expect("client task");
        if let Some(failure) = &run.failure {
            storm.failures.push(failure.clone());
        }
        storm.clients.push(run);
    }
    storm
}

struct Client {
    api: Api,
    projects: Vec<String>,
    rng: StdRng,
    completed: Arc<AtomicUsize>,
    names: String,
    run: ClientRun,
}

impl Client {
    async fn run(mut self) -> ClientRun {
        // Bounded even if the kill never came: then the storm ends, the test fails on time.
        for n in 0..5_000 {
            let op = self.choose(n);
            let (method, path, body) = op.request(&self.projects);
            match self.api.send(method, &path, body).await {
                Outcome::Lost(_) => {
                    self.run.lost = Some(op);
                    break;
                }
                Outcome::Answered { status, body } => {
                    if let Err(failure) = self.answered(&op, status, &body) {
                        self.run.failure = Some(format!(
                            "{method} {path} ({op:?}) answered {status}: {failure}; body {body}"
                        ));
                        break;
                    }
                    self.completed.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        self.run
    }

    fn choose(&mut self, n: usize) -> Op {
        let rng = &mut self.rng;
        let ids: Vec<String> = self.run.certs.keys().cloned().collect();
        let roll = rng.random_range(0..100);
        if ids.is_empty() || roll < 25 {
            let name = format!("{}{n}", self.names);
            let pem = Pem(orgcerts_testkit::ca_pem(&name));
            return Op::Upload { name, pem };
        }
        let some_id = ids.choose(rng).expect("not empty").clone();
        match roll {
            25..40 => Op::Rename {
                id: some_id,
                name: format!("{}{n}", self.names),
            },
            40..80 => {
                let count = rng.random_range(1..=ids.len().min(4));
                let mut chosen: Vec<String> = ids.choose_multiple(rng, count).cloned().collect();
                if rng.random_bool(0.1) {
                    chosen.push(chosen[0].clone());
                }
                Op::Toggle {
                    project: rng.random_bool(0.6).then(|| rng.random_range(0..PROJECTS)),
                    ids: chosen,
                    // Deactivate more often than activate, so that deletes get through.
                    active: rng.random_bool(0.4),
                }
            }
            _ => {
                let idle: Vec<&String> = self
                    .run
                    .certs
                    .iter()
                    .filter(|(_, c)| !c.in_use())
                    .map(|(id, _)| id)
                    .collect();
                let id = match idle.choose(rng) {
                    Some(id) if rng.random_bool(0.8) => (*id).clone(),
                    _ => some_id,
                };
                Op::Delete { id }
            }
        }
    }

    /// Checks an answer against the prediction and applies what it acknowledged.
    fn answered(&mut self, op: &Op, status: u16, body: &Value) -> Result<(), String> {
        let certs = &self.run.certs;
        let error = |status_wanted: u16, param: &str, code: Option<&str>| {
            let e = &body["error"];
            if status == status_wanted && e["param"] == param && e["code"] == json!(code) {
                Ok(())
            } else {
                Err(format!("expected {status_wanted} {param} {code:?}"))
            }
        };
        let mut uploaded = None;
        let changed = match op {
            Op::Upload { name, pem } => {
                if status == 400 && body["error"]["code"] == "certificate_limit_exceeded" {
                    false
                } else if status == 200 && body["name"] == name.as_str() {
                    let id = body["id"].as_str().ok_or("no id")?.to_owned();
                    self.run.uploaded.push((id.clone(), pem.clone()));
                    uploaded = Some(id);
                    true
                } else {
                    return Err("expected 200, or 400 certificate_limit_exceeded".into());
                }
            }
            Op::Rename { name, .. } => {
                if status != 200 || body["name"] != name.as_str() {
                    return Err("expected 200 with the new name".into());
                }
                true
            }
            Op::Toggle {
                project,
                ids,
                active,
            } => {
                if *project == Some(ARCHIVED_PROJECT) && *active {
                    error(400, "project_id", None)?;
                    false
                } else {
                    let mut unique: Vec<&String> = Vec::new();
                    for id in ids {
                        if !unique.contains(&id) {
                            unique.push(id);
                        }
                    }
                    let data = body["data"].as_array().ok_or("expected 200 with data")?;
                    let got: Vec<(&str, bool)> = data
                        .iter()
                        .map(|c| {
                            (
                                c["id"].as_str().unwrap_or(""),
                                c["active"].as_bool().unwrap_or(!active),
                            )
                        })
                        .collect();
                    let want: Vec<(&str, bool)> =
                        unique.iter().map(|id| (id.as_str(), *active)).collect();
                    if status != 200 || got != want {
                        return Err(format!("expected 200 with {want:?}"));
                    }
                    true
                }
            }
            Op::Delete { id } => {
                if certs[id].in_use() {
                    error(409, "certificate_id", Some("certificate_in_use"))?;
                    false
                } else {
                    if status != 200 || body["id"] != id.as_str() {
                        return Err("expected 200 certificate.deleted".into());
                    }
                    self.run.deleted.push(id.clone());
                    true
                }
            }
        };
        apply(&mut self.run.certs, op, uploaded.as_deref());
        self.run.answered += 1;
        if changed {
            *self.run.applied.entry(op.kind()).or_default() += 1;
        }
        Ok(())
    }
}
