//! A fake fediverse server for end-to-end tests: actors that follow, post and receive, with
//! HTTP signatures made and checked by its own code (the `rsa`, `sha2` and `base64` crates
//! used directly), never by Hromada's production signing path, so a bug there cannot hide
//! itself in both ends.
//!
//! Any `/users/{name}` is a `Person` (`/users/instance` an `Application`, the server's
//! instance actor) with its own inbox and the server's shared inbox `/inbox`; all of them sign with the server's current key (which [`FakeRemote::rotate_key`]
//! replaces). Every POST to an inbox is recorded with the result of checking its signature.

// Test support: a fixture that cannot do its job must fail the test at once, loudly.
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The name of the fake server's instance actor: `/users/instance` is an `Application`.
pub const INSTANCE_NAME: &str = "instance";

/// One POST that reached an inbox of the fake server.
#[derive(Debug, Clone)]
pub struct Received {
    /// `/inbox` or `/users/{name}/inbox`.
    pub path: String,
    pub activity: Value,
    /// The signing key id when the HTTP signature checked out, else why not.
    pub signature: Result<String, String>,
}

impl Received {
    pub fn kind(&self) -> &str {
        self.activity["type"].as_str().unwrap_or_default()
    }
}

struct Shared {
    base_url: String,
    keys: Vec<RsaPrivateKey>,
    current_key: Mutex<usize>,
    received: Mutex<Vec<Received>>,
    /// Answer inbox posts with this status instead of 202.
    fail_with: Mutex<Option<u16>>,
    /// How long actor documents take to be served (a slow server).
    actor_delay: Mutex<Duration>,
    /// Public keys fetched before, by key id: like Mastodon, a known actor's key is used
    /// without asking again (so a deleted actor's last `Delete` still verifies), and fetched
    /// anew only when it does not verify.
    known_keys: Mutex<std::collections::HashMap<String, String>>,
    /// Actors whose accounts were deleted: their documents answer 410.
    deleted: Mutex<std::collections::HashSet<String>>,
    /// How many times actor documents were asked for.
    actor_fetches: std::sync::atomic::AtomicUsize,
    http: reqwest::Client,
}

/// A running fake server at `http://localhost:PORT`.
pub struct FakeRemote {
    pub base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The running server, and what stops it gracefully (closing its kept-alive connections).
    server: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    /// While down: the port, bound but not listening, so that connections are refused and no
    /// other test's server is given the port meanwhile.
    reserved: Option<TcpSocket>,
}

impl FakeRemote {
    pub async fn start() -> FakeRemote {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://localhost:{}", addr.port());
        let keys = [KEY_1, KEY_2]
            .iter()
            .map(|pem| RsaPrivateKey::from_pkcs8_pem(pem).expect("test key"))
            .collect();
        let shared = Arc::new(Shared {
            base_url: base_url.clone(),
            keys,
            current_key: Mutex::new(0),
            received: Mutex::new(Vec::new()),
            fail_with: Mutex::new(None),
            actor_delay: Mutex::new(Duration::ZERO),
            known_keys: Mutex::new(std::collections::HashMap::new()),
            deleted: Mutex::new(std::collections::HashSet::new()),
            actor_fetches: std::sync::atomic::AtomicUsize::new(0),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        });
        let mut remote = FakeRemote {
            base_url,
            addr,
            shared,
            server: None,
            reserved: None,
        };
        remote.serve(listener);
        remote
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new()
            .route("/users/{name}", get(actor))
            .route("/users/{name}/inbox", post(inbox))
            .route("/inbox", post(inbox_shared))
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.server = Some((stop, server));
    }

