//! Peers (other nodes followed or following), the listings mirrored from them, and where each
//! listing came from.

use chrono::Duration;
use hromada_domain::trust::{TrustLevel, Vouch, VouchBasis};
use hromada_domain::{Initiative, NeedStatus, Urgency};
use hromada_store::{
    Audience, DeliveryStatus, FedWrite, FederationStore, LocalActor, MissingPictures, NewActivity,
    Peer, PeerState, PeerUpdate, Store, Target,
};

use crate::support::{initiative, need, now};

fn remote(handle: &str, origin: &str) -> Initiative {
    Initiative {
        origin: Some(origin.into()),
        submitter_contact: None,
        ..initiative(handle)
    }
}

fn full_peer(domain: &str) -> Peer {
    let t = now();
    Peer {
        outgoing: Some(PeerState::Accepted),
        outgoing_follow_id: Some(format!("https://me.example/actor#follows/{domain}")),
        outgoing_since: Some(t - Duration::hours(2)),
        incoming: Some(PeerState::Pending),
        incoming_follow_id: Some(format!("https://{domain}/actor#follows/1")),
        incoming_since: Some(t - Duration::hours(1)),
        last_activity_at: Some(t),
        refuse_relayed: true,
        backfill_next: Some(format!("https://{domain}/directory?page=3")),
        ..Peer::new(
            domain,
            &format!("https://{domain}/actor"),
            &format!("https://{domain}/inbox"),
        )
    }
}

pub async fn peers_round_trip_and_replace(_: &dyn Store, fed: &dyn FederationStore) {
    let b = full_peer("b.example");
    let a = Peer::new(
        "a.example:8443",
        "https://a.example:8443/actor",
        "https://a.example:8443/inbox",
    );
    fed.save_peer(&b).await.unwrap();
    fed.save_peer(&a).await.unwrap();
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(b.clone()));
    assert_eq!(
        fed.peer("B.Example").await.unwrap(),
        Some(b.clone()),
        "domains are case-insensitive"
    );
    assert_eq!(fed.peer("c.example").await.unwrap(), None);
    assert_eq!(fed.peers().await.unwrap(), vec![a.clone(), b.clone()]);

    // Saving again replaces every field.
    let changed = Peer {
        inbox: "https://b.example/shared-inbox".into(),
        outgoing: Some(PeerState::Rejected),
        incoming: None,
        incoming_follow_id: None,
        incoming_since: None,
        refuse_relayed: false,
        backfill_next: None,
        ..b
    };
    fed.save_peer(&changed).await.unwrap();
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(changed));
    assert_eq!(fed.peers().await.unwrap().len(), 2);
}

pub async fn touch_and_delete_peer(_: &dyn Store, fed: &dyn FederationStore) {
    let p = Peer::new(
        "b.example",
        "https://b.example/actor",
        "https://b.example/inbox",
    );
    fed.save_peer(&p).await.unwrap();
    let at = now();
    fed.touch_peer("b.example", at).await.unwrap();
    assert_eq!(
        fed.peer("b.example")
            .await
            .unwrap()
            .unwrap()
            .last_activity_at,
        Some(at)
    );
    // Not a peer: nothing is created.
    fed.touch_peer("stranger.example", at).await.unwrap();
    assert_eq!(fed.peer("stranger.example").await.unwrap(), None);

    fed.delete_peer("b.example").await.unwrap();
    assert_eq!(fed.peer("b.example").await.unwrap(), None);
    assert!(fed.peers().await.unwrap().is_empty());
    fed.delete_peer("b.example").await.unwrap();
}

pub async fn listing_counts_per_origin(store: &dyn Store, fed: &dyn FederationStore) {
    assert!(fed.listing_counts().await.unwrap().is_empty());
    for (handle, origin) in [
        ("one", "b.example"),
        ("two", "b.example"),
        ("three", "c.example:8443"),
    ] {
        store
            .insert_initiative(&remote(handle, origin), None)
            .await
            .unwrap();
    }
    store
        .insert_initiative(&initiative("local-one"), None)
        .await
        .unwrap();
    let mut counts = fed.listing_counts().await.unwrap();
    counts.sort();
    assert_eq!(
        counts,
        vec![("b.example".into(), 2), ("c.example:8443".into(), 1)]
    );
}

