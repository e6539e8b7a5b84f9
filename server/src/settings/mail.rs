//! `[mail]`: where notification mail goes out. Mail is off while `host` is empty.

use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a relay on this machine).
    None,
    /// Plain text first, then `STARTTLS` (usually port 587); refused servers are not used.
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// `[mail]`
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// SMTP server host name; empty turns mail off.
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// User name for `AUTH PLAIN`; empty to send without signing in.
    pub username: String,
    /// Password for `AUTH PLAIN`.
    pub password: String,
    /// The sender address of every mail.
    pub from: String,
    /// `none`, `starttls` or `tls`.
    pub tls: TlsMode,
    /// How often the mailer looks for notifications to send, in milliseconds.
    pub poll_interval_ms: u64,
    /// Seconds one SMTP conversation may take before it is given up and tried again later.
    pub timeout_seconds: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            username: String::new(),
            password: String::new(),
            from: String::new(),
            tls: TlsMode::Starttls,
            poll_interval_ms: 30_000,
            timeout_seconds: 30,
        }
    }
}

// The password stays out of logs and panic messages that print the settings.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "(set)"
                },
            )
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl MailSettings {
    /// True when mail is configured.
    pub fn enabled(&self) -> bool {
        !self.host.is_empty()
    }

    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !self.enabled() {
            return Ok(());
        }
        if self.port == 0 {
            return Err(("mail.port", "must be a port number"));
        }
        let f = &self.from;
        let (local, domain) = f.split_once('@').unwrap_or_default();
        if local.is_empty()
            || domain.is_empty()
            || f.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>".contains(c))
        {
            return Err((
                "mail.from",
                "must be an address like copse@example.org when mail.host is set",
            ));
        }
        if self.poll_interval_ms == 0 {
            return Err(("mail.poll_interval_ms", "must be at least 1"));
        }
        if self.timeout_seconds == 0 {
            return Err(("mail.timeout_seconds", "must be at least 1"));
        }
        Ok(())
    }
}
