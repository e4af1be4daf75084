//! The Terraform importer: plans and states (`terraform show -json`) in, raw policy
//! files out. VPCs and subnets become segments, instances, interfaces, databases, load
//! balancers and Lambda functions become assets named by their Terraform addresses, and
//! what every network layer allows together becomes flows, each located at the plan line
//! of the resource that allows it. Resolve and everything after it see only the raw
//! model.

mod arn;
mod connections;
mod document;
mod endpoint;
mod iam;
mod launch;
mod lines;
mod nacls;
mod network;
mod objects;
mod port_set;
mod private_link;
mod routing;
mod security_groups;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use compact_str::{CompactString, ToCompactString};
use connections::{End, Grant, Layers};
use launch::Launch;
use nacls::Acls;
use network::Network;
pub use objects::Side;
use objects::{Plan, Resource};
use port_set::PortSet;
use rayon::prelude::*;
use routing::Routing;
use rustc_hash::FxHashMap;
use security_groups::SecurityGroups;

use crate::diagnostic::{Diagnostic, Problem};
use crate::import::ServiceAccount;
use crate::raw::{At, Items, RawAccount, RawCredential, RawEntity, RawFile, RawFlow, RawList};

/// The account that a plan lands in when no policy file places it.
pub const DEFAULT_ACCOUNT: &str = "aws";

/// The AWS API: an asset outside every account, reachable from the internet, through
/// which roles act.
pub const AWS_API: &str = "aws-api";

/// One plan or state file: its display path, its text, and the account it lands in
/// (`None`: the default account).
pub struct PlanFile<'a> {
    pub display: &'a str,
    pub text: &'a str,
    pub account: Option<&'a str>,
}

/// What the importer gives back: one raw file for each plan, by the plan's index, and
/// the managed resource types it does not model, counted.
#[derive(Debug, Default)]
pub struct Imported {
    pub files: Vec<(usize, RawFile)>,
    pub unmodelled: BTreeMap<String, usize>,
    /// Where a value unknown until apply made the importer assume the permissive
    /// answer: `FILE:LINE: what`, in plan order.
    pub warnings: Vec<String>,
}

