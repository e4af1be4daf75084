//! Kubernetes manifests as input: NetworkPolicy semantics through `connections`, flow
//! locations at the rule's line, imported names in policy files, and bad manifests.

use crate::harness::Cordon;

const PODS: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: c
          ports: [{name: http, containerPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: c
          ports: [{name: sql, containerPort: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops, labels: {app: tool}}
spec: {containers: [{name: c}]}
";

/// The pairs `connections` lists, each as `FROM -> TO` and what `detail` says of it.
fn listed(
    files: &[(&str, &str)],
    extra: &[&str],
    detail: impl Fn(&serde_json::Value) -> String,
) -> Vec<String> {
    let mut cordon = Cordon::new();
    for (path, text) in files {
        cordon = cordon.file(path, text);
    }
    let mut args = vec!["connections", "k8s", "--format", "json"];
    args.extend_from_slice(extra);
    let out = cordon.args(args).run();
    out.code(0);
    out.json()["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} -> {} {}",
                c["from"].as_str().unwrap(),
                c["to"].as_str().unwrap(),
                detail(c)
            )
        })
        .collect()
}

/// The pairs `connections` lists, as `FROM -> TO PORTS`.
fn pairs(files: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    listed(files, extra, |c| {
        let ports: Vec<&str> = c["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        ports.join(",")
    })
}

/// The pairs `connections` lists, as `FROM -> TO LOCATION` with their first flow's
/// location.
fn located_pairs(files: &[(&str, &str)]) -> Vec<String> {
    listed(files, &[], |c| {
        c["flows"][0]["location"].as_str().unwrap().to_owned()
    })
}

#[test]
fn without_policies_every_workload_is_open() {
    let found = pairs(&[("k8s/pods.yaml", PODS)], &[]);
    assert!(
        found.contains(&"shop/web -> shop/db any".to_owned()),
        "{found:?}"
    );
    assert!(found.contains(&"ops/tool -> shop/web any".to_owned()));
    assert!(found.contains(&"internet -> ops/tool any".to_owned()));
    assert!(found.contains(&"shop/db -> internet any".to_owned()));
    assert_eq!(found.len(), 6 + 3 + 3, "{found:?}");
}

#[test]
fn a_connection_needs_egress_at_the_source_and_ingress_at_the_target() {
    let policy = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: sql}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [web]}]}}]
      ports: [{port: 5000, endPort: 6000}, {port: 80, protocol: UDP}]
    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [0.0.0.0/1, 128.0.0.0/1]}}]
";
    let found = pairs(
        &[("k8s/pods.yaml", PODS), ("k8s/policy.yaml", policy)],
        &["--from", "shop/web"],
    );
    // The db admits web on its named port (5432), and web's egress allows 5000-6000 and
    // udp/80 inside `team=web` namespaces (not `ops`), and an ipBlock whose exceptions
    // cover every address (so not the internet).
    assert_eq!(found, ["shop/web -> shop/db tcp/5432"]);
    let found = pairs(
        &[("k8s/pods.yaml", PODS), ("k8s/policy.yaml", policy)],
        &["--to", "shop/db"],
    );
    // The db admits nothing else: not ops/tool, not the internet.
    assert_eq!(found, ["shop/web -> shop/db tcp/5432"]);
    let found = pairs(
        &[("k8s/pods.yaml", PODS), ("k8s/policy.yaml", policy)],
        &["--to", "ops/tool"],
    );
    assert_eq!(
        found,
        ["internet -> ops/tool any", "shop/db -> ops/tool any"]
    );
}

/// policyTypes defaults as the API server defaults it (SetDefaults_NetworkPolicy): an
/// empty list as a missing one, and egress only for a non-empty list of egress rules.
/// The first was a mismatch with NCA; in the second NCA isolates egress too.
#[test]
fn policy_types_default_as_the_api_server_defaults_them() {
    let policy = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: empty-types, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress-rules, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
  egress: []
";
    let files = [("k8s/pods.yaml", PODS), ("k8s/policy.yaml", policy)];
    // `policyTypes: []` is `[Ingress]`: the db admits nothing.
    assert_eq!(pairs(&files, &["--to", "shop/db"]), Vec::<String>::new());
    // `egress: []` without policyTypes governs ingress only: web still reaches out.
    assert_eq!(
        pairs(&files, &["--from", "shop/web"]),
        ["shop/web -> internet any", "shop/web -> ops/tool any"]
    );
}

#[test]
fn a_null_namespace_selector_is_the_policys_own_namespace() {
    let manifests = "\
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod, labels: {app: web}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dev, labels: {app: web}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: null, podSelector: {matchLabels: {app: web}}}]
";
    let found = pairs(&[("k8s/m.yaml", manifests)], &[]);
    assert!(
        found.contains(&"prod/web -> prod/db any".to_owned()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| p.starts_with("dev/web -> prod/db")),
        "{found:?}"
    );
}

#[test]
fn pods_fold_into_the_top_of_their_chain_of_owners() {
    let owned = |kind: &str, name: &str, owner_kind: &str, owner: &str, ns: &str| {
        format!(
            "apiVersion: {}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: x}}\n  ownerReferences: [{{kind: {owner_kind}, name: {owner}, controller: true}}]\nspec: {{template: {{metadata: {{labels: {{app: x}}}}, spec: {{containers: [{{name: c}}]}}}}, containers: [{{name: c}}]}}\n---\n",
            if kind == "Pod" {
                "v1"
            } else if kind == "Job" {
                "batch/v1"
            } else {
                "apps/v1"
            }
        )
    };
    let deployment = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: ns1}}\nspec: {{template: {{metadata: {{labels: {{app: x}}}}, spec: {{containers: [{{name: c}}]}}}}}}\n---\n{}{}",
        owned("ReplicaSet", "web-5d4f", "Deployment", "web", "ns1"),
        owned("Pod", "web-5d4f-abcde", "ReplicaSet", "web-5d4f", "ns1"),
    );
    // A CronJob that is not among the inputs: its Job and the Job's pod are one asset.
    let cron = format!(
        "{}{}",
        owned("Job", "backup-28900000", "CronJob", "backup", "ops"),
        owned(
            "Pod",
            "backup-28900000-x7k2p",
            "Job",
            "backup-28900000",
            "ops"
        ),
    );
    for manifests in [format!("{deployment}{cron}"), format!("{cron}{deployment}")] {
        let found = pairs(&[("k8s/m.yaml", &manifests)], &[]);
        assert!(
            found.contains(&"internet -> ns1/web any".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"internet -> ops/backup any".to_owned()),
            "{found:?}"
        );
        assert!(
            !found
                .iter()
                .any(|p| p.contains("5d4f") || p.contains("28900000")),
            "{found:?}"
        );
    }
}

#[test]
fn pods_of_a_missing_owner_fold_only_when_they_agree() {
    let pod = |name: &str, track: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: web, track: {track}}}\n  ownerReferences: [{{kind: ReplicaSet, name: web-5d4f, controller: true}}]\nspec: {{containers: [{{name: c}}]}}\n---\n"
        )
    };
    // The canary is isolated; the stable pod, which no policy selects, is open.
    let isolate_canary = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: canary, namespace: shop}\nspec: {podSelector: {matchLabels: {track: canary}}, policyTypes: [Ingress]}\n";
    let pods = format!(
        "{}{}",
        pod("web-5d4f-a", "stable"),
        pod("web-5d4f-b", "canary")
    );
    for manifests in [
        format!("{pods}{isolate_canary}"),
        format!(
            "{}{}{isolate_canary}",
            pod("web-5d4f-b", "canary"),
            pod("web-5d4f-a", "stable")
        ),
    ] {
        let found = pairs(&[("k8s/m.yaml", &manifests)], &["--to", "shop"]);
        assert_eq!(
            found,
            [
                "internet -> shop/web-5d4f-a any",
                "shop/web-5d4f-b -> shop/web-5d4f-a any"
            ],
            "{manifests}"
        );
    }
    // Pods that agree on everything cordon reads are one asset, named after the owner.
    let agreeing = format!(
        "{}{}",
        pod("web-5d4f-a", "stable"),
        pod("web-5d4f-b", "stable")
    );
    let found = pairs(&[("k8s/m.yaml", &agreeing)], &["--to", "shop"]);
    assert_eq!(found, ["internet -> shop/web-5d4f any"]);
}

#[test]
fn policies_add_up_and_flows_point_at_the_rule() {
    let policy = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 5432}]
    - from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}}]
      ports: [{port: 9000, protocol: SCTP}]
";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("k8s/policy.yaml", policy)
        .args(["connections", "k8s", "--to", "shop/db", "--format", "json"])
        .run();
    out.code(0);
    let value = out.json();
    let connections = value["connections"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = connections
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().to_owned(),
                c["ports"][0].as_str().unwrap().to_owned(),
                c["flows"][0]["location"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "ops/tool".to_owned(),
                "sctp/9000".to_owned(),
                "k8s/policy.yaml:15".to_owned()
            ),
            (
                "shop/web".to_owned(),
                "tcp/5432".to_owned(),
                "k8s/policy.yaml:13".to_owned()
            ),
        ]
    );
}

