//! The audit report as one self-contained HTML page: inline CSS and SVG, nothing
//! fetched, readable on screen and printed.

use std::fmt::Write;

use super::html::{MATRIX_CSS, escape, matrix_table};
use super::{pinned_route, state_words, time_left, waived_by};
use crate::evidence::Evidence;
use crate::model::Severity;
use crate::report::{Hop, InvariantResult, Status};

const STYLE: &str = "
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d232a; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2rem; }
.meta { color: #57606a; }
.verdict { font-size: 1.2rem; font-weight: 600; padding: 0.6rem 1rem; border-radius: 6px; display: inline-block; }
.verdict.fail { background: #ffebe9; color: #a40e26; }
.verdict.pass { background: #dafbe1; color: #116329; }
table.plain { border-collapse: collapse; margin: 0.5rem 0; }
table.plain th, table.plain td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
.invariant { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6rem 1rem; margin: 0.8rem 0; break-inside: avoid; }
.status { font-weight: 700; text-transform: uppercase; font-size: 0.8rem; padding: 1px 6px; border-radius: 4px; }
.status.fail { background: #cf222e; color: #fff; }
.status.pass { background: #1a7f37; color: #fff; }
.status.waived { background: #bf8700; color: #fff; }
code { font-size: 0.9em; }
svg text { font: 12px system-ui, sans-serif; }
@media print { .wrap { max-height: none !important; overflow: visible !important; } }
";

/// The witness as a chain of boxes joined by arrows labelled with each flow.
fn chain(witness: &[Hop]) -> String {
    let box_width = 150;
    let gap = 190;
    let width = box_width + gap * witness.len() + 20;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"105\" role=\"img\" aria-label=\"witness path\">"
    );
    let mut names: Vec<&str> = witness
        .first()
        .map(|hop| vec![hop.from.as_str()])
        .unwrap_or_default();
    names.extend(witness.iter().map(|hop| hop.to.as_str()));
    for (index, name) in names.iter().enumerate() {
        let x = 10 + index * (box_width + gap - box_width);
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"30\" width=\"{box_width}\" height=\"30\" rx=\"6\" fill=\"#f6f8fa\" stroke=\"#57606a\"/><text x=\"{}\" y=\"50\" text-anchor=\"middle\">{}</text>",
            x + box_width / 2,
            escape(name)
        );
    }
    for (index, hop) in witness.iter().enumerate() {
        let start = 10 + index * gap + box_width;
        let end = start + gap - box_width;
        let middle = (start + end) / 2;
        let _ = write!(
            out,
            "<g><title>{}</title><line x1=\"{start}\" y1=\"45\" x2=\"{}\" y2=\"45\" stroke=\"#cf222e\" stroke-width=\"2\"/><polygon points=\"{end},45 {},40 {},50\" fill=\"#cf222e\"/><text x=\"{middle}\" y=\"22\" text-anchor=\"middle\">{} ({})</text><text x=\"{middle}\" y=\"80\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>",
            escape(&super::hop_line(hop)),
            end - 6,
            end - 8,
            end - 8,
            escape(&hop.flow),
            escape(&hop.ports.join(" ")),
            escape(&hop.location)
        );
        if let Some(credential) = &hop.credential {
            let _ = write!(
                out,
                "<text x=\"{middle}\" y=\"97\" text-anchor=\"middle\" fill=\"#57606a\">using {}</text>",
                escape(credential)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

fn invariant(out: &mut String, result: &InvariantResult) {
    let _ = write!(
        out,
        "<div class=\"invariant\" id=\"{}\"><p><span class=\"status {}\">{}</span> <strong>{}</strong> · {} · {}</p>",
        escape(&result.name),
        result.status.as_str(),
        result.status.as_str(),
        escape(&result.name),
        result.severity.as_str(),
        escape(result.kind)
    );
    if let Some(description) = &result.description {
        let _ = write!(out, "<p>{}</p>", escape(description));
    }
    let _ = write!(out, "<p>{}</p>", escape(&result.message));
    if !result.references.is_empty() {
        let references: Vec<String> = result
            .references
            .iter()
            .map(|r| format!("<code>{}</code>", escape(r)))
            .collect();
        let _ = write!(
            out,
            "<p class=\"meta\">Controls: {}</p>",
            references.join(", ")
        );
    }
    // The story first: each credential's acquisition, as the attacker plays them.
    for acquisition in &result.acquisitions {
        let _ = write!(
            out,
            "<p class=\"meta\">{}{}</p>",
            escape(&super::acquisition_heading(acquisition)),
            if acquisition.path.is_empty() {
                "."
            } else {
                ":"
            }
        );
        if !acquisition.path.is_empty() {
            out.push_str(&chain(&acquisition.path));
        }
    }
    if !result.witness.is_empty() {
        if !result.acquisitions.is_empty() {
            out.push_str("<p class=\"meta\">Then:</p>");
        }
        out.push_str(&chain(&result.witness));
    }
    for waiver in &result.waivers {
        let _ = write!(
            out,
            "<p class=\"meta\">{} (<code>{}</code>)</p>",
            escape(&waived_by(waiver)),
            escape(&waiver.location)
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Defined at <code>{}</code></p></div>",
        escape(&result.location)
    );
}

pub fn report(evidence: &Evidence) -> String {
    let summary = evidence.check.summary();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}{MATRIX_CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p class=\"meta\">Network segmentation evidence produced by cordon {version} on {today}. Inputs digest (SHA-256): <code>{digest}</code></p>\n",
        title = escape(&evidence.title),
        version = env!("CARGO_PKG_VERSION"),
        today = evidence.today,
        digest = evidence.inputs_digest,
    );
    let (class, verdict) = if summary.failed > 0 {
        (
            "fail",
            format!(
                "{} of {} {}",
                summary.failed,
                summary.total,
                if summary.total == 1 {
                    "invariant fails"
                } else {
                    "invariants fail"
                }
            ),
        )
    } else if summary.total == 1 {
        ("pass", "The invariant holds".to_owned())
    } else {
        ("pass", format!("All {} invariants hold", summary.total))
    };
    let _ = write!(
        out,
        "<section id=\"summary\"><h2>Summary</h2><p class=\"verdict {class}\">{verdict}</p>"
    );
    out.push_str("<table class=\"plain\"><tr><th>severity</th><th>pass</th><th>fail</th><th>waived</th></tr>");
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let count = |status| {
            evidence
                .check
                .results
                .iter()
                .filter(|r| r.severity == severity && r.status == status)
                .count()
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            severity.as_str(),
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Waived)
        );
    }
    out.push_str("</table></section>\n<section id=\"invariants\"><h2>Invariants</h2>\n");
    // Failures first: they are what an auditor must see.
    for status in [Status::Fail, Status::Waived, Status::Pass] {
        for result in evidence.check.results.iter().filter(|r| r.status == status) {
            invariant(&mut out, result);
        }
    }
    out.push_str("</section>\n<section id=\"exceptions\"><h2>Exceptions</h2>\n");
    if evidence.check.exceptions.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<table class=\"plain\"><tr><th>invariant</th><th>owner</th><th>reason</th><th>pinned path</th><th>expires</th><th>state</th></tr>");
        for (name, note) in &evidence.check.exceptions {
            let route = if note.path.is_empty() {
                "any witness".to_owned()
            } else {
                format!("<code>{}</code>", escape(&pinned_route(note)))
            };
            let state = state_words(note);
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{route}</td><td>{} ({})</td><td>{}</td></tr>",
                escape(name),
                escape(&note.owner),
                escape(&note.reason),
                note.expires,
                time_left(note),
                escape(&state)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n<section id=\"matrix\"><h2>Who reaches whom, by account</h2>\n");
    out.push_str(&matrix_table(&evidence.matrix));
    let inventory = &evidence.inventory;
    let _ = write!(
        out,
        "</section>\n<section id=\"inventory\"><h2>Inventory</h2><table class=\"plain\"><tr><td>environments</td><td>{}</td></tr><tr><td>accounts</td><td>{}</td></tr><tr><td>segments</td><td>{}</td></tr><tr><td>assets</td><td>{}</td></tr><tr><td>flows</td><td>{}</td></tr><tr><td>credentials</td><td>{}</td></tr><tr><td>leaked</td><td>{}</td></tr><tr><td>revoked</td><td>{}</td></tr></table></section>\n",
        inventory.environments,
        inventory.accounts,
        inventory.segments,
        inventory.assets,
        inventory.flows,
        inventory.credentials,
        escape(&inventory.leaked.join(", ")),
        escape(&inventory.revoked.join(", "))
    );
    let coverage = &evidence.coverage;
    let _ = writeln!(
        out,
        "<section id=\"coverage\"><h2>Coverage</h2><p>Environments and accounts no invariant mentions: {}.</p><p>{} of {} ordered pairs of accounts are constrained by no invariant.</p></section>",
        if coverage.unmentioned.is_empty() {
            "none".to_owned()
        } else {
            escape(&coverage.unmentioned.join(", "))
        },
        coverage.unconstrained_pairs.len(),
        coverage.account_pairs
    );
    out.push_str("<section id=\"inputs\"><h2>Inputs</h2><table class=\"plain\"><tr><th>file</th><th>SHA-256</th></tr>");
    for input in &evidence.check.inputs {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&input.path),
            input.sha256
        );
    }
    out.push_str("</table><p>The inputs digest is the SHA-256 of these lines as <code>sha256sum</code> prints them (<code>DIGEST  FILE</code>, in this order): <code>sha256sum FILE... | sha256sum</code> gives it again, run where cordon ran, or in the bundle's <code>inputs/</code> folder, which holds a copy of each file under the same name (a name that starts at the root or climbs out with <code>..</code> loses those parts there).</p></section>\n</body>\n</html>\n");
    out
}
