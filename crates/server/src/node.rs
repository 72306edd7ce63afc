//! Starting and stopping a node.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use hromada_app::{App, RateLimit};
use hromada_federation::website_check::{self, WebsiteChecker};
use hromada_federation::{Federation, FederationSettings};
use hromada_store::{FederationStore, Store};
use hromada_store_postgres::PgStore;
use hromada_store_sqlite::SqliteStore;
use hromada_web::{WebSettings, WebState};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::{Settings, redact};

/// Why a node could not start, phrased for the person starting it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open database {url}: {reason} (check HROMADA_DATABASE_URL / database_url)")]
    Database { url: String, reason: String },
    #[error("cannot apply database migrations: {0}")]
    Migration(String),
    #[error(
        "cannot listen on {addr}: {reason} (set HROMADA_LISTEN / listen to a free address:port)"
    )]
    Listen { addr: SocketAddr, reason: String },
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot start federation: {0}")]
    Federation(String),
}

/// The node's storage, seen through each of its interfaces (one database behind both).
#[derive(Clone)]
pub struct Stores {
    pub directory: Arc<dyn Store>,
    pub federation: Arc<dyn FederationStore>,
}

impl Stores {
    fn of<S: Store + FederationStore>(store: S) -> Self {
        let store = Arc::new(store);
        Self {
            directory: store.clone(),
            federation: store,
        }
    }
}

/// Opens the database for `hromada admin`. A new database is set up as `serve` would (nothing
/// can be running on it); one that lacks migrations of this version is refused: applying them
/// is an upgrade, done with every `hromada serve` of the node stopped, and an admin command
/// run with a new binary before the restart must not do it under the old processes.
pub async fn open_store_for_admin(database_url: &str) -> Result<Stores, StartError> {
    let (missing, new) = migrations_pending(database_url).await?;
    if missing > 0 && !new {
        return Err(StartError::Migration(format!(
            "the database lacks {missing} migration(s) of this version; stop every `hromada serve` \
             of the node, then run `hromada migrate` (or start the new version) first"
        )));
    }
    open_store(database_url).await
}

/// How many of this version's migrations the database lacks, and whether it is new (none
/// applied, or no SQLite file yet).
pub async fn migrations_pending(database_url: &str) -> Result<(usize, bool), StartError> {
    let db_error = |e: hromada_store::StoreError| StartError::Database {
        url: redact(database_url),
        reason: e.to_string(),
    };
    Ok(if database_url.starts_with("sqlite:") {
        match sqlite_file(database_url) {
            Some(file) if !file.exists() => (0, true),
            _ => SqliteStore::connect(database_url)
                .await
                .map_err(db_error)?
                .migrations_to_apply()
                .await
                .map_err(db_error)?,
        }
    } else {
        PgStore::connect(database_url)
            .await
            .map_err(db_error)?
            .migrations_to_apply()
            .await
            .map_err(db_error)?
    })
}

/// Opens (and migrates) the database named by the URL: SQLite or PostgreSQL.
pub async fn open_store(database_url: &str) -> Result<Stores, StartError> {
    let db_error = |e: hromada_store::StoreError| StartError::Database {
        url: redact(database_url),
        reason: e.to_string(),
    };
    let migration_error = |e: hromada_store::StoreError| StartError::Migration(e.to_string());
    if database_url.starts_with("sqlite:") {
        if let Some(parent) = sqlite_parent_dir(database_url) {
            std::fs::create_dir_all(&parent).map_err(|e| StartError::Database {
                url: database_url.into(),
                reason: format!("cannot create directory {}: {e}", parent.display()),
            })?;
        }
        let store = SqliteStore::connect(database_url).await.map_err(db_error)?;
        store.migrate().await.map_err(migration_error)?;
        Ok(Stores::of(store))
    } else {
        let store = PgStore::connect(database_url).await.map_err(db_error)?;
        store.migrate().await.map_err(migration_error)?;
        Ok(Stores::of(store))
    }
}

/// The file a `sqlite://dir/file.db` URL names; `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<&std::path::Path> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::Path::new(path))
}

/// The directory a `sqlite://dir/file.db` URL points into, so it can be created first.
fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    sqlite_file(url)?
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
}

/// The node's federation over its stores, as configured (also used by `hromada admin peer`,
/// which queues follows for the running node's workers to send).
pub async fn federation_of(settings: &Settings, stores: &Stores) -> Result<Federation, StartError> {
    Federation::new(
        federation_settings(settings),
        stores.directory.clone(),
        stores.federation.clone(),
    )
    .await
    .map_err(|e| StartError::Federation(e.to_string()))
}

fn federation_settings(settings: &Settings) -> FederationSettings {
    let config = &settings.config;
    FederationSettings {
        allow_private_networks: config.allow_private_networks,
        node_name: config.node_name.clone(),
        node_description: config.node_description.clone(),
        relay: config.relay,
        auto_accept_peers: config.auto_accept_peers,
        limits: settings.federation_limits.clone(),
        media_dir: Some(config.data_dir.join("media")),
        ..FederationSettings::new(settings.public_url.clone())
    }
}

