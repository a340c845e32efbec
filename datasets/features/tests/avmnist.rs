//! AV-MNIST from fixtures in the exact reference format: `.npy` files written in NumPy's format,
//! float64 and float32 images, uint8 and float32 spectrograms.

mod common;

use std::path::Path;

use common::{all, ctx, ints, sizes, values};
use datasets_features::avmnist;
use datasets_features::npy::NpyArray;
use harness_core::data::{Dataset, Split};

const TRAIN: usize = 12;
const TEST: usize = 4;

fn image_value(i: usize, k: usize) -> f64 {
    ((i * 7 + k * 3) % 256) as f64 + 0.5 * ((k % 2) as f64)
}

fn audio_value(i: usize, k: usize) -> u8 {
    ((i * 11 + k) % 256) as u8
}

fn label(i: usize) -> i64 {
    (i % 10) as i64
}

/// Writes a fixture: `float64_images` picks (N, 784) float64 images and uint8 audio, otherwise
/// (N, 28, 28) float32 images, float32 audio and int32 labels.
fn write_fixture(root: &Path, float64_images: bool) {
    std::fs::create_dir_all(root.join("image")).unwrap();
    std::fs::create_dir_all(root.join("audio")).unwrap();
    for (split, n) in [("train", TRAIN), ("test", TEST)] {
        let img: Vec<f64> = (0..n).flat_map(|i| (0..784).map(move |k| image_value(i, k))).collect();
        let aud: Vec<u8> = (0..n).flat_map(|i| (0..112 * 112).map(move |k| audio_value(i, k))).collect();
        let labels: Vec<i64> = (0..n).map(label).collect();
        let (image, audio, labels) = if float64_images {
            (
                NpyArray::from_f64(vec![n, 784], &img),
                NpyArray::from_u8(vec![n, 112, 112], &aud),
                NpyArray::from_i64(vec![n], &labels),
            )
        } else {
            let img32: Vec<f32> = img.iter().map(|&v| v as f32).collect();
            let aud32: Vec<f32> = aud.iter().map(|&v| v as f32).collect();
            let l32: Vec<i32> = labels.iter().map(|&v| v as i32).collect();
            (
                NpyArray::from_f32(vec![n, 28, 28], &img32),
                NpyArray::from_f32(vec![n, 112, 112], &aud32),
                NpyArray::from_i32(vec![n], &l32),
            )
        };
        image.write(&root.join(format!("image/{split}_data.npy"))).unwrap();
        audio.write(&root.join(format!("audio/{split}_data.npy"))).unwrap();
        labels.write(&root.join(format!("{split}_labels.npy"))).unwrap();
    }
}

#[test]
fn float64_images_and_uint8_spectrograms_are_scaled_by_1_over_255_exactly() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    let ds = avmnist::load(&ctx(dir.path(), "")).unwrap();
    // Default: the last 1/12 of train is validation (MultiBench's last 5,000 of 60,000).
    assert_eq!(sizes(&ds), (11, 1, 4));
    assert_eq!(ds.spec().modality_names(), vec!["audio", "image"]);
    assert_eq!(ds.spec().modalities[0].shape, vec![1, 112, 112]);
    assert_eq!(ds.spec().modalities[1].shape, vec![1, 28, 28]);
    assert_eq!(ds.spec().modalities[0].default_encoder.name, "resnet18-audio");
    assert_eq!(ds.spec().modalities[1].default_encoder.name, "resnet18-image");

    let train = all(&ds, Split::Train);
    assert_eq!(train.inputs[0].size(), vec![11, 1, 112, 112]);
    assert_eq!(train.inputs[1].size(), vec![11, 1, 28, 28]);
    let img = values(&train.inputs[1]);
    let aud = values(&train.inputs[0]);
    for (i, k) in [(0, 0), (3, 1), (10, 783)] {
        assert_eq!(img[i * 784 + k], (image_value(i, k) / 255.0) as f32);
    }
    for (i, k) in [(0, 0), (5, 777), (10, 12543)] {
        assert_eq!(aud[i * 12544 + k], (audio_value(i, k) as f64 / 255.0) as f32);
    }
    assert_eq!(ints(&train.targets), (0..11).map(label).collect::<Vec<_>>());

    // The validation sample is the last training row.
    let val = all(&ds, Split::Val);
    assert_eq!(values(&val.inputs[1])[5], (image_value(11, 5) / 255.0) as f32);
    assert_eq!(ints(&val.targets), vec![label(11)]);
    let test = all(&ds, Split::Test);
    assert_eq!(ints(&test.targets), (0..TEST).map(label).collect::<Vec<_>>());
    assert_eq!(values(&test.inputs[0])[1], (audio_value(0, 1) as f64 / 255.0) as f32);
}

