//! Decisions cached by (chain, organization, project, trust generation).

use orgcerts_core::ids::{OrganizationId, ProjectId};
use quick_cache::sync::Cache;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use crate::snapshot::{Trust, TrustSnapshot};
use std::time::Duration;

use crate::verify::{DEFAULT_FILTER_DEADLINE, Decision, Judged, Refusal, judge, over_bounds};

/// What a decision is cached under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    /// SHA-256 over the organization, the project and every certificate of the chain, each
    /// length-prefixed so that no two different inputs hash the same bytes.
    digest: [u8; 32],
    /// The snapshot's generation: a rebuild makes every earlier entry miss.
    generation: u64,
}

fn key(
    generation: u64,
    organization: &OrganizationId,
    project: &ProjectId,
    chain: &[CertificateDer<'_>],
) -> Key {
    let mut hasher = Sha256::new();
    for part in [
        organization.as_str().as_bytes(),
        project.as_str().as_bytes(),
    ]
    .into_iter()
    .chain(chain.iter().map(AsRef::as_ref))
    {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    Key {
        digest: hasher.finalize().into(),
        generation,
    }
}

/// A bounded cache of decisions, so that a chain seen before costs a hash and a lookup instead
/// of a path validation.
///
/// An entry is used only while its decision holds: a verified path not past the notAfter of the
/// presented certificates and of its anchor; a refusal not past the notBefore of a presented
/// certificate that was not yet valid.
pub struct DecisionCache {
    entries: Cache<Key, Judged>,
    filter_deadline: Duration,
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache")
            .field("len", &self.entries.len())
            .field("filter_deadline", &self.filter_deadline)
            .field("capacity", &self.entries.capacity())
            .finish()
    }
}

impl DecisionCache {
    /// A cache of at most `capacity` decisions, giving attribute filters
    /// [`DEFAULT_FILTER_DEADLINE`].
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity),
            filter_deadline: DEFAULT_FILTER_DEADLINE,
        }
    }

    /// How long the attribute filters of one request may evaluate before it is
    /// [`Decision::Undecided`].
    #[must_use]
    pub fn with_filter_deadline(mut self, deadline: Duration) -> Self {
        self.filter_deadline = deadline;
        self
    }

    /// How many decisions are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no decision is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// [`crate::verify`], answered from the cache when the same chain was judged for the same
    /// organization and project under the same snapshot and the decision still holds at `now`.
    pub fn verify(
        &self,
        snapshot: &TrustSnapshot,
        organization: &OrganizationId,
        project: &ProjectId,
        chain: &[CertificateDer<'_>],
        now: i64,
    ) -> Decision {
        let anchors = snapshot.effective_anchors(organization, project);
        // Nothing to look up: these answers cost less than the hash.
        if anchors.is_empty() {
            return Decision::Pass;
        }
        if chain.is_empty() {
            return Decision::Refused(Refusal::CertificateRequired);
        }
        if over_bounds(chain) {
            return Decision::Refused(Refusal::InvalidCertificate);
        }
        let key = key(snapshot.generation(), organization, project, chain);
        if let Some(hit) = self.entries.get(&key)
            && now <= hit.valid_until
        {
            return hit.decision;
        }
        let judged = judge(anchors, chain, now, self.filter_deadline);
        let decision = judged.decision.clone();
        self.entries.insert(key, judged);
        decision
    }
}

/// The gateway's verifier: the current trust and the decision cache together.
#[derive(Debug)]
pub struct Verifier {
    trust: Trust,
    cache: DecisionCache,
}

impl Verifier {
    /// A verifier over `trust` caching at most `cache_capacity` decisions.
    pub fn new(trust: Trust, cache_capacity: usize) -> Self {
        Self {
            trust,
            cache: DecisionCache::new(cache_capacity),
        }
    }

    /// See [`DecisionCache::with_filter_deadline`].
    #[must_use]
    pub fn with_filter_deadline(mut self, deadline: Duration) -> Self {
        self.cache = self.cache.with_filter_deadline(deadline);
        self
    }

    /// The trust, to rebuild it.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The decision cache.
    pub fn cache(&self) -> &DecisionCache {
        &self.cache
    }

    /// Judges one request against the current snapshot: see [`crate::verify`].
    pub fn verify(
        &self,
        organization: &OrganizationId,
        project: &ProjectId,
        chain: &[CertificateDer<'_>],
        now: i64,
    ) -> Decision {
        let snapshot = self.trust.current();
        self.cache
            .verify(&snapshot, organization, project, chain, now)
    }
}
