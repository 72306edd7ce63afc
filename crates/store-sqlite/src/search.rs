//! Searching initiatives: FTS5 full-text matching with filters, bm25 ranking and pages.

use hromada_store::{OriginFilter, SearchPage, SearchQuery, StoreResult};
use sqlx::{QueryBuilder, Sqlite};

use crate::SqliteStore;
use crate::error::db_err;
use crate::initiatives::{COLUMNS, InitiativeRow};

/// bm25() weights in the column order of `initiatives_fts`: name, tags, summary, description.
const RANK: &str = "bm25(initiatives_fts, 10.0, 5.0, 2.0, 1.0)";

/// An FTS5 query requiring every term as a word prefix. Each term is quoted, so whatever the
/// user typed (`"`, `*`, `(`, `OR`, `NEAR`, `-`) is searched for as text, never parsed as syntax.
fn match_expression(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect();
    Some(quoted.join(" "))
}

/// Appends the FROM and WHERE clauses shared by the count and the page.
fn push_from_where(b: &mut QueryBuilder<'_, Sqlite>, q: &SearchQuery, fts: Option<&str>) {
    b.push(" FROM initiatives i");
    if fts.is_some() {
        b.push(" JOIN initiatives_fts ON initiatives_fts.rowid = i.fts_rowid");
    }
    b.push(" WHERE i.status IN (");
    let mut statuses = b.separated(", ");
    for status in q.effective_statuses() {
        statuses.push_bind(status.code());
    }
    b.push(")");
    if let Some(expr) = fts {
        b.push(" AND initiatives_fts MATCH ")
            .push_bind(expr.to_string());
    }
    if let Some(category) = q.category {
        b.push(" AND i.id IN (SELECT initiative_id FROM initiative_categories WHERE category = ")
            .push_bind(category.code())
            .push(")");
    }
    if let Some(region) = &q.region {
        b.push(" AND i.id IN (SELECT initiative_id FROM initiative_regions WHERE region_code = ")
            .push_bind(region.clone())
            .push(")");
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
        b.push(" AND i.takes_recurring = 1");
    }
}

pub(crate) async fn search(store: &SqliteStore, q: &SearchQuery) -> StoreResult<SearchPage> {
    let (limit, offset) = q.limit_offset();
    let fts = match_expression(&q.terms());

    let mut count = QueryBuilder::new("SELECT count(*)");
    push_from_where(&mut count, q, fts.as_deref());
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;

    let mut page = QueryBuilder::new(format!("SELECT {COLUMNS}"));
    push_from_where(&mut page, q, fts.as_deref());
    page.push(" ORDER BY ");
    if fts.is_some() {
        page.push(RANK).push(", ");
    }
    page.push("i.updated_at DESC, i.id LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(i64::from(offset));
    let rows: Vec<InitiativeRow> = page
        .build_query_as()
        .fetch_all(store.pool())
        .await
        .map_err(db_err)?;

    Ok(SearchPage {
        items: rows
            .into_iter()
            .map(InitiativeRow::into_initiative)
            .collect::<StoreResult<_>>()?,
        total: u64::try_from(total).unwrap_or(0),
        page: q.page.max(1),
        per_page: limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_prefixes() {
        let terms = vec!["медик".to_string(), "a\"b".to_string()];
        assert_eq!(match_expression(&terms).unwrap(), "\"медик\"* \"a\"\"b\"*");
        assert_eq!(match_expression(&[]), None);
    }
}
