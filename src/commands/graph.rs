//! `cordon graph`: the model as a picture.

use crate::cli::{GraphArgs, GraphFormat};
use crate::exit::Outcome;
use crate::picture::{Options, picture};
use crate::render;
use crate::timings::Timings;

/// The most entities and edges that `--format svg` lays out. `layout-rs` grows much
/// faster than the picture (400 take a second, 1,200 most of a minute, a 16 MB model
/// ran for more than twelve minutes), so past this the command says so at once.
pub const SVG_LIMIT: usize = 500;

pub fn run(args: &GraphArgs) -> Outcome {
    if let Err(outcome) = super::check_today(&args.common, &args.today) {
        return outcome;
    }
    let mut timings = Timings::new();
    let model = match super::load(&args.common, &args.paths, &mut timings) {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    let focus = match &args.focus {
        None => None,
        Some(name) => match model.find_entity(name) {
            Some(entity) => Some((entity, args.depth)),
            None => {
                let help = crate::suggest::did_you_mean(
                    name,
                    model.entities.iter().map(|e| e.name.as_str()),
                )
                .map(|help| format!("; {help}"))
                .unwrap_or_default();
                return super::usage_error(
                    &args.common,
                    &format!("unknown entity `{name}` for `--focus`{help}"),
                );
            }
        },
    };
    let highlight = match (&args.highlight_from, &args.highlight_to) {
        (Some(from), Some(to)) => {
            let from = super::select(&args.common, &model, std::slice::from_ref(from));
            let to = super::select(&args.common, &model, std::slice::from_ref(to));
            match (from, to) {
                (Ok(from), Ok(to)) => Some((from, to)),
                (Err(outcome), _) | (_, Err(outcome)) => return outcome,
            }
        }
        _ => None,
    };
    let options = Options {
        level: args.level.map(|level| level.kind()),
        focus,
        highlight,
    };
    let picture = picture(&model, &options);
    timings.lap("query");
    let text = match args.format {
        GraphFormat::Text => render::text::picture(&picture),
        GraphFormat::Dot => render::dot::model(&picture),
        GraphFormat::Mermaid => render::mermaid::model(&picture),
        GraphFormat::Json => render::json::picture(&picture),
        GraphFormat::Svg if picture.nodes.len() + picture.edges.len() > SVG_LIMIT => {
            return super::usage_error(
                &args.common,
                &format!(
                    "the picture has {} entities and {} edges, more than SVG's layout draws \
                     quickly ({SVG_LIMIT} in all): draw less with `--level account` or \
                     `--focus ENTITY`, or use `--format dot` with Graphviz",
                    picture.nodes.len(),
                    picture.edges.len()
                ),
            );
        }
        GraphFormat::Svg => match render::svg::model(&picture) {
            Some(svg) => {
                if picture.nodes.iter().any(|node| node.container) {
                    eprintln!(
                        "note: SVG is laid out flat, each entity labelled with its kind; \
                         for containment drawn as nested boxes, use `--format dot` with Graphviz"
                    );
                }
                svg
            }
            None => {
                return super::usage_error(
                    &args.common,
                    "the layout engine could not draw this graph; use --format dot with Graphviz",
                );
            }
        },
    };
    timings.lap("render");
    super::report_timings(&args.common, &timings);
    super::emit(&args.common, &text)
}
