//! JSON output, in the shapes SPEC section 3 fixes. The structs here mirror the contract
//! field by field, in order, and exist only to be serialized.

use serde::Serialize;

use crate::report::{
    Acquisition, CheckReport, ConnectionsReport, DiffReport, Direction, Hop, MatrixReport,
    Obtained, PathReport, Picture, ReachReport,
};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "cordon",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct Input<'a> {
    path: &'a str,
    sha256: &'a str,
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    passed: usize,
    failed: usize,
    waived: usize,
}

#[derive(Serialize)]
struct JsonHop<'a> {
    from: &'a str,
    to: &'a str,
    flow: &'a str,
    credential: Option<&'a str>,
    location: &'a str,
    /// Where the credential was obtained: an entity, or `null` when it leaked. Present
    /// only on hops that use a credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_from: Option<Option<&'a str>>,
    ports: &'a [String],
    owner: Option<&'a str>,
    ticket: Option<&'a str>,
}

/// How the attacker obtains a credential the witness uses: the path to a holder.
#[derive(Serialize)]
struct JsonAcquisition<'a> {
    credential: &'a str,
    holder: &'a str,
    path: Vec<JsonHop<'a>>,
}

#[derive(Serialize)]
struct Exception<'a> {
    owner: &'a str,
    reason: &'a str,
    expires: String,
    days_left: i64,
    location: &'a str,
    /// The pinned route as written; `[]` when the exception waives any witness.
    path: &'a [String],
    state: &'a str,
}

#[derive(Serialize)]
struct Result<'a> {
    invariant: &'a str,
    kind: &'a str,
    severity: &'a str,
    status: &'a str,
    message: &'a str,
    witness: Vec<JsonHop<'a>>,
    acquisitions: Vec<JsonAcquisition<'a>>,
    /// The first of `waivers`, as before several exceptions could waive together.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<Exception<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    waivers: Vec<Exception<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    expired_exceptions: Vec<Exception<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unused_exceptions: Vec<Exception<'a>>,
}

/// What the exit code follows: failures at or above `fail_on` fail the run.
#[derive(Serialize)]
struct Gate {
    fail_on: &'static str,
    /// Failures that fail the run; the others are below `fail_on`.
    blocking: usize,
    /// `fail` exactly when the exit code is 1.
    verdict: &'static str,
}

#[derive(Serialize)]
struct Check<'a> {
    tool: Tool,
    inputs: Vec<Input<'a>>,
    summary: Summary,
    gate: Gate,
    results: Vec<Result<'a>>,
}

fn hops(witness: &[Hop]) -> Vec<JsonHop<'_>> {
    witness
        .iter()
        .map(|hop| JsonHop {
            from: &hop.from,
            to: &hop.to,
            flow: &hop.flow,
            credential: hop.credential.as_deref(),
            location: &hop.location,
            credential_from: hop.obtained.as_ref().map(|obtained| match obtained {
                Obtained::Leaked => None,
                Obtained::From(entity) => Some(entity.as_str()),
            }),
            ports: &hop.ports,
            owner: hop.owner.as_deref(),
            ticket: hop.ticket.as_deref(),
        })
        .collect()
}

fn acquisitions(story: &[Acquisition]) -> Vec<JsonAcquisition<'_>> {
    story
        .iter()
        .map(|acquisition| JsonAcquisition {
            credential: &acquisition.credential,
            holder: &acquisition.holder,
            path: hops(&acquisition.path),
        })
        .collect()
}

/// An exception in a list of all of them: its invariant, and why it waives nothing when
/// it is unused.
#[derive(Serialize)]
struct Listed<'a> {
    invariant: &'a str,
    #[serde(flatten)]
    exception: Exception<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unused_because: Option<&'static str>,
}

fn listed(exceptions: &[(String, crate::report::ExceptionNote)]) -> Vec<Listed<'_>> {
    exceptions
        .iter()
        .map(|(invariant, note)| Listed {
            invariant,
            exception: exception(note),
            unused_because: match note.state {
                crate::report::ExceptionState::Unused(why) => Some(why.reason()),
                _ => None,
            },
        })
        .collect()
}

/// `check --list-exceptions --format json`: every exception in input order, with its
/// state.
pub fn exceptions(exceptions: &[(String, crate::report::ExceptionNote)]) -> String {
    to_string(&serde_json::json!({ "exceptions": listed(exceptions) }))
}

