//! The web console: a client of the public `/v1` API, served at `/` by `orgcerts serve`.
//!
//! Its files under `web/` are embedded in the binary at build time. Assets live under
//! `/assets/<fingerprint>/`, where the fingerprint is a hash of every asset, so that they can be
//! cached for good (`immutable`) while relative module imports keep working; the page at `/`
//! names the current fingerprint and is never cached. Every response carries a strict
//! Content-Security-Policy (same-origin scripts, styles and requests only; no inline script),
//! `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
//!
//! The console adds no endpoint of its own: it signs in with an admin key the user types, keeps
//! it in `sessionStorage` and calls `/v1` with it.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// The Content-Security-Policy of every console response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// `Cache-Control` of fingerprinted assets.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One embedded file of `web/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../web/assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every asset the page loads (a unit test checks that this list matches the folder).
static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("api.js", JS),
    asset!("app.js", JS),
    asset!("audit.js", JS),
    asset!("certificates.js", JS),
    asset!("dom.js", JS),
    asset!("filter.js", JS),
    asset!("format.js", JS),
    asset!("keys.js", JS),
    asset!("pager.js", JS),
    asset!("projects.js", JS),
    asset!("timeline.js", JS),
    asset!("upload.js", JS),
];

const INDEX_TEMPLATE: &str = include_str!("../web/index.html");

/// The hash of every asset's name and content: 16 hex digits of SHA-256.
static FINGERPRINT: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    for asset in ASSETS {
        hasher.update(asset.name.as_bytes());
        hasher.update([0]);
        hasher.update(asset.body.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
});

/// The page, with the asset folder of this build in place of `{{assets}}`.
static INDEX: LazyLock<String> =
    LazyLock::new(|| INDEX_TEMPLATE.replace("{{assets}}", &assets_prefix()));

/// Where this build's assets are served: `/assets/<fingerprint>`.
pub fn assets_prefix() -> String {
    format!("/assets/{}", *FINGERPRINT)
}

/// The console's routes: `/` and one route per asset, for any router state. Paths it does not
/// know fall through to the router they are merged into.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let prefix = assets_prefix();
    let mut router = Router::new().route("/", get(|| async { page() }));
    for asset in ASSETS {
        router = router.route(
            &format!("{prefix}/{}", asset.name),
            get(move || async move { serve_asset(asset) }),
        );
    }
    router
}

fn page() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        INDEX.as_str(),
    )
        .into_response();
    protect(&mut response);
    response
}

fn serve_asset(asset: &'static Asset) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        asset.body,
    )
        .into_response();
    protect(&mut response);
    response
}

/// The security headers of every console response.
fn protect(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(test)]
mod tests;
