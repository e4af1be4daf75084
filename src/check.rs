//! Verifying invariants: runs the searches each invariant needs, applies exceptions, and
//! produces a [`CheckReport`].

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::date::Date;
use crate::engine::{Arrival, Engine, Goal, Prepared, Step, Workspace};
use crate::graph::ReachGraph;
use crate::model::{
    End, Exception, Invariant, InvariantId, Model, PinStep, Rule, Selection, Severity,
};
use crate::ports::PortSpec;
use crate::report::{
    Acquisition, CheckReport, ExceptionNote, ExceptionState, Hop, InvariantResult, Status, Unused,
};
use crate::resolve::FLOW_PREFIX;
use crate::story::{self, Rounds};
use crate::timings::Timings;
use crate::waiver::{Hops, Question, takes_route, uncovered_path};

mod shared;

/// Checks every invariant of `model` as of `today`.
pub fn check(model: &Model, today: Date) -> CheckReport {
    check_timed(model, today, &mut Timings::new())
}

/// [`check`], recording the time spent building the graph and checking.
pub fn check_timed(model: &Model, today: Date, timings: &mut Timings) -> CheckReport {
    // What the engine learns from the model alone does not need the graph: one core
    // works it out while the other builds the graph.
    let (graph, prepared) = rayon::join(|| ReachGraph::build(model), || Prepared::new(model));
    let engine = prepared.engine(model, &graph);
    timings.lap("graph");
    // Invariants whose starts share a credential fixpoint are answered together, with
    // one walk for the lot (`shared.rs`); jobs are independent searches over one
    // read-only graph, so they run in parallel, each with a workspace borrowed from the
    // pool (one per thread at most). Each job says which invariants it answered.
    let piece = shared::piece(model.invariants.len(), rayon::current_num_threads());
    let jobs = shared::plan(&engine, piece);
    let pool = engine.workspace_pool();
    let answered: Vec<Vec<(usize, Evaluated)>> = jobs
        .par_iter()
        .map_init(
            || pool.lend(),
            |workspace, job| job.run(&engine, workspace, today),
        )
        .collect();
    let mut evaluated: Vec<Option<Evaluated>> = Vec::new();
    evaluated.resize_with(model.invariants.len(), || None);
    for (index, result) in answered.into_iter().flatten() {
        evaluated[index] = Some(result);
    }
    let report = report(model, today, evaluated.into_iter().flatten());
    timings.lap("check");
    report
}

/// [`check`] with every invariant searched alone, as before invariants were grouped:
/// the oracle that the grouped check is tested against.
#[doc(hidden)]
pub fn check_each_alone(model: &Model, today: Date) -> CheckReport {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    let evaluated = model
        .invariants
        .iter()
        .enumerate()
        .map(|(index, _)| evaluate(&engine, &mut workspace, InvariantId(index as u32), today))
        .collect::<Vec<_>>();
    report(model, today, evaluated)
}

/// The result of one invariant, and how each of its exceptions shows, by index.
type Evaluated = (InvariantResult, Vec<(usize, ExceptionNote)>);

/// The report of `evaluated`, every invariant's result in model order.
fn report(
    model: &Model,
    today: Date,
    evaluated: impl IntoIterator<Item = Evaluated>,
) -> CheckReport {
    let mut results = Vec::with_capacity(model.invariants.len());
    let mut notes = Vec::with_capacity(model.exceptions.len());
    for (result, more) in evaluated {
        notes.extend(
            more.into_iter()
                .map(|(index, note)| (index, (result.name.clone(), note))),
        );
        results.push(result);
    }
    notes.sort_by_key(|(index, _)| *index);
    CheckReport {
        inputs: model.sources.inputs(),
        today,
        results,
        fail_on: Severity::Low,
        exceptions: notes.into_iter().map(|(_, note)| note).collect(),
        warnings: model.all_warnings(),
    }
}

/// Marks every entity `via` selects, for searches that must avoid them.
fn blocked_by(model: &Model, via: &Selection) -> Vec<bool> {
    let mut blocked = vec![false; model.entities.len()];
    for member in via.members(model) {
        blocked[member.index()] = true;
    }
    blocked
}

/// The witness of a shortest path for `question`: from `from` to `to`, the last flow
/// allowing `ports`, avoiding what is blocked; with `direct`, only a path of one flow.
fn find_path(engine: &Engine, workspace: &mut Workspace, question: &Question) -> Option<Vec<Step>> {
    let goal = Goal {
        targets: question.to,
        ports: question.ports,
    };
    let arrival = engine.arrive(workspace, question.from, question.blocked, &goal);
    path_of(engine, workspace, arrival, question.direct)
}

