//! The admins' network pages: peers (follow, unfollow, answer held follows, block, unblock),
//! the trust policy, and the delivery queue's health per host.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::User;
use hromada_domain::trust::TrustPolicyInput;
use hromada_federation::{Federation, InvalidPeer, PeerError, QueueReport};

use super::ctx::PageCtx;
use super::forms::FormData;
use super::render::{FieldErrors, PageError, PageResult, date, page, see_other};
use crate::state::WebState;

fn require_admin(ctx: &PageCtx) -> Result<User, PageError> {
    let user = ctx.require_user()?;
    if !user.is_admin() {
        return Err(ctx.forbidden());
    }
    Ok(user.clone())
}

/// The node's federation; a node without it (unusual: tests, tools) shows a plain error page.
fn federation<'a>(state: &'a WebState, ctx: &PageCtx) -> Result<&'a Federation, PageError> {
    state.federation().ok_or_else(|| {
        ctx.error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "error.internal",
            "admin.no_federation",
        )
    })
}

fn failed(ctx: &PageCtx, e: impl std::fmt::Display) -> PageError {
    ctx.fail(AppError::Internal(e.to_string()))
}

fn when(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.as_ref()
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub struct PeerRow {
    pub domain: String,
    /// This node's follow of it, in words.
    pub status: &'static str,
    /// Its follow of this node, in words.
    pub follows_us: &'static str,
    /// Its follow waits for an admin's answer.
    pub held: bool,
    /// This node follows it (or asked to): it can be unfollowed.
    pub following: bool,
    pub since: String,
    pub last_activity: String,
    pub listings: u64,
    pub backfilling: bool,
}

/// What an admin typed into the peers page's forms, kept when it needs attention.
#[derive(Default)]
pub struct PeersForm {
    pub follow_domain: String,
    pub block_domain: String,
    pub block_reason: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "admin_peers.html")]
struct PeersPage {
    ctx: PageCtx,
    peers: Vec<PeerRow>,
    blocks: Vec<(String, String, String)>,
    f: PeersForm,
    done: Option<&'static str>,
}

async fn peers_page(
    state: &WebState,
    ctx: PageCtx,
    f: PeersForm,
    done: Option<&'static str>,
) -> PageResult {
    require_admin(&ctx)?;
    let fed = federation(state, &ctx)?;
    let t = ctx.t;
    let peers = fed
        .peers()
        .await
        .map_err(|e| failed(&ctx, e))?
        .into_iter()
        .map(|p| PeerRow {
            status: t.named("peer.status", &p.status),
            follows_us: t.named("peer.follows_us", &p.follows_us),
            held: p.follows_us == "pending",
            following: p.status != "none",
            since: p.since.as_ref().map(date).unwrap_or_default(),
            last_activity: when(&p.last_activity_at),
            listings: p.listings,
            backfilling: p.backfilling,
            domain: p.domain,
        })
        .collect();
    let blocks = fed
        .domain_blocks()
        .await
        .map_err(|e| failed(&ctx, e))?
        .into_iter()
        .map(|b| (b.domain, b.reason.unwrap_or_default(), date(&b.created_at)))
        .collect();
    let status = if f.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &PeersPage {
            ctx,
            peers,
            blocks,
            f,
            done,
        },
    ))
}

pub(crate) async fn peers(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let done = query
        .as_deref()
        .and_then(|q| q.strip_prefix("done="))
        .and_then(|code| match code {
            "followed" | "unfollowed" | "accepted" | "rejected" | "blocked" | "unblocked" => {
                Some(ctx.t.named("peer.done", code))
            }
            _ => None,
        });
    peers_page(&state, ctx, PeersForm::default(), done).await
}

