//! The attacker's search: what an attacker who controls a set of entities reaches, in how
//! few flows, and by which path.
//!
//! Reachability is the least fixpoint over credentials. A first pass explores the graph
//! with a worklist and, the first time a credential is obtained, unlocks its flows at
//! once, including for sources reached earlier; it never repeats the search per
//! credential. A second pass, a 0-1 breadth-first search over the flows that the first
//! pass found open, gives the fewest flows to every node and a parent for each, from
//! which a witness path is read.

use std::collections::VecDeque;

use crate::graph::{Edge, Node, NodeId, ReachGraph};
use crate::model::{CredentialId, EntityId, FlowId, Model, Selection};
use crate::ports::{self, PortSpec};

pub const UNREACHED: u32 = u32::MAX;

/// How the attacker came to hold a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Held from the start because it leaked.
    Leaked,
    /// Taken from an entity the attacker controlled, that many flows from the start.
    From { entity: EntityId, hops: u32 },
}

/// The outcome of one search.
pub struct Search {
    dist: Vec<u32>,
    parent: Vec<u32>,
    /// Per credential, how it was first obtained on a shortest route.
    pub held: Vec<Option<Holding>>,
    /// Per flow, whether the attacker may cross it.
    pub open: Vec<bool>,
}

impl Search {
    pub fn dist(&self, node: NodeId) -> u32 {
        self.dist[node.index()]
    }

    pub fn reached(&self, node: NodeId) -> bool {
        self.dist[node.index()] != UNREACHED
    }

    /// The nodes from a start node to `node`, both included.
    pub fn path_to(&self, node: NodeId) -> Vec<NodeId> {
        let mut path = vec![node];
        let mut current = node;
        while self.parent[current.index()] != UNREACHED {
            current = NodeId(self.parent[current.index()]);
            path.push(current);
        }
        path.reverse();
        path
    }
}

/// Where an attacker lands in an entity, and by which last flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landing {
    pub hops: u32,
    pub flow: FlowId,
}

/// One step of a witness, leaf to leaf over one flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: EntityId,
    pub to: EntityId,
    pub flow: FlowId,
    /// The credential that opened the flow, and how it was obtained.
    pub credential: Option<(CredentialId, Holding)>,
}

