//! Objects we publish: updates and needs as `Note`, solidarity events as `Event`, and the
//! instance actor's posts for accounts that follow the node.
//!
//! Content is HTML in the subset Mastodon keeps (p, a, br, ul/li, strong, em). Hashtags are
//! `Hashtag` tags with a matching link in the content, so they are clickable and followable.

use chrono::{DateTime, SecondsFormat, Utc};
use hromada_domain::markup::{escape, markdown_to_html};
use hromada_domain::money::format_amount;
use hromada_domain::{
    Category, Event, EventPlace, Initiative, Need, NeedStatus, Update, UpdateKind,
};
use serde_json::{Value, json};
use sha2::Digest;

use crate::activities::with_context;
use crate::urls::{PUBLIC, Urls};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Hashtags of a post: its categories, the initiative's own tags, and #Ukraine (at most six).
fn hashtags(categories: &[Category], tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let candidates = categories
        .iter()
        .map(|c| c.hashtag())
        .chain(tags.iter().cloned())
        .chain(["Ukraine".to_string()]);
    for tag in candidates {
        let tag: String = tag
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !tag.is_empty() && !out.iter().any(|t| t.eq_ignore_ascii_case(&tag)) && out.len() < 6 {
            out.push(tag);
        }
    }
    out
}

/// The `tag` array and the paragraph of hashtag links that goes at the end of the content.
fn tag_parts(urls: &Urls, tags: &[String]) -> (Vec<Value>, String) {
    let mut values = Vec::new();
    let mut links = Vec::new();
    for tag in tags {
        let href = urls.tag(&tag.to_lowercase());
        values.push(json!({"type": "Hashtag", "name": format!("#{tag}"), "href": href}));
        links.push(format!(
            r#"<a href="{}" class="mention hashtag" rel="tag">#<span>{}</span></a>"#,
            escape(&href),
            escape(tag)
        ));
    }
    (values, format!("<p>{}</p>", links.join(" ")))
}

/// The fields every post shares: addressing, attribution, dates, content and tags.
fn post(
    urls: &Urls,
    i: &Initiative,
    id: &str,
    kind: &str,
    content: String,
    tags: &[String],
    (published, updated): (DateTime<Utc>, Option<DateTime<Utc>>),
) -> serde_json::Map<String, Value> {
    let (tag, tag_links) = tag_parts(urls, tags);
    let content = format!("{content}{tag_links}");
    let mut map = serde_json::Map::new();
    map.insert("id".into(), json!(id));
    map.insert("type".into(), json!(kind));
    map.insert("attributedTo".into(), json!(urls.actor(i.handle.as_str())));
    map.insert("to".into(), json!([PUBLIC]));
    map.insert("cc".into(), json!([urls.followers(i.handle.as_str())]));
    map.insert("published".into(), json!(rfc3339(published)));
    if let Some(updated) = updated {
        map.insert("updated".into(), json!(rfc3339(updated)));
    }
    map.insert("url".into(), json!(id));
    map.insert("sensitive".into(), json!(false));
    map.insert("content".into(), json!(content));
    map.insert("tag".into(), json!(tag));
    map
}

/// An update or spending report as a `Note`.
pub fn update_note(
    urls: &Urls,
    i: &Initiative,
    u: &Update,
    published: DateTime<Utc>,
    updated: Option<DateTime<Utc>>,
) -> Value {
    let mut content = markdown_to_html(&u.body);
    if let UpdateKind::SpendingReport { items } = &u.kind {
        content.push_str("<p><strong>Spending report</strong></p><ul>");
        for item in items {
            content.push_str(&format!(
                "<li>{}: {}</li>",
                escape(&item.what),
                escape(&item.amount.to_string())
            ));
        }
        content.push_str("</ul>");
        let totals: Vec<String> = u.report_totals().iter().map(ToString::to_string).collect();
        content.push_str(&format!("<p>Total: {}</p>", escape(&totals.join(" + "))));
    }
    if let Some(need) = u.need_id {
        let href = urls.need(need);
        content.push_str(&format!(
            r#"<p>About this need: <a href="{0}">{0}</a></p>"#,
            escape(&href)
        ));
    }
    let tags = hashtags(&i.categories, &i.tags);
    let mut map = post(
        urls,
        i,
        &urls.update(u.id),
        "Note",
        content,
        &tags,
        (published, updated),
    );
    if !u.photos.is_empty() {
        // Mastodon keeps at most four attachments; the rest stay on the update's page.
        let photos: Vec<Value> = u
            .photos
            .iter()
            .take(4)
            .map(|p| {
                json!({
                    "type": "Document",
                    "mediaType": "image/jpeg",
                    "url": format!("{}/media/{}", urls.base(), p.name),
                    "name": p.alt,
                    "width": p.width,
                    "height": p.height,
                })
            })
            .collect();
        map.insert("attachment".into(), json!(photos));
    }
    Value::Object(map)
}

