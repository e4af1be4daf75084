//! The identity plane: IAM roles and users are principals, each a credential. An
//! instance whose instance profile names a role holds it, as does a Lambda function
//! (an asset) whose execution role it is ([`holders`]), as do the pods of a Kubernetes
//! service account that its trust policy or an EKS Pod Identity association names
//! ([`workload`]), and so does anyone when its trust policy admits anyone. A principal obtains a role whose trust policy names it
//! (in one account, that is enough) or its account (then its own policies must allow
//! `sts:AssumeRole` on the role too), that it may pass to a service whose code it may
//! start (`iam:PassRole`), whose guarding policies it may rewrite (and a principal
//! that may rewrite permissions is allowed everything), or whose function outside a
//! VPC it may give new code; it obtains a user for whom it may make access keys or a
//! console password ([`KEYING`]), or whose keys it may read where the plan stores them
//! ([`keys`]). A principal allowed to open a shell or run commands on an instance
//! ([`CONTROLLING`]), or to replace a Lambda function's code, controls it. All act
//! through the AWS API, an asset outside every account. Users' policies, their own and
//! their groups', are gathered in [`users`]. Plans are read one at a time and joined
//! ([`Principals`]): one may attach policies to, or run code with, another's.
//!
//! Not modelled, and over-approximated where it matters: conditions (a statement with
//! one applies as if it held), service control policies, permission boundaries, session
//! policies, resource policies other than trust policies, and explicit denies that are
//! conditional or name particular resources (ignored). A policy the plan cannot show
//! (computed, or an AWS managed policy) allows everything, and one attached to a role
//! that the plan cannot name is attached to every role of the plan.

use std::borrow::Cow;

use serde_json::Value;

mod groups;
mod holders;
mod keys;
mod users;
mod workload;

pub use super::arn::Arn;
use super::document::Value as Attribute;
use super::network;
use super::objects::{Link, Plan, Resource, array, at_path};

/// One role or user of one plan.
pub struct Principal {
    pub plan: usize,
    pub resource: usize,
    pub kind: Kind,
    name: Option<String>,
    arn: Option<String>,
    /// Its ARN with what the plan does not know left unknown, for `NotResource`.
    full_arn: Arn,
    /// Its permission policies, parsed; `None` for one the plan cannot show. A user's
    /// include its groups'.
    policies: Vec<Option<Value>>,
    /// A role's trust policy; `None` when unknown. A user has none: no one assumes it.
    trust: Option<Value>,
    /// The ARNs of a user's groups, whose policies are its own too; none for a role.
    groups: Vec<Arn>,
    /// The secrets and parameters that hold a user's access keys; none for a role.
    stores: Vec<keys::Store>,
    /// What runs with it (resource indexes in its plan): for a role, instances whose
    /// instance profile names it, then Lambda functions (those that are assets) whose
    /// execution role it is; for a user, the instances and functions that hold its
    /// access keys. Each is (plan, resource index): a role may be held in another plan.
    pub holders: Vec<(usize, usize)>,
    /// The ARNs of the Lambda functions outside a VPC (no asset) that run with a role:
    /// whoever may replace their code obtains it.
    run_by: Vec<Arn>,
    /// Whether anyone may assume it, from outside every plan: see [`admitted`].
    pub public: bool,
    /// The Kubernetes service accounts that obtain it, one entry for each trust
    /// statement that names them (IRSA) or association that does (EKS Pod Identity).
    pub service_accounts: Vec<ServiceAccounts>,
}

/// Kubernetes service accounts that obtain a role ([`workload`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceAccounts {
    /// A trust statement admits them: where the imported clusters know none of them,
    /// it admits anyone, as a federated identity does.
    Trusted(workload::Subjects),
    /// An EKS Pod Identity association gives it to them.
    Associated(workload::Subjects),
}

impl ServiceAccounts {
    /// The accounts of `accounts` it admits.
    pub fn matching<'a>(
        &'a self,
        accounts: &'a [crate::import::ServiceAccount],
    ) -> impl Iterator<Item = &'a crate::import::ServiceAccount> + 'a {
        match self {
            ServiceAccounts::Trusted(subjects) | ServiceAccounts::Associated(subjects) => {
                subjects.matching(accounts)
            }
        }
    }
}

/// What kind of principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Role,
    /// Its credentials are long-lived: access keys, a console password.
    User,
}

impl Kind {
    /// The kind of its credential, as the raw model writes it.
    pub fn credential(self) -> &'static str {
        match self {
            Kind::Role => "aws-iam-role",
            Kind::User => "aws-iam-user",
        }
    }

    /// The description of the asset that stands for a session of it.
    pub fn session(self) -> &'static str {
        match self {
            Kind::Role => "a session of this IAM role",
            Kind::User => "a session of this IAM user, with its access keys or console password",
        }
    }

    /// The resource type in the principal's ARN: `arn:aws:iam::ACCOUNT:role/NAME`.
    fn in_arn(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::User => "user",
        }
    }
}

/// What an identity can do through the AWS API.
pub struct Grants {
    /// (principal, role it may assume), as indexes into the principals.
    pub assumes: Vec<(usize, usize)>,
    /// (principal, role it may pass to a service that runs code it gives), where it
    /// may not assume it.
    pub passes: Vec<(usize, usize)>,
    /// (principal, role it obtains by rewriting IAM policies), where it may do neither.
    pub rewrites: Vec<(usize, usize)>,
    /// (principal, role it obtains by replacing the code of a Lambda function outside
    /// a VPC that runs with it), where it may do none of those.
    pub runs: Vec<(usize, usize)>,
    /// (principal, user it obtains with access keys or a console password of its own
    /// making), as indexes into the principals.
    pub keys: Vec<(usize, usize)>,
    /// (principal, user whose access keys it may read where the plan stores them),
    /// where it may not make new ones.
    pub reads: Vec<(usize, usize)>,
    /// (principal, plan, assets it controls).
    pub controls: Vec<(usize, usize, Vec<usize>)>,
}

/// The IAM resources of one plan and its instances, by kind, each list in address
/// order: gathered in one pass over the plan's resources.
#[derive(Default)]
struct Gathered {
    roles: Vec<usize>,
    role_policies: Vec<usize>,
    role_policy_attachments: Vec<usize>,
    policy_attachments: Vec<usize>,
    profiles: Vec<usize>,
    instances: Vec<usize>,
    /// Auto Scaling groups, which launch instances with the profile their launch
    /// template or configuration names.
    autoscaling: Vec<usize>,
    /// EKS managed node groups, whose nodes run with their node role.
    node_groups: Vec<usize>,
    /// EKS Pod Identity associations, which give a role to a service account's pods.
    pod_identities: Vec<usize>,
    /// ECS services whose tasks are assets (`awsvpc` networking).
    services: Vec<usize>,
    task_definitions: Vec<usize>,
    /// Lambda functions in a VPC: the others are no asset.
    functions: Vec<usize>,
    /// Lambda functions outside a VPC, whose code still runs with their role.
    outside_functions: Vec<usize>,
}

impl Gathered {
    fn read(plan: &Plan) -> Gathered {
        let mut gathered = Gathered::default();
        for (index, resource) in plan.resources.iter().enumerate() {
            let list = match resource.kind.as_str() {
                "aws_iam_role" => &mut gathered.roles,
                "aws_iam_role_policy" => &mut gathered.role_policies,
                "aws_iam_role_policy_attachment" => &mut gathered.role_policy_attachments,
                "aws_iam_policy_attachment" => &mut gathered.policy_attachments,
                "aws_iam_instance_profile" => &mut gathered.profiles,
                "aws_instance" => &mut gathered.instances,
                "aws_autoscaling_group" => &mut gathered.autoscaling,
                "aws_eks_node_group" => &mut gathered.node_groups,
                "aws_eks_pod_identity_association" => &mut gathered.pod_identities,
                "aws_ecs_service" if network::tasks_in_vpc(&resource.values) => {
                    &mut gathered.services
                }
                "aws_ecs_task_definition" => &mut gathered.task_definitions,
                "aws_lambda_function" if network::in_vpc(&resource.values) => {
                    &mut gathered.functions
                }
                "aws_lambda_function" => &mut gathered.outside_functions,
                _ => continue,
            };
            list.push(index);
        }
        gathered
    }
}

/// Policies that a plan attaches to principals it does not hold: they may be another
/// plan's, where one stack attaches policies to the roles another made.
struct Elsewhere {
    plan: usize,
    kind: Kind,
    /// The names and ARNs given that name none of the plan's principals of the kind.
    names: Vec<String>,
    documents: Vec<Option<Value>>,
    /// The service accounts that an EKS Pod Identity association gives the role to.
    service_accounts: Vec<ServiceAccounts>,
}

/// The principals of every plan, read one plan at a time, then joined across plans:
/// a plan may attach policies to another's principals, or run instances with
/// another's instance profile.
#[derive(Default)]
pub struct Principals {
    list: Vec<Principal>,
    elsewhere: Vec<Elsewhere>,
    links: holders::Strays,
    groups: groups::Groups,
}

impl Principals {
    /// Reads the principals of one plan, roles then users, with their policies and
    /// holders. `warn` hears of each resource whose target is unknown until apply,
    /// taken to be every one it may be.
    pub fn read(&mut self, plan_index: usize, plan: &Plan, warn: &mut dyn FnMut(usize, &str)) {
        let first = self.list.len();
        let roles = roles(
            plan_index,
            plan,
            warn,
            first,
            &mut self.elsewhere,
            &mut self.links,
        );
        self.list.extend(roles);
        let first_user = self.list.len();
        let users = users::users(
            plan_index,
            plan,
            warn,
            (first_user, &mut self.elsewhere, &mut self.groups),
        );
        self.list.extend(users);
    }

