//! Exceptions pinned to routes: whether the attacker has a way in that none of them
//! covers, and whether a pinned route is one the attacker can take at all.
//!
//! An exception with a `path` waives that route only, so an invariant with pinned
//! exceptions is waived when every way in follows one of the pinned routes, step by
//! step, and ends where that route ends. A way in is a walk of the attacker from a leaf
//! of the start to an arrival (a leaf of the target, entered over a flow with one of the
//! invariant's ports) with nothing to cut out of it: no leaf before the last one visited
//! twice, no leaf of the start after the first, no arrival before the last. Any other
//! walk holds a shorter way in made of its own hops: without its loop, from the later
//! leaf of the start, or to the earlier arrival. So a flow back along a pinned route, or
//! one between two leaves of the target, leaves the route waived: the walks it adds go
//! the pinned way, and around a loop, or on past where the route already arrived.
//!
//! Two searches answer. The first walks states of a leaf and the pinned routes that the
//! walk to it still follows (all at the same position, the number of hops so far), or
//! that it has left every route. It finds walks, not ways in, but every way in is a
//! walk: when no uncovered walk arrives, no uncovered way in does, and that one search
//! settles every waived invariant. When it finds one, the second looks for the shortest
//! uncovered way in: it takes the routes' prefixes one by one, leaf by leaf, and from
//! each hop that leaves every route it searches breadth first around the prefix's
//! leaves and the start's. The fewest hops from each leaf to an arrival, counted once
//! backwards from the arrivals, cut off every prefix and leaf that cannot beat the
//! shortest way in found so far.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::{Engine, Step, Workspace};
use crate::model::{EntityId, FlowId, Model, PinStep, Selection};
use crate::ports::{self, PortSpec};

/// What the invariant asks, as the search needs it.
pub struct Question<'a> {
    pub from: &'a Selection,
    pub to: &'a Selection,
    pub ports: &'a [PortSpec],
    pub direct: bool,
    pub blocked: Option<&'a [bool]>,
}

/// How many hops the search for the shortest way in may look at before it settles for
/// the uncovered walk that the first search found, which fails the invariant as surely.
/// A count, never a time, so that one model always gives one report.
const WAYS_IN_BUDGET: usize = 20_000_000;

/// A shortest path for `question` that no route in `routes` covers, if any, over the
/// `hops` of the same question.
pub fn uncovered_path(
    engine: &Engine,
    workspace: &Workspace,
    question: &Question,
    hops: &Hops,
    routes: &[&[PinStep]],
) -> Option<Vec<Step>> {
    let walk = search(engine, workspace, question, hops, routes, Seek::Uncovered)?;
    let start = starts(engine.model, question);
    let ways = WaysIn {
        model: engine.model,
        question,
        routes,
        hops,
        fewest: fewest_hops(engine.model, question, hops, &start),
        start,
        best: None,
        work: 0,
    };
    match ways.shortest() {
        Ok(way) => way.map(|way| way.steps(engine, workspace)),
        Err(OverBudget) => Some(walk),
    }
}

/// Whether the attacker can take `route` all the way to the target: a way in for
/// `question` over its `hops` that follows it step by step. A walk along the route that
/// is no way in (it loops, or arrives before the route ends) waives nothing, since the
/// way in inside it is what the attacker needs and the route does not cover that.
pub fn takes_route(
    engine: &Engine,
    workspace: &Workspace,
    question: &Question,
    hops: &Hops,
    route: &[PinStep],
) -> bool {
    // Every way in is a walk, so the walk search settles the routes no walk follows.
    if search(engine, workspace, question, hops, &[route], Seek::Along).is_none() {
        return false;
    }
    let mut along = Along {
        model: engine.model,
        question,
        hops,
        route,
        start: starts(engine.model, question),
        leaves: Vec::new(),
        work: 0,
    };
    // Past the budget, the walk found stands: the route counts as taken, which changes
    // the exception's note only, never the verdict, as a route that covers no way in
    // covers nothing.
    along.way_in().unwrap_or(true)
}

/// The hops the attacker can take, once the fixpoint is known: the open flows that each
/// leaf can use (those whose `from` covers it), and the leaves that each flow enters.
/// One question's exceptions all search over the same hops, so they are gathered once.
pub struct Hops {
    flows: FxHashMap<EntityId, Vec<FlowId>>,
    enters: FxHashMap<FlowId, Vec<EntityId>>,
}

