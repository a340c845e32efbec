//! `av-mnist`: AV-MNIST (CentralNet, Vielzeuf et al. 2018), PCA-degraded MNIST digits paired
//! with spoken-digit spectrograms, 10 classes (spec `datasets.md` §1.2).
//!
//! Files under the root (the layout of G2D's `dataset/AVMNIST.py`, MultiBench and AGM):
//!
//! ```text
//! image/train_data.npy   (60000, 784) or (60000, 28, 28)   float32 or float64, values 0..255
//! image/test_data.npy    (10000, 784) or (10000, 28, 28)
//! audio/train_data.npy   (60000, 112, 112) or (60000, 12544)   uint8 or float, values 0..255
//! audio/test_data.npy    (10000, 112, 112) or (10000, 12544)
//! train_labels.npy       (60000,)   integers 0..9 (any integer or float dtype)
//! test_labels.npy        (10000,)
//! ```
//!
//! Preprocessing (G2D): both modalities are divided by 255 with NumPy's rounding (see
//! [`Scale::Div255`]), the image becomes `[1, 28, 28]` and the spectrogram `[1, 112, 112]`.
//! Modalities, in order: `audio` (default encoder `resnet18-audio`), `image` (`resnet18-image`),
//! matching G2D's `(audio, image, label)` getter.
//!
//! Splits: the reference has none for validation. The paper (appendix A.1.2) and MultiBench use
//! the last 5,000 of the 60,000 training samples, which is the default here (`val-fraction` =
//! 1/12, `val-carve = "tail"`); `val-carve = "random"` draws them with `split-seed` instead. The
//! test split is the 10,000 test samples, never used for selection.

use std::path::{Path, PathBuf};

use harness_core::data::{
    Dataset, DatasetContext, DatasetSpec, EncoderChoice, InMemoryDataset, ModalityKind, ModalitySpec, Task,
};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::layout::{Layout, resolve_root};
use crate::npy::{NpyFile, Scale};
use crate::split::{Carve, carve_val, check_fraction, truncate};
use crate::tensors::class_split;

/// Registered name.
pub const NAME: &str = "av-mnist";

/// The expected files and where they come from.
pub const LAYOUT: Layout = Layout {
    dataset: NAME,
    tree: "image/train_data.npy   (N, 784) or (N, 28, 28), float32/float64, 0..255\n\
           image/test_data.npy\n\
           audio/train_data.npy   (N, 112, 112), uint8 or float, 0..255\n\
           audio/test_data.npy\n\
           train_labels.npy       (N,) integers 0..9\n\
           test_labels.npy",
    source: "the AV-MNIST release used by MultiBench (pliang279/MultiBench, datasets/avmnist) and G2D \
             (rAIson-Lab/G2D, dataset/AVMNIST.py); it cannot be downloaded by the harness",
};

/// Files checked before loading, in order.
const FILES: [&str; 6] = [
    "image/train_data.npy",
    "image/test_data.npy",
    "audio/train_data.npy",
    "audio/test_data.npy",
    "train_labels.npy",
    "test_labels.npy",
];

/// Options of `av-mnist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AvMnistConfig {
    /// Dataset directory; default `<data-root>/av-mnist`.
    pub root: Option<PathBuf>,
    /// Fraction of the training file held out for validation (default 1/12: 5,000 of 60,000).
    pub val_fraction: f64,
    /// How the validation samples are chosen (default `tail`, as in MultiBench and the paper).
    pub val_carve: Carve,
    /// Seed of a `random` carve.
    pub split_seed: u64,
    /// Keep only the first N samples of each split (smoke runs).
    pub max_samples_per_split: Option<usize>,
}

impl Default for AvMnistConfig {
    fn default() -> Self {
        AvMnistConfig {
            root: None,
            val_fraction: 5_000.0 / 60_000.0,
            val_carve: Carve::Tail,
            split_seed: 0,
            max_samples_per_split: None,
        }
    }
}

