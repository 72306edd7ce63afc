//! Trust routes: vouches and warnings in the name of this node's collective, withdrawals, the
//! trust policy, an initiative's explained status, reports, and the transparency log (JSON and
//! Atom). Also [`attach`], which adds `trust` and `website_check` to initiative views.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_app::{ReportView, ThisNode};
use hromada_domain::markup::escape;
use hromada_domain::trust::{
    Report, ReportInput, ReportStatus, TransparencyAction, TransparencyEntry, TrustPolicy,
    TrustPolicyInput, TrustStatus, Vouch, VouchInput, Warning, WarningInput, WebsiteCheck,
};
use hromada_domain::{User, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::InitiativeView;
use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, parse_json};
use crate::state::WebState;

/// Adds this node's trust status and website check to each view.
pub(crate) async fn attach(state: &WebState, views: &mut [InitiativeView]) -> Result<(), ApiError> {
    let initiatives: Vec<_> = views.iter().map(|v| v.initiative.clone()).collect();
    let mut trust = state.app().trust_of_many(&initiatives).await?;
    for view in views {
        if let Some(t) = trust.remove(&view.initiative.id) {
            view.trust = Some(t.trust);
            view.website_check = t.website_check;
        }
    }
    Ok(())
}

fn this_node(state: &WebState) -> Result<ThisNode, ApiError> {
    Ok(ThisNode::new(state.settings().public_url.as_str())?)
}

/// A vouch and the initiative's status after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VouchAnswer {
    pub vouch: Vouch,
    /// The initiative, as `handle` or `handle@domain`.
    pub initiative: String,
    pub trust: TrustStatus,
}

/// A warning and the initiative's status after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningAnswer {
    pub warning: Warning,
    /// The initiative, as `handle` or `handle@domain`.
    pub initiative: String,
    pub trust: TrustStatus,
}

/// An initiative's explained status on this node.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustAnswer {
    /// The initiative, as `handle` or `handle@domain`.
    pub initiative: String,
    pub trust: TrustStatus,
    /// The latest check that its website links back to its profile with `rel="me"`.
    pub website_check: Option<WebsiteCheck>,
}

/// Why a vouch or warning is withdrawn (also accepted as the query parameter `reason`).
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WithdrawRequest {
    /// Shown in the transparency log (at most 1000 characters).
    pub reason: Option<String>,
}

/// A new trust policy (the whole of it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    /// Domains (`host` or `host:port`) of collectives whose vouches count towards Verified.
    #[serde(default)]
    pub trusted: Vec<String>,
    /// Domains of collectives whose statements count for nothing here.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Different trusted collectives needed for Verified (1–50; this node's moderators count
    /// as one).
    pub threshold: u32,
    /// Whether a trusted collective's warning makes an initiative Disputed.
    pub warnings_dispute: bool,
    /// Why the policy changes, for the transparency log (optional, at most 1000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// What a reporter is told: the report arrived. Nothing else is echoed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportReceipt {
    pub id: Uuid,
    pub status: ReportStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// What the moderators did about it, or why nothing needs doing (at most 1000 characters).
    pub resolution: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// `open`, `resolved` or `dismissed`; all when absent.
    pub status: Option<String>,
    /// Entries per page, 1–500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Entries to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Entries per page, 1–500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Entries to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportView>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransparencyPage {
    /// Newest first.
    pub items: Vec<TransparencyEntry>,
    pub limit: u32,
    pub offset: u32,
}

fn number(
    e: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
    default: u32,
    range: (u32, u32),
) -> u32 {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (range.0..=range.1).contains(&n) => n,
            _ => {
                e.add(
                    field,
                    "invalid_number",
                    format!("must be a whole number from {} to {}", range.0, range.1),
                );
                default
            }
        },
    }
}

fn paging(limit: &Option<String>, offset: &Option<String>) -> Result<(u32, u32), ApiError> {
    let mut e = ValidationErrors::new();
    let limit = number(&mut e, "limit", limit, 100, (1, 500));
    let offset = number(&mut e, "offset", offset, 0, (0, u32::MAX));
    e.into_result((limit, offset))
        .map_err(ApiError::invalid_query)
}

