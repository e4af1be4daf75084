//! GitHub Actions workflow commands: an `::error` annotation on the flow to blame for
//! each failure that fails the run, a `::warning` for each failure below `--fail-on`
//! (reported, not blocking), for each expired or unused exception, and for each warning
//! about the policies.

use std::fmt::Write;

use crate::report::{CheckReport, ExceptionNote, ExceptionState, Status};

/// Escapes a command's message, as the runner decodes it.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value, which also may not hold `:` or `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A `::warning` on an exception's own line.
fn warning(out: &mut String, note: &ExceptionNote, title: &str, message: &str) {
    let (file, line) = super::file_and_line(&note.location);
    let _ = writeln!(
        out,
        "::warning file={},line={line},title={}::{}",
        property(file),
        property(title),
        data(message)
    );
}

pub fn check(report: &CheckReport) -> String {
    let mut out = String::new();
    for result in &report.results {
        if result.status == Status::Fail {
            // The flow by which the path enters the protected side; without a path (a
            // failing `require`), the invariant itself.
            let (file, line) = result
                .witness
                .last()
                .map_or((result.file.as_str(), result.line), |hop| {
                    (hop.file.as_str(), hop.line)
                });
            let mut lines = vec![result.message.clone()];
            lines.extend(super::story_lines(&result.acquisitions, &result.witness));
            let message = lines.join("\n");
            // An `::error` where the run fails, so that the annotation says what the exit
            // code does.
            let command = if report.blocks(result) {
                "error"
            } else {
                "warning"
            };
            let _ = writeln!(
                out,
                "::{command} file={},line={},title={}::{}",
                property(file),
                line.max(1),
                property(&format!(
                    "cordon: {} ({})",
                    result.name,
                    result.severity.as_str()
                )),
                data(&message)
            );
        }
        for expired in &result.expired {
            let message = format!(
                "the exception owned by {} expired on {} and waives nothing: {}",
                expired.owner, expired.expires, expired.reason
            );
            let title = format!("cordon: expired exception for {}", result.name);
            warning(&mut out, expired, &title, &message);
        }
        for unused in &result.unused {
            let why = match unused.state {
                ExceptionState::Unused(why) => why.reason(),
                _ => "",
            };
            let message = format!(
                "the exception owned by {} waives nothing: {why}",
                unused.owner
            );
            let title = format!("cordon: unused exception for {}", result.name);
            warning(&mut out, unused, &title, &message);
        }
    }
    for warning in &report.warnings {
        let mut message = warning.problem.to_string();
        if let Some(help) = &warning.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let column = if warning.column > 0 {
            format!(",col={}", warning.column)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "::warning file={},line={}{column},title={}::{}",
            property(&warning.file),
            warning.line.max(1),
            property("cordon: policy warning"),
            data(&message)
        );
    }
    let summary = report.summary();
    let _ = writeln!(
        out,
        "{}: {} passed, {}, {} waived",
        super::count(summary.total as i64, "invariant", "invariants"),
        summary.passed,
        super::failed_count(report),
        summary.waived
    );
    out
}
