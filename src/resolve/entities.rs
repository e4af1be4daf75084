//! Resolving entities: names, containment, address ranges and tags.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Context, NameTable};
use crate::diagnostic::Problem;
use crate::load::ParsedFile;
use crate::raw::At;

use crate::location::{Location, SourceId};
use crate::model::{ANY, Entity, EntityId, EntityKind, INTERNET, Model};
use crate::raw::{RawAccount, RawEntity};
use crate::suggest::did_you_mean;

/// An entity as declared, before ids exist.
struct Declared {
    entity: Entity,
    parent: Option<(String, Location)>,
}

pub(super) fn resolve_entities(cx: &mut Context, files: &[ParsedFile]) -> Model {
    let mut names = NameTable::new("entity");
    let mut declared = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let source = SourceId(index as u32);
        let raw = &file.raw;
        let plain = [
            (EntityKind::Environment, &raw.environments),
            (EntityKind::Segment, &raw.segments),
            (EntityKind::Asset, &raw.assets),
        ];
        for (kind, list) in plain {
            for item in list.iter().flatten() {
                let fields = Fields::from(&item.value);
                declare(
                    cx,
                    &mut names,
                    &mut declared,
                    (source, raw.imported),
                    kind,
                    fields,
                );
            }
        }
        for item in raw.accounts.iter().flatten() {
            let fields = Fields::from(&item.value);
            declare(
                cx,
                &mut names,
                &mut declared,
                (source, raw.imported),
                EntityKind::Account,
                fields,
            );
        }
    }
    declared.push(Declared {
        entity: Entity {
            name: INTERNET.to_owned(),
            kind: EntityKind::Internet,
            parent: None,
            children: Vec::new(),
            cidrs: Vec::new(),
            ranges: Vec::new(),
            tags: Vec::new(),
            description: Some("every address that no declared entity covers".to_owned()),
            owner: None,
            provider: None,
            account_id: None,
            location: None,
        },
        parent: None,
    });
    declared.sort_by(|a, b| a.entity.name.cmp(&b.entity.name));

    let mut model = Model::default();
    let parents: Vec<Option<(String, Location)>> =
        declared.iter_mut().map(|d| d.parent.take()).collect();
    model.entities = declared.into_iter().map(|d| d.entity).collect();
    link_parents(cx, &mut model, parents);
    inherit_ranges(&mut model);
    model
}

/// The fields every kind of entity has, borrowed from its raw form.
struct Fields<'f> {
    name: &'f At<String>,
    parent: Option<&'f At<String>>,
    cidrs: Option<&'f Vec<At<String>>>,
    tags: Option<&'f Vec<At<String>>>,
    description: Option<&'f String>,
    owner: Option<&'f String>,
    provider: Option<&'f String>,
    id: Option<&'f String>,
}

impl<'f> From<&'f RawEntity> for Fields<'f> {
    fn from(raw: &'f RawEntity) -> Self {
        Fields {
            name: &raw.name,
            parent: raw.parent.as_ref(),
            cidrs: raw.cidrs.as_ref(),
            tags: raw.tags.as_ref(),
            description: raw.description.as_ref(),
            owner: raw.owner.as_ref(),
            provider: None,
            id: None,
        }
    }
}

impl<'f> From<&'f RawAccount> for Fields<'f> {
    fn from(raw: &'f RawAccount) -> Self {
        Fields {
            name: &raw.name,
            parent: raw.parent.as_ref(),
            cidrs: raw.cidrs.as_ref(),
            tags: raw.tags.as_ref(),
            description: raw.description.as_ref(),
            owner: raw.owner.as_ref(),
            provider: raw.provider.as_ref(),
            id: raw.id.as_ref(),
        }
    }
}

fn declare<'f>(
    cx: &mut Context,
    names: &mut NameTable<'f>,
    declared: &mut Vec<Declared>,
    (source, imported): (SourceId, bool),
    kind: EntityKind,
    raw: Fields<'f>,
) {
    let at = cx.location(source, raw.name);
    let name = raw.name.value.as_str();
    if !check_entity_name(cx, name, at, imported) || !names.claim(cx, name, at) {
        return;
    }
    let mut cidrs = Vec::new();
    for cidr in raw.cidrs.into_iter().flatten() {
        match parse_cidr(&cidr.value) {
            Some(net) => cidrs.push(net),
            None => {
                let at = cx.location(source, cidr);
                cx.error(
                    at,
                    Problem::BadCidr {
                        text: cidr.value.clone(),
                    },
                )
                .help("use an address such as `10.0.0.1` or a prefix such as `10.0.0.0/16`");
            }
        }
    }
    cidrs.sort_unstable();
    cidrs.dedup();
    let mut tags: Vec<String> = raw
        .tags
        .into_iter()
        .flatten()
        .map(|tag| tag.value.clone())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    declared.push(Declared {
        entity: Entity {
            name: name.to_owned(),
            kind,
            parent: None,
            children: Vec::new(),
            cidrs,
            ranges: Vec::new(),
            tags,
            description: raw.description.cloned(),
            owner: raw.owner.cloned(),
            provider: raw.provider.cloned(),
            account_id: raw.id.cloned(),
            location: Some(at),
        },
        parent: raw
            .parent
            .map(|parent| (parent.value.clone(), cx.location(source, parent))),
    });
}

