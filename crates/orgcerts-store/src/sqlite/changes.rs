//! The change token of a SQLite database, for the service's read cache.
//!
//! Two sources of change, two mechanisms:
//!
//! - **This process's writes** go through the store's writer connection, which bumps an
//!   in-memory epoch right after each commit, before the write is acknowledged. Reading the
//!   token is then one atomic load, and a request that begins after a write was acknowledged
//!   always sees the new epoch.
//! - **Other processes' writes** (the operator's command line, another server on the same
//!   file) are seen through `PRAGMA data_version` on a connection of its own, which changes
//!   whenever any other connection commits. Asking costs a read transaction (locks on the WAL
//!   index), so it is asked at most once per [`OTHER_PROCESS_DELAY`]: a token is always
//!   backed by an answer that was asked no earlier than that before the token was read.
//!
//! Guarantee: a token read after this process acknowledged a write differs from every token
//! read before that write; a token read more than [`OTHER_PROCESS_DELAY`] after another
//! process committed differs from every token read before that commit.
//!
//! The same connection also writes `last_used_at` of admin keys ([`ChangeWatch::write_quietly`]):
//! nothing cached depends on it, and a connection's own commits do not change its
//! `data_version`, so the server's periodic flush of key use does not empty the cache.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orgcerts_core::Result;
use rusqlite::{Connection, TransactionBehavior};

use super::{SqlResult, storage};

/// How long after another process's commit a token may still be the one from before it.
pub const OTHER_PROCESS_DELAY: Duration = Duration::from_millis(1);

/// The change token's state; shared by the store and its writer's blocking tasks.
pub(super) struct ChangeWatch {
    /// Bumped by every commit of this process's writer, and whenever `data_version` is seen
    /// to have changed.
    epoch: AtomicU64,
    /// When the last completed `data_version` check began, in nanoseconds since `origin`.
    checked_at: AtomicU64,
    /// [`OTHER_PROCESS_DELAY`] in nanoseconds, unless a test set another.
    delay: AtomicU64,
    origin: Instant,
    watcher: Mutex<Watcher>,
}

struct Watcher {
    conn: Connection,
    /// The `data_version` last seen.
    seen: i64,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))
}

impl ChangeWatch {
    pub(super) fn new(conn: Connection) -> rusqlite::Result<Self> {
        let seen = data_version(&conn)?;
        Ok(Self {
            epoch: AtomicU64::new(0),
            checked_at: AtomicU64::new(0),
            delay: AtomicU64::new(nanos(OTHER_PROCESS_DELAY)),
            origin: Instant::now(),
            watcher: Mutex::new(Watcher { conn, seen }),
        })
    }

    fn now(&self) -> u64 {
        nanos(self.origin.elapsed())
    }

    fn is_fresh(&self, now: u64) -> bool {
        let delay = self.delay.load(Ordering::Relaxed);
        now.saturating_sub(self.checked_at.load(Ordering::Acquire)) < delay
    }

    pub(super) fn set_delay(&self, delay: Duration) {
        self.delay.store(nanos(delay), Ordering::Relaxed);
    }

    /// The current token; `None` when no token can be vouched for right now: `data_version`
    /// cannot be read, or the watching connection is busy (another thread's check, or the
    /// key-use flush waiting for its commit). Then the request reads the store, uncached,
    /// rather than waiting: this is called on the async workers.
    pub(super) fn token(&self) -> Option<u64> {
        let now = self.now();
        if !self.is_fresh(now) {
            let mut watcher = self.watcher.try_lock().ok()?;
            // Another thread may have checked between this one's look and its lock.
            if !self.is_fresh(now) {
                let started = self.now();
                let version = data_version(&watcher.conn).ok()?;
                if version != watcher.seen {
                    watcher.seen = version;
                    self.epoch.fetch_add(1, Ordering::AcqRel);
                }
                // Published after the epoch, so whoever sees this check sees its bump.
                self.checked_at.fetch_max(started, Ordering::AcqRel);
            }
        }
        Some(self.epoch.load(Ordering::Acquire))
    }

    /// Called by the writer after each commit (and after a failed one, which may still have
    /// reached the file), before the write is acknowledged.
    pub(super) fn committed_here(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Runs `f` in an immediate write transaction on the watching connection, for writes
    /// that nothing cached depends on: they leave the token as it is. Blocks.
    pub(super) fn write_quietly<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut watcher = self
            .watcher
            .lock()
            .map_err(|_| storage("the SQLite watcher mutex is poisoned"))?;
        let tx = watcher
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        let out = f(&tx)?;
        tx.commit().sql()?;
        Ok(out)
    }
}
