//! Aggregation over seeds with polars: final metrics (mean, std, n) and per-epoch curves (mean).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::error::ReportError;

/// Identifies one metric of one method variant on one dataset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    /// Dataset label.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// Variant name (`default` when none).
    pub variant: String,
    /// `train`, `val` or `test`.
    pub split: String,
    /// `fused` or a modality name.
    pub head: String,
    /// Metric name (`accuracy`, `mape`, ...).
    pub metric: String,
}

impl MetricKey {
    /// Builds a key from string slices.
    pub fn new(dataset: &str, method: &str, variant: &str, split: &str, head: &str, metric: &str) -> Self {
        Self {
            dataset: dataset.to_owned(),
            method: method.to_owned(),
            variant: variant.to_owned(),
            split: split.to_owned(),
            head: head.to_owned(),
            metric: metric.to_owned(),
        }
    }
}

/// Identifies one trace series of one method variant on one dataset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceKey {
    /// Dataset label.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// Variant name.
    pub variant: String,
    /// Trace name (`teacher-confidence`, ...).
    pub name: String,
    /// Trace key, usually a modality.
    pub key: String,
}

/// Mean, sample standard deviation and count of a metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStats {
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); `None` for a single seed.
    pub std: Option<f64>,
    /// Number of seeds with a value.
    pub n: usize,
}

/// Final metrics aggregated over seeds, plus the per-seed values for paired tests.
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Mean/std/n per metric key.
    pub stats: BTreeMap<MetricKey, SeedStats>,
    /// The value of each seed per metric key.
    pub per_seed: BTreeMap<MetricKey, BTreeMap<i64, f64>>,
}

/// A per-epoch series: (epoch, mean over seeds), sorted by epoch.
pub type Curve = Vec<(i64, f64)>;

const METRIC_KEY_COLUMNS: [&str; 6] = ["dataset", "method", "variant", "split", "head", "metric"];
const TRACE_KEY_COLUMNS: [&str; 5] = ["dataset", "method", "variant", "name", "key"];

/// Aggregates the results frame (see [`crate::store::Store::results`]) over seeds.
pub fn over_seeds(results: &DataFrame) -> Result<Aggregates, ReportError> {
    let context = |e| ReportError::polars("final metrics over seeds", e);
    let grouped = results
        .clone()
        .lazy()
        .filter(col("value").is_not_null().and(col("value").is_not_nan()))
        .group_by(METRIC_KEY_COLUMNS.map(col))
        .agg([
            col("value").mean().alias("mean"),
            col("value").std(1).alias("std"),
            col("value").count().cast(DataType::Int64).alias("n"),
        ])
        .collect()
        .map_err(context)?;

    let keys = metric_keys(&grouped).map_err(context)?;
    let mean = grouped.column("mean").and_then(|c| c.f64().cloned()).map_err(context)?;
    let std = grouped.column("std").and_then(|c| c.f64().cloned()).map_err(context)?;
    let n = grouped.column("n").and_then(|c| c.i64().cloned()).map_err(context)?;
    let mut aggregates = Aggregates::default();
    for (i, key) in keys.into_iter().enumerate() {
        let stats = SeedStats {
            mean: mean.get(i).unwrap_or(f64::NAN),
            std: std.get(i).filter(|s| s.is_finite()),
            n: n.get(i).unwrap_or(0) as usize,
        };
        aggregates.stats.insert(key, stats);
    }

    let keys = metric_keys(results).map_err(context)?;
    let seed = results.column("seed").and_then(|c| c.i64().cloned()).map_err(context)?;
    let value = results.column("value").and_then(|c| c.f64().cloned()).map_err(context)?;
    for (i, key) in keys.into_iter().enumerate() {
        if let (Some(seed), Some(value)) = (seed.get(i), value.get(i).filter(|v| !v.is_nan())) {
            aggregates.per_seed.entry(key).or_default().insert(seed, value);
        }
    }
    Ok(aggregates)
}

/// Mean per-epoch metric curves over seeds (see [`crate::store::Store::epochs`]).
pub fn epoch_curves(epochs: &DataFrame) -> Result<BTreeMap<MetricKey, Curve>, ReportError> {
    let context = |e| ReportError::polars("epoch curves over seeds", e);
    let grouped = mean_per_epoch(epochs, &METRIC_KEY_COLUMNS).map_err(context)?;
    let keys = metric_keys(&grouped).map_err(context)?;
    collect_curves(&grouped, keys).map_err(context)
}

