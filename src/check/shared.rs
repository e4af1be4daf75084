//! Invariants whose starts share a credential fixpoint, answered with one walk: which
//! invariants go together ([`plan`]), and how a group is answered ([`Job::run`]).
//!
//! Without `via`, an attacker controlling a start walks the chains of components its
//! outermost entities lead to, then everything the chains' ends reach
//! ([`Engine::origin`]). The chains hold nothing and gate nothing, so the credentials
//! obtained and the flows opened are those of the ends alone: one walk from the ends
//! serves every invariant whose start has them, a forbid that holds costs a look-up
//! instead of a walk, and an invariant that finds a path only searches its shortest
//! path. Every answer is the one the invariant's own search gives
//! ([`super::check_each_alone`] is the oracle the tests hold this to); an invariant with
//! `via` blocks nodes, and is searched alone.

use crate::date::Date;
use crate::engine::{Engine, Goal, Origin, Step, Workspace};
use crate::model::{InvariantId, Rule};
use crate::story::Rounds;

use super::{Ends, Evaluated, conclude, evaluate, path_of};

/// Work for one parallel job: invariants answered by one walk, or one invariant alone.
pub(super) enum Job {
    Alone(InvariantId),
    /// Invariants in model order, with their starts' origins, all with these fixpoints.
    Shared {
        fixpoints: Vec<u32>,
        members: Vec<(InvariantId, Origin)>,
    },
}

/// How many invariants a job answers at most, for `threads` threads: enough pieces for
/// about four each to share out, since each piece walks once, but no piece so small that
/// it walks for a handful.
pub(super) fn piece(invariants: usize, threads: usize) -> usize {
    invariants.div_ceil(4 * threads.max(1)).max(16)
}

/// The jobs that answer every invariant of `engine`'s model: invariants without `via`
/// grouped by their starts' fixpoints, a group split into pieces of at most `piece`;
/// the rest alone.
pub(super) fn plan(engine: &Engine, piece: usize) -> Vec<Job> {
    let invariants = &engine.model.invariants;
    let mut groups: std::collections::BTreeMap<Vec<u32>, Vec<(InvariantId, Origin)>> =
        std::collections::BTreeMap::new();
    let mut jobs = Vec::new();
    for (index, invariant) in invariants.iter().enumerate() {
        let id = InvariantId(index as u32);
        if matches!(invariant.rule, Rule::Through { .. }) {
            jobs.push(Job::Alone(id));
            continue;
        }
        let origin = engine.origin(&Ends::of(invariant).from.selection);
        groups
            .entry(origin.fixpoints.clone())
            .or_default()
            .push((id, origin));
    }
    for (fixpoints, members) in groups {
        if let [(id, _)] = members.as_slice() {
            jobs.push(Job::Alone(*id));
            continue;
        }
        for chunk in members.chunks(piece.max(1)) {
            jobs.push(Job::Shared {
                fixpoints: fixpoints.clone(),
                members: chunk.to_vec(),
            });
        }
    }
    jobs
}

impl Job {
    /// Answers the job's invariants, each with its index in the model.
    pub(super) fn run(
        &self,
        engine: &Engine,
        workspace: &mut Workspace,
        today: Date,
    ) -> Vec<(usize, Evaluated)> {
        match self {
            Job::Alone(id) => vec![(id.index(), evaluate(engine, workspace, *id, today))],
            Job::Shared { fixpoints, members } => {
                run_shared(engine, workspace, fixpoints, members, today)
            }
        }
    }
}

