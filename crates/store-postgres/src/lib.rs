//! The PostgreSQL implementation of Hromada's [`Store`], for nodes that already run PostgreSQL
//! or outgrow one SQLite file. Search uses a weighted `tsvector` with a GIN index.
//!
//! Queries are checked at run time (`sqlx::query` with binds), so building needs no database.
//! One module per area; the [`Store`] implementation below only dispatches to them.

mod accounts;
mod codec;
mod error;
mod events;
mod federation;
mod feed;
mod initiatives;
mod leases;
mod needs;
mod search;
mod trust;
mod updates;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Event, Initiative, Need, Role, Update, Urgency, User};
use hromada_store::{
    Change, DeletedInitiative, DeletedKey, SearchPage, SearchQuery, Store, StoreError, StoreResult,
    TokenRecord,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::error::db_err;

/// Connections kept at most; PostgreSQL handles concurrent writers itself.
const MAX_CONNECTIONS: u32 = 8;
/// How long to wait for a connection before reporting the database unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A Hromada store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Database(format!(
                "the PostgreSQL URL is not valid (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE): {e}"
            ))
        })?;
        // Named without the password, which must not end up in logs.
        let target = format!(
            "{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        let cannot_connect = |reason: String| {
            StoreError::Database(format!(
                "could not connect to PostgreSQL as {target}: {reason} (check that the server is \
                 running and that the URL's user, password, host, port and database are right)"
            ))
        };
        // One plain connection first: its error says why (refused, wrong password, no such
        // database), where a pool would only report that it timed out.
        match tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options)).await {
            Err(_) => {
                return Err(cannot_connect(format!(
                    "no answer within {} seconds",
                    ACQUIRE_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(cannot_connect(e.to_string())),
            Ok(Ok(probe)) => {
                let _ = probe.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| cannot_connect(e.to_string()))?;
        tracing::debug!(%target, "connected to PostgreSQL");
        Ok(Self { pool })
    }

    /// How many of this version's migrations the database lacks, and whether it has none at
    /// all (a new database).
    pub async fn migrations_to_apply(&self) -> Result<(usize, bool), StoreError> {
        let known = sqlx::migrate!("../../migrations/postgres")
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>();
        let (table,): (bool,) =
            sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        if !table {
            return Ok(hromada_store::migrations_missing(known, &[]));
        }
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(hromada_store::migrations_missing(known, &applied))
    }

    /// Applies the migrations in `migrations/postgres` that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| {
                StoreError::Database(format!("could not migrate the PostgreSQL database: {e}"))
            })?;
        let refreshed = search::refresh_documents(self).await?;
        if refreshed > 0 {
            tracing::info!(
                listings = refreshed,
                "wrote the search documents of listings indexed by an older version"
            );
        }
        Ok(())
    }

    /// The connection pool, for other crates' own tables and queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(db_err)
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_initiative(
        &self,
        initiative: &Initiative,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        initiatives::insert(self, initiative, audit).await
    }

    async fn update_initiative(
        &self,
        initiative: &Initiative,
        read_at: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        initiatives::update(self, initiative, read_at, audit).await
    }

    async fn initiative_by_id(&self, id: Uuid) -> StoreResult<Option<Initiative>> {
        initiatives::by_id(self, id).await
    }

    async fn initiative_by_handle(
        &self,
        handle: &str,
        origin: Option<&str>,
    ) -> StoreResult<Option<Initiative>> {
        initiatives::by_handle(self, handle, origin).await
    }

    async fn delete_initiative(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()> {
        initiatives::delete(self, id, audit).await
    }

    async fn deleted_initiative(
        &self,
        key: DeletedKey<'_>,
    ) -> StoreResult<Option<DeletedInitiative>> {
        initiatives::deleted(self, key).await
    }

    async fn search_initiatives(&self, query: &SearchQuery) -> StoreResult<SearchPage> {
        search::search(self, query).await
    }

    async fn merge_search_index(&self, _start: bool) -> StoreResult<bool> {
        Ok(false)
    }

    async fn insert_need(&self, need: &Need) -> StoreResult<()> {
        needs::insert(self, need).await
    }

    async fn update_need(&self, need: &Need, audit: Option<&AuditEntry>) -> StoreResult<()> {
        needs::update(self, need, audit).await
    }

    async fn need_by_id(&self, id: Uuid) -> StoreResult<Option<Need>> {
        needs::by_id(self, id).await
    }

    async fn needs_of(&self, initiative_id: Uuid) -> StoreResult<Vec<Need>> {
        needs::of(self, initiative_id).await
    }

    async fn urgent_needs(&self, min_urgency: Urgency, limit: u32) -> StoreResult<Vec<Need>> {
        needs::urgent(self, min_urgency, limit).await
    }

    async fn insert_update(&self, update: &Update) -> StoreResult<()> {
        updates::insert(self, update).await
    }

    async fn update_update(&self, update: &Update, audit: Option<&AuditEntry>) -> StoreResult<()> {
        updates::update(self, update, audit).await
    }

    async fn delete_update(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()> {
        updates::delete(self, id, audit).await
    }

    async fn update_by_id(&self, id: Uuid) -> StoreResult<Option<Update>> {
        updates::by_id(self, id).await
    }

    async fn updates_of(
        &self,
        initiative_id: Uuid,
        published_before: Option<DateTime<Utc>>,
        skip: u32,
        limit: u32,
    ) -> StoreResult<Vec<Update>> {
        updates::of(self, initiative_id, published_before, skip, limit).await
    }

    async fn insert_event(&self, event: &Event) -> StoreResult<()> {
        events::insert(self, event).await
    }

    async fn update_event(&self, event: &Event, audit: Option<&AuditEntry>) -> StoreResult<()> {
        events::update(self, event, audit).await
    }

    async fn event_by_id(&self, id: Uuid) -> StoreResult<Option<Event>> {
        events::by_id(self, id).await
    }

    async fn events_of(&self, initiative_id: Uuid) -> StoreResult<Vec<Event>> {
        events::of(self, initiative_id).await
    }

    async fn upcoming_events(&self, after: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Event>> {
        events::upcoming(self, after, limit).await
    }

    async fn is_tombstoned(&self, id: Uuid) -> StoreResult<bool> {
        feed::is_tombstoned(self, id).await
    }

    async fn insert_user(&self, user: &User, audit: Option<&AuditEntry>) -> StoreResult<()> {
        accounts::insert_user(self, user, audit).await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        accounts::user_by_id(self, id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        accounts::user_by_username(self, username).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        accounts::list_users(self).await
    }

    async fn set_password_hash(
        &self,
        user_id: Uuid,
        hash: &str,
        keep: Option<Uuid>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        accounts::set_password_hash(self, user_id, hash, keep, audit).await
    }

    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled: bool,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        accounts::set_user_disabled(self, user_id, disabled, audit).await
    }

    async fn set_user_role(
        &self,
        user_id: Uuid,
        role: Role,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        accounts::set_user_role(self, user_id, role, audit).await
    }

    async fn add_maintainer(
        &self,
        user_id: Uuid,
        initiative_id: Uuid,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        accounts::add_maintainer(self, user_id, initiative_id, audit).await
    }

    async fn remove_maintainer(
        &self,
        user_id: Uuid,
        initiative_id: Uuid,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        accounts::remove_maintainer(self, user_id, initiative_id, audit).await
    }

    async fn insert_token(
        &self,
        token: &TokenRecord,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        accounts::insert_token(self, token, audit).await
    }

    async fn live_token(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<TokenRecord>> {
        accounts::live_token(self, hash, now).await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        accounts::token_by_hash(self, hash).await
    }

    async fn tokens_of(&self, user_id: Uuid) -> StoreResult<Vec<TokenRecord>> {
        accounts::tokens_of(self, user_id).await
    }

    async fn revoke_token(&self, id: Uuid, audit: Option<&AuditEntry>) -> StoreResult<()> {
        accounts::revoke_token(self, id, audit).await
    }

    async fn record_hit(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        accounts::record_hit(self, key, window_start, window_end, now).await
    }

    async fn photos_in_use(&self) -> StoreResult<Vec<String>> {
        let names: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT avatar ->> 'name' FROM initiatives WHERE avatar IS NOT NULL
             UNION SELECT header ->> 'name' FROM initiatives WHERE header IS NOT NULL
             UNION SELECT p ->> 'name' FROM updates u, jsonb_array_elements(u.photos) p",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        Ok(names.into_iter().flatten().collect())
    }

    async fn record_login_failure(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        accounts::record_login_failure(self, keys, at, forget_before).await
    }

    async fn login_failures(
        &self,
        key: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DateTime<Utc>>> {
        accounts::login_failures(self, key, since, limit).await
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        accounts::clear_login_failures(self, key).await
    }

    async fn forget_login_attempt(&self, keys: &[String], at: DateTime<Utc>) -> StoreResult<()> {
        accounts::forget_login_attempt(self, keys, at).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        feed::append_audit(self, entry).await
    }

    async fn audit_log(&self, limit: u32, offset: u32) -> StoreResult<Vec<AuditEntry>> {
        feed::audit_log(self, limit, offset).await
    }

    async fn changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Change>> {
        feed::changes_after(self, after, limit).await
    }

    async fn latest_change_seq(&self) -> StoreResult<i64> {
        feed::latest_seq(self).await
    }

    fn local_changes(&self) -> u64 {
        feed::local_changes()
    }

    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        leases::take(self, job, holder, now, until).await
    }

    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
        leases::release(self, job, holder).await
    }

    async fn job_lease(&self, job: &str) -> StoreResult<Option<hromada_store::JobLease>> {
        leases::get(self, job).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_server_is_named_without_its_password() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let url = "postgres://hromada:secret-password@127.0.0.1:1/directory";
        match PgStore::connect(url).await {
            Err(StoreError::Database(message)) => {
                assert!(
                    message.contains("hromada@127.0.0.1:1/directory"),
                    "{message}"
                );
                assert!(!message.contains("secret-password"), "{message}");
                assert!(message.contains("refused"), "the cause is kept: {message}");
            }
            other => panic!("expected a database error, got {other:?}"),
        }
        assert!(matches!(
            PgStore::connect("not a url").await,
            Err(StoreError::Database(_))
        ));
    }
}
