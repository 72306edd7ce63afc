//! What can go wrong in a use case, in terms the edges (HTTP, CLI) can turn into messages.

use hromada_domain::ValidationErrors;
use hromada_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {}", .0.summary())]
    Invalid(#[from] ValidationErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failed logins for this username or address; allowed again after the wait.
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    TooManyLogins(std::time::Duration),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("storage failed: {0}")]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}