/// The witness of `arrival` when the question takes it: with `direct`, only a path of
/// one flow.
fn path_of(
    engine: &Engine,
    workspace: &Workspace,
    arrival: Option<Arrival>,
    direct: bool,
) -> Option<Vec<Step>> {
    let arrival = arrival.filter(|arrival| !direct || arrival.hops == 1)?;
    Some(engine.witness(workspace, arrival))
}

/// What an invariant asks about, whatever its kind.
pub(crate) struct Ends<'a> {
    pub from: &'a End,
    pub to: &'a End,
    /// The ports the last flow must allow one of; empty for any.
    pub ports: &'a [PortSpec],
    pub direct: bool,
    /// Only for a `through`, which takes no `ports` and no `direct`.
    pub via: Option<&'a End>,
}

impl<'a> Ends<'a> {
    /// The question these ends ask, avoiding `blocked`.
    fn question(&self, blocked: Option<&'a [bool]>) -> Question<'a> {
        Question {
            from: &self.from.selection,
            to: &self.to.selection,
            ports: self.ports,
            direct: self.direct,
            blocked,
        }
    }

    pub fn of(invariant: &'a Invariant) -> Self {
        match &invariant.rule {
            Rule::Forbid {
                from,
                to,
                ports,
                direct,
            }
            | Rule::Require {
                from,
                to,
                ports,
                direct,
            } => Ends {
                from,
                to,
                ports,
                direct: *direct,
                via: None,
            },
            Rule::Through { from, to, via } => Ends {
                from,
                to,
                ports: &[],
                direct: false,
                via: Some(via),
            },
        }
    }
}

/// How far a failing invariant's attacker gets: see [`reached_targets`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetReach {
    /// The target leaves reached, by name.
    pub leaves: BTreeSet<String>,
    /// The shortest witness to a leaf that the `before` reach did not have, if any, and
    /// how its credentials are obtained.
    pub witness: Vec<Hop>,
    pub acquisitions: Vec<Acquisition>,
}

/// For each named `forbid` and `through` invariant, the leaves of its `to` that its
/// attacker reaches (by one flow when `direct`, the last flow allowing its `ports`,
/// avoiding `via`), by name, with a witness to the closest leaf not in `before`'s reach
/// for it: so that `diff` can tell an invariant that fails wider than before, and show
/// how. A `require` reaches nothing here, since its failure is the absence of a path.
pub fn reached_targets(
    model: &Model,
    names: &BTreeSet<&str>,
    before: &BTreeMap<String, TargetReach>,
) -> BTreeMap<String, TargetReach> {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    let mut reached = BTreeMap::new();
    for invariant in &model.invariants {
        if !names.contains(invariant.name.as_str()) {
            continue;
        }
        let mut reach = TargetReach::default();
        if !matches!(invariant.rule, Rule::Require { .. }) {
            let ends = Ends::of(invariant);
            let blocked = ends.via.map(|via| blocked_by(model, &via.selection));
            let start = &ends.from.selection;
            engine.fixpoint(&mut workspace, start, blocked.as_deref());
            engine.shortest(&mut workspace, start, blocked.as_deref(), None);
            let landings = engine.landings(&workspace, ends.ports);
            let known = before.get(&invariant.name);
            let mut closest_new = None;
            for leaf in ends.to.selection.leaves(model) {
                let Some(landing) = landings[leaf.index()] else {
                    continue;
                };
                if ends.direct && landing.hops != 1 {
                    continue;
                }
                let name = &model.entity(leaf).name;
                if !known.is_some_and(|known| known.leaves.contains(name))
                    && closest_new.is_none_or(|(hops, _, _)| landing.hops < hops)
                {
                    closest_new = Some((landing.hops, leaf, landing));
                }
                reach.leaves.insert(name.clone());
            }
            if let Some((_, leaf, landing)) = closest_new {
                let mut steps = engine.witness_landing(&workspace, leaf, landing);
                let story = story::tell(
                    &engine,
                    &mut workspace,
                    start,
                    blocked.as_deref(),
                    &mut steps,
                );
                reach.witness = Hop::from_steps(model, &steps);
                reach.acquisitions = Acquisition::from_story(model, &story);
            }
        }
        reached.insert(invariant.name.clone(), reach);
    }
    reached
}

/// Evaluates the invariant `id` with searches of its own.
fn evaluate(engine: &Engine, workspace: &mut Workspace, id: InvariantId, today: Date) -> Evaluated {
    let invariant = &engine.model.invariants[id.index()];
    let ends = Ends::of(invariant);
    let blocked = ends.via.map(|via| blocked_by(engine.model, &via.selection));
    let question = ends.question(blocked.as_deref());
    let found = find_path(engine, workspace, &question);
    conclude(
        engine,
        workspace,
        id,
        &question,
        found,
        today,
        &mut Rounds::default(),
    )
}