fn exception(note: &crate::report::ExceptionNote) -> Exception<'_> {
    Exception {
        owner: &note.owner,
        reason: &note.reason,
        expires: note.expires.to_string(),
        days_left: note.days_left,
        location: &note.location,
        path: &note.path,
        state: note.state.as_str(),
    }
}

pub fn check(report: &CheckReport) -> String {
    let summary = report.summary();
    let document = Check {
        tool: TOOL,
        inputs: report
            .inputs
            .iter()
            .map(|input| Input {
                path: &input.path,
                sha256: &input.sha256,
            })
            .collect(),
        summary: Summary {
            total: summary.total,
            passed: summary.passed,
            failed: summary.failed,
            waived: summary.waived,
        },
        gate: Gate {
            fail_on: report.fail_on.as_str(),
            blocking: report.blocking(),
            verdict: if report.blocking() > 0 {
                "fail"
            } else {
                "pass"
            },
        },
        results: report
            .results
            .iter()
            .map(|result| Result {
                invariant: &result.name,
                kind: result.kind,
                severity: result.severity.as_str(),
                status: result.status.as_str(),
                message: &result.message,
                witness: hops(&result.witness),
                acquisitions: acquisitions(&result.acquisitions),
                waiver: result.waivers.first().map(exception),
                waivers: result.waivers.iter().map(exception).collect(),
                expired_exceptions: result.expired.iter().map(exception).collect(),
                unused_exceptions: result.unused.iter().map(exception).collect(),
            })
            .collect(),
    };
    to_string(&document)
}

#[derive(Serialize)]
struct Query<'a> {
    from: &'a [String],
    to: &'a [String],
    ports: &'a [String],
    /// `--leaked`: left out when empty, so that a query without it keeps its shape.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    leaked: &'a [String],
}

#[derive(Serialize)]
struct Reached<'a> {
    entity: &'a str,
    kind: &'a str,
    hops: u32,
}

#[derive(Serialize)]
struct Group<'a> {
    entity: &'a str,
    leaves: usize,
    hops: u32,
}

#[derive(Serialize)]
struct ByLevel<'a> {
    level: &'a str,
    total: usize,
    groups: Vec<Group<'a>>,
}

#[derive(Serialize)]
struct Reach<'a> {
    query: Query<'a>,
    reachable: Vec<Reached<'a>>,
    /// With `--level`: the reached leaves counted by the entity they sit in.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_level: Option<ByLevel<'a>>,
}

pub fn reach(report: &ReachReport) -> String {
    let (from, to): (&[String], &[String]) = match report.direction {
        Direction::From => (&report.selectors, &[]),
        Direction::To => (&[], &report.selectors),
    };
    let document = Reach {
        query: Query {
            from,
            to,
            ports: &report.ports,
            leaked: &report.leaked,
        },
        reachable: report
            .reachable
            .iter()
            .map(|reached| Reached {
                entity: &reached.entity,
                kind: reached.kind,
                hops: reached.hops,
            })
            .collect(),
        by_level: report.by_level.as_ref().map(|summary| ByLevel {
            level: summary.level,
            total: summary.total,
            groups: summary
                .groups
                .iter()
                .map(|group| Group {
                    entity: &group.entity,
                    leaves: group.leaves,
                    hops: group.hops,
                })
                .collect(),
        }),
    };
    to_string(&document)
}

#[derive(Serialize)]
struct Cut<'a> {
    flows: Vec<&'a str>,
    /// Whether no smaller set isolates; when false, `flows` is an upper bound.
    exact: bool,
    lower_bound: usize,
}

#[derive(Serialize)]
struct Path<'a> {
    query: Query<'a>,
    paths: Vec<Vec<JsonHop<'a>>>,
    /// Per path, in the same order, how its credentials are obtained.
    acquisitions: Vec<Vec<JsonAcquisition<'a>>>,
    cut: Cut<'a>,
    /// Credentials whose revocation alone would isolate the ends.
    revocations: &'a [String],
}

pub fn path(report: &PathReport) -> String {
    let document = Path {
        query: Query {
            from: &report.from,
            to: &report.to,
            ports: &report.ports,
            leaked: &report.leaked,
        },
        paths: report.paths.iter().map(|path| hops(path)).collect(),
        acquisitions: report
            .acquisitions
            .iter()
            .map(|story| acquisitions(story))
            .collect(),
        cut: Cut {
            flows: report.cut.iter().map(|flow| flow.flow.as_str()).collect(),
            exact: report.cut_exact,
            lower_bound: report.cut_lower_bound,
        },
        revocations: &report.revocations,
    };
    to_string(&document)
}

