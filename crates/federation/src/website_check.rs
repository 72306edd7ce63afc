//! The website check: does an initiative's website link back to its profile on this node with
//! `rel="me"`? Mastodon verifies profile links the same way, so a green mark means the same
//! thing to fediverse users: whoever controls the website also controls this listing.
//!
//! Fetches follow the rules of every outgoing request (`safety::check_url` on every hop, the
//! validating DNS resolver of `fetch::client`, size, time and redirect limits). A background
//! loop ([`spawn`]) checks what is due: websites never checked, changed, edited since their
//! last check (so an edit triggers a recheck within one round), or checked too long ago.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hromada_domain::Initiative;
use hromada_domain::trust::WebsiteCheck;
use hromada_store::{Store, StoreResult};
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::safety::check_url;
use crate::urls::Urls;
use crate::{FederationError, FederationSettings, LeasedJob, fetch};

/// Largest page read; a page that hides its `rel="me"` link further down is not checked.
const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// How often and how much the background loop checks.
#[derive(Debug, Clone)]
pub struct WebsiteCheckSchedule {
    /// Pause between rounds (also the longest an edit waits for its recheck).
    pub every: Duration,
    /// A website is checked again after this long, edited or not.
    pub recheck_after: Duration,
    /// Websites checked per round at most.
    pub batch: u32,
}

impl Default for WebsiteCheckSchedule {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(30),
            recheck_after: Duration::from_secs(24 * 3600),
            batch: 20,
        }
    }
}

/// Fetches websites and looks for the link back.
#[derive(Clone)]
pub struct WebsiteChecker {
    client: reqwest::Client,
    urls: Urls,
    allow_private_networks: bool,
    max_redirects: usize,
}

