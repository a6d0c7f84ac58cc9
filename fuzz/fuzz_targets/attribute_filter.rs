//! `orgcerts_core::attribute_filter` on hostile expressions: the input, as UTF-8 (invalid
//! sequences replaced), is compiled as an attribute filter; one that compiles is evaluated
//! against the attributes of a client certificate with every kind of subject field and subject
//! alternative name, and against empty attributes, each with a deadline a few milliseconds away.
//!
//! Nothing may panic; a filter that compiles is within the length bound and keeps its source,
//! and its evaluation returns by the deadline plus [`GRACE`] (the deadline is checked in every
//! comprehension's loop, so no filter may run away).
//!
//! The certificate is `fuzz/fixtures/client.der`, made with
//! `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -outform DER -days 36500`
//! and a subject with all eight fields the contract names, plus DNS, email, IP (v4 and v6), URI
//! and otherName (UPN) subject alternative names.

#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use orgcerts_core::attribute_filter::{
    AttributeFilter, CertificateAttributes, MAX_ATTRIBUTE_FILTER_BYTES,
};

/// How long one evaluation may run before the filter's deadline checks stop it.
const DEADLINE: Duration = Duration::from_millis(5);
/// How long past its deadline an evaluation may still take to return: the work between two
/// deadline checks, generous for a sanitized build on a busy machine.
const GRACE: Duration = Duration::from_secs(1);

static CLIENT: LazyLock<CertificateAttributes> = LazyLock::new(|| {
    CertificateAttributes::from_der(include_bytes!("../fixtures/client.der"))
        .expect("fuzz/fixtures/client.der is a certificate")
});

static EMPTY: LazyLock<CertificateAttributes> = LazyLock::new(CertificateAttributes::default);

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let Ok(filter) = AttributeFilter::compile(&source) else {
        return;
    };
    assert!(source.len() <= MAX_ATTRIBUTE_FILTER_BYTES);
    assert_eq!(filter.source(), source);
    for attributes in [&*CLIENT, &*EMPTY] {
        let deadline = Instant::now() + DEADLINE;
        let verdict = filter.evaluate(attributes, deadline);
        let late = Instant::now().saturating_duration_since(deadline);
        assert!(
            late <= GRACE,
            "{verdict:?} returned {late:?} after the deadline for {source:?}"
        );
    }
});
