//! Ways to reach an initiative's people.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{ValidationErrors, check_web_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Phone,
    Signal,
    Telegram,
    Matrix,
    Instagram,
    Facebook,
    Fediverse,
    Website,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub kind: ContactKind,
    /// An address, handle or link, e.g. `@kharkiv_medics` or `help@example.org`.
    pub value: String,
}

impl Contact {
    pub(crate) fn normalize(&mut self) {
        self.value = self.value.trim().to_string();
    }

    pub(crate) fn validate(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        errors.text("value", &self.value, 200);
        errors.no_control_chars("value", &self.value);
        if errors.is_empty() {
            let v = self.value.as_str();
            let ok = match self.kind {
                ContactKind::Email => is_email(v),
                ContactKind::Phone | ContactKind::Signal if v.starts_with('+') => v[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ' ' || c == '-'),
                ContactKind::Matrix => v.starts_with('@') && v.contains(':'),
                ContactKind::Website => check_web_url(&mut errors, "value", v).is_some(),
                _ => true,
            };
            if !ok && errors.is_empty() {
                errors.add(
                    "value",
                    "invalid_contact",
                    match self.kind {
                        ContactKind::Email => "must be an email address",
                        ContactKind::Phone | ContactKind::Signal => {
                            "must be a phone number in international form (+380…) or a username"
                        }
                        ContactKind::Matrix => "must be a Matrix id such as @name:matrix.org",
                        _ => "is not valid",
                    },
                );
            }
        }
        errors
    }
}

/// A plain address `name@host.example`: nothing a link could hide in (no `/`, `:`, `?`, `#`,
/// white space or control characters; the host only letters, digits, `-` and `.`).
pub(crate) fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    let local_ok = |c: char| {
        !c.is_whitespace()
            && !c.is_control()
            && !matches!(c, '@' | '/' | ':' | '?' | '#' | '<' | '>' | '"' | '\\')
    };
    !local.is_empty()
        && local.chars().all(local_ok)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_checks() {
        let c = |kind, value: &str| {
            Contact {
                kind,
                value: value.into(),
            }
            .validate()
        };
        assert!(c(ContactKind::Email, "help@example.org").is_empty());
        assert!(!c(ContactKind::Email, "help at example").is_empty());
        assert!(c(ContactKind::Signal, "+380 67 000 0000").is_empty());
        assert!(c(ContactKind::Signal, "kharkiv.01").is_empty());
        assert!(!c(ContactKind::Matrix, "name").is_empty());
        assert!(!c(ContactKind::Website, "ftp://x").is_empty());
    }
}
