//! The gateway benchmark's load generator (`bench/README.md`), and what the rows need with it.
//!
//! - (no subcommand) `--url https://127.0.0.1:PORT/v1/chat/completions …`: drives a TLS server
//!   with HTTP/1.1 requests, presenting a client certificate when `--cert`/`--key` are given
//!   (wrk and h2load cannot), in keep-alive or handshake mode; prints one JSON object on stdout:
//!   `requests`, `errors` (unexpected status or I/O error, warm-up included) with
//!   `error_examples`, `reconnects`, `req_per_s`, `p50_ms`, `p99_ms` (of the requests completed
//!   in the measured window), `duration` (s) and `cpu_s` (this process's CPU time in the
//!   measured window). It says `measuring` and `measured` on stderr when that window opens and
//!   closes, so that a harness can read the server's CPU time at the same moments.
//! - `certs --out DIR`: the server and client certificates (ECDSA P-256) as PEM files.
//! - `upstream --listen ADDR`: the fixed upstream; prints `listening ADDR` once it accepts.

mod certs;
mod histogram;
mod load;
mod upstream;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "orgcerts-bench-mtls-load",
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the benchmark's CA, server and client certificates as PEM files.
    Certs {
        /// The directory to write them to (created when missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Answer every request with a fixed chat completion (plain HTTP/1.1).
    Upstream {
        /// Address to listen on; port 0 picks one (printed as `listening ADDR`).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// The URL every request goes to, `https://HOST:PORT/PATH`.
    #[arg(long)]
    url: Option<String>,
    /// The request method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// A request header, `NAME: VALUE` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// The request body.
    #[arg(long)]
    body: Option<String>,
    /// PEM certificates trusted for the server's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The client certificate chain to present (PEM, leaf first); none when absent.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Connections at once (keep-alive) or connections being made at once (handshake).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of load before the measurement.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// keepalive: requests back to back on each connection; handshake: a new TCP + TLS
    /// connection (full handshake, no resumption) for every request.
    #[arg(long, value_enum, default_value = "keepalive")]
    mode: load::Mode,
    /// The status every answer must have; any other counts as an error.
    #[arg(long, default_value_t = 200)]
    expect_status: u16,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Certs { out }) => certs::write(&out),
        Some(Command::Upstream { listen }) => upstream::run(listen),
        None => {
            let args = cli.load;
            let options = load::Options {
                url: args.url.context("--url is required")?,
                method: args.method,
                headers: args.headers,
                body: args.body,
                ca: args.ca.context("--ca is required")?,
                cert: args.cert,
                key: args.key,
                connections: args.connections,
                duration: args.duration,
                warmup: args.warmup,
                mode: args.mode,
                expect_status: args.expect_status,
            };
            let result = load::run(&options)?;
            println!("{result}");
            Ok(())
        }
    }
}
