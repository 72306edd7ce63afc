//! Searching initiatives: weighted `tsvector` matching with filters, `ts_rank` ranking and pages.

use hromada_store::{OriginFilter, SearchPage, SearchQuery, StoreResult};
use sqlx::{Postgres, QueryBuilder};

use crate::PgStore;
use crate::error::db_err;
use crate::initiatives::{COLUMNS, InitiativeRow};

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

/// Appends the FROM and WHERE clauses shared by the count and the page.
fn push_from_where(b: &mut QueryBuilder<'_, Postgres>, q: &SearchQuery, tsq: Option<&str>) {
    let statuses: Vec<String> = q
        .effective_statuses()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    b.push(" FROM initiatives i WHERE i.status = ANY(")
        .push_bind(statuses)
        .push(")");
    if let Some(tsq) = tsq {
        b.push(" AND i.search @@ to_tsquery('simple', ")
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

pub(crate) async fn search(store: &PgStore, q: &SearchQuery) -> StoreResult<SearchPage> {
    let (limit, offset) = q.limit_offset();
    let tsq = tsquery(&q.terms());

    let mut count = QueryBuilder::new("SELECT count(*)");
    push_from_where(&mut count, q, tsq.as_deref());
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;

    let mut page = QueryBuilder::new(format!("SELECT {COLUMNS}"));
    push_from_where(&mut page, q, tsq.as_deref());
    page.push(" ORDER BY ");
    if let Some(tsq) = &tsq {
        page.push("ts_rank(i.search, to_tsquery('simple', ")
            .push_bind(tsq.clone())
            .push(")) DESC, ");
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
        let terms = vec!["медик".to_string(), "o'brien".to_string()];
        assert_eq!(tsquery(&terms).unwrap(), "'медик':* & 'o''brien':*");
        assert_eq!(tsquery(&[]), None);
    }
}
