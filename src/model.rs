//! The resolved model: every name checked, every selector turned into entities, every
//! reference an id. Holds no serde types and knows nothing of files or graphs.

use std::fmt;
use std::sync::Arc;

use ipnet::IpNet;

use crate::date::Date;
use crate::location::{Location, Sources};
use crate::port_list::PortList;
use crate::ports::PortSpec;

mod flows;

pub use flows::{FlowPart, Flows};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// An entity, in name order: ids sort as names do.
    EntityId
);
id_type!(
    /// A flow, in file and line order.
    FlowId
);
id_type!(
    /// A credential, in name order.
    CredentialId
);
id_type!(
    /// An invariant, in file and line order.
    InvariantId
);

/// The four kinds of entity, from the outside in, and the built-in `internet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Asset,
    Segment,
    Account,
    Environment,
    Internet,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Environment => "environment",
            EntityKind::Account => "account",
            EntityKind::Segment => "segment",
            EntityKind::Asset => "asset",
            EntityKind::Internet => "internet",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const INTERNET: &str = "internet";
pub const ANY: &str = "any";

#[derive(Clone, Debug)]
pub struct Entity {
    pub name: String,
    pub kind: EntityKind,
    pub parent: Option<EntityId>,
    pub children: Vec<EntityId>,
    /// The ranges the policy gives this entity.
    pub cidrs: Vec<IpNet>,
    /// For a leaf, its own ranges or else those of its nearest ancestor that has some.
    pub ranges: Vec<IpNet>,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub provider: Option<String>,
    pub account_id: Option<String>,
    /// `None` only for the built-in `internet`.
    pub location: Option<Location>,
}

impl Entity {
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }
}

/// A set of entities that is closed downwards (an entity selected means everything inside
/// it is selected), kept as its outermost members. A flow between two groups thus stays
/// one edge per outermost member instead of one per pair of leaves.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The roots, sorted, without repeats, none inside another; with their subtrees as
    /// pre-order ranges, sorted: membership is one binary search however deep the
    /// containment tree is.
    roots: Roots,
}

/// A selection's roots and spans. Most flows name one entity at each end, so a single
/// root is kept inline: a million flows then need no allocation for their ends, and
/// a selection costs 16 bytes instead of two vectors' 48 and their two allocations.
/// Many roots that several flows hold (the flows an importer gives one end list: a
/// security group's holders, say) are `Shared`, so that each holds a count rather
/// than a copy; the others stay in a `Box`, whose allocation is 16 bytes smaller than
/// an `Arc`'s, which a million flows would feel in their peak memory.
#[derive(Clone, Debug, Default)]
enum Roots {
    #[default]
    Empty,
    One(EntityId, Span),
    Many(Box<ManyRoots>),
    Shared(Arc<ManyRoots>),
}

#[derive(Clone, Debug)]
struct ManyRoots {
    roots: Vec<EntityId>,
    spans: Vec<Span>,
}

// Selections compare, order and hash as their roots and spans would, as the two
// vectors they once were did.
impl PartialEq for Selection {
    fn eq(&self, other: &Self) -> bool {
        (self.roots(), self.spans()) == (other.roots(), other.spans())
    }
}

impl Eq for Selection {}

impl PartialOrd for Selection {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Selection {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.roots(), self.spans()).cmp(&(other.roots(), other.spans()))
    }
}

impl std::hash::Hash for Selection {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.roots().hash(state);
        self.spans().hash(state);
    }
}

