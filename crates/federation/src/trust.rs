//! Trust between nodes: vouches and warnings of this node's collective going out, those of
//! other collectives coming in (only when proven to come from the collective named), and
//! reports passed on to a mirrored listing's origin as a `Flag`.
//!
//! A statement is a `Note` of the node's instance actor (Mastodon followers read it as a post)
//! carrying `trustStatement`, the structured form other Hromada nodes read. Authorship: a
//! statement counts when it was delivered signed by the instance actor of the host its id is
//! on, or fetched from that host. Relays (`Announce`) are never believed as they are: the
//! statement is fetched from its origin. Withdrawals are `Delete`s with a `Tombstone`, and a
//! withdrawn statement's URL answers `410` for ever, so an old copy cannot be replayed.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use hromada_domain::markup::escape;
use hromada_domain::trust::{
    MAX_WITHDRAWAL_REASON, Received, Report, ReportCategory, Reporter, Vouch, VouchBasis,
    VouchInput, Warning, WarningInput, WarningReason,
};
use hromada_domain::{Initiative, ValidationErrors};
use hromada_store::{
    Audience, Change, ChangeKind, FedWrite, FollowerState, LocalActor, NewActivity, Relay,
    RemoteActor, Statements, StoreError, Target, Withdrawal, inbox_host,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fetch::{FetchError, same_origin};
use crate::http::json_error;
use crate::inbox::{id_of, owner_of_local_object, relay_announce};
use crate::network::{IngestError, authority, remote_id};
use crate::urls::PUBLIC;
use crate::{FederationError, Inner, activities, peers};

/// What a reason defaults to when a collective withdraws without saying why.
const NO_REASON: &str = "withdrawn by the collective that issued it";

/// A vouch or a warning.
#[derive(Debug, Clone)]
pub(crate) enum Said {
    Vouch(Vouch),
    Warning(Warning),
}

impl Said {
    fn ap_id(&self) -> &str {
        match self {
            Said::Vouch(v) => &v.ap_id,
            Said::Warning(w) => &w.ap_id,
        }
    }

    fn initiative_id(&self) -> Uuid {
        match self {
            Said::Vouch(v) => v.initiative_id,
            Said::Warning(w) => w.initiative_id,
        }
    }

    fn collective(&self) -> &str {
        match self {
            Said::Vouch(v) => &v.collective,
            Said::Warning(w) => &w.collective,
        }
    }

    fn local(&self) -> bool {
        match self {
            Said::Vouch(v) => v.local,
            Said::Warning(w) => w.local,
        }
    }

    fn statement(&self) -> &str {
        match self {
            Said::Vouch(v) => &v.statement,
            Said::Warning(w) => &w.statement,
        }
    }

    fn created_at(&self) -> DateTime<Utc> {
        match self {
            Said::Vouch(v) => v.created_at,
            Said::Warning(w) => w.created_at,
        }
    }

    fn withdrawn(&self) -> Option<(DateTime<Utc>, Option<&str>)> {
        match self {
            Said::Vouch(v) => v
                .withdrawn_at
                .map(|at| (at, v.withdrawal_reason.as_deref())),
            Said::Warning(w) => w
                .withdrawn_at
                .map(|at| (at, w.withdrawal_reason.as_deref())),
        }
    }

    fn same_claim(&self, other: &Said) -> bool {
        match (self, other) {
            (Said::Vouch(a), Said::Vouch(b)) => {
                a.initiative_id == b.initiative_id
                    && a.statement == b.statement
                    && a.basis == b.basis
            }
            (Said::Warning(a), Said::Warning(b)) => {
                a.initiative_id == b.initiative_id
                    && a.statement == b.statement
                    && a.reason == b.reason
            }
            _ => false,
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Scheme, host and port of a node known by its domain: from the peer row when it is a peer,
/// else https (http only where private networks are allowed, i.e. in development and tests).
async fn node_base(inner: &Inner, domain: &str) -> Result<String, StoreError> {
    if let Some(peer) = inner.fed.peer(domain).await?
        && let Ok(url) = url::Url::parse(&peer.actor_id)
    {
        return Ok(url.origin().ascii_serialization());
    }
    let scheme = if inner.settings.allow_private_networks {
        "http"
    } else {
        "https"
    };
    Ok(format!("{scheme}://{domain}"))
}

/// The actor URL of an initiative, local or mirrored.
async fn initiative_url(inner: &Inner, i: &Initiative) -> Result<String, StoreError> {
    Ok(match &i.origin {
        None => inner.urls.actor(i.handle.as_str()),
        Some(domain) => format!(
            "{}/initiatives/{}",
            node_base(inner, domain).await?,
            i.handle
        ),
    })
}

/// The initiative an actor URL names: one of ours, or a listing mirrored from its origin.
async fn initiative_named(inner: &Inner, url: &str) -> Result<Option<Initiative>, StoreError> {
    if let Some(handle) = inner.urls.handle_of_actor(url) {
        return Ok(inner
            .store
            .initiative_by_handle(handle, None)
            .await?
            .filter(|i| i.status.is_public()));
    }
    if inner.urls.is_local(url) {
        return Ok(None);
    }
    Ok(inner
        .store
        .initiative_by_id(remote_id(url))
        .await?
        .filter(|i| i.origin.is_some() && i.origin == authority(url) && i.status.is_public()))
}

// ---- the documents ----

/// Who speaks in a statement's `Note`: the collective's instance actor and its name.
struct Speaker<'a> {
    actor: &'a str,
    name: &'a str,
}

/// The `Note` of a statement, with `trustStatement` for Hromada nodes.
fn statement_note(
    speaker: Speaker<'_>,
    said: &Said,
    initiative: &Initiative,
    initiative_url: &str,
) -> Value {
    let me = speaker.actor;
    let node = escape(speaker.name);
    let link = format!(
        r#"<a href="{initiative_url}">{}</a>"#,
        escape(&initiative.name)
    );
    let (headline, extension) = match said {
        Said::Vouch(v) => (
            format!(
                "<p>{node} vouches for {link} ({}).</p>",
                escape(v.basis.describe())
            ),
            json!({"type": "Vouch", "basis": v.basis.code()}),
        ),
        Said::Warning(w) => (
            format!(
                "<p>{node} warns about {link} ({}).</p>",
                escape(w.reason.describe())
            ),
            json!({"type": "Warning", "reason": w.reason.code()}),
        ),
    };
    let mut extension = extension;
    extension["initiative"] = json!(initiative_url);
    extension["collective"] = json!(said.collective());
    extension["statement"] = json!(said.statement());
    extension["published"] = json!(rfc3339(said.created_at()));
    json!({
        "id": said.ap_id(),
        "type": "Note",
        "attributedTo": me,
        "to": [PUBLIC],
        "cc": [format!("{me}/followers")],
        "published": rfc3339(said.created_at()),
        "content": format!("{headline}<p>{}</p>", escape(said.statement())),
        "trustStatement": extension,
    })
}

/// The `Note` of one of this node's statements.
fn own_note(inner: &Inner, said: &Said, initiative: &Initiative, initiative_url: &str) -> Value {
    let actor = inner.urls.instance_actor();
    let speaker = Speaker {
        actor: &actor,
        name: &inner.settings.node_name,
    };
    statement_note(speaker, said, initiative, initiative_url)
}

/// This node's standing vouches and warnings among `all` (those about one of its listings), as
/// their `Note`s: a node that starts following this one later learns them with the listing
/// (backfill), not only those made after it followed.
pub(crate) async fn own_statements_about(
    inner: &Inner,
    initiative: &Initiative,
    all: Statements,
) -> Result<Vec<Value>, StoreError> {
    let said = all
        .vouches
        .into_iter()
        .map(Said::Vouch)
        .chain(all.warnings.into_iter().map(Said::Warning))
        .filter(|s| s.local() && s.withdrawn().is_none());
    let url = initiative_url(inner, initiative).await?;
    Ok(said
        .map(|s| own_note(inner, &s, initiative, &url))
        .collect())
}

/// Takes in a statement that came on a backfill page of `peer` (with a listing of its directory,
/// or on its `/statements`), fetched from `page_url` (its host's own word, as for a fetched
/// statement), and relays it when it is new here, as one that was delivered.
pub(crate) async fn take_backfilled(
    inner: &Inner,
    doc: &Value,
    page_url: &str,
    peer: &str,
) -> Result<(), TrustError> {
    let Some(standing) = ingest(inner, doc, Source::Fetched(page_url), Unknown::Ignore).await?
    else {
        return Ok(());
    };
    if standing.changed {
        let mut write = FedWrite::default();
        relay(inner, &standing, peer, &mut write).await?;
        if !write.relays.is_empty() {
            inner.fed.apply(&write).await?;
            inner.queued.notify_one();
        }
    }
    Ok(())
}

/// What a withdrawn statement's URL answers (with 410), and what its `Delete` carries.
fn tombstone(said: &Said) -> Value {
    let (at, reason) = said.withdrawn().unwrap_or((Utc::now(), None));
    json!({
        "id": said.ap_id(),
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": rfc3339(at),
        "withdrawalReason": reason.unwrap_or(NO_REASON),
    })
}

/// `GET /vouches/{id}` and `/warnings/{id}`: this node's own statements; 410 once withdrawn.
pub(crate) async fn serve(inner: &Inner, kind: &str, raw: &str) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return json_error(StatusCode::NOT_FOUND, "no such object");
    };
    let found = match kind {
        "vouches" => inner
            .store
            .vouch_by_id(id)
            .await
            .map(|v| v.map(Said::Vouch)),
        _ => inner
            .store
            .warning_by_id(id)
            .await
            .map(|w| w.map(Said::Warning)),
    };
    let said = match found {
        Ok(Some(s)) if s.local() => s,
        Ok(Some(_)) => return json_error(StatusCode::NOT_FOUND, "no such object"),
        // Gone with the initiative it was about.
        Ok(None) => {
            let url = format!("{}/{kind}/{id}", inner.urls.base());
            return crate::http::missing_object(inner, id, url, "Note").await;
        }
        Err(e) => return unavailable(e),
    };
    if said.withdrawn().is_some() {
        return crate::http::ap_json(
            StatusCode::GONE,
            &activities::with_context(tombstone(&said)),
        );
    }
    let initiative = match inner.store.initiative_by_id(said.initiative_id()).await {
        Ok(Some(i)) => i,
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "no such object"),
        Err(e) => return unavailable(e),
    };
    match initiative_url(inner, &initiative).await {
        Ok(url) => crate::http::ap_json(
            StatusCode::OK,
            &activities::with_context(own_note(inner, &said, &initiative, &url)),
        ),
        Err(e) => unavailable(e),
    }
}

