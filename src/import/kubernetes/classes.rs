//! Grouping workloads into classes that every policy (NetworkPolicy, AdminNetworkPolicy,
//! BaselineAdminNetworkPolicy) treats alike: the same rules apply to them (as sources and
//! as targets), the same rule peers contain them, and they name the same container ports. Connectivity is then computed per pair of classes, and
//! flows are emitted between classes, never per pair of workloads.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use crate::cidr_index::bounds;

use super::objects::{Action, ContainerPort, Labels, Objects, Peer, Pos, RulePort, Workload};
use super::selectors::LabelSelector;

/// Which way a rule governs traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// The admin tiers: AdminNetworkPolicy before NetworkPolicies, the baseline after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Admin,
    Baseline,
}

/// A rule of any kind of policy, with what evaluation needs of its policy.
pub struct FlatRule<'o> {
    /// The policy's namespace, where a peer without a namespace selector looks.
    pub namespace: &'o str,
    pub action: Action,
    /// `None`: every peer.
    pub peers: Option<&'o [Peer]>,
    /// `None`: every port.
    pub ports: Option<&'o [RulePort]>,
    pub at: Pos,
}

/// The rules that apply to a workload in one direction, by tier. Admin rules are in
/// the order they are consulted (priority, then rule order).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Applying {
    pub admin: Vec<u32>,
    /// `None` when no NetworkPolicy isolates the workload in this direction.
    pub network: Option<Vec<u32>>,
    pub baseline: Vec<u32>,
}

/// One side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    Class(usize),
    /// One workload of a class, where only it is concerned (a Service's backend).
    Workload(usize),
    /// Addresses outside the cluster that every rule treats alike: an index into
    /// `Cluster::external`.
    External(usize),
    /// The ingress controller, which policies see as a pod with no labels in a namespace
    /// with no labels.
    IngressController,
    /// A pod of a namespace whose labels someone chooses, as RBAC lets them start or
    /// relabel pods there: an index into `Cluster::started`.
    Started(usize),
}

/// What policies make of a pod whose labels someone chooses, as RBAC lets them start pods
/// in its namespace or update them. They may start or relabel many, so it stands for
/// every set of labels: peers hold it where some labels would match, and its egress is
/// open unless every pod of the namespace is isolated. Rules that deny or pass traffic
/// are left out, since other labels might escape them; counting more than one pod could
/// do over-approximates.
pub struct Started {
    /// Its namespace, and whether that namespace's labels are chosen too (RBAC lets
    /// someone relabel namespaces, and a pod of the namespace is theirs).
    pub chooser: Chooser,
    /// The first binding that lets anyone start or relabel it.
    pub at: Pos,
    /// Rules whose peers may hold it, sorted.
    pub peer_of: Vec<u32>,
    /// The admin rules that may allow its egress, and the NetworkPolicies' egress rules
    /// when one of them selects every pod of the namespace.
    pub egress: Applying,
}

/// A pod whose labels someone chooses (see [`Started`]): in which namespace, and
/// whether that namespace's labels are theirs to choose as well.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chooser {
    pub namespace: String,
    pub namespace_labels: bool,
}

/// Whether a namespace selector may select a started pod's namespace: by its labels, or
/// by any labels where they are chosen (`None`).
fn namespace_may_match(selector: &LabelSelector, labels: Option<&Labels>) -> bool {
    labels.map_or_else(|| selector.satisfiable(), |labels| selector.matches(labels))
}

/// What tells two workloads apart for NetworkPolicy: rule ids that apply to it as a
/// target (`None` when no policy isolates it), as a source, the rules whose peers hold
/// it, and its named container ports.
type ClassKey = (Applying, Applying, Vec<u32>, Vec<ContainerPort>);

pub struct Class {
    /// Indices into `Objects::workloads`, in order.
    pub members: Vec<usize>,
    pub ingress: Applying,
    pub egress: Applying,
    /// Rules whose peers hold the class's workloads, sorted.
    pub peer_of: Vec<u32>,
    pub ports: Vec<ContainerPort>,
}

pub struct Cluster<'o> {
    pub objects: &'o Objects,
    pub rules: Vec<FlatRule<'o>>,
    pub classes: Vec<Class>,
    /// Each workload's class.
    pub class_of: Vec<usize>,
    /// For each region of external addresses that rules treat alike, the rules whose
    /// peers hold it.
    pub external: Vec<Vec<u32>>,
    /// Rules whose peers hold the ingress controller.
    pub controller_peer_of: Vec<u32>,
    /// The pods whose labels someone chooses, one for each namespace where RBAC lets
    /// anyone start or relabel pods.
    pub started: Vec<Started>,
}

