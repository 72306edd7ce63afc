//! Searching initiatives: FTS5 queries find the words and the filters together (the filters
//! are tokens of the `search_facets` column, see migration 0010), count at most
//! [`SearchQuery::COUNT_CAP`] matches, and rank by where the words are (migration 0013): every
//! word in the name, tags or place names (migration 0019), then there or in the summary, then
//! anywhere; newest first
//! within a tier. Each tier is a lazy walk of its own full-text table that stops after the
//! page, so a word in most listings costs about what a rare one does. Only the page's rows
//! are read in full. The statements run on search readers (see `reader.rs`): a ranked search's
//! count and page at once on two, a search without words on one.

use hromada_domain::trust::TrustLevel;
use hromada_domain::{Initiative, InitiativeStatus, Region, search};
use hromada_store::{OriginFilter, SearchPage, SearchQuery, StoreResult};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::SqliteStore;
use crate::codec::parse_json;
use crate::error::db_err;
use crate::initiatives::{COLUMNS, InitiativeRow};
use crate::reader::read_err;

/// The full-text tables a ranked search walks, best tier first, and the columns of each that
/// hold text (the rest are facets). Each tier's matches include the previous tier's.
const TIERS: [(&str, &str); 3] = [
    ("initiatives_fts_title", "name tags search_places"),
    ("initiatives_fts_head", "name tags summary search_places"),
    (
        "initiatives_fts",
        "name tags summary description search_places",
    ),
];

/// The table that holds every indexed column: counting and pages without words use it.
const ALL: (&str, &str) = TIERS[2];

/// A facet token: the prefix and the code's letters and digits (the tokenizer splits on
/// anything else, so `kyiv-city` becomes `fregionkyivcity`).
fn token(prefix: &str, code: &str) -> String {
    let mut t = prefix.to_string();
    t.extend(
        code.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
    t
}

/// The `search_facets` text of an initiative: what the search filters find it by.
pub(crate) fn facets(i: &Initiative) -> String {
    let mut tokens = vec![
        token("fstatus", i.status.code()),
        if i.origin.is_some() {
            "foriginremote"
        } else {
            "foriginlocal"
        }
        .to_string(),
    ];
    if i.takes_recurring_donations() {
        tokens.push("frecurring".into());
    }
    tokens.extend(i.categories.iter().map(|c| token("fcategory", c.code())));
    tokens.extend(i.regions.iter().map(|r| token("fregion", r.filter_code())));
    tokens.join(" ")
}

/// Listings whose place words are written again per transaction.
const PLACES_BATCH: i64 = 500;

/// Writes the place words of the listings stored with an older version of them (every listing
/// right after migration 0019), a batch per transaction, then merges the search indexes they
/// left fragmented; returns how many. A listing whose stored regions cannot be read gets none
/// and is logged, so one bad row cannot keep a node from starting.
pub(crate) async fn refresh_place_words(store: &SqliteStore) -> StoreResult<u64> {
    let mut refreshed = 0;
    loop {
        let mut tx = store.begin_write().await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, regions FROM initiatives WHERE search_version < ?1 LIMIT ?2",
        )
        .bind(search::PLACE_WORDS_VERSION)
        .bind(PLACES_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            // The merge needs the writer this transaction holds.
            tx.rollback().await.map_err(db_err)?;
            if refreshed > 0 {
                merge_search_indexes(store).await?;
            }
            return Ok(refreshed);
        }
        for (id, regions) in &rows {
            let words = match parse_json::<Vec<Region>>(regions, "regions") {
                Ok(regions) => search::place_words(&regions),
                Err(e) => {
                    tracing::warn!(initiative = %id, error = %e, "no place words for this listing");
                    String::new()
                }
            };
            sqlx::query(
                "UPDATE initiatives SET search_places = ?2, search_version = ?3 WHERE id = ?1",
            )
            .bind(id)
            .bind(words)
            .bind(search::PLACE_WORDS_VERSION)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        refreshed += rows.len() as u64;
    }
}

/// Merges each full-text index into one segment. Rewriting many rows leaves every word's
/// entries spread over many segments, old and new, until FTS5's gradual merging catches up,
/// and searches read them all: after the place words of 100,000 listings were rewritten,
/// hot-term searches took twice as long; merged (17 s at that size, once), they are faster than
/// on a freshly filled index (docs/benchmarks.md, "Session 18").
async fn merge_search_indexes(store: &SqliteStore) -> StoreResult<()> {
    let started = std::time::Instant::now();
    for (table, _) in TIERS {
        sqlx::query(&format!("INSERT INTO {table}({table}) VALUES ('optimize')"))
            .execute(&store.writer)
            .await
            .map_err(db_err)?;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f32(),
        "merged the search indexes after rewriting listings"
    );
    Ok(())
}

/// Index pages each full-text table writes in one step of [`merge_step`]: at 100,000 listings
/// a step holds the writer for tens of milliseconds, the first one for up to half a second.
const MERGE_STEP_PAGES: i64 = 200;

/// One step of merging every full-text table into one segment, with FTS5's `merge` command:
/// a negative amount first puts all segments on one level so that all are merged (the first
/// step), a positive one goes on with the merge begun even when writes add segments
/// meanwhile. Each table's step is a transaction of its own, so other writes go in between.
/// A step that did no work changes at most one row, which is how its end is known.
pub(crate) async fn merge_step(store: &SqliteStore, start: bool) -> StoreResult<bool> {
    let pages = if start {
        -MERGE_STEP_PAGES
    } else {
        MERGE_STEP_PAGES
    };
    let mut worked = false;
    for (table, _) in TIERS {
        let mut conn = store.writer.acquire().await.map_err(db_err)?;
        let changes = "SELECT total_changes()";
        let before: i64 = sqlx::query_scalar(changes)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO {table}({table}, rank) VALUES ('merge', ?1)"
        ))
        .bind(pages)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        let after: i64 = sqlx::query_scalar(changes)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        worked |= after - before >= 2;
    }
    Ok(worked)
}

