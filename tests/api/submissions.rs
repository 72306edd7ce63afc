//! Submitting, reviewing and finding initiatives; invalid submissions.

use hromada_domain::Role;
use hromada_testkit::Backend;
use serde_json::json;

use crate::support::{Api, SUBMITTER_CONTACT, send_with_length, submission};

pub async fn submission_is_pending_until_a_moderator_approves_it(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("maintainer1", Role::Maintainer).await;

    let submitted = api
        .post("/api/v1/initiatives", None, submission("kharkiv-medics"))
        .await
        .expect(201);
    assert_eq!(
        submitted.header("location"),
        api.node.url("/api/v1/initiatives/kharkiv-medics")
    );
    assert_eq!(submitted.json["status"], "pending");
    assert_eq!(submitted.json["acct"], "kharkiv-medics");
    assert!(
        !submitted.text.contains(SUBMITTER_CONTACT),
        "the contact is not echoed publicly"
    );

    // Pending: not listed, not readable by the public, not even under its status.
    assert_eq!(
        api.search("q=generators", None).await.expect(200).json["total"],
        0
    );
    api.get("/api/v1/initiatives/kharkiv-medics", None)
        .await
        .expect_error(404, "not_found");
    api.search("status=pending", None)
        .await
        .expect_error(403, "forbidden");
    api.search("status=pending", Some(&maintainer))
        .await
        .expect_error(403, "forbidden");

    // Moderators see the queue, with the submitter's contact.
    let queue = api
        .search("status=pending", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(queue.handles(), ["kharkiv-medics"]);
    assert_eq!(
        queue.json["items"][0]["submitter_contact"],
        SUBMITTER_CONTACT
    );
    let detail = api
        .get("/api/v1/initiatives/kharkiv-medics", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(
        detail.json["initiative"]["submitter_contact"],
        SUBMITTER_CONTACT
    );

    // Only moderators approve.
    api.post_empty("/api/v1/initiatives/kharkiv-medics/approve", None)
        .await
        .expect_error(401, "unauthenticated");
    api.post_empty(
        "/api/v1/initiatives/kharkiv-medics/approve",
        Some(&maintainer),
    )
    .await
    .expect_error(403, "forbidden");
    let approved = api
        .post_empty(
            "/api/v1/initiatives/kharkiv-medics/approve",
            Some(&moderator),
        )
        .await
        .expect(200);
    assert_eq!(approved.json["status"], "published");
    api.post_empty(
        "/api/v1/initiatives/kharkiv-medics/approve",
        Some(&moderator),
    )
    .await
    .expect_error(409, "conflict");

    // Now the public finds it, by English and by Ukrainian words (prefixes too).
    for q in ["generators", "tourniquet", "генератори", "медик", "Харкова"] {
        let found = api.search(&format!("q={q}"), None).await.expect(200);
        assert_eq!(found.handles(), ["kharkiv-medics"], "q={q}: {}", found.text);
        assert_eq!(found.json["total"], 1);
        assert_eq!(found.json["page"], 1);
        assert!(!found.text.contains(SUBMITTER_CONTACT));
    }
    assert_eq!(
        api.search("q=astronomy", None).await.expect(200).json["total"],
        0
    );
    let filtered = api
        .search(
            "q=medics&category=medical&region=kharkiv&recurring=true",
            None,
        )
        .await
        .expect(200);
    assert_eq!(filtered.handles(), ["kharkiv-medics"]);
    assert_eq!(
        api.search("region=lviv", None).await.expect(200).json["total"],
        0
    );

    let public = api
        .get("/api/v1/initiatives/kharkiv-medics", None)
        .await
        .expect(200);
    assert_eq!(public.json["initiative"]["name"], "Польові медики Харкова");
    assert!(public.json["needs"].is_array() && public.json["updates"].is_array());
    assert!(public.json["events"].is_array());
    assert!(!public.text.contains(SUBMITTER_CONTACT));
    // Public moderators' view of a published listing leaves the contact out too.
    let after = api
        .get("/api/v1/initiatives/kharkiv-medics", Some(&moderator))
        .await
        .expect(200);
    assert!(!after.text.contains(SUBMITTER_CONTACT));

    // Both decisions are in the audit log, for moderators only.
    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    let actions: Vec<(&str, &str)> = audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("submitted", "kharkiv-medics")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("approved", "kharkiv-medics")),
        "{actions:?}"
    );
    api.get("/api/v1/audit", Some(&maintainer))
        .await
        .expect_error(403, "forbidden");
    api.get("/api/v1/audit", None)
        .await
        .expect_error(401, "unauthenticated");
}

