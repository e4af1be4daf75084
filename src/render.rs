//! Renderers: one file per output format. They read reports and never compute; any fact
//! they show is in the report already.

pub mod csv;
pub mod diagnostics;
pub mod dot;
pub mod evidence_html;
pub mod evidence_markdown;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod mermaid;
pub mod nesting;
pub mod sarif;
pub mod svg;
pub mod text;

use anstyle::{AnsiColor, Style};

use crate::report::CheckReport;

/// "2 failed", saying how many of them are below `--fail-on` and so do not fail the run:
/// the words must agree with the exit code.
pub fn failed_count(report: &CheckReport) -> String {
    let failed = report.summary().failed;
    let below = report.below_threshold();
    let threshold = report.fail_on.as_str();
    if below == 0 {
        format!("{failed} failed")
    } else if below == failed {
        format!("{failed} failed below --fail-on {threshold}")
    } else {
        format!("{failed} failed ({below} below --fail-on {threshold})")
    }
}

use crate::report::{ExceptionNote, ExceptionState};

/// How long an exception has left, or how long ago it expired, in words: every format
/// says "expired 3 days ago" rather than a negative count.
pub fn time_left(note: &ExceptionNote) -> String {
    match note.days_left {
        -1 => "expired 1 day ago".to_owned(),
        days if days < 0 => format!("expired {} days ago", -days),
        0 => "expires today".to_owned(),
        1 => "1 day left".to_owned(),
        days => format!("{days} days left"),
    }
}

/// "waived by alice's exception on route a -> b until 2024-06-30 (10 days left):
/// migration": how every format says what waives a failure.
pub fn waived_by(note: &ExceptionNote) -> String {
    let route = if note.path.is_empty() {
        String::new()
    } else {
        format!(" on route {}", pinned_route(note))
    };
    format!(
        "waived by {}'s exception{route} until {} ({}): {}",
        note.owner,
        note.expires,
        time_left(note),
        note.reason
    )
}

/// An exception's state, with why when it waives nothing: "unused: the invariant holds
/// without it".
pub fn state_words(note: &ExceptionNote) -> String {
    match note.state {
        ExceptionState::Unused(why) => format!("unused: {}", why.reason()),
        state => state.as_str().to_owned(),
    }
}

/// The file and line of a `FILE:LINE` location, as an exception's note gives it; line
/// 1 where it names none.
pub fn file_and_line(location: &str) -> (&str, u32) {
    location
        .rsplit_once(':')
        .map_or((location, 1), |(file, line)| {
            (file, line.parse().unwrap_or(1))
        })
}

/// An exception's pinned route, as `a -> flow:f -> b`; empty when it pins none.
pub fn pinned_route(note: &ExceptionNote) -> String {
    note.path.join(" -> ")
}

/// A count and its noun, singular for one: "1 invariant", "2 invariants".
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

use crate::report::{Change, Effect, GateChanges};

/// The changes to the gate that fail a diff, each counted: "1 invariant removed",
/// "2 newly waived"; none when there are none.
pub fn gate_words(gate: &GateChanges) -> Vec<String> {
    [
        (gate.removed, "invariant removed", "invariants removed"),
        (gate.weakened, "invariant weakened", "invariants weakened"),
        (
            gate.redefined,
            "invariant redefined",
            "invariants redefined",
        ),
        (gate.newly_waived, "newly waived", "newly waived"),
        (gate.waivers_changed, "waiver changed", "waivers changed"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| count(n as i64, one, many))
    .collect()
}

/// What a change to an invariant does to the gate, in a word or two.
pub fn effect_words(effect: Effect) -> &'static str {
    match effect {
        Effect::Strengthens => "stricter",
        Effect::Weakens => "weaker",
        Effect::Redefines => "meaning changed",
    }
}

