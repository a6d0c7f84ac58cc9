use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::params::Query;
use crate::response::Response;
use crate::retry::{self, Backoff};
use crate::{ApiError, Error, Result};

/// A client of the Admin API (certificates, projects, admin API keys, audit log), for OpenAI
/// itself or for orgcerts.
///
/// Cheap to clone: clones share one connection pool. Start from [`Client::new`],
/// [`Client::from_env`] or [`Client::builder`], then go through [`Client::admin`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) api_key: String,
    pub(crate) organization: Option<String>,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Backoff,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url.as_str())
            .field("organization", &inner.organization)
            .field("max_retries", &inner.max_retries)
            .finish_non_exhaustive()
    }
}

/// An answer read to the end, before decoding.
struct RawResponse {
    status: StatusCode,
    request_id: Option<String>,
    body: Vec<u8>,
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

impl Client {
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The base URL requests are sent under.
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The URL of `segments` under the base URL. Each segment is percent-encoded, so an id
    /// cannot climb out of its place in the path.
    fn url(&self, segments: &[&str], query: &Query) -> Url {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // The base URL was checked to be a base at build time, so this always runs.
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.set_query(Some(&query.encode()));
        }
        url
    }

    /// Sends one call, retrying as [`retry`] says, and returns its JSON decoded as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &Query,
        body: Option<&impl Serialize>,
    ) -> Result<Response<T>> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|error| Error::InvalidInput(format!("cannot encode the request: {error}")))?;
        let raw = self
            .send(method, &self.url(segments, query), body.as_deref())
            .await?;
        let value = decode(&raw.body).map_err(|source| Error::Decode {
            status: raw.status,
            request_id: raw.request_id.clone(),
            source,
        })?;
        // Valid JSON is valid UTF-8, so the lossy conversion never alters the body.
        let body = String::from_utf8_lossy(&raw.body).into_owned();
        Ok(Response::new(value, raw.request_id, body))
    }

    async fn send(&self, method: Method, url: &Url, body: Option<&[u8]>) -> Result<RawResponse> {
        let inner = &self.inner;
        let mut retries_done = 0;
        loop {
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&inner.api_key)
                .header(ACCEPT, "application/json");
            if let Some(organization) = &inner.organization {
                request = request.header("OpenAI-Organization", organization);
            }
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            let can_retry = retries_done < inner.max_retries;
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let request_id = request_id(response.headers());
                    if !status.is_success()
                        && can_retry
                        && retry::should_retry(status, response.headers())
                    {
                        let wait = inner.backoff.delay(retries_done, Some(response.headers()));
                        drop(response);
                        tokio::time::sleep(wait).await;
                        retries_done += 1;
                        continue;
                    }
                    let body = response.bytes().await.map_err(Error::Transport)?.to_vec();
                    if !status.is_success() {
                        return Err(ApiError::from_body(status, request_id, &body).into());
                    }
                    return Ok(RawResponse {
                        status,
                        request_id,
                        body,
                    });
                }
                Err(error) if can_retry && retry::should_retry_transport(&error) => {
                    tokio::time::sleep(inner.backoff.delay(retries_done, None)).await;
                    retries_done += 1;
                }
                Err(error) => return Err(Error::Transport(error)),
            }
        }
    }
}

/// Decodes a whole body as `T`, saying where it went wrong; trailing bytes are an error too.
fn decode<T: DeserializeOwned>(
    body: &[u8],
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)?;
    deserializer.end().map_err(|error| {
        serde_path_to_error::Error::new(serde_path_to_error::Track::new().path(), error)
    })?;
    Ok(value)
}

/// Refuses an empty path id before it is sent: `/organization/certificates/` is another route.
pub(crate) fn require_id<'a>(name: &str, id: &'a str) -> Result<&'a str> {
    if id.trim().is_empty() {
        return Err(Error::InvalidInput(format!(
            "expected a non-empty value for `{name}`"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Client {
        Client::builder()
            .api_key("sk-admin-test")
            .base_url(base_url)
            .build()
            .unwrap()
    }

    #[test]
    fn paths_join_the_base_url_with_or_without_a_trailing_slash() {
        let include = crate::params::RetrieveCertificateParams {
            include: &[crate::CertificateInclude::Content],
        };
        let query = Query::new(&include, None, None).unwrap();
        for base in ["http://h:1/v1", "http://h:1/v1/"] {
            let url = client(base).url(&["organization", "certificates", "cert_1"], &query);
            assert_eq!(
                url.as_str(),
                "http://h:1/v1/organization/certificates/cert_1?include[]=content"
            );
        }
    }

    #[test]
    fn ids_are_encoded_as_one_segment() {
        let url = client("http://h/v1").url(
            &["organization", "certificates", "../x?y"],
            &Query::default(),
        );
        assert_eq!(
            url.as_str(),
            "http://h/v1/organization/certificates/..%2Fx%3Fy"
        );
    }
}