impl Hops {
    /// Computes the fixpoint of `question` in `workspace`, which the searches and the
    /// steps they return read, then gathers the hops.
    pub fn new(engine: &Engine, workspace: &mut Workspace, question: &Question) -> Hops {
        let model = engine.model;
        engine.fixpoint(workspace, question.from, question.blocked);
        let mut hops = Hops {
            flows: FxHashMap::default(),
            enters: FxHashMap::default(),
        };
        for flow in model.flow_ids() {
            if engine.is_open(workspace, flow) {
                for leaf in model.flow(flow).from.leaves(model) {
                    hops.flows.entry(leaf).or_default().push(flow);
                }
                hops.enters.insert(flow, model.flow(flow).to.leaves(model));
            }
        }
        hops
    }

    /// Each hop out of `leaf`: the flow, and the leaf it enters; by flow, then leaf.
    fn from(&self, leaf: EntityId) -> impl Iterator<Item = (FlowId, EntityId)> + '_ {
        let flows = self.flows.get(&leaf).map_or(&[][..], Vec::as_slice);
        flows.iter().flat_map(move |&flow| {
            let leaves = self.enters.get(&flow).map_or(&[][..], Vec::as_slice);
            leaves.iter().map(move |&next| (flow, next))
        })
    }
}

/// The routes among `alive` whose step `position` admits entering `leaf` over `flow`.
fn follow(
    model: &Model,
    routes: &[&[PinStep]],
    alive: &[u16],
    position: usize,
    leaf: EntityId,
    flow: Option<FlowId>,
) -> Vec<u16> {
    alive
        .iter()
        .copied()
        .filter(|&r| {
            routes[usize::from(r)]
                .get(position)
                .is_some_and(|step| step.admits(model, leaf, flow))
        })
        .collect()
}

/// Whether one of the routes `alive` at `position` ends there.
fn ends(routes: &[&[PinStep]], alive: &[u16], position: usize) -> bool {
    alive
        .iter()
        .any(|&r| routes[usize::from(r)].len() == position + 1)
}

/// Every route, by index. At most a handful of exceptions pin routes of one invariant.
fn every(routes: &[&[PinStep]]) -> Vec<u16> {
    (0..routes.len().min(usize::from(u16::MAX)) as u16).collect()
}

/// Whether a hop over `flow` into `leaf` arrives: the leaf is in the target, and the
/// flow allows one of the invariant's ports.
fn arrives(model: &Model, question: &Question, leaf: EntityId, flow: FlowId) -> bool {
    question.to.contains(model, leaf)
        && ports::any_overlap(model.flow(flow).ports(), question.ports)
}

/// Whether each entity is a leaf of the start.
fn starts(model: &Model, question: &Question) -> Vec<bool> {
    let mut start = vec![false; model.entities.len()];
    for leaf in question.from.leaves(model) {
        start[leaf.index()] = true;
    }
    start
}

/// For each leaf, the fewest hops from it to an arrival over leaves that are not the
/// start's, `u32::MAX` where there is none: a bound from below on any way in that
/// goes on from the leaf, which needs at least as many. Breadth first backwards from
/// the arrivals, each flow taken once, at the first leaf it enters that is reached.
fn fewest_hops(model: &Model, question: &Question, hops: &Hops, start: &[bool]) -> Vec<u32> {
    let mut users: FxHashMap<FlowId, Vec<EntityId>> = FxHashMap::default();
    for (&leaf, flows) in &hops.flows {
        for &flow in flows {
            users.entry(flow).or_default().push(leaf);
        }
    }
    let mut entering: FxHashMap<EntityId, Vec<FlowId>> = FxHashMap::default();
    for (&flow, leaves) in &hops.enters {
        for &leaf in leaves {
            entering.entry(leaf).or_default().push(flow);
        }
    }
    let mut fewest = vec![u32::MAX; model.entities.len()];
    let mut queue = VecDeque::new();
    // The leaves that use `flow`, not yet reached, are `hops` from an arrival.
    let reach = |flow: FlowId, hops: u32, fewest: &mut [u32], queue: &mut VecDeque<EntityId>| {
        for &user in users.get(&flow).map_or(&[][..], Vec::as_slice) {
            if fewest[user.index()] == u32::MAX && !is_blocked(question, user) {
                fewest[user.index()] = hops;
                queue.push_back(user);
            }
        }
    };
    for (&flow, leaves) in &hops.enters {
        let into =
            |&leaf: &EntityId| !is_blocked(question, leaf) && arrives(model, question, leaf, flow);
        if leaves.iter().any(into) {
            reach(flow, 1, &mut fewest, &mut queue);
        }
    }
    let mut taken: FxHashSet<FlowId> = FxHashSet::default();
    while let Some(leaf) = queue.pop_front() {
        // A way in passes no leaf of the start.
        if start[leaf.index()] {
            continue;
        }
        let hops = fewest[leaf.index()].saturating_add(1);
        for &flow in entering.get(&leaf).map_or(&[][..], Vec::as_slice) {
            if taken.insert(flow) {
                reach(flow, hops, &mut fewest, &mut queue);
            }
        }
    }
    fewest
}

