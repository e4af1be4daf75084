//! The whole story of an attack: for a witness, how the attacker comes to hold each
//! credential it uses. A credential is leaked, held at the start (by an entity the
//! attacker starts in), or acquired by a path from what the attacker controls to one of
//! its holders, a path whose own credentials are told the same way first.
//!
//! The acquisitions come in an order that can be replayed: each path leaves only from
//! entities the start or an earlier path reached, and crosses only flows opened by
//! credentials held by then. To keep that order well founded, a credential taken in
//! round `r` of the fixpoint ([`Engine::rounds`]) is sought using only credentials of
//! earlier rounds and those already held; such a path always exists, since the fixpoint
//! found one. To keep the story short, each path is a shortest one from everything
//! controlled so far, so later paths set off from where earlier ones arrived, and a
//! credential whose holder an earlier path reached costs no hop at all.
//!
//! This module knows nothing of names or formats: it speaks in ids and [`Step`]s, and
//! `report.rs` names what it finds.

use crate::engine::{Engine, Holding, Step, Workspace};
use crate::model::{CredentialId, EntityId, FlowId, Selection};

/// How the attacker acquires one credential: a path from what it controls to a holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acquired {
    pub credential: CredentialId,
    /// The leaf where the attacker takes the credential: the path's last leaf, or an
    /// entity that an earlier path reached when the path is empty.
    pub holder: EntityId,
    pub path: Vec<Step>,
}

/// The story of `witness` for an attacker controlling `start`, avoiding `blocked`: the
/// acquisitions to replay before it, in order. Rewrites each step's credential to the
/// one the story uses and where it is taken.
pub fn tell(
    engine: &Engine,
    ws: &mut Workspace,
    start: &Selection,
    blocked: Option<&[bool]>,
    witness: &mut Vec<Step>,
) -> Vec<Acquired> {
    tell_sharing(engine, ws, start, blocked, witness, &mut Rounds::default())
}

/// [`tell`], with the fixpoint's rounds kept in `rounds` for the next story from a start
/// with the same rounds: the same start and `blocked`, or, with nothing blocked, a start
/// of the same [`crate::engine::Origin`] fixpoints.
pub fn tell_sharing(
    engine: &Engine,
    ws: &mut Workspace,
    start: &Selection,
    blocked: Option<&[bool]>,
    witness: &mut Vec<Step>,
    rounds: &mut Rounds,
) -> Vec<Acquired> {
    tell_each_sharing(
        engine,
        ws,
        start,
        blocked,
        std::slice::from_mut(witness),
        rounds,
    )
    .pop()
    .unwrap_or_default()
}

/// [`Engine::rounds`] for a start, computed when a story first needs them. Two starts
/// whose walks differ only by components that hold nothing and gate nothing obtain each
/// credential in the same round, so their stories may share them.
#[derive(Debug, Default)]
pub struct Rounds(Option<Vec<Option<u32>>>);

/// The stories of several witnesses from one start, each with its witness rewritten as
/// [`tell`] does. The fixpoint's rounds are computed once, and only if some witness uses
/// a credential that was neither leaked nor held at the start: most need none.
pub fn tell_each(
    engine: &Engine,
    ws: &mut Workspace,
    start: &Selection,
    blocked: Option<&[bool]>,
    witnesses: &mut [Vec<Step>],
) -> Vec<Vec<Acquired>> {
    tell_each_sharing(
        engine,
        ws,
        start,
        blocked,
        witnesses,
        &mut Rounds::default(),
    )
}

fn tell_each_sharing(
    engine: &Engine,
    ws: &mut Workspace,
    start: &Selection,
    blocked: Option<&[bool]>,
    witnesses: &mut [Vec<Step>],
    rounds: &mut Rounds,
) -> Vec<Vec<Acquired>> {
    let mut at_start: Option<Vec<Option<Holding>>> = None;
    witnesses
        .iter_mut()
        .map(|witness| {
            let gated = witness
                .iter()
                .any(|step| !engine.model.flow(step.flow).auth().is_empty());
            if !gated {
                return Vec::new();
            }
            let held = at_start
                .get_or_insert_with(|| held_at_start(engine, start, blocked))
                .clone();
            let mut story = Story {
                engine,
                ws,
                start,
                blocked,
                rounds: &mut rounds.0,
                controlled: start.roots().to_vec(),
                held,
                told: Vec::new(),
            };
            for step in witness.iter_mut() {
                let preferred = step.credential.map(|(id, _)| id);
                let Some(credential) = story.choose(step.flow, None, preferred) else {
                    continue;
                };
                story.acquire(credential, 0);
                if let Some(how) = story.held[credential.index()] {
                    step.credential = Some((credential, how));
                }
            }
            story.told
        })
        .collect()
}

