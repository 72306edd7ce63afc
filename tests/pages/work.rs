//! The working pages added with trust and the network: moderators vouching, warning and
//! withdrawing on an initiative's page, closing reports, admins editing the trust policy,
//! following and blocking nodes and resetting passwords, maintainers announcing and changing
//! events and correcting or deleting updates. Each form: CSRF, who may use it, and field
//! errors that keep what was typed. On every backend.

use hromada_domain::trust::{ReportCategory, ReportInput, ReportStatus};
use hromada_domain::{AuditAction, InitiativeStatus, Role, UpdateInput, UpdateKind};
use hromada_testkit::{Backend, TestNode};
use reqwest::header::LOCATION;

use super::{Jar, PASSWORD, client, csrf_of, get, initiative, sign_in};

async fn users(node: &TestNode) {
    for (name, role) in [
        ("admin", Role::Admin),
        ("mod", Role::Moderator),
        ("petro", Role::Maintainer),
        ("taras", Role::Maintainer),
    ] {
        node.app()
            .create_user(None, name, role, PASSWORD)
            .await
            .unwrap();
    }
}

/// A published initiative that `petro` maintains.
async fn published(node: &TestNode, handle: &str) {
    let app = node.app();
    let petro = app.user_by_username("petro").await.unwrap();
    let moderator = app.user_by_username("mod").await.unwrap();
    app.submit(Some(&petro), initiative(handle)).await.unwrap();
    app.approve(&moderator, handle).await.unwrap();
}

/// The CSRF token of a signed-in browser (any page carries it).
async fn token(node: &TestNode, jar: &mut Jar, path: &str) -> String {
    let (status, _, html) = get(&client(), jar, &node.url(path)).await;
    assert_eq!(status, 200, "{path}");
    csrf_of(&html)
}

/// A form post from a browser with `jar`'s cookies, ready to send.
fn form_post(
    node: &TestNode,
    jar: &Jar,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    client()
        .post(node.url(path))
        .header(reqwest::header::COOKIE, jar.header())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
}

