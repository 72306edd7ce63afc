//! Tokens and accounts: logging in for a bearer token, revoking it, and admins' account list.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::{Role, User};
use hromada_store::{TokenKind, TokenRecord};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{Me, TokenCreated};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::state::WebState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// A note to recognise the token by, e.g. `import script` (at most 100 characters).
    #[serde(default)]
    pub label: Option<String>,
}

// Written by hand so a password never ends up in a log line.
impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("username", &self.username)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// Log in: exchange a username and password for an API token.
///
/// Failed attempts are limited per username and per client address (by default 10 per
/// username and 50 per address in 15 minutes); beyond that the answer is 429 with
/// `Retry-After`, even for the right password. The token expires after `api_token_lifetime`
/// (default 30 days; `expires_at` says when); tokens made with `hromada admin create-token`
/// may live longer.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, shown this once", body = TokenCreated),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The label is too long", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn create_token(
    State(state): State<WebState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let user = match state
        .app()
        .login_limited(
            ip,
            None,
            &request.username,
            &request.password,
            state.settings().login_limits,
        )
        .await
    {
        Ok(user) => user,
        Err(AppError::BadCredentials) => {
            let username = crate::auth::loggable_username(&request.username);
            tracing::info!(?username, ?ip, "failed login");
            return Err(AppError::BadCredentials.into());
        }
        Err(other) => return Err(other.into()),
    };
    let label = request.label.as_deref().unwrap_or("API token");
    let issued = state
        .app()
        .issue_token(&user, TokenKind::Api, label, api_ttl(state.settings()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token: issued.secret,
            id: issued.record.id,
            label: issued.record.label,
            expires_at: issued.record.expires_at,
        }),
    ))
}

/// The tokens of the signed-in account (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/auth/tokens",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tokens, including revoked and expired ones", body = Vec<TokenRecord>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub(crate) async fn list_tokens(
    State(state): State<WebState>,
    auth: Authenticated,
) -> Result<Json<Vec<TokenRecord>>, ApiError> {
    Ok(Json(
        state
            .app()
            .tokens_of(&auth.user, &auth.user.username)
            .await?,
    ))
}

/// Revoke a token: your own, or anyone's as an admin. It stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/tokens/{id}",
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The token's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such live token of yours", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state.app().revoke_token(Some(&auth.user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account and the token used", body = Me),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub(crate) async fn me(auth: Authenticated) -> Json<Me> {
    Json(Me {
        user: auth.user,
        token: auth.token,
    })
}

/// Every account of the node (admins).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accounts", body = Vec<User>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list_users(
    State(state): State<WebState>,
    auth: Authenticated,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.app().list_users(&auth.user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 3–32 characters: a-z, 0-9, `_`, `-`, `.`.
    pub username: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Create an account (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "accounts",
    request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The account", body = User),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid or taken username, or too short a password", body = ErrorBody),
    )
)]
pub(crate) async fn create_user(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = state
        .app()
        .create_user(
            Some(&auth.user),
            &request.username,
            request.role,
            &request.password,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUserRequest {
    /// The account's new role; its sessions and tokens have it from their next request.
    #[serde(default)]
    pub role: Option<Role>,
    /// `true` disables the account (no sign-in; its sessions and tokens are revoked), `false`
    /// enables it again.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Change an account's role, or disable or enable it (admins; not their own).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{username}",
    tag = "accounts",
    params(("username" = String, Path, description = "The account's username")),
    request_body = ChangeUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account as changed", body = User),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin, or the admin's own role or account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn change_user(
    State(state): State<WebState>,
    ApiPath(username): ApiPath<String>,
    auth: Authenticated,
    ApiJson(request): ApiJson<ChangeUserRequest>,
) -> Result<Json<User>, ApiError> {
    let app = state.app();
    let by = Some(&auth.user);
    // Two writes, each audited on its own; the role goes first, so a refusal of either (one's
    // own account) comes before anything changed.
    let mut user = match request.role {
        Some(role) => app.set_user_role(by, &username, role).await?,
        None if !auth.user.is_admin() => {
            return Err(AppError::Forbidden("only admins change accounts").into());
        }
        None => app.user_by_username(&username).await?,
    };
    if let Some(disabled) = request.disabled {
        user = app.set_user_disabled(by, &user.username, disabled).await?;
    }
    Ok(Json(user))
}

fn api_ttl(settings: &crate::WebSettings) -> Option<chrono::Duration> {
    settings
        .api_token_ttl
        .and_then(|d| chrono::Duration::from_std(d).ok())
}
