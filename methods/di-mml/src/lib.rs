//! # DI-MML: detached and interactive multimodal learning
//!
//! Stage 1 trains the two modalities *detached*: each encoder has its own classifier h_m, and
//! a classifier g shared by both modalities aligns their feature spaces. After `dim-epoch`
//! epochs the feature dimensions are split, once, into those that only audio separates well and
//! those that only visual does, and a dimension-decoupled unidirectional contrastive loss pulls
//! each modality toward the other on the other's "own" dimensions. Stage 2 freezes both encoders
//! and trains a fresh concatenation fusion head on top.
//!
//! - Paper: Fan et al., "Detached and Interactive Multimodal Learning", ACM MM 2024.
//! - Official code: fanyunfeng-bit/DI-MML, `main_CFT.py` (stage 1, `get_indices`),
//!   `loss/contrast_loss.py` (`SupConLoss`), `main_CFT_stage2.py` (stage 2), `run.sh`.
//! - Spec: specs/methods.md section 12 (and section 0).
//!
//! # Algorithm (spec section 12)
//! **Stage 1** (the first E - `stage2-epochs` epochs), per step with f_a, f_v the features:
//!
//!   L = CE(h_a(f_a), y) + CE(h_v(f_v), y) + w·(CE(g(f_a), y) + CE(g(f_v), y)) + [epoch >= dim-epoch]·L_dim
//!
//! **Dimension split** (once, at the start of epoch `dim-epoch`, eval mode, whole training
//! split): class centroids c_m[k] of each modality; for every sample and dimension d, is the
//! 1-D nearest centroid |f_m[d] - c_m[k][d]| the label? A dimension is "top" for m when that
//! accuracy exceeds its mean over dimensions; A-only = top_a \ top_v, V-only = top_v \ top_a.
//!
//! **L_dim** (temperature T): with S = v[:, A-only] · a[:, A-only].detach()^T / T (`[B, B]`),
//! L_v = mean_i -log softmax_j(S_i)[i] pulls v_i toward a_i on audio's dimensions with the
//! batch's a_j as negatives; L_a is the same with the roles swapped on V-only; L_dim = L_v + L_a.
//!
//! **Stage 2** (the last `stage2-epochs` epochs): the encoders run in eval mode under no_grad and
//! a fresh concat head Linear(2D, C) is trained with CE. The trainer's optimizer is replaced by
//! a fresh SGD over that head only (momentum 0.9, weight decay 1e-4, the suite's base learning
//! rate held constant: the official stage-2 script starts a new StepLR(70) for 20 epochs).
//!
//! # Options (defaults: official argparse and `run.sh`, CREMA-D)
//! - `weight` = 1: w of the shared-classifier terms.
//! - `temperature` = 50: T of L_dim (CREMA-D; AVE and UCF use 10, ModelNet 50).
//! - `dim-epoch`: epoch of the dimension split; unset by default, which uses
//!   `dim-epoch-fraction` = 20/170 of the run's epochs (at least 1): the official run splits at
//!   epoch 20 of 150 stage-1 epochs plus 20 stage-2 epochs.
//! - `stage2-epochs`: length of stage 2; unset by default, which uses `stage2-fraction` = 20/170
//!   of the run's epochs (at least 1 when the run has 2 epochs or more, and stage 1 always keeps
//!   one epoch).
//! - `stage2-inference` = `"concat"` (default: the concat head alone) or `"weighted"` (what the
//!   official stage-2 script reports: the h_a, h_v and concat logits weighted per sample by
//!   softmax over the three of max-softmax / `stage2-temperature`, default 1 as in `run.sh`).
//!
//! The learning rate, epochs, batch size and optimizer of stage 1 come from the suite (official
//! CREMA-D: SGD lr 1e-3, momentum 0.9, wd 1e-4, StepLR(70, 0.1), bs 16, 150 epochs).
//!
//! # Deviations from the official code
//! - **One run, two stages.** The official code runs stage 1 and stage 2 as two scripts over a
//!   saved checkpoint (whose choice is ill-defined: `epoch.pt` is overwritten whenever either
//!   unimodal test accuracy improves and every 10 epochs). Here stage 2 starts from the stage-1
//!   weights of the last stage-1 epoch, and the stage lengths scale with the run.
//! - **No NaN centroids.** The official centroids divide by the class count, giving 0/0 = NaN
//!   for a class absent from the training set (and NaN wins `argmin`). Absent classes are left
//!   out of the nearest-centroid test.
//! - **Vectorised.** The split uses one batched pass instead of a batch-size-1 loader, and
//!   L_dim is one cross-entropy over the `[B, B]` similarity matrix instead of a per-sample
//!   Python loop with `exp`/`log` (same value, without overflow for large similarities).
//! - An empty A-only (or V-only) set makes its term 0; the official code then adds the
//!   constant log B (an empty dot product), which has no gradient either.
//! - Before stage 2 the fused prediction is the mean of h_a and h_v logits (the official stage
//!   1 reports only unimodal accuracies). Model selection uses validation accuracy of the
//!   fused output over the whole run (the official keeps the best stage-2 *test* epoch).
//! - The unimodal classifiers h_m and g use PyTorch's default `nn.Linear` initialisation (the
//!   official stage-1 script does not apply `weight_init`); the stage-2 concat head uses
//!   Xavier-normal with zero bias (`model.apply(weight_init)`).
//! - The model's own fusion module is unused: DI-MML builds its heads in `setup`, so it works
//!   with any `fusion` setting.
//! - Whether stage 2 is active is a buffer `method.stage2` in the var store, so restoring the
//!   best epoch's weights also restores which head predicts.
//!
//! # Reported heads
//! Per modality: h_m(f_m). Fused: see above.
//!
//! # Traces
//! `di-mml-stage` (1 or 2), `di-mml-unimodal-loss` and `di-mml-shared-loss` per modality,
//! `di-mml-contrastive-loss` (key `dim`), `di-mml-dimensions` (keys `a-only`, `v-only`, at the
//! split epoch), `di-mml-fusion-loss` (key `concat`, stage 2).

