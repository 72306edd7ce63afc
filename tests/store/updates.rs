//! Updates: news and spending reports, delayed publication, edits, deletion with tombstones.

use chrono::Duration;
use hromada_domain::{LineItem, Money, NeedStatus, UpdateKind, Urgency};
use hromada_store::{ChangeKind, Store, StoreError};
use uuid::Uuid;

use crate::support::{all_changes, initiative, need, news, now, report, uah};

pub async fn round_trip_news_and_report(store: &dyn Store) {
    let i = initiative("updates-home");
    store.insert_initiative(&i, None).await.unwrap();
    let n = need(i.id, "Tourniquets", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();

    let plain = news(i.id, "Привіт! We reached **half** of the goal.", now());
    let spent = report(i.id, Some(n.id));
    store.insert_update(&plain).await.unwrap();
    store.insert_update(&spent).await.unwrap();

    assert_eq!(
        store.update_by_id(plain.id).await.unwrap(),
        Some(plain.clone())
    );
    assert_eq!(store.update_by_id(spent.id).await.unwrap(), Some(spent));
    assert_eq!(store.update_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert!(
        matches!(
            store.insert_update(&plain).await,
            Err(StoreError::Conflict(_))
        ),
        "same id twice"
    );
    let orphan = news(Uuid::new_v4(), "nobody's", now());
    assert!(matches!(
        store.insert_update(&orphan).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn newest_first_and_scheduled_hidden(store: &dyn Store) {
    let i = initiative("updates-order");
    store.insert_initiative(&i, None).await.unwrap();
    let t = now();
    let old = news(i.id, "old", t - Duration::days(2));
    let recent = news(i.id, "recent", t - Duration::hours(1));
    let scheduled = news(i.id, "scheduled", t + Duration::days(3));
    for u in [&recent, &scheduled, &old] {
        store.insert_update(u).await.unwrap();
    }
    let other = initiative("updates-other");
    store.insert_initiative(&other, None).await.unwrap();
    store
        .insert_update(&news(other.id, "not mine", t))
        .await
        .unwrap();

    let bodies = |updates: Vec<hromada_domain::Update>| {
        updates.into_iter().map(|u| u.body).collect::<Vec<_>>()
    };
    assert_eq!(
        bodies(store.updates_of(i.id, None, 0, 10).await.unwrap()),
        ["scheduled", "recent", "old"]
    );
    assert_eq!(
        bodies(store.updates_of(i.id, Some(t), 0, 10).await.unwrap()),
        ["recent", "old"],
        "public view"
    );
    assert_eq!(
        bodies(store.updates_of(i.id, Some(t), 0, 1).await.unwrap()),
        ["recent"]
    );
    assert_eq!(
        bodies(
            store
                .updates_of(i.id, Some(t + Duration::days(3)), 0, 10)
                .await
                .unwrap()
        ),
        ["scheduled", "recent", "old"],
        "published exactly at its time"
    );
}

pub async fn edit_and_missing(store: &dyn Store) {
    let i = initiative("updates-edit");
    store.insert_initiative(&i, None).await.unwrap();
    let mut u = news(i.id, "first draft", now());
    store.insert_update(&u).await.unwrap();

    u.body = "Corrected text".into();
    u.kind = UpdateKind::SpendingReport {
        items: vec![LineItem {
            what: "Fuel".into(),
            amount: Money::new(9_999, uah()),
        }],
    };
    u.updated_at = now() + Duration::seconds(1);
    store.update_update(&u, None).await.unwrap();
    assert_eq!(store.update_by_id(u.id).await.unwrap(), Some(u.clone()));

    let stranger = news(i.id, "never stored", now());
    assert!(matches!(
        store.update_update(&stranger, None).await,
        Err(StoreError::NotFound)
    ));
    let last = all_changes(store).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.entity_id, last.initiative_id),
        (ChangeKind::UpdateEdited, u.id, i.id)
    );
}

pub async fn delete_leaves_tombstone(store: &dyn Store) {
    let i = initiative("updates-delete");
    store.insert_initiative(&i, None).await.unwrap();
    let doomed = news(i.id, "posted by mistake", now());
    let kept = news(i.id, "stays", now());
    store.insert_update(&doomed).await.unwrap();
    store.insert_update(&kept).await.unwrap();
    assert!(!store.is_tombstoned(doomed.id).await.unwrap());

    store.delete_update(doomed.id, None).await.unwrap();
    assert_eq!(store.update_by_id(doomed.id).await.unwrap(), None);
    assert!(store.is_tombstoned(doomed.id).await.unwrap());
    assert!(!store.is_tombstoned(kept.id).await.unwrap());
    assert!(!store.is_tombstoned(Uuid::new_v4()).await.unwrap());
    assert_eq!(
        store.updates_of(i.id, None, 0, 10).await.unwrap(),
        vec![kept]
    );

    let last = all_changes(store).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.entity_id, last.initiative_id),
        (ChangeKind::UpdateDeleted, doomed.id, i.id)
    );

    assert!(
        matches!(
            store.delete_update(doomed.id, None).await,
            Err(StoreError::NotFound)
        ),
        "deleted twice"
    );
    assert!(
        matches!(
            store.insert_update(&doomed).await,
            Err(StoreError::Conflict(_))
        ),
        "a deleted id is never reused"
    );
    assert_eq!(store.update_by_id(doomed.id).await.unwrap(), None);
}

/// What the media sweep keeps: every photo an initiative or an update names, and nothing else.
pub async fn photos_in_use_are_those_named_by_initiatives_and_updates(store: &dyn Store) {
    let photo = |n: char| hromada_domain::Photo {
        name: format!("{}.jpg", n.to_string().repeat(32)),
        alt: String::new(),
        width: 10,
        height: 10,
    };
    assert!(store.photos_in_use().await.unwrap().is_empty());
    let mut i = initiative("pictured");
    i.avatar = Some(photo('a'));
    i.header = Some(photo('b'));
    store.insert_initiative(&i, None).await.unwrap();
    let mut plain = initiative("plain");
    (plain.avatar, plain.header) = (None, None);
    store.insert_initiative(&plain, None).await.unwrap();
    let mut with_photos = news(i.id, "Two photos", now());
    with_photos.photos = vec![photo('c'), photo('a')];
    store.insert_update(&with_photos).await.unwrap();
    let mut without = news(i.id, "No photos", now());
    without.photos.clear();
    store.insert_update(&without).await.unwrap();

    let mut names = store.photos_in_use().await.unwrap();
    names.sort();
    assert_eq!(names, [photo('a').name, photo('b').name, photo('c').name]);
}
