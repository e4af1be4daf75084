//! A naive reference for `connections`: random VPC layouts (subnets, NACLs, routes to
//! internet and NAT gateways, public addresses, security groups with group references,
//! `self` and single hosts, instances), each asset pair and port probed one by one,
//! straight from the AWS documentation's rules, and compared with the importer's
//! grants; and the same grants joined per pair, compared with the pairwise oracle
//! (internet included, host rules that cover part of a class, and IPv6 addresses and
//! routes).

use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::objects::{Plan, Side};
use super::super::port_set::PortSet;
use super::super::{
    nacls::Acls, network::Network, routing::Routing, security_groups::SecurityGroups,
};
use super::{End, Layers, classes, pairwise};

#[derive(Clone, Debug)]
enum Peer {
    Subnet(usize),
    Anywhere,
    Group(usize),
    Itself,
    /// One instance's address (by index, modulo their number): a prefix that may cover
    /// part of a class, which only the pairwise oracle is asked about.
    Host(usize),
}

#[derive(Clone, Debug)]
struct SgRule {
    protocol: &'static str,
    ports: (i64, i64),
    peer: Peer,
}

#[derive(Clone, Debug)]
struct AclRule {
    number: i64,
    allow: bool,
    protocol: &'static str,
    ports: (i64, i64),
    /// `None`: 0.0.0.0/0.
    subnet: Option<usize>,
}

#[derive(Clone, Debug)]
struct Layout {
    /// Per subnet, its NACL's (ingress, egress) rules, or none.
    acls: Vec<Option<(Vec<AclRule>, Vec<AclRule>)>>,
    /// Per group, (ingress, egress).
    groups: Vec<(Vec<SgRule>, Vec<SgRule>)>,
    /// Per instance, (subnet, groups).
    instances: Vec<(usize, Vec<usize>)>,
    /// Per instance, whether it has a public address.
    public: Vec<bool>,
    /// Per instance, whether it has an IPv6 address.
    ipv6: Vec<bool>,
    /// Per subnet, its default route: none, an internet gateway or a NAT gateway.
    routes: Vec<u8>,
    /// Per subnet, its IPv6 default route: none, an internet gateway or an egress-only
    /// one.
    routes6: Vec<u8>,
}

const PROBES: &[(&str, u16)] = &[
    ("tcp", 22),
    ("tcp", 443),
    ("tcp", 5000),
    ("udp", 53),
    ("icmp", 0),
];

fn protocol() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("tcp"), Just("udp"), Just("-1"), Just("icmp")]
}

fn ports() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        Just((22, 22)),
        Just((443, 443)),
        Just((0, 1023)),
        Just((1024, 65535)),
        Just((0, 65535)),
        Just((3000, 6000)),
    ]
}

/// Random layouts; `hosts` adds rules naming one instance's address, and IPv6
/// addresses and routes (which the naive reference does not model).
fn layout(hosts: bool) -> impl Strategy<Value = Layout> {
    (1usize..=3, 1usize..=3).prop_flat_map(move |(subnets, groups)| {
        let sg_rule = move || {
            let host = if hosts { 4 } else { 0 };
            (
                protocol(),
                ports(),
                prop_oneof![
                    4 => (0..subnets).prop_map(Peer::Subnet),
                    4 => Just(Peer::Anywhere),
                    4 => (0..groups).prop_map(Peer::Group),
                    4 => Just(Peer::Itself),
                    host => (0usize..6).prop_map(Peer::Host),
                ],
            )
                .prop_map(|(protocol, ports, peer)| SgRule {
                    protocol,
                    ports,
                    peer,
                })
        };
        let acl_rule = move || {
            (
                1i64..20,
                any::<bool>(),
                protocol(),
                ports(),
                proptest::option::of(0..subnets),
            )
                .prop_map(|(number, allow, protocol, ports, subnet)| AclRule {
                    number: number * 10,
                    allow,
                    protocol,
                    ports,
                    subnet,
                })
        };
        let acl = proptest::option::of((
            proptest::collection::vec(acl_rule(), 0..4),
            proptest::collection::vec(acl_rule(), 0..4),
        ));
        (
            proptest::collection::vec(acl, subnets),
            proptest::collection::vec(
                (
                    proptest::collection::vec(sg_rule(), 0..3),
                    proptest::collection::vec(sg_rule(), 0..3),
                ),
                groups,
            ),
            proptest::collection::vec(
                (
                    0..subnets,
                    proptest::collection::btree_set(0..groups, 1..=2),
                    any::<bool>(),
                    any::<bool>().prop_map(move |ipv6| ipv6 && hosts),
                ),
                2..6,
            ),
            proptest::collection::vec(0u8..3, subnets),
            proptest::collection::vec(0u8..if hosts { 3 } else { 1 }, subnets),
        )
            .prop_map(|(acls, groups, instances, routes, routes6)| Layout {
                acls,
                groups,
                public: instances.iter().map(|(_, _, public, _)| *public).collect(),
                ipv6: instances.iter().map(|(_, _, _, ipv6)| *ipv6).collect(),
                instances: instances
                    .into_iter()
                    .map(|(subnet, groups, _, _)| (subnet, groups.into_iter().collect()))
                    .collect(),
                routes,
                routes6,
            })
    })
}

