//! Peering policies end to end: follows held for an admin, refusing relays and turning relaying
//! off, a relay that could only be queued on the sender's retry, unfollowing (and what it
//! removes), and importing a block list — each on real nodes on
//! loopback, on SQLite and (with `HROMADA_TEST_POSTGRES_URL`) PostgreSQL.

use super::*;

/// Waits until `from`'s follow of `to` has the given status.
async fn status_becomes(from: &TestNode, token: &str, to: &TestNode, status: &str) {
    until(&format!("the follow is {status}"), || async {
        peer_status(from, token, &authority(to))
            .await
            .is_some_and(|p| p["status"] == status)
    })
    .await;
}

async fn arrives(n: &TestNode, handle: &str, origin: &TestNode) {
    until(&format!("{handle} arrives"), || async {
        copy(n, handle, origin).await.is_some()
    })
    .await;
}

async fn held_follows_on(backend: Backend) {
    let a = node_with(backend, |c| c.auto_accept_peers = false).await;
    let b = node(backend).await;
    let c = node(backend).await;
    let (a_admin, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (_, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (_, c_token) = c.user_with_token("admin", Role::Admin).await;
    publish(&a, &a_admin, "held-listing").await;

    follow(&b, &b_token, &a).await;
    follow(&c, &c_token, &a).await;
    for n in [&b, &c] {
        until("A holds the follow", || async {
            peer_status(&a, &a_token, &authority(n))
                .await
                .is_some_and(|p| p["follows_us"] == "pending")
        })
        .await;
    }
    // Held: nothing was accepted, nothing is pulled in.
    assert_eq!(
        peer_status(&b, &b_token, &authority(&a)).await.unwrap()["status"],
        "pending"
    );
    assert!(copy(&b, "held-listing", &a).await.is_none());

    // Only admins answer, and only what is waiting.
    let (_, mod_token) = a.user_with_token("mod", Role::Moderator).await;
    let approve = format!("/peers/{}/approve", authority(&b));
    assert_eq!(api(&a, &mod_token, "POST", &approve, None).await.0, 403);
    assert_eq!(
        api(&a, &a_token, "POST", "/peers/nobody.example/approve", None)
            .await
            .0,
        404
    );
    let (status, body) = api(&a, &a_token, "POST", &approve, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api(&a, &a_token, "POST", &approve, None).await;
    assert_eq!(status, 409, "approving twice: {body}");

    // Approved: B's backfill brings A's listings, and new ones follow.
    status_becomes(&b, &b_token, &a, "accepted").await;
    arrives(&b, "held-listing", &a).await;

    // Rejected: C is told, and gets no listings.
    let reject = format!("/peers/{}/reject", authority(&c));
    let (status, body) = api(&a, &a_token, "POST", &reject, None).await;
    assert_eq!(status, 204, "{body}");
    status_becomes(&c, &c_token, &a, "rejected").await;
    assert!(peer_status(&a, &a_token, &authority(&c)).await.is_none());
    publish(&a, &a_admin, "after-answers").await;
    arrives(&b, "after-answers", &a).await;
    assert!(copy(&c, "held-listing", &a).await.is_none());
    assert!(copy(&c, "after-answers", &a).await.is_none());
    let (_, c_peers) = api(&c, &c_token, "GET", "/peers", None).await;
    assert_eq!(c_peers[0]["listings"], 0, "{c_peers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn held_node_follows_wait_for_an_admin() {
    for backend in Backend::available() {
        held_follows_on(backend).await;
    }
}

async fn relay_policies_on(backend: Backend) {
    let a = node(backend).await;
    let mut b = node(backend).await;
    let c = node(backend).await;
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (b_admin, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (c_admin, _) = c.user_with_token("admin", Role::Admin).await;
    follow(&b, &b_token, &c).await;
    follow(&a, &a_token, &b).await;
    status_becomes(&b, &b_token, &c, "accepted").await;
    status_becomes(&a, &a_token, &b, "accepted").await;

    // A refuses what B relays: B's own listings still arrive, C's do not.
    let path = format!("/peers/{}", authority(&b));
    let (status, body) = api(
        &a,
        &a_token,
        "PATCH",
        &path,
        Some(json!({"refuse_relayed": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["refuse_relayed"], true);
    publish(&c, &c_admin, "c-refused").await;
    arrives(&b, "c-refused", &c).await;
    // Published after B took C's listing (and queued its relay), so it arrives after it.
    publish(&b, &b_admin, "b-own").await;
    arrives(&a, "b-own", &b).await;
    assert!(
        copy(&a, "c-refused", &c).await.is_none(),
        "a relayed listing was taken from a peer whose relays are refused"
    );

    // Taken again: relays work.
    let (status, _) = api(
        &a,
        &a_token,
        "PATCH",
        &path,
        Some(json!({"refuse_relayed": false})),
    )
    .await;
    assert_eq!(status, 200);
    publish(&c, &c_admin, "c-relayed").await;
    arrives(&a, "c-relayed", &c).await;

    // B turns relaying off (`relay = false`): it announces nothing any more.
    b.settings.config.relay = false;
    b.restart().await;
    publish(&c, &c_admin, "c-unrelayed").await;
    arrives(&b, "c-unrelayed", &c).await;
    publish(&b, &b_admin, "b-later").await;
    arrives(&a, "b-later", &b).await;
    assert!(
        copy(&a, "c-unrelayed", &c).await.is_none(),
        "a node with relaying off announced a listing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relays_can_be_refused_and_turned_off() {
    for backend in Backend::available() {
        relay_policies_on(backend).await;
    }
}

/// SQL that makes queuing a relay fail on a node's database (as a full disk or a lost
/// connection would, after the listing was stored), and SQL that lifts it.
fn refusing_relays(backend: Backend) -> (&'static str, &'static str) {
    match backend {
        Backend::Sqlite => (
            "CREATE TRIGGER refuse_relays BEFORE INSERT ON fed_activities
             WHEN NEW.activity_id LIKE '%#relay/%'
             BEGIN SELECT RAISE(ABORT, 'relays refused by the test'); END;",
            "DROP TRIGGER refuse_relays;",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION refuse_relays() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'relays refused by the test'; END $$;
             CREATE TRIGGER refuse_relays BEFORE INSERT ON fed_activities FOR EACH ROW
             WHEN (NEW.activity_id LIKE '%#relay/%') EXECUTE FUNCTION refuse_relays();",
            "DROP TRIGGER refuse_relays ON fed_activities;",
        ),
    }
}

/// `from`'s queue for `to`'s host, as its admin sees it.
async fn queue_for(from: &TestNode, token: &str, to: &TestNode) -> Value {
    let (status, queue) = api(from, token, "GET", "/admin/queue", None).await;
    assert_eq!(status, 200, "{queue}");
    let host = queue["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == authority(to));
    host.cloned().unwrap_or(Value::Null)
}

async fn lost_relay_on(backend: Backend) {
    let a = node(backend).await;
    let b = node(backend).await;
    let c = node(backend).await;
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (_, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (c_admin, c_token) = c.user_with_token("admin", Role::Admin).await;
    follow(&b, &b_token, &c).await;
    follow(&a, &a_token, &b).await;
    status_becomes(&b, &b_token, &c, "accepted").await;
    status_becomes(&a, &a_token, &b, "accepted").await;
    let (refuse, lift) = refusing_relays(backend);
    b.execute_sql(refuse).await;

    // B stores C's listing, then cannot queue its relay: it answers 503 and C retries.
    publish(&c, &c_admin, "c-delayed").await;
    arrives(&b, "c-delayed", &c).await;
    until("C retries its delivery to B", || async {
        let to_b = queue_for(&c, &c_token, &b).await;
        to_b["pending"].as_u64() > Some(0) && to_b["consecutive_failures"].as_i64() > Some(0)
    })
    .await;
    assert!(copy(&a, "c-delayed", &c).await.is_none());
    let relays_before = deliveries_to(&b, &b_token, &a).await;

    // C's retry changes nothing at B any more, and still the listing is relayed, once.
    b.execute_sql(lift).await;
    arrives(&a, "c-delayed", &c).await;
    until("every delivery is done", || async {
        queue_for(&c, &c_token, &b).await["pending"].as_u64() == Some(0)
            && queue_for(&b, &b_token, &a).await["pending"].as_u64() == Some(0)
    })
    .await;
    assert_eq!(
        deliveries_to(&b, &b_token, &a).await,
        relays_before + 1,
        "B relayed the listing once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_that_could_not_be_queued_goes_out_when_the_sender_retries() {
    for backend in Backend::available() {
        lost_relay_on(backend).await;
    }
}

async fn unfollow_on(backend: Backend) {
    // A follows B and C; B follows C and D; C follows B but relays nothing.
    let a = node(backend).await;
    let b = node(backend).await;
    let c = node_with(backend, |c| c.relay = false).await;
    let d = node(backend).await;
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (b_admin, b_token) = b.user_with_token("admin", Role::Admin).await;
    let (c_admin, c_token) = c.user_with_token("admin", Role::Admin).await;
    let (d_admin, _) = d.user_with_token("admin", Role::Admin).await;
    publish(&b, &b_admin, "b-one").await;
    follow(&b, &b_token, &c).await;
    follow(&b, &b_token, &d).await;
    follow(&c, &c_token, &b).await;
    status_becomes(&b, &b_token, &c, "accepted").await;
    status_becomes(&b, &b_token, &d, "accepted").await;
    follow(&a, &a_token, &b).await;
    follow(&a, &a_token, &c).await;
    status_becomes(&a, &a_token, &b, "accepted").await;
    status_becomes(&a, &a_token, &c, "accepted").await;
    arrives(&a, "b-one", &b).await;
    // From C: directly to A, and relayed by B. From D: only relayed by B.
    publish(&c, &c_admin, "c-one").await;
    publish(&d, &d_admin, "d-one").await;
    arrives(&a, "c-one", &c).await;
    arrives(&a, "d-one", &d).await;
    let c_one = copy(&a, "c-one", &c).await.unwrap();
    let stores = hromada_server::open_store(a.database_url()).await.unwrap();
    until("A knows c-one through both B and C", || async {
        stores
            .federation
            .listing_sources(c_one.id)
            .await
            .unwrap()
            .len()
            == 2
    })
    .await;

    let (status, _) = api(
        &a,
        &a_token,
        "DELETE",
        &format!("/peers/{}", authority(&b)),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(peer_status(&a, &a_token, &authority(&b)).await.is_none());
    // What came only through B went, with B's own listing; what C also brought stayed.
    assert!(copy(&a, "b-one", &b).await.is_none());
    assert!(copy(&a, "d-one", &d).await.is_none());
    assert!(copy(&a, "c-one", &c).await.is_some());
    assert_eq!(
        stores.federation.listing_sources(c_one.id).await.unwrap(),
        vec![authority(&c)]
    );

    // B got the Undo: A no longer follows it, and B sends it nothing more.
    until("B drops A from its followers", || async {
        peer_status(&b, &b_token, &authority(&a)).await.is_none()
    })
    .await;
    let before = deliveries_to(&b, &b_token, &a).await;
    publish(&b, &b_admin, "b-after").await;
    arrives(&c, "b-after", &b).await;
    assert_eq!(
        deliveries_to(&b, &b_token, &a).await,
        before,
        "B queued something for A after the Undo"
    );
    assert!(copy(&a, "b-after", &b).await.is_none());
}

/// `from`'s delivery counts for `to`'s host (`pending`, `delivered`, `rejected`, …), summed
/// over its rows.
async fn queue_of(from: &TestNode, token: &str, to: &TestNode) -> [u64; 5] {
    let (status, queue) = api(from, token, "GET", "/admin/queue", None).await;
    assert_eq!(status, 200, "{queue}");
    let mut counts = [0; 5];
    for host in queue["hosts"].as_array().unwrap() {
        if host["host"] == authority(to) {
            for (count, state) in counts.iter_mut().zip(QUEUE_STATES) {
                *count += host[state].as_u64().unwrap_or(0);
            }
        }
    }
    counts
}

const QUEUE_STATES: [&str; 5] = ["pending", "delivered", "rejected", "failed", "cancelled"];

/// Every delivery `from` ever queued for `to`'s host, in any state.
async fn deliveries_to(from: &TestNode, token: &str, to: &TestNode) -> u64 {
    queue_of(from, token, to).await.iter().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unfollowing_removes_what_came_only_through_the_peer() {
    for backend in Backend::available() {
        unfollow_on(backend).await;
    }
}

async fn block_list_import_on(backend: Backend) {
    let a = node(backend).await;
    let b = node(backend).await;
    let (_, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (b_admin, b_token) = b.user_with_token("admin", Role::Admin).await;
    publish(&b, &b_admin, "soon-blocked").await;
    follow(&a, &a_token, &b).await;
    arrives(&a, "soon-blocked", &b).await;
    until("B counts A as a follower", || async {
        peer_status(&b, &b_token, &authority(&a))
            .await
            .is_some_and(|p| p["follows_us"] == "accepted")
    })
    .await;

    // Mastodon's export, with B's exact node (host:port) among other rows and a bad line.
    let csv = format!(
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
         {},suspend,false,false,\"Spam, lots\",false\n\
         spam.example,suspend,false,false,,false\n\
         not a domain,suspend,false,false,,false\n",
        authority(&b)
    );
    let (status, body) = api(
        &a,
        &a_token,
        "POST",
        "/blocks/import",
        Some(json!({"csv": csv})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["blocked"], json!([authority(&b), "spam.example"]));
    assert_eq!(body["skipped"].as_array().unwrap().len(), 1);
    assert!(copy(&a, "soon-blocked", &b).await.is_none(), "purged");
    assert!(peer_status(&a, &a_token, &authority(&b)).await.is_none());
    let (_, blocks) = api(&a, &a_token, "GET", "/blocks", None).await;
    let reason = blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["domain"] == authority(&b))
        .map(|x| x["reason"].clone());
    assert_eq!(reason, Some(json!("Spam, lots")));

    // B still thinks A follows it: what it sends now is refused with 403, not retried.
    let patch: InitiativePatch =
        serde_json::from_value(json!({"summary": "Still sending"})).unwrap();
    b.app().edit(&b_admin, "soon-blocked", patch).await.unwrap();
    until("A refuses B's delivery", || async {
        let (_, queue) = api(&b, &b_token, "GET", "/admin/queue", None).await;
        queue["hosts"].as_array().is_some_and(|hosts| {
            hosts
                .iter()
                .any(|h| h["host"] == authority(&a) && h["rejected"].as_u64() >= Some(1))
        })
    })
    .await;
    assert!(copy(&a, "soon-blocked", &b).await.is_none());
    // Any post claiming to come from B is refused before its signature is even read.
    let res = client()
        .post(a.url("/inbox"))
        .header("content-type", "application/activity+json")
        .body(
            json!({
                "id": b.url("/activities/1"),
                "type": "Update",
                "actor": b.url("/actor"),
                "object": b.url("/initiatives/soon-blocked"),
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_imported_block_list_purges_and_refuses() {
    for backend in Backend::available() {
        block_list_import_on(backend).await;
    }
}

async fn invalid_items_on(backend: Backend) {
    let a = node(backend).await;
    let b = node(backend).await;
    let (a_admin, a_token) = a.user_with_token("admin", Role::Admin).await;
    let (_, b_token) = b.user_with_token("admin", Role::Admin).await;
    let listing = publish(&a, &a_admin, "checked").await;
    follow(&b, &b_token, &a).await;
    status_becomes(&b, &b_token, &a, "accepted").await;
    arrives(&b, "checked", &a).await;
    let deliveries_before = deliveries_to(&a, &a_token, &b).await;

    // What A's own forms would refuse, written past them into A's database: a peer must not
    // take it either (a node with a bug or a hostile one sends the same).
    let now = chrono::Utc::now();
    let scripted = hromada_domain::Event {
        id: uuid::Uuid::new_v4(),
        initiative_id: listing.id,
        title: "Benefit concert".into(),
        description: String::new(),
        starts_at: now + chrono::Duration::days(7),
        ends_at: None,
        timezone: "Europe/Kyiv".into(),
        place: hromada_domain::EventPlace::Online {
            url: "javascript:alert(1)".into(),
        },
        organiser: "Friends".into(),
        beneficiaries: Vec::new(),
        cancelled: false,
        created_at: now,
        updated_at: now,
    };
    a.store().insert_event(&scripted).await.unwrap();
    let long_title = hromada_domain::Need {
        id: uuid::Uuid::new_v4(),
        initiative_id: listing.id,
        title: "x".repeat(141),
        description: String::new(),
        category: hromada_domain::Category::Medical,
        target: None,
        raised: 0,
        deadline: None,
        urgency: hromada_domain::Urgency::Normal,
        status: hromada_domain::NeedStatus::Open,
        created_at: now,
        updated_at: now,
    };
    a.store().insert_need(&long_title).await.unwrap();
    let fine: NeedInput =
        serde_json::from_value(json!({"title": "Tourniquets", "category": "medical"})).unwrap();
    a.app().add_need(&a_admin, "checked", fine).await.unwrap();

    let on_b = copy(&b, "checked", &a).await.unwrap();
    until("the valid need arrives", || async {
        needs(&b, &on_b)
            .await
            .iter()
            .any(|n| n.title == "Tourniquets")
    })
    .await;
    until("A has heard back about all three", || async {
        let counts = queue_of(&a, &a_token, &b).await;
        counts.iter().sum::<u64>() == deliveries_before + 3 && counts[0] == 0
    })
    .await;
    assert_eq!(needs(&b, &on_b).await.len(), 1, "only the valid need");
    assert!(b.store().events_of(on_b.id).await.unwrap().is_empty());
    let [_, _, rejected, ..] = queue_of(&a, &a_token, &b).await;
    assert_eq!(rejected, 2, "B answered 400 to both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_a_node_could_not_have_made_are_refused() {
    for backend in Backend::available() {
        invalid_items_on(backend).await;
    }
}
