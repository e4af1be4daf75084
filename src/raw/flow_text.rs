//! A JSON file of flows alone, read one flow at a time with every string borrowed from
//! the file's bytes: [`each_flow`] hands each flow to its caller as a [`FlowText`]
//! before it reads the next, so that no [`super::RawFlow`], no owned string and no list
//! per flow is ever built. A million flows parsed into raw flows and then resolved cost
//! twice the work and, for a moment, twice the memory.
//!
//! It reads only the usual shape: `{"version": "1", "flows": [{...}, ...]}` with the
//! keys of [`super::RawFlow`], each at most once, every value a string or a list of
//! strings, written without escapes. Anything else ([`Unusual`]: a syntax error, another
//! key, a number, `null`, an escaped string, a repeated key) ends the read, and the
//! caller reads the file the usual way, which says what is wrong if anything is. What
//! this reader accepts is a strict subset of what `serde_json` and [`super::RawFile`]
//! accept, with the same meaning.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// One flow as written, its strings borrowed from the file (`'a`) and its lists from the
/// reader's buffer (`'t`).
#[derive(Debug, PartialEq, Eq)]
pub struct FlowText<'t, 'a> {
    /// The line of the flow's `{`, from 1: what the JSON line scan gives a flow.
    pub line: u32,
    pub name: Option<&'a str>,
    pub from: &'t [&'a str],
    pub to: &'t [&'a str],
    pub ports: Option<&'t [&'a str]>,
    pub auth: Option<&'t [&'a str]>,
    pub kind: Option<&'a str>,
    pub description: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub ticket: Option<&'a str>,
}

/// Why a file, or one of its flows, is left to the usual reader. It says no more: that
/// reader tells what is wrong, if anything is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unusual;

/// Reads a JSON file of flows alone, calling `each` on every flow in order, and stops
/// at the first thing that is [`Unusual`] or that `each` refuses.
pub fn each_flow<'a, F>(bytes: &'a [u8], each: F) -> Result<(), Unusual>
where
    F: FnMut(&FlowText<'_, 'a>) -> Result<(), Unusual>,
{
    let mut reader = Reader {
        bytes,
        lines: Lines {
            line: 1,
            counted: 0,
        },
        items: Vec::new(),
        each,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    deserializer
        .deserialize_map(FileVisitor(&mut reader))
        .map_err(|_| Unusual)?;
    // Only blanks may follow the document.
    deserializer.end().map_err(|_| Unusual)
}

/// What the visitors share while a file is read.
struct Reader<'a, F> {
    bytes: &'a [u8],
    lines: Lines,
    /// The items of the current flow's lists, one list after another.
    items: Vec<&'a str>,
    each: F,
}

/// Lines counted up to the last flow found, a stretch at a time.
struct Lines {
    line: u32,
    counted: usize,
}

impl Lines {
    /// The line of the `{` that opens the object whose first key is `key`, a string
    /// borrowed from `bytes`; `None` when that key is not borrowed from them or not
    /// right after a brace.
    fn of_object(&mut self, bytes: &[u8], key: &str) -> Option<u32> {
        let start = (key.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
        let quote = start.checked_sub(1)?;
        if bytes.get(quote) != Some(&b'"') {
            return None;
        }
        let brace = bytes
            .get(..quote)?
            .iter()
            .rposition(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))?;
        if bytes[brace] != b'{' || brace < self.counted {
            return None;
        }
        let newlines = memchr::memchr_iter(b'\n', &bytes[self.counted..brace]).count();
        self.line = self
            .line
            .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.counted = brace;
        Some(self.line)
    }
}

fn unusual<E: de::Error>() -> E {
    E::custom("unusual")
}

/// The top-level mapping: `version` and `flows`.
struct FileVisitor<'r, R>(&'r mut R);

impl<'de, F> Visitor<'de> for FileVisitor<'_, Reader<'de, F>>
where
    F: FnMut(&FlowText<'_, 'de>) -> Result<(), Unusual>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a file of flows")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut version, mut flows) = (false, false);
        while let Some(key) = map.next_key_seed(Borrowed)? {
            match key {
                "version" if !version => {
                    if map.next_value_seed(Borrowed)?.trim() != "1" {
                        return Err(unusual());
                    }
                    version = true;
                }
                "flows" if !flows => {
                    map.next_value_seed(FlowsSeed(&mut *self.0))?;
                    flows = true;
                }
                _ => return Err(unusual()),
            }
        }
        if flows { Ok(()) } else { Err(unusual()) }
    }
}

/// The `flows` list.
struct FlowsSeed<'r, R>(&'r mut R);

impl<'de, F> DeserializeSeed<'de> for FlowsSeed<'_, Reader<'de, F>>
where
    F: FnMut(&FlowText<'_, 'de>) -> Result<(), Unusual>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for FlowsSeed<'_, Reader<'de, F>>
