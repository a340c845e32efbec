//! `np.log(np.abs(librosa.stft(y, n_fft, hop_length)) + 1e-7)`, with rustfft (through its
//! real-input wrapper `realfft`).
//!
//! Window: periodic Hann of length `n_fft` (`scipy.signal.get_window('hann', n_fft,
//! fftbins=True)`, librosa's default). Framing: `center=True`, so the signal is padded by
//! `n_fft / 2` on both sides and there are `1 + len / hop` frames. Padding: librosa ≥ 0.10 pads
//! with zeros (`pad_mode='constant'`, [`PadMode::Constant`], our default); librosa < 0.10 used
//! `'reflect'` ([`PadMode::Reflect`]). The public G2D code pins no librosa version, so the
//! choice is an option of each loader. The transform runs in f64 and the result is stored as
//! f32, laid out like librosa's output: `[1 + n_fft / 2, frames]`, frequency-major.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

/// The constant added before the log, as in the reference.
pub const LOG_EPS: f64 = 1e-7;

/// How `center=True` pads the signal's ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PadMode {
    /// Zeros: librosa ≥ 0.10 (`pad_mode='constant'`).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample: librosa < 0.10 (`pad_mode='reflect'`).
    Reflect,
}

/// A planned log-magnitude STFT.
#[derive(Clone)]
pub struct LogStft {
    n_fft: usize,
    hop: usize,
    pad: PadMode,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for LogStft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStft").field("n_fft", &self.n_fft).field("hop", &self.hop).field("pad", &self.pad).finish()
    }
}

/// The periodic Hann window of length `n`: `0.5 - 0.5 cos(2πk/n)`.
pub fn hann_periodic(n: usize) -> Vec<f64> {
    (0..n).map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / n as f64).cos()).collect()
}

impl LogStft {
    /// Plans an STFT with `n_fft` points and hop `hop`.
    pub fn new(n_fft: usize, hop: usize, pad: PadMode) -> Self {
        assert!(n_fft >= 2 && hop >= 1, "n_fft must be >= 2 and hop >= 1");
        let fft = RealFftPlanner::new().plan_fft_forward(n_fft);
        LogStft { n_fft, hop, pad, window: hann_periodic(n_fft), fft }
    }

    /// Number of frequency bins, `1 + n_fft / 2`.
    pub fn bins(&self) -> usize {
        1 + self.n_fft / 2
    }

    /// Number of frames for a signal of `len` samples, `1 + len / hop`.
    pub fn frames(&self, len: usize) -> usize {
        1 + len / self.hop
    }

    /// The centre-padded signal, as `np.pad(y, n_fft // 2, mode=...)`.
    fn padded(&self, y: &[f32]) -> Vec<f64> {
        let p = self.n_fft / 2;
        let n = y.len();
        let mut out = Vec::with_capacity(n + 2 * p);
        let at = |i: isize| -> f64 {
            match self.pad {
                PadMode::Constant => {
                    if i < 0 || i >= n as isize {
                        0.0
                    } else {
                        y[i as usize] as f64
                    }
                }
                PadMode::Reflect => {
                    if n == 1 {
                        return y[0] as f64;
                    }
                    // numpy's 'reflect' repeats the reflection for pads longer than the signal.
                    let period = 2 * (n as isize - 1);
                    let mut k = i.rem_euclid(period);
                    if k >= n as isize {
                        k = period - k;
                    }
                    y[k as usize] as f64
                }
            }
        };
        for i in -(p as isize)..(n + p) as isize {
            out.push(at(i));
        }
        out
    }

