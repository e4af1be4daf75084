//! One attack story told in every format: a credential whose holder sits two hops away,
//! behind a flow that itself needs a credential held elsewhere.

use serde_json::json;

use crate::harness::Cordon;

/// The database opens with `db-key`, held on `vault`; `vault` opens with `vault-token`,
/// held on `build`, two hops from the attacker.
const ESTATE: &str = "
assets:
  - {name: attacker}
  - {name: jump}
  - {name: build}
  - {name: vault}
  - {name: db}
credentials:
  - {name: vault-token, held_by: build}
  - {name: db-key, held_by: vault}
flows:
  - {name: ssh-jump, from: attacker, to: jump, ports: [tcp/22], owner: netops, ticket: NET-7}
  - {name: jump-to-build, from: jump, to: build, ports: [tcp/443]}
  - {name: jump-to-vault, from: jump, to: vault, ports: [tcp/8200], auth: [vault-token]}
  - {name: db-access, from: attacker, to: db, ports: [tcp/5432, tcp/5433], auth: [db-key], owner: dba, ticket: DB-1}
invariants:
  - {name: attacker-cannot-reach-db, severity: critical, forbid: {from: attacker, to: db}}
";

fn check(format: &str) -> crate::harness::Output {
    let out = Cordon::new()
        .file("policies/estate.yaml", ESTATE)
        .args(["check", "--format", format, "--today", "2024-01-01"])
        .run();
    out.code(1);
    out
}

fn hop(
    from: &str,
    to: &str,
    flow: &str,
    line: u32,
    ports: &[&str],
    credential: Option<(&str, &str)>,
    owner_ticket: Option<(&str, &str)>,
) -> serde_json::Value {
    let mut hop = json!({
        "from": from,
        "to": to,
        "flow": flow,
        "credential": credential.map(|(name, _)| name),
        "location": format!("policies/estate.yaml:{line}"),
        "ports": ports,
        "owner": owner_ticket.map(|(owner, _)| owner),
        "ticket": owner_ticket.map(|(_, ticket)| ticket),
    });
    if let Some((_, holder)) = credential {
        hop["credential_from"] = json!(holder);
    }
    hop
}

#[test]
fn the_story_acquires_each_credential_before_it_is_used() {
    let result = &check("json").json()["results"][0];
    let ssh = hop(
        "attacker",
        "jump",
        "ssh-jump",
        12,
        &["tcp/22"],
        None,
        Some(("netops", "NET-7")),
    );
    assert_eq!(
        result["acquisitions"],
        json!([
            {
                "credential": "vault-token",
                "holder": "build",
                "path": [
                    ssh,
                    hop("jump", "build", "jump-to-build", 13, &["tcp/443"], None, None),
                ]
            },
            {
                "credential": "db-key",
                "holder": "vault",
                "path": [
                    hop(
                        "jump",
                        "vault",
                        "jump-to-vault",
                        14,
                        &["tcp/8200"],
                        Some(("vault-token", "build")),
                        None
                    ),
                ]
            }
        ])
    );
    assert_eq!(
        result["witness"],
        json!([hop(
            "attacker",
            "db",
            "db-access",
            15,
            &["tcp/5432", "tcp/5433"],
            Some(("db-key", "vault")),
            Some(("dba", "DB-1"))
        )])
    );
}

#[test]
fn nothing_to_acquire_is_an_empty_list() {
    let out = Cordon::new()
        .file(
            "policies/estate.yaml",
            ESTATE.replace("held_by: vault", "leaked: true"),
        )
        .args(["check", "--format", "json"])
        .run();
    out.code(1);
    let result = &out.json()["results"][0];
    assert_eq!(result["acquisitions"], json!([]));
    assert_eq!(result["witness"][0]["credential_from"], json!(null));
}

#[test]
fn the_story_in_every_format() {
    for format in ["text", "sarif", "junit", "github"] {
        insta::assert_snapshot!(format!("story-{format}"), check(format).stdout);
    }
}

#[test]
fn path_and_diff_tell_the_same_story() {
    let out = Cordon::new()
        .file("policies/estate.yaml", ESTATE)
        .args([
            "path", "--from", "attacker", "--to", "db", "--all", "2", "--format", "json",
        ])
        .run();
    out.code(0);
    let path = out.json();
    let check = check("json").json();
    assert_eq!(path["paths"][0], check["results"][0]["witness"]);
    assert_eq!(path["acquisitions"][0], check["results"][0]["acquisitions"]);

    let base: String = ESTATE
        .lines()
        .filter(|line| !line.contains("db-access"))
        .map(|line| format!("{line}\n"))
        .collect();
    let out = Cordon::new()
        .file("base/estate.yaml", base)
        .file("head/estate.yaml", ESTATE)
        .args(["diff", "base", "head", "--format", "json"])
        .run();
    let diff = out.json();
    let regression = &diff["invariants"][0];
    assert_eq!(regression["change"], "regression");
    let story: Vec<&str> = regression["acquisitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["credential"].as_str().unwrap())
        .collect();
    assert_eq!(story, ["vault-token", "db-key"]);
}

#[test]
fn the_evidence_report_draws_the_acquisitions_before_the_witness() {
    let run = Cordon::new().file("policies/estate.yaml", ESTATE).args([
        "evidence",
        "--out",
        "out",
        "--today",
        "2024-01-01",
    ]);
    run.run().code(1);
    let read = |name: &str| std::fs::read_to_string(run.dir().join("out").join(name)).unwrap();
    let markdown = read("report.md");
    let order = [
        "to obtain vault-token on build:",
        "to obtain db-key on vault:",
        "Then:",
        "1. `attacker` → `db` via `db-access`",
    ];
    let places: Vec<usize> = order
        .iter()
        .map(|text| {
            markdown
                .find(text)
                .unwrap_or_else(|| panic!("{text}\n{markdown}"))
        })
        .collect();
    assert!(places.is_sorted(), "{places:?}\n{markdown}");
    let html = read("report.html");
    let chains = html.matches("<svg").count();
    assert_eq!(chains, 3, "two acquisitions and the witness, each drawn");
    assert!(html.find("to obtain db-key on vault") < html.find("Then:"));
}

#[test]
fn matrix_tooltips_name_the_credentials_and_their_story() {
    let estate = ESTATE
        .replace(
            "assets:\n",
            "accounts:\n  - {name: corp}\n  - {name: data}\nassets:\n",
        )
        .replace("{name: attacker}", "{name: attacker, in: corp}")
        .replace("{name: db}", "{name: db, in: data}");
    let out = Cordon::new()
        .file("policies/estate.yaml", estate)
        .args(["matrix", "--level", "account", "--format", "html"])
        .run();
    out.code(0);
    // The row of `corp`: its cells' tooltips run over several lines.
    let row = out
        .stdout
        .split("<th scope=\"row\">corp</th>")
        .nth(1)
        .unwrap();
    let cell = row.split("</tr>").next().unwrap();
    assert!(
        cell.contains("to obtain vault-token on build:")
            && cell.contains("using credential db-key (obtained on vault)"),
        "{}",
        out.stdout
    );
}
