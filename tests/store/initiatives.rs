//! Initiatives: every field round-trips, updates replace, handles are unique where they must be.

use chrono::Duration;
use hromada_domain::{
    Category, Contact, ContactKind, DonationKind, DonationMethod, Initiative, InitiativeStatus,
    Oblast, Region,
};
use hromada_store::{SearchQuery, Store, StoreError};
use uuid::Uuid;

use crate::support::{found, initiative, now};

pub async fn round_trip_every_field(store: &dyn Store) {
    let i = initiative("kharkiv-medics");
    store.insert_initiative(&i, None).await.unwrap();

    assert_eq!(
        store.initiative_by_id(i.id).await.unwrap().as_ref(),
        Some(&i)
    );
    assert_eq!(
        store
            .initiative_by_handle("kharkiv-medics", None)
            .await
            .unwrap()
            .as_ref(),
        Some(&i)
    );
    assert_eq!(
        store
            .initiative_by_handle("kharkiv-medics", Some("other.example"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.initiative_by_handle("nobody", None).await.unwrap(),
        None
    );
    assert_eq!(store.initiative_by_id(Uuid::new_v4()).await.unwrap(), None);
}

pub async fn remote_round_trip_and_lookup_by_origin(store: &dyn Store) {
    let remote = hromada_domain::Initiative {
        origin: Some("hromada.example".into()),
        submitter_contact: None,
        ..initiative("lviv-kitchen")
    };
    store.insert_initiative(&remote, None).await.unwrap();

    let got = store
        .initiative_by_handle("lviv-kitchen", Some("hromada.example"))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&remote));
    assert_eq!(
        store
            .initiative_by_handle("lviv-kitchen", None)
            .await
            .unwrap(),
        None,
        "not a local one"
    );
    assert_eq!(
        store
            .initiative_by_handle("lviv-kitchen", Some("elsewhere.example"))
            .await
            .unwrap(),
        None
    );
}

pub async fn update_replaces_every_field(store: &dyn Store) {
    let original = initiative("repair-brigade");
    store.insert_initiative(&original, None).await.unwrap();

    let t = now();
    let mut changed = original.clone();
    changed.name = "Ремонтна бригада".into();
    changed.summary = "Fixing roofs and windows".into();
    changed.description = "**Markdown** with a list:\n\n- glass\n- plywood".into();
    changed.categories = vec![
        Category::InfrastructureRepair,
        Category::Shelter,
        Category::Other,
    ];
    changed.tags = vec!["roofs".into()];
    changed.regions = vec![Region::Ukraine {
        oblast: Oblast::Kherson,
        city: None,
    }];
    changed.languages = vec!["uk".into()];
    changed.website = None;
    changed.contacts = vec![Contact {
        kind: ContactKind::Telegram,
        value: "@brigade".into(),
    }];
    changed.donation_methods = vec![DonationMethod {
        details: DonationKind::Card {
            number: "4111111111111111".into(),
            holder: Some("O. K.".into()),
        },
        label: Some("Card".into()),
        currency: None,
        recurring: true,
    }];
    changed.status = InitiativeStatus::Paused;
    changed.discoverable = false;
    changed.manually_approves_followers = true;
    changed.avatar = None;
    changed.header = Some(hromada_domain::Photo {
        name: "fedcba9876543210fedcba9876543210.jpg".into(),
        alt: String::new(),
        width: 1600,
        height: 533,
    });
    changed.submitter_contact = None;
    changed.rejection_reason = Some("kept for the record".into());
    changed.updated_at = t + Duration::seconds(1);
    changed.published_at = None;
    store
        .update_initiative(&changed, original.updated_at, None)
        .await
        .unwrap();

    assert_eq!(
        store.initiative_by_id(original.id).await.unwrap(),
        Some(changed)
    );
    // The filters follow the new version too.
    let by_category = |c| SearchQuery {
        category: Some(c),
        ..Default::default()
    };
    assert!(
        found(store, by_category(Category::Medical))
            .await
            .is_empty()
    );
    assert_eq!(
        found(store, by_category(Category::Shelter)).await,
        ["repair-brigade"]
    );
    let by_region = |r: &str| SearchQuery {
        region: Some(r.into()),
        ..Default::default()
    };
    assert!(found(store, by_region("kharkiv")).await.is_empty());
    assert_eq!(found(store, by_region("kherson")).await, ["repair-brigade"]);
}

