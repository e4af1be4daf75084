//! Line numbers for the resources of a plan, found by one pass over its bytes.
//!
//! `serde_json` keeps no positions, and every imported flow is located at the line of
//! the resource that allows it. The scanner records, for each top-level section
//! (`planned_values`, `prior_state`, `values`), the line of the object that holds each
//! `"address"` key, the first time that address appears in the section.

use std::collections::HashMap;

/// The line (from 1) of each resource object, by top-level section and address.
#[derive(Debug, Default)]
pub struct ResourceLines {
    lines: HashMap<(String, String), u32>,
}

impl ResourceLines {
    /// The line of `address` in `section`, or 0 when the scan did not find it.
    pub fn line(&self, section: &str, address: &str) -> u32 {
        self.lines
            .get(&(section.to_owned(), address.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Scans a JSON document. Malformed input gives partial results, never a panic.
    pub fn scan(text: &str) -> ResourceLines {
        let bytes = text.as_bytes();
        let mut lines = ResourceLines::default();
        let mut line: u32 = 1;
        // The line where each open object or array started, and whether it is an object.
        let mut open: Vec<(u32, bool)> = Vec::new();
        let mut section = String::new();
        let mut string_start = 0;
        let mut in_string = false;
        let mut escaped = false;
        // The last string closed, and whether it was followed by ':' (a key).
        let mut last_string: Option<(usize, usize)> = None;
        let mut key: Option<String> = None;
        for (index, &byte) in bytes.iter().enumerate() {
            if byte == b'\n' {
                line = line.saturating_add(1);
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                    let value = (string_start, index);
                    if key.as_deref() == Some("address")
                        && let Some(&(start_line, true)) = open.last()
                    {
                        let address = unescape(text.get(value.0..value.1).unwrap_or(""));
                        lines
                            .lines
                            .entry((section.clone(), address))
                            .or_insert(start_line);
                    }
                    last_string = Some(value);
                }
                continue;
            }
            match byte {
                b'"' => {
                    in_string = true;
                    string_start = index + 1;
                    continue;
                }
                b':' => {
                    let name = last_string
                        .and_then(|(start, end)| text.get(start..end))
                        .unwrap_or("");
                    if open.len() == 1 {
                        name.clone_into(&mut section);
                    }
                    key = Some(name.to_owned());
                    continue;
                }
                b'{' | b'[' => open.push((line, byte == b'{')),
                b'}' | b']' => {
                    open.pop();
                }
                _ => {}
            }
            if !byte.is_ascii_whitespace() {
                key = None;
                last_string = None;
            }
        }
        lines
    }
}

/// The text of a JSON string body; only the escapes an address holds matter.
fn unescape(body: &str) -> String {
    if !body.contains('\\') {
        return body.to_owned();
    }
    serde_json::from_str::<String>(&format!("\"{body}\"")).unwrap_or_else(|_| body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_resource_line_per_section() {
        let text = r#"{
  "planned_values": {"root_module": {"resources": [
    {
      "address": "aws_vpc.main",
      "values": {"address": "not this"}
    },
    {"address": "aws_subnet.private[\"a\"]"}
  ]}},
  "prior_state": {"values": {"root_module": {"resources": [
    {"address": "aws_vpc.main"}
  ]}}}
}"#;
        let lines = ResourceLines::scan(text);
        assert_eq!(lines.line("planned_values", "aws_vpc.main"), 3);
        assert_eq!(lines.line("planned_values", "aws_subnet.private[\"a\"]"), 7);
        assert_eq!(lines.line("prior_state", "aws_vpc.main"), 10);
        assert_eq!(lines.line("prior_state", "nothing"), 0);
    }

    #[test]
    fn survives_garbage() {
        for text in ["", "{", "\"address\":", "}]{\"address\": \"x"] {
            let _ = ResourceLines::scan(text);
        }
    }
}
