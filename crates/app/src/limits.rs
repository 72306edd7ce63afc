//! Per-client limits, counted in the database so that every process serving the node shares
//! one count: what anyone may do without an account (submissions, reports), and failed logins.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::Mac;
use hromada_domain::User;

use crate::{App, AppError, AppResult, now};

/// How many failed logins are tolerated within a sliding window, per username and per client
/// address, so guessing passwords is slow whichever of the two an attacker varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_username: u32,
    pub per_ip: u32,
    pub window: Duration,
}

/// Usernames longer than any valid one are cut before being used as keys.
const MAX_USERNAME_KEY: usize = 64;

/// At most `max` requests of one kind per client in each fixed window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

impl App {
    /// Counts one request on `key` (kind and client, e.g. `submit:ip:192.0.2.1`).
    /// `Ok(Err(wait))` when the client is over its limit; it may try again after `wait`.
    /// Windows are aligned to the epoch, so every process agrees on where one starts.
    pub async fn count_request(
        &self,
        key: &str,
        limit: RateLimit,
    ) -> AppResult<Result<(), Duration>> {
        let window_ms = i64::try_from(limit.window.as_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| AppError::Internal("rate limit window out of range".into()))?;
        let at = now();
        let start_ms = at.timestamp_millis() - at.timestamp_millis().rem_euclid(window_ms);
        let start = chrono::DateTime::from_timestamp_millis(start_ms)
            .ok_or_else(|| AppError::Internal("rate limit window out of range".into()))?;
        let end = start + chrono::Duration::milliseconds(window_ms);
        let hits = self.store.record_hit(key, start, end, at).await?;
        if hits <= limit.max {
            return Ok(Ok(()));
        }
        Ok(Err((end - at).to_std().unwrap_or(Duration::from_secs(1))))
    }
}

impl App {
    /// [`App::login`], refused with [`AppError::TooManyLogins`] while this username or client
    /// address has failed `limits` times within the window. A wrong password counts against
    /// both; a correct one clears the username's count but not the address's, so one valid
    /// account does not reset the count for guessing others. Each attempt is counted before
    /// its password is checked (and forgotten when it was right), so a burst of guesses sent
    /// at once cannot all pass the check while none has been counted yet.
    ///
    /// `device` is the proof a browser keeps of having signed in as this user before
    /// ([`App::device_proof`]): such a browser is not held back by the username's count, so
    /// guessing a moderator's password from elsewhere cannot lock them out; its address's
    /// count still applies.
    pub async fn login_limited(
        &self,
        ip: Option<IpAddr>,
        device: Option<&str>,
        username: &str,
        password: &str,
        limits: LoginLimits,
    ) -> AppResult<User> {
        let window = chrono::Duration::from_std(limits.window)
            .map_err(|_| AppError::Internal("login window out of range".into()))?;
        let user_key = format!("user:{}", username_key(username));
        let ip_key = ip.map(|ip| format!("ip:{}", client_key(ip)));
        let known_device = match device {
            Some(proof) => self
                .store
                .user_by_username(&username.trim().to_ascii_lowercase())
                .await?
                .is_some_and(|user| proves_device(&user, proof)),
            None => false,
        };
        // The username's count, unless this browser proved it signed in as this user before.
        let per_username = |max: u32| (!known_device).then_some(max);
        let at = now();
        let mut wait = match per_username(limits.per_username) {
            Some(max) => self.login_wait(&user_key, max, window, at).await?,
            None => None,
        };
        if let Some(key) = &ip_key {
            wait = wait.max(self.login_wait(key, limits.per_ip, window, at).await?);
        }
        if let Some(wait) = wait {
            return Err(AppError::TooManyLogins(wait));
        }
        let keys: Vec<String> = std::iter::once(user_key.clone())
            .chain(ip_key.clone())
            .collect();
        let attempt = now();
        self.store
            .record_login_failure(&keys, attempt, attempt - window)
            .await?;
        // Counted with the attempts made meanwhile: beyond the limit, this one is not tried.
        let mut wait = match per_username(limits.per_username + 1) {
            Some(max) => self.login_wait(&user_key, max, window, attempt).await?,
            None => None,
        };
        if let Some(key) = &ip_key {
            wait = wait.max(
                self.login_wait(key, limits.per_ip + 1, window, attempt)
                    .await?,
            );
        }
        if let Some(wait) = wait {
            return Err(AppError::TooManyLogins(wait));
        }
        match self.login(username, password).await {
            Ok(user) => {
                self.store.forget_login_attempt(&keys, attempt).await?;
                self.store.clear_login_failures(&user_key).await?;
                Ok(user)
            }
            Err(AppError::BadCredentials) => Err(AppError::BadCredentials),
            Err(other) => {
                // Not a wrong password (the database, say): not held against anyone.
                self.store.forget_login_attempt(&keys, attempt).await?;
                Err(other)
            }
        }
    }

    /// What a browser keeps (in a long-lived cookie) once it signed in as `user`, to prove it
    /// later to [`App::login_limited`]: a MAC of the user's id keyed with their password hash,
    /// so only this node can make one, and a password change voids every one made before.
    pub fn device_proof(user: &User) -> String {
        URL_SAFE_NO_PAD.encode(device_mac(user).finalize().into_bytes())
    }

    /// How long until `key` may try again, if it has failed `max` times within the window.
    async fn login_wait(
        &self,
        key: &str,
        max: u32,
        window: chrono::Duration,
        at: DateTime<Utc>,
    ) -> AppResult<Option<Duration>> {
        let newest = self.store.login_failures(key, at - window, max).await?;
        if newest.len() < max as usize {
            return Ok(None);
        }
        // Allowed again when the oldest of the `max` newest failures leaves the window.
        let Some(oldest_counted) = newest.last() else {
            return Ok(None);
        };
        Ok(Some(
            (*oldest_counted + window - at)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_secs(1)),
        ))
    }
}

type DeviceMac = hmac::Hmac<sha2::Sha256>;

fn device_mac(user: &User) -> DeviceMac {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = DeviceMac::new_from_slice(user.password_hash.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"hromada-device:");
    mac.update(user.id.as_bytes());
    mac
}

/// Whether `proof` is [`App::device_proof`] of `user` (compared in constant time).
fn proves_device(user: &User, proof: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(proof)
        .is_ok_and(|tag| device_mac(user).verify_slice(&tag).is_ok())
}

fn username_key(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_USERNAME_KEY)
        .collect()
}

/// The address a client is counted under: IPv6 clients usually control a whole /64, so they
/// are counted per /64 (and IPv4-mapped addresses as IPv4).
pub fn client_key(ip: IpAddr) -> IpAddr {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_per_ipv4_address_and_ipv6_slash_64() {
        let key = |s: &str| client_key(s.parse().unwrap()).to_string();
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_eq!(key("2001:db8::1"), key("2001:db8::ffff"));
        assert_ne!(key("2001:db8::1"), key("2001:db8:1::1"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn usernames_are_counted_case_and_space_blind() {
        assert_eq!(username_key(" OLENA "), "olena");
        assert_eq!(username_key(&"я".repeat(100)).chars().count(), 64);
    }
}
