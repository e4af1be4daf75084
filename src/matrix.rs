//! `matrix`: who reaches whom among all entities of one kind.

use crate::engine::{Engine, Landing, UNREACHED};
use crate::graph::ReachGraph;
use crate::model::{EntityId, EntityKind, Model, Selection};
use crate::report::{Hop, MatrixCell, MatrixReport};

/// For every ordered pair of `kind` entities that do not overlap, the fewest flows from
/// the first (the attacker controlling all of it) to any part of the second. With
/// `witnesses`, each cell also carries its shortest path.
pub fn matrix(model: &Model, kind: EntityKind, witnesses: bool) -> MatrixReport {
    let entities: Vec<EntityId> = model
        .entity_ids()
        .filter(|&id| model.entity(id).kind == kind)
        .collect();
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    // Children before parents, so that a subtree's minimum is ready for its parent.
    let mut bottom_up = Vec::with_capacity(model.entities.len());
    for root in model.top_level() {
        model.descendants(root, &mut bottom_up);
    }
    bottom_up.reverse();
    let mut nearest = vec![UNREACHED; model.entities.len()];
    let mut cells = Vec::new();
    for (row, &from) in entities.iter().enumerate() {
        let start = Selection::from_entities(model, vec![from]);
        engine.fixpoint(&mut workspace, &start, None);
        engine.shortest(&mut workspace, &start, None, None);
        // The fewest flows to anything inside each entity.
        for &entity in &bottom_up {
            let own = workspace.dist(graph.in_node(entity)).unwrap_or(UNREACHED);
            let children = model
                .entity(entity)
                .children
                .iter()
                .map(|c| nearest[c.index()]);
            nearest[entity.index()] = children.fold(own, u32::min);
        }
        let landings = witnesses.then(|| engine.landings(&workspace, &[]));
        for (column, &to) in entities.iter().enumerate() {
            let hops = nearest[to.index()];
            if row == column || hops == UNREACHED || overlaps(model, from, to) {
                continue;
            }
            let witness = match &landings {
                Some(landings) => witness(model, &engine, &workspace, landings, &start, to),
                None => Vec::new(),
            };
            cells.push(MatrixCell {
                from: row,
                to: column,
                hops,
                witness,
            });
        }
    }
    MatrixReport {
        level: kind.as_str(),
        entities: entities
            .iter()
            .map(|&id| model.entity(id).name.clone())
            .collect(),
        cells,
    }
}

/// Whether one entity contains the other.
fn overlaps(model: &Model, a: EntityId, b: EntityId) -> bool {
    model.ancestors(a).any(|x| x == b) || model.ancestors(b).any(|x| x == a)
}

/// The shortest path into `to` after a complete search from `start`.
fn witness(
    model: &Model,
    engine: &Engine,
    workspace: &crate::engine::Workspace,
    landings: &[Option<Landing>],
    start: &Selection,
    to: EntityId,
) -> Vec<Hop> {
    let target = Selection::from_entities(model, vec![to]);
    let best = target
        .leaves(model)
        .into_iter()
        .filter(|&leaf| !start.contains(model, leaf))
        .filter_map(|leaf| landings[leaf.index()].map(|landing| (landing.hops, leaf, landing)))
        .min_by_key(|&(hops, leaf, _)| (hops, leaf));
    match best {
        Some((_, leaf, landing)) => {
            Hop::from_steps(model, &engine.witness_landing(workspace, leaf, landing))
        }
        None => Vec::new(),
    }
}
