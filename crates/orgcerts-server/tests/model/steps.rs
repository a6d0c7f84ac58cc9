//! One step: the request, the answer the model predicts, and the model's update.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Value, json};

use super::common::{Reply, TestServer};
use super::lists;
use super::ops::{Op, Ref, Scope, Upload};
use super::world::{
    self, Cert, MAX_CERTIFICATES, Pool, Project, Target, World, error, name_refused,
};

/// Answers by route and status over the whole test, to show what the runs reached.
pub static ANSWERS: Mutex<BTreeMap<(String, u16), usize>> = Mutex::new(BTreeMap::new());

pub async fn call(
    server: &TestServer,
    world: &World,
    org: usize,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let route: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .map(|part| {
            if part.starts_with("cert_") || part.starts_with("proj_") {
                "{id}"
            } else {
                part
            }
        })
        .collect();
    let route = format!("{method} {}", route.join("/"));
    let reply = server
        .call_as(&world.orgs[org].key, method, path, body)
        .await;
    if let Ok(mut answers) = ANSWERS.lock() {
        *answers.entry((route, reply.status.as_u16())).or_default() += 1;
    }
    reply
}

pub async fn step(
    server: &TestServer,
    pool: &Pool,
    world: &mut World,
    op: &Op,
) -> Result<(), String> {
    match op {
        Op::Upload { org, pem, name } => {
            upload(server, pool, world, *org, *pem, name.as_ref()).await
        }
        Op::Get { org, cert, content } => get(server, pool, world, *org, *cert, *content).await,
        Op::Rename { org, cert, name } => rename(server, world, *org, *cert, name.as_ref()).await,
        Op::Delete { org, cert } => delete(server, world, *org, *cert).await,
        Op::Toggle {
            org,
            scope,
            activate,
            ids,
        } => toggle(server, world, *org, *scope, *activate, ids).await,
        Op::CreateProject { org, name } => create_project(server, world, *org, name).await,
        Op::ArchiveProject { org, project } => archive_project(server, world, *org, *project).await,
        Op::List {
            org,
            scope,
            limit,
            order,
            after,
        } => lists::list(server, world, *org, *scope, limit.as_ref(), *order, *after).await,
        Op::CheckAll { limit } => lists::check_all(server, world, *limit).await,
    }
}

/// The pool index of the certificate an upload sends again, if it names one.
fn again(world: &World, org: usize, r: Ref) -> Option<usize> {
    let (certs, i) = match r {
        Ref::Live(i) | Ref::Own(i) => (&world.orgs[org].certs, i),
        Ref::Other(i) => (&world.orgs[1 - org].certs, i),
        Ref::Unknown | Ref::Malformed => return None,
    };
    (!certs.is_empty()).then(|| certs[i % certs.len()].pem)
}

