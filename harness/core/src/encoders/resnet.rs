//! Our own ResNet-18 (BasicBlock, layers [2, 2, 2, 2]) without the classification layer, as the
//! OGM-GE/G2D reference `models/backbone.py` builds it, in the three variants the paper uses:
//!
//! - `resnet18-audio`: a spectrogram `[1, H, W]` (or `[H, W]`), adaptive average pool to
//!   `[B, 512]` (reference `basic_model.py`: `adaptive_avg_pool2d(a, 1)`);
//! - `resnet18-visual`: frames `[3, T, H, W]` (C, T, H, W per sample). The frames are folded into
//!   the batch, `(B*T, 3, H, W)`, run through the 2-D trunk, viewed back to `(B, T, 512, h, w)`,
//!   permuted to `(B, 512, T, h, w)` and pooled with `adaptive_avg_pool3d(1)`, so the feature
//!   is the average over frames and positions;
//! - `resnet18-image`: one grey image `[1, 28, 28]` (AV-MNIST; any `[1, H, W]` or `[H, W]` is
//!   taken), average pool to `[B, 512]`.
//!
//! The stem is torchvision's: conv 7x7 stride 2 + BN + ReLU + max pool 3x3 stride 2. Parameter
//! names mirror the PyTorch module tree (`conv1.weight`, `layer1.0.conv1.weight`,
//! `layer2.0.downsample.0.weight`, ...), so under the model they read
//! `encoders.audio.layer1.0.conv1.weight`. Initialisation follows the paper (appendix A.4.1):
//! Kaiming normal fan-out ReLU for every conv and batch norm weight 1, bias 0. (The reference
//! code draws BN weights from N(1, 0.02); the paper's constant 1 is used here.)
//!
//! The `width` option scales every stage (default 64, the real ResNet-18), so tests can build a
//! tiny network; the feature dimension is `8 * width` (512 by default).

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the ResNet-18 encoders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResNetConfig {
    /// Channels of the stem and the first stage; the stages have `width * [1, 2, 4, 8]`
    /// channels. 64 is the real ResNet-18.
    #[serde(default = "default_width")]
    pub width: i64,
}

fn default_width() -> i64 {
    64
}

impl Default for ResNetConfig {
    fn default() -> Self {
        ResNetConfig { width: default_width() }
    }
}

/// Which input a ResNet-18 encoder takes and how it pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResNetVariant {
    /// Spectrogram `[1, H, W]` or `[H, W]`; adaptive average pool 2-D.
    Audio,
    /// Video frames `[3, T, H, W]`; frames folded into the batch, adaptive average pool 3-D.
    Visual,
    /// Grey image `[1, H, W]` or `[H, W]` (AV-MNIST 28x28); average pool 2-D.
    Image,
}

impl ResNetVariant {
    /// The registered encoder name.
    pub fn name(self) -> &'static str {
        match self {
            ResNetVariant::Audio => "resnet18-audio",
            ResNetVariant::Visual => "resnet18-visual",
            ResNetVariant::Image => "resnet18-image",
        }
    }

    /// Input channels of the stem.
    pub fn in_channels(self) -> i64 {
        match self {
            ResNetVariant::Visual => 3,
            ResNetVariant::Audio | ResNetVariant::Image => 1,
        }
    }
}

/// The BasicBlock of the reference: two 3x3 convs with batch norm, identity or 1x1 projection
/// shortcut.
#[derive(Debug)]
struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl BasicBlock {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        // The shortcut projects when the shape changes, as `_make_layer` does.
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let d = p / "downsample";
            (init::conv2d(&d / "0", c_in, c_out, 1, stride, 0), init::batch_norm2d(&d / "1", c_out))
        });
        BasicBlock {
            conv1: init::conv2d(p / "conv1", c_in, c_out, 3, stride, 1),
            bn1: init::batch_norm2d(p / "bn1", c_out),
            conv2: init::conv2d(p / "conv2", c_out, c_out, 3, 1, 1),
            bn2: init::batch_norm2d(p / "bn2", c_out),
            downsample,
        }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply(&self.conv1).apply_t(&self.bn1, train).relu().apply(&self.conv2).apply_t(&self.bn2, train);
        let identity = match &self.downsample {
            Some((conv, bn)) => x.apply(conv).apply_t(bn, train),
            None => x.shallow_clone(),
        };
        (out + identity).relu()
    }
}