/// The result of the invariant `id` asking `question`, given the path its search found
/// (not yet told), and how each of its exceptions shows, by index. `rounds` holds the
/// rounds of `question`'s start, for its stories.
fn conclude(
    engine: &Engine,
    workspace: &mut Workspace,
    id: InvariantId,
    question: &Question,
    found: Option<Vec<Step>>,
    today: Date,
    rounds: &mut Rounds,
) -> Evaluated {
    let model = engine.model;
    let invariant = &model.invariants[id.index()];
    let Ends {
        from,
        to,
        ports,
        direct,
        ..
    } = Ends::of(invariant);
    let found = found.map(|steps| told(engine, workspace, question, steps, rounds));
    let (witness, acquisitions) = match found {
        Some((witness, acquisitions)) => (Some(witness), acquisitions),
        None => (None, Vec::new()),
    };
    let (status, message) = match (&invariant.rule, witness.as_deref()) {
        (Rule::Forbid { .. }, Some(witness)) => (Status::Fail, reaches(witness)),
        (Rule::Forbid { .. }, None) => (Status::Pass, no_path(from, to, ports, direct)),
        (Rule::Require { .. }, Some(witness)) => (Status::Pass, reaches(witness)),
        (Rule::Require { .. }, None) => (Status::Fail, no_path(from, to, ports, direct)),
        (Rule::Through { via, .. }, Some(witness)) => (
            Status::Fail,
            format!("{} avoiding {}", reaches(witness), quote(via)),
        ),
        (Rule::Through { via, .. }, None) => (
            Status::Pass,
            format!(
                "every path from {} to {} passes through {}",
                quote(from),
                quote(to),
                quote(via)
            ),
        ),
    };
    let mut result = InvariantResult {
        name: invariant.name.clone(),
        file: model.sources.path(invariant.location.source).to_owned(),
        line: invariant.location.line,
        kind: invariant.rule.kind(),
        severity: invariant.severity,
        description: invariant.description.clone(),
        references: invariant.references.clone(),
        location: model.sources.file_line(invariant.location).to_string(),
        status,
        message,
        witness: witness.unwrap_or_default(),
        acquisitions,
        waivers: Vec::new(),
        expired: Vec::new(),
        unused: Vec::new(),
    };
    let notes = apply_exceptions(engine, workspace, question, id, &mut result, today, rounds);
    (result, notes)
}

/// A witness named for renderers, with the story of how its credentials are obtained.
fn told(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    mut steps: Vec<Step>,
    rounds: &mut Rounds,
) -> (Vec<Hop>, Vec<Acquisition>) {
    let story = story::tell_sharing(
        engine,
        workspace,
        question.from,
        question.blocked,
        &mut steps,
        rounds,
    );
    (
        Hop::from_steps(engine.model, &steps),
        Acquisition::from_story(engine.model, &story),
    )
}

/// "jira reaches bitbucket in 2 hops", from the witness's first and last leaves.
pub fn reaches(witness: &[Hop]) -> String {
    let (Some(first), Some(last)) = (witness.first(), witness.last()) else {
        return String::new();
    };
    let hops = witness.len();
    format!(
        "{} reaches {} in {hops} hop{}",
        first.from,
        last.to,
        if hops == 1 { "" } else { "s" }
    )
}

fn no_path(from: &End, to: &End, ports: &[PortSpec], direct: bool) -> String {
    let direct = if direct { "direct " } else { "" };
    let ports = if ports.is_empty() {
        String::new()
    } else {
        let ports: Vec<String> = ports.iter().map(ToString::to_string).collect();
        format!(" on {}", ports.join(", "))
    };
    format!(
        "no {direct}path from {} to {}{ports}",
        quote(from),
        quote(to)
    )
}

fn quote(end: &End) -> String {
    format!("`{}`", end.text)
}

/// How an exception shows in a result, in `state`.
fn note(model: &Model, exception: &Exception, today: Date, state: ExceptionState) -> ExceptionNote {
    let mut path = Vec::new();
    for step in &exception.path {
        if let Some(flow) = step.flow {
            path.push(format!("{FLOW_PREFIX}{}", model.flow_label(flow)));
        }
        path.push(model.entity(step.entity).name.clone());
    }
    ExceptionNote {
        owner: exception.owner.clone(),
        reason: exception.reason.clone(),
        expires: exception.expires,
        days_left: today.days_until(exception.expires),
        location: model.sources.file_line(exception.location).to_string(),
        path,
        state,
    }
}

