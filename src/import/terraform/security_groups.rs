//! Security groups: inline `ingress` and `egress` blocks, `aws_security_group_rule`, and
//! `aws_vpc_security_group_ingress_rule` / `egress_rule`; peers given as prefixes, other
//! groups or `self`. Security groups are stateful, so only the opening direction is
//! checked: the answer is always allowed back.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ipnet::IpNet;

use super::document::Value;
#[cfg(test)]
use super::endpoint::Endpoint;
use super::endpoint::{any_v4, any_v6};
use super::network;
use super::objects::{Link, Plan, array, at_path};
use super::port_set::PortSet;

/// Who a rule admits.
#[derive(Clone, Debug)]
enum Peer {
    Prefixes(Vec<IpNet>),
    Groups(Link),
    /// The group that holds the rule.
    Itself,
}

#[derive(Clone, Debug)]
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

impl Group {
    fn push(&mut self, egress: bool, rule: Rule) {
        if egress {
            self.egress.push(rule);
        } else {
            self.ingress.push(rule);
        }
    }
}

/// Every security group of a plan, by resource index.
#[derive(Debug, Default)]
pub struct SecurityGroups {
    groups: BTreeMap<usize, Group>,
    /// Rules whose group the plan cannot name: they may belong to any group.
    loose: Group,
    /// Groups whose inline rules one way are unknown until apply, with that way
    /// (`"ingress"` or `"egress"`), in address order.
    unknown_blocks: Vec<(usize, &'static str)>,
}

/// Whom one rule admits, as a test on the other end: by the groups it carries, or by
/// its addresses. `allowed` asks it of one end; `connections` finds every end it admits
/// at once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Admits {
    /// The rule names groups (or its own): an end whose groups are unknown may carry one.
    pub by_group: bool,
    /// One of those groups is unknown until apply: every end with groups may carry it.
    pub any_group: bool,
    /// The groups named, by resource index, sorted.
    pub groups: Vec<usize>,
    /// The prefixes named, sorted.
    pub prefixes: Vec<IpNet>,
}

impl Admits {
    fn of(rule: &Rule, owner: Option<usize>) -> Admits {
        let mut admits = Admits {
            by_group: false,
            any_group: false,
            groups: Vec::new(),
            prefixes: Vec::new(),
        };
        for peer in &rule.peers {
            match peer {
                Peer::Prefixes(list) => admits.prefixes.extend(list.iter().copied()),
                Peer::Groups(link) => {
                    admits.by_group = true;
                    match link {
                        Link::Known(list) => admits.groups.extend(list.iter().copied()),
                        Link::Unknown => admits.any_group = true,
                    }
                }
                Peer::Itself => {
                    admits.by_group = true;
                    match owner {
                        Some(owner) => admits.groups.push(owner),
                        None => admits.any_group = true,
                    }
                }
            }
        }
        admits.groups.sort_unstable();
        admits.groups.dedup();
        admits.prefixes.sort_unstable();
        admits.prefixes.dedup();
        admits
    }

    /// Whether `peer`, whose groups are `groups`, carries a group the rule names.
    #[cfg(test)]
    fn by_group(&self, peer: &Endpoint, groups: &Link) -> bool {
        if !self.by_group || peer.internet {
            return false;
        }
        match groups {
            Link::Unknown => true,
            Link::Known(mine) => {
                self.any_group
                    || mine
                        .iter()
                        .any(|group| self.groups.binary_search(group).is_ok())
            }
        }
    }

    /// Whether a prefix the rule names covers some address of `peer`.
    #[cfg(test)]
    fn by_prefix(&self, peer: &Endpoint) -> bool {
        self.prefixes.iter().any(|prefix| peer.meets(prefix))
    }
}

/// One rule as `connections` reads it.
pub struct RuleView<'a> {
    /// The group that holds it; `None` when the plan cannot name it (any group).
    pub owner: Option<usize>,
    pub ports: &'a PortSet,
    pub admits: Admits,
    /// The resource that wrote the rule.
    pub resource: usize,
}

