//! The public pages: home, search, an initiative with its needs, updates and events, the
//! events list, tags and the about page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_app::AppError;
use hromada_domain::markup::markdown_to_html;
use hromada_domain::trust::TrustLevel;
use hromada_domain::{Category, Initiative, InitiativeStatus, Oblast, Update, Urgency};
use hromada_store::SearchQuery;
use uuid::Uuid;

use super::ctx::PageCtx;
use super::i18n::Translator;
use super::render::{
    FieldErrors, PageError, PageResult, local_path, ok, page, query_number, see_other,
};
use super::views::{
    Card, ContactView, EventView, MethodView, NeedView, ReasonView, TrustBadge, UpdateView,
    WebsiteCheckView, initiative_path, region_label,
};
use crate::state::WebState;

/// The search form's values, kept so results pages show what was asked.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub q: String,
    pub category: String,
    pub region: String,
    pub open: bool,
    pub recurring: bool,
    /// A trust level code, or empty for any.
    pub trust: String,
    pub page: u32,
    /// The page these results are on when it is not `/search` (a tag's page).
    pub path: Option<String>,
    pub categories: Vec<(&'static str, &'static str)>,
    pub regions: Vec<(&'static str, &'static str)>,
    pub trust_levels: Vec<(&'static str, &'static str)>,
}

impl SearchForm {
    pub fn new(t: &Translator) -> Self {
        Self {
            page: 1,
            path: None,
            categories: Category::ALL
                .iter()
                .map(|c| (c.code(), t.category(c.code())))
                .collect(),
            regions: Oblast::ALL
                .iter()
                .map(|o| (o.code(), t.oblast(o.code())))
                .chain(std::iter::once(("abroad", t.tr("search.abroad"))))
                .collect(),
            trust_levels: TrustLevel::ALL
                .iter()
                .map(|l| (l.code(), t.named("trust.level", l.code())))
                .collect(),
            ..Default::default()
        }
    }

    /// Reads the query string; values that are not valid are ignored, like an empty field.
    pub fn parse(t: &Translator, query: Option<&str>) -> Self {
        let mut form = Self::new(t);
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let v = v.trim();
            match &*k {
                "q" => form.q = v.chars().take(200).collect(),
                "category" if Category::from_code(v).is_some() => form.category = v.into(),
                "region" if hromada_domain::Region::is_filter_code(v) => form.region = v.into(),
                "open" => form.open = !v.is_empty(),
                "recurring" => form.recurring = !v.is_empty(),
                "trust" if TrustLevel::from_code(v).is_some() => form.trust = v.into(),
                "page" => form.page = v.parse().unwrap_or(1).clamp(1, 1000),
                _ => {}
            }
        }
        form
    }

    pub fn to_query(&self, per_page: u32) -> SearchQuery {
        SearchQuery {
            text: Some(self.q.clone()).filter(|q| !q.is_empty()),
            category: Category::from_code(&self.category),
            region: Some(self.region.clone()).filter(|r| !r.is_empty()),
            has_open_needs: self.open.then_some(true),
            recurring_only: self.recurring,
            trust: TrustLevel::from_code(&self.trust),
            page: self.page,
            per_page,
            ..Default::default()
        }
    }

    /// The query string of this search on another page.
    pub fn page_link(&self, page: u32) -> String {
        if let Some(path) = &self.path {
            return format!("{path}?page={page}");
        }
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", self.q.as_str()),
            ("category", &self.category),
            ("region", &self.region),
            ("trust", &self.trust),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if self.open {
            s.append_pair("open", "1");
        }
        if self.recurring {
            s.append_pair("recurring", "1");
        }
        s.append_pair("page", &page.to_string());
        format!("/search?{}", s.finish())
    }
}

/// Cards for initiatives, each with its trust badge.
pub(crate) async fn cards(
    state: &WebState,
    ctx: &PageCtx,
    items: &[Initiative],
) -> Result<Vec<Card>, PageError> {
    let trust = state
        .app()
        .trust_of_many(items)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(items
        .iter()
        .map(|i| {
            let mut card = Card::new(&ctx.t, i);
            card.trust = trust.get(&i.id).map(|t| TrustBadge::new(&ctx.t, &t.trust));
            card
        })
        .collect())
}