    /// `http://localhost:PORT/users/{name}`.
    pub fn actor_id(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base_url)
    }

    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base_url)
    }

    /// `localhost:PORT`.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// Waits until a received post matches, or panics after `timeout` listing what came.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&Received) -> bool,
    ) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.received().into_iter().find(|r| matches(r)) {
                return r;
            }
            if Instant::now() > deadline {
                let kinds: Vec<String> = self
                    .received()
                    .iter()
                    .map(|r| format!("{} {}", r.kind(), r.activity["id"]))
                    .collect();
                panic!("no {what} arrived within {timeout:?}; received: {kinds:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Makes inbox posts fail with `status` (e.g. 503), or succeed again with `None`.
    pub fn fail_with(&self, status: Option<u16>) {
        *self.shared.fail_with.lock().expect("lock") = status;
    }

    /// How many times actor documents (and so keys) were asked for.
    pub fn actor_fetches(&self) -> usize {
        self.shared
            .actor_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes actor documents take `delay` to be served.
    pub fn slow_actors(&self, delay: Duration) {
        *self.shared.actor_delay.lock().expect("lock") = delay;
    }

    /// Deletes the account `name`: its document answers 410 Gone from now on, as Mastodon's
    /// do (its key still signs, as Mastodon signs the Delete it sends then).
    pub fn delete_actor(&self, name: &str) {
        self.shared
            .deleted
            .lock()
            .expect("lock")
            .insert(name.to_string());
    }

    /// Switches all actors to the server's other key (as after a key rotation).
    pub fn rotate_key(&self) {
        let mut k = self.shared.current_key.lock().expect("lock");
        *k = (*k + 1) % self.shared.keys.len();
    }

    /// Stops listening: connections are refused until [`FakeRemote::come_back`]. Returns when
    /// every connection is closed too: a peer's kept-alive connection must not go on reaching
    /// a server that is down.
    pub async fn go_down(&mut self) {
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            let _ = server.await;
        }
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(self.addr).expect("keep the port while down");
        self.reserved = Some(socket);
    }

    /// Listens again on the same port.
    pub async fn come_back(&mut self) {
        let listener = match self.reserved.take() {
            Some(socket) => socket.listen(1024).expect("listen on the kept port"),
            None => TcpListener::bind(self.addr)
                .await
                .expect("rebind the same port"),
        };
        self.serve(listener);
    }

    /// POSTs `body` to `inbox`, signed by `actor` the way Mastodon signs.
    pub async fn post_signed(&self, actor: &str, inbox: &str, body: &[u8]) -> (u16, String) {
        self.post(inbox, body, Signing::As(actor.to_string())).await
    }

    /// POSTs with a chosen way of (mis)signing.
    pub async fn post(&self, inbox: &str, body: &[u8], signing: Signing) -> (u16, String) {
        self.try_post(inbox, body, signing)
            .await
            .expect("POST to the node")
    }

    /// Like [`FakeRemote::post`], but a failed request is returned: a server refusing a body
    /// that is too large may close the connection before all of it was sent.
    pub async fn try_post(
        &self,
        inbox: &str,
        body: &[u8],
        signing: Signing,
    ) -> Result<(u16, String), reqwest::Error> {
        let url = reqwest::Url::parse(inbox).expect("inbox URL");
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut request = self
            .shared
            .http
            .post(url.clone())
            .header("content-type", "application/activity+json");
        let date = httpdate::fmt_http_date(SystemTime::now());
        let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(body)));
        let (actor, key, signed_body_digest) = match &signing {
            Signing::Unsigned => (None, 0, digest.clone()),
            Signing::As(a) => (Some(a.clone()), self.key_index(), digest.clone()),
            Signing::WrongKey(a) => (
                Some(a.clone()),
                (self.key_index() + 1) % self.shared.keys.len(),
                digest.clone(),
            ),
            Signing::StaleDate(a) => (Some(a.clone()), self.key_index(), digest.clone()),
            Signing::DigestOfOtherBody(a) => (
                Some(a.clone()),
                self.key_index(),
                format!("SHA-256={}", BASE64.encode(Sha256::digest(b"{}"))),
            ),
        };
        let date = match signing {
            Signing::StaleDate(_) => {
                httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3 * 3600))
            }
            _ => date,
        };
        request = request
            .header("date", &date)
            .header("digest", &signed_body_digest);
        if let Some(actor) = actor {
            let path = url.path();
            let signing_string = format!(
                "(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {signed_body_digest}\ncontent-type: application/activity+json"
            );
            let signature = sign(&self.shared.keys[key], &signing_string);
            request = request.header(
                "signature",
                format!(
                    r#"keyId="{actor}#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="{signature}""#
                ),
            );
        }
        let response = request.body(body.to_vec()).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    }

    fn key_index(&self) -> usize {
        *self.shared.current_key.lock().expect("lock")
    }
}

/// How [`FakeRemote::post`] signs.
#[derive(Debug, Clone)]
pub enum Signing {
    Unsigned,
    /// Correctly, as this actor.
    As(String),
    /// As this actor, but with a key that is not the one it publishes.
    WrongKey(String),
    /// Correctly, but dated three hours ago (a replay).
    StaleDate(String),
    /// With a Digest (signed) of a different body.
    DigestOfOtherBody(String),
}

