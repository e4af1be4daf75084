//! `Node`: a YAML or JSON document as a tree of values that each keep their line and
//! column, so that every entity and flow the importer emits points at its manifest line.
//! Kubernetes objects have many fields cordon ignores and shapes that vary by kind, so
//! the importer reads this tree instead of one serde type per kind.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diagnostic::Diagnostic;
use crate::raw::At;

/// A YAML value with positions on every nested value.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// Numbers keep their text: Kubernetes reads ports as integers, cordon as text.
    Number(String),
    Str(String),
    Seq(Vec<At<Node>>),
    Map(Vec<(String, At<Node>)>),
}

impl Node {
    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&At<Node>> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar's text, whatever its YAML type: label values such as `true` or `8080`
    /// are strings to Kubernetes.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Str(text) | Node::Number(text) => Some(text.clone()),
            Node::Bool(value) => Some(value.to_string()),
            _ => None,
        }
    }

    /// A boolean as Kubernetes reads it: manifests are YAML 1.1 to it, where `yes`, `on`
    /// and `y` are true and `no`, `off` and `n` false, in any case.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(value) => Some(*value),
            Node::Str(text) => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "y" => Some(true),
                "false" | "no" | "off" | "n" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[At<Node>] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// What a message calls this kind of value.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Null => "nothing",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<At<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<At<Node>>()?;
            let key = key.scalar_text().unwrap_or_default();
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// Every document of a YAML (or JSON) file, with positions; empty documents are skipped.
pub fn documents(display: &str, text: &str) -> Result<Vec<At<Node>>, Diagnostic> {
    // A byte-order mark is not content, and YAML parsers disagree on it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    crate::load::yaml_documents::<At<Node>>(display, text).map(|documents| {
        documents
            .into_iter()
            .filter(|d| !d.value.is_null())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_keeps_its_line_across_documents() {
        let text = "a: 1\n---\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: x}\n";
        let docs = documents("f.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        let name = docs[1]
            .value
            .get("metadata")
            .unwrap()
            .value
            .get("name")
            .unwrap();
        assert_eq!((name.line, name.column), (5, 9));
        assert_eq!(name.value.scalar_text().as_deref(), Some("web"));
        let crlf = documents("f.yaml", "kind: Pod\r\nmetadata:\r\n  name: web\r\n").unwrap();
        let name = crlf[0]
            .value
            .get("metadata")
            .unwrap()
            .value
            .get("name")
            .unwrap();
        assert_eq!(name.line, 3);
    }

    #[test]
    fn json_is_read_with_positions() {
        let docs = documents(
            "f.json",
            "{\"kind\": \"List\",\n \"items\": [{\"a\": 8080}]}",
        )
        .unwrap();
        let items = docs[0].value.get("items").unwrap();
        assert_eq!(items.value.as_seq()[0].line, 2);
        let a = items.value.as_seq()[0].value.get("a").unwrap();
        assert_eq!(a.value.scalar_text().as_deref(), Some("8080"));
    }

    #[test]
    fn bad_yaml_is_a_located_error() {
        let error = documents("f.yaml", "kind: Pod\nmetadata: [\n").unwrap_err();
        assert_eq!(error.file, "f.yaml");
        assert!(error.line > 0);
    }
}
