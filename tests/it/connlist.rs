//! Connectivity lists in one canonical form, for comparing `cordon connections` with a
//! peer's answer (np-guard's corpus in `conformance.rs`, NCA in `nca.rs`): workload
//! pairs, the ingress controller's targets, and the workloads open to and from external
//! addresses, each with its ports merged per protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::harness::run_in;

/// Connections as a canonical set: `all`, or per protocol its merged port ranges.
pub type Conn = BTreeSet<String>;

/// Ports as `(protocol, first, last)`; the protocol `all` stands for everything.
pub type Ranges = Vec<(String, u32, u32)>;

/// Which map a pair belongs in, and its key there: workload pairs, the ingress
/// controller's targets, workloads open from external addresses, and to them.
pub type Key = (&'static str, String, String);

#[derive(Debug, Default)]
pub struct Connectivity {
    pairs: BTreeMap<Key, Ranges>,
}

/// Ranges per protocol, merged, with whole protocols and "everything" made canonical.
/// TCP, UDP and SCTP whole count as everything: NetworkPolicy speaks of no other
/// protocol, and the API leaves the others to the network plugin.
pub fn canonical(ranges: Ranges) -> Conn {
    let mut by_protocol: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    for (protocol, first, last) in ranges {
        if protocol == "all" {
            return ["all".to_owned()].into();
        }
        by_protocol
            .entry(protocol)
            .or_default()
            .push((first.max(1), last));
    }
    let mut out = Conn::new();
    let mut whole = 0;
    for (protocol, mut list) in by_protocol {
        list.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (first, last) in list {
            match merged.last_mut() {
                Some(previous) if first <= previous.1 + 1 => previous.1 = previous.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        if merged == [(1, 65535)] {
            whole += 1;
        }
        for (first, last) in merged {
            out.insert(format!("{protocol} {first}-{last}"));
        }
    }
    if whole == 3 {
        return ["all".to_owned()].into();
    }
    out
}

/// A port or a range of ports: `80`, `8000-8100`.
pub fn range(text: &str) -> (u32, u32) {
    match text.split_once('-') {
        Some((first, last)) => (first.trim().parse().unwrap(), last.trim().parse().unwrap()),
        None => {
            let port = text.trim().parse().unwrap();
            (port, port)
        }
    }
}

/// cordon's port specs: `any`, `tcp`, `tcp/80`, `udp/1-52`.
fn parse_cordon_ports(ports: &[serde_json::Value]) -> Ranges {
    ports
        .iter()
        .map(|port| {
            let text = port.as_str().unwrap();
            match text.split_once('/') {
                _ if text == "any" => ("all".to_owned(), 0, 65535),
                None => (text.to_owned(), 1, 65535),
                Some((protocol, ports)) => {
                    let (first, last) = range(ports);
                    (protocol.to_owned(), first, last)
                }
            }
        })
        .collect()
}

/// One end of a listed connection, as far as the comparison cares.
pub enum Peer {
    /// `NAMESPACE/NAME`.
    Workload(String),
    /// Any address outside the cluster; ports are united over all of them.
    External,
    Controller,
    /// What the comparison leaves out: the API server, the nodes, the credential stores
    /// and the pods that RBAC lets someone start or relabel, which identity and escapes
    /// reach, not NetworkPolicies.
    Other,
}

/// The prefixes of the identity plane's assets of a namespace (`pods:NAMESPACE`, …).
const IDENTITY_ASSETS: [&str; 4] = ["pods:", "relabelled:", "secrets:", "tokens:"];

fn cordon_peer(text: &str) -> Peer {
    match text {
        "internet" => Peer::External,
        "ingress-controller" => Peer::Controller,
        "kubernetes-api" | "kubernetes:nodes" => Peer::Other,
        name if IDENTITY_ASSETS
            .iter()
            .any(|prefix| name.starts_with(prefix)) =>
        {
            Peer::Other
        }
        name => Peer::Workload(name.to_owned()),
    }
}

impl Connectivity {
    /// Adds ports to a pair; a pair listed several times gets their union, and a
    /// workload's connection to itself is left out (cordon lists distinct leaves only).
    pub fn add(&mut self, from: Peer, to: Peer, ranges: Ranges) {
        let key = match (from, to) {
            (Peer::Workload(a), Peer::Workload(b)) if a == b => return,
            (Peer::Workload(a), Peer::Workload(b)) => ("pair", a, b),
            (Peer::Controller, Peer::Workload(b)) => ("ingress", String::new(), b),
            (Peer::External, Peer::Workload(b)) => ("from external", String::new(), b),
            (Peer::Workload(a), Peer::External) => ("to external", a, String::new()),
            _ => return,
        };
        self.pairs.entry(key).or_default().extend(ranges);
    }

    /// A peer's text list, one `FROM => TO : CONNECTIONS` a line (other lines are
    /// headers and notes), read with the peer's own words for ends and connections.
    pub fn read(
        text: &str,
        peer: impl Fn(&str) -> Peer,
        conn: impl Fn(&str) -> Ranges,
    ) -> BTreeMap<Key, Conn> {
        let mut connectivity = Connectivity::default();
        for line in text.lines() {
            let Some((ends, connections)) = line.rsplit_once(" : ") else {
                continue;
            };
            let Some((from, to)) = ends.split_once(" => ") else {
                continue;
            };
            connectivity.add(peer(from), peer(to), conn(connections));
        }
        connectivity.canonical()
    }

    pub fn canonical(self) -> BTreeMap<Key, Conn> {
        self.pairs
            .into_iter()
            .map(|(key, ranges)| (key, canonical(ranges)))
            .collect()
    }
}

/// `cordon connections PATH --format json`, run in `dir`, in canonical form.
pub fn cordon(dir: &Path, path: &str) -> Result<BTreeMap<Key, Conn>, String> {
    let args: Vec<String> = ["connections", path, "--format", "json", "--quiet"]
        .map(str::to_owned)
        .into();
    let out = run_in(dir, &args, &[]);
    if out.code != 0 {
        return Err(format!("exit {}: {}", out.code, out.stderr));
    }
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut connectivity = Connectivity::default();
    for connection in value["connections"].as_array().unwrap() {
        connectivity.add(
            cordon_peer(connection["from"].as_str().unwrap()),
            cordon_peer(connection["to"].as_str().unwrap()),
            parse_cordon_ports(connection["ports"].as_array().unwrap()),
        );
    }
    Ok(connectivity.canonical())
}

/// Every difference between a peer's connectivity and cordon's, one line each.
pub fn differences(
    peer: &str,
    expected: &BTreeMap<Key, Conn>,
    actual: &BTreeMap<Key, Conn>,
) -> Vec<String> {
    let keys: BTreeSet<&Key> = expected.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (e, a) = (expected.get(key), actual.get(key));
        if e != a {
            out.push(format!("{key:?}: {peer} {e:?}, cordon {a:?}"));
        }
    }
    out
}