async fn upload(
    server: &TestServer,
    pool: &Pool,
    world: &mut World,
    org: usize,
    pem: Upload,
    name: Option<&String>,
) -> Result<(), String> {
    let (text, index, refused) = match pem {
        Upload::Invalid(kind) => {
            let (text, code) = pool.invalid(kind);
            (text, None, Some(code))
        }
        Upload::Again(r) if again(world, org, r).is_some() => {
            let i = again(world, org, r).unwrap_or_default();
            (pool.valid[i].0.clone(), Some(i), None)
        }
        Upload::Fresh | Upload::Again(_) => {
            let i = world.next_fresh % pool.valid.len();
            world.next_fresh += 1;
            (pool.valid[i].0.clone(), Some(i), None)
        }
    };
    let mut body = json!({ "certificate": text });
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let reply = call(
        server,
        world,
        org,
        Method::POST,
        "/organization/certificates",
        Some(body),
    )
    .await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    let o = &world.orgs[org];
    // The service checks the name, then the PEM; the store the duplicate, then the maximum.
    if name.is_some_and(|n| name_refused(n, true)) {
        return error(status, body, 400, Some("name"), None);
    }
    if let Some(code) = refused {
        return error(status, body, 400, Some("certificate"), Some(code));
    }
    let index = index.unwrap_or_default();
    if let Some(existing) = o.live().find(|c| c.pem == index) {
        error(
            status,
            body,
            409,
            Some("certificate"),
            Some("certificate_already_exists"),
        )?;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if !message.contains(&existing.id) {
            return Err(format!("the message names no {}: {message}", existing.id));
        }
        return Ok(());
    }
    if o.live().count() >= MAX_CERTIFICATES {
        return error(status, body, 400, None, Some("certificate_limit_exceeded"));
    }
    if status != 200 {
        return Err(format!("expected 200, got {status} {body}"));
    }
    let number = |v: &Value| v.as_u64().ok_or(format!("not a number in {body}"));
    let details = &body["certificate_details"];
    let cert = Cert {
        id: body["id"].as_str().unwrap_or_default().to_owned(),
        pem: index,
        name: name.cloned(),
        created_at: number(&body["created_at"])?,
        valid_at: number(&details["valid_at"])?,
        expires_at: number(&details["expires_at"])?,
        live: true,
        org_active: false,
        projects: BTreeSet::default(),
    };
    world::certificate(body, &cert, "certificate", None, false)?;
    let same_anchor = world
        .orgs
        .iter()
        .flat_map(|o| &o.certs)
        .find(|c| c.pem == index);
    let earlier = world.orgs[org].certs.last();
    if orgcerts_core::ids::CertificateId::parse(&cert.id).is_none()
        || world
            .orgs
            .iter()
            .flat_map(|o| &o.certs)
            .any(|c| c.id == cert.id)
        || same_anchor
            .is_some_and(|c| (c.valid_at, c.expires_at) != (cert.valid_at, cert.expires_at))
        || earlier.is_some_and(|c| c.created_at > cert.created_at)
        || cert.valid_at >= cert.expires_at
    {
        return Err(format!("implausible new certificate {body}"));
    }
    world.orgs[org].certs.push(cert);
    Ok(())
}

async fn get(
    server: &TestServer,
    pool: &Pool,
    world: &World,
    org: usize,
    r: Ref,
    content: Option<bool>,
) -> Result<(), String> {
    let target = world.cert(org, r);
    let id = world.id(org, &target, false);
    let query = match content {
        None => "",
        Some(true) => "?include[]=content",
        Some(false) => "?include%5B%5D=content",
    };
    let path = format!("/organization/certificates/{id}{query}");
    let reply = call(server, world, org, Method::GET, &path, None).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    match target {
        Target::Own(i) if world.orgs[org].certs[i].live => {
            let cert = &world.orgs[org].certs[i];
            if status != 200 {
                return Err(format!("expected 200, got {status} {body}"));
            }
            world::certificate(body, cert, "certificate", None, content.is_some())?;
            if content.is_some() {
                let der = &pool.valid[cert.pem].1;
                world::canonical_content(&body["certificate_details"]["content"], der)?;
            }
            Ok(())
        }
        _ => error(status, body, 404, Some("certificate_id"), None),
    }
}

async fn rename(
    server: &TestServer,
    world: &mut World,
    org: usize,
    r: Ref,
    name: Option<&String>,
) -> Result<(), String> {
    let target = world.cert(org, r);
    let id = world.id(org, &target, false);
    let body = name.as_ref().map_or(json!({}), |n| json!({ "name": n }));
    let path = format!("/organization/certificates/{id}");
    let reply = call(server, world, org, Method::POST, &path, Some(body)).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    // The id's form is checked first, then the name, then whether the certificate exists.
    if let Target::Foreign {
        malformed: true, ..
    } = target
    {
        return error(status, body, 404, Some("certificate_id"), None);
    }
    if name.is_some_and(|n| name_refused(n, true)) {
        return error(status, body, 400, Some("name"), None);
    }
    match target {
        Target::Own(i) if world.orgs[org].certs[i].live => {
            let cert = &mut world.orgs[org].certs[i];
            if name.is_some() {
                cert.name = name.cloned();
            }
            if status != 200 {
                return Err(format!("expected 200, got {status} {body}"));
            }
            world::certificate(body, cert, "certificate", None, false)
        }
        _ => error(status, body, 404, Some("certificate_id"), None),
    }
}

