//! The writer connection, owned by a thread of its own that commits the writes queued
//! meanwhile together (group commit).
//!
//! A transaction and a flush per write, behind a mutex, would put a thread per write in flight
//! to sleep on that mutex, and the flushes, one after another, would bound the writes per
//! second (`bench/profiles/README.md`, "Writes"). Here the thread takes
//! every write waiting in the queue, runs each in a savepoint of one `BEGIN IMMEDIATE`
//! transaction, commits once (one flush to disk for all of them), and only then answers each
//! one. A write that fails is rolled back to its savepoint alone; the others still commit.
//! Nothing is acknowledged before the commit that holds it is durable, and a commit that fails
//! fails every write in it.
//!
//! The queue is bounded, and a write that the thread has not started within its deadline is
//! refused and never run ([`super::queue`]); one that has started is answered with its
//! commit's outcome, however long that takes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Receiver, Sender};
use orgcerts_core::{Error, Result};
use rusqlite::Connection;

use super::changes::ChangeWatch;
use super::queue::{self, Limits, Ticket};
use super::{sql_error, storage};

/// Writes committed together at most: bounds the wait of the last one in a batch.
const MAX_BATCH: usize = 256;

/// A queued write.
trait Write: Send {
    /// Whether the write will never run ([`Ticket::expired`]).
    fn expired(&self) -> bool;
    /// Marks the write started, unless it expired ([`Ticket::start`]).
    fn start(&self) -> bool;
    /// Runs the write in its savepoint; `Err` when the savepoint itself could not be released
    /// or rolled back, which breaks the whole transaction. The answer is given once the
    /// batch's commit is known.
    fn run(self: Box<Self>, conn: &Connection) -> std::result::Result<Answer, (Answer, String)>;
    /// Answers a write that will not run.
    fn fail(self: Box<Self>, err: Error);
    /// Answers a write that expired before it started.
    fn refuse(self: Box<Self>);
}

/// Answers a write that ran: `Ok` if the commit holding it succeeded.
type Answer = Box<dyn FnOnce(std::result::Result<(), &str>) + Send>;

struct Pending<T, F> {
    f: F,
    ticket: Arc<Ticket>,
    done: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> Write for Pending<T, F>
where
    F: FnOnce(&Connection) -> Result<T> + Send,
    T: Send + 'static,
{
    fn expired(&self) -> bool {
        self.ticket.expired()
    }

    fn start(&self) -> bool {
        self.ticket.start()
    }

    fn run(self: Box<Self>, conn: &Connection) -> std::result::Result<Answer, (Answer, String)> {
        let Pending { f, done, .. } = *self;
        let (result, broken) = in_savepoint(conn, f);
        let answer: Answer = Box::new(move |committed| {
            let answer = match (result, committed) {
                (Ok(out), Ok(())) => Ok(out),
                (Ok(_), Err(why)) => Err(storage(why.to_owned())),
                (Err(err), _) => Err(err),
            };
            // The caller may be gone (its request cancelled): the write stands anyway.
            let _ = done.send(answer);
        });
        match broken {
            None => Ok(answer),
            Some(why) => Err((answer, why)),
        }
    }

    fn fail(self: Box<Self>, err: Error) {
        let _ = self.done.send(Err(err));
    }

    fn refuse(self: Box<Self>) {
        let err = self.ticket.timed_out();
        let _ = self.done.send(Err(err));
    }
}

/// The writer thread of one store. Dropping it lets the thread commit the writes already
/// queued, close its connection and end.
pub(super) struct Writer {
    queue: Sender<Box<dyn Write>>,
    limits: Limits,
}

impl Writer {
    pub(super) fn start(
        conn: Connection,
        changes: Arc<ChangeWatch>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        let (queue, jobs) = crossbeam_channel::bounded(limits.capacity);
        thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || serve(&conn, &jobs, &changes))?;
        Ok(Self { queue, limits })
    }

    /// Runs `f` in a write transaction, atomically: its changes are kept if it returns `Ok`
    /// and the commit holding them succeeds, and none of them otherwise. Answers only once
    /// that commit is durable. Refused with `StorageUnavailable`, and never run, when the
    /// queue is full or the thread has not started it within the deadline.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        queue::run(&self.queue, self.limits, "writer", |ticket, done| {
            let write: Box<dyn Write> = Box::new(Pending { f, ticket, done });
            write
        })
        .await
    }
}

/// Runs `f` between `SAVEPOINT` and `RELEASE`, or rolls back to the savepoint when it fails or
/// panics. The second value says why the transaction is broken, if the savepoint could not be
/// released or rolled back.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> (Result<T>, Option<String>) {
    let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
    if let Err(err) = run("SAVEPOINT orgcerts_write") {
        let why = format!("cannot open an SQLite savepoint: {err}");
        return (Err(storage(why.clone())), Some(why));
    }
    let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(storage("an SQLite write panicked")));
    let ended = match &result {
        Ok(_) => run("RELEASE orgcerts_write"),
        Err(_) => run("ROLLBACK TO orgcerts_write").and_then(|()| run("RELEASE orgcerts_write")),
    };
    match ended {
        Ok(()) => (result, None),
        Err(err) => {
            let why = format!("cannot end an SQLite savepoint: {err}");
            (Err(storage(why.clone())), Some(why))
        }
    }
}

