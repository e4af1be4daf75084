//! A Kubernetes cluster and a Terraform plan in one model: on EKS a pod's service
//! account obtains an IAM role, through an IRSA trust policy or an EKS Pod Identity
//! association, so a path runs from the pod through the AWS API. The plan is
//! `tests/fixtures/terraform-soundness/iam-05b-trust-in-a-web-identity.json`: role
//! `public` may open a session on every instance, `aws_instance.vault` among them.

use crate::harness::{Cordon, Output, repo};

const ROLE: &str = "aws_iam_role.public";
const VAULT: &str = "aws_instance.vault";
const PROVIDER: &str =
    "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";

/// `payments/api` runs as the account `payments/api`, whose token is not mounted, and
/// a NetworkPolicy admits nothing to it.
const CLUSTER: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: payments}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: payments}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      containers: [{name: api, image: api}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: payments}
spec: {podSelector: {}, policyTypes: [Ingress]}
";

/// The plan with role `public` trusting `statement` alone, and `more` resources added
/// to its planned values.
fn plan(statement: serde_json::Value, more: &[(&str, serde_json::Value)]) -> String {
    let path =
        repo().join("tests/fixtures/terraform-soundness/iam-05b-trust-in-a-web-identity.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let resources = plan
        .pointer_mut("/planned_values/root_module/resources")
        .and_then(serde_json::Value::as_array_mut)
        .unwrap();
    let role = resources
        .iter_mut()
        .find(|resource| resource["address"] == ROLE)
        .unwrap();
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]});
    role["values"]["assume_role_policy"] = trust.to_string().into();
    for (address, values) in more {
        let (kind, name) = address.split_once('.').unwrap();
        resources.push(serde_json::json!({"address": address, "mode": "managed",
            "type": kind, "name": name, "values": values}));
    }
    serde_json::to_string_pretty(&plan).unwrap()
}

/// An IRSA trust statement: the cluster's provider vouches for `subject`.
fn irsa(subject: &str) -> serde_json::Value {
    serde_json::json!({
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            format!("{ISSUER}:sub"): subject,
            format!("{ISSUER}:aud"): "sts.amazonaws.com",
        }},
    })
}

/// The trust statement of a role for EKS Pod Identity.
fn pod_identity_service() -> serde_json::Value {
    serde_json::json!({
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    })
}

/// `check` of `forbid: {from, to: vault}` on `plan`, with the cluster or without it.
fn forbid(plan: String, cluster: Option<&str>, from: &str) -> Output {
    let policy = format!(
        "invariants:\n  - name: vault\n    forbid: {{from: \"{from}\", to: \"{VAULT}\"}}\n"
    );
    let mut cordon = Cordon::new()
        .file("tf/plan.json", plan)
        .file("policy/invariants.yaml", policy);
    if let Some(cluster) = cluster {
        cordon = cordon.file("k8s/cluster.yaml", cluster);
    }
    let out = cordon.args(["check", ".", "--format", "json"]).run();
    assert!(matches!(out.code, 0 | 1), "{}{}", out.stdout, out.stderr);
    out
}

/// The names of the flows that the first result's witness crosses.
fn witness(out: &Output) -> Vec<String> {
    let value = out.json();
    let hops = value["results"][0]["witness"].as_array().unwrap().clone();
    hops.iter()
        .map(|hop| hop["flow"].as_str().unwrap().to_owned())
        .collect()
}

/// An IRSA role is held where its account's token is, in the imported cluster: the
/// pod reaches the vault through the AWS API, its token mounted or not, and the
/// internet does not, since the NetworkPolicy keeps it from the pod.
#[test]
fn an_irsa_role_is_held_by_the_pods_of_its_service_account() {
    let plan = || plan(irsa("system:serviceaccount:payments:api"), &[]);
    let from_pod = forbid(plan(), Some(CLUSTER), "payments/api");
    from_pod.code(1);
    assert_eq!(
        witness(&from_pod),
        [format!("{ROLE}#pods"), format!("{ROLE}#session:0")]
    );
    forbid(plan(), Some(CLUSTER), "internet").code(0);
    // By pattern too.
    let like = serde_json::json!({
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {format!("{ISSUER}:sub"): "system:serviceaccount:payments:*"}},
    });
    forbid(self::plan(like.clone(), &[]), Some(CLUSTER), "internet").code(0);
    forbid(self::plan(like, &[]), Some(CLUSTER), "payments/api").code(1);
}

