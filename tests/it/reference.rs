//! The engine against a deliberately naive reference implementation on random models.
//!
//! The reference knows nothing of the graph: it expands every flow to the leaves its
//! selectors cover, runs a plain breadth-first search level by level, and computes the
//! credentials the attacker holds by repeating the whole search until nothing changes.
//! The engine must agree with it on every leaf's fewest hops, its witnesses must be real
//! paths, and `check` must give the verdicts the reference predicts.
//!
//! The reference does not trust the resolver either. The generator writes each flow's
//! and credential's selector text into its `description`, and the reference resolves it
//! on its own, address by address for IP selectors.

use std::collections::{BTreeMap, BTreeSet};

use cordon::engine::Engine;
use cordon::graph::ReachGraph;
use cordon::model::{EntityId, Model, Selection};
use cordon::policy::model_from_text;
use cordon::ports::{PortSpec, any_overlap};
use proptest::prelude::*;

/// A small deterministic generator, so that a failing seed reproduces.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub(crate) const PORTS: [&str; 5] = ["tcp/22", "tcp/443", "udp/53", "tcp/8000-8100", "any"];

/// The address space the generator draws ranges from, small enough for the reference
/// to look at one address at a time.
const SPACE: u32 = 0x0a00_0000; // 10.0.0.0/26
const SPACE_LEN: u8 = 26;

/// A random prefix of length `min_len..=32` inside `within`.
fn random_prefix(rng: &mut Rng, within: (u32, u8), min_len: u8) -> (u32, u8) {
    let (base, len) = within;
    let min_len = min_len.max(len);
    let new_len = min_len + rng.below(usize::from(33 - min_len)) as u8;
    let free_bits = u32::from(new_len - len);
    let offset = if free_bits == 0 {
        0
    } else {
        (rng.next() as u32 % (1 << free_bits)) << (32 - new_len)
    };
    (base | offset, new_len)
}

fn prefix_text((base, len): (u32, u8)) -> String {
    format!("{}/{len}", std::net::Ipv4Addr::from(base))
}

