//! Request handlers, one per operation of the spec, named after its operationId.

pub mod admin_api_keys;
pub mod audit_logs;
pub mod certificates;
pub mod project_api_keys;
pub mod projects;
pub mod service_accounts;

use orgcerts_core::page::{Order, PageRequest};

use crate::error::ApiError;
use crate::extract::QueryParams;

/// `limit`, `after` and (where the list has one) `order`, validated by the domain's rules.
#[doc(hidden)]
pub fn page_request(query: &QueryParams, with_order: bool) -> Result<PageRequest, ApiError> {
    let order = if with_order {
        query.single("order")?
    } else {
        None
    };
    let default_order = if with_order { Order::Desc } else { Order::Asc };
    Ok(PageRequest::parse(
        query.single("limit")?,
        query.single("after")?,
        order,
        default_order,
    )?)
}