/// A ResNet-18 trunk with the pooling of its variant; features `[B, 8 * width]`.
#[derive(Debug)]
pub struct ResNet18 {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    layers: Vec<Vec<BasicBlock>>,
    variant: ResNetVariant,
    /// Per-sample input shape after adding a missing channel axis.
    shape: Vec<i64>,
    out_dim: i64,
}

impl ResNet18 {
    /// Builds the `variant` for per-sample inputs of `shape`.
    ///
    /// Returns [`Error::Incompatible`] when `shape` is not what the variant takes (see the module
    /// documentation) and [`Error::Config`] for a non-positive width.
    pub fn new(path: &nn::Path, variant: ResNetVariant, shape: &[i64], cfg: &ResNetConfig) -> Result<Self> {
        let name = variant.name();
        if cfg.width <= 0 {
            return Err(Error::config(
                format!("options of encoder `{name}`"),
                format!("`width` must be positive, got {}", cfg.width),
            ));
        }
        let shape = match (variant, shape) {
            (ResNetVariant::Visual, [3, t, h, w]) => vec![3, *t, *h, *w],
            (ResNetVariant::Audio | ResNetVariant::Image, [1, h, w] | [h, w]) => vec![1, *h, *w],
            _ => {
                let want = match variant {
                    ResNetVariant::Visual => "[3, T, H, W]",
                    _ => "[1, H, W] or [H, W]",
                };
                return Err(Error::Incompatible(format!(
                    "encoder `{name}` takes per-sample inputs {want}, got {shape:?}"
                )));
            }
        };
        if shape.iter().any(|&d| d <= 0) {
            return Err(Error::Incompatible(format!("encoder `{name}` needs non-empty dimensions, got {shape:?}")));
        }
        let w = cfg.width;
        let conv1 = init::conv2d(path / "conv1", variant.in_channels(), w, 7, 2, 3);
        let bn1 = init::batch_norm2d(path / "bn1", w);
        let mut layers = Vec::new();
        let mut c_in = w;
        for (i, mult) in [1, 2, 4, 8].into_iter().enumerate() {
            let c_out = w * mult;
            let stride = if i == 0 { 1 } else { 2 };
            let lp = path / format!("layer{}", i + 1);
            let blocks = vec![
                BasicBlock::new(&(&lp / "0"), c_in, c_out, stride),
                BasicBlock::new(&(&lp / "1"), c_out, c_out, 1),
            ];
            layers.push(blocks);
            c_in = c_out;
        }
        Ok(ResNet18 { conv1, bn1, layers, variant, shape, out_dim: 8 * w })
    }

    /// The trunk on `[N, C, H, W]`: stem and the four stages, before pooling.
    fn trunk(&self, x: &Tensor, train: bool) -> Tensor {
        let mut x =
            x.apply(&self.conv1).apply_t(&self.bn1, train).relu().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for block in self.layers.iter().flatten() {
            x = block.forward_t(&x, train);
        }
        x
    }
}

impl Encoder for ResNet18 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        match self.variant {
            ResNetVariant::Visual => {
                let (c, t, h, w) = (self.shape[0], self.shape[1], self.shape[2], self.shape[3]);
                let b = xs.size()[0];
                // Fold frames into the batch, as the reference backbone's forward does.
                let frames = xs.permute([0, 2, 1, 3, 4]).contiguous().view([b * t, c, h, w]);
                let f = self.trunk(&frames, train);
                let (fc, fh, fw) = (f.size()[1], f.size()[2], f.size()[3]);
                // basic_model.py: view(B, T, C, h, w).permute(0, 2, 1, 3, 4), adaptive_avg_pool3d(1).
                f.view([b, t, fc, fh, fw]).permute([0, 2, 1, 3, 4]).adaptive_avg_pool3d([1, 1, 1]).flatten(1, -1)
            }
            ResNetVariant::Audio | ResNetVariant::Image => {
                let (c, h, w) = (self.shape[0], self.shape[1], self.shape[2]);
                self.trunk(&xs.reshape([-1, c, h, w]), train).adaptive_avg_pool2d([1, 1]).flatten(1, -1)
            }
        }
    }

    fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

