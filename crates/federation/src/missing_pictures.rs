//! Pictures a mirrored listing or update arrived without because their origin could not serve
//! them then (down, too slow, a server error). The object is noted in the database
//! (`fed_missing_pictures`) and fetched again from its origin on the delivery retry schedule
//! (`retry_base`, doubling up to `retry_max`) until every picture is copied, the object is gone
//! here or there, or `give_up_after` has passed. Without this, a picture missed once stayed
//! missing until the listing happened to change again.
//!
//! Run by whichever process holds the `missing-pictures` lease, like the other background jobs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hromada_store::MissingPictures;
use tokio_util::sync::CancellationToken;

use crate::Inner;
use crate::delivery::backoff;
use crate::fetch::FetchError;
use crate::network::{IngestError, ingest_again_for_pictures, remote_id};

/// Objects fetched again per round.
const ROUND: u32 = 8;

/// Notes that the object `url` was stored without a picture its origin could not serve now.
/// A failure is only logged: the object itself is stored, and refusing it now would not bring
/// the picture back either.
pub(crate) async fn note(inner: &Inner, url: &str) {
    let now = Utc::now();
    let due = now
        + backoff(
            1,
            inner.settings.limits.retry_base,
            inner.settings.limits.retry_max,
        );
    if let Err(e) = inner.fed.note_missing_pictures(url, now, due).await {
        tracing::warn!(object = %url, error = %e, "cannot note the missing pictures; they stay missing");
    }
}

/// Fetches due objects again until shut down.
pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    crate::jobs::run_rounds(&inner, "missing-pictures", shutdown, || round(&inner)).await;
}

/// Fetches the objects that are due again; returns how many it tried.
async fn round(inner: &Inner) -> Result<usize, hromada_store::StoreError> {
    let due = inner.fed.due_missing_pictures(Utc::now(), ROUND).await?;
    for missing in &due {
        let next = match fetch_again(inner, &missing.object_url).await {
            Ok(true) => None,
            Ok(false) => next_attempt(inner, missing, "a picture is still missing"),
            Err(e) => next_attempt(inner, missing, &e.to_string()),
        };
        inner
            .fed
            .reschedule_missing_pictures(&missing.object_url, next)
            .await?;
    }
    Ok(due.len())
}

/// When to try again, or `None` once it has been tried for `give_up_after`.
fn next_attempt(inner: &Inner, missing: &MissingPictures, why: &str) -> Option<DateTime<Utc>> {
    let limits = &inner.settings.limits;
    let now = Utc::now();
    let give_up = chrono::Duration::from_std(limits.give_up_after).unwrap_or_default();
    if now - missing.noted_at > give_up {
        tracing::warn!(object = %missing.object_url, attempts = missing.attempts + 1, %why, "giving up on the missing pictures");
        return None;
    }
    let attempt = i32::try_from(missing.attempts + 2).unwrap_or(i32::MAX);
    tracing::info!(object = %missing.object_url, %why, "missing pictures not fetched yet; will try again");
    Some(now + backoff(attempt, limits.retry_base, limits.retry_max))
}

/// Fetches the object from its origin and takes it in with its pictures: `Ok(true)` when
/// nothing is left to do (every picture copied, or the object is gone here or there).
async fn fetch_again(inner: &Inner, url: &str) -> Result<bool, IngestError> {
    let id = remote_id(url);
    let stored = inner.store.initiative_by_id(id).await?.is_some()
        || inner.store.update_by_id(id).await?.is_some();
    if !stored {
        return Ok(true);
    }
    let fetched = match inner.fetcher.get(url).await {
        Ok(fetched) => fetched,
        // Deleted at its origin: its Delete takes the copy away.
        Err(FetchError::Gone(_) | FetchError::Status(_, 404)) => return Ok(true),
        Err(e) => return Err(e.into()),
    };
    if fetched.url.as_str() != url {
        return Err(IngestError::Forged(format!(
            "{url} answered from {}",
            fetched.url
        )));
    }
    let taken = ingest_again_for_pictures(inner, &fetched.json, url).await?;
    Ok(!taken.pictures_missing)
}