// ---- sending ----

/// Whether a change is one this module publishes.
pub(crate) fn is_trust_change(kind: ChangeKind) -> bool {
    matches!(
        kind,
        ChangeKind::VouchIssued
            | ChangeKind::VouchWithdrawn
            | ChangeKind::WarningIssued
            | ChangeKind::WarningWithdrawn
            | ChangeKind::ReportFiled
    )
}

/// Adds to `write` what a trust change means for other servers.
pub(crate) async fn plan(
    inner: &Inner,
    change: &Change,
    write: &mut FedWrite,
) -> Result<(), FederationError> {
    let said = match change.kind {
        ChangeKind::VouchIssued | ChangeKind::VouchWithdrawn => inner
            .store
            .vouch_by_id(change.entity_id)
            .await?
            .map(Said::Vouch),
        ChangeKind::WarningIssued | ChangeKind::WarningWithdrawn => inner
            .store
            .warning_by_id(change.entity_id)
            .await?
            .map(Said::Warning),
        ChangeKind::ReportFiled => return plan_flag(inner, change, write).await,
        _ => return Ok(()),
    };
    let Some(said) = said.filter(Said::local) else {
        return Ok(());
    };
    let Some(initiative) = inner.store.initiative_by_id(said.initiative_id()).await? else {
        return Ok(());
    };
    let targets = statement_targets(inner, &initiative).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let me = inner.urls.instance_actor();
    let followers = format!("{me}/followers");
    let body = match change.kind {
        ChangeKind::VouchIssued | ChangeKind::WarningIssued => {
            let url = initiative_url(inner, &initiative).await?;
            activities::create(&me, &followers, own_note(inner, &said, &initiative, &url))
        }
        _ if said.withdrawn().is_some() => activities::with_context(json!({
            "id": format!("{}#delete", said.ap_id()),
            "type": "Delete",
            "actor": me,
            "to": [PUBLIC],
            "cc": [followers],
            "object": tombstone(&said),
        })),
        _ => return Ok(()),
    };
    write.activities.push(NewActivity {
        activity_id: body["id"].as_str().unwrap_or_default().to_string(),
        actor: LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Inboxes(targets),
    });
    Ok(())
}

