use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use orgcerts_api::{
    Certificate, CertificateDetails, CertificateObject, DeleteCertificateResponse,
    DeleteCertificateResponseObject, ModifyCertificateRequest, OrganizationCertificate,
    OrganizationCertificateObject, OrganizationProjectCertificate,
    OrganizationProjectCertificateObject, ToggleCertificatesRequest, ToggleCertificatesResponse,
    ToggleObject, UploadCertificateRequest,
};

use crate::state::{CertificateRecord, Data, now};
use crate::{AppState, bad_request, error, json_body, list, lock, not_found};

const MAX_NAME_CHARS: usize = 256;
const MAX_PEM_BYTES: usize = 16 * 1024;
const DAY: u64 = 24 * 60 * 60;

fn details(record: &CertificateRecord, content: bool) -> CertificateDetails {
    CertificateDetails {
        valid_at: record.valid_at,
        expires_at: record.expires_at,
        content: content.then(|| record.pem.clone()),
    }
}

fn as_certificate(record: &CertificateRecord, content: bool) -> Certificate {
    Certificate {
        object: CertificateObject::Certificate,
        id: record.id.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        certificate_details: details(record, content),
    }
}

fn as_organization(record: &CertificateRecord) -> OrganizationCertificate {
    OrganizationCertificate {
        object: OrganizationCertificateObject::Value,
        id: record.id.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        certificate_details: details(record, false),
        active: record.active,
    }
}

fn as_project(record: &CertificateRecord, project_id: &str) -> OrganizationProjectCertificate {
    OrganizationProjectCertificate {
        object: OrganizationProjectCertificateObject::Value,
        id: record.id.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        certificate_details: details(record, false),
        active: record.active_projects.contains(project_id),
    }
}

fn check_name(name: Option<&str>) -> Result<(), Response> {
    match name {
        Some(name) if name.chars().count() > MAX_NAME_CHARS => Err(bad_request(
            "The name is longer than 256 characters.",
            Some("name"),
            None,
        )),
        _ => Ok(()),
    }
}

/// What the fake reads from an upload: the first CERTIFICATE block, parsed.
struct Anchor {
    der: Vec<u8>,
    pem: String,
    valid_at: u64,
    expires_at: u64,
}

