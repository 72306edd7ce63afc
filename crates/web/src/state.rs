//! What every handler shares: the use cases and the web settings.

use std::sync::Arc;
use std::time::Duration;

use hromada_app::App;
use url::Url;

use hromada_app::{LoginLimits, RateLimit};

use crate::client::TrustedProxies;

/// Settings of the HTTP edge, filled in by the server from its configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Scheme, host and port of the node as the public reaches it, e.g. `http://localhost:8080`.
    /// Used for `Location` headers and the OpenAPI document's server.
    pub public_url: Url,
    /// Largest JSON request body accepted, in bytes. Bigger bodies get 413 before being read.
    pub json_body_limit: usize,
    /// How many failed logins are tolerated before logins (API and form) are refused with 429.
    pub login_limits: LoginLimits,
    /// Submissions (API and form) per client and window; moderators are not counted.
    pub submission_limit: RateLimit,
    /// Reports (API and form) per client and window; moderators are not counted.
    pub report_limit: RateLimit,
    /// Proxies whose `X-Forwarded-For` names the client (`trusted_proxies`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// How long a token from `POST /api/v1/auth/token` is valid; `None`: until revoked.
    pub api_token_ttl: Option<Duration>,
    /// The node's name and description, shown on the web pages (`node_name`, `node_description`).
    pub node_name: String,
    pub node_description: String,
    /// The node's rules for listings (Markdown), shown on the about page; `None` shows the defaults.
    pub node_rules: Option<String>,
    /// Where uploaded photos are kept (`<data_dir>/media`).
    pub media_dir: std::path::PathBuf,
}

impl WebSettings {
    pub const DEFAULT_JSON_BODY_LIMIT: usize = 256 * 1024;
    pub const DEFAULT_API_TOKEN_TTL: Duration = Duration::from_secs(30 * 86_400);

    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            json_body_limit: Self::DEFAULT_JSON_BODY_LIMIT,
            login_limits: LoginLimits {
                per_username: 10,
                // Higher than per username: volunteers in one shelter or office share an address.
                per_ip: 50,
                window: Duration::from_secs(15 * 60),
            },
            submission_limit: RateLimit {
                max: 10,
                window: Duration::from_secs(3600),
            },
            report_limit: RateLimit {
                max: 20,
                window: Duration::from_secs(3600),
            },
            trusted_proxies: TrustedProxies::default(),
            api_token_ttl: Some(Self::DEFAULT_API_TOKEN_TTL),
            node_name: "Hromada".into(),
            node_description: String::new(),
            node_rules: None,
            media_dir: std::path::PathBuf::from("data/media"),
        }
    }

    /// An absolute URL for a path on this node (`path` starts with `/`).
    pub fn url_for(&self, path: &str) -> String {
        // Joining onto a base without a trailing slash would drop its last path segment.
        let mut base = self.public_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        match base.join(path.trim_start_matches('/')) {
            Ok(url) => url.to_string(),
            Err(_) => path.to_string(),
        }
    }
}

/// The state behind every route. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    app: App,
    settings: Arc<WebSettings>,
    /// The node's federation, for the admins' network routes (`None`: they answer 503).
    federation: Option<hromada_federation::Federation>,
}

impl WebState {
    pub fn new(app: App, settings: WebSettings) -> Self {
        Self {
            app,
            settings: Arc::new(settings),
            federation: None,
        }
    }

    /// Gives the network routes (peers, blocks, queue) the node's federation.
    pub fn with_federation(mut self, federation: hromada_federation::Federation) -> Self {
        self.federation = Some(federation);
        self
    }

    pub fn federation(&self) -> Option<&hromada_federation::Federation> {
        self.federation.as_ref()
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn settings(&self) -> &WebSettings {
        &self.settings
    }
}
