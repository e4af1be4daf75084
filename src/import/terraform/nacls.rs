//! Network ACLs: numbered rules, allow and deny, evaluated lowest number first, checked
//! where traffic crosses a subnet's boundary, in and out. NACLs are stateless, so the
//! answer to a connection must be allowed back on ephemeral ports 1024-65535. A subnet
//! has the ACL the plan associates with it, else its VPC's default ACL, or any ACL that
//! may hold subnets the plan cannot name.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ipnet::IpNet;

use super::document::Value;
use super::endpoint::{Endpoint, Family};
use super::network::{Network, parse};
use super::objects::{Link, Plan, array};
use super::port_set::PortSet;

#[derive(Debug)]
struct Rule {
    number: i64,
    allow: bool,
    ports: PortSet,
    /// `None` when the plan does not know it: the rule may match anything.
    prefix: Option<IpNet>,
}

#[derive(Debug, Default)]
struct Acl {
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
}

/// Which ACL guards each subnet.
#[derive(Debug, Default)]
pub struct Acls {
    acls: BTreeMap<usize, Acl>,
    /// Subnet resource index to the ACLs that may guard it: the one the plan names;
    /// else its VPC's default ACL and every ACL that may hold subnets the plan cannot
    /// name. `None` stands for an ACL the plan does not describe, which may allow
    /// anything; a subnet not listed has such an ACL too.
    by_subnet: BTreeMap<usize, Vec<Option<usize>>>,
    /// `aws_network_acl_rule`s whose ACL the plan cannot name, in address order.
    loose: Vec<usize>,
    /// ACLs and associations whose subnets the plan cannot name, in address order.
    loose_associations: Vec<usize>,
    /// ACLs whose inline rules one way are unknown until apply, with that way
    /// (`"ingress"` or `"egress"`), in address order.
    unknown_blocks: Vec<(usize, &'static str)>,
}

impl Acls {
    pub fn read(plan: &Plan, network: &Network) -> Acls {
        let mut acls = Acls::default();
        // Each VPC's default ACL, where the plan describes it: an
        // `aws_default_network_acl` names the VPC through its `default_network_acl_id`
        // (a plan's reference) or its `vpc_id`.
        let mut defaults: BTreeMap<usize, usize> = BTreeMap::new();
        // ACLs that may hold subnets the plan cannot name (their `subnet_ids`, or an
        // association's `subnet_id`, unknown until apply), with their VPCs.
        let mut floating: Vec<(Option<usize>, Link)> = Vec::new();
        for resource in plan.of_kind(&["aws_network_acl", "aws_default_network_acl"]) {
            let mut acl = Acl::default();
            let values = &plan.resource(resource).values;
            for (direction, list) in [("ingress", &mut acl.ingress), ("egress", &mut acl.egress)] {
                let blocks = values.get(direction);
                // The whole list configured but unknown until apply: it may allow
                // anything, first. Left out of the configuration, the list is computed
                // from the ACL's rule resources, which are read below.
                if blocks.is_none_or(Value::is_null) && plan.configured(resource, &[], direction) {
                    list.push(Rule {
                        number: i64::MIN,
                        allow: true,
                        ports: PortSet::all(),
                        prefix: None,
                    });
                    acls.unknown_blocks.push((resource, direction));
                }
                for block in array(blocks) {
                    list.push(rule(block, "rule_no", "action"));
                }
            }
            acls.acls.insert(resource, acl);
            match plan.link(resource, &[], "subnet_ids") {
                Link::Known(subnets) => {
                    for subnet in subnets {
                        acls.by_subnet.insert(subnet, vec![Some(resource)]);
                    }
                }
                // Some of another plan's subnets.
                Link::Unknown if plan.written(resource, &[], "subnet_ids") => {}
                Link::Unknown => {
                    floating.push((Some(resource), vpc_of(plan, Some(resource))));
                    acls.loose_associations.push(resource);
                }
            }
            if plan.resource(resource).kind == "aws_default_network_acl" {
                for key in ["default_network_acl_id", "vpc_id"] {
                    for &vpc in plan.link(resource, &[], key).known() {
                        if plan.resource(vpc).kind == "aws_vpc" {
                            defaults.insert(vpc, resource);
                        }
                    }
                }
            }
        }
        // An ACL named through its VPC's `default_network_acl_id` is that VPC's default.
        let acl_of = |index: usize| match plan.resource(index).kind.as_str() {
            "aws_vpc" => defaults.get(&index).copied(),
            _ => Some(index),
        };
        for resource in plan.of_kind(&["aws_network_acl_rule"]) {
            let values = &plan.resource(resource).values;
            let rule = rule(values, "rule_number", "rule_action");
            let egress = values.get("egress").and_then(Value::as_bool) == Some(true);
            // A rule whose ACL the plan cannot name may be on any ACL: an allow is put
            // on every one, and a deny on none, so that neither hides a path.
            let owners: Vec<usize> = match plan.link(resource, &[], "network_acl_id") {
                Link::Known(list) => list.into_iter().filter_map(acl_of).collect(),
                // Another plan's ACL.
                Link::Unknown if plan.written(resource, &[], "network_acl_id") => Vec::new(),
                Link::Unknown => {
                    acls.loose.push(resource);
                    let every = acls.acls.keys().copied();
                    every.filter(|_| rule.allow).collect()
                }
            };
            for owner in owners {
                if let Some(acl) = acls.acls.get_mut(&owner) {
                    let list = if egress {
                        &mut acl.egress
                    } else {
                        &mut acl.ingress
                    };
                    list.push(Rule {
                        number: rule.number,
                        allow: rule.allow,
                        ports: rule.ports.clone(),
                        prefix: rule.prefix,
                    });
                }
            }
        }
        for acl in acls.acls.values_mut() {
            acl.ingress.sort_by_key(|rule| rule.number);
            acl.egress.sort_by_key(|rule| rule.number);
        }
        for resource in plan.of_kind(&["aws_network_acl_association"]) {
            // A reference to a counted ACL names each of its instances: the subnets
            // the association names may have any of them.
            let guards: Vec<Option<usize>> = match plan.link(resource, &[], "network_acl_id") {
                Link::Known(list) if !list.is_empty() => {
                    list.iter().map(|acl| acl_of(*acl)).collect()
                }
                _ => vec![None],
            };
            match plan.link(resource, &[], "subnet_id") {
                Link::Known(subnets) => {
                    for subnet in subnets {
                        acls.by_subnet.insert(subnet, guards.clone());
                    }
                }
                Link::Unknown if plan.written(resource, &[], "subnet_id") => {}
                Link::Unknown => {
                    for acl in guards {
                        floating.push((acl, vpc_of(plan, acl)));
                    }
                    acls.loose_associations.push(resource);
                }
            }
        }
        acls.loose_associations.sort_unstable();
        // A subnet with no association has its VPC's default ACL, when the plan
        // describes it (`aws_default_network_acl` names the VPC's default ACL id), or
        // else one of the ACLs that may hold subnets the plan cannot name. In a state
        // the default ACL's `subnet_ids` lists its subnets, read above: a subnet the
        // state associates with no ACL uses one the state does not describe.
        for default in plan.of_kind(&["aws_default_network_acl"]) {
            let vpcs = plan.link(default, &[], "default_network_acl_id");
            for subnet in &network.subnets {
                let Some(vpc) = subnet.vpc.filter(|vpc| vpcs.known().contains(vpc)) else {
                    continue;
                };
                if acls.by_subnet.contains_key(&subnet.resource) {
                    continue;
                }
                let mut guards = vec![Some(default)];
                for (acl, vpcs) in &floating {
                    if vpcs.known().is_empty() || vpcs.known().contains(&vpc) {
                        guards.push(*acl);
                    }
                }
                acls.by_subnet.insert(subnet.resource, guards);
            }
        }
        acls
    }

