//! FiLM fusion (paper appendix A.3.3; Perez et al., "FiLM: Visual Reasoning with a General
//! Conditioning Layer"), as the G2D/OGM-GE reference `models/fusion_modules.py` builds it for two
//! modalities: one modality's feature gives a per-channel scale and shift for the other's,
//! `gamma, beta = split(fc(f_cond))`, `z = fc_out(gamma * f_target + beta)`.
//!
//! With `x-film = true` (the reference default) the first modality (x) conditions the second
//! (y); `x-film = false` swaps them. The reference splits `fc`'s output at its input width,
//! which assumes both features have the same width; here `fc` maps the conditioning feature to
//! twice the target's width, which is the same layer when the widths agree and also works when
//! they differ. The fused head does not decompose into unimodal heads, so
//! [`Fusion::unimodal_logits`] is `None`.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput};
use crate::error::{Error, Result};
use crate::init;
use crate::options::{Options, parse_options};

/// Options of the `film` fusion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilmConfig {
    /// Whether the first modality conditions the second (the reference `x_film=True`); `false`
    /// lets the second condition the first.
    #[serde(default = "default_x_film")]
    pub x_film: bool,
}

fn default_x_film() -> bool {
    true
}

impl Default for FilmConfig {
    fn default() -> Self {
        FilmConfig { x_film: default_x_film() }
    }
}

/// FiLM fusion of two modality features.
#[derive(Debug)]
pub struct FilmFusion {
    fc: nn::Linear,
    fc_out: nn::Linear,
    /// Index of the conditioning modality; the other one is modulated.
    cond: usize,
    /// Width of the modulated feature.
    dim: i64,
}

impl FilmFusion {
    /// Builds `fc` (conditioning width to twice the target width) and `fc_out` (target width
    /// to `outputs`). Returns [`Error::Incompatible`] unless there are exactly two modalities.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64, cfg: &FilmConfig) -> Result<Self> {
        if dims.len() != 2 {
            return Err(Error::Incompatible(format!("fusion `film` needs exactly 2 modalities, got {}", dims.len())));
        }
        let (cond, target) = if cfg.x_film { (0, 1) } else { (1, 0) };
        let dim = dims[target];
        Ok(FilmFusion {
            fc: init::linear(path / "fc", dims[cond], 2 * dim),
            fc_out: init::linear(path / "fc_out", dim, outputs),
            cond,
            dim,
        })
    }
}

impl Fusion for FilmFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let film = features[self.cond].apply(&self.fc);
        let (gamma, beta) = (film.narrow(1, 0, self.dim), film.narrow(1, self.dim, self.dim));
        let logits = (gamma * &features[1 - self.cond] + beta).apply(&self.fc_out);
        FusionOutput { logits, unimodal: None }
    }

    fn unimodal_logits(&self, _m: usize, _feature: &Tensor) -> Option<Tensor> {
        None
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, options: &Options) -> Result<Box<dyn Fusion>> {
    let cfg: FilmConfig = parse_options("options of fusion `film`", options)?;
    Ok(Box::new(FilmFusion::new(&path, dims, outputs, &cfg)?))
}

inventory::submit! {
    FusionEntry {
        name: "film",
        description: "FiLM: one modality scales and shifts the other, then a linear head (2 modalities; options: x-film)",
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
    fn film_modulates_the_other_modality() {
        for x_film in [true, false] {
            let vs = nn::VarStore::new(Device::Cpu);
            let film = FilmFusion::new(&vs.root(), &[3, 5], 4, &FilmConfig { x_film }).unwrap();
            let (x, y) = (randn(&[2, 3]), randn(&[2, 5]));
            let out = film.forward_t(&[x.shallow_clone(), y.shallow_clone()], true);
            assert_eq!(out.logits.size(), vec![2, 4]);
            assert!(out.unimodal.is_none());
            assert!(film.unimodal_logits(0, &x).is_none());
            // By hand: z = fc_out(gamma * target + beta), gamma and beta split fc(cond).
            let (cond, target) = if x_film { (&x, &y) } else { (&y, &x) };
            let d = target.size()[1];
            let vars = vs.variables();
            let g = cond.linear(&vars["fc.weight"], Some(&vars["fc.bias"]));
            let h = g.narrow(1, 0, d) * target + g.narrow(1, d, d);
            let want = h.linear(&vars["fc_out.weight"], Some(&vars["fc_out.bias"]));
            assert!(out.logits.allclose(&want, 1e-5, 1e-6, false));
        }
    }

    #[test]
    fn film_takes_exactly_two_modalities() {
        let vs = nn::VarStore::new(Device::Cpu);
        let opts = Options::new();
        assert!(super::super::build("film", vs.root(), &[4, 4, 4], 2, &opts).is_err());
        assert!(matches!(
            FilmFusion::new(&vs.root(), &[4], 2, &FilmConfig::default()).unwrap_err(),
            Error::Incompatible(_)
        ));
        let entry = super::super::lookup("film").unwrap();
        assert!(!entry.decomposes);
        assert_eq!(entry.modalities, (2, 2));
        let bad: Options = toml::from_str("x-flim = true").unwrap();
        assert!(super::super::build("film", vs.root(), &[4, 4], 2, &bad).is_err());
    }
}
