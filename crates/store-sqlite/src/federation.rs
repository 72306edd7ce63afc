//! [`FederationStore`] on SQLite: keys, followers, received ids, the delivery queue.
//!
//! One process writes a SQLite file at a time (see the crate docs), so claiming deliveries is a
//! plain `UPDATE … RETURNING` inside the writer's transaction.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hromada_store::{
    Audience, ClaimedActivities, Delivery, DeliveryCount, DeliveryResult, DeliveryStatus,
    DomainBlock, FedWrite, FederationStore, FinishedDeliveries, Follower, FollowerState, HostState,
    InboxItem, InboxItemKind, Keypair, LocalActor, MissingPictures, ObjectKind, Peer, PeerState,
    PeerUpdate, PublishedMark, Relay, RemoteActor, SUCCESS_PRECISION, ScheduledPost, StoreError,
    StoreResult, WriteOutcome, inbox_host,
};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{id, known, opt_ts, parse_id, parse_opt_id, parse_opt_ts, parse_ts, ts};
use crate::error::{db_err, write_err};

/// SQL matching a host column against a domain bound as `?1`: the name itself (any port, or
/// exactly when the domain names one) and its subdomains. Same rule as `host_matches_domain`.
/// `_`, which domains may hold, is a wildcard to `LIKE`: escaped, so `a_b.example` never
/// matches `a-b.example`.
macro_rules! host_match {
    ($col:literal) => {
        concat!(
            "(",
            $col,
            " = ?1 OR ",
            $col,
            " LIKE replace(?1, '_', '\\_') || ':%' ESCAPE '\\' OR ",
            $col,
            " LIKE '%.' || replace(?1, '_', '\\_') ESCAPE '\\' OR ",
            $col,
            " LIKE '%.' || replace(?1, '_', '\\_') || ':%' ESCAPE '\\')"
        )
    };
}

#[derive(FromRow)]
struct PeerRow {
    domain: String,
    actor_id: String,
    inbox: String,
    outgoing: Option<String>,
    outgoing_follow_id: Option<String>,
    outgoing_since: Option<String>,
    incoming: Option<String>,
    incoming_follow_id: Option<String>,
    incoming_since: Option<String>,
    last_activity_at: Option<String>,
    refuse_relayed: bool,
    backfill_next: Option<String>,
}

fn peer_state(code: Option<String>) -> StoreResult<Option<PeerState>> {
    code.map(|c| known(PeerState::from_code(&c), "peer state", &c))
        .transpose()
}

impl PeerRow {
    fn into_peer(self) -> StoreResult<Peer> {
        Ok(Peer {
            domain: self.domain,
            actor_id: self.actor_id,
            inbox: self.inbox,
            outgoing: peer_state(self.outgoing)?,
            outgoing_follow_id: self.outgoing_follow_id,
            outgoing_since: parse_opt_ts(self.outgoing_since)?,
            incoming: peer_state(self.incoming)?,
            incoming_follow_id: self.incoming_follow_id,
            incoming_since: parse_opt_ts(self.incoming_since)?,
            last_activity_at: parse_opt_ts(self.last_activity_at)?,
            refuse_relayed: self.refuse_relayed,
            backfill_next: self.backfill_next,
        })
    }
}

fn local_actor(key: &str) -> StoreResult<LocalActor> {
    known(LocalActor::from_key(key), "local actor", key)
}

#[derive(FromRow)]
struct RemoteActorRow {
    id: String,
    kind: String,
    preferred_username: Option<String>,
    name: Option<String>,
    inbox: String,
    shared_inbox: Option<String>,
    key_id: String,
    public_key_pem: String,
    fetched_at: String,
}

impl RemoteActorRow {
    fn into_actor(self) -> StoreResult<RemoteActor> {
        Ok(RemoteActor {
            id: self.id,
            kind: self.kind,
            preferred_username: self.preferred_username,
            name: self.name,
            inbox: self.inbox,
            shared_inbox: self.shared_inbox,
            key_id: self.key_id,
            public_key_pem: self.public_key_pem,
            fetched_at: parse_ts(&self.fetched_at)?,
        })
    }
}

#[derive(FromRow)]
struct FollowerRow {
    local_actor: String,
    actor_id: String,
    follow_id: String,
    inbox: String,
    shared_inbox: Option<String>,
    state: String,
    created_at: String,
}

impl FollowerRow {
    fn into_follower(self) -> StoreResult<Follower> {
        Ok(Follower {
            local: local_actor(&self.local_actor)?,
            actor_id: self.actor_id,
            follow_id: self.follow_id,
            inbox: self.inbox,
            shared_inbox: self.shared_inbox,
            state: known(
                FollowerState::from_code(&self.state),
                "follower state",
                &self.state,
            )?,
            created_at: parse_ts(&self.created_at)?,
        })
    }
}

const FOLLOWER_COLUMNS: &str =
    "local_actor, actor_id, follow_id, inbox, shared_inbox, state, created_at";

#[derive(FromRow)]
struct InboxItemRow {
    id: String,
    kind: String,
    initiative_id: Option<String>,
    activity_id: String,
    actor_id: String,
    object_id: String,
    content_html: String,
    in_reply_to: Option<String>,
    received_at: String,
}

