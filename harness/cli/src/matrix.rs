//! Expands a suite into its cells: dataset x method entry x seed, each with fully resolved
//! settings. Names are checked here, before anything runs, so a typo fails in milliseconds
//! with the list of valid names.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::trainer::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::config::{BenchmarksFile, ConfigError, TrainSettings};

/// One cell of a suite's matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// `<dataset>--<method>--<variant>--seed<k>`; the cell's directory name.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Dataset label (the preset key, or the registered name when no preset exists).
    pub dataset: String,
    /// Registered dataset name.
    pub dataset_name: String,
    /// Dataset options.
    pub dataset_options: Options,
    /// Data path from the preset.
    pub dataset_path: Option<PathBuf>,
    /// Missing-modality options from the preset.
    pub missing: Option<Options>,
    /// Registered method name.
    pub method: String,
    /// Variant label.
    pub variant: String,
    /// Method options.
    pub method_options: Options,
    /// Seed.
    pub seed: u64,
    /// Resolved training settings of the cell.
    pub train: TrainSettings,
    /// Resolved training settings of its unimodal teachers.
    pub teacher_train: TrainSettings,
}

impl Cell {
    /// The trainer configuration of this cell (settings + seed).
    pub fn train_config(&self) -> TrainConfig {
        train_config(&self.train, self.seed)
    }
}

/// Turns resolved settings into a trainer config. Expansion has checked the required fields.
pub fn train_config(s: &TrainSettings, seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: s.epochs.unwrap_or(1),
        batch_size: s.batch_size.unwrap_or(32),
        eval_batch_size: s.eval_batch_size,
        optimizer: s.optimizer.clone().unwrap_or(OptimizerConfig::Sgd { lr: 0.01, momentum: 0.9, weight_decay: 1e-4 }),
        lr_schedule: s.lr_schedule,
        seed,
    }
}

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid { path: path.to_path_buf(), message }
}

fn check_settings(s: &TrainSettings, what: &str, path: &Path) -> Result<(), ConfigError> {
    for (missing, key) in
        [(s.epochs.is_none(), "epochs"), (s.batch_size.is_none(), "batch-size"), (s.optimizer.is_none(), "optimizer")]
    {
        if missing {
            return Err(invalid(
                path,
                format!("{what}: no `{key}` is set (set it in [defaults] or the suite's `train`)"),
            ));
        }
    }
    if s.epochs == Some(0) || s.batch_size == Some(0) {
        return Err(invalid(path, format!("{what}: `epochs` and `batch-size` must be at least 1")));
    }
    if let Some(f) = &s.fusion {
        harness_core::fusion::lookup(f).map_err(|e| invalid(path, format!("{what}: {e}")))?;
    }
    for (modality, enc) in &s.encoders {
        harness_core::encoders::lookup(&enc.name)
            .map_err(|e| invalid(path, format!("{what}, encoder of modality `{modality}`: {e}")))?;
    }
    Ok(())
}

/// Expands suite `name` of `file` (read from `path`) into cells.
pub fn expand(file: &BenchmarksFile, name: &str, path: &Path) -> Result<Vec<Cell>, ConfigError> {
    let suite = file.suite(name, path)?;
    if suite.datasets.is_empty() || suite.methods.is_empty() || suite.seeds.is_empty() {
        return Err(invalid(path, format!("suite `{name}` needs at least one dataset, one method and one seed")));
    }
    let mut cells = Vec::new();
    let mut seen = BTreeSet::new();
    for label in &suite.datasets {
        let preset = file.datasets.get(label).cloned().unwrap_or_default();
        let dataset_name = preset.dataset.clone().unwrap_or_else(|| label.clone());
        harness_core::data::lookup(&dataset_name).map_err(|e| {
            invalid(path, format!("suite `{name}`, dataset `{label}` (not a preset in [datasets] either): {e}"))
        })?;
        let base = file.defaults.merged(&preset.train).merged(&suite.train);
        let teacher_train = file.defaults.merged(&preset.train).merged(&suite.teacher_train);
        for spec in &suite.methods {
            let entry = spec.entry();
            harness_core::method::lookup(&entry.method).map_err(|e| invalid(path, format!("suite `{name}`: {e}")))?;
            let variant = entry.variant.clone().unwrap_or_else(|| "default".into());
            if !seen.insert((label.clone(), entry.method.clone(), variant.clone())) {
                return Err(invalid(
                    path,
                    format!(
                        "suite `{name}` lists method `{}` variant `{variant}` twice for dataset `{label}`; give the \
                         entries distinct `variant` labels",
                        entry.method
                    ),
                ));
            }
            let train = base.merged(&entry.train);
            let what = format!("suite `{name}`, dataset `{label}`, method `{}` ({variant})", entry.method);
            check_settings(&train, &what, path)?;
            for &seed in &suite.seeds {
                cells.push(Cell {
                    id: format!("{label}--{}--{variant}--seed{seed}", entry.method),
                    suite: name.to_string(),
                    dataset: label.clone(),
                    dataset_name: dataset_name.clone(),
                    dataset_options: preset.options.clone(),
                    dataset_path: preset.path.clone(),
                    missing: preset.missing.clone(),
                    method: entry.method.clone(),
                    variant: variant.clone(),
                    method_options: entry.options.clone(),
                    seed,
                    train: train.clone(),
                    teacher_train: teacher_train.clone(),
                });
            }
        }
    }
    Ok(cells)
}
