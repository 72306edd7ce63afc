//! HTTP Signatures (draft-cavage, as Mastodon does them) behind one small interface.
//!
//! [`HttpSigner`] is everything that touches keys: generating key pairs, signing and sending
//! outgoing POSTs, signing GETs, and verifying incoming signatures. [`AwsLcSigner`] does the RSA
//! with aws-lc-rs (constant-time, unlike the `rsa` crate: RUSTSEC-2023-0071) on a small pool of
//! crypto threads, except verifications with an already parsed key of up to 4096 bits (as cheap
//! as the hand-over), and keeps every key it has parsed. Signing
//! strings are built and read by the `http-signature-normalization` crate.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use hromada_store::Keypair;
use http::{HeaderMap, HeaderValue};
use http_signature_normalization::Config;
use http_signature_normalization::create::Unsigned;
use http_signature_normalization::verify::{Algorithm, DeprecatedAlgorithm};
use sha2::{Digest, Sha256};
use url::Url;

use crate::crypto_pool::CryptoPool;
use crate::safety::check_url;

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
    Malformed(String),
    #[error("unsupported signature algorithm {0}")]
    Algorithm(String),
    #[error("the signature must cover {0}")]
    NotCovered(String),
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

/// An activity's body with its `Digest` header value, computed once for all its inboxes.
#[derive(Debug, Clone)]
pub struct OutgoingBody {
    bytes: Bytes,
    digest: String,
}

impl OutgoingBody {
    pub fn new(bytes: Bytes) -> Self {
        let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(&bytes)));
        Self { bytes, digest }
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
    /// A fresh RSA-2048 key pair (PKCS#8 and SubjectPublicKeyInfo PEM).
    async fn generate_keypair(&self) -> Result<Keypair, SignError>;
    /// Signs `body` (digest, date, host, request target) as `key` and POSTs it to `inbox` with
    /// `client`. Only for delivery lanes (`lanes.rs`): it signs on the calling thread, which is
    /// then a lane's own and never one of the async workers that answer requests.
    async fn send_activity(
        &self,
        client: &reqwest::Client,
        key: &SigningKey,
        activity_id: &str,
        body: &OutgoingBody,
        inbox: &Url,
    ) -> SendOutcome;
    /// The `Date` and `Signature` headers for a GET of `url` (signed fetch).
    async fn sign_get(&self, key: &SigningKey, url: &Url) -> Result<HeaderMap, SignError>;
    /// Whether `signature` is a valid RSA-SHA256 signature of `message` by the key `key_id`,
    /// whose PEM is `public_key_pem` (a changed PEM for the same id replaces the parsed key).
    async fn verify(
        &self,
        key_id: &str,
        public_key_pem: &str,
        message: String,
        signature: Vec<u8>,
    ) -> Result<bool, SignError>;
}

/// Remote keys kept parsed; beyond this an arbitrary one is dropped (they are re-parsed on use).
const MAX_PUBLIC_KEYS: usize = 4096;
/// Verifying with an already parsed key of at most 4096 bits (an SPKI DER of up to 550 bytes)
/// takes some 15 µs at 2048 bits (issue 7: ~74,000 per second per core), about what handing it
/// to a crypto thread and back costs, so it runs where the request is. Parsing, signing and
/// longer keys go to the crypto threads.
const INLINE_VERIFY_KEY_BYTES: usize = 600;
/// Local actors' parsed private keys (one per initiative); same rule.
const MAX_PRIVATE_KEYS: usize = 4096;

/// The longest answer body read from an inbox (only so the connection can be reused).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Outgoing POSTs: `(request-target) content-type date digest host`, `hs2019`, no
/// `(created)`/`(expires)` (Pleroma and Akkoma refuse those; Mastodon accepts both).
static POST_CONFIG: LazyLock<Config> =
    LazyLock::new(|| Config::new().mastodon_compat().require_digest());
/// Signed fetches: `(request-target) date host`.
static GET_CONFIG: LazyLock<Config> = LazyLock::new(|| Config::new().mastodon_compat());

/// A parsed key, with the PEM it came from (a different PEM under the same id is a rotation).
struct Parsed<K> {
    pem: String,
    key: Arc<K>,
}

/// A bounded map of parsed keys by key id.
struct KeyCache<K> {
    max: usize,
    keys: Mutex<HashMap<String, Parsed<K>>>,
}

