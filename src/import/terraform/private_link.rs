//! PrivateLink: an interface endpoint opens connections to the load balancers behind
//! the endpoint service it names, whatever the VPCs, with no route, peering or
//! security group between them. So an endpoint in one VPC is a way into another that
//! routing alone would call isolated. The traffic leaves the endpoint for the load
//! balancer on any port its listeners take (listeners are not modelled: any port);
//! what the endpoint admits is its own security groups' business, and what the load
//! balancer reaches is its own.

use super::network::Network;
use super::objects::{Link, Plan};

/// Endpoint services' names begin so; other names are AWS services (`com.amazonaws.
/// REGION.s3`), whose API `aws-api` stands for, or Marketplace ones.
const SERVICE_NAME_PREFIX: &str = "com.amazonaws.vpce.";

/// One endpoint and the load balancers it opens connections to, as resource indexes
/// of assets of the plan.
#[derive(Debug, PartialEq, Eq)]
pub struct Connected {
    pub endpoint: usize,
    pub service: Vec<usize>,
    pub balancers: Vec<usize>,
}

/// An endpoint whose service its plan does not hold: another plan's, or another
/// account's, known by its name.
#[derive(Debug, PartialEq, Eq)]
pub struct Loose {
    pub endpoint: usize,
    pub name: String,
}

/// Every interface endpoint of the plan that names an endpoint service of the plan,
/// with the load balancers behind that service; and those whose service is not in the
/// plan, for [`offered`] in the others. `warn` hears of an endpoint whose service is
/// unknown until apply, taken to be any of the plan's.
pub fn connected(
    plan: &Plan,
    network: &Network,
    warn: &mut dyn FnMut(usize, &str),
) -> (Vec<Connected>, Vec<Loose>) {
    let is_asset = |index: &usize| network.assets.iter().any(|a| a.resource == *index);
    let services: Vec<usize> = plan.of_kind(&["aws_vpc_endpoint_service"]).collect();
    let mut out = Vec::new();
    let mut loose = Vec::new();
    for endpoint in plan.of_kind(&["aws_vpc_endpoint"]) {
        if !is_asset(&endpoint) {
            continue;
        }
        let chosen = match served_by(plan, endpoint, &services) {
            Served::Services(list) => list,
            Served::Unknown => {
                if !services.is_empty() {
                    warn(
                        endpoint,
                        "its service is unknown until apply; assumed to be any endpoint service of the plan",
                    );
                }
                services.clone()
            }
            Served::Elsewhere(name) => {
                loose.push(Loose { endpoint, name });
                Vec::new()
            }
            Served::Aws => Vec::new(),
        };
        let mut balancers = behind(plan, &chosen);
        balancers.retain(is_asset);
        if !balancers.is_empty() {
            out.push(Connected {
                endpoint,
                service: chosen,
                balancers,
            });
        }
    }
    (out, loose)
}

/// The load balancers behind the endpoint services of `plan` that `name` names, in
/// index order: what an endpoint of another plan reaches through them.
pub fn offered(plan: &Plan, name: &str) -> Vec<usize> {
    let services: Vec<usize> = plan.of_kind(&["aws_vpc_endpoint_service"]).collect();
    behind(plan, &named(plan, &services, name))
}

/// The load balancers behind `services`, sorted: those their ARNs name, or every one
/// of the plan where the ARNs are unknown until apply.
fn behind(plan: &Plan, services: &[usize]) -> Vec<usize> {
    let mut balancers: Vec<usize> = Vec::new();
    for &service in services {
        for key in ["network_load_balancer_arns", "gateway_load_balancer_arns"] {
            match plan.link(service, &[], key) {
                Link::Known(list) => balancers.extend(list),
                Link::Unknown => balancers.extend(plan.of_kind(&["aws_lb"])),
            }
        }
    }
    balancers.retain(|&index| plan.resource(index).kind == "aws_lb");
    balancers.sort_unstable();
    balancers.dedup();
    balancers
}

