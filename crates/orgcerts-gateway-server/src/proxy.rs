//! Passing a judged request to the upstream and its answer back, streamed both ways.

use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::CertificateDer;

use crate::Body;
use crate::errors::GatewayError;

/// Headers a client may send that never travel upstream: the certificate headers a proxy in
/// front could have set (the gateway sets `Client-Cert` itself, from the handshake, when asked to).
const CLIENT_CERT_HEADERS: [&str; 3] = [
    "client-cert",
    "client-cert-chain",
    "x-forwarded-client-cert",
];

/// Hop-by-hop headers (RFC 9110, 7.6.1): they describe one connection, not the message.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// The upstream: where passed requests go, and the pooled client that takes them.
#[derive(Debug)]
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    scheme: hyper::http::uri::Scheme,
    authority: hyper::http::uri::Authority,
    /// The upstream URL's path without its trailing `/`, put in place of `/v1`.
    base_path: String,
    authorization: Option<HeaderValue>,
    forward_client_cert: bool,
    timeout: Duration,
}

/// How the upstream is reached.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// `http://HOST:PORT/v1` or `https://HOST/v1`.
    pub url: Uri,
    /// Sent as `Authorization: Bearer …` in place of the client's; without it, none is sent.
    pub api_key: Option<String>,
    /// Send the verified client certificate as RFC 9440 `Client-Cert`.
    pub forward_client_cert: bool,
    /// How long the upstream may take to start answering (504 after).
    pub timeout: Duration,
}

impl Upstream {
    /// A pooled client for `settings.url` (HTTP/1.1 and HTTP/2; TLS with the webpki roots).
    pub fn new(settings: UpstreamSettings) -> anyhow::Result<Self> {
        let parts = settings.url.into_parts();
        let scheme = parts
            .scheme
            .context("the upstream URL needs a scheme, http or https")?;
        anyhow::ensure!(
            scheme == hyper::http::uri::Scheme::HTTP || scheme == hyper::http::uri::Scheme::HTTPS,
            "the upstream URL's scheme must be http or https"
        );
        let authority = parts.authority.context("the upstream URL needs a host")?;
        let path_and_query = parts.path_and_query;
        anyhow::ensure!(
            path_and_query.as_ref().and_then(|p| p.query()).is_none(),
            "the upstream URL must not have a query"
        );
        let base_path = path_and_query
            .as_ref()
            .map_or("", |p| p.path())
            .trim_end_matches('/')
            .to_owned();
        let authorization = settings
            .api_key
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                    .context("the upstream API key is not a valid header value")?;
                value.set_sensitive(true);
                anyhow::Ok(value)
            })
            .transpose()?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .build(connector);
        Ok(Self {
            client,
            scheme,
            authority,
            base_path,
            authorization,
            forward_client_cert: settings.forward_client_cert,
            timeout: settings.timeout,
        })
    }

    /// The upstream URI for `uri`'s path below `/v1` and its query.
    fn target(&self, uri: &Uri) -> Result<Uri, GatewayError> {
        let below = uri.path().strip_prefix("/v1").unwrap_or(uri.path());
        let mut path = String::with_capacity(self.base_path.len() + below.len() + 64);
        path.push_str(&self.base_path);
        path.push_str(below);
        if let Some(query) = uri.query() {
            path.push('?');
            path.push_str(query);
        }
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|_| GatewayError::UnknownRoute)
    }

    /// Passes `request` upstream and returns the upstream's answer (its body streamed), or the
    /// gateway's 502 or 504. `client_cert` is the verified leaf, when there is one.
    pub async fn forward(
        &self,
        mut request: Request<Incoming>,
        client_cert: Option<&CertificateDer<'static>>,
    ) -> Result<Response<Body>, GatewayError> {
        let upgrade = is_websocket_upgrade(request.headers());
        // The client's side of an upgrade, once the upstream has switched protocols.
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
        let (mut parts, body) = request.into_parts();
        let target = self.target(&parts.uri)?;
        let body = if upgrade { empty() } else { body.boxed() };
        clean_request_headers(&mut parts.headers, upgrade);
        if let Some(value) = &self.authorization {
            parts.headers.insert(header::AUTHORIZATION, value.clone());
        }
        if self.forward_client_cert
            && let Some(cert) = client_cert
        {
            let value = format!(
                ":{}:",
                base64::engine::general_purpose::STANDARD.encode(cert)
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                parts.headers.insert("client-cert", value);
            }
        }
        parts.uri = target;
        // The upstream speaks whichever version its connection negotiated.
        parts.version = hyper::Version::HTTP_11;
        let upstream_request = Request::from_parts(parts, body);

        let mut response =
            match tokio::time::timeout(self.timeout, self.client.request(upstream_request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "the upstream request failed");
                    return Err(GatewayError::UpstreamUnreachable);
                }
                Err(_) => return Err(GatewayError::UpstreamTimeout),
            };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS
            && let Some(client_upgrade) = client_upgrade
        {
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                match tokio::try_join!(client_upgrade, upstream_upgrade) {
                    Ok((client, upstream)) => {
                        let mut client = TokioIo::new(client);
                        let mut upstream = TokioIo::new(upstream);
                        if let Err(err) =
                            tokio::io::copy_bidirectional(&mut client, &mut upstream).await
                        {
                            tracing::debug!(error = %err, "an upgraded connection ended with an error");
                        }
                    }
                    Err(err) => tracing::debug!(error = %err, "an upgrade did not complete"),
                }
            });
            let (parts, _) = response.into_parts();
            return Ok(Response::from_parts(parts, empty()));
        }
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(parts, body.boxed()))
    }
}

/// An HTTP/1.1 `Upgrade: websocket` request (the Realtime API).
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// Removes the hop-by-hop headers and those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(named.iter()) {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// What the upstream must not see of the client's headers: hop-by-hop headers (an upgrade's
/// own kept), `Host` (set from the upstream URL), the client's key, certificate headers.
fn clean_request_headers(headers: &mut HeaderMap, upgrade: bool) {
    strip_hop_by_hop(headers);
    headers.remove(header::HOST);
    headers.remove(header::AUTHORIZATION);
    for name in CLIENT_CERT_HEADERS {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    }
}

/// The body of an answer that has none.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}
