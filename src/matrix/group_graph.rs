//! One credential group's graph for `matrix`: the part of the reachability graph its
//! rows can reach with the flows the group holds open, renumbered and with most flow
//! nodes contracted away, and the fewest-flow search each row runs on it.
//!
//! A row's search on the whole [`ReachGraph`] walks a node per flow and reads arrays
//! sized for the whole estate, most of which a group never reaches. This copy keeps
//! only the nodes the group reaches, numbered in the order a search from its rows first
//! meets them (so that one search reads nearby memory), and turns a flow with one
//! source or one destination into direct edges that cost one flow each. Distances are
//! the same as on the full graph: only [`Edge::Enter`] costs a flow, and a contracted
//! flow node had exactly the edges in and out that its direct edges join.

use crate::graph::{Edge, Node, NodeId, ReachGraph};
use crate::model::EntityId;

const NONE: u32 = u32::MAX;

/// Compressed rows: the targets of node `n` are `targets[starts[n]..starts[n + 1]]`.
struct Rows {
    starts: Vec<u32>,
    targets: Vec<u32>,
}

impl Rows {
    fn of(&self, node: u32) -> &[u32] {
        let node = node as usize;
        &self.targets[self.starts[node] as usize..self.starts[node + 1] as usize]
    }
}

pub(super) struct GroupGraph {
    /// Per full-graph node: its number here, or [`NONE`] if the group never reaches it
    /// or it is a contracted flow.
    local: Vec<u32>,
    /// Per node here: the entity whose `in` node it is, or [`NONE`].
    entered: Vec<u32>,
    /// Edges that cost no flow: containment, pivots, and a kept flow's exits.
    free: Rows,
    /// Edges that cost one flow: into a kept flow node, or straight to a destination.
    paid: Rows,
}

impl GroupGraph {
    /// The part of `graph` reachable from the `in` nodes of `starts` through the edges
    /// that cost nothing and the flows `open` says are open.
    pub(super) fn build(graph: &ReachGraph, open: &[bool], starts: &[EntityId]) -> Self {
        let is_open = |edge: Edge| match edge {
            Edge::Enter(flow) => open[flow.index()],
            Edge::Contains | Edge::Pivot | Edge::Exit => true,
        };
        // A flow node is contracted when joining its sources to its destinations
        // directly costs no more edges than going through it.
        let contracted = |node: NodeId| {
            let sources = graph.predecessors(node).count();
            let destinations = graph.successors(node).count();
            sources.min(destinations) <= 1
        };
        let mut local = vec![NONE; graph.node_count()];
        let mut seen = vec![false; graph.node_count()];
        let mut order: Vec<NodeId> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        for &entity in starts {
            let node = graph.in_node(entity);
            if !std::mem::replace(&mut seen[node.index()], true) {
                queue.push_back(node);
            }
        }
        while let Some(node) = queue.pop_front() {
            let keep = !matches!(graph.node(node), Node::Flow(_)) || !contracted(node);
            if keep {
                local[node.index()] = order.len() as u32;
                order.push(node);
            }
            for (next, edge) in graph.successors(node) {
                if is_open(edge) && !std::mem::replace(&mut seen[next.index()], true) {
                    queue.push_back(next);
                }
            }
        }
        let entered = order
            .iter()
            .map(|&node| match graph.node(node) {
                Node::In(entity) => entity.0,
                Node::Out(_) | Node::Flow(_) => NONE,
            })
            .collect();
        let mut free = Rows {
            starts: vec![0],
            targets: Vec::new(),
        };
        let mut paid = Rows {
            starts: vec![0],
            targets: Vec::new(),
        };
        let mut row: Vec<u32> = Vec::new();
        for &node in &order {
            let start = paid.targets.len();
            for (next, edge) in graph.successors(node) {
                match edge {
                    Edge::Enter(flow) if open[flow.index()] => {
                        let kept = local[next.index()];
                        if kept != NONE {
                            paid.targets.push(kept);
                        } else {
                            // A contracted flow: straight to its destinations.
                            paid.targets
                                .extend(graph.successors(next).map(|(to, _)| local[to.index()]));
                        }
                    }
                    Edge::Enter(_) => {}
                    Edge::Contains | Edge::Pivot | Edge::Exit => {
                        free.targets.push(local[next.index()]);
                    }
                }
            }
            // Two flows between the same places are one edge to the search.
            row.clear();
            row.extend(paid.targets.drain(start..));
            row.sort_unstable();
            row.dedup();
            paid.targets.extend_from_slice(&row);
            free.starts.push(free.targets.len() as u32);
            paid.starts.push(paid.targets.len() as u32);
        }
        GroupGraph {
            local,
            entered,
            free,
            paid,
        }
    }

    pub(super) fn node_count(&self) -> usize {
        self.entered.len()
    }
}

/// A reusable fewest-flow search on a [`GroupGraph`].
pub(super) struct Search {
    dist: Vec<u32>,
    level: Vec<u32>,
    next: Vec<u32>,
}

impl Search {
    pub(super) fn new() -> Self {
        Search {
            dist: Vec::new(),
            level: Vec::new(),
            next: Vec::new(),
        }
    }

