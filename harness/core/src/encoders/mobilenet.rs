//! MobileNetV2 (Sandler et al., 2018) without the classifier, for the MIS-ME soil images
//! `[3, H, W]`: torchvision's `mobilenet_v2` feature extractor (inverted residual blocks with a
//! linear bottleneck and ReLU6), then a global average pool.
//!
//! The block table, the `width-mult` rounding to multiples of 8 and the parameter names follow
//! torchvision (`features.0.0.weight` is the stem conv, `features.2.conv.1.0.weight` a depthwise
//! kernel, `features.18.0.weight` the last 1x1 conv), so the module tree reads the same as the
//! PyTorch model. Initialisation is torchvision's, which is also the paper's rule (appendix
//! A.4.1): Kaiming normal fan-out for every conv, batch norm weight 1 and bias 0.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `mobilenetv2` encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MobileNetV2Config {
    /// Width multiplier of every layer (torchvision's `width_mult`).
    #[serde(default = "default_width_mult")]
    pub width_mult: f64,
    /// Channels of the last 1x1 conv, which is the feature dimension D. When absent,
    /// torchvision's rule: 1280 scaled by `max(1, width-mult)` and rounded to a multiple of 8.
    #[serde(default)]
    pub out_dim: Option<i64>,
}

fn default_width_mult() -> f64 {
    1.0
}

impl Default for MobileNetV2Config {
    fn default() -> Self {
        MobileNetV2Config { width_mult: default_width_mult(), out_dim: None }
    }
}

/// torchvision's `_make_divisible`: round to the nearest multiple of `divisor`, never below
/// `divisor` and never more than 10% below `v`.
fn make_divisible(v: f64, divisor: i64) -> i64 {
    let d = divisor as f64;
    let mut new_v = (divisor).max(((v + d / 2.0) / d).floor() as i64 * divisor);
    if (new_v as f64) < 0.9 * v {
        new_v += divisor;
    }
    new_v
}

/// Expansion t, output channels c, repeats n, first stride s (the paper's Table 2).
const INVERTED_RESIDUAL_SETTING: [(i64, i64, i64, i64); 7] =
    [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

/// Conv + batch norm (+ ReLU6 where `relu6`), torchvision's `Conv2dNormActivation`.
#[derive(Debug)]
struct ConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    relu6: bool,
}

impl ConvBn {
    /// Conv at `conv_path`, batch norm at `bn_path`, `same` padding for odd kernels.
    #[allow(clippy::too_many_arguments)]
    fn new(
        conv_path: nn::Path,
        bn_path: nn::Path,
        c_in: i64,
        c_out: i64,
        k: i64,
        stride: i64,
        groups: i64,
        relu6: bool,
    ) -> Self {
        let conv = nn::conv2d(
            conv_path,
            c_in,
            c_out,
            k,
            nn::ConvConfig {
                stride,
                padding: (k - 1) / 2,
                groups,
                bias: false,
                ws_init: init::KAIMING_NORMAL_FAN_OUT,
                ..Default::default()
            },
        );
        ConvBn { conv, bn: init::batch_norm2d(bn_path, c_out), relu6 }
    }

    /// The torchvision `Conv2dNormActivation` at `p`: conv `p.0`, batch norm `p.1`.
    fn seq(p: &nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64, groups: i64) -> Self {
        ConvBn::new(p / "0", p / "1", c_in, c_out, k, stride, groups, true)
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = x.apply(&self.conv).apply_t(&self.bn, train);
        if self.relu6 { y.relu6() } else { y }
    }
}

/// An inverted residual block: 1x1 expansion (when t > 1), 3x3 depthwise, linear 1x1
/// projection; the identity shortcut when the stride is 1 and the channels match.
#[derive(Debug)]
struct InvertedResidual {
    layers: Vec<ConvBn>,
    residual: bool,
}

