//! One test per way the Terraform network or identity reading once said `pass` where
//! AWS lets a connection or a credential through: each plan under
//! `tests/fixtures/terraform-soundness/` holds the path, and `check` must find it
//! (exit 1). Sound means over-approximating, never under.

use crate::harness::{Cordon, repo};

/// `check` of `forbid: {from, to, ports}` on the plan `fixture`: the exit code.
#[track_caller]
fn forbid(fixture: &str, from: &str, to: &str, ports: &str) -> i32 {
    checked(fixture, from, to, ports).code
}

/// `check` of `forbid: {from, to, ports}` on the plan `fixture`: what it printed.
#[track_caller]
fn checked(fixture: &str, from: &str, to: &str, ports: &str) -> crate::harness::Output {
    let plan = std::fs::read_to_string(
        repo()
            .join("tests/fixtures/terraform-soundness")
            .join(fixture),
    )
    .unwrap();
    let ports = if ports.is_empty() {
        String::new()
    } else {
        format!("\n      ports: [{ports}]")
    };
    let policy = format!(
        "\
imports:
  - terraform: plan.json
    in: prod
accounts:
  - name: prod
invariants:
  - name: must-not-reach
    forbid:
      from: \"{from}\"
      to: \"{to}\"{ports}
"
    );
    let out = Cordon::new()
        .file("plan.json", plan)
        .file("invariants.yaml", policy)
        .args(["check", "invariants.yaml"])
        .run();
    assert!(
        matches!(out.code, 0 | 1),
        "{fixture}: {}{}",
        out.stdout,
        out.stderr
    );
    out
}

/// Exit code of `check` when the path is found: the invariant is violated.
const FOUND: i32 = 1;

#[test]
fn a_subnet_that_maps_public_addresses_makes_its_instances_public() {
    // `associate_public_ip_address` left out of the plan (computed) follows the subnet.
    let case = "03-map-public-ip-on-launch.json";
    assert_eq!(
        forbid(case, "internet", "aws_instance.web", "tcp/22"),
        FOUND
    );
    // The control asks for the address itself.
    assert_eq!(
        forbid("ctl03.json", "internet", "aws_instance.web", "tcp/22"),
        FOUND
    );
}

#[test]
fn a_load_balancer_is_internet_facing_unless_it_says_internal() {
    // `internal` left out: the provider's default, false, is internet-facing.
    let case = "04-lb-internal-unset.json";
    assert_eq!(forbid(case, "internet", "aws_lb.web", "tcp/443"), FOUND);
    assert_eq!(
        forbid("ctl04.json", "internet", "aws_lb.web", "tcp/443"),
        FOUND
    );
}

#[test]
fn a_route_on_the_main_table_serves_subnets_without_an_association() {
    // A state: the route's table id is the VPC's `main_route_table_id`.
    let case = "01-aws-route-on-main-table-state.json";
    assert_eq!(
        forbid(case, "internet", "aws_instance.web", "tcp/22"),
        FOUND
    );
    // A plan: the configuration refers to `aws_vpc.main.main_route_table_id`.
    let case = "02-aws-route-on-main-table-plan.json";
    assert_eq!(
        forbid(case, "internet", "aws_instance.web", "tcp/22"),
        FOUND
    );
}

#[test]
fn the_default_route_table_of_a_state_is_its_vpcs_main_table() {
    // In a state, `default_route_table_id` is the table's own id, not a reference.
    let case = "15-default-route-table-in-state.json";
    assert_eq!(
        forbid(case, "internet", "aws_instance.web", "tcp/22"),
        FOUND
    );
}

#[test]
fn a_security_group_rule_whose_addresses_are_unknown_admits_anyone() {
    // `cidr_blocks` from another resource's address: `[null]` in the plan.
    let case = "17-sg-rule-cidr-unknown-until-apply.json";
    let (from, to) = ("aws_instance.bastion", "aws_instance.db");
    assert_eq!(forbid(case, from, to, "tcp/5432"), FOUND);
    // The same left out of the values, with the configuration's expression.
    assert_eq!(forbid("var17b.json", from, to, "tcp/5432"), FOUND);
    assert_eq!(forbid("ctl17.json", from, to, "tcp/5432"), FOUND);
}

#[test]
fn an_instances_ipv6_addresses_are_among_its_addresses() {
    // The database admits the app's subnet's IPv6 range, where the app has an address.
    let case = "08-sg-ipv6-cidr-source-instance.json";
    let (from, to) = ("aws_instance.app", "aws_instance.db");
    assert_eq!(forbid(case, from, to, "tcp/5432"), FOUND);
    assert_eq!(forbid("ctl08.json", from, to, "tcp/5432"), FOUND);
}

#[test]
fn an_ipv4_nacl_rule_says_nothing_of_ipv6_traffic() {
    // The NACL denies `0.0.0.0/0` first and allows `::/0` after: IPv6 gets through.
    let case = "07-nacl-ipv4-deny-shadows-ipv6-allow.json";
    let (from, to) = ("internet", "aws_instance.web");
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    assert_eq!(forbid("ctl07.json", from, to, "tcp/22"), FOUND);
}