impl Selection {
    /// Builds a selection from any entities; those inside another are dropped.
    pub fn from_entities(model: &Model, mut entities: Vec<EntityId>) -> Selection {
        match entities[..] {
            [] => return Selection::default(),
            [entity] => return Selection::of_entity(model, entity),
            _ => {}
        }
        // Selections are built once per selector of every flow, so this costs the
        // selection's own size (and its logarithm), never the model's or its depth.
        // Each entity's span is looked up once: sorted by span, an entity is outermost
        // when the last outermost span before it does not hold it, and the spans kept
        // are already the sorted spans the selection stores.
        let mut by_span: Vec<(Span, EntityId)> = entities
            .iter()
            .map(|&entity| (model.span(entity), entity))
            .collect();
        by_span.sort_unstable();
        by_span.dedup();
        let mut spans: Vec<Span> = Vec::with_capacity(by_span.len());
        entities.clear();
        for (span, entity) in by_span {
            if spans.last().is_none_or(|last| !last.holds(span)) {
                spans.push(span);
                entities.push(entity);
            }
        }
        if let [entity] = entities[..] {
            return Selection::of_entity(model, entity);
        }
        entities.sort_unstable();
        Selection {
            roots: Roots::Many(Box::new(ManyRoots {
                roots: entities,
                spans,
            })),
        }
    }

    /// The selection of one entity and everything inside it. Most selectors name one
    /// entity, so this case allocates nothing.
    pub fn of_entity(model: &Model, entity: EntityId) -> Selection {
        Selection {
            roots: Roots::One(entity, model.span(entity)),
        }
    }

    /// A selection of roots that are known to be sorted, distinct and none inside another.
    fn of_roots(model: &Model, roots: Vec<EntityId>) -> Selection {
        let roots = match roots[..] {
            [] => Roots::Empty,
            [root] => Roots::One(root, model.span(root)),
            _ => {
                let mut spans: Vec<Span> = roots.iter().map(|&root| model.span(root)).collect();
                spans.sort_unstable();
                Roots::Many(Box::new(ManyRoots { roots, spans }))
            }
        };
        Selection { roots }
    }

    /// The same selection, made cheap to clone: for one that many flows hold.
    pub fn into_shared(self) -> Selection {
        let roots = match self.roots {
            Roots::Many(many) => Roots::Shared(Arc::from(many)),
            other => other,
        };
        Selection { roots }
    }

    pub fn roots(&self) -> &[EntityId] {
        match &self.roots {
            Roots::Empty => &[],
            Roots::One(root, _) => std::slice::from_ref(root),
            Roots::Many(many) => &many.roots,
            Roots::Shared(many) => &many.roots,
        }
    }

