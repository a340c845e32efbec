//! `ur-funny`: UR-FUNNY humour detection (Hasan et al. 2019), audio + visual + text feature
//! sequences, 2 classes (spec `datasets.md` §1.4).
//!
//! The reference (AGM's `dataloader/URFunny_loader.py`) reads MultiBench's packed `humor.pkl`.
//! Convert it once with `harness convert ur-funny humor.pkl <root>/humor.npz` (or
//! `python3 datasets/features/scripts/pickle_to_npz.py ur-funny humor.pkl humor.npz`); the
//! loader then reads, under the root:
//!
//! ```text
//! humor.npz   train_audio  (N, L, 81)  COVAREP      valid_audio   test_audio
//!             train_vision (N, L, 371) OpenFace     valid_vision  test_vision
//!             train_text   (N, L, 300) GloVe        valid_text    test_text
//!             train_labels (N,) or (N, 1)           valid_labels  test_labels
//! ```
//!
//! Processing, as AGM/MultiBench with `aligned=True, z_norm=False, max_pad=False`:
//! - samples whose text features are all zero are dropped (`drop_entry`);
//! - audio `-inf` becomes 0;
//! - aligned: each sample starts at its first non-zero text row (`text.nonzero()[0][0]`), for
//!   all three modalities. The reference then pads each batch on the right to the batch's
//!   longest sample; batches here are fixed-shape, so every sample is right-padded with zeros
//!   to the file's L instead (the only deviation; set `aligned = false` to keep the file's
//!   padding untouched);
//! - label 0 if `label < 1`, else 1.
//!
//! Modalities: `audio`, `visual`, `text`, each `[L, D]` with the `transformer` default encoder.
//! Splits: the file's `train`, `valid` and `test`.

use std::path::PathBuf;

use harness_core::data::{Dataset, DatasetContext, DatasetSpec, InMemoryDataset, InMemorySplit, Task};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::affect::{self, AffectSplit, member_path, select_rows, zero_neg_inf};
use crate::layout::{Layout, resolve_root};
use crate::npz::Npz;
use crate::tensors::class_split;

/// Registered name.
pub const NAME: &str = "ur-funny";

/// The expected files and where they come from.
pub const LAYOUT: Layout = Layout {
    dataset: NAME,
    tree: "humor.npz   arrays {train,valid,test}_{audio,vision,text,labels}\n\
           (made once from MultiBench's humor.pkl by `harness convert ur-funny humor.pkl humor.npz`)",
    source: "MultiBench's packed UR-FUNNY pickle `humor.pkl` (pliang279/MultiBench, datasets/affect; the \
             features of ROC-HCI/UR-FUNNY V2), converted with datasets/features/scripts/pickle_to_npz.py",
};

/// Options of `ur-funny`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct UrFunnyConfig {
    /// Dataset directory; default `<data-root>/ur-funny`.
    pub root: Option<PathBuf>,
    /// Archive name under the root.
    pub file: String,
    /// Start every sample at its first non-zero text row (MultiBench's `aligned=True`).
    pub aligned: bool,
    /// Keep only the first N samples of each split (after dropping empty-text samples).
    pub max_samples_per_split: Option<usize>,
}

impl Default for UrFunnyConfig {
    fn default() -> Self {
        UrFunnyConfig { root: None, file: "humor.npz".into(), aligned: true, max_samples_per_split: None }
    }
}

/// Loads UR-Funny with the options of `ctx`.
pub fn load(ctx: &DatasetContext) -> Result<InMemoryDataset> {
    let config: UrFunnyConfig = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    let root = resolve_root(ctx, config.root.as_deref(), &LAYOUT)?;
    LAYOUT.check(&root, &[&config.file])?;
    let archive = root.join(&config.file);
    let mut npz = Npz::open(&archive)?;
    let raw = affect::SPLITS.iter().map(|p| affect::read_split(&mut npz, p)).collect::<Result<Vec<_>>>()?;
    let dims = affect::check_same_dims(&archive, &raw)?;
    if config.aligned && dims.iter().any(|d| d[0] != dims[2][0]) {
        return Err(Error::data(
            &archive,
            format!(
                "sequence lengths {dims:?} differ between modalities; `aligned = true` needs one L (set `aligned = false`)"
            ),
        ));
    }
    let spec = DatasetSpec {
        name: NAME.to_string(),
        task: Task::Classification { classes: 2 },
        modalities: affect::modality_specs(&dims),
    };
    let mut splits = Vec::new();
    for (split, prefix) in raw.into_iter().zip(affect::SPLITS) {
        splits.push(process(split, &dims, &config, &spec, &member_path(&archive, &format!("{prefix}_labels")))?);
    }
    let [train, val, test]: [InMemorySplit; 3] = splits.try_into().map_err(|_| Error::data(&archive, "3 splits"))?;
    InMemoryDataset::new(spec, train, val, test)
}

