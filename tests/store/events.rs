//! Events: round trips, which events belong to an initiative, and the upcoming list.

use chrono::Duration;
use hromada_domain::{AuditAction, Event, EventPlace, Handle, Initiative, InitiativeStatus};
use hromada_store::{ChangeKind, Store, StoreError};
use uuid::Uuid;

use crate::support::{all_changes, audit, event, initiative, now};

fn titles(events: Vec<Event>) -> Vec<String> {
    events.into_iter().map(|e| e.title).collect()
}

fn handles(names: &[&str]) -> Vec<Handle> {
    names.iter().map(|n| Handle::parse(n).unwrap()).collect()
}

pub async fn round_trip_city_and_online(store: &dyn Store) {
    let i = initiative("events-home");
    store.insert_initiative(&i, None).await.unwrap();
    let t = now();
    let concert = Event {
        beneficiaries: handles(&["kharkiv-medics", "zoo-help"]),
        ..event(
            i.id,
            "Benefit concert",
            t + Duration::days(7),
            Some(t + Duration::days(7) + Duration::hours(3)),
        )
    };
    let talk = Event {
        place: EventPlace::Online {
            url: "https://meet.example.org/soli".into(),
        },
        cancelled: true,
        description: String::new(),
        timezone: "Europe/Kyiv".into(),
        ..event(i.id, "Онлайн-зустріч", t + Duration::days(1), None)
    };
    store.insert_event(&concert).await.unwrap();
    store.insert_event(&talk).await.unwrap();

    assert_eq!(
        store.event_by_id(concert.id).await.unwrap(),
        Some(concert.clone())
    );
    assert_eq!(store.event_by_id(talk.id).await.unwrap(), Some(talk));
    assert_eq!(store.event_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert!(
        matches!(
            store.insert_event(&concert).await,
            Err(StoreError::Conflict(_))
        ),
        "same id twice"
    );
    let orphan = event(Uuid::new_v4(), "nobody's", t, None);
    assert!(matches!(
        store.insert_event(&orphan).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn publisher_and_beneficiary_events(store: &dyn Store) {
    let a = initiative("soli-a");
    let b = initiative("soli-b");
    let c = initiative("soli-c");
    // A remote initiative with the same handle as `a`, and a remote publisher on its node.
    let remote_a = Initiative {
        origin: Some("peer.example".into()),
        ..initiative("soli-a")
    };
    let remote_pub = Initiative {
        origin: Some("peer.example".into()),
        ..initiative("peer-pub")
    };
    // Publishers no moderator has let through: their events reach no one else's page.
    let pending = Initiative {
        status: InitiativeStatus::Pending,
        ..initiative("soli-pending")
    };
    let rejected = Initiative {
        status: InitiativeStatus::Rejected,
        ..initiative("soli-rejected")
    };
    for i in [&a, &b, &c, &remote_a, &remote_pub, &pending, &rejected] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let t = now();
    let by_a = event(a.id, "by-a", t + Duration::days(1), None);
    let by_b_for_a = Event {
        beneficiaries: handles(&["soli-a"]),
        ..event(b.id, "by-b-for-a", t + Duration::hours(12), None)
    };
    let by_c_for_b = Event {
        beneficiaries: handles(&["soli-b"]),
        ..event(c.id, "by-c-for-b", t + Duration::days(2), None)
    };
    let by_peer_for_a = Event {
        beneficiaries: handles(&["soli-a"]),
        ..event(remote_pub.id, "by-peer-for-a", t + Duration::days(3), None)
    };
    let unlisted: Vec<Event> = [&pending, &rejected]
        .iter()
        .map(|p| Event {
            beneficiaries: handles(&["soli-a"]),
            ..event(p.id, &format!("by-{}-for-a", p.handle), t, None)
        })
        .collect();
    for e in [&by_a, &by_b_for_a, &by_c_for_b, &by_peer_for_a]
        .into_iter()
        .chain(&unlisted)
    {
        store.insert_event(e).await.unwrap();
    }

    assert_eq!(
        titles(store.events_of(a.id).await.unwrap()),
        ["by-b-for-a", "by-a"],
        "soonest first"
    );
    assert_eq!(
        titles(store.events_of(b.id).await.unwrap()),
        ["by-b-for-a", "by-c-for-b"]
    );
    assert_eq!(titles(store.events_of(c.id).await.unwrap()), ["by-c-for-b"]);
    assert_eq!(
        titles(store.events_of(pending.id).await.unwrap()),
        ["by-soli-pending-for-a"],
        "its own events, for its maintainers"
    );
    assert_eq!(
        titles(store.events_of(remote_a.id).await.unwrap()),
        ["by-peer-for-a"],
        "a handle names an initiative on the publisher's own node"
    );
    assert!(store.events_of(Uuid::new_v4()).await.unwrap().is_empty());
}

pub async fn upcoming_events_of_listed_initiatives(store: &dyn Store) {
    let published = initiative("events-published");
    let paused = Initiative {
        status: InitiativeStatus::Paused,
        ..initiative("events-paused")
    };
    let pending = Initiative {
        status: InitiativeStatus::Pending,
        ..initiative("events-pending")
    };
    let archived = Initiative {
        status: InitiativeStatus::Archived,
        ..initiative("events-archived")
    };
    for i in [&published, &paused, &pending, &archived] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let t = now();
    let p = published.id;
    for e in [
        event(
            p,
            "past",
            t - Duration::days(3),
            Some(t - Duration::days(2)),
        ),
        event(
            p,
            "ongoing",
            t - Duration::hours(1),
            Some(t + Duration::hours(2)),
        ),
        event(p, "started-without-end", t - Duration::hours(1), None),
        event(p, "future", t + Duration::days(1), None),
        Event {
            cancelled: true,
            ..event(p, "cancelled", t + Duration::days(2), None)
        },
        event(paused.id, "of-paused", t + Duration::days(3), None),
        event(pending.id, "of-pending", t + Duration::days(1), None),
        event(archived.id, "of-archived", t + Duration::days(1), None),
    ] {
        store.insert_event(&e).await.unwrap();
    }
    assert_eq!(
        titles(store.upcoming_events(t, 10).await.unwrap()),
        ["ongoing", "future", "of-paused"]
    );
    assert_eq!(
        titles(store.upcoming_events(t, 2).await.unwrap()),
        ["ongoing", "future"]
    );
    assert_eq!(
        titles(
            store
                .upcoming_events(t + Duration::days(5), 10)
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
}

pub async fn update_and_missing(store: &dyn Store) {
    let a = initiative("events-edit");
    let b = initiative("events-helped");
    store.insert_initiative(&a, None).await.unwrap();
    store.insert_initiative(&b, None).await.unwrap();
    let mut e = event(a.id, "Dinner", now() + Duration::days(1), None);
    store.insert_event(&e).await.unwrap();
    assert!(store.events_of(b.id).await.unwrap().is_empty());

    e.title = "Вечеря солідарності".into();
    e.ends_at = Some(e.starts_at + Duration::hours(4));
    e.place = EventPlace::City {
        city: "Warszawa".into(),
        country: "PL".into(),
        venue: None,
    };
    e.beneficiaries = handles(&["events-helped"]);
    e.cancelled = true;
    e.updated_at = now() + Duration::seconds(1);
    let edited = audit(AuditAction::Edited, &format!("event {}", e.id));
    store.update_event(&e, Some(&edited)).await.unwrap();
    assert_eq!(store.event_by_id(e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(store.audit_log(10, 0).await.unwrap(), vec![edited]);
    assert_eq!(
        titles(store.events_of(b.id).await.unwrap()),
        ["Вечеря солідарності"],
        "new beneficiary"
    );

    let stranger = event(a.id, "never stored", now(), None);
    let refused = audit(AuditAction::Edited, "event never stored");
    assert!(matches!(
        store.update_event(&stranger, Some(&refused)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.audit_log(10, 0).await.unwrap().len(),
        1,
        "no entry for a refused change"
    );
    let last = all_changes(store).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.entity_id, last.initiative_id),
        (ChangeKind::EventUpdated, e.id, a.id)
    );
}
