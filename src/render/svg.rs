//! SVG: the model drawn without any external program, laid out by `layout-rs`.

use layout::backends::svg::SVGWriter;
use layout::gv::{DotParser, GraphBuilder};

use super::dot;
use crate::report::Picture;

/// The picture as SVG. `layout-rs` does not nest clusters, so the picture is laid out
/// flat, each entity labelled with its kind; `None` when the layout fails.
pub fn model(picture: &Picture) -> Option<String> {
    let source = dot::flat(picture);
    // The layout engine is a dependency we do not control; a failure there must not
    // take cordon down with it.
    std::panic::catch_unwind(|| {
        let graph = DotParser::new(&source).process().ok()?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut writer = SVGWriter::new();
        visual.do_it(false, false, false, &mut writer);
        Some(writer.finalize())
    })
    .ok()
    .flatten()
}
