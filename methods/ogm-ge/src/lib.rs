//! # OGM-GE: on-the-fly gradient modulation with generalisation enhancement
//!
//! Slows down the encoder of the modality whose unimodal prediction is more confident, and adds
//! Gaussian noise to the encoder gradients to improve generalisation.
//!
//! - Paper: Peng et al., "Balanced Multimodal Learning via On-the-fly Gradient Modulation",
//!   CVPR 2022 (Eq. 10 for the coefficient, section 3.3 for the noise).
//! - Official code: GeWu-Lab/OGM-GE_CVPR2022 `main.py` (`train_epoch`, `--modulation OGM_GE|OGM`).
//! - Spec: specs/methods.md section 3.
//!
//! # Algorithm (per step, after the task loss on the fused logits was back-propagated)
//! 1. s_m = sum_i softmax(z_m)_i[y_i] from the head-sliced unimodal logits z_m
//!    ([`ModelOutput::unimodal`]).
//! 2. M = 2 (official rule): rho_v = s_v / s_a, rho_a = 1 / rho_v. If rho_v > 1 then
//!    k_v = 1 - tanh(alpha * relu(rho_v)), k_a = 1; otherwise k_a = 1 - tanh(alpha * rho_a),
//!    k_v = 1 (so a tie slows the first modality, as the official `else` branch does).
//!    M > 2 (spec section 3): rho_m = s_m / mean_{j != m} s_j and k_m = 1 - tanh(alpha * rho_m)
//!    where rho_m > 1, else 1.
//! 3. Inside the modulation window (`modulation-starts <= epoch <= modulation-ends`, 0-based
//!    epochs as in the official loop), for every kernel gradient of every encoder:
//!    g <- k_m * g + N(0, std(g) + 1e-8), the std taken over the whole tensor before scaling.
//!    The noise goes to *both* encoders, including the one with k = 1. Plain OGM (`noise =
//!    false`) only scales.
//!
//! # Options (defaults from the OGM-GE README for CREMA-D, the dataset closest to synthetic-av)
//! - `alpha` = 0.8 (README, CREMA-D; 0.1 for VGGSound).
//! - `noise` = true (OGM-GE); false gives plain OGM.
//! - `modulation-starts` = 0, `modulation-ends` = 50 (README for CREMA-D; the G2D repo runs the
//!   same code with 0..150).
//! - `scope` = `kernels` (the official "4-D grads", see [`GradScope::Kernels`]) or `all`.
//!
//! # Deviations from the official code
//! - The per-sample Python loop for s_m is a vectorised softmax + gather (same maths).
//! - M > 2 uses the spec's generalisation rho_m = s_m / mean_{j != m} s_j.
//! - Scores are floored at the smallest positive f64 before dividing, so an underflowed
//!   score gives a coefficient of 0 rather than NaN; the noise std of a one-element gradient
//!   (undefined for the unbiased estimator, NaN in PyTorch) is taken as 0.
//! - `scope = kernels` selects weight tensors of two or more dimensions; on ResNet-18 these are
//!   exactly the official 4-D conv kernels, on MLP encoders they are the weight matrices.
//! - Unimodal logits follow the harness's fusion decomposition (specs/methods.md section 0):
//!   concat uses W[:, block_m] f_m + b/M as the official code; sum uses the full bias in training
//!   like the official code (the official eval uses b/2, the harness keeps the full bias).
//! - The official code selects the best *test* epoch; the harness selects on validation.
//!
//! Requirements: a decomposing fusion (late, sum or concat), classification, M >= 2.

use harness_core::data::Batch;
use harness_core::method::{Method, Requirements, TrainContext};
use harness_core::model::{GradScope, ModelOutput, ParamGroups};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::tch::{Kind, Tensor};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

const CONTEXT: &str = "options of method `ogm-ge`";

/// Options of `ogm-ge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OgmGeConfig {
    /// Modulation strength alpha of Eq. 10 (README: 0.8 for CREMA-D).
    pub alpha: f64,
    /// Add the generalisation-enhancement Gaussian noise (OGM-GE); false gives plain OGM.
    pub noise: bool,
    /// First epoch (0-based, inclusive) of the modulation window.
    pub modulation_starts: usize,
    /// Last epoch (0-based, inclusive) of the modulation window.
    pub modulation_ends: usize,
    /// Which encoder parameters are modulated: conv kernels (official) or all of them.
    pub scope: GradScope,
}

impl Default for OgmGeConfig {
    fn default() -> Self {
        OgmGeConfig { alpha: 0.8, noise: true, modulation_starts: 0, modulation_ends: 50, scope: GradScope::Kernels }
    }
}

