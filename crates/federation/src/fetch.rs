//! Outgoing GETs: the HTTP clients, signed fetch with the instance actor, limits on size,
//! time and redirects, and reading remote actors.

use std::sync::Arc;
use std::time::Duration;

use activitypub_federation::resolver::ValidatingDnsResolver;
use chrono::Utc;
use hromada_store::{LocalActor, RemoteActor};
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, USER_AGENT};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::dns::CachingResolver;
use crate::keys::Keys;
use crate::safety::{UnsafeUrl, check_url};
use crate::signing::{HttpSigner, SigningKey};
use crate::urls::Urls;

const AP_ACCEPT: &str = r#"application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused URL {0}: {1}")]
    Unsafe(String, UnsafeUrl),
    #[error("{0} is gone (410)")]
    Gone(String),
    #[error("{0} answered {1}")]
    Status(String, u16),
    #[error("{0}: {1}")]
    Network(String, String),
    #[error("{0}: response larger than {1} bytes")]
    TooLarge(String, usize),
    #[error("{0}: too many redirects")]
    Redirects(String),
    #[error("{0}: unexpected content type ({1})")]
    NotActivityPub(String, String),
    #[error("{0}: {1}")]
    Invalid(String, String),
    #[error("signing the fetch failed: {0}")]
    Sign(String),
}

impl FetchError {
    /// The remote answered, and asking again would get the same: not found, refused, not an
    /// ActivityPub document, or not a valid one; or the URL is one we never fetch. A network
    /// failure, a server error or a rate limit may pass.
    pub fn is_final(&self) -> bool {
        match self {
            FetchError::Status(_, status) => {
                (400..500).contains(status) && !matches!(status, 408 | 429)
            }
            FetchError::Gone(_)
            | FetchError::Unsafe(..)
            | FetchError::TooLarge(..)
            | FetchError::Redirects(_)
            | FetchError::NotActivityPub(..)
            | FetchError::Invalid(..) => true,
            FetchError::Network(..) | FetchError::Sign(_) => false,
        }
    }
}

/// Limits for outgoing requests.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub max_body_bytes: usize,
    pub max_redirects: usize,
}

/// A reqwest client that refuses internal addresses at connect time (unless allowed), reuses
/// a name's checked addresses for a while (see [`crate::dns`]) and never follows redirects by
/// itself (each hop is checked by [`Fetcher`]).
pub fn client(
    user_agent: &str,
    timeout: Duration,
    allow_private_networks: bool,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .dns_resolver(Arc::new(CachingResolver::new(ValidatingDnsResolver::new(
            Vec::new(),
            !allow_private_networks,
        ))))
        .build()
}

pub struct Fetcher {
    client: reqwest::Client,
    signer: Arc<dyn HttpSigner>,
    keys: Arc<Keys>,
    urls: Urls,
    limits: FetchLimits,
    allow_private_networks: bool,
    user_agent: String,
}

/// A fetched JSON document and the URL it finally came from.
#[derive(Debug)]
pub struct Fetched {
    pub url: Url,
    pub json: Value,
}

impl Fetcher {
    pub fn new(
        client: reqwest::Client,
        signer: Arc<dyn HttpSigner>,
        keys: Arc<Keys>,
        urls: Urls,
        limits: FetchLimits,
        allow_private_networks: bool,
        user_agent: String,
    ) -> Self {
        Self {
            client,
            signer,
            keys,
            urls,
            limits,
            allow_private_networks,
            user_agent,
        }
    }

