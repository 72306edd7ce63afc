//! The inbox: verifies, deduplicates and handles activities other servers post to us.
//!
//! Order of checks: body size (axum, 413), JSON shape (400), domain block (403), HTTP
//! signature over the exact body — digest, date window, key of the activity's own actor, with
//! one refetch of that key when verification fails (401). Only then is anything written, and
//! all of it in one [`FedWrite`] together with the activity id (so a repeated delivery
//! changes nothing). Types we do not handle get 202 and are dropped without a trace.

// Handlers return finished responses as their error values; one per request, never stored.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use hromada_domain::markup::sanitize_html;
use hromada_store::{
    Audience, FedWrite, Follower, FollowerState, InboxItem, InboxItemKind, LocalActor, NewActivity,
    Relay, RemoteActor, Target, WriteOutcome, host_matches_domain, inbox_host,
};
use serde_json::Value;
use uuid::Uuid;

use crate::actors::has_actor;
use crate::fetch::{ActorDoc, FetchError, same_origin};
use crate::http::json_error;
use crate::inbox_cache::LocalHandle;
use crate::network::{IngestError, Taken, authority, ingest, ingest_tombstone, is_directory_doc};
use crate::signing::{IncomingSignature, VerifyError, incoming_signature, verify_digest};
use crate::urls::LocalObject;
use crate::{Inner, activities, peers};

/// Longest remote HTML kept for maintainers.
const MAX_CONTENT: usize = 20_000;
/// Most of our own actors or objects looked up for one activity (mentions, a report's objects):
/// a signed activity can name thousands in its 1 MiB, and each lookup may be a query.
pub(crate) const MAX_LOCAL_LOOKUPS: usize = 50;
/// How old a cached key may be and still verify a signature while its actor's server cannot
/// be reached.
const STALE_KEY_USABLE_FOR: chrono::Duration = chrono::Duration::days(30);

pub(crate) async fn shared_inbox(
    State(inner): State<Arc<Inner>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive_to_the_end(inner, uri, headers, body).await
}

pub(crate) async fn actor_inbox(
    State(inner): State<Arc<Inner>>,
    Path(handle): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match local_handle(&inner, &handle).await {
        Ok(Some(_)) => receive_to_the_end(inner, uri, headers, body).await,
        Ok(None) => json_error(StatusCode::NOT_FOUND, "no such actor"),
        Err(response) => response,
    }
}

/// Handles the post in a task of its own, which runs to its end even when the sender hangs up
/// (its request timed out, say, while a remote picture was fetched): hyper then drops the
/// handler. Directory data is stored before its relay and the activity id are written, so a
/// handler dropped in between left a listing stored and never relayed, and the sender's retry
/// found nothing changed to relay.
async fn receive_to_the_end(
    inner: Arc<Inner>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let handling = tokio::spawn(async move { receive(&inner, &uri, &headers, &body).await });
    handling.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "handling an inbox post failed");
        json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

/// The id in a field that holds either an id or an embedded object.
pub(crate) fn id_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