async fn delete(server: &TestServer, world: &mut World, org: usize, r: Ref) -> Result<(), String> {
    let target = world.cert(org, r);
    let id = world.id(org, &target, false);
    let path = format!("/organization/certificates/{id}");
    let reply = call(server, world, org, Method::DELETE, &path, None).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    match target {
        Target::Own(i) if world.orgs[org].certs[i].live => {
            let cert = &mut world.orgs[org].certs[i];
            if cert.in_use() {
                return error(
                    status,
                    body,
                    409,
                    Some("certificate_id"),
                    Some("certificate_in_use"),
                );
            }
            if status != 200 || *body != json!({ "object": "certificate.deleted", "id": id }) {
                return Err(format!(
                    "expected 200 certificate.deleted, got {status} {body}"
                ));
            }
            cert.live = false;
            Ok(())
        }
        _ => error(status, body, 404, Some("certificate_id"), None),
    }
}

/// The path of a list or activation, and the project it is about: `Ok(None)` for the
/// organization, `Err` for a project the organization does not have.
pub fn scope_path(
    world: &World,
    org: usize,
    scope: Scope,
    tail: &str,
) -> (String, Result<Option<usize>, bool>) {
    match scope {
        Scope::Organization => (format!("/organization/certificates{tail}"), Ok(None)),
        Scope::Project(r) => {
            let target = world.project(org, r);
            let id = world.id(org, &target, true);
            let path = format!("/organization/projects/{id}/certificates{tail}");
            match target {
                Target::Own(p) => (path, Ok(Some(p))),
                Target::Foreign { malformed, .. } => (path, Err(malformed)),
            }
        }
    }
}

async fn toggle(
    server: &TestServer,
    world: &mut World,
    org: usize,
    scope: Scope,
    activate: bool,
    refs: &[Ref],
) -> Result<(), String> {
    let verb = if activate { "activate" } else { "deactivate" };
    let (path, project) = scope_path(world, org, scope, &format!("/{verb}"));
    let targets: Vec<Target> = refs.iter().map(|r| world.cert(org, *r)).collect();
    let ids: Vec<String> = targets.iter().map(|t| world.id(org, t, false)).collect();
    let body = json!({ "certificate_ids": ids });
    let reply = call(server, world, org, Method::POST, &path, Some(body)).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);

    let mut unique: Vec<(&String, &Target)> = Vec::new();
    for (id, target) in ids.iter().zip(&targets) {
        if !unique.iter().any(|(u, _)| *u == id) {
            unique.push((id, target));
        }
    }
    let set_error = |want| error(status, body, want, Some("certificate_ids"), None);
    // The project id's form, then the set's size and ids' forms, then the project, then the
    // certificates.
    if project == Err(true) {
        return error(status, body, 404, Some("project_id"), None);
    }
    if unique.is_empty() || unique.len() > 10 {
        return set_error(400);
    }
    if unique.iter().any(|(_, t)| {
        matches!(
            t,
            Target::Foreign {
                malformed: true,
                ..
            }
        )
    }) {
        return set_error(404);
    }
    let Ok(project) = project else {
        return error(status, body, 404, Some("project_id"), None);
    };
    let o = &mut world.orgs[org];
    if activate && project.is_some_and(|p| o.projects[p].archived_at.is_some()) {
        return error(status, body, 400, Some("project_id"), None);
    }
    let mut indexes = Vec::new();
    for (_, target) in &unique {
        match target {
            Target::Own(i) if o.certs[*i].live => indexes.push(*i),
            _ => return set_error(404),
        }
    }
    let (object, item) = match (project, activate) {
        (None, true) => (
            "organization.certificate.activation",
            "organization.certificate",
        ),
        (None, false) => (
            "organization.certificate.deactivation",
            "organization.certificate",
        ),
        (Some(_), true) => (
            "organization.project.certificate.activation",
            "organization.project.certificate",
        ),
        (Some(_), false) => (
            "organization.project.certificate.deactivation",
            "organization.project.certificate",
        ),
    };
    let data = body["data"].as_array().filter(|_| status == 200);
    let data = data.ok_or_else(|| format!("expected 200, got {status} {body}"))?;
    let keys = body.as_object().map_or(0, serde_json::Map::len);
    if body["object"] != object || body["has_more"] != false || keys != 3 {
        return Err(format!(
            "expected a {object} with has_more false, got {body}"
        ));
    }
    if data.len() != indexes.len() {
        return Err(format!("expected {} items, got {body}", indexes.len()));
    }
    for (i, v) in indexes.into_iter().zip(data) {
        let cert = &mut o.certs[i];
        match project {
            None => cert.org_active = activate,
            Some(p) if activate => {
                cert.projects.insert(p);
            }
            Some(p) => {
                cert.projects.remove(&p);
            }
        }
        world::certificate(v, cert, item, Some(activate), false)?;
    }
    Ok(())
}

