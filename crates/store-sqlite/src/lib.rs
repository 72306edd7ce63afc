//! The SQLite implementation of Hromada's [`Store`]: the default backend, one file, WAL journal,
//! FTS5 full-text search.
//!
//! SQLite allows one writer at a time. The store keeps two pools on the same file: a pool of
//! readers, and a single-connection writer pool whose transactions start with `BEGIN IMMEDIATE`.
//! Writers of this process therefore queue inside sqlx instead of failing with `SQLITE_BUSY`,
//! and the write lock is taken up front, so a transaction never has to upgrade a read lock
//! (which SQLite refuses while another process, e.g. `hromada admin`, writes); the busy timeout
//! covers waiting for such other processes.
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
mod reader;
mod search;
mod trust;
mod updates;
mod write_batch;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, Event, Initiative, Need, Role, Update, Urgency, User};
use hromada_store::{
    Change, DeletedInitiative, DeletedKey, SearchPage, SearchQuery, Store, StoreError, StoreResult,
    TokenRecord,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::error::db_err;

/// How long a connection waits for another process's write lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the database file each connection reads through a memory map instead of
/// `read` calls into its own page cache. A search reads hundreds of pages of the full-text
/// index; through the map each costs a memory access instead of a system call and a copy. The
/// mapped pages are the kernel's file cache, shared by every connection: they show in the
/// process's RSS as file pages once touched, and the kernel drops them under memory pressure.
pub(crate) const MMAP_BYTES: i64 = 1 << 30;
/// Readers do not block each other in WAL mode; a few cover a small node's concurrent requests.
/// The search readers (see [`reader`]) are as many again.
pub(crate) const READERS: u32 = 4;

/// A Hromada store in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    readers: SqlitePool,
    writer: SqlitePool,
    /// Concurrent federation writes share a transaction (see [`write_batch`]).
    batcher: Arc<write_batch::WriteBatcher>,
    /// Searches run on these (see [`reader`]).
    search_readers: Arc<reader::Readers>,
    /// The database file as opened (`None` in memory), for the health check.
    file: Option<DbFile>,
}

/// Open connections keep working on a file that was moved, deleted or replaced underneath
/// them (a detached volume, a careless restore) while nothing they write would survive a
/// restart; the health check looks at the path, so such a node reports itself unhealthy.
#[derive(Debug, Clone)]
struct DbFile {
    path: std::path::PathBuf,
    /// Device and inode at opening.
    identity: (u64, u64),
}

impl DbFile {
    fn open(path: &std::path::Path) -> Result<Self, std::io::Error> {
        Ok(Self {
            path: path.to_path_buf(),
            identity: identity(&std::fs::metadata(path)?),
        })
    }

    fn check(&self) -> StoreResult<()> {
        let metadata = std::fs::metadata(&self.path).map_err(|e| {
            StoreError::Database(format!(
                "the SQLite database file {} is not there any more: {e}",
                self.path.display()
            ))
        })?;
        if identity(&metadata) != self.identity {
            return Err(StoreError::Database(format!(
                "the SQLite database file {} was replaced after the node opened it; restart the node",
                self.path.display()
            )));
        }
        Ok(())
    }
}

