//! Resolving what refers to entities: credentials, flows, invariants and exceptions.
//! Leaks, which refer to credentials, are `leaks.rs`'s.

use std::hash::BuildHasher;

use rayon::prelude::*;

use crate::raw::At;

use super::fast_flows;
use super::pin::{Written, pinned_route};
use super::selector::{SelectorResolver, union};
use super::{Context, FlowMode, NameTable};
use crate::date::Date;
use crate::diagnostic::Problem;
use crate::load::{Format, ParsedFile};
use crate::location::{Location, SourceId};
use crate::model::{
    ANY, Credential, CredentialStatus, End, Exception, Flow, FlowNotes, FlowPart, Flows, Invariant,
    InvariantId, Model, Rule, Selection, Severity, find_credential,
};
use crate::port_list::{PortList, PortLists};
use crate::ports::{self, PortSpec};
use crate::raw::{RawEnds, RawFlow, RawList, RawThrough};
use crate::suggest::did_you_mean;

pub(super) fn resolve_rules(
    cx: &mut Context,
    files: &mut [ParsedFile],
    model: &Model,
    resolver: &SelectorResolver,
    (mode, parsed): (FlowMode, &(dyn Fn(u64) + Sync)),
) -> Rules {
    let mut credentials = credentials(cx, files, model, resolver);
    super::leaks::apply_leaks(cx, files, &mut credentials);
    if mode == FlowMode::Stream && !cx.diagnostics.is_empty() {
        // Streaming gives up on the first sign of a problem: there is no point in
        // parsing the deferred files now, as the caller starts again without them.
        return Rules::given_up(credentials);
    }
    let before = cx.diagnostics.len();
    let (flows, whole) = match mode {
        FlowMode::Stream => {
            let known = (model, credentials.as_slice(), resolver);
            streamed_flows(cx, files, known, parsed)
        }
        FlowMode::Keep | FlowMode::Consume => {
            let consume = mode == FlowMode::Consume;
            let flows = flows(cx, files, model, &credentials, resolver, consume);
            (flows, true)
        }
    };
    if !whole {
        return Rules::given_up(credentials);
    }
    let flows_complete = cx.diagnostics.len() == before;
    let invariants = invariants(cx, files, model, resolver);
    let exceptions = exceptions(cx, files, model, &flows, flows_complete, &invariants);
    Rules {
        credentials,
        flows,
        invariants,
        exceptions,
        whole,
    }
}

/// Everything in the policies that refers to entities, resolved.
pub(super) struct Rules {
    pub credentials: Vec<Credential>,
    pub flows: Flows,
    pub invariants: Vec<Invariant>,
    pub exceptions: Vec<Exception>,
    /// False when streaming gave up ([`super::resolve_streaming`]): the rest is empty.
    pub whole: bool,
}

impl Rules {
    fn given_up(credentials: Vec<Credential>) -> Self {
        Rules {
            credentials,
            flows: Flows::default(),
            invariants: Vec::new(),
            exceptions: Vec::new(),
            whole: false,
        }
    }
}

fn sources(files: &[ParsedFile]) -> impl Iterator<Item = (SourceId, &ParsedFile)> {
    files
        .iter()
        .enumerate()
        .map(|(index, file)| (SourceId(index as u32), file))
}

/// A selector list as a selection, or `None` after reporting why not.
fn selection(
    cx: &mut Context,
    model: &Model,
    resolver: &SelectorResolver,
    source: SourceId,
    list: &At<RawList>,
) -> Option<Selection> {
    let whole = cx.location(source, list);
    if list.value.0.is_empty() {
        cx.error(whole, Problem::NoSelector)
            .help("name at least one entity, `tag:NAME`, address or `any`");
        return None;
    }
    let texts = list.value.0.iter().map(|item| item.value.as_str());
    match union(model, resolver, texts) {
        Ok(selection) => Some(selection),
        Err(errors) => {
            for (index, error) in errors {
                let item = &list.value.0[index];
                let at = item_location(cx, source, item, whole);
                cx.error(at, error.problem).maybe_help(error.help);
            }
            None
        }
    }
}

/// What the shared selector lists of one file's flows resolved to, by
/// [`Items::shared_id`](crate::raw::Items::shared_id). Only lists that resolved are kept:
/// a list with a bad name is resolved again by every flow that holds it, so that each
/// reports its problems as if the list were its own. Valid while the file's raw flows
/// are, which keep the lists, and so their ids, alive.
#[derive(Default)]
struct SharedSelections(rustc_hash::FxHashMap<usize, Selection>);

impl SharedSelections {
    /// Every shared list that `items` hold, each resolved once before any flow is, side
    /// by side when `parallel`; so that the parts of a file that is cut into parts
    /// (see [`file_flows`]) read the same selections without resolving them again each.
    /// What a list that does not resolve would report is dropped here: each flow that
    /// holds it reports it in its turn.
    fn resolve(
        cx: &Context,
        (model, _, resolver): Known,
        source: SourceId,
        items: &[At<RawFlow>],
        parallel: bool,
    ) -> Self {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut lists = Vec::new();
        for item in items {
            for list in [&item.value.from, &item.value.to] {
                if let Some(id) = list.value.0.shared_id()
                    && seen.insert(id)
                {
                    lists.push((id, list));
                }
            }
        }
        let resolve = |scratch: &mut Context, &(id, list): &(usize, &At<RawList>)| {
            let resolved = selection(scratch, model, resolver, source, list);
            scratch.diagnostics.clear();
            // Shared, so that each flow's copy is a count, not its roots.
            resolved.map(|selection| (id, selection.into_shared()))
        };
        let scratch = || Context::empty(cx.sources.clone());
        let resolved = if parallel {
            (lists.par_iter())
                .map_init(scratch, resolve)
                .flatten()
                .collect()
        } else {
            let mut scratch = scratch();
            (lists.iter())
                .filter_map(|list| resolve(&mut scratch, list))
                .collect()
        };
        SharedSelections(resolved)
    }

