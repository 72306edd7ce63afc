//! Finished responses that every anonymous visitor shares: the initiative's page (per
//! language), its API document and anonymous API searches. Most reads are anonymous, and these
//! are what a boosted post makes thousands of people and servers fetch within a minute.
//!
//! A response is kept only when the handler marks it [`Shareable`] (it built the anonymous
//! view) and the request carried no credentials at all: no `Authorization` header and no
//! session cookie, so signed-in users and moderators are always answered by the handler. An
//! entry is valid for one version of the directory ([`hromada_app::App::directory_version`]:
//! this process's writes count at once, other processes' within the change watch's interval)
//! and for about [`TTL`], which bounds what the change feed does not announce (a scheduled
//! update whose time has come, a trust status recomputed by a website check). Entries carry
//! an `ETag` (answered with 304 when it matches) and a gzip copy made once.
//!
//! One request at a time rebuilds an entry (single flight): when an entry has only outlived
//! its TTL, the others are still answered from it meanwhile (at most [`STALE_LIMIT`] old);
//! when there is none, or the directory changed, they wait for that one request instead of
//! all building the same page at once (a burst of readers would otherwise all miss together).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hromada_app::App;
use hromada_store::Version;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::pages::ctx;

/// Longest an entry is shown, whatever the change feed says.
pub const TTL: Duration = Duration::from_secs(1);
/// Oldest an expired entry may be and still answer while another request rebuilds it; past
/// that (a rebuild that hangs) the others wait too.
pub const STALE_LIMIT: Duration = Duration::from_secs(3);
/// Bounds the memory of the cache (bodies and their gzip copies).
const MAX_BYTES: usize = 8 * 1024 * 1024;
const MAX_ENTRIES: usize = 2_000;
/// Larger responses are not kept (a search page of long descriptions can be big).
const MAX_BODY: usize = 512 * 1024;
/// Smaller bodies are not worth compressing.
const GZIP_MIN: usize = 1024;

/// Put on a response (as an extension) by a handler that built the anonymous view of its
/// resource: the same for every visitor without credentials (in the request's language).
#[derive(Debug, Clone, Copy)]
pub struct Shareable;

/// Marks a response as shareable between anonymous visitors.
pub fn shareable(mut response: Response) -> Response {
    response.extensions_mut().insert(Shareable);
    response
}

/// Which responses the cache looks at, and what besides the path and query they depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// JSON: the same in every language.
    Api,
    /// HTML: one per language.
    Page,
}

fn kind_of(path: &str) -> Option<Kind> {
    let one_segment = |rest: &str| !rest.is_empty() && !rest.contains('/');
    if let Some(rest) = path.strip_prefix("/api/v1/initiatives") {
        return (rest.is_empty() || rest.strip_prefix('/').is_some_and(one_segment))
            .then_some(Kind::Api);
    }
    path.strip_prefix("/initiatives/")
        .filter(|rest| one_segment(rest))
        .map(|_| Kind::Page)
}

struct Entry {
    /// `""` for API documents, else the language code.
    variant: &'static str,
    version: Version,
    built: Instant,
    /// The handler's headers (security headers, content type, cache control), without cookies.
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
    gzip: OnceLock<Option<(Bytes, HeaderValue)>>,
    /// The handler's `Vary` already names `Accept-Encoding` (compression middleware).
    varies_by_encoding: bool,
}

/// What the cache holds for a request.
enum Found {
    Fresh(Arc<Entry>),
    /// Of the current directory version, but past its TTL: served only while another request
    /// rebuilds it.
    Expired(Arc<Entry>),
    Nothing,
}

impl Entry {
    fn state(self: &Arc<Self>, version: Version) -> Found {
        let age = self.built.elapsed();
        match () {
            _ if self.version != version || age >= STALE_LIMIT => Found::Nothing,
            _ if age < TTL => Found::Fresh(self.clone()),
            _ => Found::Expired(self.clone()),
        }
    }

