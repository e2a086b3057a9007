//! The server's configuration: defaults, then a TOML file, then
//! `TOCKY_SERVER_*` environment variables (nested keys joined by `__`, as in
//! `TOCKY_SERVER_LIMITS__MAX_BODY_BYTES`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::client::Cidr;
use crate::error::Error;

/// The shortest `metrics_token` accepted, in bytes.
pub const MIN_METRICS_TOKEN_BYTES: usize = 16;

/// Everything `tocky serve` can be told.
// Debug is written out below, so that the token never reaches a log.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
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
    /// Finished uploads are stored in the first, by content hash
    /// (`<sha256>.<ext>`); with none, in `media` beside `db`.
    pub media_dirs: Vec<PathBuf>,
    /// Where unfinished uploads are kept (default: beside `db`,
    /// `<db>.uploads`). Best on the media directory's file system, so that
    /// a finished upload is moved there by a rename.
    pub upload_dir: Option<PathBuf>,
    /// Whether reading (sessions, search, audio, exports) needs no login.
    pub public_read: bool,
    /// Whether cookies are marked `Secure` (set this behind HTTPS).
    pub secure_cookies: bool,
    /// When set, `GET /metrics` answers only to `Authorization: Bearer`
    /// with this token (at least [`MIN_METRICS_TOKEN_BYTES`] of visible
    /// ASCII) or to a logged-in admin; when unset, it is public.
    #[serde(deserialize_with = "secret_string")]
    pub metrics_token: Option<String>,
    /// Proxies (addresses or CIDR networks, as `10.0.0.0/8`) whose
    /// `Forwarded` or `X-Forwarded-For` header names the client. From any
    /// other peer those headers are ignored. Empty by default: the TCP
    /// peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Origins besides the server's own (`https://record.example.vn`) whose
    /// pages may open the live WebSocket. A handshake with any other
    /// `Origin` is refused.
    pub allowed_origins: Vec<String>,
    /// Sizes, rates and timeouts.
    pub limits: Limits,
    /// How the record is written ([`RecordConfig`]).
    pub record: RecordConfig,
    /// The transcription workers `tocky serve` runs itself.
    pub workers: WorkersConfig,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("db", &self.db)
            .field("index_dir", &self.index_dir)
            .field("media_dirs", &self.media_dirs)
            .field("upload_dir", &self.upload_dir)
            .field("public_read", &self.public_read)
            .field("secure_cookies", &self.secure_cookies)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("allowed_origins", &self.allowed_origins)
            .field("limits", &self.limits)
            .field("record", &self.record)
            .field("workers", &self.workers)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: PathBuf::from("tocky.db"),
            index_dir: None,
            media_dirs: Vec::new(),
            upload_dir: None,
            public_read: false,
            secure_cookies: false,
            metrics_token: None,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            limits: Limits::default(),
            record: RecordConfig::default(),
            workers: WorkersConfig::default(),
        }
    }
}

