//! One test per way the Terraform network or identity reading once said `pass` where
//! AWS lets a connection or a credential through: each plan under
//! `tests/fixtures/terraform-soundness/` holds the path, and `check` must find it
//! (exit 1). Sound means over-approximating, never under.

use crate::harness::{Cordon, repo};

/// The text of the plan `fixture`.
fn fixture(fixture: &str) -> String {
    std::fs::read_to_string(
        repo()
            .join("tests/fixtures/terraform-soundness")
            .join(fixture),
    )
    .unwrap()
}

/// `check` of `forbid: {from, to, ports}` on the plan `fixture`: the exit code.
#[track_caller]
fn forbid(fixture: &str, from: &str, to: &str, ports: &str) -> i32 {
    forbid_in(fixture, self::fixture(fixture), from, to, ports)
}

/// The plan `fixture` with `edit` made to its JSON.
fn edited(fixture: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut plan: serde_json::Value = serde_json::from_str(&self::fixture(fixture)).unwrap();
    edit(&mut plan);
    serde_json::to_string_pretty(&plan).unwrap()
}

// JSON pointers, for `resources_at`, to the resources of a plan's planned values, of a
// state's values, and of a plan's configuration.
const PLANNED: &str = "/planned_values/root_module/resources";
const STATE: &str = "/values/root_module/resources";
const CONFIGURED: &str = "/configuration/root_module/resources";

/// The list of resources at `pointer` in a plan's JSON.
fn resources_at<'p>(
    plan: &'p mut serde_json::Value,
    pointer: &str,
) -> &'p mut Vec<serde_json::Value> {
    plan.pointer_mut(pointer)
        .and_then(serde_json::Value::as_array_mut)
        .unwrap()
}

/// `check` of `forbid: {from, to, ports}` on the plan `fixture`: what it printed.
#[track_caller]
fn checked(fixture: &str, from: &str, to: &str, ports: &str) -> crate::harness::Output {
    checked_in(fixture, self::fixture(fixture), from, to, ports)
}

/// `check` of `forbid: {from, to, ports}` on `plan` (named `name` in messages): the
/// exit code.
#[track_caller]
fn forbid_in(name: &str, plan: String, from: &str, to: &str, ports: &str) -> i32 {
    checked_in(name, plan, from, to, ports).code
}

/// `check` of `forbid: {from, to, ports}` on `plan` (named `name` in messages): what it
/// printed.
#[track_caller]
fn checked_in(
    name: &str,
    plan: String,
    from: &str,
    to: &str,
    ports: &str,
) -> crate::harness::Output {
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
        "{name}: {}{}",
        out.stdout,
        out.stderr
    );
    out
}

/// Asserts that a run exited with `code` and printed the warning `warned`.
#[track_caller]
fn assert_warned(out: &crate::harness::Output, code: i32, warned: &str) {
    assert_eq!(out.code, code, "{}", out.stdout);
    assert!(out.stderr.contains(warned), "{}", out.stderr);
}

/// Exit code of `check` when the path is found: the invariant is violated.
const FOUND: i32 = 1;

/// Exit code of `check` when no path is found: the invariant holds.
const NONE: i32 = 0;

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

#[test]
fn an_instances_ipv6_address_is_reached_without_a_public_ipv4_address() {
    // No public IPv4 address, but an IPv6 one, a route `::/0` to the internet gateway
    // and a group that admits `::/0`: IPv6 addresses in a VPC are global.
    let case = "05-ipv6-exposed-no-public-ipv4.json";
    let (from, to) = ("internet", "aws_instance.web");
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    assert_eq!(forbid("ctl05.json", from, to, "tcp/22"), FOUND);
    // A plan: the instance's IPv6 address count is unknown until apply, and its subnet
    // gives every new instance an IPv6 address.
    let case = "05b-ipv6-count-unknown-subnet-assigns.json";
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    // Each family needs its own route: with `0.0.0.0/0` alone to the gateway, the IPv6
    // address is out of reach.
    let case = "05-ipv6-exposed-no-public-ipv4.json";
    let ipv4_route_only = edited(case, |plan| {
        let table = &mut resources_at(plan, STATE)[3]["values"];
        assert_eq!(table["id"], "rtb-1");
        table["route"].as_array_mut().unwrap().truncate(1);
    });
    assert_eq!(forbid_in(case, ipv4_route_only, from, to, "tcp/22"), NONE);
}

#[test]
fn an_egress_only_internet_gateway_lets_ipv6_out_and_nothing_in() {
    // A state: `::/0` goes to an egress-only internet gateway in the table's block.
    let case = "06-egress-only-igw-outbound.json";
    let web = "aws_instance.web";
    assert_eq!(forbid(case, web, "internet", ""), FOUND);
    // A plan: an `aws_route` to a new gateway, named by the configuration's reference.
    let plan = "06b-egress-only-igw-route-in-plan.json";
    assert_eq!(forbid(plan, web, "internet", "tcp/443"), FOUND);
    // Out only: the group admits `::/0` on tcp/22, but nothing comes in through it.
    assert_eq!(forbid(case, "internet", web, "tcp/22"), NONE);
    assert_eq!(forbid(plan, "internet", web, "tcp/22"), NONE);
}

#[test]
fn a_route_to_a_forwarder_may_lead_out() {
    // The subnet's only route sends `0.0.0.0/0` to a target that forwards by routes of
    // its own: a transit gateway to a central egress VPC, a NAT instance, a firewall
    // endpoint. Any of them may take the instance's traffic to the internet.
    let case = "06-egress-only-igw-outbound.json";
    let routed_by = |key: &str| {
        edited(case, |plan| {
            let table = &mut resources_at(plan, STATE)[3];
            assert_eq!(table["address"], "aws_route_table.pub");
            let route = &mut table["values"]["route"][0];
            route["egress_only_gateway_id"] = "".into();
            route["ipv6_cidr_block"] = "".into();
            route["cidr_block"] = "0.0.0.0/0".into();
            if !key.is_empty() {
                route[key] = "fwd-1".into();
            }
        })
    };
    let (from, to) = ("aws_instance.web", "internet");
    for key in [
        "transit_gateway_id",
        "network_interface_id",
        "instance_id",
        "vpc_endpoint_id",
        "gateway_id",
        "local_gateway_id",
        "carrier_gateway_id",
        "core_network_arn",
    ] {
        assert_eq!(forbid_in(key, routed_by(key), from, to, ""), FOUND, "{key}");
    }
    // A route that names no target leads nowhere.
    assert_eq!(forbid_in("no target", routed_by(""), from, to, ""), NONE);
}

