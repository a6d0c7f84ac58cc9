//! Every request body type of `orgcerts-api`, read by the server's own reader
//! (`orgcerts_server::fuzzing::read_json`, what the `JsonBody` extractor runs on a request's
//! bytes). The first byte picks the type.
//!
//! Nothing may panic; a refused body is a 400; an accepted body is a JSON object (or blank, read
//! as `{}`) and serializes back to JSON that reads as the same value; ids and names go through
//! the domain's own checks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orgcerts_api::{
    ModifyCertificateRequest, ProjectCreateRequest, ProjectUpdateRequest,
    ToggleCertificatesRequest, UploadCertificateRequest,
};
use orgcerts_core::ids::{CertificateId, ProjectId};
use orgcerts_server::fuzzing;
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => {
            if let Some(upload) = read::<UploadCertificateRequest>(body) {
                name(upload.name.as_deref());
                name(upload.attribute_filter.as_deref());
                let _ = orgcerts_core::echo(&upload.certificate);
            }
        }
        1 => {
            if let Some(modify) = read::<ModifyCertificateRequest>(body) {
                name(modify.name.as_deref());
                name(modify.attribute_filter.flatten().as_deref());
            }
        }
        2 => {
            if let Some(toggle) = read::<ToggleCertificatesRequest>(body) {
                for id in &toggle.certificate_ids {
                    if let Some(parsed) = CertificateId::parse(id) {
                        assert_eq!(parsed.as_str(), id);
                    }
                    let _ = orgcerts_core::echo(id);
                }
            }
        }
        3 => {
            if let Some(create) = read::<ProjectCreateRequest>(body) {
                name(Some(&create.name));
                let _ = ProjectId::parse(&create.name);
            }
        }
        _ => {
            if let Some(update) = read::<ProjectUpdateRequest>(body) {
                name(update.name.as_deref());
            }
        }
    }
});

/// Through the server's reader, with what any answer must hold.
fn read<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> Option<T> {
    let value: T = match fuzzing::read_json(bytes) {
        Ok(value) => value,
        Err(err) => {
            assert_eq!(fuzzing::status_of(err), 400, "a refused body is a 400");
            return None;
        }
    };
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let parsed: serde_json::Value =
            serde_json::from_slice(bytes).expect("an accepted body is JSON");
        assert!(
            parsed.is_object(),
            "an accepted body is an object: {parsed}"
        );
    }
    let json = serde_json::to_vec(&value).expect("an accepted body serializes");
    let again: T = serde_json::from_slice(&json).expect("and reads back");
    assert_eq!(again, value);
    Some(value)
}

/// The domain's echo of a client value: at most 64 characters and an ellipsis.
fn name(name: Option<&str>) {
    if let Some(name) = name {
        let echoed = orgcerts_core::echo(name);
        assert!(echoed.chars().count() <= 65);
        assert!(!echoed.chars().any(char::is_control));
    }
}
