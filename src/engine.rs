//! The attacker's search: what an attacker who controls a set of entities reaches, in how
//! few flows, and by which path.
//!
//! Reachability is the least fixpoint over credentials. [`Engine::explore`] walks the
//! graph with a worklist and, the first time a credential is obtained, opens its flows at
//! once, including for sources reached earlier; it never repeats the search per
//! credential. [`Engine::shortest`], a 0-1 breadth-first search over the flows that the
//! fixpoint opened, gives the fewest flows to a goal and a parent for every node, from
//! which [`Engine::witness`] reads the path.
//!
//! Most questions only ask whether a goal is reachable at all. For those without `via`,
//! [`Engine::reaches`] answers on the strongly connected components of the flows that are
//! open from the start (built once, on first use), visiting each component once instead
//! of each node. Every search reuses one [`Workspace`], whose marks are stamped with a
//! search number instead of being cleared.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, OnceLock, PoisonError};

use rayon::prelude::*;

use crate::graph::{Edge, Node, NodeId, ReachGraph};
use crate::model::{CredentialId, EntityId, FlowId, Model, Selection};
use crate::port_set::PortSet;
use crate::ports::{self, PortSpec};

pub const UNREACHED: u32 = u32::MAX;

/// Stamps stay below this, so that [`Workspace::settled`] can hold `2 × stamp + 1`.
const MAX_STAMP: u32 = 1 << 31;

/// How the attacker came to hold a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Held from the start because it leaked.
    Leaked,
    /// Taken from an entity the attacker controlled, that many flows from the start.
    From { entity: EntityId, hops: u32 },
}

/// What a search is looking for: to land in `targets`, the last flow allowing one of
/// `ports` (any flow when empty).
#[derive(Clone, Copy, Debug)]
pub struct Goal<'a> {
    pub targets: &'a Selection,
    pub ports: &'a [PortSpec],
}

/// Where a search reached its goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// The node the goal was met at: `in(x)` for `x` a target, or the last flow.
    pub node: NodeId,
    /// The target leaf the witness ends at.
    pub leaf: EntityId,
    pub hops: u32,
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

/// Reusable scratch space for searches over one graph. A mark counts only when it
/// carries the current search's stamp, so nothing is cleared between searches.
///
/// The per-node parts are sized on first use: most questions are answered on
/// components ([`Engine::reaches`]) and never touch them, and a workspace that only
/// walks components then costs one mark per component and per flow instead of five
/// `u32`s per node.
pub struct Workspace {
    stamp: u32,
    /// The stamp that marks a flow open in `flow_open`: the current search's, or that of
    /// the fixpoint that [`Engine::shortest_in_fixpoint`] searches again.
    open_stamp: u32,
    /// Node count of the graph, to size the per-node parts when a search needs them.
    nodes: usize,
    /// Per node, for [`Engine::explore`] and [`Engine::rounds`].
    seen: Vec<u32>,
    /// Per node, for [`Engine::shortest`]: whether this search gave it a distance
    /// (`2 × stamp`) or settled it (`2 × stamp + 1`), one mark for both; the distance,
    /// and the node it came from.
    settled: Vec<u32>,
    dist: Vec<u32>,
    parent: Vec<u32>,
    flow_open: Vec<u32>,
    component_seen: Vec<u32>,
    /// Per credential, whether the fixpoint obtained it, and where.
    held: Vec<Option<Holding>>,
    /// Per credential, its closest holder as [`Engine::shortest`] settled it.
    closest: Vec<Option<Holding>>,
    /// Flow nodes settled by the last [`Engine::shortest`], in order.
    hubs: Vec<FlowId>,
    stack: Vec<NodeId>,
    queue: VecDeque<NodeId>,
}

