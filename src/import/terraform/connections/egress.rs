//! What the egress rules of one end allow towards another, looked up instead of asked
//! pair by pair: ends whose egress rules are alike share a key, ends that every egress
//! rule admits alike share a profile, and the ports depend on the two alone.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::super::port_set::PortSet;
use super::super::security_groups::{Admits, RuleView};
use super::Class;
use super::members::Members;

pub struct Egress {
    /// Per end: its key, or `None` when no rule restricts it (everything goes out).
    key: Vec<Option<usize>>,
    /// Per end: its profile.
    profile: Vec<usize>,
    /// Per key: (the rule's `Admits`, by id, and its ports), sorted.
    keys: Vec<Vec<(usize, PortSet)>>,
    /// Per profile: the `Admits` ids that admit its ends, sorted.
    profiles: Vec<Vec<usize>>,
}

impl Egress {
    pub fn new(rules: &[RuleView], members: &Members, classes: &[Class]) -> Egress {
        let ends = classes.len() + 1;
        let mut ids: BTreeMap<&Admits, usize> = BTreeMap::new();
        for rule in rules {
            let next = ids.len();
            ids.entry(&rule.admits).or_insert(next);
        }
        // Which admits each end meets; ids are visited in order, so each list is sorted.
        let mut met: Vec<Vec<usize>> = vec![Vec::new(); ends];
        let mut by_id: Vec<(&Admits, usize)> = ids.iter().map(|(a, id)| (*a, *id)).collect();
        by_id.sort_unstable_by_key(|(_, id)| *id);
        for (admits, id) in by_id {
            for end in members.admitted(admits) {
                if let Some(list) = met.get_mut(end) {
                    list.push(id);
                }
            }
        }
        let mut profiles = Vec::new();
        let mut profile_ids: FxHashMap<Vec<usize>, usize> = FxHashMap::default();
        let profile = met
            .into_iter()
            .map(|list| {
                let next = profile_ids.len();
                *profile_ids.entry(list.clone()).or_insert_with(|| {
                    profiles.push(list);
                    next
                })
            })
            .collect();
        let mut by_owner: BTreeMap<Option<usize>, Vec<(usize, PortSet)>> = BTreeMap::new();
        for rule in rules {
            let id = ids.get(&rule.admits).copied().unwrap_or_default();
            by_owner
                .entry(rule.owner)
                .or_default()
                .push((id, rule.ports.clone()));
        }
        let loose = by_owner.get(&None).cloned().unwrap_or_default();
        let mut keys = Vec::new();
        let mut key_ids: FxHashMap<Vec<(usize, PortSet)>, usize> = FxHashMap::default();
        let key = (0..ends)
            .map(|end| {
                if !members.is_ruled(end) {
                    return None;
                }
                let groups = classes
                    .get(end)
                    .map_or(&[][..], |class| class.groups.known());
                let mut entries: Vec<(usize, PortSet)> = groups
                    .iter()
                    .flat_map(|group| by_owner.get(&Some(*group)).into_iter().flatten())
                    .chain(&loose)
                    .cloned()
                    .collect();
                entries.sort_unstable();
                entries.dedup();
                let next = key_ids.len();
                Some(*key_ids.entry(entries.clone()).or_insert_with(|| {
                    keys.push(entries);
                    next
                }))
            })
            .collect();
        Egress {
            key,
            profile,
            keys,
            profiles,
        }
    }

    pub fn key(&self, end: usize) -> Option<usize> {
        self.key.get(end).copied().flatten()
    }

    pub fn profile(&self, end: usize) -> usize {
        self.profile.get(end).copied().unwrap_or_default()
    }

    /// What an end of `key` may send to an end of `profile`. Not cached: a key holds a
    /// group's few egress rules, and the ingress rules' parts ask it from both cores.
    pub fn allowed(&self, key: Option<usize>, profile: usize) -> PortSet {
        let Some(key) = key else {
            return PortSet::all();
        };
        let admitted = self.profiles.get(profile).map_or(&[][..], Vec::as_slice);
        let mut ports = PortSet::empty();
        for (admits, rule_ports) in self.keys.get(key).into_iter().flatten() {
            if admitted.binary_search(admits).is_ok() {
                ports = ports.union(rule_ports);
            }
        }
        ports
    }
}
