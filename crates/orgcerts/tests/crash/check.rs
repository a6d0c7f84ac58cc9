//! Reading the state back after a restart, and judging it against what the clients knew.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::storm::{Api, Cert, Certs, Op, Storm, apply};
use crate::{MAX_CERTIFICATES, PROJECTS};

/// The PEM of every certificate uploaded, by id.
pub type Pems = HashMap<String, String>;
/// The live certificates, as the server shows them.
pub type State = Certs;

/// Every item of a list, page by page with `after`, checking each page's shape.
async fn walk(api: &Api, path: &str, order: &str, limit: usize) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..=MAX_CERTIFICATES * 2 + 2 {
        let query = match &after {
            None => format!("?order={order}&limit={limit}"),
            Some(id) => format!("?order={order}&limit={limit}&after={id}"),
        };
        let (status, page) = api.call("GET", &format!("{path}{query}"), None).await?;
        let data = page["data"].as_array().filter(|_| status == 200);
        let data = data.ok_or_else(|| format!("GET {path}{query}: {status} {page}"))?;
        let has_more = page["has_more"].as_bool() == Some(true);
        if data.len() > limit
            || (has_more && data.len() != limit)
            || page["first_id"] != data.first().map_or(Value::Null, |c| c["id"].clone())
            || page["last_id"] != data.last().map_or(Value::Null, |c| c["id"].clone())
        {
            return Err(format!("GET {path}{query}: inconsistent page {page}"));
        }
        items.extend(data.iter().cloned());
        if !has_more {
            return Ok(items);
        }
        after = page["last_id"].as_str().map(str::to_owned);
    }
    Err(format!("{path}: more pages than certificates"))
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The live certificates with their activation at every level, read through the lists: the
/// organization list in both orders, and each project's list.
pub async fn observe(api: &Api, projects: &[String]) -> Result<State, String> {
    let path = "/organization/certificates";
    let desc = walk(api, path, "desc", 5).await?;
    let mut asc = ids(&walk(api, path, "asc", 4).await?);
    asc.reverse();
    if ids(&desc) != asc {
        return Err(format!(
            "the two orders disagree: desc {:?}, asc reversed {asc:?}",
            ids(&desc)
        ));
    }
    let mut state = State::new();
    for item in &desc {
        let cert = Cert {
            name: item["name"].as_str().map(str::to_owned),
            org_active: item["active"].as_bool().ok_or("no active flag")?,
            projects: BTreeSet::new(),
        };
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        if state.insert(id.clone(), cert).is_some() {
            return Err(format!("{id} is listed twice"));
        }
    }
    if state.len() > MAX_CERTIFICATES {
        return Err(format!(
            "{} live certificates, over the maximum of {MAX_CERTIFICATES}",
            state.len()
        ));
    }
    for (p, project) in projects.iter().enumerate().take(PROJECTS) {
        let path = format!("/organization/projects/{project}/certificates");
        let items = walk(api, &path, "desc", 7).await?;
        if ids(&items) != ids(&desc) {
            return Err(format!(
                "project {p} lists {:?}, the organization {:?}",
                ids(&items),
                ids(&desc)
            ));
        }
        for item in items {
            if item["active"] == true {
                let id = item["id"].as_str().unwrap_or_default();
                state.get_mut(id).expect("same ids").projects.insert(p);
            }
        }
    }
    Ok(state)
}

/// Judges the restarted server's state against the storm, then checks the duplicate index and
/// the per-organization count behind it. Returns the state the next round starts from, and
/// how many lost requests were found applied.
pub async fn after_restart(
    api: &Api,
    projects: &[String],
    storm: &Storm,
    pems: &mut Pems,
) -> Result<(State, usize), String> {
    let mut state = observe(api, projects).await?;
    let mut accounted = BTreeSet::new();
    let mut lost_applied = 0;
    let mut lost_uploads = Vec::new();
    for (c, run) in storm.clients.iter().enumerate() {
        for (id, pem) in &run.uploaded {
            pems.insert(id.clone(), pem.0.clone());
        }
        let mut mine: BTreeSet<&String> = run.certs.keys().collect();
        let mut applied = run.certs.clone();
        if let Some(op) = &run.lost {
            let mut uploaded = None;
            if let Op::Upload { name, pem } = op {
                // Names are never reused, so a certificate with this one is that upload.
                uploaded = state
                    .iter()
                    .find(|(_, cert)| cert.name.as_deref() == Some(name.as_str()))
                    .map(|(id, _)| id);
                match uploaded {
                    Some(id) => {
                        pems.insert(id.clone(), pem.0.clone());
                        mine.insert(id);
                    }
                    None => lost_uploads.push((name.clone(), pem.0.clone())),
                }
            }
            apply(&mut applied, op, uploaded.map(String::as_str));
        }
        let seen: Certs = state
            .iter()
            .filter(|(id, _)| mine.contains(id))
            .map(|(id, cert)| (id.clone(), cert.clone()))
            .collect();
        if seen != run.certs {
            if run.lost.is_some() && seen == applied {
                lost_applied += 1;
            } else {
                return Err(format!(
                    "client {c}'s certificates are neither as acknowledged nor with its lost request {:?} applied:\n{}",
                    run.lost,
                    diff(&seen, &run.certs, &applied)
                ));
            }
        }
        accounted.extend(mine.into_iter().cloned());
    }
    if let Some(stray) = state.keys().find(|id| !accounted.contains(*id)) {
        return Err(format!(
            "{stray} is live, but no client had it or uploaded it"
        ));
    }
    check_lookups(api, &state, storm, pems).await?;
    upload_lost_again(api, &mut state, lost_uploads, pems).await?;
    probe_limit(api, state.len()).await?;
    Ok((state, lost_applied))
}

