//! The web pages over real HTTP against a whole node (`TestNode`), without a browser: session
//! cookies and CSRF, photo uploads losing their metadata (on SQLite and, when
//! `HROMADA_TEST_POSTGRES_URL` is set, PostgreSQL), security headers and compression.
//! The browser suite (`tests/browser`) covers what people do; this one pins the HTTP contract
//! and runs where no browser is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod caching;
mod work;

use hromada_domain::{InitiativeInput, Role};
use hromada_testkit::{Backend, TestNode};
use image::codecs::jpeg::JpegEncoder;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

const PASSWORD: &str = "test-password-123";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A browser's cookie jar, reduced to what these tests need.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.0.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.0.push((k.to_string(), v.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The hidden CSRF field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 43].to_string()
}

async fn get(c: &reqwest::Client, jar: &mut Jar, url: &str) -> (u16, HeaderMap, String) {
    let r = c
        .get(url)
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    jar.take(r.headers());
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let html = r.text().await.unwrap();
    // Every page's title is text alone (a template once put a whole form in it).
    if let Some((_, rest)) = html.split_once("<title>") {
        let title = rest.split_once("</title>").map_or(rest, |(t, _)| t);
        assert!(
            !title.contains('<') && !title.trim().is_empty(),
            "{url}: title {title:?}"
        );
    }
    (status, headers, html)
}

async fn post_form(
    c: &reqwest::Client,
    jar: &mut Jar,
    url: &str,
    form: &[(&str, &str)],
) -> (u16, HeaderMap) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = c
        .post(url)
        .header(COOKIE, jar.header())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    jar.take(r.headers());
    (r.status().as_u16(), r.headers().clone())
}

