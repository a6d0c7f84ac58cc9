//! What attribute filters cost the gateway, measured side by side in one process.
//!
//! At start it mints, with rcgen (ECDSA P-256), a CA and a client certificate it signed
//! (clientAuth, an Authority Key Identifier, all eight subject fields a filter can read, and
//! four subject alternative names: DNS, email, IP address, URI). Then, each as the median of
//! `--rounds` rounds (the operations alternate within a round), it times:
//!
//! - `verify` against a snapshot of that CA as the organization's one anchor, without a filter
//!   and with the filter [`EXAMPLE_FILTER`]: what a decision-cache miss costs (`verify` has no
//!   cache, so every call is one);
//! - `AttributeFilter::evaluate` of that filter alone and of [`SUBJECT_FILTER`] (all eight
//!   subject fields), given the parsed attributes; `CertificateAttributes::from_der` alone;
//!   `AttributeFilter::compile` of the example filter. Each round runs each operation for about
//!   `--round-ms` milliseconds (the iterations are calibrated once, in a warm-up), in ten
//!   slices, the operations taking turns;
//! - building a trust snapshot of `--anchors` anchors (10 per organization), each with a
//!   filter text of its own: `TrustSnapshot::build` (every filter compiled), `build_after` the
//!   previous snapshot with the same records (every filter reused), and `build` of as many
//!   anchors without filters. One build of each per round.
//!
//! Prints one JSON object: nanoseconds per operation (median, and every round's figure),
//! iteration counts, and the ratios.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use orgcerts_core::attribute_filter::{AttributeFilter, CertificateAttributes, Verdict};
use orgcerts_core::ids::{CertificateId, OrganizationId, ProjectId};
use orgcerts_core::model::Scope;
use orgcerts_gateway::{ActiveAnchor, Decision, TrustSnapshot, verify};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use serde_json::json;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The filter of the measured anchor: the contract's example.
const EXAMPLE_FILTER: &str =
    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;

/// A filter reading every subject field, each equal to the client certificate's.
const SUBJECT_FILTER: &str = "subject.common_name == 'billing-service' \
     && subject.organization == 'Acme Corp' \
     && subject.organizational_unit == 'Payments' \
     && subject.country_code == 'US' \
     && subject.locality == 'San Francisco' \
     && subject.province == 'California' \
     && subject.street_address == '1 Market Street' \
     && subject.postal_code == '94105'";

/// How many turns the operations take within a round.
const SLICES: u64 = 10;

/// Anchors per organization in the snapshot builds.
const ANCHORS_PER_ORGANIZATION: usize = 10;

/// The CA's and the client certificate's DER.
struct Pki {
    ca: Vec<u8>,
    leaf: Vec<u8>,
}

fn mint() -> anyhow::Result<Pki> {
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().context("CA key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "orgcerts bench filter CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(365);
    let ca_der = ca
        .self_signed(&ca_key)
        .context("self-signing")?
        .der()
        .to_vec();
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().context("client key")?;
    let mut leaf = CertificateParams::default();
    let name = &mut leaf.distinguished_name;
    name.push(DnType::CommonName, "billing-service");
    name.push(DnType::OrganizationName, "Acme Corp");
    name.push(DnType::OrganizationalUnitName, "Payments");
    name.push(DnType::CountryName, "US");
    name.push(DnType::LocalityName, "San Francisco");
    name.push(DnType::StateOrProvinceName, "California");
    name.push(DnType::CustomDnType(vec![2, 5, 4, 9]), "1 Market Street");
    name.push(DnType::CustomDnType(vec![2, 5, 4, 17]), "94105");
    leaf.subject_alt_names = vec![
        SanType::DnsName("api.example.com".try_into()?),
        SanType::Rfc822Name("billing@example.com".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
        SanType::URI("spiffe://example.com/billing".try_into()?),
    ];
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(90);
    let leaf_der = leaf
        .signed_by(&key, &issuer)
        .context("signing")?
        .der()
        .to_vec();
    Ok(Pki {
        ca: ca_der,
        leaf: leaf_der,
    })
}

/// The records of a snapshot of `anchors` anchors of `ca`, 10 per organization, each with a
/// filter text of its own (the example's, for a domain of its own) when `filters` is set.
fn records(ca: &[u8], anchors: usize, filters: bool, expires_at: i64) -> Vec<ActiveAnchor> {
    let mut out = Vec::with_capacity(anchors);
    let mut organization = OrganizationId::generate();
    for i in 0..anchors {
        if i > 0 && i % ANCHORS_PER_ORGANIZATION == 0 {
            organization = OrganizationId::generate();
        }
        out.push(ActiveAnchor {
            certificate_id: CertificateId::generate(),
            organization_id: organization.clone(),
            scope: Scope::Organization,
            der: ca.to_vec(),
            expires_at,
            attribute_filter: filters.then(|| {
                format!(
                    r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".tenant{i}.example.com"))"#
                )
            }),
        });
    }
    out
}