impl<K> KeyCache<K> {
    fn new(max: usize) -> Self {
        Self {
            max,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key_id: &str, pem: &str) -> Option<Arc<K>> {
        let keys = self.keys.lock().ok()?;
        keys.get(key_id)
            .filter(|p| p.pem == pem)
            .map(|p| p.key.clone())
    }

    fn put(&self, key_id: &str, pem: &str, key: Arc<K>) {
        let Ok(mut keys) = self.keys.lock() else {
            return;
        };
        if keys.len() >= self.max
            && !keys.contains_key(key_id)
            && let Some(evict) = keys.keys().next().cloned()
        {
            keys.remove(&evict);
        }
        keys.insert(
            key_id.to_string(),
            Parsed {
                pem: pem.to_string(),
                key,
            },
        );
    }
}

/// [`HttpSigner`] with aws-lc-rs, sending with reqwest.
pub struct AwsLcSigner {
    allow_private_networks: bool,
    timeout: Duration,
    pool: CryptoPool,
    private_keys: KeyCache<RsaKeyPair>,
    public_keys: KeyCache<ParsedPublicKey>,
}

impl AwsLcSigner {
    /// `allow_private_networks` lets deliveries go to http and loopback URLs (tests, demos).
    pub fn new(allow_private_networks: bool, timeout: Duration) -> Self {
        Self {
            allow_private_networks,
            timeout,
            pool: CryptoPool::new(),
            private_keys: KeyCache::new(MAX_PRIVATE_KEYS),
            public_keys: KeyCache::new(MAX_PUBLIC_KEYS),
        }
    }

    /// Signs a prepared signature (parsing and caching the key if needed) and returns the
    /// `Signature` header value: on the crypto pool, or `here` on a delivery lane's thread.
    async fn sign(
        &self,
        key: &SigningKey,
        unsigned: Unsigned,
        here: bool,
    ) -> Result<String, SignError> {
        let pem = &key.keypair.private_key_pem;
        let cached = self.private_keys.get(&key.key_id, pem);
        let to_parse = cached.is_none().then(|| pem.clone());
        let key_id = key.key_id.clone();
        // Only a freshly parsed key goes into the cache: putting it back after every signature
        // copied its PEM each time.
        let job = move || {
            let (key, fresh) = match cached {
                Some(k) => (k, None),
                None => {
                    let k = Arc::new(parse_private_key(&to_parse.unwrap_or_default())?);
                    (k.clone(), Some(k))
                }
            };
            let signed = unsigned.sign(key_id, |s| {
                sign_with(&key, s.as_bytes()).map(|sig| BASE64.encode(sig))
            })?;
            Ok::<_, SignError>((fresh, signed.signature_header()))
        };
        let (fresh, header) = if here {
            job()?
        } else {
            self.pool.run(job).await??
        };
        if let Some(fresh) = fresh {
            self.private_keys.put(&key.key_id, pem, fresh);
        }
        Ok(header)
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        key: &SigningKey,
        body: &OutgoingBody,
        inbox: &Url,
    ) -> Result<u16, SendError> {
        check_url(inbox, self.allow_private_networks)
            .map_err(|e| SendError::Refused(format!("inbox {inbox}: {e}")))?;
        let host = host_header(inbox).ok_or_else(|| SendError::Refused("no host".into()))?;
        let date = httpdate::fmt_http_date(SystemTime::now());
        let digest = body.digest.clone();
        let mut signed = BTreeMap::new();
        signed.insert(
            "content-type".to_string(),
            crate::http::AP_CONTENT_TYPE.into(),
        );
        signed.insert("date".to_string(), date.clone());
        signed.insert("digest".to_string(), digest.clone());
        signed.insert("host".to_string(), host.clone());
        let unsigned = POST_CONFIG
            .begin_sign("POST", &path_and_query(inbox), signed)
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let header = self
            .sign(key, unsigned, true)
            .await
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let mut response = client
            .post(inbox.clone())
            .timeout(self.timeout)
            .header(http::header::CONTENT_TYPE, crate::http::AP_CONTENT_TYPE)
            .header(http::header::HOST, host)
            .header(http::header::DATE, date)
            .header("digest", digest)
            .header("signature", header)
            .body(body.bytes.clone())
            .send()
            .await
            .map_err(|e| SendError::Network(error_chain(&e)))?;
        let status = response.status().as_u16();
        // Read the (short) answer so the connection goes back to the pool for the next POST.
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read > MAX_ANSWER_BYTES {
                break;
            }
        }
        Ok(status)
    }
}

