//! From raw policy files to the model: checks every name and reference, turns selectors
//! into entity sets, and collects every problem instead of stopping at the first.

mod entities;
mod fast_flows;
mod leaks;
mod pin;
mod rules;
mod selector;
mod warnings;

pub use pin::FLOW_PREFIX;

pub(crate) use entities::parse_cidr;

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::raw::At;

use crate::diagnostic::{Diagnostic, Problem};
use crate::load::ParsedFile;
use crate::location::{Location, Source, SourceId, Sources};
use crate::model::Model;

/// Resolves parsed files into one model, or every problem found in them. With
/// `consume_flows`, each file's raw flows are dropped once resolved (the largest part
/// of a big model's memory); without, the files can be resolved again.
pub fn resolve(files: &mut [ParsedFile], consume_flows: bool) -> Result<Model, Vec<Diagnostic>> {
    let mode = if consume_flows {
        FlowMode::Consume
    } else {
        FlowMode::Keep
    };
    resolve_with(files, mode, &|_| {})
}

/// Resolves files of which some are `deferred` (files of flows alone, not parsed yet):
/// each is parsed by the thread that resolves its flows, once the entities and
/// credentials they name are known, and dropped before that thread takes the next file,
/// so that no more than one file's raw flows per thread are ever in memory.
///
/// Gives `None` instead of saying what is wrong: on any problem (a parse error, an
/// unknown name, a deferred file that holds more than flows after all, two flows that
/// may share a name), and on a warning when a file was read without positions. The
/// caller then parses every file up front and calls [`resolve`], which reports every
/// problem as it always has: problems are rare, and that path is the one that knows
/// how to name them all in one run.
///
/// `parsed` is told the size of each deferred file once it is parsed, for progress.
pub fn resolve_streaming(files: &mut [ParsedFile], parsed: &(dyn Fn(u64) + Sync)) -> Option<Model> {
    let model = resolve_with(files, FlowMode::Stream, parsed).ok()?;
    let positioned = files.iter().all(|file| file.has_positions);
    (positioned || model.warnings.is_empty()).then_some(model)
}

/// What the flows stage does with each file's raw flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlowMode {
    /// Leaves them, so that the files can be resolved again.
    Keep,
    /// Drops each file's once resolved.
    Consume,
    /// Parses each deferred file first, and gives up on any problem
    /// ([`resolve_streaming`]).
    Stream,
}

fn resolve_with(
    files: &mut [ParsedFile],
    mode: FlowMode,
    parsed: &(dyn Fn(u64) + Sync),
) -> Result<Model, Vec<Diagnostic>> {
    let mut cx = Context::empty(sources(files));
    for (index, file) in files.iter().enumerate() {
        if let Some(version) = &file.raw.version
            && version.value.trim() != "1"
        {
            let at = cx.location(SourceId(index as u32), version);
            cx.error(
                at,
                Problem::Version {
                    found: version.value.clone(),
                },
            )
            .help("use `version: 1`");
        }
    }
    let mut model = entities::resolve_entities(&mut cx, files);
    if mode == FlowMode::Stream {
        // Nothing reads the raw entities again: the selectors borrow the model's names,
        // and a streaming run that gives up reads every file anew. Freed now, their
        // memory goes to the resolved flows instead of adding to the peak.
        for file in files.iter_mut() {
            file.raw.environments = None;
            file.raw.accounts = None;
            file.raw.segments = None;
            file.raw.assets = None;
        }
    }
    let selectors = selector::SelectorResolver::new(&model);
    let rules = rules::resolve_rules(&mut cx, files, &model, &selectors, (mode, parsed));
    drop(selectors);
    if !rules.whole {
        // Only streaming gives up, and it says nothing about why.
        return Err(Vec::new());
    }
    model.credentials = rules.credentials;
    model.flows = rules.flows;
    model.invariants = rules.invariants;
    model.exceptions = rules.exceptions;
    if cx.diagnostics.is_empty() {
        let imported: Vec<bool> = files.iter().map(|file| file.raw.imported).collect();
        warnings::model_warnings(&mut cx, &model, &imported);
        crate::diagnostic::sort(&mut cx.warnings);
        model.warnings = cx.warnings;
        // The digests of deferred files are taken as they are parsed, after the
        // sources were first listed.
        model.sources = sources(files);
        Ok(model)
    } else {
        crate::diagnostic::sort(&mut cx.diagnostics);
        Err(cx.diagnostics)
    }
}

