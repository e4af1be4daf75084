//! Mermaid flowcharts that render on GitHub: witness paths, and the model.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::nesting::{self, Step};
use crate::report::{PathReport, Picture};

/// A Mermaid node id for an entity name: names may hold `.` and `-`, ids may not.
pub fn id(name: &str) -> String {
    let mut id = String::from("n_");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else {
            let _ = write!(id, "_{:x}_", c as u32);
        }
    }
    id
}

/// A label in double quotes, with the characters Mermaid would read as syntax escaped.
pub fn label(text: &str) -> String {
    let escaped = text
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;");
    format!("\"{escaped}\"")
}

/// The paths of a `path` query as a `flowchart LR`; flows in the cut are drawn red.
pub fn path(report: &PathReport) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for hop in report.paths.iter().flatten() {
        nodes.insert(hop.from.as_str());
        nodes.insert(hop.to.as_str());
        edges.insert((hop.from.as_str(), hop.to.as_str(), hop.flow.as_str()));
    }
    for node in &nodes {
        let _ = writeln!(out, "    {}[{}]", id(node), label(node));
    }
    let cut: BTreeSet<&str> = report.cut.iter().map(|flow| flow.flow.as_str()).collect();
    let mut cut_links = Vec::new();
    for (index, (from, to, flow)) in edges.iter().enumerate() {
        let _ = writeln!(out, "    {} -->|{}| {}", id(from), label(flow), id(to));
        if cut.contains(flow) {
            cut_links.push(index.to_string());
        }
    }
    if !cut_links.is_empty() {
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:#d00,stroke-width:3px,stroke-dasharray:6 4",
            cut_links.join(",")
        );
    }
    out
}

/// The model as a `flowchart LR`, containment as nested subgraphs; edges may start or
/// end at a subgraph.
pub fn model(picture: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    for step in nesting::walk(picture) {
        match step {
            Step::Open(node, depth) => {
                let _ = writeln!(
                    out,
                    "{}subgraph {}[{}]",
                    nesting::pad(1, depth),
                    id(&node.name),
                    label(&format!("{} ({})", node.name, node.kind))
                );
            }
            Step::Close(depth) => {
                let _ = writeln!(out, "{}end", nesting::pad(1, depth));
            }
            Step::Node(node, depth) => {
                let pad = nesting::pad(1, depth);
                if node.kind == "internet" {
                    let _ = writeln!(out, "{pad}{}(({}))", id(&node.name), label(&node.name));
                } else {
                    let _ = writeln!(out, "{pad}{}[{}]", id(&node.name), label(&node.name));
                }
            }
        }
    }
    let mut highlighted = Vec::new();
    for (index, edge) in picture.edges.iter().enumerate() {
        let arrow = if edge.credentials.is_empty() {
            "-->"
        } else {
            "-.->"
        };
        let _ = writeln!(
            out,
            "    {} {arrow}|{}| {}",
            id(&edge.from),
            label(&edge.flows.join(", ")),
            id(&edge.to)
        );
        if edge.highlighted {
            highlighted.push(index.to_string());
        }
    }
    if !highlighted.is_empty() {
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:#d00,stroke-width:3px",
            highlighted.join(",")
        );
    }
    out
}
