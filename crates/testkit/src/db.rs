//! Fresh, migrated databases for tests: a SQLite file in its own temporary directory, or a
//! uniquely named PostgreSQL database created on a server and dropped again afterwards.
//!
//! Every call gives a database nobody else uses, so tests can run in parallel.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use hromada_store::{FederationStore, Store, StoreError};
use hromada_store_postgres::PgStore;
use hromada_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

/// The variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`. Its database is only used to create and drop
/// the per-test databases.
pub const POSTGRES_URL_VAR: &str = "HROMADA_TEST_POSTGRES_URL";

/// The PostgreSQL server tests should use, if one was named.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A migrated SQLite database in a temporary directory, deleted on drop.
pub struct SqliteDb {
    pub store: Arc<SqliteStore>,
    /// `sqlite://…` URL of the file, e.g. for a server started by the test.
    pub url: String,
    dir: TempDir,
}

impl SqliteDb {
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The same database through its federation interface.
    pub fn federation(&self) -> Arc<dyn FederationStore> {
        self.store.clone()
    }

    /// The temporary directory holding the database; tests may put other files there.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs one statement, to put the database in a state only an older version could leave.
    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        let done = sqlx::raw_sql(sql).execute(self.store.writer()).await;
        done.map(drop).map_err(|e| statement_failed(sql, e))
    }
}

pub async fn fresh_sqlite() -> Result<SqliteDb, StoreError> {
    let dir = tempfile::Builder::new()
        .prefix("hromada-test-")
        .tempdir()
        .map_err(|e| StoreError::Database(format!("cannot create a temporary directory: {e}")))?;
    let url = format!("sqlite://{}", dir.path().join("hromada.db").display());
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    Ok(SqliteDb {
        store: Arc::new(store),
        url,
        dir,
    })
}

/// A migrated in-memory SQLite database (`sqlite::memory:`), gone when the store is dropped.
pub async fn memory_sqlite() -> Result<Arc<SqliteStore>, StoreError> {
    let store = SqliteStore::connect("sqlite::memory:").await?;
    store.migrate().await?;
    Ok(Arc::new(store))
}

/// A migrated PostgreSQL database of its own, dropped (with `FORCE`, ending its connections)
/// when this value is dropped, also when the test panics.
pub struct PostgresDb {
    pub store: Arc<PgStore>,
    /// URL of this database (the server URL with the database name replaced).
    pub url: String,
    pub name: String,
    // Declared last, so it runs after the store is dropped.
    _drop: DropDatabase,
}

impl PostgresDb {
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The same database through its federation interface.
    pub fn federation(&self) -> Arc<dyn FederationStore> {
        self.store.clone()
    }

    /// Runs one statement, to put the database in a state only an older version could leave.
    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        let done = sqlx::raw_sql(sql).execute(self.store.pool()).await;
        done.map(drop).map_err(|e| statement_failed(sql, e))
    }
}

fn statement_failed(sql: &str, e: sqlx::Error) -> StoreError {
    StoreError::Database(format!("`{sql}` failed: {e}"))
}

/// Runs one statement on the test server's maintenance database (e.g. to take a test
/// database away from a running node).
pub async fn run_on_server(server_url: &str, sql: &str) -> Result<(), StoreError> {
    let server = PgConnectOptions::from_str(server_url).map_err(|e| {
        StoreError::Database(format!("{POSTGRES_URL_VAR} is not a PostgreSQL URL: {e}"))
    })?;
    let mut admin = PgConnection::connect_with(&server)
        .await
        .map_err(|e| StoreError::Database(format!("cannot connect to the test server: {e}")))?;
    sqlx::query(sql)
        .execute(&mut admin)
        .await
        .map_err(|e| StoreError::Database(format!("`{sql}` failed: {e}")))?;
    let _ = admin.close().await;
    Ok(())
}

/// Creates a database named `hromada_test_<random>` on the server at `server_url`, migrates it
/// and connects a store to it.
pub async fn fresh_postgres(server_url: &str) -> Result<PostgresDb, StoreError> {
    let server = PgConnectOptions::from_str(server_url).map_err(|e| {
        StoreError::Database(format!("{POSTGRES_URL_VAR} is not a PostgreSQL URL: {e}"))
    })?;
    let name = format!("hromada_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&server).await.map_err(|e| {
        StoreError::Database(format!(
            "cannot connect to the test server ({POSTGRES_URL_VAR}): {e}"
        ))
    })?;
    // The name is generated above from hex digits only, so it can be spliced in safely.
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .map_err(|e| StoreError::Database(format!("cannot create test database {name}: {e}")))?;
    let _ = admin.close().await;
    // From here on the database is dropped again, also when connecting or migrating fails.
    let guard = DropDatabase {
        server: Box::new(server),
        name: name.clone(),
    };

    let mut url = url::Url::parse(server_url)
        .map_err(|e| StoreError::Database(format!("{POSTGRES_URL_VAR} is not a URL: {e}")))?;
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    let store = PgStore::connect(&url).await?;
    store.migrate().await?;
    Ok(PostgresDb {
        store: Arc::new(store),
        url,
        name,
        _drop: guard,
    })
}

/// Drops a test database when dropped.
struct DropDatabase {
    /// Boxed: the options are large, and [`PostgresDb`] is moved around in callers' enums.
    server: Box<PgConnectOptions>,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be the one blocked here, so the
        // database is dropped from a thread with a runtime of its own.
        let server = (*self.server).clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect_with(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            // Printed rather than logged: tests rarely install a log subscriber, and a database
            // left behind should be noticed.
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}
