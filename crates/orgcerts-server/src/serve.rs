//! `orgcerts serve`: settings, logging, first-start bootstrap and the serving loop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use orgcerts_core::service::DEFAULT_MAX_CERTIFICATES_PER_ORG;
use orgcerts_core::{Service, Settings, Store};
use tokio::net::TcpListener;

use crate::{AppState, DEFAULT_MAX_BODY_BYTES};

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

    /// Largest request body accepted, in bytes; larger bodies get a 413.
    #[arg(long, env = "ORGCERTS_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Log format.
    #[arg(long, env = "ORGCERTS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Admin key for the organization created on first start (an `sk-admin-…` key), so that
    /// scripts know it in advance. Ignored when the database already has organizations.
    #[arg(long, env = "ORGCERTS_BOOTSTRAP_ADMIN_KEY", hide_env_values = true)]
    pub bootstrap_admin_key: Option<String>,
}

/// Installs the global log subscriber. `RUST_LOG` refines the level (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests starting several servers) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// On a database without organizations, creates the default one and its first admin key.
/// A generated key is printed once on stderr; a key given by the operator is not echoed.
pub async fn bootstrap(service: &Service, admin_key: Option<String>) -> anyhow::Result<()> {
    if !service.list_organizations().await?.is_empty() {
        return Ok(());
    }
    let chosen = admin_key.is_some();
    let (org, issued) = match service
        .create_organization("Default organization", admin_key)
        .await
    {
        Ok(created) => created,
        Err(orgcerts_core::Error::InvalidApiKey) => anyhow::bail!(
            "ORGCERTS_BOOTSTRAP_ADMIN_KEY must be an admin key of the form sk-admin- followed by 48 letters and digits"
        ),
        // Instances started together on one empty database race to bootstrap it; with the
        // same bootstrap key, the losers' key insert is refused as a duplicate. Whoever won,
        // the database now has its organization.
        Err(err) if !service.list_organizations().await?.is_empty() => {
            tracing::info!(error = %err, "another instance created the default organization");
            return Ok(());
        }
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

/// Runs the server on `store` until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs, store: Arc<dyn Store>) -> anyhow::Result<()> {
    let service = Arc::new(Service::new(
        store,
        Settings {
            max_certificates_per_org: args.max_certificates_per_org,
        },
    ));
    bootstrap(&service, args.bootstrap_admin_key).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    let app = crate::app(AppState {
        service,
        max_body_bytes: args.max_body_bytes,
    });
    crate::run(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
