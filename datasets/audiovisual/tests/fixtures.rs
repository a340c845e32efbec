//! End-to-end tests on tiny CREMA-D and VGGSound copies written in the reference's exact
//! on-disk format (BOM + CRLF split files, 16-bit PCM wavs, JPEG frame folders).

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use datasets_audiovisual::crema_d::{self, CLASSES};
use datasets_audiovisual::frames::{IMAGENET_MEAN, IMAGENET_STD};
use datasets_audiovisual::vggsound;
use harness_core::data::{Dataset, DatasetContext, Split, Task, lookup};
use harness_core::options::Options;
use image::{Rgb, RgbImage};
use tch::Tensor;

/// Writes a mono 16-bit PCM wav; returns the samples as the loader reads them (`i16 / 32768`).
fn write_wav(path: &Path, sr: u32, samples: &[f64]) -> Vec<f32> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec =
        hound::WavSpec { channels: 1, sample_rate: sr, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut read = Vec::new();
    for &s in samples {
        let q = (s * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16;
        w.write_sample(q).unwrap();
        read.push(q as f32 / 32_768.0);
    }
    w.finalize().unwrap();
    read
}

fn sine(freq: f64, sr: u32, seconds: f64, amp: f64) -> Vec<f64> {
    (0..(sr as f64 * seconds) as usize).map(|i| amp * (2.0 * PI * freq * i as f64 / sr as f64).sin()).collect()
}

/// A 1-fps frame folder `<dir>/00000.jpg ..`, frame `k` filled with `colour(k)`.
fn write_frames(dir: &Path, n: usize, colour: impl Fn(usize) -> [u8; 3]) {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..n {
        RgbImage::from_pixel(40, 30, Rgb(colour(k))).save(dir.join(format!("{k:05}.jpg"))).unwrap();
    }
}

/// A split file exactly like the reference's: UTF-8 BOM, CRLF, no header.
fn write_split(path: &Path, rows: &[(String, &str)]) {
    let mut s = String::from("\u{feff}");
    for (id, emo) in rows {
        s.push_str(&format!("{id},{emo}\r\n"));
    }
    std::fs::write(path, s).unwrap();
}

fn ctx(options: &str, data_root: Option<&Path>, cache: Option<PathBuf>) -> DatasetContext {
    DatasetContext {
        options: toml::from_str::<Options>(options).unwrap(),
        data_root: data_root.map(Path::to_path_buf),
        cache_dir: cache,
    }
}

fn frame_colour(k: usize) -> [u8; 3] {
    [(40 * k) as u8, 200 - (30 * k) as u8, 100]
}

/// CREMA-D: 5 train and 1 test clip per emotion, 2..=5 frames each, audio at 16 kHz (so it is
/// resampled) except the first test clip, a 22,050 Hz 1 kHz sine.
struct Crema {
    _dir: tempfile::TempDir,
    root: PathBuf,
    sine_test_samples: Vec<f32>,
}

fn crema_fixture() -> Crema {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("crema-d");
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let mut sine_test_samples = Vec::new();
    for (c, emo) in CLASSES.iter().enumerate() {
        for k in 0..6 {
            let id = format!("10{c}{k}_IOM_{emo}_XX");
            let frames = 2 + (c + k) % 4;
            write_frames(&root.join("Image-01-FPS").join(&id), frames, frame_colour);
            let wav = root.join("AudioWAV").join(format!("{id}.wav"));
            if k == 5 {
                if c == 0 {
                    sine_test_samples = write_wav(&wav, 22_050, &sine(1_000.0, 22_050, 1.5, 0.5));
                } else {
                    write_wav(&wav, 16_000, &sine(300.0 * (c + 1) as f64, 16_000, 1.3, 0.3));
                }
                test.push((id, *emo));
            } else {
                write_wav(&wav, 16_000, &sine(200.0 * (c + 1) as f64, 16_000, 1.2 + 0.1 * k as f64, 0.3));
                train.push((id, *emo));
            }
        }
    }
    write_split(&root.join("train.csv"), &train);
    write_split(&root.join("test.csv"), &test);
    Crema { _dir: dir, root, sine_test_samples }
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
}

/// log|DFT| of frame `t`, bin `k` of the reference recipe, straight from the definition.
fn direct_log_bin(x: &[f32], n_fft: usize, hop: usize, t: usize, k: usize) -> f64 {
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for n in 0..n_fft {
        let i = (t * hop + n) as isize - (n_fft / 2) as isize;
        let v = if i < 0 || i >= x.len() as isize { 0.0 } else { x[i as usize].clamp(-1.0, 1.0) as f64 };
        let w = 0.5 - 0.5 * (2.0 * PI * n as f64 / n_fft as f64).cos();
        re += w * v * (2.0 * PI * (k * n) as f64 / n_fft as f64).cos();
        im -= w * v * (2.0 * PI * (k * n) as f64 / n_fft as f64).sin();
    }
    ((re * re + im * im).sqrt() + 1e-7).ln()
}

#[test]
fn both_datasets_are_registered() {
    assert!(lookup("crema-d").is_ok());
    assert!(lookup("vggsound").is_ok());
}

#[test]
fn crema_d_loads_with_reference_shapes_labels_splits_and_values() {
    let fx = crema_fixture();
    let cache = fx.root.parent().unwrap().join("cache");
    let opts = "val-fraction = 0.2\nimage-size = 32\nsplit-seed = 4";
    let ds =
        (lookup("crema-d").unwrap().build)(&ctx(opts, Some(fx.root.parent().unwrap()), Some(cache.clone()))).unwrap();
    let spec = ds.spec();
    assert_eq!(spec.task, Task::Classification { classes: 6 });
    assert_eq!(spec.modalities[0].shape, vec![1, 257, 188]);
    assert_eq!(spec.modalities[1].shape, vec![3, 1, 32, 32]);
    assert_eq!(spec.modalities[0].default_encoder.name, "resnet18-audio");
    assert_eq!(spec.modalities[1].default_encoder.name, "resnet18-visual");
    assert!(ds.augments(1) && !ds.augments(0));
    // 5 train clips per class: round(0.2 * 5) = 1 per class to validation.
    assert_eq!((ds.len(Split::Train), ds.len(Split::Val), ds.len(Split::Test)), (24, 6, 6));
    let test_targets: Vec<i64> = Vec::try_from(ds.targets(Split::Test).unwrap()).unwrap();
    assert_eq!(test_targets, vec![0, 1, 2, 3, 4, 5], "NEU HAP SAD FEA DIS ANG in CSV order");
    for split in [Split::Train, Split::Val] {
        let counts = harness_core::data::class_counts(&ds.targets(split).unwrap(), 6);
        assert!(counts.iter().all(|&c| c == if split == Split::Train { 4 } else { 1 }), "{split}: {counts:?}");
    }

    let batch = ds.batch(Split::Test, &[0, 3], None).unwrap();
    assert_eq!(batch.inputs[0].size(), vec![2, 1, 257, 188]);
    assert_eq!(batch.inputs[1].size(), vec![2, 3, 1, 32, 32]);
    assert_eq!(Vec::<i64>::try_from(&batch.targets).unwrap(), vec![0, 3]);
    assert_eq!(Vec::<i64>::try_from(&batch.index).unwrap(), vec![0, 3]);

    // Audio of test clip 0: a 22,050 Hz 1 kHz sine, so no resampling; tiled 3x and cut to 3 s.
    let spec0 = to_vec(&batch.inputs[0].get(0));
    let frames = 188;
    let x: Vec<f32> = fx.sine_test_samples.iter().copied().cycle().take(66_150).collect();
    let col = |t: usize| -> Vec<f32> { (0..257).map(|k| spec0[k * frames + t]).collect() };
    let c = col(60);
    let peak = c.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(peak, (1_000.0f64 * 512.0 / 22_050.0).round() as usize);
    for t in [0, 60, 187] {
        for k in [0, 10, peak, 100, 256] {
            let want = direct_log_bin(&x, 512, 353, t, k);
            let got = spec0[k * frames + t] as f64;
            assert!((got - want).abs() < 1e-3, "frame {t} bin {k}: {got} vs {want}");
        }
    }

    // Visual of test clip 0 (NEU, k = 5): 2 + (0 + 5) % 4 = 3 frames; numpy's seeded pick of
    // 1 of 3 is index 1, so the frame is a constant of frame_colour(1), ImageNet-normalised.
    let vis = to_vec(&batch.inputs[1].get(0));
    let rgb = frame_colour(1);
    for ch in 0..3 {
        let want = (rgb[ch] as f32 / 255.0 - IMAGENET_MEAN[ch]) / IMAGENET_STD[ch];
        let plane = &vis[ch * 1024..(ch + 1) * 1024];
        let tol = 4.0 / 255.0 / IMAGENET_STD[ch];
        assert!(plane.iter().all(|&v| (v - want).abs() <= tol), "channel {ch}: want {want}, got {}", plane[0]);
    }

    // Training batches are augmented from the augment seed: reproducible, and the right size.
    let a = ds.batch(Split::Train, &[0, 5, 9], Some(11)).unwrap();
    let b = ds.batch(Split::Train, &[0, 5, 9], Some(11)).unwrap();
    assert_eq!(a.inputs[1].size(), vec![3, 3, 1, 32, 32]);
    assert!(a.inputs[1].equal(&b.inputs[1]));
    assert!(a.inputs[0].equal(&b.inputs[0]));
    let clean = ds.batch(Split::Train, &[0, 5, 9], None).unwrap();
    assert_eq!(clean.inputs[1].size(), vec![3, 3, 1, 32, 32]);

    // The cache: a second load reads the spectrograms back instead of decoding. Breaking a wav
    // after the first load proves it (the file still exists, so the layout check passes).
    let files: Vec<_> = std::fs::read_dir(cache.join("crema-d")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files.len(), 3 + 2, "audio for 3 splits, eval frames for val and test: {files:?}");
    assert!(files.iter().all(|f| !f.to_string_lossy().contains("tmp")));
    let first_wav = fx.root.join("AudioWAV").join("1000_IOM_NEU_XX.wav");
    std::fs::write(&first_wav, b"RIFF garbage").unwrap();
    let again = (lookup("crema-d").unwrap().build)(&ctx(opts, Some(fx.root.parent().unwrap()), Some(cache))).unwrap();
    let b2 = again.batch(Split::Test, &[0, 3], None).unwrap();
    assert!(b2.inputs[0].equal(&batch.inputs[0]) && b2.inputs[1].equal(&batch.inputs[1]));
}

#[test]
fn crema_d_cache_defaults_to_the_root_and_options_are_checked() {
    let fx = crema_fixture();
    let root = fx.root.display().to_string();
    let opts = format!("root = \"{root}\"\nimage-size = 16\nmax-samples-per-split = 4\nval-fraction = 0.2");
    let ds = crema_d::load(&ctx(&opts, None, None)).unwrap();
    assert_eq!((ds.len(Split::Train), ds.len(Split::Val), ds.len(Split::Test)), (4, 4, 4));
    assert!(fx.root.join(".harness-cache").read_dir().unwrap().count() >= 3);

    let err =
        crema_d::load(&ctx(&format!("root = \"{root}\"\nval-fractoin = 0.2"), None, None)).unwrap_err().to_string();
    assert!(err.contains("val-fractoin") && err.contains("val-fraction"), "{err}");
    let err =
        crema_d::load(&ctx(&format!("root = \"{root}\"\nval-fraction = 1.5"), None, None)).unwrap_err().to_string();
    assert!(err.contains("val-fraction"), "{err}");
    let err = crema_d::load(&ctx("", None, None)).unwrap_err().to_string();
    assert!(err.contains("root") && err.contains("--data-root"), "{err}");
}

#[test]
fn crema_d_missing_files_name_the_first_one_and_the_layout() {
    let fx = crema_fixture();
    let load = |root: &Path| crema_d::load(&ctx(&format!("root = \"{}\"", root.display()), None, None));
    let err = load(&fx.root.join("nope")).unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("CheyneyComputerScience/CREMA-D"), "{err}");

    // Two wavs missing: the error names the first one in split-file order.
    let (w1, w2) = (fx.root.join("AudioWAV/1002_IOM_NEU_XX.wav"), fx.root.join("AudioWAV/1011_IOM_HAP_XX.wav"));
    std::fs::remove_file(&w2).unwrap();
    std::fs::remove_file(&w1).unwrap();
    let err = load(&fx.root).unwrap_err().to_string();
    assert!(err.contains("1002_IOM_NEU_XX.wav") && !err.contains("1011_IOM_HAP_XX"), "{err}");
    assert!(err.contains("AudioWAV/<clip>.wav") && err.contains("video_preprocessing.py"), "{err}");

    // A frame folder without frames.
    let fx = crema_fixture();
    let dir = fx.root.join("Image-01-FPS/1000_IOM_NEU_XX");
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let err = load(&fx.root).unwrap_err().to_string();
    assert!(err.contains("1000_IOM_NEU_XX") && err.contains("0 frames"), "{err}");

    // A split file missing.
    std::fs::remove_file(fx.root.join("test.csv")).unwrap();
    let err = load(&fx.root).unwrap_err().to_string();
    assert!(err.contains("test.csv") && err.contains("file not found"), "{err}");
}

