//! # PMR: Prototypical Modal Rebalance
//!
//! Class prototypes (per-class feature centroids) act as a non-parametric classifier for each
//! modality. Every step, the modality whose prototype classifier is *less* confident on the
//! true class gets an extra prototype cross-entropy, which pulls its features towards its class
//! centroids and speeds up the slow (weak) encoder.
//!
//! - Paper: Fan et al., "PMR: Prototypical Modal Rebalance for Multimodal Learning", CVPR 2023.
//! - Official code: fanyunfeng-bit/Modal-Imbalance-PMR, `main_Prototype_grad.py`
//!   (`train_epoch`, `calculate_prototype`, `EU_dist`).
//! - Spec: specs/methods.md section 6 (and section 0 for the shared conventions).
//!
//! ## Algorithm (spec section 6)
//! Prototypes, before epoch 0 and after every epoch: run the model in eval mode over the first
//! 10% of the (shuffled) training batches; P_m[c] = mean of f_m over class c; from the update
//! after epoch 1 on, P <- (1 - mu) * P_new + mu * P_old.
//!
//! Per step, inside the modulation window (`modulation-starts <= epoch <= modulation-ends`,
//! both inclusive as in the official `starts <= epoch <= ends`):
//! 1. d_m = -||f_m - P_m[c]||_2 for every class c (prototype logits);
//! 2. s_m = sum_i softmax(d_m)_i[y_i], rho = s_a / s_v;
//! 3. rho > 1: beta = 0, lambda = alpha (push the second modality); rho < 1: beta = alpha,
//!    lambda = 0; rho = 1: both 0;
//! 4. L = CE(z, y) + beta * CE(d_a, y) + lambda * CE(d_v, y); outside the window L = CE(z, y).
//!
//! The prototypes are constants, so the extra gradient flows only through f_m.
//!
//! ## Options and defaults (official `get_arguments`; CREMA-D uses the defaults)
//! - `alpha = 1.0`: weight of the prototype CE (BalanceBenchmark uses 0.6);
//! - `mu = 0.2`: EMA momentum of the prototypes (`--momentum_coef`; BalanceBenchmark 0.5);
//! - `modulation-starts = 0`, `modulation-ends = 100`: the modulation window (epochs);
//! - `prototype-fraction = 0.1`: fraction of the training batches used for the prototypes
//!   (official: `len(dataloader) // 10` batches, at least one).
//!
//! ## Model
//! Fusion-agnostic: the loss uses the fused logits and the encoder features only; unimodal
//! head-sliced logits are reported where the fusion has them (the default `predict`). Exactly
//! two modalities (the official code and the spec's rule); the BalanceBenchmark M = 3 variant
//! (grad scaling by 1 - tanh(eta * rho)) is a different method and is not implemented, so
//! `requirements()` declares `modalities: (2, 2)`. Classification only.
//!
//! ## Deviations from the official code
//! - **NaN prototypes fixed.** The official code divides each class sum by its count; a class
//!   absent from the 10% subset gives 0/0 = NaN prototypes (and then a NaN loss). Here a class
//!   missing from the subset keeps its previous prototype (so the EMA leaves it unchanged); at
//!   initialisation, when there is no previous prototype, it is computed from *all* training
//!   samples of that class, and a class with no training sample at all gets the zero vector.
//! - Distances are computed with a vectorised `cdist` (exact Euclidean mode, whose backward is 0
//!   at zero distance) instead of the O(B * C) Python loop of `EU_dist`; the per-sample score
//!   sums use a gather. Same maths.
//! - rho is compared as s_a vs s_v, so an all-zero s_v cannot give 0/0; the traced `pmr-ratio`
//!   is only recorded when s_v > 0.
//! - The shuffled subset uses its own seeded order (derived from the run seed and the epoch)
//!   instead of a fresh `DataLoader(shuffle=True)` iteration.
//! - The official `--modulation` switch and its logging-only angle computations are dropped;
//!   prototype logits of the two modalities are always computed (they are cheap) and the extra
//!   loss is added only when its coefficient is non-zero.
//! - The official code selects nothing (it logs test accuracy each epoch); the harness selects on
//!   validation. The paper's entropy regulariser (PER) is not in the official code and is not
//!   implemented here either.
//!
//! ## Traces
//! `pmr-score` (mean true-class prototype probability s_m / B) and `pmr-coefficient` (beta for
//! the first modality, lambda for the second) per modality, `pmr-proto-loss` per modality, and
//! `pmr-ratio` (rho) under the key `rho`.

