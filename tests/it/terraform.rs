//! Terraform plans as input: every scenario under `examples/aws/` gives the verdicts
//! derived by hand, with witnesses at the plan lines of the resources that allow them;
//! each layer is shown to matter by taking it away; bad plans are errors at FILE:LINE.

use std::path::Path;

use crate::harness::{Cordon, repo, run_repo};

/// (scenario, invariant, status), derived by hand from each plan before cordon ran.
const VERDICTS: &[(&str, &str, &str)] = &[
    ("identity/before", "ci-cannot-reach-the-vault", "fail"),
    ("identity/before", "no-network-path-to-the-vault", "pass"),
    ("identity/after", "ci-cannot-reach-the-vault", "pass"),
    ("identity/after", "no-network-path-to-the-vault", "pass"),
    (
        "isolated-account",
        "nothing-reaches-the-isolated-account",
        "pass",
    ),
    (
        "isolated-account",
        "the-isolated-account-reaches-nothing-outside",
        "pass",
    ),
    (
        "isolated-account",
        "the-vault-instances-talk-to-each-other",
        "pass",
    ),
    ("nacl-denies", "ssh-is-denied-by-the-nacl", "pass"),
    ("nacl-denies", "http-crosses-both-layers", "pass"),
    ("nat-outbound-only", "the-worker-goes-out", "pass"),
    ("nat-outbound-only", "nothing-comes-in-through-nat", "pass"),
    ("peering/both-sides", "a-reaches-b-over-the-peering", "pass"),
    ("peering/both-sides", "b-reaches-a-over-the-peering", "pass"),
    ("peering/one-side", "a-cannot-reach-b", "pass"),
    ("peering/one-side", "b-cannot-reach-a", "pass"),
    (
        "public-ip-without-route",
        "the-routed-instance-is-exposed",
        "pass",
    ),
    (
        "public-ip-without-route",
        "a-public-address-without-a-route-is-not-exposed",
        "pass",
    ),
    ("web-tier", "the-load-balancer-serves-the-internet", "pass"),
    ("web-tier", "the-app-is-not-exposed-directly", "pass"),
    ("web-tier", "only-the-app-tier-reaches-the-database", "pass"),
    (
        "web-tier",
        "the-load-balancer-cannot-open-the-database",
        "pass",
    ),
    ("web-tier", "the-app-tier-goes-out-through-nat", "pass"),
];

/// Checks that a witness hop's location is the line of the plan resource its flow is
/// named after: the object that opens there holds that address.
fn assert_at_resource(hop: &serde_json::Value) {
    let flow = hop["flow"].as_str().unwrap();
    let address = flow
        .split_once(": ")
        .or_else(|| flow.split_once('#'))
        .unwrap()
        .0;
    let location = hop["location"].as_str().unwrap();
    let (file, line) = location.rsplit_once(':').unwrap();
    let line: usize = line.parse().unwrap();
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[line - 1].trim_end().ends_with('{'), "{location}");
    let wanted = serde_json::to_string(address).unwrap();
    assert!(
        lines[line].contains(&format!("\"address\": {wanted}")),
        "{location} is not `{address}`: {}",
        lines[line]
    );
}

