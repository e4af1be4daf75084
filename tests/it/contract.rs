//! The JSON contract of SPEC section 3, read back into structs of the test's own, so that
//! a refactor of the producer cannot change the shape silently.

use serde::Deserialize;

use crate::harness::Cordon;

#[derive(Debug, Deserialize)]
struct Check {
    tool: Tool,
    inputs: Vec<Input>,
    summary: Summary,
    results: Vec<CheckResult>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
struct Input {
    path: String,
    sha256: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Summary {
    total: usize,
    passed: usize,
    failed: usize,
    waived: usize,
}

#[derive(Debug, Deserialize)]
struct CheckResult {
    invariant: String,
    kind: String,
    severity: String,
    status: String,
    message: String,
    witness: Vec<Hop>,
    acquisitions: Vec<Acquisition>,
}

#[derive(Debug, Deserialize)]
struct Hop {
    from: String,
    to: String,
    flow: String,
    credential: Option<String>,
    location: String,
    ports: Vec<String>,
    owner: Option<String>,
    ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Acquisition {
    credential: String,
    holder: String,
    path: Vec<Hop>,
}

#[derive(Debug, Deserialize)]
struct Reach {
    query: Query,
    reachable: Vec<Reached>,
}

#[derive(Debug, Deserialize)]
struct Query {
    from: Vec<String>,
    to: Vec<String>,
    ports: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Reached {
    entity: String,
    kind: String,
    hops: u32,
}

const POLICY: &str = "
segments:
  - {name: atlassian}
assets:
  - {name: jira, in: atlassian}
  - {name: bitbucket, in: atlassian}
  - {name: okta-support}
credentials:
  - {name: moveworks-token, held_by: okta-support, leaked: true}
flows:
  - {name: zero-trust-access, from: internet, to: jira, auth: [moveworks-token], ports: [tcp/443], owner: it, ticket: SEC-1}
  - {from: jira, to: bitbucket}
invariants:
  - {name: internet-cannot-reach-source-code, severity: critical, forbid: {from: internet, to: bitbucket}}
  - {name: okta-support-isolated, forbid: {from: okta-support, to: atlassian}}
  - {name: jira-needs-bitbucket, require: {from: jira, to: bitbucket}}
  - {name: waived-one, severity: low, forbid: {from: jira, to: bitbucket}}
exceptions:
  - {invariant: waived-one, reason: dev panel, owner: it, expires: 2099-01-01}
";

#[test]
fn check_json_has_the_contract_shape() {
    let out = Cordon::new()
        .file("policies/flows.yaml", POLICY)
        .args(["check", "--format", "json"])
        .run();
    out.code(1);
    let check: Check = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(check.tool.name, "cordon");
    assert_eq!(check.tool.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(check.inputs.len(), 1);
    assert_eq!(check.inputs[0].path, "policies/flows.yaml");
    assert_eq!(check.inputs[0].sha256.len(), 64);
    assert_eq!(
        check.summary,
        Summary {
            total: 4,
            passed: 2,
            failed: 1,
            waived: 1
        }
    );
    let names: Vec<&str> = check.results.iter().map(|r| r.invariant.as_str()).collect();
    assert_eq!(
        names,
        [
            "internet-cannot-reach-source-code",
            "okta-support-isolated",
            "jira-needs-bitbucket",
            "waived-one"
        ],
        "results are in input order"
    );
    let failed = &check.results[0];
    assert_eq!(
        (
            failed.kind.as_str(),
            failed.severity.as_str(),
            failed.status.as_str()
        ),
        ("forbid", "critical", "fail")
    );
    assert_eq!(failed.message, "internet reaches bitbucket in 2 hops");
    let hops: Vec<(&str, &str, &str, Option<&str>, &str)> = failed
        .witness
        .iter()
        .map(|h| {
            (
                h.from.as_str(),
                h.to.as_str(),
                h.flow.as_str(),
                h.credential.as_deref(),
                h.location.as_str(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            (
                "internet",
                "jira",
                "zero-trust-access",
                Some("moveworks-token"),
                "policies/flows.yaml:11"
            ),
            (
                "jira",
                "bitbucket",
                "policies/flows.yaml:12",
                None,
                "policies/flows.yaml:12"
            ),
        ]
    );
    let extras: Vec<(&[String], Option<&str>, Option<&str>)> = failed
        .witness
        .iter()
        .map(|h| (h.ports.as_slice(), h.owner.as_deref(), h.ticket.as_deref()))
        .collect();
    assert_eq!(
        extras,
        [
            (&["tcp/443".to_owned()][..], Some("it"), Some("SEC-1")),
            (&["any".to_owned()][..], None, None),
        ]
    );
    let raw = out.json();
    for hop in raw["results"][0]["witness"].as_array().unwrap() {
        assert!(
            hop.get("owner").is_some() && hop.get("ticket").is_some(),
            "owner and ticket are null when absent, never missing: {hop}"
        );
    }
    assert!(
        failed.acquisitions.is_empty(),
        "a leaked credential needs no acquisition"
    );
    assert!(
        check.results[1].witness.is_empty(),
        "a passed forbid has no witness"
    );
    assert_eq!(
        check.results[2].witness.len(),
        1,
        "a passed require carries its path"
    );
    assert_eq!(check.results[3].status, "waived");
}

#[test]
fn acquisitions_have_the_contract_shape() {
    let policy = "
assets:
  - {name: a}
  - {name: holder}
  - {name: b}
credentials:
  - {name: key, held_by: holder}
flows:
  - {name: a-to-holder, from: a, to: holder}
  - {name: a-to-b, from: a, to: b, auth: [key]}
invariants:
  - {name: a-cannot-reach-b, forbid: {from: a, to: b}}
";
    let out = Cordon::new()
        .file("policies/p.yaml", policy)
        .args(["check", "--format", "json"])
        .run();
    out.code(1);
    let check: Check = serde_json::from_str(&out.stdout).unwrap();
    let acquisitions = &check.results[0].acquisitions;
    assert_eq!(acquisitions.len(), 1);
    assert_eq!(
        (
            acquisitions[0].credential.as_str(),
            acquisitions[0].holder.as_str()
        ),
        ("key", "holder")
    );
    let path: Vec<(&str, &str, &str)> = acquisitions[0]
        .path
        .iter()
        .map(|h| (h.from.as_str(), h.to.as_str(), h.flow.as_str()))
        .collect();
    assert_eq!(path, [("a", "holder", "a-to-holder")]);
}

#[test]
fn reach_json_has_the_contract_shape() {
    let out = Cordon::new()
        .file("policies/flows.yaml", POLICY)
        .args([
            "reach",
            "--to",
            "bitbucket",
            "--ports",
            "tcp/22",
            "--format",
            "json",
        ])
        .run();
    out.code(0);
    let reach: Reach = serde_json::from_str(&out.stdout).unwrap();
    assert!(reach.query.from.is_empty());
    assert_eq!(reach.query.to, ["bitbucket"]);
    assert_eq!(reach.query.ports, ["tcp/22"]);
    let found: Vec<(&str, &str, u32)> = reach
        .reachable
        .iter()
        .map(|r| (r.entity.as_str(), r.kind.as_str(), r.hops))
        .collect();
    assert_eq!(found, [("internet", "internet", 2), ("jira", "asset", 1)]);
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Connections {
    connections: Vec<Connection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Connection {
    from: String,
    to: String,
    ports: Vec<String>,
    flows: Vec<ConnectionFlow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionFlow {
    name: String,
    ports: Vec<String>,
    auth: Vec<String>,
    location: String,
}

#[test]
fn connections_json_has_the_contract_shape() {
    let out = Cordon::new()
        .file(
            "policies/m.yaml",
            "segments: [{name: web}]\n\
             assets: [{name: a, in: web}, {name: b, in: web}, {name: db}]\n\
             credentials: [{name: key, held_by: a}]\n\
             flows:\n\
             \x20 - {name: web-db, from: web, to: db, ports: [tcp/5432]}\n\
             \x20 - {from: a, to: db, ports: [sctp/9000], auth: [key]}\n\
             \x20 - {from: b, to: a}\n",
        )
        .args(["connections", "--format", "json", "--to", "db,a"])
        .run();
    out.code(0);
    let connections: Connections = serde_json::from_str(&out.stdout).unwrap();
    let pairs: Vec<(&str, &str, Vec<&str>)> = connections
        .connections
        .iter()
        .map(|c| {
            let ports = c.ports.iter().map(String::as_str).collect();
            (c.from.as_str(), c.to.as_str(), ports)
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("a", "db", vec!["tcp/5432", "sctp/9000"]),
            ("b", "a", vec!["any"]),
            ("b", "db", vec!["tcp/5432"]),
        ]
    );
    let a_db = &connections.connections[0];
    assert_eq!(a_db.flows[0].name, "web-db");
    assert!(a_db.flows[0].auth.is_empty());
    assert_eq!(a_db.flows[1].name, "policies/m.yaml:6");
    assert_eq!(a_db.flows[1].location, "policies/m.yaml:6");
    assert_eq!(a_db.flows[1].ports, ["sctp/9000"]);
    assert_eq!(a_db.flows[1].auth, ["key"]);
}
