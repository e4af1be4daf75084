//! A plan or state as `terraform show -json` writes it: its resources, walked through
//! every module, with `count` and `for_each` addresses as they are, the configuration's
//! expression references for links whose ids are unknown until apply, which attributes
//! a plan leaves unknown until apply, and the line of each resource in the file.
//!
//! `document.rs` parses the sections read; attribute values stay JSON values (its
//! compact `Value`), since they are whatever each provider says. Only these files know
//! the shape of the document.

use std::collections::BTreeMap;

use compact_str::CompactString;
use rayon::iter::{IntoParallelRefMutIterator, ParallelIterator};
use rayon::slice::ParallelSliceMut;
use rustc_hash::FxHashMap;

use super::document::{self, ConfigModule, Document, Value};
use super::lines::{ResourceLines, lines_at};
use crate::diagnostic::{Diagnostic, Problem};

/// Which state of the infrastructure to read from a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// What the plan will make (`planned_values`), or a state's `values`.
    Planned,
    /// What exists before the plan is applied (`prior_state`).
    Prior,
}

/// One managed resource instance.
#[derive(Debug)]
pub struct Resource {
    /// Its address: `module.net.aws_subnet.private["a"]`.
    pub address: String,
    /// Its type: `aws_subnet`.
    pub kind: String,
    /// Its attributes; unknown ones are absent or null.
    pub values: Value,
    /// The line of the resource in the file, 0 when not found.
    pub line: u32,
    /// Its module path with instance keys (`module.net["a"]`), empty at the root.
    module: String,
    /// Its configuration address: the address without any instance key.
    config: String,
    /// The byte offset of its object in the text, when the parse could tell.
    start: Option<usize>,
}

impl Resource {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.values.get(key).and_then(Value::as_bool)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.values.get(key).and_then(Value::as_i64)
    }

    /// The id that other resources use for it, when known.
    pub fn id(&self) -> Option<&str> {
        self.str("id").filter(|id| !id.is_empty())
    }

    /// Whether some text among its attributes, nested ones included, holds `text`.
    pub fn mentions(&self, text: &str) -> bool {
        fn holds(value: &Value, text: &str) -> bool {
            match value {
                Value::String(value) => value.contains(text),
                Value::Array(items) => items.iter().any(|item| holds(item, text)),
                Value::Object(members) => members.iter().any(|(_, value)| holds(value, text)),
                _ => false,
            }
        }
        holds(&self.values, text)
    }
}

/// A plan or state, read.
#[derive(Debug)]
pub struct Plan {
    pub resources: Vec<Resource>,
    /// Configuration expressions by configuration address. These maps are only looked
    /// up, never walked, so their order is not observable: hashed with Fx, ids kept
    /// inline, for the lookups of every link of every rule.
    expressions: FxHashMap<String, Value>,
    /// Resource indexes by configuration address, and by id.
    by_config: FxHashMap<String, Vec<usize>>,
    by_id: FxHashMap<CompactString, usize>,
    /// By resource index, the parts of its change's `after_unknown` that are `true`:
    /// empty for a state, whose values are all known.
    unknown: FxHashMap<usize, Value>,
    /// Managed resource types that no part of the importer models, counted.
    pub unmodelled: BTreeMap<String, usize>,
    /// Whether the values read are a state's (a state file, or a plan's prior state),
    /// where nothing is unknown until apply.
    pub state: bool,
}

/// Where a link points: resources of the plan, or somewhere the plan does not say
/// (a variable, another module's output, a resource managed elsewhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    Known(Vec<usize>),
    Unknown,
}

impl Link {
    pub fn known(&self) -> &[usize] {
        match self {
            Link::Known(list) => list,
            Link::Unknown => &[],
        }
    }
}

