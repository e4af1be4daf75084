//! Markdown: tables for wikis, tickets and pull-request comments.

use std::fmt::Write;

use crate::report::MatrixReport;

/// Text for a table cell: pipes would end the cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The matrix as a table; a cell is the fewest flows, or empty.
pub fn matrix(report: &MatrixReport) -> String {
    let count = report.entities.len();
    let mut grid = vec![vec![String::new(); count]; count];
    for (index, row) in grid.iter_mut().enumerate() {
        row[index] = "—".to_owned();
    }
    for cell in &report.cells {
        grid[cell.from][cell.to] = cell.hops.to_string();
    }
    let mut out = format!(
        "| from \\ to | {} |\n",
        report
            .entities
            .iter()
            .map(|e| cell(e))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|{}", "---|".repeat(count));
    for (entity, row) in report.entities.iter().zip(grid) {
        let _ = writeln!(out, "| **{}** | {} |", cell(entity), row.join(" | "));
    }
    out
}