fn is_blocked(question: &Question, leaf: EntityId) -> bool {
    question
        .blocked
        .is_some_and(|blocked| blocked[leaf.index()])
}

/// A leaf, how many hops led to it, and the routes (by index) that the walk still
/// follows; a walk off every route has no hop count and no routes, so that all such
/// walks to one leaf share a state.
#[derive(Clone, PartialEq, Eq, Hash)]
struct State {
    leaf: EntityId,
    position: u32,
    routes: Vec<u16>,
}

impl State {
    fn new(leaf: EntityId, position: usize, routes: Vec<u16>) -> State {
        let position = if routes.is_empty() {
            u32::MAX
        } else {
            position as u32
        };
        State {
            leaf,
            position,
            routes,
        }
    }
}

/// How each state was first reached: from which state, over which flow.
type Parents = FxHashMap<State, Option<(State, FlowId)>>;

/// What a search is after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seek {
    /// A walk that follows none of the routes to its end.
    Uncovered,
    /// A walk that follows one of the routes to its end.
    Along,
}

/// The first search: a shortest walk for `question` that `seek` asks for.
fn search(
    engine: &Engine,
    workspace: &Workspace,
    question: &Question,
    hops: &Hops,
    routes: &[&[PinStep]],
    seek: Seek,
) -> Option<Vec<Step>> {
    let model = engine.model;
    let mut parent: Parents = FxHashMap::default();
    let mut queue: VecDeque<(State, u32)> = VecDeque::new();
    let every = every(routes);
    for leaf in question.from.leaves(model) {
        let state = State::new(leaf, 0, follow(model, routes, &every, 0, leaf, None));
        if is_blocked(question, leaf) || (seek == Seek::Along && state.routes.is_empty()) {
            continue;
        }
        if parent.insert(state.clone(), None).is_none() {
            queue.push_back((state, 0));
        }
    }
    while let Some((state, hops_so_far)) = queue.pop_front() {
        if question.direct && hops_so_far >= 1 {
            continue;
        }
        let position = state.position.wrapping_add(1) as usize;
        for (flow, next) in hops.from(state.leaf) {
            if is_blocked(question, next) {
                continue;
            }
            let routes_on = follow(model, routes, &state.routes, position, next, Some(flow));
            if seek == Seek::Along && routes_on.is_empty() {
                continue;
            }
            // Whether a hop arrives depends on its flow, so each is asked, even into a
            // state that an earlier flow reached.
            if arrives(model, question, next, flow)
                && ends(routes, &routes_on, position) == (seek == Seek::Along)
            {
                let mut path = walk_to(&parent, &state);
                path.push((state.leaf, next, flow));
                return Some(steps(engine, workspace, path));
            }
            let next_state = State::new(next, position, routes_on);
            if parent.contains_key(&next_state) {
                continue;
            }
            parent.insert(next_state.clone(), Some((state.clone(), flow)));
            queue.push_back((next_state, hops_so_far + 1));
        }
    }
    None
}

/// The hops of the walk that first reached `end`, as (from, to, flow).
fn walk_to(parent: &Parents, end: &State) -> Vec<(EntityId, EntityId, FlowId)> {
    let mut hops = Vec::new();
    let mut current = end;
    while let Some(Some((previous, flow))) = parent.get(current) {
        hops.push((previous.leaf, current.leaf, *flow));
        current = previous;
    }
    hops.reverse();
    hops
}