    /// [`selection`], or what the shared list resolved to.
    fn selection(
        &self,
        cx: &mut Context,
        model: &Model,
        resolver: &SelectorResolver,
        source: SourceId,
        list: &At<RawList>,
    ) -> Option<Selection> {
        if let Some(id) = list.value.0.shared_id()
            && let Some(resolved) = self.0.get(&id)
        {
            return Some(resolved.clone());
        }
        selection(cx, model, resolver, source, list)
    }
}

/// Where a list item starts: its span, or after the fast JSON path, the line the
/// scanner found for it.
fn item_start<T>(
    cx: &Context,
    source: SourceId,
    item: &At<T>,
    json_lines: Option<&[u32]>,
    index: usize,
) -> Location {
    let at = cx.location(source, item);
    match json_lines.and_then(|lines| lines.get(index)) {
        Some(&line) if !at.is_known() => Location {
            source,
            line,
            column: 0,
        },
        _ => at,
    }
}

/// An item's own location, or its list's when the item was a lone scalar.
fn item_location<T>(cx: &Context, source: SourceId, item: &At<T>, whole: Location) -> Location {
    let at = cx.location(source, item);
    if at.is_known() { at } else { whole }
}

fn port_list(cx: &mut Context, source: SourceId, list: Option<&At<RawList>>) -> Vec<PortSpec> {
    let Some(list) = list else {
        return Vec::new();
    };
    let whole = cx.location(source, list);
    let mut specs = Vec::new();
    for item in &list.value.0 {
        match item.value.parse::<PortSpec>() {
            Ok(spec) => {
                if spec.includes_port_zero() {
                    let at = item_location(cx, source, item, whole);
                    cx.warn(
                        at,
                        Problem::PortZero {
                            text: item.value.to_string(),
                        },
                    )
                    .help("services listen on ports 1 to 65535: did you mean another port?");
                }
                specs.push(spec)
            }
            Err(()) => {
                let at = item_location(cx, source, item, whole);
                cx.error(
                    at,
                    Problem::BadPort {
                        text: item.value.to_string(),
                    },
                )
                .help(ports::suggestion(&item.value));
            }
        }
    }
    specs.sort_unstable();
    specs.dedup();
    specs
}

fn date(cx: &mut Context, source: SourceId, text: &At<String>) -> Option<Date> {
    match text.value.trim().parse::<Date>() {
        Ok(date) => Some(date),
        Err(()) => {
            let at = cx.location(source, text);
            let written = text.value.trim();
            if crate::date::written_as_date(written) {
                cx.error(
                    at,
                    Problem::NoSuchDate {
                        text: written.to_owned(),
                    },
                )
                .help(crate::date::why_not(written));
            } else {
                cx.error(
                    at,
                    Problem::BadDate {
                        text: text.value.clone(),
                    },
                )
                .help("write dates as `YYYY-MM-DD`, such as `2024-01-31`");
            }
            None
        }
    }
}

fn credentials(
    cx: &mut Context,
    files: &[ParsedFile],
    model: &Model,
    resolver: &SelectorResolver,
) -> Vec<Credential> {
    let mut names = NameTable::new("credential");
    let mut credentials = Vec::new();
    for (source, file) in sources(files) {
        for item in file.raw.credentials.iter().flatten() {
            let raw = &item.value;
            let at = cx.location(source, &raw.name);
            let claimed = names.claim(cx, &raw.name.value, at);
            if !claimed {
                redeclared_import(
                    cx,
                    files,
                    &raw.name.value,
                    (names.first(&raw.name.value), at),
                );
            }
            let holders = match &raw.held_by {
                Some(list) => selection(cx, model, resolver, source, list),
                None => Some(Selection::default()),
            };
            let status = match raw.status.as_ref().map(|s| s.value.trim()) {
                None | Some("active") => Some(CredentialStatus::Active),
                Some("revoked") => Some(CredentialStatus::Revoked),
                Some(other) => {
                    let status = raw.status.as_ref().map_or(at, |s| cx.location(source, s));
                    let help = did_you_mean(other, ["active", "revoked"])
                        .unwrap_or_else(|| "use `active` or `revoked`".to_owned());
                    cx.error(
                        status,
                        Problem::BadValue {
                            field: "status",
                            value: other.to_owned(),
                        },
                    )
                    .help(help);
                    None
                }
            };
            let rotated = raw.rotated.as_ref().map(|text| date(cx, source, text));
            if let (true, Some(holders), Some(status), None | Some(Some(_))) =
                (claimed, holders, status, rotated)
            {
                credentials.push(Credential {
                    name: raw.name.value.clone(),
                    holders,
                    leaked: raw.leaked.unwrap_or(false),
                    status,
                    kind: raw.kind.clone(),
                    description: raw.description.clone(),
                    owner: raw.owner.clone(),
                    rotated: rotated.flatten(),
                    location: at,
                    leaked_at: None,
                });
            }
        }
    }
    credentials.sort_by(|a, b| a.name.cmp(&b.name));
    credentials
}

/// Points a credential written by hand with the name of one that an importer read (or
/// the other way round) at `leaks`: a second declaration is what users write when they
/// mean that the credential the estate holds has leaked.
fn redeclared_import(
    cx: &mut Context,
    files: &[ParsedFile],
    name: &str,
    (first, at): (Option<Location>, Location),
) {
    let imported = |at: Location| {
        files
            .get(at.source.0 as usize)
            .is_some_and(|f| f.raw.imported)
    };
    if let Some(first) = first
        && imported(first) != imported(at)
        && let Some(duplicate) = cx.diagnostics.last_mut()
    {
        duplicate.help = Some(format!(
            "`{name}` is read from the estate: instead of declaring it by hand, say that it leaked with `leaks: [{{credential: '{name}'}}]`"
        ));
    }
}

