//! # ReconBoost: boosting-style alternation between modality learners
//!
//! Each modality m is a learner: its encoder followed by a head h that every modality shares
//! (an MLP D -> 256 -> ReLU -> C). The ensemble is F(x) = beta · sum_m h(enc_m(x_m)) with a
//! learnable boost rate beta. Training runs in stages; stage s picks one modality (round-robin)
//! and trains it to correct what the ensemble of the *other* learners gets wrong (the
//! reconcilement, or boosting, loss), then a "global rectification" phase tunes every learner,
//! the head and beta jointly with cross-entropy on F.
//!
//! - Paper: Hua et al., "ReconBoost: Boosting Can Achieve Modality Reconcilement", ICML 2024.
//! - Official code: huacong/ReconBoost, `train.py` (stage loop), `models/dynamic_net.py`
//!   (`DynamicNet`, `Head`), `schedule.py` (`schedule_model`).
//! - Spec: specs/methods.md section 8 (and section 0).
//!
//! # Algorithm (spec section 8) mapped onto harness epochs
//! A stage lasts `epochs-per-stage` + `correct-epoch` epochs (one epoch = one pass over the
//! training data, exactly the official inner loops). For epoch e, with L = that sum:
//! stage s = e / L; if e mod L < `epochs-per-stage`, the epoch boosts modality s mod M, else it
//! rectifies. [`Method::on_epoch_start`] picks the phase and, when a phase starts, replaces the
//! trainer's optimizer by a fresh SGD (momentum and weight decay from the options, momentum
//! reset every phase as in the official code):
//! - **Boosting phase of modality m**: SGD(lr = `m-lr`) over enc_m and h. Per step, with
//!   F_-m = beta · sum_{j != m} h(enc_j(x_j)) under no_grad and p_m = softmax(h(enc_m(x_m))):
//!   L = mean_i (1/C)·(-w1 + w2·softmax(F_-m)_i[y_i])·log p_m,i[y_i] + alpha·GA.
//! - **Rectification phase**: SGD(lr = `e-lr`) over every learner's encoder, h and beta;
//!   L = CE(F(x), y).
//! - Learning rates decay by `lr-decay-factor` every `lr-decay-stages` stages (CREMA-D: x0.1
//!   every 30 stages).
//!
//! The suite's learning rate, schedule and optimizer are therefore not used by this method; its
//! epochs and batch size are.
//!
//! # Initialisation and the growing ensemble
//! The official CREMA-D recipe starts every learner from a pretrained unimodal encoder
//! (`--use_pretrain`), and all learners are in the ensemble from stage 0. The method declares
//! `teachers` and, before the first epoch, copies each teacher's encoder weights (variables
//! `encoders.<modality>.*`, buffers included) into the student. Without teachers (or with
//! `init-from-teachers = false`) it follows the official non-pretrained path: the ensemble
//! starts empty and a learner joins it when its first boosting phase starts; while no other
//! learner is in the ensemble, softmax(F_-m)[y] is 1 (the official constant `c0` column).
//! Which learners are in the ensemble is a buffer `method.active` in the var store, so
//! best-epoch restoration restores it too.
//!
//! # Options (defaults: official `train.py` argparse, CREMA-D)
//! `epochs-per-stage` 4, `correct-epoch` 4, `m-lr` 0.01, `e-lr` 0.01, `momentum` 0.9,
//! `weight-decay` 5e-4, `w1` 5, `w2` 1, `ga-alpha` 0.5, `boost-rate` 1 (initial beta),
//! `head-hidden` 256, `lr-decay-stages` 30, `lr-decay-factor` 0.1, `init-from-teachers` true.
//! (AVE uses w1 = 4 and x0.5 at stage 40.)
//!
//! # Deviations from the official code
//! - **The GA term is kept as the no-op it is.** The official loss adds
//!   alpha · MSE(softmax(out_m).detach(), softmax(out_prev).detach()); both sides are detached,
//!   so it has no gradient. We compute it (under no_grad) and add its value to the reported
//!   loss, so the logged loss matches the official `loss`, and trace it; it never changes an
//!   update. `ga-alpha = 0` skips the extra forward. As in the official code it starts at stage
//!   1; the "previous" learner is that of stage s - 1 (for M = 2, the other modality, as in the
//!   official code).
//! - **Any number of modalities**, round-robin in the model's modality order (the official
//!   schedule is fixed per dataset: audio, visual for CREMA-D).
//! - The teacher encoder weights are copied at the start of the first epoch rather than in
//!   `setup`: `SetupContext::path` only reaches the `method` sub-tree of the var store, while
//!   `TrainContext::vs` reaches the encoders. No update happens in between, so the effect is
//!   the same.
//! - Evaluation happens after every epoch (the official tests after each stage) and model
//!   selection uses validation accuracy (the official keeps the best test accuracy from stage
//!   3 on, with a `drop_last` test loader).
//! - The head uses PyTorch's default `nn.Linear` initialisation, as the official `Head` does
//!   (it is not passed through `weight_init`).
//! - As in the official code, learners not being trained still run in training mode inside
//!   F_-m (so batch-norm statistics of the other encoders keep updating, under no_grad).
//!
//! # Reported heads
//! Fused: F(x) over the learners in the ensemble (argmax softmax(F) = argmax F). Per modality:
//! beta · h(enc_m(x_m)).
//!
//! # Traces
//! `reconboost-stage` (stage index), `reconboost-lr` (key `boost` or `rectify`),
//! `reconboost-boost-loss` per modality, `reconboost-ga-loss` per modality,
//! `reconboost-rectify-loss` (key `ensemble`), `reconboost-boost-rate` (key `beta`).

