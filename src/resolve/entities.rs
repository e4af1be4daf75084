//! Resolving entities: names, containment, address ranges and tags.
//!
//! Each declaration is checked and built on its own, on every core; only what relates
//! declarations to one another runs in one place: which of two declarations of a name
//! comes first, the problems reported in file order, and the containment tree.

use std::net::IpAddr;

use ipnet::IpNet;
use rayon::prelude::*;

use super::{Context, report_duplicate};
use crate::diagnostic::{Diagnostic, Problem};
use crate::load::ParsedFile;
use crate::raw::At;

use crate::location::{Location, SourceId};
use crate::model::{ANY, Entity, EntityId, EntityKind, INTERNET, Model};
use crate::raw::{RawAccount, RawEntity};
use crate::suggest::did_you_mean;

/// One declaration of an entity, in a file.
struct Item<'f> {
    source: SourceId,
    imported: bool,
    kind: EntityKind,
    fields: Fields<'f>,
}

/// An entity as declared, before ids exist, with the name of its parent.
struct Declared<'f> {
    entity: Entity,
    parent: Option<(&'f str, Location)>,
}

/// Where the built-in `internet` stands among the declarations, which it is not one of.
const BUILT_IN: u32 = u32::MAX;

/// What resolution reports about one declaration.
enum Report {
    /// Problems found in it: its name's, or the addresses' of one that claimed its name.
    Problems(Vec<Diagnostic>),
    /// Its name was declared before, by the declaration with this index.
    Duplicate { first: u32 },
}

pub(super) fn resolve_entities(cx: &mut Context, files: &[ParsedFile]) -> Model {
    let items = items(files);
    let sources = &cx.sources;
    // Each rayon job reports into a context of its own; every problem is then taken
    // per declaration, so that they can be reported in file order.
    let local = || Context::empty(sources.clone());
    let name_problems: Vec<Option<Vec<Diagnostic>>> = items
        .par_iter()
        .map_init(local, |local, item| {
            let at = local.location(item.source, item.fields.name);
            let valid = check_entity_name(local, &item.fields.name.value, at, item.imported);
            (!valid).then(|| std::mem::take(&mut local.diagnostics))
        })
        .collect();

    let (order, mut reports) = claim_names(&items, &name_problems);

    // Built in name order, the entities need no sorting after.
    let (entities, (parents, address_problems)): (Vec<Entity>, (Vec<_>, Vec<_>)) = order
        .par_iter()
        .map_init(local, |local, &index| {
            let declared = match items.get(index as usize) {
                Some(item) => declare(local, item),
                None => internet(),
            };
            let problems = std::mem::take(&mut local.diagnostics);
            (declared.entity, (declared.parent, problems))
        })
        .unzip();

    reports.extend(
        name_problems
            .into_iter()
            .enumerate()
            .filter_map(|(index, problems)| Some((index as u32, Report::Problems(problems?)))),
    );
    reports.extend(
        order
            .iter()
            .zip(address_problems)
            .filter(|(_, problems)| !problems.is_empty())
            .map(|(&index, problems)| (index, Report::Problems(problems))),
    );
    report_in_file_order(cx, &items, reports);

    let mut model = Model::default();
    model.entities = entities;
    link_parents(cx, &mut model, parents);
    inherit_ranges(&mut model);
    model
}