#[test]
fn a_flow_that_no_policy_decides_points_at_the_workload_it_enters() {
    // Three pods that no policy selects, alike to every policy, so one class: each flow
    // into one points at its own declaration, and each flow out to the internet at its
    // source's.
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {{containers: [{{name: c, image: x}}]}}\n"
        )
    };
    let files = [
        ("k8s/a.yaml", pod("a")),
        ("k8s/b.yaml", format!("# comment\n\n{}", pod("b"))),
        ("k8s/c.yaml", format!("{}---\n{}", pod("c"), pod("d"))),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let found = located_pairs(&files);
    for (pair, location) in [
        ("default/a -> default/b", "k8s/b.yaml:5"),
        ("default/b -> default/a", "k8s/a.yaml:3"),
        ("default/a -> default/d", "k8s/c.yaml:8"),
        ("default/d -> default/c", "k8s/c.yaml:3"),
        ("internet -> default/b", "k8s/b.yaml:5"),
        ("internet -> default/d", "k8s/c.yaml:8"),
        ("default/b -> internet", "k8s/b.yaml:5"),
        ("default/c -> internet", "k8s/c.yaml:3"),
    ] {
        let line = format!("{pair} {location}");
        assert!(found.contains(&line), "{line}: {found:?}");
    }
    assert_eq!(found.len(), 4 * 3 + 4 + 4, "{found:?}");
    // The flow to cut is the target's.
    let mut cordon = Cordon::new();
    for (path, text) in &files {
        cordon = cordon.file(path, text);
    }
    let out = cordon
        .args([
            "path",
            "k8s",
            "--from",
            "default/a",
            "--to",
            "default/b",
            "--format",
            "json",
        ])
        .run();
    out.code(0);
    assert_eq!(
        out.json()["cut"]["flows"],
        serde_json::json!(["k8s/b.yaml:5"])
    );
}

#[test]
fn policy_files_name_imported_entities_as_written() {
    let invariants = "\
invariants:
  - name: tool-cannot-reach-db
    forbid: {from: ops/tool, to: shop/db}
  - name: web-label
    forbid: {from: tag:app=web, to: internet, direct: true}
";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("policies/invariants.yaml", invariants)
        .args(["check", "k8s", "policies", "--format", "json"])
        .run();
    out.code(1);
    let value = out.json();
    assert_eq!(value["results"][0]["status"], "fail");
    assert_eq!(value["results"][0]["witness"][0]["to"], "shop/db");
    assert_eq!(
        value["results"][0]["witness"][0]["location"],
        "k8s/pods.yaml:20"
    );
    assert_eq!(value["results"][1]["status"], "fail");
}

#[test]
fn a_name_declared_twice_names_both_places() {
    let segment = "segments:\n  - name: shop\n";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("policies/estate.yaml", segment)
        .args(["check", "k8s", "policies"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("duplicate entity name `shop`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("k8s/pods.yaml:4"), "{}", out.stderr);
    assert!(
        out.stderr.contains("policies/estate.yaml:2"),
        "{}",
        out.stderr
    );
    // Hand-written names keep the plain rule.
    let out = Cordon::new()
        .file("policies/estate.yaml", "assets:\n  - name: shop/web\n")
        .args(["check"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("invalid entity name `shop/web`"),
        "{}",
        out.stderr
    );
}

#[test]
fn two_objects_of_one_cordon_name_are_an_error_in_either_order() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {metadata: {labels: {app: locked}}, spec: {containers: [{name: c}]}}}\n";
    let stateful = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web, namespace: shop}\nspec: {template: {metadata: {labels: {app: open}}, spec: {containers: [{name: c}]}}}\n";
    let red = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: red}}\n";
    let blue = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: blue}}\n";
    let open = deployment.replace("locked", "open");
    let labels = "help: the two differ in `metadata.labels`, and a cluster holds one Namespace of each name, the last applied: keep one of them";
    for (first, second, message) in [
        (
            deployment,
            stateful,
            "duplicate Kubernetes workload name `shop/web`",
        ),
        (
            stateful,
            deployment,
            "duplicate Kubernetes workload name `shop/web`",
        ),
        (
            deployment,
            &open,
            "duplicate Kubernetes Deployment name `shop/web`",
        ),
        (red, blue, "duplicate Kubernetes Namespace name `shop`"),
        (blue, red, labels),
    ] {
        let out = Cordon::new()
            .file("k8s/a.yaml", first)
            .file("k8s/b.yaml", second)
            .args(["connections", "k8s"])
            .run();
        out.code(2);
        assert!(out.stderr.contains(message), "{}", out.stderr);
        assert!(out.stderr.contains("k8s/b.yaml:3:"), "{}", out.stderr);
        assert!(out.stderr.contains("k8s/a.yaml:3:"), "{}", out.stderr);
    }
}

#[test]
fn identical_copies_of_an_object_are_one_and_different_ones_an_error() {
    // Two files define ClusterRole `reader`; one binds it. A cluster keeps the copy
    // applied last, so reading either, or both, would depend on the order of the files.
    let reader = |resource: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: reader}}\nrules:\n- apiGroups: ['']\n  resources: [{resource}]\n  verbs: [get]\n"
        )
    };
    let app = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: app}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app}
spec: {serviceAccountName: sa, containers: [{name: c, image: nginx}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sa-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: ServiceAccount, name: sa, namespace: app}]
";
    let run = |a: &str, b: &str| {
        Cordon::new()
            .file("k8s/a.yaml", a)
            .file("k8s/b.yaml", b)
            .file("k8s/c.yaml", app)
            .args(["reach", "k8s", "--from", "app/web"])
            .run()
    };
    for (a, b) in [
        (reader("configmaps"), reader("secrets")),
        (reader("secrets"), reader("configmaps")),
    ] {
        let out = run(&a, &b);
        out.code(2);
        assert_eq!(
            out.stderr,
            "k8s/b.yaml:3:18: error: duplicate Kubernetes ClusterRole name `reader`, first defined at k8s/a.yaml:3:18\n  help: the two differ in `rules`, and a cluster holds one ClusterRole of each name, the last applied: keep one of them\ncordon: 1 problem in the policies; nothing was checked\n"
        );
    }
    // Identical copies are one object, however they are laid out.
    let laid_out = "kind: ClusterRole\nrules: [{verbs: [get], resources: [secrets], apiGroups: ['']}]\nmetadata:\n  name: reader\napiVersion: rbac.authorization.k8s.io/v1\n";
    for b in [reader("secrets"), laid_out.to_owned()] {
        let out = run(&reader("secrets"), &b);
        out.code(0);
        assert!(out.stderr.is_empty(), "{}", out.stderr);
        assert!(out.stdout.contains("secrets:app"), "{}", out.stdout);
    }
    // Two NetworkPolicies `default/db`: kubectl keeps one, so their peers are not united.
    let policy = |peer: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: db, namespace: default}}\nspec:\n  podSelector: {{matchLabels: {{app: db}}}}\n  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: {peer}}}}}}}]}}]\n"
        )
    };
    let out = Cordon::new()
        .file("k8s/a.yaml", policy("web"))
        .file("k8s/b.yaml", policy("admin"))
        .args(["connections", "k8s"])
        .run();
    out.code(2);
    assert!(
        out.stderr.starts_with("k8s/b.yaml:3:18: error: duplicate Kubernetes NetworkPolicy name `default/db`, first defined at k8s/a.yaml:3:18\n  help: the two differ in `spec`"),
        "{}",
        out.stderr
    );
    // One name in two namespaces, or of two kinds, is two objects.
    let out = Cordon::new()
        .file("k8s/a.yaml", policy("web"))
        .file("k8s/b.yaml", policy("admin").replace("default", "ops"))
        .file(
            "k8s/c.yaml",
            reader("secrets")
                .replace("ClusterRole", "Role")
                .replace("{name: reader}", "{name: db}"),
        )
        .args(["connections", "k8s"])
        .run();
    out.code(0);
    // The same Namespace in two files, as sock-shop's manifests declare it, is one.
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sock-shop\n";
    let out = Cordon::new()
        .file("k8s/app.yaml", format!("{namespace}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: sock-shop}}\nspec: {{containers: [{{name: web}}]}}\n"))
        .file("k8s/netpol.yaml", format!("{namespace}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: sock-shop}}\nspec: {{podSelector: {{}}}}\n"))
        .args(["reach", "k8s", "--to", "sock-shop/web"])
        .run();
    out.code(0);
    assert!(out.stdout.starts_with("0 leaves reach"), "{}", out.stdout);
}

#[test]
fn bad_manifests_are_located_errors() {
    let cases = [
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector:\n    matchExpressions: [{key: a, operator: Inn}]\n",
            "k8s/bad.yaml:6:",
            "invalid operator `Inn`",
        ),
        (
            "apiVersion: apps/v9\nkind: Deployment\nmetadata: {name: d}\n",
            "k8s/bad.yaml:1:",
            "unknown apiVersion `apps/v9` for kind `Deployment`",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{ports: [{containerPort: http}]}]}\n",
            "k8s/bad.yaml:4:",
            "`containerPort` should be a port number",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: [name\n",
            "k8s/bad.yaml:",
            "error:",
        ),
    ];
    for (text, place, message) in cases {
        let out = Cordon::new()
            .file("k8s/bad.yaml", text)
            .args(["connections", "k8s"])
            .run();
        out.code(2);
        assert!(out.stderr.contains(place), "{text}\n{}", out.stderr);
        assert!(out.stderr.contains(message), "{text}\n{}", out.stderr);
    }
}

#[test]
fn ingress_exposes_the_service_backends_on_the_target_port() {
    let ingress = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: main, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
    - http:
        paths:
          - path: /
            backend: {service: {name: web, port: {name: main}}}
";
    let found = pairs(
        &[("k8s/pods.yaml", PODS), ("k8s/ingress.yaml", ingress)],
        &[
            "--from",
            "ingress-controller,internet",
            "--to",
            "shop/web,ingress-controller",
        ],
    );
    assert_eq!(
        found,
        [
            "ingress-controller -> shop/web tcp/8080",
            "internet -> ingress-controller tcp/80,tcp/443",
            "internet -> shop/web any",
        ]
    );
}

