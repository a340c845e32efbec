//! Cross-attention fusion (paper appendix A.3.5) for any number M >= 2 of modalities.
//!
//! Each modality feature is projected to a common width d and becomes one token. Each token
//! then attends, with multi-head attention, to the tokens of the *other* modalities (for M = 2
//! audio attends to visual and visual to audio; for M = 3 every direction), followed by a
//! residual connection and layer norm, `r_m = norm_m(t_m + dropout(attn_m(t_m, others)))`.
//! The M refined tokens are concatenated and a linear layer gives the logits.
//!
//! Each direction has its own attention and layer norm (as the cross-modal blocks of MulT do),
//! built with the encoders' [`MultiHeadAttention`]. With pooled features there is a single
//! token per modality, so for M = 2 the softmax runs over one key and the attention reduces to
//! a learned linear map of the other modality's token; the multi-head weighting matters from
//! M = 3 on. The fused head mixes modalities non-linearly, so it does not decompose and
//! [`Fusion::unimodal_logits`] is `None`.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput};
use crate::encoders::MultiHeadAttention;
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `cross-attention` fusion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CrossAttentionConfig {
    /// Common token width d.
    #[serde(default = "default_dim")]
    pub dim: i64,
    /// Attention heads; must divide `dim`.
    #[serde(default = "default_heads")]
    pub heads: i64,
    /// Dropout on the attention weights and the attention output during training.
    #[serde(default)]
    pub dropout: f64,
}

fn default_dim() -> i64 {
    256
}

fn default_heads() -> i64 {
    4
}

impl Default for CrossAttentionConfig {
    fn default() -> Self {
        CrossAttentionConfig { dim: default_dim(), heads: default_heads(), dropout: 0.0 }
    }
}