/// Per credential, whether the attacker holds it before any hop, and how: leaked, or
/// held by an entity of the start (a leaf inside a holder counts).
fn held_at_start(
    engine: &Engine,
    start: &Selection,
    blocked: Option<&[bool]>,
) -> Vec<Option<Holding>> {
    let model = engine.model;
    let mut held: Vec<Option<Holding>> = model
        .credential_ids()
        .map(|id| engine.leaked(id).then_some(Holding::Leaked))
        .collect();
    for member in start.members(model) {
        if blocked.is_some_and(|blocked| blocked[member.index()]) {
            continue;
        }
        for credential in engine.credentials_at(member) {
            held[credential.index()].get_or_insert(Holding::From {
                entity: member,
                hops: 0,
            });
        }
    }
    held
}

/// A story being told: what the attacker controls and holds so far, and how.
struct Story<'a, 'e, 'm> {
    engine: &'e Engine<'m>,
    ws: &'a mut Workspace,
    start: &'a Selection,
    blocked: Option<&'a [bool]>,
    /// [`Engine::rounds`] for the start, once a credential needs acquiring.
    rounds: &'a mut Option<Vec<Option<u32>>>,
    /// The start's outermost entities and every leaf a told path reached.
    controlled: Vec<EntityId>,
    /// Per credential, how the story holds it: leaked, held at the start, or acquired.
    held: Vec<Option<Holding>>,
    told: Vec<Acquired>,
}

