//! Network ACLs: numbered rules, allow and deny, evaluated lowest number first, checked
//! where traffic crosses a subnet's boundary, in and out. NACLs are stateless, so the
//! answer to a connection must be allowed back on ephemeral ports 1024-65535.

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
    /// Subnet resource index to ACL resource index; `None` when the plan cannot say.
    by_subnet: BTreeMap<usize, Option<usize>>,
}

impl Acls {
    pub fn read(plan: &Plan, network: &Network) -> Acls {
        let mut acls = Acls::default();
        for resource in plan.of_kind(&["aws_network_acl", "aws_default_network_acl"]) {
            let mut acl = Acl::default();
            let values = &plan.resource(resource).values;
            for (direction, list) in [("ingress", &mut acl.ingress), ("egress", &mut acl.egress)] {
                for block in array(values.get(direction)) {
                    list.push(rule(block, "rule_no", "action"));
                }
            }
            acls.acls.insert(resource, acl);
            for subnet in plan.link(resource, &[], "subnet_ids").known() {
                acls.by_subnet.insert(*subnet, Some(resource));
            }
        }
        for resource in plan.of_kind(&["aws_network_acl_rule"]) {
            let values = &plan.resource(resource).values;
            let rule = rule(values, "rule_number", "rule_action");
            let egress = values.get("egress").and_then(Value::as_bool) == Some(true);
            for owner in plan.link(resource, &[], "network_acl_id").known() {
                if let Some(acl) = acls.acls.get_mut(owner) {
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
            let acl = match plan.link(resource, &[], "network_acl_id") {
                Link::Known(list) => list.first().copied(),
                Link::Unknown => None,
            };
            for subnet in plan.link(resource, &[], "subnet_id").known() {
                acls.by_subnet.insert(*subnet, acl);
            }
        }
        // A subnet with no association has its VPC's default ACL, when the plan
        // describes it (`aws_default_network_acl` names the VPC's default ACL id).
        for default in plan.of_kind(&["aws_default_network_acl"]) {
            let vpcs = plan.link(default, &[], "default_network_acl_id");
            for subnet in &network.subnets {
                let theirs = subnet.vpc.is_some_and(|vpc| vpcs.known().contains(&vpc));
                if theirs && !acls.by_subnet.contains_key(&subnet.resource) {
                    acls.by_subnet.insert(subnet.resource, Some(default));
                }
            }
        }
        acls
    }

    /// Every prefix a rule names: what the ACLs ask of an endpoint's addresses, so that
    /// endpoints that meet and lie within the same ones get the same answers.
    pub fn prefixes(&self) -> impl Iterator<Item = IpNet> + '_ {
        (self.acls.values())
            .flat_map(|acl| acl.ingress.iter().chain(&acl.egress))
            .filter_map(|rule| rule.prefix)
    }

    /// What the ACL of `subnet` lets through for `wanted`, going out to (`egress`) or
    /// in from `peer`. A subnet with no ACL the plan describes has the default ACL,
    /// which allows everything.
    pub fn allowed(
        &self,
        subnet: usize,
        egress: bool,
        peer: &Endpoint,
        wanted: &PortSet,
    ) -> PortSet {
        let acl = match self.by_subnet.get(&subnet) {
            Some(Some(acl)) => self.acls.get(acl),
            _ => None,
        };
        let Some(acl) = acl else {
            return wanted.clone();
        };
        let rules = if egress { &acl.egress } else { &acl.ingress };
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

fn rule(values: &Value, number_key: &str, action_key: &str) -> Rule {
    let protocol = match values.get("protocol") {
        Some(Value::String(text)) => Cow::Borrowed(text.as_str()),
        Some(Value::Number(number)) => Cow::Owned(number.to_string()),
        _ => Cow::Borrowed("-1"),
    };
    let port = |key: &str| values.get(key).and_then(Value::as_i64).unwrap_or(-1);
    let prefix = ["cidr_block", "ipv6_cidr_block"]
        .iter()
        .filter_map(|key| values.get(key)?.as_str())
        .find(|text| !text.is_empty())
        .and_then(parse);
    Rule {
        number: values.get(number_key).and_then(Value::as_i64).unwrap_or(0),
        // An action unknown until apply may be allow.
        allow: values.get(action_key).and_then(Value::as_str) != Some("deny"),
        ports: PortSet::from_rule(&protocol, port("from_port"), port("to_port")),
        prefix,
    }
}
