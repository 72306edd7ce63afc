//! Serving stored photos. The pipeline itself (checks, resizing, re-encoding without metadata,
//! storage by content) is `hromada-media`, shared with federation's mirroring of remote photos.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use hromada_media::{MAX_UPLOAD_BYTES, MediaStore, PhotoError};

use crate::state::WebState;

/// `GET /media/{name}`: a stored photo, cacheable for a year (names are content hashes).
pub(crate) async fn serve(
    State(state): State<WebState>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    let store = MediaStore::new(&state.settings().media_dir);
    match store.read(&name).await {
        Some(bytes) => {
            let etag = format!("\"{}\"", &name[..32]);
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            if let Ok(v) = HeaderValue::from_str(&etag) {
                h.insert(header::ETAG, v);
            }
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
