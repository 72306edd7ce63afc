//! Turning sqlx errors into [`StoreError`]s.

use hromada_store::StoreError;

/// Any failure of a query: undecodable values are corrupt data, the rest database trouble.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        e => StoreError::Database(e.to_string()),
    }
}

/// A failed write. A broken uniqueness rule becomes what `conflict` makes of the violated
/// constraint (SQLite names it as `table.column, ...`); a missing referenced row (e.g. the
/// initiative of a new need) becomes `NotFound`.
pub(crate) fn write_err(e: sqlx::Error, conflict: impl FnOnce(&str) -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(conflict(db.constraint().unwrap_or(db.message())));
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound;
        }
    }
    db_err(e)
}
