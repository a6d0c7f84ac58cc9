//! Opening an SQLite database: the file and its directory, connection settings, migrations.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use rusqlite_migration::{M, MigrationDefinitionError, Migrations};

use super::changes::ChangeWatch;
use super::queue::Limits;
use super::readers::Readers;
use crate::OpenError;

/// The schema, one entry per version; `PRAGMA user_version` records how many were applied.
static MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../migrations/sqlite/0001_initial.sql")),
    M::up(include_str!(
        "../../migrations/sqlite/0002_admin_keys_and_audit_logs.sql"
    )),
    M::up(include_str!(
        "../../migrations/sqlite/0003_certificates_live_by_expiry.sql"
    )),
    M::up(include_str!(
        "../../migrations/sqlite/0004_service_accounts.sql"
    )),
    M::up(include_str!(
        "../../migrations/sqlite/0005_certificate_attribute_filters.sql"
    )),
];

/// Other processes (the `orgcerts admin-key` command) write to the same file while the server
/// runs: wait this long for their transaction instead of failing at once.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader connections, each on its own thread.
const READERS: usize = 8;
/// Prepared statements kept per connection (there are about 40 distinct ones).
const STATEMENT_CACHE: usize = 64;

/// Opening flags. Without `SQLITE_OPEN_URI`, the path is taken literally (a `file:` prefix is
/// not interpreted). `NO_MUTEX`: each connection is used by one thread at a time.
fn flags(create: bool) -> OpenFlags {
    let base = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        base | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        base
    }
}

/// Settings every connection needs. `journal_mode=WAL` is stored in the file, so the writer
/// sets it once (see [`open_writer`]); readers inherit it.
fn configure(conn: &Connection, reader: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A write is acknowledged only once it is durable, even across a power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    if reader {
        // All writes go through the single writer connection; make any slip an error.
        conn.pragma_update(None, "query_only", "ON")?;
    }
    // Plans that never depend on bound values. Without it SQLite marks a statement whose plan
    // looked at a parameter (every `LIMIT ?`) to be compiled again whenever that parameter is
    // bound, so the statement cache saved nothing for lists: a tenth of an uncached list read's
    // CPU went to the parser. orgcerts' statements are index range scans whatever the values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

fn sqlite_error(path: &Path, err: rusqlite::Error) -> OpenError {
    if err.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
        OpenError::NotADatabase {
            path: path.to_owned(),
        }
    } else {
        OpenError::Open {
            path: path.to_owned(),
            source: err,
        }
    }
}

/// Creates the missing directories above `path`, readable by the owner only on Unix.
pub(super) fn create_parent_directory(path: &Path) -> Result<(), OpenError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if parent.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(parent)
        .map_err(|source| OpenError::CreateDirectory {
            path: parent.to_owned(),
            source,
        })
}

/// Creates the database file if it does not exist, readable by the owner only on Unix. SQLite
/// gives its `-wal` and `-shm` files the same permissions.
pub(super) fn create_file(path: &Path) -> Result<(), OpenError> {
    if path.is_dir() {
        return Err(OpenError::IsADirectory {
            path: path.to_owned(),
        });
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(OpenError::CreateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Opens the writer connection, switches the file to WAL and brings the schema up to date.
pub(super) fn open_writer(path: &Path) -> Result<Connection, OpenError> {
    let mut conn =
        Connection::open_with_flags(path, flags(true)).map_err(|e| sqlite_error(path, e))?;
    configure(&conn, false).map_err(|e| sqlite_error(path, e))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| sqlite_error(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::JournalMode {
            path: path.to_owned(),
            mode,
        });
    }
    migrate(path, &mut conn)?;
    Ok(conn)
}

fn migrate(path: &Path, conn: &mut Connection) -> Result<(), OpenError> {
    let migrations = Migrations::from_slice(MIGRATIONS);
    let Err(err) = migrations.to_latest(conn) else {
        return Ok(());
    };
    // rusqlite_migration reads the version before its transaction: when two processes open a
    // new file at once, the second one's migration fails although the first one's succeeded.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| sqlite_error(path, e))?;
    if usize::try_from(version).is_ok_and(|v| v == MIGRATIONS.len()) {
        return Ok(());
    }
    Err(match err {
        rusqlite_migration::Error::MigrationDefinition(
            MigrationDefinitionError::DatabaseTooFarAhead,
        ) => OpenError::SchemaTooNew {
            path: path.to_owned(),
            found: version,
            known: MIGRATIONS.len(),
        },
        rusqlite_migration::Error::RusqliteError { err, .. }
            if err.sqlite_error_code() == Some(ErrorCode::NotADatabase) =>
        {
            OpenError::NotADatabase {
                path: path.to_owned(),
            }
        }
        source => OpenError::Migration {
            path: path.to_owned(),
            source,
        },
    })
}

/// The reader connections, each started on its thread. Opened after the writer, so that the
/// file is known to be a migrated database.
pub(super) fn open_readers(path: &Path, limits: Limits) -> Result<Readers, OpenError> {
    let connections = (0..READERS)
        .map(|_| {
            let conn = Connection::open_with_flags(path, flags(false))?;
            configure(&conn, true)?;
            Ok(conn)
        })
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(path, e))?;
    Readers::start(connections, limits).map_err(|source| OpenError::Threads {
        path: path.to_owned(),
        source,
    })
}

/// The connection behind the change token ([`super::changes`]), and the thread that asks it
/// `PRAGMA data_version`; it writes only what nothing cached depends on.
pub(super) fn open_watcher(path: &Path) -> Result<Arc<ChangeWatch>, OpenError> {
    let open = || {
        let conn = Connection::open_with_flags(path, flags(false))?;
        configure(&conn, false)?;
        ChangeWatch::new(conn)
    };
    let watch = Arc::new(open().map_err(|source| OpenError::Open {
        path: path.to_owned(),
        source,
    })?);
    ChangeWatch::start_checker(&watch).map_err(|source| OpenError::Threads {
        path: path.to_owned(),
        source,
    })?;
    Ok(watch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        Migrations::from_slice(MIGRATIONS).validate().unwrap();
    }

    /// The build settings of `.cargo/config.toml` reached the bundled SQLite: without them,
    /// reader connections queue on global mutexes (memory statistics, a shared page cache).
    #[test]
    fn sqlite_is_built_without_global_allocation_mutexes() {
        let conn = Connection::open_in_memory().unwrap();
        let options = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
