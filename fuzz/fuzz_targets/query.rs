//! Query strings: the raw bytes read by the server's own `QueryParams`
//! (`orgcerts_server::fuzzing`), then the lists' `page_request` with and without `order`, the
//! array and boolean parameters; and `orgcerts_core::page::PageRequest::parse` and
//! `Page::from_overfetch` on the same bytes.
//!
//! Nothing may panic, every refusal is a 400, and an accepted page request respects the
//! contract's bounds and echoes the query's own values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orgcerts_core::page::{DEFAULT_LIMIT, MAX_LIMIT, Order, Page, PageRequest};
use orgcerts_server::fuzzing::{self, QueryParams};

fuzz_target!(|data: &[u8]| {
    let params = QueryParams::parse(data);
    if let Err(err) = params.array("include") {
        assert_eq!(fuzzing::status_of(err), 400);
    }
    if let Err(err) = params.boolean("include_archived") {
        assert_eq!(fuzzing::status_of(err), 400);
    }
    for with_order in [true, false] {
        match fuzzing::page_request(&params, with_order) {
            Ok(page) => {
                let single = |name: &'static str| params.single(name).expect("given once");
                assert!((1..=MAX_LIMIT).contains(&page.limit));
                if single("limit").is_none() {
                    assert_eq!(page.limit, DEFAULT_LIMIT);
                }
                assert_eq!(page.after.as_deref(), single("after"));
                let default = if with_order { Order::Desc } else { Order::Asc };
                // Without `order`, the list ignores the parameter, even given twice.
                let order = if with_order { single("order") } else { None };
                match order {
                    None => assert_eq!(page.order, default),
                    Some(o) => assert!(matches!(o, "asc" | "desc")),
                }
            }
            Err(err) => assert_eq!(fuzzing::status_of(err), 400),
        }
    }

    // The same bytes as three raw values, split at NUL bytes.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let (limit, after, order) = (parts.next(), parts.next(), parts.next());
    check(limit, after, order, Order::Desc);

    let rows = data.len() % 130;
    let limit = u32::from(data.first().copied().unwrap_or(0)) % (MAX_LIMIT + 1);
    let page = Page::from_overfetch(vec![(); rows], limit);
    assert!(page.items.len() <= limit as usize);
    assert_eq!(page.has_more, rows > limit as usize);
});

fn check(limit: Option<&str>, after: Option<&str>, order: Option<&str>, default: Order) {
    match PageRequest::parse(limit, after, order, default) {
        Ok(page) => {
            assert!((1..=MAX_LIMIT).contains(&page.limit));
            if limit.is_none() {
                assert_eq!(page.limit, DEFAULT_LIMIT);
            }
            assert_eq!(page.after.as_deref(), after);
            match order {
                None => assert_eq!(page.order, default),
                Some(o) => assert!(matches!(o, "asc" | "desc")),
            }
        }
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.chars().count() < 200,
                "the echo is bounded: {message}"
            );
        }
    }
}
