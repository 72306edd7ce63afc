//! Initiatives: their rows (with the search document), and lookups by id and handle.

use chrono::{DateTime, Utc};
use hromada_domain::{
    AuditEntry, Category, Contact, DonationMethod, Handle, Initiative, InitiativeStatus, Photo,
    Region, search,
};
use hromada_store::{ChangeKind, DeletedInitiative, DeletedKey, StoreError, StoreResult};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{PgQuery, known};
use crate::error::{db_err, write_err};
use crate::feed;

/// The weighted search document from the four texts of [`search_texts`], bound from `$first`.
pub(crate) fn search_document(first: usize) -> String {
    let [a, b, c, d] = [first, first + 1, first + 2, first + 3];
    format!(
        "setweight(to_tsvector('simple', ${a}), 'A') || setweight(to_tsvector('simple', ${b}), 'B') ||
         setweight(to_tsvector('simple', ${c}), 'C') || setweight(to_tsvector('simple', ${d}), 'D')"
    )
}

/// What the search document weighs: the name (A), the tags and place names (B), the summary
/// (C) and the description (D). Lower-cased here rather than in SQL: PostgreSQL's
/// lower-casing follows the database locale and leaves Cyrillic as it is under the C locale.
/// Without the marks on Latin letters, as SQLite indexes them and as the terms are searched.
pub(crate) fn search_texts(
    name: &str,
    tags: &[String],
    regions: &[Region],
    summary: &str,
    description: &str,
) -> [String; 4] {
    let words = |text: &str| search::fold_diacritics(&text.to_lowercase()).into_owned();
    [
        words(name),
        words(&format!(
            "{} {}",
            tags.join(" "),
            search::place_words(regions)
        )),
        words(summary),
        words(description),
    ]
}

/// The version of the search documents this code writes (`search_version`): documents of an
/// older one are written again when the store opens ([`crate::search::refresh_documents`]).
/// One more than the place words' version since the documents fold diacritics; it must grow
/// whenever [`search::PLACE_WORDS_VERSION`] or [`search_texts`] changes what is indexed.
pub(crate) const SEARCH_DOCUMENT_VERSION: i32 = search::PLACE_WORDS_VERSION + 1;

/// Columns in bind order: `$1` is the id, the rest follow [`bind_fields`].
fn insert_sql() -> String {
    format!(
        "INSERT INTO initiatives (
            id, handle, origin, name, summary, description, categories, tags, regions, region_codes,
            languages, website, contacts, donation_methods, takes_recurring, status, discoverable,
            manually_approves_followers, submitter_contact, rejection_reason, created_at,
            updated_at, published_at, search, avatar, header, payment_changed_at, search_version
        ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                  $19, $20, $21, $22, $23, {}, $28, $29, $30, $31)",
        search_document(24)
    )
}

fn update_sql() -> String {
    format!(
        "UPDATE initiatives SET
            handle = $2, origin = $3, name = $4, summary = $5, description = $6, categories = $7,
            tags = $8, regions = $9, region_codes = $10, languages = $11, website = $12,
            contacts = $13, donation_methods = $14, takes_recurring = $15, status = $16,
            discoverable = $17, manually_approves_followers = $18, submitter_contact = $19,
            rejection_reason = $20, created_at = $21, updated_at = $22, published_at = $23,
            search = {}, avatar = $28, header = $29, payment_changed_at = $30,
            search_version = $31
        WHERE id = $1 AND updated_at = $32",
        search_document(24)
    )
}

/// The columns [`InitiativeRow`] reads, for statements that call the table `i`.
pub(crate) const COLUMNS: &str = "
    i.id, i.handle, i.origin, i.name, i.summary, i.description, i.categories, i.tags, i.regions,
    i.languages, i.website, i.contacts, i.donation_methods, i.status, i.discoverable,
    i.manually_approves_followers, i.submitter_contact, i.rejection_reason, i.created_at,
    i.updated_at, i.published_at, i.avatar, i.header, i.payment_changed_at";

