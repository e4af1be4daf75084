//! np-guard's conformance corpus (tests/conformance/npguard/): `cordon connections` on
//! every case, compared with np-guard's expected connectivity list. Workload pairs and
//! their ports must agree exactly, as must the ingress controller's pairs and the
//! workloads open to and from external addresses (ports united over address ranges).

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::{repo, run_repo};

const CORPUS: &str = "tests/conformance/npguard";

/// Cases where cordon and np-guard disagree, each with the reason; README.md in the
/// corpus folder names them too.
const KNOWN: &[(&str, &str)] = &[];

/// Connections as a canonical set: `all`, or per protocol its merged port ranges.
type Conn = BTreeSet<String>;

type Ranges = Vec<(String, u32, u32)>;

/// Which map a pair belongs in, and its key there: workload pairs, the ingress
/// controller's targets, workloads open from external addresses, and to them.
type Key = (&'static str, String, String);

#[derive(Debug, Default)]
struct Connectivity {
    pairs: BTreeMap<Key, Ranges>,
}

/// Ranges per protocol, merged, with whole protocols and "everything" made canonical.
fn canonical(ranges: Ranges) -> Conn {
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

fn range(text: &str) -> (u32, u32) {
    match text.split_once('-') {
        Some((first, last)) => (first.parse().unwrap(), last.parse().unwrap()),
        None => {
            let port = text.parse().unwrap();
            (port, port)
        }
    }
}

/// np-guard's connection text: `All Connections`, or `TCP 80,443,UDP 53`.
fn parse_npguard_conn(text: &str) -> Vec<(String, u32, u32)> {
    let text = text.trim();
    if text == "All Connections" {
        return vec![("all".to_owned(), 0, 65535)];
    }
    let mut out = Vec::new();
    let mut protocol = String::new();
    for part in text.split(',') {
        let part = part.trim();
        let ports = match part.split_once(' ') {
            Some((name, ports)) => {
                protocol = name.to_lowercase();
                ports
            }
            None => part,
        };
        let (first, last) = range(ports);
        out.push((protocol.clone(), first, last));
    }
    out
}

/// cordon's port specs: `any`, `tcp`, `tcp/80`, `udp/1-52`.
fn parse_cordon_ports(ports: &[serde_json::Value]) -> Vec<(String, u32, u32)> {
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

enum Peer {
    Workload(String),
    External,
    Controller,
    Other,
}

fn npguard_peer(text: &str) -> Peer {
    let text = text.trim();
    if text == "{ingress-controller}" {
        Peer::Controller
    } else if text.ends_with("[External]") {
        Peer::External
    } else if let Some(open) = text.rfind('[') {
        Peer::Workload(text[..open].to_owned())
    } else {
        Peer::Workload(text.to_owned())
    }
}

fn cordon_peer(text: &str) -> Peer {
    match text {
        "internet" => Peer::External,
        "ingress-controller" => Peer::Controller,
        "kubernetes-api" => Peer::Other,
        name => Peer::Workload(name.to_owned()),
    }
}

impl Connectivity {
    fn add(&mut self, from: Peer, to: Peer, ranges: Ranges) {
        let key = match (from, to) {
            (Peer::Workload(a), Peer::Workload(b)) => ("pair", a, b),
            (Peer::Controller, Peer::Workload(b)) => ("ingress", String::new(), b),
            (Peer::External, Peer::Workload(b)) => ("from external", String::new(), b),
            (Peer::Workload(a), Peer::External) => ("to external", a, String::new()),
            _ => return,
        };
        self.pairs.entry(key).or_default().extend(ranges);
    }

    fn canonical(self) -> BTreeMap<Key, Conn> {
        self.pairs
            .into_iter()
            .map(|(key, ranges)| (key, canonical(ranges)))
            .collect()
    }
}

fn expected(case: &str) -> BTreeMap<Key, Conn> {
    let dir = repo().join(CORPUS).join("connlist");
    let plain = dir.join(format!("{case}_connlist_output.txt"));
    let text = if plain.exists() {
        std::fs::read_to_string(plain).unwrap()
    } else {
        let gz = dir.join(format!("{case}_connlist_output.txt.gz"));
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(gz)
            .output()
            .expect("gzip");
        String::from_utf8(out.stdout).unwrap()
    };
    let mut connectivity = Connectivity::default();
    for line in text.lines() {
        let Some((ends, conn)) = line.rsplit_once(" : ") else {
            continue;
        };
        let Some((from, to)) = ends.split_once(" => ") else {
            continue;
        };
        connectivity.add(
            npguard_peer(from),
            npguard_peer(to),
            parse_npguard_conn(conn),
        );
    }
    connectivity.canonical()
}

fn actual(case: &str) -> Result<BTreeMap<Key, Conn>, String> {
    let dir = format!("{CORPUS}/tests/{case}");
    let out = run_repo(&["connections", &dir, "--format", "json", "--quiet"]);
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

/// The first few differences between two maps, for a readable failure.
fn differences(expected: &BTreeMap<Key, Conn>, actual: &BTreeMap<Key, Conn>) -> Vec<String> {
    let keys: BTreeSet<&Key> = expected.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (e, a) = (expected.get(key), actual.get(key));
        if e != a {
            out.push(format!("{key:?}: np-guard {e:?}, cordon {a:?}"));
        }
    }
    out
}

#[test]
fn every_npguard_case_agrees_or_is_named() {
    let tests = repo().join(CORPUS).join("tests");
    let mut cases: Vec<String> = std::fs::read_dir(&tests)
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    let mut failures = BTreeMap::new();
    for case in &cases {
        let expected = expected(case);
        let problems = match actual(case) {
            Err(error) => vec![error],
            Ok(actual) => differences(&expected, &actual),
        };
        if !problems.is_empty() {
            failures.insert(case.clone(), problems);
        }
    }
    let known: BTreeSet<&str> = KNOWN.iter().map(|(case, _)| *case).collect();
    let failed: BTreeSet<&str> = failures.keys().map(String::as_str).collect();
    eprintln!(
        "np-guard conformance: {} of {} cases agree; {} known exceptions",
        cases.len() - failures.len(),
        cases.len(),
        known.len()
    );
    let mut report = String::new();
    for (case, problems) in &failures {
        if known.contains(case.as_str()) {
            continue;
        }
        report.push_str(&format!("\n{case}: {} differences\n", problems.len()));
        for problem in problems.iter().take(6) {
            report.push_str(&format!("  {problem}\n"));
        }
    }
    assert!(report.is_empty(), "cases that disagree:{report}");
    let fixed: Vec<&&str> = KNOWN
        .iter()
        .map(|(case, _)| case)
        .filter(|case| !failed.contains(**case))
        .collect();
    assert!(
        fixed.is_empty(),
        "known exceptions that now agree: {fixed:?}"
    );
}
