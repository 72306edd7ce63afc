//! Turning templates into responses, error pages, redirects, and the small formatting helpers
//! templates share (money, dates, field errors).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hromada_app::AppError;
use hromada_domain::{Currency, ValidationErrors};

use super::ctx::PageCtx;
use super::i18n::Translator;

/// A rendered page. Pages differ by cookie (language, user, CSRF token), so caches must not
/// share them.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            h.insert(
                header::VARY,
                HeaderValue::from_static("Cookie, Accept-Language"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn ok(template: &impl Template) -> Response {
    page(StatusCode::OK, template)
}

/// After a successful form post: go to the page showing the result (so reloading does not
/// post again).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The whole number `key` of a query string (a page number), if it has one.
pub fn query_number(query: Option<&str>, key: &str) -> Option<u64> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// A path the visitor may be sent back to: local and absolute, never `//host` or a scheme.
pub fn local_path(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(raw)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a PageCtx,
    title: &'a str,
    message: &'a str,
}

/// A page that could not be shown, already rendered in the visitor's language.
#[derive(Debug)]
pub struct PageError(pub Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub type PageResult = Result<Response, PageError>;

impl PageCtx {
    pub fn error_page(&self, status: StatusCode, title_key: &str, message_key: &str) -> PageError {
        let t = self.t;
        PageError(Box::new(page(
            status,
            &ErrorPage {
                ctx: self,
                title: t.tr(title_key),
                message: t.tr(message_key),
            },
        )))
    }

    pub fn not_found(&self) -> PageError {
        self.error_page(
            StatusCode::NOT_FOUND,
            "error.not_found",
            "error.not_found_text",
        )
    }

    pub fn forbidden(&self) -> PageError {
        self.error_page(
            StatusCode::FORBIDDEN,
            "error.forbidden",
            "error.forbidden_text",
        )
    }

    /// 429 with `Retry-After`: a per-client limit (submissions, reports) was reached.
    pub fn rate_limited(&self, wait: std::time::Duration) -> PageError {
        let mut response = self.error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "error.rate_limited",
            "error.rate_limited_text",
        );
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.0.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(secs.max(1)),
        );
        response
    }

    /// Refuses a form that does not carry this visitor's CSRF token, or comes from another site.
    pub fn check_csrf(&self, form: &super::forms::FormData) -> Result<(), PageError> {
        if self.csrf_ok(form.get("csrf")) {
            Ok(())
        } else {
            Err(self.error_page(StatusCode::FORBIDDEN, "error.csrf", "error.csrf_text"))
        }
    }

    /// Sends visitors who are not signed in to the login page, and back here afterwards.
    pub fn login_required(&self) -> PageError {
        let next: String = url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
        PageError(Box::new(see_other(&format!("/login?next={next}"))))
    }

    /// The user, or a redirect to the login page.
    pub fn require_user(&self) -> Result<&hromada_domain::User, PageError> {
        self.user.as_ref().ok_or_else(|| self.login_required())
    }

    /// A use case's failure as a page. Validation errors are handled by the forms themselves;
    /// reaching here with one means a bug in a form, shown as a plain 422.
    pub fn fail(&self, e: AppError) -> PageError {
        match e {
            AppError::NotFound(_) => self.not_found(),
            AppError::Unauthenticated => self.login_required(),
            AppError::Forbidden(_) => self.forbidden(),
            AppError::Conflict(_) => self.error_page(
                StatusCode::CONFLICT,
                "error.conflict",
                "error.conflict_text",
            ),
            AppError::Invalid(errors) => {
                tracing::warn!(errors = %errors.summary(), "validation error reached a page");
                self.error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "error.invalid",
                    "error.invalid_text",
                )
            }
            AppError::BadCredentials => {
                self.error_page(StatusCode::UNAUTHORIZED, "error.forbidden", "login.failed")
            }
            AppError::TooManyLogins(_) => self.error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "error.forbidden",
                "login.limited",
            ),
            e @ (AppError::Store(_) | AppError::Internal(_)) => {
                tracing::error!(error = %e, "page failed");
                self.error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error.internal",
                    "error.internal_text",
                )
            }
        }
    }
}

