//! Maintainers keeping their initiative current: edits, needs, updates, events, statuses.

use hromada_domain::Role;
use hromada_testkit::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::Api;

pub async fn maintainers_edit_only_their_own_initiative(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.published("theirs", &moderator).await;

    // Only moderators assign maintainers.
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&maintainer),
        json!({"username": "olena"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        json!({"username": "nobody"}),
    )
    .await
    .expect_error(404, "not_found");
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        json!({"username": "olena"}),
    )
    .await
    .expect(204);

    let edited = api
        .patch(
            "/api/v1/initiatives/ours",
            Some(&maintainer),
            json!({"summary": "Now also repairing generators", "website": "https://ours.example.org"}),
        )
        .await
        .expect(200);
    assert_eq!(edited.json["summary"], "Now also repairing generators");
    let read = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert_eq!(
        read.json["initiative"]["website"],
        "https://ours.example.org"
    );

    // Someone else's initiative: 403, and it stays as it was.
    let before = api
        .get("/api/v1/initiatives/theirs", None)
        .await
        .expect(200);
    api.patch(
        "/api/v1/initiatives/theirs",
        Some(&maintainer),
        json!({"summary": "Hijacked"}),
    )
    .await
    .expect_error(403, "forbidden");
    let after = api
        .get("/api/v1/initiatives/theirs", None)
        .await
        .expect(200);
    assert_eq!(before.json, after.json);

    // Without a token, 401 with a challenge; an invalid edit changes nothing.
    let anonymous = api
        .patch("/api/v1/initiatives/ours", None, json!({"summary": "x"}))
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(anonymous.header("www-authenticate"), "Bearer");
    api.patch(
        "/api/v1/initiatives/ours",
        Some(&maintainer),
        json!({"name": "", "summary": "Valid"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("name", "required");
    api.patch(
        "/api/v1/initiatives/ours",
        Some(&maintainer),
        json!({"handle": "renamed"}),
    )
    .await
    .expect_error(400, "invalid_json")
    .expect_field("handle", "unknown_field");
    let unchanged = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert_eq!(
        unchanged.json["initiative"]["summary"],
        "Now also repairing generators"
    );
    api.patch(
        "/api/v1/initiatives/nonexistent",
        Some(&moderator),
        json!({"summary": "x"}),
    )
    .await
    .expect_error(404, "not_found");

    // Moderators edit any local initiative.
    api.patch(
        "/api/v1/initiatives/theirs",
        Some(&moderator),
        json!({"summary": "Fixed a typo"}),
    )
    .await
    .expect(200);

    // A signed-in submitter maintains what they submit.
    let created = api
        .post(
            "/api/v1/initiatives",
            Some(&maintainer),
            crate::support::submission("olenas-new"),
        )
        .await
        .expect(201);
    assert_eq!(created.json["status"], "pending");
    api.get("/api/v1/initiatives/olenas-new", Some(&maintainer))
        .await
        .expect(200);
    let me = api
        .get("/api/v1/auth/me", Some(&maintainer))
        .await
        .expect(200);
    assert_eq!(me.json["user"]["maintains"].as_array().unwrap().len(), 2);
}

/// Someone leaves an initiative, or loses the phone they were signed in on: moderators see who
/// maintains it and end that account's access to it, and nothing else.
pub async fn moderators_remove_maintainers(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let olena = api.user("olena", Role::Maintainer).await;
    let taras = api.user("taras", Role::Maintainer).await;
    let stranger = api.user("stranger", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.published("theirs", &moderator).await;
    for (who, handle) in [("olena", "ours"), ("taras", "ours"), ("olena", "theirs")] {
        api.post(
            &format!("/api/v1/initiatives/{handle}/maintainers"),
            Some(&moderator),
            json!({"username": who}),
        )
        .await
        .expect(204);
    }
    let names = |reply: crate::support::Reply| {
        let mut names: Vec<String> = reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["disabled"], false);
                m["username"].as_str().unwrap().to_string()
            })
            .collect();
        names.sort();
        names
    };
    let listed = api
        .get("/api/v1/initiatives/ours/maintainers", Some(&olena))
        .await
        .expect(200);
    assert_eq!(names(listed), ["olena", "taras"]);
    api.get("/api/v1/initiatives/ours/maintainers", Some(&stranger))
        .await
        .expect_error(403, "forbidden");
    api.get("/api/v1/initiatives/ours/maintainers", None)
        .await
        .expect_error(401, "unauthenticated");

    // Maintainers cannot remove each other.
    api.delete("/api/v1/initiatives/ours/maintainers/taras", Some(&olena))
        .await
        .expect_error(403, "forbidden");
    api.delete(
        "/api/v1/initiatives/ours/maintainers/olena",
        Some(&moderator),
    )
    .await
    .expect(204);
    let listed = api
        .get("/api/v1/initiatives/ours/maintainers", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(names(listed), ["taras"]);
    // Her token goes on, for the initiative she still maintains only.
    api.patch(
        "/api/v1/initiatives/ours",
        Some(&olena),
        json!({"summary": "Hers no more"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.patch(
        "/api/v1/initiatives/theirs",
        Some(&olena),
        json!({"summary": "Still hers"}),
    )
    .await
    .expect(200);
    api.patch(
        "/api/v1/initiatives/ours",
        Some(&taras),
        json!({"summary": "Taras goes on"}),
    )
    .await
    .expect(200);

    // Removing again, or someone who never maintained it, or from no such initiative: 404.
    for path in [
        "/api/v1/initiatives/ours/maintainers/olena",
        "/api/v1/initiatives/ours/maintainers/stranger",
        "/api/v1/initiatives/ours/maintainers/nobody",
        "/api/v1/initiatives/nowhere/maintainers/taras",
    ] {
        api.delete(path, Some(&moderator))
            .await
            .expect_error(404, "not_found");
    }
    let log = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    let removals: Vec<&Value> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "maintainer_removed")
        .collect();
    assert_eq!(removals.len(), 1, "{:?}", log.json);
    assert_eq!(removals[0]["subject"], "ours");
    assert_eq!(removals[0]["actor"], "moderator1");
    assert_eq!(removals[0]["details"]["user"], "olena");
}

pub async fn needs_updates_and_events(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    let stranger = api.user("taras", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.published("friends", &moderator).await;
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        json!({"username": "olena"}),
    )
    .await
    .expect(204);

    // Needs.
    let need = api
        .post(
            "/api/v1/initiatives/ours/needs",
            Some(&maintainer),
            json!({
                "title": "Generator for the field hospital",
                "category": "equipment",
                "target": {"amount": "40000", "currency": "UAH"},
                "urgency": "critical"
            }),
        )
        .await
        .expect(201);
    let need_id = need.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        need.header("location"),
        api.node.url(&format!("/api/v1/needs/{need_id}"))
    );
    assert_eq!(need.json["raised"], "0.00");
    api.post(
        "/api/v1/initiatives/ours/needs",
        Some(&stranger),
        json!({"title": "x", "category": "equipment"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.post(
        "/api/v1/initiatives/ours/needs",
        Some(&maintainer),
        json!({"title": "x", "category": "astrology"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("category", "unknown_category");
    let funded = api
        .patch(
            &format!("/api/v1/needs/{need_id}"),
            Some(&maintainer),
            json!({"raised": "40000", "status": "funded"}),
        )
        .await
        .expect(200);
    assert_eq!(funded.json["raised"], "40000.00");
    assert_eq!(funded.json["status"], "funded");
    api.patch(
        &format!("/api/v1/needs/{need_id}"),
        Some(&stranger),
        json!({"status": "cancelled"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.patch(
        &format!("/api/v1/needs/{need_id}"),
        Some(&maintainer),
        json!({"raised": "-5"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("raised", "invalid_amount");
    let read = api
        .get(&format!("/api/v1/needs/{need_id}"), None)
        .await
        .expect(200);
    assert_eq!(read.json["status"], "funded");
    api.get(&format!("/api/v1/needs/{}", uuid::Uuid::new_v4()), None)
        .await
        .expect_error(404, "not_found");
    api.patch("/api/v1/needs/not-a-uuid", Some(&maintainer), json!({}))
        .await
        .expect_error(404, "not_found");

    // Updates: news, a spending report, a delayed one, edits and deletion.
    let news = api
        .post(
            "/api/v1/initiatives/ours/updates",
            Some(&maintainer),
            json!({"kind": "news", "body": "The generator arrived."}),
        )
        .await
        .expect(201);
    let news_id = news.json["id"].as_str().unwrap().to_string();
    let report = api
        .post(
            "/api/v1/initiatives/ours/updates",
            Some(&maintainer),
            json!({
                "kind": "spending_report",
                "body": "What we bought",
                "need_id": need_id,
                "items": [{"what": "Generator", "amount": {"amount": "39500", "currency": "UAH"}}]
            }),
        )
        .await
        .expect(201);
    assert_eq!(report.json["items"][0]["amount"]["amount"], "39500.00");
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let delayed = api
        .post(
            "/api/v1/initiatives/ours/updates",
            Some(&maintainer),
            json!({"kind": "news", "body": "Delivered near the front.", "publish_at": later}),
        )
        .await
        .expect(201);
    let delayed_id = delayed.json["id"].as_str().unwrap().to_string();
    api.post(
        "/api/v1/initiatives/ours/updates",
        Some(&maintainer),
        json!({"kind": "spending_report", "body": "x", "items": []}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("items", "required");
    api.post(
        "/api/v1/initiatives/ours/updates",
        Some(&stranger),
        json!({"kind": "news", "body": "Not mine"}),
    )
    .await
    .expect_error(403, "forbidden");

    let edited = api
        .patch(
            &format!("/api/v1/updates/{news_id}"),
            Some(&maintainer),
            json!({"body": "The generator arrived and works."}),
        )
        .await
        .expect(200);
    assert_eq!(edited.json["body"], "The generator arrived and works.");
    api.patch(
        &format!("/api/v1/updates/{news_id}"),
        Some(&maintainer),
        json!({"kind": "spending_report"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("items", "required");
    api.patch(
        &format!("/api/v1/updates/{news_id}"),
        Some(&stranger),
        json!({"body": "x"}),
    )
    .await
    .expect_error(403, "forbidden");

    // The delayed update is hidden from the public until its time, not from maintainers.
    api.get(&format!("/api/v1/updates/{delayed_id}"), None)
        .await
        .expect_error(404, "not_found");
    let public = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert_eq!(public.json["updates"].as_array().unwrap().len(), 2);
    assert!(!public.text.contains("Delivered near the front"));
    let insider = api
        .get("/api/v1/initiatives/ours", Some(&maintainer))
        .await
        .expect(200);
    assert_eq!(insider.json["updates"].as_array().unwrap().len(), 3);

    api.delete(&format!("/api/v1/updates/{news_id}"), Some(&stranger))
        .await
        .expect_error(403, "forbidden");
    api.delete(&format!("/api/v1/updates/{news_id}"), Some(&maintainer))
        .await
        .expect(204);
    api.get(&format!("/api/v1/updates/{news_id}"), None)
        .await
        .expect_error(404, "not_found");
    api.delete(&format!("/api/v1/updates/{news_id}"), Some(&maintainer))
        .await
        .expect_error(404, "not_found");
    // Who changed a need or an update, and who deleted one, is in the audit log; refused
    // changes left nothing there.
    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    let done_to = |subject: String| -> Vec<(String, String)> {
        audit.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["subject"] == subject.as_str())
            .map(|e| (e["action"].to_string(), e["actor"].to_string()))
            .collect()
    };
    let by_olena = |action: &str| (format!("\"{action}\""), "\"olena\"".to_string());
    assert_eq!(done_to(format!("need {need_id}")), [by_olena("edited")]);
    assert_eq!(
        done_to(format!("update {news_id}")),
        [by_olena("deleted"), by_olena("edited")],
        "newest first"
    );

    // Events, raising funds for another initiative of the node.
    let event = api
        .post(
            "/api/v1/initiatives/ours/events",
            Some(&maintainer),
            json!({
                "title": "Benefit concert",
                "starts_at": "2030-12-12T18:00:00Z",
                "timezone": "Europe/Berlin",
                "place": {"kind": "city", "city": "Berlin", "country": "de"},
                "organiser": "Soli Kollektiv",
                "beneficiaries": ["friends"]
            }),
        )
        .await
        .expect(201);
    let event_id = event.json["id"].as_str().unwrap().to_string();
    assert_eq!(event.json["place"]["country"], "DE");
    api.post(
        "/api/v1/initiatives/ours/events",
        Some(&maintainer),
        json!({
            "title": "Ghost concert",
            "starts_at": "2030-12-12T18:00:00Z",
            "timezone": "Mars/Olympus",
            "place": {"kind": "online", "url": "https://stream.example.org"},
            "organiser": "Soli Kollektiv",
            "beneficiaries": ["nobody-here"]
        }),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("timezone", "invalid_timezone");
    api.get(&format!("/api/v1/events/{event_id}"), None)
        .await
        .expect(200);

    let detail = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert_eq!(detail.json["needs"][0]["id"], need_id.as_str());
    assert_eq!(detail.json["events"][0]["id"], event_id.as_str());
    let friends = api
        .get("/api/v1/initiatives/friends", None)
        .await
        .expect(200);
    assert_eq!(
        friends.json["events"][0]["id"],
        event_id.as_str(),
        "the beneficiary lists the event too"
    );
}

pub async fn status_changes_follow_the_roles(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        json!({"username": "olena"}),
    )
    .await
    .expect(204);

    let status = |s: &'static str| json!({"status": s, "reason": "winter break"});
    let paused = api
        .post(
            "/api/v1/initiatives/ours/status",
            Some(&maintainer),
            status("paused"),
        )
        .await
        .expect(200);
    assert_eq!(paused.json["status"], "paused");
    assert_eq!(
        api.search("q=generators", None).await.expect(200).handles(),
        ["ours"],
        "paused listings stay listed"
    );
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&maintainer),
        status("published"),
    )
    .await
    .expect(200);
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&maintainer),
        status("archived"),
    )
    .await
    .expect_error(403, "forbidden");
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&moderator),
        status("pending"),
    )
    .await
    .expect_error(422, "validation_failed");
    // A submission is approved (or rejected), not published by a status change.
    api.post(
        "/api/v1/initiatives",
        None,
        crate::support::submission("waiting"),
    )
    .await
    .expect(201);
    api.post(
        "/api/v1/initiatives/waiting/status",
        Some(&moderator),
        status("published"),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("status", "invalid_transition");
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&moderator),
        status("sleeping"),
    )
    .await
    .expect_error(400, "invalid_json")
    .expect_field("status", "invalid_value");
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&moderator),
        status("archived"),
    )
    .await
    .expect(200);
    assert_eq!(
        api.search("q=generators", None).await.expect(200).json["total"],
        0
    );

    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    let changes: Vec<_> = audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "status_changed")
        .collect();
    assert_eq!(changes.len(), 3, "{}", audit.text);
    assert_eq!(changes[0]["details"]["to"], "archived");
    assert_eq!(changes[0]["reason"], "winter break");
    let page = api
        .get("/api/v1/audit?limit=1&offset=1", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.json["items"][0]["id"], audit.json["items"][1]["id"]);
    api.get("/api/v1/audit?limit=0", Some(&moderator))
        .await
        .expect_error(400, "invalid_query")
        .expect_field("limit", "invalid_number");
}

/// A small real JPEG.
fn jpeg() -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(40, 30, image::Rgb([200, 120, 20]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&picture)
        .unwrap();
    out
}

pub async fn events_are_edited_and_photos_uploaded(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    let stranger = api.user("taras", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        json!({"username": "olena"}),
    )
    .await
    .expect(204);
    let event = api
        .post(
            "/api/v1/initiatives/ours/events",
            Some(&maintainer),
            json!({
                "title": "Benefit concert",
                "starts_at": "2030-12-12T18:00:00Z",
                "ends_at": "2030-12-12T21:00:00Z",
                "timezone": "Europe/Berlin",
                "place": {"kind": "city", "city": "Berlin", "country": "DE"},
                "organiser": "Soli Kollektiv"
            }),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/events/{}", event.json["id"].as_str().unwrap());

    // The fields sent change; the rest stays; `ends_at: null` removes the end.
    let edited = api
        .patch(
            &path,
            Some(&maintainer),
            json!({"title": "Winter concert", "ends_at": null, "cancelled": true}),
        )
        .await
        .expect(200);
    assert_eq!(edited.json["title"], "Winter concert");
    assert_eq!(edited.json["ends_at"], Value::Null);
    assert_eq!(edited.json["cancelled"], true);
    assert_eq!(edited.json["organiser"], "Soli Kollektiv");
    assert_eq!(edited.json["created_at"], event.json["created_at"]);
    let read = api.get(&path, None).await.expect(200);
    assert_eq!(read.json["title"], "Winter concert");

    // Broken rules: 422 naming the fields, and nothing changes.
    api.patch(
        &path,
        Some(&maintainer),
        json!({"timezone": "Mars/Olympus", "beneficiaries": ["nobody-here"]}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("timezone", "invalid_timezone");
    api.patch(
        &path,
        Some(&maintainer),
        json!({"beneficiaries": ["nobody-here"]}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("beneficiaries[0]", "unknown_initiative");
    api.patch(&path, Some(&maintainer), json!({"colour": "red"}))
        .await
        .expect_error(400, "invalid_json");
    assert_eq!(
        api.get(&path, None).await.expect(200).json["timezone"],
        "Europe/Berlin"
    );
    // Only its maintainers and moderators; the change is audited.
    api.patch(&path, Some(&stranger), json!({"title": "Mine now"}))
        .await
        .expect_error(403, "forbidden");
    api.patch(&path, None, json!({"title": "Mine now"}))
        .await
        .expect_error(401, "unauthenticated");
    api.patch(
        "/api/v1/events/00000000-0000-0000-0000-000000000000",
        Some(&maintainer),
        json!({"title": "x"}),
    )
    .await
    .expect_error(404, "not_found");
    let audit = api.get("/api/v1/audit", Some(&moderator)).await.expect(200);
    assert!(
        audit
            .text
            .contains(&format!("event {}", event.json["id"].as_str().unwrap())),
        "{}",
        audit.text
    );

    // Photos: uploaded first, then named in an update.
    let upload = |bytes: Vec<u8>, content_type: &'static str, token: Option<&str>| {
        api.request(
            Method::POST,
            "/api/v1/media?alt=A%20box%20of%20bandages",
            token,
        )
        .header("content-type", content_type)
        .body(bytes)
    };
    let photo = api
        .send(upload(jpeg(), "image/jpeg", Some(&maintainer)))
        .await
        .expect(201);
    assert_eq!(photo.json["alt"], "A box of bandages");
    assert_eq!(
        (photo.json["width"].as_u64(), photo.json["height"].as_u64()),
        (Some(40), Some(30))
    );
    let media_path = format!("/media/{}", photo.json["name"].as_str().unwrap());
    assert!(photo.header("location").ends_with(&media_path));
    let served = api.get(&media_path, None).await;
    assert_eq!(served.status, 200);
    api.send(upload(jpeg(), "image/jpeg", None))
        .await
        .expect_error(401, "unauthenticated");
    api.send(upload(jpeg(), "application/json", Some(&maintainer)))
        .await
        .expect_error(415, "unsupported_media_type");
    api.send(upload(
        b"<svg/>".to_vec(),
        "image/svg+xml",
        Some(&maintainer),
    ))
    .await
    .expect_error(422, "validation_failed")
    .expect_field("photo", "photo_type");
    // Bigger than one photo may be: refused on its declared length, before a byte is read.
    let answer = declared_only(
        api.node.addr,
        "/api/v1/media",
        &maintainer,
        hromada_web::media::MAX_UPLOAD_BYTES + 1,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");

    // The dimensions a client claims are not taken: the page reserves the real ones.
    let mut claimed = photo.json.clone();
    claimed["width"] = json!(9000);
    claimed["height"] = json!(2);
    let update = api
        .post(
            "/api/v1/initiatives/ours/updates",
            Some(&maintainer),
            json!({"kind": "news", "body": "Bandages arrived.", "photos": [claimed]}),
        )
        .await
        .expect(201);
    assert_eq!(update.json["photos"][0]["name"], photo.json["name"]);
    assert_eq!(
        (
            update.json["photos"][0]["width"].as_u64(),
            update.json["photos"][0]["height"].as_u64()
        ),
        (Some(40), Some(30))
    );
    let mut bell = photo.json.clone();
    bell["alt"] = json!("ring\u{7}");
    api.post(
        "/api/v1/initiatives/ours/updates",
        Some(&maintainer),
        json!({"kind": "news", "body": "Bell.", "photos": [bell]}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("photos[0].alt", "control_characters");
    api.post(
        "/api/v1/initiatives/ours/updates",
        Some(&maintainer),
        json!({"kind": "news", "body": "Ghost photo.", "photos": [{
            "name": "0123456789abcdef0123456789abcdef.jpg", "alt": "", "width": 1, "height": 1
        }]}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("photos[0].name", "unknown_photo");
}

/// Sends only the head of a POST that declares `length` bytes of image, and returns the answer.
async fn declared_only(
    addr: std::net::SocketAddr,
    path: &str,
    token: &str,
    length: usize,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        socket.read_to_end(&mut answer),
    )
    .await
    .expect("the node answers without waiting for the body")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
