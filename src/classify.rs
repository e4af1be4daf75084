//! What a document is, told from its top-level keys before it is parsed: a cordon
//! policy, a Kubernetes object, a Terraform plan or state, the raw state file Terraform
//! keeps (which cordon refuses), or something else that a repository holds (CI
//! workflows, compose files, Helm values).
//!
//! Reading a repository means meeting many YAML and JSON files that are not ours. A full
//! parse of each would double the cost of reading the policies that are, so the keys are
//! found by a scan: in block YAML a top-level key is a line that starts in column 0, and
//! in JSON (or a YAML flow mapping) a key at depth one. The parser that runs afterwards
//! still checks everything; the scan only picks which parser that is.

use crate::raw::TOP_LEVEL_KEYS;
use crate::suggest::closest;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocumentKind {
    /// Has cordon keys, or a key so close to one that it is likely a typo: parsed as a
    /// policy, so that a misspelt policy is an error and never silently skipped.
    Policy,
    /// Has `apiVersion` and `kind`.
    Kubernetes,
    /// Has `format_version` and `terraform_version`: what `terraform show -json` writes.
    Terraform,
    /// Has `terraform_version`, `lineage` and `resources` but no `format_version`: the
    /// state file Terraform keeps (`terraform.tfstate`), which is not what cordon reads.
    RawTerraformState,
    /// Empty, or only comments.
    Empty,
    /// Anything else.
    Other,
}

impl DocumentKind {
    pub fn describe(self) -> &'static str {
        match self {
            DocumentKind::Policy => "cordon policy",
            DocumentKind::Kubernetes => "Kubernetes manifest",
            DocumentKind::Terraform => "Terraform plan or state",
            DocumentKind::RawTerraformState => "raw Terraform state",
            DocumentKind::Empty => "empty document",
            DocumentKind::Other => "not a cordon policy",
        }
    }
}

/// One document of a YAML stream: its kind and the lines it spans, from 1, the
/// separators (`---`, `...`) excluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub first_line: usize,
    /// The last line of the document, inclusive; `first_line - 1` when it is empty.
    pub last_line: usize,
}

/// How close a foreign key must be to a cordon key to be taken for a typo of it. Tighter
/// than "did you mean", which only suggests: this decides whether a file is read at all,
/// and a compose file's `services` must not pass for `segments`.
const TYPO_SCORE: f64 = 0.75;

/// The kind of a document with these top-level keys.
pub fn kind_of<'k>(keys: impl IntoIterator<Item = &'k str>) -> DocumentKind {
    let keys: Vec<&str> = keys.into_iter().collect();
    if keys.is_empty() {
        return DocumentKind::Empty;
    }
    let has = |wanted: &str| keys.contains(&wanted);
    if has("apiVersion") && has("kind") {
        return DocumentKind::Kubernetes;
    }
    if has("format_version") && has("terraform_version") {
        return DocumentKind::Terraform;
    }
    if has("terraform_version") && has("lineage") && has("resources") {
        return DocumentKind::RawTerraformState;
    }
    // `cordon diff --format json` lists `invariants` beside keys of its own, which no
    // policy may have: its report saved in the tree is no policy.
    if has("verdict") && has("regressions") {
        return DocumentKind::Other;
    }
    let ours = |key: &&str| TOP_LEVEL_KEYS.contains(key);
    // `version` alone says little: compose files have one too.
    if keys.iter().any(|key| ours(key) && *key != "version") || keys.iter().all(ours) {
        return DocumentKind::Policy;
    }
    let near_miss = keys.iter().filter(|key| !ours(key)).any(|key| {
        closest(key, TOP_LEVEL_KEYS.iter().copied()).is_some_and(|near| {
            strsim::normalized_damerau_levenshtein(&key.to_lowercase(), near) >= TYPO_SCORE
        })
    });
    if near_miss {
        DocumentKind::Policy
    } else {
        DocumentKind::Other
    }
}

