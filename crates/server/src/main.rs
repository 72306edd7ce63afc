//! `hromada`: run a node of the Hromada directory, or administer one.
//!
//! Every failure ends in one line on stderr saying what went wrong and how to fix it, and a
//! non-zero exit code: 2 for configuration and usage problems, 1 for everything else.

/// `println!` for command output, in functions returning `Result<_, Failure>`: a closed pipe
/// (`hromada admin list-users | head -1`) ends the command quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))?
    };
}

mod admin;
mod admin_trust;
mod network_cli;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hromada_server::config::{Config, Settings, prepare_data_dir};
use hromada_server::demo::{self, DEFAULT_DEMO_PASSWORD, DEMO_USERS};
use hromada_server::{federation_of, migrations_pending, open_store, open_store_for_admin, start};

#[derive(Parser)]
#[command(
    name = "hromada",
    version,
    about = "A node of Hromada, the federated directory of grassroots solidarity initiatives"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the node (configuration from --config and HROMADA_* variables).
    Serve(ConfigArg),
    /// Serve a demo node on a fresh SQLite database filled with fictional initiatives.
    ///
    /// Listens on 127.0.0.1:8080 with public URL http://localhost:8080 unless HROMADA_LISTEN /
    /// HROMADA_PUBLIC_URL say otherwise. Logins: admin, moderator, maintainer; password
    /// `hromada-demo` unless HROMADA_DEMO_PASSWORD is set. Everything is deleted on exit.
    Demo {
        /// Start three demo nodes (ports P, P+1, P+2 from HROMADA_LISTEN) that follow each other,
        /// each with part of the demo data, so listings can be seen travelling between nodes.
        #[arg(long)]
        network: bool,
    },
    /// Apply database migrations and exit (serve also does this on start).
    Migrate(ConfigArg),
    /// Administer the configured node's database.
    Admin {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: AdminTopic,
    },
}

#[derive(Subcommand)]
enum AdminTopic {
    #[command(flatten)]
    Accounts(admin::AdminCommand),
    /// Other Hromada nodes: follow, unfollow, list, approve, block, unblock, import blocks.
    Peer {
        #[command(subcommand)]
        command: network_cli::PeerCommand,
    },
    /// The delivery queue per remote host.
    Queue,
    /// Copy the SQLite database, consistent, to a new file while the node keeps running.
    /// Keep it together with <data_dir>/media and the configuration; PostgreSQL is backed up
    /// with pg_dump instead.
    Backup {
        /// The file to write (must not exist yet), e.g. /var/backups/hromada-2026-11-29.db.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(clap::Args)]
struct ConfigArg {
    /// TOML configuration file; every key can also be set as HROMADA_<KEY>.
    // Global: `hromada admin backup --config FILE` works as well as `hromada admin --config FILE backup`.
    #[arg(long, short, global = true, env = "HROMADA_CONFIG")]
    config: Option<PathBuf>,
}

/// A failure with the exit code it deserves.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Nobody reads the output any more: stop, say nothing, succeed (as `ripgrep` does).
    fn closed_pipe() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }
    fn usage(message: impl ToString) -> Self {
        Self {
            code: 2,
            message: message.to_string(),
        }
    }
    fn runtime(message: impl ToString) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn write_out(line: std::fmt::Arguments) -> Result<(), Failure> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{line}") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::closed_pipe()),
        Err(e) => Err(Failure::runtime(format!("cannot write the output: {e}"))),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve(arg) => {
            let settings = load(&arg)?;
            init_logging(&settings.config.log);
            serve(settings).await
        }
        Command::Demo { network } => demo(network).await,
        Command::Migrate(arg) => {
            let settings = load(&arg)?;
            init_logging(&settings.config.log);
            let url = &settings.config.database_url;
            let (missing, new) = migrations_pending(url).await.map_err(Failure::runtime)?;
            open_store(url).await.map_err(Failure::runtime)?;
            match (new, missing) {
                (true, _) => out!("set up a new database"),
                (false, 0) => out!("database was already up to date"),
                (false, n) => out!("applied {n} migration(s); database is up to date"),
            }
            Ok(())
        }
        Command::Admin { config, command } => {
            let settings = load(&config)?;
            init_logging("warn");
            if let AdminTopic::Backup { to } = command {
                return back_up(&settings, &to).await;
            }
            let stores = open_store_for_admin(&settings.config.database_url)
                .await
                .map_err(Failure::runtime)?;
            match command {
                AdminTopic::Accounts(command) => {
                    admin::run(
                        hromada_app::App::new(stores.directory),
                        command,
                        read_stdin_password,
                    )
                    .await
                }
                AdminTopic::Queue => network_cli::queue(stores.federation.as_ref()).await,
                AdminTopic::Peer { command } => {
                    let fed = federation_of(&settings, &stores)
                        .await
                        .map_err(Failure::runtime)?;
                    network_cli::peer(fed, command).await
                }
                AdminTopic::Backup { .. } => Ok(()),
            }
        }
    }
}