enum SendError {
    Refused(String),
    Network(String),
}

/// `host[:port]` as the request will carry it (reqwest leaves out default ports).
fn host_header(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The error and its causes ("error sending request" alone says nothing).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[async_trait]
impl HttpSigner for AwsLcSigner {
    async fn generate_keypair(&self) -> Result<Keypair, SignError> {
        self.pool.run(generate_keypair).await?
    }

    async fn send_activity(
        &self,
        client: &reqwest::Client,
        key: &SigningKey,
        activity_id: &str,
        body: &OutgoingBody,
        inbox: &Url,
    ) -> SendOutcome {
        match self.post(client, key, body, inbox).await {
            Ok(status) => SendOutcome::Status(status),
            Err(SendError::Refused(why)) => {
                tracing::debug!(activity = %activity_id, %inbox, reason = %why, "not sent");
                SendOutcome::Refused(why)
            }
            Err(SendError::Network(why)) => SendOutcome::Network(why),
        }
    }

    async fn sign_get(&self, key: &SigningKey, url: &Url) -> Result<HeaderMap, SignError> {
        let host = host_header(url).ok_or_else(|| SignError::Key("URL without host".into()))?;
        let date = httpdate::fmt_http_date(SystemTime::now());
        let mut signed = BTreeMap::new();
        signed.insert("date".to_string(), date.clone());
        signed.insert("host".to_string(), host);
        let unsigned = GET_CONFIG
            .begin_sign("GET", &path_and_query(url), signed)
            .map_err(|e| SignError::Key(e.to_string()))?;
        let header = self.sign(key, unsigned, false).await?;
        let mut headers = HeaderMap::new();
        let value = |s: &str| HeaderValue::from_str(s).map_err(|e| SignError::Key(e.to_string()));
        headers.insert("date", value(&date)?);
        headers.insert("signature", value(&header)?);
        Ok(headers)
    }

    async fn verify(
        &self,
        key_id: &str,
        public_key_pem: &str,
        message: String,
        signature: Vec<u8>,
    ) -> Result<bool, SignError> {
        let cached = self.public_keys.get(key_id, public_key_pem);
        if let Some(parsed) = cached
            .as_ref()
            .filter(|k| spki_len(k) <= INLINE_VERIFY_KEY_BYTES)
        {
            return Ok(parsed.verify_sig(message.as_bytes(), &signature).is_ok());
        }
        let to_parse = cached.is_none().then(|| public_key_pem.to_string());
        let (parsed, ok) = self
            .pool
            .run(move || {
                let parsed = match cached {
                    Some(k) => k,
                    None => Arc::new(parse_public_key(&to_parse.unwrap_or_default())?),
                };
                let ok = parsed.verify_sig(message.as_bytes(), &signature).is_ok();
                Ok::<_, SignError>((parsed, ok))
            })
            .await??;
        self.public_keys.put(key_id, public_key_pem, parsed);
        Ok(ok)
    }
}

/// The length of a parsed public key's SubjectPublicKeyInfo DER (grows with the modulus).
fn spki_len(key: &ParsedPublicKey) -> usize {
    AsRef::<[u8]>::as_ref(key).len()
}

/// A fresh RSA-2048 key pair as PEM: PKCS#8 private key, SubjectPublicKeyInfo public key
/// (the same formats the `rsa` crate wrote, so stored keys and new keys look alike).
pub fn generate_keypair() -> Result<Keypair, SignError> {
    let failed = |what: &str| SignError::Key(format!("RSA key {what} failed"));
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("generation"))?;
    let private = AsDer::<Pkcs8V1Der>::as_der(&key).map_err(|_| failed("export"))?;
    let public =
        AsDer::<PublicKeyX509Der>::as_der(key.public_key()).map_err(|_| failed("export"))?;
    Ok(Keypair {
        private_key_pem: pem("PRIVATE KEY", private.as_ref()),
        public_key_pem: pem("PUBLIC KEY", public.as_ref()),
    })
}

/// A PKCS#8 `PRIVATE KEY` PEM (as stored in the database) as an aws-lc-rs key pair.
pub fn parse_private_key(private_key_pem: &str) -> Result<RsaKeyPair, SignError> {
    let der = pem_der(private_key_pem)?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| SignError::Key(format!("private key: {e}")))
}

/// A `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1) PEM, RSA 2048–8192 bits.
pub fn parse_public_key(public_key_pem: &str) -> Result<ParsedPublicKey, SignError> {
    let der = pem_der(public_key_pem)?;
    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
        .map_err(|e| SignError::Key(format!("public key: {e}")))
}

