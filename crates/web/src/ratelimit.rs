//! Login rate limiting: failed logins are counted per username and per client address over a
//! sliding window, so guessing passwords is slow whichever of the two an attacker varies.
//!
//! Kept in memory, per process: a restart forgets the counts, and a node run as several
//! processes on one database allows each process its own count (N processes: up to N times the
//! limit). That is accepted for logins, whose guessing argon2id already makes slow; submissions
//! and reports, which anyone may send, are counted in the database instead (`client.rs`).
//! The client address is the peer, or what a trusted proxy forwarded (`trusted_proxies`).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures are tolerated within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_username: u32,
    pub per_ip: u32,
    pub window: Duration,
}

/// Beyond this many tracked keys per kind new keys are not tracked, so a flood of made-up
/// usernames cannot exhaust memory (the per-address limit still applies to it).
const MAX_KEYS: usize = 100_000;
/// Usernames longer than any valid one are cut before being used as keys.
const MAX_USERNAME_KEY: usize = 64;
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub struct LoginLimiter {
    limits: LoginLimits,
    state: Mutex<Failures>,
}

struct Failures {
    by_username: HashMap<String, VecDeque<Instant>>,
    by_ip: HashMap<IpAddr, VecDeque<Instant>>,
    last_sweep: Option<Instant>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(Failures {
                by_username: HashMap::new(),
                by_ip: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// `Err(retry_after)` when this username or address has failed too often recently.
    pub fn check(&self, ip: Option<IpAddr>, username: &str) -> Result<(), Duration> {
        self.check_at(Instant::now(), ip, username)
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, username: &str) {
        self.record_failure_at(Instant::now(), ip, username);
    }

    /// A correct password clears the username's failures (not the address's: one valid
    /// account must not reset the count for guessing others).
    pub fn record_success(&self, username: &str) {
        self.lock().by_username.remove(&username_key(username));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        // The map stays consistent even if a holder panicked; keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_at(&self, now: Instant, ip: Option<IpAddr>, username: &str) -> Result<(), Duration> {
        let window = self.limits.window;
        let mut state = self.lock();
        let by_user = blocked_for(
            &mut state.by_username,
            &username_key(username),
            self.limits.per_username,
            window,
            now,
        );
        let by_ip = ip.and_then(|ip| {
            blocked_for(
                &mut state.by_ip,
                &ip_key(ip),
                self.limits.per_ip,
                window,
                now,
            )
        });
        match by_user.into_iter().chain(by_ip).max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    fn record_failure_at(&self, now: Instant, ip: Option<IpAddr>, username: &str) {
        let window = self.limits.window;
        let mut state = self.lock();
        if state
            .last_sweep
            .is_none_or(|at| now.duration_since(at) >= SWEEP_EVERY)
        {
            sweep(&mut state.by_username, window, now);
            sweep(&mut state.by_ip, window, now);
            state.last_sweep = Some(now);
        }
        push(&mut state.by_username, username_key(username), now);
        if let Some(ip) = ip {
            push(&mut state.by_ip, ip_key(ip), now);
        }
    }
}

fn username_key(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_USERNAME_KEY)
        .collect()
}

/// IPv6 clients usually control a whole /64, so they are counted per /64.
pub(crate) fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// How long until the key is allowed again, if it is blocked now.
fn blocked_for<K: Hash + Eq>(
    map: &mut HashMap<K, VecDeque<Instant>>,
    key: &K,
    max: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let failures = map.get_mut(key)?;
    forget_old(failures, window, now);
    if failures.len() < max as usize {
        return None;
    }
    // Allowed again when enough of the oldest failures have left the window.
    let index = failures.len() - max as usize;
    let oldest_counted = failures.get(index)?;
    Some((*oldest_counted + window).saturating_duration_since(now))
}

fn push<K: Hash + Eq>(map: &mut HashMap<K, VecDeque<Instant>>, key: K, now: Instant) {
    if !map.contains_key(&key) && map.len() >= MAX_KEYS {
        return;
    }
    let failures = map.entry(key).or_default();
    failures.push_back(now);
    // Nobody needs more history than a few windows' worth of the limit.
    if failures.len() > 1_000 {
        failures.pop_front();
    }
}

fn forget_old(failures: &mut VecDeque<Instant>, window: Duration, now: Instant) {
    while failures
        .front()
        .is_some_and(|at| now.duration_since(*at) >= window)
    {
        failures.pop_front();
    }
}

fn sweep<K: Hash + Eq>(map: &mut HashMap<K, VecDeque<Instant>>, window: Duration, now: Instant) {
    map.retain(|_, failures| {
        forget_old(failures, window, now);
        !failures.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            per_username: 3,
            per_ip: 5,
            window: Duration::from_secs(900),
        })
    }

    #[test]
    fn blocks_a_username_after_its_limit_and_for_the_rest_of_the_window() {
        let l = limiter();
        let start = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            assert!(l.check_at(start, Some(ip), "Olena").is_ok());
            l.record_failure_at(start + Duration::from_secs(i * 10), Some(ip), "olena");
        }
        let wait = l
            .check_at(start + Duration::from_secs(30), Some(ip), " OLENA ")
            .unwrap_err();
        // The first failure (at 0s) leaves the window at 900s.
        assert_eq!(wait, Duration::from_secs(870));
        assert!(l.check_at(start, Some(ip), "taras").is_ok());
        assert!(
            l.check_at(start + Duration::from_secs(900), Some(ip), "olena")
                .is_ok(),
            "failures expire"
        );
    }

    #[test]
    fn blocks_an_address_across_usernames() {
        let l = limiter();
        let now = Instant::now();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let neighbour: IpAddr = "2001:db8::ffff".parse().unwrap();
        for name in ["a", "b", "c", "d", "e"] {
            l.record_failure_at(now, Some(ip), name);
        }
        assert!(
            l.check_at(now, Some(neighbour), "fresh").is_err(),
            "same /64"
        );
        assert!(
            l.check_at(now, Some("2001:db8:1::1".parse().unwrap()), "fresh")
                .is_ok()
        );
        assert!(l.check_at(now, None, "fresh").is_ok());
    }

    #[test]
    fn success_clears_the_username_only() {
        let l = limiter();
        let now = Instant::now();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            l.record_failure_at(now, Some(ip), "olena");
        }
        assert!(l.check_at(now, Some(ip), "olena").is_err());
        l.record_success("olena");
        assert!(l.check_at(now, Some(ip), "olena").is_ok());
        l.record_failure_at(now, Some(ip), "x");
        l.record_failure_at(now, Some(ip), "y");
        assert!(
            l.check_at(now, Some(ip), "z").is_err(),
            "the address keeps its five failures"
        );
    }
}
