//! Finding and parsing policy files: the only module that touches the file system on the
//! way in.
//!
//! A directory is walked as ripgrep walks one: `.gitignore` and `.cordonignore` are
//! honoured and hidden folders skipped. Each document found is sorted by what it is
//! ([`crate::classify`]): cordon policies are parsed here, Kubernetes manifests and
//! Terraform plans go to their importers, and anything else is skipped with a note.
//!
//! YAML goes through `serde-saphyr` under a budget that grows with the file, so that an
//! alias bomb or deep nesting is refused in milliseconds whatever its size. JSON goes
//! through `serde_json`, which is much faster for generated models but keeps no
//! positions; [`parse_with_positions`] re-reads such a file when a position is needed.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::classify::{self, Document, DocumentKind};
use crate::diagnostic::{Diagnostic, Problem};
use crate::json_lines::JsonLines;
use crate::raw::RawFile;
use crate::suggest::did_you_mean;

/// Files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// YAML files from this size on are digested on one core while they are sorted on
/// another.
const SIDE_BY_SIDE_BYTES: usize = 1 << 20;

/// How a file is parsed, chosen by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// A policy file found on disk, not yet read.
#[derive(Clone, Debug)]
pub struct FoundFile {
    pub path: PathBuf,
    /// The path as the user named it, with `/` separators: what every message shows.
    pub display: String,
    pub format: Format,
}

/// The policy documents of a file, read and parsed.
#[derive(Debug)]
pub struct ParsedFile {
    pub found: FoundFile,
    /// The file's bytes, kept only after the fast JSON path, which may have to read them
    /// again for positions ([`parse_with_positions`]); empty otherwise, so that a large
    /// model does not hold its whole text while it is resolved and checked.
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub raw: RawFile,
    /// Whether the spans in `raw` are real. False after the fast JSON path.
    pub has_positions: bool,
    /// After the fast JSON path, the line of each flow, invariant and exception.
    pub json_lines: Option<JsonLines>,
    /// A file of flows alone, not parsed yet: `bytes`, `raw` and `sha256` are empty
    /// until resolution, once every entity is known, reads it again
    /// ([`reread_deferred`]) and parses it ([`parse_deferred_bytes`]), or for JSON reads
    /// its flows straight into the model, and resolves its flows straight away.
    pub deferred: bool,
}

/// The documents of a file that an importer reads: the file's text with every other
/// document blanked out, so that lines stay where they are in the file.
#[derive(Debug)]
pub struct ImportFile {
    pub found: FoundFile,
    pub kind: DocumentKind,
    pub text: String,
    /// The digest of the file's bytes; `None` when `text` is all of them, undigested
    /// yet, for the importer's caller to digest beside the import ([`ImportFile::digest`]).
    pub sha256: Option<String>,
}

impl ImportFile {
    /// The digest of the file's bytes: the one taken when it was sorted, else that of
    /// its text, which is then the whole file.
    pub fn digest(&self) -> String {
        (self.sha256.clone()).unwrap_or_else(|| hex_digest(self.text.as_bytes()))
    }
}

/// A file that held nothing cordon reads, or a document of a file that held something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    pub display: String,
    /// The document's first line, when the rest of the file is read.
    pub line: Option<usize>,
    /// What its documents were.
    pub kind: DocumentKind,
}

/// What one file held, sorted by what reads it.
#[derive(Debug, Default)]
pub struct FileContents {
    /// Its cordon policy documents; `None` when it has none.
    pub policy: Option<ParsedFile>,
    /// Its Kubernetes objects or Terraform plan, one entry per kind.
    pub imports: Vec<ImportFile>,
    /// The whole file, when it held nothing that cordon reads (comments alone do not
    /// count); else each of its documents that cordon does not read.
    pub skipped: Vec<SkippedFile>,
}