/// The reference processing of one split (see the module doc).
fn process(
    mut split: AffectSplit,
    dims: &[[usize; 2]],
    config: &UrFunnyConfig,
    spec: &DatasetSpec,
    labels_path: &std::path::Path,
) -> Result<InMemorySplit> {
    if split.labels.len() != split.n {
        return Err(Error::data(
            labels_path,
            format!("labels of shape {:?}, expected (N,) or (N, 1)", split.labels.shape),
        ));
    }
    zero_neg_inf(&mut split.features[0].0);
    let text_len = dims[2][0] * dims[2][1];
    let text = &split.features[2].0;
    let mut keep: Vec<usize> = (0..split.n)
        .into_par_iter()
        .filter(|&i| text[i * text_len..(i + 1) * text_len].iter().any(|&v| v != 0.0))
        .collect();
    if let Some(max) = config.max_samples_per_split {
        keep.truncate(max);
    }
    let mut inputs: Vec<Vec<f32>> =
        split.features.iter().zip(dims).map(|((v, _), [l, d])| select_rows(v, l * d, &keep)).collect();
    if config.aligned {
        align_to_text(&mut inputs, dims, keep.len());
    }
    let raw_labels = split.labels.to_f64();
    let labels: Vec<i64> = keep.iter().map(|&i| binarize(raw_labels[i])).collect();
    Ok(class_split(&inputs, &spec.modalities, &labels))
}

/// AGM's humour label: 0 if `label < 1`, else 1.
pub fn binarize(label: f64) -> i64 {
    if label < 1.0 { 0 } else { 1 }
}

/// Moves every sample's rows to start at its first non-zero text row (for all modalities, which
/// share L) and zero-fills the freed rows at the end.
fn align_to_text(inputs: &mut [Vec<f32>], dims: &[[usize; 2]], n: usize) {
    let [l, dt] = dims[2];
    if l == 0 || n == 0 {
        return;
    }
    let starts: Vec<usize> = inputs[2]
        .par_chunks(l * dt)
        .map(|s| s.chunks(dt.max(1)).position(|row| row.iter().any(|&v| v != 0.0)).unwrap_or(0))
        .collect();
    for (values, [l, d]) in inputs.iter_mut().zip(dims) {
        if l * d == 0 {
            continue;
        }
        values.par_chunks_mut(l * d).zip(&starts).for_each(|(sample, &start)| {
            sample.copy_within(start * d.., 0);
            sample[(l - start) * d..].fill(0.0);
        });
    }
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit! {
    harness_core::data::DatasetEntry {
        name: NAME,
        description: "UR-FUNNY humour detection (audio + visual + text feature sequences, 2 classes) from humor.npz",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_shifts_every_modality_to_the_first_text_row() {
        // One sample, L = 3; text rows: 0, 0, 5 -> start 2.
        let mut inputs = vec![vec![1.0, 2.0, 3.0], vec![10.0, 11.0, 20.0, 21.0, 30.0, 31.0], vec![0.0, 0.0, 5.0]];
        align_to_text(&mut inputs, &[[3, 1], [3, 2], [3, 1]], 1);
        assert_eq!(inputs[0], vec![3.0, 0.0, 0.0]);
        assert_eq!(inputs[1], vec![30.0, 31.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(inputs[2], vec![5.0, 0.0, 0.0]);
    }

    #[test]
    fn labels_below_one_are_negative() {
        assert_eq!([0.0, 0.99, 1.0, 2.0, -1.0].map(binarize), [0, 0, 1, 1, 0]);
    }
}
