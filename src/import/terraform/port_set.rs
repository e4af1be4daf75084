//! `PortSet`: sets of traffic by protocol and port, for intersecting what security groups,
//! NACLs and routes each allow. Only the Terraform importer uses it; the model keeps
//! `PortSpec` lists.

/// Inclusive port ranges, sorted and merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Ranges(Vec<(u16, u16)>);

impl Ranges {
    fn full() -> Self {
        Ranges(vec![(0, u16::MAX)])
    }

    fn is_full(&self) -> bool {
        self.0 == [(0, u16::MAX)]
    }

    fn from_pairs(mut pairs: Vec<(u16, u16)>) -> Self {
        pairs.retain(|(first, last)| first <= last);
        pairs.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(pairs.len());
        for (first, last) in pairs {
            match merged.last_mut() {
                Some(prev) if u32::from(first) <= u32::from(prev.1) + 1 => {
                    prev.1 = prev.1.max(last);
                }
                _ => merged.push((first, last)),
            }
        }
        Ranges(merged)
    }

    fn union(&self, other: &Ranges) -> Ranges {
        Ranges::from_pairs(self.0.iter().chain(&other.0).copied().collect())
    }

    fn intersect(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(a, b) in &self.0 {
            for &(c, d) in &other.0 {
                if a.max(c) <= b.min(d) {
                    out.push((a.max(c), b.min(d)));
                }
            }
        }
        Ranges::from_pairs(out)
    }

    fn subtract(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(first, last) in &self.0 {
            let mut start = u32::from(first);
            let end = u32::from(last);
            for &(c, d) in &other.0 {
                let (c, d) = (u32::from(c), u32::from(d));
                if d < start || c > end {
                    continue;
                }
                if c > start {
                    out.push((start, c - 1));
                }
                start = d + 1;
            }
            if start <= end {
                out.push((start, end));
            }
        }
        Ranges::from_pairs(
            out.into_iter()
                .filter_map(|(a, b)| Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)))
                .collect(),
        )
    }
}

/// Traffic that a rule allows: TCP and UDP port ranges, ICMP, and every other protocol
/// (ESP, GRE and the like) as one lump, since cordon's port syntax cannot name them.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSet {
    tcp: Ranges,
    udp: Ranges,
    icmp: bool,
    other: bool,
}

impl PortSet {
    pub const EMPTY: PortSet = PortSet {
        tcp: Ranges(Vec::new()),
        udp: Ranges(Vec::new()),
        icmp: false,
        other: false,
    };

    pub fn empty() -> Self {
        PortSet::default()
    }

    pub fn all() -> Self {
        PortSet {
            tcp: Ranges::full(),
            udp: Ranges::full(),
            icmp: true,
            other: true,
        }
    }

    /// Whether an AWS rule's `protocol` reads its `from_port` and `to_port` (TCP and
    /// UDP do; `-1`, ICMP and the rest ignore them).
    pub fn has_ports(protocol: &str) -> bool {
        matches!(
            protocol.trim().to_ascii_lowercase().as_str(),
            "6" | "tcp" | "17" | "udp"
        )
    }

    /// What an AWS rule's `protocol`, `from_port` and `to_port` allow. `-1` (or `all`)
    /// is every protocol; ports do not apply to ICMP and other protocols. A protocol
    /// cordon does not know counts as "other".
    pub fn from_rule(protocol: &str, from: i64, to: i64) -> Self {
        let range = || {
            let clamp = |port: i64| u16::try_from(port.clamp(0, 65535)).unwrap_or(u16::MAX);
            // AWS writes "all ports" as 0-0 or -1 for some protocols.
            if (from <= 0 && to <= 0) || (from == -1 || to == -1) {
                Ranges::full()
            } else {
                Ranges::from_pairs(vec![(clamp(from), clamp(to))])
            }
        };
        match protocol.trim().to_ascii_lowercase().as_str() {
            "-1" | "all" => PortSet::all(),
            "6" | "tcp" => PortSet {
                tcp: range(),
                ..PortSet::default()
            },
            "17" | "udp" => PortSet {
                udp: range(),
                ..PortSet::default()
            },
            "1" | "icmp" | "58" | "icmpv6" => PortSet {
                icmp: true,
                ..PortSet::default()
            },
            _ => PortSet {
                other: true,
                ..PortSet::default()
            },
        }
    }

