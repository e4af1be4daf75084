//! GitHub Actions workflow commands: an `::error` annotation on the flow to blame for
//! each failing invariant, and a `::warning` for each expired exception.

use std::fmt::Write;

use crate::report::{CheckReport, Status};

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
            let path: Vec<String> = result
                .witness
                .iter()
                .map(|hop| format!("{} -> {} via {}", hop.from, hop.to, hop.flow))
                .collect();
            let message = if path.is_empty() {
                result.message.clone()
            } else {
                format!("{}\n{}", result.message, path.join("\n"))
            };
            let _ = writeln!(
                out,
                "::error file={},line={},title={}::{}",
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
            let (file, line) = expired
                .location
                .rsplit_once(':')
                .map_or((expired.location.as_str(), "1"), |(file, line)| {
                    (file, line)
                });
            let _ = writeln!(
                out,
                "::warning file={},line={},title={}::{}",
                property(file),
                property(line),
                property(&format!("cordon: expired exception for {}", result.name)),
                data(&format!(
                    "the exception owned by {} expired on {} and waives nothing: {}",
                    expired.owner, expired.expires, expired.reason
                ))
            );
        }
    }
    let summary = report.summary();
    let _ = writeln!(
        out,
        "{}: {} passed, {} failed, {} waived",
        super::count(summary.total as i64, "invariant", "invariants"),
        summary.passed,
        summary.failed,
        summary.waived
    );
    out
}
