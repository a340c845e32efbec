//! [`AvDataset`]: an audio + visual classification dataset over clip lists, backed by the
//! preprocessing cache.
//!
//! Audio: every split's log-spectrograms are computed once (rayon, in parallel) into a record
//! file and read back per batch. Visual: the validation and test splits' frames are decoded,
//! resized to `S × S` and cached as `u8` records (`[T, S, S, 3]`), and normalised per batch.
//! Training batches (those with an augment seed) re-decode the picked JPEGs and apply the
//! random resized crop and flip every time, seeded by the batch's augment seed and the sample
//! index, so their frames are never cached. A training-split batch without an augment seed
//! decodes and resizes its frames on the fly. Decoding runs on rayon into plain buffers;
//! tensors are built afterwards on the calling thread.

use std::path::PathBuf;

use harness_core::cache::{RecordFile, RecordSpec, build_or_open, cache_key, short_hex};
use harness_core::data::{Batch, Dataset, DatasetSpec, EncoderChoice, ModalityKind, ModalitySpec, Split, Task};
use harness_core::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tch::Tensor;

use crate::audio::AudioRecipe;
use crate::frames::{decode_rgb, resize_exact, train_transform, write_normalized};

/// Default encoder of the audio modality.
pub const AUDIO_ENCODER: &str = "resnet18-audio";
/// Default encoder of the visual modality.
pub const VISUAL_ENCODER: &str = "resnet18-visual";
/// Version of the cache format and recipes; bump it to invalidate every cache.
const CACHE_VERSION: &str = "datasets-audiovisual/1";

/// One clip of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    /// Clip id, e.g. `1088_IOM_NEU_XX`.
    pub id: String,
    /// Class index.
    pub label: usize,
    /// The wav file.
    pub audio: PathBuf,
    /// The picked frames, in the order they fill the T axis.
    pub frames: Vec<PathBuf>,
    /// Start of the audio window (VGGSound), in samples at the recipe's rate.
    pub audio_start: usize,
}

/// How an [`AvDataset`] is built.
#[derive(Debug, Clone)]
pub struct AvConfig {
    /// Registered dataset name.
    pub name: String,
    /// Number of classes.
    pub classes: usize,
    /// Frames per clip, T.
    pub frames: usize,
    /// Side of the square frames, S.
    pub image_size: u32,
    /// The audio recipe.
    pub recipe: AudioRecipe,
    /// Folder of this dataset's cache files.
    pub cache_dir: PathBuf,
    /// The dataset root, part of the cache key.
    pub root: PathBuf,
}

#[derive(Debug)]
struct SplitData {
    clips: Vec<Clip>,
    audio: RecordFile<f32>,
    eval_frames: Option<RecordFile<u8>>,
}

/// An audio + visual dataset: modality 0 is `audio` `[1, F, N]`, modality 1 is `visual`
/// `[3, T, S, S]`.
#[derive(Debug)]
pub struct AvDataset {
    spec: DatasetSpec,
    frames: usize,
    image_size: u32,
    splits: Vec<SplitData>,
}

impl AvDataset {
    /// Builds the dataset from its train, validation and test clips, preprocessing (or reading
    /// from the cache) every split's audio and the validation and test frames.
    pub fn build(cfg: &AvConfig, clips: [Vec<Clip>; 3]) -> Result<Self> {
        if cfg.frames == 0 || cfg.image_size == 0 {
            return Err(Error::config(
                format!("options of dataset `{}`", cfg.name),
                "frames and image-size must be >= 1",
            ));
        }
        let [bins, steps] = cfg.recipe.shape();
        let spec = DatasetSpec {
            name: cfg.name.clone(),
            task: Task::Classification { classes: cfg.classes },
            modalities: vec![
                ModalitySpec {
                    name: "audio".into(),
                    kind: ModalityKind::Audio,
                    shape: vec![1, bins as i64, steps as i64],
                    default_encoder: EncoderChoice::named(AUDIO_ENCODER),
                },
                ModalitySpec {
                    name: "visual".into(),
                    kind: ModalityKind::Visual,
                    shape: vec![3, cfg.frames as i64, cfg.image_size as i64, cfg.image_size as i64],
                    default_encoder: EncoderChoice::named(VISUAL_ENCODER),
                },
            ],
        };
        let mut splits = Vec::with_capacity(3);
        for (split, clips) in Split::ALL.into_iter().zip(clips) {
            if let Some(c) = clips.iter().find(|c| c.label >= cfg.classes || c.frames.len() != cfg.frames) {
                return Err(Error::data(
                    &c.audio,
                    format!("clip `{}` has label {} or {} frames", c.id, c.label, c.frames.len()),
                ));
            }
            let audio = cache_audio(cfg, split, &clips)?;
            let eval_frames = if split == Split::Train { None } else { Some(cache_eval_frames(cfg, split, &clips)?) };
            splits.push(SplitData { clips, audio, eval_frames });
        }
        Ok(AvDataset { spec, frames: cfg.frames, image_size: cfg.image_size, splits })
    }

    fn split(&self, split: Split) -> &SplitData {
        &self.splits[split as usize]
    }

    /// The clips of `split`, in index order.
    pub fn clips(&self, split: Split) -> &[Clip] {
        &self.split(split).clips
    }

