//! Backfill: the paged directory a node serves (`/directory`), followed by its statements
//! about other nodes' listings (`/statements`), and the worker that pulls a newly followed
//! peer's existing listings and statements through them.
//!
//! The worker keeps the next page URL in the peer's row after every page, so an interrupted
//! backfill (restart, crash, peer down) continues where it stopped. It runs beside the
//! delivery workers, one page at a time, so thousands of listings never hold up requests.

use std::collections::HashSet;
use std::collections::hash_map::{DefaultHasher, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use hromada_domain::InitiativeStatus;
use hromada_store::{LocalActor, OriginFilter, PeerState, PeerUpdate, SearchQuery};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::actors::group;
use crate::fetch::same_origin;
use crate::http::{ap_json, json_error};
use crate::inbox::relay_now;
use crate::network::{ingest, with_listing};
use crate::objects::{event_object, need_note, update_note};
use crate::publish::{event_item, need_item, served_dates, update_item};
use crate::{Inner, activities};

/// Initiatives per directory page (each with its needs, events and recent updates).
const PAGE_SIZE: u32 = 10;
/// Recent updates carried per initiative.
const UPDATES_PER_LISTING: u32 = 50;
/// Most pages read of one peer's directory (a million listings at our page size); a peer
/// whose pages never end is not followed further.
const MAX_PAGES: usize = 100_000;
/// Longest wait before trying again a peer whose page could not be fetched (or the
/// deliveries' `retry_max`, when shorter).
const MAX_RETRY: Duration = Duration::from_secs(3600);

/// What this process saw of each peer's backfill. A peer whose `next` links back to a page
/// read before would otherwise be fetched round after round at full speed, and one that is
/// down would be asked every poll interval for as long as it is down.
#[derive(Default)]
pub(crate) struct Progress {
    peers: Mutex<HashMap<String, PeerProgress>>,
}

#[derive(Default)]
struct PeerProgress {
    /// Hashes of the page URLs read.
    read: HashSet<u64>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Progress {
    fn with<T>(&self, domain: &str, f: impl FnOnce(&mut PeerProgress) -> T) -> Option<T> {
        let mut peers = self.peers.lock().ok()?;
        Some(f(peers.entry(domain.to_string()).or_default()))
    }

    /// Whether `url`, the peer's next page, is to be fetched now (not while a retry is
    /// pending). A page read before is a backfill started anew (the peer was followed again,
    /// or saving the page's successor failed): what was read before no longer counts.
    fn due(&self, domain: &str, url: &str) -> bool {
        self.with(domain, |p| {
            if p.read.contains(&hash(url)) {
                p.read.clear();
            }
            p.retry_at.is_none_or(|at| at <= Instant::now())
        })
        .unwrap_or(true)
    }

    /// Counts a failed fetch; the next try waits twice as long as the last, from `first`.
    fn failed(&self, domain: &str, first: Duration, max: Duration) {
        self.with(domain, |p| {
            p.failures = p.failures.saturating_add(1);
            let wait = first.saturating_mul(2u32.saturating_pow(p.failures - 1));
            p.retry_at = Some(Instant::now() + wait.min(max));
        });
    }

    /// Records `read` and judges the page it links to: `None` when it was read before, or
    /// when the peer's directory grew beyond [`MAX_PAGES`].
    fn next(&self, domain: &str, read: &str, next: Option<String>) -> Option<String> {
        let verdict = self.with(domain, |p| {
            p.failures = 0;
            p.retry_at = None;
            p.read.insert(hash(read));
            match next {
                Some(n) if p.read.contains(&hash(&n)) => Err("links back to a page read before"),
                Some(_) if p.read.len() >= MAX_PAGES => Err("has more pages than are followed"),
                other => Ok(other),
            }
        });
        match verdict {
            Some(Ok(Some(n))) => return Some(n),
            Some(Err(why)) => {
                tracing::warn!(peer = %domain, page = %read, "the peer's directory {why}; its backfill ends here");
            }
            Some(Ok(None)) | None => {}
        }
        if let Ok(mut peers) = self.peers.lock() {
            peers.remove(domain);
        }
        None
    }
}

fn hash(url: &str) -> u64 {
    let mut h = DefaultHasher::new();
    url.hash(&mut h);
    h.finish()
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    page: Option<u32>,
}

/// `GET /directory`: the node's own public listings, as an `OrderedCollection` of `Group`
/// actors with `listing`, each carrying its objects in `listingObjects`.
pub(crate) async fn directory(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<PageQuery>,
) -> Response {
    let id = format!("{}/directory", inner.urls.base());
    let query = |page: u32| SearchQuery {
        origin: OriginFilter::Local,
        statuses: vec![
            InitiativeStatus::Published,
            InitiativeStatus::Paused,
            InitiativeStatus::Archived,
        ],
        page,
        per_page: PAGE_SIZE,
        exact_total: true,
        ..Default::default()
    };
    let failed = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "directory page failed");
        json_error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
    };
    let Some(page) = q.page else {
        let total = match inner.store.search_initiatives(&query(1)).await {
            Ok(p) => p.total,
            Err(e) => return failed(&e),
        };
        return ap_json(
            StatusCode::OK,
            &activities::with_context(json!({
                "id": id,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": format!("{id}?page=1"),
            })),
        );
    };
    let page = page.max(1);
    let found = match inner.store.search_initiatives(&query(page)).await {
        Ok(p) => p,
        Err(e) => return failed(&e),
    };
    let ids: Vec<_> = found.items.iter().map(|i| i.id).collect();
    let statements = match inner.store.statements_about(&ids).await {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    let mut items = Vec::new();
    for i in &found.items {
        match listing_with_objects(&inner, i, statements.of(i.id)).await {
            Ok(doc) => items.push(doc),
            Err(e) => return failed(&e),
        }
    }
    let mut doc = json!({
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "orderedItems": items,
    });
    doc["next"] = if u64::from(page) * u64::from(PAGE_SIZE) < found.total {
        json!(format!("{id}?page={}", page + 1))
    } else {
        // The listings are read; what this node said about other nodes' listings follows.
        json!(statements_url(inner.urls.base()))
    };
    ap_json(StatusCode::OK, &activities::with_context(doc))
}

fn statements_url(base: &str) -> String {
    format!("{base}/statements")
}

#[derive(Deserialize)]
pub(crate) struct StatementsQuery {
    page: Option<u32>,
    /// The last listing of the page before: pages go by listing id, so a statement withdrawn
    /// while a follower reads does not shift another listing's onto a page already read.
    after: Option<uuid::Uuid>,
}

/// `GET /statements`: this node's standing vouches and warnings about other nodes' listings
/// (those about its own come with them in `/directory`), as an `OrderedCollection` of the
/// `Note`s that `/vouches/{id}` and `/warnings/{id}` serve, grouped by listing.
pub(crate) async fn statements(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<StatementsQuery>,
) -> Response {
    let id = statements_url(inner.urls.base());
    if q.page.is_none() && q.after.is_none() {
        return ap_json(
            StatusCode::OK,
            &activities::with_context(json!({
                "id": id,
                "type": "OrderedCollection",
                "first": format!("{id}?page=1"),
            })),
        );
    }
    if q.after.is_none() && q.page != Some(1) {
        return json_error(
            StatusCode::NOT_FOUND,
            "no such page: the first is ?page=1, and each names the next",
        );
    }
    match statements_page(&inner, q.after).await {
        Ok((items, last)) => {
            let mut doc = json!({
                "id": match q.after {
                    Some(after) => format!("{id}?after={after}"),
                    None => format!("{id}?page=1"),
                },
                "type": "OrderedCollectionPage",
                "partOf": id,
                "orderedItems": items,
            });
            if let Some(last) = last {
                doc["next"] = json!(format!("{id}?after={last}"));
            }
            ap_json(StatusCode::OK, &activities::with_context(doc))
        }
        Err(e) => {
            tracing::warn!(error = %e, "statements page failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}

/// The statements about the listings of one page, and the page's last listing when more
/// pages follow.
async fn statements_page(
    inner: &Inner,
    after: Option<uuid::Uuid>,
) -> Result<(Vec<Value>, Option<uuid::Uuid>), crate::FederationError> {
    let mut ids = inner
        .store
        .remote_listings_with_own_statements(after, PAGE_SIZE + 1)
        .await?;
    let more = ids.len() > PAGE_SIZE as usize;
    ids.truncate(PAGE_SIZE as usize);
    let statements = inner.store.statements_about(&ids).await?;
    let mut items = Vec::new();
    for id in &ids {
        // Deleted meanwhile: nothing to say about it.
        if let Some(i) = inner.store.initiative_by_id(*id).await? {
            items.extend(crate::trust::own_statements_about(inner, &i, statements.of(*id)).await?);
        }
    }
    Ok((items, ids.last().copied().filter(|_| more)))
}

async fn listing_with_objects(
    inner: &Inner,
    i: &hromada_domain::Initiative,
    statements: hromada_store::Statements,
) -> Result<Value, crate::FederationError> {
    let urls = &inner.urls;
    let kp = inner.keys.get(LocalActor::Initiative(i.id)).await?;
    let mut doc = with_listing(group(urls, i, &kp.public_key_pem), i);
    if let Value::Object(map) = &mut doc {
        map.remove("@context");
    }
    doc["listingObjects"] = json!(listing_objects(inner, i).await?);
    doc["listingStatements"] =
        json!(crate::trust::own_statements_about(inner, i, statements).await?);
    Ok(doc)
}

/// An initiative's needs, own events and most recent updates, as `listingItem` objects with
/// their object URLs as ids.
pub(crate) async fn listing_objects(
    inner: &Inner,
    i: &hromada_domain::Initiative,
) -> Result<Vec<Value>, crate::FederationError> {
    let urls = &inner.urls;
    let mut objects = Vec::new();
    for n in inner.store.needs_of(i.id).await? {
        let mark = inner.fed.published_mark(n.id).await?;
        let (p, u) = served_dates(mark.as_ref(), n.created_at, n.updated_at);
        objects.push(need_item(need_note(urls, i, &n, p, u), &n));
    }
    for e in inner
        .store
        .events_of(i.id)
        .await?
        .into_iter()
        .filter(|e| e.initiative_id == i.id)
    {
        let mark = inner.fed.published_mark(e.id).await?;
        let (p, u) = served_dates(mark.as_ref(), e.created_at, e.updated_at);
        objects.push(event_item(event_object(urls, i, &e, p, u), &e));
    }
    for u in inner
        .store
        .updates_of(i.id, Some(Utc::now()), 0, UPDATES_PER_LISTING)
        .await?
    {
        let mark = inner.fed.published_mark(u.id).await?;
        let (p, e) = served_dates(mark.as_ref(), u.publish_at, u.updated_at);
        objects.push(update_item(update_note(urls, i, &u, p, e), &u));
    }
    Ok(objects)
}

/// Pulls pages for every peer with a backfill due, until shut down.
/// Only the process holding the `backfill` lease pulls.
pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    crate::jobs::run_rounds(&inner, "backfill", shutdown, || step(&inner)).await;
}

/// Fetches one page for each peer with a backfill due; returns how many pages were read.
pub(crate) async fn step(inner: &Inner) -> Result<usize, crate::FederationError> {
    let progress = &inner.backfill;
    let mut pages = 0;
    for peer in inner.fed.peers().await? {
        let Some(url) = peer.backfill_next.clone() else {
            continue;
        };
        if peer.outgoing != Some(PeerState::Accepted) || !progress.due(&peer.domain, &url) {
            continue;
        }
        if !same_origin(&url, &peer.actor_id) {
            // Never follow a page link off the peer's own host.
            save_next(inner, &peer.domain, &url, None).await?;
            continue;
        }
        let fetched = match inner.fetcher.get(&url).await {
            Ok(f) => f,
            Err(e) if e.is_final() && path_is(&url, "/statements") => {
                // A peer older than `/statements`: asking again would get the same.
                tracing::info!(peer = %peer.domain, page = %url, error = %e, "the peer serves no statements; its backfill ends here");
                save_next(inner, &peer.domain, &url, None).await?;
                continue;
            }
            Err(e) => {
                // Kept for a later round; the peer may be restarting.
                tracing::info!(peer = %peer.domain, error = %e, "backfill page not fetched; will retry");
                let limits = &inner.settings.limits;
                let longest = limits.retry_max.min(MAX_RETRY);
                progress.failed(&peer.domain, limits.poll_interval, longest);
                continue;
            }
        };
        if !same_origin(fetched.url.as_str(), &peer.actor_id) {
            save_next(inner, &peer.domain, &url, None).await?;
            continue;
        }
        let doc = fetched.json;
        let next = match doc.get("type").and_then(Value::as_str) {
            Some("OrderedCollection") | Some("Collection") => doc
                .get("first")
                .and_then(|f| f.as_str().or_else(|| f.get("id").and_then(Value::as_str)))
                .map(String::from),
            _ => {
                let source = fetched.url.as_str();
                for item in doc
                    .get("orderedItems")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if item.get("trustStatement").is_some() {
                        take_statement(inner, item, source, &peer.domain).await;
                    } else {
                        take_listing(inner, item, source, &peer.domain).await;
                    }
                }
                doc.get("next").and_then(Value::as_str).map(String::from)
            }
        };
        let next = progress.next(&peer.domain, &url, next);
        // The directory's end: no next page, or the one link to the peer's own statements
        // (any other link onwards never counts, so a peer cannot make us re-read at will).
        let own_statements = peer_statements(&peer.actor_id);
        let listings_read =
            path_is(&url, "/directory") && (next.is_none() || next == own_statements);
        if save_next(inner, &peer.domain, &url, next).await? && listings_read {
            reread_statements(inner, &peer.domain).await;
        }
        pages += 1;
    }
    Ok(pages)
}

fn path_is(url: &str, path: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.path() == path)
}

/// Where the peer with this instance actor serves its statements.
fn peer_statements(actor: &str) -> Option<String> {
    url::Url::parse(actor)
        .ok()
        .map(|u| statements_url(&u.origin().ascii_serialization()))
}

/// All of `finished`'s listings are here now, so what the other peers said about them before
/// can be taken at last (their statements about listings this node did not have were skipped):
/// every other peer done with its listings reads its statements again from the start. Each
/// peer's directory ends once per follow, so this happens once per peer followed.
async fn reread_statements(inner: &Inner, finished: &str) {
    let peers = match inner.fed.peers().await {
        Ok(peers) => peers,
        Err(e) => {
            tracing::warn!(error = %e, "peers' statements not read again");
            return;
        }
    };
    for peer in peers {
        let in_statements = peer
            .backfill_next
            .as_deref()
            .is_some_and(|u| path_is(u, "/statements"));
        if peer.domain == finished
            || peer.outgoing != Some(PeerState::Accepted)
            || (peer.backfill_next.is_some() && !in_statements)
        {
            continue;
        }
        let Some(start) = peer_statements(&peer.actor_id) else {
            continue;
        };
        // Unless the row moved meanwhile (unfollowed, followed anew, a backfill started).
        let update = PeerUpdate {
            backfill_next: Some(Some(start)),
            if_backfill_next: peer.backfill_next.clone(),
            if_no_backfill: peer.backfill_next.is_none(),
            if_outgoing_follow_id: peer.outgoing_follow_id.clone(),
            ..Default::default()
        };
        if let Err(e) = inner.fed.update_peer(&peer.domain, &update).await {
            tracing::warn!(peer = %peer.domain, error = %e, "the peer's statements not read again");
        }
    }
}

async fn take_listing(inner: &Inner, item: &Value, source: &str, peer: &str) {
    if !take(inner, item, source, peer).await {
        return;
    }
    for object in item
        .get("listingObjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        take(inner, object, source, peer).await;
    }
    for statement in item
        .get("listingStatements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        take_statement(inner, statement, source, peer).await;
    }
}

async fn take_statement(inner: &Inner, statement: &Value, source: &str, peer: &str) {
    if let Err(e) = crate::trust::take_backfilled(inner, statement, source, peer).await {
        tracing::info!(error = %e, "backfill: trust statement not taken");
    }
}

/// Takes one listing or object of a page and, when that changed something here, relays it
/// like one that was delivered: the page may bring a listing just before its origin's own
/// delivery, which then changes nothing and would never be relayed. `false` when refused.
async fn take(inner: &Inner, doc: &Value, source: &str, peer: &str) -> bool {
    match ingest(inner, doc, source, peer).await {
        Ok(taken) => {
            if let Some(version) = taken.version.filter(|_| taken.changed)
                && let Some(id) = doc.get("id").and_then(Value::as_str)
                && let Err(e) = relay_now(inner, id, version, peer).await
            {
                tracing::warn!(object = %id, error = %e, "backfill: relaying failed");
            }
            true
        }
        Err(e) => {
            tracing::info!(error = %e, "backfill: not taken");
            false
        }
    }
}

/// Moves the peer's backfill on from the page just read, unless the row moved meanwhile (the
/// admin unfollowed, or the peer was followed anew and its backfill restarted); `true` when
/// it moved on.
async fn save_next(
    inner: &Inner,
    domain: &str,
    read: &str,
    next: Option<String>,
) -> Result<bool, crate::FederationError> {
    let update = PeerUpdate {
        backfill_next: Some(next),
        if_backfill_next: Some(read.to_string()),
        ..Default::default()
    };
    Ok(inner.fed.update_peer(domain, &update).await?)
}
