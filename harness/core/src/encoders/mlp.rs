//! A multilayer perceptron encoder for vector (or flattened) inputs.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::Result;
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `mlp` encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MlpConfig {
    /// Hidden layer widths.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<i64>,
    /// Output feature dimension D.
    #[serde(default = "default_out_dim")]
    pub out_dim: i64,
    /// Dropout after each hidden layer during training.
    #[serde(default)]
    pub dropout: f64,
}

fn default_hidden() -> Vec<i64> {
    vec![128]
}

fn default_out_dim() -> i64 {
    64
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { hidden: default_hidden(), out_dim: default_out_dim(), dropout: 0.0 }
    }
}

/// Linear + ReLU layers; the last layer is followed by a ReLU too, like a pooled CNN feature.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
    dropout: f64,
    out_dim: i64,
}

impl Mlp {
    /// Builds the MLP for inputs of `in_dim` features.
    pub fn new(path: &nn::Path, in_dim: i64, cfg: &MlpConfig) -> Self {
        let mut dims = vec![in_dim];
        dims.extend(&cfg.hidden);
        dims.push(cfg.out_dim);
        let layers =
            dims.windows(2).enumerate().map(|(i, w)| init::linear(path / format!("fc{i}"), w[0], w[1])).collect();
        Mlp { layers, dropout: cfg.dropout, out_dim: cfg.out_dim }
    }
}

impl Encoder for Mlp {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = xs.flatten(1, -1);
        let n = self.layers.len();
        for (i, layer) in self.layers.iter().enumerate() {
            h = h.apply(layer).relu();
            if i + 1 < n && self.dropout > 0.0 {
                h = h.dropout(self.dropout, train);
            }
        }
        h
    }

    fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

fn build(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    let cfg: MlpConfig = parse_options("options of encoder `mlp`", options)?;
    let in_dim = modality.shape.iter().product();
    Ok(Box::new(Mlp::new(&path, in_dim, &cfg)))
}

inventory::submit! {
    EncoderEntry {
        name: "mlp",
        description: "multilayer perceptron on the flattened input (options: hidden, out-dim, dropout)",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn mlp_maps_flattened_input_to_out_dim() {
        let vs = nn::VarStore::new(Device::Cpu);
        let mlp = Mlp::new(&vs.root(), 12, &MlpConfig { hidden: vec![8], out_dim: 5, dropout: 0.0 });
        let y = mlp.forward_t(&Tensor::ones([3, 3, 4], (Kind::Float, Device::Cpu)), false);
        assert_eq!(y.size(), vec![3, 5]);
        assert_eq!(mlp.out_dim(), 5);
    }
}
