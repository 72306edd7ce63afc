//! The maintainer's pages for what was already published: events (announce and change them)
//! and updates (correct or delete news and spending reports; a deletion reaches followers on
//! other servers as an ActivityPub `Delete` through the publish queue).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hromada_app::{AppError, InitiativeDetail};
use hromada_domain::money::format_amount;
use hromada_domain::{
    Currency, Event, EventInput, EventPatch, EventPlace, LineItem, Money, Update, UpdateKind, User,
};
use uuid::Uuid;

use super::ctx::PageCtx;
use super::dashboard::ItemRow;
use super::forms::FormData;
use super::render::{
    EVENT_LABELS, FieldErrors, PageError, PageResult, date, page, see_other, typed_amount,
};
use super::views::initiative_path;
use crate::state::WebState;

/// The initiative with its updates and events, if the signed-in user may edit it.
async fn editable(
    state: &WebState,
    ctx: &PageCtx,
    handle: &str,
) -> Result<(User, InitiativeDetail), PageError> {
    let user = ctx.require_user()?.clone();
    let detail = state
        .app()
        .initiative_detail(Some(&user), handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    if !detail.initiative.is_local() || !user.may_edit(detail.initiative.id) {
        return Err(ctx.forbidden());
    }
    Ok((user, detail))
}

pub(crate) const DEFAULT_TIMEZONE: &str = "Europe/Kyiv";
const FORM_TIME: &str = "%Y-%m-%dT%H:%M";

/// A time as a `datetime-local` field shows it: in the event's own time zone.
fn local_field(at: &DateTime<Utc>, timezone: &str) -> String {
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.with_timezone(&tz).format(FORM_TIME).to_string(),
        Err(_) => at.format(FORM_TIME).to_string(),
    }
}

/// A `datetime-local` value read in the event's (or a delayed update's) time zone. An unknown zone reads it as UTC
/// (the zone field gets its own error).
pub(crate) fn from_local_field(raw: &str, timezone: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(raw.trim(), FORM_TIME).ok()?;
    match timezone.trim().parse::<chrono_tz::Tz>() {
        Ok(tz) => tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
        Err(_) => Some(naive.and_utc()),
    }
}

/// An event form's values as typed. `p` tells the forms on one page apart (`new` or the id).
#[derive(Default)]
pub struct EventForm {
    pub p: String,
    pub title: String,
    pub description: String,
    pub starts_at: String,
    pub ends_at: String,
    pub timezone: String,
    pub online: bool,
    pub city: String,
    pub country: String,
    pub venue: String,
    pub url: String,
    pub organiser: String,
    pub beneficiaries: String,
    pub cancelled: bool,
}

impl EventForm {
    fn blank(organiser: &str) -> Self {
        EventForm {
            p: "new".into(),
            timezone: DEFAULT_TIMEZONE.into(),
            country: "UA".into(),
            organiser: organiser.into(),
            ..Default::default()
        }
    }

    fn from_event(e: &Event) -> Self {
        let mut f = EventForm {
            p: e.id.to_string(),
            title: e.title.clone(),
            description: e.description.clone(),
            starts_at: local_field(&e.starts_at, &e.timezone),
            ends_at: e
                .ends_at
                .map(|t| local_field(&t, &e.timezone))
                .unwrap_or_default(),
            timezone: e.timezone.clone(),
            organiser: e.organiser.clone(),
            beneficiaries: e
                .beneficiaries
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            cancelled: e.cancelled,
            ..Default::default()
        };
        match &e.place {
            EventPlace::City {
                city,
                country,
                venue,
            } => {
                f.city = city.clone();
                f.country = country.clone();
                f.venue = venue.clone().unwrap_or_default();
            }
            EventPlace::Online { url } => {
                f.online = true;
                f.url = url.clone();
            }
        }
        f
    }

    fn from_form(p: &str, form: &FormData) -> Self {
        EventForm {
            p: p.into(),
            title: form.get("title").into(),
            description: form.get("description").into(),
            starts_at: form.get("starts_at").into(),
            ends_at: form.get("ends_at").into(),
            timezone: form.get("timezone").into(),
            online: form.get("place") == "online",
            city: form.get("city").into(),
            country: form.get("country").into(),
            venue: form.get("venue").into(),
            url: form.get("url").into(),
            organiser: form.get("organiser").into(),
            beneficiaries: form.get("beneficiaries").into(),
            cancelled: form.has("cancelled"),
        }
    }

