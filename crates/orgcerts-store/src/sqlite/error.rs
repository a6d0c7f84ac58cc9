//! How SQLite failures become domain errors.

use orgcerts_core::{Error, Result, StorageError};
use rusqlite::ErrorCode;

/// Wraps an engine failure; never a client's mistake.
pub(super) fn storage(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Storage(StorageError::new(err))
}

/// Whether `err` is SQLite's "database is locked": another connection (the operator's command
/// line, another process on the file) held a lock past the busy timeout. It clears by itself.
fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// An engine failure, with what was being done: `StorageUnavailable` (a 503, like
/// PostgreSQL's) for a lock held elsewhere past the busy timeout, a storage failure otherwise.
pub(super) fn sql_error(err: &rusqlite::Error, doing: &str) -> Error {
    let why = format!("{doing}: {err}");
    if is_busy(err) {
        Error::StorageUnavailable(StorageError::new(why))
    } else {
        storage(why)
    }
}

/// `.sql()?` turns a rusqlite result into a domain error: `StorageUnavailable` for a lock
/// held elsewhere past the busy timeout, a storage failure otherwise.
pub(super) trait SqlResult<T> {
    fn sql(self) -> Result<T>;
}

impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T> {
        self.map_err(|err| {
            if is_busy(&err) {
                Error::StorageUnavailable(StorageError::new(err))
            } else {
                storage(err)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn a_lock_held_elsewhere_is_unavailable_and_other_failures_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let locked = other.execute_batch("BEGIN IMMEDIATE");
        assert!(matches!(locked.sql(), Err(Error::StorageUnavailable(_))));
        let err = other.execute_batch("BEGIN IMMEDIATE").unwrap_err();
        assert!(matches!(
            sql_error(&err, "starting"),
            Error::StorageUnavailable(_)
        ));
        let broken = other.execute_batch("SELECT * FROM no_such_table");
        assert!(matches!(broken.sql(), Err(Error::Storage(_))));
    }
}