use std::collections::HashMap;

use harness_core::data::Batch;
use harness_core::method::{EvalContext, Method, Prediction, Requirements, SetupContext, StepStats, TrainContext};
use harness_core::model::{GradScope, MultimodalModel};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

const CONTEXT: &str = "options of method `reconboost`";

/// Options of `reconboost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ReconBoostConfig {
    /// Epochs of the boosting phase of each stage (official `epochs_per_stage`).
    pub epochs_per_stage: usize,
    /// Epochs of global rectification after each boosting phase (official `correct_epoch`).
    pub correct_epoch: usize,
    /// Learning rate of the boosting phase (official `m_lr`).
    pub m_lr: f64,
    /// Learning rate of the rectification phase (official `e_lr`).
    pub e_lr: f64,
    /// SGD momentum of both phases.
    pub momentum: f64,
    /// SGD weight decay of both phases.
    pub weight_decay: f64,
    /// Weight of the plain log-likelihood term (official `weight1`).
    pub w1: f64,
    /// Weight of the ensemble-confidence term (official `weight2`).
    pub w2: f64,
    /// Weight of the (gradient-free) GA term (official `alpha`).
    pub ga_alpha: f64,
    /// Initial boost rate beta (official `boost_rate`).
    pub boost_rate: f64,
    /// Hidden width of the shared head.
    pub head_hidden: i64,
    /// Stages between learning-rate decays (0 = never).
    pub lr_decay_stages: usize,
    /// Learning-rate decay factor.
    pub lr_decay_factor: f64,
    /// Initialise the encoders from the unimodal teachers when the runner provides them.
    pub init_from_teachers: bool,
}

impl Default for ReconBoostConfig {
    fn default() -> Self {
        ReconBoostConfig {
            epochs_per_stage: 4,
            correct_epoch: 4,
            m_lr: 0.01,
            e_lr: 0.01,
            momentum: 0.9,
            weight_decay: 5e-4,
            w1: 5.0,
            w2: 1.0,
            ga_alpha: 0.5,
            boost_rate: 1.0,
            head_hidden: 256,
            lr_decay_stages: 30,
            lr_decay_factor: 0.1,
            init_from_teachers: true,
        }
    }
}

/// What an epoch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Boosting phase of stage `stage`, training model modality `modality`.
    Boost {
        /// Stage index.
        stage: usize,
        /// Model modality index (stage mod M).
        modality: usize,
    },
    /// Global rectification of stage `stage`.
    Rectify {
        /// Stage index.
        stage: usize,
    },
}

impl Phase {
    /// The stage this phase belongs to.
    pub fn stage(&self) -> usize {
        match *self {
            Phase::Boost { stage, .. } | Phase::Rectify { stage } => stage,
        }
    }
}

