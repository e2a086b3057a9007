//! Batch throughput of N parallel streams: see [`tocky_bench::throughput`].

use anyhow::Result;
use clap::Parser;
use tocky_bench::throughput::{ThroughputArgs, run};

#[derive(Debug, Parser)]
#[command(about = "Batch throughput of N parallel streams, tocky against plain whisper-rs")]
struct Cli {
    #[command(flatten)]
    args: ThroughputArgs,
}

fn main() -> Result<()> {
    run(&Cli::parse().args)
}
