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

/// A flow that opens nothing (a warning), and an exception on an invariant that holds.
const WARNED: &str = "
assets:
  - {name: a}
  - {name: b}
flows:
  - {name: a-to-b, from: a, to: b, ports: []}
invariants:
  - {name: b-cannot-reach-a, forbid: {from: b, to: a}}
exceptions:
  - {invariant: b-cannot-reach-a, reason: old, owner: carol, expires: 2030-01-01}
";

#[test]
fn warnings_and_idle_exceptions_reach_the_ci_formats() {
    let run = Cordon::new().file("p.yaml", WARNED).args([
        "check",
        "p.yaml",
        "--format",
        "sarif",
        "--today",
        "2024-01-01",
    ]);
    let out = run.run();
    out.code(0);
    let sarif = out.json();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "b-cannot-reach-a",
            "cordon/policy-warning",
            "cordon/idle-exception"
        ]
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let found: Vec<(&str, u64, u64, u64)> = results
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (
                r["ruleId"].as_str().unwrap(),
                r["ruleIndex"].as_u64().unwrap(),
                region["startLine"].as_u64().unwrap(),
                region["startColumn"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("cordon/policy-warning", 1, 6, 43),
            ("cordon/idle-exception", 2, 10, 0)
        ]
    );
    assert!(
        results[1]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("owned by carol waives nothing: the invariant holds without it"),
        "{}",
        results[1]
    );

    let args = [
        "check",
        "p.yaml",
        "--format",
        "github",
        "--today",
        "2024-01-01",
    ];
    let github = crate::harness::run_in(run.dir(), &args.map(str::to_owned), &[]);
    assert!(
        github.stdout.contains(
            "::warning file=p.yaml,line=6,col=43,title=cordon%3A policy warning::`ports: []` allows no port"
        ),
        "{}",
        github.stdout
    );

    // With warnings as errors, an exception that waives nothing stops the gate too.
    let idle = Cordon::new()
        .file("p.yaml", WARNED.replace("ports: []", "ports: [tcp/22]"))
        .args(["check", "p.yaml", "--today", "2024-01-01"]);
    idle.run().code(0);
    let args = [
        "check",
        "p.yaml",
        "--today",
        "2024-01-01",
        "--deny-warnings",
    ];
    let denied = crate::harness::run_in(idle.dir(), &args.map(str::to_owned), &[]);
    denied.code(2);
    assert!(
        denied
            .stderr
            .contains("`--deny-warnings` makes that an error"),
        "{}",
        denied.stderr
    );
}

