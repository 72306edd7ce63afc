//! `TestNode`: a whole Hromada node in-process — real database, real HTTP on a random
//! loopback port — started through the same code path as `hromada serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use hromada_app::App;
use hromada_domain::{Role, User};
use hromada_server::{Config, RunningNode, Settings};
use hromada_store::{Store, TokenKind};
use tokio::net::TcpListener;

use crate::db::{PostgresDb, SqliteDb, fresh_postgres, fresh_sqlite, postgres_url};

/// Password of every user a test node creates.
pub const TEST_PASSWORD: &str = "test-password-123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// SQLite always; PostgreSQL too when `HROMADA_TEST_POSTGRES_URL` names a server.
    /// End-to-end tests run once per backend returned here. In CI (`CI=true`) a missing
    /// server is a failure, not a skip.
    pub fn available() -> Vec<Backend> {
        let mut backends = vec![Backend::Sqlite];
        if postgres_url().is_some() {
            backends.push(Backend::Postgres);
        } else if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "CI=true but HROMADA_TEST_POSTGRES_URL is not set: the PostgreSQL half cannot run"
            );
        } else {
            eprintln!(
                "note: HROMADA_TEST_POSTGRES_URL is not set; the PostgreSQL half of this test is skipped"
            );
        }
        backends
    }
}

enum Database {
    Sqlite(SqliteDb),
    Postgres(PostgresDb),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Database::Sqlite(db) => &db.url,
            Database::Postgres(db) => &db.url,
        }
    }
}

/// A running node for tests. Dropping it stops the server and deletes its database.
pub struct TestNode {
    /// `http://localhost:PORT`, the node's public URL (no trailing slash).
    pub base_url: String,
    pub addr: SocketAddr,
    pub backend: Backend,
    pub settings: Settings,
    running: Option<RunningNode>,
    app: App,
    // Declared last: dropped after the server, so the database and the data directory outlive
    // every connection and file the node holds.
    db: Database,
    /// The data directory of a PostgreSQL node (a SQLite node's lives beside its database).
    _data_dir: Option<tempfile::TempDir>,
}

impl TestNode {
    /// A node on SQLite with default test settings.
    pub async fn spawn() -> TestNode {
        Self::spawn_on(Backend::Sqlite).await
    }

    pub async fn spawn_on(backend: Backend) -> TestNode {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A node whose configuration the test may adjust before start (listen address, public
    /// URL and database are chosen by the kit).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestNode {
        Self::spawn_tuned(backend, adjust, |_| {}).await
    }

    /// Like [`TestNode::spawn_with`], and the settings may be adjusted too (e.g. shorter
    /// federation retry times in `federation_limits`).
    pub async fn spawn_tuned(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
        tune: impl FnOnce(&mut Settings),
    ) -> TestNode {
        let db = match backend {
            Backend::Sqlite => {
                Database::Sqlite(fresh_sqlite().await.expect("fresh SQLite database"))
            }
            Backend::Postgres => {
                let server =
                    postgres_url().expect("HROMADA_TEST_POSTGRES_URL for a PostgreSQL test node");
                Database::Postgres(
                    fresh_postgres(&server)
                        .await
                        .expect("fresh PostgreSQL database"),
                )
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://localhost:{}", addr.port());
        let (data_dir, own_data_dir) = match &db {
            Database::Sqlite(db) => (db.dir().join("data"), None),
            Database::Postgres(_) => {
                let dir = tempfile::tempdir().expect("a data directory");
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let mut config = Config {
            listen: addr.to_string(),
            public_url: base_url.clone(),
            database_url: db.url().to_string(),
            data_dir,
            allow_private_networks: true,
            node_name: format!("Test node {}", addr.port()),
            log: "warn".into(),
            // Suites submit and report far more from one address than a person would; the
            // limits' own tests set them low again.
            submissions_per_hour: 100_000,
            reports_per_hour: 100_000,
            ..Config::default()
        };
        adjust(&mut config);
        let mut settings = Config::load_from(config).expect("valid test configuration");
        tune(&mut settings);
        hromada_server::config::prepare_data_dir(&settings.config.data_dir)
            .expect("writable data dir");
        let store = hromada_server::open_store(&settings.config.database_url)
            .await
            .expect("open test store");
        let running = hromada_server::start(&settings, store, Some(listener))
            .await
            .expect("start test node");
        let app = running.app.clone();
        TestNode {
            base_url,
            addr,
            backend,
            settings,
            running: Some(running),
            app,
            db,
            _data_dir: own_data_dir,
        }
    }

    /// The node's use cases, for arranging data directly.
    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.app.store()
    }

    /// The running node's federation.
    pub fn federation(&self) -> &hromada_federation::Federation {
        &self.running.as_ref().expect("a running node").federation
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The database URL, e.g. to start a second process on the same database.
    pub fn database_url(&self) -> &str {
        self.db.url()
    }

    /// Runs SQL on the node's database behind its back, e.g. a trigger that makes a write fail
    /// as a full disk or a lost connection would.
    pub async fn execute_sql(&self, sql: &str) {
        let done = match &self.db {
            Database::Sqlite(db) => sqlx::raw_sql(sql)
                .execute(db.store.writer())
                .await
                .map(drop),
            Database::Postgres(db) => sqlx::raw_sql(sql).execute(db.store.pool()).await.map(drop),
        };
        if let Err(e) = done {
            panic!("`{sql}` failed: {e}");
        }
    }

    /// Creates a user (password [`TEST_PASSWORD`]) and an API token for them.
    pub async fn user_with_token(&self, username: &str, role: Role) -> (User, String) {
        let user = self
            .app
            .create_user(None, username, role, TEST_PASSWORD)
            .await
            .expect("create test user");
        let token = self
            .app
            .issue_token(&user, TokenKind::Api, "test", None)
            .await
            .expect("issue test token");
        (user, token.secret)
    }

    /// Stops the server gracefully and starts it again on the same port and database.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("graceful stop");
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind the same port after restart");
        let store = hromada_server::open_store(&self.settings.config.database_url)
            .await
            .expect("reopen test store");
        let running = hromada_server::start(&self.settings, store, Some(listener))
            .await
            .expect("restart test node");
        self.app = running.app.clone();
        self.running = Some(running);
    }

    /// Stops the server gracefully (in-flight requests finish).
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("graceful stop");
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown_token().cancel();
        }
    }
}
