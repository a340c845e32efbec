//! LaTeX rendering with booktabs: `\textbf` for best, `\underline` for second best.

use super::{Cell, Mark, StatCell, Table};

/// Renders a complete `table` environment (needs `\usepackage{booktabs}`).
pub fn render(table: &Table, label: &str) -> String {
    let spec: String = "l".repeat(table.label_headers.len()) + &"r".repeat(table.columns.len());
    let mut out = String::new();
    out.push_str("\\begin{table}[t]\n\\centering\n\\small\n");
    out.push_str(&format!("\\caption{{{}}}\n\\label{{{}}}\n", escape(&table.title), escape_label(label)));
    out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
    let headers: Vec<String> =
        table.label_headers.iter().chain(table.columns.iter().map(|c| &c.name)).map(|h| escape(h)).collect();
    out.push_str(&format!("{} \\\\\n\\midrule\n", headers.join(" & ")));
    for (index, (row, labels)) in table.rows.iter().zip(table.display_labels()).enumerate() {
        if table.starts_group(index) {
            out.push_str("\\midrule\n");
        }
        let fields: Vec<String> = labels.iter().map(|l| escape(l)).chain(row.cells.iter().map(render_cell)).collect();
        out.push_str(&format!("{} \\\\\n", fields.join(" & ")));
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    if !table.notes.is_empty() {
        let notes: Vec<String> = table.notes.iter().map(|n| escape(n)).collect();
        out.push_str(&format!("\\par\\vspace{{2pt}}{{\\footnotesize {}}}\n", notes.join(" ")));
    }
    out.push_str("\\end{table}\n");
    out
}

fn render_cell(cell: &Cell) -> String {
    match cell {
        Cell::Missing => "---".to_owned(),
        Cell::Number(text) => escape(text),
        Cell::Stat(stat) => render_stat(stat),
    }
}

fn render_stat(stat: &StatCell) -> String {
    let value = match &stat.std {
        Some(std) => format!("{} $\\pm$ {}", stat.mean, std),
        None => stat.mean.clone(),
    };
    let value = match stat.mark {
        Mark::Best => format!("\\textbf{{{value}}}"),
        Mark::Second => format!("\\underline{{{value}}}"),
        Mark::None => value,
    };
    if stat.partial { format!("{value}$^\\dagger$") } else { value }
}

/// Escapes LaTeX special characters in free text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("$\\pm$"),
            '−' => out.push_str("$-$"),
            '×' => out.push_str("$\\times$"),
            '—' => out.push_str("---"),
            '†' => out.push_str("$^\\dagger$"),
            '<' => out.push_str("$<$"),
            '>' => out.push_str("$>$"),
            _ => out.push(c),
        }
    }
    out
}

/// Keeps a `\label` key to characters LaTeX accepts there.
fn escape_label(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() || "-:.".contains(c) { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_special_characters() {
        assert_eq!(escape("a_b & 50% {x}"), "a\\_b \\& 50\\% \\{x\\}");
        assert_eq!(escape("<0.001"), "$<$0.001");
    }
}
