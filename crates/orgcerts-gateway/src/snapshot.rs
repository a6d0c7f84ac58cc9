//! Trust snapshots and their atomic replacement.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use orgcerts_core::ids::{OrganizationId, ProjectId};
use orgcerts_core::model::Scope;

use orgcerts_core::attribute_filter::AttributeFilter;
use orgcerts_core::model::ActiveAnchor;

use crate::anchor::{Anchor, AnchorFilter};

#[derive(Debug, Default)]
struct OrganizationAnchors {
    organization: Vec<Anchor>,
    projects: HashMap<ProjectId, Vec<Anchor>>,
}

/// Every active anchor at one moment, immutable, numbered by a generation.
///
/// Anchors are kept in certificate-id order within each scope, so that the same records give
/// the same snapshot whatever order the store returned them in.
#[derive(Debug, Default)]
pub struct TrustSnapshot {
    generation: u64,
    organizations: HashMap<OrganizationId, OrganizationAnchors>,
}

/// The anchors that apply to one (organization, project): the organization's active anchors,
/// then the project's.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveAnchors<'s> {
    organization: &'s [Anchor],
    project: &'s [Anchor],
}

impl<'s> EffectiveAnchors<'s> {
    /// No anchor applies: the request needs no certificate. Anchors past their `expires_at`
    /// still count here (they enforce, but match nothing).
    pub fn is_empty(&self) -> bool {
        self.organization.is_empty() && self.project.is_empty()
    }

    /// The organization's anchors, then the project's.
    pub fn iter(&self) -> impl Iterator<Item = &'s Anchor> + use<'s> {
        self.organization.iter().chain(self.project.iter())
    }
}

impl TrustSnapshot {
    /// Builds a snapshot numbered `generation` from the active anchors the store reported,
    /// compiling their attribute filters.
    pub fn build(generation: u64, records: impl IntoIterator<Item = ActiveAnchor>) -> Self {
        Self::build_after(None, generation, records)
    }

    /// [`Self::build`], taking the filters `previous` compiled instead of compiling the same
    /// text again: a rebuild compiles only filters that changed, each text once.
    pub fn build_after(
        previous: Option<&TrustSnapshot>,
        generation: u64,
        records: impl IntoIterator<Item = ActiveAnchor>,
    ) -> Self {
        let compiled: HashMap<&str, &AttributeFilter> = previous
            .into_iter()
            .flat_map(TrustSnapshot::anchors)
            .filter_map(|anchor| match anchor.filter() {
                Some(AnchorFilter::Compiled(filter)) => Some((filter.source(), filter)),
                _ => None,
            })
            .collect();
        let mut fresh: HashMap<String, AnchorFilter> = HashMap::new();
        let mut organizations: HashMap<OrganizationId, OrganizationAnchors> = HashMap::new();
        for mut record in records {
            // One certificate active at several scopes is one text: compiled once per build.
            let filter = record.attribute_filter.take().map(|source| {
                if let Some(filter) = compiled.get(source.as_str()) {
                    return AnchorFilter::Compiled((*filter).clone());
                }
                fresh
                    .entry(source)
                    .or_insert_with_key(|source| {
                        AttributeFilter::compile(source)
                            .map_or(AnchorFilter::Uncompilable, AnchorFilter::Compiled)
                    })
                    .clone()
            });
            let entry = organizations
                .entry(record.organization_id.clone())
                .or_default();
            let list = match &record.scope {
                Scope::Organization => &mut entry.organization,
                Scope::Project(project) => entry.projects.entry(project.clone()).or_default(),
            };
            list.push(Anchor::new(record, filter));
        }
        for anchors in organizations.values_mut() {
            anchors
                .organization
                .sort_by(|a, b| a.certificate_id().cmp(b.certificate_id()));
            for list in anchors.projects.values_mut() {
                list.sort_by(|a, b| a.certificate_id().cmp(b.certificate_id()));
            }
        }
        Self {
            generation,
            organizations,
        }
    }

