//! The remote side of the inbox benchmark: fictional actors with RSA-2048 keys, and activities
//! signed by them the way Mastodon signs (draft-cavage `rsa-sha256` over
//! `(request-target) host date digest`). Signing uses aws-lc-rs and happens before the timed
//! phase, so the generator only replays finished requests.
//!
//! Also the bare signing and verification rates of both RSA implementations, measured here.

use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::Method;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use sha2::{Digest, Sha256};

use crate::load::Req;

/// A fictional remote actor on a loopback host that is never contacted (its key is cached
/// by the node before the run).
pub struct RemoteActor {
    pub id: String,
    pub key_id: String,
    pub inbox: String,
    pub public_key_pem: String,
    pub private_pkcs8: Vec<u8>,
    key: RsaKeyPair,
}

impl RemoteActor {
    /// Actor `n` lives on `127.0.0.<2 + n % 200>:9` (port 9, discard: nothing listens there).
    pub fn generate(n: usize) -> anyhow::Result<Self> {
        let key = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        let private_pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&key)
            .map_err(|_| anyhow::anyhow!("PKCS#8 export failed"))?
            .as_ref()
            .to_vec();
        let spki = AsDer::<PublicKeyX509Der>::as_der(key.public_key())
            .map_err(|_| anyhow::anyhow!("SPKI export failed"))?;
        let host = format!("127.0.0.{}:9", 2 + n % 200);
        let id = format!("http://{host}/users/bench{n}");
        Ok(Self {
            key_id: format!("{id}#main-key"),
            inbox: format!("{id}/inbox"),
            id,
            public_key_pem: pem("PUBLIC KEY", spki.as_ref()),
            private_pkcs8,
            key,
        })
    }

    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(sig)
    }

    /// A signed POST of `body` to `path` on `host`, as Mastodon sends it.
    pub fn signed_post(&self, host: &str, path: &str, body: String) -> anyhow::Result<Req> {
        let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(body.as_bytes())));
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signing_string =
            format!("(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}");
        let signature = BASE64.encode(self.sign(signing_string.as_bytes())?);
        let header = format!(
            r#"keyId="{}",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="{signature}""#,
            self.key_id
        );
        Ok(Req {
            method: Method::POST,
            path: path.to_string(),
            headers: Default::default(),
            body: Bytes::from(body),
        }
        .header("content-type", "application/activity+json")
        .header("date", &date)
        .header("digest", &digest)
        .header("signature", &header))
    }
}

/// PEM armour: base64 in 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Generates `n` actors on all cores.
pub fn actors(n: usize) -> anyhow::Result<Vec<RemoteActor>> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunks: Vec<Vec<usize>> = (0..threads)
        .map(|t| (0..n).filter(|i| i % threads == t).collect())
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|ids| {
            std::thread::spawn(move || {
                ids.into_iter()
                    .map(RemoteActor::generate)
                    .collect::<anyhow::Result<Vec<_>>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("key generation thread panicked"))??,
        );
    }
    all.sort_by_key(|a| {
        a.id.rsplit("bench")
            .next()
            .and_then(|n| n.parse::<usize>().ok())
    });
    Ok(all)
}

/// Which RSA implementation a bare rate was measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// The `rsa` crate, as `activitypub_federation` (and Hromada before 2026-11-27) uses it.
    RsaCrate,
    AwsLcRs,
}

/// A bare rate two ways: per second of wall time, and per CPU-second its threads used.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    /// What one core does when it gets to run: unlike `per_second`, barely moved by other
    /// work on the machine (compiles, the sinks), which only takes turns away.
    pub per_cpu_second: f64,
}

/// CPU time this thread has used, from `/proc/thread-self/schedstat` (nanoseconds).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Signatures (`verify == false`) or verifications, on `threads` threads for about
/// `duration`, with the key parsed once (the cheapest way to use each library).
pub fn bare_rate(
    which: Impl,
    verify: bool,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<Rate> {
    let actor = RemoteActor::generate(0)?;
    let message = b"(request-target): post /inbox\nhost: localhost:8080\ndate: Tue, 28 Mar 2023 21:03:44 GMT\ndigest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".to_vec();
    let signature = actor.sign(&message)?;
    let rsa_private = rsa::RsaPrivateKey::from_pkcs8_der(&actor.private_pkcs8)
        .context("rsa crate: parse private key")?;
    let rsa_public = rsa::RsaPublicKey::from_public_key_pem(&actor.public_key_pem)
        .context("rsa crate: parse public key")?;
    let spki = rsa::pkcs8::EncodePublicKey::to_public_key_der(&rsa_public)
        .context("public key DER")?
        .as_bytes()
        .to_vec();
    let actor = std::sync::Arc::new(actor);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (actor, message, signature) = (actor.clone(), message.clone(), signature.clone());
            let (rsa_private, rsa_public, spki) =
                (rsa_private.clone(), rsa_public.clone(), spki.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                let cpu0 = thread_cpu();
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline && n < 10_000_000 {
                    let ok = match (which, verify) {
                        (Impl::RsaCrate, false) => rsa_private
                            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&message))
                            .is_ok(),
                        (Impl::RsaCrate, true) => rsa_public
                            .verify(
                                Pkcs1v15Sign::new::<Sha256>(),
                                &Sha256::digest(&message),
                                &signature,
                            )
                            .is_ok(),
                        (Impl::AwsLcRs, false) => actor.sign(&message).is_ok(),
                        (Impl::AwsLcRs, true) => aws_lc_rs::signature::UnparsedPublicKey::new(
                            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                            &spki,
                        )
                        .verify(&message, &signature)
                        .is_ok(),
                    };
                    if ok {
                        n += 1;
                    }
                }
                (n, thread_cpu().saturating_sub(cpu0))
            })
        })
        .collect();
    let (mut total, mut cpu) = (0u64, Duration::ZERO);
    for h in handles {
        let (n, used) = h.join().map_err(|_| anyhow::anyhow!("thread panicked"))?;
        total += n;
        cpu += used;
    }
    Ok(Rate {
        per_second: total as f64 / start.elapsed().as_secs_f64(),
        per_cpu_second: total as f64 / cpu.as_secs_f64().max(1e-9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hromada_federation::signing::{incoming_signature, verify_digest};

    /// What the bench signs must verify with the node's own parsing and the `rsa` crate,
    /// otherwise the inbox benchmark would measure refusals.
    #[test]
    fn signed_posts_verify_with_the_nodes_parsing() {
        let actor = RemoteActor::generate(3).unwrap();
        let req = actor
            .signed_post("localhost:8080", "/inbox", r#"{"a":1}"#.into())
            .unwrap();
        let mut headers = req.headers.clone();
        headers.insert("host", "localhost:8080".parse().unwrap());
        verify_digest(&headers, &req.body).unwrap();
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let params = incoming_signature(
            "post",
            "/inbox",
            &headers,
            true,
            now,
            Duration::from_secs(60),
        )
        .unwrap();
        let s = params.signing_string.clone();
        let key = rsa::RsaPublicKey::from_public_key_pem(&actor.public_key_pem).unwrap();
        key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(s.as_bytes()),
            &params.signature,
        )
        .unwrap();
        assert!(actor.id.starts_with("http://127.0.0.5:9/"));
    }
}
