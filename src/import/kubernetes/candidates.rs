//! Which pairs of classes policy evaluation has to look at. A pair can connect only if
//! its source's egress and its target's ingress may each allow something: a direction
//! that a NetworkPolicy isolates allows only what its rules (admin or network) admit,
//! and those rules name their peers. Indexing the classes each rule's peers hold, and
//! the classes each rule applies to, turns the pairs into bit-set intersections, so
//! that the grants computed grow with what is allowed rather than with classes².

use super::classes::{Applying, Cluster};

/// A set of classes, one bit each.
type Bits = Vec<u64>;

fn insert(bits: &mut Bits, words: usize, index: usize) {
    if bits.is_empty() {
        bits.resize(words, 0);
    }
    bits[index / 64] |= 1 << (index % 64);
}

fn union_into(into: &mut [u64], from: &[u64]) {
    for (word, other) in into.iter_mut().zip(from) {
        *word |= other;
    }
}

/// The rules that can allow anything in a direction that NetworkPolicies isolate, or
/// `None` when none does: then traffic may be open whatever the peer.
fn deciding(applying: &Applying) -> Option<impl Iterator<Item = u32> + '_> {
    let network = applying.network.as_ref()?;
    Some(applying.admin.iter().chain(network).copied())
}

pub struct Candidates {
    classes: usize,
    words: usize,
    /// For each rule, the classes its peers hold (empty: none).
    holders: Vec<Bits>,
    /// For each rule, the isolated classes whose ingress it may admit into.
    admits: Vec<Bits>,
    /// Classes whose ingress no NetworkPolicy isolates.
    open_ingress: Bits,
}

impl Candidates {
    pub fn new(cluster: &Cluster) -> Candidates {
        let classes = cluster.classes.len();
        let words = classes.div_ceil(64);
        let mut holders = vec![Bits::new(); cluster.rules.len()];
        let mut admits = vec![Bits::new(); cluster.rules.len()];
        let mut open_ingress = vec![0; words];
        for (index, class) in cluster.classes.iter().enumerate() {
            for &id in &class.peer_of {
                insert(&mut holders[id as usize], words, index);
            }
            match deciding(&class.ingress) {
                Some(ids) => {
                    for id in ids {
                        insert(&mut admits[id as usize], words, index);
                    }
                }
                None => insert(&mut open_ingress, words, index),
            }
        }
        Candidates {
            classes,
            words,
            holders,
            admits,
            open_ingress,
        }
    }

    /// The classes that `from` may connect to, in order: those its egress may allow
    /// (every class when its egress is open) whose ingress may admit it (every class
    /// whose ingress is open, and those whose rules hold it as a peer).
    pub fn targets(&self, cluster: &Cluster, from: usize, out: &mut Vec<usize>) {
        out.clear();
        let Some(class) = cluster.classes.get(from) else {
            return;
        };
        let reached: Bits = match deciding(&class.egress) {
            None => vec![u64::MAX; self.words],
            Some(ids) => {
                let mut bits = vec![0; self.words];
                for id in ids {
                    union_into(&mut bits, &self.holders[id as usize]);
                }
                bits
            }
        };
        let mut admitted = self.open_ingress.clone();
        for &id in &class.peer_of {
            union_into(&mut admitted, &self.admits[id as usize]);
        }
        for (word, (reached, admitted)) in reached.iter().zip(&admitted).enumerate() {
            let mut bits = reached & admitted;
            while bits != 0 {
                let index = word * 64 + bits.trailing_zeros() as usize;
                if index < self.classes {
                    out.push(index);
                }
                bits &= bits - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::classes::End;
    use super::super::node;
    use super::super::objects::{Objects, Reader};
    use super::*;
    use crate::port_set::PortSet;

    /// Namespaces open, isolated one way, isolated both ways, with cross-namespace
    /// peers, a self-selecting class, external blocks, and admin rules that allow, deny
    /// and pass.
    const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: c}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: w, ports: [{name: http, containerPort: 80}]}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: a}
spec: {template: {metadata: {labels: {app: api}}, spec: {containers: [{name: a}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api2, namespace: a}
spec: {template: {metadata: {labels: {app: api}}, spec: {containers: [{name: a}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: b}
spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: d}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: job, namespace: b}
spec: {template: {metadata: {labels: {app: job}}, spec: {containers: [{name: j}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: open, namespace: c}
spec: {template: {metadata: {labels: {app: open}}, spec: {containers: [{name: o}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: a}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}, {namespaceSelector: {matchLabels: {env: dev}}}]}]
  egress: [{to: [{podSelector: {matchLabels: {app: api}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: In, values: [api, db, job]}]}}], ports: [{port: 443}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-in, namespace: b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {env: prod}}}], ports: [{port: http}, {port: 5432}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {env: dev}}}
  ingress:
    - {action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: c}}}]}
    - {action: Pass, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 22}}]}
  egress:
    - {action: Allow, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: open}}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]
"#;

    fn objects(text: &str) -> Objects {
        let mut objects = Objects::default();
        let mut problems = Vec::new();
        let documents = node::documents("cluster.yaml", text).expect("the test cluster parses");
        let mut reader = Reader {
            file: 0,
            display: "cluster.yaml",
            namespace: crate::import::kubernetes::DEFAULT_NAMESPACE,
            objects: &mut objects,
            seen: &mut Default::default(),
            problems: &mut problems,
        };
        for document in &documents {
            reader.document(document, None);
        }
        assert!(problems.is_empty(), "{problems:?}");
        objects
    }

    #[test]
    fn pruned_pairs_grant_what_every_pair_grants() {
        let objects = objects(CLUSTER);
        assert_eq!(objects.workloads.len(), 6);
        assert_eq!(objects.admin.len(), 2);
        let cluster = Cluster::new(&objects, &std::collections::BTreeMap::new());
        let mut every = Vec::new();
        let ends: Vec<End> = (0..cluster.classes.len())
            .map(End::Class)
            .chain((0..cluster.external.len()).map(End::External))
            .collect();
        for &from in &ends {
            for &to in &ends {
                let single = |end: End| match end {
                    End::Class(class) => cluster.classes[class].members.len() < 2,
                    _ => true,
                };
                if from == to && single(from) {
                    continue;
                }
                cluster.grants(from, to, &PortSet::all(), &mut every);
            }
        }
        // External to external is no pair of the cluster's.
        every.retain(|g| !matches!((g.from, g.to), (End::External(_), End::External(_))));
        every.sort();
        let mut pruned = cluster.network_grants();
        pruned.sort();
        assert!(!pruned.is_empty());
        assert_eq!(pruned, every);
        // The pruning skips pairs: some class reaches fewer classes than exist.
        let candidates = Candidates::new(&cluster);
        let mut targets = Vec::new();
        let fewer = (0..cluster.classes.len()).any(|class| {
            candidates.targets(&cluster, class, &mut targets);
            targets.len() < cluster.classes.len()
        });
        assert!(fewer);
    }
}
