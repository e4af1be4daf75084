//! Policy evaluation: which connections the policies allow between classes of workloads
//! and external addresses. A connection needs egress allowed at its source and ingress
//! allowed at its target. In each direction, AdminNetworkPolicy rules are consulted first
//! (by priority, the first match deciding Allow, Deny or Pass), then NetworkPolicies
//! (which add up; a workload that none selects is open), and where those leave traffic
//! open or passed, the BaselineAdminNetworkPolicy. Each grant carries the rule that
//! allows it.

use super::candidates::Candidates;
use super::classes::{Applying, Class, Cluster, Direction, End};
use super::objects::{Action, PortRef, Pos, RulePort};
use crate::port_set::PortSet;
use crate::ports::{PortSpec, Protocol};

/// Connections allowed from one end to another, and where in the manifests they are
/// allowed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub from: End,
    pub to: End,
    pub ports: PortSet,
    pub at: Located,
}

/// Where a grant points, so that a witness points at the YAML to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Located {
    /// The rule that allows it (or the Ingress path, or the binding that lets a pod be
    /// started).
    At(Pos),
    /// No rule decides it: the declaration of each workload it reaches, or, where it
    /// leaves for addresses outside the cluster, of each workload it leaves. One grant
    /// between classes is then one flow per workload of the class.
    Declaration,
}

/// The connections that `rule`'s ports allow to `target`: named ports are looked up
/// among the target's container ports, so they allow nothing outside the cluster.
pub fn rule_ports(ports: Option<&[RulePort]>, target: Option<&Class>) -> PortSet {
    let Some(ports) = ports else {
        return PortSet::all();
    };
    let mut specs = Vec::new();
    for port in ports {
        match &port.port {
            None => specs.push(PortSpec {
                protocol: port.protocol,
                ..PortSpec::ANY
            }),
            Some(PortRef::Number(first)) => {
                let last = port.end_port.unwrap_or(*first).max(*first);
                specs.push(PortSpec {
                    protocol: port.protocol,
                    first: *first,
                    last,
                });
            }
            Some(PortRef::Name(name)) => {
                // An admin rule's named port has no protocol of its own (`any`).
                for container in target.map_or(&[][..], |class| &class.ports) {
                    if container.name.as_deref() == Some(name.as_str())
                        && (container.protocol == port.protocol || port.protocol == Protocol::Any)
                    {
                        specs.push(PortSpec {
                            protocol: container.protocol,
                            first: container.port,
                            last: container.port,
                        });
                    }
                }
            }
        }
    }
    PortSet::from_specs(specs)
}

