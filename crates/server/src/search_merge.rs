//! Search index upkeep: on SQLite, merges the full-text indexes back into one segment each,
//! because a search reads every segment and FTS5 merges the ones each write adds only a few at
//! a time; at 100,000 listings an index that grew by single writes searched at p50 0.92–1.25
//! ms, merged at 0.51–0.76 ms (docs/benchmarks.md, "Session 19"). Runs daily (at start when
//! due), in one process of the node (the one that takes the day's lease), in short steps with
//! pauses, so requests and deliveries keep the writer. A merged index makes it a no-op, and on
//! PostgreSQL it is one anyway.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hromada_store::{Store, StoreResult};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(86_400);
/// Between two steps the writer is left to everything else.
const PAUSE: Duration = Duration::from_millis(50);

pub(crate) fn spawn(
    store: Arc<dyn Store>,
    holder: String,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let (job_store, stop) = (store.clone(), shutdown.clone());
    crate::periodic::spawn("search-merge", EVERY, store, holder, shutdown, move || {
        let (store, stop) = (job_store.clone(), stop.clone());
        async move {
            merge(store.as_ref(), &stop)
                .await
                .map_err(|e| e.to_string())
        }
    })
}

async fn merge(store: &dyn Store, shutdown: &CancellationToken) -> StoreResult<()> {
    let started = Instant::now();
    let mut steps = 0;
    while store.merge_search_index(steps == 0).await? {
        steps += 1;
        tokio::select! {
            // Stopped midway: what was merged stays merged.
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(PAUSE) => {}
        }
    }
    if steps > 0 {
        tracing::info!(
            steps,
            milliseconds = started.elapsed().as_millis(),
            "merged the search index"
        );
    }
    Ok(())
}
