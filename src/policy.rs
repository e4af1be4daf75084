//! From paths on the command line to a resolved model: discovery, parsing and
//! resolution in one call, with every problem of every file collected.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::classify::DocumentKind;
use crate::diagnostic::{self, Diagnostic};
use crate::import::kubernetes;
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
    let parsed: Vec<Result<FileContents, Vec<Diagnostic>>> = found
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
    let model = gathered.and_then(resolve_files);
    timings.lap("resolve");
    model
}

/// Every file's contents, sorted by what reads them.
#[derive(Default)]
struct Gathered {
    policies: Vec<ParsedFile>,
    /// Files with Kubernetes objects, for the importer.
    kubernetes: Vec<ImportFile>,
    skipped: Vec<Skipped>,
}

impl Gathered {
    /// Gathers what files held, or every problem found reading them.
    fn from(
        results: impl IntoIterator<Item = Result<FileContents, Vec<Diagnostic>>>,
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
                        if file.kind == DocumentKind::Kubernetes {
                            gathered.kubernetes.push(file);
                        } else {
                            // The Terraform importer is not built yet: its files are
                            // skipped with what they are, so that the note says why.
                            gathered.skipped.push(Skipped {
                                path: file.found.display,
                                what: file.kind.describe(),
                            });
                        }
                    }
                }
                Err(found) => diagnostics.extend(found),
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
    Gathered::from(parsed, Vec::new()).and_then(resolve_files)
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
        .and_then(resolve_files)
}

fn resolve_files(gathered: Gathered) -> Result<Model, Vec<Diagnostic>> {
    let Gathered {
        policies: mut files,
        kubernetes,
        skipped,
    } = gathered;
    let mut notes = ImportNotes::default();
    files.extend(import_kubernetes(kubernetes, None, &mut notes)?);
    let placed = placed_clusters(&files)?;
    for (cluster, manifests) in placed {
        files.extend(import_kubernetes(manifests, Some(&cluster), &mut notes)?);
    }
    // Sources are numbered in path order, whichever front end read them.
    files.sort_by(|a, b| a.found.display.cmp(&b.found.display));
    let mut model = resolve_policies(&mut files)?;
    model.sources.set_skipped(skipped);
    model.sources.set_skipped_kinds(notes.skipped_kinds);
    model.sources.set_warnings(notes.warnings);
    Ok(model)
}

/// What importers tell besides their files: kinds they skipped, and warnings.
#[derive(Default)]
struct ImportNotes {
    skipped_kinds: std::collections::BTreeMap<String, usize>,
    warnings: Vec<Diagnostic>,
}

/// Runs the Kubernetes importer over the files that hold objects: one raw file for each
/// manifest that contributes entities or flows, located in that manifest.
fn import_kubernetes(
    files: Vec<ImportFile>,
    cluster: Option<&str>,
    notes: &mut ImportNotes,
) -> Result<Vec<ParsedFile>, Vec<Diagnostic>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let manifests: Vec<kubernetes::Manifest> = files
        .iter()
        .map(|file| kubernetes::Manifest {
            display: &file.found.display,
            text: &file.text,
        })
        .collect();
    let imported = kubernetes::import(&manifests, cluster)?;
    for (kind, count) in &imported.skipped {
        *notes.skipped_kinds.entry(kind.clone()).or_default() += count;
    }
    notes.warnings.extend(imported.warnings.iter().cloned());
    drop(manifests);
    let mut files: Vec<Option<ImportFile>> = files.into_iter().map(Some).collect();
    Ok(imported
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
        .collect())
}

/// The clusters that policy files place with `imports: [{kubernetes: PATH, in: ENTITY}]`:
/// each entity's name and the Kubernetes documents found under its path (relative to
/// the policy file), in policy file order.
fn placed_clusters(
    files: &[ParsedFile],
) -> Result<Vec<(String, Vec<ImportFile>)>, Vec<Diagnostic>> {
    let mut clusters = Vec::new();
    let mut diagnostics = Vec::new();
    for file in files {
        for item in file.raw.imports.iter().flatten() {
            let Some(path) = &item.value.kubernetes else {
                continue;
            };
            let base = file.found.path.parent().unwrap_or(std::path::Path::new(""));
            let target = lexically_normal(&base.join(path.value.trim()));
            if !target.exists() {
                diagnostics.push(
                    Diagnostic::new(
                        file.found.display.clone(),
                        path.line,
                        path.column,
                        diagnostic::Problem::PathNotFound {
                            path: path.value.clone(),
                        },
                    )
                    .with_help(Some("the path is relative to this file".to_owned())),
                );
                continue;
            }
            let (found, problems) = load::discover(&[target]);
            diagnostics.extend(problems);
            let mut manifests = Vec::new();
            for found in found {
                match load::read(found) {
                    Ok(contents) => manifests.extend(
                        contents
                            .imports
                            .into_iter()
                            .filter(|file| file.kind == DocumentKind::Kubernetes),
                    ),
                    Err(found) => diagnostics.extend(found),
                }
            }
            let cluster = item
                .value
                .parent
                .as_ref()
                .map_or_else(String::new, |parent| parent.value.trim().to_owned());
            clusters.push((cluster, manifests));
        }
    }
    if diagnostics.is_empty() {
        Ok(clusters)
    } else {
        diagnostic::sort(&mut diagnostics);
        Err(diagnostics)
    }
}

/// `a/b/../c` as `a/c`, without touching the file system, so that messages name an
/// imported manifest as the user would.
fn lexically_normal(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn resolve_policies(files: &mut [ParsedFile]) -> Result<Model, Vec<Diagnostic>> {
    // JSON read by the fast path has no positions. Problems and warnings are rare, so
    // such files are read again with positions and resolved once more to point at lines.
    let positioned = files.iter().all(|file| file.has_positions);
    match resolve(files) {
        Ok(model) if positioned || model.warnings.is_empty() => Ok(model),
        Err(problems) if positioned => Err(problems),
        Ok(_) | Err(_) => {
            for file in files.iter_mut() {
                load::parse_with_positions(file)?;
            }
            resolve(files)
        }
    }
}
