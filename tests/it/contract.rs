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
}

#[derive(Debug, Deserialize)]
struct Hop {
    from: String,
    to: String,
    flow: String,
    credential: Option<String>,
    location: String,
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
  - {name: zero-trust-access, from: internet, to: jira, auth: [moveworks-token]}
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
