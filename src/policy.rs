//! From paths on the command line to a resolved model: discovery, parsing and
//! resolution in one call, with every problem of every file collected.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::classify::DocumentKind;
use crate::diagnostic::{self, Diagnostic};
use crate::import::{kubernetes, terraform};
use crate::load::{self, FileContents, Format, FoundFile, ImportFile, ParsedFile};
use crate::location::Skipped;
use crate::model::Model;
use crate::raw::RawFile;
use crate::resolve::{resolve, resolve_streaming};
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
    // Files parse independently, and parsing is most of the cost of a run. A file of
    // flows alone is only read here: it is parsed once the entities its flows name are
    // resolved, and its flows resolved at once, so that the raw flows of every file are
    // never in memory together.
    let read: Vec<Result<FileContents, Vec<Diagnostic>>> = found
        .par_iter()
        .zip(sizes)
        .map(|(file, size)| {
            let read = load::read_deferring(file.clone());
            // A deferred file is counted when it is parsed, during resolution.
            let deferred = read
                .as_ref()
                .is_ok_and(|contents| contents.policy.as_ref().is_some_and(|p| p.deferred));
            if !deferred {
                progress.file_read(size);
            }
            read
        })
        .collect();
    let gathered = Gathered::from(read, diagnostics.clone());
    timings.lap("parse");
    let streamed = gathered.ok().and_then(|gathered| {
        resolve_files(
            gathered,
            side,
            Resolution::Streaming(&|bytes| progress.file_read(bytes)),
        )
        .ok()
    });
    progress.finish();
    let model = match streamed {
        Some(model) => Ok(model),
        // Something is wrong, or a warning needs positions that a file lacks: every
        // file is read again and parsed up front, the way that names every problem.
        None => load_eagerly(found, diagnostics, side),
    };
    timings.lap("resolve");
    model
}

/// Every file parsed before anything is resolved, and resolved with positions where a
/// problem or a warning needs them: how a model loads when streaming gives up, and how
/// it loaded before streaming.
fn load_eagerly(
    found: Vec<FoundFile>,
    diagnostics: Vec<Diagnostic>,
    side: terraform::Side,
) -> Result<Model, Vec<Diagnostic>> {
    let parsed: Vec<Result<FileContents, Vec<Diagnostic>>> =
        found.into_par_iter().map(load::read).collect();
    Gathered::with_every_problem(parsed, diagnostics)
        .and_then(|gathered| resolve_files(gathered, side, Resolution::Eager))
}

/// How [`resolve_files`] resolves the policies.
#[derive(Clone, Copy)]
enum Resolution<'p> {
    /// Every file parsed; every problem reported ([`resolve_policies`]).
    Eager,
    /// Deferred files parsed as their flows are resolved ([`resolve_streaming`]), each
    /// told with its size once parsed; any problem gives an empty list, which the caller
    /// takes as "start again eagerly".
    Streaming(&'p (dyn Fn(u64) + Sync)),
}

/// Every file's contents, sorted by what reads them.
#[derive(Default)]
struct Gathered {
    policies: Vec<ParsedFile>,
    /// Files with Kubernetes objects, for the importer.
    kubernetes: Vec<ImportFile>,
    /// Terraform plans and states, for the importer.
    terraform: Vec<ImportFile>,
    skipped: Vec<Skipped>,
}