fn subnet_cidr(subnet: usize) -> String {
    format!("10.0.{subnet}.0/24")
}

fn ip(layout: &Layout, instance: usize) -> String {
    format!("10.0.{}.{}", layout.instances[instance].0, 10 + instance)
}

/// The host prefix of the instance that `Peer::Host(index)` names.
fn host(layout: &Layout, index: usize) -> String {
    format!("{}/32", ip(layout, index % layout.instances.len()))
}

/// The layout as a state, ids known, in the shape `terraform show -json` writes.
fn state(layout: &Layout) -> String {
    let mut resources = vec![
        json!({"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc",
        "values": {"id": "vpc-1", "cidr_block": "10.0.0.0/16"}}),
    ];
    for (s, acl) in layout.acls.iter().enumerate() {
        resources.push(
            json!({"address": format!("aws_subnet.s{s}"), "mode": "managed", "type": "aws_subnet",
            "values": {"id": format!("subnet-{s}"), "vpc_id": "vpc-1", "cidr_block": subnet_cidr(s),
                "ipv6_cidr_block": format!("2600:1f18:0:{s}::/64")}}),
        );
        if let Some((ingress, egress)) = acl {
            let rules = |list: &[AclRule]| -> Vec<Value> {
                list.iter().map(|r| json!({"rule_no": r.number, "action": if r.allow {"allow"} else {"deny"},
                    "protocol": r.protocol, "from_port": r.ports.0, "to_port": r.ports.1,
                    "cidr_block": r.subnet.map_or("0.0.0.0/0".to_owned(), subnet_cidr), "ipv6_cidr_block": ""})).collect()
            };
            resources.push(json!({"address": format!("aws_network_acl.s{s}"), "mode": "managed", "type": "aws_network_acl",
                "values": {"id": format!("acl-{s}"), "vpc_id": "vpc-1", "subnet_ids": [format!("subnet-{s}")],
                    "ingress": rules(ingress), "egress": rules(egress)}}));
        }
    }
    for (g, (ingress, egress)) in layout.groups.iter().enumerate() {
        let rules = |list: &[SgRule]| -> Vec<Value> {
            list.iter()
                .map(|r| {
                    let (cidrs, groups, itself) = match r.peer {
                        Peer::Subnet(s) => (vec![subnet_cidr(s)], vec![], false),
                        Peer::Anywhere => (vec!["0.0.0.0/0".to_owned()], vec![], false),
                        Peer::Group(other) => (vec![], vec![format!("sg-{other}")], false),
                        Peer::Itself => (vec![], vec![], true),
                        Peer::Host(h) => (vec![host(layout, h)], vec![], false),
                    };
                    json!({"protocol": r.protocol, "from_port": r.ports.0, "to_port": r.ports.1,
                    "cidr_blocks": cidrs, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
                    "security_groups": groups, "self": itself})
                })
                .collect()
        };
        resources.push(
            json!({"address": format!("aws_security_group.g{g}"), "mode": "managed",
            "type": "aws_security_group", "values": {"id": format!("sg-{g}"), "vpc_id": "vpc-1",
                "ingress": rules(ingress), "egress": rules(egress)}}),
        );
    }
    for (i, (subnet, groups)) in layout.instances.iter().enumerate() {
        let ipv6: Vec<String> = (layout.ipv6[i]
            .then(|| format!("2600:1f18:0:{subnet}::{}", 10 + i)))
        .into_iter()
        .collect();
        resources.push(json!({"address": format!("aws_instance.i{i}"), "mode": "managed", "type": "aws_instance",
            "values": {"id": format!("i-{i}"), "subnet_id": format!("subnet-{subnet}"), "private_ip": ip(layout, i),
                "vpc_security_group_ids": groups.iter().map(|g| format!("sg-{g}")).collect::<Vec<_>>(),
                "associate_public_ip_address": layout.public[i],
                "ipv6_address_count": ipv6.len(), "ipv6_addresses": ipv6}}));
    }
    let routed = |s: usize| layout.routes[s] > 0 || layout.routes6[s] > 0;
    if (0..layout.routes.len()).any(routed) {
        resources.push(
            json!({"address": "aws_internet_gateway.main", "mode": "managed",
            "type": "aws_internet_gateway", "values": {"id": "igw-1", "vpc_id": "vpc-1"}}),
        );
        resources.push(json!({"address": "aws_nat_gateway.main", "mode": "managed",
            "type": "aws_nat_gateway", "values": {"id": "nat-1", "subnet_id": "subnet-0"}}));
        resources.push(json!({"address": "aws_egress_only_internet_gateway.main", "mode": "managed",
            "type": "aws_egress_only_internet_gateway", "values": {"id": "eigw-1", "vpc_id": "vpc-1"}}));
    }
    for (s, route) in layout.routes.iter().enumerate() {
        if !routed(s) {
            continue;
        }
        let mut blocks = Vec::new();
        let (gateway, nat) = match route {
            1 => ("igw-1", ""),
            2 => ("", "nat-1"),
            _ => ("", ""),
        };
        if *route > 0 {
            blocks.push(
                json!({"cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "", "gateway_id": gateway,
                "nat_gateway_id": nat, "vpc_peering_connection_id": ""}),
            );
        }
        let (gateway, egress_only) = match layout.routes6[s] {
            1 => ("igw-1", ""),
            2 => ("", "eigw-1"),
            _ => ("", ""),
        };
        if layout.routes6[s] > 0 {
            blocks.push(
                json!({"cidr_block": "", "ipv6_cidr_block": "::/0", "gateway_id": gateway,
                "egress_only_gateway_id": egress_only, "nat_gateway_id": "",
                "vpc_peering_connection_id": ""}),
            );
        }
        resources.push(
            json!({"address": format!("aws_route_table.s{s}"), "mode": "managed",
            "type": "aws_route_table", "values": {"id": format!("rtb-{s}"), "vpc_id": "vpc-1",
                "route": blocks}}),
        );
        resources.push(
            json!({"address": format!("aws_route_table_association.s{s}"),
            "mode": "managed", "type": "aws_route_table_association",
            "values": {"id": format!("rtbassoc-{s}"), "subnet_id": format!("subnet-{s}"),
                "route_table_id": format!("rtb-{s}")}}),
        );
    }
    json!({"format_version": "1.0", "terraform_version": "1.6.6",
        "values": {"root_module": {"resources": resources}}})
    .to_string()
}

