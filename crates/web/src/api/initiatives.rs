//! Searching, reading, submitting and editing initiatives.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_app::{App, AppError};
use hromada_domain::trust::TrustLevel;
use hromada_domain::{
    Category, InitiativeInput, InitiativePatch, InitiativeStatus, Region, ValidationErrors,
};
use hromada_store::{OriginFilter, SearchQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use super::views::{InitiativeDetailView, InitiativeView, SearchResults};
use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::client::{Limited, check_api};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::state::WebState;

/// Search parameters. Empty values count as absent, so HTML forms can send every field.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in name, summary, description and tags, in any language (each word also
    /// matches as a prefix: `медик` finds `медики`).
    #[param(example = "генератор")]
    pub q: Option<String>,
    /// A category code.
    #[param(value_type = Option<Category>)]
    pub category: Option<String>,
    /// An oblast code such as `kharkiv`, or `abroad`.
    #[param(example = "kharkiv")]
    pub region: Option<String>,
    /// Comma-separated statuses. Default `published,paused`; `archived` is public too; `pending`
    /// and `rejected` need a moderator's token.
    #[param(example = "published,paused")]
    pub status: Option<String>,
    /// Only initiatives with (`true`) or without (`false`) open needs.
    #[param(value_type = Option<bool>)]
    pub has_open_needs: Option<String>,
    /// This node's own listings, mirrored ones, or both (default).
    #[param(value_type = Option<OriginFilter>)]
    pub origin: Option<String>,
    /// Only initiatives that take recurring donations.
    #[param(value_type = Option<bool>)]
    pub recurring: Option<String>,
    /// Only initiatives with this trust status on this node.
    #[param(value_type = Option<TrustLevel>)]
    pub trust: Option<String>,
    /// 1-based page number.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub page: Option<String>,
    /// Results per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Longest search text accepted; longer is not a search but an accident or an attack.
const MAX_QUERY: usize = 200;

impl SearchParams {
    /// Checks every parameter and reports all problems at once.
    pub fn to_query(&self) -> Result<SearchQuery, ValidationErrors> {
        fn present(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let mut e = ValidationErrors::new();
        let mut query = SearchQuery::default();
        if let Some(q) = present(&self.q) {
            e.max_len("q", q, MAX_QUERY);
            query.text = Some(q.to_string());
        }
        if let Some(c) = present(&self.category) {
            match Category::from_code(&c.to_ascii_lowercase()) {
                Some(c) => query.category = Some(c),
                None => e.add(
                    "category",
                    "unknown_category",
                    format!(
                        "`{c}` is not a category; choose from {}",
                        Category::ALL.map(|c| c.code()).join(", ")
                    ),
                ),
            }
        }
        if let Some(r) = present(&self.region) {
            let r = r.to_ascii_lowercase();
            if Region::is_filter_code(&r) {
                query.region = Some(r);
            } else {
                e.add(
                    "region",
                    "unknown_region",
                    "use an oblast code such as kharkiv or kyiv-city, or abroad",
                );
            }
        }
        if let Some(list) = present(&self.status) {
            for code in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match InitiativeStatus::from_code(&code.to_ascii_lowercase()) {
                    Some(s) if !query.statuses.contains(&s) => query.statuses.push(s),
                    Some(_) => {}
                    None => e.add(
                        "status",
                        "unknown_status",
                        format!(
                            "`{code}` is not a status; use published, paused, archived, pending or rejected"
                        ),
                    ),
                }
            }
        }
        query.has_open_needs = flag(&mut e, "has_open_needs", present(&self.has_open_needs));
        query.recurring_only = flag(&mut e, "recurring", present(&self.recurring)).unwrap_or(false);
        if let Some(o) = present(&self.origin) {
            match o.to_ascii_lowercase().as_str() {
                "local" => query.origin = OriginFilter::Local,
                "remote" => query.origin = OriginFilter::Remote,
                "all" => query.origin = OriginFilter::All,
                _ => e.add("origin", "unknown_origin", "use local, remote or all"),
            }
        }
        if let Some(t) = present(&self.trust) {
            match TrustLevel::from_code(&t.to_ascii_lowercase()) {
                Some(level) => query.trust = Some(level),
                None => e.add(
                    "trust",
                    "unknown_trust_status",
                    "use verified, vouched, unverified or disputed",
                ),
            }
        }
        if let Some(p) = present(&self.page) {
            match p.parse::<u32>() {
                Ok(p) if p >= 1 => query.page = p,
                _ => e.add("page", "invalid_number", "must be a whole number from 1"),
            }
        }
        if let Some(p) = present(&self.per_page) {
            match p.parse::<u32>() {
                Ok(p) if (1..=SearchQuery::MAX_PER_PAGE).contains(&p) => query.per_page = p,
                _ => e.add(
                    "per_page",
                    "invalid_number",
                    format!(
                        "must be a whole number from 1 to {}",
                        SearchQuery::MAX_PER_PAGE
                    ),
                ),
            }
        }
        e.into_result(query)
    }
}

fn flag(e: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<bool> {
    match value?.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => {
            e.add(field, "invalid_boolean", "must be true or false");
            None
        }
    }
}

/// Search the directory.
///
/// Public listings (published and paused) by default; moderators may ask for `status=pending`
/// (the review queue) or `rejected`, and then also see how to reach each submitter.
#[utoipa::path(
    get,
    path = "/api/v1/initiatives",
    tag = "initiatives",
    params(SearchParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of matches", body = SearchResults),
        (status = 400, description = "A parameter has an unknown value", body = ErrorBody),
        (status = 401, description = "The token is invalid", body = ErrorBody),
        (status = 403, description = "Only moderators see non-public statuses", body = ErrorBody),
    )
)]
pub(crate) async fn search(
    State(state): State<WebState>,
    viewer: MaybeAuthenticated,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    let query = params.to_query().map_err(ApiError::invalid_query)?;
    let page = state.app().search(viewer.user(), &query).await?;
    let mut results = SearchResults::new(page, viewer.user());
    super::trust::attach(&state, &mut results.items).await?;
    Ok(anonymous_shared(&viewer, Json(results).into_response()))
}

