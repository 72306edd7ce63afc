//! Trust pages: the public transparency log, and the moderators' forms on an initiative's page
//! (vouch, warn, withdraw) for local and mirrored listings alike.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::{AppError, ThisNode};
use hromada_domain::trust::{
    StatementKind, TransparencyAction, TransparencyEntry, TrustPolicy, VouchBasis, VouchInput,
    WarningInput, WarningReason,
};
use uuid::Uuid;

use super::ctx::PageCtx;
use super::forms::FormData;
use super::i18n::Translator;
use super::public::{TrustForm, initiative_page};
use super::render::{FieldErrors, PageError, PageResult, ok, see_other};
use super::views::initiative_path;
use crate::state::WebState;

/// One line of the transparency log as people read it.
pub struct EntryView {
    pub id: String,
    pub when: String,
    pub action: &'static str,
    /// The initiative's name as logged, and its page while it is still listed here.
    pub initiative: Option<(String, Option<String>)>,
    pub statement: String,
    pub reason: String,
    /// For policy changes: the policy after the change, in words.
    pub policy: String,
}

impl EntryView {
    fn new(t: &Translator, e: &TransparencyEntry) -> Self {
        let policy = match e.action {
            TransparencyAction::PolicyChanged => e
                .details
                .get("after")
                .cloned()
                .and_then(|v| serde_json::from_value::<TrustPolicy>(v).ok())
                .map(|p| policy_line(t, &p))
                .unwrap_or_default(),
            _ => String::new(),
        };
        EntryView {
            id: e.id.to_string(),
            when: e.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            action: t.named("transparency.action", e.action.code()),
            initiative: e.initiative.as_ref().map(|name| {
                // Logged names are `handle` or `handle@domain`, exactly as page paths use them.
                let path = e.initiative_id.map(|_| format!("/initiatives/{name}"));
                (name.clone(), path)
            }),
            statement: e.statement.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            policy,
        }
    }
}

fn policy_line(t: &Translator, p: &TrustPolicy) -> String {
    let list = |l: &[String]| {
        if l.is_empty() {
            t.tr("about.none").to_string()
        } else {
            l.join(", ")
        }
    };
    let warnings = if p.warnings_dispute {
        t.tr("about.warnings_dispute")
    } else {
        t.tr("about.warnings_shown")
    };
    format!(
        "{}: {} · {}: {} · {} · {warnings}",
        t.tr("about.trusted"),
        list(&p.trusted),
        t.tr("about.ignored"),
        list(&p.ignored),
        t.tr1("about.threshold_text", p.threshold)
    )
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    ctx: PageCtx,
    entries: Vec<EntryView>,
    prev: Option<String>,
    next: Option<String>,
}

const PER_PAGE: u32 = 50;

/// `GET /transparency?page=N`: what this node's moderators vouched for, warned about and
/// withdrew, and every change of its trust policy, newest first.
pub(crate) async fn transparency(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let page: u32 = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1)
        .clamp(1, 1000);
    // One more than shown tells whether there is a next page.
    let mut entries = state
        .app()
        .transparency_log(PER_PAGE + 1, (page - 1) * PER_PAGE)
        .await
        .map_err(|e| ctx.fail(e))?;
    let more = entries.len() > PER_PAGE as usize;
    entries.truncate(PER_PAGE as usize);
    Ok(ok(&TransparencyPage {
        entries: entries.iter().map(|e| EntryView::new(&ctx.t, e)).collect(),
        prev: (page > 1).then(|| format!("/transparency?page={}", page - 1)),
        next: more.then(|| format!("/transparency?page={}", page + 1)),
        ctx,
    }))
}

fn require_moderator(ctx: &PageCtx) -> Result<hromada_domain::User, PageError> {
    let user = ctx.require_user()?;
    if !user.is_moderator() {
        return Err(ctx.forbidden());
    }
    Ok(user.clone())
}

fn this_node(state: &WebState, ctx: &PageCtx) -> Result<ThisNode, PageError> {
    ThisNode::new(state.settings().public_url.as_str()).map_err(|e| ctx.fail(e))
}

/// Where a moderator lands after a trust form: the initiative's page, at its trust section.
fn back_to(handle: &str, done: &str) -> String {
    format!("/initiatives/{handle}?trust={done}#trust")
}

