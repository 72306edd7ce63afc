//! ActivityPub for a Hromada node: every public initiative is a `Group` actor that fediverse
//! users (Mastodon and others) can find, follow and read in their home timelines.
//!
//! The server wires in a [`Federation`]: its [`Federation::router`] answers the requests that
//! [`Federation::claims`] picks out (ActivityPub JSON, inboxes, WebFinger, NodeInfo), and
//! [`Federation::spawn_workers`] runs the publisher (the store's change feed → activities in a
//! durable queue) and the delivery workers. See `docs/FEDERATION.md` for every shape.
//!
//! HTTP signatures are ours (`signing`: aws-lc-rs through `http-signature-normalization`), as
//! are inbox verification, the queue, fetching and discovery; of `activitypub_federation` only
//! the DNS resolver that refuses internal addresses is used. Must not depend on sqlx or the
//! web crate.

mod activities;
mod actors;
mod backfill;
mod crypto_pool;
mod delivery;
mod discovery;
mod dns;
mod doc_cache;
mod fetch;
mod follows;
mod http;
mod inbox;
mod inbox_cache;
mod inbox_views;
mod jobs;
mod keys;
mod lanes;
mod mirror;
mod missing_pictures;
mod network;
mod objects;
mod peers;
mod publish;
pub mod safety;
pub mod signing;
mod trust;
mod urls;
pub mod website_check;

use std::sync::Arc;
use std::time::Duration;

use hromada_store::{FederationStore, Store, StoreError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use activities::HROMADA_NS;
pub use delivery::{HostQueue, QueueReport, queue_report};
pub use inbox_views::{Author, FollowRequest, Message};
pub use jobs::LeasedJob;
pub use peers::{InvalidPeer, PeerError, PeerView, parse_block_list};
pub use urls::{INSTANCE_USERNAME, Urls};

use crate::fetch::{FetchLimits, Fetcher};
use crate::keys::Keys;
use crate::signing::{AwsLcSigner, HttpSigner, SignError};

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("federation setting: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing: {0}")]
    Sign(#[from] SignError),
}

/// How the node federates.
#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// Scheme, host and port of every public id, e.g. `https://node.example`.
    pub public_url: Url,
    /// Allows plain http and private/loopback peers. Only for development, demos and tests.
    pub allow_private_networks: bool,
    pub node_name: String,
    pub node_description: String,
    /// Shown in NodeInfo and the User-Agent.
    pub software_version: String,
    /// Whether listings mirrored from peers are relayed (announced) to this node's followers.
    pub relay: bool,
    /// Whether node follows of this node are accepted at once (else held for an admin).
    pub auto_accept_peers: bool,
    /// Where copies of remote pictures are stored (the web serves this folder at `/media/`);
    /// `None` leaves remote pictures out.
    pub media_dir: Option<std::path::PathBuf>,
    pub limits: Limits,
}

impl FederationSettings {
    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            allow_private_networks: false,
            node_name: "Hromada".into(),
            node_description: "A directory of grassroots solidarity initiatives".into(),
            software_version: env!("CARGO_PKG_VERSION").into(),
            relay: true,
            auto_accept_peers: true,
            media_dir: None,
            limits: Limits::default(),
        }
    }
}

/// Sizes, times and counts. The defaults suit production; tests shorten the retry times.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest inbox POST body accepted (413 above).
    pub inbox_body_bytes: usize,
    /// Largest document fetched from another server.
    pub fetch_body_bytes: usize,
    /// Timeout of every outgoing request.
    pub request_timeout: Duration,
    pub max_redirects: usize,
    /// How far a signature's Date may be from now (Mastodon: about an hour).
    pub signature_window: Duration,
    /// Cached remote actors older than this are refetched.
    pub actor_refresh: Duration,
    /// Deliveries in flight at once, and per target host.
    pub delivery_concurrency: usize,
    pub per_host_concurrency: usize,
    /// First retry delay; doubles per attempt up to `retry_max`; gives up after `give_up_after`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
    /// Failed attempts in a row after which a host counts as unreachable and is only probed,
    /// at intervals growing up to `probe_max`.
    pub host_unreachable_after: i32,
    pub probe_max: Duration,
    /// How often the publisher and idle workers look for work.
    pub poll_interval: Duration,
    /// Finished deliveries and received ids are kept this long.
    pub keep_finished: Duration,
    /// How long a claimed delivery and a background job stay with the process that took them
    /// when it stops renewing (crashed): other processes on the same database take them over
    /// after this. Must exceed the longest send, waiting for the host's turn included.
    pub lease: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            inbox_body_bytes: 1024 * 1024,
            fetch_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            max_redirects: 3,
            signature_window: Duration::from_secs(3600),
            actor_refresh: Duration::from_secs(DAY),
            delivery_concurrency: 16,
            per_host_concurrency: 2,
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(12 * 3600),
            give_up_after: Duration::from_secs(7 * DAY),
            host_unreachable_after: 8,
            probe_max: Duration::from_secs(DAY),
            poll_interval: Duration::from_secs(1),
            keep_finished: Duration::from_secs(7 * DAY),
            lease: Duration::from_secs(120),
        }
    }
}