/// Where this node's statements go: peers that follow it, fediverse accounts following its
/// instance actor, and the initiative's origin node when it is remote; once per inbox.
async fn statement_targets(
    inner: &Inner,
    initiative: &Initiative,
) -> Result<Vec<Target>, StoreError> {
    let mut targets = peers::peer_targets(inner, &[]).await?;
    let mut add = |inbox: &str| {
        if !targets.iter().any(|t| t.inbox == inbox) {
            targets.push(Target {
                host: inbox_host(inbox),
                inbox: inbox.to_string(),
            });
        }
    };
    const PAGE: u32 = 500;
    let mut offset = 0;
    loop {
        let page = inner
            .fed
            .followers(LocalActor::Instance, PAGE, offset)
            .await?;
        for f in page.iter().filter(|f| f.state == FollowerState::Accepted) {
            add(f.delivery_inbox());
        }
        if page.len() < PAGE as usize {
            break;
        }
        offset += PAGE;
    }
    if let Some(origin) = &initiative.origin {
        add(&origin_inbox(inner, origin).await?);
    }
    Ok(targets)
}

/// The inbox of a Hromada node by domain: the peer's when known, else its shared inbox.
async fn origin_inbox(inner: &Inner, domain: &str) -> Result<String, StoreError> {
    if let Some(peer) = inner.fed.peer(domain).await? {
        return Ok(peer.inbox);
    }
    Ok(format!("{}/inbox", node_base(inner, domain).await?))
}