/// The phase of `epoch` and whether the phase starts at that epoch (a fresh optimizer).
pub fn phase_at(epoch: usize, epochs_per_stage: usize, correct_epoch: usize, modalities: usize) -> (Phase, bool) {
    let len = (epochs_per_stage + correct_epoch).max(1);
    let stage = epoch / len;
    let within = epoch % len;
    if within < epochs_per_stage {
        (Phase::Boost { stage, modality: stage % modalities.max(1) }, within == 0)
    } else {
        (Phase::Rectify { stage }, within == epochs_per_stage)
    }
}

/// The reconcilement (boosting) loss of spec section 8, averaged over the batch:
/// mean_i (1/C)·(-w1 + w2·softmax(F_-m)_i[y_i])·log softmax(z_m)_i[y_i]. `others` is F_-m;
/// `None` (no other learner in the ensemble) stands for softmax(F_-m)[y] = 1.
pub fn boosting_loss(logits: &Tensor, others: Option<&Tensor>, targets: &Tensor, w1: f64, w2: f64) -> Tensor {
    let classes = logits.size()[1] as f64;
    let y = targets.to_kind(Kind::Int64).unsqueeze(1);
    let log_p = logits.log_softmax(-1, Kind::Float).gather(1, &y, false).squeeze_dim(1);
    let confidence = match others {
        Some(f) => f.detach().softmax(-1, Kind::Float).gather(1, &y, false).squeeze_dim(1),
        None => Tensor::ones_like(&log_p),
    };
    ((confidence * w2 - w1) * log_p / classes).mean(Kind::Float)
}

/// Copies modality `name`'s encoder variables (`encoders.<name>.*`, buffers included) from a
/// teacher's variables into the student's; every student variable must exist in the teacher
/// with the same shape. Returns how many tensors were copied.
pub fn copy_encoder(student: &HashMap<String, Tensor>, teacher: &HashMap<String, Tensor>, name: &str) -> Result<usize> {
    let prefix = format!("encoders.{name}.");
    let mut copied = 0;
    for (var, dst) in student.iter().filter(|(n, _)| n.starts_with(&prefix)) {
        let src = teacher.get(var).ok_or_else(|| {
            Error::Incompatible(format!(
                "method `reconboost`: the teacher of modality `{name}` has no variable `{var}`; teachers must use the \
                 same encoder as the student (or set init-from-teachers = false)"
            ))
        })?;
        if src.size() != dst.size() {
            return Err(Error::Incompatible(format!(
                "method `reconboost`: variable `{var}` has shape {:?} in the teacher of `{name}` but {:?} in the \
                 student",
                src.size(),
                dst.size()
            )));
        }
        tch::no_grad(|| dst.shallow_clone().copy_(&src.to_device(dst.device())));
        copied += 1;
    }
    Ok(copied)
}

