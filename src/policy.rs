//! From paths on the command line to a resolved model: discovery, parsing and
//! resolution in one call, with every problem of every file collected.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::classify::DocumentKind;
use crate::diagnostic::{self, Diagnostic};
use crate::import::terraform;
use crate::load::{self, FileContents, Format, FoundFile, ImportFile, ParsedFile};
use crate::location::Skipped;
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
    load_model_side(paths, timings, progress, terraform::Side::Planned)
}

/// [`load_model_timed`], reading Terraform plans as they will be once applied
/// (`Side::Planned`) or as they were before (`Side::Prior`), for `diff --plan`.
pub fn load_model_side(
    paths: &[PathBuf],
    timings: &mut Timings,
    progress: &dyn Progress,
    side: terraform::Side,
) -> Result<Model, Vec<Diagnostic>> {
    let default = [PathBuf::from(DEFAULT_PATH)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let (found, diagnostics) = load::discover(paths);
    let sizes: Vec<u64> = found
        .iter()
        .map(|file| std::fs::metadata(&file.path).map_or(0, |m| m.len()))
        .collect();
    progress.start(found.len(), sizes.iter().sum());
    // Files parse independently, and parsing is most of the cost of a run.
    let parsed: Vec<Result<FileContents, Diagnostic>> = found
        .into_par_iter()
        .zip(sizes)
        .map(|(file, size)| {
            let parsed = load::read(file);
            progress.file_read(size);
            parsed
        })
        .collect();
    progress.finish();
    let gathered = Gathered::from(parsed, diagnostics);
    timings.lap("parse");
    let model = gathered.and_then(|gathered| resolve_files(gathered, side));
    timings.lap("resolve");
    model
}

/// Every file's contents, sorted by what reads them.
#[derive(Default)]
struct Gathered {
    policies: Vec<ParsedFile>,
    /// Terraform plans and states, for the importer.
    terraform: Vec<ImportFile>,
    skipped: Vec<Skipped>,
}

impl Gathered {
    /// Gathers what files held, or every problem found reading them.
    fn from(
        results: impl IntoIterator<Item = Result<FileContents, Diagnostic>>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> Result<Gathered, Vec<Diagnostic>> {
        let mut gathered = Gathered::default();
        for result in results {
            match result {
                Ok(contents) => {
                    gathered.policies.extend(contents.policy);
                    gathered
                        .skipped
                        .extend(contents.skipped.map(|file| Skipped {
                            path: file.display,
                            what: file.kind.describe(),
                        }));
                    for file in contents.imports {
                        if file.kind == DocumentKind::Terraform {
                            gathered.terraform.push(file);
                        } else {
                            // The Kubernetes importer is not wired here yet: its files
                            // are skipped with what they are, so that the note says why.
                            gathered.skipped.push(Skipped {
                                path: file.found.display,
                                what: file.kind.describe(),
                            });
                        }
                    }
                }
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        if diagnostics.is_empty() {
            Ok(gathered)
        } else {
            diagnostic::sort(&mut diagnostics);
            Err(diagnostics)
        }
    }
}

/// Loads a model from files given as (path, bytes), as read from a git revision.
pub fn model_from_files(files: Vec<(String, Vec<u8>)>) -> Result<Model, Vec<Diagnostic>> {
    let mut parsed = Vec::with_capacity(files.len());
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
        parsed.push(load::parse(found, bytes));
    }
    Gathered::from(parsed, Vec::new())
        .and_then(|gathered| resolve_files(gathered, terraform::Side::Planned))
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
    Gathered::from([load::parse(found, text.as_bytes().to_vec())], Vec::new())
        .and_then(|gathered| resolve_files(gathered, terraform::Side::Planned))
}

fn resolve_files(gathered: Gathered, side: terraform::Side) -> Result<Model, Vec<Diagnostic>> {
    let Gathered {
        policies: mut files,
        terraform,
        skipped,
    } = gathered;
    let (imported, (unmodelled, warnings)) = import_terraform(terraform, side)?;
    files.extend(imported);
    // Sources are numbered in path order, whichever front end read them.
    files.sort_by(|a, b| a.found.display.cmp(&b.found.display));
    let mut model = resolve_policies(&mut files)?;
    model.sources.set_skipped(skipped);
    model.sources.set_unmodelled(unmodelled);
    model.sources.set_warnings(warnings);
    Ok(model)
}

/// Resource types an importer read but does not model, with how many of each, and its
/// warnings.
type Unmodelled = (Vec<(String, usize)>, Vec<String>);

/// Runs the Terraform importer over the plans and states found: one raw file for each,
/// located in that plan, in the default account (policy files do not place plans yet),
/// and the resource types it does not model, counted.
fn import_terraform(
    files: Vec<ImportFile>,
    side: terraform::Side,
) -> Result<(Vec<ParsedFile>, Unmodelled), Vec<Diagnostic>> {
    if files.is_empty() {
        return Ok((Vec::new(), (Vec::new(), Vec::new())));
    }
    let plans: Vec<terraform::PlanFile> = files
        .iter()
        .map(|file| terraform::PlanFile {
            display: &file.found.display,
            text: &file.text,
            account: None,
        })
        .collect();
    let imported = terraform::import(&plans, side)?;
    drop(plans);
    let mut files: Vec<Option<ImportFile>> = files.into_iter().map(Some).collect();
    let parsed = imported
        .files
        .into_iter()
        .filter_map(|(index, raw)| {
            let file = files.get_mut(index)?.take()?;
            Some(ParsedFile {
                found: file.found,
                bytes: file.text.into_bytes(),
                sha256: file.sha256,
                raw,
                has_positions: true,
                json_lines: None,
            })
        })
        .collect();
    Ok((
        parsed,
        (imported.unmodelled.into_iter().collect(), imported.warnings),
    ))
}

fn resolve_policies(files: &mut [ParsedFile]) -> Result<Model, Vec<Diagnostic>> {
    match resolve(files) {
        Ok(model) => Ok(model),
        Err(problems) => {
            // JSON read by the fast path has no positions. Problems are rare, so read
            // such files again with positions and resolve once more to point at lines.
            if files.iter().all(|file| file.has_positions) {
                return Err(problems);
            }
            for file in files.iter_mut() {
                if let Err(diagnostic) = load::parse_with_positions(file) {
                    return Err(vec![diagnostic]);
                }
            }
            resolve(files)
        }
    }
}
