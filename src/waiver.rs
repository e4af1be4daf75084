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
use crate::model::{EntityId, FlowId, PinStep, Selection};
use crate::ports::{self, PortSpec};

/// What the invariant asks, as the search needs it.
pub struct Question<'a> {
    pub from: &'a Selection,
    pub to: &'a Selection,
    pub ports: &'a [PortSpec],
    pub direct: bool,
    pub blocked: Option<&'a [bool]>,
}

/// A leaf, how many hops led to it, and the routes (by index) that the path still
/// follows; a path off every route has no hop count and no routes, so that all such
/// paths to one leaf share a state.
#[derive(Clone, PartialEq, Eq, Hash)]
struct State {
    leaf: EntityId,
    position: u32,
    routes: Vec<u16>,
}

/// How each state was first reached: from which state, over which flow.
type Parents = FxHashMap<State, Option<(State, FlowId)>>;

/// What a search is after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seek {
    /// A path that follows none of the routes to its end.
    Uncovered,
    /// A path that follows one of the routes to its end.
    Along,
}

/// A shortest path for `question` that no route in `routes` covers, if any.
pub fn uncovered_path(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    routes: &[&[PinStep]],
) -> Option<Vec<Step>> {
    search(engine, workspace, question, routes, Seek::Uncovered)
}

/// Whether the attacker can take `route` all the way to the target: a path for
/// `question` that follows it step by step.
pub fn takes_route(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    route: &[PinStep],
) -> bool {
    search(engine, workspace, question, &[route], Seek::Along).is_some()
}

fn search(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    routes: &[&[PinStep]],
    seek: Seek,
) -> Option<Vec<Step>> {
    let model = engine.model;
    engine.fixpoint(workspace, question.from, question.blocked);
    let blocked = |entity: EntityId| question.blocked.is_some_and(|b| b[entity.index()]);
    // The routes among `alive` whose step `position` admits entering `leaf` over `flow`.
    let follow = |alive: &[u16], position: usize, leaf: EntityId, flow: Option<FlowId>| {
        let routes: Vec<u16> = alive
            .iter()
            .copied()
            .filter(|&r| {
                routes[usize::from(r)]
                    .get(position)
                    .is_some_and(|step| step.admits(model, leaf, flow))
            })
            .collect();
        State {
            leaf,
            position: if routes.is_empty() {
                u32::MAX
            } else {
                position as u32
            },
            routes,
        }
    };
    let covered = |state: &State| {
        state
            .routes
            .iter()
            .any(|&r| routes[usize::from(r)].len() == state.position as usize + 1)
    };
    // The flows each leaf can use: those whose `from` covers it, if open.
    let mut usable: FxHashMap<EntityId, Vec<FlowId>> = FxHashMap::default();
    for flow in model.flow_ids() {
        if engine.is_open(workspace, flow) {
            for leaf in model.flow(flow).from.leaves(model) {
                usable.entry(leaf).or_default().push(flow);
            }
        }
    }
    // At most a handful of exceptions pin routes of one invariant.
    let every: Vec<u16> = (0..routes.len().min(usize::from(u16::MAX)) as u16).collect();
    let mut parent: Parents = FxHashMap::default();
    let mut queue: VecDeque<(State, u32)> = VecDeque::new();
    for leaf in question.from.leaves(model) {
        let state = follow(&every, 0, leaf, None);
        if blocked(leaf) || (seek == Seek::Along && state.routes.is_empty()) {
            continue;
        }
        if parent.insert(state.clone(), None).is_none() {
            queue.push_back((state, 0));
        }
    }
    while let Some((state, hops)) = queue.pop_front() {
        if question.direct && hops >= 1 {
            continue;
        }
        let position = state.position.wrapping_add(1) as usize;
        for &flow in usable.get(&state.leaf).map_or(&[][..], Vec::as_slice) {
            for next in model.flow(flow).to.leaves(model) {
                if blocked(next) {
                    continue;
                }
                let next_state = follow(&state.routes, position, next, Some(flow));
                if parent.contains_key(&next_state)
                    || (seek == Seek::Along && next_state.routes.is_empty())
                {
                    continue;
                }
                parent.insert(next_state.clone(), Some((state.clone(), flow)));
                let arrives = question.to.contains(model, next)
                    && ports::any_overlap(&model.flow(flow).ports, question.ports);
                if arrives && covered(&next_state) == (seek == Seek::Along) {
                    return Some(steps(engine, workspace, &parent, next_state));
                }
                queue.push_back((next_state, hops + 1));
            }
        }
    }
    None
}

fn steps(engine: &Engine, workspace: &Workspace, parent: &Parents, end: State) -> Vec<Step> {
    let mut hops = Vec::new();
    let mut current = end;
    while let Some(Some((previous, flow))) = parent.get(&current) {
        hops.push((previous.leaf, current.leaf, *flow));
        current = previous.clone();
    }
    hops.reverse();
    hops.into_iter()
        .map(|(from, to, flow)| engine.step(workspace, from, to, flow))
        .collect()
}