#[test]
fn sarif_uris_are_percent_encoded() {
    // A space and `#` in a path are no URI reference as they stand: `#` would start a
    // fragment, and code scanning would place the result in another file.
    let out = Cordon::new()
        .file("my pol#icies/p.yaml", WAIVED)
        .args([
            "check",
            "my pol#icies",
            "--format",
            "sarif",
            "--today",
            "2024-01-01",
        ])
        .run();
    out.code(1);
    let sarif = out.json();
    let run = &sarif["runs"][0];
    let encoded = "my%20pol%23icies/p.yaml";
    assert_eq!(run["artifacts"][0]["location"]["uri"], encoded);
    let verdicts = (run["results"].as_array().unwrap().iter())
        .filter(|result| !result["ruleId"].as_str().unwrap().starts_with("cordon/"));
    for result in verdicts {
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(uri, encoded);
        let defined = &result["relatedLocations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(defined["uri"], encoded);
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
    // Three invariants, and the rule of exceptions that waive nothing (one expired).
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 4);
    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        3,
        "one result per failing or waived invariant, and one for the expired exception"
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
    // A `low` failure fails the run at the default `--fail-on low`: an error.
    assert_eq!(failed["level"], "error");
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
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    print("suite", suite.tests, "tests", suite.failures, "failures", suite.skipped, "skipped")
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        print(case.name, ",".join(kinds) or "pass", case.system_out or "")
"#;
    // Below `--fail-on`, the low failure is skipped, its witness kept as output.
    for (threshold, code, expected) in [
        (
            "low",
            1,
            "suite 3 tests 1 failures 1 skipped\na-cannot-reach-c Skipped \nb-cannot-reach-c Failure \nc-isolated pass \n",
        ),
        (
            "critical",
            0,
            "suite 3 tests 0 failures 2 skipped\na-cannot-reach-c Skipped \nb-cannot-reach-c Skipped 1. b -> c via b-to-c (any) at policies/p.yaml:8\n\nc-isolated pass \n",
        ),
    ] {
        let run = Cordon::new().file("policies/p.yaml", WAIVED).args([
            "check",
            "--format",
            "junit",
            "-o",
            "junit.xml",
            "--today",
            "2024-01-01",
            "--fail-on",
            threshold,
        ]);
        run.run().code(code);
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
            expected,
            "{threshold}"
        );
    }
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

const BASE: &str = "
segments:
  - {name: web}
  - {name: db}
  - {name: vault}
assets:
  - {name: web1, in: web}
  - {name: db1, in: db}
  - {name: secrets, in: vault}
flows:
  - {name: web-to-db, from: web1, to: db1, ports: [tcp/5432]}
invariants:
  - {name: web-cannot-reach-vault, severity: critical, forbid: {from: web, to: vault}}
";

#[test]
fn diff_reports_exactly_what_one_new_flow_opens() {
    let head = BASE.replace(
        "flows:\n",
        "flows:\n  - {name: db-to-vault, from: db1, to: secrets}\n",
    );
    let run = Cordon::new()
        .file("base/p.yaml", BASE)
        .file("head/p.yaml", &head)
        .args([
            "diff", "base", "head", "--level", "segment", "--format", "json",
        ]);
    let out = run.run();
    out.code(1);
    let value = out.json();
    assert_eq!(value["regressions"], 1);
    assert_eq!(
        value["invariants"][0]["invariant"],
        "web-cannot-reach-vault"
    );
    assert_eq!(value["invariants"][0]["change"], "regression");
    let opened: Vec<(String, String)> = value["opened"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["from"].as_str().unwrap().to_owned(),
                p["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        opened,
        [
            ("db".to_owned(), "vault".to_owned()),
            ("web".to_owned(), "vault".to_owned())
        ]
    );
    assert_eq!(value["opened"][1]["witness"].as_array().unwrap().len(), 2);
    assert_eq!(value["closed"], serde_json::json!([]));
    assert_eq!(value["changes"][0]["name"], "db-to-vault");
    assert_eq!(value["changes"][0]["change"], "added");
    // Reversed, the same change closes those pairs and regresses nothing.
    let out = Cordon::new()
        .file("base/p.yaml", &head)
        .file("head/p.yaml", BASE)
        .args([
            "diff", "base", "head", "--level", "segment", "--format", "json",
        ])
        .run();
    out.code(0);
    assert_eq!(out.json()["closed"].as_array().unwrap().len(), 2);
}

#[test]
fn diff_deny_new_paths_fails_on_any_new_pair() {
    let head = BASE.replace(
        "flows:\n",
        "flows:\n  - {name: web-to-web, from: db1, to: web1}\n",
    );
    let run = |deny: bool| {
        let mut args = vec!["diff", "base", "head", "--level", "segment"];
        if deny {
            args.push("--deny-new-paths");
        }
        Cordon::new()
            .file("base/p.yaml", BASE)
            .file("head/p.yaml", &head)
            .args(args)
            .run()
    };
    run(false).code(0);
    run(true).code(1);
}

#[test]
fn diff_in_every_format() {
    for format in ["text", "markdown", "json"] {
        let out = crate::harness::run_repo(&[
            "diff",
            "examples/thanksgiving-2023/after",
            "examples/thanksgiving-2023/before",
            "--level",
            "segment",
            "--format",
            format,
        ]);
        out.code(1);
        insta::assert_snapshot!(format!("diff-{format}"), out.stdout);
    }
}

#[test]
fn diff_reads_policies_at_a_git_revision() {
    let run = Cordon::new().file("policies/p.yaml", BASE);
    let git = |args: &[&str]| crate::harness::git(run.dir(), args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    let head = BASE.replace(
        "flows:\n",
        "flows:\n  - {name: db-to-vault, from: db1, to: secrets}\n",
    );
    std::fs::write(run.dir().join("policies/p.yaml"), head).unwrap();
    let out = run
        .args(["diff", "git:main", ".", "--format", "json"])
        .run();
    out.code(1);
    assert_eq!(out.json()["regressions"], 1);
    let out = Cordon::new().args(["diff", "git:nope", "."]).run();
    out.code(2);
}

#[test]
fn the_change_that_brings_the_first_policies_is_gated_too() {
    // The base revision has no `policies/` yet: it is the estate before cordon, so every
    // invariant, entity and flow is added (and a new invariant that fails regresses).
    let run = Cordon::new().file("README", "no policies yet\n");
    let git = |args: &[&str]| crate::harness::git(run.dir(), args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "before cordon"]);
    std::fs::create_dir_all(run.dir().join("policies")).unwrap();
    std::fs::write(run.dir().join("policies/p.yaml"), BASE).unwrap();
    std::fs::create_dir_all(run.dir().join("empty")).unwrap();
    for base in ["git:main", "empty"] {
        let args = ["diff", base, "policies", "--format", "json"].map(str::to_owned);
        let out = crate::harness::run_in(run.dir(), &args, &[]);
        assert!(
            out.stderr.contains(&format!(
                "note: `{base}` holds no policy files: everything in the change is new"
            )),
            "{}",
            out.stderr
        );
        let json = out.json();
        let added = (json["changes"].as_array().unwrap().iter())
            .filter(|change| change["change"] == "added")
            .count();
        assert!(added > 3, "{json}");
    }
    // A base that does not exist at all is still an error, as a typo would be.
    let args = ["diff", "nowhere", "policies"].map(str::to_owned);
    crate::harness::run_in(run.dir(), &args, &[]).code(2);
}

/// Every `cordon` command in the ready-made CI files is one the command line accepts.
#[test]
fn ci_templates_run_valid_commands() {
    use clap::Parser;
    let root = crate::harness::repo();
    let mut checked = 0;
    for file in [
        "examples/ci/github-actions.yml",
        "examples/ci/gitlab-ci.yml",
        ".pre-commit-hooks.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            let Some(start) = line
                .find("cordon check")
                .or_else(|| line.find("cordon diff"))
            else {
                continue;
            };
            let command = line[start..].split("||").next().unwrap();
            let command = command.replace("${{ github.base_ref }}", "main");
            let args: Vec<String> = command
                .split_whitespace()
                .map(|word| word.trim_matches('"').to_owned())
                .collect();
            if let Err(error) = cordon::cli::Cli::try_parse_from(&args) {
                panic!("{file}: `{command}` does not parse: {error}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} commands found");
}

#[test]
fn list_exceptions_shows_days_left() {
    let out = Cordon::new()
        .file("policies/p.yaml", WAIVED)
        .args(["check", "--list-exceptions", "--today", "2024-06-20"])
        .run();
    out.code(0);
    assert!(
        out.stdout
            .contains("a-cannot-reach-c  owner alice  expires 2024-06-30 (10 days left)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("expired 1632 days ago"),
        "{}",
        out.stdout
    );
}

const EXPOSED: &str = "
accounts:
  - {name: prod}
segments:
  - {name: web, in: prod}
  - {name: db, in: prod}
assets:
  - {name: web1, in: web}
  - {name: db1, in: db}
  - {name: db2, in: db}
flows:
  - {name: web-to-db, from: web1, to: db1, ports: [tcp/5432]}
invariants:
  - {name: web-cannot-reach-db, forbid: {from: web, to: db}}
";

/// Runs `diff base head` with `args` after them.
pub fn diff(base: &str, head: &str, args: &[&str]) -> crate::harness::Output {
    let mut all = vec!["diff", "base", "head"];
    all.extend_from_slice(args);
    Cordon::new()
        .file("base/p.yaml", base)
        .file("head/p.yaml", head)
        .args(all)
        .run()
}

#[test]
fn diff_sees_new_internet_exposure_at_every_level() {
    let head = EXPOSED.replace(
        "flows:\n",
        "flows:\n  - {name: exposed, from: internet, to: web1}\n",
    );
    // From `web1`, the attacker on the internet goes on to `db1`.
    let cases = [
        (
            "account",
            &[("internet", "prod")][..],
            "1 newly reachable pair",
        ),
        (
            "segment",
            &[("internet", "db"), ("internet", "web")][..],
            "2 newly reachable pairs",
        ),
    ];
    for (level, expected, count) in cases {
        let out = diff(EXPOSED, &head, &["--level", level, "--format", "json"]);
        // No invariant regresses, so without `--deny-new-paths` the change passes...
        out.code(0);
        let value = out.json();
        assert_eq!(value["verdict"], "pass");
        // ...but the new exposure is reported.
        let opened: Vec<(&str, &str)> = value["opened"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["from"].as_str().unwrap(), p["to"].as_str().unwrap()))
            .collect();
        assert_eq!(opened, expected, "{level}");
        assert_eq!(value["opened"][0]["witness"][0]["flow"], "exposed");
        let exposed = expected[0].1;
        let out = diff(EXPOSED, &head, &["--level", level, "--deny-new-paths"]);
        out.code(1);
        assert!(
            out.stdout.starts_with(&format!(
                "new paths denied (--deny-new-paths): 0 regressions, {count}"
            )),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&format!(
                "\nnewly reachable {level}s:\n  internet -> {exposed} in "
            )),
            "{}",
            out.stdout
        );
        let out = diff(
            EXPOSED,
            &head,
            &["--level", level, "--deny-new-paths", "--format", "markdown"],
        );
        out.code(1);
        assert!(
            out.stdout.contains("❌ **New paths denied**"),
            "{}",
            out.stdout
        );
        let out = diff(
            EXPOSED,
            &head,
            &["--level", level, "--deny-new-paths", "--format", "json"],
        );
        out.code(1);
        assert_eq!(out.json()["verdict"], "fail");
        assert_eq!(out.json()["denied_pairs"], expected.len());
    }
    // Reaching out to the internet is a pair too, after exposure.
    let head = EXPOSED.replace(
        "flows:\n",
        "flows:\n  - {name: exposed, from: internet, to: web1}\n  - {name: egress, from: db1, to: internet}\n",
    );
    let value = diff(EXPOSED, &head, &["--format", "json"]).json();
    let opened: Vec<(&str, &str)> = value["opened"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["from"].as_str().unwrap(), p["to"].as_str().unwrap()))
        .collect();
    assert_eq!(opened, [("internet", "prod"), ("prod", "internet")]);
}

#[test]
fn diff_reports_an_invariant_that_fails_wider() {
    let wider = EXPOSED.replace(
        "flows:\n",
        "flows:\n  - {name: second-hole, from: web1, to: db2}\n",
    );
    let out = diff(EXPOSED, &wider, &["--level", "segment", "--format", "json"]);
    out.code(1);
    let value = out.json();
    assert_eq!(value["verdict"], "fail");
    assert_eq!(value["regressions"], 1);
    let change = &value["invariants"][0];
    assert_eq!(change["change"], "fails wider");
    assert_eq!(change["before"], "fail");
    assert_eq!(change["after"], "fail");
    assert_eq!(change["wider"], serde_json::json!(["db2"]));
    // The witness shows the new reach, not the old hole.
    assert_eq!(change["witness"][0]["flow"], "second-hole");
    assert_eq!(change["witness"][0]["to"], "db2");
    assert_eq!(change["message"], "web1 reaches db2 in 1 hop");
    let out = diff(EXPOSED, &wider, &["--level", "segment"]);
    out.code(1);
    assert!(
        out.stdout.starts_with("regressed: 1 regression"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  fails wider web-cannot-reach-db  fail -> fail"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("now also reaches db2"),
        "{}",
        out.stdout
    );
    // A second way to the same target is not wider: the invariant is unchanged.
    let same = EXPOSED.replace(
        "flows:\n",
        "flows:\n  - {name: another-way, from: web1, to: db1, ports: [tcp/22]}\n",
    );
    let out = diff(EXPOSED, &same, &["--format", "json"]);
    out.code(0);
    assert_eq!(out.json()["invariants"][0]["change"], "unchanged");
    // Narrowed by `ports`, only reach on those ports counts.
    let on_ports = EXPOSED.replace(
        "forbid: {from: web, to: db}",
        "forbid: {from: web, to: db, ports: [tcp/5432]}",
    );
    let wider_elsewhere = on_ports.replace(
        "flows:\n",
        "flows:\n  - {name: ssh-hole, from: web1, to: db2, ports: [tcp/22]}\n",
    );
    let out = diff(&on_ports, &wider_elsewhere, &["--format", "json"]);
    out.code(0);
    assert_eq!(out.json()["invariants"][0]["change"], "unchanged");
}

/// At each `--fail-on`, what every format says agrees with the exit code.
#[test]
fn every_check_format_says_what_the_exit_code_does() {
    // `WAIVED` leaves one failure, `b-cannot-reach-c`, of severity `low`.
    for (threshold, code) in [("low", 1), ("medium", 0), ("critical", 0)] {
        let run = |format: &str| {
            let out = Cordon::new()
                .file("policies/p.yaml", WAIVED)
                .args([
                    "check",
                    "--today",
                    "2024-01-01",
                    "--fail-on",
                    threshold,
                    "--format",
                    format,
                ])
                .run();
            out.code(code);
            out.stdout
        };
        let fails = code == 1;

        let text = run("text");
        let summary = text.lines().last().unwrap();
        if fails {
            assert_eq!(
                summary,
                "failed: 3 invariants, 1 passed, 1 failed, 1 waived"
            );
        } else {
            assert_eq!(
                summary,
                format!(
                    "passed: 3 invariants, 1 passed, 1 failed below --fail-on {threshold}, 1 waived"
                )
            );
        }

        let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
        assert_eq!(json["summary"]["failed"], 1, "a failure is still a failure");
        assert_eq!(json["gate"]["fail_on"], threshold);
        assert_eq!(json["gate"]["blocking"], if fails { 1 } else { 0 });
        assert_eq!(json["gate"]["verdict"], if fails { "fail" } else { "pass" });

        let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let failed = results
            .iter()
            .find(|r| r["ruleId"] == "b-cannot-reach-c")
            .unwrap();
        assert_eq!(failed["level"], if fails { "error" } else { "note" });

        let junit = run("junit");
        let failures = format!("failures=\"{}\" skipped=", if fails { 1 } else { 0 });
        assert!(junit.contains(&failures), "{junit}");
        assert_eq!(junit.contains("<failure"), fails, "{junit}");
        assert_eq!(
            junit.contains(&format!(
                "<skipped message=\"below --fail-on {threshold}: b reaches c in 1 hop\"/>"
            )),
            !fails,
            "{junit}"
        );

        let github = run("github");
        let annotation = if fails { "::error" } else { "::warning" };
        assert!(
            github.starts_with(&format!(
                "{annotation} file=policies/p.yaml,line=8,title=cordon%3A b-cannot-reach-c (low)::"
            )),
            "{github}"
        );
        assert_eq!(github.contains("::error"), fails, "{github}");
    }
}

#[test]
fn a_gate_with_no_invariants_is_refused_unless_allowed() {
    // An asset that a flow mentions, so that no warning comes before the error.
    const NOTHING: &str = "assets:\n  - {name: a}\n  - {name: b}\nflows:\n  - {from: a, to: b}\n";
    for command in [&["check"][..], &["evidence", "--out", "bundle"]] {
        let run = |extra: &[&str]| {
            let run = Cordon::new()
                .file("policies/p.yaml", NOTHING)
                .args(command.iter().chain(extra).copied());
            let out = run.run();
            (out, run.dir().join("bundle").exists())
        };
        let (out, written) = run(&[]);
        out.code(2);
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            "error: no invariants in the 1 policy file read, so there is nothing to verify\n  help: add `invariants:` to a policy file, or pass `--allow-empty` if passing with none is intended\n"
        );
        assert!(!written, "{command:?} wrote a bundle of nothing");
        let (out, _) = run(&["--allow-empty"]);
        out.code(0);
    }
}
