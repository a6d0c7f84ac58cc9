//! The audit log: written in the same transaction as each change, never for a refused one.

use orgcerts_core::Error;
use orgcerts_core::audit::{AuditCursor, AuditQuery};
use orgcerts_core::ids::CertificateId;
use orgcerts_core::model::{Actor, Scope};

use super::{SharedStore, T0, fake_anchor, insert_cert, new_cert, new_org};

/// The types of the organization's entries, newest first.
async fn types(store: &SharedStore, org: &orgcerts_core::ids::OrganizationId) -> Vec<String> {
    let query = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let page = store.list_audit_logs(org, &query).await.unwrap();
    page.items.into_iter().map(|e| e.event_type).collect()
}

pub async fn audit_entries_follow_changes_only(store: SharedStore) {
    let org = new_org(&*store).await;
    assert_eq!(types(&store, &org).await, ["api_key.created"]);
    let cert = insert_cert(&*store, &org, T0).await;
    let actor = Actor::operator(T0 + 5);
    store
        .set_certificates_active(
            &org,
            &Scope::Organization,
            std::slice::from_ref(&cert.id),
            true,
            &actor,
        )
        .await
        .unwrap();
    let after_changes = types(&store, &org).await;
    assert_eq!(
        after_changes,
        [
            "certificates.activated",
            "certificate.created",
            "api_key.created"
        ]
    );

    // Refused: in use, unknown id in the set, over the maximum, unknown project.
    let refused = [
        store.delete_certificate(&org, &cert.id, &actor).await.err(),
        store
            .set_certificates_active(
                &org,
                &Scope::Organization,
                &[cert.id.clone(), CertificateId::generate()],
                false,
                &actor,
            )
            .await
            .err(),
        store
            .insert_certificate(&new_cert(&org, None, T0, fake_anchor()), 1, &actor)
            .await
            .err(),
        store
            .set_certificates_active(
                &org,
                &Scope::Project(orgcerts_core::ids::ProjectId::generate()),
                std::slice::from_ref(&cert.id),
                true,
                &actor,
            )
            .await
            .err(),
    ];
    assert!(
        matches!(
            refused,
            [
                Some(Error::CertificateInUse { .. }),
                Some(Error::UnknownCertificateInSet { .. }),
                Some(Error::CertificateLimitExceeded { .. }),
                Some(Error::ProjectNotFound { .. }),
            ]
        ),
        "{refused:?}"
    );
    assert_eq!(types(&store, &org).await, after_changes);

    // Entries carry the actor, the time and the resources; the list is the organization's.
    let page = store
        .list_audit_logs(
            &org,
            &AuditQuery {
                resource_ids: vec![cert.id.to_string()],
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].effective_at, T0 + 5);
    assert_eq!(page.items[0].actor_key_id, None);
    assert_eq!(page.items[0].resource_ids, vec![cert.id.to_string()]);
    let other = new_org(&*store).await;
    let foreign = store
        .list_audit_logs(
            &other,
            &AuditQuery {
                cursor: AuditCursor::After(page.items[0].id.to_string()),
                ..AuditQuery::default()
            },
        )
        .await;
    assert!(
        matches!(foreign, Err(Error::InvalidParameter { param: "after", .. })),
        "{foreign:?}"
    );
}
