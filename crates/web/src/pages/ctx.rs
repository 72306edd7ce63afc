//! What every page knows about its request: the language, the signed-in user (from the session
//! cookie), the CSRF token, and the node's settings. Also the cookies themselves.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use base64::Engine;
use hromada_domain::User;
use hromada_store::{TokenKind, TokenRecord};
use rand::RngCore;

use super::i18n::{Lang, Translator};
use crate::state::WebState;

pub const LANG_COOKIE: &str = "hromada_lang";
const SESSION_COOKIE: &str = "hromada_session";
const CSRF_COOKIE: &str = "hromada_csrf";
const DEVICE_COOKIE: &str = "hromada_device";

/// Cookie names get the `__Host-` prefix on https, so a sibling subdomain cannot plant them.
pub fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// A `Set-Cookie` value: path `/`, SameSite=Lax, HttpOnly, Secure on https.
pub fn set_cookie(base: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let mut c = format!(
        "{}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Lax; HttpOnly",
        cookie_name(base, secure)
    );
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

pub fn session_cookie(secret: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, secret, max_age_secs, secure)
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, "", 0, secure)
}

/// The proof that this browser signed in as its user before ([`hromada_app::App::device_proof`]).
pub fn device_cookie(proof: &str, secure: bool) -> HeaderValue {
    let max_age = hromada_app::DEVICE_PROOF_LIFETIME.as_secs() as i64;
    set_cookie(DEVICE_COOKIE, proof, max_age, secure)
}

pub fn device_proof(headers: &HeaderMap, secure: bool) -> Option<&str> {
    our_cookie(headers, DEVICE_COOKIE, secure).filter(|s| !s.is_empty())
}

pub fn lang_cookie(lang: Lang, secure: bool) -> HeaderValue {
    set_cookie(LANG_COOKIE, lang.code(), 365 * 24 * 3600, secure)
}

/// The value of one of our cookies, named as [`cookie_name`] names it (without building the
/// name: this runs on every page view).
fn our_cookie<'a>(headers: &'a HeaderMap, base: &str, secure: bool) -> Option<&'a str> {
    find_cookie(headers, |k| {
        if secure {
            k.strip_prefix("__Host-") == Some(base)
        } else {
            k == base
        }
    })
}

fn find_cookie(headers: &HeaderMap, is_name: impl Fn(&str) -> bool) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| is_name(k))
        .map(|(_, v)| v.trim())
}

/// The language a page is shown in: the visitor's choice (cookie), else their browser's.
pub fn request_lang(headers: &HeaderMap, secure: bool) -> Lang {
    our_cookie(headers, LANG_COOKIE, secure)
        .and_then(Lang::from_code)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or_else(Lang::default_lang)
}

/// The session secret a request carries, if any (whether it is valid is not checked here).
pub fn session_secret(headers: &HeaderMap, secure: bool) -> Option<&str> {
    our_cookie(headers, SESSION_COOKIE, secure).filter(|s| !s.is_empty())
}

/// The CSRF token of this request: from the cookie, or freshly made (then the middleware
/// sets the cookie on the response).
#[derive(Debug, Clone)]
pub struct CsrfToken {
    pub value: String,
    pub fresh: bool,
}

impl CsrfToken {
    pub fn from_headers(headers: &HeaderMap, secure: bool) -> Self {
        match our_cookie(headers, CSRF_COOKIE, secure).filter(|v| is_token(v)) {
            Some(v) => Self {
                value: v.to_string(),
                fresh: false,
            },
            None => Self {
                value: random_token(),
                fresh: true,
            },
        }
    }

    pub fn cookie(&self, secure: bool) -> HeaderValue {
        // A long life: the token protects forms, it does not identify anyone.
        set_cookie(CSRF_COOKIE, &self.value, 365 * 24 * 3600, secure)
    }