/// Reports `name`, at `at`, as no credential's, with the closest name suggested.
pub(super) fn unknown_credential(
    cx: &mut Context,
    at: Location,
    name: &str,
    credentials: &[Credential],
) {
    let help = did_you_mean(name, credentials.iter().map(|c| c.name.as_str()));
    cx.error(
        at,
        Problem::UnknownName {
            what: "credential",
            name: name.to_owned(),
        },
    )
    .maybe_help(help);
}

/// Every file's flows, resolved, files in parallel. With `consume`, each file's raw
/// flows are dropped as soon as they are resolved, so that the raw and the resolved
/// forms of a million flows are never in memory together; and since the thread that
/// frees a file's raw flows goes on to allocate its resolved ones, the allocator reuses
/// that memory instead of asking the system for more.
fn flows(
    cx: &mut Context,
    files: &mut [ParsedFile],
    model: &Model,
    credentials: &[Credential],
    resolver: &SelectorResolver,
    consume: bool,
) -> Flows {
    let claimed = claim_flow_names(cx, files);
    let sources = &cx.sources;
    let files: Vec<(Vec<FlowPart>, Context)> = files
        .par_iter_mut()
        .zip(claimed)
        .enumerate()
        .map(|(index, (file, claimed))| {
            let mut local = Context::empty(sources.clone());
            let source = SourceId(index as u32);
            let flows = file.raw.flows.as_ref().map_or(0, Vec::len);
            let resolved = file_flows(
                &mut local,
                (model, credentials, resolver),
                source,
                file,
                consume,
                (Some(&claimed), part_len(flows)),
            );
            (resolved, local)
        })
        .collect();
    let mut parts = Vec::new();
    for (resolved, local) in files {
        cx.absorb(local);
        parts.extend(resolved);
    }
    Flows::from_parts(parts)
}

/// What a flow's selectors and `auth` are resolved against.
pub(super) type Known<'a> = (&'a Model, &'a [Credential], &'a SelectorResolver);

/// A file's flows are resolved in one part below this many. A larger file parsed up
/// front (an imported plan, a large policy) is cut into parts of at least this many,
/// which every core takes from; the files of flows alone that streaming defers are
/// resolved one per core already, and are not cut.
const MIN_PART: usize = 1024;

/// How many flows of a file of `flows` go into one part: a few parts per core, so that
/// a core that finishes early takes another, none smaller than [`MIN_PART`].
fn part_len(flows: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    flows.div_ceil(threads * 2).max(MIN_PART)
}

/// One file's flows, resolved in order into `local`'s problems and warnings, in parts
/// of `part_len` flows resolved side by side, joined in order: the flows, their names,
/// problems and warnings are those of the file resolved whole. A flow whose `claimed`
/// is false (another took its name first) is checked but left out; `None` claims all.
/// With `consume`, the file's raw flows are dropped here, by the thread that allocates
/// the resolved ones, so that the allocator reuses that memory instead of asking for
/// more; or, when it was cut into parts, on the thread pool.
fn file_flows(
    local: &mut Context,
    known: Known,
    source: SourceId,
    file: &mut ParsedFile,
    consume: bool,
    (claimed, part_len): (Option<&[bool]>, usize),
) -> Vec<FlowPart> {
    let taken = if consume { file.raw.flows.take() } else { None };
    let items = taken
        .as_deref()
        .or(file.raw.flows.as_deref())
        .unwrap_or_default();
    let lines = file.json_lines.as_ref().map(|lines| lines.flows.as_slice());
    let part_len = part_len.max(1);
    let parted = items.len() > part_len;
    let shared = SharedSelections::resolve(local, known, source, items, parted);
    let written = FileFlows {
        source,
        lines,
        claimed,
        shared: &shared,
    };
    if !parted {
        return vec![flows_part(local, known, &written, items, 0)];
    }
    let sources = &local.sources;
    let parts: Vec<(FlowPart, Context)> = items
        .par_chunks(part_len)
        .enumerate()
        .map(|(index, chunk)| {
            let mut cx = Context::empty(sources.clone());
            let part = flows_part(&mut cx, known, &written, chunk, index * part_len);
            (part, cx)
        })
        .collect();
    if let Some(taken) = taken {
        // Resolved on every thread, not by one that would reuse their memory: freed on
        // the pool, beside what comes next.
        rayon::spawn(move || drop(taken));
    }
    parts
        .into_iter()
        .map(|(part, cx)| {
            local.absorb(cx);
            part
        })
        .collect()
}

/// What every part of one file's flows reads: where the file's flows are, which of
/// them claimed their names, and its shared lists resolved.
struct FileFlows<'a> {
    source: SourceId,
    /// Each flow's line, when the file was read without positions.
    lines: Option<&'a [u32]>,
    claimed: Option<&'a [bool]>,
    shared: &'a SharedSelections,
}

/// The flows `items`, the file's from its `first`, resolved in order into `cx`.
fn flows_part(
    cx: &mut Context,
    (model, credentials, resolver): Known,
    written: &FileFlows,
    items: &[At<RawFlow>],
    first: usize,
) -> FlowPart {
    // Flows share port lists within their part: no lock between parts.
    let mut port_lists = PortLists::default();
    // Sized exactly: a file's flows grown by doubling leave their abandoned buffers in
    // the allocator's arenas, and a million flows' worth of them outlives the file.
    let mut resolved = FlowPart::with_capacity(items.len());
    for (index, item) in (first..).zip(items) {
        let at = item_start(cx, written.source, item, written.lines, index);
        let flow = flow(
            cx,
            model,
            credentials,
            resolver,
            (&mut port_lists, written.shared),
            at,
            &item.value,
        );
        let claimed = written
            .claimed
            .is_none_or(|claimed| claimed.get(index).copied().unwrap_or(true));
        if let Some(flow) = flow.filter(|_| claimed) {
            let name = item.value.name.as_ref().map(|name| name.value.as_str());
            resolved.push(name, flow);
        }
    }
    resolved
}

