//! Needs: round trips, their order on an initiative's page, and the urgent list.

use chrono::Duration;
use hromada_domain::{Category, Initiative, InitiativeStatus, Need, NeedStatus, Urgency};
use hromada_store::{ChangeKind, Store, StoreError};
use uuid::Uuid;

use crate::support::{all_changes, initiative, need, now};

pub async fn round_trip_with_and_without_target(store: &dyn Store) {
    let i = initiative("needs-home");
    store.insert_initiative(&i, None).await.unwrap();
    let with_target = need(
        i.id,
        "Generator for the field hospital",
        Urgency::Critical,
        NeedStatus::Open,
    );
    let without_target = Need {
        target: None,
        raised: 0,
        deadline: None,
        category: Category::PsychologicalSupport,
        description: String::new(),
        ..need(
            i.id,
            "Volunteers who speak Ukrainian",
            Urgency::Low,
            NeedStatus::Open,
        )
    };
    store.insert_need(&with_target).await.unwrap();
    store.insert_need(&without_target).await.unwrap();

    assert_eq!(
        store.need_by_id(with_target.id).await.unwrap(),
        Some(with_target.clone())
    );
    assert_eq!(
        store.need_by_id(without_target.id).await.unwrap(),
        Some(without_target)
    );
    assert_eq!(store.need_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert!(
        matches!(
            store.insert_need(&with_target).await,
            Err(StoreError::Conflict(_))
        ),
        "same id twice"
    );
}

pub async fn update_and_missing(store: &dyn Store) {
    let i = initiative("needs-update");
    store.insert_initiative(&i, None).await.unwrap();
    let mut n = need(i.id, "Fuel", Urgency::Normal, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();

    n.raised = 4_000_000;
    n.status = NeedStatus::Funded;
    n.urgency = Urgency::High;
    n.title = "Пальне для генератора".into();
    n.deadline = None;
    n.updated_at = now() + Duration::seconds(5);
    store.update_need(&n, None).await.unwrap();
    assert_eq!(store.need_by_id(n.id).await.unwrap(), Some(n.clone()));

    let stranger = need(i.id, "Never stored", Urgency::Low, NeedStatus::Open);
    assert!(matches!(
        store.update_need(&stranger, None).await,
        Err(StoreError::NotFound)
    ));
    let kinds: Vec<ChangeKind> = all_changes(store)
        .await
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::InitiativeCreated,
            ChangeKind::NeedCreated,
            ChangeKind::NeedUpdated
        ]
    );
}

pub async fn open_first_then_urgency_then_newest(store: &dyn Store) {
    let i = initiative("needs-order");
    store.insert_initiative(&i, None).await.unwrap();
    let t = now();
    let at = |n: Need, minutes_ago: i64| Need {
        created_at: t - Duration::minutes(minutes_ago),
        ..n
    };
    let needs = [
        at(
            need(
                i.id,
                "funded-critical",
                Urgency::Critical,
                NeedStatus::Funded,
            ),
            1,
        ),
        at(need(i.id, "open-low", Urgency::Low, NeedStatus::Open), 1),
        at(
            need(i.id, "open-high-older", Urgency::High, NeedStatus::Open),
            30,
        ),
        at(
            need(i.id, "open-high-newer", Urgency::High, NeedStatus::Open),
            10,
        ),
        at(
            need(i.id, "delivered-low", Urgency::Low, NeedStatus::Delivered),
            1,
        ),
        at(
            need(i.id, "open-critical", Urgency::Critical, NeedStatus::Open),
            60,
        ),
    ];
    for n in &needs {
        store.insert_need(n).await.unwrap();
    }
    let other = initiative("other-needs");
    store.insert_initiative(&other, None).await.unwrap();
    store
        .insert_need(&need(
            other.id,
            "not mine",
            Urgency::Critical,
            NeedStatus::Open,
        ))
        .await
        .unwrap();

    let titles: Vec<String> = store
        .needs_of(i.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(
        &titles[..4],
        [
            "open-critical",
            "open-high-newer",
            "open-high-older",
            "open-low"
        ],
        "open ones first, most urgent, then newest"
    );
    assert_eq!(
        &titles[4..],
        ["funded-critical", "delivered-low"],
        "then the rest by urgency"
    );
    assert!(store.needs_of(Uuid::new_v4()).await.unwrap().is_empty());
}

pub async fn urgent_needs_of_listed_initiatives(store: &dyn Store) {
    let published = initiative("urgent-published");
    let paused = Initiative {
        status: InitiativeStatus::Paused,
        ..initiative("urgent-paused")
    };
    let pending = Initiative {
        status: InitiativeStatus::Pending,
        ..initiative("urgent-pending")
    };
    let archived = Initiative {
        status: InitiativeStatus::Archived,
        ..initiative("urgent-archived")
    };
    for i in [&published, &paused, &pending, &archived] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let t = now();
    let at = |n: Need, minutes_ago: i64| Need {
        created_at: t - Duration::minutes(minutes_ago),
        ..n
    };
    for n in [
        at(
            need(
                published.id,
                "critical-old",
                Urgency::Critical,
                NeedStatus::Open,
            ),
            60,
        ),
        at(
            need(published.id, "high-new", Urgency::High, NeedStatus::Open),
            1,
        ),
        at(
            need(
                paused.id,
                "critical-new",
                Urgency::Critical,
                NeedStatus::Open,
            ),
            2,
        ),
        at(
            need(published.id, "normal", Urgency::Normal, NeedStatus::Open),
            1,
        ),
        at(
            need(
                published.id,
                "critical-funded",
                Urgency::Critical,
                NeedStatus::Funded,
            ),
            1,
        ),
        at(
            need(
                pending.id,
                "critical-pending",
                Urgency::Critical,
                NeedStatus::Open,
            ),
            1,
        ),
        at(
            need(
                archived.id,
                "critical-archived",
                Urgency::Critical,
                NeedStatus::Open,
            ),
            1,
        ),
    ] {
        store.insert_need(&n).await.unwrap();
    }
    let titles = |needs: Vec<Need>| needs.into_iter().map(|n| n.title).collect::<Vec<_>>();
    assert_eq!(
        titles(store.urgent_needs(Urgency::High, 10).await.unwrap()),
        ["critical-new", "critical-old", "high-new"]
    );
    assert_eq!(
        titles(store.urgent_needs(Urgency::Critical, 10).await.unwrap()),
        ["critical-new", "critical-old"]
    );
    assert_eq!(
        titles(store.urgent_needs(Urgency::High, 1).await.unwrap()),
        ["critical-new"]
    );
    assert_eq!(store.urgent_needs(Urgency::Low, 10).await.unwrap().len(), 4);
}

pub async fn need_of_missing_initiative_is_not_found(store: &dyn Store) {
    let orphan = need(Uuid::new_v4(), "Orphan", Urgency::High, NeedStatus::Open);
    assert!(matches!(
        store.insert_need(&orphan).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.need_by_id(orphan.id).await.unwrap(), None);
    assert!(
        all_changes(store).await.is_empty(),
        "a failed write leaves no change behind"
    );
}
