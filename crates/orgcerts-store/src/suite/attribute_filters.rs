//! Attribute filters: saved with a certificate, changed and cleared on their own, recorded as
//! certificate updates, and handed to the gateway with each activation.

use orgcerts_core::audit::AuditQuery;
use orgcerts_core::ids::{CertificateId, OrganizationId};
use orgcerts_core::model::{Actor, CertificateRecord, CertificateUpdate, Scope};

use super::{
    NO_LIMIT, SharedStore, T0, fake_anchor, filtered, insert_project, new_cert, new_org, renamed,
};

const FILTER: &str = r#"subject.common_name == "svc""#;
const OTHER_FILTER: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

/// The certificate as `certificate()` reads it now.
async fn read(store: &SharedStore, org: &OrganizationId, id: &CertificateId) -> CertificateRecord {
    store.certificate(org, id, false).await.unwrap().unwrap()
}

/// How many `certificate.updated` entries the organization's audit log holds.
async fn updates(store: &SharedStore, org: &OrganizationId) -> usize {
    let query = AuditQuery {
        limit: 100,
        event_types: vec!["certificate.updated".to_owned()],
        ..AuditQuery::default()
    };
    store
        .list_audit_logs(org, &query)
        .await
        .unwrap()
        .items
        .len()
}

/// A filter saved on insert is read back; an update sets, replaces and clears it without
/// touching the name, a rename keeps it, and each change is one `certificate.updated`.
pub async fn attribute_filter_round_trip(store: SharedStore) {
    let org = new_org(&*store).await;
    let actor = Actor::operator(T0);
    let mut new = new_cert(&org, Some("edge CA"), T0, fake_anchor());
    new.attribute_filter = Some(FILTER.to_owned());
    let inserted = store
        .insert_certificate(&new, NO_LIMIT, &actor)
        .await
        .unwrap();
    assert_eq!(inserted.attribute_filter.as_deref(), Some(FILTER));
    assert_eq!(read(&store, &org, &new.id).await, inserted);
    let with_der = store.certificate(&org, &new.id, true).await.unwrap();
    assert_eq!(
        with_der.and_then(|c| c.attribute_filter).as_deref(),
        Some(FILTER)
    );

    let replaced = store
        .update_certificate(&org, &new.id, &filtered(Some(OTHER_FILTER)), &actor)
        .await
        .unwrap();
    assert_eq!(replaced.attribute_filter.as_deref(), Some(OTHER_FILTER));
    assert_eq!(
        replaced.name.as_deref(),
        Some("edge CA"),
        "a filter change keeps the name"
    );
    assert_eq!(read(&store, &org, &new.id).await, replaced);
    assert_eq!(updates(&store, &org).await, 1);

    let renamed_only = store
        .update_certificate(&org, &new.id, &renamed("edge CA 2"), &actor)
        .await
        .unwrap();
    assert_eq!(
        renamed_only.attribute_filter.as_deref(),
        Some(OTHER_FILTER),
        "a rename keeps the filter"
    );

    let cleared = store
        .update_certificate(&org, &new.id, &filtered(None), &actor)
        .await
        .unwrap();
    assert_eq!(cleared.attribute_filter, None);
    assert_eq!(cleared.name.as_deref(), Some("edge CA 2"));
    assert_eq!(read(&store, &org, &new.id).await, cleared);

    let both = CertificateUpdate {
        name: Some("both".to_owned()),
        attribute_filter: Some(Some(FILTER.to_owned())),
    };
    let changed = store
        .update_certificate(&org, &new.id, &both, &actor)
        .await
        .unwrap();
    assert_eq!(
        (changed.name.as_deref(), changed.attribute_filter.as_deref()),
        (Some("both"), Some(FILTER))
    );
    assert_eq!(read(&store, &org, &new.id).await, changed);
    assert_eq!(updates(&store, &org).await, 4, "one entry per update");

    let plain = store
        .insert_certificate(&new_cert(&org, None, T0, fake_anchor()), NO_LIMIT, &actor)
        .await
        .unwrap();
    assert_eq!(plain.attribute_filter, None);
    assert_eq!(read(&store, &org, &plain.id).await.attribute_filter, None);
}

/// Every activation of a certificate carries its filter as it now is, at both scopes.
pub async fn active_anchors_carry_attribute_filters(store: SharedStore) {
    let org = new_org(&*store).await;
    let project = insert_project(&*store, &org, T0).await;
    let actor = Actor::operator(T0);
    let mut new = new_cert(&org, None, T0, fake_anchor());
    new.attribute_filter = Some(FILTER.to_owned());
    let filtered_cert = store
        .insert_certificate(&new, NO_LIMIT, &actor)
        .await
        .unwrap();
    let plain = store
        .insert_certificate(&new_cert(&org, None, T0, fake_anchor()), NO_LIMIT, &actor)
        .await
        .unwrap();
    let both = [filtered_cert.id.clone(), plain.id.clone()];
    for scope in [Scope::Organization, Scope::Project(project.clone())] {
        store
            .set_certificates_active(&org, &scope, &both, true, &actor)
            .await
            .unwrap();
    }
    let filters = |anchors: Vec<orgcerts_core::model::ActiveAnchor>| {
        anchors
            .into_iter()
            .filter(|a| a.organization_id == org)
            .map(|a| (a.certificate_id, a.scope, a.attribute_filter))
            .collect::<Vec<_>>()
    };
    let anchors = filters(store.active_anchors().await.unwrap());
    assert_eq!(anchors.len(), 4, "{anchors:?}");
    for (id, scope, filter) in &anchors {
        let expected = (id == &filtered_cert.id).then(|| FILTER.to_owned());
        assert_eq!(filter, &expected, "{id} at {scope:?}");
    }

    store
        .update_certificate(
            &org,
            &filtered_cert.id,
            &filtered(Some(OTHER_FILTER)),
            &actor,
        )
        .await
        .unwrap();
    store
        .update_certificate(&org, &plain.id, &filtered(Some(FILTER)), &actor)
        .await
        .unwrap();
    for (id, scope, filter) in filters(store.active_anchors().await.unwrap()) {
        let expected = if id == filtered_cert.id {
            OTHER_FILTER
        } else {
            FILTER
        };
        assert_eq!(filter.as_deref(), Some(expected), "{id} at {scope:?}");
    }
    store
        .update_certificate(&org, &filtered_cert.id, &filtered(None), &actor)
        .await
        .unwrap();
    let cleared = filters(store.active_anchors().await.unwrap());
    assert!(
        cleared
            .iter()
            .filter(|(id, ..)| id == &filtered_cert.id)
            .all(|(.., filter)| filter.is_none()),
        "{cleared:?}"
    );
}