#[test]
fn corrupt_wav_and_truncated_jpg_are_errors_naming_the_file() {
    let fx = crema_fixture();
    let load =
        |root: &Path| crema_d::load(&ctx(&format!("root = \"{}\"\nimage-size = 16", root.display()), None, None));
    let wav = fx.root.join("AudioWAV/1024_IOM_SAD_XX.wav");
    let bytes = std::fs::read(&wav).unwrap();
    std::fs::write(&wav, &bytes[..bytes.len() / 2]).unwrap();
    let err = load(&fx.root).unwrap_err().to_string();
    assert!(err.contains("1024_IOM_SAD_XX.wav") && err.contains("truncated"), "{err}");
    std::fs::write(&wav, &bytes).unwrap();

    // Every frame of a test clip cut short: the eval-frame cache of the test split fails on it.
    let dir = fx.root.join("Image-01-FPS/1035_IOM_FEA_XX");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() * 2 / 3]).unwrap();
    }
    let err = load(&fx.root).unwrap_err().to_string();
    assert!(err.contains("1035_IOM_FEA_XX") && err.contains(".jpg") && err.contains("truncated"), "{err}");
}

/// VGGSound: a CSV with a header and a quoted label holding a comma, 3 classes with 4 train
/// clips each (5 frames), 2 test clips per class, plus clips the reference skips.
fn vgg_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vggsound");
    let labels = ["dog barking", "vehicle horn, car horn, honking", "rain"];
    let mut csv = String::from("youtube_id,time,label,split\r\n");
    let mut add = |yid: &str, time: u32, label: &str, split: &str, frames: usize, wav: bool| {
        let id = format!("{yid}_{time:06}");
        if frames > 0 {
            write_frames(&root.join(format!("video/frames/{split}/Image-01-FPS/{id}")), frames, frame_colour);
        }
        if wav {
            write_wav(&root.join(format!("audio/{split}/{id}.wav")), 16_000, &sine(500.0, 16_000, 0.7, 0.2));
        }
        let quoted = if label.contains(',') { format!("\"{label}\"") } else { label.to_string() };
        csv.push_str(&format!("{yid},{time},{quoted},{split}\r\n"));
    };
    for k in 0..4 {
        for (c, label) in labels.iter().enumerate() {
            add(&format!("tr{c}x{k}-_A"), 30 * k as u32, label, "train", 5, true);
        }
    }
    for k in 0..2 {
        for (c, label) in labels.iter().enumerate() {
            add(&format!("te{c}x{k}"), 7, label, "test", 4 + k, true);
        }
    }
    add("short", 0, labels[0], "train", 3, true);
    add("nowav", 0, labels[1], "train", 5, false);
    add("noframes", 0, labels[2], "test", 0, true);
    std::fs::write(root.join("vggsound.csv"), csv).unwrap();
    (dir, root)
}

