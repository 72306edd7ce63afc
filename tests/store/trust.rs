//! Trust storage: vouches and warnings, the derived status kept in step with every statement,
//! withdrawal and policy change, the transparency log, the search filter, reports and website
//! checks.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use chrono::Duration;
use hromada_domain::trust::{
    Report, ReportCategory, ReportStatus, Reporter, TransparencyAction, TransparencyEntry,
    TrustLevel, TrustPolicy, Vouch, VouchBasis, Warning, WarningReason, WebsiteCheck,
};
use hromada_domain::{Initiative, InitiativeStatus};
use hromada_store::{ChangeKind, SearchQuery, Store, StoreError, Withdrawal};
use uuid::Uuid;

use crate::support::{found, initiative, now};

const HERE: &str = "here.example";

fn vouch(i: &Initiative, collective: &str, minutes_ago: i64) -> Vouch {
    let id = Uuid::new_v4();
    let local = collective == HERE;
    Vouch {
        id,
        ap_id: format!("https://{collective}/vouches/{id}"),
        initiative_id: i.id,
        collective: collective.into(),
        local,
        author: local.then(|| "moderator".to_string()),
        statement: format!("{collective}: we have worked with them since 2022 — з 2022 року"),
        basis: VouchBasis::CheckedReceipts,
        created_at: now() - Duration::minutes(minutes_ago),
        withdrawn_at: None,
        withdrawal_reason: None,
    }
}

fn warning(i: &Initiative, collective: &str) -> Warning {
    let id = Uuid::new_v4();
    let local = collective == HERE;
    Warning {
        id,
        ap_id: format!("https://{collective}/warnings/{id}"),
        initiative_id: i.id,
        collective: collective.into(),
        local,
        author: local.then(|| "moderator".to_string()),
        statement: "The jar belongs to someone else".into(),
        reason: WarningReason::SuspectedFraud,
        created_at: now(),
        withdrawn_at: None,
        withdrawal_reason: None,
    }
}

fn policy(trusted: &[&str], threshold: u32) -> TrustPolicy {
    TrustPolicy {
        trusted: trusted.iter().map(|s| s.to_string()).collect(),
        ignored: Vec::new(),
        threshold,
        warnings_dispute: true,
        updated_at: Some(now()),
    }
}

fn withdrawal(reason: &str) -> Withdrawal {
    Withdrawal {
        at: now(),
        reason: reason.into(),
    }
}

async fn level(store: &dyn Store, i: &Initiative) -> TrustLevel {
    store
        .trust_levels(&[i.id])
        .await
        .unwrap()
        .get(&i.id)
        .copied()
        .unwrap_or(TrustLevel::Unverified)
}

async fn stored(store: &dyn Store, handle: &str) -> Initiative {
    let i = initiative(handle);
    store.insert_initiative(&i, None).await.unwrap();
    i
}

/// What the statements collection pages through: other nodes' listings this node's own
/// statements about still stand.
pub async fn remote_listings_with_own_statements_page_by_id(store: &dyn Store) {
    let remote = |handle: &str| Initiative {
        origin: Some("there.example".into()),
        submitter_contact: None,
        ..initiative(handle)
    };
    let (vouched, warned, theirs, withdrawn) = (
        remote("r-vouched"),
        remote("r-warned"),
        remote("r-theirs"),
        remote("r-withdrawn"),
    );
    for i in [&vouched, &warned, &theirs, &withdrawn] {
        store.insert_initiative(i, None).await.unwrap();
    }
    let own = stored(store, "r-own-listing").await;
    // Two own statements about one listing, one withdrawn: listed once.
    let earlier = vouch(&vouched, HERE, 5);
    store.insert_vouch(&earlier, None).await.unwrap();
    store
        .withdraw_vouch(earlier.id, &withdrawal("x"), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&vouched, HERE, 4), None)
        .await
        .unwrap();
    let gone = vouch(&warned, HERE, 3);
    store.insert_vouch(&gone, None).await.unwrap();
    store
        .withdraw_vouch(gone.id, &withdrawal("x"), None)
        .await
        .unwrap();
    store
        .insert_warning(&warning(&warned, HERE), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&theirs, "kyiv.example", 2), None)
        .await
        .unwrap();
    let only = vouch(&withdrawn, HERE, 1);
    store.insert_vouch(&only, None).await.unwrap();
    store
        .withdraw_vouch(only.id, &withdrawal("x"), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&own, HERE, 0), None)
        .await
        .unwrap();

    let mut expected = vec![vouched.id, warned.id];
    expected.sort();
    let page = |after, limit| store.remote_listings_with_own_statements(after, limit);
    assert_eq!(page(None, 10).await.unwrap(), expected, "each once, by id");
    assert_eq!(page(None, 1).await.unwrap(), [expected[0]]);
    assert_eq!(page(Some(expected[0]), 10).await.unwrap(), [expected[1]]);
    assert!(page(Some(expected[1]), 10).await.unwrap().is_empty());
}

