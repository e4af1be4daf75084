//! Objects declared twice. Two manifests of one kind, namespace and name are one object
//! to a cluster, which keeps the last one applied, so reading both (two ClusterRoles'
//! rules, two NetworkPolicies' peers) or either would make the result depend on the
//! order of the files. Identical copies, the same parsed content wherever they are
//! written (parts that nothing reads aside, `UNREAD`), are one object, read once at its
//! first place; copies that differ are an error that names both places and the parts
//! where they differ. A copy is known by digests of its parts, so that the documents
//! need not be kept.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::node::Node;
use super::objects::{ACCOUNT_NAME, Pos};
use crate::raw::At;

/// The modelled kinds, each with what a message calls it and whether it is
/// cluster-scoped (one of each name in the cluster, not in each namespace).
const KINDS: &[(&str, &str, bool)] = &[
    ("Namespace", "Kubernetes Namespace", true),
    ("ClusterRole", "Kubernetes ClusterRole", true),
    ("ClusterRoleBinding", "Kubernetes ClusterRoleBinding", true),
    ("AdminNetworkPolicy", "Kubernetes AdminNetworkPolicy", true),
    (
        "BaselineAdminNetworkPolicy",
        "Kubernetes BaselineAdminNetworkPolicy",
        true,
    ),
    ("Role", "Kubernetes Role", false),
    ("RoleBinding", "Kubernetes RoleBinding", false),
    ("NetworkPolicy", "Kubernetes NetworkPolicy", false),
    ("Service", "Kubernetes Service", false),
    ("ServiceAccount", "Kubernetes ServiceAccount", false),
    ("Secret", "Kubernetes Secret", false),
    ("Ingress", "Kubernetes Ingress", false),
    ("Route", "OpenShift Route", false),
    ("Pod", "Kubernetes Pod", false),
    ("Deployment", "Kubernetes Deployment", false),
    ("ReplicaSet", "Kubernetes ReplicaSet", false),
    (
        "ReplicationController",
        "Kubernetes ReplicationController",
        false,
    ),
    ("StatefulSet", "Kubernetes StatefulSet", false),
    ("DaemonSet", "Kubernetes DaemonSet", false),
    ("Job", "Kubernetes Job", false),
    ("CronJob", "Kubernetes CronJob", false),
];

/// A digest of each part of an object, sorted by the part's name: each top-level field,
/// and each field of `metadata` (`metadata.labels`).
type Parts = Vec<(Box<str>, [u8; 32])>;

/// An object declared twice with different content.
pub struct Conflict {
    pub kind: &'static str,
    /// What a message calls its kind (`Kubernetes ClusterRole`).
    pub what: &'static str,
    /// Its name, after its namespace where it has one (`shop/web`).
    pub name: String,
    pub first: Pos,
    pub again: Pos,
    /// The parts where the two differ, sorted.
    pub differ: Vec<String>,
}

