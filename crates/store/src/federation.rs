//! Storage for federation: actor keys, remote actors, followers, received activity ids, the
//! durable delivery queue, scheduled posts, domain blocks, and peers (other Hromada nodes).
//!
//! Implemented next to [`crate::Store`] by the SQLite and PostgreSQL stores. The federation
//! crate keeps all policy (what to send, when to retry); this trait only persists, and makes
//! each [`FedWrite`] atomic so that a crash never loses or doubles an activity.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{StoreError, StoreResult};

/// An actor of this node: the instance actor, or one of its initiatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LocalActor {
    Instance,
    Initiative(Uuid),
}

impl LocalActor {
    /// The stable text form kept in the database.
    pub fn key(&self) -> String {
        match self {
            LocalActor::Instance => "instance".to_string(),
            LocalActor::Initiative(id) => id.to_string(),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        if key == "instance" {
            Some(LocalActor::Instance)
        } else {
            key.parse().ok().map(LocalActor::Initiative)
        }
    }
}

/// An RSA key pair in PEM (SPKI public key, PKCS#8 private key).
#[derive(Clone, PartialEq, Eq)]
pub struct Keypair {
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// What we know of an actor on another server (cached from its actor document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteActor {
    /// The actor's `id` URL.
    pub id: String,
    /// `Person`, `Application`, `Group`, …
    pub kind: String,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowerState {
    /// Waiting for a maintainer (the initiative approves followers manually).
    Pending,
    Accepted,
}

impl FollowerState {
    pub fn code(self) -> &'static str {
        match self {
            FollowerState::Pending => "pending",
            FollowerState::Accepted => "accepted",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            _ => None,
        }
    }
}

/// A remote actor following a local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follower {
    pub local: LocalActor,
    pub actor_id: String,
    /// The `id` of the Follow activity, kept verbatim (Undo and Accept refer to it).
    pub follow_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub state: FollowerState,
    pub created_at: DateTime<Utc>,
}

impl Follower {
    /// Where activities for this follower go: its server's shared inbox when it has one.
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox.as_deref().unwrap_or(&self.inbox)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxItemKind {
    /// A reply to one of our objects.
    Reply,
    /// A post that mentions or addresses one of our actors.
    Mention,
    /// A report (`Flag`), for moderators.
    Flag,
}

impl InboxItemKind {
    pub fn code(self) -> &'static str {
        match self {
            InboxItemKind::Reply => "reply",
            InboxItemKind::Mention => "mention",
            InboxItemKind::Flag => "flag",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Reply, Self::Mention, Self::Flag]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// Something a remote actor sent that people on this node should read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: Uuid,
    pub kind: InboxItemKind,
    /// The initiative it is for; `None` for the node's moderators.
    pub initiative_id: Option<Uuid>,
    pub activity_id: String,
    pub actor_id: String,
    /// The remote object (note) id, or for a flag the reported ids separated by spaces.
    pub object_id: String,
    /// Sanitised HTML.
    pub content_html: String,
    /// The local object it replies to, if any.
    pub in_reply_to: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// Who gets an outgoing activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every accepted follower of the local actor, one delivery per delivery inbox.
    Followers(LocalActor),
    /// These inboxes.
    Inboxes(Vec<Target>),
}

/// One inbox to deliver to, with its host (`name` or `name:port`), by which the queue groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub inbox: String,
    pub host: String,
}

/// An activity to send, as the exact JSON that will be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub activity_id: String,
    pub actor: LocalActor,
    pub body: String,
    pub audience: Audience,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Update,
    Need,
    Event,
    /// An initiative announced to the instance actor's fediverse followers when first published.
    Initiative,
    /// The instance actor's post about a need that became urgent; its object id is derived
    /// from the need's (one post per need, whenever it first became urgent).
    UrgentNeed,
}

impl ObjectKind {
    pub fn code(self) -> &'static str {
        match self {
            ObjectKind::Update => "update",
            ObjectKind::Need => "need",
            ObjectKind::Event => "event",
            ObjectKind::Initiative => "initiative",
            ObjectKind::UrgentNeed => "urgent_need",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Update,
            Self::Need,
            Self::Event,
            Self::Initiative,
            Self::UrgentNeed,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// Records that an object went out as `Create` (and when), or was deleted after that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedMark {
    pub object_id: Uuid,
    pub kind: ObjectKind,
    pub initiative_id: Uuid,
    /// The `published` time sent in the `Create`; served unchanged afterwards.
    pub published_at: DateTime<Utc>,
    pub deleted: bool,
}

/// An update whose publication is delayed: its `Create` goes out at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledPost {
    pub object_id: Uuid,
    pub initiative_id: Uuid,
    pub due_at: DateTime<Utc>,
}

