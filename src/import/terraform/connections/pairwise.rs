//! The pair-by-pair reading that `grants` replaced, kept as the tests' oracle: for each
//! ordered pair of ends, what the egress rules of one and the ingress rules of the
//! other allow (`SecurityGroups::allowed`), then routing and the NACLs asked for exactly
//! those ports, subnet pair by subnet pair. A property test holds the union of the
//! grants joining each pair to it, on random plans with NACLs, routes and peering.

use std::collections::BTreeMap;

use super::super::endpoint::Endpoint;
use super::super::objects::Link;
use super::super::port_set::PortSet;
use super::{Class, End, Layers, for_pairs};

/// Every ordered pair of ends that some traffic joins, with that traffic. A class
/// paired with itself counts when it holds two assets or more.
pub fn connections(layers: &Layers, classes: &[Class]) -> BTreeMap<(End, End), PortSet> {
    let mut out = BTreeMap::new();
    let internet = Endpoint::internet();
    for (b, to) in classes.iter().enumerate() {
        if let Some(ports) = inbound(layers, to, &internet) {
            out.insert((End::INTERNET, End::class(b)), ports);
        }
        if let Some(ports) = outbound(layers, to, &internet) {
            out.insert((End::class(b), End::INTERNET), ports);
        }
        for (a, from) in classes.iter().enumerate() {
            if a == b && from.assets.len() < 2 {
                continue;
            }
            if let Some(ports) = between(layers, from, to) {
                out.insert((End::class(a), End::class(b)), ports);
            }
        }
    }
    out
}

fn between(layers: &Layers, from: &Class, to: &Class) -> Option<PortSet> {
    let egress = layers
        .groups
        .allowed(&from.groups, true, &to.endpoint, &to.groups);
    let ingress = layers
        .groups
        .allowed(&to.groups, false, &from.endpoint, &from.groups);
    let wanted = egress.intersect(&ingress);
    if wanted.is_empty() {
        return None;
    }
    let mut ports = PortSet::empty();
    for_pairs(&from.subnets, &to.subnets, |a, b| {
        if !layers.routed(a, from.vpc, &from.endpoint, b, to.vpc, &to.endpoint) {
            return;
        }
        let through = layers.through_acls(a, &from.endpoint, b, &to.endpoint, &wanted);
        ports = ports.union(&through);
    });
    (!ports.is_empty()).then_some(ports)
}

fn inbound(layers: &Layers, to: &Class, internet: &Endpoint) -> Option<PortSet> {
    let ingress = layers
        .groups
        .allowed(&to.groups, false, internet, &Link::Known(Vec::new()));
    if ingress.is_empty() {
        return None;
    }
    let ports = layers.inbound(to, &ingress);
    (!ports.is_empty()).then_some(ports)
}

fn outbound(layers: &Layers, from: &Class, internet: &Endpoint) -> Option<PortSet> {
    let egress = layers
        .groups
        .allowed(&from.groups, true, internet, &Link::Known(Vec::new()));
    if egress.is_empty() {
        return None;
    }
    let ports = layers.outbound(from, &egress);
    (!ports.is_empty()).then_some(ports)
}
