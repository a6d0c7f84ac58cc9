//! The accept loop: HTTP/1.1 and HTTP/2 over plain TCP or rustls, with the connection limits
//! that keep slow or idle clients from holding the server, and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::Layer as _;

use crate::App;

/// Connection-level limits.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A client must send a request's complete headers within this time, and an idle
    /// keep-alive connection, or one that sends nothing at all, is closed after it: slow clients
    /// cannot hold connections open.
    pub header_read_timeout: Duration,
    /// The largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// The most connections held at once; further clients wait in the listen backlog until
    /// one closes (idle ones close after `header_read_timeout`).
    pub max_connections: usize,
}

/// The default of [`ConnectionLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            shutdown_grace: Duration::from_secs(30),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// A PEM certificate chain and its PEM private key, for a TLS listener.
pub fn load_cert_and_key(
    cert_path: &Path,
    key_path: &Path,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .with_context(|| format!("cannot read the TLS certificate {}", cert_path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} holds no valid PEM certificate", cert_path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{} holds no CERTIFICATE block",
        cert_path.display()
    );
    let key = PrivateKeyDer::from_pem_file(key_path)
        .with_context(|| format!("cannot read a private key from {}", key_path.display()))?;
    Ok((certs, key))
}

/// A rustls server configuration from a PEM certificate chain and a PEM private key, offering
/// HTTP/2 and HTTP/1.1 by ALPN.
pub fn tls_config(cert_path: &Path, key_path: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (certs, key) = load_cert_and_key(cert_path, key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What the accept loop knows of a connection when it makes the connection's service.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// The TLS session, on a TLS listener (its peer certificates, its ALPN protocol).
    pub tls: Option<&'a rustls::ServerConnection>,
}

/// Serves `app` on `listener` until `shutdown` resolves; in-flight requests then get
/// `limits.shutdown_grace` to finish.
pub async fn serve_connections(
    listener: TcpListener,
    app: App,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // The peer's address travels with each request, for the failed-authentication limit.
    serve_with(
        listener,
        tls,
        limits,
        shutdown,
        move |conn: Connection<'_>| {
            TowerToHyperService::new(
                axum::Extension(crate::ClientAddr(conn.peer.ip())).layer(app.clone()),
            )
        },
    )
    .await
}

/// HTTP/1.1 and HTTP/2 with the limits' timeouts and header bounds.
fn http_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(limits.header_read_timeout))
        .keep_alive_timeout(limits.header_read_timeout);
    builder
}

/// What the accept loop asks of its user: the service for each connection, and what to do about
/// a TLS handshake that failed. Any `Fn(Connection<'_>) -> S` makes services and ignores failed
/// handshakes (they are logged at debug level either way).
pub trait ConnectionServices<S>: Send + Sync + 'static {
    /// The service that serves the requests of one connection, called once the connection is
    /// established (after the TLS handshake, on a TLS listener).
    fn make(&self, conn: Connection<'_>) -> S;
    /// A TLS handshake failed or timed out.
    fn handshake_failed(&self, _peer: SocketAddr, _timed_out: bool) {}
}

impl<F, S> ConnectionServices<S> for F
where
    F: Fn(Connection<'_>) -> S + Send + Sync + 'static,
{
    fn make(&self, conn: Connection<'_>) -> S {
        self(conn)
    }
}

/// The accept loop under [`serve_connections`], for any hyper service: `services` makes the
/// service that serves each connection's requests.
pub async fn serve_with<M, S, B>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    services: M,
) -> io::Result<()>
where
    M: ConnectionServices<S>,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let services = Arc::new(services);
    let builder = http_builder(&limits);
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);

    loop {
        // A free slot first: at the cap, new clients wait in the kernel's backlog instead of
        // taking descriptors the database and the open connections need.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let services = Arc::clone(&services);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        let handshake_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let result = match acceptor {
                None => {
                    // Until a first byte arrives, hyper is still sniffing the protocol and no
                    // header timeout runs: a client that connects and says nothing would hold
                    // its slot for good.
                    let mut first = [0u8; 1];
                    if !matches!(
                        tokio::time::timeout(handshake_timeout, stream.peek(&mut first)).await,
                        Ok(Ok(1..))
                    ) {
                        tracing::debug!(%peer, "no request within the header timeout");
                        return;
                    }
                    let service = services.make(Connection { peer, tls: None });
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(err)) => {
                            tracing::debug!(%peer, error = %err, "TLS handshake failed");
                            services.handshake_failed(peer, false);
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            services.handshake_failed(peer, true);
                            return;
                        }
                    };
                    // The protocol is known from ALPN: no sniffing, so a client that completes
                    // the handshake and then says nothing meets the protocol's own timeouts.
                    let service = services.make(Connection {
                        peer,
                        tls: Some(tls.get_ref().1),
                    });
                    let builder = if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                        builder.http2_only()
                    } else {
                        builder.http1_only()
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
                    watcher.watch(conn.into_owned()).await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; dropping the remaining connections");
        }
    }
    Ok(())
}