    /// The gzip copy, made by the first visitor who can take it.
    fn gzip(&self) -> Option<&(Bytes, HeaderValue)> {
        self.gzip
            .get_or_init(|| {
                if self.body.len() < GZIP_MIN {
                    return None;
                }
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(&self.body).ok()?;
                let compressed = Bytes::from(encoder.finish().ok()?);
                let etag = HeaderValue::from_str(&format!(
                    "\"{}-gz\"",
                    self.etag.to_str().ok()?.trim_matches('"')
                ))
                .ok()?;
                Some((compressed, etag))
            })
            .as_ref()
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let (body, etag, gzip) = match self.gzip().filter(|_| accepts_gzip(request)) {
            Some((body, etag)) => (body.clone(), etag, true),
            None => (self.body.clone(), &self.etag, false),
        };
        let mut response = if matches_etag(request, etag) {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            let h = r.headers_mut();
            for name in [header::CACHE_CONTROL, header::VARY] {
                for value in self.headers.get_all(&name) {
                    h.append(name.clone(), value.clone());
                }
            }
            r
        } else {
            let mut r = Response::new(Body::from(body));
            *r.headers_mut() = self.headers.clone();
            if gzip {
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            r
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, etag.clone());
        if self.body.len() >= GZIP_MIN && !self.varies_by_encoding {
            h.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        response
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

#[derive(Default)]
struct Entries {
    by_path: HashMap<String, Vec<Arc<Entry>>>,
    bytes: usize,
    count: usize,
}

impl Entries {
    fn cost(entry: &Entry, path: &str) -> usize {
        // The gzip copy is counted before it exists: it is at most about the body's size.
        2 * entry.body.len() + path.len() + 512
    }

    fn insert(&mut self, path: &str, entry: Arc<Entry>) {
        let cost = Self::cost(&entry, path);
        if self.bytes + cost > MAX_BYTES || self.count >= MAX_ENTRIES {
            // Entries past their TTL are of no use; if the fresh ones alone are too many,
            // start over (the next requests rebuild what is read).
            self.by_path.retain(|_, v| {
                v.retain(|e| e.built.elapsed() < TTL);
                !v.is_empty()
            });
            self.recount();
            if self.bytes + cost > MAX_BYTES || self.count >= MAX_ENTRIES {
                self.by_path.clear();
                self.recount();
            }
        }
        let slot = self.by_path.entry(path.to_string()).or_default();
        if let Some(at) = slot.iter().position(|e| e.variant == entry.variant) {
            let old = slot.swap_remove(at);
            self.bytes -= Self::cost(&old, path);
            self.count -= 1;
        }
        slot.push(entry);
        self.bytes += cost;
        self.count += 1;
    }

    fn recount(&mut self) {
        self.bytes = 0;
        self.count = 0;
        for (path, v) in &self.by_path {
            self.count += v.len();
            self.bytes += v.iter().map(|e| Self::cost(e, path)).sum::<usize>();
        }
    }
}

/// The cache and what it needs to know about requests; the state of [`shared_responses`].
#[derive(Clone)]
pub struct ResponseCache {
    app: App,
    secure: bool,
    entries: Arc<RwLock<Entries>>,
    building: InFlight,
}

/// The responses being built now, by path and variant; the receivers learn that a build is
/// over when its sender is dropped.
type InFlight = Arc<Mutex<HashMap<(String, &'static str), watch::Receiver<()>>>>;

/// Held by the one request that builds a response: when it is dropped (built, or the request
/// was abandoned) the waiting requests wake up and look again.
struct Building {
    building: InFlight,
    key: (String, &'static str),
    _done: watch::Sender<()>,
}

impl Drop for Building {
    fn drop(&mut self) {
        if let Ok(mut building) = self.building.lock() {
            building.remove(&self.key);
        }
    }
}

/// Who builds a response that is missing or expired.
enum Turn {
    Build(Building),
    Wait(watch::Receiver<()>),
}

impl ResponseCache {
    pub fn new(app: App, secure: bool) -> Self {
        Self {
            app,
            secure,
            entries: Arc::default(),
            building: Arc::default(),
        }
    }

    fn get(&self, path: &str, variant: &str, version: Version) -> Found {
        let Ok(entries) = self.entries.read() else {
            return Found::Nothing;
        };
        entries
            .by_path
            .get(path)
            .and_then(|v| v.iter().find(|e| e.variant == variant))
            .map_or(Found::Nothing, |e| e.state(version))
    }

    /// The first request to ask builds; the others get a receiver that wakes when it is done.
    fn turn(&self, path: &str, variant: &'static str) -> Option<Turn> {
        let mut building = self.building.lock().ok()?;
        let key = (path.to_string(), variant);
        if let Some(done) = building.get(&key) {
            return Some(Turn::Wait(done.clone()));
        }
        let (sender, receiver) = watch::channel(());
        building.insert(key.clone(), receiver);
        Some(Turn::Build(Building {
            building: self.building.clone(),
            key,
            _done: sender,
        }))
    }

    fn put(&self, path: &str, entry: Arc<Entry>) {
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(path, entry);
        }
    }
}

/// Middleware: answers shareable GETs of visitors without credentials from the cache, and
/// keeps what the handlers mark [`Shareable`].
pub async fn shared_responses(
    State(cache): State<ResponseCache>,
    mut request: Request,
    next: Next,
) -> Response {
    let kind = match *request.method() {
        Method::GET => kind_of(request.uri().path()),
        _ => None,
    };
    let Some(kind) = kind else {
        return next.run(request).await;
    };
    let headers = request.headers();
    if headers.contains_key(header::AUTHORIZATION)
        || ctx::session_secret(headers, cache.secure).is_some()
    {
        return next.run(request).await;
    }
    let variant = match kind {
        Kind::Api => "",
        Kind::Page => ctx::request_lang(headers, cache.secure).code(),
    };
    let Some(path) = request.uri().path_and_query().map(|p| p.as_str()) else {
        return next.run(request).await;
    };
    let version = cache.app.directory_version().await;
    let expired = match cache.get(path, variant, version) {
        Found::Fresh(entry) => return entry.respond(headers),
        Found::Expired(entry) => Some(entry),
        Found::Nothing => None,
    };
    let building = match cache.turn(path, variant) {
        Some(Turn::Build(building)) => Some(building),
        Some(Turn::Wait(mut done)) => {
            if let Some(entry) = expired {
                return entry.respond(headers);
            }
            // Err means the builder is done (its sender is gone), which is what we wait for.
            let _ = done.changed().await;
            if let Found::Fresh(entry) | Found::Expired(entry) = cache.get(path, variant, version) {
                return entry.respond(headers);
            }
            // Nothing was kept (not found, not shareable): answer this request on its own.
            None
        }
        None => None,
    };
    let path = path.to_string();
    let asked = request.headers().clone();
    // The handler's answer is kept uncompressed; the gzip copy is made here once.
    request.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = next.run(request).await;
    let keep = response.status() == StatusCode::OK
        && response.extensions().get::<Shareable>().is_some()
        && response.headers().get(header::CONTENT_ENCODING).is_none()
        && response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|n| n <= MAX_BODY as u64);
    if !keep {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        tracing::error!(path, "a shareable response body could not be read");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut headers = parts.headers;
    // The cookies the handler set (a new visitor's CSRF token) are this visitor's only.
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    for name in [
        header::SET_COOKIE,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::ETAG,
    ] {
        headers.remove(name);
    }
    let digest = Sha256::digest(&body);
    let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..8])))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    let varies_by_encoding = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    let entry = Arc::new(Entry {
        variant,
        version,
        built: Instant::now(),
        headers,
        body,
        etag,
        gzip: OnceLock::new(),
        varies_by_encoding,
    });
    cache.put(&path, entry.clone());
    drop(building);
    let mut response = entry.respond(&asked);
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shared_routes_are_looked_at() {
        assert_eq!(kind_of("/api/v1/initiatives"), Some(Kind::Api));
        assert_eq!(kind_of("/api/v1/initiatives/kharkiv"), Some(Kind::Api));
        assert_eq!(kind_of("/api/v1/initiatives/a@b.org"), Some(Kind::Api));
        assert_eq!(kind_of("/api/v1/initiatives/kharkiv/trust"), None);
        assert_eq!(kind_of("/api/v1/initiatives/"), None);
        assert_eq!(kind_of("/api/v1/initiativesx"), None);
        assert_eq!(kind_of("/initiatives/kharkiv"), Some(Kind::Page));
        assert_eq!(kind_of("/initiatives/kharkiv/report"), None);
        assert_eq!(kind_of("/initiatives/"), None);
        assert_eq!(kind_of("/dashboard/kharkiv"), None);
    }

    #[test]
    fn encodings_and_etags_are_read() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, GZIP;q=0.5"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(!matches_etag(&h, &etag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(matches_etag(&h, &etag));
    }

