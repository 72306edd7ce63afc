//! Leases of background jobs (`job_leases`): one upsert that only takes a free, expired or
//! already held lease, so two processes never both hold a job.

use chrono::{DateTime, Utc};
use hromada_store::{JobLease, StoreResult};

use crate::PgStore;
use crate::error::db_err;

pub(crate) async fn take(
    store: &PgStore,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO job_leases (job, holder, taken_at, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
             taken_at = CASE WHEN job_leases.holder = excluded.holder
                             THEN job_leases.taken_at ELSE excluded.taken_at END
         WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= excluded.taken_at",
    )
    .bind(job)
    .bind(holder)
    .bind(now)
    .bind(until)
    .execute(&store.pool)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn release(store: &PgStore, job: &str, holder: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(&store.pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get(store: &PgStore, job: &str) -> StoreResult<Option<JobLease>> {
    let row: Option<(String, DateTime<Utc>, DateTime<Utc>)> =
        sqlx::query_as("SELECT holder, taken_at, expires_at FROM job_leases WHERE job = $1")
            .bind(job)
            .fetch_optional(&store.pool)
            .await
            .map_err(db_err)?;
    Ok(row.map(|(holder, taken_at, expires_at)| JobLease {
        job: job.to_string(),
        holder,
        taken_at,
        expires_at,
    }))
}
