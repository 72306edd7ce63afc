//! Vouches, warnings, the policy, reports and the transparency log through the JSON API.

use hromada_domain::trust::{Vouch, VouchBasis, Warning, WarningReason};
use hromada_domain::{Handle, Initiative, Role};
use hromada_testkit::Backend;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Api, Reply};

/// An initiative as stored on the node.
async fn stored(api: &Api, handle: &str) -> Initiative {
    api.node
        .store()
        .initiative_by_handle(handle, None)
        .await
        .unwrap()
        .unwrap()
}

/// A listing mirrored from `origin`, as federation will store it.
async fn mirrored(api: &Api, like: &str, handle: &str, origin: &str) -> Initiative {
    let remote = Initiative {
        id: Uuid::new_v4(),
        handle: Handle::parse(handle).unwrap(),
        origin: Some(origin.into()),
        ..stored(api, like).await
    };
    api.node
        .store()
        .insert_initiative(&remote, None)
        .await
        .unwrap();
    remote
}

/// A vouch issued on another node, as federation will store it.
async fn vouch_from(api: &Api, initiative: &Initiative, collective: &str) -> Vouch {
    let id = Uuid::new_v4();
    let vouch = Vouch {
        id,
        ap_id: format!("https://{collective}/vouches/{id}"),
        initiative_id: initiative.id,
        collective: collective.into(),
        local: false,
        author: None,
        statement: format!("{collective} has worked with them since 2022 and saw their receipts"),
        basis: VouchBasis::LongTermPartner,
        created_at: hromada_app::now(),
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    api.node.store().insert_vouch(&vouch, None).await.unwrap();
    vouch
}

async fn warning_from(api: &Api, initiative: &Initiative, collective: &str) -> Warning {
    let id = Uuid::new_v4();
    let warning = Warning {
        id,
        ap_id: format!("https://{collective}/warnings/{id}"),
        initiative_id: initiative.id,
        collective: collective.into(),
        local: false,
        author: None,
        statement: "Donations to this jar never reach the front".into(),
        reason: WarningReason::SuspectedFraud,
        created_at: hromada_app::now(),
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    api.node
        .store()
        .insert_warning(&warning, None)
        .await
        .unwrap();
    warning
}

/// The initiative's `trust` as its JSON shows it.
async fn trust(api: &Api, handle: &str) -> Value {
    let reply = api
        .get(&format!("/api/v1/initiatives/{handle}"), None)
        .await
        .expect(200);
    reply.json["initiative"]["trust"].clone()
}

async fn status(api: &Api, handle: &str) -> String {
    trust(api, handle).await["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn put_policy(api: &Api, admin: &str, policy: Value) -> Reply {
    api.send(
        api.request(Method::PUT, "/api/v1/trust-policy", Some(admin))
            .json(&policy),
    )
    .await
}

async fn vouch(api: &Api, moderator: &str, handle: &str, statement: &str) -> Reply {
    api.post(
        &format!("/api/v1/initiatives/{handle}/vouches"),
        Some(moderator),
        json!({"statement": statement, "basis": "met_in_person"}),
    )
    .await
}

async fn withdraw(api: &Api, token: &str, path: &str, reason: &str) -> Reply {
    api.send(
        api.request(Method::DELETE, path, Some(token))
            .json(&json!({ "reason": reason })),
    )
    .await
}

pub async fn threshold_and_policy_changes(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("kharkiv-medics", &moderator).await;
    api.published("odesa-kitchen", &moderator).await;
    let medics = stored(&api, "kharkiv-medics").await;
    let kitchen = stored(&api, "odesa-kitchen").await;

    // Nobody said anything yet.
    assert_eq!(status(&api, "kharkiv-medics").await, "unverified");

    // One vouch of this node's moderators: Verified under the default policy (threshold 1).
    let vouched = vouch(&api, &moderator, "kharkiv-medics", "We met them in Kharkiv")
        .await
        .expect(201);
    assert_eq!(vouched.json["trust"]["status"], "verified");
    assert_eq!(vouched.json["initiative"], "kharkiv-medics");
    assert_eq!(
        vouched.header("location"),
        api.node.url(&format!(
            "/api/v1/vouches/{}",
            vouched.json["vouch"]["id"].as_str().unwrap()
        ))
    );
    assert_eq!(status(&api, "kharkiv-medics").await, "verified");

    // A vouch only from a collective this node does not trust: Vouched.
    vouch_from(&api, &kitchen, "kyiv.example").await;
    assert_eq!(status(&api, "odesa-kitchen").await, "vouched");

    // Threshold 2: one trusted collective (this node) is no longer enough.
    let policy = put_policy(
        &api,
        &admin,
        json!({"trusted": [], "ignored": [], "threshold": 2, "warnings_dispute": true}),
    )
    .await
    .expect(200);
    assert_eq!(policy.json["threshold"], 2);
    assert_eq!(status(&api, "kharkiv-medics").await, "vouched");

    // A second collective vouches; once the policy trusts it, both statuses are recomputed.
    vouch_from(&api, &medics, "kyiv.example").await;
    assert_eq!(status(&api, "kharkiv-medics").await, "vouched");
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["KYIV.example"], "threshold": 2, "warnings_dispute": true, "note": "we know them"}),
    )
    .await
    .expect(200);
    assert_eq!(status(&api, "kharkiv-medics").await, "verified");
    assert_eq!(status(&api, "odesa-kitchen").await, "vouched");
    let read = api.get("/api/v1/trust-policy", None).await.expect(200);
    assert_eq!(read.json["trusted"], json!(["kyiv.example"]));
    assert_eq!(read.json["threshold"], 2);

    // Threshold back to 1: the trusted collective alone verifies the kitchen.
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["kyiv.example"], "threshold": 1, "warnings_dispute": true}),
    )
    .await
    .expect(200);
    assert_eq!(status(&api, "odesa-kitchen").await, "verified");

    // Ignoring it undoes that, and its vouch no longer counts anywhere.
    put_policy(
        &api,
        &admin,
        json!({"ignored": ["kyiv.example"], "threshold": 1, "warnings_dispute": true}),
    )
    .await
    .expect(200);
    assert_eq!(status(&api, "odesa-kitchen").await, "unverified");
    assert_eq!(status(&api, "kharkiv-medics").await, "verified");

    // Bad policies are refused as a whole.
    let refused = put_policy(
        &api,
        &admin,
        json!({"trusted": ["a.example", "not a domain"], "ignored": ["a.example"], "threshold": 0, "warnings_dispute": true}),
    )
    .await
    .expect_error(422, "validation_failed");
    let fields = refused.fields();
    for expected in [
        ("trusted[1]", "invalid_domain"),
        ("trusted[0]", "trusted_and_ignored"),
        ("threshold", "out_of_range"),
    ] {
        assert!(
            fields.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{fields:?}"
        );
    }
    let unchanged = api.get("/api/v1/trust-policy", None).await.expect(200);
    assert_eq!(unchanged.json["ignored"], json!(["kyiv.example"]));
}

