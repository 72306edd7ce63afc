//! The moderation queue (approve or reject pending submissions, resolve or dismiss reports)
//! and the admin's accounts page (create accounts, add maintainers, reset passwords).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::{AppError, ReportView};
use hromada_domain::markup::markdown_to_html;
use hromada_domain::trust::{ReportStatus, Reporter};
use hromada_domain::{AuditAction, AuditEntry, InitiativeStatus, Role};
use hromada_store::SearchQuery;
use uuid::Uuid;

use super::ctx::PageCtx;
use super::forms::FormData;
use super::i18n::Translator;
use super::render::{FieldErrors, PageError, PageResult, date, page, see_other};
use super::views::{Card, ContactView, MethodView};
use crate::state::WebState;

/// Open reports shown in the queue, and closed ones looked up for the "recently closed" list.
const REPORTS_SHOWN: u32 = 100;
const CLOSED_SHOWN: usize = 10;
/// Audit log entries per page of `/moderation`.
const LOG_PAGE: u32 = 20;

pub struct Pending {
    pub card: Card,
    pub description_html: String,
    pub submitter_contact: String,
    pub contacts: Vec<ContactView>,
    pub methods: Vec<MethodView>,
    pub submitted: String,
    pub website: String,
}

/// A report as moderators see it.
pub struct ReportRow {
    pub id: String,
    pub initiative: String,
    pub path: String,
    pub category: &'static str,
    pub reason: String,
    pub reporter: String,
    pub date: String,
    /// For closed reports: how it was closed, by whom, and what was said.
    pub outcome: String,
    pub resolution: String,
}

impl ReportRow {
    fn new(t: &Translator, r: &ReportView) -> Self {
        let report = &r.report;
        let reporter = match &report.reporter {
            Reporter::User { username } => username.clone(),
            Reporter::Anonymous { contact: Some(c) } => {
                format!("{} ({c})", t.tr("report.anonymous"))
            }
            Reporter::Anonymous { contact: None } => t.tr("report.anonymous").to_string(),
            Reporter::Remote { actor_id } => actor_id.clone(),
        };
        ReportRow {
            id: report.id.to_string(),
            path: format!("/initiatives/{}", r.initiative),
            initiative: r.initiative.clone(),
            category: t.named("report.category", report.category.code()),
            reason: report.reason.clone(),
            reporter,
            date: date(&report.created_at),
            outcome: match report.status {
                ReportStatus::Open => String::new(),
                status => t.tr2(
                    &format!("report.{}_by", status.code()),
                    report.resolved_by.as_deref().unwrap_or("—"),
                    report.resolved_at.as_ref().map(date).unwrap_or_default(),
                ),
            },
            resolution: report.resolution.clone().unwrap_or_default(),
        }
    }
}

/// What a moderator typed into a report's form, kept when it needs attention.
#[derive(Default)]
pub struct ReportError {
    pub id: String,
    pub text: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "moderation.html")]
struct QueuePage {
    ctx: PageCtx,
    pending: Vec<Pending>,
    /// How many wait in all ("100+" when counting stopped), when more than are shown.
    pending_total: Option<String>,
    done: Option<&'static str>,
    reject_error: RejectError,
    /// When, who, what, the subject's page if it has one, the subject.
    audit: Vec<(String, String, String, Option<String>, String)>,
    /// Which page of the audit log is shown (from 1), and whether older entries follow.
    log_page: u32,
    log_more: bool,
    reports: Vec<ReportRow>,
    closed: Vec<ReportRow>,
    report_error: ReportError,
}

/// What an audit entry records, with the details that say to whom or from what to what: the
/// account made a maintainer or removed, a role's or a status's change.
fn audit_what(t: &Translator, entry: &AuditEntry) -> String {
    let details = &entry.details;
    if details["payment_details"] == "added" {
        return t.tr("audit.payment_details_added").to_string();
    }
    let what = t.named("audit", entry.action.code());
    let change = |section: &str| {
        let from = details["from"].as_str()?;
        let to = details["to"].as_str()?;
        Some(format!(
            "{what}: {} → {}",
            t.named(section, from),
            t.named(section, to)
        ))
    };
    let detailed = match entry.action {
        AuditAction::MaintainerAdded | AuditAction::MaintainerRemoved => details["user"]
            .as_str()
            .map(|user| format!("{what}: {user}")),
        AuditAction::RoleChanged => change("role"),
        AuditAction::StatementWithdrawn => match details["kind"].as_str() {
            Some("vouch") => Some(t.tr("audit.vouch_withdrawn").to_string()),
            Some("warning") => Some(t.tr("audit.warning_withdrawn").to_string()),
            _ => None,
        },
        AuditAction::StatusChanged => change("status"),
        _ => None,
    };
    detailed.unwrap_or_else(|| what.to_string())
}

