//! Exceptions are checked, not trusted: pinned paths must be routes, pins may name flows,
//! routes of several exceptions combine, unused ones warn, and every format says
//! "expired" in words.

use crate::harness::Cordon;

/// Two ways from `laptop` into `db`: one through `web1`, one through `web2`; and two
/// group-to-group flows from `web` to `db`.
const ESTATE: &str = "
segments:
  - name: web
  - name: db
assets:
  - {name: web1, in: web}
  - {name: web2, in: web}
  - {name: db1, in: db}
  - {name: laptop}
flows:
  - {name: to-web1, from: laptop, to: web1}
  - {name: to-web2, from: laptop, to: web2}
  - {name: backup, from: web, to: db, ports: [tcp/873]}
  - {name: queries, from: web, to: db, ports: [tcp/5432]}
invariants:
  - {name: laptop-cannot-reach-db, forbid: {from: laptop, to: db}}
  - {name: db-reaches-nothing, forbid: {from: db, to: any}}
exceptions:
";

fn policy(exceptions: &[&str]) -> String {
    let mut text = ESTATE.to_owned();
    for exception in exceptions {
        text.push_str("  - ");
        text.push_str(exception);
        text.push('\n');
    }
    text
}

fn check(exceptions: &[&str], args: &[&str]) -> crate::harness::Output {
    Cordon::new()
        .file("policies/p.yaml", policy(exceptions))
        .args(["check", "--today", "2024-06-20"])
        .args(args.iter().copied())
        .run()
}

const WEB1_BACKUP: &str = "{invariant: laptop-cannot-reach-db, reason: nightly backup, owner: alice, expires: 2024-06-30, path: [laptop, web1, flow:backup, db1]}";
const WEB1_QUERIES: &str = "{invariant: laptop-cannot-reach-db, reason: reports, owner: bob, expires: 2024-06-30, path: [laptop, web1, flow:queries, db1]}";
const WEB2_ANY: &str = "{invariant: laptop-cannot-reach-db, reason: migration, owner: carol, expires: 2024-07-20, path: [laptop, web2, db]}";

/// Asserts that an exception pinned to `path` is refused with `error` and a help line.
#[track_caller]
fn refused(path: &str, error: &str) {
    let exception = format!(
        "{{invariant: laptop-cannot-reach-db, reason: r, owner: o, expires: 2030-01-01, path: {path}}}"
    );
    let out = check(&[&exception], &[]);
    out.code(2);
    let expected = format!("policies/p.yaml:19:5: error: {error}\n  help: ");
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
}

#[test]
fn a_pinned_path_that_is_not_a_route_is_an_input_error() {
    // No flow goes from `laptop` to `db1` directly.
    refused(
        "[laptop, db1]",
        "pinned path is not a route: no flow goes from `laptop` to `db1`",
    );
    // A flow that does not join the two entities around it is no route either.
    refused(
        "[laptop, flow:backup, web1, db1]",
        "pinned path is not a route: flow `backup` does not go from `laptop` to `web1`",
    );
    refused(
        "[web1, flow:backup, db1]",
        "pinned path is not a route of `laptop-cannot-reach-db`: `web1` is outside its `from`",
    );
}

