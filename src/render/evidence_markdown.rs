//! The audit report as Markdown, for wikis and tickets.

use std::fmt::Write;

use super::markdown::cell;
use super::{pinned_route, state_words, time_left, waived_by};
use crate::evidence::Evidence;
use crate::report::Status;

pub fn report(evidence: &Evidence) -> String {
    let summary = evidence.check.summary();
    let mut out = format!("# {}\n\n", evidence.title);
    let _ = writeln!(
        out,
        "Produced by cordon {} on {}. Inputs digest (SHA-256): `{}`.\n",
        env!("CARGO_PKG_VERSION"),
        evidence.today,
        evidence.inputs_digest
    );
    let _ = writeln!(
        out,
        "**{}**: {}, {} passed, {} failed, {} waived.\n",
        if summary.failed > 0 {
            "Failing"
        } else {
            "Holding"
        },
        super::count(summary.total as i64, "invariant", "invariants"),
        summary.passed,
        summary.failed,
        summary.waived
    );
    out.push_str("## Invariants\n\n");
    for status in [Status::Fail, Status::Waived, Status::Pass] {
        for result in evidence.check.results.iter().filter(|r| r.status == status) {
            let _ = writeln!(
                out,
                "### {} `{}` ({}, {})\n",
                result.status.as_str().to_uppercase(),
                cell(&result.name),
                result.severity.as_str(),
                result.kind
            );
            if let Some(description) = &result.description {
                let _ = writeln!(out, "{description}\n");
            }
            let _ = writeln!(out, "{}\n", result.message);
            if !result.references.is_empty() {
                let _ = writeln!(out, "Controls: {}\n", result.references.join(", "));
            }
            // The acquisition paths before the main one, as the attacker plays them.
            out.push_str(&super::markdown::story(
                &result.acquisitions,
                &result.witness,
            ));
            if !result.witness.is_empty() {
                out.push('\n');
            }
            for waiver in &result.waivers {
                let _ = writeln!(out, "{} ({})\n", waived_by(waiver), waiver.location);
            }
        }
    }
    out.push_str("## Exceptions\n\n");
    if evidence.check.exceptions.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str(
            "| invariant | owner | reason | pinned path | expires | state |\n|---|---|---|---|---|---|\n",
        );
        for (name, note) in &evidence.check.exceptions {
            let route = if note.path.is_empty() {
                "any witness".to_owned()
            } else {
                format!("`{}`", cell(&pinned_route(note)))
            };
            let state = state_words(note);
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {route} | {} ({}) | {state} |",
                cell(name),
                cell(&note.owner),
                cell(&note.reason),
                note.expires,
                time_left(note)
            );
        }
        out.push('\n');
    }
    out.push_str("## Who reaches whom, by account\n\n");
    out.push_str(&super::markdown::matrix(&evidence.matrix));
    let inventory = &evidence.inventory;
    let _ = writeln!(
        out,
        "\n## Inventory\n\n| | |\n|---|---|\n| environments | {} |\n| accounts | {} |\n| segments | {} |\n| assets | {} |\n| flows | {} |\n| credentials | {} |\n| leaked | {} |\n| revoked | {} |\n",
        inventory.environments,
        inventory.accounts,
        inventory.segments,
        inventory.assets,
        inventory.flows,
        inventory.credentials,
        inventory.leaked.join(", "),
        inventory.revoked.join(", ")
    );
    let coverage = &evidence.coverage;
    let _ = writeln!(
        out,
        "## Coverage\n\nEnvironments and accounts no invariant mentions: {}.\n\n{} of {} ordered pairs of accounts are constrained by no invariant.",
        if coverage.unmentioned.is_empty() {
            "none".to_owned()
        } else {
            coverage.unmentioned.join(", ")
        },
        coverage.unconstrained_pairs.len(),
        coverage.account_pairs
    );
    out.push_str("\n## Inputs\n\n| file | SHA-256 |\n|---|---|\n");
    for input in &evidence.check.inputs {
        let _ = writeln!(out, "| `{}` | `{}` |", cell(&input.path), input.sha256);
    }
    out.push_str(INPUTS_DIGEST);
    out
}

/// How to compute the inputs digest again, for an auditor who holds the files.
const INPUTS_DIGEST: &str = "\nThe inputs digest is the SHA-256 of these lines as `sha256sum` prints them (`DIGEST  FILE`, in this order): `sha256sum FILE... | sha256sum` gives it again, run where cordon ran, or in the bundle's `inputs/` folder, which holds a copy of each file under the same name (a name that starts at the root or climbs out with `..` loses those parts there).\n";
