//! Accounts: users, which initiatives they maintain, and their tokens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Role, User};
use hromada_store::{StoreError, StoreResult, TokenKind, TokenRecord};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{id, known, opt_ts, parse_id, parse_opt_ts, parse_ts, ts};
use crate::error::{db_err, write_err};
use crate::feed;

const SELECT_USER: &str =
    "SELECT id, username, role, password_hash, disabled, created_at FROM users";

const SELECT_TOKEN: &str =
    "SELECT id, user_id, hash, kind, label, created_at, expires_at, revoked_at FROM tokens";

/// `true` when the user did not maintain it before.
async fn link_maintainer(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    initiative_id: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO maintainers (user_id, initiative_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )
    .bind(id(user_id))
    .bind(id(initiative_id))
    .execute(conn)
    .await
    .map_err(|e| write_err(e, |_| "already a maintainer".into()))?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn insert_user(
    store: &SqliteStore,
    user: &User,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO users (id, username, role, password_hash, disabled, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(id(user.id))
    .bind(&user.username)
    .bind(user.role.code())
    .bind(&user.password_hash)
    .bind(user.disabled)
    .bind(ts(user.created_at))
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        write_err(e, |constraint| {
            if constraint.contains("username") {
                format!("the username `{}` is already taken", user.username)
            } else {
                format!("a user with id {} already exists", user.id)
            }
        })
    })?;
    for initiative_id in &user.maintains {
        link_maintainer(&mut tx, user.id, *initiative_id).await?;
    }
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    username: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at: String,
}

impl UserRow {
    fn into_user(self, maintains: Vec<Uuid>) -> StoreResult<User> {
        Ok(User {
            id: parse_id(&self.id)?,
            username: self.username,
            role: known(Role::from_code(&self.role), "role", &self.role)?,
            password_hash: self.password_hash,
            maintains,
            disabled: self.disabled,
            created_at: parse_ts(&self.created_at)?,
        })
    }
}

async fn maintained_by(store: &SqliteStore, user_id: &str) -> StoreResult<Vec<Uuid>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT initiative_id FROM maintainers WHERE user_id = ?1 ORDER BY seq")
            .bind(user_id)
            .fetch_all(store.pool())
            .await
            .map_err(db_err)?;
    ids.iter().map(|s| parse_id(s)).collect()
}

async fn with_maintained(store: &SqliteStore, row: Option<UserRow>) -> StoreResult<Option<User>> {
    match row {
        Some(row) => {
            let maintains = maintained_by(store, &row.id).await?;
            row.into_user(maintains).map(Some)
        }
        None => Ok(None),
    }
}

pub(crate) async fn user_by_id(store: &SqliteStore, user_id: Uuid) -> StoreResult<Option<User>> {
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE id = ?1"))
        .bind(id(user_id))
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    with_maintained(store, row).await
}

/// Case-insensitive: the column's collation is NOCASE.
pub(crate) async fn user_by_username(
    store: &SqliteStore,
    username: &str,
) -> StoreResult<Option<User>> {
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE username = ?1"))
        .bind(username)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    with_maintained(store, row).await
}

pub(crate) async fn list_users(store: &SqliteStore) -> StoreResult<Vec<User>> {
    let rows = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} ORDER BY username"))
        .fetch_all(store.pool())
        .await
        .map_err(db_err)?;
    let links: Vec<(String, String)> =
        sqlx::query_as("SELECT user_id, initiative_id FROM maintainers ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .map_err(db_err)?;
    let mut maintained: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (user_id, initiative_id) in links {
        maintained
            .entry(user_id)
            .or_default()
            .push(parse_id(&initiative_id)?);
    }
    rows.into_iter()
        .map(|row| {
            let maintains = maintained.remove(&row.id).unwrap_or_default();
            row.into_user(maintains)
        })
        .collect()
}

