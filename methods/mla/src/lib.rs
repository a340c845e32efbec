//! # MLA: Multimodal Learning with Alternating unimodal adaptation
//!
//! Every modality's encoder feeds one **shared** linear head h = Linear(D, C). Each training step
//! runs one forward of all encoders and then, modality by modality in a fixed order, a full
//! unimodal update: CE(h(f_m), y), backward, the OWM projection of the head's weight gradient,
//! an optimizer step and zero grad. The next modality's logits therefore use the head the
//! previous modality just updated, while the projection keeps that update out of the directions
//! the earlier modalities' features span (the "gradient modification" that stops the shared head
//! from forgetting). At inference the shared-head logits of the modalities are fused with
//! per-sample entropy weights.
//!
//! - Paper: Zhang, Latham, Yao, "Multimodal Representation Learning by Alternating Unimodal
//!   Adaptation", CVPR 2024.
//! - Official code: Cecile-hi/Multimodal-Learning-with-Alternating-Unimodal-Adaptation,
//!   `main.py` (`train_epoch` with `gs_flag`, `valid`, `calculate_gating_weights*`) and
//!   `utils/utils.py` (`GSPlugin.before_update`).
//! - Spec: specs/methods.md section 9 (and section 0 for the shared conventions).
//!
//! # Algorithm (per step, spec section 9)
//! 1. f_m = enc_m(x_m) for every modality (one forward, training mode).
//! 2. For m in the model's modality order: loss_m = CE(h(f_m), y); backward; if this is not the
//!    very first update of the run, update P with r = mean_batch(f_m) and
//!    alpha = 0.1^(1 + batch_idx / len(loader)):
//!    k = P r^T, P <- P - k k^T / (alpha + r k), P <- P / ||P||_F, and project the head's weight
//!    gradient G <- G P^T; optimizer step; zero grad.
//! 3. P starts as I_D and persists across the whole run (one P shared by all modalities).
//!
//! # Options (defaults from the official `main.py` argparse, CREMA-D)
//! - `fusion-rule` = `"dynamic"` (default) or `"fixed"`. Dynamic: w_m(x) ∝ exp(H_max(x) -
//!   H_m(x)) with H_m the entropy of softmax(h(f_m(x))); fixed: `fixed-weights`.
//! - `fixed-weights`: one weight per modality for the fixed rule; default 0.5/0.5 for two
//!   modalities (`av_alpha = 0.5`), 0.35/0.25/0.4 for three (`a_alpha`, `v_alpha`, `t_alpha`),
//!   uniform otherwise.
//! - `projection` = `true` (default): apply the OWM projection. `false` reproduces what the
//!   official code actually runs (see the deviations).
//!
//! Learning rate, epochs, batch size and optimizer come from the suite (official CREMA-D: SGD
//! lr 1e-3, momentum 0.9, wd 1e-4, StepLR(70, 0.1), bs 64, 100 epochs).
//!
//! # Deviations from the official code
//! - **The projection actually runs.** The official `before_update` only fires for a parameter
//!   named `module.weight`, but it is handed a bare `nn.Linear`, whose weight is named `weight`,
//!   so the official code never projects and never updates P. We project (option
//!   `projection = false` restores the official behaviour).
//! - **The OWM denominator is the scalar alpha + r·k** (the OWM recursive-least-squares update,
//!   as in the spec). The official (dead) line writes `alpha + torch.mm(k, r)`, a D x D outer
//!   product divided elementwise.
//! - **Per-sample entropy weights.** The official `calculate_entropy` takes the softmax over
//!   dim=0 of the whole `[B, C]` logits and sums over everything, giving one weight per batch
//!   (so a sample's fused prediction depends on its batch). We compute the entropy of each
//!   sample's class distribution and weight each sample separately (as BalanceBenchmark does),
//!   with `log_softmax` instead of `log(softmax)` so a saturated softmax cannot give 0·(-inf) =
//!   NaN. The normalised weights exp(H_max - H_m) / sum_j exp(H_max - H_j) equal softmax_m(-H_m).
//! - **Any number of modalities** in the model's order (the official code handles two, or three
//!   with `--modal3`).
//! - zero grad sets gradients to None (PyTorch 2), so the modalities not being updated get no
//!   momentum/weight-decay update at a sub-step; with torch < 2 the official code's zeroed
//!   gradients would still let momentum and weight decay move them (spec section 9 gotcha).
//! - The reported step loss is the mean of the modality losses (the official logs
//!   `av_alpha·loss_a + (1 - av_alpha)·loss_v`).
//! - The model's own fusion head is built by the harness but unused: training and inference go
//!   through the shared head, so MLA works with any `fusion` setting (its parameters never get a
//!   gradient and are never updated).
//! - Model selection uses validation accuracy (the official keeps the best test epoch).
//!
//! # Traces
//! - `mla-loss` per modality: the epoch mean of CE(h(f_m), y) at that modality's sub-step.
//! - `mla-projection-ratio` per modality: ||G P^T||_F / ||G||_F of the head's weight gradient,
//!   which shows that the projection fires.

