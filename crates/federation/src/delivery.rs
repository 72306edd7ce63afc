//! Delivery workers: send queued activities, retry with backoff, keep host health, and report
//! the queue to admins.
//!
//! The worker claims due deliveries from the database in batches with a lease (so several
//! processes can share one PostgreSQL), hands each batch to the delivery lanes (`lanes.rs`,
//! a host always to the same lane), which sign and send each through
//! [`HttpSigner::send_activity`], at most `delivery_concurrency` at a time and
//! `per_host_concurrency` per host; the outcomes go to one recorder task, which writes the
//! results of everything that finished meanwhile in one transaction. A fan-out to thousands of
//! inboxes thus costs one claim query per few hundred deliveries and one write per batch of
//! results, and the activity's body is read, parsed, digested and its key looked up once per
//! batch, not per inbox.
//!
//! Failures are retried with exponential backoff for days; a permanent 4xx is not retried; a
//! host that keeps failing is marked unreachable and only probed, less and less often, until it
//! answers. A result not yet recorded when the process dies is sent again after its lease
//! (at least once, never lost); a result recorded after another worker claimed the delivery
//! again is dropped by the store, so the later claim's attempt decides.
//!
//! [`HttpSigner::send_activity`]: crate::signing::HttpSigner::send_activity

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hromada_store::{
    Delivery, DeliveryResult, DeliveryStatus, FederationStore, FinishedDeliveries, HostState,
    LocalActor, StoreError, host_matches_domain,
};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::Inner;
use crate::lanes::{Job, Lane, Lanes};
use crate::signing::{OutgoingBody, SendOutcome, SigningKey};
use crate::urls::Urls;

/// How often finished rows are purged (by one process of the node: whichever takes the
/// `purge` lease, which lasts this long, first).
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Most results written in one transaction.
const RECORD_BATCH: usize = 512;
/// How long the recorder gathers results before writing them. A fan-out finishes hundreds of
/// deliveries in this time: written as they come, each transaction held a handful, and the
/// database work per delivery was a large part of a fan-out's CPU. Results not yet written
/// when the process dies are sent again after their lease, as before (at least once).
const RECORD_WINDOW: Duration = Duration::from_millis(100);

/// What one attempt came to, before it is turned into a [`DeliveryResult`] by the recorder.
enum Outcome {
    Sent(SendOutcome),
    /// The domain is blocked: cancelled without sending.
    Blocked,
    /// The host failed after this delivery was claimed: wait for its probe without trying.
    Postponed(Probe),
    /// Not sent for a passing reason of ours (the database, the key): try again soon, with
    /// nothing held against the host.
    Later(String),
}

struct Attempt {
    delivery: Delivery,
    outcome: Outcome,
    at: DateTime<Utc>,
}

/// A host this worker found unreachable, and when that became known.
#[derive(Clone)]
struct Probe {
    at: DateTime<Utc>,
    error: Option<String>,
    known: Instant,
}

/// Hosts that failed in this process while deliveries to them may be in hand already (the
/// claim query skips hosts waiting for a probe, so this only covers what was claimed before).
type Probing = Arc<Mutex<HashMap<String, Probe>>>;

/// An activity ready to send: its signer and body, prepared once per claimed batch.
struct Ready {
    key: SigningKey,
    body: OutgoingBody,
}

/// Why an activity could not be prepared.
enum Unready {
    /// The stored activity itself is unusable: sending it would never work.
    Broken(String),
    /// Its key could not be had just now.
    Later(String),
}

pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let limits = &inner.settings.limits;
    let concurrency = limits.delivery_concurrency.max(1);
    let lanes = match Lanes::start(concurrency, || {
        crate::fetch::client(
            inner.fetcher.user_agent(),
            limits.request_timeout,
            inner.settings.allow_private_networks,
        )
    }) {
        Ok(lanes) => lanes,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the delivery threads; nothing is delivered");
            return;
        }
    };
    // Deliveries claimed and not yet sent: enough that per-host limits never leave the
    // senders idle, few enough that a lease does not run out while they wait.
    let in_hand = (concurrency * 16).clamp(64, 1024);
    let claimed_slots = Arc::new(Semaphore::new(in_hand));
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let probing: Probing = Arc::default();
    let (results, results_rx) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record(inner.clone(), results_rx, probing.clone()));
    let mut last_purge = tokio::time::Instant::now();
    // The last claim found fewer than it asked for: wait for news before asking again.
    let mut drained = false;
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        if last_purge.elapsed() > PURGE_EVERY {
            last_purge = tokio::time::Instant::now();
            if let Err(e) = purge(&inner).await {
                tracing::warn!(error = %e, "purging old deliveries failed");
            }
        }
        // Hosts with nothing in hand hold no turn: forget them once there are more than could
        // be in hand at once, so a fan-out to thousands of servers does not keep them all.
        if hosts.len() > in_hand * 2 {
            hosts.retain(|_, s| Arc::strong_count(s) > 1);
        }
        let free = claimed_slots.available_permits();
        // One query per batch: while much is in hand, let it drain before claiming more.
        let wanted = if free == in_hand { 1 } else { in_hand / 2 };
        if !drained && free >= wanted {
            let claimed_at = Instant::now();
            let now = Utc::now();
            let lease_until = now + chrono::Duration::from_std(limits.lease).unwrap_or_default();
            let batch = match inner
                .fed
                .claim_deliveries(now, free as u32, lease_until)
                .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming deliveries failed");
                    Vec::new()
                }
            };
            drained = batch.len() < free;
            if !batch.is_empty() {
                let blocks = match inner.fed.domain_blocks().await {
                    Ok(b) => b,
                    Err(e) => {
                        // Sending could reach a blocked domain; the claimed rows come back after their lease.
                        tracing::warn!(error = %e, "reading domain blocks failed");
                        continue;
                    }
                };
                let mut ready: HashMap<String, Arc<Result<Ready, Unready>>> = HashMap::new();
                let mut jobs: Vec<Vec<Job>> = (0..lanes.count()).map(|_| Vec::new()).collect();
                for d in batch {
                    let activity = match ready.get(&d.activity_id) {
                        Some(r) => r.clone(),
                        None => {
                            let r = Arc::new(prepare(&inner, &d).await);
                            ready.insert(d.activity_id.clone(), r.clone());
                            r
                        }
                    };
                    let Ok(claimed) = claimed_slots.clone().try_acquire_owned() else {
                        break;
                    };
                    let blocked = blocks
                        .iter()
                        .any(|b| host_matches_domain(&d.host, &b.domain));
                    let host_slots = hosts
                        .entry(d.host.clone())
                        .or_insert_with(|| {
                            Arc::new(Semaphore::new(limits.per_host_concurrency.max(1)))
                        })
                        .clone();
                    let (inner, probing, results) =
                        (inner.clone(), probing.clone(), results.clone());
                    let lane = lanes.of_host(&d.host);
                    jobs[lane].push(Box::new(move |lane: Lane| {
                        Box::pin(async move {
                            let _claimed = claimed;
                            let outcome = if blocked {
                                Outcome::Blocked
                            } else if let Err(Unready::Later(why)) = activity.as_ref() {
                                Outcome::Later(why.clone())
                            } else if let Some(probe) = waiting(&probing, &d.host, claimed_at) {
                                Outcome::Postponed(probe)
                            } else {
                                // The host's turn first, then a sender: a delivery waiting for
                                // its host does not keep others from being sent.
                                let Ok(_host) = host_slots.acquire_owned().await else {
                                    return;
                                };
                                let Ok(_sender) = lane.sending.clone().acquire_owned().await
                                else {
                                    return;
                                };
                                // A send that could outlast the lease might overlap another
                                // process's send of the same delivery once it takes the
                                // expired lease: leave it to that one.
                                let timeout =
                                    chrono::Duration::from_std(inner.settings.limits.request_timeout);
                                if Utc::now() + timeout.unwrap_or_default() >= lease_until {
                                    tracing::info!(activity = %d.activity_id, inbox = %d.inbox, "lease too short to send; left for the next claim");
                                    return;
                                }
                                Outcome::Sent(send(&inner, &lane, &d, &activity).await)
                            };
                            let _ = results.send(Attempt {
                                delivery: d,
                                outcome,
                                at: Utc::now(),
                            });
                        })
                    }));
                }
                for (lane, jobs) in jobs.into_iter().enumerate() {
                    if !lanes.run(lane, jobs) {
                        // Their claims come back after the lease.
                        tracing::error!(
                            lane,
                            "a delivery thread is gone; its deliveries wait for their lease"
                        );
                    }
                }
                continue;
            }
        }
        // Wait for room to claim a batch, not for each send: waking this loop per finished
        // send cost a task switch per delivery.
        let room = claimed_slots.acquire_many(wanted as u32);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = inner.queued.notified() => drained = false,
            _ = tokio::time::sleep(limits.poll_interval) => drained = false,
            Ok(_) = room, if !drained => {}
        }
    }
    // Give in-flight sends a moment; whatever does not finish is retried after its lease.
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        claimed_slots.acquire_many(in_hand as u32),
    )
    .await;
    drop(lanes);
    // The recorder writes what finished, then stops when the last sender is gone.
    drop(results);
    if tokio::time::timeout(Duration::from_secs(10), recorder)
        .await
        .is_err()
    {
        tracing::warn!("recording the last delivery results timed out; they will be retried");
    }
}

