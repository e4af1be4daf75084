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
        // Lines are counted only up to each item found, a whole stretch at a time with
        // `memchr`, rather than byte by byte: every `\n` byte counts, in a string or not.
        let mut line: u32 = 1;
        let mut counted = 0;
        let mut depth: u32 = 0;
        // The last string read at depth 1, which is a key once a ':' follows it.
        let mut last_key: Option<(usize, usize)> = None;
        // The list being recorded, and whether the next value starts an item of it.
        let mut recording: Option<usize> = None;
        let mut expect_item = false;
        let mut pending_list: Option<usize> = None;
        let mut index = 0;
        while let Some(&byte) = bytes.get(index) {
            if byte.is_ascii_whitespace() {
                index += 1;
                continue;
            }
            if expect_item && byte != b']' {
                if let Some(list) = recording {
                    let stretch = bytes.get(counted..index).unwrap_or_default();
                    let newlines = memchr::memchr_iter(b'\n', stretch).count();
                    line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
                    counted = index;
                    lines.list_mut(list).push(line);
                }
                expect_item = false;
            }
            match byte {
                b'"' => {
                    let start = index + 1;
                    match string_end(bytes, start) {
                        Some(end) => {
                            if depth == 1 {
                                last_key = Some((start, end));
                            }
                            index = end;
                        }
                        // An unterminated string runs to the end: nothing follows.
                        None => break,
                    }
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
            index += 1;
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

/// The index of the `"` that closes the string whose contents start at `start`, if it
/// is closed. Strings are most of a policy file's bytes, so they are skipped with
/// `memchr` to the next quote or backslash instead of byte by byte. (Looking at a short
/// string's first bytes one by one before `memchr` cost a third more instructions.)
fn string_end(bytes: &[u8], mut start: usize) -> Option<usize> {
    loop {
        let rest = bytes.get(start..)?;
        let found = start + memchr::memchr2(b'"', b'\\', rest)?;
        if bytes.get(found) == Some(&b'"') {
            return Some(found);
        }
        // A backslash escapes the byte after it, whatever it is.
        start = found + 2;
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

    /// The byte-at-a-time scanner this one replaced, kept as the reference it must agree
    /// with on any input, malformed included.
    fn reference(bytes: &[u8]) -> JsonLines {
        let mut lines = JsonLines::default();
        let mut line: u32 = 1;
        let mut depth: u32 = 0;
        let mut in_string = false;
        let mut escaped = false;
        let mut string_start = 0;
        let mut last_key: Option<(usize, usize)> = None;
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

    const TRICKY: &[&str] = &[
        // Braces, brackets, commas and quotes inside strings, escaped and not.
        r#"{"flows": [{"from": "a{[,", "to": "b]}\"", "ports": ["tcp/1"]},
  {"name": "x\\", "from": "\\\"{", "to": "c"},
  {"name": "line\nbreak", "from": "a", "to": "b"}]}"#,
        // Keys that are list names only at depth 1, and values named like keys.
        "{\n\"assets\": [{\"flows\": [1, 2]}, \"flows\"],\n\"flows\":\n[\n 1,\n [2, [3,\n 4]],\n {\"a\": [\"]\"]},\n null, true\n],\n\"invariants\" : [ ] ,\n\"exceptions\": [{\"x\": \"\\u0022\"},\n\n{}]}",
        // Nested arrays as items, and items after a blank line.
        "{\"exceptions\": [[[]], [\n\"a\"],\n\n\n[{\"b\": \"\\\\\"}]], \"flows\": [{}]}",
        // An escape as the very last byte, and a key with an escaped quote.
        "{\"fl\\\"ows\": [1], \"flows\": [\"\\",
        "{\"flows\": [\"\\\\\", \"\\\\\\\"\", 3]}\n",
        // Strings longer than a vector search's block, escapes near and past 16 bytes.
        "{\"flows\": [{\"description\": \"a long description, with [brackets] and {braces}\\\" and a quote\"},\n{\"x\": \"0123456789012345678901234\\\\\"}, \"01234567890123456789012\\\"x]\"],\n\"invariants\": [1]}",
    ];

    #[test]
    fn agrees_with_the_byte_at_a_time_scanner_on_tricky_json() {
        for text in TRICKY {
            let bytes = text.as_bytes();
            // Every prefix too, so that each way of ending early is covered.
            for end in 0..=bytes.len() {
                let part = &bytes[..end];
                assert_eq!(
                    JsonLines::scan(part),
                    reference(part),
                    "{:?}",
                    String::from_utf8_lossy(part)
                );
            }
        }
        let full = JsonLines::scan(TRICKY[1].as_bytes());
        assert_eq!(full.flows, [5, 6, 8, 9, 9]);
        assert_eq!(full.exceptions, [12, 14]);
        assert!(full.invariants.is_empty());
        assert_eq!(JsonLines::scan(TRICKY[0].as_bytes()).flows, [1, 2, 3]);
        let long = JsonLines::scan(TRICKY[5].as_bytes());
        assert_eq!((long.flows, long.invariants), (vec![1, 2, 2], vec![3]));
    }
}