#[derive(Serialize)]
struct Cell<'a> {
    from: &'a str,
    to: &'a str,
    hops: u32,
}

#[derive(Serialize)]
struct Matrix<'a> {
    level: &'a str,
    entities: &'a [String],
    cells: Vec<Cell<'a>>,
    internet: InternetPairs<'a>,
}

#[derive(Serialize)]
struct Exposed<'a> {
    to: &'a str,
    hops: u32,
}

#[derive(Serialize)]
struct Egress<'a> {
    from: &'a str,
    hops: u32,
}

/// `internet`'s row and column, apart from the contract's `entities` and `cells`.
#[derive(Serialize)]
struct InternetPairs<'a> {
    reaches: Vec<Exposed<'a>>,
    reached_by: Vec<Egress<'a>>,
}

pub fn matrix(report: &MatrixReport) -> String {
    let document = Matrix {
        level: report.level,
        entities: &report.entities,
        cells: report
            .cells
            .iter()
            .map(|cell| Cell {
                from: &report.entities[cell.from],
                to: &report.entities[cell.to],
                hops: cell.hops,
            })
            .collect(),
        internet: InternetPairs {
            reaches: report
                .internet
                .reaches
                .iter()
                .map(|cell| Exposed {
                    to: &report.entities[cell.entity],
                    hops: cell.hops,
                })
                .collect(),
            reached_by: report
                .internet
                .reached_by
                .iter()
                .map(|cell| Egress {
                    from: &report.entities[cell.entity],
                    hops: cell.hops,
                })
                .collect(),
        },
    };
    to_string(&document)
}

#[derive(Serialize)]
struct PicNode<'a> {
    name: &'a str,
    kind: &'a str,
    parent: Option<&'a str>,
}

#[derive(Serialize)]
struct PicEdge<'a> {
    from: &'a str,
    to: &'a str,
    flows: &'a [String],
    ports: &'a [String],
    credentials: &'a [String],
    highlighted: bool,
}

#[derive(Serialize)]
struct Pic<'a> {
    level: Option<&'a str>,
    entities: Vec<PicNode<'a>>,
    edges: Vec<PicEdge<'a>>,
}

pub fn picture(picture: &Picture) -> String {
    let document = Pic {
        level: picture.level,
        entities: picture
            .nodes
            .iter()
            .map(|node| PicNode {
                name: &node.name,
                kind: node.kind,
                parent: node.parent.as_deref(),
            })
            .collect(),
        edges: picture
            .edges
            .iter()
            .map(|edge| PicEdge {
                from: &edge.from,
                to: &edge.to,
                flows: &edge.flows,
                ports: &edge.ports,
                credentials: &edge.credentials,
                highlighted: edge.highlighted,
            })
            .collect(),
    };
    to_string(&document)
}

#[derive(Serialize)]
struct Verdict<'a> {
    invariant: &'a str,
    change: &'a str,
    before: Option<&'a str>,
    after: &'a str,
    severity: &'a str,
    message: &'a str,
    witness: Vec<JsonHop<'a>>,
    acquisitions: Vec<JsonAcquisition<'a>>,
    /// For `fails wider`: the target leaves reached now and not before.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    wider: &'a [String],
    /// For `newly waived` and `waiver changed`: the exceptions that waive it now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    waivers: Vec<Exception<'a>>,
}

#[derive(Serialize)]
struct Pair<'a> {
    from: &'a str,
    to: &'a str,
    hops: u32,
    witness: Vec<JsonHop<'a>>,
    acquisitions: Vec<JsonAcquisition<'a>>,
}

#[derive(Serialize)]
struct ModelChange<'a> {
    change: &'a str,
    what: &'a str,
    name: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    location: &'a str,
    /// For an invariant: `strengthens`, `weakens` or `redefines`; the last two fail the
    /// run.
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'static str>,
}

#[derive(Serialize)]
struct Diff<'a> {
    level: &'a str,
    /// `fail` exactly when the exit code is 1: a regression, a change that loosens the
    /// gate, or a new pair under `--deny-new-paths`.
    verdict: &'static str,
    regressions: usize,
    /// Invariants removed, weakened or redefined: each fails the run.
    invariants_weakened: usize,
    /// Invariants newly waived, or waived by a new or wider exception: each fails the
    /// run.
    newly_waived: usize,
    /// Newly reachable pairs that fail the run under `--deny-new-paths`.
    denied_pairs: usize,
    invariants: Vec<Verdict<'a>>,
    opened: Vec<Pair<'a>>,
    closed: Vec<Pair<'a>>,
    changes: Vec<ModelChange<'a>>,
}