fn identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://PATH` URL.
    ///
    /// `sqlite::memory:` gives a private in-memory database (for experiments: it lives as long
    /// as the store; one sqlx connection serves reads and writes, and searches, which read
    /// through their own connections, see uncommitted writes).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // sqlx names `sqlite::memory:` databases uniquely and shares their cache, so the search
        // readers can open the same database.
        let url = if in_memory { "sqlite::memory:" } else { url };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| {
                StoreError::Database(format!(
                    "`{url}` is not a SQLite database URL (expected sqlite://PATH/TO/FILE.db): {e}"
                ))
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("mmap_size", MMAP_BYTES.to_string());
        let path = options.get_filename().display().to_string();
        let cannot_open = |e: sqlx::Error| {
            StoreError::Database(format!(
                "could not open the SQLite database {path}: {e} (check that its directory exists \
                 and that this user may read and write there)"
            ))
        };

        if in_memory {
            // Every connection to an in-memory database would see its own database, so one
            // connection serves both roles.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(cannot_open)?;
            return Ok(Self {
                readers: pool.clone(),
                writer: pool,
                batcher: Arc::default(),
                search_readers: reader::Readers::memory(&path),
                file: None,
            });
        }

        // The writer connects first: it creates the file and switches it to WAL.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(cannot_open)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            // A ping is a round trip to the connection's thread, as long as a small query; a
            // connection to a local file does not go away while idle, and the pool still
            // checks each one when it is given back.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(cannot_open)?;
        tracing::debug!(%path, "opened SQLite database");
        let file = DbFile::open(std::path::Path::new(&path)).map_err(|e| {
            StoreError::Database(format!("could not look at the SQLite database {path}: {e}"))
        })?;
        Ok(Self {
            readers,
            writer,
            batcher: Arc::default(),
            search_readers: reader::Readers::file(&file.path),
            file: Some(file),
        })
    }

    /// How many of this version's migrations the database lacks, and whether it has none at
    /// all (a new database).
    pub async fn migrations_to_apply(&self) -> Result<(usize, bool), StoreError> {
        let known = sqlx::migrate!("../../migrations/sqlite")
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>();
        let table: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_err)?;
        if table.is_none() {
            return Ok(hromada_store::migrations_missing(known, &[]));
        }
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.readers)
                .await
                .map_err(db_err)?;
        Ok(hromada_store::migrations_missing(known, &applied))
    }

    /// Applies the migrations in `migrations/sqlite` that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("../../migrations/sqlite")
            .run(&self.writer)
            .await
            .map_err(|e| {
                StoreError::Database(format!("could not migrate the SQLite database: {e}"))
            })?;
        let refreshed = search::refresh_place_words(self).await?;
        if refreshed > 0 {
            tracing::info!(
                listings = refreshed,
                "wrote the place names search finds listings by"
            );
        }
        Ok(())
    }

    /// Writes a consistent copy of the whole database to `path`, a file that must not exist
    /// yet, while the node keeps serving: `VACUUM INTO` copies one snapshot, so a write made
    /// meanwhile is either wholly in the copy or not at all. The copy is a plain SQLite file
    /// (no WAL to go with it) that a node can be started on as it is.
    ///
    /// It holds the signing keys and password hashes, so it is readable by its owner only;
    /// it is written under a temporary name beside `path`, synced, and only then given its
    /// name, so a backup that fails (a full disk) leaves nothing that looks like one.
    pub async fn back_up_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Database(format!("could not {what} {}: {e}", path.display()))
        };
        if path.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; a backup never overwrites a file",
                path.display()
            )));
        }
        let name = path
            .file_name()
            .ok_or_else(|| failed("write", &"it names no file"))?;
        let partial = path.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        ));
        let target = partial.to_str().ok_or_else(|| {
            StoreError::Database(format!("{} is not a UTF-8 path", path.display()))
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // SQLite writes into an empty file it is given, keeping its permissions.
        let file = options.open(&partial).map_err(|e| failed("write", &e))?;
        let written = async {
            sqlx::query("VACUUM INTO ?1")
                .bind(target)
                .execute(&self.readers)
                .await
                .map_err(|e| failed("write", &e))?;
            file.sync_all().map_err(|e| failed("sync", &e))?;
            // A link, not a rename, so a file made there meanwhile is not replaced; where the
            // file system has no links (FAT, some network shares), a rename after checking.
            match std::fs::hard_link(&partial, path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(failed("write", &e));
                }
                Err(_) if !path.exists() => {
                    std::fs::rename(&partial, path).map_err(|e| failed("write", &e))?;
                }
                Err(e) => return Err(failed("write", &e)),
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // The new name itself must survive a crash too.
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        }
        .await;
        let _ = std::fs::remove_file(&partial);
        written
    }

    /// The pool for reads and single-statement writes of other crates' tables. Multi-statement
    /// writes should use [`SqliteStore::begin_write`] instead.
    pub fn pool(&self) -> &SqlitePool {
        &self.readers
    }

    /// The single-connection pool all of the store's writes go through.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on the writer connection).
    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.search_readers.close();
        self.writer.close().await;
        self.readers.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&self.readers)
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

    async fn merge_search_index(&self, start: bool) -> StoreResult<bool> {
        search::merge_step(self, start).await
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
            "SELECT avatar ->> '$.name' FROM initiatives WHERE avatar IS NOT NULL
             UNION SELECT header ->> '$.name' FROM initiatives WHERE header IS NOT NULL
             UNION SELECT p.value ->> '$.name' FROM updates u, json_each(u.photos) p",
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
    use hromada_domain::{AuditAction, AuditEntry};
    use hromada_store::SearchQuery;

    use super::*;

    #[tokio::test]
    async fn an_unopenable_file_is_named_in_the_error() {
        let url = "sqlite:///nonexistent-hromada-dir/sub/hromada.db";
        match SqliteStore::connect(url).await {
            Err(StoreError::Database(message)) => {
                assert!(
                    message.contains("/nonexistent-hromada-dir/sub/hromada.db"),
                    "{message}"
                );
                assert!(message.contains("directory exists"), "{message}");
            }
            other => panic!("expected a database error, got {other:?}"),
        }
        assert!(matches!(
            SqliteStore::connect("mysql://x").await,
            Err(StoreError::Database(_))
        ));
    }

    /// What docs/DEPLOYMENT.md promises about going back to an older version.
    #[tokio::test]
    async fn an_older_version_refuses_a_database_a_newer_one_migrated() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations
                 (version, description, success, checksum, execution_time)
             VALUES (99999, 'from a newer version', 1, x'00', 0)",
        )
        .execute(store.writer())
        .await
        .unwrap();
        match store.migrate().await {
            Err(StoreError::Database(message)) => assert!(message.contains("99999"), "{message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn in_memory_database_works_with_one_connection() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
        let page = store
            .search_initiatives(&SearchQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 0);
        store.migrate().await.unwrap();
    }

    /// Two stores on one file stand for two processes (`hromada serve` and `hromada admin`):
    /// their write transactions wait for each other instead of failing with SQLITE_BUSY.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_on_one_file_both_write() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("shared.db").display());
        let first = SqliteStore::connect(&url).await.unwrap();
        first.migrate().await.unwrap();
        let second = SqliteStore::connect(&url).await.unwrap();

        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..40 {
            let store = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tasks.spawn(async move {
                let entry =
                    AuditEntry::new(Utc::now(), None, AuditAction::Edited, format!("entry {n}"));
                store.append_audit(&entry).await
            });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }
        assert_eq!(first.audit_log(100, 0).await.unwrap().len(), 40);
        assert_eq!(second.audit_log(100, 0).await.unwrap().len(), 40);
    }
}