use harness_core::data::{Batch, Loader, Split, Task};
use harness_core::method::{Method, Requirements, TrainContext};
use harness_core::model::ModelOutput;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::trainer::EvalReport;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

const CONTEXT: &str = "options of method `pmr`";

/// Options of `pmr` (defaults from the official `main_Prototype_grad.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PmrConfig {
    /// Weight alpha of the prototype cross-entropy of the weaker modality.
    pub alpha: f64,
    /// EMA momentum mu of the prototypes: P <- (1 - mu) P_new + mu P_old.
    pub mu: f64,
    /// First epoch (0-based, inclusive) of the modulation window.
    pub modulation_starts: usize,
    /// Last epoch (inclusive) of the modulation window.
    pub modulation_ends: usize,
    /// Fraction of the (shuffled) training batches used to compute the prototypes.
    pub prototype_fraction: f64,
}

impl Default for PmrConfig {
    fn default() -> Self {
        PmrConfig { alpha: 1.0, mu: 0.2, modulation_starts: 0, modulation_ends: 100, prototype_fraction: 0.1 }
    }
}

/// PMR: prototype cross-entropy on the modality whose prototypes fit worse.
#[derive(Debug)]
pub struct Pmr {
    config: PmrConfig,
    /// `[C, D_m]` prototypes per model modality, once computed.
    prototypes: Option<Vec<Tensor>>,
}

impl Pmr {
    /// Builds the method from its options, checking their ranges.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: PmrConfig = parse_options(CONTEXT, options)?;
        if !(config.alpha.is_finite() && config.alpha >= 0.0) {
            return Err(Error::config(CONTEXT, format!("alpha = {}, expected a finite value >= 0", config.alpha)));
        }
        if !(0.0..=1.0).contains(&config.mu) {
            return Err(Error::config(CONTEXT, format!("mu = {}, expected a value in [0, 1]", config.mu)));
        }
        if config.modulation_starts > config.modulation_ends {
            return Err(Error::config(
                CONTEXT,
                format!(
                    "modulation-starts = {} is after modulation-ends = {}",
                    config.modulation_starts, config.modulation_ends
                ),
            ));
        }
        if !(config.prototype_fraction > 0.0 && config.prototype_fraction <= 1.0) {
            return Err(Error::config(
                CONTEXT,
                format!("prototype-fraction = {}, expected a value in (0, 1]", config.prototype_fraction),
            ));
        }
        Ok(Pmr { config, prototypes: None })
    }

    /// The current prototypes (`[C, D_m]` per modality), once computed.
    pub fn prototypes(&self) -> Option<&[Tensor]> {
        self.prototypes.as_deref()
    }

    fn in_window(&self, epoch: usize) -> bool {
        (self.config.modulation_starts..=self.config.modulation_ends).contains(&epoch)
    }

    /// Recomputes the prototypes from the first `prototype-fraction` of a shuffled pass over the
    /// training split, in eval mode (spec section 6, "Prototypes"). `finished_epoch` is `None`
    /// at initialisation and the epoch just trained otherwise; the EMA applies from epoch 1 on.
    fn refresh_prototypes(&mut self, ctx: &TrainContext<'_>, finished_epoch: Option<usize>) -> Result<()> {
        let Task::Classification { classes } = ctx.model.task else {
            return Err(Error::Incompatible("method `pmr` needs a classification task".into()));
        };
        let classes = classes as i64;
        let n = ctx.dataset.len(Split::Train);
        let salt = finished_epoch.map_or(0, |e| e as u64 + 1);
        let seed = ctx.config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x504D_5200 + salt);
        let loader = Loader::new(n, Split::Train, ctx.config.batch_size, Some(seed));
        let batches = loader.num_batches();
        let take = ((batches as f64 * self.config.prototype_fraction).floor() as usize).clamp(1, batches.max(1));
        let m_count = ctx.model.num_modalities();

        // Class sums and counts over the subset, and (only at initialisation, only when a class
        // is missing) over the whole split for the fallback.
        let mut acc: Vec<Option<(Tensor, Tensor)>> = (0..m_count).map(|_| None).collect();
        let accumulate = |acc: &mut Vec<Option<(Tensor, Tensor)>>, range: std::ops::Range<usize>| -> Result<()> {
            for i in range {
                let batch = loader.load(ctx.dataset, i, ctx.device)?;
                let feats = tch::no_grad(|| ctx.model.features(&batch, false));
                for (m, f) in feats.iter().enumerate() {
                    let (s, c) = class_sums(&f.detach(), &batch.targets, classes);
                    acc[m] = Some(match acc[m].take() {
                        None => (s, c),
                        Some((s0, c0)) => (s0 + s, c0 + c),
                    });
                }
            }
            Ok(())
        };
        accumulate(&mut acc, 0..take)?;
        let subset: Vec<(Tensor, Tensor)> = acc
            .iter()
            .map(|a| a.as_ref().map(|(s, c)| (s.copy(), c.copy())))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::Incompatible("method `pmr`: the training split is empty".into()))?;

        let fallback: Vec<Tensor> = match &self.prototypes {
            Some(prev) => prev.iter().map(|p| p.shallow_clone()).collect(),
            None => {
                let any_missing = subset.iter().any(|(_, c)| c.eq(0).any().int64_value(&[]) != 0);
                if any_missing && take < batches {
                    accumulate(&mut acc, take..batches)?;
                }
                acc.iter().flatten().map(|(s, c)| class_means_or(s, c, &s.zeros_like())).collect()
            }
        };
        let new: Vec<Tensor> = subset
            .iter()
            .zip(&fallback)
            .map(|((s, c), fb)| {
                let means = class_means_or(s, c, fb);
                match (&self.prototypes, finished_epoch) {
                    (Some(_), Some(e)) if e >= 1 => ema(&means, fb, self.config.mu),
                    _ => means,
                }
            })
            .collect();
        self.prototypes = Some(new);
        Ok(())
    }
}