use harness_core::data::{Batch, Task};
use harness_core::method::{EvalContext, Method, Prediction, Requirements, SetupContext, StepStats, TrainContext};
use harness_core::optim::Optimizer;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn};

const CONTEXT: &str = "options of method `mla`";

/// How the shared-head logits of the modalities are fused at inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FusionRule {
    /// Per-sample entropy weights w_m ∝ exp(H_max - H_m) (official `--dynamic`, fixed to be
    /// per sample).
    #[default]
    Dynamic,
    /// Fixed weights (`fixed-weights`).
    Fixed,
}

/// Options of `mla`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MlaConfig {
    /// Inference fusion rule.
    #[serde(default)]
    pub fusion_rule: FusionRule,
    /// Weights of the fixed rule, one per modality; `None` uses the official defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_weights: Option<Vec<f64>>,
    /// Whether to apply the OWM projection to the shared head's weight gradient.
    #[serde(default = "default_true")]
    pub projection: bool,
}

fn default_true() -> bool {
    true
}

impl Default for MlaConfig {
    fn default() -> Self {
        MlaConfig { fusion_rule: FusionRule::Dynamic, fixed_weights: None, projection: true }
    }
}

/// The official fixed fusion weights for `m` modalities: 0.5/0.5 (`av_alpha`), 0.35/0.25/0.4
/// (`a_alpha`, `v_alpha`, `t_alpha`), uniform otherwise.
pub fn default_fixed_weights(m: usize) -> Vec<f64> {
    match m {
        2 => vec![0.5, 0.5],
        3 => vec![0.35, 0.25, 0.4],
        _ => vec![1.0 / m.max(1) as f64; m],
    }
}

/// The OWM projector P (spec section 9): starts as I_D, persists across the run, and is shared
/// by every modality's sub-step.
#[derive(Debug)]
pub struct Projector {
    p: Tensor,
    updates: usize,
}

impl Projector {
    /// P = I_D on `device`, with no update seen yet.
    pub fn new(dim: i64, device: Device) -> Self {
        Projector { p: Tensor::eye(dim, (Kind::Float, device)), updates: 0 }
    }

    /// The current P.
    pub fn matrix(&self) -> &Tensor {
        &self.p
    }

    /// alpha = 0.1^(1 + batch_idx / len(loader)) (official `lamda = batch_index / len + 1`).
    pub fn alpha(batch_idx: usize, batches: usize) -> f64 {
        0.1f64.powf(1.0 + batch_idx as f64 / batches.max(1) as f64)
    }

    /// One OWM update: with k = P r^T, P' = P - k k^T / (alpha + r k), returned divided by its
    /// Frobenius norm. `r` is `[1, D]`. A degenerate result (zero or non-finite norm) keeps P.
    pub fn updated(p: &Tensor, r: &Tensor, alpha: f64) -> Tensor {
        let k = p.mm(&r.tr()); // [D, 1]
        let denom = r.mm(&k) + alpha; // [1, 1], >= alpha since P stays positive semi-definite
        let next = p - k.mm(&k.tr()) / denom;
        let norm = next.norm().double_value(&[]);
        if norm.is_finite() && norm > 0.0 { next / norm } else { p.shallow_clone() }
    }

