//! Storage for trust: vouches and warnings (this node's and, later, other nodes'), the trust
//! policy, each initiative's derived trust status, the transparency log, reports and website
//! checks.
//!
//! Every write that can change a status (a statement, its withdrawal, a new policy) recomputes
//! the affected initiatives' status with [`hromada_domain::trust::assess`] in the same
//! transaction, and concurrent trust writes take turns, so the stored status always matches
//! the stored statements and policy. Search filters on that stored status.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hromada_domain::trust::{
    Report, ReportStatus, TransparencyEntry, TrustLevel, TrustPolicy, Vouch, Warning, WebsiteCheck,
};
use uuid::Uuid;

use crate::StoreResult;

/// Everything said about some initiatives, withdrawn statements included, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statements {
    pub vouches: Vec<Vouch>,
    pub warnings: Vec<Warning>,
}

impl Statements {
    /// The statements about one initiative.
    pub fn of(&self, initiative_id: Uuid) -> Statements {
        Statements {
            vouches: self
                .vouches
                .iter()
                .filter(|v| v.initiative_id == initiative_id)
                .cloned()
                .collect(),
            warnings: self
                .warnings
                .iter()
                .filter(|w| w.initiative_id == initiative_id)
                .cloned()
                .collect(),
        }
    }
}

/// How a withdrawal is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// Trust storage. Implemented by both stores next to [`crate::Store`], which requires it.
#[async_trait]
pub trait TrustStore: Send + Sync {
    // ---- vouches and warnings ----

    /// Stores a vouch (this node's, or one received from its collective's node) and recomputes
    /// the initiative's status; `log` is the transparency entry of this node's own vouches.
    /// Returns the new status. `Conflict` when the id or `ap_id` is taken, or, for a local
    /// one, when this node already has a standing vouch or warning about the initiative;
    /// `NotFound` when the initiative does not exist. A local vouch also goes into the change feed
    /// ([`crate::ChangeKind::VouchIssued`]), in the same transaction, so federation sends it.
    async fn insert_vouch(
        &self,
        vouch: &Vouch,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel>;
    /// Like [`TrustStore::insert_vouch`], for a warning.
    async fn insert_warning(
        &self,
        warning: &Warning,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel>;
    /// Marks a vouch withdrawn and recomputes its initiative's status. `NotFound` when there
    /// is no such vouch, `Conflict` when it is already withdrawn. Withdrawing a local vouch
    /// goes into the change feed ([`crate::ChangeKind::VouchWithdrawn`]).
    async fn withdraw_vouch(
        &self,
        id: Uuid,
        withdrawal: &Withdrawal,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel>;
    async fn withdraw_warning(
        &self,
        id: Uuid,
        withdrawal: &Withdrawal,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel>;
    async fn vouch_by_id(&self, id: Uuid) -> StoreResult<Option<Vouch>>;
    async fn vouch_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Vouch>>;
    async fn warning_by_id(&self, id: Uuid) -> StoreResult<Option<Warning>>;
    async fn warning_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Warning>>;
    /// Every vouch and warning about these initiatives, withdrawn ones included, oldest first.
    async fn statements_about(&self, initiative_ids: &[Uuid]) -> StoreResult<Statements>;
    /// Listings of other nodes that this node's own standing (not withdrawn) vouches or
    /// warnings are about, by id: the first `limit` of them after `after`. What this node's
    /// statements collection pages through (by id, so a page is not skipped when a statement
    /// is withdrawn meanwhile).
    async fn remote_listings_with_own_statements(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>>;

    // ---- status and policy ----

    /// The stored status of each of these initiatives that has one; the others are Unverified.
    async fn trust_levels(&self, initiative_ids: &[Uuid])
    -> StoreResult<HashMap<Uuid, TrustLevel>>;
    /// The node's policy; the default one until an admin sets it.
    async fn trust_policy(&self) -> StoreResult<TrustPolicy>;
    /// Replaces the policy and recomputes the status of every initiative anything was said
    /// about, in one transaction.
    async fn set_trust_policy(
        &self,
        policy: &TrustPolicy,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<()>;

    // ---- transparency log ----

    /// Newest first.
    async fn transparency_log(
        &self,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<TransparencyEntry>>;

    // ---- reports ----

    /// `Conflict` when the id, or the `activity_id` of a remote report, is taken; `NotFound`
    /// when the initiative does not exist. A report filed on this node (not received from
    /// another server) goes into the change feed ([`crate::ChangeKind::ReportFiled`]).
    async fn insert_report(&self, report: &Report) -> StoreResult<()>;
    async fn report_by_id(&self, id: Uuid) -> StoreResult<Option<Report>>;
    /// Newest first; only those with the status when one is given.
    async fn reports(
        &self,
        status: Option<ReportStatus>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Report>>;
    /// Closes an open report as `outcome` (resolved or dismissed). `NotFound` when there is no
    /// such report, `Conflict` when it is already closed or `outcome` is `Open`.
    async fn resolve_report(
        &self,
        id: Uuid,
        outcome: ReportStatus,
        by: &str,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> StoreResult<()>;

    // ---- website checks ----

    /// Stores the latest check of an initiative's website, replacing the previous one.
    async fn set_website_check(&self, check: &WebsiteCheck) -> StoreResult<()>;
    /// The latest check of each of these initiatives that has one.
    async fn website_checks(
        &self,
        initiative_ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, WebsiteCheck>>;
    /// Public (published or paused) local initiatives with a website whose check is due: never
    /// checked, checked at another address, checked before their last edit, or checked before
    /// `checked_before`. Least recently checked first.
    async fn website_checks_due(
        &self,
        checked_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>>;
}
