//! The initiative page as anonymous visitors share it (`crates/web/src/cache.rs`): one copy per
//! language with an ETag, never shown to someone signed in nor made from what they saw, and
//! replaced by the next write. On every backend.

use hromada_domain::Role;
use hromada_testkit::{Backend, TestNode};
use reqwest::header::{ETAG, IF_NONE_MATCH};

use super::{PASSWORD, client, csrf_of, get, initiative, sign_in};

const VOUCH_FORM: &str = "/moderation/initiatives/medics/vouch";

/// An anonymous visitor's view: status, ETag and page.
async fn visit(node: &TestNode, lang: &str, etag: Option<&str>) -> (u16, String, String) {
    let mut request = client()
        .get(node.url("/initiatives/medics"))
        .header("accept-language", lang);
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get(ETAG)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, etag, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_pages_are_shared_but_never_a_signed_in_one() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        let app = node.app();
        for (name, role) in [("mod", Role::Moderator), ("petro", Role::Maintainer)] {
            app.create_user(None, name, role, PASSWORD).await.unwrap();
        }
        let petro = app.user_by_username("petro").await.unwrap();
        let moderator = app.user_by_username("mod").await.unwrap();
        app.submit(Some(&petro), initiative("medics"))
            .await
            .unwrap();
        app.approve(&moderator, "medics").await.unwrap();

        let (status, etag, english) = visit(&node, "en", None).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(etag.starts_with('"'), "{backend:?}: an ETag");
        assert!(english.contains("<html lang=\"en\">"));
        assert!(!english.contains("name=\"csrf\""), "no forms for visitors");
        assert_eq!(visit(&node, "en", None).await, (200, etag.clone(), english));
        assert_eq!(visit(&node, "en", Some(&etag)).await.0, 304);
        let (_, uk_etag, ukrainian) = visit(&node, "uk", None).await;
        assert!(
            ukrainian.contains("<html lang=\"uk\">"),
            "one copy per language"
        );
        assert_ne!(uk_etag, etag);

        // Signed in, each sees their own page, never the shared one…
        let mut moderator = sign_in(&node, "mod").await;
        let (status, headers, own) =
            get(&client(), &mut moderator, &node.url("/initiatives/medics")).await;
        assert_eq!(status, 200);
        assert!(own.contains(VOUCH_FORM), "{backend:?}: moderation forms");
        assert!(headers.get(ETAG).is_none(), "personal pages are not shared");
        let mut maintainer = sign_in(&node, "petro").await;
        let (_, _, theirs) =
            get(&client(), &mut maintainer, &node.url("/initiatives/medics")).await;
        assert!(
            theirs.contains("href=\"/dashboard/medics\""),
            "the edit link"
        );
        assert!(!theirs.contains(VOUCH_FORM));
        // …and what they saw is not shared with anyone.
        let (_, _, public) = visit(&node, "en", None).await;
        assert!(!public.contains(VOUCH_FORM));
        assert!(!public.contains("href=\"/dashboard/medics\""));
        assert!(!public.contains(&csrf_of(&own)));
        assert!(!public.contains("(mod)") && !public.contains("(petro)"));

        // A moderator's vouch shows to the next visitor; the old copy is gone.
        let csrf = csrf_of(&own);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("statement", "We delivered supplies with them since 2022."),
                ("basis", "long_term_partner"),
            ])
            .finish();
        let r = client()
            .post(node.url(VOUCH_FORM))
            .header(reqwest::header::COOKIE, moderator.header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{backend:?}");
        let (status, new_etag, public) = visit(&node, "en", Some(&etag)).await;
        assert_eq!(status, 200, "{backend:?}: changed, so not 304");
        assert_ne!(new_etag, etag);
        assert!(public.contains("data-trust=\"verified\""), "{backend:?}");
        assert!(public.contains("We delivered supplies with them since 2022."));
    }
}