/// `shop/shop` behind an Ingress, admitted by `peer` on its port.
fn shop_admitting(peer: &str) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: shop, namespace: shop}}
spec:
  template:
    metadata: {{labels: {{app: shop}}}}
    spec: {{containers: [{{name: c, ports: [{{containerPort: 8080}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: shop, namespace: shop}}
spec: {{selector: {{app: shop}}, ports: [{{port: 80, targetPort: 8080}}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop, namespace: shop}}
spec:
  rules:
  - http:
      paths:
      - {{path: /, pathType: Prefix, backend: {{service: {{name: shop, port: {{number: 80}}}}}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: shop, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: shop}}}}
  ingress:
  - from: [{peer}]
    ports: [{{port: 8080}}]
"
    )
}

/// A Deployment `controller` in namespace `ingress-nginx`, open to the internet.
const NGINX: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: controller, namespace: ingress-nginx}\nspec: {template: {metadata: {labels: {app: nginx}}, spec: {containers: [{name: c}]}}}\n";

#[test]
fn a_backend_that_may_admit_the_real_ingress_controller_alone_is_warned_of() {
    let by_namespace =
        "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}";
    let reach = |files: &[(&str, &str)]| {
        let mut cordon = Cordon::new();
        for (path, text) in files {
            cordon = cordon.file(path, text);
        }
        let out = cordon.args(["reach", "k8s", "--to", "shop/shop"]).run();
        out.code(0);
        out
    };
    // As np-guard reads it, the stand-in controller has no labels, so the policy keeps
    // it out; the real one, whose manifests are not in the inputs, may be admitted.
    let out = reach(&[("k8s/shop.yaml", &shop_admitting(by_namespace))]);
    assert!(out.stdout.starts_with("0 leaves reach"), "{}", out.stdout);
    let warning = "k8s/shop.yaml:21:46: warning: the policies of `shop/shop` behind Ingress `shop/shop` admit pods that are not in the inputs but not the ingress controller, so a path from `internet` may be missed\n  help: the ingress controller's manifests are not in the inputs";
    assert!(out.stderr.contains(warning), "{}", out.stderr);
    // With the controller's manifests, the path is found through it, and nothing warns.
    let out = reach(&[
        ("k8s/shop.yaml", &shop_admitting(by_namespace)),
        ("k8s/nginx.yaml", NGINX),
    ]);
    assert!(
        out.stdout.contains("ingress-nginx/controller"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("internet"), "{}", out.stdout);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // A policy that admits only pods of the inputs, or addresses, or the stand-in
    // itself, warns of nothing.
    for peer in [
        "{podSelector: {matchLabels: {app: nginx}}, namespaceSelector: {}}",
        "{ipBlock: {cidr: 10.0.0.0/8}}",
        "{namespaceSelector: {}}",
    ] {
        let out = reach(&[
            ("k8s/shop.yaml", &shop_admitting(peer)),
            ("k8s/nginx.yaml", NGINX),
        ]);
        assert!(!out.stderr.contains("warning"), "{peer}: {}", out.stderr);
    }
}

#[test]
fn a_policy_file_places_a_cluster_in_an_entity() {
    let policy = "\
environments: [{name: prod}]
imports:
  - {kubernetes: ../k8s, in: prod}
invariants:
  - name: tool-cannot-reach-db
    forbid: {from: prod/ops/tool, to: prod/shop/db}
";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("policies/cluster.yaml", policy)
        .args(["check", "policies", "--format", "json"])
        .run();
    out.code(1);
    let value = out.json();
    let hop = &value["results"][0]["witness"][0];
    assert_eq!(hop["from"], "prod/ops/tool");
    assert_eq!(hop["to"], "prod/shop/db");
    assert_eq!(hop["location"], "k8s/pods.yaml:20");
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("policies/cluster.yaml", policy)
        .args([
            "reach",
            "policies",
            "--from",
            "prod/shop",
            "--format",
            "json",
        ])
        .run();
    out.code(0);
    let value = out.json();
    let reached: Vec<&str> = value["reachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entity"].as_str().unwrap())
        .collect();
    assert_eq!(reached, ["internet", "prod/ops/tool"]);
    let out = Cordon::new()
        .file(
            "policies/cluster.yaml",
            "imports: [{kubernetes: ../nowhere, in: prod}]\n",
        )
        .args(["check", "policies"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("policies/cluster.yaml:1:24"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("path `../nowhere` does not exist"),
        "{}",
        out.stderr
    );
}

/// A bundle written for `kubectl apply -n tools`: no object names a namespace, and its
/// binding names the account in `tools`.
const BUNDLE: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: controller}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller}
spec:
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      serviceAccountName: controller
      containers: [{name: c, image: c}]
---
apiVersion: v1
kind: Secret
metadata: {name: key}
---
apiVersion: v1
kind: Secret
metadata: {namespace: vault, name: elsewhere}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: controller, namespace: tools}]
";

