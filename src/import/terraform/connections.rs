//! Which groups of assets may open connections to which, and on what ports, when every
//! layer is asked: routing, the NACLs of both subnets (both ways, answers included), and
//! the security groups of both ends. Assets are grouped by (subnets, security groups,
//! public address) first, since every layer treats such assets alike, so the work and
//! the flows grow with the number of groups, not with pairs of assets.

use std::collections::BTreeMap;

use super::endpoint::Endpoint;
use super::nacls::Acls;
use super::network::{Asset, Network};
use super::objects::Link;
use super::port_set::PortSet;
use super::routing::{Routing, Target};
use super::security_groups::SecurityGroups;

/// Assets that every layer treats alike.
pub struct Class {
    /// Resource indexes of its assets, in address order.
    pub assets: Vec<usize>,
    subnets: Vec<usize>,
    vpc: Option<usize>,
    groups: Link,
    public: bool,
    endpoint: Endpoint,
}

/// One end of a connection: a class, or the internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    Class(usize),
    Internet,
}

/// A connection that every layer allows, and the resource whose rule allows it.
pub struct Connection {
    pub from: End,
    pub to: End,
    pub ports: PortSet,
    /// The resource to locate the flow at: the rule that admits it, else the target.
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
    type Key = (Vec<usize>, bool, Option<usize>, Option<Vec<usize>>, bool);
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
        );
        by_key.entry(key).or_default().push(asset);
    }
    by_key
        .into_iter()
        .map(|((subnets, unknown, vpc, groups, public), assets)| {
            // The class's addresses: its assets' own when all are known, else its
            // subnets', else unknown (anywhere).
            let mut ranges = Vec::new();
            if assets.iter().all(|asset| !asset.addresses.is_empty()) {
                ranges.extend(
                    assets
                        .iter()
                        .flat_map(|asset| asset.addresses.iter().copied()),
                );
            } else if !unknown {
                for subnet in &subnets {
                    ranges.extend(
                        network
                            .subnet(*subnet)
                            .into_iter()
                            .flat_map(|s| s.cidrs.clone()),
                    );
                }
            }
            let groups = groups.map_or(Link::Unknown, Link::Known);
            Class {
                assets: assets.iter().map(|asset| asset.resource).collect(),
                // An unknown subnet may be any: no subnet-level check applies.
                subnets: if unknown { Vec::new() } else { subnets },
                vpc,
                endpoint: Endpoint {
                    ranges,
                    groups: groups.clone(),
                    internet: false,
                },
                groups,
                public,
            }
        })
        .collect()
}