/// Two writers read the same version: the first write wins, the second is refused and
/// changes nothing (a moderator archives while a maintainer's edit is on its way, two
/// processes decide the same submission).
pub async fn a_write_over_a_stale_read_conflicts(store: &dyn Store) {
    let read = initiative("contested");
    store.insert_initiative(&read, None).await.unwrap();
    let archived = Initiative {
        status: InitiativeStatus::Archived,
        updated_at: read.updated_at + Duration::seconds(1),
        ..read.clone()
    };
    store
        .update_initiative(&archived, read.updated_at, None)
        .await
        .unwrap();
    let edited = Initiative {
        name: "Edited".into(),
        updated_at: read.updated_at + Duration::seconds(2),
        ..read.clone()
    };
    assert!(matches!(
        store
            .update_initiative(&edited, read.updated_at, None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.initiative_by_id(read.id).await.unwrap(),
        Some(archived.clone())
    );
    // Read again, the edit goes through.
    store
        .update_initiative(&edited, archived.updated_at, None)
        .await
        .unwrap();
    assert_eq!(store.initiative_by_id(read.id).await.unwrap(), Some(edited));
}

pub async fn update_of_missing_is_not_found(store: &dyn Store) {
    let i = initiative("never-stored");
    assert!(matches!(
        store.update_initiative(&i, i.updated_at, None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.initiative_by_id(i.id).await.unwrap(), None);
}

pub async fn local_handles_are_unique(store: &dyn Store) {
    store
        .insert_initiative(&initiative("odesa-help"), None)
        .await
        .unwrap();
    let twin = initiative("odesa-help");
    match store.insert_initiative(&twin, None).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("odesa-help"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.initiative_by_id(twin.id).await.unwrap(), None);

    // A remote initiative may use the same handle: it lives on another node.
    let remote = hromada_domain::Initiative {
        origin: Some("a.example".into()),
        ..initiative("odesa-help")
    };
    store.insert_initiative(&remote, None).await.unwrap();
}

pub async fn remote_handles_are_unique_per_origin(store: &dyn Store) {
    let on_a = hromada_domain::Initiative {
        origin: Some("a.example".into()),
        ..initiative("dnipro-food")
    };
    let on_b = hromada_domain::Initiative {
        origin: Some("b.example".into()),
        ..initiative("dnipro-food")
    };
    store.insert_initiative(&on_a, None).await.unwrap();
    store.insert_initiative(&on_b, None).await.unwrap();
    let again_on_a = hromada_domain::Initiative {
        origin: Some("a.example".into()),
        ..initiative("dnipro-food")
    };
    assert!(matches!(
        store.insert_initiative(&again_on_a, None).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(
        store
            .initiative_by_handle("dnipro-food", Some("a.example"))
            .await
            .unwrap()
            .unwrap()
            .id,
        on_a.id
    );
    assert_eq!(
        store
            .initiative_by_handle("dnipro-food", Some("b.example"))
            .await
            .unwrap()
            .unwrap()
            .id,
        on_b.id
    );
}

pub async fn update_into_a_taken_handle_conflicts(store: &dyn Store) {
    let first = initiative("first-one");
    let second = initiative("second-one");
    store.insert_initiative(&first, None).await.unwrap();
    store.insert_initiative(&second, None).await.unwrap();

    let mut renamed = second.clone();
    renamed.handle = first.handle.clone();
    renamed.name = "Renamed".into();
    assert!(matches!(
        store
            .update_initiative(&renamed, second.updated_at, None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.initiative_by_id(second.id).await.unwrap(),
        Some(second),
        "left unchanged"
    );
}

pub async fn duplicate_id_conflicts(store: &dyn Store) {
    let i = initiative("one-id");
    store.insert_initiative(&i, None).await.unwrap();
    let same_id = hromada_domain::Initiative {
        handle: hromada_domain::Handle::parse("other-handle").unwrap(),
        ..i
    };
    assert!(matches!(
        store.insert_initiative(&same_id, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .initiative_by_handle("other-handle", None)
            .await
            .unwrap(),
        None
    );
}

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.unwrap();
}

pub async fn deleting_tombstones_everything_and_retires_the_handle(store: &dyn Store) {
    use crate::support::{event, need, news};
    use hromada_domain::{AuditAction, NeedStatus, Urgency};
    use hromada_store::DeletedKey;

    let i = initiative("doomed-group");
    store.insert_initiative(&i, None).await.unwrap();
    let n = need(i.id, "Fuel", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();
    let u = news(i.id, "Bought fuel", now());
    store.insert_update(&u).await.unwrap();
    let e = event(i.id, "Concert", now() + chrono::Duration::days(3), None);
    store.insert_event(&e).await.unwrap();
    let other = initiative("stays-here");
    store.insert_initiative(&other, None).await.unwrap();

    let entry = crate::support::audit(AuditAction::Deleted, "doomed-group");
    store.delete_initiative(i.id, Some(&entry)).await.unwrap();

    assert_eq!(store.initiative_by_id(i.id).await.unwrap(), None);
    assert_eq!(
        store
            .initiative_by_handle("doomed-group", None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.need_by_id(n.id).await.unwrap(), None);
    assert_eq!(store.update_by_id(u.id).await.unwrap(), None);
    assert_eq!(store.event_by_id(e.id).await.unwrap(), None);
    for id in [i.id, n.id, u.id, e.id] {
        assert!(store.is_tombstoned(id).await.unwrap(), "{id} is tombstoned");
    }
    assert!(store.initiative_by_id(other.id).await.unwrap().is_some());

    let gone = store
        .deleted_initiative(DeletedKey::Handle("doomed-group"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((gone.id, gone.handle.as_str()), (i.id, "doomed-group"));
    assert_eq!(
        store
            .deleted_initiative(DeletedKey::Id(i.id))
            .await
            .unwrap(),
        Some(gone)
    );
    assert_eq!(
        store
            .deleted_initiative(DeletedKey::Handle("stays-here"))
            .await
            .unwrap(),
        None
    );

    let last = crate::support::all_changes(store).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.entity_id, last.initiative_id),
        (hromada_store::ChangeKind::InitiativeDeleted, i.id, i.id)
    );
    assert_eq!(store.audit_log(1, 0).await.unwrap(), vec![entry]);

    // The handle is never taken again here, but another node's listing may carry it.
    let newcomer = initiative("doomed-group");
    assert!(matches!(
        store.insert_initiative(&newcomer, None).await,
        Err(StoreError::Conflict(_))
    ));
    let remote = hromada_domain::Initiative {
        origin: Some("elsewhere.example".into()),
        ..initiative("doomed-group")
    };
    store.insert_initiative(&remote, None).await.unwrap();

    assert!(matches!(
        store.delete_initiative(i.id, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(
            store.delete_initiative(remote.id, None).await,
            Err(StoreError::NotFound)
        ),
        "only local initiatives are deleted this way"
    );
    assert!(store.initiative_by_id(remote.id).await.unwrap().is_some());
}
