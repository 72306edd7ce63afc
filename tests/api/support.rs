//! A small HTTP client for the suite: a node, requests with or without a token, answers as
//! status + headers + JSON, and fixtures built through the API itself.

use hromada_domain::Role;
use hromada_testkit::{Backend, TestNode};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A node and a client talking to it.
pub struct Api {
    pub node: TestNode,
    client: reqwest::Client,
}

/// An answer, with its body both as text (to check what must not appear) and as JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// Asserts an error answer: status, `error` code, and the `{error, message, fields}` shape.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.json["error"], code, "{}", reply.text);
        assert!(reply.json["message"].is_string(), "{}", reply.text);
        assert!(reply.json["fields"].is_array(), "{}", reply.text);
        assert!(
            reply.header("content-type").starts_with("application/json"),
            "errors are JSON: {:?}",
            reply.headers
        );
        reply
    }

    /// `(field, code)` of every field error.
    pub fn fields(&self) -> Vec<(String, String)> {
        self.json["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| {
                        (
                            f["field"].as_str().unwrap_or_default().to_string(),
                            f["code"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn expect_field(self, field: &str, code: &str) -> Self {
        assert!(
            self.fields().iter().any(|(f, c)| f == field && c == code),
            "expected field error {field}/{code} in {}",
            self.text
        );
        self
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Handles of the initiatives in a search result.
    pub fn handles(&self) -> Vec<String> {
        self.json["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i["handle"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Api {
    pub async fn start(backend: Backend) -> Api {
        Self::on(TestNode::spawn_on(backend).await)
    }

    /// A client for a node the case configured itself.
    pub fn on(node: TestNode) -> Api {
        Api {
            node,
            client: reqwest::Client::new(),
        }
    }

    /// A user with the given role and an API token for them.
    pub async fn user(&self, username: &str, role: Role) -> String {
        self.node.user_with_token(username, role).await.1
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, self.node.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request reaches the node");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::GET, path, token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(self.request(Method::POST, path, token).json(&body))
            .await
    }

    /// A POST without a body (approve).
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::POST, path, token)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(self.request(Method::PATCH, path, token).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::DELETE, path, token)).await
    }

    /// Submits [`submission`] anonymously and has `moderator` approve it.
    pub async fn published(&self, handle: &str, moderator: &str) -> Value {
        self.post("/api/v1/initiatives", None, submission(handle))
            .await
            .expect(201);
        self.post_empty(
            &format!("/api/v1/initiatives/{handle}/approve"),
            Some(moderator),
        )
        .await
        .expect(200)
        .json
    }

    /// Search results for a query string (without the `?`).
    pub async fn search(&self, query: &str, token: Option<&str>) -> Reply {
        self.get(&format!("/api/v1/initiatives?{query}"), token)
            .await
    }
}

/// The contact every [`submission`] gives the moderators; it must never be shown publicly.
pub const SUBMITTER_CONTACT: &str = "olena.submitter@example.org";

/// A valid submission, written in both languages so search can find it either way.
pub fn submission(handle: &str) -> Value {
    json!({
        "handle": handle,
        "name": "Польові медики Харкова",
        "summary": "Tactical medicine kits and generators for volunteer medics near Kharkiv",
        "description": "Ми купуємо генератори та турнікети для польових медиків.\n\nWe buy generators and tourniquets.",
        "categories": ["medical", "equipment"],
        "tags": ["ifak"],
        "regions": [{"kind": "ukraine", "oblast": "kharkiv", "city": "Kharkiv"}],
        "languages": ["uk", "en"],
        "contacts": [{"kind": "email", "value": "medics@example.org"}],
        "donation_methods": [{
            "kind": "bank_transfer",
            "iban": "UA21 3223 1300 0002 6007 2335 6600 1",
            "account_holder": "ГО Приклад",
            "currency": "UAH",
            "recurring": true
        }],
        "submitter_contact": SUBMITTER_CONTACT
    })
}

/// Sends a request whose body is over the limit over a plain socket, reading the answer while
/// writing (as a careful client does: the node answers 413 and closes without reading the
/// rest, and a client that only reads after writing everything may see the reset instead of
/// the answer). Returns the status and the raw response text.
pub async fn send_oversized(
    addr: std::net::SocketAddr,
    head: String,
    body: Vec<u8>,
) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut reader = socket.try_clone().unwrap();
        let read = std::thread::spawn(move || {
            let mut response = Vec::new();
            let _ = reader.read_to_end(&mut response);
            response
        });
        socket.write_all(head.as_bytes()).unwrap();
        for piece in body.chunks(8 * 1024) {
            // The server may answer and close before everything is sent.
            if socket.write_all(piece).is_err() {
                break;
            }
        }
        let response = read.join().unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    })
    .await
    .unwrap()
}

/// A JSON request with a declared length (`Content-Length`).
pub async fn send_with_length(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, String) {
    let body = body.to_string().into_bytes();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         {auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    send_oversized(addr, head, body).await
}