/// An address or prefix; a bare address is a single host.
pub(crate) fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Characters a name may hold besides letters and digits. Imported names keep their
/// source's own (`payments/ledger`, `module.net.aws_subnet.private["a"]`); hand-written
/// names keep the plain rule, so that they never read as a selector or an address.
fn name_char(c: char, imported: bool) -> bool {
    c.is_alphanumeric()
        || matches!(c, '.' | '_' | '-')
        || (imported && matches!(c, '/' | '[' | ']' | '"' | ':' | '='))
}

fn check_entity_name(cx: &mut Context, name: &str, at: Location, imported: bool) -> bool {
    if name == INTERNET || name == ANY {
        cx.error(
            at,
            Problem::ReservedName {
                name: name.to_owned(),
            },
        )
        .help(format!(
            "`{INTERNET}` and `{ANY}` are built in: choose another name"
        ));
        return false;
    }
    let valid_chars = !name.is_empty() && name.chars().all(|c| name_char(c, imported));
    if !valid_chars {
        let fixed: String = name
            .chars()
            .map(|c| if name_char(c, false) { c } else { '-' })
            .collect();
        let problem = Problem::InvalidName {
            what: "entity",
            name: name.to_owned(),
        };
        if fixed.trim_matches('-').is_empty() {
            cx.error(at, problem);
        } else {
            cx.error(at, problem)
                .help(format!("did you mean `{fixed}`?"));
        }
        return false;
    }
    if parse_cidr(name).is_some() {
        cx.error(
            at,
            Problem::InvalidName {
                what: "entity",
                name: name.to_owned(),
            },
        )
        .help("a name that reads as an address would be taken for an address selector");
        return false;
    }
    true
}

fn link_parents(cx: &mut Context, model: &mut Model, parents: Vec<Option<(String, Location)>>) {
    for (index, parent) in parents.into_iter().enumerate() {
        let Some((parent_name, at)) = parent else {
            continue;
        };
        let child = EntityId(index as u32);
        let Some(parent) = model.find_entity(&parent_name) else {
            let help = did_you_mean(
                &parent_name,
                model.entities.iter().map(|entity| entity.name.as_str()),
            );
            cx.error(
                at,
                Problem::UnknownName {
                    what: "entity",
                    name: parent_name,
                },
            )
            .maybe_help(help);
            continue;
        };
        let child_kind = model.entity(child).kind;
        let parent_kind = model.entity(parent).kind;
        if parent_kind == EntityKind::Asset
            || parent_kind == EntityKind::Internet
            || parent_kind < child_kind
        {
            let help = match parent_kind {
                EntityKind::Asset => "assets contain nothing: move it into a segment",
                EntityKind::Internet => "`internet` contains nothing",
                _ => {
                    "a parent must be of the same kind or an outer one: environment > account > segment > asset"
                }
            };
            cx.error(
                at,
                Problem::ParentKind {
                    child: model.entity(child).name.clone(),
                    child_kind: child_kind.as_str(),
                    parent: parent_name,
                    parent_kind: parent_kind.as_str(),
                },
            )
            .help(help);
            continue;
        }
        model.entities[child.index()].parent = Some(parent);
    }
    break_cycles(cx, model);
    for id in 0..model.entities.len() {
        if let Some(parent) = model.entities[id].parent {
            model.entities[parent.index()]
                .children
                .push(EntityId(id as u32));
        }
    }
}

/// Reports each containment cycle once and cuts it, so that later steps can walk up the
/// tree without looping.
fn break_cycles(cx: &mut Context, model: &mut Model) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; model.entities.len()];
    for start in 0..model.entities.len() {
        let mut path = Vec::new();
        let mut current = Some(start);
        while let Some(index) = current {
            match state[index] {
                DONE => break,
                ON_PATH => {
                    let Some(position) = path.iter().position(|&i| i == index) else {
                        break;
                    };
                    let cycle = &path[position..];
                    let first = cycle.iter().copied().min().unwrap_or(index);
                    let at = cycle.iter().position(|&i| i == first).unwrap_or(0);
                    let mut chain: Vec<String> = cycle[at..]
                        .iter()
                        .chain(&cycle[..at])
                        .map(|&i| format!("`{}`", model.entities[i].name))
                        .collect();
                    chain.push(format!("`{}`", model.entities[first].name));
                    if let Some(location) = model.entities[first].location {
                        cx.error(
                            location,
                            Problem::Cycle {
                                chain: chain.join(" in "),
                            },
                        )
                        .help("remove one of these `in` keys");
                    }
                    model.entities[first].parent = None;
                    break;
                }
                _ => {
                    state[index] = ON_PATH;
                    path.push(index);
                    current = model.entities[index].parent.map(EntityId::index);
                }
            }
        }
        for index in path {
            state[index] = DONE;
        }
    }
}

/// Gives every leaf its effective ranges: its own, or its nearest ancestor's.
fn inherit_ranges(model: &mut Model) {
    for index in 0..model.entities.len() {
        if !model.entities[index].is_leaf() {
            continue;
        }
        let ranges = model
            .ancestors(EntityId(index as u32))
            .map(|ancestor| &model.entity(ancestor).cidrs)
            .find(|cidrs| !cidrs.is_empty())
            .cloned()
            .unwrap_or_default();
        model.entities[index].ranges = ranges;
    }
}
