//! Whether the directory may have changed: for caches of what is built from it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Store;

/// What a cached value was built at; a cache entry is valid while the version is the same.
pub type Version = (u64, i64);

/// Tracks the version of the directory as one process sees it: the changes this process
/// recorded ([`Store::local_changes`]) and the write requests it answered (counted by
/// [`ChangeWatch::note_local_write`], which the server calls after each, for writes outside
/// the feed such as trust), both seen at once, and the newest change-feed `seq` in the
/// database, which
/// catches the writes of other processes on the same database and of the admin CLI. The
/// database is asked at most every [`ChangeWatch::FEED_CHECK`], by whichever caller comes
/// first; the others go on with what is known, so a cache hit costs no I/O.
#[derive(Debug, Default)]
pub struct ChangeWatch {
    local_writes: AtomicU64,
    feed_seq: AtomicI64,
    checked_at: Mutex<Option<Instant>>,
    checking: AtomicBool,
}

impl ChangeWatch {
    /// How long another process's change may go unseen here.
    pub const FEED_CHECK: Duration = Duration::from_millis(250);

    /// Something may have changed through this process: whatever was built before is stale.
    pub fn note_local_write(&self) {
        self.local_writes.fetch_add(1, Ordering::SeqCst);
    }

    /// The current version (reading the feed's newest `seq` when the last look is older than
    /// [`ChangeWatch::FEED_CHECK`]). Read it *before* building a value from the store: a
    /// write during the build changes it, so the value is not taken as current.
    pub async fn version(&self, store: &dyn Store) -> Version {
        let due = self
            .checked_at
            .lock()
            .map(|at| at.is_none_or(|t| t.elapsed() >= Self::FEED_CHECK))
            .unwrap_or(true);
        if due && !self.checking.swap(true, Ordering::SeqCst) {
            // A failed look leaves the version as it was; the next caller tries again.
            if let Ok(seq) = store.latest_change_seq().await {
                self.feed_seq.fetch_max(seq, Ordering::SeqCst);
                if let Ok(mut at) = self.checked_at.lock() {
                    *at = Some(Instant::now());
                }
            }
            self.checking.store(false, Ordering::SeqCst);
        }
        (
            self.local_writes
                .load(Ordering::SeqCst)
                .wrapping_add(store.local_changes()),
            self.feed_seq.load(Ordering::SeqCst),
        )
    }
}
