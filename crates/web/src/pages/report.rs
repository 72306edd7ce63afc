//! "Report this initiative": anyone, signed in or not, tells the moderators that something is
//! wrong. A report about a mirrored listing also goes to its origin node (as a `Flag`, without
//! the reporter), which federation does from the change feed.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::trust::{ReportCategory, ReportInput};

use super::ctx::PageCtx;
use super::forms::FormData;
use super::render::{FieldErrors, PageResult, ok, page, see_other};
use crate::client::{Limited, count};
use crate::extract::ClientIp;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    ctx: PageCtx,
    handle: String,
    name: String,
    categories: Vec<(&'static str, String)>,
    category: String,
    reason: String,
    contact: String,
    errors: FieldErrors,
    sent: bool,
}

impl ReportPage {
    async fn new(state: &WebState, ctx: PageCtx, handle: &str) -> Result<Self, PageResult> {
        let detail = match state.app().initiative_detail(None, handle).await {
            Ok(detail) => detail,
            Err(e) => return Err(Err(ctx.fail(e))),
        };
        let categories = ReportCategory::ALL
            .into_iter()
            .map(|c| {
                let key = format!("report.category.{}", c.code());
                (c.code(), ctx.t.tr(&key).to_string())
            })
            .collect();
        Ok(Self {
            handle: handle.to_string(),
            name: detail.initiative.name.clone(),
            categories,
            category: ReportCategory::Fraud.code().into(),
            reason: String::new(),
            contact: String::new(),
            errors: FieldErrors::default(),
            sent: false,
            ctx,
        })
    }

    fn path(&self) -> String {
        format!("/initiatives/{}/report", self.handle)
    }
}

pub(crate) async fn form(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let mut view = match ReportPage::new(&state, ctx, &handle).await {
        Ok(view) => view,
        Err(failed) => return failed,
    };
    view.sent = query.is_some_and(|q| q.contains("sent=1"));
    Ok(ok(&view))
}

pub(crate) async fn send(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = ctx.user.clone();
    let t = ctx.t;
    let mut view = match ReportPage::new(&state, ctx, &handle).await {
        Ok(view) => view,
        Err(failed) => return failed,
    };
    view.category = form.get("category").into();
    view.reason = form.get("reason").into();
    view.contact = form.get("contact").into();
    let Some(category) = ReportCategory::from_code(&view.category) else {
        view.errors.add("category", t.tr("error.invalid"));
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &view));
    };
    let input = ReportInput {
        category,
        reason: view.reason.clone(),
        contact: (user.is_none() && !view.contact.trim().is_empty()).then(|| view.contact.clone()),
    };
    let invalid = input.validate();
    if !invalid.is_empty() {
        view.errors = FieldErrors::from_validation(t, &invalid, |f| Some(f.to_string()));
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &view));
    }
    // Counted only once the report could be stored: correcting a mistake costs no attempt.
    match count(&state, Limited::Report, ip, user.as_ref()).await {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => return Err(view.ctx.rate_limited(wait)),
        Err(e) => return Err(view.ctx.fail(e)),
    }
    match state.app().report(user.as_ref(), &handle, input).await {
        Ok(_) => Ok(see_other(&format!("{}?sent=1", view.path()))),
        Err(AppError::Invalid(v)) => {
            view.errors = FieldErrors::from_validation(t, &v, |f| Some(f.to_string()));
            Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(e) => Err(view.ctx.fail(e)),
    }
}
