//! `orgcerts_core::anchor::validate`, the upload's PEM and X.509 checks, on hostile input.
//!
//! The first byte picks the form (low nibble) and the clock (high nibble); the rest is:
//! 0: the `certificate` field itself, as UTF-8 text;
//! 1: DER, wrapped in one `CERTIFICATE` block, so that the X.509 parser sees arbitrary bytes;
//! 2: DER, wrapped with CRLF line endings and followed by a second block made of the same bytes.
//!
//! Nothing may panic, and an accepted anchor must be consistent: its canonical PEM is accepted
//! again as the same anchor.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orgcerts_core::anchor::{self, MAX_PEM_BYTES, MIN_REMAINING_VALIDITY_SECS};

const CLOCKS: [i64; 6] = [1_800_000_000, 0, -1, 4_102_444_800, i64::MIN, i64::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let now = CLOCKS[usize::from(mode >> 4) % CLOCKS.len()];
    match mode & 0x0f {
        0 => check(&String::from_utf8_lossy(rest), now),
        1 => check(&pem::encode(&pem::Pem::new("CERTIFICATE", rest)), now),
        _ => {
            let crlf = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::CRLF);
            let first = pem::encode_config(&pem::Pem::new("CERTIFICATE", rest), crlf);
            let second = pem::encode(&pem::Pem::new("CERTIFICATE", rest.to_vec()));
            check(&format!("{first}{second}"), now);
        }
    }
});

fn check(text: &str, now: i64) {
    let Ok(anchor) = anchor::validate(text, now) else {
        return;
    };
    assert!(text.len() <= MAX_PEM_BYTES);
    assert!(anchor.valid_at >= 0, "valid_at is clamped at 0");
    assert!(anchor.expires_at > now.saturating_add(MIN_REMAINING_VALIDITY_SECS));
    let canonical = anchor::canonical_pem(&anchor.der);
    // The canonical form can be longer than the upload (which may have had longer lines).
    if canonical.len() <= MAX_PEM_BYTES {
        let again = anchor::validate(&canonical, now).expect("the canonical PEM is accepted");
        assert_eq!(again, anchor, "the canonical PEM is the same anchor");
    }
}