/// Which declaration claims each valid name, as the list of their indices in name order
/// (with [`BUILT_IN`] for `internet`), and the duplicates of each.
fn claim_names(
    items: &[Item<'_>],
    name_problems: &[Option<Vec<Diagnostic>>],
) -> (Vec<u32>, Vec<(u32, Report)>) {
    // Sorted by name and then by position, the declarations of one name lie together,
    // the first in file order leading: it claims the name, the others are duplicates.
    let mut keys: Vec<(&str, u32)> = items
        .iter()
        .zip(name_problems)
        .enumerate()
        .filter(|(_, (_, problems))| problems.is_none())
        .map(|(index, (item, _))| (item.fields.name.value.as_str(), index as u32))
        .chain([(INTERNET, BUILT_IN)])
        .collect();
    keys.par_sort_unstable();
    let mut reports: Vec<(u32, Report)> = Vec::new();
    let mut order: Vec<u32> = Vec::with_capacity(keys.len());
    let mut previous: Option<(&str, u32)> = None;
    for (name, index) in keys {
        match previous {
            Some((claimed, first)) if claimed == name => {
                reports.push((index, Report::Duplicate { first }));
            }
            _ => {
                previous = Some((name, index));
                order.push(index);
            }
        }
    }

    (order, reports)
}

/// Reports what was found, declaration by declaration. Each declaration has one report
/// at most, so that their order is the order in which checking them one after another
/// would have found the problems.
fn report_in_file_order(cx: &mut Context, items: &[Item<'_>], mut reports: Vec<(u32, Report)>) {
    reports.sort_unstable_by_key(|&(index, _)| index);
    for (index, report) in reports {
        match report {
            Report::Problems(problems) => cx.diagnostics.extend(problems),
            Report::Duplicate { first } => {
                if let (Some(item), Some(first)) =
                    (items.get(index as usize), items.get(first as usize))
                {
                    let at = cx.location(item.source, item.fields.name);
                    let first = cx.location(first.source, first.fields.name);
                    report_duplicate(cx, "entity", &item.fields.name.value, at, first);
                }
            }
        }
    }
}

/// Every declaration of every file, in file order and, within a file, environments,
/// segments, assets and then accounts.
fn items(files: &[ParsedFile]) -> Vec<Item<'_>> {
    let mut items = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let source = SourceId(index as u32);
        let raw = &file.raw;
        let item = |kind, fields| Item {
            source,
            imported: raw.imported,
            kind,
            fields,
        };
        let plain = [
            (EntityKind::Environment, &raw.environments),
            (EntityKind::Segment, &raw.segments),
            (EntityKind::Asset, &raw.assets),
        ];
        for (kind, list) in plain {
            items.extend(
                list.iter()
                    .flatten()
                    .map(|entity| item(kind, Fields::from(&entity.value))),
            );
        }
        items.extend(
            raw.accounts
                .iter()
                .flatten()
                .map(|account| item(EntityKind::Account, Fields::from(&account.value))),
        );
    }
    items
}

/// The built-in `internet`.
fn internet<'f>() -> Declared<'f> {
    Declared {
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
    }
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

/// Builds an entity whose name is valid and its own, reporting its bad addresses.
fn declare<'f>(cx: &mut Context, item: &Item<'f>) -> Declared<'f> {
    let (source, raw) = (item.source, &item.fields);
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
    Declared {
        entity: Entity {
            name: raw.name.value.clone(),
            kind: item.kind,
            parent: None,
            children: Vec::new(),
            cidrs,
            ranges: Vec::new(),
            tags,
            description: raw.description.cloned(),
            owner: raw.owner.cloned(),
            provider: raw.provider.cloned(),
            account_id: raw.id.cloned(),
            location: Some(cx.location(source, raw.name)),
        },
        parent: raw
            .parent
            .map(|parent| (parent.value.as_str(), cx.location(source, parent))),
    }
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

