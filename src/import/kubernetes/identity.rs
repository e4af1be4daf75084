//! The identity plane: service-account tokens and Secrets as credentials, and RBAC as
//! flows from the cluster's API server. A workload holds its ServiceAccount's token
//! (unless automounting is off: the pod's setting wins over its ServiceAccount's) and the
//! Secrets it mounts or reads into its environment. A binding whose role may start pods
//! in a namespace (create Pods or a controller of pods, or update a controller's
//! template) opens a flow from the API server to that namespace's workloads and to its
//! secret store, which holds its Secrets and tokens: such a pod may run as any account
//! and mount any Secret there. One that may run code in running pods (exec, attach,
//! ephemeral containers, a new image) or connect to them through the API server (port
//! forwarding, proxies) opens a flow to the workloads only, as one that may reach the
//! kubelets (`nodes/proxy`, cluster-wide) does in every namespace; one that may get,
//! list or watch Secrets, to the secret store only; one that may request
//! tokens (`create` on `serviceaccounts/token`) or impersonate service accounts, to the
//! token store, which holds the namespace's tokens and no Secret. A binding that may
//! grant itself any permission (`escalate` or `bind` roles; through a
//! ClusterRoleBinding, impersonate users or groups, or write mutating admission
//! webhooks) gives everything in its scope: its namespace's workloads and secret store,
//! or every namespace's. Writing validating webhooks reads every namespace's Secrets.
//! Subjects are service accounts, named directly, as users
//! `system:serviceaccount:NS:NAME`, or through the groups `system:serviceaccounts`,
//! `system:serviceaccounts:NS` and `system:authenticated` (the accounts the inputs name,
//! and every namespace's `default`). Each flow takes the bound accounts' tokens as `auth`
//! and points at the binding's `roleRef`.

use std::collections::{BTreeMap, BTreeSet};

use super::objects::{Objects, PolicyRule, Pos, Role, Subject};
use super::{Emitter, FlowSpec, at, located_list, workload_name};
use crate::raw::{RawCredential, RawEntity};

/// The asset that RBAC flows start from.
pub const API_SERVER: &str = "kubernetes-api";

/// Whether some rule lets `verb` act on `resource` in the core API group.
fn allows(rules: &[PolicyRule], verb: &str, resource: &str) -> bool {
    allows_in(rules, verb, "", resource)
}

/// Whether some rule lets `verb` act on `resource` in API group `group`.
fn allows_in(rules: &[PolicyRule], verb: &str, group: &str, resource: &str) -> bool {
    rules.iter().any(|rule| {
        let any = |list: &[String], wanted: &str| list.iter().any(|v| v == "*" || v == wanted);
        any(&rule.api_groups, group)
            && rule.resources.iter().any(|r| resource_matches(r, resource))
            && any(&rule.verbs, verb)
    })
}

/// What starts pods from a template the writer chooses, by API group: such a pod may run
/// as any service account of its namespace and mount any of its Secrets, so writing one
/// controls the namespace's pods and reads its tokens and Secrets, as creating a Pod does
/// (Kubernetes' RBAC good practices, "workload creation").
const POD_STARTERS: [(&str, &str); 11] = [
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("extensions", "deployments"),
    ("extensions", "replicasets"),
    ("extensions", "daemonsets"),
];

/// Whether some rule lets its subject start pods of its choosing: create any of
/// [`POD_STARTERS`], or update or patch a controller's pod template.
fn starts_pods(rules: &[PolicyRule]) -> bool {
    POD_STARTERS.iter().any(|&(group, resource)| {
        allows_in(rules, "create", group, resource)
            || (resource != "pods"
                && ["update", "patch"]
                    .iter()
                    .any(|verb| allows_in(rules, verb, group, resource)))
    })
}

/// What a binding's role lets its subjects take in each namespace it applies in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Powers {
    /// Running code in, or connecting to, the namespace's pods: its workloads.
    control: bool,
    /// Reading its Secrets, and so its tokens: its secret store.
    secrets: bool,
    /// Its accounts' tokens alone: its token store.
    tokens: bool,
}

impl Powers {
    const EVERYTHING: Powers = Powers {
        control: true,
        secrets: true,
        tokens: true,
    };