/// An RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
pub fn sign_with(key: &RsaKeyPair, message: &[u8]) -> Result<Vec<u8>, SignError> {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| SignError::Key("signing failed".into()))?;
    Ok(signature)
}

/// PEM armour: base64 in 64-character lines.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER between the first `-----BEGIN …-----` and `-----END …-----` lines.
fn pem_der(pem: &str) -> Result<Vec<u8>, SignError> {
    let bad = |why: &str| SignError::Key(format!("PEM: {why}"));
    let body = pem
        .split_once("-----BEGIN ")
        .and_then(|(_, rest)| rest.split_once("-----"))
        .map(|(_, rest)| rest)
        .ok_or_else(|| bad("no BEGIN line"))?;
    let body = body
        .split_once("-----END ")
        .map(|(b, _)| b)
        .ok_or_else(|| bad("no END line"))?;
    let b64: String = body.split_ascii_whitespace().collect();
    BASE64.decode(b64).map_err(|_| bad("not base64"))
}

// ---- incoming signatures ----

/// A request's signature, read and checked for what it covers, ready to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSignature {
    pub key_id: String,
    pub signing_string: String,
    pub signature: Vec<u8>,
}

/// Reads the `Signature` header and builds the signing string (`http-signature-normalization`).
///
/// `now` is seconds since the epoch. Like Mastodon we accept `rsa-sha256`, `hs2019` or no
/// algorithm, require `(request-target)`, `digest` (when `require_digest`, i.e. for POSTs) and
/// `date` or `(created)`, and accept a `Date`/`(created)` at most `window` away from now.
/// `headers` must carry `Host` (HTTP/2 requests: put the authority in first).
pub fn incoming_signature(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    require_digest: bool,
    now: i64,
    window: Duration,
) -> Result<IncomingSignature, VerifyError> {
    let mut map = BTreeMap::new();
    for name in headers.keys() {
        // The crate would take an `Authorization` header over `Signature`; ours is `Signature`.
        if name == http::header::AUTHORIZATION {
            continue;
        }
        if let Ok(value) = joined(headers, name.as_str()) {
            map.insert(name.as_str().to_string(), value);
        }
    }
    let Some(header) = map.get("signature") else {
        return Err(VerifyError::Missing);
    };
    if !timestamps_readable(header) {
        return Err(VerifyError::Malformed(
            "created or expires is not a time".into(),
        ));
    }
    let mut config = Config::new()
        .set_expiration(window)
        .require_header("(request-target)");
    if require_digest {
        config = config.require_digest();
    }
    let unverified = config
        .begin_verify(method, path_and_query, map)
        .map_err(|e| match e {
            http_signature_normalization::PrepareVerifyError::Validate(_) => VerifyError::Expired,
            http_signature_normalization::PrepareVerifyError::Parse(e) => {
                VerifyError::Malformed(format!("{} missing or unreadable", e.missing_field()))
            }
            http_signature_normalization::PrepareVerifyError::Required(e) => {
                let mut missing: Vec<&str> = e.headers().iter().map(String::as_str).collect();
                missing.sort_unstable();
                VerifyError::NotCovered(missing.join(", "))
            }
        })?;
    match unverified.algorithm() {
        None
        | Some(Algorithm::Hs2019)
        | Some(Algorithm::Deprecated(DeprecatedAlgorithm::RsaSha256)) => {}
        Some(other) => return Err(VerifyError::Algorithm(other.to_string())),
    }
    let signing_string = unverified.signing_string().to_string();
    // Header values hold no line breaks, so each line is one signed field.
    let field = |name: &str| {
        signing_string
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
    };
    let window = window.as_secs();
    let in_window = |at: i64| now.abs_diff(at) <= window;
    match (field("date"), field("(created)")) {
        (None, None) => return Err(VerifyError::NotCovered("date".into())),
        (date, created) => {
            if let Some(date) = date {
                let at = httpdate::parse_http_date(date)
                    .map_err(|_| VerifyError::Malformed("unreadable Date".into()))?
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                if !in_window(at) {
                    return Err(VerifyError::Expired);
                }
            }
            if let Some(created) = created
                && !created.parse::<i64>().is_ok_and(in_window)
            {
                return Err(VerifyError::Expired);
            }
        }
    }
    let signature = BASE64
        .decode(unverified.signature().trim())
        .map_err(|_| VerifyError::Malformed("signature is not base64".into()))?;
    Ok(IncomingSignature {
        key_id: unverified.key_id().to_string(),
        signing_string,
        signature,
    })
}

