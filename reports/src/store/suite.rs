//! `suite.json`: the resolved suite, its report settings and its cell list (docs/results-store.md).

use std::path::Path;

use serde::Deserialize;

use crate::error::ReportError;

/// A resolved suite as the runner wrote it to `suite.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Suite {
    /// The suite name (also the directory name under `runs/`).
    pub name: String,
    /// Free text from the suite definition.
    #[serde(default)]
    pub description: String,
    /// What the report should contain.
    #[serde(default)]
    pub report: ReportSettings,
    /// Every cell the suite plans to run, complete or not.
    #[serde(default)]
    pub cells: Vec<CellSpec>,
}

/// The `report` object of `suite.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSettings {
    /// Table kinds to produce: `main`, `regression`, `ablation` (unknown kinds become warnings).
    #[serde(default = "default_tables")]
    pub tables: Vec<String>,
    /// The method (or `method/variant`) every other method is compared with; `g2d` when absent.
    #[serde(default)]
    pub reference: Option<String>,
    /// Whether to draw figures.
    #[serde(default = "default_true")]
    pub figures: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self { tables: default_tables(), reference: None, figures: true }
    }
}

fn default_tables() -> Vec<String> {
    vec!["main".to_owned()]
}

fn default_true() -> bool {
    true
}

/// One planned run: a dataset, a method variant and a seed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub struct CellSpec {
    /// `<dataset>--<method>--<variant>--seed<k>`: the directory name under `cells/`.
    pub id: String,
    /// The dataset label in the suite.
    pub dataset: String,
    /// The method name.
    pub method: String,
    /// The variant name; `default` when the suite entry names none.
    #[serde(default = "default_variant")]
    pub variant: String,
    /// The seed.
    pub seed: i64,
}

fn default_variant() -> String {
    "default".to_owned()
}

impl Suite {
    /// Reads and parses `suite.json`, keeping the raw JSON for display in the report.
    pub fn load(path: &Path) -> Result<(Self, serde_json::Value), ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| ReportError::json(path, &e))?;
        let suite: Suite = serde_json::from_str(&text).map_err(|e| ReportError::json(path, &e))?;
        Ok((suite, raw))
    }
}
