//! Per-client limits, counted in the database so that every process serving the node shares
//! one count: what anyone may do without an account (submissions, reports), and failed logins.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::Mac;
use hromada_domain::User;
use sha2::{Digest, Sha256};

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
    /// ([`App::device_proof`]): such a browser is held back by a count of its own (as many
    /// failures as the username's) instead of the username's, so guessing a moderator's
    /// password from elsewhere cannot lock them out, and a copied cookie does not lift the
    /// limit. The address's count applies in any case.
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
        let device_key = match device {
            Some(proof) => self
                .store
                .user_by_username(&username.trim().to_ascii_lowercase())
                .await?
                .filter(|user| proves_device(user, proof, now()))
                .map(|_| format!("device:{}", &hex::encode(Sha256::digest(proof))[..32])),
            None => None,
        };
        // The count besides the address's: the username's, or this known browser's own.
        let own_key = device_key.as_ref().unwrap_or(&user_key);
        let at = now();
        let mut wait = self
            .login_wait(own_key, limits.per_username, window, at)
            .await?;
        if let Some(key) = &ip_key {
            wait = wait.max(self.login_wait(key, limits.per_ip, window, at).await?);
        }
        if let Some(wait) = wait {
            return Err(AppError::TooManyLogins(wait));
        }
        let keys: Vec<String> = std::iter::once(user_key.clone())
            .chain(device_key.clone())
            .chain(ip_key.clone())
            .collect();
        let attempt = now();
        self.store
            .record_login_failure(&keys, attempt, attempt - window)
            .await?;
        // Counted with the attempts made meanwhile: beyond the limit, this one is not tried.
        let mut wait = self
            .login_wait(own_key, limits.per_username + 1, window, attempt)
            .await?;
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
                if let Some(key) = &device_key {
                    self.store.clear_login_failures(key).await?;
                }
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

    /// What a browser keeps (in a cookie) once it signed in as `user`, to prove it later to
    /// [`App::login_limited`]: when it was made and a MAC of that and the user's id keyed with
    /// their password hash. Only whoever holds the hash can make one, a password change voids
    /// every one made before, and one older than [`DEVICE_PROOF_LIFETIME`] is refused.
    pub fn device_proof(user: &User, at: DateTime<Utc>) -> String {
        let made = at.timestamp();
        let tag = device_mac(user, made).finalize().into_bytes();
        format!("{made}.{}", URL_SAFE_NO_PAD.encode(tag))
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

/// How long a browser stays known as one its user signed in from, after each sign-in.
pub const DEVICE_PROOF_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(365 * 24 * 3600);

type DeviceMac = hmac::Hmac<Sha256>;

fn device_mac(user: &User, made: i64) -> DeviceMac {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = DeviceMac::new_from_slice(user.password_hash.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"hromada-device:");
    mac.update(user.id.as_bytes());
    mac.update(&made.to_be_bytes());
    mac
}

/// Whether `proof` is a live [`App::device_proof`] of `user` (the MAC compared in constant time).
fn proves_device(user: &User, proof: &str, at: DateTime<Utc>) -> bool {
    let Some((made, tag)) = proof.split_once('.') else {
        return false;
    };
    let (Ok(made), Ok(tag)) = (made.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
        return false;
    };
    let age = at.timestamp().saturating_sub(made);
    let lifetime = DEVICE_PROOF_LIFETIME.as_secs() as i64;
    // A few minutes ahead is another process's clock, not a forgery (that needs the hash).
    (-300..=lifetime).contains(&age) && device_mac(user, made).verify_slice(&tag).is_ok()
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

    fn user(name: &str, hash: &str) -> User {
        User {
            id: uuid::Uuid::new_v4(),
            username: name.into(),
            role: hromada_domain::Role::Moderator,
            password_hash: hash.into(),
            maintains: Vec::new(),
            disabled: false,
            created_at: now(),
        }
    }

    #[test]
    fn a_device_proof_is_for_one_user_one_password_and_a_year() {
        let olena = user("olena", "$argon2id$one");
        let t = now();
        let proof = App::device_proof(&olena, t);
        assert!(proves_device(&olena, &proof, t));
        assert!(proves_device(
            &olena,
            &proof,
            t + chrono::Duration::days(364)
        ));
        assert!(!proves_device(
            &olena,
            &proof,
            t + chrono::Duration::days(366)
        ));
        let with_new_password = User {
            password_hash: "$argon2id$two".into(),
            ..olena.clone()
        };
        assert!(
            !proves_device(&with_new_password, &proof, t),
            "a new password voids it"
        );
        assert!(!proves_device(&user("taras", "$argon2id$one"), &proof, t));
        // Made later than it claims, or altered: refused.
        let (made, tag) = proof.split_once('.').unwrap();
        let backdated = format!("{}.{tag}", made.parse::<i64>().unwrap() + 86_400);
        assert!(!proves_device(
            &olena,
            &backdated,
            t + chrono::Duration::days(2)
        ));
        for bad in ["", "x", "1.x", "abc.def", &proof[..proof.len() - 2]] {
            assert!(!proves_device(&olena, bad, t), "{bad}");
        }
    }

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
