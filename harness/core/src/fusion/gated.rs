//! Gated fusion (paper appendix A.3.4, "BiGated"; Kiela et al., "Efficient Large-Scale
//! Multi-Modal Classification"), as the G2D/OGM-GE reference `models/fusion_modules.py`
//! `GatedFusion` builds it for two modalities: both features go to a hidden width,
//! `h_x = fc_x(f_x)`, `h_y = fc_y(f_y)`; one of them gates the other,
//! `z = fc_out(sigmoid(h_x) * h_y)` with `x-gate = true` (the reference default) or
//! `z = fc_out(h_x * sigmoid(h_y))` with `x-gate = false`.
//!
//! The gate is multiplicative, so the fused head does not decompose into unimodal heads and
//! [`Fusion::unimodal_logits`] is `None`.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput};
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `gated` fusion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatedConfig {
    /// Hidden width of `fc_x` and `fc_y` (the reference `dim=512`).
    #[serde(default = "default_dim")]
    pub dim: i64,
    /// Whether the first modality gives the gate (the reference `x_gate=True`).
    #[serde(default = "default_x_gate")]
    pub x_gate: bool,
}

fn default_dim() -> i64 {
    512
}

fn default_x_gate() -> bool {
    true
}

impl Default for GatedConfig {
    fn default() -> Self {
        GatedConfig { dim: default_dim(), x_gate: default_x_gate() }
    }
}

/// Gated fusion of two modality features.
#[derive(Debug)]
pub struct GatedFusion {
    fc_x: nn::Linear,
    fc_y: nn::Linear,
    fc_out: nn::Linear,
    x_gate: bool,
}

impl GatedFusion {
    /// Builds the two hidden projections and the output layer. Returns [`Error::Incompatible`]
    /// unless there are exactly two modalities and [`Error::Config`] for a non-positive `dim`.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64, cfg: &GatedConfig) -> Result<Self> {
        if dims.len() != 2 {
            return Err(Error::Incompatible(format!("fusion `gated` needs exactly 2 modalities, got {}", dims.len())));
        }
        if cfg.dim <= 0 {
            return Err(Error::config("options of fusion `gated`", format!("`dim` must be positive, got {}", cfg.dim)));
        }
        Ok(GatedFusion {
            fc_x: init::linear(path / "fc_x", dims[0], cfg.dim),
            fc_y: init::linear(path / "fc_y", dims[1], cfg.dim),
            fc_out: init::linear(path / "fc_out", cfg.dim, outputs),
            x_gate: cfg.x_gate,
        })
    }
}

impl Fusion for GatedFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let out_x = features[0].apply(&self.fc_x);
        let out_y = features[1].apply(&self.fc_y);
        let gated = if self.x_gate { out_x.sigmoid() * out_y } else { out_x * out_y.sigmoid() };
        FusionOutput { logits: gated.apply(&self.fc_out), unimodal: None }
    }

    fn unimodal_logits(&self, _m: usize, _feature: &Tensor) -> Option<Tensor> {
        None
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, options: &Options) -> Result<Box<dyn Fusion>> {
    let cfg: GatedConfig = parse_options("options of fusion `gated`", options)?;
    Ok(Box::new(GatedFusion::new(&path, dims, outputs, &cfg)?))
}

inventory::submit! {
    FusionEntry {
        name: "gated",
        description: "BiGated: sigmoid of one modality's projection gates the other's, then a linear head \
                      (2 modalities; options: dim 512, x-gate)",
        decomposes: false,
        modalities: (2, 2),
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

    #[test]
    fn gated_gates_one_projection_with_the_other() {
        for x_gate in [true, false] {
            let vs = nn::VarStore::new(Device::Cpu);
            let gated = GatedFusion::new(&vs.root(), &[3, 5], 4, &GatedConfig { dim: 6, x_gate }).unwrap();
            let (x, y) = (randn(&[2, 3]), randn(&[2, 5]));
            let out = gated.forward_t(&[x.shallow_clone(), y.shallow_clone()], true);
            assert_eq!(out.logits.size(), vec![2, 4]);
            assert!(out.unimodal.is_none());
            assert!(gated.unimodal_logits(1, &y).is_none());
            let vars = vs.variables();
            let hx = x.linear(&vars["fc_x.weight"], Some(&vars["fc_x.bias"]));
            let hy = y.linear(&vars["fc_y.weight"], Some(&vars["fc_y.bias"]));
            let h = if x_gate { hx.sigmoid() * hy } else { hx * hy.sigmoid() };
            let want = h.linear(&vars["fc_out.weight"], Some(&vars["fc_out.bias"]));
            assert!(out.logits.allclose(&want, 1e-5, 1e-6, false));
        }
    }

    #[test]
    fn gated_checks_modalities_and_options() {
        let vs = nn::VarStore::new(Device::Cpu);
        assert!(super::super::build("gated", vs.root(), &[4, 4, 4], 2, &Options::new()).is_err());
        let bad = GatedConfig { dim: 0, x_gate: true };
        assert!(matches!(GatedFusion::new(&vs.root(), &[4, 4], 2, &bad).unwrap_err(), Error::Config { .. }));
        let opts: Options = toml::from_str("dim = 8\nx-gate = false").unwrap();
        let cfg: GatedConfig = parse_options("x", &opts).unwrap();
        assert_eq!((cfg.dim, cfg.x_gate), (8, false));
        assert!(!super::super::lookup("gated").unwrap().decomposes);
    }
}