/// Prototype logits d[i, c] = -||f_i - P_c||_2 (spec section 6, step 1), vectorised with the
/// exact (non-matmul) `cdist`, whose gradient is 0 at zero distance instead of NaN.
pub fn prototype_logits(features: &Tensor, prototypes: &Tensor) -> Tensor {
    -Tensor::cdist(features, &prototypes.to_kind(features.kind()), 2.0, Some(2))
}

/// s = sum_i softmax(logits)_i[y_i] (spec section 6, step 2), as a plain number.
pub fn true_class_score(logits: &Tensor, targets: &Tensor) -> f64 {
    tch::no_grad(|| {
        logits
            .softmax(-1, Kind::Float)
            .gather(1, &targets.to_kind(Kind::Int64).unsqueeze(1), false)
            .sum(Kind::Double)
            .double_value(&[])
    })
}

/// The coefficients (beta, lambda) of the two prototype losses from the scores s_a, s_v
/// (spec section 6, step 3): rho = s_a / s_v > 1 pushes the second modality, rho < 1 the
/// first, rho = 1 neither. Compared without dividing, so s_v = 0 cannot produce NaN.
pub fn proto_coefficients(score_a: f64, score_v: f64, alpha: f64) -> (f64, f64) {
    if score_a > score_v {
        (0.0, alpha)
    } else if score_a < score_v {
        (alpha, 0.0)
    } else {
        (0.0, 0.0)
    }
}

/// Per-class feature sums `[C, D]` and counts `[C]` of a batch (vectorised `index_add` and
/// `bincount` instead of the official per-sample loop).
pub fn class_sums(features: &Tensor, targets: &Tensor, classes: i64) -> (Tensor, Tensor) {
    let t = targets.to_kind(Kind::Int64).to_device(features.device());
    let d = features.size()[1];
    let sums =
        Tensor::zeros([classes, d], (Kind::Float, features.device())).index_add(0, &t, &features.to_kind(Kind::Float));
    let counts = t.bincount::<Tensor>(None, classes).to_kind(Kind::Float);
    (sums, counts)
}

/// Class means `sums / counts` where a class was seen, and the `fallback` row where it was not
/// (the fix of the official 0/0 NaN prototypes).
pub fn class_means_or(sums: &Tensor, counts: &Tensor, fallback: &Tensor) -> Tensor {
    let seen = counts.gt(0.0).unsqueeze(1);
    let means = sums / counts.clamp_min(1.0).unsqueeze(1);
    means.where_self(&seen, &fallback.to_kind(Kind::Float))
}

