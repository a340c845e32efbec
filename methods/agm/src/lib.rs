//! # AGM: adaptive gradient modulation
//!
//! Estimates each modality's contribution to the fused logits with Shapley-style zero-padding
//! forwards, and scales the gradient flowing through each contribution so that the modalities'
//! relative strengths move toward their historical average.
//!
//! - Paper: Li et al., "Boosting Multi-modal Model Performance with Adaptive Gradient
//!   Modulation", ICCV 2023.
//! - Official code: lihong2303/AGM (the AGM_ICCV2023 code) `run/CREMAD_main.py` (`train`),
//!   `model/CREMAD_net.py` (`GradMod`, 2-way Shapley), `model/URFunny_net.py` and
//!   `run/URFunny_main.py` (3-way Shapley).
//! - Spec: specs/methods.md section 4.
//!
//! # Algorithm (per step)
//! 1. Forward every non-empty modality subset S: f(S) is the fused logits with the inputs of the
//!    modalities outside S replaced by zeros. The full pass runs in training mode; the padded
//!    passes run in eval mode but with autograd, as the official `GradMod.forward`.
//! 2. Shapley logits m_m = sum_{S not containing m} w(|S|) [f(S + m) - f(S)] + f(empty)/M with
//!    w(s) = s!(M-s-1)!/M!. The f(empty) terms cancel, so f(empty) is never computed; for M = 2
//!    this is m_a = (f(a,v) - f(0,v) + f(a,0))/2 and for M = 3 it is the official
//!    `Modality_Audio/Visual/Text` formula. sum_m m_m = f(all modalities).
//! 3. s_m = mean_i -log p(m_m)_i[y_i], with p clamped at 1e-8.
//! 4. ratio_m = exp(M/(M-1) (mean_j s_j - s_m)); opt_m is the same formula on the running
//!    averages S_m (cumulative mean over all iterations since training started).
//! 5. c_m = exp(alpha * min(opt_m - ratio_m, cap)); only then S_m is updated with s_m.
//! 6. Inside the modulation window the gradient scale of m_m is set to c_m. Outside it the
//!    scale is **not** reset: the last c_m keeps applying after the window, exactly like the
//!    official hooks whose scale is only written inside the window (faithful-but-odd, kept).
//! 7. Loss = CE(sum_m m_m, y) where each m_m passes through a gradient-scaling identity
//!    (value m_m, gradient c_m: the official backward hooks); backward; if any element of a
//!    fusion weight gradient is outside [-clip-trigger, clip-trigger], clip the global grad norm
//!    to `clip-norm` (every epoch, as the official code); optimizer step.
//!
//! Inference: the fused output is f(all modalities) (equal to sum_m m_m); each modality's head
//! is its Shapley logits m_m, as the official `test` reports acc_a / acc_v.
//!
//! # Options
//! - `alpha` = 1.0: the official argument default. The repository gives no CREMA-D value (its
//!   README uses 2.5 for AV-MNIST only).
//! - `cap` = 10: the CREMA-D cap of `run/CREMAD_main.py` (7 for UR-Funny; AV-MNIST has none:
//!   write `cap = inf`).
//! - `modulation-starts` = 0, `modulation-ends` = 20: the official argument defaults, in the
//!   official **1-based** epoch numbering (harness epoch e is official epoch e + 1), so the
//!   default window covers the first 20 epochs.
//! - `clip-norm` = 1.0 and `clip-trigger` = 1.0: the CREMA-D clipping (UR-Funny uses 5 and 5).
//!
//! # Deviations from the official code
//! - Per-sample Python loops for s_m are a vectorised log-softmax + gather; the 1e-8 clamp is
//!   applied for every M (the official 3-way code has none, so it can produce inf).
//! - The hooks on identity modules are replaced by `x.detach() + (x - x.detach()) * c`, which has
//!   value exactly x and gradient c x's gradient (no cancellation error even for large c).
//! - The encoders' eval-mode features are computed once per modality for the real input and
//!   once for the zero input and shared by every padded pass (same values as re-running the
//!   whole network per subset in eval mode, fewer encoder forwards); f(empty) is skipped.
//! - The exponent alpha * min(opt - ratio, cap) is additionally clamped at 50 so c_m stays
//!   finite in f32 even with `cap = inf`; the clipping norm is accumulated in f64.
//! - The clipping trigger checks every fusion weight matrix (parameters under `fusion.` with two
//!   or more dimensions), not only the official concat `fc_out.weight`, so it works with any
//!   fusion.
//! - The official code selects the best *test* epoch; the harness selects on validation.
//!
//! Requirements: classification, M = 2 or 3, any fusion (only zero padding is needed).