/// What anonymous callers get is the same for all of them (see [`crate::cache`]).
fn anonymous_shared(viewer: &MaybeAuthenticated, response: Response) -> Response {
    if viewer.0.is_none() {
        crate::cache::shareable(response)
    } else {
        response
    }
}

/// One initiative with its needs, updates and events.
///
/// Listings mirrored from other nodes are addressed as `handle@domain`. Submissions that are
/// not public are visible to their maintainers and to moderators only (404 for everyone else).
#[utoipa::path(
    get,
    path = "/api/v1/initiatives/{handle}",
    tag = "initiatives",
    params(("handle" = String, Path, description = "`handle`, or `handle@domain` for a mirrored listing", example = "kharkiv-medics")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The initiative", body = InitiativeDetailView),
        (status = 401, description = "The token is invalid", body = ErrorBody),
        (status = 404, description = "No such initiative, or not visible to you", body = ErrorBody),
        (status = 410, description = "The initiative was deleted (its handle is never reused)", body = ErrorBody),
    )
)]
pub(crate) async fn detail(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    viewer: MaybeAuthenticated,
) -> Result<Response, ApiError> {
    let detail = match state.app().initiative_detail(viewer.user(), &handle).await {
        Ok(detail) => detail,
        Err(AppError::NotFound(_)) if state.app().was_deleted(&handle).await? => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "gone",
                "this initiative was deleted",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut view = InitiativeDetailView::new(detail, viewer.user());
    super::trust::attach(&state, std::slice::from_mut(&mut view.initiative)).await?;
    Ok(anonymous_shared(&viewer, Json(view).into_response()))
}

/// Submit an initiative.
///
/// Anyone may submit; the submission is pending until a moderator approves it, and is not
/// listed until then. Anonymous submitters must say how moderators can reach them
/// (`submitter_contact`, never published). A signed-in submitter becomes its maintainer.
/// Limited per client address (`submissions_per_hour`, default 10); moderators are not counted.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives",
    tag = "initiatives",
    request_body = InitiativeInput,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Submitted, pending review", body = InitiativeView,
            headers(("Location" = String, description = "The initiative's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "The token is invalid", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules (e.g. a bad IBAN, an unknown category, a taken handle)", body = ErrorBody),
        (status = 429, description = "Too many submissions from this address (`submissions_per_hour`); nothing stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn submit(
    State(state): State<WebState>,
    viewer: MaybeAuthenticated,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<InitiativeInput>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<InitiativeView>,
    ),
    ApiError,
> {
    // Counted only once it could be stored: correcting a mistake costs no attempt.
    App::check_submission(viewer.user(), input.clone())?;
    check_api(&state, Limited::Submission, ip, viewer.user()).await?;
    let initiative = state.app().submit(viewer.user(), input).await?;
    let location = state
        .settings()
        .url_for(&format!("/api/v1/initiatives/{}", initiative.handle));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(InitiativeView::new(initiative, viewer.user())),
    ))
}

/// Edit an initiative (its maintainers and moderators).
///
/// Only the fields sent change; the handle never changes. The edit is checked as a whole and
/// either fully applies or not at all.
#[utoipa::path(
    patch,
    path = "/api/v1/initiatives/{handle}",
    tag = "initiatives",
    params(("handle" = String, Path, description = "The initiative's handle")),
    request_body = InitiativePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited initiative", body = InitiativeView),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a maintainer of this initiative nor a moderator", body = ErrorBody),
        (status = 404, description = "No such initiative", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else; read it again and retry", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Fields break the rules", body = ErrorBody),
    )
)]
pub(crate) async fn edit(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(patch): ApiJson<InitiativePatch>,
) -> Result<Json<InitiativeView>, ApiError> {
    let initiative = state.app().edit(&auth.user, &handle, patch).await?;
    Ok(Json(InitiativeView::new(initiative, Some(&auth.user))))
}