use harness_core::data::{Batch, Split};
use harness_core::method::{EvalContext, Method, Prediction, Requirements, SetupContext, StepStats, TrainContext};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

const CONTEXT: &str = "options of method `di-mml`";
/// The official schedule: 150 stage-1 epochs with the split at epoch 20, then 20 stage-2 epochs.
const OFFICIAL_FRACTION: f64 = 20.0 / 170.0;
/// Samples per chunk of the nearest-centroid test (bounds the `[N, C, D]` distance tensor).
const SPLIT_CHUNK: i64 = 1024;

/// Which logits the fused output of stage 2 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage2Inference {
    /// The concat fusion head alone.
    #[default]
    Concat,
    /// The official stage-2 evaluation: h_a, h_v and concat logits weighted per sample.
    Weighted,
}

/// Options of `di-mml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct DiMmlConfig {
    /// Weight w of the shared-classifier terms.
    pub weight: f64,
    /// Temperature T of the dimension-decoupled contrastive loss.
    pub temperature: f64,
    /// Epoch (0-based) of the dimension split; `None` uses `dim-epoch-fraction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim_epoch: Option<usize>,
    /// The split epoch as a fraction of the run's epochs.
    pub dim_epoch_fraction: f64,
    /// Length of stage 2 in epochs; `None` uses `stage2-fraction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage2_epochs: Option<usize>,
    /// Length of stage 2 as a fraction of the run's epochs.
    pub stage2_fraction: f64,
    /// Fused output of stage 2.
    pub stage2_inference: Stage2Inference,
    /// Temperature of the `weighted` stage-2 inference.
    pub stage2_temperature: f64,
}

impl Default for DiMmlConfig {
    fn default() -> Self {
        DiMmlConfig {
            weight: 1.0,
            temperature: 50.0,
            dim_epoch: None,
            dim_epoch_fraction: OFFICIAL_FRACTION,
            stage2_epochs: None,
            stage2_fraction: OFFICIAL_FRACTION,
            stage2_inference: Stage2Inference::Concat,
            stage2_temperature: 1.0,
        }
    }
}

/// The stage lengths of a run, resolved from the options and the run's epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Epochs of stage 1 (stage 2 starts at this epoch).
    pub stage1_epochs: usize,
    /// Epoch of the dimension split (L_dim from this epoch on).
    pub dim_epoch: usize,
}

