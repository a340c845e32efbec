//! Generates the report of an existing results store:
//! `cargo run -p reports --example report_dir -- runs/<suite> [OUT_DIR]` (default `runs/<suite>/report`).

fn main() -> Result<(), reports::ReportError> {
    let mut args = std::env::args().skip(1);
    let suite_dir = std::path::PathBuf::from(args.next().expect("usage: report_dir SUITE_DIR [OUT_DIR]"));
    let out_dir = args.next().map(std::path::PathBuf::from).unwrap_or_else(|| suite_dir.join("report"));
    let options = reports::ReportOptions { harness_version: env!("CARGO_PKG_VERSION").into(), reference: None };
    let start = std::time::Instant::now();
    let summary = reports::generate(&suite_dir, &out_dir, &options)?;
    println!("{}", summary.markdown);
    println!("wrote {} files in {:?}; open {}", summary.files.len(), start.elapsed(), summary.index_html.display());
    Ok(())
}