    /// The powers of `rules` bound by a ClusterRoleBinding (`cluster_wide`) or a
    /// RoleBinding. A RoleBinding's rules apply only to requests in its namespace, so
    /// never to what has none: users, groups, nodes, ClusterRoles.
    fn of(rules: &[PolicyRule], cluster_wide: bool) -> Powers {
        if grants_itself_anything(rules, cluster_wide) {
            return Powers::EVERYTHING;
        }
        let starts = starts_pods(rules);
        // `watch` streams whole objects, as `list` does: Kubernetes' RBAC good
        // practices count all three as reading Secrets.
        let secrets = starts
            || ["get", "list", "watch"]
                .iter()
                .any(|verb| allows(rules, verb, "secrets"))
            // A validating webhook is sent every object admitted from then on, Secrets
            // included.
            || (cluster_wide && writes_webhooks(rules, "validatingwebhookconfigurations"));
        // The kubelet API runs commands in every pod of its node (RBAC good practices,
        // "access to proxy subresource of Nodes"), a WebSocket's `get` enough. Which
        // node runs which pod is not in the inputs: every pod of the cluster, which is
        // the scope of the ClusterRoleBinding that alone grants anything on nodes.
        let kubelet = cluster_wide
            && ["get", "create"]
                .iter()
                .any(|verb| allows(rules, verb, "nodes/proxy"));
        Powers {
            control: starts || kubelet || enters_pods(rules),
            secrets,
            // The TokenRequest API issues a token for any existing account of the
            // namespace (RBAC good practices, "token request"); impersonating one acts
            // with its token's rights, its groups included.
            tokens: allows(rules, "create", "serviceaccounts/token")
                || allows(rules, "impersonate", "serviceaccounts"),
        }
    }

    fn any(self) -> bool {
        self.control || self.secrets || self.tokens
    }

    /// What the flow's description says it grants.
    fn describe(self) -> String {
        [
            (self.control, "control of pods"),
            (self.secrets, "reading Secrets"),
            (self.tokens && !self.secrets, "requesting tokens"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, what)| *what)
        .collect::<Vec<_>>()
        .join(" and ")
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Whether `rules`, bound cluster-wide or in one namespace, let their subjects act with
/// any permission there: everything the scope holds.
fn grants_itself_anything(rules: &[PolicyRule], cluster_wide: bool) -> bool {
    // RBAC lets a role be written, or bound, only by someone who holds its permissions,
    // unless they may `escalate` it or `bind` it (RBAC, "privilege escalation
    // prevention"). The other verbs needed, writing the role or the binding, may come
    // from another binding of the same holder, so they are not asked for: counting them
    // as granted over-approximates. Without either verb, writing roles or bindings grants
    // nothing new. The API server checks `bind` in the binding's namespace, so a
    // RoleBinding may bind ClusterRoles there; `escalate` on a ClusterRole, which has no
    // namespace, only cluster-wide.
    let escalates = allows_in(rules, "escalate", RBAC_GROUP, "roles")
        || (cluster_wide && allows_in(rules, "escalate", RBAC_GROUP, "clusterroles"));
    let binds = ["roles", "clusterroles"]
        .iter()
        .any(|resource| allows_in(rules, "bind", RBAC_GROUP, resource));
    // Impersonating a group may name `system:masters`, which bypasses RBAC; a user,
    // `system:kube-controller-manager`, which every cluster's bootstrap policy lets list
    // every Secret (RBAC good practices, "impersonate verb"). The user that a group's
    // impersonation also needs is not asked for, as above. Users and groups have no
    // namespace, so only a ClusterRoleBinding grants their impersonation.
    let impersonates = cluster_wide
        && ["users", "groups"]
            .iter()
            .any(|resource| allows(rules, "impersonate", resource));
    // A mutating webhook, at an address its writer chooses, may rewrite every pod
    // admitted from then on: any image, account and Secret, in every namespace (RBAC
    // good practices, "control admission webhooks"). Its configuration has no namespace.
    let mutates = cluster_wide && writes_webhooks(rules, "mutatingwebhookconfigurations");
    escalates || binds || impersonates || mutates
}

const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";

/// Whether some rule lets its subject write admission webhook configurations of the kind
/// `resource`.
fn writes_webhooks(rules: &[PolicyRule], resource: &str) -> bool {
    ["create", "update", "patch"]
        .iter()
        .any(|verb| allows_in(rules, verb, ADMISSION_GROUP, resource))
}

/// A namespace's store of credentials, an asset that a flow reaches to take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Store {
    /// Its Secrets and its accounts' tokens.
    Secrets,
    /// Its accounts' tokens only.
    Tokens,
}

impl Store {
    fn name(self, namespace: &str) -> String {
        match self {
            Store::Secrets => format!("secrets:{namespace}"),
            Store::Tokens => format!("tokens:{namespace}"),
        }
    }