impl Cluster<'_> {
    fn class(&self, end: End) -> Option<&Class> {
        match end {
            End::Class(class) => self.classes.get(class),
            End::Workload(index) => self.classes.get(*self.class_of.get(index)?),
            _ => None,
        }
    }

    /// The rules of `direction` that apply to `end`. External addresses and the ingress
    /// controller are subject to no policy; a started pod is never a target.
    fn applying(&self, end: End, direction: Direction) -> Option<&Applying> {
        if let End::Started(index) = end {
            return match direction {
                Direction::Egress => Some(&self.started[index].egress),
                Direction::Ingress => None,
            };
        }
        let class = self.class(end)?;
        Some(match direction {
            Direction::Ingress => &class.ingress,
            Direction::Egress => &class.egress,
        })
    }

    /// What one side's policies allow toward its peer, each part with the rule that
    /// allows it, or marked open (`true`) where no rule decides and traffic is allowed
    /// by default.
    fn side(
        &self,
        subject: End,
        peer: End,
        target: End,
        direction: Direction,
    ) -> Vec<(PortSet, Pos, bool)> {
        let open = || vec![(PortSet::all(), Pos::default(), true)];
        let Some(applying) = self.applying(subject, direction) else {
            return open();
        };
        // Most workloads are selected by nothing: no need to walk the tiers.
        if applying.admin.is_empty() && applying.network.is_none() && applying.baseline.is_empty() {
            return open();
        }
        let peer_of = self.peer_of(peer);
        let target = self.class(target);
        let matching = |ids: &[u32]| -> Vec<(Action, PortSet, Pos)> {
            ids.iter()
                .filter(|id| peer_of.binary_search(id).is_ok())
                .map(|&id| {
                    let rule = &self.rules[id as usize];
                    let ports = rule_ports(rule.ports, target).intersect(&PortSet::ported());
                    (rule.action, ports, rule.at)
                })
                .collect()
        };
        let mut out = Vec::new();
        let mut push = |ports: PortSet, at: Pos, open: bool| {
            if !ports.is_empty() {
                out.push((ports.widened(), at, open));
            }
        };
        // Admin rules: the first match decides each port; Pass hands it on.
        let mut undecided = PortSet::ported();
        let mut passed = PortSet::empty();
        for (action, ports, at) in matching(&applying.admin) {
            let decided = ports.intersect(&undecided);
            match action {
                Action::Allow => push(decided.clone(), at, false),
                Action::Pass => passed = passed.union(&decided),
                Action::Deny => {}
            }
            undecided = undecided.minus(&decided);
        }
        let left = undecided.union(&passed);
        if let Some(rules) = &applying.network {
            for (_, ports, at) in matching(rules) {
                push(ports.intersect(&left), at, false);
            }
            return out;
        }
        // Neither admin rules nor NetworkPolicies decided: the baseline, then open.
        let mut left = left;
        for (action, ports, at) in matching(&applying.baseline) {
            let decided = ports.intersect(&left);
            if action == Action::Allow {
                push(decided.clone(), at, false);
            }
            left = left.minus(&decided);
        }
        push(left, Pos::default(), true);
        out
    }

    /// What may go from `from` to `to`, as grants located at the rule that allows
    /// them: the target's ingress rule when it is isolated, else the source's egress
    /// rule, else (both open) the declaration of each target workload (`Located`).
    pub fn grants(&self, from: End, to: End, limit: &PortSet, out: &mut Vec<Grant>) {
        let egress = self.side(from, to, to, Direction::Egress);
        let ingress = self.side(to, from, to, Direction::Ingress);
        let allowed_out = egress
            .iter()
            .fold(PortSet::empty(), |all, (ports, _, _)| all.union(ports))
            .intersect(limit);
        if allowed_out.is_empty() {
            return;
        }
        // Open on both sides, a connection points at the target's declaration, or the
        // source's where it leaves the cluster (a started pod's, at the binding that
        // starts it).
        let open_at = match from {
            _ if self.class(to).or(self.class(from)).is_some() => Located::Declaration,
            End::Started(index) => Located::At(self.started[index].at),
            _ => Located::At(Pos::default()),
        };
        let mut push = |ports: PortSet, at: Located| {
            if !ports.is_empty() {
                out.push(Grant {
                    from,
                    to,
                    ports: ports.widened(),
                    at,
                });
            }
        };
        for (ports, at, open) in &ingress {
            if !open {
                push(ports.intersect(&allowed_out), Located::At(*at));
                continue;
            }
            for (egress_ports, egress_at, egress_open) in &egress {
                let at = if *egress_open {
                    open_at
                } else {
                    Located::At(*egress_at)
                };
                push(ports.intersect(egress_ports).intersect(limit), at);
            }
        }
    }

    /// Every grant between classes and external addresses.
    pub fn network_grants(&self) -> Vec<Grant> {
        let mut grants = Vec::new();
        let all = PortSet::all();
        // Only pairs that both sides' rules may allow: the rest grant nothing.
        let candidates = Candidates::new(self);
        let mut targets = Vec::new();
        for class in 0..self.classes.len() {
            let from = End::Class(class);
            candidates.targets(self, class, &mut targets);
            for &to in &targets {
                let to = End::Class(to);
                // A class of one workload has no pair of distinct members.
                if from == to && self.classes_len(from) < 2 {
                    continue;
                }
                self.grants(from, to, &all, &mut grants);
            }
            for region in 0..self.external.len() {
                self.grants(from, End::External(region), &all, &mut grants);
                self.grants(End::External(region), from, &all, &mut grants);
            }
        }
        // A started pod goes out only: no one connects to a pod before its starter has
        // it, and the starter controls it through the API server anyway.
        for started in 0..self.started.len() {
            let from = End::Started(started);
            for class in 0..self.classes.len() {
                self.grants(from, End::Class(class), &all, &mut grants);
            }
            for region in 0..self.external.len() {
                self.grants(from, End::External(region), &all, &mut grants);
            }
        }
        grants
    }

    /// The workloads an end stands for: a class's members, or one workload; none for
    /// the ends outside the cluster.
    pub fn members(&self, end: End) -> Vec<usize> {
        match end {
            End::Class(class) => {
                (self.classes.get(class)).map_or(Vec::new(), |c| c.members.clone())
            }
            End::Workload(index) => vec![index],
            _ => Vec::new(),
        }
    }

    fn classes_len(&self, end: End) -> usize {
        self.class(end).map_or(0, |class| class.members.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::kubernetes::classes::Applying;
    use crate::import::kubernetes::objects::ContainerPort;

    fn class(ports: Vec<ContainerPort>) -> Class {
        Class {
            members: vec![0],
            ingress: Applying::default(),
            egress: Applying::default(),
            peer_of: Vec::new(),
            ports,
        }
    }

    fn show(set: &PortSet) -> Vec<String> {
        set.specs().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn rule_ports_resolve_names_ranges_and_defaults() {
        let target = class(vec![
            ContainerPort {
                name: Some("http".into()),
                port: 8080,
                protocol: Protocol::Tcp,
            },
            ContainerPort {
                name: Some("dns".into()),
                port: 53,
                protocol: Protocol::Udp,
            },
        ]);
        assert!(rule_ports(None, Some(&target)).is_all());
        let ports = [
            RulePort {
                protocol: Protocol::Tcp,
                port: Some(PortRef::Name("http".into())),
                end_port: None,
            },
            // A name on the wrong protocol matches nothing.
            RulePort {
                protocol: Protocol::Tcp,
                port: Some(PortRef::Name("dns".into())),
                end_port: None,
            },
            RulePort {
                protocol: Protocol::Sctp,
                port: Some(PortRef::Number(9000)),
                end_port: Some(9010),
            },
            RulePort {
                protocol: Protocol::Udp,
                port: None,
                end_port: None,
            },
        ];
        assert_eq!(
            show(&rule_ports(Some(&ports), Some(&target))),
            ["tcp/8080", "udp", "sctp/9000-9010"]
        );
        // Outside the cluster, a named port names nothing.
        assert_eq!(
            show(&rule_ports(Some(&ports[..1]), None)),
            Vec::<String>::new()
        );
        // An admin rule's named port takes the container port's own protocol.
        let any = [RulePort {
            protocol: Protocol::Any,
            port: Some(PortRef::Name("dns".into())),
            end_port: None,
        }];
        assert_eq!(show(&rule_ports(Some(&any), Some(&target))), ["udp/53"]);
    }
}