    /// Every plan's principals, with what other plans attach to them, their groups in
    /// other plans, and what other plans run with them; and the links to profiles and
    /// roles that no plan holds, for warnings.
    pub fn joined(mut self) -> (Vec<Principal>, Vec<holders::Unmatched>) {
        self.groups.join(&mut self.list);
        attach_elsewhere(&mut self.list, &self.elsewhere);
        let unmatched = holders::join(&mut self.list, &self.links);
        (self.list, unmatched)
    }
}

/// Gives the principals of every plan the policies that other plans attach to them,
/// by name or ARN as IAM names them: IAM names are unique in an account, and the
/// plans' accounts are taken to be one unless both ARNs say otherwise.
fn attach_elsewhere(principals: &mut [Principal], elsewhere: &[Elsewhere]) {
    for attached in elsewhere {
        let others = (principals.iter_mut())
            .filter(|principal| principal.plan != attached.plan && principal.kind == attached.kind);
        for principal in others {
            let (name, arn) = (principal.name.as_deref(), principal.arn.as_deref());
            if (attached.names.iter()).any(|text| may_be_named(name, arn, text)) {
                principal
                    .policies
                    .extend(attached.documents.iter().cloned());
                (principal.service_accounts).extend(attached.service_accounts.iter().cloned());
            }
        }
    }
}

/// The roles of one plan, with their policies and holders; `first` is the index of
/// its first role among every plan's principals. Policies attached to roles the plan
/// does not hold go to `elsewhere`, and links to profiles and roles it does not hold
/// to `links`.
fn roles(
    plan_index: usize,
    plan: &Plan,
    warn: &mut dyn FnMut(usize, &str),
    first: usize,
    elsewhere: &mut Vec<Elsewhere>,
    links: &mut holders::Strays,
) -> Vec<Principal> {
    let gathered = Gathered::read(plan);
    let candidates = &gathered.roles;
    // An inline policy whose document is unknown until apply is a block without its
    // `policy`: a document the plan cannot show, as a null one is.
    let mut policies: Vec<Vec<Option<Value>>> = (candidates.iter())
        .map(|&role| {
            array(plan.resource(role).values.get("inline_policy"))
                .map(|block| document(block.get("policy").unwrap_or(&Attribute::Null)))
                .collect()
        })
        .collect();
    // `aws_iam_role_policy` and `aws_iam_role_policy_attachment` name one role,
    // `aws_iam_policy_attachment` a list of them (and users and groups).
    let attaching = [
        (&gathered.role_policies, "role"),
        (&gathered.role_policy_attachments, "role"),
        (&gathered.policy_attachments, "roles"),
    ];
    for (resources, key) in attaching {
        for &resource in resources {
            let Named {
                found: roles,
                strays,
            } = named(plan, resource, key, candidates, &mut |resource| {
                warn(
                    resource,
                    "the role it attaches to is unknown until apply; assumed to be every role of the plan",
                )
            });
            if roles.is_empty() && strays.is_empty() {
                continue;
            }
            let documents = documents(plan, resource);
            for role in roles {
                if let Some(role) = policies.get_mut(role) {
                    role.extend(documents.iter().cloned());
                }
            }
            if !strays.is_empty() {
                elsewhere.push(Elsewhere {
                    plan: plan_index,
                    kind: Kind::Role,
                    names: strays,
                    documents,
                    service_accounts: Vec::new(),
                });
            }
        }
    }
    // An EKS Pod Identity association gives its role to the pods of an account, and
    // one that names a role of another plan gives it there, as a policy attachment
    // does: the cluster's Terraform often keeps the associations, and the account's
    // the roles.
    let mut associated: Vec<Vec<ServiceAccounts>> = vec![Vec::new(); candidates.len()];
    for &association in &gathered.pod_identities {
        let Named {
            found: roles,
            strays,
        } = named(plan, association, "role_arn", candidates, &mut |resource| {
            warn(
                resource,
                "the role it associates is unknown until apply; assumed to be every role of the plan",
            )
        });
        let subjects = ServiceAccounts::Associated(workload::associated(plan, association));
        for role in roles {
            if let Some(role) = associated.get_mut(role) {
                role.push(subjects.clone());
            }
        }
        if !strays.is_empty() {
            elsewhere.push(Elsewhere {
                plan: plan_index,
                kind: Kind::Role,
                names: strays,
                documents: Vec::new(),
                service_accounts: vec![subjects],
            });
        }
    }
    let (holders, run_by) = holders::holders(plan_index, plan, &gathered, first, warn, links);
    let mut roles = Vec::with_capacity(candidates.len());
    let per_role = (candidates.iter().zip(policies).zip(holders).zip(run_by)).zip(associated);
    for ((((&resource, mut policies), holders), run_by), associated) in per_role {
        let r = plan.resource(resource);
        policies.extend(managed_policy_arns(plan, resource));
        let trust = document(
            r.values
                .get("assume_role_policy")
                .unwrap_or(&Attribute::Null),
        );
        let (public, service_accounts) = match &trust {
            Some(trust) => admitted(trust),
            None => {
                warn(
                    resource,
                    "its trust policy is unknown until apply; assumed to admit anyone",
                );
                (true, Vec::new())
            }
        };
        let service_accounts = (service_accounts.into_iter())
            .map(ServiceAccounts::Trusted)
            .chain(associated)
            .collect();
        roles.push(Principal {
            plan: plan_index,
            resource,
            kind: Kind::Role,
            name: r.str("name").map(str::to_owned),
            arn: r.str("arn").map(str::to_owned),
            full_arn: iam_arn(r, Kind::Role.in_arn()),
            policies,
            trust,
            groups: Vec::new(),
            stores: Vec::new(),
            holders: holders
                .into_iter()
                .map(|holder| (plan_index, holder))
                .collect(),
            run_by,
            public,
            service_accounts,
        });
    }
    roles
}

/// What an attribute names among a plan's candidates.
#[derive(Debug, Default)]
struct Named {
    /// The candidates it may name, by their positions among them, in order.
    found: Vec<usize>,
    /// The names and ARNs it gives that may name none of the candidates: the resources
    /// they name are not the plan's.
    strays: Vec<String>,
}

/// What attribute `key` of `resource` names among `candidates`, by name or by ARN, one
/// or a list. IAM names them so, and an id would not do: another resource (a Lambda
/// function, an instance profile) may have the same name, and so the same id. A name
/// unknown until apply is found through the configuration's references; where those
/// do not lead to candidates alone (a variable, a module's output), it may be any of
/// them: all are taken, and `unknown` hears of it when there are any.
fn named(
    plan: &Plan,
    resource: usize,
    key: &str,
    candidates: &[usize],
    unknown: &mut dyn FnMut(usize),
) -> Named {
    named_at(plan, resource, &[], key, candidates, unknown)
}

/// As [`named`], for the attribute inside nested blocks at `path` (`["iam_instance_profile",
/// "0"]`).
fn named_at(
    plan: &Plan,
    resource: usize,
    path: &[&str],
    key: &str,
    candidates: &[usize],
    unknown: &mut dyn FnMut(usize),
) -> Named {
    let value = value_at(plan, resource, path, key);
    let texts = texts(value);
    let mut named = vec![false; candidates.len()];
    let mut strays = Vec::new();
    for text in texts.iter().flatten() {
        let mut any = false;
        for (candidate, &index) in candidates.iter().enumerate() {
            if resource_named(plan.resource(index), text) {
                named[candidate] = true;
                any = true;
            }
        }
        if !any {
            strays.push((*text).to_owned());
        }
    }
    let mut found: Vec<usize> = (0..candidates.len()).filter(|&c| named[c]).collect();
    // An item that is not text is unknown until apply; so is an attribute the plan
    // leaves out (or null) while the configuration sets it.
    let absent = matches!(value, None | Some(Attribute::Null));
    let unknown_items =
        texts.iter().any(Option::is_none) || (absent && plan.configured(resource, path, key));
    if unknown_items {
        let position = |index: &usize| candidates.iter().position(|c| c == index);
        match plan.referenced(resource, path, key) {
            Some(Link::Known(list))
                if !list.is_empty() && list.iter().all(|i| position(i).is_some()) =>
            {
                found.extend(list.iter().filter_map(position));
                found.sort_unstable();
                found.dedup();
            }
            _ => {
                if !candidates.is_empty() {
                    unknown(resource);
                }
                found = (0..candidates.len()).collect();
            }
        }
    }
    Named { found, strays }
}

/// Attribute `key` of `resource`, inside the nested blocks at `path`.
fn value_at<'p>(
    plan: &'p Plan,
    resource: usize,
    path: &[&str],
    key: &str,
) -> Option<&'p Attribute> {
    at_path(&plan.resource(resource).values, path).get(key)
}

/// The names an attribute gives, one or a list: `None` for an item unknown until
/// apply.
fn texts(value: Option<&Attribute>) -> Vec<Option<&str>> {
    match value {
        Some(Attribute::Array(items)) => items.iter().map(Attribute::as_str).collect(),
        Some(Attribute::String(text)) if !text.is_empty() => vec![Some(text)],
        _ => Vec::new(),
    }
}

/// Whether `resource` (a role, an instance profile) may be the one that `text` names.
fn resource_named(resource: &Resource, text: &str) -> bool {
    may_be_named(resource.str("name"), resource.str("arn"), text)
}

/// Whether an IAM resource of this `name` and `arn` may be the one that `text` names:
/// its name, or its ARN, compared without case as IAM compares names. One whose name
/// or ARN is unknown (or empty) may be.
fn may_be_named(name: Option<&str>, arn: Option<&str>, text: &str) -> bool {
    let (name, arn) = (
        name.filter(|name| !name.is_empty()),
        arn.filter(|arn| !arn.is_empty()),
    );
    if text.starts_with("arn:") {
        if let Some(arn) = arn {
            return arn.eq_ignore_ascii_case(text);
        }
        let last = text.rsplit('/').next().unwrap_or(text);
        return name.is_none_or(|name| name.eq_ignore_ascii_case(last));
    }
    name.is_none_or(|name| name.eq_ignore_ascii_case(text))
}

