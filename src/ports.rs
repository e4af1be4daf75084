//! Port specifications (`any`, `tcp`, `udp/53`, `sctp/9000`, `tcp/8000-8100`) and when two
//! overlap.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Any,
    Tcp,
    Udp,
    Icmp,
    Sctp,
}

/// One entry of a `ports` list: a protocol and, for TCP, UDP and SCTP, an inclusive range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSpec {
    pub protocol: Protocol,
    pub first: u16,
    pub last: u16,
}

impl PortSpec {
    pub const ANY: PortSpec = PortSpec {
        protocol: Protocol::Any,
        first: 0,
        last: u16::MAX,
    };

    /// Whether a written range starts at port 0, which no service listens on (a bare
    /// protocol, all of its ports, does not count).
    pub fn includes_port_zero(&self) -> bool {
        self.first == 0 && self.last != u16::MAX
    }

    /// Whether some traffic matches both specs. `any` matches every protocol, and a bare
    /// protocol matches all of its ports.
    pub fn overlaps(&self, other: &PortSpec) -> bool {
        let protocols = self.protocol == Protocol::Any
            || other.protocol == Protocol::Any
            || self.protocol == other.protocol;
        protocols && self.first <= other.last && other.first <= self.last
    }
}

/// Whether a flow allowing `allowed` lets through any of `wanted`. An empty `wanted`
/// asks for nothing in particular, so it matches every flow.
pub fn any_overlap(allowed: &[PortSpec], wanted: &[PortSpec]) -> bool {
    wanted.is_empty()
        || wanted
            .iter()
            .any(|want| allowed.iter().any(|allow| allow.overlaps(want)))
}

impl std::str::FromStr for PortSpec {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let text = text.trim();
        let (protocol, range) = match text.split_once('/') {
            Some((protocol, range)) => (protocol, Some(range)),
            None => (text, None),
        };
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "any" => Protocol::Any,
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            "sctp" => Protocol::Sctp,
            _ => return Err(()),
        };
        let Some(range) = range else {
            return Ok(PortSpec {
                protocol,
                ..PortSpec::ANY
            });
        };
        if !matches!(protocol, Protocol::Tcp | Protocol::Udp | Protocol::Sctp) {
            return Err(());
        }
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (parse_port(first)?, parse_port(last)?),
            None => {
                let port = parse_port(range)?;
                (port, port)
            }
        };
        if first > last {
            return Err(());
        }
        Ok(PortSpec {
            protocol,
            first,
            last,
        })
    }
}

fn parse_port(text: &str) -> Result<u16, ()> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(());
    }
    text.parse().map_err(|_| ())
}

/// The fix for a port that did not parse, where one is likely: `443` means `tcp/443`.
pub fn suggestion(text: &str) -> String {
    let text = text.trim();
    if parse_port(text).is_ok() {
        return format!("did you mean `tcp/{text}`?");
    }
    if let Some((protocol, range)) = text.split_once('/') {
        let is = |name: &str| protocol.eq_ignore_ascii_case(name);
        if is("icmp") || is("any") {
            return format!("`{protocol}` takes no port: use `{protocol}` alone");
        }
        let parts: Vec<&str> = range.splitn(2, '-').collect();
        let digits = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if (is("tcp") || is("udp") || is("sctp")) && parts.iter().all(digits) {
            if parts.iter().any(|part| parse_port(part).is_err()) {
                return "ports run from 0 to 65535".to_owned();
            }
            if let [first, last] = parts[..] {
                return format!(
                    "the range runs backwards: did you mean `{protocol}/{last}-{first}`?"
                );
            }
        }
    }
    "use `any`, `tcp`, `udp`, `sctp`, `icmp`, `tcp/443` or `tcp/8000-8100`".to_owned()
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Any => "any",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Sctp => "sctp",
        };
        f.write_str(protocol)?;
        if (self.first, self.last) == (0, u16::MAX) {
            Ok(())
        } else if self.first == self.last {
            write!(f, "/{}", self.first)
        } else {
            write!(f, "/{}-{}", self.first, self.last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> PortSpec {
        text.parse().unwrap()
    }

    #[test]
    fn a_port_that_does_not_parse_gets_the_likely_fix() {
        for (text, help) in [
            ("443", "did you mean `tcp/443`?"),
            (
                "tcp/10-5",
                "the range runs backwards: did you mean `tcp/5-10`?",
            ),
            ("udp/70000", "ports run from 0 to 65535"),
            ("icmp/8", "`icmp` takes no port: use `icmp` alone"),
            (
                "http",
                "use `any`, `tcp`, `udp`, `sctp`, `icmp`, `tcp/443` or `tcp/8000-8100`",
            ),
            (
                "http/10-5",
                "use `any`, `tcp`, `udp`, `sctp`, `icmp`, `tcp/443` or `tcp/8000-8100`",
            ),
        ] {
            assert!(text.parse::<PortSpec>().is_err(), "{text}");
            assert_eq!(suggestion(text), help, "{text}");
        }
    }

    #[test]
    fn parses_every_form() {
        for text in [
            "any",
            "tcp",
            "udp",
            "icmp",
            "sctp",
            "tcp/443",
            "udp/53",
            "sctp/9000",
            "tcp/8000-8100",
        ] {
            assert_eq!(spec(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_specs() {
        for text in [
            "",
            "http",
            "tcp/",
            "tcp/70000",
            "tcp/10-5",
            "icmp/8",
            "tcp/a",
            "443",
            "tcp/-1",
        ] {
            assert!(text.parse::<PortSpec>().is_err(), "{text}");
        }
        assert_eq!(suggestion("443"), "did you mean `tcp/443`?");
    }

    #[test]
    fn overlap_follows_protocol_and_range() {
        assert!(spec("any").overlaps(&spec("udp/53")));
        assert!(spec("tcp").overlaps(&spec("tcp/443")));
        assert!(spec("tcp/8000-8100").overlaps(&spec("tcp/8080")));
        assert!(!spec("tcp/8000-8100").overlaps(&spec("tcp/443")));
        assert!(!spec("udp/53").overlaps(&spec("tcp/53")));
        assert!(!spec("icmp").overlaps(&spec("tcp")));
        assert!(!spec("sctp/53").overlaps(&spec("udp/53")));
        assert!(spec("any").overlaps(&spec("sctp/9000")));
        assert!(any_overlap(&[spec("tcp/22")], &[]));
        assert!(!any_overlap(&[spec("tcp/22")], &[spec("tcp/443")]));
    }
}