    /// `log(|STFT(y)| + 1e-7)` as `[bins, frames]` (frequency-major), f32.
    pub fn log_magnitude(&self, y: &[f32]) -> Vec<f32> {
        let (bins, frames) = (self.bins(), self.frames(y.len()));
        let padded = self.padded(y);
        let mut out = vec![0f32; bins * frames];
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for t in 0..frames {
            let start = t * self.hop;
            for ((x, &p), &w) in input.iter_mut().zip(&padded[start..start + self.n_fft]).zip(&self.window) {
                *x = p * w;
            }
            // Lengths come from the plan itself, so processing cannot fail.
            let _ = self.fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch);
            for (f, b) in spectrum.iter().enumerate() {
                out[f * frames + t] = (b.norm_sqr().sqrt() + LOG_EPS).ln() as f32;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_matches_scipy() {
        // scipy.signal.get_window('hann', 4) == [0, 0.5, 1, 0.5].
        let w = hann_periodic(4);
        for (a, b) in w.iter().zip([0.0, 0.5, 1.0, 0.5]) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn padding_matches_numpy() {
        let y = [1.0f32, 2.0, 3.0];
        let s = LogStft::new(4, 1, PadMode::Reflect);
        assert_eq!(s.padded(&y), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
        let s = LogStft::new(4, 1, PadMode::Constant);
        assert_eq!(s.padded(&y), vec![0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
        // np.pad([1,2,3], 5, 'reflect') == [2,1,2,3,2,1,2,3,2,1,2,3,2]
        let s = LogStft::new(10, 1, PadMode::Reflect);
        assert_eq!(s.padded(&y), vec![2., 1., 2., 3., 2., 1., 2., 3., 2., 1., 2., 3., 2.]);
    }

    #[test]
    fn frame_counts_match_the_reference_shapes() {
        let crema = LogStft::new(512, 353, PadMode::Constant);
        assert_eq!((crema.bins(), crema.frames(66_150)), (257, 188));
        let vgg = LogStft::new(256, 128, PadMode::Constant);
        assert_eq!((vgg.bins(), vgg.frames(80_000)), (129, 626));
    }

    /// `log(|sum_n w[n] x[t*hop + n - n_fft/2] e^{-2πikn/N}| + 1e-7)`, straight from the
    /// definition, in f64 with zero padding.
    fn direct(x: &[f32], n_fft: usize, hop: usize, t: usize, k: usize) -> f64 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for n in 0..n_fft {
            let i = (t * hop + n) as isize - (n_fft / 2) as isize;
            let v = if i < 0 || i >= x.len() as isize { 0.0 } else { x[i as usize] as f64 };
            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / n_fft as f64).cos();
            let ang = -2.0 * std::f64::consts::PI * (k * n) as f64 / n_fft as f64;
            re += w * v * ang.cos();
            im += w * v * ang.sin();
        }
        ((re * re + im * im).sqrt() + 1e-7).ln()
    }

    #[test]
    fn sine_peaks_at_its_bin_and_matches_a_direct_dft() {
        let (sr, freq, n_fft, hop) = (22_050.0, 1_000.0, 512, 353);
        let x: Vec<f32> =
            (0..66_150).map(|i| (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / sr).sin()) as f32).collect();
        let s = LogStft::new(n_fft, hop, PadMode::Constant);
        let out = s.log_magnitude(&x);
        let frames = s.frames(x.len());
        let t = 100;
        let column: Vec<f32> = (0..s.bins()).map(|f| out[f * frames + t]).collect();
        let peak = column.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(peak, (freq * n_fft as f64 / sr).round() as usize);
        // Every bin of an interior frame and of the two (padded) edge frames.
        for t in [0, 100, frames - 1] {
            for k in 0..s.bins() {
                let want = direct(&x, n_fft, hop, t, k);
                let got = out[k * frames + t] as f64;
                assert!((got - want).abs() < 1e-4 * want.abs().max(1.0), "t {t} bin {k}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn silence_is_log_eps() {
        let s = LogStft::new(16, 4, PadMode::Constant);
        let out = s.log_magnitude(&[0.0; 32]);
        assert_eq!(out.len(), 9 * 9);
        assert!(out.iter().all(|&v| (v as f64 - LOG_EPS.ln()).abs() < 1e-6));
    }
}
