//! # MSLR: modality-specific learning rates
//!
//! Gives each modality its own effective learning rate: after backward, the gradients of the
//! modality's whole encoder and of its unimodal head are multiplied by coeff_m = init_m * r_m,
//! where r_m follows the modality's recent validation accuracy.
//!
//! - Paper: Yao & Mihalcea, "Modality-specific Learning Rates for Effective Multimodal Additive
//!   Late-fusion", Findings of ACL 2022; a G2D (ICCV 2025) baseline.
//! - Official code (the version G2D runs): lihong2303/AGM (AGM_ICCV2023) `run/CREMAD_main.py`,
//!   `--methods MSLR` (`train` for the scaling, `CREMAD_main` for the ratio update);
//!   `run/URFunny_main.py` for three modalities.
//! - Spec: specs/methods.md section 5.
//!
//! # Algorithm
//! - Every step inside the modulation window: backward of the task loss on the fused logits,
//!   then g <- coeff_m * g for every parameter of encoder m (`GradScope::All`) and of its
//!   unimodal head, with coeff_m = init_m * r_m.
//! - After every epoch, with acc_m the validation accuracy of modality m's head and a FIFO of
//!   the last `history` (5) accuracies: while the FIFO is not full, append acc_m (r_m stays at
//!   its value, initially 1); once full, r_m = acc_m / mean(FIFO), then drop the oldest entry
//!   and append acc_m.
//! - Because this is gradient scaling, it is not an exact learning-rate change: weight decay
//!   and momentum are not rescaled (as in the official code).
//!
//! # Options
//! - `init`: a table modality name -> init_m. Names not in the table get the CREMA-D values of
//!   the official code when the model has two modalities (`audio` 0.9, `visual` 1.1, any other
//!   name 1.0) and 1.0 when it has more (the official UR-Funny values a 0.9 / v 1.4 / t 0.7 and
//!   AV-MNIST a 1.3 / v 0.7 can be written here). Unknown names are an error.
//! - `history` = 5: FIFO length.
//! - `modulation-starts` = 0, `modulation-ends` = 20: the official argument defaults, in the
//!   official **1-based** epoch numbering (harness epoch e is official epoch e + 1), so the
//!   coefficients apply during the first 20 epochs.
//!
//! # Deviations from the official code
//! - acc_m comes from the **validation** split (the official code uses the test set).
//! - The official `test` function counts a visual hit for *both* acc_a and acc_v (a copy-paste
//!   bug: in the multimodal branch `acc_a` is incremented when the visual prediction is right),
//!   so its audio ratio is really the visual one. The harness uses each head's own accuracy.
//! - A FIFO mean of 0 would divide by zero; r_m is then left unchanged.
//! - The model is the harness's: any decomposing fusion (late, sum, concat). The reference uses
//!   a late sum (z = audio_cls(f_a) + visual_cls(f_v)) whose heads are scaled entirely; with
//!   late/sum fusion the harness scales `fusion.head{m}` in the same way; with concat fusion it
//!   scales modality m's column block of the shared weight and leaves the shared bias alone.
//! - The official code selects the best *test* epoch; the harness selects on validation.
//!
//! Requirements: a decomposing fusion (late, sum, concat), classification, M >= 2.

use std::collections::{BTreeMap, VecDeque};

use harness_core::data::Batch;
use harness_core::method::{EpochControl, Method, Requirements, SetupContext, TrainContext};
use harness_core::model::{ModelOutput, scale_modality_grads};
use harness_core::options::{Options, parse_options, to_options};
use harness_core::trainer::EvalReport;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

const CONTEXT: &str = "options of method `mslr`";

/// Options of `mslr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MslrConfig {
    /// init_m per modality name; missing names get the CREMA-D defaults (see the crate docs).
    pub init: BTreeMap<String, f64>,
    /// Length of the FIFO of validation accuracies.
    pub history: usize,
    /// First epoch of the window (official 1-based numbering, inclusive).
    pub modulation_starts: usize,
    /// Last epoch of the window (official 1-based numbering, inclusive).
    pub modulation_ends: usize,
}

impl Default for MslrConfig {
    fn default() -> Self {
        MslrConfig { init: BTreeMap::new(), history: 5, modulation_starts: 0, modulation_ends: 20 }
    }
}

