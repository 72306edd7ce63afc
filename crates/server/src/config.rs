//! Node configuration: a TOML file, every key overridable by an environment variable
//! `HROMADA_<KEY>` (upper case), checked before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hromada_federation::website_check::WebsiteCheckSchedule;
use serde::{Deserialize, Serialize};
use url::Url;

/// Everything a node needs to know at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// Scheme, host and port used in every public id, e.g. `https://hromada.example`.
    pub public_url: String,
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Where media and other files are kept.
    pub data_dir: PathBuf,
    /// Allow plain http and private/loopback peers. For development, demos and tests only.
    pub allow_private_networks: bool,
    /// The node's name, shown on pages and in NodeInfo.
    pub node_name: String,
    /// One or two sentences about who runs the node.
    pub node_description: String,
    /// The node's rules for listings (Markdown), shown on the about page; empty shows the defaults.
    pub node_rules: String,
    /// Log filter, e.g. `info` or `hromada=debug,info`.
    pub log: String,
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Whether listings this node mirrors from peers are relayed (announced) to the nodes that
    /// follow it, so the directory reaches beyond direct peers.
    pub relay: bool,
    /// Whether node follows of this node are accepted at once; when off, each is held until an
    /// admin approves or rejects it.
    pub auto_accept_peers: bool,
    // Federation timings: durations such as `90s`, `5m`, `12h`, `7d` (a bare number is seconds).
    /// First retry of a failed delivery; the delay doubles per attempt.
    #[serde(deserialize_with = "text_or_number")]
    pub delivery_retry_first: String,
    /// Longest delay between two retries of one delivery.
    #[serde(deserialize_with = "text_or_number")]
    pub delivery_retry_max: String,
    /// A delivery still failing this long after it was queued is given up.
    #[serde(deserialize_with = "text_or_number")]
    pub delivery_give_up_after: String,
    /// Failed attempts in a row after which a host counts as unreachable.
    pub host_unreachable_after: u32,
    /// Longest pause between two probes of an unreachable host.
    #[serde(deserialize_with = "text_or_number")]
    pub unreachable_probe_max: String,
    /// How often the publisher, the delivery workers and the backfill look for work.
    #[serde(deserialize_with = "text_or_number")]
    pub federation_poll_interval: String,
    /// Cached remote actors older than this are fetched again.
    #[serde(deserialize_with = "text_or_number")]
    pub actor_refresh: String,
    /// Timeout of every outgoing request.
    #[serde(deserialize_with = "text_or_number")]
    pub request_timeout: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client, as addresses or networks
    /// (`["10.0.0.2", "fd00::/8"]`; in the variable comma-separated). Empty: the connecting
    /// address is the client. Used by the per-client limits on logins, submissions and reports.
    #[serde(deserialize_with = "list_or_text")]
    pub trusted_proxies: Vec<String>,
    /// Submissions (API and form) accepted per client address and hour; moderators not counted.
    pub submissions_per_hour: u32,
    /// Reports (API and form) accepted per client address and hour; moderators not counted.
    pub reports_per_hour: u32,
    /// How long a token from `POST /api/v1/auth/token` is valid (a duration such as `30d`).
    #[serde(deserialize_with = "text_or_number")]
    pub api_token_lifetime: String,
    /// How long a delivery or background job taken by a process that then died waits before
    /// another process on the same database takes it over (at least twice `request_timeout`).
    #[serde(deserialize_with = "text_or_number")]
    pub lease_timeout: String,
    /// Pause between two rounds of website (`rel="me"`) checks.
    #[serde(deserialize_with = "text_or_number")]
    pub website_check_interval: String,
    /// A website is checked again after this long.
    #[serde(deserialize_with = "text_or_number")]
    pub website_recheck_after: String,
}

/// A duration written as `250ms`, `90s`, `5m`, `12h` or `7d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms).map(Duration::from_millis)
}

/// Durations may be given as text (`"5m"`) or, in seconds, as a number.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Number(n) => n.to_string(),
    })
}

