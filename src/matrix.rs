//! `matrix`: who reaches whom among all entities of one kind.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::engine::{Engine, Landing, Step, UNREACHED, Workspace};
use crate::graph::ReachGraph;
use crate::model::{CredentialId, EntityId, EntityKind, Model, Selection};
use crate::report::{Acquisition, Hop, InternetCell, InternetPairs, MatrixCell, MatrixReport};
use crate::story;

mod group_graph;

use group_graph::{GroupGraph, Search};

/// For every ordered pair of `kind` entities that do not overlap, the fewest flows from
/// the first (the attacker controlling all of it) to any part of the second. With
/// `witnesses`, each cell also carries its shortest path.
///
/// Rows are grouped by the credentials their attacker ends up holding, so that a group
/// shares one set of open flows; each row of a group is then searched on a compact copy
/// of what the group reaches ([`GroupGraph`]). Witnesses need the engine's parents and
/// stories, so with them each row gets a search of the whole graph.
///
/// `internet` is searched as one more row and column, in id order among the others,
/// and its pairs are then set apart in [`MatrixReport::internet`].
pub fn matrix(model: &Model, kind: EntityKind, witnesses: bool) -> MatrixReport {
    let internet = model.internet();
    let searched: Vec<EntityId> = model
        .entity_ids()
        .filter(|&id| model.entity(id).kind == kind || Some(id) == internet)
        .collect();
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let cells = if witnesses {
        per_row(model, &graph, &engine, &searched)
    } else {
        batched(model, &graph, &engine, kind, &searched)
    };
    // Indices into `searched`, turned into indices among the level's entities.
    let internet_index = internet.and_then(|id| searched.binary_search(&id).ok());
    let index = |i: usize| match internet_index {
        Some(skipped) if i > skipped => i - 1,
        _ => i,
    };
    let mut report = MatrixReport {
        level: kind.as_str(),
        entities: searched
            .iter()
            .filter(|&&id| Some(id) != internet)
            .map(|&id| model.entity(id).name.clone())
            .collect(),
        cells: Vec::new(),
        internet: InternetPairs::default(),
    };
    for cell in cells {
        let pair = InternetCell {
            entity: 0,
            hops: cell.hops,
            witness: cell.witness,
            acquisitions: cell.acquisitions,
        };
        if Some(cell.from) == internet_index {
            report.internet.reaches.push(InternetCell {
                entity: index(cell.to),
                ..pair
            });
        } else if Some(cell.to) == internet_index {
            report.internet.reached_by.push(InternetCell {
                entity: index(cell.from),
                ..pair
            });
        } else {
            report.cells.push(MatrixCell {
                from: index(cell.from),
                to: index(cell.to),
                hops: pair.hops,
                witness: pair.witness,
                acquisitions: pair.acquisitions,
            });
        }
    }
    report
        .cells
        .sort_unstable_by_key(|cell| (cell.from, cell.to));
    report
        .internet
        .reaches
        .sort_unstable_by_key(|cell| cell.entity);
    report
        .internet
        .reached_by
        .sort_unstable_by_key(|cell| cell.entity);
    report
}

/// One search per row, keeping each cell's witness.
fn per_row(
    model: &Model,
    graph: &ReachGraph,
    engine: &Engine,
    entities: &[EntityId],
) -> Vec<MatrixCell> {
    let mut workspace = engine.workspace();
    // The stories search the graph too; they get a workspace of their own, so that the
    // row's search stays readable.
    let mut story_workspace = engine.workspace();
    let mut nearest = vec![UNREACHED; model.entities.len()];
    let mut cells = Vec::new();
    for (row, &from) in entities.iter().enumerate() {
        let start = Selection::from_entities(model, vec![from]);
        fewest_flows(model, graph, engine, &mut workspace, &start, &mut nearest);
        let landings = engine.landings(&workspace, &[]);
        let mut reached = Vec::new();
        let mut witnesses = Vec::new();
        for (column, &to) in entities.iter().enumerate() {
            let hops = nearest[to.index()];
            if row == column || hops == UNREACHED || overlaps(model, from, to) {
                continue;
            }
            reached.push((column, hops));
            witnesses.push(witness(model, engine, &workspace, &landings, &start, to));
        }
        let stories = story::tell_each(engine, &mut story_workspace, &start, None, &mut witnesses);
        for (((column, hops), steps), story) in reached.into_iter().zip(witnesses).zip(stories) {
            cells.push(MatrixCell {
                from: row,
                to: column,
                hops,
                witness: Hop::from_steps(model, &steps),
                acquisitions: Acquisition::from_story(model, &story),
            });
        }
    }
    cells
}

