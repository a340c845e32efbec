//! Reading a results store (docs/results-store.md) into polars frames.
//!
//! A cell is complete when its `result.json` exists. Incomplete cells are listed in
//! [`Store::missing`] and contribute nothing else, so an interrupted suite still reports.

mod csv;
mod suite;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Deserialize;

pub use suite::{CellSpec, ReportSettings, Suite};

use crate::error::ReportError;
use csv::{ColType, empty_frame, read_csv};

const RESULTS_COLUMNS: &[(&str, ColType)] = &[
    ("suite", ColType::Str),
    ("dataset", ColType::Str),
    ("method", ColType::Str),
    ("variant", ColType::Str),
    ("seed", ColType::Int),
    ("split", ColType::Str),
    ("head", ColType::Str),
    ("metric", ColType::Str),
    ("value", ColType::Float),
];
const EPOCHS_COLUMNS: &[(&str, ColType)] = &[
    ("epoch", ColType::Int),
    ("split", ColType::Str),
    ("head", ColType::Str),
    ("metric", ColType::Str),
    ("value", ColType::Float),
];
const TRACES_COLUMNS: &[(&str, ColType)] =
    &[("epoch", ColType::Int), ("name", ColType::Str), ("key", ColType::Str), ("value", ColType::Float)];
const CELL_COLUMNS: &[(&str, ColType)] =
    &[("dataset", ColType::Str), ("method", ColType::Str), ("variant", ColType::Str), ("seed", ColType::Int)];

/// Everything the report reads from `runs/<suite>/`.
#[derive(Debug)]
pub struct Store {
    /// The suite directory.
    pub dir: PathBuf,
    /// The parsed `suite.json`.
    pub suite: Suite,
    /// `suite.json` as written, for display.
    pub suite_json: serde_json::Value,
    /// Final metrics: `dataset, method, variant, seed, split, head, metric, value`.
    pub results: DataFrame,
    /// Per-epoch metrics of complete cells: `dataset, method, variant, seed, epoch, split, head, metric, value`.
    pub epochs: DataFrame,
    /// Per-epoch traces of complete cells: `dataset, method, variant, seed, epoch, name, key, value`.
    pub traces: DataFrame,
    /// Cells of `suite.json` that have a `result.json`.
    pub complete: Vec<CellSpec>,
    /// Cells of `suite.json` without a `result.json` (not run, running or interrupted).
    pub missing: Vec<CellSpec>,
    /// `config.json` of the first complete seed of each dataset/method/variant, in suite order.
    pub configs: Vec<(CellSpec, serde_json::Value)>,
}

/// The part of `result.json` the report needs: `final[split][head][metric]`.
#[derive(Debug, Deserialize)]
struct ResultJson {
    #[serde(rename = "final", default)]
    final_metrics: BTreeMap<String, BTreeMap<String, BTreeMap<String, Option<f64>>>>,
}

impl Store {
    /// Reads `suite.json`, `results.csv` and the files of every complete cell under `dir`.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let (suite, suite_json) = Suite::load(&dir.join("suite.json"))?;
        let (complete, missing): (Vec<CellSpec>, Vec<CellSpec>) =
            suite.cells.iter().cloned().partition(|cell| cell_dir(dir, cell).join("result.json").is_file());

        let results = read_results(dir, &complete)?;
        let mut epoch_frames = Vec::new();
        let mut trace_frames = Vec::new();
        let mut configs = Vec::new();
        let mut seen_configs = BTreeSet::new();
        for cell in &complete {
            let cell_path = cell_dir(dir, cell);
            if let Some(frame) = read_optional(&cell_path.join("epochs.csv"), EPOCHS_COLUMNS)? {
                epoch_frames.push(with_cell_columns(frame, cell));
            }
            if let Some(frame) = read_optional(&cell_path.join("traces.csv"), TRACES_COLUMNS)? {
                trace_frames.push(with_cell_columns(frame, cell));
            }
            let config_path = cell_path.join("config.json");
            if config_path.is_file() && seen_configs.insert((&cell.dataset, &cell.method, &cell.variant)) {
                configs.push((cell.clone(), read_json(&config_path)?));
            }
        }
        let epochs = concat_frames(epoch_frames, &[CELL_COLUMNS, EPOCHS_COLUMNS].concat(), "epochs.csv")?;
        let traces = concat_frames(trace_frames, &[CELL_COLUMNS, TRACES_COLUMNS].concat(), "traces.csv")?;
        Ok(Self { dir: dir.to_owned(), suite, suite_json, results, epochs, traces, complete, missing, configs })
    }
}

/// `cells/<cell-id>/` of a cell.
pub fn cell_dir(suite_dir: &Path, cell: &CellSpec) -> PathBuf {
    suite_dir.join("cells").join(&cell.id)
}

