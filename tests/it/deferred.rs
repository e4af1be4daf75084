//! Files of flows alone, which are parsed after the entities and resolved as they are
//! parsed: results, problems and warnings as they were when every file was parsed first.
//! Every expected output here was taken from cordon before it deferred such files.

use crate::harness::Cordon;

/// Runs `check .` on `files` and compares everything the user sees.
#[track_caller]
fn check(files: &[(&str, &str)], code: i32, stdout: &str, stderr: &str) {
    let mut cordon = Cordon::new();
    for (path, text) in files {
        cordon = cordon.file(path, text);
    }
    let out = cordon
        .args(["check", ".", "--today", "2026-01-01", "--color", "never"])
        .run();
    assert_eq!(out.stderr, stderr);
    assert_eq!(out.stdout, stdout);
    assert_eq!(out.code, code);
}

/// A file of flows alone sorts before the file that declares what its flows name.
#[test]
fn flows_first_in_file_order_name_entities_of_a_later_file() {
    check(
        &[
            (
                "a-flows.yaml",
                "version: 1\nflows:\n  - {name: web-to-db, from: web, to: db, ports: [tcp/5432]}\n  - {from: internet, to: web, ports: [tcp/443]}\n",
            ),
            (
                "b-estate.yaml",
                "accounts:\n  - {name: prod, cidrs: [10.0.0.0/16]}\nassets:\n  - {name: web, in: prod, cidrs: [10.0.1.10]}\n  - {name: db, in: prod, cidrs: [10.0.2.10]}\ninvariants:\n  - name: internet-cannot-reach-db\n    forbid: {from: internet, to: db}\n",
            ),
        ],
        1,
        "FAIL   internet-cannot-reach-db  high      internet reaches db in 2 hops\n         1. internet -> web  via a-flows.yaml:4 (tcp/443)  a-flows.yaml:4\n         2. web -> db  via web-to-db (tcp/5432)  a-flows.yaml:3\n\nfailed: 1 invariant, 0 passed, 1 failed, 0 waived\n",
        "",
    );
}

/// Unknown names, bad ports and duplicate flow names in a file of flows alone, beside an unknown parent, a duplicate entity and a flow name taken twice across files.
#[test]
fn problems_in_files_of_flows_and_of_entities_are_reported_together() {
    check(
        &[
            (
                "a-flows.yaml",
                "flows:\n  - {name: f1, from: web, to: dbb, ports: [tcp/5432]}\n  - {name: f2, from: web, to: db, ports: [tcp/99999]}\n  - {name: f1, from: db, to: web}\n",
            ),
            (
                "b-estate.yaml",
                "assets:\n  - {name: web, in: prod}\n  - {name: db}\n  - {name: web}\nflows:\n  - {name: f2, from: db, to: nowhere}\n",
            ),
        ],
        2,
        "",
        "a-flows.yaml:2:31: error: unknown entity `dbb`\n  help: did you mean `db`?\na-flows.yaml:3:43: error: invalid port `tcp/99999`\n  help: ports run from 0 to 65535\na-flows.yaml:4:12: error: duplicate flow name `f1`, first defined at a-flows.yaml:2:12\n  help: names must be unique: rename one of them\nb-estate.yaml:2:21: error: unknown entity `prod`\nb-estate.yaml:4:12: error: duplicate entity name `web`, first defined at b-estate.yaml:2:12\n  help: names must be unique: rename one of them\nb-estate.yaml:6:12: error: duplicate flow name `f2`, first defined at a-flows.yaml:3:12\n  help: names must be unique: rename one of them\nb-estate.yaml:6:30: error: unknown entity `nowhere`\ncordon: 7 problems in the policies; nothing was checked\n",
    );
}

/// As before: when a file does not parse, nothing is resolved, so the unknown parent in the other file is not reported.
#[test]
fn a_parse_error_in_a_file_of_flows_is_all_that_is_reported() {
    check(
        &[
            (
                "a-flows.yaml",
                "flows:\n  - {name: f1, from: web, to: db\n  - {name: f2, from: web, to: db}\n",
            ),
            (
                "b-estate.yaml",
                "assets:\n  - {name: web, in: nowhere}\n  - {name: db}\n",
            ),
        ],
        2,
        "",
        "a-flows.yaml:2:5: error: unclosed bracket '{'\ncordon: 1 problem in the policies; nothing was checked\n",
    );
}

