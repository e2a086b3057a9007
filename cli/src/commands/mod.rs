//! One module per subcommand, and the options they share.

pub(crate) mod agenda;
pub(crate) mod devices;
pub(crate) mod eval;
pub(crate) mod export;
pub(crate) mod itn;
pub(crate) mod live;
pub(crate) mod model;
pub(crate) mod people;
pub(crate) mod realign;
pub(crate) mod serve;
pub(crate) mod store;
pub(crate) mod token;
pub(crate) mod transcribe;
pub(crate) mod worker;
pub(crate) mod workflow;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tocky_asr::{DecodeOptions, DeviceChoice, Engine};

/// The model and decoder options of every command that transcribes.
#[derive(Debug, Args)]
pub(crate) struct DecoderArgs {
    /// A model name from `tocky model list`, or the path of a ggml file.
    #[arg(short, long, env = "TOCKY_MODEL", default_value = tocky_models::DEFAULT_MODEL)]
    pub(crate) model: String,
    /// The spoken language (ISO 639-1), or `auto`.
    #[arg(short, long, default_value = "vi")]
    pub(crate) language: String,
    /// Beam width; 1 decodes greedily (faster, less accurate).
    #[arg(long, default_value_t = 5)]
    pub(crate) beam_size: usize,
    /// CPU threads per file being transcribed.
    #[arg(short = 't', long)]
    pub(crate) threads: Option<usize>,
    /// Domain vocabulary to prime the decoder (delegates' names, bill titles).
    #[arg(long)]
    pub(crate) prompt: Option<String>,
    /// Where inference runs: auto (a GPU if this build has CUDA and the
    /// machine a GPU, else the CPU), cpu, gpu or gpu:N.
    #[arg(long, env = "TOCKY_DEVICE", default_value = "auto")]
    pub(crate) device: DeviceChoice,
}

impl DecoderArgs {
    /// Resolves and loads the model; returns it with its path.
    pub(crate) fn load(&self, cache_dir: &Path) -> Result<(Engine, PathBuf)> {
        let path = tocky_models::resolve_model(&self.model, cache_dir)?;
        let engine_options = tocky_asr::device::engine_options(self.device)?;
        let engine = Engine::load(&path, &engine_options)
            .with_context(|| format!("loading {}", path.display()))?;
        Ok((engine, path))
    }

    /// Decoder options; without `--threads`, the cores are shared by `jobs`.
    pub(crate) fn decode_options(&self, jobs: usize) -> DecodeOptions {
        let threads = self.threads.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores / jobs.max(1)).max(1)
        });
        DecodeOptions {
            language: self.language.clone(),
            beam_size: self.beam_size,
            threads,
            prompt: self.prompt.clone(),
            word_timestamps: true,
            audio_ctx: None,
            max_tokens: None,
        }
    }
}
