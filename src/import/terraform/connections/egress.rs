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
    /// Per key: (the rule's `Admits`, by id, and its ports, by id), sorted.
    keys: Vec<Vec<(usize, usize)>>,
    /// Per profile: the `Admits` ids that admit its ends, sorted.
    profiles: Vec<Vec<usize>>,
    /// The rules' distinct port sets, by id.
    ports: Vec<PortSet>,
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
        // Ends share a list as often as not: a list is copied only when it is new.
        let mut profiles: Vec<Vec<usize>> = Vec::new();
        let mut profile_ids: FxHashMap<Vec<usize>, usize> = FxHashMap::default();
        let profile = met
            .into_iter()
            .map(|list| intern(&mut profile_ids, &mut profiles, list))
            .collect();
        // Each distinct port set once, by id: a key names its rules' ports by id, so that
        // building a key per end copies no port set.
        let mut port_ids: FxHashMap<&PortSet, usize> = FxHashMap::default();
        let mut ports: Vec<PortSet> = Vec::new();
        let mut by_owner: BTreeMap<Option<usize>, Vec<(usize, usize)>> = BTreeMap::new();
        for rule in rules {
            let id = ids.get(&rule.admits).copied().unwrap_or_default();
            let next = ports.len();
            let port = *port_ids.entry(rule.ports).or_insert_with(|| {
                ports.push(rule.ports.clone());
                next
            });
            by_owner.entry(rule.owner).or_default().push((id, port));
        }
        let loose = by_owner.get(&None).map_or(&[][..], Vec::as_slice);
        let mut keys = Vec::new();
        let mut key_ids: FxHashMap<Vec<(usize, usize)>, usize> = FxHashMap::default();
        let key = (0..ends)
            .map(|end| {
                if !members.is_ruled(end) {
                    return None;
                }
                let groups = classes
                    .get(end)
                    .map_or(&[][..], |class| class.groups.known());
                let mut entries: Vec<(usize, usize)> = groups
                    .iter()
                    .flat_map(|group| by_owner.get(&Some(*group)).into_iter().flatten())
                    .chain(loose)
                    .copied()
                    .collect();
                entries.sort_unstable();
                entries.dedup();
                Some(intern(&mut key_ids, &mut keys, entries))
            })
            .collect();
        Egress {
            key,
            profile,
            keys,
            profiles,
            ports,
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
            if admitted.binary_search(admits).is_ok()
                && let Some(rule_ports) = self.ports.get(*rule_ports)
            {
                ports = ports.union(rule_ports);
            }
        }
        ports
    }
}

/// The id of `list` among `lists`, which it joins when it is new: ids are handed out in
/// the order lists are first seen.
fn intern<T: std::hash::Hash + Eq + Clone>(
    ids: &mut FxHashMap<T, usize>,
    lists: &mut Vec<T>,
    list: T,
) -> usize {
    if let Some(id) = ids.get(&list) {
        return *id;
    }
    let id = lists.len();
    ids.insert(list.clone(), id);
    lists.push(list);
    id
}