fn steps(
    engine: &Engine,
    workspace: &Workspace,
    hops: Vec<(EntityId, EntityId, FlowId)>,
) -> Vec<Step> {
    hops.into_iter()
        .map(|(from, to, flow)| engine.step(workspace, from, to, flow))
        .collect()
}

/// A way in: the leaf it starts from, then each hop's flow and the leaf it enters.
struct Way {
    start: EntityId,
    hops: Vec<(FlowId, EntityId)>,
}

impl Way {
    fn steps(&self, engine: &Engine, workspace: &Workspace) -> Vec<Step> {
        let froms = std::iter::once(self.start).chain(self.hops.iter().map(|&(_, leaf)| leaf));
        let hops = (froms.zip(&self.hops))
            .map(|(from, &(flow, to))| (from, to, flow))
            .collect();
        steps(engine, workspace, hops)
    }
}

/// The second search had more to look at than [`WAYS_IN_BUDGET`].
struct OverBudget;

/// A depth-first search for a way in that follows one route, step by step. Routes are
/// a handful of steps, so the walks along one are few unless a step names a large
/// segment; the budget bounds those.
struct Along<'a> {
    model: &'a Model,
    question: &'a Question<'a>,
    hops: &'a Hops,
    route: &'a [PinStep],
    /// Whether each entity is a leaf of the start, which a way in enters first only.
    start: Vec<bool>,
    /// The leaves of the walk so far, which a way in does not enter again before its end.
    leaves: Vec<EntityId>,
    /// Hops looked at, against [`WAYS_IN_BUDGET`].
    work: usize,
}