async fn receive(inner: &Inner, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    if hromada_domain::validation::json_holds_nul(body) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "the activity holds a NUL character (\\u0000)",
        );
    }
    let activity: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return json_error(StatusCode::BAD_REQUEST, "the body is not a JSON object"),
    };
    let (Some(id), Some(kind), Some(actor_id)) = (
        activity.get("id").and_then(Value::as_str),
        activity.get("type").and_then(Value::as_str),
        id_of(activity.get("actor")),
    ) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "an activity needs id, type and actor",
        );
    };
    if inner.urls.is_local(actor_id) || inner.urls.is_local(id) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "activities of this node are not accepted from outside",
        );
    }
    if !same_origin(id, actor_id) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "the activity id and its actor are on different hosts",
        );
    }
    match inner.fed.domain_blocks().await {
        Ok(blocks) => {
            let host = inbox_host(actor_id);
            if blocks.iter().any(|b| host_matches_domain(&host, &b.domain)) {
                return json_error(StatusCode::FORBIDDEN, "this domain is blocked here");
            }
        }
        Err(e) => return unavailable(e),
    }

    let (actor, fetched) = match verify(inner, uri, headers, body, actor_id).await {
        Ok(v) => v,
        Err(Refusal::Unauthorized(why)) => {
            tracing::info!(activity = %id, actor = %actor_id, reason = %why, "refused inbox post");
            return json_error(StatusCode::UNAUTHORIZED, &why);
        }
        // A deleted account's own Delete arrives after its profile answers 410 (Mastodon
        // sends it then): signed with the key we had, it is its last word, and we forget it.
        Err(Refusal::Gone(Some(known)))
            if kind == "Delete" && id_of(activity.get("object")) == Some(actor_id) =>
        {
            (*known, false)
        }
        // Anything else from an actor that is gone: nothing of it is kept here.
        Err(Refusal::Gone(_)) => return accepted(),
        Err(Refusal::Unavailable(why)) => return unavailable(why),
    };

    if let Some(domain) = authority(&actor.id)
        && inner.inbox_cache.touch_due(&domain)
        && let Err(e) = inner.fed.touch_peer(&domain, Utc::now()).await
    {
        tracing::warn!(error = %e, "recording a peer's activity failed");
    }
    let network = match crate::trust::receive(inner, kind, &activity, &actor).await {
        Ok(Some(w)) => Some(w),
        Ok(None) => match network(inner, kind, &activity, &actor).await {
            Ok(w) => w,
            Err(response) => return response,
        },
        Err(response) => return response,
    };
    let handled = match network {
        Some(w) => Ok(Some(w)),
        None => handle(inner, kind, id, &activity, &actor).await,
    };
    let mut write = match handled {
        Ok(Some(w)) => w,
        Ok(None) => {
            tracing::debug!(activity = %id, kind, "ignored inbox activity");
            if fetched && let Err(e) = inner.fed.save_remote_actor(&actor).await {
                tracing::warn!(error = %e, "caching a remote actor failed");
            }
            return accepted();
        }
        Err(response) => return response,
    };
    write.received = Some(id.to_string());
    if fetched && write.forget_actor.is_none() && write.remote_actor.is_none() {
        write.remote_actor = Some(actor);
    }
    let outcome = inner.fed.apply(&write).await;
    if let Some(gone) = &write.forget_actor {
        inner.inbox_cache.forget_actor(gone);
    } else if let Some(updated) = &write.remote_actor
        && matches!(outcome, Ok(WriteOutcome::Applied { .. }))
    {
        inner.inbox_cache.put_actor(updated);
    }
    match outcome {
        Ok(WriteOutcome::Duplicate) => accepted(),
        Ok(WriteOutcome::Applied { deliveries }) => {
            // Not at `info`: a flood of posts would be a log write per activity (refusals stay).
            tracing::debug!(activity = %id, kind, "inbox activity handled");
            if deliveries > 0 {
                inner.queued.notify_one();
            }
            accepted()
        }
        Err(e) => unavailable(e),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "inbox failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
}

enum Refusal {
    Unauthorized(String),
    /// The actor's profile answers 410; with the actor as we knew it when the signature
    /// verifies with the key we had.
    Gone(Option<Box<RemoteActor>>),
    Unavailable(String),
}

impl From<VerifyError> for Refusal {
    fn from(e: VerifyError) -> Self {
        Refusal::Unauthorized(e.to_string())
    }
}

