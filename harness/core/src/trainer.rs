//! The training loop shared by every method: epochs of [`Method::train_step`], evaluation of
//! every head on the validation and test splits, and model selection on validation.
//!
//! Selection: the epoch with the best validation score of the fused output (highest accuracy
//! for classification, lowest RMSE for regression; ties keep the earlier epoch) is selected, and
//! its test metrics are reported. Test metrics are recorded every epoch for the curves but never
//! used to choose anything.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn};

use crate::data::{Dataset, Loader, Split, Task};
use crate::error::{Error, Result};
use crate::method::{EpochControl, EvalContext, Method, SetupContext, TrainContext, task_loss};
use crate::metrics::{self, MetricMap};
use crate::model::{ModelPlan, MultimodalModel, ParamGroups, Snapshot};
use crate::optim::{Optimizer, OptimizerConfig, StepLr};
use crate::teacher::TeacherSet;
use crate::trace::{Trace, TracePoint};

/// Training settings of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrainConfig {
    /// Number of epochs.
    pub epochs: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// Evaluation batch size (default: 4x the training batch size).
    #[serde(default)]
    pub eval_batch_size: Option<usize>,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// Optional step LR schedule.
    #[serde(default)]
    pub lr_schedule: Option<StepLr>,
    /// Seed of initialisation, shuffling and any method randomness.
    pub seed: u64,
}

impl TrainConfig {
    /// The evaluation batch size.
    pub fn eval_batch_size(&self) -> usize {
        self.eval_batch_size.unwrap_or(self.batch_size * 4).max(1)
    }
}

/// Metrics of every head on one split: head (`fused` or a modality name) -> metric -> value.
/// Every head also has a `loss` entry (the task loss of that head's logits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Head -> metrics.
    pub heads: BTreeMap<String, MetricMap>,
}

impl EvalReport {
    /// A metric of a head, if present.
    pub fn get(&self, head: &str, metric: &str) -> Option<f64> {
        self.heads.get(head).and_then(|m| m.get(metric)).copied()
    }
}

/// One epoch's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Wall time of the training part of the epoch, seconds.
    pub train_seconds: f64,
    /// Wall time of evaluation, seconds.
    pub eval_seconds: f64,
    /// Validation metrics.
    pub val: EvalReport,
    /// Test metrics (reported, never used for selection).
    pub test: EvalReport,
    /// Traces recorded by the method during the epoch.
    pub traces: Vec<TracePoint>,
}

/// The result of training.
#[derive(Debug)]
pub struct TrainOutcome {
    /// Every epoch's record.
    pub epochs: Vec<EpochRecord>,
    /// The selected epoch (by validation).
    pub selected_epoch: usize,
    /// The trained model, restored to the selected epoch's weights.
    pub model: MultimodalModel,
    /// Its var store.
    pub vs: nn::VarStore,
    /// Peak resident memory of the process in bytes, where measurable.
    pub peak_memory_bytes: Option<u64>,
}

impl TrainOutcome {
    /// The selected epoch's record.
    pub fn selected(&self) -> &EpochRecord {
        &self.epochs[self.selected_epoch]
    }
}

/// Receives progress from the trainer (console progress bars, logs).
pub trait Observer {
    /// After each training step.
    fn step(&mut self, _epoch: usize, _step: usize, _steps: usize, _loss: f64) {}
    /// After each epoch.
    fn epoch(&mut self, _record: &EpochRecord, _epochs: usize) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Higher is better for classification accuracy, lower for regression RMSE.
fn selection_score(task: Task, val: &EvalReport) -> f64 {
    match task {
        Task::Classification { .. } => val.get("fused", "accuracy").unwrap_or(f64::NEG_INFINITY),
        Task::Regression => -val.get("fused", "rmse").unwrap_or(f64::INFINITY),
    }
}

/// Trains `method` on `dataset` with the model of `plan` and returns the selected model and
/// every epoch's metrics.
pub fn train(
    method: &mut dyn Method,
    dataset: &dyn Dataset,
    plan: &ModelPlan,
    config: &TrainConfig,
    device: Device,
    teachers: Option<&TeacherSet>,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome> {
    tch::manual_seed(config.seed as i64);
    let spec = dataset.spec();
    let vs = nn::VarStore::new(device);
    let model = MultimodalModel::new(&vs.root(), spec, plan)?;
    method.setup(&mut SetupContext { spec, model: &model, path: vs.root() / "method", config, teachers, dataset })?;
    let params = ParamGroups::new(&vs);
    let mut optimizer =
        Optimizer::new(config.optimizer.clone(), params.all.iter().map(|(_, t)| t.shallow_clone()).collect())?;
    let mut trace = Trace::default();
    let mut epochs = Vec::new();
    let mut best: Option<(f64, usize, Snapshot)> = None;
    let n_train = dataset.len(Split::Train);
    if n_train == 0 {
        return Err(Error::config(format!("dataset `{}`", spec.name), "the train split is empty"));
    }

    for epoch in 0..config.epochs {
        let lr = config.optimizer.lr() * config.lr_schedule.map_or(1.0, |s| s.factor(epoch));
        optimizer.set_lr(lr);
        let loader = Loader::new(
            n_train,
            Split::Train,
            config.batch_size,
            Some(config.seed.wrapping_mul(7919).wrapping_add(epoch as u64)),
        );
        let steps = loader.num_batches();
        let started = Instant::now();
        let mut ctx = TrainContext {
            model: &model,
            vs: &vs,
            params: &params,
            optimizer: &mut optimizer,
            dataset,
            teachers,
            config,
            epoch,
            step: 0,
            steps_per_epoch: steps,
            device,
            trace: &mut trace,
        };
        method.on_epoch_start(&mut ctx)?;
        let mut loss_sum = 0.0;
        for i in 0..steps {
            let batch = loader.load(dataset, i, device)?;
            ctx.step = i;
            let stats = method.train_step(&mut ctx, &batch)?;
            if !stats.loss.is_finite() {
                return Err(Error::Diverged(format!("loss {} at epoch {epoch}, step {i}", stats.loss)));
            }
            loss_sum += stats.loss;
            observer.step(epoch, i, steps, stats.loss);
        }
        let train_seconds = started.elapsed().as_secs_f64();
        let eval_started = Instant::now();
        let val = evaluate(method, &model, dataset, Split::Val, config, device, teachers)?;
        let test = evaluate(method, &model, dataset, Split::Test, config, device, teachers)?;
        let eval_seconds = eval_started.elapsed().as_secs_f64();
        let control = method.on_epoch_end(&mut ctx, &val)?;
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / steps.max(1) as f64,
            lr,
            train_seconds,
            eval_seconds,
            traces: trace.finish_epoch(epoch),
            val,
            test,
        };
        let score = selection_score(spec.task, &record.val);
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, epoch, Snapshot::take(&vs)));
        }
        observer.epoch(&record, config.epochs);
        epochs.push(record);
        if control == EpochControl::Stop {
            break;
        }
    }
    let Some((_, selected_epoch, snapshot)) = best else {
        return Err(Error::config("training configuration", "epochs must be at least 1"));
    };
    snapshot.restore(&vs);
    Ok(TrainOutcome { epochs, selected_epoch, model, vs, peak_memory_bytes: peak_memory_bytes() })
}

