//! The ClusterRoles that every cluster has, whether or not the inputs declare them:
//! `cluster-admin`, and the user-facing `admin`, `edit` and `view`, which the API server
//! creates at start-up from its bootstrap policy. Bindings name them without the inputs
//! holding them, so leaving them out would miss real paths. `admin`, `edit` and `view`
//! are aggregated roles: their rules are those of `system:aggregate-to-admin`,
//! `system:aggregate-to-edit` and `system:aggregate-to-view` (built in here too), and of
//! every ClusterRole labelled like them, as Kubernetes' aggregation controller gathers
//! them (`edit` is labelled into `admin`, `view` into `edit`). The rules are those of
//! Kubernetes' bootstrap policy as `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
//! testdata/cluster-roles.yaml` lists them; rules on non-resource URLs are left out,
//! since they grant nothing cordon models. A ClusterRole of the same name in the inputs
//! takes the built-in one's place.

use super::objects::{Labels, Objects, PolicyRule, Role};
use super::selectors::LabelSelector;

/// The label that every role of the bootstrap policy carries.
const BOOTSTRAPPING: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

const TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// One rule: API groups, resources and verbs.
type Rule = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// A built-in ClusterRole.
struct Builtin {
    name: &'static str,
    /// The aggregation label it carries, which puts its rules into another role.
    aggregated_into: Option<&'static str>,
    /// The aggregation label whose roles' rules it gathers.
    aggregates: Option<&'static str>,
    rules: &'static [Rule],
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const EVERY: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const BUILTINS: [Builtin; 7] = [
    Builtin {
        name: "cluster-admin",
        aggregated_into: None,
        aggregates: None,
        rules: &[(&["*"], &["*"], &["*"])],
    },
    Builtin {
        name: "admin",
        aggregated_into: None,
        aggregates: Some(TO_ADMIN),
        rules: &[],
    },
    Builtin {
        name: "edit",
        aggregated_into: Some(TO_ADMIN),
        aggregates: Some(TO_EDIT),
        rules: &[],
    },
    Builtin {
        name: "view",
        aggregated_into: Some(TO_EDIT),
        aggregates: Some(TO_VIEW),
        rules: &[],
    },
    Builtin {
        name: "system:aggregate-to-admin",
        aggregated_into: Some(TO_ADMIN),
        aggregates: None,
        rules: &[
            (
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews"],
                &["create"],
            ),
            (
                &["rbac.authorization.k8s.io"],
                &["rolebindings", "roles"],
                EVERY,
            ),
        ],
    },
    Builtin {
        name: "system:aggregate-to-edit",
        aggregated_into: Some(TO_EDIT),
        aggregates: None,
        rules: &[
            (
                &[""],
                &[
                    "pods/attach",
                    "pods/exec",
                    "pods/portforward",
                    "pods/proxy",
                    "secrets",
                    "services/proxy",
                ],
                READ,
            ),
            (&[""], &["serviceaccounts"], &["impersonate"]),
            (
                &[""],
                &[
                    "pods",
                    "pods/attach",
                    "pods/exec",
                    "pods/portforward",
                    "pods/proxy",
                ],
                WRITE,
            ),
            (&[""], &["pods/eviction"], &["create"]),
            (
                &[""],
                &[
                    "configmaps",
                    "events",
                    "persistentvolumeclaims",
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "secrets",
                    "serviceaccounts",
                    "services",
                    "services/proxy",
                ],
                WRITE,
            ),
            (&[""], &["serviceaccounts/token"], &["create"]),
            (
                &["apps"],
                &[
                    "daemonsets",
                    "deployments",
                    "deployments/rollback",
                    "deployments/scale",
                    "replicasets",
                    "replicasets/scale",
                    "statefulsets",
                    "statefulsets/scale",
                ],
                WRITE,
            ),
            (&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
            (&["batch"], &["cronjobs", "jobs"], WRITE),
            (
                &["extensions"],
                &[
                    "daemonsets",
                    "deployments",
                    "deployments/rollback",
                    "deployments/scale",
                    "ingresses",
                    "networkpolicies",
                    "replicasets",
                    "replicasets/scale",
                    "replicationcontrollers/scale",
                ],
                WRITE,
            ),
            (&["policy"], &["poddisruptionbudgets"], WRITE),
            (
                &["networking.k8s.io"],
                &["ingresses", "networkpolicies"],
                WRITE,
            ),
            (&["coordination.k8s.io"], &["leases"], EVERY),
        ],
    },
    Builtin {
        name: "system:aggregate-to-view",
        aggregated_into: Some(TO_VIEW),
        aggregates: None,
        rules: &[
            (
                &[""],
                &[
                    "configmaps",
                    "endpoints",
                    "persistentvolumeclaims",
                    "persistentvolumeclaims/status",
                    "pods",
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "serviceaccounts",
                    "services",
                    "services/status",
                ],
                READ,
            ),
            (
                &[""],
                &[
                    "bindings",
                    "events",
                    "limitranges",
                    "namespaces/status",
                    "pods/log",
                    "pods/status",
                    "replicationcontrollers/status",
                    "resourcequotas",
                    "resourcequotas/status",
                ],
                READ,
            ),
            (&[""], &["namespaces"], READ),
            (&["discovery.k8s.io"], &["endpointslices"], READ),
            (
                &["apps"],
                &[
                    "controllerrevisions",
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                    "statefulsets",
                    "statefulsets/scale",
                    "statefulsets/status",
                ],
                READ,
            ),
            (
                &["autoscaling"],
                &[
                    "horizontalpodautoscalers",
                    "horizontalpodautoscalers/status",
                ],
                READ,
            ),
            (
                &["batch"],
                &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
                READ,
            ),
            (
                &["extensions"],
                &[
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "ingresses",
                    "ingresses/status",
                    "networkpolicies",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                    "replicationcontrollers/scale",
                ],
                READ,
            ),
            (
                &["policy"],
                &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                READ,
            ),
            (
                &["networking.k8s.io"],
                &["ingresses", "ingresses/status", "networkpolicies"],
                READ,
            ),
        ],
    },
];

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|item| (*item).to_owned()).collect()
}

