//! `cordon matrix`: who reaches whom among all entities of one kind.

use crate::cli::{MatrixArgs, MatrixFormat};
use crate::exit::Outcome;
use crate::matrix::matrix;
use crate::render;
use crate::timings::Timings;

pub fn run(args: &MatrixArgs) -> Outcome {
    if let Err(outcome) = super::check_today(&args.common, &args.today) {
        return outcome;
    }
    let mut timings = Timings::new();
    let model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    // Only the html form shows each cell's path.
    let witnesses = args.format == MatrixFormat::Html;
    super::note_empty_level(&args.common, &[&model], args.level);
    let report = matrix(&model, args.level.kind(), witnesses);
    timings.lap("query");
    let text = match args.format {
        MatrixFormat::Text => render::text::matrix(&report),
        MatrixFormat::Csv => render::csv::matrix(&report),
        MatrixFormat::Json => render::json::matrix(&report),
        MatrixFormat::Markdown => render::markdown::matrix(&report),
        MatrixFormat::Html => render::html::matrix(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}
