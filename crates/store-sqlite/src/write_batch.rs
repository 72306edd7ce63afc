//! Concurrent [`FederationStore::apply`](hromada_store::FederationStore::apply) calls share one
//! write transaction.
//!
//! SQLite has one writer, and through sqlx every statement is a round trip to the writer
//! connection's thread: `BEGIN` and `COMMIT` are two of the four a received mention costs. When
//! a busy peer floods the inbox, the writes waiting for the writer are applied together: each
//! pays for its own statements only. Whoever gets the turn applies everything queued so far,
//! its own write included; the others find their outcome ready when their turn comes. A
//! duplicate writes nothing (its received id is checked first), so it needs no rollback. When
//! any write of a batch fails, the batch is rolled back and each of its writes is applied
//! alone, so one bad write never takes others with it and each caller gets its own outcome.

use std::sync::{Arc, Mutex, PoisonError};

use hromada_store::{FedWrite, StoreError, StoreResult, WriteOutcome};
use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;

use crate::SqliteStore;
use crate::error::db_err;
use crate::federation::apply_in;

/// Bounds how long one transaction holds the write lock (other writers wait for it).
const MAX_BATCH: usize = 64;

struct Pending {
    write: FedWrite,
    outcome: oneshot::Sender<StoreResult<WriteOutcome>>,
}

#[derive(Default)]
pub(crate) struct WriteBatcher {
    queue: Mutex<Vec<Pending>>,
    /// Held while a batch is applied; waiting for it is waiting for the writer.
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for WriteBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatcher").finish_non_exhaustive()
    }
}

impl WriteBatcher {
    pub(crate) async fn apply(
        &self,
        store: &SqliteStore,
        write: &FedWrite,
    ) -> StoreResult<WriteOutcome> {
        let (sender, mut outcome) = oneshot::channel();
        self.queue().push(Pending {
            write: write.clone(),
            outcome: sender,
        });
        loop {
            let turn = self.turn.clone().lock_owned().await;
            match outcome.try_recv() {
                Ok(done) => return done,
                Err(TryRecvError::Closed) => {
                    return Err(StoreError::Database(
                        "the write was dropped before it was applied".into(),
                    ));
                }
                Err(TryRecvError::Empty) => {}
            }
            let batch: Vec<Pending> = {
                let mut queue = self.queue();
                let n = queue.len().min(MAX_BATCH);
                // A write whose caller went away before its turn is not applied, as a
                // transaction dropped before its commit would not have been.
                queue
                    .drain(..n)
                    .filter(|p| !p.outcome.is_closed())
                    .collect()
            };
            // A task of its own, so that a caller that goes away (a client hanging up) cannot
            // stop a batch holding other callers' writes halfway; the turn is released when the
            // batch is done. The loop then waits for the next turn, when this write's outcome is
            // ready unless more than a batch was queued before it.
            let store = store.clone();
            tokio::spawn(async move {
                let _turn = turn;
                apply_batch(&store, batch).await;
            });
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // The queue is only pushed to and drained, so it is whole even after a panic.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn apply_batch(store: &SqliteStore, batch: Vec<Pending>) {
    if batch.len() > 1 {
        match apply_together(store, &batch).await {
            Ok(outcomes) => {
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    // The caller may have gone away; its write is applied all the same.
                    let _ = pending.outcome.send(Ok(outcome));
                }
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, writes = batch.len(), "a batched write failed; applying each alone");
            }
        }
    }
    for pending in batch {
        let _ = pending
            .outcome
            .send(apply_alone(store, &pending.write).await);
    }
}

async fn apply_together(store: &SqliteStore, batch: &[Pending]) -> StoreResult<Vec<WriteOutcome>> {
    let mut tx = store.begin_write().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for pending in batch {
        outcomes.push(apply_in(&mut tx, &pending.write).await?);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(outcomes)
}

async fn apply_alone(store: &SqliteStore, write: &FedWrite) -> StoreResult<WriteOutcome> {
    let mut tx = store.begin_write().await?;
    let outcome = apply_in(&mut tx, write).await?;
    if outcome == WriteOutcome::Duplicate {
        tx.rollback().await.map_err(db_err)?;
    } else {
        tx.commit().await.map_err(db_err)?;
    }
    Ok(outcome)
}
