//! The Kubernetes importer: manifests in, raw policy files out. Workloads become assets
//! `NAMESPACE/NAME` in segments named after their namespaces, labels become tags
//! `KEY=VALUE`, and what NetworkPolicies, Ingresses and Routes allow becomes flows, each
//! located at the manifest line of the rule or path that allows it. The identity plane
//! (`identity.rs`) and escapes to the nodes (`escape.rs`) add credentials, and flows from
//! `kubernetes-api` and `kubernetes:nodes`. Resolve and everything after it see only the
//! raw model.

mod bootstrap;
mod candidates;
mod classes;
mod duplicates;
mod escape;
mod identity;
mod ingress;
mod netpol;
mod node;
mod objects;
mod rbac;
mod selectors;
mod warnings;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use compact_str::CompactString;

use classes::{Chooser, Cluster, End};
use duplicates::{Conflict, Seen};
use netpol::{Grant, Located};
use objects::{Objects, Pos, Reader, Workload};

use crate::diagnostic::{Diagnostic, Problem};
use crate::port_set::PortSet;
use crate::raw::{At, Items, RawEntity, RawFile, RawFlow, RawList};

/// The asset that Ingresses and Routes expose workloads through.
pub const INGRESS_CONTROLLER: &str = "ingress-controller";

/// One manifest file: its display path and its text (documents of other kinds blanked
/// out, so that lines stay where they are).
pub struct Manifest<'a> {
    pub display: &'a str,
    pub text: &'a str,
    /// The namespace of its objects that name none: `default`, unless an import says
    /// otherwise, as `kubectl apply -n` would.
    pub namespace: &'a str,
}

/// Where Kubernetes puts an object that names no namespace, unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "default";

/// What the importer gives back: one raw file per manifest that contributes anything,
/// by the manifest's index, and the kinds it skipped.
#[derive(Debug, Default)]
pub struct Imported {
    pub files: Vec<(usize, RawFile)>,
    /// Objects of kinds cordon does not model, counted by kind.
    pub skipped: BTreeMap<String, usize>,
    /// What Kubernetes accepts but allows nothing: a named port on no container, a
    /// binding to a missing role, a backend with no Service.
    pub warnings: Vec<Diagnostic>,
    /// Every service account the cluster knows, with what holds a token of it.
    pub service_accounts: Vec<crate::import::ServiceAccount>,
}

/// Imports a cluster's manifests, or reports every problem found in them. A cluster
/// placed in an entity (`imports: [{kubernetes: PATH, in: ENTITY}]`) has its namespaces
/// inside that entity and its names prefixed with the entity's (`prod/payments/ledger`).
pub fn import(
    manifests: &[Manifest],
    placed_in: Option<&str>,
) -> Result<Imported, Vec<Diagnostic>> {
    let mut objects = Objects::default();
    let mut seen = Seen::default();
    let mut problems = Vec::new();
    for (index, manifest) in manifests.iter().enumerate() {
        match node::documents(manifest.display, manifest.text) {
            Ok(documents) => {
                let mut reader = Reader {
                    file: index as u32,
                    display: manifest.display,
                    namespace: manifest.namespace,
                    objects: &mut objects,
                    seen: &mut seen,
                    problems: &mut problems,
                };
                for document in &documents {
                    reader.document(document, None);
                }
            }
            Err(diagnostic) => problems.push(diagnostic),
        }
    }
    problems.extend(declared_twice(&seen.conflicts, manifests));
    if !problems.is_empty() {
        return Err(problems);
    }
    problems.extend(fold_owned(&mut objects, manifests));
    if !problems.is_empty() {
        return Err(problems);
    }
    bootstrap::add_missing(&mut objects);
    let starting = identity::label_choosers(&objects);
    let cluster = Cluster::new(&objects, &starting);
    let mut grants = cluster.network_grants();
    let (ingress_grants, unadmitted) = cluster.ingress_grants();
    grants.extend(ingress_grants);
    let mut emitter = Emitter::new(&objects, placed_in);
    emitter.entities(&objects);
    emitter.started_pods(&starting);
    let service_accounts = emitter.identity(&objects);
    emitter.nodes(&objects);
    emitter.flows(&cluster, grants);
    Ok(Imported {
        files: emitter.files.into_iter().collect(),
        service_accounts,
        skipped: objects.skipped.clone(),
        warnings: warnings::check(&objects, &unadmitted, manifests),
    })
}

