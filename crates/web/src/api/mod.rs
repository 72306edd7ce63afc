//! JSON API v1. Paths here are relative to [`crate::API_PREFIX`]; scripts depend on them, so
//! existing ones never change meaning.

mod accounts;
mod inbox;
mod initiatives;
mod items;
pub(crate) mod moderation;
mod network;
pub mod openapi;
mod pictures;
pub mod trust;
pub mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::routing::{self, Route};
use crate::state::WebState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/openapi.json", openapi::openapi_json),
        // accounts
        Route::post("/auth/token", accounts::create_token),
        Route::get("/auth/tokens", accounts::list_tokens),
        Route::delete("/auth/tokens/{id}", accounts::revoke_token),
        Route::get("/auth/me", accounts::me),
        Route::get("/users", accounts::list_users),
        Route::post("/users", accounts::create_user),
        Route::patch("/users/{username}", accounts::change_user),
        // the directory
        Route::get("/initiatives", initiatives::search),
        Route::post("/initiatives", initiatives::submit),
        Route::get("/initiatives/{handle}", initiatives::detail),
        Route::patch("/initiatives/{handle}", initiatives::edit),
        Route::delete("/initiatives/{handle}", moderation::delete_initiative),
        Route::put("/initiatives/{handle}/avatar", pictures::put_avatar).upload(),
        Route::delete("/initiatives/{handle}/avatar", pictures::delete_avatar).upload(),
        Route::put("/initiatives/{handle}/header", pictures::put_header).upload(),
        Route::delete("/initiatives/{handle}/header", pictures::delete_header).upload(),
        // an initiative's inbox
        Route::get("/initiatives/{handle}/replies", inbox::replies),
        Route::get(
            "/initiatives/{handle}/follow-requests",
            inbox::follow_requests,
        ),
        Route::post(
            "/initiatives/{handle}/follow-requests/{id}/accept",
            inbox::accept_follow,
        ),
        Route::post(
            "/initiatives/{handle}/follow-requests/{id}/reject",
            inbox::reject_follow,
        ),
        Route::post("/initiatives/{handle}/needs", items::add_need),
        Route::post("/initiatives/{handle}/updates", items::post_update),
        Route::post("/media", items::upload_media).upload(),
        Route::post("/initiatives/{handle}/events", items::add_event),
        Route::get("/needs/{id}", items::get_need),
        Route::patch("/needs/{id}", items::edit_need),
        Route::get("/updates/{id}", items::get_update),
        Route::patch("/updates/{id}", items::edit_update),
        Route::delete("/updates/{id}", items::delete_update),
        Route::get("/events/{id}", items::get_event),
        Route::patch("/events/{id}", items::edit_event),
        // moderation
        Route::post("/initiatives/{handle}/approve", moderation::approve),
        Route::post("/initiatives/{handle}/reject", moderation::reject),
        Route::post("/initiatives/{handle}/status", moderation::set_status),
        Route::post(
            "/initiatives/{handle}/maintainers",
            moderation::add_maintainer,
        ),
        Route::get(
            "/initiatives/{handle}/maintainers",
            moderation::list_maintainers,
        ),
        Route::delete(
            "/initiatives/{handle}/maintainers/{username}",
            moderation::remove_maintainer,
        ),
        Route::get("/audit", moderation::audit_log),
        // the network of nodes
        Route::get("/peers", network::list_peers),
        Route::post("/peers", network::follow_peer),
        Route::delete("/peers/{domain}", network::unfollow_peer),
        Route::patch("/peers/{domain}", network::change_peer),
        Route::post("/peers/{domain}/approve", network::approve_peer),
        Route::post("/peers/{domain}/reject", network::reject_peer),
        Route::get("/blocks", network::list_blocks),
        Route::post("/blocks", network::block),
        Route::post("/blocks/import", network::import_blocks),
        Route::delete("/blocks/{domain}", network::unblock),
        Route::get("/admin/queue", network::queue),
        // trust
        Route::post("/initiatives/{handle}/vouches", trust::vouch),
        Route::post("/initiatives/{handle}/warnings", trust::warn),
        Route::get("/initiatives/{handle}/trust", trust::initiative_trust),
        Route::post("/initiatives/{handle}/reports", trust::report),
        Route::get("/vouches/{id}", trust::get_vouch),
        Route::delete("/vouches/{id}", trust::withdraw_vouch),
        Route::get("/warnings/{id}", trust::get_warning),
        Route::delete("/warnings/{id}", trust::withdraw_warning),
        Route::get("/trust-policy", trust::get_policy),
        Route::put("/trust-policy", trust::put_policy),
        Route::get("/reports", trust::list_reports),
        Route::post("/reports/{id}/resolve", trust::resolve_report),
        Route::post("/reports/{id}/dismiss", trust::dismiss_report),
        Route::get("/transparency", trust::transparency),
        Route::get("/transparency.atom", trust::transparency_atom),
    ]
}

/// The API router (to be nested under `/api/v1`): JSON errors for unknown routes and methods,
/// and the body limits (the configured JSON limit; the picture limit for uploads).
pub(crate) fn router(state: &WebState) -> Router<WebState> {
    let limit = state.settings().json_body_limit;
    let (uploads, json): (Vec<Route>, Vec<Route>) = routes().into_iter().partition(|r| r.upload);
    // The limit layers answer oversized bodies before they are read; axum's own default
    // limit is turned off so there is exactly one limit per route.
    // Each group's 413 names its own limit.
    let limited = |routes: Vec<Route>, limit: usize| {
        routing::build(routes)
            .layer(RequestBodyLimitLayer::new(limit))
            .layer(axum::Extension(BodyLimit(limit)))
            .layer(middleware::map_response_with_state(
                limit,
                json_limit_errors,
            ))
    };
    limited(json, limit)
        .merge(limited(uploads, pictures::PICTURE_BODY_LIMIT))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::disable())
}

async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "there is no such route in API v1; see /api/v1/openapi.json",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /api/v1/openapi.json",
    )
}

/// The body limit layer answers 413 in plain text; API clients get the JSON error shape.
async fn json_limit_errors(State(limit): State<usize>, response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::payload_too_large(limit).into_response();
    }
    response
}