/// The files as sources: their paths and digests.
fn sources(files: &[ParsedFile]) -> Sources {
    Sources::new(
        files
            .iter()
            .map(|file| Source {
                path: file.found.display.clone(),
                sha256: file.sha256.clone(),
            })
            .collect(),
    )
}

/// Resolves selectors given outside the policy files, such as on the command line, into
/// their union; or each problem with its help line.
pub fn select(
    model: &Model,
    selectors: &[String],
) -> Result<crate::model::Selection, Vec<(Problem, Option<String>)>> {
    let resolver = selector::SelectorResolver::new(model);
    selector::union(model, &resolver, selectors.iter().map(String::as_str)).map_err(|errors| {
        errors
            .into_iter()
            .map(|(_, error)| (error.problem, error.help))
            .collect()
    })
}

/// What resolution carries from step to step: the files and the problems so far.
pub(crate) struct Context {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    /// What is valid but probably a mistake: reported, the run goes on.
    pub warnings: Vec<Diagnostic>,
}

impl Context {
    /// A context for one thread's share of the work, merged back with [`Context::absorb`].
    pub fn empty(sources: Sources) -> Self {
        Context {
            sources,
            diagnostics: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Takes the problems and warnings that a thread's context found.
    pub fn absorb(&mut self, local: Context) {
        self.diagnostics.extend(local.diagnostics);
        self.warnings.extend(local.warnings);
    }

    pub fn location<T>(&self, source: SourceId, at: &At<T>) -> Location {
        Location {
            source,
            line: at.line,
            column: at.column,
        }
    }

    pub fn error(&mut self, at: Location, problem: Problem) -> HelpSlot<'_> {
        self.diagnostics.push(Diagnostic::new(
            self.sources.path(at.source),
            at.line,
            at.column,
            problem,
        ));
        HelpSlot {
            diagnostics: &mut self.diagnostics,
        }
    }

    pub fn warn(&mut self, at: Location, problem: Problem) -> HelpSlot<'_> {
        self.warnings.push(
            Diagnostic::new(self.sources.path(at.source), at.line, at.column, problem).warning(),
        );
        HelpSlot {
            diagnostics: &mut self.warnings,
        }
    }

    pub fn display(&self, at: Location) -> String {
        self.sources.file_line_column(at).to_string()
    }
}

/// Lets a caller attach a help line to the diagnostic it just added.
pub(crate) struct HelpSlot<'a> {
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl HelpSlot<'_> {
    pub fn help(self, help: impl Into<String>) {
        if let Some(last) = self.diagnostics.last_mut() {
            last.help = Some(help.into());
        }
    }

    pub fn maybe_help(self, help: Option<String>) {
        if let Some(help) = help {
            self.help(help);
        }
    }
}

/// Records the first place each name was defined, and reports later ones as duplicates.
/// Borrows the names from the parsed files, so claiming one allocates nothing.
pub(crate) struct NameTable<'f> {
    what: &'static str,
    first: FxHashMap<&'f str, Location>,
}

impl<'f> NameTable<'f> {
    pub fn new(what: &'static str) -> Self {
        Self::with_capacity(what, 0)
    }

    pub fn with_capacity(what: &'static str, capacity: usize) -> Self {
        NameTable {
            what,
            first: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
        }
    }

    /// Where `name` was first defined, once claimed.
    pub fn first(&self, name: &str) -> Option<Location> {
        self.first.get(name).copied()
    }

    /// True when `name` is new; otherwise reports the duplicate and returns false.
    pub fn claim(&mut self, cx: &mut Context, name: &'f str, at: Location) -> bool {
        match self.first.entry(name) {
            Entry::Occupied(first) => {
                report_duplicate(cx, self.what, name, at, *first.get());
                false
            }
            Entry::Vacant(slot) => {
                slot.insert(at);
                true
            }
        }
    }
}

/// Reports `name`, declared at `at`, as a duplicate of the `what` declared at `first`.
pub(crate) fn report_duplicate(
    cx: &mut Context,
    what: &'static str,
    name: &str,
    at: Location,
    first: Location,
) {
    let first = cx.display(first);
    cx.error(
        at,
        Problem::DuplicateName {
            what,
            name: name.to_owned(),
            first,
        },
    )
    .help("names must be unique: rename one of them");
}