/// The file that `pos` is in, as the user named it.
fn file_of<'m>(manifests: &[Manifest<'m>], pos: Pos) -> &'m str {
    manifests
        .get(pos.file as usize)
        .map_or("<unknown>", |m| m.display)
}

/// A problem at `pos`.
fn diagnostic_at(manifests: &[Manifest], pos: Pos, problem: Problem) -> Diagnostic {
    Diagnostic::new(file_of(manifests, pos), pos.line, pos.column, problem)
}

/// Where `pos` is, as `FILE:LINE:COLUMN`, for a message that names a second place.
fn place(manifests: &[Manifest], pos: Pos) -> String {
    format!("{}:{}:{}", file_of(manifests, pos), pos.line, pos.column)
}

/// Reports `name`, declared at each of `places` (sorted), as declared twice: every place
/// after the first names the first. Reporting at the later place, by input position,
/// names the same two places whichever file holds which object.
fn report_twice(
    manifests: &[Manifest],
    what: &'static str,
    name: &str,
    places: &[Pos],
    help: &str,
) -> Vec<Diagnostic> {
    let Some((&first, rest)) = places.split_first() else {
        return Vec::new();
    };
    rest.iter()
        .map(|&pos| {
            let problem = Problem::DuplicateName {
                what,
                name: name.to_owned(),
                first: place(manifests, first),
            };
            diagnostic_at(manifests, pos, problem).with_help(Some(help.to_owned()))
        })
        .collect()
}

/// Each object declared twice with different content (`duplicates.rs`), as an error at
/// the later place that names the first and, in its help, the parts that differ.
fn declared_twice(conflicts: &[Conflict], manifests: &[Manifest]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for conflict in conflicts {
        let differ: Vec<String> = (conflict.differ.iter())
            .map(|part| format!("`{part}`"))
            .collect();
        let help = format!(
            "the two differ in {}, and a cluster holds one {} of each name, the last applied: keep one of them",
            differ.join(", "),
            conflict.kind
        );
        problems.extend(report_twice(
            manifests,
            conflict.what,
            &conflict.name,
            &[conflict.first, conflict.again],
            &help,
        ));
    }
    problems
}