/// `hromada admin backup`: the database as it is (not migrated first, so a backup taken before
/// an upgrade restores the version that wrote it).
async fn back_up(settings: &Settings, to: &std::path::Path) -> Result<(), Failure> {
    let url = &settings.config.database_url;
    if !url.starts_with("sqlite:") {
        return Err(Failure::usage(
            "this node's database is PostgreSQL: back it up with pg_dump, e.g. \
             `pg_dump --format=custom --file=hromada.dump DATABASE`",
        ));
    }
    match hromada_server::sqlite_file(url) {
        Some(file) if file.is_file() => {}
        _ => {
            return Err(Failure::usage(format!(
                "there is no database at {url} to back up (is database_url right?)"
            )));
        }
    }
    let store = hromada_store_sqlite::SqliteStore::connect(url)
        .await
        .map_err(Failure::runtime)?;
    store.back_up_into(to).await.map_err(|e| match e {
        hromada_store::StoreError::Conflict(why) => Failure::usage(why),
        other => Failure::runtime(other),
    })?;
    let size = std::fs::metadata(to).map_or(0, |m| m.len());
    out!(
        "database copied to {} ({:.1} MB); keep it with {} and the configuration",
        to.display(),
        size as f64 / 1e6,
        settings.config.data_dir.join("media").display()
    );
    Ok(())
}

fn load(arg: &ConfigArg) -> Result<Settings, Failure> {
    warn_of_unknown_variables();
    Config::load(arg.config.as_deref(), std::env::vars()).map_err(|e| {
        // The defaults alone never make a node: say what is missing before what is wrong.
        let configured = arg.config.is_some()
            || std::env::vars().any(|(k, _)| k.starts_with("HROMADA_") && k != "HROMADA_LOG");
        if configured {
            Failure::usage(e)
        } else {
            Failure::usage(format!(
                "no configuration given: pass --config FILE or set HROMADA_CONFIG (or the HROMADA_* settings); without one: {e}"
            ))
        }
    })
}

/// Names `HROMADA_*` variables that are no setting: a typo (`HROMADA_DATABSE_URL`) would
/// otherwise start the node on a default without a word. The binary's own other variables
/// and the test and benchmark tools' are not settings.
fn warn_of_unknown_variables() {
    const NOT_SETTINGS: [&str; 2] = ["HROMADA_CONFIG", "HROMADA_DEMO_PASSWORD"];
    let keys = Config::keys();
    for (name, _) in std::env::vars() {
        let Some(key) = name.strip_prefix("HROMADA_") else {
            continue;
        };
        let tools = ["TEST_", "BENCH_", "ARTIFACTS_"];
        if !keys.contains(&key.to_ascii_lowercase())
            && !NOT_SETTINGS.contains(&name.as_str())
            && !tools.iter().any(|t| key.starts_with(t))
        {
            eprintln!(
                "warning: {name} is not a setting and is ignored (the settings are in README.md)"
            );
        }
    }
}

