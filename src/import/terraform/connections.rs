//! Which groups of assets may open connections to which, and on what ports, when every
//! layer is asked: routing, the NACLs of both subnets (both ways, answers included), and
//! the security groups of both ends. Assets are grouped by (subnets, security groups,
//! public IPv4 address, IPv6 address) first, since every layer treats such assets
//! alike. Then each security group rule is read once: it grants from every class it
//! admits to every class that holds it, cut only where the other end's rules
//! (`egress.rs`) or routing and the NACLs (`zones.rs`) answer differently. So the work
//! and the flows grow with the rules, not with pairs of classes; `pairwise.rs` keeps
//! the pair-by-pair reading as the tests' oracle. The parts of distinct rules and the joins of each location are
//! worked out on the thread pool; what comes out is sorted, whatever the threads did.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::endpoint::{Endpoint, Family};
use super::nacls::Acls;
use super::network::{Asset, Network};
use super::objects::Link;
use super::port_set::PortSet;
use super::routing::{Routing, Target};
use super::security_groups::{Admits, RuleView, SecurityGroups};

mod egress;
mod members;
mod zones;

use egress::Egress;
use members::Members;
use zones::Zones;

/// Assets that every layer treats alike.
pub struct Class {
    /// Resource indexes of its assets, in address order.
    pub assets: Vec<usize>,
    subnets: Vec<usize>,
    vpc: Option<usize>,
    groups: Link,
    /// Whether its assets have a public IPv4 address.
    public: bool,
    /// Whether its assets have (or may get) an IPv6 address, which is global.
    ipv6: bool,
    endpoint: Endpoint,
}

impl Class {
    /// Whether the internet can address it in `family`: through a public IPv4
    /// address, or any IPv6 one.
    fn exposed(&self, family: Family) -> bool {
        match family {
            Family::V4 => self.public,
            Family::V6 => self.ipv6,
        }
    }

    /// Whether it has an address of `family` to send from: every asset has a private
    /// IPv4 one.
    fn speaks(&self, family: Family) -> bool {
        family == Family::V4 || self.ipv6
    }
}

/// One end of a connection: a class, by its index, or the internet, which orders after
/// every class. Four bytes, not an enum of a `usize`'s sixteen: a plan's grants hold
/// hundreds of thousands of ends, each sorted, hashed and compared, and at a quarter
/// of the size those steps took 2 ms less on a state of 20,000 resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct End(u32);

impl End {
    pub const INTERNET: End = End(u32::MAX);

    /// The end of class `index`. Classes group a plan's assets, so their indexes stay
    /// far below `u32::MAX`, the internet's.
    pub fn class(index: usize) -> End {
        debug_assert!(index < u32::MAX as usize, "class {index}");
        End(index as u32)
    }

    /// The class's index, `None` for the internet.
    pub fn index(self) -> Option<usize> {
        (self != End::INTERNET).then_some(self.0 as usize)
    }
}

/// What one rule allows: every end of `from` may open connections to every end of
/// `to` on `ports`. Ends are sorted; a class may sit at both ends.
#[derive(Debug)]
pub struct Grant {
    pub from: Arc<[End]>,
    pub to: Arc<[End]>,
    pub ports: PortSet,
    /// The resource to locate the flow at: the rule that allows it, else the class
    /// end's first asset when no rule restricts either end.
    pub resource: usize,
}

/// Every layer of one plan's network.
pub struct Layers<'a> {
    pub groups: &'a SecurityGroups,
    pub acls: &'a Acls,
    pub routing: &'a Routing,
}

