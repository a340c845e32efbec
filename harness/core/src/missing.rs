//! Randomly missing modalities, for the robustness experiment of the paper's appendix A.7.1
//! (Table 11: IEMOCAP with miss rates 0% to 60%, "following the setup in MLA").
//!
//! [`MissingModalities`] wraps any dataset. For every sample of the splits it applies to, it
//! draws which modalities are missing, zeroes their inputs ([`apply_presence`]) and sets
//! [`Batch::present`] so methods and fusion know.
//!
//! # The masking scheme
//!
//! As in MLA's setup, each modality of each sample is dropped independently with probability
//! `miss-rate` (a per-modality Bernoulli mask). A sample must keep at least one modality, so a
//! draw that drops all of them is rejected and redrawn: the mask is drawn from the per-modality
//! Bernoulli distribution conditioned on "not all missing". The expected fraction of missing
//! inputs is therefore `(r - r^M) / (1 - r^M)` rather than `r` (for M = 3 and r = 0.6: 0.51).
//!
//! The mask of a sample depends only on (`seed`, split, sample index): it is the same in every
//! epoch, whatever the batch composition or order, on any number of threads. An inner dataset's
//! own presence mask is respected (a modality is present only if both say so).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::data::{Batch, Dataset, DatasetSpec, Split, apply_presence};
use crate::error::{Error, Result};
use crate::options::{Options, parse_options};

/// The largest miss rate the paper evaluates (Table 11).
pub const MAX_MISS_RATE: f64 = 0.6;

/// Which splits get missing modalities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyTo {
    /// Training only.
    Train,
    /// Validation only.
    Val,
    /// Test only.
    Test,
    /// Every split (the default: train and evaluate under the same missing rate).
    #[default]
    All,
}

impl ApplyTo {
    /// Whether `split` gets missing modalities.
    pub fn covers(self, split: Split) -> bool {
        match self {
            ApplyTo::All => true,
            ApplyTo::Train => split == Split::Train,
            ApplyTo::Val => split == Split::Val,
            ApplyTo::Test => split == Split::Test,
        }
    }
}

/// Options of the missing-modality wrapper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MissingConfig {
    /// Probability that a modality of a sample is missing, in `[0, 0.6]`.
    pub miss_rate: f64,
    /// The split(s) it applies to.
    pub apply_to: ApplyTo,
    /// Seed of the masks.
    pub seed: u64,
}

impl Default for MissingConfig {
    fn default() -> Self {
        MissingConfig { miss_rate: 0.0, apply_to: ApplyTo::All, seed: 0 }
    }
}

/// A dataset whose samples randomly miss modalities (see the module doc for the scheme).
pub struct MissingModalities {
    inner: Box<dyn Dataset>,
    config: MissingConfig,
}

impl std::fmt::Debug for MissingModalities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MissingModalities")
            .field("dataset", &self.inner.spec().name)
            .field("config", &self.config)
            .finish()
    }
}

impl MissingModalities {
    /// Wraps `inner`. The miss rate must be in `[0, 0.6]`, and a positive rate needs at least two
    /// modalities (a sample never misses all of them).
    pub fn new(inner: Box<dyn Dataset>, config: MissingConfig) -> Result<Self> {
        let context = "options of missing modalities";
        if !(0.0..=MAX_MISS_RATE).contains(&config.miss_rate) {
            return Err(Error::config(
                context,
                format!("`miss-rate` = {}, expected 0 <= miss-rate <= {MAX_MISS_RATE}", config.miss_rate),
            ));
        }
        if config.miss_rate > 0.0 && inner.spec().modalities.len() < 2 {
            return Err(Error::config(
                context,
                format!("dataset `{}` has one modality; missing modalities need at least two", inner.spec().name),
            ));
        }
        Ok(MissingModalities { inner, config })
    }

    /// Wraps `inner` with options from `benchmarks.toml` (`miss-rate`, `apply-to`, `seed`).
    pub fn from_options(inner: Box<dyn Dataset>, options: &Options) -> Result<Self> {
        Self::new(inner, parse_options("options of missing modalities", options)?)
    }

    /// The options in use.
    pub fn config(&self) -> &MissingConfig {
        &self.config
    }

    /// The wrapped dataset.
    pub fn inner(&self) -> &dyn Dataset {
        self.inner.as_ref()
    }

