//! The store conformance suite: the executable specification of `hromada_store::Store`.
//!
//! Every case is written once against `&dyn Store` and runs on a fresh SQLite database, and on
//! a fresh PostgreSQL database when `HROMADA_TEST_POSTGRES_URL` names a server (each case gets
//! its own database there, dropped afterwards). Without the variable the PostgreSQL trials are
//! reported as ignored and one line says so.
//!
//! The search cases also run on an in-memory SQLite database (`sqlite-memory::`), whose
//! searches read through other connections than its writes.
//!
//! Run one area or backend with a filter: `cargo test -p hromada-tests --test store -- search`
//! or `-- postgres::`.

// A custom harness does not compile with cfg(test), so clippy's test exemptions do not apply;
// a failed unwrap is how a case reports a failure here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod delivery;
mod events;
mod federation;
mod feed;
mod initiatives;
mod leases;
mod needs;
mod peers;
mod search;
mod support;
mod trust;
mod updates;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hromada_store::{FederationStore, Store};
use hromada_testkit::db::{
    POSTGRES_URL_VAR, fresh_postgres, fresh_sqlite, memory_sqlite, postgres_url,
};
use libtest_mimic::{Arguments, Failed, Trial};

type CaseFuture = Pin<Box<dyn Future<Output = ()>>>;
/// A case gets one fresh database, through both of its interfaces.
type Case = fn(Arc<dyn Store>, Arc<dyn FederationStore>) -> CaseFuture;

/// Turns `module::case` paths (async fns taking `&dyn Store`) into named cases.
macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        vec![$((
            concat!(stringify!($module), "::", stringify!($case)),
            (|store: Arc<dyn Store>, _: Arc<dyn FederationStore>| -> CaseFuture {
                Box::pin(async move { $module::$case(&*store).await })
            }) as Case,
        )),*]
    };
}

/// Like [`cases!`], for async fns taking `(&dyn Store, &dyn FederationStore)`.
macro_rules! federation_cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        vec![$((
            concat!(stringify!($module), "::", stringify!($case)),
            (|store: Arc<dyn Store>, fed: Arc<dyn FederationStore>| -> CaseFuture {
                Box::pin(async move { $module::$case(&*store, &*fed).await })
            }) as Case,
        )),*]
    };
}

fn all_cases() -> Vec<(&'static str, Case)> {
    let mut all = federation_cases![
        peers::peers_round_trip_and_replace,
        peers::touch_and_delete_peer,
        peers::peer_updates_touch_only_their_columns,
        peers::a_peer_answer_and_its_accept_are_one_write,
        peers::listing_counts_per_origin,
        peers::purge_domain_takes_everything_of_it,
        peers::unfollowing_forgets_what_only_that_peer_brought,
        peers::deleting_a_remote_listing_spares_local_ones,
        peers::missing_pictures_are_rescheduled_until_forgotten,
        federation::follow_requests_are_pending_follows_oldest_first,
        federation::inbox_items_page_newest_first,
        federation::concurrent_writes_each_get_their_own_outcome,
        federation::each_version_of_an_object_is_relayed_once,
        delivery::fan_out_queues_each_delivery_inbox_once,
        delivery::finishing_a_batch_records_results_and_hosts,
        delivery::a_late_result_of_an_expired_claim_is_dropped,
    ];
    all.push((
        "leases::a_long_round_keeps_its_lease_and_a_lost_lease_stops_it",
        (|store: Arc<dyn Store>, _: Arc<dyn FederationStore>| -> CaseFuture {
            Box::pin(leases::a_long_round_keeps_its_lease_and_a_lost_lease_stops_it(store))
        }) as Case,
    ));
    all.extend(cases![
        leases::one_holder_renews_and_another_takes_over_after_expiry,
        leases::releasing_frees_the_job_only_for_its_holder,
        leases::concurrent_takers_get_one_holder,
        initiatives::deleting_tombstones_everything_and_retires_the_handle,
        initiatives::round_trip_every_field,
        initiatives::remote_round_trip_and_lookup_by_origin,
        initiatives::update_replaces_every_field,
        initiatives::update_of_missing_is_not_found,
        initiatives::a_write_over_a_stale_read_conflicts,
        initiatives::local_handles_are_unique,
        initiatives::remote_handles_are_unique_per_origin,
        initiatives::update_into_a_taken_handle_conflicts,
        initiatives::duplicate_id_conflicts,
        initiatives::ping_answers,
        search::finds_english_and_ukrainian_words,
        search::terms_match_as_prefixes,
        search::every_term_is_required,
        search::name_and_tags_rank_above_summary_and_description,
        search::ranks_by_the_fields_holding_every_word_then_newest,
        search::prefixes_of_any_length,
        search::inflected_forms_find_each_other,
        search::found_by_the_places_they_work_in,
        search::diacritics_are_optional,
        search::syntax_characters_are_plain_text,
        search::filters_by_category_and_region,
        search::filters_by_status,
        search::statuses_combine_with_words_and_filters,
        search::filters_by_origin,
        search::filters_by_open_needs,
        search::filters_by_recurring_donations,
        search::text_and_filters_combine,
        search::pages_and_total,
        search::without_text_newest_update_first,
        search::edits_are_searchable,
        search::counts_stop_at_the_cap_and_filters_apply_first,
        search::merging_the_index_changes_no_result,
        needs::round_trip_with_and_without_target,
        needs::update_and_missing,
        needs::open_first_then_urgency_then_newest,
        needs::urgent_needs_of_listed_initiatives,
        needs::need_of_missing_initiative_is_not_found,
        updates::round_trip_news_and_report,
        updates::newest_first_and_scheduled_hidden,
        updates::edit_and_missing,
        updates::delete_leaves_tombstone,
        updates::photos_in_use_are_those_named_by_initiatives_and_updates,
        events::round_trip_city_and_online,
        events::publisher_and_beneficiary_events,
        events::upcoming_events_of_listed_initiatives,
        events::update_and_missing,
        accounts::user_round_trip_and_lookup,
        accounts::usernames_are_unique_ignoring_case,
        accounts::maintainer_links,
        accounts::password_and_disabled,
        accounts::roles_change_with_their_audit_entry,
        accounts::tokens_live_expired_revoked,
        accounts::token_hash_is_unique,
        accounts::rate_limit_hits_count_per_key_and_window,
        accounts::login_failures_slide_and_clear,
        feed::change_feed_order_and_contents,
        feed::change_feed_pages,
        feed::audit_log_newest_first,
        feed::conflicting_writes_leave_no_trace,
        feed::audit_is_written_with_its_change,
        feed::concurrent_writes_all_land_in_order,
        feed::change_watch_sees_feed_and_local_writes,
        trust::statements_round_trip,
        trust::remote_listings_with_own_statements_page_by_id,
        trust::status_follows_statements_and_withdrawals,
        trust::policy_change_recomputes_every_status,
        trust::concurrent_vouches_all_count,
        trust::transparency_log_newest_first_and_atomic,
        trust::search_filters_by_trust_status,
        trust::reports_round_trip_and_resolve,
        trust::website_checks_and_what_is_due,
        trust::own_statements_and_reports_enter_the_feed,
    ]);
    all
}

