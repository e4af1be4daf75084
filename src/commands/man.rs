//! `cordon man`: the manual page as roff, generated from the command line's definition.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::Outcome;

pub fn run() -> Outcome {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => super::write_stdout(&page),
        Err(error) => {
            eprintln!("error: cannot render the manual page: {error}");
            Outcome::Invalid
        }
    }
}
