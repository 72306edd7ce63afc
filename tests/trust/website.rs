//! The `rel="me"` website check against a real website on loopback: with and without the link
//! back, after an edit, through a redirect, and refused or failed for unsafe or broken sites.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hromada_domain::Role;
use hromada_federation::FederationSettings;
use hromada_federation::website_check::WebsiteChecker;
use hromada_testkit::Backend;
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::Api;

/// What the fake website answers on `/` (and `/go` redirects there).
#[derive(Clone)]
struct Site {
    page: Arc<Mutex<(StatusCode, &'static str, String)>>,
    base: String,
}

impl Site {
    async fn start() -> Site {
        let page = Arc::new(Mutex::new((
            StatusCode::OK,
            "text/html; charset=utf-8",
            String::new(),
        )));
        let served = page.clone();
        let app = Router::new()
            .route(
                "/",
                get(move || {
                    let served = served.clone();
                    async move {
                        let (status, content_type, body) = served.lock().unwrap().clone();
                        let response: Response =
                            (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
                        response
                    }
                }),
            )
            .route("/go", get(|| async { Redirect::temporary("/") }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Site {
            page,
            base: format!("http://localhost:{port}"),
        }
    }

    fn serve(&self, status: StatusCode, content_type: &'static str, body: String) {
        *self.page.lock().unwrap() = (status, content_type, body);
    }
}

fn checker(api: &Api, allow_private_networks: bool) -> WebsiteChecker {
    let settings = FederationSettings {
        allow_private_networks,
        ..FederationSettings::new(api.node.settings.public_url.clone())
    };
    WebsiteChecker::new(&settings).unwrap()
}

/// One round of the background job: whatever is due gets checked.
async fn check_round(api: &Api, checker: &WebsiteChecker) -> usize {
    checker
        .check_due(
            api.node.store().as_ref(),
            Duration::from_secs(24 * 3600),
            20,
        )
        .await
        .unwrap()
}

pub async fn rel_me_back_link_is_checked(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("kharkiv-medics", &moderator).await;
    let site = Site::start().await;
    let profile = api.node.url("/initiatives/kharkiv-medics");
    site.serve(
        StatusCode::OK,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html><title>Медики</title><p>Follow us: \
             <a rel=\"me noopener\" href=\"{profile}\">on Hromada</a></p>"
        ),
    );
    api.patch(
        "/api/v1/initiatives/kharkiv-medics",
        Some(&moderator),
        json!({"website": format!("{}/", site.base)}),
    )
    .await
    .expect(200);
    let checker = checker(&api, true);

    assert_eq!(check_round(&api, &checker).await, 1);
    let read = api
        .get("/api/v1/initiatives/kharkiv-medics", None)
        .await
        .expect(200);
    let check = &read.json["initiative"]["website_check"];
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["url"], format!("{}/", site.base));
    assert!(check["checked_at"].is_string());
    assert!(
        check["detail"].as_str().unwrap().contains("links back"),
        "{check}"
    );
    // Search items carry it too, and nothing is due until something changes.
    let found = api.search("q=medics", None).await.expect(200);
    assert_eq!(found.json["items"][0]["website_check"]["ok"], true);
    assert_eq!(check_round(&api, &checker).await, 0);

    // The link disappears; an edit makes the check due again, and it fails.
    site.serve(
        StatusCode::OK,
        "text/html",
        format!("<a href=\"{profile}\">no rel</a> <a rel=\"me\" href=\"{profile}-fake\">x</a>"),
    );
    api.patch(
        "/api/v1/initiatives/kharkiv-medics",
        Some(&moderator),
        json!({"summary": "Field medicine kits for volunteer medics"}),
    )
    .await
    .expect(200);
    assert_eq!(check_round(&api, &checker).await, 1);
    let check = api
        .get("/api/v1/initiatives/kharkiv-medics/trust", None)
        .await
        .expect(200)
        .json["website_check"]
        .clone();
    assert_eq!(check["ok"], false, "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("no rel=\"me\" link"),
        "{check}"
    );

    // A new website address (here one that redirects to the page) is checked again.
    site.serve(
        StatusCode::OK,
        "application/xhtml+xml",
        format!("<html><head><link rel=\"me\" href=\"{profile}/\"/></head></html>"),
    );
    api.patch(
        "/api/v1/initiatives/kharkiv-medics",
        Some(&moderator),
        json!({"website": format!("{}/go", site.base)}),
    )
    .await
    .expect(200);
    assert_eq!(check_round(&api, &checker).await, 1);
    let read = api
        .get("/api/v1/initiatives/kharkiv-medics", None)
        .await
        .expect(200);
    let check = &read.json["initiative"]["website_check"];
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["url"], format!("{}/go", site.base));

    // Without a website there is nothing to show.
    api.patch(
        "/api/v1/initiatives/kharkiv-medics",
        Some(&moderator),
        json!({"website": null}),
    )
    .await
    .expect(200);
    let read = api
        .get("/api/v1/initiatives/kharkiv-medics", None)
        .await
        .expect(200);
    assert!(
        read.json["initiative"].get("website_check").is_none(),
        "{}",
        read.text
    );
}

pub async fn unsafe_and_broken_sites_fail_the_check(backend: Backend) {
    let api = Api::start(backend).await;
    let site = Site::start().await;
    let profile = api.node.url("/initiatives/kharkiv-medics");
    let page = format!("<a rel=\"me\" href=\"{profile}\">us</a>");
    site.serve(StatusCode::OK, "text/html", page.clone());

    // Outside development, plain http and loopback addresses are never fetched.
    let strict = checker(&api, false);
    let (ok, detail) = strict
        .check_page(&format!("{}/", site.base), &profile)
        .await;
    assert!(!ok && detail.contains("not fetched"), "{detail}");
    let (ok, detail) = strict.check_page("https://127.0.0.1:1/", &profile).await;
    assert!(!ok && detail.contains("private"), "{detail}");

    let lax = checker(&api, true);
    let (ok, _) = lax.check_page(&format!("{}/", site.base), &profile).await;
    assert!(ok, "the same page passes where loopback is allowed");
    // The link must name this very profile.
    let (ok, _) = lax
        .check_page(
            &format!("{}/", site.base),
            &api.node.url("/initiatives/someone-else"),
        )
        .await;
    assert!(!ok);

    site.serve(StatusCode::NOT_FOUND, "text/html", page.clone());
    let (ok, detail) = lax.check_page(&format!("{}/", site.base), &profile).await;
    assert!(!ok && detail.contains("404"), "{detail}");
    site.serve(StatusCode::OK, "application/json", page);
    let (ok, detail) = lax.check_page(&format!("{}/", site.base), &profile).await;
    assert!(!ok && detail.contains("not an HTML page"), "{detail}");
    let (ok, detail) = lax.check_page("http://localhost:1/", &profile).await;
    assert!(!ok && detail.contains("could not reach"), "{detail}");
}