/// Shared by the routes and the workers.
pub(crate) struct Inner {
    pub settings: FederationSettings,
    pub urls: Urls,
    pub store: Arc<dyn Store>,
    pub fed: Arc<dyn FederationStore>,
    pub signer: Arc<dyn HttpSigner>,
    pub keys: Arc<Keys>,
    pub fetcher: Fetcher,
    /// Wakes the delivery workers when something was queued (e.g. an Accept).
    pub queued: Notify,
    /// Wakes the publisher when this process wrote to the directory.
    pub changed: Notify,
    /// WebFinger, NodeInfo and actor documents, until the directory changes.
    pub docs: doc_cache::DocumentCache,
    /// Domain blocks, remote actors and local handles as the inbox reads them per activity.
    pub inbox_cache: inbox_cache::InboxCache,
    /// This process's name in the job leases.
    pub holder: String,
    /// What this process saw of peers' backfills (pages read, failed fetches).
    pub backfill: backfill::Progress,
}

/// A node's federation: routes and background workers. Cheap to clone.
#[derive(Clone)]
pub struct Federation {
    inner: Arc<Inner>,
}

impl Federation {
    pub async fn new(
        settings: FederationSettings,
        store: Arc<dyn Store>,
        fed: Arc<dyn FederationStore>,
    ) -> Result<Self, FederationError> {
        let urls = Urls::new(&settings.public_url).ok_or_else(|| {
            FederationError::Config(format!(
                "public URL {} has no http(s) host",
                settings.public_url
            ))
        })?;
        let user_agent = format!("hromada/{} (+{})", settings.software_version, urls.base());
        let timeout = settings.limits.request_timeout;
        let client = fetch::client(&user_agent, timeout, settings.allow_private_networks)
            .map_err(|e| FederationError::Config(format!("HTTP client: {e}")))?;
        let signer = AwsLcSigner::new(settings.allow_private_networks, timeout);
        Ok(Self::with_signer(
            settings,
            urls,
            store,
            fed,
            Arc::new(signer),
            client,
            user_agent,
        ))
    }

