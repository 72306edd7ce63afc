//! Per-client limits on what anyone may do without an account (submissions, reports), counted
//! in the database so that every process serving the node shares one count.

use std::time::Duration;

use crate::{App, AppError, AppResult, now};

/// At most `max` requests of one kind per client in each fixed window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

impl App {
    /// Counts one request on `key` (kind and client, e.g. `submit:ip:192.0.2.1`).
    /// `Ok(Err(wait))` when the client is over its limit; it may try again after `wait`.
    /// Windows are aligned to the epoch, so every process agrees on where one starts.
    pub async fn count_request(
        &self,
        key: &str,
        limit: RateLimit,
    ) -> AppResult<Result<(), Duration>> {
        let window_ms = i64::try_from(limit.window.as_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| AppError::Internal("rate limit window out of range".into()))?;
        let at = now();
        let start_ms = at.timestamp_millis() - at.timestamp_millis().rem_euclid(window_ms);
        let start = chrono::DateTime::from_timestamp_millis(start_ms)
            .ok_or_else(|| AppError::Internal("rate limit window out of range".into()))?;
        let end = start + chrono::Duration::milliseconds(window_ms);
        let hits = self.store.record_hit(key, start, end, at).await?;
        if hits <= limit.max {
            return Ok(Ok(()));
        }
        Ok(Err((end - at).to_std().unwrap_or(Duration::from_secs(1))))
    }
}