fn bind_fields<'q>(query: PgQuery<'q>, i: &'q Initiative) -> PgQuery<'q> {
    let categories: Vec<String> = i.categories.iter().map(|c| c.code().to_string()).collect();
    let region_codes: Vec<String> = i
        .regions
        .iter()
        .map(|r| r.filter_code().to_string())
        .collect();
    let [name, tags, summary, description] =
        search_texts(&i.name, &i.tags, &i.regions, &i.summary, &i.description);
    query
        .bind(i.id)
        .bind(i.handle.as_str())
        .bind(i.origin.as_deref())
        .bind(&i.name)
        .bind(&i.summary)
        .bind(&i.description)
        .bind(categories)
        .bind(&i.tags)
        .bind(Json(&i.regions))
        .bind(region_codes)
        .bind(&i.languages)
        .bind(i.website.as_deref())
        .bind(Json(&i.contacts))
        .bind(Json(&i.donation_methods))
        .bind(i.takes_recurring_donations())
        .bind(i.status.code())
        .bind(i.discoverable)
        .bind(i.manually_approves_followers)
        .bind(i.submitter_contact.as_deref())
        .bind(i.rejection_reason.as_deref())
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(i.published_at)
        .bind(name)
        .bind(tags)
        .bind(summary)
        .bind(description)
        .bind(i.avatar.as_ref().map(Json))
        .bind(i.header.as_ref().map(Json))
        .bind(i.payment_changed_at)
        .bind(SEARCH_DOCUMENT_VERSION)
}

/// What a broken uniqueness rule on an initiative means for the person who sent it.
fn conflict(i: &Initiative, constraint: &str) -> String {
    if !constraint.contains("handle") {
        return format!("an initiative with id {} already exists", i.id);
    }
    match &i.origin {
        None => format!("the handle `{}` is already taken", i.handle),
        Some(origin) => format!(
            "an initiative `{}` from {origin} is already stored",
            i.handle
        ),
    }
}

