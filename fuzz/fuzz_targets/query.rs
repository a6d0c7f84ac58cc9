//! Query strings: the raw bytes read as the server's `QueryParams` reads them
//! (`form_urlencoded`, a parameter given twice refused, `name` and `name[]` both an array),
//! then `orgcerts_core::page::PageRequest::parse` for lists with and without `order`; and
//! `Page::from_overfetch` on the same bytes.
//!
//! `QueryParams` itself stays private to the server: it is those few lines around
//! `form_urlencoded::parse`, repeated below, and linking the server (axum, hyper, tokio, rustls)
//! into the fuzz build would triple its build time for no code of ours.
//!
//! Nothing may panic, and an accepted page request must respect the contract's bounds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orgcerts_core::page::{DEFAULT_LIMIT, MAX_LIMIT, Order, Page, PageRequest};

fuzz_target!(|data: &[u8]| {
    let params: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let single = |name: &str| {
        let mut values = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        values.next().is_none().then_some(first)
    };
    let bracketed = |name: &str| {
        let with = format!("{name}[]");
        params
            .iter()
            .filter(|(k, _)| *k == name || *k == with)
            .count()
    };
    let _ = bracketed("include");
    if let (Some(limit), Some(after), Some(order)) =
        (single("limit"), single("after"), single("order"))
    {
        check(limit, after, order, Order::Desc);
        check(limit, after, None, Order::Asc);
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
