//! What checks and queries find, in the form renderers read. Everything a renderer shows
//! is computed here or before; renderers only format it.

use crate::date::Date;
use crate::engine::{Holding, Step};
use crate::location::Source;
use crate::model::{Model, Severity};

/// One hop of a witness: one flow, from the leaf that opens the connection to the leaf
/// that receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// The flow's name, or `FILE:LINE` when it has none.
    pub flow: String,
    /// `FILE:LINE` of the flow.
    pub location: String,
    /// The file and line of the flow, apart, for formats that want them so.
    pub file: String,
    pub line: u32,
    pub credential: Option<String>,
    pub obtained: Option<Obtained>,
}

/// Where the attacker got the credential of a hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obtained {
    Leaked,
    From(String),
}

impl Hop {
    pub fn from_steps(model: &Model, steps: &[Step]) -> Vec<Hop> {
        steps
            .iter()
            .map(|step| Hop {
                from: model.entity(step.from).name.clone(),
                to: model.entity(step.to).name.clone(),
                flow: model.flow_label(step.flow),
                location: model
                    .sources
                    .file_line(model.flow(step.flow).location)
                    .to_string(),
                file: model
                    .sources
                    .path(model.flow(step.flow).location.source)
                    .to_owned(),
                line: model.flow(step.flow).location.line,
                credential: step
                    .credential
                    .map(|(id, _)| model.credential(id).name.clone()),
                obtained: step.credential.map(|(_, holding)| match holding {
                    Holding::Leaked => Obtained::Leaked,
                    Holding::From { entity, .. } => {
                        Obtained::From(model.entity(entity).name.clone())
                    }
                }),
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Waived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Waived => "waived",
        }
    }
}

/// An exception as a result shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionNote {
    pub owner: String,
    pub reason: String,
    pub expires: Date,
    /// Negative once expired.
    pub days_left: i64,
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantResult {
    pub name: String,
    /// Where the invariant is defined, apart, for formats that want them so.
    pub file: String,
    pub line: u32,
    pub kind: &'static str,
    pub severity: Severity,
    pub description: Option<String>,
    pub references: Vec<String>,
    pub location: String,
    pub status: Status,
    pub message: String,
    pub witness: Vec<Hop>,
    /// The exception that waived a failure.
    pub waiver: Option<ExceptionNote>,
    /// Exceptions for this invariant that have expired, and so waived nothing.
    pub expired: Vec<ExceptionNote>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub waived: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    pub inputs: Vec<Source>,
    pub today: Date,
    pub results: Vec<InvariantResult>,
}

impl CheckReport {
    pub fn summary(&self) -> Summary {
        let count = |status| self.results.iter().filter(|r| r.status == status).count();
        Summary {
            total: self.results.len(),
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            waived: count(Status::Waived),
        }
    }
}

/// One leaf that a reach query found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    pub entity: String,
    pub kind: &'static str,
    pub hops: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// What the selection reaches.
    From,
    /// What reaches the selection.
    To,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReachReport {
    pub direction: Direction,
    pub selectors: Vec<String>,
    pub ports: Vec<String>,
    /// Sorted by name.
    pub reachable: Vec<Reached>,
    /// The same answer aggregated at one level, when asked for.
    pub by_level: Option<LevelSummary>,
}

/// Reached leaves counted by the entity of one kind they sit in: the blast radius.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelSummary {
    pub level: &'static str,
    /// How many entities of the kind the model has.
    pub total: usize,
    /// Sorted by name; leaves in no entity of the kind are left out.
    pub groups: Vec<LevelGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelGroup {
    pub entity: String,
    pub leaves: usize,
    /// The fewest flows to any of those leaves.
    pub hops: u32,
}

/// A flow in a cut, with what it takes to cross it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutFlow {
    /// The flow's name, or `FILE:LINE`.
    pub flow: String,
    pub location: String,
    pub from: String,
    pub to: String,
    /// Credentials that open it, each with whether it has leaked.
    pub credentials: Vec<(String, bool)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathReport {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub ports: Vec<String>,
    pub paths: Vec<Vec<Hop>>,
    pub cut: Vec<CutFlow>,
    /// Credentials whose revocation alone would isolate the ends.
    pub revocations: Vec<String>,
}

/// One reachable pair of a matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixCell {
    /// Index into `MatrixReport::entities`.
    pub from: usize,
    pub to: usize,
    pub hops: u32,
    /// The shortest path, when asked for.
    pub witness: Vec<Hop>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixReport {
    pub level: &'static str,
    /// Sorted by name.
    pub entities: Vec<String>,
    /// Sorted by row, then column.
    pub cells: Vec<MatrixCell>,
}

/// An entity in a picture of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureNode {
    pub name: String,
    pub kind: &'static str,
    /// The container drawn around it, if drawn.
    pub parent: Option<String>,
    /// Whether anything is drawn inside it.
    pub container: bool,
}

/// The flows between two drawn entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureEdge {
    pub from: String,
    pub to: String,
    pub flows: Vec<String>,
    pub ports: Vec<String>,
    pub credentials: Vec<String>,
    /// On the highlighted witness path.
    pub highlighted: bool,
    /// Every flow it stands for needs a credential (drawn dashed).
    pub locked: bool,
    /// No flow it stands for can ever open: each needs credentials that are all revoked
    /// (drawn as closed).
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub level: Option<&'static str>,
    /// Sorted by name.
    pub nodes: Vec<PictureNode>,
    /// Sorted by ends.
    pub edges: Vec<PictureEdge>,
}

/// An invariant whose verdict changed between two models, or that fails in both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictChange {
    pub invariant: String,
    /// `regression`, `improvement` or `unchanged` (failing in both).
    pub kind: &'static str,
    /// `None` when the invariant is new.
    pub before: Option<&'static str>,
    pub after: &'static str,
    pub severity: Severity,
    pub message: String,
    pub witness: Vec<Hop>,
}

/// A pair of entities that became reachable, or stopped being.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairChange {
    pub from: String,
    pub to: String,
    pub hops: u32,
    /// For a newly reachable pair, the path in the new model.
    pub witness: Vec<Hop>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// A flow, credential or entity added, removed or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `flow`, `credential` or `entity`.
    pub what: &'static str,
    pub key: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Where it is in the new model, or in the old one when removed.
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffReport {
    pub level: &'static str,
    /// Worst news first.
    pub verdicts: Vec<VerdictChange>,
    pub opened: Vec<PairChange>,
    pub closed: Vec<PairChange>,
    pub changes: Vec<Change>,
    /// The new model's check, for its summary.
    pub head: CheckReport,
}

impl DiffReport {
    pub fn regressions(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.kind == "regression")
            .count()
    }
}