impl Along<'_> {
    fn way_in(&mut self) -> Result<bool, OverBudget> {
        let Some(first) = self.route.first() else {
            return Ok(false);
        };
        for leaf in self.question.from.leaves(self.model) {
            if is_blocked(self.question, leaf) || !first.admits(self.model, leaf, None) {
                continue;
            }
            self.leaves = vec![leaf];
            if self.on_from(leaf)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the walk so far, at `leaf`, goes on along the route to a way in.
    fn on_from(&mut self, leaf: EntityId) -> Result<bool, OverBudget> {
        let (model, question, hops) = (self.model, self.question, self.hops);
        let position = self.leaves.len();
        let Some(step) = self.route.get(position) else {
            return Ok(false);
        };
        let last = position + 1 == self.route.len();
        for (flow, next) in hops.from(leaf) {
            self.work += 1;
            if self.work > WAYS_IN_BUDGET {
                return Err(OverBudget);
            }
            if is_blocked(question, next) || !step.admits(model, next, Some(flow)) {
                continue;
            }
            if arrives(model, question, next, flow) {
                if last {
                    return Ok(true);
                }
                continue;
            }
            if last || question.direct || self.start[next.index()] || self.leaves.contains(&next) {
                continue;
            }
            self.leaves.push(next);
            let found = self.on_from(next)?;
            self.leaves.pop();
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The second search: the shortest way in that no route covers.
struct WaysIn<'a> {
    model: &'a Model,
    question: &'a Question<'a>,
    routes: &'a [&'a [PinStep]],
    hops: &'a Hops,
    /// Whether each entity is a leaf of the start, which a way in enters first only.
    start: Vec<bool>,
    /// For each leaf, the fewest hops from it to an arrival ([`fewest_hops`]).
    fewest: Vec<u32>,
    /// The shortest uncovered way in found so far; the first of its length.
    best: Option<Way>,
    /// Hops looked at, against [`WAYS_IN_BUDGET`].
    work: usize,
}

/// A walk along the routes from a leaf of the start: its leaves, the flows between
/// them, and the routes it still follows.
struct Prefix {
    leaves: Vec<EntityId>,
    flows: Vec<FlowId>,
    alive: Vec<u16>,
}

impl WaysIn<'_> {
    fn shortest(mut self) -> Result<Option<Way>, OverBudget> {
        let (model, routes) = (self.model, self.routes);
        let every = every(routes);
        // Prefixes in order of length, so that short ways in are found first and bound
        // the rest.
        let mut prefixes: VecDeque<Prefix> = (self.question.from.leaves(model).into_iter())
            .filter(|&leaf| !is_blocked(self.question, leaf))
            .map(|leaf| Prefix {
                leaves: vec![leaf],
                flows: Vec::new(),
                alive: follow(model, routes, &every, 0, leaf, None),
            })
            .collect();
        while let Some(prefix) = prefixes.pop_front() {
            // Every way in from here has at least one hop more.
            if prefix.flows.len() + 1 >= self.bound() {
                break;
            }
            if let Some(&at) = prefix.leaves.last()
                && !self.hopeless(prefix.flows.len(), at)
            {
                self.extend(&prefix, &mut prefixes)?;
            }
        }
        Ok(self.best)
    }

    /// The number of hops a way in must stay under to be the shortest.
    fn bound(&self) -> usize {
        self.best.as_ref().map_or(usize::MAX, |way| way.hops.len())
    }

    /// Whether every way in that reaches `leaf` after `hops` hops and goes on from it
    /// is at least as long as the shortest found.
    fn hopeless(&self, hops: usize, leaf: EntityId) -> bool {
        let fewest = self.fewest[leaf.index()];
        fewest == u32::MAX || hops + fewest as usize >= self.bound()
    }

    fn count(&mut self) -> Result<(), OverBudget> {
        self.work += 1;
        if self.work > WAYS_IN_BUDGET {
            return Err(OverBudget);
        }
        Ok(())
    }

    /// Each hop from the end of `prefix`: an arrival ends a way in, covered or not; a
    /// hop that still follows a route makes a longer prefix; the hops that leave every
    /// route begin the search around the prefix.
    fn extend(
        &mut self,
        prefix: &Prefix,
        prefixes: &mut VecDeque<Prefix>,
    ) -> Result<(), OverBudget> {
        let (model, question, routes, hops) = (self.model, self.question, self.routes, self.hops);
        let Some(&at) = prefix.leaves.last() else {
            return Ok(());
        };
        let position = prefix.flows.len() + 1;
        let mut off = Vec::new();
        for (flow, next) in hops.from(at) {
            self.count()?;
            if is_blocked(question, next) {
                continue;
            }
            let alive = follow(model, routes, &prefix.alive, position, next, Some(flow));
            if arrives(model, question, next, flow) {
                if !ends(routes, &alive, position) {
                    self.found(prefix, &[(flow, next)]);
                }
                continue;
            }
            if question.direct || prefix.leaves.contains(&next) || self.start[next.index()] {
                continue;
            }
            if alive.is_empty() {
                off.push((flow, next));
            } else {
                let mut longer = Prefix {
                    leaves: prefix.leaves.clone(),
                    flows: prefix.flows.clone(),
                    alive,
                };
                longer.leaves.push(next);
                longer.flows.push(flow);
                prefixes.push_back(longer);
            }
        }
        self.around(prefix, off)
    }

    /// Breadth first from `off`, the hops that leave every route at the end of
    /// `prefix`, never back into the prefix or the start, to the first arrival. Every way
    /// in this finds is uncovered, and none before it in the search arrives: an earlier
    /// arrival would have been found first.
    fn around(&mut self, prefix: &Prefix, off: Vec<(FlowId, EntityId)>) -> Result<(), OverBudget> {
        let (model, question, hops) = (self.model, self.question, self.hops);
        // How each leaf was entered: over which flow, from which leaf (`None`: from the
        // prefix's end).
        let mut entered: FxHashMap<EntityId, (FlowId, Option<EntityId>)> = FxHashMap::default();
        let mut queue = VecDeque::new();
        for (flow, leaf) in off {
            if self.hopeless(prefix.flows.len() + 1, leaf) {
                continue;
            }
            if let Entry::Vacant(entry) = entered.entry(leaf) {
                entry.insert((flow, None));
                queue.push_back((leaf, prefix.flows.len() + 1));
            }
        }
        while let Some((at, depth)) = queue.pop_front() {
            if depth + 1 >= self.bound() {
                break;
            }
            for (flow, next) in hops.from(at) {
                self.count()?;
                if is_blocked(question, next) {
                    continue;
                }
                if arrives(model, question, next, flow) {
                    let mut tail = vec![(flow, next)];
                    let mut leaf = Some(at);
                    while let Some(current) = leaf {
                        let Some(&(flow, before)) = entered.get(&current) else {
                            break;
                        };
                        tail.push((flow, current));
                        leaf = before;
                    }
                    tail.reverse();
                    self.found(prefix, &tail);
                    return Ok(());
                }
                if prefix.leaves.contains(&next)
                    || self.start[next.index()]
                    || entered.contains_key(&next)
                    || self.hopeless(depth + 1, next)
                {
                    continue;
                }
                entered.insert(next, (flow, Some(at)));
                queue.push_back((next, depth + 1));
            }
        }
        Ok(())
    }

    /// `prefix` and then `tail` is an uncovered way in: the best yet if shorter.
    fn found(&mut self, prefix: &Prefix, tail: &[(FlowId, EntityId)]) {
        if prefix.flows.len() + tail.len() >= self.bound() {
            return;
        }
        let along = (prefix.flows.iter().copied()).zip(prefix.leaves[1..].iter().copied());
        self.best = Some(Way {
            start: prefix.leaves[0],
            hops: along.chain(tail.iter().copied()).collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    //! The searches against brute force: on small random models whose flows allow one of
    //! two ports, an invariant with pinned exceptions is waived exactly when every way
    //! in from its start to its target follows one pinned route to its end, and an
    //! exception is active exactly when a way in follows its route.

    use proptest::prelude::*;

    use crate::check::check;
    use crate::policy::model_from_text;
    use crate::report::{ExceptionState, Status, Unused};

    /// `a0` stands alone; `s0` holds `a1` and `a2`, `s1` (the target) `a3` and `a4`.
    const ENTITIES: [&str; 7] = ["a0", "a1", "a2", "a3", "a4", "s0", "s1"];

    fn leaves(entity: usize) -> Vec<usize> {
        match entity {
            5 => vec![1, 2],
            6 => vec![3, 4],
            leaf => vec![leaf],
        }
    }

    fn parent(leaf: usize) -> usize {
        match leaf {
            1 | 2 => 5,
            3 | 4 => 6,
            _ => leaf,
        }
    }

    /// A flow: from, to, and whether it allows the invariant's port (else another).
    type Flow = (usize, usize, bool);

    /// One hop of a walk: the flow crossed and the leaf entered.
    type Hop = (usize, usize);

    fn edges(flows: &[Flow], leaf: usize) -> Vec<Hop> {
        let mut out = Vec::new();
        for (index, &(from, to, _)) in flows.iter().enumerate() {
            if leaves(from).contains(&leaf) {
                out.extend(leaves(to).into_iter().map(|next| (index, next)));
            }
        }
        out
    }

    /// Whether a hop arrives: into the target, over a flow with the invariant's port.
    fn arrives(flows: &[Flow], (flow, leaf): Hop) -> bool {
        leaf >= 3 && flows[flow].2
    }

    /// A pinned step: the entity, and the flow pinned on the hop into it.
    type Pin = (usize, Option<usize>);

    fn covers(route: &[Pin], walk: &[Hop]) -> bool {
        route.len() == walk.len() + 1
            && route[0].0 == 0
            && route[1..]
                .iter()
                .zip(walk)
                .all(|(&(entity, flow), &(f, leaf))| {
                    leaves(entity).contains(&leaf) && flow.is_none_or(|flow| flow == f)
                })
    }

    /// Every way in from `a0`, by brute force: each walk that arrives at its last hop
    /// only, and visits no leaf twice before it (`a0` included).
    fn ways_in(flows: &[Flow]) -> Vec<Vec<Hop>> {
        let mut ways = Vec::new();
        let mut queue: std::collections::VecDeque<Vec<Hop>> = [Vec::new()].into();
        while let Some(walk) = queue.pop_front() {
            let at = walk.last().map_or(0, |&(_, leaf)| leaf);
            for hop in edges(flows, at) {
                let mut longer = walk.clone();
                longer.push(hop);
                if arrives(flows, hop) {
                    ways.push(longer);
                } else if hop.1 != 0 && !walk.iter().any(|&(_, leaf)| leaf == hop.1) {
                    queue.push_back(longer);
                }
            }
        }
        ways
    }

    /// Whether a way in of the attacker follows `route` to its end.
    fn takes(ways: &[Vec<Hop>], route: &[Pin]) -> bool {
        ways.iter().any(|way| covers(route, way))
    }

    /// A route from `a0` to the target, walked by `choices`: each hop takes the edge the
    /// next choice picks, widens the leaf to its segment or pins the flow as bits say.
    fn route(flows: &[Flow], choices: &[u8]) -> Option<Vec<Pin>> {
        let mut route = vec![(0, None)];
        let mut at = 0;
        for &choice in choices {
            let edges = edges(flows, at);
            if edges.is_empty() {
                return None;
            }
            let (flow, next) = edges[usize::from(choice) % edges.len()];
            let entity = if choice & 0x40 != 0 {
                parent(next)
            } else {
                next
            };
            let pinned = (choice & 0x80 != 0).then_some(flow);
            route.push((entity, pinned));
            at = next;
            if next >= 3 {
                return Some(route);
            }
        }
        None
    }

    fn yaml(flows: &[Flow], routes: &[Vec<Pin>]) -> String {
        let mut text = String::from(
            "segments: [{name: s0}, {name: s1}]\nassets:\n  - {name: a0}\n  - {name: a1, in: s0}\n  - {name: a2, in: s0}\n  - {name: a3, in: s1}\n  - {name: a4, in: s1}\nflows:\n",
        );
        for (index, &(from, to, wanted)) in flows.iter().enumerate() {
            let port = if wanted { "tcp/443" } else { "tcp/22" };
            text.push_str(&format!(
                "  - {{name: f{index}, from: {}, to: {}, ports: [{port}]}}\n",
                ENTITIES[from], ENTITIES[to]
            ));
        }
        text.push_str(
            "invariants:\n  - {name: t, forbid: {from: a0, to: s1, ports: [tcp/443]}}\nexceptions:\n",
        );
        for route in routes {
            let mut path = Vec::new();
            for &(entity, flow) in route {
                if let Some(flow) = flow {
                    path.push(format!("flow:f{flow}"));
                }
                path.push(ENTITIES[entity].to_owned());
            }
            text.push_str(&format!(
                "  - {{invariant: t, reason: r, owner: o, expires: 2030-01-01, path: [{}]}}\n",
                path.join(", ")
            ));
        }
        text
    }

    proptest! {
        // Enough cases that ties between ways in of different lengths come up, and rejects
        // (no route drawn) to spare for them.
        #![proptest_config(ProptestConfig {
            cases: 1000,
            max_global_rejects: 4096,
            ..ProptestConfig::default()
        })]

        #[test]
        fn waived_exactly_when_every_way_in_follows_a_pinned_route(
            first in (0usize..7, any::<bool>()),
            more in prop::collection::vec((0usize..7, 0usize..7, any::<bool>()), 1..8),
            walks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..6), 1..4),
        ) {
            // The attacker always has a first step, so that most cases have a route.
            let mut flows = vec![(0, first.0, first.1)];
            flows.extend(more);
            let routes: Vec<Vec<Pin>> = walks.iter().filter_map(|w| route(&flows, w)).collect();
            prop_assume!(!routes.is_empty());
            let text = yaml(&flows, &routes);
            let model = model_from_text("p.yaml", &text)
                .map_err(|problems| TestCaseError::fail(format!("{problems:?}\n{text}")))?;
            let report = check(&model, "2024-01-01".parse().unwrap());
            let result = &report.results[0];
            let ways = ways_in(&flows);
            let taken: Vec<&Vec<Pin>> = routes.iter().filter(|r| takes(&ways, r)).collect();
            let uncovered = ways.iter().find(|way| !taken.iter().any(|r| covers(r, way)));
            let expected = match uncovered {
                _ if ways.is_empty() => Status::Pass,
                Some(_) => Status::Fail,
                None => Status::Waived,
            };
            prop_assert_eq!(result.status, expected, "{}", text);
            for ((_, note), route) in report.exceptions.iter().zip(&routes) {
                let state = if ways.is_empty() {
                    ExceptionState::Unused(Unused::InvariantHolds)
                } else if takes(&ways, route) {
                    ExceptionState::Active
                } else {
                    ExceptionState::Unused(Unused::RouteNotTaken)
                };
                prop_assert_eq!(note.state, state, "{}", text);
            }
            // A failure's witness is a shortest uncovered way in.
            if let Some(uncovered) = uncovered {
                let shortest = (ways.iter())
                    .filter(|way| !taken.iter().any(|r| covers(r, way)))
                    .map(Vec::len)
                    .min();
                prop_assert_eq!(Some(result.witness.len()), shortest, "{}", text);
                prop_assert!(uncovered.len() >= result.witness.len());
            }
        }
    }
}
