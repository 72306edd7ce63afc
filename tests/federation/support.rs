//! A federating node for the tests: a fresh database, the app, and `Federation`'s router and
//! workers on a real loopback socket, addressed as `http://localhost:PORT`. It can be stopped
//! and started again on the same port and database, as after a crash.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hromada_app::App;
use hromada_domain::{Initiative, InitiativeInput, Role, Update, UpdateInput, User};
use hromada_federation::{Federation, FederationSettings, Limits};
use hromada_store::{FederationStore, LocalActor, Store};
use hromada_testkit::Backend;
use hromada_testkit::db::{PostgresDb, SqliteDb, fresh_postgres, fresh_sqlite, postgres_url};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(20);

#[allow(dead_code)]
enum Db {
    Sqlite(SqliteDb),
    Postgres(PostgresDb),
}

pub struct FedNode {
    pub base_url: String,
    pub app: App,
    pub store: Arc<dyn Store>,
    pub fed_store: Arc<dyn FederationStore>,
    pub federation: Federation,
    pub moderator: User,
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    _db: Db,
}

/// Short retry times so that "later" happens within a test.
pub fn test_settings(base_url: &str) -> FederationSettings {
    let mut s = FederationSettings::new(base_url.parse().unwrap());
    s.allow_private_networks = true;
    s.node_name = "Test node".into();
    s.limits = Limits {
        poll_interval: Duration::from_millis(50),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        host_unreachable_after: 3,
        probe_max: Duration::from_millis(400),
        request_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    s
}

impl FedNode {
    /// Runs one statement on the node's database.
    pub async fn sql(&self, sql: &str) {
        match &self._db {
            Db::Sqlite(db) => db.execute(sql).await,
            Db::Postgres(db) => db.execute(sql).await,
        }
        .unwrap();
    }

    pub async fn start(backend: Backend) -> FedNode {
        Self::start_with(backend, true).await
    }

    /// `workers: false` leaves publishing and delivery to the test.
    pub async fn start_with(backend: Backend, workers: bool) -> FedNode {
        Self::start_adjusted(backend, workers, |_| {}).await
    }

    /// [`FedNode::start_with`], with [`test_settings`] changed by `adjust` first.
    pub async fn start_adjusted(
        backend: Backend,
        workers: bool,
        adjust: impl FnOnce(&mut FederationSettings),
    ) -> FedNode {
        let (db, store, fed_store): (Db, Arc<dyn Store>, Arc<dyn FederationStore>) = match backend {
            Backend::Sqlite => {
                let db = fresh_sqlite().await.unwrap();
                let (s, f) = (db.store.clone(), db.store.clone());
                (Db::Sqlite(db), s, f)
            }
            Backend::Postgres => {
                let db = fresh_postgres(&postgres_url().unwrap()).await.unwrap();
                let (s, f) = (db.store.clone(), db.store.clone());
                (Db::Postgres(db), s, f)
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://localhost:{}", addr.port());
        let app = App::new(store.clone());
        let moderator = app
            .create_user(None, "moderator", Role::Moderator, "test-password-123")
            .await
            .unwrap();
        let mut settings = test_settings(&base_url);
        adjust(&mut settings);
        let federation = Federation::new(settings, store.clone(), fed_store.clone())
            .await
            .unwrap();
        let mut node = FedNode {
            base_url,
            app,
            store,
            fed_store,
            federation,
            moderator,
            addr,
            shutdown: CancellationToken::new(),
            tasks: Vec::new(),
            _db: db,
        };
        node.serve(listener, workers);
        node
    }

    fn serve(&mut self, listener: TcpListener, workers: bool) {
        // Served as `hromada serve` serves it, so refusals close the connection the same way.
        let router = self.federation.router().layer(axum::middleware::from_fn(
            hromada_server::close_when_body_unread,
        ));
        let shutdown = self.shutdown.clone();
        self.tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
        }));
        if workers {
            self.tasks
                .push(self.federation.spawn_workers(self.shutdown.clone()));
        }
    }

    /// Stops server and workers at once (nothing in memory survives) and starts a new
    /// `Federation` on the same database and port.
    pub async fn restart(&mut self, workers: bool) {
        self.shutdown.cancel();
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.shutdown = CancellationToken::new();
        self.federation = Federation::new(
            test_settings(&self.base_url),
            self.store.clone(),
            self.fed_store.clone(),
        )
        .await
        .unwrap();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener, workers);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `localhost:PORT`.
    pub fn authority(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// A published initiative.
    pub async fn initiative(&self, handle: &str) -> Initiative {
        let input: InitiativeInput = serde_json::from_value(json!({
            "handle": handle,
            "name": format!("Initiative {handle}"),
            "summary": "Tactical medicine kits for volunteers",
            "categories": ["medical"],
            "tags": ["ifak"],
            "regions": [{"kind": "ukraine", "oblast": "kharkiv", "city": "Izium"}],
            "languages": ["en"],
            "submitter_contact": "olena@example.org",
            "donation_methods": [{"kind": "jar", "url": "https://send.monobank.ua/jar/abc"}]
        }))
        .unwrap();
        self.app.submit(None, input).await.unwrap();
        self.app.approve(&self.moderator, handle).await.unwrap()
    }

    pub async fn post_update(&self, handle: &str, body: &str) -> Update {
        let input: UpdateInput =
            serde_json::from_value(json!({"kind": "news", "body": body})).unwrap();
        self.app
            .post_update(&self.moderator, handle, input)
            .await
            .unwrap()
    }

    pub fn actor_url(&self, handle: &str) -> String {
        self.url(&format!("/initiatives/{handle}"))
    }

    pub async fn follower_ids(&self, initiative: &Initiative) -> Vec<String> {
        let followers = self
            .fed_store
            .followers(LocalActor::Initiative(initiative.id), 100, 0)
            .await
            .unwrap();
        followers.into_iter().map(|f| f.actor_id).collect()
    }

    /// Waits until `check` holds, polling, or panics after [`WAIT`].
    pub async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for FedNode {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A Follow as Mastodon sends it.
pub fn follow(actor: &str, object: &str, id: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "Follow",
        "actor": actor,
        "object": object,
    })
}

/// A node follow (`peering`): what one Hromada node's instance actor sends another's.
pub fn peering_follow(actor: &str, object: &str, id: &str) -> Value {
    let mut f = follow(actor, object, id);
    f["peering"] = json!(true);
    f
}

/// An HTTP client as Mastodon fetches.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub async fn get_ap(url: &str) -> reqwest::Response {
    client()
        .get(url)
        .header("accept", "application/activity+json, application/ld+json")
        .send()
        .await
        .unwrap()
}

pub async fn webfinger(node: &FedNode, resource: &str) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(
        &node.url("/.well-known/webfinger"),
        &[("resource", resource)],
    )
    .unwrap();
    client()
        .get(url)
        .header("accept", "application/jrd+json, application/json")
        .send()
        .await
        .unwrap()
}