/// The shared head h: Linear(D, hidden) -> ReLU -> Linear(hidden, C) (official `Head`).
#[derive(Debug)]
struct Head {
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Head {
    fn forward(&self, f: &Tensor) -> Tensor {
        f.apply(&self.fc1).relu().apply(&self.fc2)
    }
}

/// Everything `setup` creates.
#[derive(Debug)]
struct State {
    head: Head,
    head_params: Vec<Tensor>,
    beta: Tensor,
    /// `[M]` buffer, 1 where the learner is in the ensemble.
    active: Tensor,
}

/// ReconBoost.
#[derive(Debug)]
pub struct ReconBoost {
    config: ReconBoostConfig,
    state: Option<State>,
    phase: Option<Phase>,
    initialised: bool,
}

impl ReconBoost {
    /// Builds the method from its options.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: ReconBoostConfig = parse_options(CONTEXT, options)?;
        if config.epochs_per_stage == 0 {
            return Err(Error::config(CONTEXT, "epochs-per-stage must be at least 1"));
        }
        let positive = [("m-lr", config.m_lr), ("e-lr", config.e_lr), ("lr-decay-factor", config.lr_decay_factor)];
        if let Some((k, v)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::config(CONTEXT, format!("{k} = {v}, expected a positive number")));
        }
        let finite = [
            ("momentum", config.momentum),
            ("weight-decay", config.weight_decay),
            ("w1", config.w1),
            ("w2", config.w2),
            ("ga-alpha", config.ga_alpha),
            ("boost-rate", config.boost_rate),
        ];
        if let Some((k, v)) = finite.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::config(CONTEXT, format!("{k} = {v}, expected a finite number")));
        }
        if config.head_hidden < 1 {
            return Err(Error::config(CONTEXT, "head-hidden must be at least 1"));
        }
        Ok(ReconBoost { config, state: None, phase: None, initialised: false })
    }

    fn state(&self) -> Result<&State> {
        self.state.as_ref().ok_or_else(|| Error::config("method `reconboost`", "used before setup"))
    }

    /// The learning-rate factor of `stage` (official: x factor every `lr-decay-stages` stages).
    fn lr_factor(&self, stage: usize) -> f64 {
        match self.config.lr_decay_stages {
            0 => 1.0,
            n => self.config.lr_decay_factor.powi((stage / n) as i32),
        }
    }

    fn sgd(&self, lr: f64, params: Vec<Tensor>) -> Result<Optimizer> {
        Optimizer::new(
            OptimizerConfig::Sgd { lr, momentum: self.config.momentum, weight_decay: self.config.weight_decay },
            params,
        )
    }

    fn active(&self) -> Result<Vec<bool>> {
        let v: Vec<f32> = Vec::try_from(self.state()?.active.to_device(tch::Device::Cpu))?;
        Ok(v.into_iter().map(|x| x > 0.5).collect())
    }

    fn set_active(&self, m: usize) -> Result<()> {
        let s = self.state()?;
        tch::no_grad(|| {
            let _ = s.active.get(m as i64).fill_(1.0);
        });
        Ok(())
    }

    /// beta · sum over the learners in `which` of h(f_m); `None` when `which` is empty.
    fn ensemble(&self, features: &[Tensor], which: impl Iterator<Item = usize>) -> Result<Option<Tensor>> {
        let s = self.state()?;
        let sum = which.map(|m| s.head.forward(&features[m])).reduce(|a, b| a + b);
        Ok(sum.map(|z| z * &s.beta))
    }

    fn boost_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, stage: usize, m: usize) -> Result<StepStats> {
        let model = ctx.model;
        let active = self.active()?;
        let others: Vec<usize> = (0..model.num_modalities()).filter(|&j| j != m && active[j]).collect();
        // F_-m: the other learners of the ensemble, without gradient (official `forward(mask_model=m)`).
        let f_minus = tch::no_grad(|| -> Result<Option<Tensor>> {
            let feats: Vec<Tensor> = (0..model.num_modalities())
                .map(|j| if others.contains(&j) { model.encode(j, batch, true) } else { Tensor::new() })
                .collect();
            self.ensemble(&feats, others.iter().copied())
        })?;
        let s = self.state()?;
        let logits = s.head.forward(&model.encode(m, batch, true));
        let loss = boosting_loss(&logits, f_minus.as_ref(), &batch.targets, self.config.w1, self.config.w2);
        let boost = loss.double_value(&[]);
        // GA term: alpha · MSE(p_m, p_prev), both detached, so a constant (see the deviations).
        let mut ga = 0.0;
        if self.config.ga_alpha != 0.0 && stage >= 1 {
            let prev = (stage - 1) % model.num_modalities();
            ga = tch::no_grad(|| {
                let p_prev = s.head.forward(&model.encode(prev, batch, true)).softmax(-1, Kind::Float);
                logits.detach().softmax(-1, Kind::Float).mse_loss(&p_prev, tch::Reduction::Mean).double_value(&[])
            });
            ctx.trace.record("reconboost-ga-loss", &model.names[m], ga);
        }
        if !boost.is_finite() {
            return Err(Error::Diverged(format!("ReconBoost boosting loss {boost}")));
        }
        ctx.optimizer.zero_grad()?;
        loss.backward();
        ctx.optimizer.step();
        ctx.trace.record("reconboost-boost-loss", &model.names[m], boost);
        Ok(StepStats { loss: boost + self.config.ga_alpha * ga })
    }

    fn rectify_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let model = ctx.model;
        let active = self.active()?;
        let which: Vec<usize> = (0..model.num_modalities()).filter(|&j| active[j]).collect();
        let feats: Vec<Tensor> = (0..model.num_modalities())
            .map(|j| if active[j] { model.encode(j, batch, true) } else { Tensor::new() })
            .collect();
        let f = self
            .ensemble(&feats, which.into_iter())?
            .ok_or_else(|| Error::config("method `reconboost`", "rectification with an empty ensemble"))?;
        let loss = ctx.task_loss(&f, &batch.targets);
        let value = loss.double_value(&[]);
        if !value.is_finite() {
            return Err(Error::Diverged(format!("ReconBoost rectification loss {value}")));
        }
        ctx.optimizer.zero_grad()?;
        loss.backward();
        ctx.optimizer.step();
        ctx.trace.record("reconboost-rectify-loss", "ensemble", value);
        Ok(StepStats { loss: value })
    }

    /// Copies the teachers' encoders into the student and puts every learner in the ensemble.
    fn init_from_teachers(&self, ctx: &TrainContext<'_>) -> Result<bool> {
        let Some(teachers) = ctx.teachers.filter(|_| self.config.init_from_teachers) else {
            return Ok(false);
        };
        let student = ctx.vs.variables();
        for (i, name) in ctx.model.names.iter().enumerate() {
            let ds = ctx.model.modalities[i];
            let teacher = teachers.teachers.iter().find(|t| t.modality == ds).ok_or_else(|| {
                Error::Incompatible(format!("method `reconboost`: no unimodal teacher for modality `{name}`"))
            })?;
            copy_encoder(&student, &teacher.vs.variables(), name)?;
            self.set_active(i)?;
        }
        Ok(true)
    }
}

