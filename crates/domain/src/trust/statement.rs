//! Vouches and warnings: what one collective (a node) states about an initiative, and the
//! transparency log of a node's own statements and policy changes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::validation::{ValidationErrors, clean};

/// Longest statement of a vouch or warning.
pub const MAX_STATEMENT: usize = 2000;
/// Longest reason for a withdrawal.
pub const MAX_WITHDRAWAL_REASON: usize = 1000;

/// On what a collective bases its vouch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VouchBasis {
    /// Its members met the initiative's people in person.
    MetInPerson,
    /// It has worked with the initiative over a long time.
    LongTermPartner,
    /// It checked the initiative's documents (registration, IDs).
    CheckedDocuments,
    /// It checked receipts of what the initiative bought and delivered.
    CheckedReceipts,
    /// Something else, said in the statement.
    Other,
}

impl VouchBasis {
    pub const ALL: [VouchBasis; 5] = [
        Self::MetInPerson,
        Self::LongTermPartner,
        Self::CheckedDocuments,
        Self::CheckedReceipts,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::MetInPerson => "met_in_person",
            Self::LongTermPartner => "long_term_partner",
            Self::CheckedDocuments => "checked_documents",
            Self::CheckedReceipts => "checked_receipts",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.code() == code)
    }

    /// English words for explanations.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MetInPerson => "met them in person",
            Self::LongTermPartner => "long-term partner",
            Self::CheckedDocuments => "checked their documents",
            Self::CheckedReceipts => "checked their receipts",
            Self::Other => "other grounds",
        }
    }
}

/// Why a collective warns about an initiative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningReason {
    SuspectedFraud,
    /// No longer active, but still collecting or listed as if it were.
    Inactive,
    /// Pretends to be another initiative or person.
    Impersonation,
    Other,
}

impl WarningReason {
    pub const ALL: [WarningReason; 4] = [
        Self::SuspectedFraud,
        Self::Inactive,
        Self::Impersonation,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::SuspectedFraud => "suspected_fraud",
            Self::Inactive => "inactive",
            Self::Impersonation => "impersonation",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::SuspectedFraud => "suspected fraud",
            Self::Inactive => "inactive",
            Self::Impersonation => "impersonation",
            Self::Other => "other concerns",
        }
    }
}

/// A vouch or a warning.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    Vouch,
    Warning,
}

impl StatementKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Vouch => "vouch",
            Self::Warning => "warning",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "vouch" => Some(Self::Vouch),
            "warning" => Some(Self::Warning),
            _ => None,
        }
    }
}

/// A collective's statement that it knows an initiative to be genuine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Vouch {
    pub id: Uuid,
    /// Its ActivityPub id, `{public_url}/vouches/{id}` on the issuing node. Unique.
    #[schema(example = "https://node.example/vouches/0190f3a4-7c2e-7d40-8a51-2b8e0c4f6a11")]
    pub ap_id: String,
    pub initiative_id: Uuid,
    /// The issuing collective: its node's domain (`host` or `host:port`).
    #[schema(example = "node.example")]
    pub collective: String,
    /// Issued by this node's moderators (rather than received from another node).
    pub local: bool,
    /// The moderator who issued it. Kept on the issuing node, never sent to other nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub statement: String,
    pub basis: VouchBasis,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub withdrawal_reason: Option<String>,
}

/// A collective's statement that something is wrong with an initiative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Warning {
    pub id: Uuid,
    /// Its ActivityPub id, `{public_url}/warnings/{id}` on the issuing node. Unique.
    pub ap_id: String,
    pub initiative_id: Uuid,
    /// The issuing collective: its node's domain (`host` or `host:port`).
    pub collective: String,
    /// Issued by this node's moderators (rather than received from another node).
    pub local: bool,
    /// The moderator who issued it. Kept on the issuing node, never sent to other nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub statement: String,
    pub reason: WarningReason,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub withdrawal_reason: Option<String>,
}

