//! `path`: how one selection reaches another, and by which paths; `cut` says what
//! stops it, and [`report`] names both for renderers.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::cut::Isolation;
use crate::engine::{Engine, Goal, Step};
use crate::graph::ReachGraph;
use crate::model::{EntityId, FlowId, Model, Selection};
use crate::ports::PortSpec;
use crate::report::{Acquisition, CutFlow, Hop, PathReport};
use crate::story::{self, Acquired};

/// What `path` found, in cordon's ids; `report` names it for renderers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paths {
    /// Shortest first, then in order of length; each differs from the others in at
    /// least one flow.
    pub paths: Vec<Vec<Step>>,
    /// Per path, how the attacker obtains its credentials: see [`story`].
    pub stories: Vec<Vec<Acquired>>,
}

/// The shortest path from `from` to `to` whose last flow allows `ports`, then up to
/// `all` paths in all.
pub fn find_paths(
    model: &Model,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
    all: usize,
) -> Paths {
    let graph = ReachGraph::build(model);
    let Some(first) = shortest(model, &graph, from, to, ports, &[]) else {
        return Paths::default();
    };
    let mut paths = vec![first];
    if all > 1 {
        more_paths(model, &graph, from, to, ports, all, &mut paths);
    }
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    let stories = story::tell_each(&engine, &mut workspace, from, None, &mut paths);
    Paths { paths, stories }
}

fn flow_set(path: &[Step]) -> Vec<FlowId> {
    let mut flows: Vec<FlowId> = path.iter().map(|step| step.flow).collect();
    flows.sort_unstable();
    flows.dedup();
    flows
}

/// A path being extended: its length, its steps as (flow, leaf landed on), and the
/// leaf it starts from. Ordered by length first, so the shortest is extended first.
type Partial = (usize, Vec<(FlowId, EntityId)>, EntityId);

/// How many partial paths the search for further paths may expand before it stops
/// with what it has: enough for any question a person asks, bounded on any model.
const PATH_BUDGET: usize = 200_000;

/// Adds paths after the shortest, in order of length, until there are `all`: a
/// best-first enumeration of simple paths from leaf to leaf, each ending at its first
/// target, keeping one path per set of flows.
fn more_paths(
    model: &Model,
    graph: &ReachGraph,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
    all: usize,
    paths: &mut Vec<Vec<Step>>,
) {
    let engine = Engine::new(model, graph);
    let mut workspace = engine.workspace();
    engine.fixpoint(&mut workspace, from, None);
    // The flows each leaf can use: those whose `from` covers it, if open.
    let mut usable: Vec<Vec<FlowId>> = vec![Vec::new(); model.entities.len()];
    for flow in model.flow_ids() {
        if !engine.is_open(&workspace, flow) {
            continue;
        }
        for leaf in model.flow(flow).from.leaves(model) {
            usable[leaf.index()].push(flow);
        }
    }
    let mut seen: BTreeSet<Vec<FlowId>> = paths.iter().map(|path| flow_set(path)).collect();
    let mut queue: BinaryHeap<Reverse<Partial>> = BinaryHeap::new();
    for start in from.leaves(model) {
        queue.push(Reverse((0, Vec::new(), start)));
    }
    let mut expanded = 0;
    while let Some(Reverse((length, steps, start))) = queue.pop() {
        if paths.len() >= all || expanded >= PATH_BUDGET {
            break;
        }
        expanded += 1;
        let here = steps.last().map_or(start, |&(_, leaf)| leaf);
        for &flow in &usable[here.index()] {
            for next in model.flow(flow).to.leaves(model) {
                let visited = next == start || steps.iter().any(|&(_, leaf)| leaf == next);
                if visited || from.contains(model, next) {
                    continue;
                }
                let mut longer = steps.clone();
                longer.push((flow, next));
                if to.contains(model, next) {
                    if !crate::ports::any_overlap(model.flow(flow).ports(), ports) {
                        continue;
                    }
                    let mut flows: Vec<FlowId> = longer.iter().map(|&(f, _)| f).collect();
                    flows.sort_unstable();
                    flows.dedup();
                    if seen.insert(flows) {
                        let mut current = start;
                        let witness = longer
                            .iter()
                            .map(|&(flow, leaf)| {
                                let step = engine.step(&workspace, current, leaf, flow);
                                current = leaf;
                                step
                            })
                            .collect();
                        paths.push(witness);
                        if paths.len() >= all {
                            return;
                        }
                    }
                } else {
                    queue.push(Reverse((length + 1, longer, start)));
                }
            }
        }
    }
}

/// The shortest witness with `removed` flows taken out.
fn shortest(
    model: &Model,
    graph: &ReachGraph,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
    removed: &[FlowId],
) -> Option<Vec<Step>> {
    let engine = Engine::with_changes(model, graph, removed, &[]);
    let mut workspace = engine.workspace();
    let goal = Goal { targets: to, ports };
    let arrival = engine.arrive(&mut workspace, from, None, &goal)?;
    Some(engine.witness(&workspace, arrival))
}

/// Names what `find_paths` found, for renderers.
pub fn report(
    model: &Model,
    from: Vec<String>,
    to: Vec<String>,
    ports: &[PortSpec],
    found: &Paths,
    isolation: &Isolation,
) -> PathReport {
    let cut = isolation
        .cut
        .flows
        .iter()
        .map(|&id| {
            let flow = model.flow(id);
            CutFlow {
                flow: model.flow_label(id),
                location: model.sources.file_line(flow.location).to_string(),
                from: flow.from.names(model),
                to: flow.to.names(model),
                credentials: flow
                    .auth()
                    .iter()
                    .map(|&c| (model.credential(c).name.clone(), model.credential(c).leaked))
                    .collect(),
            }
        })
        .collect();
    PathReport {
        from,
        to,
        ports: ports.iter().map(ToString::to_string).collect(),
        leaked: Vec::new(),
        paths: found
            .paths
            .iter()
            .map(|steps| Hop::from_steps(model, steps))
            .collect(),
        acquisitions: found
            .stories
            .iter()
            .map(|story| Acquisition::from_story(model, story))
            .collect(),
        cut,
        cut_exact: isolation.cut.exact,
        cut_lower_bound: isolation.cut.lower_bound,
        revocations: isolation
            .revocations
            .iter()
            .map(|&c| model.credential(c).name.clone())
            .collect(),
    }
}
