//! `hromada-bench`: measures a real Hromada node next to bare baselines built here, in one
//! invocation, and prints the results as a Markdown table with the ratios and the targets of
//! issue 7. See `docs/benchmarks.md` for what each number means and how to rerun.
//!
//! Only loopback addresses are used; every loop is bounded in count and time.

mod bare;
mod fanout;
mod inbox;
mod listings;
mod load;
mod memory;
mod node;
mod proc;
mod read;
mod search;
mod sig;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::stats::Row;

#[derive(Parser)]
#[command(about = "Benchmarks a Hromada node against bare baselines (docs/benchmarks.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Tiny sizes and short runs: checks that everything works in a few seconds.
    #[arg(long, global = true)]
    quick: bool,
    /// The `hromada` binary to test (default: the one next to this executable).
    #[arg(long, global = true)]
    hromada: Option<PathBuf>,
    /// PostgreSQL server for the PostgreSQL search benchmark (a fresh database is created
    /// there and dropped afterwards); `none` skips it.
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    /// Listings for the search benchmark.
    #[arg(long, global = true)]
    listings: Option<usize>,
    /// Keep the search benchmark's databases between runs and reuse them when they already hold
    /// the listings: SQLite in this directory, PostgreSQL as database `hromada_bench_search`
    /// (filling 100k listings takes minutes; useful while tuning search).
    #[arg(long, global = true)]
    keep_search_db: Option<PathBuf>,
    /// Search SQLite's index as filled, without the merge a node does at start and then daily
    /// (the worst a node sees: right after a bulk import, until that merge).
    #[arg(long, global = true)]
    search_unmerged: bool,
    /// Also write the Markdown table to this file.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
}

#[derive(Subcommand, Clone, PartialEq, Eq)]
enum Command {
    /// Every benchmark below, in this order.
    All,
    /// Read API at 64 connections vs bare axum and bare axum + SQLite.
    Read,
    /// Search at 100k listings on SQLite and PostgreSQL vs bare ranked queries.
    Search,
    /// Signed activities to the shared inbox vs the bare inbox path.
    Inbox,
    /// One update to 1,000 and 10,000 followers' shared inboxes vs the bare sign rate.
    Fanout,
    /// RSS of `hromada serve` idle and under mixed load vs a bare process.
    Memory,
    /// Load one URL for a while (e.g. to profile a running node with `perf record -p PID`).
    Load {
        /// `http://127.0.0.1:PORT/path`
        url: String,
        #[arg(long, default_value = "application/json")]
        accept: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// (internal) serve the bare baselines; started by the other commands.
    #[command(hide = true)]
    BareServer {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        db: PathBuf,
    },
    /// (internal) the bare signed fan-out to sinks on these loopback ports; started by `fanout`.
    #[command(hide = true)]
    BareFanout {
        #[arg(long, value_delimiter = ',')]
        ports: Vec<u16>,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 16)]
        in_flight: usize,
        #[arg(long, value_enum, default_value_t = fanout::BareClient::Reqwest)]
        client: fanout::BareClient,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // On SIGTERM or Ctrl-C the run is dropped, and with it every child server (each kills
    // its process when dropped), so a stopped benchmark leaves no servers behind.
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = run(cli) => Some(result),
            () = stop_signal() => None,
        }
    });
    match outcome {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        None => {
            eprintln!("stopped by a signal; child servers were stopped");
            ExitCode::from(143)
        }
    }
}

