//! The `vggsound` dataset: VGGSound as the G2D / OGM-GE code reads it.
//!
//! Files under the root: `vggsound.csv` (rows `youtube_id,time,label,split`, an optional header
//! row), `audio/<split>/<clip>.wav` and `video/frames/<split>/Image-01-FPS/<clip>/*.jpg`, where
//! `<clip>` is `<youtube_id>_<time:06d>` and `<split>` is `train` or `test`.
//!
//! Like the reference, a clip is used only if its wav and frame folder exist and the folder has
//! more than 3 JPEGs (and at least `frames`); many VGGSound videos have left YouTube, so copies
//! of the dataset always miss some. The skipped clips are counted and reported on stderr with
//! the first missing file; a split left with no clip, or a missing CSV or split folder, is an
//! error naming the first missing file. Classes are the distinct labels of the usable train
//! clips in first-seen order; a test label outside them is an error, and the `classes` option,
//! if given, must equal their number (309 for the paper's copy). Validation: a stratified,
//! seeded `val-fraction` of train. The 5 s audio window of each clip starts at a seeded offset
//! (see [`crate::audio::window_start`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use harness_core::data::{Dataset, DatasetContext, DatasetEntry};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audio::{AudioRecipe, Length, window_start};
use crate::crema_d::{check_common, resolve_cache, resolve_root};
use crate::dataset::{AvConfig, AvDataset, Clip};
use crate::frames::{list_frames, pick_frames};
use crate::layout::VGGSOUND;
use crate::splits::{cap, carve_validation, read_csv};
use crate::stft::PadMode;

/// Registered name.
pub const NAME: &str = "vggsound";

/// The reference uses a clip only if its frame folder has more than this many entries.
pub const MIN_FRAMES_EXCLUSIVE: usize = 3;

/// Options of `vggsound` in `benchmarks.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VggSoundOptions {
    /// Dataset root; default `<data-root>/vggsound`.
    #[serde(default)]
    pub root: Option<PathBuf>,
    /// Fraction of each class of train moved to validation.
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
    /// Seed of the validation carve, `max-samples-per-split` and the audio window starts.
    #[serde(default)]
    pub split_seed: u64,
    /// Keep at most this many (seeded) samples per split, for smoke runs.
    #[serde(default)]
    pub max_samples_per_split: Option<usize>,
    /// Frames per clip, T (G2D: 3).
    #[serde(default = "default_frames")]
    pub frames: usize,
    /// Side of the square frames (reference: 224).
    #[serde(default = "default_image_size")]
    pub image_size: u32,
    /// STFT centre padding: `constant` (librosa >= 0.10) or `reflect` (older librosa).
    #[serde(default)]
    pub pad_mode: PadMode,
    /// Expected number of classes (309 for the paper's copy); checked only if given.
    #[serde(default)]
    pub classes: Option<usize>,
}

fn default_val_fraction() -> f64 {
    0.1
}

fn default_frames() -> usize {
    3
}

fn default_image_size() -> u32 {
    224
}

/// One CSV row that names a clip.
struct Entry {
    id: String,
    label: String,
    split: &'static str,
}

/// A clip that passed the reference's usability check, with its label text.
struct Usable {
    id: String,
    label: String,
    audio: PathBuf,
    frames: Vec<PathBuf>,
}

