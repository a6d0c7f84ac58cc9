//! The audit log (`openai-audit-logs.openapi.yaml`) through the client: filters, both cursors
//! and auto-pagination, over entries recorded by changes the client made.

mod common;

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{anchor, client, proxy, server};
use futures_util::TryStreamExt;
use orgcerts_client::types::{
    AuditLog, ModifyCertificateRequest, ProjectCreateRequest, UploadCertificateRequest,
};
use orgcerts_client::{Client, ListAuditLogsParams};

/// What [`record_changes`] did, and the log it left, newest first:
///
/// | index | type | about |
/// |---|---|---|
/// | 0 | `api_key.deleted` | `key` |
/// | 1 | `api_key.created` | `key` |
/// | 2 | `certificate.updated` | `a` |
/// | 3 | `project.created` | `project` |
/// | 4 | `certificate.created` | `b` |
/// | 5 | `certificate.created` | `a` |
/// | 6 | `api_key.created` | the server's own key, by the operator (no actor) |
///
/// Entries 0..=2 are at least one second later than entries 3..=6.
struct Changes {
    a: String,
    b: String,
    project: String,
    key: String,
    log: Vec<AuditLog>,
}

const TYPES: [&str; 7] = [
    "api_key.deleted",
    "api_key.created",
    "certificate.updated",
    "project.created",
    "certificate.created",
    "certificate.created",
    "api_key.created",
];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn upload(client: &Client, name: &str) -> String {
    let request = UploadCertificateRequest {
        certificate: anchor(name),
        name: Some(name.to_owned()),
        attribute_filter: None,
    };
    let certificates = client.admin().organization().certificates();
    certificates.create(&request).await.unwrap().into_inner().id
}

/// One page of up to 100 entries: the whole log of these tests.
async fn whole_log(client: &Client, params: ListAuditLogsParams) -> Vec<AuditLog> {
    let page = client
        .admin()
        .organization()
        .audit_logs()
        .list(&params.limit(100))
        .await
        .unwrap();
    assert!(!page.has_more);
    page.data
}

async fn record_changes(client: &Client) -> Changes {
    let a = upload(client, "a").await;
    let b = upload(client, "b").await;
    let projects = client.admin().organization().projects();
    let project = projects
        .create(&ProjectCreateRequest {
            name: "P".into(),
            residency: None,
            external_key_id: None,
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    // The server's clock is this machine's: wait for the next second, so that effective_at
    // bounds can split the log in two.
    let first_half = whole_log(client, ListAuditLogsParams::new()).await;
    while now() <= first_half[0].effective_at {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .admin()
        .organization()
        .certificates()
        .update(
            &a,
            &ModifyCertificateRequest {
                name: Some("a2".into()),
                ..ModifyCertificateRequest::default()
            },
        )
        .await
        .unwrap();
    let keys = client.admin().organization().admin_api_keys();
    let key = keys.create("temp", None).await.unwrap().into_inner().key.id;
    keys.delete(&key).await.unwrap();

    let log = whole_log(client, ListAuditLogsParams::new()).await;
    let types: Vec<&str> = log.iter().map(|entry| entry.kind.as_str()).collect();
    assert_eq!(types, TYPES);
    // The table above, checked against the payloads.
    let about = |index: usize| log[index].payload[&log[index].kind]["id"].as_str().unwrap();
    assert_eq!(
        [about(0), about(1), about(2), about(3), about(4), about(5)],
        [&key, &key, &a, &project, &b, &a].map(String::as_str)
    );
    Changes {
        a,
        b,
        project,
        key,
        log,
    }
}

fn ids(entries: &[AuditLog]) -> Vec<&str> {
    entries.iter().map(|entry| entry.id.as_str()).collect()
}

/// The ids of `log` at `indexes`.
fn at<'l>(log: &'l [AuditLog], indexes: &[usize]) -> Vec<&'l str> {
    indexes
        .iter()
        .map(|&index| log[index].id.as_str())
        .collect()
}

#[tokio::test]
async fn filters_return_exactly_the_matching_entries() {
    let server = server();
    let client = client(&server);
    let changes = record_changes(&client).await;
    let log = &changes.log;
    let listed = |params: ListAuditLogsParams| whole_log(&client, params);

    let created = listed(ListAuditLogsParams::new().event_types(["certificate.created"])).await;
    assert_eq!(ids(&created), at(log, &[4, 5]));
    let two_types =
        listed(ListAuditLogsParams::new().event_types(["api_key.deleted", "certificate.updated"]))
            .await;
    assert_eq!(ids(&two_types), at(log, &[0, 2]));

    let about_a = listed(ListAuditLogsParams::new().resource_ids([&changes.a])).await;
    assert_eq!(ids(&about_a), at(log, &[2, 5]));
    let about_a_or_key =
        listed(ListAuditLogsParams::new().resource_ids([&changes.a, &changes.key])).await;
    assert_eq!(ids(&about_a_or_key), at(log, &[0, 1, 2, 5]));
    let b_created = listed(
        ListAuditLogsParams::new()
            .resource_ids([&changes.b])
            .event_types(["certificate.created"]),
    )
    .await;
    assert_eq!(ids(&b_created), at(log, &[4]));

    let in_project = listed(ListAuditLogsParams::new().project_ids([&changes.project])).await;
    assert_eq!(ids(&in_project), at(log, &[3]));
    let me = &log[0].actor.as_ref().expect("an API key actor").api_key.id;
    let by_me = listed(ListAuditLogsParams::new().actor_ids([me])).await;
    assert_eq!(ids(&by_me), at(log, &[0, 1, 2, 3, 4, 5]));
    // orgcerts actors have no email address.
    let by_email = listed(ListAuditLogsParams::new().actor_emails(["owner@example.com"])).await;
    assert!(by_email.is_empty());

    // The log's two halves, a second or more apart.
    let early = log[3].effective_at;
    let late = log[2].effective_at;
    assert!(late > early);
    let after_early = listed(ListAuditLogsParams::new().effective_at_gt(early)).await;
    assert_eq!(ids(&after_early), at(log, &[0, 1, 2]));
    let from_late = listed(ListAuditLogsParams::new().effective_at_gte(late)).await;
    assert_eq!(ids(&from_late), at(log, &[0, 1, 2]));
    let before_late = listed(ListAuditLogsParams::new().effective_at_lt(late)).await;
    assert_eq!(ids(&before_late), at(log, &[3, 4, 5, 6]));
    let up_to_early = listed(ListAuditLogsParams::new().effective_at_lte(early)).await;
    assert_eq!(ids(&up_to_early), at(log, &[3, 4, 5, 6]));
    let late_keys = listed(
        ListAuditLogsParams::new()
            .effective_at_gte(late)
            .effective_at_lte(log[0].effective_at)
            .event_types(["api_key.created"]),
    )
    .await;
    assert_eq!(ids(&late_keys), at(log, &[1]));
}

#[tokio::test]
async fn auto_pagination_visits_every_entry_once_keeping_the_filters() {
    let server = proxy(server());
    let client = client(&server);
    let changes = record_changes(&client).await;
    let log = &changes.log;
    let audit_logs = client.admin().organization().audit_logs();

    let pages: Vec<_> = audit_logs
        .list(&ListAuditLogsParams::new().limit(2))
        .await
        .unwrap()
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|page| page.data.len()).collect::<Vec<_>>(),
        [2, 2, 2, 1]
    );
    let walked: Vec<&str> = pages.iter().flat_map(|page| ids(&page.data)).collect();
    assert_eq!(walked, ids(log));
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), log.len());

    server.clear_requests();
    let filter = ListAuditLogsParams::new()
        .event_types(["certificate.created", "certificate.updated"])
        .limit(1);
    let streamed: Vec<String> = audit_logs
        .list(&filter)
        .await
        .unwrap()
        .into_stream()
        .map_ok(|entry| entry.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, at(log, &[2, 4, 5]));
    let queries: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.query.unwrap_or_default())
        .collect();
    let filters = "event_types[]=certificate.created&event_types[]=certificate.updated&limit=1";
    assert_eq!(
        queries,
        [
            filters.to_owned(),
            format!("{filters}&after={}", log[2].id),
            format!("{filters}&after={}", log[4].id),
        ]
    );
}