#[test]
fn float32_images_shaped_28x28_and_float_spectrograms_load_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    let ds = avmnist::load(&ctx(dir.path(), "")).unwrap();
    let train = all(&ds, Split::Train);
    let img = values(&train.inputs[1]);
    // float32 input divides in f32, as NumPy does.
    assert_eq!(img[2 * 784 + 9], image_value(2, 9) as f32 / 255.0);
    assert_eq!(values(&train.inputs[0])[4 * 12544 + 3], audio_value(4, 3) as f32 / 255.0);
    assert_eq!(ints(&train.targets)[7], label(7));
}

#[test]
fn random_carve_and_max_samples_per_split() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    let a = avmnist::load(&ctx(dir.path(), "val-fraction = 0.25\nval-carve = \"random\"\nsplit-seed = 3")).unwrap();
    let b = avmnist::load(&ctx(dir.path(), "val-fraction = 0.25\nval-carve = \"random\"\nsplit-seed = 3")).unwrap();
    assert_eq!(sizes(&a), (9, 3, 4));
    assert_eq!(ints(&all(&a, Split::Val).targets), ints(&all(&b, Split::Val).targets));
    let small = avmnist::load(&ctx(dir.path(), "max-samples-per-split = 2")).unwrap();
    assert_eq!(sizes(&small), (2, 1, 2));
}

#[test]
fn truncated_npy_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    let path = dir.path().join("audio/train_data.npy");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("audio/train_data.npy") && err.contains("truncated"), "{err}");

    // A header cut short, and a file that is not .npy at all.
    std::fs::write(&path, &bytes[..30]).unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("audio/train_data.npy") && err.contains("truncated header"), "{err}");
    std::fs::write(&path, b"PK\x03\x04 definitely not numpy").unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("audio/train_data.npy") && err.contains("magic"), "{err}");
}

#[test]
fn missing_file_error_names_the_first_missing_file_layout_and_source() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    std::fs::remove_file(dir.path().join("audio/test_data.npy")).unwrap();
    std::fs::remove_file(dir.path().join("test_labels.npy")).unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("audio/test_data.npy"), "{err}");
    assert!(!err.contains("missing: test_labels"), "{err}");
    assert!(err.contains("image/train_data.npy") && err.contains("MultiBench"), "{err}");
}

#[test]
fn wrong_shapes_and_labels_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    NpyArray::from_i64(vec![TEST], &[0, 1, 10, 3]).write(&dir.path().join("test_labels.npy")).unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("test_labels.npy") && err.contains("label 10"), "{err}");

    write_fixture(dir.path(), true);
    NpyArray::from_f64(vec![TEST, 100], &[0.0; TEST * 100]).write(&dir.path().join("image/test_data.npy")).unwrap();
    let err = avmnist::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("image/test_data.npy") && err.contains("(N, 784)"), "{err}");
}

#[test]
fn unknown_option_is_an_error_listing_valid_keys() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    let err = avmnist::load(&ctx(dir.path(), "val-fractoin = 0.1")).unwrap_err().to_string();
    assert!(err.contains("val-fractoin") && err.contains("val-fraction"), "{err}");
}
