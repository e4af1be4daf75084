//! Grouping workloads into classes that every NetworkPolicy treats alike: the same rules
//! apply to them (as sources and as targets), the same rule peers contain them, and they
//! name the same container ports. Connectivity is then computed per pair of classes, and
//! flows are emitted between classes, never per pair of workloads.

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::objects::{ContainerPort, Labels, NetworkPolicy, Objects, Peer, Pos, Rule};

/// Which way a rule governs traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A rule with the policy it belongs to.
pub struct FlatRule<'o> {
    pub policy: &'o NetworkPolicy,
    pub direction: Direction,
    pub rule: &'o Rule,
}

/// One side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    Class(usize),
    /// One workload of a class, where only it is concerned (a Service's backend).
    Workload(usize),
    /// Addresses outside the cluster.
    External,
    /// The ingress controller, which policies see as a pod with no labels in a namespace
    /// with no labels.
    IngressController,
}

/// What tells two workloads apart for NetworkPolicy: rule ids that apply to it as a
/// target (`None` when no policy isolates it), as a source, the rules whose peers hold
/// it, and its named container ports.
type ClassKey = (
    Option<Vec<u32>>,
    Option<Vec<u32>>,
    Vec<u32>,
    Vec<ContainerPort>,
);

pub struct Class {
    /// Indices into `Objects::workloads`, in order.
    pub members: Vec<usize>,
    /// Ingress rules that apply, or `None` when ingress is open.
    pub ingress: Option<Vec<u32>>,
    pub egress: Option<Vec<u32>>,
    /// Rules whose peers hold the class's workloads, sorted.
    pub peer_of: Vec<u32>,
    pub ports: Vec<ContainerPort>,
    /// Where the first member is declared.
    pub at: Pos,
}

pub struct Cluster<'o> {
    pub objects: &'o Objects,
    pub rules: Vec<FlatRule<'o>>,
    pub classes: Vec<Class>,
    /// Each workload's class.
    pub class_of: Vec<usize>,
    /// Rules whose peers hold external addresses, or the ingress controller.
    pub external_peer_of: Vec<u32>,
    pub controller_peer_of: Vec<u32>,
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

/// Whether addresses remain in `cidr` once `except` is taken out.
fn block_is_nonempty(cidr: &IpNet, except: &[IpNet]) -> bool {
    !crate::cidr_index::covers(cidr, except.iter().copied())
}

impl<'o> Cluster<'o> {
    pub fn new(objects: &'o Objects) -> Cluster<'o> {
        let namespaces = namespace_labels(objects);
        let no_labels = Labels::new();
        let mut rules = Vec::new();
        for policy in &objects.policies {
            for (direction, list) in [
                (Direction::Ingress, &policy.ingress),
                (Direction::Egress, &policy.egress),
            ] {
                for rule in list.iter().flatten() {
                    rules.push(FlatRule {
                        policy,
                        direction,
                        rule,
                    });
                }
            }
        }
        let count = objects.workloads.len();
        let mut ingress: Vec<Option<Vec<u32>>> = vec![None; count];
        let mut egress: Vec<Option<Vec<u32>>> = vec![None; count];
        let mut peer_of: Vec<Vec<u32>> = vec![Vec::new(); count];
        let mut external_peer_of = Vec::new();
        let mut controller_peer_of = Vec::new();
        // Selection first: a policy isolates the workloads it selects, in the directions
        // it governs, even when it has no rules.
        for policy in &objects.policies {
            for (index, workload) in objects.workloads.iter().enumerate() {
                if workload.namespace != policy.namespace
                    || !policy.pod_selector.matches(&workload.labels)
                {
                    continue;
                }
                if policy.ingress.is_some() {
                    ingress[index].get_or_insert_with(Vec::new);
                }
                if policy.egress.is_some() {
                    egress[index].get_or_insert_with(Vec::new);
                }
            }
        }
        for (id, flat) in rules.iter().enumerate() {
            let id = id as u32;
            let policy = flat.policy;
            for (index, workload) in objects.workloads.iter().enumerate() {
                if workload.namespace == policy.namespace
                    && policy.pod_selector.matches(&workload.labels)
                {
                    let slot = match flat.direction {
                        Direction::Ingress => &mut ingress[index],
                        Direction::Egress => &mut egress[index],
                    };
                    slot.get_or_insert_with(Vec::new).push(id);
                }
                let ns_labels = namespaces.get(&workload.namespace).unwrap_or(&no_labels);
                let holds = match &flat.rule.peers {
                    None => true,
                    Some(peers) => peers.iter().any(|peer| match peer {
                        Peer::Pods { namespaces, pods } => {
                            let in_namespace = match namespaces {
                                None => workload.namespace == policy.namespace,
                                Some(selector) => selector.matches(ns_labels),
                            };
                            in_namespace && pods.matches(&workload.labels)
                        }
                        Peer::IpBlock { .. } => false,
                    }),
                };
                if holds {
                    peer_of[index].push(id);
                }
            }
            let (external, controller) = match &flat.rule.peers {
                None => (true, true),
                Some(peers) => (
                    peers.iter().any(|peer| match peer {
                        Peer::IpBlock { cidr, except } => block_is_nonempty(cidr, except),
                        Peer::Pods { .. } => false,
                    }),
                    peers.iter().any(|peer| match peer {
                        Peer::Pods {
                            namespaces: Some(namespaces),
                            pods,
                        } => namespaces.matches(&no_labels) && pods.matches(&no_labels),
                        _ => false,
                    }),
                ),
            };
            if external {
                external_peer_of.push(id);
            }
            if controller {
                controller_peer_of.push(id);
            }
        }
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
                ingress[index].take(),
                egress[index].take(),
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
                        at: workload.at,
                    });
                    keys.insert(key, class);
                    class
                }
            };
            classes[class].members.push(index);
            class_of.push(class);
        }
        Cluster {
            objects,
            rules,
            classes,
            class_of,
            external_peer_of,
            controller_peer_of,
        }
    }

    /// Rules whose peers hold `end`.
    pub fn peer_of(&self, end: End) -> &[u32] {
        match end {
            End::Class(class) => &self.classes[class].peer_of,
            End::Workload(index) => &self.classes[self.class_of[index]].peer_of,
            End::External => &self.external_peer_of,
            End::IngressController => &self.controller_peer_of,
        }
    }
}