    /// How often the handler ran, and the most runs at one time.
    #[derive(Default)]
    struct Builds {
        total: std::sync::atomic::AtomicUsize,
        running: std::sync::atomic::AtomicUsize,
        most_at_once: std::sync::atomic::AtomicUsize,
    }

    /// A router whose one shareable route counts how often it is built and takes a while.
    async fn counting_app(dir: &tempfile::TempDir) -> (axum::Router, Arc<Builds>) {
        use std::sync::atomic::Ordering;
        let url = format!("sqlite://{}", dir.path().join("cache.db").display());
        let store = hromada_store_sqlite::SqliteStore::connect(&url)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let app = App::new(Arc::new(store));
        let builds = Arc::new(Builds::default());
        let counted = builds.clone();
        let handler = move |axum::extract::Path(handle): axum::extract::Path<String>| {
            let counted = counted.clone();
            async move {
                counted.total.fetch_add(1, Ordering::SeqCst);
                let running = counted.running.fetch_add(1, Ordering::SeqCst) + 1;
                counted.most_at_once.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                counted.running.fetch_sub(1, Ordering::SeqCst);
                if handle == "missing" {
                    return StatusCode::NOT_FOUND.into_response();
                }
                shareable(format!("<p>{handle}</p>").into_response())
            }
        };
        let router = axum::Router::new()
            .route("/initiatives/{handle}", axum::routing::get(handler))
            .layer(axum::middleware::from_fn_with_state(
                ResponseCache::new(app, false),
                shared_responses,
            ));
        (router, builds)
    }

