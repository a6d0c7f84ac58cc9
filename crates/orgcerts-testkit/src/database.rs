//! Fresh databases for tests, on either engine.
//!
//! - [`TestDatabase::fresh`] gives what `ORGCERTS_TEST_ENGINE` asks for: a new SQLite file in a
//!   temporary directory (unset or `sqlite`), or a new PostgreSQL schema (`postgres`).
//! - [`PgSchema::create`] always gives a PostgreSQL schema: `t_` and 20 random characters, on
//!   the server `ORGCERTS_TEST_POSTGRES_URL` names (default
//!   `postgres://postgres@127.0.0.1:5432/test`). Its [`url`](PgSchema::url) carries
//!   `options=-c search_path=<schema>`, so every connection made with it (the server's pool, a
//!   second instance, the operator's commands) finds its tables there and nowhere else. The
//!   schema is dropped, with everything in it, when the value is dropped.
//!
//! Test sessions also set `synchronous_commit=off`: a commit is then acknowledged before its
//! WAL reaches the disk, which only matters if the server crashes, and saves one fsync per
//! commit (the suites run several times faster). Visibility and locking are unchanged.
//!
//! Both work from synchronous and asynchronous tests: the administrative statements run on a
//! thread of their own.

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

/// The engine variable: `sqlite` (the default) or `postgres`.
pub const ENGINE_VAR: &str = "ORGCERTS_TEST_ENGINE";
/// The variable naming the PostgreSQL server (and database) tests create their schemas in.
pub const POSTGRES_URL_VAR: &str = "ORGCERTS_TEST_POSTGRES_URL";
/// Where tests find PostgreSQL unless told otherwise (CI starts it there).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether `ORGCERTS_TEST_ENGINE` asks for PostgreSQL. Any value but `sqlite`, `postgres` or
/// nothing is a mistake worth stopping for.
pub fn engine_is_postgres() -> bool {
    match std::env::var(ENGINE_VAR).as_deref() {
        Err(_) | Ok("" | "sqlite") => false,
        Ok("postgres") => true,
        Ok(other) => panic!("{ENGINE_VAR}={other:?}: use sqlite or postgres"),
    }
}

/// `url` with `options=-c search_path=<schema> -c synchronous_commit=off` added to its query.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}%20-c%20synchronous_commit%3Doff")
}

/// Runs `sql` on the test server, from a thread of its own (so that async tests may call it).
fn admin(sql: String) -> Result<(), String> {
    let url = postgres_url();
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let url = format!(
                "{url}{}options=-c%20synchronous_commit%3Doff",
                if url.contains('?') { '&' } else { '?' }
            );
            let connect = PgConnection::connect(&url);
            let mut conn = tokio::time::timeout(Duration::from_secs(10), connect)
                .await
                .map_err(|_| "connecting timed out".to_owned())?
                .map_err(|e| e.to_string())?;
            conn.execute(sqlx::AssertSqlSafe(sql))
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the PostgreSQL admin thread panicked".to_owned())?;
    outcome.map_err(|err| {
        format!("PostgreSQL at {POSTGRES_URL_VAR} (default {DEFAULT_POSTGRES_URL}): {err}")
    })
}

/// A schema of its own on the test PostgreSQL server; dropped with its contents on drop.
#[derive(Debug)]
pub struct PgSchema {
    name: String,
}

impl PgSchema {
    /// Creates a fresh, empty schema.
    pub fn create() -> Self {
        let name = format!("t_{}", random_lowercase(20));
        if let Err(err) = admin(format!("CREATE SCHEMA {name}")) {
            panic!("this test needs PostgreSQL: {err}");
        }
        Self { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The test server's URL with this schema as the search path.
    pub fn url(&self) -> String {
        with_search_path(&postgres_url(), &self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Bounded: a failed test may leave a connection holding locks, and a hang here would
        // hide its failure. A left-over `t_…` schema is harmless.
        let sql = format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        if let Err(err) = admin(sql) {
            eprintln!("could not drop the test schema {}: {err}", self.name);
        }
    }
}

fn random_lowercase(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// A fresh database on the engine `ORGCERTS_TEST_ENGINE` names; it lasts as long as the value.
#[derive(Debug)]
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

impl TestDatabase {
    pub fn fresh() -> Self {
        if engine_is_postgres() {
            Self::Postgres(PgSchema::create())
        } else {
            Self::Sqlite(tempfile::tempdir().expect("a temporary directory"))
        }
    }

    /// The database URL to give orgcerts.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}/orgcerts.sqlite3", dir.path().display()),
            Self::Postgres(schema) => schema.url(),
        }
    }
}