fn parse_anchor(text: &str) -> Result<Anchor, Response> {
    let invalid = |why: &str| {
        bad_request(
            &format!("Invalid certificate: {why}."),
            Some("certificate"),
            Some("mtls_certificate_invalid"),
        )
    };
    if text.len() > MAX_PEM_BYTES {
        return Err(invalid("larger than 16 KiB"));
    }
    let blocks = pem::parse_many(text).map_err(|_| invalid("not PEM"))?;
    if blocks
        .iter()
        .any(|block| block.tag().contains("PRIVATE KEY"))
    {
        return Err(invalid("it contains a private key"));
    }
    let first = blocks
        .iter()
        .find(|block| block.tag() == "CERTIFICATE")
        .ok_or_else(|| invalid("no CERTIFICATE block"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(first.contents())
        .map_err(|_| invalid("not an X.509 certificate"))?;
    if !cert.is_ca() {
        return Err(invalid("not a CA certificate"));
    }
    let seconds = |time: i64| u64::try_from(time).unwrap_or(0);
    let valid_at = seconds(cert.validity().not_before.timestamp());
    let expires_at = seconds(cert.validity().not_after.timestamp());
    if expires_at <= now() + DAY {
        return Err(bad_request(
            "The certificate has expired or expires within 24 hours.",
            Some("certificate"),
            Some("expired_certificate"),
        ));
    }
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    Ok(Anchor {
        der: first.contents().to_vec(),
        pem: pem::encode_config(first, config),
        valid_at,
        expires_at,
    })
}

pub(crate) async fn upload(State(shared): State<AppState>, body: Bytes) -> Response {
    let fields: serde_json::Value = match json_body(&body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    if fields.get("certificate").is_some() && fields.get("content").is_some() {
        return bad_request(
            "Send either 'certificate' or 'content', not both.",
            Some("certificate"),
            None,
        );
    }
    let request: UploadCertificateRequest = match json_body(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if let Err(response) = check_name(request.name.as_deref()) {
        return response;
    }
    let anchor = match parse_anchor(&request.certificate) {
        Ok(anchor) => anchor,
        Err(response) => return response,
    };
    let mut data = lock(&shared.data);
    let held = data.certificates.iter().filter(|record| !record.deleted);
    if let Some(existing) = held.clone().find(|record| record.der == anchor.der) {
        let message = format!("This certificate is already uploaded as {}.", existing.id);
        return error(
            StatusCode::CONFLICT,
            &message,
            Some("certificate"),
            Some("certificate_already_exists"),
        );
    }
    if held.count() >= data.certificate_limit {
        return bad_request(
            "The organization holds the maximum number of certificates.",
            None,
            Some("certificate_limit_exceeded"),
        );
    }
    let record = CertificateRecord {
        id: data.new_id("cert_"),
        name: request.name,
        created_at: now(),
        valid_at: anchor.valid_at,
        expires_at: anchor.expires_at,
        pem: anchor.pem,
        der: anchor.der,
        active: false,
        active_projects: std::collections::BTreeSet::new(),
        deleted: false,
    };
    let body = as_certificate(&record, false);
    data.certificates.push(record);
    Json(body).into_response()
}

pub(crate) async fn list(State(shared): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let query = match list::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let data = lock(&shared.data);
    let page = list::paginate(
        &data.certificates,
        &query,
        |record| &record.id,
        |record| !record.deleted,
        as_organization,
        |item| &item.id,
    );
    page.map_or_else(|response| response, |page| Json(page).into_response())
}

pub(crate) async fn list_project(
    State(shared): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = match list::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let mut data = lock(&shared.data);
    if data.project(&project_id).is_none() {
        return not_found("project", &project_id, "project_id");
    }
    let page = list::paginate(
        &data.certificates,
        &query,
        |record| &record.id,
        |record| !record.deleted,
        |record| as_project(record, &project_id),
        |item| &item.id,
    );
    page.map_or_else(|response| response, |page| Json(page).into_response())
}

pub(crate) async fn retrieve(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = match list::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(response) => return response,
    };
    match lock(&shared.data).certificate(&id) {
        Some(record) => Json(as_certificate(record, query.include_content)).into_response(),
        None => not_found("certificate", &id, "certificate_id"),
    }
}

pub(crate) async fn modify(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    // An empty body is accepted, as the Node SDK sends one (contract.md).
    let request: ModifyCertificateRequest = if body.is_empty() {
        ModifyCertificateRequest::default()
    } else {
        match json_body(&body) {
            Ok(request) => request,
            Err(response) => return response,
        }
    };
    if let Err(response) = check_name(request.name.as_deref()) {
        return response;
    }
    let mut data = lock(&shared.data);
    let Some(record) = data.certificate(&id) else {
        return not_found("certificate", &id, "certificate_id");
    };
    if request.name.is_some() {
        record.name = request.name;
    }
    Json(as_certificate(record, false)).into_response()
}

pub(crate) async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> Response {
    let mut data = lock(&shared.data);
    let Some(record) = data.certificate(&id) else {
        return not_found("certificate", &id, "certificate_id");
    };
    if record.active || !record.active_projects.is_empty() {
        let message =
            format!("Certificate {id} is active; deactivate it everywhere before deleting it.");
        return error(
            StatusCode::CONFLICT,
            &message,
            Some("certificate_id"),
            Some("certificate_in_use"),
        );
    }
    record.deleted = true;
    Json(DeleteCertificateResponse {
        object: DeleteCertificateResponseObject::Value,
        id,
    })
    .into_response()
}

/// The requested ids, once each in request order, all known, or the error to answer.
fn toggled_ids(data: &mut Data, body: &[u8]) -> Result<Vec<String>, Response> {
    let request: ToggleCertificatesRequest = json_body(body)?;
    let mut ids: Vec<String> = Vec::new();
    for id in request.certificate_ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > 10 {
        return Err(bad_request(
            "Send from 1 to 10 certificate ids.",
            Some("certificate_ids"),
            None,
        ));
    }
    if let Some(unknown) = ids.iter().find(|id| data.certificate(id).is_none()) {
        return Err(not_found("certificate", unknown, "certificate_ids"));
    }
    Ok(ids)
}

fn toggle_organization(shared: &AppState, body: &[u8], activate: bool) -> Response {
    let mut data = lock(&shared.data);
    let ids = match toggled_ids(&mut data, body) {
        Ok(ids) => ids,
        Err(response) => return response,
    };
    let mut items = Vec::new();
    for id in &ids {
        if let Some(record) = data.certificate(id) {
            record.active = activate;
            items.push(as_organization(record));
        }
    }
    let object = if activate {
        ToggleObject::OrganizationActivation
    } else {
        ToggleObject::OrganizationDeactivation
    };
    Json(ToggleCertificatesResponse {
        object,
        data: items,
        has_more: false,
    })
    .into_response()
}

fn toggle_project(shared: &AppState, project_id: &str, body: &[u8], activate: bool) -> Response {
    let mut data = lock(&shared.data);
    let Some(project) = data.project(project_id) else {
        return not_found("project", project_id, "project_id");
    };
    if activate && project.archived_at.is_some() {
        return bad_request("The project is archived.", Some("project_id"), None);
    }
    let ids = match toggled_ids(&mut data, body) {
        Ok(ids) => ids,
        Err(response) => return response,
    };
    let mut items = Vec::new();
    for id in &ids {
        if let Some(record) = data.certificate(id) {
            if activate {
                record.active_projects.insert(project_id.to_owned());
            } else {
                record.active_projects.remove(project_id);
            }
            items.push(as_project(record, project_id));
        }
    }
    let object = if activate {
        ToggleObject::ProjectActivation
    } else {
        ToggleObject::ProjectDeactivation
    };
    Json(ToggleCertificatesResponse {
        object,
        data: items,
        has_more: false,
    })
    .into_response()
}

pub(crate) async fn activate(State(shared): State<AppState>, body: Bytes) -> Response {
    toggle_organization(&shared, &body, true)
}

pub(crate) async fn deactivate(State(shared): State<AppState>, body: Bytes) -> Response {
    toggle_organization(&shared, &body, false)
}

pub(crate) async fn activate_project(
    State(shared): State<AppState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Response {
    toggle_project(&shared, &project_id, &body, true)
}

pub(crate) async fn deactivate_project(
    State(shared): State<AppState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Response {
    toggle_project(&shared, &project_id, &body, false)
}
