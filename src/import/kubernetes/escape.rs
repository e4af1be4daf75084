//! Escapes to the node: which pod specs let their containers take over the node that runs
//! them, and the asset `kubernetes:nodes` that stands for every node of the cluster. The
//! inputs do not say which node runs which pod, so taking over a node counts as
//! controlling every workload of the cluster, which over-approximates. A pod escapes
//! where the Pod Security Standard `baseline` forbids its spec as a known privilege
//! escalation to the host (the container escapes of KubeHound's attack reference and of
//! Bishop Fox's "Bad Pods"):
//! - a privileged container: every device and capability of the host, so it mounts the
//!   host's disk or loads a kernel module;
//! - `hostPID`: the host's processes, which a root process enters or traces (`nsenter`
//!   with the capabilities it needs, or `SYS_PTRACE`) and whose command lines and
//!   environments it reads; counted whatever the container's capabilities;
//! - a `hostPath` volume, whatever its path and even read-only: a read-only mount still
//!   reads the tokens and Secrets of the node's pods and still connects to a socket such
//!   as the container runtime's, and a path cordon cannot see into may hold either;
//! - an added capability beyond those that container runtimes grant by default (the
//!   baseline's list, and `NET_RAW`): `SYS_ADMIN` mounts the host's filesystems,
//!   `SYS_MODULE` loads kernel modules, `SYS_PTRACE` traces the host's processes beside
//!   `hostPID`, `DAC_READ_SEARCH` opens any file of the host; the rest count too, as the
//!   baseline forbids them all;
//! - a Windows HostProcess pod or container, which runs as a process of the host.
//!
//! `hostNetwork` and `hostIPC` alone are no escape: they reach the node's local services
//! and shared memory, not its processes or files, so they are not counted.
//! A workload that can escape gets a flow to the nodes, at the first field that lets it;
//! the nodes get one flow to every workload. RBAC reaches the nodes too (`identity.rs`),
//! where it starts containers in a namespace that Pod Security admission does not hold
//! to `baseline` (`enforced`).

use super::node::Node;
use super::objects::{Objects, Pos};
use super::{Emitter, FlowSpec, workload_name};
use crate::raw::At;

/// The asset that stands for every node of the cluster. No namespace, workload or
/// hand-written name has a `:`, so none can take it.
pub const NODES: &str = "kubernetes:nodes";

/// The capabilities that container runtimes grant every container: the Pod Security
/// Standard `baseline` allows adding these, and `NET_RAW`, which Docker and containerd
/// grant by default too.
const RUNTIME_DEFAULTS: [&str; 14] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The label with which a namespace asks Pod Security admission to enforce a level.
const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Whether Pod Security admission refuses pods that can escape in `namespace`: its
/// Namespace object enforces `baseline` or `restricted`. Any other value, or no label,
/// or no Namespace object in the inputs, counts as open; Kubernetes reads a value it
/// does not know as `restricted`, which cordon does not rely on. Exemptions that the
/// admission configuration may grant are not in the inputs.
pub fn enforced(objects: &Objects, namespace: &str) -> bool {
    objects
        .namespaces
        .iter()
        .find(|n| n.name == namespace)
        .and_then(|n| n.labels.get(ENFORCE))
        .is_some_and(|level| level == "baseline" || level == "restricted")
}

/// A field of a pod's spec that lets its containers take over their node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escape {
    /// The field as a message names it: `` `hostPID` ``, `` capability `SYS_ADMIN` ``.
    pub what: String,
    /// Where it is written.
    pub at: Pos,
}

