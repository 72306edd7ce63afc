//! `GET /healthz`: whether the node can serve, i.e. whether its database answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::WebState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Health check for load balancers and monitoring.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "node",
    responses(
        (status = 200, description = "The node and its database work", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
pub(crate) async fn healthz(State(state): State<WebState>) -> (StatusCode, Json<Health>) {
    match state.app().store().ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok" })),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                }),
            )
        }
    }
}
