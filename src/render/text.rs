//! Human-readable output: one line per invariant, the witness hop by hop under a failure,
//! and a summary line last; for the other commands, their answer as lines to read, and
//! for `graph` an indented tree of entities, then the edges. Styles are stripped by the
//! output stream when colour is off.

use std::fmt::Write;

use anstyle::Style;

use super::nesting::{self, Step};
use super::{pinned_route, style, time_left, waived_by};
use crate::report::{
    Acquisition, CheckReport, ConnectionsReport, DiffReport, Direction, ExceptionNote,
    ExceptionState, Hop, MatrixReport, PathReport, Picture, ReachReport, Status,
};

fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

pub fn check(report: &CheckReport) -> String {
    let mut out = String::new();
    let width = report
        .results
        .iter()
        .map(|result| result.name.chars().count())
        .max()
        .unwrap_or(0);
    for result in &report.results {
        let (label, label_style) = match result.status {
            Status::Pass => ("pass  ", style::PASS),
            Status::Fail => ("FAIL  ", style::FAIL),
            Status::Waived => ("waived", style::WAIVED),
        };
        let _ = writeln!(
            out,
            "{} {:<width$}  {}  {}",
            paint(label_style, label),
            result.name,
            paint(style::DIM, &format!("{:<8}", result.severity.as_str())),
            result.message,
        );
        if result.status != Status::Pass {
            story(&mut out, &result.acquisitions, &result.witness);
        }
        waivers(&mut out, &result.waivers);
        for expired in &result.expired {
            let _ = writeln!(
                out,
                "         {} {}'s exception {} ({}) and waives nothing: {}  {}",
                paint(style::WAIVED, "expired:"),
                expired.owner,
                time_left(expired),
                expired.expires,
                expired.reason,
                paint(style::DIM, &expired.location)
            );
        }
    }
    let summary = report.summary();
    // The headline follows the exit code: failures below `--fail-on` do not fail the run.
    let verdict = if report.blocking() > 0 {
        paint(style::FAIL, "failed")
    } else if summary.failed > 0 {
        paint(style::PASS, "passed")
    } else {
        paint(style::PASS, "ok")
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {}, {} passed, {}, {} waived",
        super::count(summary.total as i64, "invariant", "invariants"),
        summary.passed,
        super::failed_count(report),
        summary.waived
    );
    out
}

/// The exceptions that waive a verdict, one line each under its witness.
fn waivers(out: &mut String, waivers: &[ExceptionNote]) {
    for waiver in waivers {
        let _ = writeln!(
            out,
            "         {}  {}",
            waived_by(waiver),
            paint(style::DIM, &waiver.location)
        );
    }
}

/// Every exception with its invariant, owner, expiry, time left and state; the route
/// it pins, and why it waives nothing when it does not.
pub fn exceptions(exceptions: &[(String, ExceptionNote)]) -> String {
    let mut out = String::new();
    if exceptions.is_empty() {
        out.push_str("no exceptions\n");
        return out;
    }
    for (invariant, note) in exceptions {
        let (left, state) = match note.state {
            ExceptionState::Active => (time_left(note), paint(style::PASS, "active")),
            ExceptionState::Unused(_) => (time_left(note), paint(style::WAIVED, "unused")),
            ExceptionState::Expired => (
                paint(style::FAIL, &time_left(note)),
                paint(style::FAIL, "expired"),
            ),
        };
        let _ = writeln!(
            out,
            "{invariant}  owner {}  expires {} ({left})  {state}  {}\n  {}",
            note.owner,
            note.expires,
            paint(style::DIM, &note.location),
            note.reason
        );
        if !note.path.is_empty() {
            let _ = writeln!(out, "  route: {}", pinned_route(note));
        }
        if let ExceptionState::Unused(why) = note.state {
            let _ = writeln!(out, "  waives nothing: {}", why.reason());
        }
    }
    out
}

/// Warnings for exceptions in force that waive nothing, one per line, for standard
/// error: `FILE:LINE: warning: unused exception ...`.
pub fn unused_exceptions(exceptions: &[(String, ExceptionNote)]) -> String {
    let mut out = String::new();
    for (invariant, note) in exceptions {
        if let ExceptionState::Unused(why) = note.state {
            let _ = writeln!(
                out,
                "{}: {} unused exception for `{invariant}` owned by {}: {}",
                note.location,
                paint(style::WAIVED, "warning:"),
                note.owner,
                why.reason()
            );
        }
    }
    out
}