/// Holds a lock on one mirrored listing's id until the transaction ends, so that its copy
/// being stored and its deletion arriving meanwhile take turns (each then sees the other's
/// row or tombstone, which READ COMMITTED alone would not guarantee).
pub(crate) async fn lock_mirrored(conn: &mut PgConnection, id: Uuid) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))")
        .bind(id)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn insert(
    store: &PgStore,
    i: &Initiative,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    if i.origin.is_some() {
        lock_mirrored(&mut tx, i.id).await?;
    }
    let sql = insert_sql();
    bind_fields(sqlx::query(&sql), i)
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |c| conflict(i, c)))?;
    // Checked after the insert: an insert racing the deletion of the same handle waits for it
    // on the unique index, and only a statement started after that sees the handle retired.
    if i.origin.is_none() {
        let retired = sqlx::query("SELECT 1 FROM deleted_initiatives WHERE handle = $1")
            .bind(i.handle.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if retired.is_some() {
            return Err(StoreError::Conflict(conflict(i, "handle")));
        }
    } else {
        // A copy of a listing deleted at its origin while this one was being prepared.
        feed::ensure_not_tombstoned(&mut tx, i.id).await?;
    }
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::InitiativeCreated, i.id, i.id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

/// Deletes a local initiative; its objects' ids are tombstoned and its handle retired.
pub(crate) async fn delete(
    store: &PgStore,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let handle: Option<(String,)> = sqlx::query_as(
        "SELECT handle FROM initiatives WHERE id = $1 AND origin IS NULL FOR UPDATE",
    )
    .bind(initiative_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((handle,)) = handle else {
        return Err(StoreError::NotFound);
    };
    let now = Utc::now();
    for (table, kind, only) in [
        ("needs", "'need'", ""),
        ("updates", "'update'", ""),
        ("events", "'event'", ""),
        // This node's own vouches and warnings about it are served as gone too.
        ("trust_statements", "kind", " AND local"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO tombstones (id, kind, deleted_at)
             SELECT id, {kind}, $2 FROM {table} WHERE initiative_id = $1{only}
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(initiative_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    feed::add_tombstone(&mut tx, initiative_id, "initiative", now).await?;
    sqlx::query("INSERT INTO deleted_initiatives (id, handle, deleted_at) VALUES ($1, $2, $3)")
        .bind(initiative_id)
        .bind(&handle)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // Needs, updates, events, maintainers and trust rows go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM initiatives WHERE id = $1")
        .bind(initiative_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::InitiativeDeleted, initiative_id, initiative_id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn deleted(
    store: &PgStore,
    key: DeletedKey<'_>,
) -> StoreResult<Option<DeletedInitiative>> {
    let query = match key {
        DeletedKey::Id(id) => {
            sqlx::query_as("SELECT id, handle, deleted_at FROM deleted_initiatives WHERE id = $1")
                .bind(id)
        }
        DeletedKey::Handle(handle) => sqlx::query_as(
            "SELECT id, handle, deleted_at FROM deleted_initiatives WHERE handle = $1",
        )
        .bind(handle.to_string()),
    };
    let row: Option<(Uuid, String, DateTime<Utc>)> =
        query.fetch_optional(store.pool()).await.map_err(db_err)?;
    Ok(row.map(|(id, handle, deleted_at)| DeletedInitiative {
        id,
        handle,
        deleted_at,
    }))
}

pub(crate) async fn update(
    store: &PgStore,
    i: &Initiative,
    read_at: DateTime<Utc>,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let sql = update_sql();
    let done = bind_fields(sqlx::query(&sql), i)
        .bind(read_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |c| conflict(i, c)))?;
    if done.rows_affected() == 0 {
        let exists = sqlx::query("SELECT 1 FROM initiatives WHERE id = $1")
            .bind(i.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Err(match exists {
            Some(_) => StoreError::changed_meanwhile(&format!("initiative `{}`", i.handle)),
            None => StoreError::NotFound,
        });
    }
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::InitiativeUpdated, i.id, i.id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(store: &PgStore, initiative_id: Uuid) -> StoreResult<Option<Initiative>> {
    sqlx::query_as::<_, InitiativeRow>(&format!(
        "SELECT {COLUMNS} FROM initiatives i WHERE i.id = $1"
    ))
    .bind(initiative_id)
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?
    .map(InitiativeRow::into_initiative)
    .transpose()
}

pub(crate) async fn by_handle(
    store: &PgStore,
    handle: &str,
    origin: Option<&str>,
) -> StoreResult<Option<Initiative>> {
    // Two statements, so that each can use its partial unique index.
    let row = match origin {
        None => {
            sqlx::query_as::<_, InitiativeRow>(&format!(
                "SELECT {COLUMNS} FROM initiatives i WHERE i.handle = $1 AND i.origin IS NULL"
            ))
            .bind(handle)
            .fetch_optional(store.pool())
            .await
        }
        Some(origin) => {
            sqlx::query_as::<_, InitiativeRow>(&format!(
                "SELECT {COLUMNS} FROM initiatives i WHERE i.origin = $1 AND i.handle = $2"
            ))
            .bind(origin)
            .bind(handle)
            .fetch_optional(store.pool())
            .await
        }
    };
    row.map_err(db_err)?
        .map(InitiativeRow::into_initiative)
        .transpose()
}

/// An initiative as stored; search selects the same columns.
#[derive(FromRow)]
pub(crate) struct InitiativeRow {
    id: Uuid,
    handle: String,
    origin: Option<String>,
    name: String,
    summary: String,
    description: String,
    categories: Vec<String>,
    tags: Vec<String>,
    regions: Json<Vec<Region>>,
    languages: Vec<String>,
    website: Option<String>,
    contacts: Json<Vec<Contact>>,
    donation_methods: Json<Vec<DonationMethod>>,
    status: String,
    discoverable: bool,
    manually_approves_followers: bool,
    submitter_contact: Option<String>,
    rejection_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    avatar: Option<Json<Photo>>,
    header: Option<Json<Photo>>,
    payment_changed_at: Option<DateTime<Utc>>,
}

impl InitiativeRow {
    pub(crate) fn into_initiative(self) -> StoreResult<Initiative> {
        let categories = self
            .categories
            .iter()
            .map(|c| known(Category::from_code(c), "category", c))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Initiative {
            id: self.id,
            // Stored handles were checked when they arrived; remote ones may follow another
            // node's reserved-name list, so they are not re-validated here.
            handle: Handle::trusted(self.handle),
            origin: self.origin,
            name: self.name,
            summary: self.summary,
            description: self.description,
            categories,
            tags: self.tags,
            regions: self.regions.0,
            languages: self.languages,
            website: self.website,
            contacts: self.contacts.0,
            donation_methods: self.donation_methods.0,
            status: known(
                InitiativeStatus::from_code(&self.status),
                "initiative status",
                &self.status,
            )?,
            discoverable: self.discoverable,
            manually_approves_followers: self.manually_approves_followers,
            submitter_contact: self.submitter_contact,
            rejection_reason: self.rejection_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
            published_at: self.published_at,
            avatar: self.avatar.map(|a| a.0),
            header: self.header.map(|h| h.0),
            payment_changed_at: self.payment_changed_at,
        })
    }
}