/// The locale keys of form fields' labels, by field name, so that an error summary names the
/// field each message is about. Rows of repeated fields (`region0.city`) are named by their row.
pub type FieldLabels = &'static [(&'static str, &'static str)];

/// The fields of the forms that show an error summary: an initiative's profile and submission,
/// a post, a report, the trust policy, one's password and the monthly-giving calculator.
pub const FORM_LABELS: FieldLabels = &[
    ("handle", "form.handle"),
    ("name", "form.name"),
    ("summary", "form.summary"),
    ("description", "form.description"),
    ("categories", "form.categories"),
    ("tags", "form.tags"),
    ("languages", "form.languages"),
    ("website", "form.website"),
    ("submitter_contact", "form.submitter_contact"),
    ("body", "dashboard.body"),
    ("need_id", "dashboard.for_need"),
    ("photos", "dashboard.photos"),
    ("items", "dashboard.items"),
    ("publish_at", "dashboard.publish_at"),
    ("publish_tz", "dashboard.publish_tz"),
    ("category", "report.category_label"),
    ("reason", "report.reason_label"),
    ("contact", "report.contact_label"),
    ("threshold", "about.threshold"),
    ("trusted", "about.trusted"),
    ("ignored", "about.ignored"),
    ("note", "admin.policy_note"),
    ("current_password", "account.current_password"),
    ("new_password", "account.new_password"),
    ("new_password_again", "account.new_password_again"),
    ("pick", "give.pick"),
    ("income", "give.income"),
    ("custom", "give.custom"),
];

/// A need's fields (new or edited).
pub const NEED_LABELS: FieldLabels = &[
    ("raised", "dashboard.raised"),
    ("status", "dashboard.need_status"),
    ("title", "dashboard.need_title"),
    ("description", "form.description"),
    ("category", "search.category"),
    ("target", "dashboard.target"),
    ("currency", "form.currency"),
    ("urgency", "dashboard.urgency"),
    ("deadline", "dashboard.deadline"),
];

/// An event's fields.
pub const EVENT_LABELS: FieldLabels = &[
    ("title", "event.title_label"),
    ("description", "form.description"),
    ("starts_at", "event.starts"),
    ("ends_at", "event.ends_label"),
    ("timezone", "event.timezone"),
    ("venue", "event.venue"),
    ("city", "event.city"),
    ("country", "event.country"),
    ("url", "event.url"),
    ("organiser", "event.organiser_label"),
    ("beneficiaries", "event.beneficiaries_label"),
];

/// Field errors of a form, keyed by the form's own field names, in the visitor's language.
#[derive(Debug, Clone)]
pub struct FieldErrors {
    pub items: Vec<(String, String)>,
    /// Put before a field's name to make its input's id, on pages where two forms have fields of
    /// the same name (`need-` + `title` → `need-title`).
    anchor_prefix: String,
    labels: FieldLabels,
}

impl Default for FieldErrors {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            anchor_prefix: String::new(),
            labels: FORM_LABELS,
        }
    }
}

impl FieldErrors {
    /// For a form whose inputs' ids start with `anchor_prefix` and whose fields `labels` names.
    pub fn of_form(mut self, anchor_prefix: impl Into<String>, labels: FieldLabels) -> Self {
        self.anchor_prefix = anchor_prefix.into();
        self.labels = labels;
        self
    }