/// Answers invariants whose starts all have `fixpoints`: one walk, a look-up per
/// invariant, a shortest path for those that reach, then their stories, which share
/// the fixpoint's rounds.
fn run_shared(
    engine: &Engine,
    workspace: &mut Workspace,
    fixpoints: &[u32],
    members: &[(InvariantId, Origin)],
    today: Date,
) -> Vec<(usize, Evaluated)> {
    let invariants = &engine.model.invariants;
    engine.walk_fixpoint(workspace, fixpoints);
    // Every look-up before any path search: the paths keep the fixpoint's open flows
    // and visited components, but the stories after them do not.
    let reached: Vec<bool> = members
        .iter()
        .map(|(id, origin)| {
            let to = &Ends::of(&invariants[id.index()]).to.selection;
            engine.reached_in_fixpoint(workspace, origin, to)
        })
        .collect();
    let found: Vec<Option<Vec<Step>>> = members
        .iter()
        .zip(reached)
        .map(|((id, _), reached)| {
            if !reached {
                return None;
            }
            let ends = Ends::of(&invariants[id.index()]);
            let goal = Goal {
                targets: &ends.to.selection,
                ports: ends.ports,
            };
            let arrival = engine.shortest_in_fixpoint(workspace, &ends.from.selection, &goal);
            path_of(engine, workspace, arrival, ends.direct)
        })
        .collect();
    let mut rounds = Rounds::default();
    members
        .iter()
        .zip(found)
        .map(|(&(id, _), found)| {
            let question = Ends::of(&invariants[id.index()]).question(None);
            let evaluated = conclude(engine, workspace, id, &question, found, today, &mut rounds);
            (id.index(), evaluated)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, check_each_alone};
    use crate::graph::ReachGraph;
    use crate::policy::model_from_text;
    use crate::report::CheckReport;

    /// Checks `yaml` grouped and alone, asserts that both agree and that some job
    /// answered more than one invariant, and returns the grouped report.
    fn grouped(yaml: &str) -> CheckReport {
        let model = model_from_text("t.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"));
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let shared = plan(&engine, 16)
            .iter()
            .filter(|job| matches!(job, Job::Shared { members, .. } if members.len() > 1))
            .count();
        assert!(shared > 0, "no invariants were grouped");
        let today = "2024-01-01".parse().unwrap();
        let report = check(&model, today);
        assert_eq!(report, check_each_alone(&model, today));
        report
    }

    fn statuses(report: &CheckReport) -> Vec<(&str, &str)> {
        report
            .results
            .iter()
            .map(|r| (r.name.as_str(), r.status.as_str()))
            .collect()
    }

    /// `x1` and `x2` lead through chains to `b`, whose `out` node is the source of a
    /// flow that `key` opens: that component gates a flow, so the chains stop there and
    /// the walk from it decides whether the flow opens. `y` takes the key from `vault`
    /// first.
    const CHAINS: &str = "
assets:
  - {name: x1}
  - {name: x2}
  - {name: x3}
  - {name: y}
  - {name: b}
  - {name: c}
  - {name: vault}
credentials:
  - {name: key, held_by: vault}
  - {name: stolen, leaked: true}
flows:
  - {from: x1, to: b}
  - {from: x2, to: b}
  - {from: x3, to: b, auth: [stolen]}
  - {name: locked, from: b, to: c, auth: [key]}
  - {from: y, to: vault}
  - {from: vault, to: b}
";

    #[test]
    fn a_gated_flow_out_of_a_shared_component_opens_only_with_its_key() {
        let yaml = format!(
            "{CHAINS}invariants:
  - {{name: x1-c, forbid: {{from: x1, to: c}}}}
  - {{name: x2-c, forbid: {{from: x2, to: c}}}}
  - {{name: x3-c, forbid: {{from: x3, to: c}}}}
  - {{name: y-c, forbid: {{from: y, to: c}}}}
  - {{name: vault-c, require: {{from: vault, to: c}}}}
"
        );
        let report = grouped(&yaml);
        assert_eq!(
            statuses(&report),
            [
                ("x1-c", "pass"),
                ("x2-c", "pass"),
                ("x3-c", "pass"),
                ("y-c", "fail"),
                ("vault-c", "pass"),
            ]
        );
        assert_eq!(report.results[3].witness[2].flow, "locked");
    }

    #[test]
    fn a_target_on_one_start_s_chain_is_reached_by_that_start_only() {
        // `x1`'s chain passes `in(x1)`, `out(x1)`, its flow and `b`'s `in` node; `x2`
        // and `x3` share its fixpoint but reach none of `x1`'s chain, and the leaked
        // key opens `x3`'s flow from the start.
        let yaml = format!(
            "{CHAINS}invariants:
  - {{name: x2-x1, forbid: {{from: x2, to: x1}}}}
  - {{name: x3-x1, forbid: {{from: x3, to: x1}}}}
  - {{name: x1-b, forbid: {{from: x1, to: b}}}}
  - {{name: x3-b, require: {{from: x3, to: b, direct: true}}}}
  - {{name: x2-b-ssh, forbid: {{from: x2, to: b, ports: [tcp/22]}}}}
"
        );
        let report = grouped(&yaml);
        assert_eq!(
            statuses(&report),
            [
                ("x2-x1", "pass"),
                ("x3-x1", "pass"),
                ("x1-b", "fail"),
                ("x3-b", "pass"),
                ("x2-b-ssh", "fail"),
            ]
        );
        assert_eq!(
            report.results[3].witness[0].credential.as_deref(),
            Some("stolen")
        );
    }

    #[test]
    fn a_start_of_several_roots_walks_from_each_root_s_fixpoint() {
        let yaml = format!(
            "{CHAINS}invariants:
  - {{name: x1-y-c, forbid: {{from: [x1, y], to: c}}}}
  - {{name: x2-y-c, forbid: {{from: [x2, y], to: c}}}}
  - {{name: x1-x2-c, forbid: {{from: [x1, x2], to: c}}}}
  - {{name: x1-x2-vault, forbid: {{from: [x1, x2], to: vault}}}}
"
        );
        let report = grouped(&yaml);
        assert_eq!(
            statuses(&report),
            [
                ("x1-y-c", "fail"),
                ("x2-y-c", "fail"),
                ("x1-x2-c", "pass"),
                ("x1-x2-vault", "pass"),
            ]
        );
        // The key is taken in `vault`, reached from `y`: the story tells it.
        assert_eq!(report.results[0].acquisitions[0].holder, "vault");
    }

    #[test]
    fn plans_group_by_fixpoint_split_groups_and_leave_through_alone() {
        let yaml = format!(
            "{CHAINS}invariants:
  - {{name: a, forbid: {{from: x1, to: c}}}}
  - {{name: b, forbid: {{from: x2, to: c}}}}
  - {{name: c, forbid: {{from: x3, to: c}}}}
  - {{name: d, through: {{from: x1, to: c, via: b}}}}
  - {{name: e, forbid: {{from: y, to: c}}}}
"
        );
        let model = model_from_text("t.yaml", &yaml).unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let ids = |job: &Job| -> Vec<u32> {
            match job {
                Job::Alone(id) => vec![id.0],
                Job::Shared { members, .. } => members.iter().map(|(id, _)| id.0).collect(),
            }
        };
        let jobs = |piece| -> Vec<Vec<u32>> { plan(&engine, piece).iter().map(ids).collect() };
        // `d` has `via`; `e` is alone in its group.
        assert_eq!(jobs(16), [vec![3], vec![0, 1, 2], vec![4]]);
        assert_eq!(jobs(2), [vec![3], vec![0, 1], vec![2], vec![4]]);
        assert_eq!(piece(5, 1), 16);
        assert_eq!(piece(1000, 2), 125);
    }
}
