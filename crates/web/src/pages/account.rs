//! Submitting an initiative, and signing in and out.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use hromada_app::{App, AppError, SESSION_TTL};
use hromada_store::TokenKind;

use super::ctx::{PageCtx, clear_session_cookie, device_cookie, device_proof, session_cookie};
use super::forms::{FormData, InitiativeForm};
use super::render::{FieldErrors, PageResult, local_path, ok, page, see_other};
use crate::client::{Limited, count};
use crate::extract::ClientIp;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    ctx: PageCtx,
    f: InitiativeForm,
    errors: FieldErrors,
    is_submit: bool,
    done: Option<String>,
}

pub(crate) async fn submit_form(ctx: PageCtx, RawQuery(query): RawQuery) -> PageResult {
    let done = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "submitted")
        // Only a handle is echoed, not whatever a crafted link puts there.
        .filter(|(_, v)| hromada_domain::Handle::parse(v).is_ok())
        .map(|(_, v)| v.into_owned());
    Ok(ok(&SubmitPage {
        f: InitiativeForm::empty(&ctx.t),
        errors: FieldErrors::default(),
        is_submit: true,
        done,
        ctx,
    }))
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    ctx: PageCtx,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let t = ctx.t;
    let f = InitiativeForm::from_form(&t, &form);
    if form.asks_for_more_rows() {
        return Ok(ok(&SubmitPage {
            f,
            errors: FieldErrors::default(),
            is_submit: true,
            done: None,
            ctx,
        }));
    }
    let (input, mut errors, map) = f.to_input(&t);
    if errors.is_empty()
        && let Err(AppError::Invalid(v)) = App::check_submission(ctx.user.as_ref(), input.clone())
    {
        errors = FieldErrors::from_validation(t, &v, |p| map.form_field(p));
    }
    if errors.is_empty() {
        // Counted only once the form could be stored: correcting a mistake costs no attempt
        // (many people share one address: mobile networks, shelters, offices).
        match count(&state, Limited::Submission, ip, ctx.user.as_ref()).await {
            Ok(Ok(())) => {}
            Ok(Err(wait)) => return Err(ctx.rate_limited(wait)),
            Err(e) => return Err(ctx.fail(e)),
        }
        match state.app().submit(ctx.user.as_ref(), input).await {
            Ok(i) => {
                let handle: String =
                    url::form_urlencoded::byte_serialize(i.handle.as_str().as_bytes()).collect();
                return Ok(see_other(&format!("/submit?submitted={handle}")));
            }
            Err(AppError::Invalid(v)) => {
                errors = FieldErrors::from_validation(t, &v, |p| map.form_field(p));
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    Ok(page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SubmitPage {
            f,
            errors,
            is_submit: true,
            done: None,
            ctx,
        },
    ))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    username: String,
    next: String,
    error: Option<&'static str>,
}

fn next_of(query: Option<&str>) -> String {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "next")
        .and_then(|(_, v)| local_path(&v).map(String::from))
        .unwrap_or_else(|| "/dashboard".into())
}

pub(crate) async fn login_form(ctx: PageCtx, RawQuery(query): RawQuery) -> PageResult {
    Ok(ok(&LoginPage {
        next: next_of(query.as_deref()),
        username: String::new(),
        error: None,
        ctx,
    }))
}

pub(crate) async fn login(
    State(state): State<WebState>,
    ctx: PageCtx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let username = form.get("username").trim().to_string();
    let next = local_path(form.get("next"))
        .unwrap_or("/dashboard")
        .to_string();
    let fail =
        |ctx: PageCtx, status: StatusCode, key: &'static str, username: String, next: String| {
            let error = Some(ctx.t.tr(key));
            Ok(page(
                status,
                &LoginPage {
                    ctx,
                    username,
                    next,
                    error,
                },
            ))
        };
    let limits = state.settings().login_limits;
    let device = device_proof(&headers, ctx.secure);
    let login = state
        .app()
        .login_limited(ip, device, &username, form.get("password"), limits);
    let user = match login.await {
        Ok(user) => user,
        Err(AppError::TooManyLogins(_)) => {
            return fail(
                ctx,
                StatusCode::TOO_MANY_REQUESTS,
                "login.limited",
                username,
                next,
            );
        }
        Err(AppError::BadCredentials) => {
            let typed = crate::auth::loggable_username(&username);
            tracing::info!(username = ?typed, ?ip, "failed web login");
            return fail(
                ctx,
                StatusCode::UNAUTHORIZED,
                "login.failed",
                username,
                next,
            );
        }
        Err(e) => return Err(ctx.fail(e)),
    };
    let issued = state
        .app()
        .issue_token(&user, TokenKind::Session, "web session", Some(SESSION_TTL))
        .await
        .map_err(|e| ctx.fail(e))?;
    // Signing in over a session (another person on a shared phone) ends it for good.
    if let (Some(before), Some(session)) = (&ctx.user, &ctx.session)
        && let Err(e) = state.app().revoke_token(Some(before), session.id).await
    {
        tracing::warn!(error = %e, "could not revoke the session signed in over");
    }
    let mut r = see_other(&next);
    r.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(&issued.secret, SESSION_TTL.num_seconds(), ctx.secure),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        device_cookie(&App::device_proof(&user, hromada_app::now()), ctx.secure),
    );
    Ok(r)
}

pub(crate) async fn logout(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    if let (Some(user), Some(session)) = (&ctx.user, &ctx.session) {
        // Revoked, not just forgotten: a copied cookie stops working too.
        if let Err(e) = state.app().revoke_token(Some(user), session.id).await {
            tracing::warn!(error = %e, "could not revoke a session at logout");
        }
    }
    let mut r = see_other("/");
    r.headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(ctx.secure));
    Ok(r)
}
