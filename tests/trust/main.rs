//! Trust on one node, end to end: every case talks real HTTP to a whole node (`TestNode`) on
//! SQLite and, when `HROMADA_TEST_POSTGRES_URL` names a server, on PostgreSQL too: the
//! threshold, policy changes, explained statuses, withdrawals, warnings, the search filter,
//! reports, the transparency log, and the `rel="me"` website check against a real local site.
//!
//! Vouches of other nodes (which federation will deliver) are arranged directly in the node's
//! store, as federation will store them.
//!
//! Run one area or backend with a filter: `cargo test -p hromada-tests --test trust -- website`
//! or `-- postgres::`.

// Cases are plain async fns run by the harness below, not `#[test]`s, so clippy does not know
// they are tests; here a failed unwrap is exactly a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod website;

// The API suite's HTTP client (a node, requests with or without a token, JSON answers).
#[allow(dead_code)]
#[path = "../api/support.rs"]
mod support;

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
        cases::threshold_and_policy_changes,
        cases::status_explains_itself,
        cases::withdrawals_and_warnings,
        cases::who_may_do_what,
        cases::search_filters_by_trust,
        cases::reports_reach_the_moderators,
        cases::transparency_log_and_feed,
        website::rel_me_back_link_is_checked,
        website::unsafe_and_broken_sites_fail_the_check,
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
            "note: {POSTGRES_URL_VAR} is not set; the PostgreSQL trials of the trust suite are skipped"
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
