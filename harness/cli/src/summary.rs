//! The markdown summary printed at the end of a run: method x dataset, test metric of the
//! fused output and of every modality's head, mean ± std over seeds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::CellResult;

/// Mean and sample standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// The metric summarised for a dataset: accuracy (shown in %) or, for regression, R².
fn headline_metric(results: &[&CellResult]) -> (&'static str, f64) {
    let has_accuracy = results
        .iter()
        .any(|r| r.r#final.get("test").and_then(|h| h.get("fused")).is_some_and(|m| m.contains_key("accuracy")));
    if has_accuracy { ("accuracy", 100.0) } else { ("r2", 1.0) }
}

/// Renders the summary table of `results` (one table per dataset).
pub fn markdown(results: &[CellResult]) -> String {
    let mut by_dataset: BTreeMap<&str, Vec<&CellResult>> = BTreeMap::new();
    for r in results {
        by_dataset.entry(&r.dataset).or_default().push(r);
    }
    let mut out = String::new();
    for (dataset, rs) in by_dataset {
        let (metric, scale) = headline_metric(&rs);
        let mut heads: Vec<String> = vec!["fused".into()];
        for r in &rs {
            if let Some(test) = r.r#final.get("test") {
                for h in test.keys() {
                    if !heads.contains(h) {
                        heads.push(h.clone());
                    }
                }
            }
        }
        let mut rows: BTreeMap<(String, String), Vec<&CellResult>> = BTreeMap::new();
        for r in &rs {
            rows.entry((r.method.clone(), r.variant.clone())).or_default().push(r);
        }
        let unit = if scale == 100.0 { " (%)" } else { "" };
        let _ = writeln!(out, "### {dataset}: test {metric}{unit}, mean ± std over seeds\n");
        let _ = writeln!(out, "| method | seeds | {} |", heads.join(" | "));
        let _ = writeln!(out, "|---|---:|{}|", heads.iter().map(|_| "---:").collect::<Vec<_>>().join("|"));
        for ((method, variant), cells) in rows {
            let name = if variant == "default" { method } else { format!("{method} ({variant})") };
            let cols: Vec<String> = heads
                .iter()
                .map(|h| {
                    let vals: Vec<f64> = cells
                        .iter()
                        .filter_map(|r| r.r#final.get("test")?.get(h)?.get(metric).copied())
                        .map(|v| v * scale)
                        .collect();
                    if vals.is_empty() {
                        "—".to_string()
                    } else {
                        let (m, s) = mean_std(&vals);
                        if scale == 100.0 { format!("{m:.2} ± {s:.2}") } else { format!("{m:.3} ± {s:.3}") }
                    }
                })
                .collect();
            let _ = writeln!(out, "| {name} | {} | {} |", cells.len(), cols.join(" | "));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FinalMetrics;

    fn result(method: &str, seed: u64, fused: f64, audio: f64) -> CellResult {
        let mut fin = FinalMetrics::new();
        let mut heads = BTreeMap::new();
        heads.insert("fused".to_string(), BTreeMap::from([("accuracy".to_string(), fused)]));
        heads.insert("audio".to_string(), BTreeMap::from([("accuracy".to_string(), audio)]));
        fin.insert("test".into(), heads);
        CellResult {
            suite: "s".into(),
            dataset: "d".into(),
            method: method.into(),
            variant: "default".into(),
            seed,
            config_hash: String::new(),
            selected_epoch: 0,
            epochs_run: 1,
            seconds_per_epoch: 0.0,
            train_seconds: 0.0,
            peak_memory_bytes: None,
            r#final: fin,
        }
    }

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((s - 1.0).abs() < 1e-12);
    }

    #[test]
    fn summary_has_a_row_per_method_and_a_column_per_head() {
        let md = markdown(&[result("joint", 0, 0.5, 0.4), result("joint", 1, 0.7, 0.6), result("g2d", 0, 0.9, 0.8)]);
        assert!(md.contains("| method | seeds | fused | audio |"), "{md}");
        assert!(md.contains("| joint | 2 | 60.00 ± 14.14 | 50.00 ± 14.14 |"), "{md}");
        assert!(md.contains("| g2d | 1 | 90.00 ± 0.00 | 80.00 ± 0.00 |"), "{md}");
    }
}
