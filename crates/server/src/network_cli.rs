//! `hromada admin peer …` and `hromada admin queue`: the node's network from the command line.
//!
//! Works on the configured database; follows and answers go into the durable queue, which the
//! running node's workers send.

use clap::Subcommand;
use hromada_federation::{Federation, PeerError, parse_block_list};

use crate::Failure;

#[derive(Subcommand)]
pub enum PeerCommand {
    /// Follow a node by its domain (`host` or `host:port`).
    Follow { domain: String },
    /// Stop following a node.
    Unfollow { domain: String },
    /// List peers: status, since when, last activity received, listings from it.
    List,
    /// Accept a node's follow that was held for approval.
    Approve { domain: String },
    /// Refuse a node's follow that was held for approval.
    Reject { domain: String },
    /// Refuse listings a peer relays from third nodes (`--allow` to take them again).
    RefuseRelayed {
        domain: String,
        #[arg(long)]
        allow: bool,
    },
    /// Block a domain: its listings, follows and pending deliveries are purged.
    Block {
        domain: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a block.
    Unblock { domain: String },
    /// Import a block list: CSV of domain and reason, as fediverse servers export.
    ImportBlocks { file: std::path::PathBuf },
}

fn failed(e: PeerError) -> Failure {
    match e {
        PeerError::Invalid(_)
        | PeerError::Blocked(_)
        | PeerError::NotFound(_)
        | PeerError::NotPending(_) => Failure::usage(e),
        other => Failure::runtime(other),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

pub async fn peer(fed: Federation, command: PeerCommand) -> Result<(), Failure> {
    match command {
        PeerCommand::Follow { domain } => {
            let p = fed.follow_peer(&domain).await.map_err(failed)?;
            out!(
                "follow of {} sent ({}); the running node sends it and pulls in its listings once accepted",
                p.domain,
                p.status
            );
        }
        PeerCommand::Unfollow { domain } => {
            let n = fed.unfollow_peer(&domain).await.map_err(failed)?;
            out!("no longer following {domain}; {n} listings that came only through it removed");
        }
        PeerCommand::List => {
            out!("domain\tstatus\tfollows_us\tsince\tlast_activity\tlistings\tbackfilling");
            for p in fed.peers().await.map_err(failed)? {
                out!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    p.domain,
                    p.status,
                    p.follows_us,
                    opt(p.since),
                    opt(p.last_activity_at),
                    p.listings,
                    p.backfilling
                );
            }
        }
        PeerCommand::Approve { domain } => {
            fed.answer_peer(&domain, true).await.map_err(failed)?;
            out!("{domain} may follow this node");
        }
        PeerCommand::Reject { domain } => {
            fed.answer_peer(&domain, false).await.map_err(failed)?;
            out!("{domain}'s follow refused");
        }
        PeerCommand::RefuseRelayed { domain, allow } => {
            fed.refuse_relayed_from(&domain, !allow)
                .await
                .map_err(failed)?;
            out!(
                "listings relayed by {domain} are {}",
                if allow { "taken" } else { "refused" }
            );
        }
        PeerCommand::Block { domain, reason } => {
            let n = fed.block_domain(&domain, reason).await.map_err(failed)?;
            out!("{domain} blocked; {n} listings removed");
        }
        PeerCommand::Unblock { domain } => {
            if fed.unblock_domain(&domain).await.map_err(failed)? {
                out!("{domain} unblocked");
            } else {
                return Err(Failure::usage(format!("{domain} was not blocked")));
            }
        }
        PeerCommand::ImportBlocks { file } => {
            let csv = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let (rows, skipped) = parse_block_list(&csv);
            for (domain, reason) in &rows {
                fed.block_domain(domain, reason.clone())
                    .await
                    .map_err(failed)?;
            }
            for line in &skipped {
                eprintln!("skipped: {line}");
            }
            out!("{} domains blocked", rows.len());
        }
    }
    Ok(())
}

pub async fn queue(fed: &dyn hromada_store::FederationStore) -> Result<(), Failure> {
    let report = hromada_federation::queue_report(fed)
        .await
        .map_err(Failure::runtime)?;
    out!("{} deliveries pending", report.pending);
    out!("host\tpending\tdelivered\trejected\tfailed\tcancelled\tunreachable\tlast_error");
    for h in report.hosts {
        out!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            h.host,
            h.pending,
            h.delivered,
            h.rejected,
            h.failed,
            h.cancelled,
            h.unreachable,
            opt(h.last_error)
        );
    }
    Ok(())
}