/// A report filed here about a mirrored listing goes to its origin as a `Flag` of the
/// instance actor: Mastodon's shape, and nothing about who reported.
async fn plan_flag(
    inner: &Inner,
    change: &Change,
    write: &mut FedWrite,
) -> Result<(), FederationError> {
    let Some(report) = inner.store.report_by_id(change.entity_id).await? else {
        return Ok(());
    };
    if matches!(report.reporter, Reporter::Remote { .. }) {
        return Ok(());
    }
    let Some(initiative) = inner.store.initiative_by_id(report.initiative_id).await? else {
        return Ok(());
    };
    let Some(origin) = &initiative.origin else {
        return Ok(());
    };
    let reported = initiative_url(inner, &initiative).await?;
    let me = inner.urls.instance_actor();
    let id = format!("{me}#flags/{}", report.id);
    let body = activities::with_context(json!({
        "id": id,
        "type": "Flag",
        "actor": me,
        "to": [reported],
        "object": [reported],
        "content": report.reason,
        "reportCategory": report.category.code(),
    }));
    let inbox = origin_inbox(inner, origin).await?;
    write.activities.push(NewActivity {
        activity_id: id,
        actor: LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Inboxes(vec![Target {
            host: inbox_host(&inbox),
            inbox,
        }]),
    });
    Ok(())
}

// ---- receiving ----

#[derive(Debug, thiserror::Error)]
pub(crate) enum TrustError {
    /// Not proven to come from the collective it names.
    #[error("refused: {0}")]
    Forged(String),
    /// An old statement sent again after its withdrawal.
    #[error("refused: {0}")]
    Replayed(String),
    #[error("invalid statement: {0}")]
    Invalid(String),
    /// About an initiative that has not arrived here yet.
    #[error("{0} is not here yet; try again later")]
    NotYet(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "trust federation failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
}

fn refused(e: TrustError) -> Response {
    match e {
        TrustError::Forged(_) => {
            tracing::info!(reason = %e, "refused a trust statement");
            json_error(StatusCode::FORBIDDEN, &e.to_string())
        }
        TrustError::Replayed(_) => {
            tracing::info!(reason = %e, "refused a replayed trust statement");
            json_error(StatusCode::CONFLICT, &e.to_string())
        }
        TrustError::Invalid(_) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
        // Asking the origin again would get the same answer (404, 401, not ActivityPub…).
        TrustError::Fetch(e) if e.is_final() => json_error(
            StatusCode::FORBIDDEN,
            &format!("refused: its origin does not serve it ({e})"),
        ),
        TrustError::NotYet(_) => {
            tracing::info!(reason = %e, "a trust statement came before its initiative");
            json_error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())
        }
        e => unavailable(e),
    }
}

