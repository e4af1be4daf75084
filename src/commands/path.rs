//! `cordon path`: the shortest witness paths between two selections, and the flows to
//! cut.

use crate::cli::{PathArgs, PathFormat};
use crate::cut::isolate;
use crate::exit::Outcome;
use crate::graph::ReachGraph;
use crate::path::{find_paths, report};
use crate::render;
use crate::timings::Timings;

pub fn run(args: &PathArgs) -> Outcome {
    if let Err(outcome) = super::check_today(&args.common, &args.today) {
        return outcome;
    }
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
    let (from, to) = match (
        super::select(&args.common, &model, &args.from),
        super::select(&args.common, &model, &args.to),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(outcome), _) | (_, Err(outcome)) => return outcome,
    };
    if let Some(shared) = from.overlap(&model, &to) {
        let name = &model.entity(shared).name;
        let message = format!("`--from` and `--to` overlap on `{name}`: narrow one of them");
        return super::usage_error(&args.common, &message);
    }
    let found = find_paths(&model, &from, &to, &ports, args.all);
    timings.lap("query");
    let graph = ReachGraph::build(&model);
    // The ends do not overlap (checked above), so some set of flows isolates them.
    let isolation = isolate(&model, &graph, &from, &to, &ports).unwrap_or_default();
    timings.lap("cut");
    let mut report = report(
        &model,
        args.from.clone(),
        args.to.clone(),
        &ports,
        &found,
        &isolation,
    );
    report.leaked = leaked;
    let text = match args.format {
        PathFormat::Text => render::text::path(&report),
        PathFormat::Json => render::json::path(&report),
        PathFormat::Mermaid => render::mermaid::path(&report),
        PathFormat::Dot => render::dot::path(&report),
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}
