//! The `crema-d` dataset: CREMA-D as the G2D / OGM-GE code reads it.
//!
//! Files under the root: `train.csv`, `test.csv` (rows `<clip>,<EMO>`), `AudioWAV/<clip>.wav`
//! and `Image-01-FPS/<clip>/*.jpg`. Every clip listed in a split file must have its wav and at
//! least `frames` JPEGs; the first one that does not stops loading with an error naming it.
//! (G2D silently drops such clips; a benchmark should not.) Validation: a stratified, seeded
//! `val-fraction` of train (see [`crate::splits`]); the test split is `test.csv`, untouched.

use std::path::{Path, PathBuf};

use harness_core::data::{Dataset, DatasetContext, DatasetEntry};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audio::AudioRecipe;
use crate::dataset::{AvConfig, AvDataset, Clip};
use crate::frames::{list_frames, pick_frames};
use crate::layout::CREMA_D;
use crate::splits::{Row, cap, carve_validation, read_csv};
use crate::stft::PadMode;

/// Registered name.
pub const NAME: &str = "crema-d";

/// Emotion codes in class-index order (G2D, OGM-GE, AGM: NEU 0, HAP 1, SAD 2, FEA 3, DIS 4,
/// ANG 5).
pub const CLASSES: [&str; 6] = ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"];

/// Options of `crema-d` in `benchmarks.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CremaDOptions {
    /// Dataset root; default `<data-root>/crema-d`.
    #[serde(default)]
    pub root: Option<PathBuf>,
    /// Fraction of each class of train moved to validation.
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
    /// Seed of the validation carve and of `max-samples-per-split`.
    #[serde(default)]
    pub split_seed: u64,
    /// Keep at most this many (seeded) samples per split, for smoke runs.
    #[serde(default)]
    pub max_samples_per_split: Option<usize>,
    /// Frames per clip, T (G2D: 1).
    #[serde(default = "default_frames")]
    pub frames: usize,
    /// Side of the square frames (reference: 224).
    #[serde(default = "default_image_size")]
    pub image_size: u32,
    /// STFT centre padding: `constant` (librosa >= 0.10) or `reflect` (older librosa).
    #[serde(default)]
    pub pad_mode: PadMode,
}

fn default_val_fraction() -> f64 {
    0.1
}

fn default_frames() -> usize {
    1
}

fn default_image_size() -> u32 {
    224
}

impl Default for CremaDOptions {
    fn default() -> Self {
        CremaDOptions {
            root: None,
            val_fraction: default_val_fraction(),
            split_seed: 0,
            max_samples_per_split: None,
            frames: default_frames(),
            image_size: default_image_size(),
            pad_mode: PadMode::Constant,
        }
    }
}

/// Checks the options shared by both loaders.
pub(crate) fn check_common(name: &str, val_fraction: f64, frames: usize, image_size: u32) -> Result<()> {
    let ctx = format!("options of dataset `{name}`");
    if !(0.0..1.0).contains(&val_fraction) {
        return Err(Error::config(ctx, format!("val-fraction must be in [0, 1), got {val_fraction}")));
    }
    if frames == 0 || image_size == 0 {
        return Err(Error::config(ctx, "frames and image-size must be at least 1"));
    }
    Ok(())
}

/// The dataset root: the `root` option, else `<data_root>/<dir>`.
pub(crate) fn resolve_root(name: &str, root: &Option<PathBuf>, ctx: &DatasetContext, dir: &str) -> Result<PathBuf> {
    match (root, &ctx.data_root) {
        (Some(r), _) => Ok(r.clone()),
        (None, Some(d)) => Ok(d.join(dir)),
        (None, None) => Err(Error::config(
            format!("options of dataset `{name}`"),
            format!(
                "no dataset location: set the `root` option or pass --data-root (which is then searched for `{dir}/`)"
            ),
        )),
    }
}

/// The cache folder: `<cache_dir>/<name>` when the harness gives one, else `<root>/.harness-cache`.
pub(crate) fn resolve_cache(name: &str, root: &Path, ctx: &DatasetContext) -> PathBuf {
    ctx.cache_dir.as_ref().map_or_else(|| root.join(".harness-cache"), |c| c.join(name))
}

