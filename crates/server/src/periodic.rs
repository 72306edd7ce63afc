//! Jobs that run at start and then periodically, once per node: the process that takes the
//! period's lease (`job_leases`) runs it, so several processes on one database share the work.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hromada_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Runs `job` at start and then every `every`, unless another process of the node ran it
/// within that time (it holds the lease `name`). A failure is logged and tried again next time.
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
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(every).unwrap_or_default();
            let ran = match store.take_lease(name, &holder, now, until).await {
                Ok(true) => job().await,
                Ok(false) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = ran {
                tracing::warn!(job = name, error = %e, "background job failed; trying again next time");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}