/// The fewest flows from `start` to anything inside each entity, into `nearest`, by a
/// search of the whole graph that leaves its parents in `workspace` for witnesses.
fn fewest_flows(
    model: &Model,
    graph: &ReachGraph,
    engine: &Engine,
    workspace: &mut Workspace,
    start: &Selection,
    nearest: &mut [u32],
) {
    engine.fixpoint(workspace, start, None);
    engine.shortest(workspace, start, None, None);
    // Children before parents, so that a subtree's minimum is ready for its parent.
    for &entity in engine.top_down().iter().rev() {
        let own = workspace.dist(graph.in_node(entity)).unwrap_or(UNREACHED);
        let children = model
            .entity(entity)
            .children
            .iter()
            .map(|c| nearest[c.index()]);
        nearest[entity.index()] = children.fold(own, u32::min);
    }
}

/// Rows grouped by the flows their attacker can open, each group searched on a copy of
/// the graph cut down to what its rows reach, one row after another and the rows in
/// parallel.
fn batched(
    model: &Model,
    graph: &ReachGraph,
    engine: &Engine,
    kind: EntityKind,
    entities: &[EntityId],
) -> Vec<MatrixCell> {
    let mut workspace = engine.workspace();
    let columns = Columns::new(model, kind, entities);
    // Rows that hold the same credentials open the same flows; rows whose `in` nodes
    // lead to the same component hold the same credentials.
    let mut by_component: FxHashMap<u32, usize> = FxHashMap::default();
    let mut by_held: FxHashMap<Vec<CredentialId>, usize> = FxHashMap::default();
    let mut groups: Vec<(Vec<bool>, Vec<usize>)> = Vec::new();
    for (row, &entity) in entities.iter().enumerate() {
        let component = engine.fixpoint_component(graph.in_node(entity));
        let group = *by_component.entry(component).or_insert_with(|| {
            let start = Selection::from_entities(model, vec![entity]);
            engine.fixpoint(&mut workspace, &start, None);
            let held = engine.held_credentials(&workspace);
            *by_held.entry(held).or_insert_with(|| {
                let open = model
                    .flow_ids()
                    .map(|f| engine.is_open(&workspace, f))
                    .collect();
                groups.push((open, Vec::new()));
                groups.len() - 1
            })
        });
        groups[group].1.push(row);
    }
    // A group of a few rows is not worth a graph of its own: each of its rows gets a
    // search of the whole graph instead.
    let (few, many): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(_, rows)| rows.len() < OWN_GRAPH_ROWS);
    let mut cells = Vec::new();
    let mut nearest = vec![UNREACHED; model.entities.len()];
    for &row in few.iter().flat_map(|(_, rows)| rows) {
        let from = entities[row];
        let start = Selection::from_entities(model, vec![from]);
        fewest_flows(model, graph, engine, &mut workspace, &start, &mut nearest);
        for (column, &to) in entities.iter().enumerate() {
            let hops = nearest[to.index()];
            if row != column && hops != UNREACHED && !overlaps(model, from, to) {
                cells.push(MatrixCell {
                    from: row,
                    to: column,
                    hops,
                    witness: Vec::new(),
                    acquisitions: Vec::new(),
                });
            }
        }
    }
    let columns = &columns;
    let searched: Vec<MatrixCell> = many
        .par_iter()
        .flat_map(|(open, rows)| {
            let starts: Vec<EntityId> = rows.iter().map(|&row| entities[row]).collect();
            let group = GroupGraph::build(graph, open, &starts);
            rows.par_chunks(ROWS_PER_TASK)
                .flat_map_iter(|rows| search_rows(model, graph, &group, columns, entities, rows))
                .collect::<Vec<_>>()
        })
        .collect();
    cells.extend(searched);
    cells
}