/// Finds every YAML and JSON file under `paths`, sorted by display path and without
/// repeats, so that the order of the arguments never changes a result. A file reached
/// twice under different names (`.` and `../repo`) is read once, under the name that
/// sorts first. A file named on the command line is read even when an ignore file or a
/// hidden folder would skip it in a walk.
pub fn discover(paths: &[PathBuf]) -> (Vec<FoundFile>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        let display = display_path(path);
        let Ok(metadata) = fs::metadata(path) else {
            diagnostics.push(Diagnostic::new(
                display.clone(),
                0,
                0,
                Problem::PathNotFound { path: display },
            ));
            continue;
        };
        if metadata.is_dir() {
            let before = found.len();
            walk(path, &mut found);
            if found.len() == before {
                diagnostics.push(Diagnostic::new(
                    display.clone(),
                    0,
                    0,
                    Problem::NoPolicyFiles { path: display },
                ));
            }
        } else {
            let format = format_of(path).unwrap_or(Format::Yaml);
            found.push(FoundFile {
                path: path.clone(),
                display,
                format,
            });
        }
    }
    found.sort_by(|a, b| a.display.cmp(&b.display));
    let mut seen = std::collections::HashSet::new();
    found.retain(|file| seen.insert(fs::canonicalize(&file.path).unwrap_or(file.path.clone())));
    (found, diagnostics)
}

/// Reads a directory recursively, as ripgrep does: `.gitignore` (in a git repository or
/// not), `.ignore` and `.cordonignore` are honoured, hidden files and folders skipped,
/// and symbolic links not followed, so a link cycle cannot make the walk loop.
fn walk(dir: &Path, found: &mut Vec<FoundFile>) {
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(false)
        .git_global(false)
        .require_git(false)
        .parents(true)
        .follow_links(false)
        .add_custom_ignore_filename(".cordonignore")
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
            !(is_dir && is_evidence_bundle(entry.path()))
        })
        .build();
    for entry in walker.flatten() {
        let path = entry.path();
        if entry.file_type().is_some_and(|kind| kind.is_file())
            && let Some(format) = format_of(path)
        {
            found.push(FoundFile {
                path: path.to_path_buf(),
                display: display_path(path),
                format,
            });
        }
    }
}

/// Whether `dir` holds an evidence bundle that `cordon evidence` wrote: its reports and
/// the copies of its inputs are cordon's own output, and the copies, read beside the
/// policies they copy, would declare every name twice.
fn is_evidence_bundle(dir: &Path) -> bool {
    dir.join("SHA256SUMS").is_file()
        && dir.join("report.json").is_file()
        && dir.join("inputs").is_dir()
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "yaml" | "yml" => Some(Format::Yaml),
        "json" => Some(Format::Json),
        _ => None,
    }
}

fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    if text.is_empty() {
        ".".to_owned()
    } else {
        text.to_owned()
    }
}

/// Reads one file and parses its policy documents. Problems come back as diagnostics;
/// nothing panics.
pub fn read(found: FoundFile) -> Result<FileContents, Vec<Diagnostic>> {
    let bytes = read_bytes(&found)?;
    parse(found, bytes)
}

/// Reads one file, and parses it unless it holds flows alone
/// ([`classify::holds_only_flows`]): such a file comes back as a [`ParsedFile`] that is
/// `deferred`, so that its raw flows are not held in memory beside every other file's.
pub fn read_deferring(found: FoundFile) -> Result<FileContents, Vec<Diagnostic>> {
    let bytes = read_bytes(&found)?;
    if !classify::holds_only_flows(&bytes, found.format == Format::Json) {
        return parse(found, bytes);
    }
    // The text is read again when the file is parsed: held from now until then, the
    // texts of every file of flows would sit beside the resolved model. Its digest is
    // taken then, of the text that is checked, whatever happens to the file in between.
    drop(bytes);
    Ok(FileContents::policy(ParsedFile {
        found,
        bytes: Vec::new(),
        sha256: String::new(),
        raw: RawFile::default(),
        has_positions: true,
        json_lines: None,
        deferred: true,
    }))
}

/// Reads again a file that [`read_deferring`] held back, and takes its digest.
pub fn reread_deferred(file: &mut ParsedFile) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let bytes = read_bytes(&file.found)?;
    file.sha256 = hex_digest(&bytes);
    Ok(bytes)
}

/// Parses, in place, a file that [`read_deferring`] held back, from the `bytes` that
/// [`reread_deferred`] gave.
pub fn parse_deferred_bytes(file: &mut ParsedFile, bytes: Vec<u8>) -> Result<(), Vec<Diagnostic>> {
    *file = parse_digested(file.found.clone(), bytes, file.sha256.clone(), None)?;
    Ok(())
}

