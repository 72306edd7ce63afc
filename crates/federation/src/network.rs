//! Node to node: the directory fields other Hromada nodes read (extensions under our
//! namespace), and taking listings in as remote copies.
//!
//! Authenticity rule: a document whose id is on host X is only taken when it came from X —
//! signed by an actor on X, or fetched from X itself. The caller says where a document came
//! from (`source`, a URL on the host it was signed by or fetched from); [`ingest`] refuses
//! anything whose ids are elsewhere. Remote copies get ids derived from their URLs, so the same
//! listing arriving directly, relayed or by backfill lands on the same row.

use chrono::{DateTime, Utc};
use hromada_domain::update::MAX_PHOTOS;
use hromada_domain::{
    Event, Initiative, InitiativeInput, InitiativeStatus, Need, Photo, Update, ValidationErrors,
};
use hromada_store::{StoreError, host_matches_domain};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use crate::fetch::{FetchError, same_origin};
use crate::mirror::LeftOut;
use crate::{Inner, mirror};

/// Longest Markdown taken from a remote listing (the domain's limit for descriptions).
const MAX_MARKDOWN: usize = 20_000;

/// The id a remote object gets here: derived from its URL, never equal to a local (v4) id.
pub(crate) fn remote_id(url: &str) -> Uuid {
    let digest = Sha256::digest(format!("hromada-remote:{url}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// `host` or `host:port` of a URL, lower-case.
pub(crate) fn authority(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// The directory fields of an initiative, carried as `listing` in its `Group` actor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Listing {
    handle: String,
    name: String,
    summary: String,
    #[serde(default)]
    description: String,
    categories: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    regions: Value,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    contacts: Value,
    #[serde(default)]
    donation_methods: Value,
    status: InitiativeStatus,
    #[serde(default)]
    discoverable: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    payment_changed_at: Option<DateTime<Utc>>,
}

pub(crate) fn listing(i: &Initiative) -> Value {
    json!({
        "handle": i.handle.as_str(),
        "name": i.name,
        "summary": i.summary,
        "description": i.description,
        "categories": i.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "tags": i.tags,
        "regions": i.regions,
        "languages": i.languages,
        "website": i.website,
        "contacts": i.contacts,
        "donation_methods": i.donation_methods,
        "status": i.status,
        "discoverable": i.discoverable,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "published_at": i.published_at,
        "payment_changed_at": i.payment_changed_at,
    })
}

/// Adds `listing` to a `Group` actor document.
pub(crate) fn with_listing(mut group: Value, i: &Initiative) -> Value {
    group["listing"] = listing(i);
    group
}

/// Adds `listingItem` (the structured need, update or event) to a published object.
pub(crate) fn with_item(mut object: Value, kind: &str, data: Value) -> Value {
    object["listingItem"] = json!({"kind": kind, "data": data});
    object
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// The document claims an id on another host than the one it came from.
    #[error("forged: {0}")]
    Forged(String),
    #[error("invalid listing: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Fetches a listing from its own host and takes it in (when newer than a stored copy), and
/// relays it when that changed something; `None` when the host serves nothing this node keeps.
pub(crate) async fn fetch_listing(
    inner: &Inner,
    url: &str,
) -> Result<Option<Initiative>, IngestError> {
    let fetched = inner.fetcher.get(url).await?;
    if fetched.url.as_str() != url {
        return Err(IngestError::Forged(format!(
            "{url} answered from {}",
            fetched.url
        )));
    }
    // Stored under the URL asked for: a listing served at another address of its host (a
    // query string its server ignores) would become a second copy that its own updates,
    // items and Delete never reach.
    if crate::inbox::id_of(Some(&fetched.json)) != Some(url) {
        return Err(IngestError::Forged(format!("{url} served another id")));
    }
    let taken = ingest_group(inner, &fetched.json, url, Settle::IfNewer).await?;
    if taken.pictures_missing {
        crate::missing_pictures::note(inner, url).await;
    }
    if let Some(version) = taken.version.filter(|_| taken.changed) {
        let origin = authority(url).unwrap_or_default();
        crate::inbox::relay_now(inner, url, version, &origin).await?;
    }
    Ok(inner.store.initiative_by_id(remote_id(url)).await?)
}

/// Whether a document carries directory data (a listing or a listing item).
pub(crate) fn is_directory_doc(doc: &Value) -> bool {
    doc.get("listing").is_some() || doc.get("listingItem").is_some()
}

/// Which copy of an object is taken over the one stored here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Only a newer one (`updated_at`): deliveries, relays and backfill.
    IfNewer,
    /// The same or a newer one: the object fetched again for the pictures it lacks here.
    AgainForPictures,
}

impl Settle {
    /// Whether a copy updated at `new` replaces the stored one updated at `stored`.
    fn replaces(self, stored: DateTime<Utc>, new: DateTime<Utc>) -> bool {
        match self {
            Settle::IfNewer => new > stored,
            Settle::AgainForPictures => new >= stored,
        }
    }
}

/// What taking a copy in did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Taken {
    /// Something changed here.
    pub changed: bool,
    /// The version (`updated`) of the copy that arrived, when it is the one stored here now
    /// (taken, or equal to the stored one): only such a copy is relayed further.
    pub version: Option<DateTime<Utc>>,
    /// A picture of it could not be fetched now; it is fetched again later
    /// (`missing_pictures.rs`).
    pub pictures_missing: bool,
}

impl Taken {
    fn stored(version: DateTime<Utc>, pictures_missing: bool) -> Self {
        Taken {
            changed: true,
            version: Some(version),
            pictures_missing,
        }
    }

    /// The copy that arrived was not taken over the one stored, updated at `stored`.
    fn kept(stored: DateTime<Utc>, arrived: DateTime<Utc>) -> Self {
        Taken {
            version: (stored == arrived).then_some(arrived),
            ..Taken::default()
        }
    }
}

/// Takes in a `Group` with `listing` or an object with `listingItem` that came from `source`
/// and reached this node through the followed peer `via` (recorded, so that unfollowing it
/// removes what only it brought). An object stored without a picture its origin could not
/// serve now is noted, to be fetched again later.
pub(crate) async fn ingest(
    inner: &Inner,
    doc: &Value,
    source: &str,
    via: &str,
) -> Result<Taken, IngestError> {
    take(inner, doc, source, Some(via), Settle::IfNewer).await
}

/// Takes in an object fetched again from `source` (its own URL) for the pictures it lacks
/// here: the copy is taken even when it is not newer, and nothing is noted (the caller
/// reschedules).
pub(crate) async fn ingest_again_for_pictures(
    inner: &Inner,
    doc: &Value,
    source: &str,
) -> Result<Taken, IngestError> {
    take(inner, doc, source, None, Settle::AgainForPictures).await
}

async fn take(
    inner: &Inner,
    doc: &Value,
    source: &str,
    via: Option<&str>,
    settle: Settle,
) -> Result<Taken, IngestError> {
    let id = str_of(doc, "id").ok_or_else(|| IngestError::Invalid("no id".into()))?;
    check_origin(inner, id, source)?;
    let taken = take_object(inner, doc, id, source, via, settle).await?;
    if taken.pictures_missing && settle == Settle::IfNewer {
        crate::missing_pictures::note(inner, id).await;
    }
    Ok(taken)
}

async fn take_object(
    inner: &Inner,
    doc: &Value,
    id: &str,
    source: &str,
    via: Option<&str>,
    settle: Settle,
) -> Result<Taken, IngestError> {
    if doc.get("listing").is_some() {
        let taken = ingest_group(inner, doc, id, settle).await?;
        if let Some(via) = via {
            inner.fed.add_listing_source(remote_id(id), via).await?;
        }
        return Ok(taken);
    }
    let Some(item) = doc.get("listingItem") else {
        return Ok(Taken::default());
    };
    let owner_url = str_of(doc, "attributedTo")
        .ok_or_else(|| IngestError::Invalid("an item without attributedTo".into()))?;
    check_origin(inner, owner_url, source)?;
    let owner = match inner.store.initiative_by_id(remote_id(owner_url)).await? {
        Some(i) => i,
        // Its initiative is not here yet.
        None => fetch_listing(inner, owner_url)
            .await?
            .ok_or_else(|| IngestError::Invalid("its initiative is not listed".into()))?,
    };
    let taken = take_item(inner, item, id, &owner, owner_url, settle).await?;
    // Only a peer that brought something valid counts as a source of the listing.
    if let Some(via) = via {
        inner.fed.add_listing_source(owner.id, via).await?;
    }
    Ok(taken)
}

/// Stores a need, update or event of `owner`, whose id is `id`.
async fn take_item(
    inner: &Inner,
    item: &Value,
    id: &str,
    owner: &Initiative,
    owner_url: &str,
    settle: Settle,
) -> Result<Taken, IngestError> {
    let data = item.get("data").cloned().unwrap_or(Value::Null);
    let origin_base = base_of(id);
    let bad = |e: serde_json::Error| IngestError::Invalid(e.to_string());
    match item.get("kind").and_then(Value::as_str) {
        Some("need") => {
            let mut need: Need = serde_json::from_value(data).map_err(bad)?;
            need.id = remote_id(id);
            need.initiative_id = owner.id;
            refuse_invalid(need.validate())?;
            let need = &need;
            stored_once(|| async move {
                match inner.store.need_by_id(need.id).await? {
                    Some(old) if old.initiative_id != owner.id => return Err(forged(id)),
                    Some(old) if !settle.replaces(old.updated_at, need.updated_at) => {
                        return Ok(Taken::kept(old.updated_at, need.updated_at));
                    }
                    Some(_) => inner.store.update_need(need, None).await?,
                    None => inner.store.insert_need(need).await?,
                };
                Ok(Taken::stored(need.updated_at, false))
            })
            .await
        }
        Some("update") => {
            let mut update: Update = serde_json::from_value(data).map_err(bad)?;
            update.id = remote_id(id);
            update.initiative_id = owner.id;
            update.need_id = update
                .need_id
                .map(|n| remote_id(&format!("{origin_base}/needs/{n}")));
            refuse_invalid(update.validate())?;
            if inner.store.is_tombstoned(update.id).await? {
                return Ok(Taken::default());
            }
            if let Some(n) = update.need_id
                && inner.store.need_by_id(n).await?.is_none()
            {
                update.need_id = None;
            }
            let (update, origin_base) = (&update, &origin_base);
            stored_once(|| async move {
                let old = inner.store.update_by_id(update.id).await?;
                match &old {
                    Some(old) if old.initiative_id != owner.id => return Err(forged(id)),
                    Some(old) if !settle.replaces(old.updated_at, update.updated_at) => {
                        return Ok(Taken::kept(old.updated_at, update.updated_at));
                    }
                    _ => {}
                }
                let (photos, pictures_missing) =
                    mirror_photos(inner, &update.photos, origin_base, owner_url).await;
                let local = Update {
                    photos,
                    ..update.clone()
                };
                match old {
                    Some(_) => inner.store.update_update(&local, None).await?,
                    None => inner.store.insert_update(&local).await?,
                }
                Ok(Taken::stored(update.updated_at, pictures_missing))
            })
            .await
        }
        Some("event") => {
            let mut event: Event = serde_json::from_value(data).map_err(bad)?;
            event.id = remote_id(id);
            event.initiative_id = owner.id;
            // Beneficiaries are handles on the origin node; the store matches them against
            // that node's listings only.
            refuse_invalid(event.validate())?;
            let event = &event;
            stored_once(|| async move {
                match inner.store.event_by_id(event.id).await? {
                    Some(old) if old.initiative_id != owner.id => return Err(forged(id)),
                    Some(old) if !settle.replaces(old.updated_at, event.updated_at) => {
                        return Ok(Taken::kept(old.updated_at, event.updated_at));
                    }
                    Some(_) => inner.store.update_event(event, None).await?,
                    None => inner.store.insert_event(event).await?,
                };
                Ok(Taken::stored(event.updated_at, false))
            })
            .await
        }
        _ => Ok(Taken::default()),
    }
}

/// A deleted object from `source`: an update, or a whole initiative (its actor URL), which
/// goes with its needs, updates and events.
pub(crate) async fn ingest_tombstone(
    inner: &Inner,
    object_id: &str,
    source: &str,
) -> Result<bool, IngestError> {
    check_origin(inner, object_id, source)?;
    let id = remote_id(object_id);
    if let Some(listing) = inner.store.initiative_by_id(id).await? {
        if listing.origin != authority(object_id) {
            return Err(forged(object_id));
        }
        return Ok(inner.fed.delete_remote_listing(id).await?);
    }
    if is_listing_url(object_id) {
        // Not here yet: its copy may still be on its way, and must not be taken after this.
        inner.fed.delete_remote_listing(id).await?;
        return Ok(false);
    }
    match inner.store.update_by_id(id).await? {
        Some(u) => {
            let owner = inner.store.initiative_by_id(u.initiative_id).await?;
            if owner.and_then(|o| o.origin) != authority(object_id) {
                return Err(forged(object_id));
            }
            inner.store.delete_update(id, None).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Whether `url` has the shape of a listing's (its actor's) URL: `…/initiatives/{handle}`.
fn is_listing_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| {
        u.query().is_none()
            && u.fragment().is_none()
            && u.path_segments().is_some_and(|s| {
                let s: Vec<&str> = s.collect();
                matches!(s.as_slice(), ["initiatives", handle] if !handle.is_empty())
            })
    })
}

fn forged(id: &str) -> IngestError {
    IngestError::Forged(format!("{id} belongs to another listing"))
}

/// Refuses what a node of ours could not have made: the same rules as a local edit (lengths,
/// links, time zones, dates the stores can keep).
fn refuse_invalid(errors: ValidationErrors) -> Result<(), IngestError> {
    errors
        .into_result(())
        .map_err(|e| IngestError::Invalid(e.summary()))
}

fn clip(markdown: &str) -> String {
    markdown.chars().take(MAX_MARKDOWN).collect()
}

fn base_of(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => String::new(),
    }
}

/// Refuses ids of this node and ids on another host than the source.
fn check_origin(inner: &Inner, id: &str, source: &str) -> Result<(), IngestError> {
    if inner.urls.is_local(id) {
        return Err(IngestError::Forged(format!("{id} is one of ours")));
    }
    if !same_origin(id, source) {
        return Err(IngestError::Forged(format!(
            "{id} did not come from its own host"
        )));
    }
    Ok(())
}

async fn ingest_group(
    inner: &Inner,
    doc: &Value,
    id: &str,
    settle: Settle,
) -> Result<Taken, IngestError> {
    if doc.get("type").and_then(Value::as_str) != Some("Group") {
        return Err(IngestError::Invalid("a listing must be a Group".into()));
    }
    let origin = authority(id).ok_or_else(|| IngestError::Invalid("id is not a URL".into()))?;
    let listing: Listing = serde_json::from_value(doc.get("listing").cloned().unwrap_or_default())
        .map_err(|e| IngestError::Invalid(e.to_string()))?;
    if !listing.status.is_public() {
        return Err(IngestError::Invalid("not a public listing".into()));
    }
    let input = json!({
        "handle": listing.handle,
        "name": listing.name,
        "summary": listing.summary,
        "description": clip(&listing.description),
        "categories": listing.categories,
        "tags": listing.tags,
        "regions": listing.regions,
        "languages": listing.languages,
        "website": listing.website,
        "contacts": listing.contacts,
        "donation_methods": listing.donation_methods,
        "discoverable": listing.discoverable,
    });
    // The checks of a local submission (handles, links, IBANs, lengths), but a mistyped wallet
    // address is kept and flagged where it is shown.
    let valid = serde_json::from_value::<InitiativeInput>(input)
        .map_err(|e| IngestError::Invalid(e.to_string()))?
        .validate_received()
        .map_err(|e| IngestError::Invalid(e.summary()))?;
    let mut times = ValidationErrors::new();
    times.time("created_at", &listing.created_at);
    times.time("updated_at", &listing.updated_at);
    for (field, time) in [
        ("published_at", &listing.published_at),
        ("payment_changed_at", &listing.payment_changed_at),
    ] {
        if let Some(time) = time {
            times.time(field, time);
        }
    }
    refuse_invalid(times)?;
    let mut initiative = Initiative::submit(remote_id(id), valid, listing.created_at);
    initiative.origin = Some(origin.clone());
    initiative.status = listing.status;
    initiative.updated_at = listing.updated_at;
    initiative.published_at = listing.published_at;
    initiative.payment_changed_at = listing.payment_changed_at;
    let (initiative, origin) = (&initiative, &origin);
    let stored = stored_once(|| async move {
        let old = inner.store.initiative_by_id(initiative.id).await?;
        if old.is_none() && inner.store.is_tombstoned(initiative.id).await? {
            // Its Delete came first (a retried Update, a slow relay): it stays deleted.
            tracing::info!(listing = %id, "a copy of a deleted listing arrived; not taken");
            return Ok(Taken::default());
        }
        match &old {
            Some(old) if old.origin.as_deref() != Some(origin.as_str()) => return Err(forged(id)),
            Some(old) if !settle.replaces(old.updated_at, initiative.updated_at) => {
                return Ok(Taken::kept(old.updated_at, initiative.updated_at));
            }
            _ => {}
        }
        // Both pictures at once: each fetch may take up to the request timeout (decoding takes
        // turns in `hromada-media`, so memory does not add up).
        let picture = |key: &'static str, size| async move {
            let url = mirror::image_url(doc.get(key))?;
            Some(mirror::copy(inner, url, id, "", size).await)
        };
        let (avatar, header) = tokio::join!(
            picture("icon", mirror::Size::Avatar),
            picture("image", mirror::Size::Full)
        );
        let pictures_missing = [&avatar, &header]
            .iter()
            .any(|p| matches!(p, Some(Err(LeftOut::Unavailable))));
        let local = Initiative {
            avatar: avatar.and_then(Result::ok),
            header: header.and_then(Result::ok),
            payment_changed_at: payment_changed_at(old.as_ref(), initiative),
            ..initiative.clone()
        };
        // Its node blocked while this copy was on its way (the block was checked before a
        // fetch that took a while, and has purged the node's listings since): not taken.
        let blocks = inner.fed.domain_blocks().await?;
        if blocks
            .iter()
            .any(|b| host_matches_domain(origin, &b.domain))
        {
            tracing::info!(listing = %id, "a copy from a node blocked meanwhile; not taken");
            return Ok(Taken::default());
        }
        // Written only over the copy read above: a newer one stored meanwhile (its pictures
        // took a while) makes this a `Conflict`, and the retry settles against it.
        match old {
            Some(old) => {
                inner
                    .store
                    .update_initiative(&local, old.updated_at, None)
                    .await?
            }
            None => inner.store.insert_initiative(&local, None).await?,
        }
        Ok(Taken::stored(initiative.updated_at, pictures_missing))
    })
    .await;
    match stored {
        // Not another copy of this listing: its handle is taken on this node.
        Err(IngestError::Store(StoreError::Conflict(why))) => Err(IngestError::Invalid(why)),
        stored => stored,
    }
}

