//! Per-request verification of a client certificate chain against the effective anchors.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use orgcerts_core::attribute_filter::{CertificateAttributes, Verdict};
use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use crate::anchor::{Anchor, AnchorFilter};
use crate::snapshot::{EffectiveAnchors, TrustSnapshot};

/// The most certificates a presented chain may hold (leaf included); a longer one is refused as
/// `invalid_certificate` without any path validation.
pub const MAX_CHAIN_CERTIFICATES: usize = 10;
/// The most DER bytes a presented chain may hold in total; a bigger one is refused as
/// `invalid_certificate` without any path validation.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;
/// How long the attribute filters of one request may evaluate, unless the gateway is told
/// otherwise.
pub const DEFAULT_FILTER_DEADLINE: Duration = Duration::from_millis(50);

/// What the gateway does with a request, as far as certificates go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No active anchor applies: no certificate check at all.
    Pass,
    /// The chain verified to an active anchor.
    Verified {
        /// The id of the anchor certificate the path ended in.
        certificate_id: CertificateId,
    },
    /// The request is refused.
    Refused(Refusal),
    /// No decision in time: an attribute filter ran past its deadline (the contract's 503).
    Undecided,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// An active anchor applies and no client certificate was presented.
    CertificateRequired,
    /// The client certificate is unparseable or has no Authority Key Identifier, or the chain is
    /// over the bounds.
    InvalidCertificate,
    /// No path from the client certificate to an active anchor.
    CertificateVerificationFailed,
    /// Paths verified, and the attribute filter of every anchor they ended in refused the
    /// client certificate.
    CertificateAttributeVerificationFailed,
}

/// How a refusal reads on the wire: the error envelope's status, `type`, `code` and `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError {
    /// The HTTP status.
    pub status: u16,
    /// The envelope's `type`.
    pub error_type: &'static str,
    /// The envelope's `code`.
    pub code: &'static str,
    /// The envelope's `message`.
    pub message: &'static str,
}

impl Refusal {
    /// The contract's status, type, code and message for this refusal.
    pub const fn wire(self) -> WireError {
        let (status, code, message) = match self {
            Refusal::CertificateRequired => (
                401,
                "certificate_required",
                "A client certificate is required for this project, and none was presented in the TLS handshake.",
            ),
            Refusal::InvalidCertificate => (
                401,
                "invalid_certificate",
                "The client certificate is invalid: it must be a well-formed X.509 certificate with an Authority Key Identifier, presented in a chain of at most 10 certificates.",
            ),
            Refusal::CertificateVerificationFailed => (
                401,
                "certificate_verification_failed",
                "The client certificate does not chain to a certificate that is active for this project or its organization.",
            ),
            Refusal::CertificateAttributeVerificationFailed => (
                403,
                "certificate_attribute_verification_failed",
                "The client certificate chains to an active certificate, but its attributes do not satisfy that certificate's attribute filter.",
            ),
        };
        WireError {
            status,
            error_type: "invalid_request_error",
            code,
            message,
        }
    }
}

/// A decision with the last second (Unix) it holds for; what the cache keeps.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    pub decision: Decision,
    pub valid_until: i64,
}

