//! # G2D: Gradient-Guided Distillation
//!
//! - Paper: "G2D: Boosting Multimodal Learning with Gradient-Guided Distillation", ICCV 2025
//!   (shared/reference/g2d-paper.txt, section 3; ablations in section 4.3 and appendix A.7).
//! - Official code: rAIson-Lab/G2D, `student.py`, `utils/utils.py`, `config.py`.
//! - Spec: specs/methods.md section 1.
//!
//! Unimodal teachers (trained once by the runner's teacher store) guide a multimodal student:
//!
//!   L = CE(z, y) + alpha · Σ_m MSE(f_m, f_t^m) + beta · Σ_m T² · KL(softmax(l_t^m/T) ‖ softmax(z/T))
//!
//! where z are the *fused* student logits (both teachers are distilled into z). After backward,
//! Sequential Modality Prioritization ([`smp`]) ranks the teachers' confidences on the batch and,
//! in the exclusive windows, keeps only the least confident modality's encoder gradient.
//!
//! Ablation variants are options: `loss = "g2d" | "umt" | "joint"` with `smp = true | false`
//! (Table 4), `alpha`/`beta` (Table 12), `tau` (Table 7), `suppression = "complete" | "partial"`
//! (Table 6).
//!
//! ## Deviations from the official code
//! - Teacher outputs are precomputed once per split (paper appendix A.6.3) instead of reloading
//!   and running both teachers every epoch; for modalities with training augmentation the
//!   teacher runs online (see `harness_core::teacher`).
//! - Confidence c_m is the batch *mean* (paper Eq. 5) rather than the code's batch sum; the
//!   ranking is identical.
//! - An exact confidence tie is broken towards the lower modality index instead of raising.
//! - SMP generalises to M modalities with a fractional schedule (paper Eq. 6-8, Table 7).
//! - The gradient mask acts on the encoder's weight tensors of two or more dimensions
//!   (`GradScope::Kernels`): on ResNet-18 these are exactly the official code's 4-D conv kernels;
//!   on MLP encoders they are the weight matrices. `scope = "all"` masks every encoder parameter.
//! - Models are selected on validation, not on test.
//! - Regression: the CE term is MSE on sigmoid outputs, and the logit term is the MSE between
//!   student and teacher sigmoid predictions; confidence is 1 - |prediction - target|.

pub mod smp;

use harness_core::data::{Batch, DatasetSpec, Split};
use harness_core::distill;
use harness_core::method::{Method, Requirements, TrainContext};
use harness_core::model::{GradScope, ModelOutput, scale_grads};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

pub use smp::{Suppression, Window};

/// Which loss the student trains with (paper Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// CE + feature distillation + logit distillation (the G2D loss).
    G2d,
    /// CE + feature distillation (UMT's loss).
    Umt,
    /// CE only (joint training).
    Joint,
}

/// Options of `g2d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct G2dConfig {
    /// Loss terms.
    pub loss: LossKind,
    /// Weight of the feature distillation term (alpha; paper default 1).
    pub alpha: f64,
    /// Weight of the logit distillation term (beta; paper default 1).
    pub beta: f64,
    /// KL temperature T (paper default 1).
    pub temperature: f64,
    /// Sequential Modality Prioritization on or off.
    pub smp: bool,
    /// SMP schedule as fractions of the epochs, one per modality; default: half the run split
    /// equally into M-1 exclusive windows, then half joint ((0.5, 0.5) for M = 2 = the paper's
    /// (150, 150) of 300; (0.25, 0.25, 0.5) for M = 3 = (75, 75, 150)).
    pub tau: Option<Vec<f64>>,
    /// Complete (SMP) or partial (OGM-GE style) suppression.
    pub suppression: Suppression,
    /// alpha_s of partial suppression, 1 - tanh(alpha_s * rho).
    pub partial_alpha: f64,
    /// Which encoder parameters the coefficient scales.
    pub scope: GradScope,
}

impl Default for G2dConfig {
    fn default() -> Self {
        G2dConfig {
            loss: LossKind::G2d,
            alpha: 1.0,
            beta: 1.0,
            temperature: 1.0,
            smp: true,
            tau: None,
            suppression: Suppression::Complete,
            partial_alpha: 0.8,
            scope: GradScope::Kernels,
        }
    }
}

