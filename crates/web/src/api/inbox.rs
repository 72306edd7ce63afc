//! An initiative's inbox for its maintainers and moderators: replies and mentions from the
//! fediverse, and follow requests held for approval (initiatives that approve followers by
//! hand). Answers go out through federation's durable queue, signed by the initiative.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hromada_domain::ValidationErrors;
use hromada_federation::{Federation, FollowRequest, Message};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::WebState;

/// Most items per page.
const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number, at most 100000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

impl PageParams {
    /// (page, per_page), checked.
    fn read(&self) -> Result<(u32, u32), ApiError> {
        let mut e = ValidationErrors::new();
        let number =
            |v: &Option<String>, field: &str, max: u32, default: u32, e: &mut ValidationErrors| {
                match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                    None => default,
                    Some(raw) => match raw.parse::<u32>() {
                        Ok(n) if (1..=max).contains(&n) => n,
                        _ => {
                            e.add(
                                field,
                                "invalid_number",
                                format!("must be a whole number from 1 to {max}"),
                            );
                            default
                        }
                    },
                }
            };
        let page = number(&self.page, "page", 100_000, 1, &mut e);
        let per_page = number(&self.per_page, "per_page", MAX_PER_PAGE, 20, &mut e);
        e.into_result((page, per_page))
            .map_err(ApiError::invalid_query)
    }
}

/// Who sent something, as last fetched from their server.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorBody {
    /// The actor's id, also its profile link.
    #[schema(example = "https://mastodon.example/users/olena")]
    pub url: String,
    /// `user@host`, when known.
    #[schema(example = "olena@mastodon.example")]
    pub handle: Option<String>,
    pub name: Option<String>,
}

impl From<hromada_federation::Author> for AuthorBody {
    fn from(a: hromada_federation::Author) -> Self {
        Self {
            url: a.id,
            handle: a.handle,
            name: a.name,
        }
    }
}

/// A reply to one of the initiative's posts, or a post that mentions it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyBody {
    pub id: uuid::Uuid,
    /// `reply` or `mention`.
    #[schema(example = "reply")]
    pub kind: String,
    pub author: AuthorBody,
    /// The post's text as sanitised HTML (p, br, a, strong, em, lists, blockquote, code).
    pub content_html: String,
    /// The original post on its server.
    pub url: String,
    /// The initiative's post (update, need or event URL) it answers, if it is a reply.
    pub in_reply_to: Option<String>,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

impl From<Message> for ReplyBody {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            kind: m.kind.to_string(),
            author: m.author.into(),
            content_html: m.content_html,
            url: m.url,
            in_reply_to: m.in_reply_to,
            received_at: m.received_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepliesPage {
    /// Newest first.
    pub items: Vec<ReplyBody>,
    pub page: u32,
    pub per_page: u32,
    /// Whether a next page has more.
    pub more: bool,
}

/// A follow waiting for a maintainer's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowRequestBody {
    /// Names the request in `…/follow-requests/{id}/accept` and `/reject`.
    pub id: String,
    pub author: AuthorBody,
    pub requested_at: chrono::DateTime<chrono::Utc>,
}

impl From<FollowRequest> for FollowRequestBody {
    fn from(r: FollowRequest) -> Self {
        Self {
            id: r.id,
            author: r.author.into(),
            requested_at: r.requested_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowRequestsPage {
    /// Oldest first.
    pub items: Vec<FollowRequestBody>,
    pub page: u32,
    pub per_page: u32,
    pub more: bool,
}

fn federation(state: &WebState) -> Result<Federation, ApiError> {
    state.federation().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "federation is not running on this node",
        )
    })
}

/// Replies and mentions from the fediverse (its maintainers and moderators), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/initiatives/{handle}/replies",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of replies and mentions", body = RepliesPage),
        (status = 400, description = "A bad page number", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
    )
)]
pub(crate) async fn replies(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<RepliesPage>, ApiError> {
    let (page, per_page) = params.read()?;
    let initiative = state
        .app()
        .manageable_initiative(&auth.user, &handle)
        .await?;
    let mut items = federation(&state)?
        .messages(initiative.id, per_page + 1, (page - 1) * per_page)
        .await
        .map_err(ApiError::internal)?;
    let more = items.len() > per_page as usize;
    items.truncate(per_page as usize);
    Ok(Json(RepliesPage {
        items: items.into_iter().map(ReplyBody::from).collect(),
        page,
        per_page,
        more,
    }))
}

/// Follow requests waiting for an answer (its maintainers and moderators), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/initiatives/{handle}/follow-requests",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of follow requests", body = FollowRequestsPage),
        (status = 400, description = "A bad page number", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
    )
)]
pub(crate) async fn follow_requests(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<FollowRequestsPage>, ApiError> {
    let (page, per_page) = params.read()?;
    let initiative = state
        .app()
        .manageable_initiative(&auth.user, &handle)
        .await?;
    let mut items = federation(&state)?
        .follow_requests(initiative.id, per_page + 1, (page - 1) * per_page)
        .await
        .map_err(ApiError::internal)?;
    let more = items.len() > per_page as usize;
    items.truncate(per_page as usize);
    Ok(Json(FollowRequestsPage {
        items: items.into_iter().map(FollowRequestBody::from).collect(),
        page,
        per_page,
        more,
    }))
}

/// Accepts or rejects a held follow; the answer goes out through the durable queue.
pub(crate) async fn answer(
    state: &WebState,
    auth: &Authenticated,
    handle: &str,
    request_id: &str,
    accept: bool,
) -> Result<(), ApiError> {
    let initiative = state
        .app()
        .manageable_initiative(&auth.user, handle)
        .await?;
    let actor =
        FollowRequest::actor_of(request_id).ok_or_else(|| ApiError::not_found("follow request"))?;
    let answered = federation(state)?
        .answer_follow_request(initiative.id, &actor, accept)
        .await
        .map_err(ApiError::internal)?;
    if answered {
        Ok(())
    } else {
        Err(ApiError::not_found("follow request"))
    }
}

/// Accept a follow request: the follower gets an `Accept` and from then on the posts.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/follow-requests/{id}/accept",
    tag = "initiatives",
    params(
        ("handle" = String, Path, description = "The initiative's handle"),
        ("id" = String, Path, description = "The request's id from the list"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Accepted; the Accept is queued"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative or pending request", body = ErrorBody),
    )
)]
pub(crate) async fn accept_follow(
    State(state): State<WebState>,
    ApiPath((handle, id)): ApiPath<(String, String)>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    answer(&state, &auth, &handle, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reject a follow request: the follower gets a `Reject` and the request is dropped.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/follow-requests/{id}/reject",
    tag = "initiatives",
    params(
        ("handle" = String, Path, description = "The initiative's handle"),
        ("id" = String, Path, description = "The request's id from the list"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Rejected; the Reject is queued"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative or pending request", body = ErrorBody),
    )
)]
pub(crate) async fn reject_follow(
    State(state): State<WebState>,
    ApiPath((handle, id)): ApiPath<(String, String)>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    answer(&state, &auth, &handle, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
