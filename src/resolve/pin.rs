//! An exception's pinned `path`: its names turned into entities and flows, and checked to
//! be a route of the model that the invariant's witness could follow. A pin that no
//! witness can ever follow would waive nothing while looking like a control, so it is
//! an input error, not something to trust.

use super::Context;
use crate::diagnostic::Problem;
use crate::location::{Location, SourceId};
use crate::model::{EntityId, Flow, FlowId, Flows, Invariant, Model, PinStep, Rule, Selection};
use crate::raw::At;
use crate::suggest::did_you_mean;

/// How a pin element names a flow rather than an entity: `flow:NAME`.
pub const FLOW_PREFIX: &str = "flow:";

/// One element of a pinned path as written.
#[derive(Clone, Copy)]
enum Element {
    Entity(EntityId),
    Flow(FlowId),
}

/// Where a pinned path is written: its file, the exception's own location (where route
/// problems are reported), and its elements.
pub(super) struct Written<'r> {
    pub source: SourceId,
    pub at: Location,
    pub raw: &'r [At<String>],
}

/// The pinned route of an exception on `invariant`, or `None` after reporting why it is
/// not one. `check_route` is false when some flow failed to resolve, so that a missing
/// flow is not reported twice.
pub(super) fn pinned_route(
    cx: &mut Context,
    model: &Model,
    flows: &Flows,
    invariant: Option<&Invariant>,
    written: Written,
    check_route: bool,
) -> Option<Vec<PinStep>> {
    let Written { source, at, raw } = written;
    let elements = elements(cx, model, flows, source, raw)?;
    let steps = steps(cx, model, flows, at, &elements)?;
    let invariant = invariant?;
    if !check_route {
        return Some(steps);
    }
    let (from, to) = match &invariant.rule {
        Rule::Require { .. } => {
            cx.error(
                at,
                Problem::PinOnRequire {
                    invariant: invariant.name.clone(),
                },
            )
            .help("remove `path`: a failing `require` has no witness to pin");
            return None;
        }
        Rule::Forbid { from, to, .. } | Rule::Through { from, to, .. } => (from, to),
    };
    let mut ok = true;
    for (end, step, which) in [
        (&from.selection, steps.first(), "from"),
        (&to.selection, steps.last(), "to"),
    ] {
        if let Some(step) = step
            && end.overlap(model, &single(model, step.entity)).is_none()
        {
            cx.error(
                at,
                Problem::PinOutsideEnd {
                    entity: model.entity(step.entity).name.clone(),
                    end: which,
                    invariant: invariant.name.clone(),
                },
            )
            .help(format!(
                "a pinned path runs from the invariant's `from` to its `to`: `{}` to `{}`",
                from.text, to.text
            ));
            ok = false;
        }
    }
    for pair in steps.windows(2) {
        let (before, after) = (pair[0].entity, pair[1].entity);
        let connects = |flow: &Flow| {
            flow.from.overlap(model, &single(model, before)).is_some()
                && flow.to.overlap(model, &single(model, after)).is_some()
        };
        let problem = match pair[1].flow {
            Some(id) if !connects(&flows[id.index()]) => Problem::PinnedFlowMisses {
                flow: flow_name(flows, id),
                from: model.entity(before).name.clone(),
                to: model.entity(after).name.clone(),
            },
            None if !flows.iter().any(connects) => Problem::NoFlowOnPin {
                from: model.entity(before).name.clone(),
                to: model.entity(after).name.clone(),
            },
            _ => continue,
        };
        cx.error(at, problem).help(
            "list the witness's leaves (or groups around them) one per hop, each pair joined by a flow",
        );
        ok = false;
    }
    ok.then_some(steps)
}

fn single(model: &Model, entity: EntityId) -> Selection {
    Selection::from_entities(model, vec![entity])
}

fn flow_name(flows: &Flows, id: FlowId) -> String {
    flows.name(id.index()).unwrap_or_default().to_owned()
}

/// Each element as an entity or a named flow, every unknown name reported.
fn elements(
    cx: &mut Context,
    model: &Model,
    flows: &Flows,
    source: SourceId,
    raw: &[At<String>],
) -> Option<Vec<Element>> {
    let mut elements = Vec::new();
    let mut ok = true;
    for item in raw {
        let text = item.value.trim();
        // An entity's own name wins: imported names may contain `:`.
        if let Some(id) = model.find_entity(text) {
            elements.push(Element::Entity(id));
            continue;
        }
        let step_at = cx.location(source, item);
        if let Some(name) = text.strip_prefix(FLOW_PREFIX) {
            match flows.names().position(|flow| flow == Some(name)) {
                Some(index) => elements.push(Element::Flow(FlowId(index as u32))),
                None => {
                    ok = false;
                    let help = did_you_mean(name, flows.names().flatten())
                        .unwrap_or_else(|| {
                            "pin a flow by its `name`, as `flow:NAME`; a flow without one cannot be pinned".to_owned()
                        });
                    cx.error(
                        step_at,
                        Problem::UnknownName {
                            what: "flow",
                            name: name.to_owned(),
                        },
                    )
                    .help(help);
                }
            }
            continue;
        }
        ok = false;
        let help = did_you_mean(text, model.entities.iter().map(|e| e.name.as_str()));
        cx.error(
            step_at,
            Problem::UnknownName {
                what: "entity",
                name: item.value.clone(),
            },
        )
        .maybe_help(help);
    }
    ok.then_some(elements)
}