/// Folds pods (and other workloads) owned by a listed workload into it, and names the
/// rest after their owner. Ownership is followed to its top (a Pod to its ReplicaSet to
/// its Deployment, a Pod to its Job to its CronJob), so that the pods of one Deployment
/// are one asset whether or not the inputs hold the ReplicaSets between them. Two listed
/// workloads of one namespace and name (a Deployment `web` and a StatefulSet `web`) would
/// be one asset, so they are an error naming both places: keeping either would drop the
/// other's pods, and which one depended on the order of the files. Pods of one owner that
/// is not listed are one asset when they agree (see `fold_orphans`); the one kept is
/// chosen by content and name, not by position, so that the order of files does not
/// matter.
fn fold_owned(objects: &mut Objects, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let mut listed: BTreeMap<(String, String), Vec<(Pos, String)>> = BTreeMap::new();
    for workload in objects.workloads.iter().filter(|w| w.owner.is_none()) {
        listed
            .entry((workload.namespace.clone(), workload.name.clone()))
            .or_default()
            .push((workload.at, workload.kind.clone()));
    }
    let mut problems = Vec::new();
    for ((namespace, name), places) in &listed {
        let mut places = places.clone();
        places.sort();
        let kinds: Vec<String> = places.iter().map(|(_, kind)| kind.clone()).collect();
        let at: Vec<Pos> = places.iter().map(|(pos, _)| *pos).collect();
        problems.extend(report_twice(
            manifests,
            "Kubernetes workload",
            &format!("{namespace}/{name}"),
            &at,
            &format!(
                "{} `{name}` in namespace `{namespace}` would be one asset: rename one of them",
                kinds.join(" and ")
            ),
        ));
    }
    if !problems.is_empty() {
        return problems;
    }
    // Each owned object's own owner, by (namespace, kind, name).
    let owners: BTreeMap<(String, String, String), (String, String)> = objects
        .workloads
        .iter()
        .filter_map(|w| {
            let owner = w.owner.clone()?;
            Some(((w.namespace.clone(), w.kind.clone(), w.name.clone()), owner))
        })
        .collect();
    // The objects under each owner that is not listed, by (namespace, owner's name), with
    // the owner's kind.
    let mut orphans: BTreeMap<(String, String), (String, Vec<Workload>)> = BTreeMap::new();
    let workloads = std::mem::take(&mut objects.workloads);
    for mut workload in workloads {
        let Some(mut top) = workload.owner.take() else {
            objects.workloads.push(workload);
            continue;
        };
        // Bounded, so that a cycle of references ends.
        for _ in 0..owners.len() {
            match owners.get(&(workload.namespace.clone(), top.0.clone(), top.1.clone())) {
                Some(next) => top = next.clone(),
                None => break,
            }
        }
        let key = (workload.namespace.clone(), top.1);
        if listed.contains_key(&key) {
            continue;
        }
        orphans
            .entry(key)
            .or_insert_with(|| (top.0, Vec::new()))
            .1
            .push(workload);
    }
    for ((_, owner), (kind, members)) in orphans {
        objects.workloads.extend(fold_orphans(owner, kind, members));
    }
    objects.workloads.sort_by_key(|w| w.at);
    Vec::new()
}

/// The assets that the objects under one owner missing from the inputs become. Objects
/// that agree on all that cordon reads of them are one asset: all of them when all
/// agree, named after the owner. Else each group of alike objects is one asset, named
/// after its first object by name: one asset with one object's labels could hide from a
/// NetworkPolicy's selector the others, which it selects or leaves open.
fn fold_orphans(owner: String, kind: String, mut members: Vec<Workload>) -> Vec<Workload> {
    members.sort_by(|a, b| {
        content(a)
            .cmp(&content(b))
            .then_with(|| (&a.name, a.at).cmp(&(&b.name, b.at)))
    });
    let mut kept: Vec<Workload> = Vec::new();
    for member in members {
        match kept.last() {
            Some(first) if content(first) == content(&member) => {}
            _ => kept.push(member),
        }
    }
    if let [only] = kept.as_mut_slice() {
        (only.kind, only.name) = (kind, owner);
    }
    kept
}

/// What tells two objects of one owner apart: all that cordon reads of them but their
/// names and kinds.
#[allow(clippy::type_complexity)]
fn content(
    workload: &Workload,
) -> (
    &objects::Labels,
    &[objects::ContainerPort],
    &str,
    Option<bool>,
    bool,
    &[String],
    Option<&str>,
) {
    (
        &workload.labels,
        &workload.ports,
        &workload.service_account,
        workload.automount,
        workload.projects_token,
        &workload.secrets,
        workload.escape.as_ref().map(|escape| escape.what.as_str()),
    )
}

/// Builds the raw files, one per manifest that holds something they point at.
struct Emitter {
    files: BTreeMap<usize, RawFile>,
    /// Workloads by namespace, to name a whole namespace instead of listing it.
    per_namespace: BTreeMap<String, usize>,
    names: Vec<String>,
    namespaces: Vec<String>,
    /// The entity the cluster is placed in: the parent of its namespaces and the prefix
    /// of its names.
    cluster: Option<String>,
    /// The API server's name, once identity made one: it is an external address to
    /// NetworkPolicies, so whatever reaches the internet reaches it too.
    api: Option<String>,
    /// Where the nodes are declared, once anything reaches them: the first escape or
    /// binding that does.
    nodes: Option<Pos>,
    /// The pods whose labels someone chooses (`classes::Started`).
    started: BTreeSet<Chooser>,
}

