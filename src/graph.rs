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
//! reads each node's edges from one contiguous slice. A row holds only the far ends, in
//! increasing order: an edge's kind follows from the kinds of its two nodes, so storing
//! it would double the rows' size for nothing. The forward rows are built straight from
//! the model, counting then filling, so that no list of all edges is ever alive beside
//! them (at a million flows that list alone was 35 MB). The backward rows are the
//! forward ones turned round, on first use: `check` never walks an edge backwards, and
//! building them took half of the graph's time.

use std::sync::OnceLock;

use petgraph::Direction;
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

/// Compressed rows in one direction: per node, the range of `ends` that holds the far
/// end of each of its edges, in increasing order. An edge's kind follows from the kinds
/// of its two nodes (see [`ReachGraph::edge`]), so rows store no weights.
struct Rows {
    offsets: Offsets,
    ends: Box<[u32]>,
}

/// Where each node's row starts, and one past the last row's end. `u32` while the
/// edges fit in one, which holds for any model that fits in memory (the nodes already
/// must, since [`NodeId`] is a `u32`); `usize` past that rather than a failure.
enum Offsets {
    Narrow(Box<[u32]>),
    Wide(Box<[usize]>),
}

impl Rows {
    fn row(&self, node: u32) -> &[u32] {
        let node = node as usize;
        let (start, end) = match &self.offsets {
            Offsets::Narrow(offsets) => (offsets[node] as usize, offsets[node + 1] as usize),
            Offsets::Wide(offsets) => (offsets[node], offsets[node + 1]),
        };
        &self.ends[start..end]
    }

    /// The same edges the other way round. Rows are filled in the order of their far
    /// ends, so each comes out sorted.
    fn transposed(&self, nodes: u32, limit: usize) -> Rows {
        let mut builder = RowsBuilder::new(nodes as usize);
        for &end in &self.ends {
            builder.count(end);
        }
        builder.start_fill();
        for node in 0..nodes {
            for &end in self.row(node) {
                builder.fill(end, node);
            }
        }
        builder.finish(limit)
    }
}

/// Builds both directions' rows in two passes over the model, with no list of edges in
/// between: the first counts each node's edges, the second writes each edge's far end
/// into its row. Rows whose edges arrive out of order are sorted, so that every row
/// lists its far ends in increasing order whatever order the model gives them in.
struct RowsBuilder {
    /// Per node, first its edge count, then (after `start_fill`) where its next edge
    /// goes: one past the previous node's row.
    cursor: Vec<usize>,
    ends: Vec<u32>,
}

impl RowsBuilder {
    fn new(nodes: usize) -> Self {
        RowsBuilder {
            cursor: vec![0; nodes + 1],
            ends: Vec::new(),
        }
    }

    fn count(&mut self, node: u32) {
        self.cursor[node as usize + 1] += 1;
    }

    /// Turns the counts into each row's start.
    fn start_fill(&mut self) {
        let mut total = 0;
        for slot in &mut self.cursor {
            total += *slot;
            *slot = total;
        }
        self.ends = vec![0; total];
    }

    fn fill(&mut self, node: u32, end: u32) {
        let slot = &mut self.cursor[node as usize];
        self.ends[*slot] = end;
        *slot += 1;
    }

    /// The rows, given a `limit` past which offsets are kept wide (`u32::MAX` but in
    /// tests).
    fn finish(self, limit: usize) -> Rows {
        let RowsBuilder {
            mut cursor,
            mut ends,
        } = self;
        // Each node's cursor now stands at the end of its row, the start of the next.
        cursor.rotate_right(1);
        cursor[0] = 0;
        for window in cursor.windows(2) {
            let row = &mut ends[window[0]..window[1]];
            if !row.is_sorted() {
                row.sort_unstable();
            }
        }
        let offsets = if ends.len() <= limit {
            // INVARIANT: every offset is at most `ends.len()`, which fits.
            Offsets::Narrow(cursor.iter().map(|&offset| offset as u32).collect())
        } else {
            Offsets::Wide(cursor.into_boxed_slice())
        };
        Rows {
            offsets,
            ends: ends.into_boxed_slice(),
        }
    }
}

pub struct ReachGraph {
    forward: Rows,
    /// `forward` turned round, on first use.
    backward: OnceLock<Rows>,
    entities: u32,
    nodes: u32,
    /// The edge count past which offsets are kept wide: `u32::MAX` but in tests.
    limit: usize,
}

