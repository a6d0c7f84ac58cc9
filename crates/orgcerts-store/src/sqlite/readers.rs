//! The reader connections: each one owned by a thread of its own, all taking reads off one
//! queue.
//!
//! Not tokio's blocking pool with a connection pool: under load that costs several times the
//! read itself, since tokio starts a thread for every read in flight (up to one per client
//! connection), all but the pool's size of them sleep on the pool's condition variable, and
//! every read wakes, contends for and parks threads twice (`bench/profiles/README.md`). Here a
//! read is queued once and taken by a thread that already holds a connection; a thread sleeps
//! only when the queue is empty.
//! The queue is bounded, and a read that no thread took within its deadline is refused
//! ([`super::queue`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use crossbeam_channel::{Receiver, Sender};
use orgcerts_core::Result;
use orgcerts_core::model::PoolStatus;
use rusqlite::Connection;

use super::queue::{self, Limits};

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// The reader threads of one store. Dropping it lets each thread finish the reads already
/// queued, close its connection and end.
pub(super) struct Readers {
    queue: Sender<Job>,
    limits: Limits,
    busy: Arc<AtomicU32>,
    threads: u32,
}

impl Readers {
    /// Starts one thread per connection.
    pub(super) fn start(connections: Vec<Connection>, limits: Limits) -> std::io::Result<Self> {
        let (queue, jobs) = crossbeam_channel::bounded(limits.capacity);
        let busy = Arc::new(AtomicU32::new(0));
        let threads = u32::try_from(connections.len()).unwrap_or(u32::MAX);
        for (i, conn) in connections.into_iter().enumerate() {
            let (jobs, busy) = (jobs.clone(), Arc::clone(&busy));
            thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || serve(&conn, &jobs, &busy))?;
        }
        Ok(Self {
            queue,
            limits,
            busy,
            threads,
        })
    }

    /// Runs `f` on one of the connections, unless the queue is full or no thread takes it
    /// within the deadline (`StorageUnavailable`). A read that panics is an error of its own;
    /// the thread and its connection carry on.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        queue::run(&self.queue, self.limits, "reader", |ticket, done| {
            let job: Job = Box::new(move |conn| {
                let answer = if ticket.start() {
                    f(conn)
                } else {
                    Err(ticket.timed_out())
                };
                // The caller may be gone (its request cancelled): nobody to tell, nothing to
                // undo.
                let _ = done.send(answer);
            });
            job
        })
        .await
    }

    /// Connections running a read (in use) and waiting for one (idle).
    pub(super) fn status(&self) -> PoolStatus {
        let in_use = self.busy.load(Ordering::Relaxed).min(self.threads);
        PoolStatus {
            in_use,
            idle: self.threads - in_use,
        }
    }
}

/// One reader thread: runs the queued reads on `conn` until the store is dropped.
fn serve(conn: &Connection, jobs: &Receiver<Job>, busy: &AtomicU32) {
    for job in jobs {
        busy.fetch_add(1, Ordering::Relaxed);
        // A panic drops the job's sender, which tells its caller; the connection is left as
        // the next read expects it (`SqliteStore::read` rolls back what a panic left open).
        let _ = catch_unwind(AssertUnwindSafe(|| job(conn)));
        busy.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use orgcerts_core::Error;

    use super::*;

    fn readers(n: usize) -> Readers {
        readers_with(n, 1024, Duration::from_mins(1))
    }

    fn readers_with(n: usize, capacity: usize, wait: Duration) -> Readers {
        let connections = (0..n)
            .map(|_| Connection::open_in_memory().unwrap())
            .collect();
        Readers::start(connections, Limits { capacity, wait }).unwrap()
    }

    /// Holds the only reader thread in a read until the returned sender is used.
    async fn hold(
        readers: &Arc<Readers>,
    ) -> (mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
        let (started, start) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let held = tokio::spawn({
            let readers = Arc::clone(readers);
            async move {
                readers
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once() {
        let readers = Arc::new(readers_with(1, 2, Duration::from_mins(1)));
        let (release, held) = hold(&readers).await;
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let readers = Arc::clone(&readers);
                tokio::spawn(async move { readers.run(|_| Ok(())).await })
            })
            .collect();
        while readers.queue.len() < 2 {
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        let refused = readers.run(|_| Ok(())).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(refused, Error::StorageUnavailable(_)), "{refused}");
        assert!(refused.to_string().contains("queue is full"), "{refused}");
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for read in waiting {
            read.await.unwrap().unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_not_started_within_its_deadline_is_refused_and_never_runs() {
        let readers = Arc::new(readers_with(1, 16, Duration::from_millis(100)));
        let (release, held) = hold(&readers).await;
        let ran = Arc::new(AtomicU32::new(0));
        let started = Instant::now();
        let refused = readers
            .run({
                let ran = Arc::clone(&ran);
                move |_| {
                    ran.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            })
            .await
            .unwrap_err();
        let waited = started.elapsed();
        assert!(matches!(refused, Error::StorageUnavailable(_)), "{refused}");
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        release.send(()).unwrap();
        held.await.unwrap().unwrap(); // started before its deadline: it runs to the end
        // The thread took the refused read and dropped it; the next one runs.
        readers.run(|_| Ok(())).await.unwrap();
        assert_eq!(ran.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn reads_run_on_the_reader_connections() {
        let readers = readers(2);
        let answer: i64 = readers
            .run(|conn| {
                Ok(conn
                    .query_row("SELECT 6 * 7", [], |row| row.get(0))
                    .unwrap())
            })
            .await
            .unwrap();
        assert_eq!(answer, 42);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_status_counts_connections_running_a_read() {
        let readers = Arc::new(readers(2));
        let status = |r: &Readers| (r.status().in_use, r.status().idle);
        assert_eq!(status(&readers), (0, 2));
        let (started, start) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let held = tokio::spawn({
            let readers = Arc::clone(&readers);
            async move {
                readers
                    .run(move |_| {
                        started.send(()).unwrap();
                        finished.recv().unwrap();
                        Ok(())
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || start.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(status(&readers), (1, 1));
        finish.send(()).unwrap();
        held.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_read_that_panics_fails_alone() {
        let readers = readers(1);
        let failed = readers
            .run::<(), _>(|_| panic!("a read that panics"))
            .await
            .unwrap_err();
        assert!(failed.to_string().contains("panicked"), "{failed}");
        // The one thread survived it and still serves.
        let after: i64 = readers
            .run(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get(0)).unwrap()))
            .await
            .unwrap();
        assert_eq!(after, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_reads_in_flight_share_few_connections() {
        let readers = Arc::new(readers(2));
        let reads = (0..200i64).map(|i| {
            let readers = Arc::clone(&readers);
            tokio::spawn(async move {
                readers
                    .run(move |conn| {
                        Ok(conn
                            .query_row("SELECT ?1", [i], |row| row.get::<_, i64>(0))
                            .unwrap())
                    })
                    .await
                    .unwrap()
            })
        });
        let mut sum = 0i64;
        for read in reads.collect::<Vec<_>>() {
            sum += read.await.unwrap();
        }
        assert_eq!(sum, (0..200).sum::<i64>());
    }
}
