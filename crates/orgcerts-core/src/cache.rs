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
use std::marker::PhantomData;
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::ids::OrganizationId;
use crate::model::{Principal, Scope, ScopedCertificate};
use crate::page::{Order, Page, PageRequest};

/// A whole list is cached only up to this many certificates; longer lists are always read
/// page by page from the store.
pub const MAX_CACHED_LIST: u32 = 1000;

/// The key of a scope's cached list.
#[derive(PartialEq, Eq, Hash)]
struct ListKey {
    org: OrganizationId,
    scope: Scope,
}

/// A [`ListKey`] borrowed, to look one up without copying the ids: it hashes as the key it
/// names (`&T` hashes as `T`, fields in the same order).
#[derive(Hash)]
struct ListKeyRef<'a> {
    org: &'a OrganizationId,
    scope: &'a Scope,
}

impl Equivalent<ListKey> for ListKeyRef<'_> {
    fn equivalent(&self, key: &ListKey) -> bool {
        *self.org == key.org && *self.scope == key.scope
    }
}

/// Strings stored end to end in one buffer: a list's ids, or its items' encodings. Two
/// allocations for a whole list instead of one per string, read in order by a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strings {
    text: Box<str>,
    ends: Box<[u32]>,
}

impl Strings {
    /// Joins `strings`; `None` if they add up to 4 GiB or more.
    pub fn join<S: AsRef<str>>(strings: impl IntoIterator<Item = S>) -> Option<Self> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for s in strings {
            text.push_str(s.as_ref());
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Some(Self {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th string. Panics if `i >= len()`, like indexing.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Where `s` is, if it is there.
    pub fn position(&self, s: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(i) == s)
    }
}

/// How the caller encodes a whole list's items, each on its own (the server's JSON): done
/// once, when the list is read into the cache; the records are then dropped, so a cached
/// certificate costs its encoding and its id. The cache holds the encoding as the caller's own
/// type, so a page is served from it only to a caller asking for that same type: the check
/// is a downcast, not a comparison of function addresses, which Rust does not keep stable.
pub trait ListEncoding: Send + Sync + Sized + 'static {
    /// The encoding of `items`, one per item in order; `None` keeps the records.
    fn encode(items: &[ScopedCertificate]) -> Option<Self>;

    /// How many items it encodes.
    fn count(&self) -> usize;

    /// The `i`th item's encoding. May panic if `i >= count()`, like indexing.
    fn item(&self, i: usize) -> &str;
}

/// A whole list of one scope in creation order: its ids, and its items encoded by the
/// [`ListEncoding`] of the call that read it, or as records when encoding failed.
pub struct CachedList {
    ids: Strings,
    items: CachedItems,
}

enum CachedItems {
    Encoded(Box<dyn Any + Send + Sync>),
    Records(Vec<ScopedCertificate>),
}

impl CachedItems {
    /// The encoding, if it is of type `E`.
    fn encoded<E: ListEncoding>(&self) -> Option<&E> {
        match self {
            Self::Encoded(encoded) => encoded.downcast_ref::<E>(),
            Self::Records(_) => None,
        }
    }
}

impl CachedList {
    /// The list of `items`, encoded as `E` if that succeeds for every item. `None` if the ids
    /// cannot be held (4 GiB of them).
    pub fn new<E: ListEncoding>(items: Vec<ScopedCertificate>) -> Option<Self> {
        let ids = Strings::join(items.iter().map(|c| c.certificate.id.as_str()))?;
        let items = match E::encode(&items) {
            Some(encoded) if encoded.count() == items.len() => {
                CachedItems::Encoded(Box::new(encoded))
            }
            _ => CachedItems::Records(items),
        };
        Some(Self { ids, items })
    }
}

/// A cached list, or `None` when it is longer than [`MAX_CACHED_LIST`] (remembered too, so
/// that long lists do not pay for a failed attempt on every request).
pub type CachedEntry = Option<Arc<CachedList>>;

#[derive(Clone)]
struct ListWeighter;

impl Weighter<ListKey, (u64, CachedEntry)> for ListWeighter {
    fn weight(&self, _: &ListKey, value: &(u64, CachedEntry)) -> u64 {
        value.1.as_ref().map_or(1, |list| list.ids.len() as u64 + 1)
    }
}

/// The cache of one service.
pub struct ReadCache {
    /// Each principal with its key's `expires_at`, checked on every hit.
    principals: Cache<[u8; 32], (u64, Principal, Option<i64>)>,
    lists: Cache<ListKey, (u64, CachedEntry), ListWeighter>,
}

impl ReadCache {
    /// A cache holding up to about `items` certificates (and a tenth as many admin keys);
    /// `None` for 0.
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
            .get(&ListKeyRef { org, scope })
            .and_then(|(t, list)| (t == token).then_some(list))
    }

