//! Every kind of input error, as the user sees it. Each file under
//! `tests/fixtures/errors/` is one case: adding a case means adding a file.

use crate::harness::{Cordon, repo, run_in};

#[test]
fn every_input_error_names_its_place_and_exits_2() {
    let dir = repo().join("tests/fixtures/errors");
    insta::glob!("../fixtures/errors", "*.{yaml,json}", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = run_in(&dir, &["check".to_owned(), name.clone()], &[]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{name}: {}", out.stdout);
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!("{name}:")),
            "{name}: every problem names the file first:\n{}",
            out.stderr
        );
        insta::assert_snapshot!(out.stderr);
    });
}

#[test]
fn missing_paths_are_reported_together() {
    let out = Cordon::new()
        .file("empty/notes.txt", "")
        .args(["check", "missing.yaml", "empty"])
        .run();
    out.code(2);
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn problems_in_several_files_are_all_reported() {
    let out = Cordon::new()
        .file("a.yaml", "assets:\n  - {name: a, in: [nowhere}\n")
        .file("b.yaml", "assets:\n  - {name: b, tagz: []}\n")
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(out.stderr.starts_with("a.yaml:2:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("b.yaml:2:15: error: unknown key `tagz`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_file_that_cannot_be_read_hides_no_problem_of_the_others() {
    // a.yaml stops at its unknown key; b.yaml's own problems are still named, but not
    // the names it uses that a.yaml might declare (`dbb`, `nokey`).
    let out = Cordon::new()
        .file("a.yaml", "assets:\n  - {name: web}\n  - {name: db, tgas: [x]}\n")
        .file(
            "b.yaml",
            "flows:\n  - {from: web, to: dbb, ports: [tcp/70000]}\n  - {from: web, to: db, auth: [nokey]}\ninvariants:\n  - {name: j, forbid: {from: web, to: db}, require: {from: web, to: db}}\n",
        )
        .args(["check", "."])
        .run();
    out.code(2);
    insta::assert_snapshot!(out.stderr, @r"
    a.yaml:3:16: error: unknown key `tgas`
      help: did you mean `tags`?
    b.yaml:2:34: error: invalid port `tcp/70000`
      help: ports run from 0 to 65535
    b.yaml:5:12: error: invariant `j` has more than one kind: `forbid`, `require`
      help: split it into one invariant per kind
    cordon: 3 problems in the policies; nothing was checked
    ");
}

#[test]
fn warnings_name_their_place_and_leave_the_exit_code_alone() {
    let policy = "\
segments:
  - {name: net, cidrs: [10.0.0.0/24]}
assets:
  - {name: web, in: net, cidrs: [10.0.1.5]}
  - {name: db, in: net, cidrs: [10.0.0.7]}
  - {name: db2, in: net, cidrs: [10.0.0.7]}
  - {name: lonely, cidrs: [192.168.0.1]}
flows:
  - {from: web, to: db, ports: [tcp/0]}
  - {from: db2, to: web}
";
    let out = Cordon::new()
        .file("w.yaml", policy)
        .args(["check", "w.yaml", "--allow-empty"])
        .run();
    out.code(0);
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn warnings_in_json_point_at_lines_too() {
    let policy = "{\"assets\": [\n  {\"name\": \"a\", \"cidrs\": [\"10.0.0.1\"]},\n  {\"name\": \"b\", \"cidrs\": [\"10.0.0.1\"]}\n],\n\"flows\": [{\"from\": \"a\", \"to\": \"b\"}]}\n";
    let out = Cordon::new()
        .file("w.json", policy)
        .args(["check", "w.json", "--allow-empty"])
        .run();
    out.code(0);
    assert!(
        out.stderr
            .starts_with("w.json:3:12: warning: asset `b` has the same address `10.0.0.1` as `a`"),
        "{}",
        out.stderr
    );
}