    /// The official `before_update`, called after a sub-step's backward: skipped on the very
    /// first call of the run; otherwise updates P with the batch mean of `features` and replaces
    /// the gradient G of `weight` (`[C, D]`) by G P^T. Returns ||G P^T|| / ||G|| when it projected.
    pub fn before_update(&mut self, weight: &Tensor, features: &Tensor, alpha: f64) -> Option<f64> {
        let first = self.updates == 0;
        self.updates += 1;
        if first {
            return None;
        }
        tch::no_grad(|| {
            let r = features.detach().to_kind(Kind::Float).mean_dim(0, true, Kind::Float);
            self.p = Self::updated(&self.p, &r, alpha);
            let mut g = weight.grad();
            if !g.defined() {
                return None;
            }
            let before = g.norm().double_value(&[]);
            let projected = g.mm(&self.p.tr());
            let after = projected.norm().double_value(&[]);
            g.copy_(&projected);
            Some(if before > 0.0 { after / before } else { 0.0 })
        })
    }
}

/// What one modality's sub-step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubStep {
    /// The modality's loss CE(h(f_m), y), with the head as it was at this sub-step.
    pub loss: f64,
    /// ||G P^T|| / ||G|| when the projection ran.
    pub projection_ratio: Option<f64>,
}

/// Step 2 of the algorithm: for each modality in order, loss on the shared head, backward,
/// projection, optimizer step, zero grad. `after(m)` is called once modality `m`'s update is
/// applied (tests use it to watch the parameters move). Features must come from one forward.
#[allow(clippy::too_many_arguments)]
pub fn alternating_update(
    head: &nn::Linear,
    features: &[Tensor],
    targets: &Tensor,
    task: Task,
    optimizer: &mut Optimizer,
    mut projector: Option<&mut Projector>,
    alpha: f64,
    mut after: impl FnMut(usize),
) -> Result<Vec<SubStep>> {
    let mut out = Vec::with_capacity(features.len());
    optimizer.zero_grad()?;
    for (m, f) in features.iter().enumerate() {
        // The head's current (already updated by the previous modalities) weights.
        let logits = f.apply(head);
        let loss = harness_core::method::task_loss(task, &logits, targets);
        let value = loss.double_value(&[]);
        if !value.is_finite() {
            return Err(Error::Diverged(format!("MLA loss {value} at modality {m}")));
        }
        loss.backward();
        let projection_ratio = projector.as_deref_mut().and_then(|p| p.before_update(&head.ws, f, alpha));
        optimizer.step();
        optimizer.zero_grad()?;
        after(m);
        out.push(SubStep { loss: value, projection_ratio });
    }
    Ok(out)
}

/// Per-sample entropy-weighted fusion of `[B, C]` logits (spec section 9, "Dynamic"):
/// H_m = -sum_c p_m log p_m, w_m = exp(H_max - H_m) / sum_j exp(H_max - H_j), z = sum_m w_m z_m.
/// Returns the fused logits and the weights `[M, B]`.
pub fn entropy_fusion(logits: &[Tensor]) -> (Tensor, Tensor) {
    let z = Tensor::stack(logits, 0).to_kind(Kind::Float); // [M, B, C]
    let logp = z.log_softmax(-1, Kind::Float);
    let entropy = -(logp.exp() * &logp).sum_dim_intlist(-1, false, Kind::Float); // [M, B]
    // exp(H_max - H_m) normalised over m is softmax over m of -H_m (shift-invariant, stable).
    let weights = (-entropy).softmax(0, Kind::Float);
    let fused = (&z * weights.unsqueeze(-1)).sum_dim_intlist(0, false, Kind::Float);
    (fused, weights)
}

/// Fixed-weight fusion: z = sum_m w_m z_m.
pub fn fixed_fusion(logits: &[Tensor], weights: &[f64]) -> Tensor {
    logits.iter().zip(weights).map(|(z, &w)| z * w).reduce(|a, b| a + b).expect("at least one modality")
}

/// MLA: alternating unimodal updates through a shared head.
#[derive(Debug)]
pub struct Mla {
    config: MlaConfig,
    head: Option<nn::Linear>,
    projector: Option<Projector>,
    fixed_weights: Vec<f64>,
}

