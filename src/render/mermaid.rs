//! Mermaid flowcharts that render on GitHub: witness paths, and the model.

use std::collections::BTreeSet;
use std::fmt::Write;

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
    // Every hop of the story: the paths and the acquisitions of their credentials.
    for hop in report.paths.iter().flatten().chain(report.story_hops()) {
        nodes.insert(hop.from.as_str());
        nodes.insert(hop.to.as_str());
        edges.insert((
            hop.from.as_str(),
            hop.to.as_str(),
            hop.flow.as_str(),
            super::flow_note(hop),
        ));
    }
    for node in &nodes {
        let _ = writeln!(out, "    {}[{}]", id(node), label(node));
    }
    let cut: BTreeSet<&str> = report.cut.iter().map(|flow| flow.flow.as_str()).collect();
    let mut cut_links = Vec::new();
    for (index, (from, to, flow, note)) in edges.iter().enumerate() {
        let text = format!("{flow} ({note})");
        let _ = writeln!(out, "    {} -->|{}| {}", id(from), label(&text), id(to));
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
    fn emit(out: &mut String, picture: &Picture, parent: Option<&str>, indent: usize) {
        let pad = "    ".repeat(indent);
        for node in picture
            .nodes
            .iter()
            .filter(|n| n.parent.as_deref() == parent)
        {
            if node.container {
                let _ = writeln!(
                    out,
                    "{pad}subgraph {}[{}]",
                    id(&node.name),
                    label(&format!("{} ({})", node.name, node.kind))
                );
                emit(out, picture, Some(&node.name), indent + 1);
                let _ = writeln!(out, "{pad}end");
            } else if node.kind == "internet" {
                let _ = writeln!(out, "{pad}{}(({}))", id(&node.name), label(&node.name));
            } else {
                let _ = writeln!(out, "{pad}{}[{}]", id(&node.name), label(&node.name));
            }
        }
    }
    emit(&mut out, picture, None, 1);
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
