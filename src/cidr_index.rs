//! An index of declared address ranges, so that an IP or CIDR selector finds the
//! entities it overlaps without scanning every entity.
//!
//! Prefixes are either nested or disjoint. So the ranges overlapping a query are its
//! supernets, found by one hash look-up per shorter prefix length, and the ranges that
//! start inside it, found by binary search in a list sorted by start address.

use ipnet::IpNet;
use rustc_hash::FxHashMap;

/// Address family and inclusive bounds of a range, with IPv4 widened to `u128`.
pub type Bounds = (u8, u128, u128);

pub fn bounds(net: &IpNet) -> Bounds {
    match net {
        IpNet::V4(v4) => (
            4,
            u128::from(u32::from(v4.network())),
            u128::from(u32::from(v4.broadcast())),
        ),
        IpNet::V6(v6) => (6, u128::from(v6.network()), u128::from(v6.broadcast())),
    }
}

/// Ranges with a value each, as many values per range as were inserted.
#[derive(Debug)]
pub struct PrefixTable<T> {
    /// A fast hash: the keys are the policy's own ranges, looked up by every address
    /// selector, and no adversary picks them to collide.
    by_net: FxHashMap<IpNet, Vec<T>>,
    sorted: Vec<(Bounds, IpNet)>,
}

impl<T: Copy> PrefixTable<T> {
    pub fn new(entries: impl IntoIterator<Item = (IpNet, T)>) -> Self {
        let mut by_net: FxHashMap<IpNet, Vec<T>> = FxHashMap::default();
        for (net, value) in entries {
            by_net.entry(net.trunc()).or_default().push(value);
        }
        let mut sorted: Vec<(Bounds, IpNet)> =
            by_net.keys().map(|net| (bounds(net), *net)).collect();
        sorted.sort_unstable();
        PrefixTable { by_net, sorted }
    }

    /// Every stored range that shares an address with `query`, and its values.
    pub fn overlapping(&self, query: &IpNet) -> Vec<(IpNet, T)> {
        let query = query.trunc();
        let mut out = Vec::new();
        let mut push = |net: &IpNet| {
            if let Some(values) = self.by_net.get(net) {
                out.extend(values.iter().map(|value| (*net, *value)));
            }
        };
        // Supernets of the query, itself included.
        for len in 0..=query.prefix_len() {
            if let Ok(supernet) = IpNet::new(query.addr(), len) {
                push(&supernet.trunc());
            }
        }
        // Strict subnets of the query: their start lies inside it.
        let (family, first, last) = bounds(&query);
        let start = self
            .sorted
            .partition_point(|&((f, s, _), _)| (f, s) < (family, first));
        for &((f, s, _), net) in &self.sorted[start..] {
            if (f, s) > (family, last) {
                break;
            }
            if net.prefix_len() > query.prefix_len() {
                push(&net);
            }
        }
        out
    }
}

/// Whether the union of `ranges` covers every address of `region`.
pub fn covers(region: &IpNet, ranges: impl IntoIterator<Item = IpNet>) -> bool {
    let (family, first, last) = bounds(region);
    let mut pieces: Vec<(u128, u128)> = ranges
        .into_iter()
        .map(|net| bounds(&net))
        .filter(|&(f, s, e)| f == family && s <= last && e >= first)
        .map(|(_, s, e)| (s.max(first), e.min(last)))
        .collect();
    pieces.sort_unstable();
    let mut next = first;
    for (start, end) in pieces {
        if start > next {
            return false;
        }
        if end >= last {
            return true;
        }
        next = next.max(end + 1);
    }
    false
}

/// The narrower of two overlapping prefixes: where they meet.
pub fn meet(a: &IpNet, b: &IpNet) -> IpNet {
    if a.prefix_len() >= b.prefix_len() {
        *a
    } else {
        *b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn finds_supernets_and_subnets() {
        let table = PrefixTable::new([
            (net("10.0.0.0/8"), 1),
            (net("10.1.0.0/16"), 2),
            (net("10.1.2.0/24"), 3),
            (net("192.168.0.0/16"), 4),
            (net("fd00::/8"), 5),
        ]);
        let mut found: Vec<i32> = table
            .overlapping(&net("10.1.0.0/16"))
            .into_iter()
            .map(|(_, value)| value)
            .collect();
        found.sort();
        assert_eq!(found, [1, 2, 3]);
        assert!(table.overlapping(&net("11.0.0.0/8")).is_empty());
        assert_eq!(table.overlapping(&net("fd12::1/128")).len(), 1);
    }

    #[test]
    fn coverage_needs_every_address() {
        let region = net("10.0.0.0/23");
        assert!(covers(&region, [net("10.0.0.0/24"), net("10.0.1.0/24")]));
        assert!(!covers(&region, [net("10.0.0.0/24")]));
        assert!(covers(&region, [net("0.0.0.0/0")]));
        assert!(!covers(&region, [net("::/0")]));
    }
}
