//! `path`'s cut against brute force: on small random models with credentials, removing
//! the cut must isolate the ends on the model as it is (credentials recomputed without
//! the removed flows), no smaller set of flows may, and the credentials whose
//! revocation alone isolates must be exactly those listed. Then the example
//! through the real binary, and what a stopped search says.

use cordon::cut::{Cut, isolate, isolate_within};
use cordon::graph::ReachGraph;
use cordon::model::{CredentialStatus, Model, Selection};
use cordon::policy::model_from_text;
use cordon::ports::PortSpec;
use proptest::prelude::*;

use crate::harness::Cordon;
use crate::reference::{PORTS, Rng, levels, naive, random_estate, selection_of};

/// Whether `from` reaches `to` (the last flow allowing `ports`) in the naive reference,
/// with the flows `removed` gone and the credentials `revoked` revoked; the attacker's
/// credentials are recomputed on what remains.
fn reaches(
    model: &Model,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
    removed: &[usize],
    revoked: &[usize],
) -> bool {
    let mut trimmed = model.clone();
    trimmed.flows = model
        .flows
        .iter()
        .enumerate()
        .filter(|(index, _)| !removed.contains(index))
        .map(|(_, flow)| flow.clone())
        .collect();
    for &credential in revoked {
        trimmed.credentials[credential].status = CredentialStatus::Revoked;
    }
    let (hops, held) = naive(&trimmed, from, &Selection::default(), ports);
    if ports.is_empty() {
        // Landing in a selected group counts, as it does for the engine.
        let entities: Vec<_> = trimmed.entity_ids().collect();
        levels(&trimmed, &entities, from, &held)
            .keys()
            .any(|&entity| to.contains(model, entity))
    } else {
        to.leaves(model).iter().any(|leaf| hops.contains_key(leaf))
    }
}

/// Every set of `size` indices below `count`, in lexicographic order.
fn subsets(count: usize, size: usize) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    let mut current = Vec::new();
    fn extend(
        start: usize,
        count: usize,
        size: usize,
        current: &mut Vec<usize>,
        all: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == size {
            all.push(current.clone());
            return;
        }
        for next in start..count {
            current.push(next);
            extend(next + 1, count, size, current, all);
            current.pop();
        }
    }
    extend(0, count, size, &mut current, &mut all);
    all
}

fn compare_cut(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let Ok(model) = model_from_text("random.yaml", &yaml) else {
        panic!("generated an invalid model:\n{yaml}");
    };
    let from = selection_of(&model, &format!("e{}", rng.below(count)));
    let to = selection_of(&model, &format!("e{}", rng.below(count)));
    if from.overlap(&model, &to).is_some() {
        return;
    }
    // With ports, the reference only lands on leaves; a selected group with no leaf
    // inside would be reached by the engine alone.
    let ports: Vec<PortSpec> = if rng.chance(30) {
        vec![PORTS[rng.below(PORTS.len())].parse().unwrap()]
    } else {
        Vec::new()
    };
    let leaves = to.leaves(&model);
    if !ports.is_empty()
        && to.members(&model).iter().any(|&member| {
            !leaves
                .iter()
                .any(|&l| model.ancestors(l).any(|a| a == member))
        })
    {
        return;
    }
    let graph = ReachGraph::build(&model);
    let Some(isolation) = isolate(&model, &graph, &from, &to, &ports) else {
        panic!("no cut for disjoint ends\n{yaml}");
    };
    let Cut {
        flows,
        exact,
        lower_bound,
    } = &isolation.cut;
    let cut: Vec<usize> = flows.iter().map(|f| f.index()).collect();
    let context = format!("from {from:?} to {to:?} ports {ports:?} cut {cut:?}\n{yaml}");
    assert!(*exact, "a small model is settled exactly\n{context}");
    assert_eq!(*lower_bound, cut.len(), "{context}");
    assert!(
        !reaches(&model, &from, &to, &ports, &cut, &[]),
        "the cut isolates\n{context}"
    );
    // No smaller set does.
    for size in 0..cut.len() {
        for subset in subsets(model.flows.len(), size) {
            assert!(
                reaches(&model, &from, &to, &ports, &subset, &[]),
                "{subset:?} is smaller than the cut and isolates\n{context}"
            );
        }
    }
    if !cut.is_empty() {
        let expected: Vec<usize> = (0..model.credentials.len())
            .filter(|&c| !reaches(&model, &from, &to, &ports, &[], &[c]))
            .collect();
        let actual: Vec<usize> = isolation.revocations.iter().map(|c| c.index()).collect();
        assert_eq!(actual, expected, "revocations\n{context}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::harness::oracle_cases()))]

    #[test]
    fn the_cut_is_a_minimum_on_the_model_as_it_is(seed in any::<u64>()) {
        compare_cut(seed);
    }
}

/// The example: `to-vault` is the only way to the holder of `key`, which every
/// flow into the target needs. The maximum flow over the final fixpoint proposes the two
/// flows into the target; removing `to-vault` alone does it.
const ONE_FLOW_TO_THE_HOLDER: &str = "
segments:
  - {name: target}
assets:
  - {name: attacker}
  - {name: vault}
  - {name: t1, in: target}
  - {name: t2, in: target}
credentials:
  - {name: key, held_by: vault}
flows:
  - {name: to-vault, from: attacker, to: vault}
  - {name: to-t1, from: attacker, to: t1, auth: [key]}
  - {name: to-t2, from: attacker, to: t2, auth: [key]}
";

#[test]
fn one_flow_to_a_credential_holder_is_the_whole_cut() {
    let out = Cordon::new()
        .file("policy.yaml", ONE_FLOW_TO_THE_HOLDER)
        .args([
            "path", ".", "--from", "attacker", "--to", "target", "--format", "json",
        ])
        .run();
    out.code(0);
    assert_eq!(
        out.json()["cut"],
        serde_json::json!({"flows": ["to-vault"], "exact": true, "lower_bound": 1})
    );
    assert_eq!(out.json()["revocations"], serde_json::json!(["key"]));
}

#[test]
fn a_stopped_search_says_its_cut_is_an_upper_bound() {
    let model = model_from_text("policy.yaml", ONE_FLOW_TO_THE_HOLDER).unwrap();
    let graph = ReachGraph::build(&model);
    let from = selection_of(&model, "attacker");
    let to = selection_of(&model, "target");
    // No budget at all: the maximum-flow cut stands, unproven.
    let isolation = isolate_within(&model, &graph, &from, &to, &[], 0).unwrap();
    let found = cordon::path::find_paths(&model, &from, &to, &[], 1);
    let report = cordon::path::report(
        &model,
        vec!["attacker".to_owned()],
        vec!["target".to_owned()],
        &[],
        &found,
        &isolation,
    );
    let json: serde_json::Value =
        serde_json::from_str(&cordon::render::json::path(&report)).unwrap();
    assert_eq!(
        json["cut"],
        serde_json::json!({"flows": ["to-t1", "to-t2"], "exact": false, "lower_bound": 1})
    );
    let text = cordon::render::text::path(&report);
    assert!(
        text.contains("remove or narrow 2 flows")
            && text.contains("an upper bound: the search stopped before proving it the fewest; at least 1 flow must go"),
        "{text}"
    );
}
