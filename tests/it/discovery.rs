//! Reading a real repository: ignore files, hidden folders, documents that are not
//! policies, multi-document files, a file named twice, and `diff` against git.

use crate::harness::{Cordon, run_repo};

const POLICY: &str = "\
segments:
  - {name: web}
  - {name: db}
flows:
  - {name: web-to-db, from: web, to: db, ports: [tcp/5432]}
invariants:
  - {name: db-cannot-reach-web, forbid: {from: db, to: web}}
";

/// A repository as they come: CI workflows, a compose file, docs, build output, a
/// Terraform plan (imported, not skipped), and one policy among them.
fn repository() -> Cordon {
    Cordon::new()
        .file("security/policy.yaml", POLICY)
        .file(
            ".github/workflows/ci.yml",
            "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        )
        .file(".pre-commit-hooks.yaml", "- id: cordon\n  name: cordon\n")
        .file(
            "docker-compose.yml",
            "version: \"3.8\"\nservices:\n  web:\n    image: nginx\n",
        )
        .file("mkdocs.yml", "site_name: docs\nnav:\n  - index.md\n")
        .file("package.json", "{\"name\": \"site\", \"scripts\": {}}\n")
        .file(
            "infra/plan.json",
            "{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\"}\n",
        )
        .file(".gitignore", "target/\n")
        .file("target/debug/junk.yaml", "assets: [ {name: \n")
        .file(".cordonignore", "fixtures/\n")
        .file("fixtures/broken.yaml", "asets: []\n")
}

#[test]
fn a_repository_checks_with_its_other_files_skipped() {
    let out = repository().args(["check", "."]).run();
    out.code(0);
    assert!(out.stdout.contains("db-cannot-reach-web"), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        "note: skipped 3 files that hold no cordon policy (`--verbose` lists them)\n"
    );
}

#[test]
fn verbose_lists_every_skipped_file_and_quiet_none() {
    let out = repository().args(["check", ".", "--verbose"]).run();
    out.code(0);
    assert_eq!(
        out.stderr,
        "note: skipped `docker-compose.yml`: not a cordon policy\n\
         note: skipped `mkdocs.yml`: not a cordon policy\n\
         note: skipped `package.json`: not a cordon policy\n"
    );
    let out = repository().args(["check", ".", "-q"]).run();
    assert_eq!(out.stderr, "");
}

#[test]
fn a_document_that_is_no_policy_in_a_file_that_holds_one_is_noted_too() {
    let stream = format!("{POLICY}---\nreplicaCount: 3\nimage: nginx\n");
    let run = repository()
        .file("security/policy.yaml", stream)
        .args(["check", "."]);
    let out = run.run();
    out.code(0);
    assert_eq!(
        out.stderr,
        "note: skipped 3 files and 1 document that hold no cordon policy (`--verbose` lists them)\n"
    );
    let args = ["check", "security", "--verbose"].map(str::to_owned);
    let out = crate::harness::run_in(run.dir(), &args, &[]);
    assert_eq!(
        out.stderr,
        "note: skipped `security/policy.yaml:9`: not a cordon policy\n"
    );
}

#[test]
fn an_evidence_bundle_in_the_tree_is_not_read_as_policies() {
    // Its report.json has cordon keys, and its inputs/ copies would declare every name
    // of the policies they copy a second time.
    let run = repository().args(["check", "."]);
    let evidence = ["evidence", "security", "--out", "security/evidence", "-q"].map(str::to_owned);
    crate::harness::run_in(run.dir(), &evidence, &[]).code(0);
    let out = run.run();
    out.code(0);
    assert!(out.stdout.contains("db-cannot-reach-web"), "{}", out.stdout);
}

#[test]
fn a_diff_report_in_the_tree_is_not_read_as_a_policy() {
    // Its `invariants` key is a cordon key, beside keys no policy has.
    let run = repository().args(["check", "."]);
    let diff = [
        "diff",
        "security",
        "security",
        "--format",
        "json",
        "-o",
        "security/diff.json",
    ]
    .map(str::to_owned);
    crate::harness::run_in(run.dir(), &diff, &[]).code(0);
    let out = run.run();
    out.code(0);
    assert!(out.stderr.contains("skipped 4 files"), "{}", out.stderr);
}

#[test]
fn a_misspelt_policy_is_an_error_not_skipped() {
    let out = Cordon::new()
        .file("policy.yaml", "asets:\n  - name: a\n")
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("policy.yaml:1:1: error: unknown key `asets`")
            && out.stderr.contains("did you mean `assets`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_file_named_on_the_command_line_is_read_even_if_ignored() {
    let out = repository()
        .args(["check", "security/policy.yaml", "fixtures/broken.yaml"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("fixtures/broken.yaml:1:1"),
        "{}",
        out.stderr
    );
}

#[test]
fn documents_of_one_file_merge_and_keep_their_lines() {
    let stream = "\
---
segments:
  - {name: web}
  - {name: db}
---
flows:
  - {name: web-to-db, from: web, to: db}
---
invariants:
  - {name: web-reaches-db, require: {from: web, to: db}}
  - {name: db-isolated, forbid: {from: db, to: nowhere}}
";
    let out = Cordon::new()
        .file("p.yaml", stream)
        .args(["check", "p.yaml"])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .starts_with("p.yaml:11:48: error: unknown entity `nowhere`"),
        "{}",
        out.stderr
    );
    let fixed = stream.replace("nowhere", "web");
    let out = Cordon::new()
        .file("p.yaml", fixed)
        .args(["check", "p.yaml", "--format", "json"])
        .run();
    out.code(0);
    let json = out.json();
    assert_eq!(json["summary"]["total"], 2);
    assert_eq!(
        json["results"][0]["witness"][0]["location"], "p.yaml:7",
        "{json}"
    );
}

#[test]
fn a_policy_beside_other_documents_in_one_file() {
    let stream = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n{POLICY}---\nname: other\n"
    );
    let out = Cordon::new()
        .file("mixed.yaml", stream)
        .args(["check", ".", "--format", "json"])
        .run();
    out.code(0);
    assert_eq!(out.json()["summary"]["total"], 1);
}

#[test]
fn a_file_reached_under_two_names_is_read_once() {
    let cordon = Cordon::new().file("repo/policy.yaml", POLICY);
    let repo = cordon.dir().join("repo");
    let out = crate::harness::run_in(&repo, &["check".into(), ".".into(), "../repo".into()], &[]);
    out.code(0);
}

#[test]
fn this_repository_checks_and_diffs_against_itself() {
    run_repo(&["check", "."]).code(0);
    let out = run_repo(&["diff", "git:HEAD", ".", "-q"]);
    out.code(0);
}

#[test]
fn diff_against_git_reads_what_a_walk_reads() {
    let cordon = repository();
    let git = |args: &[&str]| crate::harness::git(cordon.dir(), args);
    git(&["init", "-q", "-b", "main"]);
    // Build output committed by mistake is still skipped, as .gitignore says.
    git(&["add", "-f", "."]);
    git(&["commit", "-q", "-m", "base"]);
    let diff = |dir: &str| {
        crate::harness::run_in(
            &cordon.dir().join(dir),
            &["diff".into(), "git:HEAD".into(), ".".into(), "-q".into()],
            &[],
        )
    };
    let out = diff(".");
    out.code(0);
    assert!(out.stdout.contains("no regression"), "{}", out.stdout);
    // From a subfolder, a path relative to it names the same files.
    diff("security").code(0);
}

#[test]
fn a_file_that_opens_with_a_byte_order_mark_is_read_and_digested_as_it_is() {
    // Editors on Windows write the mark, and YAML allows it. A file taken for none of
    // cordon's would be skipped: here an invariant, and a NetworkPolicy that denies
    // `web` its way to `db`, would go missing without a word.
    let bom = "\u{feff}";
    let pods = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {app: db}}
";
    let deny = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-deny-all, namespace: default}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
";
    let run = Cordon::new()
        .file("policy.yaml", format!("{bom}{POLICY}"))
        .file("cluster/pods.yaml", pods)
        .file("cluster/deny.yaml", format!("{bom}{deny}"));
    let dir = run.dir();
    let args = ["check", "policy.yaml", "--format", "json"].map(str::to_owned);
    let out = crate::harness::run_in(dir, &args, &[]);
    out.code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["total"], 1, "{}", out.stdout);
    // The digest is of the file as it is on disk, mark and all.
    let sha256sum = std::process::Command::new("sha256sum")
        .arg("policy.yaml")
        .current_dir(dir)
        .output()
        .unwrap();
    let on_disk = String::from_utf8_lossy(&sha256sum.stdout);
    assert_eq!(
        Some(report["inputs"][0]["sha256"].as_str().unwrap()),
        on_disk.split_whitespace().next()
    );
    let args = ["connections", "cluster"].map(str::to_owned);
    let out = crate::harness::run_in(dir, &args, &[]);
    out.code(0);
    assert!(
        !out.stdout.contains("default/web -> default/db"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("skipped"), "{}", out.stderr);
}
