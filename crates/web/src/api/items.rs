//! What maintainers keep current under an initiative: needs, updates and events.

use axum::Json;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::http::{StatusCode, header};
use hromada_domain::{
    Event, EventInput, EventPatch, LineItem, Need, NeedInput, NeedPatch, Photo, Update,
    UpdateInput, UpdateKind, ValidationErrors,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::media::{MediaStore, PhotoError};
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
/// publication; until then only maintainers and moderators see it. Photos are uploaded first
/// with `POST /api/v1/media`; `photos` names what that returned.
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
    ApiJson(mut input): ApiJson<UpdateInput>,
) -> Result<Created<Update>, ApiError> {
    // Who may post here comes before what the photos are.
    state
        .app()
        .manageable_initiative(&auth.user, &handle)
        .await?;
    let media = MediaStore::new(&state.settings().media_dir);
    let mut errors = ValidationErrors::new();
    let mut photos = Vec::with_capacity(input.photos.len());
    // The dimensions pages reserve for a photo are read from the stored file, not taken from
    // the client (the name is checked first: no path reaches the disk unchecked).
    for (i, photo) in std::mem::take(&mut input.photos).into_iter().enumerate() {
        match media.stored(photo.name, &photo.alt).await {
            Some(stored) => photos.push(stored),
            None => errors.add(
                format!("photos[{i}].name"),
                "unknown_photo",
                "upload the photo first with POST /api/v1/media",
            ),
        }
    }
    errors.into_result(())?;
    input.photos = photos;
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

/// Change an event (its initiative's maintainers and moderators): the fields sent, under the
/// same rules as a new event. `cancelled: true` keeps it listed, marked cancelled.
#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    request_body = EventPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed event", body = Event),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of its initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (nothing was changed)", body = ErrorBody),
    )
)]
pub(crate) async fn edit_event(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiJson(patch): ApiJson<EventPatch>,
) -> Result<Json<Event>, ApiError> {
    Ok(Json(state.app().edit_event(&auth.user, id, patch).await?))
}

/// Largest body `POST /api/v1/media` reads: one photo.
pub(crate) const MEDIA_BODY_LIMIT: usize = crate::media::MAX_UPLOAD_BYTES;

/// Upload a photo for an update (maintainers, moderators and admins): the raw bytes of a JPEG,
/// PNG or WebP file as the body, `?alt=` describing it for people who cannot see it. It is
/// checked, resized to at most 1600 px and re-encoded without any metadata (no GPS position,
/// no camera). Name the answer in the `photos` of `POST /api/v1/initiatives/{handle}/updates`.
#[utoipa::path(
    post,
    path = "/api/v1/media",
    tag = "updates",
    params(("alt" = Option<String>, Query, description = "What the photo shows, for screen readers")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The photo's bytes (JPEG, PNG or WebP, at most 10 MB)"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored photo", body = Photo,
            headers(("Location" = String, description = "Where the photo is served"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Larger than 10 MB", body = ErrorBody),
        (status = 415, description = "The Content-Type is not an image type", body = ErrorBody),
        (status = 422, description = "Empty, unreadable, or not a JPEG, PNG or WebP photo", body = ErrorBody),
    )
)]
pub(crate) async fn upload_media(
    State(state): State<WebState>,
    // Any account: uploading attaches the photo to nothing until an update names it.
    _auth: Authenticated,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Created<Photo>, ApiError> {
    let image_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("image/"));
    if !image_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the photo's bytes with Content-Type: image/jpeg, image/png or image/webp",
        ));
    }
    let alt = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "alt")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut errors = ValidationErrors::new();
    errors.max_len("alt", &alt, 1_500);
    errors.no_control_chars("alt", &alt);
    errors.into_result(())?;
    let media = MediaStore::new(&state.settings().media_dir);
    let photo = media
        .save_upload(body.to_vec(), &alt)
        .await
        .map_err(|e| match e {
            PhotoError::TooLarge => ApiError::payload_too_large(MEDIA_BODY_LIMIT),
            PhotoError::Storage => ApiError::internal(e),
            other => ApiError::validation(ValidationErrors::single(
                "photo",
                other.code(),
                other.to_string(),
            )),
        })?;
    Ok(created(&state, format!("/media/{}", photo.name), photo))
}
