//! Shared helpers for the method crates' integration tests and benches.
//!
//! - Encoders and plans: [`mlp`], [`plan`], [`plan_all`], [`plan_encoders`].
//! - Data: [`av`] / [`av3`] (synthetic-av / synthetic-av3 of any size), [`small_av`] /
//!   [`small_av3`] (train 200, val 50, test 50, what the end-to-end tests train on).
//! - Training: [`train_config`] (SGD lr 0.05, momentum 0.9, weight decay 1e-4, batch 16),
//!   [`fit`] (the shared trainer on CPU, quietly) and [`train_method`] (checks the method's
//!   requirements, then trains MLP encoders on every modality).
//! - Checks: [`assert_healthy`] (finite losses, metrics and traces, the expected heads and
//!   traces, fused accuracy above a floor) and [`traces`].
//! - Step-level tests: [`StepHarness`] owns what a [`TrainContext`] borrows.
//!
//! Method-specific checks belong in each method's own test file.

use datasets_synthetic::SyntheticDataset;
use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::Result;
use harness_core::data::{Dataset, DatasetSpec, EncoderChoice};
use harness_core::method::{Method, SetupContext, TrainContext, check_requirements};
use harness_core::model::{ModelPlan, MultimodalModel, ParamGroups};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::options::Options;
use harness_core::tch::{Device, nn};
use harness_core::teacher::TeacherSet;
use harness_core::trace::Trace;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};

/// Chance accuracy on the five-class synthetic datasets.
pub const CHANCE: f64 = 0.2;

/// An `mlp` encoder with the given hidden layer widths and output dimension.
pub fn mlp(hidden: &[i64], out_dim: i64) -> EncoderChoice {
    let options = toml::from_str(&format!("hidden = {hidden:?}\nout-dim = {out_dim}")).unwrap();
    EncoderChoice { name: "mlp".into(), options }
}

/// A plan over dataset modalities `modalities`, each with `encoder`, fused by `fusion` (default
/// options).
pub fn plan(modalities: Vec<usize>, encoder: EncoderChoice, fusion: &str) -> ModelPlan {
    ModelPlan {
        encoders: vec![encoder; modalities.len()],
        modalities,
        fusion: fusion.into(),
        fusion_options: Options::new(),
    }
}

/// A plan over every modality of `spec`, each with `encoder`, fused by `fusion`.
pub fn plan_all(spec: &DatasetSpec, encoder: EncoderChoice, fusion: &str) -> ModelPlan {
    plan((0..spec.modalities.len()).collect(), encoder, fusion)
}

/// A plan over dataset modalities `0..encoders.len()`, modality `i` with `encoders[i]`.
pub fn plan_encoders(encoders: Vec<EncoderChoice>, fusion: &str) -> ModelPlan {
    ModelPlan {
        modalities: (0..encoders.len()).collect(),
        encoders,
        fusion: fusion.into(),
        fusion_options: Options::new(),
    }
}

/// synthetic-av (two modalities, five classes) with the given split sizes and default signal.
pub fn av(train: usize, val: usize, test: usize) -> SyntheticDataset {
    SyntheticAvConfig { train, val, test, ..Default::default() }.generate().unwrap()
}

/// synthetic-av3 (three modalities, five classes) with the given split sizes.
pub fn av3(train: usize, val: usize, test: usize) -> SyntheticDataset {
    SyntheticAv3Config { train, val, test, ..Default::default() }.generate().unwrap()
}

/// synthetic-av with train 200, val 50, test 50: enough to beat chance in three epochs.
pub fn small_av() -> SyntheticDataset {
    av(200, 50, 50)
}

/// synthetic-av3 with train 200, val 50, test 50.
pub fn small_av3() -> SyntheticDataset {
    av3(200, 50, 50)
}

/// `epochs` epochs of SGD (lr 0.05, momentum 0.9, weight decay 1e-4), batch 16, seed 0.
pub fn train_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

/// Runs the shared trainer on CPU without progress output.
pub fn fit(
    method: &mut dyn Method,
    dataset: &dyn Dataset,
    plan: &ModelPlan,
    config: &TrainConfig,
    teachers: Option<&TeacherSet>,
) -> Result<TrainOutcome> {
    train(method, dataset, plan, config, Device::Cpu, teachers, &mut Quiet)
}

/// Checks `method`'s requirements (as `name`) against `dataset` with every modality and
/// `fusion`, then trains it for `epochs` epochs of [`train_config`] with an `mlp([16], 16)`
/// encoder per modality. Panics on any error.
pub fn train_method(
    method: &mut dyn Method,
    name: &str,
    dataset: &dyn Dataset,
    fusion: &str,
    epochs: usize,
) -> TrainOutcome {
    let spec = dataset.spec();
    check_requirements(name, &method.requirements(), spec, spec.modalities.len(), fusion).unwrap();
    fit(method, dataset, &plan_all(spec, mlp(&[16], 16), fusion), &train_config(epochs), None).unwrap()
}

