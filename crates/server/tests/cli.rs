//! The `hromada` binary as a person uses it: help, clear one-line errors with non-zero exit
//! codes, administration commands, the demo, and graceful shutdown on SIGTERM.

// Helpers here fail the test when the machine misbehaves; that is what they are for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hromada");

/// A command with a clean environment: no HROMADA_* variables from the caller leak in.
fn hromada(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("HROMADA_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failure is one line on stderr, starts with `error:`, and never shows a panic.
fn assert_clear_failure(out: &Output, code: i32, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(expected),
        "expected `{expected}` in: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sqlite_env(cmd: &mut Command, dir: &Path) {
    cmd.env(
        "HROMADA_DATABASE_URL",
        format!("sqlite://{}", dir.join("h.db").display()),
    )
    .env("HROMADA_DATA_DIR", dir.join("data"))
    .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true");
}

/// Polls `url` until it answers 200, or panics after the deadline.
fn wait_healthy(url: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("node exited early with {status}");
        }
        if get(url).is_some_and(|(status, _)| status == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not become healthy");
}

fn get(url: &str) -> Option<(u16, String)> {
    get_with(url, None)
}

fn get_with(url: &str, token: Option<&str>) -> Option<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let mut req = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        Some((status, resp.text().await.ok()?))
    })
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "node did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn help_is_everywhere() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["demo", "--help"],
        &["admin", "--help"],
        &["admin", "create-user", "--help"],
    ] {
        let out = hromada(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_configuration_is_one_clear_line() {
    let out = hromada(&["serve"])
        .env("HROMADA_LISTEN", "nope")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "HROMADA_LISTEN");

    let out = hromada(&["serve"])
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "perhaps")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "HROMADA_ALLOW_PRIVATE_NETWORKS");

    for key in ["HROMADA_RELAY", "HROMADA_AUTO_ACCEPT_PEERS"] {
        let out = hromada(&["serve"]).env(key, "sometimes").output().unwrap();
        assert_clear_failure(&out, 2, key);
    }

    let out = hromada(&["serve"])
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        .env("HROMADA_DELIVERY_RETRY_MAX", "whenever")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "HROMADA_DELIVERY_RETRY_MAX");

    let out = hromada(&["serve"])
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        .env("HROMADA_LOG", "hromada=loud")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "HROMADA_LOG");

    let out = hromada(&["serve", "--config", "/nonexistent/hromada.toml"])
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "cannot read config file");

    let out = hromada(&["serve"])
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        .env("HROMADA_DATABASE_URL", "postgres://user:secret@[broken/db")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "not a valid PostgreSQL URL");
    assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));

    // Nothing given at all: that is what is said first.
    let out = hromada(&["admin", "list-users"]).output().unwrap();
    assert_clear_failure(&out, 2, "no configuration given");
}

#[test]
fn unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hromada(&["serve"]);
    sqlite_env(&mut cmd, dir.path());
    let port = free_port();
    let out = cmd
        .env(
            "HROMADA_DATABASE_URL",
            format!("postgres://nobody:secret@127.0.0.1:{port}/none"),
        )
        .output()
        .unwrap();
    assert_clear_failure(&out, 1, "cannot open database");
    assert!(
        !stderr(&out).contains("secret"),
        "the password is not printed"
    );
}

#[test]
fn unwritable_data_dir_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hromada(&["serve"]);
    sqlite_env(&mut cmd, dir.path());
    let out = cmd
        .env("HROMADA_DATA_DIR", "/proc/hromada-cannot-write-here")
        .output()
        .unwrap();
    assert_clear_failure(&out, 2, "HROMADA_DATA_DIR");
}

#[test]
fn port_in_use_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut cmd = hromada(&["serve"]);
    sqlite_env(&mut cmd, dir.path());
    let out = cmd
        .env("HROMADA_LISTEN", addr.to_string())
        .output()
        .unwrap();
    assert_clear_failure(&out, 1, "cannot listen");
}

