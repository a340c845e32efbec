//! # UME: Uni-Modal Ensemble
//!
//! - Paper: Du et al., "On Uni-Modal Feature Learning in Supervised Multi-Modal Learning",
//!   ICML 2023.
//! - Official code: none found (specs/methods.md section 11).
//! - Spec: specs/methods.md section 11.
//!
//! No multimodal training: the unimodal teachers (from the shared teacher store) are trained
//! independently and their predictions are ensembled. The fused prediction is the log of the
//! mean of the teachers' softmax probabilities (so argmax and the reported loss are those of the
//! averaged probabilities); each modality's head is its teacher.
//!
//! ## Deviations
//! - The ensemble weighting is unverified in the paper; we average probabilities
//!   (`combine = "probabilities"`, default) or logits (`combine = "logits"`).
//! - The run stops after one epoch, which performs no update (there is nothing to train).

use harness_core::data::{Batch, Task};
use harness_core::method::{EpochControl, EvalContext, Method, Prediction, Requirements, StepStats, TrainContext};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::trainer::EvalReport;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// How teacher outputs are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Combine {
    /// Mean of softmax probabilities.
    Probabilities,
    /// Mean of logits.
    Logits,
}

/// Options of `ume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct UmeConfig {
    /// How teacher predictions are combined.
    pub combine: Combine,
}

impl Default for UmeConfig {
    fn default() -> Self {
        UmeConfig { combine: Combine::Probabilities }
    }
}

/// The UME method.
#[derive(Debug)]
pub struct Ume {
    config: UmeConfig,
}

impl Ume {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        Ok(Ume { config: parse_options("options of method `ume`", options)? })
    }
}

/// Combines per-modality logits `[B, C]` into ensemble logits.
pub fn ensemble(task: Task, logits: &[Tensor], combine: Combine) -> Tensor {
    let stacked = Tensor::stack(logits, 0);
    match (task, combine) {
        (Task::Classification { .. }, Combine::Probabilities) => {
            stacked.softmax(-1, Kind::Float).mean_dim(0, false, Kind::Float).clamp_min(1e-12).log()
        }
        // Regression outputs are combined on the logit scale, where the sigmoid is applied.
        _ => stacked.mean_dim(0, false, Kind::Float),
    }
}

impl Method for Ume {
    fn requirements(&self) -> Requirements {
        Requirements { teachers: true, ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn train_step(&mut self, _ctx: &mut TrainContext<'_>, _batch: &Batch) -> Result<StepStats> {
        Ok(StepStats { loss: 0.0 })
    }

    fn on_epoch_end(&mut self, _ctx: &mut TrainContext<'_>, _val: &EvalReport) -> Result<EpochControl> {
        Ok(EpochControl::Stop)
    }

    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let teachers = ctx.teachers.ok_or_else(|| Error::Incompatible("ume needs unimodal teachers".into()))?;
        let logits: Vec<Tensor> = ctx
            .model
            .modalities
            .iter()
            .map(|&m| teachers.outputs(m, ctx.split, batch, ctx.dataset).logits.to_device(batch.targets.device()))
            .collect();
        let fused = ensemble(ctx.model.task, &logits, self.config.combine);
        Ok(Prediction { fused, heads: logits.into_iter().map(Some).collect() })
    }
}

harness_core::register_method!(
    "ume",
    "UME: ensemble of the unimodal teachers' predictions (no multimodal training)",
    Ume
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_ensemble_averages_softmax() {
        // softmax(ln 3, 0) = (.75, .25), softmax(0, 0) = (.5, .5) -> mean (.625, .375)
        let a = Tensor::from_slice(&[3f32.ln(), 0.0]).reshape([1, 2]);
        let b = Tensor::from_slice(&[0f32, 0.0]).reshape([1, 2]);
        let e = ensemble(Task::Classification { classes: 2 }, &[a, b], Combine::Probabilities).exp();
        let v: Vec<f32> = Vec::try_from(e.flatten(0, -1)).unwrap();
        assert!((v[0] - 0.625).abs() < 1e-6 && (v[1] - 0.375).abs() < 1e-6, "{v:?}");
    }
}