/// Every file's flows, files in parallel, as [`flows`] resolves them, except that a
/// deferred file is parsed first by the thread that resolves it, and dropped (raw form,
/// text and line table) before that thread takes another file. A deferred JSON file is
/// first read straight into resolved flows ([`fast_flows`]); only if that gives up is it
/// parsed into raw flows, from the same bytes. False beside them when
/// streaming must give up: a deferred file does not parse, holds more than flows or a
/// `version` other than 1, or two flows anywhere may share a name.
///
/// Names cannot be claimed in file order as [`claim_flow_names`] does, since the raw
/// flows of every file are never in memory together: each file gives a hash of each of
/// its flows' names instead, and any two equal hashes, a duplicate or a collision, make
/// streaming give up so that the eager path tells which.
fn streamed_flows(
    cx: &mut Context,
    files: &mut [ParsedFile],
    known: Known,
    parsed: &(dyn Fn(u64) + Sync),
) -> (Flows, bool) {
    let sources = &cx.sources;
    let parts: Option<Vec<StreamedFile>> = files
        .par_iter_mut()
        .enumerate()
        .map(|(index, file)| {
            let source = SourceId(index as u32);
            let local = Context::empty(sources.clone());
            if !file.deferred {
                // A file parsed up front (a plan an importer read, a policy with more
                // than flows) may be large: it is cut into parts. Deferred files are
                // many and resolved side by side already, one per core.
                let flows = file.raw.flows.as_ref().map_or(0, Vec::len);
                return Some(file_streamed(local, known, source, file, part_len(flows)));
            }
            let bytes = crate::load::reread_deferred(file).ok()?;
            parsed(bytes.len() as u64);
            if file.found.format == Format::Json
                && let Some((resolved, names)) = fast_flows::resolve_json(&bytes, known, source)
            {
                // As after a parse by `serde_json`: no positions, nothing left to parse.
                file.has_positions = false;
                file.deferred = false;
                return Some((vec![resolved], local, names));
            }
            crate::load::parse_deferred_bytes(file, bytes).ok()?;
            if !flows_alone(&file.raw) {
                return None;
            }
            let streamed = file_streamed(local, known, source, file, usize::MAX);
            // The flows are all that the file held; its digest and whether it had
            // positions stay, for the sources and the warnings.
            file.raw = crate::raw::RawFile::default();
            file.bytes = Vec::new();
            file.json_lines = None;
            Some(streamed)
        })
        .collect();
    let Some(parts) = parts else {
        return (Flows::default(), false);
    };
    let mut names: Vec<u64> = parts
        .iter()
        .flat_map(|(_, _, names)| names)
        .copied()
        .collect();
    names.sort_unstable();
    if names.windows(2).any(|pair| pair[0] == pair[1]) {
        return (Flows::default(), false);
    }
    drop(names);
    let mut flows = Vec::new();
    for (resolved, local, _) in parts {
        cx.absorb(local);
        flows.extend(resolved);
    }
    (Flows::from_parts(flows), true)
}

/// One parsed file's flows resolved as [`streamed_flows`] needs them, in parts of
/// `part_len`, its raw flows dropped.
fn file_streamed(
    mut local: Context,
    known: Known,
    source: SourceId,
    file: &mut ParsedFile,
    part_len: usize,
) -> StreamedFile {
    let names = file
        .raw
        .flows
        .iter()
        .flatten()
        .filter_map(|item| item.value.name.as_ref())
        .map(|name| rustc_hash::FxBuildHasher.hash_one(name.value.as_str()))
        .collect();
    let resolved = file_flows(&mut local, known, source, file, true, (None, part_len));
    (resolved, local, names)
}

/// One file's share of [`streamed_flows`]: its flows, its problems and warnings, and a
/// hash of each flow name.
type StreamedFile = (Vec<FlowPart>, Context, Vec<u64>);

/// Whether a deferred file, once parsed, holds flows and a `version` of 1 alone, as the
/// scan that deferred it judged.
fn flows_alone(raw: &crate::raw::RawFile) -> bool {
    let version_ok = raw
        .version
        .as_ref()
        .is_none_or(|version| version.value.trim() == "1");
    version_ok
        && !raw.imported
        && raw.environments.is_none()
        && raw.accounts.is_none()
        && raw.segments.is_none()
        && raw.assets.is_none()
        && raw.credentials.is_none()
        && raw.invariants.is_none()
        && raw.exceptions.is_none()
        && raw.imports.is_none()
}

/// A flow's `ports`, `any` when it has none, from `port_lists`. A shared list (an
/// importer's) is parsed once, and what it parsed to reused by every flow that holds
/// it, unless it gave a problem or a warning: then each flow parses it again, so that
/// each reports it at its own place.
fn flow_ports(
    cx: &mut Context,
    source: SourceId,
    port_lists: &mut PortLists,
    list: Option<&At<RawList>>,
) -> PortList {
    let shared = list.and_then(|list| list.value.0.shared_id());
    if let Some(known) = shared.and_then(|id| port_lists.parsed(id)) {
        return known;
    }
    let reported = (cx.diagnostics.len(), cx.warnings.len());
    let mut ports = port_list(cx, source, list);
    if list.is_none() {
        ports.push(PortSpec::ANY);
    }
    let ports = port_lists.intern(&ports);
    if let Some(id) = shared
        && reported == (cx.diagnostics.len(), cx.warnings.len())
    {
        port_lists.remember(id, ports.clone());
    }
    ports
}

