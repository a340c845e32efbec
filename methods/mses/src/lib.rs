//! # MSES: modality-specific early stopping
//!
//! Treats each modality's unimodal head as its own task and early-stops it separately: when a
//! modality's smoothed validation loss has not improved for `patience` epochs, its gradient
//! coefficient becomes 0 and the whole model and optimizer roll back to the checkpoint of its
//! best epoch; training ends when every modality has stopped.
//!
//! - Paper: Fujimori et al., "Modality-Specific Learning Rate Control for Multimodal
//!   Classification", ACPR 2019; a G2D (ICCV 2025) baseline.
//! - Official code (the version G2D runs): lihong2303/AGM (AGM_ICCV2023) `run/CREMAD_main.py`,
//!   `--methods MSES` (`train` for the scaling, `CREMAD_main` for the early-stopping logic).
//! - Spec: specs/methods.md section 5.
//!
//! # Algorithm
//! - Every step inside the modulation window: backward of the task loss on the fused logits,
//!   then g <- coeff_m * g for every parameter of encoder m (`GradScope::All`) and of its
//!   unimodal head; coeff_m starts at 1 and becomes 0 when m stops. A coefficient of 0 is not a
//!   freeze: SGD weight decay and momentum still move those parameters (as in the official code).
//! - After every epoch, with L_m the validation loss of modality m's head: the first epoch's
//!   smoothed loss is L_m itself; afterwards L~_m = 0.6 L_m(previous epoch, raw) + 0.4 L_m(now)
//!   (smoothed against the previous *raw* value, not the EMA). A new minimum of L~_m records
//!   the epoch and saves a checkpoint (model [`Snapshot`] + optimizer state).
//! - If epoch - argmin_m > `patience` (80) and m has not stopped: coeff_m = 0 and the *full*
//!   model and optimizer are reloaded from the checkpoint of m's best epoch (rolling back the
//!   other modalities too); modalities are checked in order, so when two stop in the same epoch
//!   the later one's checkpoint wins, as in the official sequential loads. Minima keep being
//!   tracked for stopped modalities.
//! - When every modality has stopped, [`EpochControl::Stop`].
//!
//! # Options
//! - `patience` = 80, `smoothing` = 0.6 (weight of the previous raw loss): official constants.
//! - `modulation-starts` = 0 and `modulation-ends` (unset = no end), official **1-based** epoch
//!   numbering (harness epoch e is official epoch e + 1).
//!
//! # Deviations from the official code
//! - L_m is the **validation** loss (the official code uses the test set), and it is the mean
//!   over all validation samples (the official code averages per-batch means).
//! - The official code never saves a checkpoint at the first epoch, so a modality whose loss
//!   never improves after epoch 1 crashes the roll-back (missing file). The harness saves one.
//! - The official argument default window is 0..20 epochs; with patience 80 a modality can only
//!   stop after epoch 81, outside that window, so its coefficient 0 would never apply and MSES
//!   would reduce to joint training plus roll-backs. The harness's default window has no end so
//!   a stopped modality really stops; `modulation-ends = 20` reproduces the literal default.
//! - The roll-back is applied at the start of the next epoch (in `on_epoch_start`) rather than
//!   right after evaluation, so the trainer's best-epoch snapshot of this epoch still holds the
//!   weights that were evaluated; training from the next epoch on is the same. The optimizer's
//!   learning rate follows the harness schedule, not the checkpoint's.
//! - Only checkpoints that an active modality may still roll back to are kept in memory.
//! - The model is the harness's: any decomposing fusion (late, sum, concat). With late/sum
//!   fusion the head scaled is `fusion.head{m}` (the reference's `audio_cls`/`visual_cls` in its
//!   late sum); with concat fusion it is modality m's column block of the shared weight.
//! - The official code selects the best *test* epoch; the harness selects on validation.
//!
//! Requirements: a decomposing fusion (late, sum, concat), M >= 2; classification or regression
//! (only head losses are used).

use std::collections::BTreeMap;

use harness_core::data::Batch;
use harness_core::method::{EpochControl, Method, Requirements, TrainContext};
use harness_core::model::{ModelOutput, Snapshot, scale_modality_grads};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::tch::Tensor;
use harness_core::trainer::EvalReport;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