    /// What the summary calls a field: its label (without the hint in brackets), or for a
    /// field in a row of repeated fields, the row's name ("Region 2").
    pub fn label(&self, t: &Translator, field: &str) -> Option<String> {
        let rows = [
            ("region", "form.region_n"),
            ("contact", "form.contact_n"),
            ("dm", "form.method_n"),
            ("item", "dashboard.item_n"),
        ];
        if let Some((row, _)) = field.split_once('.') {
            return rows.iter().find_map(|(prefix, key)| {
                let n: usize = row.strip_prefix(prefix)?.parse().ok()?;
                Some(t.tr1(key, n + 1))
            });
        }
        let key = self.labels.iter().find(|(f, _)| *f == field)?.1;
        let label = t.tr(key);
        Some(
            label
                .split_once(" (")
                .map_or(label, |(short, _)| short)
                .to_string(),
        )
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.items.push((field.into(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether a field has an error (for `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|(f, _)| f == field)
    }

    /// The messages for one field, joined.
    pub fn get(&self, field: &str) -> String {
        self.items
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Maps the domain's field paths to form field names with `map`, translating each message
    /// by its code. Errors whose path `map` does not know are kept under `""` (shown on top).
    pub fn from_validation(
        t: Translator,
        errors: &ValidationErrors,
        map: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut out = FieldErrors::default();
        for e in &errors.errors {
            let key = format!("error.{}", e.code);
            let message = if t.has(&key) {
                t.tr(&key).to_string()
            } else {
                e.message.clone()
            };
            out.add(map(&e.field).unwrap_or_default(), message);
        }
        out
    }

    /// The id of a field's input: `dm0.iban` → `dm0-iban` (ids avoid dots for CSS's sake).
    pub fn anchor(&self, field: &str) -> String {
        format!("{}{}", self.anchor_prefix, field.replace('.', "-"))
    }
}

/// An amount as people type it (`10 000`, `1 500,50`), read as the domain reads amounts: the
/// spaces that group thousands dropped, a decimal comma taken as a point. `1,500` stays an
/// error rather than becoming 1.5.
pub fn typed_amount(raw: &str) -> Result<i64, String> {
    hromada_domain::money::parse_amount(&typed_amount_text(raw))
}

/// [`typed_amount`]'s normal form, for inputs the domain parses itself.
pub fn typed_amount_text(raw: &str) -> String {
    raw.replace([' ', '\u{a0}', '\u{202f}', '\u{2009}'], "")
        .replace(',', ".")
}

/// `8350000` minor units → `83 500` (or `83 500.50`), with a narrow no-break space between
/// thousands, the decimal separator of the language.
pub fn amount(t: &Translator, minor: i64) -> String {
    let negative = minor < 0;
    let abs = minor.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    let cents = abs % 100;
    let sign = if negative { "-" } else { "" };
    if cents == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{}{cents:02}", t.tr("format.decimal"))
    }
}

pub fn money(t: &Translator, minor: i64, currency: &Currency) -> String {
    format!("{}\u{a0}{}", amount(t, minor), currency.as_str())
}

/// A date for people: `2026-11-27`. ISO dates read the same in every language.
pub fn date(ts: &chrono::DateTime<chrono::Utc>) -> String {
    ts.format("%Y-%m-%d").to_string()
}

/// An event's time in its own time zone, with the zone named.
pub fn local_time(ts: &chrono::DateTime<chrono::Utc>, tz: &str) -> String {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) => ts
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M (%Z)")
            .to_string(),
        Err(_) => ts.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;
    use super::*;

    #[test]
    fn amounts_are_grouped() {
        let en = Lang::from_code("en").unwrap().t();
        let uk = Lang::from_code("uk").unwrap().t();
        assert_eq!(amount(&en, 8_350_000), "83\u{202f}500");
        assert_eq!(amount(&en, 100_050), "1\u{202f}000.50");
        assert_eq!(amount(&uk, 100_050), "1\u{202f}000,50");
        assert_eq!(amount(&en, 99), "0.99");
    }

    #[test]
    fn error_summaries_name_the_field() {
        let en = Lang::from_code("en").unwrap().t();
        let errors = FieldErrors::default();
        assert_eq!(errors.label(&en, "summary").as_deref(), Some("Summary"));
        assert_eq!(
            errors.label(&en, "region1.city").as_deref(),
            Some("Region 2")
        );
        assert_eq!(
            errors.label(&en, "dm0.iban").as_deref(),
            Some("Donation method 1")
        );
        assert_eq!(errors.label(&en, "no_such_field"), None);
        let event = FieldErrors::default().of_form("new-", EVENT_LABELS);
        assert_eq!(event.anchor("starts_at"), "new-starts_at");
        for lang in ["en", "uk"] {
            let t = Lang::from_code(lang).unwrap().t();
            for (field, key) in FORM_LABELS.iter().chain(NEED_LABELS).chain(EVENT_LABELS) {
                assert!(t.has(key), "{lang}: the label of {field} ({key})");
            }
        }
    }

    #[test]
    fn only_local_paths() {
        assert_eq!(local_path("/initiatives/x?a=1"), Some("/initiatives/x?a=1"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }
}