/// A random estate as YAML: entities in a random containment tree, some owning address
/// ranges (nested in their parent's, or anywhere), tags, credentials, and flows between
/// random selectors, addresses among them.
pub(crate) fn random_estate(rng: &mut Rng) -> (String, usize) {
    let kinds = ["assets", "segments", "accounts", "environments"];
    let count = 2 + rng.below(9);
    let mut ranks = Vec::new();
    // The range each entity declares or inherits, to nest its children's in.
    let mut ranges: Vec<Option<(u32, u8)>> = Vec::new();
    let mut sections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for i in 0..count {
        let rank = rng.below(4);
        let parents: Vec<usize> = (0..i)
            .filter(|&p| ranks[p] >= rank && ranks[p] > 0)
            .collect();
        let mut line = format!("  - name: e{i}\n");
        let mut parent = None;
        if !parents.is_empty() && rng.chance(60) {
            let p = parents[rng.below(parents.len())];
            parent = Some(p);
            line.push_str(&format!("    in: e{p}\n"));
        }
        let inherited = parent.and_then(|p| ranges[p]);
        let mut range = inherited;
        if rng.chance(50) {
            let own = match inherited {
                Some(outer) if rng.chance(75) => random_prefix(rng, outer, outer.1),
                _ => random_prefix(rng, (SPACE, SPACE_LEN), SPACE_LEN),
            };
            line.push_str(&format!("    cidrs: [{}]\n", prefix_text(own)));
            range = Some(own);
        }
        if rng.chance(30) {
            line.push_str(&format!("    tags: [t{}]\n", rng.below(2)));
        }
        ranks.push(rank);
        ranges.push(range);
        sections.entry(kinds[rank]).or_default().push(line);
    }
    let mut yaml = String::new();
    for (kind, items) in &sections {
        yaml.push_str(&format!("{kind}:\n"));
        for item in items {
            yaml.push_str(item);
        }
    }
    let tags: Vec<String> = (0..2)
        .filter(|t| yaml.contains(&format!("[t{t}]")))
        .map(|t| format!("tag:t{t}"))
        .collect();
    let mut selectors: Vec<String> = (0..count).map(|i| format!("e{i}")).collect();
    selectors.push("internet".to_owned());
    // Addresses reach one prefix length past the space, into undeclared ones.
    let addresses: Vec<String> = (0..3)
        .map(|_| prefix_text(random_prefix(rng, (SPACE, SPACE_LEN - 1), SPACE_LEN - 1)))
        .collect();
    let flow_selectors: Vec<String> = selectors
        .iter()
        .cloned()
        .chain(tags)
        .chain(addresses.iter().cloned())
        .chain(["any".to_owned()])
        .collect();
    let holder_selectors: Vec<String> = selectors.iter().cloned().chain(addresses).collect();
    let credentials = rng.below(4);
    if credentials > 0 {
        yaml.push_str("credentials:\n");
        for c in 0..credentials {
            yaml.push_str(&format!("  - name: c{c}\n"));
            if rng.chance(80) {
                let held_by = &holder_selectors[rng.below(holder_selectors.len())];
                yaml.push_str(&format!(
                    "    held_by: {held_by}\n    description: \"{held_by}\"\n"
                ));
            }
            if rng.chance(25) {
                yaml.push_str("    leaked: true\n");
            }
            if rng.chance(20) {
                yaml.push_str("    status: revoked\n");
            }
        }
    }
    let flows = rng.below(14);
    if flows > 0 {
        yaml.push_str("flows:\n");
        for _ in 0..flows {
            let from = &flow_selectors[rng.below(flow_selectors.len())];
            let to = &flow_selectors[rng.below(flow_selectors.len())];
            yaml.push_str(&format!(
                "  - from: {from}\n    to: {to}\n    description: \"{from} {to}\"\n"
            ));
            if rng.chance(40) {
                yaml.push_str(&format!("    ports: [{}]\n", PORTS[rng.below(PORTS.len())]));
            }
            if credentials > 0 && rng.chance(35) {
                yaml.push_str(&format!("    auth: [c{}]\n", rng.below(credentials)));
            }
        }
    }
    (yaml, count)
}

/// The reference's own reading of a selector: the entities it names, tags or covers,
/// and everything inside them.
fn naive_select(model: &Model, text: &str) -> BTreeSet<EntityId> {
    let roots: Vec<EntityId> = if text == "any" {
        model.entity_ids().collect()
    } else if let Some(tag) = text.strip_prefix("tag:") {
        model
            .entity_ids()
            .filter(|&id| model.entity(id).tags.iter().any(|t| t == tag))
            .collect()
    } else if let Ok(net) = text.parse::<ipnet::Ipv4Net>() {
        naive_by_address(model, net)
    } else {
        vec![model.find_entity(text).unwrap()]
    };
    model
        .entity_ids()
        .filter(|&id| model.ancestors(id).any(|a| roots.contains(&a)))
        .collect()
}