pub fn path(report: &PathReport) -> String {
    let mut out = String::new();
    assumed_leaked(&mut out, &report.leaked);
    let from = report.from.join(", ");
    let to = report.to.join(", ");
    let ports = if report.ports.is_empty() {
        String::new()
    } else {
        format!(" on {}", report.ports.join(", "))
    };
    if report.paths.is_empty() {
        let _ = writeln!(out, "nothing in {from} reaches {to}{ports}");
        return out;
    }
    for (index, (path, acquisitions)) in report.paths.iter().zip(&report.acquisitions).enumerate() {
        let hops = path.len();
        let _ = writeln!(
            out,
            "path {}: {} hop{}",
            index + 1,
            hops,
            if hops == 1 { "" } else { "s" }
        );
        story(&mut out, acquisitions, path);
    }
    let count = report.cut.len();
    if count == 0 {
        let _ = writeln!(
            out,
            "\nno set of flows isolates {to} from {from}: they overlap"
        );
    } else {
        let flows: Vec<String> = report
            .cut
            .iter()
            .map(|flow| format!("{} ({})", paint(style::BOLD, &flow.flow), flow.location))
            .collect();
        let _ = writeln!(
            out,
            "\nto isolate {to} from {from}, remove or narrow {count} flow{}: {}",
            if count == 1 { "" } else { "s" },
            flows.join(", ")
        );
        if !report.cut_exact {
            let _ = writeln!(
                out,
                "  an upper bound: the search stopped before proving it the fewest; at least {} flow{} must go",
                report.cut_lower_bound,
                if report.cut_lower_bound == 1 { "" } else { "s" }
            );
        }
        for flow in report
            .cut
            .iter()
            .filter(|flow| !flow.credentials.is_empty())
        {
            let credentials: Vec<String> = flow
                .credentials
                .iter()
                .map(|(name, leaked)| {
                    if *leaked {
                        format!("{name} (leaked)")
                    } else {
                        name.clone()
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "  {} opens only with {}",
                flow.flow,
                credentials.join(" or ")
            );
        }
    }
    for credential in &report.revocations {
        let _ = writeln!(
            out,
            "revoking credential {credential} alone would also do it"
        );
    }
    out
}

pub fn diff(report: &DiffReport) -> String {
    let mut out = String::new();
    let regressions = report.regressions();
    let gate = report.gate_changes();
    // The headline says why the run fails, or that it passes, as the exit code does.
    let headline = if regressions > 0 {
        paint(style::FAIL, "regressed")
    } else if gate.total() > gate.redefined {
        paint(style::FAIL, "gate weakened")
    } else if gate.redefined > 0 {
        paint(style::FAIL, "invariant redefined (needs review)")
    } else if report.denied_pairs() > 0 {
        paint(style::FAIL, "new paths denied (--deny-new-paths)")
    } else {
        paint(style::PASS, "no regression")
    };
    let mut counts = vec![super::count(
        regressions as i64,
        "regression",
        "regressions",
    )];
    counts.extend(super::gate_words(&gate));
    let _ = writeln!(
        out,
        "{headline}: {}, {} newly reachable pair{} of {}s, {} closed",
        counts.join(", "),
        report.opened.len(),
        if report.opened.len() == 1 { "" } else { "s" },
        report.level,
        report.closed.len()
    );
    if !report.verdicts.is_empty() {
        out.push_str("\ninvariants:\n");
        for change in &report.verdicts {
            let _ = writeln!(
                out,
                "  {:<11} {}  {} -> {}  {}",
                change.kind,
                change.invariant,
                change.before.unwrap_or("new"),
                change.after,
                change.message
            );
            if change.kind == "fails wider" {
                let _ = writeln!(out, "         now also reaches {}", change.wider.join(", "));
            }
            if change.regresses() || change.newly_waived() {
                story(&mut out, &change.acquisitions, &change.witness);
            }
            waivers(&mut out, &change.waivers);
        }
    }
    if !report.opened.is_empty() {
        let _ = writeln!(out, "\nnewly reachable {}s:", report.level);
        for pair in &report.opened {
            let _ = writeln!(
                out,
                "  {} -> {} in {} hop{}",
                pair.from,
                pair.to,
                pair.hops,
                if pair.hops == 1 { "" } else { "s" }
            );
            story(&mut out, &pair.acquisitions, &pair.witness);
        }
    }
    if !report.closed.is_empty() {
        let _ = writeln!(out, "\nno longer reachable {}s:", report.level);
        for pair in &report.closed {
            let _ = writeln!(out, "  {} -> {}", pair.from, pair.to);
        }
    }
    if !report.changes.is_empty() {
        out.push_str("\nchanges:\n");
        for change in &report.changes {
            let _ = writeln!(
                out,
                "  {:<8} {} {}{}  {}",
                change.kind.as_str(),
                change.what,
                change.key,
                super::what_changed(change)
                    .map(|words| format!(": {words}"))
                    .unwrap_or_default(),
                paint(style::DIM, &change.location)
            );
        }
    }
    out
}

/// The widest grid the text form draws; past it, csv or html serve better.
const GRID_LIMIT: usize = 30;

/// A compact grid: `internet` first, then rows by name, columns by the row's number, a
/// cell the fewest flows.
pub fn matrix(report: &MatrixReport) -> String {
    let report = &report.with_internet();
    let mut out = String::new();
    let count = report.entities.len();
    let reachable = report.cells.len();
    let _ = writeln!(
        out,
        "{reachable} of {} ordered pairs of {}s and internet reach; a cell is the fewest flows from the row to the column",
        count * count.saturating_sub(1),
        report.level
    );
    if count > GRID_LIMIT {
        let _ = writeln!(
            out,
            "{count} {}s are too many for a grid here: use --format csv, html or markdown",
            report.level
        );
        return out;
    }
    let mut grid = vec![vec![String::from("·"); count]; count];
    for (index, row) in grid.iter_mut().enumerate() {
        row[index] = String::from("-");
    }
    for cell in &report.cells {
        grid[cell.from][cell.to] = cell.hops.to_string();
    }
    let name_width = report
        .entities
        .iter()
        .map(|e| e.chars().count())
        .max()
        .unwrap_or(0);
    let number_width = count.to_string().len();
    let cell_width = grid
        .iter()
        .flatten()
        .map(|cell| cell.chars().count())
        .chain([number_width])
        .max()
        .unwrap_or(1);
    let _ = write!(out, "{:>w$}  {:name_width$}", "", "", w = number_width);
    for column in 1..=count {
        let _ = write!(out, " {column:>cell_width$}");
    }
    out.push('\n');
    for (index, (name, row)) in report.entities.iter().zip(&grid).enumerate() {
        let _ = write!(
            out,
            "{:>w$}  {name:name_width$}",
            index + 1,
            w = number_width
        );
        for cell in row {
            let _ = write!(out, " {cell:>cell_width$}");
        }
        out.push('\n');
    }
    out
}

/// A witness with its story: how each credential is obtained, then the path itself.
fn story(out: &mut String, acquisitions: &[Acquisition], witness: &[Hop]) {
    for acquisition in acquisitions {
        let colon = if acquisition.path.is_empty() { "" } else { ":" };
        let _ = writeln!(
            out,
            "         {}{colon}",
            super::acquisition_heading(acquisition)
        );
        hops(out, "           ", &acquisition.path);
    }
    if !acquisitions.is_empty() && !witness.is_empty() {
        let _ = writeln!(out, "         then:");
    }
    hops(out, "         ", witness);
}

/// Hops one per line, each with its ports, owner and ticket, and the credential it
/// uses on a line of its own.
fn hops(out: &mut String, indent: &str, hops: &[Hop]) {
    for (index, hop) in hops.iter().enumerate() {
        let _ = writeln!(
            out,
            "{indent}{}. {} -> {}  via {} ({})  {}",
            index + 1,
            hop.from,
            hop.to,
            paint(style::BOLD, &hop.flow),
            super::flow_note(hop),
            paint(style::DIM, &hop.location)
        );
        if let Some(credential) = super::credential_note(hop) {
            let _ = writeln!(out, "{indent}   using {credential}");
        }
    }
}

/// The credentials that a query assumed leaked (`--leaked`), first, since every line
/// after depends on them.
fn assumed_leaked(out: &mut String, leaked: &[String]) {
    if !leaked.is_empty() {
        let _ = writeln!(out, "assuming leaked: {}", leaked.join(", "));
    }
}

pub fn reach(report: &ReachReport) -> String {
    let mut out = String::new();
    assumed_leaked(&mut out, &report.leaked);
    let selection = report.selectors.join(", ");
    let ports = if report.ports.is_empty() {
        String::new()
    } else {
        format!(" on {}", report.ports.join(", "))
    };
    let count = report.reachable.len();
    let leaves = if count == 1 { "leaf" } else { "leaves" };
    let _ = match report.direction {
        Direction::From => writeln!(out, "{selection} reaches {count} {leaves}{ports}"),
        Direction::To => {
            let verb = if count == 1 { "reaches" } else { "reach" };
            writeln!(out, "{count} {leaves} {verb} {selection}{ports}")
        }
    };
    let width = report
        .reachable
        .iter()
        .map(|reached| reached.entity.chars().count())
        .max()
        .unwrap_or(0);
    for reached in &report.reachable {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<11}  {} hop{}",
            reached.entity,
            reached.kind,
            reached.hops,
            if reached.hops == 1 { "" } else { "s" }
        );
    }
    if let Some(summary) = &report.by_level {
        let count = summary.groups.len();
        let colon = if count == 0 { "" } else { ":" };
        let _ = match report.direction {
            Direction::From => writeln!(
                out,
                "\n{selection}, once compromised, reaches {count} of {} {}s{colon}",
                summary.total, summary.level
            ),
            Direction::To => writeln!(
                out,
                "\n{count} of {} {} that reach {selection}{colon}",
                summary.total,
                if count == 1 {
                    format!("{}s holds leaves", summary.level)
                } else {
                    format!("{}s hold leaves", summary.level)
                }
            ),
        };
        let width = summary
            .groups
            .iter()
            .map(|group| group.entity.chars().count())
            .max()
            .unwrap_or(0);
        for group in &summary.groups {
            let _ = writeln!(
                out,
                "  {:<width$}  {} lea{}, nearest {} hop{}",
                group.entity,
                group.leaves,
                if group.leaves == 1 { "f" } else { "ves" },
                group.hops,
                if group.hops == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// One line per pair, `FROM -> TO  PORTS`, then one indented line per flow with where it
/// is written and the credentials that open it.
/// `graph --format text`: the entities drawn, each under its container, then each edge
/// with its ports, and under it the flows it stands for and the credentials they need.
pub fn picture(picture: &Picture) -> String {
    let mut out = String::new();
    let (entities, edges) = (picture.nodes.len(), picture.edges.len());
    let _ = writeln!(
        out,
        "{entities} entit{}, {edges} edge{}",
        if entities == 1 { "y" } else { "ies" },
        if edges == 1 { "" } else { "s" }
    );
    for step in nesting::walk(picture) {
        if let Step::Open(node, depth) | Step::Node(node, depth) = step {
            let _ = writeln!(
                out,
                "  {}{} {}",
                nesting::pad(0, depth),
                node.name,
                paint(style::DIM, &format!("({})", node.kind))
            );
        }
    }
    if edges > 0 {
        out.push('\n');
    }
    for edge in &picture.edges {
        let mark = if edge.highlighted {
            paint(style::FAIL, "  (on the path)")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} -> {}  {}{mark}",
            edge.from,
            edge.to,
            edge.ports.join(", ")
        );
        let needs = if edge.credentials.is_empty() {
            String::new()
        } else if edge.closed {
            format!(
                " with {}, none of which can open it",
                edge.credentials.join(" or ")
            )
        } else if edge.locked {
            format!(" with {}", edge.credentials.join(" or "))
        } else {
            format!(", some with {}", edge.credentials.join(" or "))
        };
        let _ = writeln!(
            out,
            "      {}",
            paint(style::DIM, &format!("{}{needs}", edge.flows.join(", ")))
        );
    }
    out
}

pub fn connections(report: &ConnectionsReport) -> String {
    let mut out = String::new();
    let count = report.connections.len();
    let _ = writeln!(
        out,
        "{count} connection{}",
        if count == 1 { "" } else { "s" }
    );
    for connection in &report.connections {
        let _ = writeln!(
            out,
            "  {} -> {}  {}",
            connection.from,
            connection.to,
            connection.ports.join(", ")
        );
        for flow in &connection.flows {
            let auth = if flow.auth.is_empty() {
                String::new()
            } else {
                format!(" with {}", flow.auth.join(" or "))
            };
            let name = if flow.name == flow.location {
                String::new()
            } else {
                format!("{} ", flow.name)
            };
            let _ = writeln!(
                out,
                "      {}",
                paint(
                    style::DIM,
                    &format!("{name}({}) {}{auth}", flow.location, flow.ports.join(", "))
                )
            );
        }
    }
    out
}