type Created<T> = (StatusCode, [(header::HeaderName, String); 1], Json<T>);

/// Vouch for an initiative in the name of this node's collective (moderators).
///
/// The initiative may be this node's or one mirrored from another node (`handle@domain`).
/// Refused (409) while this node already vouches for it or warns about it. The answer carries
/// the initiative's status afterwards.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/vouches",
    tag = "trust",
    params(("handle" = String, Path, description = "`handle`, or `handle@domain` for a mirrored listing")),
    request_body = VouchInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The vouch", body = VouchAnswer,
            headers(("Location" = String, description = "The vouch's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such public initiative", body = ErrorBody),
        (status = 409, description = "This node already vouches for it or warns about it", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The statement is empty or too long", body = ErrorBody),
    )
)]
pub(crate) async fn vouch(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(input): ApiJson<VouchInput>,
) -> Result<Created<VouchAnswer>, ApiError> {
    let node = this_node(&state)?;
    let (vouch, trust) = state.app().vouch(&auth.user, &node, &handle, input).await?;
    let location = state
        .settings()
        .url_for(&format!("/api/v1/vouches/{}", vouch.id));
    let vouch_initiative = vouch.initiative_id;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(VouchAnswer {
            vouch,
            initiative: acct_of(&state, vouch_initiative).await?,
            trust: trust.trust,
        }),
    ))
}

/// Warn about an initiative in the name of this node's collective (moderators).
///
/// Refused (409) while this node vouches for it or already warns about it.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/warnings",
    tag = "trust",
    params(("handle" = String, Path, description = "`handle`, or `handle@domain` for a mirrored listing")),
    request_body = WarningInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The warning", body = WarningAnswer,
            headers(("Location" = String, description = "The warning's API address"))),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such public initiative", body = ErrorBody),
        (status = 409, description = "This node already warns about it or vouches for it", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The statement is empty or too long", body = ErrorBody),
    )
)]
pub(crate) async fn warn(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    auth: Authenticated,
    ApiJson(input): ApiJson<WarningInput>,
) -> Result<Created<WarningAnswer>, ApiError> {
    let node = this_node(&state)?;
    let (warning, trust) = state.app().warn(&auth.user, &node, &handle, input).await?;
    let location = state
        .settings()
        .url_for(&format!("/api/v1/warnings/{}", warning.id));
    let warning_initiative = warning.initiative_id;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(WarningAnswer {
            warning,
            initiative: acct_of(&state, warning_initiative).await?,
            trust: trust.trust,
        }),
    ))
}

/// The moderator's own statements keep their author; everyone else sees the collective only.
fn public_vouch(mut v: Vouch, viewer: Option<&User>) -> Vouch {
    if !viewer.is_some_and(User::is_moderator) {
        v.author = None;
    }
    v
}

fn public_warning(mut w: Warning, viewer: Option<&User>) -> Warning {
    if !viewer.is_some_and(User::is_moderator) {
        w.author = None;
    }
    w
}

/// One vouch (public; who among the moderators issued it is shown to moderators only).
#[utoipa::path(
    get,
    path = "/api/v1/vouches/{id}",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The vouch's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The vouch", body = Vouch),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No such vouch", body = ErrorBody),
    )
)]
pub(crate) async fn get_vouch(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    viewer: MaybeAuthenticated,
) -> Result<Json<Vouch>, ApiError> {
    let vouch = state
        .app()
        .store()
        .vouch_by_id(id)
        .await
        .map_err(hromada_app::AppError::from)?
        .ok_or_else(|| ApiError::not_found("vouch"))?;
    Ok(Json(public_vouch(vouch, viewer.user())))
}

/// One warning (public; who among the moderators issued it is shown to moderators only).
#[utoipa::path(
    get,
    path = "/api/v1/warnings/{id}",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The warning's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The warning", body = Warning),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No such warning", body = ErrorBody),
    )
)]
pub(crate) async fn get_warning(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    viewer: MaybeAuthenticated,
) -> Result<Json<Warning>, ApiError> {
    let warning = state
        .app()
        .store()
        .warning_by_id(id)
        .await
        .map_err(hromada_app::AppError::from)?
        .ok_or_else(|| ApiError::not_found("warning"))?;
    Ok(Json(public_warning(warning, viewer.user())))
}