/// Checks the HTTP signature; returns the signing actor and whether it was fetched just now.
async fn verify(
    inner: &Inner,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    actor_id: &str,
) -> Result<(RemoteActor, bool), Refusal> {
    if !headers.contains_key("signature") {
        return Err(VerifyError::Missing.into());
    }
    verify_digest(headers, body)?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let window = inner.settings.limits.signature_window;
    let params = if headers.contains_key("host") {
        incoming_signature("post", path, headers, true, now, window)?
    } else {
        // HTTP/2 has no Host header; the signer signed our public host.
        let mut headers = headers.clone();
        if let Ok(v) = HeaderValue::from_str(inner.urls.authority()) {
            headers.insert("host", v);
        }
        incoming_signature("post", path, &headers, true, now, window)?
    };
    if !same_origin(&params.key_id, actor_id) {
        return Err(Refusal::Unauthorized(
            "the key is not the activity actor's".into(),
        ));
    }

    let fresh_after = Utc::now()
        - chrono::Duration::from_std(inner.settings.limits.actor_refresh).unwrap_or_default();
    let cached = inner
        .inbox_cache
        .remote_actor(inner.fed.as_ref(), actor_id)
        .await
        .map_err(|e| Refusal::Unavailable(e.to_string()))?;
    let mut fresh_key_failed = false;
    let stale = match cached.filter(|a| a.key_id == params.key_id) {
        Some(a) if a.fetched_at > fresh_after => {
            if check(inner, &a, &params).await? {
                return Ok((a, false));
            }
            tracing::info!(actor = %actor_id, "signature failed with the cached key; refetching it once");
            fresh_key_failed = true;
            None
        }
        stale => stale,
    };
    // Its key was fetched again a moment ago and did not verify a signature either: badly
    // signed posts naming this actor do not make this node ask its server again and again.
    if inner.inbox_cache.refetched_in_vain(actor_id) {
        let known_key_failed = match stale {
            Some(a) if check(inner, &a, &params).await? => return Ok((a, false)),
            Some(_) => true,
            None => fresh_key_failed,
        };
        return Err(if known_key_failed {
            VerifyError::Invalid(actor_id.to_string()).into()
        } else {
            // No key of it here at all: come back later rather than be dropped for good.
            Refusal::Unavailable(format!(
                "the key of {actor_id} is not fetched again just now"
            ))
        });
    }
    let fetched = match inner.fetcher.actor(&params.key_id).await {
        Ok(a) => a,
        Err(FetchError::Gone(_)) => {
            let known = match stale {
                Some(a) if check(inner, &a, &params).await? => Some(Box::new(a)),
                _ => None,
            };
            return Err(Refusal::Gone(known));
        }
        // The actor's server is down or slow just now: a day-old key still proves who signed
        // (keys rarely change), and without one the sender is asked to come back, as a 401
        // would make it drop the activity for good.
        Err(e) if !e.is_final() => {
            // Within bounds: a key the actor replaced (say, after it leaked) must not keep
            // working for as long as its server is unreachable.
            let usable = stale.filter(|a| a.fetched_at > Utc::now() - STALE_KEY_USABLE_FOR);
            return match usable {
                Some(a) if check(inner, &a, &params).await? => Ok((a, false)),
                _ => Err(Refusal::Unavailable(format!(
                    "could not fetch the signing key just now: {e}"
                ))),
            };
        }
        Err(e) => {
            return Err(Refusal::Unauthorized(format!(
                "could not fetch the signing key: {e}"
            )));
        }
    };
    if fetched.id != actor_id || fetched.key_id != params.key_id {
        return Err(Refusal::Unauthorized(
            "the key belongs to another actor".into(),
        ));
    }
    if check(inner, &fetched, &params).await? {
        inner.inbox_cache.put_actor(&fetched);
        Ok((fetched, true))
    } else {
        // The key just fetched is the actor's current one: its own posts verify with it.
        inner.inbox_cache.put_actor(&fetched);
        inner.inbox_cache.note_refetched_in_vain(actor_id);
        Err(VerifyError::Invalid(actor_id.to_string()).into())
    }
}

async fn check(
    inner: &Inner,
    actor: &RemoteActor,
    params: &IncomingSignature,
) -> Result<bool, Refusal> {
    inner
        .signer
        .verify(
            &actor.key_id,
            &actor.public_key_pem,
            params.signing_string.clone(),
            params.signature.clone(),
        )
        .await
        .map_err(|e| Refusal::Unauthorized(format!("unusable key: {e}")))
}

/// A local actor named by URL, with its initiative (none for the instance actor).
async fn local_actor(
    inner: &Inner,
    url: &str,
) -> Result<Option<(LocalActor, String, bool)>, Response> {
    if url == inner.urls.instance_actor() {
        return Ok(Some((LocalActor::Instance, url.to_string(), false)));
    }
    let Some(handle) = inner.urls.handle_of_actor(url) else {
        return Ok(None);
    };
    Ok(local_handle(inner, handle)
        .await?
        .map(|(id, manual, handle)| {
            (
                LocalActor::Initiative(id),
                inner.urls.actor(&handle),
                manual,
            )
        }))
}

/// The initiative actor of a local handle (cached until the directory changes).
async fn local_handle(inner: &Inner, handle: &str) -> Result<LocalHandle, Response> {
    let version = inner.docs.watch.version(inner.store.as_ref()).await;
    if let Some(found) = inner.inbox_cache.handle(handle, version) {
        return Ok(found);
    }
    let found = match inner.store.initiative_by_handle(handle, None).await {
        Ok(Some(i)) if has_actor(&i) => Some((
            i.id,
            i.manually_approves_followers,
            i.handle.as_str().to_string(),
        )),
        Ok(_) => None,
        Err(e) => return Err(unavailable(e)),
    };
    inner.inbox_cache.put_handle(handle, version, found.clone());
    Ok(found)
}

