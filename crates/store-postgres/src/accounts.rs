//! Accounts: users, which initiatives they maintain, and their tokens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Role, User};
use hromada_store::{StoreError, StoreResult, TokenKind, TokenRecord};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::known;
use crate::error::{db_err, write_err};
use crate::feed;

const SELECT_USER: &str =
    "SELECT id, username, role, password_hash, disabled, created_at FROM users";

const SELECT_TOKEN: &str =
    "SELECT id, user_id, hash, kind, label, created_at, expires_at, revoked_at FROM tokens";

/// `true` when the user did not maintain it before.
async fn link_maintainer(
    conn: &mut PgConnection,
    user_id: Uuid,
    initiative_id: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO maintainers (user_id, initiative_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(initiative_id)
    .execute(conn)
    .await
    .map_err(|e| write_err(e, |_| "already a maintainer".into()))?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn insert_user(
    store: &PgStore,
    user: &User,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, username, role, password_hash, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id)
    .bind(&user.username)
    .bind(user.role.code())
    .bind(&user.password_hash)
    .bind(user.disabled)
    .bind(user.created_at)
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
    id: Uuid,
    username: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_user(self, maintains: Vec<Uuid>) -> StoreResult<User> {
        Ok(User {
            id: self.id,
            username: self.username,
            role: known(Role::from_code(&self.role), "role", &self.role)?,
            password_hash: self.password_hash,
            maintains,
            disabled: self.disabled,
            created_at: self.created_at,
        })
    }
}

async fn maintained_by(store: &PgStore, user_id: Uuid) -> StoreResult<Vec<Uuid>> {
    sqlx::query_scalar("SELECT initiative_id FROM maintainers WHERE user_id = $1 ORDER BY seq")
        .bind(user_id)
        .fetch_all(store.pool())
        .await
        .map_err(db_err)
}

async fn with_maintained(store: &PgStore, row: Option<UserRow>) -> StoreResult<Option<User>> {
    match row {
        Some(row) => {
            let maintains = maintained_by(store, row.id).await?;
            row.into_user(maintains).map(Some)
        }
        None => Ok(None),
    }
}

pub(crate) async fn user_by_id(store: &PgStore, user_id: Uuid) -> StoreResult<Option<User>> {
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE id = $1"))
        .bind(user_id)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    with_maintained(store, row).await
}

/// Case-insensitive for ASCII, like SQLite's `NOCASE`: usernames are ASCII, folded here rather
/// than by the database, whose locale may lower-case other letters into ASCII ones (`İ` → `i`)
/// and so let one account be reached under several names. Uses the index on `lower(username)`.
pub(crate) async fn user_by_username(store: &PgStore, username: &str) -> StoreResult<Option<User>> {
    if !username.is_ascii() {
        return Ok(None);
    }
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE lower(username) = $1"))
        .bind(username.to_ascii_lowercase())
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    with_maintained(store, row).await
}

pub(crate) async fn list_users(store: &PgStore) -> StoreResult<Vec<User>> {
    let rows =
        sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} ORDER BY username COLLATE \"C\""))
            .fetch_all(store.pool())
            .await
            .map_err(db_err)?;
    let links: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT user_id, initiative_id FROM maintainers ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .map_err(db_err)?;
    let mut maintained: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (user_id, initiative_id) in links {
        maintained.entry(user_id).or_default().push(initiative_id);
    }
    rows.into_iter()
        .map(|row| {
            let maintains = maintained.remove(&row.id).unwrap_or_default();
            row.into_user(maintains)
        })
        .collect()
}

