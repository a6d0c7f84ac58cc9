//! What the reader and writer queues share: a bound on how many operations wait, and a
//! deadline for each, measured from when it was queued.
//!
//! Past its deadline an operation that has not started is answered `StorageUnavailable` (a
//! 503, as PostgreSQL's pool answers past its acquire timeout) and never runs; one that has
//! started is waited for, so that nothing is refused that then commits. A full queue refuses
//! at once, with the same error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use orgcerts_core::{Error, Result, StorageError};
use tokio::sync::oneshot;

use super::storage;

/// Operations that may wait in one queue (the readers' or the writer's) by default: far above
/// what a healthy server has waiting, so that only a backlog the threads cannot drain within
/// the deadline reaches it.
pub(super) const DEFAULT_CAPACITY: usize = 1024;

/// How long a queue may hold operations, and how many.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Operations waiting at most; one more is refused at once.
    pub capacity: usize,
    /// How long an operation may wait for its thread before it is refused.
    pub wait: Duration,
}

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// One queued operation's state, shared by its caller and the thread that takes it: whichever
/// of them moves it out of "queued" first decides whether it runs.
pub(super) struct Ticket {
    state: AtomicU8,
    expires: Instant,
    wait: Duration,
}

impl Ticket {
    fn new(wait: Duration) -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            state: AtomicU8::new(QUEUED),
            expires: now.checked_add(wait).unwrap_or(now),
            wait,
        })
    }

    fn claim(&self, to: u8) -> bool {
        self.state
            .compare_exchange(QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether the operation will never run: its caller gave up, or its deadline has passed
    /// (then it is marked so, and its caller is answered by whoever took it).
    pub(super) fn expired(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            ABANDONED => true,
            STARTED => false,
            _ => Instant::now() >= self.expires && (self.claim(ABANDONED) || self.expired()),
        }
    }

    /// Called by the thread about to run the operation: `true` if it may, and from then on
    /// its caller waits for the outcome, however long that takes.
    pub(super) fn start(&self) -> bool {
        !self.expired() && self.claim(STARTED)
    }

    /// The error of an operation that did not start in time.
    pub(super) fn timed_out(&self) -> Error {
        unavailable(format!(
            "the SQLite operation did not start within {} ms",
            self.wait.as_millis()
        ))
    }
}

fn unavailable(why: String) -> Error {
    Error::StorageUnavailable(StorageError::new(why))
}

/// Queues the job `make` builds for `ticket`, then waits for its outcome: answered
/// `StorageUnavailable` at once if the queue is full, and at the deadline if no thread has
/// started it by then. `who` names the threads, for messages.
pub(super) async fn run<J, T>(
    queue: &Sender<J>,
    limits: Limits,
    who: &str,
    make: impl FnOnce(Arc<Ticket>, oneshot::Sender<Result<T>>) -> J,
) -> Result<T> {
    let ticket = Ticket::new(limits.wait);
    let (done, mut outcome) = oneshot::channel();
    match queue.try_send(make(Arc::clone(&ticket), done)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Err(unavailable(format!(
                "the SQLite {who} queue is full ({} waiting)",
                limits.capacity
            )));
        }
        Err(TrySendError::Disconnected(_)) => {
            return Err(storage(format!("the SQLite {who} thread has stopped")));
        }
    }
    let lost = || storage(format!("an SQLite operation on the {who} thread panicked"));
    let deadline = tokio::time::Instant::from_std(ticket.expires);
    match tokio::time::timeout_at(deadline, &mut outcome).await {
        Ok(answer) => answer.map_err(|_| lost())?,
        // Not started: it never will be.
        Err(_) if ticket.claim(ABANDONED) => Err(ticket.timed_out()),
        // Started (it must then be waited for), or just expired by its thread, which answers.
        Err(_) => outcome.await.map_err(|_| lost())?,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_operation_cannot_be_abandoned_nor_an_abandoned_one_started() {
        let started = Ticket::new(Duration::from_mins(1));
        assert!(started.start());
        assert!(!started.claim(ABANDONED));
        assert!(!started.expired());

        let abandoned = Ticket::new(Duration::from_mins(1));
        assert!(abandoned.claim(ABANDONED));
        assert!(!abandoned.start());
    }

    #[test]
    fn an_operation_past_its_deadline_does_not_start() {
        let ticket = Ticket::new(Duration::ZERO);
        assert!(ticket.expired());
        assert!(!ticket.start());
        assert!(ticket.timed_out().to_string().contains("within 0 ms"));
    }
}
