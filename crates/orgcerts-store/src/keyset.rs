//! Keyset pagination, the same for every engine: rows are ordered by `(time, seq)` and a page
//! starts after the position of the cursor's row.

use orgcerts_core::page::{Order, PageRequest};

/// Keyset bounds for a page: the comparison, the sort direction, and the position to start
/// after when there is no cursor (before every row in that order).
pub(crate) fn keyset(order: Order) -> (&'static str, &'static str, (i64, i64)) {
    match order {
        Order::Asc => (">", "ASC", (i64::MIN, i64::MIN)),
        Order::Desc => ("<", "DESC", (i64::MAX, i64::MAX)),
    }
}

/// `limit + 1`, to tell whether more rows follow.
pub(crate) fn overfetch(page: &PageRequest) -> i64 {
    i64::from(page.limit) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_starts_before_every_row_of_its_order_and_reads_one_more() {
        assert_eq!(keyset(Order::Asc), (">", "ASC", (i64::MIN, i64::MIN)));
        assert_eq!(keyset(Order::Desc), ("<", "DESC", (i64::MAX, i64::MAX)));
        let page = PageRequest {
            limit: 100,
            after: None,
            order: Order::Asc,
        };
        assert_eq!(overfetch(&page), 101);
    }
}
