//! The inbox: signed `Create(Note)` activities from many remote actors, each mentioning a
//! local initiative (so each is verified, handled and stored as an inbox item), posted to the
//! node's shared inbox — next to the bare inbox path (digest + parse + key lookup + verify +
//! insert) with aws-lc-rs and with the `rsa` crate. All requests are signed before the clock
//! starts; each is sent once (activity ids are unique, so nothing is a duplicate).

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Bounds, Req, Source};
use crate::node;
use crate::proc::Server;
use crate::sig::{self, RemoteActor};
use crate::stats::{Row, Samples, grouped};

pub struct Plan {
    pub actors: usize,
    /// Activities signed per measured path (the count bound of each run).
    pub activities: usize,
    pub connections: usize,
    /// The time bound of each run.
    pub max_time: Duration,
}

fn create_note(actor: &RemoteActor, n: usize, mention: &str, host: &str) -> String {
    let id = uuid::Uuid::new_v4();
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{id}", actor.id),
        "type": "Create",
        "actor": actor.id,
        "published": chrono::Utc::now().to_rfc3339(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [mention],
        "object": {
            "id": format!("{}/notes/{id}", actor.id),
            "type": "Note",
            "attributedTo": actor.id,
            "content": format!("<p><span class=\"h-card\"><a href=\"{mention}\" class=\"u-url mention\">@<span>{}</span></a></span> Thank you for the report #{n}! We sent 2 000 UAH for the tourniquets.</p>", node::HANDLE),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [mention],
            "tag": [{"type": "Mention", "href": mention, "name": format!("@{}@{host}", node::HANDLE)}],
        },
    })
    .to_string()
}

/// `count` signed requests for a server at `host`, on all cores.
fn sign_all(
    actors: &Arc<Vec<RemoteActor>>,
    count: usize,
    host: &str,
    mention: &str,
    extra_header: Option<(&'static str, &'static str)>,
) -> anyhow::Result<Vec<Req>> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let actors = actors.clone();
            let (host, mention) = (host.to_string(), mention.to_string());
            std::thread::spawn(move || {
                (t..count)
                    .step_by(threads)
                    .map(|n| {
                        let actor = &actors[n % actors.len()];
                        let req = actor.signed_post(
                            &host,
                            "/inbox",
                            create_note(actor, n, &mention, &host),
                        )?;
                        Ok(match extra_header {
                            Some((k, v)) => req.header(k, v),
                            None => req,
                        })
                    })
                    .collect::<anyhow::Result<Vec<Req>>>()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("signing thread panicked"))??,
        );
    }
    Ok(all)
}

async fn send(server: &Server, host: &str, reqs: Vec<Req>, plan: &Plan) -> (Samples, Duration) {
    let cpu0 = server.cpu();
    let n = reqs.len();
    let s = load::run(
        server.addr,
        host,
        Source::Once(Arc::new(reqs)),
        Bounds {
            connections: plan.connections,
            duration: plan.max_time,
            max_requests: n,
        },
        &[202],
    )
    .await;
    (s, server.cpu().saturating_sub(cpu0))
}

pub async fn run(hromada: &std::path::Path, plan: &Plan) -> anyhow::Result<Vec<Row>> {
    eprintln!("inbox: generating {} actor keys…", plan.actors);
    let actors = Arc::new(sig::actors(plan.actors)?);
    let prepared = node::prepare(&actors, &[]).await?;
    let bare_dir = tempfile::tempdir()?;
    let bare_db = bare_dir.path().join("bare.db");
    let keys: Vec<(String, String)> = actors
        .iter()
        .map(|a| (a.key_id.clone(), a.public_key_pem.clone()))
        .collect();
    crate::bare::prepare(&bare_db, &keys).await?;
    let bare = node::start_bare(&bare_db).await?;
    let real = node::start(hromada, &prepared).await?;
    let host = prepared.host();
    let bare_host = format!("localhost:{}", bare.addr.port());
    let mention = prepared.actor_url(node::HANDLE);

    eprintln!("inbox: signing {} activities per path…", plan.activities);
    let for_bare = sign_all(&actors, plan.activities, &bare_host, &mention, None)?;
    let for_bare_rsa = sign_all(
        &actors,
        plan.activities,
        &bare_host,
        &mention,
        Some(("x-bench-verify", "rsa")),
    )?;
    let mut for_real = sign_all(&actors, plan.activities + 1, &host, &mention, None)?;
    // One request first, alone: it must be accepted, or everything after measures refusals.
    let probe = for_real
        .pop()
        .ok_or_else(|| anyhow::anyhow!("nothing signed"))?;
    let (status, body) = load::once(real.addr, &host, &probe).await?;
    anyhow::ensure!(
        status == 202,
        "the node refused a signed activity ({status}): {}",
        String::from_utf8_lossy(&body)
    );

    let (b, b_cpu) = send(&bare, &bare_host, for_bare, plan).await;
    let (r, r_cpu) = send(&real, &host, for_real, plan).await;
    let (br, br_cpu) = send(&bare, &bare_host, for_bare_rsa, plan).await;
    real.stop();
    bare.stop();
    // Answered 202 must mean stored: count the inbox items the node kept (the probe's too).
    let stored: i64 = {
        let pool = sqlx::SqlitePool::connect(&prepared.db_url).await?;
        let n = sqlx::query_scalar("SELECT count(*) FROM fed_inbox_items")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        n
    };
    let accepted = r.count() + 1;
    anyhow::ensure!(
        usize::try_from(stored) == Ok(accepted),
        "the node answered 202 to {accepted} activities but stored {stored}"
    );

    let per_core = |s: &Samples, cpu: Duration| s.count() as f64 / cpu.as_secs_f64().max(1e-9);
    let ratio = r.rate() / b.rate();
    let mut rows = vec![
        Row::new(
            "inbox",
            "baseline: bare inbox path, aws-lc-rs verify",
            format!("{} activities/s", grouped(b.rate())),
        )
        .latency(&b)
        .note(format!(
            "{} per server CPU-s; {} errors",
            grouped(per_core(&b, b_cpu)),
            b.errors
        )),
        Row::new(
            "inbox",
            "baseline: bare inbox path, `rsa` crate verify",
            format!("{} activities/s", grouped(br.rate())),
        )
        .latency(&br)
        .ratio(br.rate() / b.rate())
        .note(format!(
            "{} per server CPU-s; {} errors",
            grouped(per_core(&br, br_cpu)),
            br.errors
        )),
    ];
    rows.push(
        Row::new(
            "inbox",
            format!(
                "shared inbox of `hromada serve` ({} actors, Create(Note) mentions)",
                plan.actors
            ),
            format!("{} activities/s", grouped(r.rate())),
        )
        .latency(&r)
        .ratio(ratio)
        .note(format!(
            "{} per server CPU-s ({:.0} % of the aws-lc-rs baseline per core); {} errors; all {stored} accepted stored",
            grouped(per_core(&r, r_cpu)),
            100.0 * per_core(&r, r_cpu) / per_core(&b, b_cpu),
            r.errors
        ))
        .target(
            "≥ 70 % of the bare path with fast verification",
            ratio >= 0.7,
        ),
    );
    Ok(rows)
}