    fn description(self, namespace: &str) -> String {
        match self {
            Store::Secrets => format!("the Secrets of namespace `{namespace}`"),
            Store::Tokens => format!("the service-account tokens of namespace `{namespace}`"),
        }
    }
}

/// The verbs that the API server's proxies authorise, one for each HTTP method.
const PROXY_VERBS: &[&str] = &["get", "create", "update", "patch", "delete"];

/// What runs code of its writer's choosing in running pods, or connects to them past
/// every NetworkPolicy (which cordon counts as control), with the verbs that reach it: a
/// command or the terminal of a container, or a forwarded port (a WebSocket asks for
/// `get`, which is enough before Kubernetes 1.35 or with the
/// `AuthorizePodWebsocketUpgradeCreatePermission` gate off); an ephemeral container; a
/// new image for a container; a request proxied to a pod or to a Service's pods.
const POD_ENTRIES: [(&str, &[&str]); 7] = [
    ("pods/exec", &["create", "get"]),
    ("pods/attach", &["create", "get"]),
    ("pods/portforward", &["create", "get"]),
    ("pods/ephemeralcontainers", &["update", "patch"]),
    ("pods", &["update", "patch"]),
    ("pods/proxy", PROXY_VERBS),
    ("services/proxy", PROXY_VERBS),
];

/// Whether some rule lets its subject run code in, or connect to, the pods it covers.
fn enters_pods(rules: &[PolicyRule]) -> bool {
    POD_ENTRIES
        .iter()
        .any(|(resource, verbs)| verbs.iter().any(|verb| allows(rules, verb, resource)))
}

/// Kubernetes' `ResourceMatches`: `*` matches every resource and subresource, and
/// `*/SUB` matches subresource `SUB` of every resource (`*/exec` covers `pods/exec`).
fn resource_matches(rule: &str, resource: &str) -> bool {
    rule == "*"
        || rule == resource
        || resource
            .split_once('/')
            .is_some_and(|(_, sub)| rule.strip_prefix("*/") == Some(sub))
}

/// A role's rules, with those of the ClusterRoles its aggregation selects.
fn rules_of<'o>(objects: &'o Objects, role: &'o Role) -> Vec<&'o PolicyRule> {
    let mut rules: Vec<&PolicyRule> = role.rules.iter().collect();
    if !role.aggregation.is_empty() {
        for other in objects.roles.iter().filter(|r| r.namespace.is_none()) {
            if role.aggregation.iter().any(|s| s.matches(&other.labels)) {
                rules.extend(other.rules.iter());
            }
        }
    }
    rules
}

/// A credential being gathered: where it is declared and who holds it.
#[derive(Default)]
struct Gathering {
    at: Option<Pos>,
    holders: BTreeSet<String>,
}

impl Gathering {
    fn place(&mut self, pos: Pos) {
        self.at = Some(self.at.map_or(pos, |at| at.min(pos)));
    }
}

impl Emitter {
    fn token_name(&self, namespace: &str, account: &str) -> String {
        format!("token:{}", self.scoped(&format!("{namespace}/{account}")))
    }

