//! Small conversions between domain values and PostgreSQL columns.
//!
//! Timestamps need none: sqlx writes `timestamptz` at microsecond precision, dropping finer
//! digits, the same precision the SQLite store keeps.

use hromada_domain::Urgency;
use hromada_store::{StoreError, StoreResult};
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

/// A statement with its binds, as passed to the `bind_fields` helpers.
pub(crate) type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// A stored code (status, kind, ...) that must be one of the known ones.
pub(crate) fn known<T>(parsed: Option<T>, what: &str, code: &str) -> StoreResult<T> {
    parsed.ok_or_else(|| StoreError::Corrupt(format!("unknown {what} `{code}`")))
}

/// Urgency as a number, so that "at least high" and "most urgent first" are plain comparisons.
pub(crate) fn urgency_rank(u: Urgency) -> i16 {
    match u {
        Urgency::Low => 0,
        Urgency::Normal => 1,
        Urgency::High => 2,
        Urgency::Critical => 3,
    }
}

pub(crate) fn urgency_from_rank(rank: i16) -> StoreResult<Urgency> {
    match rank {
        0 => Ok(Urgency::Low),
        1 => Ok(Urgency::Normal),
        2 => Ok(Urgency::High),
        3 => Ok(Urgency::Critical),
        n => Err(StoreError::Corrupt(format!("unknown urgency rank {n}"))),
    }
}
