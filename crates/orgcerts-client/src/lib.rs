//! A Rust client for OpenAI's Admin API for mTLS certificates, projects, admin API keys and the
//! audit log, which works the same against OpenAI (`https://api.openai.com/v1`) and against an
//! orgcerts server.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use orgcerts_client::{Client, ListParams};
//!
//! # async fn run() -> orgcerts_client::Result<()> {
//! // OPENAI_ADMIN_KEY, and OPENAI_BASE_URL for another server than OpenAI's.
//! let client = Client::from_env()?;
//! let page = client.admin().organization().certificates().list(&ListParams::new()).await?;
//! // Follows `last_id` page after page, like the official SDKs' auto-pagination.
//! let mut certificates = page.into_stream();
//! while let Some(certificate) = certificates.try_next().await? {
//!     println!("{} active={}", certificate.id, certificate.active);
//! }
//! # Ok(()) }
//! ```
//!
//! The resources: [`Organization::certificates`], [`Organization::projects`] (and through it
//! [`Projects::certificates`]), [`Organization::admin_api_keys`] and
//! [`Organization::audit_logs`].
//!
//! The request and response types are those of the server, re-exported as [`types`].

mod client;
mod config;
mod error;
mod page;
mod params;
mod resources;
mod response;
mod retry;

pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT,
    ENV_ADMIN_KEY, ENV_BASE_URL, ENV_ORGANIZATION,
};
pub use error::{ApiError, Error, Result};
pub use page::CursorPage;
pub use params::{
    CertificateInclude, EffectiveAt, ListAuditLogsParams, ListParams, ListProjectApiKeysParams,
    ListProjectsParams, ListServiceAccountsParams, Order, OwnerProjectAccess,
};
pub use resources::{
    Admin, AdminApiKeys, AuditLogs, Certificates, Organization, ProjectApiKeys,
    ProjectCertificates, ProjectServiceAccounts, Projects,
};
pub use response::Response;

/// The wire types, shared with the orgcerts server.
pub use orgcerts_api as types;

/// The README's examples, compiled as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
