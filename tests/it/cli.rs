//! Exit codes, options and plain output of each command.

use crate::harness::Cordon;

const ESTATE: &str = "
segments:
  - {name: web, cidrs: [10.0.1.0/24]}
  - {name: db, cidrs: [10.0.2.0/24]}
assets:
  - {name: web1, in: web}
  - {name: web2, in: web}
  - {name: db1, in: db}
  - {name: laptop}
credentials:
  - {name: token, leaked: true}
flows:
  - {name: public, from: internet, to: web, ports: [tcp/443]}
  - {name: web-to-db, from: web1, to: db1, ports: [tcp/5432], auth: [token]}
";

const HOLDS: &str = "
invariants:
  - {name: laptop-isolated, forbid: {from: laptop, to: any}}
";

const FAILS: &str = "
invariants:
  - {name: internet-to-db, severity: critical, forbid: {from: internet, to: db}}
";

#[test]
fn check_reads_policies_by_default_and_exits_0_when_everything_holds() {
    let out = Cordon::new()
        .file("policies/estate.yaml", ESTATE)
        .file("policies/invariants.yaml", HOLDS)
        .args(["check"])
        .run();
    out.code(0);
    assert!(out.stdout.contains("laptop-isolated"));
    assert!(out.stdout.contains("1 passed, 0 failed"));
}

