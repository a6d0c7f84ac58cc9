//! Storage adapters of orgcerts, one per engine, picked at run time by the database URL.
//!
//! - [`open`] / [`open_with`] turn a database URL into an `Arc<dyn Store>`;
//! - [`SqliteStore`]: the SQLite adapter (WAL, one writer connection, a pool of readers);
//! - [`PostgresStore`]: the PostgreSQL adapter, for several instances on one database (a pool
//!   of connections; every rule enforced by the database, none by this process);
//! - `suite` (feature `test-suite`): the scenarios every adapter must pass, expanded into tests
//!   by [`store_suite!`].
//!
//! Accepted URLs:
//!
//! | URL | database |
//! |---|---|
//! | `sqlite:///var/lib/orgcerts/orgcerts.db` | the file `/var/lib/orgcerts/orgcerts.db` |
//! | `sqlite://data/orgcerts.db`, `sqlite:data/orgcerts.db` | a path relative to the working directory |
//! | `sqlite::memory:` | a throw-away database, deleted when the store is dropped |
//! | `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require` | a PostgreSQL database (`postgresql://` too) |
//!
//! An SQLite path is taken literally (no percent-decoding, no `?query`). A missing parent
//! directory is created (mode 0700 on Unix), and so is a missing database file (mode 0600 on
//! Unix). A PostgreSQL URL takes libpq's query parameters as sqlx reads them (`sslmode`,
//! `sslrootcert`, `options`, `application_name`, ...); `options=-c%20search_path%3Dmyschema`
//! puts orgcerts' tables into the schema `myschema`, which must exist. No error message or log
//! line repeats a PostgreSQL URL, which may carry a password.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use orgcerts_core::Store;

mod keyset;
mod postgres;
mod sqlite;
#[cfg(feature = "test-suite")]
#[doc(hidden)]
pub mod suite;

pub use postgres::PostgresStore;
pub use sqlite::{OTHER_PROCESS_DELAY, SqliteStore};

/// How to reach a PostgreSQL database: pool size and time limits. SQLite uses only
/// `acquire_timeout`, as the longest an operation waits for its reader or writer thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Most connections this instance holds at once. Size it so that the sum over all
    /// instances (plus the operator's commands) stays below the server's `max_connections`.
    pub max_connections: u32,
    /// How long an operation waits for a free (or new) connection before it fails with
    /// `StorageUnavailable` (a 503). Short, so that a database that went away gives quick
    /// answers rather than piling requests up. On SQLite, how long an operation may wait in
    /// the reader or writer queue: one not started by then fails the same way and never runs.
    pub acquire_timeout: Duration,
    /// How long start-up waits for the database to accept connections (refused, or still
    /// starting) before giving up.
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for orgcerts' sessions; zero leaves the server's
    /// setting alone (needed behind PgBouncer in transaction mode, which refuses start-up
    /// options).
    pub statement_timeout: Duration,
    /// Whether migrations hold PostgreSQL's `pg_advisory_lock`, which lets instances start at
    /// once. Turn it off only for an engine without real advisory locks (CockroachDB), and then
    /// let one instance start (and migrate) before the others.
    pub migration_lock: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(5),
            migration_lock: true,
        }
    }
}

impl OpenOptions {
    /// The longest one operation may take, retries included, before it fails with
    /// `StorageUnavailable`: the wait for a connection and twice the statement timeout (30 s
    /// when there is none). It guards against a database that stops answering without
    /// closing its connections.
    pub fn operation_deadline(&self) -> Duration {
        let statements = if self.statement_timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            self.statement_timeout * 2
        };
        self.acquire_timeout + statements
    }
}

/// Why a database could not be opened. Every message says what to change; none repeats a
/// PostgreSQL URL, which may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported database URL scheme '{scheme}': use sqlite://PATH, sqlite:PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    UnsupportedScheme { scheme: String },
    #[error(
        "'{url}' is not a database URL; use sqlite://PATH, sqlite:PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
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
    #[error("cannot start the connection threads of {}: {source}", path.display())]
    Threads { path: PathBuf, source: io::Error },
    #[error("the PostgreSQL database URL is not valid: {reason}")]
    PostgresUrl { reason: String },
    // `error` is not marked as the source: its text is already in the message.
    #[error("cannot connect to PostgreSQL at {target} (waited up to {waited_ms} ms): {error}")]
    PostgresConnect {
        /// `user@host:port/database`, never the password.
        target: String,
        waited_ms: u128,
        error: sqlx::Error,
    },
    #[error(
        "the PostgreSQL database has schema version {found}, newer than the {known} this orgcerts knows; run a newer orgcerts"
    )]
    PostgresSchemaTooNew { found: i64, known: i64 },
    #[error("migrating the PostgreSQL database to the current schema failed: {0}")]
    PostgresMigrate(Box<sqlx_core::migrate::MigrateError>),
    #[error("the task opening the database failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres,
}

fn parse_url(url: &str) -> Result<Target, OpenError> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(OpenError::NotAUrl {
            url: orgcerts_core::echo(url),
        });
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {}
        "postgres" | "postgresql" => return Ok(Target::Postgres),
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

/// Opens the database a URL names with the default [`OpenOptions`]; see [`open_with`].
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, OpenError> {
    open_with(database_url, &OpenOptions::default()).await
}

/// Opens the database a URL names, creating and migrating it as needed, and returns it as a
/// [`Store`]. The engine is chosen by the URL's scheme; see the crate documentation for the
/// accepted URLs.
pub async fn open_with(
    database_url: &str,
    options: &OpenOptions,
) -> Result<Arc<dyn Store>, OpenError> {
    let store = match parse_url(database_url)? {
        Target::SqliteFile(path) => {
            let options = options.clone();
            tokio::task::spawn_blocking(move || SqliteStore::open_with(&path, &options))
        }
        Target::SqliteMemory => {
            let options = options.clone();
            tokio::task::spawn_blocking(move || SqliteStore::open_temporary_with(&options))
        }
        Target::Postgres => {
            return Ok(Arc::new(
                PostgresStore::connect(database_url, options).await?,
            ));
        }
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
    fn postgres_urls_choose_postgres() {
        assert_eq!(
            parse_url("postgres://u:secret@h/db").ok(),
            Some(Target::Postgres)
        );
        assert_eq!(parse_url("postgresql://h/db").ok(), Some(Target::Postgres));
        assert_eq!(
            parse_url("PostgreSQL://h/db?sslmode=require").ok(),
            Some(Target::Postgres)
        );
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
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
