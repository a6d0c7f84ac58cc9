//! What the gateway knows of the database: the trust snapshot and the service account keys,
//! kept current by polling the store's trust version.
//!
//! A poller asks [`orgcerts_core::Store::trust_version`] every `poll` interval. When it moved, the active
//! anchors are read again and every cached key is forgotten; when the anchors differ from those
//! of the current snapshot, a new one is built off the async workers and swapped in. The time of the last version read that the current snapshot
//! reflects is kept: requests are judged only while it is younger than `max_age`, and answered
//! 503 `authentication_temporarily_unavailable` otherwise (the database has not answered for
//! that long, and a change made meanwhile by another process could be missed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orgcerts_core::Service;
use orgcerts_core::ids::{OrganizationId, ProjectApiKeyId, ProjectId, ServiceAccountId};
use orgcerts_core::keys::KeyHash;
use orgcerts_core::model::{ActiveAnchor, Scope};
use orgcerts_gateway::{Trust, TrustSnapshot, Verifier};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// What a live service account key of a live project grants.
#[derive(Debug)]
#[allow(clippy::struct_field_names)] // the ids of the wire, by their wire names
pub struct Grant {
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub service_account_id: ServiceAccountId,
    pub key_id: ProjectApiKeyId,
}

/// A key lookup's answer, numbered by the key generation it was read under.
#[derive(Debug, Clone)]
struct CachedKey {
    generation: u64,
    grant: Option<Arc<Grant>>,
}

/// The store could not answer.
#[derive(Debug)]
pub struct Unavailable;

/// The gateway's view of the database.
pub struct TrustFeed {
    service: Arc<Service>,
    verifier: Verifier,
    keys: Cache<[u8; 32], CachedKey>,
    /// Bumped with every snapshot rebuild: cached keys of an earlier generation are not used.
    key_generation: AtomicU64,
    origin: Instant,
    /// When the version read that the current snapshot reflects began, in ms since `origin`.
    confirmed_at: AtomicU64,
    max_age: Duration,
    /// What the current snapshot reflects (held by the poller).
    seen: Mutex<Seen>,
    anchors: AtomicU64,
}

/// The trust version the current snapshot was read at, and the [`fingerprint`] of the anchors
/// it was built from.
struct Seen {
    version: u64,
    fingerprint: [u8; 32],
}

/// Runs `build` (a snapshot: CPU work that grows with the anchors) off the async workers.
async fn off_workers<T: Send + 'static>(
    build: impl FnOnce() -> T + Send + 'static,
) -> orgcerts_core::Result<T> {
    tokio::task::spawn_blocking(build).await.map_err(|_| {
        orgcerts_core::Error::StorageUnavailable(orgcerts_core::StorageError::new(
            "building the trust snapshot failed",
        ))
    })
}

/// A digest of what a snapshot is built from. A certificate's DER never changes under its id,
/// so the ids, owners, scopes and expiry times stand for the whole. SHA-256, each part
/// length-prefixed: certificate validity times come from uploaded certificates, and a collision
/// would leave a change unenforced.
fn fingerprint(anchors: &[ActiveAnchor]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    for anchor in anchors {
        part(anchor.certificate_id.as_str().as_bytes());
        part(anchor.organization_id.as_str().as_bytes());
        match &anchor.scope {
            Scope::Organization => part(b""),
            Scope::Project(project) => part(project.as_str().as_bytes()),
        }
        part(&anchor.expires_at.to_be_bytes());
        // A marker, then the text: no filter and an empty one hash apart.
        match &anchor.attribute_filter {
            None => part(b"-"),
            Some(filter) => {
                part(b"+");
                part(filter.as_bytes());
            }
        }
    }
    hasher.finalize().into()
}

