//! The maintainer's inbox page: follow requests waiting for an answer (initiatives that approve
//! followers by hand) and replies and mentions from the fediverse, newest first.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_domain::Initiative;
use hromada_federation::{Federation, FollowRequest, Message};

use super::ctx::PageCtx;
use super::forms::FormData;
use super::render::{PageError, PageResult, page, see_other};
use crate::state::WebState;

const PER_PAGE: u32 = 20;
/// Follow requests shown at once; more wait for the next visit.
const REQUESTS_SHOWN: u32 = 50;

pub struct AuthorView {
    pub url: String,
    /// `@user@host` when known, else the actor's URL.
    pub shown: String,
    pub name: String,
}

impl From<hromada_federation::Author> for AuthorView {
    fn from(a: hromada_federation::Author) -> Self {
        AuthorView {
            shown: a
                .handle
                .map(|h| format!("@{h}"))
                .unwrap_or_else(|| a.id.clone()),
            name: a.name.unwrap_or_default(),
            url: a.id,
        }
    }
}

pub struct RequestView {
    pub id: String,
    pub author: AuthorView,
    pub when: String,
}

pub struct ReplyView {
    pub mention: bool,
    pub author: AuthorView,
    /// Sanitised when it was received (the subset of HTML Mastodon keeps).
    pub content_html: String,
    pub url: String,
    pub in_reply_to: Option<String>,
    pub when: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    ctx: PageCtx,
    name: String,
    handle: String,
    requests: Vec<RequestView>,
    replies: Vec<ReplyView>,
    page: u32,
    more: bool,
    answered: bool,
}

/// The initiative, if the signed-in user may read its inbox, and the federation that holds it.
async fn inbox_of(
    state: &WebState,
    ctx: &PageCtx,
    handle: &str,
) -> Result<(Initiative, Federation), PageError> {
    let user = ctx.require_user()?.clone();
    let initiative = state
        .app()
        .manageable_initiative(&user, handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    let federation = state.federation().cloned().ok_or_else(|| {
        ctx.error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "error.unavailable",
            "error.unavailable_text",
        )
    })?;
    Ok((initiative, federation))
}

fn unavailable(ctx: &PageCtx, e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "cannot read an initiative's inbox");
    ctx.error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "error.unavailable",
        "error.unavailable_text",
    )
}

pub(crate) async fn show(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let (i, federation) = inbox_of(&state, &ctx, &handle).await?;
    let query = query.unwrap_or_default();
    let page_number = super::render::query_number(Some(&query), "page")
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let requests: Vec<FollowRequest> = federation
        .follow_requests(i.id, REQUESTS_SHOWN, 0)
        .await
        .map_err(|e| unavailable(&ctx, e))?;
    let mut messages: Vec<Message> = federation
        .messages(i.id, PER_PAGE + 1, (page_number - 1) * PER_PAGE)
        .await
        .map_err(|e| unavailable(&ctx, e))?;
    let more = messages.len() > PER_PAGE as usize;
    messages.truncate(PER_PAGE as usize);
    let p = InboxPage {
        name: i.name.clone(),
        handle: i.handle.to_string(),
        requests: requests
            .into_iter()
            .map(|r| RequestView {
                id: r.id,
                author: r.author.into(),
                when: super::render::date(&r.requested_at),
            })
            .collect(),
        replies: messages
            .into_iter()
            .map(|m| ReplyView {
                mention: m.kind == "mention",
                author: m.author.into(),
                content_html: m.content_html,
                url: m.url,
                in_reply_to: m.in_reply_to,
                when: super::render::date(&m.received_at),
            })
            .collect(),
        page: page_number,
        more,
        answered: query.contains("answered=1"),
        ctx,
    };
    Ok(page(StatusCode::OK, &p))
}

/// Accepts or rejects a follow request; the answer goes out through the durable queue.
pub(crate) async fn answer(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path((handle, id, answer)): Path<(String, String, String)>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let accept = match answer.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return Err(ctx.not_found()),
    };
    let (i, federation) = inbox_of(&state, &ctx, &handle).await?;
    let actor = FollowRequest::actor_of(&id).ok_or_else(|| ctx.not_found())?;
    let answered = federation
        .answer_follow_request(i.id, &actor, accept)
        .await
        .map_err(|e| unavailable(&ctx, e))?;
    if !answered {
        return Err(ctx.not_found());
    }
    Ok(see_other(&format!(
        "/dashboard/{}/inbox?answered=1#requests",
        i.handle
    )))
}
