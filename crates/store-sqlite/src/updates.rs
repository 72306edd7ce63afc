//! Updates (news and spending reports), including delayed publication and deletion with a
//! tombstone.

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, LineItem, Update, UpdateKind};
use hromada_store::{ChangeKind, StoreError, StoreResult};
use sqlx::FromRow;
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{SqliteQuery, id, json, parse_id, parse_json, parse_opt_id, parse_ts, ts};
use crate::error::{db_err, write_err};
use crate::feed;

/// Columns in bind order, shared by insert and update (see [`bind_fields`]).
const INSERT: &str = "
    INSERT INTO updates (id, initiative_id, kind, items, body, need_id, publish_at, created_at, updated_at, photos)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

const UPDATE: &str = "
    UPDATE updates SET
        initiative_id = ?2, kind = ?3, items = ?4, body = ?5, need_id = ?6, publish_at = ?7,
        created_at = ?8, updated_at = ?9, photos = ?10
    WHERE id = ?1 AND updated_at <= ?9";

const SELECT: &str = "
    SELECT id, initiative_id, kind, items, body, need_id, publish_at, created_at, updated_at, photos
    FROM updates";

fn bind_fields<'q>(query: SqliteQuery<'q>, u: &'q Update) -> StoreResult<SqliteQuery<'q>> {
    let (kind, items) = match &u.kind {
        UpdateKind::News => ("news", None),
        UpdateKind::SpendingReport { items } => ("spending_report", Some(json(items)?)),
    };
    Ok(query
        .bind(id(u.id))
        .bind(id(u.initiative_id))
        .bind(kind)
        .bind(items)
        .bind(&u.body)
        .bind(u.need_id.map(id))
        .bind(ts(u.publish_at))
        .bind(ts(u.created_at))
        .bind(ts(u.updated_at))
        .bind(json(&u.photos)?))
}

pub(crate) async fn insert(store: &SqliteStore, u: &Update) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    feed::ensure_not_tombstoned(&mut tx, u.id).await?;
    bind_fields(sqlx::query(INSERT), u)?
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |_| format!("an update with id {} already exists", u.id)))?;
    feed::record(
        &mut tx,
        None,
        Some((ChangeKind::UpdateCreated, u.id, u.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn update(
    store: &SqliteStore,
    u: &Update,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = bind_fields(sqlx::query(UPDATE), u)?
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |_| format!("an update with id {} already exists", u.id)))?;
    if done.rows_affected() == 0 {
        return Err(feed::not_updated(&mut tx, "updates", id(u.id)).await);
    }
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::UpdateEdited, u.id, u.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn delete(
    store: &SqliteStore,
    update_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let initiative_id: Option<String> =
        sqlx::query_scalar("DELETE FROM updates WHERE id = ?1 RETURNING initiative_id")
            .bind(id(update_id))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    let initiative_id = parse_id(&initiative_id.ok_or(StoreError::NotFound)?)?;
    feed::add_tombstone(&mut tx, update_id, "update", Utc::now()).await?;
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::UpdateDeleted, update_id, initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(store: &SqliteStore, update_id: Uuid) -> StoreResult<Option<Update>> {
    sqlx::query_as::<_, UpdateRow>(&format!("{SELECT} WHERE id = ?1"))
        .bind(id(update_id))
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(UpdateRow::into_update)
        .transpose()
}

/// Newest first; with `published_before`, only those public by then.
pub(crate) async fn of(
    store: &SqliteStore,
    initiative_id: Uuid,
    published_before: Option<DateTime<Utc>>,
    skip: u32,
    limit: u32,
) -> StoreResult<Vec<Update>> {
    sqlx::query_as::<_, UpdateRow>(&format!(
        "{SELECT} WHERE initiative_id = ?1 AND (?2 IS NULL OR publish_at <= ?2)
         ORDER BY publish_at DESC, created_at DESC, id LIMIT ?3 OFFSET ?4"
    ))
    .bind(id(initiative_id))
    .bind(published_before.map(ts))
    .bind(i64::from(limit))
    .bind(i64::from(skip))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(UpdateRow::into_update)
    .collect()
}

#[derive(FromRow)]
struct UpdateRow {
    id: String,
    initiative_id: String,
    kind: String,
    items: Option<String>,
    body: String,
    need_id: Option<String>,
    publish_at: String,
    created_at: String,
    updated_at: String,
    photos: String,
}

impl UpdateRow {
    fn into_update(self) -> StoreResult<Update> {
        let kind = match (self.kind.as_str(), self.items) {
            ("news", _) => UpdateKind::News,
            ("spending_report", Some(items)) => UpdateKind::SpendingReport {
                items: parse_json::<Vec<LineItem>>(&items, "line items")?,
            },
            (other, _) => {
                return Err(StoreError::Corrupt(format!(
                    "unknown update kind `{other}`, or a report without items"
                )));
            }
        };
        Ok(Update {
            id: parse_id(&self.id)?,
            initiative_id: parse_id(&self.initiative_id)?,
            kind,
            body: self.body,
            need_id: parse_opt_id(self.need_id)?,
            publish_at: parse_ts(&self.publish_at)?,
            created_at: parse_ts(&self.created_at)?,
            updated_at: parse_ts(&self.updated_at)?,
            photos: parse_json(&self.photos, "photos")?,
        })
    }
}