/// Imports plans as they will be once applied (`Side::Planned`) or as they were before
/// (`Side::Prior`), or reports every problem found in them. `service_accounts` are
/// those of the imported Kubernetes clusters, which obtain roles on EKS.
pub fn import(
    plans: &[PlanFile],
    side: Side,
    service_accounts: &[ServiceAccount],
) -> Result<Imported, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut imported = Imported::default();
    let mut default_declared = false;
    let mut read = Vec::new();
    let mut principals = iam::Principals::default();
    // Each plan's endpoints whose service it does not hold, by its place in `read`.
    let mut endpoints_elsewhere = Vec::new();
    for (index, file) in plans.iter().enumerate() {
        let plan = match Plan::read(file.display, file.text, side) {
            Ok(plan) => plan,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        for (resource, reference) in plan.dangling() {
            problems.push(
                Diagnostic::new(
                    file.display,
                    plan.resource(resource).line,
                    0,
                    Problem::UnknownName {
                        what: "Terraform resource",
                        name: reference,
                    },
                )
                .with_help(Some(format!(
                    "`{}` refers to a resource the plan does not hold; write the plan again with `terraform show -json`",
                    plan.resource(resource).address
                ))),
            );
        }
        for (resource, key, reason) in iam::malformed(&plan) {
            problems.push(
                Diagnostic::new(
                    file.display,
                    plan.resource(resource).line,
                    0,
                    Problem::BadPolicyDocument {
                        address: plan.resource(resource).address.clone(),
                        key: key.to_owned(),
                        reason,
                    },
                )
                .with_help(Some(
                    "a policy is JSON with a `Statement` list, as `jsonencode` or `aws_iam_policy_document` writes it".to_owned(),
                )),
            );
        }
        for (kind, count) in &plan.unmodelled {
            *imported.unmodelled.entry(kind.clone()).or_default() += count;
        }
        let account = file.account.unwrap_or(DEFAULT_ACCOUNT).to_owned();
        let (mut raw, loose) = raw_file(&plan, &account, &mut imported.warnings, file.display);
        endpoints_elsewhere.push(loose);
        principals.read(read.len(), &plan, &mut |resource, what| {
            (imported.warnings).push(warning(file.display, &plan, resource, what));
        });
        if file.account.is_none() && !default_declared {
            default_declared = true;
            raw.accounts = Some(vec![at(
                RawAccount {
                    name: at(DEFAULT_ACCOUNT.to_owned(), 0),
                    parent: None,
                    cidrs: None,
                    tags: None,
                    description: Some(
                        "Imported from Terraform plans that no policy places".to_owned(),
                    ),
                    owner: None,
                    provider: Some("aws".to_owned()),
                    id: None,
                },
                0,
            )]);
        }
        read.push((index, plan, account, raw));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (principals, unmatched) = principals.joined();
    for (plan, resource, what) in identity(&mut read, &principals, service_accounts) {
        let (index, plan, ..) = &read[plan];
        (imported.warnings).push(warning(plans[*index].display, plan, resource, &what));
    }
    for (at, what) in private_links_across(&mut read, &endpoints_elsewhere) {
        let (index, plan, ..) = &read[at.0];
        (imported.warnings).push(warning(plans[*index].display, plan, at.1, &what));
    }
    for (plan, resource, what) in unmatched {
        let (index, plan, ..) = &read[plan];
        let display = plans[*index].display;
        (imported.warnings).push(warning(display, plan, resource, &what));
    }
    let mut plans = Vec::with_capacity(read.len());
    imported.files = read
        .into_iter()
        .map(|(index, plan, _, raw)| {
            plans.push(plan);
            (index, raw)
        })
        .collect();
    // A plan's attribute values are a tree of small allocations: freeing those of
    // 20,000 resources costs about as much as building every flow's name. Nothing
    // needs them any more, so they are freed on the thread pool, beside the resolve
    // that the caller runs next, not before it.
    rayon::spawn(move || drop(plans));
    Ok(imported)
}

/// Adds the identity plane to the plans' raw files: `aws-api` (in the first), each
/// of `principals` (roles and users of every plan) as a credential and as an asset
/// that stands for a session of it, and flows through the API for holding, obtaining
/// and controlling. Gives back a warning for each trust statement that names service
/// accounts which no imported cluster knows: (plan, resource, what).
fn identity(
    read: &mut [(usize, Plan, String, RawFile)],
    principals: &[iam::Principal],
    service_accounts: &[ServiceAccount],
) -> Vec<(usize, usize, String)> {
    let mut warnings = Vec::new();
    let Some(first) = read.first_mut() else {
        return warnings;
    };
    first.3.assets.get_or_insert_with(Vec::new).push(at(
        RawEntity {
            name: at(AWS_API.to_owned(), 0),
            parent: None,
            cidrs: None,
            tags: None,
            description: Some("The AWS API, outside every account".to_owned()),
            owner: None,
        },
        0,
    ));
    first.3.flows.get_or_insert_with(Vec::new).push(at(
        identity_flow(
            format!("{AWS_API}#internet"),
            vec![crate::model::INTERNET.to_owned()],
            vec![AWS_API.to_owned()],
            None,
            "the AWS API answers from anywhere".to_owned(),
            0,
        ),
        0,
    ));
    let controllable: Vec<Vec<iam::Controllable>> = read
        .iter()
        .map(|(_, plan, _, _)| iam::controllable(plan))
        .collect();
    let grants = iam::grants(principals, &controllable);
    let address = |principal: &iam::Principal| {
        read[principal.plan]
            .1
            .resource(principal.resource)
            .address
            .clone()
    };
    let line =
        |principal: &iam::Principal| read[principal.plan].1.resource(principal.resource).line;
    let mut additions: Vec<(usize, RawAdditions)> = Vec::new();
    for principal in principals {
        let mut add = RawAdditions::default();
        let name = address(principal);
        let at_line = line(principal);
        let runners: Vec<String> = (principal.holders.iter())
            .map(|&(plan, holder)| read[plan].1.resource(holder).address.clone())
            .collect();
        // The imported clusters' pods hold a role that their service account obtains,
        // as does whatever else holds its token. A trust statement that names no
        // account those clusters know admits anyone, as a federated identity does.
        let mut public = principal.public;
        let mut pods = std::collections::BTreeSet::new();
        for obtaining in &principal.service_accounts {
            let mut known = false;
            for account in obtaining.matching(service_accounts) {
                known = true;
                pods.extend(account.holders.iter().cloned());
            }
            if let (false, iam::ServiceAccounts::Trusted(subjects)) = (known, obtaining) {
                public = true;
                // Without a cluster this is what a federated identity always meant.
                if !service_accounts.is_empty() {
                    let what = format!(
                        "its trust policy admits service accounts that no imported cluster knows ({}); assumed to admit anyone",
                        subjects.described()
                    );
                    warnings.push((principal.plan, principal.resource, what));
                }
            }
        }
        let pods: Vec<String> = pods.into_iter().collect();
        // A principal that anyone may assume is held from the internet too; every
        // principal by a session of itself.
        let mut holders = runners.clone();
        holders.extend(pods.iter().cloned());
        if public {
            holders.push(crate::model::INTERNET.to_owned());
        }
        holders.push(name.clone());
        add.assets.push(at(
            RawEntity {
                name: at(name.clone(), at_line),
                parent: Some(at(read[principal.plan].2.clone(), at_line)),
                cidrs: None,
                tags: None,
                description: Some(principal.kind.session().to_owned()),
                owner: None,
            },
            at_line,
        ));
        add.credentials.push(at(
            RawCredential {
                name: at(name.clone(), at_line),
                held_by: Some(at(
                    RawList(holders.iter().map(|h| at(h.clone(), at_line)).collect()),
                    at_line,
                )),
                leaked: None,
                status: None,
                kind: Some(principal.kind.credential().to_owned()),
                description: None,
                owner: None,
                rotated: None,
            },
            at_line,
        ));
        // Whoever has the principal's credentials calls the API with them from
        // anywhere: an attacker who stole a user's access keys starts at its session.
        add.flows.push(at(
            identity_flow(
                format!("{name}#calls"),
                vec![name.clone()],
                vec![AWS_API.to_owned()],
                None,
                format!("a session of `{name}` calls the AWS API"),
                at_line,
            ),
            at_line,
        ));
        if !runners.is_empty() {
            // A holder calls the API with the principal's keys from where it runs.
            add.flows.push(at(
                identity_flow(
                    format!("{name}#api"),
                    runners,
                    vec![AWS_API.to_owned()],
                    None,
                    format!("instances and functions holding `{name}` call the AWS API"),
                    at_line,
                ),
                at_line,
            ));
        }
        if !pods.is_empty() {
            add.flows.push(at(
                identity_flow(
                    format!("{name}#pods"),
                    pods,
                    vec![AWS_API.to_owned()],
                    None,
                    format!(
                        "what holds the token of a Kubernetes service account that obtains `{name}` calls the AWS API with it"
                    ),
                    at_line,
                ),
                at_line,
            ));
        }
        additions.push((principal.plan, add));
    }
    // A principal obtains a role by assuming it, by passing it to a service that runs
    // code of its choosing, by rewriting the IAM policies that guard it, or by giving
    // new code to a function that runs with it; a user by making keys for it, or by
    // reading those the plan stores.
    let assumed = (
        "assumed-by",
        "sts:AssumeRole",
        ", whose trust policy admits it",
    );
    let passed = (
        "passed-by",
        "iam:PassRole",
        " to a service that its trust policy admits, and start code there",
    );
    let rewritten = (
        "rewritten-by",
        "rewrite IAM policies to obtain",
        ": its trust policy, or the permissions of a role it trusts",
    );
    let keyed = ("keyed-by", "make access keys or a console password for", "");
    let stored = (
        "read-by",
        "read the access keys of",
        " where the plan stores them, in a secret or a parameter",
    );
    let run = (
        "run-by",
        "replace the code of a Lambda function outside a VPC that runs with",
        "",
    );
    let obtained = (grants.assumes.iter().map(|pair| (pair, assumed)))
        .chain(grants.passes.iter().map(|pair| (pair, passed)))
        .chain(grants.rewrites.iter().map(|pair| (pair, rewritten)))
        .chain(grants.runs.iter().map(|pair| (pair, run)))
        .chain(grants.keys.iter().map(|pair| (pair, keyed)))
        .chain(grants.reads.iter().map(|pair| (pair, stored)));
    for ((a, b), (how, action, why)) in obtained {
        let (assumer, target) = (&principals[*a], &principals[*b]);
        let name = address(target);
        let by = address(assumer);
        let description = format!("`{by}` may {action} `{name}`{why}");
        let mut add = RawAdditions::default();
        add.flows.push(at(
            identity_flow(
                format!("{name}#{how}:{by}"),
                vec![AWS_API.to_owned()],
                vec![name.clone()],
                Some(by),
                description,
                line(target),
            ),
            line(target),
        ));
        additions.push((target.plan, add));
    }
    for (principal, plan, list) in &grants.controls {
        let principal = &principals[*principal];
        let name = address(principal);
        let targets = addresses(&read[*plan].1, list);
        let mut add = RawAdditions::default();
        add.flows.push(at(
            identity_flow(
                format!("{name}#session:{plan}"),
                vec![AWS_API.to_owned()],
                targets,
                Some(name.clone()),
                format!(
                    "`{name}` may run code of its own on them: a session or a command on an instance, new code for a function"
                ),
                line(principal),
            ),
            line(principal),
        ));
        additions.push((principal.plan, add));
    }
    for (plan, add) in additions {
        let raw = &mut read[plan].3;
        raw.assets.get_or_insert_with(Vec::new).extend(add.assets);
        raw.credentials
            .get_or_insert_with(Vec::new)
            .extend(add.credentials);
        raw.flows.get_or_insert_with(Vec::new).extend(add.flows);
    }
    warnings
}

#[derive(Default)]
struct RawAdditions {
    assets: Vec<At<RawEntity>>,
    credentials: Vec<At<RawCredential>>,
    flows: Vec<At<RawFlow>>,
}

/// A flow of the identity plane, on any port, its every part at `line`.
fn identity_flow(
    name: String,
    from: Vec<String>,
    to: Vec<String>,
    auth: Option<String>,
    description: String,
    line: u32,
) -> RawFlow {
    listed_flow(name, from, to, auth, "identity", description, line)
}

/// A flow of `kind` between the entities listed, on any port, its every part at `line`.
fn listed_flow(
    name: String,
    from: Vec<String>,
    to: Vec<String>,
    auth: Option<String>,
    kind: &str,
    description: String,
    line: u32,
) -> RawFlow {
    let list = |items: Vec<String>| {
        at(
            RawList(items.into_iter().map(|i| at(i, line)).collect()),
            line,
        )
    };
    RawFlow {
        name: Some(at(name.into(), line)),
        from: list(from),
        to: list(to),
        ports: None,
        auth: auth.map(|auth| list(vec![auth])),
        kind: Some(kind.into()),
        description: Some(description.into()),
        owner: None,
        ticket: None,
    }
}

fn at<T>(value: T, line: u32) -> At<T> {
    At {
        value,
        line,
        column: 0,
    }
}

fn entity(resource: &Resource, parent: &str, cidrs: Vec<String>) -> At<RawEntity> {
    let tags = network::tags(&resource.values);
    at(
        RawEntity {
            name: at(resource.address.clone(), resource.line),
            parent: Some(at(parent.to_owned(), resource.line)),
            cidrs: (!cidrs.is_empty())
                .then(|| cidrs.into_iter().map(|c| at(c, resource.line)).collect()),
            tags: (!tags.is_empty())
                .then(|| tags.into_iter().map(|t| at(t, resource.line)).collect()),
            description: Some(format!("Terraform {}", resource.kind)),
            owner: None,
        },
        resource.line,
    )
}

/// The plan's VPCs and subnets as segments, and its assets, each placed in its one
/// subnet, else its VPC, else the account.
fn entities(
    plan: &Plan,
    network: &Network,
    account: &str,
) -> (Vec<At<RawEntity>>, Vec<At<RawEntity>>) {
    let address = |index: usize| plan.resource(index).address.clone();
    let mut segments = Vec::new();
    for vpc in &network.vpcs {
        let cidrs = vpc.cidrs.iter().map(ToString::to_string).collect();
        segments.push(entity(plan.resource(vpc.resource), account, cidrs));
    }
    for subnet in &network.subnets {
        let parent = subnet
            .vpc
            .filter(|vpc| network.vpc(*vpc).is_some())
            .map_or_else(|| account.to_owned(), address);
        let cidrs = subnet.cidrs.iter().map(ToString::to_string).collect();
        segments.push(entity(plan.resource(subnet.resource), &parent, cidrs));
    }
    let mut assets = Vec::new();
    for asset in &network.assets {
        let parent = match (asset.subnets.as_slice(), asset.vpc) {
            ([one], _) => address(*one),
            (_, Some(vpc)) if network.vpc(vpc).is_some() => address(vpc),
            _ => account.to_owned(),
        };
        let cidrs = asset.addresses.iter().map(ToString::to_string).collect();
        assets.push(entity(plan.resource(asset.resource), &parent, cidrs));
    }
    (segments, assets)
}

/// A warning about `resource` of `plan`, read from `display`: `FILE:LINE: `ADDRESS`:
/// what`. Nothing in a state is unknown until apply: where a plan's value would be,
/// a state names what it does not hold.
fn warning(display: &str, plan: &Plan, resource: usize, what: &str) -> String {
    let what = if plan.state {
        Cow::Owned(
            what.replace("unknown until apply or not in its plan", "not in the state")
                .replace("unknown until apply", "not in the state"),
        )
    } else {
        Cow::Borrowed(what)
    };
    let resource = plan.resource(resource);
    format!(
        "{display}:{}: `{}`: {what}",
        resource.line, resource.address
    )
}

/// The plan's entities and flows as a raw file, and its endpoints whose service it does
/// not hold, for the other plans to offer.
fn raw_file(
    plan: &Plan,
    account: &str,
    warnings: &mut Vec<String>,
    display: &str,
) -> (RawFile, Vec<private_link::Loose>) {
    // The security groups (the costliest layer to read: every rule of the plan) are
    // read on the thread pool while this thread reads everything else the grants
    // need; neither side reads what the other builds.
    let (groups, (network, acls, routing, segments, assets, classes)) = rayon::join(
        || SecurityGroups::read(plan),
        || {
            let network = Network::read(plan);
            let acls = Acls::read(plan, &network);
            let routing = Routing::read(plan);
            let (segments, assets) = entities(plan, &network, account);
            let classes = connections::classes(&network);
            (network, acls, routing, segments, assets, classes)
        },
    );
    let mut warn =
        |resource: usize, what: &str| warnings.push(warning(display, plan, resource, what));
    for asset in &network.assets {
        if Launch::launched(plan, asset.resource) == Some(Launch::Unknown) {
            warn(
                asset.resource,
                "its launch template is unknown until apply or not in its plan; assumed to give any security group, a public address and any instance profile of the plan",
            );
        } else if asset.groups == objects::Link::Unknown {
            warn(
                asset.resource,
                "its security groups are unknown until apply; assumed to allow everything",
            );
        }
        if asset.subnets_unknown {
            warn(
                asset.resource,
                "its subnet is unknown until apply; assumed to be any subnet, with no NACL or route to stop it",
            );
        }
    }
    for &eip in &network.loose_eips {
        warn(
            eip,
            "the instance or interface it attaches to is unknown until apply; assumed to be any",
        );
    }
    for &(group, direction) in groups.unknown_blocks() {
        warn(
            group,
            &format!(
                "its `{direction}` rules are unknown until apply; assumed to admit every address and group on every port"
            ),
        );
    }
    for rule in groups.loose_rules() {
        warn(
            rule,
            "the security group it belongs to is unknown until apply; assumed to be every group",
        );
    }
    for &(acl, direction) in acls.unknown_blocks() {
        warn(
            acl,
            &format!(
                "its `{direction}` rules are unknown until apply; assumed to allow everything first"
            ),
        );
    }
    for &rule in acls.loose_rules() {
        warn(
            rule,
            "the network ACL it belongs to is unknown until apply; an allow is assumed to be on every ACL, a deny on none",
        );
    }
    for &association in (acls.loose_associations().iter()).chain(routing.loose_associations()) {
        warn(
            association,
            "what it associates is unknown until apply; assumed to apply to any subnet without an association of its own",
        );
    }
    for &table in routing.unknown_routes() {
        warn(
            table,
            "its routes are unknown until apply; assumed to route anywhere",
        );
    }
    for &route in routing.unplaced() {
        warn(
            route,
            "its route table is unknown until apply; assumed to be every table of its VPC",
        );
    }

    let layers = Layers {
        groups: &groups,
        acls: &acls,
        routing: &routing,
    };
    let grants = layers.grants(&classes);
    let mut flows = grant_flows(plan, &classes, &grants);
    let (linked, loose) = private_link::connected(plan, &network, &mut warn);
    flows.extend(linked.iter().map(|link| {
        let services: Vec<String> = (link.service.iter())
            .map(|&service| format!("`{}`", plan.resource(service).address))
            .collect();
        let balancers = addresses(plan, &link.balancers);
        private_link_flow(plan, link.endpoint, balancers, &services.join(", "))
    }));
    // What the grants were worked out from is thousands of small allocations that
    // nothing reads any more: freed on the thread pool, beside what the caller does
    // next.
    rayon::spawn(move || drop((grants, classes, groups, acls, routing, network)));

    let raw = RawFile {
        segments: (!segments.is_empty()).then_some(segments),
        assets: (!assets.is_empty()).then_some(assets),
        flows: (!flows.is_empty()).then_some(flows),
        imported: true,
        ..RawFile::default()
    };
    (raw, loose)
}

/// One flow for each grant, in order, located at the resource that allows it and named
/// by [`flow_name`], a name given twice numbered from its second (`… #2`).
fn grant_flows(plan: &Plan, classes: &[connections::Class], grants: &[Grant]) -> Vec<At<RawFlow>> {
    // Each class's assets as selectors, written once: a class sits in many grants.
    // Compact strings, so that copying an address of up to 24 bytes into each grant's
    // list allocates nothing.
    let selectors: Vec<Vec<At<CompactString>>> = classes
        .iter()
        .map(|class| {
            (class.assets.iter())
                .map(|asset| at(CompactString::from(&plan.resource(*asset).address), 0))
                .collect()
        })
        .collect();
    // Many grants share an end (every rule of a group admits the same classes): such
    // an end's list is built once and shared, and resolve resolves it once. A plan's
    // rules open a handful of distinct port sets: each is written once and shared too,
    // and resolve parses it once. Both are looked up in grant order, on one thread.
    let mut lists = EndLists::default();
    let mut port_sets: FxHashMap<Hashed<PortSet>, usize> = FxHashMap::default();
    let mut port_specs: Vec<Arc<[At<CompactString>]>> = Vec::new();
    let hashed: Vec<(Ends, Ends, Hashed<PortSet>)> = (grants.par_iter())
        .map(|grant| {
            let ports = Hashed::new(&grant.ports);
            (Ends::new(&grant.from), Ends::new(&grant.to), ports)
        })
        .collect();
    let ends: Vec<(RawList, RawList, usize)> = grants
        .iter()
        .zip(hashed)
        .map(|(grant, (from, to, ports))| {
            let from = lists.list(&selectors, from);
            let to = lists.list(&selectors, to);
            let ports = match port_sets.get(&ports) {
                Some(&known) => known,
                None => {
                    // Without a line of their own: a problem with one is reported at
                    // the list's, the line of the flow's rule.
                    let specs = grant.ports.specs().into_iter();
                    port_specs.push(specs.map(|spec| at(spec.into(), 0)).collect());
                    port_sets.insert(ports, port_specs.len() - 1);
                    port_specs.len() - 1
                }
            };
            (from, to, ports)
        })
        .collect();
    // The rest of each flow, its name, ports and description, needs nothing from the
    // others: written on every core.
    let mut flows: Vec<At<RawFlow>> = grants
        .par_iter()
        .zip(ends)
        .map(|(grant, (from, to, ports))| {
            let resource = plan.resource(grant.resource);
            let specs = (port_specs.get(ports)).map_or_else(|| Arc::from([]), Arc::clone);
            grant_flow(resource, from, to, specs)
        })
        .collect();
    number_repeats(&mut flows);
    flows
}

/// The addresses of resources `list` of `plan`.
fn addresses(plan: &Plan, list: &[usize]) -> Vec<String> {
    (list.iter())
        .map(|&index| plan.resource(index).address.clone())
        .collect()
}

/// The flow that PrivateLink opens from endpoint `endpoint` of `plan` to the load
/// balancers `balancers` (named as entities, of any plan) behind the endpoint services
/// `services` (as a message names them), at the endpoint, on any port.
fn private_link_flow(
    plan: &Plan,
    endpoint: usize,
    balancers: Vec<String>,
    services: &str,
) -> At<RawFlow> {
    let endpoint = plan.resource(endpoint);
    let line = endpoint.line;
    let description = format!(
        "PrivateLink from Terraform aws_vpc_endpoint `{}` to the load balancers of {services}",
        endpoint.address
    );
    let flow = listed_flow(
        format!("{}#private-link", endpoint.address),
        vec![endpoint.address.clone()],
        balancers,
        None,
        "private-link",
        description,
        line,
    );
    at(flow, line)
}

/// Joins each endpoint whose service its plan does not hold (`elsewhere`, by place in
/// `read`) to the load balancers that the other plans' endpoint services of that name
/// offer: a flow in the endpoint's plan. Those that no plan offers are returned, as
/// (place in `read`, resource) and what to warn of: another account's service, which
/// the plans cannot follow.
fn private_links_across(
    read: &mut [(usize, Plan, String, RawFile)],
    elsewhere: &[Vec<private_link::Loose>],
) -> Vec<((usize, usize), String)> {
    let mut unfollowed = Vec::new();
    for (place, loose) in elsewhere.iter().enumerate() {
        for endpoint in loose {
            let balancers: Vec<String> = (read.iter().enumerate())
                .filter(|(other, _)| *other != place)
                .flat_map(|(_, (_, plan, ..))| {
                    addresses(plan, &private_link::offered(plan, &endpoint.name))
                })
                .collect();
            let Some((_, plan, _, raw)) = read.get_mut(place) else {
                continue;
            };
            if balancers.is_empty() {
                unfollowed.push((
                    (place, endpoint.endpoint),
                    format!(
                        "its endpoint service `{}` is in none of the plans read; the connections it opens there are not modelled",
                        endpoint.name
                    ),
                ));
                continue;
            }
            let services = format!("`{}`", endpoint.name);
            let flow = private_link_flow(plan, endpoint.endpoint, balancers, &services);
            raw.flows.get_or_insert_with(Vec::new).push(flow);
        }
    }
    unfollowed
}

/// Numbers each name that an earlier flow already has, in order, counting the names
/// as written, before any number: the second `n` becomes `n #2`, the third `n #3`.
fn number_repeats(flows: &mut [At<RawFlow>]) {
    // Counted first, the names borrowed, so that no name is copied into the map.
    let seen: Vec<u32> = {
        let mut names: FxHashMap<&str, u32> =
            FxHashMap::with_capacity_and_hasher(flows.len(), Default::default());
        (flows.iter())
            .map(|flow| {
                let name = (flow.value.name.as_ref()).map_or("", |name| name.value.as_str());
                let seen = names.entry(name).or_default();
                *seen += 1;
                *seen
            })
            .collect()
    };
    for (flow, seen) in flows.iter_mut().zip(seen) {
        if let Some(name) = flow.value.name.as_mut().filter(|_| seen > 1) {
            name.value.push_str(" #");
            push_count(&mut name.value, seen as usize);
        }
    }
}

/// The flow of one grant of `resource`, between `from` and `to`, on `ports`.
fn grant_flow(
    resource: &Resource,
    from: RawList,
    to: RawList,
    ports: Arc<[At<CompactString>]>,
) -> At<RawFlow> {
    let line = resource.line;
    let name = flow_name(&resource.address, &from, &to);
    let mut description = String::with_capacity(
        "allowed by Terraform  ``".len() + resource.kind.len() + resource.address.len(),
    );
    for part in [
        "allowed by Terraform ",
        &resource.kind,
        " `",
        &resource.address,
        "`",
    ] {
        description.push_str(part);
    }
    at(
        RawFlow {
            name: Some(at(name, line)),
            from: at(from, line),
            to: at(to, line),
            ports: Some(at(RawList(Items::Shared(ports)), line)),
            auth: None,
            // `network`, the kind a flow without one has: left out, so that no flow
            // allocates it.
            kind: None,
            description: Some(description.into()),
            owner: None,
            ticket: None,
        },
        line,
    )
}

/// A grant's flow name: the rule's resource and the first asset at each end, so that a
/// change elsewhere in the plan does not rename it and `diff` shows only what changed
/// (`aws_security_group.b: aws_instance.a +1 -> aws_instance.b`). Written into one
/// string, not through `format!`: a plan gives one per grant.
fn flow_name(address: &str, from: &RawList, to: &RawList) -> CompactString {
    let label_len = |list: &RawList| list.0.first().map_or(0, |first| first.value.len() + 8);
    let mut name =
        CompactString::with_capacity(address.len() + 6 + label_len(from) + label_len(to));
    name.push_str(address);
    name.push_str(": ");
    push_label(&mut name, from);
    name.push_str(" -> ");
    push_label(&mut name, to);
    name
}

/// A list's first item, and how many follow it when any do (`aws_instance.a +3`).
fn push_label(name: &mut CompactString, list: &RawList) {
    let Some(first) = list.0.first() else {
        return;
    };
    name.push_str(&first.value);
    if list.0.len() > 1 {
        name.push_str(" +");
        push_count(name, list.0.len() - 1);
    }
}

/// `count` in decimal digits, written without `fmt`'s machinery (`compact_str` writes
/// integers straight into an inline string): a plan names thousands of flows.
fn push_count(name: &mut CompactString, count: usize) {
    name.push_str(&count.to_compact_string());
}

/// The lists of assets that grants' ends name, each built once: a list of two or
/// more is shared between the grants with the same ends.
#[derive(Default)]
struct EndLists<'g> {
    shared: FxHashMap<Ends<'g>, Arc<[At<CompactString>]>>,
}

