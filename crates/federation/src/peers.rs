//! Peering: this node's instance actor following another node's (and being followed), the
//! admins' peer list, and defederation (blocks, purges, block-list import).
//!
//! A node follow is a `Follow` between instance actors carrying `"peering": true`, so it is
//! told apart from a fediverse account following the instance actor (which gets posts about
//! new initiatives, not directory data).

use chrono::{DateTime, Utc};
use hromada_store::{
    Audience, DomainBlock, FedWrite, NewActivity, Peer, PeerState, PeerUpdate, StoreError, Target,
    host_matches_domain, inbox_host,
};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

use crate::fetch::{FetchError, same_origin};
use crate::network::authority;
use crate::{Inner, activities};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error(transparent)]
    Invalid(#[from] InvalidPeer),
    #[error("{0} is blocked; unblock it first")]
    Blocked(String),
    #[error("no such peer: {0}")]
    NotFound(String),
    #[error("{0} has no follow of this node waiting for approval")]
    NotPending(String),
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, String),
    #[error(transparent)]
    Store(#[from] hromada_store::StoreError),
    #[error(transparent)]
    Federation(#[from] crate::FederationError),
}

/// Why a domain cannot be a peer, typed so that each edge says it in its own words.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InvalidPeer {
    #[error("`{0}` is not a domain (host, with :port where it has one)")]
    NotADomain(String),
    #[error("a node cannot follow itself")]
    Itself,
    #[error("{0}'s instance actor is on another host")]
    ActorElsewhere(String),
    #[error("{domain} peers with this node as {known}, not as {actor}")]
    AnotherActor {
        domain: String,
        known: String,
        actor: String,
    },
}

/// A peer as admins see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerView {
    /// `host` or `host:port`.
    pub domain: String,
    /// This node's follow of the peer: `pending`, `accepted`, `rejected`, `unreachable`
    /// (accepted or pending, but deliveries to it keep failing), or `none`.
    pub status: String,
    /// The peer's follow of this node: `pending` (held for approval), `accepted` or `none`.
    pub follows_us: String,
    /// When this node's follow (or else the peer's) began.
    pub since: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Listings mirrored here whose origin is the peer.
    pub listings: u64,
    /// Whether listings it relays from third nodes are refused.
    pub refuse_relayed: bool,
    /// Whether its existing listings are still being pulled in.
    pub backfilling: bool,
}

/// Splits what an admin typed (`node.example`, `localhost:8081`, `https://node.example/`) into
/// the scheme to use and the domain.
pub(crate) fn parse_domain(raw: &str, allow_http: bool) -> Result<(String, String), PeerError> {
    let raw = raw.trim().trim_end_matches('/');
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else if allow_http {
        format!("http://{raw}")
    } else {
        format!("https://{raw}")
    };
    let not_a_domain = || InvalidPeer::NotADomain(raw.to_string());
    let url = Url::parse(&with_scheme).map_err(|_| not_a_domain())?;
    if !matches!(url.scheme(), "http" | "https") || url.path() != "/" || url.query().is_some() {
        return Err(not_a_domain().into());
    }
    let domain = authority(url.as_str()).ok_or_else(not_a_domain)?;
    Ok((url.scheme().to_string(), domain))
}

pub(crate) async fn is_blocked(inner: &Inner, host: &str) -> Result<bool, PeerError> {
    Ok(inner
        .fed
        .domain_blocks()
        .await?
        .iter()
        .any(|b| host_matches_domain(host, &b.domain)))
}

/// Queues `body`, sent by the instance actor, to one inbox with the rest of `write`.
fn queue(write: &mut FedWrite, body: Value, inbox: &str) {
    write.activities.push(NewActivity {
        activity_id: body["id"].as_str().unwrap_or_default().to_string(),
        actor: hromada_store::LocalActor::Instance,
        body: body.to_string(),
        audience: Audience::Inboxes(vec![Target {
            host: inbox_host(inbox),
            inbox: inbox.to_string(),
        }]),
    });
}