const CONTEXT: &str = "options of method `mses`";

/// Options of `mses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MsesConfig {
    /// Epochs without a new smoothed-loss minimum before a modality stops.
    pub patience: usize,
    /// Weight of the previous epoch's raw loss in the smoothed loss (official 0.6).
    pub smoothing: f64,
    /// First epoch of the window (official 1-based numbering, inclusive).
    pub modulation_starts: usize,
    /// Last epoch of the window (official 1-based numbering, inclusive); unset = no end.
    pub modulation_ends: Option<usize>,
}

impl Default for MsesConfig {
    fn default() -> Self {
        MsesConfig { patience: 80, smoothing: 0.6, modulation_starts: 0, modulation_ends: None }
    }
}

/// What the early-stopping rule decided after one epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Save a checkpoint of this epoch (some modality reached a new minimum).
    pub checkpoint: bool,
    /// Modalities that stop now, each with the epoch of the checkpoint to roll back to.
    pub stopped: Vec<(usize, usize)>,
    /// Every modality has stopped.
    pub all_stopped: bool,
}

/// The per-modality early-stopping state of MSES (pure bookkeeping, no tensors).
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    smoothing: f64,
    previous_raw: Vec<Option<f64>>,
    /// Smallest smoothed loss so far, per modality.
    pub min: Vec<f64>,
    /// Epoch of that minimum, per modality.
    pub argmin: Vec<usize>,
    /// Gradient coefficient per modality: 1 while training, 0 once stopped.
    pub coeff: Vec<f64>,
}

impl EarlyStopping {
    /// Fresh state for `m` modalities.
    pub fn new(m: usize, patience: usize, smoothing: f64) -> Self {
        EarlyStopping {
            patience,
            smoothing,
            previous_raw: vec![None; m],
            min: vec![f64::INFINITY; m],
            argmin: vec![0; m],
            coeff: vec![1.0; m],
        }
    }

    /// The smoothed loss of modality `m` for this epoch's raw loss (before it is recorded).
    pub fn smoothed(&self, m: usize, raw: f64) -> f64 {
        match self.previous_raw[m] {
            None => raw,
            Some(prev) => self.smoothing * prev + (1.0 - self.smoothing) * raw,
        }
    }

    /// Folds in epoch `epoch`'s raw validation losses (one per modality) and decides.
    pub fn observe(&mut self, epoch: usize, losses: &[f64]) -> Decision {
        let mut d = Decision::default();
        for (m, &raw) in losses.iter().enumerate() {
            let smoothed = self.smoothed(m, raw);
            self.previous_raw[m] = Some(raw);
            // The first finite loss is always a new minimum (the harness also checkpoints it).
            if smoothed < self.min[m] {
                self.min[m] = smoothed;
                self.argmin[m] = epoch;
                d.checkpoint = true;
            }
        }
        for m in 0..losses.len() {
            if epoch.saturating_sub(self.argmin[m]) > self.patience && self.coeff[m] != 0.0 {
                self.coeff[m] = 0.0;
                d.stopped.push((m, self.argmin[m]));
            }
        }
        d.all_stopped = self.coeff.iter().all(|&c| c == 0.0);
        d
    }

    /// Epochs whose checkpoints an active modality may still roll back to.
    pub fn needed_checkpoints(&self) -> Vec<usize> {
        self.argmin.iter().zip(&self.coeff).filter(|(_, c)| **c != 0.0).map(|(e, _)| *e).collect()
    }
}

type OptimizerState = Vec<(Option<Tensor>, Option<Tensor>, i32)>;

/// MSES: per-modality early stopping with checkpoint roll-back.
#[derive(Debug)]
pub struct Mses {
    config: MsesConfig,
    stopping: Option<EarlyStopping>,
    checkpoints: BTreeMap<usize, (Snapshot, OptimizerState)>,
    pending_rollback: Option<usize>,
}

