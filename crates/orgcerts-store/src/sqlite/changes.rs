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
//!   whenever any other connection commits. A thread of its own (the checker) asks it, every
//!   half [`OTHER_PROCESS_DELAY`] while tokens are being asked for, and sleeps otherwise: a
//!   token is always backed by an answer that was asked no earlier than that delay before the
//!   token was read.
//!
//! Reading the token never runs SQL nor waits: it is called on the async workers. When the
//! last check is too old (the checker was asleep or is late), there is no token and the
//! checker is woken; the request then has a check made on a reader thread
//! ([`ChangeWatch::checked_token`]), which costs far less than reading the store uncached:
//! under load the checker is often late, and a list read uncached whenever it is costs about
//! 2.5 times the server CPU of one served from the cache (`bench/run --quick`).
//!
//! Guarantee: a token read after this process acknowledged a write differs from every token
//! read before that write; a token read more than [`OTHER_PROCESS_DELAY`] after another
//! process committed differs from every token read before that commit.
//!
//! The same connection also writes `last_used_at` of admin keys and of service account keys
//! ([`ChangeWatch::write_quietly`]): nothing cached depends on it, and a connection's own
//! commits do not change its `data_version`, so the server's periodic flush of key use does not
//! empty the cache, nor the gateway's move its trust version. While such a write holds the
//! database's write lock, no other connection can commit, so the `data_version` it asked after
//! taking the lock stays current until it commits: tokens are vouched for all along, and
//! requests keep using the cache during the flush.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use orgcerts_core::Result;
use rusqlite::{Connection, TransactionBehavior};

use super::{SqlResult, storage};

/// How long after another process's commit a token may still be the one from before it.
pub const OTHER_PROCESS_DELAY: Duration = Duration::from_millis(1);

/// How long the checker keeps checking after the last token was asked for, before it sleeps
/// until the next one.
const KEEP_CHECKING: Duration = Duration::from_millis(100);

/// The shortest pause of the checker between two checks (when the delay is very short).
const MIN_PAUSE: Duration = Duration::from_micros(100);

/// The change token's state; shared by the store, its writer thread and its checker thread.
pub(super) struct ChangeWatch {
    /// Bumped by every commit of this process's writer, and whenever `data_version` is seen
    /// to have changed.
    epoch: AtomicU64,
    /// When the last completed `data_version` check began, in nanoseconds since `origin`.
    checked_at: AtomicU64,
    /// When a token was last asked for, in nanoseconds since `origin` (updated at most every
    /// tenth of [`KEEP_CHECKING`]).
    asked_at: AtomicU64,
    /// [`OTHER_PROCESS_DELAY`] in nanoseconds, unless a test set another.
    delay: AtomicU64,
    origin: Instant,
    /// Whether a quiet write holds the database's write lock, having checked `data_version`
    /// after taking it: nothing can commit meanwhile, so the token stands.
    writing: AtomicBool,
    watcher: Mutex<Watcher>,
    /// Wakes the checker thread, once started.
    wake: OnceLock<Sender<()>>,
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
    /// A watch on `conn`'s database, checked only when [`Self::refresh`] is called until
    /// [`Self::start_checker`] gives it its thread.
    pub(super) fn new(conn: Connection) -> rusqlite::Result<Self> {
        let seen = data_version(&conn)?;
        Ok(Self {
            epoch: AtomicU64::new(0),
            checked_at: AtomicU64::new(0),
            asked_at: AtomicU64::new(0),
            delay: AtomicU64::new(nanos(OTHER_PROCESS_DELAY)),
            origin: Instant::now(),
            writing: AtomicBool::new(false),
            watcher: Mutex::new(Watcher { conn, seen }),
            wake: OnceLock::new(),
        })
    }

    /// Starts the checker thread, which ends once the last handle on `watch` is dropped.
    pub(super) fn start_checker(watch: &Arc<Self>) -> std::io::Result<()> {
        let (wake, wakes) = crossbeam_channel::bounded(1);
        let weak = Arc::downgrade(watch);
        thread::Builder::new()
            .name("sqlite-changes".to_owned())
            .spawn(move || check_while_asked(&weak, &wakes))?;
        // Set once, here; a second checker would only be redundant.
        let _ = watch.wake.set(wake);
        Ok(())
    }

    fn now(&self) -> u64 {
        nanos(self.origin.elapsed())
    }

    fn is_fresh(&self, now: u64, delay: u64) -> bool {
        now.saturating_sub(self.checked_at.load(Ordering::Acquire)) < delay
    }

    pub(super) fn set_delay(&self, delay: Duration) {
        self.delay.store(nanos(delay), Ordering::Relaxed);
    }

    /// The current token; `None` when no check vouches for it right now (the last one is
    /// older than the delay, and no quiet write holds the write lock): the request then reads
    /// the store, uncached, and the checker is woken. Atomic reads only: this is called on
    /// the async workers.
    pub(super) fn token(&self) -> Option<u64> {
        let now = self.now();
        if now.saturating_sub(self.asked_at.load(Ordering::Relaxed)) >= nanos(KEEP_CHECKING) / 10 {
            self.asked_at.store(now, Ordering::Relaxed);
        }
        if self.is_fresh(now, self.delay.load(Ordering::Relaxed))
            || self.writing.load(Ordering::Acquire)
        {
            return Some(self.epoch.load(Ordering::Acquire));
        }
        if let Some(wake) = self.wake.get() {
            // Full: a wake is already pending.
            let _ = wake.try_send(());
        }
        None
    }

