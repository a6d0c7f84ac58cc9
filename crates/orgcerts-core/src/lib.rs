//! The domain of orgcerts, free of HTTP and SQL.
//!
//! - [`audit`]: the audit log entries every change records;
//! - [`ids`]: the newtype ids (`cert_…`, `proj_…`, `org-…`, `key_…`) and their generation;
//! - [`anchor`]: validation of uploaded PEM trust anchors (docs/contract.md, "Certificates");
//! - [`attribute_filter`]: the CEL attribute filters of anchors, compiled and evaluated;
//! - [`page`]: the list parameters shared by every list (`limit`, `order`, `after`);
//! - [`keys`]: admin key generation and hashing;
//! - [`store`]: the [`Store`] trait every storage engine implements;
//! - [`service`]: the operations of the API, enforcing the contract's rules.

pub mod anchor;
pub mod attribute_filter;
pub mod audit;
pub mod cache;
mod error;
pub mod ids;
pub mod keys;
pub mod model;
pub mod page;
pub mod service;
pub mod store;

pub use error::{Error, Result, StorageError, echo};
pub use service::{Service, Settings};
pub use store::Store;

/// The current time in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