    /// The roots' subtrees, sorted.
    fn spans(&self) -> &[Span] {
        match &self.roots {
            Roots::Empty => &[],
            Roots::One(_, span) => std::slice::from_ref(span),
            Roots::Many(many) => &many.spans,
            Roots::Shared(many) => &many.spans,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.roots().is_empty()
    }

    /// Whether `entity` is selected: it or an ancestor is a root.
    pub fn contains(&self, model: &Model, entity: EntityId) -> bool {
        // The roots' spans are disjoint, so only the last one starting at or before
        // `entity` can hold it.
        let span = model.span(entity);
        let spans = self.spans();
        let after = spans.partition_point(|root| root.first <= span.first);
        after > 0 && spans[after - 1].holds(span)
    }

    /// An entity both selections hold, if any. Two closed-downward sets meet exactly when
    /// a root of one lies inside the other.
    pub fn overlap(&self, model: &Model, other: &Selection) -> Option<EntityId> {
        self.roots()
            .iter()
            .copied()
            .find(|&root| other.contains(model, root))
            .or_else(|| {
                other
                    .roots()
                    .iter()
                    .copied()
                    .find(|&root| self.contains(model, root))
            })
    }

    /// Every selected entity, roots and everything inside them, in id order.
    pub fn members(&self, model: &Model) -> Vec<EntityId> {
        let mut members = Vec::new();
        for &root in self.roots() {
            model.descendants(root, &mut members);
        }
        members.sort_unstable();
        members
    }

    /// Every selected leaf, in id order.
    pub fn leaves(&self, model: &Model) -> Vec<EntityId> {
        let mut members = self.members(model);
        members.retain(|&entity| model.entity(entity).is_leaf());
        members
    }

    /// Everything that is not selected and contains nothing selected: what `any` stands
    /// for at one end of an invariant whose other end (or `via`) is `self`.
    pub fn complement(&self, model: &Model) -> Selection {
        // An entity is excluded when it is selected or an ancestor of something selected.
        let mut excluded = vec![false; model.entities.len()];
        for &root in self.roots() {
            for ancestor in model.ancestors(root) {
                // What lies above is already marked: each entity is marked once.
                if std::mem::replace(&mut excluded[ancestor.index()], true) {
                    break;
                }
            }
        }
        let mut roots = Vec::new();
        let mut stack: Vec<EntityId> = model.top_level().collect();
        while let Some(entity) = stack.pop() {
            if !excluded[entity.index()] {
                roots.push(entity);
            } else if self.roots().binary_search(&entity).is_err() {
                stack.extend(model.entity(entity).children.iter().copied());
            }
        }
        roots.sort_unstable();
        Selection::of_roots(model, roots)
    }

    /// The outermost members' names, comma-separated: how messages name a selection.
    pub fn names(&self, model: &Model) -> String {
        let names: Vec<&str> = self
            .roots()
            .iter()
            .map(|&entity| model.entity(entity).name.as_str())
            .collect();
        names.join(", ")
    }

    pub fn union(&self, model: &Model, other: &Selection) -> Selection {
        let mut all = self.roots().to_vec();
        all.extend_from_slice(other.roots());
        Selection::from_entities(model, all)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialStatus {
    Active,
    Revoked,
}

#[derive(Clone, Debug)]
pub struct Credential {
    pub name: String,
    pub holders: Selection,
    pub leaked: bool,
    pub status: CredentialStatus,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub rotated: Option<Date>,
    pub location: Location,
    /// Where a `leaks` entry says it leaked (the first in file order), when one does.
    pub leaked_at: Option<Location>,
}

/// The credential named `name` among `credentials`, sorted by name as a model keeps
/// them.
pub fn find_credential(credentials: &[Credential], name: &str) -> Option<CredentialId> {
    credentials
        .binary_search_by(|credential| credential.name.as_str().cmp(name))
        .ok()
        .map(|index| CredentialId(index as u32))
}

impl Credential {
    /// Whether the credential can open anything at all.
    pub fn is_active(&self) -> bool {
        self.status == CredentialStatus::Active
    }
}

/// One allowed connection. A model holds up to a million, so a flow keeps inline only
/// what every flow has: its ends, where its name starts in its part of [`Flows`]
/// ([`Flows::name`] reads it), a shared port list, and its position. What few flows
/// write sits behind one pointer.
#[derive(Clone)]
pub struct Flow {
    pub from: Selection,
    pub to: Selection,
    /// Where the name starts in its part's arena, or `flows::NO_NAME`; set as the flow
    /// is added to a [`FlowPart`].
    name: u32,
    /// Never empty: a flow without `ports` allows `any`.
    ports: PortList,
    /// `None` when the flow has no credential and no note.
    notes: Option<Box<FlowNotes>>,
    pub location: Location,
}

// A million flows: every byte here is a megabyte of the peak.
const _: () = assert!(size_of::<Flow>() <= 64);

// Without the name, which only its part knows: [`Flows`] shows it.
impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug(f, None)
    }
}

/// The parts of a flow that most flows leave out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowNotes {
    pub auth: Box<[CredentialId]>,
    /// `None` for the default, `network`: see [`Flow::kind`].
    pub kind: Option<Box<str>>,
    pub description: Option<Box<str>>,
    pub owner: Option<Box<str>>,
    pub ticket: Option<Box<str>>,
}

