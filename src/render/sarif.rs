//! SARIF 2.1.0, as GitHub code scanning reads it: one rule per invariant, one result per
//! failing (or waived) invariant, the witness as a code flow.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::load::hex_digest;
use crate::model::Severity;
use crate::report::{CheckReport, ExceptionNote, ExceptionState, Hop, InvariantResult, Status};

/// The rule of warnings about the policies. Invariant names hold no `/`, so no
/// invariant's rule can take this id, nor the next.
const POLICY_WARNING: &str = "cordon/policy-warning";
/// The rule of exceptions that waive nothing: expired, or unused.
const IDLE_EXCEPTION: &str = "cordon/idle-exception";

/// `error` where a failure fails the run (at or above `--fail-on`), so that code
/// scanning's check agrees with the exit code; below it, `warning`, or `note` for `low`.
fn level(severity: Severity, fail_on: Severity) -> &'static str {
    match severity {
        _ if severity >= fail_on => "error",
        Severity::Critical | Severity::High | Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's scale for `security-severity`: critical is 9.0 and above, high 7.0 to 8.9.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// What a path keeps as it is in a URI reference: RFC 3986's unreserved characters and
/// the `/` between segments. Everything else, a space, `#`, `%`, `:` or `?` among them,
/// is percent-encoded, so that `my pol#icies/flows.yaml` names that file and not a
/// fragment of another.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// A file's path as SARIF's `uri`, a URI reference relative to where cordon ran.
fn uri(file: &str) -> String {
    utf8_percent_encode(file, PATH).to_string()
}

fn location(file: &str, line: u32, message: Option<String>) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(file)},
            "region": {"startLine": line.max(1)}
        }
    });
    if let Some(text) = message {
        location["message"] = json!({"text": text});
    }
    location
}

/// One thread flow: the hops of a path, each at its flow's location.
fn thread_flow(message: &str, hops: &[Hop]) -> Value {
    let steps: Vec<Value> = hops
        .iter()
        .map(|hop| json!({"location": location(&hop.file, hop.line, Some(super::hop_line(hop)))}))
        .collect();
    json!({"message": {"text": message}, "locations": steps})
}

/// A rule's readable name, which SARIF wants distinct from its id: `internet-cannot-
/// reach-atlassian` becomes `InternetCannotReachAtlassian`.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(result: &InvariantResult, fail_on: Severity) -> Value {
    let description = result
        .description
        .clone()
        .unwrap_or_else(|| format!("{} invariant `{}`", result.kind, result.name));
    json!({
        "id": result.name,
        "name": rule_name(&result.name),
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {"text": format!("{description}. Defined at {}.", result.location)},
        "defaultConfiguration": {"level": level(result.severity, fail_on)},
        "properties": {
            "severity": result.severity.as_str(),
            "security-severity": security_severity(result.severity),
            "references": result.references,
            "tags": ["security", "network-segmentation"]
        }
    })
}

fn result(index: usize, result: &InvariantResult, fail_on: Severity) -> Value {
    // The primary location is the flow by which the path crosses into the protected
    // side: the last hop. A failing `require` has no path; it points at the invariant.
    let primary = match result.witness.last() {
        Some(hop) => location(&hop.file, hop.line, None),
        None => location(&result.file, result.line, None),
    };
    let flows: Vec<&str> = result.witness.iter().map(|hop| hop.flow.as_str()).collect();
    let fingerprint = hex_digest(format!("{}\u{0}{}", result.name, flows.join("\u{0}")).as_bytes());
    let mut value = json!({
        "ruleId": result.name,
        "ruleIndex": index,
        "level": level(result.severity, fail_on),
        "message": {"text": format!("{}: {}", result.name, result.message)},
        "locations": [primary],
        "relatedLocations": [{
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&result.file)},
                "region": {"startLine": result.line.max(1)}
            },
            "message": {"text": format!("invariant `{}` is defined here", result.name)}
        }],
        "partialFingerprints": {"cordonWitness/v1": fingerprint}
    });
    if !result.witness.is_empty() {
        // The story first, one thread flow per credential acquired, then the path. An
        // acquisition whose holder an earlier path reached has no hop of its own, and
        // SARIF wants at least one location per thread flow: it is left to the others.
        let mut threads: Vec<Value> = result
            .acquisitions
            .iter()
            .filter(|acquisition| !acquisition.path.is_empty())
            .map(|acquisition| {
                thread_flow(&super::acquisition_heading(acquisition), &acquisition.path)
            })
            .collect();
        threads.push(thread_flow(&result.message, &result.witness));
        value["codeFlows"] = json!([{"threadFlows": threads}]);
    }
    if !result.waivers.is_empty() {
        let suppressions: Vec<Value> = result
            .waivers
            .iter()
            .map(|waiver| {
                json!({
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!(
                        "{} (owner {}, expires {})",
                        waiver.reason, waiver.owner, waiver.expires
                    ),
                    "location": {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri(super::file_and_line(&waiver.location).0)},
                        }
                    }
                })
            })
            .collect();
        value["suppressions"] = json!(suppressions);
    }
    value
}

