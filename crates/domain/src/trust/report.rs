//! Reports: anyone telling a node's moderators that something is wrong with an initiative.
//!
//! Who reported is for this node's moderators only; when a report is passed on to another node
//! it goes out in the node's own name.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::validation::{ValidationErrors, clean};

/// Longest report text.
pub const MAX_REPORT_REASON: usize = 2000;
/// Longest contact an anonymous reporter may leave.
const MAX_CONTACT: usize = 200;

/// What kind of problem a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportCategory {
    /// Money is not going where the listing says.
    Fraud,
    /// The listing pretends to be someone else.
    Impersonation,
    /// The listing reveals where people are (addresses, positions) and puts them at risk.
    Endangers,
    /// The initiative stopped working but still collects.
    Inactive,
    Spam,
    Other,
}

impl ReportCategory {
    pub const ALL: [ReportCategory; 6] = [
        Self::Fraud,
        Self::Impersonation,
        Self::Endangers,
        Self::Inactive,
        Self::Spam,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Fraud => "fraud",
            Self::Impersonation => "impersonation",
            Self::Endangers => "endangers",
            Self::Inactive => "inactive",
            Self::Spam => "spam",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    /// The moderators acted on it (`resolution` says how).
    Resolved,
    /// The moderators found nothing to act on (`resolution` says why).
    Dismissed,
}

impl ReportStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            "dismissed" => Some(Self::Dismissed),
            _ => None,
        }
    }
}

/// Who made a report. Shown to this node's moderators only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reporter {
    /// Someone signed in on this node.
    User { username: String },
    /// A visitor, who may leave a way to reach them.
    Anonymous { contact: Option<String> },
    /// An actor on another server (a Mastodon user's `Flag`, or another node passing a report on).
    Remote { actor_id: String },
}

/// A report about an initiative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub id: Uuid,
    pub initiative_id: Uuid,
    pub reporter: Reporter,
    pub category: ReportCategory,
    /// What the reporter says.
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The moderator who resolved it.
    pub resolved_by: Option<String>,
    /// What the moderators did about it.
    pub resolution: Option<String>,
    /// The id of the `Flag` activity it came in, for reports from other servers. Unique.
    pub activity_id: Option<String>,
}

/// What a reporter sends (`POST /api/v1/initiatives/{handle}/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub category: ReportCategory,
    /// What is wrong (at most 2000 characters).
    pub reason: String,
    /// How the moderators can reach an anonymous reporter (optional; never shown publicly).
    #[serde(default)]
    pub contact: Option<String>,
}

impl ReportInput {
    /// What is wrong with the input, if anything (empty when it may be filed).
    pub fn validate(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        errors.text("reason", &self.reason, MAX_REPORT_REASON);
        errors.no_control_chars("reason", &self.reason);
        if let Some(c) = self.contact.as_deref().map(clean).filter(|c| !c.is_empty()) {
            errors.max_len("contact", &c, MAX_CONTACT);
            errors.no_control_chars("contact", &c);
        }
        errors
    }
}

impl Report {
    /// A new open report. `signed_in` is the reporter's username when they are signed in (then
    /// no contact is kept: moderators can reach the account).
    pub fn file(
        id: Uuid,
        initiative_id: Uuid,
        signed_in: Option<&str>,
        input: ReportInput,
        at: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let errors = input.validate();
        let contact = input
            .contact
            .as_deref()
            .map(clean)
            .filter(|c| !c.is_empty());
        let reporter = match signed_in {
            Some(username) => Reporter::User {
                username: username.to_string(),
            },
            None => Reporter::Anonymous { contact },
        };
        errors.into_result(Self {
            id,
            initiative_id,
            reporter,
            category: input.category,
            reason: clean(&input.reason),
            status: ReportStatus::Open,
            created_at: at,
            resolved_at: None,
            resolved_by: None,
            resolution: None,
            activity_id: None,
        })
    }
}

impl Report {
    /// A report another server sent (a `Flag`): kept for this node's moderators under the
    /// sending actor, which for a node passing a report on is its instance actor, never the
    /// person who reported. The comment is taken as plain text, cut to the usual length.
    pub fn received(
        id: Uuid,
        initiative_id: Uuid,
        actor_id: &str,
        category: ReportCategory,
        comment: &str,
        activity_id: &str,
        at: Timestamp,
    ) -> Self {
        let text: String = comment
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .take(MAX_REPORT_REASON)
            .collect();
        let reason = match clean(&text) {
            r if r.is_empty() => "(no comment)".to_string(),
            r => r,
        };
        Self {
            id,
            initiative_id,
            reporter: Reporter::Remote {
                actor_id: actor_id.to_string(),
            },
            category,
            reason,
            status: ReportStatus::Open,
            created_at: at,
            resolved_at: None,
            resolved_by: None,
            resolution: None,
            activity_id: Some(activity_id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(reason: &str, contact: Option<&str>) -> ReportInput {
        ReportInput {
            category: ReportCategory::Fraud,
            reason: reason.into(),
            contact: contact.map(String::from),
        }
    }

    #[test]
    fn filing_checks_and_keeps_the_reporter() {
        let now = chrono::Utc::now();
        let r = Report::file(
            Uuid::nil(),
            Uuid::nil(),
            None,
            input(" fake jar ", Some(" me@x.example ")),
            now,
        )
        .unwrap();
        assert_eq!(r.reason, "fake jar");
        assert_eq!(
            r.reporter,
            Reporter::Anonymous {
                contact: Some("me@x.example".into())
            }
        );
        assert_eq!(r.status, ReportStatus::Open);

        let r = Report::file(
            Uuid::nil(),
            Uuid::nil(),
            Some("olena"),
            input("x", Some("ignored")),
            now,
        )
        .unwrap();
        assert_eq!(
            r.reporter,
            Reporter::User {
                username: "olena".into()
            }
        );

        assert!(Report::file(Uuid::nil(), Uuid::nil(), None, input("", None), now).is_err());
        let long = "x".repeat(MAX_REPORT_REASON + 1);
        assert!(Report::file(Uuid::nil(), Uuid::nil(), None, input(&long, None), now).is_err());
    }

    #[test]
    fn received_reports_keep_the_sender_and_plain_text() {
        let r = Report::received(
            Uuid::nil(),
            Uuid::nil(),
            "https://m.example/actor",
            ReportCategory::Other,
            "  fake\u{7} jar ",
            "https://m.example/flags/1",
            chrono::Utc::now(),
        );
        assert_eq!(r.reason, "fake jar");
        assert_eq!(
            r.reporter,
            Reporter::Remote {
                actor_id: "https://m.example/actor".into()
            }
        );
        assert_eq!(r.activity_id.as_deref(), Some("https://m.example/flags/1"));
        let empty = Report::received(
            Uuid::nil(),
            Uuid::nil(),
            "a",
            ReportCategory::Spam,
            "",
            "b",
            chrono::Utc::now(),
        );
        assert_eq!(empty.reason, "(no comment)");
        let long = "x".repeat(MAX_REPORT_REASON + 50);
        let r = Report::received(
            Uuid::nil(),
            Uuid::nil(),
            "a",
            ReportCategory::Spam,
            &long,
            "c",
            chrono::Utc::now(),
        );
        assert_eq!(r.reason.chars().count(), MAX_REPORT_REASON);
    }

    #[test]
    fn codes_round_trip() {
        for c in ReportCategory::ALL {
            assert_eq!(ReportCategory::from_code(c.code()), Some(c));
        }
        assert_eq!(
            ReportStatus::from_code("resolved"),
            Some(ReportStatus::Resolved)
        );
    }
}