/// What an activity changes; `None` when it is ignored.
async fn handle(
    inner: &Inner,
    kind: &str,
    id: &str,
    activity: &Value,
    actor: &RemoteActor,
) -> Result<Option<FedWrite>, Response> {
    let object = activity.get("object");
    let mut write = FedWrite::default();
    match kind {
        "Follow" => {
            let Some(target) = id_of(object) else {
                return Err(json_error(StatusCode::BAD_REQUEST, "Follow without object"));
            };
            let Some((local, local_url, manual)) = local_actor(inner, target).await? else {
                return Ok(None);
            };
            // A follower that follows again (Mastodon does when it thinks it is not following)
            // stays accepted: asking the maintainers again would stop its posts meanwhile.
            let accepted_before = manual
                && inner
                    .fed
                    .follower(local, &actor.id)
                    .await
                    .map_err(unavailable)?
                    .is_some_and(|f| f.state == FollowerState::Accepted);
            let manual = manual && !accepted_before;
            let follower = Follower {
                local,
                actor_id: actor.id.clone(),
                follow_id: id.to_string(),
                inbox: actor.inbox.clone(),
                shared_inbox: actor.shared_inbox.clone(),
                state: if manual {
                    FollowerState::Pending
                } else {
                    FollowerState::Accepted
                },
                created_at: Utc::now(),
            };
            if !manual {
                // The Accept goes through the durable queue like everything else.
                let accept = activities::answer_follow(
                    "Accept",
                    &local_url,
                    activity,
                    &Uuid::new_v4().to_string(),
                );
                let inbox = follower.delivery_inbox().to_string();
                write.activities.push(NewActivity {
                    activity_id: accept["id"].as_str().unwrap_or_default().to_string(),
                    actor: local,
                    body: accept.to_string(),
                    audience: Audience::Inboxes(vec![Target {
                        host: inbox_host(&inbox),
                        inbox,
                    }]),
                });
            }
            write.follow.push(follower);
        }
        "Undo" => match object {
            Some(Value::String(follow_id)) => {
                match inner.fed.follower_by_follow_id(follow_id).await {
                    Ok(Some(f)) if f.actor_id == actor.id => {
                        write.unfollow.push((f.local, f.actor_id))
                    }
                    Ok(_) => return Ok(None),
                    Err(e) => return Err(unavailable(e)),
                }
            }
            Some(o @ Value::Object(_))
                if o.get("type").and_then(Value::as_str) == Some("Follow") =>
            {
                if id_of(o.get("actor")) != Some(actor.id.as_str()) {
                    return Err(json_error(
                        StatusCode::BAD_REQUEST,
                        "an actor can only undo its own follow",
                    ));
                }
                let Some(target) = id_of(o.get("object")) else {
                    return Ok(None);
                };
                let Some((local, ..)) = local_actor(inner, target).await? else {
                    return Ok(None);
                };
                write.unfollow.push((local, actor.id.clone()));
            }
            _ => return Ok(None),
        },
        "Update" => {
            let Some(doc) = object.filter(|o| id_of(Some(o)) == Some(actor.id.as_str())) else {
                return Ok(None);
            };
            let doc = serde_json::from_value::<ActorDoc>(doc.clone()).map_err(|e| {
                json_error(StatusCode::BAD_REQUEST, &format!("not a usable actor: {e}"))
            })?;
            match doc.into_remote() {
                Ok(updated) => write.remote_actor = Some(updated),
                Err(e) => return Err(json_error(StatusCode::BAD_REQUEST, &e.to_string())),
            }
        }
        "Delete" => {
            let Some(target) = id_of(object) else {
                return Ok(None);
            };
            if target == actor.id {
                write.forget_actor = Some(actor.id.clone());
            } else if same_origin(target, &actor.id) {
                write
                    .forget_objects
                    .push((actor.id.clone(), target.to_string()));
            } else {
                return Ok(None);
            }
        }
        "Create" => {
            let Some(note) = object.filter(|o| o.is_object()) else {
                return Ok(None);
            };
            let Some(note_id) = id_of(Some(note)).filter(|n| same_origin(n, &actor.id)) else {
                return Ok(None);
            };
            if id_of(note.get("attributedTo")).is_some_and(|a| a != actor.id) {
                return Ok(None);
            }
            let items = addressed_items(inner, id, note_id, note, actor).await?;
            if items.is_empty() {
                return Ok(None);
            }
            write.inbox_items = items;
        }
        "Flag" => {
            // Only what is ours is looked up and kept: a Flag naming thousands of objects
            // stores no more than one naming a few.
            let objects: Vec<String> = match object {
                Some(Value::Array(a)) => a.iter().map(Some).collect(),
                other => vec![other],
            }
            .into_iter()
            .filter_map(id_of)
            .filter(|o| inner.urls.is_local(o))
            .take(MAX_LOCAL_LOOKUPS)
            .map(String::from)
            .collect();
            if objects.is_empty() {
                return Ok(None);
            }
            if let Some(reported) =
                crate::trust::flag_report(inner, id, activity, actor, &objects).await?
            {
                return Ok(Some(reported));
            }
            write.inbox_items.push(InboxItem {
                id: Uuid::new_v4(),
                kind: InboxItemKind::Flag,
                initiative_id: None,
                activity_id: id.to_string(),
                actor_id: actor.id.clone(),
                object_id: objects.join(" "),
                content_html: clean(activity.get("content")),
                in_reply_to: None,
                received_at: Utc::now(),
            });
        }
        _ => return Ok(None),
    }
    Ok(Some(write))
}

