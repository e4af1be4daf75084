//! Line numbers for the resources of a plan.
//!
//! `serde_json` keeps no positions, and every imported flow is located at the line of
//! the resource that allows it. The parse tells where most resources' objects start
//! (`document.rs`), and `lines_at` counts the line breaks before them in one pass. For
//! the others (an object whose first key holds an escape) the scanner records, for
//! each top-level section (`planned_values`, `prior_state`, `values`), the line of the
//! object that holds each `"address"` key, the first time that address appears in the
//! section.

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

/// The line (from 1) of each resource object, by top-level section and address. The
/// names borrow from the scanned text, so that the scan allocates only for the map.
#[derive(Debug, Default)]
pub struct ResourceLines<'t> {
    /// One map per top-level section, in the order the sections appear; a document
    /// has a handful, so a search of this list beats hashing the section's name.
    /// Fx hashing, as resolve's name maps: SipHash cost more per address than the scan.
    sections: Vec<(&'t str, AddressLines<'t>)>,
}

/// The line of each address in one section.
type AddressLines<'t> = HashMap<Cow<'t, str>, u32, FxBuildHasher>;

impl<'t> ResourceLines<'t> {
    /// The line of `address` in `section`, or 0 when the scan did not find it.
    pub fn line(&self, section: &str, address: &str) -> u32 {
        self.sections
            .iter()
            .find(|(name, _)| *name == section)
            .and_then(|(_, lines)| lines.get(address))
            .copied()
            .unwrap_or(0)
    }

    /// Scans a JSON document. Malformed input gives partial results, never a panic.
    pub fn scan(text: &'t str) -> ResourceLines<'t> {
        let bytes = text.as_bytes();
        let mut lines = ResourceLines::default();
        let mut line: u32 = 1;
        // The line where each open object or array started, and whether it is an object.
        let mut open: Vec<(u32, bool)> = Vec::new();
        // The map of the section being scanned, by its index in `lines.sections`.
        let mut section: Option<usize> = None;
        // The last string closed, and whether the key before the value being read is
        // `address`.
        let mut last_string: Option<(usize, usize)> = None;
        let mut after_address = false;
        let mut index = 0;
        while let Some(&byte) = bytes.get(index) {
            index += 1;
            match byte {
                b' ' | b'\t' | b'\r' => continue,
                b'\n' => {
                    line = line.saturating_add(1);
                    continue;
                }
                b'"' => {
                    // Most of a plan's bytes are in strings: jump to their ends. A
                    // string that serde_json accepted holds no raw line break.
                    let start = index;
                    let end = string_end(bytes, start);
                    index = end.saturating_add(1);
                    if after_address
                        && let Some(&(start_line, true)) = open.last()
                        && let Some((_, map)) = section.and_then(|at| lines.sections.get_mut(at))
                    {
                        let address = unescape(text.get(start..end).unwrap_or(""));
                        map.entry(address).or_insert(start_line);
                    }
                    last_string = Some((start, end));
                    continue;
                }
                b':' => {
                    let name = last_string
                        .and_then(|(start, end)| text.get(start..end))
                        .unwrap_or("");
                    if open.len() == 1 {
                        section = Some(
                            match lines.sections.iter().position(|(known, _)| *known == name) {
                                Some(at) => at,
                                None => {
                                    lines.sections.push((name, HashMap::default()));
                                    lines.sections.len() - 1
                                }
                            },
                        );
                    }
                    after_address = name == "address";
                    continue;
                }
                b'{' | b'[' => open.push((line, byte == b'{')),
                b'}' | b']' => {
                    open.pop();
                }
                _ => {}
            }
            after_address = false;
            last_string = None;
        }
        lines
    }
}

/// The line (from 1) of each byte offset of `text`, in the order given: the line
/// breaks between each offset and the one before it in the text are counted on every
/// core, then added up in one pass, whatever the order of the offsets.
pub fn lines_at(text: &str, offsets: &[usize]) -> Vec<u32> {
    let mut order: Vec<(usize, usize)> = (offsets.iter())
        .map(|offset| (*offset).min(text.len()))
        .zip(0..)
        .collect();
    order.par_sort_unstable();
    let bytes = text.as_bytes();
    let breaks: Vec<usize> = (order.par_iter().enumerate())
        .map(|(at, (offset, _))| {
            let from = at
                .checked_sub(1)
                .and_then(|before| order.get(before))
                .map_or(0, |(before, _)| *before);
            (bytes.get(from..*offset))
                .map_or(0, |between| memchr::memchr_iter(b'\n', between).count())
        })
        .collect();
    let mut lines = vec![0; offsets.len()];
    let mut line = 1u32;
    for ((_, index), breaks) in order.into_iter().zip(breaks) {
        line = line.saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX));
        if let Some(slot) = lines.get_mut(index) {
            *slot = line;
        }
    }
    lines
}

/// Where the string whose body starts at `start` ends: the index of its closing quote,
/// or the end of the text.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start;
    while let Some(found) = bytes
        .get(at..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        let found = at + found;
        if bytes.get(found) == Some(&b'"') {
            return found;
        }
        // An escape: the byte after the backslash is never the end.
        at = found + 2;
    }
    bytes.len()
}

/// The text of a JSON string body; only the escapes an address holds matter.
fn unescape(body: &str) -> Cow<'_, str> {
    if !body.contains('\\') {
        return Cow::Borrowed(body);
    }
    Cow::Owned(
        serde_json::from_str::<String>(&format!("\"{body}\"")).unwrap_or_else(|_| body.to_owned()),
    )
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
    fn counts_lines_in_any_order() {
        let text = "a\nb\n\nc";
        assert_eq!(lines_at(text, &[6, 0, 2, 1, 99, 5]), [4, 1, 2, 1, 4, 4]);
        assert!(lines_at(text, &[]).is_empty());
        // Many offsets, repeated and past the end, against a count from the start.
        let text = "x\n".repeat(500) + "\n\nend";
        let offsets: Vec<usize> = (0..3000).map(|i| (i * 7919) % (text.len() + 40)).collect();
        let counted: Vec<u32> = (offsets.iter())
            .map(|&offset| {
                let before = &text.as_bytes()[..offset.min(text.len())];
                1 + before.iter().filter(|&&byte| byte == b'\n').count() as u32
            })
            .collect();
        assert_eq!(lines_at(&text, &offsets), counted);
    }

    #[test]
    fn survives_garbage() {
        for text in [
            "",
            "{",
            "\"address\":",
            "}]{\"address\": \"x",
            "{\"address\": \"x\\",
            "\"\\\"",
        ] {
            let _ = ResourceLines::scan(text);
        }
    }
}
