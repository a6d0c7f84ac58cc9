//! `orgcerts serve`: settings, logging, first-start bootstrap and the serving loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use orgcerts_core::service::{DEFAULT_MAX_CERTIFICATES_PER_ORG, DEFAULT_READ_CACHE_ITEMS};
use orgcerts_core::{Service, Settings, Store};
use tokio::net::TcpListener;

use crate::listener::{ConnectionLimits, serve_connections, tls_config};
use crate::{AppState, DEFAULT_MAX_BODY_BYTES, HttpSettings};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log pipelines.
    Json,
    /// Human-readable lines, for a terminal.
    Pretty,
}

/// Settings of `orgcerts serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged).
    #[arg(long, env = "ORGCERTS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Most certificates one organization may hold at once.
    #[arg(long, env = "ORGCERTS_MAX_CERTIFICATES_PER_ORG", default_value_t = DEFAULT_MAX_CERTIFICATES_PER_ORG,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_certificates_per_org: u32,

    /// Certificates the in-memory read cache may hold. It reflects every write this server
    /// acknowledged; other processes' commits within 1 ms on SQLite, at once on PostgreSQL.
    /// 0 turns it off.
    #[arg(long, env = "ORGCERTS_READ_CACHE_ITEMS", default_value_t = DEFAULT_READ_CACHE_ITEMS)]
    pub read_cache_items: u64,

    /// Largest request body accepted, in bytes; larger bodies get a 413.
    #[arg(long, env = "ORGCERTS_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Log format.
    #[arg(long, env = "ORGCERTS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Admin key for the organization created on first start (an `sk-admin-…` key), so that
    /// scripts know it in advance. Ignored when the database already has organizations.
    #[arg(
        long,
        env = "ORGCERTS_BOOTSTRAP_ADMIN_KEY",
        hide_env_values = true,
        conflicts_with = "bootstrap_admin_key_file"
    )]
    pub bootstrap_admin_key: Option<String>,

    /// File holding the bootstrap admin key (surrounding whitespace is ignored), so that the
    /// key need not appear in the environment or on the command line.
    #[arg(long, env = "ORGCERTS_BOOTSTRAP_ADMIN_KEY_FILE")]
    pub bootstrap_admin_key_file: Option<PathBuf>,

    /// PEM certificate chain for TLS on the API listener (with --tls-key). HTTP/2 and
    /// HTTP/1.1 are offered by ALPN.
    #[arg(long, env = "ORGCERTS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS on the API listener (with --tls-cert).
    #[arg(long, env = "ORGCERTS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve /metrics, /healthz and /readyz on this separate plain-HTTP address instead of
    /// /metrics on the API listener (health endpoints stay on both).
    #[arg(long, env = "ORGCERTS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Requests per minute per admin key (token bucket); 0 turns rate limiting off.
    #[arg(long, env = "ORGCERTS_RATE_LIMIT_PER_MINUTE", default_value_t = HttpSettings::default().rate_limit_per_minute)]
    pub rate_limit_per_minute: u32,

    /// Largest burst of requests per admin key.
    #[arg(long, env = "ORGCERTS_RATE_LIMIT_BURST", default_value_t = HttpSettings::default().rate_limit_burst)]
    pub rate_limit_burst: u32,

    /// Seconds a client has to send complete request headers; also how long an idle
    /// keep-alive connection is kept.
    #[arg(long, env = "ORGCERTS_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Seconds a client has to send a request body once its headers are in (408 after).
    #[arg(long, env = "ORGCERTS_BODY_READ_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_secs: u64,

    /// Seconds between the writes of the admin keys' `last_used_at`, each one batch for all
    /// keys used since the last (and a last one at shutdown), never a write per request.
    #[arg(long, env = "ORGCERTS_KEY_USE_FLUSH_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub key_use_flush_secs: u64,

    /// Largest request head (request line and headers), in bytes.
    #[arg(long, env = "ORGCERTS_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
}

impl ServeArgs {
    fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            max_body_bytes: self.max_body_bytes,
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            rate_limit_per_minute: self.rate_limit_per_minute,
            rate_limit_burst: self.rate_limit_burst,
            metrics_on_api_listener: self.metrics_listen.is_none(),
        }
    }

    fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_header_bytes: self.max_header_bytes,
            ..ConnectionLimits::default()
        }
    }

    /// The bootstrap key, from the flag/variable or from the file.
    fn bootstrap_key(&self) -> anyhow::Result<Option<String>> {
        match &self.bootstrap_admin_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the bootstrap admin key file {}",
                        path.display()
                    )
                })?;
                Ok(Some(text.trim().to_owned()))
            }
            None => Ok(self.bootstrap_admin_key.clone()),
        }
    }
}