pub async fn status_explains_itself(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("kharkiv-medics", &moderator).await;
    let medics = stored(&api, "kharkiv-medics").await;
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["lviv.example"], "threshold": 2, "warnings_dispute": true}),
    )
    .await
    .expect(200);
    vouch(
        &api,
        &moderator,
        "kharkiv-medics",
        "Ми зустрічалися з ними у Харкові / we met them in Kharkiv",
    )
    .await
    .expect(201);
    let remote = vouch_from(&api, &medics, "lviv.example").await;
    vouch_from(&api, &medics, "stranger.example").await;

    let t = trust(&api, "kharkiv-medics").await;
    assert_eq!(t["status"], "verified");
    assert_eq!(t["trusted_vouches"], 2);
    assert_eq!(t["threshold"], 2);
    assert!(
        t["summary"].as_str().unwrap().starts_with("Verified"),
        "{t}"
    );
    let reasons = t["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 3);

    let own = &reasons[0];
    assert_eq!(own["kind"], "vouch");
    assert_eq!(own["standing"], "this_node");
    assert_eq!(
        own["collective"],
        api.node.url("").trim_start_matches("http://")
    );
    assert_eq!(own["basis"], "met_in_person");
    assert_eq!(own["counts_toward"], "verified");
    assert!(own["at"].is_string());
    assert!(
        own["statement"].as_str().unwrap().contains("Харкові"),
        "{own}"
    );
    let text = own["explanation"].as_str().unwrap();
    assert!(
        text.contains("This node's moderators vouched") && text.contains("always count"),
        "{text}"
    );
    assert!(
        own.get("author").is_none(),
        "moderators stay unnamed: {own}"
    );

    let trusted = &reasons[1];
    assert_eq!(trusted["collective"], "lviv.example");
    assert_eq!(trusted["standing"], "trusted");
    assert_eq!(trusted["id"], remote.id.to_string());
    assert_eq!(trusted["ap_id"], remote.ap_id);
    assert_eq!(trusted["basis"], "long_term_partner");
    assert_eq!(trusted["counts_toward"], "verified");

    let stranger = &reasons[2];
    assert_eq!(stranger["standing"], "untrusted");
    assert_eq!(stranger["counts_toward"], "vouched");
    assert!(
        stranger["explanation"]
            .as_str()
            .unwrap()
            .contains("never Verified")
    );

    // The dedicated route says the same, and search items carry it too.
    let direct = api
        .get("/api/v1/initiatives/kharkiv-medics/trust", None)
        .await
        .expect(200);
    assert_eq!(direct.json["trust"], t);
    assert_eq!(direct.json["initiative"], "kharkiv-medics");
    let found = api.search("q=medics", None).await.expect(200);
    assert_eq!(found.json["items"][0]["trust"], t);

    // A mirrored listing has a status of its own, addressed as handle@domain.
    let mirror = mirrored(&api, "kharkiv-medics", "food-bank", "lviv.example").await;
    vouch_from(&api, &mirror, "lviv.example").await;
    let t = trust(&api, "food-bank@lviv.example").await;
    assert_eq!(t["status"], "vouched", "one trusted vouch, two needed: {t}");
    api.get("/api/v1/initiatives/nobody/trust", None)
        .await
        .expect_error(404, "not_found");
}

