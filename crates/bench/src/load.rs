//! The load generator: closed-loop HTTP/1.1 keep-alive connections driven from this process.
//!
//! Each connection is one task on a raw hyper client connection (no pool, no redirects, no
//! middleware), so the generator costs as little CPU per request as we can make it and the
//! same for every server it drives: baselines and real paths see identical clients. Every run
//! is bounded by time and by request count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::stats::Samples;

/// One request the generator may send.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

/// Where requests come from: a fixed mix cycled through, or a finite list each sent once.
#[derive(Clone)]
pub enum Source {
    Cycle(Arc<Vec<Req>>),
    Once(Arc<Vec<Req>>),
}

/// How a run is bounded.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub connections: usize,
    pub duration: Duration,
    pub max_requests: usize,
}

/// Sends requests to `addr` (with `Host: host`) until the time, the count or the source runs
/// out. A response with a status other than `expect_status` counts as an error.
pub async fn run(
    addr: SocketAddr,
    host: &str,
    source: Source,
    bounds: Bounds,
    expect_status: &[u16],
) -> Samples {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + bounds.duration;
    let host = HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("localhost"));
    let expect: Arc<Vec<u16>> = Arc::new(expect_status.to_vec());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..bounds.connections.max(1) {
        let next = next.clone();
        let source = source.clone();
        let host = host.clone();
        let expect = expect.clone();
        let max = bounds.max_requests;
        tasks.spawn(
            async move { connection(addr, host, source, next, max, deadline, expect).await },
        );
    }
    let mut samples = Samples::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(s) = done {
            samples.merge(s);
        }
    }
    samples.elapsed = start.elapsed();
    samples
}

async fn connection(
    addr: SocketAddr,
    host: HeaderValue,
    source: Source,
    next: Arc<AtomicUsize>,
    max: usize,
    deadline: Instant,
    expect: Arc<Vec<u16>>,
) -> Samples {
    let mut samples = Samples::default();
    let mut sender = None;
    while Instant::now() < deadline {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= max {
            break;
        }
        let req = match &source {
            Source::Cycle(list) if !list.is_empty() => &list[n % list.len()],
            Source::Once(list) if n < list.len() => &list[n],
            _ => break,
        };
        if sender.is_none() {
            sender = connect(addr).await;
            if sender.is_none() {
                samples.errors += 1;
                // A refused connection repeats at once; do not spin on it.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(req.path.as_str())
            .header(http::header::HOST, host.clone());
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let Ok(request) = builder.body(Full::new(req.body.clone())) else {
            samples.errors += 1;
            continue;
        };
        let started = Instant::now();
        let ok = match tokio::time::timeout(Duration::from_secs(30), s.send_request(request)).await
        {
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                let body = response.into_body().collect().await;
                body.is_ok() && expect.contains(&status)
            }
            _ => {
                sender = None;
                false
            }
        };
        if ok {
            samples.push(started.elapsed());
        } else {
            samples.errors += 1;
        }
    }
    samples
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Option<Sender> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Some(sender)
}

/// Waits until `GET path` on `addr` answers 200, for at most `within`.
pub async fn wait_ready(addr: SocketAddr, path: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(mut s) = connect(addr).await {
            let request = Request::builder()
                .uri(path)
                .header(http::header::HOST, "localhost")
                .body(Full::new(Bytes::new()))?;
            if let Ok(r) = s.send_request(request).await
                && r.status().is_success()
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            anyhow::bail!("{addr}{path} did not answer 200 within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One request, returning status and body (for setup and checks, not for timing).
pub async fn once(addr: SocketAddr, host: &str, req: &Req) -> anyhow::Result<(u16, Bytes)> {
    let mut s = connect(addr)
        .await
        .ok_or_else(|| anyhow::anyhow!("cannot connect to {addr}"))?;
    let mut builder = Request::builder()
        .method(req.method.clone())
        .uri(req.path.as_str())
        .header(http::header::HOST, host);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let response = s
        .send_request(builder.body(Full::new(req.body.clone()))?)
        .await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}
