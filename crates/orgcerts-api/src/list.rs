use serde::{Deserialize, Serialize};

/// The `object` of every cursor-paginated list: always `"list"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ListObject {
    #[default]
    #[serde(rename = "list")]
    List,
}

/// A cursor page, the shape shared by `ListCertificatesResponse`, `ListProjectCertificatesResponse`
/// and `ProjectListResponse`.
///
/// `first_id` / `last_id` are the ids of the first and last item of `data` (`null` when `data` is
/// empty); `has_more` is true exactly when another item follows `last_id` in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub object: ListObject,
    pub data: Vec<T>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
}

impl<T> ListResponse<T> {
    /// Builds a page from its items; `id` reads an item's id for `first_id` / `last_id`.
    pub fn new(data: Vec<T>, has_more: bool, id: impl Fn(&T) -> &str) -> Self {
        let first_id = data.first().map(|item| id(item).to_owned());
        let last_id = data.last().map(|item| id(item).to_owned());
        Self {
            object: ListObject::List,
            data,
            first_id,
            last_id,
            has_more,
        }
    }
}
