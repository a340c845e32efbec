//! Training-time augmentation for the synthetic datasets: seeded Gaussian noise added to a
//! modality's training batches, the synthetic stand-in for the random crops of the reference
//! visual pipeline.
//!
//! Augmentation matters for the modality-imbalance mechanism: an augmented modality is harder to
//! fit on the training set, so its unimodal teacher is less confident on training batches (the
//! ranking signal of G2D's SMP) and it learns more slowly under joint training, while clean
//! evaluation inputs still show all of its information. It also exercises the harness's online
//! teacher path: the teacher of an augmented modality runs on the augmented batch
//! (`Dataset::augments`).

use harness_core::Result;
use harness_core::data::{Batch, Dataset, DatasetSpec, InMemoryDataset, Split};
use tch::Tensor;

use crate::sampling;

/// An in-memory synthetic dataset plus per-modality training noise.
#[derive(Debug)]
pub struct SyntheticDataset {
    inner: InMemoryDataset,
    noise: Vec<f32>,
}

impl SyntheticDataset {
    /// Wraps `inner`; `noise[m]` is the standard deviation added to modality m's training inputs.
    pub fn new(inner: InMemoryDataset, noise: Vec<f32>) -> Self {
        SyntheticDataset { inner, noise }
    }
}

impl Dataset for SyntheticDataset {
    fn spec(&self) -> &DatasetSpec {
        self.inner.spec()
    }

    fn len(&self, split: Split) -> usize {
        self.inner.len(split)
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        self.inner.targets(split)
    }

    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch> {
        let mut batch = self.inner.batch(split, indices, augment_seed)?;
        let (Some(seed), Split::Train) = (augment_seed, split) else { return Ok(batch) };
        for (m, &std) in self.noise.iter().enumerate() {
            if std <= 0.0 {
                continue;
            }
            let x = &batch.inputs[m];
            let per_sample: i64 = x.size()[1..].iter().product();
            let mut values = Vec::with_capacity(indices.len() * per_sample as usize);
            for &i in indices {
                // One stream per (modality, sample): the same batch seed gives the same noise.
                let mut r = sampling::rng(seed ^ ((m as u64 + 1) << 48), i as u64);
                values.extend((0..per_sample).map(|_| std * sampling::normal(&mut r)));
            }
            let noise = Tensor::from_slice(&values).reshape(x.size());
            batch.inputs[m] = x + noise;
        }
        Ok(batch)
    }

    fn augments(&self, modality: usize) -> bool {
        self.noise.get(modality).is_some_and(|&s| s > 0.0)
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        self.inner.target_range()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SyntheticAvConfig;
    use crate::av::ModalitySignal;

    #[test]
    fn noise_is_added_to_training_batches_only_and_is_seeded() {
        let cfg = SyntheticAvConfig {
            train: 8,
            val: 4,
            test: 4,
            visual: ModalitySignal { augment_noise: 1.0, ..SyntheticAvConfig::default().visual },
            ..Default::default()
        };
        let d = cfg.generate().unwrap();
        assert!(!d.augments(0) && d.augments(1));
        let clean = d.batch(Split::Train, &[1, 2], None).unwrap();
        let a = d.batch(Split::Train, &[1, 2], Some(5)).unwrap();
        let b = d.batch(Split::Train, &[1, 2], Some(5)).unwrap();
        let c = d.batch(Split::Train, &[1, 2], Some(6)).unwrap();
        assert!(a.inputs[0].equal(&clean.inputs[0]), "audio is not augmented");
        assert!(!a.inputs[1].equal(&clean.inputs[1]), "visual is augmented");
        assert!(a.inputs[1].equal(&b.inputs[1]), "same seed, same noise");
        assert!(!a.inputs[1].equal(&c.inputs[1]), "another seed, other noise");
        let v = d.batch(Split::Val, &[0], Some(5)).unwrap();
        assert!(v.inputs[1].equal(&d.batch(Split::Val, &[0], None).unwrap().inputs[1]), "evaluation is clean");
    }
}
