//! The storage interface of a Hromada node.
//!
//! [`Store`] is implemented by `hromada-store-sqlite` and `hromada-store-postgres`; the
//! conformance suite in `tests/` runs the same cases on both. This crate must not depend on
//! sqlx, axum or activitypub_federation.
//!
//! Every write that changes what the public sees (initiatives, needs, updates, events) also
//! appends a [`Change`] to the change feed in the same transaction. Federation reads the feed
//! and turns it into activities, so nothing published is ever lost between the write and the
//! delivery queue, whatever crashes.

mod federation;
mod trust;
mod types;
mod watch;

use async_trait::async_trait;
use hromada_domain::{AuditEntry, Event, Initiative, Need, Role, Update, User};
use uuid::Uuid;

pub use federation::*;
pub use trust::*;
pub use types::*;
pub use watch::{ChangeWatch, Version};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken, e.g. a handle or username that is already taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or failed; details are for the log, not for users.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data could not be read back (a bug, or a manual edit of the database).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// Of this version's migrations (`known`), how many a database that applied `applied` lacks,
/// and whether it applied none at all (a new database).
pub fn migrations_missing(known: impl IntoIterator<Item = i64>, applied: &[i64]) -> (usize, bool) {
    let missing = known.into_iter().filter(|v| !applied.contains(v)).count();
    (missing, applied.is_empty())
}

impl StoreError {
    /// A compare-and-set write found the row changed since it was read.
    pub fn changed_meanwhile(what: &str) -> Self {
        StoreError::Conflict(format!("{what} was changed meanwhile; read it again"))
    }
}