/// How a statement reached us: the proof of its authorship.
enum Source<'a> {
    /// Delivered, signed by this actor (verified by the inbox).
    Signed(&'a RemoteActor),
    /// Fetched from this URL (the statement's own id).
    Fetched(&'a str),
}

impl Source<'_> {
    fn url(&self) -> &str {
        match self {
            Source::Signed(a) => &a.id,
            Source::Fetched(u) => u,
        }
    }
}

/// Vouches, warnings, their withdrawals and relays, and reports; `None` when the activity is
/// none of these (the inbox handles it as usual).
pub(crate) async fn receive(
    inner: &Inner,
    kind: &str,
    activity: &Value,
    actor: &RemoteActor,
) -> Result<Option<FedWrite>, Response> {
    let object = activity.get("object");
    let carries_statement =
        |o: Option<&Value>| o.is_some_and(|o| o.get("trustStatement").is_some());
    let standing = match kind {
        "Create" if carries_statement(object) => {
            let Some(doc) = object else {
                return Ok(None);
            };
            let about = doc
                .get("trustStatement")
                .and_then(|e| e.get("initiative"))
                .and_then(Value::as_str);
            let unknown = match about {
                // Asked of its node just now: known, or not served there.
                Some(initiative) if fetch_if_followed(inner, initiative).await? => Unknown::Ignore,
                // About the sender's own listing, of a node this one does not follow: the
                // listing may still come relayed by a peer.
                Some(initiative) if same_origin(initiative, &actor.id) => Unknown::Wait,
                _ => Unknown::Ignore,
            };
            ingest(inner, doc, Source::Signed(actor), unknown)
                .await
                .map_err(refused)?
        }
        "Delete" => {
            let Some(object_id) = id_of(object) else {
                return Ok(None);
            };
            let Some(said) = stored(inner, object_id).await.map_err(unavailable)? else {
                return Ok(None);
            };
            withdraw_signed(inner, said, object, actor)
                .await
                .map_err(refused)?
        }
        "Announce" => {
            let Some(object_id) = id_of(object) else {
                return Ok(None);
            };
            let known = stored(inner, object_id).await.map_err(unavailable)?;
            if known.is_none() && !carries_statement(object) {
                return Ok(None);
            }
            if !accepts_relays_from(inner, actor)
                .await
                .map_err(unavailable)?
            {
                return Ok(Some(FedWrite::default()));
            }
            // Whatever the relay embeds, only what the origin serves counts.
            fetch_from_origin(inner, object_id, known)
                .await
                .map_err(refused)?
        }
        _ => return Ok(None),
    };
    let mut write = FedWrite::default();
    if let Some(standing) = standing {
        let from = authority(&actor.id).unwrap_or_default();
        relay(inner, &standing, &from, &mut write)
            .await
            .map_err(unavailable)?;
    }
    Ok(Some(write))
}

/// A statement stored here under this ActivityPub id.
async fn stored(inner: &Inner, ap_id: &str) -> Result<Option<Said>, StoreError> {
    if let Some(v) = inner.store.vouch_by_ap_id(ap_id).await? {
        return Ok(Some(Said::Vouch(v)));
    }
    Ok(inner
        .store
        .warning_by_ap_id(ap_id)
        .await?
        .map(Said::Warning))
}

/// Relays are taken from peers this node follows, unless an admin refused that peer's relays.
async fn accepts_relays_from(inner: &Inner, actor: &RemoteActor) -> Result<bool, StoreError> {
    let Some(domain) = authority(&actor.id) else {
        return Ok(false);
    };
    Ok(match inner.fed.peer(&domain).await? {
        Some(p) => {
            p.actor_id == actor.id
                && p.outgoing == Some(hromada_store::PeerState::Accepted)
                && !p.refuse_relayed
        }
        None => false,
    })
}

/// Whether an actor is a node's instance actor (the collective's voice), not an account on it.
async fn is_instance_actor(inner: &Inner, actor_id: &str) -> Result<bool, TrustError> {
    let cached = inner.fed.remote_actor(actor_id).await?;
    let actor = match cached {
        Some(a) => a,
        None => {
            let a = inner.fetcher.actor(actor_id).await?;
            if a.id != actor_id {
                return Ok(false);
            }
            inner.fed.save_remote_actor(&a).await?;
            a
        }
    };
    Ok(actor.kind == "Application")
}

/// Where a statement stands here after an activity about it: what is relayed further.
struct Standing {
    said: Said,
    withdrawn: bool,
    /// This activity stated or withdrew it here.
    changed: bool,
}