/// Signs in through the login form and returns the browser's jar.
async fn sign_in(node: &TestNode, username: &str) -> Jar {
    let c = client();
    let mut jar = Jar::default();
    let (_, _, html) = get(&c, &mut jar, &node.url("/login")).await;
    let token = csrf_of(&html);
    let (status, headers) = post_form(
        &c,
        &mut jar,
        &node.url("/login"),
        &[
            ("csrf", &token),
            ("username", username),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers[LOCATION], "/dashboard");
    jar
}

fn initiative(handle: &str) -> InitiativeInput {
    serde_json::from_value(serde_json::json!({
        "handle": handle,
        "name": "Photo test initiative",
        "summary": "Testing photo uploads",
        "categories": ["medical"],
        "regions": [{"kind": "ukraine", "oblast": "kharkiv"}],
        "languages": ["uk", "crh", "xq"],
        "donation_methods": [{"kind": "jar", "url": "https://send.monobank.ua/jar/TEST", "recurring": true}]
    }))
    .unwrap()
}

/// A JPEG with an EXIF segment naming a camera and a GPS position.
fn jpeg_with_gps() -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(32, 24, image::Rgb([11, 92, 171]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&picture)
        .unwrap();
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    // IFD0: Make → "SpyCam 3000", GPS IFD pointer → 46
    tiff.extend_from_slice(&[2, 0]);
    tiff.extend_from_slice(&[0x0f, 0x01, 2, 0, 12, 0, 0, 0, 34, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 46, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(b"SpyCam 3000\0");
    // GPS IFD: GPSLatitudeRef "N"
    tiff.extend_from_slice(&[1, 0, 0x01, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

fn multipart(boundary: &str, fields: &[(&str, &str)], photo: &[u8]) -> Vec<u8> {
    multipart_with(boundary, fields, "photos", photo)
}

fn multipart_with(
    boundary: &str,
    fields: &[(&str, &str)],
    file_field: &str,
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"IMG_1.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// The sign-in form and the API share one count of failed logins: after ten wrong guesses
/// through the API, the form refuses even the right password with 429 — except in a browser
/// that signed in as that user before, so guessing from elsewhere cannot lock the user out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_shares_the_failed_login_count() {
    for backend in Backend::available() {
        the_login_form_shares_the_failed_login_count_on(backend).await;
    }
}

async fn the_login_form_shares_the_failed_login_count_on(backend: Backend) {
    let node = TestNode::spawn_on(backend).await;
    node.app()
        .create_user(None, "olena", Role::Moderator, PASSWORD)
        .await
        .unwrap();
    let c = client();
    // Olena's own browser signed in before, and out again.
    let mut known = sign_in(&node, "olena").await;
    assert!(
        known.0.iter().any(|(k, _)| k == "hromada_device"),
        "{:?}",
        known.0
    );
    let (_, _, html) = get(&c, &mut known, &node.url("/account")).await;
    let (status, _) = post_form(
        &c,
        &mut known,
        &node.url("/logout"),
        &[("csrf", csrf_of(&html).as_str())],
    )
    .await;
    assert_eq!(status, 303);
    // Ten wrong guesses from elsewhere, through the API.
    let guess_ten_times = || async {
        let mut answers = Vec::new();
        for _ in 0..10 {
            let r = c
                .post(node.url("/api/v1/auth/token"))
                .json(&serde_json::json!({"username": "olena", "password": "a wrong guess"}))
                .send()
                .await
                .unwrap();
            answers.push(r.status().as_u16());
        }
        answers
    };
    assert_eq!(guess_ten_times().await, [401; 10]);
    let mut jar = Jar::default();
    let (_, _, html) = get(&c, &mut jar, &node.url("/login")).await;
    let token = csrf_of(&html);
    let form = [
        ("csrf", token.as_str()),
        ("username", "Olena"),
        ("password", PASSWORD),
    ];
    let (status, headers) = post_form(&c, &mut jar, &node.url("/login"), &form).await;
    assert_eq!(status, 429);
    assert!(
        !headers
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("hromada_session=")),
        "no session while limited"
    );

    // Her own browser is let in (a wrong guess there is told so, not limited).
    let (_, _, html) = get(&c, &mut known, &node.url("/login")).await;
    let token = csrf_of(&html);
    let attempt = |password: &'static str| {
        [
            ("csrf", token.clone()),
            ("username", "olena".to_string()),
            ("password", password.to_string()),
        ]
    };
    let wrong = attempt("another wrong guess");
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _) = post_form(&c, &mut known, &node.url("/login"), &wrong).await;
    assert_eq!(status, 401);
    let right = attempt(PASSWORD);
    let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _) = post_form(&c, &mut known, &node.url("/login"), &right).await;
    assert_eq!(
        status, 303,
        "{backend:?}: the browser she signed in from before"
    );

    // A new password voids what browsers kept: her browser is limited like any other.
    node.app()
        .reset_password(None, "olena", "a new long passphrase", None)
        .await
        .unwrap();
    let answers = guess_ten_times().await;
    assert!(
        answers.iter().all(|a| [401, 429].contains(a)),
        "{answers:?}"
    );
    let mut stale = Jar(known.0.clone());
    let (_, _, html) = get(&c, &mut stale, &node.url("/login")).await;
    let token = csrf_of(&html);
    let form = [
        ("csrf", token.as_str()),
        ("username", "olena"),
        ("password", "a new long passphrase"),
    ];
    let (status, _) = post_form(&c, &mut stale, &node.url("/login"), &form).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_the_csrf_token_and_end_at_logout() {
    for backend in Backend::available() {
        sessions_need_the_csrf_token_and_end_at_logout_on(backend).await;
    }
}

async fn sessions_need_the_csrf_token_and_end_at_logout_on(backend: Backend) {
    let node = TestNode::spawn_on(backend).await;
    node.app()
        .create_user(None, "olena", Role::Moderator, PASSWORD)
        .await
        .unwrap();
    let c = client();

    // Logging in without the form's token is refused.
    let mut stranger = Jar::default();
    get(&c, &mut stranger, &node.url("/login")).await;
    let (status, _) = post_form(
        &c,
        &mut stranger,
        &node.url("/login"),
        &[("csrf", "x"), ("username", "olena"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 403);

    let mut jar = Jar::default();
    let (_, headers, html) = get(&c, &mut jar, &node.url("/login")).await;
    let csrf_cookie = headers[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"),
        "{csrf_cookie}"
    );
    let token = csrf_of(&html);
    let (status, headers) = post_form(
        &c,
        &mut jar,
        &node.url("/login"),
        &[
            ("csrf", &token),
            ("username", "olena"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        headers[LOCATION], "/dashboard",
        "only local paths are followed after login"
    );
    let session = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("hromada_session="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{session}");
    }
    assert!(
        !session.contains("Secure"),
        "plain http test node: no Secure flag"
    );

    let (status, _, html) = get(&c, &mut jar, &node.url("/moderation")).await;
    assert_eq!(status, 200);
    assert!(html.contains("olena"));

    let (status, _) = post_form(&c, &mut jar, &node.url("/logout"), &[("csrf", "wrong")]).await;
    assert_eq!(status, 403, "logging out needs the token too");
    let saved = jar.header();
    let (status, _) = post_form(&c, &mut jar, &node.url("/logout"), &[("csrf", &token)]).await;
    assert_eq!(status, 303);
    // The old cookie no longer works either: the session was revoked, not just forgotten.
    let r = c
        .get(node.url("/moderation"))
        .header(COOKIE, saved)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_photos_lose_their_metadata_on_every_backend() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        let app = node.app();
        let maintainer = app
            .create_user(None, "petro", Role::Maintainer, PASSWORD)
            .await
            .unwrap();
        let moderator = app
            .create_user(None, "mod", Role::Moderator, PASSWORD)
            .await
            .unwrap();
        app.submit(Some(&maintainer), initiative("photo-test"))
            .await
            .unwrap();
        app.approve(&moderator, "photo-test").await.unwrap();

        let c = client();
        let mut jar = sign_in(&node, "petro").await;
        let (status, _, html) = get(&c, &mut jar, &node.url("/dashboard/photo-test")).await;
        assert_eq!(status, 200, "{backend:?}");
        let token = csrf_of(&html);
        let upload = jpeg_with_gps();
        assert!(upload.windows(6).any(|w| w == b"SpyCam"));
        let boundary = "hromada-test-boundary";
        let send_update = |body: Vec<u8>| {
            c.post(node.url("/dashboard/photo-test/updates"))
                .header(COOKIE, jar.header())
                .header(
                    CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
        };
        // A post that needs correcting keeps its photo: the form lists it, ticked, and it is
        // not sent again.
        let fields = |text: &'static str| {
            [
                ("csrf", token.clone()),
                ("kind", "news".to_string()),
                ("body", text.to_string()),
                ("alt", "A blue square".to_string()),
            ]
        };
        let with_photo = fields("");
        let with_photo: Vec<(&str, &str)> =
            with_photo.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = send_update(multipart(boundary, &with_photo, &upload))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "{backend:?}: the text is missing");
        let html = r.text().await.unwrap();
        let marker = "name=\"kept\" value=\"";
        let kept_at = html.find(marker).expect("the photo is kept") + marker.len();
        let kept = html[kept_at..kept_at + 36].to_string();
        assert!(html[kept_at..].starts_with(&format!("{kept}\" checked")));
        let mut corrected: Vec<(&str, &str)> = Vec::new();
        let text = fields("Delivered today.");
        corrected.extend(text.iter().map(|(k, v)| (*k, v.as_str())));
        corrected.push(("kept", &kept));
        let r = send_update(multipart_with(boundary, &corrected, "no_file", b""))
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            303,
            "{backend:?}: {}",
            r.text().await.unwrap()
        );
        // A name the node never made is refused, and nothing is posted.
        let mut forged = corrected.clone();
        forged.pop();
        forged.push(("kept", "../../etc/passwd"));
        let r = send_update(multipart_with(boundary, &forged, "no_file", b""))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("id=\"photos-err\""));

        // A delayed report is read in Kyiv time unless another zone is given.
        let delayed = |zone: &'static str| {
            multipart_with(
                boundary,
                &[
                    ("csrf", &token),
                    ("kind", "news"),
                    ("body", "Held back for safety."),
                    ("publish_at", "2031-01-15T10:00"),
                    ("publish_tz", zone),
                ],
                "no_file",
                b"",
            )
        };
        let r = send_update(delayed("Mars/Olympus")).await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("id=\"publish_tz-err\""));
        let r = send_update(delayed("Europe/Kyiv")).await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
        let petro = app.user_by_username("petro").await.unwrap();
        let seen_by_petro = app
            .initiative_detail(Some(&petro), "photo-test")
            .await
            .unwrap();
        let scheduled = &seen_by_petro.updates[0];
        assert_eq!(
            scheduled.body, "Held back for safety.",
            "the newest publish_at first"
        );
        assert_eq!(
            scheduled.publish_at.to_rfc3339(),
            "2031-01-15T08:00:00+00:00",
            "10:00 in Kyiv (UTC+2 in January)"
        );

        // Read back through the store: the photo survived the round trip through the database.
        let detail = app.initiative_detail(None, "photo-test").await.unwrap();
        let photo = &detail.updates[0].photos[0];
        assert_eq!(photo.alt, "A blue square");
        assert_eq!((photo.width, photo.height), (32, 24));
        let r = c
            .get(node.url(&format!("/media/{}", photo.name)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg");
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let served = r.bytes().await.unwrap();
        assert_eq!(&served[..2], &[0xFF, 0xD8]);
        assert!(
            !served.windows(4).any(|w| w == b"Exif"),
            "{backend:?}: EXIF left"
        );
        assert!(
            !served.windows(6).any(|w| w == b"SpyCam"),
            "{backend:?}: camera left"
        );

        // The public page shows it with its description.
        let (_, _, page) = get(
            &c,
            &mut Jar::default(),
            &node.url("/initiatives/photo-test"),
        )
        .await;
        assert!(page.contains(&format!(
            "src=\"/media/{}\" alt=\"A blue square\"",
            photo.name
        )));

        // Something that is not a photo is refused with a message, and nothing is published.
        let r = c
            .post(node.url("/dashboard/photo-test/updates"))
            .header(COOKIE, jar.header())
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(multipart(
                boundary,
                &[("csrf", &token), ("kind", "news"), ("body", "Not a photo")],
                b"<svg/>",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(
            r.text().await.unwrap().contains("Not a photo"),
            "the text is kept"
        );
        assert_eq!(
            app.initiative_detail(None, "photo-test")
                .await
                .unwrap()
                .updates
                .len(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_compressed_and_locked_down() {
    let node = TestNode::spawn().await;
    let r = client()
        .get(node.url("/"))
        .header("accept-encoding", "gzip")
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers();
    assert_eq!(h["content-encoding"], "gzip");
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.get(SET_COOKIE).is_some(), "a CSRF cookie for the forms");

    let r = client()
        .get(node.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Language from Accept-Language, and a switch remembered in a cookie.
    let (_, _, html) = get(&client(), &mut Jar::default(), &node.url("/about")).await;
    assert!(
        html.contains("<html lang=\"uk\">"),
        "Ukrainian without a preference"
    );
    let r = client()
        .get(node.url("/lang/en?back=/about"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/about");
    let mut jar = Jar::default();
    jar.take(r.headers());
    let (_, _, html) = get(&client(), &mut jar, &node.url("/about")).await;
    assert!(html.contains("<html lang=\"en\">"));
    let r = client()
        .get(node.url("/lang/en?back=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/", "no open redirect");
    let r = client()
        .get(node.url("/about"))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html lang=\"en\">"));
    let (status, _, html) = get(&client(), &mut Jar::default(), &node.url("/lang/xx")).await;
    assert_eq!(status, 404);
    assert!(
        html.contains("<html lang=\"uk\">"),
        "a page, not an empty answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintainers_set_the_avatar_and_read_their_inbox() {
    for backend in Backend::available() {
        maintainers_set_the_avatar_and_read_their_inbox_on(backend).await;
    }
}

async fn maintainers_set_the_avatar_and_read_their_inbox_on(backend: Backend) {
    use hromada_testkit::fake_remote::FakeRemote;
    let node = TestNode::spawn_on(backend).await;
    let app = node.app();
    let maintainer = app
        .create_user(None, "petro", Role::Maintainer, PASSWORD)
        .await
        .unwrap();
    app.create_user(None, "stranger", Role::Maintainer, PASSWORD)
        .await
        .unwrap();
    let moderator = app
        .create_user(None, "mod", Role::Moderator, PASSWORD)
        .await
        .unwrap();
    let mut input = initiative("inbox-test");
    input.manually_approves_followers = true;
    app.submit(Some(&maintainer), input).await.unwrap();
    app.approve(&moderator, "inbox-test").await.unwrap();
    let c = client();
    let mut jar = sign_in(&node, "petro").await;
    let (status, _, html) = get(&c, &mut jar, &node.url("/dashboard/inbox-test")).await;
    assert_eq!(status, 200);
    assert!(html.contains("action=\"/dashboard/inbox-test/pictures/avatar\""));
    assert!(html.contains("href=\"/dashboard/inbox-test/inbox\""));
    let token = csrf_of(&html);
    let boundary = "hromada-test-boundary";
    let send = |fields: Vec<(&'static str, String)>, file: Vec<u8>, jar_header: String| {
        let c = c.clone();
        let url = node.url("/dashboard/inbox-test/pictures/avatar");
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post(url)
                .header(COOKIE, jar_header)
                .header(
                    CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(multipart_with(boundary, &fields, "picture", &file))
                .send()
                .await
                .unwrap()
        }
    };

    // Without the CSRF token: refused, nothing stored.
    let r = send(vec![], jpeg_with_gps(), jar.header()).await;
    assert_eq!(r.status().as_u16(), 403);
    // Not a picture: the form again, with a message.
    let r = send(
        vec![("csrf", token.clone())],
        b"<svg/>".to_vec(),
        jar.header(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("JPEG, PNG"));
    assert!(
        app.initiative_detail(None, "inbox-test")
            .await
            .unwrap()
            .initiative
            .avatar
            .is_none()
    );
    // A picture: stored without metadata, shown on the page and in search results.
    let r = send(vec![("csrf", token.clone())], jpeg_with_gps(), jar.header()).await;
    assert_eq!(r.status().as_u16(), 303);
    let avatar = app
        .initiative_detail(None, "inbox-test")
        .await
        .unwrap()
        .initiative
        .avatar
        .unwrap();
    let served = c
        .get(node.url(&format!("/media/{}", avatar.name)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!served.windows(6).any(|w| w == b"SpyCam"));
    let img = format!("class=\"avatar big\" src=\"/media/{}\"", avatar.name);
    let (_, _, page) = get(
        &c,
        &mut Jar::default(),
        &node.url("/initiatives/inbox-test"),
    )
    .await;
    assert!(page.contains(&img), "{page}");
    let (_, _, results) = get(&c, &mut Jar::default(), &node.url("/search?q=photo")).await;
    assert!(results.contains(&format!("class=\"avatar\" src=\"/media/{}\"", avatar.name)));
    // Removed again.
    let r = send(
        vec![("csrf", token.clone()), ("remove", "1".into())],
        Vec::new(),
        jar.header(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        app.initiative_detail(None, "inbox-test")
            .await
            .unwrap()
            .initiative
            .avatar
            .is_none()
    );

    // The inbox: a follow request and a reply from the fediverse.
    let remote = FakeRemote::start().await;
    let olena = remote.actor_id("olena");
    let actor_url = node.url("/initiatives/inbox-test");
    let follow = serde_json::json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{olena}/f/1"), "type": "Follow", "actor": olena, "object": actor_url});
    assert_eq!(
        remote
            .post_signed(&olena, &node.url("/inbox"), follow.to_string().as_bytes())
            .await
            .0,
        202
    );
    let reply = serde_json::json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{olena}/statuses/1/activity"), "type": "Create", "actor": olena,
        "object": {"id": format!("{olena}/statuses/1"), "type": "Note", "attributedTo": olena,
            "content": "<p>Дякуємо! <script>alert(1)</script></p>", "to": [actor_url],
            "tag": [{"type": "Mention", "href": actor_url}]}});
    assert_eq!(
        remote
            .post_signed(&olena, &node.url("/inbox"), reply.to_string().as_bytes())
            .await
            .0,
        202
    );

    let (status, _, inbox) = get(&c, &mut jar, &node.url("/dashboard/inbox-test/inbox")).await;
    assert_eq!(status, 200);
    let handle = format!("@olena@{}", remote.host());
    assert!(inbox.contains(&handle), "{inbox}");
    assert!(
        inbox.contains("<p>Дякуємо! </p>"),
        "sanitised reply shown: {inbox}"
    );
    assert!(!inbox.contains("<script>"));
    assert!(inbox.contains(&format!("href=\"{olena}/statuses/1\"")));
    // In Ukrainian and in English.
    let uk = c
        .get(node.url("/dashboard/inbox-test/inbox"))
        .header(COOKIE, jar.header())
        .header("accept-language", "uk")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        uk.contains("Запити на підписку") && uk.contains("Прийняти"),
        "{uk}"
    );
    let en = c
        .get(node.url("/dashboard/inbox-test/inbox"))
        .header(COOKIE, jar.header())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Follow requests") && en.contains("Accept"),
        "{en}"
    );

    // Someone else may not read it.
    let mut other = sign_in(&node, "stranger").await;
    let (status, _, _) = get(&c, &mut other, &node.url("/dashboard/inbox-test/inbox")).await;
    assert_eq!(status, 403);

    // Accepting: the follower gets a signed Accept through the queue.
    let at = inbox.find("/follow-requests/").unwrap();
    let action = &inbox[inbox[..at].rfind('"').unwrap() + 1..];
    let action = &action[..action.find('"').unwrap()];
    assert!(action.ends_with("/accept"), "{action}");
    let token = csrf_of(&inbox);
    let (status, headers) = post_form(&c, &mut jar, &node.url(action), &[("csrf", &token)]).await;
    assert_eq!(status, 303);
    assert!(headers[LOCATION].to_str().unwrap().contains("answered=1"));
    let accept = remote
        .wait_for(std::time::Duration::from_secs(20), "Accept", |r| {
            r.kind() == "Accept"
        })
        .await;
    assert!(accept.signature.is_ok());
    let (_, _, after) = get(
        &c,
        &mut jar,
        &node.url("/dashboard/inbox-test/inbox?answered=1"),
    )
    .await;
    assert!(after.contains("Nobody is waiting") || after.contains("Ніхто не чекає"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_delete_an_initiative_after_typing_its_handle() {
    for backend in Backend::available() {
        moderators_delete_an_initiative_after_typing_its_handle_on(backend).await;
    }
}

async fn moderators_delete_an_initiative_after_typing_its_handle_on(backend: Backend) {
    let node = TestNode::spawn_on(backend).await;
    let app = node.app();
    let maintainer = app
        .create_user(None, "petro", Role::Maintainer, PASSWORD)
        .await
        .unwrap();
    let moderator = app
        .create_user(None, "mod", Role::Moderator, PASSWORD)
        .await
        .unwrap();
    app.submit(Some(&maintainer), initiative("to-delete"))
        .await
        .unwrap();
    app.approve(&moderator, "to-delete").await.unwrap();
    let c = client();

    // Maintainers neither see the form nor may post it.
    let mut petro = sign_in(&node, "petro").await;
    let (status, _, html) = get(&c, &mut petro, &node.url("/dashboard/to-delete")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("/dashboard/to-delete/delete"));
    let token = csrf_of(&html);
    let url = node.url("/dashboard/to-delete/delete");
    let (status, _) = post_form(
        &c,
        &mut petro,
        &url,
        &[("csrf", &token), ("confirm", "to-delete")],
    )
    .await;
    assert_eq!(status, 403);

    let mut moderator_jar = sign_in(&node, "mod").await;
    let (_, _, html) = get(&c, &mut moderator_jar, &node.url("/dashboard/to-delete")).await;
    assert!(html.contains("/dashboard/to-delete/delete"));
    let token = csrf_of(&html);
    // A mistyped handle deletes nothing.
    let (status, _) = post_form(
        &c,
        &mut moderator_jar,
        &url,
        &[
            ("csrf", &token),
            ("confirm", "to-delet"),
            ("reason", "spam"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        get(&c, &mut Jar::default(), &node.url("/initiatives/to-delete"))
            .await
            .0,
        200
    );

    let (status, headers) = post_form(
        &c,
        &mut moderator_jar,
        &url,
        &[
            ("csrf", &token),
            ("confirm", "to-delete"),
            ("reason", "spam"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers[LOCATION], "/dashboard");
    let (status, _, html) = get(&c, &mut Jar::default(), &node.url("/initiatives/to-delete")).await;
    assert_eq!(status, 410);
    assert!(
        html.contains("deleted") || html.contains("видалено"),
        "{html}"
    );
    let api = c
        .get(node.url("/api/v1/initiatives/to-delete"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 410);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "gone", "{body}");
    let never = c
        .get(node.url("/api/v1/initiatives/never-existed"))
        .send()
        .await
        .unwrap();
    assert_eq!(never.status(), 404);
    let audit = app.audit_log(&moderator, 1, 0).await.unwrap();
    assert_eq!(
        (
            audit[0].action.code(),
            audit[0].subject.as_str(),
            audit[0].reason.as_deref()
        ),
        ("deleted", "to-delete", Some("spam"))
    );
}

#[tokio::test]
async fn the_remote_follow_link_shows_where_it_leads_unless_sent_by_our_form() {
    let node = TestNode::spawn().await;
    let app = node.app();
    let moderator = app
        .create_user(None, "mod", Role::Moderator, PASSWORD)
        .await
        .unwrap();
    app.submit(Some(&moderator), initiative("followed"))
        .await
        .unwrap();
    app.approve(&moderator, "followed").await.unwrap();
    let url = node.url("/initiatives/followed/follow?server=%40me%40social.example");
    let acct = format!(
        "followed%40{}",
        node.url("")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .replace(':', "%3A")
    );
    let target = format!("https://social.example/authorize_interaction?uri={acct}");

    // Our own follow form (the browser says same-origin): on to the visitor's server at once.
    let r = client()
        .get(&url)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()[LOCATION], target.as_str());

    // The same address from a link elsewhere, or a browser that does not say: a page naming
    // the host, with a link there and one back.
    for from in [Some("cross-site"), None] {
        let mut request = client().get(&url);
        if let Some(site) = from {
            request = request.header("sec-fetch-site", site);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{from:?}");
        assert!(r.headers().get(LOCATION).is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("social.example"), "{html}");
        assert!(
            html.contains(&format!("href=\"{}\"", target.replace('&', "&amp;"))),
            "{html}"
        );
        assert!(html.contains("href=\"/initiatives/followed\""), "{html}");
    }

    // Nonsense for a server goes back to the form, wherever it came from.
    let r = client()
        .get(node.url("/initiatives/followed/follow?server=%20"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()[LOCATION],
        "/initiatives/followed?follow=invalid#follow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_wallet_address_stored_before_is_flagged_for_donors() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        let moderator = node
            .app()
            .create_user(None, "mod", Role::Moderator, PASSWORD)
            .await
            .unwrap();
        node.app()
            .submit(Some(&moderator), initiative("wallets"))
            .await
            .unwrap();
        node.app().approve(&moderator, "wallets").await.unwrap();
        // As an older version could store it: one good address, one with a typo.
        let mut stored = node
            .store()
            .initiative_by_handle("wallets", None)
            .await
            .unwrap()
            .unwrap();
        let read_at = stored.updated_at;
        stored.donation_methods = serde_json::from_value(serde_json::json!([
            {"kind": "crypto", "network": "USDT (TRC-20)", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
            {"kind": "crypto", "network": "BTC", "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"}
        ]))
        .unwrap();
        node.store()
            .update_initiative(&stored, read_at, None)
            .await
            .unwrap();

        let c = client();
        let (status, _, html) =
            get(&c, &mut Jar::default(), &node.url("/initiatives/wallets")).await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(
            html.matches("Не надсилайте кошти на цю адресу").count(),
            1,
            "only the broken one is flagged"
        );
        assert!(html.contains("data-copy=\"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\""));
        assert!(
            !html.contains("data-copy=\"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5\""),
            "no copy button for the broken address"
        );
        // The API names it too, for apps that show donation details.
        let api: serde_json::Value = c
            .get(node.url("/api/v1/initiatives/wallets"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            api["initiative"]["broken_donation_methods"],
            serde_json::json!([1]),
            "{api}"
        );
    }
}
