//! `cordon check`: verify every invariant.

use crate::check::check_timed;
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Outcome;
use crate::render;
use crate::timings::Timings;

pub fn run(args: &CheckArgs) -> Outcome {
    let today = match super::today(&args.today) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let mut timings = Timings::new();
    let model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    if args.list_exceptions {
        let report = check_timed(&model, today, &mut timings);
        let text = match args.format {
            CheckFormat::Text => render::text::exceptions(&report.exceptions),
            CheckFormat::Json => render::json::exceptions(&report.exceptions),
            CheckFormat::Sarif | CheckFormat::Junit | CheckFormat::Github => {
                return super::usage_error(
                    &args.common,
                    "`--list-exceptions` writes `text` or `json`, not results for a CI system",
                );
            }
        };
        return super::emit(&args.common, &text);
    }
    if let Err(outcome) = super::require_invariants(&args.common, &model, args.allow_empty) {
        return outcome;
    }
    let mut report = check_timed(&model, today, &mut timings);
    report.fail_on = args.fail_on.severity();
    // An exception that waives nothing is a control that is not doing what it says;
    // say so on standard error, whatever the format, without changing the verdict,
    // unless warnings are errors.
    let unused = render::text::unused_exceptions(&report.exceptions);
    super::warn(&args.common, &unused);
    if args.common.run.deny_warnings && !unused.is_empty() {
        return super::usage_error(
            &args.common,
            "an exception waives nothing, and `--deny-warnings` makes that an error",
        );
    }
    let text = match args.format {
        CheckFormat::Text => render::text::check(&report),
        CheckFormat::Json => render::json::check(&report),
        CheckFormat::Sarif => render::sarif::check(&report),
        CheckFormat::Junit => render::junit::check(&report),
        CheckFormat::Github => render::github::check(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    let verdict = if report.blocking() > 0 {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
