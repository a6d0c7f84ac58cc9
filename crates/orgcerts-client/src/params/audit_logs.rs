use serde::Serialize;

use super::Query;
use crate::Result;

/// Bounds on an audit log entry's `effective_at` (Unix seconds), each one optional. They go out
/// as `effective_at[gt]=…`, as the official SDKs send the spec's `effective_at` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct EffectiveAt {
    /// Only entries after this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gt: Option<u64>,
    /// Only entries at or after this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gte: Option<u64>,
    /// Only entries before this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lt: Option<u64>,
    /// Only entries at or before this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lte: Option<u64>,
}

impl EffectiveAt {
    fn is_unbounded(&self) -> bool {
        *self == Self::default()
    }
}

/// Parameters of `list-audit-logs`. Unset fields and empty lists do not filter; the list is
/// newest first, 20 a page unless `limit` says otherwise.
///
/// ```
/// use orgcerts_client::ListAuditLogsParams;
/// let params = ListAuditLogsParams::new()
///     .event_types(["certificate.created", "certificate.deleted"])
///     .effective_at_gte(1_750_000_000)
///     .limit(100);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListAuditLogsParams {
    /// Bounds on `effective_at`.
    #[serde(skip_serializing_if = "EffectiveAt::is_unbounded")]
    pub effective_at: EffectiveAt,
    /// Only entries of these `type`s, e.g. `project.created` (`event_types[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<String>,
    /// Only entries of these projects (`project_ids[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub project_ids: Vec<String>,
    /// Only entries made by these actors: user, service account or API key ids (`actor_ids[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actor_ids: Vec<String>,
    /// Only entries made by users with these emails (`actor_emails[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actor_emails: Vec<String>,
    /// Only entries about these resources, e.g. a certificate id (`resource_ids[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_ids: Vec<String>,
    /// Only tenant-scoped entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_only: Option<bool>,
    /// Items per page, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Start after this id, towards older entries (the `last_id` of the previous page).
    #[serde(skip)]
    pub after: Option<String>,
    /// Start before this id, towards newer entries (the `first_id` of the page after).
    #[serde(skip)]
    pub before: Option<String>,
}

fn owned<I, S>(values: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    values.into_iter().map(Into::into).collect()
}

impl ListAuditLogsParams {
    /// No parameters: every entry, newest first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only entries with `effective_at` greater than `seconds`.
    #[must_use]
    pub fn effective_at_gt(mut self, seconds: u64) -> Self {
        self.effective_at.gt = Some(seconds);
        self
    }

    /// Only entries with `effective_at` greater than or equal to `seconds`.
    #[must_use]
    pub fn effective_at_gte(mut self, seconds: u64) -> Self {
        self.effective_at.gte = Some(seconds);
        self
    }

    /// Only entries with `effective_at` less than `seconds`.
    #[must_use]
    pub fn effective_at_lt(mut self, seconds: u64) -> Self {
        self.effective_at.lt = Some(seconds);
        self
    }

    /// Only entries with `effective_at` less than or equal to `seconds`.
    #[must_use]
    pub fn effective_at_lte(mut self, seconds: u64) -> Self {
        self.effective_at.lte = Some(seconds);
        self
    }

    /// Only entries of these types; replaces an earlier list.
    #[must_use]
    pub fn event_types<I, S>(mut self, event_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = owned(event_types);
        self
    }

    /// Only entries of these projects; replaces an earlier list.
    #[must_use]
    pub fn project_ids<I, S>(mut self, project_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.project_ids = owned(project_ids);
        self
    }

    /// Only entries made by these actors; replaces an earlier list.
    #[must_use]
    pub fn actor_ids<I, S>(mut self, actor_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.actor_ids = owned(actor_ids);
        self
    }

    /// Only entries made by users with these emails; replaces an earlier list.
    #[must_use]
    pub fn actor_emails<I, S>(mut self, actor_emails: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.actor_emails = owned(actor_emails);
        self
    }

    /// Only entries about these resources; replaces an earlier list.
    #[must_use]
    pub fn resource_ids<I, S>(mut self, resource_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource_ids = owned(resource_ids);
        self
    }

    /// Only tenant-scoped entries.
    #[must_use]
    pub fn tenant_only(mut self, tenant_only: bool) -> Self {
        self.tenant_only = Some(tenant_only);
        self
    }

    /// Items per page, 1..=100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Start after this id: the entries older than it.
    #[must_use]
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Start before this id: the entries newer than it.
    #[must_use]
    pub fn before(mut self, before: impl Into<String>) -> Self {
        self.before = Some(before.into());
        self
    }

    pub(crate) fn to_query(&self) -> Result<Query> {
        Query::new(self, self.after.clone(), self.before.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_set_sends_nothing() {
        assert!(ListAuditLogsParams::new().to_query().unwrap().is_empty());
    }

    #[test]
    fn bounds_and_arrays_use_brackets_like_the_sdks() {
        let query = ListAuditLogsParams::new()
            .effective_at_lte(20)
            .effective_at_gt(10)
            .event_types(["project.created", "api_key.deleted"])
            .project_ids(["proj_1"])
            .actor_ids(["key_1"])
            .actor_emails(["a+b@example.com"])
            .resource_ids(["cert_1"])
            .tenant_only(false)
            .limit(3)
            .after("audit_log-a")
            .before("audit_log-b")
            .to_query()
            .unwrap();
        assert_eq!(
            query.encode(),
            "effective_at[gt]=10&effective_at[lte]=20\
             &event_types[]=project.created&event_types[]=api_key.deleted\
             &project_ids[]=proj_1&actor_ids[]=key_1&actor_emails[]=a%2Bb@example.com\
             &resource_ids[]=cert_1&tenant_only=false&limit=3&after=audit_log-a&before=audit_log-b"
        );
    }

    #[test]
    fn list_setters_replace() {
        let params = ListAuditLogsParams::new()
            .event_types(["a"])
            .event_types(["b", "c"]);
        assert_eq!(params.event_types, ["b", "c"]);
    }
}
