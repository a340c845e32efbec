//! An MLP for tabular rows, such as MIS-ME's meteorological measurements: linear, optional batch
//! norm, ReLU and dropout per hidden layer, then a linear layer to `out-dim` with a ReLU (the
//! feature convention of the other encoders).
//!
//! It differs from the plain [`Mlp`](super::Mlp) by the batch norm, which tabular columns on
//! very different scales benefit from, and by its own defaults; it is registered under its own
//! name so a suite can say which it means. Initialisation follows the paper (appendix A.4.1):
//! Xavier normal linear weights, zero biases, batch norm weight 1 and bias 0.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `tabular-mlp` encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TabularMlpConfig {
    /// Hidden layer widths.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<i64>,
    /// Output feature dimension D.
    #[serde(default = "default_out_dim")]
    pub out_dim: i64,
    /// Dropout after each hidden layer during training.
    #[serde(default)]
    pub dropout: f64,
    /// Whether each hidden layer has a batch norm before its ReLU.
    #[serde(default = "default_batch_norm")]
    pub batch_norm: bool,
}

fn default_hidden() -> Vec<i64> {
    vec![64, 32]
}

fn default_out_dim() -> i64 {
    32
}

fn default_batch_norm() -> bool {
    true
}

impl Default for TabularMlpConfig {
    fn default() -> Self {
        TabularMlpConfig {
            hidden: default_hidden(),
            out_dim: default_out_dim(),
            dropout: 0.0,
            batch_norm: default_batch_norm(),
        }
    }
}

impl TabularMlpConfig {
    /// Checks widths and the dropout rate.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(Error::config("options of encoder `tabular-mlp`", m));
        if let Some(h) = self.hidden.iter().find(|&&h| h <= 0) {
            return err(format!("`hidden` widths must be positive, got {h}"));
        }
        if self.out_dim <= 0 {
            return err(format!("`out-dim` must be positive, got {}", self.out_dim));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return err(format!("`dropout` must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }
}

/// One hidden layer: linear, optional batch norm.
#[derive(Debug)]
struct Hidden {
    fc: nn::Linear,
    bn: Option<nn::BatchNorm>,
}

/// The tabular MLP encoder.
#[derive(Debug)]
pub struct TabularMlp {
    hidden: Vec<Hidden>,
    out: nn::Linear,
    dropout: f64,
    in_dim: i64,
    out_dim: i64,
}

impl TabularMlp {
    /// Builds the MLP for rows of `in_dim` columns (the flattened per-sample shape).
    ///
    /// Returns [`Error::Config`] for invalid options and [`Error::Incompatible`] for an empty
    /// row.
    pub fn new(path: &nn::Path, in_dim: i64, cfg: &TabularMlpConfig) -> Result<Self> {
        cfg.validate()?;
        if in_dim <= 0 {
            return Err(Error::Incompatible(format!("encoder `tabular-mlp` needs at least one column, got {in_dim}")));
        }
        let mut d = in_dim;
        let mut hidden = Vec::new();
        for (i, &h) in cfg.hidden.iter().enumerate() {
            let fc = init::linear(path / format!("fc{i}"), d, h);
            let bn = cfg.batch_norm.then(|| {
                nn::batch_norm1d(
                    path / format!("bn{i}"),
                    h,
                    nn::BatchNormConfig {
                        ws_init: nn::Init::Const(1.0),
                        bs_init: nn::Init::Const(0.0),
                        ..Default::default()
                    },
                )
            });
            hidden.push(Hidden { fc, bn });
            d = h;
        }
        let out = init::linear(path / format!("fc{}", cfg.hidden.len()), d, cfg.out_dim);
        Ok(TabularMlp { hidden, out, dropout: cfg.dropout, in_dim, out_dim: cfg.out_dim })
    }
}

impl Encoder for TabularMlp {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = xs.reshape([-1, self.in_dim]);
        // Batch statistics of a single row are undefined (PyTorch raises); a last training batch
        // of one row uses the running statistics instead of aborting the run.
        let bn_train = train && h.size()[0] > 1;
        for layer in &self.hidden {
            h = h.apply(&layer.fc);
            if let Some(bn) = &layer.bn {
                h = h.apply_t(bn, bn_train);
            }
            h = h.relu().dropout(self.dropout, train);
        }
        h.apply(&self.out).relu()
    }

    fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

fn build(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    let cfg: TabularMlpConfig = parse_options("options of encoder `tabular-mlp`", options)?;
    if modality.shape.iter().any(|&d| d <= 0) {
        return Err(Error::Incompatible(format!(
            "encoder `tabular-mlp` needs non-empty dimensions, got shape {:?}",
            modality.shape
        )));
    }
    Ok(Box::new(TabularMlp::new(&path, modality.shape.iter().product(), &cfg)?))
}

inventory::submit! {
    EncoderEntry {
        name: "tabular-mlp",
        description: "MLP for tabular rows with batch norm (options: hidden [64,32], out-dim 32, dropout, batch-norm)",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn tabular_mlp_maps_rows_to_out_dim() {
        for batch_norm in [true, false] {
            let vs = nn::VarStore::new(Device::Cpu);
            let cfg = TabularMlpConfig { hidden: vec![8, 6], out_dim: 4, dropout: 0.2, batch_norm };
            let enc = TabularMlp::new(&vs.root(), 5, &cfg).unwrap();
            let x = Tensor::randn([3, 5], (Kind::Float, Device::Cpu));
            assert_eq!(enc.forward_t(&x, true).size(), vec![3, 4]);
            assert_eq!(enc.forward_t(&x, false).size(), vec![3, 4]);
            // A single row in training mode does not abort.
            assert_eq!(enc.forward_t(&x.narrow(0, 0, 1), true).size(), vec![1, 4]);
            assert_eq!(vs.variables().contains_key("bn1.weight"), batch_norm);
        }
    }

    #[test]
    fn tabular_mlp_init_and_names() {
        let vs = nn::VarStore::new(Device::Cpu);
        TabularMlp::new(&vs.root(), 5, &TabularMlpConfig::default()).unwrap();
        let vars = vs.variables();
        assert_eq!(vars["fc0.weight"].size(), vec![64, 5]);
        assert_eq!(vars["fc2.weight"].size(), vec![32, 32]);
        assert_eq!(vars["bn0.weight"].min().double_value(&[]), 1.0);
        assert_eq!(vars["bn0.bias"].abs().max().double_value(&[]), 0.0);
        assert_eq!(vars["fc1.bias"].abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn tabular_mlp_rejects_bad_options() {
        let vs = nn::VarStore::new(Device::Cpu);
        for bad in [
            TabularMlpConfig { hidden: vec![0], ..Default::default() },
            TabularMlpConfig { out_dim: -1, ..Default::default() },
            TabularMlpConfig { dropout: 1.5, ..Default::default() },
        ] {
            assert!(matches!(TabularMlp::new(&vs.root(), 5, &bad).unwrap_err(), Error::Config { .. }));
        }
        let opts: Options = toml::from_str("hidden = [16]\nbatch-norm = false").unwrap();
        let cfg: TabularMlpConfig = parse_options("x", &opts).unwrap();
        assert_eq!((cfg.hidden, cfg.batch_norm, cfg.out_dim), (vec![16], false, 32));
        assert!(crate::encoders::lookup("tabular-mlp").is_ok());
    }
}