/// Those of `services` that `name` names: its last part is the service's id, or the
/// whole is the service's own `service_name`.
fn named(plan: &Plan, services: &[usize], name: &str) -> Vec<usize> {
    let id = name.rsplit('.').next().unwrap_or(name);
    (services.iter().copied())
        .filter(|&service| {
            let service = plan.resource(service);
            service.id() == Some(id) || service.str("service_name") == Some(name)
        })
        .collect()
}

/// What an endpoint's `service_name` names.
enum Served {
    /// Endpoint services of the plan.
    Services(Vec<usize>),
    /// Unknown until apply, from something other than the plan's services.
    Unknown,
    /// An endpoint service the plan does not hold, by name.
    Elsewhere(String),
    /// An AWS service, or nothing.
    Aws,
}

/// The endpoint services that endpoint `endpoint` names: by the name it gives, which
/// ends with the service's id, or, where the name is unknown until apply, by the
/// configuration's reference.
fn served_by(plan: &Plan, endpoint: usize, services: &[usize]) -> Served {
    let given = (plan.resource(endpoint).str("service_name")).filter(|name| !name.is_empty());
    match given {
        Some(name) if name.starts_with(SERVICE_NAME_PREFIX) => {
            let found = named(plan, services, name);
            if found.is_empty() {
                Served::Elsewhere(name.to_owned())
            } else {
                Served::Services(found)
            }
        }
        Some(_) => Served::Aws,
        None => match plan.referenced(endpoint, &[], "service_name") {
            Some(Link::Known(list)) => {
                let list: Vec<usize> = (list.into_iter())
                    .filter(|index| services.contains(index))
                    .collect();
                // A reference to something else (an AWS service's data source)
                // names no endpoint service.
                if list.is_empty() {
                    Served::Aws
                } else {
                    Served::Services(list)
                }
            }
            Some(Link::Unknown) => Served::Unknown,
            None if plan.unknown(endpoint, &[], "service_name") => Served::Unknown,
            None => Served::Aws,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::terraform::objects::Side;

    /// A plan that makes an endpoint service and, in the same apply, an endpoint of it:
    /// the endpoint's `service_name` is unknown until apply, and its reference names
    /// the service. A second endpoint's service comes from a variable; a third names an
    /// AWS service; a fourth another account's service.
    const PLAN: &str = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_subnet.a", "mode": "managed", "type": "aws_subnet",
     "values": {"cidr_block": "10.1.1.0/24"}},
    {"address": "aws_subnet.b", "mode": "managed", "type": "aws_subnet",
     "values": {"cidr_block": "10.2.1.0/24"}},
    {"address": "aws_lb.one", "mode": "managed", "type": "aws_lb",
     "values": {"internal": true, "load_balancer_type": "network"}},
    {"address": "aws_lb.two", "mode": "managed", "type": "aws_lb",
     "values": {"internal": true, "load_balancer_type": "network"}},
    {"address": "aws_vpc_endpoint_service.one", "mode": "managed",
     "type": "aws_vpc_endpoint_service", "values": {}},
    {"address": "aws_vpc_endpoint_service.two", "mode": "managed",
     "type": "aws_vpc_endpoint_service", "values": {}},
    {"address": "aws_vpc_endpoint.referenced", "mode": "managed", "type": "aws_vpc_endpoint",
     "values": {"vpc_endpoint_type": "Interface"}},
    {"address": "aws_vpc_endpoint.variable", "mode": "managed", "type": "aws_vpc_endpoint",
     "values": {"vpc_endpoint_type": "Interface"}},
    {"address": "aws_vpc_endpoint.aws", "mode": "managed", "type": "aws_vpc_endpoint",
     "values": {"vpc_endpoint_type": "Interface", "service_name": "com.amazonaws.us-east-1.ssm"}},
    {"address": "aws_vpc_endpoint.foreign", "mode": "managed", "type": "aws_vpc_endpoint",
     "values": {"vpc_endpoint_type": "Interface",
                "service_name": "com.amazonaws.vpce.us-east-1.vpce-svc-0999"}}
  ]}},
  "resource_changes": [
    {"address": "aws_lb.one", "change": {"after_unknown": {"subnets": true}}},
    {"address": "aws_lb.two", "change": {"after_unknown": {"subnets": true}}},
    {"address": "aws_vpc_endpoint_service.one", "change": {"after_unknown": {
      "service_name": true, "network_load_balancer_arns": true}}},
    {"address": "aws_vpc_endpoint_service.two", "change": {"after_unknown": {
      "service_name": true, "network_load_balancer_arns": true}}},
    {"address": "aws_vpc_endpoint.referenced", "change": {"after_unknown": {
      "service_name": true, "subnet_ids": true}}},
    {"address": "aws_vpc_endpoint.variable", "change": {"after_unknown": {
      "service_name": true, "subnet_ids": true}}}
  ],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_lb.one", "expressions": {"subnets": {"references": ["aws_subnet.b.id", "aws_subnet.b"]}}},
    {"address": "aws_lb.two", "expressions": {"subnets": {"references": ["aws_subnet.b.id", "aws_subnet.b"]}}},
    {"address": "aws_vpc_endpoint_service.one", "expressions": {
      "network_load_balancer_arns": {"references": ["aws_lb.one.arn", "aws_lb.one"]}}},
    {"address": "aws_vpc_endpoint_service.two", "expressions": {
      "network_load_balancer_arns": {"references": ["aws_lb.two.arn", "aws_lb.two"]}}},
    {"address": "aws_vpc_endpoint.referenced", "expressions": {
      "service_name": {"references": ["aws_vpc_endpoint_service.one.service_name", "aws_vpc_endpoint_service.one"]},
      "subnet_ids": {"references": ["aws_subnet.a.id", "aws_subnet.a"]}}},
    {"address": "aws_vpc_endpoint.variable", "expressions": {
      "service_name": {"references": ["var.service"]},
      "subnet_ids": {"references": ["aws_subnet.a.id", "aws_subnet.a"]}}}
  ]}}
}"#;

    #[test]
    fn an_endpoint_reaches_the_load_balancers_of_the_service_it_names() {
        let plan = Plan::read("plan.json", PLAN, Side::Planned).unwrap();
        let network = Network::read(&plan);
        let mut warned = Vec::new();
        let (links, loose) = connected(&plan, &network, &mut |resource, what| {
            warned.push(format!("{}: {what}", plan.resource(resource).address));
        });
        let address = |index: usize| plan.resource(index).address.as_str();
        let found: Vec<(&str, Vec<&str>)> = (links.iter())
            .map(|link| {
                let balancers = link.balancers.iter().map(|&b| address(b)).collect();
                (address(link.endpoint), balancers)
            })
            .collect();
        // Named by reference: that service's load balancer. From a variable: any
        // service's. An AWS service, or another account's: none of the plan's.
        assert_eq!(
            found,
            [
                ("aws_vpc_endpoint.referenced", vec!["aws_lb.one"]),
                (
                    "aws_vpc_endpoint.variable",
                    vec!["aws_lb.one", "aws_lb.two"]
                ),
            ]
        );
        assert_eq!(
            warned,
            [
                "aws_vpc_endpoint.variable: its service is unknown until apply; assumed to be any endpoint service of the plan",
            ]
        );
        // Another account's service is left for the other plans to offer.
        let loose: Vec<(&str, &str)> = (loose.iter())
            .map(|loose| (address(loose.endpoint), loose.name.as_str()))
            .collect();
        assert_eq!(
            loose,
            [(
                "aws_vpc_endpoint.foreign",
                "com.amazonaws.vpce.us-east-1.vpce-svc-0999"
            )]
        );
        // The plan offers what its services' load balancers are, by name or by id.
        assert_eq!(
            offered(&plan, "com.amazonaws.vpce.us-east-1.vpce-svc-0999"),
            [] as [usize; 0]
        );
    }
}