/// Whether the `created` and `expires` parameters, if any, are times the signature library can
/// add its window to: it turns them into `SystemTime`s unchecked and would panic on a huge one.
/// Parameters are split on commas as that library splits them.
fn timestamps_readable(signature_header: &str) -> bool {
    signature_header
        .split(',')
        .all(|param| match param.trim().split_once('=') {
            Some(("created" | "expires", value)) => value
                .trim_matches('"')
                .parse::<u64>()
                .is_ok_and(|seconds| seconds < 1 << 40),
            _ => true,
        })
}

/// All values of a header joined with ", " (as draft-cavage specifies for repeated headers).
fn joined(headers: &HeaderMap, name: &str) -> Result<String, VerifyError> {
    let mut values = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim);
    let first = values
        .next()
        .ok_or_else(|| VerifyError::NotCovered(name.to_string()))?;
    Ok(values.fold(first.to_string(), |mut all, v| {
        all.push_str(", ");
        all.push_str(v);
        all
    }))
}

/// Checks a `Digest: SHA-256=…` header against the exact body bytes.
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let value = joined(headers, "digest").map_err(|_| VerifyError::Digest)?;
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

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }

    fn signed_headers(date: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("node.example"));
        headers.insert("date", HeaderValue::from_str(date).unwrap());
        headers.insert("digest", HeaderValue::from_static("SHA-256=abc"));
        headers.insert("signature", HeaderValue::from_str(signature).unwrap());
        headers
    }

    #[test]
    fn reads_mastodon_signatures_and_checks_coverage_and_window() {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let headers = signed_headers(
            &date,
            r#"keyId="https://m.example/users/a#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAEC""#,
        );
        let window = Duration::from_secs(3600);
        let s = incoming_signature("POST", "/inbox", &headers, true, now(), window).unwrap();
        assert_eq!(s.key_id, "https://m.example/users/a#main-key");
        assert_eq!(s.signature, vec![0, 1, 2]);
        assert_eq!(
            s.signing_string,
            format!(
                "(request-target): post /inbox\nhost: node.example\ndate: {date}\ndigest: SHA-256=abc"
            )
        );
        // Two hours later (or earlier) the same request is refused.
        for at in [now() + 7200, now() - 7200] {
            assert_eq!(
                incoming_signature("POST", "/inbox", &headers, true, at, window),
                Err(VerifyError::Expired)
            );
        }
        let no_digest = signed_headers(
            &date,
            r#"keyId="k",headers="(request-target) host date",signature="AAEC""#,
        );
        assert!(matches!(
            incoming_signature("POST", "/inbox", &no_digest, true, now(), window),
            Err(VerifyError::NotCovered(h)) if h == "digest"
        ));
        let no_date = signed_headers(
            &date,
            r#"keyId="k",headers="(request-target) host digest",signature="AAEC""#,
        );
        assert_eq!(
            incoming_signature("POST", "/inbox", &no_date, true, now(), window),
            Err(VerifyError::NotCovered("date".into()))
        );
        let hmac = signed_headers(
            &date,
            r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) host date digest",signature="AAEC""#,
        );
        assert!(matches!(
            incoming_signature("POST", "/inbox", &hmac, true, now(), window),
            Err(VerifyError::Algorithm(_))
        ));
        // The signature library would panic adding its window to such a time.
        let far = signed_headers(
            &date,
            r#"keyId="k",headers="(request-target) (created) digest",created="18446744073709551615",signature="AA==""#,
        );
        assert!(matches!(
            incoming_signature("POST", "/inbox", &far, true, now(), window),
            Err(VerifyError::Malformed(_))
        ));
        let garbage = signed_headers(&date, "garbage");
        assert!(matches!(
            incoming_signature("POST", "/inbox", &garbage, true, now(), window),
            Err(VerifyError::Malformed(_))
        ));
        let mut unsigned = headers.clone();
        unsigned.remove("signature");
        assert_eq!(
            incoming_signature("POST", "/inbox", &unsigned, true, now(), window),
            Err(VerifyError::Missing)
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

    fn key(keypair: Keypair) -> SigningKey {
        SigningKey {
            actor_id: "http://localhost:1/actor".into(),
            key_id: "http://localhost:1/actor#main-key".into(),
            keypair,
        }
    }

    fn signer() -> AwsLcSigner {
        AwsLcSigner::new(true, Duration::from_secs(5))
    }

    /// What our GET signatures carry verifies with our own incoming path.
    async fn round_trip(signer: &AwsLcSigner, key: &SigningKey) -> bool {
        let url = Url::parse("http://localhost:1/users/a?page=2").unwrap();
        let mut headers = signer.sign_get(key, &url).await.unwrap();
        let value = headers["signature"].to_str().unwrap().to_string();
        assert!(
            value.contains(r#"headers="(request-target) date host""#),
            "{value}"
        );
        assert!(!value.contains("created"), "{value}");
        headers.insert("host", HeaderValue::from_static("localhost:1"));
        let s = incoming_signature(
            "get",
            "/users/a?page=2",
            &headers,
            false,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(s.key_id, key.key_id);
        signer
            .verify(
                &key.key_id,
                &key.keypair.public_key_pem,
                s.signing_string,
                s.signature,
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn generated_keys_sign_and_verify_and_a_rotated_key_is_not_reused() {
        let signer = signer();
        let first = signer.generate_keypair().await.unwrap();
        assert!(
            first
                .private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            first
                .public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        let k = key(first.clone());
        assert!(round_trip(&signer, &k).await);
        // A signature by the old key does not verify once the actor shows a new one.
        let url = Url::parse("http://localhost:1/x").unwrap();
        let headers = signer.sign_get(&k, &url).await.unwrap();
        let rotated = signer.generate_keypair().await.unwrap();
        let mut h = headers.clone();
        h.insert("host", HeaderValue::from_static("localhost:1"));
        let s = incoming_signature("get", "/x", &h, false, now(), Duration::from_secs(60)).unwrap();
        let verify = |pem: String| {
            let s = s.clone();
            let signer = &signer;
            let key_id = k.key_id.clone();
            async move {
                signer
                    .verify(&key_id, &pem, s.signing_string, s.signature)
                    .await
                    .unwrap()
            }
        };
        assert!(verify(first.public_key_pem.clone()).await);
        assert!(!verify(rotated.public_key_pem.clone()).await);
        assert!(verify(first.public_key_pem.clone()).await);
        // Now parsed and cached, the key verifies in place: still every signature, and a
        // signature of other bytes fails.
        assert!(verify(first.public_key_pem.clone()).await);
        let tampered = signer
            .verify(
                &k.key_id,
                &first.public_key_pem,
                format!("{}x", s.signing_string),
                s.signature.clone(),
            )
            .await
            .unwrap();
        assert!(!tampered);
        assert!(
            signer
                .verify(&k.key_id, "not a key", "x".into(), vec![1])
                .await
                .is_err()
        );
    }

    /// Keys stored by earlier versions were made by the `rsa` crate (through
    /// `activitypub_federation::generate_actor_keypair`): PKCS#8 and SPKI PEM with its own
    /// line endings. They must keep signing, and other servers must keep verifying them.
    #[tokio::test]
    async fn keys_made_by_the_rsa_crate_still_load_and_sign() {
        use rsa::pkcs1v15::Pkcs1v15Sign;
        use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let public = rsa::RsaPublicKey::from(&private);
        let old = Keypair {
            private_key_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public_key_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
        };
        let signer = signer();
        let k = key(old.clone());
        assert!(round_trip(&signer, &k).await);
        // And the `rsa` crate verifies what aws-lc-rs signed with that key.
        let parsed = parse_private_key(&old.private_key_pem).unwrap();
        let signature = sign_with(&parsed, b"hello").unwrap();
        let check = rsa::RsaPublicKey::from_public_key_pem(&old.public_key_pem).unwrap();
        check
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(b"hello"),
                &signature,
            )
            .unwrap();
        // CRLF line endings, as some stored PEMs have.
        let crlf = Keypair {
            private_key_pem: private.to_pkcs8_pem(LineEnding::CRLF).unwrap().to_string(),
            public_key_pem: public.to_public_key_pem(LineEnding::CRLF).unwrap(),
        };
        assert!(round_trip(&signer, &key(crlf)).await);
        // A new key's public half reads with the `rsa` crate too (other servers' view).
        let fresh = generate_keypair().unwrap();
        assert!(rsa::RsaPublicKey::from_public_key_pem(&fresh.public_key_pem).is_ok());
        assert_eq!(
            public.to_public_key_der().unwrap().as_bytes(),
            pem_der(&old.public_key_pem).unwrap()
        );
    }
}
