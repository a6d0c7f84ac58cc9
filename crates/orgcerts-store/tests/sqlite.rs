//! The SQLite adapter: the shared store suite on a fresh file per test, then what only a file
//! database has (persistence, a second process, permissions, refusing foreign files).

use std::path::Path;
use std::sync::Arc;

use orgcerts_core::Store;
use orgcerts_core::model::{Actor, Scope};
use orgcerts_core::page::Order;
use orgcerts_store::suite::{
    T0, admin_key, insert_cert, insert_project, list_all, new_org, service_account,
    service_account_key, unsaved_org,
};
use orgcerts_store::{OTHER_PROCESS_DELAY, OpenError, SqliteStore, open};
use tempfile::TempDir;

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A fresh store on a new file, and the directory that holds it.
async fn fresh() -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&url(&dir.path().join("orgcerts.db"))).await.unwrap();
    (store, dir)
}

orgcerts_store::store_suite!(fresh());

async fn open_err(url: &str) -> OpenError {
    match open(url).await {
        Ok(_) => panic!("{url} opened"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(&dir.path().join("orgcerts.db"));
    let store = open(&url).await.unwrap();
    let org = new_org(&*store).await;
    let cert = insert_cert(&*store, &org, T0).await;
    let gone = insert_cert(&*store, &org, T0 + 1).await;
    store
        .delete_certificate(&org, &gone.id, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    let pid = insert_project(&*store, &org, T0).await;
    store
        .set_certificates_active(
            &org,
            &Scope::Project(pid.clone()),
            std::slice::from_ref(&cert.id),
            true,
            &Actor::operator(T0),
        )
        .await
        .unwrap();
    drop(store);

    let store = open(&url).await.unwrap();
    assert_eq!(
        store.certificate(&org, &cert.id, false).await.unwrap(),
        Some(cert.clone())
    );
    assert_eq!(
        list_all(&*store, &org, &Scope::Project(pid), Order::Asc).await,
        vec![(cert.id.as_str().to_owned(), true)]
    );
    // The deleted certificate's position survives too.
    let after_gone = store
        .list_certificates(
            &org,
            &Scope::Organization,
            &orgcerts_store::suite::page(10, Order::Desc, Some(gone.id.as_str())),
        )
        .await
        .unwrap();
    assert_eq!(after_gone.items.len(), 1);
    assert_eq!(store.list_admin_keys(&org).await.unwrap().len(), 1);
}

/// What the `orgcerts admin-key` command does while the server runs: a second store on the
/// same file, whose writes the first one sees at once, and the other way round.
#[tokio::test]
async fn two_stores_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(&dir.path().join("orgcerts.db"));
    let server = open(&url).await.unwrap();
    let cli = open(&url).await.unwrap();

    let org = new_org(&*cli).await;
    let (key, _) = admin_key(&org, "from the CLI", T0 + 1);
    cli.insert_admin_key(&key, &Actor::operator(T0))
        .await
        .unwrap();
    assert_eq!(
        server.admin_key_by_hash(&key.hash).await.unwrap(),
        Some(key.clone())
    );

    let cert = insert_cert(&*server, &org, T0).await;
    assert!(
        cli.certificate(&org, &cert.id, false)
            .await
            .unwrap()
            .is_some()
    );
    cli.revoke_admin_key(&org, &key.id, &Actor::operator(T0 + 2))
        .await
        .unwrap();
    let seen = server.admin_key_by_hash(&key.hash).await.unwrap().unwrap();
    assert_eq!(seen.revoked_at, Some(T0 + 2));
}

#[cfg(unix)]
#[tokio::test]
async fn creates_a_private_directory_and_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("var").join("orgcerts");
    let file = nested.join("orgcerts.db");
    let store = open(&format!("sqlite:{}", file.display())).await.unwrap();
    new_org(&*store).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("var")), 0o700);
    assert_eq!(mode(&nested), 0o700);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&nested.join("orgcerts.db-wal")), 0o600);
}

#[tokio::test]
async fn refuses_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(100)).unwrap();
    let err = open_err(&url(&path)).await;
    assert!(matches!(err, OpenError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    // The file is left as it was.
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("these are my notes")
    );

    let err = open_err(&url(dir.path())).await;
    assert!(matches!(err, OpenError::IsADirectory { .. }), "{err:?}");
}

