//! `cordon check`: verify every invariant.

use crate::check::check_timed;
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Outcome;
use crate::render;
use crate::report::Status;
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
        let text = render::text::exceptions(&crate::check::exceptions(&model, today));
        return super::emit(&args.common, &text);
    }
    let report = check_timed(&model, today, &mut timings);
    let text = match args.format {
        CheckFormat::Text => render::text::check(&report),
        CheckFormat::Json => render::json::check(&report),
        CheckFormat::Sarif => render::sarif::check(&report),
        CheckFormat::Junit => render::junit::check(&report),
        CheckFormat::Github => render::github::check(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    let threshold = args.fail_on.severity();
    let verdict = if report
        .results
        .iter()
        .any(|r| r.status == Status::Fail && r.severity >= threshold)
    {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
