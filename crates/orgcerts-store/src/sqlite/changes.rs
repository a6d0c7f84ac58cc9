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
//! `data_version`, so the server's periodic flush of key use does not empty the cache. While
//! such a write holds the database's write lock, no other connection can commit, so the
//! `data_version` it asked after taking the lock stays current until it commits: tokens are
//! vouched for all along, and requests keep using the cache during the flush.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, TryLockError};
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
    /// What the holder of `watcher` is doing ([`Holder`]), for `token` when it cannot lock.
    holder: AtomicU8,
    watcher: Mutex<Watcher>,
}

/// The states of [`ChangeWatch::holder`].
struct Holder;

impl Holder {
    /// Nobody, or a quiet write that is waiting for the write lock or committing.
    const OTHER: u8 = 0;
    /// A `data_version` check: a statement's time.
    const CHECKING: u8 = 1;
    /// A quiet write holding the database's write lock, after checking `data_version`.
    const WRITING: u8 = 2;
}

/// How many times `token` looks again while another thread checks `data_version`.
const SPINS: u32 = 1000;

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
            holder: AtomicU8::new(Holder::OTHER),
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
    /// cannot be read, or the watching connection is busy with a quiet write that does not
    /// hold the write lock (waiting for it, or committing). Then the request reads the store,
    /// uncached, rather than waiting: this is called on the async workers. Another thread's
    /// check (one statement) is waited for.
    pub(super) fn token(&self) -> Option<u64> {
        let now = self.now();
        let mut spins = 0;
        while !self.is_fresh(now) {
            match self.watcher.try_lock() {
                Ok(mut watcher) => {
                    // Another thread may have checked between this one's look and its lock.
                    if !self.is_fresh(now) {
                        self.holder.store(Holder::CHECKING, Ordering::Release);
                        let Watcher { conn, seen } = &mut *watcher;
                        let checked = self.check(conn, seen);
                        self.holder.store(Holder::OTHER, Ordering::Release);
                        checked.ok()?;
                    }
                    break;
                }
                Err(TryLockError::WouldBlock) => match self.holder.load(Ordering::Acquire) {
                    // Took the write lock, then checked: nothing can have committed since.
                    Holder::WRITING => break,
                    Holder::CHECKING if spins < SPINS => {
                        spins += 1;
                        std::hint::spin_loop();
                    }
                    _ => return None,
                },
                Err(TryLockError::Poisoned(_)) => return None,
            }
        }
        Some(self.epoch.load(Ordering::Acquire))
    }

    /// Asks `data_version` and moves the epoch if it changed, then marks the check done.
    fn check(&self, conn: &Connection, seen: &mut i64) -> rusqlite::Result<()> {
        let started = self.now();
        let version = data_version(conn)?;
        if version != *seen {
            *seen = version;
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        // Published after the epoch, so whoever sees this check sees its bump.
        self.checked_at.fetch_max(started, Ordering::AcqRel);
        Ok(())
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
        let Watcher { conn, seen } = &mut *watcher;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        // The transaction's snapshot is the newest (it holds the write lock), so this check
        // sees every commit made before it; none can be made until this one ends.
        self.check(&tx, seen).sql()?;
        self.holder.store(Holder::WRITING, Ordering::Release);
        let out = f(&tx);
        // Before the commit releases the lock.
        self.holder.store(Holder::OTHER, Ordering::Release);
        let out = out?;
        tx.commit().sql()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in WAL mode with one table, a watch on it that checks on every call, and
    /// another connection to it (another process, as far as the watch can tell).
    fn setup() -> (tempfile::TempDir, ChangeWatch, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let other = Connection::open(&path).unwrap();
        other
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .unwrap();
        other.execute("CREATE TABLE t (x INTEGER)", []).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let watch = ChangeWatch::new(conn).unwrap();
        watch.set_delay(Duration::ZERO);
        (dir, watch, other)
    }

    fn insert(conn: &Connection) {
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
    }

    #[test]
    fn a_quiet_write_vouches_for_the_token_while_it_holds_the_write_lock() {
        let (_dir, watch, other) = setup();
        let before = watch.token().unwrap();
        insert(&other);
        let during = watch
            .write_quietly(|tx| {
                insert(tx);
                Ok(watch.token())
            })
            .unwrap();
        let during = during.expect("vouched for while the write lock is held");
        assert_ne!(
            during, before,
            "the quiet write's check saw the commit made before it"
        );
        assert_eq!(
            watch.token(),
            Some(during),
            "its own commit changes nothing"
        );
        insert(&other);
        assert_ne!(watch.token(), Some(during), "later commits still show");
    }

    #[test]
    fn a_quiet_write_waiting_for_the_write_lock_vouches_for_nothing() {
        let (_dir, watch, other) = setup();
        let before = watch.token().unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                watch.write_quietly(|tx| {
                    insert(tx);
                    Ok(())
                })
            });
            // The quiet write has the watching connection and waits for the write lock, which
            // the other connection holds and may commit under at any moment.
            while watch.holder.load(Ordering::Acquire) == Holder::OTHER
                && watch.watcher.try_lock().is_ok()
            {
                std::thread::yield_now();
            }
            assert_eq!(watch.token(), None);
            insert(&other);
            other.execute_batch("COMMIT").unwrap();
            writer.join().unwrap().unwrap();
        });
        assert_ne!(watch.token(), Some(before), "the other commit shows");
    }
}