/// Mean per-epoch trace curves over seeds (see [`crate::store::Store::traces`]).
pub fn trace_curves(traces: &DataFrame) -> Result<BTreeMap<TraceKey, Curve>, ReportError> {
    let context = |e| ReportError::polars("trace curves over seeds", e);
    let grouped = mean_per_epoch(traces, &TRACE_KEY_COLUMNS).map_err(context)?;
    let columns = string_columns(&grouped, &TRACE_KEY_COLUMNS).map_err(context)?;
    let keys = (0..grouped.height())
        .map(|i| TraceKey {
            dataset: columns[0][i].clone(),
            method: columns[1][i].clone(),
            variant: columns[2][i].clone(),
            name: columns[3][i].clone(),
            key: columns[4][i].clone(),
        })
        .collect();
    collect_curves(&grouped, keys).map_err(context)
}

fn mean_per_epoch(frame: &DataFrame, keys: &[&str]) -> PolarsResult<DataFrame> {
    let mut by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    by.push(col("epoch"));
    frame
        .clone()
        .lazy()
        .filter(col("value").is_not_null().and(col("value").is_not_nan()))
        .group_by(by)
        .agg([col("value").mean().alias("mean")])
        .collect()
}

fn collect_curves<K: Ord>(grouped: &DataFrame, keys: Vec<K>) -> PolarsResult<BTreeMap<K, Curve>> {
    let epoch = grouped.column("epoch")?.i64()?;
    let mean = grouped.column("mean")?.f64()?;
    let mut curves: BTreeMap<K, BTreeMap<i64, f64>> = BTreeMap::new();
    for (i, key) in keys.into_iter().enumerate() {
        if let (Some(epoch), Some(mean)) = (epoch.get(i), mean.get(i)) {
            curves.entry(key).or_default().insert(epoch, mean);
        }
    }
    Ok(curves.into_iter().map(|(k, points)| (k, points.into_iter().collect())).collect())
}

fn metric_keys(frame: &DataFrame) -> PolarsResult<Vec<MetricKey>> {
    let columns = string_columns(frame, &METRIC_KEY_COLUMNS)?;
    Ok((0..frame.height())
        .map(|i| MetricKey {
            dataset: columns[0][i].clone(),
            method: columns[1][i].clone(),
            variant: columns[2][i].clone(),
            split: columns[3][i].clone(),
            head: columns[4][i].clone(),
            metric: columns[5][i].clone(),
        })
        .collect())
}

/// The named string columns as owned vectors (null becomes `""`, a null variant `default`).
fn string_columns(frame: &DataFrame, names: &[&str]) -> PolarsResult<Vec<Vec<String>>> {
    names
        .iter()
        .map(|name| {
            let fallback = if *name == "variant" { "default" } else { "" };
            let column = frame.column(name)?.str()?;
            Ok((0..column.len()).map(|i| column.get(i).unwrap_or(fallback).to_owned()).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::df;

    fn results_frame(rows: &[(&str, i64, &str, f64)]) -> DataFrame {
        let n = rows.len();
        df!(
            "dataset" => vec!["d"; n],
            "method" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "variant" => vec!["default"; n],
            "seed" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "split" => vec!["test"; n],
            "head" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "metric" => vec!["accuracy"; n],
            "value" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn mean_and_sample_std_over_seeds() {
        let frame = results_frame(&[("g2d", 0, "fused", 0.80), ("g2d", 1, "fused", 0.82), ("g2d", 2, "fused", 0.84)]);
        let aggregates = over_seeds(&frame).unwrap();
        let stats = aggregates.stats[&MetricKey::new("d", "g2d", "default", "test", "fused", "accuracy")];
        assert!((stats.mean - 0.82).abs() < 1e-12);
        assert!((stats.std.unwrap() - 0.02).abs() < 1e-12);
        assert_eq!(stats.n, 3);
    }

    #[test]
    fn single_seed_has_no_std() {
        let frame = results_frame(&[("joint", 0, "audio", 0.5)]);
        let aggregates = over_seeds(&frame).unwrap();
        let stats = aggregates.stats[&MetricKey::new("d", "joint", "default", "test", "audio", "accuracy")];
        assert_eq!((stats.mean, stats.std, stats.n), (0.5, None, 1));
    }
}
