//! `cordon diff`: what a change opens or closes.

use std::path::PathBuf;

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::diff;
use crate::exit::Outcome;
use crate::model::Model;
use crate::policy::model_from_files;
use crate::render;
use crate::revision;
use crate::timings::Timings;

/// Loads one side: a path, or policy files at a git revision.
fn side(args: &DiffArgs, argument: &str, timings: &mut Timings) -> Result<Model, Outcome> {
    match revision::parse(argument) {
        Some((rev, path)) => revision::files(argument, rev, path)
            .and_then(model_from_files)
            .map_err(|problems| super::report_problems(&args.common, &problems)),
        None => super::load(&args.common, &[PathBuf::from(argument)], timings),
    }
}

pub fn run(args: &DiffArgs) -> Outcome {
    let today = match super::today(&args.today) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let mut timings = Timings::new();
    let (base, head) = match (
        side(args, &args.base, &mut timings),
        side(args, &args.head, &mut timings),
    ) {
        (Ok(base), Ok(head)) => (base, head),
        (Err(outcome), _) | (_, Err(outcome)) => return outcome,
    };
    let report = diff(&base, &head, args.level.kind(), today);
    timings.lap("diff");
    let text = match args.format {
        DiffFormat::Text => render::text::diff(&report),
        DiffFormat::Markdown => render::markdown::diff(&report),
        DiffFormat::Json => render::json::diff(&report),
    };
    super::report_timings(&args.common, &timings);
    let regressed = report.regressions() > 0 || (args.deny_new_paths && !report.opened.is_empty());
    let verdict = if regressed {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