pub async fn moderators_reject_with_a_reason(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.post("/api/v1/initiatives", None, submission("dubious"))
        .await
        .expect(201);

    api.post(
        "/api/v1/initiatives/dubious/reject",
        Some(&moderator),
        json!({}),
    )
    .await
    .expect_error(400, "invalid_json")
    .expect_field("reason", "missing_field");
    api.post(
        "/api/v1/initiatives/dubious/reject",
        Some(&moderator),
        json!({"reason": "  "}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("reason", "required");
    let rejected = api
        .post(
            "/api/v1/initiatives/dubious/reject",
            Some(&moderator),
            json!({"reason": "No way to verify who runs it"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected.json["status"], "rejected");
    assert_eq!(
        rejected.json["rejection_reason"],
        "No way to verify who runs it"
    );

    api.get("/api/v1/initiatives/dubious", None)
        .await
        .expect_error(404, "not_found");
    let listed = api
        .search("status=rejected", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(listed.handles(), ["dubious"]);
    api.post_empty("/api/v1/initiatives/dubious/approve", Some(&moderator))
        .await
        .expect_error(409, "conflict");
    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    assert!(
        audit.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rejected" && e["reason"] == "No way to verify who runs it"),
        "{}",
        audit.text
    );
}

pub async fn invalid_submissions_are_refused_and_nothing_is_stored(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;

    let mut bad_iban = submission("bad-iban");
    bad_iban["donation_methods"][0]["iban"] = json!("UA21 3223 1300 0002 6007 2335 6600 2");
    api.post("/api/v1/initiatives", None, bad_iban)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("donation_methods[0].iban", "invalid_iban");

    // A wallet address with one character wrong: its checksum gives it away.
    let mut bad_wallet = submission("bad-wallet");
    bad_wallet["donation_methods"] = json!([{"kind": "crypto", "network": "BTC",
        "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"}]);
    api.post("/api/v1/initiatives", None, bad_wallet)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("donation_methods[0].address", "address_checksum");

    let mut bad_category = submission("bad-category");
    bad_category["categories"] = json!(["medical", "astrology"]);
    api.post("/api/v1/initiatives", None, bad_category)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("categories[1]", "unknown_category");

    api.post("/api/v1/initiatives", None, submission("with space"))
        .await
        .expect_error(422, "validation_failed")
        .expect_field("handle", "invalid_handle");

    api.post("/api/v1/initiatives", None, submission("admin"))
        .await
        .expect_error(422, "validation_failed")
        .expect_field("handle", "reserved");

    let mut anonymous = submission("no-contact");
    anonymous["submitter_contact"] = json!(null);
    api.post("/api/v1/initiatives", None, anonymous)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("submitter_contact", "required");

    // Every problem is reported at once.
    let mut everything = submission("with space");
    everything["categories"] = json!(["astrology"]);
    everything["donation_methods"][0]["iban"] = json!("UA00");
    everything["description"] = json!("x".repeat(20_001));
    let reply = api
        .post("/api/v1/initiatives", None, everything)
        .await
        .expect_error(422, "validation_failed");
    let fields: Vec<String> = reply.fields().into_iter().map(|(f, _)| f).collect();
    for field in [
        "handle",
        "description",
        "categories[0]",
        "donation_methods[0].iban",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    // Wrong types and unknown values are 400 with the path of the field.
    let mut wrong_type = submission("wrong-type");
    wrong_type["discoverable"] = json!("yes");
    api.post("/api/v1/initiatives", None, wrong_type)
        .await
        .expect_error(400, "invalid_json")
        .expect_field("discoverable", "invalid_value");
    let mut unknown_oblast = submission("unknown-oblast");
    unknown_oblast["regions"][0]["oblast"] = json!("atlantis");
    let reply = api
        .post("/api/v1/initiatives", None, unknown_oblast)
        .await
        .expect_error(400, "invalid_json");
    assert!(
        reply.fields()[0].0.starts_with("regions[0]"),
        "{}",
        reply.text
    );
    let mut extra = submission("extra-field");
    extra["latitude"] = json!(49.99);
    api.post("/api/v1/initiatives", None, extra)
        .await
        .expect_error(400, "invalid_json")
        .expect_field("latitude", "unknown_field");

    // The 2 MB description never reaches validation, let alone storage.
    let mut huge = submission("huge");
    huge["description"] = json!("Ж".repeat(1_000_000));
    // Over a plain socket that reads while writing: the node answers as soon as it has the
    // headers, and a client still writing may otherwise see the closed connection instead.
    let (status, body) =
        send_with_length(api.node.addr, "POST", "/api/v1/initiatives", None, &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"payload_too_large\""), "{body}");

    // Nothing of the above was stored: no initiative in any status, no audit entry.
    let all = api
        .search(
            "status=pending,published,paused,archived,rejected",
            Some(&moderator),
        )
        .await
        .expect(200);
    assert_eq!(all.json["total"], 0, "{}", all.text);
    for handle in [
        "bad-iban",
        "bad-category",
        "no-contact",
        "wrong-type",
        "huge",
    ] {
        assert!(
            api.node
                .store()
                .initiative_by_handle(handle, None)
                .await
                .unwrap()
                .is_none(),
            "{handle} was stored"
        );
    }
    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    assert!(
        !audit.text.contains("\"submitted\""),
        "no submission was recorded: {}",
        audit.text
    );

    // A taken handle is a field error too, and the first listing is untouched.
    api.post("/api/v1/initiatives", None, submission("taken"))
        .await
        .expect(201);
    let mut second = submission("taken");
    second["name"] = json!("Someone else");
    api.post("/api/v1/initiatives", None, second)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("handle", "taken");
    let kept = api
        .get("/api/v1/initiatives/taken", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(kept.json["initiative"]["name"], "Польові медики Харкова");
}

pub async fn search_parameters_are_checked(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    for (handle, _) in [("alpha", 0), ("beta", 1), ("gamma", 2)] {
        api.published(handle, &moderator).await;
    }

    for (query, field, code) in [
        ("category=astrology", "category", "unknown_category"),
        ("region=atlantis", "region", "unknown_region"),
        ("status=bogus", "status", "unknown_status"),
        ("origin=mars", "origin", "unknown_origin"),
        ("has_open_needs=maybe", "has_open_needs", "invalid_boolean"),
        ("per_page=1000", "per_page", "invalid_number"),
        ("page=0", "page", "invalid_number"),
        ("page=-1", "page", "invalid_number"),
    ] {
        api.search(query, None)
            .await
            .expect_error(400, "invalid_query")
            .expect_field(field, code);
    }
    // Several at once.
    let reply = api
        .search("category=x&region=y", None)
        .await
        .expect_error(400, "invalid_query");
    assert_eq!(reply.fields().len(), 2, "{}", reply.text);

    // Empty values are ignored, as an HTML form sends them.
    let all = api
        .search("q=&category=&region=&page=", None)
        .await
        .expect(200);
    assert_eq!(all.json["total"], 3);

    // Pagination.
    let first = api.search("per_page=2", None).await.expect(200);
    assert_eq!(first.json["total"], 3);
    assert_eq!(first.json["per_page"], 2);
    assert_eq!(first.handles().len(), 2);
    let second = api.search("per_page=2&page=2", None).await.expect(200);
    assert_eq!(second.handles().len(), 1);
    let mut seen = first.handles();
    seen.extend(second.handles());
    seen.sort();
    assert_eq!(seen, ["alpha", "beta", "gamma"]);

    // Archived listings are public but only listed when asked for.
    api.post(
        "/api/v1/initiatives/gamma/status",
        Some(&moderator),
        json!({"status": "archived"}),
    )
    .await
    .expect(200);
    assert_eq!(api.search("", None).await.expect(200).json["total"], 2);
    assert_eq!(
        api.search("status=archived", None)
            .await
            .expect(200)
            .handles(),
        ["gamma"]
    );
    assert_eq!(
        api.search("origin=remote", None).await.expect(200).json["total"],
        0
    );
    assert_eq!(
        api.search("has_open_needs=true", None)
            .await
            .expect(200)
            .json["total"],
        0
    );
}