fn at<T>(value: T, pos: Pos) -> At<T> {
    At {
        value,
        line: pos.line,
        column: pos.column,
    }
}

/// A list of names, each of them and the whole located at `pos`.
fn located_list(names: Vec<String>, pos: Pos) -> At<RawList> {
    at(
        RawList(names.into_iter().map(|n| at(n, pos)).collect()),
        pos,
    )
}

/// The names at one end of a flow: its own, or a list that many flows hold, written
/// once and resolved once per file (`Items::Shared`).
enum Names {
    Own(Vec<String>),
    Shared(Arc<[At<CompactString>]>),
}

impl Default for Names {
    fn default() -> Self {
        Names::Own(Vec::new())
    }
}

impl From<Vec<String>> for Names {
    fn from(names: Vec<String>) -> Self {
        Names::Own(names)
    }
}

/// A list of names for many flows. Its names carry no place of their own (line 0):
/// each flow's list is located at the flow.
fn shared(names: Vec<String>) -> Arc<[At<CompactString>]> {
    names
        .into_iter()
        .map(|name| at(CompactString::from(name), Pos::default()))
        .collect()
}

impl Names {
    /// The list, located at `pos`.
    fn located(self, pos: Pos) -> At<RawList> {
        match self {
            Names::Own(names) => located_list(names, pos),
            Names::Shared(names) => at(RawList(Items::Shared(names)), pos),
        }
    }
}

/// What differs between the importer's flows; all are unnamed, so that each is named by
/// its manifest line.
#[derive(Default)]
struct FlowSpec {
    from: Names,
    to: Names,
    /// `None`: any.
    ports: Option<Vec<String>>,
    auth: Option<Vec<String>>,
    kind: Option<String>,
    description: Option<String>,
}

fn workload_name(workload: &Workload) -> String {
    format!("{}/{}", workload.namespace, workload.name)
}

impl Emitter {
    /// A cluster's name for an entity: prefixed with the entity the cluster is in.
    fn scoped(&self, name: &str) -> String {
        match &self.cluster {
            Some(cluster) => format!("{cluster}/{name}"),
            None => name.to_owned(),
        }
    }

    fn new(objects: &Objects, cluster: Option<&str>) -> Emitter {
        let mut per_namespace = BTreeMap::new();
        for workload in &objects.workloads {
            *per_namespace.entry(workload.namespace.clone()).or_default() += 1;
        }
        Emitter {
            files: BTreeMap::new(),
            per_namespace,
            names: objects.workloads.iter().map(workload_name).collect(),
            namespaces: objects
                .workloads
                .iter()
                .map(|w| w.namespace.clone())
                .collect(),
            cluster: cluster.map(str::to_owned),
            api: None,
            nodes: None,
            started: BTreeSet::new(),
        }
    }

    fn file(&mut self, pos: Pos) -> &mut RawFile {
        self.files
            .entry(pos.file as usize)
            .or_insert_with(|| RawFile {
                imported: true,
                ..RawFile::default()
            })
    }

    /// Declares one of the cluster's own assets (the ingress controller, the API server, a
    /// namespace's store, the nodes) at `pos`, in the entity the cluster is placed in.
    fn push_asset(&mut self, name: String, description: String, pos: Pos) {
        let entity = RawEntity {
            name: at(name, pos),
            parent: self.cluster.clone().map(|cluster| at(cluster, pos)),
            cidrs: None,
            tags: None,
            description: Some(description),
            owner: None,
        };
        self.file(pos)
            .assets
            .get_or_insert_with(Vec::new)
            .push(at(entity, pos));
    }

