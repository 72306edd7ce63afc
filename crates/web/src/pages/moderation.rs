//! The moderation queue (approve or reject pending submissions) and the admin's accounts page.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::markup::markdown_to_html;
use hromada_domain::{InitiativeStatus, Role};
use hromada_store::SearchQuery;

use super::ctx::PageCtx;
use super::forms::FormData;
use super::render::{FieldErrors, PageError, PageResult, date, page, see_other};
use super::views::{Card, ContactView, MethodView};
use crate::state::WebState;

pub struct Pending {
    pub card: Card,
    pub description_html: String,
    pub submitter_contact: String,
    pub contacts: Vec<ContactView>,
    pub methods: Vec<MethodView>,
    pub submitted: String,
    pub website: String,
}

#[derive(Template)]
#[template(path = "moderation.html")]
struct QueuePage {
    ctx: PageCtx,
    pending: Vec<Pending>,
    done: Option<&'static str>,
    reject_error: (String, String),
    audit: Vec<(String, String, String, String)>,
}

fn require_moderator(ctx: &PageCtx) -> Result<hromada_domain::User, PageError> {
    let user = ctx.require_user()?;
    if !user.is_moderator() {
        return Err(ctx.forbidden());
    }
    Ok(user.clone())
}

async fn queue_page(
    state: &WebState,
    ctx: PageCtx,
    done: Option<&'static str>,
    reject_error: (String, String),
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
    let audit = state
        .app()
        .audit_log(&user, 20, 0)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|a| {
            (
                a.at.format("%Y-%m-%d %H:%M").to_string(),
                a.actor.unwrap_or_else(|| "—".into()),
                a.action.code().to_string(),
                match a.reason {
                    Some(r) => format!("{} ({r})", a.subject),
                    None => a.subject,
                },
            )
        })
        .collect();
    let status = if reject_error.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &QueuePage {
            ctx,
            pending,
            done,
            reject_error,
            audit,
        },
    ))
}

pub(crate) async fn queue(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let done = match query.as_deref().unwrap_or("") {
        q if q.contains("done=approved") => Some(ctx.t.tr("moderation.approved")),
        q if q.contains("done=rejected") => Some(ctx.t.tr("moderation.rejected")),
        _ => None,
    };
    queue_page(&state, ctx, done, (String::new(), String::new())).await
}

pub(crate) async fn approve(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    if !ctx.csrf_ok(form.get("csrf")) {
        return Err(ctx.csrf_failed());
    }
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
    if !ctx.csrf_ok(form.get("csrf")) {
        return Err(ctx.csrf_failed());
    }
    let user = require_moderator(&ctx)?;
    match state.app().reject(&user, &handle, form.get("reason")).await {
        Ok(_) => Ok(see_other("/moderation?done=rejected")),
        Err(AppError::Invalid(v)) => {
            let errors = FieldErrors::from_validation(ctx.t, &v, |p| Some(p.to_string()));
            let message = errors.get("reason");
            queue_page(&state, ctx, None, (handle, message)).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub struct UserRow {
    pub username: String,
    pub role: &'static str,
    pub maintains: usize,
    pub disabled: bool,
    pub created: String,
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
            role: match u.role {
                Role::Admin => t.tr("role.admin"),
                Role::Moderator => t.tr("role.moderator"),
                Role::Maintainer => t.tr("role.maintainer"),
            },
            maintains: u.maintains.len(),
            disabled: u.disabled,
            created: date(&u.created_at),
        })
        .collect();
    let status = if p.errors.is_empty() && p.m_errors.is_empty() {
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
    if !ctx.csrf_ok(form.get("csrf")) {
        return Err(ctx.csrf_failed());
    }
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
    if !ctx.csrf_ok(form.get("csrf")) {
        return Err(ctx.csrf_failed());
    }
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

/// The locale key of a role code.
pub fn role_key(code: &str) -> &'static str {
    match code {
        "admin" => "role.admin",
        "moderator" => "role.moderator",
        _ => "role.maintainer",
    }
}
