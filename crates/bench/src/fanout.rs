//! Fan-out: one update posted through the API goes to every follower's shared inbox. The
//! followers' servers are loopback sinks in this process (one listener port per host) that
//! count what arrives and answer 202. Held against the bare RSA signing rate of the
//! implementation the node signs with (aws-lc-rs), per CPU-second on both sides (the sinks
//! share the cores with the node), next to two bare signed fan-outs built here with the same
//! library (one thread per core signing and POSTing with keep-alive, once with reqwest as the
//! node does, once on raw hyper connections), each run in its own process and measured the same
//! way, so the table shows what the least code reaches on this machine and what the node's
//! client costs; the `rsa` crate's rate is shown for reference.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use axum::Router;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::load::{self, Req};
use crate::node;
use crate::sig::{self, Impl};
use crate::stats::{Row, grouped};

pub struct Plan {
    /// Follower counts, one fan-out each (at most two: the node has two initiatives set up).
    pub sizes: Vec<usize>,
    /// Distinct sink ports (hosts); followers beyond that share hosts round-robin.
    pub max_hosts: usize,
    pub max_time: Duration,
    pub sign_time: Duration,
}

/// What the sinks saw.
#[derive(Default)]
struct Seen {
    count: AtomicU64,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
}

impl Seen {
    async fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
        *self.first.lock().await = None;
        *self.last.lock().await = None;
    }
}

async fn start_sinks(n: usize, seen: Arc<Seen>) -> anyhow::Result<Vec<u16>> {
    let app = Router::new().route(
        "/inbox/{who}",
        post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let now = Instant::now();
                if !body.is_empty() {
                    seen.first.lock().await.get_or_insert(now);
                    *seen.last.lock().await = Some(now);
                    seen.count.fetch_add(1, Ordering::SeqCst);
                }
                http::StatusCode::ACCEPTED
            }
        }),
    );
    let mut ports = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        ports.push(listener.local_addr()?.port());
        let app = app.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    Ok(ports)
}

/// The HTTP client of a bare signed fan-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BareClient {
    /// A keep-alive `reqwest::Client` per thread: the client the node's delivery lanes use.
    Reqwest,
    /// Raw hyper HTTP/1.1 connections kept per port on each thread (no pool, timeout,
    /// redirect or proxy layer): the least code that sends a POST and reuses its connection.
    Hyper,
}

impl BareClient {
    fn describe(self) -> &'static str {
        match self {
            Self::Reqwest => "reqwest keep-alive, the node's client",
            Self::Hyper => "raw hyper keep-alive connections, the least client code",
        }
    }
}

