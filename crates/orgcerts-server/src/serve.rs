//! `orgcerts serve`: settings, logging, first-start bootstrap and the serving loop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use orgcerts_core::{Service, Settings, Store};
use tokio::net::TcpListener;

use crate::listener::{ConnectionLimits, serve_connections, tls_config};
use crate::{AppState, HttpSettings};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log pipelines.
    Json,
    /// Human-readable lines, for a terminal.
    Pretty,
}

/// Connections the metrics listener may hold at once (part of [`crate::fdlimit::HEADROOM`]).
const OPS_MAX_CONNECTIONS: usize = 32;

/// Everything `orgcerts serve` needs, already parsed (the command line lives in the binary).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address of the API listener (port 0 picks a free port; the chosen address is logged).
    pub listen: SocketAddr,
    /// Most certificates one organization may hold at once.
    pub max_certificates_per_org: u32,
    /// Certificates the in-memory read cache may hold; 0 turns it off.
    pub read_cache_items: u64,
    /// Request-level settings of the HTTP layer.
    pub http: HttpSettings,
    /// Connection-level limits of both listeners.
    pub limits: ConnectionLimits,
    /// Admin key for the organization created on first start; generated when `None`.
    pub bootstrap_admin_key: Option<String>,
    /// PEM certificate chain and private key for TLS on the API listener.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Address of the operator listener serving `/metrics`, `/healthz` and `/readyz`;
    /// `/metrics` is served nowhere without it.
    pub metrics_listen: Option<SocketAddr>,
    /// Time between the batched writes of the admin keys' `last_used_at`.
    pub key_use_flush: Duration,
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

/// Records keys' last use every `every` with `flush` (one batch for all keys used since the
/// last, never a write per request); `keys` names them in the warning of a failed write.
pub fn spawn_key_use_flusher<F, Fut>(
    every: Duration,
    keys: &'static str,
    flush: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = orgcerts_core::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(err) = flush().await {
                tracing::warn!(error = %err, keys, "could not record the keys' last use");
            }
        }
    })
}

/// `limits` with `max_connections` capped below the open-file limit, which is raised to its
/// hard limit first; a warning says when the cap bites.
pub fn within_open_file_limit(limits: &ConnectionLimits) -> ConnectionLimits {
    let open_files = crate::fdlimit::raise_open_file_limit();
    let mut capped = limits.clone();
    capped.max_connections = crate::fdlimit::connection_cap(limits.max_connections, open_files);
    if capped.max_connections < limits.max_connections {
        tracing::warn!(
            open_file_limit = open_files,
            max_connections = capped.max_connections,
            "connections capped below --max-connections to stay within the open-file limit"
        );
    }
    capped
}

/// The limits of an operator listener (`--metrics-listen`): a few connections of the headroom
/// [`crate::fdlimit::HEADROOM`] keeps for it.
pub fn ops_limits(limits: &ConnectionLimits) -> ConnectionLimits {
    ConnectionLimits {
        max_connections: OPS_MAX_CONNECTIONS,
        ..limits.clone()
    }
}

/// Binds a listener, saying which one in the error.
pub async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for {what}"))
}

/// Stops every listener of a process at once, on SIGINT or SIGTERM.
#[derive(Debug, Clone)]
pub struct Stop(tokio::sync::watch::Receiver<bool>);

impl Stop {
    /// Listens for the signals from now on.
    pub fn on_signal() -> Self {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        Self(stop_rx)
    }

    /// Resolves once the signal has come.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

/// Runs the server on `store` until SIGINT or SIGTERM.
pub async fn serve(config: ServeConfig, store: Arc<dyn Store>) -> anyhow::Result<()> {
    let service = Arc::new(Service::new(
        store,
        Settings {
            max_certificates_per_org: config.max_certificates_per_org,
            read_cache_items: config.read_cache_items,
        },
    ));
    bootstrap(&service, config.bootstrap_admin_key.clone()).await?;
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None => None,
    };
    let flusher = {
        let service = Arc::clone(&service);
        spawn_key_use_flusher(config.key_use_flush, "admin", move || {
            let service = Arc::clone(&service);
            async move { service.flush_key_use().await }
        })
    };
    let state = AppState::new(Arc::clone(&service), config.http.clone());
    let limits = within_open_file_limit(&config.limits);
    let stop = Stop::on_signal();
    let listener = bind(config.listen, "the API").await?;
    let addr = listener.local_addr()?;
    let ops_server = match config.metrics_listen {
        Some(ops_addr) => {
            let ops_listener = bind(ops_addr, "metrics").await?;
            tracing::info!(addr = %ops_listener.local_addr()?, "metrics listening");
            Some(tokio::spawn(serve_connections(
                ops_listener,
                crate::ops_app(state.clone()),
                None,
                ops_limits(&limits),
                stop.stopped(),
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
    tracing::info!(%addr, tls = tls.is_some(), max_connections = limits.max_connections, "listening");
    let app = crate::app(state);
    serve_connections(listener, app, tls, limits, stop.stopped()).await?;
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
