//! Unimodal teachers as students see them: per-modality models with their outputs on every
//! split precomputed in evaluation mode (paper appendix A.6.3).
//!
//! Student training looks up the cached features and logits of a batch by sample index instead
//! of running the teachers. Augmentation would make a cached output stale, so for a modality
//! whose training batches are augmented ([`Dataset::augments`]) the teacher runs online on the
//! augmented batch instead (under `no_grad`, in eval mode). The runner's teacher store trains,
//! saves and reloads the teachers; this module only serves their outputs.

use tch::{Device, Tensor, nn};

use crate::data::{Batch, Dataset, Loader, Split};
use crate::error::Result;
use crate::model::MultimodalModel;

/// A teacher's outputs for a batch.
#[derive(Debug)]
pub struct TeacherOutput {
    /// Features `[B, D]`.
    pub features: Tensor,
    /// Logits `[B, outputs]`.
    pub logits: Tensor,
}

/// One trained unimodal teacher.
#[derive(Debug)]
pub struct Teacher {
    /// Dataset modality index it was trained on.
    pub modality: usize,
    /// The teacher model (one modality, one head).
    pub model: MultimodalModel,
    /// Its var store.
    pub vs: nn::VarStore,
    /// Cached `(features, logits)` per split, indexed by sample, on the teacher's device.
    pub cache: Vec<(Tensor, Tensor)>,
}

impl Teacher {
    /// Wraps a trained model and precomputes its outputs on every split.
    pub fn new(
        modality: usize,
        model: MultimodalModel,
        vs: nn::VarStore,
        dataset: &dyn Dataset,
        batch_size: usize,
    ) -> Result<Self> {
        let device = vs.device();
        let mut cache = Vec::new();
        for split in Split::ALL {
            cache.push(compute_outputs(&model, dataset, split, batch_size, device)?);
        }
        Ok(Teacher { modality, model, vs, cache })
    }

    /// Builds a teacher from already computed caches (when loading from the store).
    pub fn from_cache(modality: usize, model: MultimodalModel, vs: nn::VarStore, cache: Vec<(Tensor, Tensor)>) -> Self {
        Teacher { modality, model, vs, cache }
    }

    fn online(&self, batch: &Batch) -> TeacherOutput {
        tch::no_grad(|| {
            let out = self.model.forward_t(batch, false);
            TeacherOutput { features: out.features[0].shallow_clone(), logits: out.logits }
        })
    }
}

/// Runs `model` in eval mode over a whole split and returns `(features, logits)` in index order.
pub fn compute_outputs(
    model: &MultimodalModel,
    dataset: &dyn Dataset,
    split: Split,
    batch_size: usize,
    device: Device,
) -> Result<(Tensor, Tensor)> {
    let loader = Loader::new(dataset.len(split), split, batch_size, None);
    let mut feats = Vec::new();
    let mut logits = Vec::new();
    for i in 0..loader.num_batches() {
        let batch = loader.load(dataset, i, device)?;
        tch::no_grad(|| {
            let out = model.forward_t(&batch, false);
            feats.push(out.features[0].detach());
            logits.push(out.logits.detach());
        });
    }
    if feats.is_empty() {
        let d = model.encoders[0].out_dim();
        let c = model.task.outputs();
        return Ok((
            Tensor::zeros([0, d], (tch::Kind::Float, device)),
            Tensor::zeros([0, c], (tch::Kind::Float, device)),
        ));
    }
    Ok((Tensor::cat(&feats, 0), Tensor::cat(&logits, 0)))
}

/// One teacher per dataset modality, in modality order.
#[derive(Debug)]
pub struct TeacherSet {
    /// The teachers.
    pub teachers: Vec<Teacher>,
}

impl TeacherSet {
    /// The outputs of the teacher of dataset modality `m` for `batch` of `split`: cached by
    /// sample index, or computed online where the dataset augments that modality in training.
    pub fn outputs(&self, m: usize, split: Split, batch: &Batch, dataset: &dyn Dataset) -> TeacherOutput {
        let t = &self.teachers[m];
        if split == Split::Train && dataset.augments(m) {
            return t.online(batch);
        }
        let (f, l) = &t.cache[split as usize];
        let idx = batch.index.to_device(f.device());
        TeacherOutput { features: f.index_select(0, &idx), logits: l.index_select(0, &idx) }
    }

    /// Number of teachers.
    pub fn len(&self) -> usize {
        self.teachers.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.teachers.is_empty()
    }
}
