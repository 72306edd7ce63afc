//! The OpenAPI document against the router: every route the router registers is described,
//! nothing is described that is not served, and what is described is what answers.

use std::collections::BTreeSet;

use hromada_testkit::Backend;
use reqwest::Method;
use serde_json::Value;

use crate::support::Api;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_string(), path.clone()));
            }
        }
    }
    ops
}

/// Every `$ref` in the document, wherever it is.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => found.push(r.clone()),
                    _ => refs(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

pub async fn document_covers_every_route(backend: Backend) {
    let api = Api::start(backend).await;
    let doc = api.get("/api/v1/openapi.json", None).await.expect(200).json;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], api.node.base_url.as_str());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let routed: BTreeSet<(String, String)> = hromada_web::documented_routes()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_ascii_lowercase(), path))
        .collect();
    let documented = operations(&doc);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&routed).collect();
    assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");
    // The routes the issue promises scripts are among them.
    for (method, path) in [
        ("post", "/api/v1/auth/token"),
        ("get", "/api/v1/initiatives"),
        ("get", "/api/v1/initiatives/{handle}"),
        ("post", "/api/v1/initiatives"),
        ("patch", "/api/v1/initiatives/{handle}"),
        ("post", "/api/v1/initiatives/{handle}/approve"),
        ("post", "/api/v1/initiatives/{handle}/reject"),
        ("post", "/api/v1/initiatives/{handle}/updates"),
        ("post", "/api/v1/initiatives/{handle}/needs"),
        ("patch", "/api/v1/needs/{id}"),
        ("post", "/api/v1/initiatives/{handle}/events"),
        ("get", "/healthz"),
    ] {
        assert!(
            routed.contains(&(method.into(), path.into())),
            "{method} {path}"
        );
    }

    for (method, path) in &documented {
        let op = &doc["paths"][path][method];
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path} has responses");
        // Path parameters are declared.
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{method} {path} declares {name}"
            );
        }
        // Every error answer has the error schema.
        for (status, response) in responses {
            if status.starts_with('4') || (status.starts_with('5') && path != "/healthz") {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
        // Writes describe their body; routes that need a token say so.
        // (Answering a held node follow or a follow request says everything in its path.)
        let takes_body = (method == "post" || method == "patch")
            && !path.ends_with("/approve")
            && path != "/api/v1/peers/{domain}/reject"
            && !path.contains("/follow-requests/");
        if takes_body {
            // JSON, except uploads, which take the file itself.
            let content = &op["requestBody"]["content"];
            let upload = content
                .as_object()
                .is_some_and(|c| !c.is_empty() && c.keys().all(|k| k.starts_with("image/")));
            assert!(
                content["application/json"]["schema"].is_object() || upload,
                "{method} {path} describes its JSON body"
            );
        }
        // (Logging in answers 401 for a wrong password, not for a missing token.)
        if responses.contains_key("401") && path != "/api/v1/auth/token" {
            let security = op["security"].as_array().expect("security");
            assert!(
                security.iter().any(|s| s.get("bearer").is_some()),
                "{method} {path} names the bearer scheme"
            );
        }
    }

    // Every schema referenced is defined.
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is defined"
        );
    }
    // Private fields are not in the schemas.
    let schemas = doc["components"]["schemas"].to_string();
    assert!(!schemas.contains("password_hash"));
    let initiative = doc["components"]["schemas"]["Initiative"].to_string();
    assert!(!initiative.contains("submitter_contact"), "{initiative}");
}

pub async fn every_documented_route_is_served(backend: Backend) {
    let api = Api::start(backend).await;
    let doc = api.get("/api/v1/openapi.json", None).await.expect(200).json;
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in operations(&doc) {
        let concrete = path.replace("{handle}", "nobody").replace("{id}", &id);
        let method_ = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        // Anonymous and without a body: each route answers with one of its documented statuses
        // (never the router's "no such route" or 405).
        let reply = api.send(api.request(method_, &concrete, None)).await;
        assert_ne!(reply.status, 405, "{method} {path}: {}", reply.text);
        assert!(
            !reply.text.contains("no such route"),
            "{method} {path} is not routed: {}",
            reply.text
        );
        let documented = &doc["paths"][&path][&method]["responses"];
        assert!(
            documented.get(reply.status.to_string()).is_some(),
            "{method} {path} answered {} which is not documented: {}",
            reply.status,
            reply.text
        );
    }
}