/// Shows the initiative's page again with the moderator's input and what needs attention.
async fn again(
    state: &WebState,
    ctx: PageCtx,
    handle: &str,
    mut form: TrustForm,
    errors: FieldErrors,
) -> PageResult {
    form.errors = errors;
    initiative_page(
        state,
        ctx,
        handle,
        false,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// A use case's refusal: field errors go back to the form, the rest become error pages.
async fn refused(
    state: &WebState,
    ctx: PageCtx,
    handle: &str,
    form: TrustForm,
    e: AppError,
) -> PageResult {
    match e {
        AppError::Invalid(v) => {
            let errors = FieldErrors::from_validation(ctx.t, &v, |f| Some(f.to_string()));
            again(state, ctx, handle, form, errors).await
        }
        e => Err(ctx.fail(e)),
    }
}

pub(crate) async fn vouch(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    let node = this_node(&state, &ctx)?;
    let mut kept = TrustForm::new(&ctx.t);
    kept.which = "vouch".into();
    kept.statement = form.get("statement").into();
    kept.basis = form.get("basis").into();
    let Some(basis) = VouchBasis::from_code(form.get("basis")) else {
        let mut errors = FieldErrors::default();
        errors.add("basis", ctx.t.tr("error.invalid"));
        return again(&state, ctx, &handle, kept, errors).await;
    };
    let input = VouchInput {
        statement: kept.statement.clone(),
        basis,
    };
    match state.app().vouch(&user, &node, &handle, input).await {
        Ok(_) => Ok(see_other(&back_to(&handle, "vouched"))),
        Err(e) => refused(&state, ctx, &handle, kept, e).await,
    }
}

pub(crate) async fn warn(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    let node = this_node(&state, &ctx)?;
    let mut kept = TrustForm::new(&ctx.t);
    kept.which = "warn".into();
    kept.statement = form.get("statement").into();
    kept.warning_reason = form.get("reason").into();
    let Some(reason) = WarningReason::from_code(form.get("reason")) else {
        let mut errors = FieldErrors::default();
        errors.add("reason", ctx.t.tr("error.invalid"));
        return again(&state, ctx, &handle, kept, errors).await;
    };
    let input = WarningInput {
        statement: kept.statement.clone(),
        reason,
    };
    match state.app().warn(&user, &node, &handle, input).await {
        Ok(_) => Ok(see_other(&back_to(&handle, "warned"))),
        Err(e) => refused(&state, ctx, &handle, kept, e).await,
    }
}

/// Withdraws this node's vouch (`kind=vouch`) or warning (`kind=warning`) with a reason.
pub(crate) async fn withdraw(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = require_moderator(&ctx)?;
    let id = Uuid::parse_str(form.get("id")).map_err(|_| ctx.not_found())?;
    let reason = form.get("reason");
    let mut kept = TrustForm::new(&ctx.t);
    kept.which = "withdraw".into();
    kept.withdrawal_reason = reason.into();
    let (initiative_id, result) = match form.get("kind") {
        "vouch" => match state.app().withdraw_vouch(&user, id, reason).await {
            Ok((v, _)) => (Some(v.initiative_id), Ok(())),
            Err(e) => (None, Err(e)),
        },
        "warning" => match state.app().withdraw_warning(&user, id, reason).await {
            Ok((w, _)) => (Some(w.initiative_id), Ok(())),
            Err(e) => (None, Err(e)),
        },
        _ => return Err(ctx.not_found()),
    };
    match result {
        Ok(()) => {
            // Back to the page of the initiative the statement was about, whatever the URL said.
            let target = match initiative_id {
                Some(iid) => state
                    .app()
                    .store()
                    .initiative_by_id(iid)
                    .await
                    .map_err(|e| ctx.fail(e.into()))?
                    .map(|i| hromada_app::acct(&i))
                    .unwrap_or(handle),
                None => handle,
            };
            Ok(see_other(&back_to(&target, "withdrawn")))
        }
        Err(e) => refused(&state, ctx, &handle, kept, e).await,
    }
}

/// `/vouches/{id}` in a browser. The address is the vouch's ActivityPub id (fediverse software
/// gets its JSON there); people are sent to the initiative's trust section, which shows and
/// explains every statement, withdrawn ones included.
pub(crate) async fn vouch_page(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> PageResult {
    statement_page(&state, ctx, StatementKind::Vouch, &id).await
}

/// `/warnings/{id}` in a browser: as [`vouch_page`].
pub(crate) async fn warning_page(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> PageResult {
    statement_page(&state, ctx, StatementKind::Warning, &id).await
}

async fn statement_page(
    state: &WebState,
    ctx: PageCtx,
    kind: StatementKind,
    id: &str,
) -> PageResult {
    let id = Uuid::parse_str(id).map_err(|_| ctx.not_found())?;
    let initiative = state
        .app()
        .statement_subject(kind, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other(&format!(
        "{}#trust",
        initiative_path(&initiative)
    )))
}
