//! HTTP Signatures (draft-cavage, as Mastodon does them) behind one small interface.
//!
//! [`HttpSigner`] is everything that touches keys: generating key pairs, signing outgoing
//! POSTs (through `activitypub_federation`'s `SendActivityTask`) and GETs, and verifying
//! incoming signatures. Private-key operations run on the blocking pool, never on the async
//! workers. A later implementation (e.g. aws-lc-rs, constant-time) replaces [`RsaSigner`]
//! without touching the rest of the crate. Parsing the `Signature` header and building the
//! signing string is plain text work and lives here too.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use activitypub_federation::activity_sending::SendActivityTask;
use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::traits::{Activity, Actor, Object};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use hromada_store::Keypair;
use http::{HeaderMap, HeaderValue};
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("key error: {0}")]
    Key(String),
    #[error("signing task failed: {0}")]
    Task(String),
}

/// Why an incoming signature was refused. Shown to the sender in the 401 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no Signature header")]
    Missing,
    #[error("malformed Signature header: {0}")]
    Malformed(&'static str),
    #[error("unsupported signature algorithm {0}")]
    Algorithm(String),
    #[error("the signature must cover {0}")]
    NotCovered(&'static str),
    #[error("signed header {0} is missing")]
    HeaderMissing(String),
    #[error("Date/created is outside the accepted window")]
    Expired,
    #[error("the Digest header does not match the body")]
    Digest,
    #[error("the signature does not verify with the key of {0}")]
    Invalid(String),
}

/// A local actor's key, ready to sign with.
#[derive(Clone)]
pub struct SigningKey {
    pub actor_id: String,
    pub key_id: String,
    pub keypair: Keypair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The outcome of one POST: the HTTP status, or why nothing was sent/answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Status(u16),
    /// Connection, TLS, DNS or timeout failure (worth retrying).
    Network(String),
    /// Refused before sending (e.g. the inbox URL is not allowed); retrying will not help.
    Refused(String),
}

#[async_trait]
pub trait HttpSigner: Send + Sync + 'static {
    /// A fresh RSA-2048 key pair.
    async fn generate_keypair(&self) -> Result<Keypair, SignError>;
    /// Signs `body` (digest, date, host, request target) as `key` and POSTs it to `inbox`.
    async fn send_activity(
        &self,
        key: &SigningKey,
        activity_id: &str,
        body: Bytes,
        inbox: &Url,
    ) -> SendOutcome;
    /// The `Date` and `Signature` headers for a GET of `url` (signed fetch).
    async fn sign_get(&self, key: &SigningKey, url: &Url) -> Result<HeaderMap, SignError>;
    /// Whether `signature` is a valid RSA-SHA256 signature of `message` by `public_key_pem`.
    async fn verify(
        &self,
        public_key_pem: &str,
        message: String,
        signature: Vec<u8>,
    ) -> Result<bool, SignError>;
}

tokio::task_local! {
    /// The status of the last response seen by [`StatusRecorder`] in this task: the crate's
    /// `SendActivityTask` reports a permanent 4xx as success, and we want to log and show it.
    static LAST_STATUS: Cell<Option<u16>>;
}

/// Middleware for the delivery client that records response statuses (see [`LAST_STATUS`]).
pub(crate) struct StatusRecorder;

#[async_trait]
impl reqwest_middleware::Middleware for StatusRecorder {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let response = next.run(req, extensions).await;
        if let Ok(r) = &response {
            let status = r.status().as_u16();
            let _ = LAST_STATUS.try_with(|c| c.set(Some(status)));
        }
        response
    }
}

/// [`HttpSigner`] with the `rsa` crate, sending through `activitypub_federation`.
pub struct RsaSigner {
    config: FederationConfig<()>,
}

impl RsaSigner {
    /// `client` must carry [`StatusRecorder`] (see `fetch::delivery_client`). `domain` is our
    /// `host[:port]`; `allow_private_networks` lets the crate send to http and loopback URLs.
    pub async fn new(
        client: reqwest_middleware::ClientWithMiddleware,
        domain: &str,
        allow_private_networks: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        let config = FederationConfig::builder()
            .domain(domain)
            .app_data(())
            .client(client)
            .debug(allow_private_networks)
            .allow_http_urls(allow_private_networks)
            .request_timeout(timeout)
            // Sign without (created)/(expires): Pleroma/Akkoma need it, Mastodon accepts both.
            .http_signature_compat(true)
            .build()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self { config })
    }
}

