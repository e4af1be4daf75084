//! `reach`: which leaves a selection reaches, or which leaves reach it.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;

use crate::engine::{Engine, UNREACHED};
use crate::graph::{Edge, ReachGraph};
use crate::model::{CredentialId, EntityId, EntityKind, FlowId, Model, Selection};
use crate::ports::{self, PortSpec};
use crate::report::{Direction, LevelGroup, LevelSummary, ReachReport, Reached};

/// The leaves outside `selection` that it reaches, with the fewest flows for each.
pub fn reach_from(
    model: &Model,
    selection: &Selection,
    ports: &[PortSpec],
) -> Vec<(EntityId, u32)> {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    engine.fixpoint(&mut workspace, selection, None);
    engine.shortest(&mut workspace, selection, None, None);
    let landings = engine.landings(&workspace, ports);
    model
        .entity_ids()
        .filter(|&id| model.entity(id).is_leaf() && !selection.contains(model, id))
        .filter_map(|id| landings[id.index()].map(|landing| (id, landing.hops)))
        .collect()
}

/// The leaves outside `selection` that, each controlled alone, reach it, with the fewest
/// flows for each.
///
/// The flows a leaf can cross depend on the credentials it can collect, so leaves are
/// grouped by their credential fixpoint (computed on components, cheaply), and one
/// backward search per group, over the flows that group can open, gives every member
/// its exact distance. A first backward search over every flow that can ever open
/// skips the leaves that cannot reach the selection at all.
pub fn reach_to(model: &Model, selection: &Selection, ports: &[PortSpec]) -> Vec<(EntityId, u32)> {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let anyone = backward_distances(model, &graph, selection, ports, |flow| {
        engine.can_open(flow)
    });
    let candidates: Vec<EntityId> = model
        .entity_ids()
        .filter(|&id| model.entity(id).is_leaf() && !selection.contains(model, id))
        .filter(|&id| anyone[graph.in_node(id).index()] != UNREACHED)
        .collect();
    let conditional = model
        .flow_ids()
        .any(|flow| engine.can_open(flow) && !engine.open_from_start(flow));
    if !conditional {
        return candidates
            .into_iter()
            .map(|id| (id, anyone[graph.in_node(id).index()]))
            .collect();
    }
    let mut workspace = engine.workspace();
    let mut groups: BTreeMap<Vec<CredentialId>, Vec<EntityId>> = BTreeMap::new();
    // Leaves in one component hold the same credentials; compute each fixpoint once.
    let mut by_component: FxHashMap<u32, Vec<CredentialId>> = FxHashMap::default();
    for id in candidates {
        let component = engine.component(graph.in_node(id));
        let held = by_component.entry(component).or_insert_with(|| {
            let alone = Selection::from_entities(model, vec![id]);
            engine.fixpoint(&mut workspace, &alone, None);
            engine.held_credentials(&workspace)
        });
        groups.entry(held.clone()).or_default().push(id);
    }
    let mut found = Vec::new();
    for (held, leaves) in groups {
        let dist = backward_distances(model, &graph, selection, ports, |flow| {
            engine.open_from_start(flow)
                || model
                    .flow(flow)
                    .auth()
                    .iter()
                    .any(|credential| held.binary_search(credential).is_ok())
        });
        for id in leaves {
            let hops = dist[graph.in_node(id).index()];
            if hops != UNREACHED {
                found.push((id, hops));
            }
        }
    }
    found.sort_unstable();
    found
}

/// Fewest flows from every node to the selection, over the flows `open` accepts, with
/// the last flow allowing `ports`.
fn backward_distances(
    model: &Model,
    graph: &ReachGraph,
    selection: &Selection,
    ports: &[PortSpec],
    open: impl Fn(FlowId) -> bool,
) -> Vec<u32> {
    let mut dist = vec![UNREACHED; graph.node_count()];
    let mut queue = VecDeque::new();
    // Seeds: the flows that land inside the selection and allow the ports.
    for flow in model.flow_ids() {
        let spec = model.flow(flow);
        if !open(flow) || !ports::any_overlap(spec.ports(), ports) {
            continue;
        }
        let lands = spec.to.roots().iter().any(|&target| {
            selection.contains(model, target)
                || selection
                    .roots()
                    .iter()
                    .any(|&root| model.within(root, target))
        });
        if lands {
            let hub = graph.flow_node(flow);
            dist[hub.index()] = 0;
            queue.push_back(hub);
        }
    }
    while let Some(node) = queue.pop_front() {
        let here = dist[node.index()];
        for (previous, edge) in graph.predecessors(node) {
            let weight = match edge {
                Edge::Enter(flow) if !open(flow) => continue,
                Edge::Enter(_) => 1,
                Edge::Contains | Edge::Pivot | Edge::Exit => 0,
            };
            let candidate = here + weight;
            if candidate < dist[previous.index()] {
                dist[previous.index()] = candidate;
                if weight == 0 {
                    queue.push_front(previous);
                } else {
                    queue.push_back(previous);
                }
            }
        }
    }
    dist
}

/// Names and sorts what a query found, aggregated at `level` when given.
pub fn report(
    model: &Model,
    direction: Direction,
    selectors: Vec<String>,
    ports: &[PortSpec],
    found: Vec<(EntityId, u32)>,
    level: Option<EntityKind>,
) -> ReachReport {
    let by_level = level.map(|kind| summarize(model, kind, &found));
    let mut reachable: Vec<Reached> = found
        .into_iter()
        .map(|(id, hops)| Reached {
            entity: model.entity(id).name.clone(),
            kind: model.entity(id).kind.as_str(),
            hops,
        })
        .collect();
    reachable.sort_by(|a, b| a.entity.cmp(&b.entity));
    ReachReport {
        direction,
        selectors,
        ports: ports.iter().map(ToString::to_string).collect(),
        leaked: Vec::new(),
        reachable,
        by_level,
    }
}

/// Counts the leaves found by the entity of `kind` each sits in.
fn summarize(model: &Model, kind: EntityKind, found: &[(EntityId, u32)]) -> LevelSummary {
    let mut groups: BTreeMap<&str, LevelGroup> = BTreeMap::new();
    let owners = model.nearest(|entity| entity.kind == kind);
    for &(leaf, hops) in found {
        let Some(owner) = owners[leaf.index()] else {
            continue;
        };
        let name = model.entity(owner).name.as_str();
        let group = groups.entry(name).or_insert_with(|| LevelGroup {
            entity: name.to_owned(),
            leaves: 0,
            hops,
        });
        group.leaves += 1;
        group.hops = group.hops.min(hops);
    }
    LevelSummary {
        level: kind.as_str(),
        total: model.entities.iter().filter(|e| e.kind == kind).count(),
        groups: groups.into_values().collect(),
    }
}
