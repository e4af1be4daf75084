//! The audit report as Markdown, for wikis and tickets.

use std::fmt::Write;

use super::markdown::cell;
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
            for (index, hop) in result.witness.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. `{}` → `{}` via `{}` ({})",
                    index + 1,
                    hop.from,
                    hop.to,
                    hop.flow,
                    hop.location
                );
            }
            if !result.witness.is_empty() {
                out.push('\n');
            }
        }
    }
    out.push_str("## Exceptions\n\n");
    if evidence.exceptions.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str(
            "| invariant | owner | reason | expires | days left |\n|---|---|---|---|---|\n",
        );
        for (name, note) in &evidence.exceptions {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                cell(name),
                cell(&note.owner),
                cell(&note.reason),
                note.expires,
                note.days_left
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
    out
}
