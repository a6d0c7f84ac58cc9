//! The PostgreSQL adapter: the shared store suite, each test in a schema of its own on the test
//! server (`ORGCERTS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
//! then what only a shared server database has: concurrent start-ups, races between stores
//! with separate pools (as between instances), health, and start-up errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orgcerts_core::ids::OrganizationId;
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{Actor, ProjectUpdate, Scope};
use orgcerts_core::page::Order;
use orgcerts_core::{Error, Store};
use orgcerts_store::suite::{
    T0, fake_anchor, insert_cert, insert_project, list_all, new_cert, new_org, real_anchor,
    renamed, service_account, service_account_key, unsaved_org,
};
use orgcerts_store::{OpenError, OpenOptions, open, open_with};
use orgcerts_testkit::database::{PgSchema, postgres_url, with_search_path};
use sqlx::{Connection, PgConnection};

/// A fresh store on a new schema, and the schema (dropped after the test).
async fn fresh_pg() -> (Arc<dyn Store>, PgSchema) {
    let schema = PgSchema::create();
    let store = open(&schema.url()).await.unwrap();
    (store, schema)
}

orgcerts_store::store_suite!(fresh_pg());

/// A direct connection into the schema, to look behind the store's back.
async fn sql(schema: &PgSchema) -> PgConnection {
    PgConnection::connect(&schema.url()).await.unwrap()
}

/// Two stores with pools of their own on one schema: what two instances are. Each pool has
/// connections open already, so that racing operations really overlap.
async fn two_instances() -> (Arc<dyn Store>, Arc<dyn Store>, PgSchema) {
    let schema = PgSchema::create();
    let a = open(&schema.url()).await.unwrap();
    let b = open(&schema.url()).await.unwrap();
    let warm_up = (0..16).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { store.list_organizations().await.unwrap() }
    });
    futures_util::future::join_all(warm_up).await;
    (a, b, schema)
}

