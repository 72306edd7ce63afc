//! The maintainer's dashboard: edit the listing and its donation methods, post an update or a
//! spending report with photos, record what a need has raised, add needs.

use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use hromada_app::AppError;
use hromada_domain::Picture;
use hromada_domain::{
    Category, Currency, Initiative, LineItem, Money, Need, NeedInput, NeedPatch, NeedStatus,
    Update, UpdateInput, UpdateKind, Urgency, User,
};
use uuid::Uuid;

use super::ctx::PageCtx;
use super::forms::{FormData, InitiativeForm};
use super::i18n::Translator;
use super::render::{
    FieldErrors, NEED_LABELS, PageError, PageResult, ok, page, see_other, typed_amount,
    typed_amount_text,
};
use super::views::{NeedView, initiative_path, media_path};
use crate::media::MediaStore;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "dashboard_list.html")]
struct ListPage {
    ctx: PageCtx,
    mine: Vec<(String, String, String)>,
}

pub(crate) async fn list(State(state): State<WebState>, ctx: PageCtx) -> PageResult {
    let user = ctx.require_user()?.clone();
    let mut mine = Vec::new();
    for id in &user.maintains {
        if let Some(i) = state
            .app()
            .store()
            .initiative_by_id(*id)
            .await
            .map_err(|e| ctx.fail(e.into()))?
        {
            mine.push((
                i.handle.to_string(),
                i.name.clone(),
                ctx.t.tr(&format!("status.{}", i.status.code())).to_string(),
            ));
        }
    }
    Ok(page(StatusCode::OK, &ListPage { ctx, mine }))
}

pub struct ItemRow {
    pub p: String,
    pub what: String,
    pub amount: String,
    pub currency: String,
}

/// The update form's values.
pub struct UpdateForm {
    pub report: bool,
    pub body: String,
    pub need_id: String,
    pub publish_at: String,
    /// The zone `publish_at` is read in (Kyiv unless the maintainer says otherwise).
    pub publish_tz: String,
    pub alt: String,
    pub items: Vec<ItemRow>,
    /// Photos uploaded with a post that had to be corrected: kept, so they need not be sent
    /// again over a slow connection (the form lists them, ticked).
    pub kept: Vec<String>,
}

impl UpdateForm {
    fn empty() -> Self {
        UpdateForm {
            report: false,
            body: String::new(),
            need_id: String::new(),
            publish_at: String::new(),
            publish_tz: super::dashboard_items::DEFAULT_TIMEZONE.to_string(),
            alt: String::new(),
            items: (0..4)
                .map(|i| ItemRow {
                    p: format!("item{i}"),
                    what: String::new(),
                    amount: String::new(),
                    currency: "UAH".into(),
                })
                .collect(),
            kept: Vec::new(),
        }
    }
}

/// A need form's values, as typed: the new-need form, or the one of a need being edited.
#[derive(Default)]
pub struct NeedForm {
    pub title: String,
    pub description: String,
    pub category: String,
    pub target: String,
    pub currency: String,
    pub urgency: String,
    pub deadline: String,
    /// Only for an existing need.
    pub raised: String,
    /// The raised amount the form showed (hidden): the form always sends the amount back, and
    /// sent back as shown it is no change. Empty once the form came back asking for the amount
    /// (a new currency), so what is sent then counts as given.
    pub raised_shown: String,
    pub status: String,
}

impl NeedForm {
    fn read(form: &FormData) -> Self {
        NeedForm {
            title: form.get("title").into(),
            description: form.get("description").into(),
            category: form.get("category").into(),
            target: form.get("target").into(),
            currency: form.get("currency").into(),
            urgency: form.get("urgency").into(),
            deadline: form.get("deadline").into(),
            raised: form.get("raised").into(),
            raised_shown: String::new(),
            status: form.get("status").into(),
        }
    }

