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

/// An exception's pinned route, as `a -> flow:f -> b`; empty when it pins none.
pub fn pinned_route(note: &ExceptionNote) -> String {
    note.path.join(" -> ")
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
    pub const HELP: Style = AnsiColor::Cyan.on_default().bold();
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
}
