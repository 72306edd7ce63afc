//! Finished public documents (WebFinger, NodeInfo, actors) kept in memory until the directory
//! changes. Every fediverse server that sees a post fetches them, so they are answered without
//! touching the database.
//!
//! A document is valid for the [`ChangeWatch`] version it was built at: this process's own
//! writes show at once, those of other processes on the same database within
//! [`ChangeWatch::FEED_CHECK`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::RwLock;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_store::{ChangeWatch, Store, Version};

/// Bounds memory when clients ask for many different names (each is a small document).
const MAX_ENTRIES: usize = 10_000;

/// A cached 200 response.
#[derive(Clone)]
pub(crate) struct Document {
    pub content_type: &'static str,
    pub body: Bytes,
    /// WebFinger is read by browsers' JavaScript too.
    pub cors: bool,
}

impl Document {
    pub fn new(content_type: &'static str, body: String) -> Self {
        Self {
            content_type,
            body: Bytes::from(body),
            cors: false,
        }
    }

    pub fn with_cors(self) -> Self {
        Self { cors: true, ..self }
    }
}

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if self.cors {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        response
    }
}

#[derive(Default)]
pub(crate) struct DocumentCache {
    entries: RwLock<HashMap<String, (Version, Document)>>,
    pub watch: ChangeWatch,
}

impl DocumentCache {
    /// The cached document for `key`, or the one `build` makes (kept when it is a document;
    /// an error response is returned as is and not kept).
    pub async fn get_or_build<F>(&self, store: &dyn Store, key: &str, build: F) -> Response
    where
        F: Future<Output = Result<Document, Response>>,
    {
        let version = self.watch.version(store).await;
        if let Ok(entries) = self.entries.read()
            && let Some((v, doc)) = entries.get(key)
            && *v == version
        {
            return doc.clone().into_response();
        }
        match build.await {
            Ok(doc) => {
                if let Ok(mut entries) = self.entries.write() {
                    if entries.len() >= MAX_ENTRIES {
                        entries.clear();
                    }
                    entries.insert(key.to_string(), (version, doc.clone()));
                }
                doc.into_response()
            }
            Err(response) => response,
        }
    }
}
