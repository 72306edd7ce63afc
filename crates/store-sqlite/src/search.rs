//! Searching initiatives: one FTS5 query finds the words and the filters together (the
//! filters are tokens of the `search_facets` column, see migration 0010), counts at most
//! [`SearchQuery::COUNT_CAP`] matches, and ranks only those (the newest), so that a word in most
//! listings costs the same as a rare one. Pages are chosen over row ids; only the page's rows
//! are read in full.

use hromada_domain::Initiative;
use hromada_store::{OriginFilter, SearchPage, SearchQuery, StoreResult};
use sqlx::{QueryBuilder, Sqlite};

use crate::SqliteStore;
use crate::error::db_err;
use crate::initiatives::{COLUMNS, InitiativeRow};

/// bm25() weights in the column order of `initiatives_fts`: name, tags, summary, description,
/// and the facets, which only filter.
const RANK: &str = "bm25(initiatives_fts, 10.0, 5.0, 2.0, 1.0, 0.0)";

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

/// The user's words, each quoted and matched as a word prefix in the four text columns, so
/// that whatever was typed (`"`, `*`, `(`, `OR`, `NEAR`, `-`) is searched for as text, never
/// parsed as syntax, and never finds a facet.
fn words_expression(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect();
    Some(format!(
        "{{name tags summary description}} : ({})",
        quoted.join(" ")
    ))
}

/// The whole FTS5 query: the words (if any) and every filter kept in the index.
fn match_expression(q: &SearchQuery) -> String {
    let facet = |t: String| format!("search_facets : \"{t}\"");
    let statuses: Vec<String> = q
        .effective_statuses()
        .iter()
        .map(|s| format!("\"{}\"", token("fstatus", s.code())))
        .collect();
    let mut parts: Vec<String> = words_expression(&q.terms()).into_iter().collect();
    parts.push(format!("search_facets : ({})", statuses.join(" OR ")));
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
    parts.join(" AND ")
}

/// The filters that depend on other tables (needs, trust), checked row by row on `i`.
fn push_row_filters(b: &mut QueryBuilder<'_, Sqlite>, q: &SearchQuery) {
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
}

/// Appends the FROM and WHERE of the full-text matches (`initiatives_fts` joined to `i`).
fn push_matches(b: &mut QueryBuilder<'_, Sqlite>, q: &SearchQuery, expression: &str) {
    b.push(
        " FROM initiatives_fts JOIN initiatives i ON i.fts_rowid = initiatives_fts.rowid \
         WHERE initiatives_fts MATCH ",
    )
    .push_bind(expression.to_string());
    push_row_filters(b, q);
}

/// Counts matches up to `cap` (all when `None`) and returns the count and the lowest row id
/// among the first `cap` matches (newest first), which bounds the candidates to rank.
async fn count(
    store: &SqliteStore,
    q: &SearchQuery,
    expression: &str,
    cap: Option<u32>,
) -> StoreResult<(u64, bool, Option<i64>)> {
    let mut b =
        QueryBuilder::new("SELECT count(*), min(r) FROM (SELECT initiatives_fts.rowid AS r");
    push_matches(&mut b, q, expression);
    b.push(" ORDER BY initiatives_fts.rowid DESC");
    if let Some(cap) = cap {
        // One more than the cap tells whether there are more.
        b.push(" LIMIT ").push_bind(i64::from(cap) + 1);
    }
    b.push(")");
    let (n, lowest): (i64, Option<i64>) = b
        .build_query_as()
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;
    let n = u64::try_from(n).unwrap_or(0);
    match cap {
        // The extra match is the lowest row id; the candidates start just above it.
        Some(cap) if n > u64::from(cap) => Ok((u64::from(cap), true, lowest.map(|r| r + 1))),
        _ => Ok((n, false, None)),
    }
}

pub(crate) async fn search(store: &SqliteStore, q: &SearchQuery) -> StoreResult<SearchPage> {
    let (limit, offset) = q.limit_offset();
    let expression = match_expression(q);
    let ranked = !q.terms().is_empty();
    let cap = match (q.exact_total, ranked) {
        (true, _) => None,
        (false, true) => Some(SearchQuery::COUNT_CAP),
        // Without words any page can be reached, so count at least up to the page asked for.
        (false, false) => Some(SearchQuery::COUNT_CAP.max(offset.saturating_add(limit))),
    };
    let (total, total_capped, lowest_candidate) = count(store, q, &expression, cap).await?;

    let rows: Vec<InitiativeRow> = if total_capped && !ranked {
        newest_first(store, q, limit, offset).await?
    } else {
        // The page's row ids, ranked among the candidates, then the page's rows.
        let mut b = QueryBuilder::new("SELECT ");
        b.push(COLUMNS)
            .push(" FROM (SELECT initiatives_fts.rowid AS r, ");
        b.push(if ranked { RANK } else { "0" });
        b.push(" AS score, i.updated_at AS u, i.id AS k");
        push_matches(&mut b, q, &expression);
        if let Some(lowest) = lowest_candidate {
            b.push(" AND initiatives_fts.rowid >= ").push_bind(lowest);
        }
        b.push(" ORDER BY score, u DESC, k LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(offset))
            .push(") page JOIN initiatives i ON i.fts_rowid = page.r")
            .push(" ORDER BY page.score, page.u DESC, page.k");
        b.build_query_as()
            .fetch_all(store.pool())
            .await
            .map_err(db_err)?
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

/// A page without words when many listings match: walks the listings newest first and keeps
/// those that pass the filters, so it stops soon after the page.
async fn newest_first(
    store: &SqliteStore,
    q: &SearchQuery,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<InitiativeRow>> {
    let mut b = QueryBuilder::new("SELECT ");
    b.push(COLUMNS)
        .push(" FROM initiatives i INDEXED BY initiatives_by_recency WHERE i.status IN (");
    let mut statuses = b.separated(", ");
    for status in q.effective_statuses() {
        statuses.push_bind(status.code());
    }
    b.push(")");
    if let Some(category) = q.category {
        b.push(" AND EXISTS (SELECT 1 FROM initiative_categories c WHERE c.category = ")
            .push_bind(category.code())
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
    b.push(" ORDER BY i.updated_at DESC, i.id LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(i64::from(offset));
    b.build_query_as()
        .fetch_all(store.pool())
        .await
        .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_prefixes_in_the_text_columns() {
        let terms = vec!["медик".to_string(), "a\"b".to_string()];
        assert_eq!(
            words_expression(&terms).unwrap(),
            "{name tags summary description} : (\"медик\"* \"a\"\"b\"*)"
        );
        assert_eq!(words_expression(&[]), None);
    }

    #[test]
    fn filters_become_facet_tokens() {
        let q = SearchQuery {
            region: Some("kyiv-city".into()),
            origin: OriginFilter::Local,
            ..SearchQuery::default()
        };
        assert_eq!(
            match_expression(&q),
            "search_facets : (\"fstatuspublished\" OR \"fstatuspaused\") AND \
             search_facets : \"fregionkyivcity\" AND search_facets : \"foriginlocal\""
        );
    }
}
