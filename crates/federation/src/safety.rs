//! Rules for every outgoing request: which URLs may be fetched or posted to at all.
//!
//! Remote servers choose the URLs we fetch (actor ids, key ids, inboxes), so without these
//! checks anyone could make the node call its own admin API or a cloud metadata service.
//! Host names are checked again at connect time by the DNS resolver (see `fetch::client`),
//! which closes DNS-rebinding tricks; this module covers literal IPs and schemes.

use std::net::{IpAddr, Ipv4Addr};

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeUrl {
    #[error("only https URLs are allowed")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("URLs with user names or passwords are not allowed")]
    Credentials,
    #[error("address {0} is private, loopback or link-local")]
    PrivateAddress(IpAddr),
}

/// Whether the node may send a request to `url`.
pub fn check_url(url: &Url, allow_private_networks: bool) -> Result<(), UnsafeUrl> {
    match url.scheme() {
        "https" => {}
        "http" if allow_private_networks => {}
        _ => return Err(UnsafeUrl::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UnsafeUrl::Credentials);
    }
    let ip = match url.host() {
        None => return Err(UnsafeUrl::NoHost),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
    };
    if !allow_private_networks && is_internal(ip) {
        return Err(UnsafeUrl::PrivateAddress(ip));
    }
    Ok(())
}

/// Addresses that are not on the public internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // An IPv4 address carried in two segments, which the network may route to.
            let carried = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_internal(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
                || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && carried(s[6], s[7])) // NAT64
                || (s[0] == 0x2002 && carried(s[1], s[2])) // 6to4
                || (s[..6] == [0; 6] && carried(s[6], s[7])) // IPv4-compatible (deprecated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allow: bool) -> Result<(), UnsafeUrl> {
        check_url(&Url::parse(url).unwrap(), allow)
    }

    #[test]
    fn refuses_private_addresses_and_plain_http() {
        assert!(check("https://mastodon.example/users/a", false).is_ok());
        assert_eq!(
            check("http://mastodon.example/", false),
            Err(UnsafeUrl::Scheme)
        );
        assert_eq!(
            check("ftp://mastodon.example/", true),
            Err(UnsafeUrl::Scheme)
        );
        for bad in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:192.168.0.1]/",
            "https://100.64.0.1/",
            "https://[64:ff9b::a00:5]/",
            "https://[64:ff9b:1::808:808]/",
            "https://[2002:c0a8:1::1]/",
            "https://[::10.0.0.1]/",
        ] {
            assert!(
                matches!(check(bad, false), Err(UnsafeUrl::PrivateAddress(_))),
                "{bad}"
            );
        }
        // Public IPv4 addresses inside IPv6 are public.
        assert!(check("https://[64:ff9b::808:808]/", false).is_ok());
        assert!(check("https://[2002:808:808::1]/", false).is_ok());
        assert!(check("http://127.0.0.1:3000/", true).is_ok());
        assert_eq!(
            check("https://user:pw@mastodon.example/", false),
            Err(UnsafeUrl::Credentials)
        );
        assert!(check("https://1.1.1.1/", false).is_ok());
    }
}
