//! HTML rendering for the report page: `<strong>` for best, `<u>` for second best.

use super::{Cell, MISSING, Mark, StatCell, Table};
use crate::html::escape;

/// Renders the table as a `<table>` with a caption and a notes paragraph.
pub fn render(table: &Table) -> String {
    let mut out =
        format!("<table id=\"table-{}\">\n<caption>{}</caption>\n<thead><tr>", escape(&table.id), escape(&table.title));
    for header in &table.label_headers {
        out.push_str(&format!("<th class=\"label\">{}</th>", escape(header)));
    }
    for column in &table.columns {
        out.push_str(&format!("<th>{}</th>", escape(&column.name)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (index, (row, labels)) in table.rows.iter().zip(table.display_labels()).enumerate() {
        let class = if table.starts_group(index) { " class=\"group\"" } else { "" };
        out.push_str(&format!("<tr{class}>"));
        for label in &labels {
            out.push_str(&format!("<td class=\"label\">{}</td>", escape(label)));
        }
        for cell in &row.cells {
            out.push_str(&render_cell(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    for note in &table.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(note)));
    }
    out
}

fn render_cell(cell: &Cell) -> String {
    match cell {
        Cell::Missing => format!("<td class=\"missing\">{MISSING}</td>"),
        Cell::Number(text) => format!("<td>{}</td>", escape(text)),
        Cell::Stat(stat) => format!("<td title=\"n = {}\">{}</td>", stat.n, render_stat(stat)),
    }
}

fn render_stat(stat: &StatCell) -> String {
    let value = match &stat.std {
        Some(std) => format!("{} ± {}", stat.mean, std),
        None => stat.mean.clone(),
    };
    let value = match stat.mark {
        Mark::Best => format!("<strong>{value}</strong>"),
        Mark::Second => format!("<u>{value}</u>"),
        Mark::None => value,
    };
    if stat.partial { format!("{value}<sup>†</sup>") } else { value }
}
