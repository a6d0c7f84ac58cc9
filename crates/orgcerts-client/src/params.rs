use std::fmt;

use serde::Serialize;

use crate::{Error, Result};

mod audit_logs;
mod service_accounts;

pub use audit_logs::{EffectiveAt, ListAuditLogsParams};
pub use service_accounts::{
    ListProjectApiKeysParams, ListServiceAccountsParams, OwnerProjectAccess,
};

/// The sort order of a list, by `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListParams {
    /// Start after this id (the `last_id` of the previous page).
    #[serde(skip)]
    pub after: Option<String>,
    /// Items per page, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sort order.
    #[serde(skip_serializing_if = "Option::is_none")]
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

    pub(crate) fn to_query(&self) -> Result<Query> {
        Query::new(self, self.after.clone(), None)
    }
}

/// Parameters of `list-projects`. The projects list has no `order`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListProjectsParams {
    /// Start after this id (the `last_id` of the previous page).
    #[serde(skip)]
    pub after: Option<String>,
    /// Items per page, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Include archived projects (the API leaves them out by default).
    #[serde(skip_serializing_if = "Option::is_none")]
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

    pub(crate) fn to_query(&self) -> Result<Query> {
        Query::new(self, self.after.clone(), None)
    }
}

/// Optional fields of `getCertificate`'s answer (`include[]=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateInclude {
    /// `certificate_details.content`: the certificate's PEM.
    Content,
    /// `attribute_filter`, an orgcerts extension: the certificate's attribute filter, or
    /// `null` when none is set.
    #[serde(rename = "attribute_filter")]
    AttributeFilter,
}

impl CertificateInclude {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::AttributeFilter => "attribute_filter",
        }
    }
}

/// The query of `getCertificate`: the optional fields asked for.
#[derive(Serialize)]
pub(crate) struct RetrieveCertificateParams<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) include: &'a [CertificateInclude],
}

/// How every query is serialized: arrays as `key[]=…` and nested bounds as `key[gt]=…`, with
/// the brackets as they are, as in OpenAI's own examples and the official SDKs' requests.
const QS: serde_qs::Config =
    serde_qs::Config::new().array_format(serde_qs::ArrayFormat::EmptyIndexed);

/// A request's query: its parameters, serialized by [`QS`], then the page cursors, last, which
/// a page stream replaces to fetch the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    params: String,
    after: Option<String>,
    before: Option<String>,
}

/// The cursors as they go out.
#[derive(Serialize)]
struct Cursors<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a str>,
}

impl Query {
    /// `params` serialized, then `after` and `before`.
    pub(crate) fn new(
        params: &impl Serialize,
        after: Option<String>,
        before: Option<String>,
    ) -> Result<Self> {
        let params = QS
            .serialize_string(params)
            .map_err(|error| Error::InvalidInput(format!("cannot encode the query: {error}")))?;
        Ok(Self {
            params,
            after,
            before,
        })
    }

    /// Replaces the `after` cursor.
    pub(crate) fn set_after(&mut self, cursor: impl Into<String>) {
        self.after = Some(cursor.into());
    }

    /// Replaces the `before` cursor.
    pub(crate) fn set_before(&mut self, cursor: impl Into<String>) {
        self.before = Some(cursor.into());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.params.is_empty() && self.after.is_none() && self.before.is_none()
    }

    pub(crate) fn encode(&self) -> String {
        let cursors = Cursors {
            after: self.after.as_deref(),
            before: self.before.as_deref(),
        };
        // Two optional strings always serialize.
        let cursors = QS.serialize_string(&cursors).unwrap_or_default();
        match (self.params.is_empty(), cursors.is_empty()) {
            (_, true) => self.params.clone(),
            (true, false) => cursors,
            (false, false) => format!("{}&{cursors}", self.params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_encode_only_what_is_set() {
        assert!(ListParams::new().to_query().unwrap().is_empty());
        let query = ListParams::new()
            .limit(5)
            .order(Order::Asc)
            .after("cert_a b&c")
            .to_query()
            .unwrap();
        assert_eq!(query.encode(), "limit=5&order=asc&after=cert_a+b%26c");
        let projects = ListProjectsParams::new()
            .include_archived(true)
            .to_query()
            .unwrap();
        assert_eq!(projects.encode(), "include_archived=true");
        let include = RetrieveCertificateParams {
            include: &[CertificateInclude::Content],
        };
        let query = Query::new(&include, None, None).unwrap();
        assert_eq!(query.encode(), "include[]=content");
        let both = RetrieveCertificateParams {
            include: &[
                CertificateInclude::Content,
                CertificateInclude::AttributeFilter,
            ],
        };
        let query = Query::new(&both, None, None).unwrap();
        assert_eq!(
            query.encode(),
            "include[]=content&include[]=attribute_filter"
        );
        let none = Query::new(&RetrieveCertificateParams { include: &[] }, None, None).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn set_replaces_the_cursor() {
        let mut query = ListParams::new()
            .after("cert_1")
            .limit(2)
            .to_query()
            .unwrap();
        query.set_after("cert_2");
        assert_eq!(query.encode(), "limit=2&after=cert_2");
        let mut query = Query::default();
        query.set_before("audit_log-b");
        assert_eq!(query.encode(), "before=audit_log-b");
    }
}
