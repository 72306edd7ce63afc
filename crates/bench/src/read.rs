//! The read API at 64 connections: the node's public GET routes next to bare axum (JSON, no
//! I/O) and bare axum + one SQLite primary-key read, in alternating rounds so that whatever
//! else the machine does falls on both sides alike.

use std::time::Duration;

use crate::load::{self, Bounds, Req, Source};
use crate::node;
use crate::proc::Server;
use crate::stats::{Row, Samples, grouped};

pub struct Plan {
    pub connections: usize,
    /// Length of one measured round.
    pub round: Duration,
    pub rounds: usize,
}

/// What one endpoint did over all its rounds: samples and the server's CPU time.
struct Measured {
    samples: Samples,
    cpu: Duration,
}

impl Measured {
    /// Requests per CPU-second of the server process: what one core of it can do.
    fn per_core(&self) -> f64 {
        let cpu = self.cpu.as_secs_f64();
        if cpu > 0.0 {
            self.samples.count() as f64 / cpu
        } else {
            0.0
        }
    }
}

async fn round(server: &Server, host: &str, req: &Req, plan: &Plan, m: &mut Measured) {
    let cpu0 = server.cpu();
    let mut s = load::run(
        server.addr,
        host,
        Source::Cycle(std::sync::Arc::new(vec![req.clone()])),
        Bounds {
            connections: plan.connections,
            duration: plan.round,
            max_requests: 10_000_000,
        },
        &[200],
    )
    .await;
    m.cpu += server.cpu().saturating_sub(cpu0);
    let elapsed = m.samples.elapsed + s.elapsed;
    s.elapsed = Duration::ZERO;
    m.samples.merge(s);
    m.samples.elapsed = elapsed;
}

async fn warm(server: &Server, host: &str, req: &Req) -> anyhow::Result<()> {
    let (status, body) = load::once(server.addr, host, req).await?;
    anyhow::ensure!(
        status == 200,
        "{} {} answered {status}: {}",
        server.name,
        req.path,
        String::from_utf8_lossy(&body)
    );
    load::run(
        server.addr,
        host,
        Source::Cycle(std::sync::Arc::new(vec![req.clone()])),
        Bounds {
            connections: 4,
            duration: Duration::from_millis(300),
            max_requests: 500,
        },
        &[200],
    )
    .await;
    Ok(())
}

/// A real endpoint and the baseline it is held against.
struct Pair {
    name: &'static str,
    real: Req,
    bare: Req,
    bare_name: &'static str,
    /// Minimum share of the baseline's throughput the issue asks for.
    target: f64,
}

pub async fn run(hromada: &std::path::Path, plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let prepared = node::prepare(&[], &[]).await?;
    let bare_dir = tempfile::tempdir()?;
    let bare_db = bare_dir.path().join("bare.db");
    crate::bare::prepare(&bare_db, &[]).await?;
    let bare = node::start_bare(&bare_db).await?;
    let real = node::start(hromada, &prepared).await?;
    let host = prepared.host();
    let ap = "application/activity+json, application/ld+json";
    let bare_json = Req::get("/json");
    let bare_sqlite = Req::get("/items/500");
    let pairs = vec![
        Pair {
            name: "NodeInfo `/nodeinfo/2.1`",
            real: Req::get("/nodeinfo/2.1"),
            bare: bare_json.clone(),
            bare_name: "bare axum JSON",
            target: 0.4,
        },
        Pair {
            name: "WebFinger",
            real: Req::get(format!(
                "/.well-known/webfinger?resource=acct:{}@{host}",
                node::HANDLE
            )),
            bare: bare_json.clone(),
            bare_name: "bare axum JSON",
            target: 0.4,
        },
        Pair {
            name: "actor JSON (ActivityPub `Group`)",
            real: Req::get(format!("/initiatives/{}", node::HANDLE)).header("accept", ap),
            bare: bare_json.clone(),
            bare_name: "bare axum JSON",
            target: 0.4,
        },
        Pair {
            name: "initiative JSON `/api/v1/initiatives/{handle}`",
            real: Req::get(format!("/api/v1/initiatives/{}", node::HANDLE)),
            bare: bare_sqlite.clone(),
            bare_name: "bare axum + SQLite pk read",
            target: 0.6,
        },
        Pair {
            name: "initiative HTML page",
            real: Req::get(format!("/initiatives/{}", node::HANDLE)).header("accept", "text/html"),
            bare: bare_sqlite.clone(),
            bare_name: "bare axum + SQLite pk read",
            target: 0.6,
        },
        Pair {
            name: "search API `?q=help` (demo data)",
            real: Req::get("/api/v1/initiatives?q=help"),
            bare: bare_sqlite.clone(),
            bare_name: "bare axum + SQLite pk read",
            target: 0.6,
        },
    ];
    let mut rows = Vec::new();
    let bare_host = format!("localhost:{}", bare.addr.port());
    for pair in &pairs {
        warm(&bare, &bare_host, &pair.bare).await?;
        warm(&real, &host, &pair.real).await?;
        let mut b = Measured {
            samples: Samples::default(),
            cpu: Duration::ZERO,
        };
        let mut r = Measured {
            samples: Samples::default(),
            cpu: Duration::ZERO,
        };
        for _ in 0..plan.rounds.max(1) {
            round(&bare, &bare_host, &pair.bare, plan, &mut b).await;
            round(&real, &host, &pair.real, plan, &mut r).await;
        }
        let ratio = r.samples.rate() / b.samples.rate();
        let p99 = r.samples.percentile_ms(99.0);
        rows.push(
            Row::new(
                "read",
                format!("baseline for {}: {}", pair.name, pair.bare_name),
                format!("{} req/s", grouped(b.samples.rate())),
            )
            .latency(&b.samples)
            .note(format!(
                "{} req per server CPU-s; {} errors",
                grouped(b.per_core()),
                b.samples.errors
            )),
        );
        rows.push(
            Row::new(
                "read",
                pair.name,
                format!("{} req/s", grouped(r.samples.rate())),
            )
            .latency(&r.samples)
            .ratio(ratio)
            .note(format!(
                "{} req per server CPU-s ({:.0} % of baseline per core); {} errors",
                grouped(r.per_core()),
                100.0 * r.per_core() / b.per_core(),
                r.samples.errors
            ))
            .target(
                format!(
                    "≥ {:.0} % of {}, p99 ≤ 10 ms",
                    pair.target * 100.0,
                    pair.bare_name
                ),
                ratio >= pair.target && p99 <= 10.0,
            ),
        );
    }
    real.stop();
    bare.stop();
    Ok(rows)
}
