//! The store test suite: the behaviour every [`Store`] adapter must show, written once against
//! the trait and run unchanged on each engine.
//!
//! [`store_suite!`](crate::store_suite) expands to one `#[tokio::test]` per scenario. Its
//! argument is a future giving `(Arc<dyn Store>, guard)`: a fresh, empty store for each test,
//! and whatever must stay alive while the test runs (a temporary directory, a database to
//! drop); the guard is dropped when the test ends. The calling crate needs `tokio` (with the
//! `macros` and `rt-multi-thread` features).
//!
//! ```text
//! async fn fresh() -> (Arc<dyn Store>, tempfile::TempDir) { /* ... */ }
//! orgcerts_store::store_suite!(fresh());
//! ```
//!
//! Compiled only with the `test-suite` feature, which this crate's own tests turn on.

use std::sync::Arc;

use orgcerts_core::anchor::{self, Anchor};
use orgcerts_core::ids::{AdminKeyId, CertificateId, OrganizationId, ProjectId, random_base62};
use orgcerts_core::keys::{self, KeyHash};
use orgcerts_core::model::{
    Actor, AdminKey, CertificateRecord, CertificateUpdate, NewCertificate, Organization,
    ProjectRecord, Scope,
};
use orgcerts_core::page::{Order, PageRequest};
use orgcerts_core::{Store, unix_now};

mod activation;
mod attribute_filters;
mod audit;
mod certificates;
mod gateway;
mod isolation;
mod key_use;
mod keys_and_orgs;
mod pagination;
mod projects;
mod service_accounts;

pub use activation::*;
pub use attribute_filters::*;
pub use audit::*;
pub use certificates::*;
pub use gateway::*;
pub use isolation::*;
pub use key_use::*;
pub use keys_and_orgs::*;
pub use pagination::*;
pub use projects::*;
pub use service_accounts::*;

/// Expands to one `#[tokio::test]` per scenario of the store suite; see [`crate::suite`].
#[macro_export]
macro_rules! store_suite {
    ($fresh:expr) => {
        $crate::store_suite!(@scenarios $fresh;
            certificate_round_trip,
            certificate_maximum_is_enforced,
            certificate_maximum_holds_under_concurrency,
            duplicate_fingerprint_is_refused_until_deleted,
            duplicate_is_reported_even_when_full,
            same_certificate_in_two_organizations,
            deleted_certificate_is_gone,
            delete_refused_while_active,
            insert_into_unknown_organization,
            list_pages_in_both_orders_with_equal_timestamps,
            list_orders_by_created_at_first,
            list_pages_across_shared_seconds,
            list_after_deleted_certificate,
            list_refuses_unknown_cursor,
            list_project_scope_checks_project,
            list_empty_organization,
            activation_is_all_or_nothing,
            activation_is_idempotent_and_ordered,
            project_and_organization_scopes_are_independent,
            archived_project_refuses_activation_only,
            other_organization_ids_are_not_found,
            project_round_trip,
            project_archive_is_idempotent_and_final,
            project_list_order_and_archived,
            organizations_and_admin_keys,
            first_organization_is_created_once,
            concurrent_key_lookups_each_find_their_own,
            admin_key_revocation,
            audit_entries_follow_changes_only,
            service_account_lifecycle,
            service_accounts_of_archived_projects,
            service_accounts_are_isolated,
            service_accounts_and_keys_paginate,
            service_account_key_use_is_recorded,
            service_flushes_the_latest_service_account_key_use,
            active_anchors_list_every_activation_in_order,
            trust_version_moves_with_every_gateway_change,
            trust_version_stays_put_without_writes,
            attribute_filter_round_trip,
            active_anchors_carry_attribute_filters,
        );
    };
    (@scenarios $fresh:expr; $($scenario:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let (store, _guard) = $fresh.await;
                $crate::suite::$scenario(store).await;
            }
        )*
    };
}

/// A fixed clock for records, so that orders and times are predictable.
pub const T0: i64 = 1_750_000_000;
/// A limit no scenario reaches, for inserts that are not about the maximum.
pub const NO_LIMIT: u32 = 10_000;

/// A fresh admin key for `org` and its secret text.
pub fn admin_key(org: &OrganizationId, name: &str, created_at: i64) -> (AdminKey, String) {
    let secret = keys::generate_admin_key();
    let key = AdminKey {
        id: AdminKeyId::generate(),
        organization_id: org.clone(),
        name: name.to_owned(),
        hash: KeyHash::of(&secret),
        redacted_value: keys::redact(&secret),
        created_at,
        revoked_at: None,
        expires_at: None,
        last_used_at: None,
    };
    (key, secret)
}

