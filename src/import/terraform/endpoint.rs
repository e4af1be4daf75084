//! One side of a connection as routing, the NACLs and prefix rules see it: its
//! addresses, or the internet.

use ipnet::IpNet;

/// Who is at one end of a connection.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Its addresses: the assets' own when known, else their subnets'.
    pub ranges: Vec<IpNet>,
    /// Whether this is the internet, whose addresses are every public one.
    pub internet: bool,
}

impl Endpoint {
    pub fn internet() -> Endpoint {
        Endpoint {
            ranges: vec![any_v4(), any_v6()],
            internet: true,
        }
    }

    /// The internet one address family at a time (IPv4, then IPv6): a NACL's IPv4 rule
    /// never matches IPv6 traffic, nor the reverse, so each family meets its own rules.
    pub fn internet_families() -> [Endpoint; 2] {
        [any_v4(), any_v6()].map(|range| Endpoint {
            ranges: vec![range],
            internet: true,
        })
    }

    /// Whether a rule's prefix covers some address of this endpoint. The internet is
    /// every address outside private space, so a rule for `10.0.0.0/8` does not admit it;
    /// in the families it holds.
    pub fn meets(&self, prefix: &IpNet) -> bool {
        if self.internet {
            let family = (self.ranges.iter()).any(|range| same_family(range, prefix));
            return family
                && !PRIVATE.iter().any(|private| {
                    private
                        .parse::<IpNet>()
                        .is_ok_and(|private| private.contains(prefix))
                });
        }
        // An endpoint without known addresses could be anywhere in private space.
        self.ranges.is_empty()
            || self
                .ranges
                .iter()
                .any(|range| range.contains(prefix) || prefix.contains(range))
    }

    /// Whether a rule's prefix covers every address of this endpoint, so that the rule
    /// decides for all of it (NACL rules are ordered: a partial match decides nothing).
    pub fn within(&self, prefix: &IpNet) -> bool {
        if self.internet {
            return prefix.prefix_len() == 0
                && (self.ranges.iter()).all(|range| same_family(range, prefix));
        }
        !self.ranges.is_empty() && self.ranges.iter().all(|range| prefix.contains(range))
    }
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!(
        (a, b),
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
    )
}

/// Address space that is never the internet's.
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

pub fn any_v4() -> IpNet {
    IpNet::V4(ipnet::Ipv4Net::default())
}

pub fn any_v6() -> IpNet {
    IpNet::V6(ipnet::Ipv6Net::default())
}