/// Loads VGGSound as described in the module docs.
pub fn load(ctx: &DatasetContext) -> Result<AvDataset> {
    let opts: VggSoundOptions = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    check_common(NAME, opts.val_fraction, opts.frames, opts.image_size)?;
    let root = resolve_root(NAME, &opts.root, ctx, "vggsound")?;
    VGGSOUND.require_dir(&root, &root)?;
    let csv = root.join("vggsound.csv");
    VGGSOUND.require_file(&root, &csv)?;
    let entries = entries(&csv)?;
    let mut usable: HashMap<&str, Vec<Usable>> = HashMap::new();
    for split in ["train", "test"] {
        let rows: Vec<&Entry> = entries.iter().filter(|e| e.split == split).collect();
        if rows.is_empty() {
            return Err(VGGSOUND.missing(&root, &csv, &format!("no `{split}` row in the CSV")));
        }
        let audio_dir = root.join("audio").join(split);
        let frame_dir = root.join("video").join("frames").join(split).join("Image-01-FPS");
        VGGSOUND.require_dir(&root, &audio_dir)?;
        VGGSOUND.require_dir(&root, &frame_dir)?;
        let checked: Vec<std::result::Result<Usable, (PathBuf, String)>> =
            rows.par_iter().map(|e| check_clip(&audio_dir, &frame_dir, e, opts.frames)).collect();
        let total = checked.len();
        let mut first_skip = None;
        let mut kept = Vec::new();
        for c in checked {
            match c {
                Ok(u) => kept.push(u),
                Err(skip) => {
                    first_skip.get_or_insert(skip);
                }
            }
        }
        if let Some((path, why)) = &first_skip {
            if kept.is_empty() {
                return Err(VGGSOUND.missing(&root, path, &format!("no usable `{split}` clip; the first one: {why}")));
            }
            eprintln!(
                "{NAME}: skipped {} of {total} {split} clips (missing wav or frames, or <= {MIN_FRAMES_EXCLUSIVE} frames), \
                 as the reference does; first: {} ({why})",
                total - kept.len(),
                path.display()
            );
        }
        usable.insert(split, kept);
    }
    let (train_all, test_all) = (usable.remove("train").unwrap_or_default(), usable.remove("test").unwrap_or_default());
    let mut classes: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for u in &train_all {
        if !index.contains_key(&u.label) {
            index.insert(u.label.clone(), classes.len());
            classes.push(u.label.clone());
        }
    }
    if let Some(expected) = opts.classes.filter(|&c| c != classes.len()) {
        return Err(Error::data(
            &csv,
            format!("the usable train clips have {} classes, the `classes` option expects {expected}", classes.len()),
        ));
    }
    let max_start = match AudioRecipe::vggsound(opts.pad_mode).length {
        Length::TileWindow { max_start, .. } => max_start,
        Length::TileCut { .. } => 0,
    };
    let to_clip = |u: &Usable| -> Result<Clip> {
        let label = *index.get(&u.label).ok_or_else(|| {
            Error::data(&csv, format!("test clip `{}` has label `{}`, which no usable train clip has", u.id, u.label))
        })?;
        Ok(Clip {
            id: u.id.clone(),
            label,
            audio: u.audio.clone(),
            frames: u.frames.clone(),
            audio_start: window_start(opts.split_seed, &u.id, max_start),
        })
    };
    let train_clips: Vec<Clip> = train_all.iter().map(to_clip).collect::<Result<_>>()?;
    let test_clips: Vec<Clip> = test_all.iter().map(to_clip).collect::<Result<_>>()?;
    let labels: Vec<usize> = train_clips.iter().map(|c| c.label).collect();
    let (train_idx, val_idx) = carve_validation(&labels, opts.val_fraction, opts.split_seed);
    let pick = |all: &[Clip], idx: &[usize], salt: u64| -> Vec<Clip> {
        cap(idx.len(), opts.max_samples_per_split, opts.split_seed ^ salt)
            .into_iter()
            .map(|k| all[idx[k]].clone())
            .collect()
    };
    let all_test: Vec<usize> = (0..test_clips.len()).collect();
    let splits = [pick(&train_clips, &train_idx, 1), pick(&train_clips, &val_idx, 2), pick(&test_clips, &all_test, 3)];
    let cfg = AvConfig {
        name: NAME.into(),
        classes: classes.len(),
        frames: opts.frames,
        image_size: opts.image_size,
        recipe: AudioRecipe::vggsound(opts.pad_mode),
        cache_dir: resolve_cache(NAME, &root, ctx),
        root,
    };
    AvDataset::build(&cfg, splits)
}

/// The clip rows of the CSV; a first row whose split column is not `train`/`test` is a header.
fn entries(csv: &Path) -> Result<Vec<Entry>> {
    let rows = read_csv(csv)?;
    let mut out = Vec::with_capacity(rows.len());
    for (k, row) in rows.iter().enumerate() {
        let f = &row.fields;
        let split = match f.get(3).map(String::as_str) {
            Some("train") => "train",
            Some("test") => "test",
            _ if k == 0 => continue,
            _ => {
                return Err(Error::data(
                    csv,
                    format!("line {}: expected `youtube_id,time,label,train|test`, got {f:?}", row.line),
                ));
            }
        };
        let time: u64 = f[1].parse().map_err(|_| {
            Error::data(csv, format!("line {}: time `{}` is not a whole number of seconds", row.line, f[1]))
        })?;
        out.push(Entry { id: format!("{}_{time:06}", f[0]), label: f[2].clone(), split });
    }
    Ok(out)
}

/// The reference's usability check for one clip; `Err((first missing path, why))` if skipped.
fn check_clip(
    audio_dir: &Path,
    frame_dir: &Path,
    e: &Entry,
    frames: usize,
) -> std::result::Result<Usable, (PathBuf, String)> {
    let audio = audio_dir.join(format!("{}.wav", e.id));
    if !audio.is_file() {
        return Err((audio, "wav not found".into()));
    }
    let dir = frame_dir.join(&e.id);
    if !dir.is_dir() {
        return Err((dir, "frame folder not found".into()));
    }
    let listing = list_frames(&dir).map_err(|err| (dir.clone(), err.to_string()))?;
    let n = listing.len();
    let chosen = (n > MIN_FRAMES_EXCLUSIVE).then(|| pick_frames(n, frames)).flatten();
    match chosen {
        Some(chosen) => Ok(Usable {
            id: e.id.clone(),
            label: e.label.clone(),
            audio,
            frames: chosen.into_iter().map(|k| listing[k].clone()).collect(),
        }),
        None => Err((dir, format!("{n} frames, more than {MIN_FRAMES_EXCLUSIVE} (and at least {frames}) needed"))),
    }
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit!(DatasetEntry {
    name: NAME,
    description: "VGGSound (audio + 3 video frames, 309 classes) from audio/<split>/ and video/frames/<split>/Image-01-FPS/",
    build,
});