/// Evaluates every head of `method`'s predictions on `split`.
pub fn evaluate(
    method: &dyn Method,
    model: &MultimodalModel,
    dataset: &dyn Dataset,
    split: Split,
    config: &TrainConfig,
    device: Device,
    teachers: Option<&TeacherSet>,
) -> Result<EvalReport> {
    let n = dataset.len(split);
    let loader = Loader::new(n, split, config.eval_batch_size(), None);
    let ctx = EvalContext { model, teachers, dataset, split, device };
    let mut fused = Vec::new();
    let mut heads: Vec<Vec<Tensor>> = (0..model.num_modalities()).map(|_| Vec::new()).collect();
    let mut has_head = vec![true; model.num_modalities()];
    let mut targets = Vec::new();
    for i in 0..loader.num_batches() {
        let batch = loader.load(dataset, i, device)?;
        let pred = tch::no_grad(|| method.predict(&ctx, &batch))?;
        fused.push(pred.fused.detach().to_device(Device::Cpu));
        for (m, h) in pred.heads.into_iter().enumerate().take(heads.len()) {
            match h {
                Some(h) => heads[m].push(h.detach().to_device(Device::Cpu)),
                None => has_head[m] = false,
            }
        }
        targets.push(batch.targets.to_device(Device::Cpu));
    }
    let mut report = EvalReport::default();
    if targets.is_empty() {
        return Ok(report);
    }
    let targets = Tensor::cat(&targets, 0);
    let range = dataset.target_range();
    report.heads.insert("fused".into(), head_metrics(model.task, &Tensor::cat(&fused, 0), &targets, range));
    for (m, name) in model.names.iter().enumerate() {
        if has_head[m] && !heads[m].is_empty() {
            report.heads.insert(name.clone(), head_metrics(model.task, &Tensor::cat(&heads[m], 0), &targets, range));
        }
    }
    Ok(report)
}

/// Metrics plus `loss` of one head's logits. For regression, `range` = the original `(min, max)`
/// of min-max scaled targets: predictions and targets are mapped back before MAPE, R² and RMSE
/// (the loss stays on the scaled values the model trains on).
pub fn head_metrics(task: Task, logits: &Tensor, targets: &Tensor, range: Option<(f64, f64)>) -> MetricMap {
    let loss = task_loss(task, logits, targets).double_value(&[]);
    let mut m = match task {
        Task::Classification { classes } => {
            let pred: Vec<i64> = Vec::try_from(logits.argmax(-1, false)).unwrap_or_default();
            let t: Vec<i64> = Vec::try_from(targets.to_kind(Kind::Int64)).unwrap_or_default();
            metrics::classification(&pred, &t, classes)
        }
        Task::Regression => {
            let (lo, hi) = range.unwrap_or((0.0, 1.0));
            let unscaled = |t: &Tensor| -> Vec<f64> {
                Vec::<f64>::try_from(t.to_kind(Kind::Double))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| v * (hi - lo) + lo)
                    .collect()
            };
            metrics::regression(&unscaled(&logits.squeeze_dim(-1).sigmoid()), &unscaled(targets))
        }
    };
    m.insert("loss".into(), loss);
    m
}

/// The process's peak resident set size (Linux `VmHWM`), in bytes.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_metrics_are_reported_in_original_units() {
        // Sigmoid(0) = 0.5 on a [10, 30] range is 20; targets 0.25 and 0.75 are 15 and 25.
        let logits = Tensor::zeros([2, 1], (Kind::Float, Device::Cpu));
        let targets = Tensor::from_slice(&[0.25f32, 0.75]);
        let m = head_metrics(Task::Regression, &logits, &targets, Some((10.0, 30.0)));
        assert!((m["rmse"] - 5.0).abs() < 1e-9, "{m:?}");
        assert!((m["mape"] - 100.0 * (5.0 / 15.0 + 5.0 / 25.0) / 2.0).abs() < 1e-9, "{m:?}");
        let scaled = head_metrics(Task::Regression, &logits, &targets, None);
        assert!((scaled["rmse"] - 0.25).abs() < 1e-9);
        assert!((m["r2"] - scaled["r2"]).abs() < 1e-12, "R² does not depend on the units");
    }
}
