//! Markdown rendering (GitHub flavour): `**best**`, `<u>second</u>`, `—` for missing cells.

use super::{Cell, MISSING, Mark, StatCell, Table};

/// Renders a table with its caption as a heading and its notes below.
pub fn render(table: &Table) -> String {
    let mut out = format!("### {}\n\n", table.title);
    let headers: Vec<String> =
        table.label_headers.iter().chain(table.columns.iter().map(|c| &c.name)).map(|h| escape(h)).collect();
    out.push_str(&format!("| {} |\n", headers.join(" | ")));
    let align: Vec<&str> =
        table.label_headers.iter().map(|_| ":---").chain(table.columns.iter().map(|_| "---:")).collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for (row, labels) in table.rows.iter().zip(table.display_labels()) {
        let fields: Vec<String> = labels.iter().map(|l| escape(l)).chain(row.cells.iter().map(render_cell)).collect();
        out.push_str(&format!("| {} |\n", fields.join(" | ")));
    }
    for note in &table.notes {
        out.push_str(&format!("\n{}\n", escape(note)));
    }
    out
}

fn render_cell(cell: &Cell) -> String {
    match cell {
        Cell::Missing => MISSING.to_owned(),
        Cell::Number(text) => text.clone(),
        Cell::Stat(stat) => render_stat(stat),
    }
}

fn render_stat(stat: &StatCell) -> String {
    let value = match &stat.std {
        Some(std) => format!("{} ± {}", stat.mean, std),
        None => stat.mean.clone(),
    };
    let value = match stat.mark {
        Mark::Best => format!("**{value}**"),
        Mark::Second => format!("<u>{value}</u>"),
        Mark::None => value,
    };
    if stat.partial { format!("{value}†") } else { value }
}

/// Escapes the characters that would break a table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