/// A list may also be given as one comma-separated text (as environment variables are).
fn list_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        List(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Raw::List(l) => l,
    })
}

impl Config {
    /// Checks every timing and turns them into federation's limits and the website-check
    /// schedule; the error names the key and its variable.
    fn check_timings(
        &self,
    ) -> Result<(hromada_federation::Limits, WebsiteCheckSchedule), ConfigError> {
        let span = |key: &str, text: &str, min: Duration, max: Duration| match parse_duration(text)
        {
            Some(d) if (min..=max).contains(&d) => Ok(d),
            Some(_) => Err(ConfigError(format!(
                "{key} = `{text}` must be between {} and {} (HROMADA_{})",
                show(min),
                show(max),
                key.to_ascii_uppercase()
            ))),
            None => Err(ConfigError(format!(
                "{key} = `{text}` is not a duration such as 90s, 5m, 12h or 7d (HROMADA_{})",
                key.to_ascii_uppercase()
            ))),
        };
        const MS: Duration = Duration::from_millis(1);
        const SEC: Duration = Duration::from_secs(1);
        const DAY: Duration = Duration::from_secs(86_400);
        let retry_first = span(
            "delivery_retry_first",
            &self.delivery_retry_first,
            10 * MS,
            DAY,
        )?;
        let retry_max = span(
            "delivery_retry_max",
            &self.delivery_retry_max,
            10 * MS,
            7 * DAY,
        )?;
        if retry_max < retry_first {
            return Err(ConfigError(
                "delivery_retry_max must not be shorter than delivery_retry_first (HROMADA_DELIVERY_RETRY_MAX)".into(),
            ));
        }
        let give_up_after = span(
            "delivery_give_up_after",
            &self.delivery_give_up_after,
            SEC,
            90 * DAY,
        )?;
        if !(1..=10_000).contains(&self.host_unreachable_after) {
            return Err(ConfigError(
                "host_unreachable_after must be between 1 and 10000 failed attempts (HROMADA_HOST_UNREACHABLE_AFTER)".into(),
            ));
        }
        let request_timeout = span(
            "request_timeout",
            &self.request_timeout,
            SEC,
            Duration::from_secs(300),
        )?;
        let lease = span("lease_timeout", &self.lease_timeout, SEC, DAY)?;
        if lease < 2 * request_timeout {
            return Err(ConfigError(
                "lease_timeout must be at least twice request_timeout, or a slow delivery could be sent twice (HROMADA_LEASE_TIMEOUT)".into(),
            ));
        }
        let limits = hromada_federation::Limits {
            retry_base: retry_first,
            retry_max,
            give_up_after,
            host_unreachable_after: self.host_unreachable_after as i32,
            probe_max: span(
                "unreachable_probe_max",
                &self.unreachable_probe_max,
                10 * MS,
                30 * DAY,
            )?,
            poll_interval: span(
                "federation_poll_interval",
                &self.federation_poll_interval,
                10 * MS,
                Duration::from_secs(600),
            )?,
            actor_refresh: span("actor_refresh", &self.actor_refresh, SEC, 90 * DAY)?,
            request_timeout,
            lease,
            ..hromada_federation::Limits::default()
        };
        let schedule = WebsiteCheckSchedule {
            every: span(
                "website_check_interval",
                &self.website_check_interval,
                10 * MS,
                DAY,
            )?,
            recheck_after: span(
                "website_recheck_after",
                &self.website_recheck_after,
                SEC,
                365 * DAY,
            )?,
            ..WebsiteCheckSchedule::default()
        };
        Ok((limits, schedule))
    }
}