/// Follows another node: finds its instance actor (NodeInfo, then WebFinger) and sends a
/// `Follow` through the durable queue.
pub(crate) async fn follow(inner: &Inner, raw: &str) -> Result<PeerView, PeerError> {
    let (scheme, domain) = parse_domain(raw, inner.settings.allow_private_networks)?;
    if domain == inner.urls.authority() {
        return Err(InvalidPeer::Itself.into());
    }
    if is_blocked(inner, &domain).await? {
        return Err(PeerError::Blocked(domain));
    }
    let base = format!("{scheme}://{domain}");
    let actor_url = discover(inner, &base)
        .await
        .map_err(|e| PeerError::Unreachable(domain.clone(), e))?;
    let actor = inner
        .fetcher
        .actor(&actor_url)
        .await
        .map_err(|e| PeerError::Unreachable(domain.clone(), e.to_string()))?;
    if authority(&actor.id).as_deref() != Some(domain.as_str()) {
        return Err(InvalidPeer::ActorElsewhere(domain).into());
    }
    inner.fed.save_remote_actor(&actor).await?;
    let inbox = actor.shared_inbox.clone().unwrap_or(actor.inbox.clone());
    let me = inner.urls.instance_actor();
    let follow_id = format!("{me}#follows/{}", Uuid::new_v4());
    let body = activities::with_context(json!({
        "id": follow_id,
        "type": "Follow",
        "actor": me,
        "object": actor.id,
        "peering": true,
    }));
    let mut write = FedWrite::default();
    queue(&mut write, body, &inbox);
    inner
        .fed
        .insert_peer(&Peer::new(&domain, &actor.id, &inbox))
        .await?;
    let update = PeerUpdate {
        actor_id: Some(actor.id.clone()),
        inbox: Some(inbox.clone()),
        outgoing: Some(Some(PeerState::Pending)),
        outgoing_follow_id: Some(Some(follow_id)),
        outgoing_since: Some(Some(Utc::now())),
        ..Default::default()
    };
    inner.fed.update_peer(&domain, &update).await?;
    inner.fed.apply(&write).await?;
    inner.queued.notify_one();
    tracing::info!(%domain, "following a node");
    view_of(inner, &domain).await
}

/// The instance actor of the node at `base`: NodeInfo's FEP-2677 link, else WebFinger.
async fn discover(inner: &Inner, base: &str) -> Result<String, String> {
    let nodeinfo = inner
        .fetcher
        .get_json(&format!("{base}/.well-known/nodeinfo"))
        .await;
    if let Ok(doc) = &nodeinfo
        && let Some(links) = doc.json.get("links").and_then(Value::as_array)
        && let Some(href) = links
            .iter()
            .find(|l| {
                l.get("rel").and_then(Value::as_str)
                    == Some("https://www.w3.org/ns/activitystreams#Application")
            })
            .and_then(|l| l.get("href").and_then(Value::as_str))
        && same_origin(href, base)
    {
        return Ok(href.to_string());
    }
    let host = authority(base).unwrap_or_default();
    let wf = format!(
        "{base}/.well-known/webfinger?resource=acct:{}@{host}",
        crate::urls::INSTANCE_USERNAME
    );
    let doc = inner
        .fetcher
        .get_json(&wf)
        .await
        .map_err(|e: FetchError| match nodeinfo {
            Err(first) => format!("{first}; {e}"),
            Ok(_) => e.to_string(),
        })?;
    doc.json
        .get("links")
        .and_then(Value::as_array)
        .and_then(|links| {
            links.iter().find(|l| {
                l.get("rel").and_then(Value::as_str) == Some("self")
                    && l.get("href").and_then(Value::as_str).is_some()
            })
        })
        .and_then(|l| l.get("href").and_then(Value::as_str))
        .filter(|href| same_origin(href, base))
        .map(String::from)
        .ok_or_else(|| "no instance actor found (NodeInfo or WebFinger)".to_string())
}

