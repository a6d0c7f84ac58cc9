//! The in-memory model of docs/contract.md: what two organizations hold, and what every answer must
//! look like.

use std::collections::BTreeSet;

use orgcerts_core::ids::{CertificateId, ProjectId};
use orgcerts_testkit::{CertSpec, time};
use serde_json::Value;

use super::ops::{Invalid, Ref};

/// The per-organization maximum the server runs with, small enough to be reached.
pub const MAX_CERTIFICATES: usize = 5;
/// The longest name, in characters.
const MAX_NAME: usize = 256;

/// Certificates minted once for the whole test.
pub struct Pool {
    /// Valid CA anchors: (PEM, DER).
    pub valid: Vec<(String, Vec<u8>)>,
    pub leaf: String,
    pub with_key: String,
    pub expiring: String,
}

impl Pool {
    pub fn mint(size: usize) -> Self {
        let valid = (0..size)
            .map(|i| {
                let minted = CertSpec::ca(&format!("model {i}")).mint();
                (minted.cert_pem, minted.cert_der)
            })
            .collect();
        let ca = CertSpec::ca("model with key").mint();
        let now = time::OffsetDateTime::now_utc();
        Self {
            valid,
            leaf: CertSpec::leaf("model leaf").mint().cert_pem,
            with_key: format!("{}{}", ca.cert_pem, ca.key_pem),
            expiring: CertSpec::ca("model expiring")
                .valid(
                    now - time::Duration::days(1),
                    now + time::Duration::hours(2),
                )
                .mint()
                .cert_pem,
        }
    }