/// OGM-GE: per-step gradient coefficients from unimodal confidence, plus Gaussian noise.
#[derive(Debug)]
pub struct OgmGe {
    config: OgmGeConfig,
}

impl OgmGe {
    /// Builds the method from its options, checking their ranges.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: OgmGeConfig = parse_options(CONTEXT, options)?;
        if !config.alpha.is_finite() || config.alpha < 0.0 {
            return Err(Error::config(CONTEXT, format!("alpha = {}, expected a finite value >= 0", config.alpha)));
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
        Ok(OgmGe { config })
    }

    /// The resolved configuration.
    pub fn config(&self) -> &OgmGeConfig {
        &self.config
    }

    fn in_window(&self, epoch: usize) -> bool {
        self.config.modulation_starts <= epoch && epoch <= self.config.modulation_ends
    }
}

/// Step 1: s_m = sum_i softmax(z_m)_i[y_i] for every modality's unimodal logits (vectorised
/// form of the official per-sample loop).
pub fn confidence_scores(unimodal: &[Tensor], targets: &Tensor) -> Vec<f64> {
    let index = targets.to_kind(Kind::Int64).unsqueeze(1);
    unimodal
        .iter()
        .map(|z| z.detach().softmax(-1, Kind::Double).gather(1, &index, false).sum(Kind::Double).double_value(&[]))
        .collect()
}

/// Step 2: the discrepancy ratios rho_m and coefficients k_m from the scores (Eq. 10).
///
/// M = 2 follows the official branch exactly (a tie slows modality 0); M > 2 uses
/// rho_m = s_m / mean_{j != m} s_j and k_m = 1 - tanh(alpha * rho_m) where rho_m > 1.
pub fn coefficients(scores: &[f64], alpha: f64) -> (Vec<f64>, Vec<f64>) {
    let s: Vec<f64> = scores.iter().map(|&s| if s.is_finite() { s.max(f64::MIN_POSITIVE) } else { 1.0 }).collect();
    let m = s.len();
    if m < 2 {
        return (vec![1.0; m], vec![1.0; m]);
    }
    if m == 2 {
        let ratio_v = s[1] / s[0];
        let ratio_a = 1.0 / ratio_v;
        let coeffs = if ratio_v > 1.0 {
            vec![1.0, 1.0 - (alpha * ratio_v.max(0.0)).tanh()]
        } else {
            vec![1.0 - (alpha * ratio_a.max(0.0)).tanh(), 1.0]
        };
        return (vec![ratio_a, ratio_v], coeffs);
    }
    let total: f64 = s.iter().sum();
    let ratios: Vec<f64> = s.iter().map(|&sm| sm / ((total - sm) / (m - 1) as f64).max(f64::MIN_POSITIVE)).collect();
    let coeffs = ratios.iter().map(|&r| if r > 1.0 { 1.0 - (alpha * r).tanh() } else { 1.0 }).collect();
    (ratios, coeffs)
}

/// Step 3 on one parameter list: g <- k * g (+ N(0, std(g) + 1e-8) when `noise`), with the std
/// of the unscaled gradient over the whole tensor. Undefined gradients are skipped.
pub fn modulate_grads(params: &[Tensor], k: f64, noise: bool) {
    harness_core::tch::no_grad(|| {
        for p in params {
            let mut g = p.grad();
            if !g.defined() {
                continue;
            }
            if noise {
                let std = if g.numel() > 1 { g.std(true).double_value(&[]) } else { 0.0 };
                let std = if std.is_finite() { std } else { 0.0 };
                let new = &g * k + g.randn_like() * (std + 1e-8);
                g.copy_(&new);
            } else {
                let _ = g.g_mul_scalar_(k);
            }
        }
    });
}

/// Step 3 for every modality: modulates the `scope` parameters of each named encoder with its
/// coefficient. Only encoder parameters are touched; fusion-head gradients are left alone.
pub fn modulate_encoders(params: &ParamGroups, names: &[String], coeffs: &[f64], scope: GradScope, noise: bool) {
    for (name, &k) in names.iter().zip(coeffs) {
        modulate_grads(&params.encoder(name, scope), k, noise);
    }
}