/// The user's words, each quoted and matched as a word prefix in the text `columns`, so that
/// whatever was typed (`"`, `*`, `(`, `OR`, `NEAR`, `-`) is searched for as text, never parsed
/// as syntax, and never finds a facet.
fn words_expression(columns: &str, terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect();
    Some(format!("{{{columns}}} : ({})", quoted.join(" ")))
}

/// Every status a listing can have: each listing's facets hold exactly one of them.
const STATUSES: [InitiativeStatus; 5] = [
    InitiativeStatus::Pending,
    InitiativeStatus::Published,
    InitiativeStatus::Paused,
    InitiativeStatus::Archived,
    InitiativeStatus::Rejected,
];

/// A new status must be added to [`STATUSES`]: this stops compiling until it is looked at.
const _: fn(InitiativeStatus) = |s| match s {
    InitiativeStatus::Pending
    | InitiativeStatus::Published
    | InitiativeStatus::Paused
    | InitiativeStatus::Archived
    | InitiativeStatus::Rejected => {}
};

/// The whole FTS5 query on a table with these text `columns`: the words (if any) and every
/// filter kept in the index.
fn match_expression(q: &SearchQuery, columns: &str) -> String {
    let facet = |t: String| format!("search_facets : \"{t}\"");
    let any_status = |statuses: &[InitiativeStatus]| {
        let tokens: Vec<String> = statuses
            .iter()
            .map(|s| format!("\"{}\"", token("fstatus", s.code())))
            .collect();
        format!("search_facets : ({})", tokens.join(" OR "))
    };
    let mut parts: Vec<String> = words_expression(columns, &q.terms()).into_iter().collect();
    if let Some(category) = q.category {
        parts.push(facet(token("fcategory", category.code())));
    }
    if let Some(region) = &q.region {
        parts.push(facet(token("fregion", region)));
    }
    match q.origin {
        OriginFilter::Local => parts.push(facet("foriginlocal".into())),
        OriginFilter::Remote => parts.push(facet("foriginremote".into())),
        OriginFilter::All => {}
    }
    if q.recurring_only {
        parts.push(facet("frecurring".into()));
    }
    let wanted = q.effective_statuses();
    let unwanted: Vec<InitiativeStatus> = STATUSES
        .into_iter()
        .filter(|s| !wanted.contains(s))
        .collect();
    if unwanted.is_empty() && !parts.is_empty() {
        return parts.join(" AND ");
    }
    // Most listings are published. Requiring `fstatuspublished` makes FTS5 seek in a doclist
    // as long as the directory for every match (the costliest part of a search at 100k);
    // excluding the other statuses seeks in short ones. FTS5's NOT needs something on its
    // left, so a search without any other condition still names the statuses it wants.
    if wanted.contains(&InitiativeStatus::Published) && !parts.is_empty() {
        format!("({}) NOT {}", parts.join(" AND "), any_status(&unwanted))
    } else {
        parts.push(any_status(&wanted));
        parts.join(" AND ")
    }
}