#[test]
fn an_import_places_objects_without_a_namespace_in_its_namespace() {
    let policy = "\
environments: [{name: prod}]
imports:
  - {kubernetes: ../k8s, in: prod, namespace: tools}
invariants:
  - name: controller-cannot-read-keys
    forbid: {from: prod/tools/controller, to: \"prod/secrets:tools\"}
  - name: controller-cannot-read-vault
    forbid: {from: prod/tools/controller, to: \"prod/secrets:vault\"}
";
    let out = Cordon::new()
        .file("k8s/bundle.yaml", BUNDLE)
        .file("policies/cluster.yaml", policy)
        .args(["check", "policies", "--format", "json"])
        .run();
    out.code(1);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let value = out.json();
    let statuses: Vec<&str> = value["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_str().unwrap())
        .collect();
    // The binding gives the account every permission, so it reads the Secrets of its
    // own namespace and of `vault`, which one object names explicitly.
    assert_eq!(statuses, ["fail", "fail"]);
}

#[test]
fn a_binding_to_a_namespace_no_input_is_in_is_warned_of() {
    let out = Cordon::new()
        .file("k8s/bundle.yaml", BUNDLE)
        .args(["reach", "k8s", "--from", "default/controller"])
        .run();
    out.code(0);
    assert!(
        out.stderr.contains(
            "k8s/bundle.yaml:27:10: warning: service account `tools/controller` is in namespace `tools`, which no input is in, so this binds no workload"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("read into `default` (the first at k8s/bundle.yaml:1:1)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("imports: [{kubernetes: PATH, in: ENTITY, namespace: tools}]"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("secrets:"), "{}", out.stdout);
    // With every object in a namespace, the binding is to accounts elsewhere, and
    // nothing suggests the manifests are meant for another.
    let placed = BUNDLE.replace("metadata: {name: ", "metadata: {namespace: apps, name: ");
    let out = Cordon::new()
        .file("k8s/bundle.yaml", placed)
        .args(["reach", "k8s", "--from", "apps/controller"])
        .run();
    out.code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn an_import_namespace_must_be_a_namespace_of_a_cluster() {
    let out = Cordon::new()
        .file("k8s/bundle.yaml", BUNDLE)
        .file(
            "policies/cluster.yaml",
            "imports:\n  - {kubernetes: ../k8s, in: prod, namespace: Tools_1}\n  - {terraform: ../k8s, in: prod, namespace: tools}\n",
        )
        .args(["check", "policies"])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("policies/cluster.yaml:2:47: error: `Tools_1` is not a namespace's name"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("policies/cluster.yaml:3:46: error: `namespace` on a `terraform` import"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_api_server_is_a_way_round_network_segmentation() {
    let out = crate::harness::run_repo(&[
        "check",
        "examples/kubernetes/before",
        "--today",
        "2024-01-01",
        "--format",
        "json",
    ]);
    out.code(1);
    let value = out.json();
    let results = value["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "fail");
    assert_eq!(results[1]["status"], "pass");
    let hops: Vec<(&str, &str, &str)> = results[0]["witness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| {
            (
                hop["to"].as_str().unwrap(),
                hop["location"].as_str().unwrap(),
                hop["credential"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        hops.last(),
        Some(&(
            "payments/ledger",
            "examples/kubernetes/before/rbac.yaml:29",
            "token:ci/runner"
        ))
    );
    assert!(hops.iter().any(|hop| hop.0 == "kubernetes-api"), "{hops:?}");
    // Each RBAC flow takes the bound account's token, and points at the roleRef.
    let out = crate::harness::run_repo(&[
        "connections",
        "examples/kubernetes/before",
        "--from",
        "kubernetes-api",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    let flows: Vec<(&str, &str, &str)> = value["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["to"].as_str().unwrap(),
                c["flows"][0]["auth"][0].as_str().unwrap(),
                c["flows"][0]["location"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flows,
        [
            (
                "ci/runner",
                "token:web/frontend",
                "examples/kubernetes/before/rbac.yaml:14"
            ),
            (
                "payments/ledger",
                "token:ci/runner",
                "examples/kubernetes/before/rbac.yaml:29"
            ),
            // A pod created in `ci` may carry any labels; it may run as any account there
            // and mount any Secret.
            (
                "pods:ci",
                "token:web/frontend",
                "examples/kubernetes/before/rbac.yaml:14"
            ),
            (
                "secrets:ci",
                "token:web/frontend",
                "examples/kubernetes/before/rbac.yaml:14"
            ),
        ]
    );
}

#[test]
fn tokens_follow_automount_and_secrets_follow_rbac() {
    let manifests = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: quiet, namespace: a}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: a}
spec: {serviceAccountName: quiet, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: a}
spec:
  serviceAccountName: quiet
  automountServiceAccountToken: true
  containers: [{name: c, envFrom: [{secretRef: {name: key}}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, labels: {agg: 'yes'}}
rules: [{apiGroups: [''], resources: [secrets], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: aggregate}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: 'yes'}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everywhere}
roleRef: {kind: ClusterRole, name: aggregate}
subjects: [{kind: ServiceAccount, name: quiet, namespace: a}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: a}
spec: {podSelector: {}}
";
    let out = Cordon::new()
        .file("k8s/m.yaml", manifests)
        .file(
            "policies/i.yaml",
            "invariants:\n  - {name: p1-cannot-read-key, forbid: {from: a/p1, to: secrets:a}}\n  - {name: p2-can, require: {from: a/p2, to: secrets:a}}\n",
        )
        .args(["check", "k8s", "policies", "--format", "json"])
        .run();
    out.code(0);
    // p1's account turns automounting off; p2's own setting wins and mounts the token,
    // which the aggregated ClusterRole lets list the namespace's Secrets.
    let value = out.json();
    assert_eq!(value["summary"]["passed"], 2, "{value}");
}

/// `web/frontend` is open to the internet; `payments/ledger` takes no connection.
const LEDGER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: web}
spec:
  template:
    metadata: {labels: {app: frontend}}
    spec: {serviceAccountName: frontend, containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  template:
    metadata: {labels: {app: ledger}}
    spec: {serviceAccountName: ledger, containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: payments}
spec: {podSelector: {}, policyTypes: [Ingress]}
";

/// A Role `exec` that may exec into the pods of `payments`.
const EXEC_IN_PAYMENTS: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: payments}
rules: [{apiGroups: [''], resources: [pods/exec], verbs: [create]}]
---
";

/// Whether the internet reaches `payments/ledger` with `rbac` next to [`LEDGER`]; the
/// only way in is through the API server.
#[track_caller]
fn ledger_reached(rbac: &str, policy: &str) -> bool {
    let invariants =
        "invariants:\n  - {name: ledger, forbid: {from: internet, to: payments/ledger}}\n";
    let out = Cordon::new()
        .file("k8s/cluster.yaml", LEDGER)
        .file("k8s/rbac.yaml", rbac)
        .file("policies/i.yaml", format!("{policy}{invariants}"))
        .args(["check", "k8s", "policies"])
        .run();
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    out.code == 1
}

#[test]
fn group_and_user_subjects_bind_the_service_accounts_they_cover() {
    let binding = |subject: &str| {
        format!(
            "{EXEC_IN_PAYMENTS}apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: payments}}\nroleRef: {{kind: Role, name: exec}}\nsubjects: [{subject}]\n"
        )
    };
    let cases = [
        (
            "{kind: ServiceAccount, name: frontend, namespace: web}",
            true,
        ),
        ("{kind: Group, name: 'system:serviceaccounts'}", true),
        ("{kind: Group, name: 'system:serviceaccounts:web'}", true),
        ("{kind: Group, name: 'system:authenticated'}", true),
        (
            "{kind: User, name: 'system:serviceaccount:web:frontend'}",
            true,
        ),
        ("{kind: Group, name: 'system:serviceaccounts:ops'}", false),
        (
            "{kind: User, name: 'system:serviceaccount:ops:frontend'}",
            false,
        ),
        ("{kind: User, name: alice}", false),
    ];
    for (subject, reached) in cases {
        assert_eq!(ledger_reached(&binding(subject), ""), reached, "{subject}");
    }
    // A ClusterRoleBinding to a namespace's group.
    let cluster_wide = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: exec}\nrules: [{apiGroups: [''], resources: [pods/exec], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: exec}\nsubjects: [{kind: Group, name: 'system:serviceaccounts:web'}]\n";
    assert!(ledger_reached(cluster_wide, ""));
}

#[test]
fn a_binding_of_unauthenticated_users_needs_no_credential() {
    // The frontend mounts no token, so it authenticates as nobody; it still reaches the
    // API server, as whatever reaches the internet does.
    let tokenless = LEDGER.replace(
        "spec: {serviceAccountName: frontend, containers",
        "spec: {serviceAccountName: frontend, automountServiceAccountToken: false, containers",
    );
    assert_ne!(tokenless, LEDGER);
    let invariants =
        "invariants:\n  - {name: ledger, forbid: {from: internet, to: payments/ledger}}\n";
    let reached = |subject: &str| {
        let rbac = format!(
            "{EXEC_IN_PAYMENTS}apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: payments}}\nroleRef: {{kind: Role, name: exec}}\nsubjects: [{subject}]\n"
        );
        let out = Cordon::new()
            .file("k8s/cluster.yaml", &tokenless)
            .file("k8s/rbac.yaml", rbac)
            .file("policies/i.yaml", invariants)
            .args(["check", "k8s", "policies", "--format", "json"])
            .run();
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        let value = out.json();
        let witness = value["results"][0]["witness"].as_array().unwrap().clone();
        (out.code == 1, witness)
    };
    for subject in [
        "{kind: Group, name: 'system:unauthenticated', apiGroup: rbac.authorization.k8s.io}",
        "{kind: User, name: 'system:anonymous', apiGroup: rbac.authorization.k8s.io}",
    ] {
        let (reached, witness) = reached(subject);
        assert!(reached, "{subject}");
        // The way in: the frontend, the API server with no credential, the ledger.
        let last = witness.last().unwrap();
        assert_eq!(last["from"], "kubernetes-api", "{subject}");
        assert_eq!(last["credential"], serde_json::Value::Null, "{subject}");
        assert_eq!(last["location"], "k8s/rbac.yaml:9", "{subject}");
    }
    // Authenticated users, and the frontend's account, need the token it does not hold.
    for subject in [
        "{kind: Group, name: 'system:authenticated'}",
        "{kind: ServiceAccount, name: frontend, namespace: web}",
        "{kind: User, name: 'system:anonymous-not'}",
    ] {
        assert!(!reached(subject).0, "{subject}");
    }
}

#[test]
fn every_namespace_has_a_default_account() {
    // Every account of `ops` may exec into `payments`, and the frontend may start pods in
    // `ops`, where no account is declared and no pod runs: a pod started there runs as
    // `default`, which the ServiceAccount controller keeps in every namespace.
    let rbac = format!(
        "{EXEC_IN_PAYMENTS}apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: ops-exec, namespace: payments}}\nroleRef: {{kind: Role, name: exec}}\nsubjects: [{{kind: Group, name: 'system:serviceaccounts:ops'}}]\n---\n{}",
        frontend_granted(Some("ops"), "", "pods", "create")
    );
    assert!(ledger_reached(&rbac, ""));
}

/// A RoleBinding in `payments` (or a ClusterRoleBinding, without `namespace`) of the
/// ClusterRole `role` to `web/frontend`.
fn frontend_bound_to(role: &str, namespace: Option<&str>) -> String {
    let (kind, metadata) = match namespace {
        Some(namespace) => ("RoleBinding", format!(", namespace: {namespace}")),
        None => ("ClusterRoleBinding", String::new()),
    };
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: frontend-{role}{metadata}}}\nroleRef: {{kind: ClusterRole, name: {role}}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n"
    )
}

#[test]
fn the_cluster_roles_every_cluster_has_grant_their_bootstrap_rules() {
    // `cluster-admin`, `admin` and `edit` run code in pods; `view` does not.
    for (role, namespace, reached) in [
        ("cluster-admin", None, true),
        ("cluster-admin", Some("payments"), true),
        ("admin", Some("payments"), true),
        ("edit", Some("payments"), true),
        ("view", Some("payments"), false),
        ("view", None, false),
    ] {
        let rbac = frontend_bound_to(role, namespace);
        assert_eq!(
            ledger_reached(&rbac, ""),
            reached,
            "{role} in {namespace:?}"
        );
        // They exist in every cluster: no warning that they are missing.
        let out = Cordon::new()
            .file("k8s/cluster.yaml", LEDGER)
            .file("k8s/rbac.yaml", &rbac)
            .args(["connections", "k8s"])
            .run();
        out.code(0);
        assert!(!out.stderr.contains("warning"), "{role}: {}", out.stderr);
    }
    // A ClusterRole of the same name in the inputs takes precedence.
    let own_edit = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: edit}\nrules: [{apiGroups: [''], resources: [configmaps], verbs: ['*']}]\n---\n";
    let rbac = format!("{own_edit}{}", frontend_bound_to("edit", Some("payments")));
    assert!(!ledger_reached(&rbac, ""));
    // A Role named like a built-in ClusterRole is not built in, and is still warned of.
    let rbac =
        frontend_bound_to("edit", Some("payments")).replace("kind: ClusterRole", "kind: Role");
    assert!(!ledger_reached(&rbac, ""));
    let out = Cordon::new()
        .file("k8s/cluster.yaml", LEDGER)
        .file("k8s/rbac.yaml", &rbac)
        .args(["connections", "k8s"])
        .run();
    assert!(
        out.stderr
            .contains("warning: role `edit` is not in the inputs"),
        "{}",
        out.stderr
    );
    // Aggregation goes on through aggregated roles: a ClusterRole labelled into one
    // that is labelled into `view` gives `view` its rules.
    let aggregated = |label: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: middle, labels: {{rbac.authorization.k8s.io/aggregate-to-view: 'true'}}}}\naggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{example.com/debugging: 'true'}}}}]}}\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: debugger, labels: {{{label}: 'true'}}}}\nrules: [{{apiGroups: [''], resources: [pods/exec], verbs: [create]}}]\n---\n{}",
            frontend_bound_to("view", Some("payments"))
        )
    };
    assert!(ledger_reached(&aggregated("example.com/debugging"), ""));
    assert!(!ledger_reached(&aggregated("example.com/other"), ""));
}