/// The documents that a resource gives its role, user or group: an inline policy's
/// (`aws_iam_role_policy` and the like), or those of the policy an attachment names.
fn documents(plan: &Plan, resource: usize) -> Vec<Option<Value>> {
    match plan.resource(resource).kind.as_str() {
        "aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
            vec![policy_document(plan, resource)]
        }
        _ => attached(plan, resource),
    }
}

/// The documents of the policy that an attachment names in `policy_arn`.
fn attached(plan: &Plan, attachment: usize) -> Vec<Option<Value>> {
    match plan.link(attachment, &[], "policy_arn") {
        Link::Known(list) if !list.is_empty() => list
            .into_iter()
            .map(|policy| policy_document(plan, policy))
            .collect(),
        // An AWS managed policy, or one the plan cannot name.
        _ => vec![managed(
            plan.resource(attachment)
                .str("policy_arn")
                .unwrap_or_default(),
        )],
    }
}

/// The documents of the policies a role lists in `managed_policy_arns`, which attaches
/// them as exclusively as `aws_iam_role_policy_attachment` attaches one. An ARN is the
/// plan's own `aws_iam_policy` when one has it, else a managed policy. When the list
/// is unknown until apply, or holds an ARN that is, the configuration's references
/// name the policies; a reference to anything else allows everything.
fn managed_policy_arns(plan: &Plan, role: usize) -> Vec<Option<Value>> {
    let value = plan.resource(role).values.get("managed_policy_arns");
    let items: Vec<&Attribute> = array(value).collect();
    let mut out: Vec<Option<Value>> = (items.iter())
        .filter_map(|item| item.as_str())
        .map(|arn| by_arn(plan, arn))
        .collect();
    let unknown = match value {
        None | Some(Attribute::Null) => true,
        Some(Attribute::Array(_)) => items.iter().any(|item| item.as_str().is_none()),
        Some(_) => true,
    };
    if unknown {
        match plan.link(role, &[], "managed_policy_arns") {
            Link::Known(list) => {
                out.extend(list.into_iter().map(|policy| policy_document(plan, policy)));
            }
            Link::Unknown => out.push(None),
        }
    }
    out
}

/// The plan's `aws_iam_policy` of this ARN, or else the managed policy.
fn by_arn(plan: &Plan, arn: &str) -> Option<Value> {
    let mut policies = plan.of_kind(&["aws_iam_policy"]);
    match policies.find(|&policy| {
        let resource = plan.resource(policy);
        resource.str("arn") == Some(arn) || resource.id() == Some(arn)
    }) {
        Some(policy) => policy_document(plan, policy),
        None => managed(arn),
    }
}

/// The document of a resource's `policy` attribute.
fn policy_document(plan: &Plan, resource: usize) -> Option<Value> {
    document(
        plan.resource(resource)
            .values
            .get("policy")
            .unwrap_or(&Attribute::Null),
    )
}

/// What a few AWS managed policies allow of what cordon asks (the actions that obtain
/// a role, or take over an instance or a function): none, or everything for
/// `AdministratorAccess`; any other is unknown, so it allows everything.
/// `AmazonSSMManagedInstanceCore` lets an instance be managed, not start sessions, so
/// that it does not make every SSM-managed role an admin. The policies every EKS node
/// role carries describe, manage network interfaces and pull images; the worker node's
/// also lets the node fetch the credentials of EKS Pod Identity roles
/// ([`POD_IDENTITY`]), which is all they allow of what cordon asks.
fn managed(arn: &str) -> Option<Value> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    let name = name.rsplit('/').next().unwrap_or(name);
    match name {
        "AmazonSSMManagedInstanceCore"
        | "ReadOnlyAccess"
        | "CloudWatchAgentServerPolicy"
        | "AmazonEKS_CNI_Policy"
        | "AmazonEC2ContainerRegistryReadOnly"
        | "AmazonEC2ContainerRegistryPullOnly" => Some(serde_json::json!({"Statement": []})),
        "AmazonEKSWorkerNodePolicy" | "AmazonEKSWorkerNodeMinimalPolicy" => {
            Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": POD_IDENTITY, "Resource": "*"}
            ]}))
        }
        "AdministratorAccess" => Some(serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]})),
        _ => None,
    }
}

/// Every policy document in the plan that is text but not a policy: (resource index,
/// attribute, why). Such a document would otherwise be read as unknown and allow everything,
/// hiding a mistake the user wants to hear about.
pub fn malformed(plan: &Plan) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    let kinds = [
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
        "aws_iam_policy",
    ];
    for resource in plan.of_kind(&kinds) {
        let values = &plan.resource(resource).values;
        let mut texts: Vec<(&'static str, &Attribute)> = Vec::new();
        for key in ["assume_role_policy", "policy"] {
            if let Some(value) = values.get(key) {
                texts.push((key, value));
            }
        }
        for block in array(values.get("inline_policy")) {
            if let Some(value) = block.get("policy") {
                texts.push(("inline_policy", value));
            }
        }
        for (key, value) in texts {
            let Attribute::String(text) = value else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(text) {
                Ok(document) if document.get("Statement").is_some() => {}
                Ok(_) => out.push((resource, key, "no `Statement`".to_owned())),
                Err(error) => out.push((resource, key, format!("not JSON ({error})"))),
            }
        }
    }
    out
}

/// A policy document given as JSON text, or as an object; `None` when unknown or
/// unreadable.
fn document(value: &Attribute) -> Option<Value> {
    match value {
        Attribute::String(text) => serde_json::from_str(text).ok(),
        Attribute::Object(_) => Some(value.to_json()),
        _ => None,
    }
}

/// The ARN of an IAM role, user or group (`in_arn`: `role`, `user`, `group`) as the
/// plan knows it: given, or built from its path and name, with the partition and
/// account unknown, and the name too when only its prefix is given (or nothing).
fn iam_arn(resource: &Resource, in_arn: &str) -> Arn {
    if let Some(arn) = resource.str("arn").filter(|arn| !arn.is_empty()) {
        return Arn::known(arn);
    }
    let (name, rest) = match (resource.str("name"), resource.str("name_prefix")) {
        (Some(name), _) => (Some(name), Some("")),
        (None, Some(prefix)) => (Some(prefix), None),
        (None, None) => (None, None),
    };
    Arn::from_parts(&[
        Some("arn:"),
        None,
        Some(":iam::"),
        None,
        Some(":"),
        Some(in_arn),
        resource.str("path"),
        name,
        rest,
    ])
}

/// An asset that a role may take over through the AWS API.
pub struct Controllable {
    /// Its resource index in its plan.
    pub resource: usize,
    /// Its ARN as the plan knows it: given, or built from its id or name with the
    /// partition, region and account unknown (and the id or name too, before apply).
    arn: Arn,
    /// The actions that take it over.
    actions: &'static [&'static str],
}

/// The assets of a plan that a role may take over: its instances, and its Auto Scaling
/// and EKS node groups, whose instances' ids are unknown ([`CONTROLLING`]), the ECS services whose
/// tasks are assets, into whose containers a role may run commands ([`EXECUTING`]),
/// and its Lambda functions that are assets, whose code or settings (a layer, a
/// handler) a role may replace.
pub fn controllable(plan: &Plan) -> Vec<Controllable> {
    let kinds = [
        "aws_instance",
        "aws_autoscaling_group",
        "aws_eks_node_group",
        "aws_ecs_service",
        "aws_lambda_function",
    ];
    (plan.of_kind(&kinds))
        .filter_map(|resource| {
            let r = plan.resource(resource);
            let known = r.str("arn").filter(|arn| !arn.is_empty()).map(Arn::known);
            let (arn, actions) = match r.kind.as_str() {
                "aws_instance" => (
                    known.unwrap_or_else(|| Arn::instance(r.id())),
                    &CONTROLLING[..],
                ),
                "aws_autoscaling_group" | "aws_eks_node_group" => {
                    (Arn::instance(None), &CONTROLLING[..])
                }
                "aws_ecs_service" if network::tasks_in_vpc(&r.values) => {
                    // The cluster is named by ARN (or by name); its tasks' ids are
                    // unknown.
                    let cluster = r.str("cluster").filter(|cluster| !cluster.is_empty());
                    let name = cluster.map(|cluster| cluster.rsplit('/').next().unwrap_or(cluster));
                    (Arn::task(name), &EXECUTING[..])
                }
                "aws_ecs_service" => return None,
                _ if network::in_vpc(&r.values) => (function_arn(r), &REPLACING_CODE[..]),
                _ => return None,
            };
            Some(Controllable {
                resource,
                arn,
                actions,
            })
        })
        .collect()
}

/// The actions that replace what a Lambda function runs: its code, or its settings (a
/// layer, a handler).
const REPLACING_CODE: [&str; 2] = [
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
];

/// A Lambda function's ARN: given, or built from its name with the partition, region
/// and account unknown (and the name too, before apply).
fn function_arn(function: &Resource) -> Arn {
    match function.str("arn").filter(|arn| !arn.is_empty()) {
        Some(arn) => Arn::known(arn),
        None => Arn::function(function.str("function_name")),
    }
}

