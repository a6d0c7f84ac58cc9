//! JSON response bodies.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::request::CurrentRequestId;

/// The room a response body is encoded into at first: a 20-item certificate page (about
/// 4.3 KB) fits, so the common list is encoded without the buffer growing and being copied
/// (`axum::Json` starts at 128 bytes and doubles six times for it).
const INITIAL_CAPACITY: usize = 8 * 1024;

/// A `200 OK` with `T` as its JSON body.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => ok(body),
            Err(err) => {
                tracing::error!(
                    request_id = %CurrentRequestId,
                    error = %err,
                    "cannot encode the response body"
                );
                ApiError::Unencodable.into_response()
            }
        }
    }
}

fn ok(body: Vec<u8>) -> Response {
    // Built directly: the `(headers, body)` tuple goes through axum's generic parts machinery.
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A `200 OK` list (`ListResponse`) of items already encoded as JSON: the bytes
/// `Json(ListResponse { .. })` writes for the same items and ids.
pub fn encoded_list<'a>(
    items: impl Iterator<Item = &'a str>,
    first_id: Option<&str>,
    last_id: Option<&str>,
    has_more: bool,
) -> Response {
    let mut body = Vec::with_capacity(INITIAL_CAPACITY);
    write_encoded_list(&mut body, items, first_id, last_id, has_more);
    ok(body)
}

fn write_encoded_list<'a>(
    body: &mut Vec<u8>,
    items: impl Iterator<Item = &'a str>,
    first_id: Option<&str>,
    last_id: Option<&str>,
    has_more: bool,
) {
    body.extend_from_slice(br#"{"object":"list","data":["#);
    for (i, item) in items.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_bytes());
    }
    body.extend_from_slice(br#"],"first_id":"#);
    write_optional_str(body, first_id);
    body.extend_from_slice(br#","last_id":"#);
    write_optional_str(body, last_id);
    body.extend_from_slice(if has_more {
        br#","has_more":true}"#
    } else {
        br#","has_more":false}"#
    });
}

fn write_optional_str(body: &mut Vec<u8>, s: Option<&str>) {
    match s {
        // Writing a string into a `Vec` cannot fail.
        Some(s) => drop(serde_json::to_writer(&mut *body, s)),
        None => body.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use orgcerts_api::{ListObject, ListResponse};
    use serde_json::{Value, json};

    use super::write_encoded_list;

    #[test]
    fn an_encoded_list_is_what_serde_writes_for_the_same_page() {
        let items = [
            json!({"id": "cert_a", "name": "é \"quoted\"", "active": true}),
            json!({"id": "cert_b", "name": null, "n": [1, 2]}),
        ];
        for (data, first_id, last_id, has_more) in [
            (&items[..], Some("cert_a"), Some("cert_b"), true),
            (&items[..1], Some("cert_\"x"), Some("cert_a"), false),
            (&items[..0], None, None, false),
        ] {
            let expected = serde_json::to_vec(&ListResponse::<Value> {
                object: ListObject::List,
                data: data.to_vec(),
                first_id: first_id.map(str::to_owned),
                last_id: last_id.map(str::to_owned),
                has_more,
            })
            .unwrap();
            let encoded: Vec<String> = data.iter().map(Value::to_string).collect();
            let mut body = Vec::new();
            write_encoded_list(
                &mut body,
                encoded.iter().map(String::as_str),
                first_id,
                last_id,
                has_more,
            );
            assert_eq!(
                String::from_utf8(body).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