/// Whether `chain` is over [`MAX_CHAIN_CERTIFICATES`] or [`MAX_CHAIN_BYTES`].
pub(crate) fn over_bounds(chain: &[CertificateDer<'_>]) -> bool {
    chain.len() > MAX_CHAIN_CERTIFICATES
        || chain.iter().map(|cert| cert.len()).sum::<usize>() > MAX_CHAIN_BYTES
}

/// Judges a request of `project` in `organization` that presented `chain` (leaf first, then the
/// intermediates, as in the TLS handshake) at `now` (Unix seconds).
///
/// Order: no effective anchor passes; then no certificate is `certificate_required`; a chain over
/// the bounds, an unparseable leaf or one without an Authority Key Identifier is
/// `invalid_certificate`; then rustls-webpki validates the leaf for client authentication against
/// the anchors not past their `expires_at`, directly, then through the presented intermediates.
pub fn verify(
    snapshot: &TrustSnapshot,
    organization: &OrganizationId,
    project: &ProjectId,
    chain: &[CertificateDer<'_>],
    now: i64,
) -> Decision {
    judge(
        snapshot.effective_anchors(organization, project),
        chain,
        now,
        DEFAULT_FILTER_DEADLINE,
    )
    .decision
}

const FOREVER: i64 = i64::MAX;

fn refused(refusal: Refusal, valid_until: i64) -> Judged {
    Judged {
        decision: Decision::Refused(refusal),
        valid_until,
    }
}

pub(crate) fn judge(
    anchors: EffectiveAnchors<'_>,
    chain: &[CertificateDer<'_>],
    now: i64,
    filter_deadline: Duration,
) -> Judged {
    if anchors.is_empty() {
        return Judged {
            decision: Decision::Pass,
            valid_until: FOREVER,
        };
    }
    let Some((leaf, intermediates)) = chain.split_first() else {
        return refused(Refusal::CertificateRequired, FOREVER);
    };
    if over_bounds(chain) || !has_key_identifier_aki(leaf) {
        return refused(Refusal::InvalidCertificate, FOREVER);
    }
    let Ok(end_entity) = EndEntityCert::try_from(leaf) else {
        return refused(Refusal::InvalidCertificate, FOREVER);
    };

    // Only anchors that can match now take part; `sources[i]` is where `trust_anchors[i]` came from.
    let (mut sources, mut trust_anchors): (Vec<&Anchor>, Vec<TrustAnchor<'_>>) = anchors
        .iter()
        .filter_map(|anchor| anchor.matchable_at(now).map(|trusted| (anchor, trusted)))
        .unzip();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    let mut filters = Filters::new(leaf, filter_deadline);
    loop {
        // OpenAI's order: the leaf directly against the anchors, then through the intermediates.
        let ended_in = match path_to(&end_entity, &sources, &trust_anchors, &[], time) {
            Some(ended_in) => ended_in,
            None if intermediates.is_empty() => break,
            None => match path_to(&end_entity, &sources, &trust_anchors, intermediates, time) {
                Some(ended_in) => ended_in,
                None => break,
            },
        };
        // The same CA active twice (two uploads, or at both scopes) names the first of them
        // whose filter accepts the certificate.
        if let Some(anchor) = ended_in
            .iter()
            .map(|&i| sources[i])
            .find(|a| filters.accept(a))
        {
            return Judged {
                decision: Decision::Verified {
                    certificate_id: anchor.certificate_id().clone(),
                },
                // The path holds until the first of the presented certificates or the anchor
                // expires.
                valid_until: not_after(&validities(chain)).min(anchor.expires_at()),
            };
        }
        // Each anchor the path ended in refused it: another path may end in another anchor.
        for &i in ended_in.iter().rev() {
            sources.remove(i);
            trust_anchors.remove(i);
        }
    }
    match filters.outcome {
        // Not judged: judged again shortly, not for as long as a decision would hold.
        FilterOutcome::TimedOut => Judged {
            decision: Decision::Undecided,
            valid_until: now.saturating_add(1),
        },
        FilterOutcome::Refused => {
            let validities = validities(chain);
            refused(
                Refusal::CertificateAttributeVerificationFailed,
                refusal_holds_until(&validities, now).min(not_after(&validities)),
            )
        }
        FilterOutcome::None => refused(
            Refusal::CertificateVerificationFailed,
            refusal_holds_until(&validities(chain), now),
        ),
    }
}

/// The indices of the anchors a verified path from `end_entity` (through `presented`) ends in.
fn path_to(
    end_entity: &EndEntityCert<'_>,
    sources: &[&Anchor],
    trust_anchors: &[TrustAnchor<'_>],
    presented: &[CertificateDer<'_>],
    time: UnixTime,
) -> Option<Vec<usize>> {
    let path = end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            trust_anchors,
            presented,
            time,
            KeyUsage::client_auth(),
            None,
            None,
        )
        .ok()?;
    let ended_in: Vec<usize> = (0..sources.len())
        .filter(|&i| sources[i].is(path.anchor()))
        .collect();
    (!ended_in.is_empty()).then_some(ended_in)
}

/// notBefore and notAfter of each presented certificate that parses, Unix seconds.
fn validities(chain: &[CertificateDer<'_>]) -> Vec<(i64, i64)> {
    chain.iter().filter_map(validity).collect()
}

/// The earliest notAfter of the presented certificates.
fn not_after(validities: &[(i64, i64)]) -> i64 {
    validities
        .iter()
        .map(|(_, not_after)| *not_after)
        .fold(FOREVER, i64::min)
}

/// How long a refusal holds: a refusal can only turn into a path when a presented certificate
/// becomes valid, so until the second before the first notBefore still ahead of `now`.
fn refusal_holds_until(validities: &[(i64, i64)], now: i64) -> i64 {
    validities
        .iter()
        .map(|(not_before, _)| *not_before)
        .filter(|not_before| *not_before > now)
        .map(|not_before| not_before - 1)
        .fold(FOREVER, i64::min)
}

/// What the attribute filters made of the leaf so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterOutcome {
    /// No filter refused the leaf.
    None,
    /// A filter refused it.
    Refused,
    /// A filter ran out of time (and none accepted).
    TimedOut,
}

/// The attribute filters' judgement of one leaf: its attributes read once, one deadline for all
/// the filters of the request.
struct Filters<'c> {
    leaf: &'c CertificateDer<'c>,
    /// Read when a filter first needs them; `None` inside when the leaf does not parse.
    attributes: OnceCell<Option<CertificateAttributes>>,
    budget: Duration,
    deadline: Option<Instant>,
    outcome: FilterOutcome,
}

impl<'c> Filters<'c> {
    fn new(leaf: &'c CertificateDer<'c>, budget: Duration) -> Self {
        Self {
            leaf,
            attributes: OnceCell::new(),
            budget,
            deadline: None,
            outcome: FilterOutcome::None,
        }
    }

    /// Whether `anchor`'s filter (none accepts everything) accepts the leaf.
    fn accept(&mut self, anchor: &Anchor) -> bool {
        let filter = match anchor.filter() {
            None => return true,
            Some(AnchorFilter::Compiled(filter)) => filter,
            Some(AnchorFilter::Uncompilable) => {
                self.refused(Verdict::Refused);
                return false;
            }
        };
        let leaf = self.leaf;
        let Some(attributes) = self
            .attributes
            .get_or_init(|| CertificateAttributes::from_der(leaf))
        else {
            self.refused(Verdict::Refused);
            return false;
        };
        let deadline = *self
            .deadline
            .get_or_insert_with(|| Instant::now() + self.budget);
        match filter.evaluate(attributes, deadline) {
            Verdict::Accepted => true,
            verdict => {
                self.refused(verdict);
                false
            }
        }
    }

    fn refused(&mut self, verdict: Verdict) {
        self.outcome = match (self.outcome, verdict) {
            (FilterOutcome::TimedOut, _) | (_, Verdict::DeadlineExceeded) => {
                FilterOutcome::TimedOut
            }
            _ => FilterOutcome::Refused,
        };
    }
}

/// notBefore and notAfter of `cert`, Unix seconds, when it parses.
fn validity(cert: &CertificateDer<'_>) -> Option<(i64, i64)> {
    let (_, parsed) = X509Certificate::from_der(cert).ok()?;
    let validity = parsed.validity();
    Some((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}

/// Whether `leaf` is one well-formed X.509 certificate with an Authority Key Identifier in
/// keyIdentifier form (OpenAI's client certificate requirement).
fn has_key_identifier_aki(leaf: &CertificateDer<'_>) -> bool {
    let Ok((rest, parsed)) = X509Certificate::from_der(leaf) else {
        return false;
    };
    rest.is_empty()
        && parsed.iter_extensions().any(|extension| {
            matches!(
                extension.parsed_extension(),
                ParsedExtension::AuthorityKeyIdentifier(aki) if aki.key_identifier.is_some()
            )
        })
}
