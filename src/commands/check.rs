//! `cordon check`: verify every invariant.

use crate::check::check;
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Outcome;
use crate::policy::load_model;
use crate::render;
use crate::report::Status;

pub fn run(args: &CheckArgs) -> Outcome {
    let today = match super::today(&args.common) {
        Ok(today) => today,
        Err(message) => return super::usage_error(&args.common, &message),
    };
    let model = match load_model(&args.paths) {
        Ok(model) => model,
        Err(diagnostics) => return super::report_problems(&args.common, &diagnostics),
    };
    let report = check(&model, today);
    let text = match args.format {
        CheckFormat::Text => render::text::check(&report),
        CheckFormat::Json => render::json::check(&report),
    };
    let verdict = if report.results.iter().any(|r| r.status == Status::Fail) {
        Outcome::Violated
    } else {
        Outcome::Holds
    };
    super::emit(&args.common, &text).merge(verdict)
}
