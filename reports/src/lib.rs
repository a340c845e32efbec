//! Reports from a results store: aggregation over seeds with polars, tables in the shapes of the
//! G2D paper (ICCV 2025) in Markdown, LaTeX and CSV, figures with plotters (PNG and SVG) and one
//! self-contained HTML page.
//!
//! The store format is the contract in `docs/results-store.md`; this crate only reads files and
//! never re-runs anything. Entry point: [`generate`]. Layout of the output directory:
//!
//! ```text
//! <out>/index.html                 the page (tables, figures as data URIs, configuration)
//! <out>/report.md                  every table plus the missing-cell list
//! <out>/tables/<kind>.{md,tex,csv} main | regression | ablation | comparison
//! <out>/figures/<stem>.{png,svg}   curves, traces, bars per dataset
//! ```

#![warn(missing_docs)]

pub mod aggregate;
pub mod error;
pub mod figures;
pub mod html;
pub mod layout;
pub mod metric;
pub mod stats;
pub mod store;
pub mod tables;

use std::path::{Path, PathBuf};

pub use error::ReportError;
pub use tables::Table;

use layout::Layout;

/// Settings of one report run (the suite's own settings come from `suite.json`).
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Printed in the page header and footer.
    pub harness_version: String,
    /// Overrides `suite.json` `report.reference` (`method` or `method/variant`); `g2d` when both
    /// are absent.
    pub reference: Option<String>,
}

/// What [`generate`] wrote and found.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Every table as Markdown, then the missing-cell list: ready to print at the end of a run.
    pub markdown: String,
    /// The tables that were built.
    pub tables: Vec<Table>,
    /// Every file written, `index.html` last.
    pub files: Vec<PathBuf>,
    /// The report page.
    pub index_html: PathBuf,
    /// Ids of the cells listed in `suite.json` without `result.json`.
    pub missing_cells: Vec<String>,
    /// Non-fatal problems (unknown table kind, reference not found, ...).
    pub warnings: Vec<String>,
}

/// Reads the store in `suite_dir` and writes tables, figures and `index.html` into `out_dir`
/// (usually `runs/<suite>/report`). Missing cells are reported, not fatal.
pub fn generate(suite_dir: &Path, out_dir: &Path, options: &ReportOptions) -> Result<ReportSummary, ReportError> {
    let store = store::Store::load(suite_dir)?;
    let aggregates = aggregate::over_seeds(&store.results)?;
    let layout = Layout::new(&store.suite, &store.results, &aggregates);
    let suite_name = store.suite.name.as_str();
    let mut warnings = Vec::new();

    let mut tables = Vec::new();
    for kind in &store.suite.report.tables {
        let table = match kind.as_str() {
            "main" => tables::build::main_table(suite_name, &layout, &aggregates),
            "regression" => tables::build::regression_table(suite_name, &layout, &aggregates),
            "ablation" => tables::build::ablation_table(suite_name, &layout, &aggregates),
            other => {
                warnings
                    .push(format!("unknown table kind `{other}` in suite.json (known: main, regression, ablation)"));
                continue;
            }
        };
        match table {
            Some(table) => tables.push(table),
            None => warnings.push(format!("table `{kind}`: no completed cell has the metrics it needs")),
        }
    }
    let reference_name = options.reference.clone().or_else(|| store.suite.report.reference.clone());
    let reference_name = reference_name.as_deref().unwrap_or("g2d");
    match layout.variants.iter().find(|v| v.matches(reference_name)) {
        Some(reference) => {
            tables.extend(tables::build::comparison_table(suite_name, &layout, &aggregates, reference));
        }
        None => warnings.push(format!("reference `{reference_name}` is not a method of this suite: no comparison")),
    }

    let mut files = Vec::new();
    let tables_dir = out_dir.join("tables");
    create_dir(&tables_dir)?;
    for table in &tables {
        let label = format!("tab:{suite_name}-{}", table.id);
        for (extension, text) in [
            ("md", tables::markdown::render(table)),
            ("tex", tables::latex::render(table, &label)),
            ("csv", tables::csv::render(table)),
        ] {
            let path = tables_dir.join(format!("{}.{extension}", table.id));
            write_atomic(&path, text.as_bytes())?;
            files.push(path);
        }
    }

    let mut figures = Vec::new();
    if store.suite.report.figures {
        let figures_dir = out_dir.join("figures");
        create_dir(&figures_dir)?;
        let epochs = aggregate::epoch_curves(&store.epochs)?;
        let traces = aggregate::trace_curves(&store.traces)?;
        let data = figures::plan::FigureData {
            suite: suite_name,
            layout: &layout,
            aggregates: &aggregates,
            epochs: &epochs,
            traces: &traces,
        };
        for spec in figures::plan::plan(&data) {
            let written = spec.write(&figures_dir)?;
            let png = std::fs::read(&written.png).map_err(|e| ReportError::io(&written.png, e))?;
            files.push(written.png.clone());
            files.push(written.svg.clone());
            figures.push((written, png));
        }
    }

    let missing_cells: Vec<String> = store.missing.iter().map(|c| c.id.clone()).collect();
    let markdown = summary_markdown(&tables, &missing_cells, &warnings);
    let report_md = out_dir.join("report.md");
    write_atomic(&report_md, markdown.as_bytes())?;
    files.push(report_md);

    let page = html::Page {
        store: &store,
        harness_version: &options.harness_version,
        tables: &tables,
        figures: &figures,
        warnings: &warnings,
    };
    let index_html = out_dir.join("index.html");
    write_atomic(&index_html, html::render(&page).as_bytes())?;
    files.push(index_html.clone());

    Ok(ReportSummary { markdown, tables, files, index_html, missing_cells, warnings })
}

/// The printable summary: every table, then missing cells and warnings.
fn summary_markdown(tables: &[Table], missing: &[String], warnings: &[String]) -> String {
    let mut out = String::new();
    for table in tables {
        out.push_str(&tables::markdown::render(table));
        out.push('\n');
    }
    if !missing.is_empty() {
        out.push_str(&format!("### Missing cells ({})\n\n", missing.len()));
        for id in missing {
            out.push_str(&format!("- `{id}`\n"));
        }
        out.push('\n');
    }
    for warning in warnings {
        out.push_str(&format!("> warning: {warning}\n"));
    }
    out
}

fn create_dir(path: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(path).map_err(|e| ReportError::io(path, e))
}

/// Writes through a temporary file in the same directory, then renames (as the store does).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    std::fs::write(&temporary, bytes).map_err(|e| ReportError::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| ReportError::io(path, e))
}