/// An address selector, one address at a time: the leaves whose ranges (own, or else
/// their nearest ancestor's) hold it; when none does, the innermost entity owning it
/// (longest prefix, then deepest); when nobody owns it, `internet`.
fn naive_by_address(model: &Model, net: ipnet::Ipv4Net) -> Vec<EntityId> {
    let holds = |entity: EntityId, address: std::net::Ipv4Addr| -> Option<u8> {
        model
            .entity(entity)
            .cidrs
            .iter()
            .filter_map(|range| match range {
                ipnet::IpNet::V4(v4) if v4.contains(&address) => Some(v4.prefix_len()),
                _ => None,
            })
            .max()
    };
    let mut picked = BTreeSet::new();
    for address in net.hosts().chain([net.network(), net.broadcast()]) {
        let leaves: Vec<EntityId> = model
            .entity_ids()
            .filter(|&id| model.entity(id).is_leaf())
            .filter(|&leaf| {
                model
                    .ancestors(leaf)
                    .find(|&a| !model.entity(a).cidrs.is_empty())
                    .is_some_and(|a| holds(a, address).is_some())
            })
            .collect();
        if !leaves.is_empty() {
            picked.extend(leaves);
            continue;
        }
        let owners: Vec<(u8, EntityId)> = model
            .entity_ids()
            .filter_map(|id| holds(id, address).map(|len| (len, id)))
            .collect();
        let Some(&(longest, _)) = owners.iter().max() else {
            picked.extend(model.internet());
            continue;
        };
        let innermost: Vec<EntityId> = owners
            .iter()
            .filter(|&&(len, _)| len == longest)
            .map(|&(_, id)| id)
            .collect();
        picked.extend(innermost.iter().copied().filter(|&outer| {
            !innermost
                .iter()
                .any(|&inner| inner != outer && model.ancestors(inner).any(|a| a == outer))
        }));
    }
    picked.into_iter().collect()
}

/// Whom a flow connects, by the reference's reading of the selectors the generator
/// recorded; the resolver's for flows made elsewhere.
fn flow_ends(
    model: &Model,
    flow: &cordon::model::Flow,
) -> (BTreeSet<EntityId>, BTreeSet<EntityId>) {
    match flow.description().and_then(|d| d.split_once(' ')) {
        Some((from, to)) => (naive_select(model, from), naive_select(model, to)),
        None => {
            let all = |selection: &Selection| {
                model
                    .entity_ids()
                    .filter(|&id| selection.contains(model, id))
                    .collect()
            };
            (all(&flow.from), all(&flow.to))
        }
    }
}

/// Who holds a credential, by the reference's reading.
fn holders(model: &Model, credential: &cordon::model::Credential) -> BTreeSet<EntityId> {
    match credential.description.as_deref() {
        Some(held_by) => naive_select(model, held_by),
        None => model
            .entity_ids()
            .filter(|&id| credential.holders.contains(model, id))
            .collect(),
    }
}

/// The reference: fewest flows to every leaf outside `start`, the last flow allowing
/// `ports`, with `blocked` entities taken out; and the credentials held.
pub(crate) fn naive(
    model: &Model,
    start: &Selection,
    blocked: &Selection,
    ports: &[PortSpec],
) -> (BTreeMap<EntityId, u32>, BTreeSet<usize>) {
    // Every entity the attacker can come to control; only leaves act as sources.
    let entities: Vec<EntityId> = model
        .entity_ids()
        .filter(|&id| !blocked.contains(model, id))
        .collect();
    let mut held: BTreeSet<usize> = model
        .credentials
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_active() && c.leaked)
        .map(|(i, _)| i)
        .collect();
    let holders: Vec<BTreeSet<EntityId>> = model
        .credentials
        .iter()
        .map(|credential| holders(model, credential))
        .collect();
    // Fixpoint by repetition: search, collect credentials, search again.
    loop {
        let level = levels(model, &entities, start, &held);
        let mut next = held.clone();
        for (i, credential) in model.credentials.iter().enumerate() {
            if credential.is_active() && level.keys().any(|entity| holders[i].contains(entity)) {
                next.insert(i);
            }
        }
        if next == held {
            break;
        }
        held = next;
    }
    let level = levels(model, &entities, start, &held);
    let mut hops = BTreeMap::new();
    for flow in &model.flows {
        if !open(flow, &held, model) || !any_overlap(flow.ports(), ports) {
            continue;
        }
        let (from, to) = flow_ends(model, flow);
        let Some(source) = level
            .iter()
            .filter(|&(e, _)| model.entity(*e).is_leaf() && from.contains(e))
            .map(|(_, &d)| d)
            .min()
        else {
            continue;
        };
        for &leaf in &entities {
            if model.entity(leaf).is_leaf() && to.contains(&leaf) && !start.contains(model, leaf) {
                let entry = hops.entry(leaf).or_insert(u32::MAX);
                *entry = (*entry).min(source + 1);
            }
        }
    }
    (hops, held)
}

