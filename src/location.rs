//! Where something was written: the policy files that were read and positions in them.

use std::fmt;

/// An index into [`Sources`]: which policy file a thing came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// A position in a policy file. Line and column count from 1; 0 means unknown, as for
/// values read by the fast JSON path, which keeps no positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub source: SourceId,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn is_known(&self) -> bool {
        self.line != 0
    }
}

/// One policy file that was read: its path as the user named it, and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub sha256: String,
}

/// A file that was found but not read as a policy, or a document of a file that was,
/// and what it held instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    /// The document's first line, when the rest of the file was read.
    pub line: Option<usize>,
    /// What it held, in words: "not a cordon policy", "Kubernetes manifest".
    pub what: &'static str,
}

/// Every policy file of a run, in path order, and the files skipped.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<Source>,
    skipped: Vec<Skipped>,
    /// Objects an importer read but does not model, by kind, with their count.
    skipped_kinds: Vec<(String, usize)>,
    /// Input that is valid but allows nothing, as an importer found it.
    warnings: Vec<crate::diagnostic::Diagnostic>,
    /// Resource types that an importer read but does not model, with how many of each.
    unmodelled: Vec<(String, usize)>,
    /// Where an importer assumed the permissive answer for a value it could not know.
    assumptions: Vec<String>,
}

impl Sources {
    pub fn new(files: Vec<Source>) -> Self {
        Sources {
            files,
            skipped: Vec::new(),
            skipped_kinds: Vec::new(),
            unmodelled: Vec::new(),
            assumptions: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn files(&self) -> &[Source] {
        &self.files
    }

    /// The files found but not read as policies, in path order.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The files read, each once: a file that holds both policy documents and objects for
    /// an importer is two sources with one path.
    pub fn inputs(&self) -> Vec<Source> {
        let mut inputs = self.files.clone();
        inputs.dedup_by(|a, b| a.path == b.path);
        inputs
    }

    /// Kinds of Kubernetes objects read but not modelled, in kind order, with counts.
    pub fn skipped_kinds(&self) -> &[(String, usize)] {
        &self.skipped_kinds
    }

    pub fn set_skipped_kinds(&mut self, kinds: impl IntoIterator<Item = (String, usize)>) {
        self.skipped_kinds = kinds.into_iter().collect();
        self.skipped_kinds.sort();
    }

    pub fn warnings(&self) -> &[crate::diagnostic::Diagnostic] {
        &self.warnings
    }

    pub fn set_warnings(&mut self, mut warnings: Vec<crate::diagnostic::Diagnostic>) {
        crate::diagnostic::sort(&mut warnings);
        self.warnings = warnings;
    }

    pub fn set_skipped(&mut self, mut skipped: Vec<Skipped>) {
        skipped.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        self.skipped = skipped;
    }

    /// Resource types imported but not modelled, sorted by type, with their counts.
    pub fn unmodelled(&self) -> &[(String, usize)] {
        &self.unmodelled
    }

    pub fn set_unmodelled(&mut self, mut unmodelled: Vec<(String, usize)>) {
        unmodelled.sort();
        self.unmodelled = unmodelled;
    }

    /// What importers over-approximated, one line each (`FILE:LINE: what`).
    pub fn assumptions(&self) -> &[String] {
        &self.assumptions
    }

    pub fn set_assumptions(&mut self, assumptions: Vec<String>) {
        self.assumptions = assumptions;
    }

    pub fn path(&self, id: SourceId) -> &str {
        self.files
            .get(id.0 as usize)
            .map_or("<unknown>", |source| source.path.as_str())
    }

    /// `FILE:LINE`, the short form that names a flow without a name.
    pub fn file_line(&self, location: Location) -> FileLine<'_> {
        FileLine {
            path: self.path(location.source),
            line: location.line,
            column: None,
        }
    }

    /// `FILE:LINE:COLUMN`, the form of a diagnostic.
    pub fn file_line_column(&self, location: Location) -> FileLine<'_> {
        FileLine {
            path: self.path(location.source),
            line: location.line,
            column: Some(location.column),
        }
    }
}

/// A displayable position; leaves out what is unknown.
pub struct FileLine<'a> {
    path: &'a str,
    line: u32,
    column: Option<u32>,
}

impl fmt::Display for FileLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path)?;
        if self.line != 0 {
            write!(f, ":{}", self.line)?;
            if let Some(column) = self.column.filter(|&column| column != 0) {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}