#[async_trait]
impl HttpSigner for RsaSigner {
    async fn generate_keypair(&self) -> Result<Keypair, SignError> {
        let kp = tokio::task::spawn_blocking(
            activitypub_federation::http_signatures::generate_actor_keypair,
        )
        .await
        .map_err(|e| SignError::Task(e.to_string()))?
        .map_err(|e| SignError::Key(e.to_string()))?;
        Ok(Keypair {
            public_key_pem: kp.public_key,
            private_key_pem: kp.private_key,
        })
    }

    async fn send_activity(
        &self,
        key: &SigningKey,
        activity_id: &str,
        body: Bytes,
        inbox: &Url,
    ) -> SendOutcome {
        let (Ok(actor_id), Ok(id)) = (Url::parse(&key.actor_id), Url::parse(activity_id)) else {
            return SendOutcome::Refused("activity or actor id is not a URL".into());
        };
        let actor = SendingActor {
            id: actor_id.clone(),
            keypair: key.keypair.clone(),
            inbox: actor_id.clone(),
        };
        let activity = RawActivity {
            id,
            actor: actor_id,
            body,
        };
        let data: Data<()> = self.config.to_request_data();
        let tasks =
            match SendActivityTask::prepare(&activity, &actor, vec![inbox.clone()], &data).await {
                Ok(t) => t,
                Err(e) => return SendOutcome::Refused(e.to_string()),
            };
        let Some(task) = tasks.into_iter().next() else {
            return SendOutcome::Refused(format!("inbox {inbox} is not allowed"));
        };
        let (result, status) = LAST_STATUS
            .scope(Cell::new(None), async {
                let result = task.sign_and_send(&data).await;
                (result, LAST_STATUS.with(Cell::get))
            })
            .await;
        match (result, status) {
            (_, Some(status)) => SendOutcome::Status(status),
            (Err(e), None) => SendOutcome::Network(e.to_string()),
            (Ok(()), None) => SendOutcome::Network("no response".into()),
        }
    }

    async fn sign_get(&self, key: &SigningKey, url: &Url) -> Result<HeaderMap, SignError> {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(SignError::Key("URL without host".into())),
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signing_string = format!("(request-target): get {target}\nhost: {host}\ndate: {date}");
        let pem = key.keypair.private_key_pem.clone();
        let signature =
            tokio::task::spawn_blocking(move || sign_rsa_sha256(&pem, signing_string.as_bytes()))
                .await
                .map_err(|e| SignError::Task(e.to_string()))??;
        let header = format!(
            r#"keyId="{}",algorithm="rsa-sha256",headers="(request-target) host date",signature="{}""#,
            key.key_id,
            BASE64.encode(signature)
        );
        let mut headers = HeaderMap::new();
        let value = |s: &str| HeaderValue::from_str(s).map_err(|e| SignError::Key(e.to_string()));
        headers.insert("date", value(&date)?);
        headers.insert("signature", value(&header)?);
        Ok(headers)
    }

    async fn verify(
        &self,
        public_key_pem: &str,
        message: String,
        signature: Vec<u8>,
    ) -> Result<bool, SignError> {
        let pem = public_key_pem.to_string();
        tokio::task::spawn_blocking(move || {
            let key = RsaPublicKey::from_public_key_pem(&pem)
                .map_err(|e| SignError::Key(e.to_string()))?;
            let hashed = Sha256::digest(message.as_bytes());
            Ok(key
                .verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, &signature)
                .is_ok())
        })
        .await
        .map_err(|e| SignError::Task(e.to_string()))?
    }
}

fn sign_rsa_sha256(private_key_pem: &str, message: &[u8]) -> Result<Vec<u8>, SignError> {
    let key = RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .map_err(|e| SignError::Key(e.to_string()))?;
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
        .map_err(|e| SignError::Key(e.to_string()))
}

/// An activity as exact JSON bytes: what we stored is what gets signed and sent.
#[derive(Debug)]
struct RawActivity {
    id: Url,
    actor: Url,
    body: Bytes,
}

