use orgcerts_api::AuditLog;

use crate::page::PageRequest;
use crate::{Client, CursorPage, ListAuditLogsParams, Result};

/// The organization's audit log: `client.admin().organization().audit_logs()`.
#[derive(Debug, Clone, Copy)]
pub struct AuditLogs<'c> {
    client: &'c Client,
}

impl<'c> AuditLogs<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET /organization/audit_logs` (`list-audit-logs`): one page of entries, newest first.
    ///
    /// The following pages are older (`after=last_id`), unless `before` is set without `after`:
    /// then `has_more` speaks of newer entries, and the next page is `before=first_id`.
    pub async fn list(&self, params: &ListAuditLogsParams) -> Result<CursorPage<AuditLog>> {
        let request = PageRequest::new(
            self.client,
            &["organization", "audit_logs"],
            params.to_query()?,
        );
        let request = if params.before.is_some() && params.after.is_none() {
            request.backward()
        } else {
            request
        };
        request.fetch().await
    }
}
