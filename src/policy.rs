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

/// Told how reading the policy files goes, so that a terminal can show it. Called from
/// several threads at once.
pub trait Progress: Sync {
    fn start(&self, _files: usize, _bytes: u64) {}
    fn file_read(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// Progress that shows nothing.
pub struct Silent;

impl Progress for Silent {}

/// Loads and resolves the policies under `paths` (`./policies` when empty).
pub fn load_model(paths: &[PathBuf]) -> Result<Model, Vec<Diagnostic>> {
    load_model_timed(paths, &mut Timings::new(), &Silent)
}

/// [`load_model`], recording the time spent reading and resolving, and telling
/// `progress` about each file read.
pub fn load_model_timed(
    paths: &[PathBuf],
    timings: &mut Timings,
    progress: &dyn Progress,
) -> Result<Model, Vec<Diagnostic>> {
    let default = [PathBuf::from(DEFAULT_PATH)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let (found, mut diagnostics) = load::discover(paths);
    let sizes: Vec<u64> = found
        .iter()
        .map(|file| std::fs::metadata(&file.path).map_or(0, |m| m.len()))
        .collect();
    progress.start(found.len(), sizes.iter().sum());
    // Files parse independently, and parsing is most of the cost of a run.
    let parsed: Vec<Result<ParsedFile, Vec<Diagnostic>>> = found
        .into_par_iter()
        .zip(sizes)
        .map(|(file, size)| {
            let parsed = load::read(file);
            progress.file_read(size);
            parsed
        })
        .collect();
    progress.finish();
    let mut files: Vec<ParsedFile> = Vec::with_capacity(parsed.len());
    for result in parsed {
        match result {
            Ok(parsed) => files.push(parsed),
            Err(found) => diagnostics.extend(found),
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

/// Loads a model from files given as (path, bytes), as read from a git revision.
pub fn model_from_files(files: Vec<(String, Vec<u8>)>) -> Result<Model, Vec<Diagnostic>> {
    let mut parsed = Vec::with_capacity(files.len());
    let mut diagnostics = Vec::new();
    let mut files = files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (display, bytes) in files {
        let format = if display.ends_with(".json") {
            Format::Json
        } else {
            Format::Yaml
        };
        let found = FoundFile {
            path: PathBuf::from(&display),
            display,
            format,
        };
        match load::parse(found, bytes) {
            Ok(file) => parsed.push(file),
            Err(found) => diagnostics.extend(found),
        }
    }
    if !diagnostics.is_empty() {
        diagnostic::sort(&mut diagnostics);
        return Err(diagnostics);
    }
    resolve_files(parsed)
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
        Err(diagnostics) => Err(diagnostics),
    }
}

fn resolve_files(mut files: Vec<ParsedFile>) -> Result<Model, Vec<Diagnostic>> {
    // JSON read by the fast path has no positions. Problems and warnings are rare, so
    // such files are read again with positions and resolved once more to point at lines.
    let positioned = files.iter().all(|file| file.has_positions);
    match resolve(&files) {
        Ok(model) if positioned || model.warnings.is_empty() => Ok(model),
        Err(problems) if positioned => Err(problems),
        Ok(_) | Err(_) => {
            for file in &mut files {
                load::parse_with_positions(file)?;
            }
            resolve(&files)
        }
    }
}