/// Runs `count` operations at once (all released together), alternating between `a` and `b`.
async fn race<T, F, Fut>(a: &Arc<dyn Store>, b: &Arc<dyn Store>, count: u32, op: F) -> Vec<T>
where
    F: Fn(Arc<dyn Store>, u32) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(count as usize));
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (start, fut) = (start.clone(), op(store, i));
            tokio::spawn(async move {
                start.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_start_ups_migrate_once() {
    let schema = PgSchema::create();
    let url = schema.url();
    let opening: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { open(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for task in opening {
        stores.push(
            task.await
                .unwrap()
                .expect("every concurrent start succeeds"),
        );
    }
    let mut conn = sql(&schema).await;
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, true),
            (2, true),
            (3, true),
            (4, true),
            (5, true),
            (6, true)
        ]
    );
    // Each of them works on the one schema.
    let org = new_org(&*stores[0]).await;
    for store in &stores {
        store.health().await.unwrap();
        insert_cert(&**store, &org, T0).await;
    }
    assert_eq!(
        list_all(&*stores[5], &org, &Scope::Organization, Order::Asc)
            .await
            .len(),
        6
    );
}

/// For engines without advisory locks: one instance migrates, the next finds nothing to do.
#[tokio::test]
async fn migrations_run_without_the_advisory_lock_when_told() {
    let schema = PgSchema::create();
    let unlocked = OpenOptions {
        migration_lock: false,
        ..OpenOptions::default()
    };
    let first = open_with(&schema.url(), &unlocked).await.unwrap();
    let second = open_with(&schema.url(), &unlocked).await.unwrap();
    let org = new_org(&*first).await;
    insert_cert(&*second, &org, T0).await;
    second.health().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maximum_holds_across_instances() {
    let (a, b, _schema) = two_instances().await;
    let org = new_org(&*a).await;
    let outcomes = race(&a, &b, 40, |store, i| {
        let cert = new_cert(&org, None, T0 + i64::from(i), fake_anchor());
        async move {
            store
                .insert_certificate(&cert, 10, &Actor::operator(T0))
                .await
        }
    })
    .await;
    let (mut stored, mut refused) = (0, 0);
    for outcome in outcomes {
        match outcome {
            Ok(_) => stored += 1,
            Err(Error::CertificateLimitExceeded { max: 10 }) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((stored, refused), (10, 30));
    for store in [&a, &b] {
        let listed = list_all(&**store, &org, &Scope::Organization, Order::Asc).await;
        assert_eq!(listed.len(), 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_store_one_and_name_it() {
    let (a, b, _schema) = two_instances().await;
    let org = new_org(&*a).await;
    let anchor = real_anchor("Raced CA");
    let outcomes = race(&a, &b, 16, |store, _| {
        let cert = new_cert(&org, None, T0, anchor.clone());
        // A limit of 1: the duplicate must still be reported as such, not as "full".
        async move {
            store
                .insert_certificate(&cert, 1, &Actor::operator(T0))
                .await
        }
    })
    .await;
    let mut stored = Vec::new();
    let mut named = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(record) => stored.push(record.id.as_str().to_owned()),
            Err(Error::CertificateAlreadyExists { existing_id }) => named.push(existing_id),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(named.len(), 15);
    assert!(named.iter().all(|id| *id == stored[0]), "{named:?}");
}

/// Delete and project activation of one certificate, raced from two instances: exactly one of
/// them wins, and a deleted certificate is never left active anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_activation_never_both_succeed() {
    let (a, b, schema) = two_instances().await;
    let org = new_org(&*a).await;
    let project = Scope::Project(insert_project(&*a, &org, T0).await);
    for round in 0..30 {
        let cert = insert_cert(&*a, &org, T0 + round).await;
        let deleter = Actor::operator(T0 + 1);
        let (activate, delete) = tokio::join!(
            {
                let (b, org, project, id) =
                    (b.clone(), org.clone(), project.clone(), cert.id.clone());
                async move {
                    b.set_certificates_active(&org, &project, &[id], true, &Actor::operator(T0))
                        .await
                }
            },
            a.delete_certificate(&org, &cert.id, &deleter)
        );
        match (&activate, &delete) {
            (Ok(_), Err(Error::CertificateInUse { .. }))
            | (Err(Error::UnknownCertificateInSet { .. }), Ok(())) => {}
            other => panic!("round {round}: {other:?}"),
        }
        if activate.is_ok() {
            a.set_certificates_active(
                &org,
                &project,
                std::slice::from_ref(&cert.id),
                false,
                &Actor::operator(T0),
            )
            .await
            .unwrap();
        }
    }
    let mut conn = sql(&schema).await;
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM project_certificates pc JOIN certificates c \
         ON c.id = pc.certificate_id WHERE c.deleted_at IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn health_needs_a_reachable_migrated_database() {
    let schema = PgSchema::create();
    let store = orgcerts_store::PostgresStore::connect(&schema.url(), &OpenOptions::default())
        .await
        .unwrap();
    store.health().await.unwrap();

    let mut conn = sql(&schema).await;
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(store.health().await, Err(Error::Storage(_))));
    sqlx::query("UPDATE _sqlx_migrations SET success = TRUE")
        .execute(&mut conn)
        .await
        .unwrap();
    store.health().await.unwrap();

    store.close().await;
    let res = store.health().await;
    assert!(matches!(res, Err(Error::StorageUnavailable(_))), "{res:?}");
    let res = store.list_organizations().await;
    assert!(matches!(res, Err(Error::StorageUnavailable(_))), "{res:?}");
}

async fn open_err(url: &str, options: &OpenOptions) -> OpenError {
    match open_with(url, options).await {
        Ok(_) => panic!("opened"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_database_that_is_not_there_is_a_prompt_clear_error() {
    // Nothing listens on port 1: refused until the connect timeout.
    let quick = OpenOptions {
        connect_timeout: Duration::from_millis(600),
        ..OpenOptions::default()
    };
    let started = Instant::now();
    let err = open_err("postgres://orgcerts:hunter2@127.0.0.1:1/certs", &quick).await;
    let waited = started.elapsed();
    assert!(matches!(err, OpenError::PostgresConnect { .. }), "{err:?}");
    assert!(
        waited >= Duration::from_millis(400),
        "it waited: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let text = err.to_string();
    assert!(text.contains("orgcerts@127.0.0.1:1/certs"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    // A database that does not exist is not waited for.
    let started = Instant::now();
    let missing = postgres_url().replace("/test", "/no_such_database_here");
    let err = open_err(&missing, &OpenOptions::default()).await;
    assert!(matches!(err, OpenError::PostgresConnect { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.to_string().contains("no_such_database_here"), "{err}");
}

#[tokio::test]
async fn a_schema_from_a_newer_orgcerts_is_refused() {
    let schema = PgSchema::create();
    drop(open(&schema.url()).await.unwrap());
    let mut conn = sql(&schema).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let err = open_err(&schema.url(), &OpenOptions::default()).await;
    assert!(
        matches!(
            err,
            OpenError::PostgresSchemaTooNew {
                found: 99,
                known: 6
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn schemas_keep_tests_apart() {
    let (one, _a) = fresh_pg().await;
    let (two, _b) = fresh_pg().await;
    new_org(&*one).await;
    assert_eq!(one.list_organizations().await.unwrap().len(), 1);
    assert!(two.list_organizations().await.unwrap().is_empty());
    // And the search path really is what put them apart.
    let url = with_search_path(&postgres_url(), "t_no_such_schema");
    let err = open_err(&url, &OpenOptions::default()).await;
    assert!(matches!(err, OpenError::PostgresMigrate(_)), "{err:?}");
}

/// Pooled connections the database dropped while they sat idle (a restart, a proxy's idle
/// timeout) are found out by the ping before they are handed out: the next operation succeeds.
#[tokio::test]
async fn connections_dropped_while_idle_are_replaced_unnoticed() {
    let schema = PgSchema::create();
    let name = format!("orgcerts_idle_{}", std::process::id());
    let url = format!("{}&application_name={name}", schema.url());
    let store = open(&url).await.unwrap();
    let org = new_org(store.as_ref()).await;

    let mut conn = sql(&schema).await;
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(!terminated.is_empty() && terminated.iter().all(|t| *t));
    // Idle for longer than the pool's ping threshold.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..3 {
        let orgs = store.list_organizations().await.unwrap();
        assert!(orgs.iter().any(|o| o.id == org));
    }
}

/// Instances starting together on one empty database: exactly one creates the first
/// organization, whichever pool each attempt goes through.
#[tokio::test]
async fn instances_bootstrapping_together_create_one_organization() {
    for _ in 0..5 {
        let (a, b, _schema) = two_instances().await;
        let outcomes = race(&a, &b, 12, |store, i| async move {
            let (org, key) = unsaved_org(&format!("instance {i}"));
            store.create_first_organization(&org, &key).await.unwrap()
        })
        .await;
        assert_eq!(outcomes.iter().filter(|created| **created).count(), 1);
        assert_eq!(a.list_organizations().await.unwrap().len(), 1);
    }
}

/// The organization's change count as authentication reads it with `key`.
async fn change_count(store: &dyn Store, key: &KeyHash) -> u64 {
    let (_, count) = store.admin_key_for_request(key).await.unwrap().unwrap();
    count.expect("PostgreSQL reads a change count with the key")
}

/// The first key of `org`'s hash.
async fn first_key(store: &dyn Store, org: &OrganizationId) -> KeyHash {
    store.list_admin_keys(org).await.unwrap()[0].hash
}

/// The read cache's stamp on PostgreSQL: every change to an organization's certificates,
/// activations and projects moves its count in the change's own transaction, seen at once by
/// another instance; refused changes, key use and other organizations' changes do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_count_moves_with_every_change_of_its_organization() {
    let (a, b, schema) = two_instances().await;
    let org = new_org(&*a).await;
    let other_org = new_org(&*a).await;
    let key = first_key(&*a, &org).await;
    let other_key = first_key(&*a, &other_org).await;
    let other_before = change_count(&*b, &other_key).await;

    let mut last = change_count(&*b, &key).await;
    let mut moved = |now: u64, what: &str| {
        assert!(now > last, "{what}: {now} after {last}");
        last = now;
    };
    let op = Actor::operator(T0);
    let cert = insert_cert(&*a, &org, T0).await;
    let just_cert = std::slice::from_ref(&cert.id);
    moved(change_count(&*b, &key).await, "upload");
    a.update_certificate(&org, &cert.id, &renamed("renamed"), &op)
        .await
        .unwrap();
    moved(change_count(&*b, &key).await, "rename");
    a.set_certificates_active(&org, &Scope::Organization, just_cert, true, &op)
        .await
        .unwrap();
    moved(change_count(&*b, &key).await, "activation");
    let project = insert_project(&*a, &org, T0).await;
    moved(change_count(&*b, &key).await, "project created");
    let at_project = Scope::Project(project.clone());
    a.set_certificates_active(&org, &at_project, just_cert, true, &op)
        .await
        .unwrap();
    moved(change_count(&*b, &key).await, "project activation");
    let rename = ProjectUpdate {
        name: Some("renamed".into()),
        ..ProjectUpdate::default()
    };
    a.update_project(&org, &project, &rename, &op)
        .await
        .unwrap();
    moved(change_count(&*b, &key).await, "project renamed");
    a.archive_project(&org, &project, &op).await.unwrap();
    moved(change_count(&*b, &key).await, "project archived");
    for scope in [Scope::Organization, at_project] {
        a.set_certificates_active(&org, &scope, just_cert, false, &op)
            .await
            .unwrap();
        moved(change_count(&*b, &key).await, "deactivation");
    }
    a.delete_certificate(&org, &cert.id, &op).await.unwrap();
    moved(change_count(&*b, &key).await, "delete");

    // Refused changes roll back with their transaction; key use is not a change.
    let unchanged = last;
    let unknown = insert_cert(&*b, &other_org, T0).await.id;
    let refused = a
        .set_certificates_active(&org, &Scope::Organization, &[unknown], true, &op)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let keys = a.list_admin_keys(&org).await.unwrap();
    a.record_admin_key_use(&[(keys[0].id.clone(), T0 + 5)])
        .await
        .unwrap();
    assert_eq!(change_count(&*b, &key).await, unchanged);
    assert_eq!(
        change_count(&*b, &other_key).await,
        other_before + 1,
        "the other organization counted its own upload only"
    );

    // A release that knows nothing of the count still writes audit entries: counted too.
    let mut conn = sql(&schema).await;
    sqlx::query(
        "INSERT INTO audit_logs (id, organization_id, type, effective_at, payload) \
         VALUES ('audit_log-older-release', $1, 'certificate.created', $2, '{}')",
    )
    .bind(org.as_str())
    .bind(T0)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(change_count(&*b, &key).await, unchanged + 1);
}

/// The gateway's trust version read through one instance's pool moves, at once, with every
/// change committed through another's: what a gateway beside the API servers relies on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_version_follows_other_instances_at_once() {
    let (gateway, server, _schema) = two_instances().await;
    let mut version = gateway.trust_version().await.unwrap();
    let org = new_org(&*server).await;
    let pid = insert_project(&*server, &org, T0).await;
    let cert = insert_cert(&*server, &org, T0).await;
    let next = gateway.trust_version().await.unwrap();
    assert!(next > version, "{version} -> {next}");
    version = next;
    server
        .set_certificates_active(
            &org,
            &Scope::Project(pid.clone()),
            std::slice::from_ref(&cert.id),
            true,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    let next = gateway.trust_version().await.unwrap();
    assert!(next > version, "activation: {version} -> {next}");
    version = next;
    assert_eq!(gateway.active_anchors().await.unwrap().len(), 1);
    server
        .archive_project(&org, &pid, &Actor::operator(T0))
        .await
        .unwrap();
    let next = gateway.trust_version().await.unwrap();
    assert!(next > version, "archive: {version} -> {next}");
    assert_eq!(gateway.trust_version().await.unwrap(), next, "no write");
}

/// Service account key use as the database holds it: a deleted key's row keeps its
/// `last_used_at`, and an empty batch sends no statement (it succeeds at once while another
/// session holds a lock that any update of the keys would wait for).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_key_use_skips_deleted_keys_and_empty_batches() {
    let (store, schema) = fresh_pg().await;
    let org = new_org(&*store).await;
    let pid = insert_project(&*store, &org, T0).await;
    let account = service_account(&org, &pid, "Bot", T0);
    let (live, _) = service_account_key(&account, T0);
    let (gone, _) = service_account_key(&account, T0);
    let actor = Actor::operator(T0);
    store
        .insert_service_account(&account, Some(&live), &actor)
        .await
        .unwrap();
    store
        .insert_service_account_key(&gone, &actor)
        .await
        .unwrap();
    store
        .delete_project_api_key(&org, &pid, &gone.id, &actor)
        .await
        .unwrap();
    store
        .record_service_account_key_use(&[(live.id.clone(), T0 + 5), (gone.id.clone(), T0 + 5)])
        .await
        .unwrap();

    let mut conn = sql(&schema).await;
    for (id, expected) in [(&live.id, Some(T0 + 5)), (&gone.id, None)] {
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT last_used_at FROM service_account_keys WHERE id = $1")
                .bind(id.as_str())
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(stored, expected, "{id}");
    }

    let mut tx = conn.begin().await.unwrap();
    sqlx::query("LOCK TABLE service_account_keys IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let empty = tokio::time::timeout(
        Duration::from_secs(2),
        store.record_service_account_key_use(&[]),
    )
    .await;
    tx.rollback().await.unwrap();
    assert!(
        matches!(empty, Ok(Ok(()))),
        "an empty batch waited for the lock: {empty:?}"
    );
}
