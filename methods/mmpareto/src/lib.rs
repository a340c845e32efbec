//! # MMPareto: boosting multimodal learning with innocent unimodal assistance
//!
//! Multimodal training plus one unimodal loss per modality (each on its own head). For every
//! encoder, the gradient of the multimodal loss and the gradient of that modality's unimodal
//! loss are integrated Pareto-style: equal weights when they agree (cosine > 0), the MGDA
//! two-point min-norm weights when they conflict; the combined gradient is then rescaled to the
//! norm of the plain summed gradient (when larger) and amplified by gamma.
//!
//! - Paper: Wei & Hu, "MMPareto: Boosting Multimodal Learning with Innocent Unimodal
//!   Assistance", ICML 2024.
//! - Official code: GeWu-Lab/MMPareto_ICML2024, `code/MMPareto.py` (`train_epoch`) and
//!   `code/min_norm_solvers.py` (`MinNormSolver._min_norm_element_from2`).
//! - Spec: specs/methods.md section 7 (and section 0).
//!
//! ## Algorithm (spec section 7), per step
//! 1. L_mm = task loss of the fused logits (the model's fusion, any fusion), L_m = task loss of
//!    the separate unimodal head of modality m on its feature f_m.
//! 2. g_mm^m and g_uni^m: the gradients of L_mm and of L_m with respect to every parameter of
//!    encoder m (the heads are excluded), each from its own backward pass.
//! 3. cos_m = cosine(concat g_mm^m, concat g_uni^m).
//! 4. cos_m > 0: w = (0.5, 0.5); otherwise w = (c, 1 - c) with c the two-point min-norm
//!    solution argmin_c ||c g_mm + (1 - c) g_uni||, clipped to [0.001, 0.999] as the solver does.
//! 5. g_sum: the plain gradients of L_mm + sum_m L_m (one more backward pass).
//! 6. Per encoder parameter tensor: g_new = 2 w0 g_mm + 2 w1 g_uni; if ||g_sum|| / ||g_new|| > 1,
//!    g_new is rescaled to norm ||g_sum||; the gradient becomes gamma * g_new.
//! 7. Every other parameter (fusion head, unimodal heads) keeps g_sum. Then the optimizer step.
//!
//! ## Options and defaults
//! - `gamma = 1.5`: the amplification of the integrated encoder gradients (hard-coded in the
//!   official code; BalanceBenchmark's `alpha = 1.5`).
//!
//! Learning rate, epochs and the optimizer are suite settings (official CREMA-D: SGD lr 2e-3,
//! momentum 0.9, wd 1e-4, StepLR(30, 0.1), 50 epochs, batch size 64).
//!
//! ## Model
//! Separate linear unimodal heads `method.head.<modality>` (D_m -> outputs, Xavier init) are
//! built in `setup`, so the method works with any fusion and any number of modalities >= 2:
//! each encoder gets its own (multimodal, unimodal) pair. `predict` reports the fused logits of
//! the model and these separate heads as the per-modality heads (as the official `valid`).
//! Regression tasks use the task loss (MSE on the sigmoid output) for every loss.
//!
//! ## Deviations from the official code
//! - **NaN on conflicting gradients fixed.** BalanceBenchmark assigns the min-norm result to a
//!   loop variable, so w stays (0, 0) when cos <= 0 and g_new = 0 gives 0/0 = NaN; here w is the
//!   solver's result. Independently, a tensor whose combined gradient is exactly zero (while
//!   the summed one is not) would give inf * 0 = NaN in the official rescale; here it gets a
//!   zero gradient (a zero vector has no direction to rescale along).
//! - The min-norm inner products use the concatenated encoder gradient once; the official
//!   solver adds the per-tensor terms *and* the concatenated vector (every product doubled),
//!   which leaves the solution unchanged.
//! - A zero gradient vector gives cosine 0 (PyTorch's `cosine_similarity` eps), so it is treated
//!   as a conflict and goes to the solver, exactly as officially.
//! - The per-loss gradients are read with `autograd` (`run_backward` on the encoder parameters)
//!   instead of `backward` + `.grad.clone()` + `zero_grad`: the same three backward passes, plus
//!   the fourth (summed) one that fills `.grad`.
//! - The official code selects the best *test* epoch; the harness selects on validation.
//! - Parameter membership is by module path (`encoders.<modality>.*`) instead of the official
//!   substring test on `audio`/`visual`/`head` in the parameter name.
//!
//! ## Traces
//! Per modality: `mmpareto-cos` (cos_m), `mmpareto-conflict` (1 when cos_m <= 0),
//! `mmpareto-weight-mm` (w0, the weight of the multimodal gradient) and
//! `mmpareto-unimodal-loss` (L_m).