use harness_core::data::Batch;
use harness_core::method::{EvalContext, Method, Prediction, Requirements, StepStats, TrainContext};
use harness_core::model::MultimodalModel;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::tch::{Kind, Tensor};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

const CONTEXT: &str = "options of method `agm`";

/// -ln(1e-8): the largest per-sample score, from the official clamp of p at 1e-8.
pub const MAX_SAMPLE_SCORE: f64 = 18.420_680_743_952_367;

/// Upper bound on the exponent of c_m, so c_m = exp(.) stays finite in f32.
const MAX_EXPONENT: f64 = 50.0;

/// Options of `agm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AgmConfig {
    /// Modulation strength alpha (official argument default 1.0).
    pub alpha: f64,
    /// Cap on opt_m - ratio_m inside the exponent (CREMA-D: 10; `inf` disables it).
    pub cap: f64,
    /// First epoch of the modulation window, official 1-based numbering (inclusive).
    pub modulation_starts: usize,
    /// Last epoch of the modulation window, official 1-based numbering (inclusive).
    pub modulation_ends: usize,
    /// Global gradient-norm bound applied when the clipping is triggered.
    pub clip_norm: f64,
    /// Clipping is triggered when a fusion weight gradient element leaves [-t, t].
    pub clip_trigger: f64,
}

impl Default for AgmConfig {
    fn default() -> Self {
        AgmConfig {
            alpha: 1.0,
            cap: 10.0,
            modulation_starts: 0,
            modulation_ends: 20,
            clip_norm: 1.0,
            clip_trigger: 1.0,
        }
    }
}

/// The per-step state AGM carries across iterations and epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct AgmState {
    /// Running averages S_m of the scores over every iteration so far.
    pub running: Vec<f64>,
    /// Number of iterations folded into `running`.
    pub iteration: u64,
    /// The gradient scale of each Shapley term (the official hook scale; starts at 1).
    pub scales: Vec<f64>,
}

impl AgmState {
    /// The state before the first iteration, for `m` modalities.
    pub fn new(m: usize) -> Self {
        AgmState { running: vec![0.0; m], iteration: 0, scales: vec![1.0; m] }
    }
}

/// What one step's update computed, for traces and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCoefficients {
    /// ratio_m from this batch's scores.
    pub ratio: Vec<f64>,
    /// opt_m from the running averages before this batch.
    pub optimal: Vec<f64>,
    /// c_m.
    pub coeff: Vec<f64>,
}

/// AGM with Shapley zero-padding contributions.
#[derive(Debug)]
pub struct Agm {
    config: AgmConfig,
    state: Option<AgmState>,
}

/// The Shapley weight w(s) = s!(M-s-1)!/M! of a coalition of `s` other modalities.
fn shapley_weight(s: usize, m: usize) -> f64 {
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    fact(s) * fact(m - s - 1) / fact(m)
}

/// Step 2: the Shapley logits m_m from the fused logits of every non-empty subset.
///
/// `subset_logits[mask - 1]` is f(S) for the subset whose bit m is set when modality m is
/// present (so the last entry is the full model). Returns one tensor per modality; they sum to
/// the full model's logits.
pub fn shapley_logits(subset_logits: &[Tensor], m: usize) -> Vec<Tensor> {
    let f = |mask: usize| &subset_logits[mask - 1];
    (0..m)
        .map(|i| {
            let bit = 1usize << i;
            // S = empty: w(0) f({i}) (the -f(empty)/M cancels the +f(empty)/M offset).
            let mut acc = f(bit) * shapley_weight(0, m);
            for s in 1..(1usize << m) {
                if s & bit != 0 {
                    continue;
                }
                let w = shapley_weight(s.count_ones() as usize, m);
                acc += (f(s | bit) - f(s)) * w;
            }
            acc
        })
        .collect()
}

