//! Seeded sampling helpers shared by the generators.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tch::Tensor;

/// An RNG for stream `stream` of `seed` (one stream per sample or per prototype table).
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// A standard normal draw (Box-Muller).
pub fn normal(r: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = r.r#gen::<f64>().max(1e-12);
    let u2: f64 = r.r#gen::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// `rows x cols` standard normal values.
pub fn normal_table(r: &mut ChaCha8Rng, rows: usize, cols: usize) -> Vec<Vec<f32>> {
    (0..rows).map(|_| (0..cols).map(|_| normal(r)).collect()).collect()
}

/// Generates `n` samples in parallel; `f(index, rng)` returns one sample's flat values per
/// modality and its target. Returns per-modality flat buffers and the targets.
pub fn generate<F, T>(n: usize, seed: u64, stream_base: u64, modalities: usize, f: F) -> (Vec<Vec<f32>>, Vec<T>)
where
    F: Fn(usize, &mut ChaCha8Rng) -> (Vec<Vec<f32>>, T) + Sync,
    T: Send,
{
    let samples: Vec<(Vec<Vec<f32>>, T)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut r = rng(seed, stream_base + i as u64);
            f(i, &mut r)
        })
        .collect();
    let mut buffers = vec![Vec::new(); modalities];
    let mut targets = Vec::with_capacity(n);
    for (xs, t) in samples {
        for (b, x) in buffers.iter_mut().zip(xs) {
            b.extend(x);
        }
        targets.push(t);
    }
    (buffers, targets)
}

/// A float tensor of shape `[n, ...shape]` from a flat buffer.
pub fn tensor(buf: &[f32], n: usize, shape: &[i64]) -> Tensor {
    let mut dims = vec![n as i64];
    dims.extend_from_slice(shape);
    Tensor::from_slice(buf).reshape(dims)
}

/// A uniformly random class different from none in particular (used for misleading samples).
pub fn class(r: &mut ChaCha8Rng, classes: usize) -> usize {
    r.gen_range(0..classes)
}