#[test]
fn a_star_subresource_matches_that_subresource_of_every_resource() {
    let rbac = |resources: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: exec, namespace: payments}}\nrules: [{{apiGroups: [''], resources: {resources}, verbs: [create]}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: payments}}\nroleRef: {{kind: Role, name: exec}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n"
        )
    };
    assert!(ledger_reached(&rbac("['*/exec']"), ""));
    assert!(ledger_reached(&rbac("['*']"), ""));
    assert!(!ledger_reached(&rbac("['*/log']"), ""));
    assert!(!ledger_reached(&rbac("['pods/log']"), ""));
}

#[test]
fn a_cluster_role_binding_reads_secrets_in_namespaces_without_workloads() {
    let rbac = "\
apiVersion: v1
kind: Secret
metadata: {name: db-creds, namespace: vault}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {kind: ClusterRole, name: reader}
subjects: [{kind: ServiceAccount, name: frontend, namespace: web}]
";
    // `payments/ledger` takes connections from whoever holds `vault`'s Secret.
    let policy = "flows:\n  - {from: any, to: payments/ledger, auth: ['secret:vault/db-creds']}\n";
    assert!(ledger_reached(rbac, policy));
}

#[test]
fn get_list_and_watch_on_secrets_each_read_them() {
    let rbac = |verb: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: reader, namespace: vault}}\nrules: [{{apiGroups: [''], resources: [secrets], verbs: [{verb}]}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: vault}}\nroleRef: {{kind: Role, name: reader}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: key, namespace: vault}}\n"
        )
    };
    let policy = "flows:\n  - {from: any, to: payments/ledger, auth: ['secret:vault/key']}\n";
    for verb in ["get", "list", "watch"] {
        assert!(ledger_reached(&rbac(verb), policy), "{verb}");
    }
    assert!(!ledger_reached(&rbac("delete"), policy));
}

/// `web/frontend` may do `verb` on `resource` of API group `group`, in `namespace`
/// through a RoleBinding, or everywhere through a ClusterRoleBinding.
fn frontend_granted(namespace: Option<&str>, group: &str, resource: &str, verb: &str) -> String {
    let (role, binding, metadata) = match namespace {
        Some(namespace) => ("Role", "RoleBinding", format!(", namespace: {namespace}")),
        None => ("ClusterRole", "ClusterRoleBinding", String::new()),
    };
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {role}\nmetadata: {{name: granted{metadata}}}\nrules: [{{apiGroups: ['{group}'], resources: [{resource}], verbs: [{verb}]}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding}\nmetadata: {{name: frontend-granted{metadata}}}\nroleRef: {{kind: {role}, name: granted}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n"
    )
}

/// `web/frontend` may do `verb` on `resource` of API group `group` in `payments`.
fn frontend_in_payments(group: &str, resource: &str, verb: &str) -> String {
    frontend_granted(Some("payments"), group, resource, verb)
}

/// Checks that the internet reaches `payments/ledger`, or not, when the frontend may do
/// each (resource, verb) of the core API group in `payments`.
#[track_caller]
fn reached_in_payments(cases: &[(&str, &str)], reached: bool) {
    for (resource, verb) in cases {
        assert_eq!(
            ledger_reached(&frontend_in_payments("", resource, verb), ""),
            reached,
            "{verb} {resource}"
        );
    }
}

#[test]
fn starting_pods_controls_the_namespace_and_yields_its_tokens() {
    let role = frontend_in_payments;
    for (group, resource, verb) in [
        ("", "pods", "create"),
        ("apps", "deployments", "create"),
        ("apps", "statefulsets", "create"),
        ("apps", "daemonsets", "create"),
        ("apps", "replicasets", "create"),
        ("apps", "deployments", "patch"),
        // A controller's new template starts pods of the writer's choosing.
        ("apps", "statefulsets", "update"),
        ("apps", "daemonsets", "patch"),
        ("apps", "replicasets", "update"),
        ("batch", "jobs", "patch"),
        ("batch", "cronjobs", "update"),
        ("", "replicationcontrollers", "patch"),
        ("batch", "jobs", "create"),
        ("batch", "cronjobs", "create"),
        ("", "replicationcontrollers", "create"),
    ] {
        assert!(
            ledger_reached(&role(group, resource, verb), ""),
            "{verb} {group}/{resource}"
        );
    }
    assert!(!ledger_reached(&role("apps", "deployments", "get"), ""));
    assert!(!ledger_reached(&role("", "deployments", "create"), ""));
    // Creating pods in `ops`, where no pod runs as `deployer`, still yields its token,
    // which may exec into `payments`.
    assert!(ledger_reached(&frontend_in_ops("", "pods", "create"), ""));
}

/// A Namespace `name` whose Pod Security admission enforces `level` (no label when
/// `None`).
fn namespace_enforcing(name: &str, level: Option<&str>) -> String {
    let labels = level.map_or(String::new(), |level| {
        format!(", labels: {{pod-security.kubernetes.io/enforce: {level}}}")
    });
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}{labels}}}\n---\n")
}

#[test]
fn a_role_limited_to_named_objects_reaches_those_alone() {
    // `frontend` may read Secrets of `ops`, some by name; `deployer-token` keeps the
    // token of `deployer`, which may exec into `payments`.
    let reads = |names: &str| {
        format!(
            "{EXEC_IN_PAYMENTS}{DEPLOYER_EXECS_IN_PAYMENTS}{DEPLOYER_TOKEN_SECRET}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: other, namespace: ops}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: reader, namespace: ops}}\nrules: [{{apiGroups: [''], resources: [secrets], verbs: [get]{names}}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: frontend-reads, namespace: ops}}\nroleRef: {{kind: Role, name: reader}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n"
        )
    };
    assert!(ledger_reached(&reads(""), ""));
    assert!(ledger_reached(
        &reads(", resourceNames: [deployer-token]"),
        ""
    ));
    assert!(!ledger_reached(&reads(", resourceNames: [other]"), ""));
    // The named Secret is held where the binding reaches, and the namespace's store,
    // which no binding reads whole, is not there at all.
    let out = Cordon::new()
        .file("k8s/cluster.yaml", LEDGER)
        .file("k8s/rbac.yaml", reads(", resourceNames: [other]"))
        .args([
            "connections",
            "k8s",
            "--from",
            "kubernetes-api",
            "--format",
            "json",
        ])
        .run();
    out.code(0);
    let value = out.json();
    let targets: Vec<&str> = value["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert!(targets.contains(&"secrets:ops/other"), "{targets:?}");
    assert!(!targets.contains(&"secrets:ops"), "{targets:?}");
    // A token request limited to named accounts obtains their tokens alone.
    let requests = |names: &str| {
        format!(
            "{EXEC_IN_PAYMENTS}{DEPLOYER_EXECS_IN_PAYMENTS}apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: minter, namespace: ops}}\nrules: [{{apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]{names}}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: frontend-mints, namespace: ops}}\nroleRef: {{kind: Role, name: minter}}\nsubjects: [{{kind: ServiceAccount, name: frontend, namespace: web}}]\n"
        )
    };
    assert!(ledger_reached(&requests(""), ""));
    assert!(ledger_reached(&requests(", resourceNames: [deployer]"), ""));
    assert!(!ledger_reached(&requests(", resourceNames: [builder]"), ""));
}

#[test]
fn relabelling_namespaces_lets_their_pods_meet_other_namespace_selectors() {
    // `payments` admits pods of namespaces labelled `team: migrations`, which none is.
    // `ops/batch` is open to the internet, and the frontend's token may patch
    // Namespaces: relabelled, `ops` is admitted.
    let admits = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: migrations, namespace: payments}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: migrations}}}]}]\n---\n";
    let batch = "apiVersion: v1\nkind: Pod\nmetadata: {name: batch, namespace: ops, labels: {app: batch}}\nspec: {containers: [{name: c}]}\n---\n";
    let ops = namespace_enforcing("ops", Some("baseline"));
    let manifests = |rbac: &str| format!("{ops}{admits}{batch}{rbac}");
    let relabels = frontend_granted(None, "", "namespaces", "patch");
    assert!(ledger_reached(&manifests(&relabels), ""));
    assert!(!ledger_reached(&manifests(""), ""));
    // A RoleBinding grants nothing on Namespaces, which have no namespace.
    let in_ops = frontend_granted(Some("ops"), "", "namespaces", "patch");
    assert!(!ledger_reached(&manifests(&in_ops), ""));
    // The relabelled namespace's pods are reached from its own, with the token.
    let out = Cordon::new()
        .file("k8s/cluster.yaml", LEDGER)
        .file("k8s/rbac.yaml", manifests(&relabels))
        .args([
            "connections",
            "k8s",
            "--to",
            "relabelled:ops",
            "--format",
            "json",
        ])
        .run();
    out.code(0);
    let value = out.json();
    let connection = &value["connections"][0];
    assert_eq!(connection["from"], "ops/batch", "{value}");
    assert_eq!(connection["flows"][0]["auth"][0], "token:web/frontend");
}

/// `payments` admits pods of `ops` that carry `admit` (a label selector), though no
/// workload of the inputs does; `ops` enforces Pod Security `baseline`, so starting pods
/// there takes no node.
fn admitted_from_ops(admit: &str, ops_egress: &str) -> String {
    format!(
        "{}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: migrators, namespace: payments}}\nspec:\n  podSelector: {{}}\n  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ops}}}}, podSelector: {admit}}}]}}]\n---\n{ops_egress}",
        namespace_enforcing("ops", Some("baseline"))
    )
}