/// A statement about a listing this node does not have, of a node it follows: the listing's own
/// delivery may be late, lost, or on its way beside the statement's, so it is fetched from its
/// node now, as the initiative of an unknown item is. `true` when it was asked for (and is here
/// now, or is not served there); only a failure that may pass is an error (the sender tries
/// again).
async fn fetch_if_followed(inner: &Inner, url: &str) -> Result<bool, Response> {
    let Some(domain) = authority(url) else {
        return Ok(false);
    };
    let followed = inner
        .fed
        .peer(&domain)
        .await
        .map_err(unavailable)?
        .is_some_and(|p| p.outgoing == Some(hromada_store::PeerState::Accepted));
    if !followed {
        return Ok(false);
    }
    // Nothing is taken from a blocked domain, whatever the row of its follow still says.
    if peers::is_blocked(inner, &domain)
        .await
        .map_err(unavailable)?
    {
        return Ok(true);
    }
    if initiative_named(inner, url)
        .await
        .map_err(unavailable)?
        .is_some()
    {
        return Ok(true);
    }
    match crate::network::fetch_listing(inner, url).await {
        Ok(_) => Ok(true),
        Err(IngestError::Store(e)) => Err(unavailable(e)),
        Err(IngestError::Fetch(e)) if !e.is_final() => Err(unavailable(e)),
        Err(e) => {
            tracing::info!(listing = %url, error = %e, "a statement's listing is not served by its node");
            Ok(true)
        }
    }
}

/// What to do with a statement about an initiative this node does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unknown {
    /// Nothing to show it with: not kept.
    Ignore,
    /// The initiative is on its way (its listing and the statement travel separately, and may
    /// arrive in either order): refused with [`TrustError::NotYet`], so the sender tries again.
    Wait,
}

/// Takes in a statement from `source`. `None` when it is not kept here (one of ours, or about
/// an initiative this node does not know and `unknown` says to ignore).
async fn ingest(
    inner: &Inner,
    doc: &Value,
    source: Source<'_>,
    unknown: Unknown,
) -> Result<Option<Standing>, TrustError> {
    let id = id_of(Some(doc)).ok_or_else(|| TrustError::Invalid("no id".into()))?;
    if inner.urls.is_local(id) {
        // Our own statement coming back through a relay.
        return Ok(None);
    }
    if !same_origin(id, source.url()) {
        return Err(TrustError::Forged(format!(
            "{id} was not sent by its own host ({})",
            source.url()
        )));
    }
    let collective = authority(id).ok_or_else(|| TrustError::Invalid("id is not a URL".into()))?;
    let author = id_of(doc.get("attributedTo"))
        .ok_or_else(|| TrustError::Invalid("no attributedTo".into()))?;
    let author_ok = match &source {
        Source::Signed(actor) => author == actor.id && actor.kind == "Application",
        Source::Fetched(_) => same_origin(author, id) && is_instance_actor(inner, author).await?,
    };
    if !author_ok {
        return Err(TrustError::Forged(format!(
            "{id} is not attributed to the instance actor of {collective}"
        )));
    }
    let ext = doc
        .get("trustStatement")
        .filter(|e| e.is_object())
        .ok_or_else(|| TrustError::Invalid("no trustStatement".into()))?;
    if let Some(claimed) = ext.get("collective")
        && claimed.as_str() != Some(collective.as_str())
    {
        return Err(TrustError::Forged(format!(
            "{id} claims the collective {claimed}, but comes from {collective}"
        )));
    }
    let text = |key: &str| ext.get(key).and_then(Value::as_str).unwrap_or_default();
    let Some(initiative) = initiative_named(inner, text("initiative")).await? else {
        return match unknown {
            Unknown::Ignore => Ok(None),
            Unknown::Wait => Err(TrustError::NotYet(text("initiative").to_string())),
        };
    };
    let now = Utc::now();
    let at = ext
        .get("published")
        .or_else(|| doc.get("published"))
        .and_then(Value::as_str)
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&Utc).min(now))
        .unwrap_or(now);
    let received = Received {
        id: remote_id(id),
        ap_id: id.to_string(),
        initiative_id: initiative.id,
        collective: &collective,
        at,
    };
    let invalid = |e: ValidationErrors| TrustError::Invalid(e.summary());
    let said = match text("type") {
        "Vouch" => {
            let basis = VouchBasis::from_code(text("basis"))
                .ok_or_else(|| TrustError::Invalid(format!("unknown basis {:?}", text("basis"))))?;
            let input = VouchInput {
                statement: text("statement").to_string(),
                basis,
            };
            Said::Vouch(Vouch::received(received, input).map_err(invalid)?)
        }
        "Warning" => {
            let reason = WarningReason::from_code(text("reason")).ok_or_else(|| {
                TrustError::Invalid(format!("unknown reason {:?}", text("reason")))
            })?;
            let input = WarningInput {
                statement: text("statement").to_string(),
                reason,
            };
            Said::Warning(Warning::received(received, input).map_err(invalid)?)
        }
        other => {
            return Err(TrustError::Invalid(format!(
                "unknown statement type {other:?}"
            )));
        }
    };
    if let Some(old) = stored(inner, id).await? {
        return match old.withdrawn() {
            Some(_) => Err(TrustError::Replayed(format!("{id} was withdrawn"))),
            None if old.same_claim(&said) => Ok(Some(Standing {
                said: old,
                withdrawn: false,
                changed: false,
            })),
            None => Err(TrustError::Forged(format!(
                "{id} differs from the statement stored under that id"
            ))),
        };
    }
    let inserted = match &said {
        Said::Vouch(v) => inner.store.insert_vouch(v, None).await,
        Said::Warning(w) => inner.store.insert_warning(w, None).await,
    };
    let changed = match inserted {
        Ok(level) => {
            tracing::info!(statement = %id, collective = %collective, status = level.code(), "trust statement received");
            true
        }
        // Received twice at once: the other delivery stored it.
        Err(StoreError::Conflict(_)) => false,
        Err(e) => return Err(e.into()),
    };
    Ok(Some(Standing {
        said,
        withdrawn: false,
        changed,
    }))
}

