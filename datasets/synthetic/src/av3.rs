//! `synthetic-av3`: three modalities with graded strength, the M = 3 case of SMP.
//!
//! Same generative process as [`crate::av`] (prototypes per class, a per-modality reliability
//! and SNR): audio is dominant (fast, 55% reliable), text is intermediate (medium SNR, 80%
//! reliable), visual is weak (slow, augmented during training, fully reliable).

use harness_core::Result;
use harness_core::data::{Dataset, DatasetContext, DatasetEntry, ModalityKind};
use harness_core::options::parse_options;
use serde::{Deserialize, Serialize};

use crate::augment::SyntheticDataset;
use crate::av::{ModalityDef, ModalitySignal, generate};

/// Options of `synthetic-av3`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SyntheticAv3Config {
    /// Number of classes C.
    pub classes: usize,
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub val: usize,
    /// Test samples.
    pub test: usize,
    /// Seed of the data.
    pub seed: u64,
    /// The dominant modality.
    pub audio: ModalitySignal,
    /// The weakest, most informative modality.
    pub visual: ModalitySignal,
    /// The intermediate modality.
    pub text: ModalitySignal,
}

impl Default for SyntheticAv3Config {
    fn default() -> Self {
        SyntheticAv3Config {
            classes: 5,
            train: 2000,
            val: 500,
            test: 1000,
            seed: 0,
            audio: ModalitySignal { dim: 16, snr: 1.5, reliability: 0.55, sign_flip: false, augment_noise: 0.0 },
            visual: ModalitySignal { dim: 64, snr: 0.4, reliability: 1.0, sign_flip: true, augment_noise: 1.5 },
            text: ModalitySignal { dim: 32, snr: 0.6, reliability: 0.8, sign_flip: false, augment_noise: 0.0 },
        }
    }
}

impl SyntheticAv3Config {
    /// Generates the dataset.
    pub fn generate(&self) -> Result<SyntheticDataset> {
        generate(
            "synthetic-av3",
            self.classes,
            [self.train, self.val, self.test],
            self.seed,
            &[
                ModalityDef { name: "audio", kind: ModalityKind::Audio, signal: self.audio },
                ModalityDef { name: "visual", kind: ModalityKind::Visual, signal: self.visual },
                ModalityDef { name: "text", kind: ModalityKind::Text, signal: self.text },
            ],
        )
    }
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    let cfg: SyntheticAv3Config = parse_options("options of dataset `synthetic-av3`", &ctx.options)?;
    Ok(Box::new(cfg.generate()?))
}

inventory::submit! {
    DatasetEntry {
        name: "synthetic-av3",
        description: "synthetic audio (dominant) + visual (weak) + text (intermediate) classification, M = 3",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::data::Split;

    #[test]
    fn three_modalities_in_order() {
        let d = SyntheticAv3Config { train: 10, val: 5, test: 5, ..Default::default() }.generate().unwrap();
        assert_eq!(d.spec().modality_names(), vec!["audio", "visual", "text"]);
        let b = d.batch(Split::Val, &[0, 1], None).unwrap();
        assert_eq!(b.inputs[2].size(), vec![2, 32]);
    }
}
