//! The CI gate's formats: SARIF, JUnit and GitHub annotations, and `--fail-on`.

use crate::harness::{Cordon, run_repo};

const BEFORE: &str = "examples/thanksgiving-2023/before";

const WAIVED: &str = "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
flows:
  - {name: a-to-b, from: a, to: b}
  - {name: b-to-c, from: b, to: c}
invariants:
  - {name: a-cannot-reach-c, severity: critical, references: [SOC2-CC6.6], forbid: {from: a, to: c}}
  - {name: b-cannot-reach-c, severity: low, forbid: {from: b, to: c}}
  - {name: c-isolated, forbid: {from: c, to: any}}
exceptions:
  - {invariant: a-cannot-reach-c, reason: migration, owner: alice, expires: 2024-06-30}
  - {invariant: c-isolated, reason: old, owner: bob, expires: 2020-01-01}
";

#[test]
fn gate_formats_on_the_incident() {
    for format in ["sarif", "junit", "github"] {
        let out = run_repo(&["check", BEFORE, "--format", format, "--today", "2023-11-14"]);
        out.code(1);
        insta::assert_snapshot!(format!("gate-{format}"), out.stdout);
    }
}

#[test]
fn sarif_has_rules_code_flows_fingerprints_and_suppressions() {
    let out = Cordon::new()
        .file("policies/p.yaml", WAIVED)
        .args(["check", "--format", "sarif", "--today", "2024-01-01"])
        .run();
    out.code(1);
    let sarif = out.json();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 3);
    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        2,
        "one result per failing or waived invariant"
    );
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "a-cannot-reach-c")
        .unwrap();
    assert_eq!(waived["level"], "error");
    assert!(
        waived["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("alice")
    );
    let steps = waived["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), 2);
    // The primary location is the flow that enters the protected side: the last hop.
    let primary = &waived["locations"][0]["physicalLocation"];
    assert_eq!(primary["artifactLocation"]["uri"], "policies/p.yaml");
    assert_eq!(primary["region"]["startLine"], 8);
    let failed = results
        .iter()
        .find(|r| r["ruleId"] == "b-cannot-reach-c")
        .unwrap();
    assert_eq!(failed["level"], "note");
    assert!(failed["partialFingerprints"]["cordonWitness/v1"].is_string());
    // The same finding gets the same fingerprint on every run.
    let again = Cordon::new()
        .file("policies/p.yaml", WAIVED)
        .args(["check", "--format", "sarif", "--today", "2024-01-01"])
        .run()
        .json();
    assert_eq!(again, sarif);
}

#[test]
fn junit_is_read_by_a_real_consumer() {
    let have_parser = std::process::Command::new("python3")
        .args(["-c", "import junitparser"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !have_parser {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install junitparser"
        );
        eprintln!("junitparser is not installed; skipping");
        return;
    }
    let run = Cordon::new().file("policies/p.yaml", WAIVED).args([
        "check",
        "--format",
        "junit",
        "-o",
        "junit.xml",
        "--today",
        "2024-01-01",
    ]);
    run.run().code(1);
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        print(case.name, ",".join(kinds) or "pass")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &run.dir().join("junit.xml").to_string_lossy()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a-cannot-reach-c Skipped\nb-cannot-reach-c Failure\nc-isolated pass\n"
    );
}

#[test]
fn github_annotations_point_at_the_flow_and_warn_of_expired_exceptions() {
    let out = Cordon::new()
        .file("policies/p.yaml", WAIVED)
        .args(["check", "--format", "github", "--today", "2024-01-01"])
        .run();
    out.code(1);
    assert!(
        out.stdout.starts_with(
            "::error file=policies/p.yaml,line=8,title=cordon%3A b-cannot-reach-c (low)::"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("::warning file=policies/p.yaml,line=15,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("owned by bob expired on 2020-01-01"),
        "{}",
        out.stdout
    );
}

#[test]
fn fail_on_sets_the_threshold() {
    let run = |threshold: &str| {
        Cordon::new()
            .file("policies/p.yaml", WAIVED)
            .args(["check", "--today", "2024-01-01", "--fail-on", threshold])
            .run()
    };
    // The only failure left is `low`; the critical one is waived.
    run("low").code(1);
    let out = run("medium");
    out.code(0);
    assert!(
        out.stdout.contains("FAIL"),
        "failures below the threshold are still reported"
    );
    run("critical").code(0);
}
