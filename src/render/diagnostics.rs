//! Input problems as text: `FILE:LINE:COLUMN: error: ...` and a help line; warnings
//! (what Kubernetes itself accepts but allows nothing) the same way.

use std::fmt::Write;

use super::style;
use crate::diagnostic::Diagnostic;

pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let _ = writeln!(
            out,
            "{}: {}error:{} {}",
            diagnostic.position(),
            style::ERROR.render(),
            style::ERROR.render_reset(),
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
    let count = diagnostics.len();
    let _ = writeln!(
        out,
        "cordon: {count} problem{} in the policies; nothing was checked",
        if count == 1 { "" } else { "s" }
    );
    out
}

/// Warnings: input that is valid but likely not what was meant.
pub fn warnings(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let _ = writeln!(
            out,
            "{}: {}warning:{} {}",
            diagnostic.position(),
            style::WARNING.render(),
            style::WARNING.render_reset(),
            diagnostic.problem
        );
    }
    out
}