/// SQL text with its parameters, built in step.
struct Statement {
    sql: String,
    params: Vec<Value>,
}

impl Statement {
    fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        self.sql.push_str(&format!("?{}", self.params.len()));
        self
    }

    fn rows(&self, conn: &Connection) -> StoreResult<Vec<InitiativeRow>> {
        let mut statement = conn.prepare_cached(&self.sql).map_err(read_err)?;
        let rows = statement
            .query_map(
                rusqlite::params_from_iter(&self.params),
                InitiativeRow::read,
            )
            .map_err(read_err)?;
        rows.collect::<Result<_, _>>().map_err(read_err)
    }
}

/// The filters that depend on other tables (needs, trust), checked row by row on `i`.
fn push_row_filters(b: &mut Statement, q: &SearchQuery) {
    if let Some(wanted) = q.has_open_needs {
        b.push(if wanted {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        b.push(" (SELECT 1 FROM needs n WHERE n.initiative_id = i.id AND n.status = 'open')");
    }
    match q.trust {
        // No stored status means unverified.
        Some(TrustLevel::Unverified) => {
            b.push(
                " AND i.id NOT IN (SELECT initiative_id FROM initiative_trust \
                 WHERE status <> 'unverified')",
            );
        }
        Some(level) => {
            b.push(" AND i.id IN (SELECT initiative_id FROM initiative_trust WHERE status = ")
                .push_bind(level.code().to_string())
                .push(")");
        }
        None => {}
    }
}

/// Appends the FROM and WHERE of the full-text matches in `table`, joined to the listings as
/// `i` only when `joined` or a filter needs other tables: looking up each match's row costs
/// more than finding it.
fn push_matches(b: &mut Statement, q: &SearchQuery, table: &str, expression: String, joined: bool) {
    b.push(&format!(" FROM {table}"));
    let row_filters = q.has_open_needs.is_some() || q.trust.is_some();
    if joined || row_filters {
        b.push(&format!(
            " JOIN initiatives i ON i.fts_rowid = {table}.rowid"
        ));
    }
    b.push(&format!(" WHERE {table} MATCH "))
        .push_bind(expression);
    if row_filters {
        push_row_filters(b, q);
    }
}

/// Counts matches up to `cap` (all when `None`); true when there are more than `cap`.
fn count(conn: &Connection, q: &SearchQuery, cap: Option<u32>) -> StoreResult<(u64, bool)> {
    let (table, columns) = ALL;
    let mut b = Statement::new(&format!("SELECT count(*) FROM (SELECT {table}.rowid"));
    push_matches(&mut b, q, table, match_expression(q, columns), false);
    if let Some(cap) = cap {
        // One more than the cap tells whether there are more. Which matches are counted
        // does not matter, so FTS5 walks its doclists forwards, its cheaper direction.
        b.push(" LIMIT ").push_bind(i64::from(cap) + 1);
    }
    b.push(")");
    let n: i64 = conn
        .prepare_cached(&b.sql)
        .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&b.params), |r| r.get(0)))
        .map_err(read_err)?;
    let n = u64::try_from(n).unwrap_or(0);
    Ok(match cap {
        Some(cap) if n > u64::from(cap) => (u64::from(cap), true),
        _ => (n, false),
    })
}