impl ServerConfig {
    /// Reads the configuration: defaults, then `file` (which must exist
    /// when given), then the environment; then [`Self::validate`]s it.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Self = figment
            .merge(Env::prefixed("TOCKY_SERVER_").split("__"))
            .extract()
            .map_err(|e| Error::Config(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses values that would type-check but leave the server unsafe:
    /// a `metrics_token` too short to resist guessing, or one no
    /// `Authorization` header could carry (the message never quotes it); a
    /// `trusted_proxies` entry that is not an address or network; an
    /// `allowed_origins` entry that is not `scheme://host[:port]`.
    pub fn validate(&self) -> Result<(), Error> {
        self.proxies()?;
        self.record.validate()?;
        for origin in &self.allowed_origins {
            crate::client::check_origin_setting(origin).map_err(Error::InvalidConfig)?;
        }
        if let Some(token) = &self.metrics_token {
            if token.len() < MIN_METRICS_TOKEN_BYTES {
                return Err(Error::InvalidConfig(format!(
                    "metrics_token is shorter than {MIN_METRICS_TOKEN_BYTES} bytes"
                )));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::InvalidConfig(
                    "metrics_token may hold only visible ASCII (no spaces)".into(),
                ));
            }
        }
        Ok(())
    }

    /// [`Self::trusted_proxies`], parsed.
    pub fn proxies(&self) -> Result<Vec<Cidr>, Error> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|e| Error::InvalidConfig(format!("trusted_proxies: {p:?}: {e}")))
            })
            .collect()
    }

    /// The search index's directory.
    pub fn index_dir(&self) -> PathBuf {
        self.index_dir
            .clone()
            .unwrap_or_else(|| tocky_index::default_dir(&self.db))
    }

    /// Where unfinished uploads are kept ([`Self::upload_dir`]).
    pub fn upload_dir(&self) -> PathBuf {
        self.upload_dir.clone().unwrap_or_else(|| {
            let mut name = self.db.as_os_str().to_owned();
            name.push(".uploads");
            PathBuf::from(name)
        })
    }

    /// Where a session's audio is looked up: [`Self::media_dirs`], else
    /// the directory finished uploads go to ([`Self::upload_media_dir`]),
    /// so that sessions made from uploads play and re-time.
    pub fn audio_dirs(&self) -> Vec<PathBuf> {
        if self.media_dirs.is_empty() {
            vec![self.upload_media_dir()]
        } else {
            self.media_dirs.clone()
        }
    }

    /// Where finished uploads are stored: the first of
    /// [`Self::media_dirs`], else `media` beside the database.
    pub fn upload_media_dir(&self) -> PathBuf {
        self.media_dirs.first().cloned().unwrap_or_else(|| {
            self.db
                .parent()
                .map_or_else(|| PathBuf::from("media"), |p| p.join("media"))
        })
    }
}

/// A secret that must be text. figment reads an environment value of digits
/// only as a number, and serde's own error would then quote it: this one
/// says what is wrong without the value.
fn secret_string<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use figment::value::Value;
    match <Value as Deserialize>::deserialize(deserializer)? {
        Value::String(_, s) => Ok(Some(s)),
        Value::Empty(..) => Ok(None),
        _ => Err(serde::de::Error::custom(
            "must be a string (a token of digits only is read as a number: quote it, \
             as '\"…\"' in the environment, or add letters)",
        )),
    }
}

/// The most fillers `[record] fillers` may list.
pub const MAX_FILLERS: usize = 100;
/// The longest filler, in bytes.
pub const MAX_FILLER_BYTES: usize = 40;

/// The `[workers]` section: transcription jobs run by `tocky serve` on
/// its own machine, with the model it loads (remote machines run `tocky
/// worker`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// How many jobs run at once on this machine (default 1); 0 runs
    /// none, leaving the queue to remote workers.
    pub local: usize,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        Self { local: 1 }
    }
}

/// The record's written form (docs/itn.md): which hesitation words are
/// marked as fillers, and whether marked words (fillers, false starts) are
/// removed from what the record prints. Publishing freezes the written
/// form by these rules; the review desk shows what they drop and change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    /// The fillers (any case and tone-mark placement matches); by default
    /// `tocky_itn::DEFAULT_FILLERS`. An empty list marks none.
    pub fillers: Vec<String>,
    /// Keep fillers and repeated words in the printed text instead of
    /// removing them (they are still shown as marked before approval).
    pub keep_fillers: bool,
}

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            fillers: tocky_itn::DEFAULT_FILLERS
                .iter()
                .map(|w| (*w).to_owned())
                .collect(),
            keep_fillers: false,
        }
    }
}

impl RecordConfig {
    /// Refuses a filler list too long, or with a word that is empty, too
    /// long or more than one word.
    pub fn validate(&self) -> Result<(), Error> {
        if self.fillers.len() > MAX_FILLERS {
            return Err(Error::InvalidConfig(format!(
                "record.fillers lists more than {MAX_FILLERS} words"
            )));
        }
        for word in &self.fillers {
            let w = word.trim();
            if w.is_empty() || w.len() > MAX_FILLER_BYTES || w.contains(char::is_whitespace) {
                return Err(Error::InvalidConfig(format!(
                    "record.fillers: {w:?} is not one word of at most {MAX_FILLER_BYTES} bytes"
                )));
            }
        }
        Ok(())
    }