/// Resource types that some part of the importer reads.
const MODELLED: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_instance",
    "aws_network_interface",
    "aws_db_instance",
    "aws_db_subnet_group",
    "aws_lb",
    "aws_alb",
    "aws_elb",
    "aws_lambda_function",
    "aws_eip",
    "aws_eip_association",
    "aws_security_group",
    "aws_default_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_network_acl",
    "aws_default_network_acl",
    "aws_network_acl_rule",
    "aws_network_acl_association",
    "aws_route_table",
    "aws_default_route_table",
    "aws_main_route_table_association",
    "aws_route",
    "aws_route_table_association",
    "aws_internet_gateway",
    "aws_egress_only_internet_gateway",
    "aws_nat_gateway",
    "aws_vpc_peering_connection",
    "aws_vpc_peering_connection_accepter",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_instance_profile",
    "aws_iam_user",
    "aws_iam_user_policy",
    "aws_iam_user_policy_attachment",
    "aws_iam_group",
    "aws_iam_group_policy",
    "aws_iam_group_policy_attachment",
    "aws_iam_group_membership",
    "aws_iam_user_group_membership",
    "aws_iam_access_key",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
    "aws_ssm_parameter",
    "aws_autoscaling_group",
    "aws_launch_template",
    "aws_launch_configuration",
    "aws_ecs_service",
    "aws_ecs_task_definition",
    "aws_eks_node_group",
    "aws_eks_pod_identity_association",
    "aws_vpc_endpoint_service",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_docdb_cluster",
    "aws_docdb_subnet_group",
    "aws_neptune_cluster",
    "aws_neptune_subnet_group",
    "aws_memorydb_cluster",
    "aws_memorydb_subnet_group",
    "aws_elasticsearch_domain",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_subnet_group",
    "aws_redshift_cluster",
    "aws_redshift_subnet_group",
    "aws_mq_broker",
    "aws_efs_mount_target",
    "aws_opensearch_domain",
    "aws_msk_cluster",
    "aws_vpc_endpoint",
];

/// The plan format versions this importer reads: 0.x and 1.x, as Terraform promises to
/// keep 1.x compatible.
fn supported(version: &str) -> bool {
    matches!(version.split('.').next(), Some("0" | "1"))
}

impl Plan {
    /// Reads one plan or state.
    pub fn read(display: &str, text: &str, side: Side) -> Result<Plan, Diagnostic> {
        let document = Document::read(text, side).map_err(|error| {
            Diagnostic::new(
                display,
                u32::try_from(error.line()).unwrap_or(0),
                u32::try_from(error.column()).unwrap_or(0),
                Problem::Syntax {
                    message: format!("invalid Terraform JSON: {error}"),
                },
            )
            .with_help(Some(
                "write the plan with `terraform show -json PLANFILE > plan.json`".to_owned(),
            ))
        })?;
        let version = document.format_version.as_deref().unwrap_or("");
        if !supported(version) {
            return Err(Diagnostic::new(
                display,
                line_of_key(text, "format_version"),
                0,
                Problem::Version {
                    found: version.to_owned(),
                },
            )
            .with_help(Some(
                "cordon reads Terraform JSON format versions 0.x and 1.x".to_owned(),
            )));
        }
        let (section, root) = match side {
            Side::Planned if document.has_planned => ("planned_values", document.planned),
            Side::Planned => ("values", document.values),
            Side::Prior => ("prior_state", document.prior),
        };
        let mut plan = Plan {
            // Sized once: grown by doubling, a large plan's records were moved at
            // every step.
            resources: Vec::with_capacity(root.count()),
            expressions: FxHashMap::default(),
            by_config: FxHashMap::default(),
            by_id: FxHashMap::default(),
            unknown: FxHashMap::default(),
            unmodelled: BTreeMap::new(),
            state: section != "planned_values",
        };
        plan.walk_module(root, text);
        // A string each, apart from the others: on every core.
        (plan.resources.par_iter_mut())
            .for_each(|resource| resource.config = strip_keys(&resource.address));
        plan.walk_config(document.configuration, "");
        plan.locate(text, section);
        // Stable, as before: resources of one address keep the document's order.
        plan.resources.par_sort_by(|a, b| a.address.cmp(&b.address));
        // An address given twice is located where it first appears, as the scan does.
        for run in plan.resources.chunk_by_mut(|a, b| a.address == b.address) {
            let first = run.iter().map(|resource| resource.line).min();
            for resource in run {
                resource.line = first.unwrap_or(resource.line);
            }
        }
        // Each change's unknown attributes go to the resources of its address (sorted).
        for (address, unknown) in document.unknown {
            let resources = &plan.resources;
            let first = resources.partition_point(|r| r.address < address);
            let last = first + resources[first..].partition_point(|r| r.address == address);
            for index in first..last {
                plan.unknown.insert(index, unknown.clone());
            }
        }
        // The two indexes, one on each core: each is thousands of inserts, in order.
        let resources = &plan.resources;
        (plan.by_config, plan.by_id) = rayon::join(
            || {
                let mut by_config: FxHashMap<String, Vec<usize>> = FxHashMap::default();
                for (index, resource) in resources.iter().enumerate() {
                    // Looked up before inserted: most resources share their configuration
                    // address with others (`count`, `for_each`), and the key is cloned once.
                    match by_config.get_mut(&resource.config) {
                        Some(list) => list.push(index),
                        None => {
                            by_config.insert(resource.config.clone(), vec![index]);
                        }
                    }
                }
                by_config
            },
            || {
                let mut by_id = FxHashMap::default();
                by_id.reserve(resources.len());
                for (index, resource) in resources.iter().enumerate() {
                    if let Some(id) = resource.id() {
                        by_id.insert(CompactString::from(id), index);
                    }
                }
                by_id
            },
        );
        Ok(plan)
    }

