//! Markdown: tables for wikis, tickets and pull-request comments.

use std::fmt::Write;

use crate::report::{Acquisition, Change, DiffReport, Hop, MatrixReport};

/// Text for a table cell: pipes would end the cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The matrix as a table, `internet` first; a cell is the fewest flows, or empty.
pub fn matrix(report: &MatrixReport) -> String {
    let report = &report.with_internet();
    let count = report.entities.len();
    let mut grid = vec![vec![String::new(); count]; count];
    for (index, row) in grid.iter_mut().enumerate() {
        row[index] = "—".to_owned();
    }
    for cell in &report.cells {
        grid[cell.from][cell.to] = cell.hops.to_string();
    }
    let mut out = format!(
        "| from \\ to | {} |\n",
        report
            .entities
            .iter()
            .map(|e| cell(e))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|{}", "---|".repeat(count));
    for (entity, row) in report.entities.iter().zip(grid) {
        let _ = writeln!(out, "| **{}** | {} |", cell(entity), row.join(" | "));
    }
    out
}

/// A witness with its story: how each credential is obtained, then the path.
pub fn story(acquisitions: &[Acquisition], witness: &[Hop]) -> String {
    let mut out = String::new();
    for acquisition in acquisitions {
        let _ = writeln!(
            out,
            "{}{}\n",
            cell(&super::acquisition_heading(acquisition)),
            if acquisition.path.is_empty() {
                "."
            } else {
                ":"
            }
        );
        if !acquisition.path.is_empty() {
            hops(&mut out, &acquisition.path);
            out.push('\n');
        }
    }
    if !acquisitions.is_empty() && !witness.is_empty() {
        out.push_str("Then:\n\n");
    }
    hops(&mut out, witness);
    out
}

/// Hops as a numbered list, each with its flow's ports, owner and ticket, and the
/// credential it uses with where it was obtained.
fn hops(out: &mut String, hops: &[Hop]) {
    for (index, hop) in hops.iter().enumerate() {
        let credential = super::credential_note(hop)
            .map(|note| format!(" using {}", cell(&note)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}. `{}` → `{}` via `{}` ({}; {}){credential}",
            index + 1,
            cell(&hop.from),
            cell(&hop.to),
            cell(&hop.flow),
            cell(&super::flow_note(hop)),
            cell(&hop.location)
        );
    }
}

/// A pull-request comment: the verdict first, the worst news next, paths folded.
pub fn diff(report: &DiffReport) -> String {
    let regressions = report.regressions();
    let gate = report.gate_changes();
    let mut out = String::from("### cordon: segmentation diff\n\n");
    if regressions > 0 {
        let _ = writeln!(
            out,
            "❌ **{regressions} invariant{} newly failing or failing wider**, {} newly reachable {} pair{}.\n",
            if regressions == 1 { "" } else { "s" },
            report.opened.len(),
            report.level,
            if report.opened.len() == 1 { "" } else { "s" }
        );
        if gate.total() > 0 {
            let _ = writeln!(
                out,
                "❌ **The change also loosens the gate**: {}.\n",
                super::gate_words(&gate).join(", ")
            );
        }
    } else if gate.total() > 0 {
        let _ = writeln!(
            out,
            "❌ **The change loosens the gate**: {}; no invariant newly fails, {} newly reachable {} pair{}.\n",
            super::gate_words(&gate).join(", "),
            report.opened.len(),
            report.level,
            if report.opened.len() == 1 { "" } else { "s" }
        );
    } else if report.denied_pairs() > 0 {
        let _ = writeln!(
            out,
            "❌ **New paths denied**: no invariant newly fails, but {} {} pair{} newly reach{} and `--deny-new-paths` fails on any.\n",
            report.opened.len(),
            report.level,
            if report.opened.len() == 1 { "" } else { "s" },
            if report.opened.len() == 1 { "es" } else { "" }
        );
    } else {
        let _ = writeln!(
            out,
            "✅ No invariant newly fails; {} newly reachable {} pair{}, {} closed.\n",
            report.opened.len(),
            report.level,
            if report.opened.len() == 1 { "" } else { "s" },
            report.closed.len()
        );
    }
    if !report.verdicts.is_empty() {
        out.push_str("| change | invariant | severity | before | after |\n|---|---|---|---|---|\n");
        for change in &report.verdicts {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                change.kind,
                cell(&change.invariant),
                change.severity.as_str(),
                change.before.unwrap_or("new"),
                change.after
            );
        }
        out.push('\n');
        for change in report
            .verdicts
            .iter()
            .filter(|c| c.regresses() || c.newly_waived())
        {
            let wider = if change.wider.is_empty() {
                String::new()
            } else {
                let leaves: Vec<String> = change
                    .wider
                    .iter()
                    .map(|leaf| format!("<code>{}</code>", super::html::escape(leaf)))
                    .collect();
                format!("; now also reaches {}", leaves.join(", "))
            };
            let waivers: String = change
                .waivers
                .iter()
                .map(|waiver| {
                    format!(
                        "\nThe witness is {} ({}).\n",
                        cell(&super::waived_by(waiver)),
                        cell(&waiver.location)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code>: {}{wider}</summary>\n\n{}{waivers}\n</details>\n",
                super::html::escape(&change.invariant),
                super::html::escape(&change.message),
                story(&change.acquisitions, &change.witness)
            );
        }
    }
    if !report.opened.is_empty() {
        let _ = writeln!(out, "**Newly reachable {}s**\n", report.level);
        for pair in &report.opened {
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code> → <code>{}</code> in {} hop{}</summary>\n\n{}\n</details>\n",
                super::html::escape(&pair.from),
                super::html::escape(&pair.to),
                pair.hops,
                if pair.hops == 1 { "" } else { "s" },
                story(&pair.acquisitions, &pair.witness)
            );
        }
    }
    if !report.closed.is_empty() {
        let _ = writeln!(out, "**No longer reachable {}s**\n", report.level);
        for pair in &report.closed {
            let _ = writeln!(out, "- `{}` → `{}`", cell(&pair.from), cell(&pair.to));
        }
        out.push('\n');
    }
    // Changes to the gate itself in plain sight; the rest of the model folded.
    let (gate_changes, model_changes): (Vec<_>, Vec<_>) = report
        .changes
        .iter()
        .partition(|c| matches!(c.what, "invariant" | "exception"));
    if !gate_changes.is_empty() {
        out.push_str("**Changed invariants and exceptions**\n\n");
        change_table(&mut out, &gate_changes, true);
        out.push('\n');
    }
    if !model_changes.is_empty() {
        out.push_str("<details><summary>Changed flows, credentials and entities</summary>\n\n");
        change_table(&mut out, &model_changes, false);
        out.push_str("\n</details>\n");
    }
    out
}

/// A table of changes, one row each; with `words`, a column for what changed.
fn change_table(out: &mut String, changes: &[&Change], words: bool) {
    let (heading, rule) = if words {
        ("| what changed ", "---|")
    } else {
        ("", "")
    };
    let _ = writeln!(
        out,
        "| change | what | name {heading}| where |\n|---|---|---|{rule}---|"
    );
    for change in changes {
        let words = if words {
            format!(
                " {} |",
                cell(&super::what_changed(change).unwrap_or_default())
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | {} | `{}` |{words} {} |",
            change.kind.as_str(),
            change.what,
            cell(&change.key),
            cell(&change.location)
        );
    }
}
