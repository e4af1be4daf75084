//! Exceptions pinned to routes: whether the attacker has a way in that none of them
//! covers, and whether a pinned route is one the attacker can take at all.
//!
//! An exception with a `path` waives that route only, so an invariant with pinned
//! exceptions is waived when every path from its start to its target follows one of the
//! pinned routes, step by step, and ends where that route ends. The search walks states
//! of a leaf and the pinned routes that the path to it still follows (all at the same
//! position, the number of hops so far), or that it has left every route. A path that
//! reaches the target at the last step of a route it still follows is covered; any
//! other path is a way in that no exception waives.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

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

/// A shortest path for `question` that no route in `routes` covers, if any.
pub fn uncovered_path(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    routes: &[&[PinStep]],
) -> Option<Vec<Step>> {
    let hops = Hops::new(engine, workspace, question);
    search(engine, workspace, question, &hops, routes, Seek::Uncovered)
}

/// Whether the attacker can take `route` all the way to the target: a path for
/// `question` that follows it step by step.
pub fn takes_route(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    route: &[PinStep],
) -> bool {
    let hops = Hops::new(engine, workspace, question);
    search(engine, workspace, question, &hops, &[route], Seek::Along).is_some()
}

/// The hops the attacker can take, once the fixpoint is known: the open flows that each
/// leaf can use (those whose `from` covers it), and the leaves that each flow enters.
struct Hops {
    flows: FxHashMap<EntityId, Vec<FlowId>>,
    enters: FxHashMap<FlowId, Vec<EntityId>>,
}

impl Hops {
    fn new(engine: &Engine, workspace: &mut Workspace, question: &Question) -> Hops {
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

/// A shortest walk for `question` that `seek` asks for.
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

#[cfg(test)]
mod tests {
    //! The search against brute force: on small random models, an invariant with pinned
    //! exceptions is waived exactly when every walk from its start to its target, up to
    //! a length past which no walk needs to go, follows one pinned route to its end.

    use proptest::prelude::*;

    use crate::check::check;
    use crate::policy::model_from_text;
    use crate::report::{ExceptionState, Status};

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

    /// One hop of a walk: the flow crossed and the leaf entered.
    type Hop = (usize, usize);

    fn edges(flows: &[(usize, usize)], leaf: usize) -> Vec<Hop> {
        let mut out = Vec::new();
        for (index, &(from, to)) in flows.iter().enumerate() {
            if leaves(from).contains(&leaf) {
                out.extend(leaves(to).into_iter().map(|next| (index, next)));
            }
        }
        out
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

    /// Whether some walk from `a0` to the target, of at most `limit` hops, follows none of
    /// `routes` to its end; and whether any walk reaches the target at all. Walks are
    /// tried shortest first, and the search stops at the first uncovered one.
    fn brute_force(flows: &[(usize, usize)], routes: &[Vec<Pin>], limit: usize) -> (bool, bool) {
        let mut any = false;
        let mut queue: std::collections::VecDeque<Vec<Hop>> = [Vec::new()].into();
        while let Some(walk) = queue.pop_front() {
            let at = walk.last().map_or(0, |&(_, leaf)| leaf);
            if at >= 3 {
                any = true;
                if !routes.iter().any(|route| covers(route, &walk)) {
                    return (true, true);
                }
            }
            if walk.len() < limit {
                for hop in edges(flows, at) {
                    let mut longer = walk.clone();
                    longer.push(hop);
                    queue.push_back(longer);
                }
            }
        }
        (false, any)
    }

    /// A route from `a0` to the target, walked by `choices`: each hop takes the edge the
    /// next choice picks, widens the leaf to its segment or pins the flow as bits say.
    fn route(flows: &[(usize, usize)], choices: &[u8]) -> Option<Vec<Pin>> {
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

    fn yaml(flows: &[(usize, usize)], routes: &[Vec<Pin>]) -> String {
        let mut text = String::from(
            "segments: [{name: s0}, {name: s1}]\nassets:\n  - {name: a0}\n  - {name: a1, in: s0}\n  - {name: a2, in: s0}\n  - {name: a3, in: s1}\n  - {name: a4, in: s1}\nflows:\n",
        );
        for (index, &(from, to)) in flows.iter().enumerate() {
            text.push_str(&format!(
                "  - {{name: f{index}, from: {}, to: {}}}\n",
                ENTITIES[from], ENTITIES[to]
            ));
        }
        text.push_str("invariants:\n  - {name: t, forbid: {from: a0, to: s1}}\nexceptions:\n");
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
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn waived_exactly_when_every_walk_follows_a_pinned_route(
            first in 0usize..7,
            more in prop::collection::vec((0usize..7, 0usize..7), 1..8),
            walks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..6), 1..4),
        ) {
            // The attacker always has a first step, so that most cases have a route.
            let mut flows = vec![(0, first)];
            flows.extend(more);
            let routes: Vec<Vec<Pin>> = walks.iter().filter_map(|w| route(&flows, w)).collect();
            prop_assume!(!routes.is_empty());
            let text = yaml(&flows, &routes);
            let model = model_from_text("p.yaml", &text)
                .map_err(|problems| TestCaseError::fail(format!("{problems:?}\n{text}")))?;
            let report = check(&model, "2024-01-01".parse().unwrap());
            let result = &report.results[0];
            // No walk longer than every route plus one visit of each of the 5 leaves is
            // needed: a shortest uncovered walk past that length repeats a leaf it could
            // skip and still be longer than every route.
            let limit = routes.iter().map(Vec::len).max().unwrap_or(0) + 5;
            let (uncovered, any) = brute_force(&flows, &routes, limit);
            prop_assert!(any, "{text}");
            let expected = if uncovered { Status::Fail } else { Status::Waived };
            prop_assert_eq!(result.status, expected, "{}", text);
            for (_, note) in &report.exceptions {
                prop_assert_eq!(note.state, ExceptionState::Active, "{}", text);
            }
        }
    }
}
