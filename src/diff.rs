//! `diff`: what a change opens or closes. Compares two models: the invariants whose
//! verdict changed or that fail wider, the pairs of entities (and `internet`) newly
//! reachable (with the path in the new model) or no longer reachable, and the flows,
//! credentials and entities that changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::{check, reached_targets, reaches};
use crate::date::Date;
use crate::matrix::matrix;
use crate::model::{EntityKind, INTERNET, Model, Selection};
use crate::path::find_paths;
use crate::report::{
    Acquisition, Change, ChangeKind, CheckReport, DiffReport, Hop, PairChange, Status,
    VerdictChange,
};

/// Compares `base` and `head`, reachability counted at `level`.
pub fn diff(base: &Model, head: &Model, level: EntityKind, today: Date) -> DiffReport {
    let base_check = check(base, today);
    let head_check = check(head, today);
    let verdicts = verdicts(base, head, &base_check, &head_check);
    let (opened, closed) = pairs(base, head, level);
    let mut changes = Vec::new();
    compare(&mut changes, "entity", &entities(base), &entities(head));
    compare(
        &mut changes,
        "credential",
        &credentials(base),
        &credentials(head),
    );
    compare(&mut changes, "flow", &flows(base), &flows(head));
    DiffReport {
        level: level.as_str(),
        verdicts,
        opened,
        closed,
        changes,
        head: head_check,
        deny_new_paths: false,
    }
}

/// Invariants whose verdict changed, or that fail in both models. One that fails in
/// both fails wider when its attacker reaches target leaves (by name) that it did not
/// reach before: a second hole is a regression even where the first was already open.
fn verdicts(
    base_model: &Model,
    head_model: &Model,
    base: &CheckReport,
    head: &CheckReport,
) -> Vec<VerdictChange> {
    let before: BTreeMap<&str, Status> = base
        .results
        .iter()
        .map(|r| (r.name.as_str(), r.status))
        .collect();
    let failing_in_both: BTreeSet<&str> = head
        .results
        .iter()
        .filter(|r| r.status == Status::Fail && before.get(r.name.as_str()) == Some(&Status::Fail))
        .map(|r| r.name.as_str())
        .collect();
    // Only invariants that fail in both need their reach compared; usually none do.
    let (reached_before, reached_after) = if failing_in_both.is_empty() {
        Default::default()
    } else {
        let reached_before = reached_targets(base_model, &failing_in_both, &BTreeMap::new());
        let reached_after = reached_targets(head_model, &failing_in_both, &reached_before);
        (reached_before, reached_after)
    };
    let mut changes = Vec::new();
    for result in &head.results {
        let was = before.get(result.name.as_str()).copied();
        let failing_now = result.status == Status::Fail;
        let failing_before = was == Some(Status::Fail);
        let mut wider = Vec::new();
        let mut witness = result.witness.clone();
        let mut acquisitions = result.acquisitions.clone();
        let mut message = result.message.clone();
        let kind = match (failing_before, failing_now) {
            (false, true) => "regression",
            (true, false) => "improvement",
            (true, true) => {
                let old = reached_before.get(&result.name);
                if let Some(now) = reached_after.get(&result.name) {
                    wider = now
                        .leaves
                        .iter()
                        .filter(|leaf| !old.is_some_and(|old| old.leaves.contains(*leaf)))
                        .cloned()
                        .collect();
                    if !wider.is_empty() {
                        // The path to what is newly reached, not the old hole.
                        witness = now.witness.clone();
                        acquisitions = now.acquisitions.clone();
                        message = reaches(&witness);
                    }
                }
                if wider.is_empty() {
                    "unchanged"
                } else {
                    "fails wider"
                }
            }
            (false, false) => continue,
        };
        changes.push(VerdictChange {
            invariant: result.name.clone(),
            kind,
            before: was.map(Status::as_str),
            after: result.status.as_str(),
            severity: result.severity,
            message,
            witness,
            acquisitions,
            wider,
        });
    }
    // Worst news first: regressions (new or wider) by severity, then the rest.
    changes.sort_by_key(|change| {
        let rank = match change.kind {
            "regression" | "fails wider" => 0,
            "unchanged" => 1,
            _ => 2,
        };
        (
            rank,
            std::cmp::Reverse(change.severity),
            change.invariant.clone(),
        )
    });
    changes
}

