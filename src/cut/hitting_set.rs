//! The smallest set of flows that takes at least one flow from each of a list of
//! attacks: an exact branch and bound, stopped by a budget of search nodes.
//!
//! Each node picks an attack not yet hit, with the fewest flows still allowed, and
//! branches on which of them to take; the flows tried in earlier branches are not taken
//! again in later ones, so no set is visited twice. A node is pruned when the flows taken
//! plus a lower bound for the rest (attacks that share no allowed flow each need one of
//! their own) cannot beat the best set known.

use crate::model::FlowId;

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hitting {
    /// A smallest hitting set, smaller than the bound asked for.
    Found(Vec<FlowId>),
    /// No hitting set is smaller than the bound.
    NoneSmaller,
    /// The budget ran out before either was proven.
    OutOfBudget,
}

/// A smallest set of flows meeting every attack, if one is smaller than `bound`.
/// `budget` is charged, per node of the search, the number of flows over all attacks.
pub fn smallest(attacks: &[Vec<FlowId>], bound: usize, budget: &mut u64) -> Hitting {
    // Flows as dense indices, in id order, so that the search works on small vectors.
    let mut flows: Vec<FlowId> = attacks.iter().flatten().copied().collect();
    flows.sort_unstable();
    flows.dedup();
    let sets: Vec<Vec<usize>> = attacks
        .iter()
        .map(|attack| {
            attack
                .iter()
                .filter_map(|flow| flows.binary_search(flow).ok())
                .collect()
        })
        .collect();
    // What one node of the search costs: it reads every attack's flows once.
    let cost = sets.iter().map(Vec::len).sum::<usize>() as u64 + 1;
    let mut search = Search {
        sets: &sets,
        cost,
        used: vec![false; flows.len()],
        taken: vec![false; flows.len()],
        banned: vec![false; flows.len()],
        chosen: Vec::new(),
        best: None,
        bound,
        budget,
        stopped: false,
    };
    search.branch();
    if search.stopped {
        Hitting::OutOfBudget
    } else {
        match search.best {
            Some(best) => Hitting::Found(best.into_iter().map(|i| flows[i]).collect()),
            None => Hitting::NoneSmaller,
        }
    }
}

/// A set of flows meeting every attack, not always the smallest: each round takes the
/// flow in the most attacks not yet met (the lowest id among equals). Cheap, so the
/// search can gather attacks with it before paying for an exact answer.
pub fn greedy(attacks: &[Vec<FlowId>]) -> Vec<FlowId> {
    let mut chosen: Vec<FlowId> = Vec::new();
    let mut open: Vec<&Vec<FlowId>> = attacks.iter().collect();
    while !open.is_empty() {
        let mut counts: std::collections::BTreeMap<FlowId, usize> = Default::default();
        for attack in &open {
            for &flow in attack.iter() {
                *counts.entry(flow).or_default() += 1;
            }
        }
        // The first of the most frequent, so the lowest id wins a tie.
        let Some((&flow, _)) = counts.iter().rev().max_by_key(|&(_, &count)| count) else {
            // An attack with no flows cannot be met; the caller never asks for one.
            break;
        };
        chosen.push(flow);
        open.retain(|attack| !attack.contains(&flow));
    }
    chosen.sort_unstable();
    chosen
}

struct Search<'a> {
    sets: &'a [Vec<usize>],
    cost: u64,
    /// Scratch marks for [`Search::disjoint`], clear between uses.
    used: Vec<bool>,
    taken: Vec<bool>,
    banned: Vec<bool>,
    chosen: Vec<usize>,
    best: Option<Vec<usize>>,
    /// Only sets smaller than this are wanted.
    bound: usize,
    budget: &'a mut u64,
    stopped: bool,
}

impl Search<'_> {
    fn branch(&mut self) {
        if *self.budget < self.cost {
            self.stopped = true;
            return;
        }
        *self.budget -= self.cost;
        // The attacks not yet hit, each with its flows still allowed.
        let mut open: Vec<Vec<usize>> = self
            .sets
            .iter()
            .filter(|set| !set.iter().any(|&flow| self.taken[flow]))
            .map(|set| {
                set.iter()
                    .copied()
                    .filter(|&flow| !self.banned[flow])
                    .collect()
            })
            .collect();
        if open.is_empty() {
            // A sibling branch may have found a set this small already.
            if self.chosen.len() >= self.bound {
                return;
            }
            self.bound = self.chosen.len();
            let mut best = self.chosen.clone();
            best.sort_unstable();
            self.best = Some(best);
            return;
        }
        open.sort_by_key(Vec::len);
        if open[0].is_empty() || self.chosen.len() + self.disjoint(&open) >= self.bound {
            return;
        }
        let choices = open.swap_remove(0);
        let mut banned_here = Vec::new();
        for flow in choices {
            self.taken[flow] = true;
            self.chosen.push(flow);
            self.branch();
            self.chosen.pop();
            self.taken[flow] = false;
            if self.stopped {
                break;
            }
            self.banned[flow] = true;
            banned_here.push(flow);
        }
        for flow in banned_here {
            self.banned[flow] = false;
        }
    }
}

impl Search<'_> {
    /// How many of `sets` (sorted smallest first) share no element: each needs an
    /// element of its own, so a hitting set has at least that many.
    fn disjoint(&mut self, sets: &[Vec<usize>]) -> usize {
        let mut count = 0;
        let mut marked = Vec::new();
        for set in sets {
            if set.iter().all(|&element| !self.used[element]) {
                for &element in set {
                    self.used[element] = true;
                    marked.push(element);
                }
                count += 1;
            }
        }
        for element in marked {
            self.used[element] = false;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(ids: &[u32]) -> Vec<FlowId> {
        ids.iter().copied().map(FlowId).collect()
    }

    #[test]
    fn one_flow_shared_by_every_attack_is_the_answer() {
        let attacks = vec![flows(&[0, 1]), flows(&[1, 2]), flows(&[1, 3])];
        let mut budget = 1_000;
        assert_eq!(
            smallest(&attacks, 3, &mut budget),
            Hitting::Found(flows(&[1]))
        );
    }

    #[test]
    fn disjoint_attacks_need_one_flow_each() {
        let attacks = vec![flows(&[0, 1]), flows(&[2, 3]), flows(&[4])];
        let mut budget = 1_000;
        assert_eq!(smallest(&attacks, 3, &mut budget), Hitting::NoneSmaller);
        assert_eq!(
            smallest(&attacks, 4, &mut budget),
            Hitting::Found(flows(&[0, 2, 4]))
        );
    }

    #[test]
    fn greedy_meets_every_attack() {
        let attacks = vec![flows(&[0, 1]), flows(&[1, 2]), flows(&[3]), flows(&[2, 4])];
        assert_eq!(greedy(&attacks), flows(&[1, 2, 3]));
    }

    #[test]
    fn a_spent_budget_says_so() {
        let attacks = vec![flows(&[0, 1]), flows(&[2, 3])];
        let mut budget = 1;
        assert_eq!(smallest(&attacks, 3, &mut budget), Hitting::OutOfBudget);
    }
}