/// A peer operation's refusal as a field message in the admin's language.
fn peer_message(ctx: &PageCtx, e: &PeerError) -> Option<String> {
    match e {
        PeerError::Invalid(why) => Some(match why {
            InvalidPeer::NotADomain(raw) => ctx.t.tr1("admin.peer_not_a_domain", raw),
            InvalidPeer::Itself => ctx.t.tr("admin.peer_itself").to_string(),
            InvalidPeer::ActorElsewhere(domain) => ctx.t.tr1("admin.peer_actor_elsewhere", domain),
            InvalidPeer::AnotherActor { domain, .. } => {
                ctx.t.tr1("admin.peer_another_actor", domain)
            }
        }),
        PeerError::Blocked(domain) => Some(ctx.t.tr1("admin.peer_blocked", domain)),
        PeerError::Unreachable(domain, why) => {
            Some(ctx.t.tr2("admin.peer_unreachable", domain, why))
        }
        PeerError::NotFound(_)
        | PeerError::NotPending(_)
        | PeerError::Store(_)
        | PeerError::Federation(_) => None,
    }
}

fn peer_failure(ctx: &PageCtx, e: PeerError) -> PageError {
    match e {
        PeerError::NotFound(_) => ctx.not_found(),
        PeerError::NotPending(_) => ctx.fail(AppError::Conflict(e.to_string())),
        e => failed(ctx, e),
    }
}

pub(crate) async fn follow(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    let domain = form.get("domain");
    match fed.follow_peer(domain).await {
        Ok(_) => Ok(see_other("/admin/peers?done=followed")),
        Err(e) => match peer_message(&ctx, &e) {
            Some(message) => {
                let mut f = PeersForm {
                    follow_domain: domain.into(),
                    ..Default::default()
                };
                f.errors.add("domain", message);
                peers_page(&state, ctx, f, None).await
            }
            None => Err(peer_failure(&ctx, e)),
        },
    }
}

pub(crate) async fn unfollow(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(domain): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    fed.unfollow_peer(&domain)
        .await
        .map_err(|e| peer_failure(&ctx, e))?;
    Ok(see_other("/admin/peers?done=unfollowed"))
}

/// Accepts (`accept=1`) or rejects a node's follow that was held for an admin's answer.
pub(crate) async fn answer(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(domain): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    let accept = form.get("accept") == "1";
    fed.answer_peer(&domain, accept)
        .await
        .map_err(|e| peer_failure(&ctx, e))?;
    Ok(see_other(if accept {
        "/admin/peers?done=accepted"
    } else {
        "/admin/peers?done=rejected"
    }))
}

pub(crate) async fn block(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    let (domain, reason) = (form.get("domain"), form.get("reason").trim());
    let reason = (!reason.is_empty()).then(|| reason.chars().take(1000).collect::<String>());
    match fed.block_domain(domain, reason).await {
        Ok(_) => Ok(see_other("/admin/peers?done=blocked")),
        Err(e) => match peer_message(&ctx, &e) {
            Some(message) => {
                let mut f = PeersForm {
                    block_domain: domain.into(),
                    block_reason: form.get("reason").into(),
                    ..Default::default()
                };
                f.errors.add("block_domain", message);
                peers_page(&state, ctx, f, None).await
            }
            None => Err(peer_failure(&ctx, e)),
        },
    }
}

pub(crate) async fn unblock(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(domain): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    if !fed
        .unblock_domain(&domain)
        .await
        .map_err(|e| peer_failure(&ctx, e))?
    {
        return Err(ctx.not_found());
    }
    Ok(see_other("/admin/peers?done=unblocked"))
}

/// The trust policy form's values: domains one per line.
pub struct PolicyForm {
    pub trusted: String,
    pub ignored: String,
    pub threshold: String,
    pub warnings_dispute: bool,
    pub note: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "admin_trust.html")]
struct TrustPolicyPage {
    ctx: PageCtx,
    f: PolicyForm,
    errors: FieldErrors,
    done: bool,
}