/// Loads CREMA-D as described in the module docs.
pub fn load(ctx: &DatasetContext) -> Result<AvDataset> {
    let opts: CremaDOptions = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    check_common(NAME, opts.val_fraction, opts.frames, opts.image_size)?;
    let root = resolve_root(NAME, &opts.root, ctx, "crema-d")?;
    CREMA_D.require_dir(&root, &root)?;
    let (train_csv, test_csv) = (root.join("train.csv"), root.join("test.csv"));
    CREMA_D.require_file(&root, &train_csv)?;
    CREMA_D.require_file(&root, &test_csv)?;
    let train_rows = read_csv(&train_csv)?;
    let test_rows = read_csv(&test_csv)?;
    for dir in ["AudioWAV", "Image-01-FPS"] {
        CREMA_D.require_dir(&root, &root.join(dir))?;
    }
    let train_all = clips(&root, &train_csv, &train_rows, opts.frames)?;
    let test_all = clips(&root, &test_csv, &test_rows, opts.frames)?;
    if train_all.is_empty() || test_all.is_empty() {
        let empty = if train_all.is_empty() { &train_csv } else { &test_csv };
        return Err(CREMA_D.missing(&root, empty, "split file lists no clip"));
    }
    let labels: Vec<usize> = train_all.iter().map(|c| c.label).collect();
    let (train_idx, val_idx) = carve_validation(&labels, opts.val_fraction, opts.split_seed);
    let pick = |all: &[Clip], idx: &[usize], salt: u64| -> Vec<Clip> {
        cap(idx.len(), opts.max_samples_per_split, opts.split_seed ^ salt)
            .into_iter()
            .map(|k| all[idx[k]].clone())
            .collect()
    };
    let all_test: Vec<usize> = (0..test_all.len()).collect();
    let splits = [pick(&train_all, &train_idx, 1), pick(&train_all, &val_idx, 2), pick(&test_all, &all_test, 3)];
    let cfg = AvConfig {
        name: NAME.into(),
        classes: CLASSES.len(),
        frames: opts.frames,
        image_size: opts.image_size,
        recipe: AudioRecipe::crema_d(opts.pad_mode),
        cache_dir: resolve_cache(NAME, &root, ctx),
        root,
    };
    AvDataset::build(&cfg, splits)
}

/// The clips of one split file, checking each clip's files in row order.
fn clips(root: &Path, csv: &Path, rows: &[Row], frames: usize) -> Result<Vec<Clip>> {
    let checked: Vec<Result<Clip>> = rows.par_iter().map(|row| clip(root, csv, row, frames)).collect();
    checked.into_iter().collect()
}

fn clip(root: &Path, csv: &Path, row: &Row, frames: usize) -> Result<Clip> {
    let (id, emo) = match &row.fields[..] {
        [id, emo, ..] if !id.is_empty() => (id.clone(), emo.as_str()),
        _ => return Err(Error::data(csv, format!("line {}: expected `<clip>,<EMO>`, got {:?}", row.line, row.fields))),
    };
    let label = CLASSES.iter().position(|c| *c == emo).ok_or_else(|| {
        Error::data(csv, format!("line {}: unknown emotion `{emo}`; expected one of {}", row.line, CLASSES.join(", ")))
    })?;
    let audio = root.join("AudioWAV").join(format!("{id}.wav"));
    CREMA_D.require_file(root, &audio)?;
    let dir = root.join("Image-01-FPS").join(&id);
    CREMA_D.require_dir(root, &dir)?;
    let listing = list_frames(&dir)?;
    let chosen = pick_frames(listing.len(), frames).ok_or_else(|| {
        let first_missing = dir.join(format!("{:05}.jpg", listing.len()));
        CREMA_D.missing(
            root,
            &first_missing,
            &format!("{} has {} frames, {frames} needed", dir.display(), listing.len()),
        )
    })?;
    Ok(Clip { id, label, audio, frames: chosen.into_iter().map(|k| listing[k].clone()).collect(), audio_start: 0 })
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit!(DatasetEntry {
    name: NAME,
    description: "CREMA-D (audio + 1 video frame, 6 emotions) from AudioWAV/ and Image-01-FPS/ with the G2D split files",
    build,
});