/// The init coefficient of a modality that the `init` table does not name: the official
/// CREMA-D values for a two-modality audio-visual model, otherwise 1.
pub fn default_init(name: &str, modalities: usize) -> f64 {
    match (modalities, name) {
        (2, "audio") => 0.9,
        (2, "visual") => 1.1,
        _ => 1.0,
    }
}

/// The FIFO of one modality's validation accuracies and its learning-rate ratio r_m.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyHistory {
    capacity: usize,
    entries: VecDeque<f64>,
    ratio: f64,
}

impl AccuracyHistory {
    /// An empty FIFO of `capacity` entries with r = 1.
    pub fn new(capacity: usize) -> Self {
        AccuracyHistory { capacity, entries: VecDeque::with_capacity(capacity), ratio: 1.0 }
    }

    /// The current ratio r_m.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Folds in one epoch's accuracy (official order: ratio against the FIFO *before* this
    /// accuracy, then pop the oldest and push) and returns the new r_m.
    pub fn observe(&mut self, accuracy: f64) -> f64 {
        if self.entries.len() < self.capacity {
            self.entries.push_back(accuracy);
            return self.ratio;
        }
        let mean = self.entries.iter().sum::<f64>() / self.entries.len() as f64;
        if mean > 0.0 && accuracy.is_finite() {
            self.ratio = accuracy / mean;
        }
        self.entries.pop_front();
        self.entries.push_back(accuracy);
        self.ratio
    }
}

/// MSLR: per-modality gradient coefficients init_m * r_m from validation accuracy.
#[derive(Debug)]
pub struct Mslr {
    config: MslrConfig,
    init: Vec<f64>,
    history: Vec<AccuracyHistory>,
}

impl Mslr {
    /// Builds the method from its options, checking their ranges.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: MslrConfig = parse_options(CONTEXT, options)?;
        if config.history == 0 {
            return Err(Error::config(CONTEXT, "history must be at least 1"));
        }
        if let Some((name, v)) = config.init.iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
            return Err(Error::config(CONTEXT, format!("init.{name} = {v}, expected a finite value >= 0")));
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
        Ok(Mslr { config, init: Vec::new(), history: Vec::new() })
    }

    /// The resolved configuration.
    pub fn config(&self) -> &MslrConfig {
        &self.config
    }

    /// Resolves init_m for the model's modalities (names in order); unknown table keys are an
    /// error naming the modalities.
    pub fn resolve_init(&self, names: &[String]) -> Result<Vec<f64>> {
        if let Some(key) = self.config.init.keys().find(|k| !names.contains(k)) {
            return Err(Error::config(
                CONTEXT,
                format!("init names modality `{key}`, but the model has: {}", names.join(", ")),
            ));
        }
        Ok(names.iter().map(|n| self.config.init.get(n).copied().unwrap_or(default_init(n, names.len()))).collect())
    }

    /// The coefficient init_m * r_m of every modality.
    pub fn coefficients(&self) -> Vec<f64> {
        self.init.iter().zip(&self.history).map(|(i, h)| i * h.ratio()).collect()
    }

    fn in_window(&self, epoch: usize) -> bool {
        let official = epoch + 1;
        self.config.modulation_starts <= official && official <= self.config.modulation_ends
    }
}

impl Method for Mslr {
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

    fn setup(&mut self, ctx: &mut SetupContext<'_>) -> Result<()> {
        self.init = self.resolve_init(&ctx.model.names)?;
        self.history = self.init.iter().map(|_| AccuracyHistory::new(self.config.history)).collect();
        Ok(())
    }

