//! Storage adapters of orgcerts, one per engine, picked at run time by the database URL.
//!
//! - [`open`] turns a database URL into an `Arc<dyn Store>`;
//! - [`SqliteStore`]: the SQLite adapter (WAL, one writer connection, a pool of readers).
//!
//! Accepted URLs:
//!
//! | URL | database |
//! |---|---|
//! | `sqlite:///var/lib/orgcerts/orgcerts.db` | the file `/var/lib/orgcerts/orgcerts.db` |
//! | `sqlite://data/orgcerts.db`, `sqlite:data/orgcerts.db` | a path relative to the working directory |
//! | `sqlite::memory:` | a throw-away database, deleted when the store is dropped |
//!
//! The path is taken literally (no percent-decoding, no `?query`). A missing parent directory is
//! created (mode 0700 on Unix), and so is a missing database file (mode 0600 on Unix).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use orgcerts_core::Store;

mod sqlite;

pub use sqlite::SqliteStore;

/// Why a database could not be opened. Every message says what to change; none repeats a
/// PostgreSQL URL, which may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported database URL scheme '{scheme}': use sqlite://PATH, sqlite:PATH or sqlite::memory: (postgres:// is not supported yet)"
    )]
    UnsupportedScheme { scheme: String },
    #[error(
        "PostgreSQL support is not built into this version of orgcerts yet; use a sqlite://PATH database URL"
    )]
    PostgresNotSupported,
    #[error("'{url}' is not a database URL; use sqlite://PATH, sqlite:PATH or sqlite::memory:")]
    NotAUrl { url: String },
    #[error("the database URL '{url}' names no file; use sqlite://PATH or sqlite:PATH")]
    EmptyPath { url: String },
    #[error(
        "the database URL '{url}' has a query string, which orgcerts does not support; remove everything from '?' on"
    )]
    QueryNotSupported { url: String },
    #[error("{} is a directory; the database URL must name a file inside it", path.display())]
    IsADirectory { path: PathBuf },
    #[error("cannot create the database directory {}: {source}", path.display())]
    CreateDirectory { path: PathBuf, source: io::Error },
    #[error("cannot create the database file {}: {source}", path.display())]
    CreateFile { path: PathBuf, source: io::Error },
    #[error("cannot create a temporary directory for the in-memory database: {0}")]
    TemporaryDirectory(io::Error),
    #[error(
        "{} is not an SQLite database (or it is encrypted or damaged); point the database URL at another file",
        path.display()
    )]
    NotADatabase { path: PathBuf },
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the database {} could not be switched to WAL journal mode (it reports '{mode}'); put it on a local file system",
        path.display()
    )]
    JournalMode { path: PathBuf, mode: String },
    #[error(
        "the database {} has schema version {found}, newer than the {known} this orgcerts knows; run a newer orgcerts",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("migrating the database {} to the current schema failed: {source}", path.display())]
    Migration {
        path: PathBuf,
        source: rusqlite_migration::Error,
    },
    #[error("cannot start the reader connections of {}: {source}", path.display())]
    Pool { path: PathBuf, source: r2d2::Error },
    #[error("the task opening the database failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    SqliteFile(PathBuf),
    SqliteMemory,
}

fn parse_url(url: &str) -> Result<Target, OpenError> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(OpenError::NotAUrl {
            url: orgcerts_core::echo(url),
        });
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {}
        "postgres" | "postgresql" => return Err(OpenError::PostgresNotSupported),
        _ => {
            return Err(OpenError::UnsupportedScheme {
                scheme: orgcerts_core::echo(scheme),
            });
        }
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.contains('?') {
        return Err(OpenError::QueryNotSupported {
            url: url.to_owned(),
        });
    }
    match path {
        "" => Err(OpenError::EmptyPath {
            url: url.to_owned(),
        }),
        // `sqlite::memory:` and `sqlite://:memory:`; SQLite itself would give every pooled
        // connection its own empty database for this name.
        ":memory:" => Ok(Target::SqliteMemory),
        _ => Ok(Target::SqliteFile(PathBuf::from(path))),
    }
}

/// Opens the database a URL names, creating and migrating it as needed, and returns it as a
/// [`Store`]. See the crate documentation for the accepted URLs.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, OpenError> {
    let store = match parse_url(database_url)? {
        Target::SqliteFile(path) => tokio::task::spawn_blocking(move || SqliteStore::open(&path)),
        Target::SqliteMemory => tokio::task::spawn_blocking(SqliteStore::open_temporary),
    }
    .await??;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_paths() {
        let file = |p: &str| Ok::<_, ()>(Target::SqliteFile(PathBuf::from(p)));
        let parsed = |u: &str| parse_url(u).map_err(|_| ());
        assert_eq!(parsed("sqlite:///var/lib/o.db"), file("/var/lib/o.db"));
        assert_eq!(parsed("sqlite://data/o.db"), file("data/o.db"));
        assert_eq!(parsed("sqlite:o.db"), file("o.db"));
        assert_eq!(parsed("SQLite:/abs/o.db"), file("/abs/o.db"));
        assert_eq!(parsed("sqlite::memory:"), Ok(Target::SqliteMemory));
        assert_eq!(parsed("sqlite://:memory:"), Ok(Target::SqliteMemory));
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
        assert!(matches!(
            parse_url("postgres://u:secret@h/db"),
            Err(OpenError::PostgresNotSupported)
        ));
        assert!(matches!(
            parse_url("postgresql://h/db"),
            Err(OpenError::PostgresNotSupported)
        ));
        let err = parse_url("mysql://u:pw@h/db").unwrap_err();
        assert!(matches!(&err, OpenError::UnsupportedScheme { scheme } if scheme == "mysql"));
        assert!(err.to_string().contains("sqlite://PATH"));
        assert!(!err.to_string().contains("pw"));
        assert!(matches!(
            parse_url("/var/lib/o.db"),
            Err(OpenError::NotAUrl { .. })
        ));
        assert!(matches!(
            parse_url("sqlite://"),
            Err(OpenError::EmptyPath { .. })
        ));
        assert!(matches!(
            parse_url("sqlite:"),
            Err(OpenError::EmptyPath { .. })
        ));
        assert!(matches!(
            parse_url("sqlite://o.db?mode=rwc"),
            Err(OpenError::QueryNotSupported { .. })
        ));
    }
}
