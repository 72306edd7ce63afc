//! How values are written to and read from SQLite columns: UUIDs as hyphenated text,
//! timestamps as fixed-width UTC text (so text order is time order), nested values as JSON.

use chrono::{DateTime, SubsecRound, Utc};
use hromada_domain::Urgency;
use hromada_store::{StoreError, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use uuid::Uuid;

/// A statement with its binds, as passed to the `bind_fields` helpers.
pub(crate) type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// `2025-03-01T12:30:00.123456Z`: microseconds, always six digits.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.trunc_subsecs(6)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

pub(crate) fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("stored timestamp `{s}`: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

pub(crate) fn id(u: Uuid) -> String {
    u.hyphenated().to_string()
}

pub(crate) fn parse_id(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("stored id `{s}`: {e}")))
}

pub(crate) fn parse_opt_id(s: Option<String>) -> StoreResult<Option<Uuid>> {
    s.as_deref().map(parse_id).transpose()
}

pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode as JSON: {e}")))
}

pub(crate) fn parse_json<T: DeserializeOwned>(s: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("stored {what}: {e}")))
}

/// A stored code (status, kind, ...) that must be one of the known ones.
pub(crate) fn known<T>(parsed: Option<T>, what: &str, code: &str) -> StoreResult<T> {
    parsed.ok_or_else(|| StoreError::Corrupt(format!("unknown {what} `{code}`")))
}

/// Urgency as a number, so that "at least high" and "most urgent first" are plain comparisons.
pub(crate) fn urgency_rank(u: Urgency) -> i64 {
    match u {
        Urgency::Low => 0,
        Urgency::Normal => 1,
        Urgency::High => 2,
        Urgency::Critical => 3,
    }
}

pub(crate) fn urgency_from_rank(rank: i64) -> StoreResult<Urgency> {
    match rank {
        0 => Ok(Urgency::Low),
        1 => Ok(Urgency::Normal),
        2 => Ok(Urgency::High),
        3 => Ok(Urgency::Critical),
        n => Err(StoreError::Corrupt(format!("unknown urgency rank {n}"))),
    }
}
