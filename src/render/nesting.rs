//! The containment tree of a [`Picture`] as a flat list of steps, for the formats that
//! draw containment as nesting (DOT clusters, Mermaid subgraphs). Walking it with a
//! stack instead of recursion keeps a model nested a million levels deep from
//! overflowing the stack; it computes nothing the picture does not already say.

use std::collections::BTreeMap;

use crate::report::{Picture, PictureNode};

/// Deeper levels are indented as much as this one: indentation only helps a reader, and
/// a deep model would otherwise grow the output with the square of its depth.
const MAX_INDENT: usize = 8;

/// One step of the walk, with the depth to indent it at (the outermost level is 0).
pub enum Step<'p> {
    /// A container: what follows until its `Close` is inside it.
    Open(&'p PictureNode, usize),
    /// An entity that contains nothing drawn.
    Node(&'p PictureNode, usize),
    Close(usize),
}

/// Every node of the picture in drawing order: children after their container, in the
/// picture's order, each container closed after its last child.
pub fn walk(picture: &Picture) -> Vec<Step<'_>> {
    let mut children: BTreeMap<Option<&str>, Vec<&PictureNode>> = BTreeMap::new();
    for node in &picture.nodes {
        children
            .entry(node.parent.as_deref())
            .or_default()
            .push(node);
    }
    let mut steps = Vec::with_capacity(picture.nodes.len() * 2);
    // Each frame: the nodes of one container still to draw, and their depth.
    let mut frames = vec![(children.get(&None).map_or(&[][..], Vec::as_slice), 0usize)];
    while let Some((rest, depth)) = frames.last_mut() {
        let depth = *depth;
        let Some((&node, tail)) = rest.split_first() else {
            frames.pop();
            if let Some(outer) = depth.checked_sub(1) {
                steps.push(Step::Close(outer));
            }
            continue;
        };
        *rest = tail;
        if node.container {
            steps.push(Step::Open(node, depth));
            let inside = children.get(&Some(node.name.as_str()));
            frames.push((inside.map_or(&[][..], Vec::as_slice), depth + 1));
        } else {
            steps.push(Step::Node(node, depth));
        }
    }
    steps
}

/// The indentation for a step at `depth` inside a block already indented by `base`.
pub fn pad(base: usize, depth: usize) -> String {
    "    ".repeat(base + depth.min(MAX_INDENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, parent: Option<&str>, container: bool) -> PictureNode {
        PictureNode {
            name: name.to_owned(),
            kind: "segment",
            parent: parent.map(str::to_owned),
            container,
        }
    }

    #[test]
    fn a_chain_a_million_deep_is_walked_in_order() {
        let depth = 1_000_000;
        let nodes = (0..depth)
            .map(|i| {
                let parent = (i > 0).then(|| format!("s{:07}", i - 1));
                node(&format!("s{i:07}"), parent.as_deref(), i + 1 < depth)
            })
            .collect();
        let picture = Picture {
            level: None,
            nodes,
            edges: Vec::new(),
        };
        let steps = walk(&picture);
        assert_eq!(steps.len(), 2 * depth - 1);
        assert!(matches!(steps[0], Step::Open(n, 0) if n.name == "s0000000"));
        assert!(
            matches!(steps[depth - 1], Step::Node(n, d) if d == depth - 1 && n.name == "s0999999")
        );
        assert!(matches!(steps[2 * depth - 2], Step::Close(0)));
        assert_eq!(pad(1, depth).len(), 4 * (1 + MAX_INDENT));
    }

    #[test]
    fn siblings_follow_the_container_they_share() {
        let picture = Picture {
            level: None,
            nodes: vec![
                node("a", None, true),
                node("a1", Some("a"), false),
                node("a2", Some("a"), false),
                node("b", None, false),
            ],
            edges: Vec::new(),
        };
        let shape: Vec<String> = walk(&picture)
            .iter()
            .map(|step| match step {
                Step::Open(n, d) => format!("open {} {d}", n.name),
                Step::Node(n, d) => format!("{} {d}", n.name),
                Step::Close(d) => format!("close {d}"),
            })
            .collect();
        assert_eq!(shape, ["open a 0", "a1 1", "a2 1", "close 0", "b 0"]);
    }
}
