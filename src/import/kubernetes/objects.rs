//! Reading Kubernetes objects out of documents: the kinds cordon models, each with the
//! fields connectivity, identity and escapes to the node depend on and the manifest
//! position of each part.
//! `kind: List` and typed lists (`PodList`, …) are unpacked; pods owned by a workload fold
//! into it. Everything else is counted as skipped.

use std::collections::{BTreeMap, BTreeSet};

use super::duplicates::{self, Seen};
use super::escape::Escape;
use super::node::Node;
use super::selectors::{Expression, LabelSelector, Operator};
use crate::diagnostic::{Diagnostic, Problem};
use crate::ports::Protocol;
use crate::raw::At;

/// Where a part of an object is written: the index of its file among the inputs, line
/// and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

pub type Labels = BTreeMap<String, String>;

/// A port that a container declares.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// A Pod, or a controller of pods, folded into one asset.
#[derive(Clone, Debug)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    pub service_account: String,
    /// The pod's own `automountServiceAccountToken`, which wins over its ServiceAccount's.
    pub automount: Option<bool>,
    /// Secrets mounted as volumes (projected ones too) or read into the environment.
    pub secrets: Vec<String>,
    /// Whether a projected volume mounts its account's token, which it does whatever
    /// `automountServiceAccountToken` says.
    pub projects_token: bool,
    /// What lets its containers escape to their node, if anything does.
    pub escape: Option<Escape>,
    /// Where it asks for `hostNetwork`, if it does.
    pub host_network: Option<Pos>,
    /// The controller that created it, as (kind, name): a Pod's ReplicaSet, a
    /// ReplicaSet's Deployment, a Job's CronJob. `None` for an object of its own.
    pub owner: Option<(String, String)>,
    pub at: Pos,
}

#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub automount: Option<bool>,
    pub at: Pos,
}

#[derive(Clone, Debug)]
pub struct Secret {
    pub namespace: String,
    pub name: String,
    /// For a long-lived token (type `kubernetes.io/service-account-token`), the account
    /// named by its `kubernetes.io/service-account.name` annotation: whoever holds the
    /// Secret holds that account's token.
    pub account: Option<String>,
    pub at: Pos,
}

/// One rule of a Role or ClusterRole.
#[derive(Clone, Debug, Default)]
pub struct PolicyRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    /// The objects it is limited to, by name; empty for every object.
    pub resource_names: Vec<String>,
}

/// A Role (with a namespace) or ClusterRole (without).
#[derive(Clone, Debug)]
pub struct Role {
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    pub rules: Vec<PolicyRule>,
    /// A ClusterRole's `aggregationRule`: it also has the rules of the ClusterRoles these
    /// select.
    pub aggregation: Vec<LabelSelector>,
}

/// A RoleBinding (with a namespace) or ClusterRoleBinding (without).
#[derive(Clone, Debug)]
pub struct Binding {
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role: String,
    /// The service accounts it binds, or anyone.
    pub subjects: Vec<Subject>,
    pub at: Pos,
}

/// Who a binding's subject covers: service accounts, or anyone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// One account, as (namespace, name): a `ServiceAccount` subject, or the `User`
    /// `system:serviceaccount:NAMESPACE:NAME` that is its username.
    Account(String, String),
    /// Every account of a namespace: the `Group` `system:serviceaccounts:NAMESPACE`.
    Namespace(String),
    /// Every account of the cluster: the `Group` `system:serviceaccounts`, or
    /// `system:authenticated`, which every account's token authenticates into.
    Every,
    /// Anyone who reaches the API server, with no credential at all: the `Group`
    /// `system:unauthenticated` and the `User` `system:anonymous`, which a request
    /// without a credential is (anonymous authentication is on unless the API server is
    /// started with `--anonymous-auth=false`). A holder of a token may leave it out.
    Anonymous,
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
    pub at: Pos,
}

/// A port of a NetworkPolicy rule or a Service: a number or a container port's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RulePort {
    pub protocol: Protocol,
    /// `None`: every port of the protocol.
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// Pods matching `pods` in the namespaces matching `namespaces`; with no namespace
    /// selector, in the policy's own namespace.
    Pods {
        namespaces: Option<LabelSelector>,
        pods: LabelSelector,
    },
    /// Addresses outside the cluster: a prefix less its exceptions.
    IpBlock {
        cidr: ipnet::IpNet,
        except: Vec<ipnet::IpNet>,
    },
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub at: Pos,
    /// `None`: every peer.
    pub peers: Option<Vec<Peer>>,
    /// `None`: every port.
    pub ports: Option<Vec<RulePort>>,
}

#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub pod_selector: LabelSelector,
    /// Rules of each direction, when the policy governs it (`policyTypes`).
    pub ingress: Option<Vec<Rule>>,
    pub egress: Option<Vec<Rule>>,
}

/// What an admin rule does with the traffic it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Allow,
    Deny,
    /// Leave the decision to NetworkPolicies (and then the baseline).
    Pass,
}

#[derive(Clone, Debug)]
pub struct AdminRule {
    pub action: Action,
    pub peers: Vec<Peer>,
    pub ports: Option<Vec<RulePort>>,
    pub at: Pos,
}

