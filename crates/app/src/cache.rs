//! What anonymous visitors read most, kept in memory while the directory stays the same.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hromada_store::{ChangeWatch, Version};

use crate::InitiativeDetail;

/// Also bounds staleness that the change feed does not announce: a scheduled update whose
/// time has come, a trust status recomputed by the periodic website check.
const TTL: Duration = Duration::from_secs(1);

/// Bounds memory when clients ask for many different handles.
const MAX_ENTRIES: usize = 5_000;

/// Initiative pages as anonymous visitors see them, by the handle asked for.
#[derive(Debug, Default)]
pub(crate) struct DetailCache {
    pub watch: ChangeWatch,
    entries: Mutex<HashMap<String, (Version, Instant, InitiativeDetail)>>,
}

impl DetailCache {
    pub fn get(&self, handle: &str, version: Version) -> Option<InitiativeDetail> {
        let entries = self.entries.lock().ok()?;
        let (v, at, detail) = entries.get(handle)?;
        (*v == version && at.elapsed() < TTL).then(|| detail.clone())
    }

    pub fn put(&self, handle: &str, version: Version, detail: &InitiativeDetail) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                handle.to_string(),
                (version, Instant::now(), detail.clone()),
            );
        }
    }
}
