//! Host names resolved for outgoing connections, checked, and remembered for a short while.
//!
//! Every new connection asks the resolver, and the system resolver runs on a blocking thread.
//! A fan-out opens many connections to the same servers (several per host when deliveries to
//! it overlap, again after idle ones are closed), so the checked addresses of a name are reused
//! for [`RESOLVED_FOR`]. Only checked answers are kept: what is connected to was validated, and
//! a name that starts pointing at an internal address (DNS rebinding) is refused once its entry
//! expires. Failures are not kept.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a name's checked addresses are reused (about what resolver caches keep a short
/// DNS TTL; a moved server is reached again within this).
const RESOLVED_FOR: Duration = Duration::from_secs(30);
/// Bounds memory; when full, expired names go first, then all.
const MAX_NAMES: usize = 4096;

type Cache = Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>;

/// Wraps the resolver that checks addresses (`ValidatingDnsResolver`).
pub(crate) struct CachingResolver<R> {
    checked: Arc<R>,
    cache: Arc<Cache>,
}

impl<R> CachingResolver<R> {
    pub(crate) fn new(checked: R) -> Self {
        Self {
            checked: Arc::new(checked),
            cache: Arc::default(),
        }
    }
}

fn addrs(list: Vec<SocketAddr>) -> Addrs {
    Box::new(list.into_iter())
}

impl<R: Resolve + 'static> Resolve for CachingResolver<R> {
    fn resolve(&self, name: Name) -> Resolving {
        let key = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let hit = self.cache.lock().ok().and_then(|cache| {
            cache
                .get(&key)
                .filter(|(at, _)| at.elapsed() < RESOLVED_FOR)
                .map(|(_, list)| list.clone())
        });
        if let Some(list) = hit {
            return Box::pin(std::future::ready(Ok(addrs(list))));
        }
        let lookup = self.checked.resolve(name);
        let cache = self.cache.clone();
        Box::pin(async move {
            let list: Vec<SocketAddr> = lookup.await?.collect();
            if let Ok(mut cache) = cache.lock() {
                if cache.len() >= MAX_NAMES {
                    cache.retain(|_, (at, _)| at.elapsed() < RESOLVED_FOR);
                    if cache.len() >= MAX_NAMES {
                        cache.clear();
                    }
                }
                cache.insert(key, (Instant::now(), list.clone()));
            }
            Ok(addrs(list))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Answers every name with one address and counts the questions; refuses `bad.example`.
    #[derive(Default)]
    struct Counting(Arc<AtomicUsize>);

    impl Resolve for Counting {
        fn resolve(&self, name: Name) -> Resolving {
            self.0.fetch_add(1, Ordering::SeqCst);
            let refused = name.as_str() == "bad.example";
            Box::pin(async move {
                if refused {
                    return Err("internal address".into());
                }
                Ok(addrs(vec![SocketAddr::from(([192, 0, 2, 1], 0))]))
            })
        }
    }

    async fn resolve(r: &CachingResolver<Counting>, host: &str) -> Result<Vec<SocketAddr>, String> {
        let name = Name::from_str(host).map_err(|e| e.to_string())?;
        r.resolve(name)
            .await
            .map(Iterator::collect)
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn a_checked_name_is_asked_once_and_a_refused_one_every_time() {
        let asked = Arc::new(AtomicUsize::new(0));
        let r = CachingResolver::new(Counting(asked.clone()));
        let first = resolve(&r, "social.example").await;
        assert_eq!(first, Ok(vec![SocketAddr::from(([192, 0, 2, 1], 0))]));
        assert_eq!(resolve(&r, "Social.Example.").await, first);
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "the second lookup is cached"
        );

        assert!(resolve(&r, "bad.example").await.is_err());
        assert!(resolve(&r, "bad.example").await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 3, "refusals are not cached");
    }
}