/// The page of the need, update or event an audit entry is about, while it exists.
fn item_page(entry: &hromada_domain::AuditEntry) -> Option<String> {
    let (kind, id) = entry.subject.split_once(' ')?;
    let kept = entry.action != hromada_domain::AuditAction::Deleted;
    (kept && matches!(kind, "need" | "update" | "event") && id.parse::<Uuid>().is_ok())
        .then(|| format!("/{kind}s/{id}"))
}

fn require_moderator(ctx: &PageCtx) -> Result<hromada_domain::User, PageError> {
    let user = ctx.require_user()?;
    if !user.is_moderator() {
        return Err(ctx.forbidden());
    }
    Ok(user.clone())
}

/// A rejection a moderator must correct: the submission, what is wrong, and the reason as
/// typed (shown again, not lost).
#[derive(Debug, Default)]
struct RejectError {
    handle: String,
    message: String,
    reason: String,
}

async fn queue_page(
    state: &WebState,
    ctx: PageCtx,
    log_page: u32,
    done: Option<&'static str>,
    reject_error: RejectError,
    report_error: ReportError,
) -> PageResult {
    let user = require_moderator(&ctx)?;
    let t = ctx.t;
    let page_ = state
        .app()
        .search(
            Some(&user),
            &SearchQuery {
                statuses: vec![InitiativeStatus::Pending],
                per_page: SearchQuery::MAX_PER_PAGE,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    let pending_total = (page_.total > page_.items.len() as u64).then(|| {
        let plus = if page_.total_capped { "+" } else { "" };
        format!("{}{plus}", page_.total)
    });
    let pending = page_
        .items
        .iter()
        .map(|i| Pending {
            card: Card::new(&t, i),
            description_html: markdown_to_html(&i.description),
            submitter_contact: i.submitter_contact.clone().unwrap_or_default(),
            contacts: i.contacts.iter().map(|c| ContactView::new(&t, c)).collect(),
            methods: i
                .donation_methods
                .iter()
                .map(|m| MethodView::new(&t, m))
                .collect(),
            submitted: date(&i.created_at),
            website: i.website.clone().unwrap_or_default(),
        })
        .collect();
    // One more than shown tells whether there are older entries.
    let mut entries = state
        .app()
        .audit_log(&user, LOG_PAGE + 1, (log_page - 1).saturating_mul(LOG_PAGE))
        .await
        .map_err(|e| ctx.fail(e))?;
    let log_more = entries.len() > LOG_PAGE as usize;
    entries.truncate(LOG_PAGE as usize);
    let audit = entries
        .into_iter()
        .map(|a| {
            let page = item_page(&a);
            (
                a.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                a.actor.clone().unwrap_or_else(|| "—".into()),
                audit_what(&t, &a),
                page,
                match a.reason {
                    Some(r) => format!("{} ({r})", a.subject),
                    None => a.subject,
                },
            )
        })
        .collect();
    let reports = state
        .app()
        .reports(&user, Some(ReportStatus::Open), REPORTS_SHOWN, 0)
        .await
        .map_err(|e| ctx.fail(e))?
        .iter()
        .map(|r| ReportRow::new(&t, r))
        .collect();
    let closed = state
        .app()
        .reports(&user, None, REPORTS_SHOWN, 0)
        .await
        .map_err(|e| ctx.fail(e))?
        .iter()
        .filter(|r| r.report.status != ReportStatus::Open)
        .take(CLOSED_SHOWN)
        .map(|r| ReportRow::new(&t, r))
        .collect();
    let status = if reject_error.handle.is_empty() && report_error.id.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &QueuePage {
            ctx,
            pending,
            pending_total,
            done,
            reject_error,
            audit,
            log_page,
            log_more,
            reports,
            closed,
            report_error,
        },
    ))
}

