//! `iemocap`: IEMOCAP emotion recognition (Busso et al. 2008), audio + visual + text feature
//! sequences, 4 classes (spec `datasets.md` §1.5, the MulT / MultiBench format).
//!
//! The reference data is MulT's `iemocap_data.pkl` (aligned) or `iemocap_data_noalign.pkl`.
//! Convert it once with `harness convert iemocap iemocap_data.pkl <root>/iemocap.npz` (or
//! `python3 datasets/features/scripts/pickle_to_npz.py iemocap ...`); the loader then reads,
//! under the root:
//!
//! ```text
//! iemocap.npz   train_audio  (N, T, 74)  COVAREP     valid_audio   test_audio
//!               train_vision (N, T, 35)  FACET       valid_vision  test_vision
//!               train_text   (N, T, 300) GloVe       valid_text    test_text
//!               train_labels (N, 4, 2)               valid_labels  test_labels
//! ```
//!
//! Processing, as MulT's `src/dataset.py`: audio `-inf` becomes 0; the label is
//! `argmax(labels, -1)`, four binary targets for (neutral, happy, sad, angry). MulT trains four
//! binary heads; the harness (and the paper's accuracy) needs one class per sample, so the class
//! is the index of the one emotion whose target is 1: neutral 0, happy 1, sad 2, angry 3. A
//! sample with no or several positive emotions is an error naming the split and index. The
//! unaligned file's modalities may have different T; each keeps its own.
//!
//! Modalities: `audio`, `visual`, `text`, each `[T, D]` with the `transformer` default encoder.
//! Splits: the file's `train`, `valid` and `test`.

use std::path::{Path, PathBuf};

use harness_core::data::{Dataset, DatasetContext, DatasetSpec, InMemoryDataset, InMemorySplit, Task};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::affect::{self, AffectSplit, member_path, select_rows, zero_neg_inf};
use crate::layout::{Layout, resolve_root};
use crate::npz::Npz;
use crate::tensors::class_split;

/// Registered name.
pub const NAME: &str = "iemocap";

/// Class names in index order (MulT's emotion order).
pub const CLASSES: [&str; 4] = ["neutral", "happy", "sad", "angry"];

/// The expected files and where they come from.
pub const LAYOUT: Layout = Layout {
    dataset: NAME,
    tree: "iemocap.npz   arrays {train,valid,test}_{audio,vision,text,labels}, labels (N, 4, 2)\n\
           (made once from MulT's iemocap_data.pkl by `harness convert iemocap iemocap_data.pkl iemocap.npz`)",
    source: "MulT's IEMOCAP pickle `iemocap_data.pkl` / `iemocap_data_noalign.pkl` (yaohungt/Multimodal-Transformer \
             README, also used by MultiBench), converted with datasets/features/scripts/pickle_to_npz.py",
};

/// Options of `iemocap`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct IemocapConfig {
    /// Dataset directory; default `<data-root>/iemocap`.
    pub root: Option<PathBuf>,
    /// Archive name under the root.
    pub file: String,
    /// Keep only the first N samples of each split (smoke runs).
    pub max_samples_per_split: Option<usize>,
}

impl Default for IemocapConfig {
    fn default() -> Self {
        IemocapConfig { root: None, file: "iemocap.npz".into(), max_samples_per_split: None }
    }
}

