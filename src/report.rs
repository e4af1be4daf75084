//! What checks and queries find, in the form renderers read. Everything a renderer shows
//! is computed here or before; renderers only format it.

use crate::date::Date;
use crate::engine::{Holding, Step};
use crate::location::Source;
use crate::model::{Model, Severity};
use crate::story::Acquired;

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
    /// The ports the flow allows, as the policy writes them.
    pub ports: Vec<String>,
    /// The flow's owner and ticket, where the policy gives them.
    pub owner: Option<String>,
    pub ticket: Option<String>,
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
                ports: model
                    .flow(step.flow)
                    .ports()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                owner: model.flow(step.flow).owner().map(str::to_owned),
                ticket: model.flow(step.flow).ticket().map(str::to_owned),
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

/// How the attacker acquires a credential that a witness (or an earlier acquisition)
/// uses: the path from what it controls by then to a holder. An empty path means that an
/// earlier path of the story reached the holder already.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acquisition {
    pub credential: String,
    pub holder: String,
    pub path: Vec<Hop>,
}

impl Acquisition {
    pub fn from_story(model: &Model, story: &[Acquired]) -> Vec<Acquisition> {
        story
            .iter()
            .map(|acquired| Acquisition {
                credential: model.credential(acquired.credential).name.clone(),
                holder: model.entity(acquired.holder).name.clone(),
                path: Hop::from_steps(model, &acquired.path),
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
    /// The pinned route as written: entity names, with `flow:NAME` between two of them
    /// where a hop is pinned to a flow; empty when any witness is waived.
    pub path: Vec<String>,
    pub state: ExceptionState,
}

/// What an exception does in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionState {
    /// In force, and the invariant fails along what it waives.
    Active,
    /// In force, but waiving nothing.
    Unused(Unused),
    /// Past its date: it waives nothing.
    Expired,
}

/// Why an exception in force waives nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unused {
    /// The invariant holds without it.
    InvariantHolds,
    /// The attacker cannot take the pinned route to the target.
    RouteNotTaken,
}

impl ExceptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Active => "active",
            ExceptionState::Unused(_) => "unused",
            ExceptionState::Expired => "expired",
        }
    }
}

impl Unused {
    /// Why, as one lowercase clause.
    pub fn reason(self) -> &'static str {
        match self {
            Unused::InvariantHolds => "the invariant holds without it",
            Unused::RouteNotTaken => "no path of the attacker follows its pinned route",
        }
    }
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
    /// How the attacker obtains the witness's credentials, in the order to replay them.
    pub acquisitions: Vec<Acquisition>,
    /// The exceptions that together waive a failure: one that pins no route, or
    /// pinned routes that cover every way in.
    pub waivers: Vec<ExceptionNote>,
    /// Exceptions for this invariant that have expired, and so waived nothing.
    pub expired: Vec<ExceptionNote>,
    /// Exceptions for this invariant in force that waive nothing.
    pub unused: Vec<ExceptionNote>,
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
    /// `--fail-on`: failures of this severity or worse fail the run; lesser ones are
    /// reported and do not. `Low` (every failure counts) unless the command says.
    pub fail_on: Severity,
    /// Every exception in input order, with its invariant's name and its state.
    pub exceptions: Vec<(String, ExceptionNote)>,
    /// What in the policies is valid but probably not what was meant, sorted by
    /// position: the CI formats annotate it beside the results.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
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

    /// Whether `result` fails the run: a failure at or above `--fail-on`.
    pub fn blocks(&self, result: &InvariantResult) -> bool {
        result.status == Status::Fail && result.severity >= self.fail_on
    }

    /// How many failures fail the run; the exit code is 1 exactly when this is not 0.
    pub fn blocking(&self) -> usize {
        self.results.iter().filter(|r| self.blocks(r)).count()
    }

    /// Failures below `--fail-on`: reported, but the run passes over them.
    pub fn below_threshold(&self) -> usize {
        self.summary().failed - self.blocking()
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
    /// Credentials assumed leaked for this query alone (`--leaked`), sorted.
    pub leaked: Vec<String>,
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
    /// Credentials assumed leaked for this query alone (`--leaked`), sorted.
    pub leaked: Vec<String>,
    pub paths: Vec<Vec<Hop>>,
    /// Per path, in the same order, the acquisitions of its credentials.
    pub acquisitions: Vec<Vec<Acquisition>>,
    /// A smallest set of flows whose removal isolates the ends, or, when `cut_exact` is
    /// false, the smallest the search found before its budget ran out.
    pub cut: Vec<CutFlow>,
    pub cut_exact: bool,
    /// The fewest flows any isolating set has, as far as the search proved.
    pub cut_lower_bound: usize,
    /// Credentials whose revocation alone would isolate the ends.
    pub revocations: Vec<String>,
}

