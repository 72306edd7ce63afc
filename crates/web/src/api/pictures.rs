//! An initiative's avatar and header picture: uploaded as the request body (JPEG, PNG or
//! WebP), put through the photo pipeline (type checked by content, resized, re-encoded without
//! metadata), and stored. Followers on the fediverse get an `Update` of the actor.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use hromada_domain::{Picture, ValidationErrors};
use hromada_media::{AVATAR_SIDE, MAX_SIDE, MediaStore, PhotoError};

use super::views::InitiativeView;
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::state::WebState;

/// Largest picture body: the photo pipeline's limit, plus room for nothing else.
pub(crate) const PICTURE_BODY_LIMIT: usize = hromada_media::MAX_UPLOAD_BYTES;

async fn put(
    state: &WebState,
    auth: &Authenticated,
    handle: &str,
    which: Picture,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Json<InitiativeView>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        content_type.as_str(),
        "image/jpeg" | "image/png" | "image/webp" | "application/octet-stream"
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the picture itself as the body, as image/jpeg, image/png or image/webp",
        ));
    }
    // Permission first, so nobody else makes the node decode pictures.
    state
        .app()
        .manageable_initiative(&auth.user, handle)
        .await?;
    let side = match which {
        Picture::Avatar => AVATAR_SIDE,
        Picture::Header => MAX_SIDE,
    };
    let media = MediaStore::new(&state.settings().media_dir);
    let photo = media
        .save_within(body.to_vec(), "", side)
        .await
        .map_err(|e| photo_error(which, e))?;
    let initiative = state
        .app()
        .set_picture(&auth.user, handle, which, Some(photo))
        .await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}

fn photo_error(which: Picture, e: PhotoError) -> ApiError {
    match e {
        PhotoError::TooLarge => ApiError::payload_too_large(PICTURE_BODY_LIMIT),
        PhotoError::Storage => ApiError::internal(e),
        other => ApiError::validation(ValidationErrors::single(
            which.code(),
            other.code(),
            other.to_string(),
        )),
    }
}

async fn remove(
    state: &WebState,
    auth: &Authenticated,
    handle: &str,
    which: Picture,
) -> Result<Json<InitiativeView>, ApiError> {
    let initiative = state
        .app()
        .set_picture(&auth.user, handle, which, None)
        .await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}

/// Set the avatar (its maintainers and moderators).
///
/// The body is the picture itself (`Content-Type: image/jpeg`, `image/png` or `image/webp`, at
/// most 10 MB). It is stored re-encoded as JPEG, at most 400 px on its longest side, without
/// any metadata, and served at `/media/{avatar.name}`.
#[utoipa::path(
    put,
    path = "/api/v1/initiatives/{handle}/avatar",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The picture (JPEG, PNG or WebP)"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The initiative with its new avatar", body = InitiativeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
        (status = 413, description = "Larger than 10 MB", body = ErrorBody),
        (status = 415, description = "Not sent as an image type", body = ErrorBody),
        (status = 422, description = "Not a readable JPEG, PNG or WebP picture", body = ErrorBody),
    )
)]
pub(crate) async fn put_avatar(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<InitiativeView>, ApiError> {
    put(&state, &auth, &handle, Picture::Avatar, &headers, body).await
}

/// Set the header picture (its maintainers and moderators).
///
/// Like the avatar, but kept at up to 1600 px on its longest side.
#[utoipa::path(
    put,
    path = "/api/v1/initiatives/{handle}/header",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The picture (JPEG, PNG or WebP)"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The initiative with its new header", body = InitiativeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
        (status = 413, description = "Larger than 10 MB", body = ErrorBody),
        (status = 415, description = "Not sent as an image type", body = ErrorBody),
        (status = 422, description = "Not a readable JPEG, PNG or WebP picture", body = ErrorBody),
    )
)]
pub(crate) async fn put_header(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<InitiativeView>, ApiError> {
    put(&state, &auth, &handle, Picture::Header, &headers, body).await
}

/// Remove the avatar (its maintainers and moderators).
#[utoipa::path(
    delete,
    path = "/api/v1/initiatives/{handle}/avatar",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The initiative without an avatar", body = InitiativeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
    )
)]
pub(crate) async fn delete_avatar(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
) -> Result<Json<InitiativeView>, ApiError> {
    remove(&state, &auth, &handle, Picture::Avatar).await
}

/// Remove the header picture (its maintainers and moderators).
#[utoipa::path(
    delete,
    path = "/api/v1/initiatives/{handle}/header",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The initiative without a header picture", body = InitiativeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
    )
)]
pub(crate) async fn delete_header(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
) -> Result<Json<InitiativeView>, ApiError> {
    remove(&state, &auth, &handle, Picture::Header).await
}
