//! The one error type of the HTTP edge and its JSON shape `{error, message, fields}`.
//!
//! Status codes: 400 for requests that cannot be read (malformed JSON, wrong types, bad query
//! parameters), 422 for well-formed input that breaks a rule (`validation_failed`), 401, 403,
//! 404, 405, 409, 410, 413, 415, 429, 502, and 500/503 whose details go to the log only.

use std::any::Any;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_app::AppError;
use hromada_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

/// What every failed request answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code: `invalid_json`, `invalid_query`, `validation_failed`,
    /// `invalid_body`, `invalid_domain`, `unauthenticated`, `bad_credentials`, `forbidden`,
    /// `not_found`, `gone`, `method_not_allowed`, `conflict`, `payload_too_large`,
    /// `unsupported_media_type`, `rate_limited`, `internal_error`, `unreachable` or
    /// `unavailable`.
    #[schema(example = "validation_failed")]
    pub error: &'static str,
    /// An English explanation for humans.
    pub message: String,
    /// The fields at fault, with a path such as `donation_methods[0].iban`; may be empty.
    pub fields: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
    retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Well-formed input that breaks a rule.
    pub fn validation(errors: ValidationErrors) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("{} field(s) need attention", errors.errors.len()),
        )
        .with_fields(errors.errors)
    }

    /// Query parameters that cannot be used.
    pub fn invalid_query(errors: ValidationErrors) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("{} query parameter(s) are invalid", errors.errors.len()),
        )
        .with_fields(errors.errors)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is larger than this route's limit of {limit} bytes ({})",
                human_size(limit)
            ),
        )
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        Self::too_many(retry_after, "too many failed attempts; try again later")
    }

    /// 429 with `Retry-After`, saying what was limited.
    pub fn too_many(retry_after: Duration, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after);
        e
    }

    /// A failure that is our fault. The detail is logged; the client learns nothing of it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on the server; it has been logged",
        )
    }
}

fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => Self::validation(errors),
            AppError::NotFound(what) => Self::not_found(what),
            AppError::Unauthenticated => {
                Self::unauthenticated("sign in first: send `Authorization: Bearer <token>`")
            }
            AppError::BadCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong username or password",
            ),
            AppError::TooManyLogins(wait) => Self::rate_limited(wait),
            AppError::Forbidden(why) => Self::forbidden(why),
            AppError::Conflict(what) => Self::new(StatusCode::CONFLICT, "conflict", what),
            e @ (AppError::Store(_) | AppError::Internal(_)) => Self::internal(e),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::validation(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code,
            message: self.message,
            fields: self.fields,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            // Round up so a client that waits exactly this long is let in.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// The answer when a handler panics: a plain 500, with the panic in the log.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::internal(format_args!("handler panicked: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_details() {
        let e: ApiError = AppError::Internal("db password is hunter2".into()).into();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("hunter2"));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let r = ApiError::rate_limited(Duration::from_millis(1500)).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
