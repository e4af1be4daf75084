//! NetworkPolicy evaluation: which connections the policies allow between classes of
//! workloads and external addresses. A connection needs egress allowed at its source and
//! ingress allowed at its target; a workload that no policy selects in a direction is
//! open in it; policies add up. Each grant carries the rule that allows it.

use super::classes::{Class, Cluster, Direction, End};
use super::objects::{PortRef, Pos, RulePort};
use crate::port_set::PortSet;
use crate::ports::PortSpec;

/// Connections allowed from one end to another, and the manifest line that allows them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub from: End,
    pub to: End,
    pub ports: PortSet,
    pub at: Pos,
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
                for container in target.map_or(&[][..], |class| &class.ports) {
                    if container.name.as_deref() == Some(name.as_str())
                        && container.protocol == port.protocol
                    {
                        specs.push(PortSpec {
                            protocol: port.protocol,
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

    /// Rules of `direction` that apply to `end`; `None` when it is open that way.
    /// External addresses and the ingress controller are never isolated.
    fn applying(&self, end: End, direction: Direction) -> Option<&[u32]> {
        let class = self.class(end)?;
        match direction {
            Direction::Ingress => class.ingress.as_deref(),
            Direction::Egress => class.egress.as_deref(),
        }
    }

    /// What the rules of one side allow toward the other, rule by rule; `None` when
    /// that side is open.
    fn side(
        &self,
        subject: End,
        peer: End,
        target: End,
        direction: Direction,
    ) -> Option<Vec<(PortSet, Pos)>> {
        let rules = self.applying(subject, direction)?;
        let peer_of = self.peer_of(peer);
        let target = self.class(target);
        Some(
            rules
                .iter()
                .filter(|id| peer_of.binary_search(id).is_ok())
                .map(|&id| {
                    let rule = &self.rules[id as usize].rule;
                    (rule_ports(rule.ports.as_deref(), target), rule.at)
                })
                .filter(|(ports, _)| !ports.is_empty())
                .collect(),
        )
    }

    /// What may go from `from` to `to`, as grants located at the rule that allows
    /// them: the target's ingress rule when it is isolated, else the source's egress
    /// rule, else (both open) the target's declaration.
    pub fn grants(&self, from: End, to: End, limit: &PortSet, out: &mut Vec<Grant>) {
        let egress = self.side(from, to, to, Direction::Egress);
        let ingress = self.side(to, from, to, Direction::Ingress);
        let allowed_out = match &egress {
            None => limit.clone(),
            Some(rules) => rules
                .iter()
                .fold(PortSet::empty(), |all, (ports, _)| all.union(ports))
                .intersect(limit),
        };
        if allowed_out.is_empty() {
            return;
        }
        let mut push = |ports: PortSet, at: Pos| {
            if !ports.is_empty() {
                out.push(Grant {
                    from,
                    to,
                    ports,
                    at,
                });
            }
        };
        match (ingress, egress) {
            (Some(rules), _) => {
                for (ports, at) in rules {
                    push(ports.intersect(&allowed_out), at);
                }
            }
            (None, Some(rules)) => {
                for (ports, at) in rules {
                    push(ports.intersect(limit), at);
                }
            }
            (None, None) => {
                let at = match self.class(to).or(self.class(from)) {
                    Some(class) => class.at,
                    None => Pos::default(),
                };
                push(limit.clone(), at);
            }
        }
    }

    /// Every grant between classes and external addresses.
    pub fn network_grants(&self) -> Vec<Grant> {
        let mut grants = Vec::new();
        let all = PortSet::all();
        let classes: Vec<End> = (0..self.classes.len()).map(End::Class).collect();
        for &from in &classes {
            for &to in &classes {
                // A class of one workload has no pair of distinct members.
                if from == to && self.classes_len(from) < 2 {
                    continue;
                }
                self.grants(from, to, &all, &mut grants);
            }
            self.grants(from, End::External, &all, &mut grants);
            self.grants(End::External, from, &all, &mut grants);
        }
        grants
    }

    fn classes_len(&self, end: End) -> usize {
        self.class(end).map_or(0, |class| class.members.len())
    }
}
