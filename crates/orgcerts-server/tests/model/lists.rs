//! Lists: one page as a step asks for it, and every list walked page by page.

use reqwest::Method;
use serde_json::{Value, json};

use super::common::TestServer;
use super::ops::{Limit, Order, Ref, Scope};
use super::steps::{call, check_project, scope_path};
use super::world::{self, Project, Target, World, error};

/// The page the model predicts: the live certificates strictly after the cursor in this
/// order, at most `limit`, and whether more follow.
fn expected_page(
    world: &World,
    org: usize,
    asc: bool,
    after: Option<usize>,
    limit: usize,
) -> (Vec<usize>, bool) {
    let mut indexes: Vec<usize> = (0..world.orgs[org].certs.len())
        .filter(|&i| world.orgs[org].certs[i].live)
        .filter(|&i| after.is_none_or(|a| if asc { i > a } else { i < a }))
        .collect();
    if !asc {
        indexes.reverse();
    }
    let has_more = indexes.len() > limit;
    indexes.truncate(limit);
    (indexes, has_more)
}

/// Checks a list page against the model's items.
fn check_page(
    world: &World,
    org: usize,
    project: Option<usize>,
    body: &Value,
    want: &[usize],
    has_more: bool,
) -> Result<(), String> {
    let o = &world.orgs[org];
    let data = body["data"]
        .as_array()
        .ok_or(format!("no data in {body}"))?;
    let ids = |v: Option<&usize>| v.map_or(Value::Null, |&i| json!(o.certs[i].id));
    let keys = body.as_object().map_or(0, serde_json::Map::len);
    if body["object"] != "list"
        || keys != 5
        || data.len() != want.len()
        || body["has_more"] != has_more
        || body["first_id"] != ids(want.first())
        || body["last_id"] != ids(want.last())
    {
        let want: Vec<&str> = want.iter().map(|&i| o.certs[i].id.as_str()).collect();
        return Err(format!(
            "expected {want:?} with has_more {has_more}, got {body}"
        ));
    }
    for (&i, v) in want.iter().zip(data) {
        let cert = &o.certs[i];
        let (object, active) = match project {
            None => ("organization.certificate", cert.org_active),
            Some(p) => (
                "organization.project.certificate",
                cert.projects.contains(&p),
            ),
        };
        world::certificate(v, cert, object, Some(active), false)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn list(
    server: &TestServer,
    world: &World,
    org: usize,
    scope: Scope,
    limit: Option<&Limit>,
    order: Option<Order>,
    after: Option<Ref>,
) -> Result<(), String> {
    let mut query = Vec::new();
    match limit {
        Some(Limit::Valid(n)) => query.push(format!("limit={n}")),
        Some(Limit::Invalid(text)) => query.push(format!("limit={text}")),
        None => {}
    }
    match order {
        Some(Order::Asc) => query.push("order=asc".to_owned()),
        Some(Order::Desc) => query.push("order=desc".to_owned()),
        Some(Order::Invalid) => query.push("order=sideways".to_owned()),
        None => {}
    }
    let after = after.map(|r| world.cert(org, r));
    if let Some(target) = &after {
        query.push(format!("after={}", world.id(org, target, false)));
    }
    let (path, project) = scope_path(world, org, scope, &format!("?{}", query.join("&")));
    let reply = call(server, world, org, Method::GET, &path, None).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    // The project id's form, then limit, then order, then the project, then the cursor.
    if project == Err(true) {
        return error(status, body, 404, Some("project_id"), None);
    }
    if let Some(Limit::Invalid(_)) = limit {
        return error(status, body, 400, Some("limit"), None);
    }
    if let Some(Order::Invalid) = order {
        return error(status, body, 400, Some("order"), None);
    }
    let Ok(project) = project else {
        return error(status, body, 404, Some("project_id"), None);
    };
    let cursor = match after {
        None => None,
        Some(Target::Own(i)) => Some(i),
        Some(Target::Foreign { .. }) => return error(status, body, 400, Some("after"), None),
    };
    if status != 200 {
        return Err(format!("expected 200, got {status} {body}"));
    }
    let limit = match limit {
        Some(Limit::Valid(n)) => *n as usize,
        _ => 20,
    };
    let asc = matches!(order, Some(Order::Asc));
    let (want, has_more) = expected_page(world, org, asc, cursor, limit);
    check_page(world, org, project, body, &want, has_more)
}

/// Walks every list of both organizations page by page, in both orders, and the projects.
pub async fn check_all(server: &TestServer, world: &World, limit: u32) -> Result<(), String> {
    let limit = limit as usize;
    for org in 0..2 {
        let projects = world.orgs[org].projects.len();
        for project in std::iter::once(None).chain((0..projects).map(Some)) {
            let base = match project {
                None => "/organization/certificates".to_owned(),
                Some(p) => format!(
                    "/organization/projects/{}/certificates",
                    world.orgs[org].projects[p].id
                ),
            };
            for asc in [true, false] {
                let order = if asc { "asc" } else { "desc" };
                let mut cursor: Option<usize> = None;
                loop {
                    let mut path = format!("{base}?order={order}&limit={limit}");
                    if let Some(i) = cursor {
                        let id: &str = &world.orgs[org].certs[i].id;
                        path = format!("{path}&after={id}");
                    }
                    let reply = call(server, world, org, Method::GET, &path, None).await;
                    let (want, has_more) = expected_page(world, org, asc, cursor, limit);
                    check_page(world, org, project, &reply.body, &want, has_more)
                        .map_err(|e| format!("GET {path}: {e}"))?;
                    match want.last() {
                        Some(&last) if has_more => cursor = Some(last),
                        _ => break,
                    }
                }
            }
        }
        check_projects(server, world, org, limit).await?;
    }
    Ok(())
}

/// The projects list, with and without archived projects, page by page.
async fn check_projects(
    server: &TestServer,
    world: &World,
    org: usize,
    limit: usize,
) -> Result<(), String> {
    for include_archived in [false, true] {
        let want: Vec<&Project> = world.orgs[org]
            .projects
            .iter()
            .filter(|p| include_archived || p.archived_at.is_none())
            .collect();
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!(
                "/organization/projects?limit={limit}&include_archived={include_archived}{after}"
            );
            let reply = call(server, world, org, Method::GET, &path, None).await;
            let data = reply.body["data"]
                .as_array()
                .ok_or(format!("GET {path}: {}", reply.body))?;
            seen.extend(data.iter().cloned());
            if reply.body["has_more"] != true || seen.len() > want.len() {
                break;
            }
            after = format!(
                "&after={}",
                reply.body["last_id"].as_str().unwrap_or_default()
            );
        }
        if seen.len() != want.len() {
            return Err(format!("projects: expected {want:?}, got {seen:?}"));
        }
        for (v, project) in seen.iter().zip(want) {
            check_project(v, project)?;
        }
    }
    Ok(())
}