fn encoder_params(ctx: &TrainContext<'_>, model: &MultimodalModel, m: usize) -> Vec<Tensor> {
    ctx.params.encoder(&model.names[m], GradScope::All)
}

impl Method for ReconBoost {
    fn requirements(&self) -> Requirements {
        Requirements { teachers: self.config.init_from_teachers, classification_only: true, ..Requirements::default() }
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
                "method `reconboost` shares one head across modalities, so every encoder must output the same \
                 feature dimension, got {}; set the encoders' output dimension (e.g. `out-dim`) to one value",
                list.join(", ")
            )));
        }
        let head_path = &ctx.path / "head";
        // PyTorch's default Linear initialisation, as the official `Head`.
        let fc1 = nn::linear(&head_path / "fc1", dims[0], self.config.head_hidden, Default::default());
        let fc2 = nn::linear(&head_path / "fc2", self.config.head_hidden, model.task.outputs(), Default::default());
        let mut head_params = vec![fc1.ws.shallow_clone(), fc2.ws.shallow_clone()];
        head_params.extend(fc1.bs.iter().chain(fc2.bs.iter()).map(|t| t.shallow_clone()));
        let beta = ctx.path.var("boost_rate", &[], nn::Init::Const(self.config.boost_rate));
        let active = ctx.path.zeros_no_train("active", &[model.num_modalities() as i64]);
        self.state = Some(State { head: Head { fc1, fc2 }, head_params, beta, active });
        self.phase = None;
        self.initialised = false;
        Ok(())
    }

    fn on_epoch_start(&mut self, ctx: &mut TrainContext<'_>) -> Result<()> {
        if !self.initialised {
            self.initialised = true;
            self.init_from_teachers(ctx)?;
        }
        let model = ctx.model;
        let c = &self.config;
        let (phase, starts) = phase_at(ctx.epoch, c.epochs_per_stage, c.correct_epoch, model.num_modalities());
        let starts = starts || self.phase.is_none();
        let factor = self.lr_factor(phase.stage());
        let (lr, key) = match phase {
            Phase::Boost { .. } => (c.m_lr * factor, "boost"),
            Phase::Rectify { .. } => (c.e_lr * factor, "rectify"),
        };
        if starts {
            let s = self.state()?;
            let params = match phase {
                Phase::Boost { modality, .. } => {
                    // A learner joins the ensemble when its first boosting phase starts.
                    self.set_active(modality)?;
                    let mut p = encoder_params(ctx, model, modality);
                    p.extend(s.head_params.iter().map(|t| t.shallow_clone()));
                    p
                }
                Phase::Rectify { .. } => {
                    let active = self.active()?;
                    let mut p: Vec<Tensor> = (0..model.num_modalities())
                        .filter(|&j| active[j])
                        .flat_map(|j| encoder_params(ctx, model, j))
                        .collect();
                    p.extend(s.head_params.iter().map(|t| t.shallow_clone()));
                    p.push(s.beta.shallow_clone());
                    p
                }
            };
            *ctx.optimizer = self.sgd(lr, params)?;
        }
        // The trainer sets the suite's learning rate before this hook; the phase's rate wins.
        ctx.optimizer.set_lr(lr);
        self.phase = Some(phase);
        ctx.trace.record("reconboost-stage", "stage", phase.stage() as f64);
        ctx.trace.record("reconboost-lr", key, lr);
        ctx.trace.record("reconboost-boost-rate", "beta", self.state()?.beta.double_value(&[]));
        Ok(())
    }

    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        match self.phase {
            Some(Phase::Boost { stage, modality }) => self.boost_step(ctx, batch, stage, modality),
            Some(Phase::Rectify { .. }) => self.rectify_step(ctx, batch),
            None => Err(Error::config("method `reconboost`", "train_step before on_epoch_start")),
        }
    }

    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let s = self.state()?;
        let active = self.active()?;
        let feats = ctx.model.features(batch, false);
        let heads: Vec<Tensor> = feats.iter().map(|f| s.head.forward(f) * &s.beta).collect();
        let in_ensemble: Vec<&Tensor> = heads.iter().zip(&active).filter(|(_, a)| **a).map(|(h, _)| h).collect();
        let fused = if in_ensemble.is_empty() {
            // Before any learner joined (cannot happen after the first epoch): every learner.
            heads.iter().fold(Tensor::zeros_like(&heads[0]), |acc, h| acc + h)
        } else {
            in_ensemble.into_iter().fold(Tensor::zeros_like(&heads[0]), |acc, h| acc + h)
        };
        Ok(Prediction { fused, heads: heads.into_iter().map(Some).collect() })
    }
}