/// Runs `op` `iterations` times; the time it took.
fn time(op: &mut dyn FnMut(), iterations: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        op();
    }
    started.elapsed()
}

/// How many iterations of `op` take about `target`: doubling until a batch takes a quarter of
/// it (a warm-up as well), then scaled.
fn calibrate(op: &mut dyn FnMut(), target: Duration) -> u64 {
    let mut n = 1_u64;
    loop {
        let took = time(op, n);
        if took >= target / 4 || n >= 1 << 30 {
            let per = took.as_secs_f64() / per_count(n);
            // Bounded by the doubling above.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return ((target.as_secs_f64() / per).ceil() as u64).max(1);
        }
        n *= 2;
    }
}

/// `n` as a divisor; exact below 2^52.
#[allow(clippy::cast_precision_loss)]
fn per_count(n: u64) -> f64 {
    n as f64
}

fn ns_per(took: Duration, n: u64) -> f64 {
    took.as_secs_f64() * 1e9 / per_count(n)
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One timed operation: its name, iterations per round, and every round's ns per operation.
struct Measured<'a> {
    name: &'static str,
    op: Box<dyn FnMut() + 'a>,
    iterations: u64,
    rounds: Vec<f64>,
}

impl<'a> Measured<'a> {
    fn new(name: &'static str, op: impl FnMut() + 'a) -> Self {
        Self {
            name,
            op: Box::new(op),
            iterations: 0,
            rounds: Vec::new(),
        }
    }
}