    /// The current token, checking `data_version` first when no check vouches for it: for a
    /// request that found no token, run on a reader thread (it may wait for the watching
    /// connection, never on an async worker). `None` only when the check fails or a quiet write
    /// holds the connection without the write lock (waiting for it, or committing).
    pub(super) fn checked_token(&self) -> Option<u64> {
        let now = self.now();
        for _ in 0..64 {
            if self.is_fresh(now, self.delay.load(Ordering::Relaxed))
                || self.writing.load(Ordering::Acquire)
            {
                return Some(self.epoch.load(Ordering::Acquire));
            }
            match self.watcher.try_lock() {
                Ok(mut watcher) => {
                    // Another thread may have checked between the look above and this lock.
                    if !self.is_fresh(now, self.delay.load(Ordering::Relaxed)) {
                        let Watcher { conn, seen } = &mut *watcher;
                        self.check(conn, seen).ok()?;
                    }
                    return Some(self.epoch.load(Ordering::Acquire));
                }
                // The checker thread's check (one statement) or a quiet write: look again.
                Err(TryLockError::WouldBlock) => thread::yield_now(),
                Err(TryLockError::Poisoned(_)) => return None,
            }
        }
        None
    }

    /// Checks `data_version` unless a check began within the last half delay; returns how
    /// long the checker may pause before the next, or `None` when no token was asked for in
    /// [`KEEP_CHECKING`] (it then sleeps until woken). Blocks while a quiet write holds the
    /// connection.
    fn refresh(&self) -> Option<Duration> {
        let delay = self.delay.load(Ordering::Relaxed);
        if !self.is_fresh(self.now(), delay / 2)
            && let Ok(mut watcher) = self.watcher.lock()
        {
            let Watcher { conn, seen } = &mut *watcher;
            // A failed check leaves the token stale: requests read uncached until one works.
            let _ = self.check(conn, seen);
        }
        let asked = self.asked_at.load(Ordering::Relaxed);
        (self.now().saturating_sub(asked) < nanos(KEEP_CHECKING))
            .then(|| Duration::from_nanos(delay / 2).max(MIN_PAUSE))
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
        self.writing.store(true, Ordering::Release);
        let out = f(&tx);
        // Before the commit releases the lock.
        self.writing.store(false, Ordering::Release);
        let out = out?;
        tx.commit().sql()?;
        Ok(out)
    }
}

/// The checker thread: checks while tokens are asked for, sleeps until woken otherwise, and
/// ends when the watch is dropped (its wake sender with it).
fn check_while_asked(watch: &Weak<ChangeWatch>, wakes: &Receiver<()>) {
    let mut pause = None;
    loop {
        let woken = match pause {
            None => wakes.recv().is_ok(),
            Some(pause) => !matches!(
                wakes.recv_timeout(pause),
                Err(RecvTimeoutError::Disconnected)
            ),
        };
        let Some(watch) = woken.then(|| watch.upgrade()).flatten() else {
            return;
        };
        pause = watch.refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in WAL mode with one table, a watch on it whose tokens no check vouches for
    /// (a zero delay) and that has no checker thread, and another connection to it (another
    /// process, as far as the watch can tell).
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

    /// Checks `data_version` now, as the checker thread does, and returns the epoch.
    fn checked(watch: &ChangeWatch) -> u64 {
        let mut watcher = watch.watcher.lock().unwrap();
        let Watcher { conn, seen } = &mut *watcher;
        watch.check(conn, seen).unwrap();
        watch.epoch.load(Ordering::Acquire)
    }

    #[test]
    fn a_quiet_write_vouches_for_the_token_while_it_holds_the_write_lock() {
        let (_dir, watch, other) = setup();
        let before = checked(&watch);
        assert_eq!(watch.token(), None, "no check vouches for it");
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
        assert_eq!(checked(&watch), during, "its own commit changes nothing");
        insert(&other);
        assert_ne!(checked(&watch), during, "later commits still show");
    }

    #[test]
    fn a_quiet_write_waiting_for_the_write_lock_vouches_for_nothing() {
        let (_dir, watch, other) = setup();
        let before = checked(&watch);
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
            while watch.watcher.try_lock().is_ok() {
                std::thread::yield_now();
            }
            assert_eq!(watch.token(), None);
            insert(&other);
            other.execute_batch("COMMIT").unwrap();
            writer.join().unwrap().unwrap();
        });
        assert_ne!(checked(&watch), before, "the other commit shows");
    }

    /// Reading the token runs no SQL: the checker thread, woken by a token that nothing
    /// vouches for, does the check, and another process's commit shows once it has.
    #[test]
    fn the_checker_thread_vouches_for_tokens_and_sees_other_processes() {
        let (_dir, watch, other) = setup();
        let watch = Arc::new(watch);
        watch.set_delay(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(watch.token(), None, "stale, and no checker yet");
        ChangeWatch::start_checker(&watch).unwrap();
        let vouched = |watch: &ChangeWatch| {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(token) = watch.token() {
                    return token;
                }
                assert!(Instant::now() < deadline, "the checker never checked");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        let before = vouched(&watch);
        insert(&other);
        std::thread::sleep(Duration::from_millis(25));
        assert_ne!(vouched(&watch), before, "another process's commit shows");
    }
}