/// An urgent need with the initiative it belongs to.
pub struct UrgentNeed {
    pub need: NeedView,
    pub initiative: String,
    pub path: String,
    pub trust: Option<TrustBadge>,
    pub paused: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    form: SearchForm,
    urgent: Vec<UrgentNeed>,
    recent: Vec<Card>,
    events: Vec<(EventView, String)>,
    description: String,
}

/// How many urgent needs the home page shows.
const HOME_URGENT: usize = 6;

pub(crate) async fn home(State(state): State<WebState>, ctx: PageCtx) -> PageResult {
    let t = ctx.t;
    let urgent = urgent_needs(&state, &ctx).await?;
    let recent = state
        .app()
        .search(
            ctx.user.as_ref(),
            &SearchQuery {
                per_page: 6,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?
        .items;
    let recent = cards(&state, &ctx, &recent).await?;
    let events = upcoming(&state, &ctx, 3).await?;
    Ok(ok(&HomePage {
        form: SearchForm::new(&t),
        urgent,
        recent,
        events,
        description: state.settings().node_description.clone(),
        ctx,
    }))
}

/// The most urgent open needs, each with its initiative's trust badge. The home page is the
/// first thing a donor sees, so needs of initiatives a trusted collective warns about are
/// left out here (as on "give regularly"); their own pages still explain why.
async fn urgent_needs(state: &WebState, ctx: &PageCtx) -> Result<Vec<UrgentNeed>, PageError> {
    let store = state.app().store();
    let fail = |e: hromada_store::StoreError| ctx.fail(e.into());
    // Twice as many as shown, so that leaving some out still fills the list.
    let needs = store
        .urgent_needs(Urgency::High, 2 * HOME_URGENT as u32)
        .await
        .map_err(fail)?;
    let mut initiatives: Vec<Initiative> = Vec::new();
    for need in &needs {
        if !initiatives.iter().any(|i| i.id == need.initiative_id)
            && let Some(i) = store
                .initiative_by_id(need.initiative_id)
                .await
                .map_err(fail)?
        {
            initiatives.push(i);
        }
    }
    let trust = state
        .app()
        .trust_of_many(&initiatives)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(needs
        .iter()
        .filter_map(|need| {
            let i = initiatives.iter().find(|i| i.id == need.initiative_id)?;
            let trust = trust.get(&i.id).map(|t| TrustBadge::new(&ctx.t, &t.trust));
            if trust.as_ref().is_some_and(|b| b.level == "disputed") {
                return None;
            }
            Some(UrgentNeed {
                need: NeedView::new(&ctx.t, need),
                initiative: i.name.clone(),
                path: initiative_path(i),
                trust,
                paused: i.status == InitiativeStatus::Paused,
            })
        })
        .take(HOME_URGENT)
        .collect())
}

/// Upcoming events with the path of their page.
async fn upcoming(
    state: &WebState,
    ctx: &PageCtx,
    limit: u32,
) -> Result<Vec<(EventView, String)>, super::render::PageError> {
    let events = state
        .app()
        .store()
        .upcoming_events(hromada_app::now(), limit)
        .await
        .map_err(|e| ctx.fail(e.into()))?;
    Ok(events
        .iter()
        .map(|e| (EventView::new(&ctx.t, e), format!("/events/{}", e.id)))
        .collect())
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: PageCtx,
    form: SearchForm,
    title: String,
    results: Vec<Card>,
    /// "1000+" when counting stopped at the cap.
    total: String,
    prev: Option<String>,
    next: Option<String>,
    /// For a page past the last result: the way back to the first.
    first_page: Option<String>,
}

const PER_PAGE: u32 = 20;

pub(crate) async fn search(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = SearchForm::parse(&ctx.t, query.as_deref());
    let title = ctx.t.tr("search.title").to_string();
    search_page(state, ctx, form, title).await
}

async fn search_page(state: WebState, ctx: PageCtx, form: SearchForm, title: String) -> PageResult {
    let page = state
        .app()
        .search(ctx.user.as_ref(), &form.to_query(PER_PAGE))
        .await
        .map_err(|e| ctx.fail(e))?;
    let pages = page.total.div_ceil(u64::from(PER_PAGE)).max(1);
    let prev = (form.page > 1).then(|| form.page_link(form.page - 1));
    let next = (u64::from(form.page) < pages).then(|| form.page_link(form.page + 1));
    let results = cards(&state, &ctx, &page.items).await?;
    let first_page = (results.is_empty() && page.total > 0).then(|| form.page_link(1));
    Ok(ok(&SearchPage {
        form,
        title,
        results,
        total: if page.total_capped {
            format!("{}+", page.total)
        } else {
            page.total.to_string()
        },
        prev,
        next,
        first_page,
        ctx,
    }))
}

/// `/tags/{tag}`: listings about a tag's word (found by the full-text search, which covers tags
/// and every other text of a listing: hence "on the topic", not "tagged"), paged at its own
/// address.
pub(crate) async fn tag(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(tag): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let tag = tag.trim().trim_start_matches('#').to_lowercase();
    if tag.is_empty()
        || tag.chars().count() > 40
        || !tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ctx.not_found());
    }
    let mut form = SearchForm::new(&ctx.t);
    form.q = tag.clone();
    form.page = query_number(query.as_deref(), "page")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(1)
        .max(1);
    let segment: String = url::form_urlencoded::byte_serialize(tag.as_bytes()).collect();
    form.path = Some(format!("/tags/{segment}"));
    let title = ctx.t.tr1("tag.title", format!("#{tag}"));
    search_page(state, ctx, form, title).await
}

