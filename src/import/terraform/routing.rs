//! Routing: each subnet's route table (its association, else its VPC's main table),
//! the local route, internet, egress-only internet and NAT gateways and VPC peering,
//! longest prefix first. Every other target (a transit gateway, a NAT instance, a
//! firewall endpoint) forwards by routes the plan does not hold, so it may lead
//! anywhere: to the internet and to any VPC that routes back the same way.
//! A VPC's main table is an `aws_default_route_table`, the table of an
//! `aws_main_route_table_association`, or, when the plan describes neither, the
//! `aws_route`s that name the VPC's `main_route_table_id`. An `aws_route` whose table
//! is unknown until apply may be on any table of its gateway's VPC; a subnet without an
//! association may use, besides its VPC's main table, any table whose association (or
//! main association) the plan cannot tie to a subnet (or VPC).

use std::collections::BTreeMap;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::document::Value;
use super::endpoint::Endpoint;
use super::network::parse;
use super::objects::{Link, Plan, array, at_path};

/// Where a route sends traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    InternetGateway,
    /// An egress-only internet gateway: IPv6 out, answers back, nothing in.
    EgressOnlyInternetGateway,
    NatGateway,
    /// A peering connection, by resource index.
    Peering(usize),
    /// Somewhere the plan cannot follow, which may be any of the above: a target unknown
    /// until apply or not in the plan, or one that forwards packets on by routes of its
    /// own (a transit gateway, a virtual private gateway, an instance or network
    /// interface such as a NAT instance or firewall, a Gateway Load Balancer endpoint,
    /// a carrier, local or Cloud WAN gateway).
    Unknown,
    /// The VPC's own addresses, or a route that names no target: no way out.
    Local,
}

#[derive(Debug)]
struct Route {
    /// `None` when unknown until apply: the route may match anything.
    prefix: Option<IpNet>,
    target: Target,
}

/// Every route table of a plan and which subnets use it.
#[derive(Debug, Default)]
pub struct Routing {
    /// Routes by table: a route table's resource index, or a VPC's for its main table
    /// when only `aws_route`s describe it.
    tables: BTreeMap<usize, Vec<Route>>,
    /// Subnet to route table; `None` when the plan cannot say which.
    by_subnet: BTreeMap<usize, Option<Vec<usize>>>,
    /// VPC to its main route table.
    main: BTreeMap<usize, usize>,
    /// Tables that may serve subnets without an association, with the VPCs whose
    /// subnets they may serve (an empty list: any VPC's): tables associated with a
    /// subnet, or made a VPC's main table, that the plan cannot name. `None` for a
    /// table the plan cannot name.
    floating: Vec<(Option<usize>, Link)>,
    /// Peering connection to the two VPCs it joins.
    peerings: BTreeMap<usize, (Link, Link)>,
    /// The `aws_route`s whose table the plan cannot name, in address order.
    unplaced: Vec<usize>,
    /// The associations that give `floating` its tables, in address order.
    loose_associations: Vec<usize>,
    /// Tables whose inline routes are unknown until apply, in address order.
    unknown_routes: Vec<usize>,
}

