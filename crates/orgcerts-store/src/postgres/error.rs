//! How PostgreSQL failures become domain errors, and which of them are worth another attempt.

use std::time::Duration;

use orgcerts_core::{Error, StorageError};

/// What one attempt of an operation can end with: a domain refusal (final), or an engine
/// failure that [`classify`] turns into a domain error unless it is retried first.
#[derive(Debug)]
pub(super) enum Failure {
    Domain(Error),
    Sql(sqlx::Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self::Domain(err)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        Self::Sql(err)
    }
}

impl Failure {
    pub(super) fn into_error(self) -> Error {
        match self {
            Self::Domain(err) => err,
            Self::Sql(err) => classify(err),
        }
    }
}

/// One attempt's result.
pub(super) type Attempt<T> = std::result::Result<T, Failure>;

/// The name of the partial unique index on live fingerprints (migrations/postgres).
pub(super) const LIVE_FINGERPRINT_INDEX: &str = "certificates_live_fingerprint";

/// The SQLSTATE of a database error, if `err` is one.
fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(std::borrow::Cow::into_owned),
        _ => None,
    }
}

/// Whether the whole transaction should simply run again: a serialization failure or a
/// deadlock (the engine rolled it back and says so), or a concurrent insert of the same live
/// fingerprint (the next attempt's duplicate check names the certificate that won).
pub(super) fn is_retryable(err: &sqlx::Error) -> bool {
    if let sqlx::Error::Database(db) = err
        && db.constraint() == Some(LIVE_FINGERPRINT_INDEX)
    {
        return true;
    }
    matches!(sqlstate(err).as_deref(), Some("40001" | "40P01"))
}

/// Attempts of one operation before a retryable failure is reported.
pub(super) const MAX_ATTEMPTS: u32 = 6;

/// The pause before attempt `attempt` (1-based, after a failed one): 5, 10, 20, 40, 80 ms,
/// plus up to as much again at random so that colliding transactions drift apart.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 5u64 << attempt.min(5).saturating_sub(1);
    Duration::from_millis(base + rand::random_range(0..base))
}

/// Whether `err` means the database cannot be used right now (as opposed to a bug or a
/// refused statement): the server answers 503 and recovers by itself once it is back.
pub(super) fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(_) => sqlstate(err).is_some_and(|code| {
            // Class 08: connection exceptions. 53300: too many connections. 57P01-57P03:
            // shutting down or starting up. 57014: statement_timeout. 25006: read-only
            // transaction (a fail-over left the connection on a standby). 40001/40P01:
            // contention that outlasted the retries.
            code.starts_with("08")
                || matches!(
                    code.as_str(),
                    "53300" | "57P01" | "57P02" | "57P03" | "57014" | "25006" | "40001" | "40P01"
                )
        }),
        _ => false,
    }
}

/// The domain error for an engine failure.
pub(super) fn classify(err: sqlx::Error) -> Error {
    if is_unavailable(&err) {
        Error::StorageUnavailable(StorageError::new(err))
    } else {
        Error::Storage(StorageError::new(err))
    }
}

/// The operation did not finish within its deadline (a database that stopped answering).
pub(super) fn timed_out(limit: Duration) -> Error {
    Error::StorageUnavailable(StorageError::new(format!(
        "the database did not answer within {} ms",
        limit.as_millis()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_others_are_not() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(classify(refused), Error::StorageUnavailable(_)));
        assert!(matches!(
            classify(sqlx::Error::PoolTimedOut),
            Error::StorageUnavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::PoolClosed),
            Error::StorageUnavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::RowNotFound),
            Error::Storage(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::Protocol("garbled".into())),
            Error::Storage(_)
        ));
        assert!(!is_retryable(&sqlx::Error::PoolTimedOut));
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..=MAX_ATTEMPTS {
            let pause = backoff(attempt);
            let base = 5u64 << (attempt.min(5) - 1);
            assert!(pause >= Duration::from_millis(base), "{attempt}: {pause:?}");
            assert!(
                pause < Duration::from_millis(2 * base),
                "{attempt}: {pause:?}"
            );
        }
    }
}
