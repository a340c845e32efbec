//! `benchmarks.toml`: shared training defaults, dataset presets and suites.
//!
//! ```toml
//! [defaults]                       # training settings every suite starts from
//! epochs = 20
//! batch-size = 64
//! optimizer = { kind = "sgd", lr = 0.01 }
//! fusion = "late"
//!
//! [datasets.synthetic-av]          # a dataset preset: registered dataset + options + encoders
//! options = { train = 2000 }
//! train = { encoders.audio = { name = "mlp", options = { out-dim = 32 } } }
//!
//! [suites.quick]
//! datasets = ["synthetic-av"]
//! methods = ["joint", { method = "unimodal", variant = "audio", options = { modality = "audio" } }]
//! seeds = [0, 1, 2]
//! train = { epochs = 15 }          # suite-level overrides
//! ```
//!
//! Training settings merge in this order, later wins: `[defaults]`, the dataset preset's
//! `train`, the suite's `train`, the method entry's `train`. Every table rejects unknown keys,
//! and parse errors carry the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harness_core::data::EncoderChoice;
use harness_core::optim::{OptimizerConfig, StepLr};
use harness_core::options::Options;
use serde::{Deserialize, Serialize};

/// Errors reading `benchmarks.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The config path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or schema error; the message from `toml` names line and column.
    #[error("{path}: {message}")]
    Parse {
        /// The config path.
        path: PathBuf,
        /// What was wrong, with line and column.
        message: String,
    },
    /// A semantic error (unknown suite, empty matrix, ...).
    #[error("{path}: {message}")]
    Invalid {
        /// The config path.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Training settings; every field optional so layers can be merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainSettings {
    /// Number of epochs.
    pub epochs: Option<usize>,
    /// Training batch size.
    pub batch_size: Option<usize>,
    /// Evaluation batch size.
    pub eval_batch_size: Option<usize>,
    /// The optimizer.
    pub optimizer: Option<OptimizerConfig>,
    /// Step LR schedule.
    pub lr_schedule: Option<StepLr>,
    /// Fusion module name.
    pub fusion: Option<String>,
    /// Fusion options.
    pub fusion_options: Option<Options>,
    /// Encoder per modality name.
    #[serde(default)]
    pub encoders: BTreeMap<String, EncoderChoice>,
}

impl TrainSettings {
    /// `self` overridden by every field `other` sets.
    pub fn merged(&self, other: &TrainSettings) -> TrainSettings {
        let mut encoders = self.encoders.clone();
        encoders.extend(other.encoders.clone());
        TrainSettings {
            epochs: other.epochs.or(self.epochs),
            batch_size: other.batch_size.or(self.batch_size),
            eval_batch_size: other.eval_batch_size.or(self.eval_batch_size),
            optimizer: other.optimizer.clone().or_else(|| self.optimizer.clone()),
            lr_schedule: other.lr_schedule.or(self.lr_schedule),
            fusion: other.fusion.clone().or_else(|| self.fusion.clone()),
            fusion_options: other.fusion_options.clone().or_else(|| self.fusion_options.clone()),
            encoders,
        }
    }
}

/// A dataset preset: a registered dataset with options, data location and training overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatasetPreset {
    /// Registered dataset name; defaults to the preset's key.
    pub dataset: Option<String>,
    /// Dataset options.
    #[serde(default)]
    pub options: Options,
    /// Path of the data, relative to `--data-root` unless absolute.
    pub path: Option<PathBuf>,
    /// Training overrides for this dataset (encoders, epochs, ...).
    #[serde(default)]
    pub train: TrainSettings,
    /// Missing-modality setting (paper Table 11), passed to the missing-modality wrapper.
    pub missing: Option<Options>,
    /// Use only these modalities of the dataset, in this order (paper Table 2's pairs).
    pub modalities: Option<Vec<String>>,
}

/// A method entry of a suite: a method, a variant label, its options and training overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "toml::Value")]
pub enum MethodSpec {
    /// Just the method name.
    Name(String),
    /// A full entry.
    Entry(Box<MethodEntrySpec>),
}

/// A full method entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MethodEntrySpec {
    /// Registered method name.
    pub method: String,
    /// Variant label (default `default`); distinguishes entries of the same method.
    pub variant: Option<String>,
    /// Method options.
    #[serde(default)]
    pub options: Options,
    /// Training overrides.
    #[serde(default)]
    pub train: TrainSettings,
}

impl TryFrom<toml::Value> for MethodSpec {
    type Error = String;

    /// A string is a method name; a table is a full entry (whose unknown keys are reported).
    fn try_from(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::String(s) => Ok(MethodSpec::Name(s)),
            v @ toml::Value::Table(_) => {
                MethodEntrySpec::deserialize(v).map(|e| MethodSpec::Entry(Box::new(e))).map_err(|e| e.to_string())
            }
            other => Err(format!(
                "a method entry must be a name or a table like {{ method = \"g2d\", variant = \"x\" }}, found {}",
                other.type_str()
            )),
        }
    }
}