impl SecurityGroups {
    /// Every rule one way (`egress`) that allows some traffic: the groups' in index
    /// order, then the loose ones.
    pub fn rules(&self, egress: bool) -> Vec<RuleView<'_>> {
        fn pick(group: &Group, egress: bool) -> impl Iterator<Item = &Rule> {
            let list = if egress {
                &group.egress
            } else {
                &group.ingress
            };
            list.iter().filter(|rule| !rule.ports.is_empty())
        }
        let owned = self
            .groups
            .iter()
            .flat_map(|(owner, group)| pick(group, egress).map(|rule| (Some(*owner), rule)));
        let loose = pick(&self.loose, egress).map(|rule| (None, rule));
        owned
            .chain(loose)
            .map(|(owner, rule)| RuleView {
                owner,
                ports: &rule.ports,
                admits: Admits::of(rule, owner),
                resource: rule.resource,
            })
            .collect()
    }

    /// The groups whose inline rules one way (`"ingress"` or `"egress"`) are unknown
    /// until apply, for warnings.
    pub fn unknown_blocks(&self) -> &[(usize, &'static str)] {
        &self.unknown_blocks
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
                // The whole list configured but unknown until apply (`ingress =
                // local.rules`, built from values the plan cannot know): it may hold
                // any rule, so one that admits every address and every group on every
                // port stands for it. Left out of the configuration, the list is
                // computed from the group's rule resources, which are read below.
                if blocks.is_none_or(Value::is_null) && plan.configured(resource, &[], direction) {
                    list.push(Rule {
                        ports: PortSet::all(),
                        peers: vec![
                            Peer::Prefixes(vec![any_v4(), any_v6()]),
                            Peer::Groups(Link::Unknown),
                        ],
                        resource,
                    });
                    groups.unknown_blocks.push((resource, direction));
                }
                for (index, block) in array(blocks).enumerate() {
                    let index = index.to_string();
                    let path = [direction, index.as_str()];
                    let keys = ["cidr_blocks", "ipv6_cidr_blocks"];
                    let mut peers = prefixes(plan, resource, &path, &keys);
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
            let mut peers = prefixes(plan, resource, &[], &["cidr_blocks", "ipv6_cidr_blocks"]);
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
                let mut peers = prefixes(plan, resource, &[], &["cidr_ipv4", "cidr_ipv6"]);
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

    /// Adds `rule` to the group it belongs to; to each of several (one reference to a
    /// counted group names each of its instances), which over-approximates; to every
    /// group when the plan cannot name it.
    fn add(&mut self, owner: Link, egress: bool, rule: Rule) {
        match owner {
            Link::Known(list) => {
                for index in list {
                    self.groups
                        .entry(index)
                        .or_default()
                        .push(egress, rule.clone());
                }
            }
            Link::Unknown => self.loose.push(egress, rule),
        }
    }

    /// What `groups` allow towards (`egress`) or from `peer`, whose groups are
    /// `peer_groups`: the end-by-end reading that `connections`' oracle keeps. No known group at all
    /// (an asset whose groups the plan cannot name, or the VPC's default group that the
    /// plan does not describe) allows everything: over-approximating, never under.
    #[cfg(test)]
    pub fn allowed(
        &self,
        groups: &Link,
        egress: bool,
        peer: &Endpoint,
        peer_groups: &Link,
    ) -> PortSet {
        let list = match groups {
            Link::Known(list) if !list.is_empty() => list,
            _ => return PortSet::all(),
        };
        let mut ports = PortSet::empty();
        let mut consider = |rule: &Rule, owner: Option<usize>| {
            let admits = Admits::of(rule, owner);
            let by_group = admits.by_group(peer, peer_groups);
            let by_prefix = admits.by_prefix(peer);
            if (by_group || by_prefix) && !rule.ports.is_empty() {
                ports = ports.union(&rule.ports);
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
        ports
    }
}

fn ports(values: &Value, protocol_key: &str) -> PortSet {
    let protocol = match values.get(protocol_key) {
        Some(Value::String(text)) => Cow::Borrowed(text.as_str()),
        Some(Value::Number(number)) => Cow::Owned(number.to_string()),
        // Unknown until apply: any protocol.
        _ => Cow::Borrowed("-1"),
    };
    let port = |key: &str| values.get(key).and_then(Value::as_i64).unwrap_or(-1);
    PortSet::from_rule(&protocol, port("from_port"), port("to_port"))
}

/// The prefixes a rule (or the block at `path` of resource `resource`) names under
/// `keys`.
fn prefixes(plan: &Plan, resource: usize, path: &[&str], keys: &[&str]) -> Vec<Peer> {
    let values = at_path(&plan.resource(resource).values, path);
    let mut list = network::prefixes(values, keys);
    // A prefix list names prefixes the plan does not hold: any address. So does one
    // unknown until apply (a list the same plan makes).
    let prefix_list =
        ["prefix_list_ids", "prefix_list_id"]
            .iter()
            .any(|key| match values.get(key) {
                Some(Value::Array(items)) => !items.is_empty(),
                Some(Value::String(text)) => !text.is_empty(),
                _ => plan.unknown(resource, path, key),
            });
    // A prefix unknown until apply (a plan writes it as `null`, in a list or alone,
    // or leaves a configured attribute out) may be any address: the rule admits
    // everyone, as an unknown source group matches every group.
    let unknown = keys.iter().any(|key| match values.get(key) {
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str().is_none()),
        None | Some(Value::Null) => plan.unknown(resource, path, key),
        _ => false,
    });
    if prefix_list || unknown {
        list.extend([any_v4(), any_v6()]);
    }
    if list.is_empty() {
        Vec::new()
    } else {
        vec![Peer::Prefixes(list)]
    }
}