fn clean(content: Option<&Value>) -> String {
    let raw = content.and_then(Value::as_str).unwrap_or_default();
    let cut: String = raw.chars().take(MAX_CONTENT).collect();
    sanitize_html(&cut)
}

/// The initiative owning the update, need or event at `url`, when `url` is one of ours.
pub(crate) async fn owner_of_local_object(
    inner: &Inner,
    url: &str,
) -> Result<Option<Uuid>, hromada_store::StoreError> {
    let Some((kind, id)) = inner.urls.local_object(url) else {
        return Ok(None);
    };
    Ok(match kind {
        LocalObject::Update => inner.store.update_by_id(id).await?.map(|u| u.initiative_id),
        LocalObject::Need => inner.store.need_by_id(id).await?.map(|n| n.initiative_id),
        LocalObject::Event => inner.store.event_by_id(id).await?.map(|e| e.initiative_id),
    })
}

/// Inbox items for the initiatives a post replies to or mentions.
async fn addressed_items(
    inner: &Inner,
    activity_id: &str,
    note_id: &str,
    note: &Value,
    actor: &RemoteActor,
) -> Result<Vec<InboxItem>, Response> {
    let mut found: Vec<(Uuid, InboxItemKind, Option<String>)> = Vec::new();
    if let Some(reply_to) = id_of(note.get("inReplyTo"))
        && let Some(initiative_id) = owner_of_local_object(inner, reply_to)
            .await
            .map_err(unavailable)?
    {
        found.push((
            initiative_id,
            InboxItemKind::Reply,
            Some(reply_to.to_string()),
        ));
    }
    let mut addressed: Vec<&str> = Vec::new();
    for field in ["to", "cc"] {
        match note.get(field) {
            Some(Value::Array(a)) => addressed.extend(a.iter().filter_map(Value::as_str)),
            Some(Value::String(s)) => addressed.push(s),
            _ => {}
        }
    }
    if let Some(Value::Array(tags)) = note.get("tag") {
        addressed.extend(
            tags.iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
                .filter_map(|t| t.get("href").and_then(Value::as_str)),
        );
    }
    addressed.retain(|url| inner.urls.handle_of_actor(url).is_some());
    addressed.sort_unstable();
    addressed.dedup();
    for url in addressed.into_iter().take(MAX_LOCAL_LOOKUPS) {
        if let Some((LocalActor::Initiative(initiative_id), ..)) = local_actor(inner, url).await?
            && !found.iter().any(|f| f.0 == initiative_id)
        {
            found.push((initiative_id, InboxItemKind::Mention, None));
        }
    }
    let content = clean(note.get("content"));
    Ok(found
        .into_iter()
        .map(|(initiative_id, kind, in_reply_to)| InboxItem {
            id: Uuid::new_v4(),
            kind,
            initiative_id: Some(initiative_id),
            activity_id: activity_id.to_string(),
            actor_id: actor.id.clone(),
            object_id: note_id.to_string(),
            content_html: content.clone(),
            in_reply_to,
            received_at: Utc::now(),
        })
        .collect())
}

