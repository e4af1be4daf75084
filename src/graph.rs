//! The model as a reachability graph. This is the only module that knows petgraph; the
//! rest of cordon talks in [`NodeId`]s and cordon's own entity and flow ids.
//!
//! Every entity `e` has two nodes: `in(e)`, being reached, and `out(e)`, acting as a
//! source. Containment joins `in(parent) → in(child)` and `out(child) → out(parent)`;
//! a pivot joins `in(leaf) → out(leaf)`. Each flow gets a node of its own between its
//! sources and destinations, `out(s) → flow(f) → in(d)`, so a flow between two groups
//! costs one edge per selected outermost entity instead of one per pair of leaves, and a
//! cut can count flows rather than edges.
//!
//! Edges are stored in compressed sparse rows, forwards and backwards, so that a search
//! reads each node's edges from one contiguous slice.

use petgraph::Direction;
use petgraph::csr::Csr;
use petgraph::visit::EdgeRef;

use crate::model::{EntityId, FlowId, Model};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    In(EntityId),
    Out(EntityId),
    Flow(FlowId),
}

/// What an edge stands for. Only [`Edge::Enter`] crosses a flow, so only it counts as a
/// hop, and only it can be locked behind a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Edge {
    #[default]
    Contains,
    Pivot,
    Enter(FlowId),
    Exit,
}

type Rows = Csr<(), Edge, petgraph::Directed, u32>;

pub struct ReachGraph {
    forward: Rows,
    backward: Rows,
    entities: u32,
}

impl ReachGraph {
    pub fn build(model: &Model) -> ReachGraph {
        let entities = model.entities.len() as u32;
        let nodes = 2 * entities as usize + model.flows.len();
        let in_node = |e: EntityId| 2 * e.0;
        let out_node = |e: EntityId| 2 * e.0 + 1;
        let flow_node = |f: FlowId| 2 * entities + f.0;
        let mut edges: Vec<(u32, u32, Edge)> = Vec::with_capacity(nodes * 2);
        for id in model.entity_ids() {
            let entity = model.entity(id);
            if let Some(parent) = entity.parent {
                edges.push((in_node(parent), in_node(id), Edge::Contains));
                edges.push((out_node(id), out_node(parent), Edge::Contains));
            }
            if entity.is_leaf() {
                edges.push((in_node(id), out_node(id), Edge::Pivot));
            }
        }
        for id in model.flow_ids() {
            let flow = model.flow(id);
            for &source in flow.from.roots() {
                edges.push((out_node(source), flow_node(id), Edge::Enter(id)));
            }
            for &target in flow.to.roots() {
                edges.push((flow_node(id), in_node(target), Edge::Exit));
            }
        }
        let forward = rows(&mut edges, nodes);
        for edge in &mut edges {
            *edge = (edge.1, edge.0, edge.2);
        }
        let backward = rows(&mut edges, nodes);
        ReachGraph {
            forward,
            backward,
            entities,
        }
    }

    pub fn node_count(&self) -> usize {
        self.forward.node_count()
    }

    pub fn in_node(&self, entity: EntityId) -> NodeId {
        NodeId(2 * entity.0)
    }

    pub fn out_node(&self, entity: EntityId) -> NodeId {
        NodeId(2 * entity.0 + 1)
    }

    pub fn flow_node(&self, flow: FlowId) -> NodeId {
        NodeId(2 * self.entities + flow.0)
    }

    pub fn node(&self, node: NodeId) -> Node {
        if node.0 >= 2 * self.entities {
            Node::Flow(FlowId(node.0 - 2 * self.entities))
        } else if node.0.is_multiple_of(2) {
            Node::In(EntityId(node.0 / 2))
        } else {
            Node::Out(EntityId(node.0 / 2))
        }
    }

    /// The edges leaving `node`, in a fixed order.
    pub fn successors(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        self.forward
            .neighbors_slice(node.0)
            .iter()
            .zip(self.forward.edges_slice(node.0))
            .map(|(&target, &edge)| (NodeId(target), edge))
    }

    /// The edges entering `node`, in a fixed order.
    pub fn predecessors(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        self.backward
            .neighbors_slice(node.0)
            .iter()
            .zip(self.backward.edges_slice(node.0))
            .map(|(&source, &edge)| (NodeId(source), edge))
    }

    /// Strongly connected components of the graph restricted to the edges `keep`
    /// accepts: each node's component, numbered so that every edge between two
    /// components goes from a higher number to a lower one. Returns the count too.
    pub fn components(&self, keep: impl Fn(Edge) -> bool) -> (Vec<u32>, u32) {
        // Tarjan's algorithm, with an explicit stack of frames instead of recursion:
        // petgraph's `tarjan_scc` recurses once per node on a path, and a chain of
        // nested segments from the input would overflow the thread's stack. It finishes
        // components in reverse topological order: a component comes before every
        // component that reaches it.
        const UNSEEN: u32 = u32::MAX;
        let nodes = self.node_count();
        let mut order = vec![UNSEEN; nodes];
        let mut low = vec![0u32; nodes];
        let mut on_stack = vec![false; nodes];
        let mut stack: Vec<u32> = Vec::new();
        let mut component = vec![0; nodes];
        let mut count = 0u32;
        let mut next_order = 0u32;
        // Each frame is a node and how many of its edges have been looked at.
        let mut frames: Vec<(u32, usize)> = Vec::new();
        // What the recursive version does on entering a node.
        macro_rules! discover {
            ($node:expr) => {{
                let node: u32 = $node;
                order[node as usize] = next_order;
                low[node as usize] = next_order;
                next_order += 1;
                stack.push(node);
                on_stack[node as usize] = true;
                frames.push((node, 0));
            }};
        }
        for root in 0..nodes as u32 {
            if order[root as usize] != UNSEEN {
                continue;
            }
            discover!(root);
            while let Some(frame) = frames.last_mut() {
                let (node, position) = *frame;
                let targets = self.forward.neighbors_slice(node);
                let weights = self.forward.edges_slice(node);
                if position < targets.len() {
                    frame.1 += 1;
                    if !keep(weights[position]) {
                        continue;
                    }
                    let next = targets[position];
                    if order[next as usize] == UNSEEN {
                        discover!(next);
                    } else if on_stack[next as usize] {
                        low[node as usize] = low[node as usize].min(order[next as usize]);
                    }
                    continue;
                }
                frames.pop();
                if low[node as usize] == order[node as usize] {
                    while let Some(member) = stack.pop() {
                        on_stack[member as usize] = false;
                        component[member as usize] = count;
                        if member == node {
                            break;
                        }
                    }
                    count += 1;
                }
                if let Some(&(parent, _)) = frames.last() {
                    low[parent as usize] = low[parent as usize].min(low[node as usize]);
                }
            }
        }
        (component, count)
    }
}