impl ReachGraph {
    pub fn build(model: &Model) -> ReachGraph {
        Self::build_with_limit(model, u32::MAX as usize)
    }

    fn build_with_limit(model: &Model, limit: usize) -> ReachGraph {
        let entities = model.entities.len() as u32;
        let nodes = 2 * entities + model.flows.len() as u32;
        let in_node = |e: EntityId| 2 * e.0;
        let out_node = |e: EntityId| 2 * e.0 + 1;
        let flow_node = |f: FlowId| 2 * entities + f.0;
        let mut forward = RowsBuilder::new(nodes as usize);
        // Calls `edge` on every edge, each once: twice over, to count and then to fill.
        let each_edge = |edge: &mut dyn FnMut(u32, u32)| {
            for id in model.entity_ids() {
                let entity = model.entity(id);
                if let Some(parent) = entity.parent {
                    edge(in_node(parent), in_node(id));
                    edge(out_node(id), out_node(parent));
                }
                if entity.is_leaf() {
                    edge(in_node(id), out_node(id));
                }
            }
            for (id, flow) in model.flow_ids().zip(&model.flows) {
                for &source in flow.from.roots() {
                    edge(out_node(source), flow_node(id));
                }
                for &target in flow.to.roots() {
                    edge(flow_node(id), in_node(target));
                }
            }
        };
        each_edge(&mut |source, _| forward.count(source));
        forward.start_fill();
        each_edge(&mut |source, target| forward.fill(source, target));
        ReachGraph {
            forward: forward.finish(limit),
            backward: OnceLock::new(),
            entities,
            nodes,
            limit,
        }
    }

    fn backward(&self) -> &Rows {
        self.backward
            .get_or_init(|| self.forward.transposed(self.nodes, self.limit))
    }