/// The reason of a withdrawal: a JSON body `{reason}`, or the `reason` query parameter.
fn withdrawal_reason(
    query: WithdrawRequest,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<String, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        parse_json::<WithdrawRequest>(body)?.reason
    };
    match from_body.or(query.reason) {
        Some(reason) => Ok(reason),
        None => Err(ApiError::validation(ValidationErrors::single(
            "reason",
            "required",
            "say why, in the body {\"reason\": …} or as ?reason=…",
        ))),
    }
}

/// Withdraw one of this node's vouches, with a reason (moderators).
///
/// The reason goes to the transparency log. Vouches of other nodes can only be withdrawn
/// there (403).
#[utoipa::path(
    delete,
    path = "/api/v1/vouches/{id}",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The vouch's id"), WithdrawRequest),
    request_body(content = Option<WithdrawRequest>, description = "The reason (or use the query parameter)"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The withdrawn vouch and the status after it", body = VouchAnswer),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator, or another node's vouch", body = ErrorBody),
        (status = 404, description = "No such vouch", body = ErrorBody),
        (status = 409, description = "Already withdrawn", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The reason is missing or too long", body = ErrorBody),
    )
)]
pub(crate) async fn withdraw_vouch(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WithdrawRequest>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<VouchAnswer>, ApiError> {
    let reason = withdrawal_reason(query, &headers, &body)?;
    let (vouch, trust) = state.app().withdraw_vouch(&auth.user, id, &reason).await?;
    let initiative = acct_of(&state, vouch.initiative_id).await?;
    Ok(Json(VouchAnswer {
        vouch,
        initiative,
        trust: trust.trust,
    }))
}

/// Withdraw one of this node's warnings, with a reason (moderators).
#[utoipa::path(
    delete,
    path = "/api/v1/warnings/{id}",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The warning's id"), WithdrawRequest),
    request_body(content = Option<WithdrawRequest>, description = "The reason (or use the query parameter)"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The withdrawn warning and the status after it", body = WarningAnswer),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator, or another node's warning", body = ErrorBody),
        (status = 404, description = "No such warning", body = ErrorBody),
        (status = 409, description = "Already withdrawn", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The reason is missing or too long", body = ErrorBody),
    )
)]
pub(crate) async fn withdraw_warning(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WithdrawRequest>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WarningAnswer>, ApiError> {
    let reason = withdrawal_reason(query, &headers, &body)?;
    let (warning, trust) = state
        .app()
        .withdraw_warning(&auth.user, id, &reason)
        .await?;
    let initiative = acct_of(&state, warning.initiative_id).await?;
    Ok(Json(WarningAnswer {
        warning,
        initiative,
        trust: trust.trust,
    }))
}

async fn acct_of(state: &WebState, initiative_id: Uuid) -> Result<String, ApiError> {
    Ok(state
        .app()
        .store()
        .initiative_by_id(initiative_id)
        .await
        .map_err(hromada_app::AppError::from)?
        .map(|i| hromada_app::acct(&i))
        .unwrap_or_default())
}

/// An initiative's trust status on this node, with every reason.
#[utoipa::path(
    get,
    path = "/api/v1/initiatives/{handle}/trust",
    tag = "trust",
    params(("handle" = String, Path, description = "`handle`, or `handle@domain` for a mirrored listing")),
    responses(
        (status = 200, description = "Status, reasons and website check", body = TrustAnswer),
        (status = 404, description = "No such public initiative", body = ErrorBody),
    )
)]
pub(crate) async fn initiative_trust(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<TrustAnswer>, ApiError> {
    let (initiative, trust) = state.app().initiative_trust(&handle).await?;
    Ok(Json(TrustAnswer {
        initiative: hromada_app::acct(&initiative),
        trust: trust.trust,
        website_check: trust.website_check,
    }))
}

/// This node's trust policy (public).
///
/// Which collectives' vouches count towards Verified, which are ignored, how many are needed,
/// and whether trusted warnings make an initiative Disputed. This node's own moderators always
/// count.
#[utoipa::path(
    get,
    path = "/api/v1/trust-policy",
    tag = "trust",
    responses((status = 200, description = "The policy", body = TrustPolicy))
)]
pub(crate) async fn get_policy(
    State(state): State<WebState>,
) -> Result<Json<TrustPolicy>, ApiError> {
    Ok(Json(state.app().trust_policy().await?))
}

