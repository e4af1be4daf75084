//! Problems with the input: what went wrong, where, and how to fix it.
//!
//! Loading and resolving collect every problem of a run instead of stopping at the first,
//! so a user fixes them all in one pass. Each prints as `FILE:LINE:COLUMN: error: ...`
//! (or `warning:` for what is valid but probably a mistake) with an optional `help:` line.

use std::fmt;

/// What is wrong. Messages are one lowercase line with the user's input in backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("path `{path}` does not exist")]
    PathNotFound { path: String },
    #[error("import names nothing to read")]
    ImportReadsNothing,
    #[error("import names both `kubernetes` and `terraform`")]
    ImportReadsBoth,
    #[error("`{kind}` import has no `in`")]
    ImportPlacedNowhere { kind: &'static str },
    #[error("`namespace` on a `terraform` import")]
    NamespaceOnPlan,
    #[error("`{name}` is not a namespace's name")]
    NamespaceName { name: String },
    #[error("`{path}` holds no {what}")]
    ImportFindsNothing { path: String, what: &'static str },
    #[error("a raw Terraform state, which cordon does not read")]
    RawTerraformState,
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
    #[error("date `{text}` does not exist")]
    NoSuchDate { text: String },
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
    #[error("pinned path is not a route: no flow goes from `{from}` to `{to}`")]
    NoFlowOnPin { from: String, to: String },
    #[error("pinned path is not a route: flow `{flow}` does not go from `{from}` to `{to}`")]
    PinnedFlowMisses {
        flow: String,
        from: String,
        to: String,
    },
    #[error("pinned flow `{flow}` does not stand between two entities")]
    PinnedFlowPlacement { flow: String },
    #[error("pinned path names one entity, `{named}`; a route needs two or more")]
    ShortPin { named: String },
    #[error("pinned path is not a route of `{invariant}`: `{entity}` is outside its `{end}`")]
    PinOutsideEnd {
        entity: String,
        end: &'static str,
        invariant: String,
    },
    #[error("`ports: []` names no port, so no flow could allow one of them")]
    NoInvariantPorts,
    #[error("exception for `require` invariant `{invariant}` pins a path")]
    PinOnRequire { invariant: String },
    #[error("`{field}` should be {expected}, not {found}")]
    ManifestShape {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unknown apiVersion `{api_version}` for kind `{kind}`")]
    UnknownApiVersion { api_version: String, kind: String },
    #[error("named port `{name}` is on no container in the inputs, so it allows nothing")]
    NamedPortNowhere { name: String },
    #[error("{what} `{name}` is not in the inputs, so this grants nothing")]
    MissingReference { what: &'static str, name: String },
    #[error(
        "{subject} is in namespace `{namespace}`, which no input is in, so this binds no workload"
    )]
    SubjectNamespaceAbsent { subject: String, namespace: String },
    #[error(
        "a Kustomization is not applied: its namespace, name prefixes and patches are not in the model"
    )]
    KustomizationNotApplied,
    #[error("`{workload}` shares its node's network, where NetworkPolicies may not apply")]
    HostNetwork { workload: String },
    #[error(
        "the policies of {workloads} behind {from} admit pods that are not in the inputs but not the ingress controller, so a path from `internet` may be missed"
    )]
    ControllerNotAdmitted { workloads: String, from: String },
    // Warnings: valid input that is probably not what was meant.
    #[error("`ports: []` allows no port, so this flow opens nothing")]
    NoPorts,
    #[error("port `{text}` includes port 0, which no service listens on")]
    PortZero { text: String },
    #[error("{what} `{name}` has the same address `{address}` as `{other}`")]
    SharedAddress {
        what: &'static str,
        name: String,
        address: String,
        other: String,
    },
    #[error("{what} `{name}` has address `{address}` outside the ranges of `{parent}`")]
    OutsideParent {
        what: &'static str,
        name: String,
        address: String,
        parent: String,
    },
    #[error("{what} `{name}` is not mentioned by any flow, credential or invariant")]
    Unmentioned { what: &'static str, name: String },
    #[error("invalid policy document in `{key}` of `{address}`: {reason}")]
    BadPolicyDocument {
        address: String,
        key: String,
        reason: String,
    },
}

impl Problem {
    /// Whether what a file that could not be read declares might undo this problem:
    /// a name it defines, the entities a selector would match among its own, the
    /// flows that would make a pinned path a route. Such problems are left out when
    /// a file could not be read, since they may be that file's problem told again.
    pub fn may_come_of_an_unread_file(&self) -> bool {
        matches!(
            self,
            Problem::UnknownName { .. }
                | Problem::EmptySelector { .. }
                | Problem::NoFlowOnPin { .. }
                | Problem::PinnedFlowMisses { .. }
                | Problem::PinnedFlowPlacement { .. }
                | Problem::PinOutsideEnd { .. }
        )
    }
}

/// Whether a diagnostic stops the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    #[default]
    Error,
    /// Reported, but the run goes on; `--deny-warnings` makes it an error.
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
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
    pub level: Level,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, line: u32, column: u32, problem: Problem) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            problem: Box::new(problem),
            help: None,
            level: Level::Error,
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.level = Level::Warning;
        self
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
        write!(
            f,
            "{}: {}: {}",
            self.position(),
            self.level.as_str(),
            self.problem
        )?;
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
