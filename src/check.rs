//! Verifying invariants: runs the searches each invariant needs, applies exceptions, and
//! produces a [`CheckReport`].

use std::collections::HashMap;

use crate::date::Date;
use crate::engine::{Engine, Landing, Search};
use crate::graph::ReachGraph;
use crate::model::{End, EntityId, Exception, Invariant, Model, Rule, Selection};
use crate::ports::PortSpec;
use crate::report::{CheckReport, ExceptionNote, Hop, InvariantResult, Status};

/// What one invariant's search found: the closest leaf of its target and the route there.
struct Found {
    leaf: EntityId,
    landing: Landing,
}

/// Checks every invariant of `model` as of `today`.
pub fn check(model: &Model, today: Date) -> CheckReport {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    // Invariants that start from the same entities share one search.
    let mut searches: HashMap<(Selection, Option<Selection>), Search> = HashMap::new();
    let mut results = Vec::with_capacity(model.invariants.len());
    for invariant in &model.invariants {
        let (from, blocked) = match &invariant.rule {
            Rule::Forbid { from, .. } | Rule::Require { from, .. } => (from, None),
            Rule::Through { from, via, .. } => (from, Some(&via.selection)),
        };
        let key = (from.selection.clone(), blocked.cloned());
        let search = searches.entry(key).or_insert_with(|| {
            let mask = blocked.map(|via| {
                let mut mask = vec![false; model.entities.len()];
                for member in via.members(model) {
                    mask[member.index()] = true;
                }
                mask
            });
            engine.search(&from.selection, mask.as_deref())
        });
        results.push(evaluate(&engine, search, invariant, today));
    }
    CheckReport {
        inputs: model.sources.files().to_vec(),
        today,
        results,
    }
}

fn evaluate(
    engine: &Engine,
    search: &Search,
    invariant: &Invariant,
    today: Date,
) -> InvariantResult {
    let model = engine.model;
    let (to, ports, direct) = match &invariant.rule {
        Rule::Forbid {
            to, ports, direct, ..
        }
        | Rule::Require {
            to, ports, direct, ..
        } => (to, ports.as_slice(), *direct),
        Rule::Through { to, .. } => (to, [].as_slice(), false),
    };
    let witness = closest(engine, search, to, ports, direct)
        .map(|found| Hop::from_steps(model, &engine.witness(search, found.leaf, found.landing)));
    let (status, message) = match (&invariant.rule, witness.as_deref()) {
        (Rule::Forbid { .. }, Some(witness)) => (Status::Fail, reaches(witness)),
        (Rule::Forbid { from, to, .. }, None) => (
            Status::Pass,
            format!(
                "no {}path from {} to {}{}",
                direct_word(direct),
                quote(from),
                quote(to),
                ports_suffix(ports)
            ),
        ),
        (Rule::Require { .. }, Some(witness)) => (Status::Pass, reaches(witness)),
        (Rule::Require { from, to, .. }, None) => (
            Status::Fail,
            format!(
                "no {}path from {} to {}{}",
                direct_word(direct),
                quote(from),
                quote(to),
                ports_suffix(ports)
            ),
        ),
        (Rule::Through { via, .. }, Some(witness)) => (
            Status::Fail,
            format!("{} avoiding {}", reaches(witness), quote(via)),
        ),
        (Rule::Through { from, to, via }, None) => (
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
        kind: invariant.rule.kind(),
        severity: invariant.severity,
        description: invariant.description.clone(),
        references: invariant.references.clone(),
        location: model.sources.file_line(invariant.location).to_string(),
        status,
        message,
        witness: witness.unwrap_or_default(),
        waiver: None,
        expired: Vec::new(),
    };
    apply_exceptions(model, &mut result, today);
    result
}

/// The target leaf reached in the fewest flows, if any (lowest id on a tie). With
/// `direct`, only a single flow counts.
fn closest(
    engine: &Engine,
    search: &Search,
    to: &End,
    ports: &[PortSpec],
    direct: bool,
) -> Option<Found> {
    let landings = engine.landings(search, ports);
    let found = to
        .selection
        .leaves(engine.model)
        .into_iter()
        .filter_map(|leaf| landings[leaf.index()].map(|landing| Found { leaf, landing }))
        .min_by_key(|found| (found.landing.hops, found.leaf))?;
    (!direct || found.landing.hops == 1).then_some(found)
}

/// "jira reaches bitbucket in 2 hops", from the witness's first and last leaves.
fn reaches(witness: &[Hop]) -> String {
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

fn quote(end: &End) -> String {
    format!("`{}`", end.text)
}

fn direct_word(direct: bool) -> &'static str {
    if direct { "direct " } else { "" }
}

fn ports_suffix(ports: &[PortSpec]) -> String {
    if ports.is_empty() {
        String::new()
    } else {
        let ports: Vec<String> = ports.iter().map(ToString::to_string).collect();
        format!(" on {}", ports.join(", "))
    }
}

/// Waives a failure under an exception that has not expired and whose `path`, if any,
/// the witness follows; notes exceptions that have expired.
fn apply_exceptions(model: &Model, result: &mut InvariantResult, today: Date) {
    let exceptions = model
        .exceptions
        .iter()
        .filter(|exception| model.invariants[exception.invariant.index()].name == result.name);
    for exception in exceptions {
        let note = ExceptionNote {
            owner: exception.owner.clone(),
            reason: exception.reason.clone(),
            expires: exception.expires,
            days_left: today.days_until(exception.expires),
            location: model.sources.file_line(exception.location).to_string(),
        };
        if note.days_left < 0 {
            result.expired.push(note);
        } else if result.status == Status::Fail
            && result.waiver.is_none()
            && follows(model, &result.witness, exception)
        {
            result.status = Status::Waived;
            result.waiver = Some(note);
        }
    }
}

/// Whether the witness passes the exception's entities in order, one per leaf.
fn follows(model: &Model, witness: &[Hop], exception: &Exception) -> bool {
    if exception.path.is_empty() {
        return true;
    }
    let leaves: Vec<&str> = witness
        .first()
        .map(|hop| hop.from.as_str())
        .into_iter()
        .chain(witness.iter().map(|hop| hop.to.as_str()))
        .collect();
    leaves.len() == exception.path.len()
        && leaves.iter().zip(&exception.path).all(|(leaf, &step)| {
            model
                .find_entity(leaf)
                .is_some_and(|leaf| model.ancestors(leaf).any(|a| a == step))
        })
}
