//! The network shape of a plan: VPCs, subnets, and the assets placed in them (instances,
//! network interfaces, RDS instances, load balancers, Lambda functions), with their
//! addresses, security groups and whether they have a public address.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::document::Value;
use super::objects::{Link, Plan, array};

/// Asset types that sit in subnets.
pub const ASSET_KINDS: &[&str] = &[
    "aws_instance",
    "aws_network_interface",
    "aws_db_instance",
    "aws_lb",
    "aws_alb",
    "aws_lambda_function",
];

pub struct Vpc {
    pub resource: usize,
    pub cidrs: Vec<IpNet>,
}

pub struct Subnet {
    pub resource: usize,
    /// The VPC's resource index, when the plan says which.
    pub vpc: Option<usize>,
    pub cidrs: Vec<IpNet>,
    /// Whether instances launched in it may get a public address without asking for
    /// one: `map_public_ip_on_launch` true, or unknown until apply.
    pub maps_public_ip: bool,
}

pub struct Asset {
    pub resource: usize,
    /// Resource indexes of its subnets; an unknown subnet is left out and marks
    /// `subnets_unknown`.
    pub subnets: Vec<usize>,
    pub subnets_unknown: bool,
    pub vpc: Option<usize>,
    /// Resource indexes of its security groups, or `Link::Unknown`.
    pub groups: Link,
    /// Its private addresses, when known.
    pub addresses: Vec<IpNet>,
    pub public: bool,
}

/// VPCs, subnets and assets of one plan, in address order.
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub assets: Vec<Asset>,
}

impl Network {
    pub fn read(plan: &Plan) -> Network {
        let vpcs: Vec<Vpc> = plan
            .of_kind(&["aws_vpc"])
            .map(|resource| Vpc {
                resource,
                cidrs: cidrs(&plan.resource(resource).values),
            })
            .collect();
        let only_vpc = match vpcs.as_slice() {
            [one] => Some(one.resource),
            _ => None,
        };
        let subnets: Vec<Subnet> = plan
            .of_kind(&["aws_subnet"])
            .map(|resource| Subnet {
                resource,
                // A subnet whose VPC the plan cannot name belongs to the only VPC there
                // is, or to none.
                vpc: match plan.link(resource, &[], "vpc_id") {
                    Link::Known(list) => list.first().copied(),
                    Link::Unknown => only_vpc,
                },
                cidrs: cidrs(&plan.resource(resource).values),
                maps_public_ip: maps_public_ip(plan, resource),
            })
            .collect();
        let eips = public_by_eip(plan);
        let mut assets = Vec::new();
        for resource in plan.of_kind(ASSET_KINDS) {
            if let Some(asset) = asset(plan, resource, &subnets, &eips) {
                assets.push(asset);
            }
        }
        Network {
            vpcs,
            subnets,
            assets,
        }
    }

    pub fn subnet(&self, resource: usize) -> Option<&Subnet> {
        self.subnets
            .iter()
            .find(|subnet| subnet.resource == resource)
    }

    pub fn vpc(&self, resource: usize) -> Option<&Vpc> {
        self.vpcs.iter().find(|vpc| vpc.resource == resource)
    }
}

/// Whether a subnet gives its instances a public address by default. The provider's
/// default is false and Terraform writes it into the plan, so an absent value is false,
/// unless the configuration sets it to something only known at apply: then it may be
/// true.
fn maps_public_ip(plan: &Plan, subnet: usize) -> bool {
    match plan.resource(subnet).bool("map_public_ip_on_launch") {
        Some(maps) => maps,
        None => plan.configured(subnet, &[], "map_public_ip_on_launch"),
    }
}

/// The resources (instances and interfaces) that an EIP makes public.
fn public_by_eip(plan: &Plan) -> BTreeSet<usize> {
    let mut public = BTreeSet::new();
    for eip in plan.of_kind(&["aws_eip"]) {
        for key in ["instance", "network_interface"] {
            public.extend(plan.link(eip, &[], key).known().iter().copied());
        }
    }
    for association in plan.of_kind(&["aws_eip_association"]) {
        for key in ["instance_id", "network_interface_id"] {
            public.extend(plan.link(association, &[], key).known().iter().copied());
        }
    }
    public
}

/// Whether a Lambda function sits in a VPC, and so is an asset: outside one, it has no
/// network position to model.
pub fn in_vpc(function: &Value) -> bool {
    array(function.get("vpc_config")).next().is_some()
}

