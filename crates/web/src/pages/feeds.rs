//! Feeds: Atom for the node's and each initiative's updates, iCalendar for events, written by
//! hand (both formats are small) with careful escaping.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hromada_domain::markup::{escape, markdown_to_html};
use hromada_domain::{Event, EventPlace, Initiative, Update, UpdateKind};
use hromada_store::SearchQuery;
use uuid::Uuid;

use super::public::authority;
use super::views::initiative_path;
use crate::state::WebState;

fn respond(content_type: &'static str, body: String, filename: Option<&str>) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Some(name) = filename
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "feed failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// An Atom feed of updates, newest first.
fn atom(
    state: &WebState,
    title: &str,
    self_path: &str,
    page_path: &str,
    entries: &[(Initiative, Update)],
) -> String {
    let s = state.settings();
    let base = s.url_for("/");
    let base = base.trim_end_matches('/');
    let updated = entries
        .iter()
        .map(|(_, u)| u.updated_at)
        .max()
        .unwrap_or_else(hromada_app::now);
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "<id>{base}{self_path}</id>\n<title>{}</title>\n<updated>{}</updated>\n<link rel=\"self\" href=\"{base}{self_path}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}{page_path}\"/>\n<generator>Hromada</generator>\n",
        escape(title),
        updated.to_rfc3339()
    ));
    for (i, u) in entries {
        let kind = match u.kind {
            UpdateKind::News => "",
            UpdateKind::SpendingReport { .. } => " — spending report / звіт",
        };
        let first_line = u
            .body
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect::<String>();
        let mut html = markdown_to_html(&u.body);
        for total in u.report_totals() {
            html.push_str(&format!(
                "<p><strong>Σ {}</strong></p>",
                escape(&total.to_string())
            ));
        }
        for p in &u.photos {
            html.push_str(&format!(
                "<p><img src=\"{base}/media/{}\" alt=\"{}\" width=\"{}\" height=\"{}\"></p>",
                escape(&p.name),
                escape(&p.alt),
                p.width,
                p.height
            ));
        }
        out.push_str(&format!(
            "<entry>\n<id>{base}/updates/{id}</id>\n<title>{}{}: {}</title>\n<published>{}</published>\n<updated>{}</updated>\n<author><name>{}</name><uri>{base}{}</uri></author>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}/updates/{id}\"/>\n<content type=\"html\">{}</content>\n</entry>\n",
            escape(&i.name),
            kind,
            escape(&first_line),
            u.publish_at.to_rfc3339(),
            u.updated_at.max(u.publish_at).to_rfc3339(),
            escape(&i.name),
            initiative_path(i),
            escape(&html),
            id = u.id,
        ));
    }
    out.push_str("</feed>\n");
    out
}

pub(crate) async fn node_atom(State(state): State<WebState>) -> Response {
    let app = state.app();
    let recent = match app
        .search(
            None,
            &SearchQuery {
                per_page: 20,
                ..Default::default()
            },
        )
        .await
    {
        Ok(p) => p.items,
        Err(e) => return failed(e),
    };
    let now = hromada_app::now();
    let mut entries = Vec::new();
    for i in recent {
        match app.store().updates_of(i.id, Some(now), 0, 5).await {
            Ok(updates) => entries.extend(updates.into_iter().map(|u| (i.clone(), u))),
            Err(e) => return failed(e),
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.1.publish_at));
    entries.truncate(40);
    let title = state.settings().node_name.clone();
    respond(
        "application/atom+xml; charset=utf-8",
        atom(&state, &title, "/feed.atom", "/", &entries),
        None,
    )
}

pub(crate) async fn initiative_atom(
    State(state): State<WebState>,
    Path(handle): Path<String>,
) -> Response {
    let detail = match state.app().initiative_detail(None, &handle).await {
        Ok(d) => d,
        Err(hromada_app::AppError::NotFound(_)) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return failed(e),
    };
    let i = detail.initiative;
    let path = initiative_path(&i);
    let entries: Vec<_> = detail.updates.into_iter().map(|u| (i.clone(), u)).collect();
    respond(
        "application/atom+xml; charset=utf-8",
        atom(
            &state,
            &i.name,
            &format!("{path}/feed.atom"),
            &path,
            &entries,
        ),
        None,
    )
}

/// Escapes text for an iCalendar value (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (RFC 5545 §3.1).
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
    out
}

fn ics_time(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn calendar(state: &WebState, name: &str, events: &[Event]) -> String {
    let host = authority(state);
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Hromada//Hromada directory//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", ics_text(name)),
    ] {
        out.push_str(&fold(&l));
    }
    let stamp = ics_time(&hromada_app::now());
    for e in events {
        let end = e.ends_at.unwrap_or_else(|| {
            let two_hours = e.starts_at.checked_add_signed(chrono::Duration::hours(2));
            two_hours.unwrap_or(e.starts_at)
        });
        let url = state.settings().url_for(&format!("/events/{}", e.id));
        let mut lines = vec![
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}@{host}", e.id),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART:{}", ics_time(&e.starts_at)),
            format!("DTEND:{}", ics_time(&end)),
            format!("SUMMARY:{}", ics_text(&e.title)),
            format!(
                "DESCRIPTION:{}",
                ics_text(&format!("{}\n\n{}: {}", e.description, e.organiser, url))
            ),
            format!("URL:{url}"),
            format!("LAST-MODIFIED:{}", ics_time(&e.updated_at)),
        ];
        match &e.place {
            EventPlace::City { .. } => {
                lines.push(format!("LOCATION:{}", ics_text(&e.place.label())))
            }
            EventPlace::Online { url } => lines.push(format!("LOCATION:{}", ics_text(url))),
        }
        if e.cancelled {
            lines.push("STATUS:CANCELLED".into());
        }
        lines.push("END:VEVENT".into());
        for l in lines {
            out.push_str(&fold(&l));
        }
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

const ICS: &str = "text/calendar; charset=utf-8";

pub(crate) async fn node_ics(State(state): State<WebState>) -> Response {
    // Recent past events stay in the calendar for a month, so subscribers see what happened.
    let after = hromada_app::now() - chrono::Duration::days(30);
    match state.app().store().upcoming_events(after, 500).await {
        Ok(events) => {
            let name = state.settings().node_name.clone();
            respond(ICS, calendar(&state, &name, &events), Some("events.ics"))
        }
        Err(e) => failed(e),
    }
}

pub(crate) async fn initiative_ics(
    State(state): State<WebState>,
    Path(handle): Path<String>,
) -> Response {
    match state.app().initiative_detail(None, &handle).await {
        Ok(d) => respond(
            ICS,
            calendar(&state, &d.initiative.name, &d.events),
            Some("events.ics"),
        ),
        Err(hromada_app::AppError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => failed(e),
    }
}

pub(crate) async fn event_ics(State(state): State<WebState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.app().public_event(id).await {
        Ok((_, e)) => respond(
            ICS,
            calendar(&state, &e.title, std::slice::from_ref(&e)),
            Some("event.ics"),
        ),
        Err(hromada_app::AppError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_escaping_and_folding() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let long = format!("SUMMARY:{}", "Концерт ".repeat(20));
        let folded = fold(&long);
        for line in folded.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(folded.replace("\r\n ", ""), format!("{long}\r\n"));
    }
}