impl Mses {
    /// Builds the method from its options, checking their ranges.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: MsesConfig = parse_options(CONTEXT, options)?;
        if !(0.0..=1.0).contains(&config.smoothing) {
            return Err(Error::config(
                CONTEXT,
                format!("smoothing = {}, expected a value in [0, 1]", config.smoothing),
            ));
        }
        if let Some(end) = config.modulation_ends
            && config.modulation_starts > end
        {
            return Err(Error::config(
                CONTEXT,
                format!("modulation-starts = {} is after modulation-ends = {end}", config.modulation_starts),
            ));
        }
        Ok(Mses { config, stopping: None, checkpoints: BTreeMap::new(), pending_rollback: None })
    }

    /// The resolved configuration.
    pub fn config(&self) -> &MsesConfig {
        &self.config
    }

    fn in_window(&self, epoch: usize) -> bool {
        let official = epoch + 1;
        self.config.modulation_starts <= official && self.config.modulation_ends.is_none_or(|e| official <= e)
    }
}

impl Method for Mses {
    fn requirements(&self) -> Requirements {
        Requirements { unimodal_heads: true, modalities: (2, usize::MAX), ..Default::default() }
    }

    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn on_epoch_start(&mut self, ctx: &mut TrainContext<'_>) -> Result<()> {
        // The roll-back decided at the end of the previous epoch (see the crate docs).
        if let Some(epoch) = self.pending_rollback.take() {
            let (snapshot, state) = self.checkpoints.get(&epoch).ok_or_else(|| {
                Error::Incompatible(format!("method `mses`: the checkpoint of epoch {epoch} is missing"))
            })?;
            snapshot.restore(ctx.vs);
            ctx.optimizer.restore_state(state);
        }
        Ok(())
    }