/// Groups assets into classes, in a fixed order.
pub fn classes(network: &Network) -> Vec<Class> {
    type Key = (
        Vec<usize>,
        bool,
        Option<usize>,
        Option<Vec<usize>>,
        bool,
        bool,
        bool,
    );
    let mut by_key: BTreeMap<Key, Vec<&Asset>> = BTreeMap::new();
    for asset in &network.assets {
        let groups = match &asset.groups {
            Link::Known(list) => {
                let mut list = list.clone();
                list.sort_unstable();
                Some(list)
            }
            Link::Unknown => None,
        };
        let key = (
            asset.subnets.clone(),
            asset.subnets_unknown,
            asset.vpc,
            groups,
            asset.public,
            asset.ipv6,
            asset.relay,
        );
        by_key.entry(key).or_default().push(asset);
    }
    by_key
        .into_iter()
        .map(|(key, assets)| {
            let (subnets, unknown, vpc, groups, public, ipv6, relay) = key;
            // The class's addresses: its assets' own when all are known, else its
            // subnets' when all are known, else unknown (anywhere). A relay's traffic
            // carries its clients' addresses, which may be any.
            let mut ranges = Vec::new();
            let known = |asset: &&Asset| !asset.addresses.is_empty() && !asset.addresses_partial;
            let subnet_ranges = |subnet: &usize| {
                network
                    .subnet(*subnet)
                    .filter(|subnet| !subnet.cidrs.is_empty() && !subnet.cidrs_partial)
                    .map(|subnet| subnet.cidrs.as_slice())
            };
            if relay {
                // Left empty: anywhere.
            } else if assets.iter().all(known) {
                ranges.extend(
                    assets
                        .iter()
                        .flat_map(|asset| asset.addresses.iter().copied()),
                );
            } else if !unknown
                && let Some(lists) = subnets
                    .iter()
                    .map(subnet_ranges)
                    .collect::<Option<Vec<_>>>()
            {
                ranges.extend(lists.into_iter().flatten().copied());
            }
            let groups = groups.map_or(Link::Unknown, Link::Known);
            Class {
                assets: assets.iter().map(|asset| asset.resource).collect(),
                // An unknown subnet may be any: no subnet-level check applies.
                subnets: if unknown { Vec::new() } else { subnets },
                vpc,
                endpoint: Endpoint {
                    ranges,
                    internet: false,
                },
                groups,
                public,
                ipv6,
            }
        })
        .collect()
}

/// Part of a grant, before grants with the same location are joined. Its ends are
/// shared: the parts of one ingress rule are pushed at every rule alike, and an end
/// list is copied only when parts are joined.
#[derive(Clone)]
struct Rect {
    from: Arc<[End]>,
    to: Arc<[End]>,
    ports: PortSet,
}