use harness_core::data::Batch;
use harness_core::method::{EvalContext, Method, Prediction, Requirements, SetupContext, StepStats, TrainContext};
use harness_core::model::GradScope;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

const CONTEXT: &str = "options of method `mmpareto`";

/// Options of `mmpareto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MmParetoConfig {
    /// Amplification gamma of the integrated encoder gradients (official: 1.5, hard-coded).
    pub gamma: f64,
}

impl Default for MmParetoConfig {
    fn default() -> Self {
        MmParetoConfig { gamma: 1.5 }
    }
}

/// MMPareto: Pareto integration of the multimodal and unimodal gradients of each encoder.
#[derive(Debug)]
pub struct MmPareto {
    config: MmParetoConfig,
    /// One separate unimodal head per model modality, built in `setup`.
    heads: Vec<nn::Linear>,
}

impl MmPareto {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: MmParetoConfig = parse_options(CONTEXT, options)?;
        if !(config.gamma.is_finite() && config.gamma > 0.0) {
            return Err(Error::config(CONTEXT, format!("gamma = {}, expected a finite value > 0", config.gamma)));
        }
        Ok(MmPareto { config, heads: Vec::new() })
    }

    fn unimodal_logits(&self, features: &[Tensor]) -> Vec<Tensor> {
        features.iter().zip(&self.heads).map(|(f, h)| f.apply(h)).collect()
    }
}

/// The two-point min-norm solution c = argmin_{c in [0.001, 0.999]} ||c x1 + (1 - c) x2||^2
/// from the inner products v11 = <x1, x1>, v12 = <x1, x2>, v22 = <x2, x2>
/// (`MinNormSolver._min_norm_element_from2`): c = (v22 - v12) / (v11 + v22 - 2 v12), with the
/// solver's end points 0.999 when v12 >= v11 and 0.001 when v12 >= v22.
pub fn min_norm_two(v11: f64, v12: f64, v22: f64) -> f64 {
    if v12 >= v11 {
        return 0.999;
    }
    if v12 >= v22 {
        return 0.001;
    }
    // Here v11 + v22 - 2 v12 = ||x1 - x2||^2 > 0, since v12 < v11 and v12 < v22.
    ((v22 - v12) / (v11 + v22 - 2.0 * v12)).clamp(0.001, 0.999)
}

/// The weights (w_mm, w_uni) and the cosine for one encoder (spec section 7, steps 3-4):
/// (0.5, 0.5) when cos > 0, the min-norm weights otherwise. `g_mm` and `g_uni` are the
/// flattened, concatenated encoder gradients.
pub fn pareto_weights(g_mm: &Tensor, g_uni: &Tensor) -> (f64, f64, f64) {
    let (v11, v12, v22) = tch::no_grad(|| {
        let (a, b) = (g_mm.to_kind(Kind::Double), g_uni.to_kind(Kind::Double));
        (a.dot(&a).double_value(&[]), a.dot(&b).double_value(&[]), b.dot(&b).double_value(&[]))
    });
    // PyTorch's cosine_similarity: x.y / max(||x|| ||y||, eps), eps = 1e-8.
    let cos = v12 / (v11.sqrt() * v22.sqrt()).max(1e-8);
    if cos > 0.0 {
        (0.5, 0.5, cos)
    } else {
        let c = min_norm_two(v11, v12, v22);
        (c, 1.0 - c, cos)
    }
}

/// The new gradient of one encoder parameter tensor (spec section 7, step 6):
/// g_new = 2 w_mm g_mm + 2 w_uni g_uni, rescaled to ||g_sum|| when ||g_sum|| / ||g_new|| > 1,
/// times gamma. A zero g_new stays zero (the official code gives NaN there). No host sync.
pub fn integrate(g_mm: &Tensor, g_uni: &Tensor, g_sum: &Tensor, w: (f64, f64), gamma: f64) -> Tensor {
    tch::no_grad(|| {
        let g_new = g_mm * (2.0 * w.0) + g_uni * (2.0 * w.1);
        let n_new = g_new.norm();
        let n_sum = g_sum.norm();
        let ratio = &n_sum / &n_new;
        let scale = ratio.where_self(&(n_new.gt(0.0).logical_and(&ratio.gt(1.0))), &ratio.ones_like());
        g_new * scale * gamma
    })
}