    fn push_flow(&mut self, pos: Pos, spec: FlowSpec) {
        let flow = RawFlow {
            name: None,
            from: spec.from.located(pos),
            to: spec.to.located(pos),
            ports: spec.ports.map(|ports| located_list(ports, pos)),
            auth: spec.auth.map(|auth| located_list(auth, pos)),
            kind: spec.kind.map(Into::into),
            description: spec.description.map(Into::into),
            owner: None,
            ticket: None,
        };
        self.file(pos)
            .flows
            .get_or_insert_with(Vec::new)
            .push(at(flow, pos));
    }

    fn entities(&mut self, objects: &Objects) {
        // A namespace is a segment: at its Namespace object, or else (a namespace that
        // only workloads name) at its first workload.
        let mut declared: BTreeMap<&str, (Pos, Vec<String>)> = BTreeMap::new();
        for namespace in &objects.namespaces {
            let tags = namespace
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            declared
                .entry(&namespace.name)
                .or_insert((namespace.at, tags));
        }
        for workload in &objects.workloads {
            declared
                .entry(&workload.namespace)
                .or_insert((workload.at, Vec::new()));
        }
        for (name, (pos, tags)) in declared {
            let entity = RawEntity {
                name: at(self.scoped(name), pos),
                parent: self.cluster.clone().map(|cluster| at(cluster, pos)),
                cidrs: None,
                tags: Some(tags.into_iter().map(|tag| at(tag, pos)).collect()),
                description: Some("Kubernetes namespace".to_owned()),
                owner: None,
            };
            self.file(pos)
                .segments
                .get_or_insert_with(Vec::new)
                .push(at(entity, pos));
        }
        for workload in &objects.workloads {
            let pos = workload.at;
            let entity = RawEntity {
                name: at(self.scoped(&workload_name(workload)), pos),
                parent: Some(at(self.scoped(&workload.namespace), pos)),
                cidrs: None,
                tags: Some(
                    workload
                        .labels
                        .iter()
                        .map(|(k, v)| at(format!("{k}={v}"), pos))
                        .collect(),
                ),
                description: Some(format!("Kubernetes {}", workload.kind)),
                owner: None,
            };
            self.file(pos)
                .assets
                .get_or_insert_with(Vec::new)
                .push(at(entity, pos));
        }
        if let Some(first) = objects.backends.iter().map(|b| b.at).min() {
            let controller = self.scoped(INGRESS_CONTROLLER);
            self.push_asset(
                controller.clone(),
                "the cluster's ingress controller".to_owned(),
                first,
            );
            self.push_flow(
                first,
                FlowSpec {
                    from: vec![crate::model::INTERNET.to_owned()].into(),
                    to: vec![controller].into(),
                    ports: Some(vec!["tcp/80".to_owned(), "tcp/443".to_owned()]),
                    description: Some(
                        "the ingress controller takes connections from the internet".to_owned(),
                    ),
                    ..FlowSpec::default()
                },
            );
        }
    }

    /// Declares each pod whose labels someone chooses, at the first binding that lets
    /// anyone choose them.
    fn started_pods(&mut self, starting: &BTreeMap<Chooser, Pos>) {
        for (chooser, &pos) in starting {
            let namespace = &chooser.namespace;
            let description = if chooser.namespace_labels {
                format!(
                    "a pod of namespace `{namespace}`, with the namespace's labels chosen by someone RBAC lets relabel namespaces"
                )
            } else {
                format!(
                    "a pod of namespace `{namespace}` whose labels someone RBAC lets start or relabel pods there chooses"
                )
            };
            self.push_asset(
                self.scoped(&identity::started_pod_name(chooser)),
                description,
                pos,
            );
            self.started.insert(chooser.clone());
        }
    }

