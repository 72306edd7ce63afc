//! Browser tests: a whole node (`TestNode` with demo data, on every backend) driven by Debian's
//! Chromium through `playwright-core` (`tests/browser/run.mjs`). The script walks through what
//! donors, submitters, moderators and maintainers do, saves screenshots to the artifacts
//! directory (`$HROMADA_ARTIFACTS_DIR`, default `test-artifacts/browser/`, a folder per
//! backend), and measures the initiative page's transferred size.
//!
//! Needs `/usr/bin/chromium` and `tests/browser/node_modules` (`scripts/browser-setup`). Without
//! them the test is skipped with a note, except in CI (`CI=true`), where that is a failure.

// Test code: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hromada_testkit::{Backend, TestNode};

const CHROMIUM: &str = "/usr/bin/chromium";
const DEMO_PASSWORD: &str = "hromada-demo";
/// The whole script normally takes well under a minute; this only bounds a hang.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

fn artifacts_dir() -> PathBuf {
    match std::env::var_os("HROMADA_ARTIFACTS_DIR") {
        Some(dir) => PathBuf::from(dir).join("browser"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts/browser"),
    }
}

/// Why the browser tests cannot run here, if they cannot.
fn missing_tools() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing"));
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("tests/browser/node_modules/playwright-core is missing".into());
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("node is not installed".into());
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser() {
    if let Some(why) = missing_tools() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "browser tests cannot run in CI: {why} (scripts/browser-setup installs them)"
        );
        eprintln!("note: browser tests skipped: {why}; run scripts/browser-setup");
        return;
    }
    for backend in Backend::available() {
        scenarios_on(backend).await;
    }
}

async fn scenarios_on(backend: Backend) {
    let node = TestNode::spawn_on(backend).await;
    // A second node on loopback for the admin to follow from the peers page.
    let peer = TestNode::spawn_on(backend).await;
    let peer_domain = peer.base_url.trim_start_matches("http://").to_string();
    let this_node = hromada_app::ThisNode::new(&node.base_url).expect("the node's URL");
    hromada_server::demo::seed(node.app(), &this_node, DEMO_PASSWORD)
        .await
        .expect("seed the demo data");
    let artifacts = artifacts_dir().join(format!("{backend:?}").to_lowercase());
    std::fs::create_dir_all(&artifacts).expect("create the artifacts directory");
    let profile = tempfile::tempdir().expect("a fresh browser profile directory");

    let child = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(browser_dir())
        .env("BASE_URL", &node.base_url)
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        // Playwright makes its fresh --user-data-dir under TMPDIR: a new directory per run.
        .env("TMPDIR", profile.path())
        .env("DEMO_PASSWORD", DEMO_PASSWORD)
        .env("PEER_DOMAIN", &peer_domain)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .expect("the browser script finished in time")
        .expect("the browser script ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "browser scenarios failed (exit {:?}); screenshots are in {}",
        output.status.code(),
        artifacts.display()
    );

    // What the browser did is really stored: the submission was approved by the moderator,
    // and the maintainer's update carries a photo whose stored file has no metadata.
    let approved = node
        .app()
        .initiative_detail(None, "lviv-soup-kitchen")
        .await
        .expect("the browser's submission exists and is public");
    assert_eq!(approved.initiative.status.code(), "published");
    let medics = node
        .app()
        .initiative_detail(None, "kharkiv-medics")
        .await
        .expect("demo initiative");
    let photo = medics
        .updates
        .iter()
        .flat_map(|u| &u.photos)
        .next()
        .expect("the maintainer's update has a photo");
    let stored = std::fs::read(
        node.settings
            .config
            .data_dir
            .join("media")
            .join(&photo.name),
    )
    .expect("the photo file is in the data directory");
    assert!(
        !stored.windows(4).any(|w| w == b"Exif"),
        "EXIF left in the stored photo"
    );
    assert!(
        !stored.windows(10).any(|w| w == b"HromadaCam"),
        "camera make left in the stored photo"
    );
    let weight = stdout
        .lines()
        .find(|l| l.starts_with("page-weight"))
        .expect("the script reports the page weight");
    println!("{weight}");
}
