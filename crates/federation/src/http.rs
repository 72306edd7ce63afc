//! Routes: actors, objects and collections as ActivityPub JSON, plus which requests are ours.

// Handlers return finished responses as their error values; one per request, never stored.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use hromada_domain::{Initiative, NeedStatus};
use hromada_store::{DeletedKey, LocalActor};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use uuid::Uuid;

use crate::actors::{group, has_actor, instance};
use crate::doc_cache::Document;
use crate::network::with_listing;
use crate::objects::{
    announcement_note, event_object, need_note, tombstone, update_note, urgent_need_note,
    urgent_post_id,
};
use crate::publish::{event_item, need_item, served_dates, update_item};
use crate::{Inner, activities, discovery, inbox};

pub const AP_CONTENT_TYPE: &str = "application/activity+json";
const PAGE_SIZE: usize = 20;

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    let body_limit = inner.settings.limits.inbox_body_bytes;
    Router::new()
        .route("/.well-known/webfinger", get(discovery::webfinger))
        .route("/.well-known/host-meta", get(discovery::host_meta))
        .route("/.well-known/nodeinfo", get(discovery::nodeinfo_links))
        .route("/nodeinfo/2.1", get(discovery::nodeinfo))
        .route("/actor", get(instance_actor))
        .route("/actor/followers", get(instance_followers))
        .route("/actor/notes/new/{handle}", get(announcement))
        .route("/actor/notes/urgent/{id}", get(urgent_need_post))
        .route("/inbox", post(inbox::shared_inbox))
        .route("/initiatives/{handle}", get(initiative_actor))
        .route("/initiatives/{handle}/inbox", post(inbox::actor_inbox))
        .route("/initiatives/{handle}/outbox", get(outbox))
        .route("/initiatives/{handle}/followers", get(followers))
        .route("/initiatives/{handle}/featured", get(featured))
        .route("/updates/{id}", get(update_object))
        .route("/needs/{id}", get(need_object))
        .route("/events/{id}", get(event_object_route))
        .route("/vouches/{id}", get(vouch_object))
        .route("/warnings/{id}", get(warning_object))
        .route("/directory", get(crate::backfill::directory))
        .route("/statements", get(crate::backfill::statements))
        .layer(DefaultBodyLimit::max(body_limit))
        // A bug that panics on what a remote server sent answers 500, not a dropped connection.
        .layer(CatchPanicLayer::custom(
            |panic: Box<dyn std::any::Any + Send>| {
                let detail = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied());
                tracing::error!(detail, "a federation handler panicked");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            },
        ))
        .with_state(inner)
}

/// Whether `Accept` asks for ActivityPub JSON (contains, not equals: Mastodon sends both types).
pub(crate) fn wants_activitypub(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            contains_ignoring_case(v, "application/activity+json")
                || contains_ignoring_case(v, "application/ld+json")
        })
}

/// Without lowercasing a copy: this runs for every page view of an actor or object URL.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

pub(crate) fn claims(req: &axum::http::request::Parts) -> bool {
    let path = req.uri.path();
    if path.starts_with("/api/") {
        return false;
    }
    if matches!(
        path,
        "/.well-known/webfinger"
            | "/.well-known/host-meta"
            | "/.well-known/nodeinfo"
            | "/nodeinfo/2.1"
            | "/actor"
            | "/actor/followers"
            | "/inbox"
            | "/directory"
            | "/statements"
    ) {
        return true;
    }
    let mut segments = path.trim_start_matches('/').split('/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (
            Some("initiatives"),
            Some(_),
            Some("inbox" | "outbox" | "followers" | "featured"),
            None,
        ) => true,
        // The instance actor's posts exist only as ActivityPub; their `url` is the HTML page.
        (Some("actor"), Some("notes"), Some(_), Some(_)) => true,
        (
            Some("initiatives" | "updates" | "needs" | "events" | "vouches" | "warnings"),
            Some(_),
            None,
            None,
        ) => wants_activitypub(&req.headers),
        _ => false,
    }
}

/// A JSON-LD document with the content type Mastodon and the crate accept.
pub(crate) fn ap_json(status: StatusCode, doc: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, AP_CONTENT_TYPE)],
        doc.to_string(),
    )
        .into_response()
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": message}).to_string(),
    )
        .into_response()
}

fn store_failed(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "federation route failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
}