pub async fn purge_domain_takes_everything_of_it(store: &dyn Store, fed: &dyn FederationStore) {
    let theirs = remote("theirs", "bad.example");
    let sub = remote("sub", "m.bad.example:8443");
    let kept = remote("kept", "notbad.example");
    let local = initiative("ours");
    for i in [&theirs, &sub, &kept, &local] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let n = need(theirs.id, "Fuel", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();
    fed.save_peer(&full_peer("bad.example")).await.unwrap();
    fed.save_peer(&full_peer("notbad.example")).await.unwrap();
    let activity = |id: &str, host: &str| NewActivity {
        activity_id: id.into(),
        actor: LocalActor::Instance,
        body: format!(r#"{{"id": "{id}"}}"#),
        audience: Audience::Inboxes(vec![Target {
            host: host.into(),
            inbox: format!("https://{host}/inbox"),
        }]),
    };
    fed.apply(&FedWrite {
        activities: vec![
            activity("https://me.example/a/1", "bad.example"),
            activity("https://me.example/a/2", "notbad.example"),
            activity("https://me.example/a/3", "not-bad.example:8443"),
        ],
        ..Default::default()
    })
    .await
    .unwrap();

    // `_` (allowed in domains) is a wildcard to SQL's LIKE: purging `not_bad.example` must
    // leave `not-bad.example`'s subdomains and ports alone.
    let lookalike = remote("lookalike", "m.not-bad.example");
    store.insert_initiative(&lookalike, None).await.unwrap();
    assert_eq!(fed.purge_domain("not_bad.example").await.unwrap(), 0);
    assert!(
        store
            .initiative_by_id(lookalike.id)
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(fed.purge_domain("bad.example").await.unwrap(), 2);
    assert_eq!(store.initiative_by_id(theirs.id).await.unwrap(), None);
    assert_eq!(store.initiative_by_id(sub.id).await.unwrap(), None);
    assert_eq!(store.need_by_id(n.id).await.unwrap(), None);
    assert!(store.initiative_by_id(kept.id).await.unwrap().is_some());
    assert!(store.initiative_by_id(local.id).await.unwrap().is_some());
    assert_eq!(fed.peer("bad.example").await.unwrap(), None);
    assert!(fed.peer("notbad.example").await.unwrap().is_some());
    let counts = fed.delivery_counts().await.unwrap();
    let status_of = |host: &str| {
        counts
            .iter()
            .find(|c| c.host == host && c.count > 0)
            .map(|c| c.status)
    };
    assert_eq!(status_of("bad.example"), Some(DeliveryStatus::Cancelled));
    assert_eq!(status_of("notbad.example"), Some(DeliveryStatus::Pending));
    assert_eq!(
        status_of("not-bad.example:8443"),
        Some(DeliveryStatus::Pending)
    );

    // What a blocked collective said about listings that stay counts no more: its vouch goes
    // and the listing's status is worked out again.
    let vouch = |collective: &str| {
        let id = uuid::Uuid::new_v4();
        Vouch {
            id,
            ap_id: format!("https://{collective}/vouches/{id}"),
            initiative_id: kept.id,
            collective: collective.into(),
            local: false,
            author: None,
            statement: "We know them".into(),
            basis: VouchBasis::CheckedReceipts,
            created_at: now(),
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    };
    let troll = vouch("troll.example");
    assert_eq!(
        store.insert_vouch(&troll, None).await.unwrap(),
        TrustLevel::Vouched
    );
    fed.purge_domain("troll.example").await.unwrap();
    assert_eq!(store.vouch_by_id(troll.id).await.unwrap(), None);
    let levels = store.trust_levels(&[kept.id]).await.unwrap();
    assert_ne!(
        levels.get(&kept.id),
        Some(&TrustLevel::Vouched),
        "{levels:?}"
    );
    let friend = vouch("friend.example");
    store.insert_vouch(&friend, None).await.unwrap();
    fed.purge_domain("troll.example").await.unwrap();
    assert!(store.vouch_by_id(friend.id).await.unwrap().is_some());
}

pub async fn unfollowing_forgets_what_only_that_peer_brought(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    let only_b = remote("only-b", "b.example");
    let relayed_by_b = remote("relayed-by-b", "c.example");
    let both = remote("both", "c.example");
    let only_d = remote("only-d", "d.example");
    let local = initiative("ours");
    for i in [&only_b, &relayed_by_b, &both, &only_d, &local] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let n = need(only_b.id, "Fuel", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();
    for (i, peer) in [
        (&only_b, "b.example"),
        (&only_b, "b.example"),
        (&relayed_by_b, "B.example"),
        (&both, "b.example"),
        (&both, "d.example"),
        (&only_d, "d.example"),
        (&local, "b.example"),
    ] {
        fed.add_listing_source(i.id, peer).await.unwrap();
    }
    assert_eq!(
        fed.listing_sources(both.id).await.unwrap(),
        vec!["b.example".to_string(), "d.example".to_string()]
    );
    assert_eq!(
        fed.listing_sources(only_b.id).await.unwrap(),
        vec!["b.example".to_string()],
        "recorded once"
    );
    assert!(
        fed.listing_sources(local.id).await.unwrap().is_empty(),
        "local initiatives have no sources"
    );

    assert_eq!(fed.forget_listing_source("b.example").await.unwrap(), 2);
    assert_eq!(store.initiative_by_id(only_b.id).await.unwrap(), None);
    assert_eq!(store.need_by_id(n.id).await.unwrap(), None);
    assert_eq!(store.initiative_by_id(relayed_by_b.id).await.unwrap(), None);
    assert!(store.initiative_by_id(both.id).await.unwrap().is_some());
    assert_eq!(
        fed.listing_sources(both.id).await.unwrap(),
        vec!["d.example".to_string()]
    );
    assert!(store.initiative_by_id(only_d.id).await.unwrap().is_some());
    assert!(store.initiative_by_id(local.id).await.unwrap().is_some());
    assert_eq!(fed.forget_listing_source("b.example").await.unwrap(), 0);
}

pub async fn deleting_a_remote_listing_spares_local_ones(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    let theirs = remote("theirs", "c.example");
    let local = initiative("ours");
    store.insert_initiative(&theirs, None).await.unwrap();
    store.insert_initiative(&local, None).await.unwrap();
    let n = need(theirs.id, "Fuel", Urgency::High, NeedStatus::Open);
    store.insert_need(&n).await.unwrap();
    fed.add_listing_source(theirs.id, "c.example")
        .await
        .unwrap();

    assert!(fed.delete_remote_listing(theirs.id).await.unwrap());
    assert_eq!(store.initiative_by_id(theirs.id).await.unwrap(), None);
    assert_eq!(store.need_by_id(n.id).await.unwrap(), None);
    assert!(fed.listing_sources(theirs.id).await.unwrap().is_empty());
    assert!(!fed.delete_remote_listing(theirs.id).await.unwrap());
    assert!(!fed.delete_remote_listing(local.id).await.unwrap());
    assert!(store.initiative_by_id(local.id).await.unwrap().is_some());
}

/// Targeted updates change only their columns, so writers of different columns (the admin, the
/// inbox, the backfill; possibly in different processes) never undo each other.
pub async fn peer_updates_touch_only_their_columns(_: &dyn Store, fed: &dyn FederationStore) {
    let b = full_peer("b.example");
    assert!(fed.insert_peer(&b).await.unwrap());
    // Inserting again leaves the row as it is.
    assert!(
        !fed.insert_peer(&Peer::new(
            "B.example",
            "https://b.example/x",
            "https://b.example/y"
        ))
        .await
        .unwrap()
    );
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(b.clone()));

    // Two writers that read the same row: neither undoes the other.
    let admin = PeerUpdate {
        refuse_relayed: Some(false),
        ..Default::default()
    };
    let inbox = PeerUpdate {
        incoming: Some(Some(PeerState::Accepted)),
        inbox: Some("https://b.example/shared".into()),
        ..Default::default()
    };
    assert!(fed.update_peer("B.EXAMPLE", &admin).await.unwrap());
    assert!(fed.update_peer("b.example", &inbox).await.unwrap());
    let expected = Peer {
        refuse_relayed: false,
        incoming: Some(PeerState::Accepted),
        inbox: "https://b.example/shared".into(),
        ..b.clone()
    };
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(expected.clone()));

    // Setting a column to nothing, and compare-and-set on the backfill's page.
    let stale = PeerUpdate {
        backfill_next: Some(Some("https://b.example/directory?page=9".into())),
        if_backfill_next: Some("https://b.example/directory?page=2".into()),
        ..Default::default()
    };
    assert!(!fed.update_peer("b.example", &stale).await.unwrap());
    let moved = PeerUpdate {
        backfill_next: Some(None),
        if_backfill_next: b.backfill_next.clone(),
        ..Default::default()
    };
    assert!(fed.update_peer("b.example", &moved).await.unwrap());
    let expected = Peer {
        backfill_next: None,
        ..expected
    };
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(expected.clone()));
    // Only while no backfill is due: the first starts one, the second finds it started.
    let statements = || PeerUpdate {
        backfill_next: Some(Some("https://b.example/statements".into())),
        if_no_backfill: true,
        ..Default::default()
    };
    assert!(fed.update_peer("b.example", &statements()).await.unwrap());
    assert!(!fed.update_peer("b.example", &statements()).await.unwrap());
    let done = PeerUpdate {
        backfill_next: Some(None),
        ..Default::default()
    };
    assert!(fed.update_peer("b.example", &done).await.unwrap());
    assert_eq!(fed.peer("b.example").await.unwrap(), Some(expected.clone()));

    // Follow ids guard answers and undos: a stale one changes nothing.
    let wrong_follow = PeerUpdate {
        outgoing: Some(Some(PeerState::Rejected)),
        if_outgoing_follow_id: Some("https://me.example/actor#follows/old".into()),
        ..Default::default()
    };
    assert!(!fed.update_peer("b.example", &wrong_follow).await.unwrap());
    let undo = PeerUpdate {
        incoming: Some(None),
        incoming_follow_id: Some(None),
        incoming_since: Some(None),
        if_incoming_follow_id: b.incoming_follow_id.clone(),
        ..Default::default()
    };
    assert!(fed.update_peer("b.example", &undo).await.unwrap());
    assert!(!fed.update_peer("c.example", &undo).await.unwrap());

    // The row goes only once neither side follows.
    assert!(!fed.delete_peer_if_unfollowed("b.example").await.unwrap());
    let unfollow = PeerUpdate {
        outgoing: Some(None),
        outgoing_follow_id: Some(None),
        outgoing_since: Some(None),
        ..Default::default()
    };
    assert!(fed.update_peer("b.example", &unfollow).await.unwrap());
    let left = fed.peer("b.example").await.unwrap().unwrap();
    assert_eq!(
        (
            left.outgoing,
            left.outgoing_since,
            left.incoming_since,
            left.last_activity_at
        ),
        (None, None, None, b.last_activity_at)
    );
    assert!(fed.delete_peer_if_unfollowed("b.example").await.unwrap());
    assert_eq!(fed.peer("b.example").await.unwrap(), None);
}

pub async fn missing_pictures_are_rescheduled_until_forgotten(
    _: &dyn Store,
    fed: &dyn FederationStore,
) {
    let t = now();
    let (a, b) = (
        "https://c.example/initiatives/a",
        "https://c.example/updates/b",
    );
    fed.note_missing_pictures(a, t - Duration::minutes(5), t - Duration::minutes(1))
        .await
        .unwrap();
    fed.note_missing_pictures(b, t, t + Duration::minutes(1))
        .await
        .unwrap();
    // Noting it again keeps the row as it was: its schedule runs on.
    fed.note_missing_pictures(a, t, t + Duration::hours(1))
        .await
        .unwrap();
    let due = fed.due_missing_pictures(t, 10).await.unwrap();
    assert_eq!(
        due,
        vec![MissingPictures {
            object_url: a.into(),
            attempts: 0,
            noted_at: t - Duration::minutes(5),
            due_at: t - Duration::minutes(1),
        }],
        "only what is due"
    );
    fed.reschedule_missing_pictures(a, Some(t + Duration::minutes(10)))
        .await
        .unwrap();
    let later = t + Duration::minutes(30);
    let due = fed.due_missing_pictures(later, 10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|m| (m.object_url.as_str(), m.attempts, m.due_at))
            .collect::<Vec<_>>(),
        vec![
            (b, 0, t + Duration::minutes(1)),
            (a, 1, t + Duration::minutes(10))
        ],
        "an attempt is counted, earliest due first"
    );
    assert_eq!(fed.due_missing_pictures(later, 1).await.unwrap().len(), 1);
    fed.reschedule_missing_pictures(a, None).await.unwrap();
    fed.reschedule_missing_pictures("https://c.example/never-noted", None)
        .await
        .unwrap();
    let due = fed.due_missing_pictures(later, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].object_url, b, "a forgotten object is not due again");
}

