//! Searching initiatives: `tsvector` matching with filters, counts capped at
//! [`SearchQuery::COUNT_CAP`], and ranking by where the words are (migration 0013): every word
//! in the name, tags or place names (`search_title`; migration 0019), then there or in the
//! summary (`search_head`), then
//! anywhere (`search`); newest update first within a tier. Each tier is one indexed query that
//! stops after the page, so no document is read just to be ranked. A sample of the first heap
//! pages, read in physical order, proves counts beyond the cap for frequent words and tells
//! which tiers are worth looking for among the newest listings.

use hromada_domain::Region;
use hromada_store::{OriginFilter, SearchPage, SearchQuery, StoreResult};
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::PgStore;
use crate::error::db_err;
use crate::initiatives::{
    COLUMNS, InitiativeRow, SEARCH_DOCUMENT_VERSION, search_document, search_texts,
};

/// Listings whose search documents are written again per transaction.
const PLACES_BATCH: i64 = 500;

/// Writes the search documents of the listings stored with an older version of them
/// ([`SEARCH_DOCUMENT_VERSION`]: every listing right after migration 0019, and after the
/// documents began to fold diacritics), a batch per transaction; returns how many. A
/// listing whose stored regions cannot be read gets none and is logged. Processes opening at
/// once share the work: each skips the rows another one holds.
pub(crate) async fn refresh_documents(store: &PgStore) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE initiatives SET search = {}, search_version = $6 WHERE id = $1",
        search_document(2)
    );
    let mut refreshed = 0;
    loop {
        let mut tx = store.begin().await?;
        type Row = (Uuid, String, Vec<String>, String, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, name, tags, regions::text, summary, description FROM initiatives
             WHERE search_version < $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(SEARCH_DOCUMENT_VERSION)
        .bind(PLACES_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            tx.commit().await.map_err(db_err)?;
            if refreshed > 0 {
                compact_after_rewrite(store).await?;
            }
            return Ok(refreshed);
        }
        for (id, name, tags, regions, summary, description) in &rows {
            // One unreadable row must not keep the node from starting: it goes without.
            let regions: Vec<Region> = serde_json::from_str(regions).unwrap_or_else(|e| {
                tracing::warn!(initiative = %id, error = %e, "no place words for this listing");
                Vec::new()
            });
            let [a, b, c, d] = search_texts(name, tags, &regions, summary, description);
            sqlx::query(&sql)
                .bind(id)
                .bind(a)
                .bind(b)
                .bind(c)
                .bind(d)
                .bind(SEARCH_DOCUMENT_VERSION)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        refreshed += rows.len() as u64;
    }
}

/// Rewrites the table of listings in place once every listing has its new search document.
/// Rewriting a listing leaves its old version where it was and puts the new one at the end of
/// the heap, so after rewriting them all the first pages, which [`Sample`] reads to choose how
/// to search, hold none that are live (even after a plain `VACUUM`) and every frequent word
/// goes to a GIN bitmap: at 100,000 listings searches took 130–260 ms at p99 instead of 20–30
/// (docs/benchmarks.md, "Session 18"). `VACUUM FULL` (12 s at that size) puts the listings back
/// in order; it locks the table, which is why it runs only while migrating, before a process
/// serves. Processes migrating together leave it to the one that finds no listing left to
/// rewrite, locked or not.
async fn compact_after_rewrite(store: &PgStore) -> StoreResult<()> {
    let left: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM initiatives WHERE search_version < $1)")
            .bind(SEARCH_DOCUMENT_VERSION)
            .fetch_one(store.pool())
            .await
            .map_err(db_err)?;
    if left {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // The simple protocol: VACUUM cannot run inside a transaction, even an implicit one.
    sqlx::raw_sql("VACUUM (FULL, ANALYZE) initiatives")
        .execute(store.pool())
        .await
        .map_err(db_err)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f32(),
        "compacted the listings after rewriting their search documents"
    );
    Ok(())
}

