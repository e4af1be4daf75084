//! Warnings about a resolved model: what is valid but probably a mistake in the
//! entities (two with one address, unless importers wrote both, an address outside its parent's ranges, an entity
//! that nothing mentions). Warnings about a single value (ports) are raised where it is
//! parsed, in `rules.rs`.

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::Context;
use crate::diagnostic::Problem;
use crate::model::{EntityId, Model, Rule, Selection};

/// `imported` tells, per source, whether an importer wrote it.
pub(super) fn model_warnings(cx: &mut Context, model: &Model, imported: &[bool]) {
    // The three passes only read the model: each runs with a context of its own, and
    // their warnings are taken in the order that running them one after another gives.
    let sources = &cx.sources;
    let alone = |pass: &(dyn Fn(&mut Context) + Sync)| {
        let mut local = Context::empty(sources.clone());
        pass(&mut local);
        local
    };
    let (shared, (outside, unused)) = rayon::join(
        || alone(&|cx| shared_addresses(cx, model, imported)),
        || {
            rayon::join(
                || alone(&|cx| outside_parent(cx, model)),
                || alone(&|cx| unmentioned(cx, model, imported)),
            )
        },
    );
    cx.absorb(shared);
    cx.absorb(outside);
    cx.absorb(unused);
}

/// Two entities that declare the same address or prefix: reported at the later one.
/// Two that importers wrote are left alone: they are what the estate holds, and AWS
/// lets VPCs, and subnets in different VPCs, reuse address space (every default VPC
/// is `172.31.0.0/16`).
fn shared_addresses(cx: &mut Context, model: &Model, imported: &[bool]) {
    let by_importer = |id: EntityId| by_importer(model, imported, id);
    // Only looked up, never walked in order: a hash map.
    let mut first: FxHashMap<IpNet, EntityId> = FxHashMap::default();
    let mut by_position: Vec<EntityId> = model
        .entity_ids()
        .filter(|&id| model.entity(id).location.is_some() && !model.entity(id).cidrs.is_empty())
        .collect();
    by_position.sort_by_key(|&id| model.entity(id).location);
    for id in by_position {
        let entity = model.entity(id);
        for &net in &entity.cidrs {
            let earlier = *first.entry(net).or_insert(id);
            if earlier == id || (by_importer(earlier) && by_importer(id)) {
                continue;
            }
            if let Some(at) = entity.location {
                let other = model.entity(earlier);
                let where_other = other.location.map(|at| cx.display(at)).unwrap_or_default();
                cx.warn(
                    at,
                    Problem::SharedAddress {
                        what: entity.kind.as_str(),
                        name: entity.name.clone(),
                        address: shown(net),
                        other: other.name.clone(),
                    },
                )
                .help(format!(
                    "`{}` is declared at {where_other}: an address belongs to one entity",
                    other.name
                ));
            }
        }
    }
}

/// Whether an importer wrote entity `id`.
fn by_importer(model: &Model, imported: &[bool], id: EntityId) -> bool {
    (model.entity(id).location)
        .is_some_and(|at| imported.get(at.source.0 as usize).copied().unwrap_or(false))
}

/// An entity whose own address lies outside the ranges of the nearest entity around it
/// that has ranges: traffic to that address would not be the parent's.
fn outside_parent(cx: &mut Context, model: &Model) {
    let ranged = model.nearest(|entity| !entity.cidrs.is_empty());
    for id in model.entity_ids() {
        let entity = model.entity(id);
        let (Some(at), Some(parent)) = (entity.location, entity.parent) else {
            continue;
        };
        let Some(owner) = ranged[parent.index()] else {
            continue;
        };
        let outer = &model.entity(owner).cidrs;
        for net in &entity.cidrs {
            if !outer.iter().any(|range| range.contains(net)) {
                cx.warn(
                    at,
                    Problem::OutsideParent {
                        what: entity.kind.as_str(),
                        name: entity.name.clone(),
                        address: shown(*net),
                        parent: model.entity(owner).name.clone(),
                    },
                )
                .help(format!(
                    "move it out of `{}`, or correct the address",
                    model.entity(owner).name
                ));
            }
        }
    }
}

/// An entity that takes part in nothing: no flow, credential, invariant or exception
/// selects it, anything inside it, or anything around it.
fn unmentioned(cx: &mut Context, model: &Model, imported: &[bool]) {
    let mut root = vec![false; model.entities.len()];
    let mut mark = |selection: &Selection| {
        for &entity in selection.roots() {
            root[entity.index()] = true;
        }
    };
    for flow in &model.flows {
        mark(&flow.from);
        mark(&flow.to);
    }
    for credential in &model.credentials {
        mark(&credential.holders);
    }
    for invariant in &model.invariants {
        match &invariant.rule {
            Rule::Forbid { from, to, .. } | Rule::Require { from, to, .. } => {
                mark(&from.selection);
                mark(&to.selection);
            }
            Rule::Through { from, to, via } => {
                mark(&from.selection);
                mark(&to.selection);
                mark(&via.selection);
            }
        }
    }
    for exception in &model.exceptions {
        for step in &exception.path {
            root[step.entity.index()] = true;
        }
    }
    // Used: a selected root, anything inside one (top down), or anything around one
    // (bottom up); each in one pass over the tree.
    let mut used = vec![false; model.entities.len()];
    let pre_order = model.pre_order();
    for &id in pre_order {
        let parent_used = model
            .entity(id)
            .parent
            .is_some_and(|parent| used[parent.index()]);
        used[id.index()] = root[id.index()] || parent_used;
    }
    let mut around = root.clone();
    for &id in pre_order.iter().rev() {
        if around[id.index()]
            && let Some(parent) = model.entity(id).parent
        {
            around[parent.index()] = true;
        }
    }
    for id in model.entity_ids() {
        let entity = model.entity(id);
        if used[id.index()] || around[id.index()] {
            continue;
        }
        // A cluster's namespace or a plan's subnet that no rule names is how real
        // estates are, not a slip in a policy someone wrote.
        if let Some(at) = entity.location
            && !by_importer(model, imported, id)
        {
            cx.warn(
                at,
                Problem::Unmentioned {
                    what: entity.kind.as_str(),
                    name: entity.name.clone(),
                },
            )
            .help("remove it, or add the flow, credential or invariant it is there for");
        }
    }
}

/// An address as a user writes it: a single host without its `/32` or `/128`.
fn shown(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}