/// An AdminNetworkPolicy, or the BaselineAdminNetworkPolicy.
#[derive(Clone, Debug)]
pub struct AdminPolicy {
    pub baseline: bool,
    /// Lower is stronger; the baseline has none.
    pub priority: i64,
    /// The subject: pods in matching namespaces that match `pods` (all when `None`).
    pub namespaces: LabelSelector,
    pub pods: Option<LabelSelector>,
    /// Rules in order: the first that matches decides.
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
}

#[derive(Clone, Debug)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target: PortRef,
    pub protocol: Protocol,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `None`: no selector, so no pods behind it.
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
}

/// One backend an Ingress or Route exposes: a Service and one of its ports.
#[derive(Clone, Debug)]
pub struct Backend {
    pub namespace: String,
    pub service: String,
    /// `None`: every port of the Service (a Route without `port`).
    pub port: Option<PortRef>,
    /// The object's kind and name, for messages.
    pub from: String,
    pub at: Pos,
}

/// What the inputs hold, by kind, in file order.
#[derive(Debug, Default)]
pub struct Objects {
    pub namespaces: Vec<Namespace>,
    pub workloads: Vec<Workload>,
    pub policies: Vec<NetworkPolicy>,
    pub admin: Vec<AdminPolicy>,
    pub services: Vec<Service>,
    pub backends: Vec<Backend>,
    pub service_accounts: Vec<ServiceAccount>,
    pub secrets: Vec<Secret>,
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    /// Objects of kinds cordon does not model, by kind.
    pub skipped: BTreeMap<String, usize>,
    /// The first namespaced object that names no namespace, and the one it was given.
    pub unnamespaced: Option<(Pos, String)>,
    /// Kustomizations, which cordon does not apply: where each is.
    pub kustomizations: Vec<Pos>,
}

impl Objects {
    /// Every namespace the inputs name: by a Namespace object, or as the namespace of
    /// an object in it. What applies in every namespace (a ClusterRoleBinding) applies
    /// in each of these.
    pub fn namespace_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        names.extend(self.namespaces.iter().map(|n| n.name.clone()));
        names.extend(self.workloads.iter().map(|w| w.namespace.clone()));
        names.extend(self.policies.iter().map(|p| p.namespace.clone()));
        names.extend(self.services.iter().map(|s| s.namespace.clone()));
        names.extend(self.service_accounts.iter().map(|a| a.namespace.clone()));
        names.extend(self.secrets.iter().map(|s| s.namespace.clone()));
        names.extend(self.roles.iter().filter_map(|r| r.namespace.clone()));
        names.extend(self.bindings.iter().filter_map(|b| b.namespace.clone()));
        names
    }

    /// The role `binding` refers to, if the inputs (or the built-in ClusterRoles) hold
    /// it: a Role of the binding's namespace, or a ClusterRole.
    pub fn role_of(&self, binding: &Binding) -> Option<&Role> {
        self.roles.iter().find(|role| {
            role.name == binding.role
                && match binding.role_kind.as_str() {
                    "Role" => role.namespace == binding.namespace,
                    _ => role.namespace.is_none(),
                }
        })
    }
}

const WORKLOAD_KINDS: [&str; 8] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// The annotation by which a token Secret names its service account.
pub const ACCOUNT_NAME: &str = "kubernetes.io/service-account.name";