#[test]
fn pinned_routes_combine_and_pins_name_flows() {
    // Each exception alone leaves a way in; together they cover every one.
    check(&[WEB1_BACKUP], &[]).code(1);
    check(&[WEB1_BACKUP, WEB2_ANY], &[]).code(1);
    let out = check(
        &[WEB1_BACKUP, WEB1_QUERIES, WEB2_ANY],
        &["--format", "json"],
    );
    out.code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let result = &out.json()["results"][0];
    assert_eq!(result["status"], "waived");
    let owners: Vec<&str> = result["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["owner"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["alice", "bob", "carol"]);
    assert_eq!(result["waiver"]["owner"], "alice");
    assert_eq!(
        result["waiver"]["path"],
        serde_json::json!(["laptop", "web1", "flow:backup", "db1"])
    );
    assert_eq!(result["waiver"]["state"], "active");
}

#[test]
fn the_witness_of_a_partly_waived_failure_is_a_route_no_exception_covers() {
    let out = check(&[WEB1_BACKUP, WEB2_ANY], &["--format", "json"]);
    out.code(1);
    let result = &out.json()["results"][0];
    assert_eq!(result["status"], "fail");
    let flows: Vec<&str> = result["witness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| hop["flow"].as_str().unwrap())
        .collect();
    assert_eq!(flows, ["to-web1", "queries"]);
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .ends_with("by a route that no exception covers")
    );
}

#[test]
fn an_exception_that_waives_nothing_warns_without_changing_the_exit_code() {
    let holds = "{invariant: db-reaches-nothing, reason: r, owner: dave, expires: 2030-01-01}";
    let out = check(&[holds], &[]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "policies/p.yaml:19: warning: unused exception for `db-reaches-nothing` owned by dave: the invariant holds without it\n"
    );
    // GitHub shows it as an annotation on the exception's line.
    let out = check(&[holds], &["--format", "github"]);
    out.code(1);
    assert!(
        out.stdout.contains(
            "::warning file=policies/p.yaml,line=19,title=cordon%3A unused exception for db-reaches-nothing::the exception owned by dave waives nothing: the invariant holds without it\n"
        ),
        "{}",
        out.stdout
    );
    // A pinned route that no attacker takes to the target: the invariant's `ports`
    // rule out the last flow.
    let yaml = policy(&[WEB1_BACKUP]).replace(
        "forbid: {from: laptop, to: db}",
        "forbid: {from: laptop, to: db, ports: [tcp/5432]}",
    );
    let out = Cordon::new()
        .file("policies/p.yaml", yaml)
        .args(["check", "--today", "2024-06-20", "--format", "json"])
        .run();
    out.code(1);
    assert!(
        out.stderr.contains(
            "p.yaml:19: warning: unused exception for `laptop-cannot-reach-db` owned by alice: no path of the attacker follows its pinned route"
        ),
        "{}",
        out.stderr
    );
    let unused = &out.json()["results"][0]["unused_exceptions"][0];
    assert_eq!(unused["state"], "unused");
    assert_eq!(unused["owner"], "alice");
}

#[test]
fn list_exceptions_gives_each_state() {
    let expired =
        "{invariant: laptop-cannot-reach-db, reason: old, owner: erin, expires: 2024-06-17}";
    let holds = "{invariant: db-reaches-nothing, reason: r, owner: dave, expires: 2030-01-01}";
    let out = check(
        &[WEB1_BACKUP, WEB1_QUERIES, WEB2_ANY, expired, holds],
        &["--list-exceptions"],
    );
    out.code(0);
    insta::assert_snapshot!("list-exceptions-states", out.stdout);
    // A list of exceptions is no CI result: a format that promises one is refused.
    for format in ["sarif", "junit", "github"] {
        let out = check(&[WEB1_BACKUP], &["--list-exceptions", "--format", format]);
        out.code(2);
        assert!(
            out.stderr
                .contains("`--list-exceptions` writes `text` or `json`"),
            "{format}: {}",
            out.stderr
        );
    }
    let json = check(
        &[WEB1_BACKUP, expired, holds],
        &["--list-exceptions", "--format", "json"],
    )
    .json();
    let states: Vec<(&str, &str)> = json["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["owner"].as_str().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("alice", "active"), ("erin", "expired"), ("dave", "unused")]
    );
    assert_eq!(
        json["exceptions"][2]["unused_because"],
        "the invariant holds without it"
    );
    assert_eq!(json["exceptions"][0]["invariant"], "laptop-cannot-reach-db");
}

#[test]
fn text_shows_the_pinned_routes_and_expiry_in_words() {
    let expired =
        "{invariant: laptop-cannot-reach-db, reason: old, owner: erin, expires: 2024-06-17}";
    let out = check(&[WEB1_BACKUP, WEB1_QUERIES, WEB2_ANY, expired], &[]);
    out.code(0);
    insta::assert_snapshot!("check-pinned-waivers", out.stdout);
}

#[test]
fn the_evidence_shows_pinned_paths_and_expired_in_words() {
    let expired =
        "{invariant: laptop-cannot-reach-db, reason: old, owner: erin, expires: 2024-06-17}";
    let run = Cordon::new()
        .file("policies/p.yaml", policy(&[WEB2_ANY, expired]))
        .args(["evidence", "--out", "bundle", "--today", "2024-06-20"]);
    let out = run.run();
    out.code(1);
    for report in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(run.dir().join("bundle").join(report)).unwrap();
        assert!(text.contains("expired 3 days ago"), "{report}:\n{text}");
        assert!(text.contains("30 days left"), "{report}:\n{text}");
        assert!(
            text.contains("laptop -&gt; web2 -&gt; db") || text.contains("laptop -> web2 -> db"),
            "{report}:\n{text}"
        );
        assert!(
            !text.contains("| -3 |") && !text.contains("<td>-3</td>"),
            "{report}:\n{text}"
        );
    }
}