#[derive(Template)]
#[template(path = "initiative.html")]
struct InitiativePage {
    ctx: PageCtx,
    i: InitiativeView,
    needs: Vec<NeedView>,
    updates: Vec<UpdateView>,
    /// Where the updates the page has no room for are.
    older_updates: Option<String>,
    /// Events not over yet, soonest first.
    events: Vec<EventView>,
    /// The last few that are over, latest first.
    past_events: Vec<EventView>,
    follow_error: bool,
    reasons: Vec<ReasonView>,
    website_check: Option<WebsiteCheckView>,
    /// The moderators' forms (vouch, warn, withdraw), for moderators only.
    moderate: Option<TrustForm>,
}

impl InitiativePage {
    /// This node's own active vouch or warning, which moderators may withdraw.
    fn ours_active(&self) -> Option<&ReasonView> {
        self.reasons.iter().find(|r| r.ours_active)
    }
}

/// What a moderator typed into the trust forms on an initiative's page, kept when a field
/// needs attention.
#[derive(Default)]
pub struct TrustForm {
    /// Which form the errors belong to: `vouch`, `warn` or `withdraw`.
    pub which: String,
    pub statement: String,
    pub basis: String,
    pub warning_reason: String,
    pub withdrawal_reason: String,
    pub errors: FieldErrors,
    pub done: Option<&'static str>,
    pub bases: Vec<(&'static str, &'static str)>,
    pub warning_reasons: Vec<(&'static str, &'static str)>,
}

impl TrustForm {
    pub fn new(t: &Translator) -> Self {
        use hromada_domain::trust::{VouchBasis, WarningReason};
        TrustForm {
            bases: VouchBasis::ALL
                .iter()
                .map(|b| (b.code(), t.named("trust.basis", b.code())))
                .collect(),
            warning_reasons: WarningReason::ALL
                .iter()
                .map(|r| (r.code(), t.named("trust.warning_reason", r.code())))
                .collect(),
            ..Default::default()
        }
    }

    /// The error of a field of one of the forms, if that form was the one sent.
    pub fn error(&self, which: &str, field: &str) -> String {
        if self.which == which {
            self.errors.get(field)
        } else {
            String::new()
        }
    }

    /// What was typed into a form, if that form was the one sent.
    pub fn kept<'a>(&'a self, which: &str, value: &'a str) -> &'a str {
        if self.which == which { value } else { "" }
    }
}