fn asset(
    plan: &Plan,
    resource: usize,
    subnets: &[Subnet],
    eips: &BTreeSet<usize>,
) -> Option<Asset> {
    let r = plan.resource(resource);
    let values = &r.values;
    let (subnet_link, groups, public) = match r.kind.as_str() {
        "aws_instance" => {
            let subnet_link = plan.link(resource, &[], "subnet_id");
            // `associate_public_ip_address` left out (computed, so unknown in a plan)
            // follows the subnet's `map_public_ip_on_launch`; a subnet the plan cannot
            // name may be any subnet that maps public addresses.
            let asks = r.bool("associate_public_ip_address");
            let by_subnet = asks.is_none() && {
                let maps = |index: &usize| {
                    subnets
                        .iter()
                        .any(|subnet| subnet.resource == *index && subnet.maps_public_ip)
                };
                match &subnet_link {
                    Link::Known(list) => list.iter().any(maps),
                    Link::Unknown => subnets.iter().any(|subnet| subnet.maps_public_ip),
                }
            };
            let public = asks == Some(true)
                || by_subnet
                || r.str("public_ip").is_some_and(|ip| !ip.is_empty());
            (
                subnet_link,
                plan.link(resource, &[], "vpc_security_group_ids"),
                public,
            )
        }
        "aws_network_interface" => (
            plan.link(resource, &[], "subnet_id"),
            plan.link(resource, &[], "security_groups"),
            false,
        ),
        "aws_db_instance" => {
            let group = plan.link(resource, &[], "db_subnet_group_name");
            let subnet_link = match group {
                Link::Known(groups) => {
                    let mut all = Vec::new();
                    let mut unknown = false;
                    for group in groups {
                        match plan.link(group, &[], "subnet_ids") {
                            Link::Known(list) => all.extend(list),
                            Link::Unknown => unknown = true,
                        }
                    }
                    if unknown {
                        Link::Unknown
                    } else {
                        Link::Known(all)
                    }
                }
                Link::Unknown => Link::Unknown,
            };
            (
                subnet_link,
                plan.link(resource, &[], "vpc_security_group_ids"),
                r.bool("publicly_accessible").unwrap_or(false),
            )
        }
        "aws_lb" | "aws_alb" => (
            plan.link(resource, &[], "subnets"),
            plan.link(resource, &[], "security_groups"),
            // The provider's default is internet-facing: only `internal = true` keeps a
            // load balancer off the internet, and an unknown one may be either.
            r.bool("internal") != Some(true),
        ),
        "aws_lambda_function" => {
            if !in_vpc(values) {
                return None;
            }
            (
                plan.link(resource, &["vpc_config", "0"], "subnet_ids"),
                plan.link(resource, &["vpc_config", "0"], "security_group_ids"),
                false,
            )
        }
        _ => return None,
    };
    let (subnet_list, subnets_unknown) = match subnet_link {
        Link::Known(list) => (list, false),
        Link::Unknown => (Vec::new(), true),
    };
    let subnet_list: Vec<usize> = subnet_list
        .into_iter()
        .filter(|index| subnets.iter().any(|s| s.resource == *index))
        .collect();
    let vpc = subnet_list
        .iter()
        .find_map(|index| subnets.iter().find(|s| s.resource == *index)?.vpc);
    // IPv6 addresses are as much the asset's as its private IPv4 ones: a rule that
    // admits an IPv6 prefix admits the assets with addresses in it.
    let mut addresses = prefixes(values, &["private_ip", "private_ips", "ipv6_addresses"]);
    let ipv6_count = values.get("ipv6_address_count").and_then(Value::as_i64);
    let ipv6_known = addresses
        .iter()
        .any(|address| matches!(address, IpNet::V6(_)));
    if !addresses.is_empty() && !ipv6_known && ipv6_count.is_some_and(|count| count > 0) {
        // Addresses still to be assigned come from the subnets' IPv6 ranges.
        addresses.extend(
            (subnets.iter())
                .filter(|subnet| subnet_list.contains(&subnet.resource))
                .flat_map(|subnet| subnet.cidrs.iter().copied())
                .filter(|cidr| matches!(cidr, IpNet::V6(_))),
        );
    }
    addresses.sort_unstable();
    addresses.dedup();
    Some(Asset {
        resource,
        subnets: subnet_list,
        subnets_unknown,
        vpc,
        groups,
        addresses,
        public: public || eips.contains(&resource),
    })
}

/// A resource's `cidr_block` and `ipv6_cidr_block`, when known.
pub fn cidrs(values: &Value) -> Vec<IpNet> {
    ["cidr_block", "ipv6_cidr_block"]
        .iter()
        .filter_map(|key| values.get(key)?.as_str())
        .filter_map(parse)
        .collect()
}

/// The addresses or prefixes under `keys`, each a string or a list of strings.
pub fn prefixes(values: &Value, keys: &[&str]) -> Vec<IpNet> {
    let mut list = Vec::new();
    for key in keys {
        match values.get(key) {
            Some(Value::String(text)) => list.extend(parse(text)),
            Some(items @ Value::Array(_)) => {
                list.extend(
                    array(Some(items))
                        .filter_map(Value::as_str)
                        .filter_map(parse),
                );
            }
            _ => {}
        }
    }
    list
}

/// An address or prefix; an address alone is a host prefix.
pub fn parse(text: &str) -> Option<IpNet> {
    crate::resolve::parse_cidr(text)
}

/// `tags_all` (so that provider default tags count), else `tags`, as `KEY=VALUE`, sorted.
pub fn tags(values: &Value) -> Vec<String> {
    let map = values
        .get("tags_all")
        .and_then(Value::as_object)
        .filter(|map| !map.is_empty())
        .or_else(|| values.get("tags").and_then(Value::as_object));
    let mut tags: Vec<String> = map
        .into_iter()
        .flat_map(|map| map.iter())
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    tags.sort();
    tags
}