    fn modulate_gradients(&mut self, ctx: &mut TrainContext<'_>, _batch: &Batch, _out: &ModelOutput) -> Result<()> {
        let Some(stopping) = &self.stopping else { return Ok(()) };
        if !self.in_window(ctx.epoch) {
            return Ok(());
        }
        for (m, &k) in stopping.coeff.iter().enumerate() {
            if k != 1.0 {
                scale_modality_grads(ctx.params, ctx.model, m, k);
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut TrainContext<'_>, val: &EvalReport) -> Result<EpochControl> {
        let names = &ctx.model.names;
        let losses = names
            .iter()
            .map(|name| {
                val.get(name, "loss").ok_or_else(|| {
                    Error::Incompatible(format!(
                        "method `mses` needs the validation loss of modality `{name}`'s head; use a decomposing \
                         fusion (late, sum, concat)"
                    ))
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        let (patience, smoothing) = (self.config.patience, self.config.smoothing);
        let stopping = self.stopping.get_or_insert_with(|| EarlyStopping::new(names.len(), patience, smoothing));
        let decision = stopping.observe(ctx.epoch, &losses);
        if decision.checkpoint {
            self.checkpoints.insert(ctx.epoch, (Snapshot::take(ctx.vs), ctx.optimizer.state()));
        }
        // Sequential official loads: the last stopping modality's checkpoint wins. A checkpoint
        // can only be missing when every loss so far was NaN; the roll-back is then skipped.
        if let Some(&(_, epoch)) = decision.stopped.last()
            && self.checkpoints.contains_key(&epoch)
        {
            self.pending_rollback = Some(epoch);
        }
        let mut keep = stopping.needed_checkpoints();
        keep.extend(self.pending_rollback);
        self.checkpoints.retain(|e, _| keep.contains(e));
        for (m, name) in names.iter().enumerate() {
            ctx.trace.record("mses-smoothed-loss-min", name, stopping.min[m]);
            ctx.trace.record("mses-best-epoch", name, stopping.argmin[m] as f64);
            ctx.trace.record("mses-coefficient", name, stopping.coeff[m]);
        }
        for &(m, epoch) in &decision.stopped {
            ctx.trace.record("mses-rollback-to", &names[m], epoch as f64);
        }
        Ok(if decision.all_stopped { EpochControl::Stop } else { EpochControl::Continue })
    }
}

harness_core::register_method!(
    "mses",
    "MSES: modality-specific early stopping on smoothed validation head loss, with roll-back (late/sum/concat)",
    Mses
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_uses_the_previous_raw_loss_not_the_ema() {
        let mut s = EarlyStopping::new(1, 80, 0.6);
        s.observe(0, &[1.0]);
        assert_eq!(s.min, vec![1.0]);
        // Epoch 1: 0.6 * 1.0 + 0.4 * 0.5 = 0.8 (new minimum).
        assert!((s.smoothed(0, 0.5) - 0.8).abs() < 1e-12);
        s.observe(1, &[0.5]);
        // Epoch 2: 0.6 * 0.5 (raw, not 0.8) + 0.4 * 0.5 = 0.5.
        assert!((s.smoothed(0, 0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn modality_stops_after_patience_epochs_without_a_new_minimum() {
        // Patience 2. Audio improves at epochs 0, 1, 2 then stalls; visual keeps improving.
        // Smoothed audio: e0 1.0 (min, ckpt); e1 0.6*1.0+0.4*0.8 = 0.92 (min); e2 0.6*0.8+0.4*0.7
        // = 0.76 (min); e3 0.6*0.7+0.4*0.9 = 0.78; e4 0.6*0.9+0.4*0.9 = 0.9; e5 0.9: 5 - 2 = 3 > 2.
        let audio = [1.0, 0.8, 0.7, 0.9, 0.9, 0.9];
        let mut s = EarlyStopping::new(2, 2, 0.6);
        let mut decisions = Vec::new();
        for (e, &a) in audio.iter().enumerate() {
            decisions.push(s.observe(e, &[a, 1.0 - 0.1 * e as f64]));
        }
        assert_eq!(s.argmin[0], 2);
        assert!((s.min[0] - 0.76).abs() < 1e-12);
        // Every epoch checkpoints (visual always reaches a new minimum).
        assert!(decisions.iter().all(|d| d.checkpoint));
        for d in &decisions[..5] {
            assert!(d.stopped.is_empty(), "{d:?}");
        }
        // Epoch 5: audio stops and rolls back to its epoch-2 checkpoint; visual goes on.
        assert_eq!(decisions[5].stopped, vec![(0, 2)]);
        assert!(!decisions[5].all_stopped);
        assert_eq!(s.coeff, vec![0.0, 1.0]);
        // Only visual's latest best epoch is still needed.
        assert_eq!(s.needed_checkpoints(), vec![5]);
        // A stopped modality does not stop twice.
        assert!(s.observe(6, &[0.9, 0.3]).stopped.is_empty());
    }

    #[test]
    fn all_modalities_stopping_in_the_same_epoch_ends_training() {
        // Patience 1, both losses rise after epoch 0: both stop at epoch 2 (2 - 0 > 1).
        let mut s = EarlyStopping::new(2, 1, 0.6);
        let d0 = s.observe(0, &[1.0, 2.0]);
        assert!(d0.checkpoint, "the first epoch is checkpointed");
        let d1 = s.observe(1, &[1.5, 2.5]);
        assert!(!d1.checkpoint && d1.stopped.is_empty());
        let d2 = s.observe(2, &[1.5, 2.5]);
        assert_eq!(d2.stopped, vec![(0, 0), (1, 0)]);
        assert!(d2.all_stopped);
    }

    #[test]
    fn nan_losses_never_become_a_minimum() {
        let mut s = EarlyStopping::new(1, 80, 0.6);
        let d = s.observe(0, &[f64::NAN]);
        assert!(!d.checkpoint);
        let d = s.observe(1, &[1.0]);
        // Smoothed against the NaN raw loss is NaN: still no minimum.
        assert!(!d.checkpoint);
        assert!(s.observe(2, &[1.0]).checkpoint);
        assert_eq!(s.argmin, vec![2]);
    }

    #[test]
    fn options_have_official_defaults_and_reject_bad_values() {
        let m = Mses::from_options(&Options::new()).unwrap();
        assert_eq!(m.config(), &MsesConfig::default());
        assert!(m.in_window(0) && m.in_window(500));
        let m = Mses::from_options(&toml::from_str("modulation-ends = 20\npatience = 3").unwrap()).unwrap();
        assert!(m.in_window(19) && !m.in_window(20));
        assert_eq!(Mses::from_options(&m.options()).unwrap().config(), m.config());
        for bad in ["smoothing = 1.5", "modulation-starts = 5\nmodulation-ends = 2", "patiance = 3"] {
            assert!(Mses::from_options(&toml::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