/// Applies the exceptions of one invariant to its result: those expired are noted;
/// those in force waive a failure when one pins no route, or when the routes they pin
/// cover every way in, and are otherwise noted as unused when they waive nothing.
/// Returns each exception's index in the model with how it shows.
fn apply_exceptions(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    invariant: InvariantId,
    result: &mut InvariantResult,
    today: Date,
    rounds: &mut Rounds,
) -> Vec<(usize, ExceptionNote)> {
    let model = engine.model;
    let mut notes = Vec::new();
    let mut in_force = Vec::new();
    for (index, exception) in model.exceptions.iter().enumerate() {
        if exception.invariant != invariant {
            continue;
        }
        if today.days_until(exception.expires) < 0 {
            notes.push((
                index,
                note(model, exception, today, ExceptionState::Expired),
            ));
        } else {
            in_force.push(index);
        }
    }
    let failing = result.status == Status::Fail;
    // Each exception in force, and whether it waives something real. The hops that the
    // pinned routes are searched over are gathered once, when the first needs them.
    let mut hops: Option<Hops> = None;
    let mut used = Vec::new();
    for &index in &in_force {
        let exception = &model.exceptions[index];
        let state = if !failing {
            ExceptionState::Unused(Unused::InvariantHolds)
        } else if exception.path.is_empty() {
            ExceptionState::Active
        } else {
            let hops = hops.get_or_insert_with(|| Hops::new(engine, workspace, question));
            if takes_route(engine, workspace, question, hops, &exception.path) {
                ExceptionState::Active
            } else {
                ExceptionState::Unused(Unused::RouteNotTaken)
            }
        };
        if state == ExceptionState::Active {
            used.push(index);
        }
        notes.push((index, note(model, exception, today, state)));
    }
    notes.sort_by_key(|(index, _)| *index);
    if !used.is_empty() {
        let unpinned = used
            .iter()
            .any(|&index| model.exceptions[index].path.is_empty());
        let routes: Vec<&[PinStep]> = used
            .iter()
            .map(|&index| model.exceptions[index].path.as_slice())
            .collect();
        // A pinned route waives only itself: a way in that none covers still fails.
        let other = if unpinned {
            None
        } else {
            let hops = hops.get_or_insert_with(|| Hops::new(engine, workspace, question));
            uncovered_path(engine, workspace, question, hops, &routes)
        };
        match other {
            Some(other) => {
                (result.witness, result.acquisitions) =
                    told(engine, workspace, question, other, rounds);
                result.message = format!(
                    "{} by a route that no exception covers",
                    reaches(&result.witness)
                );
            }
            None => result.status = Status::Waived,
        }
    }
    for (_, note) in &notes {
        let list = match note.state {
            ExceptionState::Expired => &mut result.expired,
            ExceptionState::Unused(_) => &mut result.unused,
            ExceptionState::Active if result.status == Status::Waived => &mut result.waivers,
            ExceptionState::Active => continue,
        };
        list.push(note.clone());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model_from_text;

    fn report(yaml: &str) -> CheckReport {
        let model = match model_from_text("test.yaml", yaml) {
            Ok(model) => model,
            Err(problems) => panic!("{problems:#?}"),
        };
        check(&model, "2024-01-01".parse().unwrap())
    }

    /// The status of each invariant, by name.
    fn statuses(yaml: &str) -> Vec<(String, &'static str)> {
        report(yaml)
            .results
            .into_iter()
            .map(|r| (r.name, r.status.as_str()))
            .collect()
    }

    fn status_of(yaml: &str, name: &str) -> &'static str {
        statuses(yaml)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
            .unwrap()
    }

    const ESTATE: &str = "
segments:
  - name: web
  - name: db
assets:
  - {name: web1, in: web}
  - {name: web2, in: web}
  - {name: db1, in: db}
  - {name: db2, in: db}
  - {name: laptop}
";

    #[test]
    fn a_flow_to_a_group_reaches_every_member() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db2}}}}
"
        );
        assert_eq!(status_of(&yaml, "t"), "fail");
    }

    #[test]
    fn controlling_one_member_does_not_give_its_siblings() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: web1, to: db1}}
  - {{from: web, to: laptop}}
invariants:
  - {{name: sibling, forbid: {{from: web2, to: db1}}}}
  - {{name: group-flow-serves-members, forbid: {{from: web2, to: laptop}}}}
