//! A small convolutional encoder for images, spectrograms and 1-D signals.
//!
//! Each block is conv 3x3 (no bias) + batch norm + ReLU + 2x2 max pool; the last block is
//! followed by a global average pool and a linear layer to `out-dim` with a ReLU, so the feature
//! looks like a pooled CNN feature, as the [`Mlp`](super::Mlp) encoder's does.
//!
//! Accepted per-sample shapes (the modality's `shape`, without the batch dimension):
//! - `[C, H, W]`: an image or a multi-channel spectrogram;
//! - `[H, W]`: one channel, for example a spectrogram without a channel axis;
//! - `[L]`: a vector or 1-D signal, seen as a `1 x L` image with `1 x 3` kernels and `1 x 2`
//!   pooling, which is a 1-D convolution written in 2-D.
//!
//! Anything else, or an input too small for the number of pooling blocks, is an
//! [`Error::Incompatible`] when the encoder is built, not a panic in the first batch.
//! Initialisation follows the paper (appendix A.4.1): Kaiming normal fan-out for the kernels,
//! batch norm weight 1 and bias 0, Xavier normal for the linear layer.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `cnn` encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CnnConfig {
    /// Output channels of each conv block; one max pool per block.
    #[serde(default = "default_channels")]
    pub channels: Vec<i64>,
    /// Output feature dimension D.
    #[serde(default = "default_out_dim")]
    pub out_dim: i64,
}

fn default_channels() -> Vec<i64> {
    vec![16, 32]
}

fn default_out_dim() -> i64 {
    64
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig { channels: default_channels(), out_dim: default_out_dim() }
    }
}

impl CnnConfig {
    /// Checks that every width is positive.
    pub fn validate(&self) -> Result<()> {
        let context = "options of encoder `cnn`";
        if self.channels.is_empty() {
            return Err(Error::config(context, "`channels` needs at least one block"));
        }
        if let Some(c) = self.channels.iter().find(|&&c| c <= 0) {
            return Err(Error::config(context, format!("`channels` must be positive, got {c}")));
        }
        if self.out_dim <= 0 {
            return Err(Error::config(context, format!("`out-dim` must be positive, got {}", self.out_dim)));
        }
        Ok(())
    }
}

/// One conv + batch norm + ReLU + max pool block.
#[derive(Debug)]
struct ConvBlock {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

/// The small CNN encoder.
#[derive(Debug)]
pub struct Cnn {
    blocks: Vec<ConvBlock>,
    fc: nn::Linear,
    /// The `[C, H, W]` the input is viewed as.
    view: [i64; 3],
    /// Whether the input is a vector seen as `1 x L` (kernels and pooling are `1 x k`).
    one_d: bool,
    out_dim: i64,
}

impl Cnn {
    /// Builds the CNN for inputs of per-sample `shape` (`[C, H, W]`, `[H, W]` or `[L]`).
    ///
    /// Returns [`Error::Incompatible`] for other ranks, empty dimensions, or inputs that the
    /// pooling blocks would shrink to nothing, and [`Error::Config`] for invalid options.
    pub fn new(path: &nn::Path, shape: &[i64], cfg: &CnnConfig) -> Result<Self> {
        cfg.validate()?;
        if shape.iter().any(|&d| d <= 0) {
            return Err(Error::Incompatible(format!("encoder `cnn` needs non-empty dimensions, got shape {shape:?}")));
        }
        let (view, one_d) = match *shape {
            [c, h, w] => ([c, h, w], false),
            [h, w] => ([1, h, w], false),
            [l] => ([1, 1, l], true),
            _ => {
                return Err(Error::Incompatible(format!(
                    "encoder `cnn` takes per-sample shapes [C, H, W], [H, W] or [L], got {shape:?}"
                )));
            }
        };
        // Each block halves the pooled axes (floor), like nn.MaxPool2d(2); refuse inputs that
        // would reach zero instead of failing inside libtorch on the first batch.
        let (mut h, mut w) = (view[1], view[2]);
        for _ in &cfg.channels {
            if !one_d {
                h /= 2;
            }
            w /= 2;
        }
        if h == 0 || w == 0 {
            return Err(Error::Incompatible(format!(
                "encoder `cnn`: input {}x{} is too small for {} pooling blocks (each halves it); \
                 use fewer `channels` entries",
                view[1],
                view[2],
                cfg.channels.len()
            )));
        }
        let (kernel, padding) = if one_d { ([1, 3], [0, 1]) } else { ([3, 3], [1, 1]) };
        let mut c_in = view[0];
        let mut blocks = Vec::new();
        for (i, &c_out) in cfg.channels.iter().enumerate() {
            let p = path / "blocks" / i.to_string();
            let conv = nn::conv(
                &p / "conv",
                c_in,
                c_out,
                kernel,
                nn::ConvConfigND::<[i64; 2]> {
                    padding,
                    bias: false,
                    ws_init: init::KAIMING_NORMAL_FAN_OUT,
                    ..Default::default()
                },
            );
            blocks.push(ConvBlock { conv, bn: init::batch_norm2d(&p / "bn", c_out) });
            c_in = c_out;
        }
        let fc = init::linear(path / "fc", c_in, cfg.out_dim);
        Ok(Cnn { blocks, fc, view, one_d, out_dim: cfg.out_dim })
    }
}

impl Encoder for Cnn {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let [c, h, w] = self.view;
        let pool: [i64; 2] = if self.one_d { [1, 2] } else { [2, 2] };
        let mut x = xs.reshape([-1, c, h, w]);
        for b in &self.blocks {
            x = x.apply(&b.conv).apply_t(&b.bn, train).relu().max_pool2d(pool, pool, [0, 0], [1, 1], false);
        }
        // Global average pool over the remaining spatial positions.
        x.mean_dim(&[2i64, 3][..], false, None).apply(&self.fc).relu()
    }

    fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

fn build(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    let cfg: CnnConfig = parse_options("options of encoder `cnn`", options)?;
    Ok(Box::new(Cnn::new(&path, &modality.shape, &cfg)?))
}

inventory::submit! {
    EncoderEntry {
        name: "cnn",
        description: "small CNN: conv3x3+BN+ReLU+maxpool blocks, global average pool, linear \
                      (inputs [C,H,W], [H,W] or [L]; options: channels, out-dim)",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn cfg(channels: &[i64], out_dim: i64) -> CnnConfig {
        CnnConfig { channels: channels.to_vec(), out_dim }
    }

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn cnn_accepts_chw_hw_and_vector_inputs() {
        for (shape, input) in
            [(vec![3, 16, 12], vec![4, 3, 16, 12]), (vec![16, 12], vec![4, 16, 12]), (vec![20], vec![4, 20])]
        {
            let vs = nn::VarStore::new(Device::Cpu);
            let cnn = Cnn::new(&vs.root(), &shape, &cfg(&[4, 8], 5)).unwrap();
            assert_eq!(cnn.forward_t(&randn(&input), true).size(), vec![4, 5], "shape {shape:?}");
            assert_eq!(cnn.forward_t(&randn(&input), false).size(), vec![4, 5], "shape {shape:?}");
            assert_eq!(cnn.out_dim(), 5);
        }
    }

    #[test]
    fn cnn_vector_input_uses_one_by_three_kernels() {
        let vs = nn::VarStore::new(Device::Cpu);
        Cnn::new(&vs.root(), &[10], &cfg(&[4], 3)).unwrap();
        let vars = vs.variables();
        assert_eq!(vars["blocks.0.conv.weight"].size(), vec![4, 1, 1, 3]);
        assert_eq!(vars["blocks.0.bn.weight"].size(), vec![4]);
        assert_eq!(vars["fc.weight"].size(), vec![3, 4]);
    }

    #[test]
    fn cnn_rejects_bad_shapes_and_options_at_build_time() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        for shape in [vec![], vec![1, 2, 3, 4], vec![3, 0, 4]] {
            let err = Cnn::new(&root, &shape, &CnnConfig::default()).unwrap_err();
            assert!(matches!(err, Error::Incompatible(_)), "{shape:?}: {err}");
        }
        // Two 2x pools cannot take a 3-pixel-high input.
        let err = Cnn::new(&root, &[3, 8], &cfg(&[4, 4], 2)).unwrap_err();
        assert!(matches!(err, Error::Incompatible(_)), "{err}");
        // ...but a vector of length 4 only pools along L.
        assert!(Cnn::new(&root, &[4], &cfg(&[4, 4], 2)).is_ok());
        for bad in [cfg(&[], 2), cfg(&[4, 0], 2), cfg(&[4], 0)] {
            assert!(matches!(Cnn::new(&root, &[8, 8], &bad).unwrap_err(), Error::Config { .. }));
        }
    }

    #[test]
    fn cnn_options_parse_and_unknown_keys_fail() {
        let opts: Options = toml::from_str("channels = [8]\nout-dim = 7").unwrap();
        let c: CnnConfig = parse_options("x", &opts).unwrap();
        assert_eq!((c.channels, c.out_dim), (vec![8], 7));
        let opts: Options = toml::from_str("chanels = [8]").unwrap();
        assert!(parse_options::<CnnConfig>("x", &opts).is_err());
    }

    #[test]
    fn cnn_init_follows_the_paper() {
        let vs = nn::VarStore::new(Device::Cpu);
        Cnn::new(&vs.root(), &[64, 8, 8], &cfg(&[256], 32)).unwrap();
        let vars = vs.variables();
        // Kaiming normal, fan-out, ReLU gain: std = sqrt(2 / (256 * 3 * 3)).
        let std = vars["blocks.0.conv.weight"].std(true).double_value(&[]);
        let want = (2.0 / (256.0 * 9.0f64)).sqrt();
        assert!((std / want - 1.0).abs() < 0.05, "std {std} vs {want}");
        assert_eq!(vars["blocks.0.bn.weight"].min().double_value(&[]), 1.0);
        assert_eq!(vars["blocks.0.bn.bias"].abs().max().double_value(&[]), 0.0);
        assert_eq!(vars["fc.bias"].abs().max().double_value(&[]), 0.0);
    }
}