/// Resolves on SIGTERM or SIGINT (never, if the handlers cannot be installed).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::BareServer { listen, db } = &cli.command {
        return bare::serve(*listen, db).await;
    }
    if let Command::BareFanout {
        ports,
        count,
        in_flight,
        client,
    } = &cli.command
    {
        return fanout::bare_sender(ports, *count, *in_flight, *client).await;
    }
    if let Command::Load {
        url,
        accept,
        seconds,
        connections,
    } = &cli.command
    {
        return load_one(url, accept, *seconds, *connections).await;
    }
    let q = cli.quick;
    let secs = |full: u64, quick: u64| Duration::from_secs(if q { quick } else { full });
    let wants = |c: Command| cli.command == Command::All || cli.command == c;
    let hromada = if [
        Command::Read,
        Command::Inbox,
        Command::Fanout,
        Command::Memory,
    ]
    .into_iter()
    .any(wants)
    {
        Some(proc::hromada_binary(cli.hromada.as_deref())?)
    } else {
        None
    };
    let conditions = conditions();
    eprintln!("{conditions}");
    let mut rows: Vec<Row> = Vec::new();
    let mut failures = Vec::new();
    let mut record = |name: &str, result: anyhow::Result<Vec<Row>>| match result {
        Ok(r) => {
            eprint!("{}", stats::markdown(&r));
            rows.extend(r);
        }
        Err(e) => {
            eprintln!("{name} failed: {e:#}");
            failures.push(format!("{name}: {e:#}"));
        }
    };
    if let (true, Some(h)) = (wants(Command::Read), &hromada) {
        let plan = read::Plan {
            connections: 64,
            round: secs(3, 1),
            rounds: if q { 1 } else { 2 },
        };
        record("read", read::run(h, &plan).await);
    }
    if wants(Command::Search) {
        let plan = search::Plan {
            listings: cli.listings.unwrap_or(if q { 300 } else { 100_000 }),
            per_class: if q { 20 } else { 200 },
            class_time: secs(10, 2),
            keep: cli.keep_search_db.clone(),
            unmerged: cli.search_unmerged,
        };
        record("search (SQLite)", search::sqlite(&plan).await);
        if cli.postgres != "none" {
            record(
                "search (PostgreSQL)",
                search::postgres(&cli.postgres, &plan).await,
            );
        }
    }
    if let (true, Some(h)) = (wants(Command::Inbox), &hromada) {
        let plan = inbox::Plan {
            actors: if q { 4 } else { 100 },
            activities: if q { 300 } else { 10_000 },
            connections: 64,
            max_time: secs(30, 5),
        };
        record("inbox", inbox::run(h, &plan).await);
    }
    if let (true, Some(h)) = (wants(Command::Fanout), &hromada) {
        let plan = fanout::Plan {
            sizes: if q { vec![20, 50] } else { vec![1_000, 10_000] },
            max_hosts: 1_000,
            max_time: secs(180, 20),
            sign_time: secs(3, 1),
        };
        record("fan-out", fanout::run(h, &plan).await);
    }
    if let (true, Some(h)) = (wants(Command::Memory), &hromada) {
        let plan = memory::Plan {
            connections: 64,
            duration: secs(10, 2),
            idle: secs(3, 1),
        };
        record("memory", memory::run(h, &plan).await);
    }
    let table = stats::markdown(&rows);
    let report = format!("{conditions}\n{table}");
    println!("\n{report}");
    if let Some(out) = &cli.out {
        std::fs::write(out, &report)?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("some benchmarks failed:\n{}", failures.join("\n"))
    }
}

async fn load_one(url: &str, accept: &str, seconds: u64, connections: usize) -> anyhow::Result<()> {
    let url = url::Url::parse(url)?;
    let addr = url
        .socket_addrs(|| Some(80))?
        .into_iter()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| anyhow::anyhow!("only loopback addresses are loaded"))?;
    let host = format!("{}:{}", url.host_str().unwrap_or("localhost"), addr.port());
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let s = load::run(
        addr,
        &host,
        load::Source::Cycle(std::sync::Arc::new(vec![
            load::Req::get(path).header("accept", accept),
        ])),
        load::Bounds {
            connections,
            duration: Duration::from_secs(seconds.min(600)),
            max_requests: 100_000_000,
        },
        &[200],
    )
    .await;
    println!(
        "{} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        stats::grouped(s.rate()),
        s.percentile_ms(50.0),
        s.percentile_ms(99.0),
        s.errors
    );
    Ok(())
}

/// What the numbers were measured on: cores, load when the run started, time.
fn conditions() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |p| p.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    format!(
        "Run at {} on {cores} cores ({cpu}); load average at start: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}
