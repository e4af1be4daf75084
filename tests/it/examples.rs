//! Every policy directory under `policies/` and `examples/`, checked, with snapshots of
//! what users see for the bundled model and the incident example.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::harness::{Cordon, repo, run_repo};

const BEFORE: &str = "examples/thanksgiving-2023/before";
const AFTER: &str = "examples/thanksgiving-2023/after";

/// Directories under `examples/` that hold policy files, relative to the repository.
fn policy_dirs(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|entry| entry.path());
    let mut has_policies = false;
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            policy_dirs(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "json")
        {
            has_policies = true;
        }
    }
    if has_policies {
        let relative = dir.strip_prefix(repo()).unwrap();
        out.push(relative.to_string_lossy().replace('\\', "/"));
    }
}

#[test]
fn every_example_directory_loads_and_checks() {
    let mut dirs = Vec::new();
    policy_dirs(&repo().join("examples"), &mut dirs);
    assert!(dirs.contains(&BEFORE.to_owned()) && dirs.contains(&AFTER.to_owned()));
    for dir in dirs {
        let expected = if dir.ends_with("/before") { 1 } else { 0 };
        // `examples/aws/plan-diff` is a plan for `diff --plan`, with no invariants.
        let out = run_repo(&["check", &dir, "--today", "2024-01-01", "--allow-empty"]);
        assert_eq!(out.code, expected, "{dir}:\n{}{}", out.stdout, out.stderr);
    }
}

#[test]
fn the_bundled_policies_hold() {
    let out = run_repo(&["check", "--today", "2024-01-01", "--color", "never"]);
    out.code(0);
    insta::assert_snapshot!(out.stdout);
    let out = run_repo(&[
        "check",
        "policies",
        "--today",
        "2024-01-01",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    assert!(value["summary"]["total"].as_u64().unwrap() >= 8);
    insta::assert_json_snapshot!(value, {".tool.version" => "[version]", ".inputs[].sha256" => "[sha256]"});
}

#[test]
fn the_bundled_policies_are_a_realistic_estate() {
    let out = run_repo(&["reach", "--from", "any", "--format", "json"]);
    out.code(0);
    let text: String = [
        "estate.yaml",
        "credentials.yaml",
        "flows.yaml",
        "invariants.yaml",
    ]
    .iter()
    .map(|file| std::fs::read_to_string(repo().join("policies").join(file)).unwrap())
    .collect();
    let names = text.matches("name: ").count();
    assert!(
        names >= 40 + 8,
        "entities, credentials, flows and invariants: {names}"
    );
    assert!(text.contains("references:"));
    assert!(text.contains("kind: fido2"));
}

#[test]
fn before_the_response_a_leaked_credential_opens_atlassian() {
    let out = run_repo(&["check", BEFORE, "--today", "2023-11-14", "--color", "never"]);
    out.code(1);
    insta::assert_snapshot!(out.stdout);
    let out = run_repo(&["check", BEFORE, "--today", "2023-11-14", "--format", "json"]);
    out.code(1);
    let value = out.json();
    let results = value["results"].as_array().unwrap();
    let status = |name: &str| {
        results
            .iter()
            .find(|r| r["invariant"] == name)
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status("internet-cannot-reach-atlassian"), "fail");
    assert_eq!(status("internet-cannot-reach-aws-isolated"), "pass");
    assert_eq!(status("atlassian-cannot-reach-aws-isolated"), "pass");
    assert_eq!(status("internet-cannot-reach-gru-console"), "pass");
    let failing = results
        .iter()
        .find(|r| r["invariant"] == "internet-cannot-reach-atlassian")
        .unwrap();
    let first = &failing["witness"][0];
    assert_eq!(first["from"], "internet");
    assert!(
        first["credential"].is_string(),
        "a credential opens the way: {first}"
    );
    insta::assert_json_snapshot!(value, {".tool.version" => "[version]"});
}

#[test]
fn after_the_response_everything_holds() {
    let out = run_repo(&["check", AFTER, "--today", "2023-11-24", "--color", "never"]);
    out.code(0);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn inputs_carry_the_sha256_of_each_file() {
    let out = run_repo(&["check", BEFORE, "--format", "json"]);
    let value = out.json();
    let inputs = value["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 4);
    for input in inputs {
        let path = input["path"].as_str().unwrap();
        assert!(path.starts_with(BEFORE), "{path}");
        let bytes = std::fs::read(repo().join(path)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(input["sha256"], digest);
    }
}

/// Plans and manifests are digested where they are imported, not where they are read:
/// a JSON plan, a JSON manifest, a YAML manifest, and a YAML file that mixes a policy
/// with a manifest each carry the digest of the file's bytes.
#[test]
fn inputs_carry_the_sha256_of_each_imported_file() {
    let read = |path: &str| std::fs::read_to_string(repo().join(path)).unwrap();
    let pod = r#"{"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "json-pod", "namespace": "shop", "labels": {"app": "json"}},
      "spec": {"containers": [{"name": "c", "image": "nginx"}]}}"#;
    let mixed = format!(
        "{}---\nassets:\n  - name: mixed-asset\n    in: mixed\nsegments:\n  - name: mixed\n",
        read("examples/kubernetes/before/rbac.yaml")
    );
    let cordon = Cordon::new()
        .file("plan.json", read("examples/aws/web-tier/plan.json"))
        .file("pod.json", pod)
        .file(
            "cluster.yaml",
            read("examples/kubernetes/before/cluster.yaml"),
        )
        .file("mixed.yaml", mixed)
        .args(["check", ".", "--allow-empty", "--format", "json"]);
    let out = cordon.run();
    out.code(0);
    let value = out.json();
    let mut paths = Vec::new();
    for input in value["inputs"].as_array().unwrap() {
        let path = input["path"].as_str().unwrap();
        let bytes = std::fs::read(cordon.dir().join(path)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(input["sha256"], digest, "{path}");
        paths.push(path.trim_start_matches("./").to_owned());
    }
    paths.sort();
    assert_eq!(
        paths,
        ["cluster.yaml", "mixed.yaml", "plan.json", "pod.json"]
    );
}

#[test]
fn reach_on_the_bundled_model() {
    let out = run_repo(&["reach", "--from", "jira", "--format", "json"]);
    out.code(0);
    insta::assert_json_snapshot!(out.json());
    let out = run_repo(&["reach", "--to", "customer-db", "--color", "never"]);
    out.code(0);
    insta::assert_snapshot!(out.stdout);
}

/// Every `console` block of the README that is not shortened (`…`) shows what the
/// command really prints, and `echo $?` the exit code it really returns.
#[test]
fn the_readme_shows_real_output() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        if block.contains('…') {
            continue;
        }
        let mut last_code = None;
        for command in block.split("$ ").filter(|c| !c.is_empty()) {
            let (line, expected) = command.split_once('\n').unwrap();
            if line == "echo $?" {
                assert_eq!(Some(expected.trim()), last_code.as_deref(), "{line}");
                continue;
            }
            let args: Vec<&str> = line.strip_prefix("cordon ").unwrap().split(' ').collect();
            let out = run_repo(&args);
            assert_eq!(
                format!("{}{}", out.stdout, out.stderr),
                expected,
                "README: $ {line}"
            );
            last_code = Some(out.code.to_string());
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} README commands checked");
}
