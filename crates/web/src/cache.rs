//! Finished responses that every anonymous visitor shares: the initiative's page (per
//! language), its API document and anonymous API searches. Most reads are anonymous, and these
//! are what a boosted post makes thousands of people and servers fetch within a minute.
//!
//! A response is kept only when the handler marks it [`Shareable`] (it built the anonymous
//! view) and the request carried no credentials at all: no `Authorization` header and no
//! session cookie, so signed-in users and moderators are always answered by the handler. An
//! entry is valid for one version of the directory ([`hromada_app::App::directory_version`]:
//! this process's writes count at once, other processes' within the change watch's interval)
//! and for at most [`TTL`], which bounds what the change feed does not announce (a scheduled
//! update whose time has come, a trust status recomputed by a website check). Entries carry
//! an `ETag` (answered with 304 when it matches) and a gzip copy made once.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hromada_app::App;
use hromada_store::Version;
use sha2::{Digest, Sha256};

use crate::pages::ctx;

/// Longest an entry is shown, whatever the change feed says.
pub const TTL: Duration = Duration::from_secs(1);
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

impl Entry {
    fn fresh(&self, version: Version) -> bool {
        self.version == version && self.built.elapsed() < TTL
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
}

impl ResponseCache {
    pub fn new(app: App, secure: bool) -> Self {
        Self {
            app,
            secure,
            entries: Arc::default(),
        }
    }

    fn get(&self, path: &str, variant: &str, version: Version) -> Option<Arc<Entry>> {
        let entries = self.entries.read().ok()?;
        entries
            .by_path
            .get(path)?
            .iter()
            .find(|e| e.variant == variant && e.fresh(version))
            .cloned()
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
    if let Some(entry) = cache.get(path, variant, version) {
        return entry.respond(headers);
    }
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
}