where
    F: FnMut(&FlowText<'_, 'de>) -> Result<(), Unusual>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of flows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(FlowSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One flow, handed to the caller as soon as its closing brace is read.
struct FlowSeed<'r, R>(&'r mut R);

impl<'de, F> DeserializeSeed<'de> for FlowSeed<'_, Reader<'de, F>>
where
    F: FnMut(&FlowText<'_, 'de>) -> Result<(), Unusual>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Where a flow's fields were found: strings, or ranges of the reader's items.
#[derive(Default)]
struct Fields<'a> {
    name: Option<&'a str>,
    from: Option<Range<usize>>,
    to: Option<Range<usize>>,
    ports: Option<Range<usize>>,
    auth: Option<Range<usize>>,
    kind: Option<&'a str>,
    description: Option<&'a str>,
    owner: Option<&'a str>,
    ticket: Option<&'a str>,
}

impl<'de, F> Visitor<'de> for FlowSeed<'_, Reader<'de, F>>
where
    F: FnMut(&FlowText<'_, 'de>) -> Result<(), Unusual>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a flow")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let reader = self.0;
        reader.items.clear();
        let mut fields = Fields::default();
        let mut line = None;
        while let Some(key) = map.next_key_seed(Borrowed)? {
            if line.is_none() {
                line = Some(
                    reader
                        .lines
                        .of_object(reader.bytes, key)
                        .ok_or_else(unusual)?,
                );
            }
            let text = |slot: &mut Option<&'de str>, map: &mut A| {
                if slot.is_some() {
                    return Err(unusual());
                }
                *slot = Some(map.next_value_seed(Borrowed)?);
                Ok(())
            };
            let items = &mut reader.items;
            let mut list = |slot: &mut Option<Range<usize>>, map: &mut A| {
                if slot.is_some() {
                    return Err(unusual());
                }
                let start = items.len();
                map.next_value_seed(ListSeed(&mut *items))?;
                *slot = Some(start..items.len());
                Ok(())
            };
            match key {
                "name" => text(&mut fields.name, &mut map)?,
                "from" => list(&mut fields.from, &mut map)?,
                "to" => list(&mut fields.to, &mut map)?,
                "ports" => list(&mut fields.ports, &mut map)?,
                "auth" => list(&mut fields.auth, &mut map)?,
                "kind" => text(&mut fields.kind, &mut map)?,
                "description" => text(&mut fields.description, &mut map)?,
                "owner" => text(&mut fields.owner, &mut map)?,
                "ticket" => text(&mut fields.ticket, &mut map)?,
                _ => return Err(unusual()),
            }
        }
        let (Some(line), Some(from), Some(to)) = (line, fields.from, fields.to) else {
            return Err(unusual());
        };
        let items = reader.items.as_slice();
        let slice = |range: Range<usize>| items.get(range).ok_or(Unusual);
        let flow = (|| {
            Ok(FlowText {
                line,
                name: fields.name,
                from: slice(from)?,
                to: slice(to)?,
                ports: fields.ports.map(slice).transpose()?,
                auth: fields.auth.map(slice).transpose()?,
                kind: fields.kind,
                description: fields.description,
                owner: fields.owner,
                ticket: fields.ticket,
            })
        })();
        flow.and_then(|flow| (reader.each)(&flow))
            .map_err(|Unusual| unusual())
    }
}

/// A string borrowed from the file: one written with an escape is not, and is unusual.
struct Borrowed;

