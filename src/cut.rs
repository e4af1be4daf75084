//! What isolates one selection from another: the fewest flows to remove, counted on the
//! model as it is (removing a flow can make a credential unobtainable, and with it every
//! flow that needs it), and the credentials whose revocation alone does it.
//!
//! A maximum flow over the graph as the final credential fixpoint leaves it gives a cut
//! that isolates, but it treats every credential as held, so it can be larger than
//! needed. The exact minimum is a hitting set over attacks (sets of flows that alone let
//! the attacker in, credentials included): every isolating set meets every attack. The
//! search keeps the attacks found so far, takes a smallest set meeting them all
//! ([`hitting_set`]), and asks the engine whether removing it isolates. If it does, no
//! smaller set can, since a smaller one would meet the same attacks; if not, the engine's
//! model has an attack that this set misses ([`attack`]), which joins the list. The
//! maximum-flow cut is the answer until something smaller is proven (and is the answer
//! outright when no flow the attacker opens needs a credential). The search stops after
//! a fixed amount of work, never a time, so that the answer is the same on every run;
//! then the cut says it is an upper bound, with the best lower bound proven.

mod attack;
mod hitting_set;

use crate::engine::{Engine, Goal};
use crate::graph::ReachGraph;
use crate::model::{CredentialId, FlowId, Model, Selection};
use crate::ports::PortSpec;

use attack::Tracer;
use hitting_set::Hitting;

/// A set of flows whose removal isolates the ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// In id order.
    pub flows: Vec<FlowId>,
    /// Whether no smaller set isolates; when not, the search stopped first.
    pub exact: bool,
    /// The fewest flows any isolating set has, as far as the search proved.
    pub lower_bound: usize,
}

impl Default for Cut {
    /// Nothing reaches, so nothing needs removing.
    fn default() -> Self {
        Cut {
            flows: Vec::new(),
            exact: true,
            lower_bound: 0,
        }
    }
}

/// What isolates the ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Isolation {
    pub cut: Cut,
    /// Credentials whose revocation alone isolates the ends, in id order.
    pub revocations: Vec<CredentialId>,
}

/// How much work the exact search may do, in units of about one node or edge looked
/// at: the engine's checks and attack searches cost the graph's size, each node of the
/// hitting-set search the number of attacks. Enough to settle the questions architects
/// ask of models of thousands of flows; on larger ones the cut says it is a bound.
const BUDGET: u64 = 30_000_000;

/// The fewest flows, and the credentials, whose removal leaves `to` unreachable from
/// `from` with the last flow allowing `ports`. `None` when no set of flows does it, as
/// when the ends overlap.
pub fn isolate(
    model: &Model,
    graph: &ReachGraph,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
) -> Option<Isolation> {
    isolate_within(model, graph, from, to, ports, BUDGET)
}

/// [`isolate`] with a budget of its own, so that tests can watch the search stop.
pub fn isolate_within(
    model: &Model,
    graph: &ReachGraph,
    from: &Selection,
    to: &Selection,
    ports: &[PortSpec],
    budget: u64,
) -> Option<Isolation> {
    let goal = Goal { targets: to, ports };
    let engine = Engine::new(model, graph);
    let tracer = Tracer::new(&engine);
    let all = vec![true; model.flows.len()];
    let Some(first) = tracer.attack(from, &goal, &all) else {
        return Some(Isolation::default());
    };
    let mut workspace = engine.workspace();
    engine.fixpoint(&mut workspace, from, None);
    let fixpoint = |flow| engine.is_open(&workspace, flow);
    let upper = min_cut_over(&engine, from, &goal, fixpoint)?;
    // Where every flow the attacker opens was open from the start, no credential
    // matters, and the maximum flow is the minimum.
    let cut = if model
        .flow_ids()
        .all(|flow| !fixpoint(flow) || engine.open_from_start(flow))
    {
        Cut {
            lower_bound: upper.len(),
            flows: upper,
            exact: true,
        }
    } else {
        let search = Search {
            model,
            graph,
            tracer: &tracer,
            from,
            goal: &goal,
            attacks: vec![first.clone()],
            budget,
            check_cost: (graph.node_count() + model.flows.len()) as u64 + 1,
        };
        let mut cut = search.run(upper, 1);
        if !cut.exact {
            // Paths over flows open from the start need no credential, so every
            // isolating set cuts them all: their minimum cut is a lower bound too. It
            // costs a maximum flow, so it is asked only of a search that stopped.
            let open = min_cut_over(&engine, from, &goal, |flow| engine.open_from_start(flow))
                .map_or(0, |cut| cut.len());
            cut.lower_bound = cut.lower_bound.max(open).min(cut.flows.len());
            cut.exact = cut.lower_bound == cut.flows.len();
        }
        cut
    };
    // A credential whose revocation isolates is needed by every attack, so it opens a
    // flow of the first one.
    let mut suspects: Vec<CredentialId> = first
        .iter()
        .flat_map(|&flow| model.flow(flow).auth().iter().copied())
        .collect();
    suspects.sort_unstable();
    suspects.dedup();
    let revocations = suspects
        .into_iter()
        .filter(|&credential| {
            let engine = Engine::with_changes(model, graph, &[], &[credential]);
            !reaches(&engine, from, &goal)
        })
        .collect();
    Some(Isolation { cut, revocations })
}