/// As before: a problem in the entities does not stop the flows from being resolved and their problems reported.
#[test]
fn flow_problems_are_reported_beside_entity_problems() {
    check(
        &[
            (
                "a-estate.yaml",
                "assets:\n  - {name: web, cidrs: [10.0.0.300]}\n  - {name: db}\ncredentials:\n  - {name: key, held_by: web}\n",
            ),
            (
                "b-flows.yaml",
                "flows:\n  - {from: web, to: db, auth: [kye]}\n  - {from: ghost, to: db}\n",
            ),
        ],
        2,
        "",
        "a-estate.yaml:2:25: error: invalid address or prefix `10.0.0.300`\n  help: use an address such as `10.0.0.1` or a prefix such as `10.0.0.0/16`\nb-flows.yaml:2:32: error: unknown credential `kye`\n  help: did you mean `key`?\nb-flows.yaml:3:12: error: unknown entity `ghost`\ncordon: 3 problems in the policies; nothing was checked\n",
    );
}

/// A JSON file of flows alone with a bad version, a duplicate name, an unknown entity and a bad port: each at its line and column.
#[test]
fn problems_in_a_json_file_of_flows_point_at_lines() {
    check(
        &[
            (
                "a.json",
                "{\"assets\": [{\"name\": \"web\"}, {\"name\": \"db\"}]}\n",
            ),
            (
                "b-flows.json",
                "{\n  \"version\": \"2\",\n  \"flows\": [\n    {\"name\": \"x\", \"from\": \"web\", \"to\": \"db\"},\n    {\"name\": \"x\", \"from\": \"webb\", \"to\": \"db\", \"ports\": [\"tcp/70000\"]}\n  ]\n}\n",
            ),
        ],
        2,
        "",
        "b-flows.json:2:14: error: unsupported version `2`\n  help: use `version: 1`\nb-flows.json:5:14: error: duplicate flow name `x`, first defined at b-flows.json:4:14\n  help: names must be unique: rename one of them\nb-flows.json:5:27: error: unknown entity `webb`\n  help: did you mean `web`?\nb-flows.json:5:57: error: invalid port `tcp/70000`\n  help: ports run from 0 to 65535\ncordon: 4 problems in the policies; nothing was checked\n",
    );
}

/// Warnings in YAML and JSON files of flows alone, and one about an entity, in one sorted list.
#[test]
fn warnings_in_files_of_flows_yaml_and_json() {
    check(
        &[
            (
                "a.yaml",
                "assets:\n  - {name: web}\n  - {name: db}\n  - {name: unused}\n  - {name: other}\ninvariants:\n  - name: web-not-other\n    forbid: {from: web, to: other}\n",
            ),
            (
                "b-flows.yaml",
                "flows:\n  - {from: web, to: db, ports: [tcp/0]}\n  - {from: db, to: web, ports: []}\n",
            ),
            (
                "c-flows.json",
                "{\n  \"version\": \"1\",\n  \"flows\": [\n    {\"from\": \"web\", \"to\": \"db\", \"ports\": [\"udp/0\"]},\n    {\"from\": \"db\", \"to\": \"web\", \"ports\": []}\n  ]\n}\n",
            ),
        ],
        0,
        "pass   web-not-other  high      no path from `web` to `other`\n\nok: 1 invariant, 1 passed, 0 failed, 0 waived\n",
        "a.yaml:4:12: warning: asset `unused` is not mentioned by any flow, credential or invariant\n  help: remove it, or add the flow, credential or invariant it is there for\nb-flows.yaml:2:33: warning: port `tcp/0` includes port 0, which no service listens on\n  help: services listen on ports 1 to 65535: did you mean another port?\nb-flows.yaml:3:32: warning: `ports: []` allows no port, so this flow opens nothing\n  help: leave `ports` out to allow every port, or list the ports it allows\nc-flows.json:4:43: warning: port `udp/0` includes port 0, which no service listens on\n  help: services listen on ports 1 to 65535: did you mean another port?\nc-flows.json:5:42: warning: `ports: []` allows no port, so this flow opens nothing\n  help: leave `ports` out to allow every port, or list the ports it allows\n",
    );
}

/// An exception's route follows flows from a file that is resolved after the exception's own.
#[test]
fn an_exception_pins_flows_of_a_file_of_flows() {
    check(
        &[
            (
                "a-flows.yaml",
                "flows:\n  - {name: in, from: internet, to: web, ports: [tcp/443]}\n  - {name: hop, from: web, to: db}\n",
            ),
            (
                "b.yaml",
                "assets:\n  - {name: web}\n  - {name: db}\ninvariants:\n  - name: no-db\n    forbid: {from: internet, to: db}\nexceptions:\n  - invariant: no-db\n    reason: migration\n    owner: alice\n    expires: 2030-01-01\n    path: [internet, web, db]\n",
            ),
        ],
        0,
        "waived no-db  high      internet reaches db in 2 hops\n         1. internet -> web  via in (tcp/443)  a-flows.yaml:2\n         2. web -> db  via hop (any)  a-flows.yaml:3\n         waived by alice's exception on route internet -> web -> db until 2030-01-01 (1461 days left): migration  b.yaml:8\n\nok: 1 invariant, 0 passed, 0 failed, 1 waived\n",
        "",
    );
}