impl Workspace {
    /// A workspace that holds nothing, to stand in for one given back; no search uses
    /// it.
    fn empty() -> Workspace {
        Workspace {
            stamp: 0,
            open_stamp: 0,
            nodes: 0,
            seen: Vec::new(),
            settled: Vec::new(),
            dist: Vec::new(),
            parent: Vec::new(),
            flow_open: Vec::new(),
            component_seen: Vec::new(),
            held: Vec::new(),
            closest: Vec::new(),
            hubs: Vec::new(),
            stack: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// Starts a new search: fresh marks, and no flow open but those open from the start.
    fn next_search(&mut self) {
        self.advance();
        self.open_stamp = self.stamp;
    }

    /// Starts a new search over the flows the last fixpoint opened: fresh marks for
    /// nodes, while the flows stay open and the components that the fixpoint's walk
    /// visited stay marked.
    fn next_marks(&mut self) {
        self.advance();
    }

    fn advance(&mut self) {
        self.stamp += 1;
        if self.stamp == MAX_STAMP {
            // After two billion searches the stamps run out; start from clean marks,
            // keeping only what the open fixpoint marked, now with stamp 1.
            for marks in [&mut self.seen, &mut self.settled] {
                marks.fill(0);
            }
            for marks in [&mut self.flow_open, &mut self.component_seen] {
                for mark in marks.iter_mut() {
                    *mark = u32::from(*mark == self.open_stamp);
                }
            }
            self.open_stamp = 1;
            self.stamp = 2;
        }
        self.stack.clear();
        self.queue.clear();
        self.hubs.clear();
    }

    /// Sizes the marks of [`Engine::explore`] and [`Engine::rounds`].
    fn size_seen(&mut self) {
        if self.seen.len() != self.nodes {
            self.seen = vec![0; self.nodes];
        }
    }

    /// Sizes the parts of [`Engine::shortest`].
    fn size_shortest(&mut self) {
        if self.settled.len() != self.nodes {
            self.settled = vec![0; self.nodes];
            self.dist = vec![UNREACHED; self.nodes];
            self.parent = vec![UNREACHED; self.nodes];
        }
    }

    fn mark(marks: &mut [u32], stamp: u32, index: usize) -> bool {
        let fresh = marks[index] != stamp;
        marks[index] = stamp;
        fresh
    }

    /// Whether the last search reached `node`.
    pub fn reached(&self, node: NodeId) -> bool {
        self.seen.get(node.index()) == Some(&self.stamp)
    }

    /// Fewest flows to `node` in the last [`Engine::shortest`], if it was settled.
    pub fn dist(&self, node: NodeId) -> Option<u32> {
        (self.settled.get(node.index()) == Some(&(2 * self.stamp + 1)))
            .then(|| self.dist[node.index()])
    }

    /// The nodes from a start node to `node`, both included.
    fn path_to(&self, node: NodeId) -> Vec<NodeId> {
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

/// Workspaces lent to parallel jobs over one engine: a job borrows a free one, or makes
/// one when none is free, and gives it back when it ends. rayon's `map_init` makes a
/// fresh state for every piece it splits the work into (37 pieces for the 1,000
/// invariants of scale 10 on two threads, each a workspace whose pages the kernel
/// clears anew); borrowing from here keeps no more workspaces than jobs run at once,
/// one per thread, and reuses their memory.
pub struct WorkspacePool<'e, 'm> {
    engine: &'e Engine<'m>,
    free: Mutex<Vec<Workspace>>,
}

impl WorkspacePool<'_, '_> {
    /// A workspace for one job, given back to the pool when dropped.
    pub fn lend(&self) -> Lent<'_> {
        let free = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        Lent {
            free: &self.free,
            workspace: free.unwrap_or_else(|| self.engine.workspace()),
        }
    }

    /// How many workspaces the pool made and holds, all given back.
    #[cfg(test)]
    fn made(&self) -> usize {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// A workspace borrowed from a [`WorkspacePool`].
pub struct Lent<'p> {
    free: &'p Mutex<Vec<Workspace>>,
    workspace: Workspace,
}

impl Deref for Lent<'_> {
    type Target = Workspace;

    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Workspace {
        &mut self.workspace
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let workspace = std::mem::replace(&mut self.workspace, Workspace::empty());
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(workspace);
    }
}

/// The strongly connected components of the graph of always-open edges, with what each
/// component holds: see [`Engine::reaches`].
struct Components {
    of_node: Vec<u32>,
    /// Per component and one past the last, where its values start in `successors`,
    /// `credentials` and `gated`: each component's values follow the previous one's.
    successor_starts: Vec<u32>,
    successors: Vec<u32>,
    credential_starts: Vec<u32>,
    /// A credential held inside the component, and an entity there that holds it.
    credentials: Vec<(CredentialId, EntityId)>,
    gated_starts: Vec<u32>,
    gated: Vec<FlowId>,
}

/// Where an attacker's walk on components goes first from a start, nothing blocked: the
/// components its outermost entities' `in` nodes lead to through chains of components
/// that hold nothing and gate nothing ([`Engine::fixpoint_component`]), and those
/// chains. Starts with the same `fixpoints` obtain the same credentials and open the
/// same flows, so one walk serves them all; each reaches what that walk reaches, and its
/// own chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The components the chains end at, sorted.
    pub fixpoints: Vec<u32>,
    /// The components passed on the way, sorted.
    chain: Vec<u32>,
}

/// Groups `(key, value)` pairs by key into one list, with where each key's values
/// start and one past the last key's end.
fn pooled<T: Copy>(keys: usize, mut pairs: Vec<(u32, T)>) -> (Vec<u32>, Vec<T>) {
    pairs.sort_by_key(|&(key, _)| key);
    let mut starts = vec![0u32; keys + 1];
    for &(key, _) in &pairs {
        starts[key as usize + 1] += 1;
    }
    for index in 1..starts.len() {
        starts[index] += starts[index - 1];
    }
    (starts, pairs.into_iter().map(|(_, value)| value).collect())
}

/// Sorts the values from `start` on and drops repeats among them.
fn sort_tail<T: Ord + Copy>(values: &mut Vec<T>, start: usize) {
    values[start..].sort_unstable();
    let mut kept = start;
    for index in start..values.len() {
        if index == start || values[index] != values[kept - 1] {
            values[kept] = values[index];
            kept += 1;
        }
    }
    values.truncate(kept);
}

/// The values of key `index`, given where each key's values start.
fn slice<'v, T>(values: &'v [T], starts: &[u32], index: usize) -> &'v [T] {
    &values[starts[index] as usize..starts[index + 1] as usize]
}

/// Precomputed look-ups shared by every search over one model.
pub struct Engine<'m> {
    pub model: &'m Model,
    pub graph: &'m ReachGraph,
    known: Prepared,
    components: OnceLock<Components>,
}

/// What an [`Engine`] works out from the model alone, before it has a graph, so that
/// `check` can work it out on one core while the other builds the graph.
pub struct Prepared {
    /// Per entity, the credentials whose holders have this entity as an outermost member.
    holder_roots: Vec<Vec<CredentialId>>,
    /// Per entity: its nearest ancestor (not itself) that holds a credential, so that
    /// finding what an entity holds skips the levels that hold nothing.
    holding_above: Vec<Option<EntityId>>,
    /// Per credential, the flows it opens.
    opens: Vec<Vec<FlowId>>,
    /// Per flow: open from the start (no credential, or a leaked one).
    always_open: Vec<bool>,
    /// Per flow: can open at all (no credential, or an active one).
    can_open: Vec<bool>,
    /// Entities from the top of the tree down, parents before children.
    top_down: Vec<EntityId>,
    /// Per credential: held from the start (active, not revoked here, and leaked).
    leaked: Vec<bool>,
}

impl Prepared {
    pub fn new(model: &Model) -> Self {
        Self::with_changes(model, &[], &[])
    }

    /// See [`Engine::with_changes`].
    fn with_changes(model: &Model, removed: &[FlowId], revoked: &[CredentialId]) -> Self {
        let active = |id: CredentialId| model.credential(id).is_active() && !revoked.contains(&id);
        let mut holder_roots = vec![Vec::new(); model.entities.len()];
        for id in model.credential_ids() {
            if active(id) {
                for &root in model.credential(id).holders.roots() {
                    holder_roots[root.index()].push(id);
                }
            }
        }
        let mut opens = vec![Vec::new(); model.credentials.len()];
        let mut always_open = Vec::with_capacity(model.flows.len());
        let mut can_open = Vec::with_capacity(model.flows.len());
        for (id, flow) in model.flow_ids().zip(&model.flows) {
            let auth = flow.auth();
            for &credential in auth {
                opens[credential.index()].push(id);
            }
            let exists = !removed.contains(&id);
            always_open.push(
                exists
                    && (auth.is_empty()
                        || auth
                            .iter()
                            .any(|&c| active(c) && model.credential(c).leaked)),
            );
            can_open.push(exists && (auth.is_empty() || auth.iter().any(|&c| active(c))));
        }
        let mut top_down = Vec::with_capacity(model.entities.len());
        for root in model.top_level() {
            model.descendants(root, &mut top_down);
        }
        let mut holding_above = vec![None; model.entities.len()];
        for &entity in &top_down {
            if let Some(parent) = model.entity(entity).parent {
                holding_above[entity.index()] = if holder_roots[parent.index()].is_empty() {
                    holding_above[parent.index()]
                } else {
                    Some(parent)
                };
            }
        }
        let leaked = model
            .credential_ids()
            .map(|id| active(id) && model.credential(id).leaked)
            .collect();
        Prepared {
            holder_roots,
            holding_above,
            opens,
            always_open,
            can_open,
            top_down,
            leaked,
        }
    }