/// A file's bytes, refused when it is too large; or why they cannot be had.
fn read_bytes(found: &FoundFile) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let error = |problem| vec![Diagnostic::new(found.display.clone(), 0, 0, problem)];
    let size = fs::metadata(&found.path)
        .map_err(|e| {
            error(Problem::Unreadable {
                reason: io_reason(&e),
            })
        })?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(error(Problem::TooLarge {
            size,
            limit: MAX_FILE_BYTES,
        }));
    }
    fs::read(&found.path).map_err(|e| {
        error(Problem::Unreadable {
            reason: io_reason(&e),
        })
    })
}

/// The mark that may open a UTF-8 file.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// Sorts a file's documents by kind and parses its policy documents, from bytes read
/// from disk or given directly.
pub fn parse(found: FoundFile, bytes: Vec<u8>) -> Result<FileContents, Vec<Diagnostic>> {
    // Windows PowerShell writes `terraform show -json > plan.json` in UTF-16: such a
    // file is read as the text it holds, once it is digested as it is on disk.
    let mut digested = None;
    let bytes = match utf16_text(&bytes) {
        Some(text) => {
            digested = Some(hex_digest(&bytes));
            text.into_bytes()
        }
        None => bytes,
    };
    let mut text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return Err(vec![not_utf8(&found.display, &error)]),
    };
    // A YAML file may open with a byte-order mark, which YAML allows and editors on
    // Windows write. The sorting reads keys from the start of lines, where the mark
    // would hide the first, and a file taken for none of cordon's would be skipped:
    // the mark goes before anything reads the text, once the file as it is on disk is
    // digested.
    if found.format == Format::Yaml && text.starts_with(BYTE_ORDER_MARK) {
        digested.get_or_insert_with(|| hex_digest(text.as_bytes()));
        text.drain(..BYTE_ORDER_MARK.len_utf8());
    }
    let sort = || match found.format {
        Format::Json => vec![Document {
            kind: classify::json_kind(&text),
            first_line: 1,
            last_line: line_count(&text),
        }],
        Format::Yaml => classify::yaml_documents(&text),
    };
    // The digest and the sorting are two passes over the same bytes. A JSON file is
    // sorted from its first keys (a plan's first two, a policy's first list) and
    // digested after, and only if it is no import of its own: a plan of megabytes is
    // digested by the import's caller, beside the plan's read, which leaves a core
    // free. A YAML file is sorted by a scan of every line: for one of megabytes the two
    // passes run on two cores, while a small file is not worth the handing over.
    let (taken, documents) = match found.format {
        _ if digested.is_some() => (digested, sort()),
        Format::Json => (None, sort()),
        Format::Yaml if text.len() >= SIDE_BY_SIDE_BYTES => {
            let (sha256, documents) = rayon::join(|| hex_digest(text.as_bytes()), sort);
            (Some(sha256), documents)
        }
        Format::Yaml => (Some(hex_digest(text.as_bytes())), sort()),
    };
    let mut contents = FileContents::default();
    let has = |kind| documents.iter().any(|document| document.kind == kind);
    // Skipped, the state would leave the estate out of the model and the check would
    // pass on the rest.
    if let Some(state) = (documents.iter()).find(|d| d.kind == DocumentKind::RawTerraformState) {
        let at = u32::try_from(state.first_line).unwrap_or(u32::MAX);
        return Err(vec![
            Diagnostic::new(found.display, at, 1, Problem::RawTerraformState).with_help(Some(
                "cordon reads the JSON that `terraform show -json` writes: `terraform show -json terraform.tfstate > state.json`"
                    .to_owned(),
            )),
        ]);
    }
    // A file read in part says which of its documents it skips: a stray `values.yaml`
    // document after `---` is noted as a whole file of them would be.
    let read_in_part =
        has(DocumentKind::Policy) || has(DocumentKind::Kubernetes) || has(DocumentKind::Terraform);
    if read_in_part {
        contents.skipped = (documents.iter())
            .filter(|document| document.kind == DocumentKind::Other)
            .map(|document| SkippedFile {
                display: found.display.clone(),
                line: Some(document.first_line),
                kind: DocumentKind::Other,
            })
            .collect();
    }
    for kind in [DocumentKind::Kubernetes, DocumentKind::Terraform] {
        if documents.iter().all(|document| document.kind == kind) && has(kind) {
            // The whole file goes to one importer: its text moves there, uncopied.
            contents.imports.push(ImportFile {
                found,
                kind,
                text,
                sha256: taken,
            });
            return Ok(contents);
        }
        if has(kind) {
            contents.imports.push(ImportFile {
                found: found.clone(),
                kind,
                text: only(&text, &documents, kind),
                // Of the file, not of the text the importer is given.
                sha256: Some((taken.clone()).unwrap_or_else(|| hex_digest(text.as_bytes()))),
            });
        }
    }
    if has(DocumentKind::Policy) {
        let mixed = documents
            .iter()
            .any(|document| document.kind != DocumentKind::Policy);
        let policy_text = mixed.then(|| only(&text, &documents, DocumentKind::Policy));
        let sha256 = taken.unwrap_or_else(|| hex_digest(text.as_bytes()));
        contents.policy = Some(parse_digested(
            found,
            text.into_bytes(),
            sha256,
            policy_text,
        )?);
    } else if contents.imports.is_empty() && has(DocumentKind::Other) {
        contents.skipped = vec![SkippedFile {
            display: found.display,
            line: None,
            kind: DocumentKind::Other,
        }];
    }
    Ok(contents)
}

