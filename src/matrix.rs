//! `matrix`: who reaches whom among all entities of one kind.

use rustc_hash::FxHashMap;

use crate::engine::{Engine, Landing, Step, UNREACHED};
use crate::graph::{Edge, Node, NodeId, ReachGraph};
use crate::model::{CredentialId, EntityId, EntityKind, Model, Selection};
use crate::report::{Acquisition, Hop, InternetCell, InternetPairs, MatrixCell, MatrixReport};
use crate::story;

/// For every ordered pair of `kind` entities that do not overlap, the fewest flows from
/// the first (the attacker controlling all of it) to any part of the second. With
/// `witnesses`, each cell also carries its shortest path.
///
/// Rows are grouped by the credentials their attacker ends up holding, so that a group
/// shares one set of open flows; each group is searched 64 rows at a time by a
/// breadth-first search whose marks are bit sets, one bit per row. Witnesses need a
/// parent per node and row, so with them each row gets a search of its own.
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
        engine.fixpoint(&mut workspace, &start, None);
        engine.shortest(&mut workspace, &start, None, None);
        // The fewest flows to anything inside each entity.
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

/// Rows searched 64 at a time, grouped by the flows their attacker can open.
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
    // share a component hold the same credentials.
    let mut by_component: FxHashMap<u32, usize> = FxHashMap::default();
    let mut by_held: FxHashMap<Vec<CredentialId>, usize> = FxHashMap::default();
    let mut groups: Vec<(Vec<bool>, Vec<usize>)> = Vec::new();
    for (row, &entity) in entities.iter().enumerate() {
        let component = engine.component(graph.in_node(entity));
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
    let mut cells = Vec::new();
    let mut search = BitSearch::new(graph.node_count(), entities.len());
    for (open, rows) in &groups {
        for batch in rows.chunks(64) {
            search.run(model, graph, entities, &columns, open, batch, &mut cells);
        }
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

/// A breadth-first search for up to 64 rows at once: each node's mark is the set of
/// rows that reached it, and each level first closes over the edges that cost no flow.
struct BitSearch {
    reached: Vec<u64>,
    pending: Vec<u64>,
    /// Rows that enter a node at the next level.
    entering: Vec<u64>,
    /// Per column, the rows that already have a cell for it.
    done: Vec<u64>,
}

impl BitSearch {
    fn new(nodes: usize, columns: usize) -> Self {
        BitSearch {
            reached: vec![0; nodes],
            pending: vec![0; nodes],
            entering: vec![0; nodes],
            done: vec![0; columns],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        model: &Model,
        graph: &ReachGraph,
        entities: &[EntityId],
        columns: &Columns,
        open: &[bool],
        rows: &[usize],
        cells: &mut Vec<MatrixCell>,
    ) {
        self.reached.fill(0);
        self.pending.fill(0);
        self.entering.fill(0);
        self.done.fill(0);
        let mut frontier: Vec<NodeId> = Vec::new();
        for (bit, &row) in rows.iter().enumerate() {
            let node = graph.in_node(entities[row]);
            if self.pending[node.index()] == 0 {
                frontier.push(node);
            }
            self.pending[node.index()] |= 1 << bit;
        }
        let mut level = 0;
        while !frontier.is_empty() {
            let mut next_level: Vec<NodeId> = Vec::new();
            let mut entered: Vec<NodeId> = Vec::new();
            // Close over the edges that cost no flow.
            let mut stack = frontier;
            while let Some(node) = stack.pop() {
                let bits =
                    std::mem::take(&mut self.pending[node.index()]) & !self.reached[node.index()];
                if bits == 0 {
                    continue;
                }
                self.reached[node.index()] |= bits;
                if let Node::In(entity) = graph.node(node) {
                    // The columns that `entity` falls in: the nearest entity of the kind
                    // around it, then the next one out, and so on. A column whose rows
                    // are all recorded already had its outer columns recorded with it, so
                    // the walk stops there and costs nothing at any depth of nesting.
                    let mut column = columns.nearest[entity.index()];
                    while let Some(current) = column {
                        if bits & !self.done[current as usize] == 0 {
                            break;
                        }
                        self.record(model, entities, rows, current, bits, level, cells);
                        column = columns.outer[current as usize];
                    }
                }
                for (next, edge) in graph.successors(node) {
                    match edge {
                        Edge::Enter(flow) => {
                            if open[flow.index()] {
                                let add = bits & !self.reached[next.index()];
                                if add != 0 {
                                    if self.entering[next.index()] == 0 {
                                        entered.push(next);
                                    }
                                    self.entering[next.index()] |= add;
                                }
                            }
                        }
                        Edge::Contains | Edge::Pivot | Edge::Exit => {
                            let add = bits & !self.reached[next.index()];
                            if add != 0 {
                                if self.pending[next.index()] == 0 {
                                    stack.push(next);
                                }
                                self.pending[next.index()] |= add;
                            }
                        }
                    }
                }
            }
            level += 1;
            for node in entered {
                let bits = std::mem::take(&mut self.entering[node.index()]);
                let add = bits & !self.reached[node.index()];
                if add != 0 {
                    if self.pending[node.index()] == 0 {
                        next_level.push(node);
                    }
                    self.pending[node.index()] |= add;
                }
            }
            frontier = next_level;
        }
    }

    /// Records a cell for each row that reaches `column` for the first time.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        model: &Model,
        entities: &[EntityId],
        rows: &[usize],
        column: u32,
        bits: u64,
        level: u32,
        cells: &mut Vec<MatrixCell>,
    ) {
        let mut fresh = bits & !self.done[column as usize];
        self.done[column as usize] |= fresh;
        while fresh != 0 {
            let bit = fresh.trailing_zeros() as usize;
            fresh &= fresh - 1;
            let row = rows[bit];
            let column = column as usize;
            if row != column && !overlaps(model, entities[row], entities[column]) {
                cells.push(MatrixCell {
                    from: row,
                    to: column,
                    hops: level,
                    witness: Vec::new(),
                    acquisitions: Vec::new(),
                });
            }
        }
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
    workspace: &crate::engine::Workspace,
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
