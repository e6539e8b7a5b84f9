//! Configuration: one `Settings` struct, read from a TOML file plus `COPSE__SECTION__KEY`
//! environment overrides, then validated. Every error names the key at fault.

use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::Path, time::Duration};

mod mail;
pub use mail::{MailSettings, TlsMode};

/// The whole configuration. `config/defaults.toml` lists every key with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Public `host[:port]` of this instance; part of every ActivityPub id, so never change it
    /// once the instance has federated. Left unset, it is `localhost` with the port of `bind`.
    pub domain: String,
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// Log filter, e.g. `info` or `copse=debug,info`.
    pub log: String,
    /// Database.
    pub database: DatabaseSettings,
    /// HTTP server.
    pub http: HttpSettings,
    /// Federation and its queues.
    pub federation: FederationSection,
    /// Events.
    pub events: EventSettings,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// Notification mail.
    pub mail: MailSettings,
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Serve `GET /metrics` (Prometheus text format) on `bind`.
    pub enabled: bool,
    /// Address of the metrics listener, apart from the public one.
    pub bind: SocketAddr,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

/// `[events]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventSettings {
    /// Minutes before an event starts that its participants get a reminder.
    pub reminder_lead_minutes: u64,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            reminder_lead_minutes: 24 * 60,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH?mode=rwc` (embedded) or `postgres://user@host/db`.
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// A client must send its request headers within this many seconds (slowloris guard).
    pub header_read_timeout_seconds: u64,
    /// Public GET responses (actors, WebFinger, collections, pages) are reused for this many
    /// milliseconds; 0 turns the cache off.
    pub cache_ms: u64,
    /// Bytes the response cache holds at most; a response larger than an eighth of it is
    /// served without being cached.
    pub cache_max_bytes: usize,
    /// A client must send its whole request body within this many seconds of its headers
    /// (408 after that), so a trickled body cannot hold a connection.
    pub body_read_timeout_seconds: u64,
    /// Inbox requests one client address may have in progress at once (429 beyond it).
    pub inbox_requests_per_client: usize,
    /// Header that carries the client's address, set by a reverse proxy in front (e.g.
    /// `x-forwarded-for`, whose last entry is taken); empty to use the connection's address.
    pub client_address_header: String,
}

/// `[federation]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationSection {
    /// Development and tests only: allows http, explicit ports, local addresses.
    pub debug: bool,
    /// Largest inbox body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Delivery worker tasks in this process (0 on a process that only serves HTTP).
    pub delivery_workers: usize,
    /// Inbox worker tasks in this process.
    pub inbox_workers: usize,
    /// Hosts each delivery worker sends to at once; a host gets its deliveries in turn.
    pub delivery_concurrency: usize,
    /// Queue rows a worker claims at once.
    pub claim_batch: u64,
    /// Seconds a claimed row stays with its worker before another process may take it.
    pub lease_seconds: u64,
    /// First retry delay, in milliseconds; it doubles on every attempt.
    pub retry_initial_ms: u64,
    /// Longest retry delay, in seconds.
    pub retry_max_seconds: u64,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
    /// Hours an instance may keep failing before it counts as dead and is paused.
    pub dead_after_hours: u64,
    /// Hours a dead instance is paused before it is tried again.
    pub dead_pause_hours: u64,
    /// How often idle workers look for work queued by other processes, in milliseconds.
    pub poll_interval_ms: u64,
    /// Timeout of every outgoing request, in seconds.
    pub request_timeout_seconds: u64,
    /// A PEM file of certificate authorities trusted besides the system's; empty for none.
    pub extra_roots_file: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            domain: "localhost:8080".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: "info".into(),
            database: DatabaseSettings::default(),
            http: HttpSettings::default(),
            federation: FederationSection::default(),
            events: EventSettings::default(),
            metrics: MetricsSettings::default(),
            mail: MailSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/copse.db?mode=rwc".into(),
            max_connections: 8,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_read_timeout_seconds: 30,
            cache_ms: 2000,
            cache_max_bytes: 64 * 1024 * 1024,
            body_read_timeout_seconds: 15,
            inbox_requests_per_client: 32,
            client_address_header: String::new(),
        }
    }
}

