//! What anonymous visitors read most, and the searches everyone repeats, kept in memory while
//! the directory stays the same.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hromada_store::{ChangeWatch, SearchPage, SearchQuery, Version};

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

/// Bounds the memory of [`SearchCache`]: listings held over all its pages (a few KB each).
const MAX_SEARCH_ITEMS: usize = 2_000;

/// Search results, by the query as the store reads it (words split and lower-cased, page and
/// page size clamped), so that "Help", "help " and `?q=help&page=1` share one entry. The same
/// for every viewer: who may ask for which statuses is checked before the cache is asked.
#[derive(Debug, Default)]
pub(crate) struct SearchCache {
    entries: Mutex<SearchEntries>,
}

#[derive(Debug, Default)]
struct SearchEntries {
    pages: HashMap<String, (Version, Instant, SearchPage)>,
    items: usize,
}

impl SearchCache {
    /// The key of a query: its normalised form, printed.
    pub fn key(query: &SearchQuery) -> String {
        let (per_page, _) = query.limit_offset();
        let mut statuses = query.effective_statuses();
        statuses.sort_by_key(|s| s.code());
        statuses.dedup();
        let normal = SearchQuery {
            text: Some(query.terms().join(" ")),
            statuses,
            page: query.page.max(1),
            per_page,
            ..query.clone()
        };
        format!("{normal:?}")
    }

    pub fn get(&self, key: &str, version: Version) -> Option<SearchPage> {
        let entries = self.entries.lock().ok()?;
        let (v, at, page) = entries.pages.get(key)?;
        (*v == version && at.elapsed() < TTL).then(|| page.clone())
    }

    pub fn put(&self, key: String, version: Version, page: &SearchPage) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.items + page.items.len() > MAX_SEARCH_ITEMS {
                entries.pages.clear();
                entries.items = 0;
            }
            entries.items += page.items.len();
            if let Some((_, _, old)) = entries
                .pages
                .insert(key, (version, Instant::now(), page.clone()))
            {
                entries.items -= old.items.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_that_read_the_same_share_a_key() {
        let q = |text: &str, page, per_page| SearchQuery {
            text: Some(text.into()),
            page,
            per_page,
            ..SearchQuery::default()
        };
        let key = SearchCache::key(&q("help", 1, 20));
        assert_eq!(SearchCache::key(&q(" Help!", 0, 20)), key);
        assert_ne!(SearchCache::key(&q("help", 2, 20)), key);
        assert_eq!(
            SearchCache::key(&q("helps", 1, 20)),
            key,
            "forms of one word search the same"
        );
        assert_ne!(SearchCache::key(&q("helper", 1, 20)), key);
        assert_eq!(
            SearchCache::key(&q("a", 1, 500)),
            SearchCache::key(&q("a", 1, SearchQuery::MAX_PER_PAGE))
        );
    }
}
