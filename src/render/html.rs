//! HTML: self-contained pages, with inline CSS and no script or font fetched from
//! anywhere.

use std::fmt::Write;

use crate::report::MatrixReport;

/// Text safe inside HTML elements and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const MATRIX_STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; }
h1 { font-size: 1.3rem; }
.wrap { overflow: auto; max-height: 85vh; border: 1px solid #d0d7de; }
table { border-collapse: separate; border-spacing: 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eaeef2; border-right: 1px solid #eaeef2; text-align: center; }
thead th { position: sticky; top: 0; background: #f6f8fa; z-index: 2; writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
tbody th { position: sticky; left: 0; background: #f6f8fa; z-index: 1; text-align: left; white-space: nowrap; }
thead th.corner { left: 0; z-index: 3; writing-mode: horizontal-tb; transform: none; }
td.self { background: #eaeef2; }
td.h1 { background: #cf222e; color: #fff; }
td.h2 { background: #e16f24; color: #fff; }
td.h3 { background: #f2b33a; }
td.h4 { background: #f7dc8f; }
td.far { background: #fbefc4; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 4px; }
";

fn heat(hops: u32) -> &'static str {
    match hops {
        1 => "h1",
        2 => "h2",
        3 => "h3",
        4 => "h4",
        _ => "far",
    }
}

/// A heat table whose row and column headers stay in view, `internet` first, with the
/// witness of each cell as its tooltip.
pub fn matrix(report: &MatrixReport) -> String {
    // Counted as drawn: with `internet`'s row and column.
    let drawn = report.with_internet();
    let count = drawn.entities.len();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>cordon: who reaches whom, by {level}</title>\n<style>{MATRIX_STYLE}</style>\n</head>\n<body>\n<h1>Who reaches whom, by {level}</h1>\n<p>A cell is the fewest flows by which an attacker controlling the row reaches the column; hover it for the path. {reachable} of {pairs} ordered pairs reach.</p>\n",
        level = escape(report.level),
        reachable = drawn.cells.len(),
        pairs = count * count.saturating_sub(1),
    );
    out.push_str(&matrix_table(report));
    out.push_str("</body>\n</html>\n");
    out
}

/// The CSS the matrix table needs, for pages that embed it.
pub const MATRIX_CSS: &str = MATRIX_STYLE;

/// The matrix as a table with its legend, to embed in a page that carries
/// [`MATRIX_CSS`].
pub fn matrix_table(report: &MatrixReport) -> String {
    let report = &report.with_internet();
    let count = report.entities.len();
    let mut grid: Vec<Vec<Option<(u32, String)>>> = vec![vec![None; count]; count];
    for cell in &report.cells {
        grid[cell.from][cell.to] = Some((
            cell.hops,
            super::story_lines(&cell.acquisitions, &cell.witness).join("\n"),
        ));
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"legend\"><span class=\"h1\" style=\"background:#cf222e;color:#fff\">1</span><span style=\"background:#e16f24;color:#fff\">2</span><span style=\"background:#f2b33a\">3</span><span style=\"background:#f7dc8f\">4</span><span style=\"background:#fbefc4\">5+</span></p>\n<div class=\"wrap\">\n<table>\n<thead><tr><th class=\"corner\">from \\ to</th>",
    );
    for entity in &report.entities {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(entity));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (index, (entity, row)) in report.entities.iter().zip(&grid).enumerate() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(entity));
        for (column, cell) in row.iter().enumerate() {
            match cell {
                _ if column == index => out.push_str("<td class=\"self\"></td>"),
                Some((hops, witness)) => {
                    let _ = write!(
                        out,
                        "<td class=\"{}\" title=\"{}\">{hops}</td>",
                        heat(*hops),
                        escape(witness)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    out
}
