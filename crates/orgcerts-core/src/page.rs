//! The list parameters every list shares (docs/contract.md, "Lists and pagination").

use crate::{Error, echo};

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size.
pub const MAX_LIMIT: u32 = 100;

/// Sort order by creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

/// A validated page request: `limit` in 1..=100, an optional `after` cursor, an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// The id the page starts after. It may name a deleted record (its position is kept);
    /// a store refuses one that names nothing this organization ever had.
    pub after: Option<String>,
    pub order: Order,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
            order: Order::Desc,
        }
    }
}

impl PageRequest {
    /// Validates raw query values. `order` is `None` for lists without an order parameter.
    pub fn parse(
        limit: Option<&str>,
        after: Option<&str>,
        order: Option<&str>,
        default_order: Order,
    ) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| Error::InvalidLimit { value: echo(raw) })?,
        };
        let order = match order {
            None => default_order,
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(other) => return Err(Error::InvalidOrder { value: echo(other) }),
        };
        Ok(Self {
            limit,
            after: after.map(str::to_owned),
            order,
        })
    }
}

/// One page of results; `has_more` is true exactly when another item follows the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells
    /// that more follow.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32) -> Self {
        let limit = limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Self {
            items: rows,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_hundred_are_refused() {
        for bad in [
            "0",
            "101",
            "-1",
            "abc",
            "1e9",
            "1.0",
            "",
            " 5",
            "99999999999999999999",
        ] {
            assert!(
                matches!(
                    PageRequest::parse(Some(bad), None, None, Order::Desc),
                    Err(Error::InvalidLimit { .. })
                ),
                "{bad:?}"
            );
        }
        for good in [("1", 1), ("100", 100), ("20", 20)] {
            let page = PageRequest::parse(Some(good.0), None, None, Order::Desc).unwrap();
            assert_eq!(page.limit, good.1);
        }
    }

    #[test]
    fn order_defaults_and_is_checked() {
        let page = PageRequest::parse(None, Some("cert_x"), None, Order::Desc).unwrap();
        assert_eq!((page.limit, page.order), (20, Order::Desc));
        assert_eq!(page.after.as_deref(), Some("cert_x"));
        assert!(matches!(
            PageRequest::parse(None, None, Some("ASC"), Order::Desc),
            Err(Error::InvalidOrder { .. })
        ));
    }

    #[test]
    fn overfetch_tells_has_more() {
        assert_eq!(
            Page::from_overfetch(vec![1, 2, 3], 2),
            Page {
                items: vec![1, 2],
                has_more: true
            }
        );
        assert_eq!(
            Page::from_overfetch(vec![1, 2], 2),
            Page {
                items: vec![1, 2],
                has_more: false
            }
        );
    }
}