impl InvertedResidual {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64, expand: i64) -> Self {
        let p = p / "conv";
        let hidden = c_in * expand;
        let mut layers = Vec::new();
        if expand != 1 {
            layers.push(ConvBn::seq(&(&p / layers.len()), c_in, hidden, 1, 1, 1));
        }
        layers.push(ConvBn::seq(&(&p / layers.len()), hidden, hidden, 3, stride, hidden));
        // The linear bottleneck: conv and batch norm are siblings (`conv.N`, `conv.N+1`).
        let n = layers.len();
        layers.push(ConvBn::new(&p / n, &p / (n + 1), hidden, c_out, 1, 1, 1, false));
        InvertedResidual { layers, residual: stride == 1 && c_in == c_out }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut y = x.shallow_clone();
        for l in &self.layers {
            y = l.forward_t(&y, train);
        }
        if self.residual { x + y } else { y }
    }
}

/// The MobileNetV2 feature extractor with global average pooling; features `[B, out_dim]`.
#[derive(Debug)]
pub struct MobileNetV2 {
    stem: ConvBn,
    blocks: Vec<InvertedResidual>,
    last: ConvBn,
    shape: [i64; 3],
    out_dim: i64,
}

impl MobileNetV2 {
    /// Builds the network for per-sample images `[C, H, W]` (3 channels for RGB soil images;
    /// any channel count is taken).
    ///
    /// Returns [`Error::Incompatible`] for other shapes and [`Error::Config`] for a
    /// non-positive `width-mult` or `out-dim`.
    pub fn new(path: &nn::Path, shape: &[i64], cfg: &MobileNetV2Config) -> Result<Self> {
        let context = "options of encoder `mobilenetv2`";
        if !(cfg.width_mult.is_finite() && cfg.width_mult > 0.0) {
            return Err(Error::config(context, format!("`width-mult` must be positive, got {}", cfg.width_mult)));
        }
        if cfg.out_dim.is_some_and(|d| d <= 0) {
            return Err(Error::config(context, format!("`out-dim` must be positive, got {:?}", cfg.out_dim)));
        }
        let shape = match *shape {
            [c, h, w] if c > 0 && h > 0 && w > 0 => [c, h, w],
            _ => {
                return Err(Error::Incompatible(format!(
                    "encoder `mobilenetv2` takes per-sample images [C, H, W], got {shape:?}"
                )));
            }
        };
        let features = path / "features";
        let wm = cfg.width_mult;
        let mut c_in = make_divisible(32.0 * wm, 8);
        let stem = ConvBn::seq(&(&features / 0), shape[0], c_in, 3, 2, 1);
        let mut blocks = Vec::new();
        for (t, c, n, s) in INVERTED_RESIDUAL_SETTING {
            let c_out = make_divisible(c as f64 * wm, 8);
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                blocks.push(InvertedResidual::new(&(&features / (blocks.len() + 1)), c_in, c_out, stride, t));
                c_in = c_out;
            }
        }
        let out_dim = cfg.out_dim.unwrap_or_else(|| make_divisible(1280.0 * wm.max(1.0), 8));
        let last = ConvBn::seq(&(&features / (blocks.len() + 1)), c_in, out_dim, 1, 1, 1);
        Ok(MobileNetV2 { stem, blocks, last, shape, out_dim })
    }
}

impl Encoder for MobileNetV2 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let [c, h, w] = self.shape;
        let mut x = self.stem.forward_t(&xs.reshape([-1, c, h, w]), train);
        for b in &self.blocks {
            x = b.forward_t(&x, train);
        }
        self.last.forward_t(&x, train).adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }

    fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

fn build(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    let cfg: MobileNetV2Config = parse_options("options of encoder `mobilenetv2`", options)?;
    Ok(Box::new(MobileNetV2::new(&path, &modality.shape, &cfg)?))
}