/// A `Delete` of a stored statement, signed by its collective's instance actor.
async fn withdraw_signed(
    inner: &Inner,
    said: Said,
    object: Option<&Value>,
    actor: &RemoteActor,
) -> Result<Option<Standing>, TrustError> {
    if said.local()
        || !same_origin(said.ap_id(), &actor.id)
        || authority(&actor.id).as_deref() != Some(said.collective())
        || actor.kind != "Application"
    {
        return Err(TrustError::Forged(format!(
            "only {} can withdraw {}",
            said.collective(),
            said.ap_id()
        )));
    }
    let reason = object
        .and_then(|o| o.get("withdrawalReason"))
        .and_then(Value::as_str);
    let at = object
        .and_then(|o| o.get("deleted"))
        .and_then(Value::as_str)
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&Utc).min(Utc::now()));
    withdraw(inner, said, reason, at).await
}

/// Marks a received statement withdrawn (unless it already was).
async fn withdraw(
    inner: &Inner,
    said: Said,
    reason: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> Result<Option<Standing>, TrustError> {
    let withdrawn = |said, changed| {
        Ok(Some(Standing {
            said,
            withdrawn: true,
            changed,
        }))
    };
    if said.withdrawn().is_some() {
        return withdrawn(said, false);
    }
    let reason: String = reason
        .unwrap_or(NO_REASON)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_WITHDRAWAL_REASON)
        .collect();
    let reason = match reason.trim() {
        "" => NO_REASON.to_string(),
        r => r.to_string(),
    };
    let withdrawal = Withdrawal {
        at: at.unwrap_or_else(Utc::now),
        reason,
    };
    let result = match &said {
        Said::Vouch(v) => inner.store.withdraw_vouch(v.id, &withdrawal, None).await,
        Said::Warning(w) => inner.store.withdraw_warning(w.id, &withdrawal, None).await,
    };
    match result {
        Ok(level) => {
            tracing::info!(statement = %said.ap_id(), status = level.code(), "trust statement withdrawn");
            withdrawn(said, true)
        }
        Err(StoreError::Conflict(_)) => withdrawn(said, false),
        Err(e) => Err(e.into()),
    }
}

