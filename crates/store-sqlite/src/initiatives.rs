//! Initiatives: their rows, the filter tables search uses, and lookups by id and handle.
//! (The full-text index follows the rows through triggers; see the migration.)

use chrono::{DateTime, Utc};
use hromada_domain::{AuditEntry, search};
use hromada_domain::{
    Category, Contact, DonationMethod, Handle, Initiative, InitiativeStatus, Region,
};
use hromada_store::{ChangeKind, DeletedInitiative, DeletedKey, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{
    SqliteQuery, id, json, known, opt_ts, parse_id, parse_json, parse_opt_ts, parse_ts, ts,
};
use crate::error::{db_err, write_err};
use crate::feed;

/// Columns in bind order: `?1` is the id, the rest follow [`bind_fields`].
const INSERT: &str = "
    INSERT INTO initiatives (
        id, handle, origin, name, summary, description, categories, tags, regions, languages,
        website, contacts, donation_methods, takes_recurring, status, discoverable,
        manually_approves_followers, submitter_contact, rejection_reason, created_at, updated_at,
        published_at, avatar, header, search_facets, payment_changed_at, search_places, search_version
    ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";

const UPDATE: &str = "
    UPDATE initiatives SET
        handle = ?2, origin = ?3, name = ?4, summary = ?5, description = ?6, categories = ?7,
        tags = ?8, regions = ?9, languages = ?10, website = ?11, contacts = ?12,
        donation_methods = ?13, takes_recurring = ?14, status = ?15, discoverable = ?16,
        manually_approves_followers = ?17, submitter_contact = ?18, rejection_reason = ?19,
        created_at = ?20, updated_at = ?21, published_at = ?22, avatar = ?23, header = ?24,
        search_facets = ?25, payment_changed_at = ?26, search_places = ?27, search_version = ?28
    WHERE id = ?1 AND updated_at = ?29";

/// The columns [`InitiativeRow`] reads, for statements that call the table `i`.
pub(crate) const COLUMNS: &str = "
    i.id, i.handle, i.origin, i.name, i.summary, i.description, i.categories, i.tags, i.regions,
    i.languages, i.website, i.contacts, i.donation_methods, i.status, i.discoverable,
    i.manually_approves_followers, i.submitter_contact, i.rejection_reason, i.created_at,
    i.updated_at, i.published_at, i.avatar, i.header, i.payment_changed_at";

fn bind_fields<'q>(query: SqliteQuery<'q>, i: &'q Initiative) -> StoreResult<SqliteQuery<'q>> {
    let categories: Vec<&str> = i.categories.iter().map(|c| c.code()).collect();
    Ok(query
        .bind(id(i.id))
        .bind(i.handle.as_str())
        .bind(i.origin.as_deref())
        .bind(&i.name)
        .bind(&i.summary)
        .bind(&i.description)
        .bind(json(&categories)?)
        .bind(json(&i.tags)?)
        .bind(json(&i.regions)?)
        .bind(json(&i.languages)?)
        .bind(i.website.as_deref())
        .bind(json(&i.contacts)?)
        .bind(json(&i.donation_methods)?)
        .bind(i.takes_recurring_donations())
        .bind(i.status.code())
        .bind(i.discoverable)
        .bind(i.manually_approves_followers)
        .bind(i.submitter_contact.as_deref())
        .bind(i.rejection_reason.as_deref())
        .bind(ts(i.created_at))
        .bind(ts(i.updated_at))
        .bind(opt_ts(i.published_at))
        .bind(i.avatar.as_ref().map(json).transpose()?)
        .bind(i.header.as_ref().map(json).transpose()?)
        .bind(crate::search::facets(i))
        .bind(opt_ts(i.payment_changed_at))
        .bind(search::place_words(&i.regions))
        .bind(search::PLACE_WORDS_VERSION))
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

/// Rewrites the rows search filters on: one per category and one per region code.
async fn write_facets(conn: &mut SqliteConnection, i: &Initiative) -> StoreResult<()> {
    let key = id(i.id);
    sqlx::query("DELETE FROM initiative_categories WHERE initiative_id = ?1")
        .bind(&key)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    sqlx::query("DELETE FROM initiative_regions WHERE initiative_id = ?1")
        .bind(&key)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    for category in &i.categories {
        sqlx::query(
            "INSERT OR IGNORE INTO initiative_categories (initiative_id, category) VALUES (?1, ?2)",
        )
        .bind(&key)
        .bind(category.code())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    for region in &i.regions {
        sqlx::query(
            "INSERT OR IGNORE INTO initiative_regions (initiative_id, region_code) VALUES (?1, ?2)",
        )
        .bind(&key)
        .bind(region.filter_code())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn insert(
    store: &SqliteStore,
    i: &Initiative,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    if i.origin.is_none() {
        ensure_handle_not_retired(&mut tx, i).await?;
    } else {
        // A copy of a listing deleted at its origin while this one was being prepared.
        feed::ensure_not_tombstoned(&mut tx, i.id).await?;
    }
    bind_fields(sqlx::query(INSERT), i)?
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |c| conflict(i, c)))?;
    write_facets(&mut tx, i).await?;
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::InitiativeCreated, i.id, i.id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

async fn ensure_handle_not_retired(conn: &mut SqliteConnection, i: &Initiative) -> StoreResult<()> {
    let retired = sqlx::query("SELECT 1 FROM deleted_initiatives WHERE handle = ?1")
        .bind(i.handle.as_str())
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    match retired {
        Some(_) => Err(StoreError::Conflict(conflict(i, "handle"))),
        None => Ok(()),
    }
}

/// Deletes a local initiative; its objects' ids are tombstoned and its handle retired.
pub(crate) async fn delete(
    store: &SqliteStore,
    initiative_id: Uuid,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let key = id(initiative_id);
    let handle: Option<(String,)> =
        sqlx::query_as("SELECT handle FROM initiatives WHERE id = ?1 AND origin IS NULL")
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    let Some((handle,)) = handle else {
        return Err(StoreError::NotFound);
    };
    let now = chrono::Utc::now();
    for (table, kind, only) in [
        ("needs", "'need'", ""),
        ("updates", "'update'", ""),
        ("events", "'event'", ""),
        // This node's own vouches and warnings about it are served as gone too.
        ("trust_statements", "kind", " AND local = 1"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO tombstones (id, kind, deleted_at)
             SELECT id, {kind}, ?2 FROM {table} WHERE initiative_id = ?1{only}
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&key)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    feed::add_tombstone(&mut tx, initiative_id, "initiative", now).await?;
    sqlx::query("INSERT INTO deleted_initiatives (id, handle, deleted_at) VALUES (?1, ?2, ?3)")
        .bind(&key)
        .bind(&handle)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // Needs, updates, events, maintainers and facets go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM initiatives WHERE id = ?1")
        .bind(&key)
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
    store: &SqliteStore,
    key: DeletedKey<'_>,
) -> StoreResult<Option<DeletedInitiative>> {
    let (column, value) = match key {
        DeletedKey::Id(u) => ("id", id(u)),
        DeletedKey::Handle(h) => ("handle", h.to_string()),
    };
    let row: Option<(String, String, String)> = sqlx::query_as(&format!(
        "SELECT id, handle, deleted_at FROM deleted_initiatives WHERE {column} = ?1"
    ))
    .bind(value)
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?;
    row.map(|(i, handle, at)| {
        Ok(DeletedInitiative {
            id: parse_id(&i)?,
            handle,
            deleted_at: parse_ts(&at)?,
        })
    })
    .transpose()
}

pub(crate) async fn update(
    store: &SqliteStore,
    i: &Initiative,
    read_at: DateTime<Utc>,
    audit: Option<&AuditEntry>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    let done = bind_fields(sqlx::query(UPDATE), i)?
        .bind(ts(read_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |c| conflict(i, c)))?;
    if done.rows_affected() == 0 {
        let exists = sqlx::query("SELECT 1 FROM initiatives WHERE id = ?1")
            .bind(id(i.id))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Err(match exists {
            Some(_) => StoreError::changed_meanwhile(&format!("initiative `{}`", i.handle)),
            None => StoreError::NotFound,
        });
    }
    write_facets(&mut tx, i).await?;
    feed::record(
        &mut tx,
        audit,
        Some((ChangeKind::InitiativeUpdated, i.id, i.id)),
    )
    .await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn by_id(
    store: &SqliteStore,
    initiative_id: Uuid,
) -> StoreResult<Option<Initiative>> {
    sqlx::query_as::<_, InitiativeRow>(&format!(
        "SELECT {COLUMNS} FROM initiatives i WHERE i.id = ?1"
    ))
    .bind(id(initiative_id))
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?
    .map(InitiativeRow::into_initiative)
    .transpose()
}

pub(crate) async fn by_handle(
    store: &SqliteStore,
    handle: &str,
    origin: Option<&str>,
) -> StoreResult<Option<Initiative>> {
    // Two statements, so that each can use its partial unique index.
    let row = match origin {
        None => {
            sqlx::query_as::<_, InitiativeRow>(&format!(
                "SELECT {COLUMNS} FROM initiatives i WHERE i.handle = ?1 AND i.origin IS NULL"
            ))
            .bind(handle)
            .fetch_optional(store.pool())
            .await
        }
        Some(origin) => {
            sqlx::query_as::<_, InitiativeRow>(&format!(
                "SELECT {COLUMNS} FROM initiatives i WHERE i.origin = ?1 AND i.handle = ?2"
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

/// An initiative as stored; search selects the same columns (see [`InitiativeRow::read`]).
#[derive(FromRow)]
pub(crate) struct InitiativeRow {
    id: String,
    handle: String,
    origin: Option<String>,
    name: String,
    summary: String,
    description: String,
    categories: String,
    tags: String,
    regions: String,
    languages: String,
    website: Option<String>,
    contacts: String,
    donation_methods: String,
    status: String,
    discoverable: bool,
    manually_approves_followers: bool,
    submitter_contact: Option<String>,
    rejection_reason: Option<String>,
    created_at: String,
    updated_at: String,
    published_at: Option<String>,
    avatar: Option<String>,
    header: Option<String>,
    payment_changed_at: Option<String>,
}

impl InitiativeRow {
    /// The row as selected by [`COLUMNS`], read by a search reader.
    pub(crate) fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            handle: row.get("handle")?,
            origin: row.get("origin")?,
            name: row.get("name")?,
            summary: row.get("summary")?,
            description: row.get("description")?,
            categories: row.get("categories")?,
            tags: row.get("tags")?,
            regions: row.get("regions")?,
            languages: row.get("languages")?,
            website: row.get("website")?,
            contacts: row.get("contacts")?,
            donation_methods: row.get("donation_methods")?,
            status: row.get("status")?,
            discoverable: row.get("discoverable")?,
            manually_approves_followers: row.get("manually_approves_followers")?,
            submitter_contact: row.get("submitter_contact")?,
            rejection_reason: row.get("rejection_reason")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            published_at: row.get("published_at")?,
            avatar: row.get("avatar")?,
            header: row.get("header")?,
            payment_changed_at: row.get("payment_changed_at")?,
        })
    }

    pub(crate) fn into_initiative(self) -> StoreResult<Initiative> {
        let codes: Vec<String> = parse_json(&self.categories, "categories")?;
        let categories = codes
            .iter()
            .map(|c| known(Category::from_code(c), "category", c))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Initiative {
            id: parse_id(&self.id)?,
            // Stored handles were checked when they arrived; remote ones may follow another
            // node's reserved-name list, so they are not re-validated here.
            handle: Handle::trusted(self.handle),
            origin: self.origin,
            name: self.name,
            summary: self.summary,
            description: self.description,
            categories,
            tags: parse_json(&self.tags, "tags")?,
            regions: parse_json::<Vec<Region>>(&self.regions, "regions")?,
            languages: parse_json(&self.languages, "languages")?,
            website: self.website,
            contacts: parse_json::<Vec<Contact>>(&self.contacts, "contacts")?,
            donation_methods: parse_json::<Vec<DonationMethod>>(
                &self.donation_methods,
                "donation methods",
            )?,
            status: known(
                InitiativeStatus::from_code(&self.status),
                "initiative status",
                &self.status,
            )?,
            discoverable: self.discoverable,
            manually_approves_followers: self.manually_approves_followers,
            submitter_contact: self.submitter_contact,
            rejection_reason: self.rejection_reason,
            created_at: parse_ts(&self.created_at)?,
            updated_at: parse_ts(&self.updated_at)?,
            published_at: parse_opt_ts(self.published_at)?,
            avatar: self.avatar.map(|a| parse_json(&a, "avatar")).transpose()?,
            header: self.header.map(|h| parse_json(&h, "header")).transpose()?,
            payment_changed_at: parse_opt_ts(self.payment_changed_at)?,
        })
    }
}
