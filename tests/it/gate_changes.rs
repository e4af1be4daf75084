//! `diff` on changes to the gate itself: invariants removed, weakened or redefined and
//! verdicts newly waived fail the run; stricter invariants and fewer exceptions do not.

use crate::harness::{Output, run_repo};

#[test]
fn diff_lists_what_loosens_the_gate_in_every_format() {
    for format in ["text", "markdown", "json"] {
        let out = run_repo(&[
            "diff",
            "tests/fixtures/diff-gate/base",
            "tests/fixtures/diff-gate/head",
            "--today",
            "2024-01-01",
            "--format",
            format,
        ]);
        out.code(1);
        insta::assert_snapshot!(format!("diff-gate-{format}"), out.stdout);
    }
}

/// Every invariant passes: nothing reaches `c`.
const BASE: &str = "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
flows:
  - {name: a-b, from: a, to: b, ports: [tcp/443]}
invariants:
  - {name: a-not-c, forbid: {from: a, to: c}}
  - {name: a-reaches-b, require: {from: a, to: b, direct: true}}
";

/// The flow that lets `a` reach `c`, in two hops.
const OPEN: &str = "  - {name: b-c, from: b, to: c, ports: [tcp/22]}\n";

/// Runs `diff base head --today 2024-01-01` with `args` after them.
fn diff(base: &str, head: &str, args: &[&str]) -> Output {
    crate::gate::diff(base, head, &[&["--today", "2024-01-01"], args].concat())
}

/// `text` with `from` replaced by `to`, which must be there.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

/// `text` with `line` added after `after`.
#[track_caller]
fn add(text: &str, after: &str, line: &str) -> String {
    edit(text, after, &format!("{after}{line}"))
}