/// Everything a node keeps. All methods are atomic: each either fully happens or not at all.
/// Trust storage ([`TrustStore`]) comes with it, so every holder of a store can reach it.
#[async_trait]
pub trait Store: TrustStore + Send + Sync + 'static {
    /// Checks the database answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;

    // ---- initiatives ----

    /// Inserts a new initiative. `Conflict` when the handle is taken (among local initiatives,
    /// or for the same origin among remote ones), or was a deleted local initiative's.
    async fn insert_initiative(
        &self,
        initiative: &Initiative,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// Replaces a stored initiative (matched by id) with this version, recording `audit`, if
    /// the stored one is still the version the caller read (`read_at`: its `updated_at`).
    /// `Conflict` when another write came in between (a moderator's decision, a second
    /// process, a newer copy from its origin): nothing is written then. `NotFound` when it
    /// is gone.
    async fn update_initiative(
        &self,
        initiative: &Initiative,
        read_at: chrono::DateTime<chrono::Utc>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    async fn initiative_by_id(&self, id: Uuid) -> StoreResult<Option<Initiative>>;
    /// A local initiative by handle (`origin = None`), or a remote one by handle and origin domain.
    async fn initiative_by_handle(
        &self,
        handle: &str,
        origin: Option<&str>,
    ) -> StoreResult<Option<Initiative>>;
    /// Deletes a local initiative with its needs, updates and events. Leaves a tombstone for
    /// every one of their ids, reserves the handle for ever (see [`DeletedInitiative`]), and
    /// records `InitiativeDeleted` in the change feed with `audit`. `NotFound` when there is no
    /// such local initiative.
    async fn delete_initiative(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// A deleted local initiative, by id or by handle.
    async fn deleted_initiative(
        &self,
        key: DeletedKey<'_>,
    ) -> StoreResult<Option<DeletedInitiative>>;
    /// Full-text search with filters, ranked, paginated.
    async fn search_initiatives(&self, query: &SearchQuery) -> StoreResult<SearchPage>;
    /// One short step of merging the search index back into one piece: `start` begins merging
    /// everything, later steps go on with it; `true` while a step found work, `false` once
    /// nothing is left. On SQLite every write adds a segment to each full-text index, FTS5
    /// merges them only a few at a time, and a search reads every segment; PostgreSQL's GIN
    /// indexes need no such upkeep (always `false`).
    async fn merge_search_index(&self, start: bool) -> StoreResult<bool>;

    // ---- needs ----

    async fn insert_need(&self, need: &Need) -> StoreResult<()>;
    /// Replaces a need; `audit` is written in the same transaction.
    async fn update_need(&self, need: &Need, audit: Option<&AuditEntry>) -> StoreResult<()>;
    async fn need_by_id(&self, id: Uuid) -> StoreResult<Option<Need>>;
    /// All needs of an initiative: open first, then by urgency (highest first), then newest.
    async fn needs_of(&self, initiative_id: Uuid) -> StoreResult<Vec<Need>>;
    /// Open needs of public initiatives at or above an urgency, most urgent and newest first.
    async fn urgent_needs(
        &self,
        min_urgency: hromada_domain::Urgency,
        limit: u32,
    ) -> StoreResult<Vec<Need>>;

    // ---- updates ----

    async fn insert_update(&self, update: &Update) -> StoreResult<()>;
    /// Replaces an update; `audit` is written in the same transaction.
    async fn update_update(&self, update: &Update, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// Deletes an update, leaving a tombstone so its id is never reused.
    async fn delete_update(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()>;
    async fn update_by_id(&self, id: Uuid) -> StoreResult<Option<Update>>;
    /// Updates of an initiative, newest `publish_at` first, the first `skip` left out. With
    /// `published_before`, only those published by then (the public view); without, also
    /// those scheduled for later.
    async fn updates_of(
        &self,
        initiative_id: Uuid,
        published_before: Option<chrono::DateTime<chrono::Utc>>,
        skip: u32,
        limit: u32,
    ) -> StoreResult<Vec<Update>>;

    // ---- events ----

    async fn insert_event(&self, event: &Event) -> StoreResult<()>;
    /// Replaces an event; `audit` is written in the same transaction.
    async fn update_event(&self, event: &Event, audit: Option<&AuditEntry>) -> StoreResult<()>;
    async fn event_by_id(&self, id: Uuid) -> StoreResult<Option<Event>>;
    /// Events published by, or raising funds for, an initiative; soonest first.
    async fn events_of(&self, initiative_id: Uuid) -> StoreResult<Vec<Event>>;
    /// Events of public initiatives ending (or starting, without an end) after `after`, soonest first.
    async fn upcoming_events(
        &self,
        after: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;

    // ---- tombstones ----

    /// Whether an object id (an update, need or event uuid) was deleted.
    async fn is_tombstoned(&self, id: Uuid) -> StoreResult<bool>;

    // ---- accounts ----

    /// `Conflict` when the username is taken.
    async fn insert_user(&self, user: &User, audit: Option<&AuditEntry>) -> StoreResult<()>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Sets a new password hash and revokes every live token of the user but `keep` (the
    /// session the change was made in): whoever held the old password is signed out.
    async fn set_password_hash(
        &self,
        user_id: Uuid,
        hash: &str,
        keep: Option<Uuid>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// Disabling also revokes every live token of the user, so enabling the account again
    /// does not bring back sessions or API tokens someone may have taken meanwhile.
    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled: bool,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// `NotFound` when there is no such user.
    async fn set_user_role(
        &self,
        user_id: Uuid,
        role: Role,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// Makes a user a maintainer of an initiative (idempotent: `audit` is recorded only when the
    /// user did not maintain it yet).
    async fn add_maintainer(
        &self,
        user_id: Uuid,
        initiative_id: Uuid,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// Ends a user's maintainership of an initiative. `false` (and nothing recorded) when the
    /// user did not maintain it.
    async fn remove_maintainer(
        &self,
        user_id: Uuid,
        initiative_id: Uuid,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool>;

    /// Stores a token; only its hash is ever kept.
    async fn insert_token(
        &self,
        token: &TokenRecord,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// A token that is neither revoked nor expired at `now`, by hash.
    async fn live_token(
        &self,
        hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<TokenRecord>>;
    /// A token by hash whatever its state (revoked, expired), so a refusal can say why.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRecord>>;
    async fn tokens_of(&self, user_id: Uuid) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes a token by id. `NotFound` when there is no such live token.
    async fn revoke_token(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()>;

    // ---- rate limits ----

    /// Counts one hit on `key` in the fixed window `[window_start, window_end)` and returns the
    /// window's hits so far, this one included. Atomic, so processes sharing the database count
    /// together. Rows of windows that ended before `now` are deleted on the way.
    async fn record_hit(
        &self,
        key: &str,
        window_start: chrono::DateTime<chrono::Utc>,
        window_end: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u32>;

    /// Records one failed login under each of `keys` (the username's and the address's),
    /// deleting failures at or before `forget_before` on the way.
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: chrono::DateTime<chrono::Utc>,
        forget_before: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    /// When `key` failed after `since`: the newest `limit` failures, newest first.
    async fn login_failures(
        &self,
        key: &str,
        since: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<chrono::DateTime<chrono::Utc>>>;

    /// Forgets every failed login under `key`.
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;

    /// Forgets the login attempt recorded under each of `keys` at `at` (it succeeded).
    async fn forget_login_attempt(
        &self,
        keys: &[String],
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()>;

    // ---- media ----

    /// The name of every photo an initiative (avatar, header) or an update names, whatever
    /// their status: what the media sweep must keep.
    async fn photos_in_use(&self) -> StoreResult<Vec<String>>;

    // ---- audit log and change feed ----

    /// Records a decision that changes nothing else (e.g. a rejected login is not audited, but a
    /// refused submission of a maintainer is).
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// Newest first.
    async fn audit_log(&self, limit: u32, offset: u32) -> StoreResult<Vec<AuditEntry>>;
    /// Changes with `seq > after`, oldest first.
    async fn changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Change>>;
    /// The newest change's `seq` (0 when there is none): a cheap way for caches to see that
    /// something changed, including writes of other processes on the same database.
    async fn latest_change_seq(&self) -> StoreResult<i64>;
    /// How many changes this process has recorded so far (no I/O; grows before each commit),
    /// so caches see the process's own writes at once, whatever the entry point.
    fn local_changes(&self) -> u64;

    // ---- background jobs ----

    /// Takes or renews the lease of a background job until `until`: `true` when `holder` now
    /// holds it (it was free, expired at `now`, or already `holder`'s), `false` while another
    /// holder's lease runs. One atomic statement, so two processes never both hold a job.
    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool>;
    /// Gives a job up (on shutdown), so another process need not wait for the lease to expire;
    /// nothing happens when `holder` does not hold it.
    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()>;
    /// The job's lease as last taken or renewed (possibly expired); `None` when never taken.
    async fn job_lease(&self, job: &str) -> StoreResult<Option<JobLease>>;
}