    /// The engine over `graph`, the graph of `model`, which this was prepared from.
    pub fn engine<'m>(self, model: &'m Model, graph: &'m ReachGraph) -> Engine<'m> {
        Engine {
            model,
            graph,
            known: self,
            components: OnceLock::new(),
        }
    }
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, graph: &'m ReachGraph) -> Self {
        Prepared::new(model).engine(model, graph)
    }

    /// An engine for the model as if `removed` flows did not exist and `revoked`
    /// credentials were revoked: what-if questions without rebuilding the graph.
    pub fn with_changes(
        model: &'m Model,
        graph: &'m ReachGraph,
        removed: &[FlowId],
        revoked: &[CredentialId],
    ) -> Self {
        Prepared::with_changes(model, removed, revoked).engine(model, graph)
    }

    pub fn workspace(&self) -> Workspace {
        Workspace {
            nodes: self.graph.node_count(),
            flow_open: vec![0; self.model.flows.len()],
            held: vec![None; self.model.credentials.len()],
            closest: vec![None; self.model.credentials.len()],
            ..Workspace::empty()
        }
    }

    /// Workspaces to lend to parallel jobs, one per job running at once.
    pub fn workspace_pool(&self) -> WorkspacePool<'_, 'm> {
        WorkspacePool {
            engine: self,
            free: Mutex::new(Vec::new()),
        }
    }

    /// Whether a flow is open from the start: it needs no credential, or a leaked one.
    pub fn open_from_start(&self, flow: FlowId) -> bool {
        self.known.always_open[flow.index()]
    }

    /// Whether a credential is held from the start: active, not revoked here, and leaked.
    pub fn leaked(&self, credential: CredentialId) -> bool {
        self.known.leaked[credential.index()]
    }

    /// Whether a flow can ever open: it needs no credential, or one that is active.
    pub fn can_open(&self, flow: FlowId) -> bool {
        self.known.can_open[flow.index()]
    }

    /// Credentials that `entity` holds: those whose holders include it or an ancestor.
    pub fn credentials_at(&self, entity: EntityId) -> impl Iterator<Item = CredentialId> + '_ {
        std::iter::successors(Some(entity), |&e| self.known.holding_above[e.index()])
            .flat_map(|holder| self.known.holder_roots[holder.index()].iter().copied())
    }

    fn start_nodes(&self, start: &Selection, blocked: Option<&[bool]>) -> Vec<NodeId> {
        start
            .roots()
            .iter()
            .filter(|&&entity| blocked.is_none_or(|blocked| !blocked[entity.index()]))
            .map(|&entity| self.graph.in_node(entity))
            .collect()
    }

    fn is_blocked(&self, blocked: Option<&[bool]>, node: NodeId) -> bool {
        match (blocked, self.graph.node(node)) {
            (Some(blocked), Node::In(entity) | Node::Out(entity)) => blocked[entity.index()],
            _ => false,
        }
    }

    /// Whether reaching `node` meets the goal.
    fn meets(&self, goal: &Goal, node: NodeId) -> bool {
        match self.graph.node(node) {
            Node::In(entity) => goal.ports.is_empty() && goal.targets.contains(self.model, entity),
            Node::Flow(flow) => !goal.ports.is_empty() && self.lands(goal, flow).is_some(),
            Node::Out(_) => false,
        }
    }

    /// Whether `flow` allows the goal's ports and lands in its targets.
    pub fn lands_in(&self, goal: &Goal, flow: FlowId) -> bool {
        self.lands(goal, flow).is_some()
    }

    /// For a flow that allows the goal's ports, the target leaf it lands on, if any:
    /// the first leaf of its lowest destination that is a target or contains one.
    fn lands(&self, goal: &Goal, flow: FlowId) -> Option<EntityId> {
        let spec = self.model.flow(flow);
        if !ports::any_overlap(spec.ports(), goal.ports) {
            return None;
        }
        spec.to.roots().iter().find_map(|&destination| {
            if goal.targets.contains(self.model, destination) {
                Some(self.model.first_leaf(destination))
            } else {
                goal.targets
                    .roots()
                    .iter()
                    .find(|&&root| self.model.within(root, destination))
                    .map(|&root| self.model.first_leaf(root))
            }
        })
    }

    /// The leaf a path that reaches `entity` names as its end: the first leaf inside it,
    /// in id order, that is not blocked. A group whose every leaf is blocked is still
    /// reached, and holds its credentials; the path then ends at the group itself.
    fn landing_leaf(&self, entity: EntityId, blocked: Option<&[bool]>) -> EntityId {
        let Some(blocked) = blocked else {
            return self.model.first_leaf(entity);
        };
        let mut stack = vec![entity];
        while let Some(current) = stack.pop() {
            let children = &self.model.entity(current).children;
            if children.is_empty() {
                if !blocked[current.index()] {
                    return current;
                }
                continue;
            }
            let mut ordered = children.clone();
            ordered.sort_unstable_by(|a, b| b.cmp(a));
            stack.extend(ordered);
        }
        entity
    }

    /// Explores everything reachable from `start` (the attacker controls all of it) and
    /// obtains every credential on the way, skipping entities marked in `blocked`. With a
    /// goal, stops as soon as it is met and says so.
    pub fn explore(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        blocked: Option<&[bool]>,
        goal: Option<&Goal>,
    ) -> bool {
        ws.next_search();
        for (held, &leaked) in ws.held.iter_mut().zip(&self.known.leaked) {
            *held = leaked.then_some(Holding::Leaked);
        }
        self.seed(ws, start, blocked);
        while let Some(node) = ws.stack.pop() {
            if goal.is_some_and(|goal| self.meets(goal, node)) {
                return true;
            }
            if let Node::In(entity) = self.graph.node(node) {
                for credential in self.credentials_at(entity) {
                    if ws.held[credential.index()].is_some() {
                        continue;
                    }
                    ws.held[credential.index()] = Some(Holding::From { entity, hops: 0 });
                    self.open_for_reached(ws, credential);
                }
            }
            self.push_successors(ws, node, blocked);
        }
        false
    }

    /// Marks the start's nodes seen and puts them on the stack, for a new search.
    fn seed(&self, ws: &mut Workspace, start: &Selection, blocked: Option<&[bool]>) {
        ws.size_seen();
        for node in self.start_nodes(start, blocked) {
            if Workspace::mark(&mut ws.seen, ws.stamp, node.index()) {
                ws.stack.push(node);
            }
        }
    }

    /// Opens the flows of a credential just obtained; sources reached before it use
    /// them at once.
    fn open_for_reached(&self, ws: &mut Workspace, credential: CredentialId) {
        let stamp = ws.stamp;
        for flow in self.unlock(ws, credential) {
            let hub = self.graph.flow_node(flow);
            let source_reached = self
                .model
                .flow(flow)
                .from
                .roots()
                .iter()
                .any(|&s| ws.seen[self.graph.out_node(s).index()] == stamp);
            if source_reached && Workspace::mark(&mut ws.seen, stamp, hub.index()) {
                ws.stack.push(hub);
            }
        }
    }

    /// Puts on the stack the unseen successors of `node` over open edges, outside
    /// `blocked`.
    fn push_successors(&self, ws: &mut Workspace, node: NodeId, blocked: Option<&[bool]>) {
        let stamp = ws.stamp;
        for (next, edge) in self.graph.successors(node) {
            if ws.seen[next.index()] == stamp || self.is_blocked(blocked, next) {
                continue;
            }
            if let Edge::Enter(flow) = edge
                && !self.is_open(ws, flow)
            {
                continue;
            }
            ws.seen[next.index()] = stamp;
            ws.stack.push(next);
        }
    }

    /// Marks open, in this search, the flows that `credential` opens and that were shut
    /// until now, and returns them.
    fn unlock(&self, ws: &mut Workspace, credential: CredentialId) -> Vec<FlowId> {
        let stamp = ws.open_stamp;
        self.known.opens[credential.index()]
            .iter()
            .copied()
            .filter(|&flow| {
                !self.known.always_open[flow.index()]
                    && self.known.can_open[flow.index()]
                    && Workspace::mark(&mut ws.flow_open, stamp, flow.index())
            })
            .collect()
    }

    /// Entities from the top of the tree down, parents before children.
    pub fn top_down(&self) -> &[EntityId] {
        &self.known.top_down
    }

    /// Whether the last fixpoint opened `flow`.
    pub fn is_open(&self, ws: &Workspace, flow: FlowId) -> bool {
        self.known.always_open[flow.index()] || ws.flow_open[flow.index()] == ws.open_stamp
    }

    /// The closest arrival at `goal` from `start`, avoiding `blocked`: a reachability
    /// test first (on components where nothing is blocked, on nodes where something
    /// is), then the credential fixpoint and a shortest-path search only when a path
    /// exists. Most questions have no path, and this keeps them cheap.
    pub fn arrive(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        blocked: Option<&[bool]>,
        goal: &Goal,
    ) -> Option<Arrival> {
        let possible = match blocked {
            None => self.reaches(ws, start, goal.targets),
            Some(_) => self.explore(ws, start, blocked, Some(goal)),
        };
        if !possible {
            return None;
        }
        self.fixpoint(ws, start, blocked);
        self.shortest(ws, start, blocked, Some(goal))
    }

    /// The credential fixpoint of an attacker controlling `start`, in rounds: per
    /// credential, the round in which the attacker first holds it, or `None` if never.
    /// Leaked credentials are round 0; a credential taken in round `r` is reachable using
    /// only credentials of earlier rounds, which is the order a story of the attack must
    /// follow. Round `r + 1` opens the flows of the credentials that round `r` obtained,
    /// from every source reached so far; one pass over the graph in all.
    ///
    /// With nothing blocked, the passes walk components instead of nodes.
    pub fn rounds(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        blocked: Option<&[bool]>,
    ) -> Vec<Option<u32>> {
        let mut rounds: Vec<Option<u32>> = self
            .known
            .leaked
            .iter()
            .map(|&leaked| leaked.then_some(0))
            .collect();
        if blocked.is_none() {
            let starts = self.start_components(start);
            self.walk_from(ws, &starts, None, Some(&mut rounds));
            return rounds;
        }
        ws.next_search();
        self.seed(ws, start, blocked);
        let mut round = 0;
        let mut obtained: Vec<CredentialId> = Vec::new();
        loop {
            while let Some(node) = ws.stack.pop() {
                if let Node::In(entity) = self.graph.node(node) {
                    for credential in self.credentials_at(entity) {
                        if rounds[credential.index()].is_none() {
                            rounds[credential.index()] = Some(round + 1);
                            obtained.push(credential);
                        }
                    }
                }
                self.push_successors(ws, node, blocked);
            }
            if obtained.is_empty() {
                return rounds;
            }
            round += 1;
            for credential in std::mem::take(&mut obtained) {
                self.open_for_reached(ws, credential);
            }
        }
    }

    /// A shortest path from `start` into `targets` over the flows open from the start
    /// and those that `allowed` credentials open, avoiding `blocked`: the leaf it ends
    /// at, and its steps (none when `start` is inside `targets` already). How the story
    /// of an attack reaches a credential's holder with what it holds by then.
    pub fn shortest_using(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        blocked: Option<&[bool]>,
        allowed: impl IntoIterator<Item = CredentialId>,
        targets: &Selection,
    ) -> Option<(EntityId, Vec<Step>)> {
        ws.next_search();
        for credential in allowed {
            self.unlock(ws, credential);
        }
        let goal = Goal {
            targets,
            ports: &[],
        };
        let arrival = self.shortest(ws, start, blocked, Some(&goal))?;
        Some((arrival.leaf, self.witness(ws, arrival)))
    }

    /// After a complete [`Engine::explore`] (no goal), the fewest flows from `start` to
    /// every node over the flows it opened, with a parent for each. With a goal, stops
    /// at the first node that meets it, which is then one of the closest.
    pub fn shortest(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        blocked: Option<&[bool]>,
        goal: Option<&Goal>,
    ) -> Option<Arrival> {
        ws.size_shortest();
        // A node's mark says it has a distance in this search, or is settled.
        let (measured, settled) = (2 * ws.stamp, 2 * ws.stamp + 1);
        ws.hubs.clear();
        ws.queue.clear();
        for (closest, held) in ws.closest.iter_mut().zip(&ws.held) {
            *closest = held.filter(|h| *h == Holding::Leaked);
        }
        for node in self.start_nodes(start, blocked) {
            ws.settled[node.index()] = measured;
            ws.dist[node.index()] = 0;
            ws.parent[node.index()] = UNREACHED;
            ws.queue.push_back(node);
        }
        // Nodes leave the queue in order of distance, so once one is farther than the
        // best arrival, no closer one is left. Until then, ties go to the lowest leaf.
        let mut best: Option<Arrival> = None;
        let offer = |best: &mut Option<Arrival>, node: NodeId, leaf: EntityId, hops: u32| {
            if best.is_none_or(|b| (hops, leaf) < (b.hops, b.leaf)) {
                *best = Some(Arrival { node, leaf, hops });
            }
        };
        while let Some(node) = ws.queue.pop_front() {
            if ws.settled[node.index()] == settled {
                continue;
            }
            let here = ws.dist[node.index()];
            if best.is_some_and(|best| here > best.hops) {
                return best;
            }
            ws.settled[node.index()] = settled;
            match self.graph.node(node) {
                Node::In(entity) => {
                    for credential in self.credentials_at(entity) {
                        if ws.closest[credential.index()].is_none() {
                            ws.closest[credential.index()] =
                                Some(Holding::From { entity, hops: here });
                        }
                    }
                    if let Some(goal) = goal
                        && goal.ports.is_empty()
                        && goal.targets.contains(self.model, entity)
                    {
                        offer(&mut best, node, self.landing_leaf(entity, blocked), here);
                    }
                }
                Node::Flow(flow) => {
                    ws.hubs.push(flow);
                    if let Some(goal) = goal
                        && !goal.ports.is_empty()
                        && let Some(leaf) = self.lands(goal, flow)
                    {
                        offer(&mut best, node, leaf, here);
                    }
                }
                Node::Out(_) => {}
            }
            for (next, edge) in self.graph.successors(node) {
                if self.is_blocked(blocked, next) || ws.settled[next.index()] == settled {
                    continue;
                }
                let weight = match edge {
                    Edge::Enter(flow) if !self.is_open(ws, flow) => continue,
                    Edge::Enter(_) => 1,
                    Edge::Contains | Edge::Pivot | Edge::Exit => 0,
                };
                let candidate = here + weight;
                // Not settled, so either measured in this search or not yet.
                if ws.settled[next.index()] != measured || candidate < ws.dist[next.index()] {
                    ws.settled[next.index()] = measured;
                    ws.dist[next.index()] = candidate;
                    ws.parent[next.index()] = node.0;
                    if weight == 0 {
                        ws.queue.push_front(next);
                    } else {
                        ws.queue.push_back(next);
                    }
                }
            }
        }
        best
    }

    /// After a complete [`Engine::shortest`], per entity, the fewest flows to land in it
    /// where the last flow allows one of `wanted` (any flow when empty), and that flow.
    /// Landing in a group lands in everything inside it that is not blocked.
    pub fn landings(&self, ws: &Workspace, wanted: &[PortSpec]) -> Vec<Option<Landing>> {
        let model = self.model;
        let mut landing: Vec<Option<Landing>> = vec![None; model.entities.len()];
        for &flow in &ws.hubs {
            if !ports::any_overlap(model.flow(flow).ports(), wanted) {
                continue;
            }
            let Some(hops) = ws.dist(self.graph.flow_node(flow)) else {
                continue;
            };
            for &target in model.flow(flow).to.roots() {
                if ws.dist(self.graph.in_node(target)).is_none() {
                    continue;
                }
                let slot = &mut landing[target.index()];
                if slot.is_none_or(|best| hops < best.hops) {
                    *slot = Some(Landing { hops, flow });
                }
            }
        }
        for &entity in &self.known.top_down {
            let Some(parent) = model.entity(entity).parent else {
                continue;
            };
            // A blocked child is not reached through its parent.
            if ws.dist(self.graph.in_node(entity)).is_none() {
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

    /// The witness ending at `arrival`: hop by hop, leaf to leaf.
    pub fn witness(&self, ws: &Workspace, arrival: Arrival) -> Vec<Step> {
        self.steps(ws, ws.path_to(arrival.node), arrival.leaf)
    }

    /// The witness for landing in `leaf` by `landing`, after a complete search.
    pub fn witness_landing(&self, ws: &Workspace, leaf: EntityId, landing: Landing) -> Vec<Step> {
        let hub = self.graph.flow_node(landing.flow);
        self.steps(ws, ws.path_to(hub), leaf)
    }

    fn steps(&self, ws: &Workspace, path: Vec<NodeId>, leaf: EntityId) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut current: Option<EntityId> = None;
        let mut pending: Option<(FlowId, Option<EntityId>)> = None;
        for node in path {
            match self.graph.node(node) {
                Node::Out(entity) if self.model.entity(entity).is_leaf() => {
                    if let Some((flow, from)) = pending.take() {
                        let flow = self.open_instead(from, entity, flow);
                        steps.push(self.step(ws, from.unwrap_or(entity), entity, flow));
                    }
                    current = Some(entity);
                }
                Node::Flow(flow) => pending = Some((flow, current)),
                Node::In(_) | Node::Out(_) => {}
            }
        }
        if let Some((flow, from)) = pending {
            let flow = self.open_instead(from, leaf, flow);
            steps.push(self.step(ws, from.unwrap_or(leaf), leaf, flow));
        }
        steps
    }

    /// For a hop from `from` to `to` over `flow`, a flow that needs no credential and
    /// allows every port `flow` does, where `flow` needs one: the search takes whichever
    /// flow it meets first, and a witness that assumes no credential says more. The
    /// lowest such flow, else `flow` itself. A hop whose source leaf the path does not
    /// name (`None`) keeps its flow.
    fn open_instead(&self, from: Option<EntityId>, to: EntityId, flow: FlowId) -> FlowId {
        let model = self.model;
        let Some(from) = from.filter(|_| !model.flow(flow).auth().is_empty()) else {
            return flow;
        };
        let needed = PortSet::from_specs(model.flow(flow).ports().iter().copied());
        let mut best: Option<FlowId> = None;
        let mut source = Some(from);
        while let Some(entity) = source {
            for (next, _) in self.graph.successors(self.graph.out_node(entity)) {
                let Node::Flow(other) = self.graph.node(next) else {
                    continue;
                };
                let candidate = model.flow(other);
                if best.is_some_and(|best| best <= other)
                    || !candidate.auth().is_empty()
                    || !self.known.always_open[other.index()]
                    || !candidate.to.contains(model, to)
                {
                    continue;
                }
                let allowed = PortSet::from_specs(candidate.ports().iter().copied());
                if needed.minus(&allowed).is_empty() {
                    best = Some(other);
                }
            }
            source = model.entity(entity).parent;
        }
        best.unwrap_or(flow)
    }

    /// One step over `flow`, naming the credential that opened it in the last search.
    pub fn step(&self, ws: &Workspace, from: EntityId, to: EntityId, flow: FlowId) -> Step {
        // Of the credentials that open the flow, name the one obtained soonest.
        let credential = self
            .model
            .flow(flow)
            .auth()
            .iter()
            .filter_map(|&id| {
                // A search that stopped at its goal may not have settled the holder; the
                // fixpoint still knows where the credential came from.
                ws.closest[id.index()]
                    .or(ws.held[id.index()])
                    .map(|holding| (id, holding))
            })
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

    /// Whether an attacker controlling `start` lands in `targets` at all, by any flow.
    /// Answers on components, each visited once, instead of on nodes.
    pub fn reaches(&self, ws: &mut Workspace, start: &Selection, targets: &Selection) -> bool {
        self.walk_components(ws, start, Some(targets))
    }

    /// Computes the credential fixpoint of an attacker controlling `start`, so that
    /// [`Engine::shortest`] may follow: on components when nothing is blocked, else on
    /// nodes.
    pub fn fixpoint(&self, ws: &mut Workspace, start: &Selection, blocked: Option<&[bool]>) {
        match blocked {
            None => {
                self.walk_components(ws, start, None);
            }
            Some(_) => {
                self.explore(ws, start, blocked, None);
            }
        }
    }

    /// The component of the always-open graph that `node` belongs to. Entities whose
    /// `in` nodes share a component reach exactly the same things.
    pub fn component(&self, node: NodeId) -> u32 {
        self.components().of_node[node.index()]
    }

    /// A component whose credential fixpoint is the one of `node`'s component. A walk
    /// from a component that holds no credential and gates no flow only goes on to its
    /// successors, so with a single successor both walks obtain the same credentials:
    /// the `in` node of an account usually leads to one component only, that of its
    /// segments, and all the accounts that share it share one fixpoint.
    pub fn fixpoint_component(&self, node: NodeId) -> u32 {
        let components = self.components();
        self.follow_chain(components, components.of_node[node.index()], |_| {})
    }

    /// From `component`, the chain of components that hold nothing, gate nothing and
    /// lead to a single component, each given to `passed`; returns the component the
    /// chain ends at, whose fixpoint is that of every component on it.
    fn follow_chain(
        &self,
        components: &Components,
        mut component: u32,
        mut passed: impl FnMut(u32),
    ) -> u32 {
        loop {
            let index = component as usize;
            let holds_nothing = slice(
                &components.credentials,
                &components.credential_starts,
                index,
            )
            .is_empty()
                && slice(&components.gated, &components.gated_starts, index).is_empty();
            match slice(&components.successors, &components.successor_starts, index) {
                [only] if holds_nothing => {
                    passed(component);
                    component = *only;
                }
                _ => return component,
            }
        }
    }

    /// Where the walk of an attacker controlling `start` (nothing blocked) goes first:
    /// see [`Origin`].
    pub fn origin(&self, start: &Selection) -> Origin {
        let components = self.components();
        let mut origin = Origin::default();
        for &root in start.roots() {
            let component = components.of_node[self.graph.in_node(root).index()];
            let end = self.follow_chain(components, component, |passed| {
                origin.chain.push(passed);
            });
            origin.fixpoints.push(end);
        }
        for list in [&mut origin.fixpoints, &mut origin.chain] {
            list.sort_unstable();
            list.dedup();
        }
        origin
    }

    /// The credential fixpoint of every start whose [`Origin`] has these `fixpoints`,
    /// walked once for all of them: afterwards [`Engine::reached_in_fixpoint`] answers
    /// each start's "is a target reached" without a walk, and
    /// [`Engine::shortest_in_fixpoint`] finds its paths, until the next search that is
    /// not one of those.
    pub fn walk_fixpoint(&self, ws: &mut Workspace, fixpoints: &[u32]) {
        self.walk_from(ws, fixpoints, None, None);
    }

    /// After [`Engine::walk_fixpoint`] of `origin`'s fixpoints, whether an attacker
    /// controlling the start of `origin` lands in `targets`, as [`Engine::reaches`]
    /// says. What the start reaches is its chain and what its fixpoints reach: the chain
    /// holds nothing, so it obtains no credential, and it gates nothing, so no flow it
    /// could open starts on it.
    pub fn reached_in_fixpoint(
        &self,
        ws: &Workspace,
        origin: &Origin,
        targets: &Selection,
    ) -> bool {
        let components = self.components();
        targets.members(self.model).into_iter().any(|member| {
            let component = components.of_node[self.graph.in_node(member).index()];
            ws.component_seen.get(component as usize) == Some(&ws.open_stamp)
                || origin.chain.binary_search(&component).is_ok()
        })
    }

    /// After [`Engine::walk_fixpoint`] of the fixpoints of `start`'s [`Origin`], the
    /// closest arrival at `goal` from `start`, as [`Engine::arrive`] finds it with
    /// nothing blocked: the flows the fixpoint opened are those that `start`'s own
    /// fixpoint opens, so only the shortest path is searched anew.
    pub fn shortest_in_fixpoint(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        goal: &Goal,
    ) -> Option<Arrival> {
        ws.next_marks();
        self.shortest(ws, start, None, Some(goal))
    }

    /// The credentials the last fixpoint obtained, in id order.
    pub fn held_credentials(&self, ws: &Workspace) -> Vec<CredentialId> {
        self.model
            .credential_ids()
            .filter(|id| ws.held[id.index()].is_some())
            .collect()
    }

    /// Walks the components reachable from `start`, obtaining credentials and opening
    /// their flows. With `targets`, stops at the first component holding a target's
    /// `in` node and returns true.
    fn walk_components(
        &self,
        ws: &mut Workspace,
        start: &Selection,
        targets: Option<&Selection>,
    ) -> bool {
        let starts = self.start_components(start);
        self.walk_from(ws, &starts, targets, None)
    }

    /// The components of the `in` nodes of `start`'s outermost entities.
    fn start_components(&self, start: &Selection) -> Vec<u32> {
        let components = self.components();
        start
            .roots()
            .iter()
            .map(|&root| components.of_node[self.graph.in_node(root).index()])
            .collect()
    }

    /// [`Engine::walk_components`] from the components `starts`. With `rounds`, obtains
    /// credentials in rounds instead, as [`Engine::rounds`] does, and records each one's
    /// round there: `ws.held` is then left as it was.
    fn walk_from(
        &self,
        ws: &mut Workspace,
        starts: &[u32],
        targets: Option<&Selection>,
        mut rounds: Option<&mut [Option<u32>]>,
    ) -> bool {
        let components = self.components();
        let count = components.successor_starts.len() - 1;
        if ws.component_seen.len() != count {
            ws.component_seen = vec![0; count];
        }
        // Targets get a stamp of their own, so that the marks for visits and for
        // targets never mix. Both stamps are taken before any mark is made, since the
        // stamps running out between the two clears every mark.
        ws.next_search();
        let target_stamp = ws.stamp;
        ws.next_search();
        let stamp = ws.stamp;
        for member in targets.map(|t| t.members(self.model)).unwrap_or_default() {
            let component = components.of_node[self.graph.in_node(member).index()];
            ws.component_seen[component as usize] = target_stamp;
        }
        if rounds.is_none() {
            for (held, &leaked) in ws.held.iter_mut().zip(&self.known.leaked) {
                *held = leaked.then_some(Holding::Leaked);
            }
        }
        // Marks a component as visited, or says it holds a target.
        let visit = |ws: &mut Workspace, stack: &mut Vec<u32>, component: u32| -> bool {
            if ws.component_seen[component as usize] == target_stamp {
                return true;
            }
            if ws.component_seen[component as usize] != stamp {
                ws.component_seen[component as usize] = stamp;
                stack.push(component);
            }
            false
        };
        // Opens the flows of a credential just obtained, visiting those whose source
        // was visited already; says whether one holds a target.
        let open = |ws: &mut Workspace, stack: &mut Vec<u32>, credential: CredentialId| {
            for flow in self.unlock(ws, credential) {
                let source_reached = self.model.flow(flow).from.roots().iter().any(|&s| {
                    let component = components.of_node[self.graph.out_node(s).index()];
                    ws.component_seen[component as usize] == stamp
                });
                let hub = components.of_node[self.graph.flow_node(flow).index()];
                if source_reached && visit(ws, stack, hub) {
                    return true;
                }
            }
            false
        };
        let mut stack: Vec<u32> = Vec::new();
        for &component in starts {
            if visit(ws, &mut stack, component) {
                return true;
            }
        }
        let mut round = 0;
        let mut obtained: Vec<CredentialId> = Vec::new();
        loop {
            while let Some(component) = stack.pop() {
                let index = component as usize;
                let held_here = slice(
                    &components.credentials,
                    &components.credential_starts,
                    index,
                );
                for &(credential, entity) in held_here {
                    if let Some(rounds) = rounds.as_deref_mut() {
                        // Its flows open in the next round.
                        if rounds[credential.index()].is_none() {
                            rounds[credential.index()] = Some(round + 1);
                            obtained.push(credential);
                        }
                        continue;
                    }
                    if ws.held[credential.index()].is_some() {
                        continue;
                    }
                    ws.held[credential.index()] = Some(Holding::From { entity, hops: 0 });
                    if open(ws, &mut stack, credential) {
                        return true;
                    }
                }
                for &flow in slice(&components.gated, &components.gated_starts, index) {
                    if ws.flow_open[flow.index()] == stamp {
                        let hub = components.of_node[self.graph.flow_node(flow).index()];
                        if visit(ws, &mut stack, hub) {
                            return true;
                        }
                    }
                }
                for &next in slice(&components.successors, &components.successor_starts, index) {
                    if visit(ws, &mut stack, next) {
                        return true;
                    }
                }
            }
            if obtained.is_empty() {
                return false;
            }
            round += 1;
            for credential in std::mem::take(&mut obtained) {
                if open(ws, &mut stack, credential) {
                    return true;
                }
            }
        }
    }

    /// The components, built on first use.
    fn components(&self) -> &Components {
        self.components.get_or_init(|| self.build_components())
    }

    fn build_components(&self) -> Components {
        let (of_node, count) = self
            .graph
            .components(|flow| self.known.always_open[flow.index()]);
        let count = count as usize;
        // Each component's edges are read together, its members found by a counting
        // sort of the nodes, so that its successors and gated flows are sorted and
        // written once; a list of every edge's pair of components, sorted whole, cost
        // more time and memory than the graph itself.
        let mut starts = vec![0u32; count + 1];
        for &component in &of_node {
            starts[component as usize + 1] += 1;
        }
        for index in 1..starts.len() {
            starts[index] += starts[index - 1];
        }
        let mut members = vec![0u32; of_node.len()];
        let mut next_slot = starts.clone();
        for (node, &component) in of_node.iter().enumerate() {
            let slot = &mut next_slot[component as usize];
            members[*slot as usize] = node as u32;
            *slot += 1;
        }
        drop(next_slot);
        // The components' successors and gated flows in ranges of about equal numbers of
        // nodes, in parallel, beside what each component holds: each range's lists
        // follow the previous range's, so joining them keeps every list sorted by
        // component.
        let pieces = 4 * rayon::current_num_threads();
        let nodes = of_node.len();
        let mut bounds: Vec<usize> = (0..=pieces)
            .map(|piece| starts.partition_point(|&start| (start as usize) < nodes * piece / pieces))
            .map(|bound| bound.min(count))
            .collect();
        bounds[pieces] = count;
        bounds.dedup();
        let condense =
            |range: &[usize]| self.condense(&of_node, &starts, &members, range[0]..range[1]);
        // Called from a rayon job (a query whose parallel jobs ask for the components
        // first), the work stays on this thread: a worker waiting for its own jobs may
        // take up another job that asks for the components, and initialising them again
        // from the thread that is initialising them would deadlock.
        let (parts, credentials) = if rayon::current_thread_index().is_some() {
            let parts: Vec<_> = bounds.windows(2).map(condense).collect();
            (parts, self.held_in_components(&of_node))
        } else {
            rayon::join(
                || bounds.par_windows(2).map(condense).collect(),
                || self.held_in_components(&of_node),
            )
        };
        let mut successor_starts = Vec::with_capacity(count + 1);
        successor_starts.push(0);
        let mut successors = Vec::new();
        let mut gated_starts = Vec::with_capacity(count + 1);
        gated_starts.push(0);
        let mut gated = Vec::new();
        for part in parts {
            let (base_successors, base_gated) = (successors.len() as u32, gated.len() as u32);
            successor_starts.extend(part.successor_ends.iter().map(|end| base_successors + end));
            gated_starts.extend(part.gated_ends.iter().map(|end| base_gated + end));
            successors.extend(part.successors);
            gated.extend(part.gated);
        }
        drop(members);
        let (credential_starts, credentials) = pooled(count, credentials);
        Components {
            of_node,
            successor_starts,
            successors,
            credential_starts,
            credentials,
            gated_starts,
            gated,
        }
    }

    /// The successors and gated flows of the components in `range`, given each node's
    /// component and the nodes sorted by component (`members`, where component `c`'s
    /// start at `starts[c]`).
    fn condense(
        &self,
        of_node: &[u32],
        starts: &[u32],
        members: &[u32],
        range: std::ops::Range<usize>,
    ) -> CondensedRange {
        let mut part = CondensedRange::default();
        for from in range {
            let (successors_start, gated_start) = (part.successors.len(), part.gated.len());
            for &node in &members[starts[from] as usize..starts[from + 1] as usize] {
                for (next, edge) in self.graph.successors(NodeId(node)) {
                    match edge {
                        Edge::Enter(flow) if !self.known.always_open[flow.index()] => {
                            if self.known.can_open[flow.index()] {
                                part.gated.push(flow);
                            }
                        }
                        _ => {
                            let to = of_node[next.index()];
                            if to as usize != from {
                                part.successors.push(to);
                            }
                        }
                    }
                }
            }
            sort_tail(&mut part.successors, successors_start);
            part.successor_ends.push(part.successors.len() as u32);
            sort_tail(&mut part.gated, gated_start);
            part.gated_ends.push(part.gated.len() as u32);
        }
        part
    }

    /// Per component, the credentials held inside it, each with the first entity there
    /// that holds it, sorted.
    fn held_in_components(&self, of_node: &[u32]) -> Vec<(u32, (CredentialId, EntityId))> {
        let mut credentials = Vec::new();
        for entity in self.model.entity_ids() {
            let component = of_node[self.graph.in_node(entity).index()];
            for credential in self.credentials_at(entity) {
                credentials.push((component, (credential, entity)));
            }
        }
        credentials.sort_unstable();
        credentials.dedup_by_key(|&mut (component, (credential, _))| (component, credential));
        credentials
    }
}

/// The successors and gated flows of a range of components, as [`Components`] holds
/// them, each component's ends counted from the range's start.
#[derive(Default)]
struct CondensedRange {
    successor_ends: Vec<u32>,
    successors: Vec<u32>,
    gated_ends: Vec<u32>,
    gated: Vec<FlowId>,
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;
    use crate::policy::model_from_text;

    /// Three assets, `a → b → c`.
    fn chain() -> Model {
        model_from_text(
            "t.yaml",
            "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
flows:
  - {from: a, to: b}
  - {from: b, to: c}
",
        )
        .unwrap()
    }

    #[test]
    fn searches_answer_the_same_after_the_stamps_run_out() {
        let model = chain();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let (a, c) = (selection(&model, "a"), selection(&model, "c"));
        let goal = Goal {
            targets: &c,
            ports: &[],
        };
        let blocked = vec![false; model.entities.len()];
        let answers = |workspace: &mut Workspace| {
            let on_components = engine.arrive(workspace, &a, None, &goal).map(|a| a.hops);
            let on_nodes = engine.arrive(workspace, &a, Some(&blocked), &goal);
            let b = graph.in_node(model.find_entity("b").unwrap());
            (on_components, on_nodes.map(|a| a.hops), workspace.dist(b))
        };
        let fresh = answers(&mut engine.workspace());
        assert_eq!(fresh, (Some(2), Some(2), Some(1)));
        // Every place in a run of searches where the stamps can run out.
        for left in 1..16 {
            let mut workspace = engine.workspace();
            workspace.stamp = MAX_STAMP - left;
            for _ in 0..3 {
                assert_eq!(answers(&mut workspace), fresh, "{left} stamps left");
            }
            assert!(workspace.stamp < 30, "the stamps started over");
        }
    }

    #[test]
    fn a_pool_makes_no_more_workspaces_than_threads_and_answers_as_a_fresh_one() {
        let model = chain();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let names = ["a", "b", "c"];
        let questions: Vec<(usize, usize)> = (0..3000).map(|i| (i % 3, i / 3 % 3)).collect();
        let answer = |workspace: &mut Workspace, &(from, to): &(usize, usize)| {
            let start = selection(&model, names[from]);
            let targets = selection(&model, names[to]);
            let goal = Goal {
                targets: &targets,
                ports: &[],
            };
            engine
                .arrive(workspace, &start, None, &goal)
                .map(|arrival| arrival.hops)
        };
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let pool = engine.workspace_pool();
        let pooled: Vec<_> = threads.install(|| {
            questions
                .par_iter()
                .map_init(
                    || pool.lend(),
                    |workspace, question| answer(workspace, question),
                )
                .collect()
        });
        let made = pool.made();
        assert!((1..=2).contains(&made), "{made} workspaces for two threads");
        let fresh: Vec<_> = questions
            .iter()
            .map(|question| answer(&mut engine.workspace(), question))
            .collect();
        assert_eq!(pooled, fresh);
        assert!(pooled.contains(&Some(2)) && pooled.contains(&None));
    }

    fn selection(model: &Model, name: &str) -> Selection {
        Selection::from_entities(model, vec![model.find_entity(name).unwrap()])
    }

    #[test]
    fn a_credential_does_not_open_flows_from_places_never_reached() {
        // The attacker holds the key, but the flow it opens starts inside the target,
        // which the attacker never reaches; the target's own flows make it one
        // strongly connected component.
        let model = model_from_text(
            "t.yaml",
            "
segments:
  - {name: target}
assets:
  - {name: attacker}
  - {name: t1, in: target}
  - {name: t2, in: target}
credentials:
  - {name: key, held_by: attacker}
flows:
  - {from: t1, to: t2, auth: [key]}
  - {from: t1, to: t2}
  - {from: t2, to: t1}
",
        )
        .unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let mut workspace = engine.workspace();
        let attacker = selection(&model, "attacker");
        let target = selection(&model, "target");
        assert!(!engine.reaches(&mut workspace, &attacker, &target));
        assert!(!engine.explore(
            &mut workspace,
            &attacker,
            None,
            Some(&Goal {
                targets: &target,
                ports: &[],
            })
        ));
    }

    #[test]
    fn accounts_that_lead_to_one_component_share_its_fixpoint() {
        // `a` and `b` lead only to the component their segments make together; `c`
        // holds a credential of its own, so its fixpoint is its own too.
        let model = model_from_text(
            "t.yaml",
            "
accounts:
  - {name: a}
  - {name: b}
  - {name: c}
segments:
  - {name: sa, in: a}
  - {name: sb, in: b}
  - {name: sc, in: c}
credentials:
  - {name: key, held_by: c}
flows:
  - {from: sa, to: sb}
  - {from: sb, to: sa}
  - {from: sb, to: sc}
  - {from: sc, to: sb}
",
        )
        .unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let of =
            |name: &str| engine.fixpoint_component(graph.in_node(model.find_entity(name).unwrap()));
        assert_eq!(of("a"), of("b"));
        assert_eq!(of("a"), of("sa"));
        assert_ne!(of("c"), of("a"));
        assert_ne!(
            engine.component(graph.in_node(model.find_entity("a").unwrap())),
            of("a")
        );
    }

    #[test]
    fn rounds_order_credentials_by_what_each_needs() {
        let model = model_from_text(
            "t.yaml",
            "
assets:
  - {name: a}
  - {name: h1}
  - {name: h2}
  - {name: h3}
credentials:
  - {name: first, held_by: h1}
  - {name: second, held_by: h2}
  - {name: never, held_by: h3}
  - {name: free, leaked: true}
flows:
  - {from: a, to: h1, auth: [free]}
  - {from: a, to: h2, auth: [first]}
  - {from: h3, to: a}
",
        )
        .unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let mut workspace = engine.workspace();
        let rounds = engine.rounds(&mut workspace, &selection(&model, "a"), None);
        // Credentials are in name order: first, free, never, second.
        assert_eq!(rounds, [Some(1), Some(0), None, Some(2)]);
        // On nodes, as with something blocked, the rounds are the same.
        let nothing = vec![false; model.entities.len()];
        let on_nodes = engine.rounds(&mut workspace, &selection(&model, "a"), Some(&nothing));
        assert_eq!(on_nodes, rounds);
    }
}