#[test]
fn a_started_pod_carries_the_labels_a_policy_admits() {
    let starts = frontend_granted(Some("ops"), "", "pods", "create");
    let role = "{matchLabels: {role: migrator}}";
    let reached = |manifests: &str| ledger_reached(&format!("{manifests}---\n{starts}"), "");
    // The frontend starts a pod labelled `role: migrator` in `ops`.
    assert!(reached(&admitted_from_ops(role, "")));
    // No labels can meet a selector that contradicts itself.
    let never = "{matchLabels: {role: migrator}, matchExpressions: [{key: role, operator: NotIn, values: [migrator]}]}";
    assert!(!reached(&admitted_from_ops(never, "")));
    // Without the right to start pods there, no such pod exists.
    assert!(!ledger_reached(&admitted_from_ops(role, ""), ""));
    // Patching a pod of `ops` relabels it.
    let batch = "apiVersion: v1\nkind: Pod\nmetadata: {name: batch, namespace: ops, labels: {app: batch}}\nspec: {containers: [{name: c}]}\n---\n";
    let relabels = frontend_granted(Some("ops"), "", "pods", "patch");
    let with = |rbac: &str| format!("{}{batch}{rbac}", admitted_from_ops(role, ""));
    assert!(ledger_reached(&with(&relabels), ""));
    assert!(!ledger_reached(&with(""), ""));
    // Egress isolation that labels can escape does not hold it back; one that selects
    // every pod of `ops` does.
    let egress = |selector: &str, rules: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: out, namespace: ops}}\nspec: {{podSelector: {selector}, policyTypes: [Egress]{rules}}}\n"
        )
    };
    let some_pods = egress("{matchLabels: {app: batch}}", "");
    assert!(reached(&admitted_from_ops(role, &some_pods)));
    let every_pod = egress("{}", "");
    assert!(!reached(&admitted_from_ops(role, &every_pod)));
    let every_pod_to_payments = egress(
        "{}",
        ", egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: payments}}}]}]",
    );
    assert!(reached(&admitted_from_ops(role, &every_pod_to_payments)));
}

#[test]
fn starting_pods_where_pod_security_is_not_enforced_takes_the_nodes() {
    // Whoever starts pods in `ops`, where nothing runs, may start a privileged one, which
    // escapes to its node and so controls `payments/ledger`.
    for (group, resource, verb) in [
        ("", "pods", "create"),
        ("apps", "deployments", "patch"),
        ("batch", "cronjobs", "create"),
        // An ephemeral container may be privileged too.
        ("", "pods/ephemeralcontainers", "update"),
    ] {
        let granted = frontend_granted(Some("ops"), group, resource, verb);
        assert!(ledger_reached(&granted, ""), "{verb} {group}/{resource}");
    }
    // Unless the namespace enforces the Pod Security Standard `baseline` or `restricted`;
    // `privileged`, a label that only warns or audits, or no label leaves it open.
    let granted = frontend_granted(Some("ops"), "", "pods", "create");
    for (label, reached) in [
        (Some("baseline"), false),
        (Some("restricted"), false),
        (Some("privileged"), true),
        (None, true),
    ] {
        let rbac = format!("{}{granted}", namespace_enforcing("ops", label));
        assert_eq!(ledger_reached(&rbac, ""), reached, "{label:?}");
    }
    let warns = namespace_enforcing("ops", Some("baseline")).replace("/enforce", "/warn");
    assert!(ledger_reached(&format!("{warns}{granted}"), ""));
    // Running code in existing pods starts none.
    let exec = frontend_granted(Some("ops"), "", "pods/exec", "create");
    assert!(!ledger_reached(&exec, ""));
}

#[test]
fn a_cluster_role_binding_that_starts_pods_takes_the_nodes_whatever_the_labels() {
    // It may also start pods in namespaces the inputs do not hold, such as
    // `kube-system`, which Pod Security admission cannot restrict.
    let enforcing: String = ["web", "payments"]
        .iter()
        .map(|name| namespace_enforcing(name, Some("restricted")))
        .collect();
    let nodes_reached = |granted: String| -> Vec<String> {
        let rbac = format!("{enforcing}{granted}");
        located_pairs(&[("k8s/cluster.yaml", LEDGER), ("k8s/rbac.yaml", &rbac)])
            .into_iter()
            .filter(|pair| pair.contains("-> kubernetes:nodes"))
            .collect()
    };
    assert_eq!(
        nodes_reached(frontend_granted(None, "", "pods", "create")),
        ["kubernetes-api -> kubernetes:nodes k8s/rbac.yaml:17"]
    );
    // A RoleBinding in an enforcing namespace reaches no node.
    assert!(nodes_reached(frontend_granted(Some("payments"), "", "pods", "create")).is_empty());
}

/// `ops/deployer`, an account no pod runs as, may exec into `payments`.
const DEPLOYER_EXECS_IN_PAYMENTS: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-exec, namespace: payments}
roleRef: {kind: Role, name: exec}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ops}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ops}
---
";

#[test]
fn running_code_in_pods_controls_them() {
    reached_in_payments(
        &[
            ("pods/exec", "create"),
            // A WebSocket's upgrade is a `GET`: before Kubernetes 1.35, or with the
            // `AuthorizePodWebsocketUpgradeCreatePermission` gate off, `get` is enough.
            ("pods/exec", "get"),
            ("pods/attach", "create"),
            ("pods/attach", "get"),
            // An ephemeral container runs an image of the writer's choosing in the pod.
            ("pods/ephemeralcontainers", "update"),
            ("pods/ephemeralcontainers", "patch"),
            // So does a new image for a running container.
            ("pods", "update"),
            ("pods", "patch"),
        ],
        true,
    );
    reached_in_payments(
        &[
            ("pods/log", "get"),
            ("pods/status", "patch"),
            ("pods/ephemeralcontainers", "get"),
            ("pods", "get"),
            ("pods", "delete"),
        ],
        false,
    );
}

#[test]
fn the_api_servers_tunnels_reach_pods_past_network_policies() {
    // `payments` takes no connection, but the API server forwards ports to its pods and
    // proxies requests to them and to its Services, whatever the HTTP method.
    reached_in_payments(
        &[
            ("pods/portforward", "create"),
            ("pods/portforward", "get"),
            ("pods/proxy", "get"),
            ("pods/proxy", "create"),
            ("services/proxy", "get"),
            ("services/proxy", "delete"),
        ],
        true,
    );
    reached_in_payments(&[("services", "get"), ("pods/portforward", "list")], false);
}

#[test]
fn admission_webhooks_see_and_rewrite_what_is_admitted() {
    let admission = "admissionregistration.k8s.io";
    // A mutating webhook may rewrite every pod created from then on: any image, account
    // and Secret, in every namespace.
    for verb in ["create", "update", "patch"] {
        assert!(
            ledger_reached(
                &frontend_everywhere(admission, "mutatingwebhookconfigurations", verb),
                ""
            ),
            "{verb}"
        );
    }
    // A validating webhook is sent every Secret written from then on.
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: key, namespace: vault}\n";
    let policy = "flows:\n  - {from: any, to: payments/ledger, auth: ['secret:vault/key']}\n";
    let validating = format!(
        "{}{secret}",
        frontend_everywhere(admission, "validatingwebhookconfigurations", "create")
    )
    .replace("name: exec}", "name: none}");
    assert!(ledger_reached(&validating, policy));
    assert!(!ledger_reached(&validating, ""));
    // The configurations have no namespace: a RoleBinding grants nothing on them.
    assert!(!ledger_reached(
        &frontend_in_payments(admission, "mutatingwebhookconfigurations", "create"),
        ""
    ));
}

#[test]
fn the_kubelet_api_controls_every_pod() {
    // `nodes/proxy` reaches the kubelets, which exec in every pod of their nodes; cordon
    // does not know which node runs which pod.
    for (resource, verb) in [
        ("nodes/proxy", "get"),
        ("nodes/proxy", "create"),
        ("'*/proxy'", "get"),
    ] {
        assert!(
            ledger_reached(&frontend_everywhere("", resource, verb), ""),
            "{verb} {resource}"
        );
    }
    assert!(!ledger_reached(
        &frontend_everywhere("", "nodes", "get"),
        ""
    ));
    // Nodes have no namespace: a RoleBinding grants nothing on them.
    assert!(!ledger_reached(
        &frontend_in_payments("", "nodes/proxy", "get"),
        ""
    ));
}

/// A Pod `web/debug`, open to the internet (no policy selects `web`), with `pod` added
/// to its spec and `container` to its container's.
fn debug_pod(pod: &str, container: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: debug, namespace: web}}\nspec:\n  {pod}\n  containers:\n    - name: c\n      {container}\n"
    )
}

#[test]
fn a_container_that_escapes_to_its_node_controls_every_workload() {
    // The inputs do not say which node runs which pod: whoever controls one that can
    // escape controls every pod of the cluster.
    let escapes = [
        ("", "securityContext: {privileged: true}"),
        ("hostPID: true", ""),
        // Read-only, a mount still reads every pod's tokens and lets a process connect
        // to the container runtime's socket.
        (
            "volumes: [{name: h, hostPath: {path: /var/log}}]",
            "volumeMounts: [{name: h, mountPath: /h, readOnly: true}]",
        ),
        ("", "securityContext: {capabilities: {add: [SYS_ADMIN]}}"),
        (
            "",
            "securityContext: {capabilities: {add: [NET_BIND_SERVICE, SYS_PTRACE]}}",
        ),
        (
            "",
            "securityContext: {capabilities: {add: [CAP_SYS_MODULE]}}",
        ),
        ("", "securityContext: {capabilities: {add: [ALL]}}"),
        ("securityContext: {windowsOptions: {hostProcess: true}}", ""),
        ("", "securityContext: {windowsOptions: {hostProcess: true}}"),
        // Kubernetes reads YAML 1.1, where `yes` is true.
        ("hostPID: yes", ""),
    ];
    for (pod, container) in escapes {
        assert!(
            ledger_reached(&debug_pod(pod, container), ""),
            "{pod} {container}"
        );
    }
    // Neither the host's network nor its IPC namespace gives the node, nor do the
    // capabilities that a container runtime grants by default.
    let contained = [
        ("hostNetwork: true", ""),
        ("hostIPC: true", ""),
        ("hostPID: false", "securityContext: {privileged: false}"),
        (
            "",
            "securityContext: {capabilities: {add: [NET_BIND_SERVICE, NET_RAW, chown], drop: [ALL]}}",
        ),
        ("volumes: [{name: e, emptyDir: {}}]", ""),
    ];
    for (pod, container) in contained {
        assert!(
            !ledger_reached(&debug_pod(pod, container), ""),
            "{pod} {container}"
        );
    }
}