impl Drop for FakeRemote {
    fn drop(&mut self) {
        if let Some((_, server)) = self.server.take() {
            server.abort();
        }
    }
}

fn sign(key: &RsaPrivateKey, signing_string: &str) -> String {
    let hashed = Sha256::digest(signing_string.as_bytes());
    BASE64.encode(
        key.sign(Pkcs1v15Sign::new::<Sha256>(), &hashed)
            .expect("sign"),
    )
}

async fn actor(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    shared
        .actor_fetches
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let delay = *shared.actor_delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    if shared.deleted.lock().expect("lock").contains(&name) {
        return StatusCode::GONE.into_response();
    }
    let id = format!("{}/users/{name}", shared.base_url);
    let key = &shared.keys[*shared.current_key.lock().expect("lock")];
    let pem = RsaPublicKey::from(key)
        .to_public_key_pem(LineEnding::LF)
        .expect("public key PEM");
    // `/users/instance` stands for the server's instance actor (as a Hromada node's `/actor`).
    // `/users/relay` is another service actor on the same server (a relay, say).
    let kind = if name == INSTANCE_NAME || name == "relay" {
        "Application"
    } else {
        "Person"
    };
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": kind,
        "preferredUsername": name,
        "name": format!("Test user {name}"),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "endpoints": {"sharedInbox": format!("{}/inbox", shared.base_url)},
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem},
    });
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn inbox(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, uri.path(), &headers, &body).await
}

async fn inbox_shared(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, uri.path(), &headers, &body).await
}

async fn record(shared: &Shared, path: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Some(status) = *shared.fail_with.lock().expect("lock") {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    }
    let signature = check_signature(shared, path, headers, body).await;
    let activity = serde_json::from_slice(body).unwrap_or(Value::Null);
    shared.received.lock().expect("lock").push(Received {
        path: path.to_string(),
        activity,
        signature,
    });
    StatusCode::ACCEPTED.into_response()
}

