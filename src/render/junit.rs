//! JUnit XML: one test suite, one test case per invariant; a failure holds the witness,
//! a waived invariant is skipped, and so is a failure below `--fail-on`, its witness in
//! `<system-out>`.

use std::fmt::Write;

use crate::report::{CheckReport, Status};

/// Text safe in XML: HTML's escapes, and no control character that XML 1.0 cannot
/// carry at all.
fn escape(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') {
                '?'
            } else {
                c
            }
        })
        .collect();
    super::html::escape(&printable)
}

pub fn check(report: &CheckReport) -> String {
    let summary = report.summary();
    let failures = report.blocking();
    let skipped = summary.waived + report.below_threshold();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cordon\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        summary.total, failures, skipped
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"cordon\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        summary.total, failures, skipped
    );
    for result in &report.results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"cordon.{}\" file=\"{}\" line=\"{}\"",
            escape(&result.name),
            result.kind,
            escape(&result.file),
            result.line
        );
        match result.status {
            Status::Pass => out.push_str("/>\n"),
            Status::Fail => {
                let mut body = String::new();
                for line in super::story_lines(&result.acquisitions, &result.witness) {
                    body.push_str(&line);
                    body.push('\n');
                }
                if !report.blocks(result) {
                    // Jenkins turns a build unstable, and GitLab lists a test as failed,
                    // for any `<failure>`, whatever the exit code; a failure that does
                    // not fail the run is therefore `<skipped>`, which both show as not
                    // blocking, with its witness kept in `<system-out>`.
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n      <system-out>{}</system-out>\n    </testcase>\n",
                        escape(&format!(
                            "below --fail-on {}: {}",
                            report.fail_on.as_str(),
                            result.message
                        )),
                        escape(&body)
                    );
                    continue;
                }
                let _ = write!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(&result.message),
                    result.severity.as_str(),
                    escape(&body)
                );
            }
            Status::Waived => {
                let reasons: Vec<String> = result
                    .waivers
                    .iter()
                    .map(|waiver| {
                        format!(
                            "waived: {} (owner {}, expires {})",
                            waiver.reason, waiver.owner, waiver.expires
                        )
                    })
                    .collect();
                let reason = reasons.join("; ");
                let _ = write!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&reason)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
