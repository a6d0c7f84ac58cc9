//! Requests' admin-key lookups, batched under load.
//!
//! Every authenticated request reads its admin key and its organization's change count: one
//! round trip to the database, and under load those round trips (a query, a reply, a wake-up on
//! each side) cost far more than the statements. So a lookup that arrives while
//! [`IN_FLIGHT`] statements are already running waits for one of them to end, and shares the
//! next statement with every lookup that arrived meanwhile (`key_hash = ANY($1)`, up to
//! [`MAX_BATCH`] keys). When fewer are running, a lookup gets a statement of its own at once:
//! batching adds no wait on a quiet server.
//!
//! A shared statement sees what a statement of the lookup's own would: it is sent after the
//! lookup was queued, so after its request began, and sees every change committed before it
//! started.

use std::ops::ControlFlow;
use std::sync::Arc;

use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::AdminKey;
use orgcerts_core::{Error, Result, StorageError};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::error::{self, Attempt};
use super::{Db, Mode, Session, after_attempt, keys};

/// Statements of batched lookups running at once. Fewer make larger batches: on two cores with
/// the database on the same machine, the list at 64 connections served 11,100-12,900 req/s with
/// 4, 16,600-20,900 with 2 and 8,900-9,800 with 8 (1 was no faster than 2, and would leave every
/// request waiting behind one slow statement).
const IN_FLIGHT: usize = 2;

/// Keys one statement looks up at most.
const MAX_BATCH: usize = 128;

type Found = Result<Option<(AdminKey, u64)>>;

struct Lookup {
    hash: KeyHash,
    reply: oneshot::Sender<Found>,
}

/// The queue of a task that runs the lookups.
pub(super) struct KeyLookups {
    queue: mpsc::UnboundedSender<Lookup>,
}

impl KeyLookups {
    /// Starts the task, on the current tokio runtime. It ends when this is dropped.
    pub(super) fn start(db: Db) -> Self {
        let (queue, lookups) = mpsc::unbounded_channel();
        tokio::spawn(run_lookups(db, lookups));
        Self { queue }
    }

    /// The key with this hash, revoked or not, and its organization's change count. `db` runs
    /// it alone if the task is gone (its runtime shut down).
    pub(super) async fn find(&self, db: &Db, hash: &KeyHash) -> Found {
        let (reply, answer) = oneshot::channel();
        let queued = self.queue.send(Lookup {
            hash: KeyHash(hash.0),
            reply,
        });
        if queued.is_ok() {
            match tokio::time::timeout(db.deadline, answer).await {
                Ok(Ok(found)) => return found,
                Err(_) => return Err(error::timed_out(db.deadline)),
                // The task dropped the lookup unanswered: it is gone.
                Ok(Err(_)) => {}
            }
        }
        let found = look_up(db, vec![hash.0.to_vec()]).await?;
        found.into_iter().next().map(|(_, key)| key).transpose()
    }
}

/// Takes lookups off the queue: each with those waiting behind it, once a statement may start.
async fn run_lookups(db: Db, mut lookups: mpsc::UnboundedReceiver<Lookup>) {
    let statements = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = lookups.recv().await {
        let Ok(statement) = Arc::clone(&statements).acquire_owned().await else {
            return;
        };
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(lookup) = next {
            // A lookup whose request stopped waiting (its deadline passed while the database
            // was slow) needs no statement: the live ones behind it should not wait for it.
            if !lookup.reply.is_closed() {
                batch.push(lookup);
            }
            next = if batch.len() < MAX_BATCH {
                lookups.try_recv().ok()
            } else {
                None
            };
        }
        if batch.is_empty() {
            continue;
        }
        let db = db.clone();
        tokio::spawn(async move {
            answer(&db, batch).await;
            drop(statement);
        });
    }
}

/// Looks up a batch's keys in one statement and answers each lookup.
async fn answer(db: &Db, batch: Vec<Lookup>) {
    let mut hashes: Vec<Vec<u8>> = batch.iter().map(|lookup| lookup.hash.0.to_vec()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    match look_up(db, hashes).await {
        Ok(found) => {
            for lookup in batch {
                let key = found
                    .iter()
                    .find(|(hash, _)| hash.as_slice() == lookup.hash.0.as_slice())
                    .map(|(_, key)| match key {
                        Ok(key) => Ok(key.clone()),
                        Err(err) => Err(shared(err)),
                    })
                    .transpose();
                // A lookup whose request gave up has no one to answer.
                let _ = lookup.reply.send(key);
            }
        }
        Err(err) => {
            for lookup in batch {
                let _ = lookup.reply.send(Err(shared(&err)));
            }
        }
    }
}

/// The keys with these hashes, with their hashes, retried like every read.
async fn look_up(db: &Db, hashes: Vec<Vec<u8>>) -> Result<Vec<keys::FoundKey>> {
    run!(db, Mode::Read, |conn| keys::admin_keys_by_hashes(
        conn, &hashes
    ))
}

/// `err` again, for another lookup that failed with it: the same kind of failure (a database
/// that is unavailable, or a storage fault) and the same message for the log.
fn shared(err: &Error) -> Error {
    match err {
        Error::StorageUnavailable(inner) => {
            Error::StorageUnavailable(StorageError::new(inner.to_string()))
        }
        other => Error::Storage(StorageError::new(other.to_string())),
    }
}