async fn serve(settings: Settings) -> Result<(), Failure> {
    prepare_data_dir(&settings.config.data_dir).map_err(Failure::usage)?;
    let stores = open_store(&settings.config.database_url)
        .await
        .map_err(Failure::runtime)?;
    let node = start(&settings, stores, None)
        .await
        .map_err(Failure::runtime)?;
    hromada_server::warn_about_setup(&settings, node.addr);
    let stop = node.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!(
            "shutting down: finishing requests and deliveries in flight (a second signal stops at once)"
        );
        stop.cancel();
        // A stuck peer or client must not keep the process from stopping: what is cut off is
        // sent again after its lease, by this node's next start or another process.
        tokio::select! {
            _ = shutdown_signal() => tracing::warn!("stopping at once"),
            _ = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!(
                seconds = SHUTDOWN_GRACE.as_secs(),
                "still busy; stopping anyway"
            ),
        }
        std::process::exit(1);
    });
    node.wait()
        .await
        .map_err(|e| Failure::runtime(format!("server stopped: {e}")))
}

/// How long a shutdown may take before the process stops anyway.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Which demo initiatives each node of `demo --network` hosts (events stay with the
/// initiatives they raise funds for).
const NETWORK_SPLIT: [(&str, &[&str]); 3] = [
    (
        "A",
        &[
            "kharkiv-medics",
            "dnipro-evac",
            "zaporizhzhia-light",
            "berlin-soli-kitchen",
        ],
    ),
    ("B", &["kherson-paws", "sumy-kids-art"]),
    ("C", &["lviv-shelter", "odesa-legal-aid", "chernihiv-roofs"]),
];

