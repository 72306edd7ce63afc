//! Discovery: WebFinger, host-meta and NodeInfo 2.1.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_domain::InitiativeStatus;
use hromada_store::{OriginFilter, SearchQuery};
use serde::Deserialize;
use serde_json::json;

use crate::Inner;
use crate::actors::has_actor;
use crate::doc_cache::Document;
use crate::http::json_error;
use crate::urls::INSTANCE_USERNAME;

#[derive(Deserialize)]
pub(crate) struct WebfingerQuery {
    resource: Option<String>,
}

/// `GET /.well-known/webfinger?resource=acct:name@host` (or the actor's URL).
pub(crate) async fn webfinger(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<WebfingerQuery>,
) -> Response {
    let Some(resource) = q
        .resource
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
    else {
        return json_error(StatusCode::BAD_REQUEST, "resource is required");
    };
    let urls = &inner.urls;
    let name = if let Some(acct) = resource
        .strip_prefix("acct:")
        .or_else(|| (!resource.contains("://")).then_some(&resource))
    {
        let acct = acct.trim_start_matches('@');
        match acct.rsplit_once('@') {
            Some((name, host)) if host.eq_ignore_ascii_case(urls.authority()) => {
                name.to_ascii_lowercase()
            }
            _ => return json_error(StatusCode::NOT_FOUND, "not an account of this node"),
        }
    } else if resource == urls.instance_actor() {
        INSTANCE_USERNAME.to_string()
    } else if let Some(handle) = urls.handle_of_actor(&resource) {
        handle.to_string()
    } else {
        return json_error(StatusCode::NOT_FOUND, "not an account of this node");
    };

    let key = format!("webfinger:{name}");
    let build = async {
        let actor = if name == INSTANCE_USERNAME {
            urls.instance_actor()
        } else {
            match inner.store.initiative_by_handle(&name, None).await {
                Ok(Some(i)) if has_actor(&i) => urls.actor(i.handle.as_str()),
                Ok(_) => return Err(json_error(StatusCode::NOT_FOUND, "no such account")),
                Err(e) => {
                    tracing::warn!(error = %e, "webfinger lookup failed");
                    return Err(json_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "try again later",
                    ));
                }
            }
        };
        let body = json!({
            "subject": format!("acct:{name}@{}", urls.authority()),
            "aliases": [actor],
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": actor},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor},
            ],
        });
        Ok(Document::new("application/jrd+json", body.to_string()).with_cors())
    };
    inner
        .docs
        .get_or_build(inner.store.as_ref(), &key, build)
        .await
}

/// `GET /.well-known/host-meta`: where WebFinger lives (for clients that ask first).
pub(crate) async fn host_meta(State(inner): State<Arc<Inner>>) -> Response {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="{}/.well-known/webfinger?resource={{uri}}"/>
</XRD>
"#,
        inner.urls.base()
    );
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// `GET /.well-known/nodeinfo`: links to the document and (FEP-2677) the instance actor.
pub(crate) async fn nodeinfo_links(State(inner): State<Arc<Inner>>) -> Response {
    let body = json!({"links": [
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": inner.urls.nodeinfo()},
        {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": inner.urls.instance_actor()},
    ]});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `GET /nodeinfo/2.1`. `users` counts the node's listed initiatives (its actors).
pub(crate) async fn nodeinfo(State(inner): State<Arc<Inner>>) -> Response {
    let build = async {
        let query = SearchQuery {
            origin: OriginFilter::Local,
            statuses: vec![InitiativeStatus::Published, InitiativeStatus::Paused],
            per_page: 1,
            exact_total: true,
            ..Default::default()
        };
        let users = match inner.store.search_initiatives(&query).await {
            Ok(page) => page.total,
            Err(e) => {
                tracing::warn!(error = %e, "nodeinfo count failed");
                return Err(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "try again later",
                ));
            }
        };
        let s = &inner.settings;
        let body = json!({
            "version": "2.1",
            "software": {"name": "hromada", "version": s.software_version},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": false,
            "usage": {"users": {"total": users, "activeHalfyear": users, "activeMonth": users}},
            "metadata": {"nodeName": s.node_name, "nodeDescription": s.node_description},
        });
        Ok(Document::new(
            r#"application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#""#,
            body.to_string(),
        ))
    };
    inner
        .docs
        .get_or_build(inner.store.as_ref(), "nodeinfo", build)
        .await
}
