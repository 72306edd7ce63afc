//! Needs of initiatives, and the list of urgent ones across the directory.

use chrono::{DateTime, NaiveDate, Utc};
use hromada_domain::{AuditEntry, Category, Currency, Money, Need, NeedStatus, Urgency};
use hromada_store::{ChangeKind, StoreError, StoreResult};
use sqlx::FromRow;
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{PgQuery, known, urgency_from_rank, urgency_rank};
use crate::error::{db_err, write_err};
use crate::feed;

const SELECT: &str = "
    SELECT n.id, n.initiative_id, n.title, n.description, n.category, n.target_amount,
           n.target_currency, n.raised, n.deadline, n.urgency, n.status, n.created_at, n.updated_at
    FROM needs n";

/// Open needs first, then the most urgent, then the newest.
const ORDER: &str = "ORDER BY n.status = 'open' DESC, n.urgency DESC, n.created_at DESC, n.id";

/// Columns in bind order, shared by insert and update (see [`bind_fields`]).
const INSERT: &str = "
    INSERT INTO needs (
        id, initiative_id, title, description, category, target_amount, target_currency, raised,
        deadline, urgency, status, created_at, updated_at
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const UPDATE: &str = "
    UPDATE needs SET
        initiative_id = $2, title = $3, description = $4, category = $5, target_amount = $6,
        target_currency = $7, raised = $8, deadline = $9, urgency = $10, status = $11,
        created_at = $12, updated_at = $13
    WHERE id = $1 AND updated_at <= $13";

fn bind_fields<'q>(query: PgQuery<'q>, need: &'q Need) -> PgQuery<'q> {
    query
        .bind(need.id)
        .bind(need.initiative_id)
        .bind(&need.title)
        .bind(&need.description)
        .bind(need.category.code())
        .bind(need.target.as_ref().map(|t| t.amount))
        .bind(need.target.as_ref().map(|t| t.currency.as_str()))
        .bind(need.raised)
        .bind(need.deadline)
        .bind(urgency_rank(need.urgency))
        .bind(need.status.code())
        .bind(need.created_at)
        .bind(need.updated_at)
}

pub(crate) async fn insert(store: &PgStore, need: &Need) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    feed::ensure_not_tombstoned(&mut tx, need.id).await?;
    bind_fields(sqlx::query(INSERT), need)
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |_| format!("a need with id {} already exists", need.id)))?;
    feed::record(
        &mut tx,
        None,
        Some((ChangeKind::NeedCreated, need.id, need.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn update(
    store: &PgStore,
    need: &Need,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done = bind_fields(sqlx::query(UPDATE), need)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(feed::not_updated(&mut tx, "needs", need.id).await);
    }
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::NeedUpdated, need.id, need.initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(store: &PgStore, need_id: Uuid) -> StoreResult<Option<Need>> {
    sqlx::query_as::<_, NeedRow>(&format!("{SELECT} WHERE n.id = $1"))
        .bind(need_id)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(NeedRow::into_need)
        .transpose()
}

pub(crate) async fn of(store: &PgStore, initiative_id: Uuid) -> StoreResult<Vec<Need>> {
    sqlx::query_as::<_, NeedRow>(&format!("{SELECT} WHERE n.initiative_id = $1 {ORDER}"))
        .bind(initiative_id)
        .fetch_all(store.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(NeedRow::into_need)
        .collect()
}

/// Open needs at or above `min` of initiatives that are listed (published or paused).
pub(crate) async fn urgent(store: &PgStore, min: Urgency, limit: u32) -> StoreResult<Vec<Need>> {
    sqlx::query_as::<_, NeedRow>(&format!(
        "{SELECT} JOIN initiatives i ON i.id = n.initiative_id
         WHERE n.status = 'open' AND n.urgency >= $1 AND i.status IN ('published', 'paused')
         ORDER BY n.urgency DESC, n.created_at DESC, n.id
         LIMIT $2"
    ))
    .bind(urgency_rank(min))
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(NeedRow::into_need)
    .collect()
}

#[derive(FromRow)]
struct NeedRow {
    id: Uuid,
    initiative_id: Uuid,
    title: String,
    description: String,
    category: String,
    target_amount: Option<i64>,
    target_currency: Option<String>,
    raised: i64,
    deadline: Option<NaiveDate>,
    urgency: i16,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl NeedRow {
    fn into_need(self) -> StoreResult<Need> {
        let target = match (self.target_amount, self.target_currency) {
            (Some(amount), Some(code)) => {
                let currency = Currency::parse(&code).map_err(StoreError::Corrupt)?;
                Some(Money::new(amount, currency))
            }
            _ => None,
        };
        Ok(Need {
            id: self.id,
            initiative_id: self.initiative_id,
            title: self.title,
            description: self.description,
            category: known(
                Category::from_code(&self.category),
                "category",
                &self.category,
            )?,
            target,
            raised: self.raised,
            deadline: self.deadline,
            urgency: urgency_from_rank(self.urgency)?,
            status: known(
                NeedStatus::from_code(&self.status),
                "need status",
                &self.status,
            )?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