    /// The input for the use cases, or the fields that cannot even be read.
    fn to_input(&self, ctx: &PageCtx) -> Result<EventInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let invalid = ctx.t.tr("error.invalid");
        let starts_at = from_local_field(&self.starts_at, &self.timezone);
        if starts_at.is_none() {
            errors.add("starts_at", invalid);
        }
        let ends_at = match self.ends_at.trim() {
            "" => None,
            raw => {
                let end = from_local_field(raw, &self.timezone);
                if end.is_none() {
                    errors.add("ends_at", invalid);
                }
                end
            }
        };
        let place = if self.online {
            EventPlace::Online {
                url: self.url.trim().into(),
            }
        } else {
            let venue = self.venue.trim();
            EventPlace::City {
                city: self.city.clone(),
                country: self.country.clone(),
                venue: (!venue.is_empty()).then(|| venue.to_string()),
            }
        };
        match starts_at {
            Some(starts_at) if errors.is_empty() => Ok(EventInput {
                title: self.title.clone(),
                description: self.description.clone(),
                starts_at,
                ends_at,
                timezone: self.timezone.trim().into(),
                place,
                organiser: self.organiser.clone(),
                beneficiaries: self
                    .beneficiaries
                    .split([',', ' ', '\n'])
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(String::from)
                    .collect(),
                cancelled: self.cancelled,
            }),
            _ => Err(errors),
        }
    }
}

/// The domain's field paths as the event form names them.
fn event_field(path: &str) -> Option<String> {
    Some(match path {
        p if p.starts_with("place.") => p.trim_start_matches("place.").to_string(),
        p if p.starts_with("beneficiaries") => "beneficiaries".into(),
        p => p.to_string(),
    })
}

#[derive(Template)]
#[template(path = "dashboard_events.html")]
struct EventsPage {
    ctx: PageCtx,
    name: String,
    handle: String,
    path: String,
    new: EventForm,
    events: Vec<EventForm>,
    /// The form the errors belong to (`new` or an event's id), and the errors.
    errors_for: String,
    errors: FieldErrors,
    saved: Option<&'static str>,
}

impl EventsPage {
    fn new(ctx: PageCtx, detail: &InitiativeDetail) -> Self {
        EventsPage {
            name: detail.initiative.name.clone(),
            handle: detail.initiative.handle.to_string(),
            path: initiative_path(&detail.initiative),
            new: EventForm::blank(&detail.initiative.name),
            // Events of others that raise funds for this initiative show on its page; only its
            // own can be edited here.
            events: detail
                .events
                .iter()
                .filter(|e| e.initiative_id == detail.initiative.id)
                .map(EventForm::from_event)
                .collect(),
            errors_for: String::new(),
            errors: FieldErrors::default(),
            saved: None,
            ctx,
        }
    }

    /// The error of one field of one of the forms.
    pub fn err(&self, p: &str, field: &str) -> String {
        if self.errors_for == p {
            self.errors.get(field)
        } else {
            String::new()
        }
    }

    /// Shows the page again with one form as typed and its errors.
    fn with_errors(mut self, f: EventForm, errors: FieldErrors) -> Response {
        self.errors_for = f.p.clone();
        if f.p == "new" {
            self.new = f;
        } else if let Some(slot) = self.events.iter_mut().find(|e| e.p == f.p) {
            *slot = f;
        }
        self.errors = errors.of_form(format!("{}-", self.errors_for), EVENT_LABELS);
        page(StatusCode::UNPROCESSABLE_ENTITY, &self)
    }
}

type Response = axum::response::Response;

pub(crate) async fn events(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let (_, detail) = editable(&state, &ctx, &handle).await?;
    let saved = match query.as_deref().unwrap_or("") {
        q if q.contains("saved=created") => Some(ctx.t.tr("dashboard.event_created")),
        q if q.contains("saved=event") => Some(ctx.t.tr("dashboard.event_saved")),
        _ => None,
    };
    let mut p = EventsPage::new(ctx, &detail);
    p.saved = saved;
    Ok(page(StatusCode::OK, &p))
}