/// The G2D method.
#[derive(Debug)]
pub struct G2d {
    config: G2dConfig,
    /// The batch's teacher confidences, computed in `loss` and used by the SMP step.
    confidence: Vec<f64>,
}

impl G2d {
    /// Builds the method, checking the options.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: G2dConfig = parse_options("options of method `g2d`", options)?;
        Self::new(config)
    }

    /// Builds the method from a config.
    pub fn new(config: G2dConfig) -> Result<Self> {
        let ctx = "options of method `g2d`";
        if config.temperature <= 0.0 {
            return Err(Error::config(ctx, "temperature must be > 0"));
        }
        if let Some(tau) = &config.tau
            && (tau.iter().any(|t| *t < 0.0) || tau.iter().sum::<f64>() <= 0.0)
        {
            return Err(Error::config(ctx, "tau must be non-negative fractions with a positive sum"));
        }
        Ok(G2d { config, confidence: Vec::new() })
    }

    /// The schedule for M modalities.
    pub fn tau(&self, m: usize) -> Vec<f64> {
        self.config.tau.clone().unwrap_or_else(|| {
            if m <= 1 {
                vec![1.0]
            } else {
                let mut t = vec![0.5 / (m - 1) as f64; m - 1];
                t.push(0.5);
                t
            }
        })
    }
}

/// The G2D loss of Eq. 2-4 for given student outputs and teacher outputs.
pub fn g2d_loss(
    task: harness_core::data::Task,
    out: &ModelOutput,
    targets: &Tensor,
    teacher_features: &[Tensor],
    teacher_logits: &[Tensor],
    config: &G2dConfig,
) -> Tensor {
    let mut loss = harness_core::method::task_loss(task, &out.logits, targets);
    if config.loss != LossKind::Joint && config.alpha != 0.0 {
        for (f, ft) in out.features.iter().zip(teacher_features) {
            loss += distill::feature_mse(f, ft) * config.alpha;
        }
    }
    if config.loss == LossKind::G2d && config.beta != 0.0 {
        for lt in teacher_logits {
            loss += distill::logit_kl(task, &out.logits, lt, config.temperature) * config.beta;
        }
    }
    loss
}

