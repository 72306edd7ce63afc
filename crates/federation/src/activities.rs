//! The JSON-LD context and the activities we send: Create, Update, Delete, Accept, Reject.
//!
//! Mastodon reads payloads by compact key name (it only expands JSON-LD for LD-signed ones),
//! so the context and every key follow Mastodon's own spelling.

use serde_json::{Value, json};

use crate::urls::PUBLIC;

/// Extension terms for other Hromada nodes (structured needs, trust statements).
pub const HROMADA_NS: &str = "https://hromada.example/ns#";

/// `@context` of every document we serve or send.
pub fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "featured": {"@id": "toot:featured", "@type": "@id"},
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "webfinger": "https://purl.archive.org/socialweb/webfinger#webfinger",
            "mz": "https://joinmobilizon.org/ns#",
            "timezone": "mz:timezone",
            "hromada": HROMADA_NS,
            "need": "hromada:need",
            "Need": "hromada:Need",
            "category": "hromada:category",
            "urgency": "hromada:urgency",
            "needStatus": "hromada:needStatus",
            "targetAmount": "hromada:targetAmount",
            "raisedAmount": "hromada:raisedAmount",
            "amount": "hromada:amount",
            "currency": "hromada:currency",
            "deadline": "hromada:deadline",
            "trustStatement": "hromada:trustStatement",
            "Vouch": "hromada:Vouch",
            "Warning": "hromada:Warning",
            "initiative": {"@id": "hromada:initiative", "@type": "@id"},
            "collective": "hromada:collective",
            "statement": "hromada:statement",
            "basis": "hromada:basis",
            "reason": "hromada:reason",
            "withdrawalReason": "hromada:withdrawalReason",
            "reportCategory": "hromada:reportCategory",
            "listing": "hromada:listing",
            "listingItem": "hromada:listingItem",
            "listingObjects": "hromada:listingObjects",
            "listingStatements": "hromada:listingStatements",
            "peering": "hromada:peering"
        }
    ])
}

/// Puts `@context` first on a document built without one.
pub fn with_context(mut doc: Value) -> Value {
    if let Value::Object(map) = &mut doc {
        let mut out = serde_json::Map::with_capacity(map.len() + 1);
        out.insert("@context".into(), context());
        out.extend(std::mem::take(map));
        *map = out;
    }
    doc
}

fn str_field<'a>(object: &'a Value, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `Create` of a Note or Event (given without `@context`), addressed like the object.
pub fn create(actor: &str, followers: &str, object: Value) -> Value {
    let id = format!("{}#create", str_field(&object, "id"));
    let published = object.get("published").cloned().unwrap_or(Value::Null);
    with_context(json!({
        "id": id,
        "type": "Create",
        "actor": actor,
        "published": published,
        "to": [PUBLIC],
        "cc": [followers],
        "object": object,
    }))
}

/// `Update` of an edited object (which carries `updated`). `seq` makes each edit's id unique.
pub fn update(actor: &str, followers: &str, object: Value, seq: i64) -> Value {
    let id = format!("{}#updates/{seq}", str_field(&object, "id"));
    with_context(json!({
        "id": id,
        "type": "Update",
        "actor": actor,
        "to": [PUBLIC],
        "cc": [followers],
        "object": object,
    }))
}

/// `Delete` of an object, with a Tombstone, to the audience of the original.
pub fn delete(actor: &str, followers: &str, object_id: &str, former_type: &str) -> Value {
    with_context(json!({
        "id": format!("{object_id}#delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "cc": [followers],
        "object": {"id": object_id, "type": "Tombstone", "formerType": former_type},
    }))
}

/// `Delete` of a deleted actor by itself, in Mastodon's own shape for a deleted account.
pub fn delete_actor(actor: &str) -> Value {
    with_context(json!({
        "id": format!("{actor}#delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": actor,
    }))
}

/// `Update` of our own actor (profile edits), carrying the full actor document.
pub fn update_actor(actor_doc: Value, followers: &str, seq: i64) -> Value {
    let actor = str_field(&actor_doc, "id").to_string();
    let mut object = actor_doc;
    if let Value::Object(map) = &mut object {
        map.remove("@context");
    }
    with_context(json!({
        "id": format!("{actor}#updates/{seq}"),
        "type": "Update",
        "actor": actor,
        "to": [PUBLIC],
        "cc": [followers],
        "object": object,
    }))
}

/// `Accept` or `Reject` of a Follow, by the followed actor, embedding the Follow as received
/// (Mastodon matches an embedded Follow by its actor and object).
pub fn answer_follow(kind: &str, actor: &str, follow: &Value, unique: &str) -> Value {
    let follower = str_field(follow, "actor").to_string();
    let embedded = json!({
        "id": follow.get("id").cloned().unwrap_or(Value::Null),
        "type": "Follow",
        "actor": follower,
        "object": follow.get("object").cloned().unwrap_or(Value::Null),
    });
    with_context(json!({
        "id": format!("{actor}#{}/{unique}", kind.to_ascii_lowercase()),
        "type": kind,
        "actor": actor,
        "to": [follower],
        "object": embedded,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_is_addressed_public_and_followers() {
        let note = json!({"id": "https://n.example/updates/1", "type": "Note", "published": "2026-01-01T00:00:00Z"});
        let c = create(
            "https://n.example/initiatives/a",
            "https://n.example/initiatives/a/followers",
            note,
        );
        assert_eq!(c["@context"][0], "https://www.w3.org/ns/activitystreams");
        assert_eq!(c["id"], "https://n.example/updates/1#create");
        assert_eq!(c["to"], json!([PUBLIC]));
        assert_eq!(
            c["cc"],
            json!(["https://n.example/initiatives/a/followers"])
        );
        assert_eq!(c["published"], "2026-01-01T00:00:00Z");
        assert!(c["object"].get("@context").is_none());
    }

    #[test]
    fn accept_embeds_the_follow() {
        let follow = json!({"id": "https://m.example/1", "type": "Follow", "actor": "https://m.example/users/a", "object": "https://n.example/initiatives/x", "extra": 1});
        let a = answer_follow("Accept", "https://n.example/initiatives/x", &follow, "u1");
        assert_eq!(a["actor"], "https://n.example/initiatives/x");
        assert_eq!(a["object"]["id"], "https://m.example/1");
        assert_eq!(a["object"]["actor"], "https://m.example/users/a");
        assert_eq!(a["object"]["object"], "https://n.example/initiatives/x");
        assert!(a["object"].get("extra").is_none());
        assert_eq!(a["id"], "https://n.example/initiatives/x#accept/u1");
    }

    #[test]
    fn delete_carries_a_tombstone() {
        let d = delete(
            "https://n.example/initiatives/a",
            "https://n.example/initiatives/a/followers",
            "https://n.example/updates/1",
            "Note",
        );
        assert_eq!(d["object"]["type"], "Tombstone");
        assert_eq!(d["object"]["id"], "https://n.example/updates/1");
    }
}