    fn modulate_gradients(&mut self, ctx: &mut TrainContext<'_>, _batch: &Batch, _out: &ModelOutput) -> Result<()> {
        let active = self.in_window(ctx.epoch);
        for (m, k) in self.coefficients().into_iter().enumerate() {
            let applied = if active { k } else { 1.0 };
            ctx.trace.record("mslr-coefficient", &ctx.model.names[m], applied);
            if applied != 1.0 {
                scale_modality_grads(ctx.params, ctx.model, m, applied);
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut TrainContext<'_>, val: &EvalReport) -> Result<EpochControl> {
        for (m, name) in ctx.model.names.iter().enumerate() {
            let acc = val.get(name, "accuracy").ok_or_else(|| {
                Error::Incompatible(format!(
                    "method `mslr` needs the validation accuracy of modality `{name}`'s head; use a decomposing \
                     fusion (late, sum, concat)"
                ))
            })?;
            let r = self.history[m].observe(acc);
            ctx.trace.record("mslr-ratio", name, r);
        }
        Ok(EpochControl::Continue)
    }
}

harness_core::register_method!(
    "mslr",
    "MSLR: modality-specific learning rates from validation accuracy, as per-modality gradient scales (late/sum/concat)",
    Mslr
);

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn ratio_stays_one_until_the_fifo_is_full_then_follows_accuracy_over_fifo_mean() {
        let mut h = AccuracyHistory::new(5);
        // Epochs 1-5 fill the FIFO: r stays 1.
        for acc in [0.5, 0.6, 0.7, 0.8, 0.9] {
            close(h.observe(acc), 1.0);
        }
        // Epoch 6: r = 1.0 / mean(0.5, 0.6, 0.7, 0.8, 0.9) = 1 / 0.7; FIFO becomes 0.6..1.0.
        close(h.observe(1.0), 1.0 / 0.7);
        // Epoch 7: r = 0.35 / mean(0.6, 0.7, 0.8, 0.9, 1.0) = 0.35 / 0.8 = 0.4375.
        close(h.observe(0.35), 0.4375);
    }

    #[test]
    fn coefficients_are_init_times_ratio_with_crema_d_inits() {
        let mut m = Mslr::from_options(&Options::new()).unwrap();
        let names = vec!["audio".to_string(), "visual".to_string()];
        m.init = m.resolve_init(&names).unwrap();
        assert_eq!(m.init, vec![0.9, 1.1]);
        m.history = vec![AccuracyHistory::new(5), AccuracyHistory::new(5)];
        // Audio accuracy 0.5 x5 then 0.6 -> r_a = 1.2; visual 0.4 x5 then 0.2 -> r_v = 0.5.
        for _ in 0..5 {
            m.history[0].observe(0.5);
            m.history[1].observe(0.4);
        }
        assert_eq!(m.coefficients(), vec![0.9, 1.1]);
        m.history[0].observe(0.6);
        m.history[1].observe(0.2);
        let c = m.coefficients();
        assert!((c[0] - 0.9 * 1.2).abs() < 1e-12 && (c[1] - 1.1 * 0.5).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn zero_fifo_mean_keeps_the_ratio() {
        let mut h = AccuracyHistory::new(2);
        h.observe(0.0);
        h.observe(0.0);
        close(h.observe(0.5), 1.0);
        // FIFO is now [0, 0.5], mean 0.25: r = 0.5 / 0.25 = 2.
        close(h.observe(0.5), 2.0);
    }

    #[test]
    fn init_table_is_keyed_by_modality_name_and_defaults_to_one_beyond_two_modalities() {
        let m = Mslr::from_options(&toml::from_str("init = { text = 0.7 }").unwrap()).unwrap();
        let three: Vec<String> = ["audio", "visual", "text"].iter().map(|s| s.to_string()).collect();
        assert_eq!(m.resolve_init(&three).unwrap(), vec![1.0, 1.0, 0.7]);
        let err = m.resolve_init(&["audio".to_string(), "visual".to_string()]).unwrap_err();
        assert!(err.to_string().contains("text") && err.to_string().contains("audio, visual"), "{err}");
        let m = Mslr::from_options(&toml::from_str("init = { audio = 1.3, visual = 0.7 }").unwrap()).unwrap();
        assert_eq!(m.resolve_init(&["audio".to_string(), "visual".to_string()]).unwrap(), vec![1.3, 0.7]);
        let tab: Vec<String> = ["image", "tabular"].iter().map(|s| s.to_string()).collect();
        assert_eq!(Mslr::from_options(&Options::new()).unwrap().resolve_init(&tab).unwrap(), vec![1.0, 1.0]);
    }

    #[test]
    fn options_reject_bad_values_and_round_trip() {
        for bad in ["history = 0", "init = { audio = -1.0 }", "modulation-starts = 30", "lr = 0.1"] {
            assert!(Mslr::from_options(&toml::from_str(bad).unwrap()).is_err(), "{bad}");
        }
        let m = Mslr::from_options(&toml::from_str("init = { audio = 0.5 }\nhistory = 3").unwrap()).unwrap();
        assert_eq!(Mslr::from_options(&m.options()).unwrap().config(), m.config());
        let d = Mslr::from_options(&Options::new()).unwrap();
        assert!(d.in_window(0) && d.in_window(19) && !d.in_window(20));
    }
}