    /// The normalised `[B, 3, T, S, S]` frames of `indices`.
    fn visual(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Vec<f32>> {
        let (t_len, size) = (self.frames, self.image_size);
        let per = 3 * t_len * (size * size) as usize;
        let mut out = vec![0f32; per * indices.len()];
        let data = self.split(split);
        if let (None, Some(cached)) = (augment_seed, &data.eval_frames) {
            let raw = cached.read(indices)?;
            let frame_len = (size * size * 3) as usize;
            out.par_chunks_mut(per).zip(raw.par_chunks(t_len * frame_len)).for_each(|(dst, src)| {
                for (t, frame) in src.chunks(frame_len).enumerate() {
                    write_normalized(frame, t, t_len, dst);
                }
            });
            return Ok(out);
        }
        out.par_chunks_mut(per).zip(indices.par_iter()).try_for_each(|(dst, &i)| -> Result<()> {
            let clip =
                data.clips.get(i).ok_or_else(|| Error::config("batch indices", format!("index {i} out of range")))?;
            let mut rng = augment_seed.map(|s| ChaCha8Rng::seed_from_u64(mix(s, i as u64)));
            for (t, path) in clip.frames.iter().enumerate() {
                let img = decode_rgb(path)?;
                let img = match rng.as_mut() {
                    Some(rng) => train_transform(&img, size, rng),
                    None => resize_exact(&img, size),
                };
                write_normalized(img.as_raw(), t, t_len, dst);
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// SplitMix64-style mixing of a batch seed and a sample index into a per-sample seed.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn cache_audio(cfg: &AvConfig, split: Split, clips: &[Clip]) -> Result<RecordFile<f32>> {
    let mut parts = vec![
        CACHE_VERSION.to_string(),
        "audio".into(),
        cfg.name.clone(),
        format!("{:?}", cfg.recipe),
        cfg.root.display().to_string(),
        split.to_string(),
    ];
    for c in clips {
        parts.push(format!("{}|{}|{}", c.id, c.audio.display(), c.audio_start));
    }
    let key = cache_key(&parts);
    let spec = RecordSpec { shape: cfg.recipe.shape().to_vec(), count: clips.len(), key };
    let path = cfg.cache_dir.join(format!("{split}-audio-{}.rec", short_hex(&key)));
    let label = format!("{} {split} audio", cfg.name);
    build_or_open(&path, &spec, clips, &label, |c: &Clip| cfg.recipe.spectrogram(&c.audio, c.audio_start))
}

fn cache_eval_frames(cfg: &AvConfig, split: Split, clips: &[Clip]) -> Result<RecordFile<u8>> {
    let size = cfg.image_size;
    let mut parts = vec![
        CACHE_VERSION.to_string(),
        "eval-frames".into(),
        cfg.name.clone(),
        format!("size={size} frames={}", cfg.frames),
        cfg.root.display().to_string(),
        split.to_string(),
    ];
    for c in clips {
        parts.push(c.id.clone());
        parts.extend(c.frames.iter().map(|p| p.display().to_string()));
    }
    let key = cache_key(&parts);
    let spec = RecordSpec { shape: vec![cfg.frames, size as usize, size as usize, 3], count: clips.len(), key };
    let path = cfg.cache_dir.join(format!("{split}-frames-{}.rec", short_hex(&key)));
    let label = format!("{} {split} frames", cfg.name);
    build_or_open(&path, &spec, clips, &label, |c: &Clip| {
        let mut raw = Vec::with_capacity(cfg.frames * (size * size * 3) as usize);
        for p in &c.frames {
            raw.extend_from_slice(resize_exact(&decode_rgb(p)?, size).as_raw());
        }
        Ok(raw)
    })
}

impl Dataset for AvDataset {
    fn spec(&self) -> &DatasetSpec {
        &self.spec
    }

    fn len(&self, split: Split) -> usize {
        self.split(split).clips.len()
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        let t: Vec<i64> = self.split(split).clips.iter().map(|c| c.label as i64).collect();
        Ok(Tensor::from_slice(&t))
    }

    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch> {
        let data = self.split(split);
        if let Some(&bad) = indices.iter().find(|&&i| i >= data.clips.len()) {
            return Err(Error::config(
                format!("batch of dataset `{}` {split} split", self.spec.name),
                format!("index {bad} out of range ({} samples)", data.clips.len()),
            ));
        }
        let b = indices.len() as i64;
        let audio = data.audio.read(indices)?;
        let visual = self.visual(split, indices, augment_seed)?;
        let audio_shape: Vec<i64> = std::iter::once(b).chain(self.spec.modalities[0].shape.iter().copied()).collect();
        let visual_shape: Vec<i64> = std::iter::once(b).chain(self.spec.modalities[1].shape.iter().copied()).collect();
        let targets: Vec<i64> = indices.iter().map(|&i| data.clips[i].label as i64).collect();
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        Ok(Batch {
            inputs: vec![
                Tensor::f_from_slice(&audio)?.f_reshape(&audio_shape[..])?,
                Tensor::f_from_slice(&visual)?.f_reshape(&visual_shape[..])?,
            ],
            targets: Tensor::f_from_slice(&targets)?,
            index: Tensor::f_from_slice(&index)?,
            present: None,
        })
    }

    fn augments(&self, modality: usize) -> bool {
        modality == 1
    }
}

#[cfg(test)]
mod tests {
    use super::mix;

    #[test]
    fn per_sample_seeds_differ() {
        assert_ne!(mix(1, 0), mix(1, 1));
        assert_ne!(mix(1, 0), mix(2, 0));
        assert_eq!(mix(5, 7), mix(5, 7));
    }
}