/// Creates an organization (with a first admin key) and returns its id.
pub async fn new_org(store: &dyn Store) -> OrganizationId {
    let org = Organization {
        id: OrganizationId::generate(),
        name: "Acme".to_owned(),
        created_at: T0,
    };
    let (key, _) = admin_key(&org.id, "Initial admin key", T0);
    store.create_organization(&org, &key).await.unwrap();
    org.id
}

/// A real CA anchor, minted now and validated like an upload.
pub fn real_anchor(common_name: &str) -> Anchor {
    anchor::validate(&orgcerts_testkit::ca_pem(common_name), unix_now()).unwrap()
}

/// An anchor with random DER bytes and a random fingerprint: the store never parses the DER,
/// and these are cheap to make by the dozen.
pub fn fake_anchor() -> Anchor {
    let mut fingerprint = [0u8; 32];
    fingerprint.copy_from_slice(random_base62(32).as_bytes());
    Anchor {
        der: random_base62(300).into_bytes(),
        fingerprint,
        valid_at: T0 - 86_400,
        expires_at: T0 + 365 * 86_400,
    }
}

/// A certificate to insert.
pub fn new_cert(
    org: &OrganizationId,
    name: Option<&str>,
    created_at: i64,
    anchor: Anchor,
) -> NewCertificate {
    NewCertificate {
        id: CertificateId::generate(),
        organization_id: org.clone(),
        name: name.map(str::to_owned),
        created_at,
        anchor,
        attribute_filter: None,
    }
}

/// An update that renames a certificate and leaves its attribute filter.
pub fn renamed(name: &str) -> CertificateUpdate {
    CertificateUpdate {
        name: Some(name.to_owned()),
        attribute_filter: None,
    }
}

/// An update that sets (`Some`) or clears (`None`) a certificate's attribute filter and
/// leaves its name.
pub fn filtered(source: Option<&str>) -> CertificateUpdate {
    CertificateUpdate {
        name: None,
        attribute_filter: Some(source.map(str::to_owned)),
    }
}

/// Inserts a certificate with a fake anchor created at `created_at`.
pub async fn insert_cert(
    store: &dyn Store,
    org: &OrganizationId,
    created_at: i64,
) -> CertificateRecord {
    store
        .insert_certificate(
            &new_cert(org, None, created_at, fake_anchor()),
            NO_LIMIT,
            &Actor::operator(T0),
        )
        .await
        .unwrap()
}

/// A page request.
pub fn page(limit: u32, order: Order, after: Option<&str>) -> PageRequest {
    PageRequest {
        limit,
        after: after.map(str::to_owned),
        order,
    }
}

/// A live project record.
pub fn project(name: &str, created_at: i64) -> ProjectRecord {
    ProjectRecord {
        id: ProjectId::generate(),
        name: name.to_owned(),
        created_at,
        archived_at: None,
        external_key_id: None,
        residency: None,
    }
}

/// Inserts a live project and returns its id.
pub async fn insert_project(store: &dyn Store, org: &OrganizationId, created_at: i64) -> ProjectId {
    let p = project("Project", created_at);
    store
        .insert_project(org, &p, &Actor::operator(T0))
        .await
        .unwrap();
    p.id
}

/// Every live certificate at `scope` as `(id, active)`, walked one full page of 100 at a time.
pub async fn list_all(
    store: &dyn Store,
    org: &OrganizationId,
    scope: &Scope,
    order: Order,
) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    // No scenario holds more than a few hundred certificates: a list that goes on is a bug.
    for _ in 0..20 {
        let got = store
            .list_certificates(org, scope, &page(100, order, after.as_deref()))
            .await
            .unwrap();
        out.extend(
            got.items
                .iter()
                .map(|c| (c.certificate.id.as_str().to_owned(), c.active)),
        );
        match (got.has_more, got.items.last()) {
            (true, Some(last)) => after = Some(last.certificate.id.as_str().to_owned()),
            _ => return out,
        }
    }
    panic!("the list never ends: {out:?}");
}

/// The ids of `items`, as text.
pub fn ids_of(items: &[CertificateRecord]) -> Vec<String> {
    items.iter().map(|c| c.id.as_str().to_owned()).collect()
}

/// What every scenario is given: a fresh, empty store.
pub type SharedStore = Arc<dyn Store>;