async fn local_initiative(inner: &Inner, handle: &str) -> Result<Initiative, Response> {
    match inner.store.initiative_by_handle(handle, None).await {
        Ok(Some(i)) if has_actor(&i) => Ok(i),
        Ok(Some(_)) => Err(json_error(StatusCode::NOT_FOUND, "no such actor")),
        // A deleted initiative's actor (and everything under it) is gone for good.
        Ok(None) => match inner
            .store
            .deleted_initiative(DeletedKey::Handle(handle))
            .await
        {
            Ok(Some(gone)) => Err(ap_json(
                StatusCode::GONE,
                &tombstone(&inner.urls.actor(&gone.handle), "Group"),
            )),
            Ok(None) => Err(json_error(StatusCode::NOT_FOUND, "no such actor")),
            Err(e) => Err(store_failed(e)),
        },
        Err(e) => Err(store_failed(e)),
    }
}

/// 410 with a tombstone for an object id that was deleted, else 404.
pub(crate) async fn missing_object(
    inner: &Inner,
    id: Uuid,
    url: String,
    former_type: &str,
) -> Response {
    match inner.store.is_tombstoned(id).await {
        Ok(true) => ap_json(StatusCode::GONE, &tombstone(&url, former_type)),
        Ok(false) => json_error(StatusCode::NOT_FOUND, "no such object"),
        Err(e) => store_failed(e),
    }
}

async fn initiative_actor(State(inner): State<Arc<Inner>>, Path(handle): Path<String>) -> Response {
    let key = format!("actor:{handle}");
    let build = async {
        let i = local_initiative(&inner, &handle).await?;
        match inner.keys.get(LocalActor::Initiative(i.id)).await {
            Ok(kp) => Ok(Document::new(
                AP_CONTENT_TYPE,
                with_listing(group(&inner.urls, &i, &kp.public_key_pem), &i).to_string(),
            )),
            Err(e) => Err(store_failed(e)),
        }
    };
    inner
        .docs
        .get_or_build(inner.store.as_ref(), &key, build)
        .await
}

async fn instance_actor(State(inner): State<Arc<Inner>>) -> Response {
    let build = async {
        match inner.keys.get(LocalActor::Instance).await {
            Ok(kp) => {
                let s = &inner.settings;
                let doc = instance(
                    &inner.urls,
                    &s.node_name,
                    &s.node_description,
                    &kp.public_key_pem,
                );
                Ok(Document::new(AP_CONTENT_TYPE, doc.to_string()))
            }
            Err(e) => Err(store_failed(e)),
        }
    };
    inner
        .docs
        .get_or_build(inner.store.as_ref(), "actor", build)
        .await
}

