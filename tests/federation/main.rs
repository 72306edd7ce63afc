//! End-to-end federation: a real node (SQLite, and PostgreSQL when `HROMADA_TEST_POSTGRES_URL`
//! is set) and a fake fediverse server on loopback that signs and verifies with its own code.
//!
//! Run: `cargo test -p hromada-tests --test federation`.

// A test fails by panicking; unwrapping is how these helpers say "this must work".
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use hromada_store::{DomainBlock, InboxItemKind, LocalActor};
use hromada_testkit::Backend;
use hromada_testkit::fake_remote::{FakeRemote, Signing};
use serde_json::{Value, json};
use support::{FedNode, WAIT, follow, get_ap, peering_follow};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn backends() -> Vec<Backend> {
    Backend::available()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mastodon_follows_reads_and_unfollows() {
    for backend in backends() {
        follow_publish_edit_delete_unfollow(backend).await;
    }
}

async fn follow_publish_edit_delete_unfollow(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("kharkiv-medics").await;
    let actor_url = node.actor_url("kharkiv-medics");

    // WebFinger, as Mastodon asks it, and the actor it points to.
    let acct = format!("acct:kharkiv-medics@{}", node.authority());
    let wf = support::webfinger(&node, acct.as_str()).await;
    assert_eq!(wf.status(), 200);
    assert_eq!(wf.headers()["content-type"], "application/jrd+json");
    let wf: Value = wf.json().await.unwrap();
    assert_eq!(wf["subject"], acct);
    let self_link = wf["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(self_link["type"], "application/activity+json");
    assert_eq!(self_link["href"], actor_url);

    let actor = get_ap(&actor_url).await;
    assert_eq!(actor.status(), 200);
    assert_eq!(actor.headers()["content-type"], "application/activity+json");
    let actor: Value = actor.json().await.unwrap();
    assert_eq!(actor["id"], actor_url);
    assert_eq!(actor["type"], "Group");
    assert_eq!(actor["publicKey"]["id"], format!("{actor_url}#main-key"));
    // Mastodon's loop-back: preferredUsername at the host of the id must resolve to the same id.
    let again = format!(
        "acct:{}@{}",
        actor["preferredUsername"].as_str().unwrap(),
        node.authority()
    );
    let wf2: Value = support::webfinger(&node, again.as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wf2["links"][0]["href"], actor_url);

    // Two followers on one server: every post must reach its shared inbox once.
    let alice = remote.actor_id("alice");
    let bob = remote.actor_id("bob");
    let inbox = actor["inbox"].as_str().unwrap().to_string();
    let follow_id = format!("{alice}/follows/1");
    let (status, body) = remote
        .post_signed(
            &alice,
            &inbox,
            follow(&alice, &actor_url, &follow_id)
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let accept = remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    assert_eq!(
        accept.signature.as_deref(),
        Ok(format!("{actor_url}#main-key").as_str()),
        "Accept signed by the initiative"
    );
    assert_eq!(accept.path, "/inbox", "delivered to the shared inbox");
    assert_eq!(accept.activity["actor"], actor_url);
    assert_eq!(accept.activity["object"]["id"], follow_id);
    assert_eq!(accept.activity["object"]["actor"], alice);
    assert_eq!(accept.activity["object"]["object"], actor_url);
    let (status, _) = remote
        .post_signed(
            &bob,
            &node.url("/inbox"),
            follow(&bob, &actor_url, &format!("{bob}/follows/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept for bob", |r| {
            r.kind() == "Accept" && r.activity["object"]["actor"] == bob
        })
        .await;
    let mut followers = node.follower_ids(&initiative).await;
    followers.sort();
    assert_eq!(followers, vec![alice.clone(), bob.clone()]);

    // A new update goes out as Create(Note), signed, public, to followers, with hashtags.
    let update = node
        .post_update("kharkiv-medics", "We bought **ten** tourniquets.")
        .await;
    let note_url = node.url(&format!("/updates/{}", update.id));
    let create = remote
        .wait_for(WAIT, "Create", |r| r.kind() == "Create")
        .await;
    assert!(create.signature.is_ok(), "{:?}", create.signature);
    let a = &create.activity;
    assert_eq!(a["@context"][0], "https://www.w3.org/ns/activitystreams");
    assert_eq!(a["actor"], actor_url);
    assert_eq!(a["to"], json!([PUBLIC]));
    assert_eq!(a["cc"], json!([format!("{actor_url}/followers")]));
    assert_eq!(a["object"]["id"], note_url);
    assert_eq!(a["object"]["type"], "Note");
    assert_eq!(a["object"]["attributedTo"], actor_url);
    assert_eq!(a["object"]["to"], json!([PUBLIC]));
    assert!(
        a["object"]["content"]
            .as_str()
            .unwrap()
            .contains("<strong>ten</strong>")
    );
    let tags = a["object"]["tag"].as_array().unwrap();
    assert!(tags.iter().any(|t| t["type"] == "Hashtag"
        && t["name"] == "#Medical"
        && t["href"] == node.url("/tags/medical")));
    assert!(tags.iter().any(|t| t["name"] == "#Ukraine"));
    let published =
        chrono::DateTime::parse_from_rfc3339(a["object"]["published"].as_str().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - published.with_timezone(&chrono::Utc)).num_seconds() < 60,
        "published is now"
    );
    let served = get_ap(&note_url).await;
    assert_eq!(served.status(), 200);
    let served: Value = served.json().await.unwrap();
    assert_eq!(served["id"], note_url);
    assert_eq!(
        served["published"], a["object"]["published"],
        "the object keeps the published time it was sent with"
    );

    // Edit → Update with `updated`.
    node.app
        .edit_update(
            &node.moderator,
            update.id,
            Some("We bought **twelve** tourniquets.".into()),
            None,
        )
        .await
        .unwrap();
    let upd = remote
        .wait_for(WAIT, "Update", |r| {
            r.kind() == "Update" && r.activity["object"]["type"] == "Note"
        })
        .await;
    assert!(upd.signature.is_ok());
    assert_eq!(upd.activity["object"]["id"], note_url);
    assert!(
        upd.activity["object"]["content"]
            .as_str()
            .unwrap()
            .contains("twelve")
    );
    assert!(
        upd.activity["object"]["updated"].is_string(),
        "Mastodon records an edit only with `updated`"
    );

    // Delete → Delete(Tombstone), and the URL answers 410.
    node.app
        .delete_update(&node.moderator, update.id)
        .await
        .unwrap();
    let del = remote
        .wait_for(WAIT, "Delete", |r| r.kind() == "Delete")
        .await;
    assert!(del.signature.is_ok());
    assert_eq!(del.activity["object"]["id"], note_url);
    assert_eq!(del.activity["object"]["type"], "Tombstone");
    let gone = get_ap(&note_url).await;
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.json::<Value>().await.unwrap()["type"], "Tombstone");

    // One delivery per shared inbox for each activity.
    for kind in ["Create", "Update", "Delete"] {
        let count = remote
            .received()
            .iter()
            .filter(|r| r.kind() == kind && r.activity["object"]["id"] == note_url)
            .count();
        assert_eq!(count, 1, "{kind} arrived {count} times");
    }

    // Undo(Follow), embedded (Mastodon) and id-only (others).
    let undo = json!({"@context": "https://www.w3.org/ns/activitystreams", "id": format!("{alice}/undo/1"), "type": "Undo",
        "actor": alice, "object": follow(&alice, &actor_url, &follow_id)});
    let (status, _) = remote
        .post_signed(&alice, &inbox, undo.to_string().as_bytes())
        .await;
    assert_eq!(status, 202);
    assert_eq!(node.follower_ids(&initiative).await, vec![bob.clone()]);
    let undo = json!({"id": format!("{bob}/undo/1"), "type": "Undo", "actor": bob, "object": format!("{bob}/follows/1")});
    let (status, _) = remote
        .post_signed(&bob, &inbox, undo.to_string().as_bytes())
        .await;
    assert_eq!(status, 202);
    assert!(node.follower_ids(&initiative).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_inbox_posts_change_nothing() {
    for backend in backends() {
        refused_posts(backend).await;
    }
}

/// What the node keeps about federation, for before/after comparisons.
async fn snapshot(node: &FedNode, initiative: uuid::Uuid, ids: &[String]) -> String {
    let f = &node.fed_store;
    let followers = f
        .followers(LocalActor::Initiative(initiative), 100, 0)
        .await
        .unwrap();
    let items = f.inbox_items(Some(initiative), 100, 0).await.unwrap();
    let flags = f.inbox_items(None, 100, 0).await.unwrap();
    let counts = f.delivery_counts().await.unwrap();
    let mut received = Vec::new();
    for id in ids {
        received.push(f.is_received(id).await.unwrap());
    }
    format!("{followers:?} {items:?} {flags:?} {counts:?} {received:?}")
}

async fn refused_posts(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("dnipro-food").await;
    let actor_url = node.actor_url("dnipro-food");
    let inbox = node.url("/initiatives/dnipro-food/inbox");
    let alice = remote.actor_id("alice");
    let body = |n: u32| follow(&alice, &actor_url, &format!("{alice}/follows/{n}")).to_string();
    let mut ids: Vec<String> = (1..=8).map(|n| format!("{alice}/follows/{n}")).collect();
    ids.push("http://localhost:1/follows/6".into());
    let before = snapshot(&node, initiative.id, &ids).await;

    let cases: Vec<(&str, Vec<u8>, Signing)> = vec![
        ("unsigned", body(1).into_bytes(), Signing::Unsigned),
        (
            "wrongly signed",
            body(2).into_bytes(),
            Signing::WrongKey(alice.clone()),
        ),
        (
            "replayed (old date)",
            body(3).into_bytes(),
            Signing::StaleDate(alice.clone()),
        ),
        (
            "digest of another body",
            body(4).into_bytes(),
            Signing::DigestOfOtherBody(alice.clone()),
        ),
        (
            "malformed JSON",
            b"{\"type\": \"Follow\", ".to_vec(),
            Signing::As(alice.clone()),
        ),
        (
            "not an object",
            b"[1, 2]".to_vec(),
            Signing::As(alice.clone()),
        ),
        (
            // PostgreSQL cannot store it; SQLite must not differ.
            "a NUL character",
            body(7)
                .replace("follows/7", "follows/7\\u0000")
                .into_bytes(),
            Signing::As(alice.clone()),
        ),
        (
            "oversized",
            format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes(),
            Signing::As(alice.clone()),
        ),
        (
            "signed by someone else",
            follow(
                &remote.actor_id("mallory"),
                &actor_url,
                &format!("{alice}/follows/5"),
            )
            .to_string()
            .into_bytes(),
            Signing::As(alice.clone()),
        ),
    ];
    for (what, body, signing) in cases {
        match remote.try_post(&inbox, &body, signing).await {
            Ok((status, text)) => assert!(
                (400..500).contains(&status),
                "{what}: expected 4xx, got {status} {text}"
            ),
            // The node answers 413 as soon as it has the headers and closes the connection;
            // a client still sending the 2 MB may see that as a broken pipe. Refused either way.
            Err(e) if what == "oversized" && e.is_request() => {}
            Err(e) => panic!("{what}: the POST failed: {e}"),
        }
    }
    // An actor on another host than its activity id.
    let spoof = json!({"id": "http://localhost:1/follows/6", "type": "Follow", "actor": alice, "object": actor_url});
    let (status, _) = remote
        .post_signed(&alice, &inbox, spoof.to_string().as_bytes())
        .await;
    assert_eq!(status, 400);

    assert_eq!(
        snapshot(&node, initiative.id, &ids).await,
        before,
        "refused posts changed the database"
    );
    assert!(
        node.fed_store.remote_actor(&alice).await.unwrap().is_none(),
        "nothing cached from refused posts"
    );
    assert!(remote.received().is_empty(), "nothing was sent back");

    // The same follow, correctly signed, goes through — and only once.
    let (status, _) = remote.post_signed(&alice, &inbox, body(7).as_bytes()).await;
    assert_eq!(status, 202);
    let (status, _) = remote.post_signed(&alice, &inbox, body(7).as_bytes()).await;
    assert_eq!(status, 202, "a repeated delivery is accepted and ignored");
    // Each answer is queued before the follow is acknowledged: one Accept in the queue.
    let queued: u64 = node
        .fed_store
        .delivery_counts()
        .await
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(queued, 1, "deduplicated by activity id");
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_deliveries_survive_a_restart() {
    for backend in backends() {
        restart_delivers(backend).await;
    }
}

async fn restart_delivers(backend: Backend) {
    let mut node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    node.initiative("lviv-shelter").await;
    let actor_url = node.actor_url("lviv-shelter");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    node.until("the Accept is recorded as delivered", || async {
        node.federation.queue_report().await.unwrap().pending == 0
    })
    .await;

    // Stop the workers abruptly, then publish: the Create waits in the database only.
    node.restart(false).await;
    let update = node.post_update("lviv-shelter", "Ten beds ready.").await;
    assert!(node.federation.publish_pending().await.unwrap() >= 1);
    let report = node.federation.queue_report().await.unwrap();
    assert_eq!(report.pending, 1, "{report:?}");
    assert_eq!(report.hosts[0].host, remote.host());

    // A new process (new Federation, nothing in memory) whose database cannot give it the
    // signing key for a while: the delivery waits and is tried again, never given up.
    let queued_at = chrono::Utc::now();
    node.sql("ALTER TABLE fed_actor_keys RENAME TO fed_actor_keys_away")
        .await;
    node.restart(true).await;
    node.until("the delivery is postponed", || async {
        let report = node.federation.queue_report().await.unwrap();
        report.pending == 1
            && report.hosts[0]
                .next_attempt_at
                .is_some_and(|at| at > queued_at)
    })
    .await;
    node.sql("ALTER TABLE fed_actor_keys_away RENAME TO fed_actor_keys")
        .await;
    let note = node.url(&format!("/updates/{}", update.id));
    let create = remote
        .wait_for(WAIT, "Create after restart", |r| r.kind() == "Create")
        .await;
    assert_eq!(create.activity["object"]["id"], note);
    assert!(create.signature.is_ok());
    node.until("the queue is empty", || async {
        node.federation.queue_report().await.unwrap().pending == 0
    })
    .await;
    assert_eq!(
        remote
            .received()
            .iter()
            .filter(|r| r.kind() == "Create")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_server_that_was_down_gets_the_post() {
    for backend in backends() {
        down_then_back(backend).await;
    }
}

async fn down_then_back(backend: Backend) {
    let node = FedNode::start(backend).await;
    let mut remote = FakeRemote::start().await;
    node.initiative("odesa-repair").await;
    let actor_url = node.actor_url("odesa-repair");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;

    remote.go_down().await;
    let update = node.post_update("odesa-repair", "Roof fixed.").await;
    let host = remote.host();
    node.until("the node saw the host fail repeatedly", || async {
        let report = node.federation.queue_report().await.unwrap();
        // At least the update's Create is pending; the count is not pinned, since what else
        // is queued to the host meanwhile depends on timing. The Create arrives once (below).
        report.hosts.iter().any(|h| {
            h.host == host && h.consecutive_failures >= 3 && h.unreachable && h.pending >= 1
        })
    })
    .await;
    remote.fail_with(Some(503));
    remote.come_back().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    remote.fail_with(None);
    let create = remote
        .wait_for(WAIT, "Create after coming back", |r| r.kind() == "Create")
        .await;
    assert_eq!(
        create.activity["object"]["id"],
        node.url(&format!("/updates/{}", update.id))
    );
    node.until("the host is healthy again", || async {
        let report = node.federation.queue_report().await.unwrap();
        report.hosts.iter().any(|h| {
            h.host == host && h.consecutive_failures == 0 && !h.unreachable && h.pending == 0
        })
    })
    .await;
    assert_eq!(
        remote
            .received()
            .iter()
            .filter(|r| r.kind() == "Create")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_handles_key_rotation_replies_flags_and_profile_changes() {
    for backend in backends() {
        inbox_kinds(backend).await;
    }
}

async fn inbox_kinds(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("kyiv-kids").await;
    let actor_url = node.actor_url("kyiv-kids");
    let inbox = node.url("/inbox");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &inbox,
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    assert!(
        node.fed_store.remote_actor(&alice).await.unwrap().is_some(),
        "the follower's actor is cached"
    );

    // The remote rotates its key: the cached one fails, the node refetches once and accepts.
    remote.rotate_key();
    let update = node
        .post_update("kyiv-kids", "Drawing lessons on Saturday.")
        .await;
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{alice}/statuses/1/activity"), "type": "Create", "actor": alice,
        "to": [PUBLIC], "cc": [format!("{alice}/followers")],
        "object": {"id": format!("{alice}/statuses/1"), "type": "Note", "attributedTo": alice,
            "inReplyTo": node.url(&format!("/updates/{}", update.id)),
            "content": "<p>Thank you! <script>alert(1)</script><a href=\"javascript:x()\">x</a></p>",
            "to": [PUBLIC], "cc": [actor_url]}
    });
    let (status, text) = remote
        .post_signed(&alice, &inbox, reply.to_string().as_bytes())
        .await;
    assert_eq!(status, 202, "{text}");
    // Posts signed with a key that is not alice's: her key is fetched again once, and then
    // not for every such post (someone else's server is not hammered on a forger's behalf).
    let fetched_before = remote.actor_fetches();
    for n in 0..3 {
        let forged = json!({"id": format!("{alice}/forged/{n}"), "type": "Like", "actor": alice,
            "object": node.url(&format!("/updates/{}", update.id))});
        let (status, _) = remote
            .post(
                &inbox,
                forged.to_string().as_bytes(),
                Signing::WrongKey(alice.clone()),
            )
            .await;
        assert_eq!(status, 401);
    }
    assert_eq!(remote.actor_fetches(), fetched_before + 1);
    let items = node
        .fed_store
        .inbox_items(Some(initiative.id), 10, 0)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, InboxItemKind::Reply);
    assert_eq!(
        items[0].content_html,
        r#"<p>Thank you! <a rel="nofollow noopener noreferrer">x</a></p>"#
    );

    // A mention.
    let mention = json!({"id": format!("{alice}/statuses/2/activity"), "type": "Create", "actor": alice,
        "object": {"id": format!("{alice}/statuses/2"), "type": "Note", "attributedTo": alice, "content": "<p>@kyiv-kids hi</p>",
            "to": [actor_url], "tag": [{"type": "Mention", "href": actor_url, "name": "@kyiv-kids"}]}});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, mention.to_string().as_bytes())
            .await
            .0,
        202
    );
    let items = node
        .fed_store
        .inbox_items(Some(initiative.id), 10, 0)
        .await
        .unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|i| i.kind == InboxItemKind::Mention)
            .count(),
        1
    );

    // A post addressed to nobody here is accepted and not kept.
    let unrelated = json!({"id": format!("{alice}/statuses/3/activity"), "type": "Create", "actor": alice,
        "object": {"id": format!("{alice}/statuses/3"), "type": "Note", "attributedTo": alice, "content": "x", "to": [PUBLIC]}});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, unrelated.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert_eq!(
        node.fed_store
            .inbox_items(Some(initiative.id), 10, 0)
            .await
            .unwrap()
            .len(),
        2
    );

    // A report from the remote's instance actor (Mastodon's Flag: the reported account and
    // posts) becomes a report in the moderators' queue, once however often it is delivered.
    let mod_actor = remote.actor_id("instance");
    let flag = json!({"id": format!("{mod_actor}/flags/1"), "type": "Flag", "actor": mod_actor,
        "content": "spam?", "object": [actor_url, node.url(&format!("/updates/{}", update.id))]});
    for _ in 0..2 {
        assert_eq!(
            remote
                .post_signed(&mod_actor, &inbox, flag.to_string().as_bytes())
                .await
                .0,
            202
        );
    }
    let reports = node.store.reports(None, 10, 0).await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].initiative_id, initiative.id);
    assert_eq!(reports[0].reason, "spam?");
    assert_eq!(
        reports[0].reporter,
        hromada_domain::trust::Reporter::Remote {
            actor_id: mod_actor.clone()
        }
    );
    // A Flag of a post alone names its initiative too.
    let flag = json!({"id": format!("{mod_actor}/flags/2"), "type": "Flag", "actor": mod_actor,
        "content": "", "object": node.url(&format!("/updates/{}", update.id))});
    assert_eq!(
        remote
            .post_signed(&mod_actor, &inbox, flag.to_string().as_bytes())
            .await
            .0,
        202
    );
    let reports = node.store.reports(None, 10, 0).await.unwrap();
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.initiative_id == initiative.id));
    // A Flag of the node itself has no initiative: kept as an inbox item for moderators.
    let flag = json!({"id": format!("{mod_actor}/flags/3"), "type": "Flag", "actor": mod_actor,
        "content": "this node", "object": node.url("/actor")});
    assert_eq!(
        remote
            .post_signed(&mod_actor, &inbox, flag.to_string().as_bytes())
            .await
            .0,
        202
    );
    let flags = node.fed_store.inbox_items(None, 10, 0).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].kind, InboxItemKind::Flag);

    // Unknown types: 202, nothing kept.
    let like = json!({"id": format!("{alice}/likes/1"), "type": "Like", "actor": alice, "object": actor_url});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, like.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert!(
        !node
            .fed_store
            .is_received(&format!("{alice}/likes/1"))
            .await
            .unwrap()
    );

    // Update(Person) moves deliveries to the new inboxes; Delete(Person) removes the follower.
    let mut person: Value = support::get_ap(&alice).await.json().await.unwrap();
    person["endpoints"]["sharedInbox"] = json!(format!("{}/users/alice/inbox", remote.base_url));
    let update_person = json!({"id": format!("{alice}#updates/1"), "type": "Update", "actor": alice, "object": person});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, update_person.to_string().as_bytes())
            .await
            .0,
        202
    );
    let f = node
        .fed_store
        .follower(LocalActor::Initiative(initiative.id), &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.delivery_inbox(),
        format!("{}/users/alice/inbox", remote.base_url)
    );
    let delete =
        json!({"id": format!("{alice}#delete"), "type": "Delete", "actor": alice, "object": alice});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, delete.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert!(node.follower_ids(&initiative).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_accounts_delete_is_honoured_after_its_profile_is_gone() {
    for backend in backends() {
        deleted_account(backend).await;
    }
}

/// Mastodon sends a deleted account's `Delete` once its profile answers 410, so the key to
/// check it with is the one we had, however old: a refetch can only say "gone".
async fn deleted_account(backend: Backend) {
    // Every cached profile is due for a refetch a moment after it was fetched.
    let node = FedNode::start_adjusted(backend, true, |s| {
        s.limits.actor_refresh = Duration::from_millis(500);
    })
    .await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("lviv-generators").await;
    let inbox = node.url("/inbox");
    let (alice, bob) = (remote.actor_id("alice"), remote.actor_id("bob"));
    for who in [&alice, &bob] {
        let f = follow(
            who,
            &node.actor_url("lviv-generators"),
            &format!("{who}/f/1"),
        );
        assert_eq!(
            remote
                .post_signed(who, &inbox, f.to_string().as_bytes())
                .await
                .0,
            202
        );
    }
    assert_eq!(node.follower_ids(&initiative).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    remote.delete_actor("alice");
    remote.delete_actor("bob");

    // A gone account's Delete signed with another key, or any other activity of it, changes
    // nothing.
    remote.rotate_key();
    let forged =
        json!({"id": format!("{bob}#delete"), "type": "Delete", "actor": bob, "object": bob});
    assert_eq!(
        remote
            .post_signed(&bob, &inbox, forged.to_string().as_bytes())
            .await
            .0,
        202
    );
    remote.rotate_key();
    let unrelated = json!({"id": format!("{bob}#delete-note"), "type": "Delete", "actor": bob,
        "object": format!("{bob}/statuses/1")});
    assert_eq!(
        remote
            .post_signed(&bob, &inbox, unrelated.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert_eq!(node.follower_ids(&initiative).await.len(), 2);

    let delete =
        json!({"id": format!("{alice}#delete"), "type": "Delete", "actor": alice, "object": alice});
    assert_eq!(
        remote
            .post_signed(&alice, &inbox, delete.to_string().as_bytes())
            .await
            .0,
        202
    );
    assert_eq!(node.follower_ids(&initiative).await, [bob]);
    assert!(node.fed_store.remote_actor(&alice).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statements_about_other_nodes_listings_are_paged_by_listing() {
    for backend in backends() {
        statements_pages(backend).await;
    }
}

/// `/statements` over HTTP: ten listings' statements a page, `next` after the last listing,
/// only this node's standing statements, and no page but the first by number.
async fn statements_pages(backend: Backend) {
    use hromada_domain::trust::{Vouch, VouchBasis};
    let node = FedNode::start(backend).await;
    let template = node.initiative("template").await;
    let vouch = |initiative_id| {
        let id = uuid::Uuid::new_v4();
        Vouch {
            id,
            ap_id: node.url(&format!("/vouches/{id}")),
            initiative_id,
            collective: node.authority(),
            local: true,
            author: Some("moderator".into()),
            statement: "We know them".into(),
            basis: VouchBasis::MetInPerson,
            created_at: chrono::Utc::now(),
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    };
    let mut vouched = Vec::new();
    for n in 0..11 {
        let remote = hromada_domain::Initiative {
            id: uuid::Uuid::new_v4(),
            handle: hromada_domain::Handle::parse(&format!("remote-{n}")).unwrap(),
            origin: Some("elsewhere.example".into()),
            submitter_contact: None,
            ..template.clone()
        };
        node.store.insert_initiative(&remote, None).await.unwrap();
        let v = vouch(remote.id);
        node.store.insert_vouch(&v, None).await.unwrap();
        vouched.push(v.ap_id);
    }
    // About this node's own listing: it goes with the directory, not here.
    node.store
        .insert_vouch(&vouch(template.id), None)
        .await
        .unwrap();

    let first: Value = get_ap(&node.url("/statements?page=1"))
        .await
        .json()
        .await
        .unwrap();
    let second_url = first["next"].as_str().expect("a second page").to_string();
    assert!(second_url.contains("/statements?after="), "{second_url}");
    let second: Value = get_ap(&second_url).await.json().await.unwrap();
    assert!(second.get("next").is_none(), "{second}");
    let mut served: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["orderedItems"].as_array().unwrap().clone())
        .map(|note| {
            assert_eq!(note["type"], "Note");
            note["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(first["orderedItems"].as_array().unwrap().len(), 10);
    served.sort();
    vouched.sort();
    assert_eq!(
        served, vouched,
        "each standing statement once, none about our own"
    );
    assert_eq!(get_ap(&node.url("/statements?page=2")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peers_directory_is_read_once_and_a_peer_that_is_down_is_not_hammered() {
    for backend in backends() {
        backfill_bounds(backend).await;
    }
}

/// A peer's directory served by the test: its pages link 1 → 2 → 3 → 1 (a buggy or hostile
/// peer), or every page answers `failing` (503: down; 404: gone). Counts the pages served.
async fn looping_directory(
    failing: Option<axum::http::StatusCode>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let (count, page_base) = (served.clone(), base.clone());
    let app = axum::Router::new().route(
        "/directory",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<
                std::collections::HashMap<String, u32>,
            >| {
                let (count, base) = (count.clone(), page_base.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    if let Some(status) = failing {
                        return status.into_response();
                    }
                    let page = q.get("page").copied().unwrap_or(1);
                    let doc = json!({"type": "OrderedCollectionPage",
                        "id": format!("{base}/directory?page={page}"), "orderedItems": [],
                        "next": format!("{base}/directory?page={}", page % 3 + 1)});
                    (
                        [("content-type", "application/activity+json")],
                        doc.to_string(),
                    )
                        .into_response()
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, served)
}

async fn backfill_bounds(backend: Backend) {
    use std::sync::atomic::Ordering;
    // The test calls each round itself; a failed page waits a poll interval before it is
    // asked again, longer than this test runs.
    let node = FedNode::start_adjusted(backend, false, |s| {
        s.limits.poll_interval = Duration::from_secs(60);
    })
    .await;
    use axum::http::StatusCode;
    let (looping, looping_pages) = looping_directory(None).await;
    let (down, down_pages) = looping_directory(Some(StatusCode::SERVICE_UNAVAILABLE)).await;
    let (gone, gone_pages) = looping_directory(Some(StatusCode::NOT_FOUND)).await;
    let (old, old_pages) = directory_without_statements().await;
    for base in [&looping, &down, &gone, &old] {
        let mut peer = hromada_store::Peer::new(
            base.trim_start_matches("http://"),
            &format!("{base}/actor"),
            &format!("{base}/inbox"),
        );
        peer.outgoing = Some(hromada_store::PeerState::Accepted);
        peer.backfill_next = Some(format!("{base}/directory?page=1"));
        node.fed_store.save_peer(&peer).await.unwrap();
    }
    let next_page = |base: &str| {
        let domain = base.trim_start_matches("http://").to_string();
        let store = node.fed_store.clone();
        async move { store.peer(&domain).await.unwrap().unwrap().backfill_next }
    };
    for _ in 0..6 {
        node.federation.backfill_step().await.unwrap();
    }
    // Each page once: the link back to page 1 ends the backfill.
    assert_eq!(looping_pages.load(Ordering::SeqCst), 3);
    assert_eq!(next_page(&looping).await, None);
    // Followed anew, the peer's backfill starts over and reads every page again.
    let restart = hromada_store::PeerUpdate {
        backfill_next: Some(Some(format!("{looping}/directory?page=1"))),
        ..Default::default()
    };
    let domain = looping.trim_start_matches("http://");
    node.fed_store.update_peer(domain, &restart).await.unwrap();
    for _ in 0..4 {
        node.federation.backfill_step().await.unwrap();
    }
    assert_eq!(looping_pages.load(Ordering::SeqCst), 6);
    assert_eq!(next_page(&looping).await, None);
    // Asked once, then left alone until its retry is due; the page is kept for then. A
    // directory page answered 404 too (a proxy's error page while the peer is redeployed).
    for (base, pages) in [(&down, &down_pages), (&gone, &gone_pages)] {
        assert_eq!(pages.load(Ordering::SeqCst), 1, "{base}");
        assert_eq!(
            next_page(base).await,
            Some(format!("{base}/directory?page=1"))
        );
    }
    // A peer older than `/statements`: its directory, then a 404 for the statements its last
    // page does not even link to each time another peer's directory ended after it (the looping
    // one did twice), and nothing more: the 404 ends the re-read rather than being retried.
    assert_eq!(next_page(&old).await, None);
    let asked = old_pages.load(Ordering::SeqCst);
    assert!((2..=3).contains(&asked), "asked {asked} times");
}

/// A peer of a version without `/statements`: one directory page with no `next`; anything else
/// answers 404. Counts the requests.
async fn directory_without_statements() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>)
{
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let (count, page_base) = (served.clone(), base.clone());
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (count, base) = (count.clone(), page_base.clone());
        async move {
            count.fetch_add(1, Ordering::SeqCst);
            if uri.path() != "/directory" {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            let doc = json!({"type": "OrderedCollectionPage",
                "id": format!("{base}/directory?page=1"), "orderedItems": []});
            (
                [("content-type", "application/activity+json")],
                doc.to_string(),
            )
                .into_response()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inbox_post_is_handled_to_its_end_when_the_sender_hangs_up() {
    for backend in backends() {
        sender_hangs_up(backend).await;
    }
}

/// A sender whose request times out must not leave half of its activity handled: a listing
/// would be stored without being relayed, and the retry finds nothing changed to relay.
async fn sender_hangs_up(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("kyiv-kids").await;
    let alice = remote.actor_id("alice");
    // Before anything else the node fetches a new actor's key: that takes a while here, and
    // the sender gives up meanwhile.
    remote.slow_actors(Duration::from_millis(1500));
    let follow = follow(
        &alice,
        &node.actor_url("kyiv-kids"),
        &format!("{alice}/f/1"),
    )
    .to_string();
    let inbox = node.url("/inbox");
    let post = remote.post_signed(&alice, &inbox, follow.as_bytes());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), post)
            .await
            .is_err(),
        "the post is still being handled when its sender hangs up"
    );
    node.until(
        "the follow is handled although its sender hung up",
        || async { node.follower_ids(&initiative).await.contains(&alice) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn domain_blocks_refuse_posts_and_stop_deliveries() {
    for backend in backends() {
        domain_blocks_refuse_posts_and_stop_deliveries_on(backend).await;
    }
}

async fn domain_blocks_refuse_posts_and_stop_deliveries_on(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    node.initiative("poltava-animals").await;
    let actor_url = node.actor_url("poltava-animals");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;

    let block = DomainBlock {
        domain: "localhost".into(),
        reason: Some("test".into()),
        created_at: chrono::Utc::now(),
    };
    node.fed_store.block_domain(&block).await.unwrap();
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/2"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        !node
            .fed_store
            .is_received(&format!("{alice}/f/2"))
            .await
            .unwrap()
    );

    node.post_update("poltava-animals", "Twenty dogs vaccinated.")
        .await;
    let host = remote.host();
    node.until(
        "the delivery to the blocked domain is cancelled",
        || async {
            let report = node.federation.queue_report().await.unwrap();
            report
                .hosts
                .iter()
                .any(|h| h.host == host && h.cancelled == 1 && h.pending == 0)
        },
    )
    .await;
    assert!(
        remote.received().iter().all(|r| r.kind() != "Create"),
        "nothing is sent to a blocked domain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discovery_documents() {
    let node = FedNode::start(Backend::Sqlite).await;
    node.initiative("sumy-evac").await;
    let c = support::client();

    let links: Value = c
        .get(node.url("/.well-known/nodeinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        links["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );
    assert_eq!(
        links["links"][1]["rel"],
        "https://www.w3.org/ns/activitystreams#Application"
    );
    assert_eq!(links["links"][1]["href"], node.url("/actor"));
    let info = c.get(node.url("/nodeinfo/2.1")).send().await.unwrap();
    assert!(
        info.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("schema/2.1")
    );
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["software"]["name"], "hromada");
    assert_eq!(info["usage"]["users"]["total"], 1);
    assert_eq!(info["metadata"]["nodeName"], "Test node");
    assert_eq!(info["openRegistrations"], false);

    let host_meta = c
        .get(node.url("/.well-known/host-meta"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(host_meta.contains(&format!(
        "{}/.well-known/webfinger?resource={{uri}}",
        node.base_url
    )));

    let unknown = support::webfinger(&node, &format!("acct:nobody@{}", node.authority())).await;
    assert_eq!(unknown.status(), 404);
    let by_url: Value = support::webfinger(&node, &node.actor_url("sumy-evac"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_url["subject"],
        format!("acct:sumy-evac@{}", node.authority())
    );

    let instance: Value = get_ap(&node.url("/actor")).await.json().await.unwrap();
    assert_eq!(instance["type"], "Application");
    let wf: Value = support::webfinger(
        &node,
        &format!(
            "acct:{}@{}",
            instance["preferredUsername"].as_str().unwrap(),
            node.authority()
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(wf["links"][0]["href"], node.url("/actor"));

    // Outbox, followers and featured collections.
    node.post_update("sumy-evac", "Evacuation bus on Monday.")
        .await;
    let outbox: Value = get_ap(&node.url("/initiatives/sumy-evac/outbox"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 1);
    let page: Value = get_ap(outbox["first"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["orderedItems"][0]["type"], "Create");
    // A page number near the top of its type is an empty page, not an overflow.
    let far = get_ap(&node.url("/initiatives/sumy-evac/outbox?page=18446744073709551615")).await;
    assert_eq!(far.status(), 200);
    let far: Value = far.json().await.unwrap();
    assert_eq!(far["orderedItems"], json!([]));
    assert!(far.get("next").is_none());
    let followers: Value = get_ap(&node.url("/initiatives/sumy-evac/followers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 0);
    assert!(get_ap(&node.url("/initiatives/nobody")).await.status() == 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delayed_updates_go_out_when_due() {
    for backend in backends() {
        delayed_updates_go_out_when_due_on(backend).await;
    }
}

async fn delayed_updates_go_out_when_due_on(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    node.initiative("front-report").await;
    let actor_url = node.actor_url("front-report");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;

    let due = chrono::Utc::now() + chrono::Duration::seconds(3);
    let input = serde_json::from_value(
        json!({"kind": "news", "body": "Delivered last week.", "publish_at": due.to_rfc3339()}),
    )
    .unwrap();
    let update = node
        .app
        .post_update(&node.moderator, "front-report", input)
        .await
        .unwrap();
    let note = node.url(&format!("/updates/{}", update.id));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        remote.received().iter().all(|r| r.kind() != "Create"),
        "sent before its time"
    );
    assert_eq!(
        get_ap(&note).await.status(),
        404,
        "not public before its time"
    );
    let create = remote
        .wait_for(WAIT, "delayed Create", |r| r.kind() == "Create")
        .await;
    assert!(chrono::Utc::now() >= due);
    assert_eq!(create.activity["object"]["id"], note);

    // Planned while the listing is archived (when nothing of it goes out), due after it is
    // listed again: it goes out then.
    use hromada_domain::InitiativeStatus::{Archived, Published};
    node.app
        .set_status(&node.moderator, "front-report", Archived, None)
        .await
        .unwrap();
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    let input = serde_json::from_value(
        json!({"kind": "news", "body": "Back next week.", "publish_at": due.to_rfc3339()}),
    )
    .unwrap();
    let planned = node
        .app
        .post_update(&node.moderator, "front-report", input)
        .await
        .unwrap();
    node.until("the publisher has seen the planned post", || async {
        node.federation.published_everything().await.unwrap()
    })
    .await;
    node.app
        .set_status(&node.moderator, "front-report", Published, None)
        .await
        .unwrap();
    let planned_note = node.url(&format!("/updates/{}", planned.id));
    remote
        .wait_for(WAIT, "the Create planned while archived", |r| {
            r.kind() == "Create" && r.activity["object"]["id"] == planned_note.as_str()
        })
        .await;
}

/// The same flow through the real server (`hromada_server::start`, as `hromada serve` runs it):
/// content negotiation in front of the web pages, and federation's workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn through_the_real_server() {
    for backend in backends() {
        real_server(backend).await;
    }
}

async fn real_server(backend: Backend) {
    let node = hromada_testkit::TestNode::spawn_on(backend).await;
    let remote = FakeRemote::start().await;
    let (moderator, _) = node
        .user_with_token("moderator", hromada_domain::Role::Moderator)
        .await;
    let input = serde_json::from_value(json!({
        "handle": "kherson-water", "name": "Kherson Water", "summary": "Drinking water for villages",
        "categories": ["humanitarian_aid"], "regions": [{"kind": "ukraine", "oblast": "kherson"}],
        "submitter_contact": "water@example.org"
    }))
    .unwrap();
    node.app().submit(None, input).await.unwrap();
    node.app()
        .approve(&moderator, "kherson-water")
        .await
        .unwrap();
    let actor_url = node.url("/initiatives/kherson-water");

    // One URL, two representations.
    let html = support::client()
        .get(&actor_url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let json = get_ap(&actor_url).await;
    assert_eq!(json.headers()["content-type"], "application/activity+json");
    assert_eq!(json.json::<Value>().await.unwrap()["type"], "Group");
    let authority = node.base_url.trim_start_matches("http://").to_string();
    let wf = support::client()
        .get(format!(
            "{}/.well-known/webfinger?resource=acct:kherson-water@{authority}",
            node.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wf.json::<Value>().await.unwrap()["links"][0]["href"],
        actor_url
    );

    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    let input = serde_json::from_value(
        json!({"kind": "news", "body": "Two tanks delivered to Bilozerka."}),
    )
    .unwrap();
    let update = node
        .app()
        .post_update(&moderator, "kherson-water", input)
        .await
        .unwrap();
    let create = remote
        .wait_for(WAIT, "Create", |r| r.kind() == "Create")
        .await;
    assert!(create.signature.is_ok());
    assert_eq!(
        create.activity["object"]["id"],
        node.url(&format!("/updates/{}", update.id))
    );
}

/// The `hromada` binary next to this test's executable (built by `cargo test --workspace`).
fn hromada_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("hromada");
    bin.exists().then_some(bin)
}

fn start_binary(
    bin: &std::path::Path,
    port: u16,
    database_url: &str,
    data_dir: &std::path::Path,
) -> std::process::Child {
    let mut cmd = std::process::Command::new(bin);
    for (key, _) in std::env::vars() {
        if key.starts_with("HROMADA_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("serve")
        .env("HROMADA_LISTEN", format!("127.0.0.1:{port}"))
        .env("HROMADA_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("HROMADA_DATABASE_URL", database_url)
        .env("HROMADA_DATA_DIR", data_dir)
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(base: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(r) = support::client()
            .get(format!("{base}/healthz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node at {base} did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// A node process killed with SIGKILL after an update was published but before it was
/// delivered sends it once it runs again. The process is frozen (SIGSTOP) while the update is
/// written, so it cannot have sent anything before the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_between_publishing_and_delivery() {
    let Some(bin) = hromada_binary() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the hromada binary is missing in CI"
        );
        eprintln!(
            "note: the hromada binary is not built (cargo build -p hromada-server); skipping"
        );
        return;
    };
    let db = hromada_testkit::db::fresh_sqlite().await.unwrap();
    let app = hromada_app::App::new(db.store());
    let moderator = app
        .create_user(
            None,
            "moderator",
            hromada_domain::Role::Moderator,
            "test-password-123",
        )
        .await
        .unwrap();
    let input = serde_json::from_value(json!({
        "handle": "mykolaiv-water", "name": "Mykolaiv Water", "summary": "Water filters",
        "categories": ["humanitarian_aid"], "regions": [{"kind": "ukraine", "oblast": "mykolaiv"}],
        "submitter_contact": "water@example.org"
    }))
    .unwrap();
    app.submit(None, input).await.unwrap();
    app.approve(&moderator, "mykolaiv-water").await.unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://localhost:{port}");
    let data_dir = db.dir().join("data");
    let mut node = NodeProcess(start_binary(&bin, port, &db.url, &data_dir));
    wait_healthy(&base).await;

    let remote = FakeRemote::start().await;
    let alice = remote.actor_id("alice");
    let actor_url = format!("{base}/initiatives/mykolaiv-water");
    let (status, text) = remote
        .post_signed(
            &alice,
            &format!("{base}/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/f/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202, "{text}");
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    // Freeze it only once it is idle, so it holds no database lock while frozen.
    let deadline = std::time::Instant::now() + WAIT;
    while hromada_federation::queue_report(&*db.store)
        .await
        .unwrap()
        .pending
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the Accept was never recorded as delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    signal(&node.0, "STOP");
    let input = serde_json::from_value(json!({"kind": "news", "body": "Fifty filters installed."}))
        .unwrap();
    let update = app
        .post_update(&moderator, "mykolaiv-water", input)
        .await
        .unwrap();
    node.0.kill().unwrap(); // SIGKILL
    node.0.wait().unwrap();
    assert!(remote.received().iter().all(|r| r.kind() != "Create"));

    let _node = NodeProcess(start_binary(&bin, port, &db.url, &data_dir));
    let create = remote
        .wait_for(WAIT, "Create after the restart", |r| r.kind() == "Create")
        .await;
    assert_eq!(
        create.activity["object"]["id"],
        format!("{base}/updates/{}", update.id)
    );
    assert!(create.signature.is_ok());
}

/// Kills the node process when the test ends, also when it fails.
struct NodeProcess(std::process::Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn manual_approval_waits_for_a_maintainer() {
    for backend in backends() {
        manual_approval_waits_for_a_maintainer_on(backend).await;
    }
}

async fn manual_approval_waits_for_a_maintainer_on(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("careful-group").await;
    let patch = serde_json::from_value(json!({"manually_approves_followers": true})).unwrap();
    node.app
        .edit(&node.moderator, "careful-group", patch)
        .await
        .unwrap();
    let actor_url = node.actor_url("careful-group");
    let actor: Value = get_ap(&actor_url).await.json().await.unwrap();
    assert_eq!(actor["manuallyApprovesFollowers"], true);

    let local = LocalActor::Initiative(initiative.id);
    for name in ["alice", "bob"] {
        let who = remote.actor_id(name);
        let body = follow(&who, &actor_url, &format!("{who}/f/1")).to_string();
        assert_eq!(
            remote
                .post_signed(&who, &node.url("/inbox"), body.as_bytes())
                .await
                .0,
            202
        );
        let f = node.fed_store.follower(local, &who).await.unwrap().unwrap();
        assert_eq!(f.state, hromada_store::FollowerState::Pending);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        remote.received().is_empty(),
        "nothing is answered before a maintainer decides"
    );
    let followers: Value = get_ap(&node.url("/initiatives/careful-group/followers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        followers["totalItems"], 0,
        "pending requests are not followers"
    );

    let alice = remote.actor_id("alice");
    let bob = remote.actor_id("bob");
    assert!(
        node.federation
            .answer_follow_request(initiative.id, &alice, true)
            .await
            .unwrap()
    );
    let accept = remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    assert_eq!(accept.activity["object"]["id"], format!("{alice}/f/1"));
    assert!(accept.signature.is_ok());
    assert!(
        node.federation
            .answer_follow_request(initiative.id, &bob, false)
            .await
            .unwrap()
    );
    let reject = remote
        .wait_for(WAIT, "Reject", |r| r.kind() == "Reject")
        .await;
    assert_eq!(reject.activity["object"]["actor"], bob);
    assert_eq!(node.follower_ids(&initiative).await, vec![alice.clone()]);

    // Alice's server follows again (Mastodon does when it thinks it is not following): she
    // stays a follower and is accepted again at once, without asking the maintainers.
    let again = follow(&alice, &actor_url, &format!("{alice}/f/2")).to_string();
    assert_eq!(
        remote
            .post_signed(&alice, &node.url("/inbox"), again.as_bytes())
            .await
            .0,
        202
    );
    let f = node
        .fed_store
        .follower(local, &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.state, hromada_store::FollowerState::Accepted);
    let accept = remote
        .wait_for(WAIT, "Accept of the repeated Follow", |r| {
            r.kind() == "Accept" && r.activity["object"]["id"] == format!("{alice}/f/2")
        })
        .await;
    assert!(accept.signature.is_ok());
    assert_eq!(node.follower_ids(&initiative).await, vec![alice.clone()]);
    assert!(
        !node
            .federation
            .answer_follow_request(initiative.id, &alice, true)
            .await
            .unwrap(),
        "already answered"
    );
}

/// The parts of `FederationStore` that keep the queue exact, on both backends: deduplication,
/// the compare-and-set cursor, unique activity ids and disjoint concurrent claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn federation_store_contract() {
    for backend in backends() {
        store_contract(backend).await;
    }
}

async fn store_contract(backend: Backend) {
    use hromada_store::{
        Audience, CursorMove, DeliveryResult, DeliveryStatus, FedWrite, HostState, NewActivity,
        StoreError, Target, WriteOutcome,
    };
    let node = FedNode::start_with(backend, false).await;
    let f = &node.fed_store;

    let seen = FedWrite {
        received: Some("https://r.example/a/1".into()),
        ..Default::default()
    };
    assert_eq!(
        f.apply(&seen).await.unwrap(),
        WriteOutcome::Applied { deliveries: 0 }
    );
    assert_eq!(f.apply(&seen).await.unwrap(), WriteOutcome::Duplicate);

    let cursor = f.feed_cursor().await.unwrap();
    let stale = FedWrite {
        cursor: Some(CursorMove {
            from: cursor + 100,
            to: cursor + 101,
        }),
        ..Default::default()
    };
    assert!(matches!(
        f.apply(&stale).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(f.feed_cursor().await.unwrap(), cursor);

    let targets: Vec<Target> = (0..20)
        .map(|n| Target {
            inbox: format!("https://h{}.example/inbox/{n}", n % 2),
            host: format!("h{}.example", n % 2),
        })
        .collect();
    let activity = NewActivity {
        activity_id: node.url("/actor#test/1"),
        actor: LocalActor::Instance,
        body: json!({"id": node.url("/actor#test/1"), "actor": node.url("/actor")}).to_string(),
        audience: Audience::Inboxes(targets),
    };
    let write = FedWrite {
        activities: vec![activity],
        ..Default::default()
    };
    assert_eq!(
        f.apply(&write).await.unwrap(),
        WriteOutcome::Applied { deliveries: 20 }
    );
    assert!(
        matches!(f.apply(&write).await, Err(StoreError::Conflict(_))),
        "activity ids are unique"
    );

    let now = chrono::Utc::now();
    let lease = now + chrono::Duration::seconds(60);
    let (a, b) = tokio::join!(
        f.claim_deliveries(now, 12, lease),
        f.claim_deliveries(now, 12, lease)
    );
    let mut ids: Vec<i64> = a
        .unwrap()
        .iter()
        .chain(b.unwrap().iter())
        .map(|d| d.id)
        .collect();
    assert_eq!(ids.len(), 20, "every delivery claimed once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no delivery claimed twice");
    assert!(
        f.claim_deliveries(now, 50, lease).await.unwrap().is_empty(),
        "leased deliveries are skipped"
    );

    let done = DeliveryResult {
        status: DeliveryStatus::Delivered,
        attempted: true,
        next_attempt_at: now,
        http_status: Some(202),
        error: None,
    };
    f.finish_delivery(ids[0], &done, &HostState::new("h0.example"), false)
        .await
        .unwrap();
    let report = node.federation.queue_report().await.unwrap();
    assert_eq!(report.pending, 19);
    assert_eq!(report.hosts.iter().map(|h| h.delivered).sum::<u64>(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_initiative_tells_its_followers_and_is_gone() {
    for backend in backends() {
        deleted_initiative(backend).await;
    }
}

async fn deleted_initiative(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let initiative = node.initiative("soon-gone").await;
    let actor_url = node.actor_url("soon-gone");
    let alice = remote.actor_id("alice");
    let (status, _) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow(&alice, &actor_url, &format!("{alice}/follows/1"))
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 202);
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    let update = node.post_update("soon-gone", "Last words").await;

    node.app
        .delete_initiative(Some(&node.moderator), "soon-gone", Some("closed down"))
        .await
        .unwrap();
    // Mastodon's shape for a deleted account, signed by the initiative itself.
    let delete = remote
        .wait_for(WAIT, "Delete of the actor", |r| r.kind() == "Delete")
        .await;
    assert_eq!(
        delete.signature.as_deref(),
        Ok(format!("{actor_url}#main-key").as_str())
    );
    assert_eq!(delete.activity["id"], format!("{actor_url}#delete"));
    assert_eq!(delete.activity["actor"], actor_url);
    assert_eq!(delete.activity["object"], actor_url);
    assert_eq!(delete.activity["to"], json!([PUBLIC]));

    let gone = get_ap(&actor_url).await;
    assert_eq!(gone.status(), 410);
    let gone: Value = gone.json().await.unwrap();
    assert_eq!(
        (
            gone["id"].as_str(),
            gone["type"].as_str(),
            gone["formerType"].as_str()
        ),
        (Some(actor_url.as_str()), Some("Tombstone"), Some("Group"))
    );
    let note = get_ap(&node.url(&format!("/updates/{}", update.id))).await;
    assert_eq!(note.status(), 410);
    assert!(
        node.store
            .initiative_by_id(initiative.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// A maintainer answers follow requests and reads replies through the JSON API of a whole
/// node; the fake follower receives the signed `Accept` and `Reject`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn maintainers_answer_follow_requests_and_read_replies_through_the_api() {
    for backend in backends() {
        inbox_through_the_api(backend).await;
    }
}

async fn inbox_through_the_api(backend: Backend) {
    use hromada_domain::Role;
    let node = hromada_testkit::TestNode::spawn_on(backend).await;
    let remote = FakeRemote::start().await;
    let (moderator, _) = node.user_with_token("moderator", Role::Moderator).await;
    let (_, maintainer) = node.user_with_token("olena", Role::Maintainer).await;
    let (_, stranger) = node.user_with_token("petro", Role::Maintainer).await;
    let input = serde_json::from_value(json!({
        "handle": "careful-group", "name": "Careful Group", "summary": "Approves its followers",
        "categories": ["medical"], "regions": [{"kind": "ukraine", "oblast": "kharkiv"}],
        "manually_approves_followers": true, "submitter_contact": "careful@example.org"
    }))
    .unwrap();
    node.app().submit(None, input).await.unwrap();
    node.app()
        .approve(&moderator, "careful-group")
        .await
        .unwrap();
    node.app()
        .add_maintainer(Some(&moderator), "olena", "careful-group")
        .await
        .unwrap();
    let actor_url = node.url("/initiatives/careful-group");
    let inbox = node.url("/inbox");
    let client = support::client();
    let api = |path: &str| node.url(&format!("/api/v1/initiatives/careful-group{path}"));

    for name in ["alice", "bob"] {
        let who = remote.actor_id(name);
        let body = follow(&who, &actor_url, &format!("{who}/f/1")).to_string();
        assert_eq!(
            remote.post_signed(&who, &inbox, body.as_bytes()).await.0,
            202
        );
    }
    // Only its maintainers and moderators see the requests.
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(client.get(api("/follow-requests")).send().await.unwrap()),
        401
    );
    assert_eq!(
        status(
            client
                .get(api("/follow-requests"))
                .bearer_auth(&stranger)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    let list: Value = client
        .get(api("/follow-requests"))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let id_of = |name: &str| {
        items
            .iter()
            .find(|r| r["author"]["url"] == remote.actor_id(name))
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (alice_id, bob_id) = (id_of("alice"), id_of("bob"));
    assert_eq!(
        items[0]["author"]["handle"],
        format!("alice@{}", remote.host()),
        "{list}"
    );
    assert!(remote.received().is_empty(), "nothing answered yet");

    // A stranger cannot answer; an unknown request is 404.
    let post = |path: String, token: &str| {
        client
            .post(api(&path))
            .bearer_auth(token.to_string())
            .send()
    };
    assert_eq!(
        status(
            post(format!("/follow-requests/{alice_id}/accept"), &stranger)
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            post("/follow-requests/bm9ib2R5/accept".into(), &maintainer)
                .await
                .unwrap()
        ),
        404
    );

    assert_eq!(
        status(
            post(format!("/follow-requests/{alice_id}/accept"), &maintainer)
                .await
                .unwrap()
        ),
        204
    );
    let accept = remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    assert!(accept.signature.is_ok(), "signed by the initiative");
    assert_eq!(accept.activity["actor"], actor_url);
    assert_eq!(
        accept.activity["object"]["id"],
        format!("{}/f/1", remote.actor_id("alice"))
    );
    assert_eq!(
        status(
            post(format!("/follow-requests/{bob_id}/reject"), &maintainer)
                .await
                .unwrap()
        ),
        204
    );
    let reject = remote
        .wait_for(WAIT, "Reject", |r| r.kind() == "Reject")
        .await;
    assert!(reject.signature.is_ok());
    assert_eq!(reject.activity["object"]["actor"], remote.actor_id("bob"));
    assert_eq!(
        status(
            post(format!("/follow-requests/{alice_id}/accept"), &maintainer)
                .await
                .unwrap()
        ),
        404,
        "already answered"
    );
    let list: Value = client
        .get(api("/follow-requests"))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let followers: Value = get_ap(&node.url("/initiatives/careful-group/followers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 1);

    // Replies and mentions: newest first, sanitised, with author and links.
    let alice = remote.actor_id("alice");
    let update = node
        .app()
        .post_update(
            &moderator,
            "careful-group",
            serde_json::from_value(json!({"kind": "news", "body": "Kits delivered."})).unwrap(),
        )
        .await
        .unwrap();
    let update_url = node.url(&format!("/updates/{}", update.id));
    for n in 1..=3 {
        let reply = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{alice}/statuses/{n}/activity"), "type": "Create", "actor": alice,
            "to": [PUBLIC], "cc": [actor_url],
            "object": {"id": format!("{alice}/statuses/{n}"), "type": "Note", "attributedTo": alice,
                "inReplyTo": update_url,
                "content": format!("<p>Thanks {n}! <script>alert(1)</script></p>"),
                "to": [PUBLIC], "cc": [actor_url]}
        });
        let (code, text) = remote
            .post_signed(&alice, &inbox, reply.to_string().as_bytes())
            .await;
        assert_eq!(code, 202, "{text}");
        // Received one after the other, so "newest first" is well defined.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status(
            client
                .get(api("/replies"))
                .bearer_auth(&stranger)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            client
                .get(api("/replies?per_page=0"))
                .bearer_auth(&maintainer)
                .send()
                .await
                .unwrap()
        ),
        400
    );
    let page: Value = client
        .get(api("/replies?per_page=2"))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(page["more"], true);
    assert_eq!(items[0]["url"], format!("{alice}/statuses/3"));
    assert_eq!(items[1]["url"], format!("{alice}/statuses/2"));
    assert_eq!(items[0]["kind"], "reply");
    assert_eq!(items[0]["content_html"], "<p>Thanks 3! </p>");
    assert_eq!(items[0]["in_reply_to"], update_url);
    assert_eq!(items[0]["author"]["url"], alice);
    assert_eq!(
        items[0]["author"]["handle"],
        format!("alice@{}", remote.host())
    );
    let last: Value = client
        .get(api("/replies?per_page=2&page=2"))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["more"], false);
    assert_eq!(last["items"][0]["url"], format!("{alice}/statuses/1"));

    // A new avatar reaches the follower as an `Update` of the actor with its `icon`.
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&image::RgbImage::from_pixel(
            64,
            64,
            image::Rgb([200, 30, 30]),
        ))
        .unwrap();
    let set: Value = client
        .put(api("/avatar"))
        .bearer_auth(&maintainer)
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let icon_url = node.url(&format!(
        "/media/{}",
        set["avatar"]["name"].as_str().unwrap()
    ));
    let update = remote
        .wait_for(WAIT, "Update of the actor with its icon", |r| {
            r.kind() == "Update" && r.activity["object"]["icon"]["url"] == icon_url.as_str()
        })
        .await;
    assert!(update.signature.is_ok());
    assert_eq!(update.activity["object"]["type"], "Group");
    assert_eq!(update.activity["object"]["icon"]["type"], "Image");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_is_one_instance_actor() {
    for backend in backends() {
        one_instance_actor(backend).await;
    }
}

/// A second service actor on a peer's host cannot take the peer over (its inbox and the trust
/// placed in the peer follow the actor recorded for it).
async fn one_instance_actor(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let instance = node.url("/actor");
    let peering_follow = |actor: &str| {
        peering_follow(actor, &instance, &format!("{actor}/follows/node")).to_string()
    };
    let theirs = remote.actor_id("instance");
    let (status, body) = remote
        .post_signed(
            &theirs,
            &node.url("/inbox"),
            peering_follow(&theirs).as_bytes(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let relay = remote.actor_id("relay");
    let (status, body) = remote
        .post_signed(
            &relay,
            &node.url("/inbox"),
            peering_follow(&relay).as_bytes(),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let peers = node.fed_store.peers().await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].actor_id, theirs);
    assert_eq!(
        peers[0].incoming_follow_id,
        Some(format!("{theirs}/follows/node"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fediverse_followers_of_the_node_get_its_news() {
    for backend in backends() {
        node_news(backend).await;
    }
}

async fn node_news(backend: Backend) {
    let node = FedNode::start(backend).await;
    let remote = FakeRemote::start().await;
    let instance = node.url("/actor");
    let actor: Value = get_ap(&instance).await.json().await.unwrap();
    assert_eq!(actor["followers"], node.url("/actor/followers"));

    // An account (a `Person`) marking its follow as a node follow is an ordinary follower.
    let alice = remote.actor_id("alice");
    let follow_node = peering_follow(&alice, &instance, &format!("{alice}/follows/node"));
    let (status, body) = remote
        .post_signed(
            &alice,
            &node.url("/inbox"),
            follow_node.to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    remote
        .wait_for(WAIT, "Accept", |r| r.kind() == "Accept")
        .await;
    assert!(node.fed_store.peers().await.unwrap().is_empty());
    let followers: Value = get_ap(&node.url("/actor/followers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["type"], "OrderedCollection");
    assert_eq!(followers["totalItems"], 1);

    // A new initiative and its urgent need are announced; each note is served at its id.
    let initiative = node.initiative("pokrovsk-evac").await;
    let need: hromada_domain::NeedInput = serde_json::from_value(json!({
        "title": "Fuel for the evacuation van", "category": "evacuation", "urgency": "critical"
    }))
    .unwrap();
    let need = node
        .app
        .add_need(&node.moderator, "pokrovsk-evac", need)
        .await
        .unwrap();
    let news = |id: String| {
        let (node, remote) = (&node, &remote);
        async move {
            let create = remote
                .wait_for(WAIT, &id, |r| {
                    r.kind() == "Create" && r.activity["object"]["id"] == id.as_str()
                })
                .await;
            assert_eq!(create.activity["actor"], node.url("/actor"));
            assert_eq!(create.activity["id"], format!("{id}#create"));
            let note = create.activity["object"].clone();
            assert_eq!(note["cc"][0], node.url("/actor/followers"));
            let served = get_ap(&id).await;
            assert_eq!(served.status(), 200);
            let served: Value = served.json().await.unwrap();
            for field in ["id", "type", "attributedTo", "url", "content", "published"] {
                assert_eq!(served[field], note[field], "{field} of {id}");
            }
            note
        }
    };
    let announced = news(node.url("/actor/notes/new/pokrovsk-evac")).await;
    assert_eq!(announced["url"], node.actor_url("pokrovsk-evac"));
    assert!(
        announced["content"]
            .as_str()
            .unwrap()
            .contains(&initiative.name)
    );
    let urgent = news(node.url(&format!("/actor/notes/urgent/{}", need.id))).await;
    assert_eq!(urgent["url"], node.url(&format!("/needs/{}", need.id)));
    assert!(
        urgent["content"]
            .as_str()
            .unwrap()
            .contains("Fuel for the evacuation van")
    );

    // Nothing is served for what was never announced.
    let calm: hromada_domain::NeedInput =
        serde_json::from_value(json!({"title": "Tyres", "category": "evacuation"})).unwrap();
    let calm = node
        .app
        .add_need(&node.moderator, "pokrovsk-evac", calm)
        .await
        .unwrap();
    for path in [
        format!("/actor/notes/urgent/{}", calm.id),
        "/actor/notes/new/nobody".to_string(),
    ] {
        assert_eq!(get_ap(&node.url(&path)).await.status(), 404, "{path}");
    }

    // A need announced by a version that kept no record of its post: an edit records it and
    // sends nothing again.
    node.sql("DELETE FROM fed_published WHERE kind = 'urgent_need'")
        .await;
    let edit = |id, patch: Value| {
        let patch: hromada_domain::NeedPatch = serde_json::from_value(patch).unwrap();
        node.app.edit_need(&node.moderator, id, patch)
    };
    edit(need.id, json!({"title": "Diesel for the evacuation van"}))
        .await
        .unwrap();

    // A need that becomes urgent later is announced then, once, dated by that edit.
    // Notes carry whole seconds: let one pass, so that the edit's second is not the creation's.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    edit(calm.id, json!({"urgency": "critical"})).await.unwrap();
    let note_id = node.url(&format!("/actor/notes/urgent/{}", calm.id));
    let escalated = news(note_id.clone()).await;
    let published: chrono::DateTime<chrono::Utc> =
        escalated["published"].as_str().unwrap().parse().unwrap();
    assert!(
        published > calm.created_at,
        "dated by the edit, not the creation"
    );
    edit(calm.id, json!({"title": "Winter tyres"}))
        .await
        .unwrap();
    // Made less urgent, the need keeps its post where followers' servers may fetch it; raised
    // again, it is not posted again.
    edit(calm.id, json!({"urgency": "normal"})).await.unwrap();
    let served: Value = get_ap(&note_id).await.json().await.unwrap();
    assert_eq!(served["published"], escalated["published"]);
    edit(calm.id, json!({"urgency": "high"})).await.unwrap();
    // Another urgent need after it: once its post has arrived, the edit's turn has passed.
    let later: hromada_domain::NeedInput = serde_json::from_value(
        json!({"title": "Stretchers", "category": "medical", "urgency": "high"}),
    )
    .unwrap();
    let later = node
        .app
        .add_need(&node.moderator, "pokrovsk-evac", later)
        .await
        .unwrap();
    news(node.url(&format!("/actor/notes/urgent/{}", later.id))).await;
    node.until("every delivery is done", || async {
        node.federation.queue_report().await.unwrap().pending == 0
    })
    .await;
    let creates = |id: &str| {
        remote
            .received()
            .into_iter()
            .filter(|r| r.kind() == "Create" && r.activity["object"]["id"] == id)
            .count()
    };
    assert_eq!(creates(&note_id), 1, "announced once");
    let first = node.url(&format!("/actor/notes/urgent/{}", need.id));
    assert_eq!(creates(&first), 1, "not again after the upgrade");
    let served: Value = get_ap(&first).await.json().await.unwrap();
    assert_eq!(served["published"], urgent["published"]);
}