impl Escape {
    /// The first field of `pod_spec` that lets its containers escape, by position (`pos`
    /// locates a value).
    pub fn of(pod_spec: &At<Node>, pos: impl Fn(&At<Node>) -> Pos) -> Option<Escape> {
        let mut found: Vec<(&At<Node>, String)> = Vec::new();
        if let Some(flag) = pod_spec.value.get("hostPID")
            && is_set(&flag.value)
        {
            found.push((flag, "`hostPID`".to_owned()));
        }
        if let Some(flag) = host_process(pod_spec.value.get("securityContext")) {
            found.push((flag, "a HostProcess pod".to_owned()));
        }
        for volume in pod_spec
            .value
            .get("volumes")
            .map_or(&[][..], |v| v.value.as_seq())
        {
            if let Some(host_path) = volume.value.get("hostPath")
                && !host_path.value.is_null()
            {
                let path = host_path
                    .value
                    .get("path")
                    .and_then(|p| p.value.scalar_text())
                    .unwrap_or_default();
                found.push((host_path, format!("`hostPath` volume `{path}`")));
            }
        }
        for field in ["containers", "initContainers", "ephemeralContainers"] {
            for container in pod_spec
                .value
                .get(field)
                .map_or(&[][..], |c| c.value.as_seq())
            {
                let context = container.value.get("securityContext");
                let name = container
                    .value
                    .get("name")
                    .and_then(|n| n.value.scalar_text())
                    .unwrap_or_default();
                if let Some(flag) = context.and_then(|c| c.value.get("privileged"))
                    && is_set(&flag.value)
                {
                    found.push((flag, format!("privileged container `{name}`")));
                }
                if let Some(flag) = host_process(context) {
                    found.push((flag, format!("HostProcess container `{name}`")));
                }
                for capability in context
                    .and_then(|c| c.value.get("capabilities"))
                    .and_then(|c| c.value.get("add"))
                    .map_or(&[][..], |add| add.value.as_seq())
                {
                    if let Some(text) = capability.value.scalar_text()
                        && escapes_with(&text)
                    {
                        found.push((capability, format!("capability `{text}`")));
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|(node, what)| Escape {
                what,
                at: pos(node),
            })
            .min_by_key(|escape| escape.at)
    }
}

/// A security context's `windowsOptions.hostProcess`, when set.
fn host_process(context: Option<&At<Node>>) -> Option<&At<Node>> {
    context
        .and_then(|c| c.value.get("windowsOptions"))
        .and_then(|w| w.value.get("hostProcess"))
        .filter(|flag| is_set(&flag.value))
}

/// Whether a boolean field is set, as Kubernetes reads it ([`Node::as_bool`]).
fn is_set(value: &Node) -> bool {
    value.as_bool() == Some(true)
}

/// Whether adding `capability` lets a container escape: any beyond the runtime's
/// defaults, `ALL` included. Runtimes read names without `CAP_` and in any case.
fn escapes_with(capability: &str) -> bool {
    let name = capability.trim().to_ascii_uppercase();
    let name = name.strip_prefix("CAP_").unwrap_or(&name);
    !RUNTIME_DEFAULTS.contains(&name)
}

impl Emitter {
    /// Records that something at `pos` reaches the nodes: they are declared at the first
    /// such place.
    pub(super) fn reach_nodes(&mut self, pos: Pos) {
        self.nodes = Some(self.nodes.map_or(pos, |at| at.min(pos)));
    }

    /// Emits each escape as a flow to the nodes, and the nodes, with their flow to every
    /// workload, once anything reaches them.
    pub(super) fn nodes(&mut self, objects: &Objects) {
        let nodes = self.scoped(NODES);
        for workload in &objects.workloads {
            let Some(escape) = &workload.escape else {
                continue;
            };
            self.reach_nodes(escape.at);
            let spec = FlowSpec {
                from: vec![self.scoped(&workload_name(workload))].into(),
                to: vec![nodes.clone()].into(),
                kind: Some("kubernetes-escape".to_owned()),
                description: Some(format!("{} lets the pod take over its node", escape.what)),
                ..FlowSpec::default()
            };
            self.push_flow(escape.at, spec);
        }
        let Some(first) = self.nodes else {
            return;
        };
        self.push_asset(nodes.clone(), "the cluster's nodes".to_owned(), first);
        let every_workload: Vec<String> = self
            .per_namespace
            .keys()
            .map(|namespace| self.scoped(namespace))
            .collect();
        if every_workload.is_empty() {
            return;
        }
        let spec = FlowSpec {
            from: vec![nodes].into(),
            to: every_workload.into(),
            kind: Some("kubernetes-node".to_owned()),
            description: Some(
                "a node runs any pod of the cluster: the inputs do not say which".to_owned(),
            ),
            ..FlowSpec::default()
        };
        self.push_flow(first, spec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_escape_beyond_the_runtimes_defaults_whatever_their_spelling() {
        for capability in [
            "SYS_ADMIN",
            "CAP_SYS_PTRACE",
            "sys_module",
            "ALL",
            "NET_ADMIN",
        ] {
            assert!(escapes_with(capability), "{capability}");
        }
        for capability in ["NET_BIND_SERVICE", "CAP_CHOWN", "net_raw", "SYS_CHROOT"] {
            assert!(!escapes_with(capability), "{capability}");
        }
    }

    #[test]
    fn booleans_are_read_as_yaml_1_1_reads_them() {
        for text in ["true", "yes", "On", "y"] {
            assert!(is_set(&Node::Str(text.to_owned())), "{text}");
        }
        for text in ["false", "no", "off", "n", ""] {
            assert!(!is_set(&Node::Str(text.to_owned())), "{text}");
        }
        for text in ["False", "NO", "off", "n"] {
            assert_eq!(Node::Str(text.to_owned()).as_bool(), Some(false), "{text}");
        }
        assert_eq!(Node::Str(String::new()).as_bool(), None);
        assert!(is_set(&Node::Bool(true)));
        assert!(!is_set(&Node::Number("1".to_owned())));
    }
}
