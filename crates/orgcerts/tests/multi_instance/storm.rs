//! Activation storms from both instances at once, and checks that what they leave behind (and
//! what readers saw meanwhile) is what some serial execution of the acknowledged requests
//! gives.
//!
//! - Contended sets: writers activate or deactivate the whole shared set, naming its ids in a
//!   random order each time (so that row locks are requested in every order), at organization
//!   or project level. Since every request sets all of them at once, any serial execution
//!   leaves the shared set uniform at each scope, and so does every state a reader can see;
//!   the final value is the one of an acknowledged request that no other request at that scope
//!   started after (the last one in some serial order consistent with real time). A torn set
//!   (non-atomic activation) or a lost write fails this.
//! - Owned certificates: each owner toggles random subsets of its own two certificates, one
//!   request at a time, alternating instances. Requests on one certificate are then ordered,
//!   so its final state must be the last acknowledged request's: a write acknowledged before
//!   it was durable and visible, or one applied out of order, fails this.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde_json::json;

use crate::support::{Api, id_of};

const SHARED: usize = 5;
const WRITERS: usize = 6;
const OWNERS: usize = 4;
const OPS: usize = 15;

/// One acknowledged request on the whole shared set.
#[derive(Debug, Clone, Copy)]
struct SetOp {
    scope: usize,
    active: bool,
    sent: Instant,
    acked: Instant,
}

/// The path that activates or deactivates at a scope.
fn toggle_path(scope: &str, active: bool) -> String {
    let verb = if active { "activate" } else { "deactivate" };
    format!("{scope}/{verb}")
}