/// When a received copy's payment details changed, not on the origin's word alone: a
/// destination new to the copy stored here dates from when it arrived here at the earliest
/// (not from the version's own `updated_at`, which its origin chose), and a date once known is
/// never taken back (a taken-over origin could swap the IBAN and send none).
fn payment_changed_at(stored: Option<&Initiative>, received: &Initiative) -> Option<DateTime<Utc>> {
    let Some(stored) = stored else {
        return received.payment_changed_at;
    };
    let gained = stored.published_at.is_some()
        && stored.gains_payment_destination(&received.donation_methods);
    received
        .payment_changed_at
        .max(gained.then(Utc::now))
        .max(stored.payment_changed_at)
}

/// Stores a remote object: `attempt` reads what is stored and writes this copy over it, or
/// inserts it. Two deliveries of one object can arrive together (from its origin and through a
/// relay, or a listing and a need that fetched it), both find nothing stored and both insert;
/// the later insert fails with `Conflict`. Reading again then finds the other one's row, and
/// this copy is settled against it like any stored copy, instead of being refused (a refusal
/// is a 4xx, which the sender never retries, so the object would be lost here).
async fn stored_once<T, F: Future<Output = Result<T, IngestError>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<T, IngestError> {
    match attempt().await {
        Err(IngestError::Store(StoreError::Conflict(_))) => attempt().await,
        done => done,
    }
}