impl DiMmlConfig {
    /// Resolves the schedule for a run of `epochs` epochs.
    pub fn schedule(&self, epochs: usize) -> Result<Schedule> {
        let stage2 = match self.stage2_epochs {
            Some(n) if n >= epochs => {
                return Err(Error::config(
                    CONTEXT,
                    format!("stage2-epochs = {n} leaves no stage-1 epoch in a run of {epochs} epochs"),
                ));
            }
            Some(n) => n,
            None if epochs < 2 || self.stage2_fraction == 0.0 => 0,
            None => ((self.stage2_fraction * epochs as f64).round() as usize).clamp(1, epochs - 1),
        };
        let dim_epoch = match self.dim_epoch {
            Some(e) => e,
            None => ((self.dim_epoch_fraction * epochs as f64).round() as usize).max(1),
        };
        Ok(Schedule { stage1_epochs: epochs - stage2, dim_epoch })
    }
}

fn indices(mask: &Tensor) -> Tensor {
    mask.nonzero().view([-1])
}

/// The "top" dimensions of one modality: for features `[N, D]` and labels `[N]`, the 1-D
/// nearest-centroid accuracy of every dimension, and whether it exceeds the mean over
/// dimensions (`[D]` bool). Classes without a sample are left out.
pub fn top_dimensions(features: &Tensor, labels: &Tensor, classes: i64) -> Tensor {
    let f = features.to_kind(Kind::Float);
    let y = labels.to_kind(Kind::Int64);
    let onehot = y.one_hot(classes).to_kind(Kind::Float); // [N, C]
    let counts = onehot.sum_dim_intlist(0, false, Kind::Float); // [C]
    let present = counts.gt(0.0); // [C]
    let centroids = onehot.tr().mm(&f) / counts.clamp_min(1.0).unsqueeze(1); // [C, D]
    let absent = present.logical_not().unsqueeze(0).unsqueeze(2); // [1, C, 1]
    let n = f.size()[0];
    let mut correct = Tensor::zeros([f.size()[1]], (Kind::Float, f.device()));
    let mut start = 0;
    while start < n {
        let len = SPLIT_CHUNK.min(n - start);
        let fc = f.narrow(0, start, len);
        let dist = (fc.unsqueeze(1) - centroids.unsqueeze(0)).abs().masked_fill(&absent, f64::INFINITY); // [n, C, D]
        let nearest = dist.argmin(1, false); // [n, D]
        let hit = nearest.eq_tensor(&y.narrow(0, start, len).unsqueeze(1)).to_kind(Kind::Float);
        correct += hit.sum_dim_intlist(0, false, Kind::Float);
        start += len;
    }
    let accuracy = correct / n.max(1) as f64;
    accuracy.gt_tensor(&accuracy.mean(Kind::Float))
}

/// The dimension split of spec section 12: (A-only, V-only) dimension indices (`[k]` i64).
pub fn dimension_split(a: &Tensor, v: &Tensor, labels: &Tensor, classes: i64) -> (Tensor, Tensor) {
    let top_a = top_dimensions(a, labels, classes);
    let top_v = top_dimensions(v, labels, classes);
    (indices(&top_a.logical_and(&top_v.logical_not())), indices(&top_v.logical_and(&top_a.logical_not())))
}

/// One direction of L_dim: mean_i -log softmax_j(x_i[dims] · anchor_j[dims] / T)[i], with the
/// anchor detached. 0 when `dims` is empty.
pub fn unidirectional_contrastive(x: &Tensor, anchor: &Tensor, dims: &Tensor, temperature: f64) -> Tensor {
    if dims.numel() == 0 {
        return Tensor::zeros([], (Kind::Float, x.device()));
    }
    let xs = x.index_select(1, dims);
    let an = anchor.detach().index_select(1, dims);
    let logits = xs.mm(&an.tr()) / temperature; // [B, B]
    let b = logits.size()[0];
    logits.cross_entropy_for_logits(&Tensor::arange(b, (Kind::Int64, x.device())))
}

/// L_dim = L_v + L_a: v pulled toward a.detach() on the A-only dimensions and a toward
/// v.detach() on the V-only dimensions.
pub fn dim_contrastive_loss(a: &Tensor, v: &Tensor, a_only: &Tensor, v_only: &Tensor, temperature: f64) -> Tensor {
    unidirectional_contrastive(v, a, a_only, temperature) + unidirectional_contrastive(a, v, v_only, temperature)
}

