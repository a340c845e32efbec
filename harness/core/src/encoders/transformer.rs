//! A Transformer encoder for sequence inputs `[B, L, F]` (paper appendix A.4: the features of
//! each time step are projected to `d_model = 768` by a Conv1d, then 4 encoder layers with 8
//! heads; the sequence is pooled to one `[B, d_model]` feature).
//!
//! The encoder layer is PyTorch's post-norm `nn.TransformerEncoderLayer` written with tch ops:
//! `x = norm1(x + dropout(self_attn(x)))`, `x = norm2(x + dropout(linear2(dropout(relu(linear1(x))))))`.
//! [`MultiHeadAttention`] is public so the cross-attention fusion can reuse it with a separate
//! key/value sequence. A fixed sinusoidal position encoding ("Attention is all you need") is
//! added after the projection by default: without it, a kernel-1 projection, self-attention and
//! mean pooling would all ignore the order of the time steps.
//!
//! Initialisation follows the paper's rule (appendix A.4.1): Xavier normal for every linear
//! weight (the in-projection is one `[3d, d]` matrix, as PyTorch's `in_proj_weight`), zero
//! biases, Kaiming normal fan-out for the Conv1d kernel, layer norm weight 1 and bias 0.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

use super::{Encoder, EncoderEntry};
use crate::data::ModalitySpec;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// How the encoded sequence becomes one feature vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Mean over the time steps.
    #[default]
    Mean,
    /// The first time step's output.
    First,
}

/// Options of the `transformer` encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TransformerConfig {
    /// Model width d_model; also the feature dimension D.
    #[serde(default = "default_d_model")]
    pub d_model: i64,
    /// Number of encoder layers.
    #[serde(default = "default_layers")]
    pub layers: i64,
    /// Attention heads; must divide `d-model`.
    #[serde(default = "default_heads")]
    pub heads: i64,
    /// Hidden width of the feed-forward block; `4 * d-model` when absent.
    #[serde(default)]
    pub ff_dim: Option<i64>,
    /// Dropout on attention weights, after attention and in the feed-forward block (PyTorch's
    /// default 0.1).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Kernel size of the Conv1d projection (odd; `same` padding).
    #[serde(default = "default_kernel_size")]
    pub kernel_size: i64,
    /// Whether to add the sinusoidal position encoding after the projection.
    #[serde(default = "default_true")]
    pub positional_encoding: bool,
    /// How the sequence is pooled.
    #[serde(default)]
    pub pooling: Pooling,
}

fn default_d_model() -> i64 {
    768
}

fn default_layers() -> i64 {
    4
}

fn default_heads() -> i64 {
    8
}

fn default_dropout() -> f64 {
    0.1
}

fn default_kernel_size() -> i64 {
    1
}

fn default_true() -> bool {
    true
}

impl Default for TransformerConfig {
    fn default() -> Self {
        TransformerConfig {
            d_model: default_d_model(),
            layers: default_layers(),
            heads: default_heads(),
            ff_dim: None,
            dropout: default_dropout(),
            kernel_size: default_kernel_size(),
            positional_encoding: true,
            pooling: Pooling::Mean,
        }
    }
}

impl TransformerConfig {
    /// Checks sizes and rates.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(Error::config("options of encoder `transformer`", m));
        if self.d_model <= 0 || self.layers < 0 || self.heads <= 0 {
            return err(format!(
                "`d-model` and `heads` must be positive and `layers` non-negative, got {}, {}, {}",
                self.d_model, self.heads, self.layers
            ));
        }
        if self.d_model % self.heads != 0 {
            return err(format!("`heads` ({}) must divide `d-model` ({})", self.heads, self.d_model));
        }
        if self.ff_dim.is_some_and(|f| f <= 0) {
            return err(format!("`ff-dim` must be positive, got {:?}", self.ff_dim));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return err(format!("`dropout` must be in [0, 1), got {}", self.dropout));
        }
        if self.kernel_size <= 0 || self.kernel_size % 2 == 0 {
            return err(format!("`kernel-size` must be odd and positive, got {}", self.kernel_size));
        }
        Ok(())
    }
}

