//! Scale-out on PostgreSQL: two real `hromada serve` processes on one database serve one node
//! behind a round-robin TCP proxy (the reverse proxy; it passes `Host` through untouched), and
//! every activity is delivered exactly once per shared inbox, nothing lost.
//!
//! PostgreSQL only: skipped, saying why, without `HROMADA_TEST_POSTGRES_URL`; with `CI=true` a
//! missing database or binary is an error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hromada_domain::Role;
use hromada_store::{DeliveryStatus, FederationStore, FollowerState, LocalActor};
use hromada_testkit::db::{fresh_postgres, postgres_url};
use hromada_testkit::fake_remote::FakeRemote;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(120);

/// The `hromada` binary and the PostgreSQL server, or why the test cannot run.
fn prerequisites() -> Option<(PathBuf, String)> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let Some(url) = postgres_url() else {
        assert!(
            !ci,
            "CI runs the scale-out test: set HROMADA_TEST_POSTGRES_URL"
        );
        eprintln!(
            "note: HROMADA_TEST_POSTGRES_URL is not set; skipping the two-process PostgreSQL test"
        );
        return None;
    };
    let bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("hromada")))
        .filter(|bin| bin.exists());
    let Some(bin) = bin else {
        assert!(!ci, "the hromada binary is missing in CI");
        eprintln!(
            "note: the hromada binary is not built (cargo build -p hromada-server); skipping"
        );
        return None;
    };
    Some((bin, url))
}