fn show(d: Duration) -> String {
    let ms = d.as_millis();
    [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ]
    .into_iter()
    .find(|(unit, _)| ms.is_multiple_of(*unit))
    .map_or_else(
        || format!("{ms}ms"),
        |(unit, name)| format!("{}{name}", ms / unit),
    )
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://localhost:8080".into(),
            database_url: "sqlite://data/hromada.db".into(),
            data_dir: PathBuf::from("data"),
            allow_private_networks: false,
            node_name: "Hromada".into(),
            node_description:
                "A node of the Hromada directory of grassroots solidarity initiatives.".into(),
            node_rules: String::new(),
            log: "info,sqlx=warn".into(),
            max_body_bytes: 256 * 1024,
            relay: true,
            auto_accept_peers: true,
            delivery_retry_first: "1m".into(),
            delivery_retry_max: "12h".into(),
            delivery_give_up_after: "7d".into(),
            host_unreachable_after: 8,
            unreachable_probe_max: "1d".into(),
            federation_poll_interval: "1s".into(),
            actor_refresh: "1d".into(),
            request_timeout: "10s".into(),
            lease_timeout: "2m".into(),
            website_check_interval: "30s".into(),
            website_recheck_after: "1d".into(),
            trusted_proxies: Vec::new(),
            submissions_per_hour: 10,
            reports_per_hour: 20,
            api_token_lifetime: "30d".into(),
        }
    }
}

/// A configuration problem, phrased for the person starting the node.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The configuration after checking: parsed addresses and URLs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub listen: SocketAddr,
    pub public_url: Url,
    /// Federation's sizes and timings (the timing keys of [`Config`]).
    pub federation_limits: hromada_federation::Limits,
    /// How often websites are checked for their `rel="me"` link.
    pub website_checks: WebsiteCheckSchedule,
    /// `trusted_proxies`, parsed.
    pub trusted_proxies: hromada_web::client::TrustedProxies,
    /// `api_token_lifetime`, parsed.
    pub api_token_lifetime: Duration,
}

