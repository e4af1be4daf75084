//! Exposure through Ingress and OpenShift Route: each backend resolved through its
//! Service (selector, port, targetPort, named ports) to the workloads and container
//! ports behind it, as grants from the ingress controller. The controller is subject to
//! the target's ingress rules like any pod with no labels in a namespace with no labels.

use super::classes::{Cluster, End};
use super::netpol::Grant;
use super::objects::{Backend, PortRef, Service, ServicePort, Workload};
use crate::port_set::PortSet;
use crate::ports::PortSpec;

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
    /// Grants from the ingress controller for every backend of every Ingress and Route.
    pub fn ingress_grants(&self) -> Vec<Grant> {
        let mut grants = Vec::new();
        for backend in &self.objects.backends {
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
                // The Ingress path (or Route) is what exposes the workload; a witness
                // points there.
                for grant in &mut grants[before..] {
                    grant.at = backend.at;
                }
            }
        }
        grants
    }
}