impl CrossAttentionConfig {
    /// Checks the width, the head count and the dropout rate.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(Error::config("options of fusion `cross-attention`", m));
        if self.dim <= 0 || self.heads <= 0 {
            return err(format!("`dim` and `heads` must be positive, got {} and {}", self.dim, self.heads));
        }
        if self.dim % self.heads != 0 {
            return err(format!("`heads` ({}) must divide `dim` ({})", self.heads, self.dim));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return err(format!("`dropout` must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }
}

/// Cross-attention fusion over M modality tokens.
#[derive(Debug)]
pub struct CrossAttentionFusion {
    proj: Vec<nn::Linear>,
    attn: Vec<MultiHeadAttention>,
    norm: Vec<nn::LayerNorm>,
    fc_out: nn::Linear,
    dropout: f64,
}

impl CrossAttentionFusion {
    /// Builds, per modality, a projection `proj{m}`, an attention `attn{m}` and a layer norm
    /// `norm{m}`, and the output layer `fc_out` over the `M * dim` concatenated tokens.
    /// Returns [`Error::Incompatible`] for fewer than two modalities and [`Error::Config`] for
    /// invalid options.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64, cfg: &CrossAttentionConfig) -> Result<Self> {
        cfg.validate()?;
        if dims.len() < 2 {
            return Err(Error::Incompatible(format!(
                "fusion `cross-attention` needs at least 2 modalities, got {}",
                dims.len()
            )));
        }
        let d = cfg.dim;
        let proj = dims.iter().enumerate().map(|(m, &dm)| init::linear(path / format!("proj{m}"), dm, d)).collect();
        let attn = (0..dims.len())
            .map(|m| MultiHeadAttention::new(&(path / format!("attn{m}")), d, cfg.heads, cfg.dropout))
            .collect();
        let norm =
            (0..dims.len()).map(|m| nn::layer_norm(path / format!("norm{m}"), vec![d], Default::default())).collect();
        let fc_out = init::linear(path / "fc_out", dims.len() as i64 * d, outputs);
        Ok(CrossAttentionFusion { proj, attn, norm, fc_out, dropout: cfg.dropout })
    }
}

impl Fusion for CrossAttentionFusion {
    fn forward_t(&self, features: &[Tensor], train: bool) -> FusionOutput {
        // One token [B, 1, d] per modality.
        let tokens: Vec<Tensor> = features.iter().zip(&self.proj).map(|(f, p)| f.apply(p).unsqueeze(1)).collect();
        let refined: Vec<Tensor> = (0..tokens.len())
            .map(|m| {
                let others: Vec<&Tensor> = tokens.iter().enumerate().filter(|&(j, _)| j != m).map(|(_, t)| t).collect();
                let others = Tensor::cat(&others, 1);
                let attended = self.attn[m].forward_t(&tokens[m], &others, train).dropout(self.dropout, train);
                (&tokens[m] + attended).apply(&self.norm[m]).squeeze_dim(1)
            })
            .collect();
        FusionOutput { logits: Tensor::cat(&refined, 1).apply(&self.fc_out), unimodal: None }
    }

    fn unimodal_logits(&self, _m: usize, _feature: &Tensor) -> Option<Tensor> {
        None
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, options: &Options) -> Result<Box<dyn Fusion>> {
    let cfg: CrossAttentionConfig = parse_options("options of fusion `cross-attention`", options)?;
    Ok(Box::new(CrossAttentionFusion::new(&path, dims, outputs, &cfg)?))
}

inventory::submit! {
    FusionEntry {
        name: "cross-attention",
        description: "cross-attention: each modality token attends to the others, residual + layer norm, \
                      concatenation, linear head (2+ modalities; options: dim 256, heads 4, dropout)",
        decomposes: false,
        modalities: (2, usize::MAX),
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    fn tiny() -> CrossAttentionConfig {
        CrossAttentionConfig { dim: 8, heads: 2, dropout: 0.1 }
    }

    #[test]
    fn cross_attention_fuses_two_and_three_modalities() {
        for dims in [vec![3, 5], vec![3, 5, 7]] {
            let vs = nn::VarStore::new(Device::Cpu);
            let fusion = CrossAttentionFusion::new(&vs.root(), &dims, 4, &tiny()).unwrap();
            let feats: Vec<Tensor> = dims.iter().map(|&d| randn(&[2, d])).collect();
            for train in [true, false] {
                let out = fusion.forward_t(&feats, train);
                assert_eq!(out.logits.size(), vec![2, 4]);
                assert!(out.unimodal.is_none());
            }
            assert!(fusion.unimodal_logits(0, &feats[0]).is_none());
            assert_eq!(vs.variables()["fc_out.weight"].size(), vec![4, 8 * dims.len() as i64]);
        }
    }

    #[test]
    fn cross_attention_tokens_see_the_other_modalities() {
        let vs = nn::VarStore::new(Device::Cpu);
        let fusion = CrossAttentionFusion::new(&vs.root(), &[3, 5, 7], 4, &tiny()).unwrap();
        let feats = vec![randn(&[2, 3]), randn(&[2, 5]), randn(&[2, 7])];
        let base = fusion.forward_t(&feats, false).logits;
        // Changing only the third modality changes the refined tokens of the first two as
        // well, through their attention; check the first token directly.
        let mut changed = feats.iter().map(|t| t.shallow_clone()).collect::<Vec<_>>();
        changed[2] = randn(&[2, 7]);
        assert!(!fusion.forward_t(&changed, false).logits.allclose(&base, 1e-5, 1e-6, false));
        let token = |fs: &[Tensor]| {
            let t: Vec<Tensor> = fs.iter().zip(&fusion.proj).map(|(f, p)| f.apply(p).unsqueeze(1)).collect();
            let others = Tensor::cat(&[&t[1], &t[2]], 1);
            (&t[0] + fusion.attn[0].forward_t(&t[0], &others, false)).apply(&fusion.norm[0])
        };
        assert!(!token(&changed).allclose(&token(&feats), 1e-5, 1e-6, false));
    }

    #[test]
    fn cross_attention_checks_modalities_and_options() {
        let vs = nn::VarStore::new(Device::Cpu);
        assert!(super::super::build("cross-attention", vs.root(), &[4], 2, &Options::new()).is_err());
        assert!(matches!(CrossAttentionFusion::new(&vs.root(), &[4], 2, &tiny()).unwrap_err(), Error::Incompatible(_)));
        let bad = CrossAttentionConfig { dim: 6, heads: 4, dropout: 0.0 };
        assert!(matches!(CrossAttentionFusion::new(&vs.root(), &[4, 4], 2, &bad).unwrap_err(), Error::Config { .. }));
        let opts: Options = toml::from_str("dim = 16\nheads = 8").unwrap();
        assert!(super::super::build("cross-attention", vs.root() / "ok", &[4, 4, 4], 2, &opts).is_ok());
        let entry = super::super::lookup("cross-attention").unwrap();
        assert!(!entry.decomposes);
        assert_eq!(entry.modalities.0, 2);
    }
}
