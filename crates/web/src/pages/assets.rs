//! The stylesheet, the small optional script and the icon, compiled into the binary and served
//! under `/static/` with a content hash in the URL, so browsers may keep them for a year.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/icon.svg"),
    },
];

fn version(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| hex::encode(&Sha256::digest(a.body)[..6]))
        .unwrap_or_default()
}

fn url(name: &str) -> String {
    format!("/static/{name}?v={}", version(name))
}

pub static STYLE_URL: LazyLock<String> = LazyLock::new(|| url("style.css"));
pub static SCRIPT_URL: LazyLock<String> = LazyLock::new(|| url("app.js"));
pub static ICON_URL: LazyLock<String> = LazyLock::new(|| url("icon.svg"));

pub(crate) async fn serve(Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = query.as_deref() == Some(&format!("v={}", version(asset.name)));
    // Versioned URLs never change content; unversioned ones are revalidated hourly.
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut r = asset.body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
