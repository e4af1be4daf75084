//! `cordon check`: verify every invariant.

use crate::check::check_timed;
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Outcome;
use crate::policy::load_model_timed;
use crate::progress;
use crate::render;
use crate::report::Status;
use crate::timings::Timings;

pub fn run(args: &CheckArgs) -> Outcome {
    let today = match super::today(&args.common) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let mut timings = Timings::new();
    let model = match load_model_timed(
        &args.paths,
        &mut timings,
        progress::for_terminal(args.common.quiet).as_ref(),
    ) {
        Ok(model) => model,
        Err(diagnostics) => return super::report_problems(&args.common, &diagnostics),
    };
    let report = check_timed(&model, today, &mut timings);
    let text = match args.format {
        CheckFormat::Text => render::text::check(&report),
        CheckFormat::Json => render::json::check(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    let verdict = if report.results.iter().any(|r| r.status == Status::Fail) {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
