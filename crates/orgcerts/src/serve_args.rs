//! The command line of `orgcerts serve`, turned into the server library's [`ServeConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use orgcerts_core::service::{DEFAULT_MAX_CERTIFICATES_PER_ORG, DEFAULT_READ_CACHE_ITEMS};
use orgcerts_server::listener::DEFAULT_MAX_CONNECTIONS;
use orgcerts_server::serve::{LogFormat, ServeConfig};
use orgcerts_server::{ConnectionLimits, DEFAULT_MAX_BODY_BYTES, HttpSettings};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// One JSON object per line, for log pipelines.
    Json,
    /// Human-readable lines, for a terminal.
    Pretty,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Json => Self::Json,
            LogFormatArg::Pretty => Self::Pretty,
        }
    }
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
    #[arg(long, env = "ORGCERTS_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Pretty)]
    pub log_format: LogFormatArg,

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

    /// Serve /metrics (and /healthz, /readyz) on this separate plain-HTTP address, e.g.
    /// 127.0.0.1:9464. Without it /metrics is served nowhere; /healthz and /readyz are
    /// always on the API listener too.
    #[arg(long, env = "ORGCERTS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Requests per minute per admin key (token bucket); 0 turns rate limiting off.
    #[arg(long, env = "ORGCERTS_RATE_LIMIT_PER_MINUTE", default_value_t = HttpSettings::default().rate_limit_per_minute)]
    pub rate_limit_per_minute: u32,

    /// Largest burst of requests per admin key.
    #[arg(long, env = "ORGCERTS_RATE_LIMIT_BURST", default_value_t = HttpSettings::default().rate_limit_burst)]
    pub rate_limit_burst: u32,

    /// Failed authentications per minute per client address; past it, requests from that
    /// address that fail authentication get a 429 with Retry-After instead of a 401 (valid
    /// keys are never limited by it). 0 turns the limit off.
    #[arg(long, env = "ORGCERTS_FAILED_AUTH_PER_MINUTE", default_value_t = HttpSettings::default().failed_auth_per_minute)]
    pub failed_auth_per_minute: u32,

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

    /// Most client connections held at once on the API listener; more wait in the listen
    /// backlog. Capped further below the open-file limit (raised to its hard limit at start),
    /// keeping room for the database and the log.
    #[arg(long, env = "ORGCERTS_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = at_least_one)]
    pub max_connections: usize,

    /// Largest request head (request line and headers), in bytes.
    #[arg(long, env = "ORGCERTS_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
}

/// A count of at least one.
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

impl ServeArgs {
    /// The server's configuration; reads the bootstrap key file if one is named.
    pub fn into_config(self) -> anyhow::Result<ServeConfig> {
        let bootstrap_admin_key = match &self.bootstrap_admin_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the bootstrap admin key file {}",
                        path.display()
                    )
                })?;
                Some(text.trim().to_owned())
            }
            None => self.bootstrap_admin_key,
        };
        Ok(ServeConfig {
            listen: self.listen,
            max_certificates_per_org: self.max_certificates_per_org,
            read_cache_items: self.read_cache_items,
            http: HttpSettings {
                max_body_bytes: self.max_body_bytes,
                body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
                rate_limit_per_minute: self.rate_limit_per_minute,
                rate_limit_burst: self.rate_limit_burst,
                failed_auth_per_minute: self.failed_auth_per_minute,
                metrics_on_api_listener: false,
            },
            limits: ConnectionLimits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                max_header_bytes: self.max_header_bytes,
                max_connections: self.max_connections,
                ..ConnectionLimits::default()
            },
            bootstrap_admin_key,
            tls: self.tls_cert.zip(self.tls_key),
            metrics_listen: self.metrics_listen,
            key_use_flush: Duration::from_secs(self.key_use_flush_secs),
        })
    }
}