/// Stops following a node (`Undo` of the follow) and removes the mirrored listings that came
/// only through it (its own, and those it relayed, unless another followed peer brought them
/// too). Returns how many listings went.
pub(crate) async fn unfollow(inner: &Inner, raw: &str) -> Result<u64, PeerError> {
    let (_, domain) = parse_domain(raw, true)?;
    let Some(peer) = inner.fed.peer(&domain).await? else {
        return Err(PeerError::NotFound(domain));
    };
    if let Some(follow_id) = &peer.outgoing_follow_id {
        let me = inner.urls.instance_actor();
        let body = activities::with_context(json!({
            "id": format!("{follow_id}/undo"),
            "type": "Undo",
            "actor": me,
            "object": {"id": follow_id, "type": "Follow", "actor": me, "object": peer.actor_id},
        }));
        let mut write = FedWrite::default();
        queue(&mut write, body, &peer.inbox.clone());
        inner.fed.apply(&write).await?;
        inner.queued.notify_one();
    }
    let update = PeerUpdate {
        outgoing: Some(None),
        outgoing_follow_id: Some(None),
        outgoing_since: Some(None),
        backfill_next: Some(None),
        ..Default::default()
    };
    inner.fed.update_peer(&domain, &update).await?;
    inner.fed.delete_peer_if_unfollowed(&domain).await?;
    let purged = inner.fed.forget_listing_source(&domain).await?;
    tracing::info!(%domain, purged, "unfollowed a node");
    Ok(purged)
}

/// Sets whether listings a peer relays from third nodes are refused.
pub(crate) async fn set_refuse_relayed(
    inner: &Inner,
    raw: &str,
    refuse: bool,
) -> Result<(), PeerError> {
    let (_, domain) = parse_domain(raw, true)?;
    let update = PeerUpdate {
        refuse_relayed: Some(refuse),
        ..Default::default()
    };
    if !inner.fed.update_peer(&domain, &update).await? {
        return Err(PeerError::NotFound(domain));
    }
    Ok(())
}

pub(crate) async fn list(inner: &Inner) -> Result<Vec<PeerView>, PeerError> {
    let counts = inner.fed.listing_counts().await?;
    let hosts = inner.fed.host_states().await?;
    let mut out = Vec::new();
    for p in inner.fed.peers().await? {
        let unreachable = hosts
            .iter()
            .any(|h| h.next_probe_at.is_some() && h.host == inbox_host(&p.inbox));
        out.push(view(&p, &counts, unreachable));
    }
    Ok(out)
}

async fn view_of(inner: &Inner, domain: &str) -> Result<PeerView, PeerError> {
    list(inner)
        .await?
        .into_iter()
        .find(|p| p.domain == domain)
        .ok_or_else(|| PeerError::NotFound(domain.to_string()))
}

fn view(p: &Peer, counts: &[(String, u64)], unreachable: bool) -> PeerView {
    let status = match p.outgoing {
        Some(PeerState::Rejected) => "rejected",
        Some(_) if unreachable => "unreachable",
        Some(s) => s.code(),
        None => "none",
    };
    PeerView {
        domain: p.domain.clone(),
        status: status.to_string(),
        follows_us: p.incoming.map(|s| s.code()).unwrap_or("none").to_string(),
        since: p.outgoing_since.or(p.incoming_since),
        last_activity_at: p.last_activity_at,
        listings: counts
            .iter()
            .find(|(o, _)| *o == p.domain)
            .map(|(_, n)| *n)
            .unwrap_or(0),
        refuse_relayed: p.refuse_relayed,
        backfilling: p.backfill_next.is_some(),
    }
}

/// Blocks a domain: refuses its traffic, cancels deliveries there, and purges what came from
/// it (listings, follows, its peer row). Returns how many listings were removed.
pub(crate) async fn block(
    inner: &Inner,
    raw: &str,
    reason: Option<String>,
) -> Result<u64, PeerError> {
    let domain = block_domain_name(raw)?;
    inner
        .fed
        .block_domain(&DomainBlock {
            domain: domain.clone(),
            reason: reason.filter(|r| !r.trim().is_empty()),
            created_at: Utc::now(),
        })
        .await?;
    let purged = inner.fed.purge_domain(&domain).await?;
    tracing::info!(%domain, purged, "domain blocked");
    Ok(purged)
}

