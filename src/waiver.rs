//! Exceptions pinned to a route: whether the attacker has another way in.
//!
//! An exception with a `path` waives that route only. The question is then whether
//! some path from the invariant's start to its target does not follow the pinned
//! entities hop by hop. The search walks leaves paired with how far along the pinned
//! route the path still is, or that it has left it: a path that reaches the target
//! having followed every pinned entity, and no more, is the waived one; any other
//! path is a route the exception does not cover.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::engine::{Engine, Step, Workspace};
use crate::model::{EntityId, FlowId, Selection};
use crate::ports::{self, PortSpec};

/// What the invariant asks, as the search needs it.
pub struct Question<'a> {
    pub from: &'a Selection,
    pub to: &'a Selection,
    pub ports: &'a [PortSpec],
    pub direct: bool,
    pub blocked: Option<&'a [bool]>,
}

/// A leaf, and how far along the pinned route the path to it still is (or that it has
/// left the route).
type State = (EntityId, usize);

/// How each state was first reached: from which state, over which flow.
type Parents = FxHashMap<State, Option<(State, FlowId)>>;

/// A shortest path for `question` that does not follow `pinned`, if any.
pub fn other_route(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    pinned: &[EntityId],
) -> Option<Vec<Step>> {
    let model = engine.model;
    let last = pinned.len().checked_sub(1)?;
    let left = last + 1;
    engine.fixpoint(workspace, question.from, question.blocked);
    let blocked = |entity: EntityId| question.blocked.is_some_and(|b| b[entity.index()]);
    let inside = |leaf: EntityId, entity: EntityId| model.within(leaf, entity);
    // The flows each leaf can use: those whose `from` covers it, if open.
    let mut usable: FxHashMap<EntityId, Vec<FlowId>> = FxHashMap::default();
    for flow in model.flow_ids() {
        if engine.is_open(workspace, flow) {
            for leaf in model.flow(flow).from.leaves(model) {
                usable.entry(leaf).or_default().push(flow);
            }
        }
    }
    let mut parent: Parents = FxHashMap::default();
    let mut queue: VecDeque<(State, u32)> = VecDeque::new();
    for leaf in question.from.leaves(model) {
        if blocked(leaf) {
            continue;
        }
        let state = (leaf, if inside(leaf, pinned[0]) { 0 } else { left });
        if parent.insert(state, None).is_none() {
            queue.push_back((state, 0));
        }
    }
    while let Some(((leaf, along), hops)) = queue.pop_front() {
        if question.direct && hops >= 1 {
            continue;
        }
        for &flow in usable.get(&leaf).map_or(&[][..], Vec::as_slice) {
            for next in model.flow(flow).to.leaves(model) {
                if blocked(next) {
                    continue;
                }
                let next_along = if along < last && inside(next, pinned[along + 1]) {
                    along + 1
                } else {
                    left
                };
                let state = (next, next_along);
                if parent.contains_key(&state) {
                    continue;
                }
                parent.insert(state, Some(((leaf, along), flow)));
                if question.to.contains(model, next) {
                    let allowed = ports::any_overlap(&model.flow(flow).ports, question.ports);
                    // Arriving exactly at the end of the pinned route is the waived path.
                    if allowed && next_along != last {
                        return Some(steps(engine, workspace, &parent, state));
                    }
                    continue;
                }
                queue.push_back((state, hops + 1));
            }
        }
    }
    None
}

fn steps(engine: &Engine, workspace: &Workspace, parent: &Parents, end: State) -> Vec<Step> {
    let mut hops = Vec::new();
    let mut current = end;
    while let Some(Some((previous, flow))) = parent.get(&current) {
        hops.push((previous.0, current.0, *flow));
        current = *previous;
    }
    hops.reverse();
    hops.into_iter()
        .map(|(from, to, flow)| engine.step(workspace, from, to, flow))
        .collect()
}
