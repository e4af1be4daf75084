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

/// Makes `out` an empty directory to write the bundle into, so that no stale file from an
/// earlier bundle sits beside `SHA256SUMS`: a non-empty one is refused, or with `--force`
/// cleared.
fn prepare(out: &Path, force: bool) -> Result<(), String> {
    let shown = out.display();
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries.collect::<Result<Vec<_>, _>>(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(format!("cannot read `{shown}`: {error}")),
    };
    let entries = entries.map_err(|error| format!("cannot read `{shown}`: {error}"))?;
    if entries.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(format!(
            "`{shown}` is not empty: a bundle starts from an empty folder (use `--force` to clear it)"
        ));
    }
    for entry in entries {
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        removed.map_err(|error| format!("cannot clear `{}`: {error}", path.display()))?;
    }
    Ok(())
}

pub fn run(args: &EvidenceArgs) -> Outcome {
    let common = args.common();
    if let Err(message) = prepare(&args.out, args.force) {
        return super::usage_error(&common, &message);
    }
    let today = match super::today(&args.today) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&common, &message),
    };
    let mut timings = Timings::new();
    let model = match super::load(&common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = super::require_invariants(&args.common(), &model, args.allow_empty) {
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
                return super::usage_error(&common, &message);
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
            return super::usage_error(&common, &message);
        }
    }
    timings.lap("write");
    super::report_timings(&common, &timings);
    let summary = bundle.check.summary();
    let line = format!(
        "wrote {} ({}): {}, {} passed, {} failed, {} waived\n",
        args.out.display(),
        crate::render::count(files.len() as i64, "file", "files"),
        crate::render::count(summary.total as i64, "invariant", "invariants"),
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
    super::emit(&common, &line).merge(verdict)
}