enum Backend<'a> {
    Sqlite,
    SqliteInMemory,
    Postgres(&'a str),
}

/// The runtime a trial runs on.
fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}").into())
}

/// Runs one case on a fresh database of the given backend.
fn run(case: Case, backend: Backend<'_>) -> Result<(), Failed> {
    runtime()?.block_on(async {
        match backend {
            Backend::Sqlite => {
                let db = fresh_sqlite()
                    .await
                    .map_err(|e| format!("fresh SQLite database: {e}"))?;
                case(db.store(), db.federation()).await;
            }
            Backend::SqliteInMemory => {
                let store = memory_sqlite()
                    .await
                    .map_err(|e| format!("in-memory SQLite database: {e}"))?;
                case(store.clone(), store).await;
            }
            Backend::Postgres(url) => {
                let db = fresh_postgres(url)
                    .await
                    .map_err(|e| format!("fresh PostgreSQL database: {e}"))?;
                case(db.store(), db.federation()).await;
            }
        }
        Ok(())
    })
}

fn main() {
    let args = Arguments::from_args();
    let postgres = postgres_url();
    if postgres.is_none() {
        println!(
            "store suite: PostgreSQL half SKIPPED ({POSTGRES_URL_VAR} is not set), running SQLite only; \
             set it to e.g. postgres://postgres@127.0.0.1:5432/postgres to run both"
        );
    }
    let mut trials = Vec::new();
    for (name, case) in all_cases() {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            run(case, Backend::Sqlite)
        }));
        if name.starts_with("search::") {
            trials.push(Trial::test(format!("sqlite-memory::{name}"), move || {
                run(case, Backend::SqliteInMemory)
            }));
        }
        let url = postgres.clone();
        let trial = Trial::test(format!("postgres::{name}"), move || match &url {
            Some(url) => run(case, Backend::Postgres(url)),
            None => Err(format!("{POSTGRES_URL_VAR} is not set").into()),
        });
        trials.push(trial.with_ignored_flag(postgres.is_none()));
    }
    trials.push(Trial::test(
        "sqlite::search::older_listings_get_their_place_words",
        || upgrade(Backend::Sqlite),
    ));
    let url = postgres.clone();
    let trial = Trial::test(
        "postgres::search::older_listings_get_their_place_words",
        move || match &url {
            Some(url) => upgrade(Backend::Postgres(url)),
            None => Err(format!("{POSTGRES_URL_VAR} is not set").into()),
        },
    );
    trials.push(trial.with_ignored_flag(postgres.is_none()));
    libtest_mimic::run(&args, trials).exit();
}

/// The place words of listings stored before they existed: emptied by SQL, written again by
/// migrating the same database once more, as a node does when it starts after an upgrade.
fn upgrade(backend: Backend<'_>) -> Result<(), Failed> {
    runtime()?.block_on(async {
        match backend {
            Backend::Sqlite | Backend::SqliteInMemory => {
                let db = fresh_sqlite().await.map_err(|e| e.to_string())?;
                let forget =
                    db.execute("UPDATE initiatives SET search_places = '', search_version = 0");
                let reopen = db.store.migrate();
                search::older_listings_get_their_place_words(
                    &*db.store(),
                    async { forget.await.unwrap() },
                    async { reopen.await.unwrap() },
                )
                .await;
            }
            Backend::Postgres(url) => {
                let db = fresh_postgres(url).await.map_err(|e| e.to_string())?;
                // A document without place words or folded diacritics, marked with the
                // version the last release wrote (2): any older version is written again.
                let forget = db.execute(
                    "UPDATE initiatives SET search_version = 2, search =
                         setweight(to_tsvector('simple', lower(name)), 'A') ||
                         setweight(to_tsvector('simple', array_to_string(tags, ' ')), 'B') ||
                         setweight(to_tsvector('simple', lower(summary)), 'C') ||
                         setweight(to_tsvector('simple', lower(description)), 'D')",
                );
                let reopen = db.store.migrate();
                search::older_listings_get_their_place_words(
                    &*db.store(),
                    async { forget.await.unwrap() },
                    async { reopen.await.unwrap() },
                )
                .await;
            }
        }
        Ok(())
    })
}