pub async fn withdrawals_and_warnings(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("kharkiv-medics", &moderator).await;
    let medics = stored(&api, "kharkiv-medics").await;

    let v = vouch(&api, &moderator, "kharkiv-medics", "We saw their receipts")
        .await
        .expect(201);
    let vouch_id = v.json["vouch"]["id"].as_str().unwrap().to_string();
    // One stance at a time: no second vouch, no warning while vouching.
    vouch(&api, &moderator, "kharkiv-medics", "Again")
        .await
        .expect_error(409, "conflict");
    api.post(
        "/api/v1/initiatives/kharkiv-medics/warnings",
        Some(&moderator),
        json!({"statement": "x", "reason": "inactive"}),
    )
    .await
    .expect_error(409, "conflict");

    // Withdrawing needs a reason; it comes in the body or the query string.
    api.delete(&format!("/api/v1/vouches/{vouch_id}"), Some(&moderator))
        .await
        .expect_error(422, "validation_failed")
        .expect_field("reason", "required");
    let withdrawn = withdraw(
        &api,
        &moderator,
        &format!("/api/v1/vouches/{vouch_id}"),
        "They stopped publishing reports",
    )
    .await
    .expect(200);
    assert_eq!(withdrawn.json["trust"]["status"], "unverified");
    assert_eq!(
        withdrawn.json["vouch"]["withdrawal_reason"],
        "They stopped publishing reports"
    );
    assert!(withdrawn.json["vouch"]["withdrawn_at"].is_string());
    withdraw(
        &api,
        &moderator,
        &format!("/api/v1/vouches/{vouch_id}"),
        "again",
    )
    .await
    .expect_error(409, "conflict");
    let t = trust(&api, "kharkiv-medics").await;
    assert_eq!(t["status"], "unverified");
    let reason = &t["reasons"][0];
    assert_eq!(reason["counts_toward"], Value::Null);
    assert!(
        reason["explanation"]
            .as_str()
            .unwrap()
            .contains("(They stopped publishing reports), so it no longer counts"),
        "{reason}"
    );
    // The withdrawn vouch stays readable, without its author for the public.
    let public = api
        .get(&format!("/api/v1/vouches/{vouch_id}"), None)
        .await
        .expect(200);
    assert!(public.json.get("author").is_none());
    assert!(public.json["withdrawn_at"].is_string());
    let for_moderators = api
        .get(&format!("/api/v1/vouches/{vouch_id}"), Some(&moderator))
        .await
        .expect(200);
    assert_eq!(for_moderators.json["author"], "moderator1");

    // This node's warning makes it Disputed, whatever the policy.
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["kyiv.example"], "threshold": 1, "warnings_dispute": false}),
    )
    .await
    .expect(200);
    vouch_from(&api, &medics, "kyiv.example").await;
    assert_eq!(status(&api, "kharkiv-medics").await, "verified");
    let w = api
        .post(
            "/api/v1/initiatives/kharkiv-medics/warnings",
            Some(&moderator),
            json!({"statement": "The jar changed owner", "reason": "impersonation"}),
        )
        .await
        .expect(201);
    assert_eq!(w.json["trust"]["status"], "disputed");
    assert!(w.header("location").ends_with(&format!(
        "/api/v1/warnings/{}",
        w.json["warning"]["id"].as_str().unwrap()
    )));
    let warning_id = w.json["warning"]["id"].as_str().unwrap().to_string();
    let lifted = api
        .delete(
            &format!("/api/v1/warnings/{warning_id}?reason=The%20owner%20explained"),
            Some(&moderator),
        )
        .await
        .expect(200);
    assert_eq!(lifted.json["trust"]["status"], "verified");
    assert_eq!(
        lifted.json["warning"]["withdrawal_reason"],
        "The owner explained"
    );

    // A trusted collective's warning disputes only when the policy says so.
    let remote_warning = warning_from(&api, &medics, "kyiv.example").await;
    assert_eq!(status(&api, "kharkiv-medics").await, "verified");
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["kyiv.example"], "threshold": 1, "warnings_dispute": true}),
    )
    .await
    .expect(200);
    assert_eq!(status(&api, "kharkiv-medics").await, "disputed");

    // Other nodes' statements can only be withdrawn on their own node.
    withdraw(
        &api,
        &moderator,
        &format!("/api/v1/warnings/{}", remote_warning.id),
        "not ours",
    )
    .await
    .expect_error(403, "forbidden");
    withdraw(
        &api,
        &moderator,
        &format!("/api/v1/vouches/{}", Uuid::new_v4()),
        "x",
    )
    .await
    .expect_error(404, "not_found");
    // A warning id is not a vouch id.
    withdraw(
        &api,
        &moderator,
        &format!("/api/v1/vouches/{warning_id}"),
        "x",
    )
    .await
    .expect_error(404, "not_found");
}