/// Gradients of `loss` with respect to `params`, zeros where a parameter is not reached.
fn grads_of(loss: &Tensor, params: &[Tensor]) -> Vec<Tensor> {
    if params.is_empty() {
        return Vec::new();
    }
    Tensor::run_backward(&[loss], params, true, false)
        .into_iter()
        .zip(params)
        .map(|(g, p)| if g.defined() { g } else { p.zeros_like() })
        .collect()
}

fn flat(grads: &[Tensor]) -> Tensor {
    Tensor::cat(&grads.iter().map(|g| g.flatten(0, -1)).collect::<Vec<_>>(), 0)
}

impl Method for MmPareto {
    fn requirements(&self) -> Requirements {
        Requirements { modalities: (2, usize::MAX), ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    /// Builds the separate unimodal heads `method.head.<modality>`.
    fn setup(&mut self, ctx: &mut SetupContext<'_>) -> Result<()> {
        let outputs = ctx.spec.task.outputs();
        let head_path = &ctx.path / "head";
        self.heads = ctx
            .model
            .encoders
            .iter()
            .zip(&ctx.model.names)
            .map(|(e, name)| harness_core::init::linear(&head_path / name.as_str(), e.out_dim(), outputs))
            .collect();
        Ok(())
    }

    /// Spec section 7, steps 1-7.
    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        if self.heads.len() != ctx.model.num_modalities() {
            return Err(Error::Incompatible("method `mmpareto`: setup did not build the unimodal heads".into()));
        }
        // 1. The M + 1 losses.
        let out = ctx.model.forward_t(batch, true);
        let uni = self.unimodal_logits(&out.features);
        let loss_mm = ctx.task_loss(&out.logits, &batch.targets);
        let loss_uni: Vec<Tensor> = uni.iter().map(|z| ctx.task_loss(z, &batch.targets)).collect();

        // 2. Per-loss encoder gradients (heads excluded), one backward pass per loss.
        let encoders: Vec<Vec<Tensor>> =
            ctx.model.names.iter().map(|n| ctx.params.encoder(n, GradScope::All)).collect();
        let all_enc: Vec<Tensor> = encoders.iter().flatten().map(|t| t.shallow_clone()).collect();
        let mut g_mm_all = grads_of(&loss_mm, &all_enc).into_iter();
        let g_mm: Vec<Vec<Tensor>> = encoders.iter().map(|e| g_mm_all.by_ref().take(e.len()).collect()).collect();
        let g_uni: Vec<Vec<Tensor>> = encoders.iter().zip(&loss_uni).map(|(e, l)| grads_of(l, e)).collect();

        // 3-4. Cosine test and weights per encoder.
        let weights: Vec<(f64, f64)> = g_mm
            .iter()
            .zip(&g_uni)
            .enumerate()
            .map(|(m, (a, b))| {
                let (w0, w1, cos) = if a.is_empty() { (0.5, 0.5, 1.0) } else { pareto_weights(&flat(a), &flat(b)) };
                let name = &ctx.model.names[m];
                ctx.trace.record("mmpareto-cos", name, cos);
                ctx.trace.record("mmpareto-conflict", name, if cos > 0.0 { 0.0 } else { 1.0 });
                ctx.trace.record("mmpareto-weight-mm", name, w0);
                (w0, w1)
            })
            .collect();

        // 5. Plain gradients of the summed loss fill `.grad` (heads keep these, step 7).
        let total = loss_uni.iter().fold(loss_mm.shallow_clone(), |acc, l| acc + l);
        ctx.optimizer.zero_grad()?;
        total.backward();

        // 6. Integrated, rescaled and amplified encoder gradients.
        for (m, params) in encoders.iter().enumerate() {
            for (i, p) in params.iter().enumerate() {
                let mut g = p.grad();
                if !g.defined() {
                    continue;
                }
                let new = integrate(&g_mm[m][i], &g_uni[m][i], &g, weights[m], self.config.gamma);
                tch::no_grad(|| g.copy_(&new));
            }
        }
        ctx.optimizer.step();

        for (m, l) in loss_uni.iter().enumerate() {
            ctx.trace.record("mmpareto-unimodal-loss", &ctx.model.names[m], l.double_value(&[]));
        }
        Ok(StepStats { loss: total.double_value(&[]) })
    }

    /// The model's fused logits, and the separate unimodal heads as the per-modality heads.
    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let out = ctx.model.forward_t(batch, false);
        let heads = self.unimodal_logits(&out.features).into_iter().map(Some).collect();
        Ok(Prediction { fused: out.logits, heads })
    }
}