/// One flow, or `None` after reporting what is wrong with it.
fn flow(
    cx: &mut Context,
    model: &Model,
    credentials: &[Credential],
    resolver: &SelectorResolver,
    (port_lists, shared): (&mut PortLists, &SharedSelections),
    at: Location,
    raw: &RawFlow,
) -> Option<Flow> {
    let source = at.source;
    let from = shared.selection(cx, model, resolver, source, &raw.from);
    let to = shared.selection(cx, model, resolver, source, &raw.to);
    let errors_before = cx.diagnostics.len();
    let ports = flow_ports(cx, source, port_lists, raw.ports.as_ref());
    if let Some(list) = raw.ports.as_ref().filter(|list| list.value.0.is_empty()) {
        // JSON read by the fast path has no positions but the flow's line.
        let own = cx.location(source, list);
        let at = if own.is_known() { own } else { at };
        cx.warn(at, Problem::NoPorts)
            .help("leave `ports` out to allow every port, or list the ports it allows");
    }
    let mut auth = Vec::new();
    if let Some(list) = &raw.auth {
        let whole = cx.location(source, list);
        for name in &list.value.0 {
            match find_credential(credentials, &name.value) {
                Some(id) => auth.push(id),
                None => {
                    let name_at = item_location(cx, source, name, whole);
                    unknown_credential(cx, name_at, &name.value, credentials);
                }
            }
        }
    }
    auth.sort_unstable();
    auth.dedup();
    let (from, to) = (from?, to?);
    (cx.diagnostics.len() == errors_before).then(|| {
        let notes = FlowNotes {
            auth: auth.into_boxed_slice(),
            kind: raw.kind.clone(),
            description: raw.description.clone(),
            owner: raw.owner.clone(),
            ticket: raw.ticket.clone(),
        };
        Flow::new(from, to, ports, notes, at)
    })
}

/// Claims every flow's name, in file order, while all of them can be borrowed: per
/// file, whether each flow's name was its own (an unnamed flow's always is).
fn claim_flow_names(cx: &mut Context, files: &[ParsedFile]) -> Vec<Vec<bool>> {
    let count = files
        .iter()
        .map(|f| f.raw.flows.as_ref().map_or(0, Vec::len))
        .sum();
    let mut names = NameTable::with_capacity("flow", count);
    sources(files)
        .map(|(source, file)| {
            file.raw
                .flows
                .iter()
                .flatten()
                .map(|item| match &item.value.name {
                    Some(name) => {
                        let at = cx.location(source, name);
                        names.claim(cx, &name.value, at)
                    }
                    None => true,
                })
                .collect()
        })
        .collect()
}

/// Whether a selector list names `any`, which at an invariant's end means "everything
/// else" rather than "everything".
fn names_any(list: &At<RawList>) -> bool {
    list.value.0.iter().any(|item| item.value.trim() == ANY)
}

fn list_text(list: &At<RawList>) -> String {
    let texts: Vec<&str> = list.value.0.iter().map(|item| item.value.trim()).collect();
    texts.join(", ")
}

/// One end of an invariant; `None` for `any`, which is resolved against the others.
fn end(
    cx: &mut Context,
    model: &Model,
    resolver: &SelectorResolver,
    source: SourceId,
    list: &At<RawList>,
) -> Result<Option<End>, ()> {
    if names_any(list) {
        return Ok(None);
    }
    match selection(cx, model, resolver, source, list) {
        Some(selection) => Ok(Some(End {
            selection,
            text: list_text(list),
        })),
        None => Err(()),
    }
}

fn any_end(model: &Model, others: &[Option<&End>]) -> End {
    let mut excluded = Selection::default();
    for other in others.iter().flatten() {
        excluded = excluded.union(model, &other.selection);
    }
    End {
        selection: excluded.complement(model),
        text: ANY.to_owned(),
    }
}

fn invariants(
    cx: &mut Context,
    files: &[ParsedFile],
    model: &Model,
    resolver: &SelectorResolver,
) -> Vec<Invariant> {
    let mut names = NameTable::new("invariant");
    let mut invariants = Vec::new();
    for (source, file) in sources(files) {
        let lines = file
            .json_lines
            .as_ref()
            .map(|lines| lines.invariants.as_slice());
        for (index, item) in file.raw.invariants.iter().flatten().enumerate() {
            let raw = &item.value;
            let at = item_start(cx, source, &raw.name, lines, index);
            let claimed = names.claim(cx, &raw.name.value, at);
            let severity = match &raw.severity {
                None => Some(Severity::High),
                Some(text) => Severity::parse(text.value.trim()).or_else(|| {
                    let severity_at = cx.location(source, text);
                    let help = did_you_mean(&text.value, Severity::NAMES)
                        .unwrap_or_else(|| "use `critical`, `high`, `medium` or `low`".to_owned());
                    cx.error(
                        severity_at,
                        Problem::BadValue {
                            field: "severity",
                            value: text.value.clone(),
                        },
                    )
                    .help(help);
                    None
                }),
            };
            let mut kinds = Vec::new();
            if raw.forbid.is_some() {
                kinds.push("`forbid`");
            }
            if raw.require.is_some() {
                kinds.push("`require`");
            }
            if raw.through.is_some() {
                kinds.push("`through`");
            }
            let rule =
                match (&raw.forbid, &raw.require, &raw.through) {
                    (Some(ends), None, None) => ends_rule(cx, model, resolver, source, ends).map(
                        |(from, to, ports, direct)| Rule::Forbid {
                            from,
                            to,
                            ports,
                            direct,
                        },
                    ),
                    (None, Some(ends), None) => ends_rule(cx, model, resolver, source, ends).map(
                        |(from, to, ports, direct)| Rule::Require {
                            from,
                            to,
                            ports,
                            direct,
                        },
                    ),
                    (None, None, Some(through)) => {
                        through_rule(cx, model, resolver, source, through)
                    }
                    (None, None, None) => {
                        cx.error(
                            at,
                            Problem::NoInvariantKind {
                                name: raw.name.value.clone(),
                            },
                        )
                        .help("add one of `forbid`, `require` or `through`");
                        None
                    }
                    _ => {
                        cx.error(
                            at,
                            Problem::ManyInvariantKinds {
                                name: raw.name.value.clone(),
                                kinds: kinds.join(", "),
                            },
                        )
                        .help("split it into one invariant per kind");
                        None
                    }
                };
            if let (true, Some(severity), Some(rule)) = (claimed, severity, rule) {
                invariants.push(Invariant {
                    name: raw.name.value.clone(),
                    description: raw.description.clone(),
                    severity,
                    references: raw.references.clone().unwrap_or_default(),
                    rule,
                    location: at,
                });
            }
        }
    }
    invariants
}