#[test]
fn admin_commands_then_serve_then_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = hromada(args);
        sqlite_env(&mut cmd, dir.path());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            let written = child.stdin.take().unwrap().write_all(text.as_bytes());
            // A command that refuses its arguments may exit before reading its input.
            if let Err(e) = written {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        } else {
            drop(child.stdin.take());
        }
        child.wait_with_output().unwrap()
    };

    let out = run(&["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "set up a new database\n"
    );
    let out = run(&["migrate"], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "database was already up to date\n"
    );
    // A misspelt setting is named, not silently ignored.
    let mut cmd = hromada(&["migrate"]);
    sqlite_env(&mut cmd, dir.path());
    let out = cmd.env("HROMADA_DATABSE_URL", "x").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("HROMADA_DATABSE_URL is not a setting"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &[
            "admin",
            "create-user",
            "--username",
            "olena",
            "--role",
            "moderator",
            "--password-stdin",
        ],
        Some("a long passphrase\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        &[
            "admin",
            "create-user",
            "--username",
            "olena",
            "--role",
            "moderator",
            "--password-stdin",
        ],
        Some("a long passphrase\n"),
    );
    assert_clear_failure(&out, 2, "username: is already taken");
    let out = run(
        &[
            "admin",
            "create-user",
            "--username",
            "petro",
            "--role",
            "maintainer",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_clear_failure(&out, 2, "at least 10 characters");
    let out = run(
        &[
            "admin",
            "create-user",
            "--username",
            "petro",
            "--role",
            "king",
            "--password-stdin",
        ],
        Some("long enough pass\n"),
    );
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown role");
    let out = run(
        &["admin", "delete-initiative", "--handle", "nobody-here"],
        None,
    );
    assert_clear_failure(&out, 2, "not found");
    let out = run(
        &[
            "admin",
            "remove-maintainer",
            "--username",
            "olena",
            "--initiative",
            "nobody-here",
        ],
        None,
    );
    assert_clear_failure(&out, 2, "not found");

    // Roles change both ways; an unknown role or account is refused.
    for role in ["admin", "moderator"] {
        let out = run(
            &["admin", "set-role", "--username", "olena", "--role", role],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("olena is now {role}\n")
        );
    }
    let out = run(
        &["admin", "set-role", "--username", "olena", "--role", "king"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown role");
    let out = run(
        &[
            "admin",
            "set-role",
            "--username",
            "nobody",
            "--role",
            "admin",
        ],
        None,
    );
    assert_clear_failure(&out, 2, "user not found");

    let out = run(
        &[
            "admin",
            "create-token",
            "--username",
            "olena",
            "--label",
            "ci",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("hrmd_"), "{token}");
    let out = run(&["admin", "list-tokens", "--username", "olena"], None);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("\tapi\tci\tlive") && !listing.contains(&token),
        "{listing}"
    );
    let token_id = listing.split('\t').next().unwrap().to_string();

    let port = free_port();
    let mut cmd = hromada(&["serve"]);
    sqlite_env(&mut cmd, dir.path());
    let mut node = cmd
        .env("HROMADA_LISTEN", format!("127.0.0.1:{port}"))
        .env("HROMADA_PUBLIC_URL", format!("http://localhost:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://localhost:{port}");
    wait_healthy(&format!("{base}/healthz"), &mut node);
    let (status, body) = get_with(&format!("{base}/api/v1/auth/me"), Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("olena"), "{body}");

    let out = run(&["admin", "revoke-token", "--id", &token_id], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, _) = get_with(&format!("{base}/api/v1/auth/me"), Some(&token)).unwrap();
    assert_eq!(status, 401, "a revoked token no longer works");

    // A backup while the node serves: a database another node can start on, with the accounts.
    let backup = dir.path().join("backup.db");
    let out = run(&["admin", "backup", "--to", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("database copied to"));
    // It holds the signing keys and password hashes: for its owner's eyes only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let out = run(&["admin", "backup", "--to", backup.to_str().unwrap()], None);
    assert_clear_failure(&out, 2, "already exists");
    // Asking about what is not there is a usage mistake (2), as for accounts.
    let out = run(&["admin", "trust", "status", "nobody-here"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A backup that cannot be written leaves nothing behind, under any name.
    let nowhere = dir.path().join("no-such-dir").join("backup.db");
    let out = run(
        &["admin", "backup", "--to", nowhere.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("could not write"), "{}", stderr(&out));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Given by a configuration file, named after the subcommand as DEPLOYMENT.md does.
    let restored = dir.path().join("restored.toml");
    std::fs::write(
        &restored,
        format!(
            "database_url = \"sqlite://{}\"\ndata_dir = \"{}\"\nallow_private_networks = true\n",
            backup.display(),
            dir.path().join("restored").display()
        ),
    )
    .unwrap();
    let out = hromada(&[
        "admin",
        "list-users",
        "--config",
        restored.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "olena\tmoderator\n");
    let missing = hromada(&["admin", "backup", "--to", "/tmp/never-written.db"])
        .env("HROMADA_DATABASE_URL", "sqlite:///nonexistent/h.db")
        .env("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")
        .output()
        .unwrap();
    assert_clear_failure(&missing, 2, "there is no database at");

    let status = terminate(&mut node);
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn demo_serves_bilingual_searchable_listings() {
    // Reachable from elsewhere, the demo's published password would open its admin account.
    let exposed = hromada(&["demo"])
        .env("HROMADA_LISTEN", "0.0.0.0:0")
        .env_remove("HROMADA_DEMO_PASSWORD")
        .output()
        .unwrap();
    assert_clear_failure(&exposed, 2, "set HROMADA_DEMO_PASSWORD");
    let port = free_port();
    let mut demo = hromada(&["demo"])
        .env("HROMADA_LISTEN", format!("127.0.0.1:{port}"))
        .env("HROMADA_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("HROMADA_DEMO_PASSWORD", "demo-password-for-tests")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://localhost:{port}");
    wait_healthy(&format!("{base}/healthz"), &mut demo);
    for (query, handle) in [
        ("medics", "kharkiv-medics"),
        ("генератори", "zaporizhzhia-light"),
        ("евакуація", "dnipro-evac"),
    ] {
        let (status, body) = get(&format!("{base}/api/v1/initiatives?q={query}")).unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains(&format!("\"handle\":\"{handle}\"")),
            "{query} finds {handle}: {body}"
        );
    }
    let (_, body) = get(&format!("{base}/api/v1/initiatives?q=chernihiv")).unwrap();
    assert!(
        !body.contains("chernihiv-roofs"),
        "the pending demo submission is not listed"
    );
    // The demo collective vouches for some listings, so trust badges show from the start.
    let (status, body) = get(&format!("{base}/api/v1/initiatives?trust=verified")).unwrap();
    assert_eq!(status, 200, "{body}");
    for handle in ["kharkiv-medics", "dnipro-evac", "lviv-shelter"] {
        assert!(
            body.contains(&format!("\"handle\":\"{handle}\"")),
            "{handle} is verified: {body}"
        );
    }
    assert!(!body.contains("zaporizhzhia-light"), "{body}");

    let status = terminate(&mut demo);
    assert!(status.success(), "{status}");
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut demo.stdout.take().unwrap(), &mut printed).unwrap();
    assert!(
        printed.contains(&format!("http://localhost:{port}/"))
            && printed.contains("demo-password-for-tests"),
        "{printed}"
    );
    assert!(
        printed.contains("admin (admin)") && printed.contains("moderator (moderator)"),
        "{printed}"
    );
}

/// Three consecutive free ports (the demo network takes P, P+1, P+2).
fn free_port_run() -> u16 {
    for _ in 0..50 {
        let base = free_port();
        if base < 65000 && (1..3).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

#[test]
fn demo_network_lists_every_nodes_initiatives_everywhere() {
    let port = free_port_run();
    let mut demo = hromada(&["demo", "--network"])
        .env("HROMADA_LISTEN", format!("127.0.0.1:{port}"))
        .env("HROMADA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for i in 0..3 {
        wait_healthy(&format!("http://localhost:{}/healthz", port + i), &mut demo);
    }
    // Node B hosts kherson-paws; node C hosts lviv-shelter. Both must reach node A.
    let deadline = Instant::now() + Duration::from_secs(60);
    let wanted = [
        format!("kherson-paws@localhost:{}", port + 1),
        format!("lviv-shelter@localhost:{}", port + 2),
    ];
    loop {
        let (_, body) = get(&format!(
            "http://localhost:{port}/api/v1/initiatives?origin=remote&per_page=50"
        ))
        .unwrap();
        let found = wanted.iter().all(|w| {
            let (handle, origin) = w.split_once('@').unwrap();
            body.contains(&format!("\"handle\":\"{handle}\""))
                && body.contains(&format!("\"origin\":\"{origin}\""))
        });
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "listings of B and C did not reach A: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // C vouched for lviv-shelter before the nodes peered: the vouch came with the listing.
    let shelter = format!(
        "http://localhost:{port}/api/v1/initiatives/lviv-shelter@localhost:{}",
        port + 2
    );
    loop {
        let (_, body) = get(&shelter).unwrap();
        if body.contains("\"status\":\"vouched\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "C's vouch did not reach A: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = terminate(&mut demo);
    assert!(status.success(), "{status}");
}

/// `hromada … | head -1`: once the reader is gone, the command stops quietly (exit 0, nothing
/// on stderr) instead of panicking on the broken pipe.
#[test]
fn closed_stdout_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let closed_pipe = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let run = |args: &[&str], env: &[(&str, String)]| {
        let mut cmd = hromada(args);
        sqlite_env(&mut cmd, dir.path());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let out = cmd
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?} said on stderr: {err}");
    };
    let mut migrate = hromada(&["migrate"]);
    sqlite_env(&mut migrate, dir.path());
    let out = migrate.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut create = hromada(&[
        "admin",
        "create-user",
        "--username",
        "olena",
        "--role",
        "admin",
        "--password-stdin",
    ]);
    sqlite_env(&mut create, dir.path());
    let mut child = create
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough passphrase\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    run(&["--help"], &[]);
    run(&["admin", "--help"], &[]);
    run(&["admin", "list-users"], &[]);
    run(&["admin", "trust", "show"], &[]);
    // Except a new token: nobody has seen it, so it must not stay valid.
    let mut token = hromada(&["admin", "create-token", "--username", "olena"]);
    sqlite_env(&mut token, dir.path());
    let out = token
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the output was closed: the token was not shown, so it was revoked"),
        "{err}"
    );
    let mut list = hromada(&["admin", "list-tokens", "--username", "olena"]);
    sqlite_env(&mut list, dir.path());
    let out = list.output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && listed.contains("revoked"),
        "{listed}"
    );
    let port = free_port();
    run(
        &["demo"],
        &[
            ("HROMADA_LISTEN", format!("127.0.0.1:{port}")),
            ("HROMADA_PUBLIC_URL", format!("http://localhost:{port}")),
            // The demo logs to stderr; only its printed summary meets the closed pipe.
            ("RUST_LOG", "off".into()),
        ],
    );
}
