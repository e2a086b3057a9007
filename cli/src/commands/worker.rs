//! `tocky worker`: transcription jobs from a review server, run on this
//! machine (a GPU machine elsewhere, say), over HTTP with an API key; and
//! the local workers that `tocky serve` runs itself (`[workers] local`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tocky_asr::{Engine, EngineOptions};
use tocky_batch::{CancelToken, ModelId};
use tocky_server::AppState;
use tocky_store::Store;
use tocky_worker::run::lower_priority;
use tocky_worker::{HttpQueue, JobOutcome, StoreQueue, WorkerOptions, run_worker};

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Device {
    /// The processor.
    Cpu,
    /// A GPU, when tocky was built with one (the `cuda` feature).
    Gpu,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// The review server (`http://host:port`).
    #[arg(long, value_name = "URL")]
    server: String,
    /// An API key of the stenographer role or above (`tocky token add`).
    #[arg(long, env = "TOCKY_TOKEN", hide_env_values = true, value_name = "KEY")]
    token: String,
    /// Jobs run at once (they share one loaded model).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// The model: a name from `tocky model list` or a ggml file (default:
    /// the default model).
    #[arg(long, env = "TOCKY_MODEL", value_name = "MODEL")]
    model: Option<String>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// This machine's name in the job list (default: its host name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Where jobs' working files go (default: tocky's cache).
    #[arg(long, value_name = "DIR", hide = true)]
    work_dir: Option<PathBuf>,
    /// How long a lease lasts, in seconds, unless renewed (tests shorten it).
    #[arg(long, default_value_t = 60, hide = true)]
    lease_secs: u64,
    /// How often the lease is renewed, in seconds.
    #[arg(long, default_value_t = 10, hide = true)]
    heartbeat_secs: u64,
}

/// This machine's name: `$HOSTNAME`, `/etc/hostname`, else `worker`.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into())
}

pub(crate) fn run(args: WorkerArgs, cache_dir: &Path) -> Result<ExitCode> {
    let spec = args.model.as_deref().unwrap_or(tocky_models::DEFAULT_MODEL);
    let model_path = tocky_models::resolve_model(spec, cache_dir)?;
    let engine = Engine::load(
        &model_path,
        &EngineOptions {
            use_gpu: args.device == Device::Gpu,
            ..EngineOptions::default()
        },
    )
    .with_context(|| format!("loading {}", model_path.display()))?;
    let queue = HttpQueue::new(&args.server, &args.token)?;
    let name = args.name.unwrap_or_else(host_name);
    let jobs = usize::from(args.jobs);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // The process id keeps two workers of one machine apart in the cache.
    let work_dir = args
        .work_dir
        .unwrap_or_else(|| cache_dir.join("worker"))
        .join(std::process::id().to_string());
    eprintln!(
        "tocky worker: {name} takes jobs from {} ({jobs} at once, model {})",
        args.server,
        model_path.display()
    );
    let outcomes: Vec<JobOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|i| {
                let mut opts = WorkerOptions::new(
                    &if jobs > 1 {
                        format!("{name}-{i}")
                    } else {
                        name.clone()
                    },
                    work_dir.clone(),
                    ModelId::of(&model_path),
                    (cores / jobs).max(1),
                );
                opts.lease = Duration::from_secs(args.lease_secs.max(1));
                opts.heartbeat_every = Duration::from_secs(args.heartbeat_secs.max(1));
                let (engine, queue) = (&engine, &queue);
                scope.spawn(move || run_worker(engine, queue, &opts))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let _ = std::fs::remove_dir_all(&work_dir);
    eprintln!("tocky worker: stopped after {} jobs", outcomes.len());
    Ok(ExitCode::SUCCESS)
}

/// How much lower than the server local workers run (Unix `nice`): a live
/// sitting's recognition and the server's requests come first.
const LOCAL_NICENESS: i32 = 10;

/// Starts `n` local workers for `tocky serve` on its own threads, on the
/// engine it loaded (shared: one model in memory), taking jobs straight
/// from the record. They take no new job while a live sitting runs, and
/// each completed job's session is indexed for search at once. Returns
/// the token that stops them.
pub(crate) fn start_local(
    state: &AppState,
    engine: Arc<Engine>,
    model_path: &Path,
    n: usize,
    cache_dir: &Path,
) -> Result<CancelToken> {
    let stop = CancelToken::new();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let media = state.config().upload_media_dir();
    let db = state.config().db.clone();
    let work_dir: PathBuf = cache_dir.join("serve-worker");
    for i in 0..n {
        let mut store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
        store.set_written(state.config().record.written_options());
        let index_state = state.clone();
        let queue = StoreQueue::new(store, &media).on_complete(Box::new(move |store, session| {
            if let Err(e) = index_state.index().update(store, Some(session), None) {
                tracing::warn!("indexing session {session}: {e}");
            }
        }));
        let live = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
        let live = std::sync::Mutex::new(live);
        let mut opts = WorkerOptions::new(
            &format!("local-{i}"),
            work_dir.clone(),
            ModelId::of(model_path),
            (cores / n).max(1),
        );
        // Live sittings first: no new job while one is being recorded.
        opts.paused = Some(Arc::new(move || {
            live.lock().is_ok_and(|store| {
                store
                    .sessions()
                    .is_ok_and(|s| s.iter().any(|s| s.status == "live"))
            })
        }));
        opts.stop = stop.clone();
        let engine = Arc::clone(&engine);
        std::thread::Builder::new()
            .name(format!("tocky-worker-{i}"))
            .spawn(move || {
                lower_priority(LOCAL_NICENESS);
                run_worker(&engine, &queue, &opts);
            })
            .context("starting a local worker")?;
    }
    Ok(stop)
}
