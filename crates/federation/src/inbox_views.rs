//! What an initiative's maintainers read and answer: replies and mentions from the fediverse,
//! and follow requests held for approval, with what we know of their authors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hromada_store::{InboxItemKind, LocalActor, RemoteActor, StoreError};
use serde::Serialize;
use uuid::Uuid;

use crate::Inner;
use crate::network::authority;

/// Who sent something: the remote actor as last fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// The actor's id, which is also its profile link.
    pub id: String,
    /// `user@host`, when the actor document gave a `preferredUsername`.
    pub handle: Option<String>,
    pub name: Option<String>,
}

/// A reply to one of the initiative's posts, or a post mentioning it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: Uuid,
    /// `reply` or `mention`.
    pub kind: &'static str,
    pub author: Author,
    /// Sanitised HTML (the subset Mastodon keeps).
    pub content_html: String,
    /// The original post on its own server.
    pub url: String,
    /// The initiative's post it answers (one of our URLs), if any.
    pub in_reply_to: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// A follow waiting for a maintainer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowRequest {
    /// Names the request in the API (the follower's id, URL-safe base64).
    pub id: String,
    pub author: Author,
    pub requested_at: DateTime<Utc>,
}

impl FollowRequest {
    /// The follower's actor id named by a request id, if it is one.
    pub fn actor_of(id: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
        String::from_utf8(bytes).ok()
    }
}

async fn author(inner: &Inner, actor_id: &str) -> Result<Author, StoreError> {
    let cached: Option<RemoteActor> = inner.fed.remote_actor(actor_id).await?;
    let host = authority(actor_id);
    Ok(Author {
        id: actor_id.to_string(),
        handle: cached
            .as_ref()
            .and_then(|a| a.preferred_username.clone())
            .zip(host)
            .map(|(user, host)| format!("{user}@{host}")),
        name: cached.and_then(|a| a.name),
    })
}

pub(crate) async fn messages(
    inner: &Inner,
    initiative_id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<Vec<Message>, StoreError> {
    let items = inner
        .fed
        .inbox_items(Some(initiative_id), limit, offset)
        .await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let kind = match item.kind {
            InboxItemKind::Reply => "reply",
            InboxItemKind::Mention => "mention",
            InboxItemKind::Flag => continue,
        };
        out.push(Message {
            id: item.id,
            kind,
            author: author(inner, &item.actor_id).await?,
            content_html: item.content_html,
            url: item.object_id,
            in_reply_to: item.in_reply_to,
            received_at: item.received_at,
        });
    }
    Ok(out)
}

pub(crate) async fn follow_requests(
    inner: &Inner,
    initiative_id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<Vec<FollowRequest>, StoreError> {
    let pending = inner
        .fed
        .follow_requests(LocalActor::Initiative(initiative_id), limit, offset)
        .await?;
    let mut out = Vec::with_capacity(pending.len());
    for f in pending {
        out.push(FollowRequest {
            id: URL_SAFE_NO_PAD.encode(f.actor_id.as_bytes()),
            author: author(inner, &f.actor_id).await?,
            requested_at: f.created_at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_name_the_follower() {
        let actor = "https://mastodon.example/users/olena";
        let id = URL_SAFE_NO_PAD.encode(actor.as_bytes());
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(FollowRequest::actor_of(&id).as_deref(), Some(actor));
        assert_eq!(FollowRequest::actor_of("not base64!"), None);
    }
}
