//! `diff`: what a change opens or closes. Compares two models: the invariants whose
//! verdict changed, that fail wider or that an exception newly waives, the pairs of
//! entities (and `internet`) newly reachable (with the path in the new model) or no
//! longer reachable, and the invariants, exceptions, flows, credentials and entities
//! that changed, with what each change to an invariant does to the gate.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::{Ends, check, reached_targets, reaches};
use crate::date::Date;
use crate::matrix::matrix;
use crate::model::{EntityKind, INTERNET, Model, Selection, Severity};
use crate::path::find_paths;
use crate::port_set::PortSet;
use crate::report::{
    Acquisition, Change, ChangeKind, CheckReport, DiffReport, Effect, ExceptionNote, Hop,
    PairChange, Status, VerdictChange,
};

/// Compares `base` and `head`, reachability counted at `level`.
pub fn diff(base: &Model, head: &Model, level: EntityKind, today: Date) -> DiffReport {
    let base_check = check(base, today);
    let head_check = check(head, today);
    let mut changes = invariant_changes(base, head);
    let loosened = exception_changes(&mut changes, &base_check, &head_check);
    let verdicts = verdicts(base, head, &base_check, &head_check, &loosened);
    let (opened, closed) = pairs(base, head, level);
    compare(&mut changes, "entity", &entities(base), &entities(head));
    let first = changes.len();
    compare(
        &mut changes,
        "credential",
        &credentials(base),
        &credentials(head),
    );
    point_at_leaks(&mut changes[first..], base, head);
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
/// One waived now is `newly waived` when it was not waived before, and `waiver changed`
/// when an exception that waives it is among `loosened` (by location in `head`); an
/// invariant new in `head` had no verdict to hide, so its waiver is no change.
fn verdicts(
    base_model: &Model,
    head_model: &Model,
    base: &CheckReport,
    head: &CheckReport,
    loosened: &BTreeSet<String>,
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
            // Hidden by an exception: `fail -> waived` is no improvement.
            _ if result.status == Status::Waived => match was {
                Some(Status::Pass | Status::Fail) => "newly waived",
                Some(Status::Waived)
                    if result
                        .waivers
                        .iter()
                        .any(|waiver| loosened.contains(&waiver.location)) =>
                {
                    "waiver changed"
                }
                _ => continue,
            },
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
            // Only a waived verdict has waivers.
            waivers: result.waivers.clone(),
        });
    }
    // Worst news first: regressions (new or wider) by severity, then what is newly
    // waived, then the rest.
    changes.sort_by_key(|change| {
        let rank = if change.regresses() {
            0
        } else if change.newly_waived() {
            1
        } else if change.kind == "unchanged" {
            2
        } else {
            3
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

/// An invariant's terms, each compared on its own: what `check` reads of it, and not
/// its description or references.
struct Terms {
    kind: &'static str,
    from: String,
    to: String,
    via: Option<String>,
    /// `None` for a `through`, which takes no `ports`; every port when none is given.
    ports: Option<PortSet>,
    direct: bool,
    severity: Severity,
    location: String,
}

impl Terms {
    fn of(model: &Model, invariant: &crate::model::Invariant) -> Terms {
        let Ends {
            from,
            to,
            ports,
            direct,
            via,
        } = Ends::of(invariant);
        // No `ports` asks about every port; a `through` takes none.
        let ports = via.is_none().then(|| {
            if ports.is_empty() {
                PortSet::all()
            } else {
                PortSet::from_specs(ports.iter().copied())
            }
        });
        Terms {
            kind: invariant.rule.kind(),
            from: from.text.clone(),
            to: to.text.clone(),
            via: via.map(|via| via.text.clone()),
            ports,
            direct,
            severity: invariant.severity,
            location: model.sources.file_line(invariant.location).to_string(),
        }
    }

    /// The terms as parts that name themselves ("from [internet]", "direct true"), so
    /// that a reader of a change shows only the parts that differ.
    fn description(&self) -> String {
        let mut parts = vec![
            self.kind.to_owned(),
            format!("from [{}]", self.from),
            format!("to [{}]", self.to),
        ];
        if let Some(via) = &self.via {
            parts.push(format!("via [{via}]"));
        }
        if let Some(ports) = &self.ports {
            let specs: Vec<String> = ports.specs().iter().map(ToString::to_string).collect();
            parts.push(format!("ports [{}]", specs.join(", ")));
            parts.push(format!("direct {}", self.direct));
        }
        parts.push(format!("severity {}", self.severity.as_str()));
        parts.join(PART)
    }

    /// What going from `before` to `self` does to the gate; `None` when nothing that
    /// `check` reads changed. A `forbid` asks more the more ports it covers and the more
    /// paths (not only single flows) it counts; a `require` asks less by the same.
    fn effect(&self, before: &Terms) -> Option<Effect> {
        if self.kind != before.kind
            || self.from != before.from
            || self.to != before.to
            || self.via != before.via
        {
            // Ends written otherwise may select more or fewer entities, or others: only a
            // reviewer can say which.
            return Some(Effect::Redefines);
        }
        let forbids = self.kind == "forbid";
        // The effect of a term that asks more of a `forbid`.
        let asks_more = |more: bool| match (more, forbids) {
            (true, true) | (false, false) => Effect::Strengthens,
            _ => Effect::Weakens,
        };
        let mut effects = Vec::new();
        if self.severity != before.severity {
            effects.push(if self.severity > before.severity {
                Effect::Strengthens
            } else {
                Effect::Weakens
            });
        }
        if let (Some(now), Some(was)) = (&self.ports, &before.ports)
            && now != was
        {
            let covers = |wide: &PortSet, narrow: &PortSet| narrow.intersect(wide) == *narrow;
            effects.push(if covers(now, was) {
                asks_more(true)
            } else if covers(was, now) {
                asks_more(false)
            } else {
                Effect::Redefines
            });
        }
        if self.direct != before.direct {
            // Counting single flows only, a `forbid` forbids fewer paths.
            effects.push(asks_more(!self.direct));
        }
        effects.into_iter().max()
    }
}

/// Invariants removed, added or changed between `base` and `head`, by name, each with
/// what it does to the gate.
fn invariant_changes(base: &Model, head: &Model) -> Vec<Change> {
    let terms = |model: &Model| -> BTreeMap<String, Terms> {
        model
            .invariants
            .iter()
            .map(|invariant| (invariant.name.clone(), Terms::of(model, invariant)))
            .collect()
    };
    let (before, after) = (terms(base), terms(head));
    let mut changes = Vec::new();
    for (name, now) in &after {
        let (kind, was, effect) = match before.get(name) {
            None => (ChangeKind::Added, None, Some(Effect::Strengthens)),
            Some(was) => match now.effect(was) {
                Some(effect) => (ChangeKind::Changed, Some(was), Some(effect)),
                None => continue,
            },
        };
        changes.push(Change {
            what: "invariant",
            key: name.clone(),
            kind,
            before: was.map(Terms::description),
            after: Some(now.description()),
            location: now.location.clone(),
            effect,
        });
    }
    for (name, was) in &before {
        if !after.contains_key(name) {
            changes.push(Change {
                what: "invariant",
                key: name.clone(),
                kind: ChangeKind::Removed,
                before: Some(was.description()),
                after: None,
                location: was.location.clone(),
                effect: Some(Effect::Weakens),
            });
        }
    }
    changes
}

/// An exception's terms as parts, like an invariant's.
fn exception_description(note: &ExceptionNote) -> String {
    let route = if note.path.is_empty() {
        "any route".to_owned()
    } else {
        format!("route {}", note.path.join(" -> "))
    };
    [
        format!("until {}", note.expires),
        route,
        format!("owner {}", note.owner),
        format!("reason {}", note.reason),
    ]
    .join(PART)
}

/// Whether going from exception `was` to `now` lets it waive more: a later date, or
/// another route (a route where any was waived asks more, so it does not count).
fn waives_more(was: &ExceptionNote, now: &ExceptionNote) -> bool {
    now.expires > was.expires || (now.path != was.path && !was.path.is_empty())
}

/// Exceptions added, removed or changed, matched by their invariant's name: within one
/// invariant's, those with the same terms first, then the rest in input order. Returns
/// the locations in `head` of the exceptions that are new or waive more than before.
fn exception_changes(
    changes: &mut Vec<Change>,
    base: &CheckReport,
    head: &CheckReport,
) -> BTreeSet<String> {
    /// Each exception with its description, by its invariant's name.
    type Grouped<'a> = BTreeMap<&'a str, Vec<(String, &'a ExceptionNote)>>;
    fn by_invariant(report: &CheckReport) -> Grouped<'_> {
        let mut grouped: Grouped = BTreeMap::new();
        for (invariant, note) in &report.exceptions {
            grouped
                .entry(invariant)
                .or_default()
                .push((exception_description(note), note));
        }
        grouped
    }
    let (mut before, after) = (by_invariant(base), by_invariant(head));
    let mut loosened = BTreeSet::new();
    let mut push = |kind,
                    invariant: &str,
                    was: Option<(String, &ExceptionNote)>,
                    now: Option<(String, &ExceptionNote)>| {
        changes.push(Change {
            what: "exception",
            key: invariant.to_owned(),
            kind,
            location: now
                .as_ref()
                .or(was.as_ref())
                .map(|(_, note)| note.location.clone())
                .unwrap_or_default(),
            before: was.map(|(description, _)| description),
            after: now.map(|(description, _)| description),
            effect: None,
        });
    };
    for (invariant, now) in after {
        let mut was = before.remove(invariant).unwrap_or_default();
        // The same terms, wherever they are, are no change.
        let rest: Vec<(String, &ExceptionNote)> = now
            .into_iter()
            .filter(|(description, _)| {
                let same = was.iter().position(|(old, _)| old == description);
                same.map(|same| was.remove(same)).is_none()
            })
            .collect();
        let mut was = was.into_iter();
        for (description, note) in rest {
            let old = was.next();
            if old.as_ref().is_none_or(|(_, old)| waives_more(old, note)) {
                loosened.insert(note.location.clone());
            }
            let kind = if old.is_some() {
                ChangeKind::Changed
            } else {
                ChangeKind::Added
            };
            push(kind, invariant, old, Some((description, note)));
        }
        for old in was {
            push(ChangeKind::Removed, invariant, Some(old), None);
        }
    }
    for (invariant, was) in before {
        for old in was {
            push(ChangeKind::Removed, invariant, Some(old), None);
        }
    }
    loosened
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
                effect: None,
            }),
            Some((before, _)) if before != description => changes.push(Change {
                what,
                key: key.clone(),
                kind: ChangeKind::Changed,
                before: Some(before.clone()),
                after: Some(description.clone()),
                location: location.clone(),
                effect: None,
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
                effect: None,
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

/// A credential that leaked on one side only, by a `leaks` entry, changed where that
/// entry is: the line a reviewer must read, not the credential's declaration, which
/// for an imported credential is a manifest or a plan that did not change.
fn point_at_leaks(changes: &mut [Change], base: &Model, head: &Model) {
    for change in changes.iter_mut().filter(|c| c.kind == ChangeKind::Changed) {
        let (Some(before), Some(after)) = (
            base.find_credential(&change.key)
                .map(|id| base.credential(id)),
            head.find_credential(&change.key)
                .map(|id| head.credential(id)),
        ) else {
            continue;
        };
        let only_the_leak = before.leaked != after.leaked
            && before.status == after.status
            && before.holders.names(base) == after.holders.names(head);
        let (model, entry) = if after.leaked {
            (head, after.leaked_at)
        } else {
            (base, before.leaked_at)
        };
        if let (true, Some(at)) = (only_the_leak, entry) {
            change.location = model.sources.file_line(at).to_string();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model_from_text;

    /// What changing the first invariant's rule from `before` to `after` does.
    fn effect(before: &str, after: &str) -> Option<Effect> {
        let terms = |rule: &str| {
            let yaml = format!(
                "assets:\n  - {{name: a}}\n  - {{name: b}}\n  - {{name: c}}\ninvariants:\n  - {{name: i, {rule}}}\n"
            );
            let model = model_from_text("p.yaml", &yaml).unwrap();
            Terms::of(&model, &model.invariants[0])
        };
        terms(after).effect(&terms(before))
    }

    #[test]
    fn a_forbid_asks_more_with_more_ports_and_without_direct_and_a_require_less() {
        use Effect::*;
        let cases = [
            ("forbid: {from: a, to: b}", "forbid: {from: a, to: b}", None),
            // Ports are compared as sets, not as written.
            (
                "forbid: {from: a, to: b, ports: [tcp/22, tcp/443]}",
                "forbid: {from: a, to: b, ports: [tcp/443, tcp/22]}",
                None,
            ),
            (
                "forbid: {from: a, to: b, ports: [tcp/22]}",
                "forbid: {from: a, to: b, ports: [tcp]}",
                Some(Strengthens),
            ),
            (
                "forbid: {from: a, to: b, ports: [tcp]}",
                "forbid: {from: a, to: b, ports: [tcp/22, udp/53]}",
                Some(Redefines),
            ),
            (
                "require: {from: a, to: b, ports: [tcp/22]}",
                "require: {from: a, to: b, ports: [tcp]}",
                Some(Weakens),
            ),
            (
                "require: {from: a, to: b}",
                "require: {from: a, to: b, direct: true}",
                Some(Strengthens),
            ),
            (
                "forbid: {from: a, to: b, direct: true}",
                "forbid: {from: a, to: b}",
                Some(Strengthens),
            ),
            // One term asks more, another less: weaker, since something is.
            (
                "forbid: {from: a, to: b, ports: [tcp/22]}",
                "forbid: {from: a, to: b, direct: true}",
                Some(Weakens),
            ),
            (
                "through: {from: a, to: c, via: b}",
                "severity: critical, through: {from: a, to: c, via: b}",
                Some(Strengthens),
            ),
            (
                "through: {from: a, to: c, via: b}",
                "forbid: {from: a, to: c}",
                Some(Redefines),
            ),
        ];
        for (before, after, expected) in cases {
            assert_eq!(effect(before, after), expected, "{before} -> {after}");
        }
    }
}