impl Routing {
    pub fn read(plan: &Plan) -> Routing {
        let mut routing = Routing::default();
        for resource in plan.of_kind(&["aws_route_table", "aws_default_route_table"]) {
            let mut routes = Vec::new();
            let blocks = plan.resource(resource).values.get("route");
            // The whole list configured but unknown until apply: any route to
            // anywhere. Left out of the configuration, the list is computed from the
            // table's `aws_route`s, which are read below.
            if blocks.is_none_or(Value::is_null) && plan.configured(resource, &[], "route") {
                routes.push(Route {
                    prefix: None,
                    target: Target::Unknown,
                });
                routing.unknown_routes.push(resource);
            }
            for (index, block) in array(blocks).enumerate() {
                let index = index.to_string();
                routes.push(Route {
                    prefix: prefix(block, &["cidr_block", "ipv6_cidr_block"]),
                    target: target(plan, resource, &["route", &index]),
                });
            }
            routing.tables.insert(resource, routes);
        }
        let main_tables = MainTables::read(plan);
        for resource in plan.of_kind(&["aws_default_route_table"]) {
            for vpc in main_tables.vpcs_of_default(plan, resource) {
                routing.main.insert(vpc, resource);
            }
        }
        for resource in plan.of_kind(&["aws_main_route_table_association"]) {
            // Several tables (one reference to a counted resource) may be any of them,
            // as an unknown one may.
            let table = match plan.link(resource, &[], "route_table_id") {
                Link::Known(list) if list.len() == 1 => list.first().copied(),
                _ => None,
            };
            match (plan.link(resource, &[], "vpc_id"), table) {
                (Link::Known(vpcs), Some(table)) => {
                    for vpc in vpcs {
                        routing.main.insert(vpc, table);
                    }
                }
                (vpcs @ Link::Known(_), None) => {
                    routing.floating.push((None, vpcs));
                    routing.loose_associations.push(resource);
                }
                // Another plan's VPC.
                (Link::Unknown, _) if plan.written(resource, &[], "vpc_id") => {}
                (Link::Unknown, table) => {
                    let vpcs = table.map_or(Link::Known(Vec::new()), |table| {
                        plan.link(table, &[], "vpc_id")
                    });
                    routing.floating.push((table, vpcs));
                    routing.loose_associations.push(resource);
                }
            }
        }
        // Routes whose table the plan cannot name, placed once every table is known.
        let mut unplaced = Vec::new();
        for resource in plan.of_kind(&["aws_route"]) {
            let values = &plan.resource(resource).values;
            let route_prefix = prefix(
                values,
                &["destination_cidr_block", "destination_ipv6_cidr_block"],
            );
            let route_target = target(plan, resource, &[]);
            let linked = plan.link(resource, &[], "route_table_id");
            let mut tables: Vec<usize> = (linked.known().iter().copied())
                .filter(|&table| routing.tables.contains_key(&table))
                .collect();
            // A route on a VPC's main table: the table's id is the VPC's
            // `main_route_table_id` (a state), or the configuration refers to that
            // attribute of the VPC (a plan). Where the plan does not describe the table,
            // the route starts it, keyed by the VPC.
            for vpc in main_tables.vpcs_of_route(plan, resource, linked.known()) {
                let table = *routing.main.entry(vpc).or_insert(vpc);
                routing.tables.entry(table).or_default();
                tables.push(table);
            }
            // `route_table_id` is required: left out of the values (or null), it is
            // unknown until apply, unless the configuration's reference names it. An id
            // the plan does not hold is a table the plan does not describe.
            if tables.is_empty() && !plan.written(resource, &[], "route_table_id") {
                unplaced.push((resource, route_prefix, route_target));
                continue;
            }
            tables.sort_unstable();
            tables.dedup();
            for table in tables {
                if let Some(routes) = routing.tables.get_mut(&table) {
                    routes.push(Route {
                        prefix: route_prefix,
                        target: route_target.clone(),
                    });
                }
            }
        }
        // A route on a table the plan cannot name may be on any table of its VPC,
        // main tables included (a VPC's main table that the plan does not describe
        // starts with it), and on any table at all when its VPC is unknown too.
        if !unplaced.is_empty() {
            for vpc in plan.of_kind(&["aws_vpc"]) {
                let table = *routing.main.entry(vpc).or_insert(vpc);
                routing.tables.entry(table).or_default();
            }
        }
        for (route, route_prefix, route_target) in unplaced {
            routing.unplaced.push(route);
            let vpcs = route_vpcs(plan, route);
            let tables: Vec<usize> = (routing.tables.keys().copied())
                .filter(|&table| {
                    let Some(vpcs) = &vpcs else {
                        return true;
                    };
                    match plan.resource(table).kind.as_str() {
                        "aws_vpc" => vpcs.contains(&table),
                        _ => match plan.link(table, &[], "vpc_id") {
                            Link::Known(theirs) if !theirs.is_empty() => {
                                theirs.iter().any(|vpc| vpcs.contains(vpc))
                            }
                            _ => true,
                        },
                    }
                })
                .collect();
            for table in tables {
                if let Some(routes) = routing.tables.get_mut(&table) {
                    routes.push(Route {
                        prefix: route_prefix,
                        target: route_target.clone(),
                    });
                }
            }
        }
        for resource in plan.of_kind(&["aws_route_table_association"]) {
            // A reference to a counted resource (`aws_route_table.private[count.index]`)
            // names each of its instances: the subnets it names may use any of the
            // tables it names.
            let tables = match plan.link(resource, &[], "route_table_id") {
                Link::Known(list) if !list.is_empty() => Some(list),
                _ => None,
            };
            match plan.link(resource, &[], "subnet_id") {
                Link::Known(subnets) => {
                    for subnet in subnets {
                        let uses = routing.by_subnet.entry(subnet).or_insert(Some(Vec::new()));
                        match (uses.as_mut(), &tables) {
                            (Some(uses), Some(tables)) => uses.extend(tables),
                            _ => *uses = None,
                        }
                    }
                }
                // Another plan's subnet.
                Link::Unknown if plan.written(resource, &[], "subnet_id") => {}
                Link::Unknown => {
                    for table in
                        tables.map_or(vec![None], |list| list.into_iter().map(Some).collect())
                    {
                        let vpcs = table.map_or(Link::Known(Vec::new()), |table| {
                            plan.link(table, &[], "vpc_id")
                        });
                        routing.floating.push((table, vpcs));
                    }
                    routing.loose_associations.push(resource);
                }
            }
        }
        routing.loose_associations.sort_unstable();
        for resource in plan.of_kind(&["aws_vpc_peering_connection"]) {
            routing.peerings.insert(
                resource,
                (
                    plan.link(resource, &[], "vpc_id"),
                    plan.link(resource, &[], "peer_vpc_id"),
                ),
            );
        }
        routing
    }