/// Step 3: s_m = mean_i min(-log p(m_m)_i[y_i], -ln 1e-8) for every modality.
pub fn shapley_scores(contributions: &[Tensor], targets: &Tensor) -> Vec<f64> {
    let index = targets.to_kind(Kind::Int64).unsqueeze(1);
    contributions
        .iter()
        .map(|z| {
            let nll = -z.detach().log_softmax(-1, Kind::Double).gather(1, &index, false);
            nll.clamp_max(MAX_SAMPLE_SCORE).mean(Kind::Double).double_value(&[])
        })
        .collect()
}

/// Step 4: ratio_m = exp(M/(M-1) (mean_j s_j - s_m)).
pub fn relative_ratios(scores: &[f64]) -> Vec<f64> {
    let m = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / m;
    scores.iter().map(|&s| (m / (m - 1.0) * (mean - s)).exp()).collect()
}

/// Step 5: c = exp(alpha * min(opt - ratio, cap)), with the exponent kept at most 50.
pub fn coefficient(optimal: f64, ratio: f64, alpha: f64, cap: f64) -> f64 {
    let e = alpha * (optimal - ratio).min(cap);
    if e.is_nan() { 1.0 } else { e.min(MAX_EXPONENT).exp() }
}

/// Steps 4-5 and the running-average update, in the official order: ratio from this batch,
/// opt from the running averages *before* this batch, c_m, then S_m <- S_m (t-1)/t + s_m/t.
pub fn update_coefficients(state: &mut AgmState, scores: &[f64], alpha: f64, cap: f64) -> StepCoefficients {
    let ratio = relative_ratios(scores);
    let optimal = relative_ratios(&state.running);
    let coeff = optimal.iter().zip(&ratio).map(|(&o, &r)| coefficient(o, r, alpha, cap)).collect();
    state.iteration += 1;
    let t = state.iteration as f64;
    for (s_run, &s) in state.running.iter_mut().zip(scores) {
        *s_run = *s_run * (t - 1.0) / t + s / t;
    }
    StepCoefficients { ratio, optimal, coeff }
}

/// The gradient-scaling identity: value `x`, gradient `c` times the incoming gradient (the
/// official backward hook on `Modality_out`).
pub fn scale_gradient(x: &Tensor, c: f64) -> Tensor {
    let d = x.detach();
    &d + (x - &d) * c
}

/// Step 1: f(S) for every non-empty subset S, indexed by `mask - 1`. The full pass uses
/// `train`; the padded passes run the network in eval mode (with autograd when enabled).
pub fn subset_logits(model: &MultimodalModel, batch: &Batch, train: bool) -> Vec<Tensor> {
    let m = model.num_modalities();
    let full = (1usize << m) - 1;
    let present: Vec<Tensor> = (0..m).map(|i| model.encode(i, batch, false)).collect();
    let absent: Vec<Tensor> =
        (0..m).map(|i| model.encoders[i].forward_t(&batch.inputs[model.modalities[i]].zeros_like(), false)).collect();
    (1..=full)
        .map(|mask| {
            if mask == full && train {
                return model.forward_t(batch, true).logits;
            }
            let feats = (0..m)
                .map(|i| if mask >> i & 1 == 1 { present[i].shallow_clone() } else { absent[i].shallow_clone() })
                .collect();
            model.fuse(feats, false).logits
        })
        .collect()
}

/// Clips the global gradient norm of `params` to `max_norm` (PyTorch's `clip_grad_norm_`:
/// scale by max_norm / (norm + 1e-6) when that is below 1). Returns the norm before clipping.
pub fn clip_grad_norm(params: &[Tensor], max_norm: f64) -> f64 {
    harness_core::tch::no_grad(|| {
        let grads: Vec<Tensor> = params.iter().map(|p| p.grad()).filter(|g| g.defined()).collect();
        let total = grads
            .iter()
            .map(|g| g.to_kind(Kind::Double).square().sum(Kind::Double).double_value(&[]))
            .sum::<f64>()
            .sqrt();
        let coef = max_norm / (total + 1e-6);
        if coef < 1.0 {
            for mut g in grads {
                let _ = g.g_mul_scalar_(coef);
            }
        }
        total
    })
}