impl Serialize for RawActivity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &serde_json::value::RawValue = std::str::from_utf8(&self.body)
            .ok()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| serde::ser::Error::custom("stored activity is not JSON"))?;
        raw.serialize(s)
    }
}

/// The crate needs an [`Activity`] to send; ours is only ever sent, never received.
#[async_trait]
impl Activity for RawActivity {
    type DataType = ();
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _: &Data<()>) -> Result<(), Self::Error> {
        Err(activitypub_federation::error::Error::Other(
            "outgoing only".into(),
        ))
    }

    async fn receive(self, _: &Data<()>) -> Result<(), Self::Error> {
        Err(activitypub_federation::error::Error::Other(
            "outgoing only".into(),
        ))
    }
}

/// The crate needs an [`Actor`] with a private key to sign as.
#[derive(Debug)]
struct SendingActor {
    id: Url,
    keypair: Keypair,
    inbox: Url,
}

#[async_trait]
impl Object for SendingActor {
    type DataType = ();
    type Kind = ();
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(_: Url, _: &Data<()>) -> Result<Option<Self>, Self::Error> {
        Ok(None)
    }

    async fn into_json(self, _: &Data<()>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn verify(_: &(), _: &Url, _: &Data<()>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn from_json(_: (), _: &Data<()>) -> Result<Self, Self::Error> {
        Err(activitypub_federation::error::Error::Other(
            "local signing actor only".into(),
        ))
    }
}

impl Actor for SendingActor {
    fn public_key_pem(&self) -> &str {
        &self.keypair.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.keypair.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

// ---- incoming signatures: parsing and the signing string ----

/// The parameters of a draft-cavage `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    pub key_id: String,
    pub algorithm: Option<String>,
    /// Lower-case header names in signed order; `(request-target)` etc. included.
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

impl SignatureParams {
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        let mut fields = BTreeMap::new();
        let mut rest = value.trim();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or(VerifyError::Malformed("expected name=value"))?;
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (val, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or(VerifyError::Malformed("unterminated quote"))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            fields.insert(name, val.to_string());
            rest = remaining.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        let key_id = fields
            .remove("keyid")
            .ok_or(VerifyError::Malformed("keyId missing"))?;
        let signature = fields
            .remove("signature")
            .ok_or(VerifyError::Malformed("signature missing"))?;
        let signature = BASE64
            .decode(signature.trim())
            .map_err(|_| VerifyError::Malformed("signature is not base64"))?;
        let headers = fields
            .remove("headers")
            .unwrap_or_else(|| "date".into())
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let number = |v: Option<String>| -> Result<Option<i64>, VerifyError> {
            v.map(|s| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| VerifyError::Malformed("created/expires must be a number"))
            })
            .transpose()
        };
        Ok(Self {
            key_id,
            algorithm: fields.remove("algorithm"),
            headers,
            signature,
            created: number(fields.remove("created"))?,
            expires: number(fields.remove("expires"))?,
        })
    }

    /// Checks the algorithm and what the signature covers, and builds the signing string.
    ///
    /// `now` is seconds since the epoch. Like Mastodon we accept `rsa-sha256` and `hs2019`,
    /// require `(request-target)`, `digest` (for POSTs) and `date` or `(created)`, and accept a
    /// date at most `window` away from now (Mastodon: about an hour either way).
    pub fn signing_string(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        require_digest: bool,
        now: i64,
        window: Duration,
    ) -> Result<String, VerifyError> {
        match self
            .algorithm
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("rsa-sha256") | Some("hs2019") => {}
            Some(other) => return Err(VerifyError::Algorithm(other.to_string())),
        }
        let covers = |h: &str| self.headers.iter().any(|x| x == h);
        if !covers("(request-target)") {
            return Err(VerifyError::NotCovered("(request-target)"));
        }
        if require_digest && !covers("digest") {
            return Err(VerifyError::NotCovered("digest"));
        }
        if !covers("date") && !covers("(created)") {
            return Err(VerifyError::NotCovered("date"));
        }
        let window = window.as_secs() as i64;
        if covers("date") {
            let date = header(headers, "date")?;
            let at = httpdate::parse_http_date(&date)
                .map_err(|_| VerifyError::Malformed("unreadable Date"))?;
            let at = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            if (now - at).abs() > window {
                return Err(VerifyError::Expired);
            }
        }
        if let Some(created) = self.created
            && (created - now > window || now - created > window)
        {
            return Err(VerifyError::Expired);
        }
        if let Some(expires) = self.expires
            && expires < now
        {
            return Err(VerifyError::Expired);
        }
        let mut lines = Vec::with_capacity(self.headers.len());
        for name in &self.headers {
            let line = match name.as_str() {
                "(request-target)" => format!(
                    "(request-target): {} {path_and_query}",
                    method.to_ascii_lowercase()
                ),
                "(created)" => format!(
                    "(created): {}",
                    self.created
                        .ok_or(VerifyError::HeaderMissing(name.clone()))?
                ),
                "(expires)" => format!(
                    "(expires): {}",
                    self.expires
                        .ok_or(VerifyError::HeaderMissing(name.clone()))?
                ),
                other => format!("{other}: {}", header(headers, other)?),
            };
            lines.push(line);
        }
        Ok(lines.join("\n"))
    }
}

/// All values of a header joined with ", " (as draft-cavage specifies for repeated headers).
fn header(headers: &HeaderMap, name: &str) -> Result<String, VerifyError> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .collect();
    if values.is_empty() {
        return Err(VerifyError::HeaderMissing(name.to_string()));
    }
    Ok(values.join(", "))
}