/// The dataset's spec: audio `[1, 112, 112]`, image `[1, 28, 28]`, 10 classes.
pub fn spec() -> DatasetSpec {
    DatasetSpec {
        name: NAME.to_string(),
        task: Task::Classification { classes: 10 },
        modalities: vec![
            ModalitySpec {
                name: "audio".into(),
                kind: ModalityKind::Audio,
                shape: vec![1, 112, 112],
                default_encoder: EncoderChoice::named("resnet18-audio"),
            },
            ModalitySpec {
                name: "image".into(),
                kind: ModalityKind::Image,
                shape: vec![1, 28, 28],
                default_encoder: EncoderChoice::named("resnet18-image"),
            },
        ],
    }
}

/// Loads AV-MNIST with the options of `ctx`.
pub fn load(ctx: &DatasetContext) -> Result<InMemoryDataset> {
    let config: AvMnistConfig = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    check_fraction(NAME, "val-fraction", config.val_fraction)?;
    let root = resolve_root(ctx, config.root.as_deref(), &LAYOUT)?;
    LAYOUT.check(&root, &FILES)?;

    let mut train = Part::open(&root, "train")?;
    let mut test = Part::open(&root, "test")?;
    let (train_idx, val_idx) = carve_val(train.n, config.val_fraction, config.val_carve, config.split_seed);
    let max = config.max_samples_per_split;
    let spec = spec();
    let splits = [
        train.read(&truncate(train_idx, max), &spec)?,
        train.read(&truncate(val_idx, max), &spec)?,
        test.read(&truncate((0..test.n).collect(), max), &spec)?,
    ];
    let [train, val, test] = splits;
    InMemoryDataset::new(spec, train, val, test)
}

/// The three files of one reference split (`train` or `test`).
struct Part {
    image: NpyFile,
    audio: NpyFile,
    labels: Vec<i64>,
    n: usize,
}

impl Part {
    /// Opens the files of split `name` and checks their shapes against each other.
    fn open(root: &Path, name: &str) -> Result<Part> {
        let image = NpyFile::open(&root.join(format!("image/{name}_data.npy")))?;
        let audio = NpyFile::open(&root.join(format!("audio/{name}_data.npy")))?;
        let labels_path = root.join(format!("{name}_labels.npy"));
        let labels = read_labels(&labels_path, 10)?;
        let n = labels.len();
        for (file, row_len, shapes) in
            [(&image, 28 * 28, "(N, 784) or (N, 28, 28)"), (&audio, 112 * 112, "(N, 112, 112) or (N, 12544)")]
        {
            let h = file.header();
            if h.shape.len() < 2 || h.row_len() != row_len {
                return Err(Error::data(file.path(), format!("array of shape {:?}, expected {shapes}", h.shape)));
            }
            if h.rows() != n {
                return Err(Error::data(
                    file.path(),
                    format!("{} samples but {} has {n} labels", h.rows(), labels_path.display()),
                ));
            }
        }
        Ok(Part { image, audio, labels, n })
    }

    /// Reads the samples `rows` as an in-memory split (audio, image).
    fn read(&mut self, rows: &[usize], spec: &DatasetSpec) -> Result<harness_core::data::InMemorySplit> {
        let audio = self.audio.read_rows_f32(rows, Scale::Div255)?;
        let image = self.image.read_rows_f32(rows, Scale::Div255)?;
        let labels: Vec<i64> = rows.iter().map(|&r| self.labels[r]).collect();
        Ok(class_split(&[audio, image], &spec.modalities, &labels))
    }
}

/// Reads a label file of shape `(N,)` or `(N, 1)` holding integers in `0..classes` (stored as
/// any integer or float dtype).
fn read_labels(path: &Path, classes: i64) -> Result<Vec<i64>> {
    let array = NpyFile::open(path)?.read_all()?;
    if array.shape.len() > 2 || array.shape.get(1).is_some_and(|&d| d != 1) || array.shape.is_empty() {
        return Err(Error::data(path, format!("labels of shape {:?}, expected (N,)", array.shape)));
    }
    array
        .to_f64()
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v.fract() == 0.0 && (0.0..classes as f64).contains(&v) {
                Ok(v as i64)
            } else {
                Err(Error::data(path, format!("label {v} at index {i}, expected an integer in 0..{}", classes - 1)))
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
        description: "AV-MNIST (audio spectrogram + PCA-degraded digit image, 10 classes) from the reference .npy files",
        build,
    }
}
