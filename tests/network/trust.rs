//! Trust across three real nodes: B follows C, A follows B; the initiative `medics` lives on
//! C. Vouches, warnings and withdrawals travel (directly, and relayed and verified at their
//! origin), each node's policy decides what they count for, forgeries and replays are refused,
//! and a report filed on A reaches C's moderators without its reporter.

use hromada_testkit::fake_remote::{FakeRemote, INSTANCE_NAME, Signing};
use uuid::Uuid;

use super::*;

/// The `trust` of an initiative as the API shows it.
async fn trust_of(n: &TestNode, token: &str, acct: &str) -> Value {
    let (status, body) = api(n, token, "GET", &format!("/initiatives/{acct}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["initiative"]["trust"].clone()
}

async fn becomes(n: &TestNode, token: &str, acct: &str, status: &str, what: &str) {
    until(&format!("{what}: {acct} is {status}"), || async {
        trust_of(n, token, acct).await["status"] == status
    })
    .await;
}

/// The reason a collective's statement gives, if it counts among the reasons.
fn reason_of<'a>(trust: &'a Value, collective: &str, kind: &str) -> Option<&'a Value> {
    trust["reasons"]
        .as_array()?
        .iter()
        .find(|r| r["collective"] == collective && r["kind"] == kind)
}

