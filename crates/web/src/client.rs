//! Who is asking, as far as limits are concerned: the client's address (seen through the
//! reverse proxies the node is told to trust) and the per-client limits on what anyone may do
//! without an account — submissions and reports.
//!
//! The counts live in the database (`Store::record_hit`), so every process serving the node
//! behind one proxy enforces one limit.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use hromada_app::{AppError, RateLimit};
use hromada_domain::User;

use crate::state::WebState;

/// Addresses and networks (`192.0.2.10`, `10.0.0.0/8`, `fd00::/8`) whose `X-Forwarded-For`
/// is believed. Empty by default: then the socket's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a list of addresses and CIDR networks; the error names the bad entry.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, prefix) = match entry.split_once('/') {
                Some((addr, prefix)) => (addr, Some(prefix)),
                None => (entry, None),
            };
            let bad = || format!("`{entry}` is not an IP address or network such as 10.0.0.0/8");
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
                None => max,
            };
            // An IPv4-mapped entry (`::ffff:10.0.0.1`) means the IPv4 network, as clients are
            // compared as IPv4 too.
            let net = match addr {
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) if prefix >= 96 => (IpAddr::V4(v4), prefix - 96),
                    // Wider than the mapped range: it would never match an IPv4 client.
                    Some(_) => return Err(bad()),
                    None => (addr, prefix),
                },
                IpAddr::V4(_) => (addr, prefix),
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, prefix)| match (*net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), *prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), *prefix),
            _ => false,
        })
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (bytes, bits) = (usize::from(prefix / 8), prefix % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    bits == 0 || {
        let mask = 0xffu8 << (8 - bits);
        (a[bytes] & mask) == (b[bytes] & mask)
    }
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the nearest address
/// in `X-Forwarded-For` that is not a trusted proxy itself. Entries further left were written
/// by whoever sent the request and are never believed.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?;
    if !trusted.contains(client) {
        return Some(client);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in forwarded.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
            // A garbled entry ends what can be believed; the last good hop stands.
            Err(_) => break,
        }
    }
    Some(client)
}

/// What is limited per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Submission,
    Report,
}

/// Counts one request of this kind for the client. `Ok(Err(wait))` when it is over its limit.
/// Moderators and admins are not counted: they import and review in bulk, and have accounts
/// that can be disabled.
pub(crate) async fn count(
    state: &WebState,
    kind: Limited,
    ip: Option<IpAddr>,
    user: Option<&User>,
) -> Result<Result<(), Duration>, AppError> {
    if user.is_some_and(User::is_moderator) {
        return Ok(Ok(()));
    }
    let settings = state.settings();
    let (name, limit): (&str, RateLimit) = match kind {
        Limited::Submission => ("submit", settings.submission_limit),
        Limited::Report => ("report", settings.report_limit),
    };
    let client = ip.map_or_else(
        || "unknown".to_string(),
        |ip| hromada_app::client_key(ip).to_string(),
    );
    state
        .app()
        .count_request(&format!("{name}:ip:{client}"), limit)
        .await
}

/// [`count`] for the API: 429 with `Retry-After` and what was limited.
pub(crate) async fn check_api(
    state: &WebState,
    kind: Limited,
    ip: Option<IpAddr>,
    user: Option<&User>,
) -> Result<(), crate::ApiError> {
    let Err(wait) = count(state, kind, ip, user).await? else {
        return Ok(());
    };
    let settings = state.settings();
    let (what, limit) = match kind {
        Limited::Submission => ("submissions", settings.submission_limit),
        Limited::Report => ("reports", settings.report_limit),
    };
    tracing::info!(?ip, what, "rate limited");
    Err(crate::ApiError::too_many(
        wait,
        format!(
            "too many {what} from your address (at most {} per {} minutes); nothing was stored, try again after Retry-After seconds",
            limit.max,
            limit.window.as_secs().div_ceil(60)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let t = TrustedProxies::parse(["10.0.0.0/8", " 192.0.2.7 ", "fd00::/8", ""]).unwrap();
        assert!(t.contains("10.200.3.4".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(t.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(!t.contains("11.0.0.1".parse().unwrap()));
        let t = TrustedProxies::parse(["172.16.0.0/12"]).unwrap();
        assert!(t.contains("172.31.255.1".parse().unwrap()));
        assert!(!t.contains("172.32.0.1".parse().unwrap()));
        // IPv4-mapped entries are IPv4 networks (and never index past an IPv4 address).
        let t = TrustedProxies::parse(["::ffff:127.0.0.1", "::ffff:10.0.0.0/104"]).unwrap();
        assert!(t.contains("127.0.0.1".parse().unwrap()));
        assert!(t.contains("::ffff:10.9.8.7".parse().unwrap()));
        assert!(!t.contains("127.0.0.2".parse().unwrap()));
        let all_v4 = TrustedProxies::parse(["::ffff:0:0/96"]).unwrap();
        assert!(all_v4.contains("203.0.113.9".parse().unwrap()));
        assert!(!all_v4.contains("2001:db8::1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "proxy.local",
            "10.0.0.0/x",
            "::/129",
            "::ffff:0:0/80",
        ] {
            assert!(TrustedProxies::parse([bad]).unwrap_err().contains(bad));
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let none = TrustedProxies::default();
        let trusted = TrustedProxies::parse(["10.0.0.0/24"]).unwrap();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(Some(proxy), &h, &none),
            Some(proxy),
            "not trusted"
        );
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        // A client cannot choose its address by sending its own header: only the rightmost
        // untrusted hop counts.
        let h = headers(&["1.1.1.1, 203.0.113.9", "10.0.0.1"]);
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        let outsider: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(Some(outsider), &h, &trusted), Some(outsider));
        assert_eq!(client_ip(Some(proxy), &headers(&[]), &trusted), Some(proxy));
        assert_eq!(
            client_ip(Some(proxy), &headers(&["garbage, 10.0.0.1"]), &trusted),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(client_ip(None, &h, &trusted), None);
    }
}
