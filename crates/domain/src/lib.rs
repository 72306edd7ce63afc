//! Hromada's directory model: initiatives, their needs, updates and events, the people who
//! keep them, and the rules that decide what is valid and who may change what.
//!
//! This crate performs no I/O. It must not depend on tokio, sqlx, axum, reqwest or
//! activitypub_federation (checked by `tests/architecture.rs`).

pub mod audit;
pub mod category;
pub mod contact;
pub mod donation;
pub mod event;
pub mod handle;
pub mod iban;
pub mod initiative;
pub mod markup;
pub mod money;
pub mod need;
pub mod region;
pub mod search;
pub mod trust;
pub mod update;
pub mod user;
pub mod validation;
pub mod wallet;

pub use audit::{AuditAction, AuditEntry};
pub use category::Category;
pub use contact::{Contact, ContactKind};
pub use donation::{DonationKind, DonationMethod, FundingPlatform};
pub use event::{Event, EventInput, EventPatch, EventPlace};
pub use handle::Handle;
pub use initiative::{Initiative, InitiativeInput, InitiativePatch, InitiativeStatus, Picture};
pub use money::{Currency, Money};
pub use need::{Need, NeedInput, NeedPatch, NeedStatus, Urgency};
pub use region::{Oblast, Region};
pub use update::{LineItem, Photo, Update, UpdateInput, UpdateKind};
pub use user::{Role, User};
pub use validation::{FieldError, ValidationErrors};

/// Timestamps are always UTC; local time zones only matter for events.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