/// A `to_tsquery` text requiring every term as a word prefix: `'медик':* & 'gen':*`. Each term
/// is quoted (quotes and backslashes escaped), so whatever the user typed (`!`, `|`, `(`, `:`)
/// is searched for as text, never parsed as query syntax.
fn tsquery(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("'{}':*", t.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    Some(quoted.join(" & "))
}

/// The documents a ranked search matches, best tier first. Each tier's matches include the
/// previous tier's.
const TIERS: [&str; 3] = ["search_title", "search_head", "search"];

/// Appends the conditions (after a `WHERE`) shared by the count and the page: the words (if
/// any) matched in the document `column`, and the filters.
fn push_where(
    b: &mut QueryBuilder<'_, Postgres>,
    q: &SearchQuery,
    tsq: Option<&str>,
    column: &str,
) {
    let statuses: Vec<String> = q
        .effective_statuses()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    b.push(" AND i.status = ANY(").push_bind(statuses).push(")");
    if let Some(tsq) = tsq {
        b.push(format!(" AND i.{column} @@ to_tsquery('simple', "))
            .push_bind(tsq.to_string())
            .push(")");
    }
    // `@>` on the arrays, so that their GIN indexes are used.
    if let Some(category) = q.category {
        b.push(" AND i.categories @> ARRAY[")
            .push_bind(category.code())
            .push("]::text[]");
    }
    if let Some(region) = &q.region {
        b.push(" AND i.region_codes @> ARRAY[")
            .push_bind(region.clone())
            .push("]::text[]");
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
    if let Some(wanted) = q.has_open_needs {
        b.push(if wanted {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        b.push(" (SELECT 1 FROM needs n WHERE n.initiative_id = i.id AND n.status = 'open')");
    }
    if let Some(level) = q.trust {
        crate::trust::push_trust_filter(b, level);
    }
    if q.recurring_only {
        b.push(" AND i.takes_recurring");
    }
}

/// How many of the newest listings a tier looks through before it asks its GIN index instead.
const WALK: u32 = 2_000;

/// Heap pages at the start of the table read as a sample (1 MB, about 570 listings at 100k):
/// the matches there of the small documents tell how frequent each tier is, and prove a count
/// beyond the cap without a bitmap of every match. Read in physical order, a page at a time,
/// so it costs about a millisecond where walking as many of the newest listings reads a page
/// per listing. The sample only chooses how to search; every result stays exact.
const SAMPLE_PAGES: u32 = 128;

/// How far the count reads on when the sample shows that the cap is within reach (32 MB).
const PROOF_PAGES: u32 = 4_096;

/// `AND` the rows on heap pages `from..to` (a TID range scan).
fn push_pages(b: &mut QueryBuilder<'_, Postgres>, from: u32, to: u32) {
    // Bound, not written into the text: the upper end varies, and each text would be a
    // prepared statement of its own.
    b.push(" AND i.ctid >= ")
        .push_bind(format!("({from},0)"))
        .push("::tid AND i.ctid < ")
        .push_bind(format!("({to},0)"))
        .push("::tid");
}

/// Allows only TID range scans (and sequential scans) for the rest of the transaction. Once a
/// prepared statement's plan is generic, the planner does not know how frequent the word is and
/// likes bitmaps of its GIN indexes, which cost as much as the count the pages are meant to
/// spare; the pages themselves are what is wanted.
async fn pages_only(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query(
        "SELECT set_config('enable_bitmapscan', 'off', true), \
                set_config('enable_indexscan', 'off', true)",
    )
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Matches of one tier in the sample, and the listings read, for [`tier_ids`] to judge
/// whether walking the newest listings would fill the page.
#[derive(Clone, Copy)]
struct Sample {
    title: i64,
    head: i64,
    rows: i64,
}

impl Sample {
    async fn take(conn: &mut PgConnection, q: &SearchQuery, tsq: &str) -> StoreResult<Self> {
        let mut b = QueryBuilder::new("SELECT count(*) FILTER (WHERE TRUE");
        push_where(&mut b, q, Some(tsq), "search_title");
        b.push("), count(*) FILTER (WHERE TRUE");
        push_where(&mut b, q, Some(tsq), "search_head");
        b.push("), count(*) FROM initiatives i WHERE TRUE");
        push_pages(&mut b, 0, SAMPLE_PAGES);
        let (title, head, rows): (i64, i64, i64) = b
            .build_query_as()
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(Self { title, head, rows })
    }

    /// False when walking the newest listings would likely find fewer than half of `wanted`
    /// matches of the tier `column`: its GIN index is then asked at once.
    fn worth_walking(&self, column: &str, wanted: u32) -> bool {
        let found = match column {
            "search_title" => self.title,
            "search_head" => self.head,
            _ => return false,
        };
        // Expected finds in the walk: found / rows * WALK; walk unless below wanted / 2.
        found * i64::from(WALK) * 2 >= i64::from(wanted) * self.rows
    }
}

/// A transaction in which only bitmap scans are allowed, i.e. the GIN indexes are used. With
/// a LIMIT and a word it believes frequent, the planner likes to walk the recency index and
/// check every row: for a word that is in fact rare that reads the whole table (seconds at
/// 100k), and for the whole document it decompresses every TOASTed `search` on the way.
async fn through_gin(conn: &mut PgConnection) -> StoreResult<sqlx::Transaction<'_, Postgres>> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    gin_only(&mut tx).await?;
    Ok(tx)
}

/// Allows only bitmap scans for the rest of the transaction (see [`through_gin`]).
async fn gin_only(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query(
        "SELECT set_config('enable_seqscan', 'off', true), \
                set_config('enable_indexscan', 'off', true), \
                set_config('enable_bitmapscan', 'on', true)",
    )
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The newest `wanted` matches of one tier. The small documents are first looked for among
/// the newest listings (a frequent word fills the page there at once) unless the sample shows
/// the tier rare; when that finds fewer than wanted, the tier is rare and its GIN index finds
/// all of it cheaply.
async fn tier_ids(
    conn: &mut PgConnection,
    q: &SearchQuery,
    tsq: &str,
    sample: Sample,
    column: &str,
    wanted: u32,
) -> StoreResult<Vec<Uuid>> {
    // A tier the sample hardly finds (`help` is in summaries, never in names or tags) would
    // walk all the newest listings in vain; its GIN index finds its few matches cheaply.
    if sample.worth_walking(column, wanted) {
        let mut b = QueryBuilder::new(
            "SELECT i.id FROM (SELECT * FROM initiatives ORDER BY updated_at DESC, id LIMIT ",
        );
        b.push_bind(i64::from(WALK)).push(") i WHERE TRUE");
        push_where(&mut b, q, Some(tsq), column);
        b.push(" ORDER BY i.updated_at DESC, i.id LIMIT ")
            .push_bind(i64::from(wanted));
        let newest: Vec<Uuid> = b
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        if newest.len() >= wanted as usize {
            return Ok(newest);
        }
    }
    let mut b = QueryBuilder::new("SELECT i.id FROM initiatives i WHERE TRUE");
    push_where(&mut b, q, Some(tsq), column);
    b.push(" ORDER BY i.updated_at DESC, i.id LIMIT ")
        .push_bind(i64::from(wanted));
    let mut tx = through_gin(conn).await?;
    let ids = b
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(ids)
}

/// The ids of the first `wanted` matches in rank order: each tier newest first, then the next
/// tier's newest that are not in it. A tier is asked for at most `wanted` rows and the next one
/// only when it had fewer, so every tier before the current one is complete and the order is
/// the same whatever the page size.
async fn ranked_ids(
    conn: &mut PgConnection,
    q: &SearchQuery,
    tsq: &str,
    wanted: u32,
) -> StoreResult<Vec<Uuid>> {
    let sample = Sample::take(conn, q, tsq).await?;
    let mut ids: Vec<Uuid> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for column in TIERS {
        if ids.len() >= wanted as usize {
            break;
        }
        let tier = tier_ids(conn, q, tsq, sample, column, wanted).await?;
        ids.extend(tier.into_iter().filter(|id| seen.insert(*id)));
    }
    ids.truncate(wanted as usize);
    Ok(ids)
}

pub(crate) async fn search(store: &PgStore, q: &SearchQuery) -> StoreResult<SearchPage> {
    let (limit, offset) = q.limit_offset();
    let tsq = tsquery(&q.terms());
    let cap = match (q.exact_total, tsq.is_some()) {
        (true, _) => None,
        (false, true) => Some(SearchQuery::COUNT_CAP),
        // Without words any page can be reached, so count at least up to the page asked for.
        (false, false) => Some(SearchQuery::COUNT_CAP.max(offset.saturating_add(limit))),
    };

    // The count and the page do not depend on each other: each runs on its own connection
    // (its own server process), so a search takes about as long as the longer of the two.
    let ((total, total_capped), rows) = tokio::try_join!(
        count(store, q, tsq.as_deref(), cap),
        page(store, q, tsq.as_deref(), limit, offset),
    )?;

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

/// Counts matches up to `cap` (all when `None`); true when there are more than `cap`.
async fn count(
    store: &PgStore,
    q: &SearchQuery,
    tsq: Option<&str>,
    cap: Option<u32>,
) -> StoreResult<(u64, bool)> {
    // Counting stops one past the cap, which tells whether there are more.
    let mut count =
        QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM initiatives i WHERE TRUE");
    push_where(&mut count, q, tsq, "search");
    if let Some(cap) = cap {
        count.push(" LIMIT ").push_bind(i64::from(cap) + 1);
    }
    count.push(") matches");
    let mut conn = store.pool().acquire().await.map_err(db_err)?;
    let counted: i64 = if let Some(tsq) = tsq {
        let mut tx = conn.begin().await.map_err(db_err)?;
        // One snapshot for the pieces of a proof, so that a listing updated meanwhile (its
        // new version on another page) is not counted twice.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(cap) = cap
            && beyond_cap(&mut tx, q, tsq, cap).await?
        {
            tx.commit().await.map_err(db_err)?;
            return Ok((u64::from(cap), true));
        }
        gin_only(&mut tx).await?;
        let n = count
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        n
    } else {
        count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?
    };
    let counted = u64::try_from(counted).unwrap_or(0);
    Ok(match cap {
        Some(cap) if counted > u64::from(cap) => (u64::from(cap), true),
        _ => (counted, false),
    })
}

/// Whether more than `cap` listings match, proven by finding them on the first heap pages
/// through their small documents: a listing whose name, tags or summary hold every word
/// (`search_head`) matches the whole document too. A frequent word is proven in a few hundred
/// pages, where a GIN count builds a bitmap of every match first (30 ms for a word in 60,000
/// listings). False when the sample puts the cap out of reach: the GIN count decides then.
async fn beyond_cap(
    conn: &mut PgConnection,
    q: &SearchQuery,
    tsq: &str,
    cap: u32,
) -> StoreResult<bool> {
    // These filters look up other tables by index, which the pinned plan would forbid
    // (a sequential scan of them per listing); they are rare, and their GIN count is small.
    if q.has_open_needs.is_some() || q.trust.is_some() {
        return Ok(false);
    }
    let needed = i64::from(cap) + 1;
    pages_only(conn).await?;
    let found = head_matches(conn, q, tsq, 0, SAMPLE_PAGES, needed).await?;
    if found >= needed {
        return Ok(true);
    }
    if found == 0 {
        return Ok(false);
    }
    // The pages the rest needs at the sample's rate, and half as many again.
    let pages = i64::from(SAMPLE_PAGES) * needed * 3 / (2 * found);
    let Ok(pages) = u32::try_from(pages) else {
        return Ok(false);
    };
    if pages > PROOF_PAGES {
        return Ok(false);
    }
    let more = head_matches(conn, q, tsq, SAMPLE_PAGES, pages, needed - found).await?;
    Ok(found + more >= needed)
}

/// Matches of `search_head` on heap pages `from..to`, counted up to `limit`.
async fn head_matches(
    conn: &mut PgConnection,
    q: &SearchQuery,
    tsq: &str,
    from: u32,
    to: u32,
    limit: i64,
) -> StoreResult<i64> {
    let mut b = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM initiatives i WHERE TRUE");
    push_pages(&mut b, from, to);
    push_where(&mut b, q, Some(tsq), "search_head");
    b.push(" LIMIT ").push_bind(limit).push(") matches");
    b.build_query_scalar().fetch_one(conn).await.map_err(db_err)
}

/// The rows of one page, on one connection.
async fn page(
    store: &PgStore,
    q: &SearchQuery,
    tsq: Option<&str>,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<InitiativeRow>> {
    let Some(tsq) = tsq else {
        let mut page = QueryBuilder::new(format!("SELECT {COLUMNS} FROM initiatives i WHERE TRUE"));
        push_where(&mut page, q, None, "search");
        page.push(" ORDER BY i.updated_at DESC, i.id LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(offset));
        return page
            .build_query_as()
            .fetch_all(store.pool())
            .await
            .map_err(db_err);
    };
    // Ranked pages reach as far as the count goes: beyond it matches are not ranked.
    let wanted = offset.saturating_add(limit).min(SearchQuery::COUNT_CAP);
    if offset >= wanted {
        return Ok(Vec::new());
    }
    let mut conn = store.pool().acquire().await.map_err(db_err)?;
    let ids = ranked_ids(&mut conn, q, tsq, wanted).await?;
    let page: Vec<Uuid> = ids.get(offset as usize..).unwrap_or_default().to_vec();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM unnest($1::uuid[]) WITH ORDINALITY page (id, n) \
         JOIN initiatives i ON i.id = page.id ORDER BY page.n"
    ))
    .bind(page)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_prefixes() {
        let terms = vec!["медик".to_string(), "o'brien".to_string()];
        assert_eq!(tsquery(&terms).unwrap(), "'медик':* & 'o''brien':*");
        assert_eq!(tsquery(&[]), None);
    }
}