fn link_parents(cx: &mut Context, model: &mut Model, parents: Vec<Option<(&str, Location)>>) {
    // Every name is looked up on every core; what the answers mean is settled in order.
    let found: Vec<Option<EntityId>> = parents
        .par_iter()
        .map(|parent| parent.and_then(|(name, _)| model.find_entity(name)))
        .collect();
    for (index, (parent, found)) in parents.into_iter().zip(found).enumerate() {
        let Some((parent_name, at)) = parent else {
            continue;
        };
        let child = EntityId(index as u32);
        let Some(parent) = found else {
            let help = did_you_mean(
                parent_name,
                model.entities.iter().map(|entity| entity.name.as_str()),
            );
            cx.error(
                at,
                Problem::UnknownName {
                    what: "entity",
                    name: parent_name.to_owned(),
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
                    parent: parent_name.to_owned(),
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
    model.index_tree();
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
    let owner = model.nearest(|entity| !entity.cidrs.is_empty());
    // Copied on every core, then handed over: a leaf's ranges are a copy of another
    // entity's, which cannot be read while the leaf is written.
    let entities = &model.entities;
    let ranges: Vec<Option<Vec<IpNet>>> = entities
        .par_iter()
        .zip(&owner)
        .map(|(entity, from)| {
            let from = from.filter(|_| entity.is_leaf())?;
            Some(entities.get(from.index())?.cidrs.clone())
        })
        .collect();
    for (entity, ranges) in model.entities.iter_mut().zip(ranges) {
        if let Some(ranges) = ranges {
            entity.ranges = ranges;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::load::{self, Format, FoundFile};

    /// Parses `files` (display path and YAML or JSON text) in the order given.
    fn parsed(files: &[(&str, &str)]) -> Vec<ParsedFile> {
        files
            .iter()
            .map(|&(display, text)| {
                let found = FoundFile {
                    path: PathBuf::from(display),
                    display: display.to_owned(),
                    format: if display.ends_with(".json") {
                        Format::Json
                    } else {
                        Format::Yaml
                    },
                };
                let contents = load::parse(found, text.as_bytes().to_vec())
                    .unwrap_or_else(|problems| panic!("{problems:#?}"));
                contents
                    .policy
                    .unwrap_or_else(|| panic!("{display} holds no policy"))
            })
            .collect()
    }

    /// The entities of `files` and the problems in them, in the order found, each as
    /// `file:line:column: message (help)`.
    fn resolved(files: &[(&str, &str)]) -> (Model, Vec<String>) {
        let files = parsed(files);
        let mut cx = Context::empty(super::super::sources(&files));
        let model = resolve_entities(&mut cx, &files);
        let problems = cx
            .diagnostics
            .iter()
            .map(|d| {
                let help = d.help.as_deref().unwrap_or("-");
                format!("{}:{}:{}: {} ({help})", d.file, d.line, d.column, d.problem)
            })
            .collect();
        (model, problems)
    }

    const DUPLICATE: &str = "names must be unique: rename one of them";
    const ADDRESS: &str = "use an address such as `10.0.0.1` or a prefix such as `10.0.0.0/16`";

    #[test]
    fn duplicates_across_files_are_reported_in_file_order_against_the_first() {
        let (model, problems) = resolved(&[
            (
                "a.yaml",
                "segments:\n  - {name: web}\n  - {name: db, cidrs: [10.0.1.0/24]}\n",
            ),
            (
                "b.yaml",
                "segments:\n  - {name: db, cidrs: [bad-one]}\nassets:\n  - {name: web}\n",
            ),
            (
                "c.json",
                r#"{"accounts": [{"name": "db"}, {"name": "web"}]}"#,
            ),
        ]);
        let expected = [
            "b.yaml:2:12: duplicate entity name `db`, first defined at a.yaml:3:12",
            "b.yaml:4:12: duplicate entity name `web`, first defined at a.yaml:2:12",
            // Read without positions, both are at 0:0: only the order tells them apart.
            "c.json:0:0: duplicate entity name `db`, first defined at a.yaml:3:12",
            "c.json:0:0: duplicate entity name `web`, first defined at a.yaml:2:12",
        ];
        let expected: Vec<String> = expected
            .iter()
            .map(|e| format!("{e} ({DUPLICATE})"))
            .collect();
        assert_eq!(problems, expected);
        // The first declaration is the one kept: a duplicate's bad address goes unread.
        let db = model.find_entity("db").map(|id| model.entity(id));
        assert_eq!(db.map(|db| db.kind), Some(EntityKind::Segment));
        assert_eq!(
            db.map(|db| db.cidrs.clone()),
            Some(vec!["10.0.1.0/24".parse().unwrap()])
        );
    }

    #[test]
    fn bad_addresses_in_several_files_are_all_reported_in_file_order() {
        let (model, problems) = resolved(&[
            (
                "a.yaml",
                "segments:\n  - {name: web, cidrs: [10.0.0.0/33, 10.0.0.0/24]}\nassets:\n  - {name: h1, in: web, cidrs: [10.0.0.300, \"::g\"]}\n",
            ),
            (
                "b.yaml",
                "assets:\n  - {name: h2, in: web, cidrs: [1.2.3]}\n",
            ),
            (
                "c.json",
                r#"{"assets": [{"name": "h3", "cidrs": ["999.1.1.1"]}]}"#,
            ),
        ]);
        let expected = [
            "a.yaml:2:25: invalid address or prefix `10.0.0.0/33`",
            "a.yaml:4:33: invalid address or prefix `10.0.0.300`",
            "a.yaml:4:45: invalid address or prefix `::g`",
            "b.yaml:2:33: invalid address or prefix `1.2.3`",
            "c.json:0:0: invalid address or prefix `999.1.1.1`",
        ];
        let expected: Vec<String> = expected
            .iter()
            .map(|e| format!("{e} ({ADDRESS})"))
            .collect();
        assert_eq!(problems, expected);
        // Each entity keeps the addresses that do parse.
        let web = model
            .find_entity("web")
            .map(|id| model.entity(id).cidrs.clone());
        assert_eq!(web, Some(vec!["10.0.0.0/24".parse().unwrap()]));
    }

    #[test]
    fn a_missing_parent_is_reported_with_the_nearest_name() {
        let (model, problems) = resolved(&[(
            "a.yaml",
            "accounts:\n  - {name: account-1}\nsegments:\n  - {name: web, in: acount-1}\n",
        )]);
        assert_eq!(
            problems,
            ["a.yaml:4:21: unknown entity `acount-1` (did you mean `account-1`?)"]
        );
        let web = model.find_entity("web").map(|id| model.entity(id).parent);
        assert_eq!(web, Some(None));
    }

    #[test]
    fn invalid_names_are_reported_in_file_order_and_claim_nothing() {
        let (model, problems) = resolved(&[
            (
                "a.yaml",
                "segments:\n  - {name: internet}\n  - {name: \"web tier\"}\n  - {name: web-tier}\n",
            ),
            (
                "b.yaml",
                "segments:\n  - {name: \"10.1.0.0\"}\n  - {name: \"web tier\"}\n",
            ),
        ]);
        let expected = [
            "a.yaml:2:12: `internet` is a reserved name (`internet` and `any` are built in: choose another name)",
            "a.yaml:3:12: invalid entity name `web tier`: use letters, digits, `.`, `_` and `-` (did you mean `web-tier`?)",
            "b.yaml:2:12: invalid entity name `10.1.0.0`: use letters, digits, `.`, `_` and `-` (a name that reads as an address would be taken for an address selector)",
            "b.yaml:3:12: invalid entity name `web tier`: use letters, digits, `.`, `_` and `-` (did you mean `web-tier`?)",
        ];
        assert_eq!(problems, expected);
        let names: Vec<&str> = model.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["internet", "web-tier"]);
    }

    #[test]
    fn entities_are_sorted_by_name_with_internet_among_them() {
        let (model, problems) = resolved(&[
            (
                "a.yaml",
                "environments:\n  - {name: zz, cidrs: [10.0.0.0/8]}\nsegments:\n  - {name: jj, in: zz, tags: [b, a, b]}\n",
            ),
            (
                "b.yaml",
                "assets:\n  - {name: aa, in: jj}\n  - {name: kk, in: jj}\n",
            ),
        ]);
        assert!(problems.is_empty(), "{problems:#?}");
        let names: Vec<&str> = model.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["aa", "internet", "jj", "kk", "zz"]);
        let jj = model.find_entity("jj").map(|id| model.entity(id));
        assert_eq!(
            jj.map(|jj| jj.tags.clone()),
            Some(vec!["a".into(), "b".into()])
        );
        // Leaves take the nearest range around them.
        let aa = model
            .find_entity("aa")
            .map(|id| model.entity(id).ranges.clone());
        assert_eq!(aa, Some(vec!["10.0.0.0/8".parse().unwrap()]));
        let internet = model.internet().map(|id| model.entity(id));
        assert_eq!(internet.map(|i| i.location), Some(None));
    }
}
