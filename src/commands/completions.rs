//! `cordon completions SHELL`: a completion script generated from the command line's own
//! definition, so it never falls behind an option.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Outcome;

pub fn run(args: &CompletionsArgs) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "cordon", &mut script);
    super::write_stdout(&script)
}