/// `text` with only the documents of `kind` left.
fn only(text: &str, documents: &[Document], kind: DocumentKind) -> String {
    if documents.iter().all(|document| document.kind == kind) {
        text.to_owned()
    } else {
        classify::keep_only(text, documents, &[kind])
    }
}

impl FileContents {
    fn policy(file: ParsedFile) -> Self {
        FileContents {
            policy: Some(file),
            ..FileContents::default()
        }
    }
}

/// Parses the policy documents of a file whose digest is taken: `blanked`, when given,
/// is the file's text with its other documents blanked out.
fn parse_digested(
    found: FoundFile,
    bytes: Vec<u8>,
    sha256: String,
    blanked: Option<String>,
) -> Result<ParsedFile, Vec<Diagnostic>> {
    let (raw, has_positions) = match (found.format, blanked) {
        (_, Some(blanked)) => (parse_yaml(&found.display, blanked.as_bytes())?, true),
        (Format::Yaml, None) => (parse_yaml(&found.display, &bytes)?, true),
        (Format::Json, None) => (
            parse_json(&found.display, &bytes).map_err(|d| vec![d])?,
            false,
        ),
    };
    // Flows, invariants and exceptions are named by their line in every output.
    let json_lines = (!has_positions).then(|| JsonLines::scan(&bytes));
    let bytes = if has_positions { Vec::new() } else { bytes };
    Ok(ParsedFile {
        found,
        bytes,
        sha256,
        raw,
        has_positions,
        json_lines,
        deferred: false,
    })
}

/// Parses a file again with positions, for a JSON file read by the fast path whose
/// problems must point at a line.
pub fn parse_with_positions(file: &mut ParsedFile) -> Result<(), Vec<Diagnostic>> {
    if !file.has_positions {
        file.raw = parse_yaml(&file.found.display, &file.bytes)?;
        file.has_positions = true;
        file.json_lines = None;
    }
    Ok(())
}

fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_lowercase(),
        None => text.to_lowercase(),
    }
}

