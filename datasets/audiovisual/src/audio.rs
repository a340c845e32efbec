//! The two reference audio recipes: wav → resample → tile/cut → clip → log-magnitude STFT.
//!
//! * CREMA-D (G2D `CremadDataset.py`): `librosa.load(sr=22050)`, `np.tile(x, 3)[:66150]`,
//!   clip to [-1, 1], `stft(n_fft=512, hop_length=353)`, `log(|S| + 1e-7)` → `[257, 188]`.
//!   A clip shorter than 1 s would give the reference fewer than 66,150 samples and a narrower
//!   spectrogram (which then fails to batch); here it is tiled as often as needed to fill 3 s,
//!   which is identical to `tile(x, 3)` for every clip of at least 1 s (all of CREMA-D).
//! * VGGSound (G2D `VGGSoundDataset.py`): `librosa.load(sr=16000)`, `x = np.tile(x, 2)` while
//!   shorter than 10 s, a 5 s window starting at `random.randint(0, 5 * sr)`, clip,
//!   `stft(n_fft=256, hop_length=128)`, log → `[129, 626]`. The reference redraws the start on
//!   every `__getitem__`; here each clip gets one start, drawn from a seeded generator keyed by
//!   the split seed and the clip id (see [`window_start`]), so the spectrogram can be cached.

use std::path::Path;

use harness_core::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::resample::resample;
use crate::stft::{LogStft, PadMode};
use crate::wav::read_mono;

/// How a decoded clip is brought to a fixed length before the STFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Length {
    /// `np.tile(x, times)[:len]` (tiling more often if `times` copies are too short).
    TileCut {
        /// Copies the reference makes (3 for CREMA-D).
        times: usize,
        /// Output length in samples.
        len: usize,
    },
    /// Doubling-tile until at least `min_len`, then the window `[start, start + len)`.
    TileWindow {
        /// Minimum length after tiling (10 s for VGGSound).
        min_len: usize,
        /// Window length (5 s for VGGSound).
        len: usize,
        /// The largest start, inclusive (`randint(0, 5 * sr)`).
        max_start: usize,
    },
}

/// One audio preprocessing recipe.
#[derive(Debug, Clone)]
pub struct AudioRecipe {
    /// Target sample rate of `librosa.load`.
    pub sample_rate: u32,
    /// Length rule.
    pub length: Length,
    /// The STFT.
    pub stft: LogStft,
}

impl AudioRecipe {
    /// CREMA-D: 22,050 Hz, 3 s, n_fft 512, hop 353 → `[257, 188]`.
    pub fn crema_d(pad: PadMode) -> Self {
        AudioRecipe {
            sample_rate: 22_050,
            length: Length::TileCut { times: 3, len: 66_150 },
            stft: LogStft::new(512, 353, pad),
        }
    }

    /// VGGSound: 16 kHz, ≥ 10 s tiled, 5 s window, n_fft 256, hop 128 → `[129, 626]`.
    pub fn vggsound(pad: PadMode) -> Self {
        AudioRecipe {
            sample_rate: 16_000,
            length: Length::TileWindow { min_len: 160_000, len: 80_000, max_start: 80_000 },
            stft: LogStft::new(256, 128, pad),
        }
    }

    /// Length of the signal fed to the STFT.
    pub fn signal_len(&self) -> usize {
        match self.length {
            Length::TileCut { len, .. } | Length::TileWindow { len, .. } => len,
        }
    }