    /// TCP and UDP answers to ephemeral ports, as a stateless NACL must let back.
    pub fn ephemeral_returns(&self) -> Self {
        let ephemeral = Ranges::from_pairs(vec![(1024, 65535)]);
        PortSet {
            tcp: if self.tcp.0.is_empty() {
                Ranges::default()
            } else {
                ephemeral.clone()
            },
            udp: if self.udp.0.is_empty() {
                Ranges::default()
            } else {
                ephemeral
            },
            icmp: false,
            other: false,
        }
    }

    /// Keeps only the protocols whose answers `returns` lets back: TCP and UDP need some
    /// ephemeral port open; ICMP and other protocols are kept (over-approximating).
    pub fn with_returns(&self, returns: &PortSet) -> Self {
        PortSet {
            tcp: if returns.tcp.0.is_empty() {
                Ranges::default()
            } else {
                self.tcp.clone()
            },
            udp: if returns.udp.0.is_empty() {
                Ranges::default()
            } else {
                self.udp.clone()
            },
            icmp: self.icmp,
            other: self.other,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tcp.0.is_empty() && self.udp.0.is_empty() && !self.icmp && !self.other
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet {
            tcp: self.tcp.union(&other.tcp),
            udp: self.udp.union(&other.udp),
            icmp: self.icmp || other.icmp,
            other: self.other || other.other,
        }
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        PortSet {
            tcp: self.tcp.intersect(&other.tcp),
            udp: self.udp.intersect(&other.udp),
            icmp: self.icmp && other.icmp,
            other: self.other && other.other,
        }
    }

    pub fn subtract(&self, other: &PortSet) -> PortSet {
        PortSet {
            tcp: self.tcp.subtract(&other.tcp),
            udp: self.udp.subtract(&other.udp),
            icmp: self.icmp && !other.icmp,
            other: self.other && !other.other,
        }
    }

    /// The set in cordon's port syntax. Other protocols have no name there, so a set
    /// holding them is written `any`, which over-approximates.
    pub fn specs(&self) -> Vec<String> {
        if self.other || (self.tcp.is_full() && self.udp.is_full() && self.icmp) {
            return vec!["any".to_owned()];
        }
        let mut specs = Vec::new();
        for (name, ranges) in [("tcp", &self.tcp), ("udp", &self.udp)] {
            if ranges.is_full() {
                specs.push(name.to_owned());
                continue;
            }
            for &(first, last) in &ranges.0 {
                specs.push(if first == last {
                    format!("{name}/{first}")
                } else {
                    format!("{name}/{first}-{last}")
                });
            }
        }
        if self.icmp {
            specs.push("icmp".to_owned());
        }
        specs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersects_and_subtracts_ranges() {
        let web = PortSet::from_rule("tcp", 80, 443);
        let tls = PortSet::from_rule("6", 443, 443);
        assert_eq!(web.intersect(&tls).specs(), ["tcp/443"]);
        assert_eq!(web.subtract(&tls).specs(), ["tcp/80-442"]);
        assert_eq!(PortSet::from_rule("-1", 0, 0).specs(), ["any"]);
        assert!(
            web.intersect(&PortSet::from_rule("udp", 0, 65535))
                .is_empty()
        );
        let joined = PortSet::from_rule("tcp", 10, 20).union(&PortSet::from_rule("tcp", 21, 30));
        assert_eq!(joined.specs(), ["tcp/10-30"]);
    }

    #[test]
    fn returns_need_ephemeral_ports() {
        let db = PortSet::from_rule("tcp", 5432, 5432);
        let none = PortSet::from_rule("udp", 1024, 65535);
        assert!(db.with_returns(&none).is_empty());
        let back = PortSet::from_rule("tcp", 1024, 65535);
        assert_eq!(db.with_returns(&back), db);
        assert_eq!(db.ephemeral_returns().specs(), ["tcp/1024-65535"]);
    }
}
