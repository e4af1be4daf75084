//! `cordon connections`: every pair of leaves that one flow connects directly.

use crate::cli::{ConnectionsArgs, ConnectionsFormat};
use crate::connections::connections;
use crate::exit::Outcome;
use crate::render;
use crate::timings::Timings;

pub fn run(args: &ConnectionsArgs) -> Outcome {
    if let Err(outcome) = super::check_today(&args.common, &args.today) {
        return outcome;
    }
    let mut timings = Timings::new();
    let model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    let mut ends = Vec::new();
    for selectors in [&args.from, &args.to] {
        if selectors.is_empty() {
            ends.push(None);
            continue;
        }
        match super::select(&args.common, &model, selectors) {
            Ok(selection) => ends.push(Some(selection)),
            Err(outcome) => return outcome,
        }
    }
    let report = connections(&model, ends[0].as_ref(), ends[1].as_ref());
    timings.lap("query");
    let text = match args.format {
        ConnectionsFormat::Text => render::text::connections(&report),
        ConnectionsFormat::Json => render::json::connections(&report),
        ConnectionsFormat::Csv => render::csv::connections(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}