/// Whether `from` still reaches the goal in `engine`'s model. The engine's search on
/// nodes, not on components: each engine here answers one question, and building its
/// components would cost more than the search.
fn reaches(engine: &Engine, from: &Selection, goal: &Goal) -> bool {
    let mut workspace = engine.workspace();
    engine.explore(&mut workspace, from, None, Some(goal))
}

/// The exact search, from the first attack and the maximum-flow cut.
struct Search<'s, 'e, 'm> {
    model: &'m Model,
    graph: &'m ReachGraph,
    tracer: &'s Tracer<'e, 'm>,
    from: &'s Selection,
    goal: &'s Goal<'s>,
    attacks: Vec<Vec<FlowId>>,
    budget: u64,
    /// What one engine check or attack search costs: about every node and flow once.
    check_cost: u64,
}

impl Search<'_, '_, '_> {
    /// Takes the cost of one engine check or attack search from the budget, if it has it.
    fn charge(&mut self) -> bool {
        match self.budget.checked_sub(self.check_cost) {
            Some(left) => {
                self.budget = left;
                true
            }
            None => false,
        }
    }

    /// Whether removing `flows` isolates the ends, as the engine says.
    fn isolates(&self, flows: &[FlowId]) -> bool {
        let engine = Engine::with_changes(self.model, self.graph, flows, &[]);
        !reaches(&engine, self.from, self.goal)
    }

    /// Adds attacks that miss `removed` and share no flow with each other: each needs a
    /// flow of its own, so several at once teach the search more per check. Stops at
    /// `enough`, or when no attack is left.
    fn learn(&mut self, removed: &[FlowId], enough: usize) {
        let mut usable = vec![true; self.model.flows.len()];
        for flow in removed {
            usable[flow.index()] = false;
        }
        for _ in 0..enough {
            if !self.charge() {
                return;
            }
            let Some(attack) = self.tracer.attack(self.from, self.goal, &usable) else {
                return;
            };
            for flow in &attack {
                usable[flow.index()] = false;
            }
            self.attacks.push(attack);
        }
    }

    /// Asks the engine whether removing `set` isolates: if so it is the new best, if not
    /// the attacks it misses join the list. False when the budget cannot pay for it.
    fn try_set(&mut self, set: Vec<FlowId>, best: &mut Vec<FlowId>) -> bool {
        if !self.charge() {
            return false;
        }
        if self.isolates(&set) {
            *best = set;
        } else {
            self.learn(&set, best.len());
        }
        true
    }

    /// The smallest cut, starting from `upper`, which isolates, and `lower_bound`, which
    /// no isolating set is smaller than.
    fn run(mut self, upper: Vec<FlowId>, mut lower_bound: usize) -> Cut {
        let mut best = upper;
        while lower_bound < best.len() {
            // First a cheap hitting set: if it isolates, it may beat the best; if not, it
            // shows attacks the list lacks. Only when it cannot help does the exact
            // search run, to prove a bound or find the next set to try.
            let cheap = hitting_set::greedy(&self.attacks);
            if cheap.len() < best.len() {
                if !self.try_set(cheap, &mut best) {
                    break;
                }
                continue;
            }
            let candidate = match hitting_set::smallest(&self.attacks, best.len(), &mut self.budget)
            {
                Hitting::NoneSmaller => {
                    lower_bound = best.len();
                    break;
                }
                Hitting::OutOfBudget => break,
                Hitting::Found(candidate) => candidate,
            };
            lower_bound = lower_bound.max(candidate.len());
            if !self.try_set(candidate, &mut best) {
                break;
            }
        }
        Cut {
            exact: lower_bound >= best.len(),
            lower_bound: lower_bound.min(best.len()),
            flows: best,
        }
    }
}

