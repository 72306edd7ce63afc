//! Leases of background jobs: one holder at a time, renewed by it, taken over after expiry.

use std::sync::Arc;

use chrono::Duration;
use hromada_federation::LeasedJob;
use hromada_store::Store;

use crate::support::now;

pub async fn one_holder_renews_and_another_takes_over_after_expiry(store: &dyn Store) {
    let t0 = now();
    assert_eq!(store.job_lease("backfill").await.unwrap(), None);
    assert!(
        store
            .take_lease("backfill", "a", t0, t0 + Duration::seconds(30))
            .await
            .unwrap()
    );
    // While a's lease runs, b cannot take it, whatever b asks for.
    let t1 = t0 + Duration::seconds(10);
    assert!(
        !store
            .take_lease("backfill", "b", t1, t1 + Duration::seconds(30))
            .await
            .unwrap()
    );
    // Other jobs are leased separately.
    assert!(
        store
            .take_lease("website-checks", "b", t1, t1 + Duration::seconds(30))
            .await
            .unwrap()
    );
    // a renews: the expiry moves, the time it took the job stays.
    assert!(
        store
            .take_lease("backfill", "a", t1, t1 + Duration::seconds(30))
            .await
            .unwrap()
    );
    let lease = store.job_lease("backfill").await.unwrap().unwrap();
    assert_eq!(lease.holder, "a");
    assert_eq!(lease.taken_at, t0);
    assert_eq!(lease.expires_at, t1 + Duration::seconds(30));
    // a stops renewing (crashed): once the lease has expired, b takes over.
    let t2 = t1 + Duration::seconds(30);
    assert!(
        store
            .take_lease("backfill", "b", t2, t2 + Duration::seconds(30))
            .await
            .unwrap()
    );
    let lease = store.job_lease("backfill").await.unwrap().unwrap();
    assert_eq!((lease.holder.as_str(), lease.taken_at), ("b", t2));
    // a comes back and finds it taken.
    assert!(
        !store
            .take_lease("backfill", "a", t2, t2 + Duration::seconds(30))
            .await
            .unwrap()
    );
}

pub async fn releasing_frees_the_job_only_for_its_holder(store: &dyn Store) {
    let t0 = now();
    let until = t0 + Duration::seconds(60);
    assert!(store.take_lease("purge", "a", t0, until).await.unwrap());
    store.release_lease("purge", "b").await.unwrap();
    assert!(!store.take_lease("purge", "b", t0, until).await.unwrap());
    store.release_lease("purge", "a").await.unwrap();
    assert_eq!(store.job_lease("purge").await.unwrap(), None);
    assert!(store.take_lease("purge", "b", t0, until).await.unwrap());
}

pub async fn concurrent_takers_get_one_holder(store: &dyn Store) {
    let t0 = now();
    let until = t0 + Duration::seconds(60);
    let take = |holder| store.take_lease("race", holder, t0, until);
    let (a, b, c, d) = tokio::join!(take("a"), take("b"), take("c"), take("d"));
    let taken = [
        ("a", a.unwrap()),
        ("b", b.unwrap()),
        ("c", c.unwrap()),
        ("d", d.unwrap()),
    ];
    let winners: Vec<&str> = taken.iter().filter(|(_, t)| *t).map(|(h, _)| *h).collect();
    assert_eq!(winners.len(), 1, "{taken:?}");
    let lease = store.job_lease("race").await.unwrap().unwrap();
    assert_eq!(lease.holder, winners[0]);
}

/// A job's round that lasts longer than the lease keeps it (no other process starts the same
/// work meanwhile), and a round whose lease is lost stops at its next renewal.
pub async fn a_long_round_keeps_its_lease_and_a_lost_lease_stops_it(store: Arc<dyn Store>) {
    let lease = std::time::Duration::from_secs(1);
    let job = |holder: &str| LeasedJob::new(store.clone(), "backfill", holder.into(), lease);
    let (mut a, mut b, mut c) = (job("a"), job("b"), job("c"));
    let long_round = |length| async move {
        tokio::time::sleep(length).await;
        "done"
    };

    let (round, b_took_it) = tokio::join!(a.run_while_held(long_round(lease * 5 / 2)), async {
        tokio::time::sleep(lease * 8 / 5).await;
        b.held().await
    });
    assert_eq!(round, Some("done"), "the round ran to its end");
    assert!(!b_took_it, "a renewed its lease while the round ran");
    let lease_now = store.job_lease("backfill").await.unwrap().unwrap();
    assert_eq!(lease_now.holder, "a");

    // The lease is lost mid-round (released behind a's back, and c takes it).
    let started = std::time::Instant::now();
    let (round, c_took_it) = tokio::join!(a.run_while_held(long_round(lease * 10)), async {
        tokio::time::sleep(lease / 5).await;
        store.release_lease("backfill", "a").await.unwrap();
        c.held().await
    });
    assert!(c_took_it);
    assert_eq!(
        round, None,
        "a stopped the round once it found the lease gone"
    );
    assert!(
        started.elapsed() < lease * 5,
        "stopped at the next renewal, not at the end of the round"
    );
}
