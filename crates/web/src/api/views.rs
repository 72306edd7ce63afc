//! The shapes the API answers with, where they differ from the domain types: what a viewer
//! may see of an initiative, search pages, tokens.
//!
//! Private data never appears here unless the viewer may see it: the domain types already
//! leave out submitter contacts, password hashes and token hashes when serialized, and
//! [`InitiativeView`] adds the submitter contact back only for moderators.

use hromada_app::InitiativeDetail;
use hromada_domain::{Event, Initiative, Need, Update, User};
use hromada_store::{SearchPage, TokenRecord};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An initiative as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InitiativeView {
    #[serde(flatten)]
    pub initiative: Initiative,
    /// How to address it in `/api/v1/initiatives/{handle}`: `handle` for this node's own
    /// listings, `handle@domain` for listings mirrored from another node.
    #[schema(example = "kharkiv-medics")]
    pub acct: String,
    /// How the moderators can reach whoever submitted it. Shown to moderators only, and only
    /// while the submission is not public (pending or rejected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitter_contact: Option<String>,
    /// This node's trust status with every reason (in the initiative's page and in search).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<hromada_domain::trust::TrustStatus>,
    /// The latest check that the website links back to this profile with `rel="me"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_check: Option<hromada_domain::trust::WebsiteCheck>,
    /// Positions in `donation_methods` of methods donors must not use: a wallet address whose
    /// checksum does not match (a typo), as a listing received from another node or stored by
    /// an older version may hold. Left out when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub broken_donation_methods: Vec<usize>,
}

impl InitiativeView {
    pub fn new(initiative: Initiative, viewer: Option<&User>) -> Self {
        let acct = match &initiative.origin {
            Some(domain) => format!("{}@{domain}", initiative.handle),
            None => initiative.handle.to_string(),
        };
        let submitter_contact =
            if viewer.is_some_and(User::is_moderator) && !initiative.status.is_public() {
                initiative.submitter_contact.clone()
            } else {
                None
            };
        let broken_donation_methods = initiative
            .donation_methods
            .iter()
            .enumerate()
            .filter(|(_, m)| m.mistyped_wallet().is_some())
            .map(|(i, _)| i)
            .collect();
        Self {
            initiative,
            acct,
            submitter_contact,
            trust: None,
            website_check: None,
            broken_donation_methods,
        }
    }
}

/// An initiative with everything its page shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InitiativeDetailView {
    pub initiative: InitiativeView,
    /// Open needs first, then by urgency, then newest.
    pub needs: Vec<Need>,
    /// Newest first. Updates scheduled for later are shown to maintainers and moderators only.
    pub updates: Vec<Update>,
    /// Soonest first.
    pub events: Vec<Event>,
}

impl InitiativeDetailView {
    pub fn new(detail: InitiativeDetail, viewer: Option<&User>) -> Self {
        Self {
            initiative: InitiativeView::new(detail.initiative, viewer),
            needs: detail.needs,
            updates: detail.updates,
            events: detail.events,
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    /// Best matches first (newest first without search words).
    pub items: Vec<InitiativeView>,
    /// How many initiatives match in all, or, when `total_capped`, how many were counted:
    /// counting stops at 1,000 (pages up to there can be fetched), shown as "1000+".
    pub total: u64,
    pub total_capped: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl SearchResults {
    pub fn new(page: SearchPage, viewer: Option<&User>) -> Self {
        Self {
            items: page
                .items
                .into_iter()
                .map(|i| InitiativeView::new(i, viewer))
                .collect(),
            total: page.total,
            total_capped: page.total_capped,
            page: page.page,
            per_page: page.per_page,
        }
    }
}

/// A freshly issued API token. The secret is shown this once; only its hash is stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenCreated {
    /// Send it as `Authorization: Bearer <token>`.
    #[schema(example = "hrmd_3q2-7wXr…")]
    pub token: String,
    /// The token's id, for revoking it with `DELETE /api/v1/auth/tokens/{id}`.
    pub id: Uuid,
    pub label: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Who the credentials belong to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// The token this request was made with.
    pub token: TokenRecord,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<hromada_domain::AuditEntry>,
    pub limit: u32,
    pub offset: u32,
}