impl MethodSpec {
    /// The entry form.
    pub fn entry(&self) -> MethodEntrySpec {
        match self {
            MethodSpec::Name(n) => MethodEntrySpec {
                method: n.clone(),
                variant: None,
                options: Options::new(),
                train: TrainSettings::default(),
            },
            MethodSpec::Entry(e) => (**e).clone(),
        }
    }
}

/// What report a suite produces (see docs/results-store.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReportSettings {
    /// Table kinds: `main`, `regression`, `ablation`.
    #[serde(default = "default_tables")]
    pub tables: Vec<String>,
    /// Reference method of the paired comparison.
    #[serde(default = "default_reference")]
    pub reference: String,
    /// Whether to draw figures.
    #[serde(default = "default_true")]
    pub figures: bool,
}

fn default_tables() -> Vec<String> {
    vec!["main".into()]
}
fn default_reference() -> String {
    "g2d".into()
}
fn default_true() -> bool {
    true
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { tables: default_tables(), reference: default_reference(), figures: true }
    }
}

/// A suite: the matrix datasets x methods x seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SuiteSpec {
    /// What the suite reproduces.
    #[serde(default)]
    pub description: String,
    /// Dataset preset keys (or registered dataset names).
    pub datasets: Vec<String>,
    /// Method entries.
    pub methods: Vec<MethodSpec>,
    /// Seeds.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Suite-level training overrides.
    #[serde(default)]
    pub train: TrainSettings,
    /// Training overrides for the unimodal teachers (on top of defaults, the dataset preset and
    /// the suite's `train`; method entries' overrides do not reach the teachers).
    #[serde(default)]
    pub teacher_train: TrainSettings,
    /// Report settings.
    #[serde(default)]
    pub report: ReportSettings,
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

/// The whole `benchmarks.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchmarksFile {
    /// Defaults for every suite.
    #[serde(default)]
    pub defaults: TrainSettings,
    /// Dataset presets.
    #[serde(default)]
    pub datasets: BTreeMap<String, DatasetPreset>,
    /// Suites.
    #[serde(default)]
    pub suites: BTreeMap<String, SuiteSpec>,
    /// The suite run when `--suite` is omitted.
    pub default_suite: Option<String>,
}

impl BenchmarksFile {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a config file; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
    }

    /// The suite called `name`, or an error listing the suites.
    pub fn suite(&self, name: &str, path: &Path) -> Result<&SuiteSpec, ConfigError> {
        self.suites.get(name).ok_or_else(|| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "unknown suite `{name}`; valid suites: {}",
                self.suites.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[defaults]
epochs = 3
batch-size = 8
optimizer = { kind = "sgd", lr = 0.1 }
fusion = "late"

[datasets.small-av]
dataset = "synthetic-av"
options = { train = 40 }
train = { epochs = 5, encoders.audio = { name = "mlp", options = { out-dim = 8 } } }

[suites.s]
datasets = ["small-av"]
methods = ["joint", { method = "unimodal", variant = "audio", options = { modality = "audio" }, train = { epochs = 7 } }]
seeds = [1, 2]
"#;

    #[test]
    fn parses_presets_suites_and_both_method_forms() {
        let f = BenchmarksFile::parse(EXAMPLE, Path::new("b.toml")).unwrap();
        let s = f.suite("s", Path::new("b.toml")).unwrap();
        assert_eq!(s.seeds, vec![1, 2]);
        assert_eq!(s.methods[0].entry().method, "joint");
        let uni = s.methods[1].entry();
        assert_eq!(uni.variant.as_deref(), Some("audio"));
        assert_eq!(uni.train.epochs, Some(7));
        assert_eq!(f.datasets["small-av"].train.encoders["audio"].name, "mlp");
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let f = BenchmarksFile::parse(EXAMPLE, Path::new("b.toml")).unwrap();
        let merged = f.defaults.merged(&f.datasets["small-av"].train);
        assert_eq!(merged.epochs, Some(5));
        assert_eq!(merged.batch_size, Some(8));
        assert_eq!(merged.fusion.as_deref(), Some("late"));
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let err = BenchmarksFile::parse("[defaults]\nepochs = = 3\n", Path::new("bench.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bench.toml"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }

    #[test]
    fn unknown_key_is_an_error_that_lists_valid_keys() {
        let err = BenchmarksFile::parse("[defaults]\nepocs = 3\n", Path::new("b.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("epocs") && msg.contains("epochs") && msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn unknown_key_in_method_entry_is_reported_with_line() {
        let text = "[suites.s]\ndatasets = [\"d\"]\nmethods = [{ method = \"joint\", optoins = {} }]\n";
        let err = BenchmarksFile::parse(text, Path::new("b.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("optoins") && msg.contains("options") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn unknown_suite_lists_suites() {
        let f = BenchmarksFile::parse(EXAMPLE, Path::new("b.toml")).unwrap();
        let err = f.suite("nope", Path::new("b.toml")).unwrap_err();
        assert!(err.to_string().contains("valid suites: s"), "{err}");
    }
}