fn pair(pair: &crate::report::PairChange) -> Pair<'_> {
    Pair {
        from: &pair.from,
        to: &pair.to,
        hops: pair.hops,
        witness: hops(&pair.witness),
        acquisitions: acquisitions(&pair.acquisitions),
    }
}

pub fn diff(report: &DiffReport) -> String {
    let document = Diff {
        level: report.level,
        verdict: if report.fails() { "fail" } else { "pass" },
        regressions: report.regressions(),
        invariants_weakened: report.gate_changes().invariants(),
        newly_waived: report.gate_changes().waived(),
        denied_pairs: report.denied_pairs(),
        invariants: report
            .verdicts
            .iter()
            .map(|v| Verdict {
                invariant: &v.invariant,
                change: v.kind,
                before: v.before,
                after: v.after,
                severity: v.severity.as_str(),
                message: &v.message,
                witness: hops(&v.witness),
                acquisitions: acquisitions(&v.acquisitions),
                wider: &v.wider,
                waivers: v.waivers.iter().map(exception).collect(),
            })
            .collect(),
        opened: report.opened.iter().map(pair).collect(),
        closed: report.closed.iter().map(pair).collect(),
        changes: report
            .changes
            .iter()
            .map(|c| ModelChange {
                change: c.kind.as_str(),
                what: c.what,
                name: &c.key,
                before: c.before.as_deref(),
                after: c.after.as_deref(),
                location: &c.location,
                effect: c.effect.map(crate::report::Effect::as_str),
            })
            .collect(),
    };
    to_string(&document)
}

#[derive(Serialize)]
struct ConnectionFlow<'a> {
    name: &'a str,
    ports: &'a [String],
    auth: &'a [String],
    location: &'a str,
}

#[derive(Serialize)]
struct Connection<'a> {
    from: &'a str,
    to: &'a str,
    ports: &'a [String],
    flows: Vec<ConnectionFlow<'a>>,
}

#[derive(Serialize)]
struct Connections<'a> {
    connections: Vec<Connection<'a>>,
}

pub fn connections(report: &ConnectionsReport) -> String {
    let document = Connections {
        connections: report
            .connections
            .iter()
            .map(|connection| Connection {
                from: &connection.from,
                to: &connection.to,
                ports: &connection.ports,
                flows: connection
                    .flows
                    .iter()
                    .map(|flow| ConnectionFlow {
                        name: &flow.name,
                        ports: &flow.ports,
                        auth: &flow.auth,
                        location: &flow.location,
                    })
                    .collect(),
            })
            .collect(),
    };
    to_string(&document)
}

fn to_string<T: Serialize>(document: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}

/// The audit report: the `check` JSON, with the matrix, inventory and coverage beside it.
pub fn evidence(evidence: &crate::evidence::Evidence) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&check(&evidence.check)).unwrap_or_default();
    let matrix: serde_json::Value =
        serde_json::from_str(&matrix(&evidence.matrix)).unwrap_or_default();
    let inventory = &evidence.inventory;
    let coverage = &evidence.coverage;
    // What report.html shows beside each verdict: the invariant's description and the
    // controls it references. Every exception with its owner is set below.
    if let Some(results) = value["results"].as_array_mut() {
        for (result, invariant) in results.iter_mut().zip(&evidence.check.results) {
            result["description"] = serde_json::json!(invariant.description);
            result["references"] = serde_json::json!(invariant.references);
        }
    }
    value["title"] = serde_json::json!(evidence.title);
    value["today"] = serde_json::json!(evidence.today.to_string());
    value["inputs_digest"] = serde_json::json!(evidence.inputs_digest);
    value["matrix"] = matrix;
    value["exceptions"] = serde_json::json!(listed(&evidence.check.exceptions));
    value["inventory"] = serde_json::json!({
        "environments": inventory.environments,
        "accounts": inventory.accounts,
        "segments": inventory.segments,
        "assets": inventory.assets,
        "flows": inventory.flows,
        "credentials": inventory.credentials,
        "leaked": inventory.leaked,
        "revoked": inventory.revoked,
    });
    value["coverage"] = serde_json::json!({
        "unmentioned": coverage.unmentioned,
        "unconstrained_pairs": coverage.unconstrained_pairs,
        "account_pairs": coverage.account_pairs,
    });
    to_string(&value)
}