    /// The `aws_network_acl_rule`s whose ACL the plan cannot name, for warnings.
    pub fn loose_rules(&self) -> &[usize] {
        &self.loose
    }

    /// The ACLs whose inline rules one way (`"ingress"` or `"egress"`) are unknown until
    /// apply, for warnings.
    pub fn unknown_blocks(&self) -> &[(usize, &'static str)] {
        &self.unknown_blocks
    }

    /// The ACLs and associations whose subnets the plan cannot name, for warnings.
    pub fn loose_associations(&self) -> &[usize] {
        &self.loose_associations
    }

    /// Every prefix a rule names: what the ACLs ask of an endpoint's addresses, so that
    /// endpoints that meet and lie within the same ones get the same answers.
    pub fn prefixes(&self) -> impl Iterator<Item = IpNet> + '_ {
        (self.acls.values())
            .flat_map(|acl| acl.ingress.iter().chain(&acl.egress))
            .filter_map(|rule| rule.prefix)
    }

    /// What the ACL of `subnet` lets through for `wanted`, going out to (`egress`) or
    /// in from `peer`: what any ACL that may guard it lets through. A subnet with no
    /// ACL the plan describes has the default ACL, which allows everything.
    pub fn allowed(
        &self,
        subnet: usize,
        egress: bool,
        peer: &Endpoint,
        wanted: &PortSet,
    ) -> PortSet {
        let guards = match self.by_subnet.get(&subnet) {
            Some(guards) if !guards.is_empty() => guards,
            _ => return wanted.clone(),
        };
        let mut ports = PortSet::empty();
        for guard in guards {
            let Some(acl) = guard.and_then(|acl| self.acls.get(&acl)) else {
                return wanted.clone();
            };
            ports = ports.union(&acl.allowed(egress, peer, wanted));
        }
        ports
    }
}

impl Acl {
    /// What its rules let through for `wanted`, going out to (`egress`) or in from
    /// `peer`.
    fn allowed(&self, egress: bool, peer: &Endpoint, wanted: &PortSet) -> PortSet {
        let rules = if egress { &self.egress } else { &self.ingress };
        if peer.internet {
            // The internet speaks both families, each decided by its own rules (an
            // IPv4 deny of `0.0.0.0/0` says nothing of IPv6 traffic): what either
            // family it speaks here gets through crosses.
            let mut ports = PortSet::empty();
            for family in Family::BOTH.into_iter().filter(|f| peer.speaks(*f)) {
                let family = evaluate(rules, &Endpoint::internet_in(family), wanted);
                ports = ports.union(&family);
            }
            return ports;
        }
        evaluate(rules, peer, wanted)
    }
}

/// What numbered `rules` let through for `wanted` to or from `peer`: the first rule
/// that matches a port decides it.
fn evaluate(rules: &[Rule], peer: &Endpoint, wanted: &PortSet) -> PortSet {
    let mut remaining = wanted.clone();
    let mut allowed = PortSet::empty();
    for rule in rules {
        let meets = rule.prefix.as_ref().is_none_or(|prefix| peer.meets(prefix));
        if !meets {
            continue;
        }
        let matched = remaining.intersect(&rule.ports);
        if rule.allow {
            allowed = allowed.union(&matched);
        }
        // A rule decides only for traffic it matches whole: one that covers part of
        // the peer's addresses lets the rest fall through to later rules.
        if rule
            .prefix
            .as_ref()
            .is_some_and(|prefix| peer.within(prefix))
        {
            remaining = remaining.subtract(&rule.ports);
        }
    }
    allowed
}

/// The VPCs of an ACL (`None`: one the plan does not describe); an empty list when the
/// plan does not say.
fn vpc_of(plan: &Plan, acl: Option<usize>) -> Link {
    match acl {
        Some(acl) => plan.link(acl, &[], "vpc_id"),
        None => Link::Known(Vec::new()),
    }
}

fn rule(values: &Value, number_key: &str, action_key: &str) -> Rule {
    let protocol = match values.get("protocol") {
        Some(Value::String(text)) => Some(Cow::Borrowed(text.as_str())),
        Some(Value::Number(number)) => Some(Cow::Owned(number.to_string())),
        _ => None,
    };
    let port = |key: &str| values.get(key).and_then(Value::as_i64);
    let prefix = ["cidr_block", "ipv6_cidr_block"]
        .iter()
        .filter_map(|key| values.get(key)?.as_str())
        .find(|text| !text.is_empty())
        .and_then(parse);
    // An action unknown until apply may be allow.
    let allow = values.get(action_key).and_then(Value::as_str) != Some("deny");
    // A number unknown until apply may put an allow before every deny, and a deny
    // after every allow.
    let unknown_number = if allow { i64::MIN } else { i64::MAX };
    let (from, to) = (port("from_port"), port("to_port"));
    // A protocol, or TCP or UDP ports, unknown until apply may be any: an allow
    // allows them all, and a deny denies none of them.
    let ports = match (protocol, from, to) {
        (Some(protocol), Some(from), Some(to)) => PortSet::from_rule(&protocol, from, to),
        (Some(protocol), ..) if !PortSet::has_ports(&protocol) => {
            PortSet::from_rule(&protocol, -1, -1)
        }
        (protocol, ..) if allow => PortSet::from_rule(protocol.as_deref().unwrap_or("-1"), -1, -1),
        _ => PortSet::empty(),
    };
    Rule {
        number: (values.get(number_key).and_then(Value::as_i64)).unwrap_or(unknown_number),
        allow,
        ports,
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `rules`, given as JSON blocks of an inline ACL, let through from the IPv4
    /// internet on tcp/22.
    fn lets_in(blocks: &str) -> bool {
        let blocks: Value = serde_json::from_str(blocks).unwrap();
        let mut rules: Vec<Rule> = array(Some(&blocks))
            .map(|block| rule(block, "rule_no", "action"))
            .collect();
        rules.sort_by_key(|rule| rule.number);
        let wanted = PortSet::from_rule("tcp", 22, 22);
        let peer = Endpoint::internet_in(Family::V4);
        !evaluate(&rules, &peer, &wanted).is_empty()
    }

    #[test]
    fn a_rule_number_unknown_until_apply_puts_an_allow_first_and_a_deny_last() {
        let deny =
            r#"{"rule_no": 100, "action": "deny", "protocol": "-1", "cidr_block": "0.0.0.0/0"}"#;
        let allow =
            r#"{"rule_no": 200, "action": "allow", "protocol": "-1", "cidr_block": "0.0.0.0/0"}"#;
        assert!(!lets_in(&format!("[{deny}, {allow}]")));
        // The allow's number unknown: it may come before the deny.
        let unnumbered_allow = allow.replace(r#""rule_no": 200, "#, "");
        assert!(lets_in(&format!("[{deny}, {unnumbered_allow}]")));
        // The deny's number unknown: it may come after the allow.
        let unnumbered_deny = deny.replace(r#""rule_no": 100, "#, "");
        assert!(lets_in(&format!("[{unnumbered_deny}, {allow}]")));
    }

    #[test]
    fn a_deny_whose_protocol_or_ports_are_unknown_until_apply_denies_only_what_it_surely_covers() {
        let allow =
            r#"{"rule_no": 200, "action": "allow", "protocol": "-1", "cidr_block": "0.0.0.0/0"}"#;
        let deny = |fields: &str| {
            format!(
                r#"[{{"rule_no": 100, "action": "deny", {fields} "cidr_block": "0.0.0.0/0"}}, {allow}]"#
            )
        };
        // Known, a deny of TCP port 22, or of every protocol, keeps tcp/22 out.
        assert!(!lets_in(&deny(
            r#""protocol": "tcp", "from_port": 22, "to_port": 22,"#
        )));
        assert!(!lets_in(&deny(r#""protocol": "-1","#)));
        // The protocol unknown: it may be UDP.
        assert!(lets_in(&deny(r#""from_port": 22, "to_port": 22,"#)));
        // TCP with its ports unknown: they may be others.
        assert!(lets_in(&deny(r#""protocol": "tcp","#)));
    }
}
