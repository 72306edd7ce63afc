//! Hromada's HTTP edge: the JSON API v1 under `/api/v1` with its OpenAPI document, and
//! `/healthz`. Server-rendered pages will live in `pages/` and share the pieces here: the state,
//! the error type, credential extraction and the request extractors.
//!
//! The server mounts [`router`] and serves it with
//! `into_make_service_with_connect_info::<SocketAddr>()`, so rate limits (logins, submissions,
//! reports) can see the client's address. Must not depend on sqlx, the store implementations or
//! activitypub_federation.

pub mod api;
pub mod auth;
pub mod cache;
pub mod client;
pub mod error;
pub mod extract;
mod health;
pub mod media;
pub mod pages;
mod routing;
mod state;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

pub use error::{ApiError, ErrorBody};
pub use state::{WebSettings, WebState};

/// Where the JSON API is mounted.
pub const API_PREFIX: &str = "/api/v1";

fn root_routes() -> Vec<routing::Route> {
    vec![routing::Route::get("/healthz", health::healthz)]
}

/// Every route the web edge serves, with access logs, shared anonymous responses and panic
/// safety applied.
pub fn router(state: WebState) -> Router {
    let secure = state.settings().public_url.scheme() == "https";
    let shared = cache::ResponseCache::new(state.app().clone(), secure);
    routing::build(root_routes())
        .nest(API_PREFIX, api::router(&state))
        .merge(pages::router(&state))
        .layer(middleware::from_fn_with_state(
            shared,
            cache::shared_responses,
        ))
        .layer(middleware::from_fn(access_log))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Outside the panic catcher, so its 500 carries the header too.
        .layer(middleware::map_response_with_state(
            secure,
            strict_transport,
        ))
        .with_state(state)
}

/// On https, tells browsers to come back over https only (HSTS), so a later visit cannot be
/// downgraded to plain http on the way, e.g. to a fake sign-in page.
async fn strict_transport(State(secure): State<bool>, mut response: Response) -> Response {
    if secure {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// One line per request that changes something or fails, at `info`; successful reads only at
/// `debug` (formatting and writing a line per read costs more than serving a cached page).
/// The path is logged but never the query string: search words and form values say more
/// about people than an access log should keep.
async fn access_log(request: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let method = request.method().clone();
    let read = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let detailed = tracing::enabled!(tracing::Level::DEBUG);
    if read && !detailed {
        let uri = request.uri().clone();
        let response = next.run(request).await;
        if response.status().is_server_error() {
            let status = response.status().as_u16();
            tracing::warn!(%method, path = uri.path(), status, "request failed");
        }
        return response;
    }
    let path = request.uri().path().to_string();
    let span = tracing::debug_span!("request", %method, %path);
    let response = next.run(request).instrument(span).await;
    let status = response.status().as_u16();
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    if read && status < 500 {
        tracing::debug!(%method, %path, status, latency_ms, "request");
    } else if status >= 500 {
        tracing::warn!(%method, %path, status, latency_ms, "request failed");
    } else {
        tracing::info!(%method, %path, status, latency_ms, "request");
    }
    response
}

/// Method and full path of every machine-readable route (the API and `/healthz`), as the
/// router registers them. The OpenAPI document must describe each of them.
pub fn documented_routes() -> Vec<(Method, String)> {
    let root = root_routes()
        .into_iter()
        .map(|r| (r.method, r.path.to_string()));
    let api = api::routes()
        .into_iter()
        .map(|r| (r.method, format!("{API_PREFIX}{}", r.path)));
    root.chain(api).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_https_nodes_ask_for_https_only() {
        let hsts = |r: &Response| r.headers().get(header::STRICT_TRANSPORT_SECURITY).cloned();
        let on_https = strict_transport(State(true), Response::default()).await;
        assert_eq!(hsts(&on_https).unwrap(), "max-age=31536000");
        let on_http = strict_transport(State(false), Response::default()).await;
        assert_eq!(hsts(&on_http), None);
    }
}