pub use crate::logwriter::LogGuard;

/// Installs the global log subscriber. `RUST_LOG` refines the level (default `info`). Lines go
/// to stderr through a background thread in batches ([`crate::logwriter`]), so a slow terminal
/// or pipe never stalls a request; when too much is unwritten, requests wait rather than lines
/// being dropped.
pub fn init_logging(format: LogFormat) -> std::io::Result<LogGuard> {
    let (writer, guard) = crate::logwriter::batch_writer(std::io::stderr())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    // A second initialisation (tests starting several servers) keeps the first subscriber.
    let _ = match format {
        // The lines of tracing-subscriber's `.json().with_current_span(true)
        // .with_span_list(false)`, written more cheaply (see `logformat`).
        LogFormat::Json => builder
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(crate::logformat::JsonLines)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    Ok(guard)
}

/// On a database without organizations, creates the default one and its first admin key.
/// A generated key is printed once on stderr; a key given by the operator is not echoed.
/// Instances started together on one empty database race here; the store lets exactly one
/// create it.
pub async fn bootstrap(service: &Service, admin_key: Option<String>) -> anyhow::Result<()> {
    if service.has_organizations().await? {
        return Ok(()); // the usual start: nothing to create, and the key is not looked at
    }
    let chosen = admin_key.is_some();
    let (org, issued) = match service
        .create_first_organization("Default organization", admin_key)
        .await
    {
        Ok(Some(created)) => created,
        Ok(None) => return Ok(()),
        Err(orgcerts_core::Error::InvalidApiKey) => anyhow::bail!(
            "ORGCERTS_BOOTSTRAP_ADMIN_KEY must be an admin key of the form sk-admin- followed by 48 letters and digits"
        ),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(organization_id = %org.id, "created the default organization");
    if !chosen {
        eprintln!(
            "orgcerts: created organization {} with admin key\n\n    {}\n\nThis key is shown only once: store it now.",
            org.id, issued.secret
        );
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Writes the admin keys' last use every `every`, in one batch, never once per request.
pub fn spawn_key_use_flusher(
    service: Arc<Service>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(err) = service.flush_key_use().await {
                tracing::warn!(error = %err, "could not record the admin keys' last use");
            }
        }
    })
}

/// Runs the server on `store` until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs, store: Arc<dyn Store>) -> anyhow::Result<()> {
    let service = Arc::new(Service::new(
        store,
        Settings {
            max_certificates_per_org: args.max_certificates_per_org,
            read_cache_items: args.read_cache_items,
        },
    ));
    bootstrap(&service, args.bootstrap_key()?).await?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        _ => None,
    };
    let flusher = spawn_key_use_flusher(
        Arc::clone(&service),
        Duration::from_secs(args.key_use_flush_secs),
    );
    let state = AppState::new(Arc::clone(&service), args.http_settings());
    let limits = args.connection_limits();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let ops_server = match args.metrics_listen {
        Some(ops_addr) => {
            let ops_listener = TcpListener::bind(ops_addr)
                .await
                .with_context(|| format!("cannot listen on {ops_addr} for metrics"))?;
            tracing::info!(addr = %ops_listener.local_addr()?, "metrics listening");
            Some(tokio::spawn(serve_connections(
                ops_listener,
                crate::ops_app(state.clone()),
                None,
                limits.clone(),
                stopped(),
            )))
        }
        None => None,
    };
    let housekeeping = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_mins(1));
            loop {
                tick.tick().await;
                state.forget_idle_rate_limits();
            }
        })
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    tracing::info!(%addr, tls = tls.is_some(), "listening");
    let app = crate::app(state);
    serve_connections(listener, app, tls, limits, stopped()).await?;
    if let Some(ops) = ops_server {
        ops.await??;
    }
    housekeeping.abort();
    flusher.abort();
    // The last authentications, so that `last_used_at` survives the restart.
    if let Err(err) = service.flush_key_use().await {
        tracing::warn!(error = %err, "could not record the admin keys' last use");
    }
    tracing::info!("stopped");
    Ok(())
}
