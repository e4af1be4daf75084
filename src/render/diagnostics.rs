//! Input problems as text: `FILE:LINE:COLUMN: error: ...` (or `warning:`) and a help
//! line.

use std::fmt::Write;

use super::style;
use crate::diagnostic::{Diagnostic, Level};

/// Each diagnostic with its help line, and a last line saying that nothing was checked.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = list(diagnostics);
    let count = diagnostics.len();
    let _ = writeln!(
        out,
        "cordon: {count} problem{} in the policies; nothing was checked",
        if count == 1 { "" } else { "s" }
    );
    out
}

/// Warnings of a run that goes on: each with its help line, nothing after.
pub fn warnings(diagnostics: &[Diagnostic]) -> String {
    list(diagnostics)
}

fn list(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let level = match diagnostic.level {
            Level::Error => style::ERROR,
            Level::Warning => style::WARNING,
        };
        let _ = writeln!(
            out,
            "{}: {}{}:{} {}",
            diagnostic.position(),
            level.render(),
            diagnostic.level.as_str(),
            level.render_reset(),
            diagnostic.problem
        );
        if let Some(help) = &diagnostic.help {
            let _ = writeln!(
                out,
                "  {}help:{} {help}",
                style::HELP.render(),
                style::HELP.render_reset()
            );
        }
    }
    out
}
