//! `GET /healthz`: whether the node can serve, i.e. whether its database answers (and, on
//! SQLite, whether its file is still where the node opened it).

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
    /// Why the node is unavailable (the details are in the node's log); absent when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// A load balancer waits no longer than this for an answer.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

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
    let reason = match tokio::time::timeout(PING_TIMEOUT, state.app().store().ping()).await {
        Ok(Ok(())) => {
            return (
                StatusCode::OK,
                Json(Health {
                    status: "ok",
                    reason: None,
                }),
            );
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database unavailable");
            "the database does not answer or its file is gone; see the node's log"
        }
        Err(_) => {
            tracing::error!("health check: the database did not answer within 5 s");
            "the database did not answer within 5 seconds"
        }
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Health {
            status: "unavailable",
            reason: Some(reason),
        }),
    )
}
