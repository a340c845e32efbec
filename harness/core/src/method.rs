//! The `Method` trait: a training algorithm, written as hooks around a default joint-training
//! step, plus its registry.
//!
//! # The default step
//! [`Method::train_step`] runs the paper's algorithm box: forward ([`MultimodalModel::forward_t`]),
//! [`Method::loss`] (default: the task loss on the fused logits), zero grad, backward,
//! [`Method::modulate_gradients`] (default: nothing), optimizer step. A simple method overrides
//! one hook.
//!
//! # How the methods of specs/methods.md fit without changing the trait
//! - **G2D** declares `teachers` in [`Requirements`]; it overrides `loss` (CE + feature and logit
//!   distillation from the cached teacher outputs in [`TrainContext::teachers`]) and
//!   `modulate_gradients` (SMP: rank teacher confidences, scale encoder kernels by 0 or 1 with
//!   [`crate::model::scale_grads`] on [`ParamGroups::encoder`]).
//! - **OGM-GE** declares `unimodal_heads`; it overrides only `modulate_gradients` (coefficient
//!   from the head-sliced logits in [`ModelOutput::unimodal`], plus Gaussian noise).
//! - **MMPareto** needs one gradient per loss: it overrides `train_step`, builds its separate
//!   unimodal heads in `setup` under [`SetupContext::path`], back-propagates each loss with
//!   `backward` + reading `grad()`, combines them, and calls `optimizer.step()` itself.
//! - **MLA** overrides `setup` (a shared head), `train_step` (one backward and optimizer step
//!   per modality in turn, projecting the head gradient) and `predict` (entropy-weighted fusion
//!   of the shared-head logits).
//! - **ReconBoost** overrides `on_epoch_start` to run its stages: it picks the stage's modality
//!   and replaces [`TrainContext::optimizer`] with a fresh optimizer over that learner's
//!   parameters; `train_step` computes the boosting loss against the other learners' ensemble,
//!   and `predict` returns the weighted ensemble.
//! - **MSES / MSLR** use `on_epoch_end` with the validation report (per-head losses and
//!   accuracies), [`crate::model::Snapshot`] and [`crate::optim::Optimizer::state`] for roll-back,
//!   and return [`EpochControl::Stop`] when done.

use tch::{Device, Kind, Tensor, nn};

use crate::data::{Batch, Dataset, DatasetSpec, Loader, Split, Task};
use crate::error::{Error, Result};
use crate::model::{ModelOutput, MultimodalModel, ParamGroups};
use crate::optim::Optimizer;
use crate::options::Options;
use crate::teacher::TeacherSet;
use crate::trace::Trace;
use crate::trainer::{EvalReport, TrainConfig};

/// What a method needs from the model, the data and the runner.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirements {
    /// Unimodal teachers for every modality (trained once and cached by the runner).
    pub teachers: bool,
    /// A fusion whose head decomposes into unimodal heads (late, sum, concat).
    pub unimodal_heads: bool,
    /// Only classification datasets.
    pub classification_only: bool,
    /// Smallest and largest number of modalities supported.
    pub modalities: (usize, usize),
}

impl Default for Requirements {
    fn default() -> Self {
        Requirements { teachers: false, unimodal_heads: false, classification_only: false, modalities: (1, usize::MAX) }
    }
}

/// Per-step statistics a method reports.
#[derive(Debug, Clone, Copy)]
pub struct StepStats {
    /// The training loss of the step (checked for NaN by the trainer).
    pub loss: f64,
}

/// What the trainer does after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochControl {
    /// Keep training.
    Continue,
    /// Stop training now (the selected epoch so far is kept).
    Stop,
}

/// A prediction for a batch: fused logits plus one entry per model modality.
#[derive(Debug)]
pub struct Prediction {
    /// Fused logits `[B, outputs]`.
    pub fused: Tensor,
    /// Unimodal logits per model modality; `None` where the model has no such head.
    pub heads: Vec<Option<Tensor>>,
}