fn peer_failed(e: peers::PeerError) -> Response {
    match e {
        // Refused for good: a retry would be refused the same way.
        peers::PeerError::Invalid(why) => {
            tracing::info!(reason = %why, "refused a node follow");
            json_error(StatusCode::FORBIDDEN, &why.to_string())
        }
        e => unavailable(e),
    }
}

fn ingest_failed(e: IngestError) -> Response {
    match e {
        IngestError::Forged(why) => {
            tracing::info!(reason = %why, "refused a forged listing");
            json_error(StatusCode::FORBIDDEN, &format!("refused: {why}"))
        }
        IngestError::Invalid(why) => json_error(StatusCode::BAD_REQUEST, &why),
        // What the sender named is not served by its origin (not found, not a listing): a
        // retry would be refused the same way.
        IngestError::Fetch(e) if e.is_final() => {
            tracing::info!(reason = %e, "refused directory data its origin does not serve");
            json_error(
                StatusCode::FORBIDDEN,
                &format!("refused: its origin does not serve it ({e})"),
            )
        }
        // The origin could not be asked, or storing failed: the sender retries later.
        e => unavailable(e),
    }
}

/// Node-to-node activities: node follows and their answers, directory data from nodes this
/// node follows, and relays. `None` when the activity is not one of those.
async fn network(
    inner: &Inner,
    kind: &str,
    activity: &Value,
    actor: &RemoteActor,
) -> Result<Option<FedWrite>, Response> {
    let object = activity.get("object");
    match kind {
        "Follow" if peers::is_peering_follow(inner, activity, actor) => {
            peers::on_follow(inner, activity, actor)
                .await
                .map(Some)
                .map_err(peer_failed)
        }
        "Accept" | "Reject" => {
            let answered = peers::on_answer(inner, kind, activity, actor)
                .await
                .map_err(peer_failed)?;
            Ok(answered.then(FedWrite::default))
        }
        "Undo" => match id_of(object) {
            Some(follow_id) => {
                let undone = peers::on_undo(inner, follow_id, actor)
                    .await
                    .map_err(peer_failed)?;
                Ok(undone.then(FedWrite::default))
            }
            None => Ok(None),
        },
        // Posts and profile updates from anyone are not directory data: no peer lookup.
        "Update" | "Create" if !object.is_some_and(|o| o.is_object() && is_directory_doc(o)) => {
            Ok(None)
        }
        "Update" | "Create" | "Delete" | "Announce" => {
            let Some(domain) = followed_peer(inner, actor).await? else {
                return Ok(None);
            };
            let Some(object_id) = id_of(object).map(String::from) else {
                return Ok(None);
            };
            let arrived = match kind {
                "Announce" => relayed(inner, &domain, &object_id).await?,
                "Delete" if object_id != actor.id => ingest_tombstone(inner, &object_id, &actor.id)
                    .await
                    .map(|changed| Some(Arrived::Deleted { changed }))
                    .map_err(ingest_failed)?,
                "Delete" => return Ok(None),
                _ => match object {
                    Some(doc) if doc.is_object() && is_directory_doc(doc) => {
                        ingest(inner, doc, &actor.id, &domain)
                            .await
                            .map(Arrived::current)
                            .map_err(ingest_failed)?
                    }
                    _ => return Ok(None),
                },
            };
            let mut write = FedWrite::default();
            if let Some(arrived) = arrived {
                relay(inner, &object_id, arrived, &domain, &mut write)
                    .await
                    .map_err(unavailable)?;
            }
            Ok(Some(write))
        }
        _ => Ok(None),
    }
}