/// Verifies a relayed statement at its origin: what it serves is taken; 410 there means
/// withdrawn.
async fn fetch_from_origin(
    inner: &Inner,
    object_id: &str,
    known: Option<Said>,
) -> Result<Option<Standing>, TrustError> {
    if inner.urls.is_local(object_id) {
        return Ok(None);
    }
    if let Some(origin) = authority(object_id)
        && peers::is_blocked(inner, &origin)
            .await
            .map_err(|e| match e {
                peers::PeerError::Store(s) => TrustError::Store(s),
                other => TrustError::Invalid(other.to_string()),
            })?
    {
        return Ok(None);
    }
    match inner.fetcher.get(object_id).await {
        Ok(fetched) => {
            if fetched.url.as_str() != object_id || id_of(Some(&fetched.json)) != Some(object_id) {
                return Err(TrustError::Forged(format!(
                    "{object_id} answered with another id"
                )));
            }
            // The relaying peer keeps only statements about listings it has, and relays those
            // too: one not here yet is on its way.
            ingest(
                inner,
                &fetched.json,
                Source::Fetched(object_id),
                Unknown::Wait,
            )
            .await
        }
        Err(FetchError::Gone(_)) => match known {
            Some(said) => withdraw(inner, said, None, None).await,
            None => Ok(None),
        },
        Err(e) => Err(e.into()),
    }
}

/// Passes a statement (or its withdrawal) on to the peers that follow this node, except the
/// one it came from and its origin. Receivers verify it at the origin. Like listings, each
/// state of a statement is relayed once, also when its relay could only be queued on the
/// sender's retry (see `inbox::relay`).
async fn relay(
    inner: &Inner,
    standing: &Standing,
    from: &str,
    write: &mut FedWrite,
) -> Result<(), StoreError> {
    let said = &standing.said;
    if !inner.settings.relay {
        return Ok(());
    }
    let targets = peers::peer_targets(inner, &[from, said.collective()]).await?;
    if targets.is_empty() {
        return Ok(());
    }
    // The receiver does not know a new statement yet, so it is embedded to say what it is.
    let object = if standing.withdrawn {
        json!(said.ap_id())
    } else {
        let Some(initiative) = inner.store.initiative_by_id(said.initiative_id()).await? else {
            return Ok(());
        };
        let url = initiative_url(inner, &initiative).await?;
        let actor = format!("{}/actor", node_base(inner, said.collective()).await?);
        let speaker = Speaker {
            actor: &actor,
            name: said.collective(),
        };
        statement_note(speaker, said, &initiative, &url)
    };
    let (version, only_after_another) = if standing.withdrawn {
        ("withdrawn", !standing.changed)
    } else {
        ("stated", false)
    };
    write.relays.push(Relay {
        object_url: said.ap_id().to_string(),
        version: version.to_string(),
        only_after_another,
        activity: relay_announce(inner, object, targets),
    });
    Ok(())
}

// ---- reports ----

/// A `Flag` naming one of our initiatives (its actor, or one of its posts) becomes a report
/// for this node's moderators. `None` when it names none of them.
pub(crate) async fn flag_report(
    inner: &Inner,
    activity_id: &str,
    activity: &Value,
    actor: &RemoteActor,
    objects: &[String],
) -> Result<Option<FedWrite>, Response> {
    let mut initiative_id = None;
    let ours = objects.iter().filter(|o| inner.urls.is_local(o));
    for object in ours.take(crate::inbox::MAX_LOCAL_LOOKUPS) {
        if let Some(handle) = inner.urls.handle_of_actor(object) {
            if let Some(i) = inner
                .store
                .initiative_by_handle(handle, None)
                .await
                .map_err(unavailable)?
            {
                initiative_id = Some(i.id);
                break;
            }
        } else if let Some(owner) = owner_of_local_object(inner, object)
            .await
            .map_err(unavailable)?
        {
            initiative_id = Some(owner);
            break;
        }
    }
    let Some(initiative_id) = initiative_id else {
        return Ok(None);
    };
    let category = activity
        .get("reportCategory")
        .and_then(Value::as_str)
        .and_then(ReportCategory::from_code)
        .unwrap_or(ReportCategory::Other);
    let comment = activity
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let report = Report::received(
        Uuid::now_v7(),
        initiative_id,
        &actor.id,
        category,
        comment,
        activity_id,
        Utc::now(),
    );
    match inner.store.insert_report(&report).await {
        // A repeated Flag: its activity id is taken.
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(unavailable(e)),
    }
    tracing::info!(activity = %activity_id, category = category.code(), "report received");
    Ok(Some(FedWrite::default()))
}
