//! The audit log: every moderation decision and status change, with who, when and why.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Submitted,
    Approved,
    Rejected,
    StatusChanged,
    Edited,
    MaintainerAdded,
    MaintainerRemoved,
    UserCreated,
    PasswordReset,
    TokenCreated,
    TokenRevoked,
    /// A local initiative was deleted as a whole, or one of its updates.
    Deleted,
    /// An admin disabled an account: it cannot sign in, and its sessions and tokens stop working.
    UserDisabled,
    UserEnabled,
    /// An admin changed an account's role (`details`: `from`, `to`).
    RoleChanged,
    /// A moderator withdrew one of this node's vouches or warnings (`details`: `kind`,
    /// `statement`); the public transparency log says why, this says who.
    StatementWithdrawn,
    /// An admin changed the trust policy (the transparency log has what changed).
    TrustPolicyChanged,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Submitted => "submitted",
            AuditAction::Approved => "approved",
            AuditAction::Rejected => "rejected",
            AuditAction::StatusChanged => "status_changed",
            AuditAction::Edited => "edited",
            AuditAction::MaintainerAdded => "maintainer_added",
            AuditAction::MaintainerRemoved => "maintainer_removed",
            AuditAction::UserCreated => "user_created",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::Deleted => "deleted",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::StatementWithdrawn => "statement_withdrawn",
            AuditAction::TrustPolicyChanged => "trust_policy_changed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        use AuditAction::*;
        [
            Submitted,
            Approved,
            Rejected,
            StatusChanged,
            Edited,
            MaintainerAdded,
            MaintainerRemoved,
            UserCreated,
            PasswordReset,
            TokenCreated,
            TokenRevoked,
            Deleted,
            UserDisabled,
            UserEnabled,
            RoleChanged,
            StatementWithdrawn,
            TrustPolicyChanged,
        ]
        .into_iter()
        .find(|a| a.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Username of who did it; `None` for anonymous submissions and the system.
    pub actor: Option<String>,
    pub action: AuditAction,
    /// What it was done to, e.g. an initiative handle or a username.
    pub subject: String,
    pub reason: Option<String>,
    /// Extra context, e.g. `{"from": "published", "to": "paused"}`.
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn new(
        at: Timestamp,
        actor: Option<&str>,
        action: AuditAction,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            actor: actor.map(String::from),
            action,
            subject: subject.into(),
            reason: None,
            details: serde_json::Value::Null,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
