//! The error format and status codes for requests that go wrong before any use case runs,
//! body limits, and the health check.

use hromada_domain::Role;
use hromada_testkit::Backend;
use reqwest::Method;
use serde_json::json;

use crate::support::{Api, send_oversized, send_with_length, submission};

pub async fn errors_are_json_with_fitting_statuses(backend: Backend) {
    let api = Api::start(backend).await;

    api.get("/api/v1/no-such-thing", None)
        .await
        .expect_error(404, "not_found");
    api.get("/api/v1/initiatives/nobody-here", None)
        .await
        .expect_error(404, "not_found");
    api.get("/api/v1/initiatives/somebody@elsewhere.example", None)
        .await
        .expect_error(404, "not_found");
    api.send(api.request(Method::PUT, "/api/v1/initiatives", None))
        .await
        .expect_error(405, "method_not_allowed");

    // NUL characters, which PostgreSQL cannot store, are refused before anything is tried.
    let mut nul = submission("nul-name");
    nul["name"] = serde_json::json!("Soup\u{0}kitchen");
    api.post("/api/v1/initiatives", None, nul)
        .await
        .expect_error(400, "invalid_text");
    api.get("/api/v1/initiatives?q=soup%00", None)
        .await
        .expect_error(400, "invalid_text");
    api.get("/api/v1/initiatives/nul-name", None)
        .await
        .expect_error(404, "not_found");
    api.get("/api/v1/initiatives/nul%00name@x.example", None)
        .await
        .expect_error(404, "not_found");

    // Not JSON at all, or not declared as JSON.
    api.send(
        api.request(Method::POST, "/api/v1/initiatives", None)
            .header("content-type", "application/json")
            .body("{\"handle\": "),
    )
    .await
    .expect_error(400, "invalid_json");
    api.send(
        api.request(Method::POST, "/api/v1/initiatives", None)
            .header("content-type", "text/plain")
            .body(submission("plain").to_string()),
    )
    .await
    .expect_error(415, "unsupported_media_type");
    api.send(
        api.request(Method::POST, "/api/v1/initiatives", None)
            .body(submission("untyped").to_string()),
    )
    .await
    .expect_error(415, "unsupported_media_type");
    api.send(
        api.request(Method::POST, "/api/v1/initiatives", None)
            .header("content-type", "application/json; charset=utf-8")
            .body(submission("with-charset").to_string()),
    )
    .await
    .expect(201);
    api.post("/api/v1/initiatives", None, json!([1, 2, 3]))
        .await
        .expect_error(400, "invalid_json");
}

pub async fn oversized_bodies_get_413_and_nothing_is_stored(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    api.published("ours", &moderator).await;

    // Declared length over the limit: refused before the body is read.
    let mut huge = submission("huge");
    huge["description"] = json!("x".repeat(2 * 1024 * 1024));
    let (status, body) =
        send_with_length(api.node.addr, "POST", "/api/v1/initiatives", None, &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"payload_too_large\""), "{body}");

    // No declared length (chunked): refused while reading.
    let (status, body) = post_chunked(api.node.addr, "/api/v1/initiatives", 40, 8 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"payload_too_large\""), "{body}");
    assert!(
        body.contains("limit of 262144 bytes (256 KiB)"),
        "the message names the limit: {body}"
    );

    // Edits too, for authenticated users.
    let edit = json!({"description": "Ж".repeat(300 * 1024)});
    let (status, body) = send_with_length(
        api.node.addr,
        "PATCH",
        "/api/v1/initiatives/ours",
        Some(&moderator),
        &edit,
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"payload_too_large\""), "{body}");

    // Just under the limit is read and then judged by the rules (too long a description).
    let mut big = submission("big");
    big["description"] = json!("x".repeat(200 * 1024));
    api.post("/api/v1/initiatives", None, big)
        .await
        .expect_error(422, "validation_failed")
        .expect_field("description", "too_long");

    assert!(
        api.node
            .store()
            .initiative_by_handle("huge", None)
            .await
            .unwrap()
            .is_none()
    );
    let ours = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert!(!ours.text.contains("ЖЖЖ"));
    let all = api
        .search("status=pending,published", Some(&moderator))
        .await
        .expect(200);
    assert_eq!(all.handles(), ["ours"]);
}

/// A JSON POST of `chunks` chunks of `size` bytes with chunked transfer encoding (no declared
/// length).
async fn post_chunked(
    addr: std::net::SocketAddr,
    path: &str,
    chunks: usize,
    size: usize,
) -> (u16, String) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunk = format!("{size:x}\r\n{}\r\n", "x".repeat(size));
    let body = format!("{}0\r\n\r\n", chunk.repeat(chunks));
    send_oversized(addr, head, body.into_bytes()).await
}

/// An answer given before the request body was read says `Connection: close` (the server
/// will not read on), so a keep-alive client does not send its next request into a closed
/// connection; an answer after the whole body was read keeps the connection open.
pub async fn answers_before_the_body_is_read_close_the_connection(backend: Backend) {
    let api = Api::start(backend).await;
    let head = |content_type: &str, length: usize| {
        format!(
            "POST /api/v1/initiatives HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    let addr = api.node.addr;
    tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader, Read, Write};
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        // One answer's status line and headers (lowercased), its body skipped.
        let mut answer = |socket: &mut std::net::TcpStream, request: &str| {
            socket.write_all(request.as_bytes()).unwrap();
            let mut head = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line.to_ascii_lowercase());
            }
            let length: u64 = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |n| n.trim().parse().unwrap());
            std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink()).unwrap();
            head
        };
        // Read to the end (a submission missing its fields): the connection stays open.
        let body = r#"{"handle": "x"}"#;
        let read = answer(&mut socket, &(head("application/json", body.len()) + body));
        assert!(read.starts_with("http/1.1 400"), "{read}");
        assert!(!read.contains("connection: close"), "{read}");
        // Refused by its type before the body is sent at all.
        let unread = answer(&mut socket, &head("text/plain", 100));
        assert!(unread.starts_with("http/1.1 415"), "{unread}");
        assert!(unread.contains("connection: close"), "{unread}");
    })
    .await
    .unwrap();
}

pub async fn health_check_reports_the_database(backend: Backend) {
    let api = Api::start(backend).await;
    let health = api.get("/healthz", None).await.expect(200);
    assert_eq!(health.json, json!({"status": "ok"}));
}
