//! Admin keys (`sk-admin-` + 48 base62 characters) and service account keys (`sk-svcacct-` + 64
//! base62 characters), shown once and stored only as a SHA-256 hash.
//!
//! A plain SHA-256 is the right hash here: the keys carry about 285 bits of randomness, so there
//! is nothing for a slow password hash to protect, and lookups stay one index probe.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::random_base62;

/// The prefix of every admin key.
pub const ADMIN_KEY_PREFIX: &str = "sk-admin-";
const ADMIN_KEY_RANDOM_LEN: usize = 48;

/// The SHA-256 of an admin key's full text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn of(key: &str) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }

    /// Compares in constant time, so that timing does not tell how much of a hash matched.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// A fresh admin key.
pub fn generate_admin_key() -> String {
    format!("{ADMIN_KEY_PREFIX}{}", random_base62(ADMIN_KEY_RANDOM_LEN))
}

/// Whether `key` has the exact form of an admin key.
pub fn is_well_formed_admin_key(key: &str) -> bool {
    key.strip_prefix(ADMIN_KEY_PREFIX).is_some_and(|rest| {
        rest.len() == ADMIN_KEY_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The form shown in listings: the prefix and the last four characters, never the secret.
pub fn redact(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{ADMIN_KEY_PREFIX}****{tail}")
}

/// The prefix of every service account key.
pub const SERVICE_ACCOUNT_KEY_PREFIX: &str = "sk-svcacct-";
const SERVICE_ACCOUNT_KEY_RANDOM_LEN: usize = 64;

/// A fresh service account key: `sk-svcacct-` + 64 base62 characters.
pub fn generate_service_account_key() -> String {
    format!(
        "{SERVICE_ACCOUNT_KEY_PREFIX}{}",
        random_base62(SERVICE_ACCOUNT_KEY_RANDOM_LEN)
    )
}

/// Whether `key` has the exact form of a service account key.
pub fn is_well_formed_service_account_key(key: &str) -> bool {
    key.strip_prefix(SERVICE_ACCOUNT_KEY_PREFIX)
        .is_some_and(|rest| {
            rest.len() == SERVICE_ACCOUNT_KEY_RANDOM_LEN
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// A service account key as listed: the prefix, the first two and the last four characters of
/// the secret part (`sk-svcacct-Ab...wxyz`), never enough to use it.
pub fn redact_service_account_key(key: &str) -> String {
    let secret = key.strip_prefix(SERVICE_ACCOUNT_KEY_PREFIX).unwrap_or(key);
    let head: String = secret.chars().take(2).collect();
    let tail: Vec<char> = secret.chars().rev().take(4).collect();
    let tail: String = tail.into_iter().rev().collect();
    format!("{SERVICE_ACCOUNT_KEY_PREFIX}{head}...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_hash_apart() {
        let a = generate_admin_key();
        let b = generate_admin_key();
        assert!(is_well_formed_admin_key(&a));
        assert!(!KeyHash::of(&a).matches(&KeyHash::of(&b)));
        assert!(KeyHash::of(&a).matches(&KeyHash::of(&a)));
        assert_eq!(redact(&a).len(), ADMIN_KEY_PREFIX.len() + 8);
        assert!(redact(&a).ends_with(&a[a.len() - 4..]));
    }

    #[test]
    fn service_account_keys_are_well_formed_and_redacted() {
        let key = generate_service_account_key();
        assert!(is_well_formed_service_account_key(&key));
        assert!(!is_well_formed_admin_key(&key));
        assert!(!is_well_formed_service_account_key(&generate_admin_key()));
        assert!(!is_well_formed_service_account_key(&format!("{key}x")));
        let redacted = redact_service_account_key(&key);
        assert_eq!(redacted.len(), SERVICE_ACCOUNT_KEY_PREFIX.len() + 2 + 3 + 4);
        assert!(redacted.starts_with(&key[..SERVICE_ACCOUNT_KEY_PREFIX.len() + 2]));
        assert!(redacted.ends_with(&key[key.len() - 4..]));
    }

    #[test]
    fn malformed_keys_are_recognised() {
        let good = generate_admin_key();
        for bad in [
            String::new(),
            "sk-admin-".into(),
            format!(" {good}"),
            format!("{good} "),
            good.replace("sk-admin-", "sk-proj-"),
            format!("{good}x"),
        ] {
            assert!(!is_well_formed_admin_key(&bad), "{bad:?}");
        }
    }
}