type Ends = (End, End, Vec<PortSpec>, bool);

/// Checks that an invariant's two ends are disjoint, and resolves an `any` end against
/// the other end and `via`.
fn pair_ends(
    cx: &mut Context,
    model: &Model,
    at: Location,
    from: Option<End>,
    to: Option<End>,
    via: Option<&End>,
) -> Option<(End, End)> {
    match (from, to) {
        (Some(from), Some(to)) => {
            if let Some(shared) = from.selection.overlap(model, &to.selection) {
                let shared = model.entity(shared).name.clone();
                cx.error(
                    at,
                    Problem::Overlap {
                        first: "from",
                        second: "to",
                        entity: shared,
                    },
                )
                .help("an invariant's ends must be disjoint: narrow one of them");
                return None;
            }
            Some((from, to))
        }
        (Some(from), None) => {
            let to = any_end(model, &[Some(&from), via]);
            Some((from, to))
        }
        (None, Some(to)) => Some((any_end(model, &[Some(&to), via]), to)),
        (None, None) => {
            cx.error(
                at,
                Problem::Overlap {
                    first: "from",
                    second: "to",
                    entity: ANY.to_owned(),
                },
            )
            .help("`any` may stand at one end only");
            None
        }
    }
}

fn ends_rule(
    cx: &mut Context,
    model: &Model,
    resolver: &SelectorResolver,
    source: SourceId,
    ends: &At<RawEnds>,
) -> Option<Ends> {
    let raw = &ends.value;
    let at = cx.location(source, ends);
    let errors_before = cx.diagnostics.len();
    let from = end(cx, model, resolver, source, &raw.from);
    let to = end(cx, model, resolver, source, &raw.to);
    let ports = port_list(cx, source, raw.ports.as_ref());
    if let Some(list) = raw.ports.as_ref().filter(|list| list.value.0.is_empty()) {
        // The last flow must allow one of the ports listed, and none is: read literally,
        // nothing arrives, so a `forbid` would hold whatever the flows.
        cx.error(cx.location(source, list), Problem::NoInvariantPorts)
            .help("leave `ports` out to ask about every port, or list the ports to ask about");
    }
    let (Ok(from), Ok(to)) = (from, to) else {
        return None;
    };
    let (from, to) = pair_ends(cx, model, at, from, to, None)?;
    if cx.diagnostics.len() != errors_before {
        return None;
    }
    Some((from, to, ports, raw.direct.unwrap_or(false)))
}

fn through_rule(
    cx: &mut Context,
    model: &Model,
    resolver: &SelectorResolver,
    source: SourceId,
    through: &At<RawThrough>,
) -> Option<Rule> {
    let raw = &through.value;
    let at = cx.location(source, through);
    let from = end(cx, model, resolver, source, &raw.from);
    let to = end(cx, model, resolver, source, &raw.to);
    let via = end(cx, model, resolver, source, &raw.via);
    let (Ok(from), Ok(to), Ok(via)) = (from, to, via) else {
        return None;
    };
    let Some(via) = via else {
        cx.error(
            at,
            Problem::Overlap {
                first: "via",
                second: "from",
                entity: ANY.to_owned(),
            },
        )
        .help("`via` must name the entities every path passes through");
        return None;
    };
    let mut overlapping = false;
    for (name, end) in [("from", &from), ("to", &to)] {
        if let Some(end) = end
            && let Some(shared) = via.selection.overlap(model, &end.selection)
        {
            let shared = model.entity(shared).name.clone();
            cx.error(
                at,
                Problem::Overlap {
                    first: "via",
                    second: name,
                    entity: shared,
                },
            )
            .help("`via` must be disjoint from both ends");
            overlapping = true;
        }
    }
    if overlapping {
        return None;
    }
    let (from, to) = pair_ends(cx, model, at, from, to, Some(&via))?;
    Some(Rule::Through { from, to, via })
}

