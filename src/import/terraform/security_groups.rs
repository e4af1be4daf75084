//! Security groups: inline `ingress` and `egress` blocks, `aws_security_group_rule`, and
//! `aws_vpc_security_group_ingress_rule` / `egress_rule`; peers given as prefixes, other
//! groups or `self`. Security groups are stateful, so only the opening direction is
//! checked: the answer is always allowed back.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde_json::Value;

use super::endpoint::{Endpoint, any_v4, any_v6};
use super::network;
use super::objects::{Link, Plan, array};
use super::port_set::PortSet;

/// Who a rule admits.
#[derive(Debug)]
enum Peer {
    Prefixes(Vec<IpNet>),
    Groups(Link),
    /// The group that holds the rule.
    Itself,
}

#[derive(Debug)]
struct Rule {
    ports: PortSet,
    peers: Vec<Peer>,
    /// The resource that wrote the rule, for the flow's location.
    resource: usize,
}

#[derive(Debug, Default)]
struct Group {
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
}

/// Every security group of a plan, by resource index.
#[derive(Debug, Default)]
pub struct SecurityGroups {
    groups: BTreeMap<usize, Group>,
    /// Rules whose group the plan cannot name: they may belong to any group.
    loose: Group,
}

impl SecurityGroups {
    /// Whom `groups`' ingress rules may admit: members of some groups, or addresses in
    /// some prefixes; `None` when the plan cannot say, so that any source may match.
    /// Lets `connections` skip pairs that no rule can join.
    pub fn admitted(&self, groups: &Link) -> Option<(Vec<usize>, Vec<IpNet>)> {
        let Link::Known(list) = groups else {
            return None;
        };
        if list.is_empty() || !self.loose.ingress.is_empty() {
            return None;
        }
        let mut admitted = Vec::new();
        let mut prefixes = Vec::new();
        for owner in list {
            for rule in self.groups.get(owner).map_or(&[][..], |g| &g.ingress) {
                if rule.ports.is_empty() {
                    continue;
                }
                for peer in &rule.peers {
                    match peer {
                        Peer::Groups(Link::Unknown) => return None,
                        Peer::Prefixes(list) => prefixes.extend(list.iter().copied()),
                        Peer::Groups(Link::Known(referenced)) => {
                            admitted.extend(referenced.iter().copied());
                        }
                        Peer::Itself => admitted.push(*owner),
                    }
                }
            }
        }
        admitted.sort_unstable();
        admitted.dedup();
        prefixes.sort_unstable();
        prefixes.dedup();
        Some((admitted, prefixes))
    }

    /// The resources of rules whose group the plan cannot name, for warnings.
    pub fn loose_rules(&self) -> Vec<usize> {
        let mut list: Vec<usize> = (self.loose.ingress.iter())
            .chain(&self.loose.egress)
            .map(|rule| rule.resource)
            .collect();
        list.sort_unstable();
        list.dedup();
        list
    }
}

/// What a set of groups allows one way, and the resource of the first rule that does.
pub struct Allowed {
    pub ports: PortSet,
    pub resource: Option<usize>,
}

impl SecurityGroups {
    pub fn read(plan: &Plan) -> SecurityGroups {
        let mut groups = SecurityGroups::default();
        for resource in plan.of_kind(&["aws_security_group", "aws_default_security_group"]) {
            let mut group = Group::default();
            for (direction, list) in [
                ("ingress", &mut group.ingress),
                ("egress", &mut group.egress),
            ] {
                let blocks = plan.resource(resource).values.get(direction);
                for (index, block) in array(blocks).enumerate() {
                    let index = index.to_string();
                    let path = [direction, index.as_str()];
                    let mut peers = prefixes(block, &["cidr_blocks", "ipv6_cidr_blocks"]);
                    let referenced = plan.link(resource, &path, "security_groups");
                    if referenced != Link::Known(Vec::new()) {
                        peers.push(Peer::Groups(referenced));
                    }
                    if block.get("self").and_then(Value::as_bool) == Some(true) {
                        peers.push(Peer::Itself);
                    }
                    list.push(Rule {
                        ports: ports(block, "protocol"),
                        peers,
                        resource,
                    });
                }
            }
            groups.groups.insert(resource, group);
        }
        for resource in plan.of_kind(&["aws_security_group_rule"]) {
            let values = &plan.resource(resource).values;
            let mut peers = prefixes(values, &["cidr_blocks", "ipv6_cidr_blocks"]);
            let referenced = plan.link(resource, &[], "source_security_group_id");
            if referenced != Link::Known(Vec::new()) {
                peers.push(Peer::Groups(referenced));
            }
            if values.get("self").and_then(Value::as_bool) == Some(true) {
                peers.push(Peer::Itself);
            }
            let egress = values.get("type").and_then(Value::as_str) == Some("egress");
            groups.add(
                plan.link(resource, &[], "security_group_id"),
                egress,
                Rule {
                    ports: ports(values, "protocol"),
                    peers,
                    resource,
                },
            );
        }
        for (kind, egress) in [
            ("aws_vpc_security_group_ingress_rule", false),
            ("aws_vpc_security_group_egress_rule", true),
        ] {
            for resource in plan.of_kind(&[kind]) {
                let values = &plan.resource(resource).values;
                let mut peers = prefixes(values, &["cidr_ipv4", "cidr_ipv6"]);
                let referenced = plan.link(resource, &[], "referenced_security_group_id");
                if referenced != Link::Known(Vec::new()) {
                    peers.push(Peer::Groups(referenced));
                }
                groups.add(
                    plan.link(resource, &[], "security_group_id"),
                    egress,
                    Rule {
                        ports: ports(values, "ip_protocol"),
                        peers,
                        resource,
                    },
                );
            }
        }
        groups
    }

