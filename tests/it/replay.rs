//! Stories replayed: on random models, an attacker who starts in `from`, plays every
//! acquisition in order and then the witness, hop by hop, only ever crosses a flow from
//! an entity it already controls, with a credential it already holds.
//!
//! The replay knows nothing of the engine. It keeps the entities controlled (the start
//! and everything inside it, then each leaf a hop lands on) and the credentials held
//! (leaked ones, and those of any holder controlled, a leaf inside a holder counting),
//! and checks every hop against the model. It also checks that the story is complete:
//! every credential a path uses that was neither leaked nor held at the start has its
//! own acquisition, told before the path that uses it.

use std::collections::{BTreeMap, BTreeSet};

use cordon::engine::{Holding, Step};
use cordon::model::{CredentialId, EntityId, FlowId, Model, Selection};
use cordon::policy::model_from_text;
use cordon::report::{Acquisition, Hop, Obtained, Status};
use cordon::story::Acquired;
use proptest::prelude::*;

use crate::reference::{Rng, random_estate, selection_of};

/// An attacker replaying a story.
struct Replay<'m> {
    model: &'m Model,
    blocked: Selection,
    controlled: BTreeSet<EntityId>,
    held: BTreeSet<CredentialId>,
    /// Held before any hop: leaked, or held by an entity of the start.
    at_start: BTreeSet<CredentialId>,
    /// Credentials whose acquisition has been told so far.
    told: BTreeSet<CredentialId>,
    context: String,
}

impl<'m> Replay<'m> {
    fn new(model: &'m Model, start: &Selection, blocked: Selection, context: String) -> Self {
        let mut replay = Replay {
            model,
            blocked,
            controlled: BTreeSet::new(),
            held: BTreeSet::new(),
            at_start: BTreeSet::new(),
            told: BTreeSet::new(),
            context,
        };
        for (index, credential) in model.credentials.iter().enumerate() {
            if credential.is_active() && credential.leaked {
                replay.held.insert(CredentialId(index as u32));
            }
        }
        for member in start.members(model) {
            replay.control(member);
        }
        replay.at_start = replay.held.clone();
        replay
    }

    /// Takes control of `entity`, and of the credentials it holds.
    fn control(&mut self, entity: EntityId) {
        assert!(
            !self.blocked.contains(self.model, entity),
            "the story passes through `via` at {}\n{}",
            self.model.entity(entity).name,
            self.context
        );
        self.controlled.insert(entity);
        for (index, credential) in self.model.credentials.iter().enumerate() {
            if credential.is_active() && credential.holders.contains(self.model, entity) {
                self.held.insert(CredentialId(index as u32));
            }
        }
    }

    /// Crosses one hop, checking that the attacker may.
    fn cross(&mut self, step: &Step) {
        let model = self.model;
        let flow = model.flow(step.flow);
        let name = |id: EntityId| model.entity(id).name.clone();
        let context = &self.context;
        assert!(
            self.controlled.contains(&step.from),
            "{} -> {}: {} is not controlled yet\n{context}",
            name(step.from),
            name(step.to),
            name(step.from)
        );
        assert!(
            flow.from.contains(model, step.from) && flow.to.contains(model, step.to),
            "{} -> {}: the flow does not cover its ends\n{context}",
            name(step.from),
            name(step.to)
        );
        // A hop lands on a leaf, or on a group all of whose leaves `via` takes out: the
        // group is still reached, and holds its credentials.
        let leaves = Selection::from_entities(model, vec![step.to]).leaves(model);
        assert!(
            leaves
                .iter()
                .all(|&leaf| leaf == step.to || self.blocked.contains(model, leaf)),
            "{} -> {}: a hop lands on a leaf\n{context}",
            name(step.from),
            name(step.to)
        );
        match step.credential {
            None => assert!(
                flow.auth().is_empty(),
                "{} -> {}: a flow with auth crossed without a credential\n{context}",
                name(step.from),
                name(step.to)
            ),
            Some((credential, holding)) => {
                let credential_name = &model.credential(credential).name;
                assert!(
                    flow.auth().contains(&credential),
                    "{credential_name} does not open the flow\n{context}"
                );
                assert!(
                    self.held.contains(&credential),
                    "{} -> {}: {credential_name} is not held yet\n{context}",
                    name(step.from),
                    name(step.to)
                );
                if !self.at_start.contains(&credential) {
                    assert!(
                        self.told.contains(&credential),
                        "{credential_name} is used before its acquisition is told\n{context}"
                    );
                }
                match holding {
                    Holding::Leaked => assert!(
                        model.credential(credential).leaked,
                        "{credential_name} is said to have leaked\n{context}"
                    ),
                    Holding::From { entity, .. } => assert!(
                        self.controlled.contains(&entity)
                            && model.credential(credential).holders.contains(model, entity),
                        "{credential_name} is said to come from {}, not a controlled holder\n{context}",
                        name(entity)
                    ),
                }
            }
        }
        self.control(step.to);
    }