    /// `n` anonymous visitors at once; their statuses and bodies.
    async fn burst(router: &axum::Router, path: &str, n: usize) -> Vec<(u16, Bytes)> {
        use tower::ServiceExt;
        let requests = (0..n).map(|_| {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                (
                    status,
                    axum::body::to_bytes(response.into_body(), 1 << 20)
                        .await
                        .unwrap(),
                )
            }
        });
        let mut answers = Vec::new();
        for handle in requests.map(tokio::spawn).collect::<Vec<_>>() {
            answers.push(handle.await.unwrap());
        }
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_visitors_builds_a_page_once() {
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let (router, builds) = counting_app(&dir).await;
        let page = (200, Bytes::from("<p>medics</p>"));

        let answers = burst(&router, "/initiatives/medics", 32).await;
        assert!(answers.iter().all(|a| *a == page), "{answers:?}");
        assert_eq!(
            builds.total.load(Ordering::SeqCst),
            1,
            "the others waited for the first"
        );

        // Expired: one visitor rebuilds while the others are answered from the old copy.
        tokio::time::sleep(TTL + Duration::from_millis(50)).await;
        let answers = burst(&router, "/initiatives/medics", 16).await;
        assert!(answers.iter().all(|a| *a == page));
        assert_eq!(builds.total.load(Ordering::SeqCst), 2);
        assert_eq!(builds.most_at_once.load(Ordering::SeqCst), 1);

        // What is not kept (a 404) is built for each visitor, and not one after another.
        let answers = burst(&router, "/initiatives/missing", 8).await;
        assert!(answers.iter().all(|(status, _)| *status == 404));
        assert!(builds.total.load(Ordering::SeqCst) >= 2 + 2, "not kept");
        assert!(
            builds.most_at_once.load(Ordering::SeqCst) >= 2,
            "none waits in line"
        );
    }
}