/// The official stage-2 combination: w = softmax over {h_a, h_v, concat} of max-softmax / T,
/// per sample; z = sum_k w_k z_k.
pub fn weighted_stage2(logits: [&Tensor; 3], temperature: f64) -> Tensor {
    let conf: Vec<Tensor> = logits.iter().map(|z| z.softmax(-1, Kind::Float).amax([-1i64].as_slice(), false)).collect();
    let w = (Tensor::stack(&conf, 0) / temperature).softmax(0, Kind::Float); // [3, B]
    logits.iter().enumerate().map(|(k, z)| *z * w.get(k as i64).unsqueeze(1)).reduce(|a, b| a + b).expect("three")
}

#[derive(Debug)]
struct State {
    heads: [nn::Linear; 2],
    shared: nn::Linear,
    fusion: nn::Linear,
    /// `[1]` buffer, 1 once stage 2 started.
    stage2: Tensor,
    schedule: Schedule,
}

/// DI-MML.
#[derive(Debug)]
pub struct DiMml {
    config: DiMmlConfig,
    state: Option<State>,
    /// (A-only, V-only) dimensions, once computed.
    split: Option<(Tensor, Tensor)>,
}

impl DiMml {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: DiMmlConfig = parse_options(CONTEXT, options)?;
        let checks = [
            ("weight", config.weight, config.weight.is_finite()),
            ("temperature", config.temperature, config.temperature.is_finite() && config.temperature > 0.0),
            ("stage2-temperature", config.stage2_temperature, config.stage2_temperature > 0.0),
            ("dim-epoch-fraction", config.dim_epoch_fraction, (0.0..=1.0).contains(&config.dim_epoch_fraction)),
            ("stage2-fraction", config.stage2_fraction, (0.0..1.0).contains(&config.stage2_fraction)),
        ];
        if let Some((k, v, _)) = checks.iter().find(|c| !c.2) {
            return Err(Error::config(CONTEXT, format!("{k} = {v} is out of range")));
        }
        Ok(DiMml { config, state: None, split: None })
    }

    fn state(&self) -> Result<&State> {
        self.state.as_ref().ok_or_else(|| Error::config("method `di-mml`", "used before setup"))
    }

    fn in_stage2(&self) -> Result<bool> {
        Ok(self.state()?.stage2.double_value(&[0]) > 0.5)
    }

    /// The dimension split on the whole training split, encoders in eval mode.
    fn compute_split(&self, ctx: &TrainContext<'_>) -> Result<(Tensor, Tensor)> {
        let loader = ctx.eval_loader(Split::Train);
        let (mut a, mut v, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..loader.num_batches() {
            let batch = loader.load(ctx.dataset, i, ctx.device)?;
            tch::no_grad(|| {
                a.push(ctx.model.encode(0, &batch, false));
                v.push(ctx.model.encode(1, &batch, false));
            });
            y.push(batch.targets.to_device(ctx.device));
        }
        let classes = ctx.model.task.outputs();
        Ok(dimension_split(&Tensor::cat(&a, 0), &Tensor::cat(&v, 0), &Tensor::cat(&y, 0), classes))
    }

    fn stage1_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let s = self.state()?;
        let task = ctx.model.task;
        let feats = ctx.model.features(batch, true);
        let y = &batch.targets;
        let mut loss = Tensor::zeros([], (Kind::Float, ctx.device));
        for (m, f) in feats.iter().enumerate() {
            let uni = harness_core::method::task_loss(task, &f.apply(&s.heads[m]), y);
            let shared = harness_core::method::task_loss(task, &f.apply(&s.shared), y);
            ctx.trace.record("di-mml-unimodal-loss", &ctx.model.names[m], uni.double_value(&[]));
            ctx.trace.record("di-mml-shared-loss", &ctx.model.names[m], shared.double_value(&[]));
            loss = loss + uni + shared * self.config.weight;
        }
        if ctx.epoch >= s.schedule.dim_epoch
            && let Some((a_only, v_only)) = &self.split
        {
            let l_dim = dim_contrastive_loss(&feats[0], &feats[1], a_only, v_only, self.config.temperature);
            ctx.trace.record("di-mml-contrastive-loss", "dim", l_dim.double_value(&[]));
            loss += l_dim;
        }
        finish(ctx, &loss)
    }

    fn stage2_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let s = self.state()?;
        // Frozen encoders: eval mode, no graph (official `with torch.no_grad()`).
        let feats = tch::no_grad(|| ctx.model.features(batch, false));
        let logits = Tensor::cat(&feats, 1).apply(&s.fusion);
        let loss = ctx.task_loss(&logits, &batch.targets);
        ctx.trace.record("di-mml-fusion-loss", "concat", loss.double_value(&[]));
        finish(ctx, &loss)
    }
}