/// The fewest flows whose removal leaves the goal unreachable from `from`, crossing
/// only the flows `crossable` accepts and treating each as open: the maximum-flow cut.
/// Over the flows open in the final credential fixpoint, as if every credential obtained
/// there were held from the start, it isolates, since removing it leaves no path in a
/// graph that holds every path the attacker has; but it can be larger than needed.
/// `None` when the ends overlap.
fn min_cut_over(
    engine: &Engine,
    from: &Selection,
    goal: &Goal,
    crossable: impl Fn(FlowId) -> bool,
) -> Option<Vec<FlowId>> {
    let (model, graph) = (engine.model, engine.graph);
    let sources: Vec<_> = from.roots().iter().map(|&a| graph.in_node(a)).collect();
    let (sink_nodes, sink_flows) = if goal.ports.is_empty() {
        let nodes = goal
            .targets
            .members(model)
            .into_iter()
            .map(|x| graph.in_node(x))
            .collect();
        (nodes, Vec::new())
    } else {
        let flows = model
            .flow_ids()
            .filter(|&flow| engine.lands_in(goal, flow))
            .collect();
        (Vec::new(), flows)
    };
    graph.min_flow_cut(&sources, &sink_nodes, &sink_flows, crossable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model_from_text;

    fn selection(model: &Model, name: &str) -> Selection {
        Selection::from_entities(model, vec![model.find_entity(name).unwrap()])
    }

    fn names(model: &Model, flows: &[FlowId]) -> Vec<String> {
        flows.iter().map(|&flow| model.flow_label(flow)).collect()
    }

    /// Three flows into the target, each needing `key`, which a group holds; one flow
    /// leads to a leaf inside that group.
    const HOLDER: &str = "
segments:
  - {name: target}
  - {name: vaults}
assets:
  - {name: attacker}
  - {name: v1, in: vaults}
  - {name: t1, in: target}
  - {name: t2, in: target}
  - {name: t3, in: target}
credentials:
  - {name: key, held_by: vaults}
flows:
  - {name: to-vault, from: attacker, to: v1}
  - {name: to-t1, from: attacker, to: t1, auth: [key]}
  - {name: to-t2, from: attacker, to: t2, auth: [key]}
  - {name: to-t3, from: attacker, to: t3, auth: [key]}
";

    #[test]
    fn removing_the_way_to_a_holder_closes_the_flows_its_credential_opens() {
        let model = model_from_text("t.yaml", HOLDER).unwrap();
        let graph = ReachGraph::build(&model);
        let (from, to) = (selection(&model, "attacker"), selection(&model, "target"));
        let isolation = isolate(&model, &graph, &from, &to, &[]).unwrap();
        assert_eq!(names(&model, &isolation.cut.flows), ["to-vault"]);
        assert!(isolation.cut.exact);
        assert_eq!(isolation.cut.lower_bound, 1);
        assert_eq!(isolation.revocations.len(), 1);
    }

    #[test]
    fn an_attack_includes_the_way_to_the_credential_it_uses() {
        let model = model_from_text("t.yaml", HOLDER).unwrap();
        let graph = ReachGraph::build(&model);
        let engine = Engine::new(&model, &graph);
        let (from, to) = (selection(&model, "attacker"), selection(&model, "target"));
        let goal = Goal {
            targets: &to,
            ports: &[],
        };
        let all = vec![true; model.flows.len()];
        let attack = Tracer::new(&engine).attack(&from, &goal, &all).unwrap();
        assert_eq!(names(&model, &attack), ["to-vault", "to-t1"]);
        let mut without_vault = all.clone();
        without_vault[attack[0].index()] = false;
        assert_eq!(
            Tracer::new(&engine).attack(&from, &goal, &without_vault),
            None
        );
    }

    #[test]
    fn a_leaked_credential_leaves_the_maximum_flow_cut_exact() {
        let leaked = HOLDER.replace("held_by: vaults}", "held_by: vaults, leaked: true}");
        let model = model_from_text("t.yaml", &leaked).unwrap();
        let graph = ReachGraph::build(&model);
        let (from, to) = (selection(&model, "attacker"), selection(&model, "target"));
        // No budget, yet exact: with every flow open from the start there is nothing to
        // search.
        let isolation = isolate_within(&model, &graph, &from, &to, &[], 0).unwrap();
        assert_eq!(
            names(&model, &isolation.cut.flows),
            ["to-t1", "to-t2", "to-t3"]
        );
        assert!(isolation.cut.exact);
        assert_eq!(isolation.cut.lower_bound, 3);
    }
}
