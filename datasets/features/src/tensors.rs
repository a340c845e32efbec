//! Turning decoded `f32` buffers into the tensors of an in-memory split.
//!
//! Decoding runs on rayon into plain `Vec`s; the tensors are made here, on the calling thread,
//! so no torch op ever runs inside a rayon task.

use harness_core::data::{InMemorySplit, ModalitySpec};
use tch::Tensor;

/// `[n, ...shape]` float tensor from `n * prod(shape)` values.
pub fn input_tensor(values: &[f32], n: usize, shape: &[i64]) -> Tensor {
    let mut full = vec![n as i64];
    full.extend_from_slice(shape);
    Tensor::from_slice(values).reshape(&full[..])
}

/// A classification split: one buffer per modality (in the spec's order) plus class indices.
pub fn class_split(inputs: &[Vec<f32>], modalities: &[ModalitySpec], labels: &[i64]) -> InMemorySplit {
    InMemorySplit {
        inputs: inputs.iter().zip(modalities).map(|(v, m)| input_tensor(v, labels.len(), &m.shape)).collect(),
        targets: Tensor::from_slice(labels),
        present: None,
    }
}

/// A regression split: one buffer per modality plus float targets.
pub fn regression_split(inputs: &[Vec<f32>], modalities: &[ModalitySpec], targets: &[f32]) -> InMemorySplit {
    InMemorySplit {
        inputs: inputs.iter().zip(modalities).map(|(v, m)| input_tensor(v, targets.len(), &m.shape)).collect(),
        targets: Tensor::from_slice(targets),
        present: None,
    }
}
