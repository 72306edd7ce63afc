//! Admins' routes for the network of nodes: peers (node follows), domain blocks with block-list
//! import, and the delivery queue report. They need the node's federation, which the server
//! hands to [`WebState::with_federation`]; without it they answer 503.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hromada_federation::{Federation, PeerError, parse_block_list};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::WebState;

/// A peer as admins see it (see `hromada_federation::PeerView`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerBody {
    /// `host` or `host:port`.
    pub domain: String,
    /// This node's follow of it: `pending`, `accepted`, `rejected`, `unreachable` or `none`.
    pub status: String,
    /// Its follow of this node: `pending` (held for approval), `accepted` or `none`.
    pub follows_us: String,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// The last activity received from it.
    pub last_activity_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Listings mirrored here that come from it.
    pub listings: u64,
    pub refuse_relayed: bool,
    /// Whether its existing listings are still being pulled in.
    pub backfilling: bool,
}

impl From<hromada_federation::PeerView> for PeerBody {
    fn from(p: hromada_federation::PeerView) -> Self {
        Self {
            domain: p.domain,
            status: p.status,
            follows_us: p.follows_us,
            since: p.since,
            last_activity_at: p.last_activity_at,
            listings: p.listings,
            refuse_relayed: p.refuse_relayed,
            backfilling: p.backfilling,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowPeerRequest {
    /// The node's domain: `host`, or `host:port` where it has one.
    #[schema(example = "hromada.example.org")]
    pub domain: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// A domain (also blocks its subdomains), or `host:port` for exactly one node.
    pub domain: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockBody {
    pub domain: String,
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedBody {
    pub domain: String,
    /// Mirrored listings removed.
    pub purged_listings: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// CSV as fediverse servers export it: `domain,reason` lines, or Mastodon's export with its
    /// `#domain,#severity,…,#public_comment,…` header.
    pub csv: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportBody {
    pub blocked: Vec<String>,
    /// Lines that did not name a domain.
    pub skipped: Vec<String>,
}

fn admin_federation(state: &WebState, auth: &Authenticated) -> Result<Federation, ApiError> {
    if !auth.user.is_admin() {
        return Err(ApiError::forbidden("only admins manage the node's network"));
    }
    state.federation().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "federation is not running on this node",
        )
    })
}

fn peer_error(e: PeerError) -> ApiError {
    match e {
        PeerError::Invalid(m) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_domain", m.to_string())
        }
        PeerError::Blocked(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        PeerError::NotFound(_) => ApiError::not_found("peer"),
        PeerError::NotPending(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        PeerError::Unreachable(..) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "unreachable", e.to_string())
        }
        other => ApiError::internal(other),
    }
}

/// The peers: nodes this node follows or is followed by (admins).
#[utoipa::path(
    get,
    path = "/api/v1/peers",
    tag = "network",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The peers", body = Vec<PeerBody>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list_peers(
    State(state): State<WebState>,
    auth: Authenticated,
) -> Result<Json<Vec<PeerBody>>, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    let peers = fed.peers().await.map_err(peer_error)?;
    Ok(Json(peers.into_iter().map(PeerBody::from).collect()))
}

/// Follow a node by its domain (admins). Its listings appear once it accepts.
#[utoipa::path(
    post,
    path = "/api/v1/peers",
    tag = "network",
    request_body = FollowPeerRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Follow sent", body = PeerBody),
        (status = 400, description = "Not a domain", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The domain is blocked", body = ErrorBody),
        (status = 502, description = "The node could not be reached or is not a Hromada node", body = ErrorBody),
    )
)]
pub(crate) async fn follow_peer(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiJson(req): ApiJson<FollowPeerRequest>,
) -> Result<(StatusCode, Json<PeerBody>), ApiError> {
    let fed = admin_federation(&state, &auth)?;
    let peer = fed.follow_peer(&req.domain).await.map_err(peer_error)?;
    Ok((StatusCode::CREATED, Json(peer.into())))
}

