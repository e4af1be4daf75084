//! `leaks`: a credential that an importer read, named as held by the attacker. The
//! Cloudflare case is a token that leaked and was never rotated; these tests state it
//! for a service account's token read from a cluster and an IAM user read from a plan.

use crate::harness::{Cordon, Output, run_repo};

const BEFORE: &str = "examples/aws/stolen-access-key/before";
const AFTER: &str = "examples/aws/stolen-access-key/after";

/// Service account `ci/deployer` may edit `payments`, and the CI runner runs as it;
/// nothing reaches either namespace's pods over the network.
const CLUSTER: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: runner, namespace: ci}
spec:
  template:
    metadata: {labels: {app: runner}}
    spec:
      serviceAccountName: deployer
      containers: [{name: runner, image: runner}]
---
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
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: ci}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-edits, namespace: payments}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
";

/// The API server's endpoint is public, as a managed cluster's is by default.
const POLICY: &str = "\
flows:
  - {name: public-api-endpoint, from: internet, to: kubernetes-api, ports: [tcp/443]}
invariants:
  - name: ledger
    forbid: {from: internet, to: payments/ledger}
";

/// `check --format json` of the cluster and the policy, with `extra` appended to it.
fn check(extra: &str) -> Output {
    Cordon::new()
        .file("k8s/cluster.yaml", CLUSTER)
        .file("policy/invariants.yaml", format!("{POLICY}{extra}"))
        .args(["check", ".", "--format", "json"])
        .run()
}

/// The names of the flows and the credentials that the first result's witness uses.
fn witness(out: &Output) -> Vec<(String, Option<String>)> {
    let value = out.json();
    let hops = value["results"][0]["witness"].as_array().unwrap().clone();
    hops.iter()
        .map(|hop| {
            let credential = hop["credential"].as_str().map(str::to_owned);
            (hop["flow"].as_str().unwrap().to_owned(), credential)
        })
        .collect()
}

/// The token that a cluster's service account holds is imported; a leak of it lets the
/// internet use the binding through the public endpoint, with nothing to acquire.
#[test]
fn a_leaked_service_account_token_opens_what_its_bindings_allow() {
    check("").code(0);
    let out = check("leaks:\n  - credential: \"token:ci/deployer\"\n    owner: platform\n");
    out.code(1);
    let hops = witness(&out);
    assert_eq!(hops.len(), 2, "{hops:?}");
    assert_eq!(hops[0], ("public-api-endpoint".to_owned(), None));
    assert_eq!(hops[1].1.as_deref(), Some("token:ci/deployer"));
    assert_eq!(
        out.json()["results"][0]["acquisitions"],
        serde_json::json!([])
    );
}

/// A leak names a credential; it declares none. A credential written by hand with an
/// imported credential's name is a duplicate as before, and a leak that names no
/// credential is an error that points at it and suggests the closest name.
#[test]
fn a_leak_must_name_a_credential_that_exists() {
    let duplicate = check("credentials:\n  - {name: \"token:ci/deployer\", leaked: true}\n");
    duplicate.code(2);
    assert!(
        duplicate
            .stderr
            .contains("duplicate credential name `token:ci/deployer`"),
        "{}",
        duplicate.stderr
    );
    assert!(
        duplicate.stderr.contains(
            "help: `token:ci/deployer` is read from the estate: instead of declaring it by hand, say that it leaked with `leaks: [{credential: 'token:ci/deployer'}]`"
        ),
        "{}",
        duplicate.stderr
    );
    let unknown = check("leaks:\n  - credential: \"token:ci/deploy\"\n");
    unknown.code(2);
    assert!(
        unknown
            .stderr
            .contains("policy/invariants.yaml:7:17: error: unknown credential `token:ci/deploy`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown
            .stderr
            .contains("help: did you mean `token:ci/deployer`?"),
        "{}",
        unknown.stderr
    );
}

/// A JSON policy file is read without positions; its unknown leak still has a line.
#[test]
fn an_unknown_leak_in_json_points_at_its_line() {
    let out = Cordon::new()
        .file("k8s/cluster.yaml", CLUSTER)
        .file(
            "policy/leaks.json",
            "{\n  \"leaks\": [\n    {\"credential\": \"token:ci/deploye\"}\n  ]\n}\n",
        )
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("policy/leaks.json:3:20: error: unknown credential `token:ci/deploye`"),
        "{}",
        out.stderr
    );
}

