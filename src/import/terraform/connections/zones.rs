//! Zones: classes that routing and the NACLs cannot tell apart (the same subnets, VPC,
//! public IPv4 address and IPv6 address, and addresses that meet and lie within the
//! same route and NACL prefixes, which is all those layers ask of an address), and what
//! those layers let through between each pair of zones. Both layers decide port by
//! port (a port passes or not whatever else is asked with it; answers to TCP and UDP
//! pass or not for the protocol as a whole), so one mask per pair of zones, intersected
//! with what the security groups allow, is the answer for every pair of classes in
//! them.

use std::collections::BTreeMap;

use ipnet::IpNet;
use rayon::prelude::*;

use super::super::endpoint::{Endpoint, Family};
use super::super::port_set::PortSet;
use super::super::routing::Target;
use super::{Class, Layers, for_pairs};

/// One end of a zone pair: a class standing for its zone, or the internet.
#[derive(Clone, Copy)]
enum Spot<'c> {
    Class(&'c Class),
    Internet,
}

pub struct Zones {
    /// Per end (classes, then the internet): its row, shared by zones whose masks
    /// towards every zone are the same.
    row: Vec<usize>,
    /// Per end: its column, shared by zones whose masks from every zone are the same.
    col: Vec<usize>,
    /// Per row, per column.
    masks: Vec<Vec<PortSet>>,
}

impl Zones {
    pub fn new(layers: &Layers, classes: &[Class]) -> Zones {
        let mut prefixes: Vec<IpNet> = layers
            .acls
            .prefixes()
            .chain(layers.routing.prefixes())
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        type Key<'k> = (&'k [usize], Option<usize>, bool, bool, Vec<(bool, bool)>);
        let mut ids: BTreeMap<Key, usize> = BTreeMap::new();
        let mut spots: Vec<Spot> = Vec::new();
        // Each class's profile, on both cores (every class asks every prefix); the ids
        // are handed out after, in class order.
        let profiles: Vec<Vec<(bool, bool)>> = classes
            .par_iter()
            .map(|class| {
                (prefixes.iter())
                    .map(|p| (class.endpoint.meets(p), class.endpoint.within(p)))
                    .collect()
            })
            .collect();
        let mut zone: Vec<usize> = (classes.iter().zip(profiles))
            .map(|(class, profile)| {
                let key = (
                    class.subnets.as_slice(),
                    class.vpc,
                    class.public,
                    class.ipv6,
                    profile,
                );
                let next = ids.len();
                *ids.entry(key).or_insert_with(|| {
                    spots.push(Spot::Class(class));
                    next
                })
            })
            .collect();
        zone.push(spots.len());
        spots.push(Spot::Internet);
        // One mask per pair of zones (each asks routing and the NACLs of every pair of
        // their subnets): rows on both cores.
        let table: Vec<Vec<PortSet>> = spots
            .par_iter()
            .map(|from| spots.iter().map(|to| mask(layers, *from, *to)).collect())
            .collect();
        // Zones with the same masks share a row (or a column), so that the grants of one
        // rule split only where the answers differ.
        let mut rows: BTreeMap<&Vec<PortSet>, usize> = BTreeMap::new();
        let row_of: Vec<usize> = table
            .iter()
            .map(|row| {
                let next = rows.len();
                *rows.entry(row).or_insert(next)
            })
            .collect();
        let columns: Vec<Vec<PortSet>> = (0..spots.len())
            .map(|c| table.iter().map(|row| row[c].clone()).collect())
            .collect();
        let mut cols: BTreeMap<&Vec<PortSet>, usize> = BTreeMap::new();
        let col_of: Vec<usize> = columns
            .iter()
            .map(|column| {
                let next = cols.len();
                *cols.entry(column).or_insert(next)
            })
            .collect();
        let mut masks = vec![vec![PortSet::empty(); cols.len()]; rows.len()];
        for (z, row) in table.iter().enumerate() {
            for (c, ports) in row.iter().enumerate() {
                masks[row_of[z]][col_of[c]] = ports.clone();
            }
        }
        Zones {
            row: zone.iter().map(|z| row_of[*z]).collect(),
            col: zone.iter().map(|z| col_of[*z]).collect(),
            masks,
        }
    }

    pub fn row(&self, end: usize) -> usize {
        self.row.get(end).copied().unwrap_or_default()
    }

    pub fn col(&self, end: usize) -> usize {
        self.col.get(end).copied().unwrap_or_default()
    }

    /// What routing and the NACLs let through from a row to a column.
    pub fn mask(&self, row: usize, col: usize) -> &PortSet {
        static EMPTY: PortSet = PortSet::EMPTY;
        self.masks
            .get(row)
            .and_then(|row| row.get(col))
            .unwrap_or(&EMPTY)
    }
}

