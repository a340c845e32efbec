//! Decode throughput of the CREMA-D audio pipeline (wav → 22,050 Hz → 3 s → log-STFT), in
//! clips per second, on generated 16 kHz 16-bit wavs like CREMA-D's (2.5 s each).
//!
//! `cargo bench -p datasets-audiovisual --bench crema_audio` (release build). Environment:
//! `AV_BENCH_CLIPS` (default 400), `AV_BENCH_THREADS` (default 2), `AV_BENCH_DIR` (keep the
//! wavs there, plus the first spectrograms as raw little-endian f32 `spec_<i>.f32`, for
//! `benches/crema_audio_librosa.py` to time librosa on the same clips and compare values).

use std::path::PathBuf;
use std::time::Instant;

use datasets_audiovisual::audio::AudioRecipe;
use datasets_audiovisual::resample::resample;
use datasets_audiovisual::stft::PadMode;
use datasets_audiovisual::wav::read_mono;
use rayon::prelude::*;

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A speech-like test signal: a few harmonics with a slow amplitude envelope plus noise.
fn clip(seed: u64, sr: u32, seconds: f64) -> Vec<i16> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let f0 = 100.0 + (seed % 150) as f64;
    (0..(sr as f64 * seconds) as usize)
        .map(|i| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let noise = ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
            let t = i as f64 / sr as f64;
            let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let voice: f64 = (1..6).map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64).sum();
            ((0.25 * env * voice + 0.02 * noise) * 32_767.0).clamp(-32_768.0, 32_767.0) as i16
        })
        .collect()
}

fn main() {
    let clips = env_usize("AV_BENCH_CLIPS", 400);
    let threads = env_usize("AV_BENCH_THREADS", 2);
    let keep = std::env::var_os("AV_BENCH_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let paths: Vec<PathBuf> = (0..clips)
        .map(|i| {
            let path = dir.join(format!("clip_{i:05}.wav"));
            let mut w = hound::WavWriter::create(&path, spec).expect("wav");
            for s in clip(i as u64, 16_000, 2.5) {
                w.write_sample(s).expect("sample");
            }
            w.finalize().expect("wav");
            path
        })
        .collect();
    let recipe = AudioRecipe::crema_d(PadMode::Constant);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    // Warm-up (page cache, per-thread resampler construction), then the timed pass.
    pool.install(|| paths.par_iter().take(threads * 4).for_each(|p| drop(recipe.spectrogram(p, 0).expect("decode"))));
    let start = Instant::now();
    let specs: Vec<Vec<f32>> =
        pool.install(|| paths.par_iter().map(|p| recipe.spectrogram(p, 0).expect("decode")).collect());
    let secs = start.elapsed().as_secs_f64();
    println!(
        "crema-d audio pipeline: {clips} clips of 2.5 s in {secs:.3} s on {threads} threads = {:.1} clips/s ({:.2} ms/clip/thread)",
        clips as f64 / secs,
        secs * 1000.0 * threads as f64 / clips as f64
    );
    // Breakdown: decoding + resampling alone, on the same pool.
    let start = Instant::now();
    pool.install(|| {
        paths.par_iter().for_each(|p| {
            let clip = read_mono(p).expect("decode");
            drop(resample(clip.samples, clip.sample_rate, 22_050).expect("resample"));
        })
    });
    let decode = start.elapsed().as_secs_f64();
    println!(
        "  of which wav decode + resample to 22,050 Hz: {:.2} ms/clip/thread; fix length + STFT + log: {:.2} ms/clip/thread",
        decode * 1000.0 * threads as f64 / clips as f64,
        (secs - decode) * 1000.0 * threads as f64 / clips as f64
    );
    if keep.is_some() {
        for (i, s) in specs.iter().take(5).enumerate() {
            let bytes: Vec<u8> = s.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(dir.join(format!("spec_{i}.f32")), bytes).expect("spec");
        }
    }
}
