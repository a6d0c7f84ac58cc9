use std::ops::Deref;

/// A decoded answer with what came with it: the `x-request-id` (as the official SDKs'
/// `_request_id`) and the body exactly as the API sent it.
///
/// Dereferences to the decoded value, so `response.id` reads the object's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<T> {
    value: T,
    request_id: Option<String>,
    body: String,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, request_id: Option<String>, body: String) -> Self {
        Self {
            value,
            request_id,
            body,
        }
    }

    /// The decoded value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The response's `x-request-id`: quote it when asking support about a call.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The body exactly as the API sent it.
    pub fn raw_body(&self) -> &str {
        &self.body
    }

    /// Splits into value, request id and raw body.
    pub(crate) fn into_parts(self) -> (T, Option<String>, String) {
        (self.value, self.request_id, self.body)
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
