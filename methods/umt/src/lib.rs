//! # UMT: Uni-Modal Teacher
//!
//! - Paper: Du et al., "On Uni-Modal Feature Learning in Supervised Multi-Modal Learning",
//!   ICML 2023; the G2D paper's KD baseline (Table 1, Table 4).
//! - Official code: none found (specs/methods.md section 11); BalanceBenchmark `UMT_trainer.py`.
//! - Spec: specs/methods.md section 11.
//!
//! The student is trained with L = CE(z, y) + lambda · Σ_m MSE(f_m, f_t^m): G2D's loss without
//! the logit term and without SMP. Teachers come from the shared teacher store.
//!
//! ## Deviations
//! - lambda defaults to 1 (the weight G2D's Table 4 "UMT loss" uses); BalanceBenchmark uses 10
//!   with distillation only in epochs 0..80. Both are options (`lambda`, `until`).
//! - Selection on validation.

use harness_core::data::{Batch, Split};
use harness_core::distill;
use harness_core::method::{Method, Requirements, TrainContext};
use harness_core::model::ModelOutput;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Options of `umt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct UmtConfig {
    /// Weight of the feature distillation term.
    pub lambda: f64,
    /// Distil only before this fraction of the epochs (1.0 = always).
    pub until: f64,
}

impl Default for UmtConfig {
    fn default() -> Self {
        UmtConfig { lambda: 1.0, until: 1.0 }
    }
}

/// The UMT method.
#[derive(Debug)]
pub struct Umt {
    config: UmtConfig,
}

impl Umt {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        Ok(Umt { config: parse_options("options of method `umt`", options)? })
    }
}

impl Method for Umt {
    fn requirements(&self) -> Requirements {
        Requirements { teachers: true, ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn loss(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, out: &ModelOutput) -> Result<Tensor> {
        let teachers = ctx.teachers.ok_or_else(|| Error::Incompatible("umt needs unimodal teachers".into()))?;
        let mut loss = ctx.task_loss(&out.logits, &batch.targets);
        let active = (ctx.epoch as f64) < self.config.until * ctx.config.epochs as f64;
        for (pos, &m) in ctx.model.modalities.iter().enumerate() {
            let t = teachers.outputs(m, Split::Train, batch, ctx.dataset);
            let name = &ctx.model.names[pos];
            ctx.trace.record(
                "feature-cosine",
                name,
                tch::no_grad(|| distill::feature_cosine(&out.features[pos], &t.features)),
            );
            if active {
                loss += distill::feature_mse(&out.features[pos], &t.features) * self.config.lambda;
            }
        }
        Ok(loss)
    }
}

harness_core::register_method!("umt", "UMT: CE + feature distillation from unimodal teachers (no SMP)", Umt);
