//! Moderators' routes: reviewing submissions, status changes, maintainers and the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hromada_domain::{InitiativeStatus, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::{AuditPage, InitiativeView};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::WebState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the submitter and the audit log (at most 1000 characters).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `paused` or `published` (resume): maintainers and moderators; `archived`, and
    /// `published` from archived: moderators only.
    pub status: InitiativeStatus,
    /// Kept in the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintainerRequest {
    /// An existing account, which may then edit this initiative.
    pub username: String,
}

/// Approve a pending submission (moderators): it is published and listed.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/approve",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Published", body = InitiativeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "It is not pending", body = ErrorBody),
    )
)]
pub(crate) async fn approve(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
) -> Result<Json<InitiativeView>, ApiError> {
    let initiative = state.app().approve(&auth.user, &handle).await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}

/// Reject a pending submission with a reason (moderators).
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/reject",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = RejectRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rejected", body = InitiativeView),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "It is not pending", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The reason is missing or too long", body = ErrorBody),
    )
)]
pub(crate) async fn reject(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(request): ApiJson<RejectRequest>,
) -> Result<Json<InitiativeView>, ApiError> {
    let initiative = state
        .app()
        .reject(&auth.user, &handle, &request.reason)
        .await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}

/// Pause, resume, archive or restore a published initiative.
///
/// Maintainers may pause and resume their own initiative; archiving and restoring is for
/// moderators. Every change is kept in the audit log.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/status",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = StatusRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new status applies", body = InitiativeView),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not allowed to make this change", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The workflow does not allow this change", body = ErrorBody),
    )
)]
pub(crate) async fn set_status(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Result<Json<InitiativeView>, ApiError> {
    if let Some(reason) = &request.reason {
        let mut e = ValidationErrors::new();
        e.max_len("reason", reason, 1000);
        e.into_result(())?;
    }
    let initiative = state
        .app()
        .set_status(
            &auth.user,
            &handle,
            request.status,
            request.reason.as_deref(),
        )
        .await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}

/// Make an account a maintainer of this initiative (moderators).
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/maintainers",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = MaintainerRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The account maintains the initiative (also if it already did)"),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative or account", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn add_maintainer(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(request): ApiJson<MaintainerRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app()
        .add_maintainer(Some(&auth.user), &request.username, &handle)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account that maintains an initiative.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaintainerView {
    pub username: String,
    /// A disabled account cannot sign in, so it maintains nothing until enabled again.
    pub disabled: bool,
}

impl From<hromada_domain::User> for MaintainerView {
    fn from(u: hromada_domain::User) -> Self {
        Self {
            username: u.username,
            disabled: u.disabled,
        }
    }
}

/// The accounts that maintain this initiative (its maintainers and moderators).
#[utoipa::path(
    get,
    path = "/api/v1/initiatives/{handle}/maintainers",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The maintainers", body = Vec<MaintainerView>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither a maintainer of it nor a moderator, or a listing of another node", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
    )
)]
pub(crate) async fn list_maintainers(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
) -> Result<Json<Vec<MaintainerView>>, ApiError> {
    let (_, users) = state.app().maintainers(&auth.user, &handle).await?;
    Ok(Json(users.into_iter().map(MaintainerView::from).collect()))
}

/// Stop an account maintaining this initiative (moderators). Its sessions go on, without
/// access to this initiative.
#[utoipa::path(
    delete,
    path = "/api/v1/initiatives/{handle}/maintainers/{username}",
    tag = "moderation",
    params(
        ("handle" = String, Path, description = "The initiative's handle"),
        ("username" = String, Path, description = "The maintainer's username"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The account no longer maintains the initiative"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative or account, or the account does not maintain it", body = ErrorBody),
    )
)]
pub(crate) async fn remove_maintainer(
    State(state): State<WebState>,
    ApiPath((handle, username)): ApiPath<(String, String)>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state
        .app()
        .remove_maintainer(Some(&auth.user), &username, &handle)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries per page, 1–500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Entries to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// The audit log, newest first (moderators): every moderation decision, status change,
/// maintainer assignment, account and token change.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "moderation",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "A parameter is not a number in range", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
    )
)]
pub(crate) async fn audit_log(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let mut e = ValidationErrors::new();
    let mut number =
        |field: &str, value: &Option<String>, default: u32, range: (u32, u32)| match value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => default,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (range.0..=range.1).contains(&n) => n,
                _ => {
                    e.add(
                        field,
                        "invalid_number",
                        format!("must be a whole number from {} to {}", range.0, range.1),
                    );
                    default
                }
            },
        };
    let limit = number("limit", &params.limit, 100, (1, 500));
    let offset = number("offset", &params.offset, 0, (0, u32::MAX));
    e.into_result(()).map_err(ApiError::invalid_query)?;
    let items = state.app().audit_log(&auth.user, limit, offset).await?;
    Ok(Json(AuditPage {
        items,
        limit,
        offset,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Why, for the audit log (at most 1000 characters kept).
    pub reason: Option<String>,
}

/// Delete a local initiative as a whole, with its needs, updates and events (moderators).
///
/// Its followers on the fediverse and the nodes that follow this one are told (`Delete`, through
/// the delivery queue); its actor URL, objects and page answer 410 afterwards, and its handle is
/// never given out again on this node. Kept in the audit log.
#[utoipa::path(
    delete,
    path = "/api/v1/initiatives/{handle}",
    tag = "moderation",
    params(("handle" = String, Path, description = "The initiative's handle"), DeleteParams),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator, or a listing from another node", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
    )
)]
pub(crate) async fn delete_initiative(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<StatusCode, ApiError> {
    state
        .app()
        .delete_initiative(Some(&auth.user), &handle, params.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
