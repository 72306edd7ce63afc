//! `hromada admin …`: account and token administration on the configured database.

use clap::Subcommand;
use hromada_app::{App, AppError};
use hromada_domain::Role;
use hromada_store::TokenKind;
use uuid::Uuid;

use crate::Failure;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password for an account, read from standard input; its sessions and API
    /// tokens are revoked.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts.
    ListUsers,
    /// Disable an account: it cannot sign in, and its sessions and API tokens stop working.
    /// Nothing of its work is deleted.
    DisableUser {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account again.
    EnableUser {
        #[arg(long)]
        username: String,
    },
    /// Give an account another role: admin, moderator or maintainer.
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Make an account a maintainer of a local initiative.
    AddMaintainer {
        #[arg(long)]
        username: String,
        /// The initiative's handle.
        #[arg(long)]
        initiative: String,
    },
    /// Stop an account maintaining an initiative.
    RemoveMaintainer {
        #[arg(long)]
        username: String,
        /// The initiative's handle.
        #[arg(long)]
        initiative: String,
    },
    /// Delete a local initiative as a whole, with its needs, updates and events. The running
    /// node tells its followers and following nodes; its handle is never given out again.
    DeleteInitiative {
        /// The initiative's handle.
        #[arg(long)]
        handle: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Create an API token for an account and print it (shown only this once).
    CreateToken {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// How long the token is valid, e.g. 90d, 12h or 30m. Default: no expiry (valid until
        /// revoked), unlike tokens from POST /api/v1/auth/token, which expire after
        /// api_token_lifetime.
        #[arg(long, value_parser = parse_lifetime, value_name = "DURATION")]
        expires_in: Option<std::time::Duration>,
    },
    /// List an account's tokens (id, kind, label, state with expiry; never the secrets).
    ListTokens {
        #[arg(long)]
        username: String,
    },
    /// Revoke a token by its id.
    RevokeToken {
        #[arg(long)]
        id: Uuid,
    },
    /// The trust policy: whose vouches count on this node.
    Trust {
        #[command(subcommand)]
        command: crate::admin_trust::TrustCommand,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::from_code(raw)
        .ok_or_else(|| format!("`{raw}` is not a role; use admin, moderator or maintainer"))
}

fn parse_lifetime(raw: &str) -> Result<std::time::Duration, String> {
    hromada_server::config::parse_duration(raw)
        .filter(|d| (60..=3650 * 86_400).contains(&d.as_secs()))
        .ok_or_else(|| {
            format!("`{raw}` is not a duration between 1m and 3650d, such as 90d, 12h or 30m")
        })
}

/// An admin command's refusal: what was asked is wrong or unknown (2), or something failed (1).
pub(crate) fn failed(e: AppError) -> Failure {
    match e {
        AppError::Invalid(errors) => Failure::usage(errors.summary()),
        e @ (AppError::NotFound(_) | AppError::Forbidden(_)) => Failure::usage(e),
        other => Failure::runtime(other),
    }
}

pub async fn run(
    app: App,
    command: AdminCommand,
    read_password: fn() -> Result<String, String>,
) -> Result<(), Failure> {
    match command {
        AdminCommand::CreateUser { username, role, .. } => {
            let password = read_password().map_err(Failure::usage)?;
            let user = app
                .create_user(None, &username, role, &password)
                .await
                .map_err(failed)?;
            out!("created {} ({})", user.username, user.role.code());
        }
        AdminCommand::ResetPassword { username, .. } => {
            let password = read_password().map_err(Failure::usage)?;
            app.reset_password(None, &username, &password, None)
                .await
                .map_err(failed)?;
            out!("password of {username} changed; its sessions and API tokens are revoked");
        }
        AdminCommand::DisableUser { username } => {
            app.set_user_disabled(None, &username, true)
                .await
                .map_err(failed)?;
            out!("{username} is disabled");
        }
        AdminCommand::EnableUser { username } => {
            app.set_user_disabled(None, &username, false)
                .await
                .map_err(failed)?;
            out!("{username} is enabled");
        }
        AdminCommand::SetRole { username, role } => {
            let user = app
                .set_user_role(None, &username, role)
                .await
                .map_err(failed)?;
            out!("{} is now {}", user.username, user.role.code());
        }
        AdminCommand::ListUsers => {
            for user in app
                .store()
                .list_users()
                .await
                .map_err(|e| failed(e.into()))?
            {
                let state = if user.disabled { " (disabled)" } else { "" };
                out!("{}\t{}{}", user.username, user.role.code(), state);
            }
        }
        AdminCommand::AddMaintainer {
            username,
            initiative,
        } => {
            app.add_maintainer(None, &username, &initiative)
                .await
                .map_err(failed)?;
            out!("{username} now maintains {initiative}");
        }
        AdminCommand::RemoveMaintainer {
            username,
            initiative,
        } => {
            app.remove_maintainer(None, &username, &initiative)
                .await
                .map_err(failed)?;
            out!("{username} no longer maintains {initiative}");
        }
        AdminCommand::DeleteInitiative { handle, reason } => {
            app.delete_initiative(None, &handle, reason.as_deref())
                .await
                .map_err(failed)?;
            out!("{handle} deleted; the running node tells its followers and peers");
        }
        AdminCommand::CreateToken {
            username,
            label,
            expires_in,
        } => {
            let user = app.user_by_username(&username).await.map_err(failed)?;
            let token = app
                .issue_token(
                    &user,
                    TokenKind::Api,
                    &label,
                    expires_in.and_then(|d| chrono::Duration::from_std(d).ok()),
                )
                .await
                .map_err(failed)?;
            let expiry = token
                .record
                .expires_at
                .map_or_else(|| "never expires".to_string(), |at| format!("expires {at}"));
            eprintln!(
                "token {} for {}, {expiry} (store it now; it is not shown again):",
                token.record.id, user.username
            );
            // The secret is the whole point: if nobody can read it (a closed pipe, a full
            // disk), the token is revoked and the command fails, rather than leave a working
            // token no one has.
            if let Err(unseen) = crate::write_out(format_args!("{}", token.secret)) {
                app.revoke_token(None, token.record.id)
                    .await
                    .map_err(failed)?;
                let why = match unseen.message.as_str() {
                    "" => "the output was closed",
                    message => message,
                };
                return Err(Failure::runtime(format!(
                    "{why}: the token was not shown, so it was revoked"
                )));
            }
        }
        AdminCommand::ListTokens { username } => {
            let user = app.user_by_username(&username).await.map_err(failed)?;
            for t in app
                .store()
                .tokens_of(user.id)
                .await
                .map_err(|e| failed(e.into()))?
            {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(exp)) if exp <= hromada_app::now() => format!("expired {exp}"),
                    (None, Some(exp)) => format!("live, expires {exp}"),
                    (None, None) => "live, never expires".into(),
                };
                out!("{}\t{}\t{}\t{}", t.id, t.kind.code(), t.label, state);
            }
        }
        AdminCommand::RevokeToken { id } => {
            app.revoke_token(None, id).await.map_err(failed)?;
            out!("token {id} revoked");
        }
        AdminCommand::Trust { command } => crate::admin_trust::run(app, command).await?,
    }
    Ok(())
}
