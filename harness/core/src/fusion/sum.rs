//! Summation fusion (paper A.3.1): one head per modality, fused logits are the sum
//! z = sum_m (W_m f_m + b_m). Modality m's head is W_m f_m + b_m with its own full bias.

use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput, PerModalityHeads};
use crate::error::Result;
use crate::options::Options;

/// Sum fusion: sum of per-modality linear heads.
#[derive(Debug)]
pub struct SumFusion {
    heads: PerModalityHeads,
}

impl SumFusion {
    /// Builds one linear head per modality.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64) -> Self {
        SumFusion { heads: PerModalityHeads::new(path, dims, outputs) }
    }
}

impl Fusion for SumFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let unimodal = self.heads.logits(features);
        let logits = Tensor::stack(&unimodal, 0).sum_dim_intlist(0, false, unimodal[0].kind());
        FusionOutput { logits, unimodal: Some(unimodal) }
    }

    fn unimodal_logits(&self, m: usize, feature: &Tensor) -> Option<Tensor> {
        Some(feature.apply(&self.heads.heads[m]))
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, _options: &Options) -> Result<Box<dyn Fusion>> {
    Ok(Box::new(SumFusion::new(&path, dims, outputs)))
}

inventory::submit! {
    FusionEntry {
        name: "sum",
        description: "summation fusion: sum of per-modality linear heads (decomposes)",
        decomposes: true,
        modalities: (1, usize::MAX),
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn set(vs: &nn::VarStore, name: &str, values: &[f32], shape: &[i64]) {
        tch::no_grad(|| vs.variables()[name].shallow_clone().copy_(&Tensor::from_slice(values).view(shape)));
    }

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    #[test]
    fn sum_fused_logits_are_the_sum_of_the_heads() {
        let vs = nn::VarStore::new(Device::Cpu);
        let sum = SumFusion::new(&vs.root(), &[2, 1], 2);
        set(&vs, "head0.weight", &[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        set(&vs, "head0.bias", &[0.5, -0.5], &[2]);
        set(&vs, "head1.weight", &[2.0, -1.0], &[2, 1]);
        set(&vs, "head1.bias", &[1.0, 0.0], &[2]);
        let (f0, f1) = (t(&[1.0, 1.0], &[1, 2]), t(&[3.0], &[1, 1]));
        let out = sum.forward_t(&[f0.shallow_clone(), f1.shallow_clone()], false);
        // Each head keeps its full bias: [1 + 2 + 0.5, 3 + 4 - 0.5] and [2 * 3 + 1, -1 * 3 + 0].
        let (h0, h1) = (t(&[3.5, 6.5], &[1, 2]), t(&[7.0, -3.0], &[1, 2]));
        let unimodal = out.unimodal.unwrap();
        assert!(unimodal[0].allclose(&h0, 1e-6, 1e-6, false));
        assert!(unimodal[1].allclose(&h1, 1e-6, 1e-6, false));
        assert!(sum.unimodal_logits(0, &f0).unwrap().allclose(&h0, 1e-6, 1e-6, false));
        assert!(sum.unimodal_logits(1, &f1).unwrap().allclose(&h1, 1e-6, 1e-6, false));
        assert!(out.logits.allclose(&t(&[10.5, 3.5], &[1, 2]), 1e-6, 1e-6, false));
    }
}
