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

/// A count and its noun, singular for one: "1 invariant", "2 invariants".
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
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
}