pub async fn statements_round_trip(store: &dyn Store) {
    let i = stored(store, "trust-home").await;
    let mine = vouch(&i, HERE, 10);
    let theirs = Vouch {
        withdrawn_at: Some(now()),
        withdrawal_reason: Some("they stopped reporting".into()),
        ..vouch(&i, "kyiv.example:8443", 20)
    };
    let w = warning(&i, "lviv.example");
    store.insert_vouch(&mine, None).await.unwrap();
    store.insert_vouch(&theirs, None).await.unwrap();
    store.insert_warning(&w, None).await.unwrap();

    assert_eq!(
        store.vouch_by_id(mine.id).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(
        store.vouch_by_ap_id(&theirs.ap_id).await.unwrap(),
        Some(theirs.clone())
    );
    assert_eq!(store.warning_by_id(w.id).await.unwrap(), Some(w.clone()));
    assert_eq!(
        store.warning_by_ap_id(&w.ap_id).await.unwrap(),
        Some(w.clone())
    );
    // A vouch is not a warning, and unknown ids are not found.
    assert_eq!(store.warning_by_id(mine.id).await.unwrap(), None);
    assert_eq!(store.vouch_by_ap_id(&w.ap_id).await.unwrap(), None);
    assert_eq!(store.vouch_by_id(Uuid::new_v4()).await.unwrap(), None);

    let other = stored(store, "trust-other").await;
    let elsewhere = vouch(&other, HERE, 0);
    store.insert_vouch(&elsewhere, None).await.unwrap();
    let about = store.statements_about(&[i.id]).await.unwrap();
    assert_eq!(
        about.vouches,
        [theirs.clone(), mine.clone()],
        "oldest first"
    );
    assert_eq!(about.warnings, [w]);
    let both = store.statements_about(&[i.id, other.id]).await.unwrap();
    assert_eq!(both.vouches.len(), 3);
    assert_eq!(both.of(other.id).vouches, [elsewhere]);
    assert!(
        store
            .statements_about(&[])
            .await
            .unwrap()
            .vouches
            .is_empty()
    );

    // The same id, or the same ActivityPub id (a replay), is refused.
    assert!(matches!(
        store.insert_vouch(&mine, None).await,
        Err(StoreError::Conflict(_))
    ));
    let replay = Vouch {
        id: Uuid::new_v4(),
        ..theirs.clone()
    };
    assert!(matches!(
        store.insert_vouch(&replay, None).await,
        Err(StoreError::Conflict(_))
    ));
    let orphan = Vouch {
        initiative_id: Uuid::new_v4(),
        ..vouch(&i, HERE, 0)
    };
    assert!(matches!(
        store.insert_vouch(&orphan, None).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn status_follows_statements_and_withdrawals(store: &dyn Store) {
    let i = stored(store, "trust-status").await;
    assert_eq!(level(store, &i).await, TrustLevel::Unverified);

    // Default policy: nobody else is trusted, this node's moderators always count.
    let stranger = vouch(&i, "stranger.example", 5);
    assert_eq!(
        store.insert_vouch(&stranger, None).await.unwrap(),
        TrustLevel::Vouched
    );
    assert_eq!(level(store, &i).await, TrustLevel::Vouched);
    let mine = vouch(&i, HERE, 1);
    assert_eq!(
        store.insert_vouch(&mine, None).await.unwrap(),
        TrustLevel::Verified
    );
    assert_eq!(level(store, &i).await, TrustLevel::Verified);

    // This node says one thing at a time about a listing.
    assert!(matches!(
        store.insert_warning(&warning(&i, HERE), None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_vouch(&vouch(&i, HERE, 0), None).await,
        Err(StoreError::Conflict(_))
    ));
    // A trusted collective's warning disputes it.
    store
        .set_trust_policy(&policy(&["watchdog.example"], 1), None)
        .await
        .unwrap();
    let w = warning(&i, "watchdog.example");
    assert_eq!(
        store.insert_warning(&w, None).await.unwrap(),
        TrustLevel::Disputed
    );
    assert_eq!(level(store, &i).await, TrustLevel::Disputed);
    let lifted = store
        .withdraw_warning(w.id, &withdrawal("it was a misunderstanding"), None)
        .await
        .unwrap();
    assert_eq!(lifted, TrustLevel::Verified);
    let w = store.warning_by_id(w.id).await.unwrap().unwrap();
    assert!(w.withdrawn_at.is_some());
    assert_eq!(
        w.withdrawal_reason.as_deref(),
        Some("it was a misunderstanding")
    );

    assert_eq!(
        store
            .withdraw_vouch(mine.id, &withdrawal("we lost contact"), None)
            .await
            .unwrap(),
        TrustLevel::Vouched
    );
    assert_eq!(level(store, &i).await, TrustLevel::Vouched);

    // Twice, unknown, or the wrong kind.
    assert!(matches!(
        store
            .withdraw_vouch(mine.id, &withdrawal("again"), None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .withdraw_vouch(Uuid::new_v4(), &withdrawal("x"), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .withdraw_warning(stranger.id, &withdrawal("x"), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(level(store, &i).await, TrustLevel::Vouched);
}

pub async fn policy_change_recomputes_every_status(store: &dyn Store) {
    assert_eq!(store.trust_policy().await.unwrap(), TrustPolicy::default());
    let a = stored(store, "trust-a").await;
    let b = stored(store, "trust-b").await;
    let untouched = stored(store, "trust-untouched").await;
    store
        .insert_vouch(&vouch(&a, "kyiv.example", 3), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&b, "kyiv.example", 2), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&b, "lviv.example", 1), None)
        .await
        .unwrap();
    assert_eq!(level(store, &a).await, TrustLevel::Vouched);
    assert_eq!(level(store, &b).await, TrustLevel::Vouched);

    let trusting = policy(&["kyiv.example", "lviv.example"], 1);
    store.set_trust_policy(&trusting, None).await.unwrap();
    assert_eq!(store.trust_policy().await.unwrap(), trusting);
    assert_eq!(level(store, &a).await, TrustLevel::Verified);
    assert_eq!(level(store, &b).await, TrustLevel::Verified);
    assert_eq!(level(store, &untouched).await, TrustLevel::Unverified);

    let stricter = policy(&["kyiv.example", "lviv.example"], 2);
    store.set_trust_policy(&stricter, None).await.unwrap();
    assert_eq!(level(store, &a).await, TrustLevel::Vouched);
    assert_eq!(level(store, &b).await, TrustLevel::Verified);

    let ignoring = TrustPolicy {
        ignored: vec!["kyiv.example".into()],
        ..policy(&["lviv.example"], 1)
    };
    store.set_trust_policy(&ignoring, None).await.unwrap();
    assert_eq!(store.trust_policy().await.unwrap(), ignoring);
    assert_eq!(level(store, &a).await, TrustLevel::Unverified);
    assert_eq!(level(store, &b).await, TrustLevel::Verified);

    let levels = store
        .trust_levels(&[a.id, b.id, untouched.id])
        .await
        .unwrap();
    assert_eq!(levels.get(&b.id), Some(&TrustLevel::Verified));
    assert!(store.trust_levels(&[]).await.unwrap().is_empty());
}

pub async fn concurrent_vouches_all_count(store: &dyn Store) {
    let i = stored(store, "trust-busy").await;
    let collectives: Vec<String> = (0..8).map(|n| format!("node{n}.example")).collect();
    let names: Vec<&str> = collectives.iter().map(String::as_str).collect();
    store
        .set_trust_policy(&policy(&names, 8), None)
        .await
        .unwrap();
    let vouches: Vec<Vouch> = names.iter().map(|c| vouch(&i, c, 0)).collect();
    let mut work: Vec<Insert<'_>> = Vec::new();
    for v in &vouches {
        work.push(Box::pin(store.insert_vouch(v, None)));
    }
    for result in join_all(work).await {
        result.unwrap();
    }
    // Had two writers missed each other's vouch, the last status written would be Vouched.
    assert_eq!(level(store, &i).await, TrustLevel::Verified);
}

pub async fn transparency_log_newest_first_and_atomic(store: &dyn Store) {
    let i = stored(store, "trust-log").await;
    let v = vouch(&i, HERE, 0);
    let issued = TransparencyEntry {
        at: now() - Duration::seconds(3),
        ..TransparencyEntry::about_vouch(TransparencyAction::VouchIssued, now(), "trust-log", &v)
    };
    store.insert_vouch(&v, Some(&issued)).await.unwrap();
    let p = policy(&["kyiv.example"], 2);
    let changed = TransparencyEntry {
        id: Uuid::now_v7(),
        at: now() - Duration::seconds(2),
        action: TransparencyAction::PolicyChanged,
        initiative: None,
        initiative_id: None,
        statement_id: None,
        ap_id: None,
        statement: None,
        reason: Some("we met the Kyiv collective".into()),
        details: serde_json::json!({"before": TrustPolicy::default(), "after": p}),
    };
    store.set_trust_policy(&p, Some(&changed)).await.unwrap();
    let withdrawn_v = Vouch {
        withdrawn_at: Some(now()),
        withdrawal_reason: Some("no reports for a year".into()),
        ..v.clone()
    };
    let withdrawn = TransparencyEntry {
        at: now() - Duration::seconds(1),
        ..TransparencyEntry::about_vouch(
            TransparencyAction::VouchWithdrawn,
            now(),
            "trust-log",
            &withdrawn_v,
        )
    };
    store
        .withdraw_vouch(v.id, &withdrawal("no reports for a year"), Some(&withdrawn))
        .await
        .unwrap();

    let log = store.transparency_log(10, 0).await.unwrap();
    assert_eq!(log, [withdrawn.clone(), changed.clone(), issued.clone()]);
    assert_eq!(store.transparency_log(1, 1).await.unwrap(), [changed]);

    // A refused write leaves no entry behind.
    let duplicate = TransparencyEntry::about_vouch(TransparencyAction::VouchIssued, now(), "x", &v);
    assert!(store.insert_vouch(&v, Some(&duplicate)).await.is_err());
    let again = TransparencyEntry::about_vouch(TransparencyAction::VouchWithdrawn, now(), "x", &v);
    assert!(
        store
            .withdraw_vouch(v.id, &withdrawal("again"), Some(&again))
            .await
            .is_err()
    );
    assert_eq!(store.transparency_log(10, 0).await.unwrap().len(), 3);
}

pub async fn search_filters_by_trust_status(store: &dyn Store) {
    let verified = stored(store, "t-verified").await;
    let vouched = stored(store, "t-vouched").await;
    let disputed = stored(store, "t-disputed").await;
    let nothing = stored(store, "t-nothing").await;
    let lapsed = stored(store, "t-lapsed").await;
    store
        .insert_vouch(&vouch(&verified, HERE, 0), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&vouched, "stranger.example", 0), None)
        .await
        .unwrap();
    store
        .insert_vouch(&vouch(&disputed, "stranger.example", 1), None)
        .await
        .unwrap();
    store
        .insert_warning(&warning(&disputed, HERE), None)
        .await
        .unwrap();
    let gone = vouch(&lapsed, HERE, 0);
    store.insert_vouch(&gone, None).await.unwrap();
    store
        .withdraw_vouch(gone.id, &withdrawal("lapsed"), None)
        .await
        .unwrap();
    let _ = nothing;

    let by = |trust| SearchQuery {
        trust: Some(trust),
        ..Default::default()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(found(store, by(TrustLevel::Verified)).await, ["t-verified"]);
    assert_eq!(found(store, by(TrustLevel::Vouched)).await, ["t-vouched"]);
    assert_eq!(found(store, by(TrustLevel::Disputed)).await, ["t-disputed"]);
    assert_eq!(
        sorted(found(store, by(TrustLevel::Unverified)).await),
        ["t-lapsed", "t-nothing"]
    );
    let page = store
        .search_initiatives(&by(TrustLevel::Verified))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    // Combined with other filters, and following a policy change.
    let text = SearchQuery {
        text: Some("Initiative".into()),
        ..by(TrustLevel::Vouched)
    };
    assert_eq!(found(store, text).await, ["t-vouched"]);
    store
        .set_trust_policy(&policy(&["stranger.example"], 1), None)
        .await
        .unwrap();
    assert_eq!(
        sorted(found(store, by(TrustLevel::Verified)).await),
        ["t-verified", "t-vouched"]
    );
    assert!(found(store, by(TrustLevel::Vouched)).await.is_empty());
}

pub async fn reports_round_trip_and_resolve(store: &dyn Store) {
    let i = stored(store, "trust-reported").await;
    let t = now();
    let anonymous = Report {
        id: Uuid::new_v4(),
        initiative_id: i.id,
        reporter: Reporter::Anonymous {
            contact: Some("signal: +380 00 000 0000".into()),
        },
        category: ReportCategory::Fraud,
        reason: "Збір на чужу банку / the jar is someone else's".into(),
        status: ReportStatus::Open,
        created_at: t - Duration::minutes(2),
        resolved_at: None,
        resolved_by: None,
        resolution: None,
        activity_id: None,
    };
    let remote = Report {
        id: Uuid::new_v4(),
        reporter: Reporter::Remote {
            actor_id: "https://mastodon.example/users/alice".into(),
        },
        category: ReportCategory::Endangers,
        reason: "The page shows a street address".into(),
        created_at: t - Duration::minutes(1),
        activity_id: Some("https://mastodon.example/flags/1".into()),
        ..anonymous.clone()
    };
    let user = Report {
        id: Uuid::new_v4(),
        reporter: Reporter::User {
            username: "olena".into(),
        },
        category: ReportCategory::Inactive,
        created_at: t,
        ..anonymous.clone()
    };
    for r in [&anonymous, &remote, &user] {
        store.insert_report(r).await.unwrap();
    }
    assert_eq!(
        store.report_by_id(remote.id).await.unwrap(),
        Some(remote.clone())
    );
    assert_eq!(store.report_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(
        store.reports(None, 10, 0).await.unwrap(),
        [user.clone(), remote.clone(), anonymous.clone()]
    );
    assert!(matches!(
        store.insert_report(&anonymous).await,
        Err(StoreError::Conflict(_))
    ));
    let replayed_flag = Report {
        id: Uuid::new_v4(),
        ..remote.clone()
    };
    assert!(matches!(
        store.insert_report(&replayed_flag).await,
        Err(StoreError::Conflict(_))
    ));
    let orphan = Report {
        id: Uuid::new_v4(),
        initiative_id: Uuid::new_v4(),
        ..anonymous.clone()
    };
    assert!(matches!(
        store.insert_report(&orphan).await,
        Err(StoreError::NotFound)
    ));

    let at = now();
    store
        .resolve_report(
            remote.id,
            ReportStatus::Resolved,
            "moderator",
            at,
            "asked them to remove the address",
        )
        .await
        .unwrap();
    let resolved = store.report_by_id(remote.id).await.unwrap().unwrap();
    assert_eq!(resolved.status, ReportStatus::Resolved);
    assert_eq!(resolved.resolved_at, Some(at));
    assert_eq!(resolved.resolved_by.as_deref(), Some("moderator"));
    assert_eq!(
        resolved.resolution.as_deref(),
        Some("asked them to remove the address")
    );
    assert!(matches!(
        store
            .resolve_report(remote.id, ReportStatus::Dismissed, "moderator", at, "again")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .resolve_report(Uuid::new_v4(), ReportStatus::Resolved, "moderator", at, "x")
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .reports(Some(ReportStatus::Open), 10, 0)
            .await
            .unwrap(),
        [user.clone(), anonymous.clone()]
    );
    assert_eq!(
        store
            .reports(Some(ReportStatus::Resolved), 10, 0)
            .await
            .unwrap(),
        [resolved]
    );
    assert_eq!(store.reports(None, 1, 1).await.unwrap().len(), 1);

    // Dismissing is closing too: it leaves the open list and cannot be undone by resolving.
    assert!(matches!(
        store
            .resolve_report(anonymous.id, ReportStatus::Open, "moderator", at, "x")
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .resolve_report(
            anonymous.id,
            ReportStatus::Dismissed,
            "moderator",
            at,
            "no evidence",
        )
        .await
        .unwrap();
    let dismissed = store.report_by_id(anonymous.id).await.unwrap().unwrap();
    assert_eq!(dismissed.status, ReportStatus::Dismissed);
    assert_eq!(dismissed.resolution.as_deref(), Some("no evidence"));
    assert_eq!(
        store
            .reports(Some(ReportStatus::Dismissed), 10, 0)
            .await
            .unwrap(),
        [dismissed]
    );
    assert_eq!(
        store
            .reports(Some(ReportStatus::Open), 10, 0)
            .await
            .unwrap(),
        std::slice::from_ref(&user)
    );
    assert!(matches!(
        store
            .resolve_report(anonymous.id, ReportStatus::Resolved, "moderator", at, "x")
            .await,
        Err(StoreError::Conflict(_))
    ));
}

pub async fn website_checks_and_what_is_due(store: &dyn Store) {
    let fresh = stored(store, "site-fresh").await;
    let checked = stored(store, "site-checked").await;
    let stale = stored(store, "site-stale").await;
    let moved = stored(store, "site-moved").await;
    let no_site = Initiative {
        website: None,
        ..initiative("site-none")
    };
    store.insert_initiative(&no_site, None).await.unwrap();
    let pending = Initiative {
        status: InitiativeStatus::Pending,
        ..initiative("site-pending")
    };
    store.insert_initiative(&pending, None).await.unwrap();
    let remote = Initiative {
        origin: Some("other.example".into()),
        ..initiative("site-remote")
    };
    store.insert_initiative(&remote, None).await.unwrap();

    let check = |i: &Initiative, url: &str, minutes_ago: i64, ok: bool| WebsiteCheck {
        initiative_id: i.id,
        url: url.into(),
        checked_at: now() + Duration::minutes(1) - Duration::minutes(minutes_ago),
        ok,
        detail: if ok {
            "links back".into()
        } else {
            "no rel=me link".into()
        },
    };
    let site = checked.website.clone().unwrap();
    let good = check(&checked, &site, 0, true);
    store.set_website_check(&good).await.unwrap();
    store
        .set_website_check(&check(&stale, &site, 60 * 48, true))
        .await
        .unwrap();
    store
        .set_website_check(&check(&moved, "https://old.example/", 0, false))
        .await
        .unwrap();

    let got = store.website_checks(&[checked.id, fresh.id]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got.get(&checked.id), Some(&good));
    assert!(store.website_checks(&[]).await.unwrap().is_empty());

    let day_ago = now() - Duration::hours(24);
    let mut due = store.website_checks_due(day_ago, 10).await.unwrap();
    // Never checked first, then least recently checked.
    assert_eq!(due.first(), Some(&fresh.id));
    due.sort();
    let mut expected = vec![fresh.id, stale.id, moved.id];
    expected.sort();
    assert_eq!(
        due, expected,
        "not the checked one, nor those without a public local website"
    );
    assert_eq!(
        store.website_checks_due(day_ago, 1).await.unwrap(),
        [fresh.id]
    );

    // An edit after the check makes it due again; a new check replaces the old one.
    let edited = Initiative {
        updated_at: now() + Duration::minutes(5),
        ..checked.clone()
    };
    store
        .update_initiative(&edited, checked.updated_at, None)
        .await
        .unwrap();
    assert!(
        store
            .website_checks_due(day_ago, 10)
            .await
            .unwrap()
            .contains(&checked.id)
    );
    let recheck = WebsiteCheck {
        checked_at: now() + Duration::minutes(6),
        ok: false,
        detail: "the page answered 404".into(),
        ..good
    };
    store.set_website_check(&recheck).await.unwrap();
    assert_eq!(
        store
            .website_checks(&[checked.id])
            .await
            .unwrap()
            .get(&checked.id),
        Some(&recheck)
    );
    assert!(
        !store
            .website_checks_due(day_ago, 10)
            .await
            .unwrap()
            .contains(&checked.id)
    );
}

type Insert<'a> = Pin<Box<dyn Future<Output = Result<TrustLevel, StoreError>> + 'a>>;

/// Polls every future until all are done, so their store calls overlap.
/// The change-feed entries written after `after`, as (kind, entity, initiative).
async fn feed_since(store: &dyn Store, after: i64) -> Vec<(ChangeKind, Uuid, Uuid)> {
    store
        .changes_after(after, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.entity_id, c.initiative_id))
        .collect()
}

/// This node's statements and reports filed here go into the change feed (federation sends
/// them), in the same transaction; statements and reports received from elsewhere do not.
pub async fn own_statements_and_reports_enter_the_feed(store: &dyn Store) {
    let i = stored(store, "trust-feed").await;
    let start = store
        .changes_after(0, 10_000)
        .await
        .unwrap()
        .last()
        .map(|c| c.seq)
        .unwrap_or(0);
    let mine = vouch(&i, HERE, 1);
    let theirs = vouch(&i, "kyiv.example", 1);
    let my_warning = warning(&i, HERE);
    let their_warning = warning(&i, "lviv.example");
    store.insert_vouch(&mine, None).await.unwrap();
    store.insert_vouch(&theirs, None).await.unwrap();
    store
        .withdraw_vouch(mine.id, &withdrawal("done"), None)
        .await
        .unwrap();
    store.insert_warning(&my_warning, None).await.unwrap();
    store.insert_warning(&their_warning, None).await.unwrap();
    store
        .withdraw_vouch(theirs.id, &withdrawal("theirs"), None)
        .await
        .unwrap();
    store
        .withdraw_warning(my_warning.id, &withdrawal("resolved"), None)
        .await
        .unwrap();
    let report = |reporter: Reporter, activity: Option<&str>| Report {
        id: Uuid::new_v4(),
        initiative_id: i.id,
        reporter,
        category: ReportCategory::Spam,
        reason: "spam".into(),
        status: ReportStatus::Open,
        created_at: now(),
        resolved_at: None,
        resolved_by: None,
        resolution: None,
        activity_id: activity.map(String::from),
    };
    let filed = report(
        Reporter::User {
            username: "olena".into(),
        },
        None,
    );
    store.insert_report(&filed).await.unwrap();
    let received = report(
        Reporter::Remote {
            actor_id: "https://m.example/actor".into(),
        },
        Some("https://m.example/flags/1"),
    );
    store.insert_report(&received).await.unwrap();
    // A refused write leaves nothing in the feed either.
    assert!(store.insert_vouch(&mine, None).await.is_err());

    use ChangeKind::*;
    assert_eq!(
        feed_since(store, start).await,
        vec![
            (VouchIssued, mine.id, i.id),
            (VouchWithdrawn, mine.id, i.id),
            (WarningIssued, my_warning.id, i.id),
            (WarningWithdrawn, my_warning.id, i.id),
            (ReportFiled, filed.id, i.id),
        ]
    );
}

async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
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
    outputs.into_iter().flatten().collect()
}
