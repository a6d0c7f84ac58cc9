//! The log writer: requests append their finished lines to a shared buffer, and one background
//! thread writes the buffer out in batches.
//!
//! `tracing-appender`'s non-blocking writer sends each line through a channel and wakes its
//! thread for each one; at tens of thousands of requests a second those wake-ups cost more than
//! the writing (`bench/profiles/README.md`). Here only the line that finds the buffer empty
//! wakes the thread, which then lingers [`LINGER`] so that the lines of the next few
//! milliseconds go out in the same `write`: one wake-up per batch.
//!
//! Guarantees: every line is written whole, in the order its `write` returned; nothing is
//! dropped (a line that finds [`MAX_PENDING`] bytes unwritten waits, so a stalled stderr slows
//! requests rather than losing lines); a line reaches the output at most about [`LINGER`] after
//! it was logged; dropping the [`LogGuard`] writes everything still buffered.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer thread gathers lines after the first one of a batch.
pub const LINGER: Duration = Duration::from_millis(5);
/// Unwritten bytes beyond which logging lines wait for the writer.
pub const MAX_PENDING: usize = 1 << 20;

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when a line lands in an empty buffer, and at close.
    filled: Condvar,
    /// Signalled when the writer has taken the buffer.
    taken: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves a buffer of whole lines: still fine to use.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The [`MakeWriter`] handed to the log subscriber.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Keeps the writer thread; dropping it writes what is buffered and ends the thread.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer whose lines go to `out` from a background thread, and the guard of that thread.
pub fn batch_writer<W: Write + Send + 'static>(out: W) -> io::Result<(BatchWriter, LogGuard)> {
    let shared = Arc::new(Shared::default());
    let thread = thread::Builder::new().name("orgcerts-log".into()).spawn({
        let shared = shared.clone();
        move || write_batches(&shared, out)
    })?;
    Ok((
        BatchWriter {
            shared: shared.clone(),
        },
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_batches<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::new();
    loop {
        let mut pending = shared.lock();
        while pending.buf.is_empty() && !pending.closed {
            pending = shared
                .filled
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if pending.buf.is_empty() {
            return; // closed, and everything written
        }
        if !pending.closed {
            drop(pending);
            thread::sleep(LINGER);
            pending = shared.lock();
        }
        // The spare buffer goes back, so that its allocation is reused.
        std::mem::swap(&mut pending.buf, &mut batch);
        drop(pending);
        shared.taken.notify_all();
        // Nowhere to report a failing stderr; the lines are lost, the server goes on.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.filled.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Write for &BatchWriter {
    /// Takes all of `line` (the log subscriber writes each line in one call).
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut pending = self.shared.lock();
        while pending.buf.len() >= MAX_PENDING && !pending.closed {
            pending = self
                .shared
                .taken
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let first = pending.buf.is_empty();
        pending.buf.extend_from_slice(line);
        drop(pending);
        if first {
            self.shared.filled.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read while the writer thread owns its clone.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_from_many_threads_come_out_whole_and_each_threads_in_order() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone()).unwrap();
        thread::scope(|s| {
            for t in 0..4 {
                let writer = &writer;
                s.spawn(move || {
                    for i in 0..2000 {
                        let line = format!("thread {t} line {i} {}\n", "x".repeat(i % 700));
                        (&*writer).write_all(line.as_bytes()).unwrap();
                    }
                });
            }
        });
        drop(guard);
        let text = sink.text();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let (t, i): (usize, usize) = (fields[1].parse().unwrap(), fields[3].parse().unwrap());
            assert_eq!(i, next[t], "thread {t}'s lines out of order or torn");
            assert_eq!(fields[4].len(), i % 700);
            next[t] += 1;
        }
        assert_eq!(next, [2000; 4]);
    }

    #[test]
    fn a_line_is_written_soon_without_a_flush_and_the_guard_writes_the_rest() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone()).unwrap();
        (&writer).write_all(b"first\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.text().is_empty() {
            assert!(std::time::Instant::now() < deadline, "line never written");
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.text(), "first\n");
        (&writer).write_all(b"second\n").unwrap();
        drop(guard);
        assert_eq!(sink.text(), "first\nsecond\n");
    }

    #[test]
    fn a_full_buffer_makes_writers_wait_instead_of_dropping_lines() {
        /// An output that takes a while per write, as a slow pipe would.
        struct Slow(Sink);
        impl Write for Slow {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                thread::sleep(Duration::from_millis(20));
                self.0.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let (writer, guard) = batch_writer(Slow(sink.clone())).unwrap();
        let line = vec![b'y'; 64 * 1024];
        for _ in 0..48 {
            (&writer).write_all(&line).unwrap();
        }
        drop(guard);
        assert_eq!(sink.0.lock().unwrap().len(), 48 * 64 * 1024);
    }
}