/// The public objects of an initiative, newest first, as they were (or would be) sent.
async fn objects_of(
    inner: &Inner,
    i: &Initiative,
) -> Result<Vec<Value>, hromada_store::StoreError> {
    let urls = &inner.urls;
    let now = Utc::now();
    let mut items = Vec::new();
    for u in inner.store.updates_of(i.id, Some(now), 0, 200).await? {
        let mark = inner.fed.published_mark(u.id).await?;
        let (published, updated) = served_dates(mark.as_ref(), u.publish_at, u.updated_at);
        items.push((published, update_note(urls, i, &u, published, updated)));
    }
    for n in inner.store.needs_of(i.id).await? {
        let mark = inner.fed.published_mark(n.id).await?;
        let (published, updated) = served_dates(mark.as_ref(), n.created_at, n.updated_at);
        items.push((published, need_note(urls, i, &n, published, updated)));
    }
    for e in inner
        .store
        .events_of(i.id)
        .await?
        .into_iter()
        .filter(|e| e.initiative_id == i.id)
    {
        let mark = inner.fed.published_mark(e.id).await?;
        let (published, updated) = served_dates(mark.as_ref(), e.created_at, e.updated_at);
        items.push((published, event_object(urls, i, &e, published, updated)));
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    Ok(items.into_iter().map(|(_, o)| o).collect())
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn outbox(
    State(inner): State<Arc<Inner>>,
    Path(handle): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let i = match local_initiative(&inner, &handle).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let items = match objects_of(&inner, &i).await {
        Ok(items) => items,
        Err(e) => return store_failed(e),
    };
    let id = inner.urls.outbox(i.handle.as_str());
    let doc = match q.page {
        None => activities::with_context(json!({
            "id": id,
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "first": format!("{id}?page=1"),
        })),
        Some(page) => {
            let page = page.max(1);
            let actor = inner.urls.actor(i.handle.as_str());
            let followers = inner.urls.followers(i.handle.as_str());
            let chunk: Vec<Value> = items
                .iter()
                .skip((page - 1).saturating_mul(PAGE_SIZE))
                .take(PAGE_SIZE)
                .map(|o| strip_context(activities::create(&actor, &followers, o.clone())))
                .collect();
            let mut doc = json!({
                "id": format!("{id}?page={page}"),
                "type": "OrderedCollectionPage",
                "partOf": id,
                "orderedItems": chunk,
            });
            // Saturating: `page` comes from the query string.
            if page.saturating_mul(PAGE_SIZE) < items.len() {
                doc["next"] = json!(format!("{id}?page={}", page + 1));
            }
            activities::with_context(doc)
        }
    };
    ap_json(StatusCode::OK, &doc)
}

fn strip_context(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.remove("@context");
    }
    v
}

/// Only the count, as for initiatives.
async fn instance_followers(State(inner): State<Arc<Inner>>) -> Response {
    match inner
        .fed
        .follower_count(LocalActor::Instance, hromada_store::FollowerState::Accepted)
        .await
    {
        Ok(total) => ap_json(
            StatusCode::OK,
            &activities::with_context(json!({
                "id": inner.urls.instance_followers(),
                "type": "OrderedCollection",
                "totalItems": total,
            })),
        ),
        Err(e) => store_failed(e),
    }
}

/// The post that went out when a local initiative was first published.
async fn announcement(State(inner): State<Arc<Inner>>, Path(handle): Path<String>) -> Response {
    let i = match local_initiative(&inner, &handle).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    match inner.fed.published_mark(i.id).await {
        Ok(Some(mark)) => {
            let note = announcement_note(
                &inner.urls,
                &inner.settings.node_name,
                &i,
                mark.published_at,
            );
            ap_json(StatusCode::OK, &activities::with_context(note))
        }
        Ok(None) => json_error(StatusCode::NOT_FOUND, "no such note"),
        Err(e) => store_failed(e),
    }
}

/// The post that went out when a need was added urgent or became urgent.
async fn urgent_need_post(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let need = match inner.store.need_by_id(id).await {
        Ok(Some(n)) => n,
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "no such note"),
        Err(e) => return store_failed(e),
    };
    // When it went out. A post stays what it was when its need is made less urgent later; a
    // need made urgent before these posts were recorded went out at its creation.
    let published = match inner.fed.published_mark(urgent_post_id(need.id)).await {
        Ok(Some(mark)) => mark.published_at,
        Ok(None) if need.urgency.is_urgent() => need.created_at,
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "no such note"),
        Err(e) => return store_failed(e),
    };
    let i = match initiative_of(&inner, need.initiative_id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let note = urgent_need_note(&inner.urls, &i, &need, published);
    ap_json(StatusCode::OK, &activities::with_context(note))
}

/// Only the count: who follows a solidarity initiative is not published.
async fn followers(State(inner): State<Arc<Inner>>, Path(handle): Path<String>) -> Response {
    let i = match local_initiative(&inner, &handle).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let total = match inner
        .fed
        .follower_count(
            LocalActor::Initiative(i.id),
            hromada_store::FollowerState::Accepted,
        )
        .await
    {
        Ok(n) => n,
        Err(e) => return store_failed(e),
    };
    let doc = activities::with_context(json!({
        "id": inner.urls.followers(i.handle.as_str()),
        "type": "OrderedCollection",
        "totalItems": total,
    }));
    ap_json(StatusCode::OK, &doc)
}

/// Pinned posts: the initiative's open needs.
async fn featured(State(inner): State<Arc<Inner>>, Path(handle): Path<String>) -> Response {
    let i = match local_initiative(&inner, &handle).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let needs = match inner.store.needs_of(i.id).await {
        Ok(n) => n,
        Err(e) => return store_failed(e),
    };
    let mut items = Vec::new();
    for n in needs
        .iter()
        .filter(|n| n.status == NeedStatus::Open)
        .take(PAGE_SIZE)
    {
        let mark = match inner.fed.published_mark(n.id).await {
            Ok(m) => m,
            Err(e) => return store_failed(e),
        };
        let (published, updated) = served_dates(mark.as_ref(), n.created_at, n.updated_at);
        items.push(need_note(&inner.urls, &i, n, published, updated));
    }
    let doc = activities::with_context(json!({
        "id": inner.urls.featured(i.handle.as_str()),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    }));
    ap_json(StatusCode::OK, &doc)
}

