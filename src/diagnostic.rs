//! Problems with the input: what went wrong, where, and how to fix it.
//!
//! Loading and resolving collect every problem of a run instead of stopping at the first,
//! so a user fixes them all in one pass. Each prints as `FILE:LINE:COLUMN: error: ...`
//! with an optional `help:` line.

use std::fmt;

/// What is wrong. Messages are one lowercase line with the user's input in backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("path `{path}` does not exist")]
    PathNotFound { path: String },
    #[error("no policy files (`*.yaml`, `*.yml`, `*.json`) found under `{path}`")]
    NoPolicyFiles { path: String },
    #[error("cannot read file: {reason}")]
    Unreadable { reason: String },
    #[error("file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("file is not valid UTF-8")]
    NotUtf8,
    #[error("{message}")]
    Syntax { message: String },
    #[error("input exceeds a parser limit: {message}")]
    Budget { message: String },
    #[error("unknown key `{key}`")]
    UnknownKey { key: String },
    #[error("missing required key `{key}`")]
    MissingKey { key: String },
    #[error("duplicate key `{key}`")]
    DuplicateKey { key: String },
    #[error("unsupported version `{found}`")]
    Version { found: String },
    #[error("invalid {what} name `{name}`: use letters, digits, `.`, `_` and `-`")]
    InvalidName { what: &'static str, name: String },
    #[error("`{name}` is a reserved name")]
    ReservedName { name: String },
    #[error("duplicate {what} name `{name}`, first defined at {first}")]
    DuplicateName {
        what: &'static str,
        name: String,
        first: String,
    },
    #[error("unknown {what} `{name}`")]
    UnknownName { what: &'static str, name: String },
    #[error("{child_kind} `{child}` cannot sit in {parent_kind} `{parent}`")]
    ParentKind {
        child: String,
        child_kind: &'static str,
        parent: String,
        parent_kind: &'static str,
    },
    #[error("containment cycle: {chain}")]
    Cycle { chain: String },
    #[error("invalid address or prefix `{text}`")]
    BadCidr { text: String },
    #[error("invalid port `{text}`")]
    BadPort { text: String },
    #[error("invalid date `{text}`")]
    BadDate { text: String },
    #[error("invalid {field} `{value}`")]
    BadValue { field: &'static str, value: String },
    #[error("invariant `{name}` has no kind")]
    NoInvariantKind { name: String },
    #[error("invariant `{name}` has more than one kind: {kinds}")]
    ManyInvariantKinds { name: String, kinds: String },
    #[error("`{first}` and `{second}` overlap on `{entity}`")]
    Overlap {
        first: &'static str,
        second: &'static str,
        entity: String,
    },
    #[error("selector `{selector}` matches nothing")]
    EmptySelector { selector: String },
    #[error("empty selector list")]
    NoSelector,
    #[error("invalid policy document in `{key}` of `{address}`: {reason}")]
    BadPolicyDocument {
        address: String,
        key: String,
        reason: String,
    },
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it, or the path that was given when there is no file.
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
    /// Boxed so that a `Result` carrying a diagnostic stays small on the happy path.
    pub problem: Box<Problem>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, line: u32, column: u32, problem: Problem) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            problem: Box::new(problem),
            help: None,
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// The `FILE:LINE:COLUMN` prefix, leaving out what is unknown.
    pub fn position(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.clone(),
            (line, 0) => format!("{}:{line}", self.file),
            (line, column) => format!("{}:{line}:{column}", self.file),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.position(), self.problem)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Orders diagnostics by file and position, so that output never depends on the order in
/// which they were found.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.file.as_str(), a.line, a.column, a.problem.to_string()).cmp(&(
            b.file.as_str(),
            b.line,
            b.column,
            b.problem.to_string(),
        ))
    });
}
