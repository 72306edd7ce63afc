//! What maintainers keep current under an initiative: needs, updates and events.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use hromada_domain::{
    Event, EventInput, LineItem, Need, NeedInput, NeedPatch, Update, UpdateInput, UpdateKind,
    ValidationErrors,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::WebState;

type Created<T> = (StatusCode, [(header::HeaderName, String); 1], Json<T>);

fn created<T>(state: &WebState, path: String, value: T) -> Created<T> {
    (
        StatusCode::CREATED,
        [(header::LOCATION, state.settings().url_for(&path))],
        Json(value),
    )
}

/// Add a need to an initiative (its maintainers and moderators).
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/needs",
    tag = "needs",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = NeedInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The need", body = Need,
            headers(("Location" = String, description = "The need's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn add_need(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(input): ApiJson<NeedInput>,
) -> Result<Created<Need>, ApiError> {
    let need = state.app().add_need(&auth.user, &handle, input).await?;
    Ok(created(&state, format!("/api/v1/needs/{}", need.id), need))
}

/// One need of a public initiative.
#[utoipa::path(
    get,
    path = "/api/v1/needs/{id}",
    tag = "needs",
    params(("id" = Uuid, Path, description = "The need's id")),
    responses(
        (status = 200, description = "The need", body = Need),
        (status = 404, description = "No such need on a public initiative", body = ErrorBody),
    )
)]
pub(crate) async fn get_need(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Need>, ApiError> {
    let (_, need) = state.app().public_need(id).await?;
    Ok(Json(need))
}

/// Edit a need, e.g. record what was raised or mark it funded (its initiative's maintainers
/// and moderators).
#[utoipa::path(
    patch,
    path = "/api/v1/needs/{id}",
    tag = "needs",
    params(("id" = Uuid, Path, description = "The need's id")),
    request_body = NeedPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited need", body = Need),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of its initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such need", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn edit_need(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiJson(patch): ApiJson<NeedPatch>,
) -> Result<Json<Need>, ApiError> {
    Ok(Json(state.app().edit_need(&auth.user, id, patch).await?))
}

/// Post news or a spending report (its maintainers and moderators). `publish_at` delays
/// publication; until then only maintainers and moderators see it.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/updates",
    tag = "updates",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = UpdateInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The update", body = Update,
            headers(("Location" = String, description = "The update's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn post_update(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(input): ApiJson<UpdateInput>,
) -> Result<Created<Update>, ApiError> {
    let update = state.app().post_update(&auth.user, &handle, input).await?;
    Ok(created(
        &state,
        format!("/api/v1/updates/{}", update.id),
        update,
    ))
}

/// One published update of a public initiative.
#[utoipa::path(
    get,
    path = "/api/v1/updates/{id}",
    tag = "updates",
    params(("id" = Uuid, Path, description = "The update's id")),
    responses(
        (status = 200, description = "The update", body = Update),
        (status = 404, description = "No such published update", body = ErrorBody),
    )
)]
pub(crate) async fn get_update(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Update>, ApiError> {
    let (_, update) = state.app().public_update(id).await?;
    Ok(Json(update))
}

/// What kind an update becomes when edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKindCode {
    News,
    SpendingReport,
}

/// Fields of an update to change; absent fields stay as they are. `items` without `kind`
/// makes the update a spending report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePatch {
    /// Markdown.
    pub body: Option<String>,
    pub kind: Option<UpdateKindCode>,
    /// The line items of a spending report.
    pub items: Option<Vec<LineItem>>,
}

impl UpdatePatch {
    fn kind(self) -> Result<(Option<String>, Option<UpdateKind>), ValidationErrors> {
        let kind = match (self.kind, self.items) {
            (None, None) => None,
            (Some(UpdateKindCode::News), None) => Some(UpdateKind::News),
            (Some(UpdateKindCode::News), Some(_)) => {
                return Err(ValidationErrors::single(
                    "items",
                    "not_a_report",
                    "only spending reports have items",
                ));
            }
            (Some(UpdateKindCode::SpendingReport), None) => {
                return Err(ValidationErrors::single(
                    "items",
                    "required",
                    "a spending report lists at least one item",
                ));
            }
            (_, Some(items)) => Some(UpdateKind::SpendingReport { items }),
        };
        Ok((self.body, kind))
    }
}

/// Edit an update (its initiative's maintainers and moderators).
#[utoipa::path(
    patch,
    path = "/api/v1/updates/{id}",
    tag = "updates",
    params(("id" = Uuid, Path, description = "The update's id")),
    request_body = UpdatePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited update", body = Update),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of its initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such update", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn edit_update(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiJson(patch): ApiJson<UpdatePatch>,
) -> Result<Json<Update>, ApiError> {
    let (body, kind) = patch.kind()?;
    Ok(Json(
        state.app().edit_update(&auth.user, id, body, kind).await?,
    ))
}

/// Delete an update (its initiative's maintainers and moderators). Its id is never reused.
#[utoipa::path(
    delete,
    path = "/api/v1/updates/{id}",
    tag = "updates",
    params(("id" = Uuid, Path, description = "The update's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of its initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such update", body = ErrorBody),
    )
)]
pub(crate) async fn delete_update(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state.app().delete_update(&auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Announce a solidarity event (its initiative's maintainers and moderators). Beneficiaries
/// must be published initiatives of this node.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/events",
    tag = "events",
    params(("handle" = String, Path, description = "The handle of the initiative announcing it")),
    request_body = EventInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The event", body = Event,
            headers(("Location" = String, description = "The event's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn add_event(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(input): ApiJson<EventInput>,
) -> Result<Created<Event>, ApiError> {
    let event = state.app().add_event(&auth.user, &handle, input).await?;
    Ok(created(
        &state,
        format!("/api/v1/events/{}", event.id),
        event,
    ))
}

/// One event of a public initiative.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = Event),
        (status = 404, description = "No such event on a public initiative", body = ErrorBody),
    )
)]
pub(crate) async fn get_event(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Event>, ApiError> {
    let (_, event) = state.app().public_event(id).await?;
    Ok(Json(event))
}
