//! CSV: the matrix as a spreadsheet, one row per source, one column per target.

use crate::report::MatrixReport;

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The first column names the row, `internet` first; each cell is the fewest flows, or
/// empty.
pub fn matrix(report: &MatrixReport) -> String {
    let report = &report.with_internet();
    let count = report.entities.len();
    let mut grid = vec![vec![String::new(); count]; count];
    for cell in &report.cells {
        grid[cell.from][cell.to] = cell.hops.to_string();
    }
    let mut out = String::from("from");
    for entity in &report.entities {
        out.push(',');
        out.push_str(&field(entity));
    }
    out.push('\n');
    for (entity, row) in report.entities.iter().zip(grid) {
        out.push_str(&field(entity));
        for cell in row {
            out.push(',');
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}