/// The activity's key and body (the key of the activity's own actor: Mastodon drops relayed
/// activities), or why it cannot be sent.
/// Deletes finished rows older than `keep_finished`, unless another process did within the hour.
async fn purge(inner: &Inner) -> Result<(), StoreError> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(PURGE_EVERY).unwrap_or_default();
    if inner
        .store
        .take_lease("purge", &inner.holder, now, until)
        .await?
    {
        let keep = chrono::Duration::from_std(inner.settings.limits.keep_finished);
        inner
            .fed
            .purge_before(now - keep.unwrap_or_default())
            .await?;
    }
    Ok(())
}

async fn prepare(inner: &Inner, d: &Delivery) -> Result<Ready, Unready> {
    let broken = |why: String| Unready::Broken(why);
    let body: serde_json::Value =
        serde_json::from_str(&d.body).map_err(|e| broken(format!("stored activity: {e}")))?;
    let actor_id = body
        .get("actor")
        .and_then(|a| a.as_str())
        .ok_or_else(|| broken("stored activity has no actor".into()))?
        .to_string();
    if d.actor == LocalActor::Instance && actor_id != inner.urls.instance_actor() {
        return Err(broken("activity actor does not match its signer".into()));
    }
    let keypair = inner.keys.get(d.actor).await.map_err(|e| {
        tracing::warn!(activity = %d.activity_id, error = %e, "the signing key could not be had; delivery postponed");
        Unready::Later(e.to_string())
    })?;
    Ok(Ready {
        key: SigningKey {
            key_id: Urls::key_id(&actor_id),
            actor_id,
            keypair,
        },
        body: OutgoingBody::new(Bytes::copy_from_slice(d.body.as_bytes())),
    })
}

async fn send(
    inner: &Inner,
    lane: &Lane,
    d: &Delivery,
    activity: &Result<Ready, Unready>,
) -> SendOutcome {
    let ready = match activity {
        Ok(r) => r,
        Err(Unready::Broken(why) | Unready::Later(why)) => {
            return SendOutcome::Refused(why.clone());
        }
    };
    let inbox = match Url::parse(&d.inbox) {
        Ok(u) => u,
        Err(e) => return SendOutcome::Refused(format!("inbox is not a URL: {e}")),
    };
    inner
        .signer
        .send_activity(
            &lane.client,
            &ready.key,
            &d.activity_id,
            &ready.body,
            &inbox,
        )
        .await
}