/// The prototype EMA P = (1 - mu) * P_new + mu * P_old (spec section 6).
pub fn ema(new: &Tensor, old: &Tensor, mu: f64) -> Tensor {
    new * (1.0 - mu) + old * mu
}

impl Method for Pmr {
    fn requirements(&self) -> Requirements {
        Requirements { classification_only: true, modalities: (2, 2), ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    /// Before the first epoch: the initial prototypes from the untrained model (recomputed at
    /// epoch 0 even if this method object trained before).
    fn on_epoch_start(&mut self, ctx: &mut TrainContext<'_>) -> Result<()> {
        if ctx.epoch == 0 {
            self.prototypes = None;
        }
        if self.prototypes.is_none() {
            self.refresh_prototypes(ctx, None)?;
        }
        Ok(())
    }

    /// L = CE(z, y) + beta * CE(d_a, y) + lambda * CE(d_v, y) (spec section 6, steps 1-4).
    fn loss(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, out: &ModelOutput) -> Result<Tensor> {
        let protos = self
            .prototypes
            .as_ref()
            .ok_or_else(|| Error::Incompatible("method `pmr`: prototypes were not initialised".into()))?;
        let targets = &batch.targets;
        let mut loss = ctx.task_loss(&out.logits, targets);
        let d: Vec<Tensor> = out.features.iter().zip(protos).map(|(f, p)| prototype_logits(f, p)).collect();
        let scores: Vec<f64> = d.iter().map(|d| true_class_score(d, targets)).collect();
        let (beta, lambda) = if self.in_window(ctx.epoch) {
            proto_coefficients(scores[0], scores[1], self.config.alpha)
        } else {
            (0.0, 0.0)
        };
        let b = batch.len().max(1) as f64;
        for (m, coef) in [beta, lambda].into_iter().enumerate() {
            let proto_ce = d[m].cross_entropy_for_logits(targets);
            let name = &ctx.model.names[m];
            ctx.trace.record("pmr-score", name, scores[m] / b);
            ctx.trace.record("pmr-coefficient", name, coef);
            ctx.trace.record("pmr-proto-loss", name, proto_ce.double_value(&[]));
            if coef != 0.0 {
                loss += proto_ce * coef;
            }
        }
        if scores[1] > 0.0 {
            ctx.trace.record("pmr-ratio", "rho", scores[0] / scores[1]);
        }
        Ok(loss)
    }

    /// After every epoch: new prototypes, EMA-smoothed from epoch 1 on.
    fn on_epoch_end(
        &mut self,
        ctx: &mut TrainContext<'_>,
        _val: &EvalReport,
    ) -> Result<harness_core::method::EpochControl> {
        self.refresh_prototypes(ctx, Some(ctx.epoch))?;
        Ok(harness_core::method::EpochControl::Continue)
    }
}

harness_core::register_method!(
    "pmr",
    "PMR (CVPR'23): EMA class prototypes; prototype CE on the weaker modality (M = 2, any fusion)",
    Pmr
);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).view(shape)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }

    #[test]
    fn prototype_cross_entropy_matches_hand_computed_distances() {
        // f0 = (0, 0) sits on P0 = (0, 0) and is 3 from P1 = (3, 0): logits (0, -3).
        // f1 = (3, 4) is 5 from P0 and 4 from P1: logits (-5, -4).
        let f = t(&[0.0, 0.0, 3.0, 4.0], &[2, 2]).set_requires_grad(true);
        let p = t(&[0.0, 0.0, 3.0, 0.0], &[2, 2]);
        let d = prototype_logits(&f, &p);
        assert!(d.allclose(&t(&[0.0, -3.0, -5.0, -4.0], &[2, 2]), 1e-6, 1e-6, false));
        // Targets (0, 1): CE = mean(ln(1 + e^-3), ln(1 + e^-1)) = (0.0485874 + 0.3132617) / 2.
        let y = Tensor::from_slice(&[0i64, 1]);
        let ce = d.cross_entropy_for_logits(&y);
        close(ce.double_value(&[]), (0.048_587_4 + 0.313_261_7) / 2.0);
        // Zero distance (f0 on P0) must give a finite gradient, not NaN.
        ce.backward();
        assert_eq!(f.grad().isfinite().all().int64_value(&[]), 1);
        // Scores: softmax true-class probabilities 1/(1+e^-3) + 1/(1+e^-1) = 0.952574 + 0.731059.
        close(true_class_score(&d, &y), 0.952_574_1 + 0.731_058_6);
    }

    #[test]
    fn stronger_first_modality_pushes_the_second_and_ties_push_none() {
        assert_eq!(proto_coefficients(1.2, 0.8, 1.0), (0.0, 1.0));
        assert_eq!(proto_coefficients(0.3, 0.8, 0.6), (0.6, 0.0));
        assert_eq!(proto_coefficients(0.5, 0.5, 1.0), (0.0, 0.0));
        // s_v = 0 (rho would be +inf or NaN) still gives finite coefficients.
        assert_eq!(proto_coefficients(0.0, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(proto_coefficients(0.1, 0.0, 1.0), (0.0, 1.0));
    }

    #[test]
    fn prototype_update_is_class_mean_then_ema() {
        // Class 0: (2, 0), (4, 2) -> mean (3, 1); class 1: (0, 6) -> mean (0, 6).
        let f = t(&[2.0, 0.0, 4.0, 2.0, 0.0, 6.0], &[3, 2]);
        let y = Tensor::from_slice(&[0i64, 0, 1]);
        let (s, c) = class_sums(&f, &y, 2);
        let old = t(&[1.0, 1.0, 2.0, 2.0], &[2, 2]);
        let means = class_means_or(&s, &c, &old);
        assert!(means.allclose(&t(&[3.0, 1.0, 0.0, 6.0], &[2, 2]), 1e-6, 1e-6, false));
        // mu = 0.2: 0.8 (3, 1) + 0.2 (1, 1) = (2.6, 1.0); 0.8 (0, 6) + 0.2 (2, 2) = (0.4, 5.2).
        let p = ema(&means, &old, 0.2);
        assert!(p.allclose(&t(&[2.6, 1.0, 0.4, 5.2], &[2, 2]), 1e-6, 1e-6, false));
    }

    #[test]
    fn class_missing_from_the_subset_keeps_its_prototype_and_gives_no_nan() {
        // Three classes, class 2 absent: the official code would divide by a zero count.
        let f = t(&[2.0, 0.0, 4.0, 2.0, 0.0, 6.0], &[3, 2]);
        let y = Tensor::from_slice(&[0i64, 0, 1]);
        let (s, c) = class_sums(&f, &y, 3);
        let old = t(&[1.0, 1.0, 2.0, 2.0, 7.0, -7.0], &[3, 2]);
        let p = ema(&class_means_or(&s, &c, &old), &old, 0.2);
        assert_eq!(p.isfinite().all().int64_value(&[]), 1);
        // Class 2 unchanged: 0.8 (7, -7) + 0.2 (7, -7).
        assert!(p.get(2).allclose(&t(&[7.0, -7.0], &[2]), 1e-6, 1e-6, false));
        // At initialisation the fallback is the zero vector (or the full-split mean): finite.
        let init = class_means_or(&s, &c, &s.zeros_like());
        assert_eq!(init.isfinite().all().int64_value(&[]), 1);
        assert!(init.get(2).allclose(&t(&[0.0, 0.0], &[2]), 1e-6, 1e-6, false));
        // Prototype logits against it stay finite.
        assert_eq!(prototype_logits(&f, &init).isfinite().all().int64_value(&[]), 1);
    }

    #[test]
    fn options_parse_and_bad_values_are_rejected() {
        let p = Pmr::from_options(&Options::new()).unwrap();
        assert_eq!(p.config, PmrConfig::default());
        let o: Options = toml::from_str("alpha = 0.6\nmu = 0.5\nmodulation-ends = 50").unwrap();
        let p = Pmr::from_options(&o).unwrap();
        assert_eq!((p.config.alpha, p.config.mu, p.config.modulation_ends), (0.6, 0.5, 50));
        for bad in [
            "mu = 1.5",
            "alpha = -1.0",
            "prototype-fraction = 0.0",
            "modulation-starts = 5\nmodulation-ends = 2",
            "gamma = 1.0",
        ] {
            let o: Options = toml::from_str(bad).unwrap();
            assert!(Pmr::from_options(&o).is_err(), "{bad}");
        }
    }
}