    /// Sets each resource's line: from where the parse found its object, or, for an
    /// object whose place the parse could not tell, from a scan of the text.
    fn locate(&mut self, text: &str, section: &str) {
        let starts: Vec<usize> = (self.resources.iter())
            .map(|resource| resource.start.unwrap_or(0))
            .collect();
        let mut scanned = None;
        for (resource, line) in self.resources.iter_mut().zip(lines_at(text, &starts)) {
            resource.line = match resource.start {
                Some(_) => line,
                None => scanned
                    .get_or_insert_with(|| ResourceLines::scan(text))
                    .line(section, &resource.address),
            };
        }
    }

    /// Takes the managed resources of a module and of its children, in that order.
    fn walk_module(&mut self, module: document::Module, text: &str) {
        let prefix = module.address.unwrap_or_default();
        for resource in module.resources {
            if !resource.managed {
                continue;
            }
            let start = resource.start(text);
            let (Some(address), Some(kind)) = (resource.address, resource.kind) else {
                continue;
            };
            if !MODELLED.contains(&kind.as_str()) {
                *self.unmodelled.entry(kind).or_default() += 1;
                continue;
            }
            self.resources.push(Resource {
                line: 0,
                start,
                module: prefix.clone(),
                // Set by `Plan::read`, on every core.
                config: String::new(),
                address,
                kind,
                values: resource.values,
            });
        }
        for child in module.children {
            self.walk_module(child, text);
        }
    }

    fn walk_config(&mut self, module: ConfigModule, prefix: &str) {
        for (address, expressions) in module.resources {
            self.expressions.insert(join(prefix, &address), expressions);
        }
        for (name, call) in module.calls {
            if let Some(child) = call {
                self.walk_config(child, &join(prefix, &format!("module.{name}")));
            }
        }
    }

    pub fn resource(&self, index: usize) -> &Resource {
        &self.resources[index]
    }

    /// Indexes of the resources of these types, in address order.
    pub fn of_kind<'p>(&'p self, kinds: &'p [&str]) -> impl Iterator<Item = usize> + 'p {
        self.resources
            .iter()
            .enumerate()
            .filter(move |(_, resource)| kinds.contains(&resource.kind.as_str()))
            .map(|(index, _)| index)
    }

