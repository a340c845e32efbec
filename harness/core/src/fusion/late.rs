//! Late fusion (paper A.3.6, the G2D default): one head per modality, fused logits are the mean
//! of the unimodal logits, z = (1/M) sum_m (W_m f_m + b_m).

use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput, PerModalityHeads};
use crate::error::Result;
use crate::options::Options;

/// Late fusion: mean of per-modality linear heads.
#[derive(Debug)]
pub struct LateFusion {
    heads: PerModalityHeads,
}

impl LateFusion {
    /// Builds one linear head per modality.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64) -> Self {
        LateFusion { heads: PerModalityHeads::new(path, dims, outputs) }
    }
}

impl Fusion for LateFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let unimodal = self.heads.logits(features);
        let logits = Tensor::stack(&unimodal, 0).mean_dim(0, false, unimodal[0].kind());
        FusionOutput { logits, unimodal: Some(unimodal) }
    }

    fn unimodal_logits(&self, m: usize, feature: &Tensor) -> Option<Tensor> {
        Some(feature.apply(&self.heads.heads[m]))
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, _options: &Options) -> Result<Box<dyn Fusion>> {
    Ok(Box::new(LateFusion::new(&path, dims, outputs)))
}

inventory::submit! {
    FusionEntry {
        name: "late",
        description: "late fusion: mean of per-modality linear heads (G2D default; decomposes)",
        decomposes: true,
        modalities: (1, usize::MAX),
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn set(vs: &nn::VarStore, name: &str, values: &[f32], shape: &[i64]) {
        tch::no_grad(|| vs.variables()[name].shallow_clone().copy_(&Tensor::from_slice(values).view(shape)));
    }

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    #[test]
    fn late_fused_logits_are_the_mean_of_the_heads() {
        let vs = nn::VarStore::new(Device::Cpu);
        let late = LateFusion::new(&vs.root(), &[2, 1], 2);
        set(&vs, "head0.weight", &[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        set(&vs, "head0.bias", &[0.5, -0.5], &[2]);
        set(&vs, "head1.weight", &[2.0, -1.0], &[2, 1]);
        set(&vs, "head1.bias", &[1.0, 0.0], &[2]);
        let (f0, f1) = (t(&[1.0, 1.0], &[1, 2]), t(&[3.0], &[1, 1]));
        let out = late.forward_t(&[f0.shallow_clone(), f1.shallow_clone()], false);
        // Head 0: [1 + 2 + 0.5, 3 + 4 - 0.5]; head 1: [2 * 3 + 1, -1 * 3 + 0].
        let (h0, h1) = (t(&[3.5, 6.5], &[1, 2]), t(&[7.0, -3.0], &[1, 2]));
        let unimodal = out.unimodal.unwrap();
        assert!(unimodal[0].allclose(&h0, 1e-6, 1e-6, false));
        assert!(unimodal[1].allclose(&h1, 1e-6, 1e-6, false));
        assert!(late.unimodal_logits(0, &f0).unwrap().allclose(&h0, 1e-6, 1e-6, false));
        assert!(late.unimodal_logits(1, &f1).unwrap().allclose(&h1, 1e-6, 1e-6, false));
        assert!(out.logits.allclose(&t(&[5.25, 1.75], &[1, 2]), 1e-6, 1e-6, false));
        assert_eq!(out.logits.kind(), Kind::Float);
    }
}