    fn of(need: &Need) -> Self {
        let plain = hromada_domain::money::format_amount;
        NeedForm {
            title: need.title.clone(),
            description: need.description.clone(),
            category: need.category.code().into(),
            target: need
                .target
                .as_ref()
                .map(|m| plain(m.amount))
                .unwrap_or_default(),
            currency: need
                .target
                .as_ref()
                .map_or("UAH", |m| m.currency.as_str())
                .into(),
            urgency: need.urgency.code().into(),
            deadline: need.deadline.map(|d| d.to_string()).unwrap_or_default(),
            raised: plain(need.raised),
            raised_shown: plain(need.raised),
            status: need.status.code().into(),
        }
    }

    /// The target and the deadline as the domain takes them; what cannot be read is told in
    /// `errors` (an empty target or deadline is none).
    fn target_and_deadline(
        &self,
        t: &Translator,
        errors: &mut FieldErrors,
    ) -> (Option<Money>, Option<chrono::NaiveDate>) {
        let target = match self.target.trim() {
            "" => None,
            raw => match (typed_amount(raw), Currency::parse(&self.currency)) {
                (Ok(amount), Ok(currency)) => Some(Money { amount, currency }),
                (amount, currency) => {
                    if amount.is_err() {
                        errors.add("target", t.tr("error.invalid_amount"));
                    }
                    if currency.is_err() {
                        errors.add("currency", t.tr("error.invalid_currency"));
                    }
                    None
                }
            },
        };
        let deadline = match self.deadline.trim() {
            "" => None,
            raw => chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .inspect_err(|_| errors.add("deadline", t.tr("error.invalid")))
                .ok(),
        };
        (target, deadline)
    }
}

/// A need on the dashboard: how it shows, and its form.
pub struct NeedEdit {
    pub view: NeedView,
    pub form: NeedForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    name: String,
    handle: String,
    path: String,
    f: InitiativeForm,
    errors: FieldErrors,
    is_submit: bool,
    u: UpdateForm,
    update_errors: FieldErrors,
    needs: Vec<NeedEdit>,
    n: NeedForm,
    new_need_errors: FieldErrors,
    saved: Option<&'static str>,
    categories: Vec<(&'static str, &'static str)>,
    /// `/media/…` of the current avatar and header picture.
    avatar: Option<String>,
    header: Option<String>,
    picture_errors: FieldErrors,
    /// Moderators may delete the initiative as a whole (after typing its handle).
    can_delete: bool,
    delete_error: Option<&'static str>,
}

impl DashboardPage {
    fn new(ctx: PageCtx, i: &Initiative, needs: &[hromada_domain::Need]) -> Self {
        let t = ctx.t;
        DashboardPage {
            name: i.name.clone(),
            handle: i.handle.to_string(),
            path: initiative_path(i),
            f: InitiativeForm::from_initiative(&t, i),
            errors: FieldErrors::default(),
            is_submit: false,
            u: UpdateForm::empty(),
            update_errors: FieldErrors::default(),
            needs: needs
                .iter()
                .map(|n| NeedEdit {
                    view: NeedView::new(&t, n),
                    form: NeedForm::of(n),
                    errors: FieldErrors::default().of_form(format!("{}-", n.id), NEED_LABELS),
                })
                .collect(),
            n: NeedForm {
                currency: "UAH".into(),
                urgency: "normal".into(),
                category: "other".into(),
                ..Default::default()
            },
            new_need_errors: FieldErrors::default(),
            saved: None,
            avatar: i.avatar.as_ref().map(media_path),
            header: i.header.as_ref().map(media_path),
            picture_errors: FieldErrors::default(),
            categories: Category::ALL
                .iter()
                .map(|c| (c.code(), t.category(c.code())))
                .collect(),
            can_delete: ctx.user.as_ref().is_some_and(User::is_moderator),
            delete_error: None,
            ctx,
        }
    }

    /// (picture code, current `/media/…` path, label key) for the two picture forms.
    pub fn pictures(&self) -> [(&'static str, Option<&str>, &'static str); 2] {
        [
            ("avatar", self.avatar.as_deref(), "dashboard.avatar"),
            ("header", self.header.as_deref(), "dashboard.header"),
        ]
    }
}