/// An admin's answer to a peer's follow: the decision and the queued `Accept` in one write,
/// only while that follow still waits; a second answer (another admin, a double click)
/// changes nothing and queues nothing.
pub async fn a_peer_answer_and_its_accept_are_one_write(_: &dyn Store, fed: &dyn FederationStore) {
    let peer = full_peer("asks.example");
    fed.save_peer(&peer).await.unwrap();
    let answer = |n: u32, incoming: Option<PeerState>| FedWrite {
        peer: Some((
            "asks.example".into(),
            PeerUpdate {
                incoming: Some(incoming),
                if_incoming_follow_id: peer.incoming_follow_id.clone(),
                if_incoming: Some(PeerState::Pending),
                ..Default::default()
            },
        )),
        // Written before the peer's row in the same write: gone again when the answer is refused.
        follow: vec![hromada_store::Follower {
            local: LocalActor::Instance,
            actor_id: format!("https://asks.example/users/u{n}"),
            follow_id: format!("https://asks.example/follows/{n}"),
            inbox: "https://asks.example/inbox".into(),
            shared_inbox: None,
            state: hromada_store::FollowerState::Accepted,
            created_at: now(),
        }],
        activities: vec![NewActivity {
            activity_id: format!("https://me.example/answers/{n}"),
            actor: LocalActor::Instance,
            body: "{}".into(),
            audience: Audience::Inboxes(vec![Target {
                host: "asks.example".into(),
                inbox: "https://asks.example/inbox".into(),
            }]),
        }],
        ..FedWrite::default()
    };
    fed.apply(&answer(1, Some(PeerState::Accepted)))
        .await
        .unwrap();
    let stored = fed.peer("asks.example").await.unwrap().unwrap();
    assert_eq!(stored.incoming, Some(PeerState::Accepted));
    assert!(fed.is_sent("https://me.example/answers/1").await.unwrap());
    assert!(matches!(
        fed.apply(&answer(2, None)).await,
        Err(hromada_store::StoreError::Conflict(_))
    ));
    assert!(!fed.is_sent("https://me.example/answers/2").await.unwrap());
    let follower = fed
        .follower(LocalActor::Instance, "https://asks.example/users/u2")
        .await
        .unwrap();
    assert!(follower.is_none(), "nothing of a refused write stays");
    assert_eq!(
        fed.peer("asks.example").await.unwrap().unwrap().incoming,
        Some(PeerState::Accepted)
    );
}
