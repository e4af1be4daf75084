//! The network shape of a plan: VPCs, subnets, and the assets placed in them (instances,
//! network interfaces, RDS instances, load balancers, Lambda functions, Auto Scaling
//! groups, EKS node groups and ECS services, each of which stands for the instances or
//! tasks it launches), with their
//! addresses, security groups, and whether they have a public IPv4 address or an IPv6
//! one (in a VPC, every IPv6 address is global).

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::document::Value;
use super::launch::Launch;
use super::objects::{Link, Plan, array, at_path, has_any};

/// Asset types that sit in subnets.
pub const ASSET_KINDS: &[&str] = &[
    "aws_instance",
    "aws_network_interface",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_memorydb_cluster",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_redshift_cluster",
    "aws_mq_broker",
    "aws_efs_mount_target",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_msk_cluster",
    "aws_vpc_endpoint",
    "aws_elb",
    "aws_lb",
    "aws_alb",
    "aws_lambda_function",
    "aws_autoscaling_group",
    "aws_ecs_service",
    "aws_eks_node_group",
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
    /// Whether a range of it is unknown until apply, so that `cidrs` may miss some of
    /// its addresses.
    pub cidrs_partial: bool,
    /// Whether instances launched in it may get a public address without asking for
    /// one: `map_public_ip_on_launch` true, or unknown until apply.
    pub maps_public_ip: bool,
    /// Whether instances and interfaces created in it get an IPv6 address without
    /// asking for one: `assign_ipv6_address_on_creation` true, or unknown until apply.
    pub assigns_ipv6: bool,
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
    /// Whether it may have addresses that `addresses` misses: an IPv6 address from a
    /// block unknown until apply.
    pub addresses_partial: bool,
    /// Whether it has a public IPv4 address.
    pub public: bool,
    /// Whether it has, or may get, an IPv6 address: the internet reaches it through an
    /// internet gateway without a public IPv4 address.
    pub ipv6: bool,
    /// Whether what it sends on carries its clients' addresses, not its own: a Network
    /// or Gateway Load Balancer, whose targets see who connected to it.
    pub relay: bool,
}

/// VPCs, subnets and assets of one plan, in address order.
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub assets: Vec<Asset>,
    /// EIPs (and associations) whose instance or interface is unknown until apply:
    /// each may make any instance or interface public.
    pub loose_eips: Vec<usize>,
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
                    Link::Known(list) if list.len() <= 1 => list.first().copied(),
                    // Several (one reference to a counted VPC): the plan cannot say.
                    Link::Known(_) => None,
                    Link::Unknown => only_vpc,
                },
                cidrs: cidrs(&plan.resource(resource).values),
                cidrs_partial: ["cidr_block", "ipv6_cidr_block"].iter().any(|key| {
                    let written = plan.resource(resource).str(key);
                    written.is_none_or(str::is_empty) && plan.configured(resource, &[], key)
                }),
                maps_public_ip: defaults_on(plan, resource, "map_public_ip_on_launch"),
                assigns_ipv6: defaults_on(plan, resource, "assign_ipv6_address_on_creation"),
            })
            .collect();
        let eips = Eips::read(plan);
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
            loose_eips: eips.loose,
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

/// Whether a subnet gives its instances something by default (`map_public_ip_on_launch`,
/// `assign_ipv6_address_on_creation`). The provider's default is false and Terraform
/// writes it into the plan, so an absent value is false, unless the configuration sets
/// it to something only known at apply: then it may be true.
fn defaults_on(plan: &Plan, subnet: usize, key: &str) -> bool {
    match plan.resource(subnet).bool(key) {
        Some(on) => on,
        None => plan.unknown(subnet, &[], key),
    }
}

/// The resources (instances and interfaces) that EIPs make public.
struct Eips {
    public: BTreeSet<usize>,
    /// EIPs and associations whose instance or interface is unknown until apply: any
    /// instance or interface may be theirs.
    loose: Vec<usize>,
}