/// The documents of a YAML stream, in order.
pub fn yaml_documents(text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut scan = Scan::starting_at(1);
    let mut line_number = 0;
    for line in text.split('\n') {
        line_number += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(rest) = document_start(line) {
            documents.push(scan.finish(text, line_number - 1));
            scan = Scan::starting_at(line_number + 1);
            // `--- {a: 1}` and `--- !tag`: content on the marker's own line.
            if !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
                scan.opaque_from.get_or_insert(line_number);
            }
            continue;
        }
        if line == "..." || line.starts_with("... ") {
            documents.push(scan.finish(text, line_number - 1));
            scan = Scan::starting_at(line_number + 1);
            continue;
        }
        scan.line(line, line_number);
    }
    documents.push(scan.finish(text, line_number));
    // Comments and blank lines need no parser, and nothing to blank out.
    documents.retain(|document| document.kind != DocumentKind::Empty);
    documents
}

/// The kind of a JSON document (or a YAML flow mapping) from its keys at depth one.
pub fn json_kind(text: &str) -> DocumentKind {
    // A text that never spells `apiVersion` has no such key (keys are compared as
    // written, escapes and all), so it is no Kubernetes object: once its keys say
    // Terraform, nothing after them can change that. A plan's first two keys say so,
    // and the rest of its megabytes, which `memmem` passes over many times faster than
    // the scan walks them, need not be walked.
    let kubernetes = memchr::memmem::find(text.as_bytes(), b"apiVersion").is_some();
    let has = |keys: &[String], wanted: &str| keys.iter().any(|key| key == wanted);
    let settles = |keys: &[String]| {
        // The first cordon list key settles what a large policy is.
        keys.last()
            .is_some_and(|key| key != "version" && TOP_LEVEL_KEYS.contains(&key.as_str()))
            || (!kubernetes && has(keys, "format_version") && has(keys, "terraform_version"))
    };
    match flow_keys(text.as_bytes(), settles) {
        Some(keys) => kind_of(keys.iter().map(String::as_str)),
        None if text.trim().is_empty() => DocumentKind::Empty,
        None => DocumentKind::Other,
    }
}