/// The domain of the sender when this node follows it (accepted) as a peer.
async fn followed_peer(inner: &Inner, actor: &RemoteActor) -> Result<Option<String>, Response> {
    let Some(domain) = authority(&actor.id) else {
        return Ok(None);
    };
    match inner.fed.peer(&domain).await {
        Ok(Some(p))
            if p.actor_id == actor.id && p.outgoing == Some(hromada_store::PeerState::Accepted) =>
        {
            Ok(Some(domain))
        }
        Ok(_) => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

/// A listing a peer relays: verified by fetching it from its origin (410 there: deleted).
async fn relayed(inner: &Inner, peer: &str, object_id: &str) -> Result<Option<Arrived>, Response> {
    match inner.fed.peer(peer).await {
        Ok(Some(p)) if p.refuse_relayed => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(unavailable(e)),
    }
    if inner.urls.is_local(object_id) {
        return Ok(None);
    }
    let Some(origin) = authority(object_id) else {
        return Ok(None);
    };
    match peers::is_blocked(inner, &origin).await {
        Ok(true) => return Ok(None),
        Ok(false) => {}
        Err(e) => return Err(unavailable(e)),
    }
    match inner.fetcher.get(object_id).await {
        Ok(fetched) => {
            if id_of(Some(&fetched.json)) != Some(object_id) {
                return Err(ingest_failed(IngestError::Forged(format!(
                    "{object_id} answered with another id"
                ))));
            }
            // Fetched from the object's own host: that is its proof.
            ingest(inner, &fetched.json, fetched.url.as_str(), peer)
                .await
                .map(Arrived::current)
                .map_err(ingest_failed)
        }
        Err(FetchError::Gone(_)) => ingest_tombstone(inner, object_id, object_id)
            .await
            .map(|changed| Some(Arrived::Deleted { changed }))
            .map_err(ingest_failed),
        Err(e) => Err(ingest_failed(IngestError::Fetch(e))),
    }
}

/// What a delivery or relay of directory data left here, to be relayed further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrived {
    /// The version (`updated`) stored here now.
    Stored(DateTime<Utc>),
    /// The object is gone here; `changed` when this activity deleted it.
    Deleted { changed: bool },
}

impl Arrived {
    /// Only a copy that is the one stored here now is relayed.
    pub(crate) fn current(taken: Taken) -> Option<Self> {
        taken.version.map(Arrived::Stored)
    }
}

/// Relays a version of an object taken here by other means than its own delivery (a backfill
/// page, a fetch): when its delivery comes it changes nothing, and would not be relayed then.
pub(crate) async fn relay_now(
    inner: &Inner,
    id: &str,
    version: DateTime<Utc>,
    from: &str,
) -> Result<(), hromada_store::StoreError> {
    let mut write = FedWrite::default();
    relay(inner, id, Arrived::Stored(version), from, &mut write).await?;
    if !write.relays.is_empty() {
        inner.fed.apply(&write).await?;
        inner.queued.notify_one();
    }
    Ok(())
}

/// Announces a listing stored (or deleted) here to the peers that follow this node, except the
/// one it came from and its origin. Each version is relayed once (the store keeps a relay mark
/// with the Announce), so a cycle of relaying nodes dies out, and a version whose relay could
/// not be queued is relayed when its sender retries, though nothing changes here then.
pub(crate) async fn relay(
    inner: &Inner,
    object_id: &str,
    arrived: Arrived,
    from: &str,
    write: &mut FedWrite,
) -> Result<(), hromada_store::StoreError> {
    if !inner.settings.relay {
        return Ok(());
    }
    let origin = authority(object_id).unwrap_or_default();
    let targets = peers::peer_targets(inner, &[from, origin.as_str()]).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let (version, only_after_another) = match arrived {
        Arrived::Stored(at) => (at.to_rfc3339_opts(SecondsFormat::Micros, true), false),
        Arrived::Deleted { changed } => ("deleted".to_string(), !changed),
    };
    write.relays.push(Relay {
        object_url: object_id.to_string(),
        version,
        only_after_another,
        activity: relay_announce(inner, Value::from(object_id), targets),
    });
    Ok(())
}

/// The instance actor's `Announce` of `object` (an id, or an embedded object) to peers.
pub(crate) fn relay_announce(inner: &Inner, object: Value, targets: Vec<Target>) -> NewActivity {
    let me = inner.urls.instance_actor();
    let id = format!("{me}#relay/{}", Uuid::new_v4());
    let body = activities::with_context(serde_json::json!({
        "id": id,
        "type": "Announce",
        "actor": me,
        "to": [crate::urls::PUBLIC],
        "object": object,
    }));
    NewActivity {
        activity_id: id,
        actor: LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Inboxes(targets),
    }
}