/// Who may obtain which principal and who controls which assets, across every plan.
/// `controllable` lists, per plan, the assets that a principal may take over.
pub fn grants(principals: &[Principal], controllable: &[Vec<Controllable>]) -> Grants {
    let mut assumes = Vec::new();
    let mut passes = Vec::new();
    let mut rewrites = Vec::new();
    let mut runs = Vec::new();
    let mut keys = Vec::new();
    let mut reads = Vec::new();
    let mut controls = Vec::new();
    let rewritable: Vec<Rewritable> = (principals.iter())
        .map(|principal| Rewritable::of(principal, principals))
        .collect();
    // A principal that may rewrite another's permission policies may make them allow
    // everything, and act with them as itself or as the one it rewrote: it is taken
    // to be allowed everything itself (more than it may have, where it cannot obtain
    // the principal it rewrote).
    let policies: Vec<Cow<[Option<Value>]>> = (principals.iter().zip(&rewritable))
        .map(
            |(principal, rewritable)| match rewritable.policies.is_empty() {
                true => Cow::Borrowed(&principal.policies[..]),
                false => Cow::Owned([&principal.policies[..], &[None]].concat()),
            },
        )
        .collect();
    for (a, principal) in principals.iter().enumerate() {
        let policies = &policies[a];
        for (b, target) in principals.iter().enumerate() {
            if a == b {
                continue;
            }
            let may = |action: &str| allows(policies, action, &Target::Principal(target));
            if target.kind == Kind::User {
                let reads_store = |store: &keys::Store| {
                    (store.actions.iter())
                        .any(|action| allows(policies, action, &Target::Resource(&store.arn)))
                };
                if KEYING.iter().any(|action| may(action)) {
                    keys.push((a, b));
                } else if target.stores.iter().any(reads_store) {
                    reads.push((a, b));
                }
                continue;
            }
            // A trust policy that names the principal is enough in its own account,
            // where it needs no permission of its own (unless it is denied one); one
            // that names an account leaves the choice to the account's policies.
            let obtains = match trusts(target, principal) {
                Admits::No => false,
                Admits::Account => may("sts:AssumeRole"),
                Admits::Directly => {
                    (may_share_account(principal, target) && !denies(policies, "sts:AssumeRole"))
                        || may("sts:AssumeRole")
                }
            };
            // The EKS Pod Identity Agent's action hands out the credentials of any role
            // the service may assume: a node role's, on every node.
            let fetches_pod_identity = || {
                allows(policies, POD_IDENTITY, &Target::New)
                    && trusted_services(target)
                        .iter()
                        .any(|s| s == POD_IDENTITY_SERVICE)
            };
            if obtains || fetches_pod_identity() {
                assumes.push((a, b));
            } else if may_pass(policies, target) {
                passes.push((a, b));
            } else if rewritable[a].obtains(b, principals) {
                rewrites.push((a, b));
            } else if (target.run_by.iter()).any(|function| {
                (REPLACING_CODE.iter())
                    .any(|action| allows(policies, action, &Target::Resource(function)))
            }) {
                runs.push((a, b));
            }
        }
        for (plan, list) in controllable.iter().enumerate() {
            let controlled: Vec<usize> = (list.iter())
                .filter(|asset| {
                    (asset.actions.iter())
                        .any(|action| allows(policies, action, &Target::Resource(&asset.arn)))
                })
                .map(|asset| asset.resource)
                .collect();
            if !controlled.is_empty() {
                controls.push((a, plan, controlled));
            }
        }
    }
    Grants {
        assumes,
        passes,
        rewrites,
        runs,
        keys,
        reads,
        controls,
    }
}

/// The actions that give their caller a user's long-lived credentials, made anew:
/// access keys for the API, a console password (made, or changed) for the console.
const KEYING: [&str; 3] = [
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
];

/// The principals whose policies one principal may rewrite (indexes into the
/// principals).
struct Rewritable {
    /// Those whose permission policies it may change: a role's or a user's inline
    /// policy or attached ones, a group's of the user, the user's groups (a user may be
    /// added to any group), or a new version of a managed policy (which may be
    /// attached to any principal).
    policies: Vec<usize>,
    /// The roles whose trust policy it may change, to name itself.
    trust: Vec<usize>,
}

impl Rewritable {
    fn of(principal: &Principal, principals: &[Principal]) -> Rewritable {
        let may_any = |actions: &[&str], target: &Target| {
            (actions.iter()).any(|action| allows(&principal.policies, action, target))
        };
        let versions = may_any(
            &["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
            &Target::New,
        );
        let joins_groups = may_any(&["iam:AddUserToGroup"], &Target::New);
        let rewrites = |target: &Principal| match target.kind {
            Kind::Role => may_any(
                &["iam:PutRolePolicy", "iam:AttachRolePolicy"],
                &Target::Principal(target),
            ),
            Kind::User => {
                joins_groups
                    || may_any(
                        &["iam:PutUserPolicy", "iam:AttachUserPolicy"],
                        &Target::Principal(target),
                    )
                    || (target.groups.iter()).any(|group| {
                        may_any(
                            &["iam:PutGroupPolicy", "iam:AttachGroupPolicy"],
                            &Target::Resource(group),
                        )
                    })
            }
        };
        let policies = (0..principals.len())
            .filter(|&t| versions || rewrites(&principals[t]))
            .collect();
        let trust = (0..principals.len())
            .filter(|&t| {
                principals[t].kind == Kind::Role
                    && may_any(
                        &["iam:UpdateAssumeRolePolicy"],
                        &Target::Principal(&principals[t]),
                    )
            })
            .collect();
        Rewritable { policies, trust }
    }

    /// Whether the principal obtains the role `target` by rewriting a policy:
    /// `target`'s trust policy, to name the principal; or the permission policies of a
    /// principal that `target` trusts, which may then assume it.
    fn obtains(&self, target: usize, principals: &[Principal]) -> bool {
        self.trust.contains(&target)
            || (self.policies.iter()).any(|&rewritten| {
                rewritten != target
                    && trusts(&principals[target], &principals[rewritten]) != Admits::No
            })
    }
}

/// Whether a role of these `policies` may hand `target` to a service that then runs
/// code of its choosing with it, and so obtain it: `iam:PassRole` on `target`, whose
/// trust policy admits the service, and the action that starts the service's code
/// ([`launching`]).
fn may_pass(policies: &[Option<Value>], target: &Principal) -> bool {
    let services = trusted_services(target);
    !services.is_empty()
        && allows(policies, "iam:PassRole", &Target::Principal(target))
        && services.iter().any(|service| {
            launching(service).is_none_or(|actions| {
                (actions.iter()).any(|action| allows(policies, action, &Target::New))
            })
        })
}

/// The AWS services that `target`'s trust policy lets assume it; none when the trust
/// policy is unknown.
fn trusted_services(target: &Principal) -> Vec<String> {
    let Some(trust) = &target.trust else {
        return Vec::new();
    };
    (statements(trust).iter())
        .filter(|statement| {
            statement.get("Effect").and_then(Value::as_str) == Some("Allow")
                && matches_action(statement, "sts:AssumeRole")
        })
        .filter_map(|statement| statement.get("Principal")?.get("Service"))
        .flat_map(|services| strings(Some(services)))
        .collect()
}

/// The action by which the EKS Pod Identity Agent fetches a role's credentials for a
/// pod, and the service that such a role's trust policy admits.
const POD_IDENTITY: &str = "eks-auth:AssumeRoleForPodIdentity";
const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// The actions that start code with a role passed to a service: launching an instance
/// (or giving one an instance profile) for EC2, making a function or changing its
/// role for Lambda. `None` for another service, taken to need nothing more.
fn launching(service: &str) -> Option<&'static [&'static str]> {
    match service.split('.').next() {
        Some("ec2") => Some(&[
            "ec2:RunInstances",
            "ec2:AssociateIamInstanceProfile",
            "ec2:ReplaceIamInstanceProfileAssociation",
        ]),
        Some("lambda") => Some(&[
            "lambda:CreateFunction",
            "lambda:UpdateFunctionConfiguration",
        ]),
        _ => None,
    }
}

/// The action that runs commands in an ECS task's containers, as root in a shell.
const EXECUTING: [&str; 1] = ["ecs:ExecuteCommand"];

/// The actions that control an instance through the AWS API: a shell through Session
/// Manager, commands through Run Command, a key for SSH or for the serial console
/// through EC2 Instance Connect.
const CONTROLLING: [&str; 4] = [
    "ssm:StartSession",
    "ssm:SendCommand",
    "ec2-instance-connect:SendSSHPublicKey",
    "ec2-instance-connect:SendSerialConsoleSSHPublicKey",
];

