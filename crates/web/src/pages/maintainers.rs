//! Who maintains an initiative: its maintainers and moderators see the list; moderators add
//! accounts to it and remove them (someone who left the initiative, or a lost phone).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::User;

use super::ctx::PageCtx;
use super::forms::FormData;
use super::render::{FieldErrors, PageError, PageResult, page, see_other};
use crate::api::moderation::MaintainerView;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "maintainers.html")]
struct MaintainersPage {
    ctx: PageCtx,
    name: String,
    handle: String,
    path: String,
    maintainers: Vec<MaintainerView>,
    /// Whether the add and remove forms are shown (moderators).
    manage: bool,
    done: Option<String>,
    username: String,
    errors: FieldErrors,
}

async fn maintainers_page(
    state: &WebState,
    ctx: PageCtx,
    handle: &str,
    done: Option<&str>,
) -> Result<MaintainersPage, PageError> {
    let user = ctx.require_user()?.clone();
    let (initiative, users) = state
        .app()
        .maintainers(&user, handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    let done = done.map(|key| ctx.t.tr(key).to_string());
    Ok(MaintainersPage {
        name: initiative.name.clone(),
        handle: initiative.handle.as_str().to_string(),
        path: format!("/initiatives/{}", initiative.handle.as_str()),
        maintainers: users.into_iter().map(MaintainerView::from).collect(),
        manage: user.is_moderator(),
        done,
        username: String::new(),
        errors: FieldErrors::default(),
        ctx,
    })
}

pub(crate) async fn show(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let done = match query.as_deref().unwrap_or("") {
        q if q.contains("done=added") => Some("maintainers.added"),
        q if q.contains("done=removed") => Some("maintainers.removed"),
        _ => None,
    };
    Ok(page(
        StatusCode::OK,
        &maintainers_page(&state, ctx, &handle, done).await?,
    ))
}

/// The moderator acting and the initiative's own handle (the path may spell it otherwise),
/// or the page that says why not.
async fn moderated(
    state: &WebState,
    ctx: &PageCtx,
    handle: &str,
) -> Result<(User, String), PageError> {
    let moderator = ctx.require_user()?.clone();
    if !moderator.is_moderator() {
        return Err(ctx.forbidden());
    }
    let initiative = state
        .app()
        .manageable_initiative(&moderator, handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok((moderator, initiative.handle.as_str().to_string()))
}

pub(crate) async fn add(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (moderator, handle) = moderated(&state, &ctx, &handle).await?;
    let username = form.get("username").trim();
    let refused = if username.is_empty() {
        ctx.t.tr("error.required").to_string()
    } else {
        match state
            .app()
            .add_maintainer(Some(&moderator), username, &handle)
            .await
        {
            Ok(()) => {
                return Ok(see_other(&format!(
                    "/dashboard/{handle}/maintainers?done=added"
                )));
            }
            Err(AppError::NotFound("user")) => ctx.t.tr1("maintainers.no_such_account", username),
            Err(e) => return Err(ctx.fail(e)),
        }
    };
    let mut p = maintainers_page(&state, ctx, &handle, None).await?;
    p.errors.add("username", refused);
    p.username = username.to_string();
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

pub(crate) async fn remove(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path((handle, username)): Path<(String, String)>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (moderator, handle) = moderated(&state, &ctx, &handle).await?;
    state
        .app()
        .remove_maintainer(Some(&moderator), &username, &handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other(&format!(
        "/dashboard/{handle}/maintainers?done=removed"
    )))
}