"
        );
        assert_eq!(status_of(&yaml, "sibling"), "pass");
        assert_eq!(status_of(&yaml, "group-flow-serves-members"), "fail");
    }

    #[test]
    fn nothing_is_allowed_inside_a_segment_without_a_flow() {
        let yaml = format!(
            "{ESTATE}
invariants:
  - {{name: t, forbid: {{from: web1, to: web2}}}}
"
        );
        assert_eq!(status_of(&yaml, "t"), "pass");
    }

    #[test]
    fn an_auth_flow_opens_once_a_holder_is_controlled() {
        let yaml = format!(
            "{ESTATE}
credentials:
  - {{name: key, held_by: web2}}
flows:
  - {{name: to-db, from: laptop, to: db1, auth: [key]}}
  - {{name: to-web, from: laptop, to: web}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db1}}}}
  - {{name: without-holder, forbid: {{from: web1, to: laptop}}}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        let hop = &result.witness[0];
        assert_eq!(hop.credential.as_deref(), Some("key"));
        assert_eq!(
            hop.obtained,
            Some(crate::report::Obtained::From("web2".into()))
        );
    }

    #[test]
    fn a_credential_obtained_late_opens_flows_from_sources_reached_early() {
        // The laptop is reached first; the key only after a longer detour. The flow out
        // of the laptop must still open once the key is held.
        let yaml = "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
  - {name: d}
  - {name: vault}
credentials:
  - {name: key, held_by: vault}
flows:
  - {from: a, to: b}
  - {from: b, to: c}
  - {from: c, to: vault}
  - {from: b, to: d, auth: [key]}
invariants:
  - {name: t, forbid: {from: a, to: d}}
";
        let report = report(yaml);
        assert_eq!(report.results[0].status, Status::Fail);
        assert_eq!(report.results[0].witness.len(), 2);
    }

    #[test]
    fn leaked_credentials_are_held_from_the_start_and_revoked_ones_open_nothing() {
        let yaml = format!(
            "{ESTATE}
credentials:
  - {{name: stolen, leaked: true}}
  - {{name: rotated, leaked: true, status: revoked, held_by: laptop}}
flows:
  - {{from: internet, to: web1, auth: [stolen]}}
  - {{from: internet, to: db1, auth: [rotated]}}
invariants:
  - {{name: leaked, forbid: {{from: internet, to: web1}}}}
  - {{name: revoked, forbid: {{from: internet, to: db1}}}}
"
        );
        assert_eq!(status_of(&yaml, "leaked"), "fail");
        assert_eq!(status_of(&yaml, "revoked"), "pass");
    }

    #[test]
    fn ports_constrain_the_last_flow_only() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1, ports: [tcp/22]}}
  - {{from: web1, to: db1, ports: [tcp/5432]}}
invariants:
  - {{name: ssh-last, forbid: {{from: laptop, to: db1, ports: [tcp/22]}}}}
  - {{name: pg-last, forbid: {{from: laptop, to: db1, ports: [tcp/5432]}}}}
  - {{name: range, forbid: {{from: laptop, to: db1, ports: [tcp/5000-6000]}}}}
"
        );
        assert_eq!(status_of(&yaml, "ssh-last"), "pass");
        assert_eq!(status_of(&yaml, "pg-last"), "fail");
        assert_eq!(status_of(&yaml, "range"), "fail");
    }

    #[test]
    fn direct_means_a_single_flow() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1}}
invariants:
  - {{name: direct, forbid: {{from: laptop, to: db1, direct: true}}}}
  - {{name: any-path, forbid: {{from: laptop, to: db1}}}}
  - {{name: need-direct, require: {{from: laptop, to: db1, direct: true}}}}
  - {{name: need-path, require: {{from: laptop, to: db1}}}}
"
        );
        assert_eq!(
            statuses(&yaml),
            [
                ("direct".to_owned(), "pass"),
                ("any-path".to_owned(), "fail"),
                ("need-direct".to_owned(), "fail"),
                ("need-path".to_owned(), "pass"),
            ]
        );
    }

    #[test]
    fn through_removes_via_and_looks_for_another_path() {
        let base = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db}}
invariants:
  - {{name: t, through: {{from: laptop, to: db, via: web1}}}}
"
        );
        assert_eq!(status_of(&base, "t"), "pass");
        let bypass =
            format!("{base}\n  - {{name: u, through: {{from: laptop, to: db, via: web2}}}}\n");
        assert_eq!(status_of(&bypass, "u"), "fail");
        let report = report(&bypass);
        assert!(report.results[1].message.contains("avoiding `web2`"));
    }

    #[test]
    fn any_stands_for_everything_else() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: db1, to: db2}}