/// Sends one toggle and checks its answer: every id once, in request order, with the new state.
async fn toggle(api: &Api, scope: &str, ids: &[String], active: bool) {
    let reply = api
        .post(
            &toggle_path(scope, active),
            json!({ "certificate_ids": ids }),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let data = reply.body["data"].as_array().expect("data");
    let answered: Vec<String> = data.iter().map(id_of).collect();
    assert_eq!(answered, ids);
    assert!(data.iter().all(|c| c["active"] == active), "{data:?}");
}

/// What the storm works on: the two scopes' list paths and the certificates.
#[derive(Clone)]
struct Fixture {
    scopes: [String; 2],
    shared: Vec<String>,
    owned: Vec<Vec<String>>,
}

async fn fixture(api: &Api) -> Fixture {
    let project = api.create_project("Storm").await;
    let mut shared = Vec::new();
    for i in 0..SHARED {
        shared.push(api.upload_new(&format!("Shared CA {i}")).await);
    }
    let mut owned = Vec::new();
    for o in 0..OWNERS {
        owned.push(vec![
            api.upload_new(&format!("Owned CA {o}a")).await,
            api.upload_new(&format!("Owned CA {o}b")).await,
        ]);
    }
    Fixture {
        scopes: [
            "/organization/certificates".to_owned(),
            format!("/organization/projects/{project}/certificates"),
        ],
        shared,
        owned,
    }
}

/// Lists both scopes over and over until `done`, asserting that the shared set is never seen
/// torn; returns how many lists it took.
async fn read_until(api: Api, f: Fixture, done: Arc<AtomicBool>) -> usize {
    let mut snapshots = 0;
    while !done.load(Ordering::Relaxed) {
        for scope in &f.scopes {
            let seen = api.list_all(scope, 100, "desc").await;
            let states: Vec<bool> = seen
                .iter()
                .filter(|(id, _)| f.shared.contains(id))
                .map(|(_, active)| *active)
                .collect();
            assert_eq!(states.len(), SHARED);
            assert!(
                states.iter().all(|s| *s == states[0]),
                "a reader saw a torn set at {scope}: {states:?}"
            );
            snapshots += 1;
        }
    }
    snapshots
}

/// `OPS` requests on the whole shared set, each naming it in a fresh random order.
async fn write_shared(api: Api, f: Fixture) -> Vec<SetOp> {
    let mut ops = Vec::new();
    for _ in 0..OPS {
        let (scope, active, ids) = {
            let mut rng = rand::rng();
            let mut ids = f.shared.clone();
            ids.shuffle(&mut rng);
            (
                rng.random_range(0..f.scopes.len()),
                rng.random_bool(0.5),
                ids,
            )
        };
        let sent = Instant::now();
        toggle(&api, &f.scopes[scope], &ids, active).await;
        let acked = Instant::now();
        ops.push(SetOp {
            scope,
            active,
            sent,
            acked,
        });
    }
    ops
}

/// `OPS` requests on random subsets of `mine`, alternating instances; returns the last state
/// each (scope, certificate) was set to.
async fn write_owned(
    apis: Vec<Api>,
    scopes: [String; 2],
    mine: Vec<String>,
) -> HashMap<(usize, String), bool> {
    let mut last = HashMap::new();
    for k in 0..OPS {
        let (scope, active, ids) = {
            let mut rng = rand::rng();
            let count = rng.random_range(1..=mine.len());
            let ids: Vec<String> = mine.choose_multiple(&mut rng, count).cloned().collect();
            (rng.random_range(0..scopes.len()), rng.random_bool(0.5), ids)
        };
        toggle(&apis[k % apis.len()], &scopes[scope], &ids, active).await;
        for id in ids {
            last.insert((scope, id), active);
        }
    }
    last
}

/// The final state at each scope, as both instances list it, against the serial-order rules.
async fn check_final(
    apis: &[Api],
    f: &Fixture,
    ops: &[SetOp],
    last: &HashMap<(usize, String), bool>,
) {
    for (index, scope) in f.scopes.iter().enumerate() {
        let seen = apis[0].list_all(scope, 100, "asc").await;
        assert_eq!(seen, apis[1].list_all(scope, 100, "asc").await);
        let state: HashMap<String, bool> = seen.into_iter().collect();

        let finals: Vec<bool> = f.shared.iter().map(|id| state[id]).collect();
        assert!(
            finals.iter().all(|v| *v == finals[0]),
            "torn set at {scope}: {finals:?}"
        );
        let here: Vec<&SetOp> = ops.iter().filter(|op| op.scope == index).collect();
        // The candidates for the last request in a serial order consistent with real time.
        let possible: Vec<bool> = here
            .iter()
            .filter(|op| !here.iter().any(|other| other.sent > op.acked))
            .map(|op| op.active)
            .collect();
        let possible = if possible.is_empty() {
            vec![false]
        } else {
            possible
        };
        assert!(
            possible.contains(&finals[0]),
            "{scope}: the shared set ended {} but the last acknowledged requests set {possible:?}",
            finals[0]
        );

        for id in f.owned.iter().flatten() {
            let expected = last.get(&(index, id.clone())).copied().unwrap_or(false);
            assert_eq!(
                state[id], expected,
                "{scope}: {id} is not what its last request set"
            );
        }
    }
}

pub async fn run(apis: &[Api]) {
    let f = fixture(&apis[0]).await;
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = apis
        .iter()
        .map(|api| tokio::spawn(read_until(api.clone(), f.clone(), done.clone())))
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_shared(apis[w % apis.len()].clone(), f.clone())))
        .collect();
    let owners: Vec<_> = f
        .owned
        .iter()
        .map(|mine| tokio::spawn(write_owned(apis.to_vec(), f.scopes.clone(), mine.clone())))
        .collect();

    let mut ops: Vec<SetOp> = Vec::new();
    for writer in writers {
        ops.extend(writer.await.unwrap());
    }
    let mut last: HashMap<(usize, String), bool> = HashMap::new();
    for owner in owners {
        last.extend(owner.await.unwrap());
    }
    done.store(true, Ordering::Relaxed);
    let mut snapshots = 0;
    for reader in readers {
        snapshots += reader.await.unwrap();
    }
    assert!(snapshots >= 4, "the readers read during the storm");
    check_final(apis, &f, &ops, &last).await;
}