impl Builtin {
    fn role(&self) -> Role {
        let mut labels = Labels::from([(BOOTSTRAPPING.0.to_owned(), BOOTSTRAPPING.1.to_owned())]);
        if let Some(label) = self.aggregated_into {
            labels.insert(label.to_owned(), "true".to_owned());
        }
        let aggregation = self
            .aggregates
            .map(|label| LabelSelector {
                match_labels: vec![(label.to_owned(), "true".to_owned())],
                ..LabelSelector::default()
            })
            .into_iter()
            .collect();
        Role {
            namespace: None,
            name: self.name.to_owned(),
            labels,
            rules: (self.rules.iter())
                .map(|(groups, resources, verbs)| PolicyRule {
                    api_groups: strings(groups),
                    resources: strings(resources),
                    verbs: strings(verbs),
                    resource_names: Vec::new(),
                })
                .collect(),
            aggregation,
        }
    }
}

/// Adds each built-in ClusterRole that the inputs do not declare.
pub fn add_missing(objects: &mut Objects) {
    for builtin in &BUILTINS {
        let declared = (objects.roles.iter())
            .any(|role| role.namespace.is_none() && role.name == builtin.name);
        if !declared {
            objects.roles.push(builtin.role());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::kubernetes::rbac::{Powers, rules_of};

    /// The powers of the ClusterRole `name` bound in a namespace, or cluster-wide.
    fn powers(objects: &Objects, name: &str, cluster_wide: bool) -> Powers {
        let role = (objects.roles.iter())
            .find(|role| role.name == name)
            .unwrap();
        let rules: Vec<PolicyRule> = rules_of(objects, role).into_iter().cloned().collect();
        Powers::of(&rules, cluster_wide)
    }

    #[test]
    fn the_built_in_roles_grant_what_every_cluster_grants() {
        let mut objects = Objects::default();
        add_missing(&mut objects);
        assert_eq!(powers(&objects, "cluster-admin", true), Powers::EVERYTHING);
        assert_eq!(powers(&objects, "cluster-admin", false), Powers::EVERYTHING);
        // `edit` runs code in pods, starts them, reads Secrets and takes tokens; `admin`
        // gathers `edit` and adds writing Roles and RoleBindings, which without
        // `escalate` or `bind` grants nothing more.
        let edit = Powers {
            control: true,
            secrets: true,
            tokens: true,
            starts: true,
            labels: true,
            namespace_labels: false,
        };
        for name in ["edit", "admin"] {
            assert_eq!(powers(&objects, name, false), edit, "{name}");
            assert_eq!(powers(&objects, name, true), edit, "{name}");
        }
        // `view` reads no Secret and enters no pod.
        assert!(!powers(&objects, "view", true).any());
    }

    #[test]
    fn a_declared_cluster_role_takes_the_built_in_ones_place() {
        let mut objects = Objects::default();
        objects.roles.push(Role {
            namespace: None,
            name: "edit".to_owned(),
            labels: Labels::new(),
            rules: Vec::new(),
            aggregation: Vec::new(),
        });
        // A Role of a namespace is no ClusterRole: the built-in `view` stays.
        objects.roles.push(Role {
            namespace: Some("shop".to_owned()),
            name: "view".to_owned(),
            labels: Labels::new(),
            rules: Vec::new(),
            aggregation: Vec::new(),
        });
        add_missing(&mut objects);
        let named = |name: &str| (objects.roles.iter()).filter(|r| r.name == name).count();
        assert_eq!(named("edit"), 1);
        assert_eq!(named("view"), 2);
        assert!(!powers(&objects, "edit", false).any());
        // `admin` no longer gathers `edit`'s rules, which the declared one lacks.
        assert!(!powers(&objects, "admin", false).control);
    }
}
