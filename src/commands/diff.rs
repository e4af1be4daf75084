//! `cordon diff`: what a change opens or closes.

use std::path::{Path, PathBuf};

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::diff;
use crate::exit::Outcome;
use crate::model::Model;
use crate::policy::{DEFAULT_PATH, model_from_files};
use crate::render;
use crate::revision;
use crate::timings::Timings;

/// Loads one side: a path, or policy files at a git revision. A revision without a path
/// reads the path that the other side names, so that `diff git:origin/main .` compares
/// like with like; with none on either side, `policies`.
fn side(
    args: &DiffArgs,
    argument: &str,
    other: &str,
    timings: &mut Timings,
) -> Result<Model, Outcome> {
    match revision::parse(argument) {
        Some((rev, path)) => {
            let path = path
                .or_else(|| match revision::parse(other) {
                    Some((_, other_path)) => other_path,
                    None => Some(other),
                })
                .unwrap_or(DEFAULT_PATH);
            revision::files(argument, rev, path)
                .and_then(model_from_files)
                .map_err(|problems| super::report_problems(&args.common, &problems))
        }
        None => super::load(&args.common, &[PathBuf::from(argument)], timings),
    }
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
            side(args, base, head, &mut timings),
            side(args, head, base, &mut timings),
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