fn parse_id(raw: &str) -> Result<Uuid, Response> {
    raw.parse()
        .map_err(|_| json_error(StatusCode::NOT_FOUND, "no such object"))
}

async fn initiative_of(inner: &Inner, id: Uuid) -> Result<Initiative, Response> {
    match inner.store.initiative_by_id(id).await {
        Ok(Some(i)) if has_actor(&i) => Ok(i),
        Ok(_) => Err(json_error(StatusCode::NOT_FOUND, "no such object")),
        Err(e) => Err(store_failed(e)),
    }
}

async fn update_object(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match inner.store.is_tombstoned(id).await {
        Ok(true) => return ap_json(StatusCode::GONE, &tombstone(&inner.urls.update(id), "Note")),
        Ok(false) => {}
        Err(e) => return store_failed(e),
    }
    let u = match inner.store.update_by_id(id).await {
        Ok(Some(u)) if u.is_published(Utc::now()) => u,
        Ok(_) => return json_error(StatusCode::NOT_FOUND, "no such object"),
        Err(e) => return store_failed(e),
    };
    let i = match initiative_of(&inner, u.initiative_id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mark = match inner.fed.published_mark(id).await {
        Ok(m) => m,
        Err(e) => return store_failed(e),
    };
    let (published, updated) = served_dates(mark.as_ref(), u.publish_at, u.updated_at);
    ap_json(
        StatusCode::OK,
        &activities::with_context(update_item(
            update_note(&inner.urls, &i, &u, published, updated),
            &u,
        )),
    )
}

async fn need_object(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let n = match inner.store.need_by_id(id).await {
        Ok(Some(n)) => n,
        Ok(None) => return missing_object(&inner, id, inner.urls.need(id), "Note").await,
        Err(e) => return store_failed(e),
    };
    let i = match initiative_of(&inner, n.initiative_id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mark = match inner.fed.published_mark(id).await {
        Ok(m) => m,
        Err(e) => return store_failed(e),
    };
    let (published, updated) = served_dates(mark.as_ref(), n.created_at, n.updated_at);
    ap_json(
        StatusCode::OK,
        &activities::with_context(need_item(
            need_note(&inner.urls, &i, &n, published, updated),
            &n,
        )),
    )
}

async fn event_object_route(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let e = match inner.store.event_by_id(id).await {
        Ok(Some(e)) => e,
        Ok(None) => return missing_object(&inner, id, inner.urls.event(id), "Event").await,
        Err(e) => return store_failed(e),
    };
    let i = match initiative_of(&inner, e.initiative_id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mark = match inner.fed.published_mark(id).await {
        Ok(m) => m,
        Err(e) => return store_failed(e),
    };
    let (published, updated) = served_dates(mark.as_ref(), e.created_at, e.updated_at);
    ap_json(
        StatusCode::OK,
        &activities::with_context(event_item(
            event_object(&inner.urls, &i, &e, published, updated),
            &e,
        )),
    )
}

async fn vouch_object(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    crate::trust::serve(&inner, "vouches", &raw).await
}

async fn warning_object(State(inner): State<Arc<Inner>>, Path(raw): Path<String>) -> Response {
    crate::trust::serve(&inner, "warnings", &raw).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, path: &str, accept: Option<&str>) -> axum::http::request::Parts {
        let mut b = axum::http::Request::builder().method(method).uri(path);
        if let Some(a) = accept {
            b = b.header(header::ACCEPT, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn claims_activitypub_requests_only() {
        let mastodon = Some("application/activity+json, application/ld+json");
        assert!(claims(&parts("GET", "/initiatives/a", mastodon)));
        assert!(claims(&parts(
            "GET",
            "/updates/x",
            Some(r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#)
        )));
        assert!(!claims(&parts("GET", "/initiatives/a", Some("text/html"))));
        assert!(!claims(&parts("GET", "/initiatives/a", None)));
        assert!(claims(&parts("POST", "/initiatives/a/inbox", None)));
        assert!(claims(&parts("POST", "/inbox", None)));
        assert!(claims(&parts(
            "GET",
            "/.well-known/webfinger?resource=x",
            None
        )));
        assert!(claims(&parts("GET", "/actor", None)));
        assert!(!claims(&parts("GET", "/api/v1/initiatives/a", mastodon)));
        assert!(!claims(&parts("GET", "/tags/medical", mastodon)));
        assert!(!claims(&parts("GET", "/initiatives/a/edit", mastodon)));
    }
}
