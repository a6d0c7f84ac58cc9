//! Connecting to PostgreSQL: the URL and pool settings, waiting for the server at start-up, and
//! the migrations, run under sqlx's advisory lock so that instances may start at once.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool};
use sqlx_core::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx_core::sql_str::SqlSafeStr;

use super::error::Attempt;
use crate::{OpenError, OpenOptions};

/// The schema, one entry per version, embedded in the binary. sqlx records the applied ones,
/// with checksums, in `_sqlx_migrations` in the first schema of the `search_path`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "admin_keys_and_audit_logs",
        include_str!("../../migrations/postgres/0002_admin_keys_and_audit_logs.sql"),
    ),
    (
        3,
        "organization_change_count",
        include_str!("../../migrations/postgres/0003_organization_change_count.sql"),
    ),
    (
        4,
        "certificates_live_by_expiry",
        include_str!("../../migrations/postgres/0004_certificates_live_by_expiry.sql"),
    ),
    (
        5,
        "service_accounts",
        include_str!("../../migrations/postgres/0005_service_accounts.sql"),
    ),
    (
        6,
        "certificate_attribute_filters",
        include_str!("../../migrations/postgres/0006_certificate_attribute_filters.sql"),
    ),
];

/// The newest schema version this build knows.
pub(super) const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// How long start-up waits between two attempts to reach a database that is not up yet.
const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(250);

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// `user@host:port/database`: what a message may say about where it tried to connect. Never
/// the password, whether it came in the URL's user info or its query.
pub(super) fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    )
}

/// Parses a `postgres://` / `postgresql://` URL and adds orgcerts' session settings.
pub(super) fn connect_options(
    url: &str,
    settings: &OpenOptions,
) -> Result<PgConnectOptions, OpenError> {
    let mut options = PgConnectOptions::from_str(url).map_err(|err| {
        // The innermost reason names the offending part (a bad port, an unknown sslmode),
        // never the whole URL; the outer ones only say "error with configuration".
        let mut reason: &dyn std::error::Error = &err;
        while let Some(inner) = reason.source() {
            reason = inner;
        }
        OpenError::PostgresUrl {
            reason: reason.to_string(),
        }
    })?;
    // Shown in pg_stat_activity; an `application_name` in the URL wins.
    let named = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("application_name=")));
    if !named {
        options = options.application_name("orgcerts");
    }
    let timeout = settings.statement_timeout.as_millis();
    Ok(if timeout == 0 {
        options
    } else {
        options.options([("statement_timeout", format!("{timeout}ms"))])
    })
}

/// Opens one connection, waiting up to `settings.connect_timeout` for a server that refuses
/// connections or is still starting; any other failure (authentication, an unknown database,
/// TLS) is reported at once.
async fn connect_patiently(
    options: &PgConnectOptions,
    settings: &OpenOptions,
) -> Result<PgConnection, OpenError> {
    let deadline = Instant::now() + settings.connect_timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let err = match tokio::time::timeout(left, PgConnection::connect_with(options)).await {
            Ok(Ok(conn)) => return Ok(conn),
            Ok(Err(err)) => err,
            Err(_) => sqlx::Error::PoolTimedOut,
        };
        let worth_waiting = matches!(err, sqlx::Error::Io(_))
            || matches!(&err, sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("57P03" | "53300")));
        if !worth_waiting || Instant::now() + CONNECT_RETRY_PAUSE >= deadline {
            return Err(OpenError::PostgresConnect {
                target: describe(options),
                waited_ms: settings.connect_timeout.as_millis(),
                error: err,
            });
        }
        tokio::time::sleep(CONNECT_RETRY_PAUSE).await;
    }
}

/// Brings the schema up to date. sqlx holds `pg_advisory_lock` (keyed on the database name)
/// while it checks and applies migrations, so concurrent starts take turns and the later ones
/// find nothing to do. The connection is closed afterwards, which also releases the lock if
/// the migration failed half-way.
async fn migrate(conn: &mut PgConnection, lock: bool) -> Result<(), OpenError> {
    let mut migrator = migrator();
    migrator.set_locking(lock);
    migrator
        .run_direct(None, conn, false)
        .await
        .map_err(|err| match err {
            MigrateError::VersionMissing(found) => OpenError::PostgresSchemaTooNew {
                found,
                known: LATEST_VERSION,
            },
            other => OpenError::PostgresMigrate(Box::new(other)),
        })
}

/// The newest schema version applied to the database (0 before the first).
pub(super) async fn applied_version(conn: &mut PgConnection) -> Attempt<i64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(conn)
            .await?;
    Ok(version.unwrap_or(0))
}

/// Connects, migrates, and returns the pool every operation draws from.
/// How long a pooled connection may sit idle before it is pinged on acquisition.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

pub(super) async fn open(
    url: &str,
    settings: &OpenOptions,
) -> Result<(PgPool, PgConnectOptions), OpenError> {
    let options = connect_options(url, settings)?;
    let mut conn = connect_patiently(&options, settings).await?;
    let migrated = migrate(&mut conn, settings.migration_lock).await;
    // Closing politely may fail on a connection that just broke; the migration's own result
    // is what matters.
    let _ = conn.close().await;
    migrated?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A connection that sat idle (long enough for the database to have restarted or a
        // proxy to have dropped it) is pinged before it is handed out, so that the request
        // that would use it does not fail. One in steady use is not: a ping per acquisition
        // would double the round trips of every request. (A connection that breaks within
        // IDLE_PING_AFTER of its last use fails that one request with a 503, which the
        // official SDKs retry.)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_PING_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options.clone());
    Ok((pool, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_carry_the_password() {
        let settings = OpenOptions::default();
        for url in [
            "postgres://orgcerts:hunter2@db.internal:6432/certs",
            "postgresql://orgcerts@db.internal:6432/certs?password=hunter2",
        ] {
            let options = connect_options(url, &settings).unwrap();
            assert_eq!(describe(&options), "orgcerts@db.internal:6432/certs");
        }
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let err = connect_options(
            "postgres://u:hunter2@h:notaport/db",
            &OpenOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, OpenError::PostgresUrl { .. }), "{err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.0).collect();
        let expected: Vec<i64> = (1..=LATEST_VERSION).collect();
        assert_eq!(versions, expected);
    }
}
