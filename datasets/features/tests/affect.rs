//! UR-Funny and IEMOCAP from `.npz` fixtures in the exact converted format (a real zip of
//! `.npy` members, deflate-compressed like `np.savez_compressed`).

mod common;

use std::path::Path;

use common::{all, ctx, ints, sizes, values};
use datasets_features::npy::NpyArray;
use datasets_features::npz::write_npz;
use datasets_features::{iemocap, urfunny};
use harness_core::data::{Dataset, ModalityKind, Split};

const L: usize = 4;
const DA: usize = 3;
const DV: usize = 2;
const DT: usize = 5;

/// Feature arrays (N, L, D) for `n` samples where sample `i`'s text starts at row `lead[i]`
/// (rows before are zero padding) and a sample with `lead >= L` has no text at all.
fn sequences(n: usize, lead: &[usize]) -> [NpyArray; 3] {
    let mut audio = vec![0f32; n * L * DA];
    let mut vision = vec![0f32; n * L * DV];
    let mut text = vec![0f32; n * L * DT];
    for i in 0..n {
        for t in lead[i]..L {
            for d in 0..DA {
                audio[(i * L + t) * DA + d] = (100 * i + 10 * t + d) as f32;
            }
            for d in 0..DV {
                vision[(i * L + t) * DV + d] = -((100 * i + 10 * t + d) as f32);
            }
            for d in 0..DT {
                text[(i * L + t) * DT + d] = 1.0 + (i + t + d) as f32;
            }
        }
    }
    // An audio -inf inside the first real row of sample 0 (COVAREP writes -inf for log(0)).
    if lead[0] < L {
        audio[lead[0] * DA + 1] = f32::NEG_INFINITY;
    }
    [
        NpyArray::from_f32(vec![n, L, DA], &audio),
        NpyArray::from_f32(vec![n, L, DV], &vision),
        NpyArray::from_f32(vec![n, L, DT], &text),
    ]
}

fn write_archive(path: &Path, labels: [NpyArray; 3], leads: [&[usize]; 3]) {
    let mut owned: Vec<(String, NpyArray)> = Vec::new();
    for ((split, labels), lead) in ["train", "valid", "test"].into_iter().zip(labels).zip(leads) {
        let [a, v, t] = sequences(lead.len(), lead);
        owned.push((format!("{split}_audio"), a));
        owned.push((format!("{split}_vision"), v));
        owned.push((format!("{split}_text"), t));
        owned.push((format!("{split}_labels"), labels));
    }
    let refs: Vec<(&str, &NpyArray)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
    write_npz(path, &refs, true).unwrap();
}

fn write_humor(root: &Path) {
    // Train: 5 samples, sample 2 has no text (dropped). Labels as floats, some below 1.
    let train_labels = NpyArray::from_f64(vec![5, 1], &[0.0, 1.0, 1.0, 0.5, 2.0]);
    let valid_labels = NpyArray::from_f64(vec![2], &[1.0, 0.0]);
    let test_labels = NpyArray::from_f64(vec![3], &[0.0, 1.0, 1.0]);
    write_archive(
        &root.join("humor.npz"),
        [train_labels, valid_labels, test_labels],
        [&[1, 0, L, 2, 0], &[0, 3], &[0, 1, 2]],
    );
}

#[test]
fn ur_funny_drops_empty_text_zeroes_neg_inf_aligns_and_binarises() {
    let dir = tempfile::tempdir().unwrap();
    write_humor(dir.path());
    let ds = urfunny::load(&ctx(dir.path(), "")).unwrap();
    assert_eq!(sizes(&ds), (4, 2, 3));
    assert_eq!(ds.spec().modality_names(), vec!["audio", "visual", "text"]);
    assert_eq!(ds.spec().modalities[1].kind, ModalityKind::Visual);
    assert_eq!(ds.spec().modalities[2].shape, vec![L as i64, DT as i64]);
    assert_eq!(ds.spec().modalities[0].default_encoder.name, "transformer");
    let train = all(&ds, Split::Train);
    // Kept file samples 0, 1, 3, 4 with labels 0.0, 1.0, 0.5, 2.0.
    assert_eq!(ints(&train.targets), vec![0, 1, 0, 1]);
    assert_eq!(train.inputs[0].size(), vec![4, L as i64, DA as i64]);
    let audio = values(&train.inputs[0]);
    let vision = values(&train.inputs[1]);
    let text = values(&train.inputs[2]);
    // Sample 0 had one padding row: its first row is now file row 1, and -inf became 0.
    assert_eq!(&audio[..DA], &[10.0, 0.0, 12.0]);
    assert!(audio.iter().all(|v| v.is_finite()));
    // Its last row is the zero padding moved to the end.
    assert!(audio[(L - 1) * DA..L * DA].iter().all(|&v| v == 0.0));
    // Sample at position 2 is file sample 3 (lead 2): rows 2, 3 then zeros, in every modality.
    let s = 2 * L;
    assert_eq!(vision[s * DV], -320.0);
    assert_eq!(text[s * DT], 1.0 + 3.0 + 2.0);
    assert_eq!(audio[(s + 1) * DA + 2], 332.0);
    assert!(text[(s + 2) * DT..(s + 4) * DT].iter().all(|&v| v == 0.0));
    // Sample at position 1 (file sample 1, no padding) is untouched.
    assert_eq!(audio[L * DA..L * DA + 3], [100.0, 101.0, 102.0]);

    assert_eq!(ints(&all(&ds, Split::Val).targets), vec![1, 0]);
    assert_eq!(ints(&all(&ds, Split::Test).targets), vec![0, 1, 1]);
}