/// Replace this node's trust policy (admins).
///
/// Every initiative's status is recomputed at once, and the change (before and after) goes to
/// the transparency log.
#[utoipa::path(
    put,
    path = "/api/v1/trust-policy",
    tag = "trust",
    request_body = PolicyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new policy", body = TrustPolicy),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "A domain is invalid, listed as both, or the threshold is out of range", body = ErrorBody),
    )
)]
pub(crate) async fn put_policy(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiJson(request): ApiJson<PolicyRequest>,
) -> Result<Json<TrustPolicy>, ApiError> {
    let input = TrustPolicyInput {
        trusted: request.trusted,
        ignored: request.ignored,
        threshold: request.threshold,
        warnings_dispute: request.warnings_dispute,
    };
    let policy = state
        .app()
        .set_trust_policy(Some(&auth.user), input, request.note.as_deref())
        .await?;
    Ok(Json(policy))
}

/// Report an initiative to this node's moderators (anyone).
///
/// Signed-in reporters are known to the moderators; anonymous ones may leave a `contact`.
/// Reporters are never shown to the public or to other nodes. Limited per client address
/// (`reports_per_hour`, default 20); moderators are not counted.
#[utoipa::path(
    post,
    path = "/api/v1/initiatives/{handle}/reports",
    tag = "trust",
    params(("handle" = String, Path, description = "`handle`, or `handle@domain` for a mirrored listing")),
    request_body = ReportInput,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "The report arrived", body = ReportReceipt),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "The token is invalid", body = ErrorBody),
        (status = 404, description = "No such public initiative", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The reason is missing or too long", body = ErrorBody),
        (status = 429, description = "Too many reports from this address (`reports_per_hour`); nothing stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn report(
    State(state): State<WebState>,
    ApiPath(handle): ApiPath<String>,
    viewer: MaybeAuthenticated,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<(StatusCode, Json<ReportReceipt>), ApiError> {
    // Counted only once it could be stored: correcting a mistake costs no attempt.
    let invalid = input.validate();
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    crate::client::check_api(&state, crate::client::Limited::Report, ip, viewer.user()).await?;
    let report = state.app().report(viewer.user(), &handle, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportReceipt {
            id: report.id,
            status: report.status,
            created_at: report.created_at,
        }),
    ))
}

/// Reports, newest first (moderators), with who reported.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "trust",
    params(ReportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of reports", body = ReportPage),
        (status = 400, description = "A parameter has an unknown value", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
    )
)]
pub(crate) async fn list_reports(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Json<ReportPage>, ApiError> {
    let status = match params
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            ReportStatus::from_code(&s.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::invalid_query(ValidationErrors::single(
                    "status",
                    "unknown_status",
                    "use open, resolved or dismissed",
                ))
            })?,
        ),
    };
    let (limit, offset) = paging(&params.limit, &params.offset)?;
    let items = state
        .app()
        .reports(&auth.user, status, limit, offset)
        .await?;
    Ok(Json(ReportPage {
        items,
        limit,
        offset,
    }))
}

/// Mark a report resolved, saying what was done (moderators).
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/resolve",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The report's id")),
    request_body = ResolveRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resolved report", body = Report),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The resolution is missing or too long", body = ErrorBody),
    )
)]
pub(crate) async fn resolve_report(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(
        state
            .app()
            .resolve_report(&auth.user, id, &request.resolution)
            .await?,
    ))
}

/// Dismiss a report that needs no action, saying why (moderators).
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/dismiss",
    tag = "trust",
    params(("id" = Uuid, Path, description = "The report's id")),
    request_body = ResolveRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dismissed report", body = Report),
        (status = 400, description = "The body is not JSON of the right shape", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Already resolved or dismissed", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The reason is missing or too long", body = ErrorBody),
    )
)]
pub(crate) async fn dismiss_report(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<Uuid>,
    auth: Authenticated,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(
        state
            .app()
            .dismiss_report(&auth.user, id, &request.resolution)
            .await?,
    ))
}

