//! `cordon reach`: what a selection reaches, or what reaches it.

use crate::cli::{ReachArgs, ReachFormat};
use crate::diagnostic::Diagnostic;
use crate::exit::Outcome;
use crate::model::{Model, Selection};
use crate::policy::load_model_timed;
use crate::ports::{self, PortSpec};
use crate::progress;
use crate::reach::{reach_from, reach_to, report};
use crate::render;
use crate::report::Direction;
use crate::resolve::select;
use crate::timings::Timings;

pub fn run(args: &ReachArgs) -> Outcome {
    let (direction, selectors) = if args.from.is_empty() {
        (Direction::To, &args.to)
    } else {
        (Direction::From, &args.from)
    };
    let mut ports = Vec::new();
    for text in &args.ports {
        match text.parse::<PortSpec>() {
            Ok(spec) => ports.push(spec),
            Err(()) => {
                let message = format!("invalid port `{text}`: {}", ports::suggestion(text));
                return super::usage_error(&args.common, &message);
            }
        }
    }
    let mut timings = Timings::new();
    let model = match load_model_timed(
        &args.paths,
        &mut timings,
        progress::for_terminal(args.common.quiet).as_ref(),
    ) {
        Ok(model) => model,
        Err(diagnostics) => return super::report_problems(&args.common, &diagnostics),
    };
    let selection = match selection(&model, selectors) {
        Ok(selection) => selection,
        Err(diagnostics) => return super::report_problems(&args.common, &diagnostics),
    };
    let found = match direction {
        Direction::From => reach_from(&model, &selection, &ports),
        Direction::To => reach_to(&model, &selection, &ports),
    };
    timings.lap("query");
    let report = report(&model, direction, selectors.clone(), &ports, found);
    let text = match args.format {
        ReachFormat::Text => render::text::reach(&report),
        ReachFormat::Json => render::json::reach(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}

/// Resolves selectors given on the command line, reporting them as `<command line>`.
fn selection(model: &Model, selectors: &[String]) -> Result<Selection, Vec<Diagnostic>> {
    select(model, selectors).map_err(|errors| {
        errors
            .into_iter()
            .map(|(problem, help)| Diagnostic::new("<command line>", 0, 0, problem).with_help(help))
            .collect::<Vec<_>>()
    })
}
