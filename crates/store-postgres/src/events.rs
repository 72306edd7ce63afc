//! Solidarity events, their beneficiaries, and the list of upcoming ones.

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Event, EventPlace, Handle};
use hromada_store::{ChangeKind, StoreResult};
use sqlx::FromRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::PgStore;
use crate::codec::PgQuery;
use crate::error::{db_err, write_err};
use crate::feed;

/// Columns in bind order, shared by insert and update (see [`bind_fields`]).
const INSERT: &str = "
    INSERT INTO events (
        id, initiative_id, title, description, starts_at, ends_at, timezone, place, organiser,
        beneficiaries, cancelled, created_at, updated_at
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const UPDATE: &str = "
    UPDATE events SET
        initiative_id = $2, title = $3, description = $4, starts_at = $5, ends_at = $6,
        timezone = $7, place = $8, organiser = $9, beneficiaries = $10, cancelled = $11,
        created_at = $12, updated_at = $13
    WHERE id = $1 AND updated_at <= $13";

const SELECT: &str = "
    SELECT e.id, e.initiative_id, e.title, e.description, e.starts_at, e.ends_at, e.timezone,
           e.place, e.organiser, e.beneficiaries, e.cancelled, e.created_at, e.updated_at
    FROM events e";

fn bind_fields<'q>(query: PgQuery<'q>, e: &'q Event) -> PgQuery<'q> {
    query
        .bind(e.id)
        .bind(e.initiative_id)
        .bind(&e.title)
        .bind(&e.description)
        .bind(e.starts_at)
        .bind(e.ends_at)
        .bind(&e.timezone)
        .bind(Json(&e.place))
        .bind(&e.organiser)
        .bind(
            e.beneficiaries
                .iter()
                .map(|h| h.as_str().to_string())
                .collect::<Vec<_>>(),
        )
        .bind(e.cancelled)
        .bind(e.created_at)
        .bind(e.updated_at)
}

pub(crate) async fn insert(store: &PgStore, e: &Event) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    feed::ensure_not_tombstoned(&mut tx, e.id).await?;
    bind_fields(sqlx::query(INSERT), e)
        .execute(&mut *tx)
        .await
        .map_err(|err| write_err(err, |_| format!("an event with id {} already exists", e.id)))?;
    feed::record(
        &mut tx,
        None,
        Some((ChangeKind::EventCreated, e.id, e.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn update(
    store: &PgStore,
    e: &Event,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done = bind_fields(sqlx::query(UPDATE), e)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(feed::not_updated(&mut tx, "events", e.id).await);
    }
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::EventUpdated, e.id, e.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(store: &PgStore, event_id: Uuid) -> StoreResult<Option<Event>> {
    sqlx::query_as::<_, EventRow>(&format!("{SELECT} WHERE e.id = $1"))
        .bind(event_id)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(EventRow::into_event)
        .transpose()
}

/// Events the initiative published, and events of listed (published or paused) initiatives on
/// its node that name it as a beneficiary (handles are only unique per node, hence the origin
/// check; an unlisted publisher's events were seen by no moderator); soonest first.
pub(crate) async fn of(store: &PgStore, initiative_id: Uuid) -> StoreResult<Vec<Event>> {
    sqlx::query_as::<_, EventRow>(&format!(
        "{SELECT} WHERE e.initiative_id = $1
            OR e.id IN (
                SELECT be.id
                FROM initiatives me
                JOIN events be ON be.beneficiaries @> ARRAY[me.handle]
                JOIN initiatives publisher ON publisher.id = be.initiative_id
                WHERE me.id = $1 AND publisher.origin IS NOT DISTINCT FROM me.origin
                  AND publisher.status IN ('published', 'paused'))
         ORDER BY e.starts_at, e.id"
    ))
    .bind(initiative_id)
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
    store: &PgStore,
    after: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    sqlx::query_as::<_, EventRow>(&format!(
        "{SELECT} JOIN initiatives i ON i.id = e.initiative_id
         WHERE NOT e.cancelled AND coalesce(e.ends_at, e.starts_at) > $1
           AND i.status IN ('published', 'paused')
         ORDER BY e.starts_at, e.id
         LIMIT $2"
    ))
    .bind(after)
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
    id: Uuid,
    initiative_id: Uuid,
    title: String,
    description: String,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    timezone: String,
    place: Json<EventPlace>,
    organiser: String,
    beneficiaries: Vec<String>,
    cancelled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EventRow {
    fn into_event(self) -> StoreResult<Event> {
        Ok(Event {
            id: self.id,
            initiative_id: self.initiative_id,
            title: self.title,
            description: self.description,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            timezone: self.timezone,
            place: self.place.0,
            organiser: self.organiser,
            beneficiaries: self
                .beneficiaries
                .into_iter()
                .map(Handle::trusted)
                .collect(),
            cancelled: self.cancelled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