/// How many lines `text` has, as `str::lines` counts them, by one `memchr` pass: a
/// plan of megabytes counted a character at a time cost as much as classifying it.
fn line_count(text: &str) -> usize {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    newlines + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

pub fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The budget for one YAML file. Work is bounded in proportion to the file's size: a
/// node takes at least one byte to write, so a file may have as many nodes and events as
/// it has bytes (plus room for a tiny file), while aliases, which let a few bytes stand
/// for many nodes, stay tightly limited.
fn budget(len: usize) -> serde_saphyr::Budget {
    let proportional = len.saturating_mul(2).saturating_add(4096);
    serde_saphyr::budget! {
        max_events: proportional,
        max_nodes: proportional,
        max_total_scalar_bytes: len.saturating_add(4096),
        max_documents: 1,
        max_depth: 64,
        max_aliases: 10_000,
        max_anchors: 10_000,
        max_merge_keys: 1_000,
    }
    .unwrap_or_default()
}

/// The parser options for a YAML file of `len` bytes.
fn yaml_options(len: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::options! {
        budget: Some(budget(len)),
        with_snippet: false,
        // YAML 1.2: `n`, `no`, `on` and `y` are names, not booleans. An entity called
        // `n` must not turn into `false` in a list of selectors.
        strict_booleans: true,
    };
    options.alias_limits.max_total_replayed_events = len.saturating_add(10_000);
    options.alias_limits.max_replay_stack_depth = 16;
    options
}

/// The parser options for a YAML stream of `len` bytes: a file's budget, with as many
/// documents as it has room for.
fn stream_options(len: usize) -> serde_saphyr::Options {
    let mut options = yaml_options(len);
    if let Some(budget) = options.budget.as_mut() {
        budget.max_documents = len.saturating_add(1);
    }
    options
}

/// Every document of a YAML (or JSON) stream as a `T`, under the budget policy files
/// get, positions counting from the start of the stream: how importers read their files.
pub fn yaml_documents<T: serde::de::DeserializeOwned>(
    display: &str,
    text: &str,
) -> Result<Vec<T>, Diagnostic> {
    serde_saphyr::from_multiple_with_options::<T>(text, stream_options(text.len())).map_err(
        |error| {
            let diagnostic = yaml_diagnostic(display, &error);
            // A chart's templates hold Kubernetes objects that are not YAML until
            // rendered; the parser's own words say nothing of that.
            if diagnostic.help.is_none() && text.contains("{{") {
                diagnostic.with_help(Some(TEMPLATE_HELP.to_owned()))
            } else {
                diagnostic
            }
        },
    )
}

/// What to do with a template (Helm's, or another Go template) that is no YAML yet.
const TEMPLATE_HELP: &str = "this looks like a template, which is YAML only once rendered: check what it renders to (`helm template CHART > rendered.yaml`), or leave its folder out in `.cordonignore`";

/// Two documents of one file as one policy: their lists one after the other. A
/// `version` other than the first is kept, so that resolving still refuses it.
fn merge(mut into: RawFile, next: RawFile) -> RawFile {
    fn append<T>(into: &mut Option<Vec<T>>, next: Option<Vec<T>>) {
        if let Some(next) = next {
            into.get_or_insert_with(Vec::new).extend(next);
        }
    }
    if into.version.as_ref().is_none_or(|v| v.value == "1") && next.version.is_some() {
        into.version = next.version;
    }
    append(&mut into.environments, next.environments);
    append(&mut into.accounts, next.accounts);
    append(&mut into.segments, next.segments);
    append(&mut into.assets, next.assets);
    append(&mut into.credentials, next.credentials);
    append(&mut into.flows, next.flows);
    append(&mut into.invariants, next.invariants);
    append(&mut into.exceptions, next.exceptions);
    append(&mut into.imports, next.imports);
    append(&mut into.leaks, next.leaks);
    into
}

/// The documents of a YAML stream, merged into one policy, with every unknown key
/// reported. Positions count from the start of the stream, so they are the file's own.
fn parse_yaml(display: &str, bytes: &[u8]) -> Result<RawFile, Vec<Diagnostic>> {
    parse_yaml_once(display, bytes).map_err(|first| further_unknown_keys(display, bytes, first))
}

/// [`parse_yaml`] up to the first problem. Documents are bounded like nodes, by the
/// file's size.
fn parse_yaml_once(display: &str, bytes: &[u8]) -> Result<RawFile, Diagnostic> {
    match serde_saphyr::from_slice_multiple_with_options::<RawFile>(
        bytes,
        stream_options(bytes.len()),
    ) {
        Ok(documents) => Ok(documents.into_iter().fold(RawFile::default(), merge)),
        Err(error) => Err(yaml_diagnostic(display, &error)),
    }
}

/// At most this many unknown keys of one file are looked for, each costing a parse.
const MAX_UNKNOWN_KEYS: usize = 50;

/// The parser stops at the first unknown key. To report every one, the key and its value
/// are blanked out (with spaces, so that every position stays where it was) and the file
/// parsed again, as long as the next problem is another unknown key at a new place. A key
/// inside `{...}` is blanked up to its comma or brace on the same line; where blanking
/// leaves something the parser rejects (a value over several lines in braces, a comma
/// inside quotes), the search ends with what it found.
fn further_unknown_keys(display: &str, bytes: &[u8], first: Diagnostic) -> Vec<Diagnostic> {
    let mut found = vec![first];
    let Ok(text) = std::str::from_utf8(bytes) else {
        return found;
    };
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    while found.len() < MAX_UNKNOWN_KEYS {
        let Some(last) = found.last() else { break };
        if !matches!(*last.problem, Problem::UnknownKey { .. })
            || !blank_key(&mut lines, last.line, last.column)
        {
            break;
        }
        let Err(next) = parse_yaml_once(display, lines.join("\n").as_bytes()) else {
            break;
        };
        let is_new = matches!(*next.problem, Problem::UnknownKey { .. })
            && !found
                .iter()
                .any(|seen| (seen.line, seen.column) == (next.line, next.column));
        if !is_new {
            break;
        }
        found.push(next);
    }
    found
}

/// Inside `{...}` on one line: blanks the key at `byte` and its value up to the next `,`
/// or the closing brace, with one comma between it and its neighbours. False when the
/// value does not end on this line.
fn blank_flow_key(line: &mut String, byte: usize) -> bool {
    let mut depth = 0i32;
    let mut end = None;
    for (offset, c) in line[byte..].char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' if depth > 0 => depth -= 1,
            ',' | '}' | ']' if depth == 0 => {
                end = Some((byte + offset, c == ','));
                break;
            }
            _ => {}
        }
    }
    let Some((end, comma)) = end else {
        return false;
    };
    // A comma after the key goes with it; a key last in its braces takes the one before.
    let (start, end) = if comma {
        (byte, end + 1)
    } else {
        match line[..byte].trim_end().strip_suffix(',') {
            Some(kept) => (kept.len(), end),
            None => (byte, end),
        }
    };
    let spaces = " ".repeat(line[start..end].chars().count());
    line.replace_range(start..end, &spaces);
    true
}

