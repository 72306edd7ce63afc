//! `hromada admin trust …`: the node's trust policy from the command line — show it, trust or
//! ignore a collective, set the threshold, and whether trusted warnings dispute — plus an
//! initiative's explained status. Every change is recomputed and logged like one made through
//! `PUT /api/v1/trust-policy`.

use clap::Subcommand;
use hromada_app::App;
use hromada_domain::trust::{TrustPolicy, TrustPolicyInput, normalize_domain};

use crate::Failure;
use crate::admin::failed;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Print the trust policy.
    Show,
    /// Count this collective's vouches towards Verified (a node's domain, `host[:port]`).
    TrustNode {
        domain: String,
        /// Why, for the public transparency log.
        #[arg(long)]
        note: Option<String>,
    },
    /// Stop trusting a collective (its vouches then make Vouched at most).
    UntrustNode {
        domain: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Ignore everything a collective says.
    IgnoreNode {
        domain: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Stop ignoring a collective.
    UnignoreNode {
        domain: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// How many different trusted collectives make an initiative Verified (this node counts as one).
    Threshold {
        #[arg(value_parser = clap::value_parser!(u32).range(1..=50))]
        count: u32,
        #[arg(long)]
        note: Option<String>,
    },
    /// Whether a trusted collective's warning makes an initiative Disputed (`on` or `off`).
    WarningsDispute {
        #[arg(value_parser = parse_switch, action = clap::ArgAction::Set)]
        on: bool,
        #[arg(long)]
        note: Option<String>,
    },
    /// Explain an initiative's trust status (`handle` or `handle@domain`).
    Status { initiative: String },
}

fn parse_switch(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("`{raw}` is neither on nor off")),
    }
}

fn domain(raw: &str) -> Result<String, Failure> {
    normalize_domain(raw).ok_or_else(|| {
        Failure::usage(format!(
            "`{raw}` is not a node's domain; use host or host:port, e.g. node.example"
        ))
    })
}

fn print(policy: &TrustPolicy) -> Result<(), Failure> {
    let list = |l: &[String]| {
        if l.is_empty() {
            "(none)".to_string()
        } else {
            l.join(", ")
        }
    };
    out!("trusted collectives: {}", list(&policy.trusted));
    out!("ignored collectives: {}", list(&policy.ignored));
    out!(
        "verified at: {} trusted collective(s) (this node's moderators always count as one)",
        policy.threshold
    );
    out!(
        "trusted warnings dispute: {}",
        if policy.warnings_dispute { "on" } else { "off" }
    );
    match policy.updated_at {
        Some(at) => out!("changed: {at}"),
        None => out!("changed: never (the default policy)"),
    }
    Ok(())
}

pub async fn run(app: App, command: TrustCommand) -> Result<(), Failure> {
    let current = app.trust_policy().await.map_err(failed)?;
    let mut next: TrustPolicyInput = current.to_input();
    let note = match command {
        TrustCommand::Show => {
            print(&current)?;
            return Ok(());
        }
        TrustCommand::Status { initiative } => {
            let (_, trust) = app.initiative_trust(&initiative).await.map_err(failed)?;
            out!("{}", trust.trust.summary);
            for reason in &trust.trust.reasons {
                out!("- {}", reason.explanation);
            }
            if let Some(check) = &trust.website_check {
                let mark = if check.ok { "ok" } else { "failed" };
                out!(
                    "website check {mark} ({}): {}",
                    check.checked_at,
                    check.detail
                );
            }
            return Ok(());
        }
        TrustCommand::TrustNode { domain: d, note } => {
            let d = domain(&d)?;
            next.ignored.retain(|x| *x != d);
            next.trusted.push(d);
            note
        }
        TrustCommand::UntrustNode { domain: d, note } => {
            let d = domain(&d)?;
            next.trusted.retain(|x| *x != d);
            note
        }
        TrustCommand::IgnoreNode { domain: d, note } => {
            let d = domain(&d)?;
            next.trusted.retain(|x| *x != d);
            next.ignored.push(d);
            note
        }
        TrustCommand::UnignoreNode { domain: d, note } => {
            let d = domain(&d)?;
            next.ignored.retain(|x| *x != d);
            note
        }
        TrustCommand::Threshold { count, note } => {
            next.threshold = count;
            note
        }
        TrustCommand::WarningsDispute { on, note } => {
            next.warnings_dispute = on;
            note
        }
    };
    let policy = app
        .set_trust_policy(None, next, note.as_deref())
        .await
        .map_err(failed)?;
    out!("trust policy changed; every status is recomputed");
    print(&policy)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        trust: TrustCommand,
    }

    #[test]
    fn commands_parse() {
        Cli::command().debug_assert();
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("trust").chain(args.iter().copied()))
        };
        assert!(matches!(
            parse(&["warnings-dispute", "off"]).unwrap().trust,
            TrustCommand::WarningsDispute { on: false, .. }
        ));
        assert!(matches!(
            parse(&["threshold", "3", "--note", "more care"])
                .unwrap()
                .trust,
            TrustCommand::Threshold {
                count: 3,
                note: Some(_)
            }
        ));
        assert!(parse(&["threshold", "0"]).is_err());
        assert!(parse(&["warnings-dispute", "maybe"]).is_err());
    }
}
