//! The real node under test: a SQLite database prepared through the store (demo data, cached
//! remote actors, followers, an API token), then the real `hromada serve` binary started on it
//! as a child process with its default settings (log level included).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::Utc;
use hromada_domain::Role;
use hromada_store::{
    CursorMove, FedWrite, Follower, FollowerState, LocalActor, RemoteActor, TokenKind,
};

use crate::proc::{Server, free_addr};
use crate::sig;

/// The demo initiative every read and inbox request is about.
pub const HANDLE: &str = "kharkiv-medics";
/// A second demo initiative, for the larger fan-out.
pub const HANDLE_2: &str = "dnipro-evac";

/// Followers to add before start: `count` followers of `handle`, whose shared inboxes are
/// spread over the sink ports round-robin (one host per port).
pub struct Followers<'a> {
    pub handle: &'static str,
    pub count: usize,
    pub sink_ports: &'a [u16],
}

/// A prepared database and the address the node will listen on.
pub struct Prepared {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub db_url: String,
    /// A moderator's API token.
    pub token: String,
}

impl Prepared {
    pub fn host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    pub fn public_url(&self) -> String {
        format!("http://{}", self.host())
    }

    pub fn actor_url(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}", self.public_url())
    }
}

pub async fn prepare(
    remote: &[sig::RemoteActor],
    followers: &[Followers<'_>],
) -> anyhow::Result<Prepared> {
    let dir = tempfile::tempdir()?;
    let addr = free_addr()?;
    let db_url = format!("sqlite://{}/node.db", dir.path().display());
    let stores = hromada_server::open_store(&db_url).await?;
    let app = hromada_app::App::new(stores.directory.clone());
    let this_node = hromada_app::ThisNode::new(&format!("http://localhost:{}", addr.port()))?;
    hromada_server::demo::seed(&app, &this_node, "bench-password-123").await?;
    let user = app
        .create_user(None, "bench", Role::Moderator, "bench-password-123")
        .await?;
    let token = app
        .issue_token(&user, TokenKind::Api, "bench", None)
        .await?
        .secret;

    let fed = &stores.federation;
    for a in remote {
        fed.save_remote_actor(&RemoteActor {
            id: a.id.clone(),
            kind: "Person".into(),
            preferred_username: a.id.rsplit('/').next().map(String::from),
            name: None,
            inbox: a.inbox.clone(),
            shared_inbox: None,
            key_id: a.key_id.clone(),
            public_key_pem: a.public_key_pem.clone(),
            fetched_at: Utc::now(),
        })
        .await?;
    }
    for f in followers {
        let initiative = stores
            .directory
            .initiative_by_handle(f.handle, None)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo initiative {} is missing", f.handle))?;
        let all: Vec<Follower> = (0..f.count)
            .map(|k| {
                let port = f.sink_ports[k % f.sink_ports.len()];
                // A host name, not an IP: activitypub_federation drops inboxes without a domain.
                let base = format!("http://localhost:{port}");
                Follower {
                    local: LocalActor::Initiative(initiative.id),
                    actor_id: format!("{base}/users/{}-{k}", f.handle),
                    follow_id: format!("{base}/follows/{}-{k}", f.handle),
                    inbox: format!("{base}/users/{}-{k}/inbox", f.handle),
                    shared_inbox: Some(format!("{base}/inbox/{}-{k}", f.handle)),
                    state: FollowerState::Accepted,
                    created_at: Utc::now(),
                }
            })
            .collect();
        for chunk in all.chunks(1000) {
            fed.apply(&FedWrite {
                follow: chunk.to_vec(),
                ..Default::default()
            })
            .await?;
        }
    }
    // The demo's own changes are old news: move the publisher's cursor past them, so the node
    // does not fan out the whole demo history while it is being measured.
    let cursor = fed.feed_cursor().await?;
    let mut last = cursor;
    loop {
        let changes = stores.directory.changes_after(last, 1000).await?;
        match changes.last() {
            Some(c) => last = c.seq,
            None => break,
        }
    }
    if last != cursor {
        fed.apply(&FedWrite {
            cursor: Some(CursorMove {
                from: cursor,
                to: last,
            }),
            ..Default::default()
        })
        .await?;
    }
    Ok(Prepared {
        dir,
        addr,
        db_url,
        token,
    })
}

/// Starts `hromada serve` on a prepared database.
pub async fn start(hromada: &Path, p: &Prepared) -> anyhow::Result<Server> {
    let data_dir: PathBuf = p.dir.path().join("data");
    let envs = vec![
        ("HROMADA_LISTEN".to_string(), p.addr.to_string()),
        ("HROMADA_PUBLIC_URL".to_string(), p.public_url()),
        ("HROMADA_DATABASE_URL".to_string(), p.db_url.clone()),
        (
            "HROMADA_DATA_DIR".to_string(),
            data_dir.display().to_string(),
        ),
        // Fan-out sinks are plain http on loopback.
        ("HROMADA_ALLOW_PRIVATE_NETWORKS".to_string(), "true".into()),
    ];
    Server::start(
        "hromada serve",
        hromada,
        &["serve"],
        &envs,
        p.addr,
        "/healthz",
    )
    .await
}

/// Starts the bare baseline server (this binary, `bare-server`) on a prepared database.
pub async fn start_bare(db: &Path) -> anyhow::Result<Server> {
    let addr = free_addr()?;
    let me = std::env::current_exe()?;
    let listen = addr.to_string();
    let db = db.display().to_string();
    Server::start(
        "bare axum",
        &me,
        &["bare-server", "--listen", &listen, "--db", &db],
        &[],
        addr,
        "/healthz",
    )
    .await
}
