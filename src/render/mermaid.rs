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

/// One visual language for `graph` and `path`, as in DOT: dotted for a connection that
/// needs a credential, a cross for one that can never open.
fn arrow(locked: bool, closed: bool) -> &'static str {
    match (locked, closed) {
        (_, true) => "-.-x",
        (true, false) => "-.->",
        (false, false) => "-->",
    }
}

/// The paths of a `path` query as a `flowchart LR`, drawn as `graph` draws a
/// highlighted path: red and thick; a flow in the cut says so in its label.
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
            hop.credential.is_some(),
        ));
    }
    for node in &nodes {
        let _ = writeln!(out, "    {}[{}]", id(node), label(node));
    }
    let cut: BTreeSet<&str> = report.cut.iter().map(|flow| flow.flow.as_str()).collect();
    let mut links = Vec::new();
    for (index, (from, to, flow, note, locked)) in edges.iter().enumerate() {
        let text = if cut.contains(flow) {
            format!("{flow} ({note}; cut here)")
        } else {
            format!("{flow} ({note})")
        };
        let _ = writeln!(
            out,
            "    {} {}|{}| {}",
            id(from),
            arrow(*locked, false),
            label(&text),
            id(to)
        );
        links.push(index.to_string());
    }
    if !links.is_empty() {
        let _ = writeln!(out, "    linkStyle {} {HIGHLIGHT}", links.join(","));
    }
    out
}

/// How a witness path is drawn, in `path` and in `graph --highlight-from`.
const HIGHLIGHT: &str = "stroke:#d00,stroke-width:3px";

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
        let arrow = arrow(edge.locked, edge.closed);
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
        let _ = writeln!(out, "    linkStyle {} {HIGHLIGHT}", highlighted.join(","));
    }
    out
}
