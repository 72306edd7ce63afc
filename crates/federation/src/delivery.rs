//! Delivery workers: send queued activities, retry with backoff, keep host health, and report
//! the queue to admins.
//!
//! Workers claim due deliveries from the database with a lease (so several processes can share
//! one PostgreSQL), send each through [`HttpSigner::send_activity`], at most
//! `per_host_concurrency` at a time per host, and record the result. Failures are retried
//! with exponential backoff for days; a permanent 4xx is not retried; a host that keeps
//! failing is marked unreachable and only probed, less and less often, until it answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hromada_store::{
    Delivery, DeliveryResult, DeliveryStatus, FederationStore, HostState, LocalActor, StoreError,
    host_matches_domain,
};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::Inner;
use crate::signing::{SendOutcome, SigningKey};
use crate::urls::Urls;

/// How long a claimed delivery stays reserved for its worker.
const LEASE: Duration = Duration::from_secs(120);
/// How often finished rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let limits = &inner.settings.limits;
    let slots = Arc::new(Semaphore::new(limits.delivery_concurrency.max(1)));
    let hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>> = Arc::default();
    let mut in_flight = JoinSet::new();
    let mut last_purge = tokio::time::Instant::now();
    loop {
        while in_flight.try_join_next().is_some() {}
        if shutdown.is_cancelled() {
            break;
        }
        if last_purge.elapsed() > PURGE_EVERY {
            last_purge = tokio::time::Instant::now();
            let before =
                Utc::now() - chrono::Duration::from_std(limits.keep_finished).unwrap_or_default();
            if let Err(e) = inner.fed.purge_before(before).await {
                tracing::warn!(error = %e, "purging old deliveries failed");
            }
        }
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            let now = Utc::now();
            let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
            match inner.fed.claim_deliveries(now, free as u32, lease).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming deliveries failed");
                    Vec::new()
                }
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = inner.queued.notified() => {}
                _ = tokio::time::sleep(limits.poll_interval) => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            }
            continue;
        }
        for delivery in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let host_slots = host_semaphore(&hosts, &delivery.host, limits.per_host_concurrency);
            let inner = inner.clone();
            in_flight.spawn(async move {
                let _slot = slot;
                let Ok(_host_slot) = host_slots.acquire_owned().await else { return };
                if let Err(e) = attempt(&inner, delivery).await {
                    tracing::warn!(error = %e, "recording a delivery failed; it will be retried after its lease");
                }
            });
        }
    }
    // Give in-flight sends a moment; whatever does not finish is retried after its lease.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
}

fn host_semaphore(
    hosts: &Mutex<HashMap<String, Arc<Semaphore>>>,
    host: &str,
    limit: usize,
) -> Arc<Semaphore> {
    match hosts.lock() {
        Ok(mut map) => map
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(limit.max(1))))
            .clone(),
        Err(_) => Arc::new(Semaphore::new(limit.max(1))),
    }
}

/// Makes one attempt at a claimed delivery and records the result.
async fn attempt(inner: &Inner, d: Delivery) -> Result<(), StoreError> {
    let now = Utc::now();
    let limits = &inner.settings.limits;
    let mut host = inner
        .fed
        .host_state(&d.host)
        .await?
        .unwrap_or_else(|| HostState::new(&d.host));
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

    // Claimed before the host failed again: wait for its next probe without an attempt.
    if let Some(probe) = host.next_probe_at
        && probe > now
    {
        let r = finish(
            DeliveryStatus::Pending,
            false,
            probe,
            None,
            host.last_error.clone(),
        );
        return inner.fed.finish_delivery(d.id, &r, &host, false).await;
    }
    let blocks = inner.fed.domain_blocks().await?;
    if blocks
        .iter()
        .any(|b| host_matches_domain(&d.host, &b.domain))
    {
        let r = finish(
            DeliveryStatus::Cancelled,
            false,
            now,
            None,
            Some("domain blocked".into()),
        );
        return inner.fed.finish_delivery(d.id, &r, &host, false).await;
    }

    let outcome = match signing_key(inner, &d).await {
        Ok((key, inbox)) => {
            inner
                .signer
                .send_activity(&key, &d.activity_id, Bytes::from(d.body.clone()), &inbox)
                .await
        }
        Err(why) => SendOutcome::Refused(why),
    };
    let attempts = d.attempts + 1;
    let was_failing = host.consecutive_failures > 0;
    let result = match &outcome {
        SendOutcome::Status(s) if (200..300).contains(s) => {
            tracing::info!(activity = %d.activity_id, inbox = %d.inbox, status = s, "delivered");
            host_answered(&mut host, now);
            finish(DeliveryStatus::Delivered, true, now, Some(*s), None)
        }
        SendOutcome::Status(s) if (400..500).contains(s) && *s != 408 && *s != 429 => {
            tracing::info!(activity = %d.activity_id, inbox = %d.inbox, status = s, "delivery rejected by the receiver; not retrying");
            host_answered(&mut host, now);
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
            let (http, error) = match &outcome {
                SendOutcome::Status(s) => (Some(*s), format!("HTTP {s}")),
                SendOutcome::Network(e) => (None, e.clone()),
                SendOutcome::Refused(e) => (None, e.clone()),
            };
            host_failed(&mut host, now, &error, limits);
            let age = now - d.created_at;
            if age > chrono::Duration::from_std(limits.give_up_after).unwrap_or_default() {
                tracing::warn!(activity = %d.activity_id, inbox = %d.inbox, %error, "giving up on delivery");
                finish(DeliveryStatus::Failed, true, now, http, Some(error))
            } else {
                let next = now + backoff(attempts, limits.retry_base, limits.retry_max);
                let next = host.next_probe_at.map_or(next, |p| p.max(next));
                tracing::info!(activity = %d.activity_id, inbox = %d.inbox, %error, attempts, next = %next, "delivery failed; will retry");
                finish(DeliveryStatus::Pending, true, next, http, Some(error))
            }
        }
    };
    let wake = was_failing && host.consecutive_failures == 0;
    inner.fed.finish_delivery(d.id, &result, &host, wake).await
}

/// The key to sign with (the activity's own actor: Mastodon drops relayed activities) and the inbox.
async fn signing_key(inner: &Inner, d: &Delivery) -> Result<(SigningKey, Url), String> {
    let inbox = Url::parse(&d.inbox).map_err(|e| format!("inbox is not a URL: {e}"))?;
    let body: serde_json::Value =
        serde_json::from_str(&d.body).map_err(|e| format!("stored activity: {e}"))?;
    let actor_id = body
        .get("actor")
        .and_then(|a| a.as_str())
        .ok_or("stored activity has no actor")?
        .to_string();
    if d.actor == LocalActor::Instance && actor_id != inner.urls.instance_actor() {
        return Err("activity actor does not match its signer".into());
    }
    let keypair = inner.keys.get(d.actor).await.map_err(|e| e.to_string())?;
    Ok((
        SigningKey {
            key_id: Urls::key_id(&actor_id),
            actor_id,
            keypair,
        },
        inbox,
    ))
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
fn backoff(attempt: i32, base: Duration, max: Duration) -> chrono::Duration {
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