    /// Where attribute `key` of resource `index` points, given as a list of ids or one
    /// id: by id when every id is known and in the plan, otherwise through the
    /// configuration's references. `path` leads to the attribute inside nested blocks
    /// (`["route", "0"]`), for both the values and the expressions.
    pub fn link(&self, index: usize, path: &[&str], key: &str) -> Link {
        let resource = self.resource(index);
        let value = at_path(&resource.values, path)
            .get(key)
            .unwrap_or(&Value::Null);
        // The ids given, and the resources of those found in the plan, in order.
        let mut ids = 0;
        let mut known = Vec::new();
        let mut find = |id: Option<&str>| {
            ids += 1;
            known.extend(id.and_then(|id| self.by_id.get(id).copied()));
        };
        match value {
            Value::String(id) if !id.is_empty() => find(Some(id)),
            Value::Array(items) => items.iter().for_each(|item| find(item.as_str())),
            _ => {}
        }
        if ids > 0 && known.len() == ids {
            return Link::Known(known);
        }
        match self.referenced(index, path, key) {
            Some(Link::Known(list)) if known.is_empty() => Link::Known(list),
            Some(Link::Known(list)) => {
                let mut all = known;
                all.extend(list);
                all.sort_unstable();
                all.dedup();
                Link::Known(all)
            }
            Some(Link::Unknown) => Link::Unknown,
            // Inside a list of blocks that the configuration gives as one expression
            // (`route = [...]`), an attribute unknown until apply has no references of
            // its own: it may be any resource that the list's expression refers to.
            None if !path.is_empty()
                && is_empty(value)
                && self.marked_unknown(index, path, key) =>
            {
                self.referenced_by_list(index, path)
                    .unwrap_or(Link::Unknown)
            }
            // Not set at all: no link. Ids that name nothing in the plan are resources
            // managed elsewhere, which the plan cannot describe.
            None if ids == 0 && is_empty(value) => Link::Known(Vec::new()),
            None => Link::Unknown,
        }
    }

    /// Whether the values give attribute `key` of resource `index` (at `path`) in full:
    /// an id, or a list of ids, none of them empty or unknown. A link that the plan
    /// cannot follow although its ids are written names resources managed elsewhere,
    /// not resources unknown until apply.
    pub fn written(&self, index: usize, path: &[&str], key: &str) -> bool {
        let value = at_path(&self.resource(index).values, path);
        let id = |value: &Value| value.as_str().is_some_and(|id| !id.is_empty());
        match value.get(key) {
            Some(Value::Array(items)) => !items.is_empty() && items.iter().all(id),
            Some(value) => id(value),
            None => false,
        }
    }

    /// Whether attribute `key` of resource `index`, absent from the values, is unknown
    /// until apply rather than unset: the plan's `after_unknown` marks it (or a part of
    /// it, or a block that holds it), or the configuration gives an expression for it.
    /// `path` leads to the attribute inside nested blocks, as for `link`.
    ///
    /// A computed attribute that the configuration leaves out is unknown in a plan for
    /// a new resource too; only some of those are open (an instance's subnet and
    /// groups, which AWS picks), so the callers that read them ask for this, and the
    /// others ask [`Plan::configured`].
    pub fn unknown(&self, index: usize, path: &[&str], key: &str) -> bool {
        self.marked_unknown(index, path, key) || self.configured(index, path, key)
    }

    /// Whether the plan's `after_unknown` marks attribute `key` of resource `index`
    /// (at `path`), a part of it, or a block that holds it.
    fn marked_unknown(&self, index: usize, path: &[&str], key: &str) -> bool {
        let Some(mut marks) = self.unknown.get(&index) else {
            return false;
        };
        for step in path {
            if marks.as_bool() == Some(true) {
                return true;
            }
            marks = step_into(marks, step);
        }
        // Only the parts that lead to `true` are kept: whatever is left marks some.
        marks.as_bool() == Some(true) || marks.get(key).is_some_and(|mark| !mark.is_null())
    }

    /// Where the configuration's references for attribute `key` of resource `index`
    /// lead: the resources they name, in index order, or `Link::Unknown` when one of
    /// them names something else (a variable, a local, a module output). `None` when
    /// the configuration gives no reference for it. `path` is as for `link`.
    pub fn referenced(&self, index: usize, path: &[&str], key: &str) -> Option<Link> {
        links_of(self.references(self.resource(index), path, key)?)
    }

    /// Whether the configuration gives an expression for attribute `key` of resource
    /// `index`: an attribute absent from the values but configured is unknown until
    /// apply, not unset.
    /// `path` leads to the attribute inside nested blocks, as for `link`.
    pub fn configured(&self, index: usize, path: &[&str], key: &str) -> bool {
        let resource = self.resource(index);
        let Some(expression) = self.expressions.get(&resource.config) else {
            return false;
        };
        at_path(expression, path)
            .get(key)
            .is_some_and(|value| !value.is_null())
    }

