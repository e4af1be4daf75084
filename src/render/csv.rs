//! CSV: the matrix as a spreadsheet, one row per source, one column per target; and
//! connections, one row per pair.

use crate::report::{ConnectionsReport, MatrixReport};

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

/// One row per pair: source, target, the union of ports, and the flows that connect them,
/// lists separated by spaces.
pub fn connections(report: &ConnectionsReport) -> String {
    let mut out = String::from("from,to,ports,flows,auth\n");
    for connection in &report.connections {
        let flows: Vec<&str> = connection.flows.iter().map(|f| f.name.as_str()).collect();
        let mut auth: Vec<&str> = connection
            .flows
            .iter()
            .flat_map(|f| f.auth.iter().map(String::as_str))
            .collect();
        auth.sort_unstable();
        auth.dedup();
        for (index, text) in [
            connection.from.as_str(),
            connection.to.as_str(),
            &connection.ports.join(" "),
            &flows.join(" "),
            &auth.join(" "),
        ]
        .into_iter()
        .enumerate()
        {
            if index > 0 {
                out.push(',');
            }
            out.push_str(&field(text));
        }
        out.push('\n');
    }
    out
}