    /// Plays one acquisition: its path, then taking the credential on its holder.
    fn acquire(&mut self, acquired: &Acquired) {
        let model = self.model;
        let credential = model.credential(acquired.credential);
        assert!(
            !self.at_start.contains(&acquired.credential),
            "{} is acquired though held from the start\n{}",
            credential.name,
            self.context
        );
        assert!(
            self.told.insert(acquired.credential),
            "{} is acquired twice\n{}",
            credential.name,
            self.context
        );
        for step in &acquired.path {
            self.cross(step);
        }
        if let (Some(first), Some(last)) = (acquired.path.first(), acquired.path.last()) {
            assert!(self.controlled.contains(&first.from));
            assert_eq!(last.to, acquired.holder, "the path ends at the holder");
        }
        assert!(
            self.controlled.contains(&acquired.holder)
                && credential.holders.contains(model, acquired.holder),
            "{} is taken on {}, which the story does not control or which does not hold it\n{}",
            credential.name,
            model.entity(acquired.holder).name,
            self.context
        );
    }

    /// Plays a whole story, then the witness, which must end in `to`.
    fn story(&mut self, story: &[Acquired], witness: &[Step], to: &Selection) {
        for acquired in story {
            self.acquire(acquired);
        }
        for step in witness {
            self.cross(step);
        }
        if let Some(last) = witness.last() {
            assert!(
                to.contains(self.model, last.to),
                "the witness ends in its target\n{}",
                self.context
            );
        }
    }
}

/// Random start and target, `path --all 3`: every path's story replays.
fn replay_paths(seed: u64) -> usize {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let model = model_from_text("random.yaml", &yaml)
        .unwrap_or_else(|problems| panic!("generated an invalid model:\n{yaml}\n{problems:#?}"));
    let names: Vec<String> = (0..count)
        .map(|i| format!("e{i}"))
        .chain(["internet".to_owned()])
        .collect();
    let mut told = 0;
    for _ in 0..4 {
        let from = selection_of(&model, &names[rng.below(names.len())]);
        let to = selection_of(&model, &names[rng.below(names.len())]);
        if from.overlap(&model, &to).is_some() {
            continue;
        }
        let found = cordon::path::find_paths(&model, &from, &to, &[], 3);
        assert_eq!(found.paths.len(), found.stories.len(), "one story per path");
        for (path, story) in found.paths.iter().zip(&found.stories) {
            let context = format!("from {from:?} to {to:?}\n{yaml}");
            Replay::new(&model, &from, Selection::default(), context).story(story, path, &to);
            told += story.len();
        }
    }
    told
}

