//! The bare baselines: the least an axum server has to do for each kind of request, run as a
//! child process (`hromada-bench bare-server`) exactly like `hromada serve` is, so both face
//! the same generator, the same runtime defaults and the same machine.
//!
//! - `GET /json`: a small JSON document, no I/O (bare axum);
//! - `GET /items/{id}`: one primary-key read of a 1 KB row from SQLite (WAL, 4 readers);
//! - `POST /inbox`: digest + JSON parse + key lookup (primary-key read) + RSA verify +
//!   one durable insert (single writer), with aws-lc-rs, or with the `rsa` crate when the
//!   request carries `x-bench-verify: rsa`.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hromada_federation::signing::{incoming_signature, verify_digest};
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Rows in the baseline's primary-key table.
pub const ITEMS: i64 = 1000;

fn options(path: &std::path::Path) -> anyhow::Result<SqliteConnectOptions> {
    Ok(
        SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5)),
    )
}

/// Creates the baseline database: 1,000 rows of 1 KB JSON and the remote actors' keys.
pub async fn prepare(path: &std::path::Path, keys: &[(String, String)]) -> anyhow::Result<()> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options(path)?)
        .await?;
    for ddl in [
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, actor TEXT NOT NULL, pem TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, actor TEXT NOT NULL, body TEXT NOT NULL)",
    ] {
        sqlx::query(ddl).execute(&pool).await?;
    }
    let mut tx = pool.begin().await?;
    for id in 1..=ITEMS {
        let doc = serde_json::json!({
            "id": id,
            "handle": format!("initiative-{id}"),
            "name": format!("Initiative number {id}"),
            "summary": "x".repeat(900),
        });
        sqlx::query("INSERT OR REPLACE INTO items (id, doc) VALUES (?1, ?2)")
            .bind(id)
            .bind(doc.to_string())
            .execute(&mut *tx)
            .await?;
    }
    for (key_id, pem) in keys {
        let actor = key_id.split('#').next().unwrap_or(key_id);
        sqlx::query("INSERT OR REPLACE INTO keys (key_id, actor, pem) VALUES (?1, ?2, ?3)")
            .bind(key_id)
            .bind(actor)
            .bind(pem)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(())
}

#[derive(Clone)]
struct Bare {
    readers: SqlitePool,
    writer: SqlitePool,
    host: String,
}

/// Serves the baselines on `listen` until killed.
pub async fn serve(listen: SocketAddr, db: &std::path::Path) -> anyhow::Result<()> {
    let opts = options(db)?;
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts.clone())
        .await?;
    let readers = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await?;
    let state = Bare {
        readers,
        writer,
        host: format!("localhost:{}", listen.port()),
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/json", get(json))
        .route("/items/{id}", get(item))
        .route("/inbox", post(inbox))
        .with_state(Arc::new(state));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn json() -> Response {
    axum::Json(serde_json::json!({"message": "Hello, world!"})).into_response()
}

async fn item(State(s): State<Arc<Bare>>, Path(id): Path<i64>) -> Response {
    let row: Result<Option<(String,)>, _> = sqlx::query_as("SELECT doc FROM items WHERE id = ?1")
        .bind(id)
        .fetch_optional(&s.readers)
        .await;
    match row {
        Ok(Some((doc,))) => {
            ([(http::header::CONTENT_TYPE, "application/json")], doc).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn inbox(State(s): State<Arc<Bare>>, headers: HeaderMap, body: Bytes) -> Response {
    match receive(&s, &headers, &body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(status) => status.into_response(),
    }
}

async fn receive(s: &Bare, headers: &HeaderMap, body: &[u8]) -> Result<(), StatusCode> {
    let unauthorized = |_| StatusCode::UNAUTHORIZED;
    verify_digest(headers, body).map_err(unauthorized)?;
    let activity: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let id = activity["id"].as_str().ok_or(StatusCode::BAD_REQUEST)?;
    let actor = activity["actor"].as_str().ok_or(StatusCode::BAD_REQUEST)?;
    let mut signed = headers.clone();
    if let Ok(v) = s.host.parse() {
        signed.entry("host").or_insert(v);
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let params = incoming_signature(
        "post",
        "/inbox",
        &signed,
        true,
        now,
        std::time::Duration::from_secs(3600),
    )
    .map_err(unauthorized)?;
    let signing_string = params.signing_string;
    let key: Option<(String, String)> =
        sqlx::query_as("SELECT actor, pem FROM keys WHERE key_id = ?1")
            .bind(&params.key_id)
            .fetch_optional(&s.readers)
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let (owner, pem) = key.ok_or(StatusCode::UNAUTHORIZED)?;
    if owner != actor {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let use_rsa_crate = headers
        .get("x-bench-verify")
        .is_some_and(|v| v.as_bytes() == b"rsa");
    let ok = if use_rsa_crate {
        rsa::RsaPublicKey::from_public_key_pem(&pem).is_ok_and(|k| {
            k.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(signing_string.as_bytes()),
                &params.signature,
            )
            .is_ok()
        })
    } else {
        spki_of(&pem).is_some_and(|der| {
            aws_lc_rs::signature::UnparsedPublicKey::new(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                der,
            )
            .verify(signing_string.as_bytes(), &params.signature)
            .is_ok()
        })
    };
    if !ok {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let body = std::str::from_utf8(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    sqlx::query("INSERT INTO activities (id, actor, body) VALUES (?1, ?2, ?3)")
        .bind(id)
        .bind(actor)
        .bind(body)
        .execute(&s.writer)
        .await
        .map_err(|_| StatusCode::CONFLICT)?;
    Ok(())
}

/// The DER inside a `PUBLIC KEY` PEM.
fn spki_of(pem: &str) -> Option<Vec<u8>> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    BASE64.decode(b64).ok()
}