    /// Which modalities of sample `index` of `split` are present (`true`) before the inner
    /// dataset's own mask; all `true` for a split the wrapper does not apply to.
    pub fn mask(&self, split: Split, index: usize) -> Vec<bool> {
        let m = self.inner.spec().modalities.len();
        if !self.config.apply_to.covers(split) || self.config.miss_rate <= 0.0 || m < 2 {
            return vec![true; m];
        }
        let mut rng = ChaCha8Rng::seed_from_u64(sample_seed(self.config.seed, split, index));
        loop {
            let present: Vec<bool> = (0..m).map(|_| rng.r#gen::<f64>() >= self.config.miss_rate).collect();
            if present.iter().any(|&p| p) {
                return present;
            }
        }
    }
}

/// A well-mixed seed for one sample (SplitMix64 over seed, split and index).
fn sample_seed(seed: u64, split: Split, index: usize) -> u64 {
    let mut x = seed;
    for v in [split as u64 + 1, index as u64] {
        x = splitmix64(x ^ splitmix64(v));
    }
    x
}

/// One step of SplitMix64.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Dataset for MissingModalities {
    fn spec(&self) -> &DatasetSpec {
        self.inner.spec()
    }

    fn len(&self, split: Split) -> usize {
        self.inner.len(split)
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        self.inner.targets(split)
    }

    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch> {
        let batch = self.inner.batch(split, indices, augment_seed)?;
        if !self.config.apply_to.covers(split) || self.config.miss_rate <= 0.0 {
            return Ok(batch);
        }
        let m = self.inner.spec().modalities.len();
        let flat: Vec<f32> =
            indices.iter().flat_map(|&i| self.mask(split, i)).map(|p| if p { 1.0 } else { 0.0 }).collect();
        let mut present = Tensor::from_slice(&flat).reshape([indices.len() as i64, m as i64]);
        if let Some(inner) = &batch.present {
            present *= inner.to_device(tch::Device::Cpu).to_kind(tch::Kind::Float);
        }
        let device = batch.inputs.first().map(|t| t.device()).unwrap_or(tch::Device::Cpu);
        let present = present.to_device(device);
        Ok(Batch {
            inputs: apply_presence(&batch.inputs, &present),
            targets: batch.targets,
            index: batch.index,
            present: Some(present),
        })
    }

