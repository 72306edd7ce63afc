//! A node's trust policy: whose vouches and warnings count here, and how many make "Verified".
//!
//! Each node decides for itself and publishes its policy; there is no list everyone must share.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Timestamp;
use crate::validation::ValidationErrors;

/// Most collectives a policy may list as trusted, and as ignored.
pub const MAX_POLICY_DOMAINS: usize = 500;
/// Highest threshold: more would make "Verified" unreachable in practice.
pub const MAX_THRESHOLD: u32 = 50;

/// Whose statements count on this node.
///
/// This node's own moderators always count, whatever the lists say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrustPolicy {
    /// Collectives (node domains, `host` or `host:port`) whose vouches make an initiative
    /// Verified here. Sorted, without duplicates.
    #[schema(example = json!(["kyiv-mutual-aid.example", "lviv.example:8443"]))]
    pub trusted: Vec<String>,
    /// Collectives whose vouches and warnings are not counted at all (still listed among the
    /// reasons, marked as ignored). Sorted, without duplicates.
    pub ignored: Vec<String>,
    /// How many different trusted collectives (this node's own counting as one) must vouch for
    /// an initiative to be Verified. At least 1.
    pub threshold: u32,
    /// Whether an active warning from a trusted collective makes an initiative Disputed. A
    /// warning from this node's own moderators always does.
    pub warnings_dispute: bool,
    /// When the policy last changed; `None` while it is the default.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            ignored: Vec::new(),
            threshold: 1,
            warnings_dispute: true,
            updated_at: None,
        }
    }
}

/// Standing of a collective in a policy, before this node's own special case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    Trusted,
    Ignored,
    Neither,
}

impl TrustPolicy {
    pub(crate) fn listing(&self, collective: &str) -> Listed {
        // Entries are compared as they would be stored now: a policy saved before default
        // ports were dropped (`x.example:443`) still names `x.example`.
        let name = |d: &str| normalize_domain(d).unwrap_or_else(|| d.to_ascii_lowercase());
        let collective = name(collective);
        let names = |list: &[String]| list.iter().any(|d| name(d) == collective);
        // Ignoring wins: validation keeps the lists apart, but a policy edited by hand in the
        // database must still not count an ignored collective.
        if names(&self.ignored) {
            Listed::Ignored
        } else if names(&self.trusted) {
            Listed::Trusted
        } else {
            Listed::Neither
        }
    }

    /// The input that would give this policy (for edits of one field, e.g. from the CLI), its
    /// domains written as they are stored now.
    pub fn to_input(&self) -> TrustPolicyInput {
        let names = |list: &[String]| {
            list.iter()
                .map(|d| normalize_domain(d).unwrap_or_else(|| d.clone()))
                .collect()
        };
        TrustPolicyInput {
            trusted: names(&self.trusted),
            ignored: names(&self.ignored),
            threshold: self.threshold,
            warnings_dispute: self.warnings_dispute,
        }
    }
}

/// A policy as an admin sends it (`PUT /api/v1/trust-policy`): the whole policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicyInput {
    #[serde(default)]
    pub trusted: Vec<String>,
    #[serde(default)]
    pub ignored: Vec<String>,
    pub threshold: u32,
    pub warnings_dispute: bool,
}

impl TrustPolicyInput {
    /// Normalises the domains (lower-case, sorted, no duplicates) and checks every rule.
    pub fn validate(self, at: Timestamp) -> Result<TrustPolicy, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let trusted = domains(&mut errors, "trusted", &self.trusted);
        let ignored = domains(&mut errors, "ignored", &self.ignored);
        for (i, d) in trusted.iter().enumerate() {
            if ignored.binary_search(d).is_ok() {
                errors.add(
                    format!("trusted[{i}]"),
                    "trusted_and_ignored",
                    format!("{d} cannot be both trusted and ignored"),
                );
            }
        }
        if !(1..=MAX_THRESHOLD).contains(&self.threshold) {
            errors.add(
                "threshold",
                "out_of_range",
                format!("must be from 1 to {MAX_THRESHOLD}"),
            );
        }
        errors.into_result(TrustPolicy {
            trusted,
            ignored,
            threshold: self.threshold,
            warnings_dispute: self.warnings_dispute,
            updated_at: Some(at),
        })
    }
}