pub async fn who_may_do_what(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("maintainer1", Role::Maintainer).await;
    api.published("kharkiv-medics", &moderator).await;
    api.post(
        "/api/v1/initiatives",
        None,
        crate::support::submission("still-pending"),
    )
    .await
    .expect(201);

    vouch(
        &api,
        &maintainer,
        "kharkiv-medics",
        "We vouch for ourselves",
    )
    .await
    .expect_error(403, "forbidden");
    api.post(
        "/api/v1/initiatives/kharkiv-medics/vouches",
        None,
        json!({"statement": "x", "basis": "other"}),
    )
    .await
    .expect_error(401, "unauthenticated");
    put_policy(
        &api,
        &moderator,
        json!({"threshold": 1, "warnings_dispute": true}),
    )
    .await
    .expect_error(403, "forbidden");
    // Only public listings can be vouched for; bad input is refused with field errors.
    vouch(&api, &moderator, "still-pending", "x")
        .await
        .expect_error(404, "not_found");
    vouch(&api, &moderator, "kharkiv-medics", "   ")
        .await
        .expect_error(422, "validation_failed")
        .expect_field("statement", "required");
    api.post(
        "/api/v1/initiatives/kharkiv-medics/vouches",
        Some(&moderator),
        json!({"statement": "x", "basis": "trust_me"}),
    )
    .await
    .expect_error(400, "invalid_json");
    // Nothing of that was stored.
    assert_eq!(status(&api, "kharkiv-medics").await, "unverified");
    let log = api.get("/api/v1/transparency", None).await.expect(200);
    assert_eq!(log.json["items"], json!([]));
}