impl Method for OgmGe {
    fn requirements(&self) -> Requirements {
        Requirements {
            unimodal_heads: true,
            classification_only: true,
            modalities: (2, usize::MAX),
            ..Default::default()
        }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn modulate_gradients(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, out: &ModelOutput) -> Result<()> {
        let unimodal = out.unimodal.as_ref().ok_or_else(|| {
            Error::Incompatible(
                "method `ogm-ge` needs per-modality unimodal logits; use a decomposing fusion (late, sum, concat)"
                    .into(),
            )
        })?;
        let scores = confidence_scores(unimodal, &batch.targets);
        let (ratios, coeffs) = coefficients(&scores, self.config.alpha);
        let batch_size = batch.targets.size().first().copied().unwrap_or(1).max(1) as f64;
        let active = self.in_window(ctx.epoch);
        for (m, name) in ctx.model.names.iter().enumerate() {
            ctx.trace.record("ogm-score", name, scores[m] / batch_size);
            ctx.trace.record("ogm-ratio", name, ratios[m]);
            ctx.trace.record("ogm-coefficient", name, if active { coeffs[m] } else { 1.0 });
        }
        if active {
            modulate_encoders(ctx.params, &ctx.model.names, &coeffs, self.config.scope, self.config.noise);
        }
        Ok(())
    }
}

harness_core::register_method!(
    "ogm-ge",
    "OGM-GE (CVPR'22): confidence-ratio gradient coefficients + Gaussian noise on encoder kernels (late/sum/concat)",
    OgmGe
);

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::tch::{Device, nn};

    const LN3: f64 = 1.098_612_288_668_109_8;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn dominant_audio_gets_one_minus_tanh_alpha_rho() {
        // Two samples, labels [0, 1]. Audio logits [ln3, 0] and [0, ln3] give p(y) = 3/4 for
        // both samples, so s_a = 1.5; visual logits are all zero, p(y) = 1/2, so s_v = 1.
        let za = Tensor::from_slice(&[LN3, 0.0, 0.0, LN3]).view([2, 2]).to_kind(Kind::Float);
        let zv = Tensor::zeros([2, 2], (Kind::Float, Device::Cpu));
        let y = Tensor::from_slice(&[0i64, 1]);
        let s = confidence_scores(&[za, zv], &y);
        assert!((s[0] - 1.5).abs() < 1e-6 && (s[1] - 1.0).abs() < 1e-6, "{s:?}");
        // rho_v = 1 / 1.5 = 2/3 <= 1, so k_v = 1 and k_a = 1 - tanh(0.8 * 1.5) = 1 - tanh(1.2).
        let (ratios, k) = coefficients(&[1.5, 1.0], 0.8);
        close(ratios[0], 1.5);
        close(ratios[1], 2.0 / 3.0);
        close(k[0], 1.0 - 0.833_654_607_012_155_2);
        close(k[1], 1.0);
    }

    #[test]
    fn dominant_visual_gets_the_coefficient_and_ties_slow_modality_zero() {
        // s = [1, 2]: rho_v = 2 > 1, k_v = 1 - tanh(0.5 * 2) = 1 - tanh(1) = 0.238405844...
        let (_, k) = coefficients(&[1.0, 2.0], 0.5);
        close(k[0], 1.0);
        close(k[1], 1.0 - 0.761_594_155_955_764_9);
        // Tie: rho_v = 1 is not > 1, so the official `else` branch gives k_a = 1 - tanh(alpha).
        let (_, k) = coefficients(&[1.0, 1.0], 0.5);
        close(k[0], 1.0 - 0.5f64.tanh());
        close(k[1], 1.0);
    }

    #[test]
    fn three_modalities_use_ratio_to_mean_of_the_others() {
        // s = [3, 1, 2]: rho_0 = 3 / 1.5 = 2 -> k = 1 - tanh(0.5 * 2); rho_1 = 1 / 2.5 = 0.4 -> 1;
        // rho_2 = 2 / 2 = 1 (not > 1) -> 1.
        let (ratios, k) = coefficients(&[3.0, 1.0, 2.0], 0.5);
        close(ratios[0], 2.0);
        close(ratios[1], 0.4);
        close(ratios[2], 1.0);
        close(k[0], 1.0 - 1f64.tanh());
        close(k[1], 1.0);
        close(k[2], 1.0);
    }

    #[test]
    fn zero_scores_give_finite_coefficients() {
        let (r, k) = coefficients(&[0.0, 1.0], 0.8);
        assert!(r.iter().chain(&k).all(|v| v.is_finite()), "{r:?} {k:?}");
        close(k[1], 0.0); // rho_v = 1 / tiny -> tanh = 1
        let (r, k) = coefficients(&[0.0, 0.0, 0.0], 0.8);
        assert!(r.iter().chain(&k).all(|v| v.is_finite()));
    }

