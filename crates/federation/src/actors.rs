//! Actor documents: each public initiative is a `Group`, the node itself an `Application`.

use hromada_domain::markup::escape;
use hromada_domain::{DonationKind, Initiative, InitiativeStatus, Photo};
use serde_json::{Value, json};

use crate::activities::with_context;
use crate::urls::{INSTANCE_USERNAME, Urls};

/// Whether an initiative has an actor at all: pending and rejected submissions never do.
pub fn has_actor(i: &Initiative) -> bool {
    i.is_local() && i.status.is_public()
}

/// Whether new posts of the initiative go out (archived ones keep their actor but stay quiet).
pub fn publishes(i: &Initiative) -> bool {
    i.is_local()
        && matches!(
            i.status,
            InitiativeStatus::Published | InitiativeStatus::Paused
        )
}

/// The `Group` actor of an initiative.
pub fn group(urls: &Urls, i: &Initiative, public_key_pem: &str) -> Value {
    let id = urls.actor(i.handle.as_str());
    let mut summary = format!("<p>{}</p>", escape(&i.summary));
    match i.status {
        InitiativeStatus::Paused => {
            summary.push_str("<p>Paused: not collecting at the moment.</p>")
        }
        InitiativeStatus::Archived => {
            summary.push_str("<p>Archived: this initiative is no longer active.</p>")
        }
        _ => {}
    }
    let published = i.published_at.unwrap_or(i.created_at);
    let picture = |p: &Option<Photo>| match p {
        Some(p) => json!({"type": "Image", "mediaType": "image/jpeg", "url": urls.media(&p.name)}),
        None => Value::Null,
    };
    let mut group = json!({
        "id": id,
        "type": "Group",
        "preferredUsername": i.handle.as_str(),
        "name": i.name,
        "summary": summary,
        "url": id,
        "inbox": urls.inbox(i.handle.as_str()),
        "outbox": urls.outbox(i.handle.as_str()),
        "followers": urls.followers(i.handle.as_str()),
        "featured": urls.featured(i.handle.as_str()),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {"id": Urls::key_id(&id), "owner": id, "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": i.manually_approves_followers,
        "discoverable": i.discoverable,
        "indexable": i.discoverable,
        "published": published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated": i.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "attachment": profile_fields(&id, i),
        "webfinger": format!("{}@{}", i.handle, urls.authority()),
    });
    // Absent rather than null: some software chokes on `"icon": null`.
    for (key, photo) in [("icon", &i.avatar), ("image", &i.header)] {
        if photo.is_some() {
            group[key] = picture(photo);
        }
    }
    with_context(group)
}

/// Profile fields Mastodon shows under the bio: Website (verified by rel=me), Donate, Region.
fn profile_fields(page: &str, i: &Initiative) -> Vec<Value> {
    let mut fields = Vec::new();
    let link = |href: &str, rel: &str| {
        let shown = href
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        format!(
            r#"<a href="{}" rel="{rel}" target="_blank">{}</a>"#,
            escape(href),
            escape(shown)
        )
    };
    if let Some(website) = &i.website {
        fields.push(json!({"type": "PropertyValue", "name": "Website", "value": link(website, "me nofollow noopener noreferrer")}));
    }
    // A direct donation link when there is one; otherwise the page's list of donation methods.
    let donate = i
        .donation_methods
        .iter()
        .find_map(|m| match &m.details {
            DonationKind::Jar { url } | DonationKind::Platform { url, .. } => Some(url.clone()),
            DonationKind::Paypal { account } if account.starts_with("https://") => {
                Some(account.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| format!("{page}#donate"));
    if !i.donation_methods.is_empty() {
        fields.push(json!({"type": "PropertyValue", "name": "Donate", "value": link(&donate, "nofollow noopener noreferrer")}));
    }
    if !i.regions.is_empty() {
        let regions: Vec<String> = i.regions.iter().map(|r| r.label_en()).collect();
        fields.push(json!({"type": "PropertyValue", "name": "Region", "value": escape(&regions.join("; "))}));
    }
    fields
}

/// The node's own actor (FEP-2677): signs fetches, reports and node follows, and posts news of
/// the node to the fediverse accounts that follow it.
pub fn instance(
    urls: &Urls,
    node_name: &str,
    node_description: &str,
    public_key_pem: &str,
) -> Value {
    let id = urls.instance_actor();
    with_context(json!({
        "id": id,
        "type": "Application",
        "preferredUsername": INSTANCE_USERNAME,
        "name": node_name,
        "summary": format!("<p>{}</p>", escape(node_description)),
        "url": format!("{}/", urls.base()),
        "inbox": urls.shared_inbox(),
        "followers": urls.instance_followers(),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {"id": Urls::key_id(&id), "owner": id, "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": false,
        "discoverable": false,
        "indexable": false,
        "webfinger": format!("{INSTANCE_USERNAME}@{}", urls.authority()),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::Utc;
    use hromada_domain::InitiativeInput;
    use url::Url;
    use uuid::Uuid;

    pub(crate) fn initiative() -> Initiative {
        let input: InitiativeInput = serde_json::from_value(json!({
            "handle": "kharkiv-medics",
            "name": "Kharkiv Medics",
            "summary": "Tactical medicine kits <for> volunteers",
            "categories": ["medical", "equipment"],
            "tags": ["ifak"],
            "regions": [{"kind": "ukraine", "oblast": "kharkiv", "city": "Izium"}],
            "languages": ["uk"],
            "website": "https://medics.example/",
            "donation_methods": [{"kind": "jar", "url": "https://send.monobank.ua/jar/abc"}]
        }))
        .unwrap();
        let mut i = Initiative::submit(Uuid::new_v4(), input.validate().unwrap(), Utc::now());
        i.change_status(InitiativeStatus::Published, Utc::now())
            .unwrap();
        i
    }

    pub(crate) fn urls() -> Urls {
        Urls::new(&Url::parse("https://node.example").unwrap()).unwrap()
    }

    #[test]
    fn group_actor_has_what_mastodon_reads() {
        let a = group(&urls(), &initiative(), "PEM");
        assert_eq!(a["@context"][0], "https://www.w3.org/ns/activitystreams");
        assert_eq!(a["type"], "Group");
        assert_eq!(a["id"], "https://node.example/initiatives/kharkiv-medics");
        assert_eq!(a["preferredUsername"], "kharkiv-medics");
        assert_eq!(
            a["inbox"],
            "https://node.example/initiatives/kharkiv-medics/inbox"
        );
        assert_eq!(a["endpoints"]["sharedInbox"], "https://node.example/inbox");
        assert_eq!(
            a["publicKey"]["id"],
            "https://node.example/initiatives/kharkiv-medics#main-key"
        );
        assert_eq!(a["publicKey"]["owner"], a["id"]);
        assert_eq!(a["url"], a["id"], "url must be on the same host as id");
        assert_eq!(
            a["summary"],
            "<p>Tactical medicine kits &lt;for&gt; volunteers</p>"
        );
        assert_eq!(a["manuallyApprovesFollowers"], false);
        assert_eq!(a["discoverable"], true);
        assert_eq!(a["indexable"], true);
        assert_eq!(
            a["featured"],
            "https://node.example/initiatives/kharkiv-medics/featured"
        );
        let fields = a["attachment"].as_array().unwrap();
        assert_eq!(fields[0]["type"], "PropertyValue");
        assert_eq!(fields[0]["name"], "Website");
        assert!(fields[0]["value"].as_str().unwrap().contains(r#"rel="me"#));
        assert_eq!(fields[1]["name"], "Donate");
        assert!(
            fields[1]["value"]
                .as_str()
                .unwrap()
                .contains("https://send.monobank.ua/jar/abc")
        );
        assert_eq!(fields[2]["value"], "Izium, Kharkiv oblast");
        assert_eq!(a["webfinger"], "kharkiv-medics@node.example");
        assert!(a.get("icon").is_none() && a.get("image").is_none());
    }

    #[test]
    fn avatar_and_header_are_icon_and_image() {
        let mut i = initiative();
        let photo = |name: &str, width, height| Photo {
            name: name.into(),
            alt: String::new(),
            width,
            height,
        };
        i.avatar = Some(photo("0123456789abcdef0123456789abcdef.jpg", 400, 400));
        i.header = Some(photo("fedcba9876543210fedcba9876543210.jpg", 1500, 500));
        let a = group(&urls(), &i, "PEM");
        assert_eq!(
            a["icon"],
            json!({"type": "Image", "mediaType": "image/jpeg",
                "url": "https://node.example/media/0123456789abcdef0123456789abcdef.jpg"})
        );
        assert_eq!(
            a["image"],
            json!({"type": "Image", "mediaType": "image/jpeg",
                "url": "https://node.example/media/fedcba9876543210fedcba9876543210.jpg"})
        );
    }

    #[test]
    fn instance_actor_is_an_application() {
        let a = instance(&urls(), "Node", "About", "PEM");
        assert_eq!(a["type"], "Application");
        assert_eq!(a["id"], "https://node.example/actor");
        assert_eq!(a["preferredUsername"], INSTANCE_USERNAME);
        assert!(
            hromada_domain::Handle::is_reserved(INSTANCE_USERNAME),
            "no initiative may take this name"
        );
    }
}