#[allow(clippy::too_many_lines)]
fn main() -> anyhow::Result<()> {
    let mut anchors = 10_000_usize;
    let mut rounds = 7_usize;
    let mut round_ms = 200_u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--anchors" => anchors = value.parse()?,
            "--rounds" => rounds = value.parse()?,
            "--round-ms" => round_ms = value.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if anchors == 0 || rounds == 0 || round_ms == 0 {
        bail!("--anchors, --rounds and --round-ms must be at least 1");
    }
    let round_time = Duration::from_millis(round_ms);

    let pki = mint()?;
    let now = orgcerts_core::unix_now();
    let expires_at = now + 365 * 24 * 60 * 60;
    let organization = OrganizationId::generate();
    let project = ProjectId::generate();
    let anchor = |filter: Option<&str>| ActiveAnchor {
        certificate_id: CertificateId::generate(),
        organization_id: organization.clone(),
        scope: Scope::Organization,
        der: pki.ca.clone(),
        expires_at,
        attribute_filter: filter.map(str::to_owned),
    };
    let plain = TrustSnapshot::build(1, [anchor(None)]);
    let filtered = TrustSnapshot::build(1, [anchor(Some(EXAMPLE_FILTER))]);
    let chain = [CertificateDer::from(pki.leaf.as_slice())];
    let example = AttributeFilter::compile(EXAMPLE_FILTER)?;
    let subject = AttributeFilter::compile(SUBJECT_FILTER)?;
    let attributes = CertificateAttributes::from_der(&pki.leaf)
        .context("the client certificate's attributes")?;
    let deadline = Instant::now() + Duration::from_hours(1);

    // Every measured call must take the path it is meant to.
    for (snapshot, what) in [(&plain, "without"), (&filtered, "with")] {
        let decision = verify(snapshot, &organization, &project, &chain, now);
        ensure!(
            matches!(decision, Decision::Verified { .. }),
            "verify {what} the filter: {decision:?}"
        );
    }
    for (filter, what) in [(&example, "example"), (&subject, "subject")] {
        let verdict = filter.evaluate(&attributes, deadline);
        ensure!(
            verdict == Verdict::Accepted,
            "the {what} filter: {verdict:?}"
        );
    }

    let mut ops = vec![
        Measured::new("verify_without_filter", || {
            black_box(verify(
                black_box(&plain),
                &organization,
                &project,
                black_box(&chain),
                now,
            ));
        }),
        Measured::new("verify_with_filter", || {
            black_box(verify(
                black_box(&filtered),
                &organization,
                &project,
                black_box(&chain),
                now,
            ));
        }),
        Measured::new("evaluate_example", || {
            black_box(black_box(&example).evaluate(black_box(&attributes), deadline));
        }),
        Measured::new("evaluate_subject", || {
            black_box(black_box(&subject).evaluate(black_box(&attributes), deadline));
        }),
        Measured::new("attributes_from_der", || {
            black_box(CertificateAttributes::from_der(black_box(&pki.leaf)));
        }),
        Measured::new("compile_example", || {
            black_box(AttributeFilter::compile(black_box(EXAMPLE_FILTER)).ok());
        }),
    ];
    for measured in &mut ops {
        measured.iterations = calibrate(&mut measured.op, round_time).max(SLICES);
    }
    for _ in 0..rounds {
        // Each operation's iterations in slices, the operations taking turns: a burst of work
        // elsewhere on the machine falls on all of them rather than on one.
        let mut took = vec![Duration::ZERO; ops.len()];
        for slice in 0..SLICES {
            for (measured, took) in ops.iter_mut().zip(&mut took) {
                let share = measured.iterations * (slice + 1) / SLICES
                    - measured.iterations * slice / SLICES;
                *took += time(&mut measured.op, share);
            }
        }
        for (measured, took) in ops.iter_mut().zip(took) {
            measured.rounds.push(ns_per(took, measured.iterations));
        }
    }

    // Snapshots: one build of each kind per round, after one warm-up round.
    let with_filters = records(&pki.ca, anchors, true, expires_at);
    let without_filters = records(&pki.ca, anchors, false, expires_at);
    let (mut build, mut build_after, mut build_plain) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let input = with_filters.clone();
        let started = Instant::now();
        let compiled = TrustSnapshot::build(1, input);
        let compiling = started.elapsed();

        let input = with_filters.clone();
        let started = Instant::now();
        let reused = TrustSnapshot::build_after(Some(&compiled), 2, input);
        let reusing = started.elapsed();

        let input = without_filters.clone();
        let started = Instant::now();
        let unfiltered = TrustSnapshot::build(1, input);
        let no_filters = started.elapsed();

        for (snapshot, what) in [(&compiled, "build"), (&reused, "build_after")] {
            ensure!(
                snapshot.anchors().count() == anchors
                    && snapshot.anchors().all(|anchor| anchor.filter().is_some())
                    && snapshot.uncompilable_filters().count() == 0,
                "{what}: not {anchors} anchors with compiled filters"
            );
        }
        ensure!(
            unfiltered.anchors().count() == anchors
                && unfiltered.anchors().all(|anchor| anchor.filter().is_none()),
            "build without filters: not {anchors} anchors without filters"
        );
        let count = u64::try_from(anchors)?;
        if round > 0 {
            build.push(ns_per(compiling, count));
            build_after.push(ns_per(reusing, count));
            build_plain.push(ns_per(no_filters, count));
        }
        drop(black_box((compiled, reused, unfiltered)));
    }

    let figure = |name: &str| {
        ops.iter()
            .find(|m| m.name == name)
            .map_or(f64::NAN, |m| median(&m.rounds))
    };
    let per_anchor = |values: &[f64]| median(values);
    let ns_per_operation: serde_json::Map<String, serde_json::Value> = ops
        .iter()
        .map(|m| (m.name.to_owned(), json!(median(&m.rounds))))
        .collect();
    let iterations: serde_json::Map<String, serde_json::Value> = ops
        .iter()
        .map(|m| (m.name.to_owned(), json!(m.iterations)))
        .collect();
    let rounds_ns: serde_json::Map<String, serde_json::Value> = ops
        .iter()
        .map(|m| (m.name.to_owned(), json!(m.rounds)))
        .chain([
            ("build".to_owned(), json!(build)),
            ("build_after".to_owned(), json!(build_after)),
            ("build_without_filters".to_owned(), json!(build_plain)),
        ])
        .collect();
    let (b, a, p) = (
        per_anchor(&build),
        per_anchor(&build_after),
        per_anchor(&build_plain),
    );
    let report = json!({
        "rounds": rounds,
        "round_ms": round_ms,
        "anchors": anchors,
        "anchors_per_organization": ANCHORS_PER_ORGANIZATION,
        "example_filter": EXAMPLE_FILTER,
        "subject_filter": SUBJECT_FILTER,
        "ns_per_operation": ns_per_operation,
        "iterations": iterations,
        "snapshot_ns_per_anchor": {
            "build": b,
            "build_after": a,
            "build_without_filters": p,
        },
        "rounds_ns": rounds_ns,
        "ratios": {
            "verify_with_filter_over_without": figure("verify_with_filter") / figure("verify_without_filter"),
            "build_after_over_build": a / b,
            "build_over_build_without_filters": b / p,
            "build_after_over_build_without_filters": a / p,
        },
    });
    println!("{report}");
    Ok(())
}
