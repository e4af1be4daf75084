//! One attack: a set of flows that, with every other flow removed, still lets the
//! attacker reach the goal, credentials included. The exact cut must hit every attack,
//! so each one found is a constraint on it.
//!
//! The engine's searches say whether and how far, and their witnesses name where a
//! credential's closest holder is in the final fixpoint; following those can go round
//! in a circle (the path to one holder using a credential whose holder's path uses the
//! first). This search keeps, for every node, the node it was first reached from and,
//! for every flow, the credential that had already opened it. Everything a node depends
//! on was reached before it, so collecting its chain of parents and, for each
//! credential used, the chain to where it was obtained, always ends and always suffices.

use std::collections::VecDeque;

use crate::engine::{Engine, Goal};
use crate::graph::{Edge, Node, NodeId};
use crate::model::{CredentialId, FlowId, Model, Selection};

const NONE: u32 = u32::MAX;

/// What an attack search needs of the model, computed once per question.
pub struct Tracer<'e, 'm> {
    engine: &'e Engine<'m>,
    /// Per entity, the active credentials it holds (through itself or a group).
    held_at: Vec<Vec<CredentialId>>,
    /// Per credential, the flows it opens.
    opens: Vec<Vec<FlowId>>,
    /// Per credential: active and leaked, so held from the start.
    leaked: Vec<bool>,
}

/// Where the attacker obtained a credential.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Obtained {
    Not,
    Leaked,
    At(NodeId),
}

impl<'e, 'm> Tracer<'e, 'm> {
    pub fn new(engine: &'e Engine<'m>) -> Self {
        let model = engine.model;
        let mut held_at = vec![Vec::new(); model.entities.len()];
        let mut opens = vec![Vec::new(); model.credentials.len()];
        let mut leaked = vec![false; model.credentials.len()];
        for id in model.credential_ids() {
            let credential = model.credential(id);
            if !credential.is_active() {
                continue;
            }
            leaked[id.index()] = credential.leaked;
            for member in credential.holders.members(model) {
                held_at[member.index()].push(id);
            }
        }
        for flow in model.flow_ids() {
            for &credential in model.flow(flow).auth() {
                opens[credential.index()].push(flow);
            }
        }
        Tracer {
            engine,
            held_at,
            opens,
            leaked,
        }
    }

    fn model(&self) -> &'m Model {
        self.engine.model
    }

    /// An attack from `start` to `goal` over the flows `usable` allows, in id order, or
    /// `None` when there is none. Breadth first, so that the chains it follows are short.
    pub fn attack(&self, start: &Selection, goal: &Goal, usable: &[bool]) -> Option<Vec<FlowId>> {
        let model = self.model();
        let graph = self.engine.graph;
        let mut parent = vec![NONE; graph.node_count()];
        let mut seen = vec![false; graph.node_count()];
        // Per flow node, the credential that opened it, if it needed one.
        let mut opener: Vec<Option<CredentialId>> = vec![None; model.flows.len()];
        let mut obtained: Vec<Obtained> = self
            .leaked
            .iter()
            .map(|&leaked| {
                if leaked {
                    Obtained::Leaked
                } else {
                    Obtained::Not
                }
            })
            .collect();
        let mut queue = VecDeque::new();
        for &root in start.roots() {
            let node = graph.in_node(root);
            if !seen[node.index()] {
                seen[node.index()] = true;
                queue.push_back(node);
            }
        }
        let opened_by = |obtained: &[Obtained], flow: FlowId| -> Option<Option<CredentialId>> {
            let auth = model.flow(flow).auth();
            if auth.is_empty() {
                return Some(None);
            }
            auth.iter()
                .copied()
                .find(|c| obtained[c.index()] != Obtained::Not)
                .map(Some)
        };
        while let Some(node) = queue.pop_front() {
            if self.meets(goal, node) {
                return Some(self.collect(node, &parent, &opener, &obtained));
            }
            if let Node::In(entity) = graph.node(node) {
                for &credential in &self.held_at[entity.index()] {
                    if obtained[credential.index()] != Obtained::Not {
                        continue;
                    }
                    obtained[credential.index()] = Obtained::At(node);
                    // Sources reached before the credential now cross its flows.
                    for &flow in &self.opens[credential.index()] {
                        let hub = graph.flow_node(flow);
                        if !usable[flow.index()] || seen[hub.index()] {
                            continue;
                        }
                        let source = model
                            .flow(flow)
                            .from
                            .roots()
                            .iter()
                            .map(|&s| graph.out_node(s))
                            .find(|s| seen[s.index()]);
                        if let Some(source) = source {
                            seen[hub.index()] = true;
                            parent[hub.index()] = source.0;
                            opener[flow.index()] = Some(credential);
                            queue.push_back(hub);
                        }
                    }
                }
            }
            for (next, edge) in graph.successors(node) {
                if seen[next.index()] {
                    continue;
                }
                if let Edge::Enter(flow) = edge {
                    if !usable[flow.index()] {
                        continue;
                    }
                    let Some(credential) = opened_by(&obtained, flow) else {
                        continue;
                    };
                    opener[flow.index()] = credential;
                }
                seen[next.index()] = true;
                parent[next.index()] = node.0;
                queue.push_back(next);
            }
        }
        None
    }

    /// Whether reaching `node` meets the goal, as the engine decides it.
    fn meets(&self, goal: &Goal, node: NodeId) -> bool {
        match self.engine.graph.node(node) {
            Node::In(entity) => {
                goal.ports.is_empty() && goal.targets.contains(self.model(), entity)
            }
            Node::Flow(flow) => !goal.ports.is_empty() && self.engine.lands_in(goal, flow),
            Node::Out(_) => false,
        }
    }

    /// The flows on the chain of parents to `node`, and for each credential that opened
    /// one of them, the flows on the chain to where it was obtained, and so on.
    fn collect(
        &self,
        node: NodeId,
        parent: &[u32],
        opener: &[Option<CredentialId>],
        obtained: &[Obtained],
    ) -> Vec<FlowId> {
        let graph = self.engine.graph;
        let mut walked = vec![false; parent.len()];
        let mut flows = Vec::new();
        let mut pending = vec![node];
        while let Some(mut current) = pending.pop() {
            loop {
                if walked[current.index()] {
                    break;
                }
                walked[current.index()] = true;
                if let Node::Flow(flow) = graph.node(current) {
                    flows.push(flow);
                    if let Some(credential) = opener[flow.index()]
                        && let Obtained::At(holder) = obtained[credential.index()]
                    {
                        pending.push(holder);
                    }
                }
                match parent[current.index()] {
                    NONE => break,
                    previous => current = NodeId(previous),
                }
            }
        }
        flows.sort_unstable();
        flows
    }
}