/// A change that adds a leak is a change of what the attacker holds: `diff` reports
/// the invariant it breaks as a regression and fails, and the change at the leak.
#[test]
fn diff_fails_on_a_leak_that_breaks_an_invariant() {
    let leak = "leaks:\n  - credential: \"token:ci/deployer\"\n";
    let out = Cordon::new()
        .file("base/k8s/cluster.yaml", CLUSTER)
        .file("base/policy/invariants.yaml", POLICY)
        .file("head/k8s/cluster.yaml", CLUSTER)
        .file("head/policy/invariants.yaml", format!("{POLICY}{leak}"))
        .args(["diff", "base", "head", "--format", "json"])
        .run();
    out.code(1);
    let value = out.json();
    let invariants = value["invariants"].as_array().unwrap();
    let ledger = invariants
        .iter()
        .find(|i| i["invariant"] == "ledger")
        .unwrap();
    assert_eq!(ledger["change"], "regression", "{ledger}");
    // The change is where the leak is written, not the manifest that did not change.
    let changes = value["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["what"], "credential");
    assert_eq!(changes[0]["name"], "token:ci/deployer");
    assert_eq!(changes[0]["location"], "head/policy/invariants.yaml:7");
}

/// The example: an IAM user's access key leaked from the identity provider. No network
/// path reaches the vault, yet the key's session may open one on every instance; the
/// fix leaves the leak in place and narrows what the user may do.
#[test]
fn the_stolen_access_key_example_fails_before_and_holds_after() {
    let out = run_repo(&["check", BEFORE, "--format", "json"]);
    out.code(1);
    let value = out.json();
    let result = (value["results"].as_array().unwrap().iter())
        .find(|result| result["invariant"] == "internet-cannot-reach-the-vault")
        .unwrap();
    assert_eq!(result["status"], "fail");
    let last = result["witness"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["to"], "aws_instance.vault");
    assert_eq!(last["credential"], "aws_iam_user.wiki-sync");
    run_repo(&["check", AFTER, "--deny-warnings"]).code(0);
}

/// `reach --leaked` and `path --leaked` ask what a stolen credential opens without a
/// `leaks` entry, and say what they assumed.
#[test]
fn a_query_may_assume_a_credential_leaked() {
    let query = |args: &[&str]| {
        let mut all = vec![args[0], "."];
        all.extend(&args[1..]);
        Cordon::new()
            .file("k8s/cluster.yaml", CLUSTER)
            .file("policy/invariants.yaml", POLICY)
            .args(all)
            .run()
    };
    let reached = |out: &Output| -> Vec<String> {
        let value = out.json();
        (value["reachable"].as_array().unwrap().iter())
            .map(|reached| reached["entity"].as_str().unwrap().to_owned())
            .collect()
    };
    let plain = query(&["reach", "--from", "internet", "--format", "json"]);
    plain.code(0);
    assert!(!reached(&plain).contains(&"payments/ledger".to_owned()));
    assert!(!plain.stdout.contains("\"leaked\""), "{}", plain.stdout);
    let leaked = [
        "reach",
        "--from",
        "internet",
        "--leaked",
        "token:ci/deployer",
        "--format",
        "json",
    ];
    let out = query(&leaked);
    out.code(0);
    assert!(reached(&out).contains(&"payments/ledger".to_owned()));
    assert_eq!(
        out.json()["query"]["leaked"],
        serde_json::json!(["token:ci/deployer"])
    );
    let text = query(&[
        "reach",
        "--from",
        "internet",
        "--leaked",
        "token:ci/deployer",
    ]);
    insta::assert_snapshot!(text.stdout);

    let path = ["path", "--from", "internet", "--to", "payments/ledger"];
    assert!(
        query(&path)
            .stdout
            .starts_with("nothing in internet reaches")
    );
    let out = query(
        &[
            &path[..],
            &["--leaked", "token:ci/deployer", "--color", "never"],
        ]
        .concat(),
    );
    out.code(0);
    insta::assert_snapshot!(out.stdout);

    let unknown = query(&["reach", "--from", "internet", "--leaked", "token:ci/deploy"]);
    unknown.code(2);
    assert!(
        unknown
            .stderr
            .contains("unknown credential `token:ci/deploy`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("did you mean `token:ci/deployer`?"),
        "{}",
        unknown.stderr
    );
}
