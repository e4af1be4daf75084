//! What RBAC grants: whether a role's rules, bound in one namespace or cluster-wide, let
//! their subjects control pods (start them, run code in them, or connect to them
//! through the API server or the kubelets), start containers of their own spec (which
//! may be privileged), read Secrets, obtain tokens (request or impersonate them), or
//! grant themselves anything (`escalate`, `bind`, impersonating users or groups,
//! mutating webhooks, approving client certificates), or choose the labels that
//! NetworkPolicies select on (of pods, or of namespaces), as `Powers`. Which accounts a binding covers, and the flows its
//! powers become, are the identity plane's (`identity.rs`). Each power cites the
//! Kubernetes behaviour it stands for; where Kubernetes asks for two permissions
//! together that two bindings may grant, one alone counts, which over-approximates.

use super::objects::{Objects, PolicyRule, Role};
use super::selectors::LabelSelector;

/// Whether some rule lets `verb` act on `resource` in the core API group.
fn allows(rules: &[PolicyRule], verb: &str, resource: &str) -> bool {
    allows_in(rules, verb, "", resource)
}

/// The verbs that read a Secret: `watch` streams whole objects, as `list` does, and
/// Kubernetes' RBAC good practices count all three.
const READS: [&str; 3] = ["get", "list", "watch"];

/// The ways to obtain a service account's token: request one (RBAC good practices,
/// "token request"), or impersonate the account, which acts with its token's rights.
const TOKEN_GRANTS: [(&str, &str); 2] = [
    ("create", "serviceaccounts/token"),
    ("impersonate", "serviceaccounts"),
];