/// A named hop back in ids: the flow by its label, the rest by name.
fn step_of(model: &Model, labels: &BTreeMap<String, FlowId>, hop: &Hop) -> Step {
    let entity = |name: &str| model.find_entity(name).expect("hop names an entity");
    let credential = hop.credential.as_ref().map(|name| {
        let index = model
            .credentials
            .iter()
            .position(|c| &c.name == name)
            .expect("hop names a credential");
        let holding = match hop.obtained.as_ref().expect("a credential says where from") {
            Obtained::Leaked => Holding::Leaked,
            Obtained::From(holder) => Holding::From {
                entity: entity(holder),
                hops: 0,
            },
        };
        (CredentialId(index as u32), holding)
    });
    Step {
        from: entity(&hop.from),
        to: entity(&hop.to),
        flow: labels[&hop.flow],
        credential,
    }
}

fn story_of(
    model: &Model,
    labels: &BTreeMap<String, FlowId>,
    acquisitions: &[Acquisition],
) -> Vec<Acquired> {
    acquisitions
        .iter()
        .map(|acquisition| Acquired {
            credential: CredentialId(
                model
                    .credentials
                    .iter()
                    .position(|c| c.name == acquisition.credential)
                    .expect("an acquisition names a credential") as u32,
            ),
            holder: model.find_entity(&acquisition.holder).expect("a holder"),
            path: acquisition
                .path
                .iter()
                .map(|hop| step_of(model, labels, hop))
                .collect(),
        })
        .collect()
}

/// Random `forbid` and `through` invariants: every failing one's story, as `check`
/// reports it by name, replays; a `through`'s avoids `via` throughout.
fn replay_check(seed: u64) -> usize {
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
    let mut ends = Vec::new();
    for n in 0..6 {
        let (from, to, via) = (
            &names[rng.below(names.len())],
            &names[rng.below(names.len())],
            &names[rng.below(names.len())],
        );
        let (a, b, v) = (
            selection_of(&model, from),
            selection_of(&model, to),
            selection_of(&model, via),
        );
        if a.overlap(&model, &b).is_some() {
            continue;
        }
        if rng.chance(40) && v.overlap(&model, &a).is_none() && v.overlap(&model, &b).is_none() {
            invariants.push_str(&format!(
                "  - {{name: i{n}, through: {{from: {from}, to: {to}, via: {via}}}}}\n"
            ));
            ends.push((a, b, v));
        } else {
            let direct = rng.chance(20);
            invariants.push_str(&format!(
                "  - {{name: i{n}, forbid: {{from: {from}, to: {to}, direct: {direct}}}}}\n"
            ));
            ends.push((a, b, Selection::default()));
        }
    }
    let full = format!("{yaml}{invariants}");
    let model = model_from_text("random.yaml", &full).unwrap_or_else(|p| panic!("{full}\n{p:#?}"));
    let labels: BTreeMap<String, FlowId> = model
        .flow_ids()
        .map(|id| (model.flow_label(id), id))
        .collect();
    let report = cordon::check::check(&model, "2024-01-01".parse().unwrap());
    let mut told = 0;
    for (result, (from, to, via)) in report.results.iter().zip(ends) {
        if result.status != Status::Fail {
            assert!(result.acquisitions.is_empty(), "no witness, no story");
            continue;
        }
        let witness: Vec<Step> = result
            .witness
            .iter()
            .map(|hop| step_of(&model, &labels, hop))
            .collect();
        let story = story_of(&model, &labels, &result.acquisitions);
        let context = format!("{}\n{full}", result.name);
        Replay::new(&model, &from, via, context).story(&story, &witness, &to);
        told += story.len();
    }
    told
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::harness::oracle_cases()))]

    #[test]
    fn path_stories_replay(seed in any::<u64>()) {
        replay_paths(seed);
    }

    #[test]
    fn check_stories_replay(seed in any::<u64>()) {
        replay_check(seed);
    }
}

/// The random models do tell stories: a replay that never saw an acquisition would
/// prove nothing.
#[test]
fn random_models_tell_stories() {
    let told: usize = (1..200u64)
        .map(|seed| replay_paths(seed * 7919) + replay_check(seed * 104_729))
        .sum();
    assert!(told >= 20, "only {told} acquisitions in 200 random models");
}