/// What `Method::setup` gets: the built model and a var-store path for the method's own modules.
pub struct SetupContext<'a> {
    /// The dataset spec.
    pub spec: &'a DatasetSpec,
    /// The model.
    pub model: &'a MultimodalModel,
    /// Path `method` in the model's var store; modules created here are trained too.
    pub path: nn::Path<'a>,
    /// The training configuration.
    pub config: &'a TrainConfig,
    /// The teachers, when the method asked for them.
    pub teachers: Option<&'a TeacherSet>,
    /// The dataset (for methods that precompute something from the training data).
    pub dataset: &'a dyn Dataset,
}

/// What every training hook gets.
pub struct TrainContext<'a> {
    /// The model.
    pub model: &'a MultimodalModel,
    /// Its var store (for snapshots).
    pub vs: &'a nn::VarStore,
    /// Named trainable parameters, grouped by module path.
    pub params: &'a ParamGroups,
    /// The optimizer; a method may replace it (ReconBoost's per-stage optimizers).
    pub optimizer: &'a mut Optimizer,
    /// The dataset.
    pub dataset: &'a dyn Dataset,
    /// The teachers, when required.
    pub teachers: Option<&'a TeacherSet>,
    /// The training configuration.
    pub config: &'a TrainConfig,
    /// Current epoch (0-based).
    pub epoch: usize,
    /// Current step within the epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps_per_epoch: usize,
    /// Device the model lives on.
    pub device: Device,
    /// Per-epoch traces for the paper's figures.
    pub trace: &'a mut Trace,
}

impl TrainContext<'_> {
    /// A sequential loader over `split` with the configured evaluation batch size.
    pub fn eval_loader(&self, split: Split) -> Loader {
        Loader::new(self.dataset.len(split), split, self.config.eval_batch_size(), None)
    }

    /// The task loss on `logits`: cross-entropy, or MSE on sigmoid outputs for regression.
    pub fn task_loss(&self, logits: &Tensor, targets: &Tensor) -> Tensor {
        task_loss(self.model.task, logits, targets)
    }
}

/// What `Method::predict` gets.
pub struct EvalContext<'a> {
    /// The model.
    pub model: &'a MultimodalModel,
    /// The teachers, when required.
    pub teachers: Option<&'a TeacherSet>,
    /// The dataset.
    pub dataset: &'a dyn Dataset,
    /// The split being evaluated.
    pub split: Split,
    /// Device.
    pub device: Device,
}

/// The task loss: cross-entropy for classification; for regression, MSE between the sigmoid
/// of the single output and the target in [0, 1] (the paper's MIS-ME setting).
pub fn task_loss(task: Task, logits: &Tensor, targets: &Tensor) -> Tensor {
    match task {
        Task::Classification { .. } => logits.cross_entropy_for_logits(targets),
        Task::Regression => {
            logits.squeeze_dim(-1).sigmoid().mse_loss(&targets.to_kind(Kind::Float), tch::Reduction::Mean)
        }
    }
}

/// A training algorithm. See the module documentation for how each family of methods fits.
pub trait Method: Send {
    /// What the method needs; the runner checks it against the dataset and fusion.
    fn requirements(&self) -> Requirements {
        Requirements::default()
    }

    /// The method's resolved options, recorded with each cell.
    fn options(&self) -> Options {
        Options::new()
    }

    /// Which dataset modalities the model uses (default: all). `unimodal` returns one.
    fn modalities(&self, spec: &DatasetSpec) -> Result<Vec<usize>> {
        Ok((0..spec.modalities.len()).collect())
    }

    /// Called once after the model is built and before the optimizer is created; modules
    /// created under `ctx.path` are trained with the model.
    fn setup(&mut self, _ctx: &mut SetupContext<'_>) -> Result<()> {
        Ok(())
    }

    /// Called at the start of every epoch, after the LR schedule was applied.
    fn on_epoch_start(&mut self, _ctx: &mut TrainContext<'_>) -> Result<()> {
        Ok(())
    }

    /// The training loss of a forward pass (default: task loss on the fused logits).
    fn loss(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch, out: &ModelOutput) -> Result<Tensor> {
        Ok(ctx.task_loss(&out.logits, &batch.targets))
    }