    /// The references that the configuration gives for an attribute: for each, the
    /// resources it names (`None` when it names something outside the plan's
    /// resources: a variable, a local, a module output). `None` overall when the
    /// configuration says nothing about the attribute.
    fn references(
        &self,
        resource: &Resource,
        path: &[&str],
        key: &str,
    ) -> Option<Vec<Option<Vec<usize>>>> {
        let expression = at_path(self.expressions.get(&resource.config)?, path);
        Some(self.resolve_references(resource, expression.get(key)?))
    }

    /// Where the references of the expression that configures a whole list of blocks
    /// lead, for an attribute inside one of them at `path`. Terraform writes some
    /// lists (a route table's `route`, a group's `ingress`) as one expression, `route =
    /// [...]`, never block by block, so an attribute of one block has no references of
    /// its own: while it is unknown until apply, it may be any of the list's. `None`
    /// when the configuration gives the blocks one by one, or nothing for the list.
    pub fn referenced_by_list(&self, index: usize, path: &[&str]) -> Option<Link> {
        let resource = self.resource(index);
        let mut node = self.expressions.get(&resource.config)?;
        for step in path {
            node = step_into(node, step);
            if node.get("references").is_some() {
                let references = self.resolve_references(resource, node);
                return links_of(references);
            }
        }
        None
    }

    /// What each reference of one expression names, as for [`Plan::references`].
    fn resolve_references(
        &self,
        resource: &Resource,
        expression: &Value,
    ) -> Vec<Option<Vec<usize>>> {
        // `count.index` and `each.key` pick an instance of a counted resource
        // (`aws_subnet.public[count.index]`, written as the two references
        // `aws_subnet.public` and `count.index`): the reference names every instance.
        let references: Vec<&str> = array(expression.get("references"))
            .filter_map(Value::as_str)
            .filter(|reference| !matches!(*reference, "count.index" | "each.key"))
            .collect();
        let mut out = Vec::new();
        // Terraform lists `aws_vpc.main.id` and then `aws_vpc.main`: keep the longest
        // form of each resource only once.
        let mut seen = Vec::new();
        for reference in references {
            let target = self.resolve_reference(&resource.module, reference);
            if let Some(Some(list)) = &target {
                if seen.contains(list) {
                    continue;
                }
                seen.push(list.clone());
            }
            out.push(target.map(|list| list.unwrap_or_default()));
        }
        out.into_iter()
            .map(|target| target.filter(|list| !list.is_empty()))
            .collect()
    }

    /// The resources a reference such as `aws_vpc.main.id` or `aws_subnet.a[0]` names
    /// from inside `module`. `None` when it names no resource (`var.x`, `local.y`,
    /// `count.index`); `Some(None)` when it names a resource type that is absent.
    fn resolve_reference(&self, module: &str, reference: &str) -> Option<Option<Vec<usize>>> {
        let mut parts = reference.splitn(3, '.');
        let kind = parts.next()?;
        let rest = parts.next()?;
        if !kind.starts_with("aws_") {
            return None;
        }
        let (name, key) = match rest.split_once('[') {
            Some((name, key)) => (name, Some(key)),
            None => (rest, None),
        };
        let config = join(&strip_keys(module), &format!("{kind}.{name}"));
        let candidates = self.by_config.get(&config)?;
        let exact = key.map(|key| join(module, &format!("{kind}.{name}[{key}")));
        Some(Some(
            candidates
                .iter()
                .copied()
                .filter(|&index| {
                    exact
                        .as_ref()
                        .is_none_or(|exact| &self.resources[index].address == exact)
                })
                .collect(),
        ))
    }