impl Vouch {
    pub fn is_active(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

impl Warning {
    pub fn is_active(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// What a moderator sends to vouch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VouchInput {
    /// Why the collective vouches, for everyone to read (at most 2000 characters), e.g. "we
    /// have worked with them since 2022 and saw their receipts".
    pub statement: String,
    pub basis: VouchBasis,
}

/// What a moderator sends to warn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningInput {
    /// What is wrong, for everyone to read (at most 2000 characters).
    pub statement: String,
    pub reason: WarningReason,
}

fn check_statement(raw: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    errors.text("statement", raw, MAX_STATEMENT);
    errors.no_control_chars("statement", raw);
    errors.into_result(clean(raw))
}

/// Checks the reason given for withdrawing a vouch or warning (required: the transparency log
/// shows it).
pub fn check_withdrawal_reason(raw: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    errors.text("reason", raw, MAX_WITHDRAWAL_REASON);
    errors.no_control_chars("reason", raw);
    errors.into_result(clean(raw))
}

/// What identifies a statement issued by this node: its ids, the initiative, the collective
/// (this node's domain) and the moderator.
pub struct Issued<'a> {
    pub id: Uuid,
    pub ap_id: String,
    pub initiative_id: Uuid,
    pub collective: &'a str,
    pub author: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Vouch {
    /// A new vouch by this node's moderator.
    pub fn issue(issued: Issued<'_>, input: VouchInput) -> Result<Self, ValidationErrors> {
        Ok(Self {
            id: issued.id,
            ap_id: issued.ap_id,
            initiative_id: issued.initiative_id,
            collective: issued.collective.to_string(),
            local: true,
            author: Some(issued.author.to_string()),
            statement: check_statement(&input.statement)?,
            basis: input.basis,
            created_at: issued.at,
            withdrawn_at: None,
            withdrawal_reason: None,
        })
    }
}

impl Warning {
    /// A new warning by this node's moderator.
    pub fn issue(issued: Issued<'_>, input: WarningInput) -> Result<Self, ValidationErrors> {
        Ok(Self {
            id: issued.id,
            ap_id: issued.ap_id,
            initiative_id: issued.initiative_id,
            collective: issued.collective.to_string(),
            local: true,
            author: Some(issued.author.to_string()),
            statement: check_statement(&input.statement)?,
            reason: input.reason,
            created_at: issued.at,
            withdrawn_at: None,
            withdrawal_reason: None,
        })
    }
}

/// What identifies a statement received from another node's collective (its author stays on
/// that node).
pub struct Received<'a> {
    pub id: Uuid,
    pub ap_id: String,
    pub initiative_id: Uuid,
    pub collective: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Vouch {
    /// A vouch received from another node, checked like one issued here.
    pub fn received(r: Received<'_>, input: VouchInput) -> Result<Self, ValidationErrors> {
        Ok(Self {
            id: r.id,
            ap_id: r.ap_id,
            initiative_id: r.initiative_id,
            collective: r.collective.to_string(),
            local: false,
            author: None,
            statement: check_statement(&input.statement)?,
            basis: input.basis,
            created_at: r.at,
            withdrawn_at: None,
            withdrawal_reason: None,
        })
    }
}

impl Warning {
    /// A warning received from another node, checked like one issued here.
    pub fn received(r: Received<'_>, input: WarningInput) -> Result<Self, ValidationErrors> {
        Ok(Self {
            id: r.id,
            ap_id: r.ap_id,
            initiative_id: r.initiative_id,
            collective: r.collective.to_string(),
            local: false,
            author: None,
            statement: check_statement(&input.statement)?,
            reason: input.reason,
            created_at: r.at,
            withdrawn_at: None,
            withdrawal_reason: None,
        })
    }
}

/// The collective a node's public URL stands for: `host`, or `host:port` when the URL names a
/// port. `None` for anything that is not an absolute http(s) URL with a host.
pub fn domain_of_url(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// What a node's transparency log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransparencyAction {
    VouchIssued,
    VouchWithdrawn,
    WarningIssued,
    WarningWithdrawn,
    PolicyChanged,
}

impl TransparencyAction {
    pub const ALL: [TransparencyAction; 5] = [
        Self::VouchIssued,
        Self::VouchWithdrawn,
        Self::WarningIssued,
        Self::WarningWithdrawn,
        Self::PolicyChanged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::VouchIssued => "vouch_issued",
            Self::VouchWithdrawn => "vouch_withdrawn",
            Self::WarningIssued => "warning_issued",
            Self::WarningWithdrawn => "warning_withdrawn",
            Self::PolicyChanged => "policy_changed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One entry of a node's public transparency log: a vouch or warning it issued or withdrew,
/// or a change of its trust policy. Who among the moderators did it is not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransparencyEntry {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub action: TransparencyAction,
    /// The initiative concerned, as `handle` (this node's) or `handle@domain`; none for
    /// policy changes. Kept as it was at the time, also if the listing is gone since.
    pub initiative: Option<String>,
    pub initiative_id: Option<Uuid>,
    /// The vouch or warning concerned.
    pub statement_id: Option<Uuid>,
    pub ap_id: Option<String>,
    /// The vouch's or warning's statement.
    pub statement: Option<String>,
    /// Why it was withdrawn, or a note on a policy change.
    pub reason: Option<String>,
    /// Structured details: `{"basis": …}`, `{"reason": …}`, or `{"before": policy, "after": policy}`.
    pub details: serde_json::Value,
}

impl TransparencyEntry {
    /// An entry about a statement (`acct` is how the initiative is addressed).
    pub fn about_vouch(action: TransparencyAction, at: Timestamp, acct: &str, v: &Vouch) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            action,
            initiative: Some(acct.to_string()),
            initiative_id: Some(v.initiative_id),
            statement_id: Some(v.id),
            ap_id: Some(v.ap_id.clone()),
            statement: Some(v.statement.clone()),
            reason: v.withdrawal_reason.clone(),
            details: serde_json::json!({ "basis": v.basis.code() }),
        }
    }

    pub fn about_warning(
        action: TransparencyAction,
        at: Timestamp,
        acct: &str,
        w: &Warning,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            action,
            initiative: Some(acct.to_string()),
            initiative_id: Some(w.initiative_id),
            statement_id: Some(w.id),
            ap_id: Some(w.ap_id.clone()),
            statement: Some(w.statement.clone()),
            reason: w.withdrawal_reason.clone(),
            details: serde_json::json!({ "reason": w.reason.code() }),
        }
    }
}