impl Config {
    /// Reads the file (if given), applies `HROMADA_*` variables from `env`, and checks the result.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                // The line, but not its text: it may hold the database password.
                text.parse::<toml::Table>().map_err(|e| {
                    let line = e
                        .span()
                        .and_then(|s| text.get(..s.start))
                        .map(|before| before.matches('\n').count() + 1);
                    ConfigError(format!(
                        "config file {} is not valid TOML{}: {}",
                        path.display(),
                        line.map_or(String::new(), |l| format!(" (line {l})")),
                        e.message()
                    ))
                })?
            }
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("HROMADA_").map(str::to_ascii_lowercase) else {
                continue;
            };
            // A text setting stays text even when it looks like a number (`HROMADA_NODE_NAME=2024`).
            match defaults.get(&key) {
                Some(toml::Value::String(_)) => {
                    table.insert(key, toml::Value::String(value));
                }
                Some(_) => {
                    table.insert(key, env_value(&value));
                }
                // Not a setting (the test suites' own HROMADA_TEST_* among them).
                None => {}
            }
        }
        check_switches(&table)?;
        // The error's full text names the setting.
        let config = Config::deserialize(table)
            .map_err(|e| ConfigError(format!("invalid configuration: {e}")))?;
        config.check()
    }

    /// Checks a configuration built in code (tests, the demo) without reading files or variables.
    pub fn load_from(config: Config) -> Result<Settings, ConfigError> {
        config.check()
    }

    /// The configuration keys (each also settable as `HROMADA_<KEY>`).
    pub fn keys() -> Vec<String> {
        match toml::Table::try_from(Config::default()) {
            Ok(table) => table.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    fn check(self) -> Result<Settings, ConfigError> {
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(ConfigError(format!(
                "log = `{}` is not a log filter such as info or warn,hromada_federation=debug (HROMADA_LOG)",
                self.log
            )));
        }
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen = `{}` is not an address:port such as 127.0.0.1:8080 (HROMADA_LISTEN)",
                self.listen
            ))
        })?;
        let public_url = Url::parse(&self.public_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.path() == "/" && u.query().is_none())
            .ok_or_else(|| {
                ConfigError(format!(
                    "public_url = `{}` must be a scheme, host and optional port only, such as https://hromada.example (HROMADA_PUBLIC_URL)",
                    self.public_url
                ))
            })?;
        if public_url.scheme() == "http" && !self.allow_private_networks {
            return Err(ConfigError(
                "public_url uses plain http; fediverse servers require https. Use https (see docs/DEPLOYMENT.md); plain http is only for development on one machine, where allow_private_networks = true also lets the node reach private addresses (never on a server)".into(),
            ));
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database_url = `{}` must start with sqlite:// or postgres:// (HROMADA_DATABASE_URL)",
                redact(&self.database_url)
            )));
        }
        // No host is fine: the server's socket (`postgres:///hromada?host=/run/postgresql`).
        if !self.database_url.starts_with("sqlite:") && Url::parse(&self.database_url).is_err() {
            return Err(ConfigError(format!(
                "database_url = `{}` is not a valid PostgreSQL URL, such as postgres://hromada:PASSWORD@127.0.0.1/hromada (HROMADA_DATABASE_URL)",
                redact(&self.database_url)
            )));
        }
        if self.node_name.trim().is_empty() || self.node_name.chars().count() > 100 {
            return Err(ConfigError(
                "node_name must be 1 to 100 characters (HROMADA_NODE_NAME)".into(),
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError(
                "max_body_bytes must be between 1024 and 67108864 (HROMADA_MAX_BODY_BYTES)".into(),
            ));
        }
        let (federation_limits, website_checks) = self.check_timings()?;
        let trusted_proxies = hromada_web::client::TrustedProxies::parse(
            self.trusted_proxies.iter().map(String::as_str),
        )
        .map_err(|e| ConfigError(format!("trusted_proxies: {e} (HROMADA_TRUSTED_PROXIES)")))?;
        for (key, value) in [
            ("submissions_per_hour", self.submissions_per_hour),
            ("reports_per_hour", self.reports_per_hour),
        ] {
            if !(1..=100_000).contains(&value) {
                return Err(ConfigError(format!(
                    "{key} must be between 1 and 100000 (HROMADA_{})",
                    key.to_ascii_uppercase()
                )));
            }
        }
        let api_token_lifetime = parse_duration(&self.api_token_lifetime)
            .filter(|d| (Duration::from_secs(60)..=Duration::from_secs(3650 * 86_400)).contains(d))
            .ok_or_else(|| {
                ConfigError(format!(
                    "api_token_lifetime = `{}` must be a duration between 1m and 3650d, such as 30d (HROMADA_API_TOKEN_LIFETIME)",
                    self.api_token_lifetime
                ))
            })?;
        Ok(Settings {
            listen,
            public_url,
            config: self,
            federation_limits,
            website_checks,
            trusted_proxies,
            api_token_lifetime,
        })
    }
}

/// A switch given as anything but `true`/`false` is named, with where to fix it.
fn check_switches(table: &toml::Table) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
    for (key, value) in table {
        if matches!(defaults.get(key), Some(toml::Value::Boolean(_))) && !value.is_bool() {
            return Err(ConfigError(format!(
                "{key} must be true or false, not `{value}` (HROMADA_{})",
                key.to_ascii_uppercase()
            )));
        }
    }
    Ok(())
}

