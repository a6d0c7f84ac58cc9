//! The request log line, written both ways in one process, alternately: through the server's
//! own `logformat` (the JSON line) and `logwriter` (the batching background writer), and
//! through tracing-subscriber's JSON layer (`.json().with_current_span(true)
//! .with_span_list(false)`, the line `logformat` reproduces) and tracing-appender's
//! non-blocking writer (lossless, like `logwriter`). Both write to a file.
//!
//! Each round logs `--events` request lines per variant, the fields the server's observe
//! layer logs, and measures: the time the logging thread spends (what a request pays), the
//! time until every line is in the file, and the process's CPU time over both (the writer
//! thread's share included). Prints one JSON object: the median of each over `--rounds`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use orgcerts_server::{logformat, logwriter};
use tracing_subscriber::fmt::format::JsonFields;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One variant's figures for one round, in nanoseconds per event.
#[derive(Clone, Copy)]
struct Round {
    caller: f64,
    total: f64,
    cpu: f64,
}

/// Which writer and format a round uses.
#[derive(Clone, Copy)]
enum Variant {
    Project,
    Crates,
}

/// The process's CPU time (user and system, every thread), from `/proc/self/stat`; its
/// clock ticks are 1/100 s on Linux.
fn cpu_time() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("short /proc/self/stat")?.parse()?)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

/// Logs `events` request lines, as the observe layer does.
fn log_requests(events: u64) {
    for i in 0..events {
        let request_id = "req_4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a";
        let method = "GET";
        let path = "/v1/organization/certificates";
        let latency_us = 80 + i % 64;
        tracing::info!(
            target: "orgcerts_server::middleware",
            request_id,
            method,
            path,
            status = 200_u16,
            latency_us,
            "request"
        );
    }
}

fn round(variant: Variant, events: u64, out: &Path) -> anyhow::Result<Round> {
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let cpu_before = cpu_time()?;
    let started = Instant::now();
    let caller = match variant {
        Variant::Project => {
            let (writer, guard) = logwriter::batch_writer(file)?;
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(writer)
                .fmt_fields(JsonFields::new())
                .event_format(logformat::JsonLines)
                .finish();
            tracing::subscriber::with_default(subscriber, || log_requests(events));
            let caller = started.elapsed();
            drop(guard);
            caller
        }
        Variant::Crates => {
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(file);
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(writer)
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish();
            tracing::subscriber::with_default(subscriber, || log_requests(events));
            let caller = started.elapsed();
            drop(guard);
            caller
        }
    };
    let total = started.elapsed();
    let cpu = cpu_time()?.saturating_sub(cpu_before);
    let lines = std::fs::read_to_string(out)?.lines().count();
    if lines as u64 != events {
        bail!("{} lines in {}, {events} logged", lines, out.display());
    }
    // Exact below 2^52 events.
    #[allow(clippy::cast_precision_loss)]
    let per = |d: Duration| d.as_secs_f64() * 1e9 / events as f64;
    Ok(Round {
        caller: per(caller),
        total: per(total),
        cpu: per(cpu),
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn summary(rounds: &[Round]) -> serde_json::Value {
    let pick = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    serde_json::json!({
        "caller_ns_per_event": pick(|r| r.caller),
        "total_ns_per_event": pick(|r| r.total),
        "cpu_ns_per_event": pick(|r| r.cpu),
    })
}

fn main() -> anyhow::Result<()> {
    let mut events = 200_000_u64;
    let mut rounds = 5_usize;
    let mut dir = std::env::temp_dir();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--events" => events = value.parse()?,
            "--rounds" => rounds = value.parse()?,
            "--dir" => dir = PathBuf::from(value),
            other => bail!("unknown argument {other}"),
        }
    }
    if events == 0 || rounds == 0 {
        bail!("--events and --rounds must be at least 1");
    }
    let out = dir.join(format!(
        "orgcerts-bench-logformat-{}.log",
        std::process::id()
    ));
    let (mut project, mut crates) = (Vec::new(), Vec::new());
    // A warm-up round each, then the measured rounds, alternating.
    round(Variant::Project, events / 10 + 1, &out)?;
    round(Variant::Crates, events / 10 + 1, &out)?;
    for _ in 0..rounds {
        project.push(round(Variant::Project, events, &out)?);
        crates.push(round(Variant::Crates, events, &out)?);
    }
    let sample_line = std::fs::read_to_string(&out)?
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let _ = std::fs::remove_file(&out);
    let report = serde_json::json!({
        "events": events,
        "rounds": rounds,
        "logformat_logwriter": summary(&project),
        "tracing_subscriber_appender": summary(&crates),
        "sample_line": sample_line,
    });
    println!("{report}");
    Ok(())
}
