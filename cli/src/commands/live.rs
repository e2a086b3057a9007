//! `tocky live`: a live sitting, from the hall's microphones (or a file at
//! real-time pace, or PCM on standard input) to the review UI, which this
//! command serves while the sitting runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tocky_asr::{FinalContext, StreamingOptions};
use tocky_capture::{
    CpalOptions, CpalSource, FileOptions, FileSource, HallMap, PcmFormat, PcmOptions, Source,
    StdinSource,
};
use tocky_live::{LiveOptions, LiveSession, LiveTarget};
use tocky_server::{AppState, ServerConfig};
use tocky_store::SessionMeta;

use super::DecoderArgs;
use super::serve::shutdown_signal;

/// Raw PCM sample encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Signed 16-bit little-endian.
    S16le,
    /// 32-bit float little-endian.
    F32le,
}

#[derive(Debug, Args)]
pub(crate) struct LiveArgs {
    /// Play this audio file instead of capturing a device (for rehearsals and tests).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["stdin", "audio_device"])]
    input: Option<PathBuf>,
    /// With --input: deliver the file at real-time pace, as a device would.
    #[arg(long, requires = "input")]
    realtime: bool,
    /// Read raw PCM from standard input (see --rate, --input-channels, --format).
    #[arg(long, conflicts_with = "audio_device")]
    stdin: bool,
    /// With --stdin: frames per second.
    #[arg(long, default_value_t = 16_000, requires = "stdin")]
    rate: u32,
    /// With --stdin: interleaved channels per frame.
    #[arg(long, default_value_t = 1, requires = "stdin")]
    input_channels: usize,
    /// With --stdin: the sample encoding.
    #[arg(long, value_enum, default_value = "s16le", requires = "stdin")]
    format: Format,
    /// The audio input, by name as `tocky devices` lists it (default: the default input).
    #[arg(long, value_name = "NAME")]
    audio_device: Option<String>,
    /// A channel to capture, counted from 0 (repeatable; default: the hall
    /// map's channels, or channel 0; with --input and no channel, a mix).
    #[arg(long = "channel", value_name = "N")]
    channels: Vec<usize>,
    /// The hall map: which seat, delegate or chair each channel carries (TOML).
    #[arg(long, value_name = "FILE")]
    hall_map: Option<PathBuf>,
    /// Frames per device callback (smaller: steadier delivery through PulseAudio).
    #[arg(long, default_value_t = 1024)]
    buffer_frames: u32,
    /// The session's title.
    #[arg(long)]
    title: Option<String>,
    /// The sitting's date, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = super::store::parse_date)]
    date: Option<String>,
    /// The agenda item.
    #[arg(long)]
    agenda: Option<String>,
    /// Where the audio archive goes (default: `audio/` beside the record).
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// Stop after this many seconds (default: until the input ends, or Ctrl-C).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// A server configuration file (see docs/server.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the review UI listens (default 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    /// Let anyone read, search and listen without logging in.
    #[arg(long)]
    public_read: bool,
    /// What a final's encoder sees: `utterance`, the utterance alone
    /// (several times faster: the default); `full`, Whisper's whole 30 s
    /// window, as batch transcription (for a fast machine); `adaptive`,
    /// full while the channel keeps up and the utterance alone while it
    /// runs behind.
    #[arg(
        long,
        value_name = "utterance|full|adaptive",
        default_value = "utterance"
    )]
    final_context: FinalContext,
    #[command(flatten)]
    decoder: DecoderArgs,
}