/// The initiative and its needs, if the signed-in user may edit it.
async fn editable(
    state: &WebState,
    ctx: &PageCtx,
    handle: &str,
) -> Result<(User, Initiative, Vec<hromada_domain::Need>), PageError> {
    let user = ctx.require_user()?.clone();
    let detail = state
        .app()
        .initiative_detail(Some(&user), handle)
        .await
        .map_err(|e| ctx.fail(e))?;
    if !detail.initiative.is_local() || !user.may_edit(detail.initiative.id) {
        return Err(ctx.forbidden());
    }
    Ok((user, detail.initiative, detail.needs))
}

pub(crate) async fn show(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let (_, i, needs) = editable(&state, &ctx, &handle).await?;
    let saved = match query.as_deref().unwrap_or("") {
        q if q.contains("saved=profile") => Some("dashboard.saved_profile"),
        q if q.contains("saved=update") => Some("dashboard.saved_update"),
        q if q.contains("saved=need") => Some("dashboard.saved_need"),
        q if q.contains("saved=picture") => Some("dashboard.saved_picture"),
        _ => None,
    };
    let mut p = DashboardPage::new(ctx, &i, &needs);
    p.saved = saved.map(|k| p.ctx.t.tr(k));
    Ok(page(StatusCode::OK, &p))
}

/// Deletes the initiative as a whole (moderators), once its handle is typed to confirm.
pub(crate) async fn delete(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, i, needs) = editable(&state, &ctx, &handle).await?;
    if !user.is_moderator() {
        return Err(ctx.forbidden());
    }
    if form.get("confirm").trim() != i.handle.as_str() {
        let mut p = DashboardPage::new(ctx, &i, &needs);
        p.delete_error = Some(p.ctx.t.tr("dashboard.delete_mismatch"));
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    state
        .app()
        .delete_initiative(Some(&user), i.handle.as_str(), Some(form.get("reason")))
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other("/dashboard"))
}

fn back(handle: &str, what: &str, anchor: &str) -> String {
    format!("/dashboard/{handle}?saved={what}#{anchor}")
}