/// An initiative as its page shows it.
pub struct InitiativeView {
    pub path: String,
    pub name: String,
    pub summary: String,
    pub description_html: String,
    pub handle: String,
    /// `handle`, or `handle@domain` for a mirrored listing: how routes name it.
    pub handle_ref: String,
    /// `@handle@host`, for following from the fediverse.
    pub acct: String,
    pub categories: Vec<&'static str>,
    pub tags: Vec<String>,
    pub regions: Vec<String>,
    pub languages: String,
    pub website: Option<String>,
    pub contacts: Vec<ContactView>,
    pub methods: Vec<MethodView>,
    pub status: &'static str,
    pub origin: Option<String>,
    pub trust: Option<TrustBadge>,
    /// Whether the viewer may edit it (shows a link to the dashboard).
    pub editable: bool,
    pub updated: String,
    /// `/media/…` of the avatar and of the header picture.
    pub avatar: Option<String>,
    pub header: Option<String>,
    /// When payment details were added, if that was in the last 90 days.
    pub payment_changed: Option<String>,
}

impl InitiativeView {
    pub fn new(t: &Translator, i: &Initiative, authority: &str) -> Self {
        let host = i.origin.as_deref().unwrap_or(authority);
        InitiativeView {
            path: initiative_path(i),
            name: i.name.clone(),
            summary: i.summary.clone(),
            description_html: markdown_to_html(&i.description),
            handle: i.handle.to_string(),
            handle_ref: hromada_app::acct(i),
            acct: format!("@{}@{host}", i.handle),
            categories: i.categories.iter().map(|c| t.category(c.code())).collect(),
            tags: i.tags.clone(),
            regions: i.regions.iter().map(|r| region_label(t, r)).collect(),
            languages: i
                .languages
                .iter()
                .map(|code| match t.named("language", code) {
                    "" => code.as_str(),
                    name => name,
                })
                .collect::<Vec<_>>()
                .join(", "),
            website: i.website.clone(),
            contacts: i.contacts.iter().map(|c| ContactView::new(t, c)).collect(),
            methods: i
                .donation_methods
                .iter()
                .map(|m| MethodView::new(t, m))
                .collect(),
            status: match i.status {
                InitiativeStatus::Paused => "paused",
                InitiativeStatus::Archived => "archived",
                InitiativeStatus::Pending => "pending",
                InitiativeStatus::Rejected => "rejected",
                InitiativeStatus::Published => "",
            },
            origin: i.origin.clone(),
            trust: None,
            editable: false,
            updated: super::render::date(&i.updated_at),
            avatar: i.avatar.as_ref().map(super::views::media_path),
            header: i.header.as_ref().map(super::views::media_path),
            payment_changed: recent_payment_change(i),
        }
    }
}

/// When the initiative's payment details changed, if recently enough that donors should
/// check them with the initiative first.
pub fn recent_payment_change(i: &Initiative) -> Option<String> {
    i.payment_changed_at
        .filter(|at| *at > hromada_app::now() - chrono::Duration::days(90))
        .map(|at| super::render::date(&at))
}

