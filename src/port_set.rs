//! `PortSet`: a set of connections (protocols and port ranges) kept in one normal form,
//! with union and intersection. `connections` reports the union of a pair's flows with
//! it, and the Kubernetes importer intersects what egress and ingress rules allow.

use crate::ports::{PortSpec, Protocol};

/// The protocols that carry ports, in the order a set lists them.
const PORTED: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

/// A set of connections. Normal form: `[any]` when everything is allowed; otherwise
/// specs sorted by protocol then port, with ranges of one protocol disjoint and not
/// adjacent, and no ranged spec of a protocol that is also present whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSet {
    specs: Vec<PortSpec>,
}

impl PortSet {
    /// Every connection.
    pub fn all() -> PortSet {
        PortSet {
            specs: vec![PortSpec::ANY],
        }
    }

    /// No connection.
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// The union of `specs`, in normal form.
    pub fn from_specs(specs: impl IntoIterator<Item = PortSpec>) -> PortSet {
        let mut specs: Vec<PortSpec> = specs.into_iter().collect();
        if specs.contains(&PortSpec::ANY) {
            return PortSet::all();
        }
        specs.sort_unstable();
        let mut merged: Vec<PortSpec> = Vec::with_capacity(specs.len());
        for spec in specs {
            match merged.last_mut() {
                Some(last)
                    if last.protocol == spec.protocol
                        && u32::from(spec.first) <= u32::from(last.last) + 1 =>
                {
                    last.last = last.last.max(spec.last);
                }
                _ => merged.push(spec),
            }
        }
        PortSet { specs: merged }
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.specs == [PortSpec::ANY]
    }

    pub fn specs(&self) -> &[PortSpec] {
        &self.specs
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet::from_specs(self.specs.iter().chain(&other.specs).copied())
    }

    /// The connections both sets allow.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        if self.is_all() {
            return other.clone();
        }
        if other.is_all() {
            return self.clone();
        }
        let mut out = Vec::new();
        for a in &self.specs {
            for b in &other.specs {
                if a.protocol != b.protocol {
                    continue;
                }
                let first = a.first.max(b.first);
                let last = a.last.min(b.last);
                if first <= last {
                    out.push(PortSpec {
                        protocol: a.protocol,
                        first,
                        last,
                    });
                }
            }
        }
        PortSet::from_specs(out)
    }

    /// What `self` allows that `other` does not. Only for sets of TCP, UDP and SCTP
    /// ports: `any` stands for all of those here (what Kubernetes rules can allow).
    pub fn minus(&self, other: &PortSet) -> PortSet {
        if other.is_all() {
            return PortSet::empty();
        }
        let base = if self.is_all() {
            PortSet::ported()
        } else {
            self.clone()
        };
        let mut out = Vec::new();
        for spec in &base.specs {
            let mut pieces = vec![(u32::from(spec.first), u32::from(spec.last))];
            for cut in other.specs.iter().filter(|c| c.protocol == spec.protocol) {
                let (first, last) = (u32::from(cut.first), u32::from(cut.last));
                pieces = pieces
                    .into_iter()
                    .flat_map(|(a, b)| {
                        let mut kept = Vec::new();
                        if a < first {
                            kept.push((a, b.min(first - 1)));
                        }
                        if b > last {
                            kept.push((a.max(last + 1), b));
                        }
                        kept
                    })
                    .collect();
            }
            for (first, last) in pieces {
                out.push(PortSpec {
                    protocol: spec.protocol,
                    first: u16::try_from(first).unwrap_or(u16::MAX),
                    last: u16::try_from(last).unwrap_or(u16::MAX),
                });
            }
        }
        PortSet::from_specs(out)
    }

    /// Every TCP, UDP and SCTP port.
    pub fn ported() -> PortSet {
        PortSet::from_specs(PORTED.iter().map(|&protocol| PortSpec {
            protocol,
            ..PortSpec::ANY
        }))
    }

    /// `any` when the set holds every TCP, UDP and SCTP port: to Kubernetes, that is
    /// everything.
    pub fn widened(self) -> PortSet {
        if self.all_ported() {
            PortSet::all()
        } else {
            self
        }
    }

    /// Every port of one protocol.
    pub fn protocol(protocol: Protocol) -> PortSet {
        PortSet::from_specs([PortSpec {
            protocol,
            ..PortSpec::ANY
        }])
    }

    /// Whether the set holds every port of every protocol that carries ports: all that
    /// a Kubernetes rule can allow.
    pub fn all_ported(&self) -> bool {
        self.is_all()
            || PORTED
                .iter()
                .all(|&protocol| self.specs.contains(&PortSet::protocol(protocol).specs[0]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(texts: &[&str]) -> PortSet {
        PortSet::from_specs(texts.iter().map(|text| text.parse().unwrap()))
    }

    fn show(set: &PortSet) -> Vec<String> {
        set.specs().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn union_merges_overlapping_and_adjacent_ranges() {
        let merged = set(&["tcp/80", "tcp/81-90", "tcp/85-100", "udp/53", "tcp/443"]);
        assert_eq!(show(&merged), ["tcp/80-100", "tcp/443", "udp/53"]);
        assert_eq!(show(&set(&["tcp/80", "tcp"])), ["tcp"]);
        assert_eq!(show(&set(&["tcp/80", "any"])), ["any"]);
        assert!(set(&[]).is_empty());
    }

    #[test]
    fn intersection_keeps_what_both_allow() {
        let a = set(&["tcp/80-100", "udp"]);
        let b = set(&["tcp/90-200", "sctp/1"]);
        assert_eq!(show(&a.intersect(&b)), ["tcp/90-100"]);
        assert_eq!(a.intersect(&PortSet::all()), a);
        assert!(set(&["udp/53"]).intersect(&set(&["tcp/53"])).is_empty());
    }

    #[test]
    fn minus_cuts_ranges_apart() {
        let cut = set(&["tcp/1-100", "udp/53"]).minus(&set(&["tcp/50", "udp"]));
        assert_eq!(show(&cut), ["tcp/1-49", "tcp/51-100"]);
        let rest = PortSet::all().minus(&set(&["tcp"]));
        assert_eq!(show(&rest), ["udp", "sctp"]);
        assert!(set(&["tcp/80"]).minus(&PortSet::all()).is_empty());
        assert!(PortSet::ported().widened().is_all());
    }

    #[test]
    fn all_ported_means_every_port_of_tcp_udp_and_sctp() {
        assert!(set(&["tcp", "udp", "sctp"]).all_ported());
        assert!(!set(&["tcp", "udp"]).all_ported());
        assert!(PortSet::all().all_ported());
    }
}