/// The ranked page of a search with words, in one statement.
///
/// The page is the first `wanted` matches in rank order, from `offset`: each tier newest
/// first, then the next tier's newest that are not in it. A tier is asked for at most `wanted`
/// rows. The arms of the `UNION ALL` run in order and only as far as the `LIMIT` needs, so the
/// next tier is only read when the ones before had fewer rows than the page needs; every tier
/// before the current one is then complete (the previous tier holds all of them, which is what
/// `NOT IN` leaves out) and the order is the same whatever the page size. SQLite's nested loop
/// keeps the arms' order; the conformance suite's ranking cases hold it to that.
fn ranked_page(
    conn: &Connection,
    q: &SearchQuery,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<InitiativeRow>> {
    // Ranked pages reach as far as the count goes: beyond it matches are not ranked.
    let wanted = offset.saturating_add(limit).min(SearchQuery::COUNT_CAP);
    if offset >= wanted {
        return Ok(Vec::new());
    }
    let mut b = Statement::new("WITH ");
    for (n, (table, columns)) in TIERS.into_iter().enumerate() {
        b.push(&format!("tier{n} AS (SELECT {table}.rowid AS id"));
        push_matches(&mut b, q, table, match_expression(q, columns), false);
        b.push(&format!(" ORDER BY {table}.rowid DESC LIMIT "))
            .push_bind(i64::from(wanted))
            .push("), ");
    }
    b.push(
        "ranked AS (SELECT id FROM tier0 \
         UNION ALL SELECT id FROM tier1 WHERE id NOT IN tier0 \
         UNION ALL SELECT id FROM tier2 WHERE id NOT IN tier1) SELECT ",
    )
    .push(COLUMNS)
    .push(" FROM ranked CROSS JOIN initiatives i ON i.fts_rowid = ranked.id LIMIT ")
    .push_bind(i64::from(wanted - offset))
    .push(" OFFSET ")
    .push_bind(i64::from(offset));
    b.rows(conn)
}

pub(crate) async fn search(store: &SqliteStore, q: &SearchQuery) -> StoreResult<SearchPage> {
    let (limit, offset) = q.limit_offset();
    let ((total, total_capped), rows) = if q.terms().is_empty() {
        let query = q.clone();
        store
            .search_readers
            .run(move |conn| unranked(conn, &query, limit, offset))
            .await?
    } else {
        // The capped count and the ranked page do not depend on each other: each runs on its
        // own reader, so a search takes about as long as the longer of the two when a core is
        // free (the count of a frequent word with a filter is the longer, ~0.4 ms).
        let cap = (!q.exact_total).then_some(SearchQuery::COUNT_CAP);
        let (for_count, for_page) = (q.clone(), q.clone());
        tokio::try_join!(
            store
                .search_readers
                .run(move |conn| count(conn, &for_count, cap)),
            store
                .search_readers
                .run(move |conn| ranked_page(conn, &for_page, limit, offset)),
        )?
    };
    Ok(SearchPage {
        items: rows
            .into_iter()
            .map(InitiativeRow::into_initiative)
            .collect::<StoreResult<_>>()?,
        total,
        total_capped,
        page: q.page.max(1),
        per_page: limit,
    })
}

/// The count and the page of a search without words.
fn unranked(
    conn: &Connection,
    q: &SearchQuery,
    limit: u32,
    offset: u32,
) -> StoreResult<((u64, bool), Vec<InitiativeRow>)> {
    // Any page can be reached, so count at least up to the page asked for.
    let cap = (!q.exact_total).then(|| SearchQuery::COUNT_CAP.max(offset.saturating_add(limit)));
    let counted = count(conn, q, cap)?;
    let rows = if counted.1 {
        newest_first(conn, q, limit, offset)?
    } else {
        // Few enough matches to sort: the filters' tokens find them in the index.
        let (table, columns) = ALL;
        let mut b = Statement::new("SELECT ");
        b.push(COLUMNS);
        push_matches(&mut b, q, table, match_expression(q, columns), true);
        newest_page(conn, b, limit, offset)?
    };
    Ok((counted, rows))
}

/// A page without words when many listings match: walks the listings newest first and keeps
/// those that pass the filters, so it stops soon after the page.
fn newest_first(
    conn: &Connection,
    q: &SearchQuery,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<InitiativeRow>> {
    let mut b = Statement::new("SELECT ");
    b.push(COLUMNS).push(
        " FROM initiatives i INDEXED BY initiatives_by_recency_and_status WHERE i.status IN (",
    );
    for (n, status) in q.effective_statuses().into_iter().enumerate() {
        if n > 0 {
            b.push(", ");
        }
        b.push_bind(status.code().to_string());
    }
    b.push(")");
    if let Some(category) = q.category {
        b.push(" AND EXISTS (SELECT 1 FROM initiative_categories c WHERE c.category = ")
            .push_bind(category.code().to_string())
            .push(" AND c.initiative_id = i.id)");
    }
    if let Some(region) = &q.region {
        b.push(" AND EXISTS (SELECT 1 FROM initiative_regions r WHERE r.region_code = ")
            .push_bind(region.clone())
            .push(" AND r.initiative_id = i.id)");
    }
    match q.origin {
        OriginFilter::Local => {
            b.push(" AND i.origin IS NULL");
        }
        OriginFilter::Remote => {
            b.push(" AND i.origin IS NOT NULL");
        }
        OriginFilter::All => {}
    }
    if q.recurring_only {
        b.push(" AND i.takes_recurring = 1");
    }
    push_row_filters(&mut b, q);
    newest_page(conn, b, limit, offset)
}

/// Finishes a query over `i` with the page's order, limit and offset, and reads the rows.
fn newest_page(
    conn: &Connection,
    mut b: Statement,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<InitiativeRow>> {
    b.push(" ORDER BY i.updated_at DESC, i.id LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(i64::from(offset));
    b.rows(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_prefixes_in_the_text_columns() {
        let terms = vec!["медик".to_string(), "a\"b".to_string()];
        assert_eq!(
            words_expression("name tags", &terms).unwrap(),
            "{name tags} : (\"медик\"* \"a\"\"b\"*)"
        );
        assert_eq!(words_expression("name", &[]), None);
    }

    #[test]
    fn filters_become_facet_tokens_and_other_statuses_are_excluded() {
        let q = SearchQuery {
            region: Some("kyiv-city".into()),
            origin: OriginFilter::Local,
            ..SearchQuery::default()
        };
        assert_eq!(
            match_expression(&q, "name"),
            "(search_facets : \"fregionkyivcity\" AND search_facets : \"foriginlocal\") NOT \
             search_facets : (\"fstatuspending\" OR \"fstatusarchived\" OR \"fstatusrejected\")"
        );
    }

    #[test]
    fn statuses_are_required_when_nothing_else_is_or_published_is_not_wanted() {
        assert_eq!(
            match_expression(&SearchQuery::default(), "name"),
            "search_facets : (\"fstatuspublished\" OR \"fstatuspaused\")"
        );
        let pending = SearchQuery {
            statuses: vec![InitiativeStatus::Pending],
            ..SearchQuery::default()
        };
        assert_eq!(
            match_expression(&pending, "name"),
            "search_facets : (\"fstatuspending\")"
        );
        let every = SearchQuery {
            text: Some("bread".into()),
            statuses: STATUSES.to_vec(),
            ..SearchQuery::default()
        };
        assert_eq!(match_expression(&every, "name"), "{name} : (\"bread\"*)");
        let every_without_words = SearchQuery {
            statuses: STATUSES.to_vec(),
            ..SearchQuery::default()
        };
        assert!(match_expression(&every_without_words, "name").starts_with("search_facets : ("));
    }
}
