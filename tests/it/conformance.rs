//! np-guard's conformance corpus (tests/conformance/npguard/): `cordon connections` on
//! every case, compared with np-guard's expected connectivity list. Workload pairs and
//! their ports must agree exactly, as must the ingress controller's pairs and the
//! workloads open to and from external addresses (ports united over address ranges).

use std::collections::{BTreeMap, BTreeSet};

use crate::connlist::{self, Conn, Connectivity, Key, Peer, Ranges, range};
use crate::harness::repo;

const CORPUS: &str = "tests/conformance/npguard";

/// Cases where cordon and np-guard disagree, each with the reason; README.md in the
/// corpus folder names them too.
const KNOWN: &[(&str, &str)] = &[];

/// np-guard's connection text: `All Connections`, or `TCP 80,443,UDP 53`.
fn parse_npguard_conn(text: &str) -> Ranges {
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
    Connectivity::read(&text, npguard_peer, parse_npguard_conn)
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
        let problems = match connlist::cordon(&repo(), &format!("{CORPUS}/tests/{case}")) {
            Err(error) => vec![error],
            Ok(actual) => connlist::differences("np-guard", &expected, &actual),
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