fn protocol_matches(rule: &str, protocol: &str) -> bool {
    rule == "-1" || rule == protocol
}

fn port_matches(rule: &str, (from, to): (i64, i64), port: u16) -> bool {
    // Ports do not apply to ICMP or to "all protocols".
    rule == "-1" || rule == "icmp" || (from <= i64::from(port) && i64::from(port) <= to)
}

fn in_subnet(ip: &str, subnet: usize) -> bool {
    ip.starts_with(&format!("10.0.{subnet}."))
}

/// Whether instance `me`'s groups let `peer` through one way, per the AWS docs: any rule
/// of any group whose protocol, port and source (prefix, group, or the group itself) match.
fn sg(layout: &Layout, me: usize, egress: bool, peer: usize, protocol: &str, port: u16) -> bool {
    let peer_groups = &layout.instances[peer].1;
    layout.instances[me].1.iter().any(|&g| {
        let rules = if egress {
            &layout.groups[g].1
        } else {
            &layout.groups[g].0
        };
        rules.iter().any(|r| {
            protocol_matches(r.protocol, protocol)
                && port_matches(r.protocol, r.ports, port)
                && match r.peer {
                    Peer::Subnet(s) => in_subnet(&ip(layout, peer), s),
                    Peer::Anywhere => true,
                    Peer::Group(other) => peer_groups.contains(&other),
                    Peer::Itself => peer_groups.contains(&g),
                    Peer::Host(h) => format!("{}/32", ip(layout, peer)) == host(layout, h),
                }
        })
    })
}