/// The changes of `what` in a JSON diff, as (change, name, effect).
fn changes<'a>(value: &'a serde_json::Value, what: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["what"] == what)
        .map(|change| {
            (
                change["change"].as_str().unwrap(),
                change["name"].as_str().unwrap(),
                change["effect"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn a_removed_or_weakened_invariant_fails_the_diff() {
    // Each loosened so that it passes the change, most with the path to `c` opened.
    let opened = add(BASE, "flows:\n", OPEN);
    let cases = [
        (
            edit(
                &opened,
                "  - {name: a-not-c, forbid: {from: a, to: c}}\n",
                "",
            ),
            "removed",
            "weakens",
            "gate weakened: 0 regressions, 1 invariant removed,",
            "removed  invariant a-not-c: forbid, from [a], to [c], ports [any], direct false, severity high  base/p.yaml:9",
        ),
        (
            edit(&opened, "to: c}", "to: c, direct: true}"),
            "changed",
            "weakens",
            "gate weakened: 0 regressions, 1 invariant weakened,",
            "changed  invariant a-not-c: direct false → direct true (weaker)  head/p.yaml:10",
        ),
        (
            edit(&opened, "to: c}", "to: c, ports: [tcp/443]}"),
            "changed",
            "weakens",
            "gate weakened: 0 regressions, 1 invariant weakened,",
            "changed  invariant a-not-c: ports [any] → ports [tcp/443] (weaker)",
        ),
        // Below a `check --fail-on`, a failure no longer fails that gate.
        (
            edit(BASE, "{name: a-not-c,", "{name: a-not-c, severity: low,"),
            "changed",
            "weakens",
            "gate weakened: 0 regressions, 1 invariant weakened,",
            "changed  invariant a-not-c: severity high → severity low (weaker)",
        ),
        (
            edit(BASE, "to: b, direct: true}", "to: b}"),
            "changed",
            "weakens",
            "gate weakened: 0 regressions, 1 invariant weakened,",
            "changed  invariant a-reaches-b: direct true → direct false (weaker)",
        ),
        // Other ends may select more or fewer entities: only a reviewer can tell.
        (
            edit(BASE, "{from: a, to: c}", "{from: b, to: c}"),
            "changed",
            "redefines",
            "invariant redefined (needs review): 0 regressions, 1 invariant redefined,",
            "changed  invariant a-not-c: from [a] → from [b] (meaning changed)",
        ),
        (
            edit(
                &opened,
                "forbid: {from: a, to: c}",
                "through: {from: a, to: c, via: b}",
            ),
            "changed",
            "redefines",
            "invariant redefined (needs review): 0 regressions, 1 invariant redefined,",
            "changed  invariant a-not-c: forbid, ports [any], direct false → through, via [b] (meaning changed)",
        ),
    ];
    for (head, change, effect, headline, line) in cases {
        let out = diff(BASE, &head, &[]);
        out.code(1);
        assert!(out.stdout.starts_with(headline), "{}", out.stdout);
        assert!(out.stdout.contains(line), "{}", out.stdout);
        let out = diff(BASE, &head, &["--format", "json"]);
        out.code(1);
        let value = out.json();
        assert_eq!(value["verdict"], "fail");
        assert_eq!(value["regressions"], 0);
        assert_eq!(value["invariants_weakened"], 1);
        let name = if line.contains("a-reaches-b") {
            "a-reaches-b"
        } else {
            "a-not-c"
        };
        assert_eq!(changes(&value, "invariant"), [(change, name, effect)]);
        let out = diff(BASE, &head, &["--format", "markdown"]);
        out.code(1);
        assert!(
            out.stdout.contains("❌ **The change loosens the gate**"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn a_stricter_or_new_invariant_passes_the_diff() {
    let cases = [
        (
            edit(
                BASE,
                "{name: a-not-c,",
                "{name: a-not-c, severity: critical,",
            ),
            ("changed", "a-not-c", "strengthens"),
        ),
        (
            // A `require` that takes fewer ports asks for more.
            edit(
                BASE,
                "to: b, direct: true}",
                "to: b, direct: true, ports: [tcp/443]}",
            ),
            ("changed", "a-reaches-b", "strengthens"),
        ),
        (
            add(
                BASE,
                "invariants:\n",
                "  - {name: b-not-c, forbid: {from: b, to: c}}\n",
            ),
            ("added", "b-not-c", "strengthens"),
        ),
    ];
    for (head, expected) in cases {
        let out = diff(BASE, &head, &["--format", "json"]);
        out.code(0);
        assert_eq!(changes(&out.json(), "invariant"), [expected]);
    }
    // Words alone change nothing that `check` reads: no change to list.
    let head = edit(
        BASE,
        "{name: a-not-c,",
        "{name: a-not-c, description: nothing from a to c, references: [CC6.6],",
    );
    let out = diff(BASE, &head, &[]);
    out.code(0);
    assert!(!out.stdout.contains("changes:"), "{}", out.stdout);
}

#[test]
fn a_verdict_newly_waived_fails_the_diff() {
    let exception = "exceptions:\n  - {invariant: a-not-c, reason: migration, owner: alice, expires: 2024-06-30}\n";
    let opened = add(BASE, "flows:\n", OPEN);
    // The change opens a path and waives the invariant it breaks: pass -> waived.
    let head = format!("{opened}{exception}");
    let out = diff(BASE, &head, &[]);
    out.code(1);
    assert!(
        out.stdout
            .starts_with("gate weakened: 0 regressions, 1 newly waived,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  newly waived a-not-c  pass -> waived  a reaches c in 2 hops\n         1. a -> b"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "         waived by alice's exception until 2024-06-30 (181 days left): migration  head/p.yaml:13\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  added    exception a-not-c: until 2024-06-30, any route, owner alice, reason migration  head/p.yaml:13"
        ),
        "{}",
        out.stdout
    );
    let value = diff(BASE, &head, &["--format", "json"]).json();
    assert_eq!(value["verdict"], "fail");
    assert_eq!(value["newly_waived"], 1);
    let verdict = &value["invariants"][0];
    assert_eq!(verdict["change"], "newly waived");
    assert_eq!(verdict["before"], "pass");
    assert_eq!(verdict["after"], "waived");
    assert_eq!(verdict["waivers"][0]["owner"], "alice");
    assert_eq!(verdict["waivers"][0]["location"], "head/p.yaml:13");
    assert_eq!(changes(&value, "exception"), [("added", "a-not-c", "")]);
    // A failure waived is hidden too: fail -> waived, not an improvement.
    let out = diff(&opened, &head, &["--format", "json"]);
    out.code(1);
    let value = out.json();
    assert_eq!(value["invariants"][0]["change"], "newly waived");
    assert_eq!(value["invariants"][0]["before"], "fail");
    // An exception that lapsed in BASE and is renewed in HEAD: fail -> waived.
    let lapsed = format!("{opened}{}", exception.replace("2024-06-30", "2023-12-01"));
    let out = diff(&lapsed, &head, &["--format", "json"]);
    out.code(1);
    assert_eq!(out.json()["invariants"][0]["change"], "newly waived");
    let out = diff(&opened, &head, &["--format", "markdown"]);
    assert!(
        out.stdout.contains(
            "❌ **The change loosens the gate**: 1 newly waived; no invariant newly fails"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("The witness is waived by alice's exception until 2024-06-30 (181 days left): migration (head/p.yaml:13)."),
        "{}",
        out.stdout
    );
    // With a regression besides, the headline names both.
    let regressed = add(
        &head,
        "invariants:\n",
        "  - {name: b-not-c, forbid: {from: b, to: c}}\n",
    );
    let base = add(
        BASE,
        "invariants:\n",
        "  - {name: b-not-c, forbid: {from: b, to: c}}\n",
    );
    let out = diff(&base, &regressed, &[]);
    out.code(1);
    assert!(
        out.stdout
            .starts_with("regressed: 1 regression, 1 newly waived,"),
        "{}",
        out.stdout
    );
    let out = diff(&base, &regressed, &["--format", "markdown"]);
    assert!(
        out.stdout
            .contains("❌ **The change also loosens the gate**: 1 newly waived."),
        "{}",
        out.stdout
    );
}

#[test]
fn an_exception_that_waives_more_fails_the_diff_and_one_that_waives_less_passes() {
    let opened = add(BASE, "flows:\n", OPEN);
    let waived = |expires: &str, path: &str| {
        format!(
            "{opened}exceptions:\n  - {{invariant: a-not-c, reason: migration, owner: alice, expires: {expires}{path}}}\n"
        )
    };
    let base = waived("2024-06-30", "");
    let cases = [
        // Longer: the invariant stays hidden past the date that was agreed.
        (
            waived("2030-01-01", ""),
            1,
            "until 2024-06-30 → until 2030-01-01",
        ),
        (
            waived("2024-03-31", ""),
            0,
            "until 2024-06-30 → until 2024-03-31",
        ),
        // Pinned to a route where it waived any: it asks more.
        (
            waived("2024-06-30", ", path: [a, b, c]"),
            0,
            "any route → route a -> b -> c",
        ),
        (
            edit(&base, "owner: alice", "owner: bob"),
            0,
            "owner alice → owner bob",
        ),
    ];
    for (head, code, words) in cases {
        let out = diff(&base, &head, &[]);
        out.code(code);
        assert!(
            out.stdout.contains(&format!(
                "  changed  exception a-not-c: {words}  head/p.yaml:13"
            )),
            "{}",
            out.stdout
        );
        if code == 1 {
            assert!(
                out.stdout
                    .starts_with("gate weakened: 0 regressions, 1 waiver changed,"),
                "{}",
                out.stdout
            );
            assert!(
                out.stdout
                    .contains("  waiver changed a-not-c  waived -> waived  a reaches c in 2 hops"),
                "{}",
                out.stdout
            );
            assert_eq!(
                diff(&base, &head, &["--format", "json"]).json()["newly_waived"],
                1
            );
        }
    }
    // Pinned elsewhere, or to no route at all: it waives other ways in.
    let pinned = waived("2024-06-30", ", path: [a, b, c]");
    let out = diff(&pinned, &base, &["--format", "json"]);
    out.code(1);
    assert_eq!(out.json()["invariants"][0]["change"], "waiver changed");
    // An exception that waives nothing yet is listed; the verdict it may one day hide
    // is what fails a later change.
    let unused = format!(
        "{BASE}exceptions:\n  - {{invariant: a-not-c, reason: migration, owner: alice, expires: 2024-06-30}}\n"
    );
    let out = diff(BASE, &unused, &[]);
    out.code(0);
    assert!(
        out.stdout.starts_with("no regression: 0 regressions,")
            && out.stdout.contains("  added    exception a-not-c: "),
        "{}",
        out.stdout
    );
    // A removed exception loosens nothing; it is listed.
    let out = diff(&unused, BASE, &[]);
    out.code(0);
    assert!(
        out.stdout.contains("  removed  exception a-not-c: "),
        "{}",
        out.stdout
    );
    // Removed while the path is open, the invariant fails again: a regression, as any
    // verdict newly failing is.
    let out = diff(&base, &opened, &["--format", "json"]);
    out.code(1);
    let value = out.json();
    assert_eq!(value["regressions"], 1);
    assert_eq!(value["newly_waived"], 0);
    assert_eq!(value["invariants"][0]["change"], "regression");
    assert_eq!(changes(&value, "exception"), [("removed", "a-not-c", "")]);
    // An invariant added with its exception had no verdict to hide.
    let head = add(
        &base,
        "invariants:\n",
        "  - {name: b-not-c, forbid: {from: b, to: c}}\n",
    ) + "  - {invariant: b-not-c, reason: migration, owner: alice, expires: 2024-06-30}\n";
    let out = diff(&base, &head, &["--format", "json"]);
    out.code(0);
    let value = out.json();
    assert_eq!(value["invariants"], serde_json::json!([]));
    assert_eq!(changes(&value, "exception"), [("added", "b-not-c", "")]);
}
