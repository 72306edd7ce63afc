//! Plain data exchanged with the store.

use chrono::{DateTime, Utc};
use hromada_domain::{Category, Initiative, InitiativeStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Which listings a search covers by where they come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OriginFilter {
    Local,
    Remote,
    #[default]
    All,
}

/// A search over initiatives. Every filter is optional; `statuses` empty means "public ones"
/// (published and paused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words to find in name, summary, description and tags (any language).
    pub text: Option<String>,
    pub category: Option<Category>,
    /// An oblast code (`kharkiv`) or `abroad`.
    pub region: Option<String>,
    pub statuses: Vec<InitiativeStatus>,
    pub has_open_needs: Option<bool>,
    pub origin: OriginFilter,
    /// Only initiatives that take recurring donations.
    pub recurring_only: bool,
    /// Only initiatives with this trust status on this node.
    pub trust: Option<hromada_domain::trust::TrustLevel>,
    /// Count every match instead of stopping at [`SearchQuery::COUNT_CAP`] (for the few
    /// callers that publish the number, such as NodeInfo; slower on large directories).
    pub exact_total: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: None,
            category: None,
            region: None,
            statuses: Vec::new(),
            has_open_needs: None,
            origin: OriginFilter::All,
            recurring_only: false,
            trust: None,
            exact_total: false,
            page: 1,
            per_page: 20,
        }
    }
}

impl SearchQuery {
    pub const MAX_PER_PAGE: u32 = 100;

    /// Searches stop counting here (the total is then shown as "1,000+"), and a search with
    /// words ranks at most this many matches: the newest ones. Ranking every match of a word
    /// that is in most listings costs a scan of all of them; beyond a thousand the order of a
    /// frequent word says little anyway, and more words or a filter narrow it down.
    pub const COUNT_CAP: u32 = 1000;

    /// The statuses actually searched.
    pub fn effective_statuses(&self) -> Vec<InitiativeStatus> {
        if self.statuses.is_empty() {
            vec![InitiativeStatus::Published, InitiativeStatus::Paused]
        } else {
            self.statuses.clone()
        }
    }

    pub fn limit_offset(&self) -> (u32, u32) {
        let per_page = self.per_page.clamp(1, Self::MAX_PER_PAGE);
        (
            per_page,
            self.page.max(1).saturating_sub(1).saturating_mul(per_page),
        )
    }

    /// Splits the text into search terms: words of letters and digits, without the marks on
    /// Latin letters ([`hromada_domain::search::fold_diacritics`]), lower-cased and cut to
    /// their stem ([`hromada_domain::search::stem`]), each once, at most 8. Both backends match
    /// each term as a prefix, so "медик" finds "медики" and "аптечка" finds "аптечки".
    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = Vec::new();
        let text = hromada_domain::search::fold_diacritics(self.text.as_deref().unwrap_or(""));
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let term = hromada_domain::search::stem(&word.to_lowercase()).to_string();
            if !terms.contains(&term) && terms.len() < 8 {
                terms.push(term);
            }
        }
        terms
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub items: Vec<Initiative>,
    /// Matches counted; when `total_capped`, counting stopped there and there are more.
    pub total: u64,
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A bearer token for scripts, created by `POST /api/v1/auth/token` or `hromada admin`.
    Api,
    /// A browser session (cookie).
    Session,
}

impl TokenKind {
    pub fn code(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "api" => Some(TokenKind::Api),
            "session" => Some(TokenKind::Session),
            _ => None,
        }
    }
}

/// A stored token. The secret itself is shown once and never stored; `hash` is its SHA-256 hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(skip)]
    pub hash: String,
    pub kind: TokenKind,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What changed, as recorded in the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    InitiativeCreated,
    InitiativeUpdated,
    NeedCreated,
    NeedUpdated,
    UpdateCreated,
    UpdateEdited,
    UpdateDeleted,
    EventCreated,
    EventUpdated,
    /// A local initiative was deleted as a whole (`entity_id` = `initiative_id`).
    InitiativeDeleted,
    /// This node's collective vouched (`entity_id`: the vouch).
    VouchIssued,
    VouchWithdrawn,
    /// This node's collective warned (`entity_id`: the warning).
    WarningIssued,
    WarningWithdrawn,
    /// Someone on this node filed a report (`entity_id`: the report); federation passes it on
    /// to the origin of a mirrored listing.
    ReportFiled,
}

impl ChangeKind {
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::InitiativeCreated => "initiative_created",
            ChangeKind::InitiativeUpdated => "initiative_updated",
            ChangeKind::NeedCreated => "need_created",
            ChangeKind::NeedUpdated => "need_updated",
            ChangeKind::UpdateCreated => "update_created",
            ChangeKind::UpdateEdited => "update_edited",
            ChangeKind::UpdateDeleted => "update_deleted",
            ChangeKind::EventCreated => "event_created",
            ChangeKind::EventUpdated => "event_updated",
            ChangeKind::InitiativeDeleted => "initiative_deleted",
            ChangeKind::VouchIssued => "vouch_issued",
            ChangeKind::VouchWithdrawn => "vouch_withdrawn",
            ChangeKind::WarningIssued => "warning_issued",
            ChangeKind::WarningWithdrawn => "warning_withdrawn",
            ChangeKind::ReportFiled => "report_filed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        use ChangeKind::*;
        [
            InitiativeCreated,
            InitiativeUpdated,
            NeedCreated,
            NeedUpdated,
            UpdateCreated,
            UpdateEdited,
            UpdateDeleted,
            EventCreated,
            EventUpdated,
            InitiativeDeleted,
            VouchIssued,
            VouchWithdrawn,
            WarningIssued,
            WarningWithdrawn,
            ReportFiled,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// A local initiative that was deleted. Its handle is never taken again on this node: remote
/// servers keep `@handle@node` in caches and timelines, and a newcomer under the same name
/// could pass for the old initiative (Mastodon never reuses usernames for the same reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedInitiative {
    pub id: Uuid,
    pub handle: String,
    pub deleted_at: DateTime<Utc>,
}

/// How a deleted initiative is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedKey<'a> {
    Id(Uuid),
    Handle(&'a str),
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Strictly increasing.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    /// The changed object's id (initiative, need, update, event, vouch, warning or report).
    pub entity_id: Uuid,
    pub initiative_id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_and_paging() {
        let q = SearchQuery {
            text: Some("Харкові, medics!  генератор генератори".into()),
            page: 3,
            per_page: 500,
            ..Default::default()
        };
        assert_eq!(q.terms(), ["харк", "medic", "генератор"]);
        assert_eq!(q.limit_offset(), (100, 200));
        let q = SearchQuery {
            text: Some("Zbiórka ZBIÓRKA zbiorka Миколаїв".into()),
            ..Default::default()
        };
        assert_eq!(q.terms(), ["zbiorka", "микола"]);
    }
}

/// Who runs a background job of the node (one process at a time when several share the
/// database) and until when, unless it renews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobLease {
    pub job: String,
    pub holder: String,
    /// When this holder took the job (renewals keep it).
    pub taken_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
