//! Exposure through Ingress and OpenShift Route: each backend resolved through its
//! Service (selector, port, targetPort, named ports) to the workloads and container
//! ports behind it, as grants from the ingress controller. The controller is subject to
//! the target's ingress rules like any pod with no labels in a namespace with no labels,
//! as np-guard treats it. The real controller has labels and a namespace, which
//! policies admit it by; where a backend's policies admit pods that the inputs do not
//! hold and not the stand-in, the real controller may be among them (`Unadmitted`).

use std::collections::BTreeMap;

use super::classes::{Cluster, End, FlatRule, namespace_labels};
use super::netpol::{Grant, Located};
use super::objects::{Action, Backend, Labels, Peer, PortRef, Service, ServicePort, Workload};
use crate::port_set::PortSet;
use crate::ports::PortSpec;

/// A backend whose workloads the stand-in ingress controller reaches on no port, while
/// an allow rule that applies to them admits pods by label that the inputs do not hold:
/// the real controller may be one of those, and the path through it is then missed.
pub struct Unadmitted {
    /// An index into `Objects::backends`.
    pub backend: usize,
    /// Indices into `Objects::workloads`, in order.
    pub workloads: Vec<usize>,
}

/// Whether a Service port is the one a backend names. A Route names the target port
/// (by name or number); an Ingress names the Service's port.
fn names_port(backend: &Backend, port: &ServicePort) -> bool {
    match &backend.port {
        None => true,
        Some(PortRef::Number(number)) => {
            port.port == *number
                || (backend.from.starts_with("Route") && port.target == PortRef::Number(*number))
        }
        Some(PortRef::Name(name)) => {
            port.name.as_deref() == Some(name.as_str())
                || (backend.from.starts_with("Route") && port.target == PortRef::Name(name.clone()))
        }
    }
}

/// The container port a Service port sends to on `workload`, if it has it.
fn target_port(port: &ServicePort, workload: &Workload) -> Option<PortSpec> {
    let number = match &port.target {
        PortRef::Number(number) => *number,
        PortRef::Name(name) => {
            workload
                .ports
                .iter()
                .find(|c| c.name.as_deref() == Some(name.as_str()) && c.protocol == port.protocol)?
                .port
        }
    };
    Some(PortSpec {
        protocol: port.protocol,
        first: number,
        last: number,
    })
}

fn selects(service: &Service, workload: &Workload) -> bool {
    service.namespace == workload.namespace
        && service.selector.as_ref().is_some_and(|selector| {
            selector
                .iter()
                .all(|(k, v)| workload.labels.get(k) == Some(v))
        })
}

impl Cluster<'_> {
    /// Grants from the ingress controller for every backend of every Ingress and Route,
    /// and the backends whose workloads may admit the real controller but not the
    /// stand-in.
    pub fn ingress_grants(&self) -> (Vec<Grant>, Vec<Unadmitted>) {
        let mut grants = Vec::new();
        let mut unadmitted = Vec::new();
        let mut namespaces = None;
        for (backend_index, backend) in self.objects.backends.iter().enumerate() {
            let mut left_out = Vec::new();
            let Some(service) = self
                .objects
                .services
                .iter()
                .find(|s| s.namespace == backend.namespace && s.name == backend.service)
            else {
                continue;
            };
            for (index, workload) in self.objects.workloads.iter().enumerate() {
                if !selects(service, workload) {
                    continue;
                }
                let specs: Vec<PortSpec> = service
                    .ports
                    .iter()
                    .filter(|port| names_port(backend, port))
                    .filter_map(|port| target_port(port, workload))
                    .collect();
                let ports = PortSet::from_specs(specs);
                if ports.is_empty() {
                    continue;
                }
                let before = grants.len();
                let to = End::Workload(index);
                self.grants(End::IngressController, to, &ports, &mut grants);
                if grants.len() == before {
                    let namespaces =
                        namespaces.get_or_insert_with(|| namespace_labels(self.objects));
                    if self.admits_pods_not_in_the_inputs(index, namespaces) {
                        left_out.push(index);
                    }
                }
                // The Ingress path (or Route) is what exposes the workload; a witness
                // points there.
                for grant in &mut grants[before..] {
                    grant.at = Located::At(backend.at);
                }
            }
            if !left_out.is_empty() {
                unadmitted.push(Unadmitted {
                    backend: backend_index,
                    workloads: left_out,
                });
            }
        }
        (grants, unadmitted)
    }

    /// Whether an allow rule that applies to the ingress of `workload` admits pods by
    /// their labels or their namespace's and holds no workload of the inputs.
    fn admits_pods_not_in_the_inputs(
        &self,
        workload: usize,
        namespaces: &BTreeMap<String, Labels>,
    ) -> bool {
        let applying = &self.classes[self.class_of[workload]].ingress;
        let mut ids = (applying.admin.iter())
            .chain(applying.network.iter().flatten())
            .chain(&applying.baseline);
        ids.any(|&id| {
            let rule = &self.rules[id as usize];
            rule.action == Action::Allow
                && (rule.peers.into_iter().flatten())
                    .any(|peer| !self.holds_a_workload(rule, peer, namespaces))
        })
    }

    /// Whether `peer`, a peer of `rule`, holds a workload of the inputs; an address block
    /// counts as holding one, since no pod is among its addresses.
    fn holds_a_workload(
        &self,
        rule: &FlatRule,
        peer: &Peer,
        namespaces: &BTreeMap<String, Labels>,
    ) -> bool {
        let Peer::Pods {
            namespaces: selector,
            pods,
        } = peer
        else {
            return true;
        };
        self.objects.workloads.iter().any(|workload| {
            let namespace = match selector {
                None => workload.namespace == rule.namespace,
                Some(selector) => (namespaces.get(&workload.namespace))
                    .is_some_and(|labels| selector.matches(labels)),
            };
            namespace && pods.matches(&workload.labels)
        })
    }
}
