//! WAV decoding with `hound`, as `librosa.load(..., mono=True)` sees the file.
//!
//! Integer PCM of `b` bits is scaled by `1 / 2^(b-1)` (what soundfile, librosa's reader, does:
//! 16-bit samples are divided by 32768); float files are taken as they are. Several channels
//! are averaged into one, like librosa's `to_mono`. A file that cannot be parsed, ends early or
//! holds no sample gives an [`Error::Data`](harness_core::Error) naming the file.

use std::path::Path;

use harness_core::{Error, Result};
use hound::{SampleFormat, WavReader};

/// A decoded mono clip.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoClip {
    /// Samples in [-1, 1] (float files may exceed it).
    pub samples: Vec<f32>,
    /// Sample rate of the file, in Hz.
    pub sample_rate: u32,
}

/// Reads `path` as a mono clip: channels averaged, integer PCM scaled to [-1, 1).
pub fn read_mono(path: &Path) -> Result<MonoClip> {
    let bad = |msg: String| Error::data(path, msg);
    let reader = WavReader::open(path).map_err(|e| bad(format!("not a readable WAV file: {e}")))?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    if channels == 0 {
        return Err(bad("WAV header declares 0 channels".into()));
    }
    let declared = reader.len() as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f64;
            reader.into_samples::<i32>().map(|s| s.map(|v| (v as f64 * scale) as f32)).collect::<Result<_, _>>()
        }
    }
    .map_err(|e| bad(format!("corrupt or truncated WAV data ({declared} samples declared): {e}")))?;
    if interleaved.len() != declared {
        return Err(bad(format!("truncated WAV data: {} of {declared} samples", interleaved.len())));
    }
    if interleaved.len() < channels {
        return Err(bad("WAV file holds no audio samples".into()));
    }
    let samples = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().map(|&v| v as f64).sum::<f64>() as f32 / channels as f32)
            .collect()
    };
    Ok(MonoClip { samples, sample_rate: spec.sample_rate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::{WavSpec, WavWriter};

    fn write(path: &Path, channels: u16, samples: &[i16]) {
        let spec = WavSpec { channels, sample_rate: 16_000, bits_per_sample: 16, sample_format: SampleFormat::Int };
        let mut w = WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn pcm16_is_scaled_like_soundfile_and_stereo_is_averaged() {
        let dir = tempfile::tempdir().unwrap();
        let mono = dir.path().join("m.wav");
        write(&mono, 1, &[16_384, -32_768, 0]);
        let clip = read_mono(&mono).unwrap();
        assert_eq!(clip.samples, vec![0.5, -1.0, 0.0]);
        assert_eq!(clip.sample_rate, 16_000);
        let stereo = dir.path().join("s.wav");
        write(&stereo, 2, &[16_384, 0, -16_384, -16_384]);
        assert_eq!(read_mono(&stereo).unwrap().samples, vec![0.25, -0.5]);
    }

    #[test]
    fn float_wav_is_read_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.wav");
        let spec =
            WavSpec { channels: 1, sample_rate: 22_050, bits_per_sample: 32, sample_format: SampleFormat::Float };
        let mut w = WavWriter::create(&path, spec).unwrap();
        for s in [0.25f32, -1.5] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(read_mono(&path).unwrap().samples, vec![0.25, -1.5]);
    }

    #[test]
    fn truncated_and_garbage_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        write(&path, 1, &[1; 1000]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 301]).unwrap();
        let msg = read_mono(&path).unwrap_err().to_string();
        assert!(msg.contains("t.wav") && msg.contains("truncated"), "{msg}");
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"definitely not RIFF").unwrap();
        let msg = read_mono(&junk).unwrap_err().to_string();
        assert!(msg.contains("junk.wav"), "{msg}");
        let empty = dir.path().join("empty.wav");
        write(&empty, 1, &[]);
        assert!(read_mono(&empty).unwrap_err().to_string().contains("no audio"));
    }
}
