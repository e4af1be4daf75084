//! The `cordon` binary: parses the command line and hands each subcommand to the library.

use std::process::ExitCode;

use clap::Parser;
use cordon::cli::{Cli, Command};
use cordon::commands;

// mimalloc, not glibc's malloc: a run makes millions of small allocations, which glibc
// spends a fifth of the Terraform import on; version 2 keeps the scale-10 peak at glibc's,
// where version 3 raised it by a fifth (BENCHMARKS.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Reach(args) => commands::reach::run(args),
        Command::Path(args) => commands::path::run(args),
        Command::Matrix(args) => commands::matrix::run(args),
        Command::Connections(args) => commands::connections::run(args),
        Command::Graph(args) => commands::graph::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Evidence(args) => commands::evidence::run(args),
        Command::Schema(args) => {
            let common = cordon::cli::CommonArgs {
                output: args.output.clone(),
                run: cordon::cli::RunArgs::default(),
            };
            commands::emit(&common, &format!("{:#}\n", cordon::schema::schema()))
        }
        Command::Completions(args) => commands::completions::run(args),
        Command::Man => commands::man::run(),
    };
    outcome.into()
}