#[derive(FromRow)]
struct HostRow {
    host: String,
    consecutive_failures: i32,
    first_failure_at: Option<String>,
    last_failure_at: Option<String>,
    last_success_at: Option<String>,
    last_error: Option<String>,
    next_probe_at: Option<String>,
}

impl HostRow {
    fn into_state(self) -> StoreResult<HostState> {
        Ok(HostState {
            host: self.host,
            consecutive_failures: self.consecutive_failures,
            first_failure_at: parse_opt_ts(self.first_failure_at)?,
            last_failure_at: parse_opt_ts(self.last_failure_at)?,
            last_success_at: parse_opt_ts(self.last_success_at)?,
            last_error: self.last_error,
            next_probe_at: parse_opt_ts(self.next_probe_at)?,
        })
    }
}

const HOST_COLUMNS: &str = "host, consecutive_failures, first_failure_at, last_failure_at, last_success_at, last_error, next_probe_at";

async fn insert_follower(conn: &mut SqliteConnection, f: &Follower, host: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO fed_followers
             (local_actor, actor_id, follow_id, inbox, shared_inbox, delivery_inbox, delivery_host, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (local_actor, actor_id) DO UPDATE SET
             follow_id = excluded.follow_id, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
             delivery_inbox = excluded.delivery_inbox, delivery_host = excluded.delivery_host,
             state = excluded.state",
    )
    .bind(f.local.key())
    .bind(&f.actor_id)
    .bind(&f.follow_id)
    .bind(&f.inbox)
    .bind(&f.shared_inbox)
    .bind(f.delivery_inbox())
    .bind(host)
    .bind(f.state.code())
    .bind(ts(f.created_at))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn save_actor(conn: &mut SqliteConnection, a: &RemoteActor) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO fed_remote_actors
             (id, kind, preferred_username, name, inbox, shared_inbox, key_id, public_key_pem, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, preferred_username = excluded.preferred_username, name = excluded.name,
             inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, key_id = excluded.key_id,
             public_key_pem = excluded.public_key_pem, fetched_at = excluded.fetched_at",
    )
    .bind(&a.id)
    .bind(&a.kind)
    .bind(&a.preferred_username)
    .bind(&a.name)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.key_id)
    .bind(&a.public_key_pem)
    .bind(ts(a.fetched_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let delivery_inbox = a.shared_inbox.as_deref().unwrap_or(&a.inbox);
    sqlx::query(
        "UPDATE fed_followers SET inbox = ?2, shared_inbox = ?3, delivery_inbox = ?4, delivery_host = ?5
         WHERE actor_id = ?1",
    )
    .bind(&a.id)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(delivery_inbox)
    .bind(inbox_host(delivery_inbox))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts an activity and its deliveries; returns how many deliveries were queued. An activity
/// nobody would receive is not stored.
async fn insert_activity(
    conn: &mut SqliteConnection,
    activity: &hromada_store::NewActivity,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let anyone = match &activity.audience {
        Audience::Inboxes(targets) => !targets.is_empty(),
        Audience::Followers(local) => sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM fed_followers WHERE local_actor = ?1 AND state = 'accepted')",
        )
        .bind(local.key())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?,
    };
    if !anyone {
        return Ok(0);
    }
    let (row_id,): (i64,) = sqlx::query_as(
        "INSERT INTO fed_activities (activity_id, actor, body, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
    )
    .bind(&activity.activity_id)
    .bind(activity.actor.key())
    .bind(&activity.body)
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| write_err(e, |_| format!("activity {} exists", activity.activity_id)))?;
    // One statement for all inboxes: a fan-out to 10,000 followers is one insert, not 10,000.
    let done = match &activity.audience {
        Audience::Followers(local) => sqlx::query(
            "INSERT INTO fed_deliveries (activity, inbox, host, status, next_attempt_at, created_at, updated_at)
             SELECT DISTINCT ?1, delivery_inbox, delivery_host, 'pending', ?2, ?2, ?2 FROM fed_followers
             WHERE local_actor = ?3 AND state = 'accepted' ORDER BY delivery_inbox
             ON CONFLICT (activity, inbox) DO NOTHING",
        )
        .bind(row_id)
        .bind(ts(now))
        .bind(local.key()),
        Audience::Inboxes(targets) => {
            let pairs: Vec<[&str; 2]> = targets
                .iter()
                .map(|t| [t.inbox.as_str(), t.host.as_str()])
                .collect();
            sqlx::query(
                "INSERT INTO fed_deliveries (activity, inbox, host, status, next_attempt_at, created_at, updated_at)
                 SELECT ?1, j.value ->> 0, j.value ->> 1, 'pending', ?2, ?2, ?2 FROM json_each(?3) j
                 WHERE true ORDER BY j.key
                 ON CONFLICT (activity, inbox) DO NOTHING",
            )
            .bind(row_id)
            .bind(ts(now))
            .bind(json_text(&pairs)?)
        }
    }
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected())
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(e.to_string()))
}