/// Posts a form and returns the status, the `Location` and the page (empty after a redirect).
async fn send(
    node: &TestNode,
    jar: &mut Jar,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let r = form_post(node, jar, path, form).send().await.unwrap();
    jar.take(r.headers());
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_vouch_warn_and_withdraw_from_the_initiative_page() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "medics").await;
        let page = "/initiatives/medics";
        let petro_user = node.app().user_by_username("petro").await.unwrap();
        let need: hromada_domain::NeedInput = serde_json::from_value(serde_json::json!(
            {"title": "Tourniquets for the crews", "category": "medical", "urgency": "critical"}
        ))
        .unwrap();
        node.app()
            .add_need(&petro_user, "medics", need)
            .await
            .unwrap();
        let urgent_on_home = || async {
            let (_, _, home) = get(&client(), &mut Jar::default(), &node.url("/")).await;
            let at = home.find("Tourniquets for the crews")?;
            let card = &home[at..];
            Some(card[..card.find("</li>\n</ul>").unwrap_or(card.len())].to_string())
        };
        let card = urgent_on_home()
            .await
            .expect("an urgent need on the home page");
        assert!(
            card.contains("data-trust=\"unverified\""),
            "{backend:?}: {card}"
        );

        // A maintainer sees no moderation forms and may not use them.
        let mut petro = sign_in(&node, "petro").await;
        let (_, _, html) = get(&client(), &mut petro, &node.url(page)).await;
        assert!(!html.contains("/moderation/initiatives/medics/vouch"));
        assert!(html.contains("data-trust=\"unverified\""), "{backend:?}");
        assert!(html.contains("<dd>українська, кримськотатарська, xq</dd>"));
        let trust_box = &html[html.find("<section id=\"trust\"").unwrap()..];
        let trust_box = &trust_box[..trust_box.find("</section>").unwrap()];
        assert_eq!(
            trust_box.matches("не поручився").count(),
            1,
            "the trust box says once that nobody vouched: {trust_box}"
        );
        let csrf = csrf_of(&html);
        let vouch = [
            ("csrf", csrf.as_str()),
            ("statement", "We know them."),
            ("basis", "met_in_person"),
        ];
        let (status, _, _) = send(
            &node,
            &mut petro,
            "/moderation/initiatives/medics/vouch",
            &vouch,
        )
        .await;
        assert_eq!(status, 403, "{backend:?}: a maintainer cannot vouch");

        let mut moderator = sign_in(&node, "mod").await;
        let csrf = token(&node, &mut moderator, page).await;
        // Without the token: refused, nothing said.
        let (status, _, _) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/vouch",
            &[("csrf", "forged"), ("statement", "x"), ("basis", "other")],
        )
        .await;
        assert_eq!(status, 403);
        // A field error keeps what was typed.
        let long = "Довгий текст. ".repeat(200);
        let (status, _, html) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/vouch",
            &[
                ("csrf", &csrf),
                ("statement", &long),
                ("basis", "checked_receipts"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"vouch-statement-err\""));
        assert!(html.contains(long.trim_end()), "the statement is kept");
        assert!(
            html.contains("value=\"checked_receipts\" selected"),
            "the basis is kept"
        );
        let (_, trust) = node.app().initiative_trust("medics").await.unwrap();
        assert!(trust.trust.reasons.is_empty(), "nothing was said");

        // Vouching: the public page shows the badge and why.
        let (status, location, _) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/vouch",
            &[
                ("csrf", &csrf),
                ("statement", "We delivered supplies with them since 2022."),
                ("basis", "long_term_partner"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/initiatives/medics?trust=vouched#trust")
        );
        let (_, _, public) = get(&client(), &mut Jar::default(), &node.url(page)).await;
        assert!(public.contains("data-trust=\"verified\""), "{backend:?}");
        let card = urgent_on_home().await.expect("still on the home page");
        assert!(card.contains("data-trust=\"verified\""), "{card}");
        assert!(public.contains("We delivered supplies with them since 2022."));
        let collective = node.base_url.trim_start_matches("http://");
        assert!(public.contains(collective), "who vouched is named");
        assert!(
            !public.contains("/moderation/initiatives/"),
            "no forms for visitors"
        );
        let mut english = Jar::default();
        english.0.push(("hromada_lang".into(), "en".into()));
        let (_, _, public) = get(&client(), &mut english, &node.url(page)).await;
        assert!(
            public.contains("We delivered supplies"),
            "the page in English"
        );
        assert!(
            public.contains("<dd>Ukrainian, Crimean Tatar, xq</dd>"),
            "languages by name, an unknown code as given"
        );
        assert!(!public.contains("Payment details were added"));

        // New payment details after the vouch: donors are told, and so is whoever reads it.
        let only_jar = |url: &str, recurring: bool| {
            let patch: hromada_domain::InitiativePatch =
                serde_json::from_value(serde_json::json!({"donation_methods": [
                    {"kind": "jar", "url": url, "recurring": recurring}
                ]}))
                .unwrap();
            node.app().edit(&petro_user, "medics", patch)
        };
        only_jar("https://send.monobank.ua/jar/TEST", false)
            .await
            .unwrap();
        let (_, _, public) = get(&client(), &mut english, &node.url(page)).await;
        assert!(
            !public.contains("Payment details were added"),
            "same account"
        );
        only_jar("https://send.monobank.ua/jar/ELSEWHERE", true)
            .await
            .unwrap();
        let (_, _, public) = get(&client(), &mut english, &node.url(page)).await;
        assert!(
            public.contains("Payment details were added on"),
            "{backend:?}"
        );
        assert!(public.contains("Given before the payment details changed on"));
        // Donors who find it in search are told too, before they open its page.
        let (_, _, search) = get(&client(), &mut english, &node.url("/search?q=photo")).await;
        assert!(search.contains("New payment details"), "{search}");
        let (_, _, log) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert!(
            log.contains("змінено: додано платіжні реквізити"),
            "in the moderators' log"
        );
        // Search by trust status.
        let (_, _, found) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/search?trust=verified"),
        )
        .await;
        assert!(found.contains("href=\"/initiatives/medics\""));
        assert!(found.contains("data-trust=\"verified\""));
        let (_, _, none) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/search?trust=disputed"),
        )
        .await;
        assert!(!none.contains("href=\"/initiatives/medics\""));

        // Withdrawing needs a reason; the reason typed so far is kept.
        let (_, _, html) = get(&client(), &mut moderator, &node.url(page)).await;
        let id_at = html
            .find("name=\"id\" value=\"")
            .expect("the withdraw form")
            + 17;
        let vouch_id = html[id_at..id_at + 36].to_string();

        // The vouch's address (its ActivityPub id) takes a browser to the trust section, which
        // explains it; an unknown or malformed id is not found.
        let trust_section = (303, "/initiatives/medics#trust".to_string());
        assert_eq!(
            visit(&node, &format!("/vouches/{vouch_id}")).await,
            trust_section
        );
        let unknown = "0190f3a4-7c2e-7d40-8a51-2b8e0c4f6a11";
        assert_eq!(visit(&node, &format!("/vouches/{unknown}")).await.0, 404);
        assert_eq!(visit(&node, "/vouches/not-an-id").await.0, 404);
        assert_eq!(visit(&node, &format!("/warnings/{vouch_id}")).await.0, 404);
        let (status, _, html) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/withdraw",
            &[
                ("csrf", &csrf),
                ("kind", "vouch"),
                ("id", &vouch_id),
                ("reason", "  "),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("withdrawal_reason-err"));
        let (status, _, _) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/withdraw",
            &[
                ("csrf", &csrf),
                ("kind", "vouch"),
                ("id", &vouch_id),
                ("reason", "They moved to another city"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, _, public) = get(&client(), &mut Jar::default(), &node.url(page)).await;
        assert!(public.contains("data-trust=\"unverified\""));
        assert!(
            public.contains("They moved to another city"),
            "the withdrawal is explained"
        );
        assert_eq!(
            visit(&node, &format!("/vouches/{vouch_id}")).await,
            trust_section,
            "a withdrawn vouch still leads to where its withdrawal is explained"
        );
        // The public log says why; the audit log, for moderators, says who.
        let log = node.app().store().audit_log(5, 0).await.unwrap();
        let withdrawn = log
            .iter()
            .find(|e| e.action == AuditAction::StatementWithdrawn)
            .expect("the withdrawal is audited");
        assert_eq!(withdrawn.subject, "medics");
        assert_eq!(withdrawn.details["kind"], "vouch");
        assert_eq!(
            withdrawn.reason.as_deref(),
            Some("They moved to another city")
        );
        assert!(withdrawn.actor.is_some());
        let (_, _, queue) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert!(queue.contains("поручительство відкликано"), "{queue}");

        let (_, _, give) = get(&client(), &mut Jar::default(), &node.url("/give")).await;
        assert!(
            give.contains("value=\"medics\""),
            "offered for monthly giving"
        );
        // A figure that cannot be read: the summary names the field and links to it.
        let (status, _, give) = get(
            &client(),
            &mut english,
            &node.url("/give?pick=medics&income=lots&currency=EUR&share=5"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            give.contains("<a href=\"#income\">Your monthly income: "),
            "{give}"
        );
        assert!(give.contains("id=\"income\""));
        // A warning disputes it.
        let (status, _, _) = send(
            &node,
            &mut moderator,
            "/moderation/initiatives/medics/warn",
            &[
                ("csrf", &csrf),
                ("statement", "Receipts do not match the reports."),
                ("reason", "suspected_fraud"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, _, public) = get(&client(), &mut Jar::default(), &node.url(page)).await;
        assert!(public.contains("data-trust=\"disputed\""));
        // No longer offered for monthly giving, nor its needs on the home page.
        let (_, _, give) = get(&client(), &mut Jar::default(), &node.url("/give")).await;
        assert!(!give.contains("value=\"medics\""), "{backend:?}");
        assert_eq!(urgent_on_home().await, None, "{backend:?}");
        let (_, _, html) = get(&client(), &mut moderator, &node.url(page)).await;
        let form = "name=\"kind\" value=\"warning\">\n<input type=\"hidden\" name=\"id\" value=\"";
        let id_at = html.find(form).expect("the warning's withdraw form") + form.len();
        let warning_id = html[id_at..id_at + 36].to_string();
        assert_eq!(
            visit(&node, &format!("/warnings/{warning_id}")).await,
            trust_section
        );

        // The transparency log page tells all of it.
        let (status, _, log) =
            get(&client(), &mut Jar::default(), &node.url("/transparency")).await;
        assert_eq!(status, 200);
        for text in [
            "We delivered supplies with them since 2022.",
            "They moved to another city",
            "Receipts do not match the reports.",
            "href=\"/initiatives/medics\"",
        ] {
            assert!(log.contains(text), "{backend:?}: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_resolve_and_dismiss_reports() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "soup").await;
        let report = |reason: &str| ReportInput {
            category: ReportCategory::Inactive,
            reason: reason.into(),
            contact: Some("signal: @worried".into()),
        };
        let first = node
            .app()
            .report(None, "soup", report("They stopped cooking in May."))
            .await
            .unwrap();
        let second = node
            .app()
            .report(None, "soup", report("Same as before."))
            .await
            .unwrap();

        let mut moderator = sign_in(&node, "mod").await;
        let (_, _, html) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert!(html.contains("They stopped cooking in May."), "{backend:?}");
        assert!(
            html.contains("signal: @worried"),
            "moderators see how to reach the reporter"
        );
        let csrf = csrf_of(&html);
        let path = format!("/moderation/reports/{}", first.id);

        let mut petro = sign_in(&node, "petro").await;
        let petro_csrf = token(&node, &mut petro, "/dashboard").await;
        let (status, _, _) = send(
            &node,
            &mut petro,
            &path,
            &[
                ("csrf", &petro_csrf),
                ("outcome", "resolve"),
                ("resolution", "x"),
            ],
        )
        .await;
        assert_eq!(status, 403, "maintainers do not close reports");
        let (status, _, _) = send(
            &node,
            &mut moderator,
            &path,
            &[
                ("csrf", "forged"),
                ("outcome", "resolve"),
                ("resolution", "x"),
            ],
        )
        .await;
        assert_eq!(status, 403);
        let (status, _, html) = send(
            &node,
            &mut moderator,
            &path,
            &[("csrf", &csrf), ("outcome", "resolve"), ("resolution", "")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains(&format!("resolution-err-{}", first.id)));

        let (status, location, _) = send(
            &node,
            &mut moderator,
            &path,
            &[
                ("csrf", &csrf),
                ("outcome", "resolve"),
                ("resolution", "Paused the listing; asked them."),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/moderation?done=resolved#reports")
        );
        let (status, _, _) = send(
            &node,
            &mut moderator,
            &format!("/moderation/reports/{}", second.id),
            &[
                ("csrf", &csrf),
                ("outcome", "dismiss"),
                ("resolution", "A duplicate."),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let stored = node
            .app()
            .store()
            .report_by_id(first.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, ReportStatus::Resolved);
        assert_eq!(stored.resolved_by.as_deref(), Some("mod"));
        let stored = node
            .app()
            .store()
            .report_by_id(second.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, ReportStatus::Dismissed);
        // Closing twice is a conflict, not a second resolution.
        let (status, _, _) = send(
            &node,
            &mut moderator,
            &path,
            &[
                ("csrf", &csrf),
                ("outcome", "dismiss"),
                ("resolution", "again"),
            ],
        )
        .await;
        assert_eq!(status, 409);
        let (_, _, html) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert!(
            html.contains("Paused the listing; asked them."),
            "closed reports are listed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_the_trust_policy_follow_and_block_nodes_and_reset_passwords() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        let peer = TestNode::spawn_on(backend).await;
        users(&node).await;
        let peer_domain = peer.base_url.trim_start_matches("http://").to_string();

        // Moderators may not touch the policy or the network.
        let mut moderator = sign_in(&node, "mod").await;
        let csrf = token(&node, &mut moderator, "/moderation").await;
        for path in ["/admin/trust", "/admin/peers", "/admin/queue"] {
            let (status, _, _) = get(&client(), &mut moderator, &node.url(path)).await;
            assert_eq!(status, 403, "{path}");
        }
        let (status, _, _) = send(
            &node,
            &mut moderator,
            "/admin/trust",
            &[("csrf", &csrf), ("threshold", "1")],
        )
        .await;
        assert_eq!(status, 403);

        let mut admin = sign_in(&node, "admin").await;
        let csrf = token(&node, &mut admin, "/admin/trust").await;
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/trust",
            &[("csrf", "forged"), ("threshold", "1")],
        )
        .await;
        assert_eq!(status, 403);
        let (status, _, html) = send(
            &node,
            &mut admin,
            "/admin/trust",
            &[
                ("csrf", &csrf),
                ("trusted", "kyiv.example\nnot a domain!"),
                ("threshold", "2"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(
            html.contains("not a domain!"),
            "the lists are kept as typed"
        );
        assert!(html.contains("value=\"2\""), "the threshold is kept");
        let (status, location, _) = send(
            &node,
            &mut admin,
            "/admin/trust",
            &[
                ("csrf", &csrf),
                ("trusted", "Kyiv.example\nlviv.example:8443"),
                ("ignored", "spam.example"),
                ("threshold", "2"),
                ("warnings_dispute", "1"),
                ("note", "Partners we met"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/admin/trust?done=saved")
        );
        let policy = node.app().trust_policy().await.unwrap();
        assert_eq!(policy.trusted, ["kyiv.example", "lviv.example:8443"]);
        let audited = node.app().store().audit_log(1, 0).await.unwrap();
        assert_eq!(audited[0].action, AuditAction::TrustPolicyChanged);
        assert_eq!(audited[0].reason.as_deref(), Some("Partners we met"));
        assert!(audited[0].actor.is_some(), "who changed it");
        assert_eq!(policy.threshold, 2);
        let (_, _, about) = get(&client(), &mut Jar::default(), &node.url("/about")).await;
        assert!(
            about.contains("kyiv.example, lviv.example:8443"),
            "{backend:?}"
        );
        assert!(about.contains("spam.example"));
        assert!(about.contains("href=\"/transparency\""));
        let (_, _, log) = get(&client(), &mut Jar::default(), &node.url("/transparency")).await;
        assert!(log.contains("Partners we met"));
        // Whether warnings dispute is part of the policy, so its line says it too.
        assert!(
            log.contains(
                "Попередження від довіреного колективу надає ініціативі статус «Є попередження»"
            ),
            "{log}"
        );

        // Following a node by its domain: a typo keeps the input, a real node gets a follow.
        let (status, _, html) = send(
            &node,
            &mut admin,
            "/admin/peers",
            &[("csrf", &csrf), ("domain", "no such thing")],
        )
        .await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(html.contains("value=\"no such thing\""));
        assert!(html.contains("«no such thing» — не домен вузла"), "{html}");
        // In English the reason is English too.
        let own_domain = node.base_url.trim_start_matches("http://").to_string();
        let reply = form_post(
            &node,
            &admin,
            "/admin/peers",
            &[("csrf", &csrf), ("domain", &own_domain)],
        )
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
        assert_eq!(reply.status(), 422);
        let html = reply.text().await.unwrap();
        assert!(html.contains("That is this node"), "{html}");
        let (status, location, _) = send(
            &node,
            &mut admin,
            "/admin/peers",
            &[("csrf", &csrf), ("domain", &peer_domain)],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/admin/peers?done=followed"),
            "{backend:?}"
        );
        let (_, _, peers) = get(&client(), &mut admin, &node.url("/admin/peers")).await;
        assert!(
            peers.contains(&format!("id=\"peer-{peer_domain}\"")),
            "{backend:?}"
        );
        let (status, _, queue) = get(&client(), &mut admin, &node.url("/admin/queue")).await;
        assert_eq!(status, 200);
        // The follow went through the durable queue, so the peer's host has a row.
        assert!(queue.contains("<td>localhost"), "{backend:?}: {queue}");
        let (status, _, _) = send(
            &node,
            &mut admin,
            &format!("/admin/peers/{peer_domain}/unfollow"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 303);

        // Blocking with a reason, and lifting it.
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/blocks",
            &[
                ("csrf", &csrf),
                ("domain", "spam.example"),
                ("reason", "Fake fundraisers"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, _, peers) = get(&client(), &mut admin, &node.url("/admin/peers")).await;
        assert!(peers.contains("Fake fundraisers"));
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/blocks/spam.example/unblock",
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 303);
        let (_, _, peers) = get(&client(), &mut admin, &node.url("/admin/peers")).await;
        assert!(!peers.contains("Fake fundraisers"));

        // Disabling an account ends its session and its sign-ins; enabling it restores them.
        let mut petro = sign_in(&node, "petro").await;
        let (status, _, _) = get(&client(), &mut petro, &node.url("/dashboard")).await;
        assert_eq!(status, 200);
        let disable = |who: &'static str, disabled: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("username", who.into()),
                ("disabled", disabled.into()),
            ]
        };
        let (status, location, _) = send(
            &node,
            &mut admin,
            "/admin/users/disabled",
            &as_refs(&disable("petro", "true")),
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/admin?done=disabled"));
        let (status, _, _) = get(&client(), &mut petro, &node.url("/dashboard")).await;
        assert_eq!(
            status, 303,
            "the disabled account's session no longer works"
        );
        assert!(node.app().login("petro", PASSWORD).await.is_err());
        let (_, _, html) = get(&client(), &mut admin, &node.url("/admin?done=disabled")).await;
        // Ukrainian is the default language.
        assert!(html.contains("Обліковий запис вимкнено"), "{html}");
        assert!(html.contains("petro (вимкнено)"));
        assert!(html.contains(">Увімкнути</button>"));
        let log = node.app().store().audit_log(20, 0).await.unwrap();
        assert!(log.iter().any(|e| e.action == AuditAction::UserDisabled
            && e.subject == "petro"
            && e.actor.as_deref() == Some("admin")));
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/users/disabled",
            &as_refs(&disable("admin", "true")),
        )
        .await;
        assert_eq!(status, 403, "admins cannot disable themselves");
        let (status, _, _) = get(&client(), &mut admin, &node.url("/admin")).await;
        assert_eq!(status, 200);
        let (status, location, _) = send(
            &node,
            &mut admin,
            "/admin/users/disabled",
            &as_refs(&disable("petro", "false")),
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/admin?done=enabled"));
        assert!(node.app().login("petro", PASSWORD).await.is_ok());

        // A new password for someone who lost theirs (or whose account was taken over):
        // whatever was signed in with the old one is signed out.
        let mut petro = sign_in(&node, "petro").await;
        let (status, _, html) = send(
            &node,
            &mut admin,
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("username", "petro"),
                ("password", "short"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("value=\"petro\""), "the username is kept");
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("username", "nobody"),
                ("password", "a-long-new-password"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("username", "petro"),
                ("password", "a-long-new-password"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        assert!(
            node.app()
                .login("petro", "a-long-new-password")
                .await
                .is_ok()
        );
        assert!(node.app().login("petro", PASSWORD).await.is_err());
        let (status, _, _) = get(&client(), &mut petro, &node.url("/dashboard")).await;
        assert_eq!(status, 303, "petro's old session is over");
        let (status, _, _) = get(&client(), &mut admin, &node.url("/admin")).await;
        assert_eq!(status, 200, "the admin's own session goes on");
    }
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintainers_announce_and_change_events_and_correct_updates() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "choir").await;
        let mut petro = sign_in(&node, "petro").await;
        let csrf = token(&node, &mut petro, "/dashboard/choir/events").await;
        let event = |title: &'static str, zone: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("title", title.to_string()),
                (
                    "description",
                    "Songs for the front-line medics.".to_string(),
                ),
                ("starts_at", "2031-03-08T19:00".to_string()),
                ("ends_at", String::new()),
                ("timezone", zone.to_string()),
                ("place", "city".to_string()),
                ("city", "Berlin".to_string()),
                ("country", "de".to_string()),
                ("organiser", "Choir collective".to_string()),
            ]
        };

        // A field error keeps every value typed.
        let bad = event("", "Mars/Olympus");
        let (status, _, html) =
            send(&node, &mut petro, "/dashboard/choir/events", &as_refs(&bad)).await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(html.contains("new-title-err") && html.contains("new-timezone-err"));
        for field in ["title", "timezone"] {
            // The summary's links lead to the new event's inputs.
            assert!(html.contains(&format!("href=\"#new-{field}\"")), "{field}");
            assert!(html.contains(&format!("id=\"new-{field}\"")), "{field}");
        }
        assert!(
            html.contains("value=\"Mars/Olympus\"")
                && html.contains("Songs for the front-line medics.")
        );
        assert!(
            node.app()
                .initiative_detail(None, "choir")
                .await
                .unwrap()
                .events
                .is_empty()
        );

        let good = event("Spring concert", "Europe/Berlin");
        let (status, location, _) = send(
            &node,
            &mut petro,
            "/dashboard/choir/events",
            &as_refs(&good),
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        assert!(location.starts_with("/dashboard/choir/events?saved=created#e-"));
        let stored = node
            .app()
            .initiative_detail(None, "choir")
            .await
            .unwrap()
            .events;
        assert_eq!(
            stored[0].starts_at.to_rfc3339(),
            "2031-03-08T18:00:00+00:00",
            "read in Berlin time"
        );
        let (_, _, events) = get(&client(), &mut Jar::default(), &node.url("/events")).await;
        assert!(events.contains("Spring concert"));

        // Changing it; someone who does not maintain it may not.
        let edit_path = format!("/dashboard/events/{}", stored[0].id);
        let changed = event("Spring concert (moved)", "Europe/Berlin");
        let mut taras = sign_in(&node, "taras").await;
        let taras_csrf = token(&node, &mut taras, "/dashboard").await;
        let mut forged = as_refs(&changed);
        forged[0].1 = &taras_csrf;
        let (status, _, _) = send(&node, &mut taras, &edit_path, &forged).await;
        assert_eq!(status, 403);
        let mut no_token = as_refs(&changed);
        no_token[0].1 = "forged";
        let (status, _, _) = send(&node, &mut petro, &edit_path, &no_token).await;
        assert_eq!(status, 403);
        let (status, _, _) = send(&node, &mut petro, &edit_path, &as_refs(&changed)).await;
        assert_eq!(status, 303);
        let (_, _, events) = get(&client(), &mut Jar::default(), &node.url("/events")).await;
        assert!(events.contains("Spring concert (moved)"), "{backend:?}");

        // Another initiative's event for the choir shows on its page, but is not offered for
        // editing on the choir's dashboard (saving it would be refused).
        let taras_user = node.app().user_by_username("taras").await.unwrap();
        let moderator = node.app().user_by_username("mod").await.unwrap();
        node.app()
            .submit(Some(&taras_user), super::initiative("orchestra"))
            .await
            .unwrap();
        node.app().approve(&moderator, "orchestra").await.unwrap();
        let taras_user = node.app().user_by_username("taras").await.unwrap();
        let benefit: hromada_domain::EventInput = serde_json::from_value(serde_json::json!({
            "title": "Benefit for the choir", "starts_at": "2031-04-01T18:00:00Z",
            "timezone": "Europe/Berlin", "organiser": "Orchestra",
            "place": {"kind": "city", "city": "Berlin", "country": "DE"},
            "beneficiaries": ["choir"]
        }))
        .unwrap();
        let benefit = node
            .app()
            .add_event(&taras_user, "orchestra", benefit)
            .await
            .unwrap();
        let (_, _, public) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/choir"),
        )
        .await;
        assert!(public.contains("Benefit for the choir"));
        // The choir's maintainers did not announce it: its page says who did.
        assert!(
            public.contains("оголосила ініціатива <a href=\"/initiatives/orchestra\">"),
            "{public}"
        );
        assert!(!public.contains("Минулі події"), "nothing is over yet");
        // An event that is over goes below the coming ones, under its own heading.
        let mut over = benefit.clone();
        over.id = uuid::Uuid::now_v7();
        over.title = "Last spring concert".into();
        over.starts_at = chrono::Utc::now() - chrono::Duration::days(200);
        node.store().insert_event(&over).await.unwrap();
        let (_, _, public) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/choir"),
        )
        .await;
        let (coming, past) = public
            .split_once("Минулі події")
            .expect("a past events heading");
        assert!(coming.contains("Benefit for the choir"));
        assert!(past.contains("Last spring concert"));
        let (_, _, dashboard) =
            get(&client(), &mut petro, &node.url("/dashboard/choir/events")).await;
        assert!(dashboard.contains(&edit_path));
        assert!(!dashboard.contains(&format!("/dashboard/events/{}", benefit.id)));

        // Updates: corrected and deleted from the dashboard.
        let petro_user = node.app().user_by_username("petro").await.unwrap();
        let update = node
            .app()
            .post_update(
                &petro_user,
                "choir",
                UpdateInput {
                    kind: UpdateKind::News,
                    body: "We sang in Lviv.".into(),
                    need_id: None,
                    photos: Vec::new(),
                    publish_at: None,
                },
            )
            .await
            .unwrap();
        let (_, _, posts) = get(&client(), &mut petro, &node.url("/dashboard/choir/posts")).await;
        assert!(posts.contains("We sang in Lviv."));
        let path = format!("/dashboard/updates/{}", update.id);
        let (status, _, html) =
            send(&node, &mut petro, &path, &[("csrf", &csrf), ("body", "")]).await;
        assert_eq!(status, 422);
        assert!(html.contains(&format!("body-{}-err", update.id)));
        let (status, _, _) = send(
            &node,
            &mut taras,
            &path,
            &[("csrf", &taras_csrf), ("body", "Mine")],
        )
        .await;
        assert_eq!(status, 403);
        let (status, _, _) = send(
            &node,
            &mut petro,
            &path,
            &[("csrf", &csrf), ("body", "We sang in Lviv and Kyiv.")],
        )
        .await;
        assert_eq!(status, 303);
        let (_, _, public) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/choir"),
        )
        .await;
        assert!(public.contains("We sang in Lviv and Kyiv."));
        // Deleting asks for a confirmation first.
        let (status, _, html) = send(
            &node,
            &mut petro,
            &format!("{path}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains(&format!("confirm-{}-err", update.id)));
        assert_eq!(
            node.app()
                .initiative_detail(None, "choir")
                .await
                .unwrap()
                .updates
                .len(),
            1,
            "nothing deleted yet"
        );
        let (status, _, _) = send(
            &node,
            &mut petro,
            &format!("{path}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
        assert_eq!(status, 303);
        assert!(
            node.app()
                .initiative_detail(None, "choir")
                .await
                .unwrap()
                .updates
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_report_an_initiative_from_its_page() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "soup").await;
        let mut visitor = Jar::default();
        let (_, _, page) = get(&client(), &mut visitor, &node.url("/initiatives/soup")).await;
        assert!(
            page.contains("href=\"/initiatives/soup/report\""),
            "{backend:?}"
        );
        let csrf = token(&node, &mut visitor, "/initiatives/soup/report").await;
        let path = "/initiatives/soup/report";
        let filed = |reason: &'static str| {
            [
                ("csrf", csrf.as_str()),
                ("category", "impersonation"),
                ("reason", reason),
                ("contact", "signal: @worried"),
            ]
        };

        let (status, _, _) = send(&node, &mut visitor, path, &[("csrf", "forged")]).await;
        assert_eq!(status, 403);
        let (status, _, html) = send(&node, &mut visitor, path, &filed("")).await;
        assert_eq!(status, 422, "an empty report is refused");
        assert!(html.contains("reason-err") && html.contains("signal: @worried"));
        assert!(
            html.contains("value=\"impersonation\" selected"),
            "input is kept"
        );
        let moderator = node.app().user_by_username("mod").await.unwrap();
        let open = || node.app().reports(&moderator, None, 50, 0);
        assert!(
            open().await.unwrap().is_empty(),
            "refused input stores nothing"
        );

        let (status, location, _) = send(
            &node,
            &mut visitor,
            path,
            &filed("Their jar is not theirs."),
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/initiatives/soup/report?sent=1")
        );
        let reports = open().await.unwrap();
        assert_eq!(reports.len(), 1, "{backend:?}");
        let report = &reports[0].report;
        assert_eq!(report.category, ReportCategory::Impersonation);
        assert_eq!(report.reason, "Their jar is not theirs.");
        assert_eq!(
            report.reporter,
            hromada_domain::trust::Reporter::Anonymous {
                contact: Some("signal: @worried".into())
            }
        );

        // Signed in, the account is the way back: no contact field, the username is kept.
        let mut petro = sign_in(&node, "petro").await;
        let (_, _, form) = get(&client(), &mut petro, &node.url(path)).await;
        assert!(!form.contains("name=\"contact\""));
        let petro_csrf = csrf_of(&form);
        let (status, _, _) = send(
            &node,
            &mut petro,
            path,
            &[
                ("csrf", &petro_csrf),
                ("category", "inactive"),
                ("reason", "No news since May."),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let newest = &open().await.unwrap()[0].report;
        assert_eq!(
            newest.reporter,
            hromada_domain::trust::Reporter::User {
                username: "petro".into()
            }
        );

        let (status, _, _) = get(
            &client(),
            &mut visitor,
            &node.url("/initiatives/nobody/report"),
        )
        .await;
        assert_eq!(status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_who_send_too_much_are_told_in_their_language() {
    for backend in Backend::available() {
        let node = TestNode::spawn_with(backend, |c| {
            c.reports_per_hour = 1;
            c.submissions_per_hour = 1;
        })
        .await;
        users(&node).await;
        published(&node, "soup").await;
        let mut visitor = Jar::default();
        visitor.0.push(("hromada_lang".into(), "en".into()));
        let path = "/initiatives/soup/report";
        let csrf = token(&node, &mut visitor, path).await;
        let long = "x".repeat(2_001);
        let too_long = [
            ("csrf", csrf.as_str()),
            ("category", "fraud"),
            ("reason", long.as_str()),
        ];
        let (status, _, _) = send(&node, &mut visitor, path, &too_long).await;
        assert_eq!(status, 422, "{backend:?}: a mistake, not counted");
        let report = [
            ("csrf", csrf.as_str()),
            ("category", "fraud"),
            ("reason", "Their jar is not theirs."),
        ];
        let (status, _, _) = send(&node, &mut visitor, path, &report).await;
        assert_eq!(status, 303, "{backend:?}");
        let (status, _, html) = send(&node, &mut visitor, path, &report).await;
        assert_eq!(status, 429, "{backend:?}");
        assert!(
            html.contains("Too many requests") && html.contains("Nothing was saved"),
            "{html}"
        );
        let moderator = node.app().user_by_username("mod").await.unwrap();
        let reports = node.app().reports(&moderator, None, 50, 0).await.unwrap();
        assert_eq!(reports.len(), 1, "nothing stored from the refused report");

        // The submission form has its own count. Forms with mistakes are not counted (people
        // correcting a typo, many of them behind one address); stored ones are.
        visitor.0.retain(|(name, _)| name != "hromada_lang");
        visitor.0.push(("hromada_lang".into(), "uk".into()));
        let csrf = token(&node, &mut visitor, "/submit").await;
        let submission = |handle: &'static str, iban: &'static str| {
            format!(
                "csrf={csrf}&handle={handle}&name=Soup&summary=Hot+meals&categories=food\
                 &region0.area=lviv&dm0.kind=bank_transfer&dm0.iban={iban}\
                 &dm0.account_holder=Soup&submitter_contact=soup%40example.org"
            )
        };
        let cookie = visitor.header();
        let post = |body: String| {
            client()
                .post(node.url("/submit"))
                .header(reqwest::header::COOKIE, cookie.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
                .send()
        };
        // Every mistake is shown beside its field, not only in the summary on top.
        let (status, _, html) = send(
            &node,
            &mut visitor,
            "/submit",
            &[
                ("csrf", &csrf),
                ("dm0.kind", "crypto"),
                ("dm0.address", "x"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"dm0-network-err\""), "{html}");
        assert!(html.contains("aria-describedby=\"dm0-network-err\""));
        for _ in 0..3 {
            let (status, _, _) = send(&node, &mut visitor, "/submit", &[("csrf", &csrf)]).await;
            assert_eq!(status, 422, "an empty submission");
            let r = post(submission("soup-two", "UA00+1234")).await.unwrap();
            assert_eq!(r.status().as_u16(), 422, "an IBAN the domain refuses");
        }
        let iban = "UA213223130000026007233566001";
        let r = post(submission("soup-two", iban)).await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            303,
            "{backend:?}: mistakes were not counted"
        );
        let r = post(submission("soup-three", iban)).await.unwrap();
        assert_eq!(r.status().as_u16(), 429);
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&retry));
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Забагато запитів") && html.contains("Нічого не збережено"),
            "{html}"
        );
    }
}

/// The status and `Location` of a visitor's GET.
async fn visit(node: &TestNode, path: &str) -> (u16, String) {
    let (status, headers, _) = get(&client(), &mut Jar::default(), &node.url(path)).await;
    let location = headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    (status, location.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_need_form_shows_every_mistake_at_once() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "pumps").await;
        let mut petro = sign_in(&node, "petro").await;
        let csrf = token(&node, &mut petro, "/dashboard/pumps").await;
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
            .date_naive()
            .to_string();
        let (status, _, html) = send(
            &node,
            &mut petro,
            "/dashboard/pumps/needs",
            &[
                ("csrf", &csrf),
                ("title", ""),
                ("category", "equipment"),
                ("target", "lots"),
                ("currency", "грн"),
                ("deadline", &yesterday),
            ],
        )
        .await;
        assert_eq!(status, 422, "{backend:?}");
        // Each message links to its field's input.
        for field in ["title", "target", "currency"] {
            assert!(html.contains(&format!("href=\"#need-{field}\"")), "{field}");
            assert!(html.contains(&format!("id=\"need-{field}\"")), "{field}");
        }
        assert!(
            html.contains("href=\"#need-deadline\""),
            "the deadline is checked too"
        );
        assert!(
            html.contains("href=\"#need-title\">Що потрібно: "),
            "the summary names each field"
        );

        // Amounts as people write them.
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
            .date_naive()
            .to_string();
        let (status, _, _) = send(
            &node,
            &mut petro,
            "/dashboard/pumps/needs",
            &[
                ("csrf", &csrf),
                ("title", "Water pump"),
                ("category", "equipment"),
                ("target", "10 000,50"),
                ("currency", "UAH"),
                ("deadline", &tomorrow),
            ],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        let needs = node
            .app()
            .initiative_detail(None, "pumps")
            .await
            .unwrap()
            .needs;
        assert_eq!(needs.len(), 1);
        assert_eq!(needs[0].target.as_ref().unwrap().amount, 1_000_050);

        // A session that ended while the form was open: after logging in, back to the page the
        // form was on, not to the address it posts to (which answers nothing else).
        petro.0.retain(|(name, _)| !name.contains("session"));
        let form = [("csrf", csrf.as_str()), ("title", "Hoses")];
        let r = form_post(&node, &petro, "/dashboard/pumps/needs", &form)
            .header(reqwest::header::REFERER, node.url("/dashboard/pumps?x=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()[LOCATION],
            "/login?next=%2Fdashboard%2Fpumps%3Fx%3D1"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_change_their_own_password() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        let (status, location, _) = send(&node, &mut Jar::default(), "/account", &[]).await;
        assert_eq!(status, 405, "{location}");
        let (status, headers, _) = get(&client(), &mut Jar::default(), &node.url("/account")).await;
        assert_eq!(status, 303, "signed out: to the login page");
        assert_eq!(headers[LOCATION], "/login?next=%2Faccount");

        let mut petro = sign_in(&node, "petro").await;
        // The same account signed in on another device.
        let mut left_open = sign_in(&node, "petro").await;
        let csrf = token(&node, &mut petro, "/account").await;
        let change = |current: &'static str, new: &'static str, again: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("current_password", current.to_string()),
                ("new_password", new.to_string()),
                ("new_password_again", again.to_string()),
            ]
        };
        for (form, field) in [
            (
                change(
                    "wrong password!",
                    "a new long passphrase",
                    "a new long passphrase",
                ),
                "current_password",
            ),
            (
                change(
                    super::PASSWORD,
                    "a new long passphrase",
                    "another one entirely",
                ),
                "new_password_again",
            ),
            (change(super::PASSWORD, "short", "short"), "new_password"),
        ] {
            let (status, _, html) =
                send(&node, &mut petro, "/account/password", &as_refs(&form)).await;
            assert_eq!(status, 422, "{field}");
            assert!(html.contains(&format!("id=\"{field}-err\"")), "{field}");
        }
        // Nothing changed yet: the old password still works.
        node.app().login("petro", super::PASSWORD).await.unwrap();

        let form = change(
            super::PASSWORD,
            "a new long passphrase",
            "a new long passphrase",
        );
        let (status, location, _) =
            send(&node, &mut petro, "/account/password", &as_refs(&form)).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/account?saved=password")
        );
        assert!(node.app().login("petro", super::PASSWORD).await.is_err());
        node.app()
            .login("petro", "a new long passphrase")
            .await
            .unwrap();
        // The session it was changed in goes on; every other one is signed out.
        let (status, _, _) = get(&client(), &mut petro, &node.url("/account")).await;
        assert_eq!(status, 200);
        let (status, headers, _) = get(&client(), &mut left_open, &node.url("/account")).await;
        assert_eq!(status, 303, "the other device is signed out");
        assert_eq!(headers[LOCATION], "/login?next=%2Faccount");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_for_a_need_shows_on_the_need_page() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "stretchers").await;
        let petro = node.app().user_by_username("petro").await.unwrap();
        let need: hromada_domain::NeedInput = serde_json::from_value(
            serde_json::json!({"title": "Stretchers", "category": "medical"}),
        )
        .unwrap();
        let need = node
            .app()
            .add_need(&petro, "stretchers", need)
            .await
            .unwrap();
        let report = node
            .app()
            .post_update(
                &petro,
                "stretchers",
                UpdateInput {
                    kind: UpdateKind::News,
                    body: "Four stretchers bought and handed over.".into(),
                    need_id: Some(need.id),
                    photos: Vec::new(),
                    publish_at: None,
                },
            )
            .await
            .unwrap();
        let (status, _, page) = get(
            &client(),
            &mut Jar::default(),
            &node.url(&format!("/needs/{}", need.id)),
        )
        .await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(page.contains("Four stretchers bought and handed over."));
        assert_eq!(
            page.matches(">Stretchers<").count(),
            1,
            "one heading for the need"
        );
        let (_, _, page) = get(
            &client(),
            &mut Jar::default(),
            &node.url(&format!("/updates/{}", report.id)),
        )
        .await;
        assert!(page.contains(&format!("href=\"/needs/{}\"", need.id)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_beyond_the_initiatives_page_are_a_link_away() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "stretchers").await;
        let petro = node.app().user_by_username("petro").await.unwrap();
        // All published at the same minute (as the dashboard's field sets them): no page
        // boundary may lose one.
        let at = chrono::Utc::now() - chrono::Duration::minutes(1);
        for n in 1..=52 {
            let input = UpdateInput {
                kind: UpdateKind::News,
                body: format!("Weekly report number {n}."),
                need_id: None,
                photos: Vec::new(),
                publish_at: Some(at),
            };
            node.app()
                .post_update(&petro, "stretchers", input)
                .await
                .unwrap();
        }
        let (_, _, page) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/stretchers"),
        )
        .await;
        assert!(page.contains("Weekly report number 52."));
        assert!(page.contains("Weekly report number 3."));
        assert!(!page.contains("Weekly report number 2."), "{backend:?}");
        let start = page
            .find("href=\"/initiatives/stretchers/updates?page=2")
            .expect("a link to the older updates")
            + "href=\"".len();
        let older = &page[start..start + page[start..].find('"').unwrap()];
        let (status, _, page) = get(&client(), &mut Jar::default(), &node.url(older)).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(page.contains("<h1>Новини та звіти про витрати: "), "{page}");
        for n in [1, 2] {
            assert!(
                page.contains(&format!("Weekly report number {n}.")),
                "{page}"
            );
        }
        assert!(!page.contains("Weekly report number 3."));
        assert!(page.contains("href=\"/initiatives/stretchers#updates\""));
        assert!(
            !page.contains("/updates?page="),
            "the oldest page links no further"
        );
        // A page number that is none is the second page, not an error; one far beyond says
        // there is nothing.
        let (status, _, page) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/stretchers/updates?page=soon"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains("Weekly report number 2."));
        let (status, _, page) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/stretchers/updates?page=99999999999"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains("Давніших новин немає."));
        let (status, _, _) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/initiatives/nobody-here/updates"),
        )
        .await;
        assert_eq!(status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_page_pages_at_its_own_address() {
    let node = TestNode::spawn().await;
    users(&node).await;
    let app = node.app();
    let moderator = app.user_by_username("mod").await.unwrap();
    let petro = app.user_by_username("petro").await.unwrap();
    for n in 0..21 {
        let handle = format!("generators-{n:02}");
        let mut input = super::initiative(&handle);
        input.tags = vec!["generators".into()];
        app.submit(Some(&petro), input).await.unwrap();
        app.approve(&moderator, &handle).await.unwrap();
    }
    let (status, _, first) = get(
        &client(),
        &mut Jar::default(),
        &node.url("/tags/generators"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(first.contains("За темою #generators"), "{first}");
    assert!(
        first.contains("href=\"/tags/generators?page=2\""),
        "{first}"
    );
    let (status, _, second) = get(
        &client(),
        &mut Jar::default(),
        &node.url("/tags/generators?page=2"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        second.contains("За темою #generators"),
        "the second page is the topic's too"
    );
    assert!(
        second.contains("href=\"/tags/generators?page=1\""),
        "{second}"
    );
    let cards = |html: &str| html.matches("/initiatives/generators-").count();
    assert!(cards(&second) >= 1 && cards(&first) > cards(&second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintainers_change_a_need_after_posting_it() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "tyres").await;
        let petro = node.app().user_by_username("petro").await.unwrap();
        let need: hromada_domain::NeedInput = serde_json::from_value(serde_json::json!({
            "title": "Tyres", "category": "other",
            "target": {"amount": "28000", "currency": "UAH"}
        }))
        .unwrap();
        let need = node.app().add_need(&petro, "tyres", need).await.unwrap();
        let id = need.id.to_string();
        let mut jar = sign_in(&node, "petro").await;
        let csrf = token(&node, &mut jar, "/dashboard/tyres").await;
        let path = format!("/dashboard/needs/{id}");
        let day = |days| {
            (chrono::Utc::now() + chrono::Duration::days(days))
                .date_naive()
                .to_string()
        };
        let (tomorrow, yesterday) = (day(1), day(-1));
        let form = |target: &'static str, deadline: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("raised", "9 000".to_string()),
                ("status", "open".to_string()),
                ("title", "Winter tyres for the second van".to_string()),
                ("description", "Four, 215/65 R16.".to_string()),
                ("category", "evacuation".to_string()),
                ("target", target.to_string()),
                ("currency", "UAH".to_string()),
                ("urgency", "critical".to_string()),
                ("deadline", deadline.to_string()),
            ]
        };

        // Mistakes: every one shown at once, linked from the summary, typed values kept, the
        // form open, nothing saved.
        let (status, _, html) =
            send(&node, &mut jar, &path, &as_refs(&form("lots", &yesterday))).await;
        assert_eq!(status, 422, "{backend:?}");
        for field in ["target", "deadline"] {
            assert!(html.contains(&format!("href=\"#{id}-{field}\"")), "{field}");
            assert!(html.contains(&format!("id=\"{id}-{field}\"")), "{field}");
        }
        assert!(html.contains("<details open>"));
        assert!(
            html.contains("value=\"lots\"") && html.contains("Winter tyres for the second van")
        );
        let (_, stored) = node.app().public_need(need.id).await.unwrap();
        assert_eq!(stored, need, "nothing changed");

        let (status, location, _) =
            send(&node, &mut jar, &path, &as_refs(&form("30 000", &tomorrow))).await;
        assert_eq!(
            (status, location),
            (303, format!("/dashboard/tyres?saved=need#n-{id}"))
        );
        let (_, stored) = node.app().public_need(need.id).await.unwrap();
        assert_eq!(stored.title, "Winter tyres for the second van");
        assert_eq!(stored.urgency, hromada_domain::Urgency::Critical);
        assert_eq!(stored.category, hromada_domain::Category::Evacuation);
        assert_eq!(stored.target.as_ref().map(|m| m.amount), Some(3_000_000));
        assert_eq!(stored.raised, 900_000);
        assert_eq!(
            stored.deadline.map(|d| d.to_string()),
            Some(tomorrow.clone())
        );

        // Another currency with the raised amount sent back as it was: 9 000 UAH must not
        // become 9 000 EUR; the form asks for the amount in euros.
        // Another mistake first: the form comes back still knowing what it showed, so the
        // amount sent back after it is no change either.
        let mut mistaken = form("lots", &tomorrow);
        mistaken.push(("raised_shown", "9000.00".to_string()));
        let (status, _, html) = send(&node, &mut jar, &path, &as_refs(&mistaken)).await;
        assert_eq!(status, 422);
        assert!(
            html.contains("name=\"raised_shown\" value=\"9000.00\""),
            "{html}"
        );
        let mut in_euros = form("700", &tomorrow);
        in_euros.retain(|(k, _)| *k != "currency");
        in_euros.push(("currency", "EUR".to_string()));
        in_euros.push(("raised_shown", "9000.00".to_string()));
        let (status, _, html) = send(&node, &mut jar, &path, &as_refs(&in_euros)).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains(&format!("href=\"#{id}-raised\"")), "{html}");
        let (_, unchanged) = node.app().public_need(need.id).await.unwrap();
        assert_eq!(unchanged, stored);
        // The form came back without a shown amount: what is sent now counts, even the same.
        assert!(html.contains("name=\"raised_shown\" value=\"\""), "{html}");
        in_euros.retain(|(k, _)| *k != "raised_shown");
        let (status, _, _) = send(&node, &mut jar, &path, &as_refs(&in_euros)).await;
        assert_eq!(status, 303);
        let (_, in_eur) = node.app().public_need(need.id).await.unwrap();
        assert_eq!(
            in_eur.target.as_ref().map(|m| m.currency.as_str()),
            Some("EUR")
        );
        assert_eq!(in_eur.raised, 900_000);

        // A form with only the amount raised and the status (as before) leaves the rest.
        let (status, _, _) = send(
            &node,
            &mut jar,
            &path,
            &[("csrf", &csrf), ("raised", "12000"), ("status", "funded")],
        )
        .await;
        assert_eq!(status, 303);
        let (_, after) = node.app().public_need(need.id).await.unwrap();
        assert_eq!((after.raised, after.title), (1_200_000, stored.title));

        // Moderators see who changed it, linked to the need, once per saved change.
        let mut moderator = sign_in(&node, "mod").await;
        let (_, _, log) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        // (The moderator reads Ukrainian: "змінено" is "edited".)
        let entry =
            format!("<td>petro</td><td>змінено</td><td><a href=\"/needs/{id}\">need {id}</a>");
        assert_eq!(log.matches(&entry).count(), 3, "{backend:?}: {log}");

        // Twenty entries a page: older ones are a link away, not pushed out of sight.
        for raised in 1..=20 {
            let patch = serde_json::from_value(serde_json::json!({"raised": raised.to_string()}));
            node.app()
                .edit_need(&petro, need.id, patch.unwrap())
                .await
                .unwrap();
        }
        let linked = format!("<a href=\"/needs/{id}\">");
        let (_, _, newest) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert_eq!(newest.matches(&linked).count(), 20);
        assert!(newest.contains("href=\"/moderation?log=2#log\""));
        assert!(!newest.contains("href=\"/moderation?log=0#log\""));
        let (_, _, older) = get(&client(), &mut moderator, &node.url("/moderation?log=2")).await;
        assert_eq!(older.matches(&entry).count(), 3, "the form's three saves");
        assert!(older.contains("href=\"/moderation?log=1#log\""));
        let (status, _, _) = get(&client(), &mut moderator, &node.url("/moderation?log=x")).await;
        assert_eq!(status, 200, "an unreadable page number shows the newest");

        // A need of a submission still waiting for a moderator is changed the same way, by
        // its maintainer only.
        node.app()
            .submit(Some(&petro), initiative("waiting"))
            .await
            .unwrap();
        // Petro maintains it now.
        let petro = node.app().user_by_username("petro").await.unwrap();
        let input = serde_json::json!({"title": "Fuel", "category": "other"});
        let early = node
            .app()
            .add_need(&petro, "waiting", serde_json::from_value(input).unwrap())
            .await
            .unwrap();
        let path = format!("/dashboard/needs/{}", early.id);
        let change = [
            ("csrf", csrf.as_str()),
            ("title", "Diesel fuel"),
            ("status", "open"),
        ];
        let mut taras = sign_in(&node, "taras").await;
        let taras_csrf = token(&node, &mut taras, "/dashboard").await;
        let mut as_taras = change;
        as_taras[0].1 = &taras_csrf;
        let (status, _, _) = send(&node, &mut taras, &path, &as_taras).await;
        assert_eq!(status, 404, "{backend:?}: to others it is not there yet");
        let (status, location, html) = send(&node, &mut jar, &path, &change).await;
        assert_eq!(
            (status, location),
            (303, format!("/dashboard/waiting?saved=need#n-{}", early.id)),
            "{html}"
        );
        let stored = node.app().store().need_by_id(early.id).await.unwrap();
        assert_eq!(stored.unwrap().title, "Diesel fuel");
    }
}

/// A mirrored listing may share a local one's handle: picking one for monthly giving picks it
/// alone, and the split shares the budget between the picked listings only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monthly_giving_tells_namesakes_apart() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "medics").await;
        let local = node
            .app()
            .store()
            .initiative_by_handle("medics", None)
            .await
            .unwrap()
            .unwrap();
        let namesake = hromada_domain::Initiative {
            id: uuid::Uuid::now_v7(),
            origin: Some("other.example".into()),
            name: "Medics elsewhere".into(),
            ..local
        };
        node.app()
            .store()
            .insert_initiative(&namesake, None)
            .await
            .unwrap();
        let (_, _, offered) = get(&client(), &mut Jar::default(), &node.url("/give")).await;
        for value in ["value=\"medics\"", "value=\"medics@other.example\""] {
            assert!(offered.contains(value), "{backend:?}: {value} in {offered}");
        }
        let (status, _, split) = get(
            &client(),
            &mut Jar::default(),
            &node.url("/give?pick=medics&income=1000&currency=EUR&share=10"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            split.contains("value=\"medics\" checked")
                && !split.contains("value=\"medics@other.example\" checked"),
            "{split}"
        );
        assert!(
            split.contains("data-handle=\"medics\">")
                && split.contains("data-handle=\"medics@other.example\" hidden>"),
            "only the picked one is shown in the split: {split}"
        );
    }
}

/// A rejection needs a reason the submitter can act on; a reason the moderator must correct
/// comes back as typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_reject_a_submission_with_a_reason() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        let petro = node.app().user_by_username("petro").await.unwrap();
        node.app()
            .submit(Some(&petro), initiative("dubious"))
            .await
            .unwrap();
        let mut moderator = sign_in(&node, "mod").await;
        let csrf = token(&node, &mut moderator, "/moderation").await;
        let path = "/moderation/dubious/reject";
        let long = format!("No receipts at all. {}", "x".repeat(1_000));
        let (status, _, html) = send(
            &node,
            &mut moderator,
            path,
            &[("csrf", &csrf), ("reason", &long)],
        )
        .await;
        assert_eq!(status, 422, "{backend:?}");
        assert!(
            html.contains("id=\"reason-err-dubious\"")
                && html.contains(&format!("value=\"{long}\"")),
            "{html}"
        );
        let stored = |node: &TestNode| {
            let store = node.app().store().clone();
            async move {
                store
                    .initiative_by_handle("dubious", None)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        assert_eq!(stored(&node).await.status, InitiativeStatus::Pending);
        let (status, location, _) = send(
            &node,
            &mut moderator,
            path,
            &[("csrf", &csrf), ("reason", "No receipts at all.")],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/moderation?done=rejected")
        );
        let rejected = stored(&node).await;
        assert_eq!(rejected.status, InitiativeStatus::Rejected);
        assert_eq!(
            rejected.rejection_reason.as_deref(),
            Some("No receipts at all.")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_add_and_remove_maintainers_on_the_dashboard() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        published(&node, "bakery").await;
        let path = "/dashboard/bakery/maintainers";

        // Maintainers see who else maintains it, without the forms.
        let mut petro = sign_in(&node, "petro").await;
        let (status, _, html) = get(&client(), &mut petro, &node.url(path)).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(html.contains("<span>petro</span>"));
        assert!(!html.contains("/maintainers/petro/remove"));
        let petro_csrf = csrf_of(&html);
        let (status, _, _) = send(
            &node,
            &mut petro,
            path,
            &[("csrf", &petro_csrf), ("username", "taras")],
        )
        .await;
        assert_eq!(status, 403, "maintainers do not add maintainers");

        let mut moderator = sign_in(&node, "mod").await;
        let csrf = token(&node, &mut moderator, path).await;
        // A name that is no account: the form says so and keeps it; nothing changes.
        let (status, _, html) = send(
            &node,
            &mut moderator,
            path,
            &[("csrf", &csrf), ("username", "tarass")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("На цьому вузлі немає облікового запису tarass"));
        assert!(html.contains("value=\"tarass\""));
        // The handle as typed in the address; the page goes back to the initiative's own.
        let (status, location, _) = send(
            &node,
            &mut moderator,
            "/dashboard/Bakery/maintainers",
            &[("csrf", &csrf), ("username", "taras")],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/dashboard/bakery/maintainers?done=added")
        );
        let (_, _, html) = get(&client(), &mut moderator, &node.url(&location)).await;
        assert!(html.contains("Куратора додано."));
        assert!(html.contains("<span>taras</span>"));

        // A forged form changes nothing; a moderator's removes petro, who loses the dashboard.
        let remove = "/dashboard/bakery/maintainers/petro/remove";
        let (status, _, _) = send(&node, &mut moderator, remove, &[("csrf", "forged")]).await;
        assert_eq!(status, 403);
        let (status, _, _) = get(&client(), &mut petro, &node.url("/dashboard/bakery")).await;
        assert_eq!(status, 200);
        let (status, location, _) = send(&node, &mut moderator, remove, &[("csrf", &csrf)]).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/dashboard/bakery/maintainers?done=removed")
        );
        let (_, _, html) = get(&client(), &mut moderator, &node.url(&location)).await;
        assert!(html.contains("Куратора прибрано"));
        assert!(!html.contains("<span>petro</span>"));
        assert!(html.contains("<span>taras</span>"));
        let (status, _, _) = get(&client(), &mut petro, &node.url("/dashboard/bakery")).await;
        assert_eq!(
            status, 403,
            "petro's session goes on without this initiative"
        );
        let (status, _, _) = send(&node, &mut moderator, remove, &[("csrf", &csrf)]).await;
        assert_eq!(status, 404, "no longer a maintainer");
        let petro = node.app().user_by_username("petro").await.unwrap();
        assert!(petro.maintains.is_empty());
        // The audit log says whom.
        let (_, _, log) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert!(log.contains("прибрано куратора: petro"), "{log}");
        assert!(log.contains("додано куратора: taras"), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_change_roles_from_the_accounts_table() {
    for backend in Backend::available() {
        let node = TestNode::spawn_on(backend).await;
        users(&node).await;
        let mut admin = sign_in(&node, "admin").await;
        let (_, _, html) = get(&client(), &mut admin, &node.url("/admin")).await;
        assert!(html.contains("aria-label=\"Роль mod\""), "{backend:?}");
        assert!(
            !html.contains("aria-label=\"Роль admin\""),
            "admins do not change their own role"
        );
        let csrf = csrf_of(&html);
        let mut moderator = sign_in(&node, "mod").await;
        // With the moderator's own, valid form token.
        let moderator_csrf = token(&node, &mut moderator, "/moderation").await;
        let (status, _, _) = send(
            &node,
            &mut moderator,
            "/admin/users/role",
            &[
                ("csrf", &moderator_csrf),
                ("username", "petro"),
                ("role", "admin"),
            ],
        )
        .await;
        assert_eq!(status, 403, "moderators do not change roles");
        for role in ["overlord", ""] {
            let (status, _, _) = send(
                &node,
                &mut admin,
                "/admin/users/role",
                &[("csrf", &csrf), ("username", "mod"), ("role", role)],
            )
            .await;
            assert_eq!(status, 422, "{role:?}");
        }
        let (status, location, _) = send(
            &node,
            &mut admin,
            "/admin/users/role",
            &[("csrf", &csrf), ("username", "mod"), ("role", "maintainer")],
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/admin?done=role"));
        let (_, _, html) = get(&client(), &mut admin, &node.url(&location)).await;
        assert!(html.contains("Роль змінено"));
        let (_, _, log) = get(&client(), &mut admin, &node.url("/moderation")).await;
        assert!(log.contains("змінено роль: Модератор → Куратор"), "{log}");
        // The moderator's session goes on, as a maintainer.
        let (status, _, _) = get(&client(), &mut moderator, &node.url("/moderation")).await;
        assert_eq!(status, 403);
        let (status, _, _) = send(
            &node,
            &mut admin,
            "/admin/users/role",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("role", "maintainer"),
            ],
        )
        .await;
        assert_eq!(status, 403, "not one's own");
        let admin_user = node.app().user_by_username("admin").await.unwrap();
        assert_eq!(admin_user.role, Role::Admin);
    }
}
