//! Graphviz DOT: witness paths, and the model with its containment as nested clusters.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::nesting::{self, Step};
use crate::report::{PathReport, Picture, PictureEdge};

/// A DOT string literal.
pub fn quote(text: &str) -> String {
    quote_lines(&[text])
}

/// A DOT string literal of several lines, each escaped, joined by DOT's `\n`.
pub fn quote_lines(lines: &[&str]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|line| line.replace('\\', "\\\\").replace('"', "\\\""))
        .collect();
    format!("\"{}\"", escaped.join("\\n"))
}

/// The paths of a `path` query; flows in the cut are drawn red and dashed.
pub fn path(report: &PathReport) -> String {
    let mut out = String::from(
        "digraph path {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    let cut: BTreeSet<&str> = report.cut.iter().map(|flow| flow.flow.as_str()).collect();
    // Every hop of the story: the paths and the acquisitions of their credentials.
    let mut edges = BTreeSet::new();
    for hop in report.paths.iter().flatten().chain(report.story_hops()) {
        edges.insert((
            hop.from.as_str(),
            hop.to.as_str(),
            hop.flow.as_str(),
            super::flow_note(hop),
            hop.credential.is_some(),
        ));
    }
    for (from, to, flow, note, locked) in edges {
        // The paths are witnesses, drawn as `graph` draws a highlighted one; a flow in
        // the cut says so in its label.
        let label = if cut.contains(flow) {
            quote_lines(&[flow, &note, "cut here"])
        } else {
            quote_lines(&[flow, &note])
        };
        let _ = writeln!(
            out,
            "    {} -> {} [label={label}{}];",
            quote(from),
            quote(to),
            edge_style(true, locked, false)
        );
    }
    out.push_str("}\n");
    out
}

/// One visual language for `graph` and `path`: a witness path is red and thick, a
/// connection that needs a credential is dashed, one that can never open (its only
/// credentials are revoked) is dotted and grey.
pub fn edge_style(on_path: bool, locked: bool, closed: bool) -> String {
    let mut attributes = Vec::new();
    if closed {
        attributes.push("style=dotted, color=\"#8c959f\", fontcolor=\"#8c959f\"");
    } else if locked {
        attributes.push("style=dashed");
    }
    if on_path {
        attributes.push("color=red, fontcolor=red, penwidth=2.5");
    }
    attributes.iter().map(|a| format!(", {a}")).collect()
}

fn edge_label(edge: &PictureEdge) -> String {
    let mut lines: Vec<&str> = edge.flows.iter().map(String::as_str).collect();
    let ports = edge.ports.join(" ");
    if !edge.ports.is_empty() && edge.ports != ["any"] {
        lines.push(&ports);
    }
    quote_lines(&lines)
}

/// The model with containment as nested clusters; a container that flows start or end
/// at gets a node of its own inside its cluster.
pub fn model(picture: &Picture) -> String {
    let mut out = String::from(
        "digraph cordon {\n    rankdir=LR;\n    compound=true;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    let ends: BTreeSet<&str> = picture
        .edges
        .iter()
        .flat_map(|edge| [edge.from.as_str(), edge.to.as_str()])
        .collect();
    for step in nesting::walk(picture) {
        match step {
            Step::Open(node, depth) => {
                let pad = nesting::pad(1, depth);
                let _ = writeln!(
                    out,
                    "{pad}subgraph {} {{",
                    quote(&format!("cluster_{}", node.name))
                );
                let _ = writeln!(
                    out,
                    "{pad}    label={};",
                    quote(&format!("{} ({})", node.name, node.kind))
                );
                let _ = writeln!(out, "{pad}    style=rounded; color=\"#8c959f\";");
                // A container that flows start or end at needs a node to attach them to.
                if ends.contains(node.name.as_str()) {
                    let _ = writeln!(
                        out,
                        "{pad}    {} [label={}, shape=folder];",
                        quote(&node.name),
                        quote(&node.name)
                    );
                }
            }
            Step::Close(depth) => {
                let _ = writeln!(out, "{}}}", nesting::pad(1, depth));
            }
            Step::Node(node, depth) => {
                let pad = nesting::pad(1, depth);
                if node.kind == "internet" {
                    let _ = writeln!(out, "{pad}{} [shape=ellipse];", quote(&node.name));
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{} [label={}];",
                        quote(&node.name),
                        quote_lines(&[&node.name, node.kind])
                    );
                }
            }
        }
    }
    for edge in &picture.edges {
        let style = edge_style(edge.highlighted, edge.locked, edge.closed);
        let _ = writeln!(
            out,
            "    {} -> {} [label={}{style}];",
            quote(&edge.from),
            quote(&edge.to),
            edge_label(edge)
        );
    }
    out.push_str("}\n");
    out
}

/// The model as flat DOT, without clusters, for layout engines that do not nest.
pub fn flat(picture: &Picture) -> String {
    let mut out = String::from("digraph cordon {\n");
    for node in &picture.nodes {
        let _ = writeln!(
            out,
            "    {} [label={}];",
            quote(&node.name),
            quote(&format!("{} ({})", node.name, node.kind))
        );
    }
    for edge in &picture.edges {
        let color = if edge.highlighted {
            " color=\"red\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {} -> {} [label={}{color}];",
            quote(&edge.from),
            quote(&edge.to),
            quote(&edge.flows.join(", "))
        );
    }
    out.push_str("}\n");
    out
}