    /// The kind of the edge `source → target`, which the kinds of its nodes decide:
    /// into a flow is entering it, out of a flow is leaving it, `in → out` is the pivot
    /// and the rest is containment.
    fn edge(&self, source: u32, target: u32) -> Edge {
        let first_flow = 2 * self.entities;
        if target >= first_flow {
            Edge::Enter(FlowId(target - first_flow))
        } else if source >= first_flow {
            Edge::Exit
        } else if source.is_multiple_of(2) && !target.is_multiple_of(2) {
            Edge::Pivot
        } else {
            Edge::Contains
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes as usize
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
            .row(node.0)
            .iter()
            .map(move |&target| (NodeId(target), self.edge(node.0, target)))
    }

    /// The edges entering `node`, in a fixed order.
    pub fn predecessors(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        self.backward()
            .row(node.0)
            .iter()
            .map(move |&source| (NodeId(source), self.edge(source, node.0)))
    }

    /// Strongly connected components of the graph with only the flows that `open`
    /// accepts (an edge into a flow's node is the only kind that can be shut): each
    /// node's component, numbered so that every edge between two components goes from
    /// a higher number to a lower one. Returns the count too.
    pub fn components(&self, open: impl Fn(FlowId) -> bool) -> (Vec<u32>, u32) {
        // Pearce's variant of Tarjan's algorithm ("A space-efficient algorithm for
        // finding strongly connected components", 2016), with an explicit stack of
        // frames instead of recursion: petgraph's `tarjan_scc` recurses once per node
        // on a path, and a chain of nested segments from the input would overflow the
        // thread's stack. One number per node does the work of Tarjan's four arrays
        // (order, low link, on the stack, component): while a node is open it holds its
        // low link, and once its component is done, that component's number counted
        // down from the top, above every open node's. A million nodes' marks then take
        // 4 MB instead of 13, and the random reads of the search stay in cache more
        // often. Components finish in the same order as Tarjan's, and are numbered in
        // it: a component comes before every component that reaches it.
        //
        // Flows are four nodes in five, and the search reads each from four places
        // (whether it is open, its mark, its row's offsets, its row), each a cache miss
        // at a million flows. A flow's mark, whether it is open and, for the common flow
        // with one destination, that destination are kept side by side instead
        // (`FlowSlot`), so that entering a flow costs one miss.
        const UNSEEN: u32 = 0;
        let nodes = self.node_count() as u32;
        let first_flow = 2 * self.entities;
        let mut marks = Marks {
            entities: vec![UNSEEN; first_flow as usize],
            flows: (first_flow..nodes)
                .map(|node| {
                    let flow = FlowId(node - first_flow);
                    let end = match self.forward.row(node) {
                        _ if !open(flow) => FlowSlot::SHUT,
                        &[end] if end < FlowSlot::ROW => end,
                        _ => FlowSlot::ROW,
                    };
                    FlowSlot { mark: UNSEEN, end }
                })
                .collect(),
            first_flow,
        };
        // Open nodes that are not the root of their component, waiting for it.
        let mut waiting: Vec<u32> = Vec::new();
        // The next open node's number, from 1; it goes down again as nodes are done,
        // so open numbers stay below `done`.
        let mut next_open = 1u32;
        // The next finished component's mark, counting down.
        let mut done = nodes.wrapping_sub(1);
        // Each frame is a node, its edges not yet looked at (a far end to look at
        // before the rest, or `NO_END`, then the rest), and whether it is still the
        // root of its component.
        const NO_END: u32 = u32::MAX;
        let mut frames: Vec<(u32, u32, &[u32], bool)> = Vec::new();
        // The frame of a node just entered: a flow with one destination takes it from
        // its slot, not from its row.
        let frame = |marks: &Marks, node: u32| match marks.flow(node) {
            Some(slot) if slot.end < FlowSlot::ROW => (node, slot.end, &[][..], true),
            _ => (node, NO_END, self.forward.row(node), true),
        };
        for root in 0..nodes {
            if marks.get(root) != UNSEEN {
                continue;
            }
            marks.set(root, next_open);
            next_open += 1;
            frames.push(frame(&marks, root));
            while let Some(top) = frames.last_mut() {
                let node = top.0;
                // The node's edges not yet looked at, up to the first into a node not
                // seen yet, which the search enters next.
                let mut unseen = None;
                loop {
                    let next = if top.1 != NO_END {
                        std::mem::replace(&mut top.1, NO_END)
                    } else if let Some((&next, rest)) = top.2.split_first() {
                        top.2 = rest;
                        next
                    } else {
                        break;
                    };
                    let seen = match marks.flow(next) {
                        Some(slot) if slot.end == FlowSlot::SHUT => continue,
                        Some(slot) => slot.mark,
                        None => marks.entities[next as usize],
                    };
                    if seen == UNSEEN {
                        unseen = Some(next);
                        break;
                    }
                    if seen < marks.get(node) {
                        marks.set(node, seen);
                        top.3 = false;
                    }
                }
                if let Some(next) = unseen {
                    marks.set(next, next_open);
                    next_open += 1;
                    frames.push(frame(&marks, next));
                    continue;
                }
                let Some((node, _, _, is_root)) = frames.pop() else {
                    break;
                };
                if is_root {
                    next_open -= 1;
                    while let Some(&member) = waiting.last() {
                        if marks.get(node) > marks.get(member) {
                            break;
                        }
                        waiting.pop();
                        marks.set(member, done);
                        next_open -= 1;
                    }
                    marks.set(node, done);
                    done = done.wrapping_sub(1);
                } else {
                    waiting.push(node);
                }
                if let Some(parent) = frames.last_mut()
                    && marks.get(node) < marks.get(parent.0)
                {
                    marks.set(parent.0, marks.get(node));
                    parent.3 = false;
                }
            }
        }
        // Marks counted down from `nodes - 1`; number components up from 0 instead.
        let last = nodes.wrapping_sub(1);
        let Marks {
            entities: mut mark,
            flows,
            ..
        } = marks;
        mark.extend(flows.iter().map(|slot| slot.mark));
        for value in &mut mark {
            *value = last - *value;
        }
        (mark, last.wrapping_sub(done))
    }
}

/// What the search for components keeps of a flow's node, side by side: its mark, and
/// either its one destination or whether it is shut or has a row to read.
#[derive(Clone, Copy)]
struct FlowSlot {
    mark: u32,
    end: u32,
}

impl FlowSlot {
    /// `end` of a flow that is shut: no edge enters it.
    const SHUT: u32 = u32::MAX;
    /// `end` of an open flow whose destinations are read from its row: none, several,
    /// or one too large to tell from the two values above.
    const ROW: u32 = u32::MAX - 1;
}

/// The marks of [`ReachGraph::components`]: one per entity node, and one in each
/// flow's [`FlowSlot`].
struct Marks {
    entities: Vec<u32>,
    flows: Vec<FlowSlot>,
    first_flow: u32,
}

impl Marks {
    /// The slot of `node` if it is a flow's.
    fn flow(&self, node: u32) -> Option<&FlowSlot> {
        node.checked_sub(self.first_flow)
            .map(|flow| &self.flows[flow as usize])
    }