/// Stop following a node (admins). Listings that came only through it are removed.
#[utoipa::path(
    delete,
    path = "/api/v1/peers/{domain}",
    tag = "network",
    params(("domain" = String, Path, description = "`host` or `host:port`")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unfollowed"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Not a peer", body = ErrorBody),
    )
)]
pub(crate) async fn unfollow_peer(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiPath(domain): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    fed.unfollow_peer(&domain).await.map_err(peer_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept a node's follow of this node that was held for approval (admins; see
/// `auto_accept_peers`). The node then receives this node's listings and pulls in the existing ones.
#[utoipa::path(
    post,
    path = "/api/v1/peers/{domain}/approve",
    tag = "network",
    params(("domain" = String, Path, description = "`host` or `host:port`")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Accepted; an `Accept` is queued"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Not a peer", body = ErrorBody),
        (status = 409, description = "No follow from it is waiting for approval", body = ErrorBody),
    )
)]
pub(crate) async fn approve_peer(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiPath(domain): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    fed.answer_peer(&domain, true).await.map_err(peer_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuse a node's follow that was held for approval (admins). It gets no listings.
#[utoipa::path(
    post,
    path = "/api/v1/peers/{domain}/reject",
    tag = "network",
    params(("domain" = String, Path, description = "`host` or `host:port`")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Refused; a `Reject` is queued"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Not a peer", body = ErrorBody),
        (status = 409, description = "No follow from it is waiting for approval", body = ErrorBody),
    )
)]
pub(crate) async fn reject_peer(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiPath(domain): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    fed.answer_peer(&domain, false).await.map_err(peer_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerSettingsRequest {
    /// Refuse the listings this peer relays from third nodes (its own still arrive).
    pub refuse_relayed: bool,
}

/// Change how a peer is treated (admins).
#[utoipa::path(
    patch,
    path = "/api/v1/peers/{domain}",
    tag = "network",
    params(("domain" = String, Path, description = "`host` or `host:port`")),
    request_body = PeerSettingsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The peer", body = PeerBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Not a peer", body = ErrorBody),
    )
)]
pub(crate) async fn change_peer(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiPath(domain): ApiPath<String>,
    ApiJson(req): ApiJson<PeerSettingsRequest>,
) -> Result<Json<PeerBody>, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    fed.refuse_relayed_from(&domain, req.refuse_relayed)
        .await
        .map_err(peer_error)?;
    let peers = fed.peers().await.map_err(peer_error)?;
    peers
        .into_iter()
        .find(|p| p.domain.eq_ignore_ascii_case(domain.trim()))
        .map(|p| Json(p.into()))
        .ok_or_else(|| ApiError::not_found("peer"))
}

/// Blocked domains (admins).
#[utoipa::path(
    get,
    path = "/api/v1/blocks",
    tag = "network",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocks", body = Vec<BlockBody>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list_blocks(
    State(state): State<WebState>,
    auth: Authenticated,
) -> Result<Json<Vec<BlockBody>>, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    let blocks = fed.domain_blocks().await.map_err(ApiError::internal)?;
    Ok(Json(
        blocks
            .into_iter()
            .map(|b| BlockBody {
                domain: b.domain,
                reason: b.reason,
                created_at: b.created_at,
            })
            .collect(),
    ))
}

/// Block a domain (admins): its listings, follows and pending deliveries are purged, its
/// inbox posts get 403.
#[utoipa::path(
    post,
    path = "/api/v1/blocks",
    tag = "network",
    request_body = BlockRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Blocked", body = BlockedBody),
        (status = 400, description = "Not a domain", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn block(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiJson(req): ApiJson<BlockRequest>,
) -> Result<(StatusCode, Json<BlockedBody>), ApiError> {
    let fed = admin_federation(&state, &auth)?;
    let purged = fed
        .block_domain(&req.domain, req.reason)
        .await
        .map_err(peer_error)?;
    Ok((
        StatusCode::CREATED,
        Json(BlockedBody {
            domain: Federation::block_name(&req.domain).unwrap_or_default(),
            purged_listings: purged,
        }),
    ))
}

/// Lift a block (admins); the node can then be followed afresh.
#[utoipa::path(
    delete,
    path = "/api/v1/blocks/{domain}",
    tag = "network",
    params(("domain" = String, Path, description = "The blocked domain")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Not blocked", body = ErrorBody),
    )
)]
pub(crate) async fn unblock(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiPath(domain): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    if fed.unblock_domain(&domain).await.map_err(peer_error)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("block"))
    }
}

/// Import a block list (admins): CSV of domain and reason, as fediverse servers export.
#[utoipa::path(
    post,
    path = "/api/v1/blocks/import",
    tag = "network",
    request_body = ImportRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn import_blocks(
    State(state): State<WebState>,
    auth: Authenticated,
    ApiJson(req): ApiJson<ImportRequest>,
) -> Result<Json<ImportBody>, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    let (rows, skipped) = parse_block_list(&req.csv);
    let mut blocked = Vec::new();
    for (domain, reason) in rows {
        fed.block_domain(&domain, reason)
            .await
            .map_err(peer_error)?;
        blocked.push(domain);
    }
    Ok(Json(ImportBody { blocked, skipped }))
}

/// The delivery queue per remote host (admins).
#[utoipa::path(
    get,
    path = "/api/v1/admin/queue",
    tag = "network",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deliveries per host and state: pending, delivered, rejected, failed, cancelled; host health", body = Object),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn queue(
    State(state): State<WebState>,
    auth: Authenticated,
) -> Result<Json<hromada_federation::QueueReport>, ApiError> {
    let fed = admin_federation(&state, &auth)?;
    Ok(Json(fed.queue_report().await.map_err(ApiError::internal)?))
}
