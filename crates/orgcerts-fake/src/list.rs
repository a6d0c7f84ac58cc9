use axum::response::Response;
use orgcerts_api::ListResponse;

use crate::bad_request;

/// The query parameters the fake's lists understand.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) after: Option<String>,
    pub(crate) limit: usize,
    pub(crate) descending: bool,
    pub(crate) include_archived: bool,
    pub(crate) include_content: bool,
}

/// Reads a raw query string: `limit` 1..=100 (default 20), `order` asc|desc (default desc),
/// `after`, `include_archived`, and `include[]=content` in raw or percent-encoded form.
pub(crate) fn parse(raw: Option<&str>) -> Result<ListQuery, Response> {
    let mut query = ListQuery {
        limit: 20,
        descending: true,
        ..ListQuery::default()
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match &*key {
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=100).contains(limit))
                    .ok_or_else(|| {
                        bad_request(
                            &format!("Invalid limit '{value}': expected an integer from 1 to 100."),
                            Some("limit"),
                            None,
                        )
                    })?;
            }
            "order" => {
                query.descending = match &*value {
                    "asc" => false,
                    "desc" => true,
                    _ => {
                        return Err(bad_request(
                            &format!("Invalid order '{value}': expected 'asc' or 'desc'."),
                            Some("order"),
                            None,
                        ));
                    }
                };
            }
            "after" => query.after = Some(value.into_owned()),
            "include_archived" => query.include_archived = value == "true",
            "include[]" | "include" => query.include_content |= value == "content",
            _ => {}
        }
    }
    Ok(query)
}

/// One page of `records` (kept in creation order, hidden ones included so that `after` may
/// name them): the visible records strictly after `after` in the requested order.
pub(crate) fn paginate<R, T>(
    records: &[R],
    query: &ListQuery,
    id: impl Fn(&R) -> &str,
    visible: impl Fn(&R) -> bool,
    render: impl Fn(&R) -> T,
    rendered_id: impl Fn(&T) -> &str,
) -> Result<ListResponse<T>, Response> {
    let mut ordered: Vec<&R> = records.iter().collect();
    if query.descending {
        ordered.reverse();
    }
    let start = match &query.after {
        None => 0,
        Some(after) => {
            ordered
                .iter()
                .position(|record| id(record) == after)
                .ok_or_else(|| {
                    bad_request(
                        &format!("No object with id '{after}' to list after."),
                        Some("after"),
                        None,
                    )
                })?
                + 1
        }
    };
    let mut rest = ordered[start..].iter().filter(|record| visible(record));
    let data: Vec<T> = rest
        .by_ref()
        .take(query.limit)
        .map(|record| render(record))
        .collect();
    let has_more = rest.next().is_some();
    Ok(ListResponse::new(data, has_more, rendered_id))
}
