//! `harness list`: every registered method, dataset, encoder, fusion and suite, one per line.

use std::fmt::Write as _;

use crate::config::BenchmarksFile;

/// Renders the listing; suites come from `config` when it parsed.
pub fn render(config: Option<&BenchmarksFile>) -> String {
    let mut out = String::new();
    for m in harness_core::method::registered() {
        let _ = writeln!(out, "method   {:<22} {}", m.name, m.description);
    }
    for d in harness_core::data::registered() {
        let _ = writeln!(out, "dataset  {:<22} {}", d.name, d.description);
    }
    for e in harness_core::encoders::registered() {
        let _ = writeln!(out, "encoder  {:<22} {}", e.name, e.description);
    }
    for f in harness_core::fusion::registered() {
        let _ = writeln!(out, "fusion   {:<22} {}", f.name, f.description);
    }
    if let Some(c) = config {
        for (name, s) in &c.suites {
            let _ = writeln!(out, "suite    {:<22} {}", name, s.description);
        }
    }
    out
}