    fn add(&mut self, owner: Link, egress: bool, rule: Rule) {
        let group = match owner {
            Link::Known(list) => match list.first() {
                Some(first) => self.groups.entry(*first).or_default(),
                None => return,
            },
            Link::Unknown => &mut self.loose,
        };
        if egress {
            group.egress.push(rule);
        } else {
            group.ingress.push(rule);
        }
    }

    /// What `groups` allow towards (`egress`) or from `peer`. No known group at all
    /// (an asset whose groups the plan cannot name, or the VPC's default group that the
    /// plan does not describe) allows everything: over-approximating, never under.
    pub fn allowed(&self, groups: &Link, egress: bool, peer: &Endpoint) -> Allowed {
        let list = match groups {
            Link::Known(list) if !list.is_empty() => list,
            _ => {
                return Allowed {
                    ports: PortSet::all(),
                    resource: None,
                };
            }
        };
        let mut ports = PortSet::empty();
        // The rule a flow is located at: one that names the peer's group before one
        // that only covers its addresses, since it says more about intent; then the
        // first resource.
        let mut best: Option<(bool, usize)> = None;
        let mut consider = |rule: &Rule, owner: Option<usize>| {
            let by_group = rule.peers.iter().any(|p| match p {
                Peer::Prefixes(_) => false,
                Peer::Groups(groups) => peer.has_group(groups),
                Peer::Itself => {
                    peer.has_group(&owner.map_or(Link::Unknown, |o| Link::Known(vec![o])))
                }
            });
            let by_prefix = rule.peers.iter().any(|p| match p {
                Peer::Prefixes(prefixes) => prefixes.iter().any(|prefix| peer.meets(prefix)),
                _ => false,
            });
            if (by_group || by_prefix) && !rule.ports.is_empty() {
                ports = ports.union(&rule.ports);
                let key = (!by_group, rule.resource);
                best = Some(best.map_or(key, |b| b.min(key)));
            }
        };
        for owner in list {
            if let Some(group) = self.groups.get(owner) {
                let rules = if egress {
                    &group.egress
                } else {
                    &group.ingress
                };
                rules.iter().for_each(|rule| consider(rule, Some(*owner)));
            }
        }
        let loose = if egress {
            &self.loose.egress
        } else {
            &self.loose.ingress
        };
        loose.iter().for_each(|rule| consider(rule, None));
        Allowed {
            ports,
            resource: best.map(|(_, resource)| resource),
        }
    }
}

fn ports(values: &Value, protocol_key: &str) -> PortSet {
    let protocol = match values.get(protocol_key) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        // Unknown until apply: any protocol.
        _ => "-1".to_owned(),
    };
    let port = |key: &str| values.get(key).and_then(Value::as_i64).unwrap_or(-1);
    PortSet::from_rule(&protocol, port("from_port"), port("to_port"))
}

fn prefixes(values: &Value, keys: &[&str]) -> Vec<Peer> {
    let mut list = network::prefixes(values, keys);
    // A prefix list names prefixes the plan does not hold: any address.
    let prefix_list =
        ["prefix_list_ids", "prefix_list_id"]
            .iter()
            .any(|key| match values.get(*key) {
                Some(Value::Array(items)) => !items.is_empty(),
                Some(Value::String(text)) => !text.is_empty(),
                _ => false,
            });
    if prefix_list {
        list.extend([any_v4(), any_v6()]);
    }
    if list.is_empty() {
        Vec::new()
    } else {
        vec![Peer::Prefixes(list)]
    }
}
