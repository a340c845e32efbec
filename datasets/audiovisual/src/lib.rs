//! # datasets-audiovisual
//!
//! Loaders for the two audio + video datasets of the G2D paper, reading a user's copy laid out
//! as the reference code (G2D, OGM-GE) expects and preprocessing it exactly as that code does.
//! Both register with the harness (`inventory`): modality 0 is `audio` (`[1, F, N]`
//! log-magnitude spectrogram, default encoder `resnet18-audio`), modality 1 is `visual`
//! (`[3, T, S, S]` ImageNet-normalised frames, default encoder `resnet18-visual`, augmented
//! in training batches).
//!
//! ## `crema-d` ([`crema_d`])
//! Under the root (option `root`, default `<data-root>/crema-d`):
//! - `train.csv`, `test.csv`: no header, optional UTF-8 BOM, CRLF or LF, rows
//!   `1088_IOM_NEU_XX,NEU`; classes NEU 0, HAP 1, SAD 2, FEA 3, DIS 4, ANG 5.
//! - `AudioWAV/<clip>.wav`: one wav per listed clip (PCM or float, any rate, mono or stereo).
//! - `Image-01-FPS/<clip>/<idx:05d>.jpg`: the 1-fps frames of `VideoFlash/<clip>.flv`
//!   (the reference's `video_preprocessing.py`); at least `frames` (default 1) per clip.
//!
//! Audio `[1, 257, 188]`: 22,050 Hz, `tile(x, 3)[:66150]`, clip, STFT 512/353 Hann,
//! `log(|S| + 1e-7)`. Visual `[3, 1, 224, 224]`.
//!
//! ## `vggsound` ([`vggsound`])
//! Under the root (option `root`, default `<data-root>/vggsound`):
//! - `vggsound.csv`: `youtube_id,time,label,split` (header row optional, quoted labels may
//!   hold commas); the clip id is `<youtube_id>_<time:06d>`.
//! - `audio/<split>/<clip>.wav`: 16 kHz mono wav (the reference's `mp4_to_wav.py`).
//! - `video/frames/<split>/Image-01-FPS/<clip>/*.jpg`: 1-fps frames; clips with missing files
//!   or at most 3 frames are skipped, as in the reference (and reported).
//!
//! Audio `[1, 129, 626]`: 16 kHz, tiled to ≥ 10 s, a 5 s window, clip, STFT 256/128,
//! `log(|S| + 1e-7)`. Visual `[3, 3, 224, 224]`.
//!
//! ## Both
//! Options (kebab-case, unknown keys rejected): `root`, `val-fraction` (0.1: a stratified,
//! seeded share of train becomes the validation split; test is never used for selection),
//! `split-seed` (0), `max-samples-per-split`, `frames`, `image-size` (224), `pad-mode`
//! (`constant`, librosa ≥ 0.10, or `reflect`), and for VGGSound `classes`. A missing or
//! incomplete dataset is an error naming the first missing file, the expected layout and where
//! the data comes from ([`layout`]); a corrupt or truncated wav or jpg is an error naming it.
//! Preprocessed spectrograms and evaluation frames are cached under `<cache-dir>/<name>/` (or
//! `<root>/.harness-cache/`), keyed by a hash of the preprocessing ([`harness_core::cache`]).

pub mod audio;
pub mod crema_d;
pub mod dataset;
pub mod frames;
pub mod layout;
pub mod numpy_rng;
pub mod resample;
pub mod splits;
pub mod stft;
pub mod vggsound;
pub mod wav;

pub use dataset::{AvDataset, Clip};
