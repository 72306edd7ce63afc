//! Solidarity events, their beneficiaries, and the list of upcoming ones.

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Event, EventPlace, Handle};
use hromada_store::{ChangeKind, StoreResult};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{
    SqliteQuery, id, json, opt_ts, parse_id, parse_json, parse_opt_ts, parse_ts, ts,
};
use crate::error::{db_err, write_err};
use crate::feed;

/// Columns in bind order, shared by insert and update (see [`bind_fields`]).
const INSERT: &str = "
    INSERT INTO events (
        id, initiative_id, title, description, starts_at, ends_at, timezone, place, organiser,
        beneficiaries, cancelled, created_at, updated_at
    ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const UPDATE: &str = "
    UPDATE events SET
        initiative_id = ?2, title = ?3, description = ?4, starts_at = ?5, ends_at = ?6,
        timezone = ?7, place = ?8, organiser = ?9, beneficiaries = ?10, cancelled = ?11,
        created_at = ?12, updated_at = ?13
    WHERE id = ?1 AND updated_at <= ?13";

const SELECT: &str = "
    SELECT e.id, e.initiative_id, e.title, e.description, e.starts_at, e.ends_at, e.timezone,
           e.place, e.organiser, e.beneficiaries, e.cancelled, e.created_at, e.updated_at
    FROM events e";

fn bind_fields<'q>(query: SqliteQuery<'q>, e: &'q Event) -> StoreResult<SqliteQuery<'q>> {
    Ok(query
        .bind(id(e.id))
        .bind(id(e.initiative_id))
        .bind(&e.title)
        .bind(&e.description)
        .bind(ts(e.starts_at))
        .bind(opt_ts(e.ends_at))
        .bind(&e.timezone)
        .bind(json(&e.place)?)
        .bind(&e.organiser)
        .bind(json(&e.beneficiaries)?)
        .bind(e.cancelled)
        .bind(ts(e.created_at))
        .bind(ts(e.updated_at)))
}

async fn write_beneficiaries(conn: &mut SqliteConnection, e: &Event) -> StoreResult<()> {
    let key = id(e.id);
    sqlx::query("DELETE FROM event_beneficiaries WHERE event_id = ?1")
        .bind(&key)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    for handle in &e.beneficiaries {
        sqlx::query("INSERT OR IGNORE INTO event_beneficiaries (event_id, handle) VALUES (?1, ?2)")
            .bind(&key)
            .bind(handle.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn insert(store: &SqliteStore, e: &Event) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    feed::ensure_not_tombstoned(&mut tx, e.id).await?;
    bind_fields(sqlx::query(INSERT), e)?
        .execute(&mut *tx)
        .await
        .map_err(|err| write_err(err, |_| format!("an event with id {} already exists", e.id)))?;
    write_beneficiaries(&mut tx, e).await?;
    feed::record(
        &mut tx,
        None,
        Some((ChangeKind::EventCreated, e.id, e.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn update(
    store: &SqliteStore,
    e: &Event,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = bind_fields(sqlx::query(UPDATE), e)?
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(feed::not_updated(&mut tx, "events", id(e.id)).await);
    }
    write_beneficiaries(&mut tx, e).await?;
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::EventUpdated, e.id, e.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(store: &SqliteStore, event_id: Uuid) -> StoreResult<Option<Event>> {
    sqlx::query_as::<_, EventRow>(&format!("{SELECT} WHERE e.id = ?1"))
        .bind(id(event_id))
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(EventRow::into_event)
        .transpose()
}

/// Events the initiative published, and events of listed (published or paused) initiatives on
/// its node that name it as a beneficiary (handles are only unique per node, hence the origin
/// check; an unlisted publisher's events were seen by no moderator); soonest first.
pub(crate) async fn of(store: &SqliteStore, initiative_id: Uuid) -> StoreResult<Vec<Event>> {
    sqlx::query_as::<_, EventRow>(&format!(
        "{SELECT} WHERE e.initiative_id = ?1
            OR e.id IN (
                SELECT b.event_id
                FROM initiatives me
                JOIN event_beneficiaries b ON b.handle = me.handle
                JOIN events pe ON pe.id = b.event_id
                JOIN initiatives publisher ON publisher.id = pe.initiative_id
                WHERE me.id = ?1 AND publisher.origin IS me.origin
                  AND publisher.status IN ('published', 'paused'))
         ORDER BY e.starts_at, e.id"
    ))
    .bind(id(initiative_id))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(EventRow::into_event)
    .collect()
}

/// Events of listed (published or paused) initiatives, not cancelled, still going on after
/// `after`; soonest first.
pub(crate) async fn upcoming(
    store: &SqliteStore,
    after: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    sqlx::query_as::<_, EventRow>(&format!(
        "{SELECT} JOIN initiatives i ON i.id = e.initiative_id
         WHERE e.cancelled = 0 AND coalesce(e.ends_at, e.starts_at) > ?1
           AND i.status IN ('published', 'paused')
         ORDER BY e.starts_at, e.id
         LIMIT ?2"
    ))
    .bind(ts(after))
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(EventRow::into_event)
    .collect()
}

#[derive(FromRow)]
struct EventRow {
    id: String,
    initiative_id: String,
    title: String,
    description: String,
    starts_at: String,
    ends_at: Option<String>,
    timezone: String,
    place: String,
    organiser: String,
    beneficiaries: String,
    cancelled: bool,
    created_at: String,
    updated_at: String,
}

impl EventRow {
    fn into_event(self) -> StoreResult<Event> {
        let handles: Vec<String> = parse_json(&self.beneficiaries, "beneficiaries")?;
        Ok(Event {
            id: parse_id(&self.id)?,
            initiative_id: parse_id(&self.initiative_id)?,
            title: self.title,
            description: self.description,
            starts_at: parse_ts(&self.starts_at)?,
            ends_at: parse_opt_ts(self.ends_at)?,
            timezone: self.timezone,
            place: parse_json::<EventPlace>(&self.place, "event place")?,
            organiser: self.organiser,
            beneficiaries: handles.into_iter().map(Handle::trusted).collect(),
            cancelled: self.cancelled,
            created_at: parse_ts(&self.created_at)?,
            updated_at: parse_ts(&self.updated_at)?,
        })
    }
}