/// Whether any element of a fusion weight gradient is outside [-trigger, trigger].
fn clip_triggered(ctx: &TrainContext<'_>, trigger: f64) -> bool {
    ctx.params.under("fusion").iter().filter(|p| p.dim() >= 2).any(|p| {
        let g = p.grad();
        g.defined() && g.abs().max().double_value(&[]) > trigger
    })
}

impl Agm {
    /// Builds the method from its options, checking their ranges.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: AgmConfig = parse_options(CONTEXT, options)?;
        let check = |ok: bool, msg: String| if ok { Ok(()) } else { Err(Error::config(CONTEXT, msg)) };
        check(config.alpha.is_finite() && config.alpha >= 0.0, format!("alpha = {}, expected >= 0", config.alpha))?;
        check(!config.cap.is_nan(), "cap must be a number (use inf for no cap)".into())?;
        check(
            config.clip_norm.is_finite() && config.clip_norm > 0.0,
            format!("clip-norm = {}, expected > 0", config.clip_norm),
        )?;
        check(config.clip_trigger >= 0.0, format!("clip-trigger = {}, expected >= 0", config.clip_trigger))?;
        check(
            config.modulation_starts <= config.modulation_ends,
            format!(
                "modulation-starts = {} is after modulation-ends = {}",
                config.modulation_starts, config.modulation_ends
            ),
        )?;
        Ok(Agm { config, state: None })
    }

    /// The resolved configuration.
    pub fn config(&self) -> &AgmConfig {
        &self.config
    }

    /// Whether harness epoch `epoch` (0-based) is inside the official 1-based window.
    fn in_window(&self, epoch: usize) -> bool {
        let official = epoch + 1;
        self.config.modulation_starts <= official && official <= self.config.modulation_ends
    }
}

impl Method for Agm {
    fn requirements(&self) -> Requirements {
        Requirements { classification_only: true, modalities: (2, 3), ..Default::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let m = ctx.model.num_modalities();
        // Steps 1-2: padded forwards and Shapley logits.
        let contributions = shapley_logits(&subset_logits(ctx.model, batch, true), m);
        // Steps 3-5: scores, ratios, coefficients, then the running averages.
        let scores = shapley_scores(&contributions, &batch.targets);
        let active = self.in_window(ctx.epoch);
        let state = self.state.get_or_insert_with(|| AgmState::new(m));
        let step = update_coefficients(state, &scores, self.config.alpha, self.config.cap);
        // Step 6: set the hook scales inside the window; never reset them afterwards.
        if active {
            state.scales.clone_from(&step.coeff);
        }
        // Step 7: CE on the sum of gradient-scaled Shapley terms, backward, clip, step.
        let fused = contributions
            .iter()
            .zip(&state.scales)
            .map(|(mm, &c)| scale_gradient(mm, c))
            .reduce(|a, b| a + b)
            .ok_or_else(|| Error::Incompatible("method `agm` needs at least one modality".into()))?;
        let loss = ctx.task_loss(&fused, &batch.targets);
        ctx.optimizer.zero_grad()?;
        loss.backward();
        let clipped = clip_triggered(ctx, self.config.clip_trigger);
        if clipped {
            let params: Vec<Tensor> = ctx.params.all.iter().map(|(_, t)| t.shallow_clone()).collect();
            clip_grad_norm(&params, self.config.clip_norm);
        }
        ctx.optimizer.step();
        for (i, name) in ctx.model.names.iter().enumerate() {
            ctx.trace.record("agm-score", name, scores[i]);
            ctx.trace.record("agm-ratio", name, step.ratio[i]);
            ctx.trace.record("agm-optimal-ratio", name, step.optimal[i]);
            ctx.trace.record("agm-coefficient", name, state.scales[i]);
        }
        ctx.trace.record("agm-clipped", "all", if clipped { 1.0 } else { 0.0 });
        Ok(StepStats { loss: loss.double_value(&[]) })
    }

    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let m = ctx.model.num_modalities();
        let f = subset_logits(ctx.model, batch, false);
        let fused = f[f.len() - 1].shallow_clone();
        let heads = shapley_logits(&f, m).into_iter().map(Some).collect();
        Ok(Prediction { fused, heads })
    }
}

