//! `cordon reach`: what a selection reaches, or what reaches it.

use crate::cli::{ReachArgs, ReachFormat};
use crate::exit::Outcome;
use crate::reach::{reach_from, reach_to, report};
use crate::render;
use crate::report::Direction;
use crate::timings::Timings;

pub fn run(args: &ReachArgs) -> Outcome {
    if let Err(outcome) = super::check_today(&args.common, &args.today) {
        return outcome;
    }
    let (direction, selectors) = if args.from.is_empty() {
        (Direction::To, &args.to)
    } else {
        (Direction::From, &args.from)
    };
    let ports = match super::ports(&args.common, &args.ports) {
        Ok(ports) => ports,
        Err(outcome) => return outcome,
    };
    let mut timings = Timings::new();
    let mut model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    let leaked = match super::assume_leaked(&args.common, &mut model, &args.leaked) {
        Ok(leaked) => leaked,
        Err(outcome) => return outcome,
    };
    let selection = match super::select(&args.common, &model, selectors) {
        Ok(selection) => selection,
        Err(outcome) => return outcome,
    };
    let found = match direction {
        Direction::From => reach_from(&model, &selection, &ports),
        Direction::To => reach_to(&model, &selection, &ports),
    };
    timings.lap("query");
    let level = args.level.map(|level| level.kind());
    let mut report = report(&model, direction, selectors.clone(), &ports, found, level);
    report.leaked = leaked;
    let text = match args.format {
        ReachFormat::Text => render::text::reach(&report),
        ReachFormat::Json => render::json::reach(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}