/// Loads IEMOCAP with the options of `ctx`.
pub fn load(ctx: &DatasetContext) -> Result<InMemoryDataset> {
    let config: IemocapConfig = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    let root = resolve_root(ctx, config.root.as_deref(), &LAYOUT)?;
    LAYOUT.check(&root, &[&config.file])?;
    let archive = root.join(&config.file);
    let mut npz = Npz::open(&archive)?;
    let raw = affect::SPLITS.iter().map(|p| affect::read_split(&mut npz, p)).collect::<Result<Vec<_>>>()?;
    let dims = affect::check_same_dims(&archive, &raw)?;
    let spec = DatasetSpec {
        name: NAME.to_string(),
        task: Task::Classification { classes: CLASSES.len() },
        modalities: affect::modality_specs(&dims),
    };
    let mut splits = Vec::new();
    for (split, prefix) in raw.into_iter().zip(affect::SPLITS) {
        let labels_path = member_path(&archive, &format!("{prefix}_labels"));
        splits.push(process(split, &dims, config.max_samples_per_split, &spec, &labels_path)?);
    }
    let [train, val, test]: [InMemorySplit; 3] = splits.try_into().map_err(|_| Error::data(&archive, "3 splits"))?;
    InMemoryDataset::new(spec, train, val, test)
}

/// The reference processing of one split (see the module doc).
fn process(
    mut split: AffectSplit,
    dims: &[[usize; 2]],
    max: Option<usize>,
    spec: &DatasetSpec,
    labels_path: &Path,
) -> Result<InMemorySplit> {
    let labels = emotion_classes(&split.labels.shape, &split.labels.to_f64(), labels_path)?;
    zero_neg_inf(&mut split.features[0].0);
    let keep: Vec<usize> = (0..split.n.min(max.unwrap_or(usize::MAX))).collect();
    let inputs: Vec<Vec<f32>> =
        split.features.iter().zip(dims).map(|((v, _), [l, d])| select_rows(v, l * d, &keep)).collect();
    Ok(class_split(&inputs, &spec.modalities, &labels[..keep.len()]))
}

/// The class of each sample from MulT labels `(N, 4, 2)`: `argmax(-1)` per emotion (the first
/// maximum on ties, as NumPy), then the index of the single positive emotion.
pub fn emotion_classes(shape: &[usize], values: &[f64], path: &Path) -> Result<Vec<i64>> {
    if shape.len() != 3 || shape[1] != CLASSES.len() || shape[2] != 2 {
        return Err(Error::data(
            path,
            format!("labels of shape {shape:?}, expected (N, 4, 2): one-hot (not, is) for neutral, happy, sad, angry"),
        ));
    }
    values
        .chunks(8)
        .enumerate()
        .map(|(i, sample)| {
            let positive: Vec<usize> = sample.chunks(2).enumerate().filter(|(_, p)| p[1] > p[0]).map(|(e, _)| e).collect();
            match positive[..] {
                [e] => Ok(e as i64),
                _ => Err(Error::data(
                    path,
                    format!(
                        "sample {i} has {} positive emotions ({:?}); exactly one of neutral, happy, sad, angry is expected",
                        positive.len(),
                        positive.iter().map(|&e| CLASSES[e]).collect::<Vec<_>>()
                    ),
                )),
            }
        })
        .collect()
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit! {
    harness_core::data::DatasetEntry {
        name: NAME,
        description: "IEMOCAP emotions (audio + visual + text feature sequences, 4 classes) from iemocap.npz",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_is_the_single_positive_emotion() {
        let one_hot =
            |e: usize| -> Vec<f64> { (0..4).flat_map(|k| if k == e { [0.0, 1.0] } else { [1.0, 0.0] }).collect() };
        let values = [one_hot(2), one_hot(0), one_hot(3)].concat();
        assert_eq!(emotion_classes(&[3, 4, 2], &values, Path::new("l")).unwrap(), vec![2, 0, 3]);
        let none = [1.0, 0.0].repeat(4);
        let err = emotion_classes(&[1, 4, 2], &none, Path::new("labels.npy")).unwrap_err().to_string();
        assert!(err.contains("sample 0") && err.contains("labels.npy"), "{err}");
        // Ties go to "not" (argmax takes the first maximum).
        let tie = [vec![0.5, 0.5], vec![0.0, 1.0], vec![1.0, 0.0], vec![1.0, 0.0]].concat();
        assert_eq!(emotion_classes(&[1, 4, 2], &tie, Path::new("l")).unwrap(), vec![1]);
    }
}