invariants:
  - {{name: db-reaches-nothing-else, forbid: {{from: db, to: any}}}}
  - {{name: db1-reaches-nothing, forbid: {{from: db1, to: any}}}}
  - {{name: nothing-reaches-laptop, forbid: {{from: any, to: laptop}}}}
"
        );
        assert_eq!(
            statuses(&yaml),
            [
                ("db-reaches-nothing-else".to_owned(), "pass"),
                ("db1-reaches-nothing".to_owned(), "fail"),
                ("nothing-reaches-laptop".to_owned(), "pass"),
            ]
        );
    }

    #[test]
    fn address_selectors_pick_leaves_groups_and_internet() {
        let yaml = "
segments:
  - {name: lan, cidrs: [10.0.0.0/16]}
assets:
  - {name: printer, in: lan, cidrs: [10.0.1.5]}
  - {name: nas, in: lan, cidrs: [10.0.2.0/24]}
  - {name: laptop}
flows:
  - {from: laptop, to: 10.0.1.0/24}
  - {from: laptop, to: 10.0.9.0/24}
  - {from: laptop, to: 8.8.8.8}
invariants:
  - {name: printer, forbid: {from: laptop, to: printer}}
  - {name: nas, forbid: {from: laptop, to: nas}}
  - {name: internet, forbid: {from: laptop, to: internet}}
";
        // 10.0.1.0/24 holds the printer; 10.0.9.0/24 is lan space no leaf covers, so
        // all of lan is selected, the nas with it.
        assert_eq!(
            statuses(yaml),
            [
                ("printer".to_owned(), "fail"),
                ("nas".to_owned(), "fail"),
                ("internet".to_owned(), "fail"),
            ]
        );
    }

    #[test]
    fn exceptions_waive_until_they_expire() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: db1}}
invariants:
  - {{name: live, forbid: {{from: laptop, to: db1}}}}
  - {{name: stale, forbid: {{from: laptop, to: db}}}}
exceptions:
  - {{invariant: live, reason: migration, owner: alice, expires: 2024-01-01}}
  - {{invariant: stale, reason: old, owner: bob, expires: 2023-12-31}}
"
        );
        let report = report(&yaml);
        let by_name = |name: &str| report.results.iter().find(|r| r.name == name).unwrap();
        assert_eq!(by_name("live").status, Status::Waived);
        assert_eq!(by_name("live").waivers[0].days_left, 0);
        assert_eq!(by_name("stale").status, Status::Fail);
        assert_eq!(by_name("stale").expired[0].owner, "bob");
        assert_eq!(
            exception_states(&report),
            [ExceptionState::Active, ExceptionState::Expired]
        );
    }

    /// The state of each exception, in input order.
    fn exception_states(report: &CheckReport) -> Vec<ExceptionState> {
        report
            .exceptions
            .iter()
            .map(|(_, note)| note.state)
            .collect()
    }

    const TWO_ROUTES: &str = "
flows:
  - {from: laptop, to: web1}
  - {from: web1, to: db1}
  - {from: laptop, to: web2}
  - {from: web2, to: db2}
invariants:
  - {name: t, forbid: {from: laptop, to: db}}
exceptions:
  - {invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}
";

    #[test]
    fn exceptions_pinned_to_different_routes_combine() {
        let one = format!("{ESTATE}{TWO_ROUTES}");
        assert_eq!(status_of(&one, "t"), "fail");
        let both = format!(
            "{one}  - {{invariant: t, reason: r, owner: erin, expires: 2030-01-01, path: [laptop, web2, db2]}}\n"
        );
        let report = report(&both);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Waived, "{}", result.message);
        let owners: Vec<&str> = result.waivers.iter().map(|w| w.owner.as_str()).collect();
        assert_eq!(owners, ["dana", "erin"]);
        assert_eq!(
            exception_states(&report),
            [ExceptionState::Active, ExceptionState::Active]
        );
        // A third way in, covered by neither, fails again, and is the witness.
        let third = both.replace(
            "  - {from: web2, to: db2}\n",
            "  - {from: web2, to: db2}\n  - {from: web2, to: db1}\n",
        );
        let report = super::tests::report(&third);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        let leaves: Vec<&str> = result.witness.iter().map(|hop| hop.to.as_str()).collect();
        assert_eq!(leaves, ["web2", "db1"]);
        assert!(
            result
                .message
                .contains("by a route that no exception covers")
        );
    }

    #[test]
    fn a_path_that_switches_between_pinned_routes_is_not_covered() {
        // Each pinned route is followed whole or not at all: laptop, web1, then db2
        // begins as dana's route and ends as erin's, so neither covers it.
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web}}
  - {{from: web, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}}
  - {{invariant: t, reason: r, owner: erin, expires: 2030-01-01, path: [laptop, web2, db2]}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        let leaves: Vec<&str> = result.witness.iter().map(|hop| hop.to.as_str()).collect();
        assert_eq!(leaves, ["web1", "db2"]);
        let all = yaml.replace("path: [laptop, web2, db2]", "path: [laptop, web, db]");
        assert_eq!(status_of(&all, "t"), "waived");
    }

    #[test]
    fn pinned_routes_waive_the_bypass_of_a_through_and_a_direct_flow() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1}}
  - {{from: laptop, to: db2}}
