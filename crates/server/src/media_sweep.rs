//! The media sweep: deletes the photos no listing or update names any more (pictures
//! replaced, updates deleted, uploads never used), so a small VPS's disk does not fill up.
//! Runs hourly (at start when due), in one process of the node: the one that takes the hour's
//! lease.

use std::sync::Arc;
use std::time::Duration;

use hromada_media::MediaStore;
use hromada_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(3600);
/// How long a photo nothing names is kept: an upload is stored before the update that names
/// it, and a volunteer on a bad connection may take a while to send that update.
const GRACE: Duration = Duration::from_secs(86_400);

pub(crate) fn spawn(
    store: Arc<dyn Store>,
    media: MediaStore,
    holder: String,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let job_store = store.clone();
    crate::periodic::spawn("media-sweep", EVERY, store, holder, shutdown, move || {
        sweep(job_store.clone(), media.clone())
    })
}

async fn sweep(store: Arc<dyn Store>, media: MediaStore) -> Result<(), String> {
    // Names first, files second: a photo named after this read was touched when it was
    // stored or named, so the grace period keeps it.
    let in_use = store.photos_in_use().await.map_err(|e| e.to_string())?;
    let swept = media
        .sweep(in_use.into_iter().collect(), GRACE)
        .await
        .map_err(|e| format!("{}: {e}", media.dir().display()))?;
    if swept.files > 0 {
        tracing::info!(
            files = swept.files,
            bytes = swept.bytes,
            "deleted photos nothing names any more"
        );
    }
    Ok(())
}
