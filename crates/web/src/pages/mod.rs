//! Server-rendered HTML pages for people: the public directory, the "give regularly" page,
//! submissions, login, the maintainer's dashboard, moderation and administration, feeds, and
//! the static files and photos they use.
//!
//! Templates (askama, `crates/web/templates`) are checked at compile time and escape every
//! value; texts come from `crates/web/locales` (see [`i18n`]). Every page works without
//! JavaScript; `static/app.js` only adds copy buttons and computes the monthly split in place.
//! Every form that changes something carries a CSRF token (a cookie matched by a hidden field,
//! plus an Origin check). Responses get a strict Content-Security-Policy (no inline code, no
//! third-party hosts), `frame-ancestors 'none'`, `nosniff`, a referrer policy, and gzip.

pub(crate) mod account;
pub(crate) mod admin;
pub mod assets;
pub(crate) mod ctx;
pub(crate) mod dashboard;
pub(crate) mod dashboard_items;
pub(crate) mod feeds;
pub(crate) mod forms;
pub(crate) mod give;
pub mod i18n;
pub(crate) mod inbox;
pub(crate) mod maintainers;
pub(crate) mod moderation;
pub(crate) mod own_account;
pub(crate) mod public;
pub(crate) mod render;
pub(crate) mod report;
pub(crate) mod trust;
pub(crate) mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::WebState;
use ctx::{CsrfToken, PageCtx};

/// Forms without files: text fields only, the initiative form being the biggest.
const FORM_BODY_LIMIT: usize = 512 * 1024;
/// The update form with up to six photos.
const UPLOAD_BODY_LIMIT: usize =
    crate::media::MAX_UPLOAD_BYTES * hromada_domain::update::MAX_PHOTOS + 1024 * 1024;

/// No inline scripts or styles, nothing from other hosts. `form-action` allows https because
/// the remote-follow form's answer redirects to the visitor's own server.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; form-action 'self' https:; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

/// Every page route. Merged into the web edge's router by [`crate::router`].
pub fn router(state: &WebState) -> Router<WebState> {
    let pages = Router::new()
        .route("/", get(public::home))
        .route("/search", get(public::search))
        .route("/tags/{tag}", get(public::tag))
        .route("/initiatives/{handle}", get(public::initiative))
        .route("/initiatives/{handle}/updates", get(public::older_updates))
        .route("/initiatives/{handle}/follow", get(public::remote_follow))
        .route(
            "/initiatives/{handle}/report",
            get(report::form).post(report::send),
        )
        .route(
            "/initiatives/{handle}/feed.atom",
            get(feeds::initiative_atom),
        )
        .route(
            "/initiatives/{handle}/events.ics",
            get(feeds::initiative_ics),
        )
        .route("/needs/{id}", get(public::need))
        .route("/updates/{id}", get(public::update))
        .route("/events", get(public::events))
        .route("/events/{id}", get(public::event))
        .route("/events/{id}/event.ics", get(feeds::event_ics))
        .route("/events.ics", get(feeds::node_ics))
        .route("/feed.atom", get(feeds::node_atom))
        .route("/give", get(give::give))
        .route("/about", get(public::about))
        .route("/transparency", get(trust::transparency))
        .route("/vouches/{id}", get(trust::vouch_page))
        .route("/warnings/{id}", get(trust::warning_page))
        .route("/lang/{code}", get(public::switch_language))
        .route("/submit", get(account::submit_form).post(account::submit))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account", get(own_account::show))
        .route("/account/password", post(own_account::change_password))
        .route("/dashboard", get(dashboard::list))
        .route("/dashboard/{handle}", get(dashboard::show))
        .route("/dashboard/{handle}/profile", post(dashboard::save_profile))
        .route("/dashboard/{handle}/needs", post(dashboard::add_need))
        .route("/dashboard/{handle}/delete", post(dashboard::delete))
        .route("/dashboard/needs/{id}", post(dashboard::save_need))
        .route("/dashboard/{handle}/inbox", get(inbox::show))
        .route(
            "/dashboard/{handle}/follow-requests/{id}/{answer}",
            post(inbox::answer),
        )
        .route(
            "/dashboard/{handle}/events",
            get(dashboard_items::events).post(dashboard_items::add_event),
        )
        .route("/dashboard/events/{id}", post(dashboard_items::edit_event))
        .route("/dashboard/{handle}/posts", get(dashboard_items::posts))
        .route("/dashboard/updates/{id}", post(dashboard_items::edit_post))
        .route(
            "/dashboard/{handle}/maintainers",
            get(maintainers::show).post(maintainers::add),
        )
        .route(
            "/dashboard/{handle}/maintainers/{username}/remove",
            post(maintainers::remove),
        )
        .route(
            "/dashboard/updates/{id}/delete",
            post(dashboard_items::delete_post),
        )
        .route("/moderation", get(moderation::queue))
        .route("/moderation/{handle}/approve", post(moderation::approve))
        .route("/moderation/{handle}/reject", post(moderation::reject))
        .route("/moderation/reports/{id}", post(moderation::close_report))
        .route("/moderation/initiatives/{handle}/vouch", post(trust::vouch))
        .route("/moderation/initiatives/{handle}/warn", post(trust::warn))
        .route(
            "/moderation/initiatives/{handle}/withdraw",
            post(trust::withdraw),
        )
        .route("/admin", get(moderation::admin))
        .route("/admin/users", post(moderation::create_user))
        .route("/admin/maintainers", post(moderation::add_maintainer))
        .route("/admin/password", post(moderation::reset_password))
        .route("/admin/users/disabled", post(moderation::set_disabled))
        .route("/admin/users/role", post(moderation::set_role))
        .route("/admin/peers", get(admin::peers).post(admin::follow))
        .route("/admin/peers/{domain}/unfollow", post(admin::unfollow))
        .route("/admin/peers/{domain}/answer", post(admin::answer))
        .route("/admin/blocks", post(admin::block))
        .route("/admin/blocks/{domain}/unblock", post(admin::unblock))
        .route(
            "/admin/trust",
            get(admin::trust_policy).post(admin::save_trust_policy),
        )
        .route("/admin/queue", get(admin::queue))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .merge(
            Router::new()
                .route("/dashboard/{handle}/updates", post(dashboard::post_update))
                .route(
                    "/dashboard/{handle}/pictures/{which}",
                    post(dashboard::save_picture),
                )
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf_cookie));
    let files = Router::new()
        .route("/static/{name}", get(assets::serve))
        .route("/media/{name}", get(crate::media::serve));
    pages
        .merge(files)
        .layer(CompressionLayer::new())
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Gives every visitor a CSRF token cookie on their first page view.
async fn csrf_cookie(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let secure = state.settings().public_url.scheme() == "https";
    let token = CsrfToken::from_headers(request.headers(), secure);
    request.extensions_mut().insert(token.clone());
    let mut response = next.run(request).await;
    if token.fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, token.cookie(secure));
    }
    response
}

async fn not_found(ctx: PageCtx) -> Response {
    ctx.not_found().into_response()
}