impl Layers<'_> {
    /// Every grant between classes, and between classes and the internet. For a pair of
    /// classes, the union of the grants that join them is what the egress rules of one,
    /// the ingress rules of the other, routing and the NACLs all allow together.
    pub fn grants(&self, classes: &[Class]) -> Vec<Grant> {
        // What routing and the NACLs let through, and who the rules concern: built side
        // by side, neither reads the other.
        let ((zones, ingress, which, firsts), (members, egress_rules, egress)) = rayon::join(
            || {
                let zones = Zones::new(self, classes);
                let ingress = self.groups.rules(false);
                let (which, firsts) = alike(&ingress);
                (zones, ingress, which, firsts)
            },
            || {
                let members = Members::new(classes);
                let egress_rules = self.groups.rules(true);
                let egress = Egress::new(&egress_rules, &members, classes);
                (members, egress_rules, egress)
            },
        );
        let internet = members.internet();
        // Each ingress rule, from the ends it admits to the classes that hold it, on
        // what the sources' egress rules allow towards them.
        let parts: Vec<Vec<Rect>> = firsts
            .par_iter()
            .map(|&first| {
                let Some(rule) = ingress.get(first) else {
                    return Vec::new();
                };
                let targets = members.holders(rule.owner);
                if targets.is_empty() {
                    return Vec::new();
                }
                let sources = members.admitted(&rule.admits);
                let from = cells(&sources, |a| (egress.key(a), zones.row(a)));
                let to = cells(targets, |b| (egress.profile(b), zones.col(b)));
                let mut parts = Vec::new();
                for ((key, row), sources) in &from {
                    for ((profile, col), targets) in &to {
                        let ports = (rule.ports)
                            .intersect(zones.mask(*row, *col))
                            .intersect(&egress.allowed(*key, *profile));
                        split(&mut parts, sources, targets, &ports, internet);
                    }
                }
                parts
            })
            .collect();
        // The egress rules' and the unruled ends' parts, by location.
        let mut own: BTreeMap<usize, Vec<Rect>> = BTreeMap::new();
        // Each egress rule, towards the ends that no ingress rule restricts. Every
        // group's egress rule admits much the same ends (often anywhere): those ends are
        // found once per `Admits`.
        let mut open: BTreeMap<&Admits, BTreeMap<usize, Vec<usize>>> = BTreeMap::new();
        for rule in &egress_rules {
            let sources = members.holders(rule.owner);
            if sources.is_empty() {
                continue;
            }
            let from = cells(sources, |a| zones.row(a));
            let to = open.entry(&rule.admits).or_insert_with(|| {
                let mut targets = members.admitted(&rule.admits);
                targets.retain(|&end| !members.is_ruled(end));
                cells(&targets, |b| zones.col(b))
            });
            for (row, sources) in &from {
                for (col, targets) in to.iter() {
                    let ports = rule.ports.intersect(zones.mask(*row, *col));
                    push(&mut own, rule.resource, sources, targets, &ports, internet);
                }
            }
        }
        // No rule on either side: located at the class end's first asset.
        let unruled = members.unruled().to_vec();
        let from = cells(&unruled, |a| zones.row(a));
        for &b in &unruled {
            if b == internet {
                for &a in &unruled {
                    let Some(&first) = classes.get(a).and_then(|class| class.assets.first()) else {
                        continue;
                    };
                    let ports = zones.mask(zones.row(a), zones.col(b));
                    push(&mut own, first, &[a], &[b], ports, internet);
                }
                continue;
            }
            let Some(&first) = classes.get(b).and_then(|class| class.assets.first()) else {
                continue;
            };
            for (row, sources) in &from {
                let ports = zones.mask(*row, zones.col(b));
                push(&mut own, first, sources, &[b], ports, internet);
            }
        }
        // Locations join their parts apart from each other, so both cores share them.
        // Every location's parts, borrowed a rule's or a location's at a time: the
        // ingress rules' first, in rule order, then the others, in the order they were
        // pushed. A stable sort by location gathers each location's slices; listing
        // their parts, and copying a part (only `join` does), happen on the thread pool.
        let mut slices: Vec<(usize, &[Rect])> = Vec::with_capacity(which.len() + own.len());
        for (rule, id) in ingress.iter().zip(which) {
            let parts = parts.get(id).map_or(&[][..], Vec::as_slice);
            if !parts.is_empty() {
                slices.push((rule.resource, parts));
            }
        }
        slices.extend(
            own.iter()
                .map(|(resource, list)| (*resource, list.as_slice())),
        );
        slices.par_sort_by_key(|(resource, _)| *resource);
        let locations: Vec<&[(usize, &[Rect])]> = slices.chunk_by(|a, b| a.0 == b.0).collect();
        let mut joined: Vec<(usize, Rect)> = locations
            .into_par_iter()
            .flat_map_iter(|location| {
                let resource = location.first().map_or(0, |(resource, _)| *resource);
                let list: Vec<&Rect> = (location.iter())
                    .flat_map(|(_, parts)| parts.iter())
                    .collect();
                join(list).into_iter().map(move |rect| (resource, rect))
            })
            .collect();
        // `join` leaves one part per ends at each location, so no two keys are equal
        // and an unstable sort gives the one order.
        joined.par_sort_unstable_by(|(r, x), (s, y)| {
            (&*x.from, &*x.to, r).cmp(&(&*y.from, &*y.to, s))
        });
        joined
            .into_par_iter()
            .map(|(resource, rect)| Grant {
                from: rect.from,
                to: rect.to,
                ports: rect.ports,
                resource,
            })
            .collect()
    }

    /// Whether packets from subnet `a` reach subnet `b` and answers come back: within a
    /// VPC the local route does it; across VPCs both sides need a route through a
    /// peering connection that joins them.
    pub(super) fn routed(
        &self,
        a: Option<usize>,
        a_vpc: Option<usize>,
        a_end: &Endpoint,
        b: Option<usize>,
        b_vpc: Option<usize>,
        b_end: &Endpoint,
    ) -> bool {
        let (Some(a), Some(a_vpc), Some(b), Some(b_vpc)) = (a, a_vpc, b, b_vpc) else {
            return true;
        };
        if a_vpc == b_vpc {
            return true;
        }
        let there = self.routing.targets(a, Some(a_vpc), b_end);
        let back = self.routing.targets(b, Some(b_vpc), a_end);
        let peers = |targets: &[Target], peering: Option<usize>| {
            targets.iter().any(|target| match target {
                Target::Unknown => true,
                Target::Peering(p) => {
                    self.routing.joins(*p, a_vpc, b_vpc) && peering.is_none_or(|q| q == *p)
                }
                _ => false,
            })
        };
        there.iter().any(|target| match target {
            Target::Peering(p) => self.routing.joins(*p, a_vpc, b_vpc) && peers(&back, Some(*p)),
            Target::Unknown => peers(&back, None),
            _ => false,
        })
    }

    /// What crosses the NACLs between subnets `a` and `b` (either may be the internet,
    /// `None`), answers included. Traffic inside one subnet crosses no NACL.
    pub(super) fn through_acls(
        &self,
        a: Option<usize>,
        a_end: &Endpoint,
        b: Option<usize>,
        b_end: &Endpoint,
        wanted: &PortSet,
    ) -> PortSet {
        if a.is_some() && a == b {
            return wanted.clone();
        }
        let check = |subnet: Option<usize>, egress, peer: &Endpoint, ports: &PortSet| match subnet {
            Some(subnet) => self.acls.allowed(subnet, egress, peer, ports),
            None => ports.clone(),
        };
        let out = check(a, true, b_end, wanted);
        let arrived = check(b, false, a_end, &out);
        let answers = check(b, true, a_end, &arrived.ephemeral_returns());
        let returned = check(a, false, b_end, &answers);
        arrived.with_returns(&returned)
    }
}

