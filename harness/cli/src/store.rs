//! The results store on disk (docs/results-store.md): per-cell files, the suite's long-format
//! `results.csv` and `suite.json`. Every write is atomic (a temporary file in the same
//! directory, then a rename), and `result.json` is written last, so a cell is either complete
//! or absent and an interrupted suite resumes where it stopped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use harness_core::metrics::MetricMap;
use harness_core::trainer::{EpochRecord, EvalReport};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ReportSettings;
use crate::matrix::Cell;

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().context("path without a parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Final metrics: split -> head -> metric -> value.
pub type FinalMetrics = BTreeMap<String, BTreeMap<String, MetricMap>>;

/// `result.json` of a completed cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellResult {
    /// Suite name.
    pub suite: String,
    /// Dataset label.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// Variant label.
    pub variant: String,
    /// Seed.
    pub seed: u64,
    /// Hash of the resolved cell config; a changed config re-runs the cell.
    pub config_hash: String,
    /// Epoch selected on validation.
    pub selected_epoch: usize,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// Mean wall time of a training epoch, seconds.
    pub seconds_per_epoch: f64,
    /// Total training wall time, seconds.
    pub train_seconds: f64,
    /// Peak resident memory, bytes, where measured.
    pub peak_memory_bytes: Option<u64>,
    /// Metrics of the selected epoch on `val` and `test`.
    pub r#final: FinalMetrics,
}

/// Hash of a cell's resolved configuration.
pub fn config_hash(cell: &Cell) -> String {
    let json = serde_json::to_vec(cell).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().take(8).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Directory of a suite.
pub fn suite_dir(out: &Path, suite: &str) -> PathBuf {
    out.join(suite)
}

/// Directory of a cell.
pub fn cell_dir(out: &Path, cell: &Cell) -> PathBuf {
    suite_dir(out, &cell.suite).join("cells").join(&cell.id)
}

/// The completed result of `cell`, if it exists and was produced by the same configuration.
pub fn completed(out: &Path, cell: &Cell) -> Option<CellResult> {
    let text = std::fs::read_to_string(cell_dir(out, cell).join("result.json")).ok()?;
    let r: CellResult = serde_json::from_str(&text).ok()?;
    (r.config_hash == config_hash(cell)).then_some(r)
}

fn final_metrics(val: &EvalReport, test: &EvalReport) -> FinalMetrics {
    let mut m = FinalMetrics::new();
    m.insert("val".into(), val.heads.clone());
    m.insert("test".into(), test.heads.clone());
    m
}

/// Writes the per-epoch files and `config.json` of a cell, then its `result.json`.
pub fn write_cell(
    out: &Path,
    cell: &Cell,
    resolved: &serde_json::Value,
    epochs: &[EpochRecord],
    selected_epoch: usize,
    peak_memory_bytes: Option<u64>,
) -> Result<CellResult> {
    let dir = cell_dir(out, cell);
    write_atomic(&dir.join("config.json"), serde_json::to_string_pretty(resolved)?.as_bytes())?;
    let mut ep = String::from("epoch,split,head,metric,value\n");
    let mut tr = String::from("epoch,name,key,value\n");
    for r in epochs {
        let _ = writeln!(ep, "{},train,fused,loss,{}", r.epoch, r.train_loss);
        let _ = writeln!(ep, "{},train,fused,lr,{}", r.epoch, r.lr);
        let _ = writeln!(ep, "{},train,fused,seconds,{}", r.epoch, r.train_seconds);
        for (split, report) in [("val", &r.val), ("test", &r.test)] {
            for (head, metrics) in &report.heads {
                for (metric, value) in metrics {
                    let _ = writeln!(ep, "{},{split},{head},{metric},{value}", r.epoch);
                }
            }
        }
        for t in &r.traces {
            let _ = writeln!(tr, "{},{},{},{}", t.epoch, t.name, t.key, t.value);
        }
    }
    write_atomic(&dir.join("epochs.csv"), ep.as_bytes())?;
    write_atomic(&dir.join("traces.csv"), tr.as_bytes())?;
    let selected = &epochs[selected_epoch];
    let train_seconds: f64 = epochs.iter().map(|e| e.train_seconds).sum();
    let result = CellResult {
        suite: cell.suite.clone(),
        dataset: cell.dataset.clone(),
        method: cell.method.clone(),
        variant: cell.variant.clone(),
        seed: cell.seed,
        config_hash: config_hash(cell),
        selected_epoch,
        epochs_run: epochs.len(),
        seconds_per_epoch: train_seconds / epochs.len().max(1) as f64,
        train_seconds,
        peak_memory_bytes,
        r#final: final_metrics(&selected.val, &selected.test),
    };
    write_atomic(&dir.join("result.json"), serde_json::to_string_pretty(&result)?.as_bytes())?;
    Ok(result)
}

/// `suite.json`: the suite's identity, report settings and cell list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteManifest {
    /// Suite name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Report settings.
    pub report: ReportSettings,
    /// The cells of the matrix.
    pub cells: Vec<CellRef>,
    /// Harness version that wrote it.
    pub harness_version: String,
}

/// A cell's identity in `suite.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRef {
    /// Cell id (directory name).
    pub id: String,
    /// Dataset label.
    pub dataset: String,
    /// Method.
    pub method: String,
    /// Variant.
    pub variant: String,
    /// Seed.
    pub seed: u64,
}

/// Writes `suite.json`.
pub fn write_manifest(out: &Path, manifest: &SuiteManifest) -> Result<()> {
    write_atomic(&suite_dir(out, &manifest.name).join("suite.json"), serde_json::to_string_pretty(manifest)?.as_bytes())
}

/// Rebuilds `results.csv` from the results of the completed cells.
pub fn write_results_csv(out: &Path, suite: &str, results: &[CellResult]) -> Result<PathBuf> {
    let mut csv = String::from("suite,dataset,method,variant,seed,split,head,metric,value\n");
    for r in results {
        for (split, heads) in &r.r#final {
            for (head, metrics) in heads {
                for (metric, value) in metrics {
                    let _ = writeln!(
                        csv,
                        "{},{},{},{},{},{split},{head},{metric},{value}",
                        r.suite, r.dataset, r.method, r.variant, r.seed
                    );
                }
            }
        }
    }
    let path = suite_dir(out, suite).join("results.csv");
    write_atomic(&path, csv.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("harness-store-test-{}", std::process::id()));
        let p = dir.join("a").join("x.json");
        write_atomic(&p, b"{}").unwrap();
        write_atomic(&p, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\":1}");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