impl Eips {
    fn read(plan: &Plan) -> Eips {
        let mut eips = Eips {
            public: BTreeSet::new(),
            loose: Vec::new(),
        };
        let kinds = [
            ("aws_eip", ["instance", "network_interface"]),
            (
                "aws_eip_association",
                ["instance_id", "network_interface_id"],
            ),
        ];
        for (kind, keys) in kinds {
            for eip in plan.of_kind(&[kind]) {
                for key in keys {
                    match plan.link(eip, &[], key) {
                        Link::Known(list) => eips.public.extend(list),
                        Link::Unknown if !plan.written(eip, &[], key) => eips.loose.push(eip),
                        // Another plan's instance or interface.
                        Link::Unknown => {}
                    }
                }
            }
        }
        eips.loose.sort_unstable();
        eips.loose.dedup();
        eips
    }

    fn make_public(&self, resource: usize) -> bool {
        !self.loose.is_empty() || self.public.contains(&resource)
    }
}

/// A link that AWS fills in when the configuration leaves it out (an instance's subnet
/// and security groups are its VPC's defaults): unknown when the plan says it is
/// unknown until apply, not no link.
fn defaulted_link(plan: &Plan, resource: usize, path: &[&str], key: &str) -> Link {
    match plan.link(resource, path, key) {
        Link::Known(list) if list.is_empty() && plan.unknown(resource, path, key) => Link::Unknown,
        link => link,
    }
}

/// Whether a Lambda function sits in a VPC, and so is an asset: outside one, it has no
/// network position to model.
pub fn in_vpc(function: &Value) -> bool {
    has_any(function, "vpc_config")
}

/// A managed service placed in subnets with security groups: databases, caches,
/// brokers, file systems' mount targets, interface endpoints. Each is an asset that
/// stands for its nodes or endpoints.
struct Service {
    kind: &'static str,
    subnets: Subnets,
    /// Where its security groups are: path to the block, key.
    groups: (&'static [&'static str], &'static str),
    /// Whether it is reachable from the internet, for those that may be.
    public: Option<fn(&Plan, usize) -> bool>,
    /// Whether it sits in a VPC, for those that need not: one outside is no asset.
    in_vpc: Option<fn(&Value) -> bool>,
}