impl PathReport {
    /// Every hop of every acquisition, for formats that draw them beside the paths.
    pub fn story_hops(&self) -> impl Iterator<Item = &Hop> {
        self.acquisitions
            .iter()
            .flatten()
            .flat_map(|acquisition| &acquisition.path)
    }
}

/// One reachable pair of a matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixCell {
    /// Index into `MatrixReport::entities`.
    pub from: usize,
    pub to: usize,
    pub hops: u32,
    /// The shortest path, when asked for, and how its credentials are obtained.
    pub witness: Vec<Hop>,
    pub acquisitions: Vec<Acquisition>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixReport {
    pub level: &'static str,
    /// Sorted by name; entities of the level only.
    pub entities: Vec<String>,
    /// Sorted by row, then column; pairs of `entities` only.
    pub cells: Vec<MatrixCell>,
    /// The pairs with `internet`, which belongs to no level, kept apart from `cells`
    /// so that the JSON contract's `entities` and `cells` stay those of the level.
    pub internet: InternetPairs,
}

/// A pair of `internet` and one entity of a matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternetCell {
    /// Index into `MatrixReport::entities`.
    pub entity: usize,
    pub hops: u32,
    /// The shortest path, when asked for, and how its credentials are obtained.
    pub witness: Vec<Hop>,
    pub acquisitions: Vec<Acquisition>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InternetPairs {
    /// Entities that an attacker on the internet reaches: exposure. By entity.
    pub reaches: Vec<InternetCell>,
    /// Entities that, controlled, reach the internet. By entity.
    pub reached_by: Vec<InternetCell>,
}

impl MatrixReport {
    /// The matrix with `internet` as its first row and column, as the grids draw it.
    pub fn with_internet(&self) -> MatrixReport {
        let mut entities = vec![crate::model::INTERNET.to_owned()];
        entities.extend(self.entities.iter().cloned());
        let shifted =
            |from: usize, to: usize, hops: u32, witness: &[Hop], story: &[Acquisition]| {
                MatrixCell {
                    from,
                    to,
                    hops,
                    witness: witness.to_vec(),
                    acquisitions: story.to_vec(),
                }
            };
        let internet = &self.internet;
        let mut cells: Vec<MatrixCell> = internet
            .reaches
            .iter()
            .map(|c| shifted(0, c.entity + 1, c.hops, &c.witness, &c.acquisitions))
            .chain(
                internet
                    .reached_by
                    .iter()
                    .map(|c| shifted(c.entity + 1, 0, c.hops, &c.witness, &c.acquisitions)),
            )
            .chain(
                self.cells
                    .iter()
                    .map(|c| shifted(c.from + 1, c.to + 1, c.hops, &c.witness, &c.acquisitions)),
            )
            .collect();
        cells.sort_by_key(|cell| (cell.from, cell.to));
        MatrixReport {
            level: self.level,
            entities,
            cells,
            internet: InternetPairs::default(),
        }
    }
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
    /// `regression`, `fails wider` (failing in both, and reaching target leaves it did
    /// not reach before), `newly waived` (passing or failing before, waived now),
    /// `waiver changed` (waived in both, now by an exception that is new, lasts longer
    /// or pins another route), `improvement` or `unchanged` (failing in both, no wider).
    pub kind: &'static str,
    /// `None` when the invariant is new.
    pub before: Option<&'static str>,
    pub after: &'static str,
    pub severity: Severity,
    pub message: String,
    pub witness: Vec<Hop>,
    pub acquisitions: Vec<Acquisition>,
    /// For `fails wider`, the target leaves reached now and not before, by name.
    pub wider: Vec<String>,
    /// For `newly waived` and `waiver changed`, the exceptions that waive it now.
    pub waivers: Vec<ExceptionNote>,
}

impl VerdictChange {
    /// Whether this verdict fails the run: it fails newly or wider.
    pub fn regresses(&self) -> bool {
        matches!(self.kind, "regression" | "fails wider")
    }

    /// Whether an exception hides this verdict that did not before, or not so: the
    /// change loosens the gate, and the run fails.
    pub fn newly_waived(&self) -> bool {
        matches!(self.kind, "newly waived" | "waiver changed")
    }
}

/// A pair of entities that became reachable, or stopped being.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairChange {
    pub from: String,
    pub to: String,
    pub hops: u32,
    /// For a newly reachable pair, the path in the new model, and how its credentials
    /// are obtained.
    pub witness: Vec<Hop>,
    pub acquisitions: Vec<Acquisition>,
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

/// What a change to an invariant does to the gate. Ordered from the mildest, so that
/// the effect of a change to several of its terms is the greatest of theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// It asks more: added, a raised severity, wider `ports` on a `forbid`, `direct`
    /// dropped from a `forbid`, and the reverse for a `require`.
    Strengthens,
    /// It asks less in some term: removed, a lowered severity, narrower `ports` on a
    /// `forbid`, `direct` added to a `forbid`, and the reverse for a `require`.
    Weakens,
    /// Its meaning changed in a way that is neither surely stricter nor surely looser:
    /// its kind, its ends or `via`, or `ports` neither wider nor narrower.
    Redefines,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Strengthens => "strengthens",
            Effect::Weakens => "weakens",
            Effect::Redefines => "redefines",
        }
    }

    /// Whether the change loosens the gate, or may: the run fails until it is
    /// reviewed.
    pub fn fails(self) -> bool {
        self != Effect::Strengthens
    }
}