fn domains(errors: &mut ValidationErrors, field: &str, raw: &[String]) -> Vec<String> {
    errors.max_items(field, raw, MAX_POLICY_DOMAINS);
    let mut out = Vec::with_capacity(raw.len());
    for (i, d) in raw.iter().enumerate() {
        match normalize_domain(d) {
            Some(d) => out.push(d),
            None => errors.add(
                format!("{field}[{i}]"),
                "invalid_domain",
                "must be a node's domain such as node.example or node.example:8443",
            ),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A collective's domain as policies keep it: lower-case `host` or `host:port`, without
/// scheme or path. `None` when it is not a plausible domain.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() || raw.len() > 253 {
        return None;
    }
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) => {
            let port: u16 = port.parse().ok()?;
            (host, Some(port))
        }
        None => (raw.as_str(), None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !host.split('.').all(label_ok) {
        return None;
    }
    // A default port is no part of the name: statements carry `host` alone for them.
    Some(match port {
        Some(port) if port != 443 && port != 80 => format!("{host}:{port}"),
        _ => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(trusted: &[&str], ignored: &[&str], threshold: u32) -> TrustPolicyInput {
        TrustPolicyInput {
            trusted: trusted.iter().map(|s| s.to_string()).collect(),
            ignored: ignored.iter().map(|s| s.to_string()).collect(),
            threshold,
            warnings_dispute: true,
        }
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(
            normalize_domain(" Node.Example ").as_deref(),
            Some("node.example")
        );
        assert_eq!(
            normalize_domain("localhost:8080").as_deref(),
            Some("localhost:8080")
        );
        // As statements name the collective: `troll.example`, not `troll.example:443`.
        assert_eq!(
            normalize_domain("troll.example:443").as_deref(),
            Some("troll.example")
        );
        for bad in [
            "",
            "https://node.example",
            "node.example/path",
            "no de.example",
            "node.example:99999",
            "-bad.example",
            "a..b",
        ] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
    }

    #[test]
    fn validation_sorts_dedups_and_checks() {
        let p = input(&["b.example", "A.example", "a.example"], &["z.example"], 2)
            .validate(chrono::Utc::now())
            .unwrap();
        assert_eq!(p.trusted, ["a.example", "b.example"]);
        assert_eq!(p.ignored, ["z.example"]);
        assert!(p.updated_at.is_some());

        let e = input(&["a.example", "bad/"], &["a.example"], 0)
            .validate(chrono::Utc::now())
            .unwrap_err();
        let codes: Vec<_> = e
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert!(
            codes.contains(&("trusted[1]", "invalid_domain")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("trusted[0]", "trusted_and_ignored")),
            "{codes:?}"
        );
        assert!(codes.contains(&("threshold", "out_of_range")), "{codes:?}");
        assert!(
            input(&[], &[], MAX_THRESHOLD + 1)
                .validate(chrono::Utc::now())
                .is_err()
        );
    }

    #[test]
    fn entries_saved_with_a_default_port_still_name_their_collective() {
        let p = TrustPolicy {
            trusted: vec!["kyiv.example:443".into()],
            ignored: vec!["troll.example:443".into()],
            threshold: 1,
            warnings_dispute: true,
            updated_at: None,
        };
        assert_eq!(p.listing("kyiv.example"), Listed::Trusted);
        assert_eq!(p.listing("troll.example"), Listed::Ignored);
        assert_eq!(p.to_input().trusted, ["kyiv.example"]);
    }

    #[test]
    fn ignoring_wins_over_trusting() {
        let p = TrustPolicy {
            trusted: vec!["x.example".into()],
            ignored: vec!["x.example".into()],
            ..TrustPolicy::default()
        };
        assert_eq!(p.listing("X.example"), Listed::Ignored);
        assert_eq!(p.listing("y.example"), Listed::Neither);
    }
}
