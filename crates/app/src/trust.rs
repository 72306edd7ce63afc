//! Trust use cases: vouching and warning in the name of this node's collective, withdrawing,
//! the trust policy, each initiative's explained status, reports, and the transparency log.
//!
//! Every vouch and warning is a stored record with a stable id and an ActivityPub id
//! (`{public_url}/vouches/{id}`, `{public_url}/warnings/{id}`), so federation can publish it.
//! The store recomputes the initiative's status in the same transaction as each write.

use std::collections::HashMap;

use hromada_domain::trust::{
    Issued, Report, ReportInput, ReportStatus, StatementKind, TransparencyAction,
    TransparencyEntry, TrustPolicy, TrustPolicyInput, TrustStatus, Vouch, VouchInput, Warning,
    WarningInput, WebsiteCheck, assess, check_withdrawal_reason, domain_of_url,
};
use hromada_domain::{AuditAction, AuditEntry, Initiative, User, ValidationErrors};
use hromada_store::Withdrawal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{App, AppError, AppResult, HandleRef, now};

/// Longest note explaining a policy change or a report's resolution.
const MAX_NOTE: usize = 1000;

/// What this node says about an initiative, as shown with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InitiativeTrust {
    pub trust: TrustStatus,
    /// The latest check of the initiative's current website, if there was one.
    pub website_check: Option<WebsiteCheck>,
}

/// A report with the initiative it is about, for moderators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReportView {
    #[serde(flatten)]
    pub report: Report,
    /// The initiative, as `handle` or `handle@domain`.
    pub initiative: String,
}

/// The node a statement is issued on: its public URL names the collective and the ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThisNode {
    base: String,
    domain: String,
}

impl ThisNode {
    /// From the node's public URL (`http(s)://host[:port]`).
    pub fn new(public_url: &str) -> AppResult<Self> {
        let domain = domain_of_url(public_url).ok_or_else(|| {
            AppError::Internal(format!("public URL {public_url} has no http(s) host"))
        })?;
        Ok(Self {
            base: public_url.trim_end_matches('/').to_string(),
            domain,
        })
    }

    /// The collective: `host` or `host:port`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// An initiative's public profile URL, which its website's `rel="me"` link must name.
    pub fn profile_url(&self, handle: &str) -> String {
        format!("{}/initiatives/{handle}", self.base)
    }

    fn ap_id(&self, kind: &str, id: Uuid) -> String {
        format!("{}/{kind}/{id}", self.base)
    }
}

/// How an initiative is addressed in the API: `handle`, or `handle@domain` when mirrored.
pub fn acct(initiative: &Initiative) -> String {
    match &initiative.origin {
        Some(domain) => format!("{}@{domain}", initiative.handle),
        None => initiative.handle.to_string(),
    }
}

fn moderator(by: &User) -> AppResult<()> {
    if by.is_moderator() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only moderators speak for this node's collective",
        ))
    }
}

fn note(field: &str, raw: Option<&str>) -> AppResult<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let mut errors = ValidationErrors::new();
    errors.max_len(field, raw, MAX_NOTE);
    errors.no_control_chars(field, raw);
    Ok(errors.into_result(Some(raw.to_string()))?)
}

impl App {
    /// A public initiative by `handle` or `handle@domain`.
    async fn public_initiative(&self, handle: &str) -> AppResult<Initiative> {
        let r = HandleRef::parse(handle);
        self.store
            .initiative_by_handle(&r.handle, r.origin.as_deref())
            .await?
            .filter(|i| i.status.is_public())
            .ok_or(AppError::NotFound("initiative"))
    }

