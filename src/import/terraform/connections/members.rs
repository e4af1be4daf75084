//! Which ends a rule concerns, found at once instead of end by end: the classes that
//! carry each security group (and so hold its rules), those that no rule restricts, and
//! every end (classes, then the internet) that a rule admits.

use std::collections::BTreeMap;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::super::endpoint::Endpoint;
use super::super::objects::Link;
use super::super::security_groups::Admits;
use super::Class;

pub struct Members<'c> {
    classes: &'c [Class],
    internet: Endpoint,
    /// Group to the classes whose known groups include it, in index order.
    carriers: BTreeMap<usize, Vec<usize>>,
    /// Classes with known groups, at least one: their groups' rules decide for them.
    ruled: Vec<usize>,
    /// Whether each end is among `ruled`.
    is_ruled: Vec<bool>,
    /// The other ends, the internet last: nothing restricts them.
    unruled: Vec<usize>,
    /// Classes whose groups are unknown until apply: they may carry any group.
    unknown: Vec<usize>,
    /// The ends whose addresses meet a prefix, per prefix asked about.
    by_prefix: FxHashMap<IpNet, Vec<usize>>,
}

impl<'c> Members<'c> {
    pub fn new(classes: &'c [Class]) -> Members<'c> {
        let mut carriers: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut ruled = Vec::new();
        let mut unruled = Vec::new();
        let mut unknown = Vec::new();
        for (index, class) in classes.iter().enumerate() {
            match &class.groups {
                Link::Known(list) if !list.is_empty() => {
                    ruled.push(index);
                    let mut list = list.clone();
                    list.sort_unstable();
                    list.dedup();
                    for group in list {
                        carriers.entry(group).or_default().push(index);
                    }
                }
                Link::Known(_) => unruled.push(index),
                Link::Unknown => {
                    unknown.push(index);
                    unruled.push(index);
                }
            }
        }
        unruled.push(classes.len());
        let mut is_ruled = vec![false; classes.len() + 1];
        for &index in &ruled {
            is_ruled[index] = true;
        }
        Members {
            classes,
            internet: Endpoint::internet(),
            carriers,
            ruled,
            is_ruled,
            unruled,
            unknown,
            by_prefix: FxHashMap::default(),
        }
    }

    /// The internet's index among the ends: after every class.
    pub fn internet(&self) -> usize {
        self.classes.len()
    }

    pub fn endpoint(&self, end: usize) -> &Endpoint {
        self.classes
            .get(end)
            .map_or(&self.internet, |class| &class.endpoint)
    }

    /// The classes that hold the rules of `owner`; every ruled class for a rule whose
    /// group the plan cannot name.
    pub fn holders(&self, owner: Option<usize>) -> &[usize] {
        match owner {
            Some(group) => self.carriers.get(&group).map_or(&[][..], Vec::as_slice),
            None => &self.ruled,
        }
    }

    /// The ends that no security group rule restricts, the internet last.
    pub fn unruled(&self) -> &[usize] {
        &self.unruled
    }

    pub fn is_ruled(&self, end: usize) -> bool {
        self.is_ruled.get(end).copied().unwrap_or(false)
    }

    /// Every end that `admits` lets in, sorted: what `Admits::by_group` and
    /// `Admits::by_prefix` say of each end, found through the indexes.
    pub fn admitted(&mut self, admits: &Admits) -> Vec<usize> {
        let mut out = Vec::new();
        if admits.by_group {
            if admits.any_group {
                out.extend(0..self.classes.len());
            } else {
                for group in &admits.groups {
                    out.extend(self.carriers.get(group).into_iter().flatten());
                }
                out.extend(&self.unknown);
            }
        }
        for prefix in &admits.prefixes {
            if !self.by_prefix.contains_key(prefix) {
                let list = (0..=self.classes.len())
                    .filter(|&end| self.endpoint(end).meets(prefix))
                    .collect();
                self.by_prefix.insert(*prefix, list);
            }
            out.extend(self.by_prefix.get(prefix).into_iter().flatten());
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
