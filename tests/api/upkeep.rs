//! Upkeep: the node merges its search index at start and then daily, and `hromada admin`
//! never migrates a database under running processes.

use std::time::{Duration, Instant};

use hromada_domain::Role;
use hromada_testkit::Backend;

use crate::support::Api;

const JOB: &str = "search-merge";

/// The segments of each of SQLite's full-text tables: FTS5 stores a segment's pages under
/// rowids whose bits from the 37th up hold the segment's id (0: the table's own records).
async fn segments(database_url: &str) -> Vec<i64> {
    let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
    let mut counts = Vec::new();
    for table in [
        "initiatives_fts_title",
        "initiatives_fts_head",
        "initiatives_fts",
    ] {
        let sql = format!("SELECT count(DISTINCT id >> 37) FROM {table}_data WHERE id >> 37 > 0");
        counts.push(sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap());
    }
    pool.close().await;
    counts
}

/// One process of the node merges the search index when it starts and then daily (the day's
/// lease says which and when): on SQLite the segments that single writes left become one per
/// full-text table, and search finds what it found before.
pub async fn search_index_is_merged_daily(backend: Backend) {
    let mut api = Api::start(backend).await;
    let moderator = api.user("moderator", Role::Moderator).await;
    for n in 0..20 {
        api.published(&format!("medics-{n:02}"), &moderator).await;
    }
    let query = "q=generators&per_page=50";
    let before = api.search(query, None).await.expect(200).json;
    assert_eq!(before["total"], 20, "{before}");
    let sqlite = backend == Backend::Sqlite;
    let url = api.node.database_url().to_string();
    if sqlite {
        let unmerged = segments(&url).await;
        assert!(unmerged.iter().all(|&s| s > 1), "{unmerged:?}");
    }

    // A day later: the lease the merge at start took has run out.
    let lease = api.node.store().job_lease(JOB).await.unwrap();
    let first = lease
        .expect("the merge at start takes the day's lease")
        .holder;
    api.node.store().release_lease(JOB, &first).await.unwrap();
    api.node.restart().await;

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lease = api.node.store().job_lease(JOB).await.unwrap();
        let taken = lease.is_some_and(|l| l.holder != first);
        // PostgreSQL has no segments to merge: the restarted process taking the lease is all.
        let left = if sqlite {
            segments(&url).await
        } else {
            vec![1, 1, 1]
        };
        if taken && left == [1, 1, 1] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not merged: lease taken again {taken}, segments {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = api.search(query, None).await.expect(200).json;
    assert_eq!(after, before);
}

/// `hromada admin` opens the database without migrating it when it lacks migrations of its
/// version (an upgrade, done with every `serve` stopped), instead of migrating it under
/// processes of the old version; a new database it sets up as `serve` would.
pub async fn admin_commands_do_not_migrate_behind_running_processes(backend: Backend) {
    let api = Api::start(backend).await;
    api.user("moderator", Role::Moderator).await;
    let url = api.node.database_url().to_string();
    let opened = hromada_server::open_store_for_admin(&url).await.unwrap();
    let users = opened.directory.list_users().await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["moderator"], "the node's own database, as it is");
    // As if this binary were newer than the database: its latest migration is missing.
    api.node
        .execute_sql(
            "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
        )
        .await;
    let refused = hromada_server::open_store_for_admin(&url).await.err();
    let message = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("lacks 1 migration") && message.contains("hromada migrate"),
        "{message}"
    );
    if backend == Backend::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        let fresh = format!("sqlite://{}", dir.path().join("new.db").display());
        let opened = hromada_server::open_store_for_admin(&fresh).await.unwrap();
        assert!(
            opened.directory.list_users().await.unwrap().is_empty(),
            "a new database is set up with every migration"
        );
    }
}
