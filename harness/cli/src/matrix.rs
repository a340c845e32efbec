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
    /// Modality subset from the preset.
    pub modalities: Option<Vec<String>>,
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
        // Teachers share the suite's recipe (the official teachers use the student's optimizer
        // settings) but not a method entry's overrides, so every method of a suite shares them.
        let teacher_train = base.merged(&suite.teacher_train);
        check_settings(&teacher_train, &format!("suite `{name}`, dataset `{label}`, teachers"), path)?;
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
                    modalities: preset.modalities.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[defaults]
epochs = 3
batch-size = 8
optimizer = { kind = "sgd", lr = 0.1 }
fusion = "late"

[datasets.small]
dataset = "synthetic-av"
train = { epochs = 4 }

[suites.s]
datasets = ["small", "synthetic-av3"]
seeds = [0, 1]
train = { batch-size = 16 }
methods = ["joint", { method = "g2d", variant = "no-smp", options = { smp = false }, train = { epochs = 9 } }]
"#;

    fn cells() -> Vec<Cell> {
        let f = BenchmarksFile::parse(FILE, Path::new("b.toml")).unwrap();
        expand(&f, "s", Path::new("b.toml")).unwrap()
    }

    #[test]
    fn matrix_is_dataset_by_method_by_seed_in_order() {
        let ids: Vec<String> = cells().into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![
                "small--joint--default--seed0",
                "small--joint--default--seed1",
                "small--g2d--no-smp--seed0",
                "small--g2d--no-smp--seed1",
                "synthetic-av3--joint--default--seed0",
                "synthetic-av3--joint--default--seed1",
                "synthetic-av3--g2d--no-smp--seed0",
                "synthetic-av3--g2d--no-smp--seed1",
            ]
        );
    }

    #[test]
    fn settings_merge_defaults_preset_suite_and_entry() {
        let c = cells();
        assert_eq!(c[0].dataset_name, "synthetic-av");
        assert_eq!(c[0].train.epochs, Some(4), "preset overrides defaults");
        assert_eq!(c[0].train.batch_size, Some(16), "suite overrides defaults");
        assert_eq!(c[2].train.epochs, Some(9), "method entry overrides the preset");
        assert_eq!(c[4].train.epochs, Some(3), "no preset: defaults");
        assert_eq!(c[2].method_options.get("smp"), Some(&toml::Value::Boolean(false)));
        // Teachers use the settings without the method entry's overrides.
        assert_eq!(c[2].teacher_train.epochs, Some(4));
        assert_eq!(c[2].teacher_train.batch_size, Some(16), "the suite's settings reach the teachers");
        assert_eq!(c[3].train_config().seed, 1);
    }

    #[test]
    fn duplicate_entries_and_missing_settings_are_errors() {
        let dup = FILE.replace("methods = [\"joint\",", "methods = [\"joint\", \"joint\",");
        let f = BenchmarksFile::parse(&dup, Path::new("b.toml")).unwrap();
        let err = expand(&f, "s", Path::new("b.toml")).unwrap_err().to_string();
        assert!(err.contains("twice") && err.contains("variant"), "{err}");
        let no_epochs = FILE.replace("epochs = 3\n", "").replace("train = { epochs = 4 }", "");
        let f = BenchmarksFile::parse(&no_epochs, Path::new("b.toml")).unwrap();
        let err = expand(&f, "s", Path::new("b.toml")).unwrap_err().to_string();
        assert!(err.contains("no `epochs` is set"), "{err}");
    }

    #[test]
    fn unknown_fusion_in_settings_lists_valid_fusions() {
        let bad = FILE.replace("fusion = \"late\"", "fusion = \"lait\"");
        let f = BenchmarksFile::parse(&bad, Path::new("b.toml")).unwrap();
        let err = expand(&f, "s", Path::new("b.toml")).unwrap_err().to_string();
        assert!(err.contains("unknown fusion `lait`") && err.contains("concat"), "{err}");
    }
}