/// Zero grad, backward, step; refuses a non-finite loss before it reaches the weights.
fn finish(ctx: &mut TrainContext<'_>, loss: &Tensor) -> Result<StepStats> {
    let value = loss.double_value(&[]);
    if !value.is_finite() {
        return Err(Error::Diverged(format!("DI-MML loss {value} at epoch {}, step {}", ctx.epoch, ctx.step)));
    }
    ctx.optimizer.zero_grad()?;
    loss.backward();
    ctx.optimizer.step();
    Ok(StepStats { loss: value })
}

impl Method for DiMml {
    fn requirements(&self) -> Requirements {
        Requirements { classification_only: true, modalities: (2, 2), ..Requirements::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn setup(&mut self, ctx: &mut SetupContext<'_>) -> Result<()> {
        let model = ctx.model;
        if model.num_modalities() != 2 {
            return Err(Error::Incompatible(format!(
                "method `di-mml` supports exactly 2 modalities, the model has {}",
                model.num_modalities()
            )));
        }
        let dims: Vec<i64> = model.encoders.iter().map(|e| e.out_dim()).collect();
        if dims[0] != dims[1] {
            return Err(Error::Incompatible(format!(
                "method `di-mml` compares the two modalities dimension by dimension and shares one classifier, so \
                 both encoders must output the same feature dimension, got {}: {}, {}: {}",
                model.names[0], dims[0], model.names[1], dims[1]
            )));
        }
        let (d, c) = (dims[0], model.task.outputs());
        let p = &ctx.path;
        let heads =
            [nn::linear(p / "head0", d, c, Default::default()), nn::linear(p / "head1", d, c, Default::default())];
        let shared = nn::linear(p / "shared", d, c, Default::default());
        let fusion = harness_core::init::linear(p / "fusion", 2 * d, c);
        let stage2 = p.zeros_no_train("stage2", &[1]);
        let schedule = self.config.schedule(ctx.config.epochs)?;
        self.state = Some(State { heads, shared, fusion, stage2, schedule });
        self.split = None;
        Ok(())
    }

    fn on_epoch_start(&mut self, ctx: &mut TrainContext<'_>) -> Result<()> {
        let schedule = self.state()?.schedule;
        if ctx.epoch >= schedule.stage1_epochs {
            if !self.in_stage2()? {
                let s = self.state()?;
                tch::no_grad(|| {
                    let _ = s.stage2.shallow_clone().fill_(1.0);
                });
                let mut params = vec![s.fusion.ws.shallow_clone()];
                params.extend(s.fusion.bs.iter().map(|t| t.shallow_clone()));
                let sgd = OptimizerConfig::Sgd { lr: ctx.config.optimizer.lr(), momentum: 0.9, weight_decay: 1e-4 };
                *ctx.optimizer = Optimizer::new(sgd, params)?;
            }
            // A fresh StepLR(70) over at most a few dozen epochs: the base rate throughout.
            ctx.optimizer.set_lr(ctx.config.optimizer.lr());
            ctx.trace.record("di-mml-stage", "stage", 2.0);
            return Ok(());
        }
        if ctx.epoch == schedule.dim_epoch && self.split.is_none() {
            let (a_only, v_only) = self.compute_split(ctx)?;
            ctx.trace.record("di-mml-dimensions", "a-only", a_only.numel() as f64);
            ctx.trace.record("di-mml-dimensions", "v-only", v_only.numel() as f64);
            self.split = Some((a_only, v_only));
        }
        ctx.trace.record("di-mml-stage", "stage", 1.0);
        Ok(())
    }

    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        if self.in_stage2()? { self.stage2_step(ctx, batch) } else { self.stage1_step(ctx, batch) }
    }

    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let s = self.state()?;
        let feats = ctx.model.features(batch, false);
        let uni: Vec<Tensor> = feats.iter().zip(&s.heads).map(|(f, h)| f.apply(h)).collect();
        let fused = if self.in_stage2()? {
            let concat = Tensor::cat(&feats, 1).apply(&s.fusion);
            match self.config.stage2_inference {
                Stage2Inference::Concat => concat,
                Stage2Inference::Weighted => {
                    weighted_stage2([&uni[0], &uni[1], &concat], self.config.stage2_temperature)
                }
            }
        } else {
            (&uni[0] + &uni[1]) / 2.0
        };
        Ok(Prediction { fused, heads: uni.into_iter().map(Some).collect() })
    }
}