impl std::fmt::Debug for TrustFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustFeed")
            .field("generation", &self.generation())
            .field("anchors", &self.anchor_count())
            .finish_non_exhaustive()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl TrustFeed {
    /// Loads the first snapshot: the gateway serves nothing before it has one.
    pub async fn load(
        service: Arc<Service>,
        max_age: Duration,
        decision_cache_entries: usize,
        filter_deadline: Duration,
        key_cache_entries: usize,
    ) -> orgcerts_core::Result<Self> {
        let store = service.store();
        let version = store.trust_version().await?;
        let anchors = store.active_anchors().await?;
        let count = anchors.len() as u64;
        let first_fingerprint = fingerprint(&anchors);
        let trust = off_workers(move || Trust::new(TrustSnapshot::build(1, anchors))).await?;
        Ok(Self {
            service,
            verifier: Verifier::new(trust, decision_cache_entries.max(1))
                .with_filter_deadline(filter_deadline),
            keys: Cache::new(key_cache_entries.max(1)),
            key_generation: AtomicU64::new(1),
            origin: Instant::now(),
            confirmed_at: AtomicU64::new(0),
            max_age,
            seen: Mutex::new(Seen {
                version,
                fingerprint: first_fingerprint,
            }),
            anchors: AtomicU64::new(count),
        })
    }

    /// The service the keys are looked up through.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The verifier over the current snapshot.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The current snapshot's generation.
    pub fn generation(&self) -> u64 {
        self.verifier.trust().snapshot().generation()
    }

    /// Active anchors in the current snapshot.
    pub fn anchor_count(&self) -> u64 {
        self.anchors.load(Ordering::Relaxed)
    }

    fn now_ms(&self) -> u64 {
        millis(self.origin.elapsed())
    }

    /// Whether the current snapshot reflects a version read no more than `max_age` ago.
    pub fn is_fresh(&self) -> bool {
        self.now_ms()
            .saturating_sub(self.confirmed_at.load(Ordering::Acquire))
            <= millis(self.max_age)
    }

    /// Reads the trust version and rebuilds when it moved. Whether a rebuild happened.
    pub async fn refresh(self: &Arc<Self>) -> orgcerts_core::Result<bool> {
        let mut seen = self.seen.lock().await;
        let started = self.now_ms();
        let store = self.service.store();
        let current = store.trust_version().await?;
        let rebuilt = if seen.version == current {
            false
        } else {
            let anchors = store.active_anchors().await?;
            let count = anchors.len() as u64;
            // Most changes (uploads, renames, projects, keys) leave the anchors as they were:
            // then the snapshot, and the decisions cached under its generation, stay.
            let fingerprint = fingerprint(&anchors);
            let rebuild = seen.fingerprint != fingerprint;
            if rebuild {
                let feed = Arc::clone(self);
                off_workers(move || {
                    feed.verifier
                        .trust()
                        .rebuild(|| Ok::<_, std::convert::Infallible>(anchors))
                })
                .await?
                .unwrap_or_else(|never| match never {});
                self.anchors.store(count, Ordering::Relaxed);
            }
            // Keys may have changed whatever the anchors did.
            self.key_generation.fetch_add(1, Ordering::AcqRel);
            // Only now: a rebuild that failed is tried again at the next poll.
            *seen = Seen {
                version: current,
                fingerprint,
            };
            rebuild
        };
        self.confirmed_at.fetch_max(started, Ordering::AcqRel);
        Ok(rebuilt)
    }

    /// Logs the anchors whose saved attribute filter does not compile: they refuse every
    /// certificate until the filter is changed.
    pub fn report_uncompilable_filters(&self) {
        let snapshot = self.verifier.trust().snapshot();
        for anchor in snapshot.uncompilable_filters() {
            tracing::warn!(
                certificate_id = %anchor.certificate_id(),
                organization_id = %anchor.organization_id(),
                "the certificate's attribute filter does not compile; the certificate refuses every client certificate"
            );
        }
    }

    /// Polls every `every` until the task is dropped; failures are logged and retried.
    pub async fn poll(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match self.refresh().await {
                Ok(rebuilt) => {
                    if failing {
                        tracing::info!("the database answers again");
                        failing = false;
                    }
                    if rebuilt {
                        tracing::info!(
                            generation = self.generation(),
                            anchors = self.anchor_count(),
                            "trust snapshot rebuilt"
                        );
                        self.report_uncompilable_filters();
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, "cannot read the trust version; keeping the last snapshot");
                        failing = true;
                    }
                }
            }
        }
    }

    /// What `key` grants: `None` for anything that is not a live service account key of a live
    /// project. Answered from the cache when the key was looked up since the last rebuild.
    pub async fn grant(&self, key: &str) -> Result<Option<Arc<Grant>>, Unavailable> {
        let hash = KeyHash::of(key);
        let generation = self.key_generation.load(Ordering::Acquire);
        if let Some(hit) = self.keys.get(&hash.0)
            && hit.generation == generation
        {
            return Ok(hit.grant);
        }
        let grant = match self.service.service_account_key_grant(key).await {
            Ok(grant) if !grant.project_archived => Some(Arc::new(Grant {
                organization_id: grant.organization_id,
                project_id: grant.project_id,
                service_account_id: grant.service_account_id,
                key_id: grant.key_id,
            })),
            Ok(_) | Err(orgcerts_core::Error::InvalidApiKey) => None,
            Err(err) => {
                tracing::warn!(error = %err, "cannot look up a service account key");
                return Err(Unavailable);
            }
        };
        self.keys.insert(
            hash.0,
            CachedKey {
                generation,
                grant: grant.clone(),
            },
        );
        Ok(grant)
    }
}