impl Mla {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: MlaConfig = parse_options(CONTEXT, options)?;
        if let Some(w) = &config.fixed_weights
            && (w.is_empty() || w.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::config(CONTEXT, "fixed-weights must be a non-empty list of finite numbers"));
        }
        Ok(Mla { config, head: None, projector: None, fixed_weights: Vec::new() })
    }

    fn head(&self) -> Result<&nn::Linear> {
        self.head.as_ref().ok_or_else(|| Error::config("method `mla`", "used before setup"))
    }
}

impl Method for Mla {
    fn requirements(&self) -> Requirements {
        Requirements { classification_only: true, ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn setup(&mut self, ctx: &mut SetupContext<'_>) -> Result<()> {
        let model = ctx.model;
        let dims: Vec<i64> = model.encoders.iter().map(|e| e.out_dim()).collect();
        if dims.windows(2).any(|w| w[0] != w[1]) {
            let list: Vec<String> = model.names.iter().zip(&dims).map(|(n, d)| format!("{n}: {d}")).collect();
            return Err(Error::Incompatible(format!(
                "method `mla` shares one head across modalities, so every encoder must output the same feature \
                 dimension, got {}; set the encoders' output dimension (e.g. `out-dim`) to one value",
                list.join(", ")
            )));
        }
        let m = model.num_modalities();
        self.fixed_weights = match &self.config.fixed_weights {
            Some(w) if w.len() != m => {
                return Err(Error::config(
                    CONTEXT,
                    format!("fixed-weights has {} entries but the model has {m} modalities", w.len()),
                ));
            }
            Some(w) => w.clone(),
            None => default_fixed_weights(m),
        };
        let d = dims[0];
        // Official `fc_out = nn.Linear(512, C)` with `weight_init` (Xavier normal, zero bias).
        self.head = Some(harness_core::init::linear(&ctx.path / "head", d, model.task.outputs()));
        self.projector = Some(Projector::new(d, ctx.path.device()));
        Ok(())
    }

    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let head = self.head.as_ref().ok_or_else(|| Error::config("method `mla`", "used before setup"))?;
        let features = ctx.model.features(batch, true);
        let alpha = Projector::alpha(ctx.step, ctx.steps_per_epoch);
        let projector = if self.config.projection { self.projector.as_mut() } else { None };
        let steps = alternating_update(
            head,
            &features,
            &batch.targets,
            ctx.model.task,
            ctx.optimizer,
            projector,
            alpha,
            |_| {},
        )?;
        for (name, s) in ctx.model.names.iter().zip(&steps) {
            ctx.trace.record("mla-loss", name, s.loss);
            if let Some(r) = s.projection_ratio {
                ctx.trace.record("mla-projection-ratio", name, r);
            }
        }
        let loss = steps.iter().map(|s| s.loss).sum::<f64>() / steps.len().max(1) as f64;
        Ok(StepStats { loss })
    }

    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let head = self.head()?;
        let logits: Vec<Tensor> = ctx.model.features(batch, false).iter().map(|f| f.apply(head)).collect();
        let fused = match self.config.fusion_rule {
            FusionRule::Dynamic => entropy_fusion(&logits).0,
            FusionRule::Fixed => fixed_fusion(&logits, &self.fixed_weights),
        };
        Ok(Prediction { fused, heads: logits.into_iter().map(Some).collect() })
    }
}

