//! The model as a reachability graph. This is the only module that knows petgraph; the
//! rest of cordon talks in [`NodeId`]s and cordon's own entity and flow ids.
//!
//! Every entity `e` has two nodes: `in(e)`, being reached, and `out(e)`, acting as a
//! source. Containment joins `in(parent) → in(child)` and `out(child) → out(parent)`;
//! a pivot joins `in(leaf) → out(leaf)`. Each flow gets a node of its own between its
//! sources and destinations, `out(s) → flow(f) → in(d)`, so a flow between two groups
//! costs one edge per selected outermost entity instead of one per pair of leaves, and a
//! cut can count flows rather than edges.

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Contains,
    Pivot,
    Enter(FlowId),
    Exit,
}

pub struct ReachGraph {
    graph: DiGraph<(), Edge, u32>,
    entities: u32,
}

impl ReachGraph {
    pub fn build(model: &Model) -> ReachGraph {
        let entities = model.entities.len() as u32;
        let flows = model.flows.len() as u32;
        let nodes = 2 * entities as usize + flows as usize;
        let mut graph = DiGraph::with_capacity(nodes, nodes * 2);
        for _ in 0..nodes {
            graph.add_node(());
        }
        let index = |node: NodeId| NodeIndex::new(node.index());
        let this = ReachGraph {
            graph: DiGraph::default(),
            entities,
        };
        for id in model.entity_ids() {
            let entity = model.entity(id);
            if let Some(parent) = entity.parent {
                graph.add_edge(
                    index(this.in_node(parent)),
                    index(this.in_node(id)),
                    Edge::Contains,
                );
                graph.add_edge(
                    index(this.out_node(id)),
                    index(this.out_node(parent)),
                    Edge::Contains,
                );
            }
            if entity.is_leaf() {
                graph.add_edge(
                    index(this.in_node(id)),
                    index(this.out_node(id)),
                    Edge::Pivot,
                );
            }
        }
        for id in model.flow_ids() {
            let flow = model.flow(id);
            let hub = index(this.flow_node(id));
            for &source in flow.from.roots() {
                graph.add_edge(index(this.out_node(source)), hub, Edge::Enter(id));
            }
            for &target in flow.to.roots() {
                graph.add_edge(hub, index(this.in_node(target)), Edge::Exit);
            }
        }
        ReachGraph { graph, entities }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
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
        self.graph
            .edges_directed(NodeIndex::new(node.index()), Direction::Outgoing)
            .map(|edge| (NodeId(edge.target().index() as u32), *edge.weight()))
    }

    /// The edges entering `node`, in a fixed order.
    pub fn predecessors(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(node.index()), Direction::Incoming)
            .map(|edge| (NodeId(edge.source().index() as u32), *edge.weight()))
    }
}