impl Story<'_, '_, '_> {
    /// The round of the fixpoint in which the attacker can first hold `credential`.
    fn round(&mut self, credential: CredentialId) -> Option<u32> {
        let rounds = self
            .rounds
            .get_or_insert_with(|| self.engine.rounds(self.ws, self.start, self.blocked));
        rounds[credential.index()]
    }

    /// The credential to cross `flow` with, if it needs one: one already held (the
    /// lowest id), else `preferred` if allowed, else the allowed one of the earliest
    /// round. Allowed means obtainable, and with `before`, of a round before it.
    fn choose(
        &mut self,
        flow: FlowId,
        before: Option<u32>,
        preferred: Option<CredentialId>,
    ) -> Option<CredentialId> {
        let auth = self.engine.model.flow(flow).auth();
        if let Some(&held) = auth.iter().find(|id| self.held[id.index()].is_some()) {
            return Some(held);
        }
        let mut allowed: Vec<(u32, CredentialId)> = Vec::new();
        for &id in auth {
            if let Some(round) = self.round(id)
                && before.is_none_or(|limit| round < limit)
            {
                allowed.push((round, id));
            }
        }
        preferred
            .filter(|id| allowed.iter().any(|(_, allowed)| allowed == id))
            .or_else(|| allowed.into_iter().min().map(|(_, id)| id))
    }

    /// Tells how the attacker acquires `credential`, after what it needs for that.
    fn acquire(&mut self, credential: CredentialId, depth: usize) {
        let model = self.engine.model;
        let Some(limit) = self.round(credential) else {
            return;
        };
        // Each level asks for a credential of an earlier round, so the depth never
        // passes the number of credentials; the guard only keeps a bug from looping.
        if depth > model.credentials.len() {
            return;
        }
        while self.held[credential.index()].is_none() {
            let mut allowed: Vec<CredentialId> = Vec::new();
            for id in model.credential_ids() {
                if self.held[id.index()].is_some()
                    || self.round(id).is_some_and(|round| round < limit)
                {
                    allowed.push(id);
                }
            }
            let from = Selection::from_entities(model, self.controlled.clone());
            let Some((holder, mut path)) = self.engine.shortest_using(
                self.ws,
                &from,
                self.blocked,
                allowed,
                &model.credential(credential).holders,
            ) else {
                return;
            };
            let mut missing: Vec<CredentialId> = Vec::new();
            for step in &mut path {
                let choice = self.choose(step.flow, Some(limit), None);
                // Where the credential is taken is known once it is held: `commit`
                // fills it in.
                step.credential = choice.map(|id| (id, Holding::Leaked));
                if let Some(id) = choice
                    && self.held[id.index()].is_none()
                    && !missing.contains(&id)
                {
                    missing.push(id);
                }
            }
            if missing.is_empty() {
                self.commit(credential, holder, path);
                return;
            }
            // Tell the missing credentials first, then look again: what they reach
            // may give a shorter way, or the credential itself.
            for &id in &missing {
                self.acquire(id, depth + 1);
            }
            // The fixpoint promises each of them; should one still be missing, stop
            // rather than ask again for ever.
            if missing.iter().all(|id| self.held[id.index()].is_none()) {
                return;
            }
        }
    }

    /// Adds a path to the story: each step names where its credential was taken, its
    /// leaves become controlled, and `credential` is held from `holder`.
    fn commit(&mut self, credential: CredentialId, holder: EntityId, mut path: Vec<Step>) {
        for step in &mut path {
            step.credential = step
                .credential
                .and_then(|(id, _)| self.held[id.index()].map(|how| (id, how)));
        }
        let hops = path.len() as u32;
        for step in &path {
            self.reach(step.to);
        }
        self.reach(holder);
        // The credential is taken on this path's holder even if an earlier leaf of the
        // path holds it too: that is where the story says it is taken.
        self.held[credential.index()] = Some(Holding::From {
            entity: holder,
            hops,
        });
        self.told.push(Acquired {
            credential,
            holder,
            path,
        });
    }

    /// Marks `leaf` controlled. The credentials it holds count as held only once the
    /// story tells their acquisition, so that every credential used has its own entry;
    /// an entry for a credential held here then needs no hop.
    fn reach(&mut self, leaf: EntityId) {
        if !self.controlled.contains(&leaf) {
            self.controlled.push(leaf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Goal;
    use crate::graph::ReachGraph;
    use crate::policy::model_from_text;

    /// The story of the shortest witness from `from` to `to`, as (credential, holder,
    /// hops as `from>to`) per acquisition, and the witness's credentials with where
    /// they are taken.
    type Told = (Vec<(String, String, Vec<String>)>, Vec<(String, String)>);

    fn told(yaml: &str, from: &str, to: &str) -> Told {
        let model = model_from_text("t.yaml", yaml).unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let mut ws = engine.workspace();
        let select =
            |name: &str| Selection::from_entities(&model, vec![model.find_entity(name).unwrap()]);
        let (start, targets) = (select(from), select(to));
        let goal = Goal {
            targets: &targets,
            ports: &[],
        };
        let arrival = engine.arrive(&mut ws, &start, None, &goal).unwrap();
        let mut witness = engine.witness(&ws, arrival);
        let story = tell(&engine, &mut ws, &start, None, &mut witness);
        let name = |id: EntityId| model.entity(id).name.clone();
        let acquisitions = story
            .iter()
            .map(|acquired| {
                (
                    model.credential(acquired.credential).name.clone(),
                    name(acquired.holder),
                    acquired
                        .path
                        .iter()
                        .map(|step| format!("{}>{}", name(step.from), name(step.to)))
                        .collect(),
                )
            })
            .collect();
        let used = witness
            .iter()
            .filter_map(|step| step.credential)
            .map(|(id, how)| {
                let source = match how {
                    Holding::Leaked => "leaked".to_owned(),
                    Holding::From { entity, .. } => name(entity),
                };
                (model.credential(id).name.clone(), source)
            })
            .collect();
        (acquisitions, used)
    }

    fn owned(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn credentials_leaked_or_held_at_the_start_need_no_acquisition() {
        let (story, used) = told(
            "
segments:
  - {name: home}
assets:
  - {name: a, in: home}
  - {name: b}
  - {name: c}
credentials:
  - {name: mine, held_by: home}
  - {name: public, leaked: true}
flows:
  - {from: a, to: b, auth: [mine]}
  - {from: b, to: c, auth: [public]}
",
            "a",
            "c",
        );
        assert!(story.is_empty());
        assert_eq!(
            used,
            [
                ("mine".to_owned(), "a".to_owned()),
                ("public".to_owned(), "leaked".to_owned())
            ]
        );
    }

    #[test]
    fn a_credential_is_acquired_after_the_credentials_its_path_needs() {
        // The short way to h1 needs k2, which needs k1 from h1: a circle. The story must
        // take the long way to h1 first.
        let (story, used) = told(
            "
assets:
  - {name: a}
  - {name: mid}
  - {name: near}
  - {name: h1}
  - {name: h2}
  - {name: t}
credentials:
  - {name: k1, held_by: h1}
  - {name: k2, held_by: h2}
flows:
  - {from: a, to: h1, auth: [k2]}
  - {from: a, to: mid}
  - {from: mid, to: near}
  - {from: near, to: h1}
  - {from: a, to: h2, auth: [k1]}
  - {from: a, to: t, auth: [k2]}
",
            "a",
            "t",
        );
        assert_eq!(
            story,
            [
                (
                    "k1".to_owned(),
                    "h1".to_owned(),
                    owned(&["a>mid", "mid>near", "near>h1"])
                ),
                ("k2".to_owned(), "h2".to_owned(), owned(&["a>h2"])),
            ]
        );
        assert_eq!(used, [("k2".to_owned(), "h2".to_owned())]);
    }

    #[test]
    fn a_holder_reached_earlier_costs_no_hop_and_paths_start_where_others_arrived() {
        // h holds both keys; far is reached from h.
        let (story, _) = told(
            "
assets:
  - {name: a}
  - {name: x}
  - {name: h}
  - {name: far}
  - {name: t}
  - {name: t2}
  - {name: t3}
credentials:
  - {name: k1, held_by: h}
  - {name: k2, held_by: h}
  - {name: k3, held_by: far}
flows:
  - {from: a, to: x}
  - {from: x, to: h}
  - {from: h, to: far}
  - {from: a, to: t, auth: [k1]}
  - {from: t, to: t2, auth: [k2]}
  - {from: t2, to: t3, auth: [k3]}
",
            "a",
            "t3",
        );
        assert_eq!(
            story,
            [
                ("k1".to_owned(), "h".to_owned(), owned(&["a>x", "x>h"])),
                ("k2".to_owned(), "h".to_owned(), Vec::new()),
                ("k3".to_owned(), "far".to_owned(), owned(&["h>far"])),
            ]
        );
    }
}
