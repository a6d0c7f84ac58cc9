//! Newtype ids. Every id is a prefix followed by random base62 characters: unguessable and,
//! with 24 characters (about 143 bits), never reused in practice.

use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;

/// Random base62 text of `len` characters from the OS-seeded thread RNG.
pub fn random_base62(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn is_well_formed(s: &str, prefix: &str, len: usize) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == len && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $len:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_base62($len)))
            }

            /// Accepts `s` only if it has this id's exact form; anything else cannot name a record.
            pub fn parse(s: &str) -> Option<Self> {
                is_well_formed(s, $prefix, $len).then(|| Self(s.to_owned()))
            }

            /// Wraps text read back from storage, where it was written by [`Self::generate`].
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// `cert_` + 24 base62.
    CertificateId, "cert_", 24
);
id_type!(
    /// `proj_` + 24 base62.
    ProjectId, "proj_", 24
);
id_type!(
    /// `org-` + 24 base62, OpenAI's organization id form.
    OrganizationId, "org-", 24
);
id_type!(
    /// `key_` + 24 base62: the public id of an admin key (never the secret).
    AdminKeyId, "key_", 24
);

id_type!(
    /// `svc_acct_` + 24 base62: a project's service account.
    ServiceAccountId, "svc_acct_", 24
);
id_type!(
    /// `key_` + 24 base62: the public id of a service account's API key (a project API key),
    /// never the secret.
    ProjectApiKeyId, "key_", 24
);

id_type!(
    /// `audit_log-` + 24 base62: an audit log entry.
    AuditLogId, "audit_log-", 24
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = CertificateId::generate();
        let b = CertificateId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 5 + 24);
        assert_eq!(CertificateId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "cert_",
            "cert_abc",
            "proj_aaaaaaaaaaaaaaaaaaaaaaaa",
            "cert_aaaaaaaaaaaaaaaaaaaaaaa/",
            "cert_aaaaaaaaaaaaaaaaaaaaaaaaa",
            "cert_aaaaaaaaaaaa' OR 1=1--",
        ] {
            assert_eq!(CertificateId::parse(bad), None, "{bad:?}");
        }
        assert!(OrganizationId::parse(OrganizationId::generate().as_str()).is_some());
    }
}