/// Calls `visit` for each pair of subnets, `None` standing for "no subnet to check"
/// when a side has none (the internet, or an asset whose subnet is unknown).
pub(super) fn for_pairs(
    a: &[usize],
    b: &[usize],
    mut visit: impl FnMut(Option<usize>, Option<usize>),
) {
    let side = |list: &[usize]| -> Vec<Option<usize>> {
        if list.is_empty() {
            vec![None]
        } else {
            list.iter().copied().map(Some).collect()
        }
    };
    for x in side(a) {
        for y in side(b) {
            visit(x, y);
        }
    }
}

/// Rules of one group that admit the same ends on the same ports grant the same parts,
/// wherever they are written (a plan repeats a rule per environment or per service), so
/// the parts are worked out once per distinct rule and pushed at each rule's place, in
/// rule order. For each rule, the index of its kind; for each kind, its first rule.
fn alike(rules: &[RuleView]) -> (Vec<usize>, Vec<usize>) {
    type Same<'r> = (Option<usize>, &'r Admits, &'r PortSet);
    let mut ids: FxHashMap<Same, usize> = FxHashMap::default();
    let mut firsts = Vec::new();
    let which = (rules.iter().enumerate())
        .map(|(index, rule)| {
            let next = firsts.len();
            *ids.entry((rule.owner, &rule.admits, rule.ports))
                .or_insert_with(|| {
                    firsts.push(index);
                    next
                })
        })
        .collect();
    (which, firsts)
}

/// Ends grouped by `key`, each group in the order given.
fn cells<K: Ord>(ends: &[usize], key: impl Fn(usize) -> K) -> BTreeMap<K, Vec<usize>> {
    let mut out: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for &end in ends {
        out.entry(key(end)).or_default().push(end);
    }
    out
}