fn build_variant(
    variant: ResNetVariant,
    path: nn::Path,
    modality: &ModalitySpec,
    options: &Options,
) -> Result<Box<dyn Encoder>> {
    let cfg: ResNetConfig = parse_options(&format!("options of encoder `{}`", variant.name()), options)?;
    Ok(Box::new(ResNet18::new(&path, variant, &modality.shape, &cfg)?))
}

fn build_audio(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    build_variant(ResNetVariant::Audio, path, modality, options)
}

fn build_visual(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    build_variant(ResNetVariant::Visual, path, modality, options)
}

fn build_image(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    build_variant(ResNetVariant::Image, path, modality, options)
}

inventory::submit! {
    EncoderEntry {
        name: "resnet18-audio",
        description: "ResNet-18 on a spectrogram [1,H,W] or [H,W], average pooled to 8*width (options: width, default 64)",
        build: build_audio,
    }
}

inventory::submit! {
    EncoderEntry {
        name: "resnet18-visual",
        description: "ResNet-18 on frames [3,T,H,W], frames folded into the batch, 3-D average pool to 8*width (options: width)",
        build: build_visual,
    }
}

inventory::submit! {
    EncoderEntry {
        name: "resnet18-image",
        description: "ResNet-18 on a grey image [1,28,28] (AV-MNIST), average pooled to 8*width (options: width)",
        build: build_image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn tiny() -> ResNetConfig {
        ResNetConfig { width: 4 }
    }

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn resnet_variants_output_eight_times_width() {
        for (variant, shape, input) in [
            (ResNetVariant::Audio, vec![1, 40, 30], vec![2, 1, 40, 30]),
            (ResNetVariant::Audio, vec![40, 30], vec![2, 40, 30]),
            (ResNetVariant::Visual, vec![3, 2, 32, 32], vec![2, 3, 2, 32, 32]),
            (ResNetVariant::Image, vec![1, 28, 28], vec![2, 1, 28, 28]),
        ] {
            let vs = nn::VarStore::new(Device::Cpu);
            let net = ResNet18::new(&vs.root(), variant, &shape, &tiny()).unwrap();
            assert_eq!(net.out_dim(), 32);
            assert_eq!(net.forward_t(&randn(&input), true).size(), vec![2, 32], "{variant:?} {shape:?}");
            assert_eq!(net.forward_t(&randn(&input), false).size(), vec![2, 32], "{variant:?} {shape:?}");
        }
    }

    #[test]
    fn resnet_parameter_names_mirror_the_module_tree() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        ResNet18::new(&(&root / "encoders" / "audio"), ResNetVariant::Audio, &[1, 32, 32], &tiny()).unwrap();
        let vars = vs.variables();
        assert_eq!(vars["encoders.audio.conv1.weight"].size(), vec![4, 1, 7, 7]);
        assert_eq!(vars["encoders.audio.layer1.0.conv1.weight"].size(), vec![4, 4, 3, 3]);
        assert_eq!(vars["encoders.audio.layer4.1.bn2.weight"].size(), vec![32]);
        assert_eq!(vars["encoders.audio.layer2.0.downsample.0.weight"].size(), vec![8, 4, 1, 1]);
        assert!(vars.contains_key("encoders.audio.layer2.0.downsample.1.running_mean"));
        // The first stage keeps its shape, so it has no projection shortcut.
        assert!(!vars.keys().any(|k| k.contains("layer1.0.downsample")));
        // 20 convs (stem, 16 in blocks, 3 shortcuts), all 4-D; nothing else is 4-D.
        assert_eq!(vars.values().filter(|t| t.dim() == 4).count(), 20);
        let visual = nn::VarStore::new(Device::Cpu);
        ResNet18::new(&visual.root(), ResNetVariant::Visual, &[3, 1, 32, 32], &tiny()).unwrap();
        assert_eq!(visual.variables()["conv1.weight"].size(), vec![4, 3, 7, 7]);
    }

    #[test]
    fn resnet18_full_width_has_torchvision_parameter_count() {
        // torchvision resnet18 has 11,689,512 parameters; without `fc` (513,000) that is
        // 11,176,512 for 3 input channels, and 6,272 fewer stem weights for 1 channel.
        for (variant, shape, want) in [
            (ResNetVariant::Visual, vec![3, 1, 32, 32], 11_176_512),
            (ResNetVariant::Audio, vec![1, 32, 32], 11_170_240),
        ] {
            let vs = nn::VarStore::new(Device::Cpu);
            let net = ResNet18::new(&vs.root(), variant, &shape, &ResNetConfig::default()).unwrap();
            let params: i64 = vs.trainable_variables().iter().map(|t| t.size().iter().product::<i64>()).sum();
            assert_eq!(params, want, "{variant:?}");
            assert_eq!(net.out_dim(), 512);
        }
    }

    #[test]
    fn resnet_init_follows_the_paper() {
        let vs = nn::VarStore::new(Device::Cpu);
        ResNet18::new(&vs.root(), ResNetVariant::Audio, &[1, 32, 32], &ResNetConfig { width: 16 }).unwrap();
        let vars = vs.variables();
        // layer4 convs are [128, 128, 3, 3]: Kaiming normal fan-out, std = sqrt(2 / (128 * 9)).
        let std = vars["layer4.1.conv2.weight"].std(true).double_value(&[]);
        let want = (2.0 / (128.0 * 9.0f64)).sqrt();
        assert!((std / want - 1.0).abs() < 0.03, "std {std} vs {want}");
        let mean = vars["layer4.1.conv2.weight"].mean(Kind::Float).double_value(&[]);
        assert!(mean.abs() < 0.02 * want, "mean {mean}");
        for (name, t) in &vars {
            if name.ends_with("bn1.weight") || name.ends_with("bn2.weight") || name.ends_with("downsample.1.weight") {
                assert_eq!(t.min().double_value(&[]), 1.0, "{name}");
                assert_eq!(t.max().double_value(&[]), 1.0, "{name}");
            }
            if name.ends_with(".bias") {
                assert_eq!(t.abs().max().double_value(&[]), 0.0, "{name}");
            }
        }
    }

    #[test]
    fn resnet_visual_pools_over_frames() {
        let vs = nn::VarStore::new(Device::Cpu);
        let one = ResNet18::new(&vs.root(), ResNetVariant::Visual, &[3, 1, 24, 24], &tiny()).unwrap();
        let frame = randn(&[2, 3, 1, 24, 24]);
        let single = one.forward_t(&frame, false);
        // Same weights, two identical frames: the 3-D average pool gives the same feature.
        let mut vs2 = nn::VarStore::new(Device::Cpu);
        let two = ResNet18::new(&vs2.root(), ResNetVariant::Visual, &[3, 2, 24, 24], &tiny()).unwrap();
        vs2.copy(&vs).unwrap();
        let doubled = two.forward_t(&Tensor::cat(&[&frame, &frame], 2), false);
        assert!(doubled.allclose(&single, 1e-5, 1e-6, false));
        // And two different frames average their per-frame features.
        let other = randn(&[2, 3, 1, 24, 24]);
        let mixed = two.forward_t(&Tensor::cat(&[&frame, &other], 2), false);
        let avg = (single + one.forward_t(&other, false)) / 2.0;
        assert!(mixed.allclose(&avg, 1e-5, 1e-6, false));
    }

    #[test]
    fn resnet_rejects_wrong_shapes_and_width() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        for (variant, shape) in [
            (ResNetVariant::Audio, vec![3, 32, 32]),
            (ResNetVariant::Audio, vec![32]),
            (ResNetVariant::Visual, vec![3, 32, 32]),
            (ResNetVariant::Visual, vec![1, 2, 32, 32]),
            (ResNetVariant::Image, vec![1, 0, 28]),
        ] {
            let err = ResNet18::new(&root, variant, &shape, &tiny()).unwrap_err();
            assert!(matches!(err, Error::Incompatible(_)), "{variant:?} {shape:?}: {err}");
        }
        let err = ResNet18::new(&root, ResNetVariant::Image, &[1, 28, 28], &ResNetConfig { width: 0 }).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err}");
    }

    #[test]
    fn resnet_variants_are_registered() {
        for name in ["resnet18-audio", "resnet18-visual", "resnet18-image"] {
            assert!(crate::encoders::lookup(name).is_ok(), "{name}");
        }
    }
}