    fn augments(&self, modality: usize) -> bool {
        self.inner.augments(modality)
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        self.inner.target_range()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{EncoderChoice, InMemoryDataset, InMemorySplit, ModalityKind, ModalitySpec, Task};
    use tch::{Device, Kind};

    /// `n` samples per split, `m` modalities of shape `[2]`, every input 1.
    fn ones(n: i64, m: usize) -> Box<dyn Dataset> {
        let spec = DatasetSpec {
            name: "ones".into(),
            task: Task::Classification { classes: 2 },
            modalities: (0..m)
                .map(|k| ModalitySpec {
                    name: format!("m{k}"),
                    kind: ModalityKind::Tabular,
                    shape: vec![2],
                    default_encoder: EncoderChoice::named("mlp"),
                })
                .collect(),
        };
        let split = || InMemorySplit {
            inputs: (0..m).map(|_| Tensor::ones([n, 2], (Kind::Float, Device::Cpu))).collect(),
            targets: Tensor::zeros([n], (Kind::Int64, Device::Cpu)),
            present: None,
        };
        Box::new(InMemoryDataset::new(spec, split(), split(), split()).unwrap())
    }

    fn wrap(m: usize, rate: f64, apply_to: ApplyTo, seed: u64) -> MissingModalities {
        MissingModalities::new(ones(400, m), MissingConfig { miss_rate: rate, apply_to, seed }).unwrap()
    }

    #[test]
    fn miss_rate_outside_zero_to_sixty_percent_is_refused() {
        for rate in [-0.1, 0.61, 1.0, f64::NAN] {
            let config = MissingConfig { miss_rate: rate, ..Default::default() };
            let err = MissingModalities::new(ones(4, 2), config).unwrap_err().to_string();
            assert!(err.contains("miss-rate"), "{err}");
        }
        assert!(MissingModalities::new(ones(4, 1), MissingConfig { miss_rate: 0.3, ..Default::default() }).is_err());
        assert!(MissingModalities::new(ones(4, 2), MissingConfig { miss_rate: 0.6, ..Default::default() }).is_ok());
    }

    #[test]
    fn options_parse_kebab_case_and_reject_unknown_keys() {
        let opts: Options = toml::from_str("miss-rate = 0.3\napply-to = \"test\"\nseed = 5").unwrap();
        let w = MissingModalities::from_options(ones(4, 2), &opts).unwrap();
        assert_eq!(w.config(), &MissingConfig { miss_rate: 0.3, apply_to: ApplyTo::Test, seed: 5 });
        let bad: Options = toml::from_str("rate = 0.3").unwrap();
        let err = MissingModalities::from_options(ones(4, 2), &bad).unwrap_err().to_string();
        assert!(err.contains("miss-rate"), "{err}");
    }

    #[test]
    fn a_sample_never_misses_every_modality() {
        for m in [2, 3] {
            let w = wrap(m, MAX_MISS_RATE, ApplyTo::All, 1);
            for i in 0..2000 {
                assert!(w.mask(Split::Train, i).iter().any(|&p| p), "sample {i} misses all {m} modalities");
            }
        }
    }

    #[test]
    fn missing_fraction_matches_the_conditioned_bernoulli_rate() {
        let (m, r) = (3, 0.4);
        let w = wrap(m, r, ApplyTo::All, 2);
        let n = 20_000;
        let missing = (0..n).flat_map(|i| w.mask(Split::Train, i)).filter(|&p| !p).count() as f64 / (n * m) as f64;
        let expected = (r - r.powi(m as i32)) / (1.0 - r.powi(m as i32));
        assert!((missing - expected).abs() < 0.01, "missing {missing}, expected {expected}");
    }

    #[test]
    fn masks_depend_only_on_seed_split_and_index() {
        let a = wrap(3, 0.5, ApplyTo::All, 7);
        let b = wrap(3, 0.5, ApplyTo::All, 7);
        let c = wrap(3, 0.5, ApplyTo::All, 8);
        let masks = |w: &MissingModalities, s| (0..100).map(|i| w.mask(s, i)).collect::<Vec<_>>();
        assert_eq!(masks(&a, Split::Train), masks(&b, Split::Train));
        assert_ne!(masks(&a, Split::Train), masks(&c, Split::Train));
        assert_ne!(masks(&a, Split::Train), masks(&a, Split::Test));
        // The same sample gets the same mask in any batch.
        let x = a.batch(Split::Train, &[5, 9, 11], None).unwrap();
        let y = a.batch(Split::Train, &[11, 0, 5], None).unwrap();
        let row = |b: &Batch, k: i64| Vec::<f32>::try_from(b.present.as_ref().unwrap().get(k)).unwrap();
        assert_eq!(row(&x, 0), row(&y, 2));
        assert_eq!(row(&x, 2), row(&y, 0));
    }

    #[test]
    fn missing_inputs_are_zeroed_and_flagged() {
        let w = wrap(3, 0.5, ApplyTo::All, 3);
        let indices: Vec<usize> = (0..64).collect();
        let batch = w.batch(Split::Val, &indices, None).unwrap();
        let present = batch.present.as_ref().unwrap();
        assert_eq!(present.size(), vec![64, 3]);
        for (k, &i) in indices.iter().enumerate() {
            let mask = w.mask(Split::Val, i);
            for (mod_idx, &p) in mask.iter().enumerate() {
                let sum = batch.inputs[mod_idx].get(k as i64).sum(Kind::Float).double_value(&[]);
                assert_eq!(sum, if p { 2.0 } else { 0.0 });
                assert_eq!(present.double_value(&[k as i64, mod_idx as i64]), if p { 1.0 } else { 0.0 });
            }
        }
        assert!(present.sum(Kind::Float).double_value(&[]) < 64.0 * 3.0);
    }

    #[test]
    fn uncovered_splits_and_zero_rate_are_untouched() {
        let w = wrap(2, 0.6, ApplyTo::Train, 4);
        let val = w.batch(Split::Val, &[0, 1, 2], None).unwrap();
        assert!(val.present.is_none());
        assert_eq!(val.inputs[0].sum(Kind::Float).double_value(&[]), 6.0);
        assert!(w.batch(Split::Train, &[0, 1, 2], None).unwrap().present.is_some());
        let zero = wrap(2, 0.0, ApplyTo::All, 4);
        assert!(zero.batch(Split::Train, &[0, 1], None).unwrap().present.is_none());
        assert_eq!(zero.mask(Split::Train, 0), vec![true, true]);
    }
}
