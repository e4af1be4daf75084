//! One side of a connection as routing, the NACLs and prefix rules see it: its
//! addresses, or the internet; and the address families they come in.

use ipnet::IpNet;

/// An address family. Routes and NACL rules name prefixes of one family and decide
/// only that family's traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    pub fn of(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }
}

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

    /// The internet in one address family: a NACL's IPv4 rule never matches IPv6
    /// traffic, nor the reverse, and a route to a gateway carries one family, so each
    /// family meets its own rules and routes.
    pub fn internet_in(family: Family) -> Endpoint {
        let range = match family {
            Family::V4 => any_v4(),
            Family::V6 => any_v6(),
        };
        Endpoint {
            ranges: vec![range],
            internet: true,
        }
    }

    /// Whether some of its addresses are of `family`.
    pub fn speaks(&self, family: Family) -> bool {
        self.ranges.iter().any(|range| Family::of(range) == family)
    }

    /// Whether a rule's prefix covers some address of this endpoint. The internet is
    /// every address outside private space, so a rule for `10.0.0.0/8` does not admit it;
    /// in the families it holds.
    pub fn meets(&self, prefix: &IpNet) -> bool {
        if self.internet {
            return self.speaks(Family::of(prefix))
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
                && (self.ranges.iter()).all(|range| Family::of(range) == Family::of(prefix));
        }
        !self.ranges.is_empty() && self.ranges.iter().all(|range| prefix.contains(range))
    }
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
