//! Hromada's HTTP edge: the JSON API v1 under `/api/v1` with its OpenAPI document, and
//! `/healthz`. Server-rendered pages will live in `pages/` and share the pieces here: the state,
//! the error type, credential extraction and the request extractors.
//!
//! The server mounts [`router`] and serves it with
//! `into_make_service_with_connect_info::<SocketAddr>()`, so login rate limiting can see the
//! client's address. Must not depend on sqlx, the store implementations or
//! activitypub_federation.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
mod health;
pub mod media;
pub mod pages;
pub mod ratelimit;
mod routing;
mod state;

use axum::Router;
use axum::http::Method;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::{ApiError, ErrorBody};
pub use state::{WebSettings, WebState};

/// Where the JSON API is mounted.
pub const API_PREFIX: &str = "/api/v1";

fn root_routes() -> Vec<routing::Route> {
    vec![routing::Route::get("/healthz", health::healthz)]
}

/// Every route the web edge serves, with tracing and panic safety applied.
pub fn router(state: WebState) -> Router {
    routing::build(root_routes())
        .nest(API_PREFIX, api::router(&state))
        .merge(pages::router(&state))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

/// One span per request, with the path but never the query string: search words and form
/// values say more about people than an access log should keep.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
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