impl<'de> DeserializeSeed<'de> for Borrowed {
    type Value = &'de str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'de str, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Borrowed {
    type Value = &'de str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string without escapes")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<&'de str, E> {
        Ok(v)
    }
}

/// A string or a list of strings, as [`super::RawList`] reads them, appended to the
/// reader's items.
struct ListSeed<'r, 'de>(&'r mut Vec<&'de str>);

impl<'de> DeserializeSeed<'de> for ListSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.0.push(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(Borrowed)? {
            self.0.push(item);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every flow read, as (line, name, from, to, ports, auth, kind), or where it stopped.
    fn read(text: &str) -> Result<Vec<String>, Unusual> {
        let mut seen = Vec::new();
        each_flow(text.as_bytes(), |flow| {
            seen.push(format!(
                "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                flow.line,
                flow.name,
                flow.from,
                flow.to,
                flow.ports,
                flow.auth,
                flow.kind,
                flow.description,
                flow.owner,
                flow.ticket
            ));
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn reads_every_field_and_the_line_of_each_flow() {
        let text = "{\n  \"version\": \" 1 \",\n  \"flows\": [\n    {\"name\": \"a\", \"from\": \"web\", \"to\": [\"db\", \"cache\"], \"ports\": [\"tcp/5432\"]},\n\n    {\n      \"from\": [], \"to\": \"db\", \"auth\": \"key\",\n      \"kind\": \"k\", \"description\": \"d\", \"owner\": \"o\", \"ticket\": \"t\", \"ports\": \"udp/53\"}\n  ]\n}\n";
        assert_eq!(
            read(text).unwrap(),
            [
                r#"4 Some("a") ["web"] ["db", "cache"] Some(["tcp/5432"]) None None None None None"#,
                r#"6 None [] ["db"] Some(["udp/53"]) Some(["key"]) Some("k") Some("d") Some("o") Some("t")"#,
            ]
        );
        assert_eq!(read("{\"flows\": []}").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn lines_agree_with_the_json_line_scan() {
        let text = "{\"flows\": [{\"from\": \"a\", \"to\": \"b\"},\n{\"from\": \"a\",\n\"to\": \"b\"}, \n\n  {  \"to\": \"b\", \"from\": \"a\"}],\n\"version\": \"1\"}";
        let mut lines = Vec::new();
        each_flow(text.as_bytes(), |flow| {
            lines.push(flow.line);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            lines,
            crate::json_lines::JsonLines::scan(text.as_bytes()).flows
        );
        assert_eq!(lines, [1, 2, 5]);
    }

    #[test]
    fn gives_up_on_anything_unusual() {
        let flow = "{\"from\": \"a\", \"to\": \"b\"}";
        for text in [
            // Not JSON, or more than one document.
            String::from("{\"flows\": ["),
            format!("{{\"flows\": [{flow},]}}"),
            format!("{{\"flows\": [{flow}]}} {{}}"),
            format!("{{\"flows\": [{flow}]}} x"),
            // Another key, a repeated key, or no flows.
            format!("{{\"flows\": [{flow}], \"assets\": []}}"),
            format!("{{\"flows\": [{flow}], \"flows\": []}}"),
            "{\"version\": \"1\"}".to_owned(),
            "{}".to_owned(),
            "null".to_owned(),
            "[]".to_owned(),
            // A version other than 1, or not a string.
            format!("{{\"version\": \"2\", \"flows\": [{flow}]}}"),
            format!("{{\"version\": 1, \"flows\": [{flow}]}}"),
            // A flow with an unknown, repeated or missing key, or not a mapping.
            "{\"flows\": [{\"from\": \"a\", \"to\": \"b\", \"port\": []}]}".to_owned(),
            "{\"flows\": [{\"from\": \"a\", \"to\": \"b\", \"to\": \"c\"}]}".to_owned(),
            "{\"flows\": [{\"name\": \"a\", \"name\": \"a\", \"from\": \"a\", \"to\": \"b\"}]}"
                .to_owned(),
            "{\"flows\": [{\"from\": \"a\"}]}".to_owned(),
            "{\"flows\": [{}]}".to_owned(),
            "{\"flows\": [[\"a\", \"b\"]]}".to_owned(),
            "{\"flows\": null}".to_owned(),
            // A value of another type, or a string with an escape.
            "{\"flows\": [{\"from\": 1, \"to\": \"b\"}]}".to_owned(),
            "{\"flows\": [{\"from\": null, \"to\": \"b\"}]}".to_owned(),
            "{\"flows\": [{\"from\": [[\"a\"]], \"to\": \"b\"}]}".to_owned(),
            "{\"flows\": [{\"from\": \"a\", \"to\": \"b\", \"name\": null}]}".to_owned(),
            "{\"flows\": [{\"from\": \"a\", \"to\": \"b\", \"ports\": [443]}]}".to_owned(),
            "{\"flows\": [{\"from\": \"a\\u0041\", \"to\": \"b\"}]}".to_owned(),
            "{\"flows\": [{\"fr\\u006fm\": \"a\", \"to\": \"b\"}]}".to_owned(),
            "{\"flows\": [{\"from\": \"a\", \"to\": \"b\", \"kind\": \"\\n\"}]}".to_owned(),
        ] {
            assert_eq!(read(&text), Err(Unusual), "{text}");
        }
    }

    /// Keys and values to write flows from: the usual, and a few unusual.
    const KEYS: &[&str] = &[
        "name",
        "from",
        "to",
        "ports",
        "auth",
        "kind",
        "description",
        "owner",
        "ticket",
    ];
    const ODD_KEYS: &[&str] = &["prots", "fr\\u006fm", ""];
    const VALUES: &[&str] = &[
        "\"web\"",
        "\" db \"",
        "[\"a\", \"b\"]",
        "[\"tcp/443\"]",
        "[]",
        "\"\"",
        "\"ü\"",
    ];
    const ODD_VALUES: &[&str] = &["\"w\\u0065b\"", "1", "null", "[[\"a\"]]", "{}", "true"];
    const BLANKS: &[&str] = &["", " ", "\n", "\r\n  ", "\t"];

    fn flows_file() -> impl Strategy<Value = String> {
        use proptest::sample::select;
        let key = prop_oneof![9 => select(KEYS), 1 => select(ODD_KEYS)];
        let value = prop_oneof![9 => select(VALUES), 1 => select(ODD_VALUES)];
        let pair = (key, value, select(BLANKS));
        // Most flows start usual, so that many files are read to the end.
        let start = prop::bool::weighted(0.8).prop_map(|usual| {
            let ends = [("from", "\"web\"", " "), ("to", "[\"db\"]", "\n")];
            if usual { ends.to_vec() } else { Vec::new() }
        });
        let flow = (start, prop::collection::vec(pair, 0..3), select(BLANKS)).prop_map(
            |(mut pairs, more, blank)| {
                pairs.extend(more);
                (pairs, blank)
            },
        );
        let version = prop::option::of(prop_oneof![
            4 => Just("\"1\""),
            2 => Just("\" 1 \""),
            1 => Just("\"2\""),
            1 => Just("1"),
        ]);
        let extra = prop::option::weighted(0.1, select(&["\"assets\": []", "\"flows\": []"][..]));
        (
            prop::collection::vec(flow, 0..5),
            version,
            extra,
            select(BLANKS),
        )
            .prop_map(|(flows, version, extra, blank)| {
                let flows: Vec<String> = flows
                    .into_iter()
                    .map(|(pairs, blank)| {
                        let pairs: Vec<String> = pairs
                            .into_iter()
                            .map(|(key, value, blank)| format!("{blank}\"{key}\":{blank}{value}"))
                            .collect();
                        format!("{blank}{{{}}}", pairs.join(","))
                    })
                    .collect();
                let mut keys = vec![format!("\"flows\":{blank}[{}]", flows.join(",\n"))];
                keys.extend(version.map(|v| format!("\"version\": {v}")));
                keys.extend(extra.map(str::to_owned));
                format!("{{{blank}{}\n}}\n", keys.join(&format!(",{blank}")))
            })
    }

    /// A list as the raw types hold it: its items' texts.
    fn texts(list: &super::super::RawList) -> Vec<String> {
        list.0.iter().map(|item| item.value.to_string()).collect()
    }

    proptest::proptest! {
        /// What the reader accepts, `serde_json` and the raw types accept too, as a file
        /// of flows alone, with the same flows at the lines the line scan finds.
        #[test]
        fn accepts_only_what_the_usual_parse_reads_the_same(text in flows_file()) {
            let mut read = Vec::new();
            let fast = each_flow(text.as_bytes(), |flow| {
                let owned = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
                read.push((
                    flow.line,
                    flow.name.map(str::to_owned),
                    owned(flow.from),
                    owned(flow.to),
                    flow.ports.map(owned),
                    flow.auth.map(owned),
                    [flow.kind, flow.description, flow.owner, flow.ticket]
                        .map(|note| note.map(str::to_owned)),
                ));
                Ok(())
            });
            if fast.is_err() {
                return Ok(());
            }
            let usual: super::super::RawFile = serde_json::from_slice(text.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert!(usual.version.as_ref().is_none_or(|v| v.value.trim() == "1"));
            prop_assert!(usual.environments.is_none() && usual.assets.is_none());
            let lines = crate::json_lines::JsonLines::scan(text.as_bytes()).flows;
            let flows = usual.flows.unwrap_or_default();
            prop_assert_eq!(flows.len(), read.len());
            for ((index, flow), fast) in flows.iter().enumerate().zip(&read) {
                let flow = &flow.value;
                let note = |note: &Option<Box<str>>| note.as_deref().map(str::to_owned);
                let usual = (
                    lines[index],
                    flow.name.as_ref().map(|name| name.value.to_string()),
                    texts(&flow.from.value),
                    texts(&flow.to.value),
                    flow.ports.as_ref().map(|list| texts(&list.value)),
                    flow.auth.as_ref().map(|list| texts(&list.value)),
                    [&flow.kind, &flow.description, &flow.owner, &flow.ticket].map(note),
                );
                prop_assert_eq!(&usual, fast, "{}", text);
            }
        }
    }

    #[test]
    fn stops_when_the_caller_refuses_a_flow() {
        let text = "{\"flows\": [{\"from\": \"a\", \"to\": \"b\"}, {\"from\": \"x\", \"to\": \"b\"}, {\"from\": \"a\", \"to\": \"b\"}]}";
        let mut calls = 0;
        let read = each_flow(text.as_bytes(), |flow| {
            calls += 1;
            if flow.from == ["x"] {
                Err(Unusual)
            } else {
                Ok(())
            }
        });
        assert_eq!((read, calls), (Err(Unusual), 2));
    }
}