    pub fn remember_list(
        &self,
        org: &OrganizationId,
        scope: &Scope,
        token: u64,
        list: CachedEntry,
    ) {
        self.lists.insert(
            ListKey {
                org: org.clone(),
                scope: scope.clone(),
            },
            (token, list),
        );
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

/// The window of a whole list held in creation order (`ids`) that the store would return for
/// `page`; `None` when `after` is not in the list (a deleted or unknown id: the store decides).
pub fn window_of(ids: &Strings, page: &PageRequest) -> Option<Window> {
    let limit = page.limit as usize;
    let len = ids.len();
    Some(match page.order {
        Order::Asc => {
            let start = match &page.after {
                Some(after) => ids.position(after)? + 1,
                None => 0,
            };
            let end = (start + limit).min(len);
            Window {
                start,
                end,
                reversed: false,
                has_more: end < len,
            }
        }
        Order::Desc => {
            let end = match &page.after {
                Some(after) => ids.position(after)?,
                None => len,
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

/// A page of certificates: records (read from the store, or copied out of a cached list
/// kept as records), or a window of a cached list encoded as `E`.
pub enum CertificatePage<E> {
    Records(Page<ScopedCertificate>),
    Encoded(EncodedPage<E>),
}

/// A page served from a cached list's encodings: each item's encoding, and the ids around it.
pub struct EncodedPage<E> {
    list: Arc<CachedList>,
    window: Window,
    encoding: PhantomData<fn() -> E>,
}

impl<E: ListEncoding> EncodedPage<E> {
    /// The encodings of the page's items, in the page's order.
    pub fn items(&self) -> impl Iterator<Item = &str> {
        // Made only by `page_of` after the same downcast succeeded.
        self.list
            .items
            .encoded::<E>()
            .into_iter()
            .flat_map(|encoded| self.window.positions().map(|i| encoded.item(i)))
    }

    pub fn first_id(&self) -> Option<&str> {
        self.window.positions().next().map(|i| self.list.ids.get(i))
    }

    pub fn last_id(&self) -> Option<&str> {
        self.window.positions().last().map(|i| self.list.ids.get(i))
    }

    pub fn has_more(&self) -> bool {
        self.window.has_more
    }
}

/// The page of a cached list that `page` asks for: its encodings when they are of type `E`,
/// else its records; `None` when the list cannot answer (see [`window_of`]), or when it was
/// encoded as another type than the caller's.
pub(crate) fn page_of<E: ListEncoding>(
    list: Arc<CachedList>,
    page: &PageRequest,
) -> Option<CertificatePage<E>> {
    let window = window_of(&list.ids, page)?;
    match &list.items {
        CachedItems::Records(records) => Some(CertificatePage::Records(window.page(records))),
        CachedItems::Encoded(_) if list.items.encoded::<E>().is_some() => {
            Some(CertificatePage::Encoded(EncodedPage {
                list,
                window,
                encoding: PhantomData,
            }))
        }
        CachedItems::Encoded(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CertificateId, ProjectId};
    use crate::model::CertificateRecord;

    fn page_of(list: &[ScopedCertificate], page: &PageRequest) -> Option<Page<ScopedCertificate>> {
        let ids = Strings::join(list.iter().map(|c| c.certificate.id.as_str())).unwrap();
        window_of(&ids, page).map(|window| window.page(list))
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
                    attribute_filter: None,
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
        let cached = CachedList::new::<Failing>(list(2)).map(Arc::new);
        cache.remember_list(&org, &Scope::Organization, 7, cached);
        assert!(cache.list(&org, &Scope::Organization, 7).is_some());
        assert!(cache.list(&org, &Scope::Organization, 8).is_none());
        assert!(ReadCache::new(0).is_none());
    }

    #[test]
    fn lists_are_found_by_organization_and_scope() {
        let cache = ReadCache::new(100).unwrap();
        let (org, other_org) = (OrganizationId::generate(), OrganizationId::generate());
        let (project, other_project) = (ProjectId::generate(), ProjectId::generate());
        let scope = Scope::Project(project.clone());
        cache.remember_list(
            &org,
            &scope,
            1,
            CachedList::new::<Failing>(list(2)).map(Arc::new),
        );
        let found = |org: &OrganizationId, scope: &Scope| {
            cache.list(org, scope, 1).flatten().map(|l| l.ids.len())
        };
        assert_eq!(found(&org, &Scope::Project(project.clone())), Some(2));
        assert_eq!(found(&org, &Scope::Project(other_project)), None);
        assert_eq!(found(&org, &Scope::Organization), None);
        assert_eq!(found(&other_org, &Scope::Project(project)), None);
    }

    #[test]
    fn strings_are_held_end_to_end() {
        let strings = Strings::join(["ab", "", "cde"]).unwrap();
        assert_eq!(strings.len(), 3);
        assert_eq!(
            (strings.get(0), strings.get(1), strings.get(2)),
            ("ab", "", "cde")
        );
        assert_eq!(strings.position("cde"), Some(2));
        assert_eq!(strings.position("abc"), None);
        assert!(Strings::join(Vec::<&str>::new()).unwrap().is_empty());
    }

    /// Each item's name.
    struct Names(Strings);

    impl ListEncoding for Names {
        fn encode(items: &[ScopedCertificate]) -> Option<Self> {
            Strings::join(items.iter().map(|c| c.certificate.name.clone().unwrap())).map(Self)
        }
        fn count(&self) -> usize {
            self.0.len()
        }
        fn item(&self, i: usize) -> &str {
            self.0.get(i)
        }
    }

    /// The same strings as [`Names`], as another type: a caller of this type is not served
    /// what `Names` encoded.
    struct OtherNames(Strings);

    impl ListEncoding for OtherNames {
        fn encode(items: &[ScopedCertificate]) -> Option<Self> {
            Names::encode(items).map(|names| Self(names.0))
        }
        fn count(&self) -> usize {
            self.0.len()
        }
        fn item(&self, i: usize) -> &str {
            self.0.get(i)
        }
    }

    /// An encoding that always fails: lists keep their records.
    struct Failing(Strings);

    impl ListEncoding for Failing {
        fn encode(_: &[ScopedCertificate]) -> Option<Self> {
            None
        }
        fn count(&self) -> usize {
            self.0.len()
        }
        fn item(&self, i: usize) -> &str {
            self.0.get(i)
        }
    }

    /// An encoding that leaves an item out: lists keep their records.
    struct Short(Strings);

    impl ListEncoding for Short {
        fn encode(items: &[ScopedCertificate]) -> Option<Self> {
            Names::encode(&items[1..]).map(|names| Self(names.0))
        }
        fn count(&self) -> usize {
            self.0.len()
        }
        fn item(&self, i: usize) -> &str {
            self.0.get(i)
        }
    }

    #[test]
    fn an_encoded_list_serves_its_encodings_to_its_encoding_only() {
        let items = list(5);
        let cached = Arc::new(CachedList::new::<Names>(items.clone()).unwrap());
        let request = req(2, Some(&items[3]), Order::Desc);
        let Some(CertificatePage::Encoded(page)) =
            super::page_of::<Names>(Arc::clone(&cached), &request)
        else {
            panic!("served from the encodings");
        };
        assert_eq!(page.items().collect::<Vec<_>>(), ["c2", "c1"]);
        assert_eq!(page.first_id(), Some(items[2].certificate.id.as_str()));
        assert_eq!(page.last_id(), Some(items[1].certificate.id.as_str()));
        assert!(page.has_more());
        // A caller with another encoding, even one that makes the same strings, is left to
        // the store.
        assert!(super::page_of::<OtherNames>(Arc::clone(&cached), &request).is_none());
        assert!(super::page_of::<Failing>(cached, &request).is_none());
    }

    #[test]
    fn a_list_that_cannot_be_encoded_keeps_its_records() {
        let items = list(3);
        let request = req(2, None, Order::Asc);
        for cached in [
            CachedList::new::<Failing>(items.clone()).unwrap(),
            CachedList::new::<Short>(items.clone()).unwrap(),
        ] {
            let Some(CertificatePage::Records(page)) =
                super::page_of::<Names>(Arc::new(cached), &request)
            else {
                panic!("served from the records");
            };
            assert_eq!(names(&page), ["c0", "c1"]);
            assert!(page.has_more);
        }
    }
}
