//! The server's configuration: defaults, then a TOML file, then
//! `TOCKY_SERVER_*` environment variables (nested keys joined by `__`, as in
//! `TOCKY_SERVER_LIMITS__MAX_BODY_BYTES`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Everything `tocky serve` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where to listen. Loopback by default: put a TLS proxy in front to
    /// serve a network.
    pub bind: SocketAddr,
    /// The record's database file.
    pub db: PathBuf,
    /// The search index's directory (default: beside `db`, `.index`).
    pub index_dir: Option<PathBuf>,
    /// Directories holding the sessions' audio files, searched in order.
    pub media_dirs: Vec<PathBuf>,
    /// Whether reading (sessions, search, audio, exports) needs no login.
    pub public_read: bool,
    /// Whether cookies are marked `Secure` (set this behind HTTPS).
    pub secure_cookies: bool,
    /// Sizes, rates and timeouts.
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: PathBuf::from("tocky.db"),
            index_dir: None,
            media_dirs: Vec::new(),
            public_read: false,
            secure_cookies: false,
            limits: Limits::default(),
        }
    }
}

impl ServerConfig {
    /// Reads the configuration: defaults, then `file` (which must exist
    /// when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::prefixed("TOCKY_SERVER_").split("__"))
            .extract()
            .map_err(|e| Error::Config(Box::new(e)))
    }

    /// The search index's directory.
    pub fn index_dir(&self) -> PathBuf {
        self.index_dir
            .clone()
            .unwrap_or_else(|| tocky_index::default_dir(&self.db))
    }
}

/// Safe defaults for every size, rate and timeout, in one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The longest segment text an edit may save, in bytes.
    pub max_text_bytes: usize,
    /// The most hits one search returns.
    pub max_search_results: usize,
    /// How long a request may take, in seconds (audio downloads stream
    /// beyond it; only producing the response is bounded).
    pub request_timeout_secs: u64,
    /// The largest WebSocket message a client may send, in bytes.
    pub ws_max_message_bytes: usize,
    /// A WebSocket that is silent this long (no pong either) is closed.
    pub ws_idle_secs: u64,
    /// The most WebSocket clients at once.
    pub ws_max_clients: usize,
    /// Login attempts allowed at once for one user name …
    pub login_burst_per_user: u32,
    /// … and then one more every this many seconds.
    pub login_refill_secs_per_user: u64,
    /// Login attempts allowed at once from one address …
    pub login_burst_per_ip: u32,
    /// … and then one more every this many seconds.
    pub login_refill_secs_per_ip: u64,
    /// How long a login lasts, in hours.
    pub login_ttl_hours: u64,
    /// API requests one client (an account, else an address) may make per
    /// second, on average …
    pub api_requests_per_second: u32,
    /// … and at once, after a pause.
    pub api_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 10,
            max_text_bytes: 16 << 10,
            max_search_results: 200,
            request_timeout_secs: 30,
            ws_max_message_bytes: 16 << 10,
            ws_idle_secs: 90,
            ws_max_clients: 2000,
            login_burst_per_user: 5,
            login_refill_secs_per_user: 12,
            login_burst_per_ip: 30,
            login_refill_secs_per_ip: 2,
            login_ttl_hours: 12,
            // A person at the review UI makes a few a second at most.
            api_requests_per_second: 20,
            api_burst: 200,
        }
    }
}

impl Limits {
    /// [`Self::request_timeout_secs`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// [`Self::ws_idle_secs`] as a duration.
    pub fn ws_idle(&self) -> Duration {
        Duration::from_secs(self.ws_idle_secs.max(2))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail decides the closure's type
    fn file_then_environment_override_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "public_read = true\nmedia_dirs = [\"/srv/audio\"]\n[limits]\nmax_body_bytes = 1000\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("TOCKY_SERVER_LIMITS__WS_IDLE_SECS", "7");
            let c = ServerConfig::load(Some(&file)).map_err(|e| e.to_string())?;
            assert!(c.public_read);
            assert_eq!(c.media_dirs, vec![PathBuf::from("/srv/audio")]);
            assert_eq!(c.limits.max_body_bytes, 1000);
            assert_eq!(c.limits.ws_idle_secs, 7);
            assert_eq!(c.limits.max_text_bytes, Limits::default().max_text_bytes);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "pubic_read = true\n").unwrap();
        let e = ServerConfig::load(Some(&file)).unwrap_err().to_string();
        assert!(e.contains("pubic_read"), "{e}");
        assert!(ServerConfig::load(Some(&dir.path().join("none.toml"))).is_err());
    }
}