invariants:
  - {{name: via-web1, through: {{from: laptop, to: db, via: web1}}}}
  - {{name: no-direct, forbid: {{from: laptop, to: db, direct: true}}}}
exceptions:
  - {{invariant: via-web1, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, db2]}}
  - {{invariant: no-direct, reason: r, owner: erin, expires: 2030-01-01, path: [laptop, db2]}}
  - {{invariant: no-direct, reason: r, owner: finn, expires: 2030-01-01, path: [laptop, web1, db1]}}
"
        );
        let report = report(&yaml);
        assert_eq!(report.results[0].status, Status::Waived);
        assert_eq!(report.results[1].status, Status::Waived);
        // A two-hop route is never a direct witness.
        assert_eq!(
            exception_states(&report),
            [
                ExceptionState::Active,
                ExceptionState::Active,
                ExceptionState::Unused(Unused::RouteNotTaken),
            ]
        );
    }

    #[test]
    fn a_pin_may_name_the_flow_of_a_hop() {
        // Two group-to-group flows from web to db: pinning one waives that one only.
        let yaml = format!(
            "{ESTATE}
flows:
  - {{name: backup, from: web, to: db, ports: [tcp/873]}}
  - {{name: queries, from: web, to: db, ports: [tcp/5432]}}
invariants:
  - {{name: t, forbid: {{from: web1, to: db1}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [web1, flow:backup, db1]}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        assert_eq!(result.witness[0].flow, "queries");
        assert_eq!(
            report.exceptions[0].1.path,
            ["web1", "flow:backup", "db1"],
            "the note shows the pin as written"
        );
        let both = format!(
            "{yaml}  - {{invariant: t, reason: r, owner: erin, expires: 2030-01-01, path: [web1, flow:queries, db1]}}\n"
        );
        assert_eq!(status_of(&both, "t"), "waived");
    }

    #[test]
    fn an_exception_that_waives_nothing_is_unused() {
        let yaml = format!(
            "{ESTATE}
credentials:
  - {{name: key, held_by: db2, status: revoked}}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1, auth: [key]}}
  - {{from: laptop, to: db1}}
invariants:
  - {{name: holds, forbid: {{from: web2, to: db}}}}
  - {{name: fails, forbid: {{from: laptop, to: db1}}}}
exceptions:
  - {{invariant: holds, reason: r, owner: dana, expires: 2030-01-01}}
  - {{invariant: fails, reason: r, owner: erin, expires: 2030-01-01, path: [laptop, web1, db1]}}
  - {{invariant: fails, reason: r, owner: finn, expires: 2020-01-01, path: [laptop, db1]}}
"
        );
        let report = report(&yaml);
        // The pinned route needs a revoked key, so no attacker takes it.
        assert_eq!(
            exception_states(&report),
            [
                ExceptionState::Unused(Unused::InvariantHolds),
                ExceptionState::Unused(Unused::RouteNotTaken),
                ExceptionState::Expired,
            ]
        );
        assert_eq!(report.results[1].status, Status::Fail);
        assert_eq!(report.results[1].unused[0].owner, "erin");
        assert_eq!(report.results[0].unused[0].owner, "dana");
        assert_eq!(report.results[0].status, Status::Pass);
    }

    #[test]
    fn a_pinned_exception_waives_its_route_only() {
        let only_route = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}}