pub(crate) async fn unblock(inner: &Inner, raw: &str) -> Result<bool, PeerError> {
    let domain = block_domain_name(raw)?;
    // A block made before default ports were dropped is kept as it was typed (`x:443`).
    let as_typed = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut existed = false;
    for block in inner.fed.domain_blocks().await? {
        if block.domain == domain || block.domain == as_typed {
            inner.fed.unblock_domain(&block.domain).await?;
            existed = true;
        }
    }
    Ok(existed)
}

/// A block may name a bare domain (all its ports and subdomains) or `host:port`.
pub(crate) fn block_domain_name(raw: &str) -> Result<String, PeerError> {
    let raw = raw.trim().trim_end_matches('.');
    if raw.is_empty()
        || raw.contains(['/', ' ', '@', '?', '#'])
        || !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return Err(InvalidPeer::NotADomain(raw.to_string()).into());
    }
    // Hosts are kept without their scheme's default port: `x.example:443` is `x.example`.
    let raw = raw.to_ascii_lowercase();
    Ok(match raw.rsplit_once(':') {
        Some((host, "443" | "80")) => host.to_string(),
        _ => raw,
    })
}

/// Reads a block list as fediverse servers export it: CSV with a domain first and a reason
/// (Mastodon's export has a `#domain,#severity,…,#public_comment,…` header; a plain file is
/// `domain,reason`). Returns the (domain, reason) pairs and the lines that were not usable.
pub fn parse_block_list(csv: &str) -> (Vec<(String, Option<String>)>, Vec<String>) {
    let mut rows = csv
        .lines()
        .map(split_csv)
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()));
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut reason_col = 1;
    let mut first = true;
    for row in rows.by_ref() {
        let head = row[0].trim().to_ascii_lowercase();
        if first && (head == "#domain" || head == "domain") {
            reason_col = row
                .iter()
                .position(|c| {
                    let c = c.trim().trim_start_matches('#').to_ascii_lowercase();
                    c == "public_comment" || c == "reason" || c == "comment"
                })
                .unwrap_or(usize::MAX);
            first = false;
            continue;
        }
        first = false;
        match block_domain_name(&row[0]) {
            Ok(domain) => {
                let reason = row
                    .get(reason_col)
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty());
                out.push((domain, reason));
            }
            Err(_) => bad.push(row.join(",")),
        }
    }
    (out, bad)
}

/// One CSV line into fields (double quotes, `""` inside quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

// ---- the inbox side ----

/// Whether a Follow is a node follow of our instance actor: marked so, and from another node's
/// instance actor (an account on that host could sign one too).
pub(crate) fn is_peering_follow(
    inner: &Inner,
    follow: &Value,
    actor: &hromada_store::RemoteActor,
) -> bool {
    actor.kind == "Application"
        && follow.get("peering").and_then(Value::as_bool) == Some(true)
        && crate::inbox::id_of(follow.get("object")) == Some(inner.urls.instance_actor().as_str())
}