/// The labels of every namespace, the implicit `kubernetes.io/metadata.name` included.
pub fn namespace_labels(objects: &Objects) -> BTreeMap<String, Labels> {
    let mut labels: BTreeMap<String, Labels> = BTreeMap::new();
    for namespace in &objects.namespaces {
        labels
            .entry(namespace.name.clone())
            .or_default()
            .extend(namespace.labels.clone());
    }
    let names = objects
        .workloads
        .iter()
        .map(|w| &w.namespace)
        .chain(objects.policies.iter().map(|p| &p.namespace));
    for name in names {
        labels.entry(name.clone()).or_default();
    }
    for (name, labels) in &mut labels {
        labels.insert("kubernetes.io/metadata.name".to_owned(), name.clone());
    }
    labels
}

type Region = (u8, u128, u128);

/// The address space cut at every boundary of every address block that a rule names:
/// within one region, every block holds all addresses or none.
fn regions(rules: &[FlatRule]) -> Vec<Region> {
    let mut cuts: BTreeSet<(u8, u128)> = [(4, 0), (6, 0)].into();
    for rule in rules {
        for peer in rule.peers.into_iter().flatten() {
            if let Peer::IpBlock { cidr, except } = peer {
                for net in std::iter::once(cidr).chain(except) {
                    let (family, first, last) = bounds(net);
                    cuts.insert((family, first));
                    if let Some(next) = last.checked_add(1) {
                        cuts.insert((family, next));
                    }
                }
            }
        }
    }
    let top = |family: u8| {
        if family == 4 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        }
    };
    let cuts: Vec<(u8, u128)> = cuts
        .into_iter()
        .filter(|&(f, start)| start <= top(f))
        .collect();
    cuts.iter()
        .enumerate()
        .map(|(i, &(family, start))| {
            let end = match cuts.get(i + 1) {
                Some(&(next_family, next)) if next_family == family => next - 1,
                _ => top(family),
            };
            (family, start, end)
        })
        .collect()
}

/// Whether an address block, less its exceptions, holds a region.
fn block_holds(cidr: &IpNet, except: &[IpNet], (family, first, last): Region) -> bool {
    let inside = |net: &IpNet| {
        let (f, a, b) = bounds(net);
        f == family && a <= first && last <= b
    };
    inside(cidr) && !except.iter().any(inside)
}

fn subject_matches(
    namespaces: &LabelSelector,
    pods: Option<&LabelSelector>,
    ns_labels: &Labels,
    workload: &Workload,
) -> bool {
    namespaces.matches(ns_labels) && pods.is_none_or(|pods| pods.matches(&workload.labels))
}