/// Reads the objects of one file's documents, collecting problems in `problems`; an
/// object already read from an earlier place is read once (`Seen`).
pub struct Reader<'a> {
    pub file: u32,
    pub display: &'a str,
    /// The namespace of objects that name none.
    pub namespace: &'a str,
    pub objects: &'a mut Objects,
    pub seen: &'a mut Seen,
    pub problems: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn pos<T>(&self, at: &At<T>) -> Pos {
        Pos {
            file: self.file,
            line: at.line,
            column: at.column,
        }
    }

    fn problem<T>(&mut self, at: &At<T>, problem: Problem, help: Option<String>) {
        let mut diagnostic = Diagnostic::new(self.display, at.line, at.column, problem);
        diagnostic.help = help;
        self.problems.push(diagnostic);
    }

    fn shape(&mut self, at: &At<Node>, field: &str, expected: &'static str) {
        let found = at.value.describe();
        self.problem(
            at,
            Problem::ManifestShape {
                field: field.to_owned(),
                expected,
                found,
            },
            None,
        );
    }

    /// A string field, or `None` after reporting a value of another shape.
    fn string(&mut self, node: &At<Node>, key: &str) -> Option<String> {
        let value = node.value.get(key)?;
        match value.value.scalar_text() {
            Some(text) => Some(text),
            None if value.value.is_null() => None,
            None => {
                self.shape(value, key, "a string");
                None
            }
        }
    }

    fn labels(&mut self, node: Option<&At<Node>>, field: &str) -> Labels {
        let mut labels = Labels::new();
        let Some(node) = node else {
            return labels;
        };
        match &node.value {
            Node::Map(entries) => {
                for (key, value) in entries {
                    labels.insert(key.clone(), value.value.scalar_text().unwrap_or_default());
                }
            }
            Node::Null => {}
            _ => self.shape(node, field, "a mapping of labels"),
        }
        labels
    }

    /// Reads one document: an object, or a list of them.
    pub fn document(&mut self, doc: &At<Node>, default_kind: Option<&str>) {
        if !matches!(doc.value, Node::Map(_)) {
            self.shape(doc, "document", "a mapping");
            return;
        }
        let kind = self
            .string(doc, "kind")
            .or_else(|| default_kind.map(str::to_owned))
            .unwrap_or_default();
        let api_version = self.string(doc, "apiVersion").unwrap_or_default();
        if kind == "List" || (kind.ends_with("List") && doc.value.get("items").is_some()) {
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            if let Some(items) = doc.value.get("items") {
                for item in items.value.as_seq() {
                    self.document(item, item_kind);
                }
            }
            return;
        }
        let known = match kind.as_str() {
            "Namespace" | "Pod" | "ReplicationController" | "Service" => {
                api_version == "v1" || api_version.is_empty()
            }
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => matches!(
                api_version.as_str(),
                "apps/v1" | "apps/v1beta1" | "apps/v1beta2" | "extensions/v1beta1" | ""
            ),
            "Job" | "CronJob" => api_version.starts_with("batch/") || api_version.is_empty(),
            "NetworkPolicy" => {
                api_version == "networking.k8s.io/v1"
                    || api_version.starts_with("extensions/")
                    || api_version.is_empty()
            }
            "Ingress" => {
                api_version.starts_with("networking.k8s.io/")
                    || api_version.starts_with("extensions/")
                    || api_version.is_empty()
            }
            "ServiceAccount" | "Secret" => api_version == "v1" || api_version.is_empty(),
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
                api_version.starts_with("rbac.authorization.k8s.io/") || api_version.is_empty()
            }
            "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" => {
                api_version.starts_with("policy.networking.k8s.io/") || api_version.is_empty()
            }
            "Route" => {
                api_version.starts_with("route.openshift.io/")
                    || api_version == "v1"
                    || api_version.is_empty()
            }
            _ => {
                if matches!(kind.as_str(), "Kustomization" | "Component")
                    && api_version.starts_with("kustomize.config.k8s.io/")
                {
                    let at = self.pos(doc);
                    self.objects.kustomizations.push(at);
                }
                *self.objects.skipped.entry(kind).or_default() += 1;
                return;
            }
        };
        if !known {
            let at = doc.value.get("apiVersion").unwrap_or(doc);
            self.problem(
                at,
                Problem::UnknownApiVersion {
                    api_version,
                    kind,
                },
                Some("cordon reads the versions a current Kubernetes serves, such as `apps/v1` and `networking.k8s.io/v1`".to_owned()),
            );
            return;
        }
        let metadata = doc.value.get("metadata");
        let name = metadata
            .and_then(|m| self.string(m, "name"))
            .unwrap_or_default();
        let given = metadata
            .and_then(|m| self.string(m, "namespace"))
            .filter(|n| !n.is_empty());
        if given.is_none() && !duplicates::cluster_scoped(&kind) {
            let at = self.pos(doc);
            (self.objects.unnamespaced).get_or_insert_with(|| (at, self.namespace.to_owned()));
        }
        let namespace = given.unwrap_or_else(|| self.namespace.to_owned());
        let name_at = metadata.and_then(|m| m.value.get("name")).unwrap_or(doc);
        if name.is_empty() {
            self.problem(
                doc,
                Problem::MissingKey {
                    key: "metadata.name".to_owned(),
                },
                None,
            );
            return;
        }
        let at = self.pos(name_at);
        if !self.seen.admit(&kind, &namespace, &name, at, doc) {
            return;
        }
        let spec = doc.value.get("spec");
        match kind.as_str() {
            "Namespace" => {
                let labels = self.labels(metadata.and_then(|m| m.value.get("labels")), "labels");
                self.objects.namespaces.push(Namespace { name, labels, at });
            }
            "Service" => self.service(namespace, name, spec),
            "NetworkPolicy" => self.network_policy(namespace, spec),
            "ServiceAccount" => {
                let automount = doc
                    .value
                    .get("automountServiceAccountToken")
                    .and_then(|flag| flag.value.as_bool());
                self.objects.service_accounts.push(ServiceAccount {
                    namespace,
                    name,
                    automount,
                    at,
                });
            }
            "Secret" => {
                let is_token = doc
                    .value
                    .get("type")
                    .and_then(|t| t.value.scalar_text())
                    .is_some_and(|t| t == "kubernetes.io/service-account-token");
                let account = metadata
                    .and_then(|m| m.value.get("annotations"))
                    .and_then(|a| a.value.get(ACCOUNT_NAME))
                    .and_then(|a| a.value.scalar_text())
                    .filter(|account| is_token && !account.is_empty());
                self.objects.secrets.push(Secret {
                    namespace,
                    name,
                    account,
                    at,
                });
            }
            "Role" | "ClusterRole" => {
                let labels = self.labels(metadata.and_then(|m| m.value.get("labels")), "labels");
                let namespace = (kind == "Role").then_some(namespace);
                self.role(doc, namespace, name, labels);
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let namespace = (kind == "RoleBinding").then_some(namespace);
                self.binding(doc, namespace, name);
            }
            "AdminNetworkPolicy" => self.admin_policy(false, spec),
            "BaselineAdminNetworkPolicy" => self.admin_policy(true, spec),
            "Ingress" => self.ingress(namespace, name, spec),
            "Route" => self.route(namespace, name, spec),
            _ if WORKLOAD_KINDS.contains(&kind.as_str()) => {
                self.workload(doc, kind, namespace, name, at);
            }
            _ => {}
        }
    }

    fn workload(&mut self, doc: &At<Node>, kind: String, namespace: String, name: String, at: Pos) {
        let metadata = doc.value.get("metadata");
        let spec = doc.value.get("spec");
        // The pod template: the pod itself, a controller's template, or a CronJob's job's.
        let template = match kind.as_str() {
            "Pod" => Some(doc),
            "CronJob" => spec
                .and_then(|s| s.value.get("jobTemplate"))
                .and_then(|j| j.value.get("spec"))
                .and_then(|s| s.value.get("template")),
            _ => spec.and_then(|s| s.value.get("template")),
        };
        let labels = self.labels(
            template
                .and_then(|t| t.value.get("metadata"))
                .and_then(|m| m.value.get("labels")),
            "labels",
        );
        let pod_spec = template.and_then(|t| t.value.get("spec"));
        let mut ports = Vec::new();
        let mut secrets = Vec::new();
        let mut service_account = "default".to_owned();
        let mut automount = None;
        let mut projects_token = false;
        if let Some(pod_spec) = pod_spec {
            for field in ["containers", "initContainers", "ephemeralContainers"] {
                for container in pod_spec
                    .value
                    .get(field)
                    .map_or(&[][..], |c| c.value.as_seq())
                {
                    self.container(container, &mut ports);
                    self.secret_references(container, &mut secrets);
                }
            }
            for volume in pod_spec
                .value
                .get("volumes")
                .map_or(&[][..], |v| v.value.as_seq())
            {
                if let Some(secret) = volume.value.get("secret")
                    && let Some(name) = self.string(secret, "secretName")
                {
                    secrets.push(name);
                }
                for source in volume
                    .value
                    .get("projected")
                    .and_then(|p| p.value.get("sources"))
                    .map_or(&[][..], |s| s.value.as_seq())
                {
                    if let Some(secret) = source.value.get("secret")
                        && let Some(name) = self.string(secret, "name")
                    {
                        secrets.push(name);
                    }
                    projects_token |= source.value.get("serviceAccountToken").is_some();
                }
            }
            if let Some(account) = self
                .string(pod_spec, "serviceAccountName")
                .or_else(|| self.string(pod_spec, "serviceAccount"))
            {
                service_account = account;
            }
            automount = pod_spec
                .value
                .get("automountServiceAccountToken")
                .and_then(|flag| flag.value.as_bool());
        }
        secrets.sort();
        secrets.dedup();
        let escape = pod_spec.and_then(|pod_spec| Escape::of(pod_spec, |node| self.pos(node)));
        let host_network = pod_spec
            .and_then(|pod_spec| pod_spec.value.get("hostNetwork"))
            .filter(|flag| flag.value.as_bool() == Some(true))
            .map(|flag| self.pos(flag));
        // A pod created by a controller folds into it (see `fold_owned`), even when the
        // controller is not among the inputs; a pod owned by a Node (a static pod) keeps
        // its own name. The managing controller is the reference marked `controller`.
        let references = metadata
            .and_then(|m| m.value.get("ownerReferences"))
            .map_or(&[][..], |refs| refs.value.as_seq());
        let owner = references
            .iter()
            .find(|r| {
                matches!(
                    r.value.get("controller"),
                    Some(At {
                        value: Node::Bool(true),
                        ..
                    })
                )
            })
            .or_else(|| references.first())
            .and_then(|owner| {
                let kind = owner.value.get("kind").and_then(|k| k.value.scalar_text());
                let name = owner.value.get("name").and_then(|k| k.value.scalar_text());
                match (kind, name) {
                    (Some(kind), Some(name)) if kind != "Node" => Some((kind, name)),
                    _ => None,
                }
            });
        self.objects.workloads.push(Workload {
            namespace,
            name,
            kind,
            labels,
            ports,
            service_account,
            automount,
            secrets,
            projects_token,
            escape,
            host_network,
            owner,
            at,
        });
    }

    fn container(&mut self, container: &At<Node>, ports: &mut Vec<ContainerPort>) {
        for port in container
            .value
            .get("ports")
            .map_or(&[][..], |p| p.value.as_seq())
        {
            // A port without `containerPort` (a misspelt key) declares nothing.
            let Some(number_at) = port.value.get("containerPort") else {
                continue;
            };
            let number = number_at
                .value
                .scalar_text()
                .and_then(|text| text.parse::<u16>().ok());
            let Some(number) = number else {
                self.shape(number_at, "containerPort", "a port number");
                continue;
            };
            let protocol = self.protocol(port);
            ports.push(ContainerPort {
                name: self.string(port, "name"),
                port: number,
                protocol,
            });
        }
    }

    /// Secrets a container reads into its environment.
    fn secret_references(&mut self, container: &At<Node>, secrets: &mut Vec<String>) {
        for env in container
            .value
            .get("env")
            .map_or(&[][..], |e| e.value.as_seq())
        {
            if let Some(reference) = env
                .value
                .get("valueFrom")
                .and_then(|v| v.value.get("secretKeyRef"))
                && let Some(name) = self.string(reference, "name")
            {
                secrets.push(name);
            }
        }
        for source in container
            .value
            .get("envFrom")
            .map_or(&[][..], |e| e.value.as_seq())
        {
            if let Some(reference) = source.value.get("secretRef")
                && let Some(name) = self.string(reference, "name")
            {
                secrets.push(name);
            }
        }
    }

    fn strings(&mut self, node: &At<Node>, key: &str) -> Vec<String> {
        node.value
            .get(key)
            .map_or(&[][..], |list| list.value.as_seq())
            .iter()
            .filter_map(|item| item.value.scalar_text())
            .collect()
    }

    fn role(&mut self, doc: &At<Node>, namespace: Option<String>, name: String, labels: Labels) {
        let mut rules = Vec::new();
        for rule in doc.value.get("rules").map_or(&[][..], |r| r.value.as_seq()) {
            rules.push(PolicyRule {
                api_groups: self.strings(rule, "apiGroups"),
                resources: self.strings(rule, "resources"),
                verbs: self.strings(rule, "verbs"),
                resource_names: self.strings(rule, "resourceNames"),
            });
        }
        let mut aggregation = Vec::new();
        if let Some(selectors) = doc
            .value
            .get("aggregationRule")
            .and_then(|a| a.value.get("clusterRoleSelectors"))
        {
            for selector in selectors.value.as_seq() {
                aggregation.push(self.selector(Some(selector), "clusterRoleSelectors"));
            }
        }
        self.objects.roles.push(Role {
            namespace,
            name,
            labels,
            rules,
            aggregation,
        });
    }

    fn binding(&mut self, doc: &At<Node>, namespace: Option<String>, name: String) {
        let Some(role_ref) = doc.value.get("roleRef") else {
            self.problem(
                doc,
                Problem::MissingKey {
                    key: "roleRef".to_owned(),
                },
                None,
            );
            return;
        };
        let role_kind = self.string(role_ref, "kind").unwrap_or_default();
        let role = self.string(role_ref, "name").unwrap_or_default();
        let mut subjects = Vec::new();
        for subject in doc
            .value
            .get("subjects")
            .map_or(&[][..], |s| s.value.as_seq())
        {
            let kind = self.string(subject, "kind");
            let Some(name) = self.string(subject, "name") else {
                continue;
            };
            // A token authenticates as user `system:serviceaccount:NS:NAME` in groups
            // `system:serviceaccounts`, `system:serviceaccounts:NS` and
            // `system:authenticated`, so a binding to any of them binds the account.
            // A request without a credential is user `system:anonymous` in group
            // `system:unauthenticated`: a binding to either binds anyone. Other users
            // and groups are people or certificates, which cordon does not model.
            match kind.as_deref() {
                Some("ServiceAccount") => {
                    let account_namespace = self
                        .string(subject, "namespace")
                        .or_else(|| namespace.clone())
                        .unwrap_or_else(|| "default".to_owned());
                    subjects.push(Subject::Account(account_namespace, name));
                }
                Some("User") if name == "system:anonymous" => subjects.push(Subject::Anonymous),
                Some("User") => {
                    if let Some((account_namespace, account)) = name
                        .strip_prefix("system:serviceaccount:")
                        .and_then(|rest| rest.split_once(':'))
                        .filter(|(n, a)| !n.is_empty() && !a.is_empty() && !a.contains(':'))
                    {
                        subjects.push(Subject::Account(
                            account_namespace.to_owned(),
                            account.to_owned(),
                        ));
                    }
                }
                Some("Group") => match name.as_str() {
                    "system:serviceaccounts" | "system:authenticated" => {
                        subjects.push(Subject::Every)
                    }
                    "system:unauthenticated" => subjects.push(Subject::Anonymous),
                    _ => {
                        if let Some(group_namespace) = name
                            .strip_prefix("system:serviceaccounts:")
                            .filter(|n| !n.is_empty())
                        {
                            subjects.push(Subject::Namespace(group_namespace.to_owned()));
                        }
                    }
                },
                _ => {}
            }
        }
        let at = self.pos(role_ref);
        self.objects.bindings.push(Binding {
            namespace,
            name,
            role_kind,
            role,
            subjects,
            at,
        });
    }

    /// `protocol`, TCP when absent.
    fn protocol(&mut self, node: &At<Node>) -> Protocol {
        let Some(value) = node.value.get("protocol") else {
            return Protocol::Tcp;
        };
        match value.value.scalar_text().as_deref() {
            Some("TCP") | None => Protocol::Tcp,
            Some("UDP") => Protocol::Udp,
            Some("SCTP") => Protocol::Sctp,
            Some(other) => {
                self.problem(
                    value,
                    Problem::BadValue {
                        field: "protocol",
                        value: other.to_owned(),
                    },
                    Some("use `TCP`, `UDP` or `SCTP`".to_owned()),
                );
                Protocol::Tcp
            }
        }
    }

    fn port_ref(&mut self, node: &At<Node>, field: &str) -> Option<PortRef> {
        match &node.value {
            Node::Number(text) => match text.parse::<u16>() {
                Ok(port) if port > 0 => Some(PortRef::Number(port)),
                _ => {
                    self.problem(
                        node,
                        Problem::BadPort { text: text.clone() },
                        Some("a port is a number from 1 to 65535 or a port's name".to_owned()),
                    );
                    None
                }
            },
            Node::Str(text) => match text.parse::<u16>() {
                Ok(port) => Some(PortRef::Number(port)),
                Err(_) => Some(PortRef::Name(text.clone())),
            },
            _ => {
                self.shape(node, field, "a port number or name");
                None
            }
        }
    }

    pub fn selector(&mut self, node: Option<&At<Node>>, field: &str) -> LabelSelector {
        let mut selector = LabelSelector::default();
        let Some(node) = node else {
            return selector;
        };
        match &node.value {
            Node::Map(_) => {}
            Node::Null => return selector,
            _ => {
                self.shape(node, field, "a label selector");
                return selector;
            }
        }
        selector.match_labels = self
            .labels(node.value.get("matchLabels"), "matchLabels")
            .into_iter()
            .collect();
        for expression in node
            .value
            .get("matchExpressions")
            .map_or(&[][..], |e| e.value.as_seq())
        {
            let key = self.string(expression, "key").unwrap_or_default();
            let operator_at = expression.value.get("operator").unwrap_or(expression);
            let operator = match self.string(expression, "operator").as_deref() {
                Some("In") => Operator::In,
                Some("NotIn") => Operator::NotIn,
                Some("Exists") => Operator::Exists,
                Some("DoesNotExist") => Operator::DoesNotExist,
                other => {
                    let value = other.unwrap_or("").to_owned();
                    let help = crate::suggest::did_you_mean(
                        &value,
                        ["In", "NotIn", "Exists", "DoesNotExist"],
                    )
                    .unwrap_or_else(|| "use `In`, `NotIn`, `Exists` or `DoesNotExist`".to_owned());
                    self.problem(
                        operator_at,
                        Problem::BadValue {
                            field: "operator",
                            value,
                        },
                        Some(help),
                    );
                    // A selector that cannot be read selects nothing: never more than
                    // the manifest could mean.
                    selector.unreadable = true;
                    continue;
                }
            };
            let mut values: Vec<String> = expression
                .value
                .get("values")
                .map_or(&[][..], |v| v.value.as_seq())
                .iter()
                .filter_map(|v| v.value.scalar_text())
                .collect();
            values.sort();
            values.dedup();
            selector.expressions.push(Expression {
                key,
                operator,
                values,
            });
        }
        selector
    }

    fn network_policy(&mut self, namespace: String, spec: Option<&At<Node>>) {
        let Some(spec) = spec else {
            return;
        };
        let pod_selector = self.selector(spec.value.get("podSelector"), "podSelector");
        // The API server defaults an empty policyTypes as it does a missing one.
        let types: Option<Vec<String>> = spec
            .value
            .get("policyTypes")
            .map(|types| {
                types
                    .value
                    .as_seq()
                    .iter()
                    .filter_map(|t| t.value.scalar_text())
                    .collect::<Vec<_>>()
            })
            .filter(|types| !types.is_empty());
        // Without policyTypes, a policy governs ingress always, and egress when it has
        // egress rules: the API server counts them, so `egress: []` is no rule.
        let (ingress_type, egress_type) = match &types {
            Some(types) => (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            ),
            None => (
                true,
                spec.value
                    .get("egress")
                    .is_some_and(|e| !e.value.as_seq().is_empty()),
            ),
        };
        let ingress = ingress_type.then(|| self.rules(spec.value.get("ingress"), "from"));
        let egress = egress_type.then(|| self.rules(spec.value.get("egress"), "to"));
        self.objects.policies.push(NetworkPolicy {
            namespace,
            pod_selector,
            ingress,
            egress,
        });
    }

    fn admin_policy(&mut self, baseline: bool, spec: Option<&At<Node>>) {
        let Some(spec) = spec else {
            return;
        };
        let priority = spec
            .value
            .get("priority")
            .and_then(|p| p.value.scalar_text())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let subject = spec.value.get("subject");
        let (namespaces, pods) = match subject {
            Some(subject) => match (subject.value.get("namespaces"), subject.value.get("pods")) {
                (_, Some(pods)) => (
                    self.selector(pods.value.get("namespaceSelector"), "namespaceSelector"),
                    Some(self.selector(pods.value.get("podSelector"), "podSelector")),
                ),
                (Some(namespaces), None) => (self.selector(Some(namespaces), "namespaces"), None),
                (None, None) => (LabelSelector::default(), None),
            },
            None => (LabelSelector::default(), None),
        };
        let ingress = self.admin_rules(spec.value.get("ingress"), "from");
        let egress = self.admin_rules(spec.value.get("egress"), "to");
        self.objects.admin.push(AdminPolicy {
            baseline,
            priority,
            namespaces,
            pods,
            ingress,
            egress,
        });
    }

    fn admin_rules(&mut self, node: Option<&At<Node>>, peers_key: &str) -> Vec<AdminRule> {
        let mut rules = Vec::new();
        for rule in node.map_or(&[][..], |r| r.value.as_seq()) {
            let action_at = rule.value.get("action").unwrap_or(rule);
            let action = match self.string(rule, "action").as_deref() {
                Some("Allow") => Action::Allow,
                Some("Deny") => Action::Deny,
                Some("Pass") => Action::Pass,
                other => {
                    let value = other.unwrap_or("").to_owned();
                    self.problem(
                        action_at,
                        Problem::BadValue {
                            field: "action",
                            value,
                        },
                        Some("use `Allow`, `Deny` or `Pass`".to_owned()),
                    );
                    continue;
                }
            };
            let mut peers = Vec::new();
            for peer in rule
                .value
                .get(peers_key)
                .map_or(&[][..], |p| p.value.as_seq())
            {
                if let Some(namespaces) = peer.value.get("namespaces") {
                    peers.push(Peer::Pods {
                        namespaces: Some(self.selector(Some(namespaces), "namespaces")),
                        pods: LabelSelector::default(),
                    });
                } else if let Some(pods) = peer.value.get("pods") {
                    peers.push(Peer::Pods {
                        namespaces: Some(
                            self.selector(pods.value.get("namespaceSelector"), "namespaceSelector"),
                        ),
                        pods: self.selector(pods.value.get("podSelector"), "podSelector"),
                    });
                } else if let Some(networks) = peer.value.get("networks") {
                    for network in networks.value.as_seq() {
                        let text = network.value.scalar_text().unwrap_or_default();
                        match text.trim().parse::<ipnet::IpNet>() {
                            Ok(cidr) => peers.push(Peer::IpBlock {
                                cidr: cidr.trunc(),
                                except: Vec::new(),
                            }),
                            Err(_) => self.problem(network, Problem::BadCidr { text }, None),
                        }
                    }
                }
                // `nodes` peers select nodes, which cordon does not model: they match
                // no workload.
            }
            let ports = rule.value.get("ports").map(|ports| {
                ports
                    .value
                    .as_seq()
                    .iter()
                    .filter_map(|port| self.admin_port(port))
                    .collect()
            });
            rules.push(AdminRule {
                action,
                peers,
                ports,
                at: self.pos(rule),
            });
        }
        rules
    }

    /// `portNumber`, `portRange` or `namedPort`; a named port matches any protocol.
    fn admin_port(&mut self, port: &At<Node>) -> Option<RulePort> {
        if let Some(number) = port.value.get("portNumber") {
            let protocol = self.protocol(number);
            let port = number
                .value
                .get("port")
                .and_then(|p| self.port_ref(p, "port"))?;
            return Some(RulePort {
                protocol,
                port: Some(port),
                end_port: None,
            });
        }
        if let Some(range) = port.value.get("portRange") {
            let protocol = self.protocol(range);
            let number = |key: &str| {
                range
                    .value
                    .get(key)
                    .and_then(|p| p.value.scalar_text())
                    .and_then(|p| p.parse::<u16>().ok())
            };
            let start = number("start")?;
            return Some(RulePort {
                protocol,
                port: Some(PortRef::Number(start)),
                end_port: number("end"),
            });
        }
        let name = port.value.get("namedPort")?.value.scalar_text()?;
        Some(RulePort {
            protocol: Protocol::Any,
            port: Some(PortRef::Name(name)),
            end_port: None,
        })
    }

    fn rules(&mut self, node: Option<&At<Node>>, peers_key: &str) -> Vec<Rule> {
        let mut rules = Vec::new();
        for rule in node.map_or(&[][..], |r| r.value.as_seq()) {
            let peers = rule
                .value
                .get(peers_key)
                .filter(|p| !p.value.as_seq().is_empty())
                .map(|peers| {
                    peers
                        .value
                        .as_seq()
                        .iter()
                        .filter_map(|peer| self.peer(peer))
                        .collect()
                });
            let ports = rule
                .value
                .get("ports")
                .filter(|p| !p.value.as_seq().is_empty())
                .map(|ports| {
                    ports
                        .value
                        .as_seq()
                        .iter()
                        .filter_map(|port| self.rule_port(port))
                        .collect()
                });
            rules.push(Rule {
                at: self.pos(rule),
                peers,
                ports,
            });
        }
        rules
    }

    fn peer(&mut self, peer: &At<Node>) -> Option<Peer> {
        if let Some(block) = peer.value.get("ipBlock") {
            let cidr_at = block.value.get("cidr").unwrap_or(block);
            let text = self.string(block, "cidr").unwrap_or_default();
            let Ok(cidr) = text.trim().parse::<ipnet::IpNet>() else {
                self.problem(
                    cidr_at,
                    Problem::BadCidr { text },
                    Some("use a prefix such as `10.0.0.0/16`".to_owned()),
                );
                return None;
            };
            let mut except = Vec::new();
            for item in block
                .value
                .get("except")
                .map_or(&[][..], |e| e.value.as_seq())
            {
                let text = item.value.scalar_text().unwrap_or_default();
                match text.trim().parse::<ipnet::IpNet>() {
                    Ok(net) => except.push(net.trunc()),
                    Err(_) => self.problem(item, Problem::BadCidr { text }, None),
                }
            }
            return Some(Peer::IpBlock {
                cidr: cidr.trunc(),
                except,
            });
        }
        // `namespaceSelector: null` is no selector, as the API server decodes it: the
        // policy's own namespace, not every namespace as `{}` would be.
        let namespaces = peer
            .value
            .get("namespaceSelector")
            .filter(|s| !s.value.is_null())
            .map(|s| self.selector(Some(s), "namespaceSelector"));
        let pods = self.selector(peer.value.get("podSelector"), "podSelector");
        Some(Peer::Pods { namespaces, pods })
    }

    fn rule_port(&mut self, port: &At<Node>) -> Option<RulePort> {
        let protocol = self.protocol(port);
        let number = match port.value.get("port") {
            Some(node) if !node.value.is_null() => Some(self.port_ref(node, "port")?),
            _ => None,
        };
        let end_port = port
            .value
            .get("endPort")
            .and_then(|e| e.value.scalar_text())
            .and_then(|text| text.parse::<u16>().ok());
        Some(RulePort {
            protocol,
            port: number,
            end_port,
        })
    }

    fn service(&mut self, namespace: String, name: String, spec: Option<&At<Node>>) {
        let Some(spec) = spec else {
            return;
        };
        let selector = spec
            .value
            .get("selector")
            .map(|s| self.labels(Some(s), "selector"))
            .filter(|labels| !labels.is_empty());
        let mut ports = Vec::new();
        for port in spec
            .value
            .get("ports")
            .map_or(&[][..], |p| p.value.as_seq())
        {
            let Some(PortRef::Number(number)) = port
                .value
                .get("port")
                .and_then(|p| self.port_ref(p, "port"))
            else {
                continue;
            };
            let target = port
                .value
                .get("targetPort")
                .and_then(|t| self.port_ref(t, "targetPort"))
                .unwrap_or(PortRef::Number(number));
            let protocol = self.protocol(port);
            ports.push(ServicePort {
                name: self.string(port, "name"),
                port: number,
                target,
                protocol,
            });
        }
        self.objects.services.push(Service {
            namespace,
            name,
            selector,
            ports,
        });
    }

    fn ingress(&mut self, namespace: String, name: String, spec: Option<&At<Node>>) {
        let Some(spec) = spec else {
            return;
        };
        let from = format!("Ingress `{namespace}/{name}`");
        let mut backends: Vec<&At<Node>> = Vec::new();
        if let Some(default) = spec
            .value
            .get("defaultBackend")
            .or_else(|| spec.value.get("backend"))
        {
            backends.push(default);
        }
        for rule in spec
            .value
            .get("rules")
            .map_or(&[][..], |r| r.value.as_seq())
        {
            let paths = rule.value.get("http").and_then(|h| h.value.get("paths"));
            for path in paths.map_or(&[][..], |p| p.value.as_seq()) {
                if let Some(backend) = path.value.get("backend") {
                    backends.push(backend);
                }
            }
        }
        for backend in backends {
            // networking.k8s.io/v1 nests the service; extensions/v1beta1 does not.
            let (service, port) = match backend.value.get("service") {
                Some(service) => (
                    self.string(service, "name"),
                    service.value.get("port").and_then(|port| {
                        port.value
                            .get("number")
                            .or_else(|| port.value.get("name"))
                            .and_then(|p| self.port_ref(p, "port"))
                    }),
                ),
                None => (
                    self.string(backend, "serviceName"),
                    backend
                        .value
                        .get("servicePort")
                        .and_then(|p| self.port_ref(p, "servicePort")),
                ),
            };
            if let Some(service) = service {
                let at = self.pos(backend);
                self.objects.backends.push(Backend {
                    namespace: namespace.clone(),
                    service,
                    port,
                    from: from.clone(),
                    at,
                });
            }
        }
    }

    fn route(&mut self, namespace: String, name: String, spec: Option<&At<Node>>) {
        let Some(spec) = spec else {
            return;
        };
        let from = format!("Route `{namespace}/{name}`");
        let port = spec
            .value
            .get("port")
            .and_then(|p| p.value.get("targetPort"))
            .and_then(|p| self.port_ref(p, "targetPort"));
        let mut targets: Vec<&At<Node>> = spec.value.get("to").into_iter().collect();
        targets.extend(
            spec.value
                .get("alternateBackends")
                .map_or(&[][..], |b| b.value.as_seq()),
        );
        for target in targets {
            if let Some(service) = self.string(target, "name") {
                let at = self.pos(target);
                self.objects.backends.push(Backend {
                    namespace: namespace.clone(),
                    service,
                    port: port.clone(),
                    from: from.clone(),
                    at,
                });
            }
        }
    }
}