    /// The route tables whose inline routes are unknown until apply, for warnings.
    pub fn unknown_routes(&self) -> &[usize] {
        &self.unknown_routes
    }

    /// The `aws_route`s whose table the plan cannot name, for warnings.
    pub fn unplaced(&self) -> &[usize] {
        &self.unplaced
    }

    /// The route table associations (main ones included) whose subnet, VPC or table
    /// the plan cannot name, for warnings.
    pub fn loose_associations(&self) -> &[usize] {
        &self.loose_associations
    }

    /// Every prefix a route names: what routing asks of an endpoint's addresses.
    pub fn prefixes(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.tables
            .values()
            .flatten()
            .filter_map(|route| route.prefix)
    }

    /// Where a subnet (of `vpc`) sends traffic for `peer`, through any table it may
    /// use: its association's, else its VPC's main table and the tables that may serve
    /// subnets the plan cannot name. Empty when only the local route (or nothing)
    /// matches; `Target::Unknown` for a table the plan cannot name.
    pub fn targets(&self, subnet: usize, vpc: Option<usize>, peer: &Endpoint) -> Vec<Target> {
        let mut targets = Vec::new();
        match self.by_subnet.get(&subnet) {
            Some(Some(tables)) => {
                for table in tables {
                    self.table_targets(*table, peer, &mut targets);
                }
            }
            Some(None) => return vec![Target::Unknown],
            None => {
                if let Some(main) = vpc.and_then(|vpc| self.main.get(&vpc)) {
                    self.table_targets(*main, peer, &mut targets);
                }
                for (table, vpcs) in &self.floating {
                    let theirs = match vpcs {
                        Link::Known(list) if !list.is_empty() => {
                            vpc.is_none_or(|vpc| list.contains(&vpc))
                        }
                        _ => true,
                    };
                    match table {
                        Some(table) if theirs => self.table_targets(*table, peer, &mut targets),
                        None if theirs => targets.push(Target::Unknown),
                        _ => {}
                    }
                }
            }
        }
        targets.dedup();
        targets
    }