/// A mirrored object (a listing or an update, by its ActivityPub id) stored without some of
/// its pictures, whose origin is asked again from `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPictures {
    pub object_url: String,
    /// Attempts made since it was noted.
    pub attempts: u32,
    pub noted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// Moves the change-feed cursor from `from` to `to`; the write fails with `Conflict` when
/// another process moved it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorMove {
    pub from: i64,
    pub to: i64,
}

/// Everything one step of federation changes, applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FedWrite {
    /// The id of the received activity this step handles: when it was seen before, nothing is
    /// applied and the outcome is [`WriteOutcome::Duplicate`].
    pub received: Option<String>,
    pub cursor: Option<CursorMove>,
    pub remote_actor: Option<RemoteActor>,
    /// Inserted, or replacing the follow of the same (local, actor).
    pub follow: Vec<Follower>,
    /// A pending follow request (local actor, follow id) answered with an `Accept`: the write
    /// is a `Conflict`, and nothing of it happens, unless the request is still pending (an
    /// `Undo` may have withdrawn it since it was read).
    pub accept_follow: Option<(LocalActor, String)>,
    /// A change to a peer row (domain, change) made with the write, such as an admin's answer
    /// to its follow with the `Accept` it queues: the write is a `Conflict`, and nothing of it
    /// happens, unless the change's conditions hold.
    pub peer: Option<(String, PeerUpdate)>,
    pub unfollow: Vec<(LocalActor, String)>,
    /// A remote actor that was deleted: its follows and cached copy go.
    pub forget_actor: Option<String>,
    pub inbox_items: Vec<InboxItem>,
    /// (remote actor, remote object id): inbox items of an object its author deleted.
    pub forget_objects: Vec<(String, String)>,
    pub activities: Vec<NewActivity>,
    /// Inserted or replacing the schedule of the same object.
    pub schedule: Vec<ScheduledPost>,
    pub unschedule: Vec<Uuid>,
    /// Inserted or replacing the mark of the same object.
    pub published: Vec<PublishedMark>,
    /// Each queued only when its version was not relayed before.
    pub relays: Vec<Relay>,
}

/// An Announce of one version of a remote object to the peers that follow this node. It is
/// queued only when that version was not relayed before: the relay mark and the activity are
/// written together, so two deliveries of one version arriving at once relay it once, and a
/// relay that could not be queued is queued on the sender's retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub object_url: String,
    /// The version relayed: the object's `updated` time, or a word such as `deleted`.
    pub version: String,
    /// Only when another version of it was relayed before: a deletion is relayed only for an
    /// object that was relayed here, not for every unknown id a Delete names.
    pub only_after_another: bool,
    pub activity: NewActivity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Applied; this many deliveries were queued.
    Applied { deliveries: u64 },
    /// The received activity was seen before; nothing changed.
    Duplicate,
}

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub activity_id: String,
    pub actor: LocalActor,
    /// The activity's JSON, shared by the deliveries of one claim.
    pub body: Arc<str>,
    pub inbox: String,
    pub host: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// The lease of the claim that returned it (to the microsecond, as stored).
    pub leased_until: DateTime<Utc>,
}

impl Delivery {
    pub fn claim(&self) -> DeliveryClaim {
        DeliveryClaim {
            id: self.id,
            leased_until: self.leased_until,
        }
    }
}

/// The activities of one claim, each read once by its row id and shared by its deliveries (a
/// fan-out claims hundreds of deliveries of one activity; its body was copied for each).
pub struct ClaimedActivities(HashMap<i64, (String, LocalActor, Arc<str>)>);

impl ClaimedActivities {
    /// From rows of `(row id, activity id, actor key, body)`.
    pub fn new(rows: Vec<(i64, String, String, String)>) -> StoreResult<Self> {
        rows.into_iter()
            .map(|(row, activity_id, actor, body)| {
                let actor = LocalActor::from_key(&actor)
                    .ok_or_else(|| StoreError::Corrupt(format!("local actor {actor:?}")))?;
                Ok((row, (activity_id, actor, Arc::from(body))))
            })
            .collect::<StoreResult<_>>()
            .map(Self)
    }