impl<'o> Cluster<'o> {
    /// The classes of `objects`' workloads, and a started pod for each of `starting`, at
    /// the binding that lets its labels be chosen (see [`Started`]).
    pub fn new(objects: &'o Objects, starting: &BTreeMap<Chooser, Pos>) -> Cluster<'o> {
        let namespaces = namespace_labels(objects);
        let no_labels = Labels::new();
        let namespaces_labels = |name: &str| namespaces.get(name).unwrap_or(&no_labels);
        // Each started pod's namespace and its labels, `None` where they are chosen. A
        // namespace that only a binding names has only the label of its name.
        let starting_labels: Vec<(&str, Option<Labels>)> = starting
            .keys()
            .map(|chooser| {
                let name = &chooser.namespace;
                let labels = namespaces.get(name).cloned().unwrap_or_else(|| {
                    Labels::from([("kubernetes.io/metadata.name".to_owned(), name.clone())])
                });
                (name.as_str(), (!chooser.namespace_labels).then_some(labels))
            })
            .collect();
        let mut started_egress: Vec<Applying> = vec![Applying::default(); starting.len()];
        let ns_of = |workload: &Workload| namespaces_labels(&workload.namespace);
        let count = objects.workloads.len();
        // Selectors look within namespaces: index the workloads by theirs, in order.
        let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, workload) in objects.workloads.iter().enumerate() {
            by_namespace
                .entry(workload.namespace.as_str())
                .or_default()
                .push(index);
        }
        let in_namespace = |name: &str| by_namespace.get(name).map_or(&[][..], Vec::as_slice);
        let mut ingress: Vec<Applying> = vec![Applying::default(); count];
        let mut egress: Vec<Applying> = vec![Applying::default(); count];
        let mut rules = Vec::new();
        // Admin policies by priority (file order breaks ties), then the baseline.
        let mut admin: Vec<_> = objects.admin.iter().collect();
        admin.sort_by_key(|policy| (policy.baseline, policy.priority));
        for policy in admin {
            let tier = if policy.baseline {
                Tier::Baseline
            } else {
                Tier::Admin
            };
            let subjects: Vec<usize> = (0..count)
                .filter(|&i| {
                    let workload = &objects.workloads[i];
                    subject_matches(
                        &policy.namespaces,
                        policy.pods.as_ref(),
                        ns_of(workload),
                        workload,
                    )
                })
                .collect();
            // The started pods it may hold as a subject: its allow rules may let them out.
            let started_subjects: Vec<usize> = if policy.baseline {
                Vec::new()
            } else {
                starting_labels
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, labels))| {
                        namespace_may_match(&policy.namespaces, labels.as_ref())
                            && policy.pods.as_ref().is_none_or(LabelSelector::satisfiable)
                    })
                    .map(|(index, _)| index)
                    .collect()
            };
            for (direction, list) in [
                (Direction::Ingress, &policy.ingress),
                (Direction::Egress, &policy.egress),
            ] {
                for rule in list {
                    let id = rules.len() as u32;
                    if direction == Direction::Egress && rule.action == Action::Allow {
                        for &index in &started_subjects {
                            started_egress[index].admin.push(id);
                        }
                    }
                    rules.push((
                        direction,
                        FlatRule {
                            namespace: "",
                            action: rule.action,
                            peers: Some(&rule.peers),
                            ports: rule.ports.as_deref(),
                            at: rule.at,
                        },
                    ));
                    for &i in &subjects {
                        let applying = match direction {
                            Direction::Ingress => &mut ingress[i],
                            Direction::Egress => &mut egress[i],
                        };
                        match tier {
                            Tier::Baseline => applying.baseline.push(id),
                            _ => applying.admin.push(id),
                        }
                    }
                }
            }
        }
        // Per started pod, whether a NetworkPolicy isolates the egress of every pod of its
        // namespace, and the egress rules of those that may select it.
        let mut started_isolated = vec![false; starting.len()];
        let mut started_network: Vec<Vec<u32>> = vec![Vec::new(); starting.len()];
        for policy in &objects.policies {
            let selected: Vec<usize> = in_namespace(&policy.namespace)
                .iter()
                .copied()
                .filter(|&i| policy.pod_selector.matches(&objects.workloads[i].labels))
                .collect();
            // The started pods of its namespace whose egress it may govern.
            let selector = &policy.pod_selector;
            let started_here: Vec<usize> = if policy.egress.is_some() && selector.satisfiable() {
                (starting_labels.iter().enumerate())
                    .filter(|(_, (name, _))| *name == policy.namespace)
                    .map(|(index, _)| index)
                    .collect()
            } else {
                Vec::new()
            };
            for &index in &started_here {
                started_isolated[index] |=
                    selector.match_labels.is_empty() && selector.expressions.is_empty();
            }
            for (direction, list) in [
                (Direction::Ingress, &policy.ingress),
                (Direction::Egress, &policy.egress),
            ] {
                // A policy isolates the workloads it selects in the directions it
                // governs, even when it has no rules.
                let Some(list) = list else {
                    continue;
                };
                for &i in &selected {
                    let applying = match direction {
                        Direction::Ingress => &mut ingress[i],
                        Direction::Egress => &mut egress[i],
                    };
                    applying.network.get_or_insert_with(Vec::new);
                }
                for rule in list {
                    let id = rules.len() as u32;
                    if direction == Direction::Egress {
                        for &index in &started_here {
                            started_network[index].push(id);
                        }
                    }
                    rules.push((
                        direction,
                        FlatRule {
                            namespace: &policy.namespace,
                            action: Action::Allow,
                            peers: rule.peers.as_deref(),
                            ports: rule.ports.as_deref(),
                            at: rule.at,
                        },
                    ));
                    for &i in &selected {
                        let applying = match direction {
                            Direction::Ingress => &mut ingress[i],
                            Direction::Egress => &mut egress[i],
                        };
                        applying.network.get_or_insert_with(Vec::new).push(id);
                    }
                }
            }
        }
        for (index, isolated) in started_isolated.into_iter().enumerate() {
            if isolated {
                started_egress[index].network = Some(std::mem::take(&mut started_network[index]));
            }
        }
        let rules: Vec<FlatRule> = rules.into_iter().map(|(_, rule)| rule).collect();
        let mut peer_of: Vec<Vec<u32>> = vec![Vec::new(); count];
        let mut controller_peer_of = Vec::new();
        let mut started_peer_of: Vec<Vec<u32>> = vec![Vec::new(); starting.len()];
        for (id, rule) in rules.iter().enumerate() {
            let id = id as u32;
            for (index, (name, labels)) in starting_labels.iter().enumerate() {
                let held = rule.action == Action::Allow
                    && rule.peers.is_none_or(|peers| {
                        peers.iter().any(|peer| match peer {
                            Peer::Pods { namespaces, pods } => {
                                let namespace = match namespaces {
                                    None => rule.namespace == *name,
                                    Some(selector) => {
                                        namespace_may_match(selector, labels.as_ref())
                                    }
                                };
                                namespace && pods.satisfiable()
                            }
                            Peer::IpBlock { .. } => false,
                        })
                    });
                if held {
                    started_peer_of[index].push(id);
                }
            }
            match rule.peers {
                None => {
                    for held in &mut peer_of {
                        held.push(id);
                    }
                }
                Some(peers) => {
                    for peer in peers {
                        let Peer::Pods { namespaces, pods } = peer else {
                            continue;
                        };
                        // The namespaces first, then the pods in those that match.
                        let mut hold = |members: &[usize]| {
                            for &index in members {
                                let held = &mut peer_of[index];
                                if held.last() != Some(&id)
                                    && pods.matches(&objects.workloads[index].labels)
                                {
                                    held.push(id);
                                }
                            }
                        };
                        match namespaces {
                            None => hold(in_namespace(rule.namespace)),
                            Some(selector) => {
                                for (name, members) in &by_namespace {
                                    if selector.matches(namespaces_labels(name)) {
                                        hold(members);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let controller = match rule.peers {
                None => true,
                Some(peers) => peers.iter().any(|peer| match peer {
                    Peer::Pods {
                        namespaces: Some(namespaces),
                        pods,
                    } => namespaces.matches(&no_labels) && pods.matches(&no_labels),
                    _ => false,
                }),
            };
            if controller {
                controller_peer_of.push(id);
            }
        }
        // External regions that every rule treats alike are one end.
        let external: BTreeSet<Vec<u32>> = regions(&rules)
            .into_iter()
            .map(|region| {
                (0..rules.len() as u32)
                    .filter(|&id| match rules[id as usize].peers {
                        None => true,
                        Some(peers) => peers.iter().any(|peer| match peer {
                            Peer::IpBlock { cidr, except } => block_holds(cidr, except, region),
                            Peer::Pods { .. } => false,
                        }),
                    })
                    .collect()
            })
            .collect();
        let external = external.into_iter().collect();
        let mut keys: BTreeMap<ClassKey, usize> = BTreeMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut class_of = Vec::with_capacity(count);
        for (index, workload) in objects.workloads.iter().enumerate() {
            let mut ports: Vec<ContainerPort> = workload
                .ports
                .iter()
                .filter(|p| p.name.is_some())
                .cloned()
                .collect();
            ports.sort();
            let key: ClassKey = (
                std::mem::take(&mut ingress[index]),
                std::mem::take(&mut egress[index]),
                std::mem::take(&mut peer_of[index]),
                ports,
            );
            let class = match keys.get(&key) {
                Some(&class) => class,
                None => {
                    let class = classes.len();
                    classes.push(Class {
                        members: Vec::new(),
                        ingress: key.0.clone(),
                        egress: key.1.clone(),
                        peer_of: key.2.clone(),
                        ports: key.3.clone(),
                    });
                    keys.insert(key, class);
                    class
                }
            };
            classes[class].members.push(index);
            class_of.push(class);
        }
        let started = starting
            .iter()
            .zip(started_peer_of)
            .zip(started_egress)
            .map(|(((chooser, &at), peer_of), egress)| Started {
                chooser: chooser.clone(),
                at,
                peer_of,
                egress,
            })
            .collect();
        Cluster {
            objects,
            rules,
            classes,
            class_of,
            external,
            controller_peer_of,
            started,
        }
    }

    /// Rules whose peers hold `end`.
    pub fn peer_of(&self, end: End) -> &[u32] {
        match end {
            End::Class(class) => &self.classes[class].peer_of,
            End::Workload(index) => &self.classes[self.class_of[index]].peer_of,
            End::External(region) => &self.external[region],
            End::IngressController => &self.controller_peer_of,
            End::Started(index) => &self.started[index].peer_of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn regions_cut_the_space_where_blocks_begin_and_end() {
        let peers = [Peer::IpBlock {
            cidr: net("10.0.0.0/8"),
            except: vec![net("10.1.0.0/16")],
        }];
        let rule = FlatRule {
            namespace: "",
            action: Action::Allow,
            peers: Some(&peers),
            ports: None,
            at: Pos::default(),
        };
        let regions = regions(std::slice::from_ref(&rule));
        // IPv4: before 10/8, 10.0/16, the exception, the rest of 10/8, after; IPv6 whole.
        assert_eq!(regions.len(), 6);
        let held: Vec<bool> = regions
            .iter()
            .map(|&region| block_holds(&net("10.0.0.0/8"), &[net("10.1.0.0/16")], region))
            .collect();
        assert_eq!(held, [false, true, false, true, false, false]);
    }
}
