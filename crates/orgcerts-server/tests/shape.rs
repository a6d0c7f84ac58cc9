//! The shape check itself (`common::shape`): it must find the operation a request addressed and
//! refuse what the spec does not allow, or it would pass every other test vacuously.

mod common;

use common::shape::{check, operation_count, operation_id};
use serde_json::json;

#[test]
fn requests_are_matched_to_the_operations_of_the_extracts() {
    assert_eq!(
        operation_count(),
        29,
        "ten certificate, five project, four admin key, one audit log, six service account and three project API key operations"
    );
    assert_eq!(
        operation_id("POST", "/v1/organization/certificates/activate"),
        Some("activateOrganizationCertificates")
    );
    assert_eq!(
        operation_id("POST", "/v1//organization/certificates/cert_x"),
        Some("modifyCertificate")
    );
    assert_eq!(
        operation_id("GET", "/v1/organization/projects/proj_x/certificates"),
        Some("listProjectCertificates")
    );
    assert_eq!(operation_id("GET", "/v1/organization/certificates/"), None);
    assert_eq!(operation_id("PUT", "/v1/organization/certificates"), None);
}

fn refused(method: &str, path: &str, status: u16, body: &serde_json::Value) -> bool {
    std::panic::catch_unwind(|| check(method, path, status, body)).is_err()
}

#[test]
fn missing_required_fields_undocumented_fields_and_bad_errors_are_refused() {
    let path = "/v1/organization/certificates/cert_x";
    let valid = json!({
        "object": "certificate", "id": "cert_x", "name": null, "created_at": 1,
        "certificate_details": {"valid_at": 0, "expires_at": 2}
    });
    check("GET", path, 200, &valid);
    for field in ["name", "certificate_details", "object"] {
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove(field);
        assert!(refused("GET", path, 200, &missing), "{field} is required");
    }
    let mut extra = valid.clone();
    extra["certificate_details"]["sha256"] = json!("ab");
    assert!(refused("GET", path, 200, &extra), "undocumented fields");
    // A 2xx for a path the spec does not have is a defect too.
    assert!(refused("GET", "/v1/organization/other", 200, &valid));

    let error = json!({"error": {"message": "m", "type": "t", "param": null, "code": null}});
    check("GET", path, 404, &error);
    let mut no_code = error.clone();
    no_code["error"].as_object_mut().unwrap().remove("code");
    assert!(refused("GET", path, 404, &no_code), "an error without code");
    let mut numeric = error.clone();
    numeric["error"]["code"] = json!(404);
    assert!(refused("GET", path, 404, &numeric), "a numeric code");
}

#[test]
fn activation_responses_may_carry_has_more_false_only() {
    let path = "/v1/organization/certificates/activate";
    let page = json!({"object": "organization.certificate.activation", "data": []});
    check("POST", path, 200, &page);
    let mut legacy = page.clone();
    legacy["has_more"] = json!(false);
    check("POST", path, 200, &legacy);
    legacy["has_more"] = json!(true);
    assert!(refused("POST", path, 200, &legacy));
}
