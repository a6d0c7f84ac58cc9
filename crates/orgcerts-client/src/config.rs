use std::time::Duration;

use reqwest::Url;

use crate::client::{Client, Inner};
use crate::retry::Backoff;
use crate::{Error, Result};

/// OpenAI's API, used when neither the builder nor `OPENAI_BASE_URL` names another.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The longest a single attempt may take, connection to last byte. (The official SDKs allow
/// 10 minutes, sized for model calls; admin calls are small.)
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);
/// The longest connecting may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after the first attempt, as in the official SDKs.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// The environment variable holding the admin key.
pub const ENV_ADMIN_KEY: &str = "OPENAI_ADMIN_KEY";
/// The environment variable holding the base URL.
pub const ENV_BASE_URL: &str = "OPENAI_BASE_URL";
/// The environment variable holding the organization id sent as `OpenAI-Organization`.
pub const ENV_ORGANIZATION: &str = "OPENAI_ORG_ID";

/// Configures a [`Client`]; start from [`Client::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    organization: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("organization", &self.organization)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: None,
            organization: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff: Backoff::default(),
        }
    }
}

/// An environment variable's value, `None` when unset or blank.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

impl ClientBuilder {
    /// The admin key (`sk-admin-…`), sent as `Authorization: Bearer`.
    #[must_use]
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The API's base URL including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The organization id to send as `OpenAI-Organization`.
    #[must_use]
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// The longest one attempt may take ([`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest connecting may take ([`DEFAULT_CONNECT_TIMEOUT`]).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries after the first attempt ([`DEFAULT_MAX_RETRIES`]); 0 disables retrying.
    #[must_use]
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The backoff schedule when the server gives no `Retry-After`: `initial` before the first
    /// retry, doubling up to `max` (default 0.5 s and 8 s, as in the official SDKs).
    #[must_use]
    pub fn retry_delays(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Backoff { initial, max };
        self
    }

    /// Fills what is still unset from `OPENAI_ADMIN_KEY`, `OPENAI_BASE_URL` and `OPENAI_ORG_ID`.
    #[must_use]
    pub fn with_env(mut self) -> Self {
        self.api_key = self.api_key.or_else(|| env_var(ENV_ADMIN_KEY));
        self.base_url = self.base_url.or_else(|| env_var(ENV_BASE_URL));
        self.organization = self.organization.or_else(|| env_var(ENV_ORGANIZATION));
        self
    }

    /// Builds the client; fails without an admin key or with a base URL that is not an
    /// `http`/`https` URL.
    pub fn build(self) -> Result<Client> {
        let api_key = self
            .api_key
            .filter(|key| !key.trim().is_empty())
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "no admin key: set {ENV_ADMIN_KEY} or pass one to the client"
                ))
            })?;
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("orgcerts-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Error::InvalidInput(format!("cannot set up HTTP: {error}")))?;
        Ok(Client::from_inner(Inner {
            http,
            base_url,
            api_key,
            organization: self.organization,
            max_retries: self.max_retries,
            backoff: self.backoff,
        }))
    }
}

/// Checks that requests can be built on `raw` by appending path segments.
fn parse_base_url(raw: &str) -> Result<Url> {
    let invalid = |why: &str| Error::InvalidInput(format!("invalid base URL {raw:?}: {why}"));
    let url = Url::parse(raw.trim()).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    Ok(url)
}

impl Client {
    /// A client for `api_key`; the base URL comes from `OPENAI_BASE_URL` when set (as in the
    /// official SDKs), else [`DEFAULT_BASE_URL`].
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).with_env().build()
    }

    /// A client configured from `OPENAI_ADMIN_KEY` (required), `OPENAI_BASE_URL` and
    /// `OPENAI_ORG_ID`.
    pub fn from_env() -> Result<Self> {
        Self::builder().with_env().build()
    }

    /// A builder with the defaults: no key, [`DEFAULT_BASE_URL`], [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_MAX_RETRIES`]. Call [`ClientBuilder::with_env`] to read the environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(parse_base_url("https://api.openai.com/v1/").is_ok());
        for bad in [
            "127.0.0.1:8080",
            "ftp://host/v1",
            "mailto:x@y",
            "http://h/v1?x=1",
            "",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_is_required_and_never_printed() {
        let missing = Client::builder().base_url("http://h/v1").build();
        assert!(
            matches!(missing, Err(Error::InvalidInput(message)) if message.contains(ENV_ADMIN_KEY))
        );
        let builder = Client::builder().api_key("sk-admin-secret");
        assert!(!format!("{builder:?}").contains("secret"));
        let client = builder.base_url("http://h/v1").build().unwrap();
        assert!(!format!("{client:?}").contains("secret"));
    }
}
