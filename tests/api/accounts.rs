//! Tokens, login rate limiting, accounts, and what never leaves the server.

use hromada_domain::Role;
use hromada_testkit::{Backend, TEST_PASSWORD};
use serde_json::json;

use crate::support::{Api, SUBMITTER_CONTACT, submission};

pub async fn tokens_are_issued_used_and_revoked(backend: Backend) {
    let api = Api::start(backend).await;
    let other = api.user("taras", Role::Maintainer).await;
    api.user("olena", Role::Maintainer).await;

    let issued = api
        .post(
            "/api/v1/auth/token",
            None,
            json!({"username": "Olena", "password": TEST_PASSWORD, "label": "import script"}),
        )
        .await
        .expect(201);
    let token = issued.json["token"].as_str().unwrap().to_string();
    let id = issued.json["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("hrmd_"));
    assert_eq!(issued.json["label"], "import script");

    let me = api.get("/api/v1/auth/me", Some(&token)).await.expect(200);
    assert_eq!(me.json["user"]["username"], "olena");
    assert_eq!(me.json["user"]["role"], "maintainer");
    assert_eq!(me.json["token"]["id"], id.as_str());

    let list = api
        .get("/api/v1/auth/tokens", Some(&token))
        .await
        .expect(200);
    assert!(
        list.json
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str() && t["label"] == "import script")
    );
    assert!(!list.text.contains(&token), "secrets are shown once only");
    assert!(!list.text.contains("hash"), "{}", list.text);

    // A token can only revoke its owner's tokens.
    api.delete(&format!("/api/v1/auth/tokens/{id}"), Some(&other))
        .await
        .expect_error(404, "not_found");
    api.get("/api/v1/auth/me", Some(&token)).await.expect(200);
    api.delete(&format!("/api/v1/auth/tokens/{id}"), Some(&token))
        .await
        .expect(204);
    api.get("/api/v1/auth/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    api.delete(&format!("/api/v1/auth/tokens/{id}"), Some(&other))
        .await
        .expect_error(404, "not_found");

    // Wrong credentials, unknown users and bad tokens.
    api.post(
        "/api/v1/auth/token",
        None,
        json!({"username": "olena", "password": "not the password"}),
    )
    .await
    .expect_error(401, "bad_credentials");
    api.post(
        "/api/v1/auth/token",
        None,
        json!({"username": "ghost", "password": TEST_PASSWORD}),
    )
    .await
    .expect_error(401, "bad_credentials");
    api.post("/api/v1/auth/token", None, json!({"username": "olena"}))
        .await
        .expect_error(400, "invalid_json")
        .expect_field("password", "missing_field");
    api.post(
        "/api/v1/auth/token",
        None,
        json!({"username": "olena", "password": TEST_PASSWORD, "label": "x".repeat(101)}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("label", "too_long");
    for bad in ["hrmd_forged", "garbage"] {
        api.get("/api/v1/auth/me", Some(bad))
            .await
            .expect_error(401, "unauthenticated");
    }
    let basic = api
        .send(
            api.request(reqwest::Method::GET, "/api/v1/auth/me", None)
                .header("authorization", "Basic b2xlbmE6cGFzcw=="),
        )
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(basic.header("www-authenticate"), "Bearer");

    // A browser session's secret opens no API, and an API token (which may never expire) is
    // no browser session.
    let app = api.node.app();
    let olena = app.user_by_username("olena").await.unwrap();
    let session = app
        .issue_token(
            &olena,
            hromada_store::TokenKind::Session,
            "web session",
            None,
        )
        .await
        .unwrap()
        .secret;
    let refused = api
        .get("/api/v1/auth/me", Some(&session))
        .await
        .expect_error(401, "unauthenticated");
    assert!(refused.text.contains("browser session"), "{}", refused.text);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = |secret: &str| format!("hromada_session={secret}");
    let dashboard = |secret: String| {
        browser
            .get(api.node.url("/dashboard"))
            .header("cookie", cookie(&secret))
            .send()
    };
    let with_session = dashboard(session).await.unwrap();
    assert_eq!(
        with_session.status(),
        200,
        "the session itself opens the dashboard"
    );
    let api_token = app
        .issue_token(&olena, hromada_store::TokenKind::Api, "script", None)
        .await
        .unwrap()
        .secret;
    let with_token = dashboard(api_token).await.unwrap();
    assert_eq!(with_token.status(), 303);
    assert!(
        with_token.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "{:?}",
        with_token.headers()
    );
    // Invalid credentials are refused even where none are needed.
    api.get("/api/v1/initiatives", Some("hrmd_forged"))
        .await
        .expect_error(401, "unauthenticated");

    // Issuing and revoking is audited.
    let admin = api.user("admin1", Role::Admin).await;
    let audit = api.get("/api/v1/audit", Some(&admin)).await.expect(200);
    for action in ["token_created", "token_revoked"] {
        assert!(audit.text.contains(action), "{action} in {}", audit.text);
    }
}

pub async fn login_failures_are_rate_limited(backend: Backend) {
    let api = Api::start(backend).await;
    api.user("olena", Role::Maintainer).await;
    api.user("taras", Role::Maintainer).await;
    let login = |username: &'static str, password: &'static str| {
        api.post(
            "/api/v1/auth/token",
            None,
            json!({"username": username, "password": password}),
        )
    };

    for _ in 0..10 {
        login("olena", "wrong password")
            .await
            .expect_error(401, "bad_credentials");
    }
    // The username is now locked, even for the right password.
    let limited = login("olena", TEST_PASSWORD)
        .await
        .expect_error(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After: {retry}");
    login("OLENA", "wrong password")
        .await
        .expect_error(429, "rate_limited");

    // Another account from the same address still works (the address has its own, higher limit).
    login("taras", TEST_PASSWORD).await.expect(201);

    // Thirty guesses at once for another account: no more than the limit get their password
    // checked, however the checks interleave; the rest are refused unseen.
    api.user("petro", Role::Maintainer).await;
    let burst = (0..30).map(|_| login("petro", "a parallel guess"));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|r| r.status)
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        checked <= 10 && statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

pub async fn admins_manage_accounts(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    let moderator = api.user("moderator1", Role::Moderator).await;

    let created = api
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "Mykola", "role": "maintainer", "password": "a long enough passphrase"}),
        )
        .await
        .expect(201);
    assert_eq!(created.json["username"], "mykola");
    assert_eq!(created.json["role"], "maintainer");
    api.post(
        "/api/v1/auth/token",
        None,
        json!({"username": "mykola", "password": "a long enough passphrase"}),
    )
    .await
    .expect(201);

    api.post(
        "/api/v1/users",
        Some(&moderator),
        json!({"username": "sneaky", "role": "admin", "password": "a long enough passphrase"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "mykola", "role": "maintainer", "password": "a long enough passphrase"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("username", "taken");
    api.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "a b", "role": "maintainer", "password": "short"}),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("username", "invalid_username");
    api.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "newbie", "role": "overlord", "password": "a long enough passphrase"}),
    )
    .await
    .expect_error(400, "invalid_json")
    .expect_field("role", "invalid_value");

    let users = api.get("/api/v1/users", Some(&admin)).await.expect(200);
    let names: Vec<&str> = users
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    for name in ["admin1", "moderator1", "mykola"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(!names.contains(&"sneaky") && !names.contains(&"newbie"));
    api.get("/api/v1/users", Some(&moderator))
        .await
        .expect_error(403, "forbidden");

    // Roles change and accounts are disabled through the account, by admins, never their own.
    let mykola = api
        .post(
            "/api/v1/auth/token",
            None,
            json!({"username": "mykola", "password": "a long enough passphrase"}),
        )
        .await
        .expect(201)
        .json["token"]
        .as_str()
        .unwrap()
        .to_string();
    api.get("/api/v1/audit", Some(&mykola))
        .await
        .expect_error(403, "forbidden");
    for (token, body) in [
        (&moderator, json!({"role": "moderator"})),
        (&moderator, json!({})),
        (&mykola, json!({"role": "admin"})),
    ] {
        api.patch("/api/v1/users/mykola", Some(token), body)
            .await
            .expect_error(403, "forbidden");
    }
    let changed = api
        .patch(
            "/api/v1/users/Mykola",
            Some(&admin),
            json!({"role": "moderator"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.json["role"], "moderator");
    // The same token now carries the new role.
    api.get("/api/v1/audit", Some(&mykola)).await.expect(200);
    let log = api.get("/api/v1/audit", Some(&admin)).await.expect(200);
    let entry = &log.json["items"][0];
    assert_eq!(entry["action"], "role_changed", "{entry}");
    assert_eq!(entry["subject"], "mykola");
    assert_eq!(
        entry["details"],
        json!({"from": "maintainer", "to": "moderator"})
    );
    api.patch(
        "/api/v1/users/admin1",
        Some(&admin),
        json!({"role": "maintainer"}),
    )
    .await
    .expect_error(403, "forbidden");
    api.patch(
        "/api/v1/users/admin1",
        Some(&admin),
        json!({"disabled": true}),
    )
    .await
    .expect_error(403, "forbidden");
    api.patch(
        "/api/v1/users/nobody",
        Some(&admin),
        json!({"role": "admin"}),
    )
    .await
    .expect_error(404, "not_found");
    api.patch(
        "/api/v1/users/mykola",
        Some(&admin),
        json!({"role": "overlord"}),
    )
    .await
    .expect_error(400, "invalid_json")
    .expect_field("role", "invalid_value");
    let disabled = api
        .patch(
            "/api/v1/users/mykola",
            Some(&admin),
            json!({"disabled": true}),
        )
        .await
        .expect(200);
    assert_eq!(disabled.json["disabled"], true);
    assert_eq!(disabled.json["role"], "moderator");
    api.get("/api/v1/audit", Some(&mykola))
        .await
        .expect_error(401, "unauthenticated");
    let enabled = api
        .patch(
            "/api/v1/users/mykola",
            Some(&admin),
            json!({"disabled": false, "role": "maintainer"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (&enabled.json["disabled"], &enabled.json["role"]),
        (&json!(false), &json!("maintainer"))
    );
}

pub async fn private_data_stays_private(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.user("admin1", Role::Admin).await;
    api.published("ours", &admin).await;
    api.post("/api/v1/initiatives", None, submission("waiting"))
        .await
        .expect(201);
    let maintainer = api.user("olena", Role::Maintainer).await;

    let user = api
        .node
        .store()
        .user_by_username("olena")
        .await
        .unwrap()
        .unwrap();
    let password_hash = user.password_hash.clone();
    assert!(password_hash.starts_with("$argon2id$"));
    let token_hashes: Vec<String> = api
        .node
        .store()
        .tokens_of(user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.hash)
        .collect();
    assert!(!token_hashes.is_empty());

    let mut seen = String::new();
    for (path, token) in [
        ("/api/v1/initiatives", None),
        ("/api/v1/initiatives/ours", None),
        ("/api/v1/initiatives/ours", Some(&maintainer)),
        ("/api/v1/initiatives?status=published", Some(&admin)),
        ("/api/v1/users", Some(&admin)),
        ("/api/v1/auth/me", Some(&maintainer)),
        ("/api/v1/auth/tokens", Some(&maintainer)),
        ("/api/v1/audit", Some(&admin)),
    ] {
        let reply = api.get(path, token.map(String::as_str)).await.expect(200);
        seen.push_str(&reply.text);
    }
    assert!(
        !seen.contains(SUBMITTER_CONTACT),
        "submitter contact leaked"
    );
    assert!(!seen.contains("$argon2"), "password hash leaked");
    assert!(!seen.contains("password_hash"));
    for hash in token_hashes {
        assert!(!seen.contains(&hash), "token hash leaked");
    }
}