    /// The public initiative that one of this node's own vouches or warnings is about: its
    /// page shows and explains the statement, withdrawn or not.
    pub async fn statement_subject(&self, kind: StatementKind, id: Uuid) -> AppResult<Initiative> {
        let about = match kind {
            StatementKind::Vouch => self
                .store
                .vouch_by_id(id)
                .await?
                .filter(|v| v.local)
                .map(|v| v.initiative_id),
            StatementKind::Warning => self
                .store
                .warning_by_id(id)
                .await?
                .filter(|w| w.local)
                .map(|w| w.initiative_id),
        };
        let initiative_id = about.ok_or(AppError::NotFound(kind.code()))?;
        self.public_initiative_by_id(initiative_id).await
    }

    /// This node's active statements about an initiative.
    async fn own_active(&self, initiative_id: Uuid) -> AppResult<(Vec<Vouch>, Vec<Warning>)> {
        let s = self.store.statements_about(&[initiative_id]).await?;
        Ok((
            s.vouches
                .into_iter()
                .filter(|v| v.local && v.is_active())
                .collect(),
            s.warnings
                .into_iter()
                .filter(|w| w.local && w.is_active())
                .collect(),
        ))
    }

    /// A moderator vouches, in the name of this node's collective, for a public initiative of
    /// this node or another. Refused while the node already vouches for it or warns about it.
    pub async fn vouch(
        &self,
        by: &User,
        node: &ThisNode,
        handle: &str,
        input: VouchInput,
    ) -> AppResult<(Vouch, InitiativeTrust)> {
        moderator(by)?;
        let initiative = self.public_initiative(handle).await?;
        let (vouches, warnings) = self.own_active(initiative.id).await?;
        if let Some(v) = vouches.first() {
            return Err(AppError::Conflict(format!(
                "this node already vouches for {} (vouch {}); withdraw it first to say something new",
                acct(&initiative),
                v.id
            )));
        }
        if let Some(w) = warnings.first() {
            return Err(AppError::Conflict(format!(
                "this node warns about {} (warning {}); withdraw the warning before vouching",
                acct(&initiative),
                w.id
            )));
        }
        let id = Uuid::now_v7();
        let at = now();
        let vouch = Vouch::issue(
            Issued {
                id,
                ap_id: node.ap_id("vouches", id),
                initiative_id: initiative.id,
                collective: node.domain(),
                author: &by.username,
                at,
            },
            input,
        )?;
        let log = TransparencyEntry::about_vouch(
            TransparencyAction::VouchIssued,
            at,
            &acct(&initiative),
            &vouch,
        );
        let level = self.store.insert_vouch(&vouch, Some(&log)).await?;
        tracing::info!(initiative = %acct(&initiative), by = %by.username, status = level.code(), "vouched");
        Ok((vouch, self.trust_of(&initiative).await?))
    }

    /// A moderator warns, in the name of this node's collective, about a public initiative.
    /// Refused while the node vouches for it or already warns about it.
    pub async fn warn(
        &self,
        by: &User,
        node: &ThisNode,
        handle: &str,
        input: WarningInput,
    ) -> AppResult<(Warning, InitiativeTrust)> {
        moderator(by)?;
        let initiative = self.public_initiative(handle).await?;
        let (vouches, warnings) = self.own_active(initiative.id).await?;
        if let Some(w) = warnings.first() {
            return Err(AppError::Conflict(format!(
                "this node already warns about {} (warning {}); withdraw it first to say something new",
                acct(&initiative),
                w.id
            )));
        }
        if let Some(v) = vouches.first() {
            return Err(AppError::Conflict(format!(
                "this node vouches for {} (vouch {}); withdraw the vouch before warning",
                acct(&initiative),
                v.id
            )));
        }
        let id = Uuid::now_v7();
        let at = now();
        let warning = Warning::issue(
            Issued {
                id,
                ap_id: node.ap_id("warnings", id),
                initiative_id: initiative.id,
                collective: node.domain(),
                author: &by.username,
                at,
            },
            input,
        )?;
        let log = TransparencyEntry::about_warning(
            TransparencyAction::WarningIssued,
            at,
            &acct(&initiative),
            &warning,
        );
        let level = self.store.insert_warning(&warning, Some(&log)).await?;
        tracing::info!(initiative = %acct(&initiative), by = %by.username, status = level.code(), "warned");
        Ok((warning, self.trust_of(&initiative).await?))
    }

