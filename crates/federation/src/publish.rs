//! The publisher: turns the store's change feed into activities in the durable queue.
//!
//! Each change is handled in one [`FedWrite`]: the activity, one delivery per follower shared
//! inbox, the published mark and the cursor move commit together, so a crash never loses or
//! doubles a post. The cursor moves by compare-and-set, so two processes on one database
//! never publish the same change twice. Updates published later on purpose are scheduled
//! and go out (as `Create`) when due.

use std::sync::Arc;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use hromada_domain::Initiative;
use hromada_store::{
    Audience, Change, ChangeKind, CursorMove, DeletedKey, FedWrite, FollowerState, LocalActor,
    NewActivity, ObjectKind, PublishedMark, ScheduledPost, StoreError,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::actors::{group, has_actor, publishes};
use crate::network::{with_item, with_listing};
use crate::objects::{
    announcement_note, event_object, need_note, update_note, urgent_need_note, urgent_post_id,
};
use crate::urls::PUBLIC;
use crate::{FederationError, Inner, activities, peers};

const BATCH: u32 = 50;

pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    loop {
        let idle = match drain(&inner).await {
            Ok(0) => true,
            Ok(_) => {
                inner.queued.notify_one();
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "publishing failed; retrying");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(inner.settings.limits.poll_interval) => {}
                _ = inner.changed.notified() => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
    }
}

/// Handles every pending change and every due scheduled post; returns how many there were.
pub(crate) async fn drain(inner: &Inner) -> Result<usize, FederationError> {
    let mut handled = publish_due(inner).await?;
    loop {
        let cursor = inner.fed.feed_cursor().await?;
        let changes = inner.store.changes_after(cursor, BATCH).await?;
        if changes.is_empty() {
            return Ok(handled);
        }
        let mut from = cursor;
        for change in changes {
            let mut write = FedWrite {
                cursor: Some(CursorMove {
                    from,
                    to: change.seq,
                }),
                ..Default::default()
            };
            plan(inner, &change, &mut write).await?;
            match inner.fed.apply(&write).await {
                Ok(_) => {}
                // Another process handled it first; start again from its cursor.
                Err(StoreError::Conflict(_)) if inner.fed.feed_cursor().await? != from => break,
                Err(e @ StoreError::Conflict(_)) => return Err(e.into()),
                Err(e) => return Err(e.into()),
            }
            if !write.activities.is_empty() {
                inner.queued.notify_one();
            }
            from = change.seq;
            handled += 1;
        }
    }
}

/// An object's `published` and `updated` as served and sent: `published` is when its
/// `Create` went out (never backdated: Mastodon only puts fresh posts in home timelines).
fn dates(
    mark: Option<&PublishedMark>,
    natural: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let published = mark.map(|m| m.published_at).unwrap_or(natural);
    let edited = (updated_at > published + ChronoDuration::seconds(1)).then_some(updated_at);
    (published, edited)
}

pub(crate) fn served_dates(
    mark: Option<&PublishedMark>,
    natural: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    dates(mark, natural, updated_at)
}

/// Adds to `write` what one change means for followers.
async fn plan(inner: &Inner, change: &Change, write: &mut FedWrite) -> Result<(), FederationError> {
    if change.kind == ChangeKind::InitiativeDeleted {
        return plan_deletion(inner, change, write).await;
    }
    if crate::trust::is_trust_change(change.kind) {
        return crate::trust::plan(inner, change, write).await;
    }
    let Some(initiative) = inner.store.initiative_by_id(change.initiative_id).await? else {
        return Ok(());
    };
    // A post dated in the future goes on the schedule whatever the initiative's state (a
    // pending one may be approved by then, an archived one listed again): `publish_due`
    // decides when it is due.
    if !publishes(&initiative)
        && initiative.is_local()
        && matches!(
            change.kind,
            ChangeKind::UpdateCreated | ChangeKind::UpdateEdited
        )
        && let Some(update) = inner.store.update_by_id(change.entity_id).await?
        && update.publish_at > Utc::now()
        && inner.fed.published_mark(update.id).await?.is_none()
    {
        write.schedule.push(ScheduledPost {
            object_id: update.id,
            initiative_id: initiative.id,
            due_at: update.publish_at,
        });
    }
    if !has_actor(&initiative) {
        return Ok(());
    }
    plan_network(inner, change, &initiative, write).await?;
    let urls = &inner.urls;
    let actor = urls.actor(initiative.handle.as_str());
    let followers = urls.followers(initiative.handle.as_str());
    let local = LocalActor::Initiative(initiative.id);
    let send = |write: &mut FedWrite, body: Value| {
        let activity_id = body
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        write.activities.push(NewActivity {
            activity_id,
            actor: local,
            body: body.to_string(),
            audience: Audience::Followers(local),
        });
    };
    let now = Utc::now();
    match change.kind {
        // Deletions are planned by `plan_deletion`, before the initiative is looked up.
        ChangeKind::InitiativeCreated | ChangeKind::InitiativeDeleted => {}
        // Sent by `trust::plan`.
        ChangeKind::VouchIssued
        | ChangeKind::VouchWithdrawn
        | ChangeKind::WarningIssued
        | ChangeKind::WarningWithdrawn
        | ChangeKind::ReportFiled => {}
        ChangeKind::InitiativeUpdated => {
            // Nobody to tell (e.g. just approved): do not create a key pair only to throw the
            // activity away.
            if inner
                .fed
                .follower_count(local, FollowerState::Accepted)
                .await?
                == 0
            {
                return Ok(());
            }
            let keypair = inner.keys.get(local).await?;
            let doc = group(urls, &initiative, &keypair.public_key_pem);
            send(write, activities::update_actor(doc, &followers, change.seq));
        }
        ChangeKind::UpdateDeleted => {
            write.unschedule.push(change.entity_id);
            if let Some(mut mark) = inner.fed.published_mark(change.entity_id).await?
                && !mark.deleted
            {
                send(
                    write,
                    activities::delete(&actor, &followers, &urls.update(change.entity_id), "Note"),
                );
                mark.deleted = true;
                write.published.push(mark);
            }
        }
        _ if !publishes(&initiative) => {}
        ChangeKind::UpdateCreated | ChangeKind::UpdateEdited => {
            let Some(update) = inner.store.update_by_id(change.entity_id).await? else {
                return Ok(());
            };
            let mark = inner.fed.published_mark(update.id).await?;
            match mark {
                None if update.publish_at > now => write.schedule.push(ScheduledPost {
                    object_id: update.id,
                    initiative_id: initiative.id,
                    due_at: update.publish_at,
                }),
                None => {
                    let note = update_note(urls, &initiative, &update, now, None);
                    created(
                        write,
                        &send,
                        &actor,
                        &followers,
                        note,
                        ObjectKind::Update,
                        update.id,
                        &initiative,
                        now,
                    );
                }
                Some(m) if !m.deleted => {
                    let (published, edited) = dates(Some(&m), update.publish_at, update.updated_at);
                    let note = update_note(
                        urls,
                        &initiative,
                        &update,
                        published,
                        Some(edited.unwrap_or(now)),
                    );
                    send(
                        write,
                        activities::update(&actor, &followers, note, change.seq),
                    );
                }
                Some(_) => {}
            }
        }
        ChangeKind::NeedCreated | ChangeKind::NeedUpdated => {
            let Some(need) = inner.store.need_by_id(change.entity_id).await? else {
                return Ok(());
            };
            match inner.fed.published_mark(need.id).await? {
                None => {
                    let note = need_note(urls, &initiative, &need, now, None);
                    created(
                        write,
                        &send,
                        &actor,
                        &followers,
                        note,
                        ObjectKind::Need,
                        need.id,
                        &initiative,
                        now,
                    );
                }
                Some(m) if !m.deleted => {
                    let (published, edited) = dates(Some(&m), need.created_at, need.updated_at);
                    let note = need_note(
                        urls,
                        &initiative,
                        &need,
                        published,
                        Some(edited.unwrap_or(now)),
                    );
                    send(
                        write,
                        activities::update(&actor, &followers, note, change.seq),
                    );
                }
                Some(_) => {}
            }
        }
        ChangeKind::EventCreated | ChangeKind::EventUpdated => {
            let Some(event) = inner.store.event_by_id(change.entity_id).await? else {
                return Ok(());
            };
            match inner.fed.published_mark(event.id).await? {
                None => {
                    let object = event_object(urls, &initiative, &event, now, None);
                    created(
                        write,
                        &send,
                        &actor,
                        &followers,
                        object,
                        ObjectKind::Event,
                        event.id,
                        &initiative,
                        now,
                    );
                }
                Some(m) if !m.deleted => {
                    let (published, edited) = dates(Some(&m), event.created_at, event.updated_at);
                    let object = event_object(
                        urls,
                        &initiative,
                        &event,
                        published,
                        Some(edited.unwrap_or(now)),
                    );
                    send(
                        write,
                        activities::update(&actor, &followers, object, change.seq),
                    );
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn created(
    write: &mut FedWrite,
    send: &impl Fn(&mut FedWrite, Value),
    actor: &str,
    followers: &str,
    object: Value,
    kind: ObjectKind,
    object_id: Uuid,
    initiative: &Initiative,
    now: DateTime<Utc>,
) {
    send(write, activities::create(actor, followers, object));
    write.unschedule.push(object_id);
    write.published.push(PublishedMark {
        object_id,
        kind,
        initiative_id: initiative.id,
        published_at: now,
        deleted: false,
    });
}

/// Sends the `Create` of delayed updates whose time has come.
async fn publish_due(inner: &Inner) -> Result<usize, FederationError> {
    let now = Utc::now();
    let due = inner.fed.due_scheduled(now, BATCH).await?;
    let count = due.len();
    for post in due {
        let mut write = FedWrite::default();
        let update = inner.store.update_by_id(post.object_id).await?;
        let initiative = inner.store.initiative_by_id(post.initiative_id).await?;
        match (update, initiative) {
            (Some(u), _) if u.publish_at > now => {
                write.schedule.push(ScheduledPost {
                    due_at: u.publish_at,
                    ..post
                });
            }
            (Some(u), Some(i))
                if publishes(&i) && inner.fed.published_mark(u.id).await?.is_none() =>
            {
                let urls = &inner.urls;
                let actor = urls.actor(i.handle.as_str());
                let followers = urls.followers(i.handle.as_str());
                let local = LocalActor::Initiative(i.id);
                let send = |write: &mut FedWrite, body: Value| {
                    let activity_id = body
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    write.activities.push(NewActivity {
                        activity_id,
                        actor: local,
                        body: body.to_string(),
                        audience: Audience::Followers(local),
                    });
                };
                let note = update_note(urls, &i, &u, now, None);
                let targets = peers::peer_targets(inner, &[]).await?;
                if !targets.is_empty() {
                    let object = update_item(note.clone(), &u);
                    let id = format!("{}#sync/due", urls.update(u.id));
                    sync(&mut write, inner, id, "Update", object, targets);
                }
                created(
                    &mut write,
                    &send,
                    &actor,
                    &followers,
                    note,
                    ObjectKind::Update,
                    u.id,
                    &i,
                    now,
                );
            }
            _ => write.unschedule.push(post.object_id),
        }
        match inner.fed.apply(&write).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if !write.activities.is_empty() {
            inner.queued.notify_one();
        }
    }
    Ok(count)
}

/// A whole initiative was deleted: its fediverse followers get the `Delete` of the actor,
/// signed by the actor itself (the way Mastodon announces a deleted account), and peers that
/// follow this node get a `Delete` of its listing from the instance actor.
async fn plan_deletion(
    inner: &Inner,
    change: &Change,
    write: &mut FedWrite,
) -> Result<(), FederationError> {
    let Some(gone) = inner
        .store
        .deleted_initiative(DeletedKey::Id(change.initiative_id))
        .await?
    else {
        return Ok(());
    };
    let actor = inner.urls.actor(&gone.handle);
    let local = LocalActor::Initiative(gone.id);
    if inner
        .fed
        .follower_count(local, FollowerState::Accepted)
        .await?
        > 0
    {
        let body = activities::delete_actor(&actor);
        write.activities.push(NewActivity {
            activity_id: body["id"].as_str().unwrap_or_default().to_string(),
            actor: local,
            body: body.to_string(),
            audience: Audience::Followers(local),
        });
    }
    let targets = peers::peer_targets(inner, &[]).await?;
    if !targets.is_empty() {
        let tombstone =
            serde_json::json!({"id": actor, "type": "Tombstone", "formerType": "Group"});
        let id = format!("{actor}#sync/{}", change.seq);
        sync(write, inner, id, "Delete", tombstone, targets);
    }
    Ok(())
}

/// A need, update or event object with its structured form for other Hromada nodes.
pub(crate) fn need_item(object: Value, n: &hromada_domain::Need) -> Value {
    with_item(object, "need", serde_json::to_value(n).unwrap_or_default())
}

pub(crate) fn update_item(object: Value, u: &hromada_domain::Update) -> Value {
    with_item(
        object,
        "update",
        serde_json::to_value(u).unwrap_or_default(),
    )
}

pub(crate) fn event_item(object: Value, e: &hromada_domain::Event) -> Value {
    with_item(object, "event", serde_json::to_value(e).unwrap_or_default())
}

/// Queues a directory activity of the instance actor to peers that follow this node.
fn sync(
    write: &mut FedWrite,
    inner: &Inner,
    id: String,
    kind: &str,
    mut object: Value,
    targets: Vec<hromada_store::Target>,
) {
    if let Value::Object(map) = &mut object {
        map.remove("@context");
    }
    let body = activities::with_context(serde_json::json!({
        "id": id,
        "type": kind,
        "actor": inner.urls.instance_actor(),
        "to": [PUBLIC],
        "object": object,
    }));
    write.activities.push(NewActivity {
        activity_id: id,
        actor: LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Inboxes(targets),
    });
}

/// A post of the instance actor for fediverse accounts that follow the node.
fn instance_post(write: &mut FedWrite, inner: &Inner, note: Value) {
    let urls = &inner.urls;
    let body = activities::create(&urls.instance_actor(), &urls.instance_followers(), note);
    write.activities.push(NewActivity {
        activity_id: body["id"].as_str().unwrap_or_default().to_string(),
        actor: LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Followers(LocalActor::Instance),
    });
}

/// The instance actor's post about an urgent need, once per need: when it is added urgent, or
/// when an edit first makes it urgent. Then `published` is the moment of that edit, so that the
/// post shows as new in followers' timelines, not under the need's creation weeks ago.
async fn announce_urgent(
    inner: &Inner,
    write: &mut FedWrite,
    initiative: &Initiative,
    need: &hromada_domain::Need,
    kind: ChangeKind,
) -> Result<(), FederationError> {
    let object_id = urgent_post_id(need.id);
    let posted = write.published.iter().any(|m| m.object_id == object_id)
        || inner.fed.published_mark(object_id).await?.is_some();
    if posted {
        return Ok(());
    }
    let mut at = match kind {
        ChangeKind::NeedCreated => need.created_at,
        _ => Utc::now(),
    };
    let note = urgent_need_note(&inner.urls, initiative, need, at);
    let create_id = format!("{}#create", note["id"].as_str().unwrap_or_default());
    if inner.fed.is_sent(&create_id).await? {
        // Posted at its creation by a version that kept no record: record that, instead of
        // sending again under an id that is taken.
        at = need.created_at;
    } else {
        instance_post(write, inner, note);
    }
    write.published.push(PublishedMark {
        object_id,
        kind: ObjectKind::UrgentNeed,
        initiative_id: initiative.id,
        published_at: at,
        deleted: false,
    });
    Ok(())
}

/// What a change of a local listing means for peers (directory data, signed by the instance
/// actor) and for fediverse accounts following the node (new initiatives, urgent needs).
async fn plan_network(
    inner: &Inner,
    change: &Change,
    initiative: &Initiative,
    write: &mut FedWrite,
) -> Result<(), FederationError> {
    let urls = &inner.urls;
    let targets = peers::peer_targets(inner, &[]).await?;
    let now = Utc::now();
    let seq = change.seq;
    match change.kind {
        ChangeKind::InitiativeCreated | ChangeKind::InitiativeUpdated => {
            let actor = urls.actor(initiative.handle.as_str());
            if !targets.is_empty() {
                let kp = inner
                    .keys
                    .get(LocalActor::Initiative(initiative.id))
                    .await?;
                let doc = with_listing(group(urls, initiative, &kp.public_key_pem), initiative);
                sync(
                    write,
                    inner,
                    format!("{actor}#listing/{seq}"),
                    "Update",
                    doc,
                    targets.clone(),
                );
            }
            if initiative.status == hromada_domain::InitiativeStatus::Published
                && inner.fed.published_mark(initiative.id).await?.is_none()
            {
                let note = announcement_note(urls, &inner.settings.node_name, initiative, now);
                instance_post(write, inner, note);
                // What it gathered while only this node saw it (pending) went to no peer.
                if !targets.is_empty() {
                    for object in crate::backfill::listing_objects(inner, initiative).await? {
                        let Some(object_id) = object.get("id").and_then(Value::as_str) else {
                            continue;
                        };
                        let id = format!("{object_id}#sync/{seq}");
                        sync(write, inner, id, "Update", object, targets.clone());
                    }
                }
                write.published.push(PublishedMark {
                    object_id: initiative.id,
                    kind: ObjectKind::Initiative,
                    initiative_id: initiative.id,
                    published_at: now,
                    deleted: false,
                });
            }
        }
        ChangeKind::NeedCreated | ChangeKind::NeedUpdated => {
            let Some(need) = inner.store.need_by_id(change.entity_id).await? else {
                return Ok(());
            };
            if !targets.is_empty() {
                let mark = inner.fed.published_mark(need.id).await?;
                let (p, u) = dates(mark.as_ref(), need.created_at, need.updated_at);
                let object = need_item(need_note(urls, initiative, &need, p, u), &need);
                let id = format!("{}#sync/{seq}", urls.need(need.id));
                sync(write, inner, id, "Update", object, targets);
            }
            if need.urgency.is_urgent() && publishes(initiative) {
                announce_urgent(inner, write, initiative, &need, change.kind).await?;
            }
        }
        ChangeKind::UpdateCreated | ChangeKind::UpdateEdited => {
            let Some(update) = inner.store.update_by_id(change.entity_id).await? else {
                return Ok(());
            };
            // Scheduled updates go to peers when they are due (see `publish_due`).
            if targets.is_empty() || update.publish_at > now {
                return Ok(());
            }
            let mark = inner.fed.published_mark(update.id).await?;
            let (p, u) = dates(mark.as_ref(), update.publish_at, update.updated_at);
            let object = update_item(update_note(urls, initiative, &update, p, u), &update);
            let id = format!("{}#sync/{seq}", urls.update(update.id));
            sync(write, inner, id, "Update", object, targets);
        }
        ChangeKind::UpdateDeleted => {
            if !targets.is_empty() {
                let object_id = urls.update(change.entity_id);
                let object =
                    serde_json::json!({"id": object_id, "type": "Tombstone", "formerType": "Note"});
                sync(
                    write,
                    inner,
                    format!("{object_id}#sync/{seq}"),
                    "Delete",
                    object,
                    targets,
                );
            }
        }
        ChangeKind::InitiativeDeleted => {}
        ChangeKind::EventCreated | ChangeKind::EventUpdated => {
            let Some(event) = inner.store.event_by_id(change.entity_id).await? else {
                return Ok(());
            };
            if event.initiative_id != initiative.id || targets.is_empty() {
                return Ok(());
            }
            let mark = inner.fed.published_mark(event.id).await?;
            let (p, u) = dates(mark.as_ref(), event.created_at, event.updated_at);
            let object = event_item(event_object(urls, initiative, &event, p, u), &event);
            let id = format!("{}#sync/{seq}", urls.event(event.id));
            sync(write, inner, id, "Update", object, targets);
        }
        ChangeKind::VouchIssued
        | ChangeKind::VouchWithdrawn
        | ChangeKind::WarningIssued
        | ChangeKind::WarningWithdrawn
        | ChangeKind::ReportFiled => {}
    }
    Ok(())
}