/// `host` or `host:port` of this node, as in `@handle@host`.
pub fn authority(state: &WebState) -> String {
    let url = &state.settings().public_url;
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

pub(crate) async fn initiative(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let query = query.unwrap_or_default();
    let follow_error = query.contains("follow=invalid");
    let mut form = TrustForm::new(&ctx.t);
    form.done = match query.as_str() {
        q if q.contains("trust=vouched") => Some(ctx.t.tr("trust.done_vouched")),
        q if q.contains("trust=warned") => Some(ctx.t.tr("trust.done_warned")),
        q if q.contains("trust=withdrawn") => Some(ctx.t.tr("trust.done_withdrawn")),
        _ => None,
    };
    let anonymous = ctx.user.is_none();
    let page = initiative_page(&state, ctx, &handle, follow_error, form, StatusCode::OK).await?;
    Ok(if anonymous {
        crate::cache::shareable(page)
    } else {
        page
    })
}

/// The initiative's page; `form` carries a moderator's input back after a field error.
pub(crate) async fn initiative_page(
    state: &WebState,
    ctx: PageCtx,
    handle: &str,
    follow_error: bool,
    form: TrustForm,
    status: StatusCode,
) -> PageResult {
    let detail = match state
        .app()
        .initiative_detail(ctx.user.as_ref(), handle)
        .await
    {
        Ok(detail) => detail,
        Err(AppError::NotFound(_)) if state.app().was_deleted(handle).await.unwrap_or(false) => {
            return Err(ctx.error_page(StatusCode::GONE, "error.gone", "error.gone_text"));
        }
        Err(e) => return Err(ctx.fail(e)),
    };
    let t = ctx.t;
    let mut view = InitiativeView::new(&t, &detail.initiative, &authority(state));
    view.editable = detail.initiative.is_local()
        && ctx
            .user
            .as_ref()
            .is_some_and(|u| u.may_edit(detail.initiative.id));
    let trust = state
        .app()
        .trust_of(&detail.initiative)
        .await
        .map_err(|e| ctx.fail(e))?;
    view.trust = Some(TrustBadge::new(&t, &trust.trust));
    let moderate = (ctx.is_moderator() && detail.initiative.status.is_public()).then_some(form);
    let older_updates = older_updates_link(&view.path, &detail.updates);
    let announcers = announcers(state, &detail).await;
    let now = hromada_app::now();
    let (upcoming, past): (Vec<_>, Vec<_>) = detail
        .events
        .iter()
        .partition(|e| e.ends_at.unwrap_or(e.starts_at + EVENT_WITHOUT_END_LASTS) >= now);
    Ok(page(
        status,
        &InitiativePage {
            i: view,
            needs: detail.needs.iter().map(|n| NeedView::new(&t, n)).collect(),
            updates: detail
                .updates
                .iter()
                .map(|u| UpdateView::new(&t, u))
                .collect(),
            older_updates,
            events: upcoming
                .iter()
                .map(|e| event_here(&t, e, &announcers))
                .collect(),
            past_events: past
                .iter()
                .rev()
                .take(PAST_EVENTS_SHOWN)
                .map(|e| event_here(&t, e, &announcers))
                .collect(),
            follow_error,
            reasons: trust
                .trust
                .reasons
                .iter()
                .map(|r| ReasonView::new(&t, r, detail.initiative.payment_changed_at))
                .collect(),
            website_check: trust.website_check.as_ref().map(WebsiteCheckView::new),
            moderate,
            ctx,
        },
    ))
}

/// The initiatives that announced events raising funds for this one, by id (name, page).
async fn announcers(
    state: &WebState,
    detail: &hromada_app::InitiativeDetail,
) -> HashMap<Uuid, (String, String)> {
    let mut found = HashMap::new();
    for e in &detail.events {
        if e.initiative_id == detail.initiative.id || found.contains_key(&e.initiative_id) {
            continue;
        }
        // One that cannot be read now is shown without its announcer.
        if let Ok(Some(i)) = state.app().store().initiative_by_id(e.initiative_id).await {
            found.insert(e.initiative_id, (i.name.clone(), initiative_path(&i)));
        }
    }
    found
}

/// An event as an initiative's page lists it: one announced by another initiative says by
/// whom (its beneficiary's maintainers did not announce it).
fn event_here(
    t: &Translator,
    e: &hromada_domain::Event,
    announcers: &HashMap<Uuid, (String, String)>,
) -> EventView {
    EventView {
        announced_by: announcers.get(&e.initiative_id).cloned(),
        ..EventView::new(t, e)
    }
}

/// How long an event without an end time counts as still on (a concert that began ten
/// minutes ago is not over).
const EVENT_WITHOUT_END_LASTS: chrono::Duration = chrono::Duration::hours(6);

/// Past events an initiative's page still lists: the rest only clutter it.
const PAST_EVENTS_SHOWN: usize = 5;

/// The second page of updates, when the initiative's page is full.
fn older_updates_link(initiative_path: &str, shown: &[Update]) -> Option<String> {
    (shown.len() >= hromada_app::UPDATES_SHOWN as usize)
        .then(|| format!("{initiative_path}/updates?page=2"))
}

/// Pages of older updates go no further than this (50,000 updates).
const MAX_UPDATES_PAGE: u32 = 1_000;

#[derive(Template)]
#[template(path = "updates.html")]
struct UpdatesPage {
    ctx: PageCtx,
    name: String,
    path: String,
    updates: Vec<UpdateView>,
    older: Option<String>,
}

/// `GET /initiatives/{handle}/updates?page=N`: the updates an initiative's page has no room
/// for (spending reports included), a page at a time; page 1 is the initiative's own.
pub(crate) async fn older_updates(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let page = query_number(query.as_deref(), "page")
        .map_or(2, |n| n.clamp(1, u64::from(MAX_UPDATES_PAGE)) as u32);
    let (initiative, updates, more) = state
        .app()
        .updates_page(ctx.user.as_ref(), &handle, page)
        .await
        .map_err(|e| ctx.fail(e))?;
    let t = ctx.t;
    let path = initiative_path(&initiative);
    Ok(ok(&UpdatesPage {
        name: initiative.name.clone(),
        older: (more && page < MAX_UPDATES_PAGE)
            .then(|| format!("{path}/updates?page={}", page + 1)),
        updates: updates.iter().map(|u| UpdateView::new(&t, u)).collect(),
        path,
        ctx,
    }))
}

/// Where a remote follow goes, when the visitor did not come from our own follow form.
#[derive(Template)]
#[template(path = "leaving.html")]
struct LeavingPage {
    ctx: PageCtx,
    host: String,
    target: String,
    back: String,
}

/// `GET /initiatives/{handle}/follow?server=…`: sends the visitor to their own server's
/// interaction page, which asks them to confirm the follow. Nothing is stored here. Only our
/// own follow form goes there at once: a link to this address from anywhere else could send
/// people to any site under this node's name, so they are shown where it leads first.
pub(crate) async fn remote_follow(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let detail = state
        .app()
        .initiative_detail(None, &handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    let server = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "server")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let i = &detail.initiative;
    let back = format!("{}?follow=invalid#follow", initiative_path(i));
    let Some(host) = their_server(&server) else {
        return Ok(see_other(&back));
    };
    let host_part = i.origin.clone().unwrap_or_else(|| authority(&state));
    let acct = format!("{}@{host_part}", i.handle);
    let uri: String = url::form_urlencoded::byte_serialize(acct.as_bytes()).collect();
    let target = format!("https://{host}/authorize_interaction?uri={uri}");
    if ctx.came_from_our_pages() {
        return Ok(see_other(&target));
    }
    Ok(ok(&LeavingPage {
        ctx,
        host,
        target,
        back: initiative_path(i),
    }))
}

/// The visitor's server from what they typed: `mastodon.social`, `https://mastodon.social/`,
/// or their whole address `@me@mastodon.social`. Only a host name (and port) is kept.
pub fn their_server(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    let s = s.split('/').next().unwrap_or("");
    let s = s.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s.as_str(), None),
    };
    let host_ok = host.len() <= 253
        && host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    (host_ok && port_ok).then_some(s)
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    ctx: PageCtx,
    title: String,
    initiative: String,
    path: String,
    need: Option<NeedView>,
    /// On a need's page: the updates and reports about it.
    about_need: Vec<UpdateView>,
    update: Option<UpdateView>,
    event: Option<EventView>,
}