/// Precomputed look-ups shared by every search over one model.
pub struct Engine<'m> {
    pub model: &'m Model,
    pub graph: &'m ReachGraph,
    /// Per entity, the credentials whose holders have this entity as an outermost member.
    holder_roots: Vec<Vec<CredentialId>>,
    /// Per credential, the flows it opens.
    opens: Vec<Vec<FlowId>>,
    /// Entities from the top of the tree down, parents before children.
    top_down: Vec<EntityId>,
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, graph: &'m ReachGraph) -> Self {
        let mut holder_roots = vec![Vec::new(); model.entities.len()];
        for id in model.credential_ids() {
            let credential = model.credential(id);
            if credential.is_active() {
                for &root in credential.holders.roots() {
                    holder_roots[root.index()].push(id);
                }
            }
        }
        let mut opens = vec![Vec::new(); model.credentials.len()];
        for id in model.flow_ids() {
            for &credential in &model.flow(id).auth {
                opens[credential.index()].push(id);
            }
        }
        let mut top_down = Vec::with_capacity(model.entities.len());
        for root in model.top_level() {
            model.descendants(root, &mut top_down);
        }
        Engine {
            model,
            graph,
            holder_roots,
            opens,
            top_down,
        }
    }

    /// Credentials that `entity` holds: those whose holders include it or an ancestor.
    fn credentials_at(&self, entity: EntityId) -> impl Iterator<Item = CredentialId> + '_ {
        self.model
            .ancestors(entity)
            .flat_map(|ancestor| self.holder_roots[ancestor.index()].iter().copied())
    }

    /// Whether a flow is open from the start: it needs no credential, or a leaked one.
    pub fn open_from_start(&self, flow: FlowId) -> bool {
        let auth = &self.model.flow(flow).auth;
        auth.is_empty()
            || auth.iter().any(|&id| {
                let credential = self.model.credential(id);
                credential.is_active() && credential.leaked
            })
    }

    /// Whether a flow can ever open: it needs no credential, or one that is active.
    pub fn can_open(&self, flow: FlowId) -> bool {
        let auth = &self.model.flow(flow).auth;
        auth.is_empty() || auth.iter().any(|&id| self.model.credential(id).is_active())
    }

    /// Searches from every entity of `start` at once (the attacker controls all of it).
    /// Entities marked in `blocked` are taken out of the graph with both their nodes.
    pub fn search(&self, start: &Selection, blocked: Option<&[bool]>) -> Search {
        let is_blocked = |node: NodeId| match (blocked, self.graph.node(node)) {
            (Some(blocked), Node::In(entity) | Node::Out(entity)) => blocked[entity.index()],
            _ => false,
        };
        let starts: Vec<NodeId> = start
            .roots()
            .iter()
            .map(|&entity| self.graph.in_node(entity))
            .filter(|&node| !is_blocked(node))
            .collect();
        let open = self.fixpoint(&starts, &is_blocked);
        self.distances(&starts, &is_blocked, open)
    }

    /// The first pass: which flows the attacker can open at all.
    fn fixpoint(&self, starts: &[NodeId], is_blocked: &impl Fn(NodeId) -> bool) -> Vec<bool> {
        let model = self.model;
        let mut held = vec![false; model.credentials.len()];
        let mut open: Vec<bool> = model.flow_ids().map(|f| self.open_from_start(f)).collect();
        for id in model.credential_ids() {
            let credential = model.credential(id);
            held[id.index()] = credential.is_active() && credential.leaked;
        }
        // A locked flow whose source was reached: it is entered once it opens.
        let mut waiting = vec![false; model.flows.len()];
        let mut seen = vec![false; self.graph.node_count()];
        let mut stack: Vec<NodeId> = Vec::new();
        for &node in starts {
            if !seen[node.index()] {
                seen[node.index()] = true;
                stack.push(node);
            }
        }
        while let Some(node) = stack.pop() {
            if let Node::In(entity) = self.graph.node(node) {
                for credential in self.credentials_at(entity) {
                    if held[credential.index()] {
                        continue;
                    }
                    held[credential.index()] = true;
                    for &flow in &self.opens[credential.index()] {
                        if !open[flow.index()] {
                            open[flow.index()] = true;
                            let hub = self.graph.flow_node(flow);
                            if waiting[flow.index()] && !seen[hub.index()] {
                                seen[hub.index()] = true;
                                stack.push(hub);
                            }
                        }
                    }
                }
            }
            for (next, edge) in self.graph.successors(node) {
                if seen[next.index()] || is_blocked(next) {
                    continue;
                }
                if let Edge::Enter(flow) = edge
                    && !open[flow.index()]
                {
                    waiting[flow.index()] = true;
                    continue;
                }
                seen[next.index()] = true;
                stack.push(next);
            }
        }
        open
    }

    /// The second pass: fewest flows to every node over the open flows.
    fn distances(
        &self,
        starts: &[NodeId],
        is_blocked: &impl Fn(NodeId) -> bool,
        open: Vec<bool>,
    ) -> Search {
        let model = self.model;
        let nodes = self.graph.node_count();
        let mut dist = vec![UNREACHED; nodes];
        let mut parent = vec![UNREACHED; nodes];
        let mut done = vec![false; nodes];
        let mut held: Vec<Option<Holding>> = model
            .credentials
            .iter()
            .map(|c| (c.is_active() && c.leaked).then_some(Holding::Leaked))
            .collect();
        let mut queue = VecDeque::new();
        for &node in starts {
            if dist[node.index()] != 0 {
                dist[node.index()] = 0;
                queue.push_back(node);
            }
        }
        while let Some(node) = queue.pop_front() {
            if done[node.index()] {
                continue;
            }
            done[node.index()] = true;
            let here = dist[node.index()];
            if let Node::In(entity) = self.graph.node(node) {
                for credential in self.credentials_at(entity) {
                    if held[credential.index()].is_none() {
                        held[credential.index()] = Some(Holding::From { entity, hops: here });
                    }
                }
            }
            for (next, edge) in self.graph.successors(node) {
                if is_blocked(next) {
                    continue;
                }
                let weight = match edge {
                    Edge::Enter(flow) if !open[flow.index()] => continue,
                    Edge::Enter(_) => 1,
                    Edge::Contains | Edge::Pivot | Edge::Exit => 0,
                };
                let candidate = here + weight;
                if candidate < dist[next.index()] {
                    dist[next.index()] = candidate;
                    parent[next.index()] = node.0;
                    if weight == 0 {
                        queue.push_front(next);
                    } else {
                        queue.push_back(next);
                    }
                }
            }
        }
        Search {
            dist,
            parent,
            held,
            open,
        }
    }

    /// Per entity, the fewest flows to land in it where the last flow allows one of
    /// `wanted` (any flow when `wanted` is empty), and that flow. Landing in a group lands
    /// in everything inside it.
    pub fn landings(&self, search: &Search, wanted: &[PortSpec]) -> Vec<Option<Landing>> {
        let model = self.model;
        let mut landing: Vec<Option<Landing>> = vec![None; model.entities.len()];
        for flow in model.flow_ids() {
            let hub = self.graph.flow_node(flow);
            if !search.reached(hub) || !ports::any_overlap(&model.flow(flow).ports, wanted) {
                continue;
            }
            let hops = search.dist(hub);
            for &target in model.flow(flow).to.roots() {
                if !search.reached(self.graph.in_node(target)) {
                    continue;
                }
                let slot = &mut landing[target.index()];
                if slot.is_none_or(|best| hops < best.hops) {
                    *slot = Some(Landing { hops, flow });
                }
            }
        }
        for &entity in &self.top_down {
            let Some(parent) = model.entity(entity).parent else {
                continue;
            };
            // A blocked child is not reached through its parent.
            if !search.reached(self.graph.in_node(entity)) {
                continue;
            }
            if let Some(from_parent) = landing[parent.index()] {
                let slot = &mut landing[entity.index()];
                if slot.is_none_or(|best| from_parent.hops < best.hops) {
                    *slot = Some(from_parent);
                }
            }
        }
        landing
    }

    /// The witness for landing in `leaf` by `landing`: hop by hop, leaf to leaf.
    pub fn witness(&self, search: &Search, leaf: EntityId, landing: Landing) -> Vec<Step> {
        let path = search.path_to(self.graph.flow_node(landing.flow));
        let mut steps = Vec::new();
        let mut current: Option<EntityId> = None;
        let mut pending: Option<(FlowId, Option<EntityId>)> = None;
        for node in path {
            match self.graph.node(node) {
                Node::Out(entity) if self.model.entity(entity).is_leaf() => {
                    if let Some((flow, from)) = pending.take() {
                        steps.push(self.step(search, from.unwrap_or(entity), entity, flow));
                    }
                    current = Some(entity);
                }
                Node::Flow(flow) => pending = Some((flow, current)),
                Node::In(_) | Node::Out(_) => {}
            }
        }
        if let Some((flow, from)) = pending {
            steps.push(self.step(search, from.unwrap_or(leaf), leaf, flow));
        }
        steps
    }

    fn step(&self, search: &Search, from: EntityId, to: EntityId, flow: FlowId) -> Step {
        // Of the credentials that open the flow, name the one obtained soonest.
        let credential = self
            .model
            .flow(flow)
            .auth
            .iter()
            .filter_map(|&id| search.held[id.index()].map(|holding| (id, holding)))
            .min_by_key(|&(id, holding)| match holding {
                Holding::Leaked => (0, id),
                Holding::From { hops, .. } => (u64::from(hops) + 1, id),
            });
        Step {
            from,
            to,
            flow,
            credential,
        }
    }
}