/// `text` with the lines of every document not of a wanted kind made blank, so that a
/// parser sees only those documents and reports the same lines as in the file.
pub fn keep_only(text: &str, documents: &[Document], wanted: &[DocumentKind]) -> String {
    let mut blank = vec![false; text.split('\n').count() + 1];
    for document in documents {
        if !wanted.contains(&document.kind) {
            for line in document.first_line..=document.last_line {
                if let Some(slot) = blank.get_mut(line) {
                    *slot = true;
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        if !blank[index + 1] {
            out.push_str(line);
        }
    }
    out
}

/// Whether a file is one policy document whose only top-level keys are `flows` and
/// `version`, with `flows` among them: such a file refers to entities but declares none,
/// so it can be parsed after every other file is resolved, and its flows resolved as
/// soon as it is parsed. The answer errs towards `false`: a YAML stream of several
/// documents, a flow mapping at the top, or any line at column 0 that is not one of the
/// two keys make it so. A wrong `true` is caught after the parse, which sees every key.
pub fn holds_only_flows(bytes: &[u8], json: bool) -> bool {
    let allowed = |key: &str| key == "flows" || key == "version";
    let keys = if json {
        // Only the keys need be text: what is not is found when the file is parsed. The
        // first key that is neither settles it: a plan or a file of entities is not
        // walked to its end.
        match flow_keys(bytes, |keys| keys.last().is_some_and(|key| !allowed(key))) {
            Some(keys) => keys,
            None => return false,
        }
    } else {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return false;
        };
        let mut keys = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            match line.chars().next() {
                None | Some(' ' | '\t' | '#') => {}
                Some(_) => match block_key(line) {
                    Some(key) if allowed(&key) => keys.push(key),
                    _ => return false,
                },
            }
        }
        keys
    };
    keys.iter().all(|key| allowed(key)) && keys.iter().any(|key| key == "flows")
}

/// The rest of a line that starts a document (`---` alone or followed by a blank).
fn document_start(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("---")?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// The keys found so far in one document.
struct Scan {
    first_line: usize,
    keys: Vec<String>,
    /// A line with content that is not a key: a scalar or sequence document.
    other_content: bool,
    /// Where a flow mapping (`{`) starts, whose keys the flow scan finds.
    opaque_from: Option<usize>,
}

impl Scan {
    fn starting_at(first_line: usize) -> Self {
        Scan {
            first_line,
            keys: Vec::new(),
            other_content: false,
            opaque_from: None,
        }
    }

    fn line(&mut self, line: &str, number: usize) {
        if self.opaque_from.is_some() {
            return;
        }
        let Some(first) = line.chars().next() else {
            return;
        };
        match first {
            ' ' | '\t' | '#' | '%' => {}
            '{' => self.opaque_from = Some(number),
            '[' => self.other_content = true,
            '-' if line[1..].is_empty() || line[1..].starts_with([' ', '\t']) => {
                self.other_content = true;
            }
            _ => match block_key(line) {
                Some(key) => self.keys.push(key),
                None => self.other_content = true,
            },
        }
    }

    fn finish(self, text: &str, last_line: usize) -> Document {
        let kind = if let Some(from) = self.opaque_from {
            let body: String = text
                .split('\n')
                .skip(from - 1)
                .take(last_line + 1 - from)
                .map(|line| line.trim_start_matches("---"))
                .collect::<Vec<_>>()
                .join("\n");
            json_kind(&body)
        } else if self.keys.is_empty() {
            if self.other_content {
                DocumentKind::Other
            } else {
                DocumentKind::Empty
            }
        } else {
            kind_of(self.keys.iter().map(String::as_str))
        };
        Document {
            kind,
            first_line: self.first_line,
            last_line: last_line.max(self.first_line.saturating_sub(1)),
        }
    }
}

/// The key of a block mapping line in column 0: `key: value`, `key:`, `"key": value`.
fn block_key(line: &str) -> Option<String> {
    if let Some(quote) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let rest = &line[1..];
        let end = rest.find(quote)?;
        let after = rest[end + 1..].trim_start();
        return after.starts_with(':').then(|| rest[..end].to_owned());
    }
    let bytes = line.as_bytes();
    let colon = (0..bytes.len()).find(|&i| {
        bytes[i] == b':'
            && bytes
                .get(i + 1)
                .is_none_or(|next| *next == b' ' || *next == b'\t')
    })?;
    let key = line[..colon].trim_end();
    (!key.is_empty() && !key.contains(" #")).then(|| key.to_owned())
}

/// The keys at depth one of a JSON object or YAML flow mapping, or `None` when the text
/// is not one. Values are skipped by counting brackets outside strings. The scan stops
/// as soon as the keys found so far settle what the caller wants to know.
fn flow_keys(bytes: &[u8], settles: impl Fn(&[String]) -> bool) -> Option<Vec<String>> {
    let mut at = 0;
    // Past a byte-order mark, blanks and comments, to the opening brace.
    if bytes.starts_with("\u{feff}".as_bytes()) {
        at = 3;
    }
    loop {
        match *bytes.get(at)? {
            b'{' => break,
            b'#' => {
                while bytes.get(at).is_some_and(|&b| b != b'\n') {
                    at += 1;
                }
            }
            b if b.is_ascii_whitespace() => at += 1,
            _ => return None,
        }
    }
    at += 1;
    let mut keys = Vec::new();
    let mut depth = 1usize;
    let mut expecting_key = true;
    // How many keys `settles` has been asked about.
    let mut settled = 0;
    while let Some(&byte) = bytes.get(at) {
        if depth > 1 {
            // Inside a value, which is most of a file: only strings and brackets count,
            // and the bytes between them are passed over by table. (`memchr` to the next
            // quote, the brackets before it counted, costs more on a plan written by
            // `terraform show -json`: the runs between its strings are short.)
            match byte {
                b'"' | b'\'' => at = string_end(bytes, at + 1, byte),
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
            at += 1;
            if depth > 1 {
                at += bytes
                    .get(at..)
                    .and_then(|rest| rest.iter().position(|&b| STRUCTURE[usize::from(b)]))
                    .unwrap_or(bytes.len().saturating_sub(at));
            }
            continue;
        }
        match byte {
            b'"' | b'\'' => {
                let start = at + 1;
                at = string_end(bytes, start, byte);
                if expecting_key {
                    keys.push(key(bytes.get(start..at.min(bytes.len()))?)?);
                    expecting_key = false;
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(keys);
                }
            }
            b',' => expecting_key = true,
            b':' => expecting_key = false,
            b if expecting_key && !b.is_ascii_whitespace() => {
                // An unquoted YAML key: up to the colon.
                let start = at;
                while bytes
                    .get(at + 1)
                    .is_some_and(|&b| b != b':' && b != b',' && b != b'}')
                {
                    at += 1;
                }
                keys.push(key(bytes.get(start..at + 1)?)?.trim().to_owned());
                expecting_key = false;
            }
            _ => {}
        }
        if keys.len() > settled {
            settled = keys.len();
            if settles(&keys) {
                return Some(keys);
            }
        }
        at += 1;
    }
    Some(keys)
}

/// Where the string whose contents start at `start` ends: the index of its closing
/// `quote`, or the end of `bytes`. A backslash escapes the next byte in a `"` string.
/// Strings are most of a file's bytes and mostly short, too short for `memchr` to pay
/// for its call: a loop over a table of the bytes that matter is inlined instead.
fn string_end(bytes: &[u8], mut at: usize, quote: u8) -> usize {
    let stops = if quote == b'"' { &DOUBLE } else { &SINGLE };
    loop {
        let Some(rest) = bytes.get(at..) else {
            return bytes.len();
        };
        match rest.iter().position(|&b| stops[usize::from(b)]) {
            None => return bytes.len(),
            Some(offset) if rest[offset] == b'\\' => at += offset + 2,
            Some(offset) => return at + offset,
        }
    }
}

/// A table of the bytes in `set`.
const fn table(set: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut index = 0;
    while index < set.len() {
        table[set[index] as usize] = true;
        index += 1;
    }
    table
}

/// What ends a run of bytes inside a `"` string, a `'` string, and inside a value.
static DOUBLE: [bool; 256] = table(b"\"\\");
static SINGLE: [bool; 256] = table(b"'");
static STRUCTURE: [bool; 256] = table(b"\"'{}[]");

/// A key's text, when it is UTF-8.
fn key(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentKind::*;

    fn kinds(text: &str) -> Vec<DocumentKind> {
        yaml_documents(text).into_iter().map(|d| d.kind).collect()
    }

    #[test]
    fn policies_are_known_by_their_keys() {
        assert_eq!(kinds("assets:\n  - name: a\n"), [Policy]);
        assert_eq!(kinds("version: 1\n"), [Policy]);
        assert_eq!(kinds("# a comment\nflows: []\n"), [Policy]);
        assert_eq!(kinds("\"flows\": []\n"), [Policy]);
    }

    #[test]
    fn a_likely_typo_still_reads_as_a_policy() {
        assert_eq!(kinds("flws:\n  - from: a\n"), [Policy]);
        assert_eq!(kinds("invarients: []\n"), [Policy]);
        assert_eq!(kinds("asset: []\n"), [Policy]);
    }

    #[test]
    fn other_files_are_not_policies() {
        let compose = "version: \"3.8\"\nservices:\n  web:\n    image: nginx\n";
        assert_eq!(kinds(compose), [Other]);
        let workflow = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n";
        assert_eq!(kinds(workflow), [Other]);
        let hooks = "- id: cordon\n  name: cordon\n";
        assert_eq!(kinds(hooks), [Other]);
        assert_eq!(kinds("site_name: docs\nnav:\n  - index.md\n"), [Other]);
        let diff = "{\"level\": \"account\", \"verdict\": \"pass\", \"regressions\": 0, \"invariants\": []}";
        assert_eq!(json_kind(diff), Other);
    }

    #[test]
    fn manifests_and_plans_are_recognised() {
        let stream = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\n";
        assert_eq!(kinds(stream), [Kubernetes, Kubernetes]);
        assert_eq!(
            json_kind(
                "{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\", \"planned_values\": {}}"
            ),
            Terraform
        );
        assert_eq!(
            json_kind(
                "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"kind\": \"x\"}]}"
            ),
            Kubernetes
        );
        // The state file Terraform keeps, not what `terraform show -json` writes.
        let raw = "{\"version\": 4, \"terraform_version\": \"1.6.6\", \"serial\": 1, \"lineage\": \"x\", \"outputs\": {}, \"resources\": []}";
        assert_eq!(json_kind(raw), RawTerraformState);
        let shown = "{\"format_version\": \"1.0\", \"terraform_version\": \"1.6.6\", \"lineage\": \"x\", \"resources\": []}";
        assert_eq!(json_kind(shown), Terraform);
    }

    #[test]
    fn documents_keep_their_lines() {
        let stream = "---\nassets: []\n---\napiVersion: v1\nkind: Pod\n...\n";
        let documents = yaml_documents(stream);
        assert_eq!(
            documents,
            [
                Document {
                    kind: Policy,
                    first_line: 2,
                    last_line: 2
                },
                Document {
                    kind: Kubernetes,
                    first_line: 4,
                    last_line: 5
                },
            ]
        );
        assert_eq!(
            keep_only(stream, &documents, &[Policy]),
            "---\nassets: []\n---\n\n\n...\n"
        );
    }

    #[test]
    fn files_of_flows_alone_are_told_apart() {
        let yaml = |text: &str| holds_only_flows(text.as_bytes(), false);
        assert!(yaml("version: 1\nflows:\n  - {from: a, to: b}\n"));
        assert!(yaml("# flows\r\nflows:\r\n  - from: a\r\n    to: b\r\n"));
        assert!(yaml("\"flows\": []\n"));
        assert!(!yaml("version: 1\n"));
        assert!(!yaml("flows: []\nassets: []\n"));
        assert!(!yaml("flows: []\nflws: []\n"));
        // Several documents, a flow mapping or a sequence at the top: not looked into.
        assert!(!yaml("flows: []\n---\nflows: []\n"));
        assert!(!yaml("flows: []\n...\n"));
        assert!(!yaml("{flows: []}\n"));
        assert!(!yaml("- flows\n"));
        assert!(!yaml("? flows\n: []\n"));
        assert!(!yaml("%YAML 1.2\n---\nflows: []\n"));
        let json = |text: &str| holds_only_flows(text.as_bytes(), true);
        assert!(json(
            "{\"version\": \"1\", \"flows\": [{\"from\": \"a\", \"assets\": 1}]}"
        ));
        // The whole object is scanned, not only up to the first cordon key.
        assert!(!json("{\"flows\": [], \"assets\": []}"));
        assert!(!json("{\"version\": \"1\"}"));
        assert!(!json("[{\"flows\": []}]"));
        assert!(!json(
            "{\"flows\": [], \"invariants\": [{\"name\": \"}\"}]}"
        ));
        // Keys after a value, strings with escaped quotes and brackets, single quotes.
        assert!(!json(
            "{\"flows\": [{\"from\": \"a\\\"]}\"}],\"assets\": []}"
        ));
        assert!(json(
            "{\"flows\": [{\"from\": \"a\\\"]}\"}],\"version\": \"1\"}"
        ));
        assert!(!json("{\"flows\": [{'from': 'a\\'}], 'assets': 1}"));
        assert!(json("{\"flows\": [{'from': 'a\\'}], 'version': '1'}"));
        assert!(!json(
            "{\"flows\": [{\"from\": \"a\"}], \"version\": \"1\", \"assets\""
        ));
    }

    #[test]
    fn the_scan_stops_at_the_key_that_settles_it() {
        let keys = |text: &str, settles: fn(&str) -> bool| {
            flow_keys(text.as_bytes(), |keys| {
                keys.last().is_some_and(|key| settles(key))
            })
        };
        // What follows the settling key is never looked at, not even when it is broken.
        let plan = "{\"format_version\": \"1.0\", \"flows\": [\u{1}, \"values\": {";
        assert_eq!(
            keys(plan, |key| key != "flows" && key != "version"),
            Some(vec!["format_version".to_owned()])
        );
        assert_eq!(
            keys(plan, |_| false),
            Some(vec!["format_version".to_owned(), "flows".to_owned()])
        );
        // A plan is no file of flows, whatever comes after its first key.
        let json = |text: &str| holds_only_flows(text.as_bytes(), true);
        assert!(!json(plan));
        assert!(!json("{\"assets\": [], \"flows\": []}"));
        assert!(!json("{\"version\": \"1\", \"assets\": [], \"flows\": []}"));
        let state = "{\n  \"format_version\": \"1.0\",\n  \"terraform_version\": \"1.6.6\",\n  \"values\": {\"flows\": []}\n}\n";
        assert_eq!(json_kind(state), Terraform);
        assert!(!json(state));
    }

    #[test]
    fn a_plan_is_known_from_its_first_keys_unless_it_spells_api_version() {
        // No `apiVersion` in it: its first two keys settle it, whatever follows.
        let plan =
            "{\"format_version\": \"1.2\", \"terraform_version\": \"1.6.0\", \"values\": [\u{1}";
        assert_eq!(json_kind(plan), Terraform);
        // `apiVersion` and `kind` later at depth one make it a Kubernetes object, as
        // before: such a text is walked to its end.
        let object = "{\"format_version\": \"1\", \"terraform_version\": \"1\", \"values\": {}, \"apiVersion\": \"v1\", \"kind\": \"Pod\"}";
        assert_eq!(json_kind(object), Kubernetes);
        // Spelt only inside a value, it changes nothing.
        let nested = "{\"format_version\": \"1\", \"terraform_version\": \"1\", \"values\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\"}}";
        assert_eq!(json_kind(nested), Terraform);
        // An escaped key is another key, as before.
        let escaped = "{\"format_version\": \"1\", \"terraform_version\": \"1\", \"api\\u0056ersion\": \"v1\", \"kind\": \"Pod\"}";
        assert_eq!(json_kind(escaped), Terraform);
    }

    /// JSON objects whose depth-one keys mix a plan's, a Kubernetes object's and
    /// cordon's, with `apiVersion` also spelt in values and nested keys.
    fn objects() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop::sample::select(vec![
            "format_version",
            "terraform_version",
            "apiVersion",
            "kind",
            "version",
            "assets",
            "flows",
            "values",
            "metadata",
        ]);
        let value = prop_oneof![
            Just("1".to_owned()),
            Just("\"apiVersion\"".to_owned()),
            Just("{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}".to_owned()),
            Just("[{\"format_version\": 1}, \"}\"]".to_owned()),
            Just("[]".to_owned()),
        ];
        prop::collection::vec((key, value), 0..7).prop_map(|members| {
            let members: Vec<String> = (members.into_iter())
                .map(|(key, value)| format!("\"{key}\": {value}"))
                .collect();
            format!("{{{}}}", members.join(", "))
        })
    }

    proptest::proptest! {
        /// Settling early never changes the answer: the kind is that of the depth-one
        /// keys up to the first cordon list key (which settles a policy), or of all.
        #[test]
        fn json_kind_is_the_kind_of_the_keys_it_reads(text in objects()) {
            let mut keys = flow_keys(text.as_bytes(), |_| false).unwrap_or_default();
            let list = |key: &String| key != "version" && TOP_LEVEL_KEYS.contains(&key.as_str());
            if let Some(first) = keys.iter().position(list) {
                keys.truncate(first + 1);
            }
            let expected = kind_of(keys.iter().map(String::as_str));
            proptest::prop_assert_eq!(json_kind(&text), expected, "{}", text);
        }
    }

    #[test]
    fn values_are_skipped_to_their_end_whatever_they_nest() {
        let json = |text: &str| holds_only_flows(text.as_bytes(), true);
        // A value that ends between two strings, with brackets before and after.
        assert!(!json("{\"flows\": [[{}], [\n  ]], \"assets\": 1}"));
        assert!(json("{\"flows\": [[{}], [\n  ]], \"version\": \"1\"}"));
        // Closing brackets that do not end the value, then a string.
        assert!(json("{\"flows\": [[[]] [] \"a\" ]], \"version\": \"1\"}"));
        // Brackets and quotes of the other kind inside strings count for nothing.
        assert!(!json("{\"flows\": [\"]]'\", ']]\\\"'], \"assets\": 1}"));
        // Deep nesting with no strings at all, which ends at the last byte.
        let deep = format!(
            "{{\"flows\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(json(&deep));
        let unclosed = format!("{{\"flows\": {}, \"assets\": 1}}", "[".repeat(100));
        assert!(json(&unclosed));
    }

    #[test]
    fn flow_mappings_and_crlf() {
        assert_eq!(kinds("{assets: [{name: a}], flows: []}\n"), [Policy]);
        assert_eq!(kinds("apiVersion: v1\r\nkind: Pod\r\n"), [Kubernetes]);
        assert_eq!(kinds(""), Vec::<DocumentKind>::new());
        assert_eq!(
            kinds("# nothing\n---\n# more\n"),
            Vec::<DocumentKind>::new()
        );
        assert_eq!(json_kind("[1, 2]"), Other);
        assert_eq!(json_kind("{\"name\": \"x\", \"scripts\": {}}"), Other);
    }
}