#[test]
fn pods_of_a_missing_owner_fold_only_when_they_agree_on_escaping() {
    // Two pods of a ReplicaSet that is not in the inputs, the second privileged: folded
    // into one asset named after its first pod, the escape would be lost.
    let pod = |name: &str, privileged: bool| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: web\n  ownerReferences: [{{kind: ReplicaSet, name: debug-5d4f, controller: true}}]\nspec: {{containers: [{{name: c, securityContext: {{privileged: {privileged}}}}}]}}\n---\n"
        )
    };
    let pods = format!(
        "{}{}",
        pod("debug-5d4f-a", false),
        pod("debug-5d4f-b", true)
    );
    assert!(ledger_reached(&pods, ""));
}

#[test]
fn the_nodes_are_one_asset_reached_from_the_line_that_escapes() {
    let debug = debug_pod("hostPID: true", "securityContext: {privileged: true}");
    let with_nodes = |files: &[(&str, &str)]| -> Vec<String> {
        located_pairs(files)
            .into_iter()
            .filter(|pair| pair.contains("kubernetes:nodes"))
            .collect()
    };
    // The escape is located at the first field that allows it, and so are the nodes.
    assert_eq!(
        with_nodes(&[("k8s/cluster.yaml", LEDGER), ("k8s/debug.yaml", &debug)]),
        [
            "kubernetes:nodes -> payments/ledger k8s/debug.yaml:5",
            "kubernetes:nodes -> web/debug k8s/debug.yaml:5",
            "kubernetes:nodes -> web/frontend k8s/debug.yaml:5",
            "web/debug -> kubernetes:nodes k8s/debug.yaml:5",
        ]
    );
    // Without a pod that can escape, there is no node to reach.
    assert!(with_nodes(&[("k8s/cluster.yaml", LEDGER)]).is_empty());
}

/// [`DEPLOYER_EXECS_IN_PAYMENTS`], and `web/frontend` may do `verb` on `resource` of API
/// group `group` in `ops`.
fn frontend_in_ops(group: &str, resource: &str, verb: &str) -> String {
    let granted = frontend_granted(Some("ops"), group, resource, verb);
    format!("{EXEC_IN_PAYMENTS}{DEPLOYER_EXECS_IN_PAYMENTS}{granted}")
}

#[test]
fn requesting_a_token_yields_the_namespaces_tokens() {
    // The TokenRequest API mints a token for any account of `ops`, `deployer` included.
    for (resource, verb, reached) in [
        ("serviceaccounts/token", "create", true),
        ("'*/token'", "create", true),
        ("serviceaccounts/token", "get", false),
        ("serviceaccounts", "create", false),
    ] {
        assert_eq!(
            ledger_reached(&frontend_in_ops("", resource, verb), ""),
            reached,
            "{verb} {resource}"
        );
    }
    // A minted token is no Secret: `ops`' Secrets stay out of reach.
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: key, namespace: ops}\n";
    let rbac = format!(
        "{}{secret}",
        frontend_in_ops("", "serviceaccounts/token", "create")
    );
    let policy = "flows:\n  - {from: any, to: payments/ledger, auth: ['secret:ops/key']}\n";
    let without_exec = rbac.replace("name: exec}", "name: none}");
    assert!(!ledger_reached(&without_exec, policy));
}

/// A long-lived token of `ops/deployer`, kept as a Secret.
const DEPLOYER_TOKEN_SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: ops
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
";

#[test]
fn projected_volumes_and_token_secrets_hold_an_accounts_token() {
    // `ops/probe`, open to the internet, holds `deployer`'s token, which may exec into
    // `payments`, in each of these ways, or holds nothing that opens a way.
    let probe = |spec: &str| {
        format!(
            "{EXEC_IN_PAYMENTS}{DEPLOYER_EXECS_IN_PAYMENTS}apiVersion: v1\nkind: Pod\nmetadata: {{name: probe, namespace: ops}}\nspec:\n{spec}\n---\n{DEPLOYER_TOKEN_SECRET}"
        )
    };
    let quiet = "  serviceAccountName: deployer\n  automountServiceAccountToken: false\n  containers: [{name: c}]\n";
    let cases = [
        (quiet.to_owned(), false),
        (
            format!(
                "{quiet}  volumes: [{{name: t, projected: {{sources: [{{serviceAccountToken: {{path: t}}}}]}}}}]"
            ),
            true,
        ),
        (
            "  containers: [{name: c}]\n  volumes: [{name: t, secret: {secretName: deployer-token}}]".to_owned(),
            true,
        ),
        (
            "  containers: [{name: c}]\n  volumes: [{name: t, projected: {sources: [{secret: {name: deployer-token}}]}}]".to_owned(),
            true,
        ),
        (
            "  containers: [{name: c}]\n  ephemeralContainers: [{name: d, envFrom: [{secretRef: {name: deployer-token}}]}]".to_owned(),
            true,
        ),
    ];
    for (spec, reached) in cases {
        assert_eq!(ledger_reached(&probe(&spec), ""), reached, "{spec}");
    }
    // Kubernetes reads booleans as YAML 1.1 does: the pod's `yes` wins over its
    // account's `false`, and a pod's `off` keeps the token out.
    let account_off = |spec: &str| {
        probe(spec).replace(
            "kind: ServiceAccount\nmetadata: {name: deployer, namespace: ops}\n",
            "kind: ServiceAccount\nmetadata: {name: deployer, namespace: ops}\nautomountServiceAccountToken: false\n",
        )
    };
    let yes = "  serviceAccountName: deployer\n  automountServiceAccountToken: yes\n  containers: [{name: c}]\n";
    assert!(account_off(yes).contains("automountServiceAccountToken: false"));
    assert!(ledger_reached(&account_off(yes), ""));
    assert!(!ledger_reached(
        &account_off(&yes.replace("yes", "'off'")),
        ""
    ));
    assert!(!ledger_reached(&probe(&yes.replace("yes", "'off'")), ""));
    // A Secret of another type is no token, whatever its annotations say.
    let opaque = probe(
        "  containers: [{name: c}]\n  volumes: [{name: t, secret: {secretName: deployer-token}}]",
    )
    .replace("type: kubernetes.io/service-account-token", "type: Opaque");
    assert!(!ledger_reached(&opaque, ""));
}

/// [`DEPLOYER_EXECS_IN_PAYMENTS`], and `web/frontend` may do `verb` on `resource` of API
/// group `group` in every namespace, through a ClusterRoleBinding.
fn frontend_everywhere(group: &str, resource: &str, verb: &str) -> String {
    let granted = frontend_granted(None, group, resource, verb);
    format!("{EXEC_IN_PAYMENTS}{DEPLOYER_EXECS_IN_PAYMENTS}{granted}")
}

#[test]
fn impersonation_yields_the_identities_it_covers() {
    // Impersonating `ops`' accounts acts as `deployer`, which may exec into `payments`.
    assert!(ledger_reached(
        &frontend_in_ops("", "serviceaccounts", "impersonate"),
        ""
    ));
    assert!(ledger_reached(
        &frontend_everywhere("", "serviceaccounts", "impersonate"),
        ""
    ));
    // Users and groups are cluster-wide: a ClusterRoleBinding may impersonate the group
    // `system:masters` or the user `system:kube-controller-manager`, and so do anything.
    for resource in ["users", "groups", "'*'"] {
        assert!(
            ledger_reached(&frontend_everywhere("", resource, "impersonate"), ""),
            "{resource}"
        );
    }
    // A RoleBinding grants nothing on what has no namespace.
    for resource in ["users", "groups"] {
        assert!(
            !ledger_reached(&frontend_in_ops("", resource, "impersonate"), ""),
            "{resource}"
        );
    }
    // Extras and UIDs come with a user, whose impersonation needs its own permission.
    assert!(!ledger_reached(
        &frontend_everywhere(
            "authentication.k8s.io",
            "'userextras/scopes'",
            "impersonate"
        ),
        ""
    ));
    assert!(!ledger_reached(
        &frontend_everywhere("", "serviceaccounts", "get"),
        ""
    ));
}

#[test]
fn escalate_and_bind_are_everything_where_they_apply() {
    let rbac = "rbac.authorization.k8s.io";
    for (resource, verb, reached) in [
        // In `ops`, a role may be written with any rule, or any role bound: `ops`'
        // Secrets, and so `deployer`'s token, are within reach.
        ("roles", "escalate", true),
        ("roles", "bind", true),
        ("clusterroles", "bind", true),
        ("roles", "'*'", true),
        // ClusterRoles have no namespace: a RoleBinding does not let them be escalated.
        ("clusterroles", "escalate", false),
        // Writing roles or bindings without `escalate` or `bind` grants only what the
        // writer already holds (RBAC's privilege-escalation prevention).
        ("roles", "create", false),
        ("roles", "update", false),
        ("rolebindings", "create", false),
        ("rolebindings", "patch", false),
    ] {
        assert_eq!(
            ledger_reached(&frontend_in_ops(rbac, resource, verb), ""),
            reached,
            "{verb} {resource}"
        );
    }
    // Through a ClusterRoleBinding, ClusterRoles too, in every namespace.
    assert!(ledger_reached(
        &frontend_everywhere(rbac, "clusterroles", "escalate"),
        ""
    ));
}