    /// The spectrogram shape `[bins, frames]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.stft.bins(), self.stft.frames(self.signal_len())]
    }

    /// Brings `x` to the fixed length; `start` is the window start for [`Length::TileWindow`]
    /// (clamped to `max_start`). `x` must not be empty.
    pub fn fix_length(&self, x: &[f32], start: usize) -> Vec<f32> {
        assert!(!x.is_empty(), "fix_length needs a non-empty signal");
        match self.length {
            Length::TileCut { times, len } => {
                let copies = times.max(len.div_ceil(x.len()));
                x.iter().copied().cycle().take((x.len() * copies).min(len)).collect()
            }
            Length::TileWindow { min_len, len, max_start } => {
                let mut tiled = x.len();
                while tiled < min_len {
                    tiled *= 2;
                }
                let start = start.min(max_start);
                // A tiled signal is periodic in the clip length, so index modulo it.
                (start..start + len).map(|i| if i < tiled { x[i % x.len()] } else { 0.0 }).collect()
            }
        }
    }

    /// The full recipe for one wav file: `[bins, frames]` log-magnitudes, frequency-major.
    pub fn spectrogram(&self, path: &Path, start: usize) -> Result<Vec<f32>> {
        let clip = read_mono(path)?;
        let x = resample(clip.samples, clip.sample_rate, self.sample_rate)
            .map_err(|e| Error::data(path, format!("cannot resample: {e}")))?;
        Ok(self.spectrogram_of(&x, start))
    }

    /// The recipe after decoding and resampling: fix the length, clip, STFT, log.
    pub fn spectrogram_of(&self, x: &[f32], start: usize) -> Vec<f32> {
        let mut y = self.fix_length(x, start);
        for v in &mut y {
            *v = v.clamp(-1.0, 1.0);
        }
        self.stft.log_magnitude(&y)
    }
}

/// The seeded window start of clip `id` for [`Length::TileWindow`]: uniform in
/// `0..=max_start`, from a ChaCha8 generator seeded by SHA-256 of the seed and the id.
pub fn window_start(seed: u64, id: &str, max_start: usize) -> usize {
    let digest = Sha256::new().chain_update(seed.to_le_bytes()).chain_update(id.as_bytes()).finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha8Rng::from_seed(key).gen_range(0..=max_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crema_tiles_three_times_then_cuts() {
        let r = AudioRecipe::crema_d(PadMode::Constant);
        let x: Vec<f32> = (0..30_000).map(|i| i as f32).collect();
        let y = r.fix_length(&x, 0);
        assert_eq!(y.len(), 66_150);
        assert_eq!(y[29_999], 29_999.0);
        assert_eq!(y[30_000], 0.0);
        assert_eq!(y[66_149], (66_149 - 60_000) as f32);
        // A clip under 1 s is tiled more than 3 times so that 3 s are filled.
        let short: Vec<f32> = (0..10_000).map(|i| i as f32).collect();
        let y = r.fix_length(&short, 0);
        assert_eq!((y.len(), y[66_149]), (66_150, 6_149.0));
        // A long clip is just cut.
        let long = vec![0.5f32; 100_000];
        assert_eq!(r.fix_length(&long, 0).len(), 66_150);
    }

    #[test]
    fn vggsound_doubles_until_ten_seconds_and_takes_a_window() {
        let r = AudioRecipe::vggsound(PadMode::Constant);
        let x: Vec<f32> = (0..50_000).map(|i| i as f32).collect();
        // tile(x, 2) twice → 200,000 samples ≥ 160,000.
        let y = r.fix_length(&x, 80_000);
        assert_eq!(y.len(), 80_000);
        assert_eq!(y[0], 30_000.0);
        assert_eq!(y[79_999], ((80_000 + 79_999) % 50_000) as f32);
        assert_eq!(r.fix_length(&x, 10_000_000)[0], 30_000.0, "start is clamped to 5 s");
    }

    #[test]
    fn window_start_is_seeded_and_in_range() {
        let a = window_start(1, "abc_000030", 80_000);
        assert_eq!(a, window_start(1, "abc_000030", 80_000));
        assert!(a <= 80_000);
        let starts: Vec<usize> = (0..20).map(|s| window_start(s, "abc_000030", 80_000)).collect();
        assert!(starts.iter().any(|&s| s != a));
    }

    #[test]
    fn shapes_match_the_reference() {
        assert_eq!(AudioRecipe::crema_d(PadMode::Constant).shape(), [257, 188]);
        assert_eq!(AudioRecipe::vggsound(PadMode::Reflect).shape(), [129, 626]);
    }

    #[test]
    fn samples_are_clipped_before_the_stft() {
        let r = AudioRecipe::crema_d(PadMode::Constant);
        let loud = vec![5.0f32; 66_150];
        let unit = vec![1.0f32; 66_150];
        assert_eq!(r.spectrogram_of(&loud, 0), r.spectrogram_of(&unit, 0));
    }
}
