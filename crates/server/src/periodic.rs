//! Jobs that run once per period per node (at start when due): the process that takes the
//! period's lease (`job_leases`) runs it, so several processes on one database share the work.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hromada_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Runs `job` at start and then every `every`, unless another process of the node ran it
/// within that time (it holds the lease `name`). Each process looks whether the job is due
/// every 24th of the period (a minute at least), so a restart or a failure delays it by that
/// much, not by a whole period; a failed run gives its lease up, to be tried again then.
pub(crate) fn spawn<F, Fut>(
    name: &'static str,
    every: Duration,
    store: Arc<dyn Store>,
    holder: String,
    shutdown: CancellationToken,
    job: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let look_every = (every / 24).max(Duration::from_secs(60)).min(every);
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(every).unwrap_or_default();
            // `take_lease` renews a lease its holder has: ask first whether the period is over.
            let due = store
                .job_lease(name)
                .await
                .map(|lease| lease.is_none_or(|l| l.expires_at <= now));
            let ran = match due {
                Ok(true) => match store.take_lease(name, &holder, now, until).await {
                    Ok(true) => job().await,
                    Ok(false) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
                Ok(false) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = ran {
                tracing::warn!(job = name, error = %e, "background job failed; trying again soon");
                let _ = store.release_lease(name, &holder).await;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(look_every) => {}
            }
        }
    })
}
