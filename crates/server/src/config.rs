//! Node configuration: a TOML file, every key overridable by an environment variable
//! `HROMADA_<KEY>` (upper case), checked before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// Federation's sizes and timings. Not configurable by file: the defaults suit production,
    /// and tests shorten the retry times in code.
    pub federation_limits: hromada_federation::Limits,
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
                text.parse::<toml::Table>().map_err(|e| {
                    ConfigError(format!(
                        "config file {} is not valid TOML: {}",
                        path.display(),
                        e.message()
                    ))
                })?
            }
            None => toml::Table::new(),
        };
        let keys = Self::keys();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("HROMADA_").map(str::to_ascii_lowercase) else {
                continue;
            };
            if keys.contains(&key) {
                table.insert(key, env_value(&value));
            }
        }
        check_switches(&table)?;
        let config = Config::deserialize(table)
            .map_err(|e| ConfigError(format!("invalid configuration: {}", e.message())))?;
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
                "public_url uses plain http; fediverse servers require https. Use https, or set allow_private_networks = true for local development (HROMADA_ALLOW_PRIVATE_NETWORKS=true)".into(),
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
        Ok(Settings {
            listen,
            public_url,
            config: self,
            federation_limits: hromada_federation::Limits::default(),
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

/// Hides a password in a database URL for messages and logs.
pub fn redact(database_url: &str) -> String {
    match Url::parse(database_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => database_url.to_string(),
    }
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
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@db/h"), "postgres://u:***@db/h");
    }
}