    /// The claimed delivery of activity row `activity` to `inbox`.
    #[allow(clippy::too_many_arguments)]
    pub fn delivery(
        &self,
        id: i64,
        activity: i64,
        inbox: String,
        host: String,
        attempts: i32,
        created_at: DateTime<Utc>,
        leased_until: DateTime<Utc>,
    ) -> StoreResult<Delivery> {
        let (activity_id, actor, body) = self
            .0
            .get(&activity)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} without its activity")))?;
        Ok(Delivery {
            id,
            activity_id: activity_id.clone(),
            actor: *actor,
            body: body.clone(),
            inbox,
            host,
            attempts,
            created_at,
            leased_until,
        })
    }
}

/// A claimed delivery, by its claim: its result is recorded only while the row still holds
/// that claim's lease. Once the lease ran out and another worker claimed the row, that
/// worker's attempt decides, and a late result of the first is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryClaim {
    pub id: i64,
    pub leased_until: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// The receiver refused it for good (a 4xx other than 408/429).
    Rejected,
    /// Retried for too long.
    Failed,
    /// Not sent: the domain was blocked, or the sender can no longer sign.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        Self::Pending,
        Self::Delivered,
        Self::Rejected,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryResult {
    /// `Pending` means "try again at `next_attempt_at`".
    pub status: DeliveryStatus,
    /// Whether an attempt was made (counted in `attempts`); postponing without trying is not one.
    pub attempted: bool,
    pub next_attempt_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// The results of many attempts, recorded in one transaction by
/// [`FederationStore::finish_deliveries`] (a fan-out to thousands of inboxes would otherwise
/// write once per inbox).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinishedDeliveries {
    /// Each delivery and how its attempt ended (or that it was postponed).
    pub results: Vec<(DeliveryClaim, DeliveryResult)>,
    /// Hosts whose new state replaces the stored one (they failed during these attempts).
    pub hosts: Vec<HostState>,
    /// Hosts that answered, and when; applied after `hosts`: their failure count and probe
    /// reset, and one that was failing has its other pending deliveries made due at once. A
    /// healthy host's `last_success_at` is only moved on once it is [`SUCCESS_PRECISION`] old:
    /// a fan-out's every batch answered by hundreds of hosts wrote each one's row again.
    pub answered: Vec<(String, DateTime<Utc>)>,
}

/// How far a healthy host's stored `last_success_at` may lag behind its latest success.
pub const SUCCESS_PRECISION: chrono::Duration = chrono::Duration::minutes(1);

impl FinishedDeliveries {
    pub fn is_empty(&self) -> bool {
        self.results.is_empty() && self.hosts.is_empty() && self.answered.is_empty()
    }

    /// The delivery ids of each distinct result and lease, so a backend writes one statement
    /// per result rather than per delivery (all successes of a claimed batch share one).
    pub fn by_result(&self) -> Vec<(&DeliveryResult, DateTime<Utc>, Vec<i64>)> {
        let mut groups: Vec<(&DeliveryResult, DateTime<Utc>, Vec<i64>)> = Vec::new();
        for (claim, result) in &self.results {
            let lease = claim.leased_until;
            match groups
                .iter_mut()
                .find(|(r, l, _)| *r == result && *l == lease)
            {
                Some((_, _, ids)) => ids.push(claim.id),
                None => groups.push((result, lease, vec![claim.id])),
            }
        }
        groups
    }
}

/// The health of one remote host, as seen by delivery workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostState {
    pub host: String,
    /// Failed attempts in a row since the last success.
    pub consecutive_failures: i32,
    pub first_failure_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// To within [`SUCCESS_PRECISION`].
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When set, the host is considered unreachable and is only tried (probed) from then on.
    pub next_probe_at: Option<DateTime<Utc>>,
}

impl HostState {
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            consecutive_failures: 0,
            first_failure_at: None,
            last_failure_at: None,
            last_success_at: None,
            last_error: None,
            next_probe_at: None,
        }
    }
}

