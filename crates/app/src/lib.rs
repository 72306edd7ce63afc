//! Hromada's use cases, independent of HTTP and of the database engine: submitting and
//! moderating initiatives, keeping needs, updates and events current, accounts and tokens.
//!
//! Every operation checks who may do it (see [`hromada_domain::User::may_edit`]), validates
//! its input through the domain, and writes through [`hromada_store::Store`] in one atomic
//! step together with its audit entry. Must not depend on axum, sqlx or activitypub_federation.

mod accounts;
mod cache;
mod directory;
mod error;
mod limits;
mod password;
mod trust;

use std::sync::Arc;

use hromada_store::Store;

pub use accounts::{IssuedToken, SESSION_TTL};
pub use directory::{HandleRef, InitiativeDetail, UPDATES_SHOWN};
pub use error::AppError;
pub use limits::{DEVICE_PROOF_LIFETIME, LoginLimits, RateLimit, client_key};
pub use password::{hash_password, verify_password};
pub use trust::{InitiativeTrust, ReportView, ThisNode, acct};

pub type AppResult<T> = Result<T, AppError>;

/// The node's use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    details: Arc<cache::DetailCache>,
    searches: Option<Arc<cache::SearchCache>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            details: Arc::default(),
            searches: Some(Arc::default()),
        }
    }

    /// Without the search result cache: every search asks the store (for measuring it).
    pub fn without_search_cache(mut self) -> Self {
        self.searches = None;
        self
    }

    /// Tells the app that this process just wrote to the directory (the server calls it after
    /// every write request), so that nothing cached from before is shown again.
    pub fn note_local_write(&self) {
        self.details.watch.note_local_write();
    }

    /// The directory's version as this process sees it: whatever is built from the directory
    /// at one version may be shown again while the version stays the same (see
    /// [`hromada_store::ChangeWatch`]; writes through this process count at once).
    pub async fn directory_version(&self) -> hromada_store::Version {
        self.details.watch.version(self.store.as_ref()).await
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// The current time at the precision both databases keep (microseconds), so a value read back
/// equals the value written.
pub fn now() -> hromada_domain::Timestamp {
    let now = chrono::Utc::now();
    let micros = now.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or(now)
}