    /// The plan's resources that the configuration of resource `index` refers to
    /// anywhere in its expressions, nested blocks included, in index order.
    pub fn references_anywhere(&self, index: usize) -> Vec<usize> {
        let resource = self.resource(index);
        let Some(expressions) = self.expressions.get(&resource.config) else {
            return Vec::new();
        };
        let mut references = Vec::new();
        collect_references(expressions, &mut references);
        let mut found: Vec<usize> = (references.into_iter())
            .filter_map(|reference| self.resolve_reference(&resource.module, reference))
            .flatten()
            .flatten()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Every configuration reference to an AWS resource that names nothing in the plan
    /// or its configuration: (resource index, reference). A plan that Terraform wrote
    /// has none; a hand-edited or truncated one may.
    pub fn dangling(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (index, resource) in self.resources.iter().enumerate() {
            let Some(expressions) = self.expressions.get(&resource.config) else {
                continue;
            };
            let mut references = Vec::new();
            collect_references(expressions, &mut references);
            for reference in references {
                let mut parts = reference.splitn(3, '.');
                let (Some(kind), Some(rest)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if !kind.starts_with("aws_") || !MODELLED.contains(&kind) {
                    continue;
                }
                let name = rest.split('[').next().unwrap_or(rest);
                let config = join(&strip_keys(&resource.module), &format!("{kind}.{name}"));
                // `aws_vpc.gone.id` and `aws_vpc.gone` name one missing resource. One
                // the configuration declares but the plan has no instance of (`count =
                // var.create ? 1 : 0`, referred to as `aws_vpc.x[0]` behind a condition)
                // is not missing.
                let missing = (index, format!("{kind}.{name}"));
                let declared =
                    self.by_config.contains_key(&config) || self.expressions.contains_key(&config);
                if !declared && !out.contains(&missing) {
                    out.push(missing);
                }
            }
        }
        out
    }
}

fn collect_references<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter() {
                if key == "references" {
                    out.extend(array(Some(inner)).filter_map(Value::as_str));
                } else {
                    collect_references(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, out)),
        _ => {}
    }
}

/// The resources that references name together, in index order, or `Link::Unknown`
/// when one names something else; `None` for no references.
fn links_of(references: Vec<Option<Vec<usize>>>) -> Option<Link> {
    if references.is_empty() {
        return None;
    }
    let mut all = Vec::new();
    for reference in references {
        match reference {
            Some(list) => all.extend(list),
            None => return Some(Link::Unknown),
        }
    }
    all.sort_unstable();
    all.dedup();
    Some(Link::Known(all))
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::String(text) => text.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// One step into a value: an object key, or an array index written as digits.
pub fn step_into<'v>(value: &'v Value, step: &str) -> &'v Value {
    static NULL: Value = Value::Null;
    match value {
        Value::Array(items) => step
            .parse::<usize>()
            .ok()
            .and_then(|index| items.get(index))
            .unwrap_or(&NULL),
        _ => value.get(step).unwrap_or(&NULL),
    }
}

/// The value at `path` inside `value`, one [`step_into`] at a time: null where the
/// path leads nowhere.
pub fn at_path<'v>(value: &'v Value, path: &[&str]) -> &'v Value {
    (path.iter()).fold(value, |value, step| step_into(value, step))
}