/// A NACL's verdict for one packet: the lowest-numbered matching rule decides; none
/// matching denies. A subnet without a NACL has the default one, which allows all.
fn acl(
    layout: &Layout,
    subnet: usize,
    egress: bool,
    peer_ip: &str,
    protocol: &str,
    port: u16,
) -> bool {
    let Some((ingress, egress_rules)) = &layout.acls[subnet] else {
        return true;
    };
    let mut rules: Vec<&AclRule> = if egress {
        egress_rules.iter().collect()
    } else {
        ingress.iter().collect()
    };
    rules.sort_by_key(|r| r.number);
    rules
        .iter()
        .find(|r| {
            protocol_matches(r.protocol, protocol)
                && port_matches(r.protocol, r.ports, port)
                && r.subnet.is_none_or(|s| in_subnet(peer_ip, s))
        })
        .is_some_and(|r| r.allow)
}

fn connected(layout: &Layout, x: usize, y: usize, protocol: &str, port: u16) -> bool {
    if !sg(layout, x, true, y, protocol, port) || !sg(layout, y, false, x, protocol, port) {
        return false;
    }
    let (sx, sy) = (layout.instances[x].0, layout.instances[y].0);
    if sx == sy {
        return true;
    }
    let (ix, iy) = (ip(layout, x), ip(layout, y));
    if !acl(layout, sx, true, &iy, protocol, port) || !acl(layout, sy, false, &ix, protocol, port) {
        return false;
    }
    if protocol == "icmp" {
        return true;
    }
    // The answer goes back to one ephemeral port; some port must pass both NACLs.
    (1024..=65535u16).any(|e| {
        acl(layout, sy, true, &ix, protocol, e) && acl(layout, sx, false, &iy, protocol, e)
    })
}

fn probe_set(protocol: &str, port: u16) -> PortSet {
    PortSet::from_rule(protocol, i64::from(port), i64::from(port))
}

/// A plan with every layer read from it.
struct Read {
    plan: Plan,
    network: Network,
    groups: SecurityGroups,
    acls: Acls,
    routing: Routing,
}

impl Read {
    fn new(text: &str) -> Read {
        let plan = Plan::read("state.json", text, Side::Planned).unwrap();
        let network = Network::read(&plan);
        Read {
            groups: SecurityGroups::read(&plan),
            acls: Acls::read(&plan, &network),
            routing: Routing::read(&plan),
            network,
            plan,
        }
    }

    fn layers(&self) -> Layers<'_> {
        Layers {
            groups: &self.groups,
            acls: &self.acls,
            routing: &self.routing,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn grouped_connections_match_the_naive_reference(layout in layout(false)) {
        let text = state(&layout);
        let read = Read::new(&text);
        let (plan, layers) = (&read.plan, read.layers());
        let classes = classes(&read.network);
        let grants = layers.grants(&classes);
        let index = |resource: usize| -> usize {
            plan.resource(resource).address.trim_start_matches("aws_instance.i").parse().unwrap()
        };
        let has = |ends: &[End], who: usize| {
            ends.iter().any(|end| match end.index() {
                Some(k) => classes[k].assets.iter().any(|a| index(*a) == who),
                None => false,
            })
        };
        for x in 0..layout.instances.len() {
            for y in 0..layout.instances.len() {
                if x == y {
                    continue;
                }
                for &(protocol, port) in PROBES {
                    let expected = connected(&layout, x, y, protocol, port);
                    let probe = probe_set(protocol, port);
                    let actual = grants.iter().any(|g| {
                        has(&g.from, x) && has(&g.to, y) && !g.ports.intersect(&probe).is_empty()
                    });
                    prop_assert_eq!(actual, expected, "i{} -> i{} on {}/{}\n{}", x, y, protocol, port, text);
                }
            }
        }
    }

    /// The grants, joined per pair of ends, say exactly what the pair-by-pair reading
    /// says, over-approximations of classes included.
    #[test]
    fn grants_per_rule_match_the_pairwise_reading(layout in layout(true)) {
        let text = state(&layout);
        let read = Read::new(&text);
        let layers = read.layers();
        let classes = classes(&read.network);
        let mut joined: std::collections::BTreeMap<(End, End), PortSet> = Default::default();
        for grant in layers.grants(&classes) {
            prop_assert!(!grant.ports.is_empty());
            for from in grant.from.iter() {
                for to in grant.to.iter() {
                    // A class granted to itself says something only with two assets.
                    if from == to && from.index().is_some_and(|k| classes[k].assets.len() < 2) {
                        continue;
                    }
                    let ports = joined.entry((*from, *to)).or_default();
                    *ports = ports.union(&grant.ports);
                }
            }
        }
        prop_assert_eq!(joined, pairwise::connections(&layers, &classes), "{}", text);
    }
}
