//! The trust status of an initiative on one node, derived from the node's policy and every
//! vouch and warning it knows about, with a reason for each of them.
//!
//! The rules, in order:
//! 1. Withdrawn statements and those of ignored collectives count for nothing.
//! 2. An active warning from this node's moderators makes the initiative Disputed; so does one
//!    from a trusted collective when the policy says warnings dispute.
//! 3. Otherwise it is Verified when at least `threshold` different trusted collectives vouch
//!    for it (this node's moderators always count as one trusted collective).
//! 4. Otherwise it is Vouched when any collective that is not ignored vouches for it.
//! 5. Otherwise it is Unverified.
//!
//! A collective counts once however many vouches it issued; its earliest active vouch is the
//! one counted. Reasons come in a fixed order (oldest first), so the same facts always give the
//! same answer, whatever order the store returned them in.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::policy::{Listed, TrustPolicy};
use super::statement::{StatementKind, Vouch, VouchBasis, Warning, WarningReason};
use crate::Timestamp;

/// What a node concludes about an initiative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustLevel {
    /// Enough collectives this node trusts vouch for it.
    Verified,
    /// Some collective vouches for it, but not enough trusted ones.
    Vouched,
    /// Nobody this node listens to has said anything.
    Unverified,
    /// A collective this node trusts warns about it.
    Disputed,
}

impl TrustLevel {
    pub const ALL: [TrustLevel; 4] = [
        Self::Verified,
        Self::Vouched,
        Self::Unverified,
        Self::Disputed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Vouched => "vouched",
            Self::Unverified => "unverified",
            Self::Disputed => "disputed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// Where a statement's collective stands in this node's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// This node's own moderators: always counted.
    ThisNode,
    /// A collective the policy trusts.
    Trusted,
    /// A collective the policy neither trusts nor ignores: its vouches make Vouched, never
    /// Verified, and its warnings are shown without changing the status.
    Untrusted,
    /// A collective the policy ignores: nothing it says counts.
    Ignored,
}

/// One vouch or warning, and what it does to the status here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrustReason {
    pub kind: StatementKind,
    /// The vouch's or warning's id (for `DELETE /api/v1/vouches/{id}` on its own node).
    pub id: Uuid,
    pub ap_id: String,
    /// Who: the issuing collective's domain.
    pub collective: String,
    pub standing: Standing,
    /// When it was issued.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The basis of a vouch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<VouchBasis>,
    /// The reason of a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning_reason: Option<WarningReason>,
    pub statement: String,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub withdrawal_reason: Option<String>,
    /// The status this statement pushes towards (`verified`, `vouched` or `disputed`); `null`
    /// when it does not count, and `explanation` says why.
    pub counts_toward: Option<TrustLevel>,
    /// The whole reason in one English sentence.
    pub explanation: String,
}

/// An initiative's status on this node, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrustStatus {
    pub status: TrustLevel,
    /// Oldest first.
    pub reasons: Vec<TrustReason>,
    /// Different trusted collectives (this node included) with an active vouch.
    pub trusted_vouches: u32,
    /// How many are needed for Verified (the policy's threshold).
    pub threshold: u32,
    /// The verdict in one English sentence.
    pub summary: String,
}

impl TrustStatus {
    /// The status of an initiative nobody has said anything about.
    pub fn unverified(policy: &TrustPolicy) -> Self {
        assess(policy, &[], &[])
    }
}

/// One statement, whichever kind, as the rules see it.
struct Item<'a> {
    kind: StatementKind,
    id: Uuid,
    ap_id: &'a str,
    collective: &'a str,
    local: bool,
    at: Timestamp,
    basis: Option<VouchBasis>,
    warning_reason: Option<WarningReason>,
    statement: &'a str,
    withdrawn_at: Option<Timestamp>,
    withdrawal_reason: Option<&'a str>,
}

fn standing(policy: &TrustPolicy, item: &Item<'_>) -> Standing {
    if item.local {
        return Standing::ThisNode;
    }
    match policy.listing(item.collective) {
        Listed::Ignored => Standing::Ignored,
        Listed::Trusted => Standing::Trusted,
        Listed::Neither => Standing::Untrusted,
    }
}