/// A grant's ends and their hash.
type Ends<'g> = Hashed<'g, [End]>;

/// A key and its hash, taken once ([`Hashed::new`]): a grant's ends and ports are hashed
/// on every core, so that the one thread that hands out the lists, in grant order, only
/// compares them.
struct Hashed<'g, T: ?Sized> {
    hash: u64,
    value: &'g T,
}

impl<'g, T: Hash + ?Sized> Hashed<'g, T> {
    fn new(value: &'g T) -> Self {
        Hashed {
            hash: rustc_hash::FxBuildHasher.hash_one(value),
            value,
        }
    }
}

impl<T: ?Sized> Clone for Hashed<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Hashed<'_, T> {}

impl<T: PartialEq + ?Sized> PartialEq for Hashed<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.value == other.value
    }
}

impl<T: Eq + ?Sized> Eq for Hashed<'_, T> {}

impl<T: ?Sized> Hash for Hashed<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<'g> EndLists<'g> {
    /// The assets of `ends`, in order, from each class's `selectors`; `internet` for
    /// the internet.
    fn list(&mut self, selectors: &[Vec<At<CompactString>>], key: Ends<'g>) -> RawList {
        if let Some(items) = self.shared.get(&key) {
            return RawList(Items::Shared(Arc::clone(items)));
        }
        let ends = key.value;
        let size = ends
            .iter()
            .map(|end| match end.index() {
                Some(index) => selectors.get(index).map_or(0, Vec::len),
                None => 1,
            })
            .sum();
        let mut list = Vec::with_capacity(size);
        for end in ends {
            match end.index() {
                None => list.push(at(CompactString::const_new(crate::model::INTERNET), 0)),
                Some(index) => {
                    list.extend_from_slice(selectors.get(index).map_or(&[], Vec::as_slice))
                }
            }
        }
        if list.len() < 2 {
            // One item is kept inline, which sharing would not save.
            return RawList(list.into());
        }
        let items: Arc<[At<CompactString>]> = list.into();
        self.shared.insert(key, Arc::clone(&items));
        RawList(Items::Shared(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_with_the_same_ends_share_one_list() {
        let selectors = vec![
            vec![
                at(CompactString::from("a"), 3),
                at(CompactString::from("b"), 4),
            ],
            vec![at(CompactString::from("c"), 5)],
        ];
        let mut lists = EndLists::default();
        let ends = [End::class(0), End::INTERNET];
        let first = lists.list(&selectors, Ends::new(&ends));
        let again = lists.list(&selectors, Ends::new(&ends));
        assert!(first.0.shared_id().is_some());
        assert_eq!(first.0.shared_id(), again.0.shared_id());
        // Each item keeps its own line, as an unshared list's would.
        let items: Vec<(&str, u32)> = again.0.iter().map(|i| (i.value.as_str(), i.line)).collect();
        assert_eq!(items, [("a", 3), ("b", 4), ("internet", 0)]);
        let both = [End::class(0), End::class(1)];
        let other = lists.list(&selectors, Ends::new(&both));
        assert_ne!(other.0.shared_id(), first.0.shared_id());
        // One item stays inline.
        let one = [End::class(1)];
        let single = lists.list(&selectors, Ends::new(&one));
        assert!(matches!(single.0, Items::One(_)));
    }

    #[test]
    fn a_name_given_again_is_numbered_in_order() {
        let flow = |name: &str| {
            at(
                RawFlow {
                    name: Some(at(CompactString::from(name), 1)),
                    from: at(RawList::default(), 1),
                    to: at(RawList::default(), 1),
                    ports: None,
                    auth: None,
                    kind: None,
                    description: None,
                    owner: None,
                    ticket: None,
                },
                1,
            )
        };
        // `a #2` as written is a name of its own, counted apart from `a`'s repeats.
        let written = ["a", "b", "a", "a #2", "a", "b"];
        let mut flows: Vec<At<RawFlow>> = written.into_iter().map(flow).collect();
        number_repeats(&mut flows);
        let names: Vec<&str> = (flows.iter())
            .filter_map(|flow| flow.value.name.as_ref())
            .map(|name| name.value.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "a #2", "a #2", "a #3", "b #2"]);
    }

    #[test]
    fn counts_are_written_in_decimal() {
        for count in [0, 7, 10, 99, 1234, usize::MAX] {
            let mut text = CompactString::from("x +");
            push_count(&mut text, count);
            assert_eq!(text, format!("x +{count}"));
        }
    }

    /// Every attribute of every resource of the scenarios replaced by values of the
    /// wrong shape: the importer gives a model or errors, never a panic.
    #[test]
    fn wrong_shapes_never_panic() {
        let junk = [
            serde_json::json!(null),
            serde_json::json!(-1),
            serde_json::json!("x"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([1, "a", null, {"b": []}]),
            serde_json::json!({"Statement": "x", "cidr_block": 7}),
        ];
        for scenario in ["web-tier", "nacl-denies", "identity/before"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/aws")
                .join(scenario);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|ext| ext != "json") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
                let resources = plan["planned_values"]["root_module"]["resources"]
                    .as_array()
                    .unwrap();
                for (index, resource) in resources.iter().enumerate() {
                    let keys: Vec<String> = resource["values"]
                        .as_object()
                        .map(|map| map.keys().cloned().collect())
                        .unwrap_or_default();
                    for key in keys {
                        for value in &junk {
                            let mut broken = plan.clone();
                            broken["planned_values"]["root_module"]["resources"][index]["values"]
                                [&key] = value.clone();
                            let text = serde_json::to_string_pretty(&broken).unwrap();
                            let plans = [PlanFile {
                                display: "plan.json",
                                text: &text,
                                account: None,
                            }];
                            let _ = import(&plans, Side::Planned, &[]);
                        }
                    }
                }
            }
        }
    }
}