inventory::submit! {
    EncoderEntry {
        name: "mobilenetv2",
        description: "MobileNetV2 feature extractor on images [C,H,W], global average pool \
                      (options: width-mult 1.0, out-dim default 1280)",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn make_divisible_matches_torchvision() {
        assert_eq!(make_divisible(32.0, 8), 32);
        assert_eq!(make_divisible(32.0 * 0.35, 8), 16);
        assert_eq!(make_divisible(16.0 * 0.35, 8), 8);
        assert_eq!(make_divisible(24.0 * 0.75, 8), 24);
        assert_eq!(make_divisible(1280.0 * 1.4, 8), 1792);
    }

    #[test]
    fn mobilenet_outputs_out_dim() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = MobileNetV2Config { width_mult: 0.25, out_dim: Some(24) };
        let net = MobileNetV2::new(&vs.root(), &[3, 32, 32], &cfg).unwrap();
        let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
        assert_eq!(net.forward_t(&x, true).size(), vec![2, 24]);
        assert_eq!(net.forward_t(&x, false).size(), vec![2, 24]);
        assert_eq!(net.out_dim(), 24);
        let default = nn::VarStore::new(Device::Cpu);
        let net = MobileNetV2::new(&default.root(), &[3, 8, 8], &MobileNetV2Config::default()).unwrap();
        assert_eq!(net.out_dim(), 1280);
    }

    #[test]
    fn mobilenet_parameter_names_follow_torchvision() {
        let vs = nn::VarStore::new(Device::Cpu);
        MobileNetV2::new(&vs.root(), &[3, 16, 16], &MobileNetV2Config::default()).unwrap();
        let vars = vs.variables();
        assert_eq!(vars["features.0.0.weight"].size(), vec![32, 3, 3, 3]);
        // Block 1 (t = 1): depthwise conv.0, projection conv.1 + bn conv.2.
        assert_eq!(vars["features.1.conv.0.0.weight"].size(), vec![32, 1, 3, 3]);
        assert_eq!(vars["features.1.conv.1.weight"].size(), vec![16, 32, 1, 1]);
        assert_eq!(vars["features.1.conv.2.weight"].size(), vec![16]);
        // Block 2 (t = 6): expansion conv.0, depthwise conv.1, projection conv.2 + bn conv.3.
        assert_eq!(vars["features.2.conv.0.0.weight"].size(), vec![96, 16, 1, 1]);
        assert_eq!(vars["features.2.conv.1.0.weight"].size(), vec![96, 1, 3, 3]);
        assert_eq!(vars["features.2.conv.3.weight"].size(), vec![24]);
        assert_eq!(vars["features.18.0.weight"].size(), vec![1280, 320, 1, 1]);
        // torchvision's parameter count for the feature extractor, 2,223,872.
        let params: i64 = vs.trainable_variables().iter().map(|t| t.size().iter().product::<i64>()).sum();
        assert_eq!(params, 2_223_872);
        let std = vars["features.18.0.weight"].std(true).double_value(&[]);
        assert!((std / (2.0f64 / 1280.0).sqrt() - 1.0).abs() < 0.03, "std {std}");
        assert_eq!(vars["features.18.1.weight"].min().double_value(&[]), 1.0);
    }

    #[test]
    fn mobilenet_rejects_bad_shapes_and_options() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        for shape in [vec![32, 32], vec![1, 3, 32, 32], vec![3, 0, 4]] {
            let err = MobileNetV2::new(&root, &shape, &MobileNetV2Config::default()).unwrap_err();
            assert!(matches!(err, Error::Incompatible(_)), "{shape:?}: {err}");
        }
        for bad in [
            MobileNetV2Config { width_mult: 0.0, out_dim: None },
            MobileNetV2Config { width_mult: 1.0, out_dim: Some(0) },
        ] {
            assert!(matches!(MobileNetV2::new(&root, &[3, 8, 8], &bad).unwrap_err(), Error::Config { .. }));
        }
    }
}