/// A round-robin TCP proxy on loopback: each new connection goes to the next backend.
struct Proxy {
    port: u16,
    /// Connections handed to each backend.
    served: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(backends: Vec<u16>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = served.clone();
        let task = tokio::spawn(async move {
            let mut next = 0;
            while let Ok((mut client, _)) = listener.accept().await {
                let i = next % backends.len();
                next += 1;
                counts[i].fetch_add(1, Ordering::Relaxed);
                let backend = backends[i];
                tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", backend)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        Proxy { port, served, task }
    }

    fn served(&self) -> Vec<usize> {
        self.served
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `hromada serve` child process, killed when the test ends (also when it fails).
struct NodeProcess(std::process::Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_process(
    bin: &Path,
    port: u16,
    public_url: &str,
    database_url: &str,
    data_dir: &Path,
    env: &[(&str, &str)],
) -> NodeProcess {
    let mut cmd = std::process::Command::new(bin);
    for (key, _) in std::env::vars() {
        if key.starts_with("HROMADA_") {
            cmd.env_remove(key);
        }
    }
    let child = cmd
        .arg("serve")
        .env("HROMADA_LISTEN", format!("127.0.0.1:{port}"))
        .env("HROMADA_PUBLIC_URL", public_url)
        .env("HROMADA_DATABASE_URL", database_url)
        .env("HROMADA_DATA_DIR", data_dir)
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        // Both publishers look at the change feed often, so they race for every change.
        .env("HROMADA_FEDERATION_POLL_INTERVAL", "50ms")
        .env("HROMADA_LOG", "error")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    NodeProcess(child)
}

async fn wait_healthy(base: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} did not become healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many times each activity id of `kind` reached the remote, by inbox path.
fn arrivals(remote: &FakeRemote, kind: &str) -> HashMap<(String, String), usize> {
    let mut seen = HashMap::new();
    for r in remote.received().into_iter().filter(|r| r.kind() == kind) {
        assert!(r.signature.is_ok(), "unsigned {kind}: {:?}", r.signature);
        let id = r.activity["id"].as_str().unwrap_or_default().to_string();
        *seen.entry((r.path.clone(), id)).or_insert(0) += 1;
    }
    seen
}

fn signal(process: &NodeProcess, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &process.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// One node served by two processes on one fresh database behind the proxy, with an approved
/// initiative that `remotes` servers with `actors` actors each follow.
struct Cluster {
    db: hromada_testkit::db::PostgresDb,
    fed: Arc<dyn FederationStore>,
    app: hromada_app::App,
    moderator: hromada_domain::User,
    local: LocalActor,
    public: String,
    proxy: Proxy,
    /// Each process's own port, for talking to one of them past the proxy.
    ports: [u16; 2],
    nodes: Vec<NodeProcess>,
    remotes: Arc<Vec<FakeRemote>>,
    _data_dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(bin: &Path, server_url: &str, env: &[(&str, &str)]) -> Cluster {
        let db = fresh_postgres(server_url).await.unwrap();
        let fed: Arc<dyn FederationStore> = db.federation();
        let app = hromada_app::App::new(db.store());
        let moderator = app
            .create_user(None, "moderator", Role::Moderator, "test-password-123")
            .await
            .unwrap();
        let input = serde_json::from_value(json!({
            "handle": "odesa-kitchen", "name": "Odesa Kitchen", "summary": "Hot meals",
            "categories": ["humanitarian_aid"], "regions": [{"kind": "ukraine", "oblast": "odesa"}],
            "submitter_contact": "kitchen@example.org"
        }))
        .unwrap();
        app.submit(None, input).await.unwrap();
        let initiative = app.approve(&moderator, "odesa-kitchen").await.unwrap();

        // Two processes, one database, one public URL: the proxy's.
        let ports = [free_port(), free_port()];
        let proxy = Proxy::start(ports.to_vec()).await;
        let public = format!("http://localhost:{}", proxy.port);
        let data_dir = tempfile::tempdir().unwrap();
        let nodes: Vec<NodeProcess> = ports
            .iter()
            .map(|port| start_process(bin, *port, &public, &db.url, data_dir.path(), env))
            .collect();
        for port in ports {
            wait_healthy(&format!("http://localhost:{port}")).await;
        }
        Cluster {
            db,
            fed,
            app,
            moderator,
            local: LocalActor::Initiative(initiative.id),
            public,
            proxy,
            ports,
            nodes,
            remotes: Arc::new(Vec::new()),
            _data_dir: data_dir,
        }
    }

    /// A burst of signed follows from `actors` actors on each of `remotes` servers, each sent
    /// twice (the second time from another server's connection, so mostly to the other
    /// process); returns when all are answered.
    async fn follow_burst(&mut self, remotes: usize, actors: usize) {
        let mut started = Vec::new();
        for _ in 0..remotes {
            started.push(FakeRemote::start().await);
        }
        self.remotes = Arc::new(started);
        let actor_url = format!("{}/initiatives/odesa-kitchen", self.public);
        let inbox = format!("{}/inbox", self.public);
        let mut sends = tokio::task::JoinSet::new();
        // A burst, but not beyond what a loaded test machine answers within the client timeout.
        let slots = Arc::new(tokio::sync::Semaphore::new(4));
        for (r, remote) in self.remotes.iter().enumerate() {
            for a in 0..actors {
                let who = remote.actor_id(&format!("a{a}"));
                let body = json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": format!("{who}/follows/1"), "type": "Follow",
                    "actor": who, "object": actor_url,
                })
                .to_string();
                for sender in [r, (r + 1) % remotes] {
                    let (remotes, inbox, who, body) = (
                        self.remotes.clone(),
                        inbox.clone(),
                        who.clone(),
                        body.clone(),
                    );
                    let slots = slots.clone();
                    sends.spawn(async move {
                        let _slot = slots.acquire_owned().await;
                        remotes[sender]
                            .post_signed(&who, &inbox, body.as_bytes())
                            .await
                    });
                }
            }
        }
        while let Some(sent) = sends.join_next().await {
            let (status, text) = sent.unwrap();
            assert!((200..300).contains(&status), "{status}: {text}");
        }
        assert_eq!(
            self.fed
                .follower_count(self.local, FollowerState::Accepted)
                .await
                .unwrap(),
            (remotes * actors) as u64
        );
    }

    async fn post_updates(&self, count: usize) {
        for n in 0..count {
            let body = format!("Meals served: {n}");
            let input = serde_json::from_value(json!({"kind": "news", "body": body})).unwrap();
            self.app
                .post_update(&self.moderator, "odesa-kitchen", input)
                .await
                .unwrap();
        }
    }

    /// Waits until nothing is pending and `expected` deliveries are done: from then on nothing
    /// more can be sent, so what the remotes counted is final.
    async fn wait_all_delivered(&self, expected: u64) {
        wait_until("every delivery is done", || {
            let fed = self.fed.clone();
            async move {
                let report = hromada_federation::queue_report(fed.as_ref())
                    .await
                    .unwrap();
                report.pending == 0
                    && report.hosts.iter().map(|h| h.delivered).sum::<u64>() == expected
            }
        })
        .await;
        let counts = self.fed.delivery_counts().await.unwrap();
        assert!(
            counts.iter().all(|c| c.status == DeliveryStatus::Delivered),
            "{counts:?}"
        );
    }

    /// Every remote got each follow of its actors answered once, and `updates` posts once each
    /// at its shared inbox.
    fn assert_exactly_once(&self, actors: usize, updates: usize) {
        for remote in self.remotes.iter() {
            let accepts = arrivals(remote, "Accept");
            assert_eq!(accepts.len(), actors, "{accepts:?}");
            assert!(
                accepts.values().all(|n| *n == 1),
                "an Accept came twice: {accepts:?}"
            );
            let creates = arrivals(remote, "Create");
            assert_eq!(creates.len(), updates, "{} got {creates:?}", remote.host());
            for ((path, id), n) in &creates {
                assert_eq!(path, "/inbox", "posts go to the shared inbox");
                assert_eq!(*n, 1, "{id} reached {} {n} times", remote.host());
            }
        }
    }

    /// Which of the processes holds a job's lease (panics when none or another does).
    async fn job_holder(&self, job: &str) -> Option<usize> {
        let lease = self.db.store().job_lease(job).await.unwrap()?;
        self.nodes
            .iter()
            .position(|n| lease.holder.starts_with(&format!("pid {} ", n.0.id())))
            .or_else(|| {
                panic!(
                    "{job} held by {}, not by a process of the node",
                    lease.holder
                )
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_deliver_every_activity_exactly_once() {
    const REMOTES: usize = 50;
    const ACTORS: usize = 3;
    const UPDATES: usize = 4;
    let Some((bin, server_url)) = prerequisites() else {
        return;
    };
    let mut cluster = Cluster::start(&bin, &server_url, &[]).await;
    cluster.follow_burst(REMOTES, ACTORS).await;
    let served = cluster.proxy.served();
    assert!(
        served.iter().all(|n| *n > 0),
        "both processes answered: {served:?}"
    );

    // Updates to every follower: both publishers race for each change.
    cluster.post_updates(UPDATES).await;
    cluster
        .wait_all_delivered((REMOTES * ACTORS + REMOTES * UPDATES) as u64)
        .await;
    cluster.assert_exactly_once(ACTORS, UPDATES);

    // The background jobs run in one process: the lease holder is one of the two.
    for job in ["backfill", "website-checks"] {
        assert!(cluster.job_holder(job).await.is_some(), "nobody took {job}");
    }
}

/// A process that claimed deliveries and died before sending them: the other process sends
/// each once its lease has expired, and takes over the background jobs. The claim is made by
/// the test itself, exactly between claiming and sending, while both processes are frozen;
/// then one is killed with SIGKILL and the other goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_process_claims_are_delivered_once_by_the_other() {
    const REMOTES: usize = 10;
    const UPDATES: usize = 3;
    let Some((bin, server_url)) = prerequisites() else {
        return;
    };
    let env = [
        // Long enough that a loaded machine does not time out a POST the receiver already
        // recorded (that retry would be correct at-least-once delivery, but not "once").
        ("HROMADA_LEASE_TIMEOUT", "10s"),
        ("HROMADA_REQUEST_TIMEOUT", "5s"),
    ];
    let mut cluster = Cluster::start(&bin, &server_url, &env).await;
    cluster.follow_burst(REMOTES, 1).await;
    cluster.wait_all_delivered(REMOTES as u64).await;
    wait_until("both jobs are taken", || async {
        cluster.job_holder("backfill").await.is_some()
            && cluster.job_holder("website-checks").await.is_some()
    })
    .await;

    for node in &cluster.nodes {
        signal(node, "STOP");
    }
    // Published and claimed as a process would, which then dies before sending.
    cluster.post_updates(UPDATES).await;
    let settings = hromada_federation::FederationSettings {
        allow_private_networks: true,
        ..hromada_federation::FederationSettings::new(cluster.public.parse().unwrap())
    };
    let dying =
        hromada_federation::Federation::new(settings, cluster.db.store(), cluster.fed.clone())
            .await
            .unwrap();
    assert!(dying.publish_pending().await.unwrap() >= UPDATES);
    let now = chrono::Utc::now();
    let claimed = cluster
        .fed
        .claim_deliveries(now, 1000, now + chrono::Duration::seconds(3))
        .await
        .unwrap();
    assert_eq!(claimed.len(), REMOTES * UPDATES);
    drop(dying);

    // The process running the backfill really dies; the other goes on and must take it over.
    let dead = cluster.job_holder("backfill").await.unwrap();
    let survivor = 1 - dead;
    signal(&cluster.nodes[dead], "KILL");
    signal(&cluster.nodes[survivor], "CONT");
    cluster
        .wait_all_delivered((REMOTES + REMOTES * UPDATES) as u64)
        .await;
    cluster.assert_exactly_once(1, UPDATES);
    wait_until("the survivor runs the jobs", || async {
        cluster.job_holder("backfill").await == Some(survivor)
            && cluster.job_holder("website-checks").await == Some(survivor)
    })
    .await;
}

/// Failed logins are counted in the database: guesses spread over both processes add up to
/// one count, so each process refuses the username once the node-wide limit is reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_are_counted_across_processes() {
    let Some((bin, server_url)) = prerequisites() else {
        return;
    };
    let cluster = Cluster::start(&bin, &server_url, &[]).await;
    let client = reqwest::Client::new();
    let login = |port: u16, password: &str| {
        client
            .post(format!("http://localhost:{port}/api/v1/auth/token"))
            .json(&json!({"username": "moderator", "password": password}))
            .send()
    };
    // The default limit is 10 per username in 15 minutes: five wrong guesses at each process.
    for n in 0..10 {
        let port = cluster.ports[n % 2];
        let answer = login(port, "a wrong guess").await.unwrap();
        assert_eq!(answer.status(), 401, "guess {n} at {port}");
    }
    for port in cluster.ports {
        let answer = login(port, "test-password-123").await.unwrap();
        assert_eq!(
            answer.status(),
            429,
            "the process on {port} counts the other's failures too"
        );
        assert!(answer.headers().contains_key("retry-after"));
    }
}