/// The bare signed fan-out, run by `hromada-bench bare-fanout` in its own process so that its
/// CPU is counted like the node's (the sinks stay in this one): signs like the node does
/// (draft-cavage over request-target, host, date, digest; the digest once, as the node does per
/// activity) with aws-lc-rs and POSTs with `client`, `in_flight` at a time, on one thread per
/// core that signs and sends its own share of the hosts (each with a single-threaded runtime
/// and connections of its own, as the node's delivery lanes). Prints
/// `delivered cpu_ns system_ns wall_ns`.
pub async fn bare_sender(
    ports: &[u16],
    count: usize,
    in_flight: usize,
    client: BareClient,
) -> anyhow::Result<()> {
    anyhow::ensure!(!ports.is_empty(), "no sink ports");
    let key = Arc::new(sig::RemoteActor::generate(0)?);
    let body = bytes::Bytes::from_static(br#"{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","id":"http://localhost/x","actor":"http://localhost/a","object":{"type":"Note","content":"bench"}}"#);
    let digest: Arc<str> = format!("SHA-256={}", BASE64.encode(Sha256::digest(&body))).into();
    let lanes = std::thread::available_parallelism().map_or(2, |p| p.get());
    let per_lane = in_flight.div_ceil(lanes).max(1);
    let delivered = Arc::new(AtomicU64::new(0));
    let me = std::process::id();
    let ((user0, system0), start) = (crate::proc::user_and_system_time(me), Instant::now());
    let threads: Vec<_> = (0..lanes)
        .map(|lane| {
            // A host's deliveries all go to one lane, as in the node.
            let work: Arc<Vec<usize>> = Arc::new(
                (0..count)
                    .filter(|n| (n % ports.len()) % lanes == lane)
                    .collect(),
            );
            let (key, body, digest, delivered) =
                (key.clone(), body.clone(), digest.clone(), delivered.clone());
            let ports = ports.to_vec();
            std::thread::spawn(move || -> anyhow::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    // `localhost` without asking the system resolver on each new connection,
                    // as the node's caching resolver and the raw connections do not.
                    let reqwest = reqwest::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                        .build()?;
                    let connections: Connections = Arc::default();
                    let next = Arc::new(AtomicU64::new(0));
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..per_lane {
                        let (reqwest, connections) = (reqwest.clone(), connections.clone());
                        let (body, digest, key) = (body.clone(), digest.clone(), key.clone());
                        let (ports, work, next, delivered) =
                            (ports.clone(), work.clone(), next.clone(), delivered.clone());
                        tasks.spawn(async move {
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                                if i >= work.len() || start.elapsed() > Duration::from_secs(120) {
                                    break;
                                }
                                let n = work[i];
                                let port = ports[n % ports.len()];
                                let host = format!("localhost:{port}");
                                let path = format!("/inbox/bare-{n}");
                                let date = httpdate::fmt_http_date(SystemTime::now());
                                let signing = format!(
                                    "(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}"
                                );
                                let Ok(signature) = key.sign(signing.as_bytes()) else {
                                    continue;
                                };
                                let header = format!(
                                    r#"keyId="http://localhost/a#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="{}""#,
                                    BASE64.encode(signature)
                                );
                                let headers = [
                                    ("date", date.as_str()),
                                    ("digest", &*digest),
                                    ("signature", header.as_str()),
                                    ("content-type", "application/activity+json"),
                                ];
                                let delivered_ok = match client {
                                    BareClient::Reqwest => {
                                        let mut post = reqwest.post(format!("http://{host}{path}"));
                                        for (name, value) in headers {
                                            post = post.header(name, value);
                                        }
                                        let sent = post.body(body.clone()).send().await;
                                        sent.is_ok_and(|r| r.status().is_success())
                                    }
                                    BareClient::Hyper => {
                                        let mut post = http::Request::post(path).header("host", host);
                                        for (name, value) in headers {
                                            post = post.header(name, value);
                                        }
                                        let Ok(request) = post.body(Full::new(body.clone())) else {
                                            continue;
                                        };
                                        let sent = raw_post(&connections, port, request);
                                        // Bounded as reqwest's requests are.
                                        tokio::time::timeout(Duration::from_secs(10), sent)
                                            .await
                                            .unwrap_or(false)
                                    }
                                };
                                if delivered_ok {
                                    delivered.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        });
                    }
                    while tasks.join_next().await.is_some() {}
                    Ok(())
                })
            })
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        threads.into_iter().try_for_each(|t| {
            t.join()
                .map_err(|_| anyhow::anyhow!("a sender thread panicked"))?
        })
    })
    .await??;
    let (user, system) = crate::proc::user_and_system_time(me);
    println!(
        "{} {} {} {}",
        delivered.load(Ordering::Relaxed),
        (user + system).saturating_sub(user0 + system0).as_nanos(),
        system.saturating_sub(system0).as_nanos(),
        start.elapsed().as_nanos()
    );
    Ok(())
}

/// A bare sender thread's idle raw connections, by sink port.
type Connections = Arc<std::sync::Mutex<HashMap<u16, Vec<SendRequest<Full<Bytes>>>>>>;

/// POSTs `request` on an idle connection to `port` (or a new one) and keeps the connection
/// for the next; whether the sink answered 2xx.
async fn raw_post(
    connections: &Connections,
    port: u16,
    request: http::Request<Full<Bytes>>,
) -> bool {
    let idle = connections
        .lock()
        .ok()
        .and_then(|mut c| c.get_mut(&port).and_then(Vec::pop));
    let mut sender = match idle {
        Some(sender) => sender,
        None => {
            let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                return false;
            };
            let _ = stream.set_nodelay(true);
            let Ok((sender, connection)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                return false;
            };
            tokio::spawn(connection);
            sender
        }
    };
    let Ok(response) = sender.send_request(request).await else {
        return false;
    };
    let answered = response.status().is_success();
    if response.into_body().collect().await.is_err() {
        return false;
    }
    if let Ok(mut c) = connections.lock() {
        c.entry(port).or_default().push(sender);
    }
    answered
}

/// What the bare sender process did while sending: deliveries, CPU time (and the kernel's
/// part of it), wall time.
struct BareRun {
    delivered: u64,
    cpu: Duration,
    system: Duration,
    wall: Duration,
}