#[test]
fn vggsound_loads_like_the_reference() {
    let (_dir, root) = vgg_fixture();
    let opts = format!("root = \"{}\"\nimage-size = 16\nval-fraction = 0.25\nclasses = 3", root.display());
    let ds = vggsound::load(&ctx(&opts, None, None)).unwrap();
    let spec = Dataset::spec(&ds);
    assert_eq!(spec.task, Task::Classification { classes: 3 });
    assert_eq!(spec.modalities[0].shape, vec![1, 129, 626]);
    assert_eq!(spec.modalities[1].shape, vec![3, 3, 16, 16]);
    // The short, wav-less and frame-less clips are skipped like the reference skips them.
    assert_eq!((ds.len(Split::Train), ds.len(Split::Val), ds.len(Split::Test)), (9, 3, 6));
    let kept = ds.clips(Split::Train).iter().chain(ds.clips(Split::Val));
    assert!(kept.map(|c| c.id.as_str()).all(|id| id.starts_with("tr") && id.contains("-_A_0000")));
    assert_eq!(ds.clips(Split::Test)[0].id, "te0x0_000007");
    let t: Vec<i64> = Vec::try_from(ds.targets(Split::Test).unwrap()).unwrap();
    assert_eq!(t, vec![0, 1, 2, 0, 1, 2], "classes in first-seen train order");
    let b = ds.batch(Split::Val, &[0, 1, 2], None).unwrap();
    assert_eq!(b.inputs[0].size(), vec![3, 1, 129, 626]);
    assert_eq!(b.inputs[1].size(), vec![3, 3, 3, 16, 16]);
    let b = ds.batch(Split::Train, &[8], Some(1)).unwrap();
    assert_eq!(b.inputs[1].size(), vec![1, 3, 3, 16, 16]);
    // The frames are numpy's pick of 3 of 5 (seed 999: [3, 2, 1]) in that order.
    let names: Vec<String> =
        ds.clips(Split::Train)[0].frames.iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
    assert_eq!(names, vec!["00003.jpg", "00002.jpg", "00001.jpg"]);

    let err = vggsound::load(&ctx(&opts.replace("classes = 3", "classes = 309"), None, None)).unwrap_err().to_string();
    assert!(err.contains("309") && err.contains("3 classes"), "{err}");
}

#[test]
fn vggsound_missing_layout_is_an_error() {
    let (_dir, root) = vgg_fixture();
    let opts = format!("root = \"{}\"", root.display());
    std::fs::remove_dir_all(root.join("audio/test")).unwrap();
    let err = vggsound::load(&ctx(&opts, None, None)).unwrap_err().to_string();
    assert!(err.contains("audio/test") && err.contains("VGGSound project page"), "{err}");
    std::fs::remove_file(root.join("vggsound.csv")).unwrap();
    let err = vggsound::load(&ctx(&opts, None, None)).unwrap_err().to_string();
    assert!(err.contains("vggsound.csv") && err.contains("file not found"), "{err}");
}
