//! Datasets: what a dataset declares (task, modalities, splits) and how batches are drawn.
//!
//! A [`Dataset`] hands out [`Batch`]es of tensors, one per modality, for any list of sample
//! indices of a [`Split`]. The [`Loader`] decides the order (shuffled per epoch from a seed, or
//! sequential for evaluation). [`InMemoryDataset`] covers every dataset whose splits fit in
//! memory: the synthetic ones, and the real ones once their preprocessing cache is loaded.

use std::fmt;
use std::path::PathBuf;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::options::Options;

/// What the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Single-label classification into `classes` classes; targets are class indices (i64).
    Classification {
        /// Number of classes.
        classes: usize,
    },
    /// Scalar regression; targets are floats scaled to [0, 1] (the model predicts through a
    /// sigmoid, as the paper's MIS-ME experiment does).
    Regression,
}

impl Task {
    /// Number of outputs of a prediction head: C for classification, 1 for regression.
    pub fn outputs(&self) -> i64 {
        match self {
            Task::Classification { classes } => *classes as i64,
            Task::Regression => 1,
        }
    }

    /// Whether this is a classification task.
    pub fn is_classification(&self) -> bool {
        matches!(self, Task::Classification { .. })
    }
}

/// The physical kind of a modality; encoders and reports use it for defaults and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModalityKind {
    /// Audio, usually a spectrogram.
    Audio,
    /// Video frames.
    Visual,
    /// A still image.
    Image,
    /// Text (token features).
    Text,
    /// A feature vector or table row.
    Tabular,
}

impl fmt::Display for ModalityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ModalityKind::Audio => "audio",
            ModalityKind::Visual => "visual",
            ModalityKind::Image => "image",
            ModalityKind::Text => "text",
            ModalityKind::Tabular => "tabular",
        };
        f.write_str(s)
    }
}

/// One modality of a dataset: its name (used as the head name in results), kind and the shape
/// of one sample (without the batch dimension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModalitySpec {
    /// Name, for example `audio`; unique within the dataset.
    pub name: String,
    /// Physical kind.
    pub kind: ModalityKind,
    /// Shape of one sample, for example `[1, 257, 188]`.
    pub shape: Vec<i64>,
    /// The encoder used when a suite names none for this modality: `name` plus options.
    pub default_encoder: EncoderChoice,
}

/// An encoder by registered name plus its TOML options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderChoice {
    /// Registered encoder name (see `harness list`).
    pub name: String,
    /// The encoder's options.
    #[serde(default)]
    pub options: Options,
}

impl EncoderChoice {
    /// An encoder with default options.
    pub fn named(name: &str) -> Self {
        EncoderChoice { name: name.to_string(), options: Options::new() }
    }
}

/// Everything the harness needs to know about a dataset before touching its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSpec {
    /// Registered name.
    pub name: String,
    /// Classification or regression.
    pub task: Task,
    /// The modalities, in the order batches carry them.
    pub modalities: Vec<ModalitySpec>,
}

impl DatasetSpec {
    /// Index of the modality called `name`, or an error listing the modalities.
    pub fn modality_index(&self, name: &str) -> Result<usize> {
        self.modalities
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| Error::unknown("modality", name, self.modalities.iter().map(|m| &m.name)))
    }

    /// Names of the modalities, in order.
    pub fn modality_names(&self) -> Vec<String> {
        self.modalities.iter().map(|m| m.name.clone()).collect()
    }
}

/// A split of a dataset. Model selection uses `Val`; `Test` is only ever reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data, used for model selection and early-stopping decisions.
    Val,
    /// Held-out test data, reported only.
    Test,
}

impl Split {
    /// All splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// Lower-case name used in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A batch: one input tensor per modality, the targets, and the sample indices within the split
/// (methods use them to look up cached teacher outputs).
#[derive(Debug)]
pub struct Batch {
    /// One tensor per modality, `[B, ...shape]`, in the dataset's modality order.
    pub inputs: Vec<Tensor>,
    /// `[B]` class indices (i64) or `[B]` float targets in [0, 1].
    pub targets: Tensor,
    /// `[B]` sample indices within the split (i64, on the CPU).
    pub index: Tensor,
    /// Optional `[B, M]` float mask, 1 where the modality is present. Missing inputs are already
    /// zeroed; the mask lets methods and fusion know which.
    pub present: Option<Tensor>,
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.size()[0] as usize
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves every tensor to `device` (the index stays on the CPU).
    pub fn to_device(self, device: Device) -> Batch {
        if device == Device::Cpu {
            return self;
        }
        Batch {
            inputs: self.inputs.iter().map(|t| t.to_device(device)).collect(),
            targets: self.targets.to_device(device),
            index: self.index,
            present: self.present.map(|p| p.to_device(device)),
        }
    }
}

/// A dataset: a spec plus batches for any indices of any split.
///
/// Implementations must be deterministic: the same indices give the same tensors, except for
/// augmentation, which is seeded by `augment_seed`. Loading many files should use rayon.
pub trait Dataset: Send + Sync {
    /// The task, modalities and shapes.
    fn spec(&self) -> &DatasetSpec;