#[tokio::test]
async fn refuses_a_database_from_a_newer_orgcerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgcerts.db");
    drop(open(&url(&path)).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = open_err(&url(&path)).await;
    assert!(
        matches!(
            err,
            OpenError::SchemaTooNew {
                found: 99,
                known: 5,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn memory_urls_give_separate_throwaway_databases() {
    let a = open("sqlite::memory:").await.unwrap();
    let b = open("sqlite::memory:").await.unwrap();
    new_org(&*a).await;
    assert_eq!(a.list_organizations().await.unwrap().len(), 1);
    assert!(b.list_organizations().await.unwrap().is_empty());
}

#[tokio::test]
async fn other_engines_are_refused_clearly() {
    let err = open_err("mysql://orgcerts:hunter2@db/orgcerts").await;
    assert!(
        matches!(err, OpenError::UnsupportedScheme { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("sqlite://PATH"), "{text}");
    assert!(text.contains("postgres://"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

/// Two stores on one file (two processes, as instances or the CLI would be) racing to create
/// the first organization: exactly one does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_on_one_file_create_the_first_organization_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(&dir.path().join("orgcerts.db"));
    let (a, b) = (open(&url).await.unwrap(), open(&url).await.unwrap());
    let attempts = (0..12).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let (org, key) = unsaved_org(&format!("instance {i}"));
            store.create_first_organization(&org, &key).await.unwrap()
        })
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    assert_eq!(
        outcomes
            .into_iter()
            .filter(|r| *r.as_ref().unwrap())
            .count(),
        1
    );
    assert_eq!(b.list_organizations().await.unwrap().len(), 1);
}

/// The change token the read cache trusts: this process's writes change it at once, another
/// process's within `OTHER_PROCESS_DELAY`, and the key-use flush (nothing cached depends on
/// `last_used_at`) not at all.
#[tokio::test]
async fn change_token_follows_every_write_but_key_use() {
    let (store, dir) = fresh().await;
    // Reading the token runs no SQL: when no check vouches for it, there is none, and the
    // store's checker thread is woken to make one.
    let token = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(token) = store.change_token() {
                return token;
            }
            assert!(std::time::Instant::now() < deadline, "no token for 10 s");
            std::thread::sleep(OTHER_PROCESS_DELAY);
        }
    };
    let org = new_org(&*store).await;
    let before = token();
    insert_cert(&*store, &org, T0).await;
    let after_insert = token();
    assert_ne!(
        before, after_insert,
        "a write of this process shows at once"
    );
    // The next check sees that commit in `data_version` too and moves the token once more
    // (one more refill of the cache); after that, it stays.
    tokio::time::sleep(OTHER_PROCESS_DELAY * 2).await;
    let after_insert = token();

    let keys = store.list_admin_keys(&org).await.unwrap();
    store
        .record_admin_key_use(&[(keys[0].id.clone(), T0 + 5)])
        .await
        .unwrap();
    tokio::time::sleep(OTHER_PROCESS_DELAY * 2).await;
    assert_eq!(token(), after_insert, "recording key use leaves the token");
    let keys = store.list_admin_keys(&org).await.unwrap();
    assert_eq!(keys[0].last_used_at, Some(T0 + 5), "and is written");

    // Another process on the same file, as the operator's command line is.
    let other = open(&url(&dir.path().join("orgcerts.db"))).await.unwrap();
    insert_cert(&*other, &org, T0 + 1).await;
    tokio::time::sleep(OTHER_PROCESS_DELAY * 2).await;
    let after_other = token();
    assert_ne!(after_other, after_insert, "another process's write shows");
    tokio::time::sleep(OTHER_PROCESS_DELAY * 2).await;
    assert_eq!(token(), after_other, "and nothing else moves it");

    // Only this store's own flush is quiet: key use recorded by another process is a commit
    // of another connection like any other (which only costs a refill of the cache).
    other
        .record_admin_key_use(&[(keys[0].id.clone(), T0 + 9)])
        .await
        .unwrap();
    tokio::time::sleep(OTHER_PROCESS_DELAY * 2).await;
    assert_ne!(
        token(),
        after_other,
        "another connection's commit is always a change"
    );
}

/// A request that finds no token asks for a fresh one: a check runs on a reader thread (never
/// on the async workers), and the token it gives already shows another process's commit.
#[tokio::test]
async fn a_fresh_token_checks_when_none_is_vouched_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgcerts.db");
    let store = SqliteStore::open(&path).unwrap();
    // With a zero delay no check ever vouches for a token.
    store.set_other_process_delay(std::time::Duration::ZERO);
    let org = new_org(&store).await;
    assert_eq!(store.change_token(), None, "no check vouches for it");
    let before = store.fresh_change_token().await.expect("a checked token");

    let other = open(&url(&path)).await.unwrap();
    insert_cert(&*other, &org, T0).await;
    let after = store.fresh_change_token().await.expect("a checked token");
    assert_ne!(before, after, "another process's commit shows at once");
    assert_eq!(
        store.fresh_change_token().await,
        Some(after),
        "and nothing else moves it"
    );
}

/// This store's own writes change the token without waiting for a `data_version` check:
/// with checks an hour apart, a write shows at once, another process's does not.
#[tokio::test]
async fn own_writes_change_the_token_without_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgcerts.db");
    let store = SqliteStore::open(&path).unwrap();
    store.set_other_process_delay(std::time::Duration::from_hours(1));
    let org = new_org(&store).await;
    let before = store.change_token().unwrap();
    insert_cert(&store, &org, T0).await;
    let after = store.change_token().unwrap();
    assert_ne!(before, after, "this store's write");

    let other = open(&url(&path)).await.unwrap();
    insert_cert(&*other, &org, T0 + 1).await;
    assert_eq!(
        store.change_token().unwrap(),
        after,
        "not checked again within the delay"
    );
}

/// The gateway's trust version on a store another process writes to (a second store on the
/// file has connections of its own, which is what `data_version` tells apart): each of the
/// other's commits shows in the next read, however long this store went unasked, and within
/// a second of polling in any case; this store's own writes show at once.
#[tokio::test]
async fn trust_version_sees_another_process_at_the_next_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgcerts.db");
    let gateway = SqliteStore::open(&path).unwrap();
    let server = SqliteStore::open(&path).unwrap();
    let org = new_org(&server).await;
    let pid = insert_project(&server, &org, T0).await;

    let first = gateway.trust_version().await.unwrap();
    let cert = insert_cert(&server, &org, T0).await;
    let polled = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let version = gateway.trust_version().await.unwrap();
            if version != first {
                break version;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "another process's upload unseen for 1 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    assert!(polled > first, "{first} -> {polled}");

    // Unasked for longer than the checker thread keeps checking: the next read checks by itself.
    let unasked = std::time::Duration::from_millis(200);
    tokio::time::sleep(unasked).await;
    assert_eq!(gateway.trust_version().await.unwrap(), polled, "no write");
    tokio::time::sleep(unasked).await;
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
    tokio::time::sleep(OTHER_PROCESS_DELAY * 10).await;
    let activated = gateway.trust_version().await.unwrap();
    assert!(activated > polled, "activation: {polled} -> {activated}");
    assert_eq!(gateway.active_anchors().await.unwrap().len(), 1);

    tokio::time::sleep(unasked).await;
    server
        .archive_project(&org, &pid, &Actor::operator(T0))
        .await
        .unwrap();
    tokio::time::sleep(OTHER_PROCESS_DELAY * 10).await;
    let archived = gateway.trust_version().await.unwrap();
    assert!(archived > activated, "archive: {activated} -> {archived}");

    // This store's own writes show at once, without a wait.
    insert_cert(&gateway, &org, T0 + 1).await;
    assert!(gateway.trust_version().await.unwrap() > archived);
}

/// Service account key use as the file holds it: a deleted key's row keeps its `last_used_at`,
/// and an empty batch does not even take the write lock (it succeeds at once while another
/// connection holds it).
#[tokio::test]
async fn service_account_key_use_skips_deleted_keys_and_empty_batches() {
    let (store, dir) = fresh().await;
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

    let conn = rusqlite::Connection::open(dir.path().join("orgcerts.db")).unwrap();
    let stored = |id: &str| -> Option<i64> {
        conn.query_row(
            "SELECT last_used_at FROM service_account_keys WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .unwrap()
    };
    assert_eq!(stored(live.id.as_str()), Some(T0 + 5));
    assert_eq!(
        stored(gone.id.as_str()),
        None,
        "the deleted key is left alone"
    );

    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let empty = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        store.record_service_account_key_use(&[]),
    )
    .await;
    conn.execute_batch("COMMIT").unwrap();
    assert!(
        matches!(empty, Ok(Ok(()))),
        "an empty batch waited for the write lock: {empty:?}"
    );
}