    /// A var store with two MLP-like encoders and a head, with known gradients: each parameter's
    /// gradient is the tensor `r` it was multiplied with in the loss sum(p * r).
    fn store() -> (nn::VarStore, ParamGroups) {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        for enc in ["audio", "visual"] {
            let p = root.clone() / "encoders" / enc / "fc0";
            let _ = p.randn("weight", &[40, 50], 0.0, 1.0);
            let _ = p.randn("bias", &[40], 0.0, 1.0);
        }
        let _ = (root.clone() / "fusion" / "head0").randn("weight", &[3, 40], 0.0, 1.0);
        let _ = (root / "fusion" / "head0").randn("bias", &[3], 0.0, 1.0);
        let params = ParamGroups::new(&vs);
        let mut loss = Tensor::zeros([], (Kind::Float, Device::Cpu));
        for (i, (_, p)) in params.all.iter().enumerate() {
            loss += (p * grad_of(i, &p.size())).sum(Kind::Float);
        }
        loss.backward();
        (vs, params)
    }

    fn grad_of(i: usize, shape: &[i64]) -> Tensor {
        Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)).view(shape) * 0.01 + i as f64
    }

    fn grads(params: &ParamGroups) -> Vec<(String, Tensor)> {
        params.all.iter().map(|(n, p)| (n.clone(), p.grad().copy())).collect()
    }

    #[test]
    fn ogm_without_noise_scales_only_encoder_kernels() {
        let (_vs, params) = store();
        let before = grads(&params);
        let names = vec!["audio".to_string(), "visual".to_string()];
        modulate_encoders(&params, &names, &[0.25, 1.0], GradScope::Kernels, false);
        for ((name, g0), (_, p)) in before.iter().zip(&params.all) {
            let expect = if name == "encoders.audio.fc0.weight" { g0 * 0.25 } else { g0.copy() };
            assert!(p.grad().allclose(&expect, 1e-6, 1e-6, false), "{name}");
        }
    }

    #[test]
    fn ogm_ge_noise_goes_to_both_encoders_kernels_but_not_biases_or_head() {
        let (_vs, params) = store();
        let before = grads(&params);
        let names = vec!["audio".to_string(), "visual".to_string()];
        modulate_encoders(&params, &names, &[0.25, 1.0], GradScope::Kernels, true);
        for ((name, g0), (_, p)) in before.iter().zip(&params.all) {
            let g = p.grad();
            match name.as_str() {
                "encoders.audio.fc0.weight" | "encoders.visual.fc0.weight" => {
                    let k = if name.contains("audio") { 0.25 } else { 1.0 };
                    let noise = &g - g0 * k;
                    // Noise is present, with the std of the unscaled gradient (+1e-8).
                    let want = g0.std(true).double_value(&[]);
                    let got = noise.std(true).double_value(&[]);
                    assert!((got / want - 1.0).abs() < 0.1, "{name}: noise std {got} vs {want}");
                    assert!(noise.mean(Kind::Float).double_value(&[]).abs() < 0.1 * want, "{name}");
                }
                _ => assert!(g.equal(g0), "{name} must be untouched"),
            }
        }
    }

    #[test]
    fn scope_all_also_scales_encoder_biases() {
        let (_vs, params) = store();
        let before = grads(&params);
        let names = vec!["audio".to_string(), "visual".to_string()];
        modulate_encoders(&params, &names, &[0.5, 1.0], GradScope::All, false);
        for ((name, g0), (_, p)) in before.iter().zip(&params.all) {
            let expect = if name.starts_with("encoders.audio.") { g0 * 0.5 } else { g0.copy() };
            assert!(p.grad().allclose(&expect, 1e-6, 1e-6, false), "{name}");
        }
    }

    #[test]
    fn options_have_crema_d_defaults_and_reject_bad_values() {
        let m = OgmGe::from_options(&Options::new()).unwrap();
        assert_eq!(m.config(), &OgmGeConfig::default());
        assert_eq!(m.config().alpha, 0.8);
        assert_eq!((m.config().modulation_starts, m.config().modulation_ends), (0, 50));
        let opts: Options = toml::from_str("noise = false\nscope = \"all\"\nalpha = 0.1").unwrap();
        let m = OgmGe::from_options(&opts).unwrap();
        assert!(!m.config().noise && m.config().scope == GradScope::All);
        assert_eq!(OgmGe::from_options(&m.options()).unwrap().config(), m.config());
        for bad in ["alpha = -1.0", "modulation-starts = 5\nmodulation-ends = 2", "alfa = 1.0"] {
            assert!(OgmGe::from_options(&toml::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
