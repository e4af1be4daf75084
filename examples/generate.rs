//! Writes a synthetic estate of any size, deterministic by seed, split across files as
//! real repositories hold them. See `cordon::synth` for its shape.
//!
//! ```sh
//! cargo run --release --example generate -- --scale 10 --out /tmp/big
//! cargo run --release --example generate -- --scale 1 --format json --out /tmp/big-json
//! ```

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use cordon::synth::{self, Options};

#[derive(Parser)]
struct Args {
    /// Size of the estate; 10 gives 1,000,000 flows
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Directory to write into (created if missing)
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    format: Format,
    #[arg(long, default_value_t = 2023)]
    seed: u64,
    /// Number of files the flows are split across
    #[arg(long, default_value_t = 20)]
    flow_files: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    synth::generate(&Options {
        scale: args.scale,
        out: args.out,
        format: match args.format {
            Format::Yaml => synth::Format::Yaml,
            Format::Json => synth::Format::Json,
        },
        seed: args.seed,
        flow_files: args.flow_files,
    })
}
