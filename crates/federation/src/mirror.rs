//! Local copies of remote pictures: the photos of mirrored updates and the avatar and header of
//! mirrored initiatives. Pages never load anything from other hosts, so a remote picture is
//! fetched once (with the same safety rules as every fetch), re-encoded by the media pipeline
//! (which drops all metadata) and served from this node. A picture that cannot be fetched is
//! left out; the listing itself is still taken, and when the origin could not serve it now,
//! the listing is fetched again later for it (`missing_pictures.rs`).

use hromada_domain::Photo;
use hromada_media::{AVATAR_SIDE, MAX_SIDE, MAX_UPLOAD_BYTES, MediaStore};
use serde_json::Value;

use crate::Inner;
use crate::fetch::{FetchError, same_origin};

/// How big a mirrored picture may be stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Size {
    Avatar,
    Full,
}

/// Why a remote picture was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeftOut {
    /// Its origin could not serve it now (unreachable, too slow, a server error, or not there
    /// yet): worth asking again later.
    Unavailable,
    /// It will not be taken: on another host than its listing, refused by the photo checks
    /// or the fetch rules, or this node keeps no pictures.
    Refused,
}

/// Whether a failed fetch may succeed later. A 404 counts: an origin restored from a backup,
/// or moving its media, serves a picture again soon after.
fn may_come_back(e: &FetchError) -> bool {
    match e {
        FetchError::Network(..) | FetchError::Sign(_) => true,
        FetchError::Status(_, status) => *status >= 500 || [404, 408, 429].contains(status),
        _ => false,
    }
}

/// The local copy of the picture at `url`, fetching it unless it was copied before. `owner`
/// is the id of the listing it belongs to: pictures are only taken from the listing's own host,
/// after redirects too.
pub(crate) async fn copy(
    inner: &Inner,
    url: &str,
    owner: &str,
    alt: &str,
    size: Size,
) -> Result<Photo, LeftOut> {
    let dir = inner.settings.media_dir.as_ref().ok_or(LeftOut::Refused)?;
    if !same_origin(url, owner) {
        tracing::warn!(%url, %owner, "remote picture on another host than its listing, left out");
        return Err(LeftOut::Refused);
    }
    let media = MediaStore::new(dir);
    if let Some(photo) = media.mirrored(url).await {
        return Ok(Photo {
            alt: alt.to_string(),
            ..photo
        });
    }
    let bytes = match inner.fetcher.get_image(url, MAX_UPLOAD_BYTES).await {
        Ok((from, _)) if !same_origin(from.as_str(), owner) => {
            tracing::warn!(%url, %from, "remote picture redirected to another host, left out");
            return Err(LeftOut::Refused);
        }
        Ok((_, bytes)) => bytes,
        Err(e) if may_come_back(&e) => {
            tracing::warn!(%url, error = %e, "cannot fetch remote picture now; left out and asked for again later");
            return Err(LeftOut::Unavailable);
        }
        Err(e) => {
            tracing::warn!(%url, error = %e, "cannot fetch remote picture, left out");
            return Err(LeftOut::Refused);
        }
    };
    let side = match size {
        Size::Avatar => AVATAR_SIDE,
        Size::Full => MAX_SIDE,
    };
    media.save_mirror(url, bytes, alt, side).await.map_err(|e| {
        tracing::warn!(%url, error = %e, "remote picture refused by the photo checks, left out");
        LeftOut::Refused
    })
}

/// The URL of an ActivityPub `icon`/`image`: an `Image` object (or a list of them) with a
/// `url`, or a bare link.
pub(crate) fn image_url(value: Option<&Value>) -> Option<&str> {
    match value? {
        Value::String(s) => Some(s),
        Value::Array(items) => image_url(items.first()),
        Value::Object(o) => match o.get("url")? {
            Value::String(s) => Some(s),
            Value::Object(link) => link.get("href").and_then(Value::as_str),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_failures_that_may_pass_are_asked_for_again() {
        let url = || "https://c.example/media/a.jpg".to_string();
        for e in [
            FetchError::Network(url(), "connection refused".into()),
            FetchError::Status(url(), 503),
            FetchError::Status(url(), 404),
            FetchError::Status(url(), 429),
        ] {
            assert!(may_come_back(&e), "{e}");
        }
        for e in [
            FetchError::Gone(url()),
            FetchError::Status(url(), 403),
            FetchError::TooLarge(url(), 10),
            FetchError::NotActivityPub(url(), "text/html".into()),
        ] {
            assert!(!may_come_back(&e), "{e}");
        }
    }

    #[test]
    fn image_urls_in_their_usual_shapes() {
        let url = "https://c.example/media/a.jpg";
        assert_eq!(
            image_url(Some(&json!({"type": "Image", "url": url}))),
            Some(url)
        );
        assert_eq!(image_url(Some(&json!(url))), Some(url));
        assert_eq!(image_url(Some(&json!([{"url": url}]))), Some(url));
        assert_eq!(image_url(Some(&json!({"url": {"href": url}}))), Some(url));
        assert_eq!(image_url(Some(&json!({"type": "Image"}))), None);
        assert_eq!(image_url(None), None);
    }
}