#[test]
fn ur_funny_without_alignment_keeps_the_file_padding_and_max_samples_applies_after_dropping() {
    let dir = tempfile::tempdir().unwrap();
    write_humor(dir.path());
    let ds = urfunny::load(&ctx(dir.path(), "aligned = false\nmax-samples-per-split = 3")).unwrap();
    assert_eq!(sizes(&ds), (3, 2, 3));
    let train = all(&ds, Split::Train);
    assert_eq!(ints(&train.targets), vec![0, 1, 0]);
    let audio = values(&train.inputs[0]);
    assert_eq!(&audio[..DA], &[0.0, 0.0, 0.0]);
    assert_eq!(&audio[DA..2 * DA], &[10.0, 0.0, 12.0]);
}

#[test]
fn corrupt_or_truncated_npz_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_humor(dir.path());
    let path = dir.path().join("humor.npz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    let err = urfunny::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("humor.npz"), "{err}");

    // An archive without the validation arrays names the archive and what it holds.
    let a = NpyArray::from_f32(vec![1, 1, 1], &[1.0]);
    write_npz(&path, &[("train_audio", &a)], false).unwrap();
    let err = urfunny::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("humor.npz") && err.contains("train_vision") && err.contains("train_audio"), "{err}");

    std::fs::remove_file(&path).unwrap();
    let err = urfunny::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("humor.npz") && err.contains("pickle_to_npz.py"), "{err}");
}

/// MulT labels (N, 4, 2) with emotion `e` positive.
fn emotions(classes: &[usize]) -> NpyArray {
    let values: Vec<f32> =
        classes.iter().flat_map(|&e| (0..4).flat_map(move |k| if k == e { [0.0, 1.0] } else { [1.0, 0.0] })).collect();
    NpyArray::from_f32(vec![classes.len(), 4, 2], &values)
}

#[test]
fn iemocap_takes_the_positive_emotion_and_zeroes_neg_inf() {
    let dir = tempfile::tempdir().unwrap();
    write_archive(
        &dir.path().join("iemocap.npz"),
        [emotions(&[0, 1, 2, 3, 1]), emotions(&[3, 2]), emotions(&[1])],
        [&[0, 1, L, 0, 0], &[0, 0], &[2]],
    );
    let ds = iemocap::load(&ctx(dir.path(), "")).unwrap();
    // IEMOCAP keeps every sample (no drop_entry) and its padding (no alignment).
    assert_eq!(sizes(&ds), (5, 2, 1));
    assert_eq!(ds.spec().task, harness_core::data::Task::Classification { classes: 4 });
    let train = all(&ds, Split::Train);
    assert_eq!(ints(&train.targets), vec![0, 1, 2, 3, 1]);
    let audio = values(&train.inputs[0]);
    assert_eq!(&audio[..DA], &[0.0, 0.0, 2.0]);
    assert!(audio.iter().all(|v| v.is_finite()));
    assert_eq!(values(&train.inputs[2])[L * DT..L * DT + DT], [0.0; DT]);
    assert_eq!(ints(&all(&ds, Split::Val).targets), vec![3, 2]);

    let small = iemocap::load(&ctx(dir.path(), "max-samples-per-split = 2")).unwrap();
    assert_eq!(sizes(&small), (2, 2, 1));
}

#[test]
fn iemocap_labels_of_the_wrong_shape_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_archive(
        &dir.path().join("iemocap.npz"),
        [NpyArray::from_f32(vec![2, 4], &[0.0; 8]), emotions(&[3]), emotions(&[1])],
        [&[0, 0], &[0], &[0]],
    );
    let err = iemocap::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("iemocap.npz:train_labels.npy") && err.contains("(N, 4, 2)"), "{err}");
}