    /// The PEM of a refused upload, and the `code` it is refused with.
    pub fn invalid(&self, kind: Invalid) -> (String, &'static str) {
        const INVALID: &str = "mtls_certificate_invalid";
        match kind {
            Invalid::Garbage => (
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
                    .to_owned(),
                INVALID,
            ),
            Invalid::NotPem => ("hello".to_owned(), INVALID),
            Invalid::Leaf => (self.leaf.clone(), INVALID),
            Invalid::WithPrivateKey => (self.with_key.clone(), INVALID),
            Invalid::Expiring => (self.expiring.clone(), "expired_certificate"),
            Invalid::TooLarge => (
                format!("{}{}", self.valid[0].0, "\n".repeat(17 * 1024)),
                INVALID,
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cert {
    pub id: String,
    /// Index into [`Pool::valid`]: the same index is the same certificate.
    pub pem: usize,
    pub name: Option<String>,
    pub created_at: u64,
    pub valid_at: u64,
    pub expires_at: u64,
    pub live: bool,
    pub org_active: bool,
    /// Indexes of this organization's projects it is active in.
    pub projects: BTreeSet<usize>,
}

impl Cert {
    pub fn in_use(&self) -> bool {
        self.org_active || !self.projects.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub archived_at: Option<u64>,
}

#[derive(Debug)]
pub struct Org {
    pub key: String,
    /// Every certificate it ever had, in creation order.
    pub certs: Vec<Cert>,
    /// Every project, in creation order.
    pub projects: Vec<Project>,
}

impl Org {
    pub fn live(&self) -> impl Iterator<Item = &Cert> {
        self.certs.iter().filter(|c| c.live)
    }
}

/// What a reference names, seen from the acting organization.
#[derive(Debug, Clone)]
pub enum Target {
    /// Its own, at this index.
    Own(usize),
    /// An id it must not see: unknown, malformed or another organization's.
    Foreign { id: String, malformed: bool },
}

pub struct World {
    pub orgs: [Org; 2],
    /// Next unused index into the pool.
    pub next_fresh: usize,
}

impl World {
    fn resolve(
        ids: &[&str],
        live: &[usize],
        other: &[&str],
        r: Ref,
        prefix: &str,
    ) -> (Option<usize>, String) {
        let unknown = || {
            if prefix == "cert_" {
                CertificateId::generate().into_string()
            } else {
                ProjectId::generate().into_string()
            }
        };
        match r {
            Ref::Live(i) if !live.is_empty() => {
                let own = live[i % live.len()];
                (Some(own), ids[own].to_owned())
            }
            Ref::Live(i) | Ref::Own(i) if !ids.is_empty() => {
                (Some(i % ids.len()), ids[i % ids.len()].to_owned())
            }
            Ref::Other(i) if !other.is_empty() => (None, other[i % other.len()].to_owned()),
            Ref::Malformed => (None, format!("{prefix}notAnId")),
            _ => (None, unknown()),
        }
    }

    fn target(found: (Option<usize>, String)) -> Target {
        match found {
            (Some(i), _) => Target::Own(i),
            (None, id) => Target::Foreign {
                malformed: id.ends_with("notAnId"),
                id,
            },
        }
    }

    pub fn cert(&self, org: usize, r: Ref) -> Target {
        fn ids(o: &Org) -> Vec<&str> {
            o.certs.iter().map(|c| c.id.as_str()).collect()
        }
        let o = &self.orgs[org];
        let live: Vec<usize> = (0..o.certs.len()).filter(|&i| o.certs[i].live).collect();
        Self::target(Self::resolve(
            &ids(o),
            &live,
            &ids(&self.orgs[1 - org]),
            r,
            "cert_",
        ))
    }

    pub fn project(&self, org: usize, r: Ref) -> Target {
        fn ids(o: &Org) -> Vec<&str> {
            o.projects.iter().map(|p| p.id.as_str()).collect()
        }
        let all: Vec<usize> = (0..self.orgs[org].projects.len()).collect();
        Self::target(Self::resolve(
            &ids(&self.orgs[org]),
            &all,
            &ids(&self.orgs[1 - org]),
            r,
            "proj_",
        ))
    }

    pub fn id(&self, org: usize, target: &Target, project: bool) -> String {
        match target {
            Target::Own(i) if project => self.orgs[org].projects[*i].id.clone(),
            Target::Own(i) => self.orgs[org].certs[*i].id.clone(),
            Target::Foreign { id, .. } => id.clone(),
        }
    }
}

/// Why a name is refused, if it is: over 256 characters, control characters, and for projects
/// an empty or blank name.
pub fn name_refused(name: &str, allow_empty: bool) -> bool {
    name.chars().count() > MAX_NAME
        || name.chars().any(char::is_control)
        || (!allow_empty && name.trim().is_empty())
}

/// Checks an error envelope: status, all four keys, `param` and `code`.
pub fn error(
    status: u16,
    body: &Value,
    want: u16,
    param: Option<&str>,
    code: Option<&str>,
) -> Result<(), String> {
    let e = &body["error"];
    let keys = e.as_object().map_or(0, serde_json::Map::len);
    if status != want
        || keys != 4
        || e["param"].as_str() != param
        || e["code"].as_str() != code
        || e["type"] != "invalid_request_error"
        || e["message"].as_str().is_none_or(str::is_empty)
    {
        return Err(format!(
            "expected {want} param {param:?} code {code:?}, got {status} {body}"
        ));
    }
    Ok(())
}

/// Checks a certificate object against the model: exactly the contract's keys, the model's
/// values; `active` only in list and activation items, `content` only when asked for.
pub fn certificate(
    v: &Value,
    cert: &Cert,
    object: &str,
    active: Option<bool>,
    with_content: bool,
) -> Result<(), String> {
    let mut keys = vec!["certificate_details", "created_at", "id", "name", "object"];
    if active.is_some() {
        keys.push("active");
    }
    keys.sort_unstable();
    let got: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let details = &v["certificate_details"];
    let detail_keys = details.as_object().map_or(0, serde_json::Map::len);
    let ok = got == keys
        && detail_keys == 2 + usize::from(with_content)
        && (!with_content || details["content"].is_string())
        && v["object"] == object
        && v["id"] == cert.id.as_str()
        && v["name"].as_str() == cert.name.as_deref()
        && (cert.name.is_some() || v["name"].is_null())
        && v["created_at"] == cert.created_at
        && details["valid_at"] == cert.valid_at
        && details["expires_at"] == cert.expires_at
        && active.is_none_or(|a| v["active"] == a);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {object} {cert:?} with active {active:?}, got {v}"
        ))
    }
}

/// `content` is the anchor as canonical PEM: one CERTIFICATE block with the uploaded DER,
/// 64-column lines, LF line endings, a trailing newline.
pub fn canonical_content(content: &Value, der: &[u8]) -> Result<(), String> {
    let text = content.as_str().ok_or("no content")?;
    let block = pem::parse(text).map_err(|e| format!("content is not PEM: {e}"))?;
    let ok = block.tag() == "CERTIFICATE"
        && block.contents() == der
        && text.ends_with("-----END CERTIFICATE-----\n")
        && !text.contains('\r')
        && text.lines().all(|l| l.len() <= 64)
        && pem::parse_many(text).map_or(0, |b| b.len()) == 1;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "content is not the canonical PEM of the anchor: {text:?}"
        ))
    }
}
