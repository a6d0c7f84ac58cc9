//! The command line of `orgcerts gateway`, turned into the gateway library's [`GatewayConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use orgcerts_gateway_server::{GatewayConfig, UpstreamSettings, parse_upstream};
use orgcerts_server::ConnectionLimits;
use orgcerts_server::listener::DEFAULT_MAX_CONNECTIONS;

use crate::serve_args::{LogFormatArg, at_least_one};

/// Settings of `orgcerts gateway`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// Address of the TLS listener (port 0 picks a free port; the chosen address is logged).
    #[arg(
        long,
        env = "ORGCERTS_GATEWAY_LISTEN",
        default_value = "127.0.0.1:8443"
    )]
    pub listen: SocketAddr,

    /// PEM certificate chain the gateway presents to clients.
    #[arg(long, env = "ORGCERTS_TLS_CERT")]
    pub tls_cert: PathBuf,

    /// PEM private key of that certificate.
    #[arg(long, env = "ORGCERTS_TLS_KEY")]
    pub tls_key: PathBuf,

    /// The OpenAI-compatible API that passed requests go to, with its `/v1`, e.g.
    /// `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1` (HTTPS with the webpki roots).
    #[arg(long, env = "ORGCERTS_UPSTREAM")]
    pub upstream: String,

    /// Sent upstream as `Authorization: Bearer …` in place of the client's key; without it,
    /// passed requests go upstream without an `Authorization` header.
    #[arg(long, env = "ORGCERTS_UPSTREAM_API_KEY", hide_env_values = true)]
    pub upstream_api_key: Option<String>,

    /// Send the verified client certificate upstream in an RFC 9440 `Client-Cert` header.
    #[arg(long, env = "ORGCERTS_FORWARD_CLIENT_CERT")]
    pub forward_client_cert: bool,

    /// Seconds the upstream may take to start answering before the client gets a 504.
    #[arg(long, env = "ORGCERTS_UPSTREAM_TIMEOUT_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_secs: u64,

    /// Serve /metrics, /healthz and /readyz on this plain-HTTP address, e.g. 127.0.0.1:9465.
    #[arg(long, env = "ORGCERTS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format.
    #[arg(long, env = "ORGCERTS_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Pretty)]
    pub log_format: LogFormatArg,

    /// How often the database is asked whether trust or keys changed, in ms.
    #[arg(long, env = "ORGCERTS_TRUST_POLL_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub trust_poll_ms: u64,

    /// How old the last confirmed view of the database may be before requests get a 503
    /// `authentication_temporarily_unavailable`, in ms: a change made meanwhile could be missed.
    #[arg(long, env = "ORGCERTS_TRUST_MAX_AGE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub trust_max_age_ms: u64,

    /// Seconds a client has for its TLS handshake and for complete request headers; also how
    /// long an idle keep-alive connection is kept.
    #[arg(long, env = "ORGCERTS_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Most client connections held at once; more wait in the listen backlog.
    #[arg(long, env = "ORGCERTS_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = at_least_one)]
    pub max_connections: usize,

    /// Largest request head (request line and headers), in bytes.
    #[arg(long, env = "ORGCERTS_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,

    /// Certificate decisions kept in memory, so that a chain seen before costs a lookup.
    #[arg(
        long,
        env = "ORGCERTS_DECISION_CACHE_ENTRIES",
        default_value_t = 100_000
    )]
    pub decision_cache_entries: usize,

    /// How long the attribute filters of one request may evaluate, in ms; past it the request
    /// gets a 503 `authentication_temporarily_unavailable` rather than holding a worker.
    #[arg(long, env = "ORGCERTS_ATTRIBUTE_FILTER_DEADLINE_MS", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub attribute_filter_deadline_ms: u64,

    /// Key lookups kept in memory between changes to the database.
    #[arg(long, env = "ORGCERTS_KEY_CACHE_ENTRIES", default_value_t = 100_000)]
    pub key_cache_entries: usize,

    /// Seconds between the writes of the service account keys' `last_used_at`, each one batch
    /// for all keys used since the last (and a last one at shutdown), never a write per request.
    #[arg(long, env = "ORGCERTS_KEY_USE_FLUSH_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub key_use_flush_secs: u64,
}

impl GatewayArgs {
    /// The gateway's configuration.
    pub fn into_config(self) -> anyhow::Result<GatewayConfig> {
        let url = parse_upstream(&self.upstream).context("--upstream")?;
        Ok(GatewayConfig {
            listen: self.listen,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            upstream: UpstreamSettings {
                url,
                api_key: self.upstream_api_key,
                forward_client_cert: self.forward_client_cert,
                timeout: Duration::from_secs(self.upstream_timeout_secs),
            },
            metrics_listen: self.metrics_listen,
            limits: ConnectionLimits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                max_header_bytes: self.max_header_bytes,
                max_connections: self.max_connections,
                ..ConnectionLimits::default()
            },
            trust_poll: Duration::from_millis(self.trust_poll_ms),
            trust_max_age: Duration::from_millis(self.trust_max_age_ms),
            decision_cache_entries: self.decision_cache_entries,
            attribute_filter_deadline: Duration::from_millis(self.attribute_filter_deadline_ms),
            key_cache_entries: self.key_cache_entries,
            key_use_flush: Duration::from_secs(self.key_use_flush_secs),
        })
    }
}