    /// Emits the API server, the credentials and the RBAC flows. Nothing when the inputs
    /// bind no role: then no credential opens anything.
    pub(super) fn identity(&mut self, objects: &Objects) {
        let Some(first) = objects.bindings.iter().map(|b| b.at).min() else {
            return;
        };
        let api = self.scoped(API_SERVER);
        let accounts: BTreeMap<(&str, &str), &super::objects::ServiceAccount> = objects
            .service_accounts
            .iter()
            .map(|a| ((a.namespace.as_str(), a.name.as_str()), a))
            .collect();
        let mut tokens: BTreeMap<(String, String), Gathering> = BTreeMap::new();
        let mut secrets: BTreeMap<(String, String), Gathering> = BTreeMap::new();
        for account in &objects.service_accounts {
            tokens
                .entry((account.namespace.clone(), account.name.clone()))
                .or_default()
                .place(account.at);
        }
        for secret in &objects.secrets {
            secrets
                .entry((secret.namespace.clone(), secret.name.clone()))
                .or_default()
                .place(secret.at);
        }
        for workload in &objects.workloads {
            let holder = self.scoped(&workload_name(workload));
            let account = accounts.get(&(
                workload.namespace.as_str(),
                workload.service_account.as_str(),
            ));
            let mounted = workload
                .automount
                .or(account.and_then(|a| a.automount))
                .unwrap_or(true);
            if mounted {
                let token = tokens
                    .entry((workload.namespace.clone(), workload.service_account.clone()))
                    .or_default();
                token.place(workload.at);
                token.holders.insert(holder.clone());
            }
            for name in &workload.secrets {
                let secret = secrets
                    .entry((workload.namespace.clone(), name.clone()))
                    .or_default();
                secret.place(workload.at);
                secret.holders.insert(holder.clone());
            }
        }
        // Every namespace the inputs name: a ClusterRoleBinding applies in each, those
        // without workloads included, where it still reaches Secrets and tokens.
        let mut namespaces: BTreeSet<String> = self.per_namespace.keys().cloned().collect();
        namespaces.extend(objects.namespaces.iter().map(|n| n.name.clone()));
        namespaces.extend(tokens.keys().map(|(namespace, _)| namespace.clone()));
        namespaces.extend(secrets.keys().map(|(namespace, _)| namespace.clone()));
        namespaces.extend(objects.bindings.iter().filter_map(|b| b.namespace.clone()));
        // The accounts a group subject covers: those the inputs declare or run pods as,
        // and each namespace's `default`, which the ServiceAccount controller keeps in
        // every namespace and a pod runs as when it names none.
        let mut known: BTreeSet<(String, String)> = tokens.keys().cloned().collect();
        known.extend(
            objects
                .workloads
                .iter()
                .map(|w| (w.namespace.clone(), w.service_account.clone())),
        );
        known.extend(
            namespaces
                .iter()
                .map(|namespace| (namespace.clone(), "default".to_owned())),
        );
        let mut stores: BTreeMap<(Store, String), Pos> = BTreeMap::new();
        for binding in &objects.bindings {
            let role = objects.roles.iter().find(|role| {
                role.name == binding.role
                    && match binding.role_kind.as_str() {
                        "Role" => role.namespace == binding.namespace,
                        _ => role.namespace.is_none(),
                    }
            });
            // Kubernetes accepts a binding to a role that does not exist yet; it grants
            // nothing until the role appears.
            let Some(role) = role else {
                continue;
            };
            let rules: Vec<PolicyRule> = rules_of(objects, role).into_iter().cloned().collect();
            let powers = Powers::of(&rules, binding.namespace.is_none());
            if !powers.any() {
                continue;
            }
            let mut accounts = BTreeSet::new();
            for subject in &binding.subjects {
                match subject {
                    Subject::Account(namespace, account) => {
                        accounts.insert((namespace.clone(), account.clone()));
                    }
                    Subject::Namespace(namespace) => {
                        accounts.extend(known.iter().filter(|(n, _)| n == namespace).cloned())
                    }
                    Subject::Every => accounts.extend(known.iter().cloned()),
                }
            }
            if accounts.is_empty() {
                continue;
            }
            let mut auth = Vec::new();
            for (namespace, account) in &accounts {
                tokens
                    .entry((namespace.clone(), account.clone()))
                    .or_default()
                    .place(binding.at);
                auth.push(self.token_name(namespace, account));
            }
            auth.sort();
            auth.dedup();
            // A ClusterRoleBinding applies in every namespace.
            let scope: Vec<String> = match &binding.namespace {
                Some(namespace) => vec![namespace.clone()],
                None => namespaces.iter().cloned().collect(),
            };
            // The secret store holds the tokens too, so it stands for the token store.
            let store = match powers {
                Powers { secrets: true, .. } => Some(Store::Secrets),
                Powers { tokens: true, .. } => Some(Store::Tokens),
                _ => None,
            };
            let mut targets = Vec::new();
            for namespace in &scope {
                if powers.control && self.per_namespace.contains_key(namespace) {
                    targets.push(self.scoped(namespace));
                }
                if let Some(store) = store {
                    stores
                        .entry((store, namespace.clone()))
                        .or_insert(binding.at);
                    targets.push(self.scoped(&store.name(namespace)));
                }
            }
            if targets.is_empty() {
                continue;
            }
            let description = format!(
                "{} `{}` grants {}",
                if binding.namespace.is_some() {
                    "RoleBinding"
                } else {
                    "ClusterRoleBinding"
                },
                binding.name,
                powers.describe()
            );
            self.push_flow(
                binding.at,
                FlowSpec {
                    from: vec![api.clone()],
                    to: targets,
                    ports: None,
                    auth: Some(auth),
                    kind: Some("kubernetes-rbac".to_owned()),
                    description: Some(description),
                },
            );
        }
        // A namespace's secret store holds its Secrets and its accounts' tokens; its token
        // store, the tokens only.
        for ((kind, namespace), pos) in &stores {
            let store = self.scoped(&kind.name(namespace));
            let held = tokens
                .iter_mut()
                .chain(secrets.iter_mut().filter(|_| *kind == Store::Secrets));
            for ((owner, _), gathering) in held {
                if owner == namespace {
                    gathering.holders.insert(store.clone());
                }
            }
            let entity = RawEntity {
                name: at(store, *pos),
                parent: self.cluster.clone().map(|cluster| at(cluster, *pos)),
                cidrs: None,
                tags: None,
                description: Some(kind.description(namespace)),
                owner: None,
            };
            self.file(*pos)
                .assets
                .get_or_insert_with(Vec::new)
                .push(at(entity, *pos));
        }
        let entity = RawEntity {
            name: at(api.clone(), first),
            parent: self.cluster.clone().map(|cluster| at(cluster, first)),
            cidrs: None,
            tags: None,
            description: Some("the cluster's API server".to_owned()),
            owner: None,
        };
        self.file(first)
            .assets
            .get_or_insert_with(Vec::new)
            .push(at(entity, first));
        self.api = Some(api);
        for (kind, map) in [("kubernetes-token", tokens), ("kubernetes-secret", secrets)] {
            for ((namespace, name), gathering) in map {
                let pos = gathering.at.unwrap_or(first);
                let credential = RawCredential {
                    name: at(
                        if kind == "kubernetes-token" {
                            self.token_name(&namespace, &name)
                        } else {
                            format!("secret:{}", self.scoped(&format!("{namespace}/{name}")))
                        },
                        pos,
                    ),
                    held_by: (!gathering.holders.is_empty())
                        .then(|| located_list(gathering.holders.into_iter().collect(), pos)),
                    leaked: None,
                    status: None,
                    kind: Some(kind.to_owned()),
                    description: None,
                    owner: None,
                    rotated: None,
                };
                self.file(pos)
                    .credentials
                    .get_or_insert_with(Vec::new)
                    .push(at(credential, pos));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule letting `verb` act on `resource` of API group `group`.
    fn rule(group: &str, resource: &str, verb: &str) -> PolicyRule {
        PolicyRule {
            api_groups: vec![group.to_owned()],
            resources: vec![resource.to_owned()],
            verbs: vec![verb.to_owned()],
        }
    }

    #[test]
    fn requesting_tokens_yields_tokens_and_no_secret() {
        let powers = Powers::of(&[rule("", "serviceaccounts/token", "create")], false);
        assert_eq!(
            powers,
            Powers {
                tokens: true,
                ..Powers::default()
            }
        );
        assert_eq!(powers.describe(), "requesting tokens");
        assert!(!Powers::of(&[rule("", "serviceaccounts/token", "get")], false).any());
        assert!(!Powers::of(&[rule("", "serviceaccounts", "create")], false).any());
    }

    #[test]
    fn impersonating_users_or_groups_is_everything_only_cluster_wide() {
        for resource in ["users", "groups", "*"] {
            let rules = [rule("", resource, "impersonate")];
            assert_eq!(Powers::of(&rules, true), Powers::EVERYTHING, "{resource}");
        }
        for resource in ["users", "groups"] {
            let rules = [rule("", resource, "impersonate")];
            assert!(!Powers::of(&rules, false).any(), "{resource}");
        }
        let accounts = [rule("", "serviceaccounts", "impersonate")];
        for cluster_wide in [false, true] {
            let powers = Powers::of(&accounts, cluster_wide);
            assert!(powers.tokens && !powers.secrets && !powers.control);
        }
    }

    #[test]
    fn escalate_and_bind_are_everything_where_the_api_server_checks_them() {
        let everything = |resource: &str, verb: &str, cluster_wide: bool| {
            Powers::of(&[rule(RBAC_GROUP, resource, verb)], cluster_wide) == Powers::EVERYTHING
        };
        for cluster_wide in [false, true] {
            assert!(everything("roles", "escalate", cluster_wide));
            assert!(everything("roles", "bind", cluster_wide));
            assert!(everything("clusterroles", "bind", cluster_wide));
            assert!(everything("*", "*", cluster_wide));
            for resource in ["roles", "rolebindings", "clusterrolebindings"] {
                for verb in ["create", "update", "patch"] {
                    assert!(
                        !everything(resource, verb, cluster_wide),
                        "{verb} {resource}"
                    );
                }
            }
            let core = Powers::of(&[rule("", "roles", "escalate")], cluster_wide);
            assert!(!core.any(), "roles of the core API group are no RBAC roles");
        }
        assert!(everything("clusterroles", "escalate", true));
        assert!(!everything("clusterroles", "escalate", false));
    }
}