impl WebsiteChecker {
    pub fn new(settings: &FederationSettings) -> Result<Self, FederationError> {
        let urls = Urls::new(&settings.public_url).ok_or_else(|| {
            FederationError::Config(format!(
                "public URL {} has no http(s) host",
                settings.public_url
            ))
        })?;
        let user_agent = format!(
            "hromada/{} (+{}; website check)",
            settings.software_version,
            urls.base()
        );
        let client = fetch::client(
            &user_agent,
            settings.limits.request_timeout,
            settings.allow_private_networks,
        )
        .map_err(|e| FederationError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            urls,
            allow_private_networks: settings.allow_private_networks,
            max_redirects: settings.limits.max_redirects,
        })
    }

    /// The profile URL an initiative's website must link to.
    pub fn profile_url(&self, handle: &str) -> String {
        self.urls.actor(handle)
    }

    /// Whether the page at `website` links to `profile_url` with `rel="me"`, and what was found.
    pub async fn check_page(&self, website: &str, profile_url: &str) -> (bool, String) {
        let page = match self.fetch_html(website).await {
            Ok(page) => page,
            Err(why) => return (false, why),
        };
        let found = rel_me_links(&page.body)
            .iter()
            .filter_map(|href| page.url.join(href).ok())
            .any(|link| same_page(&link, profile_url));
        if found {
            (
                true,
                format!("{} links back to {profile_url} with rel=\"me\"", page.url),
            )
        } else {
            (
                false,
                format!("{} has no rel=\"me\" link to {profile_url}", page.url),
            )
        }
    }

    /// Checks a local initiative's website and stores the result. `None` for initiatives
    /// without a website and for mirrored ones (their own node checks them).
    pub async fn check_initiative(
        &self,
        store: &dyn Store,
        initiative: &Initiative,
    ) -> StoreResult<Option<WebsiteCheck>> {
        let Some(website) = initiative.website.clone().filter(|w| !w.is_empty()) else {
            return Ok(None);
        };
        if !initiative.is_local() {
            return Ok(None);
        }
        let (ok, detail) = self
            .check_page(&website, &self.profile_url(initiative.handle.as_str()))
            .await;
        let check = WebsiteCheck {
            initiative_id: initiative.id,
            url: website,
            checked_at: now(),
            ok,
            detail,
        };
        store.set_website_check(&check).await?;
        tracing::debug!(handle = %initiative.handle, ok, "website checked");
        Ok(Some(check))
    }

    /// Checks up to `limit` websites that are due; returns how many were checked.
    pub async fn check_due(
        &self,
        store: &dyn Store,
        recheck_after: Duration,
        limit: u32,
    ) -> StoreResult<usize> {
        let stale = chrono::Duration::from_std(recheck_after).unwrap_or(chrono::Duration::days(1));
        let due = store.website_checks_due(now() - stale, limit).await?;
        let mut checked = 0;
        for id in due {
            if let Some(initiative) = store.initiative_by_id(id).await?
                && self.check_initiative(store, &initiative).await?.is_some()
            {
                checked += 1;
            }
        }
        Ok(checked)
    }

    /// GETs an HTML page, checking every hop.
    async fn fetch_html(&self, website: &str) -> Result<Page, String> {
        let mut url = Url::parse(website.trim())
            .map_err(|e| format!("{website} is not a web address: {e}"))?;
        for _ in 0..=self.max_redirects {
            check_url(&url, self.allow_private_networks)
                .map_err(|e| format!("not fetched ({url}): {e}"))?;
            let response = self
                .client
                .get(url.clone())
                .header(ACCEPT, "text/html, application/xhtml+xml;q=0.9")
                .send()
                .await
                .map_err(|e| format!("could not reach {url}: {e}"))?;
            let status = response.status();
            if status.is_redirection() {
                url = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| format!("{url} redirects without a usable Location"))?;
                continue;
            }
            if !status.is_success() {
                return Err(format!("{url} answered {}", status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let essence = content_type.split(';').next().unwrap_or("").trim();
            if !matches!(essence, "text/html" | "application/xhtml+xml") {
                return Err(format!("{url} is not an HTML page ({content_type})"));
            }
            let body = read_limited(response, MAX_PAGE_BYTES)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            return Ok(Page {
                url,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Err(format!(
            "{website}: more than {} redirects",
            self.max_redirects
        ))
    }
}

struct Page {
    /// Where the page finally came from (relative links resolve against it).
    url: Url,
    body: String,
}

/// Starts the loop checking due websites every `schedule.every`, until `shutdown`.
/// Only while `job` is held by this process (one process per node checks, see [`LeasedJob`]).
pub fn spawn(
    checker: WebsiteChecker,
    store: Arc<dyn Store>,
    schedule: WebsiteCheckSchedule,
    mut job: LeasedJob,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let round = checker.check_due(store.as_ref(), schedule.recheck_after, schedule.batch);
            match job.run_while_held(round).await {
                None | Some(Ok(0)) => {}
                Some(Ok(n)) => tracing::debug!(checked = n, "website checks done"),
                Some(Err(e)) => tracing::warn!(error = %e, "website checks failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(schedule.every) => {}
            }
        }
        job.release().await;
    })
}

/// Now, at the microsecond precision both stores keep.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

async fn read_limited(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("page larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("page larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether `link` names the page `profile_url`: same scheme, host, port and path (a trailing
/// slash, query and fragment aside).
fn same_page(link: &Url, profile_url: &str) -> bool {
    let Ok(profile) = Url::parse(profile_url) else {
        return false;
    };
    link.scheme() == profile.scheme()
        && link.host_str() == profile.host_str()
        && link.port_or_known_default() == profile.port_or_known_default()
        && link.path().trim_end_matches('/') == profile.path().trim_end_matches('/')
}

/// The `href` of every `<a>` and `<link>` whose `rel` has the token `me`, in page order.
///
/// A small tag scanner rather than a full HTML parser: it skips comments and the contents of
/// `<script>`, `<style>` and `<template>`, reads quoted and unquoted attributes, and decodes
/// character references in them. Whatever it cannot read, it skips.
pub fn rel_me_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = &rest[name_len..];
        if name.is_empty() {
            continue;
        }
        let (attrs, after) = attributes(rest);
        rest = after;
        match name.as_str() {
            "a" | "link" => {
                let rel_me = attrs
                    .iter()
                    .find(|(k, _)| k == "rel")
                    .is_some_and(|(_, v)| {
                        v.split_ascii_whitespace()
                            .any(|t| t.eq_ignore_ascii_case("me"))
                    });
                if rel_me && let Some((_, href)) = attrs.iter().find(|(k, _)| k == "href") {
                    links.push(href.trim().to_string());
                }
            }
            "script" | "style" | "template" => {
                let close = format!("</{name}");
                rest = find_ignore_case(rest, &close).map_or("", |end| &rest[end..]);
            }
            _ => {}
        }
    }
    links
}

/// Reads a tag's attributes up to its `>`; returns them (names lower-cased, values decoded)
/// and the text after the tag.
fn attributes(mut s: &str) -> (Vec<(String, String)>, &str) {
    let mut attrs = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            return (attrs, s);
        }
        if let Some(after) = s.strip_prefix('>') {
            return (attrs, after);
        }
        let name_len = s
            .find(|c: char| c.is_whitespace() || matches!(c, '=' | '>' | '/'))
            .unwrap_or(s.len())
            .max(1);
        let name = s[..name_len.min(s.len())].to_ascii_lowercase();
        s = s[name_len.min(s.len())..].trim_start();
        let Some(after_eq) = s.strip_prefix('=') else {
            attrs.push((name, String::new()));
            continue;
        };
        s = after_eq.trim_start();
        let value = match s.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &s[1..];
                let end = body.find(q).unwrap_or(body.len());
                s = body.get(end + 1..).unwrap_or("");
                &body[..end]
            }
            _ => {
                let end = s
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(s.len());
                let v = &s[..end];
                s = &s[end..];
                v
            }
        };
        attrs.push((name, decode_entities(value)));
    }
}