fn parse_id(ctx: &PageCtx, raw: &str) -> Result<Uuid, super::render::PageError> {
    Uuid::parse_str(raw).map_err(|_| ctx.not_found())
}

pub(crate) async fn need(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&ctx, &id)?;
    let (i, need) = state.app().public_need(id).await.map_err(|e| ctx.fail(e))?;
    let view = NeedView {
        own_page: true,
        ..NeedView::new(&ctx.t, &need)
    };
    // The initiative's public updates are cached as one document; those about this need are
    // picked from it.
    let detail = state
        .app()
        .initiative_detail(None, &hromada_app::acct(&i))
        .await
        .map_err(|e| ctx.fail(e))?;
    let about_need = detail
        .updates
        .iter()
        .filter(|u| u.need_id == Some(need.id))
        .map(|u| UpdateView::new(&ctx.t, u))
        .collect();
    Ok(ok(&ItemPage {
        title: need.title.clone(),
        initiative: i.name.clone(),
        path: initiative_path(&i),
        need: Some(view),
        about_need,
        update: None,
        event: None,
        ctx,
    }))
}

pub(crate) async fn update(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&ctx, &id)?;
    let (i, update) = state
        .app()
        .public_update(id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let title = if matches!(
        update.kind,
        hromada_domain::UpdateKind::SpendingReport { .. }
    ) {
        ctx.t.tr1("update.report_of", &i.name)
    } else {
        ctx.t.tr1("update.news_of", &i.name)
    };
    Ok(ok(&ItemPage {
        title,
        initiative: i.name.clone(),
        path: initiative_path(&i),
        need: None,
        about_need: Vec::new(),
        update: Some(UpdateView::new(&ctx.t, &update)),
        event: None,
        ctx,
    }))
}