/// The fewest rows a group needs to get a graph of its own: building one costs a few
/// searches of the whole graph.
const OWN_GRAPH_ROWS: usize = 8;

/// Rows that one task of the parallel search takes: enough that a task outweighs its
/// workspace, few enough that both cores stay busy to the end.
const ROWS_PER_TASK: usize = 16;

/// The cells of `rows`, each searched on its group's graph.
fn search_rows(
    model: &Model,
    graph: &ReachGraph,
    group: &GroupGraph,
    columns: &Columns,
    entities: &[EntityId],
    rows: &[usize],
) -> Vec<MatrixCell> {
    let mut cells = Vec::new();
    let mut search = Search::new();
    // Per column, the last row (plus one) that has a cell for it.
    let mut done = vec![0usize; entities.len()];
    for &row in rows {
        let from = entities[row];
        search.run(group, graph.in_node(from), |entity, hops| {
            // The columns that `entity` falls in: the nearest entity of the kind around
            // it, then the next one out, and so on. A column this row already has a cell
            // for had its outer columns recorded with it, so the walk stops there and
            // costs nothing at any depth of nesting.
            let mut column = columns.nearest[entity.index()];
            while let Some(current) = column {
                let current = current as usize;
                if done[current] == row + 1 {
                    break;
                }
                done[current] = row + 1;
                if row != current && !overlaps(model, from, entities[current]) {
                    cells.push(MatrixCell {
                        from: row,
                        to: current,
                        hops,
                        witness: Vec::new(),
                        acquisitions: Vec::new(),
                    });
                }
                column = columns.outer[current];
            }
        });
    }
    cells
}

/// Where each entity falls among the matrix's columns, where entities of the kind nest.
struct Columns {
    /// Per entity: the column of the nearest of itself and its ancestors of the kind.
    nearest: Vec<Option<u32>>,
    /// Per column: the column of its nearest strict ancestor of the kind.
    outer: Vec<Option<u32>>,
}

impl Columns {
    fn new(model: &Model, kind: EntityKind, entities: &[EntityId]) -> Self {
        let column = |id: EntityId| entities.binary_search(&id).ok().map(|c| c as u32);
        // `internet` is a row and a column of every level.
        let nearest: Vec<Option<u32>> = model
            .nearest(|entity| entity.kind == kind || entity.kind == EntityKind::Internet)
            .into_iter()
            .map(|owner| owner.and_then(column))
            .collect();
        let outer = entities
            .iter()
            .map(|&id| {
                model
                    .entity(id)
                    .parent
                    .and_then(|parent| nearest[parent.index()])
            })
            .collect();
        Columns { nearest, outer }
    }
}

/// Whether one entity contains the other.
fn overlaps(model: &Model, a: EntityId, b: EntityId) -> bool {
    model.within(a, b) || model.within(b, a)
}

/// The shortest path into `to` after a complete search from `start`.
fn witness(
    model: &Model,
    engine: &Engine,
    workspace: &Workspace,
    landings: &[Option<Landing>],
    start: &Selection,
    to: EntityId,
) -> Vec<Step> {
    let target = Selection::from_entities(model, vec![to]);
    let best = target
        .leaves(model)
        .into_iter()
        .filter(|&leaf| !start.contains(model, leaf))
        .filter_map(|leaf| landings[leaf.index()].map(|landing| (landing.hops, leaf, landing)))
        .min_by_key(|&(hops, leaf, _)| (hops, leaf));
    match best {
        Some((_, leaf, landing)) => engine.witness_landing(workspace, leaf, landing),
        None => Vec::new(),
    }
}