harness_core::register_method!(
    "mmpareto",
    "MMPareto (ICML'24): Pareto integration of multimodal and unimodal encoder gradients (any fusion, M >= 2)",
    MmPareto
);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64]) -> Tensor {
        Tensor::from_slice(v)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn agreeing_gradients_get_equal_weights() {
        // (1, 0) . (1, 1) = 1 > 0, cos = 1 / sqrt(2).
        let (w0, w1, cos) = pareto_weights(&t(&[1.0, 0.0]), &t(&[1.0, 1.0]));
        assert_eq!((w0, w1), (0.5, 0.5));
        close(cos, 1.0 / 2f64.sqrt());
    }

    #[test]
    fn conflicting_gradients_get_the_closed_form_min_norm_weights() {
        // g1 = (1, 0), g2 = (-1, 2): v11 = 1, v12 = -1, v22 = 5, cos = -1/sqrt(5) <= 0.
        // c = (v22 - v12) / (v11 + v22 - 2 v12) = 6 / 8 = 0.75; check: d/dc of
        // (2c - 1)^2 + (2 - 2c)^2 = 16c - 12 = 0 at c = 0.75, and 0.75 g1 + 0.25 g2 = (0.5, 0.5).
        let (w0, w1, cos) = pareto_weights(&t(&[1.0, 0.0]), &t(&[-1.0, 2.0]));
        close(w0, 0.75);
        close(w1, 0.25);
        close(cos, -1.0 / 5f64.sqrt());
        // Solver end points: v12 >= v11 -> 0.999, v12 >= v22 -> 0.001.
        close(min_norm_two(1.0, 2.0, 9.0), 0.999);
        close(min_norm_two(9.0, 2.0, 1.0), 0.001);
    }

    #[test]
    fn zero_gradient_counts_as_conflict_and_gives_finite_weights() {
        // g1 = 0: cos = 0 (eps), v12 = 0 >= v11 = 0 -> c = 0.999, no 0/0.
        let (w0, w1, cos) = pareto_weights(&t(&[0.0, 0.0]), &t(&[1.0, 2.0]));
        close(cos, 0.0);
        close(w0, 0.999);
        close(w1, 0.001);
    }

    #[test]
    fn integrated_gradient_is_rescaled_to_the_sum_norm_then_amplified() {
        // w = (0.75, 0.25): g_new = 1.5 (1, 0) + 0.5 (-1, 2) = (1, 1), norm sqrt(2).
        let (g_mm, g_uni) = (t(&[1.0, 0.0]), t(&[-1.0, 2.0]));
        // ||g_sum|| = 5 > sqrt(2): g_new * 5 / sqrt(2) * 1.5 = 7.5 / sqrt(2) = 5.3033 each.
        let g = integrate(&g_mm, &g_uni, &t(&[3.0, 4.0]), (0.75, 0.25), 1.5);
        assert!(g.allclose(&t(&[7.5 / 2f64.sqrt(), 7.5 / 2f64.sqrt()]), 1e-9, 1e-9, false));
        // ||g_sum|| = 1 < sqrt(2): no rescale, 1.5 (1, 1).
        let g = integrate(&g_mm, &g_uni, &t(&[0.6, 0.8]), (0.75, 0.25), 1.5);
        assert!(g.allclose(&t(&[1.5, 1.5]), 1e-9, 1e-9, false));
        // Agreeing weights (0.5, 0.5): g_new = g_mm + g_uni = (0, 2).
        let g = integrate(&g_mm, &g_uni, &t(&[0.0, 1.0]), (0.5, 0.5), 1.0);
        assert!(g.allclose(&t(&[0.0, 2.0]), 1e-9, 1e-9, false));
    }

    #[test]
    fn zero_integrated_gradient_gives_zero_not_nan() {
        // g_mm = -g_uni with equal weights: g_new = 0 while ||g_sum|| = 1 (official: inf * 0).
        let g = integrate(&t(&[1.0, 0.0]), &t(&[-1.0, 0.0]), &t(&[1.0, 0.0]), (0.5, 0.5), 1.5);
        assert!(g.allclose(&t(&[0.0, 0.0]), 0.0, 0.0, false));
    }

    #[test]
    fn options_parse_and_bad_gamma_is_rejected() {
        assert_eq!(MmPareto::from_options(&Options::new()).unwrap().config.gamma, 1.5);
        let o: Options = toml::from_str("gamma = 1.0").unwrap();
        assert_eq!(MmPareto::from_options(&o).unwrap().config.gamma, 1.0);
        for bad in ["gamma = 0.0", "alpha = 1.5"] {
            let o: Options = toml::from_str(bad).unwrap();
            assert!(MmPareto::from_options(&o).is_err(), "{bad}");
        }
    }
}
