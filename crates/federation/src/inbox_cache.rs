//! What the inbox would otherwise read from the database for every activity: the remote actors
//! that sign (with their keys), which local handles are actors, and when a peer was last seen.
//! (Domain blocks are read each time: a block made from the command line or another process
//! must apply to the very next activity.) Each entry says how stale it may be; this process's own changes
//! show at once, those of other processes on the same database after the times below.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hromada_store::{FederationStore, RemoteActor, StoreError, Version};
use uuid::Uuid;

/// A remote actor changed by another process is seen after at most this long (a rotated key
/// is refetched at once anyway when a signature fails with the old one).
const ACTORS_FOR: Duration = Duration::from_secs(60);
/// A peer's "last activity" is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// After an actor's key fetched again still failed a signature, it is not fetched again for this long:
/// a stream of badly signed posts naming someone's key must not make this node hammer that
/// server.
const NO_REFETCH_FOR: Duration = Duration::from_secs(60);
/// Bounds memory; beyond it an arbitrary entry goes.
const MAX_ENTRIES: usize = 4096;

/// A local initiative actor as the inbox needs it: id, whether it approves followers, and its
/// handle as stored.
pub(crate) type LocalHandle = Option<(Uuid, bool, String)>;

#[derive(Default)]
pub(crate) struct InboxCache {
    actors: Mutex<HashMap<String, (Instant, RemoteActor)>>,
    handles: Mutex<HashMap<String, (Version, LocalHandle)>>,
    touched: Mutex<HashMap<String, Instant>>,
    refetched_in_vain: Mutex<HashMap<String, Instant>>,
}

fn bounded<V>(map: &mut HashMap<String, V>, key: &str) {
    if map.len() >= MAX_ENTRIES
        && !map.contains_key(key)
        && let Some(evict) = map.keys().next().cloned()
    {
        map.remove(&evict);
    }
}

impl InboxCache {
    pub async fn remote_actor(
        &self,
        fed: &dyn FederationStore,
        id: &str,
    ) -> Result<Option<RemoteActor>, StoreError> {
        if let Ok(actors) = self.actors.lock()
            && let Some((at, actor)) = actors.get(id)
            && at.elapsed() < ACTORS_FOR
        {
            return Ok(Some(actor.clone()));
        }
        let actor = fed.remote_actor(id).await?;
        match &actor {
            Some(a) => self.put_actor(a),
            None => self.forget_actor(id),
        }
        Ok(actor)
    }

    /// An actor as just fetched or stored.
    pub fn put_actor(&self, actor: &RemoteActor) {
        if let Ok(mut actors) = self.actors.lock() {
            bounded(&mut actors, &actor.id);
            actors.insert(actor.id.clone(), (Instant::now(), actor.clone()));
        }
    }

    pub fn forget_actor(&self, id: &str) {
        if let Ok(mut actors) = self.actors.lock() {
            actors.remove(id);
        }
    }

    /// The cached answer for `handle` at directory `version`, if any.
    pub fn handle(&self, handle: &str, version: Version) -> Option<LocalHandle> {
        let handles = self.handles.lock().ok()?;
        handles
            .get(handle)
            .filter(|(v, _)| *v == version)
            .map(|(_, h)| h.clone())
    }

    pub fn put_handle(&self, handle: &str, version: Version, found: LocalHandle) {
        if let Ok(mut handles) = self.handles.lock() {
            bounded(&mut handles, handle);
            handles.insert(handle.to_string(), (version, found));
        }
    }

    /// Whether a peer's last activity is due to be written (at most once a minute per domain).
    pub fn touch_due(&self, domain: &str) -> bool {
        let Ok(mut touched) = self.touched.lock() else {
            return true;
        };
        if touched
            .get(domain)
            .is_some_and(|at| at.elapsed() < TOUCH_EVERY)
        {
            return false;
        }
        bounded(&mut touched, domain);
        touched.insert(domain.to_string(), Instant::now());
        true
    }

    /// Whether this actor's key was fetched again lately and still failed a signature (see
    /// [`NO_REFETCH_FOR`]).
    pub fn refetched_in_vain(&self, actor_id: &str) -> bool {
        self.refetched_in_vain.lock().is_ok_and(|seen| {
            seen.get(actor_id)
                .is_some_and(|at| at.elapsed() < NO_REFETCH_FOR)
        })
    }

    pub fn note_refetched_in_vain(&self, actor_id: &str) {
        if let Ok(mut seen) = self.refetched_in_vain.lock() {
            bounded(&mut seen, actor_id);
            seen.insert(actor_id.to_string(), Instant::now());
        }
    }
}
