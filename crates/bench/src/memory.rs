//! Memory of a real `hromada serve` process (VmRSS and VmHWM from /proc): idle after start,
//! and under a mixed load of reads, searches and signed inbox posts at 64 connections — next
//! to the bare server process idle and under its own read mix.

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Bounds, Req, Source};
use crate::node;
use crate::proc::{Memory, Server};
use crate::sig;
use crate::stats::{Row, grouped};

pub struct Plan {
    pub connections: usize,
    pub duration: Duration,
    pub idle: Duration,
}

/// Runs `source` against `server` while sampling its memory; returns the peak seen and the
/// request rate.
async fn under_load(
    server: &Server,
    host: &str,
    source: Source,
    plan: &Plan,
) -> (Memory, f64, u64) {
    let pid = server.pid();
    let stop = Arc::new(tokio::sync::Notify::new());
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = Memory::default();
            loop {
                let m = Memory::of(pid);
                peak.rss_kib = peak.rss_kib.max(m.rss_kib);
                peak.hwm_kib = peak.hwm_kib.max(m.hwm_kib);
                tokio::select! {
                    _ = stop.notified() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            peak
        })
    };
    let s = load::run(
        server.addr,
        host,
        source,
        Bounds {
            connections: plan.connections,
            duration: plan.duration,
            max_requests: 50_000_000,
        },
        &[200, 202],
    )
    .await;
    stop.notify_one();
    let mut peak = sampler.await.unwrap_or_default();
    let end = Memory::of(pid);
    peak.hwm_kib = peak.hwm_kib.max(end.hwm_kib);
    (peak, s.rate(), s.errors)
}

pub async fn run(hromada: &std::path::Path, plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let actors = Arc::new(sig::actors(8)?);
    let prepared = node::prepare(&actors, &[]).await?;
    let bare_dir = tempfile::tempdir()?;
    let bare_db = bare_dir.path().join("bare.db");
    crate::bare::prepare(&bare_db, &[]).await?;
    let bare = node::start_bare(&bare_db).await?;
    let real = node::start(hromada, &prepared).await?;
    let host = prepared.host();
    let bare_host = format!("localhost:{}", bare.addr.port());

    tokio::time::sleep(plan.idle).await;
    let real_idle = real.memory();
    let bare_idle = bare.memory();

    let ap = "application/activity+json, application/ld+json";
    let h = node::HANDLE;
    let mut mix = vec![
        Req::get(format!("/initiatives/{h}")).header("accept", ap),
        Req::get(format!("/.well-known/webfinger?resource=acct:{h}@{host}")),
        Req::get("/nodeinfo/2.1"),
        Req::get(format!("/api/v1/initiatives/{h}")),
        Req::get(format!("/initiatives/{h}")).header("accept", "text/html"),
        Req::get("/"),
        Req::get("/api/v1/initiatives?q=help"),
        Req::get("/api/v1/initiatives?q=медик&category=medical"),
        Req::get(format!("/initiatives/{h}/outbox?page=1")).header("accept", ap),
    ];
    // Every tenth request a signed inbox post (repeats of an id are accepted as duplicates).
    let mention = prepared.actor_url(h);
    for (n, a) in actors.iter().enumerate() {
        let body = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/mem-{n}", a.id),
            "type": "Create",
            "actor": a.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [mention],
            "object": {"id": format!("{}/notes/mem-{n}", a.id), "type": "Note", "attributedTo": a.id,
                "content": "<p>Thank you!</p>", "cc": [mention],
                "tag": [{"type": "Mention", "href": mention}]},
        });
        mix.insert(
            (n * 9) % mix.len(),
            a.signed_post(&host, "/inbox", body.to_string())?,
        );
    }
    for r in &mix {
        let (status, body) = load::once(real.addr, &host, r).await?;
        anyhow::ensure!(
            status == 200 || status == 202,
            "{} answered {status}: {}",
            r.path,
            String::from_utf8_lossy(&body)
        );
    }
    let bare_mix = vec![
        Req::get("/json"),
        Req::get("/items/7"),
        Req::get("/items/700"),
    ];

    let (bare_peak, bare_rate, _) =
        under_load(&bare, &bare_host, Source::Cycle(Arc::new(bare_mix)), plan).await;
    let (real_peak, real_rate, real_errors) =
        under_load(&real, &host, Source::Cycle(Arc::new(mix)), plan).await;
    real.stop();
    bare.stop();

    Ok(vec![
        Row::new(
            "memory",
            "baseline: bare axum + SQLite process, idle",
            format!("{:.1} MB RSS", bare_idle.rss_mb()),
        ),
        Row::new(
            "memory",
            "`hromada serve`, idle (demo data)",
            format!("{:.1} MB RSS", real_idle.rss_mb()),
        )
        .note(format!("{:.1}× the bare process", real_idle.rss_mb() / bare_idle.rss_mb()))
        .target("≤ 32 MB", real_idle.rss_mb() <= 32.0),
        Row::new(
            "memory",
            "baseline: bare process under its read mix",
            format!("{:.1} MB peak (VmHWM)", bare_peak.hwm_mb()),
        )
        .note(format!("{} req/s", grouped(bare_rate))),
        Row::new(
            "memory",
            format!(
                "`hromada serve` under mixed load ({} connections, {} s)",
                plan.connections,
                plan.duration.as_secs()
            ),
            format!("{:.1} MB peak (VmHWM)", real_peak.hwm_mb()),
        )
        .note(format!(
            "peak sampled RSS {:.1} MB; {} req/s (reads, search, 1 in 10 a signed inbox post); {} errors",
            real_peak.rss_mb(),
            grouped(real_rate),
            real_errors
        ))
        .target("≤ 64 MB", real_peak.hwm_mb() <= 64.0),
    ])
}