async fn demo(network: bool) -> Result<(), Failure> {
    let dir = tempfile::Builder::new()
        .prefix("hromada-demo-")
        .tempdir()
        .map_err(|e| {
            Failure::runtime(format!(
                "cannot create a temporary directory for the demo: {e}"
            ))
        })?;
    // Listen address, public URL, name and log level may still be chosen by the caller.
    let chosen: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "HROMADA_LISTEN"
                    | "HROMADA_PUBLIC_URL"
                    | "HROMADA_NODE_NAME"
                    | "HROMADA_NODE_DESCRIPTION"
                    | "HROMADA_LOG"
            )
        })
        .collect();
    let base =
        Config::load(None, demo_env(dir.path(), "demo", chosen.clone())).map_err(Failure::usage)?;
    init_logging(&base.config.log);
    let password =
        std::env::var("HROMADA_DEMO_PASSWORD").unwrap_or_else(|_| DEFAULT_DEMO_PASSWORD.into());
    // The demo's accounts have a published password and it fetches private addresses: on a
    // reachable address, anyone could sign in as its admin.
    if !base.listen.ip().is_loopback() && password == DEFAULT_DEMO_PASSWORD {
        return Err(Failure::usage(format!(
            "the demo listens on {} with its published password; set HROMADA_DEMO_PASSWORD, or listen on 127.0.0.1",
            base.listen
        )));
    }

    let plan: Vec<(String, Settings, Option<&[&str]>)> = if network {
        if chosen.iter().any(|(k, _)| k == "HROMADA_PUBLIC_URL") {
            return Err(Failure::usage(
                "demo --network chooses the three public URLs itself; set only HROMADA_LISTEN (the first node's address)",
            ));
        }
        let mut plan = Vec::new();
        for (i, (name, handles)) in NETWORK_SPLIT.into_iter().enumerate() {
            let mut addr = base.listen;
            addr.set_port(base.listen.port().saturating_add(i as u16));
            let env = demo_env(
                dir.path(),
                name,
                vec![
                    ("HROMADA_LISTEN".into(), addr.to_string()),
                    (
                        "HROMADA_PUBLIC_URL".into(),
                        format!("http://localhost:{}", addr.port()),
                    ),
                    ("HROMADA_NODE_NAME".into(), format!("Hromada demo {name}")),
                    ("HROMADA_LOG".into(), base.config.log.clone()),
                ],
            );
            plan.push((
                name.to_string(),
                Config::load(None, env).map_err(Failure::usage)?,
                Some(handles),
            ));
        }
        plan
    } else {
        let mut settings = base;
        if std::env::var("HROMADA_NODE_NAME").is_err() {
            settings.config.node_name = "Hromada demo".into();
        }
        vec![("demo".into(), settings, None)]
    };

    let mut nodes = Vec::new();
    for (name, settings, handles) in &plan {
        prepare_data_dir(&settings.config.data_dir).map_err(Failure::usage)?;
        let stores = open_store(&settings.config.database_url)
            .await
            .map_err(Failure::runtime)?;
        let app = hromada_app::App::new(stores.directory.clone());
        let only = |handle: &str| handles.is_none_or(|hs| hs.contains(&handle));
        let this_node =
            hromada_app::ThisNode::new(settings.public_url.as_str()).map_err(Failure::usage)?;
        let seeded = demo::seed_only(&app, &this_node, &password, only)
            .await
            .map_err(|e| {
                Failure::runtime(format!("seeding demo data on node {name} failed: {e}"))
            })?;
        let node = start(settings, stores, None)
            .await
            .map_err(Failure::runtime)?;
        nodes.push((settings.public_url.clone(), seeded.initiatives, node));
    }
    if network {
        // Every node follows the other two, so each lists the whole network; listings and their
        // changes then travel between them as they would between collectives' servers.
        for (i, (_, _, node)) in nodes.iter().enumerate() {
            for (j, (url, _, _)) in nodes.iter().enumerate() {
                if i != j {
                    let domain = url
                        .host_str()
                        .map(|h| format!("{h}:{}", url.port_or_known_default().unwrap_or(80)));
                    if let Some(domain) = domain {
                        node.federation.follow_peer(&domain).await.map_err(|e| {
                            Failure::runtime(format!("demo nodes could not follow each other: {e}"))
                        })?;
                    }
                }
            }
        }
    }

    let logins = DEMO_USERS
        .map(|(name, role)| format!("{name} ({})", role.code()))
        .join(", ");
    out!("");
    for (url, count, _) in &nodes {
        out!("Hromada demo node running at {url} ({count} fictional initiatives of its own)");
    }
    out!(
        "  search: {url}api/v1/initiatives?q=medics\n  logins on every node: {logins}, password: {password}\n  Press Ctrl-C to stop; the demo databases are deleted on exit.\n",
        url = nodes
            .first()
            .map(|(u, _, _)| u.to_string())
            .unwrap_or_default(),
    );
    let stop = tokio_util::sync::CancellationToken::new();
    for (_, _, node) in &nodes {
        let node_stop = node.shutdown_token();
        let all = stop.clone();
        tokio::spawn(async move {
            all.cancelled().await;
            node_stop.cancel();
        });
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    let mut result = Ok(());
    for (_, _, node) in nodes {
        if let Err(e) = node.wait().await {
            result = Err(Failure::runtime(format!("server stopped: {e}")));
        }
    }
    drop(dir);
    result
}

/// Configuration of one demo node: its own SQLite file and data directory under `dir`.
fn demo_env(
    dir: &std::path::Path,
    name: &str,
    chosen: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("HROMADA_ALLOW_PRIVATE_NETWORKS".into(), "true".into()),
        (
            "HROMADA_DATA_DIR".into(),
            dir.join(format!("{name}-data")).display().to_string(),
        ),
        (
            "HROMADA_DATABASE_URL".into(),
            format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
        ),
    ];
    env.extend(chosen);
    env
}

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .unwrap_or_else(|| filter.to_string());
    // `log` was checked with the configuration; RUST_LOG, which overrides it, is said to be
    // wrong here rather than silently dropped.
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| {
        eprintln!("warning: RUST_LOG = `{filter}` is not a log filter; logging at info");
        tracing_subscriber::EnvFilter::new("info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads a password from standard input (first line), for `--password-stdin`.
fn read_stdin_password() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = input.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(
            "no password on stdin: pipe it in, e.g. `printf '%s' \"$PW\" | hromada admin …`".into(),
        );
    }
    Ok(password)
}