"
        );
        assert_eq!(status_of(&only_route, "t"), "waived");
        let two_routes = only_route.replace(
            "  - {from: web1, to: db1}\n",
            "  - {from: web1, to: db1}\n  - {from: laptop, to: web2}\n  - {from: web2, to: db2}\n",
        );
        let report = report(&two_routes);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        assert_eq!(
            result.witness[0].to, "web2",
            "the witness is the route not waived"
        );
        assert!(
            result
                .message
                .contains("by a route that no exception covers")
        );
    }

    #[test]
    fn walks_that_go_around_a_pinned_route_are_no_new_way_in() {
        // A flow back along the route, and one between the target's own leaves: the
        // walks they add (laptop, web1, laptop, web1, db1; laptop, web1, db1, db2) hold
        // the pinned route, and the attacker gets nothing the exception did not accept.
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: laptop}}
  - {{from: web1, to: db1}}
  - {{from: db, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Waived, "{}", result.message);
        // A way to db2 that does not pass db1 first is a new way in.
        let around = yaml.replace(
            "  - {from: db, to: db}\n",
            "  - {from: db, to: db}\n  - {from: web1, to: web2}\n  - {from: web2, to: db2}\n",
        );
        let report = super::tests::report(&around);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        let leaves: Vec<&str> = result.witness.iter().map(|hop| hop.to.as_str()).collect();
        assert_eq!(leaves, ["web1", "web2", "db2"]);
    }

    #[test]
    fn a_way_in_on_the_invariants_port_beside_the_pinned_route_fails() {
        // laptop reaches db1 on 443 straight, and on 22 too: the pin covers neither,
        // whichever flow a search meets first.
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1, ports: [tcp/443]}}
  - {{from: laptop, to: db1, ports: [tcp/22]}}
  - {{name: straight, from: laptop, to: db1, ports: [tcp/443]}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db1, ports: [tcp/443]}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        assert_eq!(result.witness.len(), 1);
        assert_eq!(result.witness[0].flow, "straight");
        let without = yaml.replace(
            "  - {name: straight, from: laptop, to: db1, ports: [tcp/443]}\n",
            "",
        );
        assert_eq!(status_of(&without, "t"), "waived");
    }

    #[test]
    fn a_pinned_route_that_loops_is_not_taken() {
        // laptop -> web1 -> web2 -> web1 -> db1 is a walk, but the attacker goes
        // laptop -> web1 -> db1: the pin covers no way in, so it is not in use.
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: web2}}
  - {{from: web2, to: web1}}
  - {{from: web1, to: db1, ports: [tcp/443]}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db1, ports: [tcp/443]}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, web2, web1, db1]}}
"
        );
        let report = report(&yaml);
        assert_eq!(report.results[0].status, Status::Fail);
        assert_eq!(
            report.exceptions[0].1.state,
            ExceptionState::Unused(Unused::RouteNotTaken)
        );
        let straight = yaml.replace(
            "path: [laptop, web1, web2, web1, db1]",
            "path: [laptop, web1, db1]",
        );
        assert_eq!(status_of(&straight, "t"), "waived");
    }

    #[test]
    fn results_repeat_and_ties_go_to_the_lowest_leaf() {
        let one = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web}}
  - {{from: laptop, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: any}}}}
"
        );
        let first = report(&one);
        let again = report(&one);
        assert_eq!(first, again);
        assert_eq!(first.results[0].witness[0].to, "db1");
    }

    #[test]
    fn reached_targets_are_the_target_leaves_landed_in_as_the_rule_asks() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: web1, to: db1, ports: [tcp/5432]}}
  - {{from: web1, to: laptop}}
  - {{from: laptop, to: db2, ports: [tcp/22]}}
invariants:
  - {{name: any-port, forbid: {{from: web1, to: db}}}}
  - {{name: postgres, forbid: {{from: web1, to: db, ports: [tcp/5432]}}}}
  - {{name: direct, forbid: {{from: web1, to: db, direct: true}}}}
  - {{name: through, through: {{from: web1, to: db, via: laptop}}}}
  - {{name: required, require: {{from: web1, to: db}}}}
"
        );
        let model = model_from_text("test.yaml", &yaml).unwrap();
        let names: BTreeSet<&str> = ["any-port", "postgres", "direct", "through", "required"]
            .into_iter()
            .collect();
        let reached = reached_targets(&model, &names, &BTreeMap::new());
        let leaves =
            |name: &str| -> Vec<&str> { reached[name].leaves.iter().map(String::as_str).collect() };
        assert_eq!(leaves("any-port"), ["db1", "db2"]);
        assert_eq!(leaves("postgres"), ["db1"]);
        assert_eq!(leaves("direct"), ["db1"]);
        assert_eq!(leaves("through"), ["db1"]);
        assert!(leaves("required").is_empty());
        // The witness goes to the closest leaf not reached before.
        assert_eq!(reached["any-port"].witness.len(), 1);
        let before: BTreeMap<String, TargetReach> = [(
            "any-port".to_owned(),
            TargetReach {
                leaves: ["db1".to_owned()].into_iter().collect(),
                ..TargetReach::default()
            },
        )]
        .into_iter()
        .collect();
        let after = reached_targets(&model, &names, &before);
        let witness = &after["any-port"].witness;
        assert_eq!(witness.len(), 2);
        assert_eq!(witness[1].to, "db2");
    }
}
