//! The change feed, the audit log and tombstones.
//!
//! Writers call [`record`] inside their own transaction, so a change and its audit entry are
//! stored together with the write they describe, or not at all.

use chrono::{DateTime, Utc};
use hromada_domain::{AuditAction, AuditEntry};
use hromada_store::{Change, ChangeKind, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{id, json, known, parse_id, parse_json, parse_ts, ts};
use crate::error::{db_err, write_err};

/// Writes an optional audit entry and, when the write changed something the public sees, a
/// change-feed row.
pub(crate) async fn record(
    conn: &mut SqliteConnection,
    audit: Option<&AuditEntry>,
    change: Option<(ChangeKind, Uuid, Uuid)>,
) -> StoreResult<()> {
    if let Some(entry) = audit {
        insert_audit(conn, entry).await?;
    }
    if let Some((kind, entity_id, initiative_id)) = change {
        LOCAL_CHANGES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        sqlx::query(
            "INSERT INTO changes (at, kind, entity_id, initiative_id) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(ts(Utc::now()))
        .bind(kind.code())
        .bind(id(entity_id))
        .bind(id(initiative_id))
        .execute(conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_audit(conn: &mut SqliteConnection, entry: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, subject, reason, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(id(entry.id))
    .bind(ts(entry.at))
    .bind(&entry.actor)
    .bind(entry.action.code())
    .bind(&entry.subject)
    .bind(&entry.reason)
    .bind(json(&entry.details)?)
    .execute(conn)
    .await
    .map_err(|e| {
        write_err(e, |_| {
            format!("an audit entry with id {} already exists", entry.id)
        })
    })?;
    Ok(())
}

pub(crate) async fn append_audit(store: &SqliteStore, entry: &AuditEntry) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    insert_audit(&mut tx, entry).await?;
    tx.commit().await.map_err(db_err)
}

#[derive(FromRow)]
struct AuditRow {
    id: String,
    at: String,
    actor: Option<String>,
    action: String,
    subject: String,
    reason: Option<String>,
    details: String,
}

impl AuditRow {
    fn into_entry(self) -> StoreResult<AuditEntry> {
        Ok(AuditEntry {
            id: parse_id(&self.id)?,
            at: parse_ts(&self.at)?,
            actor: self.actor,
            action: known(
                AuditAction::from_code(&self.action),
                "audit action",
                &self.action,
            )?,
            subject: self.subject,
            reason: self.reason,
            details: parse_json(&self.details, "audit details")?,
        })
    }
}

pub(crate) async fn audit_log(
    store: &SqliteStore,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<AuditEntry>> {
    sqlx::query_as::<_, AuditRow>(
        "SELECT id, at, actor, action, subject, reason, details FROM audit_log
         ORDER BY at DESC, seq DESC LIMIT ?1 OFFSET ?2",
    )
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(AuditRow::into_entry)
    .collect()
}

#[derive(FromRow)]
struct ChangeRow {
    seq: i64,
    at: String,
    kind: String,
    entity_id: String,
    initiative_id: String,
}

/// Changes recorded by this process (all stores in it), counted as they are written, before
/// their commit: a cache that reads the count before building from the store rebuilds after
/// any later write of this process; a build racing a commit is caught by the feed's `seq`.
static LOCAL_CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn local_changes() -> u64 {
    LOCAL_CHANGES.load(std::sync::atomic::Ordering::SeqCst)
}

pub(crate) async fn latest_seq(store: &SqliteStore) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM changes")
        .fetch_one(store.pool())
        .await
        .map_err(db_err)
}

pub(crate) async fn changes_after(
    store: &SqliteStore,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<Change>> {
    let rows = sqlx::query_as::<_, ChangeRow>(
        "SELECT seq, at, kind, entity_id, initiative_id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?;
    rows.into_iter()
        .map(|r| {
            Ok(Change {
                seq: r.seq,
                at: parse_ts(&r.at)?,
                kind: known(ChangeKind::from_code(&r.kind), "change kind", &r.kind)?,
                entity_id: parse_id(&r.entity_id)?,
                initiative_id: parse_id(&r.initiative_id)?,
            })
        })
        .collect()
}

pub(crate) async fn add_tombstone(
    conn: &mut SqliteConnection,
    object_id: Uuid,
    kind: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO tombstones (id, kind, deleted_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING")
        .bind(id(object_id))
        .bind(kind)
        .bind(ts(at))
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Why an `UPDATE … WHERE id = ? AND updated_at <= ?` of `table` changed nothing: the row is
/// gone, or a newer version of it is stored, which an older one must not overwrite (two
/// deliveries of one object at once).
pub(crate) async fn not_updated(
    conn: &mut SqliteConnection,
    table: &'static str,
    row_id: String,
) -> StoreError {
    let found = sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = ?1"))
        .bind(&row_id)
        .fetch_optional(conn)
        .await;
    match found {
        Ok(Some(_)) => StoreError::Conflict(format!("a newer version of {row_id} is stored")),
        Ok(None) => StoreError::NotFound,
        Err(e) => db_err(e),
    }
}

/// Refuses to create an object under the id of a deleted one.
pub(crate) async fn ensure_not_tombstoned(
    conn: &mut SqliteConnection,
    object_id: Uuid,
) -> StoreResult<()> {
    let found = sqlx::query("SELECT 1 FROM tombstones WHERE id = ?1")
        .bind(id(object_id))
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    match found {
        Some(_) => Err(StoreError::Conflict(format!(
            "id {object_id} belonged to a deleted object and cannot be reused"
        ))),
        None => Ok(()),
    }
}

pub(crate) async fn is_tombstoned(store: &SqliteStore, object_id: Uuid) -> StoreResult<bool> {
    let found = sqlx::query("SELECT 1 FROM tombstones WHERE id = ?1")
        .bind(id(object_id))
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    Ok(found.is_some())
}