/// Verifies a draft-cavage signature the way Mastodon does, with this module's own code.
async fn check_signature(
    shared: &Shared,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature = header("signature").ok_or("no Signature header")?;
    let mut params = std::collections::HashMap::new();
    for part in signature.split(',') {
        let (k, v) = part.split_once('=').ok_or("malformed Signature")?;
        params.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    let key_id = params.get("keyId").ok_or("no keyId")?.clone();
    let signed: Vec<&str> = params
        .get("headers")
        .ok_or("no headers")?
        .split(' ')
        .collect();
    for required in ["(request-target)", "host", "date", "digest"] {
        if !signed.contains(&required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(body)));
    if header("digest").as_deref() != Some(digest.as_str()) {
        return Err("digest does not match the body".into());
    }
    let date = header("date").ok_or("no Date")?;
    let at = httpdate::parse_http_date(&date).map_err(|_| "bad Date")?;
    let skew = SystemTime::now()
        .duration_since(at)
        .unwrap_or_else(|e| e.duration());
    if skew > Duration::from_secs(300) {
        return Err(format!("Date is {skew:?} off"));
    }
    let mut lines = Vec::new();
    for name in &signed {
        let line = match *name {
            "(request-target)" => format!("(request-target): post {path}"),
            other => format!(
                "{other}: {}",
                header(other).ok_or(format!("signed header {other} missing"))?
            ),
        };
        lines.push(line);
    }
    let signing_string = lines.join("\n");
    let sig = BASE64
        .decode(params.get("signature").ok_or("no signature")?)
        .map_err(|_| "signature not base64")?;

    let digest = Sha256::digest(signing_string.as_bytes());
    let verifies = |pem: &str| {
        RsaPublicKey::from_public_key_pem(pem)
            .map_err(|e| format!("bad key: {e}"))
            .map(|key| {
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
                    .is_ok()
            })
    };
    let known = shared
        .known_keys
        .lock()
        .expect("lock")
        .get(&key_id)
        .cloned();
    if let Some(pem) = known
        && verifies(&pem)?
    {
        return Ok(key_id);
    }
    let actor_url = key_id.split('#').next().unwrap_or_default();
    let doc: Value = shared
        .http
        .get(actor_url)
        .header("accept", "application/activity+json")
        .send()
        .await
        .map_err(|e| format!("fetching {actor_url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("reading {actor_url}: {e}"))?;
    if doc["publicKey"]["id"] != key_id.as_str() || doc["publicKey"]["owner"] != doc["id"] {
        return Err(format!("{key_id} is not the key of {}", doc["id"]));
    }
    let pem = doc["publicKey"]["publicKeyPem"]
        .as_str()
        .ok_or("no publicKeyPem")?;
    if !verifies(pem)? {
        return Err("signature does not verify".to_string());
    }
    shared
        .known_keys
        .lock()
        .expect("lock")
        .insert(key_id.clone(), pem.to_string());
    Ok(key_id)
}

// Two fixed RSA-2048 keys for the fake server (generating keys in unoptimised test builds is
// slow). Test-only: never use them anywhere else.
const KEY_1: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC09MlqvQUmo3HC\n\
a04V1Qy1YH7FnNVhNbJWa0rwzojvsYrKyR/QUCBuKCLyMuVJSEcjyfjyOGTr6aEZ\n\
kIC9xnwluX+4J/NlUzbApg6paX87nuTMMP5vwFlNUMb8pIgjRfPBf6N3X/GX+ZaB\n\
E/ZaXVAlVuVnKW9imVtybWnVj+RRobfh1ShmztvxBFOv9TCxS36nxiGOCyOr09Cf\n\
UhAo7sjlWH2xJ/1nB1hmhMYFK6KkxKyE85vKwwnrBPUooTeDe6K1cxRkn0xbVG4J\n\
g3+0wEyS/mJu6QeA7XzaP+ADUJCMQg+pLZq9LR082Jy+eBkrlmQ0nldc8mTqot/h\n\
rvXB32FrAgMBAAECggEAKgDyKgUjR3NECkGXOAkisI1sD9nWTADHWzj/hcMjVSQs\n\
l+K0sEmRJZDKf9bhky+kV8Hft/XwMzShcQoyYBrNIYKcC3a2kEwPFwvUtm1nG8NH\n\
z8AFp5IKCKDZ97YHZcyshrtmieSq80B7t42XLyWe33P6vwYGtWfsqrSMDwceE/Zm\n\
ShTsMoMSchmaoOMVO1zzY+OmDaXPwQ2bPP4tZ/4tTF6/1aZk+A8/iikPJdR+pROO\n\
rMQQZ8Jxwfry92tQOpauPmlpSXszoIOHFKaXKRzrYRrtSfBw7c6C9cPsLKp0k5Uo\n\
iyXaNrIzk16g8QU5QFvE4NI0GA+B8M6BaHFQlCXGfQKBgQDm5sMA7sUZwn4/Jous\n\
UDCAmsx+iSDyUbUoLlbaTnWYaqory5FbUyl69URYyRwgvXsCFWtBBBDlsmWfgdbS\n\
IgStKPgQpw1Fy+CQiUI5Yx4GqgyuH6pGPN4rqg+flFexACsJzYgv6yCUUoQENgsI\n\
ZqrNqCRXJBSZldyHb9+Jcm+4LwKBgQDIoDYnT2Sw1lnpHJA6gQ8qkGuKNZfFA5Df\n\
+zoXQ+Jems4n0ccWjiMevNNkJAtTdvSnTv/kLGq2r/CS7OruVK9lRSJtYbr3i8GV\n\
wlQKl4mCqwCodM90e5PI5l1nJ2Htkqybcp1CBQGiSorpiIQMYCtJmZfDWY/e9uYy\n\
oeBeaSkfhQKBgBc5nuO5IJo2tfwkJGhwqHBHIcqYgHffQBmKj7Hlsm5iTDubfkNx\n\
WfrEMNu9XtbsODM9dExV3F0+VHp21OTOBypjtI/4PZ2HpE7lf4PGNH73G89n3/iw\n\
pqg9stSaVze2jJ2vzsMDI4PHyP+jb/ioWwXUo9MgDfJk4Im+9v0cRaCBAoGAdjd5\n\
UXaF1XGo7yRmlCKiJimNRJZJxMxSHLjzROw6Qhaj7XC+CDte1Gjdgv9+MQNCLCfv\n\
vqqxgs5vSpQR5re91kWDgMJ6og0W18D3NnqOi5FpxNl3uKJstY+QcA0TtiKcVMiX\n\
g2RhzxhvfCZ18LjmKOs5MuHeVbpUcHdUNy1uDuUCgYBmPOPNwzqtMTLEAs6indEs\n\
lBCDuU+7SsAyRBa0XeEKMGiKlo1CCqVR563nrgKHzrlJEanPsLG83gTr7FzsX4gV\n\
yLptRJcli7KsW1uyRfZBbLUkbaNYPl8CDxR4UMMFIyHlExKTY0J0eAvJ4TJT6kHz\n\
qMEi0QskuTsvaz4LTL7cuw==\n\
-----END PRIVATE KEY-----\n\
";
const KEY_2: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCyZZo/YUvT9uGv\n\
SGGLUcrGoaLip+svOxQuuYzxm69IW631Pq8YKmzQk9AYZdCPIZHr+/TOgSb23J3h\n\
2oyVR0s0cGXBtcjZSy3eHtCNLVhtoD97u+Du1IdVGM0g10aECxjIBlnjn3HW1cU+\n\
QGBwYgrYTSxgGI0T/gyEY6CHsjWPEZZS5FHSm0oHS83RawUUHoshnLgS1wcVejkY\n\
I+g2anKZwAvPOWkL1iRjFBiotJgpCDbwmYOiGp2PWbITcZpEgdp47WKJVAkWtiMg\n\
q78mSjaYYdibHZpRisNiD70q7A/BoRFT8H9hTo9Bj5GW4NaTpOGcgmZChy36FOnJ\n\
v5G+XcgjAgMBAAECggEABlQQsjc3M5Lk86JbhM/ceR+1FwRCQAqA+fKuxh1cjPJk\n\
9o0INLvAi2+gPf/9SNk12Mth0PeHlHyZWds2XySdzYOVNddx2LTQMOUinHd41RQO\n\
XHXQPLirqlWhuoytyDOv59yYe2N7FtYTfqoATHb15TFrpbxejiXWIit56jEPXFQC\n\
A8HOu+wlypRpnM1SK0wz52KUCfJwOFUI2yGWnzNh7Y2pvmNQFu2RUDGdgqJc7el/\n\
+bzgINP+/w0DAiuJ3LxStjM8WBAHJhkcHzugcv/3bzR2mQCLo2e096T4IOAGewZz\n\
gwrEKiIjZfaIiVrEd3O2GMLPIVtm1weDP4pKQ2AhOQKBgQDmvPHB46qKMZKTYMJp\n\
HzT3inqZHnXbupUU4h2MGpxz0nRFH0hP2+EK/BgpScGALCv6+CWLHVXLrtoWIX+b\n\
AS3ooicA6UQ6iMweta+yiOzT4CWN1LK5DH/ezlljev7oXE5M+bKKrTKVvZQqhhaD\n\
OQ2F79OZ6lRQBJEMqdRzWhmaqQKBgQDF7afZk0OWcXDl4m78PVPQ0r6RDLxmYkNc\n\
djW8kxiMLHtnsFIq6GIpC+0xnVNYjvkPZxSSDVpzBpREgwRmtGCv6fo9qHaFcTNZ\n\
JpNT6znFQQv905jkirnX94CQzHwCAYxC8wPPft8v/kEfwoUVK2fR0CZ8v95sa1Yi\n\
o23Bb5636wKBgQDepNcK5in7KxZqi2VMlkY/zim6cj/7hDCyc/Va6Zqp0BtNT4Ax\n\
PtQKC3Ms8/R5PyY5BxUDBY1x+wiJbk15PkwUO9My9+NUMAf2Yg5lUeZkE9do4iKK\n\
mNsSHT731Qj/IYKUmCSF19YF02aTGcvDV1wLL32Y+RneFGn6NC3CGOC38QKBgGLS\n\
4GXAI5TwGyCMyEFlFX5EWyXtJ/wuv9dgpj/7adxDMXJ6FOybjrdT3yBQnxaufCh2\n\
nUy3IhwggtMaX44wLb5noqw6esLx3GN84T6bSgL1EVmw1rv1kAkG6MhjcN9HipK6\n\
54IopKM/3aBP7Ua+n12hAjZzTkjv5tfwpZJZevP1AoGAdGty9vXODXyEU4lwK1/0\n\
JzflYfwXGg8KJJU+0IVQa+iylqKohXaSKFqfZ/Hx/QbwF4OF0qO5380/dTQXQZ/i\n\
ciDEEqiyhz0tKq5MFTTXunUziqbU82+HNIiD1pbs0EooO8cSfmMuC/4FPvPApETn\n\
tcKyjIg80L/RgpwYijMDl8Y=\n\
-----END PRIVATE KEY-----\n\
";