    /// Called between backward and the optimizer step: the place for gradient modulation.
    fn modulate_gradients(&mut self, _ctx: &mut TrainContext<'_>, _batch: &Batch, _out: &ModelOutput) -> Result<()> {
        Ok(())
    }

    /// One optimisation step: forward, loss, backward, modulate, step.
    fn train_step(&mut self, ctx: &mut TrainContext<'_>, batch: &Batch) -> Result<StepStats> {
        let out = ctx.model.forward_t(batch, true);
        let loss = self.loss(ctx, batch, &out)?;
        ctx.optimizer.zero_grad()?;
        loss.backward();
        self.modulate_gradients(ctx, batch, &out)?;
        ctx.optimizer.step();
        Ok(StepStats { loss: loss.double_value(&[]) })
    }

    /// Called after each epoch's evaluation with the validation report.
    fn on_epoch_end(&mut self, _ctx: &mut TrainContext<'_>, _val: &EvalReport) -> Result<EpochControl> {
        Ok(EpochControl::Continue)
    }

    /// Inference (default: the model's fused logits and its unimodal heads, where they exist).
    fn predict(&self, ctx: &EvalContext<'_>, batch: &Batch) -> Result<Prediction> {
        let out = ctx.model.forward_t(batch, false);
        let heads = match out.unimodal {
            Some(u) => u.into_iter().map(Some).collect(),
            None => (0..ctx.model.num_modalities()).map(|_| None).collect(),
        };
        Ok(Prediction { fused: out.logits, heads })
    }
}

/// A registered method.
#[derive(Debug)]
pub struct MethodEntry {
    /// Name used in `benchmarks.toml`.
    pub name: &'static str,
    /// One-line description for `harness list`.
    pub description: &'static str,
    /// Builds the method from its options.
    pub build: fn(options: &Options) -> Result<Box<dyn Method>>,
}

inventory::collect!(MethodEntry);

/// Every registered method, sorted by name.
pub fn registered() -> Vec<&'static MethodEntry> {
    let mut v: Vec<_> = inventory::iter::<MethodEntry>.into_iter().collect();
    v.sort_by_key(|e| e.name);
    v
}

/// Looks up a method by name.
pub fn lookup(name: &str) -> Result<&'static MethodEntry> {
    inventory::iter::<MethodEntry>
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::unknown("method", name, registered().iter().map(|e| e.name)))
}

/// Checks a method's requirements against a dataset and a fusion, with a reason on failure.
pub fn check_requirements(
    method: &str,
    req: &Requirements,
    spec: &DatasetSpec,
    model_modalities: usize,
    fusion: &str,
) -> Result<()> {
    if req.classification_only && !spec.task.is_classification() {
        return Err(Error::Incompatible(format!(
            "method `{method}` is classification-only, but dataset `{}` is a regression task",
            spec.name
        )));
    }
    let (lo, hi) = req.modalities;
    if model_modalities < lo || model_modalities > hi {
        return Err(Error::Incompatible(format!(
            "method `{method}` supports {lo} to {} modalities, dataset `{}` has {model_modalities}",
            if hi == usize::MAX { "any number of".to_string() } else { hi.to_string() },
            spec.name
        )));
    }
    if req.unimodal_heads {
        let entry = crate::fusion::lookup(fusion)?;
        if !entry.decomposes {
            let ok: Vec<_> = crate::fusion::registered().into_iter().filter(|f| f.decomposes).map(|f| f.name).collect();
            return Err(Error::Incompatible(format!(
                "method `{method}` needs per-modality unimodal logits, but fusion `{fusion}` does not decompose into \
                 unimodal heads; use one of: {}",
                ok.join(", ")
            )));
        }
    }
    Ok(())
}

/// Declares a method plugin: registers `$ty` (which implements [`Method`] and has
/// `fn from_options(&Options) -> Result<Self>`) under `$name`.
#[macro_export]
macro_rules! register_method {
    ($name:literal, $description:literal, $ty:ty) => {
        $crate::inventory::submit! {
            $crate::method::MethodEntry {
                name: $name,
                description: $description,
                build: |options| Ok(Box::new(<$ty>::from_options(options)?)),
            }
        }
    };
}