/// A need as a `Note` that Mastodon shows, plus a structured `need` for other Hromada nodes.
pub fn need_note(
    urls: &Urls,
    i: &Initiative,
    n: &Need,
    published: DateTime<Utc>,
    updated: Option<DateTime<Utc>>,
) -> Value {
    let status = match n.status {
        NeedStatus::Open => "Open",
        NeedStatus::Funded => "Funded",
        NeedStatus::Delivered => "Delivered",
        NeedStatus::Cancelled => "Cancelled",
    };
    let mut content = format!("<p><strong>Need: {}</strong></p>", escape(&n.title));
    if !n.description.is_empty() {
        content.push_str(&markdown_to_html(&n.description));
    }
    let mut facts = vec![
        format!("Status: {status}"),
        format!("Urgency: {}", n.urgency.code()),
    ];
    if let Some(target) = &n.target {
        let mut money = format!(
            "Target: {target}, raised {} {}",
            format_amount(n.raised),
            target.currency
        );
        if let Some(p) = n.progress_percent() {
            money.push_str(&format!(" ({p}%)"));
        }
        facts.push(money);
    }
    if let Some(deadline) = n.deadline {
        facts.push(format!("Deadline: {deadline}"));
    }
    content.push_str(&format!("<p>{}</p>", escape(&facts.join(" · "))));
    let page = urls.actor(i.handle.as_str());
    content.push_str(&format!(
        r#"<p>How to help: <a href="{0}#donate">{0}</a></p>"#,
        escape(&page)
    ));
    let tags = hashtags(&[n.category], &i.tags);
    let mut map = post(
        urls,
        i,
        &urls.need(n.id),
        "Note",
        content,
        &tags,
        (published, updated),
    );
    map.insert("name".into(), json!(n.title));
    map.insert(
        "need".into(),
        json!({
            "type": "Need",
            "category": n.category.code(),
            "urgency": n.urgency.code(),
            "needStatus": n.status.code(),
            "targetAmount": n.target.as_ref().map(|t| json!({"amount": format_amount(t.amount), "currency": t.currency.as_str()})),
            "raisedAmount": format_amount(n.raised),
            "deadline": n.deadline.map(|d| d.to_string()),
        }),
    );
    Value::Object(map)
}

/// A solidarity event as an `Event`. Mastodon shows only name, summary and a link, so the
/// summary carries the date, time and place as text.
pub fn event_object(
    urls: &Urls,
    i: &Initiative,
    e: &Event,
    published: DateTime<Utc>,
    updated: Option<DateTime<Utc>>,
) -> Value {
    let when = match e.ends_at {
        Some(end) => format!("{} – {}", e.local_start(), local_time(end, &e.timezone)),
        None => e.local_start(),
    };
    let mut summary = String::new();
    if e.cancelled {
        summary.push_str("<p><strong>Cancelled</strong></p>");
    }
    summary.push_str(&format!(
        "<p>{} · {}</p>",
        escape(&when),
        escape(&e.place.label())
    ));
    summary.push_str(&format!("<p>Organised by {}</p>", escape(&e.organiser)));
    let content = format!("{summary}{}", markdown_to_html(&e.description));
    let tags = hashtags(&i.categories, &i.tags);
    let mut map = post(
        urls,
        i,
        &urls.event(e.id),
        "Event",
        content,
        &tags,
        (published, updated),
    );
    map.insert(
        "name".into(),
        json!(if e.cancelled {
            format!("Cancelled: {}", e.title)
        } else {
            e.title.clone()
        }),
    );
    map.insert("summary".into(), json!(summary));
    map.insert("startTime".into(), json!(rfc3339(e.starts_at)));
    if let Some(end) = e.ends_at {
        map.insert("endTime".into(), json!(rfc3339(end)));
    }
    map.insert("timezone".into(), json!(e.timezone));
    let location = match &e.place {
        EventPlace::City {
            city,
            country,
            venue,
        } => json!({
            "type": "Place",
            "name": venue.clone().unwrap_or_else(|| city.clone()),
            "address": {"type": "PostalAddress", "addressLocality": city, "addressCountry": country},
        }),
        EventPlace::Online { url } => json!({"type": "VirtualLocation", "url": url}),
    };
    map.insert("location".into(), location);
    Value::Object(map)
}