    /// Adds where `table` sends traffic for `peer`: the targets of the longest prefix
    /// that covers it, and of every longer one that covers part of it. A VPC's main
    /// table that the plan does not describe holds the local route only: nothing.
    fn table_targets(&self, table: usize, peer: &Endpoint, targets: &mut Vec<Target>) {
        let Some(routes) = self.tables.get(&table) else {
            return;
        };
        let longest = routes
            .iter()
            .filter_map(|route| route.prefix.filter(|prefix| peer.within(prefix)))
            .map(|prefix| prefix.prefix_len())
            .max();
        let matching = routes.iter().filter(|route| match route.prefix {
            None => true,
            Some(prefix) => {
                peer.meets(&prefix) && longest.is_none_or(|longest| prefix.prefix_len() >= longest)
            }
        });
        targets.extend(matching.map(|route| route.target.clone()));
    }

    /// Whether a peering connection joins these two VPCs (either way round).
    pub fn joins(&self, peering: usize, a: usize, b: usize) -> bool {
        let Some((one, two)) = self.peerings.get(&peering) else {
            return false;
        };
        let has = |link: &Link, vpc: usize| match link {
            Link::Known(list) => list.contains(&vpc),
            Link::Unknown => true,
        };
        (has(one, a) && has(two, b)) || (has(one, b) && has(two, a))
    }
}

/// The ids of every VPC's main route table, as a state gives them: a VPC's
/// `main_route_table_id` and `default_route_table_id` (the table AWS made with it,
/// main unless an association replaced it). A table the plan does not describe is
/// keyed in `Routing::tables` by its VPC's resource index, which no table shares.
struct MainTables<'p> {
    by_id: FxHashMap<&'p str, usize>,
}