/// A rule for what is not an invariant's verdict, reported as a warning.
fn warning_rule(id: &str, description: &str) -> Value {
    json!({
        "id": id,
        "name": rule_name(id),
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["network-segmentation"]}
    })
}

/// A warning about the policies, at its file, line and column.
fn policy_warning(index: usize, warning: &Diagnostic) -> Value {
    let mut text = warning.problem.to_string();
    if let Some(help) = &warning.help {
        text.push_str(&format!(" (help: {help})"));
    }
    let mut region = json!({"startLine": warning.line.max(1)});
    if warning.column > 0 {
        region["startColumn"] = json!(warning.column);
    }
    json!({
        "ruleId": POLICY_WARNING,
        "ruleIndex": index,
        "level": "warning",
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&warning.file)},
            "region": region
        }}]
    })
}

/// An exception that waives nothing, at its own line; `None` for one in use.
fn idle_exception(index: usize, invariant: &str, note: &ExceptionNote) -> Option<Value> {
    let text = match note.state {
        ExceptionState::Expired => format!(
            "the exception for `{invariant}` owned by {} expired on {} and waives nothing",
            note.owner, note.expires
        ),
        ExceptionState::Unused(why) => format!(
            "the exception for `{invariant}` owned by {} waives nothing: {}",
            note.owner,
            why.reason()
        ),
        ExceptionState::Active => return None,
    };
    let (file, line) = super::file_and_line(&note.location);
    Some(json!({
        "ruleId": IDLE_EXCEPTION,
        "ruleIndex": index,
        "level": "warning",
        "message": {"text": text},
        "locations": [location(file, line, None)]
    }))
}

pub fn check(report: &CheckReport) -> String {
    let mut rules: Vec<Value> = report
        .results
        .iter()
        .map(|r| rule(r, report.fail_on))
        .collect();
    let mut results: Vec<Value> = report
        .results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status != Status::Pass)
        .map(|(index, r)| result(index, r, report.fail_on))
        .collect();
    // The rules of warnings follow the invariants', and appear only when used, so that
    // a run without warnings reads as it always has.
    if !report.warnings.is_empty() {
        let index = rules.len();
        rules.push(warning_rule(
            POLICY_WARNING,
            "Valid policy that is probably not what was meant",
        ));
        results.extend(report.warnings.iter().map(|w| policy_warning(index, w)));
    }
    let idle: Vec<Value> = (report.exceptions.iter())
        .filter_map(|(invariant, note)| idle_exception(rules.len(), invariant, note))
        .collect();
    if !idle.is_empty() {
        rules.push(warning_rule(
            IDLE_EXCEPTION,
            "An exception that waives nothing: expired, or unused",
        ));
        results.extend(idle);
    }
    let artifacts: Vec<Value> = report
        .inputs
        .iter()
        .map(|input| json!({"location": {"uri": uri(&input.path)}, "hashes": {"sha-256": input.sha256}}))
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cordon",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "artifacts": artifacts,
            "results": results
        }]
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