/// Warns of settings that are fine on a developer's machine and dangerous or wrong on a
/// server (`hromada serve` only: the demo is such a machine).
pub fn warn_about_setup(settings: &Settings, addr: SocketAddr) {
    let config = &settings.config;
    if config.allow_private_networks {
        tracing::warn!(
            "allow_private_networks is on: this node fetches private and loopback addresses it \
             is sent (its own network included); turn it off on any server"
        );
    }
    if addr.ip().is_loopback()
        && settings.public_url.scheme() == "https"
        && config.trusted_proxies.is_empty()
    {
        tracing::warn!(
            "listening on loopback behind https, with no trusted_proxies: every visitor shares \
             the proxy's address, and so its limits on submissions, reports and logins; set \
             trusted_proxies (docs/DEPLOYMENT.md)"
        );
    }
}

/// A node serving requests in the background.
pub struct RunningNode {
    pub addr: SocketAddr,
    pub app: App,
    shutdown: CancellationToken,
    pub federation: Federation,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningNode {
    /// A token that stops the node when cancelled (in-flight requests finish first).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the end.
    pub async fn stop(self) -> std::io::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the node stops (after its shutdown token is cancelled).
    pub async fn wait(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// Binds the configured address (or uses `listener` if given) and serves the node: the web
/// pages and JSON API, federation, and federation's background workers.
pub async fn start(
    settings: &Settings,
    stores: Stores,
    listener: Option<TcpListener>,
) -> Result<RunningNode, StartError> {
    let config = &settings.config;
    let federation = federation_of(settings, &stores).await?;
    // Outgoing website checks follow the same safety rules as every federation request.
    let website_checker = WebsiteChecker::new(&federation_settings(settings))
        .map_err(|e| StartError::Federation(e.to_string()))?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartError::Listen {
                addr: settings.listen,
                reason: e.to_string(),
            })?,
    };
    let addr = listener.local_addr().map_err(|e| StartError::Listen {
        addr: settings.listen,
        reason: e.to_string(),
    })?;
    let app = App::new(stores.directory.clone());
    let web = WebState::new(
        app.clone(),
        WebSettings {
            json_body_limit: config.max_body_bytes,
            node_name: config.node_name.clone(),
            node_description: config.node_description.clone(),
            node_rules: Some(config.node_rules.clone()).filter(|rules| !rules.trim().is_empty()),
            media_dir: config.data_dir.join("media"),
            submission_limit: RateLimit {
                max: config.submissions_per_hour,
                window: HOUR,
            },
            report_limit: RateLimit {
                max: config.reports_per_hour,
                window: HOUR,
            },
            trusted_proxies: settings.trusted_proxies.clone(),
            api_token_ttl: Some(settings.api_token_lifetime),
            ..WebSettings::new(settings.public_url.clone())
        },
    )
    .with_federation(federation.clone());
    let router = negotiate(&federation, &app, hromada_web::router(web));
    let shutdown = CancellationToken::new();
    let workers = federation.spawn_workers(shutdown.clone());
    let website_checks = website_check::spawn(
        website_checker,
        stores.directory.clone(),
        settings.website_checks.clone(),
        federation.leased_job("website-checks"),
        shutdown.clone(),
    );
    let media_sweep = crate::media_sweep::spawn(
        stores.directory.clone(),
        hromada_media::MediaStore::new(config.data_dir.join("media")),
        federation.lease_holder().to_string(),
        shutdown.clone(),
    );
    let search_merge = crate::search_merge::spawn(
        stores.directory.clone(),
        federation.lease_holder().to_string(),
        shutdown.clone(),
    );
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
        // The workers saw the same cancellation; wait so no delivery is cut off mid-write.
        let _ = tokio::join!(workers, website_checks, media_sweep, search_merge);
        served
    });
    tracing::info!(%addr, public_url = %settings.public_url, "node listening");
    Ok(RunningNode {
        addr,
        app,
        federation,
        shutdown,
        task,
    })
}

/// One router in front of two: requests federation claims (ActivityPub JSON on shared URLs,
/// inboxes, WebFinger, NodeInfo) go to it, everything else to the web pages and API. After a
/// write request, the caches that depend on what it may have changed hear of it at once, and
/// the publisher looks at the change feed.
fn negotiate(federation: &Federation, app: &App, web: Router) -> Router {
    let notify = (federation.clone(), app.clone());
    let federation = federation.router();
    Router::new()
        .fallback(move |request: Request| async move {
            let (parts, body) = request.into_parts();
            let claimed = Federation::claims(&parts);
            let writes = !matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
            );
            let target = if claimed { federation } else { web };
            let response: Result<Response, std::convert::Infallible> =
                target.oneshot(Request::from_parts(parts, body)).await;
            if writes {
                // Inboxes write mirrored listings, which the app shows; local actors, which
                // federation caches, change only through the web side.
                notify.1.note_local_write();
                if !claimed {
                    notify.0.note_local_write();
                }
            }
            match response {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
        .layer(axum::middleware::from_fn(crate::close_when_body_unread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_dirs() {
        assert_eq!(sqlite_parent_dir("sqlite://data/h.db"), Some("data".into()));
        assert_eq!(
            sqlite_parent_dir("sqlite:///var/lib/h/h.db?mode=rwc"),
            Some("/var/lib/h".into())
        );
        assert_eq!(sqlite_parent_dir("sqlite://h.db"), None);
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
    }
}