harness_core::register_method!(
    "reconboost",
    "ReconBoost (ICML'24): stage-wise boosting of one modality learner at a time plus global rectification (any M)",
    ReconBoost
);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    #[test]
    fn stages_alternate_round_robin_with_rectification_after_each() {
        // epochs-per-stage 2, correct-epoch 1, three modalities: a stage is 3 epochs.
        use Phase::*;
        let got: Vec<(Phase, bool)> = (0..10).map(|e| phase_at(e, 2, 1, 3)).collect();
        let expect = vec![
            (Boost { stage: 0, modality: 0 }, true),
            (Boost { stage: 0, modality: 0 }, false),
            (Rectify { stage: 0 }, true),
            (Boost { stage: 1, modality: 1 }, true),
            (Boost { stage: 1, modality: 1 }, false),
            (Rectify { stage: 1 }, true),
            (Boost { stage: 2, modality: 2 }, true),
            (Boost { stage: 2, modality: 2 }, false),
            (Rectify { stage: 2 }, true),
            (Boost { stage: 3, modality: 0 }, true),
        ];
        assert_eq!(got, expect);
        // Official CREMA-D default (4 + 4, two modalities): epoch 8 starts stage 1 on visual.
        assert_eq!(phase_at(4, 4, 4, 2), (Rectify { stage: 0 }, true));
        assert_eq!(phase_at(8, 4, 4, 2), (Boost { stage: 1, modality: 1 }, true));
        // Without rectification every stage is a boosting phase that starts fresh.
        assert_eq!(phase_at(1, 1, 0, 2), (Boost { stage: 1, modality: 1 }, true));
    }

    #[test]
    fn boosting_loss_matches_the_hand_computed_value() {
        // C = 3, w1 = 5, w2 = 1.
        // Sample 0: z_m = [2, 0, 0], y = 0: log p = 2 - ln(e^2 + 2) = -0.239545;
        //   F_-m = [0, ln 2, 0] -> softmax = [1/4, 1/2, 1/4], q_y = 0.25;
        //   loss = (1/3)(5 - 0.25)(0.239545) = 0.379279.
        // Sample 1: z_m = [0, 1, 0], y = 1: log p = 1 - ln(2 + e) = -0.551445; F_-m = 0 -> q_y = 1/3;
        //   loss = (1/3)(5 - 1/3)(0.551445) = 0.857803.
        // Mean = 0.618541.
        let z = t(&[2.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[2, 3]).set_requires_grad(true);
        let f = t(&[0.0, 2f32.ln(), 0.0, 0.0, 0.0, 0.0], &[2, 3]);
        let y = Tensor::from_slice(&[0i64, 1]);
        let loss = boosting_loss(&z, Some(&f), &y, 5.0, 1.0);
        let value = loss.double_value(&[]);
        assert!((value - 0.618541).abs() < 1e-5, "{value}");
        // No other learner in the ensemble: q_y = 1, loss = (4/3)·mean(0.239545, 0.551445) = 0.527326.
        let alone = boosting_loss(&z, None, &y, 5.0, 1.0);
        assert!((alone.double_value(&[]) - 0.527326).abs() < 1e-5, "{alone}");
        // The ensemble term is a weight, not a path for gradients: F_-m gets none.
        loss.backward();
        assert!(z.grad().defined());
        // d loss / d z_0[y_0] = (1/B)·(1/C)(w2 q - w1)·(1 - p_y), with p_y = e^2/(e^2 + 2) = 0.786986:
        // (1/2)(1/3)(0.25 - 5)(0.213014) = -0.168636.
        let g = z.grad().double_value(&[0, 0]);
        assert!((g + 0.168636).abs() < 1e-5, "{g}");
    }

    #[test]
    fn encoder_copy_checks_names_and_shapes() {
        let student = nn::VarStore::new(tch::Device::Cpu);
        let teacher = nn::VarStore::new(tch::Device::Cpu);
        let s = student.root() / "encoders" / "audio";
        let tr = teacher.root() / "encoders" / "audio";
        let _ = s.var("w", &[2], nn::Init::Const(0.0));
        let _ = s.zeros_no_train("running_mean", &[2]);
        let _ = tr.var("w", &[2], nn::Init::Const(3.0));
        let _ = tr.ones_no_train("running_mean", &[2]);
        let _ = (teacher.root() / "fusion").var("head", &[1], nn::Init::Const(7.0));
        let n = copy_encoder(&student.variables(), &teacher.variables(), "audio").unwrap();
        assert_eq!(n, 2);
        let vars = student.variables();
        assert_eq!(Vec::<f32>::try_from(&vars["encoders.audio.w"]).unwrap(), vec![3.0, 3.0]);
        assert_eq!(Vec::<f32>::try_from(&vars["encoders.audio.running_mean"]).unwrap(), vec![1.0, 1.0]);
        assert!(!vars.contains_key("fusion.head"));
        let other = nn::VarStore::new(tch::Device::Cpu);
        let _ = (other.root() / "encoders" / "audio").var("w", &[3], nn::Init::Const(0.0));
        let _ = (other.root() / "encoders" / "audio").zeros_no_train("running_mean", &[2]);
        let err = copy_encoder(&student.variables(), &other.variables(), "audio").unwrap_err();
        assert!(err.to_string().contains("shape"), "{err}");
    }

    #[test]
    fn options_are_checked() {
        let ok: Options = toml::from_str("epochs-per-stage = 1\ncorrect-epoch = 0\nw1 = 4.0").unwrap();
        let m = ReconBoost::from_options(&ok).unwrap();
        assert_eq!(m.config.w1, 4.0);
        assert_eq!(m.config.m_lr, 0.01);
        let err = ReconBoost::from_options(&toml::from_str("epochs-per-stage = 0").unwrap()).unwrap_err();
        assert!(err.to_string().contains("epochs-per-stage"), "{err}");
        let err = ReconBoost::from_options(&toml::from_str("weight1 = 4.0").unwrap()).unwrap_err();
        assert!(err.to_string().contains("w1"), "{err}");
        assert!(ReconBoost::from_options(&toml::from_str("m-lr = 0.0").unwrap()).is_err());
    }

    #[test]
    fn learning_rate_decays_every_thirty_stages() {
        let m = ReconBoost::from_options(&Options::new()).unwrap();
        assert_eq!(m.lr_factor(29), 1.0);
        assert!((m.lr_factor(30) - 0.1).abs() < 1e-12);
        assert!((m.lr_factor(65) - 0.01).abs() < 1e-12);
    }
}