pub(crate) async fn queue(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let log_page = super::render::query_number(query.as_deref(), "log")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(1)
        .max(1);
    let done = match query.as_deref().unwrap_or("") {
        q if q.contains("done=approved") => Some(ctx.t.tr("moderation.approved")),
        q if q.contains("done=rejected") => Some(ctx.t.tr("moderation.rejected")),
        q if q.contains("done=resolved") => Some(ctx.t.tr("report.done_resolved")),
        q if q.contains("done=dismissed") => Some(ctx.t.tr("report.done_dismissed")),
        _ => None,
    };
    queue_page(
        &state,
        ctx,
        log_page,
        done,
        RejectError::default(),
        ReportError::default(),
    )
    .await
}

pub(crate) async fn approve(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    state
        .app()
        .approve(&user, &handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other("/moderation?done=approved"))
}

pub(crate) async fn reject(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    match state.app().reject(&user, &handle, form.get("reason")).await {
        Ok(_) => Ok(see_other("/moderation?done=rejected")),
        Err(AppError::Invalid(v)) => {
            let errors = FieldErrors::from_validation(ctx.t, &v, |p| Some(p.to_string()));
            let rejected = RejectError {
                message: errors.get("reason"),
                reason: form.get("reason").to_string(),
                handle,
            };
            queue_page(&state, ctx, 1, None, rejected, ReportError::default()).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

/// `POST /moderation/reports/{id}`: resolves (`outcome=resolve`) or dismisses
/// (`outcome=dismiss`) a report, saying what was done or why nothing needs doing.
pub(crate) async fn close_report(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    let report_id = Uuid::parse_str(&id).map_err(|_| ctx.not_found())?;
    let text = form.get("resolution");
    let (result, done) = match form.get("outcome") {
        "resolve" => (
            state.app().resolve_report(&user, report_id, text).await,
            "resolved",
        ),
        "dismiss" => (
            state.app().dismiss_report(&user, report_id, text).await,
            "dismissed",
        ),
        _ => return Err(ctx.not_found()),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/moderation?done={done}#reports"))),
        Err(AppError::Invalid(v)) => {
            let errors = FieldErrors::from_validation(ctx.t, &v, |p| Some(p.to_string()));
            let report_error = ReportError {
                id,
                text: text.into(),
                message: errors.get("resolution"),
            };
            queue_page(&state, ctx, 1, None, RejectError::default(), report_error).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub struct UserRow {
    pub username: String,
    pub role: &'static str,
    pub role_code: &'static str,
    pub maintains: usize,
    pub disabled: bool,
    pub created: String,
    /// The admin looking at the page (who cannot disable their own account).
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: PageCtx,
    users: Vec<UserRow>,
    username: String,
    role: String,
    errors: FieldErrors,
    m_username: String,
    m_handle: String,
    m_errors: FieldErrors,
    p_username: String,
    p_errors: FieldErrors,
    done: Option<&'static str>,
}

fn require_admin(ctx: &PageCtx) -> Result<hromada_domain::User, PageError> {
    let user = ctx.require_user()?;
    if !user.is_admin() {
        return Err(ctx.forbidden());
    }
    Ok(user.clone())
}

async fn admin_page(state: &WebState, mut p: AdminPage) -> PageResult {
    let user = require_admin(&p.ctx)?;
    let t = p.ctx.t;
    p.users = state
        .app()
        .list_users(&user)
        .await
        .map_err(|e| p.ctx.fail(e))?
        .into_iter()
        .map(|u| UserRow {
            username: u.username,
            role: t.tr(role_key(u.role.code())),
            role_code: u.role.code(),
            maintains: u.maintains.len(),
            disabled: u.disabled,
            created: date(&u.created_at),
            is_self: u.id == user.id,
        })
        .collect();
    let status = if p.errors.is_empty() && p.m_errors.is_empty() && p.p_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(status, &p))
}

fn blank_admin(ctx: PageCtx) -> AdminPage {
    AdminPage {
        ctx,
        users: Vec::new(),
        username: String::new(),
        role: "maintainer".into(),
        errors: FieldErrors::default(),
        m_username: String::new(),
        m_handle: String::new(),
        m_errors: FieldErrors::default(),
        p_username: String::new(),
        p_errors: FieldErrors::default(),
        done: None,
    }
}

pub(crate) async fn admin(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let done = match query.as_deref().unwrap_or("") {
        q if q.contains("done=user") => Some(ctx.t.tr("admin.user_created")),
        q if q.contains("done=maintainer") => Some(ctx.t.tr("admin.maintainer_added")),
        q if q.contains("done=password") => Some(ctx.t.tr("admin.password_reset")),
        q if q.contains("done=disabled") => Some(ctx.t.tr("admin.user_disabled")),
        q if q.contains("done=enabled") => Some(ctx.t.tr("admin.user_enabled")),
        q if q.contains("done=role") => Some(ctx.t.tr("admin.role_changed")),
        _ => None,
    };
    let mut p = blank_admin(ctx);
    p.done = done;
    admin_page(&state, p).await
}

pub(crate) async fn create_user(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let role = Role::from_code(form.get("role")).unwrap_or(Role::Maintainer);
    let t = ctx.t;
    match state
        .app()
        .create_user(
            Some(&admin),
            form.get("username"),
            role,
            form.get("password"),
        )
        .await
    {
        Ok(_) => Ok(see_other("/admin?done=user")),
        Err(AppError::Invalid(v)) => {
            let mut p = blank_admin(ctx);
            p.errors = FieldErrors::from_validation(t, &v, |f| Some(f.to_string()));
            p.username = form.get("username").into();
            p.role = role.code().into();
            admin_page(&state, p).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub(crate) async fn add_maintainer(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let t = ctx.t;
    let (username, handle) = (form.get("username"), form.get("handle"));
    match state
        .app()
        .add_maintainer(Some(&admin), username, handle)
        .await
    {
        Ok(()) => Ok(see_other("/admin?done=maintainer")),
        Err(AppError::NotFound(what)) => {
            let mut p = blank_admin(ctx);
            let field = if what == "user" {
                "m_username"
            } else {
                "m_handle"
            };
            p.m_errors.add(field, t.tr("error.not_found"));
            p.m_username = username.into();
            p.m_handle = handle.into();
            admin_page(&state, p).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

/// `POST /admin/password`: sets a new password for an account (admins), e.g. for someone who
/// lost theirs; the admin passes it on in person or over a safe channel.
pub(crate) async fn reset_password(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let t = ctx.t;
    let username = form.get("username");
    let mut errors = FieldErrors::default();
    match state
        .app()
        .reset_password(
            Some(&admin),
            username,
            form.get("password"),
            ctx.session.as_ref().map(|s| s.id),
        )
        .await
    {
        Ok(()) => return Ok(see_other("/admin?done=password#password")),
        Err(AppError::NotFound(_)) => errors.add("p_username", t.tr("error.not_found")),
        Err(AppError::Invalid(v)) => {
            errors = FieldErrors::from_validation(t, &v, |_| Some("p_password".into()));
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    let mut p = blank_admin(ctx);
    p.p_username = username.into();
    p.p_errors = errors;
    admin_page(&state, p).await
}

/// Disables or re-enables an account from the accounts table.
pub(crate) async fn set_disabled(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let disabled = form.get("disabled") == "true";
    state
        .app()
        .set_user_disabled(Some(&admin), form.get("username"), disabled)
        .await
        .map_err(|e| ctx.fail(e))?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(see_other(&format!("/admin?done={done}")))
}

/// Gives an account another role from the accounts table.
pub(crate) async fn set_role(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let role = Role::from_code(form.get("role")).ok_or_else(|| {
        ctx.error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.invalid",
            "error.invalid_text",
        )
    })?;
    state
        .app()
        .set_user_role(Some(&admin), form.get("username"), role)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other("/admin?done=role"))
}

/// The locale key of a role code.
pub fn role_key(code: &str) -> &'static str {
    match code {
        "admin" => "role.admin",
        "moderator" => "role.moderator",
        _ => "role.maintainer",
    }
}