/// When the host became unreachable after `claimed_at`, the probe to wait for.
fn waiting(probing: &Probing, host: &str, claimed_at: Instant) -> Option<Probe> {
    let map = probing.lock().ok()?;
    map.get(host)
        .filter(|p| p.known > claimed_at && p.at > Utc::now())
        .cloned()
}

/// Writes the results of finished attempts, everything that arrived meanwhile at once.
async fn record(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Attempt>, probing: Probing) {
    let mut attempts = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut attempts, RECORD_BATCH).await > 0 {
        // Sleep through the window instead of waiting on the channel, which woke this task
        // for every result; then take what arrived.
        if attempts.len() + rx.len() < RECORD_BATCH {
            tokio::time::sleep(RECORD_WINDOW).await;
        }
        while attempts.len() < RECORD_BATCH
            && let Ok(attempt) = rx.try_recv()
        {
            attempts.push(attempt);
        }
        let finished = settle(&inner, &probing, std::mem::take(&mut attempts)).await;
        let mut tries = 0;
        while let Err(e) = inner.fed.finish_deliveries(&finished).await {
            tries += 1;
            if tries == 3 {
                tracing::warn!(error = %e, count = finished.results.len(), "recording delivery results failed; they will be retried after their lease");
                break;
            }
            tokio::time::sleep(Duration::from_millis(200 * tries)).await;
        }
    }
}

/// Turns attempts into results and host states, in the order they finished.
async fn settle(inner: &Inner, probing: &Probing, attempts: Vec<Attempt>) -> FinishedDeliveries {
    let limits = &inner.settings.limits;
    let now = Utc::now();
    let mut failing: HashMap<String, HostState> = HashMap::new();
    let mut answered: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut results = Vec::with_capacity(attempts.len());
    let finish =
        |status, attempted, next: DateTime<Utc>, http: Option<u16>, error: Option<String>| {
            DeliveryResult {
                status,
                attempted,
                next_attempt_at: next,
                http_status: http,
                error,
            }
        };
    for Attempt {
        delivery: d,
        outcome,
        at,
    } in attempts
    {
        let sent = match outcome {
            Outcome::Blocked => {
                let r = finish(
                    DeliveryStatus::Cancelled,
                    false,
                    now,
                    None,
                    Some("domain blocked".into()),
                );
                results.push((d.claim(), r));
                continue;
            }
            Outcome::Postponed(p) => {
                results.push((
                    d.claim(),
                    finish(DeliveryStatus::Pending, false, p.at, None, p.error),
                ));
                continue;
            }
            Outcome::Later(why) => {
                let age = now - d.created_at;
                let result = if age
                    > chrono::Duration::from_std(limits.give_up_after).unwrap_or_default()
                {
                    tracing::warn!(activity = %d.activity_id, inbox = %d.inbox, error = %why, "giving up on delivery");
                    finish(DeliveryStatus::Failed, false, now, None, Some(why))
                } else {
                    let next = now + backoff(1, limits.retry_base, limits.retry_max);
                    finish(DeliveryStatus::Pending, false, next, None, Some(why))
                };
                results.push((d.claim(), result));
                continue;
            }
            Outcome::Sent(sent) => sent,
        };
        let result = match &sent {
            SendOutcome::Status(s) if (200..300).contains(s) => {
                tracing::debug!(activity = %d.activity_id, inbox = %d.inbox, status = s, "delivered");
                answered.insert(d.host.clone(), at);
                finish(DeliveryStatus::Delivered, true, now, Some(*s), None)
            }
            SendOutcome::Status(s) if (400..500).contains(s) && *s != 408 && *s != 429 => {
                tracing::info!(activity = %d.activity_id, inbox = %d.inbox, status = s, "delivery rejected by the receiver; not retrying");
                answered.insert(d.host.clone(), at);
                finish(
                    DeliveryStatus::Rejected,
                    true,
                    now,
                    Some(*s),
                    Some(format!("HTTP {s}")),
                )
            }
            SendOutcome::Refused(why) => {
                tracing::warn!(activity = %d.activity_id, inbox = %d.inbox, reason = %why, "delivery refused before sending");
                finish(
                    DeliveryStatus::Cancelled,
                    true,
                    now,
                    None,
                    Some(why.clone()),
                )
            }
            SendOutcome::Status(_) | SendOutcome::Network(_) => {
                let (http, error) = match &sent {
                    SendOutcome::Status(s) => (Some(*s), format!("HTTP {s}")),
                    SendOutcome::Network(e) | SendOutcome::Refused(e) => (None, e.clone()),
                };
                let host = match failing.entry(d.host.clone()) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let stored = inner.fed.host_state(&d.host).await.unwrap_or_else(|e| {
                            tracing::warn!(error = %e, host = %d.host, "reading host state failed");
                            None
                        });
                        e.insert(stored.unwrap_or_else(|| HostState::new(&d.host)))
                    }
                };
                // It answered earlier in this batch: count failures from there.
                if let Some(ok) = answered.remove(&d.host) {
                    host_answered(host, ok);
                }
                host_failed(host, at, &error, limits);
                if let (Some(probe), Ok(mut map)) = (host.next_probe_at, probing.lock()) {
                    map.insert(
                        d.host.clone(),
                        Probe {
                            at: probe,
                            error: host.last_error.clone(),
                            known: Instant::now(),
                        },
                    );
                }
                let age = at - d.created_at;
                if age > chrono::Duration::from_std(limits.give_up_after).unwrap_or_default() {
                    tracing::warn!(activity = %d.activity_id, inbox = %d.inbox, %error, "giving up on delivery");
                    finish(DeliveryStatus::Failed, true, now, http, Some(error))
                } else {
                    let next = at + backoff(d.attempts + 1, limits.retry_base, limits.retry_max);
                    let next = host.next_probe_at.map_or(next, |p| p.max(next));
                    tracing::info!(activity = %d.activity_id, inbox = %d.inbox, %error, attempts = d.attempts + 1, next = %next, "delivery failed; will retry");
                    finish(DeliveryStatus::Pending, true, next, http, Some(error))
                }
            }
        };
        results.push((d.claim(), result));
    }
    if !answered.is_empty()
        && let Ok(mut map) = probing.lock()
    {
        map.retain(|host, p| !answered.contains_key(host) && p.at > now);
    }
    let mut hosts: Vec<HostState> = failing.into_values().collect();
    hosts.sort_by(|a, b| a.host.cmp(&b.host));
    FinishedDeliveries {
        results,
        hosts,
        answered: answered.into_iter().collect(),
    }
}