    /// The workloads an end stands for, or its special name.
    fn selectors(&self, cluster: &Cluster, ends: &BTreeSet<End>, target: bool) -> Vec<String> {
        let mut workloads = BTreeSet::new();
        let mut names = BTreeSet::new();
        for end in ends {
            match *end {
                End::Class(class) => {
                    workloads.extend(cluster.classes[class].members.iter().copied())
                }
                End::Workload(index) => {
                    workloads.insert(index);
                }
                End::External(_) => {
                    names.insert(crate::model::INTERNET.to_owned());
                    if target && let Some(api) = &self.api {
                        names.insert(api.clone());
                    }
                }
                End::IngressController => {
                    names.insert(self.scoped(INGRESS_CONTROLLER));
                }
                End::Started(index) => {
                    let chooser = &cluster.started[index].chooser;
                    names.insert(self.scoped(&identity::started_pod_name(chooser)));
                }
            }
        }
        // A namespace whose every workload is selected is named once.
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for &index in &workloads {
            *counts.entry(self.namespaces[index].as_str()).or_default() += 1;
        }
        for &index in &workloads {
            let namespace = self.namespaces[index].as_str();
            if counts.get(namespace) == self.per_namespace.get(namespace) {
                names.insert(self.scoped(namespace));
            } else {
                names.insert(self.scoped(&self.names[index]));
            }
        }
        names.into_iter().collect()
    }

    fn flows(&mut self, cluster: &Cluster, grants: Vec<Grant>) {
        // Grants of one rule and ports merge: first their targets, then their sources.
        let mut by_source: BTreeMap<(Pos, PortSet, End), BTreeSet<End>> = BTreeMap::new();
        // Grants that no rule decides point at each workload's declaration: those into
        // workloads by target and ports, with their sources; those out of the cluster by
        // source and ports, with their targets.
        let mut into: BTreeMap<(End, PortSet), BTreeSet<End>> = BTreeMap::new();
        let mut out_of: BTreeMap<(End, PortSet), BTreeSet<End>> = BTreeMap::new();
        for grant in grants {
            let (key, other) = match grant.at {
                Located::At(pos) => {
                    by_source
                        .entry((pos, grant.ports, grant.from))
                        .or_default()
                        .insert(grant.to);
                    continue;
                }
                Located::Declaration if matches!(grant.to, End::Class(_) | End::Workload(_)) => {
                    (into.entry((grant.to, grant.ports)), grant.from)
                }
                Located::Declaration => (out_of.entry((grant.from, grant.ports)), grant.to),
            };
            key.or_default().insert(other);
        }
        self.declared_flows(cluster, into, true);
        self.declared_flows(cluster, out_of, false);
        let mut by_targets: BTreeMap<(Pos, PortSet, BTreeSet<End>), BTreeSet<End>> =
            BTreeMap::new();
        for ((pos, ports, from), to) in by_source {
            by_targets.entry((pos, ports, to)).or_default().insert(from);
        }
        for ((pos, ports, to), from) in by_targets {
            let spec = FlowSpec {
                from: self.selectors(cluster, &from, false).into(),
                to: self.selectors(cluster, &to, true).into(),
                ports: Some(ports.specs().iter().map(ToString::to_string).collect()),
                ..FlowSpec::default()
            };
            self.push_flow(pos, spec);
        }
    }

    /// The flows of grants that no rule decides, one at the declaration of each workload
    /// of `ends`' keys: from the ends they hold to that workload (`into`), or from it to
    /// them. The list of the ends they hold is written once and shared.
    fn declared_flows(
        &mut self,
        cluster: &Cluster,
        ends: BTreeMap<(End, PortSet), BTreeSet<End>>,
        into: bool,
    ) {
        for ((end, ports), others) in ends {
            let others = shared(self.selectors(cluster, &others, !into));
            let ports: Vec<String> = ports.specs().iter().map(ToString::to_string).collect();
            for member in cluster.members(end) {
                let Some(workload) = cluster.objects.workloads.get(member) else {
                    continue;
                };
                let one = self.selectors(cluster, &BTreeSet::from([End::Workload(member)]), into);
                let (from, to) = if into {
                    (Names::Shared(others.clone()), one.into())
                } else {
                    (one.into(), Names::Shared(others.clone()))
                };
                let spec = FlowSpec {
                    from,
                    to,
                    ports: Some(ports.clone()),
                    ..FlowSpec::default()
                };
                self.push_flow(workload.at, spec);
            }
        }
    }
}
