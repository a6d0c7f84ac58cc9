//! The API's resources, reached as `client.admin().organization().…`.

mod admin_api_keys;
mod audit_logs;
mod certificates;
mod projects;
mod service_accounts;

pub use admin_api_keys::AdminApiKeys;
pub use audit_logs::AuditLogs;
pub use certificates::{Certificates, ProjectCertificates};
pub use projects::Projects;
pub use service_accounts::{ProjectApiKeys, ProjectServiceAccounts};

use crate::Client;

/// The Admin API: `client.admin()`.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'c> {
    client: &'c Client,
}

/// The organization the admin key belongs to: `client.admin().organization()`.
#[derive(Debug, Clone, Copy)]
pub struct Organization<'c> {
    client: &'c Client,
}

impl Client {
    /// The Admin API, for calls made with an admin key.
    pub fn admin(&self) -> Admin<'_> {
        Admin { client: self }
    }
}

impl<'c> Admin<'c> {
    /// The admin key's organization.
    pub fn organization(&self) -> Organization<'c> {
        Organization {
            client: self.client,
        }
    }
}

impl<'c> Organization<'c> {
    /// The organization's certificates (mTLS trust anchors).
    pub fn certificates(&self) -> Certificates<'c> {
        Certificates::new(self.client)
    }

    /// The organization's projects.
    pub fn projects(&self) -> Projects<'c> {
        Projects::new(self.client)
    }

    /// The organization's admin API keys.
    pub fn admin_api_keys(&self) -> AdminApiKeys<'c> {
        AdminApiKeys::new(self.client)
    }

    /// The organization's audit log.
    pub fn audit_logs(&self) -> AuditLogs<'c> {
        AuditLogs::new(self.client)
    }
}
