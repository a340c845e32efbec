//! The self-contained HTML report: tables, figures (PNG embedded as base64 data URIs), missing
//! cells, the suite configuration and the harness version on one page.

use std::fmt::Write as _;

use crate::figures::WrittenFigure;
use crate::store::{CellSpec, Store};
use crate::tables::{self, Table};

/// What the page shows besides the store itself.
pub struct Page<'a> {
    /// The loaded store.
    pub store: &'a Store,
    /// Harness version printed in the header.
    pub harness_version: &'a str,
    /// Tables in display order.
    pub tables: &'a [Table],
    /// Figures with their PNG bytes.
    pub figures: &'a [(WrittenFigure, Vec<u8>)],
    /// Non-fatal problems to show.
    pub warnings: &'a [String],
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; max-width: 1180px;
       margin: 24px auto; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 21px; margin-top: 36px;
       border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.meta { color: #555; font-size: 14px; }
table { border-collapse: collapse; margin: 12px 0 4px; font-size: 14px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 6px; }
thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; padding: 4px 10px; text-align: right; }
th.label, td.label { text-align: left; }
td { padding: 3px 10px; text-align: right; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
tr.group td { border-top: 1px solid #999; }
td.missing { color: #b00; }
.note { font-size: 13px; color: #555; margin: 2px 0; }
.downloads { font-size: 13px; margin: 4px 0 20px; }
.alert { border: 1px solid #d9a300; background: #fff8e1; padding: 8px 14px; border-radius: 4px; }
.alert ul { margin: 4px 0; columns: 2; font-family: monospace; font-size: 13px; }
figure { margin: 20px 0 28px; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 14px; color: #444; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
details { margin: 6px 0; } summary { cursor: pointer; }
"#;

/// Renders the whole page.
pub fn render(page: &Page) -> String {
    let suite = &page.store.suite;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Report: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>Report: {name}</h1>\n",
        name = escape(&suite.name)
    );
    if !suite.description.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&suite.description));
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Harness version {} · {} of {} cells complete · generated from <code>{}</code></p>",
        escape(page.harness_version),
        page.store.complete.len(),
        suite.cells.len(),
        escape(&page.store.dir.display().to_string())
    );
    out.push_str(&missing_section(&page.store.missing));
    if !page.warnings.is_empty() {
        out.push_str("<div class=\"alert\"><strong>Warnings</strong><ul style=\"columns:1\">");
        for warning in page.warnings {
            let _ = write!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul></div>\n");
    }

    out.push_str("<h2 id=\"tables\">Tables</h2>\n");
    if page.tables.is_empty() {
        out.push_str("<p>No table could be built: no completed cell has the requested metrics.</p>\n");
    }
    for table in page.tables {
        out.push_str(&tables::html::render(table));
        let id = escape(&table.id);
        let _ = writeln!(
            out,
            "<p class=\"downloads\">Also as <a href=\"tables/{id}.md\">Markdown</a>, \
             <a href=\"tables/{id}.tex\">LaTeX</a>, <a href=\"tables/{id}.csv\">CSV</a>.</p>"
        );
    }

    out.push_str("<h2 id=\"figures\">Figures</h2>\n");
    if page.figures.is_empty() {
        out.push_str("<p>No figures: no completed cell has per-epoch data, or figures are disabled.</p>\n");
    }
    for (figure, png) in page.figures {
        let _ = writeln!(
            out,
            "<figure id=\"figure-{stem}\"><img src=\"data:image/png;base64,{data}\" alt=\"{caption}\" \
             style=\"width:{width}px\">\n<figcaption>{caption} <a href=\"figures/{stem}.svg\">SVG</a> · \
             <a href=\"figures/{stem}.png\">PNG</a></figcaption></figure>",
            stem = escape(&figure.stem),
            data = base64(png),
            caption = escape(&figure.caption),
            width = figure.width,
        );
    }

    out.push_str("<h2 id=\"configuration\">Suite configuration</h2>\n<details open><summary>suite.json</summary><pre>");
    out.push_str(&escape(&serde_json::to_string_pretty(&page.store.suite_json).unwrap_or_default()));
    out.push_str("</pre></details>\n");
    for (cell, config) in &page.store.configs {
        let _ = writeln!(
            out,
            "<details><summary>config.json of {} (first complete seed: {})</summary><pre>{}</pre></details>",
            escape(&format!("{} / {} / {}", cell.dataset, cell.method, cell.variant)),
            cell.seed,
            escape(&serde_json::to_string_pretty(config).unwrap_or_default())
        );
    }
    let _ =
        writeln!(out, "<p class=\"meta\">Generated by harness {}.</p>\n</body>\n</html>", escape(page.harness_version));
    out
}

fn missing_section(missing: &[CellSpec]) -> String {
    if missing.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<div class=\"alert\" id=\"missing-cells\"><strong>Missing cells ({})</strong>: listed in suite.json \
         without result.json; tables show — where no seed completed and † where only some seeds did.<ul>",
        missing.len()
    );
    for cell in missing {
        let _ = write!(out, "<li>{}</li>", escape(&cell.id));
    }
    out.push_str("</ul></div>\n");
    out
}

/// Escapes text for HTML element content and attribute values.
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

/// Standard base64 with padding (RFC 4648 §4), for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn escape_handles_markup() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