/// Replaces the key at `line`:`column` (1-based), its value, and the lines of a block
/// value below it with spaces. False when the key does not start its line or item.
fn blank_key(lines: &mut [String], line: u32, column: u32) -> bool {
    let (Some(row), Some(start)) = (
        (line as usize).checked_sub(1),
        (column as usize).checked_sub(1),
    ) else {
        return false;
    };
    let Some(text) = lines.get(row) else {
        return false;
    };
    let Some((byte, _)) = text.char_indices().nth(start) else {
        return false;
    };
    let before = text[..byte].trim();
    if !before.chars().all(|c| c == '-' || c.is_whitespace()) {
        return blank_flow_key(&mut lines[row], byte);
    }
    let kept = text[..byte].to_owned();
    let blanked = " ".repeat(text[byte..].chars().count());
    lines[row] = kept + &blanked;
    for below in lines.iter_mut().skip(row + 1) {
        let indent = below.chars().take_while(|c| *c == ' ').count();
        let blank = below.trim().is_empty();
        if !blank && indent <= start {
            break;
        }
        *below = " ".repeat(below.chars().count());
    }
    true
}

/// Parses a file with the same parser and options as [`read`], into nothing: the least
/// any reader of these files must pay. Benchmarks compare cordon's whole run to it.
pub fn parse_floor(format: Format, bytes: &[u8]) -> bool {
    match format {
        Format::Yaml => serde_saphyr::from_slice_with_options::<serde::de::IgnoredAny>(
            bytes,
            yaml_options(bytes.len()),
        )
        .is_ok(),
        Format::Json => serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok(),
    }
}

fn parse_json(display: &str, bytes: &[u8]) -> Result<RawFile, Diagnostic> {
    match serde_json::from_slice::<Option<RawFile>>(bytes) {
        Ok(raw) => Ok(raw.unwrap_or_default()),
        // A shape error is better explained by the YAML reader, which knows which key was
        // unknown and where; JSON is YAML, so it reads the same file.
        Err(error) if error.is_data() => match parse_yaml_once(display, bytes) {
            Err(diagnostic) => Err(diagnostic),
            Ok(_) => Err(json_diagnostic(display, &error)),
        },
        Err(error) => Err(json_diagnostic(display, &error)),
    }
}

