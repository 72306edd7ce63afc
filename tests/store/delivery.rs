//! The delivery queue in bulk: one activity fanned out to every follower's delivery inbox, and a
//! worker's batch of results (deliveries, failing hosts, hosts that answered) recorded at once.

use chrono::Duration;
use hromada_store::{
    Audience, DeliveryResult, DeliveryStatus, FedWrite, FederationStore, FinishedDeliveries,
    Follower, FollowerState, HostState, LocalActor, NewActivity, Store, Target, WriteOutcome,
};

use crate::support::{initiative, now};

/// A follower on `host` whose deliveries go to the host's shared inbox, or to its own inbox.
fn follower(local: LocalActor, n: u32, host: &str, shared: bool, state: FollowerState) -> Follower {
    Follower {
        local,
        actor_id: format!("https://{host}/users/u{n}"),
        follow_id: format!("https://{host}/follows/{n}"),
        inbox: format!("https://{host}/users/u{n}/inbox"),
        shared_inbox: shared.then(|| format!("https://{host}/inbox")),
        state,
        created_at: now(),
    }
}

fn to_followers(local: LocalActor, id: &str) -> NewActivity {
    NewActivity {
        activity_id: id.into(),
        actor: local,
        body: format!(r#"{{"id":"{id}","type":"Create"}}"#),
        audience: Audience::Followers(local),
    }
}

fn result(status: DeliveryStatus, at: chrono::DateTime<chrono::Utc>) -> DeliveryResult {
    DeliveryResult {
        status,
        attempted: true,
        next_attempt_at: at,
        http_status: None,
        error: None,
    }
}

/// A new initiative followed from each of `hosts` (one follower per entry, no shared inbox),
/// and one activity of it queued for them all.
async fn one_activity_to(
    store: &dyn Store,
    fed: &dyn FederationStore,
    handle: &str,
    hosts: &[&str],
) {
    let i = initiative(handle);
    store.insert_initiative(&i, None).await.unwrap();
    let local = LocalActor::Initiative(i.id);
    let follow = hosts
        .iter()
        .enumerate()
        .map(|(n, host)| follower(local, n as u32, host, false, FollowerState::Accepted))
        .collect();
    fed.apply(&FedWrite {
        follow,
        ..Default::default()
    })
    .await
    .unwrap();
    fed.apply(&FedWrite {
        activities: vec![to_followers(
            local,
            &format!("https://me.example/a/{handle}"),
        )],
        ..Default::default()
    })
    .await
    .unwrap();
}

pub async fn fan_out_queues_each_delivery_inbox_once(store: &dyn Store, fed: &dyn FederationStore) {
    let i = initiative("kharkiv-medics");
    store.insert_initiative(&i, None).await.unwrap();
    let local = LocalActor::Initiative(i.id);
    let mut follow = Vec::new();
    // 300 accounts on 30 servers with a shared inbox, 20 without one, and some who do not count.
    for n in 0..300 {
        follow.push(follower(
            local,
            n,
            &format!("s{}.example", n % 30),
            true,
            FollowerState::Accepted,
        ));
    }
    for n in 300..320 {
        follow.push(follower(
            local,
            n,
            "solo.example",
            false,
            FollowerState::Accepted,
        ));
    }
    follow.push(follower(
        local,
        400,
        "waiting.example",
        true,
        FollowerState::Pending,
    ));
    follow.push(follower(
        LocalActor::Instance,
        401,
        "other.example",
        true,
        FollowerState::Accepted,
    ));
    fed.apply(&FedWrite {
        follow,
        ..Default::default()
    })
    .await
    .unwrap();

    let write = FedWrite {
        activities: vec![to_followers(local, "https://me.example/a/1")],
        ..Default::default()
    };
    assert!(!fed.is_sent("https://me.example/a/1").await.unwrap());
    assert_eq!(
        fed.apply(&write).await.unwrap(),
        WriteOutcome::Applied { deliveries: 50 }
    );
    assert!(fed.is_sent("https://me.example/a/1").await.unwrap());
    assert!(!fed.is_sent("https://me.example/a/2").await.unwrap());

    let at = now();
    let claimed = fed
        .claim_deliveries(at, 1000, at + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 50);
    let mut inboxes: Vec<&str> = claimed.iter().map(|d| d.inbox.as_str()).collect();
    inboxes.sort();
    inboxes.dedup();
    assert_eq!(inboxes.len(), 50, "one delivery per delivery inbox");
    assert!(inboxes.contains(&"https://s7.example/inbox"));
    assert!(inboxes.contains(&"https://solo.example/users/u305/inbox"));
    assert!(
        !inboxes
            .iter()
            .any(|i| i.contains("waiting.example") || i.contains("other.example"))
    );
    for d in &claimed {
        assert_eq!(d.activity_id, "https://me.example/a/1");
        assert_eq!(d.actor, local);
        assert_eq!(
            &*d.body,
            r#"{"id":"https://me.example/a/1","type":"Create"}"#
        );
        assert_eq!(d.host, hromada_store::inbox_host(&d.inbox));
        assert_eq!(d.attempts, 0);
    }

    // Nobody to tell: nothing is stored, so the same id can go out later when someone follows.
    let other = initiative("lviv-kitchen");
    store.insert_initiative(&other, None).await.unwrap();
    let lonely = LocalActor::Initiative(other.id);
    let write = FedWrite {
        activities: vec![to_followers(lonely, "https://me.example/a/2")],
        ..Default::default()
    };
    assert_eq!(
        fed.apply(&write).await.unwrap(),
        WriteOutcome::Applied { deliveries: 0 }
    );
    assert_eq!(
        fed.apply(&write).await.unwrap(),
        WriteOutcome::Applied { deliveries: 0 }
    );

    // Listed inboxes: a repeated inbox is queued once, in the order given.
    let targets: Vec<Target> = ["b", "a", "b", "c"]
        .iter()
        .map(|h| Target {
            inbox: format!("https://{h}.example/inbox"),
            host: format!("{h}.example"),
        })
        .collect();
    let write = FedWrite {
        activities: vec![NewActivity {
            activity_id: "https://me.example/a/3".into(),
            actor: LocalActor::Instance,
            body: "{}".into(),
            audience: Audience::Inboxes(targets),
        }],
        ..Default::default()
    };
    assert_eq!(
        fed.apply(&write).await.unwrap(),
        WriteOutcome::Applied { deliveries: 3 }
    );
    let at = now();
    let claimed = fed
        .claim_deliveries(at, 1000, at + Duration::minutes(2))
        .await
        .unwrap();
    let hosts: Vec<&str> = claimed.iter().map(|d| d.host.as_str()).collect();
    assert_eq!(hosts, ["b.example", "a.example", "c.example"]);
}

pub async fn finishing_a_batch_records_results_and_hosts(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    one_activity_to(
        store,
        fed,
        "kharkiv-medics",
        &[
            "ok.example",
            "ok.example",
            "no.example",
            "down.example",
            "back.example",
            "back.example",
        ],
    )
    .await;

    let t0 = now();
    let lease = t0 + Duration::minutes(2);
    // back.example failed a while ago: its deliveries wait; the others are claimed.
    let back_failing = HostState {
        consecutive_failures: 2,
        first_failure_at: Some(t0 - Duration::hours(1)),
        last_failure_at: Some(t0 - Duration::minutes(5)),
        last_error: Some("connection refused".into()),
        ..HostState::new("back.example")
    };
    let claimed = fed.claim_deliveries(t0, 100, lease).await.unwrap();
    assert_eq!(claimed.len(), 6);
    let id_of = |inbox_host: &str, nth: usize| {
        claimed
            .iter()
            .filter(|d| d.host == inbox_host)
            .nth(nth)
            .unwrap()
            .claim()
    };
    let later = t0 + Duration::hours(3);
    let retry = DeliveryResult {
        status: DeliveryStatus::Pending,
        attempted: true,
        next_attempt_at: later,
        http_status: Some(503),
        error: Some("HTTP 503".into()),
    };
    fed.finish_deliveries(&FinishedDeliveries {
        results: vec![
            (id_of("back.example", 0), retry.clone()),
            (id_of("back.example", 1), retry.clone()),
        ],
        hosts: vec![back_failing.clone()],
        answered: vec![],
    })
    .await
    .unwrap();
    assert_eq!(
        fed.host_state("back.example").await.unwrap(),
        Some(back_failing)
    );

    let down = HostState {
        consecutive_failures: 1,
        first_failure_at: Some(t0),
        last_failure_at: Some(t0),
        last_error: Some("timed out".into()),
        next_probe_at: Some(later),
        ..HostState::new("down.example")
    };
    let delivered = DeliveryResult {
        http_status: Some(202),
        ..result(DeliveryStatus::Delivered, t0)
    };
    let rejected = DeliveryResult {
        http_status: Some(403),
        error: Some("HTTP 403".into()),
        ..result(DeliveryStatus::Rejected, t0)
    };
    let batch = FinishedDeliveries {
        results: vec![
            (id_of("ok.example", 0), delivered.clone()),
            (id_of("ok.example", 1), delivered.clone()),
            (id_of("no.example", 0), rejected),
            (id_of("down.example", 0), retry.clone()),
        ],
        hosts: vec![down.clone()],
        answered: vec![
            ("ok.example".into(), t0),
            ("no.example".into(), t0),
            ("back.example".into(), t0),
        ],
    };
    assert_eq!(batch.by_result().len(), 3, "one group per distinct result");
    fed.finish_deliveries(&batch).await.unwrap();
    fed.finish_deliveries(&FinishedDeliveries::default())
        .await
        .unwrap();

    let counts = fed.delivery_counts().await.unwrap();
    let count = |host: &str, status: DeliveryStatus| {
        counts
            .iter()
            .find(|c| c.host == host && c.status == status)
            .map_or(0, |c| c.count)
    };
    assert_eq!(count("ok.example", DeliveryStatus::Delivered), 2);
    assert_eq!(count("no.example", DeliveryStatus::Rejected), 1);
    assert_eq!(count("down.example", DeliveryStatus::Pending), 1);
    assert_eq!(count("back.example", DeliveryStatus::Pending), 2);

    assert_eq!(fed.host_state("down.example").await.unwrap(), Some(down));
    let ok = fed.host_state("ok.example").await.unwrap().unwrap();
    assert_eq!((ok.consecutive_failures, ok.last_success_at), (0, Some(t0)));
    // A healthy host's last success moves on to the minute, not with every batch.
    for (answered_at, stored) in [
        (t0 + Duration::seconds(30), t0),
        (t0 + Duration::seconds(61), t0 + Duration::seconds(61)),
    ] {
        let answered = FinishedDeliveries {
            answered: vec![("ok.example".into(), answered_at)],
            ..Default::default()
        };
        fed.finish_deliveries(&answered).await.unwrap();
        let ok = fed.host_state("ok.example").await.unwrap().unwrap();
        assert_eq!(ok.last_success_at, Some(stored));
    }
    // back.example answered: its failures reset (the last error stays to be read), and its
    // waiting deliveries are due at once, with their attempts counted.
    let back = fed.host_state("back.example").await.unwrap().unwrap();
    assert_eq!(
        (
            back.consecutive_failures,
            back.first_failure_at,
            back.next_probe_at,
            back.last_success_at
        ),
        (0, None, None, Some(t0))
    );
    assert_eq!(back.last_error.as_deref(), Some("connection refused"));
    let t1 = now() + Duration::seconds(1);
    let again = fed
        .claim_deliveries(t1, 100, t1 + Duration::minutes(2))
        .await
        .unwrap();
    let hosts: Vec<(&str, i32)> = again
        .iter()
        .map(|d| (d.host.as_str(), d.attempts))
        .collect();
    assert_eq!(
        hosts,
        [("back.example", 1), ("back.example", 1)],
        "the retry at {later} of down.example is not due"
    );
}

/// A worker whose lease ran out (the row was claimed again) cannot overwrite the result of
/// the worker that holds the row now.
pub async fn a_late_result_of_an_expired_claim_is_dropped(
    store: &dyn Store,
    fed: &dyn FederationStore,
) {
    one_activity_to(store, fed, "slow-claims", &["slow.example"]).await;

    let t0 = now();
    let first = fed
        .claim_deliveries(t0, 10, t0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let t1 = t0 + Duration::minutes(2);
    let second = fed
        .claim_deliveries(t1, 10, t1 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the expired lease is claimed again");
    assert_eq!(second[0].id, first[0].id);

    let finish = |claim, status| FinishedDeliveries {
        results: vec![(claim, result(status, t1))],
        ..Default::default()
    };
    let stored = |status| async move {
        fed.delivery_counts()
            .await
            .unwrap()
            .iter()
            .find(|c| c.host == "slow.example" && c.status == status)
            .map_or(0, |c| c.count)
    };
    fed.finish_deliveries(&finish(first[0].claim(), DeliveryStatus::Rejected))
        .await
        .unwrap();
    assert_eq!(
        stored(DeliveryStatus::Rejected).await,
        0,
        "the late result is dropped"
    );
    assert_eq!(stored(DeliveryStatus::Pending).await, 1);
    fed.finish_deliveries(&finish(second[0].claim(), DeliveryStatus::Delivered))
        .await
        .unwrap();
    assert_eq!(stored(DeliveryStatus::Delivered).await, 1);
    assert_eq!(stored(DeliveryStatus::Pending).await, 0);
}