/// Pairs reachable in `head` and not in `base`, and the reverse, by name.
fn pairs(base: &Model, head: &Model, level: EntityKind) -> (Vec<PairChange>, Vec<PairChange>) {
    let reachable = |model: &Model| -> BTreeMap<(String, String), u32> {
        // `internet` is a row and a column like any entity of the level.
        let report = matrix(model, level, false).with_internet();
        report
            .cells
            .iter()
            .map(|cell| {
                (
                    (
                        report.entities[cell.from].clone(),
                        report.entities[cell.to].clone(),
                    ),
                    cell.hops,
                )
            })
            .collect()
    };
    let before = reachable(base);
    let after = reachable(head);
    let mut opened = Vec::new();
    for ((from, to), hops) in &after {
        if before.contains_key(&(from.clone(), to.clone())) {
            continue;
        }
        let (witness, acquisitions) = match (head.find_entity(from), head.find_entity(to)) {
            (Some(a), Some(b)) => {
                let found = find_paths(
                    head,
                    &Selection::from_entities(head, vec![a]),
                    &Selection::from_entities(head, vec![b]),
                    &[],
                    1,
                );
                let witness = found
                    .paths
                    .first()
                    .map(|steps| Hop::from_steps(head, steps))
                    .unwrap_or_default();
                let acquisitions = found
                    .stories
                    .first()
                    .map(|story| Acquisition::from_story(head, story))
                    .unwrap_or_default();
                (witness, acquisitions)
            }
            _ => (Vec::new(), Vec::new()),
        };
        opened.push(PairChange {
            from: from.clone(),
            to: to.clone(),
            hops: *hops,
            witness,
            acquisitions,
        });
    }
    let mut closed: Vec<PairChange> = before
        .iter()
        .filter(|(pair, _)| !after.contains_key(*pair))
        .map(|((from, to), hops)| PairChange {
            from: from.clone(),
            to: to.clone(),
            hops: *hops,
            witness: Vec::new(),
            acquisitions: Vec::new(),
        })
        .collect();
    // Exposure to the internet first, then reach out to it, then the rest by name.
    for list in [&mut opened, &mut closed] {
        list.sort_by_key(|pair| (pair.from != INTERNET, pair.to != INTERNET));
    }
    (opened, closed)
}

/// Between the parts of a description ("held by [a, b]; active; leaked"), so that a
/// reader can show only the parts that changed.
pub const PART: &str = "; ";

/// Things by key, each with a description to compare and its location.
type Inventory = BTreeMap<String, (String, String)>;

fn compare(changes: &mut Vec<Change>, what: &'static str, base: &Inventory, head: &Inventory) {
    for (key, (description, location)) in head {
        match base.get(key) {
            None => changes.push(Change {
                what,
                key: key.clone(),
                kind: ChangeKind::Added,
                before: None,
                after: Some(description.clone()),
                location: location.clone(),
            }),
            Some((before, _)) if before != description => changes.push(Change {
                what,
                key: key.clone(),
                kind: ChangeKind::Changed,
                before: Some(before.clone()),
                after: Some(description.clone()),
                location: location.clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, (description, location)) in base {
        if !head.contains_key(key) {
            changes.push(Change {
                what,
                key: key.clone(),
                kind: ChangeKind::Removed,
                before: Some(description.clone()),
                after: None,
                location: location.clone(),
            });
        }
    }
}

fn entities(model: &Model) -> Inventory {
    model
        .entities
        .iter()
        .filter(|e| e.kind != EntityKind::Internet)
        .map(|entity| {
            let parent = entity.parent.map_or("", |p| model.entity(p).name.as_str());
            let cidrs: Vec<String> = entity.cidrs.iter().map(ToString::to_string).collect();
            let description = format!(
                "{} in `{parent}`; cidrs [{}]; tags [{}]",
                entity.kind,
                cidrs.join(", "),
                entity.tags.join(", ")
            );
            let location = entity
                .location
                .map(|at| model.sources.file_line(at).to_string())
                .unwrap_or_default();
            (entity.name.clone(), (description, location))
        })
        .collect()
}

fn credentials(model: &Model) -> Inventory {
    model
        .credentials
        .iter()
        .map(|credential| {
            let description = format!(
                "held by [{}]; {}{}",
                credential.holders.names(model),
                if credential.is_active() {
                    "active"
                } else {
                    "revoked"
                },
                if credential.leaked { "; leaked" } else { "" }
            );
            let location = model.sources.file_line(credential.location).to_string();
            (credential.name.clone(), (description, location))
        })
        .collect()
}

fn flows(model: &Model) -> Inventory {
    model
        .flow_ids()
        .map(|id| {
            let flow = model.flow(id);
            let ports: Vec<String> = flow.ports().iter().map(ToString::to_string).collect();
            let auth: Vec<&str> = flow
                .auth()
                .iter()
                .map(|&c| model.credential(c).name.as_str())
                .collect();
            let description = format!(
                "[{}] -> [{}] on [{}]{}",
                flow.from.names(model),
                flow.to.names(model),
                ports.join(", "),
                if auth.is_empty() {
                    String::new()
                } else {
                    format!(" with [{}]", auth.join(", "))
                }
            );
            // An unnamed flow is known by what it allows, since its line moves.
            let key = model
                .flow_name(id)
                .map_or_else(|| description.clone(), str::to_owned);
            let location = model.sources.file_line(flow.location).to_string();
            (key, (description, location))
        })
        .collect()
}