pub fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// Whether list attribute `key` of `value` holds any item: a nested block given (a
/// function's `vpc_config`), an address listed.
pub fn has_any(value: &Value, key: &str) -> bool {
    array(value.get(key)).next().is_some()
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// An address without its instance keys: `module.a["x"].aws_subnet.b[0]` to
/// `module.a.aws_subnet.b`.
fn strip_keys(address: &str) -> String {
    // Most addresses have no key (or one at the end, `aws_instance.i[7]`): up to the
    // first bracket, the walk below keeps every character and starts as it began.
    let Some(bracket) = memchr::memchr2(b'[', b']', address.as_bytes()) else {
        return address.to_owned();
    };
    let mut out = String::with_capacity(address.len());
    out.push_str(&address[..bracket]);
    let mut depth = 0usize;
    let mut in_string = false;
    for c in address[bracket..].chars() {
        match c {
            '"' if depth > 0 => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The line of the first occurrence of `"key"` in the text, or 0.
fn line_of_key(text: &str, key: &str) -> u32 {
    let needle = format!("\"{key}\"");
    text.find(&needle).map_or(0, |at| {
        u32::try_from(text[..at].matches('\n').count() + 1).unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.6.0",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main",
       "values": {"cidr_block": "10.0.0.0/16"}}
    ],
    "child_modules": [{"address": "module.net", "resources": [
      {"address": "module.net.aws_subnet.private[\"a\"]", "mode": "managed", "type": "aws_subnet",
       "name": "private", "index": "a", "values": {"cidr_block": "10.0.1.0/24"}},
      {"address": "module.net.aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket",
       "name": "logs", "values": {}}
    ]}]
  }},
  "configuration": {"root_module": {"module_calls": {"net": {"module": {"resources": [
    {"address": "aws_subnet.private", "expressions": {"vpc_id": {"references": ["var.vpc_id"]}}}
  ]}}}, "resources": [
    {"address": "aws_vpc.main", "expressions": {}}
  ]}}
}"#;

    #[test]
    fn reads_modules_keys_and_lines() {
        let plan = Plan::read("plan.json", PLAN, Side::Planned).unwrap();
        let addresses: Vec<&str> = plan.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            ["aws_vpc.main", "module.net.aws_subnet.private[\"a\"]"]
        );
        assert_eq!(plan.resources[0].line, 6);
        assert_eq!(plan.resources[1].line, 10);
        assert_eq!(plan.unmodelled.get("aws_s3_bucket"), Some(&1));
        // A subnet whose VPC comes from a variable: the plan cannot say which.
        assert_eq!(plan.link(1, &[], "vpc_id"), Link::Unknown);
        assert_eq!(
            strip_keys("module.a[\"x]\"].aws_b.c[0]"),
            "module.a.aws_b.c"
        );
    }

    /// Lines taken from the parse agree with the scan of the text, for modules, an
    /// address given twice, and an object whose first key holds an escape.
    #[test]
    fn lines_agree_with_the_scan() {
        let text = r#"{"format_version": "1.0", "values": {"root_module": {
  "child_modules": [{"address": "module.m", "resources": [
      {"address": "module.m.aws_vpc.a", "mode": "managed", "type": "aws_vpc"},
    {
      "\u006dode": "managed", "address": "aws_vpc.b", "mode": "managed", "type": "aws_vpc"}
  ]}],
  "resources": [

      {"address": "aws_vpc.b", "mode": "managed", "type": "aws_vpc"},
     {
       "type": "aws_subnet", "address": "aws_subnet.c[\"x\"]", "mode": "managed"}
  ]}}}"#;
        let plan = Plan::read("plan.json", text, Side::Planned).unwrap();
        let scan = ResourceLines::scan(text);
        let lines: Vec<(&str, u32)> = (plan.resources.iter())
            .map(|r| (r.address.as_str(), r.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("aws_subnet.c[\"x\"]", 10),
                ("aws_vpc.b", 4),
                ("aws_vpc.b", 4),
                ("module.m.aws_vpc.a", 3),
            ]
        );
        for (address, line) in lines {
            assert_eq!(scan.line("values", address), line, "{address}");
        }
    }

    /// `after_unknown` marks an attribute, a part of it, or a block that holds it; the
    /// configuration's expression for an attribute left out counts too.
    #[test]
    fn unknown_attributes_are_those_a_change_marks_or_the_configuration_gives() {
        let text = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_instance.a", "mode": "managed", "type": "aws_instance", "values": {}},
    {"address": "aws_instance.b", "mode": "managed", "type": "aws_instance", "values": {}}
  ]}},
  "resource_changes": [
    {"address": "aws_instance.a", "change": {"after_unknown": {
      "subnet_id": true, "ipv6_addresses": [false, true],
      "ebs_block_device": true, "root_block_device": [{"kms_key_id": true}]}}}
  ],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_instance.b", "expressions": {"subnet_id": {"references": ["var.s"]}}}
  ]}}
}"#;
        let plan = Plan::read("plan.json", text, Side::Planned).unwrap();
        assert!(plan.unknown(0, &[], "subnet_id"));
        assert!(plan.unknown(0, &[], "ipv6_addresses"));
        assert!(plan.unknown(0, &["ebs_block_device", "0"], "volume_id"));
        assert!(plan.unknown(0, &["root_block_device", "0"], "kms_key_id"));
        assert!(!plan.unknown(0, &["root_block_device", "0"], "volume_id"));
        assert!(!plan.unknown(0, &[], "vpc_security_group_ids"));
        assert!(plan.unknown(1, &[], "subnet_id"));
        assert!(!plan.unknown(1, &[], "ipv6_addresses"));
        // The prior side is a state: nothing in it is unknown.
        let prior = text.replace(
            "\"planned_values\": {\"root_module\"",
            "\"prior_state\": {\"values\": {\"root_module\"",
        );
        let prior = prior.replace(
            "]}},\n  \"resource_changes\"",
            "]}}},\n  \"resource_changes\"",
        );
        let prior = Plan::read("plan.json", &prior, Side::Prior).unwrap();
        assert_eq!(prior.resources.len(), 2);
        assert!(!prior.unknown(0, &[], "subnet_id"));
    }

    /// A list that the configuration gives as one expression (`route = [...]`) has no
    /// references per block: an attribute of one block that the plan marks unknown
    /// may be any resource the list refers to, and one it does not mark is unset.
    #[test]
    fn an_unknown_attribute_in_a_list_given_as_one_expression_links_to_the_lists_references() {
        let text = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_internet_gateway.gw", "mode": "managed", "type": "aws_internet_gateway", "values": {}},
    {"address": "aws_route_table.a", "mode": "managed", "type": "aws_route_table",
     "values": {"route": [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": ""}]}},
    {"address": "aws_route_table.b", "mode": "managed", "type": "aws_route_table",
     "values": {"route": [{"cidr_block": "0.0.0.0/0"}]}}
  ]}},
  "resource_changes": [
    {"address": "aws_route_table.a", "change": {"after_unknown": {"route": [{"gateway_id": true}]}}},
    {"address": "aws_route_table.b", "change": {"after_unknown": {"route": [{"gateway_id": true}]}}}
  ],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_route_table.a", "expressions": {"route": {"references": [
      "aws_internet_gateway.gw.id", "aws_internet_gateway.gw"]}}},
    {"address": "aws_route_table.b", "expressions": {"route": {"references": ["var.routes"]}}}
  ]}}
}"#;
        let plan = Plan::read("plan.json", text, Side::Planned).unwrap();
        let route = ["route", "0"];
        assert_eq!(plan.link(1, &route, "gateway_id"), Link::Known(vec![0]));
        assert_eq!(
            plan.link(1, &route, "nat_gateway_id"),
            Link::Known(Vec::new())
        );
        assert_eq!(plan.link(2, &route, "gateway_id"), Link::Unknown);
        assert_eq!(plan.referenced_by_list(1, &[]), None);
    }

    #[test]
    fn rejects_other_format_versions_at_their_line() {
        let text = "{\n  \"format_version\": \"2.0\",\n  \"terraform_version\": \"9\"\n}";
        let error = Plan::read("plan.json", text, Side::Planned).unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("`2.0`"), "{error}");
        let error = Plan::read(
            "plan.json",
            "{\n\"format_version\": \"1.0\",",
            Side::Planned,
        )
        .unwrap_err();
        assert_eq!(error.line, 2);
    }

    /// `strip_keys` walks from the first bracket on; the whole walk gives the same.
    #[test]
    fn keys_are_stripped_as_a_walk_of_the_whole_address_strips_them() {
        fn walked(address: &str) -> String {
            let mut out = String::new();
            let (mut depth, mut in_string) = (0usize, false);
            for c in address.chars() {
                match c {
                    '"' if depth > 0 => in_string = !in_string,
                    '[' if !in_string => depth += 1,
                    ']' if !in_string => depth = depth.saturating_sub(1),
                    _ if depth == 0 => out.push(c),
                    _ => {}
                }
            }
            out
        }
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&"[a.\"\\[\\]é]{0,12}", |address| {
                proptest::prop_assert_eq!(strip_keys(&address), walked(&address));
                Ok(())
            })
            .unwrap();
        for address in ["a]b[c]d", "\"a[\"x\"]", "aws_instance.i[7]", "plain", ""] {
            assert_eq!(strip_keys(address), walked(address), "{address}");
        }
    }
}