#[tokio::test]
async fn after_pages_older_and_before_pages_newer() {
    let server = proxy(server());
    let client = client(&server);
    let changes = record_changes(&client).await;
    let log = &changes.log;
    let audit_logs = client.admin().organization().audit_logs();

    let older = audit_logs
        .list(&ListAuditLogsParams::new().after(&log[1].id).limit(2))
        .await
        .unwrap();
    assert_eq!(ids(&older.data), at(log, &[2, 3]));
    assert!(older.has_more);
    let oldest = audit_logs
        .list(&ListAuditLogsParams::new().after(&log[5].id))
        .await
        .unwrap();
    assert_eq!(ids(&oldest.data), at(log, &[6]));
    assert!(!oldest.has_more && !oldest.has_next_page());

    // `before` gives the entries just newer than the cursor, still newest first; its pages
    // continue towards the newest with `before=first_id`.
    server.clear_requests();
    let newer = audit_logs
        .list(&ListAuditLogsParams::new().before(&log[4].id).limit(2))
        .await
        .unwrap();
    assert_eq!(ids(&newer.data), at(log, &[2, 3]));
    assert!(newer.has_more && newer.has_next_page());
    let pages: Vec<_> = newer.into_pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(ids(&pages[1].data), at(log, &[0, 1]));
    assert!(!pages[1].has_more);
    let queries: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries,
        [
            format!("limit=2&before={}", log[4].id),
            format!("limit=2&before={}", log[2].id),
        ]
    );
    let streamed: Vec<String> = audit_logs
        .list(&ListAuditLogsParams::new().before(&log[4].id).limit(3))
        .await
        .unwrap()
        .into_stream()
        .map_ok(|entry| entry.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, at(log, &[1, 2, 3, 0]));
    let newest = audit_logs
        .list(&ListAuditLogsParams::new().before(&log[0].id))
        .await
        .unwrap();
    assert!(newest.data.is_empty() && !newest.has_next_page());

    // Both cursors at once: the entries between them, newest first.
    let both = audit_logs
        .list(
            &ListAuditLogsParams::new()
                .after(&log[0].id)
                .before(&log[6].id),
        )
        .await
        .unwrap();
    let between: Vec<&str> = both.data.iter().map(|e| e.id.as_str()).collect();
    let expected: Vec<&str> = log[1..6].iter().map(|e| e.id.as_str()).collect();
    assert_eq!(between, expected);
}
