//! The change feed and the audit log: order, contents, paging, and atomicity with the writes
//! they describe.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use chrono::Duration;
use hromada_domain::{AuditAction, AuditEntry, Initiative, NeedStatus, Role, Urgency};
use hromada_store::{ChangeKind, SearchQuery, Store, StoreError};
use uuid::Uuid;

use crate::support::{all_changes, audit, event, initiative, need, news, now, token, user};

pub async fn change_feed_order_and_contents(store: &dyn Store) {
    let started = now();
    assert_eq!(store.latest_change_seq().await.unwrap(), 0, "an empty feed");
    let mut i = initiative("feed-home");
    store.insert_initiative(&i, None).await.unwrap();
    let mut n = need(i.id, "Fuel", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();
    let mut u = news(i.id, "Hello", now());
    store.insert_update(&u).await.unwrap();
    let mut e = event(i.id, "Concert", now() + Duration::days(3), None);
    store.insert_event(&e).await.unwrap();
    i.summary = "Changed".into();
    store
        .update_initiative(&i, i.updated_at, None)
        .await
        .unwrap();
    n.status = NeedStatus::Funded;
    store.update_need(&n, None).await.unwrap();
    u.body = "Hello again".into();
    store.update_update(&u, None).await.unwrap();
    e.cancelled = true;
    store.update_event(&e, None).await.unwrap();
    store.delete_update(u.id, None).await.unwrap();
    // Writes the public does not see are not in the feed.
    let someone = user("feed-user", Role::Maintainer);
    store.insert_user(&someone, None).await.unwrap();
    store.add_maintainer(someone.id, i.id, None).await.unwrap();
    store
        .insert_token(&token(someone.id, "feed-hash"), None)
        .await
        .unwrap();
    store
        .append_audit(&audit(AuditAction::Edited, "feed-home"))
        .await
        .unwrap();

    let changes = all_changes(store).await;
    let got: Vec<(ChangeKind, Uuid, Uuid)> = changes
        .iter()
        .map(|c| (c.kind, c.entity_id, c.initiative_id))
        .collect();
    use ChangeKind::*;
    assert_eq!(
        got,
        [
            (InitiativeCreated, i.id, i.id),
            (NeedCreated, n.id, i.id),
            (UpdateCreated, u.id, i.id),
            (EventCreated, e.id, i.id),
            (InitiativeUpdated, i.id, i.id),
            (NeedUpdated, n.id, i.id),
            (UpdateEdited, u.id, i.id),
            (EventUpdated, e.id, i.id),
            (UpdateDeleted, u.id, i.id),
        ]
    );
    assert!(
        changes.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq strictly increases"
    );
    assert_eq!(
        store.latest_change_seq().await.unwrap(),
        changes.last().unwrap().seq,
        "the latest seq is the last change's"
    );
    assert!(
        changes.windows(2).all(|w| w[0].at <= w[1].at),
        "in time order"
    );
    let finished = now();
    assert!(
        changes
            .iter()
            .all(|c| c.at >= started - Duration::seconds(1)
                && c.at <= finished + Duration::seconds(1))
    );
}

pub async fn change_feed_pages(store: &dyn Store) {
    for n in 0..5 {
        store
            .insert_initiative(&initiative(&format!("paged-{n}")), None)
            .await
            .unwrap();
    }
    let all = all_changes(store).await;
    assert_eq!(all.len(), 5);
    let first = store.changes_after(0, 2).await.unwrap();
    assert_eq!(first, all[..2]);
    let next = store.changes_after(first[1].seq, 2).await.unwrap();
    assert_eq!(next, all[2..4]);
    let rest = store.changes_after(next[1].seq, 100).await.unwrap();
    assert_eq!(rest, all[4..]);
    assert!(
        store
            .changes_after(all[4].seq, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.changes_after(all[2].seq, 100).await.unwrap(),
        all[3..],
        "strictly after"
    );
}

pub async fn audit_log_newest_first(store: &dyn Store) {
    let t = now();
    let at = |action, subject: &str, seconds_ago: i64| AuditEntry {
        at: t - Duration::seconds(seconds_ago),
        ..audit(action, subject)
    };
    let oldest = at(AuditAction::Submitted, "oldest", 30)
        .with_reason("first")
        .with_details(serde_json::json!({"from": "pending", "to": "published", "n": [1, 2]}));
    let newer = at(AuditAction::Approved, "newer", 10);
    let middle = AuditEntry {
        actor: None,
        ..at(AuditAction::Rejected, "middle", 20).with_reason("duplicate")
    };
    let same_time_first = at(AuditAction::Edited, "same-time-first", 0);
    let same_time_second = at(AuditAction::StatusChanged, "same-time-second", 0);
    for entry in [
        &oldest,
        &newer,
        &middle,
        &same_time_first,
        &same_time_second,
    ] {
        store.append_audit(entry).await.unwrap();
    }

    let log = store.audit_log(10, 0).await.unwrap();
    assert_eq!(
        log,
        vec![
            same_time_second.clone(),
            same_time_first.clone(),
            newer.clone(),
            middle.clone(),
            oldest.clone()
        ]
    );
    assert_eq!(
        store.audit_log(2, 1).await.unwrap(),
        vec![same_time_first, newer]
    );
    assert_eq!(store.audit_log(10, 4).await.unwrap(), vec![oldest.clone()]);
    assert!(store.audit_log(10, 5).await.unwrap().is_empty());
    assert!(
        matches!(
            store.append_audit(&oldest).await,
            Err(StoreError::Conflict(_))
        ),
        "same id twice"
    );
}

pub async fn conflicting_writes_leave_no_trace(store: &dyn Store) {
    let i = initiative("atomic");
    store
        .insert_initiative(&i, Some(&audit(AuditAction::Submitted, "atomic")))
        .await
        .unwrap();
    let changes_before = all_changes(store).await;
    let audit_before = store.audit_log(100, 0).await.unwrap();
    assert_eq!((changes_before.len(), audit_before.len()), (1, 1));

    let twin = initiative("atomic");
    let entry = audit(AuditAction::Submitted, "atomic twin");
    assert!(matches!(
        store.insert_initiative(&twin, Some(&entry)).await,
        Err(StoreError::Conflict(_))
    ));
    let ghost = initiative("ghost");
    let entry = audit(AuditAction::Edited, "ghost");
    assert!(matches!(
        store
            .update_initiative(&ghost, ghost.updated_at, Some(&entry))
            .await,
        Err(StoreError::NotFound)
    ));
    let mut renamed = initiative("other-atomic");
    store.insert_initiative(&renamed, None).await.unwrap();
    let changes_before = all_changes(store).await;
    renamed.handle = i.handle.clone();
    let entry = audit(AuditAction::Edited, "other-atomic");
    assert!(matches!(
        store
            .update_initiative(&renamed, renamed.updated_at, Some(&entry))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .update_need(&need(i.id, "x", Urgency::Low, NeedStatus::Open), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_update(&news(i.id, "x", now()), None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_event(&event(i.id, "x", now(), None), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_update(Uuid::new_v4(), None).await,
        Err(StoreError::NotFound)
    ));
    let entry = audit(AuditAction::TokenRevoked, "nothing");
    assert!(matches!(
        store.revoke_token(Uuid::new_v4(), Some(&entry)).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(
        all_changes(store).await,
        changes_before,
        "no change-feed rows from refused writes"
    );
    assert_eq!(
        store.audit_log(100, 0).await.unwrap(),
        audit_before,
        "no audit rows from refused writes"
    );
    assert_eq!(store.initiative_by_id(twin.id).await.unwrap(), None);
}

pub async fn audit_is_written_with_its_change(store: &dyn Store) {
    let mut i = Initiative {
        status: hromada_domain::InitiativeStatus::Pending,
        ..initiative("audited")
    };
    let submitted = audit(AuditAction::Submitted, "audited");
    store.insert_initiative(&i, Some(&submitted)).await.unwrap();
    i.status = hromada_domain::InitiativeStatus::Published;
    let approved = AuditEntry {
        at: submitted.at + Duration::seconds(1),
        ..audit(AuditAction::Approved, "audited")
    };
    store
        .update_initiative(&i, i.updated_at, Some(&approved))
        .await
        .unwrap();

    assert_eq!(
        store.audit_log(10, 0).await.unwrap(),
        vec![approved, submitted]
    );
    let kinds: Vec<ChangeKind> = all_changes(store)
        .await
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        [ChangeKind::InitiativeCreated, ChangeKind::InitiativeUpdated]
    );
}

/// A piece of work borrowing the store, for [`join_all`].
type Work<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Polls all futures together on the current task (the cases only borrow the store, so they
/// cannot spawn); the database work still overlaps.
async fn join_all<T>(futures: Vec<Work<'_, T>>) -> Vec<T> {
    let mut futures = futures;
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

pub async fn concurrent_writes_all_land_in_order(store: &dyn Store) {
    let i = initiative("busy");
    store.insert_initiative(&i, None).await.unwrap();
    let needs: Vec<_> = (0..24)
        .map(|n| need(i.id, &format!("need {n}"), Urgency::High, NeedStatus::Open))
        .collect();

    let mut work: Vec<Work<'_, Result<(), StoreError>>> = Vec::new();
    for n in &needs {
        work.push(Box::pin(store.insert_need(n)));
        // Reads in between, so readers and writers overlap.
        work.push(Box::pin(async {
            store
                .search_initiatives(&SearchQuery {
                    has_open_needs: Some(true),
                    ..Default::default()
                })
                .await
                .map(|_| ())
        }));
    }
    for round in 0..6 {
        let edited = Initiative {
            summary: format!("round {round}"),
            ..i.clone()
        };
        work.push(Box::pin(async move {
            store
                .update_initiative(&edited, edited.updated_at, None)
                .await
        }));
    }
    for result in join_all(work).await {
        result.unwrap();
    }

    let changes = all_changes(store).await;
    assert_eq!(changes.len(), 1 + 24 + 6);
    assert!(
        changes.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq strictly increases"
    );
    let created: BTreeSet<Uuid> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::NeedCreated)
        .map(|c| c.entity_id)
        .collect();
    assert_eq!(created, needs.iter().map(|n| n.id).collect());
    assert_eq!(store.needs_of(i.id).await.unwrap().len(), 24);
}

/// Caches see a write of another process through the feed within `FEED_CHECK`, and a write of
/// their own process at once.
pub async fn change_watch_sees_feed_and_local_writes(store: &dyn Store) {
    // A version is (local writes, the feed's newest seq). The local part counts every write of
    // this process, other tests' included, so the feed's part is checked on its own: it is
    // what another process's write moves.
    let watch = hromada_store::ChangeWatch::default();
    let before = watch.version(store).await;
    assert_eq!(watch.version(store).await.1, before.1, "nothing changed");
    let recorded = store.local_changes();
    store
        .insert_initiative(&initiative("watched"), None)
        .await
        .unwrap();
    assert!(
        store.local_changes() > recorded,
        "this process's change is counted"
    );
    assert_ne!(watch.version(store).await, before, "and seen at once");
    tokio::time::sleep(hromada_store::ChangeWatch::FEED_CHECK).await;
    let after_feed = watch.version(store).await;
    assert!(
        after_feed.1 > before.1,
        "the change is seen in the feed too, as another process sees it: {after_feed:?} after {before:?}"
    );
    watch.note_local_write();
    assert_ne!(
        watch.version(store).await,
        after_feed,
        "a local write is seen at once"
    );
}