#[test]
fn approving_client_certificates_is_everything_cluster_wide() {
    // A client certificate of any name, `system:masters` among its groups.
    let approval = "certificatesigningrequests/approval";
    let group = "certificates.k8s.io";
    assert!(ledger_reached(
        &frontend_everywhere(group, approval, "update"),
        ""
    ));
    // Requests have no namespace: a RoleBinding grants nothing on them.
    assert!(!ledger_reached(
        &frontend_in_ops(group, approval, "update"),
        ""
    ));
    // Creating a request approves nothing.
    assert!(!ledger_reached(
        &frontend_everywhere(group, "certificatesigningrequests", "create"),
        ""
    ));
}

#[test]
fn kinds_not_modelled_are_counted_with_verbose() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n";
    let cordon = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("k8s/other.yaml", text);
    let out = cordon.args(["connections", "k8s", "--verbose"]).run();
    out.code(0);
    assert!(
        out.stderr.contains(
            "skipped Kubernetes objects of kinds cordon does not model: 2 ConfigMap, 1 HorizontalPodAutoscaler"
        ),
        "{}",
        out.stderr
    );
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("k8s/other.yaml", text)
        .args(["connections", "k8s"])
        .run();
    assert!(!out.stderr.contains("ConfigMap"), "{}", out.stderr);
}

#[test]
fn a_file_of_objects_and_policy_is_one_input() {
    let text = format!(
        "{PODS}---\ninvariants:\n  - {{name: i, forbid: {{from: internet, to: shop/db}}}}\n"
    );
    let out = Cordon::new()
        .file("all.yaml", text)
        .args(["check", "all.yaml", "--format", "json"])
        .run();
    out.code(1);
    let value = out.json();
    assert_eq!(value["inputs"].as_array().unwrap().len(), 1, "{value}");
    assert_eq!(value["results"][0]["witness"][0]["location"], "all.yaml:20");
}

#[test]
fn strange_manifests_never_panic() {
    let strange = [
        "apiVersion: v1\nkind: List\nitems: 3\n",
        "apiVersion: v1\nkind: PodList\nitems: [{metadata: {name: x}}, 7, null]\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, ownerReferences: [{}, {kind: Node}]}\nspec: {containers: 5}\n",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: [], ingress: {a: 1}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [nonsense]}}], ports: [{port: 0}, {port: 99999}, {port: http, endPort: 1}]}]}\n",
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: x, subject: 3, ingress: [{action: Allow, from: 4, ports: [{portRange: {start: 9, end: 1}}]}]}\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: missing}\nsubjects: [{kind: ServiceAccount, name: s}]\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: [a], ports: [{port: x, targetPort: {}}]}\n",
        "- just\n- a list\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: &a {x: *a}\n",
        "\u{feff}apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: crlf}\r\n",
    ];
    for text in strange {
        let out = Cordon::new()
            .file("k8s/strange.yaml", text)
            .args(["connections", "k8s"])
            .run();
        assert!(
            matches!(out.code, 0 | 2),
            "{text}\n{}{}",
            out.stdout,
            out.stderr
        );
        if out.code == 2 {
            assert!(
                out.stderr.contains("k8s/strange.yaml"),
                "{text}\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn what_kubernetes_accepts_but_allows_nothing_is_a_warning() {
    let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: n, namespace: shop}
spec:
  podSelector: {}
  ingress:
    - ports: [{port: nowhere}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: shop}
roleRef: {kind: Role, name: ghost}
subjects: [{kind: ServiceAccount, name: default}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: shop}
spec:
  defaultBackend: {service: {name: absent, port: {number: 80}}}
";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("k8s/odd.yaml", text)
        .args(["connections", "k8s", "--to", "shop/db"])
        .run();
    out.code(0);
    let expected = [
        "k8s/odd.yaml:7:7: warning: named port `nowhere` is on no container in the inputs, so it allows nothing",
        "k8s/odd.yaml:12:10: warning: role `ghost` is not in the inputs, so this grants nothing",
        "k8s/odd.yaml:19:19: warning: service `shop/absent` is not in the inputs, so this grants nothing",
    ];
    for line in expected {
        assert!(out.stderr.contains(line), "{line}\n{}", out.stderr);
    }
    // The isolated db admits nothing: its only rule names a port no container has.
    assert!(out.stdout.starts_with("0 connections"), "{}", out.stdout);
}

#[test]
fn a_pod_on_its_nodes_network_is_warned_of_once() {
    // Two pods of one DaemonSet fold into it, and warn once, at the first.
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\n  ownerReferences: [{{kind: DaemonSet, name: agent, controller: true}}]\nspec:\n  hostNetwork: true\n  containers: [{{name: c}}]\n---\n"
        )
    };
    let text = format!(
        "{}{}apiVersion: v1\nkind: Pod\nmetadata: {{name: plain, namespace: shop}}\nspec: {{hostNetwork: false, containers: [{{name: c}}]}}\n",
        pod("agent-a"),
        pod("agent-b")
    );
    let out = Cordon::new()
        .file("k8s/pods.yaml", text)
        .args(["connections", "k8s"])
        .run();
    out.code(0);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.contains("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [
            "k8s/pods.yaml:8:16: warning: `kube-system/agent` shares its node's network, where NetworkPolicies may not apply"
        ],
        "{}",
        out.stderr
    );
}

#[test]
fn a_cluster_role_binding_starts_pods_in_every_namespace_the_inputs_name() {
    // `vault` is named only by a Secret in it: the frontend may start a pod there too,
    // as it may read the Secret there.
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: root, namespace: vault}\n---\n";
    let rbac = format!(
        "{secret}{}---\n{}",
        frontend_granted(None, "", "pods", "create"),
        frontend_granted(None, "", "secrets", "get").replace("granted", "reads")
    );
    let found = pairs(
        &[("k8s/cluster.yaml", LEDGER), ("k8s/rbac.yaml", &rbac)],
        &[],
    );
    for started in ["pods:web", "pods:payments", "pods:vault"] {
        assert!(
            found
                .iter()
                .any(|pair| pair.starts_with(&format!("{started} -> "))),
            "{started}: {found:?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|pair| pair.starts_with("kubernetes-api -> secrets:vault ")),
        "{found:?}"
    );
}

#[test]
fn a_helm_template_is_an_error_that_says_to_render_it_or_leave_it_out() {
    let template = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"web.fullname\" . }}
  labels:
    {{- include \"web.labels\" . | nindent 4 }}
";
    let run = |ignore: Option<&str>| {
        let mut cordon = Cordon::new()
            .file("chart/templates/deployment.yaml", template)
            .file("k8s/pods.yaml", PODS);
        if let Some(ignore) = ignore {
            cordon = cordon.file(".cordonignore", ignore);
        }
        cordon.args(["check", ".", "--allow-empty"]).run()
    };
    let out = run(None);
    out.code(2);
    assert!(
        out.stderr
            .contains("chart/templates/deployment.yaml:6:7: error: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: this looks like a template, which is YAML only once rendered: check what it renders to (`helm template CHART > rendered.yaml`), or leave its folder out in `.cordonignore`"),
        "{}",
        out.stderr
    );
    run(Some("chart/\n")).code(0);
}

#[test]
fn a_kustomization_is_warned_of_as_not_applied() {
    let kustomization = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources: [pods.yaml]
";
    let out = Cordon::new()
        .file("k8s/pods.yaml", PODS)
        .file("k8s/kustomization.yaml", kustomization)
        .args(["check", "k8s", "--allow-empty"])
        .run();
    out.code(0);
    assert!(
        out.stderr.contains("k8s/kustomization.yaml:1:1: warning: a Kustomization is not applied: its namespace, name prefixes and patches are not in the model\n  help: check what `kubectl kustomize DIR` renders instead"),
        "{}",
        out.stderr
    );
}

/// Who reaches the API server from outside is not in the manifests: a flow of the
/// user's own says the endpoint is public (docs/policy-language.md), and then a
/// binding of anyone works from the internet.
#[test]
fn a_flow_of_ones_own_puts_the_api_server_on_the_internet() {
    let cluster = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers: [{name: ledger, image: ledger}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: payments}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: anyone-edits, namespace: payments}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:unauthenticated'}]
";
    let invariants = "\
invariants:
  - name: ledger
    forbid: {from: internet, to: payments/ledger}
";
    let endpoint = "\
flows:
  - name: public-api-endpoint
    from: internet
    to: kubernetes-api
    ports: [tcp/443]
";
    let run = |public: bool| {
        let mut cordon = Cordon::new()
            .file("k8s/cluster.yaml", cluster)
            .file("policy/invariants.yaml", invariants);
        if public {
            cordon = cordon.file("policy/endpoint.yaml", endpoint);
        }
        cordon.args(["check", ".", "--format", "json"]).run()
    };
    run(false).code(0);
    let out = run(true);
    out.code(1);
    let value = out.json();
    let hops: Vec<&str> = (value["results"][0]["witness"].as_array().unwrap().iter())
        .map(|hop| hop["flow"].as_str().unwrap())
        .collect();
    // The binding's flow is located at its `roleRef`.
    assert_eq!(hops, ["public-api-endpoint", "k8s/cluster.yaml:18"]);
}