pub async fn search_filters_by_trust(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    for handle in ["verified-one", "vouched-one", "disputed-one", "plain-one"] {
        api.published(handle, &moderator).await;
    }
    vouch(&api, &moderator, "verified-one", "We met them")
        .await
        .expect(201);
    let vouched = stored(&api, "vouched-one").await;
    vouch_from(&api, &vouched, "kyiv.example").await;
    api.post(
        "/api/v1/initiatives/disputed-one/warnings",
        Some(&moderator),
        json!({"statement": "Fake receipts", "reason": "suspected_fraud"}),
    )
    .await
    .expect(201);

    let only = |level: &str| format!("trust={level}");
    assert_eq!(
        api.search(&only("verified"), None)
            .await
            .expect(200)
            .handles(),
        ["verified-one"]
    );
    assert_eq!(
        api.search(&only("vouched"), None)
            .await
            .expect(200)
            .handles(),
        ["vouched-one"]
    );
    assert_eq!(
        api.search(&only("disputed"), None)
            .await
            .expect(200)
            .handles(),
        ["disputed-one"]
    );
    let unverified = api.search(&only("UNVERIFIED"), None).await.expect(200);
    assert_eq!(unverified.handles(), ["plain-one"]);
    assert_eq!(unverified.json["total"], 1);
    assert_eq!(unverified.json["items"][0]["trust"]["status"], "unverified");
    // Combined with words, and refused when unknown.
    assert_eq!(
        api.search("q=generators&trust=verified", None)
            .await
            .expect(200)
            .handles(),
        ["verified-one"]
    );
    api.search("trust=trustworthy", None)
        .await
        .expect_error(400, "invalid_query")
        .expect_field("trust", "unknown_trust_status");
    assert_eq!(
        api.search("", None).await.expect(200).json["total"],
        4,
        "without the filter everything is found"
    );
}

