//! Anonymous reads answered from the shared response cache (`crates/web/src/cache.rs`): the
//! same bytes for every caller without credentials, with an ETag and a gzip copy; never for a
//! caller with a token; and never older than a write this node answered.

use hromada_domain::Role;
use hromada_testkit::Backend;
use reqwest::Method;
use serde_json::json;

use crate::support::{Api, SUBMITTER_CONTACT, submission};

const OURS: &str = "/api/v1/initiatives/ours";

pub async fn anonymous_reads_are_shared_and_follow_every_edit(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    api.published("ours", &admin).await;

    let first = api.get(OURS, None).await.expect(200);
    let etag = first.header("etag").to_string();
    assert!(etag.starts_with('"'), "an ETag: {:?}", first.headers);
    let again = api.get(OURS, None).await.expect(200);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("etag"), etag);
    let unchanged = api
        .send(
            api.request(Method::GET, OURS, None)
                .header("if-none-match", &etag),
        )
        .await
        .expect(304);
    assert!(unchanged.text.is_empty());
    assert_eq!(unchanged.header("etag"), etag);
    let packed = api
        .send(
            api.request(Method::GET, OURS, None)
                .header("accept-encoding", "gzip"),
        )
        .await
        .expect(200);
    assert_eq!(packed.header("content-encoding"), "gzip");
    assert!(packed.header("vary").contains("Accept-Encoding"));
    assert_ne!(
        packed.header("etag"),
        etag,
        "each encoding has its own ETag"
    );

    // An edit shows to the very next anonymous reader, in the document and in search.
    let search = api.search("q=tourniquets", None).await.expect(200);
    assert_eq!(search.handles(), ["ours"]);
    api.patch(
        OURS,
        Some(&admin),
        json!({"summary": "Now also night-vision scopes for evacuation crews"}),
    )
    .await
    .expect(200);
    let after = api.get(OURS, None).await.expect(200);
    assert!(after.text.contains("night-vision scopes"), "{}", after.text);
    assert_ne!(after.header("etag"), etag);
    api.send(
        api.request(Method::GET, OURS, None)
            .header("if-none-match", &etag),
    )
    .await
    .expect(200);
    let search = api.search("q=tourniquets", None).await.expect(200);
    assert!(
        search.text.contains("night-vision scopes"),
        "{}",
        search.text
    );

    // So does a new need, and archiving (shown as such, and no longer listed).
    api.post(
        "/api/v1/initiatives/ours/needs",
        Some(&admin),
        json!({"title": "Thermal blankets", "category": "equipment", "urgency": "critical"}),
    )
    .await
    .expect(201);
    let after = api.get(OURS, None).await.expect(200);
    assert!(after.text.contains("Thermal blankets"), "{}", after.text);
    api.post(
        "/api/v1/initiatives/ours/status",
        Some(&admin),
        json!({"status": "archived", "reason": "done"}),
    )
    .await
    .expect(200);
    let archived = api.get(OURS, None).await.expect(200);
    assert_eq!(archived.json["initiative"]["status"], "archived");
    assert!(
        api.search("q=tourniquets", None)
            .await
            .expect(200)
            .handles()
            .is_empty()
    );
}

pub async fn callers_with_credentials_never_get_the_shared_answer(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    api.published("ours", &admin).await;
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&admin),
        json!({"username": "olena"}),
    )
    .await
    .expect(204);
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    api.post(
        "/api/v1/initiatives/ours/updates",
        Some(&maintainer),
        json!({"kind": "news", "body": "Secret convoy plan for Friday", "publish_at": later}),
    )
    .await
    .expect(201);

    // Anonymous first (now cached), then the maintainer: they see their scheduled update.
    let public = api.get(OURS, None).await.expect(200);
    assert!(!public.text.contains("Secret convoy"));
    let own = api.get(OURS, Some(&maintainer)).await.expect(200);
    assert!(own.text.contains("Secret convoy"), "{}", own.text);
    assert!(
        own.headers.get("etag").is_none(),
        "personal answers are not shared"
    );
    // And the other way round: what the maintainer saw is not what the public gets.
    let public = api.get(OURS, None).await.expect(200);
    assert!(!public.text.contains("Secret convoy"), "{}", public.text);
    // A bad token is refused even though an anonymous answer is at hand.
    api.get(OURS, Some("not-a-token"))
        .await
        .expect_error(401, "unauthenticated");

    // A pending submission: moderators see it with the submitter's contact, nobody else.
    api.post("/api/v1/initiatives", None, submission("waiting"))
        .await
        .expect(201);
    let waiting = "/api/v1/initiatives/waiting";
    api.get(waiting, None).await.expect(404);
    let seen = api.get(waiting, Some(&admin)).await.expect(200);
    assert!(seen.text.contains(SUBMITTER_CONTACT));
    let stranger = api.get(waiting, None).await.expect(404);
    assert!(!stranger.text.contains(SUBMITTER_CONTACT));
    let queue = api.search("status=pending", Some(&admin)).await.expect(200);
    assert_eq!(queue.handles(), ["waiting"]);
    api.search("status=pending", None)
        .await
        .expect_error(403, "forbidden");
    let listed = api.search("", None).await.expect(200);
    assert_eq!(listed.handles(), ["ours"]);
    assert!(!listed.text.contains(SUBMITTER_CONTACT));
}
