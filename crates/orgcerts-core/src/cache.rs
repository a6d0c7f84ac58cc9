//! The read cache: admin keys and whole certificate lists, kept in memory and trusted only
//! while the value they were stamped with is unchanged.
//!
//! SQLite: the stamp is the store's change token, global to the database file, read once per
//! request ([`crate::Store::change_token`]). An answer served from the cache reflects every
//! change this instance acknowledged before the request began, and every change another process
//! (another instance on the same file, the operator's command line) committed more than the
//! store's delay before it began (1 ms, `orgcerts_store::OTHER_PROCESS_DELAY`). Any write but
//! the key-use flush invalidates every entry, which costs one refetch per organization on its
//! next request. Admin keys are cached too.
//!
//! PostgreSQL: the stamp is the organization's change count, read in the same statement as the
//! request's admin key ([`crate::Store::admin_key_for_request`]); the key itself is read on
//! every request, never cached. An answer served from the cache reflects every change
//! acknowledged by any instance before the request began, with no delay; a change invalidates
//! its own organization's entries only.
//!
//! Why it holds, for both: the stamp is read after the request began and before the data it
//! stamps. A change acknowledged before the request began changed the stamp before it was read,
//! so an entry stamped before that change is not served; a change after the read changes the
//! stamp, so an entry whose data might miss it, stamped with the older value, is never served
//! again; a change between the stamp's read and the data's read is in the data.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::ids::OrganizationId;
use crate::model::{Principal, Scope, ScopedCertificate};
use crate::page::{Order, Page, PageRequest};

/// A whole list is cached only up to this many certificates; longer lists are always read
/// page by page from the store.
pub const MAX_CACHED_LIST: u32 = 1000;

type ListKey = (OrganizationId, Scope);

/// A whole list of one scope in creation order, with an encoding of its items that the caller
/// makes on first use and keeps with it (the server's JSON, so that a page served from the
/// cache copies bytes instead of encoding records).
pub struct CachedList {
    pub items: Vec<ScopedCertificate>,
    encoded: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl CachedList {
    pub fn new(items: Vec<ScopedCertificate>) -> Self {
        Self {
            items,
            encoded: OnceLock::new(),
        }
    }

    /// The items as `encode` encodes them, made by the first call and kept while the list is.
    /// `None` when the list was first encoded as another type (a caller must use one type per
    /// kind of encoding; the list is then encoded anew by whoever asks for another).
    pub fn encoded<E: Any + Send + Sync>(
        &self,
        encode: impl FnOnce(&[ScopedCertificate]) -> E,
    ) -> Option<&E> {
        self.encoded
            .get_or_init(|| Box::new(encode(&self.items)))
            .downcast_ref()
    }
}

/// A cached list, or `None` when it is longer than [`MAX_CACHED_LIST`] (remembered too, so
/// that long lists do not pay for a failed attempt on every request).
pub type CachedEntry = Option<Arc<CachedList>>;

#[derive(Clone)]
struct ListWeighter;

impl Weighter<ListKey, (u64, CachedEntry)> for ListWeighter {
    fn weight(&self, _: &ListKey, value: &(u64, CachedEntry)) -> u64 {
        value
            .1
            .as_ref()
            .map_or(1, |list| list.items.len() as u64 + 1)
    }
}

/// The cache of one service.
pub struct ReadCache {
    /// Each principal with its key's `expires_at`, checked on every hit.
    principals: Cache<[u8; 32], (u64, Principal, Option<i64>)>,
    lists: Cache<ListKey, (u64, CachedEntry), ListWeighter>,
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
    pub fn list(&self, org: &OrganizationId, scope: &Scope, token: u64) -> Option<CachedEntry> {
        self.lists
            .get(&(org.clone(), scope.clone()))
            .and_then(|(t, list)| (t == token).then_some(list))
    }

    pub fn remember_list(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        token: u64,
        list: CachedEntry,
    ) {
        self.lists
            .insert((org.clone(), scope.clone()), (token, list));
    }
}

/// Which items of a whole list (held in creation order) make a page: `start..end`, newest
/// first when `reversed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
    pub reversed: bool,
    pub has_more: bool,
}

impl Window {
    /// The positions of the page's items in the list, in the page's order.
    pub fn positions(&self) -> impl Iterator<Item = usize> + use<> {
        let Self {
            start,
            end,
            reversed,
            ..
        } = *self;
        (start..end).map(move |i| if reversed { start + end - 1 - i } else { i })
    }

    /// The page itself, its items copied out of `list`.
    pub fn page(&self, list: &[ScopedCertificate]) -> Page<ScopedCertificate> {
        Page {
            items: self.positions().map(|i| list[i].clone()).collect(),
            has_more: self.has_more,
        }
    }
}

/// The window of a whole list held in creation order that the store would return for `page`;
/// `None` when `after` is not in the list (a deleted or unknown id: the store decides).
pub fn window_of(list: &[ScopedCertificate], page: &PageRequest) -> Option<Window> {
    let limit = page.limit as usize;
    let position = |id: &str| list.iter().position(|c| c.certificate.id.as_str() == id);
    Some(match page.order {
        Order::Asc => {
            let start = match &page.after {
                Some(after) => position(after)? + 1,
                None => 0,
            };
            let end = (start + limit).min(list.len());
            Window {
                start,
                end,
                reversed: false,
                has_more: end < list.len(),
            }
        }
        Order::Desc => {
            let end = match &page.after {
                Some(after) => position(after)?,
                None => list.len(),
            };
            let start = end.saturating_sub(limit);
            Window {
                start,
                end,
                reversed: true,
                has_more: start > 0,
            }
        }
    })
}

/// A page of certificates: read from the store, or a window of a cached whole list (whose
/// items the caller may take from the list's encoding).
pub enum CertificatePage {
    Read(Page<ScopedCertificate>),
    Cached {
        list: Arc<CachedList>,
        window: Window,
    },
}

impl CertificatePage {
    /// The page with its items, copied out of the cache if it came from there.
    pub fn into_page(self) -> Page<ScopedCertificate> {
        match self {
            Self::Read(page) => page,
            Self::Cached { list, window } => window.page(&list.items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CertificateId;
    use crate::model::CertificateRecord;

    fn page_of(list: &[ScopedCertificate], page: &PageRequest) -> Option<Page<ScopedCertificate>> {
        window_of(list, page).map(|window| window.page(list))
    }

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
        cache.remember_list(
            &org,
            &Scope::Organization,
            7,
            Some(Arc::new(CachedList::new(list(2)))),
        );
        assert!(cache.list(&org, &Scope::Organization, 7).is_some());
        assert!(cache.list(&org, &Scope::Organization, 8).is_none());
        assert!(ReadCache::new(0).is_none());
    }

    #[test]
    fn an_encoding_is_made_once_and_kept_with_its_list() {
        let cached = CachedList::new(list(3));
        let mut calls = 0;
        let first = cached
            .encoded(|items| {
                calls += 1;
                items.len()
            })
            .copied();
        let again = cached
            .encoded(|_| {
                calls += 1;
                0usize
            })
            .copied();
        assert_eq!((first, again, calls), (Some(3), Some(3), 1));
        assert!(cached.encoded(|_| "another type").is_none());
    }
}
