//! `cordon evidence`: writes the audit bundle: the report as HTML, JSON and Markdown,
//! a copy of every input, and `SHA256SUMS` over the whole bundle.

use std::path::{Component, Path, PathBuf};

use crate::cli::EvidenceArgs;
use crate::evidence::evidence;
use crate::exit::Outcome;
use crate::load::hex_digest;
use crate::render;
use crate::report::Status;
use crate::timings::Timings;

/// Where an input goes inside `inputs/`: its path as given, without anything that
/// would leave the bundle (a root, `..`).
fn inside_bundle(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect()
}

pub fn run(args: &EvidenceArgs) -> Outcome {
    let today = match super::today(&args.common) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let mut timings = Timings::new();
    let model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = super::require_invariants(&args.common, &model, args.allow_empty) {
        return outcome;
    }
    let bundle = evidence(&model, &args.title, today);
    timings.lap("query");
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            PathBuf::from("report.html"),
            render::evidence_html::report(&bundle).into_bytes(),
        ),
        (
            PathBuf::from("report.json"),
            render::json::evidence(&bundle).into_bytes(),
        ),
        (
            PathBuf::from("report.md"),
            render::evidence_markdown::report(&bundle).into_bytes(),
        ),
    ];
    for input in model.sources.inputs() {
        match std::fs::read(&input.path) {
            Ok(bytes) => files.push((Path::new("inputs").join(inside_bundle(&input.path)), bytes)),
            Err(error) => {
                let message = format!("cannot copy input `{}`: {error}", input.path);
                return super::usage_error(&args.common, &message);
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sums = String::new();
    for (path, bytes) in &files {
        let name = path.to_string_lossy().replace('\\', "/");
        sums.push_str(&format!("{}  {name}\n", hex_digest(bytes)));
    }
    files.push((PathBuf::from("SHA256SUMS"), sums.into_bytes()));
    for (path, bytes) in &files {
        let target = args.out.join(path);
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&target, bytes));
        if let Err(error) = written {
            let message = format!("cannot write `{}`: {error}", target.display());
            return super::usage_error(&args.common, &message);
        }
    }
    timings.lap("write");
    super::report_timings(&args.common, &timings);
    let summary = bundle.check.summary();
    let line = format!(
        "wrote {} ({} files): {} invariants, {} passed, {} failed, {} waived\n",
        args.out.display(),
        files.len(),
        summary.total,
        summary.passed,
        summary.failed,
        summary.waived
    );
    let failed = bundle
        .check
        .results
        .iter()
        .any(|r| r.status == Status::Fail);
    let verdict = if failed {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &line).merge(verdict)
}