pub(crate) async fn trust_policy(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    require_admin(&ctx)?;
    let policy = state.app().trust_policy().await.map_err(|e| ctx.fail(e))?;
    let f = PolicyForm {
        trusted: policy.trusted.join("\n"),
        ignored: policy.ignored.join("\n"),
        threshold: policy.threshold.to_string(),
        warnings_dispute: policy.warnings_dispute,
        note: String::new(),
        updated: when(&policy.updated_at),
    };
    Ok(page(
        StatusCode::OK,
        &TrustPolicyPage {
            ctx,
            f,
            errors: FieldErrors::default(),
            done: query.as_deref() == Some("done=saved"),
        },
    ))
}

fn lines(raw: &str) -> Vec<String> {
    raw.split(['\n', ',', ' '])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) async fn save_trust_policy(
    State(state): State<WebState>,
    ctx: PageCtx,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let admin = require_admin(&ctx)?;
    let t = ctx.t;
    let f = PolicyForm {
        trusted: form.get("trusted").into(),
        ignored: form.get("ignored").into(),
        threshold: form.get("threshold").into(),
        warnings_dispute: form.has("warnings_dispute"),
        note: form.get("note").into(),
        updated: String::new(),
    };
    let mut errors = FieldErrors::default();
    let threshold = f.threshold.trim().parse::<u32>().unwrap_or_else(|_| {
        errors.add("threshold", t.tr("error.invalid"));
        1
    });
    if errors.is_empty() {
        let input = TrustPolicyInput {
            trusted: lines(&f.trusted),
            ignored: lines(&f.ignored),
            threshold,
            warnings_dispute: f.warnings_dispute,
        };
        match state
            .app()
            .set_trust_policy(Some(&admin), input, Some(&f.note))
            .await
        {
            Ok(_) => return Ok(see_other("/admin/trust?done=saved")),
            Err(AppError::Invalid(v)) => {
                // `trusted[3]` → `trusted`: the form has one field per list.
                errors = FieldErrors::from_validation(t, &v, |p| {
                    Some(p.split('[').next().unwrap_or(p).to_string())
                });
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    Ok(page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &TrustPolicyPage {
            ctx,
            f,
            errors,
            done: false,
        },
    ))
}

pub struct HostRow {
    pub host: String,
    pub pending: u64,
    pub delivered: u64,
    pub rejected: u64,
    pub failed: u64,
    pub oldest_pending: String,
    /// `ok`, `failing` or `unreachable`, and the state in words.
    pub state: &'static str,
    pub state_label: &'static str,
    pub failures: i32,
    pub last_error: String,
    pub last_success: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "admin_queue.html")]
struct QueuePage {
    ctx: PageCtx,
    pending: u64,
    generated: String,
    hosts: Vec<HostRow>,
}

pub(crate) async fn queue(State(state): State<WebState>, ctx: PageCtx) -> PageResult {
    require_admin(&ctx)?;
    let fed = federation(&state, &ctx)?;
    let report: QueueReport = fed.queue_report().await.map_err(|e| failed(&ctx, e))?;
    let t = ctx.t;
    let hosts = report
        .hosts
        .iter()
        .map(|h| {
            let state = if h.unreachable {
                "unreachable"
            } else if h.consecutive_failures > 0 {
                "failing"
            } else {
                "ok"
            };
            HostRow {
                host: h.host.clone(),
                pending: h.pending,
                delivered: h.delivered,
                rejected: h.rejected,
                failed: h.failed,
                oldest_pending: when(&h.oldest_pending_at),
                state,
                state_label: t.named("queue.state", state),
                failures: h.consecutive_failures,
                last_error: h.last_error.clone().unwrap_or_default(),
                last_success: when(&h.last_success_at),
                next: when(if h.unreachable {
                    &h.next_probe_at
                } else {
                    &h.next_attempt_at
                }),
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &QueuePage {
            pending: report.pending,
            generated: when(&Some(report.generated_at)),
            hosts,
            ctx,
        },
    ))
}