/// An invariant, exception, flow, credential or entity added, removed or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `invariant`, `exception`, `flow`, `credential` or `entity`.
    pub what: &'static str,
    /// The name; for an exception, its invariant's.
    pub key: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Where it is in the new model, or in the old one when removed.
    pub location: String,
    /// For an invariant, what the change does to the gate.
    pub effect: Option<Effect>,
}

/// The changes to the gate itself that fail a diff, counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateChanges {
    pub removed: usize,
    pub weakened: usize,
    pub redefined: usize,
    pub newly_waived: usize,
    pub waivers_changed: usize,
}

impl GateChanges {
    /// Invariants removed, weakened or redefined.
    pub fn invariants(&self) -> usize {
        self.removed + self.weakened + self.redefined
    }

    /// Verdicts an exception hides that it did not before, or not so.
    pub fn waived(&self) -> usize {
        self.newly_waived + self.waivers_changed
    }

    pub fn total(&self) -> usize {
        self.invariants() + self.waived()
    }
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
    /// `--deny-new-paths`: any newly reachable pair fails the run.
    pub deny_new_paths: bool,
}

impl DiffReport {
    /// Invariants newly failing, or failing wider: each fails the run.
    pub fn regressions(&self) -> usize {
        self.verdicts.iter().filter(|v| v.regresses()).count()
    }

    /// Changes that loosen the gate itself, each of which fails the run: without them,
    /// a change could remove or waive the invariant it breaks and pass.
    pub fn gate_changes(&self) -> GateChanges {
        let mut counts = GateChanges::default();
        for change in self.changes.iter().filter(|c| c.what == "invariant") {
            match (change.kind, change.effect) {
                (ChangeKind::Removed, _) => counts.removed += 1,
                (ChangeKind::Changed, Some(Effect::Weakens)) => counts.weakened += 1,
                (ChangeKind::Changed, Some(Effect::Redefines)) => counts.redefined += 1,
                _ => {}
            }
        }
        for verdict in &self.verdicts {
            match verdict.kind {
                "newly waived" => counts.newly_waived += 1,
                "waiver changed" => counts.waivers_changed += 1,
                _ => {}
            }
        }
        counts
    }

    /// Whether the run fails: a regression, a change that loosens the gate, or with
    /// `--deny-new-paths` a new pair. The exit code is 1 exactly when this holds.
    pub fn fails(&self) -> bool {
        self.regressions() > 0 || self.gate_changes().total() > 0 || self.denied_pairs() > 0
    }

    /// Newly reachable pairs that fail the run under `--deny-new-paths`.
    pub fn denied_pairs(&self) -> usize {
        if self.deny_new_paths {
            self.opened.len()
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(from: usize, to: usize, hops: u32) -> MatrixCell {
        MatrixCell {
            from,
            to,
            hops,
            witness: Vec::new(),
            acquisitions: Vec::new(),
        }
    }

    fn internet_cell(entity: usize, hops: u32) -> InternetCell {
        InternetCell {
            entity,
            hops,
            witness: Vec::new(),
            acquisitions: Vec::new(),
        }
    }

    #[test]
    fn internet_is_the_first_row_and_column_of_the_grid() {
        let report = MatrixReport {
            level: "account",
            entities: vec!["a".into(), "b".into()],
            cells: vec![cell(0, 1, 2)],
            internet: InternetPairs {
                reaches: vec![internet_cell(1, 1)],
                reached_by: vec![internet_cell(0, 3)],
            },
        };
        let grid = report.with_internet();
        assert_eq!(grid.entities, ["internet", "a", "b"]);
        let cells: Vec<(usize, usize, u32)> =
            grid.cells.iter().map(|c| (c.from, c.to, c.hops)).collect();
        assert_eq!(cells, [(0, 2, 1), (1, 0, 3), (1, 2, 2)]);
        assert_eq!(grid.internet, InternetPairs::default());
    }
}

/// One flow between the two leaves of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionFlow {
    /// The flow's name, or `FILE:LINE`.
    pub name: String,
    pub ports: Vec<String>,
    /// The credentials that open it; empty when it is open.
    pub auth: Vec<String>,
    pub location: String,
}

/// An ordered pair of leaves that at least one flow connects directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub from: String,
    pub to: String,
    /// The union of the flows' ports.
    pub ports: Vec<String>,
    pub flows: Vec<ConnectionFlow>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionsReport {
    /// Sorted by source, then target.
    pub connections: Vec<Connection>,
}
