//! What an Auto Scaling group launches: the launch template (in its `launch_template`
//! block, or its mixed instances policy's) or launch configuration it names, which
//! gives its instances their security groups, public addresses and instance profile.
//! The group stands for all its instances, which come and go. A template named by name
//! is found by its `name`, as AWS finds it; one the plan cannot name (unknown until
//! apply, or another plan's) may give anything.

use super::document::Value;
use super::objects::{Link, Plan, array, at_path, has_any};

/// Where an Auto Scaling group's instances take their settings from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launch {
    /// An `aws_launch_template`, by resource index.
    Template(usize),
    /// An `aws_launch_configuration`, by resource index.
    Configuration(usize),
    /// One the plan cannot name: unknown until apply, or another plan's.
    Unknown,
}

/// Where a template, a configuration (or an instance) names its instance profile:
/// resource, path to the block, and key. A template's block names it by `name` or by
/// `arn`.
pub type ProfileAt = (usize, &'static [&'static str], &'static str);

impl Launch {
    /// What `resource` launches its instances from: an Auto Scaling group always
    /// names a template or configuration; an EKS node group may name a template, and
    /// is `None` without one (EKS then gives its nodes settings of its own).
    pub fn launched(plan: &Plan, resource: usize) -> Option<Launch> {
        let r = plan.resource(resource);
        match r.kind.as_str() {
            "aws_autoscaling_group" => Some(Launch::of(plan, resource)),
            "aws_eks_node_group" if has_any(&r.values, "launch_template") => {
                Some(Launch::of(plan, resource))
            }
            _ => None,
        }
    }

    /// What Auto Scaling group (or EKS node group) `group` launches from.
    pub fn of(plan: &Plan, group: usize) -> Launch {
        let by_block = [
            (&["launch_template", "0"][..], "id", "name"),
            (
                &[
                    "mixed_instances_policy",
                    "0",
                    "launch_template",
                    "0",
                    "launch_template_specification",
                    "0",
                ][..],
                "launch_template_id",
                "launch_template_name",
            ),
        ];
        let values = &plan.resource(group).values;
        for (path, id_key, name_key) in by_block {
            if at_path(values, path).is_null() {
                continue;
            }
            return template(plan, group, path, id_key, name_key);
        }
        let configuration = plan.link(group, &[], "launch_configuration");
        match configuration {
            Link::Known(list) => match list[..] {
                [index] if plan.resource(index).kind == "aws_launch_configuration" => {
                    Launch::Configuration(index)
                }
                _ => Launch::Unknown,
            },
            Link::Unknown => Launch::Unknown,
        }
    }

    /// Where the template or configuration names its instance profile; `None` for a
    /// launch the plan cannot name, which may carry any.
    pub fn profile_at(self) -> Option<Vec<ProfileAt>> {
        match self {
            Launch::Template(template) => Some(vec![
                (template, &["iam_instance_profile", "0"], "name"),
                (template, &["iam_instance_profile", "0"], "arn"),
            ]),
            Launch::Configuration(configuration) => {
                Some(vec![(configuration, &[], "iam_instance_profile")])
            }
            Launch::Unknown => None,
        }
    }

    /// The security groups its instances carry: a template's `vpc_security_group_ids`
    /// and its network interfaces' `security_groups`, a configuration's
    /// `security_groups`. None at all is the VPC's default group.
    pub fn groups(self, plan: &Plan) -> Link {
        let mut links = Vec::new();
        match self {
            Launch::Template(template) => {
                links.push(plan.link(template, &[], "vpc_security_group_ids"));
                for index in 0..interfaces(plan, template).count() {
                    let path = ["network_interfaces", &index.to_string()];
                    links.push(plan.link(template, &path, "security_groups"));
                }
            }
            Launch::Configuration(configuration) => {
                links.push(plan.link(configuration, &[], "security_groups"));
            }
            Launch::Unknown => return Link::Unknown,
        }
        let mut all = Vec::new();
        for link in links {
            match link {
                Link::Known(list) => all.extend(list),
                Link::Unknown => return Link::Unknown,
            }
        }
        all.sort_unstable();
        all.dedup();
        Link::Known(all)
    }

    /// Whether its instances are given a public IPv4 address: `Some` when it says
    /// (a value unknown until apply may say yes), `None` when it leaves that to the
    /// subnet.
    pub fn public(self, plan: &Plan) -> Option<bool> {
        let key = "associate_public_ip_address";
        match self {
            Launch::Template(template) => {
                let said: Vec<Option<bool>> = (interfaces(plan, template).enumerate())
                    .map(|(index, interface)| match interface.get(key) {
                        // A template writes it as a string: "true", "false", or "" unset.
                        Some(Value::Bool(asks)) => Some(*asks),
                        Some(Value::String(text)) if !text.is_empty() => Some(text == "true"),
                        _ => {
                            let path = ["network_interfaces", &index.to_string()];
                            plan.configured(template, &path, key).then_some(true)
                        }
                    })
                    .collect();
                if said.contains(&Some(true)) {
                    Some(true)
                } else {
                    said.into_iter().find(Option::is_some).flatten()
                }
            }
            Launch::Configuration(configuration) => match plan.resource(configuration).bool(key) {
                Some(asks) => Some(asks),
                None => plan.configured(configuration, &[], key).then_some(true),
            },
            Launch::Unknown => Some(true),
        }
    }

    /// Whether its instances ask for IPv6 addresses themselves (a template's
    /// interfaces with an address count or list); `false` leaves it to the subnet.
    pub fn asks_ipv6(self, plan: &Plan) -> bool {
        match self {
            Launch::Template(template) => interfaces(plan, template).any(|interface| {
                let count = interface.get("ipv6_address_count").and_then(Value::as_i64);
                count.is_some_and(|count| count > 0) || has_any(interface, "ipv6_addresses")
            }),
            Launch::Configuration(_) => false,
            Launch::Unknown => true,
        }
    }
}

/// A template's `network_interfaces` blocks.
fn interfaces(plan: &Plan, template: usize) -> impl Iterator<Item = &Value> {
    array(plan.resource(template).values.get("network_interfaces"))
}

/// The launch template that the block at `path` of `group` names, by id or by name.
fn template(plan: &Plan, group: usize, path: &[&str], id_key: &str, name_key: &str) -> Launch {
    let is_template = |index: &usize| plan.resource(*index).kind == "aws_launch_template";
    // By id (the plan's, or the configuration's reference), or by the configuration's
    // reference to its name.
    let by_id = plan.link(group, path, id_key);
    let by_reference = plan.referenced(group, path, name_key);
    let linked = (by_id.known().iter())
        .chain(by_reference.as_ref().map_or(&[][..], Link::known))
        .find(|index| is_template(index));
    if let Some(&index) = linked {
        return Launch::Template(index);
    }
    // By the name written.
    let block = at_path(&plan.resource(group).values, path);
    let name = (block.get(name_key).and_then(Value::as_str)).filter(|name| !name.is_empty());
    let named = (plan.of_kind(&["aws_launch_template"]))
        .find(|&index| name.is_some_and(|name| plan.resource(index).str("name") == Some(name)));
    named.map_or(Launch::Unknown, Launch::Template)
}