/// What routing and the NACLs let through from one zone to another, every port asked.
fn mask(layers: &Layers, from: Spot, to: Spot) -> PortSet {
    let all = PortSet::all();
    match (from, to) {
        (Spot::Internet, Spot::Internet) => PortSet::empty(),
        (Spot::Internet, Spot::Class(to)) => layers.inbound(to, &all),
        (Spot::Class(from), Spot::Internet) => layers.outbound(from, &all),
        (Spot::Class(from), Spot::Class(to)) => between(layers, from, to),
    }
}

fn between(layers: &Layers, from: &Class, to: &Class) -> PortSet {
    let all = PortSet::all();
    let mut ports = PortSet::empty();
    for_pairs(&from.subnets, &to.subnets, |a, b| {
        if layers.routed(a, from.vpc, &from.endpoint, b, to.vpc, &to.endpoint) {
            ports = ports.union(&layers.through_acls(a, &from.endpoint, b, &to.endpoint, &all));
        }
    });
    ports
}

impl Layers<'_> {
    /// What of `wanted` routing and the NACLs let through from the internet to `to`,
    /// one address family at a time: where `to` has an address the internet can reach
    /// in that family, and its subnet's route for the family's internet leads to an
    /// internet gateway, or somewhere the plan cannot name. A subnet that is unknown
    /// (`None`) may route anywhere.
    pub(super) fn inbound(&self, to: &Class, wanted: &PortSet) -> PortSet {
        let mut ports = PortSet::empty();
        for family in Family::BOTH.into_iter().filter(|f| to.exposed(*f)) {
            let internet = Endpoint::internet_in(family);
            for_pairs(&[], &to.subnets, |_, b| {
                let inward = self
                    .targets_towards(b, to.vpc, &internet)
                    .iter()
                    .any(|t| matches!(t, Target::InternetGateway | Target::Unknown));
                if inward {
                    let through = self.through_acls(None, &internet, b, &to.endpoint, wanted);
                    ports = ports.union(&through);
                }
            });
        }
        ports
    }

    /// What of `wanted` routing and the NACLs let through from `from` to the internet,
    /// one address family at a time, where `from` has an address of that family: out
    /// through a NAT gateway or (IPv6) an egress-only internet gateway, which need no
    /// address the internet can reach, or an internet gateway, which needs one.
    pub(super) fn outbound(&self, from: &Class, wanted: &PortSet) -> PortSet {
        let mut ports = PortSet::empty();
        for family in Family::BOTH.into_iter().filter(|f| from.speaks(*f)) {
            let internet = Endpoint::internet_in(family);
            for_pairs(&from.subnets, &[], |a, _| {
                let outward =
                    self.targets_towards(a, from.vpc, &internet)
                        .iter()
                        .any(|t| match t {
                            Target::NatGateway | Target::Unknown => true,
                            Target::EgressOnlyInternetGateway => family == Family::V6,
                            Target::InternetGateway => from.exposed(family),
                            _ => false,
                        });
                if outward {
                    let through = self.through_acls(a, &from.endpoint, None, &internet, wanted);
                    ports = ports.union(&through);
                }
            });
        }
        ports
    }

    /// Where subnet `subnet` (`None`: unknown) sends traffic for `peer`.
    fn targets_towards(
        &self,
        subnet: Option<usize>,
        vpc: Option<usize>,
        peer: &Endpoint,
    ) -> Vec<Target> {
        match subnet {
            Some(subnet) => self.routing.targets(subnet, vpc, peer),
            None => vec![Target::Unknown],
        }
    }
}