impl Gathered {
    /// Gathers what files held, or every problem found reading them.
    fn from(
        results: impl IntoIterator<Item = Result<FileContents, Vec<Diagnostic>>>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Gathered, Vec<Diagnostic>> {
        let (gathered, mut diagnostics) = Gathered::collect(results, diagnostics);
        if diagnostics.is_empty() {
            Ok(gathered)
        } else {
            diagnostic::sort(&mut diagnostics);
            Err(diagnostics)
        }
    }

    /// [`Gathered::from`], and where a file could not be read, the problems that
    /// resolving the files that could be read finds, so that one run names them all.
    /// Only those that the unread files cannot explain are kept: a name one of them
    /// might declare is not reported as unknown.
    fn with_every_problem(
        results: impl IntoIterator<Item = Result<FileContents, Vec<Diagnostic>>>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Gathered, Vec<Diagnostic>> {
        let (gathered, mut diagnostics) = Gathered::collect(results, diagnostics);
        if diagnostics.is_empty() {
            return Ok(gathered);
        }
        let mut files = gathered.policies;
        if let Err(found) = resolve_policies(&mut files) {
            let unexplained = |found: &Diagnostic| {
                found.level == diagnostic::Level::Error
                    && !found.problem.may_come_of_an_unread_file()
            };
            diagnostics.extend(found.into_iter().filter(unexplained));
        }
        diagnostic::sort(&mut diagnostics);
        Err(diagnostics)
    }

    /// What files held, and the problems of those that could not be read.
    fn collect(
        results: impl IntoIterator<Item = Result<FileContents, Vec<Diagnostic>>>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> (Gathered, Vec<Diagnostic>) {
        let mut gathered = Gathered::default();
        for result in results {
            match result {
                Ok(contents) => {
                    gathered.policies.extend(contents.policy);
                    gathered
                        .skipped
                        .extend(contents.skipped.into_iter().map(|file| Skipped {
                            path: file.display,
                            line: file.line,
                            what: file.kind.describe(),
                        }));
                    for file in contents.imports {
                        match file.kind {
                            DocumentKind::Kubernetes => gathered.kubernetes.push(file),
                            DocumentKind::Terraform => gathered.terraform.push(file),
                            _ => gathered.skipped.push(Skipped {
                                path: file.found.display,
                                line: None,
                                what: file.kind.describe(),
                            }),
                        }
                    }
                }
                Err(found) => diagnostics.extend(found),
            }
        }
        (gathered, diagnostics)
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
    Gathered::with_every_problem(parsed, Vec::new())
        .and_then(|gathered| resolve_files(gathered, terraform::Side::Planned, Resolution::Eager))
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
    Gathered::with_every_problem([load::parse(found, text.as_bytes().to_vec())], Vec::new())
        .and_then(|gathered| resolve_files(gathered, terraform::Side::Planned, Resolution::Eager))
}

fn resolve_files(
    gathered: Gathered,
    side: terraform::Side,
    resolution: Resolution,
) -> Result<Model, Vec<Diagnostic>> {
    let Gathered {
        policies: mut files,
        kubernetes,
        terraform,
        skipped,
    } = gathered;
    let mut notes = ImportNotes::default();
    check_imports(&files)?;
    // Both kinds of import are found before either is read, so that one run names
    // the problems of both.
    let (placed_manifests, placed_plans) = match (
        placed(&files, DocumentKind::Kubernetes),
        placed(&files, DocumentKind::Terraform),
    ) {
        (Ok(manifests), Ok(plans)) => (manifests, plans),
        (manifests, plans) => {
            let mut problems = manifests.err().unwrap_or_default();
            problems.extend(plans.err().unwrap_or_default());
            diagnostic::sort(&mut problems);
            return Err(problems);
        }
    };
    files.extend(import_kubernetes(kubernetes, None, None, &mut notes)?);
    for placed in placed_manifests {
        files.extend(import_kubernetes(
            placed.files,
            Some(&placed.entity),
            placed.namespace.as_deref(),
            &mut notes,
        )?);
    }
    // A plan that a policy file places is read once, where that file places it; any
    // other lands in the default account.
    let placed_paths: Vec<PathBuf> = placed_plans
        .iter()
        .flat_map(|placed| placed.files.iter().map(|plan| canonical(&plan.found.path)))
        .collect();
    let mut plans: Vec<(ImportFile, Option<String>)> = terraform
        .into_iter()
        .filter(|plan| !placed_paths.contains(&canonical(&plan.found.path)))
        .map(|plan| (plan, None))
        .collect();
    for placed in placed_plans {
        let account = placed.entity;
        plans.extend(
            placed
                .files
                .into_iter()
                .map(|plan| (plan, Some(account.clone()))),
        );
    }
    let (imported, (unmodelled, assumptions)) =
        import_terraform(plans, side, &notes.service_accounts)?;
    files.extend(imported);
    // Sources are numbered in path order, whichever front end read them.
    files.sort_by(|a, b| a.found.display.cmp(&b.found.display));
    let mut model = match resolution {
        Resolution::Eager => resolve_policies(&mut files)?,
        Resolution::Streaming(parsed) => {
            resolve_streaming(&mut files, parsed).ok_or_else(Vec::new)?
        }
    };
    model.sources.set_skipped(skipped);
    model.sources.set_skipped_kinds(notes.skipped_kinds);
    model.sources.set_warnings(notes.warnings);
    model.sources.set_unmodelled(unmodelled);
    model.sources.set_assumptions(assumptions);
    Ok(model)
}

/// A path as the file system names it, to tell one file reached two ways.
fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What importers tell besides their files: kinds they skipped, and warnings.
#[derive(Default)]
struct ImportNotes {
    skipped_kinds: std::collections::BTreeMap<String, usize>,
    warnings: Vec<Diagnostic>,
    /// The clusters' service accounts, for the roles they obtain in AWS.
    service_accounts: Vec<crate::import::ServiceAccount>,
}

/// Runs the Kubernetes importer over the files that hold objects: one raw file for each
/// manifest that contributes entities or flows, located in that manifest.
fn import_kubernetes(
    files: Vec<ImportFile>,
    cluster: Option<&str>,
    namespace: Option<&str>,
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
            namespace: namespace.unwrap_or(kubernetes::DEFAULT_NAMESPACE),
        })
        .collect();
    let imported = kubernetes::import(&manifests, cluster)?;
    for (kind, count) in &imported.skipped {
        *notes.skipped_kinds.entry(kind.clone()).or_default() += count;
    }
    notes.warnings.extend(imported.warnings.iter().cloned());
    (notes.service_accounts).extend(imported.service_accounts.iter().cloned());
    drop(manifests);
    Ok(as_sources(files, imported.files))
}

/// Each raw file an importer made, by the index of the input file it came from, as a
/// source located in that file; an index out of range or given twice is dropped.
fn as_sources(
    files: impl IntoIterator<Item = ImportFile>,
    imported: Vec<(usize, RawFile)>,
) -> Vec<ParsedFile> {
    let mut files: Vec<Option<ImportFile>> = files.into_iter().map(Some).collect();
    imported
        .into_iter()
        .filter_map(|(index, raw)| {
            let file = files.get_mut(index)?.take()?;
            Some(ParsedFile {
                sha256: file.digest(),
                found: file.found,
                bytes: Vec::new(),
                raw,
                has_positions: true,
                json_lines: None,
                deferred: false,
            })
        })
        .collect()
}

/// Resource types an importer read but does not model, with how many of each, and
/// what it assumed.
type Unmodelled = (Vec<(String, usize)>, Vec<String>);

/// Runs the Terraform importer over the plans and states found, each in the account a
/// policy file places it in, else the default one: one raw file for each, located in
/// that plan, and the resource types it does not model, counted. The clusters'
/// service accounts obtain roles on EKS.
fn import_terraform(
    files: Vec<(ImportFile, Option<String>)>,
    side: terraform::Side,
    service_accounts: &[crate::import::ServiceAccount],
) -> Result<(Vec<ParsedFile>, Unmodelled), Vec<Diagnostic>> {
    if files.is_empty() {
        return Ok((Vec::new(), (Vec::new(), Vec::new())));
    }
    let plans: Vec<terraform::PlanFile> = files
        .iter()
        .map(|(file, account)| terraform::PlanFile {
            display: &file.found.display,
            text: &file.text,
            account: account.as_deref(),
        })
        .collect();
    // A plan's read is one core's work: the other digests the plans meanwhile. Where
    // no thread can be had, or it fails, the digests are taken here, after the import.
    let digest_all = || {
        files
            .iter()
            .map(|(file, _)| file.digest())
            .collect::<Vec<_>>()
    };
    let (imported, digests) = std::thread::scope(|scope| {
        let digests = std::thread::Builder::new().spawn_scoped(scope, digest_all);
        let imported = terraform::import(&plans, side, service_accounts);
        let digests =
            (digests.ok().and_then(|thread| thread.join().ok())).unwrap_or_else(digest_all);
        (imported, digests)
    });
    let imported = imported?;
    drop(plans);
    let files = files
        .into_iter()
        .zip(digests)
        .map(|((mut file, _), digest)| {
            file.sha256 = Some(digest);
            file
        });
    let parsed = as_sources(files, imported.files);
    Ok((
        parsed,
        (imported.unmodelled.into_iter().collect(), imported.warnings),
    ))
}

/// Refuses an import that reads nothing, reads both kinds, or places what it reads
/// nowhere: each reads one path of one kind into one entity.
fn check_imports(files: &[ParsedFile]) -> Result<(), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    for file in files {
        for item in file.raw.imports.iter().flatten() {
            let import = &item.value;
            let (problem, help) = match (&import.kubernetes, &import.terraform) {
                (None, None) => (
                    diagnostic::Problem::ImportReadsNothing,
                    "give `kubernetes: PATH` or `terraform: PATH`",
                ),
                (Some(_), Some(_)) => (
                    diagnostic::Problem::ImportReadsBoth,
                    "give each its own import",
                ),
                (Some(_), None) if import.parent.is_none() => (
                    diagnostic::Problem::ImportPlacedNowhere { kind: "kubernetes" },
                    "add `in: ENTITY`, the entity that holds the cluster",
                ),
                (None, Some(_)) if import.parent.is_none() => (
                    diagnostic::Problem::ImportPlacedNowhere { kind: "terraform" },
                    "add `in: ACCOUNT`, the account that holds the plan",
                ),
                _ => {
                    diagnostics.extend(namespace_problem(&file.found.display, import));
                    continue;
                }
            };
            diagnostics.push(
                Diagnostic::new(file.found.display.clone(), item.line, item.column, problem)
                    .with_help(Some(help.to_owned())),
            );
        }
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        diagnostic::sort(&mut diagnostics);
        Err(diagnostics)
    }
}

/// A `namespace` on an import that is not a cluster's, or that Kubernetes would not
/// accept as a namespace's name.
fn namespace_problem(display: &str, import: &crate::raw::RawImport) -> Option<Diagnostic> {
    let namespace = import.namespace.as_ref()?;
    let (problem, help) = if import.kubernetes.is_none() {
        (
            diagnostic::Problem::NamespaceOnPlan,
            "drop `namespace`: only a Kubernetes import places objects in a namespace".to_owned(),
        )
    } else if !is_dns_label(&namespace.value) {
        (
            diagnostic::Problem::NamespaceName {
                name: namespace.value.clone(),
            },
            "a namespace's name is lowercase letters, digits and `-`, at most 63 of them, starting and ending with a letter or digit".to_owned(),
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::new(
            display.to_owned(),
            namespace.line,
            namespace.column,
            problem,
        )
        .with_help(Some(help)),
    )
}

/// Whether `name` is an RFC 1123 label, as Kubernetes requires of a namespace's name.
fn is_dns_label(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 63
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().next_back())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// What one import places: the documents of its kind found under its path, in an
/// entity, with the namespace of a cluster's objects that name none.
struct Placed {
    entity: String,
    namespace: Option<String>,
    files: Vec<ImportFile>,
}

/// What policy files place with `imports:`: for each `{kubernetes: PATH, in: ENTITY}`
/// (or `{terraform: PATH, in: ACCOUNT}`), the entity's name and the documents of that
/// kind found under its path (relative to the policy file), in policy file order.
fn placed(files: &[ParsedFile], kind: DocumentKind) -> Result<Vec<Placed>, Vec<Diagnostic>> {
    let mut placed = Vec::new();
    let mut diagnostics = Vec::new();
    for file in files {
        for item in file.raw.imports.iter().flatten() {
            let path = match kind {
                DocumentKind::Kubernetes => &item.value.kubernetes,
                DocumentKind::Terraform => &item.value.terraform,
                _ => &None,
            };
            let Some(path) = path else {
                continue;
            };
            // A problem with the import itself, at its path.
            let at_path = |problem, help: &str| {
                Diagnostic::new(file.found.display.clone(), path.line, path.column, problem)
                    .with_help(Some(help.to_owned()))
            };
            let base = file.found.path.parent().unwrap_or(std::path::Path::new(""));
            let target = lexically_normal(&base.join(path.value.trim()));
            if !target.exists() {
                diagnostics.push(at_path(
                    diagnostic::Problem::PathNotFound {
                        path: path.value.clone(),
                    },
                    "the path is relative to this file",
                ));
                continue;
            }
            let (found, problems) = load::discover(&[target]);
            // A file that could not be read has said why: that it then held nothing
            // would be said twice.
            let mut unread = !problems.is_empty();
            diagnostics.extend(problems);
            let mut documents = Vec::new();
            for found in found {
                match load::read(found) {
                    Ok(contents) => documents.extend(
                        contents
                            .imports
                            .into_iter()
                            .filter(|file| file.kind == kind),
                    ),
                    Err(found) => {
                        unread = true;
                        diagnostics.extend(found);
                    }
                }
            }
            // An import that reads nothing would check a model without the estate it
            // names, and pass: a JSON file that `terraform show -json` did not write,
            // or a directory without manifests.
            if documents.is_empty() && !unread {
                let help = match kind {
                    DocumentKind::Kubernetes => {
                        "a Kubernetes manifest is YAML or JSON with `apiVersion` and `kind`"
                    }
                    _ => {
                        "write the plan or state with `terraform show -json`, which gives `format_version` and `terraform_version`"
                    }
                };
                diagnostics.push(at_path(
                    diagnostic::Problem::ImportFindsNothing {
                        path: path.value.clone(),
                        what: kind.describe(),
                    },
                    help,
                ));
            }
            let entity = item
                .value
                .parent
                .as_ref()
                .map_or_else(String::new, |parent| parent.value.trim().to_owned());
            placed.push(Placed {
                entity,
                namespace: (item.value.namespace.as_ref()).map(|n| n.value.clone()),
                files: documents,
            });
        }
    }
    if diagnostics.is_empty() {
        Ok(placed)
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
    // A second resolution reads every file again: those without positions are parsed
    // anew, the others must keep their flows.
    let unpositioned = files.iter().all(|file| !file.has_positions);
    match resolve(files, positioned || unpositioned) {
        Ok(model) if positioned || model.warnings.is_empty() => Ok(model),
        Err(problems) if positioned => Err(problems),
        Ok(_) | Err(_) => {
            for file in files.iter_mut() {
                load::parse_with_positions(file)?;
            }
            resolve(files, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` into a temporary directory and finds them there, as a walk would.
    fn written(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<FoundFile>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let (found, problems) = load::discover(&[dir.path().to_owned()]);
        assert!(problems.is_empty(), "{problems:?}");
        (dir, found)
    }

    /// The model as streaming gives it, or `None` where it gives up.
    fn streamed(found: &[FoundFile]) -> Option<Model> {
        let read: Vec<_> = found.iter().cloned().map(load::read_deferring).collect();
        let gathered = Gathered::from(read, Vec::new()).ok()?;
        resolve_files(
            gathered,
            terraform::Side::Planned,
            Resolution::Streaming(&|_| {}),
        )
        .ok()
    }

    fn eager(found: &[FoundFile]) -> Result<Model, Vec<Diagnostic>> {
        load_eagerly(found.to_vec(), Vec::new(), terraform::Side::Planned)
    }

    /// The model streaming gives, checked to be the one that parsing every file first
    /// gives, down to every field.
    #[track_caller]
    fn streams_as_eager(found: &[FoundFile]) -> Model {
        let streamed = streamed(found).expect("no problem, so no reason to give up");
        let eager = eager(found).unwrap();
        assert_eq!(format!("{streamed:?}"), format!("{eager:?}"));
        streamed
    }

    const ESTATE: &str = "accounts:\n  - {name: prod, cidrs: [10.0.0.0/16]}\nassets:\n  - {name: web, in: prod, cidrs: [10.0.1.10]}\n  - {name: db, in: prod, cidrs: [10.0.2.10]}\n  - {name: cache, in: prod}\ncredentials:\n  - {name: key, held_by: web}\nflows:\n  - {name: cache-in, from: web, to: cache}\ninvariants:\n  - name: no-db\n    forbid: {from: internet, to: db}\nexceptions:\n  - {invariant: no-db, reason: r, owner: o, expires: 2030-01-01, path: [internet, web, db]}\n";

    const FLOWS: &str = "version: 1\nflows:\n  - {name: in, from: internet, to: web, ports: [tcp/443]}\n  - {from: web, to: db, auth: [key]}\n";

    const JSON_FLOWS: &str = "{\"flows\": [\n  {\"name\": \"j\", \"from\": \"db\", \"to\": \"tag:none-such-tag-is-needed\"}\n]}\n";

    #[test]
    fn only_files_of_flows_alone_are_deferred() {
        let (_dir, found) = written(&[("a.yaml", FLOWS), ("b.yaml", ESTATE)]);
        let deferred: Vec<bool> = found
            .iter()
            .map(|file| {
                let contents = load::read_deferring(file.clone()).unwrap();
                let policy = contents.policy.unwrap();
                assert!(policy.deferred == policy.raw.flows.is_none());
                policy.deferred
            })
            .collect();
        assert_eq!(deferred, [true, false]);
    }

    #[test]
    fn streaming_gives_the_model_that_parsing_everything_first_gives() {
        // The flows come first in file order and name entities, a credential and an
        // exception's route from a later file; a file of flows in JSON sits between.
        let json = JSON_FLOWS.replace("tag:none-such-tag-is-needed", "cache");
        let (_dir, found) = written(&[
            ("a-flows.yaml", FLOWS),
            ("b-flows.json", &json),
            ("c-estate.yaml", ESTATE),
            (
                "d-flows.yaml",
                "flows:\n  - {from: cache, to: db, ports: [tcp/22]}\n",
            ),
        ]);
        let streamed = streams_as_eager(&found);
        let names: Vec<Option<&str>> = streamed.flows.names().collect();
        assert_eq!(
            names,
            [Some("in"), None, Some("j"), Some("cache-in"), None],
            "flows in file order, then in their file's order"
        );
        assert_eq!(streamed.sources.files().len(), 4);
    }

    #[test]
    fn warnings_in_deferred_files_stream_when_every_file_has_positions() {
        let (_dir, found) = written(&[
            ("a-flows.yaml", FLOWS),
            ("c-estate.yaml", ESTATE),
            (
                "d-flows.yaml",
                "flows:\n  - {from: cache, to: db, ports: [tcp/0]}\n",
            ),
        ]);
        // YAML has positions for its warnings, so streaming need not give up.
        let streamed = streams_as_eager(&found);
        assert_eq!(streamed.warnings.len(), 1, "the port 0 of a deferred file");
    }

    #[test]
    fn a_generated_estate_streams_to_the_same_model() {
        let dir = tempfile::tempdir().unwrap();
        for format in [crate::synth::Format::Yaml, crate::synth::Format::Json] {
            let out = dir.path().join(format!("{format:?}"));
            crate::synth::generate(&crate::synth::Options {
                scale: 0.02,
                out: out.clone(),
                format,
                seed: 3,
                flow_files: 3,
            })
            .unwrap();
            let (found, _) = load::discover(&[out]);
            let deferred = found
                .iter()
                .filter_map(|file| load::read_deferring(file.clone()).ok()?.policy)
                .filter(|policy| policy.deferred)
                .count();
            assert_eq!(deferred, 3, "every file of flows is deferred");
            assert!(!streams_as_eager(&found).flows.is_empty());
        }
    }

    #[test]
    fn progress_counts_every_file_once_deferred_ones_when_parsed() {
        use std::sync::atomic::{AtomicU64, Ordering};
        #[derive(Default)]
        struct Count {
            expected: AtomicU64,
            files: AtomicU64,
            bytes: AtomicU64,
            finished: AtomicU64,
        }
        impl Progress for Count {
            fn start(&self, _files: usize, bytes: u64) {
                self.expected.store(bytes, Ordering::SeqCst);
            }
            fn file_read(&self, bytes: u64) {
                self.files.fetch_add(1, Ordering::SeqCst);
                self.bytes.fetch_add(bytes, Ordering::SeqCst);
            }
            fn finish(&self) {
                self.finished.fetch_add(1, Ordering::SeqCst);
            }
        }
        let json = JSON_FLOWS.replace("tag:none-such-tag-is-needed", "cache");
        let (dir, _) = written(&[("a.yaml", FLOWS), ("b.yaml", ESTATE), ("c.json", &json)]);
        let count = Count::default();
        let paths = [dir.path().to_owned()];
        let loaded = load_model_side(
            &paths,
            &mut Timings::new(),
            &count,
            terraform::Side::Planned,
        );
        assert_eq!(loaded.map(|model| model.flows.len()).ok(), Some(4));
        let total = (FLOWS.len() + ESTATE.len() + json.len()) as u64;
        assert_eq!(count.expected.load(Ordering::SeqCst), total);
        assert_eq!(count.bytes.load(Ordering::SeqCst), total);
        assert_eq!(count.files.load(Ordering::SeqCst), 3);
        assert_eq!(count.finished.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn streaming_gives_up_on_any_problem_and_the_eager_path_reports_it() {
        let cases: [&[(&str, &str)]; 6] = [
            // A flow name used in a deferred file and again in another.
            &[
                ("a.yaml", FLOWS),
                ("b.yaml", &ESTATE.replace("cache-in", "in")),
            ],
            // An unknown entity in a deferred file.
            &[
                ("a.yaml", &FLOWS.replace("to: db", "to: dbb")),
                ("b.yaml", ESTATE),
            ],
            // A deferred file that does not parse.
            &[("a.yaml", "flows:\n  - {from: web\n"), ("b.yaml", ESTATE)],
            // A deferred file with a version other than 1.
            &[
                ("a.yaml", &FLOWS.replace("version: 1", "version: 2")),
                ("b.yaml", ESTATE),
            ],
            // A problem in the entities: the deferred files are not even parsed.
            &[
                ("a.yaml", FLOWS),
                (
                    "b.yaml",
                    &ESTATE.replace("in: prod, cidrs: [10.0.1.10]", "in: nowhere"),
                ),
            ],
            // A warning in a JSON file, which has no positions to give it.
            &[
                (
                    "a.json",
                    &JSON_FLOWS.replace("tag:none-such-tag-is-needed\"", "cache\", \"ports\": []"),
                ),
                ("b.yaml", ESTATE),
            ],
        ];
        for (index, files) in cases.iter().enumerate() {
            let (_dir, found) = written(files);
            assert!(streamed(&found).is_none(), "case {index} streamed");
            let eager = eager(&found);
            let reported = match &eager {
                Ok(model) => model.warnings.len(),
                Err(problems) => problems.len(),
            };
            assert!(reported > 0, "case {index}: {eager:?}");
        }
    }
}
