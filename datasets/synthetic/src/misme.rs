//! `synthetic-misme`: image + tabular regression, standing in for MIS-ME (soil moisture from a
//! soil-patch image and a meteorological table).
//!
//! # Generative process
//! A latent z ~ N(0, I_4) per sample; the target is t = sigmoid(w . z) in (0, 1) with fixed
//! random w.
//! - **tabular (dominant)**: `dim` features = a fixed random linear map of z_0 only, plus noise.
//!   Easy (linear) but it only sees one latent component, so its R² is capped.
//! - **image (weak)**: a `size x size` single-channel image = sum_k z_k * B_k + noise, with four
//!   fixed random basis images B_k. It sees every component, but the map from pixels to z is
//!   spread over many pixels with a low SNR.

use harness_core::data::{
    Dataset, DatasetContext, DatasetEntry, DatasetSpec, EncoderChoice, InMemoryDataset, InMemorySplit, ModalityKind,
    ModalitySpec, Task,
};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::sampling;

const LATENT: usize = 4;

/// Options of `synthetic-misme`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SyntheticMisMeConfig {
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub val: usize,
    /// Test samples.
    pub test: usize,
    /// Seed of the data.
    pub seed: u64,
    /// Image side length.
    pub size: usize,
    /// Image noise standard deviation.
    pub image_noise: f32,
    /// Number of tabular features.
    pub tabular_dim: usize,
    /// Tabular noise standard deviation.
    pub tabular_noise: f32,
}

impl Default for SyntheticMisMeConfig {
    fn default() -> Self {
        SyntheticMisMeConfig {
            train: 1500,
            val: 300,
            test: 600,
            seed: 0,
            size: 12,
            image_noise: 1.0,
            tabular_dim: 8,
            tabular_noise: 0.1,
        }
    }
}

impl SyntheticMisMeConfig {
    /// Generates the dataset.
    pub fn generate(&self) -> Result<InMemoryDataset> {
        if self.train == 0 || self.val == 0 || self.test == 0 || self.size == 0 || self.tabular_dim == 0 {
            return Err(Error::config(
                "options of dataset `synthetic-misme`",
                "train, val, test, size and tabular-dim must all be > 0",
            ));
        }
        let mut r = sampling::rng(self.seed, u64::MAX);
        let w: Vec<f32> = (0..LATENT).map(|_| sampling::normal(&mut r)).collect();
        let pixels = self.size * self.size;
        let basis = sampling::normal_table(&mut r, LATENT, pixels);
        let tab_map: Vec<f32> = (0..self.tabular_dim).map(|_| sampling::normal(&mut r)).collect();
        let spec = DatasetSpec {
            name: "synthetic-misme".into(),
            task: Task::Regression,
            modalities: vec![
                ModalitySpec {
                    name: "image".into(),
                    kind: ModalityKind::Image,
                    shape: vec![1, self.size as i64, self.size as i64],
                    default_encoder: EncoderChoice::named("mlp"),
                },
                ModalitySpec {
                    name: "tabular".into(),
                    kind: ModalityKind::Tabular,
                    shape: vec![self.tabular_dim as i64],
                    default_encoder: EncoderChoice::named("mlp"),
                },
            ],
        };
        let mut splits = Vec::new();
        let mut offset = 0u64;
        for n in [self.train, self.val, self.test] {
            let (bufs, targets) = sampling::generate(n, self.seed, offset, 2, |_, r| {
                let z: Vec<f32> = (0..LATENT).map(|_| sampling::normal(r)).collect();
                let t = 1.0 / (1.0 + (-z.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() / 2.0).exp());
                let image: Vec<f32> = (0..pixels)
                    .map(|p| {
                        let s: f32 = (0..LATENT).map(|k| z[k] * basis[k][p]).sum();
                        0.5 * s + self.image_noise * sampling::normal(r)
                    })
                    .collect();
                let tab: Vec<f32> =
                    tab_map.iter().map(|&a| a * z[0] + self.tabular_noise * sampling::normal(r)).collect();
                (vec![image, tab], t)
            });
            offset += n as u64;
            splits.push(InMemorySplit {
                inputs: vec![
                    sampling::tensor(&bufs[0], n, &[1, self.size as i64, self.size as i64]),
                    sampling::tensor(&bufs[1], n, &[self.tabular_dim as i64]),
                ],
                targets: Tensor::from_slice(&targets),
                present: None,
            });
        }
        let test = splits.pop().expect("three splits");
        let val = splits.pop().expect("three splits");
        let train = splits.pop().expect("three splits");
        InMemoryDataset::new(spec, train, val, test)
    }
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    let cfg: SyntheticMisMeConfig = parse_options("options of dataset `synthetic-misme`", &ctx.options)?;
    Ok(Box::new(cfg.generate()?))
}

inventory::submit! {
    DatasetEntry {
        name: "synthetic-misme",
        description: "synthetic image (weak, informative) + tabular (dominant, partial) regression standing in for MIS-ME",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::data::Split;

    #[test]
    fn regression_targets_are_in_unit_interval() {
        let d = SyntheticMisMeConfig { train: 50, val: 10, test: 10, ..Default::default() }.generate().unwrap();
        assert_eq!(d.spec().task, Task::Regression);
        let t: Vec<f32> = Vec::try_from(d.targets(Split::Train).unwrap()).unwrap();
        assert!(t.iter().all(|&v| v > 0.0 && v < 1.0));
        let b = d.batch(Split::Train, &[3], None).unwrap();
        assert_eq!(b.inputs[0].size(), vec![1, 1, 12, 12]);
    }
}