/// Runs the bare sender (this executable, `bare-fanout`) against the sinks and reads its line.
async fn bare_fanout(ports: &[u16], count: usize, client: BareClient) -> anyhow::Result<BareRun> {
    let exe = std::env::current_exe().context("locating hromada-bench")?;
    let ports = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "bare-fanout",
                "--ports",
                &ports,
                "--count",
                &count.to_string(),
                "--in-flight",
                "16",
                "--client",
                match client {
                    BareClient::Reqwest => "reqwest",
                    BareClient::Hyper => "hyper",
                },
            ])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
    })
    .await?
    .context("running the bare sender")?;
    anyhow::ensure!(
        output.status.success(),
        "the bare sender failed ({})",
        output.status
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u128> = line
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [delivered, cpu, system, wall] = numbers[..] else {
        anyhow::bail!("unexpected output from the bare sender: {line:?}");
    };
    let nanos = |n: u128| Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX));
    Ok(BareRun {
        delivered: u64::try_from(delivered).unwrap_or(u64::MAX),
        cpu: nanos(cpu),
        system: nanos(system),
        wall: nanos(wall),
    })
}

pub async fn run(hromada: &std::path::Path, plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let seen = Arc::new(Seen::default());
    let largest = plan.sizes.iter().copied().max().unwrap_or(0);
    let ports = start_sinks(largest.min(plan.max_hosts).max(1), seen.clone()).await?;
    let handles = [node::HANDLE, node::HANDLE_2];
    let followers: Vec<node::Followers> = plan
        .sizes
        .iter()
        .zip(handles)
        .map(|(&count, handle)| node::Followers {
            handle,
            count,
            sink_ports: &ports,
        })
        .collect();
    eprintln!("fan-out: preparing a node with {:?} followers…", plan.sizes);
    let prepared = node::prepare(&[], &followers).await?;
    let real = node::start(hromada, &prepared).await?;
    let host = prepared.host();
    // The node creates each actor's key pair on first use; do that before the clock starts.
    for handle in handles {
        let req = Req::get(format!("/initiatives/{handle}"))
            .header("accept", "application/activity+json");
        load::once(real.addr, &host, &req).await?;
    }

    let mut rows = Vec::new();
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let aws = sig::bare_rate(Impl::AwsLcRs, false, threads, plan.sign_time)?;
    let rsa = sig::bare_rate(Impl::RsaCrate, false, threads, plan.sign_time)?;
    let aws_sign = aws.per_second;
    let per_core = aws.per_cpu_second;
    rows.push(
        Row::new(
            "fan-out",
            format!(
                "baseline: bare RSA-2048 signing, aws-lc-rs (what the node uses), {threads} threads"
            ),
            format!("{} signatures/s", grouped(aws_sign)),
        )
        .note(format!(
            "{} per CPU-s of the signing threads (one core's rate)",
            grouped(per_core)
        )),
    );
    rows.push(
        Row::new(
            "fan-out",
            format!("reference: bare RSA-2048 signing, `rsa` crate, {threads} threads"),
            format!("{} signatures/s", grouped(rsa.per_second)),
        )
        .note(format!("{} per CPU-s", grouped(rsa.per_cpu_second))),
    );
    for f in &followers {
        // The least code doing the same: as many deliveries to the same hosts, so both see
        // the same mix of new and reused connections, right before the node's turn.
        // The reqwest sender's deliveries per CPU-s: the client the node sends with.
        let mut bare_like_node = f64::NAN;
        for client in [BareClient::Reqwest, BareClient::Hyper] {
            let bare = bare_fanout(&ports[..ports.len().min(f.count)], f.count, client).await?;
            let bare_per_cpu = bare.delivered as f64 / bare.cpu.as_secs_f64().max(1e-9);
            if client == BareClient::Reqwest {
                bare_like_node = bare_per_cpu;
            }
            rows.push(
                Row::new(
                    "fan-out",
                    format!(
                        "baseline: bare signed fan-out in its own process to {} shared inboxes (one thread per core signing and sending its hosts' share with aws-lc-rs, {}, 16 in flight)",
                        grouped(f.count as f64),
                        client.describe()
                    ),
                    format!("{} deliveries per sender CPU-s", grouped(bare_per_cpu)),
                )
                .ratio(bare_per_cpu / per_core)
                .note(format!(
                    "ratio: per sender CPU-s against the bare signatures per CPU-s, as the node is judged (what the least code reaches on this machine); {}/{} delivered; {} deliveries/s; {:.3} ms of sender CPU per delivery, {:.3} ms of it in the kernel",
                    bare.delivered,
                    f.count,
                    grouped(bare.delivered as f64 / bare.wall.as_secs_f64().max(1e-9)),
                    bare.cpu.as_secs_f64() * 1000.0 / bare.delivered.max(1) as f64,
                    bare.system.as_secs_f64() * 1000.0 / bare.delivered.max(1) as f64,
                )),
            );
        }
        seen.reset().await;
        let (cpu0, system0, threads0) = (real.cpu(), real.system_cpu(), real.cpu_by_thread());
        let t0 = Instant::now();
        let mut post = Req {
            method: http::Method::POST,
            path: format!("/api/v1/initiatives/{}/updates", f.handle),
            headers: Default::default(),
            body: serde_json::json!({
                "kind": "news",
                "body": "Benchmark update: 40 kits delivered to evacuation crews. / 40 аптечок передано екіпажам.",
            })
            .to_string()
            .into(),
        }
        .header("content-type", "application/json");
        post = post.header("authorization", &format!("Bearer {}", prepared.token));
        let (status, body) = load::once(real.addr, &host, &post).await?;
        anyhow::ensure!(
            (200..300).contains(&status),
            "posting the update failed ({status}): {}",
            String::from_utf8_lossy(&body)
        );
        let deadline = t0 + plan.max_time;
        while seen.count.load(Ordering::SeqCst) < f.count as u64 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let delivered = seen.count.load(Ordering::SeqCst);
        let cpu = real.cpu().saturating_sub(cpu0);
        let system = real.system_cpu().saturating_sub(system0);
        let shares = thread_shares(&threads0, &real.cpu_by_thread());
        let first = *seen.first.lock().await;
        let last = *seen.last.lock().await;
        let (start_latency, sending) = match (first, last) {
            (Some(a), Some(b)) => (a - t0, (b - a).max(Duration::from_millis(1))),
            _ => (t0.elapsed(), Duration::from_millis(1)),
        };
        let rate = delivered as f64 / sending.as_secs_f64();
        let throughput_ratio = rate / aws_sign;
        // Judged per core: the issue asks for 85 % of the sign rate per core, and the sinks
        // share this machine's cores with the node, so throughput alone would also count
        // the receivers' CPU against the sender (docs/benchmarks.md, "Fan-out is judged per core").
        let per_cpu = delivered as f64 / cpu.as_secs_f64().max(1e-9);
        let ratio = per_cpu / per_core;
        rows.push(
            Row::new(
                "fan-out",
                format!(
                    "`hromada serve`: one update to {} shared inboxes on {} hosts",
                    grouped(f.count as f64),
                    ports.len().min(f.count)
                ),
                format!("{} deliveries per server CPU-s", grouped(per_cpu)),
            )
            .ratio(ratio)
            .note(format!(
                "ratio: per server CPU-s against the bare signatures per CPU-s ({}); {:.0} % of the bare signed fan-out with reqwest per CPU-s; throughput {} deliveries/s = {:.0} % of the {threads}-thread bare sign rate; {delivered}/{} delivered; first {:.0} ms after the API call, all in {:.2} s; {:.3} ms of server CPU per delivery, {:.3} ms of it in the kernel; by thread: {shares}",
                grouped(per_core),
                per_cpu / bare_like_node * 100.0,
                grouped(rate),
                throughput_ratio * 100.0,
                f.count,
                start_latency.as_secs_f64() * 1000.0,
                sending.as_secs_f64(),
                cpu.as_secs_f64() * 1000.0 / delivered.max(1) as f64,
                system.as_secs_f64() * 1000.0 / delivered.max(1) as f64,
            ))
            .target(
                "≥ 85 % of the bare sign rate of the implementation used, per core",
                ratio >= 0.85 && delivered as usize >= f.count,
            ),
        );
    }
    real.stop();
    Ok(rows)
}

