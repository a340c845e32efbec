//! `synthetic-av`: two modalities, C classes, with a dominant and a weak modality.
//!
//! # Generative process
//! Each class c has a random prototype per modality, mu_m[c] ~ N(0, I_{d_m}). A sample of class
//! y draws, for each modality m, the class it "shows", c_m: with probability `reliability_m` it
//! is y, otherwise a uniformly random class. Its input is
//!
//!   x_m = snr_m * mu_m[c_m] + eps,  eps ~ N(0, I_{d_m}).
//!
//! - **audio (dominant)**: few dimensions, high SNR, reliability 0.85. A linear read-out fits it
//!   in a few steps and confidently, but it caps accuracy at about 0.85 + 0.15/C (about 85%).
//! - **visual (weak)**: many dimensions, low SNR, reliability 1, a random sign per sample
//!   (`sign-flip`: the class mean is zero, so only nonlinear features, |projection| onto a
//!   prototype, reveal the class) and training-time noise augmentation (`augment-noise` 1.5,
//!   [`crate::augment`], the stand-in for random crops). It carries the label for every sample
//!   (about 90% alone on clean test inputs), but it is slow and hard to fit on the training set,
//!   so its teacher is the less confident one there, the one G2D's SMP prioritizes.
//!
//! Trained alone, the visual encoder beats audio clearly. Trained jointly, the confident audio
//! logits drive the fused loss down early, the gradient reaching the visual encoder shrinks on
//! every sample audio already gets right, and the visual head inside the joint model stays well
//! below the visual model trained alone: the modality imbalance of the G2D paper.

use harness_core::data::{
    Dataset, DatasetContext, DatasetEntry, DatasetSpec, EncoderChoice, InMemoryDataset, InMemorySplit, ModalityKind,
    ModalitySpec, Task,
};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::augment::SyntheticDataset;
use crate::sampling;

/// How one modality shows the class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModalitySignal {
    /// Input dimension d_m.
    pub dim: usize,
    /// Prototype scale (signal-to-noise ratio per dimension).
    pub snr: f32,
    /// Probability that the modality shows the true class rather than a random one.
    pub reliability: f64,
    /// Random sign of the prototype per sample: the class mean is then zero, so the class is
    /// only visible through nonlinear features (|projection|), which an MLP learns slowly.
    #[serde(default)]
    pub sign_flip: bool,
    /// Standard deviation of Gaussian noise added to training batches only (augmentation; see
    /// [`crate::augment`]). 0 disables it.
    #[serde(default)]
    pub augment_noise: f32,
}

/// Options of `synthetic-av`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SyntheticAvConfig {
    /// Number of classes C.
    pub classes: usize,
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub val: usize,
    /// Test samples.
    pub test: usize,
    /// Seed of the data (independent of the training seed, so every seed sees the same data).
    pub seed: u64,
    /// The dominant modality.
    pub audio: ModalitySignal,
    /// The weak modality.
    pub visual: ModalitySignal,
}

impl Default for SyntheticAvConfig {
    fn default() -> Self {
        SyntheticAvConfig {
            classes: 5,
            train: 2000,
            val: 500,
            test: 1000,
            seed: 0,
            audio: ModalitySignal { dim: 16, snr: 1.5, reliability: 0.85, sign_flip: false, augment_noise: 0.0 },
            visual: ModalitySignal { dim: 64, snr: 0.4, reliability: 1.0, sign_flip: true, augment_noise: 1.5 },
        }
    }
}

/// A named modality with its signal and kind, for the shared generator.
#[derive(Debug, Clone)]
pub(crate) struct ModalityDef {
    pub name: &'static str,
    pub kind: ModalityKind,
    pub signal: ModalitySignal,
}

/// Checks the common sizes and returns a config error naming the dataset otherwise.
pub(crate) fn check(name: &str, classes: usize, sizes: [usize; 3], mods: &[ModalityDef]) -> Result<()> {
    let ctx = format!("options of dataset `{name}`");
    if classes < 2 {
        return Err(Error::config(ctx, format!("classes = {classes}, expected at least 2")));
    }
    if sizes.contains(&0) {
        return Err(Error::config(ctx, "train, val and test must each have at least one sample"));
    }
    for m in mods {
        if m.signal.dim == 0 || !(0.0..=1.0).contains(&m.signal.reliability) || m.signal.augment_noise < 0.0 {
            return Err(Error::config(
                ctx,
                format!("modality `{}`: dim must be > 0, reliability in [0, 1] and augment-noise >= 0", m.name),
            ));
        }
    }
    Ok(())
}