harness_core::register_method!(
    "di-mml",
    "DI-MML (ACM MM'24): detached unimodal training + shared classifier + dimension-decoupled contrast, then a concat head on frozen encoders (M = 2)",
    DiMml
);

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    fn ids(x: &Tensor) -> Vec<i64> {
        Vec::try_from(x).unwrap()
    }

    #[test]
    fn dimension_split_keeps_dimensions_only_one_modality_separates() {
        // Labels [0, 0, 1, 1], three dimensions.
        // audio: dim 0 = [0, 0, 10, 10] (centroids 0 | 10: all 4 right, acc 1);
        //        dim 1 = [0, 10, 0, 10] (centroids 5 | 5: tie -> class 0, acc 0.5);
        //        dim 2 = [1, 1, 3, 3] (acc 1). Mean 5/6, so top_a = {0, 2}.
        // visual: dim 0 = [0, 10, 0, 10] (acc 0.5), dim 1 = [0, 0, 4, 4] (acc 1),
        //        dim 2 = [5, 5, 9, 9] (acc 1). top_v = {1, 2}.
        // A-only = {0}, V-only = {1}; dim 2 is shared and used by neither term.
        let a = t(&[0.0, 0.0, 1.0, 0.0, 10.0, 1.0, 10.0, 0.0, 3.0, 10.0, 10.0, 3.0], &[4, 3]);
        let v = t(&[0.0, 0.0, 5.0, 10.0, 0.0, 5.0, 0.0, 4.0, 9.0, 10.0, 4.0, 9.0], &[4, 3]);
        let y = Tensor::from_slice(&[0i64, 0, 1, 1]);
        let (a_only, v_only) = dimension_split(&a, &v, &y, 2);
        assert_eq!(ids(&a_only), vec![0]);
        assert_eq!(ids(&v_only), vec![1]);
        // A third class with no training sample: the official centroid would be 0/0 = NaN; here
        // it is left out and the split is unchanged.
        let (a3, v3) = dimension_split(&a, &v, &y, 3);
        assert_eq!((ids(&a3), ids(&v3)), (vec![0], vec![1]));
        let top = top_dimensions(&a, &y, 3);
        assert_eq!(Vec::<bool>::try_from(&top).unwrap(), vec![true, false, true]);
    }

    #[test]
    fn contrastive_loss_pulls_each_modality_on_the_others_dimensions() {
        // B = 2, A-only = {0}, V-only = {2}, T = 1.
        // a = [[1, 5, 0], [2, 5, 1]], v = [[3, 7, 1], [1, 7, 2]].
        // L_v on dim 0: v = [3, 1], a = [1, 2]; S = [[3, 6], [1, 2]];
        //   row 0: -log softmax([3, 6])[0] = ln(1 + e^3) = 3.048587; row 1: ln(1 + e^-1) = 0.313262;
        //   L_v = 1.680925.
        // L_a on dim 2: a = [0, 1], v = [1, 2]; S = [[0, 0], [1, 2]];
        //   row 0: ln 2 = 0.693147; row 1: ln(1 + e^-1) = 0.313262; L_a = 0.503204.
        // L_dim = 2.184129. With T = 2 the similarities halve: L_v = 1.087745, L_a = 0.583612.
        let a = t(&[1.0, 5.0, 0.0, 2.0, 5.0, 1.0], &[2, 3]).set_requires_grad(true);
        let v = t(&[3.0, 7.0, 1.0, 1.0, 7.0, 2.0], &[2, 3]).set_requires_grad(true);
        let a_only = Tensor::from_slice(&[0i64]);
        let v_only = Tensor::from_slice(&[2i64]);
        let l_v = unidirectional_contrastive(&v, &a, &a_only, 1.0).double_value(&[]);
        let l_a = unidirectional_contrastive(&a, &v, &v_only, 1.0).double_value(&[]);
        assert!((l_v - 1.680925).abs() < 1e-5, "{l_v}");
        assert!((l_a - 0.503204).abs() < 1e-5, "{l_a}");
        let loss = dim_contrastive_loss(&a, &v, &a_only, &v_only, 1.0);
        assert!((loss.double_value(&[]) - 2.184129).abs() < 1e-5);
        let l2 = dim_contrastive_loss(&a, &v, &a_only, &v_only, 2.0).double_value(&[]);
        assert!((l2 - (1.087745 + 0.583612)).abs() < 1e-5, "{l2}");
        // Unidirectional: the anchors are detached, so a only gets gradient on V-only (dim 2)
        // and v only on A-only (dim 0); the shared dim 1 gets none.
        loss.backward();
        let ga: Vec<f32> = Vec::try_from(a.grad().view([-1])).unwrap();
        let gv: Vec<f32> = Vec::try_from(v.grad().view([-1])).unwrap();
        assert!(ga[0] == 0.0 && ga[1] == 0.0 && ga[3] == 0.0 && ga[4] == 0.0, "{ga:?}");
        assert!(ga[5] != 0.0);
        assert!(gv[1] == 0.0 && gv[2] == 0.0 && gv[4] == 0.0 && gv[5] == 0.0, "{gv:?}");
        assert!(gv[0] != 0.0);
        // An empty dimension set contributes nothing.
        let empty = Tensor::zeros([0], (Kind::Int64, Device::Cpu));
        assert_eq!(unidirectional_contrastive(&v, &a, &empty, 1.0).double_value(&[]), 0.0);
    }

    #[test]
    fn schedule_scales_with_the_run() {
        let c = DiMmlConfig::default();
        // The official 170-epoch run: split at 20, stage 2 = last 20 epochs.
        assert_eq!(c.schedule(170).unwrap(), Schedule { stage1_epochs: 150, dim_epoch: 20 });
        assert_eq!(c.schedule(100).unwrap(), Schedule { stage1_epochs: 88, dim_epoch: 12 });
        // Tiny runs keep one epoch of each stage and train one epoch before splitting.
        assert_eq!(c.schedule(3).unwrap(), Schedule { stage1_epochs: 2, dim_epoch: 1 });
        assert_eq!(c.schedule(1).unwrap(), Schedule { stage1_epochs: 1, dim_epoch: 1 });
        let explicit = DiMmlConfig { dim_epoch: Some(0), stage2_epochs: Some(2), ..c.clone() };
        assert_eq!(explicit.schedule(5).unwrap(), Schedule { stage1_epochs: 3, dim_epoch: 0 });
        let err = DiMmlConfig { stage2_epochs: Some(5), ..c }.schedule(5).unwrap_err();
        assert!(err.to_string().contains("stage2-epochs"), "{err}");
    }

    #[test]
    fn weighted_stage2_inference_matches_the_official_rule() {
        // One sample, two classes, T = 1: h_a = [0, 0] (max p 0.5), h_v = [ln 3, 0] (0.75),
        // concat = [0, ln 3] (0.75). w = softmax([0.5, 0.75, 0.75]) = [0.280265, 0.359867, 0.359867];
        // z = [0.359867 ln 3, 0.359867 ln 3] = [0.395355, 0.395355].
        let ln3 = 3f32.ln();
        let z = weighted_stage2([&t(&[0.0, 0.0], &[1, 2]), &t(&[ln3, 0.0], &[1, 2]), &t(&[0.0, ln3], &[1, 2])], 1.0);
        assert!(z.allclose(&t(&[0.395355, 0.395355], &[1, 2]), 1e-5, 1e-5, false), "{z}");
    }

    #[test]
    fn options_are_checked() {
        let m = DiMml::from_options(&toml::from_str("temperature = 10.0\nstage2-inference = \"weighted\"").unwrap())
            .unwrap();
        assert_eq!(m.config.temperature, 10.0);
        assert_eq!(m.config.stage2_inference, Stage2Inference::Weighted);
        assert!(DiMml::from_options(&toml::from_str("temperature = 0.0").unwrap()).is_err());
        let err = DiMml::from_options(&toml::from_str("temp = 1.0").unwrap()).unwrap_err();
        assert!(err.to_string().contains("temperature"), "{err}");
    }
}