/// How the node's CPU time between two readings of [`crate::proc::cpu_by_thread`] divides among
/// its threads, largest first: `hromada-deliver 87 %, sqlx-sqlite-wor 6 %, …` (shares under
/// 1 % left out).
fn thread_shares(
    before: &BTreeMap<String, Duration>,
    after: &BTreeMap<String, Duration>,
) -> String {
    let mut used: Vec<(&str, Duration)> = after
        .iter()
        .map(|(name, &t)| {
            let earlier = before.get(name).copied().unwrap_or_default();
            (name.as_str(), t.saturating_sub(earlier))
        })
        .collect();
    let total: f64 = used.iter().map(|(_, t)| t.as_secs_f64()).sum();
    used.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    let shares: Vec<String> = used
        .iter()
        .map(|(name, t)| (name, t.as_secs_f64() / total.max(1e-9) * 100.0))
        .filter(|(_, share)| *share >= 1.0)
        .map(|(name, share)| format!("{name} {share:.0} %"))
        .collect();
    shares.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_shares_count_the_window_only() {
        let ms = Duration::from_millis;
        let before = BTreeMap::from([("lanes".to_string(), ms(500)), ("db".to_string(), ms(90))]);
        let after = BTreeMap::from([
            ("lanes".to_string(), ms(1400)),
            ("db".to_string(), ms(190)),
            ("new".to_string(), ms(5)),
        ]);
        // 900 + 100 + 5 ms in the window; the 0.5 % thread is left out.
        assert_eq!(thread_shares(&before, &after), "lanes 90 %, db 10 %");
        assert_eq!(thread_shares(&after, &after), "");
    }
}