/// The objects that rules limited to named objects (`resourceNames`) let their subject
/// act on with one of `grants` (verb, core resource), sorted.
fn named(rules: &[PolicyRule], grants: &[(&str, &str)]) -> Vec<String> {
    let mut names: Vec<String> = rules
        .iter()
        .filter(|rule| {
            let any = |list: &[String], wanted: &str| list.iter().any(|v| v == "*" || v == wanted);
            any(&rule.api_groups, "")
                && grants.iter().any(|(verb, resource)| {
                    rule.resources.iter().any(|r| resource_matches(r, resource))
                        && any(&rule.verbs, verb)
                })
        })
        .flat_map(|rule| rule.resource_names.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The Secrets that rules limited to named objects (`resourceNames`) let their subject
/// read, sorted: only those, where no other rule reads every Secret. Powers other than
/// reading Secrets and obtaining tokens read `resourceNames` as every object, which
/// over-approximates.
pub fn named_secrets(rules: &[PolicyRule]) -> Vec<String> {
    named(rules, &READS.map(|verb| (verb, "secrets")))
}

/// The service accounts whose tokens rules limited to named objects let their subject
/// obtain, sorted.
pub fn named_tokens(rules: &[PolicyRule]) -> Vec<String> {
    named(rules, &TOKEN_GRANTS)
}

/// Whether some rule that is not limited to named objects lets `verb` act on `resource`
/// in the core API group.
fn allows_every(rules: &[PolicyRule], verb: &str, resource: &str) -> bool {
    allows_where(rules, verb, "", resource, |rule| {
        rule.resource_names.is_empty()
    })
}

/// Whether some rule lets `verb` act on `resource` in API group `group`.
fn allows_in(rules: &[PolicyRule], verb: &str, group: &str, resource: &str) -> bool {
    allows_where(rules, verb, group, resource, |_| true)
}

/// [`allows_in`] over the rules that `counts` keeps.
fn allows_where(
    rules: &[PolicyRule],
    verb: &str,
    group: &str,
    resource: &str,
    counts: impl Fn(&PolicyRule) -> bool,
) -> bool {
    rules.iter().filter(|rule| counts(rule)).any(|rule| {
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
pub struct Powers {
    /// Running code in, or connecting to, the namespace's pods: its workloads.
    pub control: bool,
    /// Reading its Secrets, and so its tokens: its secret store.
    pub secrets: bool,
    /// Its accounts' tokens alone: its token store.
    pub tokens: bool,
    /// Starting containers of its own spec: pods, controllers' pod templates, ephemeral
    /// containers. Where Pod Security admission lets them be privileged, they take over
    /// their nodes (`escape.rs`).
    pub starts: bool,
    /// Choosing a pod's labels, which NetworkPolicies select on: starting pods, or
    /// updating or patching them (`classes::Started`).
    pub labels: bool,
    /// Choosing a namespace's labels, which NetworkPolicies' namespace selectors select
    /// on: updating or patching Namespaces, which have no namespace, so only
    /// cluster-wide.
    pub namespace_labels: bool,
}

impl Powers {
    pub const EVERYTHING: Powers = Powers {
        control: true,
        secrets: true,
        tokens: true,
        starts: true,
        labels: true,
        namespace_labels: true,
    };

    /// The powers of `rules` bound by a ClusterRoleBinding (`cluster_wide`) or a
    /// RoleBinding. A RoleBinding's rules apply only to requests in its namespace, so
    /// never to what has none: users, groups, nodes, ClusterRoles.
    pub fn of(rules: &[PolicyRule], cluster_wide: bool) -> Powers {
        if grants_itself_anything(rules, cluster_wide) {
            return Powers::EVERYTHING;
        }
        let starts = starts_pods(rules);
        // Rules limited to named Secrets read those alone (`named_secrets`).
        let secrets = starts
            || READS.iter().any(|verb| allows_every(rules, verb, "secrets"))
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
            // Any account's token, where no name limits the rule (`named_tokens`); an
            // impersonated account's groups come with it.
            tokens: TOKEN_GRANTS
                .iter()
                .any(|(verb, resource)| allows_every(rules, verb, resource)),
            // An ephemeral container's spec is its writer's, as a new pod's is; Pod
            // Security admission checks it alike.
            starts: starts
                || ["update", "patch"]
                    .iter()
                    .any(|verb| allows(rules, verb, "pods/ephemeralcontainers")),
            labels: starts
                || ["update", "patch"]
                    .iter()
                    .any(|verb| allows(rules, verb, "pods")),
            namespace_labels: cluster_wide
                && ["update", "patch"]
                    .iter()
                    .any(|verb| allows(rules, verb, "namespaces")),
        }
    }

    pub fn any(self) -> bool {
        self.control || self.secrets || self.tokens || self.labels || self.namespace_labels
    }

    /// What the flow's description says it grants.
    pub fn describe(self) -> String {
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
    // Approving a certificate signing request for the API server's client signer issues a
    // client certificate of any name, `system:masters` among its groups (RBAC good
    // practices, "CSRs and certificate issuing"). Creating the request and `approve` on
    // the signer are asked for too, and are not, as above. Requests have no namespace.
    let issues = cluster_wide
        && ["update", "patch"].iter().any(|verb| {
            allows_in(
                rules,
                verb,
                CERTIFICATES_GROUP,
                "certificatesigningrequests/approval",
            )
        });
    escalates || binds || impersonates || mutates || issues
}

const CERTIFICATES_GROUP: &str = "certificates.k8s.io";

const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";

/// Whether some rule lets its subject write admission webhook configurations of the kind
/// `resource`.
fn writes_webhooks(rules: &[PolicyRule], resource: &str) -> bool {
    ["create", "update", "patch"]
        .iter()
        .any(|verb| allows_in(rules, verb, ADMISSION_GROUP, resource))
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

/// A role's rules, with those of the ClusterRoles its aggregation selects, and of those
/// their own aggregation selects: Kubernetes' aggregation controller writes each
/// aggregated role's rules into it, so a role aggregated into one that is aggregated
/// in turn (`view` into `edit` into `admin`) reaches the last. Each role counts once, so
/// that a cycle of selectors ends.
pub fn rules_of<'o>(objects: &'o Objects, role: &'o Role) -> Vec<&'o PolicyRule> {
    let mut rules: Vec<&PolicyRule> = role.rules.iter().collect();
    let cluster_roles: Vec<&Role> = (objects.roles.iter())
        .filter(|r| r.namespace.is_none())
        .collect();
    let mut taken = vec![false; cluster_roles.len()];
    let mut selectors: Vec<&LabelSelector> = role.aggregation.iter().collect();
    while let Some(selector) = selectors.pop() {
        for (other, taken) in cluster_roles.iter().zip(&mut taken) {
            if !*taken && !std::ptr::eq(*other, role) && selector.matches(&other.labels) {
                *taken = true;
                rules.extend(other.rules.iter());
                selectors.extend(other.aggregation.iter());
            }
        }
    }
    rules
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
            resource_names: Vec::new(),
        }
    }

    #[test]
    fn rules_limited_to_named_secrets_read_those_alone() {
        let named = |verb: &str, names: &[&str]| PolicyRule {
            resource_names: names.iter().map(|n| (*n).to_owned()).collect(),
            ..rule("", "secrets", verb)
        };
        for verb in ["get", "list", "watch", "*"] {
            let rules = [named(verb, &["b", "a"]), named("get", &["a"])];
            assert!(!Powers::of(&rules, false).secrets, "{verb}");
            assert_eq!(named_secrets(&rules), ["a", "b"], "{verb}");
        }
        assert!(named_secrets(&[named("delete", &["a"])]).is_empty());
        // Tokens likewise, requested or impersonated.
        let token = |resource: &str, verb: &str| PolicyRule {
            resource_names: vec!["deployer".to_owned()],
            ..rule("", resource, verb)
        };
        for rules in [
            [token("serviceaccounts/token", "create")],
            [token("serviceaccounts", "impersonate")],
        ] {
            assert!(!Powers::of(&rules, false).tokens);
            assert_eq!(named_tokens(&rules), ["deployer"]);
        }
        assert!(named_tokens(&[token("serviceaccounts", "get")]).is_empty());
        // Beside a rule that reads every Secret, the store holds the named ones.
        let rules = [named("get", &["a"]), rule("", "secrets", "list")];
        assert!(Powers::of(&rules, false).secrets);
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
    fn starting_containers_of_ones_own_spec_is_told_apart_from_entering_pods() {
        for (group, resource, verb) in [
            ("", "pods", "create"),
            ("apps", "deployments", "patch"),
            ("", "pods/ephemeralcontainers", "update"),
            ("", "pods/ephemeralcontainers", "patch"),
        ] {
            let powers = Powers::of(&[rule(group, resource, verb)], false);
            assert!(powers.starts && powers.control, "{verb} {resource}");
        }
        for (resource, verb) in [("pods/exec", "create"), ("pods", "patch")] {
            let powers = Powers::of(&[rule("", resource, verb)], false);
            assert!(!powers.starts && powers.control, "{verb} {resource}");
        }
        // Labels are chosen by whoever starts a pod or updates it, not by entering it.
        for (group, resource, verb, labels) in [
            ("", "pods", "create", true),
            ("apps", "deployments", "patch", true),
            ("", "pods", "update", true),
            ("", "pods", "patch", true),
            ("", "pods/exec", "create", false),
            ("", "pods/ephemeralcontainers", "patch", false),
        ] {
            let powers = Powers::of(&[rule(group, resource, verb)], false);
            assert_eq!(powers.labels, labels, "{verb} {resource}");
        }
        // Namespaces have no namespace: only a ClusterRoleBinding relabels them.
        for verb in ["update", "patch"] {
            let rules = [rule("", "namespaces", verb)];
            assert!(Powers::of(&rules, true).namespace_labels, "{verb}");
            assert!(!Powers::of(&rules, false).namespace_labels, "{verb}");
        }
        assert!(!Powers::of(&[rule("", "namespaces", "get")], true).namespace_labels);
        let nodes_proxy = Powers::of(&[rule("", "nodes/proxy", "get")], true);
        assert!(!nodes_proxy.starts && nodes_proxy.control);
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

    #[test]
    fn approving_client_certificates_is_everything_cluster_wide() {
        let approval = |verb: &str, resource: &str, cluster_wide: bool| {
            Powers::of(&[rule(CERTIFICATES_GROUP, resource, verb)], cluster_wide)
        };
        for verb in ["update", "patch"] {
            let resource = "certificatesigningrequests/approval";
            assert_eq!(approval(verb, resource, true), Powers::EVERYTHING);
            assert!(!approval(verb, resource, false).any(), "{verb}");
        }
        assert_eq!(approval("*", "*", true), Powers::EVERYTHING);
        for (verb, resource) in [
            ("create", "certificatesigningrequests"),
            ("update", "certificatesigningrequests"),
            ("update", "certificatesigningrequests/status"),
            ("get", "certificatesigningrequests/approval"),
        ] {
            assert!(!approval(verb, resource, true).any(), "{verb} {resource}");
        }
        let core = Powers::of(
            &[rule("", "certificatesigningrequests/approval", "update")],
            true,
        );
        assert!(
            !core.any(),
            "the core API group has no certificate requests"
        );
    }
}