fn open(flow: &cordon::model::Flow, held: &BTreeSet<usize>, model: &Model) -> bool {
    flow.auth().is_empty()
        || flow
            .auth()
            .iter()
            .any(|c| held.contains(&c.index()) && model.credential(*c).is_active())
}

/// Plain breadth-first search, one level per flow: a flow whose source covers a
/// controlled leaf gives control of everything its target covers.
pub(crate) fn levels(
    model: &Model,
    entities: &[EntityId],
    start: &Selection,
    held: &BTreeSet<usize>,
) -> BTreeMap<EntityId, u32> {
    let mut level: BTreeMap<EntityId, u32> = entities
        .iter()
        .filter(|&&e| start.contains(model, e))
        .map(|&e| (e, 0))
        .collect();
    let ends: Vec<_> = model
        .flows
        .iter()
        .map(|flow| flow_ends(model, flow))
        .collect();
    let mut depth = 0;
    loop {
        let frontier: Vec<EntityId> = level
            .iter()
            .filter(|&(&e, &d)| d == depth && model.entity(e).is_leaf())
            .map(|(&e, _)| e)
            .collect();
        if frontier.is_empty() && !level.values().any(|&d| d > depth) {
            return level;
        }
        for (flow, (from, to)) in model.flows.iter().zip(&ends) {
            if !open(flow, held, model) || !frontier.iter().any(|l| from.contains(l)) {
                continue;
            }
            for entity in entities {
                if to.contains(entity) {
                    level.entry(*entity).or_insert(depth + 1);
                }
            }
        }
        depth += 1;
    }
}

pub(crate) fn selection_of(model: &Model, name: &str) -> Selection {
    let id = model.find_entity(name).unwrap();
    Selection::from_entities(model, vec![id])
}