/// Deliveries of one host in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCount {
    pub host: String,
    pub status: DeliveryStatus,
    pub count: u64,
    pub oldest_created_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// An instance-level domain block: no inbox posts accepted from it, nothing delivered to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainBlock {
    /// A host name; also blocks its subdomains.
    pub domain: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Whether `host` (a name, possibly with `:port`) falls under a blocked `domain`. A domain
/// with a port (`localhost:8081`) names exactly that node; without one, every port and subdomain.
pub fn host_matches_domain(host: &str, domain: &str) -> bool {
    if let Some((name, port)) = domain.rsplit_once(':') {
        let host = host.trim_end_matches('.');
        // A default port is no part of a host as kept here: a block of `x.example:443` made
        // before blocks dropped it still stops `x.example`.
        let default_port =
            matches!(port, "443" | "80") && host.eq_ignore_ascii_case(name.trim_end_matches('.'));
        return default_port || host.eq_ignore_ascii_case(domain.trim_end_matches('.'));
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

/// Where a follow between this node and a peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    Pending,
    Accepted,
    Rejected,
}

impl PeerState {
    pub fn code(self) -> &'static str {
        match self {
            PeerState::Pending => "pending",
            PeerState::Accepted => "accepted",
            PeerState::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Pending, Self::Accepted, Self::Rejected]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// Another Hromada node that this node follows (`outgoing`), that follows this node
/// (`incoming`), or both. Node follows go between the two instance actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// `host` or `host:port`, lower-case.
    pub domain: String,
    /// The peer's instance actor.
    pub actor_id: String,
    /// Where activities for the peer go (its shared inbox when it has one).
    pub inbox: String,
    pub outgoing: Option<PeerState>,
    pub outgoing_follow_id: Option<String>,
    pub outgoing_since: Option<DateTime<Utc>>,
    pub incoming: Option<PeerState>,
    pub incoming_follow_id: Option<String>,
    pub incoming_since: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Listings the peer relays (announces from a third node) are not taken.
    pub refuse_relayed: bool,
    /// The next page of the peer's directory to fetch; `None` when no backfill is due.
    pub backfill_next: Option<String>,
}

impl Peer {
    pub fn new(domain: &str, actor_id: &str, inbox: &str) -> Self {
        Self {
            domain: domain.to_ascii_lowercase(),
            actor_id: actor_id.to_string(),
            inbox: inbox.to_string(),
            outgoing: None,
            outgoing_follow_id: None,
            outgoing_since: None,
            incoming: None,
            incoming_follow_id: None,
            incoming_since: None,
            last_activity_at: None,
            refuse_relayed: false,
            backfill_next: None,
        }
    }
}

/// A change to some columns of a peer row, leaving the others as they are: the admin, the
/// inbox and the backfill change different columns of one row, possibly in different
/// processes, and a whole-row save would undo what another wrote meanwhile. `None` keeps a
/// column; `Some(value)` sets it. The `if_*` conditions make it a compare-and-set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerUpdate {
    pub actor_id: Option<String>,
    pub inbox: Option<String>,
    pub outgoing: Option<Option<PeerState>>,
    pub outgoing_follow_id: Option<Option<String>>,
    pub outgoing_since: Option<Option<DateTime<Utc>>>,
    pub incoming: Option<Option<PeerState>>,
    pub incoming_follow_id: Option<Option<String>>,
    pub incoming_since: Option<Option<DateTime<Utc>>>,
    pub refuse_relayed: Option<bool>,
    pub backfill_next: Option<Option<String>>,
    /// Only when the row's `outgoing_follow_id` is this.
    pub if_outgoing_follow_id: Option<String>,
    /// Only when the row's `incoming_follow_id` is this.
    pub if_incoming_follow_id: Option<String>,
    /// Only when the row's `backfill_next` is this.
    pub if_backfill_next: Option<String>,
    /// Only when the row has no backfill due (`backfill_next` is empty).
    pub if_no_backfill: bool,
    /// Only when the peer's follow of this node is in this state.
    pub if_incoming: Option<PeerState>,
}

/// The host of an inbox URL as the queue groups it: `name` or `name:port`, lower-case.
pub fn inbox_host(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase()
}

