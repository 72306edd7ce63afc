//! `/account`: a signed-in person changes their own password (an admin's reset gives a
//! temporary one, to be replaced at once). The current password is asked for again, counted
//! like a login, so a session left open on a shared phone cannot lock its owner out.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use hromada_app::{App, AppError};

use super::ctx::{PageCtx, device_cookie, device_proof};
use super::forms::FormData;
use super::render::{FieldErrors, PageResult, ok, page, see_other};
use crate::extract::ClientIp;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: PageCtx,
    username: String,
    errors: FieldErrors,
    saved: bool,
}

pub(crate) async fn show(ctx: PageCtx, RawQuery(query): RawQuery) -> PageResult {
    let username = ctx.require_user()?.username.clone();
    Ok(ok(&AccountPage {
        username,
        errors: FieldErrors::default(),
        saved: query.is_some_and(|q| q.contains("saved=password")),
        ctx,
    }))
}

pub(crate) async fn change_password(
    State(state): State<WebState>,
    ctx: PageCtx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = ctx.require_user()?.clone();
    let t = ctx.t;
    let (new, again) = (form.get("new_password"), form.get("new_password_again"));
    let mut errors = FieldErrors::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if new != again {
        errors.add("new_password_again", t.tr("account.passwords_differ"));
    }
    let limits = state.settings().login_limits;
    match state
        .app()
        .login_limited(
            ip,
            device_proof(&headers, ctx.secure),
            &user.username,
            form.get("current_password"),
            limits,
        )
        .await
    {
        Ok(_) => {}
        Err(AppError::BadCredentials) => {
            errors.add("current_password", t.tr("account.current_wrong"));
        }
        Err(AppError::TooManyLogins(_)) => {
            status = StatusCode::TOO_MANY_REQUESTS;
            errors.add("current_password", t.tr("login.limited"));
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    if errors.is_empty() {
        match state
            .app()
            .reset_password(
                Some(&user),
                &user.username,
                new,
                ctx.session.as_ref().map(|s| s.id),
            )
            .await
        {
            Ok(()) => {
                // The proof this browser kept was made with the old password: a new one.
                let mut r = see_other("/account?saved=password");
                if let Ok(user) = state.app().user_by_username(&user.username).await {
                    let proof = App::device_proof(&user, hromada_app::now());
                    r.headers_mut()
                        .append(header::SET_COOKIE, device_cookie(&proof, ctx.secure));
                }
                return Ok(r);
            }
            Err(AppError::Invalid(v)) => {
                errors = FieldErrors::from_validation(t, &v, |_| Some("new_password".into()));
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    Ok(page(
        status,
        &AccountPage {
            username: user.username,
            errors,
            saved: false,
            ctx,
        },
    ))
}