    /// Withdraws one of this node's vouches, with a reason for the transparency log.
    pub async fn withdraw_vouch(
        &self,
        by: &User,
        id: Uuid,
        reason: &str,
    ) -> AppResult<(Vouch, InitiativeTrust)> {
        moderator(by)?;
        let reason = check_withdrawal_reason(reason)?;
        let vouch = self
            .store
            .vouch_by_id(id)
            .await?
            .ok_or(AppError::NotFound("vouch"))?;
        if !vouch.local {
            return Err(AppError::Forbidden(
                "this vouch was issued by another node; only that node can withdraw it",
            ));
        }
        let initiative = self.initiative_of(vouch.initiative_id).await?;
        let at = now();
        let withdrawn = Vouch {
            withdrawn_at: Some(at),
            withdrawal_reason: Some(reason.clone()),
            ..vouch
        };
        let log = TransparencyEntry::about_vouch(
            TransparencyAction::VouchWithdrawn,
            at,
            &acct(&initiative),
            &withdrawn,
        );
        self.store
            .withdraw_vouch(id, &Withdrawal { at, reason }, Some(&log))
            .await?;
        self.audit_withdrawal(
            by,
            at,
            &initiative,
            StatementKind::Vouch,
            id,
            &withdrawn.withdrawal_reason,
        )
        .await;
        Ok((withdrawn, self.trust_of(&initiative).await?))
    }

    /// Withdraws one of this node's warnings, with a reason for the transparency log.
    pub async fn withdraw_warning(
        &self,
        by: &User,
        id: Uuid,
        reason: &str,
    ) -> AppResult<(Warning, InitiativeTrust)> {
        moderator(by)?;
        let reason = check_withdrawal_reason(reason)?;
        let warning = self
            .store
            .warning_by_id(id)
            .await?
            .ok_or(AppError::NotFound("warning"))?;
        if !warning.local {
            return Err(AppError::Forbidden(
                "this warning was issued by another node; only that node can withdraw it",
            ));
        }
        let initiative = self.initiative_of(warning.initiative_id).await?;
        let at = now();
        let withdrawn = Warning {
            withdrawn_at: Some(at),
            withdrawal_reason: Some(reason.clone()),
            ..warning
        };
        let log = TransparencyEntry::about_warning(
            TransparencyAction::WarningWithdrawn,
            at,
            &acct(&initiative),
            &withdrawn,
        );
        self.store
            .withdraw_warning(id, &Withdrawal { at, reason }, Some(&log))
            .await?;
        self.audit_withdrawal(
            by,
            at,
            &initiative,
            StatementKind::Warning,
            id,
            &withdrawn.withdrawal_reason,
        )
        .await;
        Ok((withdrawn, self.trust_of(&initiative).await?))
    }

    /// Who withdrew a statement, for the audit log (the transparency log says why, publicly).
    async fn audit_withdrawal(
        &self,
        by: &User,
        at: chrono::DateTime<chrono::Utc>,
        initiative: &Initiative,
        kind: StatementKind,
        id: Uuid,
        reason: &Option<String>,
    ) {
        let mut entry = AuditEntry::new(
            at,
            Some(&by.username),
            AuditAction::StatementWithdrawn,
            acct(initiative),
        )
        .with_details(serde_json::json!({ "kind": kind.code(), "statement": id }));
        entry.reason = reason.clone();
        self.audited(entry).await;
    }

