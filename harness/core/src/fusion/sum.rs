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