    /// Number of samples in `split`.
    fn len(&self, split: Split) -> usize;

    /// The targets of every sample of `split`, in index order (for class counts and metrics).
    fn targets(&self, split: Split) -> Result<Tensor>;

    /// Builds the batch of `indices` of `split`. `augment_seed` is `Some` for training batches of
    /// datasets with augmentation, and seeds it.
    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch>;

    /// Whether training batches of `modality` are augmented (so cached teacher outputs of the
    /// clean sample would be stale for them).
    fn augments(&self, _modality: usize) -> bool {
        false
    }

    /// For regression datasets whose targets were min-max scaled to [0, 1]: the original
    /// `(min, max)`, so metrics (MAPE, RMSE) are reported in the original units.
    fn target_range(&self) -> Option<(f64, f64)> {
        None
    }
}

/// What a dataset factory gets: its options, where data lives, and a seed for anything random
/// about the data itself (synthetic generation, carving a validation split).
#[derive(Debug, Clone)]
pub struct DatasetContext {
    /// The dataset's options from `benchmarks.toml`.
    pub options: Options,
    /// `--data-root`, if given.
    pub data_root: Option<PathBuf>,
    /// Where preprocessed tensors may be cached.
    pub cache_dir: Option<PathBuf>,
}

/// Iterates a split in batches: shuffled per epoch from a seed for training, in order otherwise.
#[derive(Debug, Clone)]
pub struct Loader {
    order: Vec<usize>,
    batch_size: usize,
    split: Split,
    augment_seed: Option<u64>,
}

impl Loader {
    /// A loader over `split`. With `shuffle_seed`, the order is a seeded permutation.
    pub fn new(n: usize, split: Split, batch_size: usize, shuffle_seed: Option<u64>) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        if let Some(seed) = shuffle_seed {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        }
        Loader { order, batch_size: batch_size.max(1), split, augment_seed: shuffle_seed }
    }

    /// Number of batches.
    pub fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// The sample indices of batch `i`.
    pub fn indices(&self, i: usize) -> &[usize] {
        let start = i * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        &self.order[start..end]
    }

    /// Loads batch `i` from `dataset` onto `device`.
    pub fn load(&self, dataset: &dyn Dataset, i: usize, device: Device) -> Result<Batch> {
        let seed = self.augment_seed.map(|s| s.wrapping_mul(1_000_003).wrapping_add(i as u64));
        Ok(dataset.batch(self.split, self.indices(i), seed)?.to_device(device))
    }
}

/// One split held in memory: a tensor per modality plus targets.
#[derive(Debug)]
pub struct InMemorySplit {
    /// `[N, ...shape]` per modality.
    pub inputs: Vec<Tensor>,
    /// `[N]` targets.
    pub targets: Tensor,
    /// Optional `[N, M]` presence mask.
    pub present: Option<Tensor>,
}

impl InMemorySplit {
    fn len(&self) -> usize {
        self.targets.size()[0] as usize
    }
}

/// A dataset whose three splits are tensors in memory.
#[derive(Debug)]
pub struct InMemoryDataset {
    spec: DatasetSpec,
    splits: [InMemorySplit; 3],
}

// SAFETY: the tensors are only read (index_select), never mutated after construction, and
// libtorch's read-only ops are thread-safe.
unsafe impl Sync for InMemoryDataset {}