pub(crate) async fn set_password_hash(
    store: &SqliteStore,
    user_id: Uuid,
    hash: &str,
    keep: Option<Uuid>,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = sqlx::query("UPDATE users SET password_hash = ?2 WHERE id = ?1")
        .bind(id(user_id))
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    revoke_tokens_of(&mut tx, user_id, keep).await?;
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn set_user_disabled(
    store: &SqliteStore,
    user_id: Uuid,
    disabled: bool,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = sqlx::query("UPDATE users SET disabled = ?2 WHERE id = ?1")
        .bind(id(user_id))
        .bind(disabled)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        revoke_tokens_of(&mut tx, user_id, None).await?;
    }
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn set_user_role(
    store: &SqliteStore,
    user_id: Uuid,
    role: Role,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = sqlx::query("UPDATE users SET role = ?2 WHERE id = ?1")
        .bind(id(user_id))
        .bind(role.code())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}

/// Revokes every live token of a user but `keep`.
async fn revoke_tokens_of(
    tx: &mut sqlx::SqliteConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND id IS NOT ?3",
    )
    .bind(id(user_id))
    .bind(ts(Utc::now()))
    .bind(keep.map(id))
    .execute(tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Idempotent; `NotFound` when the user or the initiative does not exist.
pub(crate) async fn add_maintainer(
    store: &SqliteStore,
    user_id: Uuid,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    // Recorded only when it changes something, as a removal is.
    if link_maintainer(&mut tx, user_id, initiative_id).await? {
        feed::record(&mut tx, audit, None).await?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn remove_maintainer(
    store: &SqliteStore,
    user_id: Uuid,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM maintainers WHERE user_id = ?1 AND initiative_id = ?2")
        .bind(id(user_id))
        .bind(id(initiative_id))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
        > 0;
    if removed {
        feed::record(&mut tx, audit, None).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(removed)
}

pub(crate) async fn insert_token(
    store: &SqliteStore,
    t: &TokenRecord,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO tokens (id, user_id, hash, kind, label, created_at, expires_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(id(t.id))
    .bind(id(t.user_id))
    .bind(&t.hash)
    .bind(t.kind.code())
    .bind(&t.label)
    .bind(ts(t.created_at))
    .bind(opt_ts(t.expires_at))
    .bind(opt_ts(t.revoked_at))
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        write_err(e, |_| {
            format!("token {} (or its hash) is already stored", t.id)
        })
    })?;
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    user_id: String,
    hash: String,
    kind: String,
    label: String,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl TokenRow {
    fn into_token(self) -> StoreResult<TokenRecord> {
        Ok(TokenRecord {
            id: parse_id(&self.id)?,
            user_id: parse_id(&self.user_id)?,
            hash: self.hash,
            kind: known(TokenKind::from_code(&self.kind), "token kind", &self.kind)?,
            label: self.label,
            created_at: parse_ts(&self.created_at)?,
            expires_at: parse_opt_ts(self.expires_at)?,
            revoked_at: parse_opt_ts(self.revoked_at)?,
        })
    }
}

pub(crate) async fn live_token(
    store: &SqliteStore,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "{SELECT_TOKEN} WHERE hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)"
    ))
    .bind(hash)
    .bind(ts(now))
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?
    .map(TokenRow::into_token)
    .transpose()
}

pub(crate) async fn token_by_hash(
    store: &SqliteStore,
    hash: &str,
) -> StoreResult<Option<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!("{SELECT_TOKEN} WHERE hash = ?1"))
        .bind(hash)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(TokenRow::into_token)
        .transpose()
}

pub(crate) async fn record_hit(
    store: &SqliteStore,
    key: &str,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<u32> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM rate_limit_hits WHERE window_end <= ?1")
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let hits: i64 = sqlx::query_scalar(
        "INSERT INTO rate_limit_hits (key, window_start, window_end, hits) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1
         RETURNING hits",
    )
    .bind(key)
    .bind(ts(window_start))
    .bind(ts(window_end))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(u32::try_from(hits).unwrap_or(u32::MAX))
}

pub(crate) async fn record_login_failure(
    store: &SqliteStore,
    keys: &[String],
    at: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM login_failures WHERE failed_at <= ?1")
        .bind(ts(forget_before))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    for key in keys {
        sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES (?1, ?2)")
            .bind(key)
            .bind(ts(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn login_failures(
    store: &SqliteStore,
    key: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DateTime<Utc>>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE key = ?1 AND failed_at > ?2
         ORDER BY failed_at DESC LIMIT ?3",
    )
    .bind(key)
    .bind(ts(since))
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?;
    rows.iter().map(|at| parse_ts(at)).collect()
}

pub(crate) async fn clear_login_failures(store: &SqliteStore, key: &str) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM login_failures WHERE key = ?1")
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn forget_login_attempt(
    store: &SqliteStore,
    keys: &[String],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    for key in keys {
        // One record: another attempt under the same key at the same instant stays counted.
        sqlx::query(
            "DELETE FROM login_failures WHERE rowid =
                 (SELECT rowid FROM login_failures WHERE key = ?1 AND failed_at = ?2 LIMIT 1)",
        )
        .bind(key)
        .bind(ts(at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

/// Newest first, revoked and expired ones included (for the account page).
pub(crate) async fn tokens_of(store: &SqliteStore, user_id: Uuid) -> StoreResult<Vec<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "{SELECT_TOKEN} WHERE user_id = ?1 ORDER BY created_at DESC, id"
    ))
    .bind(id(user_id))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?
    .into_iter()
    .map(TokenRow::into_token)
    .collect()
}

/// `NotFound` when there is no such token or it is already revoked. An expired token can still
/// be revoked, which makes the account page say so.
pub(crate) async fn revoke_token(
    store: &SqliteStore,
    token_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done =
        sqlx::query("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
            .bind(id(token_id))
            .bind(ts(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}
