//! Accounts, logins and tokens.
//!
//! Tokens are random secrets shown once; only their SHA-256 is stored, so a leaked database
//! does not leak working credentials.

use base64::Engine;
use chrono::Duration;
use hromada_domain::{AuditAction, AuditEntry, Role, User, ValidationErrors};
use hromada_store::{TokenKind, TokenRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{App, AppError, AppResult, hash_password, now, verify_password};

/// How long a browser session lasts without signing in again.
pub const SESSION_TTL: Duration = Duration::days(30);

/// A token as issued: the secret is shown to its owner once and never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub secret: String,
    pub record: TokenRecord,
}

/// A prefix that makes Hromada tokens recognisable (e.g. to secret scanners).
const TOKEN_PREFIX: &str = "hrmd_";

/// Hashes a token secret for storage and lookup.
pub(crate) fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl App {
    /// Creates an account. `by` is the admin doing it (`None` from the command line).
    pub async fn create_user(
        &self,
        by: Option<&User>,
        username: &str,
        role: Role,
        password: &str,
    ) -> AppResult<User> {
        if let Some(actor) = by
            && !actor.is_admin()
        {
            return Err(AppError::Forbidden("only admins create accounts"));
        }
        let username = User::check_username(username)?;
        User::check_password(password)?;
        let user = User {
            id: Uuid::now_v7(),
            username: username.clone(),
            role,
            password_hash: hash_password(password).await?,
            maintains: Vec::new(),
            disabled: false,
            created_at: now(),
        };
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            AuditAction::UserCreated,
            &username,
        )
        .with_details(serde_json::json!({ "role": role.code() }));
        self.store
            .insert_user(&user, Some(&audit))
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Invalid(ValidationErrors::single(
                    "username",
                    "taken",
                    "is already taken",
                )),
                other => other,
            })?;
        Ok(user)
    }

    pub async fn user_by_username(&self, username: &str) -> AppResult<User> {
        self.store
            .user_by_username(&username.trim().to_ascii_lowercase())
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    pub async fn list_users(&self, by: &User) -> AppResult<Vec<User>> {
        if !by.is_admin() {
            return Err(AppError::Forbidden("only admins list accounts"));
        }
        Ok(self.store.list_users().await?)
    }

    /// Sets a new password and signs the account out everywhere but in `keep`, the session
    /// the change was made in (whoever knew the old password loses what it opened). Admins
    /// may reset anyone's (`by = None` is the command line).
    pub async fn reset_password(
        &self,
        by: Option<&User>,
        username: &str,
        password: &str,
        keep: Option<Uuid>,
    ) -> AppResult<()> {
        let user = self.user_by_username(username).await?;
        if let Some(actor) = by
            && !actor.is_admin()
            && actor.id != user.id
        {
            return Err(AppError::Forbidden(
                "only admins reset other people's passwords",
            ));
        }
        User::check_password(password)?;
        let hash = hash_password(password).await?;
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            AuditAction::PasswordReset,
            &user.username,
        );
        Ok(self
            .store
            .set_password_hash(user.id, &hash, keep, Some(&audit))
            .await?)
    }

    /// Disables or re-enables an account, as an admin (`by`) or the node's operator on the
    /// command line (`None`). A disabled account cannot sign in, and its sessions and API
    /// tokens are refused from the next request on; nothing of its work is deleted. Admins
    /// cannot disable themselves, so the one acting keeps a way back.
    pub async fn set_user_disabled(
        &self,
        by: Option<&User>,
        username: &str,
        disabled: bool,
    ) -> AppResult<User> {
        if by.is_some_and(|u| !u.is_admin()) {
            return Err(AppError::Forbidden("only admins disable accounts"));
        }
        let mut user = self.user_by_username(username).await?;
        if disabled && by.is_some_and(|u| u.id == user.id) {
            return Err(AppError::Forbidden(
                "admins cannot disable their own account",
            ));
        }
        if user.disabled == disabled {
            return Ok(user);
        }
        let action = if disabled {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            action,
            &user.username,
        );
        self.store
            .set_user_disabled(user.id, disabled, Some(&audit))
            .await?;
        user.disabled = disabled;
        Ok(user)
    }

    /// Gives an account another role, as an admin (`by`) or the node's operator on the command
    /// line (`None`): a maintainer who grew into moderating, a moderator stepping back. The
    /// account's sessions go on with the new role from the next request. Admins cannot change
    /// their own role, so the one acting keeps a way back.
    pub async fn set_user_role(
        &self,
        by: Option<&User>,
        username: &str,
        role: Role,
    ) -> AppResult<User> {
        if by.is_some_and(|u| !u.is_admin()) {
            return Err(AppError::Forbidden("only admins change roles"));
        }
        let mut user = self.user_by_username(username).await?;
        if by.is_some_and(|u| u.id == user.id) {
            return Err(AppError::Forbidden("admins cannot change their own role"));
        }
        if user.role == role {
            return Ok(user);
        }
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            AuditAction::RoleChanged,
            &user.username,
        )
        .with_details(serde_json::json!({ "from": user.role.code(), "to": role.code() }));
        self.store
            .set_user_role(user.id, role, Some(&audit))
            .await?;
        user.role = role;
        Ok(user)
    }

    /// Checks a username and password. Unknown users cost as much time as wrong passwords, so
    /// response times do not reveal which usernames exist.
    pub async fn login(&self, username: &str, password: &str) -> AppResult<User> {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rS2xYNrkqBd1ZQ4Ap7eE0Ez2Bmq1t1pHOlRNoOA0f9c";
        let user = self
            .store
            .user_by_username(&username.trim().to_ascii_lowercase())
            .await?;
        let hash = user.as_ref().map_or(DUMMY, |u| u.password_hash.as_str());
        let matches = verify_password(hash, password).await;
        match user {
            Some(user) if matches && !user.disabled => Ok(user),
            _ => Err(AppError::BadCredentials),
        }
    }

    /// Issues a token for a user: an API token (no expiry unless given) or a browser session.
    pub async fn issue_token(
        &self,
        user: &User,
        kind: TokenKind,
        label: &str,
        ttl: Option<Duration>,
    ) -> AppResult<IssuedToken> {
        let label = label.trim();
        if label.chars().count() > 100 {
            return Err(ValidationErrors::single(
                "label",
                "too_long",
                "must be at most 100 characters",
            )
            .into());
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let at = now();
        let record = TokenRecord {
            id: Uuid::now_v7(),
            user_id: user.id,
            hash: token_hash(&secret),
            kind,
            label: label.to_string(),
            created_at: at,
            expires_at: ttl.map(|t| at + t),
            revoked_at: None,
        };
        // Sessions come and go with every login; only API tokens are worth an audit entry.
        let audit = (kind == TokenKind::Api).then(|| {
            AuditEntry::new(
                at,
                Some(&user.username),
                AuditAction::TokenCreated,
                &user.username,
            )
            .with_details(serde_json::json!({ "token_id": record.id, "label": record.label }))
        });
        self.store.insert_token(&record, audit.as_ref()).await?;
        Ok(IssuedToken { secret, record })
    }

    /// The user a live token of `kind` belongs to. Anything else (unknown, revoked, expired,
    /// disabled user, the other kind) is `Unauthenticated`: an API token is no browser
    /// session (it may never expire), and a session's secret opens no API.
    pub async fn authenticate(
        &self,
        secret: &str,
        kind: TokenKind,
    ) -> AppResult<(User, TokenRecord)> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let token = self
            .store
            .live_token(&token_hash(secret), now())
            .await?
            .filter(|t| t.kind == kind)
            .ok_or(AppError::Unauthenticated)?;
        let user = self
            .store
            .user_by_id(token.user_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if user.disabled {
            return Err(AppError::Unauthenticated);
        }
        Ok((user, token))
    }

    /// Why a token that [`App::authenticate`] refused is not accepted, in words for its owner's
    /// script (a token's state is no secret to whoever holds it).
    pub async fn token_refusal(&self, secret: &str) -> AppResult<String> {
        let known = if secret.starts_with(TOKEN_PREFIX) && secret.len() <= 200 {
            self.store.token_by_hash(&token_hash(secret)).await?
        } else {
            None
        };
        Ok(match known {
            None => "the token is unknown; get one from POST /api/v1/auth/token".into(),
            Some(t) if t.revoked_at.is_some() => "the token was revoked".into(),
            Some(t) if t.kind == TokenKind::Session => {
                "a browser session is not an API token; get one from POST /api/v1/auth/token".into()
            }
            Some(TokenRecord {
                expires_at: Some(at),
                ..
            }) if at <= now() => format!(
                "the token expired at {}; get a new one from POST /api/v1/auth/token",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Some(_) => "the token's account is disabled".into(),
        })
    }

    pub async fn tokens_of(&self, by: &User, username: &str) -> AppResult<Vec<TokenRecord>> {
        let owner = self.user_by_username(username).await?;
        if by.id != owner.id && !by.is_admin() {
            return Err(AppError::Forbidden("only admins see other people's tokens"));
        }
        Ok(self.store.tokens_of(owner.id).await?)
    }

    /// Revokes a token. Owners revoke their own; admins any (`by = None` is the command line).
    pub async fn revoke_token(&self, by: Option<&User>, token_id: Uuid) -> AppResult<()> {
        if let Some(actor) = by
            && !actor.is_admin()
        {
            let own = self.store.tokens_of(actor.id).await?;
            if !own.iter().any(|t| t.id == token_id) {
                return Err(AppError::NotFound("token"));
            }
        }
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            AuditAction::TokenRevoked,
            token_id.to_string(),
        );
        self.store
            .revoke_token(token_id, Some(&audit))
            .await
            .map_err(|e| match e {
                hromada_store::StoreError::NotFound => AppError::NotFound("token"),
                other => other.into(),
            })
    }
}