async fn create_project(
    server: &TestServer,
    world: &mut World,
    org: usize,
    name: &str,
) -> Result<(), String> {
    let body = json!({ "name": name });
    let reply = call(
        server,
        world,
        org,
        Method::POST,
        "/organization/projects",
        Some(body),
    )
    .await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    if name_refused(name, false) {
        return error(status, body, 400, Some("name"), None);
    }
    let project = Project {
        id: body["id"].as_str().unwrap_or_default().to_owned(),
        name: name.to_owned(),
        archived_at: None,
    };
    if status != 200 || orgcerts_core::ids::ProjectId::parse(&project.id).is_none() {
        return Err(format!(
            "expected 200 with a project id, got {status} {body}"
        ));
    }
    check_project(body, &project)?;
    world.orgs[org].projects.push(project);
    Ok(())
}

pub fn check_project(v: &Value, project: &Project) -> Result<(), String> {
    let status = if project.archived_at.is_some() {
        "archived"
    } else {
        "active"
    };
    let archived_ok = match project.archived_at {
        None => v["archived_at"].is_null(),
        Some(0) => v["archived_at"].is_u64(),
        Some(at) => v["archived_at"] == at,
    };
    if v["object"] == "organization.project"
        && v["id"] == project.id.as_str()
        && v["name"] == project.name.as_str()
        && v["status"] == status
        && archived_ok
    {
        Ok(())
    } else {
        Err(format!("expected {project:?}, got {v}"))
    }
}

async fn archive_project(
    server: &TestServer,
    world: &mut World,
    org: usize,
    r: Ref,
) -> Result<(), String> {
    let target = world.project(org, r);
    let id = world.id(org, &target, true);
    let path = format!("/organization/projects/{id}/archive");
    let reply = call(server, world, org, Method::POST, &path, None).await;
    let (status, body) = (reply.status.as_u16(), &reply.body);
    let Target::Own(p) = target else {
        return error(status, body, 404, Some("project_id"), None);
    };
    let project = &mut world.orgs[org].projects[p];
    if status != 200 {
        return Err(format!("expected 200, got {status} {body}"));
    }
    // Archiving again keeps the first time; the first time is whatever the server took.
    let first = project.archived_at.is_none();
    project.archived_at = Some(project.archived_at.unwrap_or(0));
    check_project(body, project)?;
    if first {
        project.archived_at = body["archived_at"].as_u64();
    }
    Ok(())
}
