//! The packed affect format shared by UR-Funny and IEMOCAP: per split, three feature sequences
//! `(N, L, D)` (audio, vision, text) and labels, as MultiBench's `humor.pkl` and MulT's
//! `iemocap_data.pkl` hold them, after `scripts/pickle_to_npz.py` turned the pickle into an
//! `.npz` with arrays `{train,valid,test}_{audio,vision,text,labels}`.

use std::path::Path;

use harness_core::data::{EncoderChoice, ModalityKind, ModalitySpec};
use harness_core::{Error, Result};
use rayon::prelude::*;

use crate::npy::{NpyArray, Scale};
use crate::npz::Npz;

/// The sequence modalities, in batch order: (modality name, kind, array key in the archive).
pub const MODALITIES: [(&str, ModalityKind, &str); 3] = [
    ("audio", ModalityKind::Audio, "audio"),
    ("visual", ModalityKind::Visual, "vision"),
    ("text", ModalityKind::Text, "text"),
];

/// The archive's split prefixes for the harness's train, val and test splits.
pub const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// One split as read from the archive: each modality as `f32` `(N, L, D)`, plus the raw labels.
pub struct AffectSplit {
    /// Samples.
    pub n: usize,
    /// Per modality (audio, vision, text): values and `[L, D]`.
    pub features: Vec<(Vec<f32>, [usize; 2])>,
    /// The labels array as stored.
    pub labels: NpyArray,
}

/// Reads split `prefix` (`train`, `valid` or `test`) of `npz`, checking that the three feature
/// arrays are `(N, L, D)` floats with one N, and the labels have N rows.
pub fn read_split(npz: &mut Npz, prefix: &str) -> Result<AffectSplit> {
    let path = npz.path().to_path_buf();
    let mut features = Vec::new();
    let mut n = None;
    for (_, _, key) in MODALITIES {
        let name = format!("{prefix}_{key}");
        let array = npz.read(&name)?;
        let member = member_path(&path, &name);
        if array.shape.len() != 3 || !array.dtype.is_float() {
            return Err(Error::data(
                member,
                format!(
                    "array of shape {:?} and dtype {}, expected (N, L, D) floats",
                    array.shape,
                    array.dtype.descr()
                ),
            ));
        }
        check_rows(&member, array.shape[0], &mut n)?;
        features.push((array.to_f32(Scale::Identity), [array.shape[1], array.shape[2]]));
    }
    let labels_name = format!("{prefix}_labels");
    let labels = npz.read(&labels_name)?;
    let n = n.unwrap_or(0);
    if labels.shape.first() != Some(&n) {
        return Err(Error::data(
            member_path(&path, &labels_name),
            format!("labels of shape {:?}, expected {n} rows like the features", labels.shape),
        ));
    }
    Ok(AffectSplit { n, features, labels })
}

/// `archive.npz:member.npy`, for errors.
pub fn member_path(archive: &Path, name: &str) -> std::path::PathBuf {
    format!("{}:{name}.npy", archive.display()).into()
}

/// Checks that `rows` matches the first array's row count.
fn check_rows(member: &Path, rows: usize, n: &mut Option<usize>) -> Result<()> {
    match *n {
        None => {
            *n = Some(rows);
            Ok(())
        }
        Some(expected) if expected == rows => Ok(()),
        Some(expected) => Err(Error::data(member, format!("{rows} samples, but the other modalities have {expected}"))),
    }
}

/// The modality specs for `[L, D]` per modality, with the `transformer` default encoder.
pub fn modality_specs(dims: &[[usize; 2]]) -> Vec<ModalitySpec> {
    MODALITIES
        .iter()
        .zip(dims)
        .map(|((name, kind, _), [l, d])| ModalitySpec {
            name: name.to_string(),
            kind: *kind,
            shape: vec![*l as i64, *d as i64],
            default_encoder: EncoderChoice::named("transformer"),
        })
        .collect()
}

/// Checks that every split has the `[L, D]` of the training split for each modality (batches
/// are fixed-shape tensors).
pub fn check_same_dims(archive: &Path, splits: &[AffectSplit]) -> Result<Vec<[usize; 2]>> {
    let dims: Vec<[usize; 2]> = splits[0].features.iter().map(|(_, d)| *d).collect();
    for (split, prefix) in splits.iter().zip(SPLITS) {
        for ((_, d), (want, (_, _, key))) in split.features.iter().zip(dims.iter().zip(MODALITIES)) {
            if d != want {
                return Err(Error::data(
                    member_path(archive, &format!("{prefix}_{key}")),
                    format!("(L, D) = {d:?}, but train_{key} has {want:?}; all splits must share them"),
                ));
            }
        }
    }
    Ok(dims)
}

/// Sets every `-inf` to 0, as MulT and MultiBench do for audio (`audio[audio == -np.inf] = 0`).
pub fn zero_neg_inf(values: &mut [f32]) {
    values.par_iter_mut().for_each(|v| {
        if *v == f32::NEG_INFINITY {
            *v = 0.0;
        }
    });
}

/// Keeps the samples `keep` (in order) of a `(N, L, D)` buffer.
pub fn select_rows(values: &[f32], row_len: usize, keep: &[usize]) -> Vec<f32> {
    let mut out = vec![0f32; keep.len() * row_len];
    if row_len > 0 {
        out.par_chunks_mut(row_len)
            .zip(keep)
            .for_each(|(o, &i)| o.copy_from_slice(&values[i * row_len..(i + 1) * row_len]));
    }
    out
}