pub(crate) fn run(args: LiveArgs, db: &Path, cache_dir: &Path) -> Result<ExitCode> {
    let hall_map = args
        .hall_map
        .as_deref()
        .map(|p| HallMap::load(p).with_context(|| format!("reading the hall map {}", p.display())))
        .transpose()?;
    // Registry people the map names must exist: said now, before the
    // model loads and the device opens, not after.
    if let Some(map) = hall_map
        .as_ref()
        .filter(|m| m.seats().any(|s| s.person.is_some()))
    {
        let store =
            tocky_store::Store::open(db).with_context(|| format!("opening {}", db.display()))?;
        tocky_live::hall_map_people(&store, map)?;
    }
    let channels = if !args.channels.is_empty() {
        args.channels.clone()
    } else if let Some(map) = hall_map.as_ref().filter(|m| !m.is_empty()) {
        map.channels()
    } else {
        Vec::new()
    };
    let mut config = ServerConfig::load(args.config.as_deref())?;
    config.db = db.to_owned();
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    config.public_read |= args.public_read;
    let archive_dir = args.archive_dir.clone().unwrap_or_else(|| {
        db.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("audio")
    });
    std::fs::create_dir_all(&archive_dir)
        .with_context(|| format!("creating {}", archive_dir.display()))?;
    config.media_dirs.push(archive_dir.clone());

    // The hall's number of each channel the source delivers.
    let channel_numbers: Vec<u32> = if channels.is_empty() {
        vec![0]
    } else {
        channels.iter().map(|&c| c as u32).collect()
    };
    if let Some(map) = &hall_map {
        for &c in &channel_numbers {
            if map.speaker(c as usize).is_none() {
                tracing::warn!("channel {c} is not in the hall map: its segments have no speaker");
            }
        }
    }

    let (engine, model_path) = args.decoder.load(cache_dir)?;
    let mut streaming = StreamingOptions::default();
    streaming.transcribe.decode = args.decoder.decode_options(channel_numbers.len());
    streaming.final_context = args.final_context;
    let opts = LiveOptions {
        meta: SessionMeta {
            title: args.title.clone(),
            sitting_date: Some(
                args.date
                    .clone()
                    .unwrap_or_else(tocky_core::transcript::today_utc),
            ),
            agenda_item: args.agenda.clone(),
        },
        channel_numbers,
        hall_map,
        archive_dir,
        streaming,
        actor: "tocky live".into(),
        ..LiveOptions::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let bind = config.bind;
    // The record first (its index may need a rebuild), then the source:
    // a device starts filling its ring at once, and the ring must not
    // overflow while anything slow happens.
    let state = AppState::new(config).context("opening the record")?;
    // The sitting writes the server's record and reports to the server
    // (its WebSocket and metrics), which serves both while it runs.
    let target = LiveTarget {
        db: &state.config().db,
        index: state.index(),
        output: &state,
    };
    let mut source = open_source(&args, &channels)?;
    let session = LiveSession::create(&target, &opts).context("creating the live session")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(bind))
        .with_context(|| format!("listening on {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    // Scripts and tests read these lines to find the port and the session.
    // Nothing here is worth stopping a sitting for: were standard output
    // closed, the sitting goes on without these lines.
    let _ = outln!("listening on http://{addr}/");
    let _ = outln!(
        "live session {}: model {}, archive {}",
        session.id,
        model_path.display(),
        session.archive_path.display()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let (server_stop_tx, server_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(tocky_server::serve(listener, state.clone(), async move {
        let _ = server_stop_rx.await;
    }));
    {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            shutdown_signal().await;
            eprintln!("tocky live: stopping (finishing the open utterances)");
            stop.store(true, Ordering::Relaxed);
        });
    }
    if let Some(duration) = args.duration {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
        });
    }

    let _ = outln!(
        "capturing {} channel(s); review at http://{addr}/#/sessions/{}",
        opts.channel_numbers.len(),
        session.id
    );
    let result = tocky_live::run(&session, source.as_mut(), &engine, &target, &opts, &stop);
    let _ = server_stop_tx.send(());
    let served = runtime.block_on(server);
    let summary = result.context("running the live session")?;
    if out!("{summary}").is_err() {
        eprint!("{summary}");
    }
    served
        .context("the review server stopped")?
        .context("serving")?;
    if let Some(error) = &summary.capture.error {
        bail!("capture failed: {error}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A number of seconds, checked as the command line is read: found bad
/// once the sitting has begun, it would leave a session `live` for ever.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

fn open_source(args: &LiveArgs, channels: &[usize]) -> Result<Box<dyn Source>> {
    if let Some(path) = &args.input {
        let source = FileSource::open(&FileOptions {
            path: path.clone(),
            realtime: args.realtime,
            channels: channels.to_vec(),
            ..FileOptions::default()
        })
        .with_context(|| format!("opening {}", path.display()))?;
        return Ok(Box::new(source));
    }
    if args.stdin {
        let source = StdinSource::new(
            &PcmOptions {
                sample_rate: args.rate,
                channels: args.input_channels,
                format: match args.format {
                    Format::S16le => PcmFormat::S16Le,
                    Format::F32le => PcmFormat::F32Le,
                },
                selected: channels.to_vec(),
            },
            std::io::stdin(),
        )
        .context("reading PCM from standard input")?;
        return Ok(Box::new(source));
    }
    let source = CpalSource::open(&CpalOptions {
        device: args.audio_device.clone(),
        channels: channels.to_vec(),
        buffer_frames: Some(args.buffer_frames),
        ..CpalOptions::default()
    })
    .with_context(|| {
        format!(
            "opening the input device {}",
            args.audio_device.as_deref().unwrap_or("(default)")
        )
    })?;
    eprintln!(
        "capturing {} at {} Hz",
        source.device_name(),
        source.device_rate()
    );
    Ok(Box::new(source))
}