/// What a change changes: the parts of its description that differ ("active →
/// revoked"), and for an invariant whether it is now stricter or weaker; the terms of
/// an invariant or exception added or removed. `None` when the name says it all.
pub fn what_changed(change: &Change) -> Option<String> {
    let terms_shown = matches!(change.what, "invariant" | "exception");
    let (before, after) = match (&change.before, &change.after) {
        (Some(before), Some(after)) => (before, after),
        (Some(terms), None) | (None, Some(terms)) if terms_shown => {
            return Some(
                terms
                    .split(crate::diff::PART)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        _ => return None,
    };
    let before: Vec<&str> = before.split(crate::diff::PART).collect();
    let after: Vec<&str> = after.split(crate::diff::PART).collect();
    let gone: Vec<&str> = before
        .iter()
        .filter(|p| !after.contains(p))
        .copied()
        .collect();
    let new: Vec<&str> = after
        .iter()
        .filter(|p| !before.contains(p))
        .copied()
        .collect();
    let side = |parts: &[&str]| {
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    };
    let effect = match change.effect {
        Some(effect) => format!(" ({})", effect_words(effect)),
        None => String::new(),
    };
    Some(format!("{} → {}{effect}", side(&gone), side(&new)))
}

/// The styles text output uses; stripped by the output stream when colour is off.
pub mod style {
    use super::*;

    pub const PASS: Style = AnsiColor::Green.on_default().bold();
    pub const FAIL: Style = AnsiColor::Red.on_default().bold();
    pub const WAIVED: Style = AnsiColor::Yellow.on_default().bold();
    pub const DIM: Style = Style::new().dimmed();
    pub const BOLD: Style = Style::new().bold();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const HELP: Style = AnsiColor::Cyan.on_default().bold();
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
}

use crate::report::{Hop, Obtained};

/// What a hop's flow allows and who answers for it: "tcp/443, owner it-ops, ticket
/// CHG-12". The same words in every format that writes hops as text.
pub fn flow_note(hop: &Hop) -> String {
    let mut parts = vec![hop.ports.join(" ")];
    if let Some(owner) = &hop.owner {
        parts.push(format!("owner {owner}"));
    }
    if let Some(ticket) = &hop.ticket {
        parts.push(format!("ticket {ticket}"));
    }
    parts.join(", ")
}

/// One hop as one line of plain text: "a -> b via f (tcp/22, owner x) at FILE:LINE using
/// credential key (obtained on vault)".
pub fn hop_line(hop: &Hop) -> String {
    let mut line = format!(
        "{} -> {} via {} ({})",
        hop.from,
        hop.to,
        hop.flow,
        flow_note(hop)
    );
    // An unnamed flow is called by its location already.
    if hop.flow != hop.location {
        line.push_str(&format!(" at {}", hop.location));
    }
    if let Some(credential) = credential_note(hop) {
        line.push_str(&format!(" using {credential}"));
    }
    line
}

/// The credential a hop uses and where the attacker got it: "credential key (obtained
/// on vault)"; `None` for a flow open to all.
pub fn credential_note(hop: &Hop) -> Option<String> {
    let credential = hop.credential.as_ref()?;
    let source = match &hop.obtained {
        Some(Obtained::Leaked) => "leaked, held from the start".to_owned(),
        Some(Obtained::From(entity)) => format!("obtained on {entity}"),
        None => "held".to_owned(),
    };
    Some(format!("credential {credential} ({source})"))
}

/// A witness and its story as plain lines: each acquisition's heading and numbered hops
/// (indented), "then:", and the witness's numbered hops. For formats that carry text
/// without layout: JUnit, GitHub annotations, tooltips.
pub fn story_lines(acquisitions: &[crate::report::Acquisition], witness: &[Hop]) -> Vec<String> {
    let numbered = |indent: &str, hops: &[Hop]| -> Vec<String> {
        hops.iter()
            .enumerate()
            .map(|(index, hop)| format!("{indent}{}. {}", index + 1, hop_line(hop)))
            .collect()
    };
    let mut lines = Vec::new();
    for acquisition in acquisitions {
        let colon = if acquisition.path.is_empty() { "" } else { ":" };
        lines.push(format!("{}{colon}", acquisition_heading(acquisition)));
        lines.extend(numbered("  ", &acquisition.path));
    }
    if !acquisitions.is_empty() && !witness.is_empty() {
        lines.push("then:".to_owned());
    }
    lines.extend(numbered("", witness));
    lines
}

/// The heading of one acquisition in a story: "to obtain key on vault", and when an
/// earlier path reached the holder already, "to obtain key on vault, reached above".
pub fn acquisition_heading(acquisition: &crate::report::Acquisition) -> String {
    let reached = if acquisition.path.is_empty() {
        ", reached above"
    } else {
        ""
    };
    format!(
        "to obtain {} on {}{reached}",
        acquisition.credential, acquisition.holder
    )
}