impl ReachGraph {
    /// The fewest flows whose removal leaves every node of `sink_nodes`, and the far
    /// side of every flow of `sink_flows`, unreachable from `sources`, crossing only the
    /// flows `crossable` accepts. `None` when no set of flows does it, as when a source
    /// is a sink.
    ///
    /// A maximum flow over the graph with each flow's node split in two and joined by
    /// an edge of capacity 1, every other edge unbounded; the minimum cut is the set of
    /// flow edges leaving what the source still reaches in the residual network.
    pub fn min_flow_cut(
        &self,
        sources: &[NodeId],
        sink_nodes: &[NodeId],
        sink_flows: &[FlowId],
        crossable: impl Fn(FlowId) -> bool,
    ) -> Option<Vec<FlowId>> {
        use petgraph::graph::{DiGraph, NodeIndex};

        let nodes = self.node_count();
        let flows = nodes - 2 * self.entities as usize;
        let unbounded = flows as u64 + 1;
        let far_side = |flow: FlowId| NodeIndex::new(nodes + flow.index());
        let source = NodeIndex::new(nodes + flows);
        let sink = NodeIndex::new(nodes + flows + 1);
        let mut network: DiGraph<(), u64> = DiGraph::with_capacity(nodes + flows + 2, nodes * 3);
        for _ in 0..nodes + flows + 2 {
            network.add_node(());
        }
        for node in 0..nodes as u32 {
            let from = NodeIndex::new(node as usize);
            for (next, edge) in self.successors(NodeId(node)) {
                let to = NodeIndex::new(next.index());
                match edge {
                    Edge::Contains | Edge::Pivot => {
                        network.add_edge(from, to, unbounded);
                    }
                    Edge::Enter(flow) if crossable(flow) => {
                        network.add_edge(from, to, unbounded);
                    }
                    Edge::Enter(_) => {}
                    Edge::Exit => {
                        if let Node::Flow(flow) = self.node(NodeId(node)) {
                            network.add_edge(far_side(flow), to, unbounded);
                        }
                    }
                }
            }
        }
        for flow in (0..flows as u32).map(FlowId) {
            if crossable(flow) {
                network.add_edge(
                    NodeIndex::new(self.flow_node(flow).index()),
                    far_side(flow),
                    1,
                );
            }
        }
        for node in sources {
            network.add_edge(source, NodeIndex::new(node.index()), unbounded);
        }
        for node in sink_nodes {
            network.add_edge(NodeIndex::new(node.index()), sink, unbounded);
        }
        for &flow in sink_flows {
            network.add_edge(far_side(flow), sink, unbounded);
        }
        let (value, used) = petgraph::algo::dinics(&network, source, sink);
        if value >= unbounded {
            return None;
        }
        // What the source still reaches in the residual network.
        let mut reached = vec![false; network.node_count()];
        let mut stack = vec![source];
        reached[source.index()] = true;
        while let Some(node) = stack.pop() {
            for edge in network.edges_directed(node, Direction::Outgoing) {
                let next = edge.target();
                if used[edge.id().index()] < *edge.weight() && !reached[next.index()] {
                    reached[next.index()] = true;
                    stack.push(next);
                }
            }
            for edge in network.edges_directed(node, Direction::Incoming) {
                let previous = edge.source();
                if used[edge.id().index()] > 0 && !reached[previous.index()] {
                    reached[previous.index()] = true;
                    stack.push(previous);
                }
            }
        }
        Some(
            (0..flows as u32)
                .map(FlowId)
                .filter(|&flow| {
                    crossable(flow)
                        && reached[self.flow_node(flow).index()]
                        && !reached[far_side(flow).index()]
                })
                .collect(),
        )
    }
}

/// Compressed rows from an edge list, which this sorts.
fn rows(edges: &mut [(u32, u32, Edge)], nodes: usize) -> Rows {
    edges.sort_unstable_by_key(|&(source, target, _)| (source, target));
    let mut rows = match Rows::from_sorted_edges(edges) {
        Ok(rows) => rows,
        // INVARIANT: the edges were just sorted and no two join the same pair of nodes
        // (each is defined once per entity, flow root or parent link).
        Err(_) => unreachable!("graph edges are sorted and distinct"),
    };
    while rows.node_count() < nodes {
        rows.add_node(());
    }
    rows
}