/// A node follows us: accepted at once, or held for an admin, by policy.
pub(crate) async fn on_follow(
    inner: &Inner,
    activity: &Value,
    actor: &hromada_store::RemoteActor,
) -> Result<FedWrite, PeerError> {
    let domain = authority(&actor.id).unwrap_or_default();
    // A node has one instance actor: another Application actor on the same host (a relay,
    // say) must not take over the peer row, where inbox and trust follow the actor.
    let known = inner.fed.peer(&domain).await?;
    if let Some(known) = &known
        && known.actor_id != actor.id
    {
        return Err(InvalidPeer::AnotherActor {
            domain,
            known: known.actor_id.clone(),
            actor: actor.id.clone(),
        }
        .into());
    }
    // A node that follows again (it lost our Accept, or its state) stays accepted: holding it
    // for an admin again would cut it off from what it already had.
    let accepted_before = known.is_some_and(|p| p.incoming == Some(PeerState::Accepted));
    let inbox = actor.shared_inbox.clone().unwrap_or(actor.inbox.clone());
    let mut update = PeerUpdate {
        actor_id: Some(actor.id.clone()),
        inbox: Some(inbox.clone()),
        incoming_follow_id: Some(activity["id"].as_str().map(String::from)),
        incoming_since: (!accepted_before).then(|| Some(Utc::now())),
        ..Default::default()
    };
    let mut write = FedWrite::default();
    if inner.settings.auto_accept_peers || accepted_before {
        update.incoming = Some(Some(PeerState::Accepted));
        let accept = activities::answer_follow(
            "Accept",
            &inner.urls.instance_actor(),
            activity,
            &Uuid::new_v4().to_string(),
        );
        queue(&mut write, accept, &inbox);
    } else {
        update.incoming = Some(Some(PeerState::Pending));
    }
    inner
        .fed
        .insert_peer(&Peer::new(&domain, &actor.id, &inbox))
        .await?;
    inner.fed.update_peer(&domain, &update).await?;
    Ok(write)
}

/// An admin answers a node follow held for approval.
pub(crate) async fn answer(inner: &Inner, raw: &str, accept: bool) -> Result<(), PeerError> {
    let (_, domain) = parse_domain(raw, true)?;
    let Some(peer) = inner.fed.peer(&domain).await? else {
        return Err(PeerError::NotFound(domain));
    };
    let (Some(follow_id), Some(PeerState::Pending)) =
        (peer.incoming_follow_id.clone(), peer.incoming)
    else {
        return Err(PeerError::NotPending(domain));
    };
    let me = inner.urls.instance_actor();
    let follow =
        json!({"id": follow_id.clone(), "type": "Follow", "actor": peer.actor_id, "object": me});
    let kind = if accept { "Accept" } else { "Reject" };
    let body = activities::answer_follow(kind, &me, &follow, &Uuid::new_v4().to_string());
    let mut write = FedWrite::default();
    queue(&mut write, body, &peer.inbox.clone());
    // Only the follow that was shown to the admin: another process may have seen it undone.
    let update = if accept {
        PeerUpdate {
            incoming: Some(Some(PeerState::Accepted)),
            ..Default::default()
        }
    } else {
        PeerUpdate {
            incoming: Some(None),
            incoming_follow_id: Some(None),
            incoming_since: Some(None),
            ..Default::default()
        }
    };
    // The decision and its answer in one write, and only for the follow still waiting: two
    // admins answering at once, or an Undo meanwhile, leave one answer or none.
    write.peer = Some((
        domain.clone(),
        PeerUpdate {
            if_incoming_follow_id: Some(follow_id),
            if_incoming: Some(PeerState::Pending),
            ..update
        },
    ));
    match inner.fed.apply(&write).await {
        Ok(_) => inner.queued.notify_one(),
        Err(StoreError::Conflict(_)) => return Err(PeerError::NotPending(domain)),
        Err(e) => return Err(e.into()),
    }
    inner.fed.delete_peer_if_unfollowed(&domain).await?;
    Ok(())
}