/// This node's transparency log, newest first (public): every vouch and warning it issued
/// or withdrew, and every change of its trust policy, with times and reasons.
#[utoipa::path(
    get,
    path = "/api/v1/transparency",
    tag = "trust",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the log", body = TransparencyPage),
        (status = 400, description = "A parameter is not a number in range", body = ErrorBody),
    )
)]
pub(crate) async fn transparency(
    State(state): State<WebState>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<TransparencyPage>, ApiError> {
    let (limit, offset) = paging(&params.limit, &params.offset)?;
    let items = state.app().transparency_log(limit, offset).await?;
    Ok(Json(TransparencyPage {
        items,
        limit,
        offset,
    }))
}

/// How many entries the Atom feed carries.
const FEED_ENTRIES: u32 = 50;

/// The transparency log as an Atom feed (the newest 50 entries).
#[utoipa::path(
    get,
    path = "/api/v1/transparency.atom",
    tag = "trust",
    responses((status = 200, description = "An Atom feed", content_type = "application/atom+xml", body = String))
)]
pub(crate) async fn transparency_atom(State(state): State<WebState>) -> Result<Response, ApiError> {
    let entries = state.app().transparency_log(FEED_ENTRIES, 0).await?;
    let settings = state.settings();
    let feed = atom(
        &settings.url_for("/api/v1/transparency.atom"),
        &settings.url_for("/transparency"),
        &settings.node_name,
        &entries,
    );
    let mut response = feed.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(response)
}

fn title(e: &TransparencyEntry) -> String {
    let on = e.initiative.as_deref().unwrap_or("");
    match e.action {
        TransparencyAction::VouchIssued => format!("Vouched for {on}"),
        TransparencyAction::VouchWithdrawn => format!("Withdrew the vouch for {on}"),
        TransparencyAction::WarningIssued => format!("Warned about {on}"),
        TransparencyAction::WarningWithdrawn => format!("Withdrew the warning about {on}"),
        TransparencyAction::PolicyChanged => "Changed the trust policy".to_string(),
    }
}

fn atom(self_url: &str, page_url: &str, node_name: &str, entries: &[TransparencyEntry]) -> String {
    let updated = entries
        .first()
        .map(|e| e.at)
        .unwrap_or_else(hromada_app::now);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    out.push_str(&format!(
        "<id>{}</id>\n<title>{} — transparency log</title>\n<updated>{}</updated>\n\
         <link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
         <generator>Hromada</generator>\n",
        escape(self_url),
        escape(node_name),
        updated.to_rfc3339(),
        escape(self_url),
        escape(page_url),
    ));
    for e in entries {
        let mut text = String::new();
        if let Some(s) = &e.statement {
            text.push_str(s);
        }
        if let Some(r) = &e.reason {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str("Reason: ");
            text.push_str(r);
        }
        if e.action == TransparencyAction::PolicyChanged {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&e.details.to_string());
        }
        out.push_str(&format!(
            "<entry>\n<id>urn:uuid:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n\
             <category term=\"{}\"/>\n<content type=\"text\">{}</content>\n</entry>\n",
            e.id,
            escape(&title(e)),
            e.at.to_rfc3339(),
            e.action.code(),
            escape(&text),
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_escapes_everything() {
        let entry = TransparencyEntry {
            id: Uuid::nil(),
            at: chrono::Utc::now(),
            action: TransparencyAction::VouchIssued,
            initiative: Some("a<b".into()),
            initiative_id: None,
            statement_id: None,
            ap_id: None,
            statement: Some("we <3 them & their receipts".into()),
            reason: None,
            details: serde_json::Value::Null,
        };
        let feed = atom(
            "http://x/feed?a=1&b=2",
            "http://x/t",
            "Node \"N\"",
            &[entry],
        );
        assert!(feed.contains("we &lt;3 them &amp; their receipts"));
        assert!(feed.contains("Vouched for a&lt;b"));
        assert!(feed.contains("Node &quot;N&quot;"));
        assert!(feed.contains("a=1&amp;b=2"));
        assert!(!feed.contains("<3"));
    }
}