/// Checks a `Digest: SHA-256=…` header against the exact body bytes.
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let value = header(headers, "digest").map_err(|_| VerifyError::Digest)?;
    let expected = BASE64.encode(Sha256::digest(body));
    let ok = value
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .any(|(alg, digest)| {
            alg.trim().eq_ignore_ascii_case("sha-256") && digest.trim() == expected
        });
    if ok { Ok(()) } else { Err(VerifyError::Digest) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mastodon_signature_header() {
        let p = SignatureParams::parse(
            r#"keyId="https://m.example/users/a#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="AAEC""#,
        )
        .unwrap();
        assert_eq!(p.key_id, "https://m.example/users/a#main-key");
        assert_eq!(
            p.headers,
            ["(request-target)", "host", "date", "digest", "content-type"]
        );
        assert_eq!(p.signature, vec![0, 1, 2]);
        assert!(SignatureParams::parse("garbage").is_err());
        assert!(SignatureParams::parse(r#"keyId="x""#).is_err());
    }

    #[test]
    fn builds_signing_string_and_checks_window() {
        let date = "Tue, 28 Mar 2023 21:03:44 GMT";
        let at = httpdate::parse_http_date(date)
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("node.example"));
        headers.insert(
            "date",
            HeaderValue::from_static("Tue, 28 Mar 2023 21:03:44 GMT"),
        );
        headers.insert("digest", HeaderValue::from_static("SHA-256=abc"));
        let p = SignatureParams {
            key_id: "k".into(),
            algorithm: Some("hs2019".into()),
            headers: vec![
                "(request-target)".into(),
                "host".into(),
                "date".into(),
                "digest".into(),
            ],
            signature: vec![],
            created: None,
            expires: None,
        };
        let window = Duration::from_secs(3600);
        let s = p
            .signing_string("POST", "/inbox", &headers, true, at + 10, window)
            .unwrap();
        assert_eq!(
            s,
            format!(
                "(request-target): post /inbox\nhost: node.example\ndate: {date}\ndigest: SHA-256=abc"
            )
        );
        assert_eq!(
            p.signing_string("POST", "/inbox", &headers, true, at + 7200, window),
            Err(VerifyError::Expired)
        );
        let no_digest = SignatureParams {
            headers: vec!["(request-target)".into(), "date".into()],
            ..p
        };
        assert_eq!(
            no_digest.signing_string("POST", "/inbox", &headers, true, at, window),
            Err(VerifyError::NotCovered("digest"))
        );
    }

    #[test]
    fn digest_must_match_exact_body() {
        let mut headers = HeaderMap::new();
        let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(b"{}")));
        headers.insert("digest", HeaderValue::from_str(&digest).unwrap());
        assert!(verify_digest(&headers, b"{}").is_ok());
        assert_eq!(verify_digest(&headers, b"{ }"), Err(VerifyError::Digest));
        assert_eq!(
            verify_digest(&HeaderMap::new(), b"{}"),
            Err(VerifyError::Digest)
        );
    }
}