/// Generates a prototype-based classification dataset (see the module docs).
pub(crate) fn generate(
    name: &str,
    classes: usize,
    sizes: [usize; 3],
    seed: u64,
    mods: &[ModalityDef],
) -> Result<SyntheticDataset> {
    check(name, classes, sizes, mods)?;
    let mut proto_rng = sampling::rng(seed, u64::MAX);
    let prototypes: Vec<Vec<Vec<f32>>> =
        mods.iter().map(|m| sampling::normal_table(&mut proto_rng, classes, m.signal.dim)).collect();
    let spec = DatasetSpec {
        name: name.to_string(),
        task: Task::Classification { classes },
        modalities: mods
            .iter()
            .map(|m| ModalitySpec {
                name: m.name.to_string(),
                kind: m.kind,
                shape: vec![m.signal.dim as i64],
                default_encoder: EncoderChoice::named("mlp"),
            })
            .collect(),
    };
    let mut splits = Vec::new();
    let mut offset = 0u64;
    for n in sizes {
        let (bufs, targets) = sampling::generate(n, seed, offset, mods.len(), |_, r| {
            let y = sampling::class(r, classes);
            let xs = mods
                .iter()
                .zip(&prototypes)
                .map(|(m, protos)| {
                    let shown =
                        if rand::Rng::gen_bool(r, m.signal.reliability) { y } else { sampling::class(r, classes) };
                    let sign = if m.signal.sign_flip && rand::Rng::gen_bool(r, 0.5) { -1.0 } else { 1.0 };
                    protos[shown].iter().map(|&p| sign * m.signal.snr * p + sampling::normal(r)).collect()
                })
                .collect();
            (xs, y as i64)
        });
        offset += n as u64;
        splits.push(InMemorySplit {
            inputs: bufs.iter().zip(mods).map(|(b, m)| sampling::tensor(b, n, &[m.signal.dim as i64])).collect(),
            targets: Tensor::from_slice(&targets),
            present: None,
        });
    }
    let test = splits.pop().expect("three splits");
    let val = splits.pop().expect("three splits");
    let train = splits.pop().expect("three splits");
    let noise = mods.iter().map(|m| m.signal.augment_noise).collect();
    Ok(SyntheticDataset::new(InMemoryDataset::new(spec, train, val, test)?, noise))
}

impl SyntheticAvConfig {
    /// Generates the dataset.
    pub fn generate(&self) -> Result<SyntheticDataset> {
        generate(
            "synthetic-av",
            self.classes,
            [self.train, self.val, self.test],
            self.seed,
            &[
                ModalityDef { name: "audio", kind: ModalityKind::Audio, signal: self.audio },
                ModalityDef { name: "visual", kind: ModalityKind::Visual, signal: self.visual },
            ],
        )
    }
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    let cfg: SyntheticAvConfig = parse_options("options of dataset `synthetic-av`", &ctx.options)?;
    Ok(Box::new(cfg.generate()?))
}

inventory::submit! {
    DatasetEntry {
        name: "synthetic-av",
        description: "synthetic audio (dominant, fast, 85% reliable) + visual (weak, slow, augmented, fully informative) classification",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::data::Split;
    use harness_core::options::Options;

    fn small() -> SyntheticAvConfig {
        SyntheticAvConfig { train: 64, val: 16, test: 32, ..Default::default() }
    }

    #[test]
    fn generation_is_deterministic_and_shaped() {
        let a = small().generate().unwrap();
        let b = small().generate().unwrap();
        assert_eq!(a.len(Split::Train), 64);
        assert_eq!(a.len(Split::Test), 32);
        let ba = a.batch(Split::Train, &[0, 5, 9], None).unwrap();
        let bb = b.batch(Split::Train, &[0, 5, 9], None).unwrap();
        assert_eq!(ba.inputs[0].size(), vec![3, 16]);
        assert_eq!(ba.inputs[1].size(), vec![3, 64]);
        assert!(ba.inputs[1].equal(&bb.inputs[1]));
        assert!(ba.targets.equal(&bb.targets));
    }

    #[test]
    fn different_seed_gives_different_data() {
        let a = small().generate().unwrap();
        let b = SyntheticAvConfig { seed: 1, ..small() }.generate().unwrap();
        let xa = a.batch(Split::Train, &[0], None).unwrap();
        let xb = b.batch(Split::Train, &[0], None).unwrap();
        assert!(!xa.inputs[0].equal(&xb.inputs[0]));
    }

    #[test]
    fn bad_options_are_rejected_with_the_key() {
        let opts: Options = toml::from_str("clases = 3").unwrap();
        let err = parse_options::<SyntheticAvConfig>("options of dataset `synthetic-av`", &opts).unwrap_err();
        assert!(err.to_string().contains("classes"), "{err}");
        let err = SyntheticAvConfig { classes: 1, ..small() }.generate().unwrap_err();
        assert!(err.to_string().contains("at least 2"), "{err}");
    }
}