/// Multi-head scaled dot-product attention, PyTorch's `nn.MultiheadAttention` with
/// `batch_first=True`: one `[3d, d]` in-projection (query, key, value rows) and an out-projection.
#[derive(Debug)]
pub struct MultiHeadAttention {
    in_proj: nn::Linear,
    out_proj: nn::Linear,
    heads: i64,
    d: i64,
    dropout: f64,
}

impl MultiHeadAttention {
    /// Builds attention of width `d` with `heads` heads (`heads` must divide `d`; callers
    /// validate it) and dropout on the attention weights.
    pub fn new(path: &nn::Path, d: i64, heads: i64, dropout: f64) -> Self {
        MultiHeadAttention {
            in_proj: init::linear(path / "in_proj", d, 3 * d),
            out_proj: init::linear(path / "out_proj", d, d),
            heads,
            d,
            dropout,
        }
    }

    /// Attends from `query` `[B, Lq, d]` to `key_value` `[B, Lk, d]`; returns `[B, Lq, d]`.
    /// Pass the same tensor twice for self-attention.
    pub fn forward_t(&self, query: &Tensor, key_value: &Tensor, train: bool) -> Tensor {
        let d = self.d;
        let w = &self.in_proj.ws;
        let b = self.in_proj.bs.as_ref().expect("init::linear has a bias");
        let q = query.linear(&w.narrow(0, 0, d), Some(b.narrow(0, 0, d)));
        let k = key_value.linear(&w.narrow(0, d, d), Some(b.narrow(0, d, d)));
        let v = key_value.linear(&w.narrow(0, 2 * d, d), Some(b.narrow(0, 2 * d, d)));
        let (bsz, lq, lk) = (query.size()[0], query.size()[1], key_value.size()[1]);
        let dh = d / self.heads;
        let split = |t: Tensor, l: i64| t.view([bsz, l, self.heads, dh]).transpose(1, 2);
        let (q, k, v) = (split(q, lq), split(k, lk), split(v, lk));
        let scores = q.matmul(&k.transpose(-2, -1)) / (dh as f64).sqrt();
        let attn = scores.softmax(-1, Kind::Float).to_kind(q.kind()).dropout(self.dropout, train);
        attn.matmul(&v).transpose(1, 2).contiguous().view([bsz, lq, d]).apply(&self.out_proj)
    }
}

/// PyTorch's post-norm `TransformerEncoderLayer` with ReLU.
#[derive(Debug)]
struct EncoderLayer {
    self_attn: MultiHeadAttention,
    linear1: nn::Linear,
    linear2: nn::Linear,
    norm1: nn::LayerNorm,
    norm2: nn::LayerNorm,
    dropout: f64,
}

impl EncoderLayer {
    fn new(p: &nn::Path, d: i64, heads: i64, ff: i64, dropout: f64) -> Self {
        EncoderLayer {
            self_attn: MultiHeadAttention::new(&(p / "self_attn"), d, heads, dropout),
            linear1: init::linear(p / "linear1", d, ff),
            linear2: init::linear(p / "linear2", ff, d),
            norm1: nn::layer_norm(p / "norm1", vec![d], Default::default()),
            norm2: nn::layer_norm(p / "norm2", vec![d], Default::default()),
            dropout,
        }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let sa = self.self_attn.forward_t(x, x, train).dropout(self.dropout, train);
        let x = (x + sa).apply(&self.norm1);
        let ff = x
            .apply(&self.linear1)
            .relu()
            .dropout(self.dropout, train)
            .apply(&self.linear2)
            .dropout(self.dropout, train);
        (x + ff).apply(&self.norm2)
    }
}

/// Sinusoidal position encoding `[L, d]`: sin on even, cos on odd channels.
fn sinusoidal(len: i64, d: i64) -> Tensor {
    let opts = (Kind::Float, tch::Device::Cpu);
    let pos = Tensor::arange(len, opts).unsqueeze(1);
    let i = Tensor::arange(d, opts);
    // 10000^(-2*floor(i/2)/d), one frequency per pair of channels.
    let freq = ((i.divide_scalar_mode(2, "floor") * 2.0) * (-(10000f64.ln()) / d as f64)).exp();
    let angle = pos * freq.unsqueeze(0);
    let even = Tensor::arange(d, opts).remainder(2).eq(0);
    angle.sin().where_self(&even, &angle.cos())
}