harness_core::register_method!(
    "mla",
    "MLA (CVPR'24): alternating unimodal updates of a shared head with OWM gradient projection; entropy-weighted fusion (any M)",
    Mla
);

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::optim::OptimizerConfig;

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    fn scalar(x: &Tensor) -> f64 {
        x.double_value(&[])
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }

    #[test]
    fn modalities_update_in_order_and_the_second_sees_the_updated_head() {
        // Two one-weight "encoders" f_m = e_m x_m (e_a = e_v = 1, x_a = x_v = 1), a shared head
        // with W = [[1], [-1]], b = 0, two classes, label 0; plain SGD with lr 1.
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let e_a = root.var("e_a", &[1], nn::Init::Const(1.0));
        let e_v = root.var("e_v", &[1], nn::Init::Const(1.0));
        let head = nn::linear(&root / "head", 1, 2, Default::default());
        tch::no_grad(|| {
            head.ws.shallow_clone().copy_(&t(&[1.0, -1.0], &[2, 1]));
            let _ = head.bs.as_ref().unwrap().shallow_clone().zero_();
        });
        let sgd = OptimizerConfig::Sgd { lr: 1.0, momentum: 0.0, weight_decay: 0.0 };
        let params = vec![
            e_a.shallow_clone(),
            e_v.shallow_clone(),
            head.ws.shallow_clone(),
            head.bs.as_ref().unwrap().shallow_clone(),
        ];
        let mut opt = Optimizer::new(sgd, params).unwrap();
        let x = t(&[1.0], &[1, 1]);
        let features = vec![&x * &e_a, &x * &e_v];
        let y = Tensor::from_slice(&[0i64]);
        let mut projector = Projector::new(1, Device::Cpu);
        let mut seen = Vec::new();
        let steps = alternating_update(
            &head,
            &features,
            &y,
            Task::Classification { classes: 2 },
            &mut opt,
            Some(&mut projector),
            0.1,
            |m| seen.push((m, scalar(&e_a), scalar(&e_v), scalar(&head.ws.get(0).get(0)))),
        )
        .unwrap();
        // Sub-step 0 (audio): logits [1, -1], loss = ln(1 + e^-2) = 0.126928; q = sigmoid(-2) =
        // 0.119203; dz = [-q, q], so e_a <- 1 + 2q = 1.238406, W00 <- 1 + q = 1.119203, b0 <- q.
        // The visual weight has no gradient yet and stays 1.
        close(steps[0].loss, 0.126928);
        assert_eq!(steps[0].projection_ratio, None, "the very first update is not projected");
        assert_eq!(seen[0].0, 0);
        close(seen[0].1, 1.238406);
        close(seen[0].2, 1.0);
        close(seen[0].3, 1.119203);
        // Sub-step 1 (visual) uses the UPDATED head: logits [1 + 2q, -(1 + 2q)] = ±1.238406, so
        // loss = ln(1 + e^(-2·1.238406)) = 0.080668 (with the old head it would be 0.126928).
        // q2 = sigmoid(-2.476812) = 0.077500; e_v <- 1 + 2 W00 q2 = 1.173476; W00 <- 1.196703.
        // In 1-D the normalised projector stays [1], so the gradient is unchanged (ratio 1), and
        // e_a is not touched at this sub-step.
        close(steps[1].loss, 0.080668);
        close(steps[1].projection_ratio.unwrap(), 1.0);
        assert_eq!(seen[1].0, 1);
        close(seen[1].1, 1.238406);
        close(seen[1].2, 1.173476);
        close(seen[1].3, 1.196703);
    }

    #[test]
    fn owm_projection_matches_the_hand_computed_update() {
        // P = I_2, r = [1, 1], alpha = 0.1: k = [1, 1]^T, r k = 2, k k^T = all ones, so
        // P' = I - ones / 2.1 = [[0.523810, -0.476190], [-0.476190, 0.523810]], whose Frobenius
        // norm is sqrt(2·0.523810² + 2·0.476190²) = 1.001133; P = P' / 1.001133 =
        // [[0.523216, -0.475650], [-0.475650, 0.523216]]. G = [[1, 0]] then becomes
        // G P^T = [[0.523216, -0.475650]].
        let p = Tensor::eye(2, (Kind::Float, Device::Cpu));
        let r = t(&[1.0, 1.0], &[1, 2]);
        let next = Projector::updated(&p, &r, 0.1);
        let expect = t(&[0.523216, -0.475650, -0.475650, 0.523216], &[2, 2]);
        assert!(next.allclose(&expect, 1e-5, 1e-5, false), "{next}");

        // The same through `before_update`: the first call only counts, the second projects.
        let w = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let mut proj = Projector::new(2, Device::Cpu);
        let feats = t(&[0.0, 2.0, 2.0, 0.0], &[2, 2]); // batch mean r = [1, 1]
        let backward = || (&w * t(&[1.0, 0.0], &[1, 2])).sum(Kind::Float).backward(); // G = [[1, 0]]
        backward();
        assert_eq!(proj.before_update(&w, &feats, 0.1), None);
        assert!(w.grad().allclose(&t(&[1.0, 0.0], &[1, 2]), 1e-6, 1e-6, false));
        assert!(proj.matrix().allclose(&Tensor::eye(2, (Kind::Float, Device::Cpu)), 1e-6, 1e-6, false));
        let _ = w.grad().zero_();
        backward();
        let ratio = proj.before_update(&w, &feats, 0.1).unwrap();
        assert!(w.grad().allclose(&t(&[0.523216, -0.475650], &[1, 2]), 1e-5, 1e-5, false), "{}", w.grad());
        close(ratio, (0.523216f64.powi(2) + 0.475650f64.powi(2)).sqrt());
    }

    #[test]
    fn alpha_decays_within_the_epoch() {
        close(Projector::alpha(0, 4), 0.1);
        close(Projector::alpha(2, 4), 0.1f64.powf(1.5));
    }

    #[test]
    fn entropy_weights_are_per_sample() {
        // Sample 0: z_a = [0, 0] (H = ln 2 = 0.693147), z_v = [ln 3, 0] (p = [0.75, 0.25],
        // H = 0.562335). w_a = 1 / (1 + e^(0.693147 - 0.562335)) = 0.467344, w_v = 0.532656;
        // fused = w_v · [ln 3, 0] = [0.585183, 0]. Sample 1 swaps the modalities, so the weights
        // swap (a per-batch entropy, as in the official code, would give both samples one pair).
        let ln3 = 3f32.ln();
        let za = t(&[0.0, 0.0, ln3, 0.0], &[2, 2]);
        let zv = t(&[ln3, 0.0, 0.0, 0.0], &[2, 2]);
        let (fused, w) = entropy_fusion(&[za, zv]);
        let expect_w = t(&[0.467344, 0.532656, 0.532656, 0.467344], &[2, 2]);
        assert!(w.allclose(&expect_w, 1e-5, 1e-5, false), "{w}");
        let expect = t(&[0.585183, 0.0, 0.585183, 0.0], &[2, 2]);
        assert!(fused.allclose(&expect, 1e-5, 1e-5, false), "{fused}");
    }

    #[test]
    fn saturated_logits_give_finite_entropy_weights() {
        let za = t(&[1000.0, -1000.0], &[1, 2]);
        let zv = t(&[0.0, 0.0], &[1, 2]);
        let (fused, w) = entropy_fusion(&[za, zv]);
        assert!(fused.isfinite().all().int64_value(&[]) == 1 && w.isfinite().all().int64_value(&[]) == 1);
        // H_a = 0, H_v = ln 2: w_a = 1 / (1 + e^-ln2) = 2/3.
        close(scalar(&w.get(0).get(0)), 2.0 / 3.0);
    }

    #[test]
    fn fixed_weights_follow_the_official_defaults() {
        assert_eq!(default_fixed_weights(2), vec![0.5, 0.5]);
        assert_eq!(default_fixed_weights(3), vec![0.35, 0.25, 0.4]);
        let z = fixed_fusion(&[t(&[2.0], &[1, 1]), t(&[4.0], &[1, 1]), t(&[1.0], &[1, 1])], &default_fixed_weights(3));
        close(scalar(&z.view([-1]).get(0)), 0.35 * 2.0 + 0.25 * 4.0 + 0.4);
    }

    #[test]
    fn options_parse_and_reject_unknown_keys() {
        let opts: Options = toml::from_str("fusion-rule = \"fixed\"\nprojection = false").unwrap();
        let m = Mla::from_options(&opts).unwrap();
        assert_eq!(m.config.fusion_rule, FusionRule::Fixed);
        assert!(!m.config.projection);
        let err = Mla::from_options(&toml::from_str("fusion = \"fixed\"").unwrap()).unwrap_err();
        assert!(err.to_string().contains("fusion-rule"), "{err}");
        assert!(Mla::from_options(&toml::from_str("fixed-weights = []").unwrap()).is_err());
    }
}