#[test]
fn every_scenario_gives_its_derived_verdicts_with_witnesses_at_plan_lines() {
    let mut witnesses = 0;
    for (scenario, invariant, status) in VERDICTS {
        let dir = format!("examples/aws/{scenario}");
        let out = run_repo(&["check", &dir, "--format", "json"]);
        let value = out.json();
        let result = value["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|result| result["invariant"] == *invariant)
            .unwrap_or_else(|| panic!("{dir}: no invariant {invariant}"));
        assert_eq!(result["status"], *status, "{dir} {invariant}: {result}");
        for hop in result["witness"].as_array().unwrap() {
            assert!(hop["location"].as_str().unwrap().starts_with(&dir));
            assert_at_resource(hop);
            witnesses += 1;
        }
    }
    assert!(witnesses >= 8, "{witnesses}");
}

#[test]
fn the_isolated_account_is_reached_through_identity_alone() {
    let out = run_repo(&["check", "examples/aws/identity/before", "--format", "json"]);
    out.code(1);
    let value = out.json();
    let result = &value["results"][0];
    let flows: Vec<&str> = result["witness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| hop["flow"].as_str().unwrap())
        .collect();
    assert_eq!(
        flows,
        ["aws_iam_role.ci#api", "aws_iam_role.vault_admin#session:1"]
    );
    assert_eq!(
        result["witness"][1]["credential"],
        "aws_iam_role.vault_admin"
    );
    // The session needs `vault-admin`, obtained by assuming it with `ci` through the
    // API: a flow located at the role whose trust policy admits `ci`.
    let out = run_repo(&[
        "path",
        "examples/aws/identity/before",
        "--from",
        "aws_instance.ci",
        "--to",
        "aws_iam_role.vault_admin",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    let hops = value["paths"][0].as_array().unwrap();
    assert_eq!(
        hops.last().unwrap()["flow"],
        "aws_iam_role.vault_admin#assumed-by:aws_iam_role.ci"
    );
    assert_eq!(hops.last().unwrap()["credential"], "aws_iam_role.ci");
    hops.iter().for_each(assert_at_resource);
}

#[test]
fn the_web_tier_path_names_each_rule_at_its_line() {
    let out = run_repo(&[
        "path",
        "examples/aws/web-tier",
        "--from",
        "internet",
        "--to",
        "aws_db_instance.main",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    let hops = value["paths"][0].as_array().unwrap();
    let flows: Vec<&str> = hops
        .iter()
        .map(|hop| hop["flow"].as_str().unwrap())
        .collect();
    assert_eq!(
        flows,
        [
            "aws_security_group.lb: internet -> aws_lb.web",
            "aws_vpc_security_group_ingress_rule.app_from_lb: aws_lb.web -> aws_instance.app[0] +1",
            "aws_vpc_security_group_ingress_rule.db_from_app: aws_instance.app[0] +1 -> aws_db_instance.main",
        ]
    );
    hops.iter().for_each(assert_at_resource);
}

/// A scenario's plan with some resources taken out, checked in a temporary directory.
fn without(scenario: &str, addresses: &[&str]) -> Cordon {
    let dir = repo().join("examples/aws").join(scenario);
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let resources = plan["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    let before = resources.len();
    resources.retain(|resource| !addresses.contains(&resource["address"].as_str().unwrap()));
    assert_eq!(resources.len() + addresses.len(), before);
    let configuration = plan["configuration"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    configuration.retain(|resource| !addresses.contains(&resource["address"].as_str().unwrap()));
    let invariants = std::fs::read_to_string(dir.join("invariants.yaml")).unwrap();
    Cordon::new()
        .file("plan.json", serde_json::to_string_pretty(&plan).unwrap())
        .file("invariants.yaml", invariants)
}

fn status(out: &crate::harness::Output, invariant: &str) -> String {
    let value = out.json();
    let result = value["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["invariant"] == invariant)
        .unwrap()
        .clone();
    result["status"].as_str().unwrap().to_owned()
}

#[test]
fn each_layer_matters_when_taken_away() {
    // Without the NACL, the security group's tcp/22 goes through.
    let out = without("nacl-denies", &["aws_network_acl.servers"])
        .args(["check", ".", "--format", "json"])
        .run();
    out.code(1);
    assert_eq!(status(&out, "ssh-is-denied-by-the-nacl"), "fail");
    // Without the internet gateway's route, the routed instance is not exposed either.
    let out = without(
        "public-ip-without-route",
        &["aws_route_table_association.routed"],
    )
    .args(["check", ".", "--format", "json"])
    .run();
    assert_eq!(status(&out, "the-routed-instance-is-exposed"), "fail");
    // Without the NAT route, the worker has no way out.
    let out = without(
        "nat-outbound-only",
        &["aws_route_table_association.private"],
    )
    .args(["check", ".", "--format", "json"])
    .run();
    assert_eq!(status(&out, "the-worker-goes-out"), "fail");
}

#[test]
fn a_plan_found_in_a_directory_lands_in_the_aws_account() {
    let out = run_repo(&[
        "reach",
        "examples/aws/web-tier",
        "--from",
        "aws",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    let reached: Vec<&str> = value["reachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|leaf| leaf["entity"].as_str().unwrap())
        .collect();
    assert_eq!(reached, ["aws-api", "internet"]);
    // What the plan holds that cordon does not model is counted under --verbose only.
    let out = run_repo(&["check", "examples/aws/web-tier", "--verbose"]);
    out.code(0);
    assert_eq!(
        out.stderr,
        "note: Terraform resources not modelled: aws_s3_bucket (1)\n"
    );
    let out = run_repo(&["check", "examples/aws/web-tier"]);
    assert_eq!(out.stderr, "");
    // Tags come from `tags_all`, so the provider's default tags count.
    let out = run_repo(&[
        "reach",
        "examples/aws/web-tier",
        "--to",
        "tag:team=web",
        "--format",
        "json",
    ]);
    out.code(0);
    let value = out.json();
    assert!(
        value["reachable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|leaf| leaf["entity"] == "internet"),
        "{value}"
    );
}

#[test]
fn bad_plans_are_errors_at_their_lines() {
    let plan =
        std::fs::read_to_string(repo().join("examples/aws/nat-outbound-only/plan.json")).unwrap();
    let truncated: String = plan.lines().take(40).collect::<Vec<_>>().join("\n");
    let out = Cordon::new()
        .file("plan.json", &truncated)
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(
        out.stderr.starts_with("plan.json:40:") && out.stderr.contains("invalid Terraform JSON"),
        "{}",
        out.stderr
    );
    let out = Cordon::new()
        .file(
            "plan.json",
            "{\n  \"format_version\": \"2.0\",\n  \"terraform_version\": \"2.0.0\"\n}\n",
        )
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .starts_with("plan.json:2: error: unsupported version `2.0`"),
        "{}",
        out.stderr
    );
    let dangling = plan.replace("\"aws_nat_gateway.main.id\"", "\"aws_nat_gateway.gone.id\"");
    assert_ne!(dangling, plan);
    let out = Cordon::new()
        .file("plan.json", &dangling)
        .args(["check", "."])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("error: unknown Terraform resource `aws_nat_gateway.gone`"),
        "{}",
        out.stderr
    );
    let line = out.stderr.split(':').nth(1).unwrap();
    let at: usize = line.parse().unwrap();
    assert!(
        plan.lines()
            .nth(at)
            .unwrap()
            .contains("aws_route_table.private"),
        "{}",
        out.stderr
    );
    assert!(Path::new(&repo().join("examples/aws")).is_dir());
}

/// A resource the configuration declares with no instance in the plan (`count = 0`),
/// referred to behind a condition, is no dangling reference: Terraform writes such
/// plans for every module with an optional resource.
#[test]
fn a_reference_to_a_resource_counted_out_is_read() {
    let plan =
        std::fs::read_to_string(repo().join("examples/aws/nat-outbound-only/plan.json")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let configured = plan
        .pointer_mut("/configuration/root_module/resources")
        .and_then(serde_json::Value::as_array_mut)
        .unwrap();
    let table = configured
        .iter_mut()
        .find(|r| r["address"] == "aws_route_table.private")
        .unwrap();
    table["expressions"]["route"][0]["nat_gateway_id"] = serde_json::json!({"references": [
        "var.shared_nat", "aws_nat_gateway.optional[0].id", "aws_nat_gateway.optional[0]",
        "aws_nat_gateway.optional", "aws_nat_gateway.main.id", "aws_nat_gateway.main"
    ]});
    configured.push(serde_json::json!({
        "address": "aws_nat_gateway.optional", "mode": "managed", "type": "aws_nat_gateway",
        "name": "optional", "provider_config_key": "aws", "expressions": {},
        "count_expression": {"references": ["var.shared_nat"]}
    }));
    let out = Cordon::new()
        .file("plan.json", serde_json::to_string_pretty(&plan).unwrap())
        .args(["connections", "."])
        .run();
    out.code(0);
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn diff_plan_reports_what_a_plan_opens() {
    // The plan moves the database into the public subnet, makes it publicly accessible
    // and admits tcp/5432 from anywhere.
    let out = run_repo(&[
        "diff",
        "--plan",
        "examples/aws/plan-diff/plan.json",
        "examples/aws/web-tier/invariants.yaml",
        "--format",
        "json",
    ]);
    out.code(1);
    let value = out.json();
    let regression = &value["invariants"][0];
    assert_eq!(
        regression["invariant"],
        "only-the-app-tier-reaches-the-database"
    );
    let hop = &regression["witness"][0];
    assert_eq!(hop["from"], "internet");
    assert_eq!(hop["to"], "aws_db_instance.main");
    assert_at_resource(hop);
    let added: Vec<&str> = value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["change"] == "added")
        .map(|change| change["name"].as_str().unwrap())
        .collect();
    // Flows keep their names across the change, so only the new rule's show: one flow
    // per rule, and 0.0.0.0/0 admits the app tier as well as the internet.
    assert_eq!(
        added,
        [
            "aws_vpc_security_group_ingress_rule.db_from_anywhere: aws_instance.app[0] +1 -> aws_db_instance.main",
            "aws_vpc_security_group_ingress_rule.db_from_anywhere: internet -> aws_db_instance.main"
        ]
    );
    // Without policies, the plan alone: the new flow is listed, nothing regresses.
    let out = run_repo(&["diff", "--plan", "examples/aws/plan-diff/plan.json"]);
    out.code(0);
    assert!(
        out.stdout
            .contains("added    flow aws_vpc_security_group_ingress_rule.db_from_anywhere: internet -> aws_db_instance.main  examples/aws/plan-diff/plan.json:"),
        "{}",
        out.stdout
    );
    // Without --plan, diff still needs both sides.
    let out = run_repo(&["diff", "examples/aws/web-tier"]);
    out.code(2);
}

#[test]
fn diff_plan_says_once_what_both_sides_share() {
    // Both sides of the plan read the same policy files: a problem, a warning or a
    // skipped file in them is one thing to fix, said once.
    let plan = repo().join("examples/aws/plan-diff/plan.json");
    let diff = |policy: &str| {
        Cordon::new()
            .file("pol/p.yaml", policy)
            .file("pol/other.yaml", "foo: 1\n")
            .args(["diff", "--plan", plan.to_str().unwrap(), "pol"])
            .run()
    };
    let out = diff(
        "assets:\n  - {name: a, in: nowhere}\ninvariants:\n  - {name: x, forbid: {from: internet, to: a}}\n",
    );
    out.code(2);
    assert_eq!(
        out.stderr,
        "pol/p.yaml:2:19: error: unknown entity `nowhere`\ncordon: 1 problem in the policies; nothing was checked\n"
    );
    let out = diff(
        "assets:\n  - {name: a}\n  - {name: lonely}\ninvariants:\n  - {name: x, forbid: {from: internet, to: a}}\n",
    );
    out.code(0);
    assert_eq!(
        out.stderr
            .matches("asset `lonely` is not mentioned")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("skipped 1 file").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_values_that_matter_are_over_approximated_with_a_warning() {
    // The app instances' security groups come from a variable: the plan cannot say
    // which, so cordon assumes they allow everything, and says so.
    let plan = std::fs::read_to_string(repo().join("examples/aws/web-tier/plan.json")).unwrap();
    let from_variable = plan.replace(
        "\"vpc_security_group_ids\": {\n              \"references\": [\n                \"aws_security_group.app.id\",\n                \"aws_security_group.app\"\n              ]",
        "\"vpc_security_group_ids\": {\n              \"references\": [\n                \"var.app_groups\"\n              ]",
    );
    assert_ne!(from_variable, plan);
    let out = Cordon::new()
        .file("plan.json", &from_variable)
        .args([
            "path",
            ".",
            "--from",
            "aws_lb.web",
            "--to",
            "aws_instance.app[0]",
        ])
        .run();
    out.code(0);
    assert!(
        out.stderr.contains(
            "warning: plan.json:"
        ) && out.stderr.contains(
            "`aws_instance.app[0]`: its security groups are unknown until apply; assumed to allow everything"
        ),
        "{}",
        out.stderr
    );
    // The load balancer's egress on tcp/8080 now meets an app that admits anything.
    assert!(
        out.stdout.contains("aws_lb.web -> aws_instance.app[0]"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_policy_file_places_a_plan_in_its_account_and_the_plan_is_read_once() {
    let plan =
        std::fs::read_to_string(crate::harness::repo().join("examples/aws/web-tier/plan.json"))
            .unwrap();
    let policy = "\
environments:
  - {name: production}
accounts:
  - {name: aws-prod, in: production}
imports:
  - terraform: ../infra/plan.json
    in: aws-prod
invariants:
  - name: production-is-served
    require: {from: internet, to: production, ports: [tcp/443]}
";
    let cordon = Cordon::new()
        .file("policies/estate.yaml", policy)
        .file("infra/plan.json", plan);
    // The plan is also found by the walk of `.`: it is still read once, where the
    // policy places it, so no name is declared twice.
    let out = crate::harness::run_in(
        cordon.dir(),
        &["check".into(), ".".into(), "--format".into(), "json".into()],
        &[],
    );
    out.code(0);
    let out = crate::harness::run_in(
        cordon.dir(),
        &[
            "reach".into(),
            ".".into(),
            "--to".into(),
            "aws_lb.web".into(),
            "--format".into(),
            "json".into(),
        ],
        &[],
    );
    out.code(0);
    let out = crate::harness::run_in(
        cordon.dir(),
        &[
            "matrix".into(),
            ".".into(),
            "--level".into(),
            "account".into(),
            "--format".into(),
            "json".into(),
        ],
        &[],
    );
    out.code(0);
    let value = out.json();
    assert_eq!(
        value["entities"],
        serde_json::json!(["aws-prod"]),
        "{value}"
    );
    assert!(
        value["internet"]["reaches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|cell| cell["to"] == "aws-prod"),
        "{value}"
    );
}

/// An import that finds nothing of its kind is an error, never a model without the
/// estate: a raw `terraform.tfstate`, which `terraform show -json` did not write, or a
/// directory of manifests left empty.
#[test]
fn an_import_that_finds_nothing_to_read_is_an_error() {
    let policy = "\
accounts:
  - {name: aws-prod}
imports:
  - terraform: terraform.tfstate.json
    in: aws-prod
  - kubernetes: manifests
    in: aws-prod
invariants:
  - name: nothing-reaches-prod
    forbid: {from: internet, to: aws-prod}
";
    let state = r#"{"version": 4, "terraform_version": "1.6.6", "resources": []}"#;
    let out = Cordon::new()
        .file("estate.yaml", policy)
        .file("terraform.tfstate.json", state)
        .file("manifests/values.yaml", "replicas: 3\n")
        .args(["check", "estate.yaml"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains(
            "estate.yaml:4:16: error: `terraform.tfstate.json` holds no Terraform plan or state\n  help: write the plan or state with `terraform show -json`"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "estate.yaml:6:17: error: `manifests` holds no Kubernetes manifest\n  help: a Kubernetes manifest is YAML or JSON with `apiVersion` and `kind`"
        ),
        "{}",
        out.stderr
    );
}

/// The state file Terraform keeps is refused where it is met, named or found in a
/// directory: skipped, it would leave the estate out and the check pass.
#[test]
fn a_raw_terraform_state_is_an_error() {
    let raw = r#"{"version": 4, "terraform_version": "1.6.6", "serial": 1, "lineage": "x", "outputs": {}, "resources": []}"#;
    let invariants = "invariants:\n  - {name: closed, forbid: {from: internet, to: aws-api}}\n";
    for args in [
        &["check", "terraform.tfstate", "policy.yaml"][..],
        &["check", "."][..],
    ] {
        let out = Cordon::new()
            .file("terraform.tfstate", raw)
            .file("infra/state.json", raw)
            .file("policy.yaml", invariants)
            .args(args.iter().copied())
            .run();
        out.code(2);
        assert!(
            out.stderr.contains(":1:1: error: a raw Terraform state, which cordon does not read\n  help: cordon reads the JSON that `terraform show -json` writes"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // Named by an import, it is refused once, for what it is.
    let imported = "accounts:\n  - {name: prod}\nimports:\n  - {terraform: state.json, in: prod}\n";
    let out = Cordon::new()
        .file("state.json", raw)
        .file("policy.yaml", format!("{imported}{invariants}"))
        .args(["check", "policy.yaml"])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("state.json:1:1: error: a raw Terraform state"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("holds no"), "{}", out.stderr);
}

#[test]
fn a_plan_in_utf16_is_read_as_the_text_it_holds_and_digested_as_it_is() {
    // What Windows PowerShell writes for `terraform show -json > plan.json`.
    let scenario = repo().join("examples/aws/web-tier");
    let plan = std::fs::read_to_string(scenario.join("plan.json")).unwrap();
    let invariants = std::fs::read_to_string(scenario.join("invariants.yaml")).unwrap();
    let utf16 = |le: bool| -> Vec<u8> {
        let mark: [u8; 2] = if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] };
        let units = plan.encode_utf16().flat_map(|unit| {
            if le {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            }
        });
        mark.into_iter().chain(units).collect()
    };
    let run = |bytes: Vec<u8>| {
        Cordon::new()
            .file("plan.json", bytes)
            .file("invariants.yaml", &invariants)
            .args(["check", "plan.json", "invariants.yaml", "--format", "json"])
            .run()
    };
    let expected = run(plan.clone().into_bytes());
    for le in [true, false] {
        let bytes = utf16(le);
        let out = run(bytes.clone());
        assert_eq!(out.code, expected.code, "{}", out.stderr);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let wanted: serde_json::Value = serde_json::from_str(&expected.stdout).unwrap();
        assert_eq!(report["results"], wanted["results"]);
        let digest = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&bytes)?;
                child.wait_with_output()
            })
            .unwrap();
        let on_disk = String::from_utf8_lossy(&digest.stdout);
        let inputs = report["inputs"].as_array().unwrap();
        let input = inputs.iter().find(|input| input["path"] == "plan.json");
        assert_eq!(
            input.and_then(|input| input["sha256"].as_str()),
            on_disk.split_whitespace().next()
        );
    }
    // A binary plan, as `terraform plan -out` writes it, is pointed to `show -json`.
    let out = run(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe".to_vec());
    out.code(2);
    assert!(
        out.stderr
            .contains("terraform show -json PLANFILE > plan.json"),
        "{}",
        out.stderr
    );
}

#[test]
fn vpcs_of_one_address_space_are_not_warned_of_but_a_policy_reusing_it_is() {
    // Two VPCs, and a subnet in each, with the same ranges: AWS allows it.
    let resource = |kind: &str, name: &str, values: serde_json::Value| {
        serde_json::json!({"address": format!("{kind}.{name}"), "mode": "managed",
            "type": kind, "name": name, "values": values})
    };
    let state = serde_json::json!({"format_version": "1.0", "terraform_version": "1.9.0",
    "values": {"root_module": {"resources": [
        resource("aws_vpc", "a", serde_json::json!({"id": "vpc-a", "cidr_block": "10.0.0.0/16"})),
        resource("aws_vpc", "b", serde_json::json!({"id": "vpc-b", "cidr_block": "10.0.0.0/16"})),
        resource("aws_subnet", "a", serde_json::json!({"id": "subnet-a", "vpc_id": "vpc-a", "cidr_block": "10.0.1.0/24"})),
        resource("aws_subnet", "b", serde_json::json!({"id": "subnet-b", "vpc_id": "vpc-b", "cidr_block": "10.0.1.0/24"})),
    ]}}});
    let out = Cordon::new()
        .file("state.json", state.to_string())
        .args(["check", "state.json", "--allow-empty", "--deny-warnings"])
        .run();
    out.code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // A hand-written entity with a subnet's range is still a slip to point out.
    let out = Cordon::new()
        .file("state.json", state.to_string())
        .file(
            "office.yaml",
            "segments:\n  - {name: office, cidrs: [10.0.1.0/24]}\n",
        )
        .args(["check", ".", "--allow-empty"])
        .run();
    out.code(0);
    for subnet in ["aws_subnet.a", "aws_subnet.b"] {
        let warned =
            format!("warning: segment `{subnet}` has the same address `10.0.1.0/24` as `office`");
        assert!(out.stderr.contains(&warned), "{}", out.stderr);
    }
}
