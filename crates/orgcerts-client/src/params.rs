use std::fmt;

mod audit_logs;
mod service_accounts;

pub use audit_logs::{EffectiveAt, ListAuditLogsParams};
pub use service_accounts::{
    ListProjectApiKeysParams, ListServiceAccountsParams, OwnerProjectAccess,
};

/// The sort order of a list, by `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first (the default of the certificate lists; the admin key list defaults to
    /// [`Order::Asc`]).
    Desc,
}

impl Order {
    /// The value on the wire: `asc` or `desc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parameters of the certificate lists (`listOrganizationCertificates`,
/// `listProjectCertificates`) and of the admin key list (`admin-api-keys-list`). Unset fields
/// are left to the API's defaults: 20 a page, `desc` for certificates, `asc` for admin keys.
///
/// ```
/// use orgcerts_client::{ListParams, Order};
/// let params = ListParams::new().limit(100).order(Order::Asc);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Start after this id (the `last_id` of the previous page).
    pub after: Option<String>,
    /// Items per page, 1..=100.
    pub limit: Option<u32>,
    /// Sort order.
    pub order: Option<Order>,
}

impl ListParams {
    /// No parameters: the API's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start after this id.
    #[must_use]
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Items per page, 1..=100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sort order.
    #[must_use]
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    pub(crate) fn to_query(&self) -> Query {
        let mut query = Query::default();
        if let Some(limit) = self.limit {
            query.push("limit", limit.to_string());
        }
        if let Some(order) = self.order {
            query.push("order", order.as_str());
        }
        if let Some(after) = &self.after {
            query.push("after", after.clone());
        }
        query
    }
}

/// Parameters of `list-projects`. The projects list has no `order`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListProjectsParams {
    /// Start after this id (the `last_id` of the previous page).
    pub after: Option<String>,
    /// Items per page, 1..=100.
    pub limit: Option<u32>,
    /// Include archived projects (the API leaves them out by default).
    pub include_archived: Option<bool>,
}

impl ListProjectsParams {
    /// No parameters: the API's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start after this id.
    #[must_use]
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Items per page, 1..=100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Include archived projects.
    #[must_use]
    pub fn include_archived(mut self, include_archived: bool) -> Self {
        self.include_archived = Some(include_archived);
        self
    }

    pub(crate) fn to_query(&self) -> Query {
        let mut query = Query::default();
        if let Some(limit) = self.limit {
            query.push("limit", limit.to_string());
        }
        if let Some(include_archived) = self.include_archived {
            query.push("include_archived", include_archived.to_string());
        }
        if let Some(after) = &self.after {
            query.push("after", after.clone());
        }
        query
    }
}

/// Optional fields of `getCertificate`'s answer (`include[]=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateInclude {
    /// `certificate_details.content`: the certificate's PEM.
    Content,
}

impl CertificateInclude {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
        }
    }
}

/// A query string under construction. Keys are this crate's constants and go out as they are,
/// so arrays read `include[]=content` as in OpenAI's own examples; values are form-encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query(Vec<(&'static str, String)>);

impl Query {
    pub(crate) fn push(&mut self, key: &'static str, value: impl Into<String>) {
        self.0.push((key, value.into()));
    }

    /// Replaces every value of `key` with `value`.
    pub(crate) fn set(&mut self, key: &'static str, value: impl Into<String>) {
        self.0.retain(|(existing, _)| *existing != key);
        self.push(key, value);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(key, value)| {
                let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
                format!("{key}={value}")
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_encode_only_what_is_set() {
        assert!(ListParams::new().to_query().is_empty());
        let query = ListParams::new()
            .limit(5)
            .order(Order::Asc)
            .after("cert_a b&c")
            .to_query();
        assert_eq!(query.encode(), "limit=5&order=asc&after=cert_a+b%26c");
        let projects = ListProjectsParams::new().include_archived(true).to_query();
        assert_eq!(projects.encode(), "include_archived=true");
    }

    #[test]
    fn set_replaces_the_cursor() {
        let mut query = ListParams::new().after("cert_1").limit(2).to_query();
        query.set("after", "cert_2");
        assert_eq!(query.encode(), "limit=2&after=cert_2");
    }
}