async fn set_policy(n: &TestNode, token: &str, trusted: &[String], ignored: &[String]) {
    let (status, body) = api(
        n,
        token,
        "PUT",
        "/trust-policy",
        Some(json!({"trusted": trusted, "ignored": ignored, "threshold": 1, "warnings_dispute": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn get_ap(url: &str) -> (u16, Value) {
    let res = client()
        .get(url)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A statement of the fake server's instance actor about C's `medics`.
fn fake_vouch(forger: &FakeRemote, id: &str, collective: &str, initiative: &str) -> Value {
    json!({
        "id": id,
        "type": "Note",
        "attributedTo": forger.actor_id(INSTANCE_NAME),
        "content": "<p>We vouch</p>",
        "trustStatement": {
            "type": "Vouch", "initiative": initiative, "collective": collective,
            "statement": "We met them in Izium", "basis": "met_in_person",
            "published": "2026-01-01T00:00:00Z"
        }
    })
}

fn create(forger: &FakeRemote, n: u32, object: Value) -> Vec<u8> {
    let actor = forger.actor_id(INSTANCE_NAME);
    json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/activities/{n}"), "type": "Create", "actor": actor, "object": object})
    .to_string()
    .into_bytes()
}

async fn trust_across_nodes_on(backend: Backend) {
    let a = node(backend).await;
    let b = node(backend).await;
    let c = node(backend).await;
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (_, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (c_admin, c_token) = c.user_with_token("admin", Role::Admin).await;
    let (b_dom, c_dom) = (authority(&b), authority(&c));

    follow(&b, &b_token, &c).await;
    follow(&a, &a_token, &b).await;
    until("B's follow of C is accepted", || async {
        peer_status(&b, &b_token, &c_dom)
            .await
            .is_some_and(|p| p["status"] == "accepted")
    })
    .await;
    until("A's follow of B is accepted", || async {
        peer_status(&a, &a_token, &b_dom)
            .await
            .is_some_and(|p| p["status"] == "accepted")
    })
    .await;
    // Published once the peering stands, so that it reaches A relayed by B.
    publish(&c, &c_admin, "medics").await;
    until("the listing reaches B", || async {
        copy(&b, "medics", &c).await.is_some()
    })
    .await;
    until_or_explain(
        "the listing reaches A",
        || async { copy(&a, "medics", &c).await.is_some() },
        || async {
            queues_and_peers(&[
                ("A", &a, a_token.as_str()),
                ("B", &b, b_token.as_str()),
                ("C", &c, c_token.as_str()),
            ])
            .await
        },
    )
    .await;
    let acct = format!("medics@{c_dom}");
    set_policy(&a, &a_token, std::slice::from_ref(&b_dom), &[]).await;
    assert_eq!(trust_of(&a, &a_token, &acct).await["status"], "unverified");

    // C vouches for its own initiative. A does not trust C: Vouched there. A gets it through
    // B's relay, verified by fetching it from C.
    let (status, body) = api(
        &c,
        &c_token,
        "POST",
        "/initiatives/medics/vouches",
        Some(json!({"statement": "Our own, we see their receipts", "basis": "checked_receipts"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let c_vouch = body["vouch"]["id"].as_str().unwrap().to_string();
    assert_eq!(trust_of(&c, &c_token, "medics").await["status"], "verified");
    becomes(&b, &b_token, &acct, "vouched", "C's vouch on B").await;
    becomes(&a, &a_token, &acct, "vouched", "C's vouch on A").await;
    let t = trust_of(&a, &a_token, &acct).await;
    let reason = reason_of(&t, &c_dom, "vouch").expect("C's vouch among the reasons");
    assert_eq!(reason["standing"], "untrusted");
    assert_eq!(reason["basis"], "checked_receipts");
    assert_eq!(t["reasons"].as_array().unwrap().len(), 1, "{t}");

    // The vouch as JSON-LD at its id: a Note Mastodon shows, with the structured statement.
    let c_vouch_url = c.url(&format!("/vouches/{c_vouch}"));
    let (status, note) = get_ap(&c_vouch_url).await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], c_vouch_url);
    assert_eq!(note["attributedTo"], c.url("/actor"));
    assert_eq!(note["trustStatement"]["type"], "Vouch");
    assert_eq!(
        note["trustStatement"]["initiative"],
        c.url("/initiatives/medics")
    );
    assert_eq!(note["trustStatement"]["collective"], c_dom);
    assert_eq!(note["trustStatement"]["basis"], "checked_receipts");
    assert!(
        note["content"]
            .as_str()
            .unwrap()
            .contains("Our own, we see their receipts")
    );

    // B, whom A trusts, vouches: Verified on A within seconds. C, the origin, gets it too.
    let (status, body) = api(
        &b,
        &b_token,
        "POST",
        &format!("/initiatives/{acct}/vouches"),
        Some(json!({"statement": "Long-term partner since 2022", "basis": "long_term_partner"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let b_vouch = body["vouch"]["id"].as_str().unwrap().to_string();
    becomes(&a, &a_token, &acct, "verified", "B's vouch on A").await;
    let t = trust_of(&a, &a_token, &acct).await;
    assert_eq!(
        reason_of(&t, &b_dom, "vouch").unwrap()["standing"],
        "trusted"
    );
    assert_eq!(t["trusted_vouches"], 1);
    until("B's vouch reaches the origin C", || async {
        reason_of(&trust_of(&c, &c_token, "medics").await, &b_dom, "vouch").is_some()
    })
    .await;

    // B withdraws: A is back to Vouched; the vouch's URL answers 410 with the reason.
    let (status, body) = api(
        &b,
        &b_token,
        "DELETE",
        &format!("/vouches/{b_vouch}?reason=They%20moved%20away"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    becomes(&a, &a_token, &acct, "vouched", "B's withdrawal on A").await;
    let (status, tomb) = get_ap(&b.url(&format!("/vouches/{b_vouch}"))).await;
    assert_eq!(status, 410);
    assert_eq!(tomb["type"], "Tombstone");
    assert_eq!(tomb["withdrawalReason"], "They moved away");
    let b_vouch_ap = b.url(&format!("/vouches/{b_vouch}"));
    until("B's withdrawal reaches C", || async {
        c.store()
            .vouch_by_ap_id(&b_vouch_ap)
            .await
            .unwrap()
            .is_some_and(|v| v.withdrawal_reason.as_deref() == Some("They moved away"))
    })
    .await;

    // B warns: Disputed on A (a trusted collective's warning); on C, where B is not trusted,
    // the warning is shown but does not change the status.
    let (status, body) = api(
        &b,
        &b_token,
        "POST",
        &format!("/initiatives/{acct}/warnings"),
        Some(json!({"statement": "The jar changed owner", "reason": "suspected_fraud"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let b_warning_ap = b.url(&format!(
        "/warnings/{}",
        body["warning"]["id"].as_str().unwrap()
    ));
    becomes(&a, &a_token, &acct, "disputed", "B's warning on A").await;
    until("B's warning reaches C", || async {
        reason_of(&trust_of(&c, &c_token, "medics").await, &b_dom, "warning").is_some()
    })
    .await;
    assert_eq!(trust_of(&c, &c_token, "medics").await["status"], "verified");

    // A policy change recomputes at once: ignoring B, only C's (untrusted) vouch is left;
    // trusting C makes it Verified.
    set_policy(&a, &a_token, &[], std::slice::from_ref(&b_dom)).await;
    assert_eq!(trust_of(&a, &a_token, &acct).await["status"], "vouched");
    let t = trust_of(&a, &a_token, &acct).await;
    assert_eq!(
        reason_of(&t, &b_dom, "warning").unwrap()["standing"],
        "ignored"
    );
    set_policy(
        &a,
        &a_token,
        std::slice::from_ref(&c_dom),
        std::slice::from_ref(&b_dom),
    )
    .await;
    assert_eq!(trust_of(&a, &a_token, &acct).await["status"], "verified");
    let (_, found) = api(
        &a,
        &a_token,
        "GET",
        "/initiatives?trust=verified&origin=all",
        None,
    )
    .await;
    assert!(found.to_string().contains("medics"), "{found}");

    // C withdraws its vouch: B hears it directly, A through B's relay (410 at C).
    let (status, _) = api(
        &c,
        &c_token,
        "DELETE",
        &format!("/vouches/{c_vouch}?reason=Paused%20checks"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    becomes(&a, &a_token, &acct, "unverified", "C's withdrawal on A").await;
    until("C's withdrawal reaches B", || async {
        b.store()
            .vouch_by_ap_id(&c_vouch_url)
            .await
            .unwrap()
            .is_some_and(|v| v.withdrawal_reason.as_deref() == Some("Paused checks"))
    })
    .await;
    // B's own warning still stands there.
    assert_eq!(trust_of(&b, &b_token, &acct).await["status"], "disputed");
    let relayed = a
        .store()
        .vouch_by_ap_id(&c_vouch_url)
        .await
        .unwrap()
        .unwrap();
    assert!(relayed.withdrawn_at.is_some() && !relayed.local);
    assert_eq!(relayed.collective, c_dom);

    forgeries(&a, &a_token, &b, &c, &b_warning_ap).await;
    reports_travel(&a, &c, &c_token).await;
}

/// A fake server tries to pass statements to A. Only what it provably says itself counts.
async fn forgeries(a: &TestNode, a_token: &str, b: &TestNode, c: &TestNode, b_warning_ap: &str) {
    let acct = format!("medics@{}", authority(c));
    let forger = FakeRemote::start().await;
    let me = forger.actor_id(INSTANCE_NAME);
    let inbox = a.url("/inbox");
    let medics = c.url("/initiatives/medics");
    // A follows the forger too, so that its relays are even considered.
    let stores = hromada_server::open_store(a.database_url()).await.unwrap();
    let mut peer = Peer::new(&forger.host(), &me, &forger.shared_inbox());
    peer.outgoing = Some(PeerState::Accepted);
    stores.federation.save_peer(&peer).await.unwrap();
    let stored =
        |ap_id: String| async move { a.store().vouch_by_ap_id(&ap_id).await.unwrap().is_some() };

    // Signed with a key that is not the forger's: 401.
    let own_id = format!("{}/vouches/{}", forger.base_url, Uuid::new_v4());
    let body = create(
        &forger,
        1,
        fake_vouch(&forger, &own_id, &forger.host(), &medics),
    );
    let (status, _) = forger
        .post(&inbox, &body, Signing::WrongKey(me.clone()))
        .await;
    assert_eq!(status, 401);
    assert!(!stored(own_id.clone()).await);

    // Claiming another node's collective, by name or by id: 403.
    let body = create(
        &forger,
        2,
        fake_vouch(&forger, &own_id, &authority(b), &medics),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 403);
    let b_id = b.url(&format!("/vouches/{}", Uuid::new_v4()));
    let body = create(
        &forger,
        3,
        fake_vouch(&forger, &b_id, &authority(b), &medics),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 403);
    // Said by an account rather than the node's instance actor: 403.
    let alice = forger.actor_id("alice");
    let mut by_alice = fake_vouch(&forger, &own_id, &forger.host(), &medics);
    by_alice["attributedTo"] = json!(alice);
    let body = json!({"id": format!("{alice}/activities/4"), "type": "Create", "actor": alice, "object": by_alice});
    assert_eq!(
        forger
            .post_signed(&alice, &inbox, body.to_string().as_bytes())
            .await
            .0,
        403
    );
    assert!(!stored(own_id.clone()).await && !stored(b_id.clone()).await);

    // Relayed and altered: A verifies at the origin. B's real warning stays as B wrote it;
    // a statement B never made is refused.
    let mut altered = fake_vouch(&forger, b_warning_ap, &authority(b), &medics);
    altered["attributedTo"] = json!(b.url("/actor"));
    altered["trustStatement"] = json!({"type": "Warning", "initiative": medics,
        "collective": authority(b), "statement": "Altered: all is fine", "reason": "other"});
    let announce = json!({"id": format!("{me}/activities/5"), "type": "Announce", "actor": me, "object": altered});
    assert_eq!(
        forger
            .post_signed(&me, &inbox, announce.to_string().as_bytes())
            .await
            .0,
        202
    );
    let warning = a
        .store()
        .warning_by_ap_id(b_warning_ap)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(warning.statement, "The jar changed owner");
    let mut invented = fake_vouch(&forger, &b_id, &authority(b), &medics);
    invented["attributedTo"] = json!(b.url("/actor"));
    let announce = json!({"id": format!("{me}/activities/6"), "type": "Announce", "actor": me, "object": invented});
    assert_eq!(
        forger
            .post_signed(&me, &inbox, announce.to_string().as_bytes())
            .await
            .0,
        403
    );
    assert!(!stored(b_id).await);

    // About a listing of its own that A does not have: A follows the forger, so it asks the
    // forger for the listing, which serves none (404): ignored. From a node A does not follow,
    // try again later (the listing may still come, relayed by a peer). About another host's
    // unknown listing: ignored.
    let early_id = format!("{}/vouches/{}", forger.base_url, Uuid::new_v4());
    let ghost = format!("{}/initiatives/ghost", forger.base_url);
    let body = create(
        &forger,
        11,
        fake_vouch(&forger, &early_id, &forger.host(), &ghost),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 202);
    let stranger = FakeRemote::start().await;
    let stranger_actor = stranger.actor_id(INSTANCE_NAME);
    let stranger_id = format!("{}/vouches/{}", stranger.base_url, Uuid::new_v4());
    let body = create(
        &stranger,
        1,
        fake_vouch(
            &stranger,
            &stranger_id,
            &stranger.host(),
            &format!("{}/initiatives/ghost", stranger.base_url),
        ),
    );
    assert_eq!(
        stranger.post_signed(&stranger_actor, &inbox, &body).await.0,
        503
    );
    // About an unknown listing of a node A follows (B): A asks B for it; B has none (404).
    let late = b.url("/initiatives/not-yet-here");
    let body = create(
        &forger,
        13,
        fake_vouch(&forger, &early_id, &forger.host(), &late),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 202);
    assert!(!stored(early_id.clone()).await);
    let nowhere = c.url("/initiatives/nobody");
    let body = create(
        &forger,
        12,
        fake_vouch(&forger, &early_id, &forger.host(), &nowhere),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 202);
    assert!(!stored(early_id).await);

    // The forger's own vouch, properly signed, counts as an untrusted collective's...
    let body = create(
        &forger,
        7,
        fake_vouch(&forger, &own_id, &forger.host(), &medics),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 202);
    assert_eq!(trust_of(a, a_token, &acct).await["status"], "vouched");
    // ...until it withdraws it.
    let delete = json!({"id": format!("{me}/activities/8"), "type": "Delete", "actor": me,
        "object": {"id": own_id, "type": "Tombstone", "withdrawalReason": "test over"}});
    assert_eq!(
        forger
            .post_signed(&me, &inbox, delete.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert_eq!(trust_of(a, a_token, &acct).await["status"], "unverified");
    let withdrawn = a.store().vouch_by_ap_id(&own_id).await.unwrap().unwrap();
    assert_eq!(withdrawn.withdrawal_reason.as_deref(), Some("test over"));
    // Replays: the same statement again is refused, and an old delivery's signature is stale.
    let body = create(
        &forger,
        9,
        fake_vouch(&forger, &own_id, &forger.host(), &medics),
    );
    assert_eq!(forger.post_signed(&me, &inbox, &body).await.0, 409);
    let body = create(
        &forger,
        7,
        fake_vouch(&forger, &own_id, &forger.host(), &medics),
    );
    let (status, _) = forger
        .post(&inbox, &body, Signing::StaleDate(me.clone()))
        .await;
    assert_eq!(status, 401);
    assert_eq!(trust_of(a, a_token, &acct).await["status"], "unverified");
    // Another node cannot withdraw B's warning.
    let delete = json!({"id": format!("{me}/activities/10"), "type": "Delete", "actor": me,
        "object": b_warning_ap});
    assert_eq!(
        forger
            .post_signed(&me, &inbox, delete.to_string().as_bytes())
            .await
            .0,
        403
    );
}

async fn fraud_report(n: &TestNode, token: &str) -> Option<Value> {
    let (status, body) = api(n, token, "GET", "/reports", None).await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().or(body.as_array())?;
    items.iter().find(|r| r["category"] == "fraud").cloned()
}

/// A report on A about C's listing reaches C's moderators as a Flag of A's instance actor.
async fn reports_travel(a: &TestNode, c: &TestNode, c_token: &str) {
    let acct = format!("medics@{}", authority(c));
    let res = client()
        .post(a.url(&format!("/api/v1/initiatives/{acct}/reports")))
        .json(
            &json!({"category": "fraud", "reason": "The jar belongs to someone else",
            "contact": "secret-reporter@example.org"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    until("the report reaches C's moderators", || async {
        fraud_report(c, c_token).await.is_some()
    })
    .await;
    let on_c = fraud_report(c, c_token).await.unwrap();
    assert_eq!(on_c["reason"], "The jar belongs to someone else");
    assert_eq!(on_c["initiative"], "medics");
    assert_eq!(on_c["reporter"]["kind"], "remote");
    assert_eq!(on_c["reporter"]["actor_id"], a.url("/actor"));
    assert!(!on_c.to_string().contains("secret-reporter"), "{on_c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn trust_travels_between_three_nodes() {
    for backend in Backend::available() {
        trust_across_nodes_on(backend).await;
    }
}

/// A node that follows another later learns what it said before about its own listings: the
/// statements come with the listings of its directory, and are relayed on like delivered ones.
async fn earlier_statements_on(backend: Backend) {
    let (c, d, e) = (
        node(backend).await,
        node(backend).await,
        node(backend).await,
    );
    let (c_admin, c_token) = c.user_with_token("admin", Role::Admin).await;
    let (_, d_token) = d.user_with_token("admin", Role::Admin).await;
    let (_, e_token) = e.user_with_token("admin", Role::Admin).await;
    let (c_dom, d_dom) = (authority(&c), authority(&d));
    publish(&c, &c_admin, "medics").await;
    publish(&c, &c_admin, "kitchen").await;
    for (handle, statement) in [("medics", "We see their receipts"), ("kitchen", "Ours too")] {
        let (status, body) = api(
            &c,
            &c_token,
            "POST",
            &format!("/initiatives/{handle}/vouches"),
            Some(json!({"statement": statement, "basis": "checked_receipts"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        if handle == "kitchen" {
            let id = body["vouch"]["id"].as_str().unwrap();
            let path = format!("/vouches/{id}?reason=Not%20checked%20yet");
            let (status, _) = api(&c, &c_token, "DELETE", &path, None).await;
            assert_eq!(status, 200, "a withdrawn vouch is not served");
        }
    }

    // E follows D, then D follows C: D reads C's directory, E hears from D.
    follow(&e, &e_token, &d).await;
    until("E's follow of D is accepted", || async {
        peer_status(&e, &e_token, &d_dom)
            .await
            .is_some_and(|p| p["status"] == "accepted")
    })
    .await;
    follow(&d, &d_token, &c).await;
    let acct = format!("medics@{c_dom}");
    for (n, token, label) in [(&d, &d_token, "D"), (&e, &e_token, "E")] {
        until(&format!("C's listings reach {label}"), || async {
            copy(n, "medics", &c).await.is_some() && copy(n, "kitchen", &c).await.is_some()
        })
        .await;
        becomes(
            n,
            token,
            &acct,
            "vouched",
            &format!("C's earlier vouch on {label}"),
        )
        .await;
        let t = trust_of(n, token, &acct).await;
        assert_eq!(
            reason_of(&t, &c_dom, "vouch").unwrap()["statement"],
            "We see their receipts"
        );
        let kitchen = trust_of(n, token, &format!("kitchen@{c_dom}")).await;
        assert_eq!(kitchen["status"], "unverified", "{label}: {kitchen}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_later_follower_learns_earlier_statements() {
    for backend in Backend::available() {
        earlier_statements_on(backend).await;
    }
}

/// A node learns what a collective said before about *other* nodes' listings, whichever of the
/// two it follows first: the collective's `/statements` follow its directory, and are read again
/// once another peer's listings have all arrived. A withdrawn statement is not served.
async fn earlier_statements_about_others_on(backend: Backend) {
    let (a, b, c) = (
        node(backend).await,
        node(backend).await,
        node(backend).await,
    );
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (_, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (c_admin, _) = c.user_with_token("admin", Role::Admin).await;
    let (b_dom, c_dom) = (authority(&b), authority(&c));
    publish(&c, &c_admin, "medics").await;
    let kitchen = publish(&c, &c_admin, "kitchen").await;
    // The kitchen's wallet address has a typo, as an older version of C could have stored it.
    let broken = hromada_domain::Initiative {
        donation_methods: serde_json::from_value(json!([{"kind": "crypto", "network": "BTC",
            "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"}]))
        .unwrap(),
        ..kitchen.clone()
    };
    c.store()
        .update_initiative(&broken, kitchen.updated_at, None)
        .await
        .unwrap();
    follow(&b, &b_token, &c).await;
    until("C's listings reach B", || async {
        copy(&b, "medics", &c).await.is_some() && copy(&b, "kitchen", &c).await.is_some()
    })
    .await;
    // Taken with the mistyped address, which its page on B warns donors about.
    let page = page_html(b.url(&format!("/initiatives/kitchen@{c_dom}"))).await;
    assert!(page.contains("Не надсилайте кошти на цю адресу"), "{page}");
    for (handle, statement) in [("medics", "We met them in Izium"), ("kitchen", "Not yet")] {
        let (status, body) = api(
            &b,
            &b_token,
            "POST",
            &format!("/initiatives/{handle}@{c_dom}/vouches"),
            Some(json!({"statement": statement, "basis": "met_in_person"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        if handle == "kitchen" {
            let id = body["vouch"]["id"].as_str().unwrap();
            let path = format!("/vouches/{id}?reason=Not%20checked");
            let (status, _) = api(&b, &b_token, "DELETE", &path, None).await;
            assert_eq!(status, 200);
        }
    }
    let (status, page) = get_ap(&b.url("/statements?page=1")).await;
    assert_eq!(status, 200, "{page}");
    let items = page["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the standing statement: {page}");
    assert_eq!(
        items[0]["trustStatement"]["statement"],
        "We met them in Izium"
    );
    let (_, last) = get_ap(&b.url("/directory?page=1")).await;
    assert_eq!(last["next"], b.url("/statements"), "{last}");

    // A follows B first: B's statement is about a listing A does not have yet.
    follow(&a, &a_token, &b).await;
    until("A has read B's directory and statements", || async {
        peer_status(&a, &a_token, &b_dom)
            .await
            .is_some_and(|p| p["status"] == "accepted" && p["backfilling"] == false)
    })
    .await;
    assert!(copy(&a, "medics", &c).await.is_none());
    // Once C's listings are all here, B's statements are read again, and this one counts.
    follow(&a, &a_token, &c).await;
    let acct = format!("medics@{c_dom}");
    until("C's listings reach A", || async {
        copy(&a, "medics", &c).await.is_some() && copy(&a, "kitchen", &c).await.is_some()
    })
    .await;
    becomes(&a, &a_token, &acct, "vouched", "B's earlier vouch on A").await;
    let t = trust_of(&a, &a_token, &acct).await;
    assert_eq!(
        reason_of(&t, &b_dom, "vouch").unwrap()["statement"],
        "We met them in Izium",
        "{t}"
    );
    let kitchen = trust_of(&a, &a_token, &format!("kitchen@{c_dom}")).await;
    assert_eq!(kitchen["status"], "unverified", "{kitchen}");

    // A loses its copy of C's kitchen (a delivery lost, say); B vouches for it anew: A fetches
    // the listing from C, which it follows, and takes the vouch.
    a.execute_sql("DELETE FROM initiatives WHERE handle = 'kitchen' AND origin IS NOT NULL")
        .await;
    assert!(copy(&a, "kitchen", &c).await.is_none());
    let (status, body) = api(
        &b,
        &b_token,
        "POST",
        &format!("/initiatives/kitchen@{c_dom}/vouches"),
        Some(json!({"statement": "Checked now", "basis": "checked_receipts"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    until("A fetches the kitchen from C", || async {
        copy(&a, "kitchen", &c).await.is_some()
    })
    .await;
    becomes(
        &a,
        &a_token,
        &format!("kitchen@{c_dom}"),
        "vouched",
        "B's new vouch for a listing A had lost",
    )
    .await;

    // The other order: D has C's listings first, and takes B's statement as it reads B.
    let d = node(backend).await;
    let (_, d_token) = d.user_with_token("admin", Role::Admin).await;
    follow(&d, &d_token, &c).await;
    until("C's listings reach D", || async {
        copy(&d, "medics", &c).await.is_some()
    })
    .await;
    follow(&d, &d_token, &b).await;
    becomes(&d, &d_token, &acct, "vouched", "B's earlier vouch on D").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_learns_earlier_statements_about_other_nodes_listings() {
    for backend in Backend::available() {
        earlier_statements_about_others_on(backend).await;
    }
}
