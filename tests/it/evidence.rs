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
        "inputs",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The inputs digest, as the reports say to compute it, from the bundle's copies.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let paths: Vec<&str> = (report["inputs"].as_array().unwrap().iter())
        .map(|input| input["path"].as_str().unwrap())
        .collect();
    let script = format!("sha256sum {} | sha256sum", paths.join(" "));
    let digest = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path().join("inputs"))
        .output()
        .unwrap();
    let digest = String::from_utf8_lossy(&digest.stdout);
    assert_eq!(
        digest.split_whitespace().next(),
        report["inputs_digest"].as_str()
    );
    let markdown = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    for path in paths {
        assert!(markdown.contains(&format!("| `{path}` |")), "{path}");
        assert!(html.contains(&format!("<code>{path}</code>")), "{path}");
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
    // What report.html shows is in report.json too.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for result in json["results"].as_array().unwrap() {
        for reference in result["references"].as_array().unwrap() {
            assert!(html.contains(reference.as_str().unwrap()), "{reference}");
        }
    }
    assert!(json["results"][0]["description"].is_string());
    insta::assert_json_snapshot!("evidence-json", json, {".tool.version" => "[version]"});
}

/// Opens the report in headless Chromium: it renders, logs no console error, fetches
/// nothing, and shows the summary, every invariant and the matrix. CI installs
/// Debian's chromium; elsewhere the test says so and checks nothing.
#[test]
fn the_report_renders_in_a_real_browser() {
    let Some(browser) = ["chromium", "chromium-browser"].into_iter().find(|name| {
        std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium");
        eprintln!("chromium is not installed; skipping");
        return;
    };
    let (dir, _) = bundle("examples/thanksgiving-2023/before", "2023-11-14");
    let report = dir.path().join("report.html");
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[String]| {
        let mut command = std::process::Command::new(browser);
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ]);
        command.arg(format!("--user-data-dir={}", profile.path().display()));
        command.args(extra);
        command.arg(format!("file://{}", report.display()));
        command.output().unwrap()
    };
    let dom = run(&["--dump-dom".to_owned()]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "id=\"summary\"",
        "internet-cannot-reach-atlassian",
        "internet-cannot-reach-aws-isolated",
        "gru-console-only-through-bastion",
        "id=\"matrix\"",
    ] {
        assert!(
            dom_text.contains(needle),
            "the rendered page lacks {needle}"
        );
    }
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !log.lines()
            .any(|line| line.contains("CONSOLE") && line.contains("ERROR")),
        "console errors:\n{log}"
    );
    let screenshot = dir.path().join("report.png");
    let shot = run(&[
        format!("--screenshot={}", screenshot.display()),
        "--window-size=1200,1600".to_owned(),
    ]);
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot"
    );
}
