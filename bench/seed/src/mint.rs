//! Minting many distinct CA certificates fast: one ECDSA P-256 key pair per thread, reused
//! for every certificate; each certificate gets its own serial number and subject, so its DER
//! and therefore its fingerprint are distinct.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// Certificates handed over at once, to keep channel traffic low.
pub const CHUNK: u64 = 256;

/// A CA anchor valid from a day ago for a year, the way `orgcerts-testkit` mints one.
fn mint(key: &KeyPair, run: u64, serial: u64, now: OffsetDateTime) -> anyhow::Result<String> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(
        DnType::CommonName,
        format!("orgcerts bench CA {run:x}-{serial}"),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(SerialNumber::from(serial + 1));
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    Ok(params.self_signed(key).context("self-signing")?.pem())
}

/// Mints `count` certificates on every core, in chunks of up to [`CHUNK`] PEMs sent to
/// `out` as they are ready (in no particular order). Returns when all are sent or the
/// receiver is gone.
pub fn mint_parallel(
    count: u64,
    out: &tokio::sync::mpsc::Sender<Vec<String>>,
) -> anyhow::Result<()> {
    let threads = thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let next = Arc::new(AtomicU64::new(0));
    // Distinguishes this run's subjects from any other run's.
    let run = u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() & 0xffff_ffff)
        .unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let next = Arc::clone(&next);
                let out = out.clone();
                scope.spawn(move || -> anyhow::Result<()> {
                    let key = KeyPair::generate().context("key generation")?;
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= count {
                            return Ok(());
                        }
                        let end = (start + CHUNK).min(count);
                        let chunk = (start..end)
                            .map(|serial| mint(&key, run, serial, now))
                            .collect::<anyhow::Result<Vec<_>>>()?;
                        if out.blocking_send(chunk).is_err() {
                            return Ok(());
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a minting thread panicked"))??;
        }
        Ok(())
    })
}