    /// A breadth-first search from the `in` node of `from`, which must be one of the
    /// starts `graph` was built from, level by level (a level is one more flow). Calls
    /// `reached` once per entity whose `in` node it reaches, nearest first, with the
    /// fewest flows.
    pub(super) fn run(
        &mut self,
        graph: &GroupGraph,
        from: NodeId,
        mut reached: impl FnMut(EntityId, u32),
    ) {
        let nodes = graph.node_count();
        self.dist.clear();
        self.dist.resize(nodes, NONE);
        self.level.clear();
        self.next.clear();
        let start = graph.local[from.index()];
        if start == NONE {
            return;
        }
        self.dist[start as usize] = 0;
        self.level.push(start);
        let mut hops = 0;
        while !self.level.is_empty() {
            // The level is a stack: the free edges add to it as it goes. A node is on it
            // once with its final distance; an entry left from the level before, for a
            // node a free edge has since reached sooner, is skipped.
            while let Some(node) = self.level.pop() {
                let index = node as usize;
                if self.dist[index] != hops {
                    continue;
                }
                let entity = graph.entered[index];
                if entity != NONE {
                    reached(EntityId(entity), hops);
                }
                for &next in graph.free.of(node) {
                    if self.dist[next as usize] > hops {
                        self.dist[next as usize] = hops;
                        self.level.push(next);
                    }
                }
                for &next in graph.paid.of(node) {
                    if self.dist[next as usize] > hops + 1 {
                        self.dist[next as usize] = hops + 1;
                        self.next.push(next);
                    }
                }
            }
            std::mem::swap(&mut self.level, &mut self.next);
            hops += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::model::Selection;
    use crate::policy::model_from_text;

    /// Nested segments, a flow from two places to two places (its node kept), flows with
    /// one end (contracted), two flows between the same places, a flow from a segment,
    /// and flows behind credentials, one held inside, one never held.
    const ESTATE: &str = "
accounts:
  - {name: a}
  - {name: b}
segments:
  - {name: s1, in: a}
  - {name: s2, in: a}
  - {name: inner, in: s2}
  - {name: s3, in: b}
assets:
  - {name: h1, in: s1, tags: [web]}
  - {name: h2, in: s2, tags: [web]}
  - {name: h3, in: inner}
  - {name: h4, in: s3, tags: [db]}
  - {name: h5, in: s3, tags: [db]}
  - {name: h6, in: b}
credentials:
  - {name: key, held_by: h4}
  - {name: lost}
flows:
  - {from: 'tag:web', to: 'tag:db'}
  - {from: h1, to: h2}
  - {from: h1, to: h2}
  - {from: s2, to: h3}
  - {from: h3, to: s3}
  - {from: h4, to: h6, auth: [key]}
  - {from: h5, to: h1, auth: [lost]}
  - {from: h6, to: internet}
  - {from: internet, to: h1}
";

    /// For every entity as the attacker: the fewest flows to each entity's `in` node on
    /// its group graph are those the engine finds on the whole graph.
    #[test]
    fn distances_are_the_engines() {
        let model = model_from_text("t.yaml", ESTATE).unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let mut workspace = engine.workspace();
        let mut search = Search::new();
        for from in model.entity_ids() {
            let start = Selection::from_entities(&model, vec![from]);
            engine.fixpoint(&mut workspace, &start, None);
            engine.shortest(&mut workspace, &start, None, None);
            let open: Vec<bool> = model
                .flow_ids()
                .map(|f| engine.is_open(&workspace, f))
                .collect();
            let expected: Vec<Option<u32>> = model
                .entity_ids()
                .map(|e| workspace.dist(graph.in_node(e)))
                .collect();
            let group = GroupGraph::build(&graph, &open, &[from]);
            let mut actual = vec![None; model.entities.len()];
            search.run(&group, graph.in_node(from), |entity, hops| {
                assert!(actual[entity.index()].is_none(), "reached twice");
                actual[entity.index()] = Some(hops);
            });
            assert_eq!(actual, expected, "from {}", model.entity(from).name);
        }
    }

    #[test]
    fn flows_with_one_end_become_edges_and_duplicates_one() {
        let model = model_from_text("t.yaml", ESTATE).unwrap();
        let graph = ReachGraph::build(&model);
        let open = vec![true; model.flows.len()];
        let starts: Vec<EntityId> = model.entity_ids().collect();
        let group = GroupGraph::build(&graph, &open, &starts);
        // Every entity's two nodes, and the one flow with two ends on both sides.
        assert_eq!(group.node_count(), 2 * model.entities.len() + 1);
        let h1 = model.find_entity("h1").unwrap();
        let h2 = model.find_entity("h2").unwrap();
        let out_h1 = group.local[graph.out_node(h1).index()];
        let in_h2 = group.local[graph.in_node(h2).index()];
        let into_h2 = group.paid.of(out_h1).iter().filter(|&&n| n == in_h2);
        assert_eq!(into_h2.count(), 1, "two flows from h1 to h2 are one edge");
    }

    #[test]
    fn a_closed_flow_is_no_edge() {
        let model = model_from_text("t.yaml", ESTATE).unwrap();
        let graph = ReachGraph::build(&model);
        let open = vec![false; model.flows.len()];
        let h1 = model.find_entity("h1").unwrap();
        let group = GroupGraph::build(&graph, &open, &[h1]);
        let mut reached = Vec::new();
        search_all(&group, &graph, h1, &mut reached);
        let names: Vec<&str> = reached
            .iter()
            .map(|&(e, _)| model.entity(e).name.as_str())
            .collect();
        assert_eq!(names, ["h1"]);
    }

    fn search_all(
        group: &GroupGraph,
        graph: &ReachGraph,
        from: EntityId,
        reached: &mut Vec<(EntityId, u32)>,
    ) {
        Search::new().run(group, graph.in_node(from), |entity, hops| {
            reached.push((entity, hops))
        });
    }
}
