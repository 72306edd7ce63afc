//! People with accounts on a node, and what each role may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validation::ValidationErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the node: users, peers, trust policy, and everything moderators do.
    Admin,
    /// Reviews submissions and reports, vouches, edits any local initiative.
    Moderator,
    /// Keeps the initiatives they are maintainer of up to date.
    Maintainer,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Maintainer => "maintainer",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Role::Admin, Role::Moderator, Role::Maintainer]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    /// The PHC string of an argon2id hash. Never leaves the server.
    #[serde(skip)]
    #[schema(ignore)]
    pub password_hash: String,
    /// Initiatives this user maintains (for maintainers).
    pub maintains: Vec<Uuid>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl User {
    pub fn is_moderator(&self) -> bool {
        !self.disabled && matches!(self.role, Role::Admin | Role::Moderator)
    }

    pub fn is_admin(&self) -> bool {
        !self.disabled && self.role == Role::Admin
    }

    /// Moderators may edit every local initiative; maintainers only their own.
    pub fn may_edit(&self, initiative_id: Uuid) -> bool {
        self.is_moderator() || (!self.disabled && self.maintains.contains(&initiative_id))
    }

    /// Checks a username: 3–32 characters of a-z, 0-9, `_`, `-`, `.`.
    pub fn check_username(raw: &str) -> Result<String, ValidationErrors> {
        let name = raw.trim().to_ascii_lowercase();
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
        if (3..=32).contains(&name.len()) && valid_chars {
            Ok(name)
        } else {
            Err(ValidationErrors::single(
                "username",
                "invalid_username",
                "use 3 to 32 characters: a-z, 0-9, _, - or .",
            ))
        }
    }

    /// Passwords need length more than anything else.
    pub fn check_password(password: &str) -> Result<(), ValidationErrors> {
        let len = password.chars().count();
        if len < 10 {
            Err(ValidationErrors::single(
                "password",
                "too_short",
                "must be at least 10 characters",
            ))
        } else if len > 1024 {
            Err(ValidationErrors::single(
                "password",
                "too_long",
                "must be at most 1024 characters",
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn user(role: Role, maintains: Vec<Uuid>) -> User {
        User {
            id: Uuid::nil(),
            username: "u".into(),
            role,
            password_hash: String::new(),
            maintains,
            disabled: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn permissions() {
        let mine = Uuid::new_v4();
        let theirs = Uuid::new_v4();
        let m = user(Role::Maintainer, vec![mine]);
        assert!(m.may_edit(mine) && !m.may_edit(theirs) && !m.is_moderator());
        assert!(user(Role::Moderator, vec![]).may_edit(theirs));
        let mut off = user(Role::Admin, vec![]);
        off.disabled = true;
        assert!(!off.may_edit(theirs) && !off.is_admin());
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(User::check_username(" Olena.K ").unwrap(), "olena.k");
        assert!(User::check_username("a b").is_err());
        assert!(User::check_password("short").is_err());
        assert!(User::check_password("long enough passphrase").is_ok());
    }
}
