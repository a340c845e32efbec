//! `harness report`: regenerates a suite's tables, figures and `index.html` from its results
//! store with the `reports` crate, without re-running anything.

use std::path::Path;

use anyhow::{Context, Result};

/// Generates the report of the suite stored in `suite_dir` into `suite_dir/report`.
pub fn generate(suite_dir: &Path, reference: Option<String>) -> Result<reports::ReportSummary> {
    let options = reports::ReportOptions { harness_version: env!("CARGO_PKG_VERSION").to_string(), reference };
    let summary = reports::generate(suite_dir, &suite_dir.join("report"), &options)
        .with_context(|| format!("generating the report of {}", suite_dir.display()))?;
    for w in &summary.warnings {
        eprintln!("report warning: {w}");
    }
    Ok(summary)
}