harness_core::register_method!(
    "agm",
    "AGM (ICCV'23): Shapley zero-padding contributions with adaptive gradient scales (any fusion, M = 2 or 3)",
    Agm
);

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::tch::Device;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v).view([1, v.len() as i64])
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
    }

    fn values(x: &Tensor) -> Vec<f32> {
        Vec::try_from(x.flatten(0, -1)).unwrap()
    }

    #[test]
    fn two_way_shapley_logits_match_the_official_formula() {
        // Subsets by mask: 1 = {a}: f(a,0) = [1, 2]; 2 = {v}: f(0,v) = [3, -1]; 3: f(a,v) = [5, 0].
        // m_a = (f(a,v) - f(0,v) + f(a,0)) / 2 = ([5,0] - [3,-1] + [1,2]) / 2 = [1.5, 1.5];
        // m_v = (f(a,v) - f(a,0) + f(0,v)) / 2 = ([5,0] - [1,2] + [3,-1]) / 2 = [3.5, -1.5].
        let f = [t(&[1.0, 2.0]), t(&[3.0, -1.0]), t(&[5.0, 0.0])];
        let m = shapley_logits(&f, 2);
        assert_eq!(values(&m[0]), vec![1.5, 1.5]);
        assert_eq!(values(&m[1]), vec![3.5, -1.5]);
        assert_eq!(values(&(&m[0] + &m[1])), vec![5.0, 0.0]);
    }

    #[test]
    fn three_way_shapley_logits_match_the_official_urfunny_formula() {
        // Bits a = 1, v = 2, t = 4; f(a)=1, f(v)=2, f(a,v)=8, f(t)=4, f(a,t)=16, f(v,t)=32, f(a,v,t)=64.
        // Official Modality_Audio: (f(avt) - f(vt) + f(a))/3 + (f(at) - f(t) + f(av) - f(v))/6
        //   = (64 - 32 + 1)/3 + (16 - 4 + 8 - 2)/6 = 11 + 3 = 14.
        // Modality_Visual: (64 - f(at) + f(v))/3 + (f(vt) - f(a) + f(av) - f(t))/6
        //   = 50/3 + 35/6 = 22.5.
        // Modality_Text: (64 - f(av) + f(t))/3 + (f(at) - f(v) + f(vt) - f(a))/6 = 20 + 45/6 = 27.5.
        let f: Vec<Tensor> = [1.0f32, 2.0, 8.0, 4.0, 16.0, 32.0, 64.0].iter().map(|&v| t(&[v])).collect();
        let m = shapley_logits(&f, 3);
        let got: Vec<f32> = m.iter().map(|x| values(x)[0]).collect();
        for (g, e) in got.iter().zip([14.0f32, 22.5, 27.5]) {
            assert!((g - e).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn scores_are_mean_nll_clamped_at_1e8() {
        // Audio: sample 0 logits [0, ln3], label 1 -> -log(3/4) = 0.28768207; sample 1 logits
        // [-30, 0], label 0 -> -log p = 30 > -ln(1e-8) = 18.42068074, clamped. Mean = 9.35418141.
        // Visual: zero logits -> ln 2 for both samples.
        let ln3 = 3f32.ln();
        let za = Tensor::from_slice(&[0.0, ln3, -30.0, 0.0]).view([2, 2]);
        let zv = Tensor::zeros([2, 2], (Kind::Float, Device::Cpu));
        let s = shapley_scores(&[za, zv], &Tensor::from_slice(&[1i64, 0]));
        assert!((s[0] - 9.354_181_408_202_074).abs() < 1e-6, "{s:?}");
        assert!((s[1] - std::f64::consts::LN_2).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn ratio_is_exp_of_scaled_gap_to_the_mean() {
        // M = 2: factor 2; s = [1, 2], mean 1.5 -> [exp(1), exp(-1)].
        let r = relative_ratios(&[1.0, 2.0]);
        close(r[0], 1f64.exp());
        close(r[1], (-1f64).exp());
        // M = 3: factor 3/2; s = [1, 2, 3], mean 2 -> [exp(1.5), 1, exp(-1.5)].
        let r = relative_ratios(&[1.0, 2.0, 3.0]);
        close(r[0], 1.5f64.exp());
        close(r[1], 1.0);
        close(r[2], (-1.5f64).exp());
    }

    #[test]
    fn coefficients_use_running_averages_from_before_the_update() {
        let mut st = AgmState::new(2);
        // Iteration 1: s = [1, 2] -> ratio = [e, 1/e]; S = [0, 0] -> opt = [1, 1];
        // c = [exp(1 - e), exp(1 - 1/e)] = [0.17937408, 1.88159639]; then S = [1, 2].
        let c1 = update_coefficients(&mut st, &[1.0, 2.0], 1.0, 10.0);
        close(c1.optimal[0], 1.0);
        close(c1.coeff[0], 0.179_374_078_734_017_2);
        close(c1.coeff[1], 1.881_596_387_531_645_5);
        assert_eq!(st.running, vec![1.0, 2.0]);
        // Iteration 2: s = [2, 2] -> ratio = [1, 1]; opt from S = [1, 2] (not yet updated) is
        // [e, 1/e]; c = [exp(e - 1), exp(1/e - 1)] = [5.57494152, 0.53146361];
        // then S = [1 * 1/2 + 2/2, 2 * 1/2 + 2/2] = [1.5, 2].
        let c2 = update_coefficients(&mut st, &[2.0, 2.0], 1.0, 10.0);
        close(c2.ratio[0], 1.0);
        close(c2.optimal[0], 1f64.exp());
        close(c2.coeff[0], 5.574_941_524_760_88);
        close(c2.coeff[1], 0.531_463_605_386_615_6);
        assert_eq!(st.running, vec![1.5, 2.0]);
        assert_eq!(st.iteration, 2);
    }

    #[test]
    fn coefficient_exponent_is_capped() {
        // alpha = 2, gap = 3 but cap = 0.5 -> exp(2 * 0.5) = e.
        close(coefficient(4.0, 1.0, 2.0, 0.5), 1f64.exp());
        // Negative gaps are not capped: exp(2 * -1).
        close(coefficient(1.0, 2.0, 2.0, 0.5), (-2f64).exp());
        // No cap and a huge gap stays finite.
        assert!(coefficient(1e9, 0.0, 1.0, f64::INFINITY).is_finite());
    }

    #[test]
    fn scale_gradient_keeps_the_value_and_scales_the_gradient() {
        let x = Tensor::from_slice(&[1.5f32, -2.0]).set_requires_grad(true);
        let y = scale_gradient(&(&x * 1.0), 22026.0);
        assert_eq!(values(&y.detach()), vec![1.5, -2.0]);
        y.sum(Kind::Float).backward();
        assert_eq!(values(&x.grad()), vec![22026.0, 22026.0]);
    }

    #[test]
    fn clip_grad_norm_scales_to_max_norm() {
        let p = Tensor::from_slice(&[0.0f32, 0.0]).set_requires_grad(true);
        (&p * Tensor::from_slice(&[3.0f32, 4.0])).sum(Kind::Float).backward();
        let n = clip_grad_norm(std::slice::from_ref(&p), 1.0);
        close(n, 5.0);
        let g = values(&p.grad());
        assert!((g[0] - 0.6).abs() < 1e-5 && (g[1] - 0.8).abs() < 1e-5, "{g:?}");
    }

    #[test]
    fn options_default_to_crema_d_and_reject_bad_values() {
        let a = Agm::from_options(&Options::new()).unwrap();
        assert_eq!(a.config(), &AgmConfig::default());
        assert!(a.in_window(0) && a.in_window(19) && !a.in_window(20));
        let a = Agm::from_options(&toml::from_str("cap = inf\nalpha = 2.5").unwrap()).unwrap();
        assert!(a.config().cap.is_infinite());
        assert_eq!(Agm::from_options(&a.options()).unwrap().config(), a.config());
        for bad in ["alpha = -1.0", "clip-norm = 0.0", "modulation-starts = 9\nmodulation-ends = 3", "beta = 1"] {
            assert!(Agm::from_options(&toml::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
