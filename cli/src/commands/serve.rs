//! `tocky serve` and `tocky user`: the review server and its accounts.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tocky_asr::Engine;
use tocky_server::{AppState, ServerConfig};
use tocky_store::{Role, Store};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML configuration file (see docs/server.md); `TOCKY_SERVER_*`
    /// environment variables override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where to listen (default 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    /// A directory holding the sessions' audio files (repeatable).
    #[arg(long = "media-dir", value_name = "DIR")]
    media_dirs: Vec<PathBuf>,
    /// Let anyone read, search and listen without logging in.
    #[arg(long)]
    public_read: bool,
    /// The model that re-times words after corrections, recognises a
    /// stretch on request and transcribes files for API clients (`/v1`): a
    /// name from `tocky model list` or a ggml file (default: the default
    /// model, if it is installed).
    #[arg(long, env = "TOCKY_MODEL", value_name = "MODEL")]
    model: Option<String>,
    /// Do not re-time words after corrections, nor recognise or transcribe
    /// on request (loads no model).
    #[arg(long, conflicts_with = "model")]
    no_retime: bool,
}

pub(crate) fn serve(args: ServeArgs, db: &Path, cache_dir: &Path) -> Result<ExitCode> {
    let retime_engine = retime_engine(&args, cache_dir)?;
    let model_id = served_model_id(args.model.as_deref());
    let mut config = ServerConfig::load(args.config.as_deref())?;
    config.db = db.to_owned();
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    config.media_dirs.extend(args.media_dirs);
    config.public_read |= args.public_read;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let cache_dir = cache_dir.to_owned();
    runtime.block_on(async move {
        let bind = config.bind;
        let media_dirs = config.audio_dirs();
        let state = AppState::new(config).context("opening the record")?;
        // Local workers share the model loaded for re-timing (one copy in
        // memory); without a model there are none.
        let workers = match &retime_engine {
            Some((engine, model_path)) if state.config().workers.local > 0 => {
                let n = state.config().workers.local;
                Some(crate::commands::worker::start_local(
                    &state,
                    Arc::clone(engine),
                    model_path,
                    n,
                    &cache_dir,
                )?)
            }
            _ => None,
        };
        let retimer = retime_engine.map(|(engine, model_path)| {
            // The same model transcribes whole files for API clients
            // (/v1/audio/transcriptions), as `tocky transcribe` does.
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let transcriber = tocky_batch::BatchTranscriber::new(
                Arc::clone(&engine),
                &model_path,
                &model_id,
                cores,
            );
            state.set_transcriber(Arc::new(transcriber));
            let locate: tocky_retime::AudioLocator = Box::new(move |session| {
                tocky_server::audio::resolve(&media_dirs, session.audio_file.as_deref()?)
            });
            let retimer = Arc::new(tocky_retime::Retimer::new(engine, align_options(), locate));
            // The same model and audio cache recognise a stretch on request
            // (the insert form's "Nhận dạng").
            state.set_recogniser(Arc::clone(&retimer) as _);
            tocky_retime::service::spawn(retime_service(&state), retimer)
        });
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // Scripts and tests read this line to find the port.
        outln!("listening on http://{addr}/")?;
        tocky_server::serve(listener, state, shutdown_signal())
            .await
            .context("serving")?;
        if let Some(workers) = workers {
            // A job in flight stops at its next channel; its lease expires
            // and the next start (or another worker) resumes it.
            workers.cancel();
        }
        if let Some(retimer) = retimer {
            // A segment being aligned is not waited for: its words are
            // saved in one statement or not at all, and the next start
            // takes it again.
            retimer.abort();
        }
        eprintln!("tocky serve: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// What the re-timing service needs of the server: its store, its
/// signals, and the state itself as the output (the live channel, metrics).
fn retime_service(state: &AppState) -> tocky_retime::service::Service<AppState> {
    tocky_retime::service::Service {
        db: state.config().db.clone(),
        wanted: state.retime_wanted(),
        shutdown: state.shutdown_signal(),
        output: state.clone(),
    }
}

/// The model for re-timing words, unless turned off: `--model`, which must
/// load, or else the default model if it is installed (a server without it
/// still serves, and says that words are not re-timed).
fn retime_engine(args: &ServeArgs, cache_dir: &Path) -> Result<Option<(Arc<Engine>, PathBuf)>> {
    if args.no_retime {
        return Ok(None);
    }
    let path = match &args.model {
        Some(spec) => tocky_models::resolve_model(spec, cache_dir)?,
        None => match tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, cache_dir) {
            Ok(path) => path,
            Err(e) => {
                eprintln!(
                    "tocky serve: words are not re-timed after corrections ({e}); \
                     pass --model, or --no-retime to silence this"
                );
                return Ok(None);
            }
        },
    };
    let engine = Engine::load(&path, &tocky_asr::EngineOptions::default())
        .with_context(|| format!("loading {} for re-timing words", path.display()))?;
    Ok(Some((Arc::new(engine), path)))
}

/// The id API clients name the model by: its name in `tocky model list`,
/// or a ggml file's name without `ggml-` and `.bin`.
fn served_model_id(spec: Option<&str>) -> String {
    let spec = spec.unwrap_or(tocky_models::DEFAULT_MODEL);
    let path = Path::new(spec);
    if !path.is_file() {
        return spec.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.strip_prefix("ggml-").unwrap_or(&stem).to_owned()
}

/// Re-timing shares the machine with the requests: half the cores.
fn align_options() -> tocky_asr::AlignOptions {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tocky_asr::AlignOptions {
        threads: (cores / 2).max(1),
        ..tocky_asr::AlignOptions::default()
    }
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account; the password is asked for (or read from stdin).
    Add {
        /// The login name.
        name: String,
        /// admin, editor, stenographer or reader.
        #[arg(long, default_value = "reader")]
        role: Role,
    },
    /// Set an account's password (logs it out everywhere).
    Passwd {
        /// The login name.
        name: String,
    },
    /// Change an account's role.
    Role {
        /// The login name.
        name: String,
        /// admin, editor, stenographer or reader.
        role: Role,
    },
    /// Remove an account.
    Remove {
        /// The login name.
        name: String,
    },
    /// List the accounts.
    List,
}

/// A password from the terminal (asked twice) or one line of stdin.
fn read_password(name: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))
            .context("reading the password")?;
        let again = rpassword::prompt_password("again: ").context("reading the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    Ok(password)
}

pub(crate) fn user(cmd: UserCommand, db: &Path) -> Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let actor = crate::commands::store::whoami();
    match cmd {
        UserCommand::Add { name, role } => {
            // Before the password is typed twice for nothing.
            if store.user_credentials(&name)?.is_some() {
                bail!(
                    "user {name:?} already exists (`tocky user passwd {name}` changes the password)"
                );
            }
            let hash = tocky_server::auth::hash_password(&read_password(&name)?)?;
            store.add_user(&name, &hash, role, &actor)?;
            outln!("user {name} added ({})", role.as_str())?;
        }
        UserCommand::Passwd { name } => {
            if store.user_credentials(&name)?.is_none() {
                bail!("no user {name:?}");
            }
            let hash = tocky_server::auth::hash_password(&read_password(&name)?)?;
            store.set_password_hash(&name, &hash, &actor)?;
            outln!("password of {name} changed")?;
        }
        UserCommand::Role { name, role } => {
            store.set_role(&name, role, &actor)?;
            outln!("{name} is now {}", role.as_str())?;
        }
        UserCommand::Remove { name } => {
            store.remove_user(&name, &actor)?;
            outln!("user {name} removed")?;
        }
        UserCommand::List => {
            for u in store.users()? {
                outln!("{}\t{}\t{}", u.name, u.role.as_str(), u.created_at)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