/// The writer thread: one batch after another until the store is dropped.
fn serve(conn: &Connection, jobs: &Receiver<Box<dyn Write>>, changes: &ChangeWatch) {
    let mut waiting: Vec<Box<dyn Write>> = Vec::new();
    loop {
        if waiting.is_empty() {
            match jobs.recv() {
                Ok(job) => waiting.push(job),
                Err(_) => return,
            }
        }
        while waiting.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => waiting.push(job),
                Err(_) => break,
            }
        }
        waiting = commit_batch(conn, waiting, changes);
    }
}

/// Runs the writes of `batch` in one transaction, commits, and answers each. Returns the
/// writes it did not get to (the transaction broke before their turn), for the next batch.
fn commit_batch(
    conn: &Connection,
    batch: Vec<Box<dyn Write>>,
    changes: &ChangeWatch,
) -> Vec<Box<dyn Write>> {
    let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
    if !conn.is_autocommit() {
        // Left open by a batch that broke off: start clean.
        let _ = run("ROLLBACK");
    }
    let (expired, batch): (Vec<_>, Vec<_>) = batch.into_iter().partition(|job| job.expired());
    for job in expired {
        job.refuse();
    }
    if batch.is_empty() {
        return Vec::new();
    }
    // Waits up to the busy timeout while another process holds the write lock; the callers
    // meanwhile get their answer at their deadline, and their writes do not start.
    if let Err(err) = run("BEGIN IMMEDIATE") {
        for job in batch {
            job.fail(sql_error(&err, "cannot start an SQLite write transaction"));
        }
        return Vec::new();
    }
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    let mut broken = None;
    for job in jobs.by_ref() {
        if !job.start() {
            job.refuse();
            continue;
        }
        match job.run(conn) {
            Ok(answer) => answers.push(answer),
            Err((answer, why)) => {
                answers.push(answer);
                broken = Some(why);
                break;
            }
        }
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (a full disk, an I/O error): the
            // writes run so far are gone; the rest wait for the next batch.
            broken = Some("the SQLite write transaction was rolled back".to_owned());
            break;
        }
    }
    let committed = match broken {
        Some(why) => {
            if !conn.is_autocommit() {
                let _ = run("ROLLBACK");
            }
            Err(why)
        }
        None => run("COMMIT").map_err(|err| {
            if !conn.is_autocommit() {
                let _ = run("ROLLBACK");
            }
            format!("the SQLite commit failed: {err}")
        }),
    };
    // A failed commit may still have reached the file: the token moves either way, before
    // any write is acknowledged.
    changes.committed_here();
    for answer in answers {
        answer(committed.as_ref().copied().map_err(String::as_str));
    }
    jobs.collect()
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use rusqlite::params;

    use super::*;
    use crate::sqlite::SqlResult;

    /// A writer on a fresh file with a table `t (v)`, whose `v` must not be negative, and
    /// `child`, whose `parent` must name a row of `t` by the time of the commit.
    fn writer() -> (tempfile::TempDir, Writer, Arc<ChangeWatch>, Connection) {
        writer_with(Limits {
            capacity: 1024,
            wait: std::time::Duration::from_mins(1),
        })
    }

    fn writer_with(limits: Limits) -> (tempfile::TempDir, Writer, Arc<ChangeWatch>, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
             CREATE TABLE t (v INTEGER PRIMARY KEY CHECK (v >= 0));
             CREATE TABLE child (parent INTEGER REFERENCES t (v) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
        let changes = Arc::new(ChangeWatch::new(Connection::open(&path).unwrap()).unwrap());
        // No checker thread: the token stands on the check made at the start.
        changes.set_delay(std::time::Duration::from_hours(1));
        let writer = Writer::start(conn, Arc::clone(&changes), limits).unwrap();
        (dir, writer, changes, Connection::open(&path).unwrap())
    }

    fn values(conn: &Connection) -> Vec<i64> {
        let mut statement = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// Holds the writer thread in a write until the returned sender is used, so that the
    /// writes queued meanwhile make one batch.
    async fn hold(writer: &Arc<Writer>) -> (mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
        let (started, start) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let held = tokio::spawn({
            let writer = Arc::clone(writer);
            async move {
                writer
                    .run(move |_| {
                        started.send(()).unwrap();
                        released.recv().unwrap();
                        Ok(())
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || start.recv().unwrap())
            .await
            .unwrap();
        (release, held)
    }

    /// Queues `f` as a write of its own, from a task of its own.
    fn spawn_write<F>(writer: &Arc<Writer>, f: F) -> tokio::task::JoinHandle<Result<()>>
    where
        F: FnOnce(&Connection) -> Result<()> + Send + 'static,
    {
        let writer = Arc::clone(writer);
        tokio::spawn(async move { writer.run(f).await })
    }

    fn insert(writer: &Arc<Writer>, v: i64) -> tokio::task::JoinHandle<Result<()>> {
        spawn_write(writer, move |conn| {
            conn.execute("INSERT INTO t (v) VALUES (?1)", params![v])
                .sql()?;
            Ok(())
        })
    }

    async fn queued(writer: &Writer, n: usize) {
        while writer.queue.len() < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_is_rolled_back_alone_and_the_rest_of_its_batch_commits() {
        let (_dir, writer, changes, check) = writer();
        let writer = Arc::new(writer);
        let (release, held) = hold(&writer).await;
        let first = insert(&writer, 1);
        // Inserts a row, then fails: its row must go, its neighbours' stay.
        let failing = spawn_write(&writer, |conn| {
            conn.execute("INSERT INTO t (v) VALUES (2)", []).sql()?;
            conn.execute("INSERT INTO t (v) VALUES (-1)", []).sql()?;
            Ok(())
        });
        let panicking = spawn_write(&writer, |conn| {
            conn.execute("INSERT INTO t (v) VALUES (3)", []).unwrap();
            panic!("a write that panics");
        });
        let last = insert(&writer, 4);
        queued(&writer, 4).await;
        let token = changes.token();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        first.await.unwrap().unwrap();
        assert!(failing.await.unwrap().is_err());
        let panicked = panicking.await.unwrap().unwrap_err();
        assert!(panicked.to_string().contains("panicked"), "{panicked}");
        last.await.unwrap().unwrap();
        assert_eq!(values(&check), [1, 4]);
        assert_ne!(changes.token(), token, "a commit moves the change token");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_that_fails_fails_every_write_in_it() {
        let (_dir, writer, _changes, check) = writer();
        let writer = Arc::new(writer);
        let (release, held) = hold(&writer).await;
        let good = insert(&writer, 1);
        // Succeeds as a write, but its deferred foreign key fails the commit of the batch.
        let dangling = spawn_write(&writer, |conn| {
            conn.execute("INSERT INTO child (parent) VALUES (99)", [])
                .sql()?;
            Ok(())
        });
        queued(&writer, 2).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert!(
            good.await.unwrap().is_err(),
            "not acknowledged: its commit failed"
        );
        assert!(dangling.await.unwrap().is_err());
        assert_eq!(values(&check), Vec::<i64>::new());
        // The writer carries on with the next batch.
        insert(&writer, 5).await.unwrap().unwrap();
        assert_eq!(values(&check), [5]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_runs_nothing() {
        let (_dir, writer, _changes, check) = writer_with(Limits {
            capacity: 2,
            wait: std::time::Duration::from_mins(1),
        });
        let writer = Arc::new(writer);
        let (release, held) = hold(&writer).await;
        let (first, second) = (insert(&writer, 1), insert(&writer, 2));
        queued(&writer, 2).await;
        let refused = insert(&writer, 3).await.unwrap().unwrap_err();
        assert!(matches!(refused, Error::StorageUnavailable(_)), "{refused}");
        assert!(refused.to_string().contains("queue is full"), "{refused}");
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(values(&check), [1, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_not_started_by_its_deadline_is_refused_and_never_runs() {
        let wait = std::time::Duration::from_millis(150);
        let (_dir, writer, _changes, check) = writer_with(Limits { capacity: 16, wait });
        let writer = Arc::new(writer);
        // The held write started at once: it is waited for past its deadline, and commits.
        let (release, held) = hold(&writer).await;
        let started = std::time::Instant::now();
        let late = insert(&writer, 7);
        let refused = late.await.unwrap().unwrap_err();
        let waited = started.elapsed();
        assert!(matches!(refused, Error::StorageUnavailable(_)), "{refused}");
        assert!(waited >= wait, "{waited:?}");
        assert!(waited < std::time::Duration::from_secs(5), "{waited:?}");
        // Still queued behind the held write when its caller gave up.
        assert_eq!(writer.queue.len(), 1);
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        insert(&writer, 8).await.unwrap().unwrap();
        assert_eq!(values(&check), [8], "the refused write never ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_expires_while_another_process_holds_the_lock_is_not_run() {
        let wait = std::time::Duration::from_millis(150);
        let (_dir, writer, _changes, check) = writer_with(Limits { capacity: 16, wait });
        let writer = Arc::new(writer);
        // Another connection holds the write lock: the writer's BEGIN IMMEDIATE waits for it.
        check.execute_batch("BEGIN IMMEDIATE").unwrap();
        let refused = insert(&writer, 1).await.unwrap().unwrap_err();
        assert!(matches!(refused, Error::StorageUnavailable(_)), "{refused}");
        check.execute_batch("COMMIT").unwrap();
        insert(&writer, 2).await.unwrap().unwrap();
        assert_eq!(values(&check), [2], "the refused write never ran");
    }
}