enum Target<'r> {
    Principal(&'r Principal),
    /// An instance, a function, a group, a secret or a parameter, by its ARN as far as
    /// the plan knows it.
    Resource(&'r Arn),
    /// A resource that the caller would make: its ARN may be anything.
    New,
}

/// Whether some statement allows `action` on `target`, and no unconditional deny on
/// every resource takes it back.
fn allows(policies: &[Option<Value>], action: &str, target: &Target) -> bool {
    !denies(policies, action)
        && policies.iter().any(|policy| match policy {
            None => true,
            Some(policy) => statements(policy).iter().any(|statement| {
                statement.get("Effect").and_then(Value::as_str) == Some("Allow")
                    && matches_action(statement, action)
                    && matches_resource(statement, target)
            }),
        })
}

/// Whether a statement denies `action` on every resource, with no condition: such a
/// deny takes the action away whatever else allows it. Other denies are ignored.
fn denies(policies: &[Option<Value>], action: &str) -> bool {
    policies.iter().flatten().any(|policy| {
        statements(policy).iter().any(|statement| {
            statement.get("Effect").and_then(Value::as_str) == Some("Deny")
                && matches_action(statement, action)
                && strings(statement.get("Resource")).iter().any(|r| r == "*")
                && statement.get("Condition").is_none()
        })
    })
}

fn matches_action(statement: &Value, action: &str) -> bool {
    if let Some(not) = statement.get("NotAction") {
        return !strings(Some(not))
            .iter()
            .any(|pattern| glob(pattern, action));
    }
    strings(statement.get("Action"))
        .iter()
        .any(|pattern| glob(pattern, action))
}

/// Resource patterns are matched on the part that the plan knows: a role's ARN with
/// its unknown parts taken as any text, or else its name alone (its path may be
/// unknown too), and an instance's ARN likewise. `Resource` admits a target that a
/// pattern may match; `NotResource` (every resource but those listed) excludes a role
/// or an instance only when a pattern surely matches it, whatever its unknown parts (a
/// role's name given as a prefix, say) turn out to be.
fn matches_resource(statement: &Value, target: &Target) -> bool {
    let matches = |pattern: &str| match target {
        _ if pattern == "*" => true,
        Target::Principal(principal) if principal.full_arn.may_match(pattern) => true,
        Target::Principal(principal) => match (&principal.arn, &principal.name) {
            (Some(arn), _) if glob(pattern, arn) => true,
            (_, Some(name)) => (pattern.rsplit_once(&format!(":{}/", principal.kind.in_arn())))
                .is_some_and(|(_, rest)| glob(rest.rsplit('/').next().unwrap_or(rest), name)),
            _ => true,
        },
        Target::Resource(arn) => arn.may_match(pattern),
        Target::New => true,
    };
    if let Some(not) = statement.get("NotResource") {
        let not = strings(Some(not));
        return match target {
            Target::Principal(principal) => !not
                .iter()
                .any(|pattern| principal.full_arn.surely_matches(pattern)),
            Target::Resource(arn) => !not.iter().any(|pattern| arn.surely_matches(pattern)),
            Target::New => !not.iter().any(|pattern| pattern == "*"),
        };
    }
    strings(statement.get("Resource"))
        .iter()
        .any(|pattern| matches(&variables_as_wildcards(pattern)))
}

/// A `Resource` pattern with each policy variable (`${aws:username}`) made a `*`: the
/// request fills it in, with whatever the caller can arrange. (Under `NotResource`, a
/// variable is left as text, which surely matches nothing: it excludes nothing.)
fn variables_as_wildcards(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains("${") {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            // An opening with no end: text, as IAM would refuse it anyway.
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        out.push('*');
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// How a trust policy admits a role.
#[derive(Debug, PartialEq, Eq)]
enum Admits {
    No,
    /// Through the role's account: the account's policies must allow it too.
    Account,
    /// By the role itself: every principal (`*`), the role's ARN or name, a session of
    /// it, everyone but some (`NotPrincipal`), or a trust policy the plan cannot show.
    Directly,
}

/// Whether the role `target`'s trust policy lets `principal` assume it, and how. An
/// account is written as its root's ARN or, in the short form IAM takes as the same,
/// as its bare 12-digit id. The principal's account is often unknown until apply, so
/// any account is taken to be the principal's. No one assumes a user.
fn trusts(target: &Principal, principal: &Principal) -> Admits {
    if target.kind == Kind::User {
        return Admits::No;
    }
    let Some(trust) = &target.trust else {
        return Admits::Directly;
    };
    let mut admits = Admits::No;
    for statement in statements(trust) {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow")
            || !matches_action(statement, "sts:AssumeRole")
        {
            continue;
        }
        if let Some(not) = statement.get("NotPrincipal") {
            let listed = |listed: &String| names(listed, principal);
            if !principals_in(not).iter().any(listed) {
                return Admits::Directly;
            }
            continue;
        }
        for named in principals_in(statement.get("Principal").unwrap_or(&Value::Null)) {
            if named == "*" || names(&named, principal) {
                return Admits::Directly;
            }
            if named.ends_with(":root") || is_account_id(&named) {
                admits = Admits::Account;
            }
        }
    }
    admits
}

/// Whether the principal a policy names may be `principal`: its ARN, or an ARN of its
/// kind (`:role/`, `:user/`) with its name, or for a role a session ARN
/// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`) with its name, compared without
/// case as IAM compares names; any ARN of its kind when its name is unknown.
fn names(named: &str, principal: &Principal) -> bool {
    if principal.arn.as_deref() == Some(named) {
        return true;
    }
    let of_kind = |named: &str| {
        let marker = format!(":{}/", principal.kind.in_arn());
        (named.rsplit_once(marker.as_str()))
            .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest).to_owned())
    };
    let name = match named.split_once(":assumed-role/") {
        Some((_, rest)) if principal.kind == Kind::Role => {
            rest.split('/').next().map(str::to_owned)
        }
        Some(_) => None,
        None => of_kind(named),
    };
    name.is_some_and(|named| {
        (principal.name.as_deref()).is_none_or(|name| name.eq_ignore_ascii_case(&named))
    })
}

/// Whether two principals may be of one account: unless both ARNs are known and say
/// not.
fn may_share_account(a: &Principal, b: &Principal) -> bool {
    fn account(role: &Principal) -> Option<&str> {
        (role.arn.as_deref()).and_then(|arn| arn.split(':').nth(4))
    }
    match (account(a), account(b)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The actions that assume a role: with the caller's credentials, with a web identity
/// token (OIDC), with a SAML assertion.
const ASSUMING: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// Who a trust policy lets assume its role from outside every plan. Anyone, when a
/// statement allows it to every AWS principal (`*`: anyone with an account of their
/// own), to everyone but some (`NotPrincipal`), or to a federated identity: anyone the
/// identity provider vouches for, since conditions are not read, but for the service
/// accounts that a condition names for an EKS cluster's provider
/// ([`workload::narrowed`]), which come back apart, one entry a statement.
fn admitted(trust: &Value) -> (bool, Vec<workload::Subjects>) {
    let mut anyone = false;
    let mut accounts = Vec::new();
    for statement in statements(trust) {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && ASSUMING
                .iter()
                .any(|action| matches_action(statement, action));
        if !allows {
            continue;
        }
        match statement.get("Principal") {
            _ if statement.get("NotPrincipal").is_some() => anyone = true,
            Some(Value::String(principal)) => anyone |= principal == "*",
            Some(Value::Object(map)) => {
                anyone |= strings(map.get("AWS")).iter().any(|p| p == "*");
                if let Some(federated) = map.get("Federated") {
                    match workload::narrowed(statement, federated) {
                        Some(subjects) => accounts.push(subjects),
                        None => anyone = true,
                    }
                }
            }
            _ => {}
        }
    }
    (anyone, accounts)
}

/// Whether a principal is an account in IAM's short form: its 12-digit id alone.
fn is_account_id(principal: &str) -> bool {
    principal.len() == 12 && principal.bytes().all(|byte| byte.is_ascii_digit())
}

/// A policy's statements: `Statement` is a list or a single object.
fn statements(policy: &Value) -> &[Value] {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => &[],
    }
}

/// The AWS principals of a `Principal` or `NotPrincipal` element: `*`, or its `AWS`
/// ARNs and account ids (services and federated identities are no role of a plan).
fn principals_in(element: &Value) -> Vec<String> {
    match element {
        Value::String(text) => vec![text.clone()],
        Value::Object(map) => strings(map.get("AWS")),
        _ => Vec::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcard match: `*` any run, `?` one character, actions compared without case.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_iam() {
        assert!(glob("sts:*", "sts:AssumeRole"));
        assert!(glob("SSM:Start*", "ssm:StartSession"));
        assert!(glob("*", "anything"));
        assert!(!glob("s3:*", "sts:AssumeRole"));
        assert!(glob(
            "arn:aws:iam::*:role/ops-?",
            "arn:aws:iam::1:role/ops-a"
        ));
    }

    /// An instance whose ARN is unknown until apply.
    fn any_instance() -> Arn {
        Arn::from_parts(&[None])
    }

    /// `NotResource` matches every resource but those listed: naming one instance
    /// leaves every other instance, and `Resource` patterns are globs over the whole
    /// ARN, unknown parts matching anything.
    #[test]
    fn instance_resources_are_globs_over_the_arn() {
        let session = |element: &str, patterns: Value| {
            let policy = serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": "ssm:StartSession", element: patterns}
            ]});
            move |arn: &Arn| {
                allows(
                    &[Some(policy.clone())],
                    "ssm:StartSession",
                    &Target::Resource(arn),
                )
            }
        };
        let planned = Arn::instance(None);
        let dead = Arn::known("arn:aws:ec2:us-east-1:111111111111:instance/i-0000000000000dead");
        let other = Arn::known("arn:aws:ec2:us-east-1:111111111111:instance/i-0000000000000beef");
        let but_dead = session(
            "NotResource",
            serde_json::json!("arn:aws:ec2:us-east-1:111111111111:instance/i-0000000000000dead"),
        );
        assert!(but_dead(&planned));
        assert!(but_dead(&other));
        assert!(!but_dead(&dead));
        let but_all = session("NotResource", serde_json::json!(["arn:aws:s3:::b", "*"]));
        assert!(!but_all(&planned));
        let star = session(
            "Resource",
            serde_json::json!("arn:aws:ec2:*:111111111111:instance*"),
        );
        assert!(star(&planned));
        assert!(star(&dead));
        let elsewhere = Arn::known("arn:aws:ec2:us-east-1:222222222222:instance/i-1");
        assert!(!star(&elsewhere));
        let volumes = session("Resource", serde_json::json!("arn:aws:ec2:*:*:volume/*"));
        assert!(!volumes(&planned));
    }

    /// A role of no plan, for the trust and resource tests.
    fn role(name: &str, arn: Option<&str>, trust: Option<Value>) -> Principal {
        principal(Kind::Role, name, arn, trust)
    }

    /// A user of no plan.
    fn user(name: &str, arn: Option<&str>) -> Principal {
        principal(Kind::User, name, arn, None)
    }

    fn principal(kind: Kind, name: &str, arn: Option<&str>, trust: Option<Value>) -> Principal {
        Principal {
            plan: 0,
            resource: 0,
            kind,
            name: Some(name.to_owned()),
            arn: arn.map(str::to_owned),
            full_arn: match arn {
                Some(arn) => Arn::known(arn),
                None => Arn::from_parts(&[
                    Some("arn:"),
                    None,
                    Some(":iam::"),
                    None,
                    Some(&format!(":{}/", kind.in_arn())),
                    Some(name),
                ]),
            },
            policies: Vec::new(),
            trust,
            groups: Vec::new(),
            stores: Vec::new(),
            holders: Vec::new(),
            run_by: Vec::new(),
            public: false,
            service_accounts: Vec::new(),
        }
    }

    /// The principals of one plan, roles then users.
    fn principals_of(plan: &Plan) -> Vec<Principal> {
        let mut principals = Principals::default();
        principals.read(0, plan, &mut |_, _| {});
        principals.joined().0
    }

    /// A state holding these resources (`[kind, name, values]`), read.
    fn state(resources: &[(&str, &str, Value)]) -> Plan {
        let resources: Vec<Value> = (resources.iter())
            .map(|(kind, name, values)| {
                serde_json::json!({
                    "address": format!("{kind}.{name}"), "mode": "managed",
                    "type": kind, "name": name, "values": values
                })
            })
            .collect();
        let text = serde_json::json!({
            "format_version": "1.0",
            "values": {"root_module": {"resources": resources}}
        });
        Plan::read("state.json", &text.to_string(), super::super::Side::Planned).unwrap()
    }

    /// Whether the role of this state may start sessions on instances.
    fn starts_sessions(plan: &Plan) -> bool {
        let roles = principals_of(plan);
        assert_eq!(roles.len(), 1);
        allows(
            &roles[0].policies,
            "ssm:StartSession",
            &Target::Resource(&any_instance()),
        )
    }

    /// `managed_policy_arns` attaches its policies to the role, as an attachment does:
    /// an AWS managed policy by what cordon knows of it, one of the plan by its text.
    #[test]
    fn managed_policy_arns_attach_their_policies() {
        let role = |arns: Value| {
            (
                "aws_iam_role",
                "ci",
                serde_json::json!({"name": "ci", "inline_policy": [], "managed_policy_arns": arns}),
            )
        };
        let own = |action: &str| {
            let document = serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": action, "Resource": "*"}
            ]});
            (
                "aws_iam_policy",
                "own",
                serde_json::json!({
                    "id": "arn:aws:iam::1:policy/own", "arn": "arn:aws:iam::1:policy/own",
                    "policy": document.to_string()
                }),
            )
        };
        let admin = serde_json::json!(["arn:aws:iam::aws:policy/AdministratorAccess"]);
        assert!(starts_sessions(&state(&[role(admin)])));
        let core = serde_json::json!(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        assert!(!starts_sessions(&state(&[role(core)])));
        let mine = serde_json::json!(["arn:aws:iam::1:policy/own"]);
        assert!(starts_sessions(&state(&[role(mine.clone()), own("ssm:*")])));
        assert!(!starts_sessions(&state(&[role(mine), own("s3:*")])));
        assert!(!starts_sessions(&state(&[role(serde_json::json!([]))])));
        // An ARN unknown until apply, with nothing in the configuration to say which.
        assert!(starts_sessions(&state(&[role(serde_json::json!([null]))])));
    }

    /// A Lambda function that is an asset is taken over with new code or settings, an
    /// instance with a session or a command; a function outside a VPC is no asset.
    #[test]
    fn functions_in_a_vpc_are_taken_over_with_new_code() {
        let plan = state(&[
            (
                "aws_lambda_function",
                "inside",
                serde_json::json!({"function_name": "inside", "vpc_config": [{}]}),
            ),
            (
                "aws_lambda_function",
                "outside",
                serde_json::json!({"function_name": "outside", "vpc_config": []}),
            ),
            ("aws_instance", "web", serde_json::json!({"id": "i-1"})),
        ]);
        // In address order: the instance, then the function.
        let assets = controllable(&plan);
        assert_eq!(assets.len(), 2);
        let policy = |action: &str, resource: &str| {
            Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": action, "Resource": resource}
            ]}))
        };
        let takes = |policy: Option<Value>, asset: &Controllable| {
            (asset.actions.iter()).any(|action| {
                allows(
                    std::slice::from_ref(&policy),
                    action,
                    &Target::Resource(&asset.arn),
                )
            })
        };
        let code = policy(
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:*:*:function:inside",
        );
        assert!(takes(code.clone(), &assets[1]));
        assert!(!takes(code, &assets[0]));
        let other = policy(
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:*:*:function:other",
        );
        assert!(!takes(other, &assets[1]));
        let command = policy("ssm:SendCommand", "arn:aws:ec2:*:*:instance/i-1");
        assert!(takes(command.clone(), &assets[0]));
        assert!(!takes(command, &assets[1]));
    }

    /// A role is named by its name or its ARN, without case; one whose name or ARN
    /// the plan does not know may be any.
    #[test]
    fn roles_are_named_by_name_or_arn() {
        let plan = state(&[
            (
                "aws_iam_role",
                "ci",
                serde_json::json!({"name": "ci", "arn": "arn:aws:iam::1:role/ci"}),
            ),
            ("aws_iam_role", "new", serde_json::json!({"name": "new"})),
            (
                "aws_iam_role",
                "prefixed",
                serde_json::json!({"name_prefix": "p-"}),
            ),
        ]);
        let named = |text: &str| -> Vec<bool> {
            (plan.resources.iter())
                .map(|role| resource_named(role, text))
                .collect()
        };
        assert_eq!(named("CI"), [true, false, true]);
        assert_eq!(named("arn:aws:iam::1:role/ci"), [true, false, true]);
        assert_eq!(named("arn:aws:iam::2:role/ci"), [false, false, true]);
        assert_eq!(named("arn:aws:iam::1:role/team/new"), [false, true, true]);
    }

    /// `aws_iam_policy_attachment` attaches its policy to every role it lists.
    #[test]
    fn policy_attachments_attach_to_their_roles() {
        let role = (
            "aws_iam_role",
            "ci",
            serde_json::json!({"id": "ci", "name": "ci", "inline_policy": []}),
        );
        let attachment = |roles: Value| {
            (
                "aws_iam_policy_attachment",
                "admin",
                serde_json::json!({
                    "name": "admin",
                    "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                    "roles": roles, "users": [], "groups": []
                }),
            )
        };
        let listed = attachment(serde_json::json!(["ci"]));
        assert!(starts_sessions(&state(&[role.clone(), listed])));
        // A role the plan does not hold is not this one; a name unknown until apply may be.
        let other = attachment(serde_json::json!(["someone-else"]));
        assert!(!starts_sessions(&state(&[role.clone(), other])));
        let unknown = attachment(serde_json::json!(["someone-else", null]));
        assert!(starts_sessions(&state(&[role.clone(), unknown])));
        let none = attachment(serde_json::json!([]));
        assert!(!starts_sessions(&state(&[role, none])));
    }

    /// Under `NotResource`, a role is excluded only when a pattern matches whatever the
    /// plan does not know of its ARN: a role named by a prefix may fall outside.
    #[test]
    fn not_resource_excludes_only_roles_it_surely_names() {
        let policy = serde_json::json!({"Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "NotResource": ["arn:aws:iam::*:role/billing-*", "arn:*:iam::*:role/audit"]
        }]});
        let assumes = |target: &Principal| {
            allows(
                &[Some(policy.clone())],
                "sts:AssumeRole",
                &Target::Principal(target),
            )
        };
        let prefixed = state(&[(
            "aws_iam_role",
            "vault_admin",
            serde_json::json!({"name_prefix": "vault-admin-", "path": "/"}),
        )]);
        assert!(assumes(&principals_of(&prefixed)[0]));
        let unnamed = state(&[("aws_iam_role", "x", serde_json::json!({}))]);
        assert!(assumes(&principals_of(&unnamed)[0]));
        assert!(!assumes(&role(
            "billing-1",
            Some("arn:aws:iam::1:role/billing-1"),
            None
        )));
        assert!(!assumes(&role("audit", None, None)));
        assert!(assumes(&role("vault", None, None)));
    }

    /// A `Resource` pattern is an IAM glob over the role's whole ARN, whose unknown
    /// parts may be anything: one that stops short of `:role/` names roles too.
    #[test]
    fn role_resources_are_globs_over_the_arn() {
        let assumes = |pattern: &str, target: &Principal| {
            let policy = serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": pattern}
            ]});
            allows(
                &[Some(policy)],
                "sts:AssumeRole",
                &Target::Principal(target),
            )
        };
        let planned = role("admin", None, None);
        let known = role(
            "admin",
            Some("arn:aws:iam::111111111111:role/ops/admin"),
            None,
        );
        for pattern in [
            "arn:aws:iam::*:*",
            "arn:aws:iam::111111111111:role*",
            "arn:*",
        ] {
            assert!(assumes(pattern, &planned), "{pattern}");
            assert!(assumes(pattern, &known), "{pattern}");
        }
        assert!(!assumes("arn:aws:iam::222222222222:*", &known));
        assert!(!assumes("arn:aws:iam::*:user/*", &planned));
        assert!(!assumes("arn:aws:s3:::*", &planned));
    }

    /// A policy variable in a `Resource` pattern is filled in by the request, with
    /// anything the caller can arrange: it matches as `*` would. Under `NotResource`
    /// it excludes nothing for sure.
    #[test]
    fn policy_variables_in_resources_may_be_anything() {
        let policy = |element: &str, pattern: &str| {
            vec![Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "ssm:StartSession"], element: pattern}
            ]}))]
        };
        let web = role("web-deployer", None, None);
        let tagged = policy("Resource", "arn:aws:iam::*:role/${aws:PrincipalTag/team}-*");
        assert!(allows(&tagged, "sts:AssumeRole", &Target::Principal(&web)));
        let instance = Arn::instance(Some("i-1"));
        let own = policy("Resource", "arn:aws:ec2:*:*:instance/${ec2:InstanceId}");
        assert!(allows(
            &own,
            "ssm:StartSession",
            &Target::Resource(&instance)
        ));
        let not = policy("NotResource", "arn:aws:ec2:*:*:instance/${ec2:InstanceId}");
        assert!(allows(
            &not,
            "ssm:StartSession",
            &Target::Resource(&instance)
        ));
        assert_eq!(variables_as_wildcards("a${x}b${y"), "a*b${y");
        assert_eq!(variables_as_wildcards("${x}${y}"), "**");
        let volumes = policy("Resource", "arn:aws:ec2:*:*:volume/${aws:username}");
        assert!(!allows(
            &volumes,
            "ssm:StartSession",
            &Target::Resource(&instance)
        ));
    }

    /// IAM reads `"AWS": "111111111111"` as `arn:aws:iam::111111111111:root`: both
    /// delegate to every identity of the account.
    #[test]
    fn trust_in_a_bare_account_id_admits_its_roles() {
        let trusting = |principal: &str| {
            serde_json::json!({"Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole"
            }]})
        };
        let ci = role("ci", Some("arn:aws:iam::111111111111:role/ci"), None);
        for principal in ["111111111111", "arn:aws:iam::111111111111:root"] {
            let target = role("vault-admin", None, Some(trusting(principal)));
            assert_eq!(trusts(&target, &ci), Admits::Account, "{principal}");
        }
        // Not an account id: a service, or a role's name that happens to be digits only.
        for principal in ["ec2.amazonaws.com", "11111111111", "1111111111112"] {
            let target = role("vault-admin", None, Some(trusting(principal)));
            assert_eq!(trusts(&target, &ci), Admits::No, "{principal}");
        }
    }

    /// A trust policy that names a role admits it by itself, as does one the plan cannot
    /// show: in the role's own account, the role needs no permission of its own to
    /// assume it, unless an unconditional deny takes `sts:AssumeRole` away; across
    /// accounts, and through an account, it does.
    #[test]
    fn a_trust_policy_that_names_a_role_is_enough_in_its_account() {
        let trusting = |principal: &str| {
            Some(serde_json::json!({"Statement": [{
                "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"
            }]}))
        };
        let assumed = |mut ci: Principal, target: Principal, policy: Option<Value>| {
            ci.policies = policy.into_iter().map(Some).collect();
            grants(&[ci, target], &[]).assumes.contains(&(0, 1))
        };
        let ci = || role("ci", Some("arn:aws:iam::111111111111:role/ci"), None);
        let admin = |account: &str, trust| {
            role(
                "admin",
                Some(&format!("arn:aws:iam::{account}:role/admin")),
                trust,
            )
        };
        let named = || trusting("arn:aws:iam::111111111111:role/CI");
        assert!(assumed(ci(), admin("111111111111", named()), None));
        let session = trusting("arn:aws:sts::111111111111:assumed-role/ci/deploy");
        assert_eq!(
            trusts(&admin("111111111111", session), &ci()),
            Admits::Directly
        );
        let deny = serde_json::json!({"Statement": [
            {"Effect": "Deny", "Action": "sts:*", "Resource": "*"}
        ]});
        assert!(!assumed(ci(), admin("111111111111", named()), Some(deny)));
        assert!(!assumed(ci(), admin("222222222222", named()), None));
        let account = trusting("111111111111");
        assert!(!assumed(ci(), admin("111111111111", account), None));
        // A plan's new roles have no ARN: any two may share an account.
        let unknown = role("admin", None, named());
        assert!(assumed(role("ci", None, None), unknown, None));
        assert!(assumed(ci(), role("admin", None, None), None));
        let allow = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
        ]});
        assert!(assumed(ci(), admin("222222222222", named()), Some(allow)));
        // Everyone but the role, and everyone but another.
        let not = |principal: &str| {
            Some(serde_json::json!({"Statement": {
                "Effect": "Allow", "NotPrincipal": {"AWS": principal}, "Action": "sts:AssumeRole"
            }}))
        };
        let but_ci = admin("111111111111", not("arn:aws:iam::111111111111:role/ci"));
        assert_eq!(trusts(&but_ci, &ci()), Admits::No);
        let but_other = admin("111111111111", not("arn:aws:iam::111111111111:role/other"));
        assert_eq!(trusts(&but_other, &ci()), Admits::Directly);
    }

    /// `*`, a federated identity and `NotPrincipal` admit anyone; a service, an account
    /// or a role do not, and neither does a deny.
    #[test]
    fn trust_in_a_star_or_a_federated_identity_admits_anyone() {
        let trust = |effect: &str, element: &str, principal: Value, action: &str| {
            serde_json::json!({"Statement": {
                "Effect": effect, element: principal, "Action": action
            }})
        };
        let allow = |principal: Value, action: &str| {
            admitted(&trust("Allow", "Principal", principal, action)).0
        };
        assert!(allow(serde_json::json!("*"), "sts:AssumeRole"));
        assert!(allow(
            serde_json::json!({"AWS": ["arn:aws:iam::1:root", "*"]}),
            "sts:*"
        ));
        let saml = serde_json::json!({"Federated": "arn:aws:iam::1:saml-provider/okta"});
        assert!(allow(saml.clone(), "STS:AssumeRoleWithSAML"));
        assert!(!allow(saml, "sts:TagSession"));
        assert!(!allow(
            serde_json::json!({"Service": "ec2.amazonaws.com"}),
            "sts:AssumeRole"
        ));
        assert!(!allow(
            serde_json::json!({"AWS": "111111111111"}),
            "sts:AssumeRole"
        ));
        let not = serde_json::json!({"AWS": "arn:aws:iam::1:role/ci"});
        assert!(
            admitted(&trust(
                "Allow",
                "NotPrincipal",
                not.clone(),
                "sts:AssumeRole"
            ))
            .0
        );
        assert!(!admitted(&trust("Deny", "NotPrincipal", not, "sts:AssumeRole")).0);
        assert!(!admitted(&trust("Deny", "Principal", serde_json::json!("*"), "sts:*")).0);
    }

    /// A role obtains another that it may pass to a service, when it may also start
    /// that service's code: launch an instance for EC2, make a function for Lambda;
    /// another service is taken to need nothing more.
    #[test]
    fn passing_a_role_to_a_service_obtains_it_with_the_service_started() {
        let worker = |service: &str| {
            let trust = serde_json::json!({"Statement": [{
                "Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"
            }]});
            role("worker", None, Some(trust))
        };
        let ci = |actions: &[&str], passes: &str| {
            vec![Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": passes},
                {"Effect": "Allow", "Action": actions, "Resource": "*"}
            ]}))]
        };
        let any = "arn:aws:iam::*:role/*";
        assert!(may_pass(
            &ci(&["ec2:RunInstances"], any),
            &worker("ec2.amazonaws.com")
        ));
        assert!(!may_pass(&ci(&["s3:*"], any), &worker("ec2.amazonaws.com")));
        let other = "arn:aws:iam::*:role/other";
        assert!(!may_pass(
            &ci(&["ec2:*"], other),
            &worker("ec2.amazonaws.com")
        ));
        let lambda = worker("lambda.amazonaws.com");
        assert!(may_pass(
            &ci(&["lambda:UpdateFunctionConfiguration"], any),
            &lambda
        ));
        assert!(!may_pass(&ci(&["ec2:RunInstances"], any), &lambda));
        assert!(may_pass(&ci(&[], any), &worker("ecs-tasks.amazonaws.com")));
        // A role that trusts no service is passed to none.
        let account = serde_json::json!({"Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"
        }]});
        assert!(!may_pass(
            &ci(&["*"], any),
            &role("admin", None, Some(account))
        ));
    }

    /// A role that may rewrite a role's permissions is allowed everything, and
    /// obtains the roles that trust the rewritten one; one that may rewrite a trust
    /// policy obtains its role.
    #[test]
    fn rewriting_iam_policies_obtains_what_they_guard() {
        let trusting = |name: &str| {
            let principal = format!("arn:aws:iam::222222222222:role/{name}");
            Some(serde_json::json!({"Statement": [{
                "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"
            }]}))
        };
        let grants_of = |action: &str, resource: &str| {
            let mut ci = role("ci", None, trusting("nobody"));
            ci.policies = vec![Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": action, "Resource": resource}
            ]}))];
            let roles = [
                ci,
                role("worker", None, trusting("nobody")),
                role("deployer", None, trusting("worker")),
            ];
            let instance = Controllable {
                resource: 7,
                arn: Arn::instance(None),
                actions: &CONTROLLING,
            };
            let grants = grants(&roles, &[vec![instance]]);
            (grants.rewrites, !grants.controls.is_empty())
        };
        let worker = "arn:aws:iam::*:role/worker";
        assert_eq!(grants_of("iam:PutRolePolicy", worker), (vec![(0, 2)], true));
        assert_eq!(
            grants_of("iam:CreatePolicyVersion", "*"),
            (vec![(0, 2)], true)
        );
        let deployer = "arn:aws:iam::*:role/deployer";
        assert_eq!(
            grants_of("iam:UpdateAssumeRolePolicy", deployer),
            (vec![(0, 2)], false)
        );
        assert_eq!(grants_of("iam:GetRole", "*"), (vec![], false));
    }

    /// A user's policies are its own (inline, attached one by one or by an
    /// `aws_iam_policy_attachment`) and those of its groups, whichever side names the
    /// membership.
    #[test]
    fn users_hold_their_own_and_their_groups_policies() {
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        fn user(name: &str) -> (&str, &str, Value) {
            ("aws_iam_user", name, serde_json::json!({"name": name}))
        }
        fn group(name: &str) -> (&str, &str, Value) {
            ("aws_iam_group", name, serde_json::json!({"name": name}))
        }
        let sessions = |plan: &Plan| -> Vec<(String, bool)> {
            (principals_of(plan).iter())
                .map(|user| {
                    let name = user.name.clone().unwrap_or_default();
                    let target = Target::Resource(&any_instance());
                    (name, allows(&user.policies, "ssm:StartSession", &target))
                })
                .collect()
        };
        let plan = state(&[
            user("alice"),
            user("bob"),
            user("carol"),
            user("dave"),
            user("erin"),
            group("ops"),
            group("oncall"),
            (
                "aws_iam_user_policy_attachment",
                "alice",
                serde_json::json!({"user": "alice", "policy_arn": admin}),
            ),
            (
                "aws_iam_policy_attachment",
                "bob",
                serde_json::json!({"name": "x", "users": ["bob"], "groups": [], "roles": [],
                    "policy_arn": admin}),
            ),
            (
                "aws_iam_group_policy_attachment",
                "ops",
                serde_json::json!({"group": "ops", "policy_arn": admin}),
            ),
            (
                "aws_iam_group_membership",
                "ops",
                serde_json::json!({"name": "ops", "group": "ops", "users": ["carol"]}),
            ),
            (
                "aws_iam_policy_attachment",
                "oncall",
                serde_json::json!({"name": "y", "users": [], "groups": ["oncall"], "roles": [],
                    "policy_arn": admin}),
            ),
            (
                "aws_iam_user_group_membership",
                "dave",
                serde_json::json!({"user": "DAVE", "groups": ["oncall"]}),
            ),
        ]);
        let expected = [
            ("alice", true),
            ("bob", true),
            ("carol", true),
            ("dave", true),
            ("erin", false),
        ];
        let expected: Vec<(String, bool)> = (expected.iter())
            .map(|(n, s)| (n.to_string(), *s))
            .collect();
        assert_eq!(sessions(&plan), expected);
    }

    /// A trust policy admits a user by its ARN or its account, never by a role's ARN
    /// of the same name; no one assumes a user. A principal that may make a user's
    /// access keys or console password obtains the user.
    #[test]
    fn users_assume_roles_that_trust_them_and_are_obtained_by_their_keys() {
        let trusting = |principal: &str| {
            Some(serde_json::json!({"Statement": [{
                "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"
            }]}))
        };
        let deploy = || user("deploy", Some("arn:aws:iam::111111111111:user/deploy"));
        let admin = |trust| role("admin", None, trust);
        let by_user = admin(trusting("arn:aws:iam::111111111111:user/ci/Deploy"));
        assert_eq!(trusts(&by_user, &deploy()), Admits::Directly);
        let by_role = admin(trusting("arn:aws:iam::111111111111:role/deploy"));
        assert_eq!(trusts(&by_role, &deploy()), Admits::No);
        assert_eq!(trusts(&by_user, &role("deploy", None, None)), Admits::No);
        let session = admin(trusting("arn:aws:sts::111111111111:assumed-role/deploy/x"));
        assert_eq!(trusts(&session, &deploy()), Admits::No);
        assert_eq!(trusts(&deploy(), &role("admin", None, None)), Admits::No);
        let granted = grants(&[deploy(), by_user], &[]);
        assert_eq!(granted.assumes, [(0, 1)]);
        assert!(granted.keys.is_empty());
        let keys = |action: &str, resource: &str| {
            let mut ci = role("ci", None, None);
            ci.policies = vec![Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": action, "Resource": resource}
            ]}))];
            grants(&[ci, deploy()], &[]).keys
        };
        let any_user = "arn:aws:iam::*:user/*";
        assert_eq!(keys("iam:CreateAccessKey", any_user), [(0, 1)]);
        assert_eq!(keys("iam:CreateLoginProfile", any_user), [(0, 1)]);
        assert_eq!(keys("iam:Update*", "*"), [(0, 1)]);
        assert!(keys("iam:CreateAccessKey", "arn:aws:iam::*:user/other").is_empty());
        assert!(keys("iam:CreateAccessKey", "arn:aws:iam::*:role/*").is_empty());
        assert!(keys("iam:ListAccessKeys", "*").is_empty());
    }

    /// A principal that may rewrite a user's policies (its own, its groups', or by
    /// adding it to any group) is allowed everything.
    #[test]
    fn rewriting_a_users_policies_allows_everything() {
        let controls = |action: &str, resource: &str| {
            let mut ci = role("ci", None, None);
            ci.policies = vec![Some(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": action, "Resource": resource}
            ]}))];
            let instance = Controllable {
                resource: 7,
                arn: Arn::instance(None),
                actions: &CONTROLLING,
            };
            let mut ops = user("ops", None);
            ops.groups = vec![Arn::known("arn:aws:iam::111111111111:group/oncall")];
            !grants(&[ci, ops], &[vec![instance]]).controls.is_empty()
        };
        assert!(controls("iam:PutUserPolicy", "arn:aws:iam::*:user/ops"));
        assert!(controls("iam:AttachUserPolicy", "*"));
        assert!(controls(
            "iam:AttachGroupPolicy",
            "arn:aws:iam::*:group/oncall"
        ));
        assert!(controls(
            "iam:AddUserToGroup",
            "arn:aws:iam::*:group/admins"
        ));
        assert!(!controls(
            "iam:AttachGroupPolicy",
            "arn:aws:iam::*:group/admins"
        ));
        assert!(!controls("iam:PutUserPolicy", "arn:aws:iam::*:user/other"));
        assert!(!controls("iam:PutRolePolicy", "arn:aws:iam::*:role/other"));
    }

    /// In a state, a resource keeps a key whose id its attributes hold: a function in
    /// a VPC holds the key's user, a parameter or a secret stores it under its ARN.
    #[test]
    fn a_state_keeps_a_key_where_its_id_is_written() {
        let key = "AKIAIOSFODNN7EXAMPLE";
        let plan = state(&[
            (
                "aws_iam_user",
                "admin",
                serde_json::json!({"name": "admin"}),
            ),
            (
                "aws_iam_access_key",
                "admin",
                serde_json::json!({"id": key, "user": "admin"}),
            ),
            (
                "aws_lambda_function",
                "in_vpc",
                serde_json::json!({"vpc_config": [{"subnet_ids": ["subnet-1"]}],
                    "environment": [{"variables": {"AWS_ACCESS_KEY_ID": key}}]}),
            ),
            (
                "aws_lambda_function",
                "outside",
                serde_json::json!({"environment": [{"variables": {"KEY": key}}]}),
            ),
            (
                "aws_lambda_function",
                "other",
                serde_json::json!({"vpc_config": [{"subnet_ids": ["subnet-1"]}]}),
            ),
            (
                "aws_ssm_parameter",
                "keys",
                serde_json::json!({"name": "/prod/keys", "value": format!("{key}:secret")}),
            ),
            (
                "aws_secretsmanager_secret_version",
                "keys",
                serde_json::json!({"secret_id": "arn:aws:secretsmanager:us-east-1:1:secret:k-AbCdEf",
                    "secret_string": format!("{{\"id\": \"{key}\"}}")}),
            ),
        ]);
        let kept = keys::kept(&plan, &[0], &mut |_, _| {});
        assert_eq!(kept[0].holders, [2]);
        let stores: Vec<&Arn> = kept[0].stores.iter().map(|store| &store.arn).collect();
        assert_eq!(stores.len(), 2);
        // In address order: the secret's version, then the parameter.
        assert_eq!(
            *stores[0],
            Arn::known("arn:aws:secretsmanager:us-east-1:1:secret:k-AbCdEf")
        );
        assert!(stores[1].surely_matches("arn:*:ssm:*:*:parameter/prod/keys"));
        assert!(!stores[1].may_match("arn:aws:ssm:*:*:parameter/dev/*"));
    }

    /// A function whose execution role another plan makes holds it there, and so does
    /// an instance whose profile another plan makes; names elsewhere are compared as
    /// within a plan.
    #[test]
    fn holders_name_profiles_and_roles_of_other_plans() {
        let launching = state(&[
            (
                "aws_lambda_function",
                "worker",
                serde_json::json!({"role": "arn:aws:iam::1:role/Worker",
                    "vpc_config": [{"subnet_ids": ["subnet-1"]}]}),
            ),
            (
                "aws_instance",
                "web",
                serde_json::json!({"iam_instance_profile": "web"}),
            ),
            (
                "aws_instance",
                "other",
                serde_json::json!({"iam_instance_profile": "other"}),
            ),
        ]);
        let making = state(&[
            (
                "aws_iam_instance_profile",
                "web",
                serde_json::json!({"name": "web", "role": "web"}),
            ),
            ("aws_iam_role", "web", serde_json::json!({"name": "web"})),
            (
                "aws_iam_role",
                "worker",
                serde_json::json!({"name": "worker"}),
            ),
        ]);
        let mut principals = Principals::default();
        principals.read(0, &launching, &mut |_, _| {});
        principals.read(1, &making, &mut |_, _| {});
        let holders: Vec<Vec<(usize, usize)>> = (principals.joined().0.iter())
            .map(|role| role.holders.clone())
            .collect();
        // The roles of the second plan, `web` then `worker`, held in the first (whose
        // resources are in address order: `other`, `web`, `worker`).
        assert_eq!(holders, [vec![(0, 1)], vec![(0, 2)]]);
    }

    #[test]
    fn not_action_allows_everything_else() {
        let policy: Value = serde_json::json!({"Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
        ]});
        assert!(allows(
            &[Some(policy.clone())],
            "sts:AssumeRole",
            &Target::Resource(&any_instance())
        ));
        assert!(!allows(
            &[Some(policy)],
            "iam:PassRole",
            &Target::Resource(&any_instance())
        ));
        // A policy the plan cannot show allows everything; a few managed ones are known.
        assert!(allows(
            &[None],
            "ssm:StartSession",
            &Target::Resource(&any_instance())
        ));
        let core = managed("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
        assert!(!allows(
            &[core],
            "ssm:StartSession",
            &Target::Resource(&any_instance())
        ));
        let admin = managed("arn:aws:iam::aws:policy/AdministratorAccess");
        assert!(allows(
            &[admin],
            "sts:AssumeRole",
            &Target::Resource(&any_instance())
        ));
        let node = managed("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy");
        assert!(allows(
            std::slice::from_ref(&node),
            POD_IDENTITY,
            &Target::New
        ));
        assert!(!allows(&[node], "sts:AssumeRole", &Target::New));
        let cni = managed("arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy");
        assert!(!allows(&[cni], "ec2:RunInstances", &Target::New));
        assert!(managed("arn:aws:iam::aws:policy/service-role/SomethingElse").is_none());
        let deny: Value = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}
        ]});
        assert!(!allows(
            &[Some(deny)],
            "ssm:StartSession",
            &Target::Resource(&any_instance())
        ));
    }
}
