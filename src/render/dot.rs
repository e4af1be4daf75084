//! Graphviz DOT: witness paths, and the model with its containment as nested clusters.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::report::PathReport;

/// A DOT string literal.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The paths of a `path` query; flows in the cut are drawn red and dashed.
pub fn path(report: &PathReport) -> String {
    let mut out =
        String::from("digraph path {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n");
    let cut: BTreeSet<&str> = report.cut.iter().map(|flow| flow.flow.as_str()).collect();
    let mut edges = BTreeSet::new();
    for hop in report.paths.iter().flatten() {
        edges.insert((hop.from.as_str(), hop.to.as_str(), hop.flow.as_str()));
    }
    for (from, to, flow) in edges {
        let style = if cut.contains(flow) {
            ", color=red, fontcolor=red, style=dashed, penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {} -> {} [label={}{style}];",
            quote(from),
            quote(to),
            quote(flow)
        );
    }
    out.push_str("}\n");
    out
}
