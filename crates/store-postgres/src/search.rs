//! Searching initiatives: weighted `tsvector` matching with filters, capped counts, `ts_rank`
//! ranking over at most [`SearchQuery::COUNT_CAP`] candidates (the newest matches), and pages.

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
    let cap = match (q.exact_total, tsq.is_some()) {
        (true, _) => None,
        (false, true) => Some(SearchQuery::COUNT_CAP),
        // Without words any page can be reached, so count at least up to the page asked for.
        (false, false) => Some(SearchQuery::COUNT_CAP.max(offset.saturating_add(limit))),
    };

    // Counting stops one past the cap, which tells whether there are more.
    let mut count = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
    push_from_where(&mut count, q, tsq.as_deref());
    if let Some(cap) = cap {
        count.push(" LIMIT ").push_bind(i64::from(cap) + 1);
    }
    count.push(") matches");
    let counted: i64 = count
        .build_query_scalar()
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;
    let counted = u64::try_from(counted).unwrap_or(0);
    let (total, total_capped) = match cap {
        Some(cap) if counted > u64::from(cap) => (u64::from(cap), true),
        _ => (counted, false),
    };

    let mut page = QueryBuilder::new(format!("SELECT {COLUMNS}"));
    match &tsq {
        // Rank the newest matches only (at most the cap): ranking reads every candidate's
        // document, and a frequent word is in most listings.
        Some(tsq) => {
            page.push(" FROM (SELECT i.id, i.updated_at, ts_rank(i.search, to_tsquery('simple', ")
                .push_bind(tsq.clone())
                .push(")) AS score");
            push_from_where(&mut page, q, Some(tsq));
            page.push(" ORDER BY i.updated_at DESC, i.id");
            if let Some(cap) = cap {
                page.push(" LIMIT ").push_bind(i64::from(cap));
            }
            page.push(
                ") c JOIN initiatives i ON i.id = c.id \
                 ORDER BY c.score DESC, c.updated_at DESC, c.id",
            );
        }
        None => {
            push_from_where(&mut page, q, None);
            page.push(" ORDER BY i.updated_at DESC, i.id");
        }
    }
    page.push(" LIMIT ")
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
        total,
        total_capped,
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