/// `Accept`/`Reject` of our node follow. On Accept the backfill starts.
pub(crate) async fn on_answer(
    inner: &Inner,
    kind: &str,
    activity: &Value,
    actor: &hromada_store::RemoteActor,
) -> Result<bool, PeerError> {
    let domain = authority(&actor.id).unwrap_or_default();
    let Some(peer) = inner.fed.peer(&domain).await? else {
        return Ok(false);
    };
    let object = activity.get("object");
    let answered = crate::inbox::id_of(object);
    if peer.actor_id != actor.id
        || answered.is_none()
        || answered != peer.outgoing_follow_id.as_deref()
    {
        return Ok(false);
    }
    let mut update = PeerUpdate {
        if_outgoing_follow_id: peer.outgoing_follow_id.clone(),
        ..Default::default()
    };
    if kind == "Accept" {
        if peer.outgoing != Some(PeerState::Accepted) {
            update.backfill_next = Some(Some(directory_url(&actor.id)));
        }
        update.outgoing = Some(Some(PeerState::Accepted));
    } else {
        update.outgoing = Some(Some(PeerState::Rejected));
        update.backfill_next = Some(None);
    }
    // Unfollowed meanwhile (the follow id went): the answer is too late.
    let answered = inner.fed.update_peer(&domain, &update).await?;
    if answered && kind != "Accept" && peer.outgoing == Some(PeerState::Accepted) {
        // A peer that ends a follow it had accepted sends nothing more, not even the Delete
        // of a listing: what came only through it would go stale here, as after unfollowing.
        let purged = inner.fed.forget_listing_source(&domain).await?;
        tracing::info!(%domain, purged, "a node ended our follow");
    }
    Ok(answered)
}

/// Where a node serves its directory: `/directory` next to its instance actor.
pub(crate) fn directory_url(instance_actor: &str) -> String {
    match Url::parse(instance_actor) {
        Ok(u) => format!("{}/directory", u.origin().ascii_serialization()),
        Err(_) => String::new(),
    }
}

/// `Undo` of a node follow of ours.
pub(crate) async fn on_undo(
    inner: &Inner,
    follow_id: &str,
    actor: &hromada_store::RemoteActor,
) -> Result<bool, PeerError> {
    let domain = authority(&actor.id).unwrap_or_default();
    let Some(peer) = inner.fed.peer(&domain).await? else {
        return Ok(false);
    };
    if peer.actor_id != actor.id {
        return Ok(false);
    }
    let update = PeerUpdate {
        incoming: Some(None),
        incoming_follow_id: Some(None),
        incoming_since: Some(None),
        if_incoming_follow_id: Some(follow_id.to_string()),
        ..Default::default()
    };
    if !inner.fed.update_peer(&domain, &update).await? {
        return Ok(false);
    }
    inner.fed.delete_peer_if_unfollowed(&domain).await?;
    Ok(true)
}

/// Targets for directory activities: peers that follow us (accepted), minus some domains.
pub(crate) async fn peer_targets(
    inner: &Inner,
    except: &[&str],
) -> Result<Vec<Target>, hromada_store::StoreError> {
    let mut targets: Vec<Target> = Vec::new();
    for p in inner.fed.peers().await? {
        if p.incoming != Some(PeerState::Accepted) || except.contains(&p.domain.as_str()) {
            continue;
        }
        if !targets.iter().any(|t| t.inbox == p.inbox) {
            targets.push(Target {
                host: inbox_host(&p.inbox),
                inbox: p.inbox,
            });
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_as_admins_type_them() {
        assert_eq!(
            parse_domain("localhost:8081", true).unwrap(),
            ("http".into(), "localhost:8081".into())
        );
        assert_eq!(
            parse_domain("https://Node.Example/", false).unwrap(),
            ("https".into(), "node.example".into())
        );
        assert_eq!(
            parse_domain("node.example", false).unwrap().0,
            "https".to_string()
        );
        assert!(parse_domain("node.example/path", false).is_err());
        assert!(parse_domain("", false).is_err());
    }

    #[test]
    fn block_lists_in_mastodon_and_plain_form() {
        let mastodon = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\nspam.example,suspend,false,false,\"Spam, lots\",false\n";
        let (rows, bad) = parse_block_list(mastodon);
        assert_eq!(
            rows,
            vec![("spam.example".into(), Some("Spam, lots".into()))]
        );
        assert!(bad.is_empty());
        let plain = "bad.example,harassment\nlocalhost:9000,\nnot a domain,x\n";
        let (rows, bad) = parse_block_list(plain);
        assert_eq!(
            rows,
            vec![
                ("bad.example".into(), Some("harassment".into())),
                ("localhost:9000".into(), None)
            ]
        );
        assert_eq!(bad.len(), 1);
    }
}