/// A trust statement whose accounts no imported cluster knows admits anyone, as it did
/// before clusters were read: without a cluster, or with one that has no such account.
#[test]
fn an_irsa_role_whose_accounts_no_cluster_knows_admits_anyone() {
    let plan = |subject: &str| plan(irsa(subject), &[]);
    let ours = "system:serviceaccount:payments:api";
    let theirs = "system:serviceaccount:payments:other";
    let out = forbid(plan(theirs), Some(CLUSTER), "internet");
    out.code(1);
    assert_eq!(witness(&out).last().unwrap(), &format!("{ROLE}#session:0"));
    let warned = format!(
        "tf/plan.json:68: `{ROLE}`: its trust policy admits service accounts that no imported cluster knows (`{theirs}`); assumed to admit anyone"
    );
    assert!(out.stderr.contains(&warned), "{}", out.stderr);
    // Without a cluster, a federated identity always meant anyone: no warning.
    let alone = forbid(plan(ours), None, "internet");
    alone.code(1);
    assert!(
        !alone.stderr.contains("no imported cluster"),
        "{}",
        alone.stderr
    );
    forbid(plan(theirs), Some(CLUSTER), "payments/api").code(1);
}

/// An EKS Pod Identity association gives its role to the pods of the account it names;
/// without it, the role's trust in the service gives the pods nothing.
#[test]
fn an_eks_pod_identity_association_gives_its_role_to_the_pods_of_its_account() {
    let association = (
        "aws_eks_pod_identity_association.api",
        serde_json::json!({
            "cluster_name": "prod",
            "namespace": "payments",
            "service_account": "api",
            "role_arn": "arn:aws:iam::111111111111:role/public",
        }),
    );
    let associated = || plan(pod_identity_service(), std::slice::from_ref(&association));
    let out = forbid(associated(), Some(CLUSTER), "payments/api");
    out.code(1);
    assert_eq!(
        witness(&out),
        [format!("{ROLE}#pods"), format!("{ROLE}#session:0")]
    );
    forbid(associated(), Some(CLUSTER), "internet").code(0);
    let alone = plan(pod_identity_service(), &[]);
    forbid(alone, Some(CLUSTER), "payments/api").code(0);
}

/// The cluster's Terraform often keeps the associations and the account's the roles:
/// an association in one plan gives a role of another plan to the pods all the same.
#[test]
fn a_pod_identity_association_gives_a_role_of_another_plan() {
    let association = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.6.6",
        "planned_values": {"root_module": {"resources": [{
            "address": "aws_eks_pod_identity_association.api",
            "mode": "managed",
            "type": "aws_eks_pod_identity_association",
            "name": "api",
            "values": {
                "cluster_name": "prod",
                "namespace": "payments",
                "service_account": "api",
                "role_arn": "arn:aws:iam::111111111111:role/public",
            },
        }]}},
    });
    let run = |associations: bool| {
        let policy = format!(
            "invariants:\n  - name: vault\n    forbid: {{from: payments/api, to: \"{VAULT}\"}}\n"
        );
        let mut cordon = Cordon::new()
            .file("tf/account.json", plan(pod_identity_service(), &[]))
            .file("k8s/cluster.yaml", CLUSTER)
            .file("policy/invariants.yaml", policy);
        if associations {
            cordon = cordon.file("tf/cluster.json", association.to_string());
        }
        cordon.args(["check", ".", "--format", "json"]).run()
    };
    run(false).code(0);
    let out = run(true);
    out.code(1);
    assert_eq!(
        witness(&out),
        [format!("{ROLE}#pods"), format!("{ROLE}#session:0")]
    );
}

/// `examples/eks`: the frontend, on the internet through its Ingress, holds the role
/// its service account assumes, and the role opens a session on the vault; the fix
/// leaves the role only the shop's assets.
#[test]
fn the_eks_example_finds_the_path_through_the_frontends_role() {
    let out = crate::harness::run_repo(&["check", "examples/eks/before", "--format", "json"]);
    out.code(1);
    let value = out.json();
    let result = &value["results"][0];
    assert_eq!(result["status"], "fail");
    let acquisition = &result["acquisitions"][0];
    assert_eq!(acquisition["credential"], "aws_iam_role.frontend");
    assert_eq!(acquisition["holder"], "web/frontend");
    let path: Vec<&str> = (acquisition["path"].as_array().unwrap().iter())
        .map(|hop| hop["to"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["ingress-controller", "web/frontend"]);
    let last = result["witness"].as_array().unwrap().last().unwrap();
    assert_eq!(last["flow"], "aws_iam_role.frontend#session:0");
    assert_eq!(value["results"][1]["status"], "pass");
    let fixed = ["check", "examples/eks/after", "--deny-warnings"];
    crate::harness::run_repo(&fixed).code(0);
}
