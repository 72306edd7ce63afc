//! Background jobs that must run once per node, not once per process: several `hromada serve`
//! processes may share one database, and each job is run by whichever holds its lease
//! (`job_leases`). The holder renews it while it runs, during a round too
//! ([`LeasedJob::run_while_held`]); when a process stops renewing (it crashed or was stopped),
//! another takes the job over once the lease has expired.
//!
//! A lease rather than a PostgreSQL advisory lock: it works the same on SQLite, needs no
//! connection held open for as long as the job runs (a pool connection lost to a network blip
//! would silently drop an advisory lock), and shows admins and tests who runs what.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use hromada_store::Store;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::Inner;

/// This process's name in `job_leases`: its pid (for the admin reading the table) and a random
/// part (pids repeat across machines and restarts).
pub(crate) fn process_holder() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("pid {} {}", std::process::id(), &random[..8])
}

/// One job's lease as seen by one process.
pub struct LeasedJob {
    store: Arc<dyn Store>,
    job: &'static str,
    holder: String,
    lease: Duration,
    held: bool,
    /// When the database is asked again: renewing with half the lease left, retrying to take
    /// it every quarter lease (so a crashed holder's job waits at most 1¼ leases).
    next_check: Option<Instant>,
}

impl LeasedJob {
    pub fn new(store: Arc<dyn Store>, job: &'static str, holder: String, lease: Duration) -> Self {
        Self {
            store,
            job,
            holder,
            lease: lease.max(Duration::from_secs(1)),
            held: false,
            next_check: None,
        }
    }

    /// Whether this process should run the job now; takes or renews the lease when due.
    pub async fn held(&mut self) -> bool {
        let now = Instant::now();
        if self.next_check.is_some_and(|next| now < next) {
            return self.held;
        }
        let at = Utc::now();
        let until = at + chrono::Duration::from_std(self.lease).unwrap_or_default();
        let taken = match self
            .store
            .take_lease(self.job, &self.holder, at, until)
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                // Unsure whether it still holds the lease: better to pause than to run twice.
                tracing::warn!(job = self.job, error = %e, "cannot renew a job's lease; pausing it");
                false
            }
        };
        if taken && !self.held {
            tracing::info!(job = self.job, holder = %self.holder, "this process runs the job");
        } else if !taken && self.held {
            tracing::info!(job = self.job, "another process runs the job now");
        }
        self.held = taken;
        self.next_check = Some(
            now + if taken {
                self.lease / 2
            } else {
                self.lease / 4
            },
        );
        taken
    }

    /// Runs one round of the job if this process holds its lease, renewing the lease while the
    /// round runs: a round longer than the lease is then not taken over, and run a second time,
    /// by another process. When the lease is lost meanwhile (the database could not be reached,
    /// or another process took it), the round is stopped and `None` returned; what it did not
    /// finish is left for a later round.
    pub async fn run_while_held<T>(&mut self, round: impl Future<Output = T>) -> Option<T> {
        if !self.held().await {
            return None;
        }
        let mut round = std::pin::pin!(round);
        loop {
            let renew_at = self.next_check.unwrap_or_else(Instant::now);
            tokio::select! {
                done = &mut round => return Some(done),
                _ = tokio::time::sleep_until(renew_at) => {
                    if !self.held().await {
                        tracing::warn!(job = self.job, "lost the job's lease during a round; stopping the round");
                        return None;
                    }
                }
            }
        }
    }

    /// Gives the job up (on shutdown) so another process takes it at once.
    pub async fn release(&mut self) {
        if std::mem::take(&mut self.held)
            && let Err(e) = self.store.release_lease(self.job, &self.holder).await
        {
            tracing::warn!(job = self.job, error = %e, "cannot release a job's lease; it expires by itself");
        }
    }
}

/// Runs rounds of `job` while this process holds its lease, until shut down: the next round at
/// once after one that did something (`Ok(n)` with `n > 0`), after `poll_interval` otherwise.
pub(crate) async fn run_rounds<Fut, E>(
    inner: &Inner,
    job: &'static str,
    shutdown: CancellationToken,
    mut round: impl FnMut() -> Fut,
) where
    Fut: Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    let mut lease = LeasedJob::new(
        inner.store.clone(),
        job,
        inner.holder.clone(),
        inner.settings.limits.lease,
    );
    loop {
        // A round works on what peers sent; should that still panic somewhere, the job goes on
        // (after a pause) rather than stopping for good with the task.
        let guarded = AssertUnwindSafe(round()).catch_unwind();
        let worked = match lease.run_while_held(guarded).await {
            Some(Ok(Ok(done))) => done > 0,
            Some(Ok(Err(e))) => {
                tracing::warn!(job, error = %e, "a round of the job failed");
                false
            }
            Some(Err(_)) => {
                tracing::error!(
                    job,
                    "a round of the job panicked; trying again after a pause"
                );
                false
            }
            None => false,
        };
        if !worked {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(inner.settings.limits.poll_interval) => {}
            }
        } else if shutdown.is_cancelled() {
            break;
        }
    }
    lease.release().await;
}