/// Reads `results.csv` and adds rows from `result.json` for complete cells it does not list yet
/// (the runner appends to `results.csv` after writing `result.json`, so a crash can fall between).
fn read_results(dir: &Path, complete: &[CellSpec]) -> Result<DataFrame, ReportError> {
    let path = dir.join("results.csv");
    let frame = read_optional(&path, RESULTS_COLUMNS)?.unwrap_or_else(|| empty_frame(RESULTS_COLUMNS));
    let frame = frame
        .lazy()
        .select([
            col("dataset"),
            col("method"),
            col("variant"),
            col("seed"),
            col("split"),
            col("head"),
            col("metric"),
            col("value"),
        ])
        .collect()
        .map_err(|e| ReportError::polars("results.csv", e))?;

    let listed = listed_cells(&frame).map_err(|e| ReportError::polars("results.csv", e))?;
    let mut extra = ExtraRows::default();
    for cell in complete {
        let key = (cell.dataset.clone(), cell.method.clone(), cell.variant.clone(), cell.seed);
        if listed.contains(&key) {
            continue;
        }
        let result_path = cell_dir(dir, cell).join("result.json");
        let result: ResultJson = serde_json::from_value(read_json(&result_path)?).map_err(|e| ReportError::Json {
            path: result_path,
            line: 0,
            column: 0,
            message: e.to_string(),
        })?;
        for (split, heads) in &result.final_metrics {
            for (head, metrics) in heads {
                for (metric, value) in metrics {
                    extra.push(cell, split, head, metric, value.unwrap_or(f64::NAN));
                }
            }
        }
    }
    if extra.value.is_empty() {
        return Ok(frame);
    }
    let mut frame = frame;
    frame.vstack_mut_owned(extra.into_frame()).map_err(|e| ReportError::polars("result.json rows", e))?;
    Ok(frame)
}

/// Distinct (dataset, method, variant, seed) of a results frame.
fn listed_cells(frame: &DataFrame) -> PolarsResult<BTreeSet<(String, String, String, i64)>> {
    let dataset = frame.column("dataset")?.str()?;
    let method = frame.column("method")?.str()?;
    let variant = frame.column("variant")?.str()?;
    let seed = frame.column("seed")?.i64()?;
    let mut cells = BTreeSet::new();
    for i in 0..frame.height() {
        cells.insert((
            dataset.get(i).unwrap_or_default().to_owned(),
            method.get(i).unwrap_or_default().to_owned(),
            variant.get(i).unwrap_or("default").to_owned(),
            seed.get(i).unwrap_or_default(),
        ));
    }
    Ok(cells)
}

/// Results rows recovered from `result.json` files, column by column.
#[derive(Default)]
struct ExtraRows {
    dataset: Vec<String>,
    method: Vec<String>,
    variant: Vec<String>,
    seed: Vec<i64>,
    split: Vec<String>,
    head: Vec<String>,
    metric: Vec<String>,
    value: Vec<f64>,
}

impl ExtraRows {
    fn push(&mut self, cell: &CellSpec, split: &str, head: &str, metric: &str, value: f64) {
        self.dataset.push(cell.dataset.clone());
        self.method.push(cell.method.clone());
        self.variant.push(cell.variant.clone());
        self.seed.push(cell.seed);
        self.split.push(split.to_owned());
        self.head.push(head.to_owned());
        self.metric.push(metric.to_owned());
        self.value.push(value);
    }

    fn into_frame(self) -> DataFrame {
        let height = self.value.len();
        let value: Vec<Option<f64>> = self.value.into_iter().map(|v| (!v.is_nan()).then_some(v)).collect();
        DataFrame::new(
            height,
            vec![
                Column::new("dataset".into(), self.dataset),
                Column::new("method".into(), self.method),
                Column::new("variant".into(), self.variant),
                Column::new("seed".into(), self.seed),
                Column::new("split".into(), self.split),
                Column::new("head".into(), self.head),
                Column::new("metric".into(), self.metric),
                Column::new("value".into(), value),
            ],
        )
        .expect("columns have equal length")
    }
}

fn read_optional(path: &Path, columns: &[(&str, ColType)]) -> Result<Option<DataFrame>, ReportError> {
    if path.is_file() { read_csv(path, columns).map(Some) } else { Ok(None) }
}

fn read_json(path: &Path) -> Result<serde_json::Value, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ReportError::json(path, &e))
}

/// Prepends the cell's dataset, method, variant and seed to a per-cell frame.
fn with_cell_columns(frame: DataFrame, cell: &CellSpec) -> LazyFrame {
    let own: Vec<Expr> = frame.get_column_names().into_iter().map(|name| col(name.clone())).collect();
    let mut columns = vec![
        lit(cell.dataset.clone()).alias("dataset"),
        lit(cell.method.clone()).alias("method"),
        lit(cell.variant.clone()).alias("variant"),
        lit(cell.seed).alias("seed"),
    ];
    columns.extend(own);
    frame.lazy().select(columns)
}

fn concat_frames(frames: Vec<LazyFrame>, columns: &[(&str, ColType)], what: &str) -> Result<DataFrame, ReportError> {
    if frames.is_empty() {
        return Ok(empty_frame(columns));
    }
    concat(frames, UnionArgs::default())
        .and_then(LazyFrame::collect)
        .map_err(|e| ReportError::polars(format!("concatenating {what} of all cells"), e))
}