impl Flow {
    /// A flow without its name, which it is given as it is added to a [`FlowPart`].
    pub fn new(
        from: Selection,
        to: Selection,
        ports: PortList,
        notes: FlowNotes,
        location: Location,
    ) -> Flow {
        let notes = (notes != FlowNotes::default()).then(|| Box::new(notes));
        Flow {
            from,
            to,
            name: flows::NO_NAME,
            ports,
            notes,
            location,
        }
    }

    /// The ports it allows, as written; never empty.
    pub fn ports(&self) -> &[PortSpec] {
        &self.ports
    }

    /// The credentials that open it, sorted; empty when it needs none.
    pub fn auth(&self) -> &[CredentialId] {
        self.notes.as_ref().map_or(&[], |notes| &notes.auth)
    }

    /// What kind of connection the flow allows; `network` unless the policy says.
    pub fn kind(&self) -> &str {
        self.note(|notes| &notes.kind).unwrap_or("network")
    }

    pub fn description(&self) -> Option<&str> {
        self.note(|notes| &notes.description)
    }

    pub fn owner(&self) -> Option<&str> {
        self.note(|notes| &notes.owner)
    }

    pub fn ticket(&self) -> Option<&str> {
        self.note(|notes| &notes.ticket)
    }

    /// The flow as `Debug` shows it, with `name` when its part gives it.
    fn debug(&self, f: &mut fmt::Formatter<'_>, name: Option<Option<&str>>) -> fmt::Result {
        let mut out = f.debug_struct("Flow");
        if let Some(name) = name {
            out.field("name", &name);
        }
        out.field("from", &self.from)
            .field("to", &self.to)
            .field("ports", &self.ports)
            .field("notes", &self.notes)
            .field("location", &self.location)
            .finish()
    }

    fn note(&self, field: impl Fn(&FlowNotes) -> &Option<Box<str>>) -> Option<&str> {
        self.notes
            .as_deref()
            .and_then(|notes| field(notes).as_deref())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const NAMES: [&'static str; 4] = ["critical", "high", "medium", "low"];

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One end of an invariant: the entities and the selector text that named them.
#[derive(Clone, Debug)]
pub struct End {
    pub selection: Selection,
    pub text: String,
}

#[derive(Clone, Debug)]
pub enum Rule {
    /// No path from `from` to `to` (with `direct`, no single flow).
    Forbid {
        from: End,
        to: End,
        ports: Vec<PortSpec>,
        direct: bool,
    },
    /// Some path from `from` to `to` (with `direct`, a single flow).
    Require {
        from: End,
        to: End,
        ports: Vec<PortSpec>,
        direct: bool,
    },
    /// Every path from `from` to `to` passes through `via`.
    Through { from: End, to: End, via: End },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Forbid { .. } => "forbid",
            Rule::Require { .. } => "require",
            Rule::Through { .. } => "through",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Invariant {
    pub name: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub references: Vec<String>,
    pub rule: Rule,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Exception {
    pub invariant: InvariantId,
    pub reason: String,
    pub owner: String,
    pub expires: Date,
    /// The route the waived witness must follow, one step per leaf; empty waives any
    /// witness.
    pub path: Vec<PinStep>,
    pub location: Location,
}

/// One step of an exception's pinned route: the leaf must lie in `entity`, and, when
/// `flow` is given, the hop into it must cross that flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PinStep {
    pub entity: EntityId,
    /// Always `None` on the first step, which no hop enters.
    pub flow: Option<FlowId>,
}

impl PinStep {
    /// Whether a path that enters `leaf` over `flow` (none at the start) matches this
    /// step.
    pub fn admits(&self, model: &Model, leaf: EntityId, flow: Option<FlowId>) -> bool {
        self.flow.is_none_or(|pinned| Some(pinned) == flow)
            && model.ancestors(leaf).any(|a| a == self.entity)
    }
}

/// The whole estate, resolved.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// In name order; `internet` among them.
    pub entities: Vec<Entity>,
    pub flows: Flows,
    pub credentials: Vec<Credential>,
    pub invariants: Vec<Invariant>,
    pub exceptions: Vec<Exception>,
    pub sources: Sources,
    /// What is valid but probably a mistake, sorted by position: callers print these and
    /// go on (or, with `--deny-warnings`, stop).
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
    /// Each entity's subtree as a pre-order range, filled by [`Model::index_tree`] once
    /// containment is final: "is this inside that" in constant time, at any depth.
    pub tree: Vec<Span>,
    /// Every entity in pre-order, as [`Model::index_tree`] numbered them.
    tree_order: Vec<EntityId>,
}

/// An entity's subtree as a range of pre-order numbers: the entity's own, then its
/// descendants'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub first: u32,
    pub last: u32,
}

impl Span {
    /// Whether `other` is this subtree or inside it.
    pub fn holds(self, other: Span) -> bool {
        self.first <= other.first && other.last <= self.last
    }
}

impl Model {
    /// Every warning of the run, the policies' and the importers', as warnings, sorted
    /// by position.
    pub fn all_warnings(&self) -> Vec<crate::diagnostic::Diagnostic> {
        let mut warnings: Vec<crate::diagnostic::Diagnostic> = (self.warnings.iter())
            .chain(self.sources.warnings())
            .map(|warning| crate::diagnostic::Diagnostic {
                level: crate::diagnostic::Level::Warning,
                ..warning.clone()
            })
            .collect();
        crate::diagnostic::sort(&mut warnings);
        warnings
    }

    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.index()]
    }