/// Environment values are TOML literals when they parse as one (`true`, `262144`), strings otherwise.
fn env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(v @ (toml::Value::Boolean(_) | toml::Value::Integer(_))) => v,
            _ => toml::Value::String(raw.to_string()),
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// Hides a password in a database URL for messages and logs: in the user part, or as a
/// `password=` parameter. A URL that does not parse (a password with a `/` in it makes the
/// `url` crate read a port) is shown as its scheme only.
pub fn redact(database_url: &str) -> String {
    let Ok(mut url) = Url::parse(database_url) else {
        let scheme = database_url.split_once(':').map_or("", |(s, _)| s);
        return format!("{scheme}:… (not shown: it does not parse as a URL)");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Makes sure the data directory exists and can be written, before anything is stored there.
pub fn prepare_data_dir(dir: &Path) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| {
        ConfigError(format!(
            "data_dir {} is not writable: {e} (set HROMADA_DATA_DIR to a writable directory)",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hromada.toml");
        std::fs::write(&file, "node_name = \"Kyiv hub\"\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://hub.example\"\n").unwrap();
        let s = Config::load(
            Some(&file),
            env(&[
                ("HROMADA_LISTEN", "127.0.0.1:7000"),
                ("HROMADA_MAX_BODY_BYTES", "4096"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.listen.port(), 7000);
        assert_eq!(s.config.node_name, "Kyiv hub");
        assert_eq!(s.config.max_body_bytes, 4096);
        assert_eq!(s.public_url.as_str(), "https://hub.example/");
    }

    #[test]
    fn every_key_has_a_variable() {
        let keys = Config::keys();
        assert!(
            keys.contains(&"allow_private_networks".to_string())
                && keys.contains(&"database_url".to_string())
        );
        let s = Config::load(
            None,
            env(&[
                ("HROMADA_ALLOW_PRIVATE_NETWORKS", "true"),
                ("HROMADA_DATA_DIR", "/tmp/x"),
            ]),
        )
        .unwrap();
        assert!(s.config.allow_private_networks);
        assert_eq!(s.config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn bad_values_say_what_and_how() {
        let err = |pairs: &[(&str, &str)]| Config::load(None, env(pairs)).unwrap_err().0;
        assert!(err(&[("HROMADA_LISTEN", "nope")]).contains("HROMADA_LISTEN"));
        assert!(
            err(&[("HROMADA_PUBLIC_URL", "https://x.example/path")]).contains("HROMADA_PUBLIC_URL")
        );
        assert!(
            err(&[]).contains("plain http"),
            "http without allow_private_networks is refused"
        );
        assert!(
            err(&[
                ("HROMADA_ALLOW_PRIVATE_NETWORKS", "true"),
                ("HROMADA_DATABASE_URL", "mysql://x")
            ])
            .contains("HROMADA_DATABASE_URL")
        );
        assert!(
            err(&[("HROMADA_ALLOW_PRIVATE_NETWORKS", "maybe")])
                .contains("allow_private_networks must be true or false")
        );
        assert!(err(&[("HROMADA_RELAY", "sometimes")]).contains("HROMADA_RELAY"));
        assert!(err(&[("HROMADA_AUTO_ACCEPT_PEERS", "1")]).contains("HROMADA_AUTO_ACCEPT_PEERS"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"x\"").unwrap();
        assert!(
            Config::load(Some(&file), env(&[]))
                .unwrap_err()
                .0
                .contains("unknown field `lisen`")
        );
    }

    #[test]
    fn network_switches_default_on_and_are_overridable() {
        let on = Config::load(None, env(&[("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")])).unwrap();
        assert!(on.config.relay && on.config.auto_accept_peers);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hromada.toml");
        std::fs::write(&file, "relay = false\nauto_accept_peers = true\n").unwrap();
        let s = Config::load(
            Some(&file),
            env(&[
                ("HROMADA_ALLOW_PRIVATE_NETWORKS", "true"),
                ("HROMADA_AUTO_ACCEPT_PEERS", "false"),
            ]),
        )
        .unwrap();
        assert!(!s.config.relay, "from the file");
        assert!(
            !s.config.auto_accept_peers,
            "the variable wins over the file"
        );
        assert!(
            Config::load(
                Some(&file),
                env(&[("HROMADA_ALLOW_PRIVATE_NETWORKS", "yes")])
            )
            .unwrap_err()
            .0
            .contains("HROMADA_ALLOW_PRIVATE_NETWORKS")
        );
        std::fs::write(&file, "relay = \"no\"\n").unwrap();
        assert!(
            Config::load(Some(&file), env(&[]))
                .unwrap_err()
                .0
                .contains("relay must be true or false")
        );
    }

    #[test]
    fn federation_timings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hromada.toml");
        std::fs::write(
            &file,
            "allow_private_networks = true\ndelivery_retry_first = \"30s\"\nwebsite_check_interval = 120\n",
        )
        .unwrap();
        let s = Config::load(
            Some(&file),
            env(&[
                ("HROMADA_DELIVERY_RETRY_MAX", "2h"),
                ("HROMADA_FEDERATION_POLL_INTERVAL", "250ms"),
                ("HROMADA_HOST_UNREACHABLE_AFTER", "3"),
                ("HROMADA_UNREACHABLE_PROBE_MAX", "6h"),
            ]),
        )
        .unwrap();
        let limits = &s.federation_limits;
        assert_eq!(limits.retry_base, Duration::from_secs(30));
        assert_eq!(limits.retry_max, Duration::from_secs(2 * 3600));
        assert_eq!(limits.give_up_after, Duration::from_secs(7 * 86_400));
        assert_eq!(limits.poll_interval, Duration::from_millis(250));
        assert_eq!(limits.host_unreachable_after, 3);
        assert_eq!(limits.probe_max, Duration::from_secs(6 * 3600));
        assert_eq!(s.website_checks.every, Duration::from_secs(120));
        assert_eq!(s.website_checks.recheck_after, Duration::from_secs(86_400));

        let err = |pairs: &[(&str, &str)]| {
            let mut all = vec![("HROMADA_ALLOW_PRIVATE_NETWORKS", "true")];
            all.extend_from_slice(pairs);
            Config::load(None, env(&all)).unwrap_err().0
        };
        let bad = err(&[("HROMADA_DELIVERY_GIVE_UP_AFTER", "a week")]);
        assert!(
            bad.contains("not a duration") && bad.contains("HROMADA_DELIVERY_GIVE_UP_AFTER"),
            "{bad}"
        );
        let bad = err(&[("HROMADA_FEDERATION_POLL_INTERVAL", "2h")]);
        assert!(
            bad.contains("between 10ms and 10m")
                && bad.contains("HROMADA_FEDERATION_POLL_INTERVAL"),
            "{bad}"
        );
        assert!(
            err(&[
                ("HROMADA_DELIVERY_RETRY_FIRST", "1h"),
                ("HROMADA_DELIVERY_RETRY_MAX", "5m")
            ])
            .contains("must not be shorter")
        );
        assert!(
            err(&[("HROMADA_HOST_UNREACHABLE_AFTER", "0")])
                .contains("HROMADA_HOST_UNREACHABLE_AFTER")
        );
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("-5s"), None);
        assert_eq!(parse_duration("5 minutes"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@db/h"), "postgres://u:***@db/h");
        assert_eq!(
            redact("postgres://u@db/h?sslmode=require&password=secret"),
            "postgres://u@db/h?sslmode=require&password=***"
        );
        // A `/` in the password: not a URL the `url` crate reads, so nothing of it is shown.
        let odd = redact("postgres://hromada:ab/cd@db/h");
        assert!(!odd.contains("ab") && !odd.contains("cd@"), "{odd}");
        assert_eq!(redact("sqlite:data/hromada.db"), "sqlite:data/hromada.db");
    }

    #[test]
    fn a_file_that_is_not_toml_is_named_by_line_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hromada.toml");
        std::fs::write(
            &file,
            "node_name = \"Kyiv hub\"\ndatabase_url = \"postgres://u:secret@db/h\n",
        )
        .unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(e.0.contains("line 2") && !e.0.contains("secret"), "{}", e.0);
    }

    #[test]
    fn text_settings_from_the_environment_stay_text_and_errors_name_the_setting() {
        let s = Config::load(
            None,
            env(&[
                ("HROMADA_NODE_NAME", "2024"),
                ("HROMADA_ALLOW_PRIVATE_NETWORKS", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(s.config.node_name, "2024");
        let e = Config::load(None, env(&[("HROMADA_MAX_BODY_BYTES", "lots")])).unwrap_err();
        assert!(e.0.contains("max_body_bytes"), "{}", e.0);
    }
}
