//! Writes the test fixture store to a directory and generates its report, for looking at:
//! `cargo run -p reports --example fixture_report -- /tmp/fixture` then open
//! `/tmp/fixture/runs/fixture/report/index.html`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

fn main() -> Result<(), reports::ReportError> {
    let root = std::env::args().nth(1).unwrap_or_else(|| "target/fixture-report".into());
    let suite_dir = std::path::Path::new(&root).join("runs").join("fixture");
    common::write_store(&suite_dir);
    let options = reports::ReportOptions { harness_version: env!("CARGO_PKG_VERSION").into(), reference: None };
    let start = Instant::now();
    let summary = reports::generate(&suite_dir, &suite_dir.join("report"), &options)?;
    println!("{}", summary.markdown);
    println!("wrote {} files in {:?}; open {}", summary.files.len(), start.elapsed(), summary.index_html.display());
    Ok(())
}