    fn get(&self, node: u32) -> u32 {
        match node.checked_sub(self.first_flow) {
            Some(flow) => self.flows[flow as usize].mark,
            None => self.entities[node as usize],
        }
    }

    fn set(&mut self, node: u32, mark: u32) {
        match node.checked_sub(self.first_flow) {
            Some(flow) => self.flows[flow as usize].mark = mark,
            None => self.entities[node as usize] = mark,
        }
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

#[cfg(test)]
mod tests {
    use petgraph::csr::Csr;
    use proptest::prelude::*;

    use super::*;
    use crate::policy::model_from_text;

    type OldRows = Csr<(), Edge, petgraph::Directed, u32>;

    /// The build before rows came straight from the model, kept as the oracle: every
    /// edge in one list, sorted by its ends, once each way.
    fn old_rows(model: &Model) -> (OldRows, OldRows) {
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
        let forward = old_sorted_rows(&mut edges, nodes);
        for edge in &mut edges {
            *edge = (edge.1, edge.0, edge.2);
        }
        let backward = old_sorted_rows(&mut edges, nodes);
        (forward, backward)
    }

    fn old_sorted_rows(edges: &mut [(u32, u32, Edge)], nodes: usize) -> OldRows {
        edges.sort_unstable_by_key(|&(source, target, _)| (source, target));
        let mut rows = OldRows::from_sorted_edges(edges).unwrap();
        while rows.node_count() < nodes {
            rows.add_node(());
        }
        rows
    }

    fn old_row(rows: &OldRows, node: u32) -> Vec<(NodeId, Edge)> {
        rows.neighbors_slice(node)
            .iter()
            .zip(rows.edges_slice(node))
            .map(|(&end, &edge)| (NodeId(end), edge))
            .collect()
    }

    /// Asserts that `graph` has the oracle's rows, edge for edge and in its order.
    fn assert_rows_match_oracle(model: &Model, graph: &ReachGraph) {
        let (forward, backward) = old_rows(model);
        assert_eq!(graph.node_count(), forward.node_count());
        for node in 0..graph.node_count() as u32 {
            let successors: Vec<_> = graph.successors(NodeId(node)).collect();
            assert_eq!(successors, old_row(&forward, node), "successors of {node}");
            let predecessors: Vec<_> = graph.predecessors(NodeId(node)).collect();
            assert_eq!(
                predecessors,
                old_row(&backward, node),
                "predecessors of {node}"
            );
        }
    }

    /// A random estate: segments nested at random (a parent always comes first), assets
    /// in them, some tagged (and some segments), and flows between lists of names and tags, so that a
    /// selection has many roots and rows arrive in every order.
    fn estate(
        segments: &[usize],
        assets: &[(usize, bool)],
        flows: &[(Vec<usize>, Vec<usize>)],
    ) -> String {
        let mut yaml = String::from("segments:\n");
        for (index, &parent) in segments.iter().enumerate() {
            yaml.push_str(&format!("  - name: s{index}\n"));
            if index > 0 && parent % (index + 1) != index {
                yaml.push_str(&format!("    in: s{}\n", parent % index));
            }
            if parent % 2 == 1 {
                yaml.push_str("    tags: [hot]\n");
            }
        }
        yaml.push_str("assets:\n");
        for (index, &(segment, tagged)) in assets.iter().enumerate() {
            yaml.push_str(&format!(
                "  - name: a{index}\n    in: s{}\n",
                segment % segments.len()
            ));
            // The first asset always carries the tag, so that `tag:hot` selects something.
            if tagged || index == 0 {
                yaml.push_str("    tags: [hot]\n");
            }
        }
        let name = |choice: usize| match choice % (segments.len() + assets.len() + 2) {
            n if n < segments.len() => format!("s{n}"),
            n if n < segments.len() + assets.len() => format!("a{}", n - segments.len()),
            n if n == segments.len() + assets.len() => "internet".to_owned(),
            _ => "tag:hot".to_owned(),
        };
        let list = |choices: &[usize]| {
            let names: Vec<String> = choices.iter().map(|&choice| name(choice)).collect();
            format!("[{}]", names.join(", "))
        };
        if !flows.is_empty() {
            yaml.push_str("flows:\n");
            for (from, to) in flows {
                yaml.push_str(&format!("  - {{from: {}, to: {}}}\n", list(from), list(to)));
            }
        }
        yaml
    }

    /// Tarjan's algorithm as `components` ran it before Pearce's variant, kept as the
    /// oracle: the same components, numbered the same.
    fn old_components(graph: &ReachGraph, keep: impl Fn(Edge) -> bool) -> (Vec<u32>, u32) {
        const UNSEEN: u32 = u32::MAX;
        let nodes = graph.node_count();
        let mut order = vec![UNSEEN; nodes];
        let mut low = vec![0u32; nodes];
        let mut on_stack = vec![false; nodes];
        let mut stack: Vec<u32> = Vec::new();
        let mut component = vec![0; nodes];
        let mut count = 0u32;
        let mut next_order = 0u32;
        let mut frames: Vec<(u32, usize)> = Vec::new();
        for root in 0..nodes as u32 {
            if order[root as usize] != UNSEEN {
                continue;
            }
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
            discover!(root);
            while let Some(frame) = frames.last_mut() {
                let (node, position) = *frame;
                let targets = graph.forward.row(node);
                if position < targets.len() {
                    frame.1 += 1;
                    let next = targets[position];
                    if !keep(graph.edge(node, next)) {
                        continue;
                    }
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn components_equal_tarjan_s_numbered_alike(
            segments in prop::collection::vec(0usize..64, 1..8),
            assets in prop::collection::vec((0usize..64, any::<bool>()), 1..12),
            flows in prop::collection::vec(
                (
                    prop::collection::vec(0usize..64, 1..4),
                    prop::collection::vec(0usize..64, 1..4),
                ),
                0..24,
            ),
            shut in 0u32..4,
        ) {
            let text = estate(&segments, &assets, &flows);
            let model = model_from_text("p.yaml", &text).unwrap();
            let graph = ReachGraph::build(&model);
            // Every flow open, or every so many shut, as credentials shut them.
            let open = |flow: FlowId| shut == 0 || !flow.0.is_multiple_of(shut + 1);
            let keep = |edge: Edge| match edge {
                Edge::Enter(flow) => open(flow),
                _ => true,
            };
            prop_assert_eq!(graph.components(open), old_components(&graph, keep));
        }

        #[test]
        fn rows_built_from_the_model_equal_the_sorted_edge_list(
            segments in prop::collection::vec(0usize..64, 1..8),
            assets in prop::collection::vec((0usize..64, any::<bool>()), 1..12),
            flows in prop::collection::vec(
                (
                    prop::collection::vec(0usize..64, 1..4),
                    prop::collection::vec(0usize..64, 1..4),
                ),
                0..16,
            ),
            wide in any::<bool>(),
        ) {
            let text = estate(&segments, &assets, &flows);
            let model = model_from_text("p.yaml", &text).unwrap();
            // Offsets kept wide past a limit of no edge at all, so both forms are tried.
            let limit = if wide { 0 } else { u32::MAX as usize };
            let graph = ReachGraph::build_with_limit(&model, limit);
            let narrow = matches!(graph.forward.offsets, Offsets::Narrow(_));
            prop_assert_eq!(narrow, !wide || graph.forward.ends.is_empty());
            assert_rows_match_oracle(&model, &graph);
        }
    }

    #[test]
    fn rows_sort_far_ends_that_arrive_out_of_order() {
        let mut builder = RowsBuilder::new(2);
        for (node, end) in [(0, 5), (0, 3), (1, 9), (0, 4)] {
            builder.count(node);
            let _ = end;
        }
        builder.start_fill();
        for (node, end) in [(0, 5), (0, 3), (1, 9), (0, 4)] {
            builder.fill(node, end);
        }
        let rows = builder.finish(u32::MAX as usize);
        assert_eq!(rows.row(0), &[3, 4, 5]);
        assert_eq!(rows.row(1), &[9]);
    }
}