    pub fn flow(&self, id: FlowId) -> &Flow {
        &self.flows[id.index()]
    }

    /// The flow's `name`, if it has one.
    pub fn flow_name(&self, id: FlowId) -> Option<&str> {
        self.flows.name(id.index())
    }

    pub fn credential(&self, id: CredentialId) -> &Credential {
        &self.credentials[id.index()]
    }

    pub fn entity_ids(&self) -> impl Iterator<Item = EntityId> + '_ {
        (0..self.entities.len() as u32).map(EntityId)
    }

    pub fn flow_ids(&self) -> impl Iterator<Item = FlowId> + '_ {
        (0..self.flows.len() as u32).map(FlowId)
    }

    pub fn credential_ids(&self) -> impl Iterator<Item = CredentialId> + '_ {
        (0..self.credentials.len() as u32).map(CredentialId)
    }

    pub fn find_credential(&self, name: &str) -> Option<CredentialId> {
        find_credential(&self.credentials, name)
    }

    pub fn find_entity(&self, name: &str) -> Option<EntityId> {
        self.entities
            .binary_search_by(|entity| entity.name.as_str().cmp(name))
            .ok()
            .map(|index| EntityId(index as u32))
    }

    pub fn internet(&self) -> Option<EntityId> {
        self.find_entity(INTERNET)
    }

    /// Entities with no parent, `internet` among them.
    pub fn top_level(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.entity_ids()
            .filter(|&id| self.entity(id).parent.is_none())
    }

    /// Numbers the containment tree in pre-order, without recursion, so that
    /// [`Model::within`] and [`Selection::contains`] cost nothing at any depth. Call it
    /// whenever `parent` or `children` change.
    pub fn index_tree(&mut self) {
        let mut order = Vec::with_capacity(self.entities.len());
        let mut stack: Vec<EntityId> = self.top_level().collect();
        stack.reverse();
        while let Some(entity) = stack.pop() {
            order.push(entity);
            stack.extend(self.entity(entity).children.iter().rev().copied());
        }
        let mut size = vec![1u32; self.entities.len()];
        for &entity in order.iter().rev() {
            if let Some(parent) = self.entity(entity).parent {
                size[parent.index()] += size[entity.index()];
            }
        }
        self.tree = vec![Span::default(); self.entities.len()];
        for (position, &entity) in order.iter().enumerate() {
            let first = position as u32;
            self.tree[entity.index()] = Span {
                first,
                last: first + size[entity.index()] - 1,
            };
        }
        self.tree_order = order;
    }

    /// Every entity in pre-order: each parent before its children.
    pub fn pre_order(&self) -> &[EntityId] {
        &self.tree_order
    }

    /// For every entity, the nearest of itself and its ancestors that `accept` takes:
    /// one pass from the top, where walking up from each entity would cost its depth.
    pub fn nearest(&self, accept: impl Fn(&Entity) -> bool) -> Vec<Option<EntityId>> {
        let mut nearest = vec![None; self.entities.len()];
        for &id in self.pre_order() {
            let entity = self.entity(id);
            nearest[id.index()] = if accept(entity) {
                Some(id)
            } else {
                entity.parent.and_then(|parent| nearest[parent.index()])
            };
        }
        nearest
    }

    /// `entity`'s subtree as a pre-order range.
    pub fn span(&self, entity: EntityId) -> Span {
        self.tree[entity.index()]
    }

    /// Whether `entity` is `group` or lies inside it.
    pub fn within(&self, entity: EntityId, group: EntityId) -> bool {
        self.span(group).holds(self.span(entity))
    }

    /// `entity`, then its parent, and so on to the top.
    pub fn ancestors(&self, entity: EntityId) -> Ancestors<'_> {
        Ancestors {
            model: self,
            next: Some(entity),
        }
    }

    /// Appends `entity` and everything inside it to `out`.
    pub fn descendants(&self, entity: EntityId, out: &mut Vec<EntityId>) {
        let start = out.len();
        out.push(entity);
        let mut next = start;
        while next < out.len() {
            let current = out[next];
            out.extend(self.entity(current).children.iter().copied());
            next += 1;
        }
    }

    /// The first leaf inside `entity` in id order (the entity itself if it is a leaf).
    pub fn first_leaf(&self, entity: EntityId) -> EntityId {
        let mut current = entity;
        while let Some(&child) = self.entity(current).children.iter().min() {
            current = child;
        }
        current
    }

    /// What a witness calls a flow: its name, or `FILE:LINE` when it has none.
    pub fn flow_label(&self, id: FlowId) -> String {
        match self.flow_name(id) {
            Some(name) => name.to_string(),
            None => self.sources.file_line(self.flow(id).location).to_string(),
        }
    }
}

