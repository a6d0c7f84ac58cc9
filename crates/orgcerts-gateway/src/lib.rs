//! The mTLS gateway's verification library: which certificates are trusted for a request, and
//! whether the client certificate presented for it chains to one of them.
//!
//! Nothing here knows about HTTP or TLS sockets. The gateway calls [`Verifier::verify`] once per
//! request (never once per connection) with the organization and project its key names and the
//! certificate chain of the TLS handshake, and maps a [`Refusal`] to its answer with
//! [`Refusal::wire`].
//!
//! - [`TrustSnapshot`]: an immutable view of every active anchor, built off the hot path and
//!   numbered by a generation.
//! - [`Trust`]: the current snapshot behind an `ArcSwap`; a failed rebuild keeps the last good one.
//! - [`verify`]: path validation with rustls-webpki, direct first, then through the presented
//!   intermediates; then the attribute filter of the anchor the path ended in, compiled into the
//!   snapshot ([`AnchorFilter`]) and evaluated against a deadline.
//! - [`DecisionCache`]: decisions by (chain, organization, project, generation), so the common case
//!   is a hash lookup.

mod anchor;
mod cache;
mod snapshot;
mod verify;

pub use anchor::{Anchor, AnchorFilter};
pub use cache::{DecisionCache, Verifier};
pub use orgcerts_core::model::ActiveAnchor;
pub use snapshot::{EffectiveAnchors, Trust, TrustSnapshot};
pub use verify::{
    DEFAULT_FILTER_DEADLINE, Decision, MAX_CHAIN_BYTES, MAX_CHAIN_CERTIFICATES, Refusal, WireError,
    verify,
};