#[test]
fn check_exits_1_when_an_invariant_fails_and_shows_the_witness() {
    let out = Cordon::new()
        .file("estate.yaml", ESTATE)
        .file("invariants.yaml", FAILS)
        .args(["check", "."])
        .run();
    out.code(1);
    assert!(
        out.stdout.contains("internet reaches db1 in 2 hops"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("via web-to-db (tcp/5432)  estate.yaml:14"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("using credential token (leaked"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_exits_2_on_a_missing_path_or_an_empty_directory() {
    let out = Cordon::new().args(["check", "nowhere"]).run();
    out.code(2);
    assert!(
        out.stderr
            .contains("nowhere: error: path `nowhere` does not exist")
    );
    let out = Cordon::new()
        .file("empty/readme.txt", "")
        .args(["check", "empty"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("no policy files"));
    let out = Cordon::new().args(["check"]).run();
    out.code(2);
    assert!(out.stderr.contains("`policies` does not exist"));
}

#[test]
fn bad_command_lines_exit_2() {
    Cordon::new().args(["frobnicate"]).run().code(2);
    Cordon::new()
        .args(["check", "--format", "yaml"])
        .run()
        .code(2);
    Cordon::new().args(["reach"]).run().code(2);
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["check", "--today", "tomorrow"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("invalid `--today` date `tomorrow`"));
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["reach", "--from", "web", "--ports", "443"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("did you mean `tcp/443`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_and_version_exit_0() {
    let out = Cordon::new().args(["--help"]).run();
    out.code(0);
    assert!(out.stdout.contains("check"));
    let out = Cordon::new().args(["--version"]).run();
    out.code(0);
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn version_1_is_accepted_as_a_number_or_a_string_and_nothing_else_is() {
    let assets = "[{\"name\": \"a\", \"tags\": [\"x\"]}]";
    let accepted = [
        (
            "p.yaml",
            "version: 1\nassets: [{name: a, tags: [x]}]\n".to_owned(),
        ),
        (
            "p.yaml",
            "version: \"1\"\nassets: [{name: a, tags: [x]}]\n".to_owned(),
        ),
        (
            "p.json",
            format!("{{\"version\": 1, \"assets\": {assets}}}"),
        ),
        (
            "p.json",
            format!("{{\"version\": \"1\", \"assets\": {assets}}}"),
        ),
    ];
    for (file, text) in accepted {
        let out = Cordon::new()
            .file(file, &text)
            .args(["check", file, "--allow-empty"])
            .run();
        assert_eq!(out.code, 0, "{text}\n{}", out.stderr);
    }
    let refused = [
        (
            "p.yaml",
            "version:\nassets: [{name: a}]\n".to_owned(),
            "`null`",
        ),
        (
            "p.yaml",
            "version: 2\nassets: [{name: a}]\n".to_owned(),
            "`2`",
        ),
        (
            "p.json",
            format!("{{\"version\": null, \"assets\": {assets}}}"),
            "`null`",
        ),
        (
            "p.json",
            format!("{{\"version\": \"2\", \"assets\": {assets}}}"),
            "`2`",
        ),
    ];
    for (file, text, found) in refused {
        let out = Cordon::new()
            .file(file, &text)
            .args(["check", file, "--allow-empty"])
            .run();
        out.code(2);
        assert!(
            out.stderr.contains(&format!("unsupported version {found}")),
            "{text}\n{}",
            out.stderr
        );
    }
}

#[test]
fn output_goes_to_a_file_with_o() {
    let run = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .file("policies/b.yaml", FAILS)
        .args(["check", "--format", "json", "-o", "out.json"]);
    let out = run.run();
    out.code(1);
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(run.dir().join("out.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["summary"]["failed"], 1);
}

#[test]
fn colour_follows_the_color_option() {
    let run = |color: &str| {
        Cordon::new()
            .file("policies/a.yaml", ESTATE)
            .file("policies/b.yaml", FAILS)
            .args(["check", "--color", color])
            .env("NO_COLOR", "")
            .run()
    };
    assert!(run("always").stdout.contains('\u{1b}'));
    assert!(!run("never").stdout.contains('\u{1b}'));
    // Standard output is a pipe here, so `auto` means no colour.
    assert!(!run("auto").stdout.contains('\u{1b}'));
}

#[test]
fn reach_from_lists_leaves_outside_the_selection_with_fewest_flows() {
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["reach", "--from", "internet", "--format", "json"])
        .run();
    out.code(0);
    let value = out.json();
    assert_eq!(value["query"]["from"], serde_json::json!(["internet"]));
    assert_eq!(value["query"]["to"], serde_json::json!([]));
    assert_eq!(
        value["reachable"],
        serde_json::json!([
            {"entity": "db1", "kind": "asset", "hops": 2},
            {"entity": "web1", "kind": "asset", "hops": 1},
            {"entity": "web2", "kind": "asset", "hops": 1},
        ])
    );
}

#[test]
fn reach_to_lists_leaves_that_reach_the_selection_alone() {
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["reach", "--to", "db", "--format", "json"])
        .run();
    out.code(0);
    assert_eq!(
        out.json()["reachable"],
        serde_json::json!([
            {"entity": "internet", "kind": "internet", "hops": 2},
            {"entity": "web1", "kind": "asset", "hops": 1},
        ])
    );
}

#[test]
fn reach_ports_constrain_the_last_flow() {
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args([
            "reach", "--from", "internet", "--ports", "tcp/5432", "--format", "json",
        ])
        .run();
    assert_eq!(
        out.json()["reachable"],
        serde_json::json!([{"entity": "db1", "kind": "asset", "hops": 2}])
    );
}

#[test]
fn reach_with_an_unknown_selector_suggests_a_name() {
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["reach", "--from", "web3"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("unknown entity `web3`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `web1`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn today_comes_from_the_option_then_source_date_epoch() {
    let policy = format!(
        "{ESTATE}{FAILS}
exceptions:
  - {{invariant: internet-to-db, reason: migration, owner: alice, expires: 2024-06-30}}
"
    );
    let run = |args: &[&str], epoch: Option<&str>| {
        let mut run = Cordon::new()
            .file("policies/a.yaml", &policy)
            .args(args.to_vec());
        if let Some(epoch) = epoch {
            run = run.env("SOURCE_DATE_EPOCH", epoch);
        }
        run.run()
    };
    run(&["check", "--today", "2024-06-30"], None).code(0);
    run(&["check", "--today", "2024-07-01"], None).code(1);
    // 1719792000 is 2024-07-01.
    run(&["check"], Some("1719792000")).code(1);
    run(&["check"], Some("1719000000")).code(0);
    run(&["check", "--today", "2024-06-01"], Some("1719792000")).code(0);
}

#[test]
fn json_policies_name_unnamed_flows_by_line() {
    let policy = r#"{
  "assets": [{"name": "a"}, {"name": "b"}],
  "flows": [
    {"from": "a", "to": "b"},
    {"name": "named", "from": "b", "to": "a"}
  ],
  "invariants": [{"name": "t", "forbid": {"from": "a", "to": "b"}}]
}
"#;
    let out = Cordon::new()
        .file("policies/p.json", policy)
        .args(["check", "--format", "json"])
        .run();
    out.code(1);
    let hop = &out.json()["results"][0]["witness"][0];
    assert_eq!(hop["flow"], "policies/p.json:4");
    assert_eq!(hop["location"], "policies/p.json:4");
    let named = policy.replace(
        r#"{"from": "a", "to": "b"},"#,
        r#"{"from": "b", "to": "b"},"#,
    );
    let out = Cordon::new()
        .file(
            "policies/p.json",
            named.replace(r#""from": "b", "to": "a""#, r#""from": "a", "to": "b""#),
        )
        .args(["check", "--format", "json"])
        .run();
    out.code(1);
    let hop = &out.json()["results"][0]["witness"][0];
    assert_eq!(hop["flow"], "named");
    assert_eq!(hop["location"], "policies/p.json:5");
}

#[test]
fn off_a_terminal_nothing_but_problems_goes_to_stderr() {
    for args in [
        &["check"][..],
        &["check", "--quiet"],
        &["reach", "--from", "web", "-q"],
    ] {
        let out = Cordon::new()
            .file("policies/a.yaml", ESTATE)
            .file("policies/b.yaml", HOLDS)
            .args(args.to_vec())
            .run();
        out.code(0);
        assert_eq!(out.stderr, "", "{args:?}");
    }
    let out = Cordon::new()
        .file("policies/a.yaml", ESTATE)
        .args(["check", "--timings", "--allow-empty"])
        .run();
    assert!(out.stderr.contains("timing: parse"), "{}", out.stderr);
    assert!(out.stderr.contains("timing: total"), "{}", out.stderr);
}

#[test]
fn schema_prints_a_json_schema() {
    let out = Cordon::new().args(["schema"]).run();
    out.code(0);
    let schema = out.json();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["$defs"]["invariant"]["oneOf"].is_array());
}

#[test]
fn a_path_after_a_selector_option_stays_a_path() {
    let out = Cordon::new()
        .file("estate.yaml", ESTATE)
        .args(["reach", "--from", "internet", "estate.yaml"])
        .run();
    out.code(0);
    assert!(out.stdout.contains("web1"), "{}", out.stdout);
    // Several selectors: repeat the option, or separate them with commas.
    let out = Cordon::new()
        .file("estate.yaml", ESTATE)
        .args([
            "path",
            "--from",
            "internet",
            "--from",
            "laptop",
            "--to",
            "db",
            "estate.yaml",
        ])
        .run();
    out.code(0);
    assert!(out.stdout.contains("db1"), "{}", out.stdout);
}

#[test]
fn options_appear_only_where_they_mean_something() {
    let out = Cordon::new()
        .args(["path", "--from", "a", "--to", "b", "--all", "0"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("use 1 or more"), "{}", out.stderr);
    Cordon::new()
        .args(["schema", "--today", "2024-01-01"])
        .run()
        .code(2);
    // `--today` is a common option: the queries take it, and refuse a day that is none.
    let run = Cordon::new().file("policies/a.yaml", ESTATE);
    for query in [
        &["matrix"][..],
        &["reach", "--from", "web"],
        &["path", "--from", "web", "--to", "db"],
        &["connections"],
        &["graph"],
    ] {
        let mut args = query.to_vec();
        args.extend(["--today", "2024-01-01"]);
        run_args(&run, &args).code(0);
        args.pop();
        args.push("2024-02-30");
        let out = run_args(&run, &args);
        out.code(2);
        assert!(
            out.stderr
                .contains("invalid `--today` date `2024-02-30`: February 2024 has 29 days"),
            "{query:?}: {}",
            out.stderr
        );
    }
    Cordon::new()
        .args(["evidence", "-o", "x", "--out", "y"])
        .run()
        .code(2);
    Cordon::new()
        .args(["schema", "-o", "schema.json"])
        .run()
        .code(0);
}

#[test]
fn evidence_refuses_a_folder_that_is_not_empty_unless_forced() {
    let run = Cordon::new()
        .file("policies/a.yaml", format!("{ESTATE}{HOLDS}"))
        .file("bundle/stale.txt", "left over")
        .args(["evidence", "--out", "bundle", "--today", "2024-01-01"]);
    let out = run.run();
    out.code(2);
    assert!(
        out.stderr.contains("`bundle` is not empty"),
        "{}",
        out.stderr
    );
    assert!(
        run.dir().join("bundle/stale.txt").exists(),
        "nothing is touched"
    );
    let forced = run.args(["--force"]);
    forced.run().code(0);
    assert!(!forced.dir().join("bundle/stale.txt").exists());
    assert!(forced.dir().join("bundle/SHA256SUMS").exists());
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    for (shell, marker) in [
        ("bash", "_cordon()"),
        ("zsh", "#compdef cordon"),
        ("fish", "complete -c cordon"),
    ] {
        let out = Cordon::new().args(["completions", shell]).run();
        out.code(0);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        assert!(
            out.stdout.contains("evidence"),
            "{shell} completes subcommands"
        );
    }
    // bash itself must accept the script.
    let script = Cordon::new().args(["completions", "bash"]).run().stdout;
    let parsed = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(parsed.success());
    Cordon::new().args(["completions", "tcsh"]).run().code(2);

    let man = Cordon::new().args(["man"]).run();
    man.code(0);
    assert!(man.stdout.contains(".TH cordon 1"), "{}", man.stdout);
    assert!(man.stdout.contains("check"), "{}", man.stdout);
    assert!(
        man.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{}",
        man.stdout
    );
}

#[test]
fn a_real_validator_accepts_the_schema_and_every_policy_file() {
    // Python's jsonschema, as `.ci/run` installs it; where it is missing, `.ci/run` runs
    // the same check, so this test only says so.
    let available = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, yaml"])
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        eprintln!("python3 with jsonschema and pyyaml not found: .ci/run validates the schema");
        return;
    }
    // Both kinds of import that SPEC's section 3b places, beside the repository's files.
    let run = Cordon::new()
        .file(
            "imports.yaml",
            "imports:\n  - {terraform: plan.json, in: aws-prod}\n  - {kubernetes: k8s, in: cluster}\n",
        )
        .args(["schema", "-o", "schema.json"]);
    run.run().code(0);
    let repo = crate::harness::repo();
    let mut files = vec![run.dir().join("imports.yaml")];
    for dir in [
        "policies",
        "examples/thanksgiving-2023/before",
        "examples/thanksgiving-2023/after",
    ] {
        for entry in std::fs::read_dir(repo.join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let out = std::process::Command::new("python3")
        .arg(repo.join(".ci/validate-schema.py"))
        .arg(run.dir().join("schema.json"))
        .args(&files)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        // Every file here holds one policy document.
        report.contains(&format!(
            "{} files, {} policy documents, 0 errors",
            files.len(),
            files.len()
        )),
        "{report}"
    );
}

#[test]
fn one_of_a_thing_is_said_in_the_singular() {
    let policy = "\
assets:
  - {name: a}
  - {name: b}
flows:
  - {from: a, to: b}
invariants:
  - {name: t, forbid: {from: a, to: b}}
exceptions:
  - {invariant: t, reason: r, owner: o, expires: 2023-12-31}
";
    let run = Cordon::new().file("p.yaml", policy);
    let check = run_args(&run, &["check", "p.yaml", "--today", "2024-01-01"]);
    assert!(
        check.stdout.contains("failed: 1 invariant, 0 passed"),
        "{}",
        check.stdout
    );
    let list = run_args(
        &run,
        &[
            "check",
            "p.yaml",
            "--list-exceptions",
            "--today",
            "2024-01-01",
        ],
    );
    assert!(list.stdout.contains("expired 1 day ago"), "{}", list.stdout);
    let reach = run_args(&run, &["reach", "p.yaml", "--to", "b"]);
    assert!(
        reach.stdout.starts_with("1 leaf reaches b"),
        "{}",
        reach.stdout
    );
}

fn run_args(run: &Cordon, args: &[&str]) -> crate::harness::Output {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    crate::harness::run_in(run.dir(), &args, &[])
}
