//! `graph`: the model as a picture, whole or around one entity, optionally collapsed to
//! one level and with a witness path marked.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::model::{EntityId, EntityKind, Model, Selection};
use crate::path::find_paths;
use crate::report::{Picture, PictureEdge, PictureNode};

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Collapse everything inside entities of this kind into them.
    pub level: Option<EntityKind>,
    /// Draw only what lies within `depth` flows of this entity.
    pub focus: Option<(EntityId, usize)>,
    /// Mark the shortest path from the first to the second.
    pub highlight: Option<(Selection, Selection)>,
}

/// For every entity, the entity that stands for it in the picture: itself, or the
/// entity of the level's kind (or an outer one) that contains it.
fn visible(model: &Model, level: Option<EntityKind>) -> Vec<EntityId> {
    let Some(kind) = level else {
        return model.entity_ids().collect();
    };
    model
        .nearest(|entity| entity.kind >= kind)
        .into_iter()
        .zip(model.entity_ids())
        .map(|(outer, entity)| outer.unwrap_or(entity))
        .collect()
}

pub fn picture(model: &Model, options: &Options) -> Picture {
    let highlighted: BTreeSet<_> = match &options.highlight {
        Some((from, to)) => find_paths(model, from, to, &[], 1)
            .paths
            .into_iter()
            .flatten()
            .map(|step| step.flow)
            .collect(),
        None => BTreeSet::new(),
    };
    let stands_for = visible(model, options.level);
    let show = |entity: EntityId| stands_for[entity.index()];
    // Edges between the entities drawn, each with the flows it stands for.
    let mut edges: BTreeMap<(EntityId, EntityId), PictureEdge> = BTreeMap::new();
    for id in model.flow_ids() {
        let flow = model.flow(id);
        for &source in flow.from.roots() {
            for &target in flow.to.roots() {
                let (from, to) = (show(source), show(target));
                if options.level.is_some() && from == to {
                    continue;
                }
                let edge = edges.entry((from, to)).or_insert_with(|| PictureEdge {
                    from: model.entity(from).name.clone(),
                    to: model.entity(to).name.clone(),
                    flows: Vec::new(),
                    ports: Vec::new(),
                    credentials: Vec::new(),
                    highlighted: false,
                    locked: true,
                    closed: true,
                });
                edge.flows.push(model.flow_label(id));
                edge.ports
                    .extend(flow.ports().iter().map(ToString::to_string));
                edge.credentials.extend(
                    flow.auth()
                        .iter()
                        .map(|&c| model.credential(c).name.clone()),
                );
                edge.highlighted |= highlighted.contains(&id);
                edge.locked &= !flow.auth().is_empty();
                let can_open = flow.auth().is_empty()
                    || flow.auth().iter().any(|&c| model.credential(c).is_active());
                edge.closed &= !can_open;
            }
        }
    }
    for edge in edges.values_mut() {
        for list in [&mut edge.flows, &mut edge.ports, &mut edge.credentials] {
            list.sort();
            list.dedup();
        }
    }
    // The entities drawn: every visible one, or those near the focus.
    let mut kept: BTreeSet<EntityId> = match options.focus {
        None => model.entity_ids().filter(|&id| show(id) == id).collect(),
        Some((focus, depth)) => {
            let start = show(focus);
            // Neighbours either way along an edge, so that the search reads each edge
            // once rather than every edge for every entity it reaches.
            let mut neighbours: BTreeMap<EntityId, Vec<EntityId>> = BTreeMap::new();
            for &(from, to) in edges.keys() {
                neighbours.entry(from).or_default().push(to);
                neighbours.entry(to).or_default().push(from);
            }
            let mut near = BTreeSet::from([start]);
            let mut queue = VecDeque::from([(start, 0)]);
            while let Some((entity, distance)) = queue.pop_front() {
                if distance == depth {
                    continue;
                }
                for &other in neighbours.get(&entity).into_iter().flatten() {
                    if near.insert(other) {
                        queue.push_back((other, distance + 1));
                    }
                }
            }
            edges.retain(|(from, to), _| near.contains(from) && near.contains(to));
            near
        }
    };
    // Containers of what is drawn are drawn too, as the boxes around it. The walk up
    // stops at a container already drawn, so each is added once at any depth.
    let mut containers = BTreeSet::new();
    for &id in &kept {
        let mut above = model.entity(id).parent;
        while let Some(container) = above {
            if kept.contains(&container) || containers.contains(&container) {
                break;
            }
            containers.insert(container);
            above = model.entity(container).parent;
        }
    }
    kept.extend(containers);
    let parents: BTreeSet<EntityId> = kept
        .iter()
        .filter_map(|&id| model.entity(id).parent)
        .collect();
    let nodes = kept
        .iter()
        .map(|&id| {
            let entity = model.entity(id);
            let parent = entity.parent.filter(|p| kept.contains(p));
            let has_children = parents.contains(&id);
            PictureNode {
                name: entity.name.clone(),
                kind: entity.kind.as_str(),
                parent: parent.map(|p| model.entity(p).name.clone()),
                container: has_children,
            }
        })
        .collect();
    Picture {
        level: options.level.map(EntityKind::as_str),
        nodes,
        edges: edges.into_values().collect(),
    }
}