/// A state of two VPCs, `a` (10.0.0.0/16) and `b` (10.1.0.0/16), one instance each
/// behind a group that admits everything, each subnet's table routing the other VPC's
/// range by `route` (a route block's target attributes).
fn two_vpcs(route: impl Fn(&str) -> serde_json::Value) -> String {
    let mut resources = Vec::new();
    let mut add = |kind: &str, name: &str, values: serde_json::Value| {
        resources.push(serde_json::json!({
            "address": format!("{kind}.{name}"),
            "mode": "managed",
            "type": kind,
            "name": name,
            "values": values,
        }));
    };
    for (side, other) in [("a", "1"), ("b", "0")] {
        let ours = if side == "a" { "0" } else { "1" };
        add(
            "aws_vpc",
            side,
            serde_json::json!({"id": format!("vpc-{side}"), "cidr_block": format!("10.{ours}.0.0/16")}),
        );
        add(
            "aws_subnet",
            side,
            serde_json::json!({"id": format!("subnet-{side}"), "vpc_id": format!("vpc-{side}"), "cidr_block": format!("10.{ours}.1.0/24")}),
        );
        let mut block = route(side);
        block["cidr_block"] = format!("10.{other}.0.0/16").into();
        add(
            "aws_route_table",
            side,
            serde_json::json!({"id": format!("rtb-{side}"), "vpc_id": format!("vpc-{side}"), "route": [block]}),
        );
        add(
            "aws_route_table_association",
            side,
            serde_json::json!({"id": format!("rtbassoc-{side}"), "subnet_id": format!("subnet-{side}"), "route_table_id": format!("rtb-{side}")}),
        );
        let all = serde_json::json!([{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "to_port": 0, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": false}]);
        add(
            "aws_security_group",
            side,
            serde_json::json!({"id": format!("sg-{side}"), "vpc_id": format!("vpc-{side}"), "ingress": all, "egress": all}),
        );
        add(
            "aws_instance",
            side,
            serde_json::json!({"id": format!("i-{side}"), "subnet_id": format!("subnet-{side}"), "vpc_security_group_ids": [format!("sg-{side}")], "private_ip": format!("10.{ours}.1.10"), "associate_public_ip_address": false, "public_ip": ""}),
        );
    }
    let state = serde_json::json!({
        "format_version": "1.0",
        "terraform_version": "1.6.6",
        "values": {"root_module": {"resources": resources}},
    });
    serde_json::to_string_pretty(&state).unwrap()
}

#[test]
fn vpcs_that_route_to_transit_gateways_may_reach_each_other() {
    let (from, to) = ("aws_instance.a", "aws_instance.b");
    let by = |key: &'static str| two_vpcs(move |_| serde_json::json!({key: "tgw-1"}));
    assert_eq!(
        forbid_in("tgw", by("transit_gateway_id"), from, to, ""),
        FOUND
    );
    // A Cloud WAN core network joins VPCs as well.
    assert_eq!(
        forbid_in("wan", by("core_network_arn"), from, to, ""),
        FOUND
    );
    // Both ways are needed: answers come back the same way.
    let one_way = two_vpcs(|side| {
        if side == "a" {
            serde_json::json!({"transit_gateway_id": "tgw-1"})
        } else {
            serde_json::json!({"gateway_id": "local"})
        }
    });
    assert_eq!(forbid_in("one way", one_way, from, to, ""), NONE);
}

#[test]
fn a_dual_stack_function_goes_out_over_ipv6() {
    // The instance of the egress-only case replaced by a function in the same subnet
    // and group: dual-stack, it has an IPv6 address and goes out through the gateway.
    let case = "06-egress-only-igw-outbound.json";
    let function = |dual_stack: serde_json::Value| {
        edited(case, |plan| {
            let resources = resources_at(plan, STATE);
            resources.retain(|r| r["address"] != "aws_instance.web");
            resources.push(serde_json::json!({
                "address": "aws_lambda_function.job",
                "mode": "managed",
                "type": "aws_lambda_function",
                "name": "job",
                "values": {
                    "function_name": "job",
                    "vpc_config": [{
                        "subnet_ids": ["subnet-1"],
                        "security_group_ids": ["sg-1"],
                        "ipv6_allowed_for_dual_stack": dual_stack,
                    }],
                },
            }));
        })
    };
    let (from, to) = ("aws_lambda_function.job", "internet");
    assert_eq!(
        forbid_in("dual", function(true.into()), from, to, ""),
        FOUND
    );
    // IPv4 only, it has no way out: the table routes `::/0` alone.
    assert_eq!(forbid_in("v4", function(false.into()), from, to, ""), NONE);
}

#[test]
fn the_default_nacl_guards_only_subnets_that_no_other_nacl_may_hold() {
    let (from, to) = ("internet", "aws_instance.web");
    // A plan: the default NACL admits nothing, but an ACL that admits everything takes
    // subnets from a variable, which may name the instance's.
    let case = "18-nacl-subnets-unknown-beside-default.json";
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    // Without that ACL, the default NACL guards the subnet and admits nothing.
    let default_only = edited(case, |plan| {
        resources_at(plan, PLANNED).retain(|r| r["address"] != "aws_network_acl.open");
    });
    assert_eq!(forbid_in(case, default_only, from, to, "tcp/22"), NONE);
    // The same ACL given a subnet from a variable by an association.
    let by_association = edited(case, |plan| {
        let association = serde_json::json!({
            "address": "aws_network_acl_association.open",
            "mode": "managed",
            "type": "aws_network_acl_association",
            "name": "open",
            "values": {}
        });
        resources_at(plan, PLANNED).push(association);
        let empty = serde_json::json!({"constant_value": []});
        configure(plan, "aws_network_acl.open", "subnet_ids", empty);
        resources_at(plan, CONFIGURED).push(serde_json::json!({
            "address": "aws_network_acl_association.open",
            "mode": "managed",
            "type": "aws_network_acl_association",
            "name": "open",
            "expressions": {
                "subnet_id": {"references": ["var.subnet_id"]},
                "network_acl_id": {"references": ["aws_network_acl.open.id", "aws_network_acl.open"]}
            }
        }));
    });
    assert_eq!(forbid_in(case, by_association, from, to, "tcp/22"), FOUND);
    // A rule added to the default NACL through the VPC's `default_network_acl_id`.
    let case = "19-nacl-rule-on-default-acl-by-vpc.json";
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
}

#[test]
fn a_states_default_nacl_guards_the_subnets_it_lists() {
    // In a state, `aws_default_network_acl.subnet_ids` lists every subnet that uses it:
    // a subnet it leaves out uses an ACL that the state does not describe.
    let (from, to) = ("internet", "aws_instance.web");
    let case = "15-default-route-table-in-state.json";
    let with_default_acl = |subnets: serde_json::Value| {
        edited(case, |plan| {
            let acl = serde_json::json!({
                "address": "aws_default_network_acl.default",
                "mode": "managed",
                "type": "aws_default_network_acl",
                "name": "default",
                "values": {
                    "id": "acl-def",
                    "default_network_acl_id": "acl-def",
                    "vpc_id": "vpc-1",
                    "subnet_ids": subnets,
                    "ingress": [{"protocol": "tcp", "rule_no": 100, "action": "allow",
                        "cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "",
                        "from_port": 443, "to_port": 443}],
                    "egress": [{"protocol": "-1", "rule_no": 100, "action": "allow",
                        "cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "",
                        "from_port": 0, "to_port": 0}]
                }
            });
            resources_at(plan, STATE).push(acl);
        })
    };
    let listed = with_default_acl(serde_json::json!(["subnet-1"]));
    assert_eq!(forbid_in(case, listed, from, to, "tcp/22"), NONE);
    let left_out = with_default_acl(serde_json::json!([]));
    assert_eq!(forbid_in(case, left_out, from, to, "tcp/22"), FOUND);
}

#[test]
fn a_route_whose_table_is_unknown_may_be_on_any_table_of_its_vpc() {
    // `route_table_id` from a variable: the route may be on the instance's table.
    let (from, to) = ("internet", "aws_instance.web");
    let case = "20-aws-route-table-unknown-until-apply.json";
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    let out = Cordon::new()
        .file("plan.json", fixture(case))
        .args(["reach", "plan.json", "--to", to])
        .run();
    assert!(
        out.stderr.contains(
            "`aws_route.internet`: its route table is unknown until apply; assumed to be every table of its VPC"
        ),
        "{}",
        out.stderr
    );
    // Left out of the values with no expression: unknown all the same, since a route
    // always has a table.
    let no_expression = edited(case, |plan| {
        for resource in resources_at(plan, CONFIGURED) {
            if resource["address"] == "aws_route.internet" {
                let expressions = resource["expressions"].as_object_mut().unwrap();
                expressions.remove("route_table_id");
            }
        }
    });
    assert_eq!(forbid_in(case, no_expression, from, to, "tcp/22"), FOUND);
    // The gateway is another VPC's: the route is on one of that VPC's tables.
    let other_vpc = edited(case, |plan| {
        resources_at(plan, PLANNED).push(serde_json::json!({
            "address": "aws_vpc.other",
            "mode": "managed",
            "type": "aws_vpc",
            "name": "other",
            "values": {"cidr_block": "10.1.0.0/16"}
        }));
        let other = serde_json::json!({"references": ["aws_vpc.other.id", "aws_vpc.other"]});
        configure(plan, "aws_internet_gateway.gw", "vpc_id", other);
    });
    assert_eq!(forbid_in(case, other_vpc, from, to, "tcp/22"), NONE);
}

#[test]
fn what_a_plan_leaves_unknown_until_apply_is_read_open() {
    let web = "aws_instance.web";
    // An instance with no subnet or group configured lands in its default VPC's
    // default subnet, which maps public addresses: the plan lists both as unknown.
    assert_eq!(
        forbid(
            "21-instance-in-the-default-vpc.json",
            "internet",
            web,
            "tcp/22"
        ),
        FOUND
    );
    // A subnet from a variable may be one that the plan does not describe, which maps
    // public addresses.
    let case = "22-instance-subnet-from-a-variable.json";
    assert_eq!(forbid(case, "internet", web, "tcp/22"), FOUND);
    // `associate_public_ip_address` from an expression unknown until apply.
    let case = "23-associate-public-ip-unknown.json";
    assert_eq!(forbid(case, "internet", web, "tcp/22"), FOUND);
    // An EIP whose instance comes from a variable may be this instance's.
    assert_eq!(
        forbid("29-eip-instance-unknown.json", "internet", web, "tcp/22"),
        FOUND
    );
    // An instance that leaves its groups out has its VPC's default group, which the
    // database admits.
    let case = "24-instance-in-its-vpcs-default-group.json";
    let (app, db) = ("aws_instance.app", "aws_instance.db");
    assert_eq!(forbid(case, app, db, "tcp/5432"), FOUND);
    // The public table's association takes its subnet from a variable: the subnet
    // without an association may be that one.
    let case = "25-route-table-association-subnet-unknown.json";
    assert_eq!(forbid(case, "internet", web, "tcp/22"), FOUND);
    // The VPC's main table is named by an expression unknown until apply.
    let case = "26-main-route-table-unknown.json";
    assert_eq!(forbid(case, "internet", web, "tcp/22"), FOUND);
    // A NACL rule that allows tcp/22, on an ACL named by a variable.
    let case = "27-nacl-rule-acl-unknown.json";
    assert_eq!(forbid(case, "internet", web, "tcp/22"), FOUND);
    // The app asks for an IPv6 address from its subnet's block, unknown until apply,
    // and the database admits `::/0`.
    let case = "28-ipv6-address-from-a-block-unknown.json";
    assert_eq!(forbid(case, app, db, "tcp/5432"), FOUND);
    // The same with the app's private address unknown too: its subnet's ranges stand
    // for it, and the subnet's IPv6 range is unknown.
    let no_private_ip = edited(case, |plan| {
        for resource in resources_at(plan, PLANNED) {
            if resource["address"] == app {
                let values = resource["values"].as_object_mut().unwrap();
                values.remove("private_ip");
                values.remove("ipv6_address_count");
            }
        }
    });
    assert_eq!(forbid_in(case, no_private_ip, app, db, "tcp/5432"), FOUND);
}

/// An id that a state writes but does not hold names a resource managed elsewhere, not
/// one unknown until apply: it widens nothing in the state.
/// Drops the resource at `address` from a plan: its planned values, its change and its
/// configuration.
fn remove_resource(plan: &mut serde_json::Value, address: &str) {
    for pointer in [PLANNED, CONFIGURED, "/resource_changes"] {
        if let Some(list) = plan.pointer_mut(pointer) {
            let list = list.as_array_mut().unwrap();
            list.retain(|resource| resource["address"] != address);
        }
    }
}

#[test]
fn inline_rules_configured_but_unknown_until_apply_admit_everything() {
    // The database's group takes its inline rules from a local the plan cannot know:
    // absent from the values, configured in the expressions.
    let case = "17-sg-rule-cidr-unknown-until-apply.json";
    let (from, to) = ("aws_instance.bastion", "aws_instance.db");
    let rules = serde_json::json!({"references": ["local.db_rules"]});
    let without_inline = |plan: &mut serde_json::Value| {
        remove_resource(plan, "aws_security_group_rule.db_from_bastion");
        planned(plan, "aws_security_group.db")
            .as_object_mut()
            .unwrap()
            .remove("ingress");
    };
    let unknown = edited(case, |plan| {
        without_inline(plan);
        configure(plan, "aws_security_group.db", "ingress", rules.clone());
    });
    let out = checked_in(case, unknown, from, to, "tcp/5432");
    let warned = "`aws_security_group.db`: its `ingress` rules are unknown until apply; assumed to admit every address and group on every port";
    assert_warned(&out, FOUND, warned);
    // Not configured, the list is what the group's rule resources make it: none here.
    let computed = edited(case, without_inline);
    assert_eq!(forbid_in(case, computed, from, to, "tcp/5432"), NONE);

    // A route table whose routes come from a local: any route, to the internet too.
    let case = "20-aws-route-table-unknown-until-apply.json";
    let (from, to) = ("internet", "aws_instance.web");
    let routes = serde_json::json!({"references": ["local.routes"]});
    let unknown = edited(case, |plan| {
        remove_resource(plan, "aws_route.internet");
        configure(plan, "aws_route_table.pub", "route", routes.clone());
    });
    assert_eq!(forbid_in(case, unknown, from, to, "tcp/22"), FOUND);
    let computed = edited(case, |plan| remove_resource(plan, "aws_route.internet"));
    assert_eq!(forbid_in(case, computed, from, to, "tcp/22"), NONE);

    // A network ACL on the instance's subnet whose rules come from a local: it may
    // allow everything. Known and empty, the same ACL lets nothing through.
    let with_acl = |values: serde_json::Value, rules: serde_json::Value| {
        edited(case, |plan| {
            add_resource(
                plan,
                "aws_network_acl.pub",
                values,
                serde_json::json!({
                    "vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]},
                    "subnet_ids": {"references": ["aws_subnet.pub.id", "aws_subnet.pub"]},
                    "ingress": rules.clone(),
                    "egress": rules,
                }),
            );
        })
    };
    let unknown = with_acl(
        serde_json::json!({}),
        serde_json::json!({"references": ["local.acl_rules"]}),
    );
    assert_eq!(forbid_in(case, unknown, from, to, "tcp/22"), FOUND);
    let empty = with_acl(
        serde_json::json!({"ingress": [], "egress": []}),
        serde_json::json!({"constant_value": []}),
    );
    assert_eq!(forbid_in(case, empty, from, to, "tcp/22"), NONE);
}

/// The `after_unknown` marks of the resource at `address`.
fn unknown_marks<'p>(plan: &'p mut serde_json::Value, address: &str) -> &'p mut serde_json::Value {
    let changes = resources_at(plan, "/resource_changes");
    let change = changes.iter_mut().find(|r| r["address"] == address);
    &mut change.unwrap()["change"]["after_unknown"]
}

#[test]
fn an_attribute_unknown_inside_a_rule_or_route_list_may_be_what_the_list_refers_to() {
    // Terraform writes a table's `route` list and a group's `ingress` list as one
    // expression, so an attribute of one block that is unknown until apply has no
    // references of its own: the route's gateway is made in the same plan, the
    // database group admits a group from a variable, and the office rule takes a
    // prefix list the plan makes.
    let case = "31-unknown-inside-rule-and-route-lists.json";
    let (from, to) = ("internet", "aws_instance.web");
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    assert_eq!(
        forbid(case, "aws_instance.app", "aws_instance.db", "tcp/3306"),
        FOUND
    );
    assert_eq!(forbid(case, from, to, "tcp/443"), FOUND);
    // Unmarked, the same attributes are unset: no way out, no group admitted, no
    // address in the office's rule.
    let unset = edited(case, |plan| {
        unknown_marks(plan, "aws_route_table.public")["route"] = serde_json::json!([{}]);
        unknown_marks(plan, "aws_security_group.db")["ingress"] = serde_json::json!([{}]);
        let office = "aws_vpc_security_group_ingress_rule.office";
        unknown_marks(plan, office)["prefix_list_id"] = false.into();
        configure(plan, office, "prefix_list_id", serde_json::Value::Null);
    });
    assert_eq!(forbid_in(case, unset.clone(), from, to, "tcp/22"), NONE);
    assert_eq!(
        forbid_in(
            case,
            unset.clone(),
            "aws_instance.app",
            "aws_instance.db",
            "tcp/3306"
        ),
        NONE
    );
    assert_eq!(forbid_in(case, unset, from, to, "tcp/443"), NONE);
    // The unknown target is one the list refers to, of the kind its key takes: a NAT
    // gateway lets nothing in.
    let through_nat = edited(case, |plan| {
        let table = "aws_route_table.public";
        unknown_marks(plan, table)["route"] = serde_json::json!([{"nat_gateway_id": true}]);
        let routes =
            serde_json::json!({"references": ["aws_nat_gateway.nat.id", "aws_nat_gateway.nat"]});
        configure(plan, table, "route", routes);
    });
    assert_eq!(forbid_in(case, through_nat, from, to, "tcp/22"), NONE);
    // Terraform 1.0 and older write no expression for the list: the target may be
    // any gateway.
    let unconfigured = edited(case, |plan| {
        configure(
            plan,
            "aws_route_table.public",
            "route",
            serde_json::Value::Null,
        );
    });
    assert_eq!(forbid_in(case, unconfigured, from, to, "tcp/22"), FOUND);
}

#[test]
fn a_reference_through_count_index_names_every_instance_of_the_counted_resource() {
    // Terraform writes `aws_subnet.public[count.index].id` as the references
    // `aws_subnet.public` and `count.index`: each association, rule and instance names
    // the instance of its own index, which cordon takes to be any of them, without a
    // warning.
    let case = "32-counted-resources-named-by-count-index.json";
    let (from, to) = ("internet", "aws_instance.web[1]");
    let out = checked(case, from, to, "tcp/22");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // A rule that names the counted groups belongs to each of them: the instance with
    // the second group alone is reached through the rule of either index.
    let rules = [
        "aws_security_group_rule.ssh[0]",
        "aws_security_group_rule.ssh[1]",
    ];
    for (kept, dropped) in [(rules[0], rules[1]), (rules[1], rules[0])] {
        let one_rule = edited(case, |plan| {
            remove_resource(plan, dropped);
            let second = serde_json::json!({"references": ["aws_security_group.web[1].id", "aws_security_group.web[1]"]});
            configure(plan, "aws_instance.web", "vpc_security_group_ids", second);
        });
        assert_eq!(
            forbid_in(case, one_rule, from, to, "tcp/22"),
            FOUND,
            "{kept}"
        );
    }
}

#[test]
fn a_network_load_balancer_passes_its_clients_addresses_to_its_targets() {
    // An internet-facing NLB forwards SSH to an instance in a private subnet, whose
    // group admits the office's public range only. The NLB preserves the client's
    // address, so the office gets through although nothing admits the NLB's own.
    let case = "33-network-load-balancer-preserves-client-addresses.json";
    let (from, to) = ("internet", "aws_instance.app");
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    // Only what the group admits from someone: the NLB is no wider than its clients.
    assert_eq!(forbid(case, from, to, "tcp/80"), NONE);
    // An Application Load Balancer connects from its own addresses, which the group
    // does not admit; so does one whose type is left to the provider's default.
    for kind in [Some("application"), None] {
        let proxied = edited(case, |state| {
            let lb = values_at(state, STATE, "aws_lb.web");
            match kind {
                Some(kind) => lb["load_balancer_type"] = kind.into(),
                None => drop(lb.as_object_mut().unwrap().remove("load_balancer_type")),
            }
        });
        assert_eq!(
            forbid_in(case, proxied, from, to, "tcp/22"),
            NONE,
            "{kind:?}"
        );
    }
}

#[test]
fn an_endpoint_reaches_the_load_balancers_of_its_service_across_vpcs() {
    // Two VPCs with no route between them; PrivateLink joins them: the client reaches
    // the endpoint in its own VPC, the endpoint the service's NLB in the other.
    let case = "34-private-link-joins-vpcs-without-a-route.json";
    let (from, to) = ("aws_instance.client", "aws_instance.service");
    let out = checked(case, from, to, "tcp/443");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stdout.contains("aws_vpc_endpoint.service#private-link"),
        "{}",
        out.stdout
    );
    // The provider's resources in a plan of their own, as another account keeps them:
    // the endpoint reaches the load balancer of the service its name names there.
    let state: serde_json::Value = serde_json::from_str(&fixture(case)).unwrap();
    let provider = [
        "aws_vpc.provider",
        "aws_subnet.provider",
        "aws_security_group.service",
        "aws_instance.service",
        "aws_lb.service",
        "aws_vpc_endpoint_service.service",
    ];
    let part = |of_provider: bool| {
        let mut part = state.clone();
        resources_at(&mut part, STATE)
            .retain(|r| provider.contains(&r["address"].as_str().unwrap()) == of_provider);
        part.to_string()
    };
    let forbid = format!(
        "invariants:\n  - name: apart\n    forbid: {{from: {from}, to: {to}, ports: [tcp/443]}}\n"
    );
    let split = |provider: String| {
        Cordon::new()
            .file("consumer.json", part(false))
            .file("provider.json", provider)
            .file("invariants.yaml", &forbid)
            .args(["check", "."])
            .run()
    };
    let out = split(part(true));
    assert_eq!(out.code, FOUND, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // A provider plan whose service has another id offers nothing to this endpoint.
    let out = split(part(true).replace("vpce-svc-0123", "vpce-svc-0456"));
    assert_warned(
        &out,
        NONE,
        "`aws_vpc_endpoint.service`: its endpoint service `com.amazonaws.vpce.us-east-1.vpce-svc-0123` is in none of the plans read",
    );
    // An endpoint of a service that another account offers leads nowhere in this
    // plan, and says so.
    let foreign = edited(case, |state| {
        let endpoint = values_at(state, STATE, "aws_vpc_endpoint.service");
        endpoint["service_name"] = "com.amazonaws.vpce.us-east-1.vpce-svc-0999".into();
    });
    let out = checked_in(case, foreign, from, to, "tcp/443");
    assert_warned(
        &out,
        NONE,
        "`aws_vpc_endpoint.service`: its endpoint service `com.amazonaws.vpce.us-east-1.vpce-svc-0999` is in none of the plans read; the connections it opens there are not modelled",
    );
}

#[test]
fn an_id_the_state_does_not_hold_names_a_resource_elsewhere() {
    let (from, to) = ("internet", "aws_instance.web");
    let case = "15-default-route-table-in-state.json";
    let with = |add: serde_json::Value, edit: fn(&mut serde_json::Value)| {
        edited(case, |plan| {
            edit(plan);
            let resources = resources_at(plan, STATE);
            for resource in add.as_array().unwrap() {
                resources.push(resource.clone());
            }
        })
    };
    let resource = |address: &str, values: serde_json::Value| {
        let (kind, name) = address.split_once('.').unwrap();
        serde_json::json!({"address": address, "mode": "managed", "type": kind,
            "name": name, "values": values})
    };
    let private = |plan: &mut serde_json::Value| {
        let web = &mut resources_at(plan, STATE)[5]["values"];
        assert_eq!(web["id"], "i-web");
        web["associate_public_ip_address"] = false.into();
        web["public_ip"] = "".into();
    };
    // An EIP on another state's instance.
    let eip = resource(
        "aws_eip.other",
        serde_json::json!({"id": "eipalloc-1", "instance": "i-elsewhere"}),
    );
    let without = with(serde_json::json!([]), private);
    assert_eq!(forbid_in(case, without, from, to, "tcp/22"), NONE);
    let eips = with(serde_json::json!([eip]), private);
    assert_eq!(forbid_in(case, eips, from, to, "tcp/22"), NONE);
    // A NACL rule that allows tcp/22 on another state's ACL, beside an ACL that admits
    // nothing into this subnet (and lets every answer out).
    let acl = resource(
        "aws_network_acl.pub",
        serde_json::json!({"id": "acl-1", "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-1"], "ingress": [], "egress": [{"protocol": "-1",
            "rule_no": 100, "action": "allow", "cidr_block": "0.0.0.0/0",
            "ipv6_cidr_block": "", "from_port": 0, "to_port": 0}]}),
    );
    let rule = resource(
        "aws_network_acl_rule.other",
        serde_json::json!({"id": "nacl-1",
        "network_acl_id": "acl-elsewhere", "rule_number": 100, "egress": false,
        "protocol": "tcp", "rule_action": "allow", "cidr_block": "0.0.0.0/0",
        "from_port": 22, "to_port": 22}),
    );
    let acls = with(serde_json::json!([acl, rule]), |_| {});
    assert_eq!(forbid_in(case, acls, from, to, "tcp/22"), NONE);
    // A table routed to the gateway, associated with another state's subnet; the main
    // table has the local route only.
    let table = resource(
        "aws_route_table.pub",
        serde_json::json!({"id": "rtb-pub",
        "vpc_id": "vpc-1", "route": [{"cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "",
            "gateway_id": "igw-1", "nat_gateway_id": "", "vpc_peering_connection_id": ""}]}),
    );
    let association = resource(
        "aws_route_table_association.other",
        serde_json::json!({
        "id": "rtbassoc-1", "subnet_id": "subnet-elsewhere", "route_table_id": "rtb-pub"}),
    );
    let no_main_route = |plan: &mut serde_json::Value| {
        let main = &mut resources_at(plan, STATE)[3]["values"];
        assert_eq!(main["id"], "rtb-main");
        main["route"] = serde_json::json!([]);
    };
    let routes = with(serde_json::json!([table, association]), no_main_route);
    assert_eq!(forbid_in(case, routes, from, to, "tcp/22"), NONE);
    // An instance in another state's subnet may be in any: nothing in a state is
    // unknown until apply, and the warning says what it is.
    let elsewhere = edited(case, |plan| {
        resources_at(plan, STATE)[5]["values"]["subnet_id"] = "subnet-elsewhere".into();
    });
    let out = checked_in(case, elsewhere, from, to, "tcp/22");
    let warned = "`aws_instance.web`: its subnet is not in the state; assumed to be any subnet";
    assert_warned(&out, FOUND, warned);
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
    let warned = "`aws_iam_role_policy_attachment.sessions`: the role it attaches to is unknown until apply; assumed to be every role of the plan";
    assert_warned(&out, FOUND, warned);
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
    let warned = "`aws_iam_instance_profile.ci`: its role is unknown until apply; assumed to be every role of the plan";
    assert_warned(&out, FOUND, warned);
    // The instance's profile from a variable: it may be any profile of the plan.
    let out = checked(
        "iam-03b-instance-profile-from-a-variable.json",
        CI,
        VAULT,
        "",
    );
    let warned = "`aws_instance.ci`: its instance profile is unknown until apply; assumed to be every instance profile of the plan";
    assert_warned(&out, FOUND, warned);
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
    let warned =
        "`aws_iam_role.public`: its trust policy is unknown until apply; assumed to admit anyone";
    assert_warned(&out, FOUND, warned);
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
fn an_autoscaling_group_stands_for_the_instances_it_launches() {
    // The group's launch template gives its instances the open group `ssh` on a
    // network interface that asks for a public address.
    let case = "30-autoscaling-group-launch-template.json";
    let (from, to) = ("internet", "aws_autoscaling_group.web");
    assert_eq!(forbid(case, from, to, "tcp/22"), FOUND);
    fn group(plan: &mut serde_json::Value) -> &mut serde_json::Value {
        values_at(plan, STATE, "aws_autoscaling_group.web")
    }
    fn template(plan: &mut serde_json::Value) -> &mut serde_json::Value {
        values_at(plan, STATE, "aws_launch_template.web")
    }
    // No public address asked for, in a subnet that maps none: out of the internet's
    // reach. So is a template that gives the closed group.
    fn private(plan: &mut serde_json::Value) {
        template(plan)["network_interfaces"][0]["associate_public_ip_address"] = "".into();
    }
    assert_eq!(
        forbid_in(case, edited(case, private), from, to, "tcp/22"),
        NONE
    );
    let closed = edited(case, |plan| {
        template(plan)["network_interfaces"][0]["security_groups"] = serde_json::json!(["sg-2"]);
    });
    assert_eq!(forbid_in(case, closed, from, to, "tcp/22"), NONE);
    // The private template named by its name, or through a mixed instances policy, is
    // found: one that were not might give anything.
    let by_name = edited(case, |plan| {
        private(plan);
        group(plan)["launch_template"][0]["id"] = "".into();
    });
    assert_eq!(forbid_in(case, by_name, from, to, "tcp/22"), NONE);
    let mixed = edited(case, |plan| {
        private(plan);
        let values = group(plan);
        values["launch_template"] = serde_json::json!([]);
        values["mixed_instances_policy"] = serde_json::json!([{"launch_template": [
            {"launch_template_specification": [{"launch_template_id": "lt-1"}]}
        ]}]);
    });
    assert_eq!(forbid_in(case, mixed, from, to, "tcp/22"), NONE);
    // A launch configuration, public or not.
    let configured = |public: bool| {
        edited(case, |plan| {
            group(plan)["launch_template"] = serde_json::json!([]);
            group(plan)["launch_configuration"] = "web-lc".into();
            resources_at(plan, STATE).push(serde_json::json!({
                "address": "aws_launch_configuration.web",
                "mode": "managed",
                "type": "aws_launch_configuration",
                "name": "web",
                "values": {"id": "web-lc", "name": "web-lc", "security_groups": ["sg-1"],
                           "associate_public_ip_address": public}
            }));
        })
    };
    assert_eq!(forbid_in(case, configured(true), from, to, "tcp/22"), FOUND);
    assert_eq!(forbid_in(case, configured(false), from, to, "tcp/22"), NONE);
    // A template the state does not hold may give anything: said, at the group.
    let elsewhere = edited(case, |plan| {
        group(plan)["launch_template"][0]["id"] = "lt-elsewhere".into();
        group(plan)["launch_template"][0]["name"] = "elsewhere".into();
        template(plan)["network_interfaces"][0]["associate_public_ip_address"] = "".into();
    });
    let out = checked_in(case, elsewhere, from, to, "tcp/22");
    let warned = "`aws_autoscaling_group.web`: its launch template is not in the state; assumed to give any security group, a public address and any instance profile of the plan";
    assert_warned(&out, FOUND, warned);
}

#[test]
fn an_autoscaling_groups_instances_hold_the_profile_its_template_names() {
    // `aws_instance.ci` becomes a group whose launch template names profile `ci`, and
    // `aws_instance.vault` a group that `ci` may run commands on.
    let case = "iam-07-send-command.json";
    let launched = |launches: &str, with_profile: bool| {
        edited(case, |plan| {
            for pointer in [PLANNED, CONFIGURED] {
                for resource in resources_at(plan, pointer) {
                    if resource["address"] == launches {
                        let name = resource["name"].as_str().unwrap().to_owned();
                        resource["address"] = format!("aws_autoscaling_group.{name}").into();
                        resource["type"] = "aws_autoscaling_group".into();
                    }
                }
            }
            let name = launches.trim_start_matches("aws_instance.");
            let group = format!("aws_autoscaling_group.{name}");
            planned(plan, &group)["launch_template"] = serde_json::json!([{"name": name}]);
            let profile = if name == "ci" && with_profile {
                "ci"
            } else {
                ""
            };
            add_resource(
                plan,
                &format!("aws_launch_template.{name}"),
                serde_json::json!({"name": name, "iam_instance_profile": [{"name": profile}]}),
                serde_json::json!({}),
            );
        })
    };
    let group = "aws_autoscaling_group.ci";
    assert_eq!(forbid_in(case, launched(CI, true), group, VAULT, ""), FOUND);
    assert_eq!(forbid_in(case, launched(CI, false), group, VAULT, ""), NONE);
    let vault = launched(VAULT, true);
    assert_eq!(
        forbid_in(case, vault, CI, "aws_autoscaling_group.vault", ""),
        FOUND
    );
}

#[test]
fn an_ecs_service_stands_for_its_tasks() {
    // A service with `awsvpc` networking in the public subnet, with the open group,
    // beside the Auto Scaling group, made private.
    let case = "30-autoscaling-group-launch-template.json";
    let (from, to) = ("internet", "aws_ecs_service.api");
    let service = |public: bool| {
        beside_a_private_group(&[(
            "aws_ecs_service.api",
            serde_json::json!({
                "id": "arn:aws:ecs:us-east-1:111122223333:service/prod/api",
                "cluster": "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
                "task_definition": "arn:aws:ecs:us-east-1:111122223333:task-definition/api:3",
                "network_configuration": [{
                    "subnets": ["subnet-1"],
                    "security_groups": ["sg-1"],
                    "assign_public_ip": public
                }]
            }),
        )])
    };
    assert_eq!(forbid_in(case, service(true), from, to, "tcp/22"), FOUND);
    assert_eq!(forbid_in(case, service(false), from, to, "tcp/22"), NONE);
}

#[test]
fn an_ecs_services_tasks_hold_their_task_role() {
    // `aws_instance.ci` becomes a service whose task definition's task role is `ci`,
    // which may run commands on the vault.
    let case = "iam-07-send-command.json";
    let service = "aws_ecs_service.ci";
    let with_service = |task_definition: &str, task_role: &str| {
        edited(case, |plan| {
            remove_resource(plan, CI);
            add_resource(
                plan,
                service,
                serde_json::json!({
                    "task_definition": task_definition,
                    "network_configuration": [{"subnets": [], "security_groups": [],
                                               "assign_public_ip": false}]
                }),
                serde_json::json!({}),
            );
            add_resource(
                plan,
                "aws_ecs_task_definition.ci",
                serde_json::json!({"family": "ci", "revision": 1,
                                   "task_role_arn": task_role}),
                serde_json::json!({}),
            );
        })
    };
    let role = "arn:aws:iam::111122223333:role/ci";
    let by_arn = "arn:aws:ecs:us-east-1:111122223333:task-definition/ci:1";
    assert_eq!(
        forbid_in(case, with_service(by_arn, role), service, VAULT, ""),
        FOUND
    );
    assert_eq!(
        forbid_in(case, with_service("ci:1", role), service, VAULT, ""),
        FOUND
    );
    assert_eq!(
        forbid_in(case, with_service("ci:1", ""), service, VAULT, ""),
        NONE
    );
    // A task definition the plan does not hold runs with no role it knows: said.
    let out = checked_in(case, with_service("other:1", role), service, VAULT, "");
    let warned = "`aws_ecs_service.ci`: its task definition `other:1` is not in its plan; assumed to run with no role";
    assert_warned(&out, NONE, warned);

    // `ci` may run commands in the tasks of the vault's service instead.
    let vault = edited(case, |plan| {
        replace_in_ci_policy(plan, "ssm:SendCommand", "ecs:ExecuteCommand");
        replace_in_ci_policy(
            plan,
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ecs:*:*:task/prod/*",
        );
        remove_resource(plan, VAULT);
        let values = serde_json::json!({
            "cluster": "prod",
            "network_configuration": [{"subnets": [], "security_groups": []}]
        });
        add_resource(plan, "aws_ecs_service.vault", values, serde_json::json!({}));
    });
    let vault_tasks = "aws_ecs_service.vault";
    assert_eq!(forbid_in(case, vault.clone(), CI, vault_tasks, ""), FOUND);
    let other_cluster = vault.replace("task/prod/*", "task/staging/*");
    assert_eq!(forbid_in(case, other_cluster, CI, vault_tasks, ""), NONE);
}

#[test]
fn an_eks_node_group_stands_for_its_nodes() {
    // Nodes without a launch template carry the cluster's security group, which the
    // plan does not describe: they are open to whoever reaches them, here the internet
    // once their subnet maps public addresses. The Auto Scaling group is made private.
    let case = "30-autoscaling-group-launch-template.json";
    let (from, to) = ("internet", "aws_eks_node_group.nodes");
    let nodes = |public_subnet: bool| {
        let values = serde_json::json!({"subnet_ids": ["subnet-1"], "launch_template": []});
        let nodes = beside_a_private_group(&[("aws_eks_node_group.nodes", values)]);
        let mut plan: serde_json::Value = serde_json::from_str(&nodes).unwrap();
        let subnet = values_at(&mut plan, STATE, "aws_subnet.pub");
        subnet["map_public_ip_on_launch"] = public_subnet.into();
        plan.to_string()
    };
    assert_eq!(forbid_in(case, nodes(true), from, to, "tcp/10250"), FOUND);
    assert_eq!(forbid_in(case, nodes(false), from, to, "tcp/10250"), NONE);
}

#[test]
fn an_eks_node_groups_nodes_hold_their_node_role() {
    // `aws_instance.ci` becomes a node group whose node role is `ci`, which may run
    // commands on every instance; then the vault becomes a node group.
    let case = "iam-07-send-command.json";
    let as_node_group = |instance: &str, node_role: &str| {
        edited(case, |plan| {
            remove_resource(plan, instance);
            let name = instance.trim_start_matches("aws_instance.");
            let values = serde_json::json!({"subnet_ids": [], "node_role_arn": node_role});
            let group = format!("aws_eks_node_group.{name}");
            add_resource(plan, &group, values, serde_json::json!({}));
        })
    };
    let role = "arn:aws:iam::111122223333:role/ci";
    let nodes = "aws_eks_node_group.ci";
    assert_eq!(
        forbid_in(case, as_node_group(CI, role), nodes, VAULT, ""),
        FOUND
    );
    assert_eq!(
        forbid_in(case, as_node_group(CI, ""), nodes, VAULT, ""),
        NONE
    );
    let vault = as_node_group(VAULT, "");
    let vault_nodes = "aws_eks_node_group.vault";
    assert_eq!(forbid_in(case, vault, CI, vault_nodes, ""), FOUND);
}

/// Fixture 30 with its Auto Scaling group made private and these resources added to
/// its state, each `(address, values)`.
fn beside_a_private_group(resources: &[(&str, serde_json::Value)]) -> String {
    edited("30-autoscaling-group-launch-template.json", |plan| {
        let template = values_at(plan, STATE, "aws_launch_template.web");
        template["network_interfaces"][0]["associate_public_ip_address"] = "".into();
        for (address, values) in resources {
            let (kind, name) = address.split_once('.').unwrap();
            resources_at(plan, STATE).push(serde_json::json!({
                "address": address, "mode": "managed", "type": kind, "name": name,
                "values": values
            }));
        }
    })
}

#[test]
fn managed_services_in_subnets_are_assets() {
    let case = "30-autoscaling-group-launch-template.json";
    let web = "aws_autoscaling_group.web";
    // Each in the subnet through its subnet group, with the group open on 22 or the
    // closed one: (service, its subnet group's type, the key that names it, the key
    // of its security groups).
    let grouped = [
        (
            "aws_elasticache_cluster",
            "aws_elasticache_subnet_group",
            "subnet_group_name",
            "security_group_ids",
        ),
        (
            "aws_elasticache_replication_group",
            "aws_elasticache_subnet_group",
            "subnet_group_name",
            "security_group_ids",
        ),
        (
            "aws_memorydb_cluster",
            "aws_memorydb_subnet_group",
            "subnet_group_name",
            "security_group_ids",
        ),
        (
            "aws_docdb_cluster",
            "aws_docdb_subnet_group",
            "db_subnet_group_name",
            "vpc_security_group_ids",
        ),
        (
            "aws_neptune_cluster",
            "aws_neptune_subnet_group",
            "neptune_subnet_group_name",
            "vpc_security_group_ids",
        ),
        (
            "aws_redshift_cluster",
            "aws_redshift_subnet_group",
            "cluster_subnet_group_name",
            "vpc_security_group_ids",
        ),
    ];
    for (kind, group_kind, group_key, groups_key) in grouped {
        let service = |group: &str| {
            let mut values = serde_json::json!({});
            values[group_key] = "data".into();
            values[groups_key] = serde_json::json!([group]);
            beside_a_private_group(&[
                (
                    &format!("{group_kind}.data"),
                    serde_json::json!({"id": "data", "name": "data", "subnet_ids": ["subnet-1"]}),
                ),
                (&format!("{kind}.data"), values),
            ])
        };
        let to = format!("{kind}.data");
        assert_eq!(forbid_in(kind, service("sg-1"), web, &to, "tcp/22"), FOUND);
        assert_eq!(forbid_in(kind, service("sg-2"), web, &to, "tcp/22"), NONE);
    }
    // An Aurora cluster is public where one of its instances is.
    let aurora = |public: bool| {
        beside_a_private_group(&[
            (
                "aws_db_subnet_group.db",
                serde_json::json!({"id": "db", "name": "db", "subnet_ids": ["subnet-1"]}),
            ),
            (
                "aws_rds_cluster.db",
                serde_json::json!({"id": "db", "cluster_identifier": "db",
                                   "db_subnet_group_name": "db",
                                   "vpc_security_group_ids": ["sg-1"]}),
            ),
            (
                "aws_rds_cluster_instance.db",
                serde_json::json!({"cluster_identifier": "db", "publicly_accessible": public}),
            ),
        ])
    };
    let to = "aws_rds_cluster.db";
    assert_eq!(
        forbid_in(case, aurora(true), "internet", to, "tcp/22"),
        FOUND
    );
    assert_eq!(
        forbid_in(case, aurora(false), "internet", to, "tcp/22"),
        NONE
    );
    // A Classic Load Balancer is internet-facing unless it says `internal`, and
    // forwards to what its groups let it reach.
    let classic = |internal: bool| {
        beside_a_private_group(&[(
            "aws_elb.web",
            serde_json::json!({"id": "web", "subnets": ["subnet-1"],
                               "security_groups": ["sg-1"], "internal": internal}),
        )])
    };
    let to = "aws_elb.web";
    assert_eq!(
        forbid_in(case, classic(false), "internet", to, "tcp/22"),
        FOUND
    );
    assert_eq!(
        forbid_in(case, classic(true), "internet", to, "tcp/22"),
        NONE
    );
    assert_eq!(forbid_in(case, classic(true), web, to, "tcp/22"), FOUND);
}

#[test]
fn a_lambda_function_holds_its_execution_role() {
    // The function, an asset in its VPC, runs with role `worker`, which may start
    // sessions: whoever controls the function holds it.
    let case = "iam-08-function-role.json";
    assert_eq!(forbid(case, "aws_lambda_function.worker", VAULT, ""), FOUND);
    // A role that no plan read holds is assumed to allow nothing, and said to be.
    let elsewhere = edited(case, |plan| {
        remove_resource(plan, "aws_iam_role.worker");
        let arn = "arn:aws:iam::111122223333:role/worker";
        planned(plan, "aws_lambda_function.worker")["role"] = arn.into();
        let expressions = serde_json::json!({"constant_value": arn});
        configure(plan, "aws_lambda_function.worker", "role", expressions);
    });
    let out = checked_in(case, elsewhere, "aws_lambda_function.worker", VAULT, "");
    let warned = "`aws_lambda_function.worker`: its execution role `arn:aws:iam::111122223333:role/worker` is in none of the plans read; assumed to allow nothing";
    assert_warned(&out, NONE, warned);
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

/// The planned values of the resource at `address`.
fn planned<'p>(plan: &'p mut serde_json::Value, address: &str) -> &'p mut serde_json::Value {
    values_at(plan, PLANNED, address)
}

/// The values of the resource at `address` among the resources at `pointer`.
fn values_at<'p>(
    plan: &'p mut serde_json::Value,
    pointer: &str,
    address: &str,
) -> &'p mut serde_json::Value {
    let resources = resources_at(plan, pointer);
    let resource = resources.iter_mut().find(|r| r["address"] == address);
    &mut resource.unwrap()["values"]
}

/// Sets the configuration's expression for attribute `key` of the resource at
/// `address`.
fn configure(
    plan: &mut serde_json::Value,
    address: &str,
    key: &str,
    expression: serde_json::Value,
) {
    let resources = resources_at(plan, CONFIGURED);
    let resource = resources.iter_mut().find(|r| r["address"] == address);
    resource.unwrap()["expressions"][key] = expression;
}

/// The plan `fixture` with `from` made `to` in the policy of role `ci`.
fn with_ci_policy(fixture: &str, from: &str, to: &str) -> String {
    edited(fixture, |plan| replace_in_ci_policy(plan, from, to))
}

/// Makes `from` `to` in the policy of role `ci`.
fn replace_in_ci_policy(plan: &mut serde_json::Value, from: &str, to: &str) {
    let policy = &mut planned(plan, "aws_iam_role.ci")["inline_policy"][0]["policy"];
    *policy = policy.as_str().unwrap().replace(from, to).into();
}

#[test]
fn a_role_that_may_make_a_users_keys_acts_as_the_user_with_its_groups_policies() {
    // `ci` may iam:CreateAccessKey for the user `admin`, whose group `ops` may start
    // sessions on every instance.
    let case = "iam-12-access-keys-for-a-user-in-a-group.json";
    let out = checked(case, CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("aws_iam_user.admin#keyed-by:aws_iam_role.ci"),
        "{}",
        out.stdout
    );
    // A console password made or changed serves as well as access keys.
    for action in ["iam:CreateLoginProfile", "iam:UpdateLoginProfile"] {
        let console = with_ci_policy(case, "iam:CreateAccessKey", action);
        assert_eq!(forbid_in(case, console, CI, VAULT, ""), FOUND, "{action}");
    }
    // Keys for another user, or the user out of its group, give nothing.
    let other_user = with_ci_policy(case, "user/admin", "user/other");
    assert_eq!(forbid_in(case, other_user, CI, VAULT, ""), NONE);
    let outside = edited(case, |plan| {
        planned(plan, "aws_iam_group_membership.ops")["users"] = serde_json::json!([]);
    });
    assert_eq!(forbid_in(case, outside, CI, VAULT, ""), NONE);
    // A membership whose users come from a variable may hold every user.
    let unknown = edited(case, |plan| {
        planned(plan, "aws_iam_group_membership.ops")["users"] = serde_json::json!([null]);
        let users = serde_json::json!({"references": ["var.users"]});
        configure(plan, "aws_iam_group_membership.ops", "users", users);
    });
    let out = checked_in(case, unknown, CI, VAULT, "");
    let warned = "`aws_iam_group_membership.ops`: the user it names is unknown until apply; assumed to be every user of the plan";
    assert_warned(&out, FOUND, warned);
}

#[test]
fn stolen_credentials_act_from_their_principals_session() {
    // An attacker with the user's access keys, or a role's session, calls the API from
    // anywhere: nothing of the plan need hold them.
    let case = "iam-12-access-keys-for-a-user-in-a-group.json";
    assert_eq!(forbid(case, "aws_iam_user.admin", VAULT, ""), FOUND);
    let case = "iam-07-send-command.json";
    assert_eq!(forbid(case, "aws_iam_role.ci", VAULT, ""), FOUND);
}

/// `check` of `forbid: {from: ci, to: vault}` on two plans, `main` and `other`, in one
/// account: the exit code.
fn forbid_in_two_plans(main: String, other: &serde_json::Value) -> i32 {
    checked_in_two_plans(main, other).code
}

/// `check` of `forbid: {from: ci, to: vault}` on two plans, `main` and `other`, in one
/// account: what it printed.
fn checked_in_two_plans(main: String, other: &serde_json::Value) -> crate::harness::Output {
    let policy = format!(
        "\
imports:
  - terraform: main.json
    in: prod
  - terraform: other.json
    in: prod
accounts:
  - name: prod
invariants:
  - name: must-not-reach
    forbid:
      from: \"{CI}\"
      to: \"{VAULT}\"
"
    );
    let out = Cordon::new()
        .file("main.json", main)
        .file("other.json", other.to_string())
        .file("invariants.yaml", policy)
        .args(["check", "invariants.yaml"])
        .run();
    assert!(matches!(out.code, 0 | 1), "{}{}", out.stdout, out.stderr);
    out
}

/// A state of one resource: `aws_iam_KIND.attach` with these values.
fn attaching(kind: &str, values: serde_json::Value) -> serde_json::Value {
    state_of(&[(&format!("{kind}.attach"), values)])
}

/// A state of these resources: (address, values).
fn state_of(resources: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let resources: Vec<serde_json::Value> = (resources.iter())
        .map(|(address, values)| {
            let (kind, name) = address.split_once('.').unwrap();
            serde_json::json!({"address": address, "mode": "managed", "type": kind,
                "name": name, "values": values})
        })
        .collect();
    serde_json::json!({
        "format_version": "1.0",
        "terraform_version": "1.6.6",
        "values": {"root_module": {"resources": resources}}
    })
}

#[test]
fn a_policy_one_plan_attaches_to_another_plans_principal_is_its_own() {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    // Role `ci` may do nothing in its own plan; another attaches a policy to it.
    let bare = edited("iam-07-send-command.json", |plan| {
        planned(plan, "aws_iam_role.ci")["inline_policy"] = serde_json::json!([]);
    });
    let admin_to = |kind: &str, key: &str, name: &str| {
        attaching(kind, serde_json::json!({key: name, "policy_arn": admin}))
    };
    let to_role = |role: &str| admin_to("aws_iam_role_policy_attachment", "role", role);
    assert_eq!(forbid_in_two_plans(bare.clone(), &to_role("CI")), FOUND);
    assert_eq!(forbid_in_two_plans(bare.clone(), &to_role("other")), NONE);
    let listed = |roles: serde_json::Value| {
        attaching(
            "aws_iam_policy_attachment",
            serde_json::json!({"name": "x", "roles": roles, "users": [], "groups": [],
                "policy_arn": admin}),
        )
    };
    let by_arn = listed(serde_json::json!(["arn:aws:iam::111111111111:role/ci"]));
    assert_eq!(forbid_in_two_plans(bare.clone(), &by_arn), FOUND);
    assert_eq!(
        forbid_in_two_plans(bare, &listed(serde_json::json!([]))),
        NONE
    );
    // User `admin` is in no group; another plan attaches a policy to it.
    let alone = edited("iam-12-access-keys-for-a-user-in-a-group.json", |plan| {
        planned(plan, "aws_iam_group_membership.ops")["users"] = serde_json::json!([]);
    });
    let to_user = |user: &str| admin_to("aws_iam_user_policy_attachment", "user", user);
    assert_eq!(forbid_in_two_plans(alone.clone(), &to_user("admin")), FOUND);
    assert_eq!(forbid_in_two_plans(alone, &to_user("other")), NONE);
}

/// One configuration often keeps the users and groups, and others add users to a
/// group or attach policies to a group by name: `admin`'s group `ops` may start
/// sessions on every instance only through what the other plan says.
#[test]
fn a_group_one_plan_names_is_the_same_group_in_another() {
    const CASE: &str = "iam-12-access-keys-for-a-user-in-a-group.json";
    let sessions = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}]}"#;
    let without = |addresses: &[&str]| {
        edited(CASE, |plan| {
            for address in addresses {
                remove_resource(plan, address);
            }
        })
    };
    // The group's policy is attached in the other plan, by the group's name.
    let unpolicied = without(&["aws_iam_group_policy.sessions"]);
    assert_eq!(
        forbid_in_two_plans(unpolicied.clone(), &state_of(&[])),
        NONE
    );
    let attach = |group: &str| {
        attaching(
            "aws_iam_group_policy",
            serde_json::json!({"name": "sessions", "group": group, "policy": sessions}),
        )
    };
    assert_eq!(
        forbid_in_two_plans(unpolicied.clone(), &attach("ops")),
        FOUND
    );
    assert_eq!(
        forbid_in_two_plans(unpolicied.clone(), &attach("devs")),
        NONE
    );
    let listed = attaching(
        "aws_iam_policy_attachment",
        serde_json::json!({"name": "x", "roles": [], "users": [], "groups": ["ops"],
            "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    );
    assert_eq!(forbid_in_two_plans(unpolicied, &listed), FOUND);
    // The membership is in the other plan, naming the user and group of this one.
    let alone = without(&["aws_iam_group_membership.ops"]);
    let membership = |user: &str| {
        attaching(
            "aws_iam_user_group_membership",
            serde_json::json!({"user": user, "groups": ["ops"]}),
        )
    };
    assert_eq!(
        forbid_in_two_plans(alone.clone(), &membership("other")),
        NONE
    );
    assert_eq!(forbid_in_two_plans(alone, &membership("admin")), FOUND);
    // The group, its policy and its membership are in the other plan, the user in this.
    let user_only = without(&[
        "aws_iam_group.ops",
        "aws_iam_group_membership.ops",
        "aws_iam_group_policy.sessions",
    ]);
    let group_plan = |users: serde_json::Value| {
        state_of(&[
            (
                "aws_iam_group.ops",
                serde_json::json!({"name": "ops", "path": "/"}),
            ),
            (
                "aws_iam_group_membership.ops",
                serde_json::json!({"name": "ops", "group": "ops", "users": users}),
            ),
            (
                "aws_iam_group_policy.sessions",
                serde_json::json!({"name": "sessions", "group": "ops", "policy": sessions}),
            ),
        ])
    };
    let members = group_plan(serde_json::json!(["admin"]));
    assert_eq!(forbid_in_two_plans(user_only.clone(), &members), FOUND);
    let nobody = group_plan(serde_json::json!([]));
    assert_eq!(forbid_in_two_plans(user_only.clone(), &nobody), NONE);
    // The membership is in this plan, naming a group of the other.
    let group_elsewhere = edited(CASE, |plan| {
        for address in [
            "aws_iam_group.ops",
            "aws_iam_group_membership.ops",
            "aws_iam_group_policy.sessions",
        ] {
            remove_resource(plan, address);
        }
        let membership = serde_json::json!({"user": "admin", "groups": ["ops"]});
        add_resource(
            plan,
            "aws_iam_user_group_membership.admin",
            membership,
            serde_json::json!({}),
        );
    });
    assert_eq!(forbid_in_two_plans(group_elsewhere, &nobody), FOUND);
}

/// An EKS node role carries AWS managed policies that the plan cannot show. They allow
/// nothing cordon asks but the Pod Identity Agent's action, which fetches the
/// credentials of every role that trusts the Pod Identity service.
#[test]
fn an_eks_node_role_obtains_the_pod_identity_roles_and_nothing_else() {
    const CASE: &str = "iam-07-send-command.json";
    let node = |extra: &dyn Fn(&mut serde_json::Value)| {
        edited(CASE, |plan| {
            let role = planned(plan, "aws_iam_role.ci");
            role["inline_policy"] = serde_json::json!([]);
            role["managed_policy_arns"] = serde_json::json!([
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            ]);
            extra(plan);
        })
    };
    assert_eq!(forbid_in(CASE, node(&|_| {}), CI, VAULT, ""), NONE);
    // A role for pods that may send commands to every instance.
    let pod_role = |service: &'static str| {
        move |plan: &mut serde_json::Value| {
            let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": service},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}]});
            let commands = serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*"}]});
            let values = serde_json::json!({"name": "pods", "inline_policy": [
                {"name": "commands", "policy": commands.to_string()}],
                "assume_role_policy": trust.to_string()});
            add_resource(plan, "aws_iam_role.pods", values, serde_json::json!({}));
        }
    };
    let with_pods = node(&pod_role("pods.eks.amazonaws.com"));
    let out = checked_in(CASE, with_pods, CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(out.stdout.contains("aws_iam_role.pods"), "{}", out.stdout);
    let for_lambda = node(&pod_role("lambda.amazonaws.com"));
    assert_eq!(forbid_in(CASE, for_lambda, CI, VAULT, ""), NONE);
    // Without the worker node policy, the CNI's and the registry's give nothing.
    let cni_only = node(&|plan| {
        pod_role("pods.eks.amazonaws.com")(plan);
        planned(plan, "aws_iam_role.ci")["managed_policy_arns"] = serde_json::json!([
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        ]);
    });
    assert_eq!(forbid_in(CASE, cni_only, CI, VAULT, ""), NONE);
}

/// Adds a resource of this address, planned values and configured expressions to a
/// plan.
fn add_resource(
    plan: &mut serde_json::Value,
    address: &str,
    values: serde_json::Value,
    expressions: serde_json::Value,
) {
    let (kind, name) = address.split_once('.').unwrap();
    let common =
        serde_json::json!({"address": address, "mode": "managed", "type": kind, "name": name});
    let mut planned = common.clone();
    planned["values"] = values;
    resources_at(plan, PLANNED).push(planned);
    let mut configured = common;
    configured["expressions"] = expressions;
    resources_at(plan, CONFIGURED).push(configured);
}

#[test]
fn a_users_access_keys_are_held_where_the_plan_keeps_them() {
    let references = |to: &str| serde_json::json!({"references": [format!("{to}.secret"), to]});
    // `ci` may make no keys; the plan makes one for `admin`, whose group may start
    // sessions on every instance.
    let keyed = |edit: &dyn Fn(&mut serde_json::Value)| {
        edited("iam-12-access-keys-for-a-user-in-a-group.json", |plan| {
            replace_in_ci_policy(plan, "iam:CreateAccessKey", "iam:ListAccessKeys");
            add_resource(
                plan,
                "aws_iam_access_key.admin",
                serde_json::json!({"user": "admin"}),
                serde_json::json!({"user": {"references": ["aws_iam_user.admin.name", "aws_iam_user.admin"]}}),
            );
            edit(plan);
        })
    };
    let case = "iam-12-access-keys-for-a-user-in-a-group.json";
    assert_eq!(forbid_in(case, keyed(&|_| {}), CI, VAULT, ""), NONE);
    // The instance's user data writes the key out: the instance holds `admin`.
    let in_user_data = keyed(&|plan| {
        configure(
            plan,
            CI,
            "user_data",
            references("aws_iam_access_key.admin"),
        );
    });
    assert_eq!(forbid_in(case, in_user_data, CI, VAULT, ""), FOUND);
    // A launch template's user data, or a task definition's container definitions,
    // write it out: the Auto Scaling group, or the service, that launches from it
    // holds `admin`.
    let launched = |launcher: &str, launcher_values: serde_json::Value, place: &str, key: &str| {
        keyed(&|plan| {
            add_resource(
                plan,
                launcher,
                launcher_values.clone(),
                serde_json::json!({}),
            );
            let values = serde_json::json!({"name": "web", "family": "web", "revision": 1});
            let expressions = serde_json::json!({key: references("aws_iam_access_key.admin")});
            add_resource(plan, place, values, expressions);
        })
    };
    for (launcher, values, place, key) in [
        (
            "aws_autoscaling_group.web",
            serde_json::json!({"launch_template": [{"name": "web"}]}),
            "aws_launch_template.web",
            "user_data",
        ),
        (
            "aws_ecs_service.web",
            serde_json::json!({"task_definition": "web:1",
                               "network_configuration": [{"subnets": []}]}),
            "aws_ecs_task_definition.web",
            "container_definitions",
        ),
    ] {
        let plan = launched(launcher, values, place, key);
        assert_eq!(
            forbid_in(case, plan, launcher, VAULT, ""),
            FOUND,
            "{launcher}"
        );
    }
    // A secret holds the key: whoever may read it obtains `admin`.
    let in_a_secret = |readable: &str| {
        let readable = readable.to_owned();
        keyed(&move |plan| {
            let read = serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                "Resource": format!("arn:aws:secretsmanager:*:*:secret:{readable}")}]});
            planned(plan, "aws_iam_role.ci")["inline_policy"][0]["policy"] =
                read.to_string().into();
            add_resource(
                plan,
                "aws_secretsmanager_secret.keys",
                serde_json::json!({"name": "admin-keys"}),
                serde_json::json!({}),
            );
            add_resource(
                plan,
                "aws_secretsmanager_secret_version.keys",
                serde_json::json!({}),
                serde_json::json!({
                    "secret_id": {"references": ["aws_secretsmanager_secret.keys.id", "aws_secretsmanager_secret.keys"]},
                    "secret_string": references("aws_iam_access_key.admin")
                }),
            );
        })
    };
    let out = checked_in(case, in_a_secret("admin-keys-*"), CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("aws_iam_user.admin#read-by:aws_iam_role.ci"),
        "{}",
        out.stdout
    );
    assert_eq!(forbid_in(case, in_a_secret("other-*"), CI, VAULT, ""), NONE);
}

#[test]
fn an_instance_holds_the_role_of_a_profile_another_plan_makes() {
    // `aws_instance.ci` names the profile `ci`; another plan makes the profile and its
    // role, or the role alone, which may run commands on every instance.
    let case = "iam-07-send-command.json";
    let mut original: serde_json::Value = serde_json::from_str(&fixture(case)).unwrap();
    let role = planned(&mut original, "aws_iam_role.ci").clone();
    let launched = |keep_profile: bool| {
        edited(case, |plan| {
            let mut dropped = vec!["aws_iam_role.ci"];
            if keep_profile {
                planned(plan, "aws_iam_instance_profile.ci")["role"] = "ci".into();
            } else {
                dropped.push("aws_iam_instance_profile.ci");
            }
            planned(plan, CI)["iam_instance_profile"] = "ci".into();
            for pointer in [PLANNED, CONFIGURED] {
                resources_at(plan, pointer)
                    .retain(|r| !dropped.contains(&r["address"].as_str().unwrap()));
            }
            // Named by a literal, not a reference to a resource of this plan.
            for resource in resources_at(plan, CONFIGURED) {
                let expressions = resource["expressions"].as_object_mut().unwrap();
                expressions.remove("iam_instance_profile");
                expressions.remove("role");
            }
        })
    };
    let profile = (
        "aws_iam_instance_profile.ci",
        serde_json::json!({"name": "ci", "role": "ci"}),
    );
    let both = state_of(&[profile, ("aws_iam_role.ci", role.clone())]);
    assert_eq!(forbid_in_two_plans(launched(false), &both), FOUND);
    let role_only = state_of(&[("aws_iam_role.ci", role.clone())]);
    assert_eq!(forbid_in_two_plans(launched(true), &role_only), FOUND);
    // A profile of another name carries nothing to it.
    let other = (
        "aws_iam_instance_profile.ci",
        serde_json::json!({"name": "other", "role": "ci"}),
    );
    let elsewhere = state_of(&[other, ("aws_iam_role.ci", role)]);
    // That no plan holds the profile is said, at the instance.
    let out = checked_in_two_plans(launched(false), &elsewhere);
    let warned = "`aws_instance.ci`: its instance profile `ci` is in none of the plans read; assumed to carry no role";
    assert_warned(&out, NONE, warned);
    // So is a profile whose role no plan holds, at the profile.
    let out = checked_in_two_plans(launched(true), &state_of(&[]));
    let warned = "`aws_iam_instance_profile.ci`: its role `ci` is in none of the plans read; assumed to allow nothing";
    assert_warned(&out, NONE, warned);
    let joined = checked_in_two_plans(launched(true), &role_only);
    assert!(
        !joined.stderr.contains("none of the plans"),
        "{}",
        joined.stderr
    );
}

#[test]
fn a_role_that_may_replace_the_code_of_a_function_outside_a_vpc_obtains_its_role() {
    // `worker` runs outside a VPC, so it is no asset; `ci` may still give it new code,
    // which runs with role `worker`, which may start sessions on the vault.
    let case = "iam-11-update-function-code.json";
    let outside = |action: &str| {
        edited(case, |plan| {
            planned(plan, "aws_lambda_function.worker")
                .as_object_mut()
                .unwrap()
                .remove("vpc_config");
            let mut configured = resources_at(plan, CONFIGURED).iter_mut();
            let worker = configured.find(|r| r["address"] == "aws_lambda_function.worker");
            let expressions = worker.unwrap()["expressions"].as_object_mut().unwrap();
            expressions.remove("vpc_config");
            replace_in_ci_policy(plan, "lambda:UpdateFunctionCode", action);
        })
    };
    let out = checked_in(case, outside("lambda:UpdateFunctionCode"), CI, VAULT, "");
    assert_eq!(out.code, FOUND, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("aws_iam_role.worker#run-by:aws_iam_role.ci"),
        "{}",
        out.stdout
    );
    let invoke_only = outside("lambda:InvokeFunction");
    assert_eq!(forbid_in(case, invoke_only, CI, VAULT, ""), NONE);
}