    /// Constant-time comparison with what a form sent.
    pub fn matches(&self, sent: &str) -> bool {
        let (a, b) = (self.value.as_bytes(), sent.trim().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

fn is_token(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The request as a page sees it.
#[derive(Clone)]
pub struct PageCtx {
    pub t: Translator,
    pub user: Option<User>,
    pub session: Option<TokenRecord>,
    pub csrf: String,
    csrf_token: CsrfToken,
    /// Path and query of the page to come back to (after logging in, switching the language):
    /// this request's for a GET; for a form post, the page the form was on (its same-origin
    /// `Referer`), since the address a form posts to answers nothing else.
    pub path: String,
    pub node_name: String,
    pub secure: bool,
    origin: String,
    request_origin: Option<String>,
    sec_fetch_site: Option<String>,
}

impl PageCtx {
    pub fn is_moderator(&self) -> bool {
        self.user.as_ref().is_some_and(User::is_moderator)
    }

    /// Whether the browser says this request comes from a page of this node
    /// (`Sec-Fetch-Site: same-origin`; browsers without it count as elsewhere).
    pub fn came_from_our_pages(&self) -> bool {
        self.sec_fetch_site.as_deref() == Some("same-origin")
    }

    /// Whether a form post carries this visitor's CSRF token and comes from our own pages.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        let same_origin = match (&self.request_origin, &self.sec_fetch_site) {
            (Some(o), _) if o != "null" => *o == self.origin,
            (_, Some(site)) => site == "same-origin" || site == "none",
            _ => true,
        };
        same_origin && !self.csrf_token.fresh && self.csrf_token.matches(sent)
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = WebState::from_ref(state);
        let settings = state.settings();
        let secure = settings.public_url.scheme() == "https";
        let headers = &parts.headers;
        let lang = request_lang(headers, secure);
        let (user, session) = match session_secret(headers, secure) {
            Some(secret) => match state.app().authenticate(secret, TokenKind::Session).await {
                Ok((user, token)) => (Some(user), Some(token)),
                Err(_) => (None, None),
            },
            None => (None, None),
        };
        let csrf_token = parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or_else(|| CsrfToken::from_headers(headers, secure));
        let origin = settings
            .public_url
            .origin()
            .ascii_serialization()
            .trim_end_matches('/')
            .to_string();
        let header_value = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        Ok(PageCtx {
            t: lang.t(),
            user,
            session,
            csrf: csrf_token.value.clone(),
            csrf_token,
            path: if matches!(parts.method, Method::GET | Method::HEAD) {
                parts
                    .uri
                    .path_and_query()
                    .map_or("/".to_string(), |p| p.as_str().to_string())
            } else {
                header_value("referer")
                    .and_then(|r| same_origin_path(&r, &origin))
                    .unwrap_or_else(|| "/".to_string())
            },
            node_name: settings.node_name.clone(),
            secure,
            origin,
            request_origin: header_value("origin"),
            sec_fetch_site: header_value("sec-fetch-site"),
        })
    }
}

/// The path and query of `url` when it is on `origin`.
fn same_origin_path(url: &str, origin: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    (url.origin().ascii_serialization() == origin).then(|| match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_post_comes_back_to_the_page_it_was_on() {
        let origin = "https://node.example";
        assert_eq!(
            same_origin_path("https://node.example/dashboard/x?tab=1#needs", origin).as_deref(),
            Some("/dashboard/x?tab=1")
        );
        assert_eq!(
            same_origin_path("https://evil.example/dashboard/x", origin),
            None
        );
        assert_eq!(same_origin_path("not a url", origin), None);
    }

    #[test]
    fn cookies_are_found_and_tokens_checked() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hromada_lang=en ; b=2"),
        );
        assert_eq!(find_cookie(&h, |k| k == "b"), Some("2"));
        assert_eq!(find_cookie(&h, |k| k == "c"), None);
        assert_eq!(our_cookie(&h, LANG_COOKIE, false), Some("en"));
        assert_eq!(our_cookie(&h, LANG_COOKIE, true), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-hromada_lang=uk"),
        );
        assert_eq!(our_cookie(&h, LANG_COOKIE, true), Some("uk"));
        assert_eq!(our_cookie(&h, LANG_COOKIE, false), None);
        let t = CsrfToken::from_headers(&h, false);
        assert!(t.fresh && is_token(&t.value));
        assert!(t.matches(&t.value.clone()) && !t.matches("x"));
        let c = set_cookie("s", "v", 10, true);
        assert_eq!(
            c.to_str().unwrap(),
            "__Host-s=v; Path=/; Max-Age=10; SameSite=Lax; HttpOnly; Secure"
        );
    }
}