impl<'p> MainTables<'p> {
    fn read(plan: &'p Plan) -> MainTables<'p> {
        let mut by_id = FxHashMap::default();
        for vpc in plan.of_kind(&["aws_vpc"]) {
            for key in ["main_route_table_id", "default_route_table_id"] {
                if let Some(id) = plan.resource(vpc).str(key).filter(|id| !id.is_empty()) {
                    by_id.insert(id, vpc);
                }
            }
        }
        MainTables { by_id }
    }

    /// The VPCs whose main table an `aws_default_route_table` is. Its
    /// `default_route_table_id` names the VPC's attribute in a plan's configuration,
    /// but in a state it is the table's own id, which only the VPCs' ids lead back to;
    /// its `vpc_id`, computed, says the same in a state.
    fn vpcs_of_default(&self, plan: &Plan, table: usize) -> Vec<usize> {
        let mut vpcs: Vec<usize> = (plan.link(table, &[], "default_route_table_id").known())
            .iter()
            .chain(plan.link(table, &[], "vpc_id").known())
            .copied()
            .filter(|&index| plan.resource(index).kind == "aws_vpc")
            .collect();
        let resource = plan.resource(table);
        for id in [resource.str("default_route_table_id"), resource.id()] {
            vpcs.extend(id.and_then(|id| self.by_id.get(id)));
        }
        vpcs.sort_unstable();
        vpcs.dedup();
        vpcs
    }

    /// The VPCs on whose main table an `aws_route` is, when the plan does not describe
    /// that table: `linked` holds a VPC when the configuration refers to its
    /// `main_route_table_id`; an id no table has may be a VPC's main table's.
    fn vpcs_of_route(&self, plan: &Plan, route: usize, linked: &[usize]) -> Vec<usize> {
        let mut vpcs: Vec<usize> = (linked.iter().copied())
            .filter(|&index| plan.resource(index).kind == "aws_vpc")
            .collect();
        if let Some(id) = plan.resource(route).str("route_table_id") {
            vpcs.extend(self.by_id.get(id));
        }
        vpcs.sort_unstable();
        vpcs.dedup();
        vpcs
    }
}

fn prefix(values: &Value, keys: &[&str]) -> Option<IpNet> {
    keys.iter()
        .filter_map(|key| values.get(key)?.as_str())
        .find(|text| !text.is_empty())
        .and_then(parse)
}

/// The attributes that name a route's target, in the order they are read.
const TARGET_KEYS: [&str; 11] = [
    "gateway_id",
    "egress_only_gateway_id",
    "nat_gateway_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
    "network_interface_id",
    "instance_id",
    "vpc_endpoint_id",
    "carrier_gateway_id",
    "local_gateway_id",
    "core_network_arn",
];

/// The VPCs whose tables an `aws_route` may be on, by the gateway it names: an
/// internet gateway's VPC, a NAT gateway's subnet's, either end of a peering
/// connection. `None` when the plan cannot say.
fn route_vpcs(plan: &Plan, route: usize) -> Option<Vec<usize>> {
    for key in TARGET_KEYS {
        let Link::Known(gateways) = plan.link(route, &[], key) else {
            return None;
        };
        if gateways.is_empty() {
            continue;
        }
        // Several gateways (one reference to a counted resource): any of their VPCs.
        let mut vpcs = Vec::new();
        for gateway in gateways {
            vpcs.extend(gateway_vpcs(plan, gateway)?);
        }
        vpcs.sort_unstable();
        vpcs.dedup();
        return Some(vpcs);
    }
    None
}

/// The VPCs of one gateway a route names; `None` when the plan cannot say.
fn gateway_vpcs(plan: &Plan, gateway: usize) -> Option<Vec<usize>> {
    let linked = |resource: usize, key: &str| match plan.link(resource, &[], key) {
        Link::Known(list) if !list.is_empty() => Some(list),
        _ => None,
    };
    match plan.resource(gateway).kind.as_str() {
        "aws_internet_gateway" | "aws_egress_only_internet_gateway" => linked(gateway, "vpc_id"),
        "aws_nat_gateway" => {
            let mut vpcs = Vec::new();
            for subnet in linked(gateway, "subnet_id")? {
                vpcs.extend(linked(subnet, "vpc_id")?);
            }
            Some(vpcs)
        }
        "aws_vpc_peering_connection" => {
            let mut vpcs = linked(gateway, "vpc_id")?;
            vpcs.extend(linked(gateway, "peer_vpc_id")?);
            Some(vpcs)
        }
        _ => None,
    }
}

/// The target of a route block or `aws_route`, by the gateway it names.
fn target(plan: &Plan, resource: usize, path: &[&str]) -> Target {
    for key in TARGET_KEYS {
        let value = at_path(&plan.resource(resource).values, path);
        let set = !matches!(value.get(key), Some(Value::String(text)) if text.is_empty())
            && value.get(key).is_some_and(|v| !v.is_null());
        if value.get(key).and_then(Value::as_str) == Some("local") {
            return Target::Local;
        }
        match plan.link(resource, path, key) {
            Link::Known(list) if list.is_empty() && !set => continue,
            Link::Known(list) => return target_among(plan, &list, key),
            Link::Unknown => return Target::Unknown,
        }
    }
    Target::Local
}

/// The target that `key` names among `resources`: one id in the plan, or the
/// resources its configuration refers to. A route block unknown until apply may name
/// any that its table's whole `route` list refers to (`Plan::link`): those of the
/// kinds `key` takes (an internet gateway for `gateway_id`) when they are all one
/// target, otherwise anything.
fn target_among(plan: &Plan, resources: &[usize], key: &str) -> Target {
    let kinds: &[&str] = match key {
        "gateway_id" => &["aws_internet_gateway", "aws_vpn_gateway"],
        "egress_only_gateway_id" => &["aws_egress_only_internet_gateway"],
        "nat_gateway_id" => &["aws_nat_gateway"],
        "vpc_peering_connection_id" => &[
            "aws_vpc_peering_connection",
            "aws_vpc_peering_connection_accepter",
        ],
        _ => return Target::Unknown,
    };
    let mut targets = (resources.iter())
        .filter(|&&index| kinds.contains(&plan.resource(index).kind.as_str()))
        .map(|&index| match plan.resource(index).kind.as_str() {
            "aws_internet_gateway" => Target::InternetGateway,
            "aws_egress_only_internet_gateway" => Target::EgressOnlyInternetGateway,
            "aws_nat_gateway" => Target::NatGateway,
            "aws_vpc_peering_connection" | "aws_vpc_peering_connection_accepter" => {
                Target::Peering(index)
            }
            _ => Target::Unknown,
        });
    match (targets.next(), targets.next()) {
        (Some(target), None) => target,
        _ => Target::Unknown,
    }
}