    /// Writes an audit entry after the decision it records: a failure to write it is logged,
    /// and the decision stands.
    async fn audited(&self, entry: AuditEntry) {
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::warn!(error = %e, action = entry.action.code(), subject = %entry.subject, "could not write the audit entry");
        }
    }

    async fn initiative_of(&self, id: Uuid) -> AppResult<Initiative> {
        self.store
            .initiative_by_id(id)
            .await?
            .ok_or(AppError::NotFound("initiative"))
    }

    /// The node's trust policy (public: anyone may see whose word counts here).
    pub async fn trust_policy(&self) -> AppResult<TrustPolicy> {
        Ok(self.store.trust_policy().await?)
    }

    /// Replaces the trust policy (admins; `by` is `None` from the command line) and recomputes
    /// every status. `note` explains the change in the transparency log.
    pub async fn set_trust_policy(
        &self,
        by: Option<&User>,
        input: TrustPolicyInput,
        note_text: Option<&str>,
    ) -> AppResult<TrustPolicy> {
        if let Some(user) = by
            && !user.is_admin()
        {
            return Err(AppError::Forbidden("only admins change the trust policy"));
        }
        let reason = note("note", note_text)?;
        let at = now();
        let policy = input.validate(at)?;
        let before = self.store.trust_policy().await?;
        let log = TransparencyEntry {
            id: Uuid::now_v7(),
            at,
            action: TransparencyAction::PolicyChanged,
            initiative: None,
            initiative_id: None,
            statement_id: None,
            ap_id: None,
            statement: None,
            reason,
            details: serde_json::json!({ "before": before, "after": policy }),
        };
        self.store.set_trust_policy(&policy, Some(&log)).await?;
        let mut entry = AuditEntry::new(
            at,
            by.map(|u| u.username.as_str()),
            AuditAction::TrustPolicyChanged,
            "trust policy",
        );
        entry.reason = log.reason.clone();
        self.audited(entry).await;
        tracing::info!(
            by = by.map(|u| u.username.as_str()).unwrap_or("command line"),
            threshold = policy.threshold,
            trusted = policy.trusted.len(),
            ignored = policy.ignored.len(),
            "trust policy changed"
        );
        Ok(policy)
    }

    /// What this node says about each of these initiatives, computed from everything stored.
    pub async fn trust_of_many(
        &self,
        initiatives: &[Initiative],
    ) -> AppResult<HashMap<Uuid, InitiativeTrust>> {
        let ids: Vec<Uuid> = initiatives.iter().map(|i| i.id).collect();
        let policy = self.store.trust_policy().await?;
        let statements = self.store.statements_about(&ids).await?;
        let mut checks = self.store.website_checks(&ids).await?;
        Ok(initiatives
            .iter()
            .map(|i| {
                let s = statements.of(i.id);
                // A check of a former address says nothing about the current one.
                let website_check = checks
                    .remove(&i.id)
                    .filter(|c| i.website.as_deref() == Some(c.url.as_str()));
                let trust = assess(&policy, &s.vouches, &s.warnings);
                (
                    i.id,
                    InitiativeTrust {
                        trust,
                        website_check,
                    },
                )
            })
            .collect())
    }

    pub async fn trust_of(&self, initiative: &Initiative) -> AppResult<InitiativeTrust> {
        let mut all = self.trust_of_many(std::slice::from_ref(initiative)).await?;
        all.remove(&initiative.id)
            .ok_or_else(|| AppError::Internal("trust of an initiative went missing".into()))
    }

    /// The explained trust status of a public initiative.
    pub async fn initiative_trust(&self, handle: &str) -> AppResult<(Initiative, InitiativeTrust)> {
        let initiative = self.public_initiative(handle).await?;
        let trust = self.trust_of(&initiative).await?;
        Ok((initiative, trust))
    }

    /// Anyone reports a public initiative to this node's moderators.
    pub async fn report(
        &self,
        by: Option<&User>,
        handle: &str,
        input: ReportInput,
    ) -> AppResult<Report> {
        let initiative = self.public_initiative(handle).await?;
        let report = Report::file(
            Uuid::now_v7(),
            initiative.id,
            by.map(|u| u.username.as_str()),
            input,
            now(),
        )?;
        self.store.insert_report(&report).await?;
        tracing::info!(initiative = %acct(&initiative), category = report.category.code(), "report filed");
        Ok(report)
    }

    /// Reports, newest first (moderators).
    pub async fn reports(
        &self,
        by: &User,
        status: Option<ReportStatus>,
        limit: u32,
        offset: u32,
    ) -> AppResult<Vec<ReportView>> {
        if !by.is_moderator() {
            return Err(AppError::Forbidden("only moderators read reports"));
        }
        let reports = self
            .store
            .reports(status, limit.clamp(1, 500), offset)
            .await?;
        let mut names: HashMap<Uuid, String> = HashMap::new();
        let mut out = Vec::with_capacity(reports.len());
        for report in reports {
            let initiative = match names.get(&report.initiative_id) {
                Some(name) => name.clone(),
                None => {
                    let name = self
                        .store
                        .initiative_by_id(report.initiative_id)
                        .await?
                        .map(|i| acct(&i))
                        .unwrap_or_default();
                    names.insert(report.initiative_id, name.clone());
                    name
                }
            };
            out.push(ReportView { report, initiative });
        }
        Ok(out)
    }

    /// Marks a report resolved, saying what was done (moderators).
    pub async fn resolve_report(&self, by: &User, id: Uuid, resolution: &str) -> AppResult<Report> {
        self.close_report(by, id, ReportStatus::Resolved, resolution)
            .await
    }

    /// Dismisses a report that needs no action, saying why (moderators).
    pub async fn dismiss_report(&self, by: &User, id: Uuid, reason: &str) -> AppResult<Report> {
        self.close_report(by, id, ReportStatus::Dismissed, reason)
            .await
    }

    async fn close_report(
        &self,
        by: &User,
        id: Uuid,
        outcome: ReportStatus,
        text: &str,
    ) -> AppResult<Report> {
        if !by.is_moderator() {
            return Err(AppError::Forbidden("only moderators close reports"));
        }
        let mut errors = ValidationErrors::new();
        errors.text("resolution", text, MAX_NOTE);
        errors.no_control_chars("resolution", text);
        errors.into_result(())?;
        self.store
            .resolve_report(id, outcome, &by.username, now(), text.trim())
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::NotFound(_) => AppError::NotFound("report"),
                other => other,
            })?;
        tracing::info!(report = %id, by = %by.username, outcome = outcome.code(), "report closed");
        self.store
            .report_by_id(id)
            .await?
            .ok_or(AppError::NotFound("report"))
    }

    /// The transparency log, newest first (public).
    pub async fn transparency_log(
        &self,
        limit: u32,
        offset: u32,
    ) -> AppResult<Vec<TransparencyEntry>> {
        Ok(self
            .store
            .transparency_log(limit.clamp(1, 500), offset)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_node_names_collective_and_ids() {
        let node = ThisNode::new("http://localhost:8080/").unwrap();
        assert_eq!(node.domain(), "localhost:8080");
        assert_eq!(
            node.profile_url("kharkiv-medics"),
            "http://localhost:8080/initiatives/kharkiv-medics"
        );
        let id = Uuid::nil();
        assert_eq!(
            node.ap_id("vouches", id),
            format!("http://localhost:8080/vouches/{id}")
        );
        assert!(ThisNode::new("mailto:x@y").is_err());
    }

    #[test]
    fn notes_are_optional_but_bounded() {
        assert_eq!(note("note", None).unwrap(), None);
        assert_eq!(note("note", Some("  ")).unwrap(), None);
        assert_eq!(
            note("note", Some(" met them ")).unwrap().as_deref(),
            Some("met them")
        );
        assert!(note("note", Some(&"x".repeat(MAX_NOTE + 1))).is_err());
    }
}
