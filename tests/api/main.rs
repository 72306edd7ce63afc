//! The JSON API v1 suite: every case talks real HTTP to a whole node (`TestNode`: real
//! database, real server on a loopback port), on SQLite and, when `HROMADA_TEST_POSTGRES_URL`
//! names a server, on PostgreSQL too. Without the variable the PostgreSQL trials are reported
//! as ignored.
//!
//! Run one area or backend with a filter: `cargo test -p hromada-tests --test api -- tokens`
//! or `-- postgres::`.

// Cases are plain async fns run by the harness below, not `#[test]`s, so clippy does not know
// they are tests; here a failed unwrap is exactly a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod caching;
mod editing;
mod errors;
mod limits;
mod openapi;
mod pictures;
mod submissions;
mod support;
mod upkeep;

use std::future::Future;
use std::pin::Pin;

use hromada_testkit::Backend;
use hromada_testkit::db::{POSTGRES_URL_VAR, postgres_url};
use libtest_mimic::{Arguments, Failed, Trial};

type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Case = fn(Backend) -> CaseFuture;

/// Turns `module::case` paths (async fns taking a [`Backend`]) into named cases.
macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        vec![$((
            concat!(stringify!($module), "::", stringify!($case)),
            (|backend: Backend| -> CaseFuture { Box::pin($module::$case(backend)) }) as Case,
        )),*]
    };
}

fn cases() -> Vec<(&'static str, Case)> {
    cases![
        submissions::submission_is_pending_until_a_moderator_approves_it,
        submissions::moderators_reject_with_a_reason,
        submissions::invalid_submissions_are_refused_and_nothing_is_stored,
        submissions::search_parameters_are_checked,
        editing::maintainers_edit_only_their_own_initiative,
        editing::moderators_remove_maintainers,
        editing::needs_updates_and_events,
        editing::status_changes_follow_the_roles,
        editing::events_are_edited_and_photos_uploaded,
        accounts::tokens_are_issued_used_and_revoked,
        accounts::login_failures_are_rate_limited,
        accounts::admins_manage_accounts,
        accounts::private_data_stays_private,
        caching::anonymous_reads_are_shared_and_follow_every_edit,
        caching::callers_with_credentials_never_get_the_shared_answer,
        errors::errors_are_json_with_fitting_statuses,
        errors::oversized_bodies_get_413_and_nothing_is_stored,
        errors::answers_before_the_body_is_read_close_the_connection,
        errors::health_check_reports_the_database,
        openapi::document_covers_every_route,
        openapi::every_documented_route_is_served,
        pictures::pictures_are_cleaned_served_and_federated,
        pictures::old_unnamed_photos_are_swept,
        limits::submissions_and_reports_are_limited_per_client_across_processes,
        limits::forwarded_addresses_are_ignored_without_trusted_proxies,
        limits::api_tokens_expire_and_say_so,
        limits::health_check_fails_while_the_database_is_gone_and_recovers,
        limits::upload_413_names_the_upload_limit,
        upkeep::search_index_is_merged_daily,
        upkeep::admin_commands_do_not_migrate_behind_running_processes,
    ]
}

fn run(case: Case, backend: Backend) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
    runtime.block_on(case(backend));
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let postgres = postgres_url().is_some();
    if !postgres {
        eprintln!(
            "note: {POSTGRES_URL_VAR} is not set; the PostgreSQL trials of the API suite are skipped"
        );
    }
    let mut trials = Vec::new();
    for (name, case) in cases() {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            run(case, Backend::Sqlite)
        }));
        trials.push(
            Trial::test(format!("postgres::{name}"), move || {
                run(case, Backend::Postgres)
            })
            .with_ignored_flag(!postgres),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
