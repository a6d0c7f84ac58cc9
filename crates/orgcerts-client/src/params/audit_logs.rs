use super::Query;

/// Bounds on an audit log entry's `effective_at` (Unix seconds), each one optional. They go out
/// as `effective_at[gt]=…`, as the official SDKs send the spec's `effective_at` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EffectiveAt {
    /// Only entries after this second.
    pub gt: Option<u64>,
    /// Only entries at or after this second.
    pub gte: Option<u64>,
    /// Only entries before this second.
    pub lt: Option<u64>,
    /// Only entries at or before this second.
    pub lte: Option<u64>,
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAuditLogsParams {
    /// Bounds on `effective_at`.
    pub effective_at: EffectiveAt,
    /// Only entries of these `type`s, e.g. `project.created` (`event_types[]`).
    pub event_types: Vec<String>,
    /// Only entries of these projects (`project_ids[]`).
    pub project_ids: Vec<String>,
    /// Only entries made by these actors: user, service account or API key ids (`actor_ids[]`).
    pub actor_ids: Vec<String>,
    /// Only entries made by users with these emails (`actor_emails[]`).
    pub actor_emails: Vec<String>,
    /// Only entries about these resources, e.g. a certificate id (`resource_ids[]`).
    pub resource_ids: Vec<String>,
    /// Only tenant-scoped entries.
    pub tenant_only: Option<bool>,
    /// Items per page, 1..=100.
    pub limit: Option<u32>,
    /// Start after this id, towards older entries (the `last_id` of the previous page).
    pub after: Option<String>,
    /// Start before this id, towards newer entries (the `first_id` of the page after).
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

    pub(crate) fn to_query(&self) -> Query {
        let mut query = Query::default();
        let EffectiveAt { gt, gte, lt, lte } = self.effective_at;
        for (key, bound) in [
            ("effective_at[gt]", gt),
            ("effective_at[gte]", gte),
            ("effective_at[lt]", lt),
            ("effective_at[lte]", lte),
        ] {
            if let Some(seconds) = bound {
                query.push(key, seconds.to_string());
            }
        }
        for (key, values) in [
            ("event_types[]", &self.event_types),
            ("project_ids[]", &self.project_ids),
            ("actor_ids[]", &self.actor_ids),
            ("actor_emails[]", &self.actor_emails),
            ("resource_ids[]", &self.resource_ids),
        ] {
            for value in values {
                query.push(key, value.clone());
            }
        }
        if let Some(tenant_only) = self.tenant_only {
            query.push("tenant_only", tenant_only.to_string());
        }
        if let Some(limit) = self.limit {
            query.push("limit", limit.to_string());
        }
        if let Some(after) = &self.after {
            query.push("after", after.clone());
        }
        if let Some(before) = &self.before {
            query.push("before", before.clone());
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_set_sends_nothing() {
        assert!(ListAuditLogsParams::new().to_query().is_empty());
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
            .to_query();
        assert_eq!(
            query.encode(),
            "effective_at[gt]=10&effective_at[lte]=20\
             &event_types[]=project.created&event_types[]=api_key.deleted\
             &project_ids[]=proj_1&actor_ids[]=key_1&actor_emails[]=a%2Bb%40example.com\
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