impl Default for FederationSection {
    fn default() -> Self {
        Self {
            debug: false,
            max_body_bytes: 1024 * 1024,
            delivery_workers: 4,
            inbox_workers: 1,
            delivery_concurrency: 64,
            claim_batch: 256,
            lease_seconds: 60,
            retry_initial_ms: 60_000,
            retry_max_seconds: 12 * 3600,
            max_attempts: 16,
            dead_after_hours: 72,
            dead_pause_hours: 24,
            poll_interval_ms: 2000,
            request_timeout_seconds: 10,
            extra_roots_file: String::new(),
        }
    }
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed.
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown or its value has the wrong type or is out of range.
    #[error("config key `{key}`: {message}")]
    Key {
        /// Dotted key, e.g. `federation.debug`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Reads the file (if given), applies `COPSE__*` environment overrides, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// Like `load`, with the environment given explicitly (tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let file_table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.display().to_string(),
                        message: e.message().to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        // The defaults tell each environment value's type: a string key takes the raw text.
        let defaults = toml::Table::try_from(Settings::default()).unwrap_or_default();
        let mut table = file_table;
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("COPSE__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            let value = match lookup(&defaults, &path) {
                Some(toml::Value::String(_)) => toml::Value::String(raw),
                _ => env_value(&raw),
            };
            set_path(&mut table, &path, value).map_err(|message| ConfigError::Key {
                key: path.join("."),
                message,
            })?;
        }
        // With no domain given, links must work on this machine: the domain is where it listens.
        let domain_given = table.contains_key("domain");
        let mut settings = Self::from_table(table)?;
        if !domain_given && settings.bind.port() != 0 {
            settings.domain = local_domain(settings.bind.port());
        }
        Ok(settings)
    }

    /// A warning when the domain names this machine but not the port Copse listens on, so
    /// that links on its pages would not reach it.
    pub fn domain_warning(&self, listening: SocketAddr) -> Option<String> {
        let port = url::Url::parse(&format!("http://{}/", self.domain))
            .ok()?
            .port_or_known_default()?;
        (copse_federation::urls::is_loopback_domain(&self.domain) && port != listening.port())
            .then(|| {
                format!(
                    "domain {} is on this machine but Copse listens on port {}: links will not reach it",
                    self.domain,
                    listening.port()
                )
            })
    }

    /// Parses and validates a TOML text (tests and `defaults.toml`).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Syntax {
                path: "(text)".into(),
                message: e.message().to_string(),
            })?;
        Self::from_table(table)
    }

    fn from_table(table: toml::Table) -> Result<Self, ConfigError> {
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                let inner = e.into_inner().to_string();
                // The path names the key; at the top level serde names it only in the message.
                let key = match inner.split('`').nth(1) {
                    Some(field) if key == "." || key.is_empty() => field.to_string(),
                    _ => key,
                };
                ConfigError::Key {
                    key,
                    message: inner,
                }
            })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                key: key.into(),
                message: message.into(),
            })
        };
        let d = &self.domain;
        if d.is_empty()
            || d.contains("://")
            || d.contains('/')
            || url::Url::parse(&format!("http://{d}/"))
                .map(|u| u.host_str().is_none())
                .unwrap_or(true)
        {
            return bad("domain", "must be a host name with an optional port, like copse.example.org or localhost:8080");
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return bad("database.url", "must start with sqlite: or postgres://");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        let f = &self.federation;
        if f.max_body_bytes < 1024 {
            return bad("federation.max_body_bytes", "must be at least 1024");
        }
        if f.delivery_concurrency == 0 {
            return bad("federation.delivery_concurrency", "must be at least 1");
        }
        if f.claim_batch == 0 {
            return bad("federation.claim_batch", "must be at least 1");
        }
        if f.max_attempts < 1 {
            return bad("federation.max_attempts", "must be at least 1");
        }
        if f.lease_seconds == 0 {
            return bad("federation.lease_seconds", "must be at least 1");
        }
        if f.request_timeout_seconds == 0 || f.request_timeout_seconds >= f.lease_seconds.max(2) {
            return bad(
                "federation.request_timeout_seconds",
                "must be at least 1 and shorter than federation.lease_seconds",
            );
        }
        if f.poll_interval_ms == 0 {
            return bad("federation.poll_interval_ms", "must be at least 1");
        }
        if self.events.reminder_lead_minutes == 0
            || self.events.reminder_lead_minutes > 60 * 24 * 30
        {
            return bad(
                "events.reminder_lead_minutes",
                "must be between 1 and 43200 (30 days)",
            );
        }
        if self.http.header_read_timeout_seconds == 0 {
            return bad("http.header_read_timeout_seconds", "must be at least 1");
        }
        if self.metrics.enabled && self.metrics.bind == self.bind && self.bind.port() != 0 {
            return bad(
                "metrics.bind",
                "must differ from bind: metrics have a listener of their own",
            );
        }
        if self.http.body_read_timeout_seconds == 0 {
            return bad("http.body_read_timeout_seconds", "must be at least 1");
        }
        if self.http.inbox_requests_per_client == 0 {
            return bad("http.inbox_requests_per_client", "must be at least 1");
        }
        let h = &self.http.client_address_header;
        if !h.is_empty() && http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            return bad(
                "http.client_address_header",
                "must be empty or a header name like x-forwarded-for",
            );
        }
        if let Err((key, message)) = self.mail.validate() {
            return bad(key, message);
        }
        Ok(())
    }

    /// The federation crate's view of these settings.
    pub fn federation_settings(&self) -> copse_federation::FederationSettings {
        let f = &self.federation;
        let mut s = copse_federation::FederationSettings::new(self.domain.clone(), f.debug);
        s.max_body_bytes = f.max_body_bytes;
        s.delivery_concurrency = f.delivery_concurrency;
        s.claim_batch = f.claim_batch;
        s.lease = Duration::from_secs(f.lease_seconds);
        s.retry_initial = Duration::from_millis(f.retry_initial_ms);
        s.retry_max = Duration::from_secs(f.retry_max_seconds);
        s.max_attempts = f.max_attempts;
        s.dead_after = Duration::from_secs(f.dead_after_hours * 3600);
        s.dead_pause = Duration::from_secs(f.dead_pause_hours * 3600);
        s.poll_interval = Duration::from_millis(f.poll_interval_ms);
        s.request_timeout = Duration::from_secs(f.request_timeout_seconds);
        s.reminder_lead = Duration::from_secs(self.events.reminder_lead_minutes * 60);
        s.mail = self.mail.enabled();
        s.extra_roots_file =
            (!f.extra_roots_file.is_empty()).then(|| std::path::PathBuf::from(&f.extra_roots_file));
        s
    }
}

/// `localhost:PORT`, or `localhost` on port 80.
fn local_domain(port: u16) -> String {
    if port == 80 {
        "localhost".into()
    } else {
        format!("localhost:{port}")
    }
}

/// Reads an environment value as a TOML scalar where it is one (`true`, `8`), else a string.
fn env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let v = table.get(first)?;
    match (rest.is_empty(), v) {
        (true, v) => Some(v),
        (false, toml::Value::Table(t)) => lookup(t, rest),
        _ => None,
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{first} is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests;
