//! The read cache: admin keys and whole certificate lists, kept in memory and trusted only
//! while the store's change token is unchanged.
//!
//! Guarantee, on one instance and across instances alike: an answer served from the cache
//! reflects every change committed to the database before the request began. The token is
//! read before the data it stamps; a commit after that read changes the token, so the entry
//! is never served again; a commit before it is in the data. Engines without a cheap change
//! token (PostgreSQL) cache nothing. The token is global to the database: any write
//! invalidates every entry, which costs one refetch per organization on its next request.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::ids::OrganizationId;
use crate::model::{Principal, Scope, ScopedCertificate};
use crate::page::{Order, Page, PageRequest};

/// A whole list is cached only up to this many certificates; longer lists are always read
/// page by page from the store.
pub const MAX_CACHED_LIST: u32 = 1000;

type ListKey = (OrganizationId, Scope);

/// A whole list, or `None` when it is longer than [`MAX_CACHED_LIST`] (remembered too, so
/// that long lists do not pay for a failed attempt on every request).
pub type CachedList = Option<Arc<Vec<ScopedCertificate>>>;

#[derive(Clone)]
struct ListWeighter;

impl Weighter<ListKey, (u64, CachedList)> for ListWeighter {
    fn weight(&self, _: &ListKey, value: &(u64, CachedList)) -> u64 {
        value.1.as_ref().map_or(1, |list| list.len() as u64 + 1)
    }
}

/// The cache of one service.
pub struct ReadCache {
    /// Each principal with its key's `expires_at`, checked on every hit.
    principals: Cache<[u8; 32], (u64, Principal, Option<i64>)>,
    lists: Cache<ListKey, (u64, CachedList), ListWeighter>,
}

impl ReadCache {
    /// A cache holding up to about `items` certificates (and as many admin keys); `None` for 0.
    pub fn new(items: u64) -> Option<Self> {
        if items == 0 {
            return None;
        }
        let estimated = usize::try_from(items / 10).unwrap_or(usize::MAX).max(16);
        Some(Self {
            principals: Cache::new(estimated),
            lists: Cache::with_weighter(estimated, items, ListWeighter),
        })
    }

    /// The principal of a key and its `expires_at`, if stamped with `token`.
    pub fn principal(&self, hash: &[u8; 32], token: u64) -> Option<(Principal, Option<i64>)> {
        self.principals
            .get(hash)
            .and_then(|(t, p, expires_at)| (t == token).then_some((p, expires_at)))
    }

    pub fn remember_principal(
        &self,
        hash: [u8; 32],
        token: u64,
        principal: Principal,
        expires_at: Option<i64>,
    ) {
        self.principals.insert(hash, (token, principal, expires_at));
    }

    /// The list stamped with `token`, if any (`Some(None)`: known to be too long).
    pub fn list(&self, org: &OrganizationId, scope: &Scope, token: u64) -> Option<CachedList> {
        self.lists
            .get(&(org.clone(), scope.clone()))
            .and_then(|(t, list)| (t == token).then_some(list))
    }

    pub fn remember_list(&self, org: &OrganizationId, scope: &Scope, token: u64, list: CachedList) {
        self.lists
            .insert((org.clone(), scope.clone()), (token, list));
    }
}

/// A page of a whole list held in creation order, exactly as the store would page it; `None`
/// when `after` is not in the list (a deleted or unknown id: the store decides).
pub fn page_of(list: &[ScopedCertificate], page: &PageRequest) -> Option<Page<ScopedCertificate>> {
    let limit = page.limit as usize;
    let position = |id: &str| list.iter().position(|c| c.certificate.id.as_str() == id);
    let (items, has_more) = match page.order {
        Order::Asc => {
            let start = match &page.after {
                Some(after) => position(after)? + 1,
                None => 0,
            };
            let end = (start + limit).min(list.len());
            (list[start..end].to_vec(), end < list.len())
        }
        Order::Desc => {
            let end = match &page.after {
                Some(after) => position(after)?,
                None => list.len(),
            };
            let start = end.saturating_sub(limit);
            (list[start..end].iter().rev().cloned().collect(), start > 0)
        }
    };
    Some(Page { items, has_more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CertificateId;
    use crate::model::CertificateRecord;

    fn list(n: usize) -> Vec<ScopedCertificate> {
        (0..n)
            .map(|i| ScopedCertificate {
                certificate: CertificateRecord {
                    id: CertificateId::generate(),
                    name: Some(format!("c{i}")),
                    created_at: 1,
                    valid_at: 0,
                    expires_at: 2,
                    der: None,
                },
                active: i % 2 == 0,
            })
            .collect()
    }

    fn names(page: &Page<ScopedCertificate>) -> Vec<String> {
        page.items
            .iter()
            .map(|c| c.certificate.name.clone().unwrap())
            .collect()
    }

    fn req(limit: u32, after: Option<&ScopedCertificate>, order: Order) -> PageRequest {
        PageRequest {
            limit,
            after: after.map(|c| c.certificate.id.to_string()),
            order,
        }
    }

    #[test]
    fn pages_match_keyset_semantics_in_both_orders() {
        let l = list(5);
        let p = page_of(&l, &req(2, None, Order::Asc)).unwrap();
        assert_eq!(
            (names(&p), p.has_more),
            (vec!["c0".into(), "c1".into()], true)
        );
        let p = page_of(&l, &req(2, Some(&l[2]), Order::Asc)).unwrap();
        assert_eq!(
            (names(&p), p.has_more),
            (vec!["c3".into(), "c4".into()], false)
        );
        let p = page_of(&l, &req(2, None, Order::Desc)).unwrap();
        assert_eq!(
            (names(&p), p.has_more),
            (vec!["c4".into(), "c3".into()], true)
        );
        let p = page_of(&l, &req(2, Some(&l[2]), Order::Desc)).unwrap();
        assert_eq!(
            (names(&p), p.has_more),
            (vec!["c1".into(), "c0".into()], false)
        );
        let p = page_of(&l, &req(100, Some(&l[4]), Order::Asc)).unwrap();
        assert_eq!((p.items.len(), p.has_more), (0, false));
        let p = page_of(&l, &req(100, Some(&l[0]), Order::Desc)).unwrap();
        assert_eq!((p.items.len(), p.has_more), (0, false));
    }

    #[test]
    fn an_unknown_cursor_is_left_to_the_store() {
        let l = list(3);
        let mut r = req(2, None, Order::Asc);
        r.after = Some("cert_gone".into());
        assert!(page_of(&l, &r).is_none());
    }

    #[test]
    fn entries_stamped_with_another_token_are_not_served() {
        let cache = ReadCache::new(100).unwrap();
        let org = OrganizationId::generate();
        cache.remember_list(&org, &Scope::Organization, 7, Some(Arc::new(list(2))));
        assert!(cache.list(&org, &Scope::Organization, 7).is_some());
        assert!(cache.list(&org, &Scope::Organization, 8).is_none());
        assert!(ReadCache::new(0).is_none());
    }
}