/// Adds a part of a grant at `resource`: see `split`.
fn push(
    rects: &mut BTreeMap<usize, Vec<Rect>>,
    resource: usize,
    from: &[usize],
    to: &[usize],
    ports: &PortSet,
    internet: usize,
) {
    if ports.is_empty() {
        return;
    }
    // Only a location that gets a part is entered.
    split(
        rects.entry(resource).or_default(),
        from,
        to,
        ports,
        internet,
    );
}

/// Adds a part of a grant to `list`, the internet kept apart from classes at either
/// end so that flows to and from it stay flows of their own (named after it, as
/// before). Nothing when `ports` is empty.
fn split(list: &mut Vec<Rect>, from: &[usize], to: &[usize], ports: &PortSet, internet: usize) {
    if ports.is_empty() {
        return;
    }
    // Ends are sorted and the internet's index is the last: it can only end a list.
    debug_assert!(from.is_sorted() && to.is_sorted());
    // Borrowed halves: only the parts kept are copied.
    fn halves(ends: &[usize], internet: usize) -> [&[usize]; 2] {
        match ends.split_last() {
            Some((&last, classes)) if last == internet => [classes, &ends[classes.len()..]],
            _ => [ends, &[]],
        }
    }
    let ends = |indexes: &[usize]| -> Arc<[End]> {
        (indexes.iter())
            .map(|&index| {
                if index == internet {
                    End::INTERNET
                } else {
                    End::class(index)
                }
            })
            .collect()
    };
    let targets = halves(to, internet);
    for from in halves(from, internet) {
        for to in targets {
            if !from.is_empty() && !to.is_empty() {
                list.push(Rect {
                    from: ends(from),
                    to: ends(to),
                    ports: ports.clone(),
                });
            }
        }
    }
}

/// Joins the parts of one location's grants where that changes nothing: the same
/// sources and ports (targets joined), then the same targets and ports (sources
/// joined), then the same ends (ports joined). The internet joins no class.
fn join(list: Vec<&Rect>) -> Vec<Rect> {
    // One part joins nothing: its ends are sorted and distinct as they came.
    if list.len() < 2 {
        return list.into_iter().cloned().collect();
    }
    let world = |ends: &[End]| ends == [End::INTERNET];
    // One end, the ports, and whether the other end is the internet: the other ends.
    type By<E> = BTreeMap<(E, PortSet, bool), Vec<End>>;
    let mut by_from: By<Arc<[End]>> = BTreeMap::new();
    for rect in list {
        let key = (Arc::clone(&rect.from), rect.ports.clone(), world(&rect.to));
        by_from.entry(key).or_default().extend_from_slice(&rect.to);
    }
    let mut by_to: By<Vec<End>> = BTreeMap::new();
    for ((from, ports, _), mut to) in by_from {
        to.sort_unstable();
        to.dedup();
        let key = (to, ports, world(&from));
        by_to.entry(key).or_default().extend_from_slice(&from);
    }
    let mut by_ends: BTreeMap<(Vec<End>, Vec<End>), PortSet> = BTreeMap::new();
    for ((to, ports, _), mut from) in by_to {
        from.sort_unstable();
        from.dedup();
        let joined = by_ends.entry((from, to)).or_default();
        *joined = joined.union(&ports);
    }
    by_ends
        .into_iter()
        .map(|((from, to), ports)| Rect {
            from: from.into(),
            to: to.into(),
            ports,
        })
        .collect()
}

#[cfg(test)]
mod pairwise;
#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::End;

    /// Ends are made from indexes that put the internet after every class (`split`
    /// relies on it to find the internet at a list's end), and must order alike.
    #[test]
    fn ends_order_as_their_indexes_with_the_internet_last() {
        let mut ends = [End::INTERNET, End::class(7), End::class(0), End::class(3)];
        ends.sort();
        assert_eq!(
            ends.iter().map(|end| end.index()).collect::<Vec<_>>(),
            [Some(0), Some(3), Some(7), None]
        );
        assert_eq!(End::class(0).index(), Some(0));
        assert_eq!(End::INTERNET.index(), None);
    }
}
