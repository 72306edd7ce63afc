//! The OpenAPI 3.1 document of API v1, generated from the handlers' `#[utoipa::path]`
//! annotations and the domain types' schemas.

use axum::Json;
use axum::extract::State;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};

use super::{accounts, inbox, initiatives, items, moderation, network, pictures, trust};
use crate::health;
use crate::state::WebState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hromada API",
        version = "1",
        description = "A federated directory of Ukrainian grassroots solidarity initiatives.\n\n\
            Errors are JSON `{error, message, fields}`: `error` is a stable code, `fields` lists \
            `{field, code, message}` for the fields at fault. Bodies that are not JSON of the \
            right shape get 400 (`invalid_json`, naming the field where possible); well-formed \
            input that breaks a rule gets 422 (`validation_failed`). Authenticate with \
            `Authorization: Bearer <token>` from `POST /api/v1/auth/token`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        health::healthz,
        openapi_json,
        accounts::create_token,
        accounts::list_tokens,
        accounts::revoke_token,
        accounts::me,
        accounts::list_users,
        accounts::create_user,
        accounts::change_user,
        initiatives::search,
        initiatives::submit,
        initiatives::detail,
        initiatives::edit,
        pictures::put_avatar,
        pictures::delete_avatar,
        pictures::put_header,
        pictures::delete_header,
        inbox::replies,
        inbox::follow_requests,
        inbox::accept_follow,
        inbox::reject_follow,
        items::add_need,
        items::get_need,
        items::edit_need,
        items::post_update,
        items::get_update,
        items::edit_update,
        items::delete_update,
        items::add_event,
        items::get_event,
        items::edit_event,
        items::upload_media,
        moderation::approve,
        moderation::reject,
        moderation::set_status,
        moderation::delete_initiative,
        moderation::add_maintainer,
        moderation::list_maintainers,
        moderation::remove_maintainer,
        moderation::audit_log,
        network::list_peers,
        network::follow_peer,
        network::unfollow_peer,
        network::change_peer,
        network::approve_peer,
        network::reject_peer,
        network::list_blocks,
        network::block,
        network::import_blocks,
        network::unblock,
        network::queue,
        trust::vouch,
        trust::warn,
        trust::initiative_trust,
        trust::report,
        trust::get_vouch,
        trust::withdraw_vouch,
        trust::get_warning,
        trust::withdraw_warning,
        trust::get_policy,
        trust::put_policy,
        trust::list_reports,
        trust::resolve_report,
        trust::dismiss_report,
        trust::transparency,
        trust::transparency_atom,
    ),
    // Named by query parameters only, which utoipa does not collect on its own.
    components(schemas(
        hromada_store::OriginFilter,
        hromada_domain::Category,
        hromada_domain::trust::TrustLevel
    )),
    modifiers(&BearerSecurity),
    tags(
        (name = "initiatives", description = "Search, read, submit and edit initiatives"),
        (name = "needs", description = "What initiatives are raising money or collecting goods for"),
        (name = "updates", description = "News and spending reports"),
        (name = "events", description = "Solidarity events that raise funds"),
        (name = "moderation", description = "Reviewing submissions, statuses, maintainers, audit log"),
        (name = "accounts", description = "Tokens and accounts"),
        (name = "network", description = "Peers (node follows), domain blocks and the delivery queue"),
        (name = "trust", description = "Vouches, warnings, the trust policy, reports and the transparency log"),
        (name = "node", description = "The node itself"),
    )
)]
pub struct ApiDoc;

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `POST /api/v1/auth/token` or `hromada admin`",
                    ))
                    .build(),
            ),
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "node",
    responses((status = 200, description = "The OpenAPI 3.1 document of API v1", body = Object))
)]
pub(crate) async fn openapi_json(State(state): State<WebState>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![Server::new(
        state.settings().public_url.as_str().trim_end_matches('/'),
    )]);
    Json(doc)
}