fn day(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Computes the status of one initiative from the policy and its statements (withdrawn ones
/// included, so the reasons can show them). Pure and deterministic.
pub fn assess(policy: &TrustPolicy, vouches: &[Vouch], warnings: &[Warning]) -> TrustStatus {
    let mut items: Vec<Item<'_>> = vouches
        .iter()
        .map(|v| Item {
            kind: StatementKind::Vouch,
            id: v.id,
            ap_id: &v.ap_id,
            collective: &v.collective,
            local: v.local,
            at: v.created_at,
            basis: Some(v.basis),
            warning_reason: None,
            statement: &v.statement,
            withdrawn_at: v.withdrawn_at,
            withdrawal_reason: v.withdrawal_reason.as_deref(),
        })
        .chain(warnings.iter().map(|w| Item {
            kind: StatementKind::Warning,
            id: w.id,
            ap_id: &w.ap_id,
            collective: &w.collective,
            local: w.local,
            at: w.created_at,
            basis: None,
            warning_reason: Some(w.reason),
            statement: &w.statement,
            withdrawn_at: w.withdrawn_at,
            withdrawal_reason: w.withdrawal_reason.as_deref(),
        }))
        .collect();
    // The order decides which of a collective's vouches is "the" counted one, so it must not
    // depend on the order the statements came in.
    items.sort_by_key(|i| (i.at, i.kind, i.id));

    // Collectives counted so far, by lower-case domain; this node's moderators are one
    // collective whatever domain their vouches name (the node may have moved).
    let mut counted_trusted: BTreeSet<(bool, String)> = BTreeSet::new();
    let mut counted_untrusted: BTreeSet<String> = BTreeSet::new();
    let mut disputed = false;
    let mut reasons = Vec::with_capacity(items.len());

    for item in &items {
        let standing = standing(policy, item);
        let who = match standing {
            Standing::ThisNode => "this node's moderators".to_string(),
            _ => item.collective.to_string(),
        };
        let what = match (item.basis, item.warning_reason) {
            (Some(b), _) => format!("vouched for it on {} ({})", day(item.at), b.describe()),
            (_, Some(r)) => format!("warned about it on {} ({})", day(item.at), r.describe()),
            _ => String::new(),
        };
        let (counts_toward, why) = if let Some(withdrawn) = item.withdrawn_at {
            let reason = item.withdrawal_reason.unwrap_or("no reason given");
            (
                None,
                format!(
                    "withdrawn on {} ({reason}), so it no longer counts",
                    day(withdrawn)
                ),
            )
        } else {
            match (item.kind, standing) {
                (_, Standing::Ignored) => (
                    None,
                    "this node's policy ignores that collective, so it does not count".to_string(),
                ),
                (StatementKind::Warning, Standing::ThisNode) => {
                    disputed = true;
                    (
                        Some(TrustLevel::Disputed),
                        "a warning from this node's own moderators makes it Disputed".to_string(),
                    )
                }
                (StatementKind::Warning, Standing::Trusted) if policy.warnings_dispute => {
                    disputed = true;
                    (
                        Some(TrustLevel::Disputed),
                        "this node trusts that collective, and its policy lets trusted warnings \
                         make an initiative Disputed"
                            .to_string(),
                    )
                }
                (StatementKind::Warning, Standing::Trusted) => (
                    None,
                    "this node trusts that collective, but its policy does not let warnings \
                     change the status; shown for information"
                        .to_string(),
                ),
                (StatementKind::Warning, _) => (
                    None,
                    "this node does not trust that collective, so its warning is shown for \
                     information only"
                        .to_string(),
                ),
                (StatementKind::Vouch, Standing::ThisNode | Standing::Trusted) => {
                    let key = match standing {
                        Standing::ThisNode => (true, String::new()),
                        _ => (false, item.collective.to_ascii_lowercase()),
                    };
                    if counted_trusted.insert(key) {
                        let whose = if standing == Standing::ThisNode {
                            "this node's own moderators always count"
                        } else {
                            "this node trusts that collective"
                        };
                        (
                            Some(TrustLevel::Verified),
                            format!("{whose}, so it counts towards Verified"),
                        )
                    } else {
                        (
                            None,
                            "the same collective vouched earlier, and each collective counts \
                             once"
                                .to_string(),
                        )
                    }
                }
                (StatementKind::Vouch, _) => {
                    if counted_untrusted.insert(item.collective.to_ascii_lowercase()) {
                        (
                            Some(TrustLevel::Vouched),
                            "this node does not trust that collective, so it makes the \
                             initiative Vouched but never Verified"
                                .to_string(),
                        )
                    } else {
                        (
                            None,
                            "the same collective vouched earlier, and each collective counts \
                             once"
                                .to_string(),
                        )
                    }
                }
            }
        };
        let statement = if item.statement.is_empty() {
            String::new()
        } else {
            format!(": \u{201c}{}\u{201d}", item.statement)
        };
        reasons.push(TrustReason {
            kind: item.kind,
            id: item.id,
            ap_id: item.ap_id.to_string(),
            collective: item.collective.to_string(),
            standing,
            at: item.at,
            basis: item.basis,
            warning_reason: item.warning_reason,
            statement: item.statement.to_string(),
            withdrawn_at: item.withdrawn_at,
            withdrawal_reason: item.withdrawal_reason.map(String::from),
            counts_toward,
            explanation: format!("{} {what}{statement} — {why}.", capitalize(&who)),
        });
    }

    let trusted_vouches = u32::try_from(counted_trusted.len()).unwrap_or(u32::MAX);
    let threshold = policy.threshold.max(1);
    let any_vouch = trusted_vouches > 0 || !counted_untrusted.is_empty();
    let status = if disputed {
        TrustLevel::Disputed
    } else if trusted_vouches >= threshold {
        TrustLevel::Verified
    } else if any_vouch {
        TrustLevel::Vouched
    } else {
        TrustLevel::Unverified
    };
    let summary = match status {
        TrustLevel::Disputed => {
            "Disputed: a collective this node trusts has warned about this initiative.".to_string()
        }
        TrustLevel::Verified => format!(
            "Verified: {trusted_vouches} trusted collective(s) vouch for it ({threshold} needed)."
        ),
        TrustLevel::Vouched => format!(
            "Vouched: {} collective(s) vouch for it, {trusted_vouches} of them trusted here \
             ({threshold} trusted needed for Verified).",
            trusted_vouches as usize + counted_untrusted.len()
        ),
        TrustLevel::Unverified => format!(
            "Unverified: no collective this node listens to vouches for it ({threshold} trusted \
             needed for Verified)."
        ),
    };
    TrustStatus {
        status,
        reasons,
        trusted_vouches,
        threshold,
        summary,
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    fn t(day: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).single().unwrap() + Duration::days(day)
    }

    fn vouch(collective: &str, local: bool, day: i64) -> Vouch {
        let id = Uuid::new_v4();
        Vouch {
            id,
            ap_id: format!("https://{collective}/vouches/{id}"),
            initiative_id: Uuid::nil(),
            collective: collective.into(),
            local,
            author: local.then(|| "olena".to_string()),
            statement: format!("{collective} knows them"),
            basis: VouchBasis::MetInPerson,
            created_at: t(day),
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    }

    fn warning(collective: &str, local: bool, day: i64) -> Warning {
        let id = Uuid::new_v4();
        Warning {
            id,
            ap_id: format!("https://{collective}/warnings/{id}"),
            initiative_id: Uuid::nil(),
            collective: collective.into(),
            local,
            author: None,
            statement: "the jar belongs to someone else".into(),
            reason: WarningReason::SuspectedFraud,
            created_at: t(day),
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    }

    fn withdrawn<T>(mut x: T, f: impl FnOnce(&mut T)) -> T {
        f(&mut x);
        x
    }

    fn policy(trusted: &[&str], ignored: &[&str], threshold: u32) -> TrustPolicy {
        TrustPolicy {
            trusted: trusted.iter().map(|s| s.to_string()).collect(),
            ignored: ignored.iter().map(|s| s.to_string()).collect(),
            threshold,
            ..TrustPolicy::default()
        }
    }

    #[test]
    fn nothing_known_is_unverified() {
        let s = assess(&TrustPolicy::default(), &[], &[]);
        assert_eq!(s.status, TrustLevel::Unverified);
        assert!(s.reasons.is_empty());
        assert_eq!((s.trusted_vouches, s.threshold), (0, 1));
        assert!(s.summary.starts_with("Unverified"));
        assert_eq!(TrustStatus::unverified(&TrustPolicy::default()), s);
    }

    #[test]
    fn own_moderators_always_count() {
        // Even a policy that lists this node's domain as ignored cannot silence its moderators.
        let p = policy(&[], &["here.example"], 1);
        let s = assess(&p, &[vouch("here.example", true, 0)], &[]);
        assert_eq!(s.status, TrustLevel::Verified);
        let r = &s.reasons[0];
        assert_eq!(r.standing, Standing::ThisNode);
        assert_eq!(r.counts_toward, Some(TrustLevel::Verified));
        assert!(
            r.explanation.starts_with(
                "This node's moderators vouched for it on 2025-03-01 (met them in person)"
            ),
            "{}",
            r.explanation
        );
        assert!(r.explanation.contains("always count"), "{}", r.explanation);
    }

    #[test]
    fn threshold_counts_distinct_trusted_collectives() {
        let p = policy(&["a.example", "b.example"], &[], 2);
        // Two vouches of one trusted collective are one collective: not enough for 2.
        let s = assess(
            &p,
            &[vouch("a.example", false, 0), vouch("a.example", false, 1)],
            &[],
        );
        assert_eq!(s.status, TrustLevel::Vouched);
        assert_eq!(s.trusted_vouches, 1);
        assert_eq!(s.reasons[0].counts_toward, Some(TrustLevel::Verified));
        assert_eq!(s.reasons[1].counts_toward, None);
        assert!(s.reasons[1].explanation.contains("counts once"));

        let s = assess(
            &p,
            &[vouch("a.example", false, 0), vouch("b.example", false, 1)],
            &[],
        );
        assert_eq!(s.status, TrustLevel::Verified);
        assert_eq!(s.trusted_vouches, 2);
        assert!(
            s.summary.contains("2 trusted collective(s)"),
            "{}",
            s.summary
        );

        // This node counts as one of the trusted collectives.
        let s = assess(
            &p,
            &[vouch("here.example", true, 0), vouch("b.example", false, 1)],
            &[],
        );
        assert_eq!(s.status, TrustLevel::Verified);
    }

    #[test]
    fn untrusted_only_is_vouched() {
        let p = policy(&["a.example"], &[], 1);
        let s = assess(&p, &[vouch("stranger.example", false, 0)], &[]);
        assert_eq!(s.status, TrustLevel::Vouched);
        assert_eq!(s.trusted_vouches, 0);
        let r = &s.reasons[0];
        assert_eq!(r.standing, Standing::Untrusted);
        assert_eq!(r.counts_toward, Some(TrustLevel::Vouched));
        assert!(
            r.explanation.starts_with("Stranger.example vouched"),
            "{}",
            r.explanation
        );
        assert!(
            r.explanation.contains("never Verified"),
            "{}",
            r.explanation
        );
    }

    #[test]
    fn ignored_collectives_count_for_nothing() {
        let p = policy(&[], &["troll.example"], 1);
        let s = assess(
            &p,
            &[vouch("troll.example", false, 0)],
            &[warning("troll.example", false, 1)],
        );
        assert_eq!(s.status, TrustLevel::Unverified);
        assert_eq!(s.reasons.len(), 2, "ignored statements are still listed");
        for r in &s.reasons {
            assert_eq!(r.standing, Standing::Ignored);
            assert_eq!(r.counts_toward, None);
            assert!(r.explanation.contains("ignores"), "{}", r.explanation);
        }
    }

    #[test]
    fn withdrawn_vouches_do_not_count() {
        let p = policy(&["a.example"], &[], 1);
        let v = withdrawn(vouch("a.example", false, 0), |v| {
            v.withdrawn_at = Some(t(5));
            v.withdrawal_reason = Some("they stopped reporting".into());
        });
        let s = assess(&p, &[v], &[]);
        assert_eq!(s.status, TrustLevel::Unverified);
        let r = &s.reasons[0];
        assert_eq!(r.counts_toward, None);
        assert_eq!(r.withdrawn_at, Some(t(5)));
        assert!(
            r.explanation
                .contains("withdrawn on 2025-03-06 (they stopped reporting)"),
            "{}",
            r.explanation
        );

        // A later, active vouch of the same collective is the one that counts.
        let w = withdrawn(vouch("a.example", false, 0), |v| {
            v.withdrawn_at = Some(t(1))
        });
        let s = assess(&p, &[w, vouch("a.example", false, 2)], &[]);
        assert_eq!(s.status, TrustLevel::Verified);
        assert_eq!(s.reasons[1].counts_toward, Some(TrustLevel::Verified));
    }

    #[test]
    fn warnings_dispute_only_by_policy() {
        let vouches = [vouch("here.example", true, 0), vouch("a.example", false, 0)];
        let mut p = policy(&["a.example"], &[], 1);

        // A trusted collective's warning disputes while the policy says so...
        let s = assess(&p, &vouches, &[warning("a.example", false, 3)]);
        assert_eq!(s.status, TrustLevel::Disputed);
        assert_eq!(
            s.reasons.last().unwrap().counts_toward,
            Some(TrustLevel::Disputed)
        );
        assert!(s.summary.starts_with("Disputed"));

        // ...and is only shown when it does not.
        p.warnings_dispute = false;
        let s = assess(&p, &vouches, &[warning("a.example", false, 3)]);
        assert_eq!(s.status, TrustLevel::Verified);
        assert_eq!(s.reasons.last().unwrap().counts_toward, None);
        assert!(
            s.reasons
                .last()
                .unwrap()
                .explanation
                .contains("for information")
        );

        // This node's own warning always disputes.
        let s = assess(&p, &vouches, &[warning("here.example", true, 3)]);
        assert_eq!(s.status, TrustLevel::Disputed);

        // An untrusted collective's warning never does.
        p.warnings_dispute = true;
        let s = assess(&p, &vouches, &[warning("stranger.example", false, 3)]);
        assert_eq!(s.status, TrustLevel::Verified);
        assert_eq!(s.reasons.last().unwrap().standing, Standing::Untrusted);

        // A withdrawn warning no longer disputes.
        let w = withdrawn(warning("a.example", false, 3), |w| {
            w.withdrawn_at = Some(t(4));
            w.withdrawal_reason = Some("resolved, it was a misunderstanding".into());
        });
        let s = assess(&p, &vouches, &[w]);
        assert_eq!(s.status, TrustLevel::Verified);
    }

    #[test]
    fn deterministic_whatever_the_input_order() {
        let p = policy(&["a.example", "b.example"], &["x.example"], 2);
        let vouches = vec![
            vouch("a.example", false, 2),
            vouch("here.example", true, 1),
            vouch("a.example", false, 1),
            vouch("stranger.example", false, 3),
            vouch("x.example", false, 0),
            // The same instant as another one: the order must still be fixed.
            vouch("b.example", false, 2),
        ];
        let warnings = vec![
            warning("stranger.example", false, 2),
            warning("b.example", false, 9),
        ];
        let expected = assess(&p, &vouches, &warnings);
        assert_eq!(expected.status, TrustLevel::Disputed);

        let mut v = vouches.clone();
        let mut w = warnings.clone();
        for round in 0..12 {
            v.rotate_left(1);
            if round % 3 == 0 {
                v.reverse();
                w.reverse();
            }
            assert_eq!(assess(&p, &v, &w), expected, "round {round}");
        }
        let times: Vec<_> = expected.reasons.iter().map(|r| r.at).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "oldest first");
        // The earlier of a.example's two vouches is the counted one.
        let a: Vec<_> = expected
            .reasons
            .iter()
            .filter(|r| r.collective == "a.example")
            .collect();
        assert_eq!(a[0].at, t(1));
        assert_eq!(a[0].counts_toward, Some(TrustLevel::Verified));
        assert_eq!(a[1].counts_toward, None);
    }

    #[test]
    fn policy_matching_ignores_case() {
        let p = policy(&["a.example"], &[], 1);
        assert_eq!(
            assess(&p, &[vouch("A.Example", false, 0)], &[]).status,
            TrustLevel::Verified
        );
    }

    #[test]
    fn levels_round_trip() {
        for l in TrustLevel::ALL {
            assert_eq!(TrustLevel::from_code(l.code()), Some(l));
        }
        assert_eq!(
            serde_json::to_value(TrustLevel::Verified).unwrap(),
            "verified"
        );
    }
}
