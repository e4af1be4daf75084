//! The architect's queries (`path`, `matrix`, `graph`) in every format, on the bundled
//! model and the incident example.

use crate::harness::{Cordon, run_repo};

const BEFORE: &str = "examples/thanksgiving-2023/before";

#[test]
fn path_in_every_format() {
    for format in ["text", "json", "mermaid", "dot"] {
        let out = run_repo(&[
            "path",
            BEFORE,
            "--from",
            "internet",
            "--to",
            "bitbucket",
            "--all",
            "3",
            "--format",
            format,
        ]);
        out.code(0);
        insta::assert_snapshot!(format!("path-{format}"), out.stdout);
    }
}

#[test]
fn path_cut_advice_names_the_leaked_credential_and_its_flow() {
    let out = run_repo(&["path", BEFORE, "--from", "internet", "--to", "atlassian"]);
    out.code(0);
    assert!(
        out.stdout.contains("remove or narrow 2 flows"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("bitbucket-access opens only with bitbucket-sa (leaked)"),
        "{}",
        out.stdout
    );
}

#[test]
fn path_json_has_the_contract_shape() {
    let out = run_repo(&[
        "path",
        "--from",
        "internet",
        "--to",
        "customer-db",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    assert_eq!(value["query"]["from"], serde_json::json!(["internet"]));
    assert_eq!(value["query"]["to"], serde_json::json!(["customer-db"]));
    assert_eq!(value["paths"][0].as_array().unwrap().len(), 4);
    assert_eq!(value["cut"]["flows"], serde_json::json!(["public-https"]));
    let out = run_repo(&[
        "path",
        "--from",
        "aws-isolated",
        "--to",
        "internet",
        "--format",
        "json",
    ]);
    out.code(0);
    assert_eq!(out.json()["paths"], serde_json::json!([]));
    assert_eq!(out.json()["cut"]["flows"], serde_json::json!([]));
}

#[test]
fn path_with_overlapping_ends_is_a_usage_error() {
    let out = run_repo(&["path", "--from", "corporate", "--to", "jira"]);
    out.code(2);
    assert!(out.stderr.contains("overlap on `jira`"), "{}", out.stderr);
}

#[test]
fn matrix_in_every_format() {
    for format in ["text", "csv", "json", "markdown", "html"] {
        let out = run_repo(&["matrix", "--level", "environment", "--format", format]);
        out.code(0);
        insta::assert_snapshot!(format!("matrix-{format}"), out.stdout);
    }
    let out = run_repo(&["matrix", "--format", "json"]);
    out.code(0);
    assert_eq!(out.json()["level"], "account");
}

/// `internet` is a row and a column of every grid, at every level; in JSON it stands
/// apart, since the contract's `entities` and `cells` are those of the level.
#[test]
fn the_matrix_shows_internet_at_every_level() {
    for level in ["environment", "account", "segment"] {
        let value = run_repo(&["matrix", "--level", level, "--format", "json"]).json();
        let entities = value["entities"].as_array().unwrap();
        assert!(!entities.iter().any(|e| e == "internet"), "{level}");
        for cell in value["cells"].as_array().unwrap() {
            assert!(cell["from"] != "internet" && cell["to"] != "internet");
        }
        // Every entity internet reaches is one of the level's, and so for the reverse.
        for (key, end) in [("reaches", "to"), ("reached_by", "from")] {
            for pair in value["internet"][key].as_array().unwrap() {
                assert!(entities.contains(&pair[end]), "{level} {pair}");
                assert!(pair["hops"].as_u64().unwrap() >= 1);
            }
        }
        let csv = run_repo(&["matrix", "--level", level, "--format", "csv"]).stdout;
        assert!(csv.starts_with("from,internet,"), "{csv}");
        assert!(
            csv.lines().nth(1).unwrap().starts_with("internet,"),
            "{csv}"
        );
    }
    // The bundled model's edge is open to the internet: the segment grid shows it.
    let value = run_repo(&["matrix", "--level", "segment", "--format", "json"]).json();
    assert!(
        value["internet"]["reaches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pair| pair["hops"] == 1),
        "{value}"
    );
}

#[test]
fn the_html_matrix_is_self_contained() {
    let out = run_repo(&["matrix", "--level", "segment", "--format", "html"]);
    out.code(0);
    let html = out.stdout;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("position: sticky"), "headers stay in view");
    assert!(html.contains("title=\""), "cells carry their witness");
}

#[test]
fn reach_by_level_is_the_blast_radius() {
    let out = run_repo(&[
        "reach",
        "--from",
        "employee-laptops",
        "--level",
        "environment",
    ]);
    out.code(0);
    insta::assert_snapshot!("reach-level-text", out.stdout);
    let out = run_repo(&[
        "reach",
        "--to",
        "customer-db",
        "--level",
        "account",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    assert_eq!(value["by_level"]["level"], "account");
    insta::assert_json_snapshot!("reach-level-json", value);
}

#[test]
fn graph_in_every_format() {
    let cases: [&[&str]; 8] = [
        &["graph", BEFORE, "--format", "dot"],
        &["graph", BEFORE, "--format", "mermaid"],
        &["graph", BEFORE, "--format", "json"],
        &["graph", "--level", "account", "--format", "dot"],
        &[
            "graph", "--focus", "jira", "--depth", "1", "--format", "mermaid",
        ],
        &[
            "graph",
            BEFORE,
            "--highlight-from",
            "internet",
            "--highlight-to",
            "bitbucket",
            "--format",
            "dot",
        ],
        &["graph", BEFORE, "--format", "text"],
        &[
            "graph",
            BEFORE,
            "--level",
            "account",
            "--highlight-from",
            "internet",
            "--highlight-to",
            "bitbucket",
            "--format",
            "text",
        ],
    ];
    for (index, args) in cases.iter().enumerate() {
        let out = run_repo(args);
        out.code(0);
        insta::assert_snapshot!(format!("graph-{index}"), out.stdout);
    }
}

#[test]
fn graph_svg_renders_without_external_programs() {
    let out = run_repo(&["graph", BEFORE, "--format", "svg"]);
    out.code(0);
    assert!(
        out.stdout.contains("<svg"),
        "{}",
        &out.stdout[..out.stdout.len().min(200)]
    );
    assert!(out.stdout.contains("bitbucket"));
}

#[test]
fn graph_focus_keeps_the_neighbourhood_only() {
    let out = run_repo(&[
        "graph", "--focus", "jira", "--depth", "1", "--format", "json",
    ]);
    out.code(0);
    let value = out.json();
    let names: Vec<&str> = value["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"jira") && names.contains(&"bitbucket"),
        "{names:?}"
    );
    assert!(!names.contains(&"customer-db"), "{names:?}");
}

/// Graphviz itself accepts every DOT that cordon writes. CI installs it; elsewhere the
/// test says so and checks nothing.
#[test]
fn graphviz_accepts_the_dot_output() {
    let have_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    if !have_dot {
        assert!(std::env::var_os("CI").is_none(), "CI must install graphviz");
        eprintln!("graphviz is not installed; skipping");
        return;
    }
    let outputs = [
        run_repo(&["graph", "--format", "dot"]).stdout,
        run_repo(&["graph", "--level", "account", "--format", "dot"]).stdout,
        run_repo(&[
            "graph",
            BEFORE,
            "--highlight-from",
            "internet",
            "--highlight-to",
            "jira",
        ])
        .stdout,
        run_repo(&[
            "path",
            BEFORE,
            "--from",
            "internet",
            "--to",
            "bitbucket",
            "--all",
            "3",
            "--format",
            "dot",
        ])
        .stdout,
    ];
    for dot in outputs {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let result = child.wait_with_output().unwrap();
        assert!(
            result.status.success() && result.stderr.is_empty(),
            "dot rejected:\n{dot}\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

#[test]
fn connections_in_every_format() {
    for format in ["text", "json", "csv"] {
        let out = run_repo(&["connections", BEFORE, "--format", format]);
        out.code(0);
        insta::assert_snapshot!(format!("connections-{format}"), out.stdout);
    }
    let out = run_repo(&["connections", BEFORE, "--from", "internet"]);
    out.code(0);
    assert!(
        out.stdout
            .lines()
            .skip(1)
            .filter(|l| l.contains(" -> "))
            .all(|l| l.trim_start().starts_with("internet -> ")),
        "{}",
        out.stdout
    );
}

#[test]
fn svg_refuses_a_picture_too_large_to_lay_out_quickly() {
    let mut policy = String::from("assets:\n");
    for i in 0..300 {
        policy.push_str(&format!("  - {{name: a{i}}}\n"));
    }
    policy.push_str("flows:\n");
    for i in 0..300 {
        policy.push_str(&format!("  - {{from: a{i}, to: a{}}}\n", (i * 7 + 3) % 300));
    }
    let started = std::time::Instant::now();
    let out = crate::harness::Cordon::new()
        .file("big.yaml", policy)
        .args(["graph", "big.yaml", "--format", "svg"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("`--level account` or `--focus ENTITY`"),
        "{}",
        out.stderr
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "refused at once, not after a layout"
    );
}

#[test]
fn an_edge_is_dashed_only_when_every_flow_needs_a_credential_and_closed_when_none_can_open() {
    let policy = "\
assets:
  - {name: a}
  - {name: b}
  - {name: c}
credentials:
  - {name: live, held_by: a}
  - {name: gone, held_by: a, status: revoked}
flows:
  - {name: open, from: a, to: b}
  - {name: locked, from: a, to: b, auth: [live]}
  - {name: dead, from: a, to: c, auth: [gone]}
";
    let out = crate::harness::Cordon::new()
        .file("p.yaml", policy)
        .args(["graph", "p.yaml"])
        .run();
    out.code(0);
    let line = |to: &str| {
        out.stdout
            .lines()
            .find(|line| line.contains(&format!("\"a\" -> \"{to}\"")))
            .unwrap()
            .to_owned()
    };
    assert!(
        !line("b").contains("style="),
        "one flow is open: {}",
        line("b")
    );
    assert!(line("c").contains("style=dotted"), "{}", line("c"));
    let mermaid = crate::harness::Cordon::new()
        .file("p.yaml", policy)
        .args(["graph", "p.yaml", "--format", "mermaid"])
        .run();
    assert!(
        mermaid.stdout.contains("n_a -.-x|\"dead\"| n_c"),
        "{}",
        mermaid.stdout
    );
    assert!(
        mermaid.stdout.contains("n_a -->|\"locked, open\"| n_b"),
        "{}",
        mermaid.stdout
    );
}

/// The first hop of `check`'s witness for `forbid: {from: internet, to: TARGET}` on
/// `flows` (internet to `web` to `db`): its flow and credential.
fn first_hop(flows: &str, target: &str, ports: &str) -> (String, serde_json::Value) {
    let policy = format!(
        "assets:\n  - {{name: web}}\n  - {{name: db}}\n  - {{name: vendor}}\ncredentials:\n  - {{name: key, held_by: vendor, leaked: true}}\nflows:\n{flows}  - {{name: app, from: web, to: db}}\ninvariants:\n  - {{name: i, forbid: {{from: internet, to: {target}{ports}}}}}\n"
    );
    let out = crate::harness::Cordon::new()
        .file("p.yaml", policy)
        .args(["check", "p.yaml", "--format", "json"])
        .run();
    out.code(1);
    let hop = &out.json()["results"][0]["witness"][0];
    (
        hop["flow"].as_str().unwrap().to_owned(),
        hop["credential"].clone(),
    )
}

#[test]
fn a_witness_takes_an_open_flow_beside_a_locked_one() {
    let locked = "  - {name: locked, from: internet, to: web, auth: [key], ports: [tcp/443]}\n";
    let open = "  - {name: open, from: internet, to: web, ports: [tcp/443, tcp/80]}\n";
    // Whichever comes first, the hop needs no credential.
    for flows in [format!("{locked}{open}"), format!("{open}{locked}")] {
        let (flow, credential) = first_hop(&flows, "db", "");
        assert_eq!(
            (flow.as_str(), credential),
            ("open", serde_json::Value::Null)
        );
    }
    // The last hop keeps a flow that allows the ports asked for.
    let narrow = "  - {name: open, from: internet, to: web, ports: [tcp/80]}\n";
    let (flow, credential) = first_hop(&format!("{locked}{narrow}"), "web", ", ports: [tcp/443]");
    assert_eq!((flow.as_str(), credential), ("locked", "key".into()));
    // An open flow from a group that holds the source serves as well.
    let grouped = "  - {name: open, from: any, to: web}\n";
    let (flow, _) = first_hop(&format!("{locked}{grouped}"), "db", "");
    assert_eq!(flow, "open");
}

#[test]
fn a_level_the_model_lacks_is_noted_with_one_it_has() {
    // A cluster read alone has namespaces as segments and no account: at the default
    // level, a diff gate compares nothing and would pass every change.
    let pods = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: web}
---
apiVersion: v1
kind: Pod
metadata: {name: ledger, namespace: payments}
";
    let deny = "\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: payments}
spec: {podSelector: {}, policyTypes: [Ingress]}
";
    let run = Cordon::new()
        .file("base/cluster.yaml", format!("{pods}{deny}"))
        .file("head/cluster.yaml", pods);
    let note = "note: the model has no accounts, so there is nothing to compare: `--level segment` compares segments\n";
    for args in [
        &["diff", "base", "head", "--deny-new-paths"][..],
        &["matrix", "head"][..],
    ] {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        let out = crate::harness::run_in(run.dir(), &args, &[]);
        out.code(0);
        assert!(out.stderr.contains(note), "{args:?}: {}", out.stderr);
    }
    // At a level it has, the diff finds what the change opens, and says nothing of it.
    let args = [
        "diff",
        "base",
        "head",
        "--deny-new-paths",
        "--level",
        "segment",
    ];
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let out = crate::harness::run_in(run.dir(), &args, &[]);
    out.code(1);
    assert!(!out.stderr.contains("nothing to compare"), "{}", out.stderr);
}