// The identity plane: `aws_instance.ci` holds role `ci` through its instance profile,
// and a policy lets the role start sessions on every instance; no network path joins
// `aws_instance.ci` and `aws_instance.vault`, whose security group admits nothing.
const CI: &str = "aws_instance.ci";
const VAULT: &str = "aws_instance.vault";

#[test]
fn an_attachment_whose_role_is_unknown_may_attach_to_every_role() {
    // `role` from a variable: the configuration's references do not say which role.
    let out = checked("iam-01-attachment-role-from-a-variable.json", CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "`aws_iam_role_policy_attachment.sessions`: the role it attaches to is unknown until apply; assumed to be every role of the plan"
        ),
        "{}",
        out.stderr
    );
    let case = "iam-01b-role-policy-role-from-a-variable.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    // The control: references to the role say which.
    let out = checked("ctl-iam-01.json", CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn roles_and_instance_profiles_are_named_by_name_not_by_an_id_another_resource_shares() {
    // States: the instance profile `ci` has the id `ci`, as its role `ci` has; the
    // Lambda function `ci` has it too, and the role's policy is attached by name.
    let case = "iam-02-profile-named-like-its-role.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    let case = "iam-02b-function-named-like-a-role.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}

#[test]
fn an_instance_profile_or_its_role_unknown_until_apply_may_be_any() {
    // The profile's role from a variable: it may be any role of the plan.
    let out = checked("iam-03-profile-role-from-a-variable.json", CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "`aws_iam_instance_profile.ci`: its role is unknown until apply; assumed to be every role of the plan"
        ),
        "{}",
        out.stderr
    );
    // The instance's profile from a variable: it may be any profile of the plan.
    let out = checked(
        "iam-03b-instance-profile-from-a-variable.json",
        CI,
        VAULT,
        "",
    );
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "`aws_instance.ci`: its instance profile is unknown until apply; assumed to be every instance profile of the plan"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(forbid("ctl-iam-03.json", CI, VAULT, ""), FOUND);
}

#[test]
fn an_inline_policy_unknown_until_apply_allows_everything() {
    // The role's `inline_policy` block holds its name; its `policy` is left out.
    let case = "iam-04-inline-policy-unknown.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}

#[test]
fn a_role_that_anyone_may_assume_is_held_from_the_internet() {
    // Trust in every AWS principal (under a condition, which cordon ignores), in a
    // star, and in a web identity provider: anyone with an account or a token.
    for case in [
        "iam-05-trust-in-everyone.json",
        "iam-05d-trust-in-a-star.json",
        "iam-05b-trust-in-a-web-identity.json",
    ] {
        assert_eq!(forbid(case, "internet", VAULT, ""), FOUND, "{case}");
    }
    // A trust policy unknown until apply may be any of these.
    let out = checked(
        "iam-05c-trust-unknown-until-apply.json",
        "internet",
        VAULT,
        "",
    );
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "`aws_iam_role.public`: its trust policy is unknown until apply; assumed to admit anyone"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_trust_policy_that_names_a_role_lets_it_in_without_a_permission_of_its_own() {
    // Role `ci` may not sts:AssumeRole; role `admin`'s trust policy names it, which in
    // one account is enough. The accounts are unknown, so they may be one.
    let case = "iam-06-trust-names-the-role.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    // Where `ci` may: a trust policy that names a session of it, or everyone but another.
    let case = "iam-06b-trust-names-a-session-of-the-role.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    let case = "iam-06c-trust-in-all-but-one.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    assert_eq!(forbid("ctl-iam-06.json", CI, VAULT, ""), FOUND);
}

#[test]
fn a_role_that_may_run_commands_on_an_instance_controls_it() {
    // Run Command (`ssm:SendCommand`) runs a shell script as root, as a session would.
    let case = "iam-07-send-command.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}

#[test]
fn a_lambda_function_holds_its_execution_role() {
    // The function, an asset in its VPC, runs with role `worker`, which may start
    // sessions: whoever controls the function holds it.
    let case = "iam-08-function-role.json";
    assert_eq!(forbid(case, "aws_lambda_function.worker", VAULT, ""), FOUND);
}

#[test]
fn a_role_that_may_pass_another_to_a_service_it_starts_obtains_it() {
    // `ci` may iam:PassRole `worker`, which trusts EC2 (or Lambda), and may launch an
    // instance (or make a function) that runs its code with `worker`.
    let case = "iam-09-pass-role-to-an-instance.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    let case = "iam-09b-pass-role-to-a-function.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}

#[test]
fn a_role_that_may_rewrite_iam_policies_obtains_what_they_guard() {
    // `ci` may attach any policy to itself: AdministratorAccess, say.
    let case = "iam-10-attach-a-policy-to-itself.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
    // `ci` may rewrite the trust policy of `admin`, which trusts another role, to
    // name itself.
    let case = "iam-10b-rewrite-a-trust-policy.json";
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}

#[test]
fn a_role_that_may_replace_a_functions_code_controls_it() {
    // `ci` may lambda:UpdateFunctionCode `worker`, a function in a VPC that runs with
    // a role that may start sessions on the vault.
    let case = "iam-11-update-function-code.json";
    assert_eq!(forbid(case, CI, "aws_lambda_function.worker", ""), FOUND);
    assert_eq!(forbid(case, CI, VAULT, ""), FOUND);
}