/// Where ASCII `needle` first occurs in `haystack`, ignoring ASCII case; no copy, so a page of
/// many small `<style>` blocks costs one pass, not one copy of the rest per block.
fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Decodes the character references that occur in attribute values (`&amp;`, `&#47;`, …).
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rel_me_on_a_and_link() {
        let html = r#"<!doctype html><html><head>
            <link rel="me" href="https://node.example/initiatives/medics">
            <LINK REL='stylesheet' HREF='/s.css'>
            </head><body>
            <a href=https://mastodon.example/@x rel="nofollow me noopener">Mastodon</a>
            <a rel="noopener" href="https://elsewhere.example/">not me</a>
            <a rel="meh" href="https://elsewhere.example/2">not me either</a>
            </body></html>"#;
        assert_eq!(
            rel_me_links(html),
            [
                "https://node.example/initiatives/medics",
                "https://mastodon.example/@x"
            ]
        );
    }

    #[test]
    fn skips_comments_scripts_and_decodes_values() {
        let html = r#"
            <!-- <a rel="me" href="https://commented.example/"> -->
            <SCRIPT>var s = '<a rel="me" href="https://script.example/">';</Script>
            <style>a[rel="me"] { color: green }</style>
            <a rel="me" href="https://node.example/initiatives/a&#x2d;b?x=1&amp;y=2">ok</a>
            <a rel=me href=/relative>relative</a>
            <a rel="me" href="unterminated"#;
        assert_eq!(
            rel_me_links(html),
            [
                "https://node.example/initiatives/a-b?x=1&y=2",
                "/relative",
                "unterminated"
            ]
        );
        assert!(rel_me_links("<a rel=\"me\"").is_empty());
        assert!(rel_me_links("<<<>>> <a <b rel=me> & < >").is_empty());
        assert_eq!(
            decode_entities("a &unknown; b &amp c"),
            "a &unknown; b &amp c"
        );
    }

    #[test]
    fn same_page_ignores_trailing_slash_and_query() {
        let profile = "http://localhost:8080/initiatives/medics";
        let yes = [
            "http://localhost:8080/initiatives/medics/",
            "http://LOCALHOST:8080/initiatives/medics#x",
        ];
        for link in yes {
            assert!(same_page(&Url::parse(link).unwrap(), profile), "{link}");
        }
        let no = [
            "https://localhost:8080/initiatives/medics",
            "http://localhost:8081/initiatives/medics",
            "http://localhost:8080/initiatives/medics-2",
            "http://evil.example/initiatives/medics",
        ];
        for link in no {
            assert!(!same_page(&Url::parse(link).unwrap(), profile), "{link}");
        }
    }
}