async fn save_host(conn: &mut SqliteConnection, host: &HostState) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO fed_hosts ({HOST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (host) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
             first_failure_at = excluded.first_failure_at, last_failure_at = excluded.last_failure_at,
             last_success_at = excluded.last_success_at, last_error = excluded.last_error,
             next_probe_at = excluded.next_probe_at"
    ))
    .bind(&host.host)
    .bind(host.consecutive_failures)
    .bind(host.first_failure_at.map(ts))
    .bind(host.last_failure_at.map(ts))
    .bind(host.last_success_at.map(ts))
    .bind(&host.last_error)
    .bind(host.next_probe_at.map(ts))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn apply_in(
    conn: &mut SqliteConnection,
    w: &FedWrite,
) -> StoreResult<WriteOutcome> {
    let now = Utc::now();
    if let Some(activity_id) = &w.received {
        let inserted = sqlx::query("INSERT INTO fed_received (activity_id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            .bind(activity_id)
            .bind(ts(now))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Ok(WriteOutcome::Duplicate);
        }
    }
    if let Some(cursor) = w.cursor {
        let moved = sqlx::query("UPDATE fed_cursor SET seq = ?2 WHERE name = 'feed' AND seq = ?1")
            .bind(cursor.from)
            .bind(cursor.to)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::Conflict("the feed cursor moved".into()));
        }
    }
    if let Some(actor) = &w.remote_actor {
        save_actor(conn, actor).await?;
    }
    if let Some(actor_id) = &w.forget_actor {
        for table in [
            "DELETE FROM fed_followers WHERE actor_id = ?1",
            "DELETE FROM fed_remote_actors WHERE id = ?1",
        ] {
            sqlx::query(table)
                .bind(actor_id)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
        }
    }
    for f in &w.follow {
        let host = inbox_host(f.delivery_inbox());
        insert_follower(conn, f, &host).await?;
    }
    if let Some((domain, change)) = &w.peer
        && !update_peer_with(&mut *conn, domain, change).await?
    {
        return Err(StoreError::Conflict(format!(
            "the peer {domain} changed meanwhile"
        )));
    }
    if let Some((local, follow_id)) = &w.accept_follow {
        let accepted = sqlx::query(
            "UPDATE fed_followers SET state = 'accepted'
             WHERE local_actor = ?1 AND follow_id = ?2 AND state = 'pending'",
        )
        .bind(local.key())
        .bind(follow_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        if accepted.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the follow request was answered or withdrawn meanwhile".into(),
            ));
        }
    }
    for (local, actor_id) in &w.unfollow {
        sqlx::query("DELETE FROM fed_followers WHERE local_actor = ?1 AND actor_id = ?2")
            .bind(local.key())
            .bind(actor_id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    for item in &w.inbox_items {
        sqlx::query(
            "INSERT INTO fed_inbox_items
                 (id, kind, initiative_id, activity_id, actor_id, object_id, content_html, in_reply_to, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(id(item.id))
        .bind(item.kind.code())
        .bind(item.initiative_id.map(id))
        .bind(&item.activity_id)
        .bind(&item.actor_id)
        .bind(&item.object_id)
        .bind(&item.content_html)
        .bind(&item.in_reply_to)
        .bind(ts(item.received_at))
        .execute(&mut *conn)
        .await
        .map_err(|e| write_err(e, |_| format!("inbox item {} exists", item.id)))?;
    }
    for (actor_id, object_id) in &w.forget_objects {
        sqlx::query("DELETE FROM fed_inbox_items WHERE actor_id = ?1 AND object_id = ?2")
            .bind(actor_id)
            .bind(object_id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    for s in &w.schedule {
        sqlx::query(
            "INSERT INTO fed_scheduled (object_id, initiative_id, due_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (object_id) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(id(s.object_id))
        .bind(id(s.initiative_id))
        .bind(ts(s.due_at))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    for object_id in &w.unschedule {
        sqlx::query("DELETE FROM fed_scheduled WHERE object_id = ?1")
            .bind(id(*object_id))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    for m in &w.published {
        sqlx::query(
            "INSERT INTO fed_published (object_id, kind, initiative_id, published_at, deleted) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (object_id) DO UPDATE SET published_at = excluded.published_at, deleted = excluded.deleted",
        )
        .bind(id(m.object_id))
        .bind(m.kind.code())
        .bind(id(m.initiative_id))
        .bind(ts(m.published_at))
        .bind(m.deleted)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    let mut deliveries = 0;
    for activity in &w.activities {
        deliveries += insert_activity(conn, activity, now).await?;
    }
    for relay in &w.relays {
        if mark_relayed(conn, relay, now).await? {
            deliveries += insert_activity(conn, &relay.activity, now).await?;
        }
    }
    Ok(WriteOutcome::Applied { deliveries })
}

/// Marks the relay's version of its object as relayed; false when it was (or, for a relay
/// only after another version, when no other version was).
async fn mark_relayed(
    conn: &mut SqliteConnection,
    relay: &Relay,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let statement = if relay.only_after_another {
        "UPDATE fed_relay_marks SET version = ?2, relayed_at = ?3 WHERE object_url = ?1 AND version <> ?2"
    } else {
        "INSERT INTO fed_relay_marks (object_url, version, relayed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (object_url) DO UPDATE SET version = excluded.version, relayed_at = excluded.relayed_at
         WHERE fed_relay_marks.version <> excluded.version"
    };
    let marked = sqlx::query(statement)
        .bind(&relay.object_url)
        .bind(&relay.version)
        .bind(ts(now))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(marked.rows_affected() == 1)
}

#[async_trait]
impl FederationStore for SqliteStore {
    async fn apply(&self, write: &FedWrite) -> StoreResult<WriteOutcome> {
        self.batcher.apply(self, write).await
    }

    async fn keypair(&self, actor: LocalActor) -> StoreResult<Option<Keypair>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT public_key_pem, private_key_pem FROM fed_actor_keys WHERE actor = ?1",
        )
        .bind(actor.key())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        Ok(row.map(|(public_key_pem, private_key_pem)| Keypair {
            public_key_pem,
            private_key_pem,
        }))
    }

    async fn insert_keypair(&self, actor: LocalActor, keypair: &Keypair) -> StoreResult<Keypair> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO fed_actor_keys (actor, public_key_pem, private_key_pem, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (actor) DO NOTHING",
        )
        .bind(actor.key())
        .bind(&keypair.public_key_pem)
        .bind(&keypair.private_key_pem)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let (public_key_pem, private_key_pem): (String, String) = sqlx::query_as(
            "SELECT public_key_pem, private_key_pem FROM fed_actor_keys WHERE actor = ?1",
        )
        .bind(actor.key())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Keypair {
            public_key_pem,
            private_key_pem,
        })
    }

    async fn remote_actor(&self, actor_id: &str) -> StoreResult<Option<RemoteActor>> {
        sqlx::query_as::<_, RemoteActorRow>(
            "SELECT id, kind, preferred_username, name, inbox, shared_inbox, key_id, public_key_pem, fetched_at
             FROM fed_remote_actors WHERE id = ?1",
        )
        .bind(actor_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(RemoteActorRow::into_actor)
        .transpose()
    }

    async fn save_remote_actor(&self, actor: &RemoteActor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        save_actor(&mut tx, actor).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn follower(&self, local: LocalActor, actor_id: &str) -> StoreResult<Option<Follower>> {
        sqlx::query_as::<_, FollowerRow>(&format!(
            "SELECT {FOLLOWER_COLUMNS} FROM fed_followers WHERE local_actor = ?1 AND actor_id = ?2"
        ))
        .bind(local.key())
        .bind(actor_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(FollowerRow::into_follower)
        .transpose()
    }

    async fn follower_by_follow_id(&self, follow_id: &str) -> StoreResult<Option<Follower>> {
        sqlx::query_as::<_, FollowerRow>(&format!(
            "SELECT {FOLLOWER_COLUMNS} FROM fed_followers WHERE follow_id = ?1 LIMIT 1"
        ))
        .bind(follow_id)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(FollowerRow::into_follower)
        .transpose()
    }

    async fn followers(
        &self,
        local: LocalActor,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Follower>> {
        sqlx::query_as::<_, FollowerRow>(&format!(
            "SELECT {FOLLOWER_COLUMNS} FROM fed_followers WHERE local_actor = ?1
             ORDER BY created_at, actor_id LIMIT ?2 OFFSET ?3"
        ))
        .bind(local.key())
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(FollowerRow::into_follower)
        .collect()
    }

    async fn follow_requests(
        &self,
        local: LocalActor,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Follower>> {
        sqlx::query_as::<_, FollowerRow>(&format!(
            "SELECT {FOLLOWER_COLUMNS} FROM fed_followers WHERE local_actor = ?1 AND state = ?2
             ORDER BY created_at, actor_id LIMIT ?3 OFFSET ?4"
        ))
        .bind(local.key())
        .bind(FollowerState::Pending.code())
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(FollowerRow::into_follower)
        .collect()
    }

    async fn follower_count(&self, local: LocalActor, state: FollowerState) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM fed_followers WHERE local_actor = ?1 AND state = ?2",
        )
        .bind(local.key())
        .bind(state.code())
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn is_received(&self, activity_id: &str) -> StoreResult<bool> {
        has_row(
            self.pool(),
            "SELECT 1 FROM fed_received WHERE activity_id = ?1",
            activity_id,
        )
        .await
    }

    async fn inbox_items(
        &self,
        initiative_id: Option<Uuid>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<InboxItem>> {
        sqlx::query_as::<_, InboxItemRow>(
            "SELECT id, kind, initiative_id, activity_id, actor_id, object_id, content_html, in_reply_to, received_at
             FROM fed_inbox_items WHERE initiative_id IS ?1 ORDER BY received_at DESC, id LIMIT ?2 OFFSET ?3",
        )
        .bind(initiative_id.map(id))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|r| {
            Ok(InboxItem {
                id: parse_id(&r.id)?,
                kind: known(InboxItemKind::from_code(&r.kind), "inbox item kind", &r.kind)?,
                initiative_id: parse_opt_id(r.initiative_id)?,
                activity_id: r.activity_id,
                actor_id: r.actor_id,
                object_id: r.object_id,
                content_html: r.content_html,
                in_reply_to: r.in_reply_to,
                received_at: parse_ts(&r.received_at)?,
            })
        })
        .collect()
    }

    async fn feed_cursor(&self) -> StoreResult<i64> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM fed_cursor WHERE name = 'feed'")
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| r.0).unwrap_or(0))
    }

    async fn is_sent(&self, activity_id: &str) -> StoreResult<bool> {
        has_row(
            self.pool(),
            "SELECT 1 FROM fed_activities WHERE activity_id = ?1",
            activity_id,
        )
        .await
    }

    async fn published_mark(&self, object_id: Uuid) -> StoreResult<Option<PublishedMark>> {
        let row: Option<(String, String, String, bool)> = sqlx::query_as(
            "SELECT kind, initiative_id, published_at, deleted FROM fed_published WHERE object_id = ?1",
        )
        .bind(id(object_id))
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.map(|(kind, initiative_id, published_at, deleted)| {
            Ok(PublishedMark {
                object_id,
                kind: known(ObjectKind::from_code(&kind), "object kind", &kind)?,
                initiative_id: parse_id(&initiative_id)?,
                published_at: parse_ts(&published_at)?,
                deleted,
            })
        })
        .transpose()
    }

    async fn due_scheduled(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledPost>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT object_id, initiative_id, due_at FROM fed_scheduled WHERE due_at <= ?1 ORDER BY due_at LIMIT ?2",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(o, i, d)| {
                Ok(ScheduledPost {
                    object_id: parse_id(&o)?,
                    initiative_id: parse_id(&i)?,
                    due_at: parse_ts(&d)?,
                })
            })
            .collect()
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Delivery>> {
        // As stored: a result is recorded only while the row holds this very lease.
        let lease_until = lease_until.trunc_subsecs(6);
        let mut tx = self.begin_write().await?;
        let rows: Vec<(i64, i64, String, String, i32, String)> = sqlx::query_as(
            "UPDATE fed_deliveries SET leased_until = ?3
             WHERE id IN (
                 SELECT d.id FROM fed_deliveries d
                 WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                   AND (d.leased_until IS NULL OR d.leased_until <= ?1)
                   AND NOT EXISTS (SELECT 1 FROM fed_hosts h WHERE h.host = d.host AND h.next_probe_at > ?1)
                 ORDER BY d.next_attempt_at, d.id LIMIT ?2)
             RETURNING id, activity, inbox, host, attempts, created_at",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .bind(ts(lease_until))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        // Each activity once, however many inboxes it goes to in this claim.
        let mut activity_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        activity_ids.sort_unstable();
        activity_ids.dedup();
        let activities: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, activity_id, actor, body FROM fed_activities
             WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(json_text(&activity_ids)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let activities = ClaimedActivities::new(activities)?;
        let mut out: Vec<Delivery> = rows
            .into_iter()
            .map(|(id, activity, inbox, host, attempts, created_at)| {
                let created_at = parse_ts(&created_at)?;
                activities.delivery(id, activity, inbox, host, attempts, created_at, lease_until)
            })
            .collect::<StoreResult<_>>()?;
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn finish_delivery(
        &self,
        delivery_id: i64,
        r: &DeliveryResult,
        host: &HostState,
        wake_host: bool,
    ) -> StoreResult<()> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE fed_deliveries SET status = ?2, attempts = attempts + ?3, next_attempt_at = ?4, leased_until = NULL,
                 last_status = COALESCE(?5, last_status), last_error = ?6, updated_at = ?7
             WHERE id = ?1",
        )
        .bind(delivery_id)
        .bind(r.status.code())
        .bind(i32::from(r.attempted))
        .bind(ts(r.next_attempt_at))
        .bind(r.http_status.map(i32::from))
        .bind(&r.error)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        save_host(&mut tx, host).await?;
        if wake_host {
            sqlx::query("UPDATE fed_deliveries SET next_attempt_at = ?2 WHERE host = ?1 AND status = 'pending' AND next_attempt_at > ?2")
                .bind(&host.host)
                .bind(ts(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn finish_deliveries(&self, f: &FinishedDeliveries) -> StoreResult<()> {
        if f.is_empty() {
            return Ok(());
        }
        let now = ts(Utc::now());
        let mut tx = self.begin_write().await?;
        for (r, lease, ids) in f.by_result() {
            sqlx::query(
                "UPDATE fed_deliveries SET status = ?2, attempts = attempts + ?3, next_attempt_at = ?4, leased_until = NULL,
                     last_status = COALESCE(?5, last_status), last_error = ?6, updated_at = ?7
                 WHERE id IN (SELECT value FROM json_each(?1)) AND leased_until = ?8",
            )
            .bind(json_text(&ids)?)
            .bind(r.status.code())
            .bind(i32::from(r.attempted))
            .bind(ts(r.next_attempt_at))
            .bind(r.http_status.map(i32::from))
            .bind(&r.error)
            .bind(&now)
            .bind(ts(lease))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for host in &f.hosts {
            save_host(&mut tx, host).await?;
        }
        if !f.answered.is_empty() {
            // (host, answered at, the oldest success that need not be moved on)
            let answered: Vec<(&str, String, String)> = f
                .answered
                .iter()
                .map(|(h, at)| (h.as_str(), ts(*at), ts(*at - SUCCESS_PRECISION)))
                .collect();
            let answered = json_text(&answered)?;
            sqlx::query(
                "UPDATE fed_deliveries SET next_attempt_at = ?2
                 WHERE status = 'pending' AND next_attempt_at > ?2 AND host IN (
                     SELECT h.host FROM fed_hosts h JOIN json_each(?1) j ON h.host = j.value ->> 0
                     WHERE h.consecutive_failures > 0)",
            )
            .bind(&answered)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            sqlx::query(
                "INSERT INTO fed_hosts (host, consecutive_failures, last_success_at)
                 SELECT j.value ->> 0, 0, j.value ->> 1 FROM json_each(?1) j
                 WHERE NOT EXISTS (SELECT 1 FROM fed_hosts h WHERE h.host = j.value ->> 0
                     AND h.consecutive_failures = 0 AND h.next_probe_at IS NULL
                     AND h.last_success_at > j.value ->> 2)
                 ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, first_failure_at = NULL,
                     next_probe_at = NULL, last_success_at = excluded.last_success_at",
            )
            .bind(&answered)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn host_state(&self, host: &str) -> StoreResult<Option<HostState>> {
        sqlx::query_as::<_, HostRow>(&format!(
            "SELECT {HOST_COLUMNS} FROM fed_hosts WHERE host = ?1"
        ))
        .bind(host)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(HostRow::into_state)
        .transpose()
    }

    async fn host_states(&self) -> StoreResult<Vec<HostState>> {
        sqlx::query_as::<_, HostRow>(&format!(
            "SELECT {HOST_COLUMNS} FROM fed_hosts ORDER BY host"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(HostRow::into_state)
        .collect()
    }

    async fn delivery_counts(&self) -> StoreResult<Vec<DeliveryCount>> {
        let rows: Vec<(String, String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT host, status, COUNT(*), MIN(created_at), MIN(next_attempt_at)
             FROM fed_deliveries GROUP BY host, status ORDER BY host, status",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(host, status, count, oldest, next)| {
                Ok(DeliveryCount {
                    host,
                    status: known(
                        DeliveryStatus::from_code(&status),
                        "delivery status",
                        &status,
                    )?,
                    count: count.max(0) as u64,
                    oldest_created_at: parse_opt_ts(oldest)?,
                    next_attempt_at: parse_opt_ts(next)?,
                })
            })
            .collect()
    }

    async fn purge_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut purged = 0;
        for statement in [
            "DELETE FROM fed_deliveries WHERE status <> 'pending' AND updated_at < ?1",
            "DELETE FROM fed_activities WHERE created_at < ?1
                 AND NOT EXISTS (SELECT 1 FROM fed_deliveries d WHERE d.activity = fed_activities.id)",
            "DELETE FROM fed_received WHERE received_at < ?1",
            "DELETE FROM fed_relay_marks WHERE relayed_at < ?1",
        ] {
            purged += sqlx::query(statement).bind(ts(before)).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(purged)
    }

    async fn block_domain(&self, block: &DomainBlock) -> StoreResult<()> {
        let domain = block.domain.trim_end_matches('.').to_ascii_lowercase();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO fed_domain_blocks (domain, reason, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (domain) DO UPDATE SET reason = excluded.reason",
        )
        .bind(&domain)
        .bind(&block.reason)
        .bind(ts(block.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // A host is `name` or `name:port`; the block covers the name and its subdomains.
        sqlx::query(concat!(
            "UPDATE fed_deliveries SET status = 'cancelled', last_error = 'domain blocked', updated_at = ?2
             WHERE status = 'pending' AND ",
            host_match!("host")
        ))
        .bind(&domain)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn unblock_domain(&self, domain: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM fed_domain_blocks WHERE domain = ?1")
            .bind(domain.trim_end_matches('.').to_ascii_lowercase())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn domain_blocks(&self) -> StoreResult<Vec<DomainBlock>> {
        let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT domain, reason, created_at FROM fed_domain_blocks ORDER BY domain",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(domain, reason, created_at)| {
                Ok(DomainBlock {
                    domain,
                    reason,
                    created_at: parse_ts(&created_at)?,
                })
            })
            .collect()
    }

    async fn purge_domain(&self, domain: &str) -> StoreResult<u64> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut tx = self.begin_write().await?;
        // Needs, updates, events, categories and regions go with the initiative (ON DELETE CASCADE).
        let listings = sqlx::query(concat!(
            "DELETE FROM initiatives WHERE origin IS NOT NULL AND ",
            host_match!("origin")
        ))
        .bind(&domain)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        // What the blocked collective said about other listings counts no more.
        let spoken_of: Vec<String> = sqlx::query_scalar(concat!(
            "DELETE FROM trust_statements WHERE NOT local AND ",
            host_match!("collective"),
            " RETURNING initiative_id"
        ))
        .bind(&domain)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut spoken_of = spoken_of
            .iter()
            .map(|i| parse_id(i))
            .collect::<StoreResult<Vec<Uuid>>>()?;
        spoken_of.sort_unstable();
        spoken_of.dedup();
        for initiative in spoken_of {
            crate::trust::recompute(&mut tx, initiative).await?;
        }
        sqlx::query(concat!(
            "DELETE FROM fed_followers WHERE ",
            host_match!("delivery_host")
        ))
        .bind(&domain)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(concat!(
            "DELETE FROM fed_peers WHERE ",
            host_match!("domain")
        ))
        .bind(&domain)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(concat!(
            "UPDATE fed_deliveries SET status = 'cancelled', last_error = 'domain purged', updated_at = ?2
             WHERE status = 'pending' AND ",
            host_match!("host")
        ))
        .bind(&domain)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(listings)
    }

    async fn save_peer(&self, p: &Peer) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO fed_peers (domain, actor_id, inbox, outgoing, outgoing_follow_id,
                outgoing_since, incoming, incoming_follow_id, incoming_since, last_activity_at,
                refuse_relayed, backfill_next)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (domain) DO UPDATE SET actor_id = excluded.actor_id,
                inbox = excluded.inbox, outgoing = excluded.outgoing,
                outgoing_follow_id = excluded.outgoing_follow_id,
                outgoing_since = excluded.outgoing_since, incoming = excluded.incoming,
                incoming_follow_id = excluded.incoming_follow_id,
                incoming_since = excluded.incoming_since,
                last_activity_at = excluded.last_activity_at,
                refuse_relayed = excluded.refuse_relayed, backfill_next = excluded.backfill_next",
        )
        .bind(p.domain.to_ascii_lowercase())
        .bind(&p.actor_id)
        .bind(&p.inbox)
        .bind(p.outgoing.map(PeerState::code))
        .bind(&p.outgoing_follow_id)
        .bind(opt_ts(p.outgoing_since))
        .bind(p.incoming.map(PeerState::code))
        .bind(&p.incoming_follow_id)
        .bind(opt_ts(p.incoming_since))
        .bind(opt_ts(p.last_activity_at))
        .bind(p.refuse_relayed)
        .bind(&p.backfill_next)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn insert_peer(&self, p: &Peer) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO fed_peers (domain, actor_id, inbox, outgoing, outgoing_follow_id,
                outgoing_since, incoming, incoming_follow_id, incoming_since, last_activity_at,
                refuse_relayed, backfill_next)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (domain) DO NOTHING",
        )
        .bind(p.domain.to_ascii_lowercase())
        .bind(&p.actor_id)
        .bind(&p.inbox)
        .bind(p.outgoing.map(PeerState::code))
        .bind(&p.outgoing_follow_id)
        .bind(opt_ts(p.outgoing_since))
        .bind(p.incoming.map(PeerState::code))
        .bind(&p.incoming_follow_id)
        .bind(opt_ts(p.incoming_since))
        .bind(opt_ts(p.last_activity_at))
        .bind(p.refuse_relayed)
        .bind(&p.backfill_next)
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_peer(&self, domain: &str, u: &PeerUpdate) -> StoreResult<bool> {
        update_peer_with(self.writer(), domain, u).await
    }

    async fn delete_peer_if_unfollowed(&self, domain: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM fed_peers WHERE domain = ?1 AND outgoing IS NULL AND incoming IS NULL",
        )
        .bind(domain.to_ascii_lowercase())
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn peer(&self, domain: &str) -> StoreResult<Option<Peer>> {
        let row: Option<PeerRow> = sqlx::query_as("SELECT * FROM fed_peers WHERE domain = ?1")
            .bind(domain.to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(PeerRow::into_peer).transpose()
    }

    async fn peers(&self) -> StoreResult<Vec<Peer>> {
        let rows: Vec<PeerRow> = sqlx::query_as("SELECT * FROM fed_peers ORDER BY domain")
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(PeerRow::into_peer).collect()
    }

    async fn delete_peer(&self, domain: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM fed_peers WHERE domain = ?1")
            .bind(domain.to_ascii_lowercase())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn touch_peer(&self, domain: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE fed_peers SET last_activity_at = ?2 WHERE domain = ?1")
            .bind(domain.to_ascii_lowercase())
            .bind(ts(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn listing_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT origin, COUNT(*) FROM initiatives WHERE origin IS NOT NULL GROUP BY origin",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(o, n)| (o, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn add_listing_source(&self, initiative_id: Uuid, peer: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Only mirrored listings have sources; a local id is ignored.
        sqlx::query(
            "INSERT INTO fed_listing_sources (initiative_id, peer)
             SELECT id, ?2 FROM initiatives WHERE id = ?1 AND origin IS NOT NULL
             ON CONFLICT DO NOTHING",
        )
        .bind(id(initiative_id))
        .bind(peer.to_ascii_lowercase())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn listing_sources(&self, initiative_id: Uuid) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT peer FROM fed_listing_sources WHERE initiative_id = ?1 ORDER BY peer",
        )
        .bind(id(initiative_id))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    async fn forget_listing_source(&self, peer: &str) -> StoreResult<u64> {
        let peer = peer.to_ascii_lowercase();
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query(
            "DELETE FROM initiatives WHERE origin IS NOT NULL
               AND id IN (SELECT initiative_id FROM fed_listing_sources WHERE peer = ?1)
               AND NOT EXISTS (SELECT 1 FROM fed_listing_sources s
                               WHERE s.initiative_id = initiatives.id AND s.peer <> ?1)",
        )
        .bind(&peer)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        sqlx::query("DELETE FROM fed_listing_sources WHERE peer = ?1")
            .bind(&peer)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(gone)
    }

    async fn delete_remote_listing(&self, initiative_id: Uuid) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM initiatives WHERE id = ?1 AND origin IS NOT NULL")
            .bind(id(initiative_id))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query(
            "INSERT INTO tombstones (id, kind, deleted_at)
             SELECT ?1, 'remote_listing', ?2 WHERE NOT EXISTS (SELECT 1 FROM initiatives WHERE id = ?1)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id(initiative_id))
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(gone > 0)
    }

    async fn note_missing_pictures(
        &self,
        object_url: &str,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO fed_missing_pictures (object_url, noted_at, due_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (object_url) DO NOTHING",
        )
        .bind(object_url)
        .bind(ts(at))
        .bind(ts(due_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn due_missing_pictures(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MissingPictures>> {
        let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT object_url, attempts, noted_at, due_at FROM fed_missing_pictures
             WHERE due_at <= ?1 ORDER BY due_at, object_url LIMIT ?2",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(object_url, attempts, noted_at, due_at)| {
                Ok(MissingPictures {
                    object_url,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    noted_at: parse_ts(&noted_at)?,
                    due_at: parse_ts(&due_at)?,
                })
            })
            .collect()
    }

    async fn reschedule_missing_pictures(
        &self,
        object_url: &str,
        due_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let query = match due_at {
            Some(due_at) => sqlx::query(
                "UPDATE fed_missing_pictures SET attempts = attempts + 1, due_at = ?2
                 WHERE object_url = ?1",
            )
            .bind(object_url)
            .bind(ts(due_at)),
            None => sqlx::query("DELETE FROM fed_missing_pictures WHERE object_url = ?1")
                .bind(object_url),
        };
        query.execute(&mut *tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}

/// Whether `sql` (a `SELECT 1 … WHERE … = <key>`) finds a row.
async fn has_row(pool: &sqlx::SqlitePool, sql: &str, key: &str) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    Ok(row.is_some())
}

/// [`FederationStore::update_peer`] on any connection (alone, or within an applied write).
async fn update_peer_with<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    domain: &str,
    u: &PeerUpdate,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE fed_peers SET actor_id = COALESCE(?2, actor_id), inbox = COALESCE(?3, inbox),
            outgoing = CASE WHEN ?4 THEN ?5 ELSE outgoing END,
            outgoing_follow_id = CASE WHEN ?6 THEN ?7 ELSE outgoing_follow_id END,
            outgoing_since = CASE WHEN ?8 THEN ?9 ELSE outgoing_since END,
            incoming = CASE WHEN ?10 THEN ?11 ELSE incoming END,
            incoming_follow_id = CASE WHEN ?12 THEN ?13 ELSE incoming_follow_id END,
            incoming_since = CASE WHEN ?14 THEN ?15 ELSE incoming_since END,
            refuse_relayed = COALESCE(?16, refuse_relayed),
            backfill_next = CASE WHEN ?17 THEN ?18 ELSE backfill_next END
         WHERE domain = ?1
            AND (?19 IS NULL OR outgoing_follow_id = ?19)
            AND (?20 IS NULL OR incoming_follow_id = ?20)
            AND (?21 IS NULL OR backfill_next = ?21)
            AND (?22 IS NULL OR incoming = ?22)
            AND (NOT ?23 OR backfill_next IS NULL)",
    )
    .bind(domain.to_ascii_lowercase())
    .bind(&u.actor_id)
    .bind(&u.inbox)
    .bind(u.outgoing.is_some())
    .bind(u.outgoing.flatten().map(PeerState::code))
    .bind(u.outgoing_follow_id.is_some())
    .bind(u.outgoing_follow_id.clone().flatten())
    .bind(u.outgoing_since.is_some())
    .bind(opt_ts(u.outgoing_since.flatten()))
    .bind(u.incoming.is_some())
    .bind(u.incoming.flatten().map(PeerState::code))
    .bind(u.incoming_follow_id.is_some())
    .bind(u.incoming_follow_id.clone().flatten())
    .bind(u.incoming_since.is_some())
    .bind(opt_ts(u.incoming_since.flatten()))
    .bind(u.refuse_relayed)
    .bind(u.backfill_next.is_some())
    .bind(u.backfill_next.clone().flatten())
    .bind(&u.if_outgoing_follow_id)
    .bind(&u.if_incoming_follow_id)
    .bind(&u.if_backfill_next)
    .bind(u.if_incoming.map(PeerState::code))
    .bind(u.if_no_backfill)
    .execute(db)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}