/// Where a service's subnets are named.
enum Subnets {
    /// Through a subnet group, named by name (its id) under this key, whose
    /// `subnet_ids` they are.
    Group(&'static str),
    /// Listed at this path and key.
    List(&'static [&'static str], &'static str),
}

const SERVICES: &[Service] = &[
    Service {
        kind: "aws_db_instance",
        subnets: Subnets::Group("db_subnet_group_name"),
        groups: (&[], "vpc_security_group_ids"),
        public: Some(|plan, resource| says(plan, resource, "publicly_accessible")),
        in_vpc: None,
    },
    Service {
        kind: "aws_rds_cluster",
        subnets: Subnets::Group("db_subnet_group_name"),
        groups: (&[], "vpc_security_group_ids"),
        public: Some(cluster_public),
        in_vpc: None,
    },
    Service {
        kind: "aws_docdb_cluster",
        subnets: Subnets::Group("db_subnet_group_name"),
        groups: (&[], "vpc_security_group_ids"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_neptune_cluster",
        subnets: Subnets::Group("neptune_subnet_group_name"),
        groups: (&[], "vpc_security_group_ids"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_memorydb_cluster",
        subnets: Subnets::Group("subnet_group_name"),
        groups: (&[], "security_group_ids"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_elasticache_cluster",
        subnets: Subnets::Group("subnet_group_name"),
        groups: (&[], "security_group_ids"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_elasticache_replication_group",
        subnets: Subnets::Group("subnet_group_name"),
        groups: (&[], "security_group_ids"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_redshift_cluster",
        subnets: Subnets::Group("cluster_subnet_group_name"),
        groups: (&[], "vpc_security_group_ids"),
        public: Some(|plan, resource| says(plan, resource, "publicly_accessible")),
        in_vpc: None,
    },
    Service {
        kind: "aws_mq_broker",
        subnets: Subnets::List(&[], "subnet_ids"),
        groups: (&[], "security_groups"),
        public: Some(|plan, resource| says(plan, resource, "publicly_accessible")),
        in_vpc: None,
    },
    Service {
        kind: "aws_efs_mount_target",
        subnets: Subnets::List(&[], "subnet_id"),
        groups: (&[], "security_groups"),
        public: None,
        in_vpc: None,
    },
    Service {
        kind: "aws_opensearch_domain",
        subnets: Subnets::List(&["vpc_options", "0"], "subnet_ids"),
        groups: (&["vpc_options", "0"], "security_group_ids"),
        public: None,
        in_vpc: Some(|domain| has_any(domain, "vpc_options")),
    },
    Service {
        kind: "aws_elasticsearch_domain",
        subnets: Subnets::List(&["vpc_options", "0"], "subnet_ids"),
        groups: (&["vpc_options", "0"], "security_group_ids"),
        public: None,
        in_vpc: Some(|domain| has_any(domain, "vpc_options")),
    },
    Service {
        kind: "aws_msk_cluster",
        subnets: Subnets::List(&["broker_node_group_info", "0"], "client_subnets"),
        groups: (&["broker_node_group_info", "0"], "security_groups"),
        public: None,
        in_vpc: None,
    },
    // A Classic Load Balancer, internet-facing unless it says `internal`, as an
    // `aws_lb` is.
    Service {
        kind: "aws_elb",
        subnets: Subnets::List(&[], "subnets"),
        groups: (&[], "security_groups"),
        public: Some(|plan, resource| plan.resource(resource).bool("internal") != Some(true)),
        in_vpc: None,
    },
    Service {
        kind: "aws_vpc_endpoint",
        subnets: Subnets::List(&[], "subnet_ids"),
        groups: (&[], "security_group_ids"),
        public: None,
        // A gateway endpoint is a route target, not an address in a subnet.
        in_vpc: Some(|endpoint| {
            endpoint.get("vpc_endpoint_type").and_then(Value::as_str) != Some("Gateway")
        }),
    },
];

/// Whether boolean `key` of `resource` is true, or configured but unknown until
/// apply, so that it may be.
fn says(plan: &Plan, resource: usize, key: &str) -> bool {
    match plan.resource(resource).bool(key) {
        Some(on) => on,
        None => plan.configured(resource, &[], key),
    }
}

/// Whether an Aurora cluster is public: one of its instances (an
/// `aws_rds_cluster_instance` whose `cluster_identifier` names it) is.
fn cluster_public(plan: &Plan, cluster: usize) -> bool {
    let key = "cluster_identifier";
    plan.of_kind(&["aws_rds_cluster_instance"]).any(|instance| {
        // An instance whose cluster is unknown until apply may be this one's.
        let ours = match plan.link(instance, &[], key) {
            Link::Known(list) => list.contains(&cluster),
            Link::Unknown => !plan.written(instance, &[], key),
        };
        ours && says(plan, instance, "publicly_accessible")
    })
}

/// The subnets of the subnet group that attribute `key` of `resource` names, by name.
/// One left out is the default group, of the default VPC's subnets: unknown.
fn grouped_subnets(plan: &Plan, resource: usize, key: &str) -> Link {
    let Link::Known(groups) = defaulted_link(plan, resource, &[], key) else {
        return Link::Unknown;
    };
    let mut all = Vec::new();
    for group in groups {
        match plan.link(group, &[], "subnet_ids") {
            Link::Known(list) => all.extend(list),
            Link::Unknown => return Link::Unknown,
        }
    }
    Link::Known(all)
}

/// Whether an ECS service's tasks have network interfaces of their own in its subnets
/// (`awsvpc` networking, given by a `network_configuration`), and so are an asset.
pub fn tasks_in_vpc(service: &Value) -> bool {
    has_any(service, "network_configuration")
}

fn asset(plan: &Plan, resource: usize, subnets: &[Subnet], eips: &Eips) -> Option<Asset> {
    let r = plan.resource(resource);
    let values = &r.values;
    // Whether the asset's subnet gives it something it leaves to the subnet; a subnet
    // the plan cannot name may be one it does not describe (a default subnet maps
    // public addresses), which may give anything.
    let by_subnet = |link: &Link, gives: fn(&Subnet) -> bool| {
        let named = |index: &usize| (subnets.iter()).any(|s| s.resource == *index && gives(s));
        match link {
            Link::Known(list) => list.iter().any(named),
            Link::Unknown => true,
        }
    };
    // Instances and interfaces: an IPv6 address listed or asked for (a count unknown
    // until apply may be any), or, where the count is left out (computed, so unknown
    // in a plan), one from a subnet that assigns them.
    let ipv6_by_count = |link: &Link| {
        let keys = ["ipv6_address_count", "ipv6_prefix_count"];
        let counts = keys.map(|key| r.int(key));
        if counts.iter().any(Option::is_some) {
            counts
                .iter()
                .any(|count| count.is_some_and(|count| count > 0))
        } else {
            (keys.iter()).any(|key| plan.configured(resource, &[], key))
                || by_subnet(link, |subnet| subnet.assigns_ipv6)
        }
    };
    let (subnet_link, groups, public, ipv6_asked) = match r.kind.as_str() {
        "aws_instance" => {
            let subnet_link = defaulted_link(plan, resource, &[], "subnet_id");
            // `associate_public_ip_address` left out (computed, so unknown in a plan)
            // follows the subnet's `map_public_ip_on_launch`, unless the configuration
            // gives it a value unknown until apply, which may be true.
            let key = "associate_public_ip_address";
            let asks = r.bool(key);
            let public = asks == Some(true)
                || (asks.is_none()
                    && (plan.configured(resource, &[], key)
                        || by_subnet(&subnet_link, |subnet| subnet.maps_public_ip)))
                || r.str("public_ip").is_some_and(|ip| !ip.is_empty());
            let ipv6 = ipv6_by_count(&subnet_link);
            (
                subnet_link,
                defaulted_link(plan, resource, &[], "vpc_security_group_ids"),
                public,
                ipv6,
            )
        }
        "aws_network_interface" => {
            let subnet_link = plan.link(resource, &[], "subnet_id");
            let ipv6 = ipv6_by_count(&subnet_link);
            (
                subnet_link,
                defaulted_link(plan, resource, &[], "security_groups"),
                false,
                ipv6,
            )
        }
        kind if let Some(service) = SERVICES.iter().find(|service| service.kind == kind) => {
            if service.in_vpc.is_some_and(|in_vpc| !in_vpc(values)) {
                return None;
            }
            let subnet_link = match service.subnets {
                Subnets::Group(key) => grouped_subnets(plan, resource, key),
                Subnets::List(path, key) => defaulted_link(plan, resource, path, key),
            };
            let (path, key) = service.groups;
            let groups = defaulted_link(plan, resource, path, key);
            // A public service is public in both families where it has both.
            let public = service.public.is_some_and(|public| public(plan, resource));
            (subnet_link, groups, public, public)
        }
        "aws_lb" | "aws_alb" => {
            // The provider's default is internet-facing: only `internal = true` keeps a
            // load balancer off the internet, and an unknown one may be either; an
            // internet-facing one may be dual-stack.
            let public = r.bool("internal") != Some(true);
            (
                lb_subnets(plan, resource),
                defaulted_link(plan, resource, &[], "security_groups"),
                public,
                public,
            )
        }
        "aws_lambda_function" => {
            if !in_vpc(values) {
                return None;
            }
            // A dual-stack function takes IPv6 addresses from its subnets as well.
            let config = ["vpc_config", "0"];
            let key = "ipv6_allowed_for_dual_stack";
            let dual_stack = match array(values.get("vpc_config"))
                .next()
                .and_then(|c| c.get(key))
            {
                Some(Value::Bool(value)) => *value,
                _ => plan.unknown(resource, &config, key),
            };
            (
                plan.link(resource, &config, "subnet_ids"),
                plan.link(resource, &config, "security_group_ids"),
                false,
                dual_stack,
            )
        }
        "aws_ecs_service" => {
            // A service's tasks sit in its subnets only with `awsvpc` networking;
            // otherwise they share their container instances' network.
            if !tasks_in_vpc(values) {
                return None;
            }
            let config = ["network_configuration", "0"];
            let subnet_link = plan.link(resource, &config, "subnets");
            let key = "assign_public_ip";
            let public = match at_path(values, &config).get(key).and_then(Value::as_bool) {
                Some(asks) => asks,
                None => plan.configured(resource, &config, key),
            };
            let ipv6 = by_subnet(&subnet_link, |subnet| subnet.assigns_ipv6);
            let groups = defaulted_link(plan, resource, &config, "security_groups");
            (subnet_link, groups, public, ipv6)
        }
        "aws_eks_node_group" => {
            // A managed node group's nodes: without a launch template, they carry the
            // cluster's security group, which EKS makes and the plan does not
            // describe (no known group, so every group allows them everything).
            let subnet_link = plan.link(resource, &[], "subnet_ids");
            let launch = Launch::launched(plan, resource);
            let public = match launch.and_then(|launch| launch.public(plan)) {
                Some(asks) => asks,
                None => by_subnet(&subnet_link, |subnet| subnet.maps_public_ip),
            };
            let ipv6 = launch.is_some_and(|launch| launch.asks_ipv6(plan))
                || by_subnet(&subnet_link, |subnet| subnet.assigns_ipv6);
            let groups = launch.map_or(Link::Known(Vec::new()), |launch| launch.groups(plan));
            (subnet_link, groups, public, ipv6)
        }
        "aws_autoscaling_group" => {
            // Its subnets, or, left out, its availability zones' default subnets.
            let subnet_link = defaulted_link(plan, resource, &[], "vpc_zone_identifier");
            let launch = Launch::of(plan, resource);
            let public = match launch.public(plan) {
                Some(asks) => asks,
                None => by_subnet(&subnet_link, |subnet| subnet.maps_public_ip),
            };
            let ipv6 = launch.asks_ipv6(plan) || by_subnet(&subnet_link, |s| s.assigns_ipv6);
            (subnet_link, launch.groups(plan), public, ipv6)
        }
        _ => return None,
    };
    let eip_capable = matches!(r.kind.as_str(), "aws_instance" | "aws_network_interface");
    // A Network Load Balancer preserves its clients' addresses for instance targets
    // unless told not to, and a Gateway Load Balancer passes packets on whole, so a
    // target's rules and NACLs meet the client, not the load balancer. The provider's
    // default type is `application`, which connects from its own addresses; a type
    // unknown until apply may be either.
    let key = "load_balancer_type";
    let relay = r.kind == "aws_lb"
        && match r.str(key) {
            Some(kind) => kind == "network" || kind == "gateway",
            None => plan.unknown(resource, &[], key),
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
    let mut addresses = prefixes(
        values,
        &[
            "private_ip",
            "private_ips",
            "ipv6_addresses",
            "ipv6_address_list",
        ],
    );
    let ipv6_known = addresses
        .iter()
        .any(|address| matches!(address, IpNet::V6(_)));
    let mut addresses_partial = false;
    if !addresses.is_empty() && !ipv6_known && ipv6_asked {
        // Addresses still to be assigned come from the subnets' IPv6 ranges; a subnet
        // whose IPv6 range is unknown, or a subnet the plan cannot name, may give one
        // the asset's addresses miss.
        let mut ranges = (subnets.iter())
            .filter(|subnet| subnet_list.contains(&subnet.resource))
            .flat_map(|subnet| subnet.cidrs.iter().copied())
            .filter(|cidr| matches!(cidr, IpNet::V6(_)))
            .peekable();
        addresses_partial = subnets_unknown || ranges.peek().is_none();
        addresses.extend(ranges);
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
        addresses_partial,
        public: public || (eip_capable && eips.make_public(resource)),
        ipv6: ipv6_known || ipv6_asked,
        relay,
    })
}

/// A load balancer's subnets: its `subnets`, or, when it gives `subnet_mapping` blocks
/// instead (and `subnets` is computed), theirs.
fn lb_subnets(plan: &Plan, resource: usize) -> Link {
    let listed = plan.link(resource, &[], "subnets");
    let mappings = array(plan.resource(resource).values.get("subnet_mapping")).count();
    if listed != Link::Known(Vec::new()) || mappings == 0 {
        return defaulted_link(plan, resource, &[], "subnets");
    }
    let mut subnets = Vec::new();
    for index in 0..mappings {
        let path = ["subnet_mapping", &index.to_string()];
        match plan.link(resource, &path, "subnet_id") {
            Link::Known(list) if !list.is_empty() => subnets.extend(list),
            // A mapping without a subnet the plan can name: it may be any.
            _ => return Link::Unknown,
        }
    }
    Link::Known(subnets)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::terraform::objects::Side;

    /// A row of the services table is read only for the kinds that `Network::read`
    /// asks for.
    #[test]
    fn every_service_is_an_asset_kind() {
        for service in SERVICES {
            assert!(ASSET_KINDS.contains(&service.kind), "{}", service.kind);
        }
    }

    /// What AWS picks when a plan leaves it out is unknown, not none; a load balancer's
    /// `subnet_mapping` names its subnets when `subnets` is left to be computed.
    #[test]
    fn links_left_to_aws_are_unknown_and_subnet_mappings_name_subnets() {
        let text = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "values": {}},
    {"address": "aws_lb.web", "mode": "managed", "type": "aws_lb",
     "values": {"internal": true, "subnet_mapping": [{}, {}]}},
    {"address": "aws_subnet.a", "mode": "managed", "type": "aws_subnet",
     "values": {"cidr_block": "10.0.1.0/24"}},
    {"address": "aws_subnet.b", "mode": "managed", "type": "aws_subnet",
     "values": {"cidr_block": "10.0.2.0/24"}}
  ]}},
  "resource_changes": [
    {"address": "aws_instance.web", "change": {"after_unknown": {
      "subnet_id": true, "vpc_security_group_ids": true, "associate_public_ip_address": true}}},
    {"address": "aws_lb.web", "change": {"after_unknown": {
      "subnets": true, "security_groups": true, "subnet_mapping": [{}, {}]}}}
  ],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_lb.web", "expressions": {"subnet_mapping": [
      {"subnet_id": {"references": ["aws_subnet.a.id", "aws_subnet.a"]}},
      {"subnet_id": {"references": ["aws_subnet.b.id", "aws_subnet.b"]}}
    ]}}
  ]}}
}"#;
        let plan = Plan::read("plan.json", text, Side::Planned).unwrap();
        let network = Network::read(&plan);
        let address = |index: usize| plan.resource(index).address.as_str();
        let asset = |name: &str| {
            (network.assets.iter())
                .find(|asset| address(asset.resource) == name)
                .unwrap()
        };
        let web = asset("aws_instance.web");
        assert!(web.subnets_unknown && web.public);
        assert_eq!(web.groups, Link::Unknown);
        let lb = asset("aws_lb.web");
        let subnets: Vec<&str> = lb.subnets.iter().map(|s| address(*s)).collect();
        assert_eq!(subnets, ["aws_subnet.a", "aws_subnet.b"]);
        assert!(!lb.subnets_unknown && !lb.public);
        assert_eq!(lb.groups, Link::Unknown);
    }
}