    /// The snapshot's generation: a new one for every successful rebuild.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The anchors that apply to `project` of `organization`.
    pub fn effective_anchors(
        &self,
        organization: &OrganizationId,
        project: &ProjectId,
    ) -> EffectiveAnchors<'_> {
        match self.organizations.get(organization) {
            Some(anchors) => EffectiveAnchors {
                organization: &anchors.organization,
                project: anchors.projects.get(project).map_or(&[], Vec::as_slice),
            },
            None => EffectiveAnchors {
                organization: &[],
                project: &[],
            },
        }
    }

    /// Every anchor of the snapshot.
    pub fn anchors(&self) -> impl Iterator<Item = &Anchor> {
        self.organizations.values().flat_map(|anchors| {
            anchors
                .organization
                .iter()
                .chain(anchors.projects.values().flatten())
        })
    }

    /// Anchors rustls-webpki could not take as trust anchors (they enforce and match nothing),
    /// for the gateway to report.
    pub fn unusable_anchors(&self) -> impl Iterator<Item = &Anchor> {
        self.anchors().filter(|anchor| !anchor.is_usable())
    }

    /// Anchors whose saved attribute filter does not compile (they refuse every certificate),
    /// for the gateway to report.
    pub fn uncompilable_filters(&self) -> impl Iterator<Item = &Anchor> {
        self.anchors()
            .filter(|anchor| matches!(anchor.filter(), Some(AnchorFilter::Uncompilable)))
    }
}

/// The current [`TrustSnapshot`], swapped atomically when a rebuild succeeds.
///
/// Readers never wait on a rebuild; a rebuild that fails leaves the last good snapshot in place.
#[derive(Debug)]
pub struct Trust {
    current: ArcSwap<TrustSnapshot>,
    generations: AtomicU64,
}

impl Trust {
    /// Starts from a first snapshot. There is no empty default: an empty snapshot would let
    /// every request pass, so the gateway starts only once it has loaded one.
    pub fn new(first: TrustSnapshot) -> Self {
        let generation = first.generation;
        Self {
            current: ArcSwap::from_pointee(first),
            generations: AtomicU64::new(generation),
        }
    }

    /// Loads the first snapshot (generation 1) with `load`.
    pub fn load<I, E>(load: impl FnOnce() -> Result<I, E>) -> Result<Self, E>
    where
        I: IntoIterator<Item = ActiveAnchor>,
    {
        Ok(Self::new(TrustSnapshot::build(1, load()?)))
    }

    /// The snapshot to judge a request with.
    pub fn snapshot(&self) -> Arc<TrustSnapshot> {
        self.current.load_full()
    }

    /// The current snapshot without touching its reference count: for one request's judgement.
    pub(crate) fn current(&self) -> arc_swap::Guard<Arc<TrustSnapshot>> {
        self.current.load()
    }

    /// Rebuilds from `load`'s records under a new generation and swaps the result in. When
    /// `load` fails, its error is returned and the current snapshot stays.
    pub fn rebuild<I, E>(&self, load: impl FnOnce() -> Result<I, E>) -> Result<u64, E>
    where
        I: IntoIterator<Item = ActiveAnchor>,
    {
        let records = load()?;
        Ok(self.install(records))
    }

    /// [`Self::rebuild`] with an asynchronous loader (a store query).
    pub async fn rebuild_async<I, E>(
        &self,
        load: impl Future<Output = Result<I, E>>,
    ) -> Result<u64, E>
    where
        I: IntoIterator<Item = ActiveAnchor>,
    {
        let records = load.await?;
        Ok(self.install(records))
    }

    fn install(&self, records: impl IntoIterator<Item = ActiveAnchor>) -> u64 {
        let generation = self.generations.fetch_add(1, Ordering::AcqRel) + 1;
        let fresh = Arc::new(TrustSnapshot::build_after(
            Some(&self.current.load()),
            generation,
            records,
        ));
        // Two rebuilds racing: the later generation wins whichever finishes first.
        self.current.rcu(|current| {
            if current.generation > generation {
                Arc::clone(current)
            } else {
                Arc::clone(&fresh)
            }
        });
        generation
    }
}