/// Asserts a training run is healthy: `epochs` epochs (when given); every epoch has a finite
/// train loss, finite val and test metrics, a finite val loss and accuracy for each of
/// `heads`, only finite trace values and at least one point of each trace in `traces`; and
/// the selected epoch's fused val accuracy is above `min_fused_accuracy`.
pub fn assert_healthy(
    out: &TrainOutcome,
    epochs: Option<usize>,
    heads: &[&str],
    traces: &[&str],
    min_fused_accuracy: f64,
) {
    if let Some(n) = epochs {
        assert_eq!(out.epochs.len(), n);
    }
    for e in &out.epochs {
        assert!(e.train_loss.is_finite(), "epoch {}: train loss {}", e.epoch, e.train_loss);
        for (head, metrics) in e.val.heads.iter().chain(&e.test.heads) {
            for (k, v) in metrics {
                assert!(v.is_finite(), "epoch {} head {head} {k} = {v}", e.epoch);
            }
        }
        for head in heads {
            for metric in ["loss", "accuracy"] {
                let v = e.val.get(head, metric).unwrap_or_else(|| panic!("missing {head}/{metric}"));
                assert!(v.is_finite(), "{head}/{metric} = {v}");
            }
        }
        assert!(e.traces.iter().all(|t| t.value.is_finite()), "{:?}", e.traces);
        for name in traces {
            assert!(e.traces.iter().any(|t| t.name == *name), "epoch {}: no trace {name}", e.epoch);
        }
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > min_fused_accuracy, "fused val accuracy {acc} is not above {min_fused_accuracy} (chance {CHANCE})");
}

/// The `(key, value)` points of trace `name` in epoch `epoch`.
pub fn traces(out: &TrainOutcome, epoch: usize, name: &str) -> Vec<(String, f64)> {
    out.epochs[epoch].traces.iter().filter(|t| t.name == name).map(|t| (t.key.clone(), t.value)).collect()
}

/// Everything a [`TrainContext`] borrows, built by hand on CPU for step-level tests and
/// benches: the var store, the model, its parameter groups, an optimizer over all of them (from
/// `config.optimizer`), the configuration and a trace. Nothing is seeded here.
pub struct StepHarness {
    /// The var store holding the model (and any method parameters).
    pub vs: nn::VarStore,
    /// The model.
    pub model: MultimodalModel,
    /// Every trainable parameter, grouped by name.
    pub params: ParamGroups,
    /// The optimizer over `params`.
    pub optimizer: Optimizer,
    /// The training configuration.
    pub config: TrainConfig,
    /// The trace the context records into.
    pub trace: Trace,
}

impl StepHarness {
    /// Builds the model of `plan` for `spec`, then its parameters and optimizer.
    pub fn new(spec: &DatasetSpec, plan: &ModelPlan, config: TrainConfig) -> Self {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = MultimodalModel::new(&vs.root(), spec, plan).unwrap();
        Self::finish(vs, model, config)
    }

    /// Like [`StepHarness::new`], but runs `method.setup` on the fresh model before the
    /// parameters are collected, as the trainer does, so method parameters are included.
    pub fn with_setup(
        method: &mut dyn Method,
        dataset: &dyn Dataset,
        plan: &ModelPlan,
        config: TrainConfig,
        teachers: Option<&TeacherSet>,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(Device::Cpu);
        let spec = dataset.spec();
        let model = MultimodalModel::new(&vs.root(), spec, plan)?;
        method.setup(&mut SetupContext {
            spec,
            model: &model,
            path: vs.root() / "method",
            config: &config,
            teachers,
            dataset,
        })?;
        Ok(Self::finish(vs, model, config))
    }

    fn finish(vs: nn::VarStore, model: MultimodalModel, config: TrainConfig) -> Self {
        let params = ParamGroups::new(&vs);
        let optimizer =
            Optimizer::new(config.optimizer.clone(), params.all.iter().map(|(_, t)| t.shallow_clone()).collect())
                .unwrap();
        StepHarness { vs, model, params, optimizer, config, trace: Trace::default() }
    }

    /// A context at epoch 0, step 0 with `steps_per_epoch` steps, borrowing everything here.
    pub fn context<'a>(
        &'a mut self,
        dataset: &'a dyn Dataset,
        teachers: Option<&'a TeacherSet>,
        steps_per_epoch: usize,
    ) -> TrainContext<'a> {
        TrainContext {
            model: &self.model,
            vs: &self.vs,
            params: &self.params,
            optimizer: &mut self.optimizer,
            dataset,
            teachers,
            config: &self.config,
            epoch: 0,
            step: 0,
            steps_per_epoch,
            device: Device::Cpu,
            trace: &mut self.trace,
        }
    }
}
