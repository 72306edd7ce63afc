//! Per-client limits on submissions and reports (shared by every process on the database),
//! API token expiry, the health check's 503 and its recovery, and what an upload's 413 says.

use hromada_domain::Role;
use hromada_testkit::{Backend, TestNode};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Api, Reply, submission};

/// A request from `client` as the reverse proxy in front of the node would forward it.
async fn via_proxy(
    api: &Api,
    base: &str,
    path: &str,
    client: &str,
    token: Option<&str>,
    body: Value,
) -> Reply {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-forwarded-for", client)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    api.send(request).await
}

fn report() -> Value {
    json!({"category": "fraud", "reason": "The same jar is used by another group"})
}

pub async fn submissions_and_reports_are_limited_per_client_across_processes(backend: Backend) {
    let node = TestNode::spawn_with(backend, |c| {
        c.submissions_per_hour = 3;
        c.reports_per_hour = 2;
        // The test client connects from loopback, standing in for the node's reverse proxy.
        c.trusted_proxies = vec!["127.0.0.0/8".into(), "::1".into()];
    })
    .await;
    let api = Api::on(node);
    let moderator = api.user("moderator1", Role::Moderator).await;
    let first = api.node.base_url.clone();
    let submit = |base: String, handle: &'static str, client: &'static str| {
        let api = &api;
        async move {
            via_proxy(
                api,
                &base,
                "/api/v1/initiatives",
                client,
                None,
                submission(handle),
            )
            .await
        }
    };

    // A submission with a mistake is refused without counting: correcting it costs nothing.
    for _ in 0..4 {
        submit(first.clone(), "Not A Handle!", "203.0.113.1")
            .await
            .expect_error(422, "validation_failed");
    }
    for handle in ["limit-one", "limit-two", "limit-three"] {
        submit(first.clone(), handle, "203.0.113.1")
            .await
            .expect(201);
    }
    let limited = submit(first.clone(), "limit-four", "203.0.113.1")
        .await
        .expect_error(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=3600).contains(&retry), "Retry-After: {retry}");
    let message = limited.json["message"].as_str().unwrap();
    assert!(
        message.contains("submissions") && message.contains("at most 3"),
        "{message}"
    );
    api.get("/api/v1/initiatives/limit-four", Some(&moderator))
        .await
        .expect_error(404, "not_found");

    // Only the rightmost address the trusted proxy saw counts; what the client wrote to the
    // left of it is not believed.
    submit(first.clone(), "limit-spoof", "198.51.100.7, 203.0.113.1")
        .await
        .expect_error(429, "rate_limited");
    // Another client has its own count; moderators are not counted.
    submit(first.clone(), "limit-other", "203.0.113.2")
        .await
        .expect(201);
    via_proxy(
        &api,
        &first,
        "/api/v1/initiatives",
        "203.0.113.1",
        Some(&moderator),
        submission("limit-moderator"),
    )
    .await
    .expect(201);

    // A second process on the same database (as behind one reverse proxy) shares the count.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stores = hromada_server::open_store(api.node.database_url())
        .await
        .unwrap();
    let second = hromada_server::start(&api.node.settings, stores, Some(listener))
        .await
        .unwrap();
    let second_url = format!("http://localhost:{}", second.addr.port());
    submit(second_url.clone(), "limit-second-a", "203.0.113.2")
        .await
        .expect(201);
    submit(second_url.clone(), "limit-second-b", "203.0.113.2")
        .await
        .expect(201);
    submit(first.clone(), "limit-second-c", "203.0.113.2")
        .await
        .expect_error(429, "rate_limited");
    submit(second_url.clone(), "limit-five", "203.0.113.1")
        .await
        .expect_error(429, "rate_limited");

    // Reports: the same, with their own count.
    api.post_empty("/api/v1/initiatives/limit-one/approve", Some(&moderator))
        .await
        .expect(200);
    let path = "/api/v1/initiatives/limit-one/reports";
    via_proxy(&api, &first, path, "203.0.113.1", None, report())
        .await
        .expect(201);
    via_proxy(&api, &second_url, path, "203.0.113.1", None, report())
        .await
        .expect(201);
    let limited = via_proxy(&api, &first, path, "203.0.113.1", None, report())
        .await
        .expect_error(429, "rate_limited");
    assert!(!limited.header("retry-after").is_empty());
    assert!(
        limited.json["message"]
            .as_str()
            .unwrap()
            .contains("reports")
    );
    via_proxy(&api, &first, path, "203.0.113.9", None, report())
        .await
        .expect(201);
    let reports = api
        .get("/api/v1/reports", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(
        reports.json["items"].as_array().map(Vec::len),
        Some(3),
        "nothing stored from the refused report: {}",
        reports.text
    );
    second.stop().await.unwrap();
}

pub async fn forwarded_addresses_are_ignored_without_trusted_proxies(backend: Backend) {
    let node = TestNode::spawn_with(backend, |c| c.submissions_per_hour = 1).await;
    let api = Api::on(node);
    let base = api.node.base_url.clone();
    let path = "/api/v1/initiatives";
    via_proxy(
        &api,
        &base,
        path,
        "203.0.113.1",
        None,
        submission("free-one"),
    )
    .await
    .expect(201);
    // By default nobody is a trusted proxy: a made-up X-Forwarded-For changes nothing.
    via_proxy(
        &api,
        &base,
        path,
        "203.0.113.2",
        None,
        submission("free-two"),
    )
    .await
    .expect_error(429, "rate_limited");
}

