//! CSV rendering: one row per table row; a statistic column becomes `<name> mean`, `<name> std`
//! and `<name> n`, with the same rounded numbers as the other formats. Missing cells are empty.

use super::{Cell, ColumnKind, Table};

/// Renders the table as CSV with a header row (labels are repeated on every row).
pub fn render(table: &Table) -> String {
    let mut header: Vec<String> = table.label_headers.clone();
    for column in &table.columns {
        match column.kind {
            ColumnKind::Stat => {
                header.extend(["mean", "std", "n"].map(|suffix| format!("{} {suffix}", column.name)));
            }
            ColumnKind::Number => header.push(column.name.clone()),
        }
    }
    let mut out = line(&header);
    for row in &table.rows {
        let mut fields = row.labels.clone();
        for (cell, column) in row.cells.iter().zip(&table.columns) {
            match (cell, column.kind) {
                (Cell::Stat(stat), _) => {
                    fields.push(stat.mean.clone());
                    fields.push(stat.std.clone().unwrap_or_default());
                    fields.push(stat.n.to_string());
                }
                (Cell::Number(text), _) => fields.push(text.clone()),
                (Cell::Missing, ColumnKind::Stat) => fields.extend([String::new(), String::new(), "0".into()]),
                (Cell::Missing, ColumnKind::Number) => fields.push(String::new()),
            }
        }
        out.push_str(&line(&fields));
    }
    out
}

fn line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| quote(f)).collect();
    format!("{}\n", quoted.join(","))
}

/// Quotes a field when it contains a separator, a quote or a line break.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}