/// The objects read so far, by kind, namespace and name, and the conflicts found.
#[derive(Default)]
pub struct Seen {
    first: BTreeMap<(&'static str, String, String), (Pos, Parts)>,
    pub conflicts: Vec<Conflict>,
}

/// Whether objects of `kind` are cluster-scoped, so that they have no namespace.
pub fn cluster_scoped(kind: &str) -> bool {
    KINDS
        .iter()
        .any(|&(modelled, _, cluster_scoped)| modelled == kind && cluster_scoped)
}

impl Seen {
    /// Whether to read the object `doc` of `kind`, `namespace` and `name`, declared at
    /// `at`: yes for its first copy; no for an identical copy, and no, with a conflict
    /// noted, for a different one.
    pub fn admit(
        &mut self,
        kind: &str,
        namespace: &str,
        name: &str,
        at: Pos,
        doc: &At<Node>,
    ) -> bool {
        let Some(&(kind, what, cluster_scoped)) =
            KINDS.iter().find(|(modelled, _, _)| *modelled == kind)
        else {
            return true;
        };
        let namespace = if cluster_scoped { "" } else { namespace };
        let parts = parts(&doc.value);
        let key = (kind, namespace.to_owned(), name.to_owned());
        let Some((first, first_parts)) = self.first.get(&key) else {
            self.first.insert(key, (at, parts));
            return true;
        };
        if *first_parts != parts {
            self.conflicts.push(Conflict {
                kind,
                what,
                name: if cluster_scoped {
                    name.to_owned()
                } else {
                    format!("{namespace}/{name}")
                },
                first: *first,
                again: at,
                differ: differing(first_parts, &parts),
            });
        }
        false
    }
}

/// The names of the parts that one of `a` and `b` has and the other has not, or has
/// with other content; both sorted by name.
fn differing(a: &Parts, b: &Parts) -> Vec<String> {
    let a: BTreeMap<&str, &[u8; 32]> = a.iter().map(|(k, v)| (&**k, v)).collect();
    let b: BTreeMap<&str, &[u8; 32]> = b.iter().map(|(k, v)| (&**k, v)).collect();
    let mut names: Vec<String> = (a.keys().chain(b.keys()))
        .filter(|name| a.get(*name) != b.get(*name))
        .map(|name| (*name).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Parts that nothing reads, so that copies which differ only there are one object:
/// what the API server writes back into an object (`kubectl get -o yaml` keeps it), the
/// namespace, already part of the key (`shop`, or left out and given as `shop`), and
/// annotations, but for the one that names a token Secret's account (`ACCOUNT_NAME`).
const UNREAD: &[&str] = &[
    "status",
    "metadata.annotations",
    "metadata.creationTimestamp",
    "metadata.generation",
    "metadata.managedFields",
    "metadata.namespace",
    "metadata.resourceVersion",
    "metadata.selfLink",
    "metadata.uid",
];

/// The digests of an object's parts that cordon may read.
fn parts(object: &Node) -> Parts {
    let mut parts: Parts = Vec::new();
    let Node::Map(entries) = object else {
        return vec![("".into(), digest(object))];
    };
    let mut push = |name: String, value: &Node| {
        if !UNREAD.contains(&name.as_str()) {
            parts.push((name.into(), digest(value)));
        }
    };
    for (key, value) in entries {
        match (key.as_str(), &value.value) {
            ("metadata", Node::Map(fields)) => {
                for (field, value) in fields {
                    push(format!("metadata.{field}"), &value.value);
                }
                let account = (value.value.get("annotations"))
                    .and_then(|annotations| annotations.value.get(ACCOUNT_NAME));
                if let Some(account) = account {
                    push(
                        format!("metadata.annotations.{ACCOUNT_NAME}"),
                        &account.value,
                    );
                }
            }
            _ => push(key.clone(), &value.value),
        }
    }
    parts.sort();
    parts
}

/// What is still to be written of a value, in `digest`'s walk.
enum Next<'a> {
    Value(&'a Node),
    Key(&'a str),
}

/// A digest of a value's content, positions aside: the same for two values that parse
/// alike, whatever the order of their mappings' keys. The walk keeps its own stack, since
/// nothing that input controls may recurse.
fn digest(value: &Node) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut text = |tag: u8, text: &str| {
        hasher.update([tag]);
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    };
    let mut stack = vec![Next::Value(value)];
    while let Some(next) = stack.pop() {
        match next {
            Next::Key(key) => text(b'k', key),
            Next::Value(Node::Null) => text(b'n', ""),
            Next::Value(Node::Bool(value)) => text(b'b', if *value { "true" } else { "false" }),
            Next::Value(Node::Number(number)) => text(b'#', number),
            Next::Value(Node::Str(string)) => text(b's', string),
            Next::Value(Node::Seq(items)) => {
                text(b'[', &items.len().to_string());
                stack.extend(items.iter().rev().map(|item| Next::Value(&item.value)));
            }
            Next::Value(Node::Map(entries)) => {
                text(b'{', &entries.len().to_string());
                let mut sorted: Vec<&(String, At<Node>)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                for (key, value) in sorted.into_iter().rev() {
                    stack.push(Next::Value(&value.value));
                    stack.push(Next::Key(key));
                }
            }
        }
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::kubernetes::node::documents;

    fn object(text: &str) -> At<Node> {
        documents("m.yaml", text).unwrap().remove(0)
    }

    #[test]
    fn copies_are_one_whatever_their_layout_and_else_differ_by_part() {
        let role = "kind: ClusterRole\nmetadata: {name: r, labels: {a: '1', b: '2'}}\nrules: [{verbs: [get]}]\n";
        let laid_out = "metadata:\n  labels:\n    b: '2'\n    a: '1'\n  name: r\nrules:\n  - verbs: [get]\nkind: ClusterRole\n";
        assert_eq!(parts(&object(role).value), parts(&object(laid_out).value));
        let relabelled = role.replace("b: '2'", "b: '3'");
        let other_rules = role.replace("get", "list");
        let order = role.replace("[get]", "[get, list]");
        let reordered = role.replace("[get]", "[list, get]");
        let a = parts(&object(role).value);
        let differ = |text: &str| differing(&a, &parts(&object(text).value));
        assert_eq!(differ(&relabelled), ["metadata.labels"]);
        assert_eq!(differ(&other_rules), ["rules"]);
        // A list's order is content: `[get, list]` and `[list, get]` differ.
        assert_eq!(
            differing(
                &parts(&object(&order).value),
                &parts(&object(&reordered).value)
            ),
            ["rules"]
        );
        // A part that one copy has alone differs too.
        assert_eq!(
            differ(&format!("{role}aggregationRule: {{}}\n")),
            ["aggregationRule"]
        );
        // What nothing reads is set aside: annotations, the namespace (part of the
        // key) and what the API server writes back.
        let written_back = role.replace(
            "name: r,",
            "name: r, namespace: x, uid: u, annotations: {note: n},",
        );
        assert_eq!(
            differ(&format!("{written_back}status: {{}}\n")),
            [] as [&str; 0]
        );
        // But for the annotation that names a token Secret's account.
        let secret = "kind: Secret\nmetadata: {name: t, annotations: {kubernetes.io/service-account.name: a}}\n";
        let a = parts(&object(secret).value);
        let other_account = secret.replace(": a}", ": b}");
        assert_eq!(
            differing(&a, &parts(&object(&other_account).value)),
            ["metadata.annotations.kubernetes.io/service-account.name"]
        );
        // A number is not the string of its digits.
        let number = "kind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n";
        let string = number.replace("80", "'80'");
        let a = parts(&object(number).value);
        assert_eq!(differing(&a, &parts(&object(&string).value)), ["spec"]);
    }

    #[test]
    fn the_first_copy_is_read_and_a_different_one_is_a_conflict() {
        let mut seen = Seen::default();
        let at = |line: u32| Pos {
            file: 0,
            line,
            column: 1,
        };
        let policy = object("kind: NetworkPolicy\nmetadata: {name: p}\nspec: {}\n");
        let other = object("kind: NetworkPolicy\nmetadata: {name: p}\nspec: {x: 1}\n");
        assert!(seen.admit("NetworkPolicy", "shop", "p", at(1), &policy));
        assert!(!seen.admit("NetworkPolicy", "shop", "p", at(2), &policy));
        // Another namespace holds another policy; another kind, another object.
        assert!(seen.admit("NetworkPolicy", "ops", "p", at(3), &other));
        assert!(seen.admit("Service", "shop", "p", at(4), &other));
        assert!(seen.conflicts.is_empty());
        assert!(!seen.admit("NetworkPolicy", "shop", "p", at(5), &other));
        let [conflict] = seen.conflicts.as_slice() else {
            panic!("one conflict");
        };
        assert_eq!(conflict.what, "Kubernetes NetworkPolicy");
        assert_eq!(conflict.name, "shop/p");
        assert_eq!((conflict.first, conflict.again), (at(1), at(5)));
        assert_eq!(conflict.differ, ["spec"]);
        // Cluster-scoped kinds have one object of each name, whatever the namespace.
        assert!(seen.admit("ClusterRole", "shop", "r", at(6), &policy));
        assert!(!seen.admit("ClusterRole", "default", "r", at(7), &policy));
    }
}