pub(crate) async fn event(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&ctx, &id)?;
    let (i, event) = state
        .app()
        .public_event(id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut view = EventView::new(&ctx.t, &event);
    // A mirrored event names listings of its own node, which are `handle@node` here.
    if let Some(origin) = &i.origin {
        for handle in &mut view.beneficiaries {
            *handle = format!("{handle}@{origin}");
        }
    }
    Ok(ok(&ItemPage {
        title: event.title.clone(),
        initiative: i.name.clone(),
        path: initiative_path(&i),
        need: None,
        about_need: Vec::new(),
        update: None,
        event: Some(view),
        ctx,
    }))
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    ctx: PageCtx,
    events: Vec<(EventView, String)>,
}

pub(crate) async fn events(State(state): State<WebState>, ctx: PageCtx) -> PageResult {
    let events = upcoming(&state, &ctx, 100).await?;
    Ok(ok(&EventsPage { ctx, events }))
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    ctx: PageCtx,
    description: String,
    rules_html: Option<String>,
    public_url: String,
    policy: hromada_domain::trust::TrustPolicy,
    /// Nodes this one exchanges listings with: domain, listings from it, since when.
    peers: Vec<(String, u64, String)>,
}

pub(crate) async fn about(State(state): State<WebState>, ctx: PageCtx) -> PageResult {
    let s = state.settings();
    let policy = state.app().trust_policy().await.map_err(|e| ctx.fail(e))?;
    let peers = match state.federation() {
        Some(fed) => fed
            .peers()
            .await
            .map_err(|e| ctx.fail(hromada_app::AppError::Internal(e.to_string())))?
            .into_iter()
            .filter(|p| p.status == "accepted" || p.follows_us == "accepted")
            .map(|p| {
                let since = p
                    .since
                    .as_ref()
                    .map(super::render::date)
                    .unwrap_or_default();
                (p.domain, p.listings, since)
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(ok(&AboutPage {
        description: s.node_description.clone(),
        rules_html: s.node_rules.as_deref().map(markdown_to_html),
        public_url: s.public_url.to_string(),
        policy,
        peers,
        ctx,
    }))
}

/// `GET /lang/{code}?back=/path`: remembers the language in a cookie and goes back.
pub(crate) async fn switch_language(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let back = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let back = local_path(&back).unwrap_or("/").to_string();
    let Some(lang) = super::i18n::Lang::from_code(&code) else {
        return ctx.not_found().into_response();
    };
    let secure = state.settings().public_url.scheme() == "https";
    let mut r = see_other(&back);
    r.headers_mut()
        .append(header::SET_COOKIE, super::ctx::lang_cookie(lang, secure));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_people_type() {
        assert_eq!(
            their_server("mastodon.social").as_deref(),
            Some("mastodon.social")
        );
        assert_eq!(
            their_server(" https://Mastodon.Social/about ").as_deref(),
            Some("mastodon.social")
        );
        assert_eq!(
            their_server("@olena@social.example:8443").as_deref(),
            Some("social.example:8443")
        );
        for bad in [
            "",
            "localhost",
            "evil.example\"x",
            "a..b",
            "x.example:99999",
            "exa mple.org",
            "-a.org",
        ] {
            assert_eq!(their_server(bad), None, "{bad}");
        }
    }

    #[test]
    fn search_forms_ignore_nonsense() {
        let t = super::super::i18n::Lang::from_code("en").unwrap().t();
        let f = SearchForm::parse(
            &t,
            Some("q=%D0%BC%D0%B5%D0%B4&category=nope&region=kharkiv&open=1&page=x"),
        );
        assert_eq!(f.q, "мед");
        assert_eq!(f.category, "");
        assert_eq!(f.region, "kharkiv");
        assert!(f.open && f.page == 1);
        assert_eq!(
            f.page_link(2),
            "/search?q=%D0%BC%D0%B5%D0%B4&region=kharkiv&open=1&page=2"
        );
    }
}