fn local_time(t: DateTime<Utc>, timezone: &str) -> String {
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// The instance actor's post that a local initiative is new here (sent once, when it is first
/// published; `published` is that moment).
pub fn announcement_note(
    urls: &Urls,
    node_name: &str,
    i: &Initiative,
    published: DateTime<Utc>,
) -> Value {
    let actor = urls.actor(i.handle.as_str());
    let content = format!(
        r#"<p>New on {}: <a href="{actor}">{}</a></p><p>{}</p>"#,
        escape(node_name),
        escape(&i.name),
        escape(&i.summary)
    );
    instance_note(
        urls,
        urls.announcement(i.handle.as_str()),
        actor,
        content,
        published,
    )
}

/// The key of the record ([`hromada_store::PublishedMark`]) that the instance actor's post
/// about an urgent need went out, and when: one per need, derived from its id.
pub fn urgent_post_id(need_id: uuid::Uuid) -> uuid::Uuid {
    let digest = sha2::Sha256::digest(format!("hromada-urgent-post:{need_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The instance actor's post about a need of urgency high or critical, `published` when it went
/// out (the need's creation, or the edit that made it urgent), as recorded, so the note served
/// later is the note sent.
pub fn urgent_need_note(
    urls: &Urls,
    i: &Initiative,
    need: &Need,
    published: DateTime<Utc>,
) -> Value {
    let page = urls.need(need.id);
    let content = format!(
        r#"<p>Urgent need of <a href="{}">{}</a>: <a href="{page}">{}</a></p>"#,
        urls.actor(i.handle.as_str()),
        escape(&i.name),
        escape(&need.title)
    );
    instance_note(
        urls,
        urls.urgent_need_post(need.id),
        page,
        content,
        published,
    )
}

fn instance_note(
    urls: &Urls,
    id: String,
    url: String,
    content: String,
    published: DateTime<Utc>,
) -> Value {
    json!({
        "id": id,
        "type": "Note",
        "attributedTo": urls.instance_actor(),
        "url": url,
        "to": [PUBLIC],
        "cc": [urls.instance_followers()],
        "published": rfc3339(published),
        "content": content,
        "tag": [{"type": "Hashtag", "name": "#Ukraine", "href": urls.tag("ukraine")}],
    })
}

/// What a deleted object's URL serves (with status 410).
pub fn tombstone(id: &str, former_type: &str) -> Value {
    with_context(json!({"id": id, "type": "Tombstone", "formerType": former_type}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::tests::{initiative, urls};
    use hromada_domain::{EventInput, NeedInput, UpdateInput};
    use uuid::Uuid;

    #[test]
    fn update_note_is_a_public_note_with_hashtags() {
        let i = initiative();
        let input: UpdateInput = serde_json::from_value(
            json!({"kind": "news", "body": "Bought **two** kits.\n\n<script>x</script>"}),
        )
        .unwrap();
        let u = Update::new(Uuid::new_v4(), i.id, input, Utc::now()).unwrap();
        let n = update_note(&urls(), &i, &u, Utc::now(), None);
        assert_eq!(n["type"], "Note");
        assert_eq!(
            n["attributedTo"],
            "https://node.example/initiatives/kharkiv-medics"
        );
        assert_eq!(n["to"], json!([PUBLIC]));
        assert_eq!(
            n["cc"],
            json!(["https://node.example/initiatives/kharkiv-medics/followers"])
        );
        let content = n["content"].as_str().unwrap();
        assert!(
            content.contains("<strong>two</strong>") && !content.contains("<script>"),
            "{content}"
        );
        assert!(content.contains(r#"<a href="https://node.example/tags/medical" class="mention hashtag" rel="tag">#<span>Medical</span></a>"#), "{content}");
        let tags: Vec<&str> = n["tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["#Medical", "#Equipment", "#ifak", "#Ukraine"]);
        assert_eq!(n["tag"][0]["type"], "Hashtag");
        // The initiative's languages say nothing certain about one post's language.
        assert!(n.get("contentMap").is_none());
        assert!(n.get("updated").is_none());
        assert!(
            n.get("inReplyTo").is_none(),
            "top-level posts reach home timelines"
        );
    }

    #[test]
    fn spending_report_lists_items_and_total() {
        let i = initiative();
        let input: UpdateInput = serde_json::from_value(
            json!({"kind": "spending_report", "body": "Report", "items": [
            {"what": "Tourniquet", "amount": {"amount": "1200", "currency": "UAH"}},
            {"what": "Bandage", "amount": {"amount": "300.50", "currency": "UAH"}}],
            "photos": [{"name": "0123456789abcdef0123456789abcdef.jpg", "alt": "Receipt", "width": 800, "height": 600}]}),
        )
        .unwrap();
        let u = Update::new(Uuid::new_v4(), i.id, input, Utc::now()).unwrap();
        let note = update_note(&urls(), &i, &u, Utc::now(), Some(Utc::now()));
        assert_eq!(
            note["attachment"],
            json!([{"type": "Document", "mediaType": "image/jpeg",
                "url": "https://node.example/media/0123456789abcdef0123456789abcdef.jpg",
                "name": "Receipt", "width": 800, "height": 600}])
        );
        assert!(note["updated"].is_string());
        let content = note["content"].as_str().unwrap().to_string();
        assert!(
            content.contains("<li>Tourniquet: 1200.00 UAH</li>"),
            "{content}"
        );
        assert!(content.contains("Total: 1500.50 UAH"), "{content}");
    }

    #[test]
    fn need_note_has_text_and_structure() {
        let i = initiative();
        let input: NeedInput = serde_json::from_value(json!({"title": "Generator", "category": "equipment",
            "target": {"amount": "40000", "currency": "UAH"}, "raised": "10000", "urgency": "critical"})).unwrap();
        let need = Need::new(Uuid::new_v4(), i.id, input, Utc::now()).unwrap();
        let n = need_note(&urls(), &i, &need, Utc::now(), None);
        let content = n["content"].as_str().unwrap();
        assert!(
            content.contains("Need: Generator") && content.contains("raised 10000.00 UAH (25%)"),
            "{content}"
        );
        assert_eq!(
            n["need"]["targetAmount"],
            json!({"amount": "40000.00", "currency": "UAH"})
        );
        assert_eq!(n["need"]["needStatus"], "open");
        assert_eq!(n["tag"][0]["name"], "#Equipment");
    }

    #[test]
    fn event_summary_carries_time_and_place() {
        let i = initiative();
        let input: EventInput = serde_json::from_value(
            json!({"title": "Benefit concert", "starts_at": "2026-12-12T18:00:00Z",
            "ends_at": "2026-12-12T21:00:00Z", "timezone": "Europe/Berlin",
            "place": {"kind": "city", "city": "Berlin", "country": "DE"}, "organiser": "Soli"}),
        )
        .unwrap();
        let e = Event::new(Uuid::new_v4(), i.id, input, Utc::now()).unwrap();
        let o = event_object(&urls(), &i, &e, Utc::now(), None);
        assert_eq!(o["type"], "Event");
        assert_eq!(o["name"], "Benefit concert");
        assert_eq!(
            o["summary"],
            "<p>2026-12-12 19:00 CET – 2026-12-12 22:00 CET · Berlin (DE)</p><p>Organised by Soli</p>"
        );
        assert_eq!(o["location"]["address"]["addressLocality"], "Berlin");
        assert_eq!(o["startTime"], "2026-12-12T18:00:00Z");
        assert_eq!(o["url"], o["id"]);
    }
}