pub(crate) async fn set_password_hash(
    store: &PgStore,
    user_id: Uuid,
    hash: &str,
    keep: Option<Uuid>,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user_id)
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
    store: &PgStore,
    user_id: Uuid,
    disabled: bool,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(user_id)
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
    store: &PgStore,
    user_id: Uuid,
    role: Role,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done = sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
        .bind(user_id)
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
    tx: &mut sqlx::PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL
             AND id IS DISTINCT FROM $3",
    )
    .bind(user_id)
    .bind(Utc::now())
    .bind(keep)
    .execute(tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Idempotent; `NotFound` when the user or the initiative does not exist.
pub(crate) async fn add_maintainer(
    store: &PgStore,
    user_id: Uuid,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    // Recorded only when it changes something, as a removal is.
    if link_maintainer(&mut tx, user_id, initiative_id).await? {
        feed::record(&mut tx, audit, None).await?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn remove_maintainer(
    store: &PgStore,
    user_id: Uuid,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let removed = sqlx::query("DELETE FROM maintainers WHERE user_id = $1 AND initiative_id = $2")
        .bind(user_id)
        .bind(initiative_id)
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
    store: &PgStore,
    t: &TokenRecord,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO tokens (id, user_id, hash, kind, label, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id)
    .bind(t.user_id)
    .bind(&t.hash)
    .bind(t.kind.code())
    .bind(&t.label)
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.revoked_at)
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
    id: Uuid,
    user_id: Uuid,
    hash: String,
    kind: String,
    label: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn into_token(self) -> StoreResult<TokenRecord> {
        Ok(TokenRecord {
            id: self.id,
            user_id: self.user_id,
            hash: self.hash,
            kind: known(TokenKind::from_code(&self.kind), "token kind", &self.kind)?,
            label: self.label,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub(crate) async fn live_token(
    store: &PgStore,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "{SELECT_TOKEN} WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    ))
    .bind(hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?
    .map(TokenRow::into_token)
    .transpose()
}

pub(crate) async fn token_by_hash(store: &PgStore, hash: &str) -> StoreResult<Option<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!("{SELECT_TOKEN} WHERE hash = $1"))
        .bind(hash)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(TokenRow::into_token)
        .transpose()
}

/// One statement for the count, so concurrent processes never lose a hit; the sweep of ended
/// windows is a separate statement (it may race harmlessly with another process's sweep).
pub(crate) async fn record_hit(
    store: &PgStore,
    key: &str,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<u32> {
    sqlx::query("DELETE FROM rate_limit_hits WHERE window_end <= $1")
        .bind(now)
        .execute(store.pool())
        .await
        .map_err(db_err)?;
    let hits: i32 = sqlx::query_scalar(
        "INSERT INTO rate_limit_hits (key, window_start, window_end, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1
         RETURNING hits",
    )
    .bind(key)
    .bind(window_start)
    .bind(window_end)
    .fetch_one(store.pool())
    .await
    .map_err(db_err)?;
    Ok(u32::try_from(hits).unwrap_or(0))
}

pub(crate) async fn record_login_failure(
    store: &PgStore,
    keys: &[String],
    at: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
        .bind(forget_before)
        .execute(store.pool())
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO login_failures (key, failed_at) SELECT k, $2 FROM unnest($1::text[]) AS k",
    )
    .bind(keys)
    .bind(at)
    .execute(store.pool())
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn login_failures(
    store: &PgStore,
    key: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2
         ORDER BY failed_at DESC LIMIT $3",
    )
    .bind(key)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(db_err)
}

pub(crate) async fn clear_login_failures(store: &PgStore, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(store.pool())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn forget_login_attempt(
    store: &PgStore,
    keys: &[String],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    // One record per key: another attempt under the same key at the same instant stays counted.
    sqlx::query(
        "DELETE FROM login_failures WHERE ctid IN (
             SELECT DISTINCT ON (key) ctid FROM login_failures
             WHERE key = ANY($1) AND failed_at = $2)",
    )
    .bind(keys)
    .bind(at)
    .execute(store.pool())
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Newest first, revoked and expired ones included (for the account page).
pub(crate) async fn tokens_of(store: &PgStore, user_id: Uuid) -> StoreResult<Vec<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "{SELECT_TOKEN} WHERE user_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(user_id)
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
    store: &PgStore,
    token_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let done =
        sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(token_id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    feed::record(&mut tx, audit, None).await?;
    tx.commit().await.map_err(db_err)
}