/// The Transformer encoder: Conv1d projection, encoder layers, pooling.
#[derive(Debug)]
pub struct TransformerEncoder {
    proj: nn::Conv1D,
    layers: Vec<EncoderLayer>,
    positions: Option<Tensor>,
    pooling: Pooling,
    dropout: f64,
    len: i64,
    features: i64,
    d_model: i64,
}

impl TransformerEncoder {
    /// Builds the encoder for per-sample sequences `shape = [L, F]`.
    ///
    /// Returns [`Error::Incompatible`] for other shapes and [`Error::Config`] for invalid
    /// options.
    pub fn new(path: &nn::Path, shape: &[i64], cfg: &TransformerConfig) -> Result<Self> {
        cfg.validate()?;
        let (len, features) = match *shape {
            [l, f] if l > 0 && f > 0 => (l, f),
            _ => {
                return Err(Error::Incompatible(format!(
                    "encoder `transformer` takes per-sample sequences [L, F] (time steps, features), got {shape:?}"
                )));
            }
        };
        let d = cfg.d_model;
        let proj = nn::conv1d(
            path / "proj",
            features,
            d,
            cfg.kernel_size,
            nn::ConvConfig {
                padding: cfg.kernel_size / 2,
                bias: false,
                ws_init: init::KAIMING_NORMAL_FAN_OUT,
                ..Default::default()
            },
        );
        let ff = cfg.ff_dim.unwrap_or(4 * d);
        let layers =
            (0..cfg.layers).map(|i| EncoderLayer::new(&(path / "layers" / i), d, cfg.heads, ff, cfg.dropout)).collect();
        let positions = cfg.positional_encoding.then(|| sinusoidal(len, d).to_device(path.device()));
        Ok(TransformerEncoder {
            proj,
            layers,
            positions,
            pooling: cfg.pooling,
            dropout: cfg.dropout,
            len,
            features,
            d_model: d,
        })
    }
}

impl Encoder for TransformerEncoder {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        // [B, L, F] -> [B, F, L] for the Conv1d over time, then back to [B, L, d].
        let x = xs.reshape([-1, self.len, self.features]).transpose(1, 2).apply(&self.proj).transpose(1, 2);
        let mut x = match &self.positions {
            Some(p) => x + p.to_kind(xs.kind()).unsqueeze(0),
            None => x,
        }
        .dropout(self.dropout, train);
        for layer in &self.layers {
            x = layer.forward_t(&x, train);
        }
        match self.pooling {
            Pooling::Mean => x.mean_dim(1, false, None),
            Pooling::First => x.select(1, 0),
        }
    }

    fn out_dim(&self) -> i64 {
        self.d_model
    }
}