pub(crate) async fn add_event(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, detail) = editable(&state, &ctx, &handle).await?;
    let f = EventForm::from_form("new", &form);
    let errors = match f.to_input(&ctx) {
        Ok(input) => match state.app().add_event(&user, &handle, input).await {
            Ok(e) => {
                return Ok(see_other(&format!(
                    "/dashboard/{}/events?saved=created#e-{}",
                    detail.initiative.handle, e.id
                )));
            }
            Err(AppError::Invalid(v)) => FieldErrors::from_validation(ctx.t, &v, event_field),
            Err(e) => return Err(ctx.fail(e)),
        },
        Err(errors) => errors,
    };
    Ok(EventsPage::new(ctx, &detail).with_errors(f, errors))
}

pub(crate) async fn edit_event(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let user = ctx.require_user()?.clone();
    let event_id = Uuid::parse_str(&id).map_err(|_| ctx.not_found())?;
    let event = state
        .app()
        .store()
        .event_by_id(event_id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let initiative = state
        .app()
        .store()
        .initiative_by_id(event.initiative_id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let (_, detail) = editable(&state, &ctx, &hromada_app::acct(&initiative)).await?;
    let f = EventForm::from_form(&id, &form);
    let errors = match f.to_input(&ctx) {
        Ok(input) => {
            let patch = EventPatch {
                title: Some(input.title),
                description: Some(input.description),
                starts_at: Some(input.starts_at),
                ends_at: Some(input.ends_at),
                timezone: Some(input.timezone),
                place: Some(input.place),
                organiser: Some(input.organiser),
                beneficiaries: Some(input.beneficiaries),
                cancelled: Some(input.cancelled),
            };
            match state.app().edit_event(&user, event_id, patch).await {
                Ok(_) => {
                    return Ok(see_other(&format!(
                        "/dashboard/{}/events?saved=event#e-{event_id}",
                        initiative.handle
                    )));
                }
                Err(AppError::Invalid(v)) => FieldErrors::from_validation(ctx.t, &v, event_field),
                Err(e) => return Err(ctx.fail(e)),
            }
        }
        Err(errors) => errors,
    };
    Ok(EventsPage::new(ctx, &detail).with_errors(f, errors))
}

/// A published (or scheduled) update with its edit form's values.
pub struct PostForm {
    pub id: String,
    pub date: String,
    pub report: bool,
    pub scheduled: bool,
    pub photos: usize,
    pub body: String,
    pub items: Vec<ItemRow>,
}

/// Spending report rows: the existing items and one blank to add another.
fn item_rows(u: &Update) -> Vec<ItemRow> {
    let items: &[LineItem] = match &u.kind {
        UpdateKind::SpendingReport { items } => items,
        UpdateKind::News => &[],
    };
    items
        .iter()
        .map(|i| {
            (
                i.what.clone(),
                format_amount(i.amount.amount),
                i.amount.currency.to_string(),
            )
        })
        .chain(std::iter::once((
            String::new(),
            String::new(),
            "UAH".into(),
        )))
        .enumerate()
        .map(|(n, (what, amount, currency))| ItemRow {
            p: format!("item{n}"),
            what,
            amount,
            currency,
        })
        .collect()
}

impl PostForm {
    fn new(u: &Update) -> Self {
        PostForm {
            id: u.id.to_string(),
            date: date(&u.publish_at),
            report: matches!(u.kind, UpdateKind::SpendingReport { .. }),
            scheduled: !u.is_published(hromada_app::now()),
            photos: u.photos.len(),
            body: u.body.clone(),
            items: if matches!(u.kind, UpdateKind::SpendingReport { .. }) {
                item_rows(u)
            } else {
                Vec::new()
            },
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard_posts.html")]
struct PostsPage {
    ctx: PageCtx,
    name: String,
    handle: String,
    path: String,
    posts: Vec<PostForm>,
    errors_for: String,
    errors: FieldErrors,
    saved: Option<&'static str>,
}

impl PostsPage {
    fn new(ctx: PageCtx, detail: &InitiativeDetail) -> Self {
        PostsPage {
            name: detail.initiative.name.clone(),
            handle: detail.initiative.handle.to_string(),
            path: initiative_path(&detail.initiative),
            posts: detail.updates.iter().map(PostForm::new).collect(),
            errors_for: String::new(),
            errors: FieldErrors::default(),
            saved: None,
            ctx,
        }
    }

    pub fn err(&self, id: &str, field: &str) -> String {
        if self.errors_for == id {
            self.errors.get(field)
        } else {
            String::new()
        }
    }
}

pub(crate) async fn posts(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let (_, detail) = editable(&state, &ctx, &handle).await?;
    let saved = match query.as_deref().unwrap_or("") {
        q if q.contains("saved=edited") => Some(ctx.t.tr("dashboard.post_saved")),
        q if q.contains("saved=deleted") => Some(ctx.t.tr("dashboard.post_deleted")),
        _ => None,
    };
    let mut p = PostsPage::new(ctx, &detail);
    p.saved = saved;
    Ok(page(StatusCode::OK, &p))
}

/// The update and its initiative's details, if the signed-in user may edit it.
async fn editable_update(
    state: &WebState,
    ctx: &PageCtx,
    id: &str,
) -> Result<(User, Update, InitiativeDetail), PageError> {
    let update_id = Uuid::parse_str(id).map_err(|_| ctx.not_found())?;
    let update = state
        .app()
        .store()
        .update_by_id(update_id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let initiative = state
        .app()
        .store()
        .initiative_by_id(update.initiative_id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let (user, detail) = editable(state, ctx, &hromada_app::acct(&initiative)).await?;
    Ok((user, update, detail))
}

pub(crate) async fn edit_post(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, update, detail) = editable_update(&state, &ctx, &id).await?;
    let t = ctx.t;
    let mut kept = PostForm::new(&update);
    kept.body = form.get("body").into();
    let mut errors = FieldErrors::default();
    let kind = if kept.report {
        let mut items = Vec::new();
        for row in kept.items.iter_mut() {
            row.what = form.get(&format!("{}.what", row.p)).into();
            row.amount = form.get(&format!("{}.amount", row.p)).into();
            row.currency = form.get(&format!("{}.currency", row.p)).into();
            if row.what.trim().is_empty() && row.amount.trim().is_empty() {
                continue;
            }
            match (typed_amount(&row.amount), Currency::parse(&row.currency)) {
                (Ok(amount), Ok(currency)) => items.push(LineItem {
                    what: row.what.clone(),
                    amount: Money { amount, currency },
                }),
                (Err(_), _) => errors.add("items", t.tr("error.invalid_amount")),
                (_, Err(_)) => errors.add("items", t.tr("error.invalid_currency")),
            }
        }
        Some(UpdateKind::SpendingReport { items })
    } else {
        None
    };
    if errors.is_empty() {
        match state
            .app()
            .edit_update(&user, update.id, Some(kept.body.clone()), kind)
            .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/dashboard/{}/posts?saved=edited#u-{}",
                    detail.initiative.handle, update.id
                )));
            }
            Err(AppError::Invalid(v)) => {
                errors = FieldErrors::from_validation(t, &v, |p| {
                    Some(if p.starts_with("items") { "items" } else { p }.to_string())
                });
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    let mut p = PostsPage::new(ctx, &detail);
    p.errors_for = kept.id.clone();
    if let Some(slot) = p.posts.iter_mut().find(|x| x.id == kept.id) {
        *slot = kept;
    }
    p.errors = errors;
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

pub(crate) async fn delete_post(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, update, detail) = editable_update(&state, &ctx, &id).await?;
    // A deletion reaches followers' servers and cannot be undone: one tap is not enough.
    if form.get("confirm") != "yes" {
        let mut p = PostsPage::new(ctx, &detail);
        p.errors_for = update.id.to_string();
        p.errors.add(
            "confirm",
            p.ctx.t.tr("dashboard.delete_post_confirm_needed"),
        );
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    state
        .app()
        .delete_update(&user, update.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other(&format!(
        "/dashboard/{}/posts?saved=deleted",
        detail.initiative.handle
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_are_read_in_the_event_zone() {
        let t = from_local_field("2026-12-12T19:00", "Europe/Berlin").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-12T18:00:00+00:00");
        assert_eq!(local_field(&t, "Europe/Berlin"), "2026-12-12T19:00");
        assert_eq!(local_field(&t, "Europe/Kyiv"), "2026-12-12T20:00");
        assert!(from_local_field("12.12.2026 19:00", "Europe/Berlin").is_none());
        // An unknown zone still reads the time; the zone itself is refused elsewhere.
        assert_eq!(
            from_local_field("2026-12-12T19:00", "Mars/Olympus")
                .unwrap()
                .to_rfc3339(),
            "2026-12-12T19:00:00+00:00"
        );
    }
}