    /// The written form's options these settings give.
    pub fn written_options(&self) -> tocky_itn::Options {
        tocky_itn::Options {
            filler_words: self.fillers.iter().map(|w| w.trim().to_owned()).collect(),
            remove_marked: !self.keep_fillers,
            ..tocky_itn::Options::default()
        }
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
    /// The most WebSocket clients at once for one client (an account, else
    /// an address).
    pub ws_max_clients_per_client: usize,
    /// How often a live WebSocket checks that its login still holds (a
    /// logout, password change, removal or role change made by this server
    /// closes it at once; this catches those made by `tocky user`, and
    /// expiry).
    pub ws_recheck_secs: u64,
    /// How long a client may take to send a request's headers, and how
    /// long an idle keep-alive connection stays open, in seconds.
    pub header_read_timeout_secs: u64,
    /// A connection that moves no byte either way this long is closed, in
    /// seconds (a request being sent or an answer being read slowly).
    pub idle_timeout_secs: u64,
    /// The most connections open at once; those beyond are closed at once.
    pub max_connections: usize,
    /// The most connections open at once from one address (trusted
    /// proxies are exempt).
    pub max_connections_per_address: usize,
    /// Login attempts allowed at once for one user name from one address …
    pub login_burst_per_user: u32,
    /// … and then one more every this many seconds.
    pub login_refill_secs_per_user: u64,
    /// Login attempts allowed at once from one address …
    pub login_burst_per_ip: u32,
    /// … and then one more every this many seconds.
    pub login_refill_secs_per_ip: u64,
    /// Failed logins per user name, per window, after which only addresses
    /// that have logged in to that account before may try it (each address
    /// adds at most 5 failures).
    pub login_failures_per_user: u32,
    /// Failed logins in all, per window, after which only addresses that
    /// have logged in to an account before may try it (each address adds
    /// at most 20 failures).
    pub login_failures_global: u32,
    /// The window of the two failure budgets, in seconds.
    pub login_failure_window_secs: u64,
    /// Password hashes computed at once (argon2id, 19 MiB each); logins
    /// beyond it are answered 503 with `Retry-After` at once.
    pub login_max_concurrent_hashes: usize,
    /// How long a login lasts, in hours.
    pub login_ttl_hours: u64,
    /// API requests one client (an account, else an address) may make per
    /// second, on average …
    pub api_requests_per_second: u32,
    /// … and at once, after a pause.
    pub api_burst: u32,
    /// The largest file a resumable upload may announce, in bytes.
    pub max_upload_bytes: u64,
    /// The most unfinished uploads one account may hold at once.
    pub max_open_uploads_per_user: usize,
    /// The largest audio file `POST /v1/audio/transcriptions` takes, in
    /// bytes (25 MiB, OpenAI's limit): it is transcribed while the client
    /// waits; larger files go to the jobs API.
    pub transcription_max_bytes: usize,
    /// How long a transcription on `/v1` may take, in seconds, upload
    /// included (`idle_timeout_secs` does not cut it short: the connection
    /// counts as busy while the model runs).
    pub transcription_timeout_secs: u64,
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
            ws_max_clients_per_client: 16,
            ws_recheck_secs: 10,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            max_connections_per_address: 64,
            login_burst_per_user: 5,
            login_refill_secs_per_user: 12,
            login_burst_per_ip: 30,
            login_refill_secs_per_ip: 2,
            login_failures_per_user: 50,
            login_failures_global: 1000,
            login_failure_window_secs: 900,
            // Two: hashing never takes more than two cores, and a login
            // still takes tens of milliseconds.
            login_max_concurrent_hashes: 2,
            login_ttl_hours: 12,
            // A person at the review UI makes a few a second at most.
            api_requests_per_second: 20,
            api_burst: 200,
            // A day's sitting as 16-bit stereo WAV at 48 kHz is about 8 GiB.
            max_upload_bytes: 8 << 30,
            // A folder of a week's recordings, with room to spare.
            max_open_uploads_per_user: 50,
            transcription_max_bytes: 25 << 20,
            transcription_timeout_secs: 300,
        }
    }
}

impl Limits {
    /// [`Self::request_timeout_secs`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// [`Self::transcription_timeout_secs`] as a duration.
    pub fn transcription_timeout(&self) -> Duration {
        Duration::from_secs(self.transcription_timeout_secs.max(1))
    }

    /// [`Self::header_read_timeout_secs`] as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    /// [`Self::idle_timeout_secs`] as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }

    /// [`Self::ws_recheck_secs`] as a duration.
    pub fn ws_recheck(&self) -> Duration {
        Duration::from_secs(self.ws_recheck_secs.max(1))
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
    fn audio_is_looked_up_where_uploads_are_stored_unless_media_dirs_say() {
        let mut c = ServerConfig {
            db: PathBuf::from("/srv/tocky/record.db"),
            ..ServerConfig::default()
        };
        assert_eq!(c.audio_dirs(), vec![PathBuf::from("/srv/tocky/media")]);
        assert_eq!(c.upload_media_dir(), PathBuf::from("/srv/tocky/media"));
        c.media_dirs = vec![PathBuf::from("/a"), PathBuf::from("/b")];
        assert_eq!(c.audio_dirs(), c.media_dirs);
        assert_eq!(c.upload_media_dir(), PathBuf::from("/a"));
    }

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
    #[allow(clippy::result_large_err)] // figment's Jail decides the closure's type
    fn the_metrics_token_comes_from_the_environment_and_must_be_long() {
        figment::Jail::expect_with(|jail| {
            let token = "0123456789abcdef-long-enough";
            jail.set_env("TOCKY_SERVER_METRICS_TOKEN", token);
            let c = ServerConfig::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.metrics_token.as_deref(), Some(token));
            assert!(!format!("{c:?}").contains(token), "Debug hides it");

            jail.set_env("TOCKY_SERVER_METRICS_TOKEN", "short-secret");
            let e = ServerConfig::load(None).unwrap_err().to_string();
            assert!(e.contains("metrics_token") && e.contains("16"), "{e}");
            assert!(!e.contains("short-secret"), "{e}");

            jail.set_env(
                "TOCKY_SERVER_METRICS_TOKEN",
                "has a space in it, long enough",
            );
            assert!(ServerConfig::load(None).is_err());

            // Digits only read as a number: refused, and not quoted.
            jail.set_env("TOCKY_SERVER_METRICS_TOKEN", "9876543210987654");
            let e = ServerConfig::load(None).unwrap_err().to_string();
            assert!(e.contains("must be a string"), "{e}");
            assert!(!e.contains("9876543210987654"), "{e}");
            // Quoted, the same digits are a string.
            jail.set_env("TOCKY_SERVER_METRICS_TOKEN", "\"9876543210987654\"");
            let c = ServerConfig::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.metrics_token.as_deref(), Some("9876543210987654"));

            // From a file, as any other key.
            jail.clear_env();
            jail.create_file("server.toml", &format!("metrics_token = \"{token}\"\n"))?;
            let c =
                ServerConfig::load(Some(Path::new("server.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.metrics_token.as_deref(), Some(token));
            Ok(())
        });
        assert_eq!(ServerConfig::default().metrics_token, None);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail decides the closure's type
    fn the_fillers_come_from_the_file_and_the_environment() {
        assert_eq!(
            ServerConfig::default().record.written_options(),
            tocky_itn::Options::default()
        );
        figment::Jail::expect_with(|jail| {
            jail.create_file("server.toml", "[record]\nfillers = [\"ờ\", \"thì là\"]\n")?;
            let e = ServerConfig::load(Some(Path::new("server.toml"))).unwrap_err();
            assert!(e.to_string().contains("thì là"), "{e}");

            jail.create_file("server.toml", "[record]\nfillers = [\"ờ\", \"nhé\"]\n")?;
            let c =
                ServerConfig::load(Some(Path::new("server.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.record.fillers, ["ờ", "nhé"]);
            assert!(!c.record.keep_fillers);
            let itn = tocky_itn::Itn::new(c.record.written_options());
            assert_eq!(
                itn.line("nhé Quốc hội khóa mười lăm à").text,
                "Quốc hội khóa XV à"
            );

            jail.set_env("TOCKY_SERVER_RECORD__KEEP_FILLERS", "true");
            let c =
                ServerConfig::load(Some(Path::new("server.toml"))).map_err(|e| e.to_string())?;
            assert!(c.record.keep_fillers);
            let itn = tocky_itn::Itn::new(c.record.written_options());
            assert_eq!(itn.line("nhé khóa mười lăm").text, "nhé khóa XV");
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