    /// The User-Agent of every request this node makes.
    pub(crate) fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// GETs an ActivityPub document, signed as the instance actor (so servers in
    /// authorized-fetch mode answer), following at most `max_redirects` checked redirects.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get_as(
            url,
            AP_ACCEPT,
            &["application/activity+json", "application/ld+json"],
        )
        .await
    }

    /// GETs a plain JSON document (NodeInfo, WebFinger), with the same checks and limits.
    pub async fn get_json(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get_as(
            url,
            "application/json, application/jrd+json",
            &["application/json", "application/jrd+json"],
        )
        .await
    }

    /// GETs a picture (JPEG, PNG or WebP) of at most `max_bytes`, signed like every fetch and
    /// with the same address, redirect and time limits. Returns the URL it came from (after
    /// redirects) and the raw bytes: the caller must re-encode them before anything is stored
    /// or served.
    pub async fn get_image(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<(Url, Vec<u8>), FetchError> {
        self.get_bytes(
            url,
            "image/jpeg, image/png, image/webp",
            &["image/jpeg", "image/png", "image/webp"],
            max_bytes,
        )
        .await
    }

    async fn get_as(
        &self,
        url: &str,
        accept: &str,
        content_types: &[&str],
    ) -> Result<Fetched, FetchError> {
        let (url, body) = self
            .get_bytes(url, accept, content_types, self.limits.max_body_bytes)
            .await?;
        // PostgreSQL cannot store NUL characters; nothing of ours needs them.
        let body = hromada_domain::validation::json_without_nul(&body);
        let json = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Invalid(url.to_string(), e.to_string()))?;
        Ok(Fetched { url, json })
    }

    async fn get_bytes(
        &self,
        url: &str,
        accept: &str,
        content_types: &[&str],
        max_bytes: usize,
    ) -> Result<(Url, Vec<u8>), FetchError> {
        let mut url =
            Url::parse(url).map_err(|e| FetchError::Invalid(url.to_string(), e.to_string()))?;
        url.set_fragment(None);
        let instance = self
            .keys
            .get(LocalActor::Instance)
            .await
            .map_err(|e| FetchError::Sign(e.to_string()))?;
        let actor_id = self.urls.instance_actor();
        let key = SigningKey {
            key_id: Urls::key_id(&actor_id),
            actor_id,
            keypair: instance,
        };
        for _ in 0..=self.limits.max_redirects {
            check_url(&url, self.allow_private_networks)
                .map_err(|e| FetchError::Unsafe(url.to_string(), e))?;
            let signature = self
                .signer
                .sign_get(&key, &url)
                .await
                .map_err(|e| FetchError::Sign(e.to_string()))?;
            let response = self
                .client
                .get(url.clone())
                .headers(signature)
                .header(ACCEPT, accept)
                .header(USER_AGENT, &self.user_agent)
                .send()
                .await
                .map_err(|e| FetchError::Network(url.to_string(), e.to_string()))?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| {
                        FetchError::Invalid(url.to_string(), "redirect without Location".into())
                    })?;
                url = next;
                continue;
            }
            if status.as_u16() == 410 {
                return Err(FetchError::Gone(url.to_string()));
            }
            if !status.is_success() {
                return Err(FetchError::Status(url.to_string(), status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let essence = content_type.split(';').next().unwrap_or("").trim();
            if !content_types.contains(&essence) {
                return Err(FetchError::NotActivityPub(url.to_string(), content_type));
            }
            let body = read_limited(response, max_bytes, &url).await?;
            return Ok((url, body));
        }
        Err(FetchError::Redirects(url.to_string()))
    }

    /// Fetches a remote actor by its id or by one of its key ids (`…#main-key`, or a separate
    /// key document whose `owner` is the actor). The document's `id` must be the URL it came
    /// from, and its key must belong to it.
    pub async fn actor(&self, id_or_key: &str) -> Result<RemoteActor, FetchError> {
        let fetched = self.get(id_or_key).await?;
        let (doc, url) = match serde_json::from_value::<ActorDoc>(fetched.json.clone()) {
            Ok(doc) if doc.inbox.is_some() => (doc, fetched.url),
            _ => {
                // A key document: follow it to its owner, once.
                let key: KeyDoc = serde_json::from_value(fetched.json).map_err(|e| {
                    FetchError::Invalid(id_or_key.to_string(), format!("not an actor: {e}"))
                })?;
                let owner = self.get(&key.owner).await?;
                let doc = serde_json::from_value::<ActorDoc>(owner.json).map_err(|e| {
                    FetchError::Invalid(key.owner.clone(), format!("not an actor: {e}"))
                })?;
                (doc, owner.url)
            }
        };
        // Like Mastodon: a document is only trusted as what its own URL says it is.
        if doc.id != url.as_str() {
            return Err(FetchError::Invalid(
                url.to_string(),
                format!("document id {} differs from its URL", doc.id),
            ));
        }
        let actor = doc.into_remote()?;
        if !same_origin(&actor.id, id_or_key) {
            return Err(FetchError::Invalid(
                id_or_key.to_string(),
                "actor is on another host".into(),
            ));
        }
        Ok(actor)
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
    url: &Url,
) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(FetchError::TooLarge(url.to_string(), max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Network(url.to_string(), e.to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(url.to_string(), max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Same scheme, host and port.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// An actor document as other software sends it (only what we use; the rest is ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorDoc {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Value,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub inbox: Option<String>,
    pub endpoints: Option<Endpoints>,
    pub public_key: Option<OneOrMany<PublicKeyDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyDoc {
    pub id: String,
    pub owner: Option<String>,
    pub public_key_pem: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDoc {
    owner: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl ActorDoc {
    /// Checks and condenses the document: an actor with an inbox and its own RSA key.
    pub fn into_remote(self) -> Result<RemoteActor, FetchError> {
        let bad = |why: &str| FetchError::Invalid(self.id.clone(), why.to_string());
        let kind = match &self.kind {
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .next()
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        };
        if !matches!(
            kind.as_str(),
            "Person" | "Service" | "Application" | "Group" | "Organization"
        ) {
            return Err(bad("not an actor type"));
        }
        let inbox = self
            .inbox
            .clone()
            .filter(|i| !i.is_empty())
            .ok_or_else(|| bad("actor without inbox"))?;
        let keys = match self.public_key {
            Some(OneOrMany::One(k)) => vec![k],
            Some(OneOrMany::Many(k)) => k,
            None => Vec::new(),
        };
        let key = keys
            .into_iter()
            .find(|k| {
                k.owner.as_deref().is_none_or(|o| o == self.id) && same_origin(&k.id, &self.id)
            })
            .ok_or_else(|| bad("actor without a public key of its own"))?;
        let shared_inbox = self
            .endpoints
            .and_then(|e| e.shared_inbox)
            .filter(|s| !s.is_empty());
        for url in std::iter::once(&inbox).chain(shared_inbox.as_ref()) {
            if Url::parse(url).is_err() {
                return Err(bad("inbox is not a URL"));
            }
        }
        Ok(RemoteActor {
            id: self.id,
            kind,
            preferred_username: self.preferred_username,
            name: self.name,
            inbox,
            shared_inbox,
            key_id: key.id,
            public_key_pem: key.public_key_pem,
            fetched_at: Utc::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_mastodon_actor() {
        let doc: ActorDoc = serde_json::from_value(json!({
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": "https://m.example/users/alice",
            "type": "Person",
            "preferredUsername": "alice",
            "inbox": "https://m.example/users/alice/inbox",
            "endpoints": {"sharedInbox": "https://m.example/inbox"},
            "publicKey": {"id": "https://m.example/users/alice#main-key", "owner": "https://m.example/users/alice", "publicKeyPem": "PEM"}
        }))
        .unwrap();
        let a = doc.into_remote().unwrap();
        assert_eq!(a.shared_inbox.as_deref(), Some("https://m.example/inbox"));
        assert_eq!(a.key_id, "https://m.example/users/alice#main-key");
    }

    #[test]
    fn refuses_foreign_keys_and_non_actors() {
        let doc: ActorDoc = serde_json::from_value(json!({
            "id": "https://m.example/users/alice", "type": "Person", "inbox": "https://m.example/i",
            "publicKey": {"id": "https://evil.example/k#main-key", "owner": "https://m.example/users/alice", "publicKeyPem": "PEM"}
        }))
        .unwrap();
        assert!(doc.into_remote().is_err());
        let note: ActorDoc = serde_json::from_value(
            json!({"id": "https://m.example/n/1", "type": "Note", "inbox": "x"}),
        )
        .unwrap();
        assert!(note.into_remote().is_err());
    }
}