fn build(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>> {
    let cfg: TransformerConfig = parse_options("options of encoder `transformer`", options)?;
    Ok(Box::new(TransformerEncoder::new(&path, &modality.shape, &cfg)?))
}

inventory::submit! {
    EncoderEntry {
        name: "transformer",
        description: "Transformer encoder on sequences [L,F]: Conv1d projection, post-norm layers, mean pooling \
                      (options: d-model 768, layers 4, heads 8, ff-dim, dropout, kernel-size, positional-encoding, pooling)",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn tiny() -> TransformerConfig {
        TransformerConfig { d_model: 16, layers: 2, heads: 4, ff_dim: Some(32), dropout: 0.1, ..Default::default() }
    }

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn transformer_maps_sequences_to_d_model() {
        for pooling in [Pooling::Mean, Pooling::First] {
            let vs = nn::VarStore::new(Device::Cpu);
            let enc = TransformerEncoder::new(&vs.root(), &[7, 5], &TransformerConfig { pooling, ..tiny() }).unwrap();
            assert_eq!(enc.out_dim(), 16);
            assert_eq!(enc.forward_t(&randn(&[3, 7, 5]), true).size(), vec![3, 16]);
            assert_eq!(enc.forward_t(&randn(&[3, 7, 5]), false).size(), vec![3, 16]);
        }
    }

    #[test]
    fn transformer_parameter_names_mirror_pytorch() {
        let vs = nn::VarStore::new(Device::Cpu);
        TransformerEncoder::new(&vs.root(), &[7, 5], &TransformerConfig { kernel_size: 3, ..tiny() }).unwrap();
        let vars = vs.variables();
        assert_eq!(vars["proj.weight"].size(), vec![16, 5, 3]);
        assert_eq!(vars["layers.1.self_attn.in_proj.weight"].size(), vec![48, 16]);
        assert_eq!(vars["layers.1.self_attn.out_proj.weight"].size(), vec![16, 16]);
        assert_eq!(vars["layers.0.linear1.weight"].size(), vec![32, 16]);
        assert_eq!(vars["layers.0.norm2.weight"].min().double_value(&[]), 1.0);
        assert_eq!(vars["layers.0.linear2.bias"].abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn attention_matches_a_hand_computation_for_one_head() {
        // With identity projections and zero biases, attention is softmax(q k^T / sqrt(d)) v.
        let vs = nn::VarStore::new(Device::Cpu);
        let attn = MultiHeadAttention::new(&vs.root(), 2, 1, 0.0);
        tch::no_grad(|| {
            let eye = Tensor::eye(2, (Kind::Float, Device::Cpu));
            attn.in_proj.ws.shallow_clone().copy_(&Tensor::cat(&[&eye, &eye, &eye], 0));
            attn.out_proj.ws.shallow_clone().copy_(&eye);
        });
        let q = Tensor::from_slice(&[1.0f32, 0.0]).view([1, 1, 2]);
        let kv = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0]).view([1, 2, 2]);
        let out = attn.forward_t(&q, &kv, false);
        let s = 1.0f64 / 2f64.sqrt();
        let (w0, w1) = (s.exp() / (s.exp() + 1.0), 1.0 / (s.exp() + 1.0));
        let want = Tensor::from_slice(&[w0 as f32, w1 as f32]).view([1, 1, 2]);
        assert!(out.allclose(&want, 1e-5, 1e-6, false), "{out}");
    }

    #[test]
    fn positional_encoding_makes_order_matter() {
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = TransformerEncoder::new(&vs.root(), &[4, 3], &tiny()).unwrap();
        let x = randn(&[1, 4, 3]);
        let reversed = x.flip([1]);
        assert!(!enc.forward_t(&x, false).allclose(&enc.forward_t(&reversed, false), 1e-4, 1e-5, false));
        let pe = sinusoidal(3, 4);
        assert!(pe.get(0).allclose(&Tensor::from_slice(&[0.0f32, 1.0, 0.0, 1.0]), 1e-6, 1e-6, false));
        assert!((pe.double_value(&[1, 0]) - 1f64.sin()).abs() < 1e-6);
    }

    #[test]
    fn transformer_rejects_bad_shapes_and_options() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        for shape in [vec![5], vec![2, 3, 4], vec![0, 3]] {
            let err = TransformerEncoder::new(&root, &shape, &tiny()).unwrap_err();
            assert!(matches!(err, Error::Incompatible(_)), "{shape:?}: {err}");
        }
        for bad in [
            TransformerConfig { heads: 3, ..tiny() },
            TransformerConfig { dropout: 1.0, ..tiny() },
            TransformerConfig { kernel_size: 2, ..tiny() },
            TransformerConfig { ff_dim: Some(0), ..tiny() },
        ] {
            assert!(matches!(TransformerEncoder::new(&root, &[4, 3], &bad).unwrap_err(), Error::Config { .. }));
        }
        let opts: Options = toml::from_str("d-model = 32\nheads = 2\npooling = \"first\"").unwrap();
        let cfg: TransformerConfig = parse_options("x", &opts).unwrap();
        assert_eq!((cfg.d_model, cfg.heads, cfg.pooling, cfg.layers), (32, 2, Pooling::First, 4));
    }
}