impl InMemoryDataset {
    /// Builds the dataset, checking that every split matches the spec's shapes.
    pub fn new(spec: DatasetSpec, train: InMemorySplit, val: InMemorySplit, test: InMemorySplit) -> Result<Self> {
        for (split, s) in [(Split::Train, &train), (Split::Val, &val), (Split::Test, &test)] {
            if s.inputs.len() != spec.modalities.len() {
                return Err(Error::config(
                    format!("dataset `{}` {split} split", spec.name),
                    format!("{} input tensors for {} modalities", s.inputs.len(), spec.modalities.len()),
                ));
            }
            for (t, m) in s.inputs.iter().zip(&spec.modalities) {
                let size = t.size();
                if size[1..] != m.shape[..] || size[0] as usize != s.len() {
                    return Err(Error::config(
                        format!("dataset `{}` {split} split, modality `{}`", spec.name, m.name),
                        format!("tensor of shape {size:?}, expected [{}, {:?}]", s.len(), m.shape),
                    ));
                }
            }
        }
        Ok(InMemoryDataset { spec, splits: [train, val, test] })
    }

    fn split(&self, split: Split) -> &InMemorySplit {
        &self.splits[split as usize]
    }
}

impl Dataset for InMemoryDataset {
    fn spec(&self) -> &DatasetSpec {
        &self.spec
    }

    fn len(&self, split: Split) -> usize {
        self.split(split).len()
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        Ok(self.split(split).targets.shallow_clone())
    }

    fn batch(&self, split: Split, indices: &[usize], _augment_seed: Option<u64>) -> Result<Batch> {
        let s = self.split(split);
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let index = Tensor::from_slice(&idx);
        Ok(Batch {
            inputs: s.inputs.iter().map(|t| t.index_select(0, &index)).collect(),
            targets: s.targets.index_select(0, &index),
            present: s.present.as_ref().map(|p| p.index_select(0, &index)),
            index,
        })
    }
}

/// Zeroes the inputs of missing modalities according to a `[B, M]` presence mask.
pub fn apply_presence(inputs: &[Tensor], present: &Tensor) -> Vec<Tensor> {
    inputs
        .iter()
        .enumerate()
        .map(|(m, x)| {
            let mut shape = vec![x.size()[0]];
            shape.extend(std::iter::repeat_n(1, x.dim() - 1));
            let mask = present.select(1, m as i64).to_kind(x.kind()).reshape(&shape[..]);
            x * mask
        })
        .collect()
}

/// Class counts of a target tensor (classification only).
pub fn class_counts(targets: &Tensor, classes: usize) -> Vec<usize> {
    let t: Vec<i64> = Vec::try_from(targets.to_kind(Kind::Int64).flatten(0, -1)).unwrap_or_default();
    let mut counts = vec![0; classes];
    for c in t {
        if (0..classes as i64).contains(&c) {
            counts[c as usize] += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_covers_every_index_once_and_is_seeded() {
        let a = Loader::new(10, Split::Train, 3, Some(7));
        let b = Loader::new(10, Split::Train, 3, Some(7));
        assert_eq!(a.num_batches(), 4);
        let all: Vec<usize> = (0..4).flat_map(|i| a.indices(i).to_vec()).collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(all, (0..4).flat_map(|i| b.indices(i).to_vec()).collect::<Vec<_>>());
        let seq = Loader::new(5, Split::Val, 2, None);
        assert_eq!(seq.indices(2), &[4]);
    }

    #[test]
    fn presence_mask_zeroes_missing_inputs() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let mask = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0]).reshape([2, 2]);
        let out = apply_presence(&[x.shallow_clone(), x], &mask);
        assert_eq!(Vec::<f32>::try_from(out[0].sum_dim_intlist(1, false, Kind::Float)).unwrap(), vec![3.0, 0.0]);
        assert_eq!(Vec::<f32>::try_from(out[1].sum_dim_intlist(1, false, Kind::Float)).unwrap(), vec![0.0, 3.0]);
    }
}

/// A registered dataset.
#[derive(Debug)]
pub struct DatasetEntry {
    /// Name used in `benchmarks.toml`.
    pub name: &'static str,
    /// One-line description for `harness list`.
    pub description: &'static str,
    /// Loads (or generates) the dataset.
    pub build: fn(ctx: &DatasetContext) -> Result<Box<dyn Dataset>>,
}

inventory::collect!(DatasetEntry);

/// Every registered dataset, sorted by name.
pub fn registered() -> Vec<&'static DatasetEntry> {
    let mut v: Vec<_> = inventory::iter::<DatasetEntry>.into_iter().collect();
    v.sort_by_key(|e| e.name);
    v
}

/// Looks up a dataset by name.
pub fn lookup(name: &str) -> Result<&'static DatasetEntry> {
    inventory::iter::<DatasetEntry>
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::unknown("dataset", name, registered().iter().map(|e| e.name)))
}