/// Entities with the flows between them folded into the step they enter.
fn steps(
    cx: &mut Context,
    model: &Model,
    flows: &Flows,
    at: Location,
    elements: &[Element],
) -> Option<Vec<PinStep>> {
    let mut steps: Vec<PinStep> = Vec::new();
    let mut pending: Option<FlowId> = None;
    let mut ok = true;
    let misplaced = |cx: &mut Context, flow: FlowId| {
        cx.error(
            at,
            Problem::PinnedFlowPlacement {
                flow: flow_name(flows, flow),
            },
        )
        .help("write the flow between the two entities it joins: `[FROM, flow:NAME, TO]`");
    };
    for &element in elements {
        match element {
            Element::Entity(entity) => steps.push(PinStep {
                entity,
                flow: pending.take(),
            }),
            Element::Flow(flow) => {
                if steps.is_empty() || pending.is_some() {
                    misplaced(cx, flow);
                    ok = false;
                }
                pending = Some(flow);
            }
        }
    }
    if let Some(flow) = pending {
        misplaced(cx, flow);
        ok = false;
    }
    if ok && steps.len() < 2 {
        let named = steps
            .first()
            .map(|step| model.entity(step.entity).name.clone())
            .unwrap_or_default();
        cx.error(at, Problem::ShortPin { named }).help(
            "list the witness's leaves from first to last, or remove `path` to waive any witness",
        );
        ok = false;
    }
    ok.then_some(steps)
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::policy::model_from_text;

    const ESTATE: &str = "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
flows:
  - {name: ab, from: a, to: b}
  - {name: bc, from: b, to: c}
invariants:
  - {name: t, forbid: {from: a, to: c}}
  - {name: r, require: {from: a, to: c}}
exceptions:
";

    /// The problems of a model with one more exception, as `LINE: message`.
    fn problems(exception: &str) -> Vec<String> {
        let yaml = format!("{ESTATE}  - {exception}\n");
        match model_from_text("p.yaml", &yaml) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics
                .iter()
                .map(|d: &Diagnostic| format!("{}: {}", d.line, d.problem))
                .collect(),
        }
    }

    const LINE: &str = "13";

    #[test]
    fn a_route_of_the_model_resolves() {
        let base = "{invariant: t, reason: x, owner: o, expires: 2030-01-01, path: ";
        assert_eq!(
            problems(&format!("{base}[a, b, c]}}")),
            Vec::<String>::new()
        );
        assert_eq!(
            problems(&format!("{base}[a, flow:ab, b, flow:bc, c]}}")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_pin_that_is_not_a_route_is_an_error_at_the_exception() {
        let base = "{invariant: t, reason: x, owner: o, expires: 2030-01-01, path: ";
        assert_eq!(
            problems(&format!("{base}[a, c]}}")),
            [format!(
                "{LINE}: pinned path is not a route: no flow goes from `a` to `c`"
            )]
        );
        assert_eq!(
            problems(&format!("{base}[a, flow:bc, b, c]}}")),
            [format!(
                "{LINE}: pinned path is not a route: flow `bc` does not go from `a` to `b`"
            )]
        );
        assert_eq!(
            problems(&format!("{base}[b, c]}}")),
            [format!(
                "{LINE}: pinned path is not a route of `t`: `b` is outside its `from`"
            )]
        );
        assert_eq!(
            problems(&format!("{base}[a]}}")),
            [format!(
                "{LINE}: pinned path names one entity, `a`; a route needs two or more"
            )]
        );
        assert_eq!(
            problems(&format!("{base}[a, b, flow:bc]}}")),
            [format!(
                "{LINE}: pinned flow `bc` does not stand between two entities"
            )]
        );
        assert_eq!(
            problems(&format!("{base}[a, flow:nope, b]}}")),
            [format!("{LINE}: unknown flow `nope`")]
        );
        assert_eq!(
            problems("{invariant: r, reason: x, owner: o, expires: 2030-01-01, path: [a, b, c]}"),
            [format!(
                "{LINE}: exception for `require` invariant `r` pins a path"
            )]
        );
    }
}