/// The text of a file in UTF-16 that opens with a byte-order mark, little- or
/// big-endian; `None` for any other file, and for one that is not valid UTF-16, which
/// is then reported as not UTF-8.
fn utf16_text(bytes: &[u8]) -> Option<String> {
    let unit: fn([u8; 2]) -> u16 = match bytes {
        [0xFF, 0xFE, ..] => u16::from_le_bytes,
        [0xFE, 0xFF, ..] => u16::from_be_bytes,
        _ => return None,
    };
    let body = bytes.get(2..)?;
    if body.len() % 2 != 0 {
        return None;
    }
    let units = (body.chunks_exact(2)).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Where a file stops being UTF-8: the line and column of the first byte that is not.
/// Policies, manifests and plans are all UTF-8 text, so none of them is read further.
fn not_utf8(display: &str, error: &std::string::FromUtf8Error) -> Diagnostic {
    let bytes = error.as_bytes();
    let valid = &bytes[..error.utf8_error().valid_up_to()];
    let line_start = valid
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
    // The bytes before the error are UTF-8, so the column counts characters.
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count()
        + 1;
    let help = match bytes {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => "the file is not valid UTF-16: save it as UTF-8",
        // A zip archive: what `terraform plan -out` writes.
        [b'P', b'K', 3, 4, ..] => {
            "the file is a binary plan: write its JSON with `terraform show -json PLANFILE > plan.json`"
        }
        _ => "save the file as UTF-8",
    };
    Diagnostic::new(
        display,
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
        Problem::NotUtf8,
    )
    .with_help(Some(help.to_owned()))
}

fn json_diagnostic(display: &str, error: &serde_json::Error) -> Diagnostic {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(end) => &text[..end],
        None => &text,
    };
    Diagnostic::new(
        display,
        u32::try_from(error.line()).unwrap_or(0),
        u32::try_from(error.column()).unwrap_or(0),
        Problem::Syntax {
            message: message.to_owned(),
        },
    )
}