impl Layers<'_> {
    /// Every connection between classes, and between classes and the internet.
    pub fn connections(&self, classes: &[Class]) -> Vec<Connection> {
        let mut out = Vec::new();
        let internet = Endpoint::internet();
        // Classes by security group, and those whose groups are unknown (they carry
        // every group), so that a target admitting only some groups meets only those.
        let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut any_group = Vec::new();
        for (index, class) in classes.iter().enumerate() {
            match &class.groups {
                Link::Known(list) => list
                    .iter()
                    .for_each(|group| by_group.entry(*group).or_default().push(index)),
                Link::Unknown => any_group.push(index),
            }
        }
        let everyone: Vec<usize> = (0..classes.len()).collect();
        for (b, to) in classes.iter().enumerate() {
            if to.public
                && let Some((ports, resource)) = self.inbound_from_internet(to, &internet)
            {
                out.push(Connection {
                    from: End::Internet,
                    to: End::Class(b),
                    ports,
                    resource,
                });
            }
            if let Some((ports, resource)) = self.outbound_to_internet(to, &internet) {
                out.push(Connection {
                    from: End::Class(b),
                    to: End::Internet,
                    ports,
                    resource,
                });
            }
            let candidates = match self.groups.admitted(&to.groups) {
                None => everyone.clone(),
                Some((groups, prefixes)) => {
                    let by_prefix = everyone.iter().copied().filter(|&index| {
                        let endpoint = &classes[index].endpoint;
                        prefixes.iter().any(|prefix| endpoint.meets(prefix))
                    });
                    let mut list: Vec<usize> = groups
                        .iter()
                        .filter_map(|group| by_group.get(group))
                        .flatten()
                        .chain(&any_group)
                        .copied()
                        .chain(by_prefix)
                        .collect();
                    list.sort_unstable();
                    list.dedup();
                    list
                }
            };
            for a in candidates {
                let Some(from) = classes.get(a) else {
                    continue;
                };
                // An asset connecting to itself says nothing.
                if a == b && from.assets.len() < 2 {
                    continue;
                }
                if let Some((ports, resource)) = self.between(from, to) {
                    out.push(Connection {
                        from: End::Class(a),
                        to: End::Class(b),
                        ports,
                        resource,
                    });
                }
            }
        }
        out.sort_by_key(|connection| (connection.from, connection.to));
        out
    }

    fn between(&self, from: &Class, to: &Class) -> Option<(PortSet, usize)> {
        let egress = self.groups.allowed(&from.groups, true, &to.endpoint);
        let ingress = self.groups.allowed(&to.groups, false, &from.endpoint);
        let wanted = egress.ports.intersect(&ingress.ports);
        if wanted.is_empty() {
            return None;
        }
        let mut ports = PortSet::empty();
        for_pairs(&from.subnets, &to.subnets, |a, b| {
            if !self.routed(a, from.vpc, &from.endpoint, b, to.vpc, &to.endpoint) {
                return;
            }
            ports = ports.union(&self.through_acls(a, &from.endpoint, b, &to.endpoint, &wanted));
        });
        let resource = ingress
            .resource
            .or(egress.resource)
            .or(to.assets.first().copied())?;
        (!ports.is_empty()).then_some((ports, resource))
    }

    fn inbound_from_internet(&self, to: &Class, internet: &Endpoint) -> Option<(PortSet, usize)> {
        let ingress = self.groups.allowed(&to.groups, false, internet);
        if ingress.ports.is_empty() {
            return None;
        }
        let mut ports = PortSet::empty();
        for_pairs(&[], &to.subnets, |_, b| {
            let out = match b {
                Some(b) => self.routing.targets(b, to.vpc, internet),
                None => vec![Target::Unknown],
            };
            if out
                .iter()
                .any(|t| matches!(t, Target::InternetGateway | Target::Unknown))
            {
                ports = ports.union(&self.through_acls(
                    None,
                    internet,
                    b,
                    &to.endpoint,
                    &ingress.ports,
                ));
            }
        });
        let resource = ingress.resource.or(to.assets.first().copied())?;
        (!ports.is_empty()).then_some((ports, resource))
    }

    fn outbound_to_internet(&self, from: &Class, internet: &Endpoint) -> Option<(PortSet, usize)> {
        let egress = self.groups.allowed(&from.groups, true, internet);
        if egress.ports.is_empty() {
            return None;
        }
        let mut ports = PortSet::empty();
        for_pairs(&from.subnets, &[], |a, _| {
            let out = match a {
                Some(a) => self.routing.targets(a, from.vpc, internet),
                None => vec![Target::Unknown],
            };
            // Out through a NAT gateway needs no public address; out through an
            // internet gateway does.
            let routed = out.iter().any(|target| match target {
                Target::NatGateway | Target::Unknown => true,
                Target::InternetGateway => from.public,
                _ => false,
            });
            if routed {
                ports = ports.union(&self.through_acls(
                    a,
                    &from.endpoint,
                    None,
                    internet,
                    &egress.ports,
                ));
            }
        });
        let resource = egress.resource.or(from.assets.first().copied())?;
        (!ports.is_empty()).then_some((ports, resource))
    }

    /// Whether packets from subnet `a` reach subnet `b` and answers come back: within a
    /// VPC the local route does it; across VPCs both sides need a route through a
    /// peering connection that joins them.
    fn routed(
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
    fn through_acls(
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
fn for_pairs(a: &[usize], b: &[usize], mut visit: impl FnMut(Option<usize>, Option<usize>)) {
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

#[cfg(test)]
mod reference;