impl Method for G2d {
    fn requirements(&self) -> Requirements {
        Requirements { teachers: true, ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn modalities(&self, spec: &DatasetSpec) -> Result<Vec<usize>> {
        if let Some(tau) = &self.config.tau
            && tau.len() != spec.modalities.len()
        {
            {
                return Err(Error::config(
                    "options of method `g2d`",
                    format!(
                        "tau has {} entries, dataset `{}` has {} modalities (one fraction per modality)",
                        tau.len(),
                        spec.name,
                        spec.modalities.len()
                    ),
                ));
            }
        }
        Ok((0..spec.modalities.len()).collect())
    }

    fn loss(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, out: &ModelOutput) -> Result<Tensor> {
        let teachers = ctx.teachers.ok_or_else(|| Error::Incompatible("g2d needs unimodal teachers".into()))?;
        let task = ctx.model.task;
        let mut tf = Vec::new();
        let mut tl = Vec::new();
        let mut conf = Vec::new();
        for &m in &ctx.model.modalities {
            let t = teachers.outputs(m, Split::Train, batch, ctx.dataset);
            conf.push(distill::confidence_tensor(task, &t.logits, &batch.targets));
            tf.push(t.features);
            tl.push(t.logits);
        }
        // One read-back per step for the SMP ranking; every trace stays on the device.
        self.confidence = Vec::<f64>::try_from(Tensor::stack(&conf, 0).to_kind(tch::Kind::Double))?;
        tch::no_grad(|| {
            for (pos, name) in ctx.model.names.iter().enumerate() {
                ctx.trace.record("teacher-confidence", name, self.confidence[pos]);
                ctx.trace.record_tensor(
                    "feature-cosine",
                    name,
                    &distill::feature_cosine_tensor(&out.features[pos], &tf[pos]),
                );
                if let Some(uni) = &out.unimodal {
                    let s = distill::confidence_tensor(task, &uni[pos], &batch.targets);
                    ctx.trace.record_tensor("confidence-ratio", name, &(&s / self.confidence[pos].max(1e-12)));
                    ctx.trace.record_tensor("student-confidence", name, &s);
                }
            }
        });
        Ok(g2d_loss(task, out, &batch.targets, &tf, &tl, &self.config))
    }

    fn modulate_gradients(&mut self, ctx: &mut TrainContext<'_>, _batch: &Batch, _out: &ModelOutput) -> Result<()> {
        let m = ctx.model.num_modalities();
        let window =
            if self.config.smp { smp::window(&self.tau(m), ctx.epoch, ctx.config.epochs) } else { Window::Joint };
        let k = smp::coefficients(&self.confidence, window, self.config.suppression, self.config.partial_alpha);
        for (pos, name) in ctx.model.names.iter().enumerate() {
            ctx.trace.record("smp-coefficient", name, k[pos]);
            ctx.trace.record("smp-priority", name, if k[pos] == 1.0 { 1.0 } else { 0.0 });
            if k[pos] != 1.0 {
                scale_grads(&ctx.params.encoder(name, self.config.scope), k[pos]);
            }
        }
        Ok(())
    }
}

harness_core::register_method!(
    "g2d",
    "G2D: CE + feature + logit distillation from unimodal teachers, with sequential modality prioritization",
    G2d
);

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::data::Task;

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn g2d_loss_is_ce_plus_feature_and_logit_terms() {
        // One sample, 2 classes, label 0. Student fused logits (0, 0): CE = ln 2.
        // Features: student (1, 0) vs teacher (0, 0) -> MSE 0.5 per modality.
        // Teacher logits (ln 3, 0): KL(.75,.25 || .5,.5) = .75 ln 1.5 + .25 ln .5.
        let out = ModelOutput {
            features: vec![t(&[1.0, 0.0], &[1, 2]), t(&[1.0, 0.0], &[1, 2])],
            logits: t(&[0.0, 0.0], &[1, 2]),
            unimodal: None,
        };
        let y = Tensor::from_slice(&[0i64]);
        let tf = vec![t(&[0.0, 0.0], &[1, 2]), t(&[0.0, 0.0], &[1, 2])];
        let tl = vec![t(&[3f32.ln(), 0.0], &[1, 2]), t(&[0.0, 0.0], &[1, 2])];
        let task = Task::Classification { classes: 2 };
        let ce = 2f64.ln();
        let kl = 0.75 * 1.5f64.ln() + 0.25 * 0.5f64.ln();
        let cfg = G2dConfig::default();
        let full = g2d_loss(task, &out, &y, &tf, &tl, &cfg).double_value(&[]);
        assert!((full - (ce + 2.0 * 0.5 + kl)).abs() < 1e-6, "{full}");
        let weighted = g2d_loss(task, &out, &y, &tf, &tl, &G2dConfig { alpha: 0.25, beta: 0.75, ..cfg.clone() });
        assert!((weighted.double_value(&[]) - (ce + 0.25 + 0.75 * kl)).abs() < 1e-6);
        let umt = g2d_loss(task, &out, &y, &tf, &tl, &G2dConfig { loss: LossKind::Umt, ..cfg.clone() });
        assert!((umt.double_value(&[]) - (ce + 1.0)).abs() < 1e-6);
        let joint = g2d_loss(task, &out, &y, &tf, &tl, &G2dConfig { loss: LossKind::Joint, ..cfg });
        assert!((joint.double_value(&[]) - ce).abs() < 1e-6);
    }

    #[test]
    fn default_tau_matches_the_paper_for_two_and_three_modalities() {
        let g = G2d::new(G2dConfig::default()).unwrap();
        assert_eq!(g.tau(2), vec![0.5, 0.5]);
        assert_eq!(g.tau(3), vec![0.25, 0.25, 0.5]);
    }

    #[test]
    fn bad_options_are_rejected() {
        let opts: Options = toml::from_str("suppression = \"some\"").unwrap();
        assert!(G2d::from_options(&opts).is_err());
        let opts: Options = toml::from_str("tau = [-1.0, 1.0]").unwrap();
        assert!(G2d::from_options(&opts).unwrap_err().to_string().contains("tau"));
    }
}
