//! Actor key pairs: created on first need, kept in the database (several processes share
//! them), cached in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hromada_store::{FederationStore, Keypair, LocalActor};

use crate::FederationError;
use crate::signing::HttpSigner;

pub struct Keys {
    store: Arc<dyn FederationStore>,
    signer: Arc<dyn HttpSigner>,
    cache: Mutex<HashMap<LocalActor, Keypair>>,
}

impl Keys {
    pub fn new(store: Arc<dyn FederationStore>, signer: Arc<dyn HttpSigner>) -> Self {
        Self {
            store,
            signer,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The actor's key pair, generating and storing one if it has none yet.
    pub async fn get(&self, actor: LocalActor) -> Result<Keypair, FederationError> {
        if let Some(kp) = self.cached(actor) {
            return Ok(kp);
        }
        let kp = match self.store.keypair(actor).await? {
            Some(kp) => kp,
            None => {
                let fresh = self.signer.generate_keypair().await?;
                // Another process may have stored one meanwhile; everyone keeps the first.
                self.store.insert_keypair(actor, &fresh).await?
            }
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(actor, kp.clone());
        }
        Ok(kp)
    }

    fn cached(&self, actor: LocalActor) -> Option<Keypair> {
        self.cache.lock().ok().and_then(|c| c.get(&actor).cloned())
    }
}
