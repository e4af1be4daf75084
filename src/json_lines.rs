//! Line numbers for the items of a JSON policy file, found by one pass over its bytes.
//!
//! `serde_json` keeps no positions, and re-reading a large generated file with the YAML
//! parser to get them would cost more than the fast path saves. Flows, invariants and
//! exceptions are named by their line in every output, so this scanner records the line
//! where each item of those top-level lists starts.

/// The line (from 1) of each item of the top-level `flows`, `invariants` and
/// `exceptions` lists, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonLines {
    pub flows: Vec<u32>,
    pub invariants: Vec<u32>,
    pub exceptions: Vec<u32>,
}

impl JsonLines {
    /// Scans a JSON document. Malformed input gives partial results, never a panic;
    /// `serde_json` has already judged the document by then.
    pub fn scan(bytes: &[u8]) -> JsonLines {
        let mut lines = JsonLines::default();
        let mut line: u32 = 1;
        let mut depth: u32 = 0;
        let mut in_string = false;
        let mut escaped = false;
        // The last string read at depth 1, which is a key once a ':' follows it.
        let mut string_start = 0;
        let mut last_key: Option<(usize, usize)> = None;
        // The list being recorded, and whether the next value starts an item of it.
        let mut recording: Option<usize> = None;
        let mut expect_item = false;
        let mut pending_list: Option<usize> = None;
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
                    if depth == 1 {
                        last_key = Some((string_start, index));
                    }
                }
                continue;
            }
            if byte.is_ascii_whitespace() {
                continue;
            }
            if expect_item && byte != b']' {
                if let Some(list) = recording {
                    lines.list_mut(list).push(line);
                }
                expect_item = false;
            }
            match byte {
                b'"' => {
                    in_string = true;
                    string_start = index + 1;
                }
                b':' if depth == 1 => {
                    pending_list = last_key.and_then(|(start, end)| match bytes.get(start..end) {
                        Some(b"flows") => Some(0),
                        Some(b"invariants") => Some(1),
                        Some(b"exceptions") => Some(2),
                        _ => None,
                    });
                }
                b'[' | b'{' => {
                    depth += 1;
                    if byte == b'[' && depth == 2 {
                        recording = pending_list.take();
                        expect_item = recording.is_some();
                    }
                }
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 1 {
                        recording = None;
                        expect_item = false;
                    }
                }
                b',' if depth == 2 && recording.is_some() => expect_item = true,
                _ => {}
            }
        }
        lines
    }

    fn list_mut(&mut self, list: usize) -> &mut Vec<u32> {
        match list {
            0 => &mut self.flows,
            1 => &mut self.invariants,
            _ => &mut self.exceptions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_each_item() {
        let text = r#"{
  "assets": [{"name": "flows"}],
  "flows": [
    {"from": "a", "to": "b"},

    {"from": "b, [x]", "to": "c\"}"}
  ],
  "invariants": [{"name": "i", "forbid": {"from": "a", "to": "b"}}]
}"#;
        let lines = JsonLines::scan(text.as_bytes());
        assert_eq!(lines.flows, [4, 6]);
        assert_eq!(lines.invariants, [8]);
        assert!(lines.exceptions.is_empty());
    }

    #[test]
    fn survives_garbage() {
        for text in ["", "[", "{\"flows\": [", "}}]]", "{\"flows\": [1, 2,"] {
            let _ = JsonLines::scan(text.as_bytes());
        }
        assert!(JsonLines::scan(b"{\"flows\": []}").flows.is_empty());
    }
}