/// The result of checking an initiative's website for a `rel="me"` link back to its profile
/// (as Mastodon verifies profile links).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebsiteCheck {
    pub initiative_id: Uuid,
    /// The website address that was checked.
    pub url: String,
    pub checked_at: chrono::DateTime<chrono::Utc>,
    /// Whether the website links back to the initiative's profile with `rel="me"`.
    pub ok: bool,
    /// What was found, in English (e.g. why the check failed).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for b in VouchBasis::ALL {
            assert_eq!(VouchBasis::from_code(b.code()), Some(b));
        }
        for r in WarningReason::ALL {
            assert_eq!(WarningReason::from_code(r.code()), Some(r));
        }
        for a in TransparencyAction::ALL {
            assert_eq!(TransparencyAction::from_code(a.code()), Some(a));
        }
        assert_eq!(VouchBasis::from_code("trust_me"), None);
    }

    #[test]
    fn statements_are_checked() {
        let issued = || Issued {
            id: Uuid::nil(),
            ap_id: "https://n.example/vouches/x".into(),
            initiative_id: Uuid::nil(),
            collective: "n.example",
            author: "olena",
            at: chrono::Utc::now(),
        };
        let input = |s: &str| VouchInput {
            statement: s.into(),
            basis: VouchBasis::CheckedReceipts,
        };
        let v = Vouch::issue(issued(), input("  we saw their receipts ")).unwrap();
        assert_eq!(v.statement, "we saw their receipts");
        assert!(v.local && v.is_active());
        assert_eq!(v.author.as_deref(), Some("olena"));
        assert!(Vouch::issue(issued(), input("   ")).is_err());
        assert!(Vouch::issue(issued(), input(&"x".repeat(MAX_STATEMENT + 1))).is_err());
        assert!(Vouch::issue(issued(), input("bell\u{7}")).is_err());
        assert!(check_withdrawal_reason("").is_err());
        assert_eq!(
            check_withdrawal_reason(" changed our mind ").unwrap(),
            "changed our mind"
        );
    }

    #[test]
    fn domains_of_urls() {
        assert_eq!(
            domain_of_url("http://localhost:8080").as_deref(),
            Some("localhost:8080")
        );
        assert_eq!(
            domain_of_url("https://Node.Example/").as_deref(),
            Some("node.example")
        );
        assert_eq!(
            domain_of_url("https://node.example:443/x").as_deref(),
            Some("node.example")
        );
        assert_eq!(domain_of_url("ftp://node.example"), None);
        assert_eq!(domain_of_url("not a url"), None);
    }
}