fn host_answered(host: &mut HostState, now: DateTime<Utc>) {
    host.consecutive_failures = 0;
    host.first_failure_at = None;
    host.next_probe_at = None;
    host.last_success_at = Some(now);
}

fn host_failed(host: &mut HostState, now: DateTime<Utc>, error: &str, limits: &crate::Limits) {
    host.consecutive_failures += 1;
    host.first_failure_at.get_or_insert(now);
    host.last_failure_at = Some(now);
    host.last_error = Some(error.chars().take(500).collect());
    let beyond = host.consecutive_failures - limits.host_unreachable_after;
    if beyond >= 0 {
        host.next_probe_at = Some(now + backoff(beyond + 1, limits.retry_base, limits.probe_max));
    }
}

/// `base · 2^(attempt-1)`, at most `max`, with up to 10 % jitter so retries spread out.
pub(crate) fn backoff(attempt: i32, base: Duration, max: Duration) -> chrono::Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let delay = base.saturating_mul(1u32 << exp.min(20)).min(max);
    let jitter = delay.mul_f64(rand::random::<f64>() * 0.1);
    chrono::Duration::from_std(delay + jitter).unwrap_or(chrono::Duration::MAX)
}

/// The delivery queue of one remote host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostQueue {
    pub host: String,
    pub pending: u64,
    pub delivered: u64,
    pub rejected: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
    /// Failing for long enough that it is only probed now and then.
    pub unreachable: bool,
    pub next_probe_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The whole queue, per host, for admins (`GET /api/v1/admin/queue`, `hromada admin queue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueReport {
    pub generated_at: DateTime<Utc>,
    pub pending: u64,
    pub hosts: Vec<HostQueue>,
}

impl QueueReport {
    /// A plain-text table for the command line.
    pub fn to_text(&self) -> String {
        let mut out = format!("{} deliveries pending\n", self.pending);
        out.push_str(
            "host                                 pending delivered rejected failed  state\n",
        );
        for h in &self.hosts {
            let state = if h.unreachable {
                format!(
                    "unreachable, next probe {}",
                    h.next_probe_at.map(|t| t.to_rfc3339()).unwrap_or_default()
                )
            } else if h.consecutive_failures > 0 {
                format!(
                    "{} failures: {}",
                    h.consecutive_failures,
                    h.last_error.as_deref().unwrap_or("")
                )
            } else {
                "ok".to_string()
            };
            out.push_str(&format!(
                "{:<36} {:>7} {:>9} {:>8} {:>6}  {state}\n",
                h.host, h.pending, h.delivered, h.rejected, h.failed
            ));
        }
        out
    }
}

/// Builds the queue report straight from the database (no running node needed).
pub async fn queue_report(fed: &dyn FederationStore) -> Result<QueueReport, StoreError> {
    let now = Utc::now();
    let mut hosts: HashMap<String, HostQueue> = HashMap::new();
    for c in fed.delivery_counts().await? {
        let h = hosts.entry(c.host.clone()).or_insert_with(|| HostQueue {
            host: c.host.clone(),
            ..Default::default()
        });
        match c.status {
            DeliveryStatus::Pending => {
                h.pending = c.count;
                h.oldest_pending_at = c.oldest_created_at;
                h.next_attempt_at = c.next_attempt_at;
            }
            DeliveryStatus::Delivered => h.delivered = c.count,
            DeliveryStatus::Rejected => h.rejected = c.count,
            DeliveryStatus::Failed => h.failed = c.count,
            DeliveryStatus::Cancelled => h.cancelled = c.count,
        }
    }
    for s in fed.host_states().await? {
        let h = hosts.entry(s.host.clone()).or_insert_with(|| HostQueue {
            host: s.host.clone(),
            ..Default::default()
        });
        h.consecutive_failures = s.consecutive_failures;
        h.unreachable = s.next_probe_at.is_some();
        h.next_probe_at = s.next_probe_at;
        h.last_success_at = s.last_success_at;
        h.last_failure_at = s.last_failure_at;
        h.last_error = s.last_error;
    }
    let mut hosts: Vec<HostQueue> = hosts.into_values().collect();
    hosts.sort_by(|a, b| b.pending.cmp(&a.pending).then_with(|| a.host.cmp(&b.host)));
    Ok(QueueReport {
        generated_at: now,
        pending: hosts.iter().map(|h| h.pending).sum(),
        hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_secs(60);
        let max = Duration::from_secs(3600);
        let secs = |a| backoff(a, base, max).num_seconds();
        assert!((60..=66).contains(&secs(1)));
        assert!((120..=132).contains(&secs(2)));
        assert!((3600..=3960).contains(&secs(10)));
        assert!((3600..=3960).contains(&secs(1000)));
    }

    #[test]
    fn hosts_become_unreachable_after_repeated_failures() {
        let limits = crate::Limits {
            host_unreachable_after: 3,
            ..Default::default()
        };
        let mut h = HostState::new("m.example");
        let now = Utc::now();
        for _ in 0..2 {
            host_failed(&mut h, now, "connection refused", &limits);
        }
        assert!(h.next_probe_at.is_none());
        host_failed(&mut h, now, "connection refused", &limits);
        assert!(h.next_probe_at.is_some_and(|p| p > now));
        host_answered(&mut h, now);
        assert_eq!((h.consecutive_failures, h.next_probe_at), (0, None));
    }
}
