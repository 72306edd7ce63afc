//! Every public URL the node federates under, built from its `public_url`.
//!
//! These strings are identities on the fediverse: once sent they must never change (Mastodon
//! matches the followers URL byte for byte and refuses reused ids).

use url::Url;
use uuid::Uuid;

/// The ActivityStreams public collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// `preferredUsername` of the instance actor; a reserved handle, so no initiative can take it.
pub const INSTANCE_USERNAME: &str = "hromada";

#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
    /// `host` or `host:port`, as in `acct:name@host`.
    authority: String,
}

impl Urls {
    /// `public_url` must be an absolute http(s) URL with a host; any path is ignored.
    pub fn new(public_url: &Url) -> Option<Self> {
        let host = public_url.host_str()?;
        if !matches!(public_url.scheme(), "http" | "https") {
            return None;
        }
        let authority = match public_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Some(Self {
            base: format!("{}://{authority}", public_url.scheme()),
            authority,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `host` or `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    pub fn actor(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}", self.base)
    }

    pub fn key_id(actor: &str) -> String {
        format!("{actor}#main-key")
    }

    pub fn inbox(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}/inbox", self.base)
    }

    pub fn outbox(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}/outbox", self.base)
    }

    pub fn followers(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}/followers", self.base)
    }

    pub fn featured(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}/featured", self.base)
    }

    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }

    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }

    /// Only its size is public, as for initiatives.
    pub fn instance_followers(&self) -> String {
        format!("{}/actor/followers", self.base)
    }

    /// The instance actor's post that a local initiative is new on this node.
    pub fn announcement(&self, handle: &str) -> String {
        format!("{}/actor/notes/new/{handle}", self.base)
    }

    /// The instance actor's post about an urgent need.
    pub fn urgent_need_post(&self, need: Uuid) -> String {
        format!("{}/actor/notes/urgent/{need}", self.base)
    }

    pub fn update(&self, id: Uuid) -> String {
        format!("{}/updates/{id}", self.base)
    }

    pub fn need(&self, id: Uuid) -> String {
        format!("{}/needs/{id}", self.base)
    }

    pub fn event(&self, id: Uuid) -> String {
        format!("{}/events/{id}", self.base)
    }

    /// A stored photo (`name` as the media pipeline made it).
    pub fn media(&self, name: &str) -> String {
        format!("{}/media/{name}", self.base)
    }

    pub fn tag(&self, tag: &str) -> String {
        format!("{}/tags/{tag}", self.base)
    }

    pub fn nodeinfo(&self) -> String {
        format!("{}/nodeinfo/2.1", self.base)
    }

    /// Whether a URL is on this node (same scheme, host and port).
    pub fn is_local(&self, url: &str) -> bool {
        url.strip_prefix(&self.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '#', '?']))
    }

    /// The handle of a local initiative actor URL (`…/initiatives/{handle}`), if it is one.
    pub fn handle_of_actor<'a>(&self, url: &'a str) -> Option<&'a str> {
        let rest = url
            .strip_prefix(&self.base)?
            .strip_prefix("/initiatives/")?;
        (!rest.is_empty() && !rest.contains(['/', '#', '?'])).then_some(rest)
    }

    /// The id of a local update, need or event URL.
    pub fn local_object(&self, url: &str) -> Option<(LocalObject, Uuid)> {
        let rest = url.strip_prefix(&self.base)?;
        let (kind, id) = rest.strip_prefix('/')?.split_once('/')?;
        let kind = match kind {
            "updates" => LocalObject::Update,
            "needs" => LocalObject::Need,
            "events" => LocalObject::Event,
            _ => return None,
        };
        Some((kind, id.parse().ok()?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalObject {
    Update,
    Need,
    Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_recognises_urls() {
        let u = Urls::new(&Url::parse("http://localhost:8080/ignored").unwrap()).unwrap();
        assert_eq!(
            u.actor("kharkiv-medics"),
            "http://localhost:8080/initiatives/kharkiv-medics"
        );
        assert_eq!(u.authority(), "localhost:8080");
        assert!(u.is_local("http://localhost:8080/updates/x"));
        assert!(!u.is_local("http://localhost:80801/updates/x"));
        assert_eq!(
            u.handle_of_actor("http://localhost:8080/initiatives/a-b"),
            Some("a-b")
        );
        assert_eq!(
            u.handle_of_actor("http://localhost:8080/initiatives/a-b/inbox"),
            None
        );
        let id = Uuid::new_v4();
        assert_eq!(u.local_object(&u.need(id)), Some((LocalObject::Need, id)));
        let https = Urls::new(&Url::parse("https://node.example").unwrap()).unwrap();
        assert_eq!(https.shared_inbox(), "https://node.example/inbox");
    }
}