#[async_trait]
pub trait FederationStore: Send + Sync + 'static {
    /// Applies a step atomically. `Conflict` when the cursor moved or an activity id exists.
    async fn apply(&self, write: &FedWrite) -> StoreResult<WriteOutcome>;

    // ---- keys ----

    async fn keypair(&self, actor: LocalActor) -> StoreResult<Option<Keypair>>;
    /// Stores a key pair unless the actor has one; returns the one kept (several processes may
    /// race to create it; all end up with the first).
    async fn insert_keypair(&self, actor: LocalActor, keypair: &Keypair) -> StoreResult<Keypair>;

    // ---- remote actors and followers ----

    async fn remote_actor(&self, id: &str) -> StoreResult<Option<RemoteActor>>;
    /// Stores an actor (replacing the cached copy) and moves its follows to its new inboxes.
    async fn save_remote_actor(&self, actor: &RemoteActor) -> StoreResult<()>;
    async fn follower(&self, local: LocalActor, actor_id: &str) -> StoreResult<Option<Follower>>;
    async fn follower_by_follow_id(&self, follow_id: &str) -> StoreResult<Option<Follower>>;
    /// Oldest first.
    async fn followers(
        &self,
        local: LocalActor,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Follower>>;
    /// Follows waiting for a maintainer's answer, oldest first.
    async fn follow_requests(
        &self,
        local: LocalActor,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Follower>>;
    async fn follower_count(&self, local: LocalActor, state: FollowerState) -> StoreResult<u64>;

    // ---- received activities and inbox items ----

    async fn is_received(&self, activity_id: &str) -> StoreResult<bool>;
    /// Newest first; `initiative_id: None` lists the items for moderators.
    async fn inbox_items(
        &self,
        initiative_id: Option<Uuid>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<InboxItem>>;

    // ---- publishing ----

    /// The last change-feed `seq` turned into activities (0 at first).
    async fn feed_cursor(&self) -> StoreResult<i64>;
    async fn published_mark(&self, object_id: Uuid) -> StoreResult<Option<PublishedMark>>;
    /// Whether an outgoing activity with this id is kept (sent, or waiting to be).
    async fn is_sent(&self, activity_id: &str) -> StoreResult<bool>;
    /// Scheduled posts due at `now`, earliest first.
    async fn due_scheduled(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledPost>>;

    // ---- delivery queue ----

    /// Claims up to `limit` pending deliveries due at `now` whose host is not waiting for a
    /// probe, oldest first, and leases them until `lease_until` (other workers skip them).
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Delivery>>;
    /// Records the result of an attempt and the host's new state. With `wake_host`, the host's
    /// other pending deliveries become due at once (it answered again after failing).
    async fn finish_delivery(
        &self,
        id: i64,
        result: &DeliveryResult,
        host: &HostState,
        wake_host: bool,
    ) -> StoreResult<()>;
    /// Records a batch of results and host states at once, in one transaction (see
    /// [`FinishedDeliveries`] for the order). A result whose claim's lease was taken over by a
    /// later claim is dropped (see [`DeliveryClaim`]).
    async fn finish_deliveries(&self, finished: &FinishedDeliveries) -> StoreResult<()>;
    async fn host_state(&self, host: &str) -> StoreResult<Option<HostState>>;
    async fn host_states(&self) -> StoreResult<Vec<HostState>>;
    async fn delivery_counts(&self) -> StoreResult<Vec<DeliveryCount>>;
    /// Deletes finished deliveries, activities without deliveries, received ids and relay marks
    /// older than `before`.
    async fn purge_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    // ---- domain blocks ----

    /// Blocks a domain (replacing an existing block's reason) and cancels pending deliveries to it.
    async fn block_domain(&self, block: &DomainBlock) -> StoreResult<()>;
    async fn unblock_domain(&self, domain: &str) -> StoreResult<()>;
    async fn domain_blocks(&self) -> StoreResult<Vec<DomainBlock>>;
    /// Removes everything that came from a domain (matched like a block): its mirrored
    /// listings with their needs, updates and events, its collective's trust statements about
    /// other listings (whose statuses are recomputed in the same transaction), its follows of
    /// local actors, its peer row and its pending deliveries. Returns how many listings went.
    async fn purge_domain(&self, domain: &str) -> StoreResult<u64>;

    // ---- peers ----

    /// Inserts or replaces the peer with the same domain (tools and tests; federation changes
    /// rows with [`FederationStore::insert_peer`] and [`FederationStore::update_peer`]).
    async fn save_peer(&self, peer: &Peer) -> StoreResult<()>;
    /// Inserts the peer unless its domain has a row; `false` when it had one (left as it is).
    async fn insert_peer(&self, peer: &Peer) -> StoreResult<bool>;
    /// Changes the named columns of a peer's row when its conditions hold, in one statement;
    /// `false` when no row was changed (no such peer, or a condition failed).
    async fn update_peer(&self, domain: &str, update: &PeerUpdate) -> StoreResult<bool>;
    /// Deletes the peer's row if neither side follows the other any more; `true` when it went.
    async fn delete_peer_if_unfollowed(&self, domain: &str) -> StoreResult<bool>;
    async fn peer(&self, domain: &str) -> StoreResult<Option<Peer>>;
    /// By domain.
    async fn peers(&self) -> StoreResult<Vec<Peer>>;
    async fn delete_peer(&self, domain: &str) -> StoreResult<()>;
    /// Records that a peer's actor sent something (no-op for a domain that is not a peer).
    async fn touch_peer(&self, domain: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Mirrored listings per origin domain.
    async fn listing_counts(&self) -> StoreResult<Vec<(String, u64)>>;

    // ---- where mirrored listings came from ----

    /// Records that a mirrored listing reached this node through a followed peer (its origin,
    /// a relaying node, or a backfill); idempotent.
    async fn add_listing_source(&self, initiative_id: Uuid, peer: &str) -> StoreResult<()>;
    /// The peers a mirrored listing came through, by domain.
    async fn listing_sources(&self, initiative_id: Uuid) -> StoreResult<Vec<String>>;
    /// Forgets a peer as a source (this node stopped following it): removes the mirrored
    /// listings, with their needs, updates and events, that came through it and through no
    /// other peer. Returns how many listings went.
    async fn forget_listing_source(&self, peer: &str) -> StoreResult<u64>;
    /// Removes one mirrored listing with its needs, updates and events (its origin deleted it)
    /// and leaves a tombstone, also when it is not here (yet), so that a copy arriving late is
    /// not taken in again ([`DirectoryStore::is_tombstoned`]). `false` when there was no such
    /// mirrored listing; local initiatives are never touched.
    ///
    /// [`DirectoryStore::is_tombstoned`]: crate::DirectoryStore::is_tombstoned
    async fn delete_remote_listing(&self, initiative_id: Uuid) -> StoreResult<bool>;

    // ---- mirrored objects whose pictures are fetched again ----

    /// Notes that a mirrored object was stored without some of its pictures, to be fetched
    /// again from `due_at`. An object already noted keeps its row (its schedule runs on).
    async fn note_missing_pictures(
        &self,
        object_url: &str,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The objects due at `now`, earliest first.
    async fn due_missing_pictures(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MissingPictures>>;
    /// After an attempt: `Some(due_at)` counts it and schedules the next one, `None` forgets
    /// the object (every picture copied, the object gone, or given up).
    async fn reschedule_missing_pictures(
        &self,
        object_url: &str,
        due_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_matching() {
        assert!(host_matches_domain("bad.example", "bad.example"));
        assert!(host_matches_domain("m.bad.example:8443", "bad.example"));
        assert!(host_matches_domain("BAD.example.", "bad.example"));
        assert!(!host_matches_domain("notbad.example", "bad.example"));
        assert!(host_matches_domain("localhost:3000", "localhost"));
        assert!(host_matches_domain("localhost:3000", "localhost:3000"));
        assert!(!host_matches_domain("localhost:3001", "localhost:3000"));
        // An old block written with the default port stops the host as it is kept.
        assert!(host_matches_domain("bad.example", "bad.example:443"));
        assert!(!host_matches_domain("m.bad.example", "bad.example:443"));
    }

    #[test]
    fn hosts_of_inboxes() {
        assert_eq!(inbox_host("https://m.example/inbox"), "m.example");
        assert_eq!(
            inbox_host("http://localhost:4000/users/a/inbox"),
            "localhost:4000"
        );
        assert_eq!(inbox_host("https://u@M.example?x"), "m.example");
    }

    #[test]
    fn local_actor_keys() {
        let id = Uuid::new_v4();
        assert_eq!(
            LocalActor::from_key(&LocalActor::Initiative(id).key()),
            Some(LocalActor::Initiative(id))
        );
        assert_eq!(LocalActor::from_key("instance"), Some(LocalActor::Instance));
        assert_eq!(LocalActor::from_key("x"), None);
    }
}
