//! The ceiling of the benchmarks (`bench/README.md`): the HTTP stack of `orgcerts serve` with
//! nothing behind it. Every request gets the same JSON body, read once from a file at start
//! (the harness gives it a real 20-item list page, so both serve the same number of bytes).
//!
//! The accept loop mirrors `orgcerts-server`'s `listener::serve_connections` (hyper-util's
//! auto builder, the same HTTP/1 settings, TCP_NODELAY, a graceful-shutdown watcher per
//! connection) and runs on the same runtime: `#[tokio::main]`, one worker thread per core.
//! What orgcerts adds on top (middleware, authentication, the store, JSON encoding) is what
//! the benchmark measures.
//!
//! Usage: `orgcerts-bench-ceiling --listen 127.0.0.1:0 --body-file page.json`; prints
//! `listening <addr>` on stdout once it accepts connections.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// The allocator of `orgcerts serve`, so that the ceiling differs from it only by what orgcerts
/// does per request.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

struct Args {
    listen: SocketAddr,
    body_file: PathBuf,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse()?;
    let mut body_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = value.parse().context("--listen takes HOST:PORT")?,
            "--body-file" => body_file = Some(PathBuf::from(value)),
            other => anyhow::bail!(
                "unknown argument {other}; usage: orgcerts-bench-ceiling [--listen ADDR] --body-file FILE"
            ),
        }
    }
    Ok(Args {
        listen,
        body_file: body_file.context("--body-file FILE is required")?,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let body = Bytes::from(
        std::fs::read(&args.body_file)
            .with_context(|| format!("cannot read {}", args.body_file.display()))?,
    );
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    });

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    println!("listening {}", listener.local_addr()?);

    // The same settings as orgcerts' default ConnectionLimits.
    let header_read_timeout = Duration::from_secs(10);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(32 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(header_read_timeout))
        .keep_alive_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let _ = watcher.watch(conn.into_owned()).await;
        });
    }
}