fn exceptions(
    cx: &mut Context,
    files: &[ParsedFile],
    model: &Model,
    flows: &Flows,
    flows_complete: bool,
    invariants: &[Invariant],
) -> Vec<Exception> {
    let mut exceptions = Vec::new();
    for (source, file) in sources(files) {
        let lines = file
            .json_lines
            .as_ref()
            .map(|lines| lines.exceptions.as_slice());
        for (index, item) in file.raw.exceptions.iter().flatten().enumerate() {
            let raw = &item.value;
            let at = item_start(cx, source, item, lines, index);
            let invariant = invariants
                .iter()
                .position(|invariant| invariant.name == raw.invariant.value)
                .map(|index| InvariantId(index as u32));
            // An invariant that is written but did not resolve has had its own error;
            // its exceptions are not unknown as well.
            let written = || {
                files.iter().any(|file| {
                    (file.raw.invariants.iter().flatten())
                        .any(|written| written.value.name.value == raw.invariant.value)
                })
            };
            if invariant.is_none() && !written() {
                let invariant_at = cx.location(source, &raw.invariant);
                let help = did_you_mean(
                    &raw.invariant.value,
                    invariants.iter().map(|i| i.name.as_str()),
                );
                cx.error(
                    invariant_at,
                    Problem::UnknownName {
                        what: "invariant",
                        name: raw.invariant.value.clone(),
                    },
                )
                .maybe_help(help);
            }
            let expires = date(cx, source, &raw.expires);
            let raw_path = raw.path.as_deref().unwrap_or_default();
            let path = if raw_path.is_empty() {
                Some(Vec::new())
            } else {
                pinned_route(
                    cx,
                    model,
                    flows,
                    invariant.map(|id| &invariants[id.index()]),
                    Written {
                        source,
                        at,
                        raw: raw_path,
                    },
                    flows_complete,
                )
            };
            if let (Some(invariant), Some(expires), Some(path)) = (invariant, expires, path) {
                exceptions.push(Exception {
                    invariant,
                    reason: raw.reason.clone(),
                    owner: raw.owner.clone(),
                    expires,
                    path,
                    location: at,
                });
            }
        }
    }
    exceptions
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use crate::load::{self, Format, FoundFile, ParsedFile};
    use crate::raw::Items;

    const ASSETS: &str = "assets:\n  - {name: a}\n  - {name: b}\n  - {name: c}\nflows:\n";

    /// `text` parsed, with the `to` list of its first flow given to every flow, shared
    /// as an importer shares it.
    fn parsed(text: &str, share: bool) -> ParsedFile {
        let found = FoundFile {
            path: PathBuf::from("p.yaml"),
            display: "p.yaml".to_owned(),
            format: Format::Yaml,
        };
        let mut file = load::parse(found, text.as_bytes().to_vec())
            .ok()
            .and_then(|contents| contents.policy)
            .unwrap();
        if share {
            let flows = file.raw.flows.as_mut().unwrap();
            let items: Arc<[_]> = flows[0].value.to.value.0.to_vec().into();
            for flow in flows.iter_mut() {
                flow.value.to.value.0 = Items::Shared(Arc::clone(&items));
            }
        }
        file
    }

    /// `text` parsed, with the `to` list of its first flow given to each flow that
    /// `share` marks, shared as an importer shares it.
    fn parsed_sharing(text: &str, share: &[bool]) -> ParsedFile {
        let mut file = parsed(text, false);
        let flows = file.raw.flows.as_mut().unwrap();
        let items: Arc<[_]> = flows[0].value.to.value.0.to_vec().into();
        for (flow, _) in flows.iter_mut().zip(share).filter(|(_, share)| **share) {
            flow.value.to.value.0 = Items::Shared(Arc::clone(&items));
        }
        file
    }

    /// What resolving `file`'s flows in parts of `part_len` gives: the flows with their
    /// names, the problems and the warnings, each as `Debug` shows them; and how many
    /// parts there were.
    fn resolved_in_parts(mut file: ParsedFile, part_len: usize) -> (String, String, String, usize) {
        let files = std::slice::from_mut(&mut file);
        let mut cx = super::Context::empty(crate::resolve::sources(files));
        let model = crate::resolve::entities::resolve_entities(&mut cx, files);
        let resolver = super::SelectorResolver::new(&model);
        let credentials = super::credentials(&mut cx, files, &model, &resolver);
        let claimed = super::claim_flow_names(&mut cx, files);
        let parts = super::file_flows(
            &mut cx,
            (&model, &credentials, &resolver),
            super::SourceId(0),
            &mut files[0],
            true,
            (Some(&claimed[0]), part_len),
        );
        let count = parts.len();
        let flows = super::Flows::from_parts(parts);
        (
            format!("{flows:?}"),
            format!("{:?}", cx.diagnostics),
            format!("{:?}", cx.warnings),
            count,
        )
    }

    #[test]
    fn a_file_resolved_in_parts_is_the_file_resolved_whole() {
        // A problem in the first flow and in the last, a warning between them, a name
        // taken twice, and a shared list with a bad name held in every part.
        let text = "assets:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n\
            credentials:\n  - {name: key, held_by: a}\n\
            flows:\n\
            \x20 - {name: f1, from: nope, to: [b, bad]}\n\
            \x20 - {name: f2, from: a, to: b, ports: [tcp/0]}\n\
            \x20 - {name: f1, from: b, to: c}\n\
            \x20 - {from: c, to: a, auth: [key]}\n\
            \x20 - {name: f5, from: a, to: c, ports: [tcp/443, udp/53]}\n\
            \x20 - {name: f6, from: b, to: a, ports: [tcp/443, udp/53]}\n\
            \x20 - {name: f7, from: c, to: b, auth: [nokey], ports: [http]}\n";
        let share = [true, false, false, true, false, true, true];
        let whole = resolved_in_parts(parsed_sharing(text, &share), usize::MAX);
        assert_eq!(whole.3, 1);
        for needle in ["\"nope\"", "\"bad\"", "\"nokey\"", "\"http\"", "\"f1\""] {
            assert!(whole.1.contains(needle), "{needle} not in {}", whole.1);
        }
        // The bad name of the shared list, once per flow that holds it.
        assert_eq!(whole.1.matches("name: \"bad\"").count(), 4);
        assert!(whole.2.contains("PortZero"), "{}", whole.2);
        for part_len in 1..=7 {
            let parted = resolved_in_parts(parsed_sharing(text, &share), part_len);
            assert_eq!(parted.3, 7usize.div_ceil(part_len));
            assert_eq!(parted.0, whole.0, "flows in parts of {part_len}");
            assert_eq!(parted.1, whole.1, "problems in parts of {part_len}");
            assert_eq!(parted.2, whole.2, "warnings in parts of {part_len}");
        }
    }

    /// `text` parsed, the `ports` of its first flow given to every flow, shared or each
    /// a copy; its items without a place of their own, as the Terraform importer writes
    /// them, so that what is reported is at each flow's line either way.
    fn parsed_sharing_ports(text: &str, share: bool) -> ParsedFile {
        let mut file = parsed(text, false);
        let flows = file.raw.flows.as_mut().unwrap();
        let first = flows[0].value.ports.as_ref().unwrap();
        let items: Arc<[_]> = (first.value.0.iter())
            .map(|item| crate::raw::At {
                value: item.value.clone(),
                line: 0,
                column: 0,
            })
            .collect();
        for flow in flows.iter_mut() {
            let list = match share {
                true => Items::Shared(Arc::clone(&items)),
                false => Items::Many(items.to_vec()),
            };
            flow.value.ports = Some(crate::raw::At {
                value: crate::raw::RawList(list),
                line: flow.line,
                column: 0,
            });
        }
        file
    }

    #[test]
    fn a_shared_port_list_is_parsed_once_unless_it_reports() {
        let cases = [
            ("[tcp/443, udp/53]", 0, 0),
            ("[tcp/0]", 0, 3),
            ("[tcp/443, nonsense]", 3, 0),
            ("[]", 0, 3),
        ];
        for (ports, problems, warnings) in cases {
            let text = format!(
                "{ASSETS}  - {{from: a, to: b, ports: {ports}}}\n  - {{from: b, to: c}}\n  - {{from: c, to: a}}\n"
            );
            let copies = resolved_in_parts(parsed_sharing_ports(&text, false), usize::MAX);
            let shared = resolved_in_parts(parsed_sharing_ports(&text, true), usize::MAX);
            assert_eq!(shared, copies, "{ports}");
            // Reported by each flow that holds the list, at its own line.
            assert_eq!(shared.1.matches("line: ").count(), problems, "{ports}");
            assert_eq!(shared.2.matches("line: ").count(), warnings, "{ports}");
            for line in [6, 7, 8].iter().filter(|_| problems + warnings > 0) {
                assert!(format!("{}{}", shared.1, shared.2).contains(&format!("line: {line},")));
            }
        }
    }

    proptest::proptest! {
        /// Small files of flows that name good and bad entities, credentials and ports,
        /// repeat names and share lists: resolved in parts of any size, each gives what
        /// it gives whole.
        #[test]
        fn parts_of_any_size_resolve_as_the_whole(
            flows in proptest::collection::vec(
                (0..5usize, 0..5usize, 0..5usize, 0..4usize, 0..4usize, proptest::bool::ANY),
                1..12,
            ),
            part_len in 1..6usize,
        ) {
            let ends = ["a", "b", "c", "[a, b]", "nope"];
            let ports = ["", ", ports: [tcp/443]", ", ports: [tcp/0, udp/53]", ", ports: [http]"];
            let auth = ["", ", auth: [key]", ", auth: [nokey]", ", auth: [key, key]"];
            let mut text = String::from(
                "assets:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n\
                 credentials:\n  - {name: key, held_by: a}\nflows:\n",
            );
            let mut share = Vec::new();
            for (from, to, name, port, key, shared) in &flows {
                let name = match name {
                    0 => String::new(),
                    n => format!("name: f{n}, "),
                };
                text.push_str(&format!(
                    "  - {{{name}from: {}, to: {}{}{}}}\n",
                    ends[*from], ends[*to], ports[*port], auth[*key]
                ));
                share.push(*shared);
            }
            let whole = resolved_in_parts(parsed_sharing(&text, &share), usize::MAX);
            let parted = resolved_in_parts(parsed_sharing(&text, &share), part_len);
            proptest::prop_assert_eq!(parted.3, flows.len().div_ceil(part_len));
            proptest::prop_assert_eq!(parted.0, whole.0);
            proptest::prop_assert_eq!(parted.1, whole.1);
            proptest::prop_assert_eq!(parted.2, whole.2);
        }
    }

    #[test]
    fn a_shared_list_resolves_as_the_list_it_is() {
        let text = format!(
            "{ASSETS}  - {{from: a, to: [b, c]}}\n  - {{from: b, to: c}}\n  - {{from: c, to: a}}\n"
        );
        let model = crate::resolve::resolve(&mut [parsed(&text, true)], false).unwrap();
        let names = |selection: &crate::model::Selection| -> Vec<String> {
            let mut names: Vec<String> = (selection.roots().iter())
                .map(|id| model.entity(*id).name.clone())
                .collect();
            names.sort();
            names
        };
        let ends: Vec<(Vec<String>, Vec<String>)> = model
            .flows
            .iter()
            .map(|flow| (names(&flow.from), names(&flow.to)))
            .collect();
        let to = vec!["b".to_owned(), "c".to_owned()];
        assert_eq!(
            ends,
            [
                (vec!["a".to_owned()], to.clone()),
                (vec!["b".to_owned()], to.clone()),
                (vec!["c".to_owned()], to),
            ]
        );
        // Resolved once and held once: every flow's end points at the same roots.
        let flows: Vec<_> = model.flows.iter().collect();
        assert!(std::ptr::eq(flows[0].to.roots(), flows[1].to.roots()));
        assert!(std::ptr::eq(flows[0].to.roots(), flows[2].to.roots()));
    }

    #[test]
    fn a_bad_name_in_a_shared_list_is_reported_by_every_flow_at_its_own_place() {
        let text = format!("{ASSETS}  - {{from: a, to: [b, nope]}}\n  - {{from: b, to: c}}\n");
        let problems = |share| {
            let Err(diagnostics) = crate::resolve::resolve(&mut [parsed(&text, share)], false)
            else {
                panic!("`nope` resolved");
            };
            diagnostics
                .iter()
                .map(|d| (d.line, d.column, d.problem.to_string(), d.help.clone()))
                .collect::<Vec<_>>()
        };
        let alone = problems(false);
        assert_eq!(alone.len(), 1);
        assert_eq!((alone[0].0, alone[0].1), (6, 23));
        // Not remembered as resolved: the second flow reports it again, at the item.
        assert_eq!(problems(true), [alone[0].clone(), alone[0].clone()]);
    }
}
