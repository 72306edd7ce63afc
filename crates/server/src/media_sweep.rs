//! The media sweep: deletes the photos no listing or update names any more (pictures
//! replaced, updates deleted, uploads never used), so a small VPS's disk does not fill up.
//! Runs at start and then hourly, in one process of the node: the one that takes the hour's
//! lease.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hromada_media::{MediaStore, Swept};
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
    tokio::spawn(async move {
        loop {
            match sweep_if_due(store.as_ref(), &media, &holder).await {
                Ok(Some(swept)) if swept.files > 0 => tracing::info!(
                    files = swept.files,
                    bytes = swept.bytes,
                    "deleted photos nothing names any more"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "media sweep failed; trying again in an hour"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(EVERY) => {}
            }
        }
    })
}

/// Sweeps unless another process of the node did within the hour (it holds the lease).
async fn sweep_if_due(
    store: &dyn Store,
    media: &MediaStore,
    holder: &str,
) -> Result<Option<Swept>, String> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(EVERY).unwrap_or_default();
    let due = store
        .take_lease("media-sweep", holder, now, until)
        .await
        .map_err(|e| e.to_string())?;
    if !due {
        return Ok(None);
    }
    // Names first, files second: a photo named after this read was touched when it was
    // stored or named, so the grace period keeps it.
    let in_use = store.photos_in_use().await.map_err(|e| e.to_string())?;
    let swept = media
        .sweep(in_use.into_iter().collect(), GRACE)
        .await
        .map_err(|e| format!("{}: {e}", media.dir().display()))?;
    Ok(Some(swept))
}
