//! Accounts: users, maintainer links, passwords, and tokens.

use chrono::Duration;
use hromada_domain::{AuditAction, Role, User};
use hromada_store::{Store, StoreError, TokenKind, TokenRecord};
use uuid::Uuid;

use crate::support::{audit, initiative, now, token, user};

pub async fn user_round_trip_and_lookup(store: &dyn Store) {
    let first = initiative("maintained-one");
    let second = initiative("maintained-two");
    store.insert_initiative(&first, None).await.unwrap();
    store.insert_initiative(&second, None).await.unwrap();
    // Listed out of id order: the order in which links were made is kept.
    let mut maintainer = user("olena", Role::Maintainer);
    maintainer.maintains = if first.id > second.id {
        vec![first.id, second.id]
    } else {
        vec![second.id, first.id]
    };
    let admin = User {
        disabled: true,
        ..user("admin", Role::Admin)
    };
    let moderator = user("mod.petro", Role::Moderator);
    for u in [&maintainer, &admin, &moderator] {
        store.insert_user(u, None).await.unwrap();
    }

    assert_eq!(
        store.user_by_id(maintainer.id).await.unwrap(),
        Some(maintainer.clone())
    );
    assert_eq!(
        store.user_by_username("olena").await.unwrap(),
        Some(maintainer.clone())
    );
    assert_eq!(
        store.user_by_username("OLENA").await.unwrap(),
        Some(maintainer.clone()),
        "case-insensitive"
    );
    assert_eq!(store.user_by_username("nobody").await.unwrap(), None);
    // Case is folded for ASCII only, as usernames are ASCII: a dotted capital İ is no `i`
    // (a database locale may lower-case it to one).
    assert_eq!(
        store.user_by_username("ADMIN").await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(store.user_by_username("admİn").await.unwrap(), None);
    assert_eq!(store.user_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(
        store.list_users().await.unwrap(),
        vec![admin, moderator, maintainer],
        "by username"
    );
}

pub async fn usernames_are_unique_ignoring_case(store: &dyn Store) {
    store
        .insert_user(&user("taras", Role::Moderator), None)
        .await
        .unwrap();
    let twin = user("TARAS", Role::Admin);
    let entry = audit(AuditAction::UserCreated, "TARAS");
    match store.insert_user(&twin, Some(&entry)).await {
        Err(StoreError::Conflict(message)) => {
            assert!(message.to_lowercase().contains("taras"), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.user_by_id(twin.id).await.unwrap(), None);
    assert!(
        store.audit_log(10, 0).await.unwrap().is_empty(),
        "the refused write left no audit entry"
    );
    let same_id = User {
        username: "someone-else".into(),
        ..user("x", Role::Admin)
    };
    store.insert_user(&same_id, None).await.unwrap();
    let clash = User {
        username: "third".into(),
        ..same_id
    };
    assert!(matches!(
        store.insert_user(&clash, None).await,
        Err(StoreError::Conflict(_))
    ));
}

pub async fn maintainer_links(store: &dyn Store) {
    let mine = initiative("links-mine");
    let also = initiative("links-also");
    store.insert_initiative(&mine, None).await.unwrap();
    store.insert_initiative(&also, None).await.unwrap();
    let u = user("maintainer", Role::Maintainer);
    store.insert_user(&u, None).await.unwrap();
    assert!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .maintains
            .is_empty()
    );

    let entry = audit(AuditAction::MaintainerAdded, "links-mine");
    store
        .add_maintainer(u.id, mine.id, Some(&entry))
        .await
        .unwrap();
    let again = audit(AuditAction::MaintainerAdded, "links-mine");
    store
        .add_maintainer(u.id, mine.id, Some(&again))
        .await
        .unwrap();
    store.add_maintainer(u.id, also.id, None).await.unwrap();
    let maintains = store.user_by_id(u.id).await.unwrap().unwrap().maintains;
    assert_eq!(
        maintains,
        [mine.id, also.id],
        "idempotent, in the order added"
    );
    assert_eq!(
        store
            .user_by_username("maintainer")
            .await
            .unwrap()
            .unwrap()
            .maintains,
        [mine.id, also.id]
    );
    assert_eq!(
        store.list_users().await.unwrap()[0].maintains,
        [mine.id, also.id]
    );
    assert_eq!(
        store.audit_log(10, 0).await.unwrap(),
        vec![entry.clone()],
        "a repeated add records nothing"
    );

    assert!(matches!(
        store.add_maintainer(u.id, Uuid::new_v4(), None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.add_maintainer(Uuid::new_v4(), mine.id, None).await,
        Err(StoreError::NotFound)
    ));

    // Removing ends one link, records its audit entry once, and is a no-op afterwards.
    let removal = audit(AuditAction::MaintainerRemoved, "links-mine");
    assert!(
        store
            .remove_maintainer(u.id, mine.id, Some(&removal))
            .await
            .unwrap()
    );
    let again = audit(AuditAction::MaintainerRemoved, "links-mine");
    assert!(
        !store
            .remove_maintainer(u.id, mine.id, Some(&again))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_maintainer(Uuid::new_v4(), also.id, None)
            .await
            .unwrap()
    );
    let maintains = store.user_by_id(u.id).await.unwrap().unwrap().maintains;
    assert_eq!(maintains, [also.id], "the other link stays");
    assert_eq!(store.audit_log(10, 0).await.unwrap(), vec![removal, entry]);
}

pub async fn roles_change_with_their_audit_entry(store: &dyn Store) {
    let u = user("growing", Role::Maintainer);
    store.insert_user(&u, None).await.unwrap();
    let entry = audit(AuditAction::RoleChanged, "growing");
    store
        .set_user_role(u.id, Role::Moderator, Some(&entry))
        .await
        .unwrap();
    let read = store.user_by_username("growing").await.unwrap().unwrap();
    assert_eq!(read.role, Role::Moderator);
    assert_eq!(store.audit_log(10, 0).await.unwrap(), vec![entry]);
    assert!(matches!(
        store
            .set_user_role(
                Uuid::new_v4(),
                Role::Admin,
                Some(&audit(AuditAction::RoleChanged, "x"))
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.audit_log(10, 0).await.unwrap().len(),
        1,
        "nothing recorded"
    );
}

pub async fn password_and_disabled(store: &dyn Store) {
    let u = user("rotating", Role::Moderator);
    store.insert_user(&u, None).await.unwrap();
    // Two sessions and a script's token, and someone else's: the change keeps only the
    // session it was made in.
    let other = user("bystander", Role::Maintainer);
    store.insert_user(&other, None).await.unwrap();
    let (here, elsewhere, script) = (
        token(u.id, "here"),
        token(u.id, "elsewhere"),
        token(u.id, "script"),
    );
    let theirs = token(other.id, "theirs");
    for t in [&here, &elsewhere, &script, &theirs] {
        store.insert_token(t, None).await.unwrap();
    }
    let entry = audit(AuditAction::PasswordReset, "rotating");
    store
        .set_password_hash(u.id, "$argon2id$new", Some(here.id), Some(&entry))
        .await
        .unwrap();
    let live =
        |hash: &'static str| async move { store.live_token(hash, now()).await.unwrap().is_some() };
    assert!(live("here").await && live("theirs").await);
    assert!(!live("elsewhere").await && !live("script").await);
    // Reset by an admin or on the command line: no session of the account is kept.
    store
        .set_password_hash(u.id, "$argon2id$new", None, None)
        .await
        .unwrap();
    assert!(!live("here").await && live("theirs").await);
    // Disabling revokes the account's tokens: enabling it again brings none back.
    let after_reset = token(u.id, "after-reset");
    store.insert_token(&after_reset, None).await.unwrap();
    assert!(live("after-reset").await);
    let disabled = audit(AuditAction::UserDisabled, "rotating");
    store
        .set_user_disabled(u.id, true, Some(&disabled))
        .await
        .unwrap();
    assert!(!live("after-reset").await && live("theirs").await);
    let got = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(
        (got.password_hash.as_str(), got.disabled),
        ("$argon2id$new", true)
    );
    store.set_user_disabled(u.id, false, None).await.unwrap();
    assert!(!store.user_by_id(u.id).await.unwrap().unwrap().disabled);
    assert!(
        !live("after-reset").await,
        "still revoked once enabled again"
    );
    let log = store.audit_log(10, 0).await.unwrap();
    assert!(log.len() == 2 && log.contains(&entry) && log.contains(&disabled));

    let missing = Uuid::new_v4();
    let orphan_entry = audit(AuditAction::PasswordReset, "nobody");
    assert!(matches!(
        store
            .set_password_hash(missing, "x", None, Some(&orphan_entry))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .set_user_disabled(missing, true, Some(&orphan_entry))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.audit_log(10, 0).await.unwrap().len(),
        2,
        "no entry for a refused change"
    );
}

pub async fn tokens_live_expired_revoked(store: &dyn Store) {
    let u = user("scripter", Role::Maintainer);
    store.insert_user(&u, None).await.unwrap();
    let t = now();
    let live = TokenRecord {
        created_at: t - Duration::minutes(3),
        ..token(u.id, "hash-live")
    };
    let session = TokenRecord {
        kind: TokenKind::Session,
        label: "Firefox".into(),
        expires_at: Some(t + Duration::days(30)),
        created_at: t - Duration::minutes(2),
        ..token(u.id, "hash-session")
    };
    let expired = TokenRecord {
        expires_at: Some(t - Duration::seconds(1)),
        created_at: t - Duration::minutes(1),
        ..token(u.id, "hash-expired")
    };
    let revoked = TokenRecord {
        created_at: t,
        ..token(u.id, "hash-revoked")
    };
    let entry = audit(AuditAction::TokenCreated, "scripter");
    store.insert_token(&live, Some(&entry)).await.unwrap();
    for tok in [&session, &expired, &revoked] {
        store.insert_token(tok, None).await.unwrap();
    }
    store
        .revoke_token(
            revoked.id,
            Some(&audit(AuditAction::TokenRevoked, "scripter")),
        )
        .await
        .unwrap();

    assert_eq!(
        store.live_token("hash-live", t).await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(
        store.live_token("hash-session", t).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store
            .live_token("hash-session", t + Duration::days(31))
            .await
            .unwrap(),
        None,
        "expires"
    );
    assert_eq!(store.live_token("hash-expired", t).await.unwrap(), None);
    assert_eq!(store.live_token("hash-revoked", t).await.unwrap(), None);
    assert_eq!(store.live_token("no-such-hash", t).await.unwrap(), None);
    // Found whatever their state, so a refusal can say "expired" or "revoked".
    assert_eq!(
        store.token_by_hash("hash-expired").await.unwrap(),
        Some(expired.clone())
    );
    let was_revoked = store.token_by_hash("hash-revoked").await.unwrap().unwrap();
    assert!(was_revoked.revoked_at.is_some());
    assert_eq!(store.token_by_hash("no-such-hash").await.unwrap(), None);

    let listed = store.tokens_of(u.id).await.unwrap();
    let ids: Vec<Uuid> = listed.iter().map(|tok| tok.id).collect();
    assert_eq!(
        ids,
        [revoked.id, expired.id, session.id, live.id],
        "all of them, newest first"
    );
    assert!(listed[0].revoked_at.is_some(), "revocation is recorded");
    assert_eq!(listed[3], live);
    assert!(store.tokens_of(Uuid::new_v4()).await.unwrap().is_empty());

    assert!(
        matches!(
            store.revoke_token(revoked.id, None).await,
            Err(StoreError::NotFound)
        ),
        "already revoked"
    );
    assert!(matches!(
        store.revoke_token(Uuid::new_v4(), None).await,
        Err(StoreError::NotFound)
    ));
    let actions: Vec<AuditAction> = store
        .audit_log(10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.len(), 2);
    assert!(
        actions.contains(&AuditAction::TokenCreated)
            && actions.contains(&AuditAction::TokenRevoked)
    );
}

pub async fn token_hash_is_unique(store: &dyn Store) {
    let u = user("twice", Role::Maintainer);
    store.insert_user(&u, None).await.unwrap();
    store
        .insert_token(&token(u.id, "same-hash"), None)
        .await
        .unwrap();
    let entry = audit(AuditAction::TokenCreated, "twice");
    assert!(matches!(
        store
            .insert_token(&token(u.id, "same-hash"), Some(&entry))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.audit_log(10, 0).await.unwrap().is_empty());
    assert!(matches!(
        store
            .insert_token(&token(Uuid::new_v4(), "orphan"), None)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Fixed-window counters, shared by whoever uses the database: each hit returns the window's
/// count so far; a new window starts from one; ended windows are swept.
pub async fn rate_limit_hits_count_per_key_and_window(store: &dyn Store) {
    let t = now();
    let (start, end) = (t, t + Duration::hours(1));
    for expected in 1..=3 {
        assert_eq!(
            store
                .record_hit("submit:ip:192.0.2.1", start, end, t)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .record_hit("submit:ip:192.0.2.2", start, end, t)
            .await
            .unwrap(),
        1,
        "another client has its own count"
    );
    assert_eq!(
        store
            .record_hit("report:ip:192.0.2.1", start, end, t)
            .await
            .unwrap(),
        1,
        "another limit has its own count"
    );
    let later = t + Duration::hours(1);
    assert_eq!(
        store
            .record_hit("submit:ip:192.0.2.1", end, end + Duration::hours(1), later)
            .await
            .unwrap(),
        1,
        "the next window starts again"
    );
    // The ended window was swept: counting in it again starts from one.
    assert_eq!(
        store
            .record_hit("submit:ip:192.0.2.1", start, end, later)
            .await
            .unwrap(),
        1
    );
    // Concurrent hits are all counted.
    let hit = || store.record_hit("burst", start, end, t);
    let (a, b, c, d) = tokio::join!(hit(), hit(), hit(), hit());
    let mut hits = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    hits.sort_unstable();
    assert_eq!(hits, [1, 2, 3, 4]);
}

/// Failed logins: recorded under several keys at once, read back newest first within a window
/// and up to a limit, forgotten once older than the window, cleared per key.
pub async fn login_failures_slide_and_clear(store: &dyn Store) {
    let t = now();
    let keys = |user: &str| vec![format!("user:{user}"), "ip:192.0.2.1".to_string()];
    let long_ago = t - Duration::hours(1);
    for minutes in [40, 10, 5, 1] {
        let at = t - Duration::minutes(minutes);
        store
            .record_login_failure(&keys("olena"), at, long_ago)
            .await
            .unwrap();
    }
    store
        .record_login_failure(&keys("taras"), t, long_ago)
        .await
        .unwrap();
    let since = t - Duration::minutes(15);
    assert_eq!(
        store.login_failures("user:olena", since, 10).await.unwrap(),
        vec![
            t - Duration::minutes(1),
            t - Duration::minutes(5),
            t - Duration::minutes(10)
        ],
        "newest first, only those after `since`"
    );
    assert_eq!(
        store.login_failures("user:olena", since, 2).await.unwrap(),
        vec![t - Duration::minutes(1), t - Duration::minutes(5)]
    );
    assert_eq!(
        store
            .login_failures("ip:192.0.2.1", since, 10)
            .await
            .unwrap()
            .len(),
        4,
        "the address counts both usernames' failures"
    );

    // A correct password clears the username's failures, not the address's.
    store.clear_login_failures("user:olena").await.unwrap();
    assert!(
        store
            .login_failures("user:olena", since, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.login_failures("user:taras", since, 10).await.unwrap(),
        vec![t]
    );

    // Recording forgets failures at or before `forget_before`: the 40-minute-old one goes,
    // even when read with a wider window.
    let wide = t - Duration::hours(2);
    assert_eq!(
        store
            .login_failures("ip:192.0.2.1", wide, 10)
            .await
            .unwrap()
            .len(),
        5
    );
    store
        .record_login_failure(&keys("mykola"), t, t - Duration::minutes(30))
        .await
        .unwrap();
    let address = store
        .login_failures("ip:192.0.2.1", wide, 10)
        .await
        .unwrap();
    assert_eq!(address.len(), 5);
    assert!(
        address.iter().all(|at| *at > t - Duration::minutes(30)),
        "{address:?}"
    );

    // An attempt that turned out right is forgotten under each of its keys, and only it:
    // mykola's failure at `t` under the same address and time stays.
    let attempt = t + Duration::seconds(1);
    store
        .record_login_failure(&keys("olena"), attempt, long_ago)
        .await
        .unwrap();
    store
        .forget_login_attempt(&keys("olena"), attempt)
        .await
        .unwrap();
    assert!(
        store
            .login_failures("user:olena", since, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .login_failures("ip:192.0.2.1", wide, 10)
            .await
            .unwrap(),
        address
    );
    store
        .forget_login_attempt(&keys("mykola"), t)
        .await
        .unwrap();
    assert!(
        store
            .login_failures("user:mykola", since, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .login_failures("ip:192.0.2.1", wide, 10)
            .await
            .unwrap()
            .len(),
        4,
        "one record of the address goes, not every one at that time"
    );
}
