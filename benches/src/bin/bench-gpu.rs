//! Everything a GPU machine runs for issue 7's measurements, in one binary:
//! the machine has no Rust, and each binary built with CUDA carries ~50 MB
//! of kernels, so one binary instead of three halves what travels there.
//!
//! ```text
//! bench-gpu quantize ggml-base.bin ggml-base-q8_0.bin --type q8_0
//! bench-gpu throughput --clips clips --model ggml-base.bin --device gpu --streams 1,8,32
//! bench-gpu live --clips clips --device gpu --channels 16 --threads 16 --no-batch --max-seconds 60
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tocky_bench::live::LiveArgs;
use tocky_bench::throughput::ThroughputArgs;
use tocky_models::QuantType;

#[derive(Debug, Parser)]
#[command(about = "tocky's GPU measurements: batch throughput, live channels, quantization")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Batch throughput of N parallel streams (as bench-throughput).
    Throughput(ThroughputArgs),
    /// Live channels played in real time (as bench-live).
    Live(LiveArgs),
    /// Quantizes a ggml model (as `tocky model quantize`), so that only the
    /// f16 model has to travel.
    Quantize {
        /// The f16 (or f32) ggml model.
        input: PathBuf,
        /// Where the quantized model goes.
        output: PathBuf,
        /// q8_0, q5_1, q5_0 or q4_0.
        #[arg(long = "type")]
        ty: QuantType,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Throughput(args) => tocky_bench::throughput::run(&args),
        Command::Live(args) => tocky_bench::live::run(&args),
        Command::Quantize { input, output, ty } => {
            let report = tocky_models::quantize_file(&input, &output, ty)
                .with_context(|| format!("quantizing {} to {ty}", input.display()))?;
            println!(
                "{}: {} of {} tensors quantized to {ty}, {} bytes",
                output.display(),
                report.quantized,
                report.tensors,
                report.bytes_out
            );
            Ok(())
        }
    }
}