pub(crate) async fn save_profile(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, i, needs) = editable(&state, &ctx, &handle).await?;
    let t = ctx.t;
    let f = InitiativeForm::from_form(&t, &form);
    if form.asks_for_more_rows() {
        let mut p = DashboardPage::new(ctx, &i, &needs);
        p.f = f;
        return Ok(ok(&p));
    }
    let (patch, mut errors, map) = f.to_patch(&t);
    if errors.is_empty() {
        match state.app().edit(&user, &handle, patch).await {
            Ok(_) => return Ok(see_other(&back(i.handle.as_str(), "profile", "profile"))),
            Err(AppError::Invalid(v)) => {
                errors = FieldErrors::from_validation(t, &v, |p| map.form_field(p));
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    let mut p = DashboardPage::new(ctx, &i, &needs);
    p.f = f;
    p.errors = errors;
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

/// Reads a multipart form: its text fields, and the non-empty files sent as `file_field`.
async fn read_files(
    mut multipart: Multipart,
    file_field: &str,
) -> Result<(FormData, Vec<Vec<u8>>), String> {
    let mut fields = Vec::new();
    let mut photos = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(e.body_text()),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == file_field {
            let bytes = field.bytes().await.map_err(|e| e.body_text())?;
            if !bytes.is_empty() {
                photos.push(bytes.to_vec());
            }
        } else {
            let text = field.text().await.map_err(|e| e.body_text())?;
            // Nobody types NUL characters, and PostgreSQL cannot store them.
            fields.push((name, text.replace('\0', "")));
        }
    }
    Ok((FormData(fields), photos))
}

pub(crate) async fn post_update(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    multipart: Multipart,
) -> PageResult {
    // Who may post here is known from the headers: nobody else gets a body of up to 61 MB read.
    let (user, i, needs) = editable(&state, &ctx, &handle).await?;
    let (form, photos) = match read_files(multipart, "photos").await {
        Ok(x) => x,
        Err(why) => {
            tracing::info!(%why, "unreadable update form");
            return Err(ctx.error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "error.invalid",
                "error.photo_too_large",
            ));
        }
    };
    ctx.check_csrf(&form)?;
    let t = ctx.t;
    let mut u = UpdateForm::empty();
    u.report = form.get("kind") == "spending_report";
    u.body = form.get("body").to_string();
    u.need_id = form.get("need_id").to_string();
    u.publish_at = form.get("publish_at").to_string();
    u.publish_tz = form.get("publish_tz").trim().to_string();
    u.alt = form.get("alt").to_string();
    u.kept = form.all("kept").into_iter().map(String::from).collect();
    for row in u.items.iter_mut() {
        row.what = form.get(&format!("{}.what", row.p)).to_string();
        row.amount = form.get(&format!("{}.amount", row.p)).to_string();
        let c = form.get(&format!("{}.currency", row.p));
        if !c.is_empty() {
            row.currency = c.to_string();
        }
    }
    let mut errors = FieldErrors::default();
    let mut items = Vec::new();
    let mut item_rows = Vec::new();
    if u.report {
        for (n, row) in u.items.iter().enumerate() {
            if row.what.trim().is_empty() && row.amount.trim().is_empty() {
                continue;
            }
            let amount = typed_amount(&row.amount);
            let currency = Currency::parse(&row.currency);
            match (amount, currency) {
                (Ok(amount), Ok(currency)) => {
                    item_rows.push(n);
                    items.push(LineItem {
                        what: row.what.clone(),
                        amount: Money { amount, currency },
                    });
                }
                (Err(_), _) => {
                    errors.add(format!("{}.amount", row.p), t.tr("error.invalid_amount"))
                }
                (_, Err(_)) => {
                    errors.add(format!("{}.amount", row.p), t.tr("error.invalid_currency"))
                }
            }
        }
    }
    let need_id = match u.need_id.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("need_id", t.tr("error.invalid"));
                None
            }
        },
    };
    // Read in the maintainer's zone: a report held back for safety must not go out hours early.
    let publish_at = match u.publish_at.trim() {
        "" => None,
        _ if u.publish_tz.parse::<chrono_tz::Tz>().is_err() => {
            errors.add("publish_tz", t.tr("error.invalid_timezone"));
            None
        }
        raw => match super::dashboard_items::from_local_field(raw, &u.publish_tz) {
            Some(at) => Some(at),
            None => {
                errors.add("publish_at", t.tr("error.invalid"));
                None
            }
        },
    };
    let mut input = UpdateInput {
        kind: if u.report {
            UpdateKind::SpendingReport { items }
        } else {
            UpdateKind::News
        },
        body: u.body.clone(),
        need_id,
        photos: Vec::new(),
        publish_at,
    };
    let map_field = |path: &str| -> Option<String> {
        if let Some(rest) = path.strip_prefix("items[") {
            let (idx, field) = rest.split_once(']')?;
            let row = idx
                .parse::<usize>()
                .ok()
                .and_then(|k| item_rows.get(k).copied())
                .unwrap_or(0);
            let field = if field.contains("amount") {
                "amount"
            } else {
                "what"
            };
            return Some(format!("item{row}.{field}"));
        }
        match path {
            "items" => Some("item0.what".into()),
            p if p.starts_with("photos") => Some("photos".into()),
            p => Some(p.to_string()),
        }
    };
    if u.kept.len() + photos.len() > hromada_domain::update::MAX_PHOTOS {
        errors.add("photos", t.tr("error.too_many"));
    }
    if errors.is_empty()
        && let Err(v) = Update::new(Uuid::nil(), i.id, input.clone(), hromada_app::now())
    {
        errors = FieldErrors::from_validation(t, &v, map_field);
    }
    // New photos are stored even when the text needs correcting: the form then keeps them,
    // and a volunteer on a slow connection does not send them twice. The media sweep leaves
    // them a day to be used.
    let too_many = errors.has("photos");
    let media = MediaStore::new(&state.settings().media_dir);
    let mut failures = Vec::new();
    // Kept photos come from the form: each distinct one once, and no more than an update holds
    // (each is a file on disk to look at).
    let mut kept = std::mem::take(&mut u.kept);
    let mut named = std::collections::HashSet::new();
    kept.retain(|name| named.insert(name.clone()));
    kept.truncate(hromada_domain::update::MAX_PHOTOS);
    for name in kept {
        match media.stored(name, &u.alt).await {
            Some(photo) => input.photos.push(photo),
            None => failures.push("error.invalid_photo".to_string()),
        }
    }
    for bytes in photos.into_iter().filter(|_| !too_many) {
        match media.save_upload(bytes, &u.alt).await {
            Ok(photo) => input.photos.push(photo),
            Err(e) => failures.push(format!("error.{}", e.code())),
        }
    }
    // The same file chosen twice is one photo (names are content hashes).
    let mut seen = std::collections::HashSet::new();
    input.photos.retain(|photo| seen.insert(photo.name.clone()));
    u.kept = input
        .photos
        .iter()
        .map(|photo| photo.name.clone())
        .collect();
    failures.sort();
    failures.dedup();
    for key in failures {
        errors.add("photos", t.tr(&key));
    }
    if errors.is_empty() {
        match state.app().post_update(&user, &handle, input).await {
            Ok(_) => return Ok(see_other(&back(i.handle.as_str(), "update", "post"))),
            Err(AppError::Invalid(v)) => {
                errors = FieldErrors::from_validation(t, &v, map_field);
            }
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    let mut p = DashboardPage::new(ctx, &i, &needs);
    p.u = u;
    p.update_errors = errors;
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

/// Sets or removes the avatar or the header picture (a multipart form: the file, or `remove`).
pub(crate) async fn save_picture(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path((handle, which)): Path<(String, String)>,
    multipart: Multipart,
) -> PageResult {
    let which = Picture::from_code(&which).ok_or_else(|| ctx.not_found())?;
    // As for updates: nobody but who may edit the listing gets the body read.
    let (user, i, needs) = editable(&state, &ctx, &handle).await?;
    let (form, files) = match read_files(multipart, "picture").await {
        Ok(x) => x,
        Err(why) => {
            tracing::info!(%why, "unreadable picture form");
            return Err(ctx.error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "error.invalid",
                "error.photo_too_large",
            ));
        }
    };
    ctx.check_csrf(&form)?;
    let t = ctx.t;
    let mut errors = FieldErrors::default();
    let photo = if form.get("remove").is_empty() {
        match files.into_iter().next() {
            None => {
                errors.add(which.code(), t.tr("error.photo_empty"));
                None
            }
            Some(bytes) => {
                let side = match which {
                    Picture::Avatar => hromada_media::AVATAR_SIDE,
                    Picture::Header => hromada_media::MAX_SIDE,
                };
                let media = MediaStore::new(&state.settings().media_dir);
                match media.save_within(bytes, "", side).await {
                    Ok(photo) => Some(photo),
                    Err(e) => {
                        errors.add(which.code(), t.tr(&format!("error.{}", e.code())));
                        None
                    }
                }
            }
        }
    } else {
        None
    };
    if errors.is_empty() {
        state
            .app()
            .set_picture(&user, &handle, which, photo)
            .await
            .map_err(|e| ctx.fail(e))?;
        return Ok(see_other(&back(i.handle.as_str(), "picture", "pictures")));
    }
    let mut p = DashboardPage::new(ctx, &i, &needs);
    p.picture_errors = errors;
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

pub(crate) async fn save_need(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let id = Uuid::parse_str(&id).map_err(|_| ctx.not_found())?;
    // Any need of an initiative the user may edit, a pending submission's too.
    let store = state.app().store();
    let mut need = store
        .need_by_id(id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let owner = store
        .initiative_by_id(need.initiative_id)
        .await
        .map_err(|e| ctx.fail(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let (user, initiative, needs) = editable(&state, &ctx, &hromada_app::acct(&owner)).await?;
    let t = ctx.t;
    let mut n = NeedForm::read(&form);
    let mut errors = FieldErrors::default().of_form(format!("{id}-"), NEED_LABELS);
    let (target, deadline) = n.target_and_deadline(&t, &mut errors);
    // Fields the form did not send, or that could not be read, stay as they are.
    let given = |field: &str| form.0.iter().any(|(k, _)| k == field) && !errors.has(field);
    // The form always sends the raised amount back; as it showed it, it is no change (so a
    // new currency asks for it anew instead of relabelling the old sum).
    let raised = typed_amount_text(&n.raised);
    let shown = form.get("raised_shown");
    let raised_changed = shown.is_empty()
        || hromada_domain::money::parse_amount(&raised)
            != hromada_domain::money::parse_amount(&typed_amount_text(shown));
    let patch = NeedPatch {
        title: given("title").then(|| n.title.clone()),
        description: given("description").then(|| n.description.clone()),
        category: given("category").then(|| n.category.clone()),
        target: (given("target") && !errors.has("currency")).then_some(target),
        raised: (given("raised") && raised_changed).then_some(raised),
        deadline: given("deadline").then_some(deadline),
        urgency: Urgency::from_code(&n.urgency),
        status: serde_json::from_value::<NeedStatus>(serde_json::json!(n.status)).ok(),
    };
    // The rest of the form is checked too, so every mistake shows at once.
    let checked = if errors.is_empty() {
        match state.app().edit_need(&user, id, patch).await {
            Ok(_) => {
                return Ok(see_other(&back(
                    initiative.handle.as_str(),
                    "need",
                    &format!("n-{id}"),
                )));
            }
            Err(AppError::Invalid(v)) => v,
            Err(e) => return Err(ctx.fail(e)),
        }
    } else {
        need.apply(patch, hromada_app::now())
            .err()
            .unwrap_or_default()
    };
    let from_domain = FieldErrors::from_validation(t, &checked, |p| {
        Some(p.split('.').next().unwrap_or(p).to_string())
    });
    errors.items.extend(from_domain.items);
    // Shown again as it was, unless the form asks for the amount anew (a new currency): only
    // then does sending it back count as giving it.
    if !errors.has("raised") {
        n.raised_shown = shown.to_string();
    }
    let mut p = DashboardPage::new(ctx, &initiative, &needs);
    if let Some(edit) = p.needs.iter_mut().find(|e| e.view.id == id.to_string()) {
        edit.form = n;
        edit.errors = errors;
    }
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

pub(crate) async fn add_need(
    State(state): State<WebState>,
    ctx: PageCtx,
    Path(handle): Path<String>,
    form: FormData,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let (user, i, needs) = editable(&state, &ctx, &handle).await?;
    let t = ctx.t;
    let n = NeedForm::read(&form);
    let mut errors = FieldErrors::default().of_form("need-", NEED_LABELS);
    let (target, deadline) = n.target_and_deadline(&t, &mut errors);
    let input = NeedInput {
        title: n.title.clone(),
        description: n.description.clone(),
        category: n.category.clone(),
        target,
        raised: None,
        deadline,
        urgency: Urgency::from_code(&n.urgency).unwrap_or(Urgency::Normal),
    };
    // The rest of the form is checked too, so every mistake shows at once.
    let checked = if errors.is_empty() {
        match state.app().add_need(&user, &handle, input).await {
            Ok(_) => return Ok(see_other(&back(i.handle.as_str(), "need", "needs"))),
            Err(AppError::Invalid(v)) => v,
            Err(e) => return Err(ctx.fail(e)),
        }
    } else {
        Need::new(Uuid::nil(), i.id, input, hromada_app::now())
            .err()
            .unwrap_or_default()
    };
    let from_domain = FieldErrors::from_validation(t, &checked, |p| {
        Some(if p.starts_with("target") {
            "target".into()
        } else {
            p.to_string()
        })
    });
    errors.items.extend(from_domain.items);
    let mut p = DashboardPage::new(ctx, &i, &needs);
    p.n = n;
    p.new_need_errors = errors;
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

/// The locale key of a need status code.
pub fn status_key(code: &str) -> &'static str {
    match code {
        "funded" => "need.status.funded",
        "delivered" => "need.status.delivered",
        "cancelled" => "need.status.cancelled",
        _ => "need.status.open",
    }
}

/// The locale key of an urgency code.
pub fn urgency_key(code: &str) -> &'static str {
    match code {
        "low" => "urgency.low",
        "high" => "urgency.high",
        "critical" => "urgency.critical",
        _ => "urgency.normal",
    }
}
