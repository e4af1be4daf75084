//! Which ends a rule concerns, found at once instead of end by end: the classes that
//! carry each security group (and so hold its rules), those that no rule restricts, and
//! every end (classes, then the internet) that a rule admits. The ends a prefix admits
//! come from an index of the classes' ranges, not from asking every end.

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::super::endpoint::Endpoint;
use super::super::objects::Link;
use super::super::security_groups::Admits;
use super::Class;
use crate::cidr_index::PrefixTable;

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
    /// Each class's ranges, so that a prefix finds the classes it meets (those whose
    /// ranges it contains or lies in, which is what `Endpoint::meets` asks) without a
    /// scan of every class.
    ranges: PrefixTable<usize>,
    /// Classes without known addresses: they could be anywhere, so every prefix meets
    /// them.
    anywhere: Vec<usize>,
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
        let ranges = PrefixTable::new(classes.iter().enumerate().flat_map(|(index, class)| {
            (class.endpoint.ranges.iter()).map(move |range| (*range, index))
        }));
        let anywhere = (classes.iter().enumerate())
            .filter(|(_, class)| class.endpoint.ranges.is_empty())
            .map(|(index, _)| index)
            .collect();
        Members {
            classes,
            internet: Endpoint::internet(),
            carriers,
            ruled,
            is_ruled,
            unruled,
            unknown,
            ranges,
            anywhere,
        }
    }

    /// The internet's index among the ends: after every class.
    pub fn internet(&self) -> usize {
        self.classes.len()
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
    pub fn admitted(&self, admits: &Admits) -> Vec<usize> {
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
            self.meeting(prefix, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Adds the ends whose addresses `prefix` meets (`Endpoint::meets`), unsorted and
    /// perhaps more than once.
    fn meeting(&self, prefix: &IpNet, out: &mut Vec<usize>) {
        out.extend((self.ranges.overlapping(prefix).into_iter()).map(|(_, class)| class));
        out.extend(&self.anywhere);
        if self.internet.meets(prefix) {
            out.push(self.internet());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    /// A range in a small space, so that ranges nest and overlap often; host bits may be
    /// set, as a plan may write them.
    fn net() -> impl Strategy<Value = IpNet> {
        prop_oneof![
            4 => (0u8..4, 0u8..4, 0u8..=255, 0u8..=32).prop_map(|(a, b, c, len)| {
                // 10.x, and 8.8.x (public: the internet meets it).
                let first = if a < 3 { [10, a, b, c] } else { [8, 8, b, c] };
                IpNet::new(IpAddr::V4(Ipv4Addr::from(first)), len).unwrap()
            }),
            1 => (0u16..4, 0u8..=128).prop_map(|(a, len)| {
                IpNet::new(IpAddr::V6(Ipv6Addr::new(0xfd00, a, 0, 0, 0, 0, 0, 1)), len).unwrap()
            }),
        ]
    }

    fn class(ranges: Vec<IpNet>) -> Class {
        Class {
            assets: vec![0],
            subnets: Vec::new(),
            vpc: None,
            groups: Link::Known(Vec::new()),
            public: false,
            ipv6: false,
            endpoint: Endpoint {
                ranges,
                internet: false,
            },
        }
    }

    proptest! {
        /// The index admits exactly the ends that asking each end's `Endpoint::meets`
        /// admits: classes with ranges, classes without (anywhere), and the internet.
        #[test]
        fn the_ranges_index_admits_what_a_scan_admits(
            ranges in proptest::collection::vec(proptest::collection::vec(net(), 0..3), 0..12),
            prefixes in proptest::collection::vec(net(), 1..4),
        ) {
            let classes: Vec<Class> = ranges.into_iter().map(class).collect();
            let members = Members::new(&classes);
            let admits = Admits {
                by_group: false,
                any_group: false,
                groups: Vec::new(),
                prefixes,
            };
            let internet = Endpoint::internet();
            let scan: Vec<usize> = (0..=classes.len())
                .filter(|&end| {
                    let endpoint = classes.get(end).map_or(&internet, |class| &class.endpoint);
                    admits.prefixes.iter().any(|prefix| endpoint.meets(prefix))
                })
                .collect();
            prop_assert_eq!(members.admitted(&admits), scan);
        }
    }
}