pub struct Ancestors<'a> {
    model: &'a Model,
    next: Option<EntityId>,
}

impl Iterator for Ancestors<'_> {
    type Item = EntityId;

    fn next(&mut self) -> Option<EntityId> {
        let current = self.next?;
        self.next = self.model.entity(current).parent;
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::SourceId;
    use crate::port_list::PortLists;

    fn flow(notes: FlowNotes) -> Flow {
        let at = Location {
            source: SourceId(0),
            line: 3,
            column: 5,
        };
        let ports = PortLists::default().intern(&[PortSpec::ANY]);
        Flow::new(Selection::default(), Selection::default(), ports, notes, at)
    }

    #[test]
    fn a_flow_without_notes_reads_as_the_defaults_and_holds_no_box() {
        let flow = flow(FlowNotes::default());
        assert!(flow.notes.is_none());
        assert_eq!(flow.ports(), [PortSpec::ANY]);
        assert_eq!(flow.auth(), [] as [CredentialId; 0]);
        assert_eq!(flow.kind(), "network");
        assert_eq!(
            (flow.description(), flow.owner(), flow.ticket()),
            (None, None, None)
        );
    }

    #[test]
    fn a_flow_reads_back_the_notes_it_was_given() {
        let flow = flow(FlowNotes {
            auth: Box::new([CredentialId(2), CredentialId(7)]),
            kind: Some("ssh".into()),
            description: Some("backups".into()),
            owner: Some("ops".into()),
            ticket: Some("OPS-1".into()),
        });
        assert_eq!(flow.auth(), [CredentialId(2), CredentialId(7)]);
        assert_eq!(flow.kind(), "ssh");
        assert_eq!(flow.description(), Some("backups"));
        assert_eq!(flow.owner(), Some("ops"));
        assert_eq!(flow.ticket(), Some("OPS-1"));
    }

    /// A model with groups three deep, for building selections over.
    fn nested() -> Model {
        let yaml = "
environments:
  - {name: prod}
accounts:
  - {name: acct, in: prod, cidrs: [10.0.0.0/16]}
  - {name: other, cidrs: [10.1.0.0/16]}
segments:
  - {name: web, in: acct, cidrs: [10.0.1.0/24]}
  - {name: db, in: acct, cidrs: [10.0.2.0/24]}
assets:
  - {name: web1, in: web, cidrs: [10.0.1.10/32]}
  - {name: web2, in: web, cidrs: [10.0.1.11/32]}
  - {name: db1, in: db, cidrs: [10.0.2.10/32]}
  - {name: lone, cidrs: [10.2.0.1/32]}
";
        crate::policy::model_from_text("test.yaml", yaml).unwrap_or_else(|p| panic!("{p:#?}"))
    }

    /// The roots and spans a selection of `entities` must have, computed the plain way:
    /// every entity no other selected entity holds, sorted, and their spans sorted.
    fn naive(model: &Model, entities: &[EntityId]) -> (Vec<EntityId>, Vec<Span>) {
        let mut roots: Vec<EntityId> = entities
            .iter()
            .copied()
            .filter(|&e| !entities.iter().any(|&o| o != e && model.within(e, o)))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let mut spans: Vec<Span> = roots.iter().map(|&r| model.span(r)).collect();
        spans.sort_unstable();
        (roots, spans)
    }

    #[test]
    fn a_selection_of_one_entity_equals_the_general_construction() {
        let model = nested();
        for id in model.entity_ids() {
            let one = Selection::of_entity(&model, id);
            assert_eq!(one, Selection::from_entities(&model, vec![id]));
            assert_eq!(one, Selection::from_entities(&model, vec![id, id]));
            assert_eq!(one.roots(), [id]);
            assert_eq!(one.spans(), [model.span(id)]);
            assert!(matches!(one.roots, Roots::One(..)));
        }
    }

    #[test]
    fn a_selection_keeps_the_outermost_entities_with_their_spans() {
        let model = nested();
        let ids: Vec<EntityId> = model.entity_ids().collect();
        let mut cases: Vec<Vec<EntityId>> =
            vec![vec![], ids.clone(), ids.iter().rev().copied().collect()];
        for &a in &ids {
            for &b in &ids {
                cases.push(vec![a, b]);
                for &c in &ids {
                    cases.push(vec![c, a, b]);
                }
            }
        }
        for entities in cases {
            let selection = Selection::from_entities(&model, entities.clone());
            let (roots, spans) = naive(&model, &entities);
            assert_eq!(selection.roots(), roots, "{entities:?}");
            assert_eq!(selection.spans(), spans, "{entities:?}");
            // One root is always kept inline, whatever the entities were.
            assert_eq!(matches!(selection.roots, Roots::One(..)), roots.len() == 1);
            assert_eq!(selection.is_empty(), roots.is_empty());
        }
    }

    #[test]
    fn a_clone_of_shared_roots_shares_them_and_equals_the_original() {
        let model = nested();
        let leaves: Vec<EntityId> = (model.entity_ids())
            .filter(|&id| model.entity(id).is_leaf())
            .collect();
        let selection = Selection::from_entities(&model, leaves);
        assert!(matches!(selection.roots, Roots::Many(..)));
        let selection = selection.into_shared();
        assert!(matches!(selection.roots, Roots::Shared(..)));
        let copy = selection.clone();
        assert!(std::ptr::eq(copy.roots(), selection.roots()));
        assert!(std::ptr::eq(copy.spans(), selection.spans()));
        assert_eq!(copy, selection);
    }
}