fn yaml_diagnostic(display: &str, error: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let (line, column) = error.location().map_or((0, 0), |location| {
        (
            u32::try_from(location.line()).unwrap_or(u32::MAX),
            u32::try_from(location.column()).unwrap_or(u32::MAX),
        )
    });
    let diagnostic = |problem| Diagnostic::new(display, line, column, problem);
    match innermost(error) {
        E::SerdeUnknownField {
            field, expected, ..
        } => diagnostic(Problem::UnknownKey { key: field.clone() }).with_help(
            did_you_mean(field, expected.iter().copied()).or_else(|| {
                Some(format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|key| format!("`{key}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        ),
        E::SerdeMissingField { field, .. } => diagnostic(Problem::MissingKey {
            key: (*field).to_owned(),
        }),
        E::DuplicateMappingKey { key, .. } => diagnostic(Problem::DuplicateKey {
            key: key.clone().unwrap_or_default(),
        }),
        E::InvalidUtf8Input => diagnostic(Problem::NotUtf8),
        // serde-saphyr's own words for these two speak to the Rust programmer
        // ("use Option<String>", "strict mode"), not to whoever wrote the policy.
        E::NullIntoString { .. } => diagnostic(Problem::Syntax {
            message: "expected a string, found null".to_owned(),
        })
        .with_help(Some(
            "write the value, or quote it (`\"null\"`) if you mean that text".to_owned(),
        )),
        E::InvalidBooleanStrict { .. } => diagnostic(Problem::Syntax {
            message: "expected `true` or `false`".to_owned(),
        }),
        inner @ (E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. }) => diagnostic(Problem::Budget {
            message: strip_position(&inner.to_string()),
        })
        .with_help(Some(
            "policy files may not use deep nesting or many aliases".to_owned(),
        )),
        inner => diagnostic(Problem::Syntax {
            message: strip_position(&inner.to_string()),
        }),
    }
}

/// The error beneath the wrappers that only add a snippet or an alias location.
fn innermost(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match error {
        serde_saphyr::Error::WithSnippet { error, .. } => innermost(error),
        serde_saphyr::Error::AliasError { error, .. } => innermost(error),
        other => other,
    }
}

fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(end) => &message[..end],
        None => message,
    };
    // The parser speaks of events; users think of lists and mappings.
    let message = message
        .replace("expected sequence start", "expected a list")
        .replace(
            "expected mapping start",
            "expected a mapping of keys to values",
        );
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_str_lines_counts_them() {
        for text in [
            "",
            "a",
            "\n",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\n",
            "a\n\nb\n\n",
            "\r",
        ] {
            assert_eq!(line_count(text), text.lines().count(), "{text:?}");
        }
    }

    fn yaml(text: &str) -> Result<RawFile, Diagnostic> {
        parse_yaml_once("p.yaml", text.as_bytes())
    }

    #[test]
    fn a_file_of_flows_is_read_again_when_parsed_and_digested_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flows.yaml");
        fs::write(&path, "flows:\n  - {from: a, to: b}\n").unwrap();
        let found = FoundFile {
            path: path.clone(),
            display: "flows.yaml".to_owned(),
            format: Format::Yaml,
        };
        let read = || match read_deferring(found.clone()) {
            Ok(FileContents {
                policy: Some(file), ..
            }) => file,
            _ => panic!("a file of flows alone is held back as a policy"),
        };
        // Held back without its text, then parsed from the disk.
        let mut file = read();
        assert!(file.deferred && file.bytes.is_empty() && file.sha256.is_empty());
        // Changed in between: the digest is of the text parsed.
        let changed = "flows:\n  - {from: a, to: c}\n";
        fs::write(&path, changed).unwrap();
        let bytes = reread_deferred(&mut file).unwrap();
        assert_eq!(bytes, changed.as_bytes());
        assert_eq!(file.sha256, hex_digest(changed.as_bytes()));
        parse_deferred_bytes(&mut file, bytes).unwrap();
        assert!(!file.deferred);
        assert_eq!(file.sha256, hex_digest(changed.as_bytes()));
        let flows = file.raw.flows.unwrap_or_default();
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].value.to.value.0[0].value, "c");
    }

    #[test]
    fn every_unknown_key_of_a_file_is_reported() {
        let text = "assets:\n  - name: a\n    tagz: [x]\n    ownr:\n      - deep\n  - naem: x\n    name: b\nflows:\n  - {from: a, to: b, prots: [tcp]}\n";
        let found = parse_yaml("p.yaml", text.as_bytes()).unwrap_err();
        let keys: Vec<(String, u32)> = found
            .iter()
            .map(|d| (d.problem.to_string(), d.line))
            .collect();
        assert_eq!(
            keys,
            [
                ("unknown key `tagz`".to_owned(), 3),
                ("unknown key `ownr`".to_owned(), 4),
                ("unknown key `naem`".to_owned(), 6),
                ("unknown key `prots`".to_owned(), 9),
            ]
        );
    }

    #[test]
    fn unknown_key_suggests_the_right_one() {
        let error = yaml("flows:\n  - frm: a\n    to: b\n").unwrap_err();
        assert_eq!(*error.problem, Problem::UnknownKey { key: "frm".into() });
        assert_eq!((error.line, error.column), (2, 5));
        assert_eq!(error.help.as_deref(), Some("did you mean `from`?"));
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded() {
        let text = "{\"é\": \"😀\"}\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(utf16_text(&le).as_deref(), Some(text));
        assert_eq!(utf16_text(&be).as_deref(), Some(text));
        // No mark, an odd byte, or a lone surrogate: not UTF-16 text.
        assert_eq!(utf16_text(text.as_bytes()), None);
        assert_eq!(utf16_text(&le[..le.len() - 1]), None);
        assert_eq!(utf16_text(&[0xFF, 0xFE, 0x00, 0xD8]), None);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let text = format!("environments:\n  - name: e\n    tags: *a11\n{text}");
        assert!(yaml(&text).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("flows: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(yaml(&text).is_err());
    }

    #[test]
    fn the_classifier_knows_every_top_level_key() {
        let error = yaml("zzzzzz: 1\n").unwrap_err();
        let keys: Vec<String> = crate::raw::TOP_LEVEL_KEYS
            .iter()
            .map(|key| format!("`{key}`"))
            .collect();
        let expected = format!("expected one of {}", keys.join(", "));
        assert_eq!(error.help.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn yaml_1_1_booleans_are_names() {
        let raw =
            yaml("assets: [{name: n}, {name: y}]\nflows:\n  - {from: [n, on], to: [no, y]}\n  - {from: n, to: y}\n")
                .unwrap_or_else(|e| panic!("{e:?}"));
        let flows = raw.flows.unwrap_or_default();
        let flow = &flows[0].value;
        let texts = |list: &crate::raw::RawList| -> Vec<String> {
            list.0.iter().map(|at| at.value.to_string()).collect()
        };
        assert_eq!(texts(&flow.from.value), ["n", "on"]);
        assert_eq!(texts(&flow.to.value), ["no", "y"]);
        assert_eq!(texts(&flows[1].value.from.value), ["n"]);
    }

    #[test]
    fn empty_file_is_an_empty_policy() {
        assert!(yaml("").is_ok());
        assert!(yaml("# only a comment\n").is_ok());
    }

    #[test]
    fn a_list_where_a_map_belongs_is_an_error() {
        assert!(yaml("- a\n- b\n").is_err());
        assert!(yaml("flows: {a: 1}\n").is_err());
    }
}
