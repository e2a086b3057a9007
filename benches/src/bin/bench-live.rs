//! Live recognition, measured: see [`tocky_bench::live`].

use anyhow::Result;
use clap::Parser;
use tocky_bench::live::{LiveArgs, run};

#[derive(Debug, Parser)]
#[command(about = "Live recognition of clips played in real time: latency, speed and WER")]
struct Cli {
    #[command(flatten)]
    args: LiveArgs,
}

fn main() -> Result<()> {
    run(&Cli::parse().args)
}
