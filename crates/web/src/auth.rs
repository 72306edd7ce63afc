//! Who is asking: the user behind a request's credentials.
//!
//! The API accepts only `Authorization: Bearer <token>`. Browsers never attach that header on
//! their own, which is why the API needs no CSRF defence; a cookie must never become a
//! credential for these extractors (pages check their session cookie, with CSRF protection,
//! in `pages/`).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use hromada_domain::User;
use hromada_store::{TokenKind, TokenRecord};

use crate::error::ApiError;
use crate::state::WebState;

/// A request with valid credentials; 401 otherwise.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    /// The token the request came with (e.g. so it can revoke itself).
    pub token: TokenRecord,
}

/// A request that may or may not carry credentials. Credentials that are present but invalid
/// (revoked, expired, garbled) are still a 401: silently treating them as anonymous would hide
/// the problem from scripts.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Authenticated>);

impl MaybeAuthenticated {
    pub fn user(&self) -> Option<&User> {
        self.0.as_ref().map(|a| &a.user)
    }
}

/// The bearer token of a request, if it has an `Authorization` header.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthenticated(
            "use `Authorization: Bearer <token>`; get a token from POST /api/v1/auth/token",
        )),
    }
}

async fn resolve(parts: &Parts, state: &WebState) -> Result<Option<Authenticated>, ApiError> {
    let Some(secret) = bearer(parts)? else {
        return Ok(None);
    };
    let (user, token) = match state.app().authenticate(secret, TokenKind::Api).await {
        Ok(found) => found,
        Err(hromada_app::AppError::Unauthenticated) => {
            return Err(ApiError::unauthenticated(
                state.app().token_refusal(secret).await?,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    Ok(Some(Authenticated { user, token }))
}

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        resolve(parts, &WebState::from_ref(state))
            .await?
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "sign in first: send `Authorization: Bearer <token>` (POST /api/v1/auth/token)",
                )
            })
    }
}

impl<S> FromRequestParts<S> for MaybeAuthenticated
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuthenticated(
            resolve(parts, &WebState::from_ref(state)).await?,
        ))
    }
}

/// A username as it may go into the log after a failed login: cut, and written escaped by the
/// caller (`?`). People type passwords into the username field, and a client could send
/// megabytes.
pub(crate) fn loggable_username(typed: &str) -> String {
    typed.chars().take(64).collect()
}
