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