/// Local copies of an update's photos, which the origin serves at `/media/{name}`, and whether
/// one of them could not be fetched now. Photos that cannot be copied are left out (and
/// logged); the update is taken all the same.
async fn mirror_photos(
    inner: &Inner,
    photos: &[Photo],
    origin_base: &str,
    owner_url: &str,
) -> (Vec<Photo>, bool) {
    // All at once, kept in their order: each fetch may take up to the request timeout.
    let copies = photos.iter().take(MAX_PHOTOS).map(|photo| async move {
        if !Photo::is_valid_name(&photo.name) {
            tracing::warn!(name = %photo.name, "remote photo with an unexpected name, left out");
            return Err(LeftOut::Refused);
        }
        let url = format!("{origin_base}/media/{}", photo.name);
        let alt: String = photo.alt.chars().take(1_500).collect();
        mirror::copy(inner, &url, owner_url, &alt, mirror::Size::Full).await
    });
    let copies = futures_util::future::join_all(copies).await;
    let missing = copies.contains(&Err(LeftOut::Unavailable));
    (copies.into_iter().flatten().collect(), missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_fetched_again_for_pictures_replaces_an_equal_one() {
        let t = Utc::now();
        let earlier = t - chrono::Duration::seconds(1);
        assert!(Settle::IfNewer.replaces(earlier, t));
        assert!(!Settle::IfNewer.replaces(t, t));
        assert!(Settle::AgainForPictures.replaces(t, t));
        assert!(
            !Settle::AgainForPictures.replaces(t, earlier),
            "never an older copy"
        );
    }

    #[test]
    fn payment_changes_are_dated_here_too() {
        let method = |iban: &str| {
            serde_json::from_value::<hromada_domain::DonationMethod>(serde_json::json!({
                "kind": "bank_transfer", "iban": iban, "account_holder": "ГО Приклад"
            }))
            .unwrap()
        };
        let t = Utc::now();
        let stored = Initiative {
            published_at: Some(t - chrono::Duration::days(30)),
            donation_methods: vec![method("UA213223130000026007233566001")],
            payment_changed_at: None,
            ..Initiative::submit(
                Uuid::nil(),
                serde_json::from_value::<hromada_domain::InitiativeInput>(serde_json::json!({
                    "handle": "x", "name": "X", "summary": "S", "categories": ["medical"],
                    "regions": [{"kind": "ukraine", "oblast": "kharkiv"}],
                    "submitter_contact": "x@example.org"
                }))
                .unwrap()
                .validate()
                .unwrap(),
                t - chrono::Duration::days(30),
            )
        };
        // The origin swaps the IBAN, says nothing changed and dates the version back: dated by
        // its arrival here.
        let swapped = Initiative {
            donation_methods: vec![method("UA903052992990004149123456789")],
            updated_at: t - chrono::Duration::days(29),
            ..stored.clone()
        };
        let dated = payment_changed_at(Some(&stored), &swapped);
        assert!(dated.is_some_and(|d| d >= t), "{dated:?}");
        // The same destination again changes nothing; a date once known stays.
        assert_eq!(payment_changed_at(Some(&stored), &stored), None);
        let known = Initiative {
            payment_changed_at: Some(t),
            ..stored.clone()
        };
        assert_eq!(payment_changed_at(Some(&known), &stored), Some(t));
        // A copy seen for the first time: the origin's word is all there is.
        assert_eq!(payment_changed_at(None, &swapped), None);
    }

    #[test]
    fn remote_ids_are_stable_and_not_v4() {
        let a = remote_id("https://c.example/initiatives/x");
        assert_eq!(a, remote_id("https://c.example/initiatives/x"));
        assert_ne!(a, remote_id("https://b.example/initiatives/x"));
        assert_ne!(a.get_version_num(), 4);
    }

    #[tokio::test]
    async fn an_insert_that_lost_a_race_is_settled_against_the_winner() {
        // The first attempt's insert lost to a concurrent delivery; the second finds its row.
        let mut attempts = 0;
        let stored = stored_once(|| {
            attempts += 1;
            let first = attempts == 1;
            async move {
                if first {
                    Err(StoreError::Conflict("initiatives.id".into()).into())
                } else {
                    Ok(false)
                }
            }
        })
        .await;
        assert!(matches!(stored, Ok(false)));
        assert_eq!(attempts, 2);

        // A conflict that stays (a handle taken by another listing) is reported, once retried.
        let mut attempts = 0;
        let stored: Result<bool, _> = stored_once(|| {
            attempts += 1;
            async { Err(StoreError::Conflict("handle".into()).into()) }
        })
        .await;
        assert!(matches!(
            stored,
            Err(IngestError::Store(StoreError::Conflict(_)))
        ));
        assert_eq!(attempts, 2);

        // Other errors are not retried.
        let mut attempts = 0;
        let stored: Result<bool, _> = stored_once(|| {
            attempts += 1;
            async { Err(IngestError::Invalid("no".into())) }
        })
        .await;
        assert!(matches!(stored, Err(IngestError::Invalid(_))));
        assert_eq!(attempts, 1);
    }

    #[test]
    fn authorities() {
        assert_eq!(
            authority("http://LocalHost:8081/actor").as_deref(),
            Some("localhost:8081")
        );
        assert_eq!(
            authority("https://n.example/x").as_deref(),
            Some("n.example")
        );
    }
}