    fn with_signer(
        settings: FederationSettings,
        urls: Urls,
        store: Arc<dyn Store>,
        fed: Arc<dyn FederationStore>,
        signer: Arc<dyn HttpSigner>,
        client: reqwest::Client,
        user_agent: String,
    ) -> Self {
        let keys = Arc::new(Keys::new(fed.clone(), signer.clone()));
        let limits = FetchLimits {
            max_body_bytes: settings.limits.fetch_body_bytes,
            max_redirects: settings.limits.max_redirects,
        };
        let fetcher = Fetcher::new(
            client,
            signer.clone(),
            keys.clone(),
            urls.clone(),
            limits,
            settings.allow_private_networks,
            user_agent,
        );
        let inner = Inner {
            settings,
            urls,
            store,
            fed,
            signer,
            keys,
            fetcher,
            queued: Notify::new(),
            changed: Notify::new(),
            docs: doc_cache::DocumentCache::default(),
            inbox_cache: inbox_cache::InboxCache::default(),
            holder: jobs::process_holder(),
            backfill: Default::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Every federation route (see [`Federation::claims`] for which requests to send here).
    pub fn router(&self) -> axum::Router {
        http::router(self.inner.clone())
    }

    /// Whether a request belongs to federation rather than to the web UI or the JSON API:
    /// ActivityPub JSON asked for on actor and object URLs, inboxes, collections, the instance
    /// actor, WebFinger, host-meta and NodeInfo. Never anything under `/api/`.
    pub fn claims(req: &::http::request::Parts) -> bool {
        http::claims(req)
    }

    /// Starts the publisher and the delivery workers; they stop when `shutdown` is cancelled
    /// (in-flight deliveries are given a moment to finish; unfinished ones are retried later).
    pub fn spawn_workers(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let publisher = tokio::spawn(publish::run(self.inner.clone(), shutdown.clone()));
        let deliverer = tokio::spawn(delivery::run(self.inner.clone(), shutdown.clone()));
        let backfiller = tokio::spawn(backfill::run(self.inner.clone(), shutdown.clone()));
        let pictures = tokio::spawn(missing_pictures::run(self.inner.clone(), shutdown));
        tokio::spawn(async move {
            let _ = tokio::join!(publisher, deliverer, backfiller, pictures);
        })
    }

    /// A background job of the node that only the process holding its lease runs (the server
    /// runs the website checks this way); see [`LeasedJob`].
    pub fn leased_job(&self, job: &'static str) -> LeasedJob {
        LeasedJob::new(
            self.inner.store.clone(),
            job,
            self.inner.holder.clone(),
            self.inner.settings.limits.lease,
        )
    }

    /// This process's name in the database's job leases (`pid N` and a random part).
    pub fn lease_holder(&self) -> &str {
        &self.inner.holder
    }

    /// Tells federation that this process just wrote to the directory (the server calls it
    /// after every write request it answered): cached documents are rebuilt, and the publisher
    /// looks at the change feed now instead of at its next poll.
    pub fn note_local_write(&self) {
        self.inner.docs.watch.note_local_write();
        self.inner.changed.notify_one();
    }

    /// Turns pending changes into activities once (what the publisher does in its loop).
    /// Returns how many changes were handled. For tests and tools.
    pub async fn publish_pending(&self) -> Result<usize, FederationError> {
        publish::drain(&self.inner).await
    }

    /// Whether the publisher has handled every change of the directory so far. For tests and
    /// tools.
    pub async fn published_everything(&self) -> Result<bool, StoreError> {
        Ok(self.inner.fed.feed_cursor().await? >= self.inner.store.latest_change_seq().await?)
    }

    /// Per-host state of the delivery queue.
    pub async fn queue_report(&self) -> Result<QueueReport, StoreError> {
        delivery::queue_report(self.inner.fed.as_ref()).await
    }

    /// Follows another Hromada node by domain (`host` or `host:port`): discovery through
    /// NodeInfo/WebFinger, then a `Follow` of its instance actor through the durable queue.
    /// When it accepts, its existing listings are pulled in (backfill) by the workers.
    pub async fn follow_peer(&self, domain: &str) -> Result<PeerView, PeerError> {
        peers::follow(&self.inner, domain).await
    }

    /// Stops following a node; the listings that came only through it go. Returns how many.
    pub async fn unfollow_peer(&self, domain: &str) -> Result<u64, PeerError> {
        peers::unfollow(&self.inner, domain).await
    }

    /// Accepts or rejects a node's follow that was held for approval.
    pub async fn answer_peer(&self, domain: &str, accept: bool) -> Result<(), PeerError> {
        peers::answer(&self.inner, domain, accept).await
    }

    /// Refuses (or takes again) listings that a peer relays from third nodes.
    pub async fn refuse_relayed_from(&self, domain: &str, refuse: bool) -> Result<(), PeerError> {
        peers::set_refuse_relayed(&self.inner, domain, refuse).await
    }

    pub async fn peers(&self) -> Result<Vec<PeerView>, PeerError> {
        peers::list(&self.inner).await
    }

    /// The name a block of `raw` is kept under (`Example.org.` and `example.org:443` are
    /// `example.org`); `None` when it is no domain.
    pub fn block_name(raw: &str) -> Option<String> {
        peers::block_domain_name(raw).ok()
    }

    /// Blocks a domain and purges what came from it; returns how many listings went.
    pub async fn block_domain(
        &self,
        domain: &str,
        reason: Option<String>,
    ) -> Result<u64, PeerError> {
        peers::block(&self.inner, domain, reason).await
    }

    /// Lifts a block (a fresh follow is then possible); `false` when there was none.
    pub async fn unblock_domain(&self, domain: &str) -> Result<bool, PeerError> {
        peers::unblock(&self.inner, domain).await
    }

    pub async fn domain_blocks(&self) -> Result<Vec<hromada_store::DomainBlock>, StoreError> {
        self.inner.fed.domain_blocks().await
    }

    /// Reads one backfill page per peer that has one due (what the worker does in its loop).
    /// Returns how many pages were read. For tests and tools.
    pub async fn backfill_step(&self) -> Result<usize, FederationError> {
        backfill::step(&self.inner).await
    }

    pub fn urls(&self) -> &Urls {
        &self.inner.urls
    }

    /// Replies and mentions that reached an initiative, newest first.
    pub async fn messages(
        &self,
        initiative_id: uuid::Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Message>, StoreError> {
        inbox_views::messages(&self.inner, initiative_id, limit, offset).await
    }

    /// Follows of an initiative waiting for a maintainer's answer, oldest first.
    pub async fn follow_requests(
        &self,
        initiative_id: uuid::Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<FollowRequest>, StoreError> {
        inbox_views::follow_requests(&self.inner, initiative_id, limit, offset).await
    }

    /// Answers a pending follow request of an initiative that approves followers manually:
    /// `Accept` makes the follower receive its posts, `Reject` drops the request. Both are
    /// sent through the durable queue, signed by the initiative.
    pub async fn answer_follow_request(
        &self,
        initiative_id: uuid::Uuid,
        actor_id: &str,
        accept: bool,
    ) -> Result<bool, FederationError> {
        follows::answer(&self.inner, initiative_id, actor_id, accept).await
    }
}
