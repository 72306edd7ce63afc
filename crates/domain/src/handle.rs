//! Handles: the `name` in `@name@node.example`.
//!
//! Handles follow Mastodon's username grammar `[a-z0-9_]+([.-]+[a-z0-9_]+)*` (ASCII only), or
//! Mastodon users could not mention or find them.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationErrors;

pub const MAX_HANDLE_LEN: usize = 30;

/// Names a node keeps for itself: its own actor, its routes, and names that would mislead.
const RESERVED: &[&str] = &[
    "about",
    "admin",
    "administrator",
    "api",
    "actor",
    "app",
    "assets",
    "auth",
    "events",
    "feeds",
    "follow",
    "followers",
    "following",
    "give",
    "help",
    "hromada",
    "inbox",
    "instance",
    "login",
    "logout",
    "media",
    "moderation",
    "moderator",
    "mod",
    "node",
    "nodeinfo",
    "outbox",
    "peers",
    "relay",
    "root",
    "search",
    "security",
    "settings",
    "static",
    "submit",
    "support",
    "system",
    "trust",
    "webmaster",
    "well-known",
    "www",
];

/// A validated, lower-case handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "kharkiv-medics")]
pub struct Handle(String);

impl Handle {
    /// Parses a handle, refusing anything Mastodon could not mention and reserved names.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let handle = raw.trim().to_ascii_lowercase();
        let fail = |code, message: &str| Err(ValidationErrors::single("handle", code, message));
        if handle.is_empty() {
            return fail("required", "must not be empty");
        }
        if handle.len() > MAX_HANDLE_LEN {
            return fail("too_long", "must be at most 30 characters");
        }
        if !is_mastodon_username(&handle) {
            return fail(
                "invalid_handle",
                "may contain only latin letters, digits and _, with single . or - between them (no spaces)",
            );
        }
        if RESERVED.contains(&handle.as_str()) {
            return fail("reserved", "is reserved by the node; choose another");
        }
        Ok(Self(handle))
    }

    /// Wraps a handle that was validated before (read back from storage, or the node's own actor).
    pub fn trusted(handle: impl Into<String>) -> Self {
        Self(handle.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_reserved(name: &str) -> bool {
        RESERVED.contains(&name)
    }
}

/// `[a-z0-9_]+([.-]+[a-z0-9_]+)*`
fn is_mastodon_username(s: &str) -> bool {
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let sep = |c: char| c == '.' || c == '-';
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    word(first) && word(last) && s.chars().all(|c| word(c) || sep(c))
}

impl TryFrom<String> for Handle {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Handle::parse(&value).map_err(|e| e.summary())
    }
}

impl From<Handle> for String {
    fn from(h: Handle) -> Self {
        h.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mastodon_usernames() {
        for ok in [
            "kharkiv-medics",
            "a",
            "repair_brigade.2",
            "dnipro--food",
            "Kyiv_Help",
        ] {
            assert!(Handle::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Handle::parse(" Kyiv_Help ").unwrap().as_str(), "kyiv_help");
    }

    #[test]
    fn refuses_what_mastodon_cannot_mention() {
        for bad in [
            "",
            "with space",
            "-lead",
            "trail.",
            "харків",
            "a/b",
            "x@y",
            &"a".repeat(31),
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_reserved_names() {
        let err = Handle::parse("admin").unwrap_err();
        assert_eq!(err.errors[0].code, "reserved");
    }
}