pub async fn reports_reach_the_moderators(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("maintainer1", Role::Maintainer).await;
    api.published("kharkiv-medics", &moderator).await;
    const CONTACT: &str = "signal: reporter-contact-123";

    let receipt = api
        .post(
            "/api/v1/initiatives/kharkiv-medics/reports",
            None,
            json!({"category": "endangers", "reason": "The page shows the street of their depot", "contact": CONTACT}),
        )
        .await
        .expect(201);
    assert_eq!(receipt.json["status"], "open");
    assert!(!receipt.text.contains(CONTACT), "nothing is echoed");
    api.post(
        "/api/v1/initiatives/kharkiv-medics/reports",
        Some(&maintainer),
        json!({"category": "fraud", "reason": "Same jar as another group"}),
    )
    .await
    .expect(201);
    api.post(
        "/api/v1/initiatives/kharkiv-medics/reports",
        None,
        json!({"category": "fraud", "reason": ""}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("reason", "required");
    api.post(
        "/api/v1/initiatives/nobody/reports",
        None,
        json!({"category": "spam", "reason": "x"}),
    )
    .await
    .expect_error(404, "not_found");

    api.get("/api/v1/reports", None)
        .await
        .expect_error(401, "unauthenticated");
    api.get("/api/v1/reports", Some(&maintainer))
        .await
        .expect_error(403, "forbidden");
    let list = api
        .get("/api/v1/reports", Some(&moderator))
        .await
        .expect(200);
    let items = list.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["reporter"],
        json!({"kind": "user", "username": "maintainer1"})
    );
    assert_eq!(
        items[1]["reporter"],
        json!({"kind": "anonymous", "contact": CONTACT})
    );
    assert_eq!(items[1]["initiative"], "kharkiv-medics");
    assert_eq!(items[1]["category"], "endangers");

    let id = items[1]["id"].as_str().unwrap().to_string();
    let resolved = api
        .post(
            &format!("/api/v1/reports/{id}/resolve"),
            Some(&moderator),
            json!({"resolution": "Asked them to remove the street; done"}),
        )
        .await
        .expect(200);
    assert_eq!(resolved.json["status"], "resolved");
    assert_eq!(resolved.json["resolved_by"], "moderator1");
    api.post(
        &format!("/api/v1/reports/{id}/resolve"),
        Some(&moderator),
        json!({"resolution": "again"}),
    )
    .await
    .expect_error(409, "conflict");
    api.post(
        &format!("/api/v1/reports/{}/resolve", Uuid::new_v4()),
        Some(&moderator),
        json!({"resolution": "x"}),
    )
    .await
    .expect_error(404, "not_found");

    let open = api
        .get("/api/v1/reports?status=open", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(open.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(open.json["items"][0]["category"], "fraud");
    api.get("/api/v1/reports?status=maybe", Some(&moderator))
        .await
        .expect_error(400, "invalid_query");
    // Reports are not public in any form.
    for path in ["/api/v1/transparency", "/api/v1/initiatives/kharkiv-medics"] {
        let public = api.get(path, None).await.expect(200);
        assert!(!public.text.contains(CONTACT) && !public.text.contains("depot"));
    }
}

pub async fn transparency_log_and_feed(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("kharkiv-medics", &moderator).await;
    api.published("odesa-kitchen", &moderator).await;
    let kitchen = stored(&api, "odesa-kitchen").await;
    let mirror = mirrored(&api, "odesa-kitchen", "food-bank", "lviv.example").await;
    let _ = kitchen;

    let v = vouch(&api, &moderator, "kharkiv-medics", "We saw their receipts")
        .await
        .expect(201);
    let vouch_id = v.json["vouch"]["id"].as_str().unwrap().to_string();
    withdraw(
        &api,
        &moderator,
        &format!("/api/v1/vouches/{vouch_id}"),
        "No reports since spring",
    )
    .await
    .expect(200);
    api.post(
        "/api/v1/initiatives/food-bank@lviv.example/warnings",
        Some(&moderator),
        json!({"statement": "Nobody answers since March", "reason": "inactive"}),
    )
    .await
    .expect(201);
    put_policy(
        &api,
        &admin,
        json!({"trusted": ["lviv.example"], "threshold": 1, "warnings_dispute": true, "note": "We met the Lviv collective"}),
    )
    .await
    .expect(200);
    // Statements received from other nodes are theirs to log, not this node's.
    vouch_from(&api, &mirror, "lviv.example").await;

    let log = api.get("/api/v1/transparency", None).await.expect(200);
    let items = log.json["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "policy_changed",
            "warning_issued",
            "vouch_withdrawn",
            "vouch_issued"
        ],
        "newest first"
    );
    let policy = &items[0];
    assert_eq!(policy["reason"], "We met the Lviv collective");
    assert_eq!(policy["details"]["before"]["trusted"], json!([]));
    assert_eq!(
        policy["details"]["after"]["trusted"],
        json!(["lviv.example"])
    );
    assert_eq!(items[1]["initiative"], "food-bank@lviv.example");
    assert_eq!(items[1]["statement"], "Nobody answers since March");
    assert_eq!(items[1]["details"]["reason"], "inactive");
    assert_eq!(items[2]["reason"], "No reports since spring");
    assert_eq!(items[2]["statement_id"], vouch_id.as_str());
    assert_eq!(items[3]["initiative"], "kharkiv-medics");
    assert_eq!(items[3]["details"]["basis"], "met_in_person");
    assert!(
        items[3]["ap_id"]
            .as_str()
            .unwrap()
            .starts_with(&api.node.url("/vouches/"))
    );
    for e in items {
        assert!(e["at"].is_string());
    }
    assert!(
        !log.text.contains("moderator1") && !log.text.contains("admin1"),
        "who among the moderators acted is not published: {}",
        log.text
    );
    let page = api
        .get("/api/v1/transparency?limit=2&offset=1", None)
        .await
        .expect(200);
    let paged: Vec<&str> = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(paged, ["warning_issued", "vouch_withdrawn"]);
    api.get("/api/v1/transparency?limit=0", None)
        .await
        .expect_error(400, "invalid_query");

    let feed = api.get("/api/v1/transparency.atom", None).await.expect(200);
    assert!(
        feed.header("content-type")
            .starts_with("application/atom+xml")
    );
    assert!(feed.text.starts_with("<?xml"));
    assert_eq!(feed.text.matches("<entry>").count(), 4);
    for needle in [
        "Changed the trust policy",
        "Warned about food-bank@lviv.example",
        "Withdrew the vouch for kharkiv-medics",
        "Reason: No reports since spring",
        "Vouched for kharkiv-medics",
    ] {
        assert!(feed.text.contains(needle), "{needle} in {}", feed.text);
    }
}
