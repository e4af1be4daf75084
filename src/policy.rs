//! From paths on the command line to a resolved model: discovery, parsing and
//! resolution in one call, with every problem of every file collected.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::diagnostic::{self, Diagnostic};
use crate::load::{self, Format, FoundFile, ParsedFile};
use crate::model::Model;
use crate::resolve::resolve;
use crate::timings::Timings;

/// Where policies are read from when no path is given.
pub const DEFAULT_PATH: &str = "policies";

/// Loads and resolves the policies under `paths` (`./policies` when empty).
pub fn load_model(paths: &[PathBuf]) -> Result<Model, Vec<Diagnostic>> {
    load_model_timed(paths, &mut Timings::new())
}

/// [`load_model`], recording the time spent reading and resolving.
pub fn load_model_timed(
    paths: &[PathBuf],
    timings: &mut Timings,
) -> Result<Model, Vec<Diagnostic>> {
    let default = [PathBuf::from(DEFAULT_PATH)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let (found, mut diagnostics) = load::discover(paths);
    // Files parse independently, and parsing is most of the cost of a run.
    let parsed: Vec<Result<ParsedFile, Diagnostic>> =
        found.into_par_iter().map(load::read).collect();
    let mut files: Vec<ParsedFile> = Vec::with_capacity(parsed.len());
    for result in parsed {
        match result {
            Ok(parsed) => files.push(parsed),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    timings.lap("parse");
    if !diagnostics.is_empty() {
        diagnostic::sort(&mut diagnostics);
        return Err(diagnostics);
    }
    let model = resolve_files(files);
    timings.lap("resolve");
    model
}

/// Loads a model from policy text given directly, as tests and embedders do.
pub fn model_from_text(display: &str, text: &str) -> Result<Model, Vec<Diagnostic>> {
    let format = if display.ends_with(".json") {
        Format::Json
    } else {
        Format::Yaml
    };
    let found = FoundFile {
        path: PathBuf::from(display),
        display: display.to_owned(),
        format,
    };
    match load::parse(found, text.as_bytes().to_vec()) {
        Ok(file) => resolve_files(vec![file]),
        Err(diagnostic) => Err(vec![diagnostic]),
    }
}

fn resolve_files(mut files: Vec<ParsedFile>) -> Result<Model, Vec<Diagnostic>> {
    match resolve(&files) {
        Ok(model) => Ok(model),
        Err(problems) => {
            // JSON read by the fast path has no positions. Problems are rare, so read
            // such files again with positions and resolve once more to point at lines.
            if files.iter().all(|file| file.has_positions) {
                return Err(problems);
            }
            for file in &mut files {
                if let Err(diagnostic) = load::parse_with_positions(file) {
                    return Err(vec![diagnostic]);
                }
            }
            resolve(&files)
        }
    }
}