fn compare(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let model = match model_from_text("random.yaml", &yaml) {
        Ok(model) => model,
        Err(problems) => panic!("generated an invalid model:\n{yaml}\n{problems:#?}"),
    };
    let graph = ReachGraph::build(&model);
    let engine = Engine::new(&model, &graph);
    let names: Vec<String> = (0..count)
        .map(|i| format!("e{i}"))
        .chain(["internet".to_owned()])
        .collect();
    for _ in 0..6 {
        let start = selection_of(&model, &names[rng.below(names.len())]);
        let via = selection_of(&model, &names[rng.below(names.len())]);
        let blocked = if rng.chance(40) && start.overlap(&model, &via).is_none() {
            via
        } else {
            Selection::default()
        };
        let ports: Vec<PortSpec> = if rng.chance(40) {
            vec![PORTS[rng.below(PORTS.len())].parse().unwrap()]
        } else {
            Vec::new()
        };
        let (expected, held) = naive(&model, &start, &blocked, &ports);
        let mut mask = vec![false; model.entities.len()];
        for member in blocked.members(&model) {
            mask[member.index()] = true;
        }
        let mut workspace = engine.workspace();
        // Without `via`, the fixpoint runs on components; with it, on nodes.
        let blocked_mask = (!blocked.is_empty()).then_some(mask.as_slice());
        // The rounds of a story: on components with nothing blocked, as on nodes.
        if blocked.is_empty() {
            assert_eq!(
                engine.rounds(&mut workspace, &start, None),
                engine.rounds(&mut workspace, &start, Some(&mask)),
                "rounds from {start:?}\n{yaml}"
            );
        }
        engine.fixpoint(&mut workspace, &start, blocked_mask);
        engine.shortest(&mut workspace, &start, blocked_mask, None);
        let landings = engine.landings(&workspace, &ports);
        let mut actual = BTreeMap::new();
        for id in model.entity_ids() {
            let entity = model.entity(id);
            if !entity.is_leaf() || start.contains(&model, id) || mask[id.index()] {
                continue;
            }
            if let Some(landing) = landings[id.index()] {
                actual.insert(id, landing.hops);
                let steps = engine.witness_landing(&workspace, id, landing);
                assert_valid_witness(
                    &model,
                    &start,
                    &mask,
                    &ports,
                    &held,
                    id,
                    landing.hops,
                    &steps,
                    &yaml,
                );
            }
        }
        assert_eq!(
            actual, expected,
            "start {start:?} blocked {blocked:?} ports {ports:?}\n{yaml}"
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn assert_valid_witness(
    model: &Model,
    start: &Selection,
    mask: &[bool],
    ports: &[PortSpec],
    held: &BTreeSet<usize>,
    target: EntityId,
    hops: u32,
    steps: &[cordon::engine::Step],
    yaml: &str,
) {
    assert_eq!(steps.len(), hops as usize, "witness length\n{yaml}");
    assert!(
        start.contains(model, steps[0].from),
        "witness starts in the start\n{yaml}"
    );
    assert_eq!(
        steps.last().unwrap().to,
        target,
        "witness ends at the target\n{yaml}"
    );
    for pair in steps.windows(2) {
        assert_eq!(pair[0].to, pair[1].from, "hops chain\n{yaml}");
    }
    for step in steps {
        let flow = model.flow(step.flow);
        assert!(model.entity(step.from).is_leaf() && model.entity(step.to).is_leaf());
        assert!(
            flow.from.contains(model, step.from),
            "flow covers its source\n{yaml}"
        );
        assert!(
            flow.to.contains(model, step.to),
            "flow covers its target\n{yaml}"
        );
        assert!(
            !mask[step.from.index()] && !mask[step.to.index()],
            "avoids via\n{yaml}"
        );
        if flow.auth().is_empty() {
            assert!(step.credential.is_none());
        } else {
            let (credential, _) = step.credential.expect("an auth flow names its credential");
            assert!(
                flow.auth().contains(&credential) && held.contains(&credential.index()),
                "credential {credential:?} held {held:?}\n{yaml}"
            );
        }
    }
    let last = model.flow(steps.last().unwrap().flow);
    assert!(
        any_overlap(last.ports(), ports),
        "the last flow allows the ports\n{yaml}"
    );
}

/// `check` verdicts on random invariants agree with the reference.
fn compare_check(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let Ok(model) = model_from_text("random.yaml", &yaml) else {
        panic!("generated an invalid model:\n{yaml}");
    };
    let names: Vec<String> = (0..count)
        .map(|i| format!("e{i}"))
        .chain(["internet".to_owned()])
        .collect();
    let mut invariants = String::from("invariants:\n");
    let mut expected = Vec::new();
    for n in 0..6 {
        let from = &names[rng.below(names.len())];
        let to = &names[rng.below(names.len())];
        let via = &names[rng.below(names.len())];
        let (a, b, v) = (
            selection_of(&model, from),
            selection_of(&model, to),
            selection_of(&model, via),
        );
        if a.overlap(&model, &b).is_some() {
            continue;
        }
        let target_hops = |blocked: &Selection, ports: &[PortSpec]| {
            let (hops, _) = naive(&model, &a, blocked, ports);
            b.leaves(&model)
                .iter()
                .filter_map(|l| hops.get(l).copied())
                .min()
        };
        if rng.chance(30) && v.overlap(&model, &a).is_none() && v.overlap(&model, &b).is_none() {
            invariants.push_str(&format!(
                "  - {{name: i{n}, through: {{from: {from}, to: {to}, via: {via}}}}}\n"
            ));
            expected.push((
                format!("i{n}"),
                if target_hops(&v, &[]).is_some() {
                    "fail"
                } else {
                    "pass"
                },
            ));
        } else {
            let port = PORTS[rng.below(PORTS.len())];
            let direct = rng.chance(30);
            invariants.push_str(&format!(
                "  - {{name: i{n}, forbid: {{from: {from}, to: {to}, ports: [{port}], direct: {direct}}}}}\n"
            ));
            let hops = target_hops(&Selection::default(), &[port.parse().unwrap()]);
            let reached = hops.is_some_and(|h| !direct || h == 1);
            expected.push((format!("i{n}"), if reached { "fail" } else { "pass" }));
        }
    }
    let full = format!("{yaml}{invariants}");
    let model = model_from_text("random.yaml", &full).unwrap_or_else(|p| panic!("{full}\n{p:#?}"));
    let report = cordon::check::check(&model, "2024-01-01".parse().unwrap());
    let actual: Vec<(String, &str)> = report
        .results
        .iter()
        .map(|r| (r.name.clone(), r.status.as_str()))
        .collect();
    assert_eq!(actual, expected, "\n{full}");
}

/// `reach --to` agrees with a forward reference search from every leaf alone.
fn compare_reach_to(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let Ok(model) = model_from_text("random.yaml", &yaml) else {
        panic!("generated an invalid model:\n{yaml}");
    };
    let target = selection_of(&model, &format!("e{}", rng.below(count)));
    let ports: Vec<PortSpec> = if rng.chance(40) {
        vec![PORTS[rng.below(PORTS.len())].parse().unwrap()]
    } else {
        Vec::new()
    };
    let mut expected = Vec::new();
    for id in model.entity_ids() {
        if !model.entity(id).is_leaf() || target.contains(&model, id) {
            continue;
        }
        let alone = Selection::from_entities(&model, vec![id]);
        let (hops, _) = naive(&model, &alone, &Selection::default(), &ports);
        if let Some(best) = target
            .leaves(&model)
            .iter()
            .filter_map(|l| hops.get(l))
            .min()
        {
            expected.push((id, *best));
        }
    }
    let actual = cordon::reach::reach_to(&model, &target, &ports);
    assert_eq!(actual, expected, "to {target:?} ports {ports:?}\n{yaml}");
}

/// Every matrix cell agrees with a reference search from its row, and no reachable
/// pair is missing.
fn compare_matrix(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, _) = random_estate(&mut rng);
    let Ok(model) = model_from_text("random.yaml", &yaml) else {
        panic!("generated an invalid model:\n{yaml}");
    };
    use cordon::model::EntityKind;
    for kind in [
        EntityKind::Environment,
        EntityKind::Account,
        EntityKind::Segment,
    ] {
        let report = cordon::matrix::matrix(&model, kind, false);
        let mut expected = Vec::new();
        for (row, from) in report.entities.iter().enumerate() {
            let start = selection_of(&model, from);
            let (hops, _) = naive(&model, &start, &Selection::default(), &[]);
            for (column, to) in report.entities.iter().enumerate() {
                let target = selection_of(&model, to);
                if row == column || target.overlap(&model, &start).is_some() {
                    continue;
                }
                if let Some(best) = target
                    .leaves(&model)
                    .iter()
                    .filter_map(|l| hops.get(l))
                    .min()
                {
                    expected.push((row, column, *best));
                }
            }
        }
        let actual: Vec<(usize, usize, u32)> = report
            .cells
            .iter()
            .map(|c| (c.from, c.to, c.hops))
            .collect();
        assert_eq!(actual, expected, "{kind:?}\n{yaml}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::harness::oracle_cases()))]

    #[test]
    fn engine_agrees_with_the_naive_reference(seed in any::<u64>()) {
        compare(seed);
    }

    #[test]
    fn check_verdicts_agree_with_the_naive_reference(seed in any::<u64>()) {
        compare_check(seed);
    }

    #[test]
    fn reach_to_agrees_with_the_naive_reference(seed in any::<u64>()) {
        compare_reach_to(seed);
    }

    #[test]
    fn matrix_agrees_with_the_naive_reference(seed in any::<u64>()) {
        compare_matrix(seed);
    }
}