pub async fn api_tokens_expire_and_say_so(backend: Backend) {
    let api = Api::start(backend).await;
    let (user, _) = api.node.user_with_token("scripter", Role::Maintainer).await;
    let issued = api
        .post(
            "/api/v1/auth/token",
            None,
            json!({"username": "scripter", "password": hromada_testkit::TEST_PASSWORD}),
        )
        .await
        .expect(201);
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(issued.json["expires_at"].clone()).unwrap();
    let days = (expires_at - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!(
        (29.9..=30.0).contains(&days),
        "default lifetime 30 days: {days}"
    );
    let token = issued.json["token"].as_str().unwrap().to_string();
    let listed = api
        .get("/api/v1/auth/tokens", Some(&token))
        .await
        .expect(200);
    assert!(
        listed
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["expires_at"] == issued.json["expires_at"]),
        "listing shows the expiry: {}",
        listed.text
    );

    // A token whose lifetime has passed (issued with a lifetime that ended a second ago).
    let old = api
        .node
        .app()
        .issue_token(
            &user,
            hromada_store::TokenKind::Api,
            "old script",
            Some(chrono::Duration::seconds(-1)),
        )
        .await
        .unwrap();
    let refused = api
        .get("/api/v1/auth/me", Some(&old.secret))
        .await
        .expect_error(401, "unauthenticated");
    let message = refused.json["message"].as_str().unwrap();
    assert!(message.contains("expired at"), "{message}");
    api.post(
        "/api/v1/initiatives",
        Some(&old.secret),
        submission("from-an-expired-token"),
    )
    .await
    .expect_error(401, "unauthenticated");

    let id = issued.json["id"].as_str().unwrap();
    api.delete(&format!("/api/v1/auth/tokens/{id}"), Some(&token))
        .await
        .expect(204);
    let refused = api
        .get("/api/v1/auth/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let refused = api
        .get("/api/v1/auth/me", Some("hromada_made-up"))
        .await
        .expect_error(401, "unauthenticated");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("unknown")
    );
}

/// The database goes away under a running node and comes back: 503 with a reason, then 200.
pub async fn health_check_fails_while_the_database_is_gone_and_recovers(backend: Backend) {
    let api = Api::start(backend).await;
    api.get("/healthz", None).await.expect(200);
    let url = api.node.database_url().to_string();
    match backend {
        Backend::Sqlite => {
            // A detached volume: the file is not where the node opened it.
            let path = std::path::PathBuf::from(
                url.trim_start_matches("sqlite://")
                    .split('?')
                    .next()
                    .unwrap(),
            );
            let aside = path.with_extension("aside");
            std::fs::rename(&path, &aside).unwrap();
            let down = api.get("/healthz", None).await.expect(503);
            std::fs::rename(&aside, &path).unwrap();
            assert_unavailable(&down);
        }
        Backend::Postgres => {
            // The server refuses the node's database and ends its connections.
            let name = url.rsplit('/').next().unwrap().to_string();
            let server = hromada_testkit::db::postgres_url().unwrap();
            let on_server = |sql: String| {
                let server = server.clone();
                async move {
                    hromada_testkit::db::run_on_server(&server, &sql)
                        .await
                        .unwrap()
                }
            };
            on_server(format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false"
            ))
            .await;
            on_server(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .await;
            let down = api.get("/healthz", None).await.expect(503);
            on_server(format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true"
            ))
            .await;
            assert_unavailable(&down);
        }
    }
    let up = api.get("/healthz", None).await.expect(200);
    assert_eq!(up.json, json!({"status": "ok"}));
}

fn assert_unavailable(reply: &Reply) {
    assert_eq!(reply.json["status"], "unavailable", "{}", reply.text);
    assert!(
        reply.json["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "a reason: {}",
        reply.text
    );
}

async fn declared_upload(api: &Api, method: &str, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.node.addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        hromada_media::MAX_UPLOAD_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub async fn upload_413_names_the_upload_limit(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("big-pictures", &moderator).await;
    for (method, path) in [
        ("PUT", "/api/v1/initiatives/big-pictures/avatar"),
        ("POST", "/api/v1/media"),
    ] {
        // Only the declared length is sent: the node answers before reading any body (sending
        // 10 MiB would race the node closing the connection).
        let (status, body) = declared_upload(&api, method, path, &moderator).await;
        assert_eq!(status, 413, "{path}: {body}");
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["error"], "payload_too_large");
        let message = reply["message"].as_str().unwrap();
        assert!(
            message.contains(&hromada_media::MAX_UPLOAD_BYTES.to_string())
                && message.contains("10 MiB")
                && !message.contains("256 KiB"),
            "{path}: {message}"
        );
    }
    // JSON routes still name the JSON limit.
    let reply = api
        .send(
            api.request(Method::POST, "/api/v1/initiatives", None)
                .header("content-type", "application/json")
                .body(vec![b' '; 300 * 1024]),
        )
        .await
        .expect_error(413, "payload_too_large");
    assert!(reply.json["message"].as_str().unwrap().contains("256 KiB"));
    // The body was left unread, so the node will not read on: it says so, and a keep-alive
    // client opens a new connection for its next request instead of failing on this one.
    assert_eq!(
        reply.headers.get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
}
