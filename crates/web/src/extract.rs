//! Request extractors whose failures are [`ApiError`]s: JSON bodies (with the path of the bad
//! field), query strings, and the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use hromada_domain::FieldError;
use serde::de::DeserializeOwned;

use crate::client::client_ip;
use crate::error::ApiError;
use crate::state::WebState;

/// The body limit of the route a request is for (a request extension), so that a body found
/// too large while it is read gets a 413 that names the limit, as one refused by its declared
/// length does.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body. Refuses other content types (415), bodies over the limit (413), and
/// JSON that does not fit `T` (400, naming the field when serde can tell which).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let limit = req.extensions().get::<BodyLimit>().copied();
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                match limit {
                    Some(BodyLimit(limit)) => ApiError::payload_too_large(limit),
                    None => ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the request body is too large",
                    ),
                }
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    "the request body could not be read",
                )
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body, turning serde's complaint into a field error where it names a field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if hromada_domain::validation::json_holds_nul(bytes) {
        return Err(no_nul("the body"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// No text of ours holds NUL characters (PostgreSQL cannot store them; nobody types them).
fn no_nul(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_text",
        format!("{what} holds a NUL character (\\u0000), which no text here may contain"),
    )
}

fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let inner = err.inner();
    if !matches!(inner.classify(), Category::Data) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {inner}"),
        );
    }
    let message = strip_position(&inner.to_string());
    let mut field = err
        .path()
        .to_string()
        .split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .collect::<Vec<_>>()
        .join(".");
    let code = if let Some(name) = quoted_after(&message, "missing field `") {
        // serde reports a missing field at the enclosing object; name the field itself.
        field = if field.is_empty() {
            name.to_string()
        } else {
            format!("{field}.{name}")
        };
        "missing_field"
    } else if message.starts_with("unknown field `") {
        "unknown_field"
    } else {
        "invalid_value"
    };
    let summary = if field.is_empty() {
        format!("the body does not have the expected shape: {message}")
    } else {
        format!("`{field}`: {message}")
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", summary).with_fields(vec![FieldError {
        field,
        code,
        message,
    }])
}

/// serde_json appends " at line 1 column 20"; the field path says more to API users.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

/// The query string, parsed into `T`; a string that does not fit is a 400 `invalid_query`.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if url::form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(no_nul("the query string"));
        }
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.inner().to_string();
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("the query string is invalid: {message}"),
                )
                .with_fields(vec![FieldError {
                    field: if field == "." { String::new() } else { field },
                    code: "invalid_value",
                    message,
                }])
            })
    }
}

/// Path parameters. A parameter that does not parse (e.g. an id that is not a UUID) names
/// nothing, so it is a 404 like any unknown id.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No name here holds a NUL (`%00`): nothing is there, and the database is not asked.
        let nul = parts.uri.path().contains("%00");
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) if !nul => Ok(ApiPath(value)),
            found => {
                if let Err(rejection) = found {
                    tracing::debug!(%rejection, "unusable path parameter");
                }
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "nothing at this address",
                ))
            }
        }
    }
}

/// The address of the client as the socket sees it; `None` when the server was not started
/// with connect info (then only per-username limits apply).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let state = WebState::from_ref(state);
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.settings().trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hromada_domain::InitiativeInput;

    #[test]
    fn wrong_types_name_the_field() {
        let e = parse_json::<InitiativeInput>(
            br#"{"handle": "a", "name": "n", "summary": "s", "categories": ["medical"],
                "regions": [{"kind": "ukraine", "oblast": "kharkiv"}], "discoverable": "yes"}"#,
        )
        .unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let body = format!("{e:?}");
        assert!(body.contains("field: \"discoverable\""), "{body}");
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let e = parse_json::<InitiativeInput>(br#"{"handle": "a"}"#).unwrap_err();
        assert!(format!("{e:?}").contains("field: \"name\""), "{e:?}");
        let e = parse_json::<hromada_domain::InitiativePatch>(br#"{"handle": "b"}"#).unwrap_err();
        assert!(format!("{e:?}").contains("field: \"handle\""), "{e:?}");
        assert!(format!("{e:?}").contains("unknown_field"), "{e:?}");
    }

    #[test]
    fn syntax_errors_and_trailing_garbage() {
        assert_eq!(
            parse_json::<serde_json::Value>(b"{\"a\":")
                .unwrap_err()
                .code(),
            "invalid_json"
        );
        assert_eq!(
            parse_json::<serde_json::Value>(b"{} {}")
                .unwrap_err()
                .code(),
            "invalid_json"
        );
    }

    #[test]
    fn nul_characters_are_refused_but_an_escaped_backslash_is_text() {
        let code = |json: &[u8]| {
            parse_json::<serde_json::Value>(json)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(code(br#"{"a": "x\u0000y"}"#), Some("invalid_text"));
        assert_eq!(code(br#"{"a": "\\\u0000"}"#), Some("invalid_text"));
        assert_eq!(code(br#"{"a": "C:\\u0000"}"#), None);
        assert_eq!(code(br#"{"a": "\u0001"}"#), None);
    }

    #[test]
    fn json_content_types() {
        let v = |s: &'static str| Some(header::HeaderValue::from_static(s));
        assert!(is_json(v("application/json").as_ref()));
        assert!(is_json(v("Application/JSON; charset=utf-8").as_ref()));
        assert!(is_json(v("application/merge-patch+json").as_ref()));
        assert!(!is_json(v("text/plain").as_ref()));
        assert!(!is_json(None));
    }
}
