//! `cordon diff`: what a change opens or closes.

use std::path::{Path, PathBuf};

use crate::cli::{DiffArgs, DiffFormat};
use crate::diagnostic::{Diagnostic, Problem};
use crate::diff::diff;
use crate::exit::Outcome;
use crate::model::Model;
use crate::policy::{DEFAULT_PATH, model_from_files};
use crate::render;
use crate::revision;
use crate::timings::Timings;

/// Which side of the change a path names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Base,
    Head,
}

/// Loads one side: a path, or policy files at a git revision. A revision without a path
/// reads the path that the other side names, so that `diff git:origin/main .` compares
/// like with like; with none on either side, `policies`.
///
/// A base with no policy files, a folder that exists but holds none or a path that a
/// revision does not hold yet, is the estate before cordon: an empty model, so that the
/// change that brings the first policies is gated like any other. A path that does not
/// exist at all is still an error, as a typo would be.
fn side(
    args: &DiffArgs,
    which: Side,
    argument: &str,
    other: &str,
    timings: &mut Timings,
) -> Result<Model, Outcome> {
    let base = which == Side::Base;
    // `None`: a base without policy files.
    let files = match revision::parse(argument) {
        Some((rev, path)) => {
            let path = path
                .or_else(|| match revision::parse(other) {
                    Some((_, other_path)) => other_path,
                    None => Some(other),
                })
                .unwrap_or(DEFAULT_PATH);
            match revision::files(argument, rev, path) {
                Err(problems) if base && holds_no_policy_files(&problems) => None,
                files => Some(files.map_err(|found| super::report_problems(&args.common, &found))?),
            }
        }
        None if base && is_folder_without_policy_files(argument) => None,
        None => return super::load(&args.common, &[PathBuf::from(argument)], timings),
    };
    let files = files.unwrap_or_else(|| {
        super::note(
            &args.common,
            &format!("`{argument}` holds no policy files: everything in the change is new"),
        );
        Vec::new()
    });
    model_from_files(files).map_err(|problems| super::report_problems(&args.common, &problems))
}

/// Whether the only problem in reading a revision is that it holds no policy files there.
fn holds_no_policy_files(problems: &[Diagnostic]) -> bool {
    (problems.iter()).all(|problem| matches!(*problem.problem, Problem::NoPolicyFiles { .. }))
}

/// Whether `argument` is a folder that exists and holds no policy file.
fn is_folder_without_policy_files(argument: &str) -> bool {
    let path = PathBuf::from(argument);
    path.is_dir() && crate::load::discover(&[path]).0.is_empty()
}

/// Both sides of a Terraform plan: its prior state and its planned values, each with the
/// same policy files (when given) placed around it.
fn plan_sides(
    args: &DiffArgs,
    plan: &Path,
    policies: Option<&str>,
    timings: &mut Timings,
) -> Result<(Model, Model), Outcome> {
    let mut paths = vec![plan.to_path_buf()];
    paths.extend(policies.map(PathBuf::from));
    super::load_plan_sides(&args.common, &paths, timings)
}

pub fn run(args: &DiffArgs) -> Outcome {
    let today = match super::today(&args.today) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let mut timings = Timings::new();
    let sides = match (&args.plan, &args.base, &args.head) {
        (Some(plan), base, _) => plan_sides(args, plan, base.as_deref(), &mut timings),
        // Each side reports its own problems: they are different files.
        (None, Some(base), Some(head)) => match (
            side(args, Side::Base, base, head, &mut timings),
            side(args, Side::Head, head, base, &mut timings),
        ) {
            (Ok(base), Ok(head)) => Ok((base, head)),
            (Err(outcome), _) | (_, Err(outcome)) => Err(outcome),
        },
        // clap requires both paths without --plan.
        _ => return super::usage_error(&args.common, "give BASE and HEAD, or --plan PLAN"),
    };
    let (base, head) = match sides {
        Ok(sides) => sides,
        Err(outcome) => return outcome,
    };
    super::note_empty_level(&args.common, &[&base, &head], args.level);
    let mut report = diff(&base, &head, args.level.kind(), today);
    report.deny_new_paths = args.deny_new_paths;
    timings.lap("diff");
    let text = match args.format {
        DiffFormat::Text => render::text::diff(&report),
        DiffFormat::Markdown => render::markdown::diff(&report),
        DiffFormat::Json => render::json::diff(&report),
    };
    super::report_timings(&args.common, &timings);
    let verdict = if report.fails() {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
