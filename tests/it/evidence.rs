//! The audit bundle: its files, its digests, and that it reproduces byte for byte.

use crate::harness::{repo, run_in};

fn bundle(source: &str, today: &str) -> (tempfile::TempDir, i32) {
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "evidence",
        source,
        "--out",
        &out.path().to_string_lossy(),
        "--today",
        today,
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let result = run_in(&repo(), &args, &[]);
    assert!(result.stderr.is_empty(), "{}", result.stderr);
    (out, result.code)
}

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                found.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_bundle_holds_reports_inputs_and_digests() {
    let (dir, code) = bundle("policies", "2024-01-01");
    assert_eq!(code, 0);
    let names: Vec<String> = files(dir.path())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "inputs/policies/credentials.yaml",
            "inputs/policies/estate.yaml",
            "inputs/policies/flows.yaml",
            "inputs/policies/invariants.yaml",
            "report.html",
            "report.json",
            "report.md",
        ]
    );
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "self-contained"
    );
    for id in [
        "summary",
        "invariants",
        "exceptions",
        "matrix",
        "inventory",
        "coverage",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[test]
fn the_bundle_reproduces_byte_for_byte() {
    let (first, _) = bundle("examples/thanksgiving-2023/before", "2023-11-14");
    let (second, _) = bundle("examples/thanksgiving-2023/before", "2023-11-14");
    assert_eq!(files(first.path()), files(second.path()));
}

#[test]
fn failures_are_evidence_too() {
    let (dir, code) = bundle("examples/thanksgiving-2023/before", "2023-11-14");
    assert_eq!(code, 1, "the bundle is written and the run still fails");
    let markdown = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let first = markdown.find("### ").unwrap();
    assert!(
        markdown[first..].starts_with("### FAIL"),
        "failures come first"
    );
    insta::assert_snapshot!("evidence-md", markdown);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    insta::assert_json_snapshot!("evidence-json", json, {".tool.version" => "[version]"});
}
