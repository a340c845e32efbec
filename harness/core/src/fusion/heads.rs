//! Late and summation fusion: one linear head per modality, fused logits are a reduction of the
//! unimodal logits. Modality m's head is W_m f_m + b_m with its own full bias.
//!
//! - Late fusion (paper A.3.6, the G2D default) takes the mean, z = (1/M) sum_m (W_m f_m + b_m).
//! - Summation fusion (paper A.3.1) takes the sum, z = sum_m (W_m f_m + b_m).

use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput};
use crate::error::Result;
use crate::options::Options;

/// How [`HeadFusion`] combines the unimodal logits into the fused logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadReduction {
    /// The mean over modalities (late fusion).
    Mean,
    /// The sum over modalities (summation fusion).
    Sum,
}

/// Per-modality linear heads whose logits are reduced into the fused logits: late fusion
/// ([`HeadReduction::Mean`]) or sum fusion ([`HeadReduction::Sum`]).
#[derive(Debug)]
pub struct HeadFusion {
    heads: Vec<nn::Linear>,
    reduction: HeadReduction,
}

impl HeadFusion {
    /// Builds one linear head `head{m}` per modality under `path`.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64, reduction: HeadReduction) -> Self {
        let heads =
            dims.iter().enumerate().map(|(m, &d)| crate::init::linear(path / format!("head{m}"), d, outputs)).collect();
        HeadFusion { heads, reduction }
    }

    /// Late fusion: the mean of the heads.
    pub fn late(path: &nn::Path, dims: &[i64], outputs: i64) -> Self {
        Self::new(path, dims, outputs, HeadReduction::Mean)
    }

    /// Sum fusion: the sum of the heads.
    pub fn sum(path: &nn::Path, dims: &[i64], outputs: i64) -> Self {
        Self::new(path, dims, outputs, HeadReduction::Sum)
    }

    /// The reduction this fusion applies.
    pub fn reduction(&self) -> HeadReduction {
        self.reduction
    }
}

impl Fusion for HeadFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let unimodal: Vec<Tensor> = features.iter().zip(&self.heads).map(|(f, h)| f.apply(h)).collect();
        let stacked = Tensor::stack(&unimodal, 0);
        let kind = unimodal[0].kind();
        let logits = match self.reduction {
            HeadReduction::Mean => stacked.mean_dim(0, false, kind),
            HeadReduction::Sum => stacked.sum_dim_intlist(0, false, kind),
        };
        FusionOutput { logits, unimodal: Some(unimodal) }
    }

    fn unimodal_logits(&self, m: usize, feature: &Tensor) -> Option<Tensor> {
        Some(feature.apply(&self.heads[m]))
    }
}

fn build_late(path: nn::Path, dims: &[i64], outputs: i64, _options: &Options) -> Result<Box<dyn Fusion>> {
    Ok(Box::new(HeadFusion::late(&path, dims, outputs)))
}

fn build_sum(path: nn::Path, dims: &[i64], outputs: i64, _options: &Options) -> Result<Box<dyn Fusion>> {
    Ok(Box::new(HeadFusion::sum(&path, dims, outputs)))
}

inventory::submit! {
    FusionEntry {
        name: "late",
        description: "late fusion: mean of per-modality linear heads (G2D default; decomposes)",
        decomposes: true,
        modalities: (1, usize::MAX),
        build: build_late,
    }
}

inventory::submit! {
    FusionEntry {
        name: "sum",
        description: "summation fusion: sum of per-modality linear heads (decomposes)",
        decomposes: true,
        modalities: (1, usize::MAX),
        build: build_sum,
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

    /// Builds two heads with known weights (head 0 maps [1, 1] to [3.5, 6.5], head 1 maps [3]
    /// to [7, -3]), checks the unimodal logits from `forward_t` and `unimodal_logits`, and
    /// returns the fused logits.
    fn fused_logits(reduction: HeadReduction) -> Tensor {
        let vs = nn::VarStore::new(Device::Cpu);
        let fusion = HeadFusion::new(&vs.root(), &[2, 1], 2, reduction);
        set(&vs, "head0.weight", &[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        set(&vs, "head0.bias", &[0.5, -0.5], &[2]);
        set(&vs, "head1.weight", &[2.0, -1.0], &[2, 1]);
        set(&vs, "head1.bias", &[1.0, 0.0], &[2]);
        let (f0, f1) = (t(&[1.0, 1.0], &[1, 2]), t(&[3.0], &[1, 1]));
        let out = fusion.forward_t(&[f0.shallow_clone(), f1.shallow_clone()], false);
        // Each head keeps its full bias: [1 + 2 + 0.5, 3 + 4 - 0.5] and [2 * 3 + 1, -1 * 3 + 0].
        let (h0, h1) = (t(&[3.5, 6.5], &[1, 2]), t(&[7.0, -3.0], &[1, 2]));
        let unimodal = out.unimodal.unwrap();
        assert!(unimodal[0].allclose(&h0, 1e-6, 1e-6, false));
        assert!(unimodal[1].allclose(&h1, 1e-6, 1e-6, false));
        assert!(fusion.unimodal_logits(0, &f0).unwrap().allclose(&h0, 1e-6, 1e-6, false));
        assert!(fusion.unimodal_logits(1, &f1).unwrap().allclose(&h1, 1e-6, 1e-6, false));
        out.logits
    }

    #[test]
    fn late_fused_logits_are_the_mean_of_the_heads() {
        let logits = fused_logits(HeadReduction::Mean);
        assert!(logits.allclose(&t(&[5.25, 1.75], &[1, 2]), 1e-6, 1e-6, false));
        assert_eq!(logits.kind(), Kind::Float);
    }

    #[test]
    fn sum_fused_logits_are_the_sum_of_the_heads() {
        let logits = fused_logits(HeadReduction::Sum);
        assert!(logits.allclose(&t(&[10.5, 3.5], &[1, 2]), 1e-6, 1e-6, false));
    }

    #[test]
    fn both_names_are_registered_and_decompose() {
        for name in ["late", "sum"] {
            let entry = super::super::lookup(name).unwrap();
            assert!(entry.decomposes, "{name}");
            assert_eq!(entry.modalities, (1, usize::MAX), "{name}");
        }
    }
}
