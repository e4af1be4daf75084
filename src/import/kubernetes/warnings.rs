//! What Kubernetes accepts but that allows nothing, reported as warnings rather than
//! errors: a rule's named port that no container declares, a binding to a role that is
//! neither in the inputs nor built in (`bootstrap.rs`), an Ingress or Route backend whose
//! Service is not; a workload on its node's network, which NetworkPolicies may not
//! govern as the model assumes; and a backend whose policies may admit the real ingress
//! controller but not its stand-in (`ingress::Unadmitted`), where a path may be missed;
//! a binding to accounts of a namespace that no input is in, where the manifests may
//! be meant for `kubectl apply -n`; and a Kustomization, which cordon does not apply.

use std::collections::BTreeSet;

use super::ingress::Unadmitted;
use super::objects::{Objects, PortRef, Pos, RulePort, Subject};
use super::{Manifest, diagnostic_at as at, place, workload_name};
use crate::diagnostic::{Diagnostic, Problem};

pub fn check(
    objects: &Objects,
    unadmitted: &[Unadmitted],
    manifests: &[Manifest],
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let names: BTreeSet<&str> = objects
        .workloads
        .iter()
        .flat_map(|w| w.ports.iter().filter_map(|p| p.name.as_deref()))
        .collect();
    let mut named = |ports: Option<&[RulePort]>, pos: Pos| {
        for port in ports.into_iter().flatten() {
            if let Some(PortRef::Name(name)) = &port.port
                && !names.contains(name.as_str())
            {
                let problem = Problem::NamedPortNowhere { name: name.clone() };
                warnings.push(at(manifests, pos, problem));
            }
        }
    };
    for policy in &objects.policies {
        for rule in policy.ingress.iter().chain(&policy.egress).flatten() {
            named(rule.ports.as_deref(), rule.at);
        }
    }
    for policy in &objects.admin {
        for rule in policy.ingress.iter().chain(&policy.egress) {
            named(rule.ports.as_deref(), rule.at);
        }
    }
    for binding in &objects.bindings {
        if objects.role_of(binding).is_none() {
            let what = if binding.role_kind == "Role" {
                "role"
            } else {
                "cluster role"
            };
            let problem = Problem::MissingReference {
                what,
                name: binding.role.clone(),
            };
            warnings.push(at(manifests, binding.at, problem));
        }
    }
    // Kubernetes leaves NetworkPolicy undefined for `hostNetwork` pods, and most network
    // plugins see their traffic as the node's, which no policy blocks from the node's own
    // pods. cordon applies the policies as to any pod, as np-guard does; the warning says
    // where that may be too kind.
    // Pods that fold into one workload warn once, at the first.
    let mut warned = BTreeSet::new();
    for workload in &objects.workloads {
        if let Some(pos) = workload.host_network
            && warned.insert(workload_name(workload))
        {
            let problem = Problem::HostNetwork {
                workload: workload_name(workload),
            };
            warnings.push(at(manifests, pos, problem).with_help(Some(
                "network plugins often ignore NetworkPolicies for such pods and always allow traffic from a pod's own node; drop `hostNetwork` or check the plugin's behaviour".to_owned(),
            )));
        }
    }
    for backend in &objects.backends {
        let exists = objects
            .services
            .iter()
            .any(|s| s.namespace == backend.namespace && s.name == backend.service);
        if !exists {
            let problem = Problem::MissingReference {
                what: "service",
                name: format!("{}/{}", backend.namespace, backend.service),
            };
            warnings.push(at(manifests, backend.at, problem));
        }
    }
    for left_out in unadmitted {
        let Some(backend) = objects.backends.get(left_out.backend) else {
            continue;
        };
        let workloads: Vec<String> = (left_out.workloads.iter())
            .filter_map(|&index| objects.workloads.get(index))
            .map(|workload| format!("`{}`", workload_name(workload)))
            .collect();
        let problem = Problem::ControllerNotAdmitted {
            workloads: workloads.join(", "),
            from: backend.from.clone(),
        };
        warnings.push(at(manifests, backend.at, problem).with_help(Some(
            "the ingress controller's manifests are not in the inputs, so cordon stands in a pod with no labels in a namespace with no labels for it; add the controller's manifests (its Namespace and Deployment) so that the policies meet the real one".to_owned(),
        )));
    }
    // A Kustomization may set namespaces, prefix names, patch or drop objects: what the
    // cluster is given is what it renders, not the files as written.
    for &pos in &objects.kustomizations {
        warnings.push(at(manifests, pos, Problem::KustomizationNotApplied).with_help(Some(
            "check what `kubectl kustomize DIR` renders instead, or leave the Kustomization's folder out in `.cordonignore`".to_owned(),
        )));
    }
    warnings.extend(absent_namespaces(objects, manifests));
    warnings
}

/// Bindings whose service accounts are in a namespace that nothing in the inputs is in,
/// while some objects named no namespace. Such a bundle (argo-cd's `install.yaml`) is
/// applied with `kubectl apply -n NAMESPACE`, which puts its objects where its bindings
/// expect them; read into `default`, its workloads would hold none of the permissions.
fn absent_namespaces(objects: &Objects, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let Some((first, given)) = &objects.unnamespaced else {
        return Vec::new();
    };
    let present = objects.namespace_names();
    let mut warnings = Vec::new();
    for binding in &objects.bindings {
        let mut warned = BTreeSet::new();
        for subject in &binding.subjects {
            let (subject, namespace) = match subject {
                Subject::Account(namespace, name) => {
                    (format!("service account `{namespace}/{name}`"), namespace)
                }
                Subject::Namespace(namespace) => (
                    format!("group `system:serviceaccounts:{namespace}`"),
                    namespace,
                ),
                Subject::Every | Subject::Anonymous => continue,
            };
            if present.contains(namespace) || !warned.insert(namespace) {
                continue;
            }
            let problem = Problem::SubjectNamespaceAbsent {
                subject,
                namespace: namespace.clone(),
            };
            warnings.push(at(manifests, binding.at, problem).with_help(Some(format!(
                "objects that name no namespace were read into `{given}` (the first at {}); if these manifests are applied with `kubectl apply -n {namespace}`, import them with `imports: [{{kubernetes: PATH, in: ENTITY, namespace: {namespace}}}]`",
                place(manifests, *first),
            ))));
        }
    }
    warnings
}