/// Deleted certificates are gone, live ones answer with their name, and the fingerprint index
/// holds exactly the live ones.
async fn check_lookups(api: &Api, state: &State, storm: &Storm, pems: &Pems) -> Result<(), String> {
    for run in &storm.clients {
        for id in &run.deleted {
            let (status, body) = api
                .call("GET", &format!("/organization/certificates/{id}"), None)
                .await?;
            if status != 404 || body["error"]["param"] != "certificate_id" {
                return Err(format!("deleted {id} answers {status} {body}"));
            }
        }
    }
    for (id, cert) in state {
        let (status, body) = api
            .call("GET", &format!("/organization/certificates/{id}"), None)
            .await?;
        if status != 200 || body["name"].as_str() != cert.name.as_deref() {
            return Err(format!("listed {id} ({cert:?}) answers {status} {body}"));
        }
        let pem = pems.get(id).ok_or(format!("no PEM known for {id}"))?;
        let (status, body) = api
            .call(
                "POST",
                "/organization/certificates",
                Some(json!({ "certificate": pem })),
            )
            .await?;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if status != 409
            || body["error"]["code"] != "certificate_already_exists"
            || !message.contains(id.as_str())
        {
            return Err(format!("uploading {id} again answers {status} {body}"));
        }
    }
    Ok(())
}

/// A lost upload that did not survive left no duplicate behind either: uploading it again
/// succeeds (the new certificate joins the state) or meets the maximum.
async fn upload_lost_again(
    api: &Api,
    state: &mut State,
    lost_uploads: Vec<(String, String)>,
    pems: &mut Pems,
) -> Result<(), String> {
    for (name, pem) in lost_uploads {
        let upload = json!({ "certificate": pem, "name": name });
        let (status, body) = api
            .call("POST", "/organization/certificates", Some(upload))
            .await?;
        match (status, body["error"]["code"].as_str()) {
            (200, _) => {
                let id = body["id"].as_str().ok_or("no id")?.to_owned();
                pems.insert(id.clone(), pem);
                state.insert(
                    id,
                    Cert {
                        name: Some(name),
                        org_active: false,
                        projects: BTreeSet::new(),
                    },
                );
            }
            (400, Some("certificate_limit_exceeded")) => {}
            _ => {
                return Err(format!(
                    "uploading lost {name} again answers {status} {body}"
                ));
            }
        }
    }
    Ok(())
}

/// One line per certificate whose state is not the same everywhere.
fn diff(seen: &Certs, acknowledged: &Certs, applied: &Certs) -> String {
    let ids: BTreeSet<&String> = seen
        .keys()
        .chain(acknowledged.keys())
        .chain(applied.keys())
        .collect();
    let mut lines = Vec::new();
    for id in ids {
        let states = [seen.get(id), acknowledged.get(id), applied.get(id)];
        if states[0] != states[1] || states[0] != states[2] {
            let [s, k, a] = states;
            lines.push(format!(
                "  {id}: found {s:?}\n    acknowledged {k:?}\n    lost applied {a:?}"
            ));
        }
    }
    lines.join("\n")
}

/// The stored count behind the maximum matches the live certificates: exactly
/// `MAX_CERTIFICATES - live` more uploads are accepted. The probes are deleted again.
async fn probe_limit(api: &Api, live: usize) -> Result<(), String> {
    let mut probes = Vec::new();
    for i in 0..=MAX_CERTIFICATES - live {
        let name = format!("probe {i}");
        let upload = json!({ "certificate": orgcerts_testkit::ca_pem(&name), "name": name });
        let (status, body) = api
            .call("POST", "/organization/certificates", Some(upload))
            .await?;
        let accepted = live + i < MAX_CERTIFICATES;
        match (status, body["error"]["code"].as_str()) {
            (200, _) if accepted => probes.push(body["id"].as_str().unwrap_or("").to_owned()),
            (400, Some("certificate_limit_exceeded")) if !accepted => {}
            _ => {
                return Err(format!(
                    "with {live} live certificates, upload {} of {} answers {status} {body}",
                    i + 1,
                    MAX_CERTIFICATES - live + 1
                ));
            }
        }
    }
    for id in probes {
        let (status, body) = api
            .call("DELETE", &format!("/organization/certificates/{id}"), None)
            .await?;
        if status != 200 {
            return Err(format!("deleting probe {id} answers {status} {body}"));
        }
    }
    Ok(())
}
