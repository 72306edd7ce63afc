//! Federation state the maintainers read: follow requests held for approval and the replies and
//! mentions that reached an initiative, paged; concurrent writes; relay marks.

use chrono::Duration;
use hromada_store::{
    Audience, FedWrite, FederationStore, Follower, FollowerState, InboxItem, InboxItemKind,
    LocalActor, NewActivity, Relay, Store, StoreError, Target, WriteOutcome,
};
use uuid::Uuid;

use crate::support::{initiative, now};

fn follower(local: LocalActor, n: u32, state: FollowerState, minutes_ago: i64) -> Follower {
    Follower {
        local,
        actor_id: format!("https://social.example/users/u{n}"),
        follow_id: format!("https://social.example/follows/{n}"),
        inbox: format!("https://social.example/users/u{n}/inbox"),
        shared_inbox: Some("https://social.example/inbox".into()),
        state,
        created_at: now() - Duration::minutes(minutes_ago),
    }
}

pub async fn follow_requests_are_pending_follows_oldest_first(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    let i = initiative("kharkiv-medics");
    store.insert_initiative(&i, None).await.unwrap();
    let other = initiative("lviv-kitchen");
    store.insert_initiative(&other, None).await.unwrap();
    let local = LocalActor::Initiative(i.id);
    let write = FedWrite {
        follow: vec![
            follower(local, 1, FollowerState::Pending, 5),
            follower(local, 2, FollowerState::Accepted, 30),
            follower(local, 3, FollowerState::Pending, 60),
            follower(local, 4, FollowerState::Pending, 1),
            follower(
                LocalActor::Initiative(other.id),
                5,
                FollowerState::Pending,
                10,
            ),
        ],
        ..FedWrite::default()
    };
    fed.apply(&write).await.unwrap();

    let ids =
        |list: Vec<Follower>| -> Vec<String> { list.into_iter().map(|f| f.actor_id).collect() };
    let all = fed.follow_requests(local, 10, 0).await.unwrap();
    assert_eq!(all[0], write.follow[2], "every field round-trips");
    assert_eq!(
        ids(all),
        [3, 1, 4].map(|n| format!("https://social.example/users/u{n}"))
    );
    assert_eq!(
        ids(fed.follow_requests(local, 2, 1).await.unwrap()),
        [1, 4].map(|n| format!("https://social.example/users/u{n}"))
    );
    assert!(fed.follow_requests(local, 10, 3).await.unwrap().is_empty());
    assert!(
        fed.follow_requests(LocalActor::Instance, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );

    // Accepting one (the same follow, now accepted) takes it off the list.
    let mut accepted = write.follow[2].clone();
    accepted.state = FollowerState::Accepted;
    fed.apply(&FedWrite {
        follow: vec![accepted],
        ..FedWrite::default()
    })
    .await
    .unwrap();
    assert_eq!(
        ids(fed.follow_requests(local, 10, 0).await.unwrap()),
        [1, 4].map(|n| format!("https://social.example/users/u{n}"))
    );

    // A maintainer's Accept of a request that is still pending: the follow and the answer.
    let answer = |n: u32, attempt: u32| FedWrite {
        accept_follow: Some((local, format!("https://social.example/follows/{n}"))),
        activities: vec![NewActivity {
            activity_id: format!("https://me.example/accepts/{n}/{attempt}"),
            actor: local,
            body: "{}".into(),
            audience: Audience::Inboxes(vec![Target {
                host: "social.example".into(),
                inbox: "https://social.example/inbox".into(),
            }]),
        }],
        ..FedWrite::default()
    };
    fed.apply(&answer(1, 1)).await.unwrap();
    assert_eq!(
        ids(fed.follow_requests(local, 10, 0).await.unwrap()),
        ["https://social.example/users/u4"]
    );
    // Withdrawn (Undo) after it was read, or answered already: nothing happens, no answer.
    fed.apply(&FedWrite {
        unfollow: vec![(local, "https://social.example/users/u4".into())],
        ..FedWrite::default()
    })
    .await
    .unwrap();
    for n in [4, 1] {
        assert!(matches!(
            fed.apply(&answer(n, 2)).await,
            Err(StoreError::Conflict(_))
        ));
        let again = format!("https://me.example/accepts/{n}/2");
        assert!(!fed.is_sent(&again).await.unwrap(), "{again}");
    }
    assert!(
        fed.follower(local, "https://social.example/users/u4")
            .await
            .unwrap()
            .is_none(),
        "a withdrawn follow does not come back"
    );
}

pub async fn inbox_items_page_newest_first(store: &dyn Store, fed: &dyn FederationStore) {
    let i = initiative("kharkiv-medics");
    store.insert_initiative(&i, None).await.unwrap();
    let item = |n: i64, kind: InboxItemKind, initiative_id: Option<Uuid>| InboxItem {
        id: Uuid::new_v4(),
        kind,
        initiative_id,
        activity_id: format!("https://social.example/activities/{n}"),
        actor_id: "https://social.example/users/olena".into(),
        object_id: format!("https://social.example/notes/{n}"),
        content_html: format!("<p>Note {n}</p>"),
        in_reply_to: (kind == InboxItemKind::Reply)
            .then(|| "https://node.example/updates/x".into()),
        received_at: now() - Duration::minutes(n),
    };
    let items = vec![
        item(3, InboxItemKind::Reply, Some(i.id)),
        item(1, InboxItemKind::Mention, Some(i.id)),
        item(2, InboxItemKind::Reply, Some(i.id)),
        item(4, InboxItemKind::Flag, None),
    ];
    fed.apply(&FedWrite {
        inbox_items: items.clone(),
        ..FedWrite::default()
    })
    .await
    .unwrap();
    let objects =
        |list: Vec<InboxItem>| -> Vec<String> { list.into_iter().map(|i| i.object_id).collect() };
    let first = fed.inbox_items(Some(i.id), 2, 0).await.unwrap();
    assert_eq!(first[0], items[1], "every field round-trips");
    assert_eq!(
        objects(first),
        [1, 2].map(|n| format!("https://social.example/notes/{n}"))
    );
    assert_eq!(
        objects(fed.inbox_items(Some(i.id), 2, 2).await.unwrap()),
        ["https://social.example/notes/3".to_string()]
    );
    assert!(fed.inbox_items(Some(i.id), 2, 4).await.unwrap().is_empty());
    assert_eq!(
        objects(fed.inbox_items(None, 10, 0).await.unwrap()),
        ["https://social.example/notes/4".to_string()]
    );
}

/// Writes applied at the same time each get their own outcome, and a failing one changes
/// nothing and takes no other write with it (SQLite applies the writes waiting for its one
/// writer in one transaction).
pub async fn concurrent_writes_each_get_their_own_outcome(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    let i = initiative("kharkiv-medics");
    store.insert_initiative(&i, None).await.unwrap();
    let mention = |n: u32| {
        let activity_id = format!("https://social.example/activities/{n}");
        FedWrite {
            received: Some(activity_id.clone()),
            inbox_items: vec![InboxItem {
                id: Uuid::new_v4(),
                kind: InboxItemKind::Mention,
                initiative_id: Some(i.id),
                activity_id,
                actor_id: "https://social.example/users/olena".into(),
                object_id: format!("https://social.example/notes/{n}"),
                content_html: format!("<p>Note {n}</p>"),
                in_reply_to: None,
                received_at: now(),
            }],
            ..FedWrite::default()
        }
    };
    let taken = mention(0);
    fed.apply(&taken).await.unwrap();

    let again = mention(1);
    let mut clash = mention(7);
    clash.inbox_items[0].id = taken.inbox_items[0].id;
    let w: Vec<FedWrite> = (1..=5).map(mention).chain([again, clash]).collect();
    let outcomes = tokio::join!(
        fed.apply(&w[0]),
        fed.apply(&w[1]),
        fed.apply(&w[2]),
        fed.apply(&w[3]),
        fed.apply(&w[4]),
        fed.apply(&w[5]),
        fed.apply(&w[6]),
    );
    let applied = WriteOutcome::Applied { deliveries: 0 };
    for outcome in [&outcomes.1, &outcomes.2, &outcomes.3, &outcomes.4] {
        assert_eq!(outcome.as_ref().unwrap(), &applied);
    }
    // Activity 1 arrived twice: one of the two is applied, the other is a duplicate.
    let mut firsts = [*outcomes.0.as_ref().unwrap(), *outcomes.5.as_ref().unwrap()];
    firsts.sort_by_key(|o| *o == WriteOutcome::Duplicate);
    assert_eq!(firsts, [applied, WriteOutcome::Duplicate]);
    assert!(
        matches!(outcomes.6, Err(StoreError::Conflict(_))),
        "an inbox item id that is taken: {:?}",
        outcomes.6
    );

    let items = fed.inbox_items(Some(i.id), 100, 0).await.unwrap();
    let mut notes: Vec<String> = items.into_iter().map(|i| i.object_id).collect();
    notes.sort();
    assert_eq!(
        notes,
        (0..=5)
            .map(|n| format!("https://social.example/notes/{n}"))
            .collect::<Vec<_>>()
    );
    // The failed write left no trace: its activity is not taken as seen.
    assert_eq!(fed.apply(&mention(7)).await.unwrap(), applied);
}

/// A write relaying `version` of a listing to one peer inbox.
fn relay(version: &str, only_after_another: bool) -> FedWrite {
    let activity_id = format!("https://me.example/actor#relay/{}", Uuid::new_v4());
    FedWrite {
        relays: vec![Relay {
            object_url: "https://c.example/initiatives/kharkiv-medics".into(),
            version: version.into(),
            only_after_another,
            activity: NewActivity {
                body: format!(r#"{{"id":"{activity_id}","type":"Announce"}}"#),
                activity_id,
                actor: LocalActor::Instance,
                audience: Audience::Inboxes(vec![Target {
                    inbox: "https://peer.example/inbox".into(),
                    host: "peer.example".into(),
                }]),
            },
        }],
        ..FedWrite::default()
    }
}

/// Each version of a remote object is relayed once, however many writes carry it and even when
/// they are applied at the same time; a deletion "only after another" version goes out only
/// for an object relayed before; purged marks let a version go out again.
pub async fn each_version_of_an_object_is_relayed_once(
    _store: &dyn Store,
    fed: &dyn FederationStore,
) {
    let queued = |n| WriteOutcome::Applied { deliveries: n };
    assert_eq!(
        fed.apply(&relay("deleted", true)).await.unwrap(),
        queued(0),
        "never relayed here: its deletion is not relayed"
    );
    let (one, other) = (relay("v1", false), relay("v1", false));
    let (first, second) = tokio::join!(fed.apply(&one), fed.apply(&other));
    let mut outcomes = [first.unwrap(), second.unwrap()];
    outcomes.sort_by_key(|o| *o == queued(0));
    assert_eq!(
        outcomes,
        [queued(1), queued(0)],
        "one of two writes at once relays v1"
    );
    assert_eq!(fed.apply(&relay("v1", false)).await.unwrap(), queued(0));
    assert_eq!(fed.apply(&relay("v2", false)).await.unwrap(), queued(1));
    assert_eq!(fed.apply(&relay("deleted", true)).await.unwrap(), queued(1));
    assert_eq!(fed.apply(&relay("deleted", true)).await.unwrap(), queued(0));
    assert_eq!(
        fed.apply(&relay("deleted", false)).await.unwrap(),
        queued(0)
    );

    fed.purge_before(now() + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        fed.apply(&relay("deleted", false)).await.unwrap(),
        queued(1),
        "the mark was purged"
    );
}
