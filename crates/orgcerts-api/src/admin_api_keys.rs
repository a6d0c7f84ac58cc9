//! Wire types of `spec/openai-admin-api-keys.openapi.yaml`.

use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ListResponse;
use crate::certificates::object_tag;

object_tag!(
    /// `organization.admin_api_key`
    AdminApiKeyObject = "organization.admin_api_key"
);
object_tag!(
    /// `organization.admin_api_key.deleted`
    AdminApiKeyDeletedObject = "organization.admin_api_key.deleted"
);

/// The `owner` of an `AdminApiKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyOwner {
    #[serde(rename = "type")]
    pub kind: String,
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub role: String,
}

/// The `AdminApiKey` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKey {
    pub object: AdminApiKeyObject,
    pub id: String,
    pub name: Option<String>,
    pub redacted_value: String,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub last_used_at: Option<u64>,
    pub owner: AdminApiKeyOwner,
}

/// The `AdminApiKeyCreateResponse` schema: the key and, this once, its `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyCreateResponse {
    #[serde(flatten)]
    pub key: AdminApiKey,
    pub value: String,
}

/// The body of `admin-api-keys-create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyCreateRequest {
    pub name: String,
    #[serde(
        default,
        deserialize_with = "integer_if_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in_seconds: Option<i64>,
}

/// `expires_in_seconds`, which the spec types as an integer: it may be left out (a key that does
/// not expire), but `null` is a value of the wrong type (docs/contract.md: a 400), as for the
/// certificate names. An integer is also a number without a fractional part, such as
/// `2592000.0` (JSON Schema's `integer`, what a client computing in floats sends); the
/// service checks the range and names it.
fn integer_if_present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    // Beyond 2^53 a float no longer tells integers apart; far past the range anyway.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(Some(n));
    }
    if let Some(n) = number.as_u64() {
        return Err(D::Error::invalid_value(
            Unexpected::Unsigned(n),
            &"an integer (seconds)",
        ));
    }
    match number.as_f64() {
        #[allow(clippy::cast_possible_truncation)] // integral and within ±2^53: exact
        Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(Some(f as i64)),
        Some(f) => Err(D::Error::invalid_value(
            Unexpected::Float(f),
            &"an integer (seconds)",
        )),
        None => Err(D::Error::custom("expected an integer (seconds)")),
    }
}

/// The response of `admin-api-keys-delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApiKeyDeleteResponse {
    pub id: String,
    pub object: AdminApiKeyDeletedObject,
    pub deleted: bool,
}

/// The `ApiKeyList` schema.
pub type ApiKeyList = ListResponse<AdminApiKey>;
